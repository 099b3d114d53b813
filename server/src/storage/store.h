// Storage interface of kringd. The protocol rules (case_log.cpp, account_service.cpp) are written
// against StoreTxn, so a PostgreSQL backend only has to implement these two classes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/sqlite.h"
#include "kring/common/status.h"

namespace kring::server::storage {

class CaseCache;

struct DeviceRecord {
  Bytes device_id;
  Bytes account_id;
  Bytes signing_public_key;
  bool revoked = false;
  bool is_recovery = false;
};

struct InviteRecord {
  Bytes signing_public_key;
  int role = 0;
  int64_t expires_at_ms = 0;
  int state = 0;  // kring.v1.InviteState.Status
};

struct PendingRecord {
  int role = 0;
  Bytes invite_id;
};

struct CaseRecord {
  // The backend's own key for the case, carried so that appending an op needs no lookup by
  // case_id (SQLite: cases.case_key, the first column of the ops' (case_key, seq) index;
  // migration 7).
  int64_t case_key = 0;
  uint64_t head_seq = 0;
  Bytes head_hash;         // empty while head_seq is 0
  uint64_t close_seq = 0;  // seq of its CloseCase; 0 while open
  int64_t delete_after_ms = 0;
};

struct ErasedCase {
  int64_t erased_at_ms = 0;
  std::string trigger;  // serialized kring.v1.LogEntry
};

// One seq of an erased case's log as its tombstone keeps it (migration 11): a control op whole,
// a content op as its envelope hash only. Exactly one of the two is non-empty.
struct ErasedEntryRecord {
  uint64_t seq = 0;
  Bytes chain_hash;
  std::string control_envelope;  // serialized kring.v1.Envelope
  Bytes envelope_hash;
};

struct DeviceCursor {
  uint64_t last_counter = 0;
  Bytes last_envelope_hash;
  // The highest client_op_id (bytewise, as SQLite orders BLOBs) among the device's stored ops in
  // the case; empty before its first. An op with a higher one cannot be a retry.
  Bytes max_client_op_id;
};

struct StoredOpRef {
  uint64_t seq = 0;
  Bytes chain_hash;
  int64_t received_at_ms = 0;
};

struct StoredOp {
  uint64_t seq = 0;
  std::string envelope;  // serialized kring.v1.Envelope
  Bytes chain_hash;
};

// Every value borrowed: they outlive the InsertOp call, and copying them was four allocations
// per op.
struct NewOp {
  int64_t case_key = 0;  // CaseRecord::case_key of the case appended to
  uint64_t seq = 0;
  std::string_view envelope;
  ByteView chain_hash;
  ByteView device_id;
  ByteView client_op_id;
  ByteView envelope_hash;  // for the device cursor; not stored in the row (InsertOp)
  int64_t received_at_ms = 0;
};

struct CaseHeadRecord {
  Bytes case_id;
  uint64_t head_seq = 0;
};

// One transaction (or savepoint) on one connection. Not thread-safe; used by one thread at a
// time. Write methods fail on a read transaction.
class StoreTxn {
 public:
  virtual ~StoreTxn() = default;

  // The writer thread's cache of cases (case_cache.h), set only while a job that keeps it runs
  // (WriteJob::keeps_case_cache); nullptr otherwise and in read transactions.
  CaseCache* case_cache() const { return case_cache_; }
  void set_case_cache(CaseCache* cache) { case_cache_ = cache; }

