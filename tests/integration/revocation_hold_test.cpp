// After a device is revoked, kringd holds content in every case its account is in until a Rekey
// names the device, and any member's device makes that Rekey on its own: nothing written after
// the revocation opens with the revoked device's keys, even while the revoking device stays
// offline. Against a real kringd.
#include <map>
#include <mutex>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"

#include "crypto/identity.h"
#include "store/local_store.h"
#include "support/client_fixture.h"
#include "support/device_keys.h"
#include "sync/sync_engine.h"

using namespace kring;
using namespace kring::test;

namespace {

v1::OpHeader HeaderOf(const v1::Envelope& env) {
  v1::OpHeader h;
  REQUIRE(h.ParseFromString(env.header()));
  return h;
}

// How many Rekeys in `entries` name `device`, per scope.
std::map<uint32_t, int> RekeysNaming(const std::vector<v1::LogEntry>& entries,
                                     const Bytes& device) {
  std::map<uint32_t, int> out;
  for (const auto& e : entries) {
    if (HeaderOf(e.envelope()).kind() != v1::OP_KIND_REKEY) continue;
    v1::ControlBody body;
    REQUIRE(body.ParseFromString(e.envelope().control_body()));
    for (const auto& d : body.rekey().revoked_devices()) {
      if (d == ToString(device)) ++out[body.rekey().scope_id()];
    }
  }
  return out;
}

// Remembers every refused push: what kringd told the device. With `strip_reasons` the device
// hears the refusal as a kringd older than the reason keys sends it: without its reason.
class RefusalRecorder : public TamperTransport {
 public:
  using TamperTransport::TamperTransport;
  bool strip_reasons = false;
  Result<v1::PushResponse> Push(const v1::PushRequest& r, const std::string& t) override {
    auto resp = TamperTransport::Push(r, t);
    if (!resp.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      refusals_.push_back(resp.status());
      if (strip_reasons) return Status(resp.status().code(), resp.status().message());
    }
    return resp;
  }
  std::vector<Status> refusals() {
    std::lock_guard<std::mutex> lock(mu_);
    return refusals_;
  }

