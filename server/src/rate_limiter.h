// Per-client-address token buckets for the RPCs that need no session (threat-model.md): each
// address (an IPv4 address, an IPv6 /64) may make `burst` calls at once and `rate` per second
// on average. Server-internal; free of grpcpp, so its unit test links without gRPC.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kring::server {

// The key a peer is limited under, from gRPC's peer string ("ipv4:1.2.3.4:5678",
// "ipv6:[2001:db8::1]:5678", "ipv6:%5B...%5D:5678"): the IPv4 address, or the /64 prefix of an
// IPv6 address (one host or home network usually holds a whole /64, so single addresses would
// cost an attacker nothing), an IPv4-mapped IPv6 address as IPv4. Anything else ("unix:...",
// garbage) shares the one key kUnparsedPeer.
inline constexpr std::string_view kUnparsedPeer = "unparsed";
std::string PeerKey(std::string_view peer);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  struct Options {
    double rate = 0;          // calls per second per key on average; 0: no limit
    int64_t burst = 1;        // calls at once (>= 1)
    size_t max_keys = 16384;  // tracked keys; the least recently used is forgotten beyond it
    Clock::duration log_interval = std::chrono::seconds(60);  // per key
  };

  struct Verdict {
    bool allowed = true;
    // > 0: the caller logs one event for this key now, counting the calls refused to it since
    // its last event (this one included); at most one per key per log_interval.
    uint64_t refusals_to_log = 0;
  };

  explicit RateLimiter(const Options& options, NowFn now = Clock::now);

  bool enabled() const { return options_.rate > 0; }
  // Takes one call from `key`'s bucket if it holds one. O(1); thread-safe.
  Verdict Admit(const std::string& key);
  size_t tracked_keys() const;  // thread-safe

 private:
  // The bucket as GCRA (the generic cell rate algorithm) keeps it: one time instead of a token
  // count and a refill time, in integer nanoseconds, so refills never lose a call to rounding.
  // The bucket is full when `tat` (the theoretical arrival time) is now or earlier; each call
  // moves it one interval later; a call is refused while it is more than (burst - 1) intervals
  // ahead of now.
  struct Bucket {
    std::string key;
    Clock::time_point tat;
    Clock::time_point logged;  // last refusal event, if ever_logged
    bool ever_logged = false;
    uint64_t unlogged_refusals = 0;
  };
  using Lru = std::list<Bucket>;  // most recently used first

  static Options InRange(Options o);

  const Options options_;
  const NowFn now_;
  Clock::duration interval_{};   // 1 / rate
  Clock::duration tolerance_{};  // (burst - 1) intervals
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views into lru_'s keys
};

}  // namespace kring::server
