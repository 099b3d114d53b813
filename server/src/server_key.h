// The server's Ed25519 identity: receipts and signed heads are made with it, so it must survive
// restarts (clients pin server_id). Created on first start in the data dir.
//
// File format of <data-dir>/server_key: exactly 64 raw bytes, the libsodium Ed25519 secret key
// (32-byte seed followed by the 32-byte public key), mode 0600.
#pragma once

#include <string>

#include "kring/common/bytes.h"
#include "kring/common/status.h"

namespace kring::server {

inline constexpr const char* kServerKeyFileName = "server_key";

struct ServerKey {
  Bytes public_key;
  SecretBytes secret_key;
  Bytes server_id;
};

// Loads <data_dir>/server_key, creating it (O_EXCL, 0600, fsync) when it does not exist.
Result<ServerKey> LoadOrCreateServerKey(const std::string& data_dir);

}  // namespace kring::server
