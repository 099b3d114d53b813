// What the services share. Owned by Server; outlives every RPC.
#pragma once

#include <memory>

#include "auth/session_manager.h"
#include "pokes.h"
#include "receipt_signer.h"
#include "server_key.h"
#include "storage/store.h"

namespace kring::server {

struct ServerState {
  ServerState(ServerKey k, std::unique_ptr<storage::Store> s, int64_t session_ttl_seconds)
      : key(std::move(k)),
        store(std::move(s)),
        sessions(session_ttl_seconds),
        receipts(key.secret_key) {}
  ServerKey key;
  std::unique_ptr<storage::Store> store;
  auth::SessionManager sessions;
  PokeHub pokes;
  ReceiptSigner receipts;  // signs with key.secret_key, declared above
};

}  // namespace kring::server
