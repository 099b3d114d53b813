// The writer thread's handling of the case heads pushes leave in its case cache
// (server/src/storage/case_cache.h), on a real SQLite store: a head a job left must reach `cases`
// only when that job went through, whatever runs after it in the same group. And a Read whose
// function throws gives its connection back.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/common/bytes.h"

#include "storage/case_cache.h"
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

}  // namespace

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
