#include "storage/writer.h"

#include <exception>
#include <vector>

#include "kring/common/log.h"

namespace kring::server::storage {

Writer::Writer(sql::Database db) : db_(std::move(db)), thread_([this] { Loop(); }) {}

Writer::~Writer() { Stop(); }

void Writer::Submit(WriteJob job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  job.done(Status(StatusCode::kUnavailable, "server is shutting down"));
  if (job.after_group) job.after_group();
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (db_.handle() != nullptr) (void)db_.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db_ = sql::Database();
}

void Writer::Loop() {
  for (;;) {
    std::deque<WriteJob> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      group.swap(queue_);
    }
    RunGroup(group);
  }
}

void Writer::RunGroup(std::deque<WriteJob>& group) {
  std::vector<Status> results(group.size());
  Status commit;
  bool erased = false;
  {
    sql::Transaction tx(db_);
    commit = tx.status();
    if (commit.ok()) {
      std::unique_ptr<StoreTxn> txn = MakeSqliteTxn(db_, /*writable=*/true);
      for (size_t i = 0; i < group.size(); ++i) {
        // A job that does not keep the case cache exact itself may change what it holds, and
        // may read `cases`: it sees the heads the pushes before it left.
        if (!group[i].keeps_case_cache) {
          commit = WriteHeads(*txn);
          if (!commit.ok()) break;
          cache_.Clear();
        }
        txn->set_case_cache(group[i].keeps_case_cache ? &cache_ : nullptr);
        sql::Savepoint sp(db_, "job");
        if (!sp.status().ok()) {
          results[i] = sp.status();
          cache_.Clear();
          continue;
        }
        // A head is only ever the running job's: none can pass from one job to the next.
        cache_.DropJobHead();
        // Until the job writes, its savepoint can serve a push's attempt (StoreTxn::Attempt);
        // named only while `sp` lives and the job runs.
        {
          txn->SetJobSavepoint(&sp);
          // Cleared on every way out of the job, a throw of any kind included.
          struct Unname {
            StoreTxn& txn;
            ~Unname() { txn.SetJobSavepoint(nullptr); }
          } unname{*txn};
          try {
            results[i] = group[i].run(*txn);
          } catch (const std::exception&) {
            results[i] = Internal("write job failed");
          }
        }
        if (results[i].ok()) results[i] = sp.Release();
        if (results[i].ok()) {
          // The job's rows are in the group now: without its head the group must not commit (a
          // bad_alloc here fails the group instead of ending the writer thread).
          try {
            cache_.KeepJobHead();
          } catch (const std::exception&) {
            commit = Internal("case head not kept");
            break;
          }
        } else {
          // Rolled back: what the job put into the cache may be undone in the tables. A push can
          // only have put its own case there; a client whose pushes keep failing (held, stale
          // epoch) must not empty the cache for everyone else's cases.
          cache_.DropJobHead();
          if (group[i].keeps_case_cache && !group[i].cached_case_id.empty()) {
            cache_.Erase(group[i].cached_case_id);
          } else {
            cache_.Clear();
          }
        }
        if (!db_.InTransaction()) {
          // SQLite rolled the whole group back (a full disk, an I/O error): the jobs before this
          // one are undone too, and the jobs after it must not write outside a transaction.
          commit = Status(StatusCode::kUnavailable, "storage transaction was lost");
          break;
        }
      }
      erased = txn->ErasedACase();
      if (commit.ok()) commit = WriteHeads(*txn);
      if (commit.ok()) commit = tx.Commit();
    }
  }
  if (commit.ok() && erased) {
    // secure_delete overwrote the database pages; the log still has their old copies. Readers
    // holding an older snapshot can keep part of it until the next checkpoint.
    if (!db_.TruncateWal().ok()) log::Warn("erasure_wal_not_emptied", {});
  }
  if (!commit.ok()) {
    cache_.Clear();  // the whole group is undone
    cache_.DropJobHead();
    (void)cache_.TakeHeads();
    log::Error("commit_failed", {{"jobs", static_cast<uint64_t>(group.size())},
                                 {"code", std::string(StatusCodeName(commit.code()))}});
    for (Status& s : results) s = Status(StatusCode::kUnavailable, "storage commit failed");
  }
  for (size_t i = 0; i < group.size(); ++i) {
    try {
      group[i].done(results[i]);
    } catch (const std::exception&) {
      log::Error("write_completion_failed");
    }
  }
  for (WriteJob& job : group) {
    try {
      if (job.after_group) job.after_group();
    } catch (const std::exception&) {
      log::Error("write_completion_failed");
    }
  }
  log::Write(log::Level::kDebug, "group_commit", {{"jobs", static_cast<uint64_t>(group.size())}});
}

Status Writer::WriteHeads(StoreTxn& txn) {
  // Any error fails the group, which drops the heads not written (a bad_alloc too, rather than
  // ending the writer thread).
  try {
    for (const auto& [case_id, head] : cache_.TakeHeads()) {
      // Keyed by case_id, never by a case_key read earlier: a case erased in this group has no
      // row left to update (that changes nothing), and its case_key may already be another
      // case's.
      KRING_RETURN_IF_ERROR(txn.SetCaseHead(case_id, head.seq, head.hash));
    }
  } catch (const std::exception&) {
    return Internal("case heads not written");
  }
  return {};
}

}  // namespace kring::server::storage
