// The optimistic view a client keeps between edits (its own new intents applied one by one, not
// a replay of the whole queue) must equal a view rebuilt from the store after every kind of
// change: local edits, a sync that brings other devices' edits, and a rejected intent.
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using google::protobuf::util::MessageDifferencer;

namespace {

// A second client on the same local store has no kept view: its view is built from scratch.
v1::CaseState RebuiltView(const Device& d, const Bytes& case_id) {
  client::ClientOptions options;
  options.db_path = d.db_path();
  options.storage_key = d.storage_key();
  options.background_sync = false;
  auto fresh = client::Client::Open(std::move(options));
  REQUIRE(fresh.ok());
  auto view = (*fresh)->View(case_id);
  REQUIRE(view.ok());
  return std::move(view).value();
}

// The kept view is read first, so a write by the second client cannot refresh it.
void CheckKeptViewIsCurrent(Device& d, const Bytes& case_id) {
  auto kept = d->View(case_id);
  REQUIRE(kept.ok());
  v1::CaseState rebuilt = RebuiltView(d, case_id);
  CHECK(kept->pending_intents() == rebuilt.pending_intents());
  CHECK(kept->entities_size() == rebuilt.entities_size());
  CHECK(MessageDifferencer::Equals(*kept, rebuilt));
}

}  // namespace

TEST_CASE("the kept optimistic view equals a rebuilt one after edits, syncs and rejections",
          "[view]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), aunt(net);
  auto cid = chair->CreateCase({{aunt.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto scope = chair->CreateScope(*cid, {aunt.account_id()});
  REQUIRE(scope.ok());
  for (int i = 0; i < 2; ++i) {
    REQUIRE(chair->SyncNow().ok());
    REQUIRE(aunt->SyncNow().ok());
  }

  // Offline edits of every kind on the aunt's device, the view checked along the way.
  auto note = aunt->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(aunt->SetField(*cid, *note, "text", Text("eerste versie")).ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  REQUIRE(aunt->SetField(*cid, *note, "text", Text("tweede versie")).ok());
  auto tag = aunt->AddToSet(*cid, *note, "tags", Text("zorg"));
  REQUIRE(tag.ok());
  REQUIRE(aunt->RemoveFromSet(*cid, *note, "tags", *tag).ok());
  auto hidden = aunt->CreateEntity(*cid, "note", *scope);
  REQUIRE(hidden.ok());
  REQUIRE(aunt->SetField(*cid, *hidden, "text", Text("alleen voor de scope")).ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  CHECK(aunt->PendingIntents(*cid) == 7);

  // Meanwhile the chair edits too and takes the aunt out of the scope.
  auto agenda = chair->CreateEntity(*cid, "agreement");
  REQUIRE(agenda.ok());
  REQUIRE(chair->SetField(*cid, *agenda, "action", Text("Oma belt elke dinsdag")).ok());
  REQUIRE(chair->SetScopeMembers(*cid, *scope, {chair.account_id()}).ok());
  REQUIRE(chair->SyncNow().ok());

  // The aunt syncs: the chair's edits arrive and her two scope edits are rejected.
  REQUIRE(aunt->SyncNow().ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  CHECK(aunt->PendingIntents(*cid) == 0);
  CHECK(aunt->View(*cid)->entities().count(Hex(*agenda)) == 1);
  CHECK(aunt->View(*cid)->entities().count(Hex(*hidden)) == 0);  // rejected, not pending
  CHECK(aunt->View(*cid)->entities().count(Hex(*note)) == 1);

  // New offline edits on top of the synced state, then a control change.
  REQUIRE(aunt->SetField(*cid, *agenda, "action", Text("Oma belt elke woensdag")).ok());
  auto late = aunt->CreateEntity(*cid, "note");
  REQUIRE(late.ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  auto own = aunt->CreateScope(*cid, {aunt.account_id()});
  REQUIRE(own.ok());
  auto mine = aunt->CreateEntity(*cid, "note", *own);
  REQUIRE(mine.ok());
  REQUIRE(aunt->SetField(*cid, *mine, "text", Text("eigen aantekening")).ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  CHECK(aunt->View(*cid)->pending_intents() == 5);

  // The kept view also follows edits confirmed by the sync after them.
  REQUIRE(aunt->SyncNow().ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(aunt->SyncNow().ok());
  CheckKeptViewIsCurrent(aunt, *cid);
  CHECK(aunt->Alarms().empty());
}
