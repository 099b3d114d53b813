// Sign-in challenges and sessions: the table, the per-device limits and the cap per address
// prefix, on an injected clock.
#include "auth/session_manager.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"

namespace kring::server::auth {
namespace {

struct FakeClock {
  int64_t now = 1'800'000'000'000;  // ms since the epoch
  SessionManager::NowFn fn() {
    return [this] { return now; };
  }
};

SessionManager::Options Caps(size_t per_address,
                             size_t max_challenges = SessionManager::kMaxChallenges) {
  SessionManager::Options o;
  o.challenges_per_address = per_address;
  o.max_challenges = max_challenges;
  o.log_interval_ms = 60'000;
  return o;
}

// A device id of its own for every n.
Bytes Device(uint64_t n) {
  Bytes id(crypto::kIdBytes, 0);
  for (size_t i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>(n >> (8 * i));
  id[15] = 0xd0;
  return id;
}

// gRPC peer strings, as kringd gets them.
PeerKeys V4(int a, int b, int c, int d) {
  return KeysOfPeer("ipv4:" + std::to_string(a) + "." + std::to_string(b) + "." +
                    std::to_string(c) + "." + std::to_string(d) + ":40000");
}
// An address in 2001:db8:<site>:<subnet>::/64: the site names the /48, the subnet's high byte
// the /56 in it.
PeerKeys V6(int site, int subnet, int host = 1) {
  char text[96];
  std::snprintf(text, sizeof text, "ipv6:[2001:db8:%x:%x::%x]:40000", site, subnet, host);
  return KeysOfPeer(text);
}

// Issues one challenge to a new device from `peer`; REQUIREs success.
Challenge Issue(SessionManager& sm, uint64_t& next_device, const PeerKeys& peer) {
  Result<Challenge> c = sm.IssueChallenge(Device(next_device++), peer);
  REQUIRE(c.status().message() == "");
  return std::move(c).value();
}

struct Issued {
  Bytes device;
  Challenge challenge;
};

Issued IssueTo(SessionManager& sm, uint64_t& next_device, const PeerKeys& peer) {
  Bytes device = Device(next_device);
  return {device, Issue(sm, next_device, peer)};
}

Status Consume(SessionManager& sm, const Issued& i) {
  return sm.ConsumeChallenge(i.device, i.challenge.challenge);
}

bool Retired(SessionManager& sm, const Issued& i) {
  const Status s = Consume(sm, i);
  return s.code() == StatusCode::kUnauthenticated && s.message() == "unknown or used challenge";
}

// What an attacker with these prefixes gets into the table in one challenge lifetime at the
// default rate limit: 1,300 challenges per /64 (its burst of 100 plus 60 s at 20 per second),
// each to a device of its own (one device holds at most 4). Returns how many were refused.
int Flood(SessionManager& sm, uint64_t& next_device, const std::vector<PeerKeys>& prefixes) {
  int refused = 0;
  for (const PeerKeys& peer : prefixes) {
    for (int i = 0; i < 1300; ++i) {
      refused += sm.IssueChallenge(Device(next_device++), peer).ok() ? 0 : 1;
    }
  }
  return refused;
}

// Five /48s, each from 16 of its /64s (four in each of four /56s): each /48 makes the 20,800
// challenges its rate limit lets through in 60 s (docs/threat-model.md).
std::vector<PeerKeys> FiveSites() {
  std::vector<PeerKeys> v;
  for (int site = 1; site <= 5; ++site) {
    for (int net56 = 0; net56 < 4; ++net56) {
      for (int net64 = 0; net64 < 4; ++net64) v.push_back(V6(site, net56 * 0x100 + net64));
    }
  }
  return v;
}

// 80 IPv4 addresses, each making the 1,300 its rate limit lets through in 60 s.
std::vector<PeerKeys> EightyAddresses() {
  std::vector<PeerKeys> v;
  for (int n = 1; n <= 80; ++n) v.push_back(V4(198, 51, 100, n));
  return v;
}

}  // namespace

TEST_CASE("callers from five IPv6 /48s or 80 IPv4 addresses cannot lock others out of signing in",
          "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(SessionManager::kDefaultChallengesPerAddress), clock.fn());
  uint64_t next = 1;
  // None of them is refused (each new challenge retires the oldest of its own prefix) ...
  CHECK(Flood(sm, next, FiveSites()) == 0);
  // ... but each /48 holds at most its cap of 2,048 (16 x 128).
  CHECK(sm.challenge_count() == 5 * 2048);
  CHECK(Flood(sm, next, EightyAddresses()) == 0);
  CHECK(sm.challenge_count() == 5 * 2048 + 80 * 128);

  // An honest device from another network gets a challenge and signs in with it.
  const Issued honest = IssueTo(sm, next, V6(0x99, 0x100));
  CHECK(Consume(sm, honest).ok());
  const Issued honest_v4 = IssueTo(sm, next, V4(192, 0, 2, 7));
  CHECK(Consume(sm, honest_v4).ok());
  // So does one from a /64 of the flooded /48s (its new challenge retires the /48's oldest).
  const Issued neighbour = IssueTo(sm, next, V6(1, 0x300, 2));
  CHECK(Consume(sm, neighbour).ok());
  // The prefixes tracked for the cap: at most three per challenge.
  CHECK(sm.tracked_prefixes() <= 3 * sm.challenge_count());
}

TEST_CASE("without the cap, callers from five /48s fill the table and every other sign-in fails",
          "[session_manager]") {
  // challenges_per_address 0 turns the cap off: the behaviour before it.
  FakeClock clock;
  SessionManager sm(3600, Caps(0), clock.fn());
  uint64_t next = 1;
  CHECK(Flood(sm, next, FiveSites()) == 104'000 - 100'000);
  CHECK(sm.challenge_count() == SessionManager::kMaxChallenges);
  CHECK(sm.tracked_prefixes() == 0);
  const Result<Challenge> honest = sm.IssueChallenge(Device(next++), V6(0x99, 0x100));
  CHECK(honest.status().code() == StatusCode::kResourceExhausted);
  // Until the challenges expire.
  clock.now += SessionManager::kChallengeTtlMs;
  const Issued later = IssueTo(sm, next, V6(0x99, 0x100));
  CHECK(Consume(sm, later).ok());
  CHECK(sm.challenge_count() == 0);
}

TEST_CASE("an address at its cap retires its own oldest challenge, and its devices still sign in",
          "[session_manager]") {
  FakeClock clock;
  SessionManager::Options caps = Caps(3);
  caps.log_interval_ms = 10'000;
  SessionManager sm(3600, caps, clock.fn());
  uint64_t next = 1;
  const PeerKeys office = V4(203, 0, 113, 9);
  const PeerKeys other = V4(203, 0, 113, 10);
  std::vector<Issued> mine;
  for (int i = 0; i < 3; ++i) mine.push_back(IssueTo(sm, next, office));
  const Issued theirs = IssueTo(sm, next, other);
  CHECK(mine.back().challenge.retired_to_log == 0);

  // The fourth from the office retires the office's oldest, not the other address's.
  const Issued fourth = IssueTo(sm, next, office);
  CHECK(fourth.challenge.retired_to_log == 1);  // the first retirement is logged at once
  CHECK(fourth.challenge.capped_by == 0);
  CHECK(Retired(sm, mine[0]));
  CHECK(Consume(sm, mine[1]).ok());
  CHECK(Consume(sm, fourth).ok());
  CHECK(Consume(sm, theirs).ok());
  CHECK(sm.challenge_count() == 1);  // mine[2]

  // A device behind the office address that keeps asking always gets a challenge that works,
  // however many others there churn; the log gets one event a minute, with the count.
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i) Issue(sm, next, office);
    const Issued honest = IssueTo(sm, next, office);
    CHECK(honest.challenge.retired_to_log == 0);  // within the minute
    CHECK(Consume(sm, honest).ok());
  }
  CHECK(sm.challenge_count() == 2);  // the office's cap less the one just used
  // 4 retired in the first round (the office held 1), 5 in each of the other nine.
  clock.now += 10'000;  // the log interval passes (10 s here); nothing expires
  CHECK(Issue(sm, next, office).retired_to_log == 0);  // the office holds 3: retires none
  const Issued after = IssueTo(sm, next, office);
  CHECK(after.challenge.retired_to_log == 4 + 9 * 5 + 1);
  CHECK(Consume(sm, after).ok());
}

