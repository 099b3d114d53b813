#include "rate_limiter.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <arpa/inet.h>

namespace kring::server {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// gRPC percent-encodes some peer strings ("ipv6:%5B::1%5D:5678"); a '%' that starts no escape
// (an unencoded zone id, "fe80::1%eth0") stays as it is.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = s[i] == '%' && i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
    int lo = hi >= 0 ? HexDigit(s[i + 2]) : -1;
    if (lo < 0) {
      out += s[i];
      continue;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string V4Text(const unsigned char* a) {
  char text[INET_ADDRSTRLEN];
  if (::inet_ntop(AF_INET, a, text, sizeof text) == nullptr) return std::string(kUnparsedPeer);
  return text;
}

// "1.2.3.4:5678" or "1.2.3.4".
std::string V4Key(std::string_view rest) {
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    if (!AllDigits(rest.substr(colon + 1))) return std::string(kUnparsedPeer);
    rest = rest.substr(0, colon);
  }
  std::string host(rest);
  unsigned char a[4];
  if (::inet_pton(AF_INET, host.c_str(), a) != 1) return std::string(kUnparsedPeer);
  return V4Text(a);
}

// "[2001:db8::1]:5678", "[fe80::1%eth0]:5678" or "[2001:db8::1]".
std::string V6Key(std::string_view rest) {
  if (rest.empty() || rest.front() != '[') return std::string(kUnparsedPeer);
  size_t close = rest.find(']');
  if (close == std::string_view::npos) return std::string(kUnparsedPeer);
  std::string_view after = rest.substr(close + 1);
  if (!after.empty() && (after.front() != ':' || !AllDigits(after.substr(1)))) {
    return std::string(kUnparsedPeer);
  }
  std::string host(rest.substr(1, close - 1));
  host = host.substr(0, host.find('%'));  // a zone id names an interface, not a host
  std::array<unsigned char, 16> a{};
  if (::inet_pton(AF_INET6, host.c_str(), a.data()) != 1) return std::string(kUnparsedPeer);
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.data(), kMapped, sizeof kMapped) == 0) return V4Text(a.data() + 12);
  std::fill(a.begin() + 8, a.end(), 0);
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(AF_INET6, a.data(), text, sizeof text) == nullptr) {
    return std::string(kUnparsedPeer);
  }
  return std::string(text) + "/64";
}

}  // namespace

RateLimiter::Options RateLimiter::InRange(Options o) {
  // The config accepts 0.01..1e6 per second and bursts of 1..1e6; clamp anyway, so that no
  // option can overflow the arithmetic in the constructor (a NaN rate is "no limit", as 0 is).
  if (!(o.rate > 0)) o.rate = 0;
  if (o.rate > 0) o.rate = std::clamp(o.rate, 1e-6, 1e9);
  o.burst = std::clamp<int64_t>(o.burst, 1, 1000000);
  return o;
}

std::string PeerKey(std::string_view peer) {
  // Longer than any address gRPC writes: not worth decoding.
  if (peer.size() > 128) return std::string(kUnparsedPeer);
  if (peer.rfind("ipv4:", 0) == 0) return V4Key(peer.substr(5));
  if (peer.rfind("ipv6:", 0) == 0) {
    std::string decoded = PercentDecode(peer.substr(5));
    return V6Key(decoded);
  }
  return std::string(kUnparsedPeer);
}

RateLimiter::RateLimiter(const Options& options, NowFn now)
    : options_(InRange(options)), now_(std::move(now)) {
  if (!enabled()) return;
  interval_ = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / options_.rate));
  interval_ = std::max(interval_, Clock::duration(1));
  tolerance_ = interval_ * (std::max<int64_t>(options_.burst, 1) - 1);
  index_.reserve(options_.max_keys);
}

RateLimiter::Verdict RateLimiter::Admit(const std::string& key) {
  if (!enabled()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  // Read under the lock, so that calls see the clock in the order they update the buckets.
  const Clock::time_point now = now_();
  auto found = index_.find(key);
  Lru::iterator bucket;
  if (found != index_.end()) {
    bucket = found->second;
    lru_.splice(lru_.begin(), lru_, bucket);  // most recently used first; iterators stay valid
  } else {
    // Forgetting the least recently used key gives it a full bucket when it comes back: no more
    // than a new address gets, and the table stays bounded however many addresses call.
    if (lru_.size() >= std::max<size_t>(options_.max_keys, 1)) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
    lru_.push_front(Bucket{key, now, {}, false, 0});  // a full bucket
    bucket = lru_.begin();
    index_.emplace(bucket->key, bucket);
  }
  const Clock::time_point tat = std::max(bucket->tat, now);
  if (tat - now <= tolerance_) {
    bucket->tat = tat + interval_;
    return {};
  }
  Verdict v;
  v.allowed = false;
  ++bucket->unlogged_refusals;
  if (!bucket->ever_logged || now - bucket->logged >= options_.log_interval) {
    v.refusals_to_log = bucket->unlogged_refusals;
    bucket->unlogged_refusals = 0;
    bucket->logged = now;
    bucket->ever_logged = true;
  }
  return v;
}

size_t RateLimiter::tracked_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace kring::server
