// Membership changes: removal with an atomic rekey, adding with the chair's history choice, and
// role rules enforced by kringd and by every client's reducer.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/sqlite.h"
#include "kring/common/user_chain.h"
#include "kring/domain/messages.h"

#include "model/reducer.h"
#include "store/local_store.h"
#include "support/client_fixture.h"
#include "support/device_keys.h"
#include "sync/sync_engine.h"

using namespace kring;
using namespace kring::test;
using google::protobuf::util::MessageDifferencer;

namespace {

// A header as the stolen account's device would write it (a member playing foul).
v1::OpHeader ForgedHeader(const Loot& loot, const Bytes& case_id, v1::OpKind kind, uint64_t epoch,
                          uint64_t counter, const std::string& prev, uint64_t seen_seq = 0,
                          const std::string& seen_hash = {}) {
  v1::OpHeader h;
  h.set_version(1);
  h.set_case_id(ToString(case_id));
  h.set_epoch(epoch);
  h.set_author_account_id(loot.account.account_id());
  h.set_author_device_id(loot.account.device_id());
  h.set_device_counter(counter);
  h.set_prev_device_op_hash(prev);
  h.set_client_op_id(ToString(crypto::RandomBytes(16)));
  h.set_seen_seq(seen_seq);
  h.set_seen_hash(seen_hash);
  h.set_kind(kind);
  return h;
}

const v1::FieldState* Field(const v1::CaseState& s, const Bytes& entity, const std::string& f) {
  auto e = s.entities().find(Hex(entity));
  if (e == s.entities().end()) return nullptr;
  auto it = e->second.fields().find(f);
  return it == e->second.fields().end() ? nullptr : &it->second;
}

// The rejection events a device's listener was given.
struct Rejections {
  std::mutex mu;
  std::vector<client::ChangeEvent> events;

  explicit Rejections(Device& d) {
    d->AddChangeListener([this](const client::ChangeEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (e.kind == client::ChangeEvent::Kind::kIntentRejected) events.push_back(e);
    });
  }
  std::vector<client::ChangeEvent> Taken() {
    std::lock_guard<std::mutex> lock(mu);
    return std::exchange(events, {});
  }
};

}  // namespace

