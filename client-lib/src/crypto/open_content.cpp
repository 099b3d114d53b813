#include "crypto/open_content.h"

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring::client {

EpochSubkeys DeriveEpochSubkeys(ByteView epoch_key) {
  return {protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kContent),
          protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kCommitment)};
}

OpenedContent OpenContent(const v1::Envelope& env, const EpochSubkeys& keys) {
  OpenedContent out;
  if (!ConstantTimeEqual(protocol::OpKeyCommitmentWithSubkey(keys.commitment, View(env.nonce())),
                         View(env.key_commitment()))) {
    out.outcome = OpenedContent::Outcome::kCommitment;
    return out;
  }
  auto plain = crypto::AeadDecrypt(keys.content, View(env.nonce()), View(env.ciphertext()),
                                   protocol::AssociatedData(View(env.header()), {}));
  if (!plain.ok()) {
    out.outcome = OpenedContent::Outcome::kDecrypt;
    return out;
  }
  // Parsed where it was decrypted: a copy without the padding would be one more allocation per
  // op of a catch-up.
  auto len = crypto::UnpaddedSize(plain.value(), protocol::kPaddingBlock);
  if (!len.ok() || !out.content.ParseFromArray(plain->data(), static_cast<int>(len.value()))) {
    out.outcome = OpenedContent::Outcome::kMalformed;
  }
  return out;
}

}  // namespace kring::client
