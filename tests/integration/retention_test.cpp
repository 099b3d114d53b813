// Closing, retention and erasure (DOMAIN step 9): after erasure on request or the end of the
// retention period kringd's database holds no content of the case (only the tombstone and its
// history without content, erasure_history_test.cpp), and every device deletes its copy once it
// has checked the signed request; a server that only claims so gets an alarm instead.
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/common/sqlite.h"

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

namespace {

// Rows that still name the case, in every table of kringd's database that has a case_id.
int64_t ServerRowsOf(const TestServer& server, const Bytes& case_id) {
  auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3", /*read_only=*/true);
  INFO(db.status().message());
  REQUIRE(db.ok());
  // ops are keyed by the case's case_key, which goes with its cases row: count the ops whose
  // envelope names the case (the header carries the case id's 16 bytes).
  int64_t rows = 0;
  {
    sql::Statement st(*db, "SELECT COUNT(*) FROM ops WHERE instr(envelope, ?) > 0");
    st.Bind(1, case_id);
    REQUIRE(st.Step());
    rows += st.Int(0);
  }
  for (const char* table : {"cases", "case_members", "scopes", "scope_members", "device_cursors",
                            "case_invites", "case_pending"}) {
    sql::Statement st(*db, std::string("SELECT COUNT(*) FROM ") + table + " WHERE case_id = ?");
    st.Bind(1, case_id);
    REQUIRE(st.Step());
    rows += st.Int(0);
  }
  return rows;
}

bool Tombstoned(const TestServer& server, const Bytes& case_id) {
  auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3", /*read_only=*/true);
  REQUIRE(db.ok());
  sql::Statement st(*db, "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?");
  st.Bind(1, case_id);
  REQUIRE(st.Step());
  return st.Int(0) == 1;
}

bool Has(const std::vector<Bytes>& cases, const Bytes& id) {
  for (const Bytes& c : cases) {
    if (c == id) return true;
  }
  return false;
}

std::string DirOf(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// A stretch of one content op's ciphertext: random bytes that exist only in that case's data.
std::string CiphertextSample(const std::vector<v1::LogEntry>& seen) {
  for (const auto& e : seen) {
    if (e.envelope().ciphertext().size() >= 48) return e.envelope().ciphertext().substr(8, 32);
  }
  return {};
}

}  // namespace

TEST_CASE("erasure on request leaves nothing of the case on the server or the devices",
          "[retention]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto recorder = std::make_shared<TamperTransport>(net);
  Device chair(net), coordinator(recorder), cousin(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto other = chair->CreateCase({{cousin.account_id(), v1::ROLE_MEMBER}});  // stays
  REQUIRE(other.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->SetField(*cid, *note, "text", Text("wat niemand mag weten")).ok());
  REQUIRE(chair->SyncNow().ok());
  std::vector<v1::LogEntry> seen;
  recorder->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const auto& e : resp.entries()) seen.push_back(e);
  };
  for (Device* d : {&coordinator, &cousin}) REQUIRE((*d)->SyncNow().ok());
  const std::string sample = CiphertextSample(seen);
  REQUIRE(!sample.empty());

  // Only the resident may ask for erasure once they are in.
  CHECK(cousin->EraseCase(*cid).code() == StatusCode::kPermissionDenied);
  CHECK(coordinator->EraseCase(*cid).code() == StatusCode::kPermissionDenied);

  std::vector<client::ChangeEvent::Kind> cousin_events;
  cousin->AddChangeListener([&](const client::ChangeEvent& e) { cousin_events.push_back(e.kind); });
  REQUIRE(chair->EraseCase(*cid).ok());
  REQUIRE(chair->SyncNow().ok());
  CHECK(ServerRowsOf(server, *cid) == 0);
  CHECK(Tombstoned(server, *cid));
  CHECK(ServerRowsOf(server, *other) > 0);  // other cases are untouched

  for (Device* d : {&chair, &coordinator, &cousin}) {
    REQUIRE((*d)->SyncNow().ok());
    CHECK_FALSE(Has((*d)->Cases(), *cid));
    CHECK((*d)->View(*cid).status().code() == StatusCode::kNotFound);
    CHECK((*d)->Alarms().empty());
  }
  CHECK(std::find(cousin_events.begin(), cousin_events.end(),
                  client::ChangeEvent::Kind::kCaseDeleted) != cousin_events.end());
  CHECK(Has(cousin->Cases(), *other));
  CHECK(cousin->View(*other).ok());