TEST_CASE(
    "IPv6 callers are capped by their /64, /56 and /48, the wider prefixes with 4 and 16 times",
    "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(2), clock.fn());  // 2 per /64, 8 per /56, 32 per /48
  uint64_t next = 1;
  // Two hosts of one /64 share its cap.
  const Issued a1 = IssueTo(sm, next, V6(0xa, 0x1, 1));
  IssueTo(sm, next, V6(0xa, 0x1, 2));
  const Issued a3 = IssueTo(sm, next, V6(0xa, 0x1, 3));
  CHECK(a3.challenge.capped_by == 0);
  CHECK(Retired(sm, a1));
  // Four /64s of the /56 2001:db8:a::/56 take its 8.
  for (int n = 2; n <= 4; ++n) {
    for (int i = 0; i < 2; ++i) Issue(sm, next, V6(0xa, n));
  }
  CHECK(sm.challenge_count() == 8);
  // A fifth /64 there, below its own cap, retires the /56's oldest (in another /64 of it).
  const Issued fifth = IssueTo(sm, next, V6(0xa, 5));
  CHECK(fifth.challenge.capped_by == 1);
  CHECK(fifth.challenge.retired_to_log == 1);
  CHECK(sm.challenge_count() == 8);
  CHECK(Consume(sm, fifth).ok());
  // Another /56 of the /48 is not touched, until the /48 holds its 32.
  const Issued elsewhere = IssueTo(sm, next, V6(0xa, 0x100));
  for (int net56 = 1; net56 < 4; ++net56) {
    for (int n = 0; n < 4; ++n) {
      for (int i = 0; i < 2; ++i) Issue(sm, next, V6(0xa, net56 * 0x100 + n));
    }
  }
  // 7 + 8 + 8 + 8 (`elsewhere` was retired by its own /64, 2001:db8:a:100::/64).
  CHECK(sm.challenge_count() == 31);
  Issue(sm, next, V6(0xa, 0x400));  // a fifth /56: the 32nd
  const Issued over = IssueTo(sm, next, V6(0xa, 0x500));
  CHECK(over.challenge.capped_by == 2);
  CHECK(sm.challenge_count() == 32);
  CHECK(Retired(sm, elsewhere));
  CHECK(Retired(sm, a3));  // the /48's oldest
  // Another /48 has its own.
  const Issued site_b = IssueTo(sm, next, V6(0xb, 0x1));
  CHECK(site_b.challenge.retired_to_log == 0);
  CHECK(Consume(sm, site_b).ok());
}