 private:
  std::mutex mu_;
  std::vector<Status> refusals_;
};

// A Rekey of scope 0 at `epoch` for `accounts` with boxes nobody opens, naming `revoked`.
v1::ControlBody GarbageRekey(uint64_t epoch, const std::vector<Bytes>& accounts,
                             const std::vector<Bytes>& revoked) {
  v1::ControlBody body;
  v1::Rekey* rk = body.mutable_rekey();
  rk->set_new_epoch(epoch);
  rk->set_key_commitment(std::string(32, 'k'));
  for (const Bytes& account : accounts) {
    rk->add_recipients(ToString(account));
    v1::KeyBox* box = rk->add_boxes();
    box->set_account_id(ToString(account));
    box->set_user_key_generation(1);
    box->set_sealed_key(std::string(80, 'x'));
  }
  for (const Bytes& d : revoked) rk->add_revoked_devices(ToString(d));
  return body;
}

uint64_t EpochOf(Device& d, const Bytes& case_id, uint32_t scope) {
  auto view = d->ConfirmedView(case_id);
  REQUIRE(view.ok());
  auto it = view->scope_epochs().find(scope);
  return it == view->scope_epochs().end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("after a revocation other members rekey on their own while the revoker is offline",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto recorder = std::make_shared<TamperTransport>(net);
  auto phone_net = std::make_shared<TamperTransport>(net);
  auto other_net = std::make_shared<RefusalRecorder>(net);
  // The other member's device acts on the hold by its reason key, and against an older kringd
  // (no reason keys) by the message.
  const bool older_kringd = GENERATE(false, true);
  other_net->strip_reasons = older_kringd;
  Device chair(recorder), phone(phone_net), other(other_net), away(net);
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER},
                                {other.account_id(), v1::ROLE_MEMBER},
                                {away.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  // A restricted scope of the phone's account, which the other member is not in.
  auto scope = chair->CreateScope(*cid, {phone.account_id()});
  REQUIRE(scope.ok());
  // A case the phone's account is not in.
  auto elsewhere = chair->CreateCase({{other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(elsewhere.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  auto secret = chair->CreateEntity(*cid, "address", *scope);
  REQUIRE(secret.ok());
  auto note = chair->CreateEntity(*elsewhere, "note");
  REQUIRE(note.ok());
  SyncAll({&chair, &phone, &other, &away});
  // A scope of the phone's account with a member who stays away: only the laptop rekeys it.
  auto quiet = phone->CreateScope(*cid, {away.account_id()});
  REQUIRE(quiet.ok());
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &phone, &laptop, &other});
  const Bytes phone_id = DeviceIdOf(phone);
  const std::string phone_token = phone_net->last_token();
  Loot loot = Steal(phone, *cid, {0, *scope, *quiet});
  REQUIRE(loot.epoch_keys.size() == 3);

  // The phone is revoked from the laptop, which is then closed before it syncs.
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  laptop.Close();

  // Everything written from now on, as the chair pulls it.
  std::vector<v1::LogEntry> seen;
  recorder->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (req.case_id() != ToString(*cid)) return;
    for (const auto& e : resp.entries()) seen.push_back(e);
  };
  REQUIRE(chair->SyncNow().ok());

  // kringd takes no content sealed to the old keys, from anyone: the other member's edit is
  // held, its device names the revoked phone in a new key of scope 0 and sends the edit under it.
  REQUIRE(other->SetField(*cid, *plan, "text", Text("NA-INTREKKEN-lid")).ok());
  REQUIRE(other->SyncNow().ok());
  CHECK(other->PendingIntents(*cid) == 0);
  CHECK(EpochOf(other, *cid, 0) == 2);
  auto refusals = other_net->refusals();
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0].code() == StatusCode::kFailedPrecondition);
  CHECK(refusals[0].message().find(protocol::kHeldForRevokedDevice) != std::string::npos);
  CHECK(refusals[0].reason() == refusal::kHeldForRevokedDevice);
  // The chair writes in the phone's restricted scope: its device rekeys that scope itself.
  REQUIRE(chair->SetField(*cid, *secret, "street", Text("NA-INTREKKEN-geheim")).ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->PendingIntents(*cid) == 0);
  CHECK(EpochOf(chair, *cid, 0) == 2);
  CHECK(EpochOf(chair, *cid, *scope) == 2);
  REQUIRE(chair->SetField(*cid, *plan, "chair", Text("NA-INTREKKEN-voorzitter")).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(other->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "text") == "NA-INTREKKEN-lid");
  CHECK(TextOf(*other->ConfirmedView(*cid), *plan, "chair") == "NA-INTREKKEN-voorzitter");

  // The phone cannot make a Rekey itself: it has no session any more.
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  CHECK(net->Push(push, phone_token).status().code() == StatusCode::kUnauthenticated);

  // The laptop comes back: of its queued Rekeys only the one of the quiet scope is still needed
  // (scope 0 and the other scope were rekeyed naming the phone), so no second Rekey of a scope is
  // made; it reads what was written meanwhile.
  REQUIRE(chair->SyncNow().ok());
  CHECK(RekeysNaming(seen, phone_id).count(*quiet) == 0);
  laptop.Reopen();
  REQUIRE(laptop->SyncNow().ok());
  CHECK(laptop->PendingIntents(*cid) == 0);
  CHECK(EpochOf(laptop, *cid, 0) == 2);
  CHECK(EpochOf(laptop, *cid, *scope) == 2);
  CHECK(EpochOf(laptop, *cid, *quiet) == 2);
  CHECK(TextOf(*laptop->ConfirmedView(*cid), *plan, "text") == "NA-INTREKKEN-lid");
  CHECK(TextOf(*laptop->ConfirmedView(*cid), *secret, "street") == "NA-INTREKKEN-geheim");
  auto cut = laptop->ConfirmedView(*cid);
  REQUIRE(cut.ok());
  CHECK(cut->device_cutoffs().count(Hex(phone_id)) == 1);
  REQUIRE(chair->SyncNow().ok());
  auto named = RekeysNaming(seen, phone_id);
  CHECK(named[0] == 1);
  CHECK(named[*scope] == 1);
  CHECK(named[*quiet] == 1);

  // Handed the raw envelopes written after the revocation, the phone's keys open none of them.
  int content_after = 0;
  for (const auto& e : seen) {
    const v1::OpHeader h = HeaderOf(e.envelope());
    if (h.kind() == v1::OP_KIND_REKEY) {
      v1::ControlBody body;
      REQUIRE(body.ParseFromString(e.envelope().control_body()));
      for (const auto& box : body.rekey().boxes()) {
        for (const auto& uk : loot.account.user_keys()) {
          CHECK_FALSE(crypto::SealOpen(client::identity::UserBoxKeyPair(View(uk.seed())),
                                       View(box.sealed_key()))
                          .ok());
        }
      }
    }
    if (h.kind() != v1::OP_KIND_CONTENT) continue;
    ++content_after;
    CHECK(h.epoch() >= 2);
    for (const auto& key : loot.epoch_keys) CHECK_FALSE(Decrypts(key, e.envelope()));
  }
  CHECK(content_after >= 3);

  // The case the phone's account is not in goes on under its first key.
  REQUIRE(other->SetField(*elsewhere, *note, "text", Text("ongemoeid")).ok());
  REQUIRE(other->SyncNow().ok());
  CHECK(other->PendingIntents(*elsewhere) == 0);
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*elsewhere), *note, "text") == "ongemoeid");
  CHECK(EpochOf(chair, *elsewhere, 0) == 1);
  for (Device* d : {&chair, &other, &laptop}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("two members rekeying after a revocation converge on one new key", "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto chair_net = std::make_shared<TamperTransport>(net);
  Device chair(chair_net), phone(net), other(net);
  auto cid = chair->CreateCase(
      {{phone.account_id(), v1::ROLE_MEMBER}, {other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &other});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &laptop, &other});
  const Bytes phone_id = DeviceIdOf(phone);
  phone.Close();
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  laptop.Close();

  // Both edit; the chair's Rekey is about to go out when the other member's lands first.
  REQUIRE(chair->SetField(*cid, *plan, "chair", Text("van de voorzitter")).ok());
  REQUIRE(other->SetField(*cid, *plan, "other", Text("van het lid")).ok());
  bool raced = false;
  chair_net->before_push = [&](v1::PushRequest& req) {
    if (raced) return;
    for (const auto& env : req.envelopes()) {
      if (HeaderOf(env).kind() != v1::OP_KIND_REKEY) continue;
      raced = true;
      REQUIRE(other->SyncNow().ok());
      return;
    }
  };
  REQUIRE(chair->SyncNow().ok());
  CHECK(raced);
  CHECK(chair->PendingIntents(*cid) == 0);
  REQUIRE(other->SyncNow().ok());
  for (Device* d : {&chair, &other}) {
    CHECK(EpochOf(*d, *cid, 0) == 2);
    CHECK(TextOf(*(*d)->ConfirmedView(*cid), *plan, "chair") == "van de voorzitter");
    CHECK(TextOf(*(*d)->ConfirmedView(*cid), *plan, "other") == "van het lid");
    CHECK((*d)->Alarms().empty());
  }
}

