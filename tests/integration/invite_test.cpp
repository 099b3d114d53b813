// Invitations: a link or QR text for someone without an account, single use, expiring and
// revocable; the invitee waits without keys or content until the chair approves.
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/domain/messages.h"

#include "store/local_store.h"
#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

namespace {

const v1::InviteState* Invite(const v1::CaseState& s, const Bytes& id) {
  for (const auto& inv : s.invites()) {
    if (inv.invite_id() == ToString(id)) return &inv;
  }
  return nullptr;
}

v1::InviteState::Status StatusOf(Device& d, const Bytes& cid, const Bytes& id) {
  auto view = d->View(cid);
  REQUIRE(view.ok());
  const v1::InviteState* inv = Invite(*view, id);
  REQUIRE(inv != nullptr);
  return inv->status();
}

size_t EpochKeysHeld(Device& d, const Bytes& cid) {
  d.Close();
  auto store = client::LocalStore::Open(d.db_path(), d.storage_key());
  REQUIRE(store.ok());
  size_t n = 0;
  for (uint64_t epoch = 1; epoch <= 10; ++epoch) {
    auto key = (*store)->FindEpochKey(cid, 0, epoch);
    REQUIRE(key.ok());
    n += key->has_value() ? 1u : 0u;
  }
  return n;
}

}  // namespace

