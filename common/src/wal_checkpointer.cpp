#include "kring/common/wal_checkpointer.h"

#include <utility>

namespace kring::sql {
namespace {

// A connection of the checkpointer's own, or null (then the committing connection's inline
// checkpoint takes over).
sqlite3* OpenForCheckpoints(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  // A connection learns that the database is in WAL mode when it first reads it; until then
  // SQLite 3.40's checkpoint finds no WAL and copies nothing.
  if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  return db;
}

}  // namespace

WalCheckpointer::WalCheckpointer(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), thread_([this] { Run(); }) {
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
  thread_.join();
}

int WalCheckpointer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

// Runs on the committing connection's thread, after each commit, with the WAL's length in pages.
int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) {
  auto* me = static_cast<WalCheckpointer*>(self);
  if (wal_pages >= kInlinePages) {
    // The background copies keep losing the race with new commits: copy the rest here, so the
    // next write can start the WAL over. SQLITE_BUSY (a background pass holds the checkpoint
    // lock) is fine: the WAL is then being copied already.
    (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (wal_pages >= kBackgroundPages) {
    {
      std::lock_guard<std::mutex> lock(me->mu_);
      me->due_ = true;
    }
    me->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  sqlite3* own = nullptr;  // opened at the first checkpoint: most connections never need one
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return due_ || stop_; });
    if (stop_) break;
    due_ = false;
    lock.unlock();
    if (own == nullptr) own = OpenForCheckpoints(path_);
    // PASSIVE: copies what no reader still needs, waits for no one. The database file is synced
    // after the copy (synchronous=FULL is SQLite's default for this connection too).
    const bool done =
        own != nullptr && sqlite3_wal_checkpoint_v2(own, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                                    nullptr, nullptr) == SQLITE_OK;
    lock.lock();
    if (done) ++completed_;
  }
  lock.unlock();
  sqlite3_close_v2(own);  // a null handle is a no-op
}

}  // namespace kring::sql
