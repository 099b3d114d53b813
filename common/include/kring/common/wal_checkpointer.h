// Copies the write-ahead log of a large commit back into the database file on a thread of its
// own, so that commit does not wait for the copy and its fsync.
//
// SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages: that
// one commit then copies every page of the WAL into the database file and syncs it. For a
// catch-up's one commit of a 10,000-op case (about 3,500 pages) that was about 28 ms of the
// ~180 the user waited for, and durability does not need it: a commit is durable once the WAL
// is synced (synchronous=FULL), and SQLite replays the WAL after a crash. Database::Open with
// Checkpoints::kBackground turns the automatic checkpoint off and attaches one of these: the
// connection's WAL hook sees each commit's size, a commit that added kLargeCommitPages or more
// hands the copy to a thread that runs a PASSIVE checkpoint on its own connection (one that
// waits for nobody and lets writers go on; https://www.sqlite.org/wal.html, "Checkpointing"),
// and a smaller commit past kBackgroundPages copies inline, as SQLite's own would (copies on the
// thread after every small commit cost a device's many small commits more than they saved).
// Past kInlinePages every commit copies inline, so the WAL stays bounded. The thread starts at
// the first large commit (most stores never make one); when it cannot open its connection (or
// cannot start), every commit past kBackgroundPages copies inline from then on, as SQLite's own
// checkpoint would. Database::Open also sets journal_size_limit, so the file shrinks back when
// the WAL starts over.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace kring::sql {

class WalCheckpointer {
 public:
  static constexpr int kBackgroundPages = 1000;  // SQLite's own wal_autocheckpoint default
  static constexpr int kLargeCommitPages = kBackgroundPages / 2;
  static constexpr int kInlinePages = 8 * kBackgroundPages;

  // Attaches to `db` (its WAL hook, replacing the automatic checkpoint); commits that add
  // `large_commit_pages` or more are copied on the thread (0: every commit past the limit). Lives
  // at a fixed address (the hook points at it) until destroyed.
  WalCheckpointer(sqlite3* db, int large_commit_pages);
  // Detaches from `db` and waits for a running copy; the thread's connection is closed after.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Held while the background thread copies: whoever holds it (Database::TruncateWal) knows no
  // background copy runs, so a checkpoint of its own does not meet SQLite's checkpoint lock.
  std::unique_lock<std::mutex> PauseCopies() { return std::unique_lock<std::mutex>(copy_mu_); }

  // Background copies completed so far (tests show that the thread, not the committer, copied).
  int completed() const;
  // Whether the thread could not open its connection (or start): copies are inline from then on.
  bool unavailable() const { return unavailable_.load(std::memory_order_acquire); }

 private:
  // SQLite's WAL hook, a C callback: nothing may throw out of it.
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) noexcept;
  // Hands a large commit's copy to the thread, starting it the first time; false when there is
  // no thread to copy (the caller copies inline).
  bool Hand();
  void Run();

  sqlite3* const db_;
  const int large_commit_pages_;
  int last_pages_ = 0;      // the WAL's length after the last commit (the committing thread's own)
  const std::string path_;  // the database file's full path, as SQLite resolved it at open
  mutable std::mutex mu_;   // due_, stop_, completed_
  std::condition_variable wake_;
  bool due_ = false;
  bool stop_ = false;
  int completed_ = 0;
  std::atomic<bool> unavailable_{false};  // set by the thread or Hand, read by the committer
  std::mutex copy_mu_;                    // held around each background copy
  std::thread thread_;  // started by the committer at the first large commit (Hand)
};

}  // namespace kring::sql