TEST_CASE("IPv4 clients count as their IPv4 address however they arrive, NAT64 included",
          "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(2), clock.fn());
  uint64_t next = 1;
  const Issued v4 = IssueTo(sm, next, KeysOfPeer("ipv4:192.0.2.7:1000"));
  IssueTo(sm, next, KeysOfPeer("ipv6:[::ffff:192.0.2.7]:1001"));
  const Issued nat64 = IssueTo(sm, next, KeysOfPeer("ipv6:%5B64:ff9b::c000:207%5D:1002"));
  CHECK(nat64.challenge.retired_to_log == 1);
  CHECK(Retired(sm, v4));
  CHECK(sm.challenge_count() == 2);
}

TEST_CASE("a full table refuses only callers that retire none of their own, and changes nothing",
          "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(2, /*max_challenges=*/10), clock.fn());
  uint64_t next = 1;
  // Five addresses at their cap of 2 fill the table of 10.
  std::vector<Issued> issued;
  for (int n = 1; n <= 5; ++n) {
    for (int i = 0; i < 2; ++i) issued.push_back(IssueTo(sm, next, V4(198, 51, 100, n)));
  }
  // A device that holds one challenge asks from a sixth address: refused, its challenge kept.
  const Bytes device = Device(1000);
  // (It got that one from the first address: retiring that address's oldest.)
  Result<Challenge> first = sm.IssueChallenge(device, V4(198, 51, 100, 1));
  REQUIRE(first.ok());
  CHECK(Retired(sm, issued[0]));
  Result<Challenge> refused = sm.IssueChallenge(device, V4(198, 51, 100, 6));
  CHECK(refused.status().code() == StatusCode::kResourceExhausted);
  CHECK(refused.status().message() == "too many outstanding challenges");
  CHECK(sm.challenge_count() == 10);
  const size_t prefixes = sm.tracked_prefixes();
  // Many refused calls from new addresses add nothing.
  for (int n = 0; n < 200; ++n) {
    CHECK_FALSE(sm.IssueChallenge(Device(next++), V6(0x77, n)).ok());
  }
  CHECK(sm.tracked_prefixes() == prefixes);
  CHECK(sm.ConsumeChallenge(device, first.value().challenge).ok());
  // An address at its cap still gets one: it retires its own.
  const Issued own = IssueTo(sm, next, V4(198, 51, 100, 2));
  CHECK(Consume(sm, own).ok());
  // So does a device that holds four, from a new address: it retires its own oldest.
  SessionManager full(3600, Caps(0, /*max_challenges=*/4), clock.fn());
  const Bytes four = Device(2000);
  std::vector<Bytes> its;
  for (int i = 0; i < 4; ++i) {
    its.push_back(full.IssueChallenge(four, V4(198, 51, 100, 1)).value().challenge);
  }
  CHECK_FALSE(full.IssueChallenge(Device(2001), V4(198, 51, 100, 2)).ok());
  Result<Challenge> fifth = full.IssueChallenge(four, V4(198, 51, 100, 2));
  REQUIRE(fifth.ok());
  CHECK(full.ConsumeChallenge(four, its[0]).message() == "unknown or used challenge");
  CHECK(full.ConsumeChallenge(four, fifth.value().challenge).ok());
}

