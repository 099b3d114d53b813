// The server's append rules for a case log (DESIGN section 4), written against StoreTxn so every
// storage backend enforces exactly the same checks. No gRPC here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/arena.h>

#include "kring/common/bytes.h"
#include "kring/common/protocol.h"
#include "kring/common/status.h"
#include "kring/v1/sync.pb.h"

#include "storage/store.h"

namespace kring::server {

struct Author {
  Bytes device_id;
  Bytes account_id;
  Bytes signing_public_key;
};

// A pushed envelope's fields as protocol::ParseEnvelopeInto parsed and checked them. The header
// and control body are on the request's arena, like the envelope itself: parsed on the heap,
// each header field was a string object allocated and freed per op.
class PushedOp {
 public:
  explicit PushedOp(google::protobuf::Arena* arena);
  const v1::OpHeader& header() const { return *header_; }
  const v1::ControlBody& control() const { return *control_; }
  protocol::ParsedOpFields fields() { return {*header_, *control_, digest, envelope_hash}; }

  Bytes digest;
  Bytes envelope_hash;

 private:
  // Without an arena (not kringd's gRPC path) the messages are owned here.
  std::unique_ptr<v1::OpHeader> owned_header_;
  std::unique_ptr<v1::ControlBody> owned_control_;
  v1::OpHeader* header_ = nullptr;
  v1::ControlBody* control_ = nullptr;
};

// Parsing and signature checks are done before the batch reaches the writer thread (they are the
// expensive part); their outcomes are applied in order inside the transaction, so the first
// failing envelope is the one reported.
struct PreparedEnvelope {
  // Without its own copy of the envelope: `envelope` (and the parsed header) point into the
  // request, which the caller keeps alive until the push is answered.
  Result<PushedOp> parsed = Status(StatusCode::kInternal, "not prepared");
  const v1::Envelope* envelope = nullptr;
  // The envelope as stored, serialized here on the gRPC thread so the single writer thread only
  // inserts it. The hashes cover the envelope's fields, not this encoding. On the request's arena,
  // all of a push's envelopes in one buffer (a heap string each was an allocation per op); in
  // `owned` without an arena.
  std::string_view serialized;
  std::unique_ptr<std::string> owned;
  bool is_signed = false;     // false: an op of an unsigned run (only content ops may be)
  bool signature_ok = false;  // signed, and the signature verifies
};

std::vector<PreparedEnvelope> PrepareEnvelopes(const v1::PushRequest& request,
                                               const Author& author);

// What the receipt of a push covers: its highest seq (results come in seq order). Signed after
// the commit, off the writer thread (receipt_signer.h).
struct ReceiptInput {
  uint64_t seq = 0;
  Bytes chain_hash;
  int64_t time_ms = 0;  // when the op at `seq` was received
};

// One op's result, kept plain until the answer: a PushResult built on the writer thread was a heap
// message copied into the response's arena.
struct OpResult {
  uint64_t seq = 0;
  Bytes chain_hash;
  int64_t time_ms = 0;  // when the op was received
  bool duplicate = false;
};

struct PushOutcome {
  std::vector<OpResult> results;  // in the push's order
  ReceiptInput receipt;
  uint64_t head_seq = 0;
  bool appended = false;  // at least one new op
  // Accounts to poke after commit; shared with the writer's case cache (not copied per push).
  std::shared_ptr<const std::vector<Bytes>> members;
  // Accounts this push removed (RemoveMember, also leaving), each with its removal's seq: poked
  // with that seq, not the head.
  std::vector<std::pair<Bytes, uint64_t>> removed;
  std::string erase_trigger;  // serialized LogEntry of an EraseCase: the case is gone
};

// Deletes closed cases whose retention ended by now_ms (at most `limit` per call), keeping a
// tombstone with the CloseCase op. Stops after the case that brings the ops it erased to
// `max_ops` (at least one case is erased when one is due): one writer transaction erases a bounded
// log. Returns how many were deleted; a case whose close op cannot be read is skipped (logged).
Result<size_t> SweepRetention(storage::StoreTxn& txn, int64_t now_ms, uint32_t limit,
                              uint64_t max_ops);

// Checks and appends the whole batch inside the caller's savepoint. On error the caller must
// roll back; the message names the failing envelope ("envelope 2: stale epoch").
Status ApplyPush(storage::StoreTxn& txn, const Author& author, ByteView case_id,
                 const std::vector<PreparedEnvelope>& batch, int64_t now_ms, PushOutcome& out);

}  // namespace kring::server
