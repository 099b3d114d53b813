// Removal that a device can verify: kringd serves a removed account its case log up to and
// including the RemoveMember (or leave) that took it out, never past it, and refuses it from
// there on. The device learns it is out by folding that verified op; a refusal without it is
// only the server's word and raises REMOVAL_NOT_SHOWN instead (docs/protocol.md section 9).
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/sqlite.h"
#include "kring/v1/case.pb.h"

#include "store/local_store.h"
#include "support/client_fixture.h"
#include "support/device_keys.h"
#include "support/old_store_log.h"

using namespace kring;
using namespace kring::test;

namespace {

// What a device's listener was told.
struct Events {
  std::mutex mu;
  int removed = 0;
  int alarms = 0;
  int changed = 0;  // kCaseChanged: one per commit of a catch-up
  std::vector<client::ChangeEvent> rejected;

  explicit Events(Device& d) {
    d->AddChangeListener([this](const client::ChangeEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (e.kind == client::ChangeEvent::Kind::kRemovedFromCase) ++removed;
      if (e.kind == client::ChangeEvent::Kind::kAlarm) ++alarms;
      if (e.kind == client::ChangeEvent::Kind::kCaseChanged) ++changed;
      if (e.kind == client::ChangeEvent::Kind::kIntentRejected) rejected.push_back(e);
    });
  }
  int Removed() {
    std::lock_guard<std::mutex> lock(mu);
    return removed;
  }
  int Alarms() {
    std::lock_guard<std::mutex> lock(mu);
    return alarms;
  }
  int Changed() {
    std::lock_guard<std::mutex> lock(mu);
    return changed;
  }
  std::vector<client::ChangeEvent> Rejected() {
    std::lock_guard<std::mutex> lock(mu);
    return rejected;
  }
};

// Every entry and signed head seq a device was served.
struct Served {
  std::mutex mu;
  std::vector<v1::LogEntry> entries;
  std::vector<uint64_t> heads;

  void Watch(TamperTransport& wire) {
    wire.on_pull = [this](const v1::PullRequest&, v1::PullResponse& resp) {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& e : resp.entries()) entries.push_back(e);
      heads.push_back(resp.head().seq());
    };
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu);
    entries.clear();
    heads.clear();
  }
  // The seq of the RemoveMember naming `account` among the entries (0 when there is none).
  uint64_t RemovalOf(const Bytes& account) {
    std::lock_guard<std::mutex> lock(mu);
    uint64_t found = 0;
    for (const auto& e : entries) {
      v1::OpHeader h;
      REQUIRE(h.ParseFromString(e.envelope().header()));
      if (h.kind() != v1::OP_KIND_REMOVE_MEMBER) continue;
      v1::ControlBody body;
      REQUIRE(body.ParseFromString(e.envelope().control_body()));
      if (ToBytes(body.remove_member().account_id()) == account) found = e.seq();
    }
    return found;
  }
  std::string ChainHashAt(uint64_t seq) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& e : entries) {
      if (e.seq() == seq) return e.chain_hash();
    }
    FAIL("seq " << seq << " was not served");
    return {};
  }
  uint64_t Highest() {
    std::lock_guard<std::mutex> lock(mu);
    uint64_t top = 0;
    for (const auto& e : entries) top = std::max<uint64_t>(top, e.seq());
    for (uint64_t h : heads) top = std::max(top, h);
    return top;
  }
  uint64_t Last() {
    std::lock_guard<std::mutex> lock(mu);
    return entries.empty() ? 0 : entries.back().seq();
  }
};

// A chair, a member who keeps reading (`other`, whose device records what it is served) and the
// member who will be removed (`ex`, recorded too), in one case with a plan, all synced.
struct RemovalCase {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  std::shared_ptr<TamperTransport> other_wire = std::make_shared<TamperTransport>(net);
  std::shared_ptr<TamperTransport> ex_wire = std::make_shared<TamperTransport>(net);
  Device chair{net};
  Device other{other_wire};
  Device ex{ex_wire};
  Served other_served;
  Served ex_served;
  Bytes case_id;
  Bytes plan;

  // With `newcomers_read_history`, each Rekey after someone is (re)added carries a back-link to
  // the key before it (the catch-up that reads one learns older keys and folds the log again).
  explicit RemovalCase(bool newcomers_read_history = false) {
    other_served.Watch(*other_wire);
    ex_served.Watch(*ex_wire);
    auto cid = chair->CreateCase(
        {{other.account_id(), v1::ROLE_MEMBER}, {ex.account_id(), v1::ROLE_MEMBER}},
        newcomers_read_history);
    REQUIRE(cid.ok());
    case_id = *cid;
    auto p = chair->CreateEntity(case_id, "plan");
    REQUIRE(p.ok());
    plan = *p;
    SyncAll({&chair, &other, &ex}, 1);
  }

  // The chair removes `ex` and writes on; `other` reads it all. Returns the removal's seq.
  uint64_t RemoveExAndWriteOn(const std::string& marker) {
    REQUIRE(chair->RemoveMember(case_id, ex.account_id()).ok());
    REQUIRE(chair->SyncNow().ok());
    REQUIRE(chair->SetField(case_id, plan, "address", Text(marker)).ok());
    REQUIRE(chair->SyncNow().ok());
    REQUIRE(other->SyncNow().ok());
    const uint64_t removal = other_served.RemovalOf(ex.account_id());
    REQUIRE(removal > 0);
    REQUIRE(other->ConfirmedView(case_id)->seq() > removal + 1);  // its Rekey, then the marker
    return removal;
  }

  // A raw Pull as `ex`'s device (its own session), straight to kringd.
  Result<v1::PullResponse> RawPull(uint64_t after_seq, uint32_t limit = 0) {
    v1::PullRequest req;
    req.set_case_id(ToString(case_id));
    req.set_after_seq(after_seq);
    if (after_seq > 0) req.set_after_chain_hash(other_served.ChainHashAt(after_seq));
    req.set_limit(limit);
    return net->Pull(req, ex_wire->last_token());
  }

