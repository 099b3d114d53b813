// The challenge table against a simple model of what its contract promises, under random
// traffic (fixed seeds, so every run is the same): callers from a few IPv4 addresses (also as
// ::ffff: and NAT64 addresses) and from IPv6 /64s in a few /56s and /48s, a few devices, sign-ins
// with the right and the wrong device, and clocks that move on and step back. After every
// step: the table holds what the model holds (count and tracked prefixes), no prefix above its
// cap, no device above its limit per narrowest prefix, nothing above the table's maximum, a
// challenge signs in exactly once until it expires or is retired, a retirement takes only the
// oldest of the caller's own device or prefix, and an expired challenge never signs in.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"

#include "auth/session_manager.h"

namespace kring::server::auth {
namespace {

constexpr int64_t kTtl = SessionManager::kChallengeTtlMs;

// REQUIRE, with Catch's bookkeeping (and the step's context) only on failure: the test checks a
// few hundred thousand conditions, which must stay cheap under the sanitizers. `cond` is
// evaluated again on failure: no side effects in it.
#define HOLDS(cond)  \
  do {               \
    if (!(cond)) {   \
      INFO(where()); \
      REQUIRE(cond); \
    }                \
  } while (false)
constexpr size_t kDeviceLimit = 4;  // SessionManager's kChallengesPerDevice (documented)
constexpr size_t kDevices = 5;

// SplitMix64: the same numbers on every platform and standard library.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  bool Percent(size_t p) { return Below(100) < p; }
};

// One caller's network: what kringd gets as the peer, and the prefixes the contract counts it
// under, narrowest first, written independently of KeysOfPeer.
struct Network {
  std::vector<std::string> prefixes;
  std::vector<size_t> ids = {};  // the prefixes as small numbers, for the model's counting
  int kind;  // 0 IPv4, 1 ::ffff:, 2 NAT64 64:ff9b::/96, 3 NAT64 64:ff9b:1::/48, 4 IPv6
  int v4_last = 0;
  int site = 0, subnet = 0;
};

std::vector<Network> Networks() {
  std::vector<Network> out;
  for (int last : {1, 2, 3}) {  // 192.0.2.<last>
    const std::vector<std::string> v4 = {"v4 192.0.2." + std::to_string(last)};
    for (int kind : {0, 1, 2, 3}) out.push_back({v4, {}, kind, last});
  }
  for (int site : {1, 2}) {                     // 2001:db8:<site>::/48
    for (int subnet : {0x100, 0x101, 0x200}) {  // two /64s in one /56, one in another
      out.push_back({{"v6/64 " + std::to_string(site) + ":" + std::to_string(subnet),
                      "v6/56 " + std::to_string(site) + ":" + std::to_string(subnet >> 8),
                      "v6/48 " + std::to_string(site)},
                     {},
                     4,
                     0,
                     site,
                     subnet});
    }
  }
  std::map<std::string, size_t> id;
  for (Network& n : out) {
    for (const std::string& p : n.prefixes) n.ids.push_back(id.emplace(p, id.size()).first->second);
  }
  return out;
}

size_t PrefixIds(const std::vector<Network>& networks) {
  size_t n = 0;
  for (const Network& net : networks)
    n = std::max(n, *std::max_element(net.ids.begin(), net.ids.end()) + 1);
  return n;
}

// A peer string of `n` from any host in it, any port, in either of gRPC's IPv6 spellings.
PeerKeys PeerOf(const Network& n, Rng& rng) {
  char host[64];
  const unsigned v4 = 0xc0000200u + static_cast<unsigned>(n.v4_last);  // 192.0.2.x
  const unsigned hi = v4 >> 16;
  const unsigned lo = v4 & 0xffff;
  switch (n.kind) {
    case 0:
      std::snprintf(host, sizeof host, "192.0.2.%d", n.v4_last);
      break;
    case 1:
      std::snprintf(host, sizeof host, "::ffff:192.0.2.%d", n.v4_last);
      break;
    case 2:
      std::snprintf(host, sizeof host, "64:ff9b::%x:%x", hi, lo);
      break;
    case 3:
      std::snprintf(host, sizeof host, "64:ff9b:1::%x:%x", hi, lo);
      break;
    default:
      std::snprintf(host, sizeof host, "2001:db8:%x:%x::%x", n.site, n.subnet,
                    static_cast<unsigned>(1 + rng.Below(3)));
  }
  const std::string port = std::to_string(40000 + rng.Below(1000));
  if (n.kind == 0) return KeysOfPeer(std::string("ipv4:") + host + ":" + port);
  if (rng.Percent(50)) return KeysOfPeer(std::string("ipv6:[") + host + "]:" + port);
  return KeysOfPeer(std::string("ipv6:%5B") + host + "%5D:" + port);
}

Bytes DeviceId(size_t n) {
  Bytes id(crypto::kIdBytes, 0);
  id[0] = static_cast<uint8_t>(n);
  id[15] = 0xd1;
  return id;
}

// What the contract says the table holds, kept the slow and obvious way.
class Model {
 public:
  struct Record {
    Bytes challenge;
    size_t device = 0;
    std::vector<size_t> prefixes;  // Network::ids
    int64_t expires_at = 0;
    bool in_table = true;  // not consumed, retired or purged
  };