TEST_CASE("revoking a device of an account in no case changes nothing for others", "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), other(net), lone(net);
  auto cid = chair->CreateCase({{other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &other});
  Device second(net, Device::Fresh{});
  Link(lone, second);
  REQUIRE(second->RevokeDevice(DeviceIdOf(lone)).ok());
  REQUIRE(second->SyncNow().ok());
  REQUIRE(other->SetField(*cid, *plan, "text", Text("gewoon door")).ok());
  REQUIRE(other->SyncNow().ok());
  CHECK(other->PendingIntents(*cid) == 0);
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "text") == "gewoon door");
  CHECK(EpochOf(chair, *cid, 0) == 1);
}

TEST_CASE("after a leave the chair's rekey still comes first, then the revoked device is named",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto member_net = std::make_shared<TamperTransport>(net);
  Device chair(net), phone(net), member(member_net), leaver(net);
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER},
                                {member.account_id(), v1::ROLE_MEMBER},
                                {leaver.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &member, &leaver});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &laptop, &member, &leaver});
  const Bytes phone_id = DeviceIdOf(phone);
  phone.Close();
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  laptop.Close();
  REQUIRE(leaver->LeaveCase(*cid).ok());
  REQUIRE(leaver->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());

  // A plain member may not make the case's next key after a leave, also not by naming the
  // revoked phone: that stays with the chair or a coordinator.
  const std::string token = member_net->last_token();
  const Bytes member_device = DeviceIdOf(member);
  client::DeviceHead head = HeadOf(member, *cid, member_device);
  Loot loot = Steal(member, *cid, {0});
  member.Reopen();
  v1::ControlBody body;
  v1::Rekey* rk = body.mutable_rekey();
  rk->set_new_epoch(2);
  rk->set_key_commitment(std::string(32, 'k'));
  for (const Bytes& account : {chair.account_id(), phone.account_id(), member.account_id()}) {
    rk->add_recipients(ToString(account));
    v1::KeyBox* box = rk->add_boxes();
    box->set_account_id(ToString(account));
    box->set_user_key_generation(1);
    box->set_sealed_key(std::string(80, 'x'));
  }
  rk->add_revoked_devices(ToString(phone_id));
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = client::SignEnvelope(
      loot.account, ForgedHeader(loot.account, *cid, v1::OP_KIND_REKEY, 2, head), &body, nullptr,
      {});
  CHECK(net->Push(push, token).status().code() == StatusCode::kPermissionDenied);

  // The member's edit waits for the chair's key; then the member's device names the phone.
  REQUIRE(member->SetField(*cid, *plan, "lid", Text("na het vertrek")).ok());
  REQUIRE(member->SyncNow().ok());
  CHECK(member->PendingIntents(*cid) == 1);
  REQUIRE(chair->SyncNow().ok());
  CHECK(EpochOf(chair, *cid, 0) == 2);
  REQUIRE(member->SyncNow().ok());
  CHECK(member->PendingIntents(*cid) == 0);
  CHECK(EpochOf(member, *cid, 0) == 3);
  auto state = member->ConfirmedView(*cid);
  REQUIRE(state.ok());
  CHECK(state->device_cutoffs().count(Hex(phone_id)) == 1);
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "lid") == "na het vertrek");
  for (Device* d : {&chair, &member}) CHECK((*d)->Alarms().empty());
}

