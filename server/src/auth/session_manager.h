// Sign-in challenges and session tokens, in memory only.
//
// Sessions end when kringd restarts: clients treat UNAUTHENTICATED as "sign in again" (a fresh
// challenge costs one round trip). Only BLAKE2b(token) is kept, and lookups go by that hash, so a
// presented token is never compared byte by byte with a stored secret.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "kring/common/bytes.h"
#include "kring/common/status.h"

#include "rate_limiter.h"

namespace kring::server::auth {

struct Session {
  Bytes device_id;
  Bytes account_id;
  Bytes signing_public_key;  // of the device; device keys never change
  int64_t expires_at_ms = 0;
};

struct Challenge {
  Bytes challenge;
  int64_t expires_at_ms = 0;  // wall clock, for the client; the table expires it on its own
                              // monotonic clock, kChallengeTtlMs after issue
  // > 0: issuing it retired the oldest challenges of one of the caller's address prefixes,
  // peer.keys[capped_by], which was at its cap; the caller logs one event for that prefix now,
  // counting the challenges so retired since its last event. At most one per prefix per
  // SessionManager::Options::log_interval_ms (while the prefix holds challenges).
  uint64_t retired_to_log = 0;
  size_t capped_by = 0;
};

struct IssuedSession {
  std::string token;  // hex of 32 random bytes; returned to the client once, never logged
  int64_t expires_at_ms = 0;
};

int64_t NowMs();
// Milliseconds on the monotonic clock (std::chrono::steady_clock, from an arbitrary start): what
// challenge expiry counts in, so that a wall clock set back or forward does not stretch or cut
// a challenge's lifetime.
int64_t SteadyMs();

class SessionManager {
 public:
  using NowFn = std::function<int64_t()>;  // milliseconds (NowMs: since the Unix epoch)

  static constexpr int64_t kChallengeTtlMs = 60'000;
  static constexpr size_t kMaxChallenges = 100'000;
  static constexpr size_t kMaxSessions = 1'000'000;
  // Live sessions per device. A device needs one (the app's token, kept until it ends) and a
  // few more while processes of one profile sign in side by side (kring scripts); without a
  // cap, one signed-in device could fill the table and lock every other device out.
  static constexpr size_t kSessionsPerDevice = 8;
  // Live challenges per IPv4 address or IPv6 /64 by default; a /56 and a /48 get kWiderScale
  // times as many (512, 2048). Why these: docs/operations.md.
  static constexpr size_t kDefaultChallengesPerAddress = 128;

  struct Options {
    size_t max_challenges = kMaxChallenges;  // live challenges in all (>= 1)
    // Live challenges per narrowest key of KeysOfPeer (an IPv4 address, an IPv6 /64), times
    // kWiderScale[i] for keys[i]; 0: no cap. At the cap a new challenge retires the oldest of
    // that prefix: the caller churns its own network's entries, and never gets a refusal for
    // it.
    size_t challenges_per_address = kDefaultChallengesPerAddress;
    int64_t log_interval_ms = 60'000;  // per prefix
  };

  explicit SessionManager(int64_t session_ttl_seconds)
      : SessionManager(session_ttl_seconds, Options{}) {}
  // Wall time (NowMs) for what goes on the wire and for sessions, the monotonic clock (SteadyMs)
  // for the challenge table: expiry and the log interval.
  SessionManager(int64_t session_ttl_seconds, const Options& options)
      : SessionManager(session_ttl_seconds, options, NowMs, SteadyMs) {}
  // One injected clock for both (tests).
  SessionManager(int64_t session_ttl_seconds, const Options& options, const NowFn& now)
      : SessionManager(session_ttl_seconds, options, now, now) {}
  SessionManager(int64_t session_ttl_seconds, const Options& options, NowFn wall, NowFn steady);

  // All methods are thread-safe.
  // A challenge for `device_id` requested from `peer` (KeysOfPeer of the caller's address).
  // Retires, in this order, the device's oldest challenge if it holds kChallengesPerDevice,
  // and the oldest challenge of each of the peer's prefixes that holds its cap. With the cap
  // on, the device limit counts only the device's challenges issued to the caller's narrowest
  // prefix (an IPv4 address, an IPv6 /64): a caller elsewhere who knows the device id cannot
  // retire the device's own challenges. Refused with RESOURCE_EXHAUSTED only while the whole
  // table is full of live challenges and the caller retired none of its own; a refused call
  // changes nothing.
  Result<Challenge> IssueChallenge(ByteView device_id, const PeerKeys& peer);
  // Consumes the challenge whatever the outcome: a replay always fails.
  Status ConsumeChallenge(ByteView device_id, ByteView challenge);
  // At the device's kSessionsPerDevice, the device's oldest session ends now (its holder gets
  // UNAUTHENTICATED and signs in again); expired sessions are dropped first. Oldest by issue, not
  // by expiry: after the wall clock was set back, the newest session would end first.
  // RESOURCE_EXHAUSTED only when the whole table is full of live sessions.
  Result<IssuedSession> CreateSession(Session session);
  // `authorization` is the raw metadata value ("Bearer <token>").
  Result<Session> Authenticate(std::string_view authorization);
  void RevokeDevice(ByteView device_id);