  Model(size_t per_address, size_t max, size_t prefix_ids)
      : per_address_(per_address), max_(max), prefix_ids_(prefix_ids) {}

  std::vector<Record> records;  // in order of issue: oldest first
  std::vector<size_t> table;    // indices into records, oldest first
  size_t retirements = 0;

  size_t Cap(size_t i) const {
    static constexpr size_t kScale[] = {1, 4, 16};
    return per_address_ * kScale[i];
  }
  bool Capped() const { return per_address_ > 0; }

  // Same device, and with the cap on, the same narrowest prefix.
  bool SameGroup(const Record& r, size_t device, const std::vector<size_t>& prefixes) const {
    return r.device == device && (!Capped() || r.prefixes[0] == prefixes[0]);
  }
  static bool Has(const Record& r, size_t prefix) {
    return std::find(r.prefixes.begin(), r.prefixes.end(), prefix) != r.prefixes.end();
  }
  size_t CountGroup(size_t device, const std::vector<size_t>& prefixes) const {
    size_t n = 0;
    for (size_t i : table) n += SameGroup(records[i], device, prefixes) ? 1U : 0U;
    return n;
  }
  size_t CountPrefix(size_t prefix) const {
    size_t n = 0;
    for (size_t i : table) n += Has(records[i], prefix) ? 1U : 0U;
    return n;
  }
  size_t TrackedPrefixes() const {
    if (!Capped()) return 0;
    std::vector<bool> seen(prefix_ids_);
    for (size_t i : table) {
      for (size_t p : records[i].prefixes) seen[p] = true;
    }
    return static_cast<size_t>(std::count(seen.begin(), seen.end(), true));
  }

  void Purge(int64_t now) {
    for (size_t i : table) {
      if (records[i].expires_at <= now) records[i].in_table = false;
    }
    Compact();
  }

  // Takes records[i] out as retired: REQUIREs that it is the oldest in the table that
  // `matches`.
  template <typename Matches>
  void RetireOldest(Matches matches) {
    for (size_t i : table) {
      if (matches(records[i])) {
        records[i].in_table = false;
        Compact();
        ++retirements;
        return;
      }
    }
    FAIL("nothing to retire");
  }

  // The outcome of an issue: false when refused. retired[i]: retired for the prefix cap i.
  bool Issue(size_t device, const std::vector<size_t>& prefixes, int64_t now,
             std::vector<size_t>& retired) {
    Purge(now);
    retired.assign(prefixes.size(), 0);
    const bool device_full = CountGroup(device, prefixes) >= kDeviceLimit;
    bool retires_own = device_full;
    for (size_t i = 0; Capped() && i < prefixes.size(); ++i) {
      retires_own = retires_own || CountPrefix(prefixes[i]) >= Cap(i);
    }
    if (table.size() >= max_ && !retires_own) return false;
    if (device_full) RetireOldest([&](const Record& r) { return SameGroup(r, device, prefixes); });
    for (size_t i = 0; Capped() && i < prefixes.size(); ++i) {
      while (CountPrefix(prefixes[i]) >= Cap(i)) {
        RetireOldest([&](const Record& r) { return Has(r, prefixes[i]); });
        ++retired[i];
      }
    }
    return true;
  }
  void Add(Bytes challenge, size_t device, const std::vector<size_t>& prefixes,
           int64_t expires_at) {
    table.push_back(records.size());
    records.push_back({std::move(challenge), device, prefixes, expires_at, true});
  }

