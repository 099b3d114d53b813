// The per-address token buckets for calls that need no session, on an injected clock.
#include "rate_limiter.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace kring::server {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  RateLimiter::Clock::time_point now = RateLimiter::Clock::time_point{} + 1000h;
  RateLimiter::NowFn fn() {
    return [this] { return now; };
  }
};

RateLimiter::Options Limit(double rate, int64_t burst, size_t max_keys = 16384) {
  RateLimiter::Options o;
  o.rate = rate;
  o.burst = burst;
  o.max_keys = max_keys;
  o.log_interval = 60s;
  return o;
}

int AdmittedOf(RateLimiter& limiter, const std::string& key, int calls) {
  int admitted = 0;
  for (int i = 0; i < calls; ++i) admitted += limiter.Admit(key).allowed ? 1 : 0;
  return admitted;
}

}  // namespace

TEST_CASE("an address gets its burst at once, then its rate", "[rate_limit]") {
  FakeClock clock;
  RateLimiter limiter(Limit(2, 5), clock.fn());
  CHECK(AdmittedOf(limiter, "192.0.2.1", 5) == 5);
  CHECK_FALSE(limiter.Admit("192.0.2.1").allowed);
  // Another address has its own bucket.
  CHECK(AdmittedOf(limiter, "192.0.2.2", 6) == 5);
  // Half a second at 2/s: one call.
  clock.now += 500ms;
  CHECK(AdmittedOf(limiter, "192.0.2.1", 3) == 1);
  // A quarter of a second: half a token, not a call; the half is kept.
  clock.now += 250ms;
  CHECK_FALSE(limiter.Admit("192.0.2.1").allowed);
  clock.now += 250ms;
  CHECK(limiter.Admit("192.0.2.1").allowed);
  // A long pause refills no more than the burst.
  clock.now += 1h;
  CHECK(AdmittedOf(limiter, "192.0.2.1", 20) == 5);
}

TEST_CASE("refused calls do not postpone the refill", "[rate_limit]") {
  FakeClock clock;
  RateLimiter limiter(Limit(1, 1), clock.fn());
  CHECK(limiter.Admit("a").allowed);
  for (int i = 0; i < 9; ++i) {
    clock.now += 100ms;
    CHECK_FALSE(limiter.Admit("a").allowed);
  }
  clock.now += 100ms;  // one second after the first call
  CHECK(limiter.Admit("a").allowed);
}

TEST_CASE("rate 0 admits everything and tracks nothing", "[rate_limit]") {
  FakeClock clock;
  RateLimiter limiter(Limit(0, 1), clock.fn());
  CHECK_FALSE(limiter.enabled());
  CHECK(AdmittedOf(limiter, "a", 10000) == 10000);
  CHECK(limiter.tracked_keys() == 0);
}

TEST_CASE("the table holds at most max_keys addresses, forgetting the least recently used",
          "[rate_limit]") {
  FakeClock clock;
  RateLimiter limiter(Limit(1, 2, 4), clock.fn());
  // An attacker with 100,000 addresses: the table stays at 4.
  for (int i = 0; i < 100000; ++i) limiter.Admit("10.0." + std::to_string(i));
  CHECK(limiter.tracked_keys() == 4);

  RateLimiter lru(Limit(1, 2, 3), clock.fn());
  CHECK(AdmittedOf(lru, "a", 3) == 2);  // a spent
  CHECK(AdmittedOf(lru, "b", 3) == 2);  // b spent
  lru.Admit("c");
  CHECK_FALSE(lru.Admit("a").allowed);  // a used most recently now: b is the oldest
  lru.Admit("d");                       // forgets b
  CHECK(lru.tracked_keys() == 3);
  CHECK_FALSE(lru.Admit("a").allowed);  // a is remembered, still spent
  CHECK(lru.Admit("b").allowed);        // b was forgotten: a full bucket, as a new address
}

