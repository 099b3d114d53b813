// Encryption at rest for the local store: every secret and every plaintext record is sealed with
// a subkey of the host app's storage key. The label binds a record to its row, so a record cannot
// be moved to another row or case without detection.
#pragma once

#include <string_view>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/status.h"

namespace kring::client {

class AtRest {
 public:
  // storage_key must be 32 bytes.
  static Result<AtRest> FromStorageKey(ByteView storage_key);
  Bytes Seal(std::string_view label, ByteView plaintext) const;
  // Seal without a second buffer, for records of megabytes (a case's state): `record` holds
  // kSealFront free bytes, the plaintext, then kSealBack free bytes, and becomes what Seal would
  // return for that plaintext (nonce, then the ciphertext with its tag). No plaintext is left in
  // it, also when an allocation fails on the way (it is wiped, then the error goes on).
  static constexpr size_t kSealFront = crypto::kNonceBytes;
  static constexpr size_t kSealBack = crypto::kAeadOverhead;
  Bytes SealInPlace(std::string_view label, Bytes record) const;
  Result<SecretBytes> Open(std::string_view label, ByteView sealed) const;

 private:
  SecretBytes key_;
};

}  // namespace kring::client