  // The message ConsumeChallenge gives ("" for success), and the model after it.
  std::string Consume(size_t record, size_t device, int64_t now) {
    Record& r = records[record];
    if (!r.in_table) return "unknown or used challenge";
    r.in_table = false;
    Compact();
    if (r.expires_at <= now) return "challenge expired";
    if (r.device != device) return "challenge was issued to another device";
    return "";
  }

  // The contract's bounds, on what the model holds.
  // Counted once per step (the table has up to a few hundred entries): per group and per
  // prefix, each of which is checked against its bound.
  bool WithinBounds() const {
    if (table.size() > max_) return false;
    std::vector<size_t> groups(kDevices * (prefix_ids_ + 1));  // device x narrowest prefix
    std::vector<size_t> count(prefix_ids_);
    std::vector<size_t> width(prefix_ids_);
    for (size_t i : table) {
      const Record& r = records[i];
      ++groups[r.device * (prefix_ids_ + 1) + (Capped() ? r.prefixes[0] : prefix_ids_)];
      for (size_t k = 0; Capped() && k < r.prefixes.size(); ++k) {
        ++count[r.prefixes[k]];
        width[r.prefixes[k]] = k;
      }
    }
    bool within = true;
    for (size_t n : groups) within = within && n <= kDeviceLimit;
    for (size_t p = 0; p < prefix_ids_; ++p) within = within && count[p] <= Cap(width[p]);
    return within;
  }

 private:
  void Compact() {
    table.erase(
        std::remove_if(table.begin(), table.end(), [&](size_t i) { return !records[i].in_table; }),
        table.end());
  }

  size_t per_address_;
  size_t max_;
  size_t prefix_ids_;
};

struct Setting {
  size_t per_address;
  size_t max;
};

}  // namespace

