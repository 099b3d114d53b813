// The device's local SQLite store: the verified log, heads, alarms, keys, pending intents and the
// materialized state. Secrets and plaintext are sealed with the storage key (AtRest); the
// envelopes of the log are stored as received (they are ciphertext or public control bodies).
// Large values of the materialized state are not stored twice: the sealed state refers to the
// log entries that hold them (store/stored_state.h) and they are opened again when it is read.
// Every method is atomic and thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/arena.h>

#include "kring/client.h"
#include "kring/common/sqlite.h"
#include "kring/common/user_chain.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/model.pb.h"
#include "kring/v1/sync.pb.h"

#include "crypto/at_rest.h"

namespace kring::client {

struct DeviceHead {
  uint64_t counter = 0;
  Bytes last_hash;  // envelope hash of the device's last op in the case
};

struct CaseRecord {
  Bytes case_id;
  uint64_t head_seq = 0;
  Bytes head_hash;
  bool halted = false;
  // The confirmed state: the fold of the log up to head_seq. So every entity in it has
  // created_seq <= head_seq (the verifier's undo journal relies on it, and checks it in debug
  // builds: BatchVerifier::ApplyAll).
  v1::CaseState state;
  // The state shows this account removed, but no catch-up has ended at that removal yet (one
  // broke off after it, or the device stopped before its queued changes were rejected): a later
  // page may still add the account back. Meaningful only while state.removed(): a store from
  // before the mark sets it for every case with queued changes (schema 7), and a record written
  // without the removal may keep a stale 1 (ReplaceState with RemovalMark::kKeep).
  bool removal_unsettled = false;
};

// What a sync asks of a case before it pulls: small, so it needs no copy of the state.
struct CaseFlags {
  uint64_t head_seq = 0;
  bool halted = false;
  bool removed = false;
  bool removal_unsettled = false;  // removed, not yet settled (CaseRecord::removal_unsettled)
  bool pending_approval = false;
  bool closed = false;
};

struct Intent {
  int64_t id = 0;
  Bytes case_id;
  Bytes client_op_id;
  bool control = false;
  v1::ContentOp content;         // content intents
  v1::ControlIntent control_op;  // control intents
  // The signed envelopes once sealed (one for content; the op plus its Rekey for control),
  // empty until then. Sealing happens at push time, against the verified state.
  std::vector<v1::Envelope> sealed;
};

struct EpochKey {
  uint32_t scope_id = 0;
  uint64_t epoch = 0;
  SecretBytes key;
};

// What kringd answered to one envelope this device pushed. Kept until the verified log reaches its
// seq: the entry there must be that envelope with that chain hash, else the server lied at push
// time (FORK). Holds hashes, a random id and a signed receipt, no content.
struct SentOp {
  Bytes envelope_hash;  // of the envelope this device sent
  Bytes client_op_id;   // from its header: a retried op is answered with the stored original
  v1::PushResult result;
};

// Everything one verified pull batch changes, written in one transaction.
// The texts a settled removal rejects queued changes with (LocalStore::SettleRemoval).
inline constexpr char kRemovedFromTheCase[] = "removed from the case";
inline constexpr char kLeftTheCase[] = "left the case";

// What settling a removal of this account did (LocalStore::SettleRemoval).
struct SettledRemoval {
  bool settled = false;  // the case's removal was unsettled and is settled now
  size_t refused = 0;    // queued changes rejected as made by someone no longer a member
  // The removal was marked by a store upgrade (schema 8): the libkring that verified it told the
  // app already, so it is not told again (the rejection is).
  bool told_before = false;
};

// ApplyBatch's refusal of a batch that no longer continues the stored log: another process
// with the same store file (kring commands run side by side on one profile) synced the case
// since this one took it. Nothing is written; the sync takes the case again and goes on.
inline constexpr std::string_view kCaseSyncedElsewhere = "CASE_SYNCED_ELSEWHERE";
inline bool SyncedElsewhere(const Status& s) {
  return s.code() == StatusCode::kAborted && s.reason() == kCaseSyncedElsewhere;
}

struct AppliedBatch {
  Bytes case_id;
  uint64_t from_seq = 0;  // the stored head the batch continues (its first entry is from_seq + 1)
  std::vector<v1::LogEntry> entries;
  // More entries, written after `entries`, left where a catch-up pulled them: on the protobuf
  // arenas in `arenas` (one per pulled page), which keep them alive and free them at once.
  std::vector<const v1::LogEntry*> pulled;
  std::vector<std::unique_ptr<google::protobuf::Arena>> arenas;
  uint64_t head_seq = 0;
  Bytes head_hash;
  std::map<Bytes, DeviceHead> device_heads;  // changed heads only
  std::vector<EpochKey> epoch_keys;
  v1::CaseState state;
  std::vector<Bytes> confirmed_client_op_ids;  // this device's intents now in the log
  bool removal_unsettled = false;              // CaseRecord::removal_unsettled after the batch
  // Alarms about entries of this batch that do not halt the case (complaints). Written in the
  // batch's transaction: once the entries are stored they are never verified again, so an alarm
  // written after the commit would be lost for good by a crash in between.
  std::vector<Alarm> alarms;
};

class LocalStore {
 public:
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& path, ByteView storage_key);

