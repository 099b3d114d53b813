// The stored case state keeps a note's text once, in the log: a device that reads its store
// again (no case kept in memory) gets back exactly the state it verified, and a log entry the
// state needs that is gone or changed is a clear error, never an empty note.
#include <functional>
#include <string>

#include <catch2/catch.hpp>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "kring/common/crypto.h"
#include "kring/common/sqlite.h"
#include "kring/domain/plan.h"

#include "domain/plan_model.h"
#include "model/values.h"
#include "store/local_store.h"
#include "support/client_fixture.h"
#include "support/old_store_log.h"

using namespace kring;
using namespace kring::test;

namespace {

// Maps in a fixed order, so two equal states serialize to the same bytes.
std::string Canonical(const v1::CaseState& s) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    s.SerializeToCodedStream(&coded);
  }
  return out;
}

v1::CaseState Confirmed(Device& d, const Bytes& case_id) {
  auto v = d->ConfirmedView(case_id);
  REQUIRE(v.ok());
  return v.value();
}

std::string LongNote(int i) {
  return "notitie " + std::to_string(i) + ": " + std::string(3000, static_cast<char>('a' + i % 26));
}

int64_t StoredStateBytes(const Device& d) {
  auto db = sql::Database::Open(d.db_path(), /*read_only=*/true);
  REQUIRE(db.ok());
  sql::Statement st(*db, "SELECT length(state) FROM cases");
  REQUIRE(st.Step());
  return st.Int(0);
}

void ChangeLog(const Device& d, const std::string& sql) {
  auto db = sql::Database::Open(d.db_path());
  REQUIRE(db.ok());
  REQUIRE(db->Exec(sql).ok());
}

// The closed device's store with its log as before store schema 14 (a row per entry in `log`),
// then changed by `sql`, which sets user_version to 13 or lower.
void ChangeOldStore(const Device& d, const std::string& sql) {
  auto db = sql::Database::Open(d.db_path());
  REQUIRE(db.ok());
  LogBackToRows(*db);
  REQUIRE(db->Exec(sql).ok());
}

// The closed device's store as an older libkring left it: the stored state of the case, changed
// by `edit`, put back as it is (no refold marked).
void ReplaceStoredState(const Device& d, const Bytes& case_id,
                        const std::function<void(v1::CaseState&)>& edit) {
  auto store = client::LocalStore::Open(d.db_path(), d.storage_key());
  REQUIRE(store.ok());
  auto rec = (*store)->LoadCase(case_id);
  REQUIRE(rec.ok());
  REQUIRE(rec->has_value());
  v1::CaseState old = (*rec)->state;
  edit(old);
  REQUIRE((*store)->ReplaceState(case_id, old, client::LocalStore::RemovalMark::kKeep).ok());
}

// The closed reader's store marked as an older libkring (store `schema`) left it, with no refold
// due: reopened it shows what was stored; its next sync folds the case again and it agrees with
// `fresh`, which folds the same log from nothing.
void RequireFoldedAgainAtNextSync(Device& reader, Device& fresh, const Bytes& cid,
                                  const std::string& folded, int schema) {
  const std::string sql =
      "DELETE FROM refold_due; PRAGMA user_version = " + std::to_string(schema) + ";";
  // From schema 14 on the log is in segments already.
  if (schema >= 14) {
    ChangeLog(reader, sql);
  } else {
    ChangeOldStore(reader, sql);
  }
  reader.Reopen();
  CHECK(Canonical(Confirmed(reader, cid)) != folded);  // what was stored, until the next sync

  REQUIRE(reader->SyncNow().ok());
  REQUIRE(fresh->SyncNow().ok());
  CHECK(Canonical(Confirmed(reader, cid)) == folded);
  CHECK(Canonical(Confirmed(fresh, cid)) == folded);
  CHECK(reader->Alarms().empty());
}

// A case with long notes in the whole case and in a restricted scope, a long blob, a long set
// element and a conflict between two long texts, plus short values; `fresh` reads it cold.
struct LongNotesCase {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  Device a{net}, b{net}, fresh{net};
  Bytes case_id;
  Bytes disputed;
  size_t note_bytes = 0;

