// Sign-in challenges and session tokens, in memory only.
//
// Sessions end when kringd restarts: clients treat UNAUTHENTICATED as "sign in again" (a fresh
// challenge costs one round trip). Only BLAKE2b(token) is kept, and lookups go by that hash, so a
// presented token is never compared byte by byte with a stored secret.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "kring/common/bytes.h"
#include "kring/common/status.h"

namespace kring::server::auth {

struct Session {
  Bytes device_id;
  Bytes account_id;
  Bytes signing_public_key;  // of the device; device keys never change
  int64_t expires_at_ms = 0;
};

struct Challenge {
  Bytes challenge;
  int64_t expires_at_ms = 0;
};

struct IssuedSession {
  std::string token;  // hex of 32 random bytes; returned to the client once, never logged
  int64_t expires_at_ms = 0;
};

int64_t NowMs();

class SessionManager {
 public:
  static constexpr int64_t kChallengeTtlMs = 60'000;
  static constexpr size_t kMaxChallenges = 100'000;
  static constexpr size_t kMaxSessions = 1'000'000;

  explicit SessionManager(int64_t session_ttl_seconds) : ttl_ms_(session_ttl_seconds * 1000) {}

  // All methods are thread-safe.
  Result<Challenge> IssueChallenge(ByteView device_id);
  // Consumes the challenge whatever the outcome: a replay always fails.
  Status ConsumeChallenge(ByteView device_id, ByteView challenge);
  Result<IssuedSession> CreateSession(Session session);
  // `authorization` is the raw metadata value ("Bearer <token>").
  Result<Session> Authenticate(std::string_view authorization);
  void RevokeDevice(ByteView device_id);

 private:
  void PurgeExpiredLocked(int64_t now);

  const int64_t ttl_ms_;
  std::mutex mu_;
  void ForgetChallengeLocked(const Bytes& device, const Bytes& challenge);
  static constexpr size_t kChallengesPerDevice = 4;
  std::map<Bytes, std::pair<Bytes, int64_t>> challenges_;  // challenge -> (device_id, expiry)
  // Outstanding challenges per device, oldest first (a few, for parallel sign-ins of one device).
  std::map<Bytes, std::deque<Bytes>> challenges_of_device_;
  std::map<Bytes, Session> sessions_;  // H(token) -> session
};

}  // namespace kring::server::auth
