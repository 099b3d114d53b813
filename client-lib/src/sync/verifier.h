// Verification of a pulled batch before anything of it is applied (DESIGN section 4):
// signed head, seq continuity and chain hashes, receipts, author device, per-device counters and
// previous-op hashes, seen heads, signatures, control-op rules, key commitments, decryption.
// Any failure yields an alarm and nothing of the batch is applied.
//
// Signatures: per-device hash links mean a valid signature on a device's newest op in the batch
// authenticates that device's earlier ops in it, so a cold sync checks one signature per device
// per batch instead of one per op.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kring/client.h"
#include "kring/common/protocol.h"
#include "kring/common/user_chain.h"
#include "kring/v1/local.pb.h"

#include "store/local_store.h"

namespace kring::client {

struct VerifyFailure {
  AlarmKind kind = AlarmKind::kTamper;
  uint64_t seq = 0;
  std::string detail;
  Bytes evidence;
};

struct VerifyContext {
  // record.state is taken by VerifyPull (see there): a catch-up carries a large state from page
  // to page, and copying it per page made a cold sync quadratic in the case size.
  CaseRecord record;
  std::map<Bytes, DeviceHead> device_heads;
  // This device's signed receipts by seq (may be null: none); not copied per page.
  const std::map<uint64_t, v1::Receipt>* receipts = nullptr;
  // What kringd answered to this device's pushes, by seq (may be null: none): the entry at each
  // such seq must be the op it named (sync/push_proof.h), else FORK.
  const std::multimap<uint64_t, SentOp>* push_results = nullptr;
  Bytes server_public_key;
  const v1::LocalAccount* me = nullptr;
  // Local log chain hash at a seq (nullopt when absent).
  std::function<Result<std::optional<Bytes>>(uint64_t)> chain_hash_at;
  // Verified chain of an account (loaded or fetched).
  std::function<Result<UserChain>(const Bytes&, bool refresh)> chain_of;
  // Optional: readies chain_of for these accounts at once (a cold sync meets every author in
  // its first page). Only a warm-up: chain_of is still asked in log order and decides.
  std::function<void(const std::vector<Bytes>&)> prefetch_chains;
  std::function<Result<std::optional<EpochKey>>(uint32_t, uint64_t)> epoch_key;
  // Re-folding this device's own verified log (after older epoch keys were learned through a
  // history back-link): there is no signed head to check.
  bool replay = false;
  // Checking an erased case's history (SyncEngine::AcceptErasure): the response holds the
  // control ops between the verified head and the erasure, and no head; the seqs between them are
  // content ops, of which the caller has only the envelope hashes and whose chain links it has
  // checked (chain_hash_at answers for every seq of the history). Each op's signature is checked
  // (a control op is always signed); a content op in the response is TAMPER.
  bool erased_history = false;
};

struct VerifyResult {
  std::optional<VerifyFailure> failure;
  AppliedBatch batch;  // valid only without failure
  Status error;        // a local problem (storage, network while fetching a chain): retry later
  // A history back-link gave keys of earlier epochs: ops before them can now be read, so the
  // log should be folded again (SyncEngine::Replay).
  bool learned_older_keys = false;
  // Authenticated ops whose content could not be read: reported, skipped, not halting.
  std::vector<VerifyFailure> complaints;
  // This device's own content ops of which a content rule refused a mutation as the log was
  // folded (model::ApplyContent's `refused`): seq and the rule's code. Not on a replay, which
  // folds ops told about before.
  std::vector<std::pair<uint64_t, std::string>> refused_own;
};

// The parsed envelopes of one page, by position: protocol::ParseEnvelopeInto of entry i into
// ops[i] when status[i] is ok. Meant to be kept from page to page (a catch-up alternates two):
// parsing into the messages that held an earlier page's headers reuses their strings, so a
// header costs no allocation per field. `ops` and `status` may hold more than `size` (a longer
// page before); only the first `size` are this page's.
struct ParsedPage {
  std::vector<protocol::ParsedOp> ops;
  std::vector<Status> status;
  size_t size = 0;
  // Set by ParseEntries, cleared by VerifyPull once it has used the page: a page handed on
  // without a new parse is never taken for the next response's.
  bool filled = false;
};

// Parses each entry of `response`, in order, on the calling thread into `page` (reusing what it
// holds): a sync parses and hashes the next page on the thread that pulled it, while the page
// before is checked and folded on this one (VerifyPull below takes the result).
void ParseEntries(const v1::PullResponse& response, ParsedPage& page);

// Folds the batch into ctx.record.state in place. Without failure or error the folded state is
// in the result's batch.state and ctx.record.state is left empty; otherwise ctx.record.state is
// handed back exactly as it was (a journal undoes a partly applied batch).
VerifyResult VerifyPull(VerifyContext& ctx, const v1::PullResponse& response);
// The same, moving the verified entries out of `response` instead of copying them. `parsed`
// (may be null): when filled, ParseEntries(response) (every check on it runs as on a page parsed
// here); otherwise the page is parsed into it. Either way it is left unfilled, to be reused,
// and nothing in the result points into it.
VerifyResult VerifyPull(VerifyContext& ctx, v1::PullResponse&& response,
                        ParsedPage* parsed = nullptr);
// The same for a response the caller keeps and writes from (a pulled page on its protobuf arena,
// where a move out would copy): the verified entries stay in `response`, batch.entries is empty.
VerifyResult VerifyPullInPlace(VerifyContext& ctx, const v1::PullResponse& response,
                               ParsedPage* parsed);

}  // namespace kring::client