  std::string DatabasePath() const { return server.data_dir() + "/data/kringd.sqlite3"; }

  // From now on the page that ends at `removal` claims a head two entries above it, signed with
  // the server's key (as a server could), so `ex`'s device asks for more; with `then_offline`
  // the network drops out at that next pull.
  void ClaimHeadAbove(uint64_t removal, bool then_offline) {
    const uint64_t claimed = removal + 2;
    ex_wire->on_pull = [this, removal, claimed, claimed_hash = other_served.ChainHashAt(claimed),
                        key = server.ServerSecretKey(),
                        then_offline](const v1::PullRequest&, v1::PullResponse& resp) {
      if (resp.entries_size() == 0 || resp.entries(resp.entries_size() - 1).seq() != removal) {
        return;
      }
      *resp.mutable_head() = protocol::MakeReceipt(case_id, claimed, ToBytes(claimed_hash),
                                                   resp.head().time_ms(), key);
      if (then_offline) ex_wire->fail_pulls = true;
    };
  }
};

// The device is out at `removal`, the seq of its verified removal: told once and without an
// alarm, its two queued edits rejected together with kringd's reason, nothing left queued.
template <typename Listener>
void CheckOutAt(RemovalCase& k, Listener& events, uint64_t removal) {
  CHECK(events.Removed() == 1);
  CHECK(events.Alarms() == 0);
  CHECK(k.ex->Alarms().empty());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK(view.removed());
  CHECK(view.seq() == removal);
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  const auto rejected = events.Rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].count == 2);
  CHECK(rejected[0].reason == refusal::kNotAMember);
}

// Runs `sql` on kringd's database while kringd is stopped, then starts kringd again.
void EditStoppedServer(TestServer& server, const std::string& path, const std::string& sql) {
  REQUIRE(server.Stop() == 0);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Exec(sql).ok());
  }
  server.Restart();
}

}  // namespace

TEST_CASE("an offline member syncs its verified removal and nothing written after it",
          "[removal]") {
  RemovalCase k;
  Events events(k.ex);
  // Edits made while the device was offline, before it knew.
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  k.ex_served.Clear();

  REQUIRE(k.ex->SyncNow().ok());
  // Out by the verified RemoveMember: once, without an alarm, the queued edits rejected together.
  CheckOutAt(k, events, removal);
  // Served up to and including its removal: no entry, and no signed head, past it.
  CHECK(k.ex_served.Last() == removal);
  CHECK(k.ex_served.Highest() == removal);

  // Out for good: the next sync does not ask for the case again.
  const int pulls = k.ex_wire->pulls;
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_wire->pulls == pulls);
  CHECK(events.Removed() == 1);

  // Asked directly, kringd gives the removal and its own head at it, nothing after.
  auto last_page = k.RawPull(removal - 1, 1000);
  REQUIRE(last_page.ok());
  REQUIRE(last_page->entries_size() == 1);
  CHECK(last_page->entries(0).seq() == removal);
  CHECK(last_page->head().seq() == removal);
  CHECK(last_page->head().chain_hash() == last_page->entries(0).chain_hash());
  auto past = k.RawPull(removal);
  CHECK(past.status().code() == StatusCode::kPermissionDenied);
  CHECK(past.status().reason() == refusal::kNotAMember);
}

TEST_CASE("a member who left from another device syncs the verified leave on this one",
          "[removal]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto phone_wire = std::make_shared<TamperTransport>(net);
  auto chair_wire = std::make_shared<TamperTransport>(net);
  Device chair(chair_wire), phone(phone_wire), laptop(net, Device::Fresh{});
  Link(phone, laptop);
  Served chair_served, phone_served;
  chair_served.Watch(*chair_wire);
  phone_served.Watch(*phone_wire);
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &laptop}, 1);
  REQUIRE(laptop->ConfirmedView(*cid)->entities().count(Hex(*plan)) == 1);

  Events events(phone);
  REQUIRE(phone->SetField(*cid, *plan, "offline", Text("in de bus")).ok());
  // The same person leaves on the laptop, which sees its own leave come back and is out.
  REQUIRE(laptop->LeaveCase(*cid).ok());
  REQUIRE(laptop->SyncNow().ok());
  CHECK(laptop->ConfirmedView(*cid)->removed());
  CHECK(laptop->Alarms().empty());
  // The chair makes the new key and writes on.
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->SetField(*cid, *plan, "address", Text("NA-VERTREK")).ok());
  REQUIRE(chair->SyncNow().ok());
  const uint64_t leave = chair_served.RemovalOf(phone.account_id());
  REQUIRE(leave > 0);
  REQUIRE(chair->ConfirmedView(*cid)->seq() > leave + 1);

  phone_served.Clear();
  REQUIRE(phone->SyncNow().ok());
  CHECK(events.Removed() == 1);
  CHECK(events.Alarms() == 0);
  CHECK(phone->Alarms().empty());
  CHECK(phone->ConfirmedView(*cid)->removed());
  CHECK(phone->ConfirmedView(*cid)->seq() == leave);
  CHECK(phone->PendingIntents(*cid) == 0);
  CHECK(events.Rejected().size() == 1);
  CHECK(phone_served.Last() == leave);
  CHECK(phone_served.Highest() == leave);

  v1::PullRequest req;
  req.set_case_id(ToString(*cid));
  req.set_after_seq(leave);
  req.set_after_chain_hash(chair_served.ChainHashAt(leave));
  CHECK(net->Pull(req, phone_wire->last_token()).status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("a removed member who is added back pulls on as before", "[removal]") {
  RemovalCase k;
  const uint64_t removal = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(k.ex->ConfirmedView(k.case_id)->removed());

  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  auto after = k.chair->CreateEntity(k.case_id, "note");
  REQUIRE(after.ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.other->SyncNow().ok());

  k.ex_served.Clear();
  REQUIRE(k.ex->SyncNow().ok());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.removed());
  CHECK(view.entities().count(Hex(*after)) == 1);
  CHECK(view.seq() == k.other->ConfirmedView(k.case_id)->seq());
  CHECK(k.ex->Alarms().empty());
  CHECK(k.ex_served.Highest() > removal);
  // Its removal is forgotten: a pull from there on is served.
  auto on = k.RawPull(removal);
  REQUIRE(on.ok());
  CHECK(on->entries_size() > 0);
}

