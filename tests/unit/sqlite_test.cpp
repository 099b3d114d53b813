// The SQLite wrapper under a full disk: SQLite may roll the whole transaction back, not only the
// failing statement, and kringd's writer and push attempt rely on seeing that (a statement run
// after it would commit on its own, outside the group's transaction).
#include "kring/common/sqlite.h"

#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "support/temp_dir.h"

using namespace kring;

namespace {

// A database with table t, whose file may grow by two more pages: the next large insert fails
// with SQLITE_FULL.
sql::Database OpenNearlyFull(const test::TempDir& dir) {
  auto db = sql::Database::Open(dir.path() + "/full.db");
  REQUIRE(db.ok());
  REQUIRE(db->Exec("CREATE TABLE t (v BLOB NOT NULL)").ok());
  sql::Statement pages(*db, "PRAGMA page_count");
  REQUIRE(pages.Step());
  REQUIRE(db->Exec("PRAGMA max_page_count = " + std::to_string(pages.Int(0) + 2)).ok());
  return std::move(*db);
}

}  // namespace

TEST_CASE("a full disk inside a savepoint ends the transaction, and the savepoint says so",
          "[sqlite]") {
  test::TempDir dir;
  sql::Database db = OpenNearlyFull(dir);

  sql::Transaction tx(db);
  REQUIRE(tx.status().ok());
  REQUIRE(db.Exec("INSERT INTO t VALUES (x'01')").ok());
  CHECK(db.InTransaction());
  {
    sql::Savepoint sp(db, "attempt");
    REQUIRE(sp.status().ok());
    Status full = sql::Statement(db, "INSERT INTO t VALUES (zeroblob(100000))").Run();
    CHECK(full.code() == StatusCode::kUnavailable);
    CHECK_FALSE(db.InTransaction());  // the first insert is gone too
    CHECK_FALSE(sp.Rollback().ok());  // nothing left to roll back to
  }
  CHECK_FALSE(tx.Commit().ok());
  sql::Statement rows(db, "SELECT count(*) FROM t");
  REQUIRE(rows.Step());
  CHECK(rows.Int(0) == 0);
}

namespace {

int64_t Count(sql::Database& db) {
  sql::Statement rows(db, "SELECT count(*) FROM t");
  return rows.Step() ? rows.Int(0) : -1;
}

}  // namespace

// The writer's job savepoint serves a push's first pass (server/src/storage/store.cpp, Attempt):
// rolled back to, it must stay open so that the fallback's writes are still the job's.
TEST_CASE("a savepoint rolled back to stays open around what follows", "[sqlite]") {
  test::TempDir dir;
  auto db = sql::Database::Open(dir.path() + "/t.db");
  REQUIRE(db.ok());
  REQUIRE(db->Exec("CREATE TABLE t (v INTEGER NOT NULL)").ok());
  sql::Transaction tx(*db);
  REQUIRE(tx.status().ok());
  REQUIRE(db->Exec("INSERT INTO t VALUES (1)").ok());
  {
    sql::Savepoint sp(*db, "job");
    REQUIRE(sp.status().ok());
    REQUIRE(db->Exec("INSERT INTO t VALUES (2)").ok());
    REQUIRE(sp.RollbackTo().ok());
    CHECK(Count(*db) == 1);
    REQUIRE(db->Exec("INSERT INTO t VALUES (3)").ok());
    CHECK(sp.Rollback().ok());  // takes the row written after RollbackTo with it
    CHECK(Count(*db) == 1);
    CHECK_FALSE(sp.RollbackTo().ok());  // ended
  }
  {
    sql::Savepoint sp(*db, "job");
    REQUIRE(sp.status().ok());
    REQUIRE(db->Exec("INSERT INTO t VALUES (4)").ok());
    REQUIRE(sp.RollbackTo().ok());
    REQUIRE(db->Exec("INSERT INTO t VALUES (5)").ok());
    REQUIRE(sp.Release().ok());
  }
  REQUIRE(tx.Commit().ok());
  sql::Statement rows(*db, "SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY v)");
  REQUIRE(rows.Step());
  CHECK(rows.Text(0) == "1,5");
}

TEST_CASE("a full disk inside a savepoint that is rolled back to says the transaction is gone",
          "[sqlite]") {
  test::TempDir dir;
  sql::Database db = OpenNearlyFull(dir);
  sql::Transaction tx(db);
  REQUIRE(tx.status().ok());
  sql::Savepoint sp(db, "job");
  REQUIRE(sp.status().ok());
  Status full = sql::Statement(db, "INSERT INTO t VALUES (zeroblob(100000))").Run();
  CHECK(full.code() == StatusCode::kUnavailable);
  CHECK_FALSE(db.InTransaction());
  CHECK_FALSE(sp.RollbackTo().ok());
}