  LongNotesCase() {
    auto cid =
        a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}, {fresh.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(cid.ok());
    case_id = *cid;
    auto scope = a->CreateScope(case_id, {fresh.account_id()});
    REQUIRE(scope.ok());
    for (int i = 0; i < 20; ++i) {
      auto e = a->CreateEntity(case_id, "agreement", i % 4 == 0 ? *scope : 0);
      REQUIRE(e.ok());
      REQUIRE(a->SetField(case_id, *e, "text", Text(LongNote(i))).ok());
      REQUIRE(a->SetField(case_id, *e, "owner", Text("tante")).ok());
      note_bytes += LongNote(i).size();
    }
    auto e = a->CreateEntity(case_id, "photo");
    REQUIRE(e.ok());
    v1::Value blob;
    blob.set_blob(ToString(crypto::RandomBytes(600)));
    REQUIRE(a->SetField(case_id, *e, "image", blob).ok());
    REQUIRE(a->AddToSet(case_id, *e, "helpers", Text(LongNote(30))).ok());
    auto d = a->CreateEntity(case_id, "agreement");
    REQUIRE(d.ok());
    disputed = *d;
    REQUIRE(a->SetField(case_id, disputed, "text", Text(LongNote(40))).ok());
    REQUIRE(a->SyncNow().ok());
    REQUIRE(b->SyncNow().ok());
    REQUIRE(a->SetField(case_id, disputed, "text", Text(LongNote(41))).ok());
    REQUIRE(b->SetField(case_id, disputed, "text", Text(LongNote(42))).ok());
    REQUIRE(a->SyncNow().ok());
    REQUIRE(b->SyncNow().ok());
    REQUIRE(fresh->SyncNow().ok());
  }
};

}  // namespace

TEST_CASE("a cold-synced case with long notes reads back the same after the store is reopened",
          "[stored-state]") {
  LongNotesCase c;
  const v1::CaseState synced = Confirmed(c.fresh, c.case_id);
  REQUIRE(synced.conflicts_size() == 1);
  REQUIRE(synced.conflicts(0).kept_value().text().size() > 2000);
  REQUIRE(synced.conflicts(0).other_value().text().size() > 2000);
  const std::string before = Canonical(synced);

  c.fresh.Reopen();  // nothing kept in memory: the state is read from the file
  const v1::CaseState reread = Confirmed(c.fresh, c.case_id);
  CHECK(Canonical(reread) == before);
  CHECK(reread.entities().at(Hex(c.disputed)).fields().at("text").value().text() == LongNote(42));
  CHECK(c.fresh->Alarms().empty());
  // The notes are in the log once; the sealed state holds what points at them.
  CHECK(static_cast<size_t>(StoredStateBytes(c.fresh)) < c.note_bytes / 4);

  // And it goes on from there: an edit and a sync rewrite the stored state, which reads back too.
  REQUIRE(c.fresh->SetField(c.case_id, c.disputed, "text", Text(LongNote(43))).ok());
  REQUIRE(c.fresh->SyncNow().ok());
  const std::string after_edit = Canonical(Confirmed(c.fresh, c.case_id));
  c.fresh.Reopen();
  CHECK(Canonical(Confirmed(c.fresh, c.case_id)) == after_edit);
  CHECK(Confirmed(c.fresh, c.case_id).conflicts(0).resolved());
}

