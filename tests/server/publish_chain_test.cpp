// PublishChain against a real kringd: retries, conflicts, revocations and racing publishes,
// with the chain's verified state cached by kringd, after a restart (cache empty) and changed
// behind kringd's back.
#include <atomic>
#include <functional>
#include <thread>
#include <tuple>
#include <utility>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/sqlite.h"
#include "kring/common/user_chain.h"

#include "server/chain_builder.h"
#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// The account's chain as kringd serves it (`reader` signs in again); REQUIREs that it verifies.
std::vector<v1::ChainLink> Stored(Client& c, TestAccount& reader, const Bytes& account_id) {
  REQUIRE(SignIn(c, reader).ok());
  v1::GetChainRequest req;
  req.set_account_id(ToString(account_id));
  v1::GetChainResponse resp;
  REQUIRE(c.account->GetChain(Ctx(reader.token).get(), req, &resp).ok());
  std::vector<v1::ChainLink> links(resp.links().begin(), resp.links().end());
  REQUIRE(VerifyChain(account_id, links).ok());
  return links;
}

bool Same(const std::vector<v1::ChainLink>& x, const std::vector<v1::ChainLink>& y) {
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].SerializeAsString() != y[i].SerializeAsString()) return false;
  }
  return true;
}

// One account's chain and two more connections to publish it through at once; `reader` reads
// the stored chain back through `setup`.
struct PublishRace {
  TestServer server;
  Client setup{server.address()};
  Chain ch{MakeAccount(setup)};
  TestAccount reader = ch.a;
  Client first{server.address()};
  Client second{server.address()};
};

// Publishes `x` through `first` and `ys` through `second` at the same moment (both threads
// start together); their answers, in that order.
std::pair<grpc::Status, grpc::Status> PublishTogether(Chain& ch, Client& first,
                                                      const std::vector<v1::ChainLink>& x,
                                                      Client& second,
                                                      const std::vector<v1::ChainLink>& ys) {
  std::atomic<int> ready{0};
  grpc::Status sx, sy;
  auto run = [&](Client& c, const std::vector<v1::ChainLink>& send, grpc::Status& out) {
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    out = ch.Publish(c, send);
  };
  std::thread tx([&] { run(first, x, sx); });
  std::thread ty([&] { run(second, ys, sy); });
  tx.join();
  ty.join();
  return {sx, sy};
}

}  // namespace

TEST_CASE("PublishChain takes retries of stored links, before and after a restart", "[publish]") {
  TestServer server;
  auto c = std::make_unique<Client>(server.address());
  Chain ch(MakeAccount(*c));
  ch.Grow(*c, 5);
  uint64_t length = 0;
  // The whole chain again, a part of it, and the newest links with a new one.
  CHECK(ch.Publish(*c, ch.links, &length).error_message() == "");
  CHECK(length == 6);
  CHECK(ch.Publish(*c, ch.Slice(2, 4), &length).error_message() == "");
  CHECK(length == 6);
  ch.links.push_back(ch.Make(ch.Rotate()));
  CHECK(ch.Publish(*c, ch.Slice(4, 7), &length).error_message() == "");
  CHECK(length == 7);

  // After a restart kringd has verified nothing yet.
  server.Restart();
  c = std::make_unique<Client>(server.address());
  CHECK(ch.Publish(*c, ch.Slice(3, 7), &length).error_message() == "");
  CHECK(length == 7);
  server.Restart();
  c = std::make_unique<Client>(server.address());
  ch.Grow(*c, 2);
  CHECK(ch.Publish(*c, ch.links, &length).error_message() == "");
  CHECK(length == 9);
  TestAccount reader = ch.a;
  CHECK(Same(Stored(*c, reader, ch.a.account_id), ch.links));
}