  Result<std::optional<v1::LocalAccount>> LoadAccount();
  Status SaveAccount(const v1::LocalAccount& account);
  // Device keys of a device waiting to be linked to an account (no account id, no user key
  // yet): kept between the link request and its approval, sealed like the account.
  Result<std::optional<v1::LocalAccount>> LoadPendingDevice();
  Status SavePendingDevice(const v1::LocalAccount& keys);
  Status ClearPendingDevice();

  Result<std::optional<Bytes>> PinnedServerKey();
  Status PinServerKey(ByteView key);

  // A new client_op_id for an op of this device in `case_id`: an 8-byte big-endian counter that
  // rises with every id this store hands out for that case, also across restarts, then 8 random
  // bytes (docs/protocol.md section 11). Rising ids make kringd's unique index on (case, device,
  // client_op_id) append a push's ops on one or two pages instead of one page each. The counter
  // is per case because every member of a case reads its op headers: they learn nothing about
  // this device's other cases.
  Result<Bytes> NewClientOpId(ByteView case_id);

  Status SaveChain(ByteView account_id, const std::vector<v1::ChainLink>& links);
  // Re-verifies the stored chain on load.
  Result<std::optional<UserChain>> LoadChain(ByteView account_id);

  Status CreateCase(ByteView case_id);
  // What the client reads: the fields' sources (FieldState.source_*, the store's own references
  // to a value's log entry) are cleared, so no app or CLI view shows them. Only TakeCase, the
  // sync's copy, keeps them for sealing the state again.
  Result<std::optional<CaseRecord>> LoadCase(ByteView case_id);
  Result<std::optional<CaseFlags>> LoadCaseFlags(ByteView case_id);
  // A sync's working copy of a case: the kept record (moved out, not copied) when there is one,
  // else decrypted and parsed. `version` receives the store's case write count at that moment;
  // KeepCase and ApplyBatch use it to tell whether anything else wrote a case since.
  Result<std::optional<CaseRecord>> TakeCase(ByteView case_id, uint64_t* version);
  // Keeps `rec` decrypted in memory for the next TakeCase/LoadCaseFlags, unless a case row was
  // written after `version` (then it may differ from the stored one and is dropped). One case
  // is kept: a catch-up of a large case then neither parses nor copies its state again.
  void KeepCase(CaseRecord rec, uint64_t version);
  Result<std::vector<Bytes>> CaseIds();
  Result<std::optional<Bytes>> ChainHashAt(ByteView case_id, uint64_t seq);
  Result<std::map<Bytes, DeviceHead>> DeviceHeads(ByteView case_id);

  Status SaveEpochKey(ByteView case_id, const EpochKey& key);
  Result<std::optional<EpochKey>> FindEpochKey(ByteView case_id, uint32_t scope_id, uint64_t epoch);
  Result<std::optional<EpochKey>> LatestEpochKey(ByteView case_id, uint32_t scope_id);

