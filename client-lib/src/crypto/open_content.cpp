#include "crypto/open_content.h"

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring::client {

EpochSubkeys DeriveEpochSubkeys(ByteView epoch_key) {
  SecretBytes commitment =
      protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kCommitment);
  crypto::HasherStart start = protocol::OpKeyCommitmentStart(commitment);
  return {protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kContent),
          std::move(commitment), std::move(start)};
}

OpenedContent OpenContent(const v1::Envelope& env, const EpochSubkeys& keys) {
  OpenedContent out;
  out.outcome = OpenContentInto(env, keys, out.content);
  return out;
}

OpenedContent::Outcome OpenContentInto(const v1::Envelope& env, const EpochSubkeys& keys,
                                       v1::ContentOp& out) {
  if (!ConstantTimeEqual(protocol::OpKeyCommitmentArray(keys.commitment_start, View(env.nonce())),
                         View(env.key_commitment()))) {
    return OpenedContent::Outcome::kCommitment;
  }
  // Decrypted into a plaintext buffer of this thread's: a catch-up opens thousands of ops on each
  // core, and a buffer per op was an allocation, its zeroing and its freeing. The buffer is wiped
  // after every op, as a SecretBytes is when freed.
  thread_local SecretBytes plain;
  struct WipeAfter {
    SecretBytes& buffer;
    ~WipeAfter() { WipeMemory(buffer.data(), buffer.size()); }
  } wipe_after{plain};
  const ByteView ciphertext = View(env.ciphertext());
  if (ciphertext.size() < crypto::kAeadOverhead) return OpenedContent::Outcome::kDecrypt;
  plain.resize(ciphertext.size() - crypto::kAeadOverhead);
  const std::array<uint8_t, crypto::kHashBytes> ad =
      protocol::AssociatedDataArray(View(env.header()), {});
  const Result<size_t> plain_len =
      crypto::AeadDecryptInto(keys.content, View(env.nonce()), ciphertext, ad, plain);
  if (!plain_len.ok()) return OpenedContent::Outcome::kDecrypt;
  // Parsed where it was decrypted: a copy without the padding would be one more allocation per
  // op of a catch-up.
  const ByteView opened(plain.data(), plain_len.value());
  auto len = crypto::UnpaddedSize(opened, protocol::kPaddingBlock);
  if (!len.ok() || !out.ParseFromArray(opened.data(), static_cast<int>(len.value()))) {
    return OpenedContent::Outcome::kMalformed;
  }
  return OpenedContent::Outcome::kOk;
}

}  // namespace kring::client
