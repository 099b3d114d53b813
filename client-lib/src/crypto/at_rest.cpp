#include "crypto/at_rest.h"

#include "kring/common/crypto.h"

namespace kring::client {
namespace {
Bytes LabelAd(std::string_view label) {
  return crypto::Hasher("kring-local-record-v1").Add(label).Finish();
}
}  // namespace

Result<AtRest> AtRest::FromStorageKey(ByteView storage_key) {
  if (storage_key.size() != crypto::kKeyBytes) {
    return InvalidArgument("storage key must be 32 bytes");
  }
  AtRest r;
  r.key_ = crypto::DeriveKey(storage_key, 1, "kringsto");
  return r;
}

Bytes AtRest::Seal(std::string_view label, ByteView plaintext) const {
  Bytes nonce = crypto::RandomBytes(crypto::kNonceBytes);
  Bytes ct = crypto::AeadEncrypt(key_, nonce, plaintext, LabelAd(label));
  nonce.insert(nonce.end(), ct.begin(), ct.end());
  return nonce;
}

Result<SecretBytes> AtRest::Open(std::string_view label, ByteView sealed) const {
  if (sealed.size() < crypto::kNonceBytes + crypto::kAeadOverhead) {
    return DataLoss("local record is truncated");
  }
  auto r = crypto::AeadDecrypt(key_, sealed.first(crypto::kNonceBytes),
                               sealed.subspan(crypto::kNonceBytes), LabelAd(label));
  if (!r.ok()) return DataLoss("local record does not open with the storage key");
  return r;
}

}  // namespace kring::client