TEST_CASE("a log entry the stored state needs that is gone or changed is data loss",
          "[stored-state]") {
  LongNotesCase c;
  const v1::CaseState synced = Confirmed(c.fresh, c.case_id);
  const uint64_t seq = synced.entities().at(Hex(c.disputed)).fields().at("text").seq();
  const uint64_t other = synced.conflicts(0).other_seq();
  REQUIRE(seq != other);
  c.fresh.Close();
  // In a store from before schema 14 (a row per entry), moved into segments when it is opened.
  SECTION("the row is removed") {
    ChangeOldStore(c.fresh, "DELETE FROM log WHERE seq = " + std::to_string(seq) +
                                "; PRAGMA user_version = 13;");
  }
  SECTION("the row holds another op of the case, which opens with the same key") {
    ChangeOldStore(c.fresh, "UPDATE log SET envelope = (SELECT envelope FROM log WHERE seq = " +
                                std::to_string(other) + ") WHERE seq = " + std::to_string(seq) +
                                "; PRAGMA user_version = 13;");
  }
  // In the segments themselves (store/log_segments.h).
  const std::string holding =
      " WHERE first_seq <= " + std::to_string(seq) + " AND last_seq >= " + std::to_string(seq);
  SECTION("the segment holding it is removed") {
    ChangeLog(c.fresh, "DELETE FROM log_segments" + holding);
  }
  SECTION("the segment holding it lost its last byte") {
    ChangeLog(c.fresh,
              "UPDATE log_segments SET envelopes = substr(envelopes, 1, length(envelopes) - 1)" +
                  holding);
  }
  SECTION("the segment holding it claims more entries than it has") {
    ChangeLog(c.fresh, "UPDATE log_segments SET first_seq = first_seq - 1" + holding);
  }
  c.fresh.Reopen();
  auto reread = c.fresh->ConfirmedView(c.case_id);
  CHECK(reread.status().code() == StatusCode::kDataLoss);
}

// The fields' sources (the op and SetField a long value came from) are the store's bookkeeping:
// nothing an app reads shows them, while the stored state still names its values by them.
TEST_CASE("a view of a case with long notes shows no field sources", "[stored-state]") {
  LongNotesCase c;
  auto sourced = [](const v1::CaseState& s) {
    int n = 0;
    for (const auto& [id, e] : s.entities()) {
      for (const auto& [name, f] : e.fields()) {
        if (f.source_mutation() != 0 || f.source_op_digest_lo() != 0 ||
            f.source_op_digest_hi() != 0) {
          ++n;
        }
      }
    }
    return n;
  };
  auto views = [&] {
    auto view = c.fresh->View(c.case_id);
    REQUIRE(view.ok());
    REQUIRE(view->entities().at(Hex(c.disputed)).fields().at("text").value().text().size() > 2000);
    CHECK(sourced(*view) == 0);
    CHECK(sourced(Confirmed(c.fresh, c.case_id)) == 0);
  };
  views();  // the state the sync kept in memory
  c.fresh.Reopen();
  views();  // read from the file

  // The store itself reads the sealed state back with the notes named by their ops.
  const std::string confirmed = Canonical(Confirmed(c.fresh, c.case_id));
  c.fresh.Close();
  auto store = client::LocalStore::Open(c.fresh.db_path(), c.fresh.storage_key());
  REQUIRE(store.ok());
  uint64_t version = 0;
  auto taken = (*store)->TakeCase(c.case_id, &version);
  REQUIRE(taken.ok());
  REQUIRE(taken->has_value());
  CHECK(sourced((*taken)->state) >= 20);  // the twenty agreements' notes, the photo's image
  auto loaded = (*store)->LoadCase(c.case_id);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK(sourced((*loaded)->state) == 0);
  CHECK(Canonical((*loaded)->state) == confirmed);
}

