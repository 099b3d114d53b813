// Opening one content op of the log: key commitment, decryption, unpadding and parsing. The one
// place that does it, for the verifier (ops as they arrive) and the local store (values of the
// stored state that it keeps in the log only).
#pragma once

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/model.pb.h"

namespace kring::client {

// The two subkeys of an epoch key that every content op needs; derive them once per epoch.
struct EpochSubkeys {
  SecretBytes content;
  SecretBytes commitment;
  // The op key commitment's hasher with `commitment` absorbed (protocol::OpKeyCommitmentStart).
  crypto::HasherStart commitment_start;
};
EpochSubkeys DeriveEpochSubkeys(ByteView epoch_key);

// What opening a content op gave: its plaintext op, or why it is unreadable.
struct OpenedContent {
  enum class Outcome { kOk, kCommitment, kDecrypt, kMalformed };
  Outcome outcome = Outcome::kOk;
  v1::ContentOp content;
};

// A function of the envelope and the epoch's subkeys only (safe on any thread).
OpenedContent OpenContent(const v1::Envelope& env, const EpochSubkeys& keys);
// The same, parsed into `out`, which may live on a protobuf arena (a pulled page's: the page's
// opened ops are then freed at once, not message by message).
OpenedContent::Outcome OpenContentInto(const v1::Envelope& env, const EpochSubkeys& keys,
                                       v1::ContentOp& out);

}  // namespace kring::client
