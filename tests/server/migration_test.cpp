// Schema upgrades on a database with data in it: a kringd started on a database of the previous
// schema migrates it and serves the same logs, answers retries with the original results and
// appends after them.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "server/server_test_util.h"
#include "storage/migrations.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// Rewrites kringd's database (kringd stopped) as the same data in schema 6, the layout before
// migration 7: ops keyed by the case's 16-byte id and its seq, with an envelope_hash column.
void RewriteAsSchema6(const std::string& path) {
  const std::string newer = path + ".v7";
  std::filesystem::rename(path, newer);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    const auto& all = server::storage::Migrations();
    REQUIRE(all.size() >= 7);
    REQUIRE(db->Migrate(std::vector<std::string_view>(all.begin(), all.begin() + 6)).ok());
    REQUIRE(db->Exec("ATTACH DATABASE '" + newer + "' AS newer").ok());
    // cases first: the other tables' rows refer to them.
    REQUIRE(db->Exec("INSERT INTO main.cases (case_id, head_seq, head_hash, created_at_ms, "
                     "close_seq, delete_after_ms) SELECT case_id, head_seq, head_hash, "
                     "created_at_ms, close_seq, delete_after_ms FROM newer.cases")
                .ok());
    for (const char* table :
         {"chain_links", "devices", "case_members", "scopes", "case_invites", "case_pending",
          "scope_members", "erased_cases", "revocation_holds", "revocation_named"}) {
      const std::string t = table;
      REQUIRE(db->Exec("INSERT INTO main." + t + " SELECT * FROM newer." + t).ok());
    }
    REQUIRE(db->Exec("INSERT INTO main.device_cursors SELECT case_id, device_id, last_counter, "
                     "last_envelope_hash FROM newer.device_cursors")
                .ok());
    REQUIRE(db->Exec("INSERT INTO main.ops (case_id, seq, envelope, chain_hash, device_id, "
                     "client_op_id, envelope_hash, received_at_ms) SELECT c.case_id, "
                     "o.seq, o.envelope, o.chain_hash, "
                     "o.device_id, o.client_op_id, x'', o.received_at_ms FROM newer.ops AS o "
                     "JOIN newer.cases AS c ON c.case_key = o.case_key")
                .ok());
    REQUIRE(db->Exec("DETACH DATABASE newer").ok());
  }  // closed: the WAL goes into the file
  std::filesystem::remove(newer);
}

// Takes back migration 11 on a database kringd does not have open: tombstones without the
// history a device that was away checks an erasure against.
void UndoMigration11(sql::Database& db) {
  REQUIRE(db.Exec("DROP TABLE erased_history").ok());
  REQUIRE(db.Exec("DROP TABLE erased_readers").ok());
  REQUIRE(db.Exec("PRAGMA user_version = 10").ok());
}

// Takes back migration 10 (and its backfill) on a database kringd does not have open: no record
// of the seqs at which accounts were removed.
void UndoMigration10(sql::Database& db) {
  UndoMigration11(db);
  REQUIRE(db.Exec("DROP TABLE case_removals").ok());
  REQUIRE(db.Exec("DROP TABLE case_removals_backfill").ok());
  REQUIRE(db.Exec("PRAGMA user_version = 9").ok());
}

// Takes back migration 9 on a database kringd does not have open: the unique index on (case,
// device, client_op_id) instead of the device cursors' highest id and `ops_retry_lookup`.
void UndoMigration9(sql::Database& db) {
  UndoMigration10(db);
  REQUIRE(db.Exec("DROP INDEX ops_retry_lookup").ok());
  REQUIRE(db.Exec("CREATE UNIQUE INDEX ops_idempotency ON ops (case_key, device_id, client_op_id)")
              .ok());
  REQUIRE(db.Exec("ALTER TABLE device_cursors DROP COLUMN max_client_op_id").ok());
  REQUIRE(db.Exec("PRAGMA user_version = 8").ok());
}

// A kringd with a chair and a member in a keyed case, and the path of its database.
struct KeyedCaseServer {
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  Client c{server.address()};
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
};

// Stops kringd, takes its database back to an older schema with `rewind`, and starts it again,
// which migrates the database forward.
void RestartFrom(TestServer& server, const std::string& path,
                 const std::function<void(sql::Database&)>& rewind) {
  REQUIRE(server.Stop() == 0);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    rewind(*db);
  }
  server.Restart();
}

int64_t Count(const std::string& path, const std::string& sql) {
  auto db = sql::Database::Open(path, /*read_only=*/true);
  REQUIRE(db.ok());
  sql::Statement st(*db, sql);
  REQUIRE(st.Step());
  return st.Int(0);
}

