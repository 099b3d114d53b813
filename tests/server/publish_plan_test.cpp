// What the writer answers when an account's chain changed between the snapshot a PublishChain
// was verified on and its commit (server/src/publish_plan.h), step by step on a real SQLite
// store: publish_chain_test.cpp can only provoke this by racing two publishes through kringd and
// does not know which order it got. Also the bound on publishes verifying uncached chains.
#include "publish_plan.h"

#include <future>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/bytes.h"
#include "kring/common/user_chain.h"

#include "server/chain_builder.h"
#include "server/server_test_util.h"
#include "storage/store.h"
#include "support/temp_dir.h"

namespace kring::test {
namespace {

using server::PublishOutcome;
using server::PublishPlan;
namespace storage = server::storage;

// One account's chain on a store of its own, published through the steps kringd runs.
struct PlanFixture {
  TempDir dir;
  std::unique_ptr<storage::Store> store = Open(dir.path() + "/kring.db");
  server::ChainCache cache{16, 1 << 20};
  Chain ch{NewAccount()};

  static std::unique_ptr<storage::Store> Open(const std::string& path) {
    auto opened = storage::OpenSqliteStore(path, 1);
    REQUIRE(opened.ok());
    return std::move(opened).value();
  }

  // A publish of `links` read, checked and verified on the store as it is now (kringd's
  // LoadStored, Screen, PreparePublish and PlanDevices), not yet committed.
  Status Prepare(const std::vector<v1::ChainLink>& links, PublishPlan& plan) {
    const google::protobuf::RepeatedPtrField<v1::ChainLink> req(links.begin(), links.end());
    server::StoredLinks stored;
    KRING_RETURN_IF_ERROR(store->Read([&](storage::StoreTxn& txn) {
      return server::LoadStored(txn, cache, ch.a.account_id, req, stored);
    }));
    bool retry_only = false;
    KRING_RETURN_IF_ERROR(server::Screen(req, stored, retry_only));
    UserChain chain;
    KRING_RETURN_IF_ERROR(server::PreparePublish(cache, ch.a.account_id, req, stored, chain, plan));
    return store->Read(
        [&](storage::StoreTxn& txn) { return server::PlanDevices(txn, chain, plan); });
  }

  // The writer's CommitPublish of `plan`, answered after its group's commit.
  Status Commit(const PublishPlan& plan, PublishOutcome& out) {
    auto result = std::make_shared<std::promise<Status>>();
    std::future<Status> done = result->get_future();
    store->Submit({[&](storage::StoreTxn& txn) { return server::CommitPublish(txn, plan, out); },
                   [result](const Status& s) { result->set_value(s); },
                   {}});
    return done.get();
  }

  std::vector<std::string> Stored() {
    std::vector<std::string> links;
    REQUIRE(store
                ->Read([&](storage::StoreTxn& txn) -> Status {
                  KRING_ASSIGN_OR_RETURN(links, txn.LoadChainLinks(ch.a.account_id, 0));
                  return {};
                })
                .ok());
    return links;
  }

  // Publishes `links` with nothing in between; REQUIREs success.
  void Publish(const std::vector<v1::ChainLink>& links) {
    PublishPlan plan;
    REQUIRE(Prepare(links, plan).message() == "");
    PublishOutcome out;
    REQUIRE(Commit(plan, out).message() == "");
  }

