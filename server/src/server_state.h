// What the services share. Owned by Server; outlives every RPC.
#pragma once

#include <memory>

#include "auth/session_manager.h"
#include "pokes.h"
#include "rate_limiter.h"
#include "receipt_signer.h"
#include "server_key.h"
#include "storage/store.h"

namespace kring::server {

struct ServerState {
  ServerState(ServerKey k, std::unique_ptr<storage::Store> s, int64_t session_ttl_seconds,
              const RateLimiter::Options& unauthenticated_limit,
              const auth::SessionManager::Options& challenge_limit)
      : key(std::move(k)),
        receipts(key.secret_key),
        store(std::move(s)),
        sessions(session_ttl_seconds, challenge_limit),
        unauthenticated(unauthenticated_limit) {}
  // Declared in dependency order: the store goes first when destroyed, and draining its queued
  // writes completes pushes through `receipts` and `pokes`, which must still exist then.
  ServerKey key;
  PokeHub pokes;
  ReceiptSigner receipts;  // signs with key.secret_key
  std::unique_ptr<storage::Store> store;
  auth::SessionManager sessions;
  // Per address, for the RPCs that need no session (GetServerInfo, GetChallenge, SignIn,
  // PublishChain, GetChain with a recovery proof).
  RateLimiter unauthenticated;
};

}  // namespace kring::server
