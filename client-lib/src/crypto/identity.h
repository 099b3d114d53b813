// Creating an account: device keys, the user chain Root, user key generation 1 and the recovery
// key. Also the user-key derivations every device uses.
#pragma once

#include <string>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/status.h"
#include "kring/v1/account.pb.h"
#include "kring/v1/local.pb.h"

namespace kring::client::identity {

struct CreatedAccount {
  v1::LocalAccount local;    // secrets; stored encrypted
  v1::ChainLink root;        // published to kringd
  SecretBytes recovery_key;  // 32 bytes; shown once, never stored
};

CreatedAccount CreateAccount(int64_t now_ms);

// Key pairs derived from a user key seed (crypto_kdf context "kringuk_").
crypto::BoxKeyPair UserBoxKeyPair(ByteView seed);
crypto::SigningKeyPair UserSigningKeyPair(ByteView seed);
// Key pairs of the recovery "paper device" (crypto_kdf context "kringrec").
crypto::BoxKeyPair RecoveryBoxKeyPair(ByteView recovery_key);
crypto::SigningKeyPair RecoverySigningKeyPair(ByteView recovery_key);

// Recovery key as text: 64 hex digits in groups of 4, for writing down.
std::string FormatRecoveryKey(ByteView key);

}  // namespace kring::client::identity