TEST_CASE("the challenge table keeps its caps, limits and expiry under random traffic",
          "[session_manager]") {
  const std::vector<Network> networks = Networks();
  const size_t prefix_ids = PrefixIds(networks);
  size_t refused_all = 0, expired_all = 0, retired_all = 0;
  constexpr int kSettings = 20;
  constexpr int kSteps = 5'000;
  for (int setting = 0; setting < kSettings; ++setting) {
    Rng rng{uint64_t{0x5e551000} + static_cast<uint64_t>(setting)};
    // Caps small enough to be reached often; 0 is no cap. Tables from tiny to roomy.
    static constexpr size_t kPerAddress[] = {0, 1, 2, 3, 5};
    static constexpr size_t kMax[] = {3, 8, 20, 60, 400};
    const Setting s{kPerAddress[setting % 5], kMax[(setting / 5 + setting) % 5]};
    SessionManager::Options o;
    o.challenges_per_address = s.per_address;
    o.max_challenges = s.max;
    // Even settings: one clock for expiry and the wire, stepping back too (as an injected one
    // may). Odd settings: a monotonic clock for expiry and a wall clock that jumps both ways.
    const bool two_clocks = setting % 2 == 1;
    int64_t now = 1'800'000'000'000;  // the clock expiry counts on
    int64_t wall = now;
    auto sm_owned = two_clocks ? std::make_unique<SessionManager>(
                                     3600, o, [&wall] { return wall; }, [&now] { return now; })
                               : std::make_unique<SessionManager>(3600, o, [&now] { return now; });
    SessionManager& sm = *sm_owned;
    Model model(s.per_address, s.max, prefix_ids);
    size_t issued = 0, refused = 0, signed_in = 0, expired = 0;

    int step = 0;
    size_t record = 0;
    auto where = [&] {
      return "setting " + std::to_string(setting) + " (cap " + std::to_string(s.per_address) +
             ", max " + std::to_string(s.max) + "), step " + std::to_string(step) + ", record " +
             std::to_string(record);
    };
    for (; step < kSteps; ++step) {
      const size_t what = rng.Below(100);
      if (what < 55) {
        const size_t device = rng.Below(kDevices);
        const Network& net = networks[rng.Below(networks.size())];
        std::vector<size_t> model_retired;
        const bool ok = model.Issue(device, net.ids, now, model_retired);
        Result<Challenge> c = sm.IssueChallenge(DeviceId(device), PeerOf(net, rng));
        HOLDS(c.ok() == ok);
        if (!ok) {
          HOLDS(c.status().code() == StatusCode::kResourceExhausted);
          ++refused;
        } else {
          HOLDS(c.value().expires_at_ms == (two_clocks ? wall : now) + kTtl);
          HOLDS(c.value().challenge.size() == 32);
          // A logged retirement names a prefix of this caller's that this call retired from.
          if (c.value().retired_to_log > 0) {
            HOLDS(c.value().capped_by < model_retired.size());
            HOLDS(model_retired[c.value().capped_by] > 0);
          }
          model.Add(c.value().challenge, device, net.ids, now + kTtl);
          ++issued;
        }
      } else if (what < 75 && !model.records.empty()) {
        // Mostly one the model holds; else any ever issued (used, retired or purged).
        record = !model.table.empty() && rng.Percent(70)
                     ? model.table[rng.Below(model.table.size())]
                     : rng.Below(model.records.size());
        size_t device = model.records[record].device;
        if (rng.Percent(15)) device = (device + 1 + rng.Below(kDevices - 1)) % kDevices;
        const std::string expect = model.Consume(record, device, now);
        const Status got = sm.ConsumeChallenge(DeviceId(device), model.records[record].challenge);
        HOLDS(got.message() == expect);
        HOLDS(got.ok() == expect.empty());
        signed_in += got.ok() ? 1U : 0U;
        expired += expect == "challenge expired" ? 1U : 0U;
      } else if (what < 95) {
        // Time passes: mostly seconds, sometimes past a whole lifetime.
        const int64_t dt = rng.Percent(10) ? kTtl + static_cast<int64_t>(rng.Below(10'000))
                                           : static_cast<int64_t>(rng.Below(15'000));
        now += dt;
        wall += dt;
      } else {
        // The clock steps back; a wall clock also forward, by up to two hours.
        if (!two_clocks) {
          now -= static_cast<int64_t>(rng.Below(2 * kTtl));
        } else {
          wall += static_cast<int64_t>(rng.Below(4 * 3'600'000)) - 2 * 3'600'000;
        }
      }
      HOLDS(sm.challenge_count() == model.table.size());
      HOLDS(sm.tracked_prefixes() == model.TrackedPrefixes());
      HOLDS(model.WithinBounds());
    }
    // Every challenge ever issued, once more: what the model holds signs in exactly once (or
    // has expired), everything else is unknown.
    now += static_cast<int64_t>(rng.Below(kTtl));
    for (record = 0; record < model.records.size(); ++record) {
      const size_t device = model.records[record].device;
      const std::string expect = model.Consume(record, device, now);
      const Bytes& challenge = model.records[record].challenge;
      const std::string first = sm.ConsumeChallenge(DeviceId(device), challenge).message();
      HOLDS(first == expect);
      const std::string again = sm.ConsumeChallenge(DeviceId(device), challenge).message();
      HOLDS(again == "unknown or used challenge");
    }
    HOLDS(sm.challenge_count() == 0);
    HOLDS(sm.tracked_prefixes() == 0);
    // The traffic reached every branch it is meant to test.
    INFO("issued " << issued << " signed in " << signed_in << " expired " << expired << " retired "
                   << model.retirements);
    CHECK(issued > 500);
    CHECK(signed_in > 100);
    refused_all += refused;
    expired_all += expired;
    retired_all += model.retirements;
  }
  CHECK(refused_all > 1'000);
  CHECK(expired_all > 100);
  CHECK(retired_all > 1'000);
}

#undef HOLDS

}  // namespace kring::server::auth
