// The writer thread's handling of the case heads pushes leave in its case cache
// (server/src/storage/case_cache.h), on a real SQLite store: a head a job left must reach `cases`
// only when that job went through, whatever runs after it in the same group. StoreTxn::Attempt
// inside a group (a push's first pass and its fallback), also when SQLite drops the transaction
// under it (a full disk). And a Read whose function throws gives its connection back.
#include "storage/writer.h"

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/bytes.h"
#include "kring/common/sqlite.h"

#include "storage/case_cache.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "support/temp_dir.h"

namespace kring::test {
namespace {

namespace storage = server::storage;

// Submits `job` and waits for its result (after its group's commit).
Status RunJob(storage::Store& store, storage::WriteJob job) {
  auto result = std::make_shared<std::promise<Status>>();
  std::future<Status> done = result->get_future();
  job.done = [result](const Status& s) { result->set_value(s); };
  store.Submit(std::move(job));
  return done.get();
}

std::optional<storage::CaseRecord> ReadCase(storage::Store& store, ByteView case_id) {
  std::optional<storage::CaseRecord> kase;
  REQUIRE(store
              .Read([&](storage::StoreTxn& txn) -> Status {
                KRING_ASSIGN_OR_RETURN(kase, txn.GetCase(case_id));
                return {};
              })
              .ok());
  return kase;
}

const Bytes kOldHash(32, 0xaa);
const Bytes kNewHash(32, 0xbb);

// What one group saw: a push job that sets the case's head to seq 2 (then fails when
// `push_fails`), followed in the same group by a plain job (not keeping the cache) reading the
// case, then the committed row.
struct GroupOutcome {
  Status blocker;
  Status push;
  Status plain;
  std::optional<storage::CaseRecord> seen_by_plain;
  std::optional<storage::CaseRecord> stored;
};

GroupOutcome PushThenPlainInOneGroup(bool push_fails) {
  TempDir dir;
  auto opened = storage::OpenSqliteStore(dir.path() + "/kring.db", 1);
  REQUIRE(opened.ok());
  storage::Store& store = **opened;
  const Bytes case_id(16, 0x11);

  storage::WriteJob create;
  create.run = [&](storage::StoreTxn& txn) -> Status {
    KRING_RETURN_IF_ERROR(txn.InsertCase(case_id, 1).status());
    return txn.SetCaseHead(case_id, 1, kOldHash);
  };
  REQUIRE(RunJob(store, std::move(create)).ok());

  // The writer is held in a first job while the other two are queued, so they run in one group.
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> blocker_done;
  storage::WriteJob blocker;
  blocker.run = [&started, released](storage::StoreTxn&) -> Status {
    started.set_value();
    released.wait();
    return {};
  };
  blocker.done = [&blocker_done](const Status& s) { blocker_done.set_value(s); };
  store.Submit(std::move(blocker));
  started.get_future().wait();

  // A push's Flush leaves its head in the cache; the push may still fail after it.
  std::promise<Status> push_done;
  storage::WriteJob push;
  push.keeps_case_cache = true;
  push.cached_case_id = case_id;
  push.run = [&](storage::StoreTxn& txn) -> Status {
    // No REQUIRE here: this runs on the writer thread.
    if (txn.case_cache() == nullptr) return Internal("no case cache");
    txn.case_cache()->SetJobHead(case_id, 2, kNewHash);
    if (push_fails) return FailedPrecondition("refused after the head was set");
    return {};
  };
  push.done = [&push_done](const Status& s) { push_done.set_value(s); };
  store.Submit(std::move(push));

  // A job that does not keep the cache: the writer writes the group's heads before it runs.
  GroupOutcome out;
  std::promise<Status> plain_done;
  storage::WriteJob plain;
  plain.run = [&](storage::StoreTxn& txn) -> Status {
    KRING_ASSIGN_OR_RETURN(out.seen_by_plain, txn.GetCase(case_id));
    return {};
  };
  plain.done = [&plain_done](const Status& s) { plain_done.set_value(s); };
  store.Submit(std::move(plain));

  release.set_value();
  out.blocker = blocker_done.get_future().get();
  out.push = push_done.get_future().get();
  out.plain = plain_done.get_future().get();
  out.stored = ReadCase(store, case_id);
  store.Shutdown();
  return out;
}

// Runs `jobs` in one group: the writer is held in a first job while they are queued. Returns
// their results in order.
std::vector<Status> RunInOneGroup(storage::Store& store, std::vector<storage::WriteJob> jobs) {
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  storage::WriteJob blocker;
  blocker.run = [&started, released](storage::StoreTxn&) -> Status {
    started.set_value();
    released.wait();
    return {};
  };
  blocker.done = [](const Status&) {};
  store.Submit(std::move(blocker));
  started.get_future().wait();
  std::vector<std::future<Status>> done;
  for (storage::WriteJob& job : jobs) {
    auto result = std::make_shared<std::promise<Status>>();
    done.push_back(result->get_future());
    job.done = [result](const Status& s) { result->set_value(s); };
    store.Submit(std::move(job));
  }
  release.set_value();
  std::vector<Status> out;
  for (std::future<Status>& f : done) out.push_back(f.get());
  return out;
}

storage::WriteJob Job(std::function<Status(storage::StoreTxn&)> run) {
  storage::WriteJob job;
  job.run = std::move(run);
  return job;
}

Bytes CaseId(uint8_t tag) { return Bytes(16, tag); }

// Whether the job's writes so far include case `tag` (run on the writer thread: no REQUIRE).
Result<bool> HasCase(storage::StoreTxn& txn, uint8_t tag) {
  KRING_ASSIGN_OR_RETURN(std::optional<storage::CaseRecord> kase, txn.GetCase(CaseId(tag)));
  return kase.has_value();
}

Status Write(storage::StoreTxn& txn, uint8_t tag) {
  return txn.InsertCase(CaseId(tag), 1).status();
}

// An attempt's body as ApplyPush's first pass ends when an op may be a retry: after writing.
Status WriteThenMayBeRetry(storage::StoreTxn& txn, uint8_t tag) {
  KRING_RETURN_IF_ERROR(Write(txn, tag));
  return Status(StatusCode::kAborted, "may be a retry");
}

bool Stored(storage::Store& store, uint8_t tag) { return ReadCase(store, CaseId(tag)).has_value(); }

// The tags 1..n whose case the jobs left stored, in order.
std::vector<int> StoredTags(storage::Store& store, int n) {
  std::vector<int> out;
  for (int tag = 1; tag <= n; ++tag) {
    if (Stored(store, static_cast<uint8_t>(tag))) out.push_back(tag);
  }
  return out;
}

std::vector<StatusCode> Codes(const std::vector<Status>& results) {
  std::vector<StatusCode> out;
  for (const Status& s : results) out.push_back(s.code());
  return out;
}

}  // namespace

// StoreTxn::Attempt inside the writer's groups. A push's first pass runs in the job's own
// savepoint while the job has written nothing (store.cpp); these pin that an attempt still
// undoes exactly its body, whatever ran before it in the job or the group.
TEST_CASE("a job whose attempt fails runs its fallback from the job's start, among other jobs",
          "[writer]") {
  TempDir dir;
  auto opened = storage::OpenSqliteStore(dir.path() + "/kring.db", 1);
  REQUIRE(opened.ok());
  storage::Store& store = **opened;
  std::vector<storage::WriteJob> jobs;
  jobs.push_back(Job([](storage::StoreTxn& txn) { return Write(txn, 1); }));
  // The body writes, then fails: the fallback must not see its row, and runs in its place.
  jobs.push_back(Job([](storage::StoreTxn& txn) {
    return txn.Attempt([&] { return WriteThenMayBeRetry(txn, 2); },
                       [&]() -> Status {
                         KRING_ASSIGN_OR_RETURN(bool body_row, HasCase(txn, 2));
                         KRING_ASSIGN_OR_RETURN(bool earlier_job_row, HasCase(txn, 1));
                         if (body_row || !earlier_job_row)
                           return Internal("fallback saw the wrong rows");
                         return Write(txn, 3);
                       });
  }));
  // A job that fails after writing: only its own row goes.
  jobs.push_back(Job([](storage::StoreTxn& txn) -> Status {
    KRING_RETURN_IF_ERROR(Write(txn, 4));
    return FailedPrecondition("refused after writing");
  }));
  // The body fails, then the fallback writes and fails too: the whole job is undone.
  jobs.push_back(Job([](storage::StoreTxn& txn) {
    return txn.Attempt([&] { return WriteThenMayBeRetry(txn, 5); },
                       [&] {
                         KRING_RETURN_IF_ERROR(Write(txn, 6));
                         return InvalidArgument("bad signature");
                       });
  }));
  // The body goes through: the fallback does not run.
  jobs.push_back(Job([](storage::StoreTxn& txn) {
    return txn.Attempt([&] { return Write(txn, 7); },
                       [] { return Internal("fallback after a body that went through"); });
  }));
  jobs.push_back(Job([](storage::StoreTxn& txn) { return Write(txn, 8); }));
  std::vector<Status> results = RunInOneGroup(store, std::move(jobs));
  CHECK(Codes(results) ==
        std::vector<StatusCode>{StatusCode::kOk, StatusCode::kOk, StatusCode::kFailedPrecondition,
                                StatusCode::kInvalidArgument, StatusCode::kOk, StatusCode::kOk});
  CHECK(StoredTags(store, 8) == std::vector<int>{1, 3, 7, 8});
  store.Shutdown();
}

TEST_CASE("an attempt after the job wrote rolls back only its own body", "[writer]") {
  TempDir dir;
  auto opened = storage::OpenSqliteStore(dir.path() + "/kring.db", 1);
  REQUIRE(opened.ok());
  storage::Store& store = **opened;
  std::vector<storage::WriteJob> jobs;
  jobs.push_back(Job([](storage::StoreTxn& txn) -> Status {
    KRING_RETURN_IF_ERROR(Write(txn, 1));
    return txn.Attempt([&] { return WriteThenMayBeRetry(txn, 2); },
                       [&]() -> Status {
                         KRING_ASSIGN_OR_RETURN(bool before_attempt, HasCase(txn, 1));
                         if (!before_attempt) return Internal("the job's earlier write was undone");
                         return Write(txn, 3);
                       });
  }));
  // Two attempts in one job: the second's rollback keeps what the first one stored.
  jobs.push_back(Job([](storage::StoreTxn& txn) -> Status {
    KRING_RETURN_IF_ERROR(
        txn.Attempt([&] { return Write(txn, 4); }, [] { return Internal("first fallback"); }));
    return txn.Attempt([&] { return WriteThenMayBeRetry(txn, 5); },
                       [&]() -> Status {
                         KRING_ASSIGN_OR_RETURN(bool first_attempt, HasCase(txn, 4));
                         if (!first_attempt) return Internal("the first attempt was undone");
                         return Write(txn, 6);
                       });
  }));
  // A body that throws fails its job alone.
  jobs.push_back(Job([](storage::StoreTxn& txn) {
    return txn.Attempt(
        [&]() -> Status {
          KRING_RETURN_IF_ERROR(Write(txn, 7));
          throw std::runtime_error("body failed");
        },
        [] { return Internal("fallback after a throw"); });
  }));
  jobs.push_back(Job([](storage::StoreTxn& txn) { return Write(txn, 8); }));
  std::vector<Status> results = RunInOneGroup(store, std::move(jobs));
  CHECK(Codes(results) == std::vector<StatusCode>{StatusCode::kOk, StatusCode::kOk,
                                                  StatusCode::kInternal, StatusCode::kOk});
  CHECK(StoredTags(store, 8) == std::vector<int>{1, 3, 4, 6, 8});
  store.Shutdown();
}

TEST_CASE("a push job whose transaction SQLite drops in its first pass fails and stores nothing",
          "[writer]") {
  // SQLite rolls the whole transaction back on some errors (a full disk, an I/O error), not only
  // the failing statement. Here a trigger does that when case 3 is inserted, deterministically.
  // The push job's first pass runs in the job's own savepoint (nothing written before it), so
  // that savepoint is gone with the transaction: the fallback must not run (its statements would
  // each commit on their own), the job and its group get an error, and nothing of them is stored.
  TempDir dir;
  const std::string path = dir.path() + "/kring.db";
  auto opened = storage::OpenSqliteStore(path, 1);
  REQUIRE(opened.ok());
  storage::Store& store = **opened;
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TRIGGER lose_transaction BEFORE INSERT ON cases "
                     "WHEN NEW.case_id = X'03030303030303030303030303030303' "
                     "BEGIN SELECT RAISE(ROLLBACK, 'transaction lost'); END")
                .ok());
  }
  std::vector<storage::WriteJob> jobs;
  jobs.push_back(Job([](storage::StoreTxn& txn) { return Write(txn, 1); }));
  jobs.push_back(Job([](storage::StoreTxn& txn) {
    return txn.Attempt(
        [&] {
          KRING_RETURN_IF_ERROR(Write(txn, 2));
          return Write(txn, 3);  // the transaction goes
        },
        [&] { return Write(txn, 4); });
  }));
  jobs.push_back(Job([](storage::StoreTxn& txn) { return Write(txn, 5); }));
  std::vector<Status> results = RunInOneGroup(store, std::move(jobs));
  CHECK(Codes(results) == std::vector<StatusCode>{StatusCode::kUnavailable,
                                                  StatusCode::kUnavailable,
                                                  StatusCode::kUnavailable});
  CHECK(StoredTags(store, 8).empty());

  // The next push job goes through on the same writer, its fast pass rolled back to the job's
  // savepoint as usual, and sees none of the lost group.
  std::vector<storage::WriteJob> next;
  next.push_back(Job([](storage::StoreTxn& txn) {
    return txn.Attempt([&] { return WriteThenMayBeRetry(txn, 6); },
                       [&]() -> Status {
                         for (uint8_t tag = 1; tag <= 6; ++tag) {
                           KRING_ASSIGN_OR_RETURN(bool seen, HasCase(txn, tag));
                           if (seen) return Internal("the fallback saw a row it should not");
                         }
                         return Write(txn, 7);
                       });
  }));
  CHECK(Codes(RunInOneGroup(store, std::move(next))) == std::vector<StatusCode>{StatusCode::kOk});
  CHECK(StoredTags(store, 8) == std::vector<int>{7});
  store.Shutdown();
}