TEST_CASE("expired challenges leave the table and free their prefixes' cap", "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(2, /*max_challenges=*/6), clock.fn());
  uint64_t next = 1;
  std::vector<Issued> old;
  for (int site = 1; site <= 3; ++site) {
    for (int i = 0; i < 2; ++i) old.push_back(IssueTo(sm, next, V6(site, 1)));
  }
  CHECK(sm.tracked_prefixes() == 9);  // three /64s, /56s and /48s
  CHECK_FALSE(sm.IssueChallenge(Device(next++), V6(4, 1)).ok());
  clock.now += SessionManager::kChallengeTtlMs - 1;
  CHECK_FALSE(sm.IssueChallenge(Device(next++), V6(4, 1)).ok());
  clock.now += 1;
  // Expired: not usable, and gone at the next issue, with every prefix that held them.
  CHECK(Consume(sm, old[0]).message() == "challenge expired");
  const Issued fresh = IssueTo(sm, next, V4(192, 0, 2, 1));
  CHECK(sm.challenge_count() == 1);
  CHECK(sm.tracked_prefixes() == 1);
  CHECK(Retired(sm, old[1]));
  CHECK(Consume(sm, fresh).ok());
  CHECK(sm.tracked_prefixes() == 0);
  // The prefixes start again from nothing: two each without retiring.
  const Issued again = IssueTo(sm, next, V6(1, 1));
  CHECK(again.challenge.retired_to_log == 0);
  CHECK(Consume(sm, again).ok());
}

