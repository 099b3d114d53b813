// Encryption at rest for the local store: every secret and every plaintext record is sealed with
// a subkey of the host app's storage key. The label binds a record to its row, so a record cannot
// be moved to another row or case without detection.
#pragma once

#include <string_view>

#include "kring/common/bytes.h"
#include "kring/common/status.h"

namespace kring::client {

class AtRest {
 public:
  // storage_key must be 32 bytes.
  static Result<AtRest> FromStorageKey(ByteView storage_key);
  Bytes Seal(std::string_view label, ByteView plaintext) const;
  Result<SecretBytes> Open(std::string_view label, ByteView sealed) const;

 private:
  SecretBytes key_;
};

}  // namespace kring::client