TEST_CASE("a removed member is cut off and cannot read what comes after", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto recorder = std::make_shared<TamperTransport>(net);
  auto flaky = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(recorder), ex(net), offline(flaky);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {ex.account_id(), v1::ROLE_MEMBER},
                                {offline.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  for (Device* d : {&chair, &coordinator, &ex, &offline}) REQUIRE((*d)->SyncNow().ok());
  REQUIRE(ex->ConfirmedView(*cid)->entities().count(Hex(*plan)) == 1);

  // A member edits while offline: the edit is sealed under epoch 1, the push never arrives.
  flaky->fail_pushes = true;
  REQUIRE(offline->SetField(*cid, *plan, "offline", Text("geschreven in de trein")).ok());
  CHECK(offline->SyncNow().status().transient());

  auto notice = chair->RemoveMember(*cid, ex.account_id());
  REQUIRE(notice.ok());
  CHECK(notice->nl.find("niet meer lezen") != std::string::npos);
  REQUIRE(chair->SyncNow().ok());
  const std::string marker = "NA-VERWIJDERING-nieuw-adres";
  REQUIRE(chair->SetField(*cid, *plan, "address", Text(marker)).ok());
  REQUIRE(chair->SyncNow().ok());

  // The removed member's device is refused and learns it is out; its view stops there. The
  // three edits it made before it knew are rejected together, in one event.
  for (int i = 0; i < 3; ++i) REQUIRE(ex->CreateEntity(*cid, "note").ok());
  std::promise<void> removed;
  ex->AddChangeListener([&](const client::ChangeEvent& e) {
    if (e.kind == client::ChangeEvent::Kind::kRemovedFromCase) removed.set_value();
  });
  Rejections rejections(ex);
  v1::CaseState before = *ex->ConfirmedView(*cid);
  REQUIRE(ex->SyncNow().ok());
  CHECK(removed.get_future().wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  {
    const std::vector<client::ChangeEvent> rejected = rejections.Taken();
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].count == 3);
    CHECK(rejected[0].reason == refusal::kNotAMember);
  }
  CHECK(ex->PendingIntents(*cid) == 0);
  CHECK(ex->ConfirmedView(*cid)->removed());
  CHECK(Field(*ex->ConfirmedView(*cid), *plan, "address") == nullptr);
  // Refused at once: queued, it could never go out and would wait for ever.
  auto refused_edit = ex->CreateEntity(*cid, "note");
  CHECK(refused_edit.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused_edit.status().reason() == refusal::kNotAMember);
  CHECK(ex->PendingIntents(*cid) == 0);
  REQUIRE(ex->SyncNow().ok());
  CHECK(ex->Alarms().empty());

  // The others continue; the coordinator records every envelope it pulls.
  std::vector<v1::LogEntry> seen;
  recorder->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const auto& e : resp.entries()) seen.push_back(e);
  };
  REQUIRE(coordinator->SyncNow().ok());
  v1::CaseState coordinator_view = *coordinator->ConfirmedView(*cid);
  REQUIRE(Field(coordinator_view, *plan, "address") != nullptr);
  CHECK(Field(coordinator_view, *plan, "address")->value().text() == marker);
  CHECK(coordinator->ConfirmedView(*cid)->members_size() == 3);
  // Compared at the meeting: the same code on both devices, a new one since the removal.
  auto fingerprint = chair->EpochFingerprint(*cid);
  REQUIRE(fingerprint.ok());
  CHECK(fingerprint->rfind("epoch 2: ", 0) == 0);
  CHECK(fingerprint->size() == std::string("epoch 2: 1234 5678 9012").size());
  CHECK(*coordinator->EpochFingerprint(*cid) == *fingerprint);
  CHECK(*ex->EpochFingerprint(*cid) != *fingerprint);

  // Handed the raw envelopes written after the removal, the removed member cannot open any.
  Loot loot = Steal(ex, *cid);
  REQUIRE(loot.epoch_keys.size() == 1);  // only epoch 1
  int after_removal = 0;
  for (const auto& e : seen) {
    v1::OpHeader h;
    REQUIRE(h.ParseFromString(e.envelope().header()));
    if (h.kind() == v1::OP_KIND_REKEY && h.epoch() >= 2) {
      v1::ControlBody body;
      REQUIRE(body.ParseFromString(e.envelope().control_body()));
      for (const auto& box : body.rekey().boxes()) {
        CHECK(box.account_id() != loot.account.account_id());
      }
    }
    if (h.kind() != v1::OP_KIND_CONTENT || h.epoch() < 2) continue;
    ++after_removal;
    for (const auto& key : loot.epoch_keys) CHECK_FALSE(Decrypts(key, e.envelope()));
  }
  CHECK(after_removal >= 1);

  // The member who was offline comes back: the edit sealed under epoch 1 is refused as stale,
  // sealed again under epoch 2, and arrives.
  flaky->fail_pushes = false;
  REQUIRE(offline->SyncNow().ok());
  CHECK(offline->PendingIntents(*cid) == 0);
  REQUIRE(chair->SyncNow().ok());
  v1::CaseState chair_view = *chair->ConfirmedView(*cid);
  const v1::FieldState* f = Field(chair_view, *plan, "offline");
  REQUIRE(f != nullptr);
  CHECK(f->value().text() == "geschreven in de trein");
  for (Device* d : {&chair, &offline}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("newcomers read history only when the chair chose so", "[membership]") {
  const bool history = GENERATE(false, true);
  TestServer server;
  auto net = ServerTransport(server);
  // The member reads one entry per page, so a change and its Rekey arrive on different pages
  // (kringd extends a page only to the signed end of a run of content ops).
  auto paged = std::make_shared<TamperTransport>(net);
  paged->pull_limit = 1;
  Device chair(net), member(paged), newcomer(net);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}}, history);
  REQUIRE(cid.ok());
  auto old_note = chair->CreateEntity(*cid, "note");
  REQUIRE(old_note.ok());
  REQUIRE(chair->SetField(*cid, *old_note, "text", Text("van voor de nieuwkomer")).ok());
  REQUIRE(chair->SyncNow().ok());
  // A second epoch before the newcomer, so history spans more than one back-link.
  auto other = Device(net);
  REQUIRE(chair->AddMember(*cid, {other.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(chair->SyncNow().ok());
  auto mid_note = chair->CreateEntity(*cid, "note");
  REQUIRE(mid_note.ok());
  REQUIRE(chair->SyncNow().ok());

  CHECK(chair->AddMember(*cid, {chair.account_id(), v1::ROLE_MEMBER}).code() ==
        StatusCode::kPermissionDenied);
  REQUIRE(chair->AddMember(*cid, {newcomer.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(chair->SyncNow().ok());
  auto new_note = chair->CreateEntity(*cid, "note");
  REQUIRE(new_note.ok());
  REQUIRE(chair->SyncNow().ok());

  REQUIRE(newcomer->SyncNow().ok());
  v1::CaseState view = *newcomer->ConfirmedView(*cid);
  CHECK(view.members_size() == 4);
  CHECK(view.entities().count(Hex(*new_note)) == 1);
  CHECK(view.entities().count(Hex(*old_note)) == (history ? 1u : 0u));
  CHECK(view.entities().count(Hex(*mid_note)) == (history ? 1u : 0u));
  CHECK(newcomer->Alarms().empty());
  // The newcomer writes and everyone reads it.
  auto hello = newcomer->CreateEntity(*cid, "note");
  REQUIRE(hello.ok());
  REQUIRE(newcomer->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  CHECK(member->ConfirmedView(*cid)->entities().count(Hex(*hello)) == 1);
  CHECK(member->Alarms().empty());
}

TEST_CASE("role rules hold in the client and on the server", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  auto member_net = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(lie), member(member_net), other(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &coordinator, &member}) REQUIRE((*d)->SyncNow().ok());

  // The library refuses what the role does not allow.
  CHECK(member->RemoveMember(*cid, chair.account_id()).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(member->AddMember(*cid, {other.account_id(), v1::ROLE_MEMBER}).code() ==
        StatusCode::kPermissionDenied);
  CHECK(coordinator->RemoveMember(*cid, chair.account_id()).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(chair->AddMember(*cid, {other.account_id(), v1::ROLE_CHAIR}).code() ==
        StatusCode::kPermissionDenied);

  // A member signs a removal (with a rekey, as the protocol asks) and sends it straight to
  // kringd: refused for the role.
  v1::CaseState before = *coordinator->ConfirmedView(*cid);
  REQUIRE(member->SyncNow().ok());  // signs in, so the recorded token is valid
  const std::string member_token = member_net->last_token();
  Loot loot = Steal(member, *cid);
  auto header = [&](uint64_t counter, const std::string& prev, v1::OpKind kind, uint64_t epoch,
                    uint64_t seen_seq, const std::string& seen_hash) {
    return ForgedHeader(loot, *cid, kind, epoch, counter, prev, seen_seq, seen_hash);
  };
  v1::ControlBody removal;
  removal.mutable_remove_member()->set_account_id(ToString(chair.account_id()));
  v1::ControlBody rekey;
  rekey.mutable_rekey()->set_new_epoch(2);
  rekey.mutable_rekey()->set_key_commitment(std::string(32, 'k'));
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = client::SignEnvelope(
      loot.account, header(1, "", v1::OP_KIND_REMOVE_MEMBER, 1, 0, ""), &removal, nullptr, {});
  *push.add_envelopes() = client::SignEnvelope(
      loot.account,
      header(2, ToString(protocol::EnvelopeHash(push.envelopes(0))), v1::OP_KIND_REKEY, 2, 0, ""),
      &rekey, nullptr, {});
  auto refused = net->Push(push, member_token);
  CHECK(refused.status().code() == StatusCode::kPermissionDenied);

  // As if a server had accepted it anyway: the coordinator's verifier refuses it (TAMPER) and
  // nothing changes.
  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    v1::Envelope env = client::SignEnvelope(
        loot.account,
        header(1, "", v1::OP_KIND_REMOVE_MEMBER, 1, req.after_seq(), req.after_chain_hash()),
        &removal, nullptr, {});
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() = env;
    Rechain(req, resp, server_key);
  };
  REQUIRE(chair->AddMember(*cid, {other.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(chair->SyncNow().ok());  // gives the coordinator something to pull
  REQUIRE(coordinator->SyncNow().ok());
  auto alarms = coordinator->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(alarms[0].detail == "only a chair or coordinator may do this");
  CHECK(MessageDifferencer::Equals(before, *coordinator->ConfirmedView(*cid)));
}

TEST_CASE("kringd refuses a membership change without its rekey", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto chair_net = std::make_shared<TamperTransport>(net);
  Device chair(chair_net), member(net);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(chair->SyncNow().ok());
  const std::string token = chair_net->last_token();
  const uint64_t head = chair->ConfirmedView(*cid)->seq();
  Loot loot = Steal(chair, *cid);
  v1::OpHeader h = ForgedHeader(loot, *cid, v1::OP_KIND_REMOVE_MEMBER, 1, 3, std::string(32, 'p'));
  v1::ControlBody removal;
  removal.mutable_remove_member()->set_account_id(ToString(member.account_id()));
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = client::SignEnvelope(loot.account, h, &removal, nullptr, {});
  auto refused = net->Push(push, token);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("followed by its rekey") != std::string::npos);
  // Nothing was stored: the member still pulls the case at the same head.
  REQUIRE(member->SyncNow().ok());
  CHECK(member->ConfirmedView(*cid)->seq() == head);
  CHECK_FALSE(member->ConfirmedView(*cid)->removed());
}

TEST_CASE("a member's unreadable op is reported but does not stop the case", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto member_net = std::make_shared<TamperTransport>(net);
  Device chair(net), member(member_net);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  const std::string token = member_net->last_token();
  const v1::CaseState seen = *member->ConfirmedView(*cid);
  Loot loot = Steal(member, *cid);
  REQUIRE(loot.epoch_keys.size() == 1);
  // A validly signed, correctly placed op whose ciphertext is garbage under the right key.
  v1::OpHeader h = ForgedHeader(loot, *cid, v1::OP_KIND_CONTENT, 1, 1, "");
  v1::Envelope env;
  env.set_header(h.SerializeAsString());
  Bytes nonce = crypto::RandomBytes(24);
  env.set_nonce(ToString(nonce));
  env.set_key_commitment(ToString(protocol::OpKeyCommitment(loot.epoch_keys[0], nonce)));
  env.set_ciphertext(ToString(crypto::RandomBytes(272)));
  env.set_signature(ToString(
      crypto::Sign(View(loot.account.device_signing_secret_key()), protocol::OpDigest(env))));
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = env;
  REQUIRE(net->Push(push, token).ok());  // kringd cannot tell: it never sees plaintext

  REQUIRE(chair->SyncNow().ok());
  auto alarms = chair->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].detail.find("unreadable op by a member") != std::string::npos);
  // The case goes on: the chair's next edit is accepted and confirmed.
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->PendingIntents(*cid) == 0);
  CHECK(chair->ConfirmedView(*cid)->entities().count(Hex(*note)) == 1);
  CHECK(chair->ConfirmedView(*cid)->seq() == seen.seq() + 2);
}

TEST_CASE("an unreadable op inside a run is reported with its run's signed end", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto member_net = std::make_shared<TamperTransport>(net);
  Device chair(net), member(member_net);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  const std::string token = member_net->last_token();
  Loot loot = Steal(member, *cid);
  REQUIRE(loot.epoch_keys.size() == 1);
  // A run of two garbage ops: only the second carries the signature, for both.
  auto garbage = [&](uint64_t counter, const std::string& prev) {
    v1::Envelope env;
    env.set_header(
        ForgedHeader(loot, *cid, v1::OP_KIND_CONTENT, 1, counter, prev).SerializeAsString());
    Bytes nonce = crypto::RandomBytes(24);
    env.set_nonce(ToString(nonce));
    env.set_key_commitment(ToString(protocol::OpKeyCommitment(loot.epoch_keys[0], nonce)));
    env.set_ciphertext(ToString(crypto::RandomBytes(272)));
    return env;
  };
  v1::Envelope first = garbage(1, "");
  v1::Envelope last = garbage(2, ToString(protocol::EnvelopeHash(first)));
  last.set_signature(ToString(
      crypto::Sign(View(loot.account.device_signing_secret_key()), protocol::OpDigest(last))));
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = first;
  *push.add_envelopes() = last;
  REQUIRE(net->Push(push, token).ok());

  REQUIRE(chair->SyncNow().ok());
  auto alarms = chair->Alarms();
  REQUIRE(!alarms.empty());
  const auto& about_first = *std::min_element(
      alarms.begin(), alarms.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  CHECK(about_first.detail.find("unreadable op by a member") != std::string::npos);
  v1::PullResponse ev;
  REQUIRE(ev.ParseFromArray(about_first.evidence.data(),
                            static_cast<int>(about_first.evidence.size())));
  // The unsigned op and the signed end of its run: a third party can check who wrote it.
  REQUIRE(ev.entries_size() == 2);
  CHECK(ev.entries(0).envelope().signature().empty());
  CHECK(ev.entries(1).envelope().header() == last.header());
  CHECK(crypto::Verify(View(loot.account.device_signing_public_key()),
                       protocol::OpDigest(ev.entries(1).envelope()),
                       View(ev.entries(1).envelope().signature())));
}

TEST_CASE("a member leaves, a chair's device hands out the next key", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto recorder = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(recorder), cousin(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  for (Device* d : {&chair, &coordinator, &cousin}) REQUIRE((*d)->SyncNow().ok());

  auto notice = cousin->LeaveCase(*cid);
  REQUIRE(notice.ok());
  CHECK(notice->nl.find("uit de kring gestapt") != std::string::npos);
  REQUIRE(cousin->SyncNow().ok());
  CHECK(cousin->ConfirmedView(*cid)->removed());
  CHECK(cousin->PendingIntents(*cid) == 0);

  // Until a chair or coordinator device rekeys, kringd accepts no new content; the coordinator
  // is the first to sync, so its device makes the new key; the chair's device then has nothing
  // to do.
  REQUIRE(coordinator->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->ConfirmedView(*cid)->scope_epochs().at(0) == 2);
  CHECK(chair->ConfirmedView(*cid)->members_size() == 2);
  CHECK_FALSE(chair->ConfirmedView(*cid)->rekey_pending());
  REQUIRE(chair->SetField(*cid, *plan, "after", Text("na het vertrek")).ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->PendingIntents(*cid) == 0);

  std::vector<v1::LogEntry> seen;
  recorder->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const auto& e : resp.entries()) seen.push_back(e);
  };
  REQUIRE(coordinator->SyncNow().ok());
  v1::CaseState view = *coordinator->ConfirmedView(*cid);
  REQUIRE(view.entities().at(Hex(*plan)).fields().count("after") == 1);
  // The one who left cannot read it, even with everything it kept.
  Loot loot = Steal(cousin, *cid);
  REQUIRE(loot.epoch_keys.size() == 1);
  int checked = 0;
  for (const auto& e : seen) {
    v1::OpHeader h;
    REQUIRE(h.ParseFromString(e.envelope().header()));
    if (h.kind() != v1::OP_KIND_CONTENT) continue;
    CHECK(h.epoch() == 2);
    CHECK_FALSE(Decrypts(loot.epoch_keys[0], e.envelope()));
    ++checked;
  }
  CHECK(checked == 1);
  for (Device* d : {&chair, &coordinator}) CHECK((*d)->Alarms().empty());

  // The last one who can hand out keys cannot leave.
  CHECK(coordinator->RemoveMember(*cid, chair.account_id()).status().code() ==
        StatusCode::kPermissionDenied);
  REQUIRE(chair->RemoveMember(*cid, coordinator.account_id()).ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->LeaveCase(*cid).status().code() == StatusCode::kPermissionDenied);
}

// The leave is written in one transaction and the chair's Rekey queued in the next: a device
// that stopped between the two (a crash, a killed app) still hands out the key at its next sync,
// although nothing new comes in then.
TEST_CASE("a chair's device that stopped right after taking in a leave still hands out the key",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto wire = std::make_shared<TamperTransport>(net);
  Device chair(wire), cousin(net);
  auto cid = chair->CreateCase({{cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  for (Device* d : {&chair, &cousin}) REQUIRE((*d)->SyncNow().ok());
  REQUIRE(cousin->LeaveCase(*cid).ok());
  REQUIRE(cousin->SyncNow().ok());

  // The chair takes in the leave; its Rekey does not get out.
  wire->fail_pushes = true;
  (void)chair->SyncNow();
  REQUIRE(chair->ConfirmedView(*cid)->rekey_pending());
  REQUIRE(chair->PendingIntents(*cid) == 1);
  // As the crash left it: the leave stored, the Rekey never queued.
  chair.Close();
  {
    auto db = sql::Database::Open(chair.db_path());
    REQUIRE(db.ok());
    REQUIRE(db->Exec("DELETE FROM intents WHERE control = 1").ok());
  }
  chair.Reopen();
  REQUIRE(chair->PendingIntents(*cid) == 0);

  wire->fail_pushes = false;
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->ConfirmedView(*cid)->scope_epochs().at(0) == 2);
  CHECK_FALSE(chair->ConfirmedView(*cid)->rekey_pending());
  REQUIRE(chair->SetField(*cid, *plan, "after", Text("na het vertrek")).ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->PendingIntents(*cid) == 0);
  CHECK(chair->Alarms().empty());
}

TEST_CASE("a bad key box for one recipient: an alarm and a signed complaint, then a new key",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto foul_net = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(foul_net), victim(net), sister(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {victim.account_id(), v1::ROLE_MEMBER},
                                {sister.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &coordinator, &victim, &sister}) REQUIRE((*d)->SyncNow().ok());
  const std::string token = foul_net->last_token();

  // The coordinator turns foul: a Rekey whose commitment and boxes hold the real new key for
  // everyone except the victim, whose box holds another key. Only the victim can tell.
  Loot loot = Steal(coordinator, *cid);
  SecretBytes key = crypto::RandomSecret(crypto::kKeyBytes);
  SecretBytes other = crypto::RandomSecret(crypto::kKeyBytes);
  v1::ControlBody body;
  v1::Rekey* rk = body.mutable_rekey();
  rk->set_new_epoch(2);
  rk->set_key_commitment(ToString(protocol::EpochKeyCommitment(key, *cid, 0, 2)));
  for (Device* d : {&chair, &coordinator, &victim, &sister}) {
    v1::GetChainRequest req;
    req.set_account_id(ToString(d->account_id()));
    auto links = net->GetChain(req, token);
    REQUIRE(links.ok());
    auto chain = VerifyChain(d->account_id(), {links->links().begin(), links->links().end()});
    REQUIRE(chain.ok());
    rk->add_recipients(ToString(d->account_id()));
    v1::KeyBox* box = rk->add_boxes();
    box->set_account_id(ToString(d->account_id()));
    box->set_user_key_generation(chain->user_key.generation);
    box->set_sealed_key(
        ToString(crypto::Seal(chain->user_key.box_public_key, d == &victim ? other : key)));
  }
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = client::SignEnvelope(
      loot.account, ForgedHeader(loot, *cid, v1::OP_KIND_REKEY, 2, 1, ""), &body, nullptr, {});
  REQUIRE(net->Push(push, token).ok());  // kringd cannot open boxes

  // The others take the new key and write under it.
  REQUIRE(sister->SyncNow().ok());
  auto before = sister->CreateEntity(*cid, "note");
  REQUIRE(before.ok());
  REQUIRE(sister->SyncNow().ok());
  CHECK(sister->Alarms().empty());

  // The victim: one alarm, the case goes on, the unreadable epoch is skipped, a complaint is
  // signed and sent.
  REQUIRE(victim->SyncNow().ok());
  auto alarms = victim->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kKeyMismatch);
  v1::CaseState v = *victim->ConfirmedView(*cid);
  CHECK(v.entities().count(Hex(*before)) == 0);
  CHECK(v.unreadable_epochs().count("0:2") == 1);
  CHECK(victim->PendingIntents(*cid) == 0);  // the complaint went out

  // Everyone sees who complained; the chair's device hands out a new key at once.
  REQUIRE(chair->SyncNow().ok());
  v1::CaseState c = *chair->ConfirmedView(*cid);
  REQUIRE(c.complaints_size() == 1);
  CHECK(c.complaints(0).account_id() == ToString(victim.account_id()));
  CHECK(c.complaints(0).epoch() == 2);
  CHECK(c.scope_epochs().at(0) == 3);
  CHECK(chair->Alarms().empty());

  REQUIRE(sister->SyncNow().ok());
  auto after = sister->CreateEntity(*cid, "note");
  REQUIRE(after.ok());
  REQUIRE(sister->SyncNow().ok());
  REQUIRE(victim->SyncNow().ok());
  v1::CaseState healed = *victim->ConfirmedView(*cid);
  CHECK(healed.entities().count(Hex(*after)) == 1);
  CHECK(healed.scope_epochs().at(0) == 3);
  CHECK(victim->Alarms().size() == 1);  // nothing new
  CHECK(*victim->EpochFingerprint(*cid) == *chair->EpochFingerprint(*cid));
}

TEST_CASE("scope rules hold on the server and in every client", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  auto outsider_net = std::make_shared<TamperTransport>(net);
  Device chair(net), sister(lie), outsider(outsider_net);
  auto cid = chair->CreateCase(
      {{sister.account_id(), v1::ROLE_MEMBER}, {outsider.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {sister.account_id()});
  REQUIRE(scope.ok());
  for (Device* d : {&chair, &sister, &outsider}) REQUIRE((*d)->SyncNow().ok());
  const std::string token = outsider_net->last_token();
  const v1::CaseState before = *sister->ConfirmedView(*cid);
  Loot loot = Steal(outsider, *cid);

  // Straight to kringd: a SetScope that leaves its author out, a change of a scope the author is
  // not in and of a scope the case does not have (each with the Rekey the protocol asks for):
  // refused, with the reason a device gives for the same rule.
  auto set_scope = [&](bool create, uint32_t id, const std::vector<Bytes>& members) {
    v1::ControlBody set;
    set.mutable_set_scope()->set_scope_id(id);
    set.mutable_set_scope()->set_create(create);
    for (const Bytes& m : members) set.mutable_set_scope()->add_members(ToString(m));
    return set;
  };
  v1::ControlBody rekey;
  rekey.mutable_rekey()->set_new_epoch(1);
  rekey.mutable_rekey()->set_key_commitment(std::string(32, 'k'));
  struct Refused {
    bool create;
    uint32_t id;
    std::vector<Bytes> members;
    StatusCode code;
    std::string_view reason;
  };
  for (const auto& [create, id, members, code, reason] : std::vector<Refused>{
           {true, 77, {chair.account_id()}, StatusCode::kPermissionDenied, refusal::kNotInScope},
           {false,
            *scope,
            {outsider.account_id(), sister.account_id()},
            StatusCode::kPermissionDenied,
            refusal::kNotInScope},
           {false, 4242, {outsider.account_id()}, StatusCode::kNotFound, refusal::kScopeUnknown}}) {
    v1::ControlBody set = set_scope(create, id, members);
    rekey.mutable_rekey()->set_scope_id(id);
    v1::PushRequest push;
    push.set_case_id(ToString(*cid));
    *push.add_envelopes() = client::SignEnvelope(
        loot.account, ForgedHeader(loot, *cid, v1::OP_KIND_SET_SCOPE, 1, 1, ""), &set, nullptr, {});
    v1::OpHeader h2 = ForgedHeader(loot, *cid, v1::OP_KIND_REKEY, 1, 2,
                                   ToString(protocol::EnvelopeHash(push.envelopes(0))));
    h2.set_scope_id(id);
    *push.add_envelopes() = client::SignEnvelope(loot.account, h2, &rekey, nullptr, {});
    const Status refused = net->Push(push, token).status();
    CHECK(refused.code() == code);
    CHECK(refused.reason() == reason);
    CHECK(client::model::CheckControlPermission(before, outsider.account_id(), set).reason() ==
          reason);
  }
  // Content sealed to a scope by someone outside it (with a key it should not have): refused.
  v1::OpHeader h = ForgedHeader(loot, *cid, v1::OP_KIND_CONTENT, 1, 1, "");
  h.set_scope_id(*scope);
  v1::Envelope content;
  content.set_header(h.SerializeAsString());
  content.set_nonce(std::string(24, 'n'));
  content.set_key_commitment(std::string(32, 'c'));
  content.set_ciphertext(std::string(272, 'x'));
  content.set_signature(ToString(
      crypto::Sign(View(loot.account.device_signing_secret_key()), protocol::OpDigest(content))));
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = content;
  CHECK(net->Push(push, token).status().code() == StatusCode::kPermissionDenied);

  // As if a server had accepted the change of a scope its author is not in: the sister's
  // verifier refuses it (TAMPER) and nothing changes.
  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    v1::ControlBody set = set_scope(false, *scope, {outsider.account_id(), sister.account_id()});
    v1::Envelope env =
        client::SignEnvelope(loot.account,
                             ForgedHeader(loot, *cid, v1::OP_KIND_SET_SCOPE, 1, 1, "",
                                          req.after_seq(), req.after_chain_hash()),
                             &set, nullptr, {});
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() = env;
    Rechain(req, resp, server_key);
  };
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SyncNow().ok());  // gives the sister something to pull
  REQUIRE(sister->SyncNow().ok());
  auto alarms = sister->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(alarms[0].detail == "only a member of the scope may change it");
  CHECK(MessageDifferencer::Equals(before, *sister->ConfirmedView(*cid)));
}

namespace {

const v1::Member* MemberIn(const v1::CaseState& s, const Bytes& account_id) {
  for (const v1::Member& m : s.members()) {
    if (ToBytes(m.account_id()) == account_id) return &m;
  }
  return nullptr;
}

v1::Role RoleIn(const v1::CaseState& s, const Bytes& account_id) {
  const v1::Member* m = MemberIn(s, account_id);
  return m == nullptr ? v1::ROLE_UNSPECIFIED : m->role();
}

v1::ControlBody SetRoleBody(const Bytes& account_id, v1::Role role) {
  v1::ControlBody body;
  body.mutable_set_role()->set_account_id(ToString(account_id));
  body.mutable_set_role()->set_role(role);
  return body;
}

// `loot`'s first op in the case, a SetRole, sent straight to kringd.
Result<v1::PushResponse> PushForgedSetRole(client::Transport& net, const std::string& token,
                                           const Loot& loot, const Bytes& case_id,
                                           const v1::ControlBody& body) {
  v1::PushRequest push;
  push.set_case_id(ToString(case_id));
  *push.add_envelopes() = client::SignEnvelope(
      loot.account, ForgedHeader(loot, case_id, v1::OP_KIND_SET_ROLE, 1, 1, ""), &body, nullptr,
      {});
  return net.Push(push, token);
}

}  // namespace

TEST_CASE("the chair makes a member coordinator, every device follows and no key changes",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), member(net), observer(net);
  auto cid = chair->CreateCase(
      {{member.account_id(), v1::ROLE_MEMBER}, {observer.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &member, &observer}) REQUIRE((*d)->SyncNow().ok());
  const uint64_t epoch = chair->ConfirmedView(*cid)->scope_epochs().at(0);
  // As a plain member it may not invite.
  CHECK(member->CreateInvite(*cid, v1::ROLE_MEMBER, 3600).status().code() ==
        StatusCode::kPermissionDenied);

  // Offline-first: queued and visible at once on the chair's device, confirmed after the sync.
  REQUIRE(chair->SetRole(*cid, member.account_id(), v1::ROLE_COORDINATOR).ok());
  CHECK(RoleIn(*chair->View(*cid), member.account_id()) == v1::ROLE_COORDINATOR);
  CHECK(RoleIn(*chair->ConfirmedView(*cid), member.account_id()) == v1::ROLE_MEMBER);
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->PendingIntents(*cid) == 0);
  for (Device* d : {&chair, &member, &observer}) {
    REQUIRE((*d)->SyncNow().ok());
    auto view = (*d)->ConfirmedView(*cid);
    REQUIRE(view.ok());
    CHECK(RoleIn(*view, member.account_id()) == v1::ROLE_COORDINATOR);
    CHECK(RoleIn(*view, chair.account_id()) == v1::ROLE_CHAIR);
    // No Rekey: a role decides what someone may do, not what they can read.
    CHECK(view->scope_epochs().at(0) == epoch);
    CHECK((*d)->Alarms().empty());
  }

  // The new coordinator does what a coordinator may: invite.
  auto invite = member->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  REQUIRE(invite.ok());
  REQUIRE(member->SyncNow().ok());
  REQUIRE(observer->SyncNow().ok());
  REQUIRE(observer->ConfirmedView(*cid)->invites_size() == 1);
  CHECK(ToBytes(observer->ConfirmedView(*cid)->invites(0).invite_id()) == invite->invite_id);
  CHECK(observer->Alarms().empty());

  // Once the resident has joined, only the chair changes roles; a coordinator may step back.
  CHECK(member->SetRole(*cid, observer.account_id(), v1::ROLE_COORDINATOR).code() ==
        StatusCode::kPermissionDenied);
  CHECK(member->SetRole(*cid, chair.account_id(), v1::ROLE_MEMBER).code() ==
        StatusCode::kPermissionDenied);
  CHECK(chair->SetRole(*cid, member.account_id(), v1::ROLE_COORDINATOR).code() ==
        StatusCode::kAlreadyExists);  // the same role, as kringd says it
  CHECK(chair->SetRole(*cid, observer.account_id(), v1::ROLE_CHAIR).code() ==
        StatusCode::kInvalidArgument);
  REQUIRE(member->SetRole(*cid, member.account_id(), v1::ROLE_MEMBER).ok());
  REQUIRE(member->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(RoleIn(*chair->ConfirmedView(*cid), member.account_id()) == v1::ROLE_MEMBER);
  CHECK(member->CreateInvite(*cid, v1::ROLE_MEMBER, 3600).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(chair->Alarms().empty());
}

TEST_CASE("kringd refuses a role change a member or a coordinator may not make, with its reason",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto member_net = std::make_shared<TamperTransport>(net);
  auto coordinator_net = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(coordinator_net), member(member_net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &coordinator, &member}) REQUIRE((*d)->SyncNow().ok());
  const v1::CaseState before = *chair->ConfirmedView(*cid);

  // The library says no first.
  CHECK(member->SetRole(*cid, member.account_id(), v1::ROLE_COORDINATOR).code() ==
        StatusCode::kPermissionDenied);
  CHECK(member->PendingIntents(*cid) == 0);

  // Signed and sent straight to kringd: refused with the reason an app can explain.
  const std::string member_token = member_net->last_token();
  const std::string coordinator_token = coordinator_net->last_token();
  Loot member_loot = Steal(member, *cid);
  Loot coordinator_loot = Steal(coordinator, *cid);
  auto by_member = PushForgedSetRole(*net, member_token, member_loot, *cid,
                                     SetRoleBody(member.account_id(), v1::ROLE_COORDINATOR));
  CHECK(by_member.status().code() == StatusCode::kPermissionDenied);
  CHECK(by_member.status().reason() == refusal::kManagersOnly);
  auto by_coordinator = PushForgedSetRole(*net, coordinator_token, coordinator_loot, *cid,
                                          SetRoleBody(member.account_id(), v1::ROLE_COORDINATOR));
  CHECK(by_coordinator.status().code() == StatusCode::kPermissionDenied);
  CHECK(by_coordinator.status().reason() == refusal::kChairDecidesRoles);

  // Nothing changed.
  REQUIRE(chair->SyncNow().ok());
  CHECK(MessageDifferencer::Equals(before, *chair->ConfirmedView(*cid)));
}

TEST_CASE("the last one who hands out keys cannot become a plain member", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto coordinator_net = std::make_shared<TamperTransport>(net);
  Device coordinator(coordinator_net), member(net);
  // Before the resident joins: the coordinator is the only one who can hand out keys.
  auto cid = coordinator->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(coordinator->SyncNow().ok());
  CHECK(coordinator->SetRole(*cid, coordinator.account_id(), v1::ROLE_MEMBER).code() ==
        StatusCode::kPermissionDenied);
  CHECK(coordinator->PendingIntents(*cid) == 0);

  // Straight to kringd: refused with its reason, and nothing is stored.
  const std::string token = coordinator_net->last_token();
  const uint64_t head = coordinator->ConfirmedView(*cid)->seq();
  const Bytes device_id = coordinator->Account()->device_id;
  client::DeviceHead mine = HeadOf(coordinator, *cid, device_id);
  Loot loot = Steal(coordinator, *cid);
  const v1::ControlBody body = SetRoleBody(coordinator.account_id(), v1::ROLE_MEMBER);
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = client::SignEnvelope(
      loot.account, ForgedHeader(loot.account, *cid, v1::OP_KIND_SET_ROLE, 1, mine), &body, nullptr,
      {});
  auto refused = net->Push(push, token);
  CHECK(refused.status().code() == StatusCode::kPermissionDenied);
  CHECK(refused.status().reason() == refusal::kKeyHolderMustRemain);
  REQUIRE(member->SyncNow().ok());
  CHECK(member->ConfirmedView(*cid)->seq() == head);
  CHECK(RoleIn(*member->ConfirmedView(*cid), coordinator.account_id()) == v1::ROLE_COORDINATOR);
}

TEST_CASE("a server that takes a forbidden role change raises TAMPER and nothing changes",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(net), member(net), reader(lie);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {member.account_id(), v1::ROLE_MEMBER},
                                {reader.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &coordinator, &member, &reader}) REQUIRE((*d)->SyncNow().ok());
  const v1::CaseState before = *reader->ConfirmedView(*cid);

  // What kringd would refuse, signed by a real member's device: a member making itself
  // coordinator, or a coordinator changing a role although the resident has joined.
  Device* author = nullptr;
  v1::ControlBody body;
  std::string detail;
  SECTION("a plain member") {
    author = &member;
    body = SetRoleBody(member.account_id(), v1::ROLE_COORDINATOR);
    detail = "only a chair or coordinator may do this";
  }
  SECTION("a coordinator once the chair joined") {
    author = &coordinator;
    body = SetRoleBody(member.account_id(), v1::ROLE_COORDINATOR);
    detail = "the chair decides who has which role";
  }
  SECTION("anyone making the chair a member") {
    author = &coordinator;
    body = SetRoleBody(chair.account_id(), v1::ROLE_MEMBER);
    detail = "the chair's role does not change";
  }
  Loot loot = Steal(*author, *cid);
  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    v1::Envelope env = client::SignEnvelope(loot.account,
                                            ForgedHeader(loot, *cid, v1::OP_KIND_SET_ROLE, 1, 1, "",
                                                         req.after_seq(), req.after_chain_hash()),
                                            &body, nullptr, {});
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() = env;
    Rechain(req, resp, server_key);
  };
  REQUIRE(chair->CreateInvite(*cid, v1::ROLE_MEMBER, 3600).ok());
  REQUIRE(chair->SyncNow().ok());  // gives the reader something to pull
  REQUIRE(reader->SyncNow().ok());
  auto alarms = reader->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(alarms[0].detail == detail);
  CHECK(MessageDifferencer::Equals(before, *reader->ConfirmedView(*cid)));
}

TEST_CASE("a role change refused on the device carries kringd's reason, queued or not",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), member(net), other(net);
  auto cid = chair->CreateCase(
      {{member.account_id(), v1::ROLE_MEMBER}, {other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &member, &other}) REQUIRE((*d)->SyncNow().ok());

  // A role nobody can be given is the caller's input: INVALID_ARGUMENT, as from kringd.
  for (v1::Role role : {v1::ROLE_CHAIR, v1::ROLE_UNSPECIFIED}) {
    const Status s = chair->SetRole(*cid, member.account_id(), role);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.reason() == refusal::kRoleNotAssignable);
  }
  const Status by_member = member->SetRole(*cid, other.account_id(), v1::ROLE_COORDINATOR);
  CHECK(by_member.code() == StatusCode::kPermissionDenied);
  CHECK(by_member.reason() == refusal::kManagersOnly);
  CHECK(domain::UserText(by_member) == "Dit mag alleen de hoofdpersoon of de gespreksleider.");
  CHECK(chair->PendingIntents(*cid) == 0);
  CHECK(member->PendingIntents(*cid) == 0);

  // Queued while the chair's device has not yet heard that the member left: refused when it is
  // sealed, and the event has the reason key, so the app shows a sentence in the person's language.
  REQUIRE(chair->SetRole(*cid, member.account_id(), v1::ROLE_COORDINATOR).ok());
  REQUIRE(member->LeaveCase(*cid).ok());
  REQUIRE(member->SyncNow().ok());
  Rejections rejections(chair);
  REQUIRE(chair->SyncNow().ok());
  const std::vector<client::ChangeEvent> rejected = rejections.Taken();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == refusal::kTargetNotMember);
  const Status as_event(StatusCode::kAborted, rejected[0].detail, rejected[0].reason);
  CHECK(domain::UserText(as_event) == "Deze persoon is geen lid van de casus.");
  CHECK(domain::UserText(as_event, domain::Language::kEnglish) ==
        "This person is not a member of the case.");
  CHECK(chair->PendingIntents(*cid) == 0);
}

TEST_CASE("a membership change refused on the device carries kringd's reason, queued or not",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device coordinator(net), second(net), member(net), newcomer(net);
  // Before the resident joins two coordinators manage the case; each may change the other's role.
  auto cid = coordinator->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                      {second.account_id(), v1::ROLE_COORDINATOR},
                                      {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&coordinator, &second, &member}) REQUIRE((*d)->SyncNow().ok());

  // Refused before it is queued: the status has kringd's reason, so the app explains it.
  const Status by_member = member->AddMember(*cid, {newcomer.account_id(), v1::ROLE_MEMBER});
  CHECK(by_member.code() == StatusCode::kPermissionDenied);
  CHECK(by_member.reason() == refusal::kManagersOnly);
  CHECK(domain::UserText(by_member) == "Dit mag alleen de hoofdpersoon of de gespreksleider.");
  const Status twice = coordinator->AddMember(*cid, {member.account_id(), v1::ROLE_MEMBER});
  CHECK(twice.code() == StatusCode::kPermissionDenied);
  CHECK(twice.reason() == refusal::kAlreadyMember);
  CHECK(member->PendingIntents(*cid) == 0);
  CHECK(coordinator->PendingIntents(*cid) == 0);

  // Queued offline while allowed; the other coordinator makes them a plain member meanwhile.
  REQUIRE(coordinator->AddMember(*cid, {newcomer.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(coordinator->PendingIntents(*cid) == 1);
  REQUIRE(second->SetRole(*cid, coordinator.account_id(), v1::ROLE_MEMBER).ok());
  REQUIRE(second->SyncNow().ok());
  const uint64_t head = second->ConfirmedView(*cid)->seq();

  // At the next sync the change is refused when it is sealed: the rejection event has the reason
  // key and its Dutch text, and nothing reaches kringd.
  Rejections rejections(coordinator);
  REQUIRE(coordinator->SyncNow().ok());
  {
    const std::vector<client::ChangeEvent> rejected = rejections.Taken();
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].reason == refusal::kManagersOnly);
    const Status as_event(StatusCode::kAborted, rejected[0].detail, rejected[0].reason);
    CHECK(domain::UserText(as_event) == "Dit mag alleen de hoofdpersoon of de gespreksleider.");
    CHECK(domain::UserText(as_event, domain::Language::kEnglish) ==
          "Only the resident or the coordinator may do this.");
  }
  CHECK(coordinator->PendingIntents(*cid) == 0);
  REQUIRE(second->SyncNow().ok());
  CHECK(second->ConfirmedView(*cid)->seq() == head);
  CHECK(MemberIn(*second->ConfirmedView(*cid), newcomer.account_id()) == nullptr);
  for (Device* d : {&coordinator, &second}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("the library's own refusals outside the rule check carry kringd's reason keys",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), member(net), newcomer(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {coordinator.account_id()});
  REQUIRE(scope.ok());
  for (Device* d : {&chair, &coordinator, &member}) REQUIRE((*d)->SyncNow().ok());

  // Creating a case in which one is a plain member oneself.
  const Status as_member = member->CreateCase({{member.account_id(), v1::ROLE_MEMBER}}).status();
  CHECK(as_member.code() == StatusCode::kPermissionDenied);
  CHECK(as_member.reason() == refusal::kManagersOnly);

  // Accepting an invite while already in the case, or a second time while waiting.
  auto invite = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  REQUIRE(invite.ok());
  REQUIRE(chair->SyncNow().ok());
  const Status joined = member->AcceptInvite(invite->link).status();
  CHECK(joined.code() == StatusCode::kAlreadyExists);
  CHECK(joined.reason() == refusal::kAlreadyJoined);
  CHECK(domain::HasUserText(refusal::TextKey(joined.reason())));
  REQUIRE(newcomer->AcceptInvite(invite->link).ok());
  const Status again = newcomer->AcceptInvite(invite->link).status();
  CHECK(again.code() == StatusCode::kAlreadyExists);
  CHECK(again.reason() == refusal::kAlreadyWaiting);

  // Approving someone who does not wait for approval.
  const Status approve = chair->ApproveMember(*cid, member.account_id());
  CHECK(approve.code() == StatusCode::kNotFound);
  CHECK(approve.reason() == refusal::kNotWaiting);

  // An edit to a scope the case does not have, or to one the author is not in.
  const Status unknown = member->CreateEntity(*cid, "note", 4242).status();
  CHECK(unknown.code() == StatusCode::kFailedPrecondition);  // as kringd answers such content
  CHECK(unknown.reason() == refusal::kScopeUnknown);
  const Status outside = member->CreateEntity(*cid, "note", *scope).status();
  CHECK(outside.code() == StatusCode::kPermissionDenied);
  CHECK(outside.reason() == refusal::kNotInScope);
  CHECK(member->PendingIntents(*cid) == 0);
}

TEST_CASE("leaving a closed case is refused with CASE_CLOSED and blocks nothing queued after it",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), member(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  for (Device* d : {&chair, &coordinator, &member}) REQUIRE((*d)->SyncNow().ok());

  // Offline, before the member's device has heard that the chair closed the case: the leave and
  // an edit after it are queued.
  REQUIRE(chair->CloseCase(*cid, 30).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->LeaveCase(*cid).ok());
  REQUIRE(member->SetField(*cid, *note, "text", Text("na het sluiten")).ok());
  REQUIRE(member->PendingIntents(*cid) == 2);
  const uint64_t head = chair->ConfirmedView(*cid)->seq();

  // At the next sync both are refused on the device with kringd's reason, visibly, in one event
  // for the case, and nothing stays in the queue (before, kringd's FAILED_PRECONDITION made the
  // device pull and reseal the leave for ever).
  Rejections rejections(member);
  REQUIRE(member->SyncNow().ok());
  {
    const std::vector<client::ChangeEvent> rejected = rejections.Taken();
    REQUIRE(rejected.size() == 1);
    const client::ChangeEvent& e = rejected[0];
    CHECK(e.reason == refusal::kCaseClosed);
    CHECK(e.count == 2);
    CHECK(e.case_id == *cid);
    const Status as_event(StatusCode::kAborted, e.detail, e.reason);
    CHECK(domain::UserText(as_event) == "Deze casus is gesloten. Je kunt hem alleen nog lezen.");
  }
  CHECK(member->PendingIntents(*cid) == 0);
  CHECK(member->ConfirmedView(*cid)->closed());
  CHECK_FALSE(member->ConfirmedView(*cid)->removed());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->ConfirmedView(*cid)->seq() == head);
  CHECK(MemberIn(*chair->ConfirmedView(*cid), member.account_id()) != nullptr);

  // Once the device knows, it refuses up front as kringd would: leaving and editing alike.
  for (const Status& s : {member->LeaveCase(*cid).status(),
                          member->SetField(*cid, *note, "text", Text("nog een keer"))}) {
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK(s.reason() == refusal::kCaseClosed);
  }
  REQUIRE(coordinator->SyncNow().ok());
  CHECK(coordinator->LeaveCase(*cid).status().reason() == refusal::kCaseClosed);
  CHECK(member->PendingIntents(*cid) == 0);

  // The chair's erasure is not held up by anything: the case is gone on every device.
  REQUIRE(chair->EraseCase(*cid).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  REQUIRE(coordinator->SyncNow().ok());
  CHECK(member->PendingIntents(*cid) == 0);
  for (Device* d : {&chair, &coordinator, &member}) {
    CHECK((*d)->Alarms().empty());
    CHECK_FALSE((*d)->ConfirmedView(*cid).ok());
  }
}

TEST_CASE("a closed case rejects all of a device's queued edits in one sync, with one event",
          "[membership]") {
  // More edits than one push carries and than push rounds in one sync: before, each round
  // rejected one edit with an event of its own, and the rest waited for later syncs.
  constexpr int kEdits = 2 * static_cast<int>(protocol::kMaxPushEnvelopes) + 10;
  TestServer server;
  auto net = ServerTransport(server);
  auto member_wire = std::make_shared<TamperTransport>(net);
  Device chair(net), member(member_wire);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  Rejections rejections(member);
  auto queue_edits = [&](const std::string& text) {
    for (int i = 0; i < kEdits; ++i) {
      REQUIRE(member->SetField(*cid, *note, "text", Text(text + std::to_string(i))).ok());
    }
    REQUIRE(member->PendingIntents(*cid) == static_cast<size_t>(kEdits));
  };
  auto check_one_event = [&] {
    const std::vector<client::ChangeEvent> events = rejections.Taken();
    REQUIRE(events.size() == 1);
    CHECK(events[0].case_id == *cid);
    CHECK(events[0].reason == refusal::kCaseClosed);
    CHECK(events[0].count == static_cast<size_t>(kEdits));
    const Status as_event(StatusCode::kAborted, events[0].detail, events[0].reason);
    CHECK(domain::UserText(as_event, domain::Language::kEnglish) ==
          "This case is closed. You can only read it.");
    CHECK(member->PendingIntents(*cid) == 0);
  };

  SECTION("the close is in the log the device pulls") {
    queue_edits("offline ");
    REQUIRE(chair->CloseCase(*cid, 30).ok());
    REQUIRE(chair->SyncNow().ok());
    const uint64_t head = chair->ConfirmedView(*cid)->seq();
    auto synced = member->SyncNow();
    REQUIRE(synced.ok());
    CHECK(synced->pushed == 0);
    check_one_event();
    CHECK(member->ConfirmedView(*cid)->closed());
    REQUIRE(chair->SyncNow().ok());
    CHECK(chair->ConfirmedView(*cid)->seq() == head);  // nothing reached kringd's log
  }
  SECTION("kringd answers CASE_CLOSED to the push") {
    // The chair closes the case between the member's pull and push: the device sealed its edits
    // against a case it still saw open, and kringd refuses them.
    queue_edits("net voor het sluiten ");
    std::atomic<bool> closed{false};
    std::atomic<bool> close_ok{false};
    member_wire->before_push = [&](v1::PushRequest&) {  // on this thread: SyncNow runs here
      if (closed.exchange(true)) return;
      close_ok = chair->CloseCase(*cid, 30).ok() && chair->SyncNow().ok();
    };
    REQUIRE(member->SyncNow().ok());
    REQUIRE(close_ok);
    check_one_event();
    member_wire->before_push = nullptr;
    auto again = member->SyncNow();
    REQUIRE(again.ok());
    CHECK(again->pushed == 0);
    CHECK(rejections.Taken().empty());
    CHECK(member->ConfirmedView(*cid)->closed());
  }
  // Once the device knows, a new edit is refused at once with kringd's code and reason, not
  // queued.
  const Status refused = member->SetField(*cid, *note, "text", Text("later"));
  CHECK(refused.code() == StatusCode::kFailedPrecondition);
  CHECK(refused.reason() == refusal::kCaseClosed);
  CHECK(domain::UserText(refused) == "Deze casus is gesloten. Je kunt hem alleen nog lezen.");
  CHECK(member->PendingIntents(*cid) == 0);
  CHECK(member->Alarms().empty());
  // The chair's erasure still goes through.
  REQUIRE(chair->EraseCase(*cid).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  CHECK_FALSE(member->ConfirmedView(*cid).ok());
}

TEST_CASE("edits made after one's own close wait for kringd to take the close", "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);

  SECTION("kringd takes the close: the edits are rejected in the same sync, with one event") {
    Device chair(net), member(net);
    auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(cid.ok());
    auto note = chair->CreateEntity(*cid, "note");
    REQUIRE(note.ok());
    REQUIRE(chair->SetField(*cid, *note, "text", Text("voor het sluiten")).ok());
    REQUIRE(chair->SyncNow().ok());
    Rejections rejections(chair);
    // Offline, the chair closes the case and then edits the note three times.
    REQUIRE(chair->CloseCase(*cid, 30).ok());
    for (const char* text : {"een", "twee", "drie"}) {
      REQUIRE(chair->SetField(*cid, *note, "text", Text(text)).ok());
    }
    REQUIRE(chair->PendingIntents(*cid) == 4);
    REQUIRE(chair->SyncNow().ok());
    const std::vector<client::ChangeEvent> events = rejections.Taken();
    REQUIRE(events.size() == 1);
    CHECK(events[0].case_id == *cid);
    CHECK(events[0].reason == refusal::kCaseClosed);
    CHECK(events[0].count == 3);
    CHECK(chair->PendingIntents(*cid) == 0);
    CHECK(chair->ConfirmedView(*cid)->closed());
    REQUIRE(member->SyncNow().ok());
    auto seen = member->ConfirmedView(*cid);
    REQUIRE(seen.ok());
    CHECK(seen->closed());
    CHECK(TextOf(*seen, *note, "text") == "voor het sluiten");  // none of the edits landed
  }
  SECTION("kringd refuses the close: the case stays open and the edits go through") {
    // The coordinator closes the case offline and edits on; the chair makes them a member before
    // the close reaches kringd, so the close is refused (before, the edits were gone by then).
    auto wire = std::make_shared<TamperTransport>(net);
    Device chair(net), coordinator(wire);
    auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
    REQUIRE(cid.ok());
    auto note = chair->CreateEntity(*cid, "note");
    REQUIRE(note.ok());
    REQUIRE(chair->SyncNow().ok());
    REQUIRE(coordinator->SyncNow().ok());
    Rejections rejections(coordinator);
    REQUIRE(coordinator->CloseCase(*cid, 30).ok());
    for (const char* text : {"een", "twee", "drie"}) {
      REQUIRE(coordinator->SetField(*cid, *note, "text", Text(text)).ok());
    }
    REQUIRE(coordinator->PendingIntents(*cid) == 4);
    std::atomic<bool> demoted{false};
    std::atomic<bool> demote_ok{false};
    wire->before_push = [&](v1::PushRequest&) {  // on this thread: SyncNow runs here
      if (demoted.exchange(true)) return;
      demote_ok = chair->SetRole(*cid, coordinator.account_id(), v1::ROLE_MEMBER).ok() &&
                  chair->SyncNow().ok();
    };
    REQUIRE(coordinator->SyncNow().ok());
    REQUIRE(demote_ok);
    wire->before_push = nullptr;
    const std::vector<client::ChangeEvent> events = rejections.Taken();
    REQUIRE(events.size() == 1);  // the close only
    CHECK(events[0].reason == refusal::kManagersOnly);
    CHECK(events[0].count == 1);
    CHECK(coordinator->PendingIntents(*cid) == 0);
    CHECK_FALSE(coordinator->ConfirmedView(*cid)->closed());
    REQUIRE(chair->SyncNow().ok());
    auto seen = chair->ConfirmedView(*cid);
    REQUIRE(seen.ok());
    CHECK_FALSE(seen->closed());
    CHECK(TextOf(*seen, *note, "text") == "drie");
  }
}

TEST_CASE("a close queued on a device is dropped quietly when someone else closed the case first",
          "[membership]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(coordinator->SyncNow().ok());
  Rejections rejections(coordinator);
  // Offline, the coordinator closes the case and edits the note once; the chair closes it first.
  REQUIRE(coordinator->CloseCase(*cid, protocol::kMinRetentionDaysWithoutChair).ok());
  REQUIRE(coordinator->SetField(*cid, *note, "text", Text("na het sluiten")).ok());
  REQUIRE(chair->CloseCase(*cid, 30).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(coordinator->SyncNow().ok());
  // What the coordinator wanted happened: only the edit is told, as one change.
  const std::vector<client::ChangeEvent> events = rejections.Taken();
  REQUIRE(events.size() == 1);
  CHECK(events[0].reason == refusal::kCaseClosed);
  CHECK(events[0].count == 1);
  CHECK(coordinator->PendingIntents(*cid) == 0);
  CHECK(coordinator->ConfirmedView(*cid)->closed());
  CHECK(coordinator->ConfirmedView(*cid)->retention_days() == 30);  // the chair's close
}