TEST_CASE("a device holds four challenges from one address, and a fifth retires its oldest",
          "[session_manager]") {
  for (size_t cap : {size_t{0}, size_t{128}}) {
    INFO("cap " << cap);
    FakeClock clock;
    SessionManager sm(3600, Caps(cap), clock.fn());
    const Bytes device = Device(7);
    std::vector<Bytes> issued;
    for (int i = 0; i < 5; ++i) {
      issued.push_back(sm.IssueChallenge(device, V4(192, 0, 2, 1)).value().challenge);
    }
    CHECK(sm.challenge_count() == 4);
    CHECK(sm.ConsumeChallenge(device, issued[0]).message() == "unknown or used challenge");
    CHECK(sm.ConsumeChallenge(Device(8), issued[1]).message() ==
          "challenge was issued to another device");
    CHECK(sm.ConsumeChallenge(device, issued[1]).message() == "unknown or used challenge");
    for (size_t i = 2; i < 5; ++i) CHECK(sm.ConsumeChallenge(device, issued[i]).ok());
    CHECK(sm.challenge_count() == 0);
    CHECK(sm.tracked_prefixes() == 0);
  }
}

TEST_CASE("with a cap of 1, a caller that keeps retiring its own is logged once a minute",
          "[session_manager]") {
  // Each call empties the prefix (its one challenge retired) and fills it again: the log
  // throttle must survive that, or every call would be an event.
  for (const PeerKeys& peer : {V4(203, 0, 113, 9), V6(0xa, 0x1)}) {
    FakeClock clock;
    SessionManager sm(3600, Caps(1), clock.fn());
    uint64_t next = 1;
    Issue(sm, next, peer);
    int events = 0;
    uint64_t logged = 0;
    for (int i = 0; i < 100; ++i) {
      const Challenge c = Issue(sm, next, peer);
      events += c.retired_to_log > 0 ? 1 : 0;
      logged += c.retired_to_log;
      clock.now += 100;  // 100 calls in 10 s
    }
    CHECK(events == 1);
    CHECK(logged == 1);
    CHECK(sm.challenge_count() == 1);
    CHECK(sm.tracked_prefixes() == peer.count);
    // A minute after the first event: one more, with the 99 retired since.
    clock.now += 60'000 - 10'000;
    const Challenge later = Issue(sm, next, peer);
    CHECK(later.retired_to_log == 99 + 1);
    CHECK(later.capped_by == 0);
    CHECK(Issue(sm, next, peer).retired_to_log == 0);
  }
}

TEST_CASE("a caller from another address cannot retire a device's challenge by its id",
          "[session_manager]") {
  // Device ids are public (account chains): a caller elsewhere asks for many challenges for the
  // victim's device while the victim signs in.
  for (const PeerKeys& attacker : {V4(198, 51, 100, 1), V6(0xe, 0x1)}) {
    FakeClock clock;
    SessionManager sm(3600, Caps(SessionManager::kDefaultChallengesPerAddress), clock.fn());
    const Bytes victim = Device(1);
    const PeerKeys home = V4(192, 0, 2, 7);
    Result<Challenge> mine = sm.IssueChallenge(victim, home);
    REQUIRE(mine.ok());
    std::vector<Bytes> theirs;
    for (int i = 0; i < 10; ++i) {
      Result<Challenge> c = sm.IssueChallenge(victim, attacker);
      REQUIRE(c.ok());
      CHECK(c.value().retired_to_log == 0);
      theirs.push_back(c.value().challenge);
    }
    // The attacker's own four newest stay; its older ones were retired, the victim's was not.
    CHECK(sm.challenge_count() == 1 + 4);
    CHECK(sm.ConsumeChallenge(victim, mine.value().challenge).ok());
    CHECK(sm.ConsumeChallenge(victim, theirs[0]).message() == "unknown or used challenge");
    CHECK(sm.ConsumeChallenge(victim, theirs[9]).ok());
  }
  // Behind the victim's own address (an IPv4 address, an IPv6 /64) the device's four are
  // shared: a fifth from there retires its oldest.
  FakeClock clock;
  SessionManager sm(3600, Caps(SessionManager::kDefaultChallengesPerAddress), clock.fn());
  const Bytes victim = Device(1);
  Result<Challenge> mine = sm.IssueChallenge(victim, V6(0xa, 0x1, 1));
  REQUIRE(mine.ok());
  for (int i = 0; i < 4; ++i) REQUIRE(sm.IssueChallenge(victim, V6(0xa, 0x1, 2)).ok());
  CHECK(sm.ConsumeChallenge(victim, mine.value().challenge).message() ==
        "unknown or used challenge");
  // Without the cap the device holds four in all, wherever they were asked from.
  SessionManager uncapped(3600, Caps(0), clock.fn());
  Result<Challenge> first = uncapped.IssueChallenge(victim, V4(192, 0, 2, 7));
  REQUIRE(first.ok());
  for (int i = 0; i < 4; ++i) REQUIRE(uncapped.IssueChallenge(victim, V4(198, 51, 100, 1)).ok());
  CHECK(uncapped.challenge_count() == 4);
  CHECK(uncapped.ConsumeChallenge(victim, first.value().challenge).message() ==
        "unknown or used challenge");
}