  // `view_version` (optional), from CaseWithIntents or a previous add: on return the view
  // version after this write when no other write to a case or its intents came in between (so
  // a view kept at the given version plus this intent equals a fresh one), else 0.
  Status AddContentIntent(ByteView case_id, ByteView client_op_id, const v1::ContentOp& op,
                          uint64_t* view_version = nullptr);
  Status AddControlIntent(ByteView case_id, ByteView client_op_id, const v1::ControlIntent& op,
                          uint64_t* view_version = nullptr);
  // Creates the case row if needed, sets its state and queues the first change, atomically (a
  // new case, or an accepted invite): a crash never leaves a case with nothing queued. The
  // state written is not a removal, so removal_unsettled is cleared. With `settle_removal_of`
  // (this account), an unsettled removal of the case is settled first, in the same
  // transaction, as SettleRemoval does (`settled` receives what that did): an invite accepted
  // while a removal waits for its verdict ends the wait.
  Status StartCase(ByteView case_id, v1::CaseState state, ByteView client_op_id,
                   const v1::ControlIntent& op, ByteView settle_removal_of = {},
                   SettledRemoval* settled = nullptr);
  Result<std::vector<Intent>> PendingIntents(ByteView case_id);
  // The confirmed record and the pending intents read together, so a view never shows an edit
  // twice or not at all while a sync confirms it. `view_version` (optional) receives the view
  // version they were read at. The fields' sources are cleared, as in LoadCase.
  Result<std::optional<std::pair<CaseRecord, std::vector<Intent>>>> CaseWithIntents(
      ByteView case_id, uint64_t* view_version = nullptr);
  // Changes on every write that can change an optimistic view: a case row, a pending intent
  // added or rejected, or a commit by another connection. A view built at this version is
  // still current while it is unchanged.
  uint64_t ViewVersion();
  Result<size_t> PendingIntentCount(ByteView case_id);
  // Whether this device still keeps the intent: nullopt when not (kringd ordered it, or its case
  // is gone), else whether it was rejected.
  Result<std::optional<bool>> IntentRejected(ByteView case_id, ByteView client_op_id);
  // Whether the case is to be folded again from its log once, since the content rules changed
  // after its state was stored (a store migration marks every case then); RefoldDone clears it.
  Result<bool> RefoldDue(ByteView case_id);
  Status RefoldDone(ByteView case_id);
  Status SetSealed(int64_t intent_id, const std::vector<v1::Envelope>& envelopes);
  // The sealed forms of several intents (each intent's `sealed`), in one transaction.
  Status SetSealedMany(const std::vector<const Intent*>& intents);
  Status ClearSealed(ByteView case_id);
  // The verified log, in order (for replaying it after older epoch keys were learned).
  Result<std::vector<v1::LogEntry>> LogEntries(ByteView case_id);
  // Replaces the confirmed state (after a replay); heads and log stay as they are.
  // By value: the stored form is made by swapping large values out of it and back.
  // kKeep leaves removal_unsettled as it is (a replay folds the same log: a removal in it is as
  // settled as before); kClear clears it (the state is no longer one a catch-up left at an
  // unsettled removal: the account was added back, or a refused acceptance returns the case to
  // its settled removal).
  enum class RemovalMark { kKeep, kClear };
  Status ReplaceState(ByteView case_id, v1::CaseState state, RemovalMark mark);
  // Erasure or the end of retention: every row of the case goes (log, keys, intents, receipts,
  // alarms, state), in one transaction; secure_delete overwrites the freed pages.
  // kKeep leaves the case's client_op_id counter (op_counters): for a case the device forgets
  // but may come back to, whose ids kringd has seen (a refused acceptance). Its next ids then
  // still rise above the ones it sent, which kringd takes as new without a lookup; a lower id
  // with a seen_seq more than 4,096 behind would be refused (docs/protocol.md section 8, check
  // 4), and a device waiting for approval cannot pull to move its seen_seq on.
  enum class OpCounter { kDelete, kKeep };
  Status DeleteCase(ByteView case_id, OpCounter counter = OpCounter::kDelete);
  Status RejectIntent(int64_t intent_id, const std::string& error);
  // Rejects these intents with one reason, in one transaction (all of a closed case's at once).
  Status RejectIntents(const std::vector<int64_t>& intent_ids, const std::string& error);

  // Stores a verified receipt. A second receipt for the same (case, seq) with the same chain
  // hash (a re-signed retry) is dropped; one with a different chain hash is kept beside the first
  // as proof that the server equivocated, and the first is returned so the caller can raise it.
  Result<std::optional<v1::Receipt>> SaveReceipt(const v1::Receipt& receipt);
  // The first receipt stored for each seq.
  Result<std::map<uint64_t, v1::Receipt>> Receipts(ByteView case_id);
  // Receipts that contradict the first one stored for their seq, in the order they came.
  Result<std::vector<v1::Receipt>> ConflictingReceipts(ByteView case_id);

  // Keeps what kringd answered to this device's pushed envelopes, in one transaction. ApplyBatch
  // drops those at or below the new head (the verifier has compared them with the log by then).
  Status KeepPushResults(ByteView case_id, const std::vector<SentOp>& sent);
  // The kept push results of a case by seq (several for one seq only if the server said so).
  Result<std::multimap<uint64_t, SentOp>> PushResults(ByteView case_id);
  // The verified log entry at `seq` (nullopt when this device has not verified that seq).
  Result<std::optional<v1::LogEntry>> LogEntryAt(ByteView case_id, uint64_t seq);

