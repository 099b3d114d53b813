// An erased case's tombstone keeps the log's control ops and the content ops' hashes (no
// content) for a device that was away: it checks the erasure against the state that log leads to,
// not against the state it last synced (docs/protocol.md section 9, docs/threat-model.md).
#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

namespace {

bool Has(const std::vector<Bytes>& cases, const Bytes& id) {
  return std::find(cases.begin(), cases.end(), id) != cases.end();
}

int64_t Count(const TestServer& server, const std::string& sql, const Bytes& case_id) {
  auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3", /*read_only=*/true);
  REQUIRE(db.ok());
  sql::Statement st(*db, sql);
  st.Bind(1, case_id);
  REQUIRE(st.Step());
  return st.Int(0);
}

// Anna (a coordinator; the case has no chair), Bas and Carla (members) share a case, and every
// device has synced it. Then Bas's device stays away while the others go on.
struct AwayCase {
  // By default the retention sweep runs every second (a close's deletion comes quickly).
  explicit AwayCase(std::vector<std::string> server_args = {"--retention-sweep-seconds", "1"},
                    TestServer::Log log = TestServer::Log::kInherit)
      : server(std::move(server_args), log) {
    Init();
  }

  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  std::shared_ptr<TamperTransport> bas_wire = std::make_shared<TamperTransport>(net);
  Device anna{net}, bas{bas_wire}, carla{net};
  Bytes case_id;
  std::vector<client::ChangeEvent::Kind> bas_events;

