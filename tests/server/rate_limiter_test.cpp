// The per-address token buckets for calls that need no session, on an injected clock.
#include "rate_limiter.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <sys/wait.h>

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

// The narrowest key of a peer, as the log shows it.
std::string PeerKey(std::string_view peer) { return KeyText(KeysOfPeer(peer).keys[0]); }

int AdmittedOf(RateLimiter& limiter, const std::string& key, int calls) {
  int admitted = 0;
  for (int i = 0; i < calls; ++i) admitted += limiter.Admit(key).allowed ? 1 : 0;
  return admitted;
}

int AdmittedOfPeer(RateLimiter& limiter, std::string_view peer, int calls) {
  const PeerKeys keys = KeysOfPeer(peer);
  int admitted = 0;
  for (int i = 0; i < calls; ++i) admitted += limiter.Admit(keys).allowed ? 1 : 0;
  return admitted;
}

// "ipv6:[2001:db8:a:HHHH::1]:443": the /64 number `n` (0..65535) of the /48 2001:db8:a::/48.
std::string PeerIn48(int n) {
  char text[64];
  std::snprintf(text, sizeof text, "ipv6:[2001:db8:a:%x::1]:443", n);
  return text;
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
  // An unencoded zone id that starts with two hex digits is not a percent escape.
  CHECK(PeerKey("ipv6:[fe80::1%12]:1000") == "fe80::/64");
  CHECK(PeerKey("ipv6:[fe80::1%ab]:1000") == "fe80::/64");
  CHECK(PeerKey("ipv6:%5Bfe80::1%2512%5D:1000") == "fe80::/64");
  CHECK(PeerKey("ipv6:%5bfe80::1%25eth0%5d:1000") == "fe80::/64");
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
    CHECK(KeysOfPeer(peer).count == 1);
    CHECK(KeysOfPeer(peer).keys[0] == shared);
  }
  CHECK(KeysOfPeer(std::string(200, '1')).keys[0] == shared);
  CHECK(KeysOfPeer("ipv4:" + std::string(200, '1')).keys[0] == shared);
  CHECK(KeysOfPeer("ipv6:[" + std::string(200, '1') + "]:1").keys[0] == shared);
  CHECK(KeyText(shared) == shared);
}

TEST_CASE("an IPv6 caller must pass its /64, its /56 and its /48, the wider ones larger",
          "[rate_limit]") {
  FakeClock clock;  // time stands still: bursts only
  // Bursts of 2 per /64, 8 (x4) per /56, 32 (x16) per /48.
  RateLimiter limiter(Limit(1, 2), clock.fn());
  CHECK(AdmittedOfPeer(limiter, "ipv6:[2001:db8:a:100::1]:1", 3) == 2);  // its /64 refuses
  CHECK(limiter.Admit(KeysOfPeer("ipv6:[2001:db8:a:100::2]:1")).refused_by == 0);
  // Three more /64s of the /56 2001:db8:a:100::/56 take the rest of its 8.
  CHECK(AdmittedOfPeer(limiter, "ipv6:[2001:db8:a:101::1]:1", 3) == 2);
  CHECK(AdmittedOfPeer(limiter, "ipv6:[2001:db8:a:102::1]:1", 3) == 2);
  CHECK(AdmittedOfPeer(limiter, "ipv6:[2001:db8:a:1ff::1]:1", 3) == 2);
  // A fifth /64 has a full bucket of its own, but the /56 refuses, and the log names the /56.
  const PeerKeys fifth = KeysOfPeer("ipv6:[2001:db8:a:180::1]:1");
  RateLimiter::Verdict v = limiter.Admit(fifth);
  CHECK_FALSE(v.allowed);
  CHECK(v.refused_by == 1);
  CHECK(v.refusals_to_log == 1);
  CHECK(KeyText(fifth.keys[v.refused_by]) == "2001:db8:a:100::/56");
  // Other /56s of the /48 take the rest of its 32 (8 already): three full /56s.
  int admitted = 0;
  for (int n = 0x200; n < 0x600; ++n) admitted += AdmittedOfPeer(limiter, PeerIn48(n), 1);
  CHECK(admitted == 24);
  v = limiter.Admit(KeysOfPeer(PeerIn48(0xff00)));
  CHECK_FALSE(v.allowed);
  CHECK(v.refused_by == 2);
  CHECK(KeyText(KeysOfPeer(PeerIn48(0xff00)).keys[2]) == "2001:db8:a::/48");
  // Another /48 is not touched by any of it.
  CHECK(AdmittedOfPeer(limiter, "ipv6:[2001:db8:b::1]:1", 3) == 2);
  // An IPv4 address has one bucket, of the narrowest size.
  CHECK(AdmittedOfPeer(limiter, "ipv4:192.0.2.1:1", 3) == 2);
}

