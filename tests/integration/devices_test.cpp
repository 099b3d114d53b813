// Devices of an account: linking a second device, revoking a lost one (user key rotation, new keys
// in every case, sessions ended) and restoring an account from the recovery key, against a real
// kringd.
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "crypto/identity.h"
#include "store/local_store.h"
#include "support/client_fixture.h"
#include "support/device_keys.h"
#include "sync/sync_engine.h"

using namespace kring;
using namespace kring::test;
using google::protobuf::util::MessageDifferencer;

TEST_CASE("a second device sees every case, including its account's restricted scopes",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), sister(net), ex(net);
  auto family = chair->CreateCase(
      {{sister.account_id(), v1::ROLE_MEMBER}, {ex.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(family.ok());
  auto hidden = chair->CreateScope(*family, {sister.account_id()});  // everyone except the ex
  REQUIRE(hidden.ok());
  auto other = chair->CreateCase({{sister.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(other.ok());
  SyncAll({&chair, &sister, &ex});
  auto plan = sister->CreateEntity(*family, "plan");
  REQUIRE(plan.ok());
  REQUIRE(sister->SetField(*family, *plan, "text", Text("voor iedereen")).ok());
  auto address = chair->CreateEntity(*family, "address", *hidden);
  REQUIRE(address.ok());
  REQUIRE(chair->SetField(*family, *address, "street", Text("Nieuwe straat 1")).ok());
  auto note = chair->CreateEntity(*other, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SetField(*other, *note, "text", Text("tweede kring")).ok());
  SyncAll({&chair, &sister});

  Device laptop(net, Device::Fresh{});
  auto request = laptop->RequestDeviceLink();
  REQUIRE(request.ok());
  CHECK(request->payload.rfind("kring://device-link/1/", 0) == 0);
  CHECK(request->code.size() == 9);
  // Asking again shows the same (the keys wait in the store until linked).
  CHECK(laptop->RequestDeviceLink()->payload == request->payload);

  SECTION("a payload changed on the way is refused, and nothing changes") {
    std::string tampered = request->payload;
    tampered[30] = tampered[30] == 'a' ? 'b' : 'a';
    auto refused = sister->ApproveDeviceLink(tampered, request->code);
    CHECK(refused.status().code() == StatusCode::kPermissionDenied);
    CHECK(refused.status().message().find("confirmation code does not match") != std::string::npos);
    CHECK(sister->ApproveDeviceLink(request->payload, "0000 0000").status().code() ==
          StatusCode::kPermissionDenied);
    CHECK(sister->ApproveDeviceLink("kring://device-link/1/zz", request->code).status().code() ==
          StatusCode::kInvalidArgument);
    // A changed approval: the server refuses the link and the laptop stays without account.
    auto approval = sister->ApproveDeviceLink(request->payload, request->code);
    REQUIRE(approval.ok());
    std::string bad = *approval;
    bad.back() = bad.back() == '0' ? '1' : '0';
    auto finished = laptop->FinishDeviceLink(bad);
    CHECK(finished.status().code() == StatusCode::kInvalidArgument);
    CHECK(laptop->Account().status().code() == StatusCode::kFailedPrecondition);
    CHECK(laptop->FinishDeviceLink("kring://device-approve/1/nonsense").status().code() ==
          StatusCode::kInvalidArgument);
    // The real one still works afterwards.
    REQUIRE(laptop->FinishDeviceLink(*approval).ok());
    laptop.set_account_id(sister.account_id());
  }
  SECTION("linked") {
    auto approval = sister->ApproveDeviceLink(request->payload, request->code);
    REQUIRE(approval.ok());
    auto info = laptop->FinishDeviceLink(*approval);
    REQUIRE(info.ok());
    CHECK(info->account_id == sister.account_id());
    CHECK(info->safety_number == sister->Account()->safety_number);
    laptop.set_account_id(info->account_id);
    // Approving twice is refused: the device is in the chain now.
    CHECK(sister->ApproveDeviceLink(request->payload, request->code).status().code() ==
          StatusCode::kAlreadyExists);
  }

  REQUIRE(laptop->SyncNow().ok());
  CHECK(laptop->Cases().size() == 2);
  auto seen = laptop->ConfirmedView(*family);
  REQUIRE(seen.ok());
  CHECK(TextOf(*seen, *plan, "text") == "voor iedereen");
  CHECK(TextOf(*seen, *address, "street") == "Nieuwe straat 1");
  CHECK(TextOf(*laptop->ConfirmedView(*other), *note, "text") == "tweede kring");
  auto devices = sister->Devices();
  REQUIRE(devices.ok());
  REQUIRE(devices->size() == 2);
  CHECK((*devices)[0].this_device);
  CHECK_FALSE((*devices)[1].this_device);
  CHECK((*devices)[1].device_id == DeviceIdOf(laptop));

  // The laptop writes as the sister; everyone verifies the new device through her chain.
  REQUIRE(laptop->SetField(*family, *address, "street", Text("vanaf de laptop")).ok());
  REQUIRE(laptop->SyncNow().ok());
  SyncAll({&chair, &sister, &ex});
  CHECK(TextOf(*chair->ConfirmedView(*family), *address, "street") == "vanaf de laptop");
  CHECK(TextOf(*sister->ConfirmedView(*family), *address, "street") == "vanaf de laptop");
  CHECK(TextOf(*ex->ConfirmedView(*family), *address, "street").empty());
  for (Device* d : {&chair, &sister, &ex, &laptop}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("a revoked device is cut off and cannot read what comes after", "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto recorder = std::make_shared<TamperTransport>(net);
  Device chair(recorder), phone(net), other(net);
  auto cid = chair->CreateCase(
      {{phone.account_id(), v1::ROLE_MEMBER}, {other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {phone.account_id()});
  REQUIRE(scope.ok());
  SyncAll({&chair, &phone, &other});
  Device laptop(net, Device::Fresh{}), desk(net, Device::Fresh{});
  Link(phone, laptop);
  Link(phone, desk);  // a third device, which learns the new user key at its next sync
  // The phone writes before it is lost: that stays valid for everyone, also for devices that
  // read the log only later.
  auto plan = phone->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  REQUIRE(phone->SetField(*cid, *plan, "text", Text("van de telefoon")).ok());
  auto secret = chair->CreateEntity(*cid, "address", *scope);
  REQUIRE(secret.ok());
  SyncAll({&chair, &phone, &laptop, &other});
  const Bytes lost = DeviceIdOf(phone);

  // The phone is lost: a plain member revokes it from the laptop (no chair needed).
  CHECK(laptop->RevokeDevice(DeviceIdOf(laptop)).code() == StatusCode::kInvalidArgument);
  CHECK(laptop->RevokeDevice(crypto::RandomBytes(16)).code() == StatusCode::kNotFound);
  REQUIRE(laptop->RevokeDevice(lost).ok());
  auto devices = laptop->Devices();
  REQUIRE(devices.ok());
  REQUIRE(devices->size() == 3);
  CHECK((*devices)[0].revoked);
  CHECK_FALSE((*devices)[2].revoked);
  REQUIRE(laptop->SyncNow().ok());
  CHECK(laptop->PendingIntents(*cid) == 0);
  auto after_scope0 = laptop->ConfirmedView(*cid);
  REQUIRE(after_scope0.ok());
  CHECK(after_scope0->scope_epochs().at(0) == 2);
  CHECK(after_scope0->scope_epochs().at(*scope) == 2);
  CHECK(after_scope0->device_cutoffs().count(Hex(lost)) == 1);

  // Its sign-in is refused from now on.
  CHECK(phone->SyncNow().status().code() == StatusCode::kUnauthenticated);

  // Everything written after the revocation is recorded as the chair pulls it.
  std::vector<v1::LogEntry> seen;
  recorder->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const auto& e : resp.entries()) seen.push_back(e);
  };
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->SetField(*cid, *plan, "text", Text("NA-INTREKKEN-voor-iedereen")).ok());
  REQUIRE(chair->SetField(*cid, *secret, "street", Text("NA-INTREKKEN-geheim")).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(laptop->SetField(*cid, *plan, "laptop", Text("NA-INTREKKEN-laptop")).ok());
  REQUIRE(laptop->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "laptop") == "NA-INTREKKEN-laptop");
  REQUIRE(laptop->SyncNow().ok());
  CHECK(TextOf(*laptop->ConfirmedView(*cid), *secret, "street") == "NA-INTREKKEN-geheim");
  REQUIRE(other->SyncNow().ok());
  CHECK(TextOf(*other->ConfirmedView(*cid), *plan, "laptop") == "NA-INTREKKEN-laptop");
  REQUIRE(desk->SyncNow().ok());
  CHECK(TextOf(*desk->ConfirmedView(*cid), *secret, "street") == "NA-INTREKKEN-geheim");
  CHECK(desk->Alarms().empty());

  // Handed those raw envelopes, the lost phone's stored keys open none of them.
  Loot loot = Steal(phone, *cid, {0, *scope});
  CHECK(loot.epoch_keys.size() == 2);  // epoch 1 of both scopes
  int content_after = 0, boxes_for_account = 0;
  for (const auto& e : seen) {
    v1::OpHeader h;
    REQUIRE(h.ParseFromString(e.envelope().header()));
    if (h.kind() == v1::OP_KIND_REKEY) {
      v1::ControlBody body;
      REQUIRE(body.ParseFromString(e.envelope().control_body()));
      for (const auto& box : body.rekey().boxes()) {
        if (box.account_id() != loot.account.account_id()) continue;
        ++boxes_for_account;
        CHECK(box.user_key_generation() == 2);
        for (const auto& uk : loot.account.user_keys()) {
          CHECK_FALSE(crypto::SealOpen(client::identity::UserBoxKeyPair(View(uk.seed())),
                                       View(box.sealed_key()))
                          .ok());
        }
      }
    }
    if (h.kind() != v1::OP_KIND_CONTENT || h.epoch() < 2) continue;
    ++content_after;
    for (const auto& key : loot.epoch_keys) CHECK_FALSE(Decrypts(key, e.envelope()));
  }
  CHECK(content_after >= 3);
  CHECK(boxes_for_account >= 2);  // scope 0 and the restricted scope
  CHECK(loot.account.user_keys_size() == 1);

  // A device that reads the whole log later accepts the phone's ops from before the revocation.
  Device tablet(net, Device::Fresh{});
  Link(laptop, tablet);
  REQUIRE(tablet->SyncNow().ok());
  CHECK(tablet->Alarms().empty());
  CHECK(TextOf(*tablet->ConfirmedView(*cid), *plan, "text") == "NA-INTREKKEN-voor-iedereen");
  CHECK(TextOf(*tablet->ConfirmedView(*cid), *secret, "street") == "NA-INTREKKEN-geheim");
  for (Device* d : {&chair, &laptop, &other}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("the recovery key restores every case on a fresh device", "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), phone(net);
  const std::string recovery_key = phone.recovery_key();
  REQUIRE_FALSE(recovery_key.empty());
  auto cid = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {phone.account_id()});
  REQUIRE(scope.ok());
  auto second = chair->CreateCase({{phone.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(second.ok());
  SyncAll({&chair, &phone});
  auto plan = phone->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  REQUIRE(phone->SetField(*cid, *plan, "text", Text("voor het verlies")).ok());
  SyncAll({&chair, &phone});
  // A rotation first (a linked laptop revokes the phone): the recovery key must open both
  // generations.
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  REQUIRE(laptop->RevokeDevice(DeviceIdOf(phone)).ok());
  REQUIRE(laptop->SyncNow().ok());
  auto secret = chair->CreateEntity(*cid, "address", *scope);
  REQUIRE(secret.ok());
  REQUIRE(chair->SetField(*cid, *secret, "street", Text("na de rotatie")).ok());
  REQUIRE(chair->SyncNow().ok());

  Device fresh(net, Device::Fresh{});
  SECTION("a wrong recovery key gives a clear error and changes nothing") {
    auto wrong = client::identity::FormatRecoveryKey(crypto::RandomBytes(32));
    auto refused = fresh->RestoreAccount(wrong);
    CHECK(refused.status().code() == StatusCode::kNotFound);
    CHECK(refused.status().message().find("recovery key") != std::string::npos);
    CHECK(fresh->RestoreAccount("abcd-efgh").status().code() == StatusCode::kInvalidArgument);
    CHECK(fresh->Account().status().code() == StatusCode::kFailedPrecondition);
    CHECK(fresh->Cases().empty());
    CHECK(laptop->Devices()->size() == 2);  // nothing was added to the account
  }
  // Naming the account it must be: another account's id is refused.
  CHECK(fresh->RestoreAccount(recovery_key, chair.account_id()).status().code() ==
        StatusCode::kNotFound);
  auto restored = fresh->RestoreAccount(recovery_key, phone.account_id());
  REQUIRE(restored.ok());
  CHECK(restored->account_id == phone.account_id());
  CHECK(restored->safety_number == laptop->Account()->safety_number);
  fresh.set_account_id(restored->account_id);
  REQUIRE(fresh->SyncNow().ok());
  CHECK(fresh->Cases().size() == 2);
  auto view = fresh->ConfirmedView(*cid);
  REQUIRE(view.ok());
  CHECK(TextOf(*view, *plan, "text") == "voor het verlies");
  CHECK(TextOf(*view, *secret, "street") == "na de rotatie");
  CHECK(fresh->Alarms().empty());
  // And it writes as the account.
  REQUIRE(fresh->SetField(*cid, *plan, "text", Text("hersteld")).ok());
  REQUIRE(fresh->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *plan, "text") == "hersteld");
  CHECK(chair->Alarms().empty());
}

TEST_CASE(
    "without the recovery key, re-inviting restores current content with a new safety "
    "number",
    "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), lost(net);
  auto cid = chair->CreateCase({{lost.account_id(), v1::ROLE_MEMBER}},
                               /*newcomers_read_history=*/true);
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  REQUIRE(chair->SetField(*cid, *plan, "text", Text("het plan")).ok());
  SyncAll({&chair, &lost});
  auto old_number = chair->SafetyNumberOf(lost.account_id());
  REQUIRE(old_number.ok());

  // Phone and recovery key gone: a new account, invited again and approved by the chair.
  Device again(net);
  REQUIRE(chair->RemoveMember(*cid, lost.account_id()).ok());
  REQUIRE(chair->SyncNow().ok());
  auto invite = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  REQUIRE(invite.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(again->AcceptInvite(invite->link).ok());
  REQUIRE(again->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->ApproveMember(*cid, again.account_id()).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(again->SyncNow().ok());
  CHECK(TextOf(*again->ConfirmedView(*cid), *plan, "text") == "het plan");
  auto new_number = chair->SafetyNumberOf(again.account_id());
  REQUIRE(new_number.ok());
  CHECK(*new_number != *old_number);
  CHECK(again->Account()->safety_number == *new_number);
  CHECK(again->Alarms().empty());
}

TEST_CASE("only a revocation lets a member rekey the whole case, on the server and in the client",
          "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  auto phone_net = std::make_shared<TamperTransport>(net);
  Device chair(lie), phone(phone_net), other(net);
  auto cid = chair->CreateCase(
      {{phone.account_id(), v1::ROLE_MEMBER}, {other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &phone, &other});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  auto plan = phone->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &laptop, &other});
  const std::string token = phone_net->last_token();
  const Bytes phone_id = DeviceIdOf(phone);
  const Bytes laptop_id = DeviceIdOf(laptop);
  client::DeviceHead phone_head = HeadOf(chair, *cid, phone_id);
  REQUIRE(phone_head.counter >= 1);
  Loot loot = Steal(phone, *cid, {0});

  // The member's phone rekeys the whole case naming its laptop, which is not revoked.
  auto forged_rekey = [&](uint64_t seen_seq, const std::string& seen_hash) {
    v1::ControlBody body;
    v1::Rekey* rk = body.mutable_rekey();
    rk->set_new_epoch(2);
    rk->set_key_commitment(std::string(32, 'k'));
    for (const Bytes& account : {chair.account_id(), phone.account_id(), other.account_id()}) {
      rk->add_recipients(ToString(account));
      v1::KeyBox* box = rk->add_boxes();
      box->set_account_id(ToString(account));
      box->set_user_key_generation(1);
      box->set_sealed_key(std::string(80, 'x'));
    }
    rk->add_revoked_devices(ToString(laptop_id));
    return client::SignEnvelope(
        loot.account,
        ForgedHeader(loot.account, *cid, v1::OP_KIND_REKEY, 2, phone_head, seen_seq, seen_hash),
        &body, nullptr, {});
  };
  v1::PushRequest push;
  push.set_case_id(ToString(*cid));
  *push.add_envelopes() = forged_rekey(0, "");
  CHECK(net->Push(push, token).status().code() == StatusCode::kPermissionDenied);

  // As if a server had accepted it: the chair's verifier refuses it and nothing changes.
  v1::CaseState before = *chair->ConfirmedView(*cid);
  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() = forged_rekey(req.after_seq(), req.after_chain_hash());
    Rechain(req, resp, server_key);
  };
  REQUIRE(other->CreateEntity(*cid, "note").ok());
  REQUIRE(other->SyncNow().ok());  // gives the chair something to pull
  REQUIRE(chair->SyncNow().ok());
  auto alarms = chair->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  CHECK(alarms[0].detail == "rekey names a device its account has not revoked");
  CHECK(MessageDifferencer::Equals(before, *chair->ConfirmedView(*cid)));
}

TEST_CASE("an op by a revoked device after its cut-off has no effect", "[devices]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lie = std::make_shared<TamperTransport>(net);
  Device chair(net), phone(net), other(lie);
  auto cid = chair->CreateCase(
      {{phone.account_id(), v1::ROLE_MEMBER}, {other.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &phone, &other});
  Device laptop(net, Device::Fresh{});
  Link(phone, laptop);
  auto plan = phone->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  SyncAll({&chair, &phone, &laptop, &other});
  const Bytes phone_id = DeviceIdOf(phone);
  client::DeviceHead phone_head = HeadOf(chair, *cid, phone_id);
  Loot loot = Steal(phone, *cid, {0});
  REQUIRE(laptop->RevokeDevice(phone_id).ok());
  REQUIRE(laptop->SyncNow().ok());
  REQUIRE(other->SyncNow().ok());
  v1::CaseState before = *other->ConfirmedView(*cid);
  REQUIRE(before.device_cutoffs().count(Hex(phone_id)) == 1);

  // The thief's phone invites someone (a control op needs no key), and a lying server serves it
  // after the cut-off: the other member's device refuses it.
  SecretBytes server_key = server.ServerSecretKey();
  lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    v1::ControlBody body;
    const Bytes invite_key = crypto::NewSigningKeyPair().public_key;
    body.mutable_invite()->set_invite_id(ToString(protocol::InviteId(invite_key)));
    body.mutable_invite()->set_signing_public_key(ToString(invite_key));
    body.mutable_invite()->set_role(v1::ROLE_MEMBER);
    body.mutable_invite()->set_expires_at_ms(1);
    resp.clear_entries();
    *resp.add_entries()->mutable_envelope() =
        client::SignEnvelope(loot.account,
                             ForgedHeader(loot.account, *cid, v1::OP_KIND_INVITE, 2, phone_head,
                                          req.after_seq(), req.after_chain_hash()),
                             &body, nullptr, {});
    Rechain(req, resp, server_key);
  };
  REQUIRE(chair->CreateEntity(*cid, "note").ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(other->SyncNow().ok());
  auto alarms = other->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].detail == "op by a device revoked before this position");
  CHECK(MessageDifferencer::Equals(before, *other->ConfirmedView(*cid)));
}
