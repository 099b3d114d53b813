#include "push_state.h"

#include <algorithm>
#include <utility>

namespace kring::server {
namespace {

// map[key] = value without building a Bytes key when the entry is there (it is for every push
// but a member's or device's first in the case): that was two allocations per push.
template <typename Map, typename Value>
void Assign(Map& map, ByteView key, const Value& value) {
  auto it = map.find(key);
  if (it != map.end()) {
    it->second = value;
  } else {
    map.emplace(Bytes(key.begin(), key.end()), value);
  }
}

}  // namespace

PushState::PushState(storage::StoreTxn& txn, ByteView case_id, ByteView device_id,
                     ByteView account_id)
    : txn_(txn),
      case_id_(case_id),
      device_id_(device_id),
      account_id_(account_id),
      cache_(txn.case_cache()),
      cached_(cache_ != nullptr ? cache_->Find(case_id) : nullptr) {
  // ApplyPush's second pass: the first pass's head was rolled back with it.
  if (cache_ != nullptr) cache_->DropJobHead();
}

Result<std::optional<storage::CaseRecord>*> PushState::Case() {
  if (!kase_) {
    if (cached_ != nullptr) {
      kase_ = std::optional<storage::CaseRecord>(cached_->kase);
    } else {
      // Emplaced from the result itself: GCC 12 at -O2 takes a moved-from local optional for
      // uninitialized (a false -Wmaybe-uninitialized).
      Result<std::optional<storage::CaseRecord>> kase = txn_.GetCase(case_id_);
      if (!kase.ok()) return kase.status();
      kase_.emplace(std::move(*kase));
      // The tables' head is behind while the writer holds a newer one (case_cache.h).
      const storage::CaseHead* head =
          cache_ != nullptr && *kase_ ? cache_->UnwrittenHead(case_id_) : nullptr;
      if (head != nullptr) {
        (*kase_)->head_seq = head->seq;
        (*kase_)->head_hash = head->hash;
      }
    }
  }
  return &*kase_;
}

Result<std::optional<int>> PushState::AuthorRole() {
  if (!role_ && cached_ != nullptr) {
    auto it = cached_->roles.find(account_id_);
    if (it != cached_->roles.end()) role_ = it->second;
  }
  if (!role_) {
    KRING_ASSIGN_OR_RETURN(std::optional<int> role, txn_.GetMemberRole(case_id_, account_id_));
    role_ = role;
  }
  return *role_;
}

Result<const std::optional<storage::DeviceCursor>*> PushState::Cursor() {
  if (!cursor_ && cached_ != nullptr) {
    auto it = cached_->cursors.find(device_id_);
    if (it != cached_->cursors.end()) cursor_ = it->second;
  }
  if (!cursor_) {
    KRING_ASSIGN_OR_RETURN(std::optional<storage::DeviceCursor> cursor,
                           txn_.GetDeviceCursor(case_id_, device_id_));
    cursor_ = std::move(cursor);
  }
  // By pointer: a copy was an allocation per op (the hash).
  return &*cursor_;
}

Result<std::optional<Bytes>> PushState::ChainHashAt(uint64_t seq) {
  // The head's chain hash is the case record's (an author who saw everything names it).
  if (kase_ && *kase_ && seq > 0 && seq == (*kase_)->head_seq) {
    return std::optional<Bytes>((*kase_)->head_hash);
  }
  auto it = chain_hashes_.find(seq);
  if (it == chain_hashes_.end()) {
    // The op may be one this push appended: its row goes in first (only then: in a batch every op
    // names the head from before the push, which is already stored).
    if (!pending_.empty() && seq >= pending_.front().seq) KRING_RETURN_IF_ERROR(InsertPending());
    KRING_ASSIGN_OR_RETURN(std::optional<Bytes> hash, txn_.ChainHashAt(case_id_, seq));
    it = chain_hashes_.emplace(seq, std::move(hash)).first;
  }
  return it->second;
}

Result<bool> PushState::RekeyRequired() {
  if (!rekey_required_ && cached_ != nullptr) rekey_required_ = cached_->rekey_required;
  if (!rekey_required_) {
    KRING_ASSIGN_OR_RETURN(bool required, txn_.RekeyRequired(case_id_));
    rekey_required_ = required;
  }
  return *rekey_required_;
}

Result<std::shared_ptr<const std::vector<Bytes>>> PushState::Members() {
  if (!members_ && cached_ != nullptr) members_ = cached_->members;
  if (!members_) {
    KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn_.ListMembers(case_id_));
    members_ = std::make_shared<const std::vector<Bytes>>(std::move(members));
  }
  return members_;
}