TEST_CASE("a call one bucket refuses takes nothing from the buckets that allowed it",
          "[rate_limit]") {
  FakeClock clock;
  // /64: 2 at once, 1 per second; /48: 32 at once, 16 per second.
  RateLimiter limiter(Limit(1, 2), clock.fn());
  for (int n = 0; n < 16; ++n) REQUIRE(AdmittedOfPeer(limiter, PeerIn48(n << 8), 2) == 2);
  // The /48 is spent; a fresh /64 in it is refused, twice.
  const std::string fresh = PeerIn48(0xabcd);
  CHECK(AdmittedOfPeer(limiter, fresh, 2) == 0);
  // An eighth of a second later the /48 holds 2 calls again; the fresh /64 would hold only
  // 0.125 had the refused calls been taken from it: it still holds its 2.
  clock.now += 125ms;
  CHECK(AdmittedOfPeer(limiter, fresh, 3) == 2);

  // The other way round: a /64 that refuses does not drain the /48 for its neighbours.
  RateLimiter other(Limit(1, 2), clock.fn());
  CHECK(AdmittedOfPeer(other, PeerIn48(1), 1000) == 2);  // 998 refused by the /64
  int admitted = 0;  // one call from a /64 in each of the other 255 /56s
  for (int n = 1; n < 256; ++n) admitted += AdmittedOfPeer(other, PeerIn48(n << 8), 1);
  CHECK(admitted == 30);  // the /48's 32, less the 2 the busy /64 was allowed
}

TEST_CASE("an attacker cycling through the /64s of one /48 is held to the /48's rate",
          "[rate_limit]") {
  FakeClock clock;
  // The defaults: 20 per second with bursts of 100 per /64; so 320 per second and 1,600 at
  // once for the /48.
  RateLimiter limiter(Limit(20, 100), clock.fn());
  // One call from each of the 65,536 /64s in turn, 1,000 calls per second, twice round: each
  // /64 is fresh or forgotten (16,384 keys) when it comes back, the /48 is not.
  int admitted = 0;
  const int kCalls = 2 * 65536;
  for (int i = 0; i < kCalls; ++i) {
    admitted += AdmittedOfPeer(limiter, PeerIn48(i % 65536), 1);
    clock.now += 1ms;
  }
  // The /48's burst plus 320 per second for 131 s: about 43,500 of 131,072.
  const double seconds = kCalls / 1000.0;
  CHECK(admitted <= 1600 + static_cast<int>(320 * seconds) + 1);
  CHECK(admitted >= 1600 + static_cast<int>(320 * seconds) - 1);
  CHECK(limiter.tracked_keys() == 16384);
  // Its neighbour /48 is not affected.
  CHECK(AdmittedOfPeer(limiter, "ipv6:[2001:db8:b::1]:1", 100) == 100);
}

TEST_CASE("a caller cannot get its /48 forgotten by making new /64s its /56 refuses",
          "[rate_limit]") {
  FakeClock clock;  // time stands still
  // A small table (64 buckets); bursts of 2 per /64, 8 per /56, 32 per /48.
  RateLimiter limiter(Limit(1, 2, 64), clock.fn());
  int admitted = 0;  // four /56s, four /64s each, spend the /48
  for (int n = 0; n < 16; ++n) admitted += AdmittedOfPeer(limiter, PeerIn48(n * 0x40), 2);
  REQUIRE(admitted == 32);
  // 1,000 calls from the 256 /64s of the spent /56 2001:db8:a::/56, four times what the table
  // holds: all refused, and each refreshes the /56 and the /48, so they stay remembered...
  for (int n = 0; n < 1000; ++n) {
    const RateLimiter::Verdict v = limiter.Admit(KeysOfPeer(PeerIn48(n % 256)));
    REQUIRE_FALSE(v.allowed);
  }
  // ...and still spent: a /64 in an unused /56 is refused by it.
  const RateLimiter::Verdict v = limiter.Admit(KeysOfPeer(PeerIn48(0x9900)));
  CHECK_FALSE(v.allowed);
  CHECK(v.refused_by == 2);
  // ...and the refused calls added no bucket: the 16 /64s, 4 /56s and the /48 that were let
  // through, nothing more.
  CHECK(limiter.tracked_keys() == 21);
}