TEST_CASE("a call at both the device's limit and its address's cap retires one challenge",
          "[session_manager]") {
  // A cap of 4: the device's four from this address are also the address's four. The fifth
  // retires the device's oldest, which leaves the address below its cap: nothing more.
  FakeClock clock;
  SessionManager sm(3600, Caps(4), clock.fn());
  const Bytes device = Device(1);
  const PeerKeys office = V4(203, 0, 113, 9);
  std::vector<Bytes> issued;
  for (int i = 0; i < 5; ++i) {
    Result<Challenge> c = sm.IssueChallenge(device, office);
    REQUIRE(c.ok());
    CHECK(c.value().retired_to_log == 0);  // the device limit is not the address's cap
    issued.push_back(c.value().challenge);
  }
  CHECK(sm.challenge_count() == 4);
  CHECK(sm.tracked_prefixes() == 1);
  CHECK(sm.ConsumeChallenge(device, issued[0]).message() == "unknown or used challenge");
  for (size_t i = 1; i < 5; ++i) CHECK(sm.ConsumeChallenge(device, issued[i]).ok());
  CHECK(sm.challenge_count() == 0);
  CHECK(sm.tracked_prefixes() == 0);
  // An IPv6 device at its four in its /64, whose /48 is at its cap (64 with a cap of 4) from
  // the site's other /64s: one retired, the device's, and every prefix back at or below its cap.
  uint64_t next = 100;
  std::vector<Bytes> its;
  for (int i = 0; i < 4; ++i)
    its.push_back(sm.IssueChallenge(device, V6(0xa, 0x1)).value().challenge);
  for (int net56 = 1; net56 < 4; ++net56) {
    for (int n = 0; n < 4; ++n) {
      for (int i = 0; i < 4; ++i) Issue(sm, next, V6(0xa, net56 * 0x100 + n));
    }
  }
  for (int n = 2; n < 5; ++n) {
    for (int i = 0; i < 4; ++i) Issue(sm, next, V6(0xa, n));
  }
  CHECK(sm.challenge_count() == 64);
  Result<Challenge> fifth = sm.IssueChallenge(device, V6(0xa, 0x1));
  REQUIRE(fifth.ok());
  CHECK(fifth.value().retired_to_log == 0);
  CHECK(sm.challenge_count() == 64);
  CHECK(sm.ConsumeChallenge(device, its[0]).message() == "unknown or used challenge");
  CHECK(sm.ConsumeChallenge(device, its[1]).ok());
  CHECK(sm.ConsumeChallenge(device, fifth.value().challenge).ok());
}