// The whole log of the case, with every chain hash recomputed from the envelopes.
std::vector<v1::LogEntry> PullChecked(Client& c, const std::string& token, const Bytes& case_id) {
  std::vector<v1::LogEntry> log;
  Bytes prev;
  for (;;) {
    v1::PullResponse pull;
    REQUIRE(Pull(c, token, case_id, log.size(), ToString(prev), &pull).error_message() == "");
    for (const auto& e : pull.entries()) {
      REQUIRE(e.seq() == log.size() + 1);
      auto parsed = protocol::ParseEnvelope(e.envelope());
      REQUIRE(parsed.ok());
      Bytes h = protocol::ChainHash(prev, e.seq(), parsed->envelope_hash);
      REQUIRE(h == ToBytes(e.chain_hash()));
      prev = h;
      log.push_back(e);
    }
    if (pull.entries_size() == 0 || log.size() >= pull.head().seq()) break;
  }
  return log;
}

// The chair removes `who` (OP_KIND_REMOVE_MEMBER) or adds it back as a member, in one push with
// the Rekey of epoch + 1 to `recipients`, as a client does.
void PushMembershipChange(Client& c, const TestAccount& chair, OpBuilder& ops, v1::OpKind kind,
                          const TestAccount& who, uint64_t epoch,
                          const std::vector<Bytes>& recipients) {
  v1::ControlBody body;
  if (kind == v1::OP_KIND_REMOVE_MEMBER) {
    body.mutable_remove_member()->set_account_id(ToString(who.account_id));
  } else {
    v1::Member* m = body.mutable_add_member()->mutable_member();
    m->set_account_id(ToString(who.account_id));
    m->set_role(v1::ROLE_MEMBER);
  }
  std::vector<v1::Envelope> push;
  ops.AddTo(push, ops.Control(kind, 0, epoch, body));
  ops.AddTo(push, ops.Rekey(epoch + 1, recipients));
  REQUIRE(Push(c, chair.token, ops.case_id(), push).ok());
}

}  // namespace

TEST_CASE("migration 7 upgrades a database of schema 6 with ops in it", "[migration]") {
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder first = CreateKeyedCase(c, chair, {&member});
  OpBuilder second = CreateKeyedCase(c, member);
  OpBuilder by_member(member, first.case_id());
  std::vector<v1::Envelope> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(first.Content(1));
    first.Accepted(batch.back());
  }
  v1::PushResponse pushed;
  REQUIRE(Push(c, chair.token, first.case_id(), batch, &pushed).ok());
  v1::Envelope from_member = by_member.Content(1);
  by_member.Accepted(from_member);
  REQUIRE(Push(c, member.token, first.case_id(), {from_member}).ok());
  v1::Envelope in_second = second.Content(1);
  second.Accepted(in_second);
  REQUIRE(Push(c, member.token, second.case_id(), {in_second}).ok());
  const std::vector<v1::LogEntry> before = PullChecked(c, chair.token, first.case_id());
  REQUIRE(before.size() == 8);  // CreateCase, Rekey, 5 from the chair, 1 from the member
  REQUIRE(server.Stop() == 0);

  RewriteAsSchema6(path);
  CHECK(Count(path, "PRAGMA user_version") == 6);
  CHECK(Count(path, "SELECT COUNT(*) FROM pragma_table_info('ops') WHERE name = 'case_id'") == 1);
  CHECK(Count(path, "SELECT COUNT(*) FROM ops") == 11);

  server.Restart();
  Client c2(server.address());
  REQUIRE(SignIn(c2, chair).ok());
  REQUIRE(SignIn(c2, member).ok());

  // The same logs, seq for seq and hash for hash.
  const std::vector<v1::LogEntry> after = PullChecked(c2, chair.token, first.case_id());
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    CHECK(after[i].SerializeAsString() == before[i].SerializeAsString());
  }
  CHECK(HeadSeq(c2, member.token, second.case_id()) == 3);

  // A retry of a push from before the upgrade gets its original results.
  v1::PushResponse retried;
  REQUIRE(Push(c2, chair.token, first.case_id(), batch, &retried).ok());
  REQUIRE(retried.results_size() == pushed.results_size());
  for (int i = 0; i < pushed.results_size(); ++i) {
    CHECK(retried.results(i).duplicate());
    CHECK(retried.results(i).seq() == pushed.results(i).seq());
    CHECK(retried.results(i).chain_hash() == pushed.results(i).chain_hash());
  }

  // New ops continue both devices' chains and the case's log; a new case starts its own.
  v1::Envelope next = first.Content(1);
  first.Accepted(next);
  v1::PushResponse appended;
  REQUIRE(Push(c2, chair.token, first.case_id(), {next}, &appended).ok());
  CHECK_FALSE(appended.results(0).duplicate());
  CHECK(appended.results(0).seq() == 9);
  v1::Envelope next_by_member = by_member.Content(1);
  by_member.Accepted(next_by_member);
  REQUIRE(Push(c2, member.token, first.case_id(), {next_by_member}).ok());
  CHECK(PullChecked(c2, member.token, first.case_id()).size() == 10);
  OpBuilder third = CreateKeyedCase(c2, chair);
  CHECK(HeadSeq(c2, chair.token, third.case_id()) == 2);
  CHECK(HeadSeq(c2, member.token, second.case_id()) == 3);
  REQUIRE(server.Stop() == 0);

  CHECK(Count(path, "PRAGMA user_version") ==
        static_cast<int64_t>(server::storage::Migrations().size()));
  CHECK(Count(path,
              "SELECT COUNT(*) FROM pragma_table_info('ops') WHERE name IN ('case_id', "
              "'envelope_hash')") == 0);
  CHECK(Count(path, "SELECT COUNT(*) FROM ops") == 15);
  // (case_key, seq) stays unique; since migration 9 retries are found through the device cursor
  // and `ops_retry_lookup`, not a unique index on (case_key, device, client_op_id).
  CHECK(Count(path, "SELECT COUNT(*) FROM pragma_index_list('ops') WHERE \"unique\" = 1") == 1);
  CHECK(Count(path, "SELECT COUNT(DISTINCT case_key) FROM cases") == 3);
}