TEST_CASE("refused calls from new /64s add no buckets, so they cannot evict another spent /48",
          "[rate_limit]") {
  FakeClock clock;  // time stands still
  // A small table (64 buckets); bursts of 2 per /64, 8 per /56, 32 per /48.
  RateLimiter limiter(Limit(1, 2, 64), clock.fn());
  // An attacker with two /48s spends both: 2001:db8:a::/48 first, then 2001:db8:b::/48.
  const auto spend = [&](const char* site) {
    int admitted = 0;
    for (int n = 0; n < 16; ++n) {
      char peer[64];
      std::snprintf(peer, sizeof peer, "ipv6:[2001:db8:%s:%x::1]:1", site, n * 0x40);
      admitted += AdmittedOfPeer(limiter, peer, 2);
    }
    return admitted;
  };
  REQUIRE(spend("a") == 32);
  REQUIRE(spend("b") == 32);
  REQUIRE(limiter.tracked_keys() == 42);
  // 1,000 calls from new /64s of the second /48, each in an unused /56 and refused by the /48:
  // were each to add its /64 and /56, the first /48 would be forgotten and full again.
  for (int n = 0; n < 1000; ++n) {
    char peer[64];
    std::snprintf(peer, sizeof peer, "ipv6:[2001:db8:b:%x::1]:1", 0x1000 + n * 0x10);
    const RateLimiter::Verdict v = limiter.Admit(KeysOfPeer(peer));
    REQUIRE_FALSE(v.allowed);
    REQUIRE(v.refused_by == 2);
  }
  CHECK(limiter.tracked_keys() == 42);
  // The first /48 is still spent: a /64 in an unused /56 of it is refused.
  const RateLimiter::Verdict v = limiter.Admit(KeysOfPeer("ipv6:[2001:db8:a:9900::1]:1"));
  CHECK_FALSE(v.allowed);
  CHECK(v.refused_by == 2);
}

TEST_CASE("a rate below the floor is raised to it, without overflow at the largest burst",
          "[rate_limit]") {
  FakeClock clock;
  // Rate 1e-6 is raised to 0.01 (one call per 100 s per /64). With a burst of 1e6, the /48's
  // tolerance is 1.6e7 - 1 intervals of 6.25 s: 1e17 ns; computed at 1e-6 it would be 1e21 ns,
  // past int64 (signed overflow; wrapped, the /64 took 3,875 calls and the /48 62,012).
  RateLimiter limiter(Limit(1e-6, 1000000), clock.fn());
  // 70,000 calls from 20 /64s in 10 /56s of one /48: 3,500 per /64, 7,000 per /56, all within
  // their bursts of 1e6, 4e6 and 1.6e7.
  int admitted = 0;
  for (int n = 0; n < 20; ++n) {
    admitted += AdmittedOfPeer(limiter, PeerIn48((n / 2) * 0x100 + n % 2), 3500);
  }
  CHECK(admitted == 70000);
  // The floor, on an IPv4 address: a burst of 1, then one call per 100 s.
  RateLimiter slow(Limit(1e-6, 1), clock.fn());
  CHECK(AdmittedOfPeer(slow, "ipv4:192.0.2.1:1", 3) == 1);
  clock.now += 99s;
  CHECK(AdmittedOfPeer(slow, "ipv4:192.0.2.1:1", 1) == 0);
  clock.now += 1s;
  CHECK(AdmittedOfPeer(slow, "ipv4:192.0.2.1:1", 3) == 1);
}

