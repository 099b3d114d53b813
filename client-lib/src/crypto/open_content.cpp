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
  out.outcome = OpenContentInto(env, keys, out.content);
  return out;
}

OpenedContent::Outcome OpenContentInto(const v1::Envelope& env, const EpochSubkeys& keys,
                                       v1::ContentOp& out) {
  if (!ConstantTimeEqual(protocol::OpKeyCommitmentWithSubkey(keys.commitment, View(env.nonce())),
                         View(env.key_commitment()))) {
    return OpenedContent::Outcome::kCommitment;
  }
  auto plain = crypto::AeadDecrypt(keys.content, View(env.nonce()), View(env.ciphertext()),
                                   protocol::AssociatedData(View(env.header()), {}));
  if (!plain.ok()) return OpenedContent::Outcome::kDecrypt;
  // Parsed where it was decrypted: a copy without the padding would be one more allocation per
  // op of a catch-up.
  auto len = crypto::UnpaddedSize(plain.value(), protocol::kPaddingBlock);
  if (!len.ok() || !out.ParseFromArray(plain->data(), static_cast<int>(len.value()))) {
    return OpenedContent::Outcome::kMalformed;
  }
  return OpenedContent::Outcome::kOk;
}

}  // namespace kring::client