TEST_CASE("a pure retry answers the stored length and writes nothing", "[publish]") {
  TestServer server;
  auto c = std::make_unique<Client>(server.address());
  Chain ch(MakeAccount(*c));
  ch.Grow(*c, 4);
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  // The account's user key generation row, which every publish that reaches kringd's writer
  // sets from the chain: set to a value no publish writes, it shows whether one did.
  auto set_generation = [&](int64_t g) {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    sql::Statement st(*db, "UPDATE user_key_generations SET generation = ? WHERE account_id = ?");
    st.Bind(1, g).Bind(2, ch.a.account_id);
    REQUIRE(st.Run().ok());
    REQUIRE(db->Changes() == 1);
  };
  auto generation = [&]() -> int64_t {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    sql::Statement st(*db, "SELECT generation FROM user_key_generations WHERE account_id = ?");
    st.Bind(1, ch.a.account_id);
    REQUIRE(st.Step());
    return st.Int(0);
  };
  REQUIRE(generation() == ch.generation);
  set_generation(77);
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);  // cached, then after a restart (nothing verified)
    uint64_t length = 0;
    CHECK(ch.Publish(*c, ch.links, &length).error_message() == "");
    CHECK(length == 5);
    CHECK(ch.Publish(*c, ch.Slice(3, 4), &length).error_message() == "");
    CHECK(length == 5);
    CHECK(ch.Publish(*c, {ch.links[2], ch.links[2], ch.links[0]}, &length).error_message() == "");
    CHECK(length == 5);
    CHECK(generation() == 77);
    server.Restart();
    c = std::make_unique<Client>(server.address());
  }
  // A retry with one new link does reach the writer, which sets the row from the chain.
  ch.links.push_back(ch.Make(ch.Rotate()));
  uint64_t length = 0;
  CHECK(ch.Publish(*c, ch.Slice(3, 6), &length).error_message() == "");
  CHECK(length == 6);
  CHECK(generation() == ch.generation);
}

TEST_CASE("a link that conflicts with the stored chain is refused, verified before or not",
          "[publish]") {
  TestServer server;
  auto c = std::make_unique<Client>(server.address());
  Chain ch(MakeAccount(*c));
  ch.Grow(*c, 3);
  // Another valid rotation at index 2 (a fork), and the stored link with one bit changed.
  const v1::ChainLink fork = ch.Make(ch.Rotation(2), nullptr, nullptr, &ch.links[1]);
  v1::ChainLink flipped = ch.links[3];
  flipped.mutable_signature()->at(0) ^= 1;
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    grpc::Status s = ch.Publish(*c, {fork});
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "link conflicts with the stored chain");
    s = ch.Publish(*c, {ch.links[2], flipped});
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "link conflicts with the stored chain");
    // A conflict next to a valid new link stores neither.
    s = ch.Publish(*c, {fork, ch.Make(ch.Rotation(ch.generation + 1))});
    CHECK(s.error_message() == "link conflicts with the stored chain");
    server.Restart();
    c = std::make_unique<Client>(server.address());
  }
  TestAccount reader = ch.a;
  CHECK(Same(Stored(*c, reader, ch.a.account_id), ch.links));
}

TEST_CASE("PublishChain verifies every new link after a chain it verified before", "[publish]") {
  TestServer server;
  Client c(server.address());
  Chain ch(MakeAccount(c));
  ch.Grow(c, 4);
  REQUIRE(ch.Publish(c, ch.links).ok());  // kringd has the whole chain verified now
  v1::ChainLink bad_signature = ch.Make(ch.Rotation(ch.generation + 1));
  bad_signature.mutable_signature()->at(5) ^= 1;
  grpc::Status s = ch.Publish(c, {bad_signature});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "bad link signature");
  // Next to a retry of the stored link before it.
  s = ch.Publish(c, {ch.links.back(), bad_signature});
  CHECK(s.error_message() == "bad link signature");
  const crypto::SigningKeyPair stranger = crypto::NewSigningKeyPair();
  s = ch.Publish(c, {ch.Make(ch.Rotation(ch.generation + 1), &stranger)});
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // A generation skipped, a link that does not extend the head.
  s = ch.Publish(c, {ch.Make(ch.Rotation(ch.generation + 2))});
  CHECK(s.error_message() == "user key generation must increase by one");
  s = ch.Publish(c, {ch.Make(ch.Rotation(ch.generation + 1), nullptr, nullptr, &ch.links[3])});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  TestAccount reader = ch.a;
  CHECK(Same(Stored(c, reader, ch.a.account_id), ch.links));
  ch.Grow(c, 1);
}