Result<const PushState::Scope*> PushState::ContentScope(uint32_t scope_id) {
  auto it = scopes_.find(scope_id);
  if (it != scopes_.end()) return &it->second;
  Scope scope;
  if (scope_id == 0 && cached_ != nullptr && cached_->epoch && cached_->revocation_hold) {
    // Scope 0 is everyone's: only its epoch and hold matter (author_in and rekey_required are
    // for restricted scopes; scope 0's flag is RekeyRequired()).
    scope.epoch = *cached_->epoch;
    scope.revocation_hold = *cached_->revocation_hold;
    return &scopes_.emplace(scope_id, scope).first->second;
  }
  KRING_ASSIGN_OR_RETURN(scope.epoch, txn_.GetScopeEpoch(case_id_, scope_id));
  if (scope.epoch && scope_id != 0) {
    KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn_.ListScopeMembers(case_id_, scope_id));
    for (const Bytes& m : members) scope.author_in |= std::ranges::equal(m, account_id_);
    KRING_ASSIGN_OR_RETURN(scope.rekey_required, txn_.RekeyRequired(case_id_, scope_id));
  }
  if (scope.epoch) {
    KRING_ASSIGN_OR_RETURN(scope.revocation_hold, txn_.HeldForRevocation(case_id_, scope_id));
  }
  return &scopes_.emplace(scope_id, std::move(scope)).first->second;
}

Result<bool> PushState::AboveStoredClientOpIds(ByteView client_op_id) {
  KRING_ASSIGN_OR_RETURN(const std::optional<storage::DeviceCursor>* cursor, Cursor());
  // SQLite's BLOB order, which the migration's max() used: bytewise, then the shorter first.
  return !*cursor ||
         std::ranges::lexicographical_compare((*cursor)->max_client_op_id, client_op_id);
}

Status PushState::LoadStored(const std::vector<Bytes>& client_op_ids, uint64_t from_seq) {
  KRING_ASSIGN_OR_RETURN(std::optional<storage::CaseRecord> * kase, Case());
  const uint64_t head = *kase ? (*kase)->head_seq : 0;
  // Saturating: a seen_seq near 2^64 is refused later as beyond the head, not here.
  const uint64_t to_seq = from_seq > head ? head : std::min(head, from_seq + (kMaxRetryLookup - 1));
  looked_up_to_head_ = to_seq == head;
  if (*kase && !client_op_ids.empty()) {
    // The rows this push is about to append are not in `ops` yet; none of them is stored before.
    KRING_ASSIGN_OR_RETURN(stored_,
                           txn_.FindRetries(case_id_, device_id_, from_seq, to_seq, client_op_ids));
  }
  track_stored_ = true;
  return {};
}

const storage::StoredOpRef* PushState::Stored(ByteView client_op_id) const {
  if (stored_.empty()) return nullptr;
  auto it = stored_.find(Bytes(client_op_id.begin(), client_op_id.end()));
  return it == stored_.end() ? nullptr : &it->second;
}

