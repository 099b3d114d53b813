#include "crypto/identity.h"

#include <optional>

#include "kring/common/protocol.h"

namespace kring::client::identity {

crypto::BoxKeyPair UserBoxKeyPair(ByteView seed) {
  return crypto::BoxKeyPairFromSeed(crypto::DeriveKey(seed, 1, "kringuk_"));
}
crypto::SigningKeyPair UserSigningKeyPair(ByteView seed) {
  return crypto::SigningKeyPairFromSeed(crypto::DeriveKey(seed, 2, "kringuk_"));
}
crypto::BoxKeyPair RecoveryBoxKeyPair(ByteView recovery_key) {
  return crypto::BoxKeyPairFromSeed(crypto::DeriveKey(recovery_key, 1, "kringrec"));
}
crypto::SigningKeyPair RecoverySigningKeyPair(ByteView recovery_key) {
  return crypto::SigningKeyPairFromSeed(crypto::DeriveKey(recovery_key, 2, "kringrec"));
}

std::string FormatRecoveryKey(ByteView key) {
  std::string hex = Hex(key);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 4) {
    if (!out.empty()) out += '-';
    out += hex.substr(i, 4);
  }
  return out;
}

Result<SecretBytes> ParseRecoveryKey(const std::string& text) {
  if (text.size() > 256) return InvalidArgument("this is not a recovery key");
  std::string hex;
  for (char c : text) {
    if (c == '-' || c == ' ' || c == '\n' || c == '\t') continue;
    hex += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  auto bytes = FromHex(hex);
  if (!bytes || bytes->size() != crypto::kKeyBytes) {
    if (bytes) WipeMemory(bytes->data(), bytes->size());
    WipeMemory(hex.data(), hex.size());
    return InvalidArgument("this is not a recovery key (64 hex digits)");
  }
  SecretBytes key(bytes->begin(), bytes->end());
  WipeMemory(bytes->data(), bytes->size());
  WipeMemory(hex.data(), hex.size());
  return key;
}

v1::LocalAccount NewDeviceKeys() {
  crypto::SigningKeyPair sign = crypto::NewSigningKeyPair();
  crypto::BoxKeyPair box = crypto::NewBoxKeyPair();
  v1::LocalAccount local;
  local.set_device_id(ToString(protocol::DeviceId(sign.public_key)));
  local.set_device_signing_public_key(ToString(sign.public_key));
  local.set_device_signing_secret_key(ToString(sign.secret_key));
  local.set_device_box_public_key(ToString(box.public_key));
  local.set_device_box_secret_key(ToString(box.secret_key));
  return local;
}

crypto::BoxKeyPair DeviceBoxKeyPair(const v1::LocalAccount& account) {
  crypto::BoxKeyPair keys;
  keys.public_key = ToBytes(account.device_box_public_key());
  keys.secret_key =
      SecretBytes(account.device_box_secret_key().begin(), account.device_box_secret_key().end());
  return keys;
}

std::map<uint32_t, SecretBytes> OpenUserKeySeeds(const UserChain& chain, ByteView recipient_id,
                                                 const crypto::BoxKeyPair& keys) {
  std::map<uint32_t, Bytes> public_keys;  // generation -> box public key
  std::map<uint32_t, SecretBytes> out;
  auto try_open = [&](const v1::SealedSeed& s, std::optional<uint32_t> generation) {
    if (!ConstantTimeEqual(View(s.recipient_id()), recipient_id)) return;
    auto seed = crypto::SealOpen(keys, View(s.sealed()));
    if (!seed.ok() || seed->size() != crypto::kKeyBytes) return;
    Bytes derived = UserBoxKeyPair(*seed).public_key;
    for (const auto& [gen, pk] : public_keys) {
      if ((!generation || *generation == gen) && ConstantTimeEqual(derived, pk)) {
        out[gen] = *seed;
      }
    }
  };
  for (const v1::ChainLink& link : chain.links) {
    v1::LinkBody body;
    if (!body.ParseFromString(link.body())) continue;  // verified chains always parse
    const v1::UserKeyGeneration* uk = nullptr;
    if (body.has_root()) uk = &body.root().user_key();
    if (body.has_rotate_user_key()) uk = &body.rotate_user_key().user_key();
    if (uk != nullptr) {
      public_keys[uk->generation()] = ToBytes(uk->box_public_key());
      for (const auto& s : uk->sealed_seeds()) try_open(s, uk->generation());
    }
    if (body.has_add_device()) {
      for (const auto& s : body.add_device().sealed_seeds()) try_open(s, std::nullopt);
    }
  }
  return out;
}

v1::ChainLink SignLink(const UserChain& chain, const v1::LinkBody& body_template,
                       ByteView signer_device_id, ByteView signer_secret_key,
                       ByteView new_device_secret_key) {
  v1::LinkBody body = body_template;
  body.set_version(1);
  body.set_index(chain.length);
  body.set_prev_link_hash(ToString(chain.head_hash));
  body.set_signer_device_id(ToString(signer_device_id));
  v1::ChainLink link;
  link.set_body(body.SerializeAsString());
  Bytes input = protocol::LinkSignInput(View(link.body()));
  link.set_signature(ToString(crypto::Sign(signer_secret_key, input)));
  if (!new_device_secret_key.empty()) {
    link.set_new_device_signature(ToString(crypto::Sign(new_device_secret_key, input)));
  }
  return link;
}

CreatedAccount CreateAccount(int64_t now_ms) {
  CreatedAccount out;
  crypto::SigningKeyPair dev_sign = crypto::NewSigningKeyPair();
  crypto::BoxKeyPair dev_box = crypto::NewBoxKeyPair();
  Bytes device_id = protocol::DeviceId(dev_sign.public_key);
  out.recovery_key = crypto::RandomSecret(crypto::kKeyBytes);
  crypto::SigningKeyPair rec_sign = RecoverySigningKeyPair(out.recovery_key);
  crypto::BoxKeyPair rec_box = RecoveryBoxKeyPair(out.recovery_key);
  SecretBytes uk_seed = crypto::RandomSecret(crypto::kKeyBytes);
  crypto::BoxKeyPair uk_box = UserBoxKeyPair(uk_seed);
  crypto::SigningKeyPair uk_sign = UserSigningKeyPair(uk_seed);

  v1::LinkBody body;
  body.set_version(1);
  body.set_index(0);
  body.set_signer_device_id(ToString(device_id));
  body.set_created_at_ms(now_ms);
  v1::RootLink* root = body.mutable_root();
  root->mutable_device()->set_signing_public_key(ToString(dev_sign.public_key));
  root->mutable_device()->set_box_public_key(ToString(dev_box.public_key));
  root->mutable_recovery()->set_signing_public_key(ToString(rec_sign.public_key));
  root->mutable_recovery()->set_box_public_key(ToString(rec_box.public_key));
  v1::UserKeyGeneration* uk = root->mutable_user_key();
  uk->set_generation(1);
  uk->set_box_public_key(ToString(uk_box.public_key));
  uk->set_signing_public_key(ToString(uk_sign.public_key));
  v1::SealedSeed* to_device = uk->add_sealed_seeds();
  to_device->set_recipient_id(ToString(device_id));
  to_device->set_sealed(ToString(crypto::Seal(dev_box.public_key, uk_seed)));
  v1::SealedSeed* to_recovery = uk->add_sealed_seeds();
  to_recovery->set_recipient_id(ToString(protocol::DeviceId(rec_sign.public_key)));
  to_recovery->set_sealed(ToString(crypto::Seal(rec_box.public_key, uk_seed)));

  std::string body_bytes = body.SerializeAsString();
  out.root.set_body(body_bytes);
  out.root.set_signature(
      ToString(crypto::Sign(dev_sign.secret_key, protocol::LinkSignInput(View(body_bytes)))));

  v1::LocalAccount& local = out.local;
  local.set_account_id(ToString(protocol::AccountId(protocol::LinkHash(View(body_bytes)))));
  local.set_device_id(ToString(device_id));
  local.set_device_signing_public_key(ToString(dev_sign.public_key));
  local.set_device_signing_secret_key(ToString(dev_sign.secret_key));
  local.set_device_box_public_key(ToString(dev_box.public_key));
  local.set_device_box_secret_key(ToString(dev_box.secret_key));
  v1::LocalUserKey* local_uk = local.add_user_keys();
  local_uk->set_generation(1);
  local_uk->set_seed(ToString(uk_seed));
  return out;
}

}  // namespace kring::client::identity