TEST_CASE("migration 7 stops and changes nothing when an op has no case", "[migration]") {
  TempDir dir;
  const std::string path = dir.path() + "/orphan.sqlite3";
  const auto& all = server::storage::Migrations();
  REQUIRE(all.size() >= 7);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Migrate(std::vector<std::string_view>(all.begin(), all.begin() + 6)).ok());
    // Impossible under schema 6's foreign key; possible after a hand edit or a partial restore.
    REQUIRE(db->Exec("PRAGMA foreign_keys = OFF").ok());
    REQUIRE(db->Exec("INSERT INTO ops (case_id, seq, envelope, chain_hash, device_id, "
                     "client_op_id, envelope_hash, received_at_ms) VALUES (x'00112233445566778899"
                     "aabbccddeeff', 1, x'01', x'02', x'03', x'04', x'', 5)")
                .ok());
    // The whole upgrade fails rather than dropping the row.
    CHECK_FALSE(db->Migrate(all).ok());
  }
  CHECK(Count(path, "PRAGMA user_version") == 6);
  CHECK(Count(path, "SELECT COUNT(*) FROM ops") == 1);
  CHECK(Count(path, "SELECT COUNT(*) FROM pragma_table_info('ops') WHERE name = 'case_id'") == 1);
}

TEST_CASE("after migration 8 an account's user key generation is read from its stored chain",
          "[migration]") {
  KeyedCaseServer k;
  auto& [server, path, c, chair, member, ops] = k;
  RevokeSelf(c, member);  // the member's user key is at generation 2 from here on
  // As a schema 7 database: no generations kept.
  RestartFrom(server, path, [](sql::Database& db) {
    UndoMigration9(db);
    REQUIRE(db.Exec("DROP TABLE user_key_generations").ok());
    REQUIRE(db.Exec("PRAGMA user_version = 7").ok());
  });
  Client c2(server.address());
  REQUIRE(SignIn(c2, chair).ok());
  CHECK(Count(path, "SELECT COUNT(*) FROM user_key_generations") == 0);

  // A box to generation 1 is refused as if the generation had always been kept.
  const std::vector<Bytes> both = {chair.account_id, member.account_id};
  v1::Envelope stale = ops.Rekey(2, both);
  v1::ControlBody body;
  REQUIRE(body.ParseFromString(stale.control_body()));
  body.mutable_rekey()->mutable_boxes(1)->set_user_key_generation(1);
  stale.set_control_body(body.SerializeAsString());
  Resign(stale, chair);
  CHECK(RefusalReason(Push(c2, chair.token, ops.case_id(), {stale})) == refusal::kStaleUserKey);
  // To generation 2 it is taken, and the generation read is kept.
  REQUIRE(Push(c2, chair.token, ops.case_id(), {ops.Rekey(2, both)}).ok());
  REQUIRE(server.Stop() == 0);
  CHECK(Count(path, "SELECT generation FROM user_key_generations WHERE account_id = x'" +
                        Hex(member.account_id) + "'") == 2);
}