TEST_CASE("a device offline across its removal and re-adding catches up over small pages",
          "[removal]") {
  RemovalCase k;
  Events events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  const uint64_t removal = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  const uint64_t head = k.chair->ConfirmedView(k.case_id)->seq();
  REQUIRE(head > removal + 2);
  // Pages of 2: the removal and the re-adding come on different pages.
  k.ex_wire->pull_limit = 2;
  k.ex_served.Clear();

  REQUIRE(k.ex->SyncNow().ok());
  // Never out: no removal event, its edit kept (and pushed), the view at the head.
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  CHECK(k.ex->Alarms().empty());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.removed());
  CHECK(view.seq() >= head);
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  CHECK(k.ex_served.Highest() > removal);
  REQUIRE(k.chair->SyncNow().ok());
  CHECK(k.chair->ConfirmedView(k.case_id)->entities().at(Hex(k.plan)).fields().count("offline") ==
        1);
}

TEST_CASE("a removed device ends its catch-up at its removal when a page claims a head above it",
          "[removal]") {
  RemovalCase k;
  Events events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  // The page with the removal claims the case's real head (signed with the server's key), as a
  // server could: the device asks for more and is refused, which ends its catch-up cleanly.
  k.ClaimHeadAbove(removal, /*then_offline=*/false);
  const int pulls = k.ex_wire->pulls;

  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_wire->pulls > pulls + 1);  // it did ask past the removal
  CHECK(events.Removed() == 1);
  CHECK(events.Alarms() == 0);
  CHECK(k.ex->Alarms().empty());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK(view.removed());
  CHECK(view.seq() == removal);
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
}

TEST_CASE("a refusal without the removal raises REMOVAL_NOT_SHOWN once and keeps the case",
          "[removal]") {
  RemovalCase k;
  Events events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("op het perron")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const v1::CaseState before = *k.ex->ConfirmedView(k.case_id);
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  // A lying server: kringd without the record of the removal refuses the account and shows
  // nothing (its operator deleted the row while it was stopped).
  const std::string where = " WHERE case_id = x'" + Hex(k.case_id) + "' AND account_id = x'" +
                            Hex(k.ex.account_id()) + "'";
  EditStoppedServer(k.server, k.DatabasePath(), "DELETE FROM case_removals" + where);

  REQUIRE(k.ex->SyncNow().ok());
  auto alarms = k.ex->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kRemovalNotShown);
  CHECK(std::string(client::AlarmKindName(alarms[0].kind)) == "REMOVAL_NOT_SHOWN");
  CHECK(alarms[0].case_id == k.case_id);
  CHECK(events.Alarms() == 1);
  CHECK(events.Removed() == 0);
  // The case stays as it was: not removed, the queued edits kept, new ones still taken.
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.removed());
  CHECK(view.seq() == before.seq());
  CHECK(k.ex->PendingIntents(k.case_id) == 2);
  CHECK(events.Rejected().empty());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());

  // Not raised again at the next syncs, nor after a restart of the app.
  REQUIRE(k.ex->SyncNow().ok());
  k.ex.Reopen();
  Events reopened(k.ex);
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex->Alarms().size() == 1);
  CHECK(events.Alarms() == 1);
  CHECK(reopened.Alarms() == 0);
  CHECK(k.ex->PendingIntents(k.case_id) == 3);
  CHECK_FALSE(k.ex->ConfirmedView(k.case_id)->removed());

  // Once kringd shows the removal, the device is out by it, cleanly.
  EditStoppedServer(k.server, k.DatabasePath(),
                    "INSERT INTO case_removals (case_id, account_id, removal_seq) VALUES (x'" +
                        Hex(k.case_id) + "', x'" + Hex(k.ex.account_id()) + "', " +
                        std::to_string(removal) + ")");
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(reopened.Removed() == 1);
  CHECK(k.ex->ConfirmedView(k.case_id)->removed());
  CHECK(k.ex->ConfirmedView(k.case_id)->seq() == removal);
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  CHECK(k.ex->Alarms().size() == 1);
}

TEST_CASE("a removed member who waits for approval again is refused until the chair decides",
          "[removal]") {
  RemovalCase k;
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(k.ex->ConfirmedView(k.case_id)->removed());
  auto invite = k.chair->CreateInvite(k.case_id, v1::ROLE_MEMBER, 600);
  REQUIRE(invite.ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.ex->AcceptInvite(invite->link).ok());
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex->ConfirmedView(k.case_id)->pending_approval());
  CHECK(k.ex->Alarms().empty());
  // Pending: refused as every pending account, also what it could read before.
  auto pending = k.RawPull(0);
  CHECK(pending.status().code() == StatusCode::kPermissionDenied);
  CHECK(pending.status().reason() == refusal::kNotAMember);
  // Declined: no longer pending, it reads up to its removal again, not past it.
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->DeclineMember(k.case_id, k.ex.account_id()).ok());
  REQUIRE(k.chair->SyncNow().ok());
  auto declined = k.RawPull(removal - 1);
  REQUIRE(declined.ok());
  REQUIRE(declined->entries_size() == 1);
  CHECK(declined->entries(0).seq() == removal);
  CHECK(declined->head().seq() == removal);
}

