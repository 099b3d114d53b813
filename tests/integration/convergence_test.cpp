// Three devices of three accounts share one case and converge, online and offline, in several
// interleavings; a concurrent edit of one field is a visible conflict on every device.
#include <algorithm>
#include <array>
#include <future>
#include <mutex>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using google::protobuf::util::MessageDifferencer;

namespace {

v1::CaseState Confirmed(Device& d, const Bytes& case_id) {
  auto v = d->ConfirmedView(case_id);
  REQUIRE(v.ok());
  return v.value();
}

const v1::Entity& Find(const v1::CaseState& s, const Bytes& id) { return s.entities().at(Hex(id)); }

}  // namespace

TEST_CASE("three devices converge on concurrent online and offline edits", "[sync]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), cousin(net);

  auto case_id = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(case_id.ok());
  const Bytes cid = case_id.value();
  // The creator sees the case and its members at once (optimistic), before any sync.
  REQUIRE(chair->View(cid)->members_size() == 3);
  SyncAll({&chair, &coordinator, &cousin}, 1);
  for (Device* d : {&chair, &coordinator, &cousin}) {
    auto cases = (*d)->Cases();
    REQUIRE(std::find(cases.begin(), cases.end(), cid) != cases.end());
    CHECK(Confirmed(*d, cid).members_size() == 3);
  }

  auto plan = chair->CreateEntity(cid, "agreement");
  REQUIRE(plan.ok());
  REQUIRE(chair->SetField(cid, *plan, "action", Text("Boodschappen doen op zaterdag")).ok());
  SyncAll({&chair, &coordinator, &cousin}, 1);
  REQUIRE(Find(Confirmed(cousin, cid), *plan).fields().at("action").value().text() ==
          "Boodschappen doen op zaterdag");

  const std::array<std::array<int, 3>, 3> interleavings = {{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}}};
  int round = 0;
  for (const auto& order : interleavings) {
    ++round;
    std::array<Device*, 3> devices = {&chair, &coordinator, &cousin};
    const bool offline = round != 1;
    if (offline) server.Stop();
    const std::string due_a = "dinsdag " + std::to_string(round);
    const std::string due_b = "woensdag " + std::to_string(round);
    // The chair and the coordinator change the same field from the same revision.
    REQUIRE(chair->SetField(cid, *plan, "due", Text(due_a)).ok());
    REQUIRE(coordinator->SetField(cid, *plan, "due", Text(due_b)).ok());
    // The cousin edits other things: a field, a set and a new entity.
    REQUIRE(cousin->SetField(cid, *plan, "checker", Text("neef " + std::to_string(round))).ok());
    REQUIRE(cousin->AddToSet(cid, *plan, "helpers", Text("buurman " + std::to_string(round))).ok());
    REQUIRE(cousin->CreateEntity(cid, "note").ok());
    // Each device sees its own edits at once.
    CHECK(Find(*chair->View(cid), *plan).fields().at("due").value().text() == due_a);
    CHECK(Find(*coordinator->View(cid), *plan).fields().at("due").value().text() == due_b);
    if (offline) {
      CHECK(chair->SyncNow().status().transient());
      server.Restart();
    }
    for (int i : order) REQUIRE((*devices[static_cast<size_t>(i)])->SyncNow().ok());
    SyncAll({&chair, &coordinator, &cousin}, 1);

    v1::CaseState reference = Confirmed(chair, cid);
    for (Device* d : {&coordinator, &cousin}) {
      v1::CaseState other = Confirmed(*d, cid);
      CHECK(MessageDifferencer::Equals(reference, other));
      CHECK((*d)->PendingIntents(cid) == 0);
    }
    // Both values of the concurrent edit survive: one in the field, one in a visible conflict.
    const v1::Conflict& c = reference.conflicts(reference.conflicts_size() - 1);
    std::vector<std::string> values = {c.kept_value().text(), c.other_value().text()};
    std::sort(values.begin(), values.end());
    CHECK(values == std::vector<std::string>{due_a, due_b});
    CHECK(Find(reference, *plan).fields().at("due").value().text() == c.kept_value().text());
    CHECK_FALSE(c.resolved());
    CHECK(Find(reference, *plan).fields().at("checker").value().text() ==
          "neef " + std::to_string(round));
  }
  v1::CaseState final_state = Confirmed(cousin, cid);
  CHECK(final_state.conflicts_size() == 3);
  CHECK(Find(final_state, *plan).sets().at("helpers").elements_size() == 3);
  CHECK(chair->Alarms().empty());
  CHECK(coordinator->Alarms().empty());
  CHECK(cousin->Alarms().empty());
}