TEST_CASE(
    "a restricted scope's rekey after a revocation waits for the case's new key after a leave",
    "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), phone(net), other(net), leaver(net);
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER},
                                {other.account_id(), v1::ROLE_MEMBER},
                                {leaver.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  // A restricted scope of the phone's account, which the other member is not in.
  auto scope = chair->CreateScope(*cid, {phone.account_id()});
  REQUIRE(scope.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &other, &leaver});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &laptop, &other, &leaver});
  const Bytes phone_id = DeviceIdOf(phone);
  phone.Close();
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  laptop.Close();

  // The other member names the phone in scope 0 (it is not in the restricted scope); then
  // someone leaves, so the case waits for the chair's new key.
  REQUIRE(other->SetField(*cid, *plan, "text", Text("na het intrekken")).ok());
  REQUIRE(other->SyncNow().ok());
  CHECK(other->PendingIntents(*cid) == 0);
  CHECK(EpochOf(other, *cid, 0) == 2);
  REQUIRE(leaver->LeaveCase(*cid).ok());
  REQUIRE(leaver->SyncNow().ok());

  // The laptop comes back: only the restricted scope still waits for its Rekey naming the phone,
  // and that Rekey may not come before the case's own: it stays queued, nobody raises an alarm.
  laptop.Reopen();
  CHECK(laptop->SyncNow().ok());
  CHECK(laptop->PendingIntents(*cid) == 1);
  CHECK(EpochOf(laptop, *cid, *scope) == 1);
  CHECK(laptop->Alarms().empty());

  // The chair's key lands; then the laptop names the phone in the restricted scope.
  CHECK(chair->SyncNow().ok());
  CHECK(EpochOf(chair, *cid, 0) == 3);
  CHECK(laptop->SyncNow().ok());
  CHECK(laptop->PendingIntents(*cid) == 0);
  CHECK(EpochOf(laptop, *cid, *scope) == 2);
  CHECK(chair->SyncNow().ok());
  CHECK(other->SyncNow().ok());
  CHECK(EpochOf(chair, *cid, *scope) == 2);
  auto state = chair->ConfirmedView(*cid);
  REQUIRE(state.ok());
  CHECK(state->revocation_rekeys().count(std::to_string(*scope) + ":" + Hex(phone_id)) == 1);
  for (Device* d : {&chair, &other, &laptop}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("edits sealed before a revocation keep their place ahead of its rekey", "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto laptop_net = std::make_shared<RefusalRecorder>(net);
  Device chair(net), phone(net);
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone});
  Device laptop(laptop_net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &laptop});
  const Bytes phone_id = DeviceIdOf(phone);
  phone.Close();

  // The laptop's edit is sealed, but the network drops before it is sent; then the laptop
  // revokes the phone, which queues its Rekey behind the sealed edit.
  REQUIRE(laptop->SetField(*cid, *plan, "text", Text("voor het intrekken")).ok());
  laptop_net->fail_pushes = true;
  CHECK_FALSE(laptop->SyncNow().ok());
  laptop_net->fail_pushes = false;
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  REQUIRE(laptop->SyncNow().ok());
  CHECK(laptop->PendingIntents(*cid) == 0);
  CHECK(EpochOf(laptop, *cid, 0) == 2);
  // kringd never saw the Rekey take a device counter the sealed edit holds.
  for (const Status& s : laptop_net->refusals()) {
    CHECK(s.message().find("does not continue") == std::string::npos);
  }
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "text") == "voor het intrekken");
  for (Device* d : {&chair, &laptop}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("a plain member's rekey naming only a device named before is refused everywhere",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  auto member_net = std::make_shared<TamperTransport>(net);
  Device chair(lie), phone(net), member(member_net);
  auto cid = chair->CreateCase(
      {{phone.account_id(), v1::ROLE_MEMBER}, {member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &phone, &member});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &laptop, &member});
  const Bytes phone_id = DeviceIdOf(phone);
  phone.Close();
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  REQUIRE(laptop->SyncNow().ok());
  SyncAll({&chair, &member});
  REQUIRE(EpochOf(chair, *cid, 0) == 2);

  // The plain member names the phone again, in a new key of the whole case: kringd refuses it.
  const std::string token = member_net->last_token();
  const Bytes member_device = DeviceIdOf(member);
  client::DeviceHead head = HeadOf(member, *cid, member_device);
  Loot loot = Steal(member, *cid, {0});
  const std::vector<Bytes> accounts = {chair.account_id(), phone.account_id(), member.account_id()};
  auto forged = [&](uint64_t seen_seq, const std::string& seen_hash) {
    v1::ControlBody body = GarbageRekey(3, accounts, {phone_id});
    // The phone's account rotated its user key with the revocation: its box goes to the new
    // one, so naming the phone again is the only fault.
    body.mutable_rekey()->mutable_boxes(1)->set_user_key_generation(2);
    return client::SignEnvelope(
        loot.account,
        ForgedHeader(loot.account, *cid, v1::OP_KIND_REKEY, 3, head, seen_seq, seen_hash), &body,
        nullptr, {});
  };
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = forged(0, "");
  auto refused = net->Push(push, token);
  CHECK(refused.status().code() == StatusCode::kPermissionDenied);
  CHECK(refused.status().message().find("named before") != std::string::npos);

  // As if a server had taken it: the chair's device refuses it.
  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() = forged(req.after_seq(), req.after_chain_hash());
    Rechain(req, resp, server_key);
  };
  REQUIRE(laptop->CreateEntity(*cid, "note").ok());
  REQUIRE(laptop->SyncNow().ok());  // gives the chair something to pull
  REQUIRE(chair->SyncNow().ok());
  auto alarms = chair->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(alarms[0].detail == "rekey names only devices named before");
}