TEST_CASE("a wall clock stepped back does not silence the log of retired challenges",
          "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(1), clock.fn());
  uint64_t next = 1;
  const PeerKeys office = V4(203, 0, 113, 9);
  Issue(sm, next, office);
  CHECK(Issue(sm, next, office).retired_to_log == 1);
  CHECK(Issue(sm, next, office).retired_to_log == 0);
  // Stepped back an hour: the next retirement is logged at once, with the one held back.
  clock.now -= 3'600'000;
  CHECK(Issue(sm, next, office).retired_to_log == 2);
  CHECK(Issue(sm, next, office).retired_to_log == 0);
  // And again a minute later by the new clock, not an hour and a minute.
  clock.now += 30'000;
  CHECK(Issue(sm, next, office).retired_to_log == 0);
  clock.now += 30'000;
  CHECK(Issue(sm, next, office).retired_to_log == 3);
}

TEST_CASE("a challenge lives one minute by the monotonic clock whatever the wall clock does",
          "[session_manager]") {
  FakeClock wall;
  FakeClock steady;
  steady.now = 5'000;  // its own start, far from the wall clock's
  SessionManager sm(3600, Caps(128), wall.fn(), steady.fn());
  uint64_t next = 1;
  constexpr int64_t kTtl = SessionManager::kChallengeTtlMs;
  const Issued first = IssueTo(sm, next, V4(192, 0, 2, 1));
  const Issued second = IssueTo(sm, next, V4(192, 0, 2, 1));
  CHECK(first.challenge.expires_at_ms == wall.now + kTtl);  // the client is told wall time
  // The wall clock set back an hour as the minute passes: the challenges do not live on.
  wall.now -= 3'600'000;
  steady.now += kTtl;
  CHECK(Consume(sm, first).message() == "challenge expired");
  const Issued third = IssueTo(sm, next, V4(192, 0, 2, 2));
  CHECK(third.challenge.expires_at_ms == wall.now + kTtl);
  CHECK(sm.challenge_count() == 1);  // the second was purged with its prefix
  CHECK(sm.tracked_prefixes() == 1);
  CHECK(Retired(sm, second));
  // The wall clock set forward an hour: a challenge still inside its minute signs in.
  wall.now += 2 * 3'600'000;
  steady.now += kTtl - 1;
  CHECK(Consume(sm, third).ok());
  const Issued fourth = IssueTo(sm, next, V4(192, 0, 2, 2));
  steady.now += kTtl - 1;
  CHECK(Consume(sm, fourth).ok());
}

namespace {

Session DeviceSession(uint64_t n) {
  Session s;
  s.device_id = Device(n);
  s.account_id = Bytes(crypto::kIdBytes, 0xac);
  s.signing_public_key = Bytes(32, 0x5e);
  return s;
}

Status Use(SessionManager& sm, const IssuedSession& issued) {
  return sm.Authenticate("Bearer " + issued.token).status();
}

// Every index of the table agrees with it: past every session's end, one more sign-in finds the
// table holding only that one (a stale index entry would stop kringd in the purge).
void ExpectOnlyNewAfterExpiry(SessionManager& sm, FakeClock& clock, int64_t ttl_ms) {
  clock.now += ttl_ms + 10'000;
  auto fresh = sm.CreateSession(DeviceSession(99));
  REQUIRE(fresh.ok());
  CHECK(sm.session_count() == 1);
  CHECK(Use(sm, *fresh).ok());
}

}  // namespace

