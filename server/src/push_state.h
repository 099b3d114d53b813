// What ApplyPush reads the same way for every op of one push, read once and carried in memory
// through it: the case record with its head, the author's role and device cursor, the scope-0
// rekey flag, the epochs of the scopes written to, the chain hashes seen, and the author's stored
// ops by client_op_id. The case head and the device cursor are kept here as the push appends and
// written once (Flush): the cursor to its table, the head to the writer's case cache, which
// writes it to `cases` once per group. A control op may change any of this: ApplyOne flushes
// before and after one and drops what was read (FlushAndForget), so control ops are checked
// against the tables as before, with the head read through Case() (the cache's pending head, as
// `cases` is behind it).
// Between pushes the writer thread keeps what a push read in its case cache
// (storage/case_cache.h): a push starts from its case's entry when there is one, and writes the
// entry back (WriteBack) only when it went through with content ops only; a control op drops the
// entry before it runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/status.h"

#include "storage/case_cache.h"
#include "storage/store.h"

namespace kring::server {

class PushState {
 public:
  PushState(storage::StoreTxn& txn, ByteView case_id, ByteView device_id, ByteView account_id);

  storage::StoreTxn& txn() { return txn_; }

  // The case as read, with the head as appended so far; nullopt when there is no such case.
  Result<std::optional<storage::CaseRecord>*> Case();
  // A case this push has just created, under the backend's `case_key`.
  void SetCreated(int64_t case_key) {
    storage::CaseRecord kase;
    kase.case_key = case_key;
    kase_ = std::optional<storage::CaseRecord>(std::move(kase));
  }
  Result<std::optional<int>> AuthorRole();
  // Append moves the cursor on in place; the pointer is valid until FlushAndForget.
  Result<const std::optional<storage::DeviceCursor>*> Cursor();
  Result<std::optional<Bytes>> ChainHashAt(uint64_t seq);
  Result<bool> RekeyRequired();  // scope 0
  // The case's members (the accounts to poke after the push).
  Result<std::shared_ptr<const std::vector<Bytes>>> Members();

  // A scope as content ops see it: its epoch, for a restricted scope whether the author is in it
  // and whether it waits for a new key, and whether it waits for a Rekey naming a device revoked
  // since (read only when it has an epoch).
  struct Scope {
    std::optional<uint64_t> epoch;
    bool author_in = false;
    bool rekey_required = false;
    bool revocation_hold = false;
  };
  Result<const Scope*> ContentScope(uint32_t scope_id);

  // How far past its `seen_seq` a retry is looked for (ops of every device; about 200 KB of the
  // `ops_retry_lookup` index). An honest device retries an op it sealed after pulling to its
  // `seen_seq` and has not pulled since, so its original follows soon after; one sealed longer
  // ago is refused with FAILED_PRECONDITION, and the pull that follows confirms it.
  static constexpr uint64_t kMaxRetryLookup = 4096;

  // Whether `client_op_id` is above every one the author's device stored in the case, including
  // this push's (bytewise): then it cannot be a retry.
  Result<bool> AboveStoredClientOpIds(ByteView client_op_id);
  // Reads the author's ops among `client_op_ids` stored at seqs `from_seq` through
  // `from_seq + kMaxRetryLookup - 1` (one statement for the push). Only then are the push's own
  // appended ops kept for Stored too (Append).
  Status LoadStored(const std::vector<Bytes>& client_op_ids, uint64_t from_seq);
  // The stored op with this client_op_id, from before the push or appended by it.
  const storage::StoredOpRef* Stored(ByteView client_op_id) const;
  // After LoadStored: whether its range reached the case's head, so that an op it did not find
  // was not stored after `from_seq`.
  bool LookedUpToHead() const { return looked_up_to_head_; }

  // Appends an op: its row, the new head and device cursor (written by Flush). On ApplyPush's
  // first pass a content op's row waits in memory and goes in with the push's other rows, several
  // to a statement (StoreTxn::InsertOps), before anything reads `ops` (ChainHashAt, a control op's
  // Flush) and at the end of the push (Flush). Its views must stay valid until then.
  Status Append(const storage::NewOp& row, uint64_t device_counter, bool content);

  // Inserts the rows waiting, then writes the head and the device cursor if the push moved them;
  // with the writer's case cache the head goes to the cache, which writes it once per group
  // (case_cache.h).
  Status Flush();
  // Flush, then forget what was read from the tables, so the next op reads them again; the
  // case's cache entry is dropped and this push writes none back.
  Status FlushAndForget();
  // After the push went through: what it read and wrote becomes the case's cache entry.
  void WriteBack();

 private:
  storage::StoreTxn& txn_;
  ByteView case_id_;
  ByteView device_id_;
  ByteView account_id_;
  storage::CaseCache* cache_;    // nullptr: no cache in this transaction
  storage::CachedCase* cached_;  // the case's entry when the push started, if any
  bool write_back_ = true;       // no control op ran

  std::optional<std::optional<storage::CaseRecord>> kase_;  // outer: read yet
  bool head_dirty_ = false;
  std::optional<std::optional<int>> role_;
  std::optional<std::optional<storage::DeviceCursor>> cursor_;
  // Rows appended but not yet inserted (Append). Only on the first pass: a failure there, such as
  // an op that may be a retry, rolls the push back and the second pass inserts op by op, so every
  // error comes from the same op as before.
  std::vector<storage::NewOp> pending_;
  bool cursor_dirty_ = false;
  std::optional<bool> rekey_required_;
  std::map<uint32_t, Scope> scopes_;
  std::shared_ptr<const std::vector<Bytes>> members_;
  // Kept by FlushAndForget: ops rows do not change during a push (erasure comes after it).
  std::map<uint64_t, std::optional<Bytes>> chain_hashes_;
  std::map<Bytes, storage::StoredOpRef> stored_;
  bool track_stored_ = false;  // LoadStored ran
  bool looked_up_to_head_ = false;

  Status InsertPending();
};

}  // namespace kring::server