  // Accounts.
  virtual Result<std::vector<std::string>> LoadChainLinks(ByteView account_id,
                                                          uint64_t from_index) = 0;
  virtual Status AppendChainLink(ByteView account_id, uint64_t index, const std::string& link,
                                 ByteView link_hash) = 0;
  // The account's current user key generation (from migration 8 on, written at every publish
  // that reaches the writer; a pure retry writes nothing),
  // or nothing for an account that has not published since (CheckRekey then reads its chain).
  virtual Status SetUserKeyGeneration(ByteView account_id, uint32_t generation) = 0;
  virtual Result<std::optional<uint32_t>> GetUserKeyGeneration(ByteView account_id) = 0;
  virtual Result<std::optional<DeviceRecord>> GetDevice(ByteView device_id) = 0;
  // Only PublishChain writes device rows (CommitPublish, on the writer thread, from the chain
  // it stores). CommitPublish relies on that: it writes the rows PreparePublish planned once it
  // has checked the chain is still the one verified, and a pure retry writes none.
  virtual Status PutDevice(const DeviceRecord& device) = 0;
  virtual Result<bool> AccountExists(ByteView account_id) = 0;

  // Cases.
  // Inside a job that keeps the case cache (WriteJob::keeps_case_cache) the head in `cases` may
  // be behind: the newest head can be one the cache holds until the writer writes it
  // (case_cache.h). There only PushState::Case() may read a case's head (it applies that pending
  // head); GetCase and ListCasesOf give the tables' head.
  virtual Result<std::optional<CaseRecord>> GetCase(ByteView case_id) = 0;
  // Returns the new case's case_key (CaseRecord).
  virtual Result<int64_t> InsertCase(ByteView case_id, int64_t now_ms) = 0;
  virtual Status SetCaseHead(ByteView case_id, uint64_t seq, ByteView chain_hash) = 0;
  virtual Status InsertMember(ByteView case_id, ByteView account_id, int role) = 0;
  virtual Status DeleteMember(ByteView case_id, ByteView account_id) = 0;
  virtual Status SetMemberRole(ByteView case_id, ByteView account_id, int role) = 0;
  virtual Status PutInvite(ByteView case_id, ByteView invite_id, const InviteRecord& invite) = 0;
  virtual Result<std::optional<InviteRecord>> GetInvite(ByteView case_id, ByteView invite_id) = 0;
  virtual Status PutPending(ByteView case_id, ByteView account_id, const PendingRecord& p) = 0;
  virtual Result<std::optional<PendingRecord>> GetPending(ByteView case_id,
                                                          ByteView account_id) = 0;
  virtual Status DeletePending(ByteView case_id, ByteView account_id) = 0;
  virtual Result<std::optional<int>> GetMemberRole(ByteView case_id, ByteView account_id) = 0;
  virtual Result<std::vector<Bytes>> ListMembers(ByteView case_id) = 0;
  // Removals (migration 10): the seq of the op that took the account out of the case (its
  // RemoveMember, by someone else or by itself). A removed account may pull up to and including
  // that op. Adding the account back deletes the row; a later removal replaces it.
  virtual Status SetRemovalSeq(ByteView case_id, ByteView account_id, uint64_t seq) = 0;
  virtual Status DeleteRemovalSeq(ByteView case_id, ByteView account_id) = 0;
  virtual Result<std::optional<uint64_t>> GetRemovalSeq(ByteView case_id, ByteView account_id) = 0;
  // Its heads are the tables' heads: inside a keeping job see GetCase.
  virtual Result<std::vector<CaseHeadRecord>> ListCasesOf(ByteView account_id) = 0;
  virtual Result<std::optional<uint64_t>> GetScopeEpoch(ByteView case_id, uint32_t scope_id) = 0;
  virtual Status SetScopeEpoch(ByteView case_id, uint32_t scope_id, uint64_t epoch) = 0;
  // Set when someone left a scope: nothing may be sealed to it until its next Rekey.
  virtual Result<bool> RekeyRequired(ByteView case_id, uint32_t scope_id = 0) = 0;
  virtual Status SetRekeyRequired(ByteView case_id, bool required, uint32_t scope_id = 0) = 0;
  // A device of `account_id` was revoked: scope 0 of every case the account is a member of,
  // and every restricted scope it is in, waits for a Rekey naming `device_id`.
  virtual Status HoldForRevokedDevice(ByteView account_id, ByteView device_id) = 0;
  // Whether the scope waits for such a Rekey (content sealed to it is refused until then).
  virtual Result<bool> HeldForRevocation(ByteView case_id, uint32_t scope_id) = 0;
  // The scope's holds, as (revoked device, its account).
  virtual Result<std::vector<std::pair<Bytes, Bytes>>> RevocationHolds(ByteView case_id,
                                                                       uint32_t scope_id) = 0;
  virtual Status ReleaseRevocationHold(ByteView case_id, uint32_t scope_id, ByteView device_id) = 0;
  // Whether a Rekey of the scope named the device as revoked before (from migration 6 on).
  virtual Result<bool> RevocationNamed(ByteView case_id, uint32_t scope_id, ByteView device_id) = 0;
  virtual Status RecordRevocationNamed(ByteView case_id, uint32_t scope_id, ByteView device_id) = 0;
  // Closing and deletion.
  virtual Status SetCaseClosed(ByteView case_id, uint64_t close_seq, int64_t delete_after_ms) = 0;
  // Deletes every row of the case and keeps only its tombstone (and what KeepErasedHistory and
  // KeepErasedReaders wrote for it).
  virtual Status EraseCase(ByteView case_id, int64_t now_ms, const std::string& trigger) = 0;
  // Whether this transaction erased a case (the writer then truncates the write-ahead log,
  // which still holds copies of the deleted pages).
  virtual bool ErasedACase() const = 0;
  virtual Result<std::optional<ErasedCase>> GetErased(ByteView case_id) = 0;
  // What the tombstone keeps for a device that was away (migration 11), written before EraseCase
  // in its transaction: the log before the trigger, and the accounts that were members.
  virtual Status KeepErasedHistory(ByteView case_id,
                                   std::span<const ErasedEntryRecord> entries) = 0;
  virtual Status KeepErasedReaders(ByteView case_id, const std::vector<Bytes>& accounts) = 0;
  virtual Result<bool> IsErasedReader(ByteView case_id, ByteView account_id) = 0;
  // Deletes what KeepErasedHistory and KeepErasedReaders kept for the case (the tombstone stays):
  // a device that was away then checks the erasure against the state it last synced.
  virtual Status DropErasedHistory(ByteView case_id) = 0;
  // Deletes the histories of cases erased before `erased_before_ms` (their tombstones stay).
  virtual Status DropErasedHistoriesBefore(int64_t erased_before_ms) = 0;
  // Entries with seq > after_seq in order, at most `limit` and about `max_bytes` (at least one
  // when there is one).
  virtual Result<std::vector<ErasedEntryRecord>> ReadErasedHistory(ByteView case_id,
                                                                   uint64_t after_seq,
                                                                   uint32_t limit,
                                                                   size_t max_bytes) = 0;
  virtual Result<std::optional<Bytes>> ErasedChainHashAt(ByteView case_id, uint64_t seq) = 0;
  // Closed cases whose retention ended at now_ms, at most `limit`.
  virtual Result<std::vector<Bytes>> CasesDueForDeletion(int64_t now_ms, uint32_t limit) = 0;
  // Restricted scopes (scope 0 is everyone in case_members).
  virtual Result<size_t> CountScopes(ByteView case_id) = 0;
  virtual Result<std::vector<Bytes>> ListScopeMembers(ByteView case_id, uint32_t scope_id) = 0;
  virtual Status SetScopeMembers(ByteView case_id, uint32_t scope_id,
                                 const std::vector<Bytes>& members) = 0;
  // The restricted scopes `account_id` is in.
  virtual Result<std::vector<uint32_t>> ScopesOf(ByteView case_id, ByteView account_id) = 0;
  virtual Result<std::optional<DeviceCursor>> GetDeviceCursor(ByteView case_id,
                                                              ByteView device_id) = 0;
  virtual Status SetDeviceCursor(ByteView case_id, ByteView device_id,
                                 const DeviceCursor& cursor) = 0;