namespace {

// Breaks `ex`'s catch-up off after the page that brings its removal (pages of 2): the pull after
// it fails as if the network dropped out. What it was served is still recorded.
void BreakOffAfter(RemovalCase& k, uint64_t removal) {
  k.ex_wire->pull_limit = 2;
  auto served = k.ex_wire->on_pull;
  k.ex_wire->on_pull = [&k, removal, served](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (served) served(req, resp);
    for (const auto& e : resp.entries()) {
      if (e.seq() == removal) k.ex_wire->fail_pulls = true;
    }
  };
}

// The events of a device across restarts of its app (a listener per client).
struct AllEvents {
  std::vector<std::unique_ptr<Events>> each;
  explicit AllEvents(Device& d) { Listen(d); }
  void Listen(Device& d) { each.push_back(std::make_unique<Events>(d)); }
  int Removed() {
    int n = 0;
    for (auto& e : each) n += e->Removed();
    return n;
  }
  int Alarms() {
    int n = 0;
    for (auto& e : each) n += e->Alarms();
    return n;
  }
  std::vector<client::ChangeEvent> Rejected() {
    std::vector<client::ChangeEvent> all;
    for (auto& e : each) {
      for (auto& r : e->Rejected()) all.push_back(r);
    }
    return all;
  }
};

}  // namespace

TEST_CASE(
    "a device removed and added back while offline keeps its queued edits when its "
    "catch-up breaks off between the two",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  auto note = k.ex->CreateEntity(k.case_id, "note");
  REQUIRE(note.ok());
  const uint64_t removal = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  const uint64_t head = k.chair->ConfirmedView(k.case_id)->seq();
  REQUIRE(head > removal + 2);
  BreakOffAfter(k, removal);

  CHECK_FALSE(k.ex->SyncNow().ok());
  // It verified its removal and not yet its re-adding: nothing is decided, nothing is lost.
  CHECK(k.ex->ConfirmedView(k.case_id)->removed());
  CHECK(k.ex_served.Last() >= removal);
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  CHECK(k.ex->PendingIntents(k.case_id) == 2);

  k.ex_wire->fail_pulls = false;
  SECTION("at the next sync") {}
  SECTION("at the next sync after a restart of the app") {
    k.ex.Reopen();
    events.Listen(k.ex);
  }
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  CHECK(events.Alarms() == 0);
  CHECK(k.ex->Alarms().empty());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.removed());
  CHECK(view.seq() >= head);
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  // Pushed (sealed under the key of the re-adding) and read by the other members.
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.other->SyncNow().ok());
  for (Device* d : {&k.chair, &k.other}) {
    v1::CaseState seen = *(*d)->ConfirmedView(k.case_id);
    CHECK(seen.entities().at(Hex(k.plan)).fields().count("offline") == 1);
    CHECK(seen.entities().count(Hex(*note)) == 1);
  }
}

TEST_CASE(
    "a removed device whose catch-up breaks off after its removal rejects its queued edits "
    "once, when a sync ends there",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  // The page with the removal claims a head above it (signed with the server's key), so the
  // device asks for more; the network drops out at that pull.
  k.ClaimHeadAbove(removal, /*then_offline=*/true);

  CHECK_FALSE(k.ex->SyncNow().ok());
  CHECK(k.ex->ConfirmedView(k.case_id)->seq() == removal);
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  CHECK(k.ex->PendingIntents(k.case_id) == 2);

  k.ex_wire->fail_pulls = false;
  SECTION("at the next sync") {}
  SECTION("at the next sync after a restart of the app") {
    k.ex.Reopen();
    events.Listen(k.ex);
  }
  // kringd refuses the pull after the removal: the catch-up ends there, and the device is out.
  REQUIRE(k.ex->SyncNow().ok());
  CheckOutAt(k, events, removal);
  // Once: the next sync asks nothing and tells nothing again.
  const int pulls = k.ex_wire->pulls;
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_wire->pulls == pulls);
  CHECK(events.Removed() == 1);
  CHECK(events.Rejected().size() == 1);
}

TEST_CASE(
    "a device removed, added back and removed again while offline is out once, at the "
    "second removal",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const uint64_t first = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  BreakOffAfter(k, first);
  CHECK_FALSE(k.ex->SyncNow().ok());
  CHECK(k.ex->ConfirmedView(k.case_id)->removed());
  CHECK(events.Removed() == 0);
  CHECK(k.ex->PendingIntents(k.case_id) == 2);

  // Removed again before the device is back online.
  REQUIRE(k.chair->RemoveMember(k.case_id, k.ex.account_id()).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.other->SyncNow().ok());
  const uint64_t second = k.other_served.RemovalOf(k.ex.account_id());  // the last one
  REQUIRE(second > first);
  k.ex_wire->fail_pulls = false;
  k.ex_served.Watch(*k.ex_wire);
  k.ex_served.Clear();

  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_served.RemovalOf(k.ex.account_id()) == second);
  CHECK(k.ex_served.Highest() == second);
  CheckOutAt(k, events, second);
}

TEST_CASE(
    "a page that fails verification after the removal stops the case with its queued edits "
    "kept",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const uint64_t removal = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  // Pages of 2; every page after the one with the removal has its first entry changed. (The
  // next page may be asked for on another thread: no Catch2 assertion in here.)
  k.ex_wire->pull_limit = 2;
  std::atomic<bool> empty_header{false};
  k.ex_wire->on_pull = [removal, &empty_header](const v1::PullRequest& req,
                                                v1::PullResponse& resp) {
    if (req.after_seq() < removal || resp.entries_size() == 0) return;
    std::string* header = resp.mutable_entries(0)->mutable_envelope()->mutable_header();
    if (header->empty()) {
      empty_header = true;
      return;
    }
    header->back() = static_cast<char>(header->back() ^ 1);
  };

  REQUIRE(k.ex->SyncNow().ok());  // an alarm is not the sync's error
  CHECK_FALSE(empty_header);
  CHECK(k.ex->ConfirmedView(k.case_id)->seq() >= removal);
  CHECK(k.ex->ConfirmedView(k.case_id)->removed());
  const auto alarms = k.ex->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(events.Alarms() == 1);
  // Stopped by the alarm, not out: nothing rejected, no removal told.
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  CHECK(k.ex->PendingIntents(k.case_id) == 2);
}