  // What the challenge table holds (live or expired and not yet purged), and how many address
  // prefixes it tracks for the cap: never more than kMaxPeerKeys per challenge.
  size_t challenge_count();
  size_t tracked_prefixes();
  size_t session_count();

 private:
  static constexpr size_t kChallengesPerDevice = 4;
  struct Entry;
  // One address prefix (a key of KeysOfPeer) that holds challenges; forgotten with its last.
  // Its challenges are linked through their entries (Entry::older/newer), oldest first.
  struct Prefix {
    Entry* oldest = nullptr;
    Entry* newest = nullptr;
    size_t count = 0;
    int64_t logged_ms = 0;  // last event, if ever_logged
    bool ever_logged = false;
    uint64_t unlogged_retired = 0;
  };
  using Prefixes = std::map<std::string, Prefix>;
  // (expiry on steady_, sequence number of issue) -> a view of the challenge's key in
  // challenges_.
  using ByExpiry = std::map<std::pair<int64_t, uint64_t>, const Bytes*>;
  struct Entry {
    const Bytes* challenge = nullptr;  // its key in challenges_
    // The device id, followed (with the cap on) by the caller's narrowest prefix key: the key
    // of the device's group in challenges_of_device_.
    Bytes group;
    int64_t expires_at_ms = 0;  // on steady_
    ByExpiry::iterator by_expiry;
    size_t prefix_count = 0;  // 0 without the cap
    std::array<Prefixes::iterator, kMaxPeerKeys> prefix;
    std::array<Entry*, kMaxPeerKeys> older{};  // in prefix[i], nullptr for its oldest
    std::array<Entry*, kMaxPeerKeys> newer{};
  };
  using Challenges = std::map<Bytes, Entry>;  // challenge -> its entry; nodes never move
  // A device's outstanding challenges (with the cap on: those issued to one narrowest prefix),
  // oldest first (a few, for parallel sign-ins of one device); views of challenges_' keys.
  struct DeviceChallenges {
    std::array<const Bytes*, kChallengesPerDevice> oldest_first{};
    size_t count = 0;
  };

  static Options InRange(Options o);
  void PurgeExpiredChallengesLocked(int64_t now);
  // Drops the sessions that ended by `now`: costs only what it removes.
  void PurgeExpiredSessionsLocked(int64_t now);
  struct HeldSession {
    Session session;
    uint64_t issued = 0;  // sequence number of issue (sessions_issued_)
  };
  using Sessions = std::map<Bytes, HeldSession>;  // H(token) -> session
  void EraseSessionLocked(Sessions::iterator it);
  // Removes the challenge from every index: table, expiry order, its device's and prefixes'.
  void EraseChallengeLocked(Challenges::iterator it);
  void ForgetChallengeLocked(const Bytes& group, const Bytes* challenge);

  const int64_t ttl_ms_;
  const Options options_;
  const NowFn now_;     // wall
  const NowFn steady_;  // challenge expiry, log interval
  std::mutex mu_;
  Challenges challenges_;
  // Every challenge by expiry, soonest first: purging the expired costs only what it removes.
  ByExpiry by_expiry_;
  uint64_t issued_ = 0;  // sequence numbers for by_expiry_
  // By Entry::group. Bounded by the table: a group is kept only while it holds a challenge.
  std::map<Bytes, DeviceChallenges> challenges_of_device_;
  Prefixes prefixes_;  // empty when challenges_per_address is 0
  Sessions sessions_;
  uint64_t sessions_issued_ = 0;
  // (expiry, H(token)) of every session, soonest first, and each device's sessions by issue,
  // oldest first: ending the expired ones, a device's oldest and a revoked device's all cost only
  // what they remove. A device is kept while it has a session.
  std::set<std::pair<int64_t, Bytes>> sessions_by_expiry_;
  std::map<Bytes, std::map<uint64_t, Bytes>> sessions_of_device_;
};

}  // namespace kring::server::auth