  // The Root and one rotation stored; `ch.links` holds them.
  void Start() {
    Publish({ch.a.root});
    ch.links.push_back(ch.Make(ch.Rotate()));
    Publish({ch.links.back()});
    REQUIRE(Stored().size() == 2);
  }
};

TEST_CASE("a publish verified before another stored a different link there is refused",
          "[publish]") {
  PlanFixture f;
  f.Start();
  const uint32_t gen = f.ch.generation + 1;
  const v1::ChainLink x = f.ch.Make(f.ch.Rotation(gen));
  const v1::ChainLink y = f.ch.Make(f.ch.Rotation(gen));
  REQUIRE(x.SerializeAsString() != y.SerializeAsString());
  PublishPlan px, py;
  REQUIRE(f.Prepare({x}, px).ok());
  REQUIRE(f.Prepare({y}, py).ok());
  PublishOutcome oy, ox;
  REQUIRE(f.Commit(py, oy).ok());
  CHECK(oy.length == 3);
  CHECK(oy.appended == 1);
  const Status s = f.Commit(px, ox);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "link conflicts with the stored chain");
  const std::vector<std::string> stored = f.Stored();
  REQUIRE(stored.size() == 3);
  CHECK(stored[2] == y.SerializeAsString());
}

TEST_CASE("a publish whose links another publish stored meanwhile is answered as a retry",
          "[publish]") {
  PlanFixture f;
  f.Start();
  const v1::ChainLink x = f.ch.Make(f.ch.Rotate());
  const v1::ChainLink x2 = f.ch.Make(f.ch.Rotate(), nullptr, nullptr, &x);
  PublishPlan first, again, longer;
  REQUIRE(f.Prepare({x}, first).ok());
  REQUIRE(f.Prepare({x}, again).ok());
  REQUIRE(f.Prepare({x, x2}, longer).ok());
  PublishOutcome o1, o2, o3;
  SECTION("the shorter one first") {
    REQUIRE(f.Commit(first, o1).ok());
    CHECK(o1.appended == 1);
    // The same link, stored by the other: nothing written, the stored length answered.
    REQUIRE(f.Commit(again, o2).ok());
    CHECK(o2.appended == 0);
    CHECK(o2.length == 3);
    // A link past what is stored now was verified against a chain that is not the stored one:
    // publishing again checks it against the longer chain.
    const Status s = f.Commit(longer, o3);
    CHECK(s.code() == StatusCode::kUnavailable);
    CHECK(s.message() == "the account's chain changed meanwhile");
    CHECK(f.Stored().size() == 3);
    PublishPlan retried;
    REQUIRE(f.Prepare({x, x2}, retried).ok());
    REQUIRE(f.Commit(retried, o3).ok());
    CHECK(o3.appended == 1);
    CHECK(o3.length == 4);
  }
  SECTION("the longer one first") {
    REQUIRE(f.Commit(longer, o3).ok());
    CHECK(o3.appended == 2);
    REQUIRE(f.Commit(first, o1).ok());
    CHECK(o1.appended == 0);
    CHECK(o1.length == 4);
  }
  const std::vector<std::string> stored = f.Stored();
  CHECK(stored[2] == x.SerializeAsString());
  CHECK(stored.size() == 4);
  CHECK(stored[3] == x2.SerializeAsString());
}

TEST_CASE("a plan whose verified last link is no longer the stored one is not stored",
          "[publish]") {
  PlanFixture f;
  f.Start();
  PublishPlan plan;
  REQUIRE(f.Prepare({f.ch.Make(f.ch.Rotate())}, plan).ok());
  // As if the stored chain had been rewritten under kringd: links are append-only, so the
  // writer reports it instead of storing a link verified against other bytes.
  plan.stored_last_link = f.ch.links[0].SerializeAsString();
  PublishOutcome out;
  const Status s = f.Commit(plan, out);
  CHECK(s.code() == StatusCode::kDataLoss);
  CHECK(s.message() == "stored chain changed under a publish");
  CHECK(f.Stored().size() == 2);
}

TEST_CASE("publishes verifying uncached chains take one of a fixed number of places", "[publish]") {
  server::VerifyLimit limit(2);
  {
    server::VerifyLimit::Slot a(limit), b(limit);
    CHECK(a.held());
    CHECK(b.held());
    {
      server::VerifyLimit::Slot c(limit);
      CHECK_FALSE(c.held());
    }
    // A refused slot gave nothing back that it did not take.
    server::VerifyLimit::Slot d(limit);
    CHECK_FALSE(d.held());
  }
  server::VerifyLimit::Slot e(limit), g(limit);
  CHECK(e.held());
  CHECK(g.held());
}

}  // namespace
}  // namespace kring::test
