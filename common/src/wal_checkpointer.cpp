#include "kring/common/wal_checkpointer.h"

#include "kring/common/log.h"

namespace kring::sql {
namespace {

// A connection of the checkpointer's own, or null (then the committing connection copies inline
// from its next commit on, and the failure is logged once by the caller).
sqlite3* OpenForCheckpoints(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  // The copy syncs the database file before the WAL may start over: that sync is this
  // connection's, so it must not depend on how SQLite was built. And a connection learns that
  // the database is in WAL mode when it first reads it; until then SQLite 3.40's checkpoint finds
  // no WAL and copies nothing.
  if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) !=
          SQLITE_OK) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  return db;
}

std::string FileOf(sqlite3* db) {
  const char* name = sqlite3_db_filename(db, "main");
  return name != nullptr ? name : "";
}

}  // namespace

WalCheckpointer::WalCheckpointer(sqlite3* db, int large_commit_pages)
    : db_(db), large_commit_pages_(large_commit_pages), path_(FileOf(db)) {
  // Replaces the hook sqlite3_wal_autocheckpoint installed: SQLite checkpoints on commit no more.
  sqlite3_wal_hook(db_, &WalCheckpointer::OnCommit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(db_, nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int WalCheckpointer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

// Runs on the committing connection's thread, after each commit, with the WAL's length in pages.
int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) noexcept {
  auto* me = static_cast<WalCheckpointer*>(self);
  // What this commit added (a WAL shorter than before has started over).
  const int added = wal_pages >= me->last_pages_ ? wal_pages - me->last_pages_ : wal_pages;
  me->last_pages_ = wal_pages;
  if (wal_pages < kBackgroundPages) return SQLITE_OK;
  if (added >= me->large_commit_pages_ && wal_pages < kInlinePages && me->Hand()) {
    // A large commit (a catch-up's): its copy is left to the thread, so the commit returns now.
    return SQLITE_OK;
  }
  // A small commit past the limit copies here, as SQLite's own checkpoint would (a copy and a
  // sync of the database file per small commit on the thread slowed a device's many small
  // commits down); so does any commit once the WAL is past kInlinePages. SQLITE_BUSY (a
  // background copy holds the checkpoint lock) is fine: the WAL is being copied already.
  (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

bool WalCheckpointer::Hand() {
  if (unavailable()) return false;
  // Only the committing connection's thread gets here, one commit at a time: thread_ needs no
  // lock. The destructor detaches the hook before it looks at thread_.
  if (!thread_.joinable()) {
    // Inside SQLite's hook (a C callback) nothing may throw: std::thread throws system_error
    // when no thread can start, and bad_alloc too.
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (...) {
      unavailable_.store(true, std::memory_order_release);
      log::Warn("wal_checkpointer_unavailable", {});
      return false;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    due_ = true;
  }
  wake_.notify_one();
  return true;
}

void WalCheckpointer::Run() {
  sqlite3* own = nullptr;  // opened at the first copy
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return due_ || stop_; });
    if (stop_) break;
    due_ = false;
    lock.unlock();
    if (own == nullptr) {
      own = OpenForCheckpoints(path_);
      if (own == nullptr) {
        // No retry at every commit: the committer copies inline from its next commit on, as
        // SQLite's own checkpoint would, instead of leaving the WAL to grow to kInlinePages.
        // Nothing is handed to this thread any more, so it ends (the destructor joins it).
        unavailable_.store(true, std::memory_order_release);
        log::Warn("wal_checkpointer_unavailable", {});
        return;
      }
    }
    bool done = false;
    {
      std::lock_guard<std::mutex> copying(copy_mu_);
      // PASSIVE: copies what no reader still needs, waits for no one.
      done = sqlite3_wal_checkpoint_v2(own, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
             SQLITE_OK;
    }
    lock.lock();
    if (done) ++completed_;
  }
  lock.unlock();
  sqlite3_close_v2(own);  // a null handle is a no-op
}

}  // namespace kring::sql