TEST_CASE("migration 9 keeps each device's highest client_op_id and answers older retries",
          "[migration]") {
  KeyedCaseServer k;
  auto& [server, path, c, chair, member, ops] = k;
  OpBuilder by_member(member, ops.case_id());
  // Ids out of order, as an older client's random ones were: the highest is the middle op's.
  std::vector<v1::Envelope> batch;
  for (char first : {'\x30', '\xf0', '\x50'}) {
    batch.push_back(ops.Content(1, [first](v1::OpHeader& h) {
      h.set_client_op_id(std::string(1, first) + std::string(15, '\x07'));
    }));
    ops.Accepted(batch.back());
  }
  v1::PushResponse pushed;
  REQUIRE(Push(c, chair.token, ops.case_id(), batch, &pushed).ok());
  v1::Envelope from_member = by_member.Content(1);
  by_member.Accepted(from_member);
  REQUIRE(Push(c, member.token, ops.case_id(), {from_member}).ok());
  // As a schema 8 database: the unique index, no highest id in the cursors.
  RestartFrom(server, path, UndoMigration9);
  Client c2(server.address());
  REQUIRE(SignIn(c2, chair).ok());
  REQUIRE(SignIn(c2, member).ok());
  REQUIRE(server.Stop() == 0);
  CHECK(Count(path, "PRAGMA user_version") ==
        static_cast<int64_t>(server::storage::Migrations().size()));
  // The chair's highest is the middle op's id (bytewise), the member's that of its one op.
  const Bytes highest = ToBytes(std::string(1, '\xf0') + std::string(15, '\x07'));
  CHECK(Count(path, "SELECT COUNT(*) FROM device_cursors WHERE device_id = x'" +
                        Hex(chair.device_id) + "' AND max_client_op_id = x'" + Hex(highest) +
                        "'") == 1);
  CHECK(Count(path, "SELECT COUNT(*) FROM device_cursors WHERE length(max_client_op_id) = 16") ==
        2);
  CHECK(Count(path,
              "SELECT COUNT(*) FROM pragma_index_list('ops') WHERE name = "
              "'ops_idempotency'") == 0);
  server.Restart();
  Client c3(server.address());
  REQUIRE(SignIn(c3, chair).ok());

  // The pre-upgrade push again: every op answered from the stored ones, nothing appended.
  v1::PushResponse retried;
  REQUIRE(Push(c3, chair.token, ops.case_id(), batch, &retried).ok());
  REQUIRE(retried.results_size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(retried.results(i).duplicate());
    CHECK(retried.results(i).seq() == pushed.results(i).seq());
  }
  CHECK(HeadSeq(c3, chair.token, ops.case_id()) == 6);
  // An op between the stored ids is new, and so is one above the highest.
  v1::Envelope between = ops.Content(1, [](v1::OpHeader& h) {
    h.set_client_op_id(std::string(1, '\x40') + std::string(15, '\x07'));
  });
  ops.Accepted(between);
  v1::Envelope above = ops.Content(1, [](v1::OpHeader& h) {
    h.set_client_op_id(std::string(1, '\xf1') + std::string(15, '\x07'));
  });
  ops.Accepted(above);
  v1::PushResponse appended;
  REQUIRE(Push(c3, chair.token, ops.case_id(), {between, above}, &appended).ok());
  CHECK_FALSE(appended.results(0).duplicate());
  CHECK_FALSE(appended.results(1).duplicate());
  CHECK(appended.results(1).seq() == 8);
}