TEST_CASE("a push job that fills the disk in its first pass fails and stores nothing", "[writer]") {
  // A real SQLITE_FULL: the writer's connection may not grow the file past its size. The job's
  // first pass runs in the job's own savepoint and fails after writing rows; SQLite then rolls
  // the whole transaction back (as it may on SQLITE_FULL, and here does), the job's savepoint
  // with it. The fallback, which makes the same writes as ApplyPush's second
  // pass would, must not run: outside a transaction each statement would commit on its own. The
  // job gets UNAVAILABLE, nothing of it is stored, and once there is room the next job goes in.
  TempDir dir;
  const std::string path = dir.path() + "/kring.db";
  auto db = sql::Database::Open(path);
  REQUIRE(db.ok());
  REQUIRE(db->Migrate(storage::Migrations()).ok());
  int64_t pages = 0;
  {
    sql::Statement st(*db, "PRAGMA page_count");
    REQUIRE(st.Step());
    pages = st.Int(0);
  }
  REQUIRE(db->Exec("PRAGMA max_page_count = " + std::to_string(pages)).ok());
  sqlite3* const writer_connection = db->handle();
  storage::Writer writer(std::move(*db));
  const auto run = [&writer](storage::WriteJob job) {
    auto result = std::make_shared<std::promise<Status>>();
    std::future<Status> done = result->get_future();
    job.done = [result](const Status& s) { result->set_value(s); };
    writer.Submit(std::move(job));
    return done.get();
  };
  // 200 cases with 1 KB of head hash each need pages the file may not have.
  const auto fill = [](storage::StoreTxn& txn) -> Status {
    for (int tag = 1; tag <= 200; ++tag) {
      KRING_RETURN_IF_ERROR(Write(txn, static_cast<uint8_t>(tag)));
      KRING_RETURN_IF_ERROR(
          txn.SetCaseHead(CaseId(static_cast<uint8_t>(tag)), 1, Bytes(1024, 0xcc)));
    }
    return {};
  };
  bool fallback_ran = false;
  const Status full = run(Job([&](storage::StoreTxn& txn) {
    return txn.Attempt([&] { return fill(txn); },
                       [&] {
                         fallback_ran = true;
                         return fill(txn);
                       });
  }));
  // SQLite dropped the transaction, and with it the job's savepoint: the fallback did not run.
  CHECK(full.code() == StatusCode::kUnavailable);
  CHECK_FALSE(fallback_ran);
  const auto stored_cases = [&path] {
    auto reader = sql::Database::Open(path, /*read_only=*/true);
    REQUIRE(reader.ok());
    sql::Statement st(*reader, "SELECT count(*) FROM cases");
    REQUIRE(st.Step());
    return st.Int(0);
  };
  CHECK(stored_cases() == 0);

  // Room again (set on the writer's thread, between its statements): the same job goes in.
  const Status room = run(Job([&](storage::StoreTxn&) -> Status {
    if (sqlite3_exec(writer_connection, "PRAGMA max_page_count = 1000000", nullptr, nullptr,
                     nullptr) != SQLITE_OK) {
      return Internal("max_page_count not raised");
    }
    return {};
  }));
  REQUIRE(room.ok());
  const Status next = run(Job([&](storage::StoreTxn& txn) {
    return txn.Attempt(
        [&] {
          KRING_RETURN_IF_ERROR(fill(txn));
          return Status(StatusCode::kAborted, "may be a retry");
        },
        [&] { return fill(txn); });
  }));
  CHECK(next.ok());
  CHECK(stored_cases() == 200);
  writer.Stop();
}

