#include "crypto/identity.h"

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
