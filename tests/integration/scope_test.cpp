// Restricted scopes: content hidden from some members never reaches their devices in a form they
// can open, survives removals with new keys, and cannot be moved out of its scope.
#include <mutex>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/domain/messages.h"

#include "store/local_store.h"
#include "support/client_fixture.h"
#include "support/device_keys.h"

using namespace kring;
using namespace kring::test;

namespace {

const v1::Entity* Find(const v1::CaseState& s, const Bytes& entity) {
  auto e = s.entities().find(Hex(entity));
  return e == s.entities().end() ? nullptr : &e->second;
}

// Every epoch key of `scope` the device's store holds (closes the device).
size_t ScopeKeys(Device& d, const Bytes& case_id, uint32_t scope) {
  d.Close();
  auto store = client::LocalStore::Open(d.db_path(), d.storage_key());
  REQUIRE(store.ok());
  size_t n = 0;
  for (uint64_t epoch = 1; epoch <= 10; ++epoch) {
    auto key = (*store)->FindEpochKey(case_id, scope, epoch);
    REQUIRE(key.ok());
    if (key->has_value()) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("an item in a restricted scope never reaches the people outside it", "[scope]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), sister(net), ex(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {sister.account_id(), v1::ROLE_MEMBER},
                                {ex.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  // "Everyone except the ex-partner": made offline, the key is made at push time.
  auto scope = chair->CreateScope(*cid, {coordinator.account_id(), sister.account_id()});
  REQUIRE(scope.ok());
  CHECK(*scope != 0);
  auto address = chair->CreateEntity(*cid, "location", *scope);
  REQUIRE(address.ok());
  const std::string marker = "Nieuwe-Straat-12-geheim";
  REQUIRE(chair->SetField(*cid, *address, "exact", Text(marker)).ok());
  auto coarse = chair->CreateEntity(*cid, "location");
  REQUIRE(coarse.ok());
  REQUIRE(chair->SetField(*cid, *coarse, "coarse", Text("bij Marieke thuis, Oss")).ok());
  CHECK(TextOf(*chair->View(*cid), *address, "exact") == marker);  // optimistic, offline
  SyncAll({&chair, &coordinator, &sister, &ex});

  for (Device* d : {&chair, &coordinator, &sister}) {
    v1::CaseState s = *(*d)->ConfirmedView(*cid);
    CHECK(TextOf(s, *address, "exact") == marker);
    CHECK(Find(s, *address)->scope_id() == *scope);
    REQUIRE(s.scopes().count(*scope) == 1);
    CHECK(s.scopes().at(*scope).members_size() == 3);
  }
  v1::CaseState ex_view = *ex->ConfirmedView(*cid);
  CHECK(Find(ex_view, *address) == nullptr);
  CHECK(TextOf(ex_view, *coarse, "coarse") == "bij Marieke thuis, Oss");
  CHECK(ex_view.seq() == chair->ConfirmedView(*cid)->seq());  // it verified the whole log
  CHECK(ex->Alarms().empty());
  // The ex-partner cannot write into the scope either.
  CHECK(ex->CreateEntity(*cid, "note", *scope).status().code() == StatusCode::kPermissionDenied);
  // Nor move the item out of it: a scope-0 edit of a restricted entity has no effect anywhere.
  v1::Mutation m;
  m.mutable_set_field()->set_entity_id(ToString(*address));
  m.mutable_set_field()->set_field("exact");
  *m.mutable_set_field()->mutable_value() = Text("overschreven");
  CHECK(sister->Submit(*cid, {m}, 0).code() == StatusCode::kInvalidArgument);
  SyncAll({&sister, &chair, &coordinator, &ex});
  CHECK(TextOf(*chair->ConfirmedView(*cid), *address, "exact") == marker);
  CHECK(TextOf(*sister->ConfirmedView(*cid), *address, "exact") == marker);
  CHECK(Find(*ex->ConfirmedView(*cid), *address) == nullptr);

  // Its store never held a key of the scope; the server's data never held the plaintext.
  CHECK(ScopeKeys(ex, *cid, *scope) == 0);
  CHECK(ScopeKeys(sister, *cid, *scope) == 1);
  CHECK(FilesContaining(server.data_dir(), marker).empty());
}

TEST_CASE("an entity id of a restricted scope cannot be created again in scope 0", "[scope]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), sister(net), ex(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {sister.account_id(), v1::ROLE_MEMBER},
                                {ex.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {coordinator.account_id(), sister.account_id()});
  REQUIRE(scope.ok());
  auto address = chair->CreateEntity(*cid, "location", *scope);
  REQUIRE(address.ok());
  REQUIRE(chair->SetField(*cid, *address, "exact", Text("Kerkstraat 1")).ok());
  SyncAll({&chair, &coordinator, &sister, &ex});

  // The sister (in the scope) creates the scope's entity again in scope 0, so that the ex-partner
  // would see an entity of hers under that id. Her own client refuses it before queueing.
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(ToString(*address));
  create.mutable_create_entity()->set_type("location");
  v1::Mutation set;
  set.mutable_set_field()->set_entity_id(ToString(*address));
  set.mutable_set_field()->set_field("exact");
  *set.mutable_set_field()->mutable_value() = Text("Dorpsweg 9");
  CHECK(sister->Submit(*cid, {create, set}, 0).code() == StatusCode::kInvalidArgument);
  // Nor may an entity of the scope be created without the scope's prefix.
  Bytes unprefixed(16, 0x4B);
  v1::Mutation in_scope = create;
  in_scope.mutable_create_entity()->set_entity_id(ToString(unprefixed));
  CHECK(sister->Submit(*cid, {in_scope}, *scope).code() == StatusCode::kInvalidArgument);
  CHECK(sister->PendingIntents(*cid) == 0);

  // A client without that check: the op goes straight into her device's queue and is pushed.
  sister.Close();
  {
    auto store = client::LocalStore::Open(sister.db_path(), sister.storage_key());
    REQUIRE(store.ok());
    v1::ContentOp op;
    op.set_version(1);
    op.set_scope_id(0);
    *op.add_mutations() = create;
    *op.add_mutations() = set;
    REQUIRE((*store)->AddContentIntent(*cid, crypto::RandomBytes(crypto::kIdBytes), op).ok());
  }
  sister.Reopen();
  SyncAll({&sister, &chair, &coordinator, &ex});

  // The create has no effect on any device: no device outside the scope sees a new entity, the
  // devices in it keep the scope's one, and all reach the same point of the log.
  const uint64_t seq = chair->ConfirmedView(*cid)->seq();
  for (Device* d : {&chair, &coordinator, &sister}) {
    v1::CaseState s = *(*d)->ConfirmedView(*cid);
    CHECK(s.seq() == seq);
    REQUIRE(Find(s, *address) != nullptr);
    CHECK(Find(s, *address)->scope_id() == *scope);
    CHECK(TextOf(s, *address, "exact") == "Kerkstraat 1");
  }
  v1::CaseState ex_view = *ex->ConfirmedView(*cid);
  CHECK(ex_view.seq() == seq);
  CHECK(Find(ex_view, *address) == nullptr);
  CHECK(ex_view.entities().size() + 1 == chair->ConfirmedView(*cid)->entities().size());
  CHECK(ex->Alarms().empty());
}

TEST_CASE("removing someone rekeys their scopes, a scope the remover is not in rekeys itself",
          "[scope]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), friend_(net), teacher(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {friend_.account_id(), v1::ROLE_MEMBER},
                                {teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  // The network's own scope (the chair in it) and the professionals' (the chair not in it).
  auto network = chair->CreateScope(*cid, {friend_.account_id(), teacher.account_id()});
  REQUIRE(network.ok());
  SyncAll({&chair, &coordinator, &friend_, &teacher});
  auto pros = coordinator->CreateScope(*cid, {teacher.account_id()});
  REQUIRE(pros.ok());
  SyncAll({&coordinator, &chair, &friend_, &teacher});

  auto notice = chair->RemoveMember(*cid, teacher.account_id());
  REQUIRE(notice.ok());
  REQUIRE(chair->SyncNow().ok());
  v1::CaseState after = *chair->ConfirmedView(*cid);
  CHECK(after.scopes().at(*network).members_size() == 2);
  CHECK_FALSE(after.scopes().at(*network).rekey_required());  // rekeyed in the removal's push
  CHECK(after.scope_epochs().at(*network) == 2);
  CHECK(after.scopes().at(*pros).rekey_required());  // only the coordinator can rekey it

  // The coordinator's device hands out the professionals' next key on its own.
  SyncAll({&coordinator});
  v1::CaseState coord = *coordinator->ConfirmedView(*cid);
  CHECK_FALSE(coord.scopes().at(*pros).rekey_required());
  CHECK(coord.scope_epochs().at(*pros) == 2);
  const std::string marker = "Meldcode-stap-2-notitie";
  auto note = coordinator->CreateEntity(*cid, "note", *pros);
  REQUIRE(note.ok());
  REQUIRE(coordinator->SetField(*cid, *note, "text", Text(marker)).ok());
  auto draft = friend_->CreateEntity(*cid, "draft", *network);
  REQUIRE(draft.ok());
  REQUIRE(friend_->SetField(*cid, *draft, "text", Text("alleen het netwerk")).ok());
  SyncAll({&coordinator, &friend_, &chair, &teacher});

  CHECK(TextOf(*coordinator->ConfirmedView(*cid), *note, "text") == marker);
  CHECK(Find(*chair->ConfirmedView(*cid), *note) == nullptr);
  CHECK(TextOf(*chair->ConfirmedView(*cid), *draft, "text") == "alleen het netwerk");
  CHECK(Find(*coordinator->ConfirmedView(*cid), *draft) == nullptr);
  // The removed teacher holds only the keys from before the removal.
  CHECK(teacher->ConfirmedView(*cid)->removed());
  CHECK(Find(*teacher->ConfirmedView(*cid), *note) == nullptr);
  CHECK(Find(*teacher->ConfirmedView(*cid), *draft) == nullptr);
  CHECK(ScopeKeys(teacher, *cid, *network) == 1);
  CHECK(ScopeKeys(teacher, *cid, *pros) == 1);
  for (Device* d : {&chair, &coordinator, &friend_}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("changing a scope's members: newcomers read from now on, the one taken out not at all",
          "[scope]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), aunt(net), neighbour(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {aunt.account_id(), v1::ROLE_MEMBER},
                                {neighbour.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {aunt.account_id()});
  REQUIRE(scope.ok());
  auto before = chair->CreateEntity(*cid, "note", *scope);
  REQUIRE(before.ok());
  REQUIRE(chair->SetField(*cid, *before, "text", Text("voor de wissel")).ok());
  SyncAll({&chair, &aunt, &neighbour, &coordinator});

  // Bad changes are refused before anything is queued.
  CHECK(neighbour->SetScopeMembers(*cid, *scope, {neighbour.account_id()}).code() ==
        StatusCode::kPermissionDenied);
  CHECK(chair->SetScopeMembers(*cid, *scope, {aunt.account_id()}).code() ==
        StatusCode::kPermissionDenied);  // the author must stay in
  CHECK(chair->SetScopeMembers(*cid, *scope, {chair.account_id(), ToBytes(std::string(16, 'x'))})
            .code() == StatusCode::kPermissionDenied);
  CHECK(chair->SetScopeMembers(*cid, 424242, {chair.account_id()}).code() ==
        StatusCode::kPermissionDenied);
  // A member of the scope may not widen it (the chair or a coordinator decides who reads it).
  CHECK(aunt->SetScopeMembers(*cid, *scope,
                              {chair.account_id(), aunt.account_id(), neighbour.account_id()})
            .code() == StatusCode::kPermissionDenied);

  REQUIRE(chair->SetScopeMembers(*cid, *scope, {chair.account_id(), neighbour.account_id()}).ok());
  auto later = chair->CreateEntity(*cid, "note", *scope);
  REQUIRE(later.ok());
  REQUIRE(chair->SetField(*cid, *later, "text", Text("na de wissel")).ok());
  SyncAll({&chair, &aunt, &neighbour, &coordinator});

  v1::CaseState n = *neighbour->ConfirmedView(*cid);
  CHECK(Find(n, *before) == nullptr);  // from now on
  CHECK(TextOf(n, *later, "text") == "na de wissel");
  v1::CaseState a = *aunt->ConfirmedView(*cid);
  CHECK(TextOf(a, *before, "text") == "voor de wissel");  // what was seen stays seen
  CHECK(Find(a, *later) == nullptr);
  CHECK(Find(*coordinator->ConfirmedView(*cid), *later) == nullptr);
  for (Device* d : {&chair, &coordinator, &aunt, &neighbour}) {
    CHECK((*d)->ConfirmedView(*cid)->scopes().at(*scope).members_size() == 2);
    CHECK((*d)->Alarms().empty());
  }
  // Compared at the meeting: the scope's members hold the same key; the others hold none.
  auto code = chair->EpochFingerprint(*cid, *scope);
  REQUIRE(code.ok());
  CHECK(code->rfind("epoch 2: ", 0) == 0);
  CHECK(*neighbour->EpochFingerprint(*cid, *scope) == *code);
  CHECK(*chair->EpochFingerprint(*cid) != *code);
  CHECK(aunt->EpochFingerprint(*cid, *scope).status().code() == StatusCode::kNotFound);
  CHECK(coordinator->EpochFingerprint(*cid, *scope).status().code() == StatusCode::kNotFound);
}

TEST_CASE("edits queued for a scope one was taken out of are rejected with one event", "[scope]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), aunt(net);
  auto cid = chair->CreateCase({{aunt.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {aunt.account_id()});
  REQUIRE(scope.ok());
  auto note = chair->CreateEntity(*cid, "note", *scope);
  REQUIRE(note.ok());
  SyncAll({&chair, &aunt});
  REQUIRE(Find(*aunt->ConfirmedView(*cid), *note) != nullptr);

  // Offline, the aunt edits the note three times; meanwhile the chair takes her out of the scope.
  for (const char* text : {"een", "twee", "drie"}) {
    REQUIRE(aunt->SetField(*cid, *note, "text", Text(text)).ok());
  }
  // And one edit for the whole circle, queued behind them.
  auto open_note = aunt->CreateEntity(*cid, "note");
  REQUIRE(open_note.ok());
  REQUIRE(aunt->PendingIntents(*cid) == 4);
  REQUIRE(chair->SetScopeMembers(*cid, *scope, {chair.account_id()}).ok());
  REQUIRE(chair->SyncNow().ok());

  // Her device may not seal them any more: they are rejected, and she hears it once, with
  // kringd's reason for the same rule (before, they were dropped without a word).
  std::mutex mu;
  std::vector<client::ChangeEvent> rejected;
  aunt->AddChangeListener([&](const client::ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (e.kind == client::ChangeEvent::Kind::kIntentRejected) rejected.push_back(e);
  });
  auto synced = aunt->SyncNow();
  REQUIRE(synced.ok());
  CHECK(synced->pushed == 1);  // the rejected ones do not hold back the edit behind them
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].case_id == *cid);
    CHECK(rejected[0].reason == refusal::kNotInScope);
    CHECK(rejected[0].count == 3);
    CHECK(domain::UserText(Status(StatusCode::kAborted, rejected[0].detail, rejected[0].reason)) ==
          "Je hoort niet bij dit afgeschermde deel van de casus.");
  }
  CHECK(aunt->PendingIntents(*cid) == 0);
  CHECK(aunt->Alarms().empty());
  REQUIRE(chair->SyncNow().ok());
  CHECK(TextOf(*chair->ConfirmedView(*cid), *note, "text").empty());  // none reached the log
  CHECK(Find(*chair->ConfirmedView(*cid), *open_note) != nullptr);
}