// Several pages of log and more left-out values than the store opens at once.
TEST_CASE("a case of more than a thousand long notes reads back the same", "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net), fresh(net);
  auto cid = a->CreateCase({{fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  std::vector<Bytes> notes;
  for (int i = 0; i < 1100; ++i) {
    auto e = a->CreateEntity(*cid, "agreement");
    REQUIRE(e.ok());
    REQUIRE(a->SetField(*cid, *e, "text", Text(LongNote(i))).ok());
    notes.push_back(*e);
  }
  REQUIRE(a->SyncNow().ok());
  REQUIRE(fresh->SyncNow().ok());
  const v1::CaseState synced = Confirmed(fresh, *cid);
  REQUIRE(synced.entities_size() == 1100);
  fresh.Reopen();
  const v1::CaseState reread = Confirmed(fresh, *cid);
  CHECK(Canonical(reread) == Canonical(synced));
  CHECK(reread.entities().at(Hex(notes.back())).fields().at("text").value().text() ==
        LongNote(1099));
  CHECK(fresh->Alarms().empty());
}

// The content rules changed since some states were stored (an op older clients applied is skipped
// now): a store from before is folded again from its log once, so it agrees with a new device.
TEST_CASE("a store written before the rules changed is folded again at its next sync",
          "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), reader(net);
  auto cid = chair->CreateCase({{reader.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SetField(*cid, *note, "text", Text("zoals het in het logboek staat")).ok());
  SyncAll({&chair, &reader});
  const std::string folded = Canonical(Confirmed(reader, *cid));

  // The reader's store as an older libkring left it: a state that folded one op differently,
  // and the schema from before.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    (*old.mutable_entities())[Hex(*note)].mutable_fields()->at("text").mutable_value()->set_text(
        "zoals vroeger gevouwen");
  });
  ChangeOldStore(reader,
                 "DROP TABLE refold_due; ALTER TABLE cases DROP COLUMN removal_unsettled; "
                 "PRAGMA user_version = 5;");
  reader.Reopen();
  CHECK(Canonical(Confirmed(reader, *cid)) != folded);  // what was stored, until the next sync

  REQUIRE(reader->SyncNow().ok());
  CHECK(Canonical(Confirmed(reader, *cid)) == folded);
  CHECK(Canonical(Confirmed(chair, *cid)) == folded);
  // Folded once: the mark is gone, a later sync pulls as before.
  reader.Close();
  {
    auto store = client::LocalStore::Open(reader.db_path(), reader.storage_key());
    REQUIRE(store.ok());
    auto due = (*store)->RefoldDue(*cid);
    REQUIRE(due.ok());
    CHECK_FALSE(*due);
  }
}

// The rules changed again after schema 8 (the chair's own person keeps its link, among others):
// a store from before, which applied a coordinator's relink of that person, is folded again once
// and then agrees with a device that folds the same log fresh.
TEST_CASE("a schema 8 store that applied a relink of the chair's person is folded again",
          "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator, &reader});
  auto blob = [](const Bytes& b) {
    v1::Value v;
    v.set_blob(ToString(b));
    return v;
  };
  // The coordinator enters the chair's own person, then moves its link to the reader: a relink
  // only the chair may make (person.chair_link), skipped by every device now.
  auto person = coordinator->CreateEntity(*cid, "person");
  REQUIRE(person.ok());
  REQUIRE(coordinator->SetField(*cid, *person, "kind", Text("family")).ok());
  REQUIRE(coordinator->SetField(*cid, *person, "status", Text("approved")).ok());
  REQUIRE(coordinator->SetField(*cid, *person, "account_id", blob(chair.account_id())).ok());
  REQUIRE(coordinator->SyncNow().ok());
  REQUIRE(coordinator->SetField(*cid, *person, "account_id", blob(reader.account_id())).ok());
  SyncAll({&coordinator, &chair, &reader});
  const std::string folded = Canonical(Confirmed(reader, *cid));
  CHECK(Confirmed(reader, *cid)
            .entities()
            .at(Hex(*person))
            .fields()
            .at("account_id")
            .value()
            .blob() == ToString(chair.account_id()));

  // The reader's store as a libkring of schema 8 left it: the relink applied.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    (*old.mutable_entities())[Hex(*person)]
        .mutable_fields()
        ->at("account_id")
        .mutable_value()
        ->set_blob(ToString(reader.account_id()));
  });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 8);
}

// The rules changed again after schema 9 (a later referral names the case's resident, nobody
// else is made resident): a store from before, which applied a coordinator's second resident, is
// folded again once and then agrees with a device that folds the same log fresh.
TEST_CASE("a schema 9 store that applied a second resident is folded again", "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator, &reader});
  // The coordinator's first referral names Sanne; then a second person is made resident, which
  // every device skips now.
  auto sanne = coordinator->CreateEntity(*cid, "person");
  auto second = coordinator->CreateEntity(*cid, "person");
  REQUIRE((sanne.ok() && second.ok()));
  REQUIRE(coordinator->SetField(*cid, *sanne, "kind", Text("resident")).ok());
  // The referral names its resident in the op that makes it (schema 12's rule).
  const Bytes referral = ToBytes(client::model::NewEntityId(0));
  REQUIRE(coordinator
              ->Submit(*cid,
                       {CreateMutation(referral, "referral"),
                        SetMutation(referral, "resident", Blob(*sanne))},
                       0)
              .ok());
  REQUIRE(coordinator->SetField(*cid, *second, "kind", Text("resident")).ok());
  SyncAll({&coordinator, &chair, &reader});
  const std::string folded = Canonical(Confirmed(reader, *cid));
  CHECK(Confirmed(reader, *cid).entities().at(Hex(*second)).fields().count("kind") == 0);

  // The reader's store as a libkring of schema 9 left it: the second resident applied.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    v1::FieldState& kind = (*(*old.mutable_entities())[Hex(*second)].mutable_fields())["kind"];
    kind.mutable_value()->set_text("resident");
  });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 9);
}

