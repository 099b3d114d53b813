#include "crypto/at_rest.h"

#include <algorithm>

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
  // One buffer, nonce then ciphertext, without a copy of the ciphertext (a case's state, which is
  // megabytes, is sealed in place instead: SealInPlace).
  Bytes sealed(crypto::kNonceBytes + plaintext.size() + crypto::kAeadOverhead);
  const Bytes nonce = crypto::RandomBytes(crypto::kNonceBytes);
  std::copy(nonce.begin(), nonce.end(), sealed.begin());
  crypto::AeadEncryptInto(key_, nonce, plaintext, LabelAd(label),
                          std::span<uint8_t>(sealed).subspan(crypto::kNonceBytes));
  return sealed;
}

Bytes AtRest::SealInPlace(std::string_view label, Bytes record) const {
  KRING_CHECK(record.size() >= kSealFront + kSealBack);
  try {
    const Bytes nonce = crypto::RandomBytes(crypto::kNonceBytes);
    std::copy(nonce.begin(), nonce.end(), record.begin());
    const std::span<uint8_t> body = std::span<uint8_t>(record).subspan(kSealFront);
    crypto::AeadEncryptInto(key_, nonce, body.first(body.size() - kSealBack), LabelAd(label), body);
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
