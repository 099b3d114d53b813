// kringd's cache of verified chain states (chain_cache.h): its bounds and which entry it keeps.
#include "chain_cache.h"

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"

namespace kring::server {
namespace {

std::shared_ptr<const VerifiedChain> State(const Bytes& account_id, uint64_t length,
                                           size_t seeds = 0) {
  auto v = std::make_shared<VerifiedChain>();
  v->state.account_id = account_id;
  v->state.length = length;
  v->state.user_key.sealed_seeds.resize(seeds);
  for (v1::SealedSeed& s : v->state.user_key.sealed_seeds) s.set_sealed(std::string(80, 'x'));
  v->last_link = "link " + std::to_string(length);
  v->bytes = ChainCache::EstimateBytes(*v);
  return v;
}

}  // namespace

TEST_CASE("the chain cache keeps the longest verified state of an account", "[chain_cache]") {
  ChainCache cache(8, 1 << 20);
  const Bytes a = crypto::RandomBytes(16);
  CHECK(cache.Get(a) == nullptr);
  cache.Put(State(a, 3));
  cache.Put(State(a, 2));  // an older snapshot's, put late
  REQUIRE(cache.Get(a) != nullptr);
  CHECK(cache.Get(a)->state.length == 3);
  cache.Put(State(a, 5));
  CHECK(cache.Get(a)->state.length == 5);
  CHECK(cache.size() == 1);
  cache.Erase(a);
  CHECK(cache.Get(a) == nullptr);
  CHECK(cache.bytes() == 0);
}

TEST_CASE("the chain cache is bounded by entries and bytes, least recently used out first",
          "[chain_cache]") {
  const Bytes a = crypto::RandomBytes(16), b = crypto::RandomBytes(16), c = crypto::RandomBytes(16);
  {
    ChainCache cache(2, 1 << 20);
    cache.Put(State(a, 1));
    cache.Put(State(b, 1));
    CHECK(cache.Get(a) != nullptr);  // b is now the least recently used
    cache.Put(State(c, 1));
    CHECK(cache.size() == 2);
    CHECK(cache.Get(b) == nullptr);
    CHECK(cache.Get(a) != nullptr);
    CHECK(cache.Get(c) != nullptr);
  }
  {
    const size_t one = State(a, 1, 100)->bytes;
    ChainCache cache(100, one * 16 + one / 2);  // 16 such states fit, and one entry may be 1/16
    for (int i = 0; i < 40; ++i) cache.Put(State(crypto::RandomBytes(16), 1, 100));
    CHECK(cache.size() == 16);
    CHECK(cache.bytes() <= one * 16 + one / 2);
    // A state over a sixteenth of the budget is not kept, and does not push others out.
    cache.Put(State(a, 1, 300));
    CHECK(cache.Get(a) == nullptr);
    CHECK(cache.size() == 16);
  }
}

}  // namespace kring::server
