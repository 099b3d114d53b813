// Copies a database's write-ahead log back into the database file on a thread of its own, so the
// connection that commits never waits for that copy and its fsync.
//
// SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages: that
// one commit then copies every page of the WAL into the database file and syncs it (about 28 ms
// of a 10,000-op catch-up here, which the user waited for). Durability does not need it: a
// commit is durable once the WAL is synced (synchronous=FULL), and SQLite replays the WAL after a
// crash. Database::Open with Checkpoints::kBackground turns the automatic checkpoint off and
// attaches one of these instead: the connection's WAL hook tells it how long the WAL is after
// each commit, and past kBackgroundPages it runs a PASSIVE checkpoint on its own connection (one
// that waits for nobody and lets writers go on; see https://www.sqlite.org/wal.html,
// "Checkpointing"). A device's local store uses it.
//
// A WAL can only start over from its beginning when it has been copied completely before a write
// begins. Under writes without a pause the background copy may never finish between two commits,
// and the WAL would grow without bound; past kInlinePages the committing connection therefore
// checkpoints itself, as SQLite would (cheaply: the background copies did most of it), so the WAL
// reaches about kInlinePages plus one commit at most. Database::Open also sets
// journal_size_limit, so the file shrinks back when the WAL starts over.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace kring::sql {

class WalCheckpointer {
 public:
  static constexpr int kBackgroundPages = 1000;  // SQLite's own wal_autocheckpoint default
  static constexpr int kInlinePages = 8 * kBackgroundPages;

  // Attaches to `db` (its WAL hook, replacing the automatic checkpoint). Lives at a fixed address
  // (the hook points at it) until destroyed.
  explicit WalCheckpointer(sqlite3* db);
  // Detaches from `db` and waits for a running copy; the thread's connection is closed after.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Held while the background thread copies: whoever holds it (Database::TruncateWal) knows no
  // background copy runs, so a checkpoint of its own does not meet SQLite's checkpoint lock.
  std::unique_lock<std::mutex> PauseCopies() { return std::unique_lock<std::mutex>(copy_mu_); }

  // Background copies completed so far (tests show that the thread, not the committer, copied).
  int completed() const;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Run();

  sqlite3* const db_;
  const std::string path_;  // the database file's full path, as SQLite resolved it at open
  mutable std::mutex mu_;   // due_, stop_, completed_
  std::condition_variable wake_;
  bool due_ = false;
  bool stop_ = false;
  int completed_ = 0;
  std::mutex copy_mu_;  // held around each background copy
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace kring::sql
