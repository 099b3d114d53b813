// The write-ahead log is copied into the database file off the committing connection
// (sql::WalCheckpointer): eventually, without any checkpoint call of the writer's own, bounded
// under commits without a pause, and safe when the database closes while a copy runs.
#include "kring/common/wal_checkpointer.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/common/sqlite.h"

#include "support/temp_dir.h"

using namespace kring;

namespace {

constexpr auto kBackground = sql::Database::Checkpoints::kBackground;
constexpr int64_t kPageBytes = 4096;  // SQLite's default page size, as the databases here use

// Commits `pages` new pages of rows in one transaction.
void WritePages(sql::Database& db, int pages) {
  sql::Transaction tx(db);
  REQUIRE(tx.status().ok());
  // A 3,000-byte row fills most of one page, so each row is about one page.
  for (int i = 0; i < pages; ++i) REQUIRE(db.Exec("INSERT INTO t VALUES (zeroblob(3000))").ok());
  REQUIRE(tx.Commit().ok());
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

int64_t Rows(sql::Database& db) {
  sql::Statement count(db, "SELECT count(*) FROM t");
  REQUIRE(count.Step());
  return count.Int(0);
}

}  // namespace

TEST_CASE("a writable database's log reaches the database file with no checkpoint of its own",
          "[sqlite]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/bg.db";
  auto db = sql::Database::Open(path, /*read_only=*/false, kBackground);
  REQUIRE(db.ok());
  REQUIRE(db->Exec("CREATE TABLE t (v BLOB NOT NULL)").ok());
  const int64_t before = FileBytes(path);
  WritePages(*db, sql::WalCheckpointer::kBackgroundPages + 200);
  // The commit is in the write-ahead log; the checkpointer's own connection copies it over (the
  // count shows the thread copied it, not a checkpoint inside the commit: SQLite's own would pass
  // the size check as well).
  REQUIRE(db->checkpointer() != nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (db->checkpointer()->completed() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(db->checkpointer()->completed() >= 1);
  CHECK(FileBytes(path) >= before + sql::WalCheckpointer::kBackgroundPages * kPageBytes);
  CHECK(Rows(*db) == sql::WalCheckpointer::kBackgroundPages + 200);
  // A read-only connection sees the same rows (from the file and what is left in the log).
  auto reader = sql::Database::Open(path, /*read_only=*/true);
  REQUIRE(reader.ok());
  CHECK(Rows(*reader) == sql::WalCheckpointer::kBackgroundPages + 200);
}

TEST_CASE("the write-ahead log stays bounded under commits without a pause", "[sqlite]") {
  // 15,000 pages in commits of 100, back to back: without a checkpoint that finishes, the log
  // would hold all of them (60 MB).
  constexpr int kCommitPages = 100;
  auto largest_wal = [&](sql::Database::Checkpoints checkpoints) {
    test::TempDir dir;
    const std::string path = dir.path() + "/busy.db";
    auto db = sql::Database::Open(path, /*read_only=*/false, checkpoints);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE t (v BLOB NOT NULL)").ok());
    int64_t largest = 0;
    for (int i = 0; i < 150; ++i) {
      WritePages(*db, kCommitPages);
      largest = std::max(largest, FileBytes(path + "-wal"));
    }
    CHECK(Rows(*db) == 150 * kCommitPages);
    return largest;
  };
  SECTION("every copy on the thread") {
    // The log starts over once copied; past the inline limit each commit copies itself, unless
    // a background copy holds the checkpoint lock, so a few commits may land before it does.
    CHECK(largest_wal(sql::Database::Checkpoints::kBackgroundEvery) <=
          sql::WalCheckpointer::kInlinePages * 5 / 4 * (kPageBytes + 24));
  }
  SECTION("small commits copied inline") {
    // As SQLite's own: past 1,000 pages the commit copies, so the log starts over near there.
    CHECK(largest_wal(kBackground) <=
          (sql::WalCheckpointer::kBackgroundPages + 2 * kCommitPages) * (kPageBytes + 24) + 32);
  }
}

TEST_CASE("emptying the log for an erasure waits for a background copy instead of failing",
          "[sqlite]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/erase.db";
  auto db = sql::Database::Open(path, /*read_only=*/false, kBackground);
  REQUIRE(db.ok());
  REQUIRE(db->Exec("CREATE TABLE t (v BLOB NOT NULL)").ok());
  // Each round's commits wake the background copy just before the truncation, as an erasure's
  // own commit can: a plain `PRAGMA wal_checkpoint(TRUNCATE)` then met the copy's lock and left
  // the deleted pages in the log in most rounds, reporting success.
  for (int round = 0; round < 20; ++round) {
    WritePages(*db, sql::WalCheckpointer::kBackgroundPages + 200);
    REQUIRE(db->Exec("DELETE FROM t").ok());
    REQUIRE(db->TruncateWal().ok());
    CHECK(FileBytes(path + "-wal") == 0);
  }
}

TEST_CASE("a database closes and opens again right after commits that start a copy", "[sqlite]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/close.db";
  {
    auto db = sql::Database::Open(path, /*read_only=*/false, kBackground);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE t (v BLOB NOT NULL)").ok());
  }
  for (int round = 1; round <= 5; ++round) {
    auto db = sql::Database::Open(path, /*read_only=*/false, kBackground);
    REQUIRE(db.ok());
    WritePages(*db, sql::WalCheckpointer::kBackgroundPages + 50);
    CHECK(Rows(*db) == round * (sql::WalCheckpointer::kBackgroundPages + 50));
    // Closing now, whether the copy has started, runs or is done: the checkpointer stops
    // (waiting for a copy under way), then the connection closes last and checkpoints what is
    // left, as SQLite does.
  }
  CHECK(FileBytes(path + "-wal") == 0);  // the last close checkpointed and removed it
  auto db = sql::Database::Open(path, /*read_only=*/false, kBackground);
  REQUIRE(db.ok());
  CHECK(Rows(*db) == 5 * (sql::WalCheckpointer::kBackgroundPages + 50));
}

TEST_CASE("a large commit copies inline when the checkpointer cannot open its own connection",
          "[sqlite]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/moved.db";
  const std::string moved = dir.path() + "/elsewhere.db";
  auto db = sql::Database::Open(path, /*read_only=*/false, kBackground);
  REQUIRE(db.ok());
  REQUIRE(db->Exec("CREATE TABLE t (v BLOB NOT NULL)").ok());
  // The database file moves away while open (the connection keeps its open file): the thread's
  // own connection, opened by name at the first large commit, finds no file there.
  std::filesystem::rename(path, moved);
  REQUIRE(db->checkpointer() != nullptr);
  WritePages(*db, sql::WalCheckpointer::kBackgroundPages + 200);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!db->checkpointer()->unavailable() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(db->checkpointer()->unavailable());
  CHECK(db->checkpointer()->completed() == 0);
  // The next large commit copies the log inline before it returns, as SQLite's own checkpoint
  // would past 1,000 pages, instead of waiting for the inline limit (8,000 pages).
  const int64_t before = FileBytes(moved);
  WritePages(*db, sql::WalCheckpointer::kLargeCommitPages + 100);
  CHECK(FileBytes(moved) >= before + sql::WalCheckpointer::kBackgroundPages * kPageBytes);
  CHECK(Rows(*db) ==
        sql::WalCheckpointer::kBackgroundPages + sql::WalCheckpointer::kLargeCommitPages + 300);
}