TEST_CASE(
    "a device removed and added back while offline keeps its queued edits when more than "
    "one commit of entries lies between the two",
    "[removal]") {
  RemovalCase k;
  // A catch-up commits after about 10 entries (10,000 in apps), up to a page more, and the rest
  // too when it fits in one more page; pages of 2.
  constexpr size_t kCap = 10;
  k.ex.ReopenWithEntriesPerCommit(kCap);
  k.ex_wire->pull_limit = 2;
  Events events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  const uint64_t removal = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  // Each note pushed on its own: kringd serves a run of unsigned ops up to its signed end in one
  // page, and 30 notes in one push would make one page.
  bool written = true;
  for (int i = 0; i < 30; ++i) {
    written = written && k.chair->CreateEntity(k.case_id, "note").ok() && k.chair->SyncNow().ok();
  }
  REQUIRE(written);
  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  const uint64_t head = k.chair->ConfirmedView(k.case_id)->seq();
  // The removal is in the first commit (at most kCap entries and a page), the re-adding not.
  REQUIRE(head > removal + 30);
  REQUIRE(head - removal > 3 * kCap);

  // Pushes blocked for this sync: every kCaseChanged is a commit of the catch-up.
  k.ex_wire->fail_pushes = true;
  CHECK_FALSE(k.ex->SyncNow().ok());
  CHECK(events.Changed() >= 3);  // the first commits end at kCap entries, not at the head
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  CHECK(k.ex->Alarms().empty());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.removed());
  CHECK(view.seq() >= head);
  CHECK(k.ex->PendingIntents(k.case_id) == 1);

  k.ex_wire->fail_pushes = false;
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  CHECK(events.Removed() == 0);
  CHECK(events.Rejected().empty());
  REQUIRE(k.chair->SyncNow().ok());
  CHECK(k.chair->ConfirmedView(k.case_id)->entities().at(Hex(k.plan)).fields().count("offline") ==
        1);
}

namespace {

// Breaks `ex`'s catch-up off after its removal, which it verifies but does not settle: the page
// with the removal claims a head above it (signed with the server's key), so the device asks
// for more, and the network drops out at that pull. Restores `ex`'s wire afterwards.
void BreakOffPastRemoval(RemovalCase& k, uint64_t removal) {
  k.ClaimHeadAbove(removal, /*then_offline=*/true);
  CHECK_FALSE(k.ex->SyncNow().ok());
  k.ex_wire->on_pull = nullptr;
  k.ex_wire->fail_pulls = false;
  k.ex_served.Watch(*k.ex_wire);
  CHECK(k.ex->ConfirmedView(k.case_id)->removed());
  CHECK(k.ex->ConfirmedView(k.case_id)->seq() == removal);
}

}  // namespace

TEST_CASE(
    "an invite accepted while a removal waits for its verdict settles the removal and is "
    "sent",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  BreakOffPastRemoval(k, removal);
  REQUIRE(events.Removed() == 0);
  REQUIRE(k.ex->PendingIntents(k.case_id) == 2);
  auto invite = k.chair->CreateInvite(k.case_id, v1::ROLE_MEMBER, 600);
  REQUIRE(invite.ok());
  REQUIRE(k.chair->SyncNow().ok());

  SECTION("settled by the acceptance") {
    SECTION("offline") {}
    SECTION("after a restart of the app") {
      k.ex.Reopen();
      events.Listen(k.ex);
    }
    // The user, seeing the case removed (without the event yet), accepts a new invite offline.
    REQUIRE(k.ex->AcceptInvite(invite->link).ok());
    // The removal is settled with it: the edits rejected together, the app told once.
    CHECK(events.Removed() == 1);
    {
      const auto rejected = events.Rejected();
      REQUIRE(rejected.size() == 1);
      CHECK(rejected[0].count == 2);
      CHECK(rejected[0].reason == refusal::kNotAMember);
    }
    CHECK(k.ex->PendingIntents(k.case_id) == 1);  // the acceptance
  }
  SECTION("with the edits still queued before the acceptance (a mark lost)") {
    // As a store whose removal mark is gone: the acceptance then stands behind the edits,
    // which the device cannot seal while it waits for the Rekey of its removal.
    k.ex.Close();
    {
      auto db = sql::Database::Open(k.ex.db_path());
      REQUIRE(db.ok());
      REQUIRE(db->Exec("UPDATE cases SET removal_unsettled = 0").ok());
    }
    k.ex.Reopen();
    events.Listen(k.ex);
    REQUIRE(k.ex->AcceptInvite(invite->link).ok());
    CHECK(events.Removed() == 0);
    CHECK(k.ex->PendingIntents(k.case_id) == 3);
  }
  CHECK(k.ex->ConfirmedView(k.case_id)->pending_approval());

  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex->ConfirmedView(k.case_id)->pending_approval());
  CHECK(k.ex->Alarms().empty());
  CHECK(events.Alarms() == 0);
  CHECK(events.Removed() <= 1);
  CHECK(events.Rejected().size() <= 1);
  // The acceptance reached kringd: the chair sees the account waiting for approval.
  REQUIRE(k.chair->SyncNow().ok());
  const v1::CaseState chair_view = *k.chair->ConfirmedView(k.case_id);
  REQUIRE(chair_view.pending_members_size() == 1);
  CHECK(ToBytes(chair_view.pending_members(0).account_id()) == k.ex.account_id());
}

