// The deterministic reducer: folds verified ops, in server order, into a CaseState. The same log
// gives the same state on every device. Invalid mutations have no effect (they are skipped, never
// partially applied), so an op the server wrongly accepted changes nothing.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/model.pb.h"

namespace kring::client::model {

inline constexpr size_t kMaxTypeBytes = 64;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr size_t kMaxValueBytes = 64 * 1024;
inline constexpr size_t kMaxMutationsPerOp = 256;
inline constexpr size_t kMaxComplaintsKept = 100;
// FieldState.source_op_digest_lo/hi: the first bytes of the op's digest, as many as the stored
// state's value digests have.
inline constexpr size_t kSourceDigestBytes = 16;
// A text or blob this long gets a source (FieldState.source_mutation): the local store leaves
// such values out of its sealed state (store/stored_state.h); a shorter one needs none.
inline constexpr size_t kMinSourcedValueBytes = 128;

// A field added here is set in BatchVerifier::SetFoldContext too (its structured binding stops
// the build until it is).
struct OpContext {
  uint64_t seq = 0;  // 0 for a pending intent in the optimistic view
  Bytes author_account_id;
  Bytes client_op_id;
  uint32_t scope_id = 0;  // the scope the op was sealed to
  // True only for an op protobuf's parser has read (a catch-up's opened ops): proto3 refuses a
  // string field that is not UTF-8 there, so the fold does not check every name and text again.
  bool utf8_checked = false;
  // The digest of the verified log op being folded (protocol::OpDigest), else empty: its first
  // 16 bytes and the SetField's index go into FieldState's source (SetSource).
  ByteView op_digest{};
};

// Control ops change members, epochs and commitments. Their permission rules are checked by the
// verifier (CheckControlPermission) before they are applied.
void ApplyControl(v1::CaseState& state, const v1::OpHeader& header, const v1::ControlBody& body,
                  uint64_t seq);
// The same rules kringd enforces, so an op the server wrongly accepted still has no effect: OK
// when allowed, else the refusal with kringd's reason key for the same rule
// (kring/common/refusal.h), so the device's own refusals (at queue time and when a queued change
// is sealed) are explained in the user's language like kringd's. Its status code: a SetRole's
// as kringd's, FAILED_PRECONDITION for a closed case, else PERMISSION_DENIED. The English message
// is what a verifier's alarm says. Malformed ops (which a correct client never makes) carry no
// reason, as at kringd.
Status CheckControlPermission(const v1::CaseState& state, ByteView author_account_id,
                              const v1::ControlBody& body);
// `refused` (may be null): set to the code of the first content rule that refused one of the
// op's mutations (CheckContentRule), so its author can be told; left as it was when none did.
void ApplyContent(v1::CaseState& state, const v1::ContentOp& op, const OpContext& ctx,
                  std::string* refused = nullptr);
// The same, moving the op's values and created entities' ids into the state instead of copying
// them (`op` is left with those empty).
void ApplyContent(v1::CaseState& state, v1::ContentOp&& op, const OpContext& ctx,
                  std::string* refused = nullptr);

// FieldState's source: `digest16` the first kSourceDigestBytes of the op's digest, `mutation` the
// SetField's index in the op.
void SetSource(v1::FieldState& f, ByteView digest16, uint32_t mutation);
// The digest bytes SetSource put in (meaningful when f.source_mutation() != 0).
std::array<uint8_t, kSourceDigestBytes> SourceDigest(const v1::FieldState& f);
// Whether a conflict is one to show: not resolved, and the two values differ (two people who
// wrote the same value disagree about nothing). domain::ShowsAsConflict.
bool OpenConflict(const v1::Conflict& c);
// How many of the state's conflicts from index `first` on are open (OpenConflict) on an item the
// state has: those a fold since the state had `first` conflicts made (they are only appended).
// `own`, when given: how many of those have both values written by `account` (on two of its
// devices), not by two people.
size_t OpenConflictsFrom(const v1::CaseState& state, int first, ByteView account = {},
                         size_t* own = nullptr);

// Clears every field's source: they are the local store's bookkeeping, and a state an app or the
// CLI reads (View, ConfirmedView, `kring case show`) must not show them.
void ClearSources(v1::CaseState& state);

// Shape checks for one mutation (ids, sizes). Used to reject bad input before it is queued.
Status ValidateMutation(const v1::Mutation& m);

const v1::Member* FindMember(const v1::CaseState& state, ByteView account_id);
// The account was a member and was removed or left (CaseState.removed_account_ids), whether or
// not it was added again since.
bool WasRemoved(const v1::CaseState& state, ByteView account_id);
// The account's entry in the pending members (an acceptance waiting for approval), if any.
const v1::Member* FindPending(const v1::CaseState& state, ByteView account_id);
// The entity a mutation changes; nullptr for CreateEntity (a new one) and an empty mutation.
const std::string* MutatedEntityId(const v1::Mutation& m);
// An entity's key in CaseState.entities (HexOfPublic of its 16-byte id) in a buffer of its own,
// to look the entity up without allocating a string (protobuf's string-keyed maps take a
// string_view). `id` must be 16 bytes.
class EntityKey {
 public:
  explicit EntityKey(ByteView id);
  std::string_view view() const { return {digits_.data(), digits_.size()}; }

 private:
  std::array<char, 32> digits_;
};
// "scope:epoch", the key of CaseState.unreadable_epochs.
std::string EpochLabel(uint32_t scope_id, uint64_t epoch);
// "scope:hex device id", the key of CaseState.revocation_rekeys.
std::string RevocationLabel(uint32_t scope_id, ByteView device_id);
// Whether `field` was written earlier in the op `ctx` describes: its revision, seq and author all
// match. The client_op_id alone proves nothing: its author chooses it (kringd only keeps it unique
// per device) and every member sees the headers, so a raw op could copy another op's id. A
// confirmed op's seq is its own; pending ops (seq 0) are only this device's.
bool WrittenInOp(const v1::FieldState& field, const OpContext& ctx);
// Whether the account may read scope `scope_id` (0: any member).
bool InScope(const v1::CaseState& state, uint32_t scope_id, ByteView account_id);
// Whether a new entity with this (16-byte) id may be created in scope `scope_id` given the scopes
// in `state`: the id's first 4 bytes (big-endian) are the scope id for a restricted scope, and
// for scope 0 are no id of a scope in the state. Without this rule a member of a scope could
// create that scope's entity again in scope 0 and the two groups' views would diverge.
bool EntityIdFitsScope(const v1::CaseState& state, uint32_t scope_id, std::string_view entity_id);

// The public body a queued control change becomes (the same oneof case).
v1::ControlBody ControlBodyOf(const v1::ControlIntent& intent);

}  // namespace kring::client::model