// The rules changed after schema 10 (a plan version only by the chair, a coordinator or the
// network in private time): a store from before, which applied a relative's version, is folded
// again once and then agrees with a device that folds the same log fresh.
TEST_CASE(
    "a schema 10 store that applied a relative's plan version is folded again (store schema 11)",
    "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), relative(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{relative.account_id(), v1::ROLE_MEMBER},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &relative, &reader});
  // Outside any private time: every device skips it now, and with it the chair's acceptance of
  // it (its hash matches no version), which a schema 10 device counted.
  const Bytes version = crypto::RandomBytes(crypto::kIdBytes);
  REQUIRE(relative
              ->Submit(*cid, {CreateMutation(version, "plan_version"),
                              SetMutation(version, "wil", Text("Ik wil dat mama beslist.")),
                              SetMutation(version, "contingency", Text("Mama bellen."))})
              .ok());
  SyncAll({&relative, &chair});
  v1::Entity content;
  (*content.mutable_fields())["wil"].mutable_value()->set_text("Ik wil dat mama beslist.");
  (*content.mutable_fields())["contingency"].mutable_value()->set_text("Mama bellen.");
  const std::string hash = ToString(domain::plan_model::PlanHash(content));
  const Bytes acceptance = crypto::RandomBytes(crypto::kIdBytes);
  v1::Value hash_value, at;
  hash_value.set_blob(hash);
  at.set_time_ms(1769817600000);
  REQUIRE(chair
              ->Submit(*cid, {CreateMutation(acceptance, "plan_acceptance"),
                              SetMutation(acceptance, "version_id", Blob(version)),
                              SetMutation(acceptance, "hash", hash_value),
                              SetMutation(acceptance, "accepted_at_ms", at)})
              .ok());
  SyncAll({&chair, &relative, &reader});
  const std::string folded = Canonical(Confirmed(reader, *cid));
  CHECK(Confirmed(reader, *cid).entities().count(Hex(version)) == 0);
  CHECK_FALSE(domain::ReadAcceptedVersion(Confirmed(reader, *cid)).has_value());

  // The reader's store as a libkring of schema 10 left it: the version applied, and the chair's
  // acceptance with its hash, so that version counted as the accepted plan.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    v1::Entity& e = (*old.mutable_entities())[Hex(version)];
    e.set_entity_id(ToString(version));
    e.set_type("plan_version");
    e.set_created_by_account_id(ToString(relative.account_id()));
    *e.mutable_fields() = content.fields();
    v1::Entity& a = (*old.mutable_entities())[Hex(acceptance)];
    REQUIRE(a.type() == "plan_acceptance");
    REQUIRE(a.fields().count("hash") == 0);
    *(*a.mutable_fields())["hash"].mutable_value() = hash_value;
    REQUIRE(domain::ReadAcceptedVersion(old).has_value());
  });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 10);
  CHECK_FALSE(domain::ReadAcceptedVersion(Confirmed(reader, *cid)).has_value());
}