TEST_CASE("a refused address is logged at most once per interval, with the count", "[rate_limit]") {
  FakeClock clock;
  RateLimiter limiter(Limit(0.01, 1), clock.fn());
  CHECK(limiter.Admit("a").allowed);
  RateLimiter::Verdict first = limiter.Admit("a");
  CHECK_FALSE(first.allowed);
  CHECK(first.refusals_to_log == 1);
  for (int i = 0; i < 1000; ++i) {
    clock.now += 10ms;
    RateLimiter::Verdict v = limiter.Admit("a");
    CHECK_FALSE(v.allowed);
    CHECK(v.refusals_to_log == 0);
  }
  // Another address is logged on its own.
  CHECK(limiter.Admit("b").allowed);
  CHECK(limiter.Admit("b").refusals_to_log == 1);
  // 60 s after a's first event: one event for the 1000 refused since and this one.
  clock.now += 50s;
  RateLimiter::Verdict next = limiter.Admit("a");
  CHECK_FALSE(next.allowed);
  CHECK(next.refusals_to_log == 1001);
}

TEST_CASE("concurrent calls from one address share one bucket", "[rate_limit]") {
  FakeClock clock;  // time stands still: exactly the burst gets through
  RateLimiter limiter(Limit(1, 100), clock.fn());
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.Admit("shared").allowed) ++admitted;
        limiter.Admit("own" + std::to_string(t * 1000 + i));
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(admitted == 100);
  CHECK(limiter.tracked_keys() <= 16384);
}

TEST_CASE("peers are keyed by IPv4 address without the port", "[rate_limit]") {
  CHECK(PeerKey("ipv4:192.0.2.7:51234") == "192.0.2.7");
  CHECK(PeerKey("ipv4:192.0.2.7:1") == PeerKey("ipv4:192.0.2.7:65535"));
  CHECK(PeerKey("ipv4:192.0.2.7") == "192.0.2.7");
  CHECK(PeerKey("ipv4:127.0.0.1:80") == "127.0.0.1");
}

TEST_CASE("IPv6 peers are keyed by their /64, mapped IPv4 as IPv4", "[rate_limit]") {
  CHECK(PeerKey("ipv6:[2001:db8:1:2:3:4:5:6]:443") == "2001:db8:1:2::/64");
  // One host or home network holds the whole /64: its addresses share a bucket.
  CHECK(PeerKey("ipv6:[2001:db8:1:2::1]:1000") == PeerKey("ipv6:[2001:db8:1:2:ffff::9]:2000"));
  CHECK(PeerKey("ipv6:[2001:db8:1:3::1]:1000") != PeerKey("ipv6:[2001:db8:1:2::1]:1000"));
  // gRPC percent-encodes the brackets in some versions; zone ids name an interface.
  CHECK(PeerKey("ipv6:%5B2001:db8:1:2::1%5D:1000") == "2001:db8:1:2::/64");
  CHECK(PeerKey("ipv6:[fe80::1%25eth0]:1000") == "fe80::/64");
  CHECK(PeerKey("ipv6:[fe80::1%eth0]:1000") == "fe80::/64");
  CHECK(PeerKey("ipv6:[::1]:7443") == "::/64");
  // A dual-stack listener reports IPv4 clients as mapped addresses.
  CHECK(PeerKey("ipv6:[::ffff:192.0.2.7]:5000") == "192.0.2.7");
  CHECK(PeerKey("ipv6:%5B::ffff:192.0.2.7%5D:5000") == PeerKey("ipv4:192.0.2.7:6000"));
  CHECK(PeerKey("ipv6:[2001:db8::1]") == "2001:db8::/64");
}

TEST_CASE("unparsable peers share one key", "[rate_limit]") {
  const std::string shared(kUnparsedPeer);
  for (const char* peer : {"",
                           "unix:/run/kringd.sock",
                           "unix-abstract:x",
                           "ipv4:",
                           "ipv4:1.2.3:80",
                           "ipv4:999.1.1.1:80",
                           "ipv4:1.2.3.4:port",
                           "ipv4:1.2.3.4:123456",
                           "ipv4: 1.2.3.4:80",
                           "ipv6:",
                           "ipv6:2001:db8::1",
                           "ipv6:[2001:db8::1",
                           "ipv6:[2001:db8::1]:",
                           "ipv6:[nope]:80",
                           "ipv6:[2001:db8::1]x80",
                           "ipv6:%5B2001:db8::1%5",
                           "ipv6:%zz",
                           "ipv6:[1.2.3.4]:80",
                           "IPV4:1.2.3.4:80",
                           "ipv4:1.2.3.4:80\n"}) {
    INFO(peer);
    CHECK(PeerKey(peer) == shared);
  }
  CHECK(PeerKey(std::string(200, '1')) == shared);
  CHECK(PeerKey("ipv4:" + std::string(200, '1')) == shared);
}

}  // namespace kring::server
