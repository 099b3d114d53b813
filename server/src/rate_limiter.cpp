#include "rate_limiter.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

#include "kring/common/status.h"

namespace kring::server {
namespace {

// Binary keys: a tag byte no printable key starts with, then the address bytes.
constexpr char kV4Tag = '\x04';  // + 4 bytes
constexpr char kV6Tag = '\x06';  // + prefix length in bits + prefix bytes
constexpr std::array<int, kMaxPeerKeys> kV6Prefixes = {64, 56, 48};
// Longer than any address gRPC writes: not worth decoding.
constexpr size_t kMaxPeerText = 128;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// gRPC percent-encodes some peer strings ("ipv6:%5B::1%5D:5678"); a '%' that starts no escape
// (an unencoded zone id, "fe80::1%eth0") stays as it is. `out` holds s.size() chars at least.
size_t PercentDecode(std::string_view s, char* out) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = s[i] == '%' && i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
    int lo = hi >= 0 ? HexDigit(s[i + 2]) : -1;
    if (lo < 0) {
      out[n++] = s[i];
      continue;
    }
    out[n++] = static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return n;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

PeerKeys Unparsed() {
  PeerKeys p;
  p.keys[0] = std::string(kUnparsedPeer);
  p.count = 1;
  return p;
}

PeerKeys V4Keys(const unsigned char* a) {
  PeerKeys p;
  p.keys[0] += kV4Tag;
  p.keys[0].append(reinterpret_cast<const char*>(a), 4);
  p.count = 1;
  return p;
}

// inet_pton wants a NUL-terminated string: copy `host` (at most kMaxPeerText) to the stack.
bool Parse(int family, std::string_view host, void* out) {
  char text[kMaxPeerText + 1];
  if (host.size() > kMaxPeerText) return false;
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';
  return ::inet_pton(family, text, out) == 1;
}

// "1.2.3.4:5678" or "1.2.3.4".
PeerKeys V4PeerKeys(std::string_view rest) {
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    if (!AllDigits(rest.substr(colon + 1))) return Unparsed();
    rest = rest.substr(0, colon);
  }
  unsigned char a[4];
  if (!Parse(AF_INET, rest, a)) return Unparsed();
  return V4Keys(a);
}

// "[2001:db8::1]:5678", "[fe80::1%eth0]:5678" or "[2001:db8::1]".
PeerKeys V6PeerKeys(std::string_view rest) {
  if (rest.empty() || rest.front() != '[') return Unparsed();
  size_t close = rest.find(']');
  if (close == std::string_view::npos) return Unparsed();
  std::string_view after = rest.substr(close + 1);
  if (!after.empty() && (after.front() != ':' || !AllDigits(after.substr(1)))) return Unparsed();
  std::string_view host = rest.substr(1, close - 1);
  host = host.substr(0, host.find('%'));  // a zone id names an interface, not a host
  unsigned char a[16];
  if (!Parse(AF_INET6, host, a)) return Unparsed();
  // IPv4 clients as a dual-stack listener reports them (::ffff:a.b.c.d), and as a NAT64
  // translator (SIIT) hands them to an IPv6-only kringd: the well-known prefix 64:ff9b::/96
  // (RFC 6052), and the local-use 64:ff9b:1::/48 (RFC 8215) with the /96 layout (the IPv4
  // address in the last 32 bits; a translator that embeds it at another prefix length puts it
  // elsewhere, and its clients would share buckets: docs/operations.md).
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr unsigned char kNat64Local[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
  if (std::memcmp(a, kMapped, sizeof kMapped) == 0 || std::memcmp(a, kNat64, sizeof kNat64) == 0 ||
      std::memcmp(a, kNat64Local, sizeof kNat64Local) == 0) {
    return V4Keys(a + 12);
  }
  PeerKeys p;
  for (size_t i = 0; i < kMaxPeerKeys; ++i) {
    const int bits = kV6Prefixes[i];
    std::string& k = p.keys[i];
    k += kV6Tag;
    k += static_cast<char>(bits);
    k.append(reinterpret_cast<const char*>(a), static_cast<size_t>(bits / 8));
  }
  p.count = kMaxPeerKeys;
  return p;
}

}  // namespace

PeerKeys KeysOfPeer(std::string_view peer) {
  if (peer.size() > kMaxPeerText) return Unparsed();
  if (peer.rfind("ipv4:", 0) == 0) return V4PeerKeys(peer.substr(5));
  if (peer.rfind("ipv6:", 0) == 0) {
    // Only an encoded peer string ("%5B...%5D") is decoded: in an unencoded one a zone id may
    // start with two hex digits ("[fe80::1%12]"), which decoding would turn into a byte before
    // V6PeerKeys could cut the zone off.
    const std::string_view rest = peer.substr(5);
    if (rest.rfind("%5B", 0) != 0 && rest.rfind("%5b", 0) != 0) return V6PeerKeys(rest);
    char decoded[kMaxPeerText];
    const size_t n = PercentDecode(rest, decoded);
    return V6PeerKeys(std::string_view(decoded, n));
  }
  return Unparsed();
}

std::string KeyText(std::string_view key) {
  char text[INET6_ADDRSTRLEN];
  if (key.size() == 5 && key[0] == kV4Tag) {
    if (::inet_ntop(AF_INET, key.data() + 1, text, sizeof text) == nullptr) return std::string(key);
    return text;
  }
  if (key.size() >= 2 && key[0] == kV6Tag) {
    const int bits = static_cast<unsigned char>(key[1]);
    if (bits % 8 != 0 || bits > 128 || key.size() != 2 + static_cast<size_t>(bits / 8)) {
      return std::string(key);
    }
    unsigned char a[16] = {};
    std::memcpy(a, key.data() + 2, key.size() - 2);
    if (::inet_ntop(AF_INET6, a, text, sizeof text) == nullptr) return std::string(key);
    return std::string(text) + "/" + std::to_string(bits);
  }
  return std::string(key);
}

RateLimiter::Options RateLimiter::InRange(Options o) {
  // The config accepts 0.01..1e6 per second and bursts of 1..1e6; clamp anyway, so that no
  // option can overflow the arithmetic in the constructor (a NaN rate is "no limit", as 0 is).
  // The largest tolerance is then the /64's: (1e6 - 1) intervals of 100 s, under 1e17 ns (the
  // /48's is 1.6e7 - 1 intervals of 6.25 s); int64 nanoseconds hold 9.2e18. A rate of 1e-6 with
  // a burst of 1e6 would need 1e21.
  if (!(o.rate > 0)) o.rate = 0;
  if (o.rate > 0) o.rate = std::clamp(o.rate, kMinRate, 1e9);
  o.burst = std::clamp<int64_t>(o.burst, 1, 1000000);
  // One call touches up to kMaxPeerKeys buckets: none of them may be forgotten meanwhile.
  o.max_keys = std::max(o.max_keys, kMaxPeerKeys);
  return o;
}

RateLimiter::RateLimiter(const Options& options, NowFn now)
    : options_(InRange(options)), now_(std::move(now)) {
  if (!enabled()) return;
  for (size_t i = 0; i < kMaxPeerKeys; ++i) {
    const double scale = static_cast<double>(kWiderScale[i]);
    interval_[i] = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / (options_.rate * scale)));
    interval_[i] = std::max(interval_[i], Clock::duration(1));
    tolerance_[i] = interval_[i] * (options_.burst * kWiderScale[i] - 1);
  }
  index_.reserve(options_.max_keys);
}