TEST_CASE(
    "a removal waiting for its verdict is settled when kringd lists the case but refuses the "
    "pull",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  BreakOffPastRemoval(k, removal);
  REQUIRE(k.ex->PendingIntents(k.case_id) == 2);
  // A server that lists the case still (it is not read as a re-adding: the log would show one).
  k.ex_wire->on_list_cases = [&k](v1::ListCasesResponse& resp) {
    v1::CaseHead* c = resp.add_cases();
    c->set_case_id(ToString(k.case_id));
    c->set_head_seq(k.chair->ConfirmedView(k.case_id)->seq());
  };
  const int pulls = k.ex_wire->pulls;

  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_wire->pulls > pulls);  // asked past the removal, and refused
  CheckOutAt(k, events, removal);
  // Once: the next sync (listed as kringd lists it) tells nothing again.
  k.ex_wire->on_list_cases = nullptr;
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(events.Removed() == 1);
  CHECK(events.Rejected().size() == 1);
  CHECK(k.ex->Alarms().empty());
}

namespace {

// `ex` queues two edits offline; the chair removes it, writes on and adds it back by its account
// id; `ex`'s catch-up breaks off after the removal (left unsettled). With `again`, the chair then
// removes it a second time. Returns the seq of the last removal.
uint64_t FallBehindAcrossReAdding(RemovalCase& k, AllEvents& events, bool again) {
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "offline", Text("in de trein")).ok());
  REQUIRE(k.ex->CreateEntity(k.case_id, "note").ok());
  uint64_t last = k.RemoveExAndWriteOn("TIJDENS-AFWEZIGHEID");
  REQUIRE(k.chair->AddMember(k.case_id, {k.ex.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  BreakOffAfter(k, last);
  CHECK_FALSE(k.ex->SyncNow().ok());
  REQUIRE(k.ex->ConfirmedView(k.case_id)->removed());
  REQUIRE(k.ex->PendingIntents(k.case_id) == 2);
  REQUIRE(events.Removed() == 0);
  if (again) {
    REQUIRE(k.chair->RemoveMember(k.case_id, k.ex.account_id()).ok());
    REQUIRE(k.chair->SyncNow().ok());
    REQUIRE(k.chair->SyncNow().ok());
    REQUIRE(k.other->SyncNow().ok());
    const uint64_t second = k.other_served.RemovalOf(k.ex.account_id());  // the last one
    REQUIRE(second > last);
    last = second;
  }
  return last;
}

// The chair invites `ex` back with a new invite (a member's role), sent to kringd.
client::Invitation InviteBack(RemovalCase& k) {
  auto invite = k.chair->CreateInvite(k.case_id, v1::ROLE_MEMBER, 600);
  REQUIRE(invite.ok());
  REQUIRE(k.chair->SyncNow().ok());
  return *invite;
}

// Back online: whole pages, every pull recorded again.
void BackOnline(RemovalCase& k) {
  k.ex_wire->fail_pulls = false;
  k.ex_wire->pull_limit = 0;
  k.ex_wire->on_pull = nullptr;
  k.ex_served.Watch(*k.ex_wire);
  k.ex_served.Clear();
}

// The chair sees `ex` waiting, approves it, and `ex` reads on as a member: its view at the
// chair's head, and an edit of its own reaches the chair.
void ApproveAndReadOn(RemovalCase& k) {
  REQUIRE(k.chair->SyncNow().ok());
  const v1::CaseState waiting = *k.chair->ConfirmedView(k.case_id);
  REQUIRE(waiting.pending_members_size() == 1);
  CHECK(ToBytes(waiting.pending_members(0).account_id()) == k.ex.account_id());
  REQUIRE(k.chair->ApproveMember(k.case_id, k.ex.account_id()).ok());
  REQUIRE(k.chair->SyncNow().ok());
  REQUIRE(k.ex->SyncNow().ok());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.pending_approval());
  CHECK_FALSE(view.removed());
  CHECK(view.seq() >= k.chair->ConfirmedView(k.case_id)->seq());
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "back", Text("weer erbij")).ok());
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  REQUIRE(k.chair->SyncNow().ok());
  CHECK(k.chair->ConfirmedView(k.case_id)->entities().at(Hex(k.plan)).fields().count("back") == 1);
}

}  // namespace

namespace {

// `ex` accepts a new invite while it has not yet read its re-adding and second removal; the
// acceptance goes out and is approved. With `newcomers_read_history` the catch-up learns older
// keys through the re-adding's Rekey and folds the log again (SyncEngine::Replay).
void AcceptBehindReAddingAndSecondRemoval(bool newcomers_read_history) {
  RemovalCase k(newcomers_read_history);
  AllEvents events(k.ex);
  const uint64_t second = FallBehindAcrossReAdding(k, events, /*again=*/true);
  const client::Invitation invite = InviteBack(k);

  // The user, seeing the case removed, accepts the new invite: the removal it shows is settled
  // with it (the two edits rejected together, the app told once).
  REQUIRE(k.ex->AcceptInvite(invite.link).ok());
  CHECK(events.Removed() == 1);
  REQUIRE(events.Rejected().size() == 1);
  CHECK(events.Rejected()[0].count == 2);
  // An edit made while waiting waits for the approval.
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "waiting", Text("wacht op goedkeuring")).ok());
  BackOnline(k);

  // The catch-up reads the re-adding (not the approval of this acceptance) and the second
  // removal: the device is out by it, still waiting, and its acceptance goes out.
  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_served.RemovalOf(k.ex.account_id()) == second);
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK(view.pending_approval());
  CHECK(view.removed());
  CHECK(view.seq() == second);
  CHECK(k.ex->PendingIntents(k.case_id) == 2);  // the acceptance and the edit made after it
  // Told once in all: the second removal came before the acceptance the user already made.
  CHECK(events.Removed() == 1);
  CHECK(events.Rejected().size() == 1);
  CHECK(events.Alarms() == 0);
  CHECK(k.ex->Alarms().empty());

  ApproveAndReadOn(k);
  CHECK(k.chair->ConfirmedView(k.case_id)->entities().at(Hex(k.plan)).fields().count("waiting") ==
        1);
  CHECK(events.Removed() == 1);
  CHECK(events.Rejected().size() == 1);
}

}  // namespace