TEST_CASE("a rekey without the history back-link is refused where newcomers read history",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  auto chair_net = std::make_shared<TamperTransport>(net);
  Device chair(chair_net), member(lie);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}}, true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &member});

  // The chair's device makes the next key without linking back to the first.
  const std::string token = chair_net->last_token();
  const Bytes chair_device = DeviceIdOf(chair);
  client::DeviceHead head = HeadOf(chair, *cid, chair_device);
  Loot loot = Steal(chair, *cid, {0});
  auto forged = [&](uint64_t seen_seq, const std::string& seen_hash) {
    v1::ControlBody body = GarbageRekey(2, {chair.account_id(), member.account_id()}, {});
    return client::SignEnvelope(
        loot.account,
        ForgedHeader(loot.account, *cid, v1::OP_KIND_REKEY, 2, head, seen_seq, seen_hash), &body,
        nullptr, {});
  };
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = forged(0, "");
  auto refused = net->Push(push, token);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("back-link") != std::string::npos);

  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() = forged(req.after_seq(), req.after_chain_hash());
    Rechain(req, resp, server_key);
  };
  chair.Reopen();
  REQUIRE(chair->CreateEntity(*cid, "note").ok());
  REQUIRE(chair->SyncNow().ok());  // gives the member something to pull
  REQUIRE(member->SyncNow().ok());
  auto alarms = member->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(alarms[0].detail == "rekey without the history back-link");
}