  // Ops.
  // Of `client_op_ids`, the ones this device stored in this case at seqs `from_seq` through
  // `to_seq`, with their results: one statement over the `ops_retry_lookup` index for a push's
  // retries (ApplyPush bounds the range).
  virtual Result<std::map<Bytes, StoredOpRef>> FindRetries(
      ByteView case_id, ByteView device_id, uint64_t from_seq, uint64_t to_seq,
      const std::vector<Bytes>& client_op_ids) = 0;
  virtual Result<std::optional<Bytes>> ChainHashAt(ByteView case_id, uint64_t seq) = 0;
  virtual Status InsertOp(const NewOp& op) = 0;
  // Appends the rows in order, several per statement. On an error some may be in: the caller
  // rolls back.
  virtual Status InsertOps(std::span<const NewOp> ops) = 0;
  // Ops with seq > after_seq in order, at most `limit` of them and about `max_bytes` (always at
  // least one when there is one).
  virtual Result<std::vector<StoredOp>> ReadOps(ByteView case_id, uint64_t after_seq,
                                                uint32_t limit, size_t max_bytes) = 0;

  // Runs `body` in a savepoint (a nested one, or the writer's savepoint around the job while the
  // job has written nothing) and keeps its writes when it returns OK. Otherwise undoes exactly
  // the body's writes and runs `fallback` in its place, unless the error took the transaction
  // with it (a full disk or an I/O error can make SQLite roll back everything): then nothing more
  // may be written in it, and the answer is UNAVAILABLE.
  virtual Status Attempt(const std::function<Status()>& body,
                         const std::function<Status()>& fallback) = 0;

