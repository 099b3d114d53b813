// Creating an account: device keys, the user chain Root, user key generation 1 and the recovery
// key. Also the user-key derivations every device uses.
#pragma once

#include <map>
#include <string>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/status.h"
#include "kring/common/user_chain.h"
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
// The recovery key typed back (groups, spaces, dashes and case ignored): 32 bytes, or an error.
Result<SecretBytes> ParseRecoveryKey(const std::string& text);

// Fresh device keys for a device joining an account (linked or restored); no account yet.
v1::LocalAccount NewDeviceKeys();
crypto::BoxKeyPair DeviceBoxKeyPair(const v1::LocalAccount& account);

// Every user key seed in the chain sealed to `recipient_id`, by generation. A seed counts only
// when its derived public key is that generation's (AddDevice links carry seeds of any
// generation, found by that match).
std::map<uint32_t, SecretBytes> OpenUserKeySeeds(const UserChain& chain, ByteView recipient_id,
                                                 const crypto::BoxKeyPair& keys);

// A link body signed by `signer` (and by the new device for AddDevice), continuing `chain`.
v1::ChainLink SignLink(const UserChain& chain, const v1::LinkBody& body_template,
                       ByteView signer_device_id, ByteView signer_secret_key,
                       ByteView new_device_secret_key = {});

}  // namespace kring::client::identity