TEST_CASE("an invited resident joins through a link after approval", "[invite]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device coordinator(net), resident(net), cousin(net), neighbour(net);
  // The coordinator starts the case before the resident has the app, and acts for the chair.
  auto cid = coordinator->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  auto note = coordinator->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(coordinator->SetField(*cid, *note, "text", Text("Welkom in de kring")).ok());
  auto invite = coordinator->CreateInvite(*cid, v1::ROLE_CHAIR, 3600);
  REQUIRE(invite.ok());
  CHECK(invite->link.rfind("kring://invite/1/", 0) == 0);
  CHECK(invite->qr_text == invite->link);
  REQUIRE(coordinator->SyncNow().ok());
  CHECK(StatusOf(coordinator, *cid, invite->invite_id) == v1::InviteState::PENDING);

  // The resident scans the QR code: accepted, but waiting: no keys, no content.
  auto joined = resident->AcceptInvite(invite->qr_text);
  REQUIRE(joined.ok());
  CHECK(*joined == *cid);
  // Scanning the same code twice changes nothing.
  CHECK(resident->AcceptInvite(invite->qr_text).status().code() == StatusCode::kAlreadyExists);
  REQUIRE(resident->SyncNow().ok());
  CHECK(resident->PendingIntents(*cid) == 1);
  CHECK(resident->View(*cid)->pending_approval());
  CHECK(resident->View(*cid)->entities_size() == 0);

  // Single use: a second person with the same link is refused.
  REQUIRE(cousin->AcceptInvite(invite->link).ok());
  std::promise<client::ChangeEvent> rejected;
  cousin->AddChangeListener([&](const client::ChangeEvent& e) {
    if (e.kind == client::ChangeEvent::Kind::kIntentRejected) rejected.set_value(e);
  });
  REQUIRE(cousin->SyncNow().ok());
  auto refusal = rejected.get_future();
  REQUIRE(refusal.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  const client::ChangeEvent event = refusal.get();
  CHECK(event.detail.find("already used") != std::string::npos);
  // The server's reason key, which the app acts on and explains in the person's language.
  CHECK(event.reason == "INVITE_USED");
  CHECK(domain::UserText(Status(StatusCode::kPermissionDenied, event.detail, event.reason)) ==
        "Deze uitnodiging is al gebruikt.");

  REQUIRE(coordinator->SyncNow().ok());
  auto view = *coordinator->View(*cid);
  CHECK(StatusOf(coordinator, *cid, invite->invite_id) == v1::InviteState::ACCEPTED);
  REQUIRE(view.pending_members_size() == 1);
  CHECK(view.pending_members(0).account_id() == ToString(resident.account_id()));
  CHECK(view.members_size() == 1);
  CHECK(EpochKeysHeld(resident, *cid) == 0);
  resident.Reopen();

  // Approved: the resident becomes the chair, gets a new key and what is written from now on.
  REQUIRE(coordinator->ApproveMember(*cid, resident.account_id()).ok());
  REQUIRE(coordinator->SyncNow().ok());
  CHECK(StatusOf(coordinator, *cid, invite->invite_id) == v1::InviteState::APPROVED);
  auto plan = coordinator->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  REQUIRE(coordinator->SyncNow().ok());
  REQUIRE(resident->SyncNow().ok());
  v1::CaseState mine = *resident->ConfirmedView(*cid);
  CHECK_FALSE(mine.pending_approval());
  CHECK(mine.entities().count(Hex(*plan)) == 1);
  CHECK(mine.entities().count(Hex(*note)) == 0);  // "from now on" is the default
  bool chair = false;
  for (const auto& m : mine.members()) {
    chair |= m.account_id() == ToString(resident.account_id()) && m.role() == v1::ROLE_CHAIR;
  }
  CHECK(chair);
  CHECK(resident->PendingIntents(*cid) == 0);
  CHECK(resident->Alarms().empty());

  // Now the resident has joined: only the chair lets people in.
  CHECK(coordinator->AddMember(*cid, {cousin.account_id(), v1::ROLE_MEMBER}).code() ==
        StatusCode::kPermissionDenied);

  // The chair decides: a neighbour's invite, accepted, then declined.
  auto second = resident->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  REQUIRE(second.ok());
  REQUIRE(resident->SyncNow().ok());
  REQUIRE(neighbour->AcceptInvite(second->link).ok());
  REQUIRE(neighbour->SyncNow().ok());
  REQUIRE(resident->SyncNow().ok());
  REQUIRE(coordinator->SyncNow().ok());
  CHECK(coordinator->DeclineMember(*cid, neighbour.account_id()).code() ==
        StatusCode::kPermissionDenied);
  REQUIRE(resident->DeclineMember(*cid, neighbour.account_id()).ok());
  REQUIRE(resident->SyncNow().ok());
  CHECK(StatusOf(resident, *cid, second->invite_id) == v1::InviteState::DECLINED);
  CHECK(resident->View(*cid)->pending_members_size() == 0);
  CHECK(neighbour->View(*cid)->entities_size() == 0);
  CHECK(coordinator->SyncNow().ok());
  CHECK(coordinator->Alarms().empty());
}

TEST_CASE("invites can be revoked and expire", "[invite]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), late(net), unlucky(net);
  auto cid = chair->CreateCase({});
  REQUIRE(cid.ok());
  auto revoked = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  auto expiring = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 1);
  REQUIRE(revoked.ok());
  REQUIRE(expiring.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->RevokeInvite(*cid, revoked->invite_id).ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(StatusOf(chair, *cid, revoked->invite_id) == v1::InviteState::REVOKED);
  CHECK(chair->RevokeInvite(*cid, revoked->invite_id).code() == StatusCode::kPermissionDenied);

  std::vector<std::string> reasons;
  std::mutex mu;
  for (Device* d : {&unlucky, &late}) {
    (*d)->AddChangeListener([&](const client::ChangeEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (e.kind == client::ChangeEvent::Kind::kIntentRejected) reasons.push_back(e.detail);
    });
  }
  REQUIRE(unlucky->AcceptInvite(revoked->link).ok());
  REQUIRE(unlucky->SyncNow().ok());
  // Wait until the one-second invite has expired by the wall clock (bounded).
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  while (StatusOf(chair, *cid, expiring->invite_id) != v1::InviteState::EXPIRED &&
         std::chrono::system_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(StatusOf(chair, *cid, expiring->invite_id) == v1::InviteState::EXPIRED);
  REQUIRE(late->AcceptInvite(expiring->link).ok());
  REQUIRE(late->SyncNow().ok());
  {
    std::lock_guard<std::mutex> lock(mu);  // the listeners take it on every event
    REQUIRE(reasons.size() == 2);
    CHECK(reasons[0].find("revoked") != std::string::npos);
    CHECK(reasons[1].find("expired") != std::string::npos);
  }
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->View(*cid)->pending_members_size() == 0);
  CHECK(chair->View(*cid)->members_size() == 1);

  // A refused acceptance leaves nothing waiting on the device: a fresh invite works.
  CHECK(unlucky->Cases().empty());
  CHECK_FALSE(unlucky->View(*cid).ok());
  auto fresh = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  REQUIRE(fresh.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(unlucky->AcceptInvite(fresh->link).ok());
  REQUIRE(unlucky->SyncNow().ok());
  CHECK(unlucky->View(*cid)->pending_approval());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->ApproveMember(*cid, unlucky.account_id()).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(unlucky->SyncNow().ok());
  CHECK_FALSE(unlucky->View(*cid)->pending_approval());
  CHECK(unlucky->View(*cid)->members_size() == 2);
}

TEST_CASE("a malformed invitation link is refused clearly", "[invite]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device d(net);
  CHECK(d->AcceptInvite("").status().code() == StatusCode::kInvalidArgument);
  CHECK(d->AcceptInvite("https://example.org").status().code() == StatusCode::kInvalidArgument);
  CHECK(d->AcceptInvite("kring://invite/1/" + std::string(32, 'z') + "/" + std::string(64, '0'))
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(d->Cases().empty());
}

TEST_CASE("a removed member can be invited back and reads on from there", "[invite]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), cousin(net);
  auto cid = chair->CreateCase({{cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto before = chair->CreateEntity(*cid, "note");
  REQUIRE(before.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(cousin->SyncNow().ok());
  REQUIRE(chair->RemoveMember(*cid, cousin.account_id()).ok());
  auto during = chair->CreateEntity(*cid, "note");
  REQUIRE(during.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(cousin->SyncNow().ok());
  REQUIRE(cousin->ConfirmedView(*cid)->removed());

  // The chair cannot offer a second chair, nor approve with another role than invited.
  CHECK(chair->CreateInvite(*cid, v1::ROLE_CHAIR, 600).status().code() ==
        StatusCode::kPermissionDenied);
  auto invite = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 600);
  REQUIRE(invite.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(cousin->AcceptInvite(invite->link).ok());
  REQUIRE(cousin->SyncNow().ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->AddMember(*cid, {cousin.account_id(), v1::ROLE_COORDINATOR}).code() ==
        StatusCode::kPermissionDenied);
  REQUIRE(chair->ApproveMember(*cid, cousin.account_id()).ok());
  auto after = chair->CreateEntity(*cid, "note");
  REQUIRE(after.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(cousin->SyncNow().ok());
  v1::CaseState view = *cousin->ConfirmedView(*cid);
  CHECK_FALSE(view.removed());
  CHECK_FALSE(view.pending_approval());
  CHECK(view.entities().count(Hex(*before)) == 1);  // what was seen stays
  CHECK(view.entities().count(Hex(*during)) == 0);  // written while out: never readable
  CHECK(view.entities().count(Hex(*after)) == 1);
  CHECK(cousin->PendingIntents(*cid) == 0);
  CHECK(cousin->Alarms().empty());
  CHECK(chair->Alarms().empty());
}

TEST_CASE("an invite accepted after the case was closed is refused once, not sent at every sync",
          "[invite]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), guest(net);
  auto cid = chair->CreateCase({});
  REQUIRE(cid.ok());
  auto invite = chair->CreateInvite(*cid, v1::ROLE_MEMBER, 3600);
  REQUIRE(invite.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(chair->CloseCase(*cid, 30).ok());
  REQUIRE(chair->SyncNow().ok());
  const uint64_t head = chair->ConfirmedView(*cid)->seq();

  // The guest cannot read the case before approval, so its device cannot know it is closed:
  // kringd refuses the acceptance with CASE_CLOSED, which no pull cures.
  std::vector<client::ChangeEvent> rejected;
  std::mutex mu;
  guest->AddChangeListener([&](const client::ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (e.kind == client::ChangeEvent::Kind::kIntentRejected) rejected.push_back(e);
  });
  REQUIRE(guest->AcceptInvite(invite->link).ok());
  REQUIRE(guest->SyncNow().ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].reason == "CASE_CLOSED");
  }
  CHECK(guest->PendingIntents(*cid) == 0);
  // Before, the acceptance went out again at every sync, waiting for an approval that could
  // not come.
  auto again = guest->SyncNow();
  REQUIRE(again.ok());
  CHECK(again->pushed == 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(rejected.size() == 1);
  }
  REQUIRE(chair->SyncNow().ok());
  CHECK(chair->ConfirmedView(*cid)->seq() == head);
  CHECK(chair->ConfirmedView(*cid)->pending_members_size() == 0);
  CHECK(chair->Alarms().empty());
  CHECK(guest->Alarms().empty());
}