TEST_CASE("a revocation still needs its rotation and still ends the device's session",
          "[publish]") {
  TestServer server;
  auto c = std::make_unique<Client>(server.address());
  Chain ch(MakeAccount(*c));
  // A second device, signed in.
  TestAccount second = ch.a;
  second.signing = crypto::NewSigningKeyPair();
  second.box = crypto::NewBoxKeyPair();
  second.device_id = protocol::DeviceId(second.signing.public_key);
  second.token.clear();
  ch.links.push_back(ch.Make(
      [&](v1::LinkBody& body) {
        v1::DeviceKeys* keys = body.mutable_add_device()->mutable_device();
        keys->set_signing_public_key(ToString(second.signing.public_key));
        keys->set_box_public_key(ToString(second.box.public_key));
      },
      nullptr, &second.signing));
  REQUIRE(ch.Publish(*c, ch.Slice(1, 2)).error_message() == "");
  REQUIRE(ch.Publish(*c, ch.links).ok());  // verified and cached
  REQUIRE(SignIn(*c, second).ok());

  const Fill revoke = [&](v1::LinkBody& body) {
    body.mutable_revoke_device()->set_device_id(ToString(second.device_id));
  };
  const v1::ChainLink revocation = ch.Make(revoke);
  grpc::Status s = ch.Publish(*c, {revocation});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "a revocation needs a new user key right after it");
  // With a link of another kind after it.
  const v1::ChainLink other = ch.Make(revoke, nullptr, nullptr, &revocation);
  s = ch.Publish(*c, {revocation, other});
  CHECK(s.error_message() == "a revocation needs a new user key right after it");
  // The device was not revoked by any of these.
  v1::GetChainRequest gc;
  gc.set_account_id(ToString(ch.a.account_id));
  v1::GetChainResponse got;
  CHECK(c->account->GetChain(Ctx(second.token).get(), gc, &got).ok());

  ch.links.push_back(revocation);
  ch.links.push_back(ch.Make(ch.Rotate()));
  uint64_t length = 0;
  REQUIRE(ch.Publish(*c, ch.Slice(2, 4), &length).error_message() == "");
  CHECK(length == 4);
  CHECK(c->account->GetChain(Ctx(second.token).get(), gc, &got).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  s = SignIn(*c, second);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(RefusalReason(s) == refusal::kDeviceRevoked);
  // Retries, cached and after a restart, change nothing.
  CHECK(ch.Publish(*c, ch.Slice(2, 4), &length).error_message() == "");
  CHECK(length == 4);
  server.Restart();
  c = std::make_unique<Client>(server.address());
  CHECK(ch.Publish(*c, ch.links, &length).error_message() == "");
  CHECK(length == 4);
  CHECK(RefusalReason(SignIn(*c, second)) == refusal::kDeviceRevoked);
  // The revoked device signs no more links.
  s = ch.Publish(*c, {ch.Make(ch.Rotation(ch.generation + 1), &second.signing)});
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("two publishes racing to append different links: one is stored, the other refused",
          "[publish]") {
  PublishRace race;
  auto [setup, ch, reader, first, second] =
      std::tie(race.setup, race.ch, race.reader, race.first, race.second);
  for (int round = 0; round < 12; ++round) {
    INFO("round " << round);
    // Two valid rotations at the same index; in odd rounds the second also brings the link
    // after its own.
    const uint32_t gen = ch.generation + 1;
    const v1::ChainLink x = ch.Make(ch.Rotation(gen));
    std::vector<v1::ChainLink> ys = {ch.Make(ch.Rotation(gen))};
    if (round % 2 == 1) ys.push_back(ch.Make(ch.Rotation(gen + 1), nullptr, nullptr, &ys[0]));
    const auto [sx, sy] = PublishTogether(ch, first, {x}, second, ys);
    REQUIRE(sx.ok() != sy.ok());
    const grpc::Status& lost = sx.ok() ? sy : sx;
    CHECK(lost.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(lost.error_message() == "link conflicts with the stored chain");
    if (sx.ok()) {
      ch.links.push_back(x);
    } else {
      ch.links.insert(ch.links.end(), ys.begin(), ys.end());
    }
    ch.generation = gen + static_cast<uint32_t>(sx.ok() ? 0 : ys.size() - 1);
    CHECK(Same(Stored(setup, reader, ch.a.account_id), ch.links));
  }
  ch.Grow(setup, 1);
}

TEST_CASE("a publish racing a longer one with the same first link: both end stored", "[publish]") {
  PublishRace race;
  auto [setup, ch, reader, first, second] =
      std::tie(race.setup, race.ch, race.reader, race.first, race.second);
  for (int round = 0; round < 12; ++round) {
    INFO("round " << round);
    const v1::ChainLink x = ch.Make(ch.Rotation(ch.generation + 1));
    const v1::ChainLink y = ch.Make(ch.Rotation(ch.generation + 2), nullptr, nullptr, &x);
    const auto [sx, sy] = PublishTogether(ch, first, {x}, second, {x, y});
    CHECK(sx.error_message() == "");
    // The longer one may have to come again when the shorter was stored after it was checked:
    // UNAVAILABLE. libkring does not retry it on its own; its caller publishes again, as here.
    if (!sy.ok()) {
      CHECK(sy.error_code() == grpc::StatusCode::UNAVAILABLE);
      CHECK(ch.Publish(second, {x, y}).error_message() == "");
    }
    ch.links.push_back(x);
    ch.links.push_back(y);
    ch.generation += 2;
    CHECK(Same(Stored(setup, reader, ch.a.account_id), ch.links));
  }
}

TEST_CASE("a chain changed behind kringd's back is not trusted from what it verified before",
          "[publish]") {
  TestServer server;
  Client c(server.address());
  Chain ch(MakeAccount(c));
  ch.Grow(c, 3);
  REQUIRE(ch.Publish(c, ch.links).ok());  // verified and cached
  {
    // The newest stored link with its signature broken.
    v1::ChainLink broken = ch.links.back();
    broken.mutable_signature()->at(0) ^= 1;
    auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    sql::Statement st(*db, "UPDATE chain_links SET link = ? WHERE account_id = ? AND idx = ?");
    st.Bind(1, broken.SerializeAsString())
        .Bind(2, ch.a.account_id)
        .Bind(3, static_cast<int64_t>(ch.links.size() - 1));
    REQUIRE(st.Run().ok());
  }
  grpc::Status s = ch.Publish(c, {ch.Make(ch.Rotation(ch.generation + 1))});
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  // A pure retry is answered from the stored links, verifying nothing and storing nothing.
  uint64_t length = 0;
  CHECK(ch.Publish(c, ch.Slice(0, 2), &length).error_message() == "");
  CHECK(length == ch.links.size());
}

TEST_CASE("a new link that cannot continue the stored chain is refused before it is verified",
          "[publish]") {
  TestServer server;
  auto c = std::make_unique<Client>(server.address());
  Chain ch(MakeAccount(*c));
  ch.Grow(*c, 3);
  const v1::ChainLink next = ch.Make(ch.Rotation(ch.generation + 1));
  const v1::ChainLink gap = ch.Make(ch.Rotation(ch.generation + 2), nullptr, nullptr, &next);
  const v1::ChainLink wrong_head = ch.Make([&](v1::LinkBody& body) {
    FillRotateUserKey(body, ch.a, ch.generation + 1);
    body.set_prev_link_hash(std::string(32, 'x'));
  });
  const v1::ChainLink version_2 = ch.Make([&](v1::LinkBody& body) {
    FillRotateUserKey(body, ch.a, ch.generation + 1);
    body.set_version(2);
  });
  auto refused = [&](const std::vector<v1::ChainLink>& send, const std::string& message) {
    grpc::Status s = ch.Publish(*c, send);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == message);
  };
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);  // the stored chain intact, then broken behind kringd's back
    refused({gap}, "link index does not continue chain");
    refused({ch.links[3], gap}, "link index does not continue chain");
    refused({wrong_head}, "link does not extend the chain head");
    refused({version_2}, "unknown link version");
    if (round == 0) {
      v1::ChainLink broken = ch.links[1];
      broken.mutable_signature()->at(0) ^= 1;
      auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
      REQUIRE(db.ok());
      sql::Statement st(*db, "UPDATE chain_links SET link = ? WHERE account_id = ? AND idx = 1");
      st.Bind(1, broken.SerializeAsString()).Bind(2, ch.a.account_id);
      REQUIRE(st.Run().ok());
      server.Restart();  // nothing verified: each refusal above would verify the stored chain
      c = std::make_unique<Client>(server.address());
    }
  }
  // A link that does continue it gets the full check, which finds the broken link.
  CHECK(ch.Publish(*c, {next}).error_code() == grpc::StatusCode::INTERNAL);
}

TEST_CASE("a chain of 1000 links takes retries and no more links", "[publish]") {
  TestServer server;
  auto c = std::make_unique<Client>(server.address());
  Chain ch(MakeAccount(*c));
  ch.Grow(*c, protocol::kMaxChainLinks - 1);
  uint64_t length = 0;
  CHECK(ch.Publish(*c, ch.Slice(ch.links.size() - 64, ch.links.size()), &length).ok());
  CHECK(length == protocol::kMaxChainLinks);
  grpc::Status s = ch.Publish(*c, {ch.Make(ch.Rotation(ch.generation + 1))});
  CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  server.Restart();
  c = std::make_unique<Client>(server.address());
  CHECK(ch.Publish(*c, ch.Slice(0, 64), &length).ok());
  CHECK(length == protocol::kMaxChainLinks);
  s = ch.Publish(*c, {ch.Make(ch.Rotation(ch.generation + 1))});
  CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace kring::test
