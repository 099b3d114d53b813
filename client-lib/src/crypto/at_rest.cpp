#include "crypto/at_rest.h"

#include <algorithm>

namespace kring::client {
namespace {
Bytes LabelAd(std::string_view label) {
  return crypto::Hasher("kring-local-record-v1").Add(label).Finish();
}

// Writes a fresh nonce into the first kNonceBytes of `record` and the ciphertext of `plaintext`
// after it: `plaintext` lies outside `record` (Seal) or right after the nonce (SealInPlace).
void SealInto(ByteView key, std::string_view label, ByteView plaintext, std::span<uint8_t> record) {
  const Bytes nonce = crypto::RandomBytes(crypto::kNonceBytes);
  std::copy(nonce.begin(), nonce.end(), record.begin());
  crypto::AeadEncryptInto(key, nonce, plaintext, LabelAd(label),
                          record.subspan(crypto::kNonceBytes));
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
  // One buffer, nonce then ciphertext, without a copy of the ciphertext (a case's state, which is
  // megabytes, is sealed in place instead: SealInPlace).
  Bytes sealed(crypto::kNonceBytes + plaintext.size() + crypto::kAeadOverhead);
  SealInto(key_, label, plaintext, sealed);
  return sealed;
}

Bytes AtRest::SealInPlace(std::string_view label, Bytes record) const {
  KRING_CHECK(record.size() >= kSealFront + kSealBack);
  try {
    SealInto(key_, label,
             ByteView(record).subspan(kSealFront, record.size() - kSealFront - kSealBack), record);
  } catch (...) {
    // An allocation failed before the plaintext was encrypted over: it does not stay behind.
    WipeMemory(record.data(), record.size());
    throw;
  }
  return record;
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