TEST_CASE("a device holds eight sessions, and a ninth ends its oldest", "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(2), clock.fn());
  std::vector<IssuedSession> own;
  for (size_t i = 0; i < SessionManager::kSessionsPerDevice; ++i) {
    auto s = sm.CreateSession(DeviceSession(1));
    REQUIRE(s.ok());
    own.push_back(*s);
    clock.now += 1'000;
  }
  auto other = sm.CreateSession(DeviceSession(2));
  REQUIRE(other.ok());
  for (const IssuedSession& s : own) CHECK(Use(sm, s).ok());

  auto ninth = sm.CreateSession(DeviceSession(1));
  REQUIRE(ninth.ok());
  CHECK(Use(sm, own[0]).code() == StatusCode::kUnauthenticated);  // the oldest
  for (size_t i = 1; i < own.size(); ++i) CHECK(Use(sm, own[i]).ok());
  CHECK(Use(sm, *ninth).ok());
  CHECK(Use(sm, *other).ok());  // another device keeps its session
  CHECK(sm.session_count() == SessionManager::kSessionsPerDevice + 1);

  SECTION("however often one device signs in, it holds no more than its eight") {
    for (int i = 0; i < 1000; ++i) REQUIRE(sm.CreateSession(DeviceSession(1)).ok());
    CHECK(sm.session_count() == SessionManager::kSessionsPerDevice + 1);
    CHECK(Use(sm, *other).ok());
    ExpectOnlyNewAfterExpiry(sm, clock, 3'600'000);
  }
  SECTION("after the wall clock was set back, the oldest still goes first, not the newest") {
    clock.now -= 600'000;  // the new sessions end before the old ones
    auto after_step = sm.CreateSession(DeviceSession(1));
    REQUIRE(after_step.ok());
    CHECK(Use(sm, own[1]).code() == StatusCode::kUnauthenticated);
    auto next = sm.CreateSession(DeviceSession(1));
    REQUIRE(next.ok());
    CHECK(Use(sm, own[2]).code() == StatusCode::kUnauthenticated);
    CHECK(Use(sm, *after_step).ok());
    CHECK(Use(sm, *next).ok());
    ExpectOnlyNewAfterExpiry(sm, clock, 3'600'000 + 600'000);
  }
}

TEST_CASE("revoking a device ends all its sessions and no other", "[session_manager]") {
  FakeClock clock;
  SessionManager sm(3600, Caps(2), clock.fn());
  std::vector<IssuedSession> revoked;
  for (int i = 0; i < 3; ++i) revoked.push_back(*sm.CreateSession(DeviceSession(1)));
  auto kept = sm.CreateSession(DeviceSession(2));
  REQUIRE(kept.ok());
  sm.RevokeDevice(Device(1));
  for (const IssuedSession& s : revoked) {
    CHECK(Use(sm, s).code() == StatusCode::kUnauthenticated);
  }
  CHECK(Use(sm, *kept).ok());
  CHECK(sm.session_count() == 1);
  sm.RevokeDevice(Device(3));  // a device without sessions: nothing changes
  CHECK(sm.session_count() == 1);
  // A new sign-in of the revoked device id starts from none.
  CHECK(sm.CreateSession(DeviceSession(1)).ok());
  CHECK(sm.session_count() == 2);
  ExpectOnlyNewAfterExpiry(sm, clock, 3'600'000);
}

TEST_CASE("sessions end at their expiry and leave the table", "[session_manager]") {
  FakeClock clock;
  SessionManager sm(60, Caps(2), clock.fn());
  auto first = sm.CreateSession(DeviceSession(1));
  auto second = sm.CreateSession(DeviceSession(2));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->expires_at_ms == clock.now + 60'000);
  clock.now += 59'999;
  CHECK(Use(sm, *first).ok());
  clock.now += 1;
  const Status expired = Use(sm, *first);
  CHECK(expired.code() == StatusCode::kUnauthenticated);
  CHECK(expired.message() == "session expired");
  CHECK(sm.session_count() == 1);  // the used one is gone; the other waits for the next sign-in
  auto third = sm.CreateSession(DeviceSession(3));
  REQUIRE(third.ok());
  CHECK(sm.session_count() == 1);
  CHECK(Use(sm, *second).code() == StatusCode::kUnauthenticated);
  CHECK(Use(sm, *third).ok());
  // Device 1's session ended when it was used: its next ones start from none.
  for (size_t i = 0; i < SessionManager::kSessionsPerDevice; ++i) {
    REQUIRE(sm.CreateSession(DeviceSession(1)).ok());
  }
  CHECK(sm.session_count() == SessionManager::kSessionsPerDevice + 1);
  ExpectOnlyNewAfterExpiry(sm, clock, 60'000);
}

}  // namespace kring::server::auth