// The rules changed after schema 11 (the first referral names only a person entered as the
// resident, in the op that makes it): a store from before, which applied a professional's first
// referral naming her own person, is folded again once and then agrees with a device that folds
// the same log fresh.
TEST_CASE("a schema 11 store that applied a first referral naming no resident is folded again",
          "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), teacher(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {teacher.account_id(), v1::ROLE_MEMBER},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator, &teacher, &reader});
  // The coordinator enters Sanne as the resident and the teacher as an approved professional,
  // who may make the first referral.
  auto sanne = coordinator->CreateEntity(*cid, "person");
  auto joke = coordinator->CreateEntity(*cid, "person");
  REQUIRE((sanne.ok() && joke.ok()));
  REQUIRE(coordinator->SetField(*cid, *sanne, "kind", Text("resident")).ok());
  REQUIRE(coordinator->SetField(*cid, *joke, "kind", Text("professional")).ok());
  REQUIRE(coordinator->SetField(*cid, *joke, "status", Text("approved")).ok());
  REQUIRE(coordinator->SetField(*cid, *joke, "account_id", Blob(teacher.account_id())).ok());
  SyncAll({&coordinator, &teacher});
  // Her first referral names her own person as the resident: every device skips that now.
  const Bytes referral = ToBytes(client::model::NewEntityId(0));
  REQUIRE(teacher
              ->Submit(*cid,
                       {CreateMutation(referral, "referral"),
                        SetMutation(referral, "resident", Blob(*joke))},
                       0)
              .ok());
  SyncAll({&teacher, &coordinator, &chair, &reader});
  const std::string folded = Canonical(Confirmed(reader, *cid));
  CHECK(Confirmed(reader, *cid).entities().at(Hex(referral)).fields().count("resident") == 0);

  // The reader's store as a libkring of schema 11 left it: the referral names her person.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    v1::FieldState& resident =
        (*(*old.mutable_entities())[Hex(referral)].mutable_fields())["resident"];
    resident.mutable_value()->set_blob(ToString(*joke));
  });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 11);
}

// The rules changed after schema 12 (the network makes its plan version only as it ends its
// released private time): a store from before, which applied a relative's version in a private
// time not released, is folded again once and then agrees with a device that folds it fresh.
TEST_CASE("a schema 12 store is folded again for the network's one version", "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), relative(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{relative.account_id(), v1::ROLE_MEMBER},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &relative, &reader});
  // The relative is of the network, alone in the private time's scope.
  auto person = chair->CreateEntity(*cid, "person");
  REQUIRE(person.ok());
  REQUIRE(chair->SetField(*cid, *person, "kind", Text("family")).ok());
  REQUIRE(chair->SetField(*cid, *person, "status", Text("approved")).ok());
  REQUIRE(chair->SetField(*cid, *person, "account_id", Blob(relative.account_id())).ok());
  SyncAll({&chair, &relative});
  auto scope = relative->CreateScope(*cid, {});
  REQUIRE(scope.ok());
  SyncAll({&relative, &chair});
  auto meeting = chair->CreateEntity(*cid, "meeting");
  REQUIRE(meeting.ok());
  v1::Value private_scope;
  private_scope.set_integer(*scope);
  REQUIRE(chair->SetField(*cid, *meeting, "private_scope", private_scope).ok());
  REQUIRE(chair->SetField(*cid, *meeting, "phase", Text("private_time")).ok());
  SyncAll({&chair, &relative, &reader});
  // In private time, not released: every device skips it now.
  auto version = relative->CreateEntity(*cid, "plan_version");
  REQUIRE(version.ok());
  SyncAll({&relative, &chair, &reader});
  const v1::CaseState now = Confirmed(reader, *cid);
  REQUIRE(now.entities().at(Hex(*meeting)).fields().at("phase").value().text() == "private_time");
  CHECK(now.entities().count(Hex(*version)) == 0);
  const std::string folded = Canonical(now);

  // The reader's store as a libkring of schema 12 left it: the version applied.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    v1::Entity& e = (*old.mutable_entities())[Hex(*version)];
    e.set_entity_id(ToString(*version));
    e.set_type("plan_version");
    e.set_created_by_account_id(ToString(relative.account_id()));
  });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 12);
}