  // The writer (writer.cpp) names the savepoint it opened around the job it runs next on this
  // transaction, and nullptr once that job has ended. The SQLite backend's Attempt uses it as
  // its own when the job has written nothing yet: rolling back to it then undoes exactly what
  // a nested savepoint would, and one savepoint fewer per push is about 3,500 instructions on
  // the writer thread (docs/performance-log.md, "Push, single ops", branch `writer1sp`).
  virtual void SetJobSavepoint(sql::Savepoint* job) { (void)job; }

 private:
  CaseCache* case_cache_ = nullptr;
};

// A unit of write work run by the writer thread inside its own savepoint. `done` runs on the
// writer thread after the group's commit (or failure) with the final status; `after_group`, if
// set, once `done` has run for every job of the group (e.g. to wake the receipt signer once).
struct WriteJob {
  std::function<Status(StoreTxn&)> run;
  std::function<void(const Status&)> done;
  std::function<void()> after_group;
  // The job keeps the writer's case cache exact itself (a push: case_cache.h); for any other job
  // the writer clears the cache before it runs.
  bool keeps_case_cache = false;
  // With keeps_case_cache: the one case whose entry the job may write back, dropped alone when the
  // job fails (its savepoint is rolled back after the write-back). Empty: the whole cache.
  Bytes cached_case_id = {};
};

class Store {
 public:
  virtual ~Store() = default;
  // Queues a write; acknowledged (done called with OK) only after the commit.
  virtual void Submit(WriteJob job) = 0;
  // Runs `fn` on a consistent read snapshot. Thread-safe.
  virtual Status Read(const std::function<Status(StoreTxn&)>& fn) = 0;
  // Completes queued writes and stops accepting new ones (they fail with UNAVAILABLE).
  virtual void Shutdown() = 0;
};

// SQLite backend: one writer connection (owned by the writer thread) and a small pool of
// read connections over WAL.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, size_t read_connections);

// Used by the SQLite store and its writer.
std::unique_ptr<StoreTxn> MakeSqliteTxn(sql::Database& db, bool writable);

}  // namespace kring::server::storage