TEST_CASE("an epoch whose box did not open stays unreadable, not opened with a losing own key",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto chair_net = std::make_shared<TamperTransport>(net);
  auto coordinator_net = std::make_shared<TamperTransport>(net);
  Device chair(chair_net), coordinator(coordinator_net), newcomer(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator});

  // The chair's device seals an AddMember with the key of epoch 2, but the network drops.
  REQUIRE(chair->AddMember(*cid, {newcomer.account_id(), v1::ROLE_MEMBER}).ok());
  chair_net->fail_pushes = true;
  CHECK_FALSE(chair->SyncNow().ok());
  chair_net->fail_pushes = false;

  // Meanwhile the coordinator's device makes epoch 2 first, with a box for the chair that does
  // not open (kringd cannot tell), and writes under it.
  const std::string token = coordinator_net->last_token();
  client::DeviceHead head = HeadOf(coordinator, *cid, DeviceIdOf(coordinator));
  Loot loot = Steal(coordinator, *cid, {0});
  const SecretBytes key = crypto::RandomSecret(crypto::kKeyBytes);
  v1::ControlBody body = GarbageRekey(2, {chair.account_id(), coordinator.account_id()}, {});
  body.mutable_rekey()->set_key_commitment(ToString(protocol::EpochKeyCommitment(key, *cid, 0, 2)));
  for (v1::KeyBox& box : *body.mutable_rekey()->mutable_boxes()) {
    if (box.account_id() != ToString(coordinator.account_id())) continue;
    const auto& uk = loot.account.user_keys(loot.account.user_keys_size() - 1);
    box.set_user_key_generation(uk.generation());
    box.set_sealed_key(
        ToString(crypto::Seal(client::identity::UserBoxKeyPair(View(uk.seed())).public_key, key)));
  }
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = client::SignEnvelope(
      loot.account, ForgedHeader(loot.account, *cid, v1::OP_KIND_REKEY, 2, head), &body, nullptr,
      {});
  REQUIRE(net->Push(push, token).ok());
  coordinator.Reopen();
  uint32_t scope = 0;
  SECTION("the content follows the Rekey") {}
  SECTION("a Rekey of another scope that delivers a key comes in between") {
    // The chair's page then holds: the Rekey of epoch 2 whose box does not open, a scope's
    // Rekey whose box does (the ops after it are opened ahead once more, PreOpen), then the
    // content under epoch 2.
    REQUIRE(coordinator->SyncNow().ok());
    REQUIRE(EpochOf(coordinator, *cid, 0) == 2);
    auto created = coordinator->CreateScope(*cid, {chair.account_id()});
    REQUIRE(created.ok());
    scope = *created;
  }
  auto plan = coordinator->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  REQUIRE(coordinator->SyncNow().ok());
  REQUIRE(EpochOf(coordinator, *cid, 0) == 2);

  // The chair's device complains about its box and skips what was written under epoch 2; it
  // does not open it with the key its own losing Rekey stored for that epoch.
  std::vector<std::string> page;  // the chair's first page: kind, scope and epoch of each op
  chair_net->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (!page.empty()) return;
    for (const v1::LogEntry& e : resp.entries()) {
      v1::OpHeader h;
      REQUIRE(h.ParseFromString(e.envelope().header()));
      page.push_back(std::to_string(h.kind()) + "/" + std::to_string(h.scope_id()) + ":" +
                     std::to_string(h.epoch()));
    }
  };
  auto synced = chair->SyncNow();
  INFO((synced.ok() ? std::string() : synced.status().message()));
  auto view = chair->ConfirmedView(*cid);
  REQUIRE(view.ok());
  CHECK(view->unreadable_epochs().count("0:2") == 1);
  CHECK(view->entities().count(Hex(*plan)) == 0);
  const std::string rekey_e = std::to_string(v1::OP_KIND_REKEY) + "/0:2";
  const std::string content_e = std::to_string(v1::OP_KIND_CONTENT) + "/0:2";
  REQUIRE(std::find(page.begin(), page.end(), rekey_e) != page.end());
  REQUIRE(std::find(page.begin(), page.end(), content_e) != page.end());
  if (scope != 0) {
    // In one page and in this order; the scope's key was delivered to the chair.
    const std::string rekey_s = std::to_string(v1::OP_KIND_REKEY) + "/" + std::to_string(scope) +
                                ":" + std::to_string(EpochOf(chair, *cid, scope));
    auto at = [&](const std::string& op) { return std::find(page.begin(), page.end(), op); };
    REQUIRE(at(rekey_s) != page.end());
    CHECK(at(rekey_e) < at(rekey_s));
    CHECK(at(rekey_s) < at(content_e));
    CHECK(view->unreadable_epochs().count(std::to_string(scope) + ":" +
                                          std::to_string(EpochOf(chair, *cid, scope))) == 0);
  }
  bool box_complaint = false;
  for (const auto& alarm : chair->Alarms()) {
    INFO(alarm.detail);
    CHECK(alarm.detail.find("unreadable op") == std::string::npos);
    box_complaint |= alarm.detail.find("epoch key box") != std::string::npos;
  }
  CHECK(box_complaint);
}