  void Init() {
    auto cid = anna->CreateCase({{anna.account_id(), v1::ROLE_COORDINATOR},
                                 {bas.account_id(), v1::ROLE_MEMBER},
                                 {carla.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(cid.ok());
    case_id = *cid;
    Write("voor iedereen");
    REQUIRE(anna->SyncNow().ok());
    for (Device* d : {&bas, &carla}) REQUIRE((*d)->SyncNow().ok());
    bas->AddChangeListener([this](const client::ChangeEvent& e) { bas_events.push_back(e.kind); });
  }

  // Anna writes a note (content ops) and pushes it.
  void Write(const std::string& text) {
    auto note = anna->CreateEntity(case_id, "note");
    REQUIRE(note.ok());
    REQUIRE(anna->SetField(case_id, *note, "text", Text(text)).ok());
    REQUIRE(anna->SyncNow().ok());
  }

  // While Bas is away: Anna makes Carla coordinator, the case goes on, and Carla erases it.
  void PromoteCarlaAndErase() {
    REQUIRE(anna->SetRole(case_id, carla.account_id(), v1::ROLE_COORDINATOR).ok());
    REQUIRE(anna->SyncNow().ok());
    Write("na de rolwissel");
    REQUIRE(carla->SyncNow().ok());
    REQUIRE(carla->EraseCase(case_id).ok());
    REQUIRE(carla->SyncNow().ok());
    REQUIRE(Count(server, "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?", case_id) == 1);
  }

  bool BasDeleted() {
    return !Has(bas->Cases(), case_id) &&
           std::find(bas_events.begin(), bas_events.end(),
                     client::ChangeEvent::Kind::kCaseDeleted) != bas_events.end();
  }

  void CheckBasKeptItWithTamper() {
    CHECK(Has(bas->Cases(), case_id));
    CHECK(bas->ConfirmedView(case_id).ok());
    auto alarms = bas->Alarms();
    REQUIRE(alarms.size() == 1);
    CHECK(alarms[0].kind == client::AlarmKind::kTamper);
  }
};

}  // namespace

TEST_CASE("a device that was away accepts an erasure by someone made coordinator meanwhile",
          "[erasure]") {
  AwayCase c;
  c.PromoteCarlaAndErase();
  int history_pages = 0;
  c.bas_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (resp.erased().history_size() > 0) ++history_pages;
  };
  REQUIRE(c.bas->SyncNow().ok());
  CHECK(c.BasDeleted());
  CHECK(c.bas->Alarms().empty());
  CHECK(c.bas->View(c.case_id).status().code() == StatusCode::kNotFound);
  CHECK(history_pages == 1);
}

TEST_CASE("a device that was away accepts an erasure by a coordinator added meanwhile",
          "[erasure]") {
  AwayCase c;
  Device dora(c.net);
  REQUIRE(c.anna->AddMember(c.case_id, {dora.account_id(), v1::ROLE_COORDINATOR}).ok());
  REQUIRE(c.anna->SyncNow().ok());
  c.Write("voor Dora ook");
  REQUIRE(dora->SyncNow().ok());
  REQUIRE(dora->EraseCase(c.case_id).ok());
  REQUIRE(dora->SyncNow().ok());
  REQUIRE(c.bas->SyncNow().ok());
  CHECK(c.BasDeleted());
  CHECK(c.bas->Alarms().empty());
}

TEST_CASE("a device that was away accepts a deletion after a close by someone made coordinator",
          "[erasure]") {
  AwayCase c;
  REQUIRE(c.anna->SetRole(c.case_id, c.carla.account_id(), v1::ROLE_COORDINATOR).ok());
  REQUIRE(c.anna->SyncNow().ok());
  c.Write("voor het sluiten");
  REQUIRE(c.carla->SyncNow().ok());
  REQUIRE(c.carla->CloseCase(c.case_id, 0).ok());
  REQUIRE(c.carla->SyncNow().ok());
  // The sweep runs every second: wait for kringd to delete the case.
  const std::string tombstones = "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?";
  for (int i = 0; i < 100 && Count(c.server, tombstones, c.case_id) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(Count(c.server, tombstones, c.case_id) == 1);
  REQUIRE(c.bas->SyncNow().ok());
  CHECK(c.BasDeleted());
  CHECK(c.bas->Alarms().empty());
}

TEST_CASE("a device far behind checks an erasure over several pages of history", "[erasure]") {
  AwayCase c;
  c.bas_wire->pull_limit = 3;
  for (int i = 0; i < 4; ++i) c.Write("bericht " + std::to_string(i));
  c.PromoteCarlaAndErase();
  int history_pages = 0;
  c.bas_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (resp.erased().history_size() > 0) ++history_pages;
    CHECK(resp.erased().history_size() <= 3);
  };
  REQUIRE(c.bas->SyncNow().ok());
  CHECK(c.BasDeleted());
  CHECK(c.bas->Alarms().empty());
  CHECK(history_pages >= 4);
}

TEST_CASE("a coordinator demoted while a device was away cannot erase the case", "[erasure]") {
  AwayCase c;
  REQUIRE(c.anna->SetRole(c.case_id, c.carla.account_id(), v1::ROLE_COORDINATOR).ok());
  REQUIRE(c.anna->SyncNow().ok());
  REQUIRE(c.bas->SyncNow().ok());
  REQUIRE(c.carla->SyncNow().ok());
  // Carla's device has not seen her demotion: kringd refuses her erasure.
  REQUIRE(c.anna->SetRole(c.case_id, c.carla.account_id(), v1::ROLE_MEMBER).ok());
  REQUIRE(c.anna->SyncNow().ok());
  REQUIRE(c.carla->EraseCase(c.case_id).ok());  // queued
  (void)c.carla->SyncNow();
  CHECK(Count(c.server, "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?", c.case_id) == 0);
  REQUIRE(c.bas->SyncNow().ok());
  CHECK(Has(c.bas->Cases(), c.case_id));
  CHECK(c.bas->Alarms().empty());
}

// What a lying server does after changing an entry of the history: recompute the chain hashes
// from entry `from` on, and the trigger's, so only the device's own checks can tell.
void Rechain(v1::CaseErased& e, int from) {
  REQUIRE(from > 0);
  for (int i = from; i < e.history_size(); ++i) {
    v1::ErasedEntry& h = *e.mutable_history(i);
    const Bytes hash =
        h.has_control() ? protocol::EnvelopeHash(h.control()) : ToBytes(h.envelope_hash());
    h.set_chain_hash(
        ToString(protocol::ChainHash(ToBytes(e.history(i - 1).chain_hash()), h.seq(), hash)));
  }
  const Bytes last = ToBytes(e.history(e.history_size() - 1).chain_hash());
  e.mutable_trigger()->set_chain_hash(ToString(protocol::ChainHash(
      last, e.trigger().seq(), protocol::EnvelopeHash(e.trigger().envelope()))));
}

// The index of the history's SetRole.
int SetRoleAt(const v1::CaseErased& e) {
  for (int i = 0; i < e.history_size(); ++i) {
    v1::OpHeader header;
    if (e.history(i).has_control() && header.ParseFromString(e.history(i).control().header()) &&
        header.kind() == v1::OP_KIND_SET_ROLE) {
      return i;
    }
  }
  FAIL("no SetRole in the history");
  return -1;
}

TEST_CASE("a server that tampers with an erased case's history gets an alarm, not a deletion",
          "[erasure]") {
  AwayCase c;
  c.Write("voor de rolwissel");  // the history starts with content ops
  c.PromoteCarlaAndErase();
  std::function<void(v1::CaseErased&)> tamper;
  std::string expected;
  SECTION("a control op changed, the chain recomputed") {
    tamper = [](v1::CaseErased& e) {
      const int at = SetRoleAt(e);
      v1::ControlBody body;
      REQUIRE(body.ParseFromString(e.history(at).control().control_body()));
      body.mutable_set_role()->set_role(v1::ROLE_MEMBER);
      e.mutable_history(at)->mutable_control()->set_control_body(body.SerializeAsString());
      Rechain(e, at);
    };
    expected = "signature does not verify";
  }
  SECTION("a chain link broken") {
    tamper = [](v1::CaseErased& e) {
      std::string& hash = *e.mutable_history(0)->mutable_envelope_hash();
      REQUIRE(hash.size() == 32);
      hash[0] = static_cast<char>(hash[0] ^ 1);
    };
    expected = "erased case's history does not link";
  }
  SECTION("the history stops short of the erasure") {
    tamper = [](v1::CaseErased& e) {
      e.mutable_history()->RemoveLast();
      e.set_more(false);
    };
    expected = "erased case's history stops before the erasure";
  }
  SECTION("an entry at the erasure's seq") {
    tamper = [](v1::CaseErased& e) {
      v1::ErasedEntry* extra = e.add_history();
      extra->set_seq(e.trigger().seq());
      extra->set_chain_hash(e.trigger().chain_hash());
      extra->set_envelope_hash(ToString(protocol::EnvelopeHash(e.trigger().envelope())));
    };
    expected = "erased case's history is out of order";
  }
  SECTION("a content op served whole") {
    // A lying server cannot pass a content op off as a control op: the device folds only
    // control ops, and sees this one's kind in its signed header.
    tamper = [](v1::CaseErased& e) {
      const int at = SetRoleAt(e);
      v1::OpHeader header;
      REQUIRE(header.ParseFromString(e.history(at).control().header()));
      header.set_kind(v1::OP_KIND_CONTENT);
      v1::Envelope* env = e.mutable_history(at)->mutable_control();
      env->set_header(header.SerializeAsString());
      env->clear_control_body();
      env->set_nonce(std::string(24, 'n'));
      env->set_key_commitment(std::string(32, 'k'));
      env->set_ciphertext(std::string(32, 'c'));
      Rechain(e, at);
    };
    expected = "content op in an erased case's history";
  }
  SECTION("the promotion passed off as a content op") {
    // Only the SetRole's envelope hash: the chain still links, and the device checks the erasure
    // against a state without the promotion (docs/threat-model.md: a false alarm at worst).
    tamper = [](v1::CaseErased& e) {
      const int at = SetRoleAt(e);
      e.mutable_history(at)->set_envelope_hash(
          ToString(protocol::EnvelopeHash(e.history(at).control())));
    };
    expected = "erasure request by someone who may not erase";
  }
  int tampered = 0;
  c.bas_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (resp.has_erased() && resp.erased().history_size() > 0 && tampered++ == 0) {
      tamper(*resp.mutable_erased());
    }
  };
  (void)c.bas->SyncNow();
  CHECK(tampered >= 1);
  c.CheckBasKeptItWithTamper();
  REQUIRE(c.bas->Alarms().size() == 1);
  CHECK(c.bas->Alarms()[0].detail == expected);
}

TEST_CASE("a tombstone from a kringd that kept no history is checked against the last synced state",
          "[erasure]") {
  AwayCase c;
  auto forget_history = [&] {
    REQUIRE(c.server.Stop() == 0);
    {
      auto db = sql::Database::Open(c.server.data_dir() + "/data/kringd.sqlite3");
      REQUIRE(db.ok());
      REQUIRE(db->Exec("DELETE FROM erased_history").ok());
    }
    c.server.Restart();
  };
  SECTION("an erasure by someone made coordinator meanwhile raises the alarm of before") {
    c.PromoteCarlaAndErase();
    forget_history();
    (void)c.bas->SyncNow();
    c.CheckBasKeptItWithTamper();
  }
  SECTION("an erasure by a coordinator Bas knows deletes his copy") {
    c.Write("nog iets");
    REQUIRE(c.anna->EraseCase(c.case_id).ok());
    REQUIRE(c.anna->SyncNow().ok());
    forget_history();
    REQUIRE(c.bas->SyncNow().ok());
    CHECK(c.BasDeleted());
    CHECK(c.bas->Alarms().empty());
  }
}

TEST_CASE("kringd keeps an erased case's history without content, for its members only",
          "[erasure]") {
  AwayCase c;
  auto eva_wire = std::make_shared<TamperTransport>(c.net);
  auto stranger_wire = std::make_shared<TamperTransport>(c.net);
  Device eva(eva_wire), stranger(stranger_wire);
  REQUIRE(c.anna->AddMember(c.case_id, {eva.account_id(), v1::ROLE_MEMBER}).ok());
  REQUIRE(c.anna->SyncNow().ok());
  REQUIRE(eva->SyncNow().ok());
  REQUIRE(c.anna->RemoveMember(c.case_id, eva.account_id()).ok());
  REQUIRE(c.anna->SyncNow().ok());
  c.PromoteCarlaAndErase();

  // One row per seq before the erasure: control ops whole, content ops as a 32-byte hash.
  const std::string by_case = " FROM erased_history WHERE case_id = ?";
  const int64_t rows = Count(c.server, "SELECT COUNT(*)" + by_case, c.case_id);
  CHECK(rows > 5);
  CHECK(Count(c.server, "SELECT MAX(seq)" + by_case, c.case_id) == rows);
  CHECK(Count(c.server,
              "SELECT COUNT(*)" + by_case +
                  " AND (control_envelope IS NULL) = (envelope_hash IS NULL)",
              c.case_id) == 0);
  CHECK(Count(c.server,
              "SELECT COUNT(*)" + by_case +
                  " AND envelope_hash IS NOT NULL AND "
                  "length(envelope_hash) = 32",
              c.case_id) > 0);
  // No ciphertext: every kept envelope is a control op (no nonce, commitment or ciphertext).
  {
    auto db = sql::Database::Open(c.server.data_dir() + "/data/kringd.sqlite3", /*read_only=*/true);
    REQUIRE(db.ok());
    sql::Statement st(*db,
                      "SELECT control_envelope" + by_case + " AND control_envelope IS NOT NULL");
    st.Bind(1, c.case_id);
    int controls = 0;
    while (st.Step()) {
      v1::Envelope env;
      REQUIRE(env.ParseFromString(st.BlobString(0)));
      CHECK(env.ciphertext().empty());
      CHECK(env.nonce().empty());
      CHECK_FALSE(env.control_body().empty());
      ++controls;
    }
    CHECK(controls >= 4);  // CreateCase, Rekeys, AddMember, RemoveMember, SetRole
  }

  // Served to a member at the erasure, from its cursor; to the removed Eva and to a stranger
  // only the tombstone.
  auto pull_as = [&](const std::string& token) {
    v1::PullRequest req;
    req.set_case_id(ToString(c.case_id));
    auto resp = c.net->Pull(req, token);
    REQUIRE(resp.ok());
    REQUIRE(resp->has_erased());
    return resp->erased();
  };
  REQUIRE(c.bas->SyncNow().ok());  // Bas's device signs in through bas_wire
  CHECK(pull_as(c.bas_wire->last_token()).history_size() == rows);
  CHECK_FALSE(pull_as(c.bas_wire->last_token()).more());
  CHECK(pull_as(eva_wire->last_token()).history_size() == 0);
  REQUIRE(stranger->CreateCase({}).ok());  // a case of its own: its device signs in
  REQUIRE(stranger->SyncNow().ok());
  REQUIRE_FALSE(stranger_wire->last_token().empty());
  CHECK(pull_as(stranger_wire->last_token()).history_size() == 0);
}

namespace {

// With kringd stopped, makes the case's stored op at `seq` unreadable (0xff starts a varint that
// never ends), then starts kringd again.
void CorruptStoredOp(TestServer& server, const Bytes& case_id, int64_t seq) {
  REQUIRE(server.Stop() == 0);
  {
    auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    sql::Statement st(*db,
                      "UPDATE ops SET envelope = X'ff' WHERE seq = ? AND case_key = "
                      "(SELECT case_key FROM cases WHERE case_id = ?)");
    st.Bind(1, seq).Bind(2, case_id);
    REQUIRE(st.Run().ok());
    REQUIRE(db->Changes() == 1);
  }
  server.Restart();
}

}  // namespace

TEST_CASE("one unreadable stored op blocks neither an erasure nor a retention sweep's other cases",
          "[erasure]") {
  const std::string tombstones = "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?";
  const std::string history = "SELECT COUNT(*) FROM erased_history WHERE case_id = ?";
  const std::string readers = "SELECT COUNT(*) FROM erased_readers WHERE case_id = ?";
  SECTION("an erasure on request") {
    AwayCase c(std::vector<std::string>{}, TestServer::Log::kCapture);
    c.Write("nog iets");
    CorruptStoredOp(c.server, c.case_id, 3);
    REQUIRE(c.anna->EraseCase(c.case_id).ok());
    REQUIRE(c.anna->SyncNow().ok());
    CHECK(Count(c.server, tombstones, c.case_id) == 1);
    // No history (a device that was away checks against the state it last synced): Bas knows
    // Anna as a coordinator and deletes his copy.
    CHECK(Count(c.server, history, c.case_id) == 0);
    CHECK(Count(c.server, readers, c.case_id) == 0);
    CHECK(c.server.log().find("\"erased_without_history\"") != std::string::npos);
    REQUIRE(c.bas->SyncNow().ok());
    CHECK(c.BasDeleted());
    CHECK(c.bas->Alarms().empty());
  }
  SECTION("a retention sweep") {
    // The sweep runs at start only (then hourly): both closes are due at the next start.
    AwayCase c(std::vector<std::string>{});
    auto other = c.anna->CreateCase(
        {{c.anna.account_id(), v1::ROLE_COORDINATOR}, {c.bas.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(other.ok());
    REQUIRE(c.anna->SyncNow().ok());
    REQUIRE(c.bas->SyncNow().ok());
    REQUIRE(c.anna->CloseCase(c.case_id, 0).ok());
    REQUIRE(c.anna->CloseCase(*other, 0).ok());
    REQUIRE(c.anna->SyncNow().ok());
    CorruptStoredOp(c.server, c.case_id, 3);
    for (int i = 0; i < 100 && Count(c.server, tombstones, *other) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(Count(c.server, tombstones, *other) == 1);
    CHECK(Count(c.server, history, *other) > 0);
    CHECK(Count(c.server, tombstones, c.case_id) == 1);
    CHECK(Count(c.server, history, c.case_id) == 0);
    REQUIRE(c.bas->SyncNow().ok());
    CHECK_FALSE(Has(c.bas->Cases(), *other));
    CHECK(c.BasDeleted());
    CHECK(c.bas->Alarms().empty());
  }
}

TEST_CASE("a device more than the history cap behind checks an erasure against its last state",
          "[erasure]") {
  AwayCase c;
  c.Write("nog iets");
  bool known_coordinator = false;
  SECTION("an erasure by a coordinator Bas knows deletes his copy") {
    REQUIRE(c.anna->EraseCase(c.case_id).ok());
    REQUIRE(c.anna->SyncNow().ok());
    known_coordinator = true;
  }
  SECTION("an erasure by someone made coordinator meanwhile raises the alarm of before") {
    c.PromoteCarlaAndErase();
  }
  // The tombstone as a kringd without history serves it, at a seq over 2^20 past Bas's head.
  int served = 0;
  c.bas_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (!resp.has_erased()) return;
    ++served;
    v1::CaseErased& e = *resp.mutable_erased();
    e.clear_history();
    e.set_more(false);
    e.mutable_trigger()->set_seq((uint64_t{1} << 20) + 100);
  };
  (void)c.bas->SyncNow();
  CHECK(served >= 1);
  if (known_coordinator) {
    CHECK(c.BasDeleted());
    CHECK(c.bas->Alarms().empty());
  } else {
    c.CheckBasKeptItWithTamper();
    CHECK(c.bas->Alarms()[0].detail == "erasure request by someone who may not erase");
  }
}

TEST_CASE("a device refuses an erasure the history shows its author could no longer make",
          "[erasure]") {
  // Dora is coordinator when Bas last syncs. Her device signs an EraseCase that never reaches
  // kringd (the network drops it), and Anna then demotes her: kringd would refuse it now. Anna
  // erases the case herself, and a lying kringd serves Bas the honest history with Dora's request
  // as the trigger: only Bas's own check of the state the history leads to can refuse it, since
  // his last synced state allows it.
  AwayCase c;
  auto dora_wire = std::make_shared<TamperTransport>(c.net);
  Device dora(dora_wire);
  REQUIRE(c.anna->AddMember(c.case_id, {dora.account_id(), v1::ROLE_COORDINATOR}).ok());
  REQUIRE(c.anna->SyncNow().ok());
  REQUIRE(c.bas->SyncNow().ok());
  REQUIRE(dora->SyncNow().ok());

  std::optional<v1::Envelope> refused;
  dora_wire->before_push = [&](v1::PushRequest& req) {
    for (const v1::Envelope& env : req.envelopes()) {
      v1::OpHeader header;
      if (header.ParseFromString(env.header()) && header.kind() == v1::OP_KIND_ERASE_CASE) {
        refused = env;
      }
    }
    if (refused) {  // dropped on its way: kringd never sees it
      req.clear_envelopes();
      dora_wire->fail_pushes = true;
    }
  };
  REQUIRE(dora->EraseCase(c.case_id).ok());
  (void)dora->SyncNow();
  REQUIRE(refused.has_value());
  REQUIRE(c.anna->SetRole(c.case_id, dora.account_id(), v1::ROLE_MEMBER).ok());
  REQUIRE(c.anna->SyncNow().ok());
  c.Write("na de degradatie");
  REQUIRE(Count(c.server, "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?", c.case_id) == 0);
  REQUIRE(c.anna->EraseCase(c.case_id).ok());
  REQUIRE(c.anna->SyncNow().ok());
  REQUIRE(Count(c.server, "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?", c.case_id) == 1);

  bool keep_history = true;
  SECTION("over the honest history: TAMPER, the copy stays") {}
  SECTION("without history the last synced state allows it") { keep_history = false; }
  int tampered = 0;
  c.bas_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (!resp.has_erased()) return;
    v1::CaseErased& e = *resp.mutable_erased();
    v1::LogEntry& trigger = *e.mutable_trigger();
    *trigger.mutable_envelope() = *refused;
    if (keep_history) {
      // One page, up to the seq before the trigger: the trigger's link recomputed.
      REQUIRE_FALSE(e.more());
      REQUIRE(e.history_size() > 0);
      const v1::ErasedEntry& last = e.history(e.history_size() - 1);
      REQUIRE(last.seq() + 1 == trigger.seq());
      trigger.set_chain_hash(ToString(protocol::ChainHash(ToBytes(last.chain_hash()), trigger.seq(),
                                                          protocol::EnvelopeHash(*refused))));
    } else {
      e.clear_history();
      e.set_more(false);
    }
    ++tampered;
  };
  (void)c.bas->SyncNow();
  CHECK(tampered >= 1);
  if (keep_history) {
    c.CheckBasKeptItWithTamper();
    CHECK(c.bas->Alarms()[0].detail == "erasure request by someone who may not erase");
  } else {
    CHECK(c.BasDeleted());
    CHECK(c.bas->Alarms().empty());
  }
}

TEST_CASE("an erased case's history past its lifetime is deleted and the device falls back",
          "[erasure]") {
  // Kept 0 days: the sweep (every second) deletes it after the erasure; the tombstone stays.
  AwayCase c({"--retention-sweep-seconds", "1", "--erased-history-days", "0"});
  const std::string history = "SELECT COUNT(*) FROM erased_history WHERE case_id = ?";
  const std::string readers = "SELECT COUNT(*) FROM erased_readers WHERE case_id = ?";
  bool known_coordinator = false;
  SECTION("an erasure by a coordinator Bas knows deletes his copy") {
    c.Write("nog iets");
    REQUIRE(c.anna->EraseCase(c.case_id).ok());
    REQUIRE(c.anna->SyncNow().ok());
    known_coordinator = true;
  }
  SECTION("an erasure by someone made coordinator meanwhile raises the alarm of before") {
    c.PromoteCarlaAndErase();
  }
  for (int i = 0; i < 100 && Count(c.server, readers, c.case_id) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(Count(c.server, readers, c.case_id) == 0);
  CHECK(Count(c.server, history, c.case_id) == 0);
  CHECK(Count(c.server, "SELECT COUNT(*) FROM erased_cases WHERE case_id = ?", c.case_id) == 1);
  (void)c.bas->SyncNow();
  if (known_coordinator) {
    CHECK(c.BasDeleted());
    CHECK(c.bas->Alarms().empty());
  } else {
    c.CheckBasKeptItWithTamper();
  }
}
