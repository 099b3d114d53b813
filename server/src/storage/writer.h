// The single writer thread: takes every queued job, runs them in one BEGIN IMMEDIATE transaction
// (each in its own savepoint, so a failing job rolls back only itself), commits once, then
// completes the jobs (group commit: one fsync for many pushes). It keeps a cache of cases for
// pushes (case_cache.h) and clears it whenever a job may have changed the tables under it; the
// case heads the pushes leave there are written once per group.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "kring/common/sqlite.h"

#include "storage/case_cache.h"
#include "storage/store.h"

namespace kring::server::storage {

class Writer {
 public:
  explicit Writer(sql::Database db);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Thread-safe. After Stop() jobs complete at once with UNAVAILABLE.
  void Submit(WriteJob job);
  // Runs what is queued, then joins the thread and closes the connection.
  void Stop();

 private:
  void Loop();
  void RunGroup(std::deque<WriteJob>& group);
  // Writes the case heads the group's pushes left in the cache (case_cache.h) to `cases`.
  Status WriteHeads(StoreTxn& txn);

  sql::Database db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  CaseCache cache_;  // writer thread only
  std::thread thread_;
};

}  // namespace kring::server::storage