TEST_CASE("a conflict is resolved by an edit made with the kept value in view", "[sync]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto e = a->CreateEntity(*cid, "agreement");
  REQUIRE(e.ok());
  SyncAll({&a, &b}, 1);
  REQUIRE(a->SetField(*cid, *e, "owner", Text("tante")).ok());
  REQUIRE(b->SetField(*cid, *e, "owner", Text("oom")).ok());
  SyncAll({&a, &b, &a}, 1);
  REQUIRE(Confirmed(a, *cid).conflicts_size() == 1);
  REQUIRE(a->SetField(*cid, *e, "owner", Text("tante en oom")).ok());
  SyncAll({&a, &b}, 1);
  for (Device* d : {&a, &b}) {
    v1::CaseState s = Confirmed(*d, *cid);
    CHECK(s.conflicts(0).resolved());
    CHECK(Find(s, *e).fields().at("owner").value().text() == "tante en oom");
  }
}

// The sync says which cases it brought new conflicts to, so an app (and `kring sync`) tells the
// user without reading each case before and after.
TEST_CASE("the sync counts the new conflicts it brings", "[sync]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto e = a->CreateEntity(*cid, "agreement");
  REQUIRE(e.ok());
  SyncAll({&a, &b}, 1);
  REQUIRE(a->SetField(*cid, *e, "owner", Text("tante")).ok());
  REQUIRE(b->SetField(*cid, *e, "owner", Text("oom")).ok());
  REQUIRE(a->SyncNow().ok());
  // b's push lands after a's edit: the conflict is made by b's own catch-up.
  auto brought = b->SyncNow();
  REQUIRE(brought.ok());
  REQUIRE(brought->new_conflicts.size() == 1);
  CHECK(brought->new_conflicts.at(*cid) == 1);
  auto at_a = a->SyncCase(*cid);
  REQUIRE(at_a.ok());
  CHECK(at_a->new_conflicts.at(*cid) == 1);
  // The conflict is old now: a later sync, with a new edit of another field, names none.
  REQUIRE(b->SetField(*cid, *e, "action", Text("koken")).ok());
  REQUIRE(b->SyncNow().ok());
  auto later = a->SyncNow();
  REQUIRE(later.ok());
  CHECK(later->pulled > 0);
  CHECK(later->new_conflicts.empty());
  // The same value written on both devices is no conflict to tell.
  REQUIRE(a->SetField(*cid, *e, "action", Text("samen koken")).ok());
  REQUIRE(b->SetField(*cid, *e, "action", Text("samen koken")).ok());
  REQUIRE(a->SyncNow().ok());
  auto same = b->SyncNow();
  REQUIRE(same.ok());
  CHECK(same->new_conflicts.empty());
}

TEST_CASE("background sync delivers an edit to another device through a poke", "[sync]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net, true), b(net, true);
  std::promise<void> changed;
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(a->SyncNow().ok());
  REQUIRE(b->SyncNow().ok());
  auto e = a->CreateEntity(*cid, "note");
  REQUIRE(e.ok());
  std::mutex mu;
  bool fulfilled = false;
  b->AddChangeListener([&](const client::ChangeEvent& ev) {
    if (ev.kind != client::ChangeEvent::Kind::kCaseChanged) return;
    auto view = b->ConfirmedView(*cid);
    std::lock_guard<std::mutex> lock(mu);
    if (!fulfilled && view.ok() && view->entities().count(Hex(*e)) != 0) {
      fulfilled = true;
      changed.set_value();
    }
  });
  // No SyncNow on either side: a's worker pushes, kringd pokes b, b's worker pulls.
  CHECK(changed.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
}
