#include "crypto/open_content.h"

#include <sodium.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring::client {

EpochSubkeys DeriveEpochSubkeys(ByteView epoch_key) {
  return {protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kContent),
          protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kCommitment)};
}

OpenedContent OpenContent(const v1::Envelope& env, const EpochSubkeys& keys) {
  OpenedContent out;
  out.outcome = OpenContentInto(env, keys, out.content);
  return out;
}

OpenedContent::Outcome OpenContentInto(const v1::Envelope& env, const EpochSubkeys& keys,
                                       v1::ContentOp& out) {
  if (!ConstantTimeEqual(protocol::OpKeyCommitmentArray(keys.commitment, View(env.nonce())),
                         View(env.key_commitment()))) {
    return OpenedContent::Outcome::kCommitment;
  }
  // crypto::AeadDecrypt, into a plaintext buffer of this thread's: a catch-up opens thousands of
  // ops on each core, and a buffer per op was an allocation, its zeroing and its freeing. The
  // buffer is wiped after every op, as a SecretBytes is when freed.
  thread_local SecretBytes plain;
  struct WipeAfter {
    SecretBytes& buffer;
    ~WipeAfter() { WipeMemory(buffer.data(), buffer.size()); }
  } wipe_after{plain};
  const ByteView nonce = View(env.nonce()), ciphertext = View(env.ciphertext());
  if (keys.content.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES ||
      nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return OpenedContent::Outcome::kDecrypt;
  }
  plain.resize(ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  const std::array<uint8_t, 32> ad = protocol::AssociatedDataArray(View(env.header()), {});
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &plain_len, nullptr, ciphertext.data(), ciphertext.size(), ad.data(),
          ad.size(), nonce.data(), keys.content.data()) != 0) {
    return OpenedContent::Outcome::kDecrypt;
  }
  // Parsed where it was decrypted: a copy without the padding would be one more allocation per
  // op of a catch-up.
  const ByteView opened(plain.data(), static_cast<size_t>(plain_len));
  auto len = crypto::UnpaddedSize(opened, protocol::kPaddingBlock);
  if (!len.ok() || !out.ParseFromArray(opened.data(), static_cast<int>(len.value()))) {
    return OpenedContent::Outcome::kMalformed;
  }
  return OpenedContent::Outcome::kOk;
}

}  // namespace kring::client
