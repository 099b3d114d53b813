#include "sync/push_proof.h"

#include "kring/common/protocol.h"
#include "kring/v1/local.pb.h"

namespace kring::client {
namespace {

// The entry as evidence: hashes, ids and the signature, never its ciphertext or control body.
void SetEntry(const v1::LogEntry& entry, v1::ForkEntry& out) {
  out.set_seq(entry.seq());
  out.set_chain_hash(entry.chain_hash());
  out.set_envelope_hash(ToString(protocol::EnvelopeHash(entry.envelope())));
  out.set_header(entry.envelope().header());
  out.set_signature(entry.envelope().signature());
}

}  // namespace

bool MatchesSentOp(const SentOp& sent, ByteView chain_hash, ByteView envelope_hash,
                   const v1::OpHeader& header, ByteView my_device_id) {
  if (!ConstantTimeEqual(chain_hash, View(sent.result.chain_hash()))) return false;
  if (ConstantTimeEqual(envelope_hash, sent.envelope_hash)) return true;
  return sent.result.duplicate() &&
         ConstantTimeEqual(View(header.author_device_id()), my_device_id) &&
         ConstantTimeEqual(View(header.client_op_id()), sent.client_op_id);
}

Bytes SentOpEvidence(const SentOp& sent, const v1::LogEntry& entry, const v1::Receipt* head) {
  v1::ForkEvidence ev;
  *ev.add_receipts() = sent.result.receipt();
  *ev.mutable_push_result() = sent.result;
  ev.set_sent_envelope_hash(ToString(sent.envelope_hash));
  SetEntry(entry, *ev.mutable_entry());
  if (head != nullptr) *ev.mutable_head() = *head;
  return ToBytes(ev.SerializeAsString());
}

Bytes ReceiptEvidence(const v1::Receipt& receipt, const v1::LogEntry& entry) {
  v1::ForkEvidence ev;
  *ev.add_receipts() = receipt;
  SetEntry(entry, *ev.mutable_entry());
  return ToBytes(ev.SerializeAsString());
}

Bytes EquivocationEvidence(const v1::Receipt& first, const v1::Receipt& second) {
  v1::ForkEvidence ev;
  *ev.add_receipts() = first;
  *ev.add_receipts() = second;
  return ToBytes(ev.SerializeAsString());
}

}  // namespace kring::client