  // Records the alarm and (unless halt is false) halts the case, in one transaction.
  Status RaiseAlarm(const Alarm& alarm, bool halt = true);
  Result<std::vector<Alarm>> Alarms();
  // Whether an alarm of this kind was raised for the case (raised once, not at every sync).
  Result<bool> HasAlarm(ByteView case_id, AlarmKind kind);

  // `version` (optional), from TakeCase: on return the write count after this write when no
  // other case write came in between (so the caller's record equals the stored one), else 0.
  // batch.state is lent, not copied: its large values are swapped out while the stored form is
  // made and back before this returns (nothing may read it meanwhile). A large batch's entries
  // are taken once written (batch.entries is then empty); the rest is only read.
  Status ApplyBatch(AppliedBatch& batch, uint64_t* version = nullptr);
  // A catch-up ended at this account's verified removal: when removal_unsettled is still set,
  // every queued change is rejected (kRemovedFromTheCase; this account's own leave, named by
  // `own_account`, as kLeftTheCase, being done; an acceptance of a new invite is kept) and the
  // mark cleared, in one transaction. Nothing is done when the mark is clear (settled already):
  // the caller tells the app only what the result says. `version` as in ApplyBatch.
  Result<SettledRemoval> SettleRemoval(ByteView case_id, ByteView own_account,
                                       uint64_t* version = nullptr);
  // A refused acceptance returns a case to its removal: `state` (removed, no longer waiting) is
  // written with the removal mark clear and every change still queued is rejected as
  // SettleRemoval rejects them, in one transaction (`refused` counts them as it does). Nothing
  // made while waiting is left queued in a case this account is out of.
  Result<SettledRemoval> ReturnToRemoval(ByteView case_id, v1::CaseState state,
                                         ByteView own_account);

 private:
  LocalStore(sql::Database db, AtRest at_rest) : db_(std::move(db)), at_rest_(std::move(at_rest)) {}
  Result<std::optional<CaseRecord>> LoadCaseLocked(ByteView case_id);
  // SettleRemoval inside the caller's transaction.
  Result<SettledRemoval> SettleRemovalLocked(ByteView case_id, ByteView own_account);
  // The sealed stored form of `state` (lent as in ApplyBatch).
  Bytes SealState(ByteView case_id, v1::CaseState& state) const;
  // Runs `update_sql` (state = ?1, state_form = ?2 WHERE case_id = ?3) with the sealed state.
  Status WriteStateLocked(std::string_view update_sql, ByteView case_id, v1::CaseState& state);
  // A stored form (state_form 2) read back, its left-out values opened from the log.
  Result<v1::CaseState> ParseStateLocked(ByteView case_id, ByteView plain);
  Result<std::optional<EpochKey>> FindEpochKeyLocked(ByteView case_id, uint32_t scope_id,
                                                     uint64_t epoch);
  Result<std::vector<Intent>> PendingIntentsLocked(ByteView case_id);
  Status AddControlIntentLocked(ByteView case_id, ByteView client_op_id,
                                const v1::ControlIntent& op);
  Status SaveEpochKeyLocked(ByteView case_id, const EpochKey& key);
  Status InsertAlarmLocked(const Alarm& alarm);
  // Every write to a case row goes through here: the kept record is no longer the stored one.
  void CaseWrittenLocked();
  // A commit by another connection to the same file counts as a case write (the kept record
  // may no longer be the stored one).
  void NoteOtherWritersLocked();
  // Every write to the pending intents goes through here (views change, the case row does not).
  // Returns whether `view_version` was the current view version before this write.
  bool IntentWrittenLocked(uint64_t* view_version);

  std::mutex mu_;
  sql::Database db_;
  AtRest at_rest_;
  uint64_t case_writes_ = 1;        // 0 means "unknown" to KeepCase
  uint64_t view_writes_ = 1;        // case writes plus intent writes; 0 means "unknown"
  std::optional<CaseRecord> kept_;  // equals its stored row while set
  // The pending intents of one case, decrypted and parsed, in id order; equal to the stored rows
  // while set (every intent write below updates it), so a push round does not decrypt and parse
  // the whole queue again.
  std::optional<std::pair<Bytes, std::vector<Intent>>> kept_intents_;
  std::vector<Intent>* KeptIntentsLocked(ByteView case_id);
  Result<std::vector<Intent>> LoadIntentsLocked(ByteView case_id);
  int64_t data_version_ = -1;  // PRAGMA data_version when last looked at
  // Per case, NewClientOpId hands out counters from next below end, which is already stored: a
  // restart (or another connection) continues above it, so no counter is handed out twice.
  struct OpCounterBlock {
    uint64_t next = 0;
    uint64_t end = 0;
  };
  std::map<Bytes, OpCounterBlock> op_counters_;
};

}  // namespace kring::client