TEST_CASE(
    "an invite accepted by a device that has not yet read its re-adding and second removal "
    "goes out and is approved",
    "[removal]") {
  AcceptBehindReAddingAndSecondRemoval(/*newcomers_read_history=*/false);
}

TEST_CASE(
    "an invite accepted by a device that has not yet read its re-adding and second removal "
    "goes out and is approved when newcomers read the history",
    "[removal]") {
  AcceptBehindReAddingAndSecondRemoval(/*newcomers_read_history=*/true);
}

namespace {

// `ex` writes while its acceptance waits; the chair revokes the invite before the acceptance
// reaches kringd. The refused acceptance ends the wait: `ex` is out as before, and what it wrote
// while waiting is rejected with it (one event, NOT_A_MEMBER), nothing left queued. `told` and
// `rejected_before` are what the device was told before it accepted.
void RefusedAcceptanceEndsTheWait(RemovalCase& k, AllEvents& events, int told,
                                  size_t rejected_before) {
  const client::Invitation invite = InviteBack(k);
  REQUIRE(k.ex->AcceptInvite(invite.link).ok());
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "waiting", Text("wacht op goedkeuring")).ok());
  REQUIRE(k.chair->RevokeInvite(k.case_id, invite.invite_id).ok());
  REQUIRE(k.chair->SyncNow().ok());
  BackOnline(k);

  REQUIRE(k.ex->SyncNow().ok());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.pending_approval());
  CHECK(view.removed());
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  const auto rejected = events.Rejected();
  REQUIRE(rejected.size() == rejected_before + 2);
  CHECK(rejected[rejected_before].reason == refusal::kInviteRevoked);
  CHECK(rejected[rejected_before].count == 1);
  CHECK(rejected[rejected_before + 1].reason == refusal::kNotAMember);
  CHECK(rejected[rejected_before + 1].count == 1);
  CHECK(events.Removed() == told);
  CHECK(events.Alarms() == 0);
  // Settled: the next sync neither asks for the case nor tells anything again.
  const int pulls = k.ex_wire->pulls;
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex_wire->pulls == pulls);
  CHECK(events.Rejected().size() == rejected_before + 2);
}

}  // namespace

TEST_CASE(
    "a removed device whose acceptance is refused has what it wrote while waiting rejected "
    "with it",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  k.RemoveExAndWriteOn("NA-VERWIJDERING");
  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(k.ex->ConfirmedView(k.case_id)->removed());
  RefusedAcceptanceEndsTheWait(k, events, /*told=*/1, /*rejected_before=*/0);
}

TEST_CASE(
    "a device that accepted before reading its re-adding and second removal has what it wrote "
    "while waiting rejected when the acceptance is refused",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  FallBehindAcrossReAdding(k, events, /*again=*/true);
  // Accepting settles the removal it shows: its two edits rejected, the app told once.
  RefusedAcceptanceEndsTheWait(k, events, /*told=*/1, /*rejected_before=*/1);
}

namespace {

// `ex` falls behind across its removal and re-adding (FallBehindAcrossReAdding), accepts a new
// invite while its view shows the removal (its two edits rejected with that removal) and is back
// online.
void AcceptBeforeReadingReAdding(RemovalCase& k, AllEvents& events) {
  FallBehindAcrossReAdding(k, events, /*again=*/false);
  const client::Invitation invite = InviteBack(k);
  REQUIRE(k.ex->AcceptInvite(invite.link).ok());
  REQUIRE(events.Rejected().size() == 1);
  BackOnline(k);
}

}  // namespace

TEST_CASE(
    "an invite accepted by a device that has not yet read its re-adding is refused as "
    "already joined and leaves the device a member",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  AcceptBeforeReadingReAdding(k, events);
  CHECK(events.Removed() == 1);

  // The re-adding is no approval of this acceptance: kringd refuses it (a member already), and
  // the device is what the log says, a member.
  REQUIRE(k.ex->SyncNow().ok());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.pending_approval());
  CHECK_FALSE(view.removed());
  CHECK(view.seq() == k.chair->ConfirmedView(k.case_id)->seq());
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  const auto rejected = events.Rejected();
  REQUIRE(rejected.size() == 2);
  CHECK(rejected[1].reason == refusal::kAlreadyJoined);
  CHECK(events.Removed() == 1);
  CHECK(k.ex->Alarms().empty());
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "back", Text("weer erbij")).ok());
  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(k.chair->SyncNow().ok());
  CHECK(k.chair->ConfirmedView(k.case_id)->entities().at(Hex(k.plan)).fields().count("back") == 1);
}

TEST_CASE(
    "a device that reads its re-adding after it accepted an invite ends its wait without the "
    "server, and a server that then refuses it without the removal raises REMOVAL_NOT_SHOWN",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  AcceptBeforeReadingReAdding(k, events);
  // A server that lets the device read on but never takes its acceptance (a transient error at
  // every push).
  k.ex_wire->fail_pushes = true;

  // The re-adding makes it a member by its verified log: the acceptance is needless and the
  // wait ends without the server's word.
  REQUIRE(k.ex->SyncNow().ok());
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK_FALSE(view.pending_approval());
  CHECK_FALSE(view.removed());
  CHECK(k.ex->PendingIntents(k.case_id) == 0);
  auto rejected = events.Rejected();
  REQUIRE(rejected.size() == 2);
  CHECK(rejected[1].reason == refusal::kAlreadyJoined);
  CHECK(rejected[1].count == 1);

  // The chair removes it again and the server hides that removal (its record deleted while
  // kringd was stopped): every pull is refused without it, which is not a wait for approval.
  REQUIRE(k.chair->RemoveMember(k.case_id, k.ex.account_id()).ok());
  REQUIRE(k.chair->SyncNow().ok());
  EditStoppedServer(k.server, k.DatabasePath(),
                    "DELETE FROM case_removals WHERE case_id = x'" + Hex(k.case_id) +
                        "' AND account_id = x'" + Hex(k.ex.account_id()) + "'");
  REQUIRE(k.ex->SetField(k.case_id, k.plan, "later", Text("na de uitnodiging")).ok());
  REQUIRE(k.ex->SyncNow().ok());
  auto alarms = k.ex->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kRemovalNotShown);
  CHECK(events.Alarms() == 1);
  CHECK_FALSE(k.ex->ConfirmedView(k.case_id)->removed());
  CHECK(k.ex->PendingIntents(k.case_id) == 1);  // kept, as after any REMOVAL_NOT_SHOWN
}