namespace {

// A server that, while `account` is set, will not serve that account's chain.
class ChainOutage : public TamperTransport {
 public:
  using TamperTransport::TamperTransport;
  Result<v1::GetChainResponse> GetChain(const v1::GetChainRequest& r,
                                        const std::string& t) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!account_.empty() && r.account_id() == ToString(account_)) {
        return Status(StatusCode::kNotFound, "no such account");
      }
    }
    return TamperTransport::GetChain(r, t);
  }
  void Withhold(const Bytes& account) {
    std::lock_guard<std::mutex> lock(mu_);
    account_ = account;
  }

 private:
  std::mutex mu_;
  Bytes account_;
};

}  // namespace

TEST_CASE("a member's chain that does not load defers the rekey after a revocation, no more",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto other_net = std::make_shared<ChainOutage>(net);
  Device chair(net), phone(net), other(other_net), quiet(net);
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER},
                                {other.account_id(), v1::ROLE_MEMBER},
                                {quiet.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &other, &quiet});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  SyncAll({&chair, &laptop, &other, &quiet});
  const Bytes phone_id = DeviceIdOf(phone);
  phone.Close();
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  laptop.Close();

  // The other member's edit is held; the quiet member's chain does not load, so no new key can
  // be boxed to it this round: the sync still ends normally and the edit waits.
  other_net->Withhold(quiet.account_id());
  REQUIRE(other->SetField(*cid, *plan, "text", Text("wacht op een sleutel")).ok());
  CHECK(other->SyncNow().ok());
  CHECK(other->PendingIntents(*cid) >= 1);
  CHECK(EpochOf(other, *cid, 0) == 1);

  // The chain loads again: the next sync names the phone and sends the edit.
  other_net->Withhold({});
  REQUIRE(other->SyncNow().ok());
  CHECK(other->PendingIntents(*cid) == 0);
  CHECK(EpochOf(other, *cid, 0) == 2);
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "text") == "wacht op een sleutel");
  for (Device* d : {&chair, &other}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("a chair device makes the case's key after a leave before its rekey after a revocation",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), other(net), leaver(net);
  auto cid = chair->CreateCase(
      {{other.account_id(), v1::ROLE_MEMBER}, {leaver.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  // A restricted scope of the chair's account alone with the leaver out of it.
  auto scope = chair->CreateScope(*cid, {chair.account_id()});
  REQUIRE(scope.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &other, &leaver});
  Device laptop(net, Device::Fresh{});
  Link(chair, laptop);
  SyncAll({&chair, &laptop, &other, &leaver});
  const Bytes phone_id = DeviceIdOf(chair);
  chair.Close();
  // The chair's laptop revokes the chair's first device and goes offline; the other member
  // names it in scope 0; someone leaves.
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  laptop.Close();
  REQUIRE(other->SetField(*cid, *plan, "text", Text("na het intrekken")).ok());
  REQUIRE(other->SyncNow().ok());
  CHECK(EpochOf(other, *cid, 0) == 2);
  REQUIRE(leaver->LeaveCase(*cid).ok());
  REQUIRE(leaver->SyncNow().ok());

  // Back online, the laptop makes the case's key after the leave first, then names the revoked
  // device in the restricted scope.
  laptop.Reopen();
  CHECK(laptop->SyncNow().ok());
  CHECK(laptop->PendingIntents(*cid) == 0);
  CHECK(EpochOf(laptop, *cid, 0) == 3);
  CHECK(EpochOf(laptop, *cid, *scope) == 2);
  CHECK(other->SyncNow().ok());
  CHECK(EpochOf(other, *cid, 0) == 3);
  for (Device* d : {&laptop, &other}) CHECK((*d)->Alarms().empty());
}
