// The retention sweep erases in bounded writer transactions: it stops after the case that brings
// the ops it erased to its budget, so a sweep of many large cases does not hold the writer for
// seconds (the server loops over such batches until none is due).
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "case_log.h"
#include "server/server_test_util.h"
#include "storage/store.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

namespace storage = server::storage;

Result<size_t> Sweep(storage::Store& store, uint64_t max_ops) {
  auto result = std::make_shared<std::promise<Result<size_t>>>();
  auto n = std::make_shared<size_t>(0);
  storage::WriteJob job;
  job.run = [n, max_ops](storage::StoreTxn& txn) -> Status {
    // Long after every retention ended.
    KRING_ASSIGN_OR_RETURN(*n, server::SweepRetention(txn, int64_t{1} << 50, 100, max_ops));
    return {};
  };
  job.done = [result, n](const Status& s) {
    result->set_value(s.ok() ? Result<size_t>(*n) : Result<size_t>(s));
  };
  store.Submit(std::move(job));
  return result->get_future().get();
}

}  // namespace

TEST_CASE("a retention sweep erases cases in transactions bounded by their ops", "[retention]") {
  TestServer server;
  std::vector<Bytes> cases;
  {
    Client c(server.address());
    TestAccount chair = MakeAccount(c);
    for (int i = 0; i < 3; ++i) {
      OpBuilder b = CreateKeyedCase(c, chair);
      std::vector<v1::Envelope> batch;
      b.AddTo(batch, b.Content(1));
      b.AddTo(batch, b.Content(1));
      v1::ControlBody close;
      close.mutable_close_case()->set_retention_days(1);
      b.AddTo(batch, b.Control(v1::OP_KIND_CLOSE_CASE, 0, 1, close));
      REQUIRE(Push(c, chair.token, b.case_id(), batch).ok());
      cases.push_back(b.case_id());
    }
  }
  REQUIRE(server.Stop() == 0);
  auto opened = storage::OpenSqliteStore(server.data_dir() + "/data/kringd.sqlite3", 1);
  REQUIRE(opened.ok());
  storage::Store& store = **opened;
  // Each case has 5 ops: a budget of 6 takes two cases, then the last one alone.
  auto first = Sweep(store, 6);
  REQUIRE(first.ok());
  CHECK(*first == 2);
  auto second = Sweep(store, 6);
  REQUIRE(second.ok());
  CHECK(*second == 1);
  auto third = Sweep(store, 6);
  REQUIRE(third.ok());
  CHECK(*third == 0);
  for (const Bytes& id : cases) {
    std::optional<storage::ErasedCase> gone;
    REQUIRE(store
                .Read([&](storage::StoreTxn& txn) -> Status {
                  KRING_ASSIGN_OR_RETURN(gone, txn.GetErased(id));
                  return {};
                })
                .ok());
    CHECK(gone.has_value());
  }
}

}  // namespace kring::test