RateLimiter::Lru::iterator RateLimiter::Insert(const std::string& key, Clock::time_point now) {
  // Forgetting the least recently used key gives it a full bucket when it comes back: no more
  // than a new address gets, and the table stays bounded however many addresses call. The
  // buckets of this call are at the front (AdmitKeys moves the ones that exist there first):
  // max_keys >= kMaxPeerKeys keeps them.
  if (lru_.size() >= options_.max_keys) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Bucket{key, now, {}, false, 0});  // a full bucket
  index_.emplace(lru_.front().key, lru_.begin());
  return lru_.begin();
}

RateLimiter::Verdict RateLimiter::Admit(const std::string& key) { return AdmitKeys(&key, 1); }

RateLimiter::Verdict RateLimiter::Admit(const PeerKeys& peer) {
  return AdmitKeys(peer.keys.data(), peer.count);
}

RateLimiter::Verdict RateLimiter::AdmitKeys(const std::string* keys, size_t count) {
  // KeysOfPeer makes 1 to kMaxPeerKeys keys: a peer with none is a bug, not one to let through.
  KRING_CHECK(count >= 1 && count <= kMaxPeerKeys);
  if (!enabled()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  // Read under the lock, so that calls see the clock in the order they update the buckets.
  const Clock::time_point now = now_();
  std::array<Lru::iterator, kMaxPeerKeys> bucket;
  std::array<bool, kMaxPeerKeys> exists{};
  std::array<Clock::time_point, kMaxPeerKeys> tat;
  // The verdict comes from lookups alone: a bucket the table does not hold is full and admits.
  // Every bucket is looked at before any is charged: a call one bucket refuses takes nothing
  // from the others (else one busy /64 would drain its /48 for the rest of the site).
  size_t refused_by = count;
  for (size_t i = 0; i < count; ++i) {
    const auto found = index_.find(keys[i]);
    exists[i] = found != index_.end();
    tat[i] = now;
    if (exists[i]) {
      bucket[i] = found->second;
      tat[i] = std::max(bucket[i]->tat, now);
    }
    if (refused_by == count && tat[i] - now > tolerance_[i]) refused_by = i;
  }
  // Every bucket that exists becomes the most recently used, also on a refusal: a spent /56 or
  // /48 is refreshed by each call it refuses, so a caller cannot get it forgotten by calling
  // from ever new /64s there. Widest first, so the narrowest ends up in front.
  for (size_t i = count; i-- > 0;) {
    if (exists[i]) lru_.splice(lru_.begin(), lru_, bucket[i]);  // iterators stay valid
  }
  if (refused_by == count) {
    // Admitted: only now are new buckets made, so a refused call takes nothing, not even a
    // table entry (else refused calls from new /64s would evict other callers' spent buckets).
    for (size_t i = count; i-- > 0;) {
      if (!exists[i]) bucket[i] = Insert(keys[i], now);
      bucket[i]->tat = tat[i] + interval_[i];
    }
    return {};
  }
  Verdict v;
  v.allowed = false;
  v.refused_by = refused_by;
  Bucket& b = *bucket[refused_by];  // exists: a missing bucket admits
  ++b.unlogged_refusals;
  if (!b.ever_logged || now - b.logged >= options_.log_interval) {
    v.refusals_to_log = b.unlogged_refusals;
    b.unlogged_refusals = 0;
    b.logged = now;
    b.ever_logged = true;
  }
  return v;
}

size_t RateLimiter::tracked_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace kring::server