TEST_CASE("a peer with no keys is a bug: Admit aborts instead of letting it through",
          "[rate_limit]") {
  // Catch2 v2 has no death tests: the call runs in a child process.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGABRT, SIG_DFL);  // not Catch2's handler, which would report a failure
    ::close(STDERR_FILENO);      // CheckFailed's message is expected
    FakeClock clock;
    RateLimiter limiter(Limit(1, 2), clock.fn());
    const RateLimiter::Verdict v = limiter.Admit(PeerKeys{});
    ::_exit(v.allowed ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
}

TEST_CASE("NAT64 and mapped addresses are keyed by the IPv4 address they carry", "[rate_limit]") {
  const PeerKeys v4 = KeysOfPeer("ipv4:192.0.2.7:6000");
  REQUIRE(v4.count == 1);
  CHECK(KeyText(v4.keys[0]) == "192.0.2.7");
  for (const char* peer : {"ipv6:[64:ff9b::192.0.2.7]:5000", "ipv6:[64:ff9b::c000:207]:5000",
                           "ipv6:%5B64:ff9b::c000:207%5D:5000",
                           // RFC 8215 local use, /96 layout
                           "ipv6:[64:ff9b:1::c000:207]:1", "ipv6:[64:ff9b:1:ab:cd::192.0.2.7]:1",
                           "ipv6:[::ffff:192.0.2.7]:5000"}) {
    INFO(peer);
    const PeerKeys k = KeysOfPeer(peer);
    CHECK(k.count == 1);
    CHECK(k.keys[0] == v4.keys[0]);
  }
  // Different IPv4 clients behind one translator have buckets of their own.
  CHECK(KeysOfPeer("ipv6:[64:ff9b::192.0.2.8]:1").keys[0] != v4.keys[0]);
  // Outside 64:ff9b::/96 and 64:ff9b:1::/48: an ordinary IPv6 address.
  const PeerKeys near = KeysOfPeer("ipv6:[64:ff9b:0:0:1::c000:207]:1");
  CHECK(near.count == 3);
  CHECK(KeyText(near.keys[0]) == "64:ff9b::/64");
  CHECK(KeysOfPeer("ipv6:[64:ff9b:2::c000:207]:1").count == 3);

  // One bucket: an IPv4 client spends it, over NAT64 it is spent too.
  FakeClock clock;
  RateLimiter limiter(Limit(1, 3), clock.fn());
  CHECK(AdmittedOfPeer(limiter, "ipv4:192.0.2.7:1", 2) == 2);
  CHECK(AdmittedOfPeer(limiter, "ipv6:[64:ff9b::192.0.2.7]:2", 5) == 1);
  CHECK(AdmittedOfPeer(limiter, "ipv6:[64:ff9b::192.0.2.8]:2", 5) == 3);
  CHECK(limiter.tracked_keys() == 2);
}

TEST_CASE("the table bound counts the /56 and /48 keys too", "[rate_limit]") {
  FakeClock clock;
  RateLimiter limiter(Limit(1, 2), clock.fn());
  limiter.Admit(KeysOfPeer("ipv6:[2001:db8:a:1::1]:1"));
  CHECK(limiter.tracked_keys() == 3);  // its /64, /56 and /48
  limiter.Admit(KeysOfPeer("ipv6:[2001:db8:a:2::1]:1"));
  CHECK(limiter.tracked_keys() == 4);  // a new /64 in the same /56 and /48
  // 100,000 callers from as many /48s: 300,000 keys seen, 16,384 kept.
  for (int i = 0; i < 100000; ++i) {
    char peer[64];
    std::snprintf(peer, sizeof peer, "ipv6:[2001:%x:%x::1]:1", 0x1000 + i / 65536, i % 65536);
    limiter.Admit(KeysOfPeer(peer));
  }
  CHECK(limiter.tracked_keys() == 16384);
  // A table smaller than one caller's keys is made large enough for them.
  RateLimiter tiny(Limit(1, 2, 1), clock.fn());
  CHECK(AdmittedOfPeer(tiny, "ipv6:[2001:db8:a:1::1]:1", 3) == 2);
  CHECK(tiny.tracked_keys() == 3);
}

TEST_CASE("bucket keys read back as the address or the prefix", "[rate_limit]") {
  const PeerKeys k = KeysOfPeer("ipv6:[2001:db8:1:2:3:4:5:6]:443");
  REQUIRE(k.count == 3);
  CHECK(KeyText(k.keys[0]) == "2001:db8:1:2::/64");
  CHECK(KeyText(k.keys[1]) == "2001:db8:1::/56");
  CHECK(KeyText(k.keys[2]) == "2001:db8:1::/48");
  CHECK(KeyText(KeysOfPeer("ipv6:[2a02:a46c:8f12:34ab::9]:1").keys[1]) ==
        "2a02:a46c:8f12:3400::/56");
  // Short: no heap allocation per key.
  for (const std::string& key : k.keys) CHECK(key.size() <= 15);
  CHECK(KeyText("a") == "a");
}

}  // namespace kring::server