Status PushState::Append(const storage::NewOp& row, uint64_t device_counter, bool content) {
  if (content && !track_stored_) {
    pending_.push_back(row);
  } else {
    KRING_RETURN_IF_ERROR(InsertPending());
    KRING_RETURN_IF_ERROR(txn_.InsertOp(row));
  }
  storage::CaseRecord& kase = **kase_;
  kase.head_seq = row.seq;
  // Assigned in place: the head's and the cursor's buffers serve op after op.
  kase.head_hash.assign(row.chain_hash.begin(), row.chain_hash.end());
  head_dirty_ = true;
  if (!cursor_ || !*cursor_)
    cursor_ = std::optional<storage::DeviceCursor>(storage::DeviceCursor{});
  storage::DeviceCursor& cursor = **cursor_;
  cursor.last_counter = device_counter;
  cursor.last_envelope_hash.assign(row.envelope_hash.begin(), row.envelope_hash.end());
  if (std::ranges::lexicographical_compare(cursor.max_client_op_id, row.client_op_id)) {
    cursor.max_client_op_id.assign(row.client_op_id.begin(), row.client_op_id.end());
  }
  cursor_dirty_ = true;
  // The op's chain hash is not kept in chain_hashes_: a later op of the push that names it as
  // seen reads it from the transaction, which holds the row once ChainHashAt has written the
  // pending rows (InsertPending). Nor is the op kept in stored_ on
  // ApplyPush's first pass, which has no stored ops to find: an op of the push repeating this
  // one's client_op_id is not above the cursor's highest id there and the push takes the second
  // pass, which keeps them and answers the repeat as a duplicate.
  if (track_stored_) {
    stored_[Bytes(row.client_op_id.begin(), row.client_op_id.end())] = storage::StoredOpRef{
        row.seq, Bytes(row.chain_hash.begin(), row.chain_hash.end()), row.received_at_ms};
  }
  return {};
}

Status PushState::InsertPending() {
  if (pending_.empty()) return {};
  Status s = txn_.InsertOps(pending_);
  pending_.clear();
  return s;
}

Status PushState::Flush() {
  KRING_RETURN_IF_ERROR(InsertPending());
  if (head_dirty_) {
    const storage::CaseRecord& kase = **kase_;
    if (cache_ != nullptr) {
      // The writer writes it once per group: one UPDATE for all the group's pushes to a case.
      cache_->SetJobHead(case_id_, kase.head_seq, kase.head_hash);
    } else {
      KRING_RETURN_IF_ERROR(txn_.SetCaseHead(case_id_, kase.head_seq, kase.head_hash));
    }
    head_dirty_ = false;
  }
  if (cursor_dirty_) {
    KRING_RETURN_IF_ERROR(txn_.SetDeviceCursor(case_id_, device_id_, **cursor_));
    cursor_dirty_ = false;
  }
  return {};
}

Status PushState::FlushAndForget() {
  KRING_RETURN_IF_ERROR(Flush());
  kase_.reset();
  role_.reset();
  cursor_.reset();
  rekey_required_.reset();
  scopes_.clear();
  members_.reset();
  // A control op may change anything cached: the tables are the truth until the next push of
  // content ops only reads them again.
  if (cache_ != nullptr) cache_->Erase(case_id_);
  cached_ = nullptr;
  write_back_ = false;
  return {};
}

void PushState::WriteBack() {
  if (cache_ == nullptr || !write_back_ || !kase_ || !*kase_) return;
  storage::CachedCase& entry = cache_->Put(case_id_);
  cached_ = nullptr;  // Put may have started the cache over
  entry.kase = **kase_;
  if (role_) Assign(entry.roles, account_id_, *role_);
  if (cursor_) Assign(entry.cursors, device_id_, *cursor_);
  if (rekey_required_) entry.rekey_required = *rekey_required_;
  if (members_) entry.members = members_;
  auto scope0 = scopes_.find(0);
  if (scope0 != scopes_.end()) {
    entry.epoch = scope0->second.epoch;
    // Read only when the scope has an epoch (ContentScope); false otherwise, as then.
    entry.revocation_hold = scope0->second.revocation_hold;
  }
}

}  // namespace kring::server
