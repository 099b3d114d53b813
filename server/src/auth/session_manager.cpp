#include "auth/session_manager.h"

#include <algorithm>
#include <chrono>

#include "kring/common/crypto.h"
#include "kring/common/refusal.h"

namespace kring::server::auth {
namespace {

constexpr size_t kTokenBytes = 32;

Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

Bytes TokenHash(ByteView token) {
  return crypto::Hasher("kring-session-token-v1").Add(token).Finish();
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

SessionManager::Options SessionManager::InRange(Options o) {
  o.max_challenges = std::max<size_t>(o.max_challenges, 1);
  // The config allows up to 1,000,000; clamped so that the widest cap cannot overflow.
  o.challenges_per_address = std::min<size_t>(o.challenges_per_address, 1'000'000);
  return o;
}

SessionManager::SessionManager(int64_t session_ttl_seconds, const Options& options, NowFn wall,
                               NowFn steady)
    : ttl_ms_(session_ttl_seconds * 1000),
      options_(InRange(options)),
      now_(std::move(wall)),
      steady_(std::move(steady)) {}

void SessionManager::ForgetChallengeLocked(const Bytes& group, const Bytes* challenge) {
  auto it = challenges_of_device_.find(group);
  if (it == challenges_of_device_.end()) return;
  DeviceChallenges& mine = it->second;
  const auto first = mine.oldest_first.begin();
  const auto last = first + static_cast<std::ptrdiff_t>(mine.count);
  const auto found = std::find(first, last, challenge);
  if (found == last) return;
  std::move(found + 1, last, found);  // keeps the order
  if (--mine.count == 0) challenges_of_device_.erase(it);
}

void SessionManager::EraseChallengeLocked(Challenges::iterator it) {
  Entry& e = it->second;
  by_expiry_.erase(e.by_expiry);
  for (size_t i = 0; i < e.prefix_count; ++i) {
    Prefix& p = e.prefix[i]->second;
    (e.older[i] != nullptr ? e.older[i]->newer[i] : p.oldest) = e.newer[i];
    (e.newer[i] != nullptr ? e.newer[i]->older[i] : p.newest) = e.older[i];
    // A prefix is kept only while it holds a challenge: the prefixes never outnumber
    // kMaxPeerKeys times the table, whatever the addresses.
    if (--p.count == 0) prefixes_.erase(e.prefix[i]);
  }
  ForgetChallengeLocked(e.group, &it->first);
  challenges_.erase(it);
}

void SessionManager::PurgeExpiredChallengesLocked(int64_t now) {
  // Soonest expiry first, whatever the order of issue (an injected clock may step back).
  while (!by_expiry_.empty() && by_expiry_.begin()->first.first <= now) {
    EraseChallengeLocked(challenges_.find(*by_expiry_.begin()->second));
  }
}

void SessionManager::EraseSessionLocked(Sessions::iterator it) {
  const HeldSession& held = it->second;
  sessions_by_expiry_.erase({held.session.expires_at_ms, it->first});
  auto device = sessions_of_device_.find(held.session.device_id);
  KRING_CHECK(device != sessions_of_device_.end());
  device->second.erase(held.issued);
  if (device->second.empty()) sessions_of_device_.erase(device);
  sessions_.erase(it);
}

void SessionManager::PurgeExpiredSessionsLocked(int64_t now) {
  while (!sessions_by_expiry_.empty() && sessions_by_expiry_.begin()->first <= now) {
    auto it = sessions_.find(sessions_by_expiry_.begin()->second);
    KRING_CHECK(it != sessions_.end());
    EraseSessionLocked(it);
  }
}

Result<Challenge> SessionManager::IssueChallenge(ByteView device_id, const PeerKeys& peer) {
  if (device_id.size() != crypto::kIdBytes) return InvalidArgument("device_id must be 16 bytes");
  // KeysOfPeer makes 1 to kMaxPeerKeys keys: a peer with none is a bug, not one to let through.
  KRING_CHECK(peer.count >= 1 && peer.count <= kMaxPeerKeys);
  Challenge c;
  c.challenge = crypto::RandomBytes(32);
  const size_t capped_keys = options_.challenges_per_address > 0 ? peer.count : 0;
  // With the cap on, a device's challenges are limited per caller's narrowest prefix: a caller
  // can retire only those issued to its own prefix, not a device's elsewhere.
  Bytes group;
  group.reserve(device_id.size() + (capped_keys > 0 ? peer.keys[0].size() : 0));
  group.assign(device_id.begin(), device_id.end());
  if (capped_keys > 0) group.insert(group.end(), peer.keys[0].begin(), peer.keys[0].end());
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = steady_();
  c.expires_at_ms = now_() + kChallengeTtlMs;
  // Only live challenges count, towards the table and towards each prefix's cap.
  PurgeExpiredChallengesLocked(now);
  auto cap = [&](size_t i) {
    return options_.challenges_per_address * static_cast<size_t>(kWiderScale[i]);
  };
  // A caller that retires one of its own makes room for the new one; only one that would add
  // to a full table is refused, before anything changes (it retires nothing, adds nothing).
  const auto mine = challenges_of_device_.find(group);
  const bool device_full =
      mine != challenges_of_device_.end() && mine->second.count >= kChallengesPerDevice;
  bool retires_own = device_full;
  for (size_t i = 0; i < capped_keys && !retires_own; ++i) {
    const auto p = prefixes_.find(peer.keys[i]);
    retires_own = p != prefixes_.end() && p->second.count >= cap(i);
  }
  if (challenges_.size() >= options_.max_challenges && !retires_own) {
    return Status(StatusCode::kResourceExhausted, "too many outstanding challenges");
  }
  // Retiring may forget one of the caller's prefixes with its last challenge, and with it the
  // state of its log throttle: kept aside here, and given back to the prefix when the new
  // challenge recreates it (with a cap of 1 every capped call does), so the log stays at one
  // event per interval.
  struct Throttle {
    bool saved = false;
    int64_t logged_ms = 0;
    bool ever_logged = false;
    uint64_t unlogged_retired = 0;
  };
  std::array<Throttle, kMaxPeerKeys> throttle{};
  auto retire = [&](const Bytes* challenge) {
    const auto it = challenges_.find(*challenge);
    const Entry& gone = it->second;
    for (size_t i = 0; i < gone.prefix_count && i < capped_keys; ++i) {
      const Prefixes::iterator p = gone.prefix[i];  // keys[i] is of the same width
      if (p->second.count == 1 && p->first == peer.keys[i]) {
        throttle[i] = {true, p->second.logged_ms, p->second.ever_logged,
                       p->second.unlogged_retired};
      }
    }
    EraseChallengeLocked(it);
  };
  // A device holds at most a few outstanding challenges (with the cap on, per narrowest prefix,
  // whose cap bounds the rest); a new one retires the oldest, so one device cannot fill the
  // table. Its challenges share all of the caller's prefixes: this never empties one of them.
  if (device_full) retire(mine->second.oldest_first[0]);  // leaves 3: `mine` stays
  // So does an address prefix at its cap, narrowest first: the caller churns its own network's
  // challenges and cannot take more of the table than its cap, while a device there that asks
  // again always gets one (docs/threat-model.md).
  std::array<uint64_t, kMaxPeerKeys> retired{};
  for (size_t i = 0; i < capped_keys; ++i) {
    for (auto p = prefixes_.find(peer.keys[i]); p != prefixes_.end() && p->second.count >= cap(i);
         p = prefixes_.find(peer.keys[i])) {  // erasing the prefix's last challenge erases it
      retire(p->second.oldest->challenge);
      ++retired[i];
    }
  }
  KRING_CHECK(challenges_.size() < options_.max_challenges);
  const auto [it, inserted] = challenges_.try_emplace(c.challenge);
  KRING_CHECK(inserted);  // 32 random bytes
  const Bytes* key = &it->first;
  Entry& e = it->second;
  e.challenge = key;
  e.group = std::move(group);
  e.expires_at_ms = now + kChallengeTtlMs;
  e.by_expiry = by_expiry_.emplace(std::make_pair(e.expires_at_ms, issued_++), key).first;
  for (size_t i = 0; i < capped_keys; ++i) {
    const auto [pit, fresh] = prefixes_.try_emplace(peer.keys[i]);
    e.prefix[i] = pit;
    Prefix& p = pit->second;
    if (fresh && throttle[i].saved) {
      p.logged_ms = throttle[i].logged_ms;
      p.ever_logged = throttle[i].ever_logged;
      p.unlogged_retired = throttle[i].unlogged_retired;
    }
    e.older[i] = p.newest;
    (p.newest != nullptr ? p.newest->newer[i] : p.oldest) = &e;
    p.newest = &e;
    ++p.count;
    e.prefix_count = i + 1;  // linked so far: what EraseChallengeLocked unlinks
    // A call that retired challenges of a prefix reports them, at most once per prefix per
    // interval (the narrowest that is due); the rest are counted into its next report. A
    // clock stepped back past the last event (an injected one in tests) makes it due, not silent.
    p.unlogged_retired += retired[i];
    if (retired[i] > 0 && c.retired_to_log == 0 &&
        (!p.ever_logged || now < p.logged_ms || now - p.logged_ms >= options_.log_interval_ms)) {
      c.retired_to_log = p.unlogged_retired;
      c.capped_by = i;
      p.unlogged_retired = 0;
      p.logged_ms = now;
      p.ever_logged = true;
    }
  }
  DeviceChallenges& of_device = challenges_of_device_[e.group];
  KRING_CHECK(of_device.count < kChallengesPerDevice);  // its oldest was retired above
  of_device.oldest_first[of_device.count++] = key;
  return c;
}

Status SessionManager::ConsumeChallenge(ByteView device_id, ByteView challenge) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = challenges_.find(Bytes(challenge.begin(), challenge.end()));
  if (it == challenges_.end()) {
    return Status(StatusCode::kUnauthenticated, "unknown or used challenge",
                  refusal::kChallengeUnknown);
  }
  // The group starts with the device id it was issued to.
  const Bytes& group = it->second.group;
  const bool owned = group.size() >= device_id.size() &&
                     std::equal(device_id.begin(), device_id.end(), group.begin());
  const int64_t expiry = it->second.expires_at_ms;
  EraseChallengeLocked(it);
  if (expiry <= steady_()) {
    return Status(StatusCode::kUnauthenticated, "challenge expired", refusal::kChallengeUnknown);
  }
  if (device_id.size() != crypto::kIdBytes || !owned) {
    return Unauthenticated("challenge was issued to another device");
  }
  return {};
}

size_t SessionManager::challenge_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return challenges_.size();
}

size_t SessionManager::tracked_prefixes() {
  std::lock_guard<std::mutex> lock(mu_);
  return prefixes_.size();
}

Result<IssuedSession> SessionManager::CreateSession(Session session) {
  Bytes raw = crypto::RandomBytes(kTokenBytes);
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_();
  IssuedSession issued{Hex(raw), now + ttl_ms_};
  session.expires_at_ms = issued.expires_at_ms;
  PurgeExpiredSessionsLocked(now);
  auto own = sessions_of_device_.find(session.device_id);
  if (own != sessions_of_device_.end() && own->second.size() >= kSessionsPerDevice) {
    auto oldest = sessions_.find(own->second.begin()->second);
    KRING_CHECK(oldest != sessions_.end());
    EraseSessionLocked(oldest);
  }
  if (sessions_.size() >= kMaxSessions) {
    return Status(StatusCode::kResourceExhausted, "too many sessions");
  }
  Bytes hash = TokenHash(View(issued.token));
  const uint64_t n = ++sessions_issued_;
  sessions_by_expiry_.emplace(session.expires_at_ms, hash);
  sessions_of_device_[session.device_id].emplace(n, hash);
  sessions_.emplace(std::move(hash), HeldSession{std::move(session), n});
  return issued;
}

size_t SessionManager::session_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

Result<Session> SessionManager::Authenticate(std::string_view authorization) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.substr(0, kPrefix.size()) != kPrefix) {
    return Unauthenticated("missing bearer token");
  }
  std::string_view token = authorization.substr(kPrefix.size());
  if (token.size() != kTokenBytes * 2) return Unauthenticated("malformed session token");
  Bytes h = TokenHash(View(token));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(h);
  if (it == sessions_.end()) return Unauthenticated("unknown session");
  if (it->second.session.expires_at_ms <= now_()) {
    EraseSessionLocked(it);
    return Unauthenticated("session expired");
  }
  return it->second.session;
}

void SessionManager::RevokeDevice(ByteView device_id) {
  Bytes id(device_id.begin(), device_id.end());
  std::lock_guard<std::mutex> lock(mu_);
  auto device = sessions_of_device_.find(id);
  if (device == sessions_of_device_.end()) return;
  for (const auto& [issued, hash] : device->second) {
    auto it = sessions_.find(hash);
    KRING_CHECK(it != sessions_.end());
    sessions_by_expiry_.erase({it->second.session.expires_at_ms, hash});
    sessions_.erase(it);
  }
  sessions_of_device_.erase(device);
}

}  // namespace kring::server::auth