TEST_CASE("migration 10 finds the removals made before it in the stored log", "[migration]") {
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount returning = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &returning});
  auto change = [&](v1::OpKind kind, const TestAccount& who, uint64_t epoch,
                    const std::vector<Bytes>& recipients) {
    PushMembershipChange(c, chair, ops, kind, who, epoch, recipients);
  };
  // `returning` is removed (3) and added back (5); `member` is removed (7) and stays out.
  change(v1::OP_KIND_REMOVE_MEMBER, returning, 1, {chair.account_id, member.account_id});
  change(v1::OP_KIND_ADD_MEMBER, returning, 2,
         {chair.account_id, member.account_id, returning.account_id});
  change(v1::OP_KIND_REMOVE_MEMBER, member, 3, {chair.account_id, returning.account_id});
  auto after = ops.Content(4);
  REQUIRE(Push(c, chair.token, ops.case_id(), {after}).ok());
  ops.Accepted(after);
  // As a database of schema 9, which never recorded the removal.
  RestartFrom(server, path, UndoMigration10);
  CHECK(Count(path, "PRAGMA user_version") ==
        static_cast<int64_t>(server::storage::Migrations().size()));
  CHECK(Count(path, "SELECT COUNT(*) FROM case_removals") == 1);
  CHECK(Count(path, "SELECT removal_seq FROM case_removals WHERE account_id = x'" +
                        Hex(member.account_id) + "'") == 7);
  CHECK(Count(path, "SELECT COUNT(*) FROM case_removals_backfill") == 0);

  // The member removed before the upgrade reads up to and including its removal, not past it.
  Client c2(server.address());
  REQUIRE(SignIn(c2, member).ok());
  REQUIRE(SignIn(c2, returning).ok());
  v1::PullResponse page;
  REQUIRE(Pull(c2, member.token, ops.case_id(), 0, "", &page, 1000).error_message() == "");
  REQUIRE(page.entries_size() == 7);
  CHECK(page.entries(6).seq() == 7);
  CHECK(page.head().seq() == 7);
  v1::PullResponse refused;
  CHECK(Pull(c2, member.token, ops.case_id(), 7, page.entries(6).chain_hash(), &refused)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // The member added back reads to the head.
  CHECK(HeadSeq(c2, returning.token, ops.case_id()) == 9);
}

TEST_CASE(
    "migration 10 keeps the last of several removals and a leave, skips an unreadable op and "
    "runs again while its marker is left",
    "[migration]") {
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount stays = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &stays});
  auto change = [&](v1::OpKind kind, uint64_t epoch, const std::vector<Bytes>& recipients) {
    PushMembershipChange(c, chair, ops, kind, member, epoch, recipients);
  };
  // Removed (3), added back (5), removed again (7) before the upgrade.
  change(v1::OP_KIND_REMOVE_MEMBER, 1, {chair.account_id, stays.account_id});
  change(v1::OP_KIND_ADD_MEMBER, 2, {chair.account_id, stays.account_id, member.account_id});
  change(v1::OP_KIND_REMOVE_MEMBER, 3, {chair.account_id, stays.account_id});
  auto after = ops.Content(4);
  REQUIRE(Push(c, chair.token, ops.case_id(), {after}).ok());
  ops.Accepted(after);
  // `stays` leaves (10): its own RemoveMember.
  OpBuilder own(stays, ops.case_id());
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(stays.account_id));
  REQUIRE(Push(c, stays.token, ops.case_id(), {own.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 4, leave)})
              .ok());
  const std::string removal_of_member =
      "SELECT removal_seq FROM case_removals WHERE account_id = x'" + Hex(member.account_id) + "'";
  const std::string removal_of_leaver =
      "SELECT removal_seq FROM case_removals WHERE account_id = x'" + Hex(stays.account_id) + "'";
  // As a database of schema 9 in which the op at 9 no longer reads as an envelope.
  RestartFrom(server, path, [](sql::Database& db) {
    UndoMigration10(db);
    REQUIRE(db.Exec("UPDATE ops SET envelope = x'ff' WHERE seq = 9").ok());
  });
  CHECK(Count(path, "PRAGMA user_version") ==
        static_cast<int64_t>(server::storage::Migrations().size()));
  CHECK(Count(path, "SELECT COUNT(*) FROM case_removals") == 2);
  CHECK(Count(path, removal_of_member) == 7);  // the last removal, not the first
  CHECK(Count(path, removal_of_leaver) == 10);
  CHECK(Count(path, "SELECT COUNT(*) FROM case_removals_backfill") == 0);

  // A start that crashed inside the backfill left its marker and none of its rows (one
  // transaction): the next start does it again.
  RestartFrom(server, path, [](sql::Database& db) {
    REQUIRE(db.Exec("DELETE FROM case_removals").ok());
    REQUIRE(db.Exec("INSERT INTO case_removals_backfill (due) VALUES (1)").ok());
  });
  CHECK(Count(path, removal_of_member) == 7);
  CHECK(Count(path, removal_of_leaver) == 10);
  CHECK(Count(path, "SELECT COUNT(*) FROM case_removals_backfill") == 0);

  // Served, as a removed account, up to and including its second removal.
  Client c2(server.address());
  REQUIRE(SignIn(c2, member).ok());
  v1::PullResponse page;
  REQUIRE(Pull(c2, member.token, ops.case_id(), 0, "", &page, 1000).error_message() == "");
  REQUIRE(page.entries_size() == 7);
  CHECK(page.head().seq() == 7);
}

}  // namespace kring::test