TEST_CASE("a head left by a failed push job stays out of cases when a plain job follows it",
          "[writer]") {
  GroupOutcome g = PushThenPlainInOneGroup(/*push_fails=*/true);
  CHECK(g.blocker.ok());
  CHECK(g.push.code() == StatusCode::kFailedPrecondition);
  CHECK(g.plain.ok());
  REQUIRE(g.seen_by_plain);
  CHECK(g.seen_by_plain->head_seq == 1);
  REQUIRE(g.stored);
  CHECK(g.stored->head_seq == 1);
  CHECK(g.stored->head_hash == kOldHash);
}

TEST_CASE("a head left by a push job that went through is in cases for the plain job after it",
          "[writer]") {
  GroupOutcome g = PushThenPlainInOneGroup(/*push_fails=*/false);
  CHECK(g.push.ok());
  CHECK(g.plain.ok());
  REQUIRE(g.seen_by_plain);
  CHECK(g.seen_by_plain->head_seq == 2);
  CHECK(g.seen_by_plain->head_hash == kNewHash);
  REQUIRE(g.stored);
  CHECK(g.stored->head_seq == 2);
  CHECK(g.stored->head_hash == kNewHash);
}

TEST_CASE("a read that throws gives its connection back, its transaction rolled back", "[store]") {
  TempDir dir;
  auto opened = storage::OpenSqliteStore(dir.path() + "/kring.db", 1);
  REQUIRE(opened.ok());
  // Released only when the test passes: a lost connection would make closing the store (and a
  // failing test's unwinding) wait forever.
  storage::Store* store = opened->release();
  CHECK_THROWS_AS(
      store->Read([](storage::StoreTxn&) -> Status { throw std::runtime_error("read failed"); }),
      std::runtime_error);
  // With one connection, the next Read needs the one the throwing read had, and its BEGIN
  // fails if that read's transaction were still open.
  auto result = std::make_shared<std::promise<Status>>();
  std::future<Status> next = result->get_future();
  std::thread([store, result] {
    result->set_value(store->Read(
        [](storage::StoreTxn& txn) -> Status { return txn.GetCase(Bytes(16, 0x11)).status(); }));
  }).detach();
  REQUIRE(next.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(next.get().ok());
  delete store;
}

}  // namespace kring::test
