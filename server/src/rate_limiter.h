// Per-client-address token buckets for the RPCs that need no session (threat-model.md): each
// IPv4 address, and each IPv6 /64, /56 and /48, may make a burst of calls at once and a rate
// per second on average; the wider IPv6 prefixes get proportionally more (kWiderScale).
// Server-internal; free of grpcpp, so its unit test links without gRPC.
#pragma once

#include <array>
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

// The buckets a peer must all pass, narrowest first, from gRPC's peer string
// ("ipv4:1.2.3.4:5678", "ipv6:[2001:db8::1]:5678", "ipv6:%5B...%5D:5678"):
//  - an IPv4 address alone (the port is ignored); so is an IPv4-mapped IPv6 address
//    (::ffff:a.b.c.d) and a NAT64 address (64:ff9b::a.b.c.d, RFC 6052, and the local-use
//    64:ff9b:1::/48 of RFC 8215 with the IPv4 address in the last 32 bits), which are keyed by
//    the IPv4 address they carry: one bucket with that IPv4 client;
//  - any other IPv6 address by its /64, /56 and /48 prefixes (one host or home network holds a
//    whole /64, a home or small office a /56, a site a /48: single addresses would cost an
//    attacker nothing, and single /64s little).
// Anything else ("unix:...", garbage) shares the one key kUnparsedPeer.
// The keys are short binary strings (no heap allocation, no formatting per call); KeyText turns
// one into the text the log shows.
inline constexpr std::string_view kUnparsedPeer = "unparsed";
inline constexpr size_t kMaxPeerKeys = 3;
// Rate and burst of the buckets of PeerKeys' keys[i], as multiples of the configured ones:
// /64 (and IPv4) x1, /56 x4, /48 x16 (why: docs/operations.md).
inline constexpr std::array<int64_t, kMaxPeerKeys> kWiderScale = {1, 4, 16};

struct PeerKeys {
  std::array<std::string, kMaxPeerKeys> keys;  // keys[0] the narrowest
  size_t count = 0;
};
PeerKeys KeysOfPeer(std::string_view peer);
// "192.0.2.7", "2001:db8:1::/48", "unparsed"; a key KeysOfPeer did not make, as it is.
std::string KeyText(std::string_view key);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  // The lowest rate the limiter uses (the config's lowest): a lower one is raised to it, which
  // keeps the tolerances within int64 nanoseconds.
  static constexpr double kMinRate = 0.01;

  struct Options {
    double rate = 0;          // calls per second per narrowest key on average; 0: no limit
    int64_t burst = 1;        // calls at once (>= 1) per narrowest key
    size_t max_keys = 16384;  // tracked keys of every width (>= kMaxPeerKeys); the least
                              // recently used is forgotten beyond it
    Clock::duration log_interval = std::chrono::seconds(60);  // per key
  };

  struct Verdict {
    bool allowed = true;
    // When refused: the index into the keys of the narrowest bucket that refused (the one the
    // refusal is counted and logged under).
    size_t refused_by = 0;
    // > 0: the caller logs one event for that key now, counting the calls refused under it
    // since its last event (this one included); at most one per key per log_interval.
    uint64_t refusals_to_log = 0;
  };

  explicit RateLimiter(const Options& options, NowFn now = Clock::now);

  bool enabled() const { return options_.rate > 0; }
  // Takes one call from each of the peer's buckets if every one of them holds one; a call any
  // of them refuses takes nothing from the others and adds no bucket to the table (it only
  // marks the ones it found as recently used). peer.count must be 1..kMaxPeerKeys (aborts
  // otherwise: KeysOfPeer never makes less). O(1); thread-safe.
  Verdict Admit(const PeerKeys& peer);
  // One bucket of the narrowest width: Admit of a peer with the single key `key`.
  Verdict Admit(const std::string& key);
  size_t tracked_keys() const;  // every width; thread-safe

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
  Verdict AdmitKeys(const std::string* keys, size_t count);
  Lru::iterator Insert(const std::string& key, Clock::time_point now);  // under mu_; a full one

  const Options options_;
  const NowFn now_;
  std::array<Clock::duration, kMaxPeerKeys> interval_{};   // 1 / (rate * scale)
  std::array<Clock::duration, kMaxPeerKeys> tolerance_{};  // (burst * scale - 1) intervals
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views into lru_'s keys
};

}  // namespace kring::server