// The order of a log written before the network's release ended private time: the meeting
// release, the network's plan release (no `network_version` then) while the meeting is still in
// private time, and the organiser moves the phase on. The refold keeps that first version as the
// network's; a second one the old rules let through in the same private time is dropped.
TEST_CASE("a schema 11 store keeps the network's version of the old order", "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), relative(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{relative.account_id(), v1::ROLE_MEMBER},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &relative, &reader});
  auto person = chair->CreateEntity(*cid, "person");
  REQUIRE(person.ok());
  REQUIRE(chair->SetField(*cid, *person, "kind", Text("family")).ok());
  REQUIRE(chair->SetField(*cid, *person, "status", Text("approved")).ok());
  REQUIRE(chair->SetField(*cid, *person, "account_id", Blob(relative.account_id())).ok());
  SyncAll({&chair, &relative});
  auto scope = relative->CreateScope(*cid, {});
  REQUIRE(scope.ok());
  SyncAll({&relative, &chair});
  auto meeting = chair->CreateEntity(*cid, "meeting");
  REQUIRE(meeting.ok());
  v1::Value private_scope;
  private_scope.set_integer(*scope);
  REQUIRE(chair->SetField(*cid, *meeting, "private_scope", private_scope).ok());
  REQUIRE(chair->SetField(*cid, *meeting, "phase", Text("private_time")).ok());
  SyncAll({&chair, &relative, &reader});
  v1::Value released;
  released.set_flag(true);
  REQUIRE(relative->SetField(*cid, *meeting, "draft_released", released).ok());
  auto version = relative->CreateEntity(*cid, "plan_version");
  REQUIRE(version.ok());
  auto second = relative->CreateEntity(*cid, "plan_version");
  REQUIRE(second.ok());
  SyncAll({&relative, &chair});
  REQUIRE(chair->SetField(*cid, *meeting, "phase", Text("plan_presentation")).ok());
  SyncAll({&chair, &relative, &reader});
  const v1::CaseState now = Confirmed(reader, *cid);
  CHECK(now.entities().count(Hex(*version)) == 1);
  CHECK(now.entities().count(Hex(*second)) == 0);
  const std::string folded = Canonical(now);

  // The reader's store as a libkring of schema 11 left it: both versions applied.
  reader.Close();
  ReplaceStoredState(reader, *cid, [&](v1::CaseState& old) {
    v1::Entity& e = (*old.mutable_entities())[Hex(*second)];
    e.set_entity_id(ToString(*second));
    e.set_type("plan_version");
    e.set_created_by_account_id(ToString(relative.account_id()));
  });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 11);
  CHECK(Confirmed(fresh, *cid).entities().count(Hex(*version)) == 1);
}

// kringd before commit e9b44d2 stored pushed envelopes with unknown fields (bytes no signature or
// hash covers), and clients took them: a device may hold such envelopes in its verified log. Its
// next refold must fold them as before, not stop the case with "verified log no longer replays".
TEST_CASE("a stored log with envelopes holding unknown fields is folded again at the next sync",
          "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), reader(net);
  auto cid = chair->CreateCase({{reader.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SetField(*cid, *note, "text", Text("met onbekende velden bewaard")).ok());
  SyncAll({&chair, &reader});
  const std::string folded = Canonical(Confirmed(reader, *cid));

  // Field 100, length-delimited, one byte, after every stored envelope; and a refold due.
  reader.Close();
  ChangeOldStore(reader,
                 "UPDATE log SET envelope = envelope || x'a2060178'; "
                 "DROP TABLE refold_due; ALTER TABLE cases DROP COLUMN removal_unsettled; "
                 "PRAGMA user_version = 5;");
  reader.Reopen();
  REQUIRE(reader->SyncNow().ok());
  CHECK(Canonical(Confirmed(reader, *cid)) == folded);
  CHECK(reader->Alarms().empty());
}

// The fold keeps who was removed from the case since schema 15: a store from before, whose state
// has no such record, is folded again once, so a person whose account was taken out does not
// read as never having been in the app.
TEST_CASE("a schema 14 store is folded again for the accounts removed", "[stored-state]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), gone(net), reader(net), fresh(net);
  auto cid = chair->CreateCase({{gone.account_id(), v1::ROLE_MEMBER},
                                {reader.account_id(), v1::ROLE_MEMBER},
                                {fresh.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &gone, &reader});
  REQUIRE(chair->RemoveMember(*cid, gone.account_id()).ok());
  SyncAll({&chair, &reader});
  const v1::CaseState now = Confirmed(reader, *cid);
  REQUIRE(now.removed_account_ids_size() == 1);
  CHECK(ToBytes(now.removed_account_ids(0)) == gone.account_id());
  const std::string folded = Canonical(now);

  // The reader's store as a libkring of schema 14 left it: no removal recorded.
  reader.Close();
  ReplaceStoredState(reader, *cid, [](v1::CaseState& old) { old.clear_removed_account_ids(); });
  RequireFoldedAgainAtNextSync(reader, fresh, *cid, folded, 14);
}
