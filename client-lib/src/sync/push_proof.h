// Holding kringd to what it signed and answered (docs/protocol.md "Receipts"): the checks that
// tie this device's pushed envelopes and its receipts to the verified log, and the FORK evidence
// they leave. The verifier and the sync engine share them.
#pragma once

#include "kring/common/bytes.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/sync.pb.h"

#include "store/local_store.h"

namespace kring::client {

// Alarm details (no content; shown as they are, like the verifier's).
inline constexpr const char* kPushResultDiffers =
    "log differs from what the server answered to this device's push";
inline constexpr const char* kReceiptDiffersFromLog =
    "signed receipt differs from the verified log";
inline constexpr const char* kTwoReceipts = "server signed two different logs for one position";

// Whether the entry at the result's seq (with this chain hash, envelope hash and header) is the
// op kringd named: the envelope this device sent with the result's chain hash. A retried op
// (`duplicate`) is answered with the stored original, which may be an earlier sealing of the
// same intent: then this device's op with the same client_op_id stands for it.
bool MatchesSentOp(const SentOp& sent, ByteView chain_hash, ByteView envelope_hash,
                   const v1::OpHeader& header, ByteView my_device_id);

// FORK evidence: the push result (with its receipt), the hash of what was sent, the entry found
// at that seq and the signed head it was served under (null: from the local verified log).
Bytes SentOpEvidence(const SentOp& sent, const v1::LogEntry& entry, const v1::Receipt* head);
// FORK evidence: a signed receipt and the verified entry at its seq that contradicts it.
Bytes ReceiptEvidence(const v1::Receipt& receipt, const v1::LogEntry& entry);
// FORK evidence: two signed receipts for one (case, seq) with different chain hashes.
Bytes EquivocationEvidence(const v1::Receipt& first, const v1::Receipt& second);

}  // namespace kring::client