  // Byte level: neither kringd's files nor a device's store still hold the case's ciphertext.
  coordinator.Close();
  CHECK(FilesContaining(DirOf(coordinator.db_path()), sample).empty());
  REQUIRE(server.Stop() == 0);
  CHECK(FilesContaining(server.data_dir(), sample).empty());
}

TEST_CASE("a closed case is read-only and is deleted everywhere when its retention ends",
          "[retention]") {
  TestServer server({"--retention-sweep-seconds", "1"});
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  auto plan = chair->CreateEntity(*cid, "plan");
  REQUIRE(plan.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(coordinator->SyncNow().ok());

  CHECK(coordinator->CloseCase(*cid, 3651).code() == StatusCode::kInvalidArgument);
  // Once the resident is in, only they can make the case go soon: a coordinator's close keeps
  // at least 30 days.
  CHECK(coordinator->CloseCase(*cid, 0).code() == StatusCode::kPermissionDenied);
  CHECK(coordinator->CloseCase(*cid, 29).code() == StatusCode::kPermissionDenied);
  // An edit made offline before the close can no longer be accepted: it is refused visibly.
  REQUIRE(coordinator->SetField(*cid, *plan, "late", Text("te laat")).ok());
  REQUIRE(chair->CloseCase(*cid, 0).ok());
  REQUIRE(chair->SyncNow().ok());
  // The sweep runs every second: wait for the server to delete the case.
  for (int i = 0; i < 100 && ServerRowsOf(server, *cid) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(ServerRowsOf(server, *cid) == 0);
  CHECK(Tombstoned(server, *cid));

  for (Device* d : {&chair, &coordinator}) {
    REQUIRE((*d)->SyncNow().ok());
    CHECK_FALSE(Has((*d)->Cases(), *cid));
    CHECK((*d)->Alarms().empty());
  }
}

TEST_CASE("a closed case takes no edits and keeps them from the server", "[retention]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), sister(net);
  auto cid = chair->CreateCase({{sister.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(sister->SyncNow().ok());
  CHECK(sister->CloseCase(*cid, 30).code() == StatusCode::kPermissionDenied);
  auto note = sister->CreateEntity(*cid, "note");  // offline, before she hears of the close
  REQUIRE(note.ok());
  REQUIRE(chair->CloseCase(*cid, 30).ok());
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(sister->SyncNow().ok());
  v1::CaseState s = *sister->ConfirmedView(*cid);
  CHECK(s.closed());
  CHECK(s.retention_days() == 30);
  CHECK(s.entities().empty());  // the late edit was refused, not applied
  CHECK(sister->PendingIntents(*cid) == 0);
  CHECK(sister->CreateEntity(*cid, "note").status().code() == StatusCode::kFailedPrecondition);
  CHECK(Has(sister->Cases(), *cid));  // still there until the retention ends
  CHECK(ServerRowsOf(server, *cid) > 0);
}

TEST_CASE("a server that claims a case is gone without a valid request raises an alarm",
          "[retention]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto liar = std::make_shared<TamperTransport>(net);
  Device chair(net), member(liar);
  auto cid = chair->CreateCase({{member.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto note = chair->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(chair->CloseCase(*cid, 30).ok());  // closed, but 30 days of retention remain
  REQUIRE(chair->SyncNow().ok());
  std::vector<v1::LogEntry> log;
  liar->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const auto& e : resp.entries()) log.push_back(e);
  };
  REQUIRE(member->SyncNow().ok());
  REQUIRE(log.size() >= 4);

  SECTION("a tombstone naming an ordinary op") {
    v1::LogEntry content;
    for (const auto& e : log) {
      if (!e.envelope().ciphertext().empty()) content = e;
    }
    liar->on_pull = [case_id = *cid, content](const v1::PullRequest&, v1::PullResponse& resp) {
      resp.Clear();
      resp.mutable_erased()->set_case_id(ToString(case_id));
      *resp.mutable_erased()->mutable_trigger() = content;
    };
  }
  SECTION("a tombstone naming the close before its retention ended") {
    liar->on_pull = [case_id = *cid, close = log.back()](const v1::PullRequest&,
                                                         v1::PullResponse& resp) {
      resp.Clear();
      resp.mutable_erased()->set_case_id(ToString(case_id));
      *resp.mutable_erased()->mutable_trigger() = close;
    };
  }
  (void)member->SyncNow();
  CHECK(Has(member->Cases(), *cid));
  CHECK(member->ConfirmedView(*cid).ok());
  auto alarms = member->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == client::AlarmKind::kTamper);
}