TEST_CASE(
    "an invite accepted while a catch-up of the case runs keeps both the acceptance and what "
    "the catch-up verified",
    "[removal]") {
  RemovalCase k;
  AllEvents events(k.ex);
  const uint64_t second = FallBehindAcrossReAdding(k, events, /*again=*/true);
  const client::Invitation invite = InviteBack(k);
  BackOnline(k);
  // Pages of 2; the user accepts the invite while the first page of the catch-up is served
  // (on another thread, as an app's call), and the page waits for that call to return, up to
  // 250 ms: a call that waits for the catch-up to end does not return meanwhile. (The check is
  // one-sided: a call that did not wait for the catch-up but took longer than the bound would go
  // unseen by this check, not by the state checks after it.)
  k.ex_wire->pull_limit = 2;
  std::future<Result<Bytes>> accepted;
  std::atomic<bool> returned_during_catch_up{false};
  k.ex_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse&) {
    if (accepted.valid()) return;
    accepted = std::async(std::launch::async, [&] { return k.ex->AcceptInvite(invite.link); });
    returned_during_catch_up =
        accepted.wait_for(std::chrono::milliseconds(250)) == std::future_status::ready;
  };

  REQUIRE(k.ex->SyncNow().ok());
  REQUIRE(accepted.valid());
  REQUIRE(accepted.get().ok());
  CHECK_FALSE(returned_during_catch_up);
  // The catch-up's verified state stands (out by the second removal, its edits rejected and the
  // app told once), and so does the acceptance made after it.
  v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
  CHECK(view.seq() == second);
  CHECK(view.pending_approval());
  CHECK(events.Removed() == 1);
  REQUIRE(events.Rejected().size() == 1);
  CHECK(events.Rejected()[0].count == 2);
  CHECK(k.ex->PendingIntents(k.case_id) == 1);
  k.ex_wire->on_pull = nullptr;
  k.ex_served.Watch(*k.ex_wire);
  REQUIRE(k.ex->SyncNow().ok());
  CHECK(k.ex->ConfirmedView(k.case_id)->pending_approval());
  CHECK(events.Removed() == 1);
  ApproveAndReadOn(k);
}

TEST_CASE(
    "a device told of its removal before a store upgrade is not told again when its later "
    "edits are rejected",
    "[removal]") {
  RemovalCase k;
  const uint64_t removal = k.RemoveExAndWriteOn("NA-VERWIJDERING");
  {
    Events told(k.ex);
    REQUIRE(k.ex->SyncNow().ok());
    REQUIRE(told.Removed() == 1);
    REQUIRE(told.Rejected().empty());
  }
  // Written in the removed case afterwards: a libkring from before took such edits and left
  // them queued (this one refuses them, so the test queues it in the store as that one did).
  CHECK(k.ex->SetField(k.case_id, k.plan, "later", Text("na het bericht")).reason() ==
        refusal::kNotAMember);
  k.ex.Close();
  {
    auto store = client::LocalStore::Open(k.ex.db_path(), k.ex.storage_key());
    REQUIRE(store.ok());
    v1::ContentOp op;
    op.set_version(1);
    v1::SetField* set = op.add_mutations()->mutable_set_field();
    set->set_entity_id(ToString(k.plan));
    set->set_field("later");
    set->mutable_value()->set_text("na het bericht");
    auto client_op_id = (*store)->NewClientOpId(k.case_id);
    REQUIRE(client_op_id.ok());
    REQUIRE((*store)->AddContentIntent(k.case_id, *client_op_id, op).ok());
    REQUIRE((*store)->PendingIntentCount(k.case_id).value() == 1);
  }
  {
    auto db = sql::Database::Open(k.ex.db_path());
    REQUIRE(db.ok());
    // A store from before schema 7, or one that schema 7 marked.
    LogBackToRows(*db);
    if (GENERATE(true, false)) {
      REQUIRE(db->Exec("ALTER TABLE cases DROP COLUMN removal_unsettled; "
                       "PRAGMA user_version = 6;")
                  .ok());
    } else {
      REQUIRE(db->Exec("UPDATE cases SET removal_unsettled = 1; PRAGMA user_version = 7;").ok());
    }
  }
  k.ex.Reopen();
  Events events(k.ex);
  // The edit is rejected, once, with the reason; the removal is not told a second time.
  auto rejected_once = [&events] {
    const auto rejected = events.Rejected();
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].count == 1);
    CHECK(rejected[0].reason == refusal::kNotAMember);
    CHECK(events.Removed() == 0);
    CHECK(events.Alarms() == 0);
  };

  SECTION("settled by the next sync") {
    REQUIRE(k.ex->SyncNow().ok());
    rejected_once();
    CHECK(k.ex->PendingIntents(k.case_id) == 0);
    v1::CaseState view = *k.ex->ConfirmedView(k.case_id);
    CHECK(view.removed());
    CHECK(view.seq() == removal);
    REQUIRE(k.ex->SyncNow().ok());
    CHECK(events.Rejected().size() == 1);
    CHECK(events.Removed() == 0);
  }
  SECTION("settled by accepting a new invite") {
    const client::Invitation invite = InviteBack(k);
    REQUIRE(k.ex->AcceptInvite(invite.link).ok());
    rejected_once();
    CHECK(k.ex->PendingIntents(k.case_id) == 1);  // the acceptance
    CHECK(k.ex->ConfirmedView(k.case_id)->pending_approval());
  }
}
