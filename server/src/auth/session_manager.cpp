#include "auth/session_manager.h"

#include <chrono>

#include "kring/common/crypto.h"

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

void SessionManager::ForgetChallengeLocked(const Bytes& device, const Bytes& challenge) {
  auto it = challenges_of_device_.find(device);
  if (it == challenges_of_device_.end()) return;
  auto& list = it->second;
  for (auto c = list.begin(); c != list.end(); ++c) {
    if (*c == challenge) {
      list.erase(c);
      break;
    }
  }
  if (list.empty()) challenges_of_device_.erase(it);
}

void SessionManager::PurgeExpiredLocked(int64_t now) {
  for (auto it = challenges_.begin(); it != challenges_.end();) {
    if (it->second.second <= now) {
      ForgetChallengeLocked(it->second.first, it->first);
      it = challenges_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires_at_ms <= now ? sessions_.erase(it) : std::next(it);
  }
}

Result<Challenge> SessionManager::IssueChallenge(ByteView device_id) {
  if (device_id.size() != crypto::kIdBytes) return InvalidArgument("device_id must be 16 bytes");
  int64_t now = NowMs();
  Challenge c{crypto::RandomBytes(32), now + kChallengeTtlMs};
  Bytes device(device_id.begin(), device_id.end());
  std::lock_guard<std::mutex> lock(mu_);
  // A device holds at most a few outstanding challenges; a new one retires the oldest, so one
  // device cannot fill the table.
  std::deque<Bytes>& mine = challenges_of_device_[device];
  if (mine.size() >= kChallengesPerDevice) {
    challenges_.erase(mine.front());
    mine.pop_front();
  }
  if (challenges_.size() >= kMaxChallenges) PurgeExpiredLocked(now);
  if (challenges_.size() >= kMaxChallenges) {
    return Status(StatusCode::kResourceExhausted, "too many outstanding challenges");
  }
  challenges_[c.challenge] = {device, c.expires_at_ms};
  mine.push_back(c.challenge);
  return c;
}

Status SessionManager::ConsumeChallenge(ByteView device_id, ByteView challenge) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = challenges_.find(Bytes(challenge.begin(), challenge.end()));
  if (it == challenges_.end()) return Unauthenticated("unknown or used challenge");
  auto [owner, expiry] = std::move(it->second);
  ForgetChallengeLocked(owner, it->first);
  challenges_.erase(it);
  if (expiry <= NowMs()) return Unauthenticated("challenge expired");
  if (owner != Bytes(device_id.begin(), device_id.end())) {
    return Unauthenticated("challenge was issued to another device");
  }
  return {};
}

Result<IssuedSession> SessionManager::CreateSession(Session session) {
  int64_t now = NowMs();
  Bytes raw = crypto::RandomBytes(kTokenBytes);
  IssuedSession issued{Hex(raw), now + ttl_ms_};
  session.expires_at_ms = issued.expires_at_ms;
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= kMaxSessions) PurgeExpiredLocked(now);
  if (sessions_.size() >= kMaxSessions) {
    return Status(StatusCode::kResourceExhausted, "too many sessions");
  }
  sessions_[TokenHash(View(issued.token))] = std::move(session);
  return issued;
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
  if (it->second.expires_at_ms <= NowMs()) {
    sessions_.erase(it);
    return Unauthenticated("session expired");
  }
  return it->second;
}

void SessionManager::RevokeDevice(ByteView device_id) {
  Bytes id(device_id.begin(), device_id.end());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.device_id == id ? sessions_.erase(it) : std::next(it);
  }
}

}  // namespace kring::server::auth
