#include "store/local_store.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <span>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "crypto/open_content.h"
#include "model/reducer.h"
#include "store/log_segments.h"
#include "store/stored_state.h"

namespace kring::client {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE chains (account_id BLOB PRIMARY KEY, links BLOB NOT NULL);
CREATE TABLE cases (
  case_id BLOB PRIMARY KEY,
  head_seq INTEGER NOT NULL DEFAULT 0,
  head_hash BLOB NOT NULL DEFAULT x'',
  halted INTEGER NOT NULL DEFAULT 0,
  state BLOB);
CREATE TABLE log (
  case_id BLOB NOT NULL, seq INTEGER NOT NULL, chain_hash BLOB NOT NULL, envelope BLOB NOT NULL,
  PRIMARY KEY (case_id, seq));
CREATE TABLE device_heads (
  case_id BLOB NOT NULL, device_id BLOB NOT NULL, counter INTEGER NOT NULL,
  last_hash BLOB NOT NULL, PRIMARY KEY (case_id, device_id));
CREATE TABLE epoch_keys (
  case_id BLOB NOT NULL, scope_id INTEGER NOT NULL, epoch INTEGER NOT NULL, key BLOB NOT NULL,
  PRIMARY KEY (case_id, scope_id, epoch));
CREATE TABLE intents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id BLOB NOT NULL, client_op_id BLOB NOT NULL UNIQUE, control INTEGER NOT NULL,
  content BLOB, sealed BLOB, rejected INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE INDEX intents_by_case ON intents (case_id, rejected, id);
CREATE TABLE receipts (
  case_id BLOB NOT NULL, seq INTEGER NOT NULL, receipt BLOB NOT NULL, PRIMARY KEY (case_id, seq));
CREATE TABLE alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT, case_id BLOB NOT NULL, kind INTEGER NOT NULL,
  seq INTEGER NOT NULL, detail TEXT NOT NULL, evidence BLOB NOT NULL, created_at_ms INTEGER NOT NULL);
)sql";

// Push-time proof (docs/protocol.md "Receipts"): the answers kringd gave to this device's pushes,
// kept until the verified log reaches them, and receipts that contradict the first one stored for
// their seq (kept, not dropped: two of them prove that the server equivocated).
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE push_results (
  case_id BLOB NOT NULL, seq INTEGER NOT NULL, envelope_hash BLOB NOT NULL,
  client_op_id BLOB NOT NULL, result BLOB NOT NULL, PRIMARY KEY (case_id, seq, envelope_hash));
CREATE TABLE receipt_conflicts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, case_id BLOB NOT NULL, seq INTEGER NOT NULL,
  receipt BLOB NOT NULL, UNIQUE (case_id, seq, receipt));
)sql";
// state_form 2: cases.state is a sealed v1::StoredCaseState (large values stay in the log only);
// 1: a sealed v1::CaseState, as written before.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE cases ADD COLUMN state_form INTEGER NOT NULL DEFAULT 1;
)sql";
// Client op id counters per case (NewClientOpId): `next` is the first counter not yet reserved.
// Members of a case see its op headers, so a counter shared by all cases (meta 'op_counter'
// before) showed them how many ops this device queued in its other cases. Cases known when this
// runs continue above every id the shared counter gave out; cases added later start at 0.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE op_counters (case_id BLOB PRIMARY KEY, next INTEGER NOT NULL);
INSERT INTO op_counters (case_id, next)
  SELECT cases.case_id, CAST(meta.value AS INTEGER) FROM cases, meta WHERE meta.key = 'op_counter';
DELETE FROM meta WHERE key = 'op_counter';
)sql";
// No table changes: from here a state_form 2 state may name a long value by the op that wrote it
// (StoredValueRefs.mutations, the op's digest) instead of by the value's digest. A libkring from
// before reads such names as value digests and would report every long note as lost; with this
// version it refuses the store as newer than itself instead.
constexpr std::string_view kSchemaV5 = R"sql(
INSERT OR REPLACE INTO meta (key, value) VALUES ('stored_value_refs', 'op-digest');
)sql";
// The content rules changed (nobody changes the kind or link of the person linked to their own
// account, domain::ChangesOwnClass): ops a libkring from before applied are skipped now, so a state
// folded before would differ from what a new device, a restore or a replay folds from the same
// log. Every case known when this runs is folded again from its log once, at its next pull
// (SyncEngine::PullOnce); a later change of the rules adds its own migration filling this table.
constexpr std::string_view kSchemaV6 = R"sql(
CREATE TABLE IF NOT EXISTS refold_due (case_id BLOB PRIMARY KEY);
INSERT OR IGNORE INTO refold_due (case_id) SELECT case_id FROM cases;
)sql";
// A removal of this account that the verified state shows but no catch-up has ended at yet
// (CaseRecord::removal_unsettled): its queued changes wait for the verdict. A libkring from
// before rejected them right after the batch with the removal, in a transaction of its own: a
// crash in between left them queued for good. So every case with changes still queued is marked;
// the mark counts only while the state shows the removal (it is encrypted, so SQL cannot tell),
// and such a case is settled at its next sync. Other cases' marks mean nothing.
constexpr std::string_view kSchemaV7 = R"sql(
ALTER TABLE cases ADD COLUMN removal_unsettled INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET removal_unsettled = 1
  WHERE case_id IN (SELECT case_id FROM intents WHERE rejected = 0);
)sql";
// The removals schema 7 marked were verified by a libkring from before, which told the app
// "removed from case" in the same sync that committed them: what stayed queued is mostly what the
// user wrote after that (a removed case still takes edits, and nothing of it was pulled or pushed
// again). Their mark becomes 2, "told already": settling one rejects the queued changes (one
// event) but does not tell the removal a second time. (A crash between the old commit and its
// rejection, rare, then goes untold as an event; the view shows the removal either way.) A store
// that ran schema 7 with a libkring that marks removals itself has such marks turned too: at
// worst, again, one untold event.
constexpr std::string_view kSchemaV8 = R"sql(
UPDATE cases SET removal_unsettled = 2 WHERE removal_unsettled = 1;
)sql";
// Every case known is marked to be folded again from its log once, at its next pull: the migration
// of each change of the fold (schemas 9 to 13 and 15 below; a store that upgrades across several
// folds once, as a case is due or not).
constexpr std::string_view kRefoldEveryCase = R"sql(
INSERT OR IGNORE INTO refold_due (case_id) SELECT case_id FROM cases;
)sql";
// The content rules changed again since schema 6, as that one says (ops applied before are skipped
// now, or ops skipped before apply now): the resident's person stays in the circle and only the
// chair changes a kind to or from resident (person.resident_stays), the meeting's record (notes
// that follow private time, finishing the meeting; CheckMeetingNote), the resident's person is
// never deleted, the link of the chair's own person is the chair's (person.chair_link), the first
// referral is made only by an organiser or a professional in the circle
// (referral.first_by_organiser) and is never deleted, an account has at most one live person
// (person.account_in_use), the kind of the chair's person is the chair's, and private time ends
// only with the network's release. Every case known is folded again from its log once.
constexpr std::string_view kSchemaV9 = kRefoldEveryCase;
// The content rules changed again since schema 9: a referral after the case's first names the
// first one's resident, and nobody else is made resident once it does (person.second_resident);
// a referral says the resident referred only when the chair made it; and once the first referral
// names the resident, a kind "resident" on anyone else no longer keeps them in the circle
// (IsTheResident). Every case known is folded again from its log once.
constexpr std::string_view kSchemaV10 = kRefoldEveryCase;
// The content rules changed again since schema 10: a plan version (and its details) is made only
// by the chair, a coordinator, or a network member in the network's private time
// (plan_rule::kPlanVersion). Every case known is folded again from its log once (a store that
// upgrades from 9 folds once: a case is due or not).
constexpr std::string_view kSchemaV11 = kRefoldEveryCase;
// The content rules changed again since schema 11: the first referral names as resident, in the op
// that makes it, only the top-ranked live person entered as the resident before it, or one that op
// enters when nobody was (rule.first_referral_resident, RankedResident). Every case known is folded
// again from its log once.
constexpr std::string_view kSchemaV12 = kRefoldEveryCase;
// The content rules changed again since schema 12: the network makes its plan version once, after
// its meeting release, named in the meeting's write-once `network_version` by the op that makes it
// (NetworkMakesVersion); an old log's release made in private time stays its one version. Every
// case known is folded again from its log once.
constexpr std::string_view kSchemaV13 = kRefoldEveryCase;
// The verified log as runs of consecutive entries, one row each (store/log_segments.h), instead of
// one row per entry: a cold sync's thousands of rows were a third of the sync's own thread. The
// rows of `log` are moved here by MoveLogToSegments, right after the migrations.
constexpr std::string_view kSchemaV14 = R"sql(
CREATE TABLE log_segments (
  case_id BLOB NOT NULL, last_seq INTEGER NOT NULL, first_seq INTEGER NOT NULL,
  chain_hashes BLOB NOT NULL, envelopes BLOB NOT NULL,
  PRIMARY KEY (case_id, last_seq));
)sql";
// The fold keeps who was removed from the case (CaseState.removed_account_ids), so a person
// linked to an account that never was a member reads "not yet in the app" instead of "no longer
// takes part". A state stored before has none: every case known is folded again from its log once.
constexpr std::string_view kSchemaV15 = kRefoldEveryCase;
constexpr int64_t kStateFormWithRefs = 2;
// Client op id counters reserved per write of a case's op_counters row (NewClientOpId).
constexpr int64_t kOpCounterBlock = 1024;

constexpr char kInsertSegmentSql[] =
    "INSERT INTO log_segments (case_id, last_seq, first_seq, chain_hashes, envelopes) "
    "VALUES (?, ?, ?, ?, ?)";
// The row of a case's log that holds `seq` when any does: the first ending at or after it (its
// first_seq tells whether it starts at or before it).
constexpr char kSegmentAtSql[] =
    "SELECT first_seq, last_seq, chain_hashes, envelopes FROM log_segments "
    "WHERE case_id = ? AND last_seq >= ? ORDER BY last_seq LIMIT 1";

// A log_segments row read back, split into its entries (views into its own blobs: not moved
// once read).
struct SegmentRow {
  std::string chain_hashes;
  std::string envelopes;
  std::vector<SegmentEntry> entries;

  // The entry at `seq`, or null when this row does not hold it.
  const SegmentEntry* At(uint64_t seq) const {
    if (entries.empty() || seq < entries.front().seq || seq > entries.back().seq) return nullptr;
    return &entries[static_cast<size_t>(seq - entries.front().seq)];
  }
};

// Reads the current row of `st` (first_seq, last_seq, chain_hashes, envelopes) into `row`.
Status ReadSegmentRow(const sql::Statement& st, SegmentRow* row) {
  row->chain_hashes = st.BlobString(2);
  row->envelopes = st.BlobString(3);
  return SplitSegment(st.Int(0), st.Int(1), View(row->chain_hashes), View(row->envelopes),
                      &row->entries);
}

// Reads the row of the case's log that holds `seq` into `row` with `st` (kSegmentAtSql): false
// when no row holds it.
Result<bool> ReadSegmentAt(sql::Statement& st, ByteView case_id, uint64_t seq, SegmentRow* row) {
  st.Reset();
  st.Bind(1, case_id).Bind(2, static_cast<int64_t>(seq));
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return false;
  }
  // Seqs that cannot be a row's are corrupted, not a gap.
  if (st.Int(0) < 1 || st.Int(1) < st.Int(0)) return DataLoss("stored log segment is malformed");
  if (st.Int(0) > static_cast<int64_t>(seq)) return false;  // a gap: the row starts after it
  KRING_RETURN_IF_ERROR(ReadSegmentRow(st, row));
  return true;
}

// Appends the runs of `entries` (in seq order) to the case's log, a row per run of consecutive
// entries of up to kMaxSegmentEntries, inside the caller's transaction. An entry whose seq is
// stored already refuses the whole write (AlreadyExists), as the unique (case_id, seq) of the
// rows per entry did: a new row may not overlap a stored one.
Status AppendLog(sql::Database& db, ByteView case_id,
                 std::span<const v1::LogEntry* const> entries) {
  sql::Statement stored(db,
                        "SELECT first_seq FROM log_segments WHERE case_id = ? AND last_seq >= ? "
                        "ORDER BY last_seq LIMIT 1");
  sql::Statement ins(db, kInsertSegmentSql);
  SegmentBuilder row;
  auto write_row = [&]() -> Status {
    stored.Reset();
    stored.BindBorrowed(1, case_id).Bind(2, static_cast<int64_t>(row.first_seq()));
    const bool overlaps = stored.Step() && stored.Int(0) <= static_cast<int64_t>(row.last_seq());
    KRING_RETURN_IF_ERROR(stored.status());
    stored.Reset();  // no read cursor left open on the table while the row goes in
    if (overlaps) {
      return Status(StatusCode::kAlreadyExists, "a log entry of the batch is stored already");
    }
    // Bound without SQLite's copy: `row` is not touched until the statement has run.
    ins.Reset();
    KRING_RETURN_IF_ERROR(ins.BindBorrowed(1, case_id)
                              .Bind(2, static_cast<int64_t>(row.last_seq()))
                              .Bind(3, static_cast<int64_t>(row.first_seq()))
                              .BindBorrowed(4, row.chain_hashes())
                              .BindBorrowed(5, row.envelopes())
                              .Run());
    row.Clear();
    return {};
  };
  for (const v1::LogEntry* e : entries) {
    if (!row.empty() && !row.Continues(e->seq())) KRING_RETURN_IF_ERROR(write_row());
    KRING_RETURN_IF_ERROR(row.AddSerialized(e->seq(), View(e->chain_hash()), [&](std::string& out) {
      e->envelope().AppendToString(&out);
    }));
  }
  return row.empty() ? Status() : write_row();
}

// Store schema 14's move of the log's rows (table `log`, one per entry) into log_segments, in one
// transaction that drops `log`: until it commits, `log` is whole (a crash before it leaves the
// move to the next Open), and after it nothing reads `log`. Nothing to do once `log` is gone.
Status MoveLogToSegments(sql::Database& db) {
  {
    sql::Statement has(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'log'");
    if (!has.Step()) return has.status();
  }
  sql::Transaction tx(db);
  KRING_RETURN_IF_ERROR(tx.status());
  sql::Statement rows(db,
                      "SELECT case_id, seq, chain_hash, envelope FROM log ORDER BY case_id, seq");
  sql::Statement ins(db, kInsertSegmentSql);
  Bytes row_case;
  SegmentBuilder row;
  auto write_row = [&]() -> Status {
    ins.Reset();
    KRING_RETURN_IF_ERROR(ins.Bind(1, row_case)
                              .Bind(2, static_cast<int64_t>(row.last_seq()))
                              .Bind(3, static_cast<int64_t>(row.first_seq()))
                              .BindBorrowed(4, row.chain_hashes())
                              .BindBorrowed(5, row.envelopes())
                              .Run());
    row.Clear();
    return {};
  };
  while (rows.Step()) {
    Bytes case_id = rows.Blob(0);
    const int64_t seq = rows.Int(1);
    if (!row.empty() && (case_id != row_case || !row.Continues(static_cast<uint64_t>(seq)))) {
      KRING_RETURN_IF_ERROR(write_row());
    }
    if (row.empty()) row_case = std::move(case_id);
    const std::string chain_hash = rows.BlobString(2);
    const std::string envelope = rows.BlobString(3);
    if (seq < 1 || !row.Add(static_cast<uint64_t>(seq), View(chain_hash), View(envelope)).ok()) {
      return DataLoss("stored log entry is malformed");
    }
  }
  KRING_RETURN_IF_ERROR(rows.status());
  if (!row.empty()) KRING_RETURN_IF_ERROR(write_row());
  KRING_RETURN_IF_ERROR(db.Exec("DROP TABLE log"));
  return tx.Commit();
}

constexpr std::string_view kKeyCheckLabel = "key-check";
// From this many log rows on, ApplyBatch seals the state on a second thread.
constexpr size_t kParallelSealEntries = 256;
constexpr std::string_view kKeyCheckValue = "kring-storage-key-check";

std::string CaseLabel(std::string_view what, ByteView case_id) {
  return std::string(what) + ":" + Hex(case_id);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& path,
                                                     ByteView storage_key) {
  KRING_ASSIGN_OR_RETURN(AtRest at_rest, AtRest::FromStorageKey(storage_key));
  KRING_ASSIGN_OR_RETURN(
      sql::Database db,
      sql::Database::Open(path, /*read_only=*/false, sql::Database::Checkpoints::kBackground));
  KRING_RETURN_IF_ERROR(db.Migrate({kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4, kSchemaV5,
                                    kSchemaV6, kSchemaV7, kSchemaV8, kSchemaV9, kSchemaV10,
                                    kSchemaV11, kSchemaV12, kSchemaV13, kSchemaV14, kSchemaV15}));
  KRING_RETURN_IF_ERROR(MoveLogToSegments(db));
  // A wrong storage key must fail here, not later with undecryptable records.
  sql::Statement get(db, "SELECT value FROM meta WHERE key = 'key_check'");
  if (get.Step()) {
    if (!at_rest.Open(kKeyCheckLabel, get.Blob(0)).ok()) {
      return Status(StatusCode::kPermissionDenied, "storage key does not open this local store");
    }
  } else {
    KRING_RETURN_IF_ERROR(get.status());
    sql::Statement put(db, "INSERT INTO meta (key, value) VALUES ('key_check', ?)");
    KRING_RETURN_IF_ERROR(put.Bind(1, at_rest.Seal(kKeyCheckLabel, View(kKeyCheckValue))).Run());
  }
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(db), std::move(at_rest)));
}

Result<std::optional<v1::LocalAccount>> LocalStore::LoadAccount() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT value FROM meta WHERE key = 'account'");
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return std::optional<v1::LocalAccount>();
  }
  KRING_ASSIGN_OR_RETURN(SecretBytes plain, at_rest_.Open("account", st.Blob(0)));
  v1::LocalAccount account;
  if (!account.ParseFromArray(plain.data(), static_cast<int>(plain.size()))) {
    return DataLoss("local account record is malformed");
  }
  return std::optional<v1::LocalAccount>(std::move(account));
}

Status LocalStore::SaveAccount(const v1::LocalAccount& account) {
  std::lock_guard<std::mutex> lock(mu_);
  SecretBytes plain(account.ByteSizeLong());
  account.SerializeToArray(plain.data(), static_cast<int>(plain.size()));
  sql::Statement st(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('account', ?)");
  return st.Bind(1, at_rest_.Seal("account", plain)).Run();
}

Result<std::optional<v1::LocalAccount>> LocalStore::LoadPendingDevice() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT value FROM meta WHERE key = 'pending_device'");
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return std::optional<v1::LocalAccount>();
  }
  KRING_ASSIGN_OR_RETURN(SecretBytes plain, at_rest_.Open("pending_device", st.Blob(0)));
  v1::LocalAccount keys;
  if (!keys.ParseFromArray(plain.data(), static_cast<int>(plain.size()))) {
    return DataLoss("pending device record is malformed");
  }
  return std::optional<v1::LocalAccount>(std::move(keys));
}

Status LocalStore::SavePendingDevice(const v1::LocalAccount& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  SecretBytes plain(keys.ByteSizeLong());
  keys.SerializeToArray(plain.data(), static_cast<int>(plain.size()));
  sql::Statement st(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('pending_device', ?)");
  return st.Bind(1, at_rest_.Seal("pending_device", plain)).Run();
}

Status LocalStore::ClearPendingDevice() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "DELETE FROM meta WHERE key = 'pending_device'");
  return st.Run();
}

Result<std::optional<Bytes>> LocalStore::PinnedServerKey() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT value FROM meta WHERE key = 'server_key'");
  if (st.Step()) return std::optional<Bytes>(st.Blob(0));
  KRING_RETURN_IF_ERROR(st.status());
  return std::optional<Bytes>();
}

Status LocalStore::PinServerKey(ByteView key) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('server_key', ?)");
  return st.Bind(1, key).Run();
}

Result<Bytes> LocalStore::NewClientOpId(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  OpCounterBlock& block = op_counters_[Bytes(case_id.begin(), case_id.end())];
  if (block.next == block.end) {
    // Reserves the case's next block in one statement, atomic against other connections to the
    // file; one write per block instead of one per id.
    sql::Statement st(db_,
                      "INSERT INTO op_counters (case_id, next) VALUES (?1, ?2) "
                      "ON CONFLICT (case_id) DO UPDATE SET next = next + ?2 RETURNING next");
    st.Bind(1, case_id).Bind(2, kOpCounterBlock);
    std::optional<uint64_t> end;
    // Stepped to the end: the autocommit COMMIT runs there, and a block whose commit failed
    // must not be handed out (a restart would hand out its counters again).
    while (st.Step()) end = static_cast<uint64_t>(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
    if (!end) return Internal("op counter not reserved");
    block.end = *end;
    block.next = block.end - static_cast<uint64_t>(kOpCounterBlock);
  }
  const uint64_t counter = block.next++;
  Bytes id = crypto::RandomBytes(crypto::kIdBytes);
  for (size_t i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>(counter >> (56 - 8 * i));
  return id;
}

Status LocalStore::SaveChain(ByteView account_id, const std::vector<v1::ChainLink>& links) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::GetChainResponse all;
  for (const auto& l : links) *all.add_links() = l;
  sql::Statement st(db_, "INSERT OR REPLACE INTO chains (account_id, links) VALUES (?, ?)");
  return st.Bind(1, account_id).Bind(2, all.SerializeAsString()).Run();
}

Result<std::optional<UserChain>> LocalStore::LoadChain(ByteView account_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT links FROM chains WHERE account_id = ?");
  st.Bind(1, account_id);
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return std::optional<UserChain>();
  }
  v1::GetChainResponse all;
  if (!all.ParseFromString(st.BlobString(0))) return DataLoss("stored chain is malformed");
  KRING_ASSIGN_OR_RETURN(UserChain chain,
                         VerifyChain(account_id, {all.links().begin(), all.links().end()}));
  return std::optional<UserChain>(std::move(chain));
}

void LocalStore::CaseWrittenLocked() {
  ++case_writes_;
  ++view_writes_;
  kept_.reset();
}

void LocalStore::NoteOtherWritersLocked() {
  // Changes when another connection (another process on the same file) committed anything.
  sql::Statement st(db_, "PRAGMA data_version");
  const int64_t now = st.Step() ? st.Int(0) : -1;
  if (now == -1 || now != data_version_) {
    data_version_ = now;
    CaseWrittenLocked();
    kept_intents_.reset();
  }
}

Status LocalStore::CreateCase(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "INSERT OR IGNORE INTO cases (case_id) VALUES (?)");
  KRING_RETURN_IF_ERROR(st.Bind(1, case_id).Run());
  // Every sync lists the known cases again: a case already here is not written, and its kept
  // record stays (dropping it made the next sync decrypt and parse the whole stored state).
  if (db_.Changes() > 0) CaseWrittenLocked();
  return {};
}

Result<std::optional<CaseRecord>> LocalStore::LoadCase(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  // A copy of the kept record is cheaper than decrypting and parsing the stored state.
  std::optional<CaseRecord> rec;
  if (kept_ && kept_->case_id == Bytes(case_id.begin(), case_id.end())) {
    rec = *kept_;
  } else {
    KRING_ASSIGN_OR_RETURN(rec, LoadCaseLocked(case_id));
  }
  if (rec) model::ClearSources(rec->state);
  return rec;
}

Result<std::optional<CaseFlags>> LocalStore::LoadCaseFlags(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  if (!kept_ || kept_->case_id != Bytes(case_id.begin(), case_id.end())) {
    // Parsed anyway: kept, so the sync that usually follows takes it without parsing again.
    KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> loaded, LoadCaseLocked(case_id));
    if (!loaded) return std::optional<CaseFlags>();
    kept_ = std::move(loaded);
  }
  const bool removed = kept_->state.removed();
  return std::optional<CaseFlags>(
      CaseFlags{kept_->head_seq, kept_->halted, removed, removed && kept_->removal_unsettled,
                kept_->state.pending_approval(), kept_->state.closed()});
}

Result<std::optional<CaseRecord>> LocalStore::TakeCase(ByteView case_id, uint64_t* version) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  *version = case_writes_;
  if (kept_ && kept_->case_id == Bytes(case_id.begin(), case_id.end())) {
    std::optional<CaseRecord> out = std::move(kept_);
    kept_.reset();
    return out;
  }
  return LoadCaseLocked(case_id);
}

void LocalStore::KeepCase(CaseRecord rec, uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  if (version != 0 && version == case_writes_) kept_ = std::move(rec);
}

Result<std::optional<CaseRecord>> LocalStore::LoadCaseLocked(ByteView case_id) {
  sql::Statement st(db_,
                    "SELECT head_seq, head_hash, halted, state, state_form, removal_unsettled "
                    "FROM cases WHERE case_id = ?");
  st.Bind(1, case_id);
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return std::optional<CaseRecord>();
  }
  CaseRecord rec;
  rec.case_id = Bytes(case_id.begin(), case_id.end());
  rec.head_seq = static_cast<uint64_t>(st.Int(0));
  rec.head_hash = st.Blob(1);
  rec.halted = st.Int(2) != 0;
  rec.removal_unsettled = st.Int(5) != 0;
  if (!st.IsNull(3)) {
    KRING_ASSIGN_OR_RETURN(SecretBytes plain,
                           at_rest_.Open(CaseLabel("state", case_id), st.Blob(3)));
    if (st.Int(4) == kStateFormWithRefs) {
      KRING_ASSIGN_OR_RETURN(rec.state, ParseStateLocked(case_id, plain));
    } else if (!rec.state.ParseFromArray(plain.data(), static_cast<int>(plain.size()))) {
      return DataLoss("stored case state is malformed");
    }
  }
  return std::optional<CaseRecord>(std::move(rec));
}

Bytes LocalStore::SealState(ByteView case_id, v1::CaseState& state) const {
  // Serialized and sealed in one buffer: a state of megabytes in a second buffer is fresh
  // memory (page faults) and a copy, and a plaintext buffer would have to be wiped as well.
  // The label first: nothing allocates between the serialization and the seal but the seal.
  const std::string label = CaseLabel("state", case_id);
  return at_rest_.SealInPlace(label,
                              SerializeStoredState(state, AtRest::kSealFront, AtRest::kSealBack));
}

Status LocalStore::WriteStateLocked(std::string_view update_sql, ByteView case_id,
                                    v1::CaseState& state) {
  // Declared before the statement, which borrows it: SQLite's copy of a sealed state of
  // megabytes would be one more buffer of fresh memory.
  const Bytes sealed = SealState(case_id, state);
  sql::Statement st(db_, update_sql);
  return st.BindBorrowed(1, sealed).Bind(2, kStateFormWithRefs).Bind(3, case_id).Run();
}

Result<v1::CaseState> LocalStore::ParseStateLocked(ByteView case_id, ByteView plain) {
  // One statement for every entry a left-out value is in, and each epoch's subkeys derived once.
  // The entries are asked for in seq order: the row last read usually holds the next one too.
  sql::Statement st(db_, kSegmentAtSql);
  SegmentRow row;
  std::map<std::pair<uint32_t, uint64_t>, EpochSubkeys> subkeys;
  auto open = [&](uint64_t seq) -> Result<LogContent> {
    const SegmentEntry* entry = row.At(seq);
    if (entry == nullptr) {
      KRING_ASSIGN_OR_RETURN(const bool found, ReadSegmentAt(st, case_id, seq, &row));
      entry = found ? row.At(seq) : nullptr;
      if (entry == nullptr)
        return DataLoss("a log entry the stored case state refers to is missing");
    }
    v1::Envelope env;
    v1::OpHeader header;
    if (!env.ParseFromArray(entry->envelope.data(), static_cast<int>(entry->envelope.size())) ||
        !header.ParseFromString(env.header()) || header.kind() != v1::OP_KIND_CONTENT) {
      return DataLoss("a log entry the stored case state refers to is not a content op");
    }
    auto keys = subkeys.find({header.scope_id(), header.epoch()});
    if (keys == subkeys.end()) {
      KRING_ASSIGN_OR_RETURN(std::optional<EpochKey> key,
                             FindEpochKeyLocked(case_id, header.scope_id(), header.epoch()));
      if (!key) return DataLoss("the key of a log entry the stored case state refers to is gone");
      keys = subkeys
                 .emplace(std::make_pair(header.scope_id(), header.epoch()),
                          DeriveEpochSubkeys(key->key))
                 .first;
    }
    OpenedContent opened = OpenContent(env, keys->second);
    if (opened.outcome != OpenedContent::Outcome::kOk) {
      return DataLoss("a log entry the stored case state refers to does not open");
    }
    return LogContent{std::move(opened.content), protocol::OpDigest(env)};
  };
  return ParseStoredState(plain, open);
}

Result<std::vector<Bytes>> LocalStore::CaseIds() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT case_id FROM cases ORDER BY rowid");
  std::vector<Bytes> out;
  while (st.Step()) out.push_back(st.Blob(0));
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Result<std::optional<Bytes>> LocalStore::ChainHashAt(ByteView case_id, uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  // Only the hash is copied out of the row (the verifier asks for one per op in some catch-ups);
  // the row's size is still checked against its seqs, as SplitSegment does.
  sql::Statement st(db_,
                    "SELECT first_seq, last_seq, length(chain_hashes), "
                    "substr(chain_hashes, (?2 - first_seq) * 32 + 1, 32) FROM log_segments "
                    "WHERE case_id = ?1 AND last_seq >= ?2 ORDER BY last_seq LIMIT 1");
  st.Bind(1, case_id).Bind(2, static_cast<int64_t>(seq));
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return std::optional<Bytes>();
  }
  const int64_t first = st.Int(0);
  const int64_t last = st.Int(1);
  if (first < 1 || last < first) return DataLoss("stored log segment is malformed");
  if (first > static_cast<int64_t>(seq)) return std::optional<Bytes>();  // a gap: not stored
  if (static_cast<uint64_t>(last - first) >= kMaxReadSegmentEntries ||
      st.Int(2) != (last - first + 1) * static_cast<int64_t>(crypto::kHashBytes)) {
    return DataLoss("stored log segment is malformed");
  }
  Bytes hash = st.Blob(3);
  if (hash.size() != crypto::kHashBytes) return DataLoss("stored log segment is malformed");
  return std::optional<Bytes>(std::move(hash));
}

Result<std::map<Bytes, DeviceHead>> LocalStore::DeviceHeads(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_,
                    "SELECT device_id, counter, last_hash FROM device_heads WHERE case_id = ?");
  st.Bind(1, case_id);
  std::map<Bytes, DeviceHead> out;
  while (st.Step()) out[st.Blob(0)] = DeviceHead{static_cast<uint64_t>(st.Int(1)), st.Blob(2)};
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Status LocalStore::SaveEpochKeyLocked(ByteView case_id, const EpochKey& key) {
  std::string label = CaseLabel("epoch", case_id) + ":" + std::to_string(key.scope_id) + ":" +
                      std::to_string(key.epoch);
  sql::Statement st(db_,
                    "INSERT OR REPLACE INTO epoch_keys (case_id, scope_id, epoch, key) "
                    "VALUES (?, ?, ?, ?)");
  return st.Bind(1, case_id)
      .Bind(2, static_cast<int64_t>(key.scope_id))
      .Bind(3, static_cast<int64_t>(key.epoch))
      .Bind(4, at_rest_.Seal(label, key.key))
      .Run();
}

Status LocalStore::SaveEpochKey(ByteView case_id, const EpochKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return SaveEpochKeyLocked(case_id, key);
}

Result<std::optional<EpochKey>> LocalStore::FindEpochKey(ByteView case_id, uint32_t scope_id,
                                                         uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindEpochKeyLocked(case_id, scope_id, epoch);
}

Result<std::optional<EpochKey>> LocalStore::FindEpochKeyLocked(ByteView case_id, uint32_t scope_id,
                                                               uint64_t epoch) {
  sql::Statement st(db_,
                    "SELECT key FROM epoch_keys WHERE case_id = ? AND scope_id = ? AND epoch = ?");
  st.Bind(1, case_id).Bind(2, static_cast<int64_t>(scope_id)).Bind(3, static_cast<int64_t>(epoch));
  if (!st.Step()) {
    KRING_RETURN_IF_ERROR(st.status());
    return std::optional<EpochKey>();
  }
  std::string label =
      CaseLabel("epoch", case_id) + ":" + std::to_string(scope_id) + ":" + std::to_string(epoch);
  KRING_ASSIGN_OR_RETURN(SecretBytes key, at_rest_.Open(label, st.Blob(0)));
  return std::optional<EpochKey>(EpochKey{scope_id, epoch, std::move(key)});
}

Result<std::optional<EpochKey>> LocalStore::LatestEpochKey(ByteView case_id, uint32_t scope_id) {
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sql::Statement st(db_, "SELECT MAX(epoch) FROM epoch_keys WHERE case_id = ? AND scope_id = ?");
    st.Bind(1, case_id).Bind(2, static_cast<int64_t>(scope_id));
    if (st.Step() && !st.IsNull(0)) epoch = static_cast<uint64_t>(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
  }
  if (epoch == 0) return std::optional<EpochKey>();
  return FindEpochKey(case_id, scope_id, epoch);
}

uint64_t LocalStore::ViewVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  return view_writes_;
}

bool LocalStore::IntentWrittenLocked(uint64_t* view_version) {
  NoteOtherWritersLocked();
  const bool in_step =
      view_version != nullptr && *view_version != 0 && *view_version == view_writes_;
  ++view_writes_;
  if (view_version != nullptr) *view_version = 0;  // set once the write is done
  return in_step;
}

Status LocalStore::AddContentIntent(ByteView case_id, ByteView client_op_id,
                                    const v1::ContentOp& op, uint64_t* view_version) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool in_step = IntentWrittenLocked(view_version);
  SecretBytes plain(op.ByteSizeLong());
  op.SerializeToArray(plain.data(), static_cast<int>(plain.size()));
  sql::Statement st(db_,
                    "INSERT INTO intents (case_id, client_op_id, control, content) "
                    "VALUES (?, ?, 0, ?)");
  KRING_RETURN_IF_ERROR(
      st.Bind(1, case_id)
          .Bind(2, client_op_id)
          .Bind(3, at_rest_.Seal(CaseLabel("intent", case_id) + ":" + Hex(client_op_id), plain))
          .Run());
  if (std::vector<Intent>* kept = KeptIntentsLocked(case_id)) {
    Intent in;
    in.id = db_.LastInsertRowId();
    in.case_id = Bytes(case_id.begin(), case_id.end());
    in.client_op_id = Bytes(client_op_id.begin(), client_op_id.end());
    in.content = op;
    kept->push_back(std::move(in));
  }
  if (in_step) *view_version = view_writes_;
  return {};
}

Status LocalStore::AddControlIntent(ByteView case_id, ByteView client_op_id,
                                    const v1::ControlIntent& op, uint64_t* view_version) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool in_step = IntentWrittenLocked(view_version);
  KRING_RETURN_IF_ERROR(AddControlIntentLocked(case_id, client_op_id, op));
  if (std::vector<Intent>* kept = KeptIntentsLocked(case_id)) {
    Intent in;
    in.id = db_.LastInsertRowId();
    in.case_id = Bytes(case_id.begin(), case_id.end());
    in.client_op_id = Bytes(client_op_id.begin(), client_op_id.end());
    in.control = true;
    in.control_op = op;
    kept->push_back(std::move(in));
  }
  if (in_step) *view_version = view_writes_;
  return {};
}

Status LocalStore::StartCase(ByteView case_id, v1::CaseState state, ByteView client_op_id,
                             const v1::ControlIntent& op, ByteView settle_removal_of,
                             SettledRemoval* settled) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  CaseWrittenLocked();
  kept_intents_.reset();  // the transaction may still fail after the intent is added
  if (settled != nullptr) *settled = {};
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  sql::Statement ins(db_, "INSERT OR IGNORE INTO cases (case_id) VALUES (?)");
  KRING_RETURN_IF_ERROR(ins.Bind(1, case_id).Run());
  if (!settle_removal_of.empty()) {
    KRING_ASSIGN_OR_RETURN(SettledRemoval done, SettleRemovalLocked(case_id, settle_removal_of));
    if (settled != nullptr) *settled = done;
  }
  // The state written is not a removal: any mark left is settled above or meant nothing.
  KRING_RETURN_IF_ERROR(WriteStateLocked(
      "UPDATE cases SET state = ?, state_form = ?, removal_unsettled = 0 WHERE case_id = ?",
      case_id, state));
  KRING_RETURN_IF_ERROR(AddControlIntentLocked(case_id, client_op_id, op));
  return tx.Commit();
}

Status LocalStore::AddControlIntentLocked(ByteView case_id, ByteView client_op_id,
                                          const v1::ControlIntent& op) {
  SecretBytes plain(op.ByteSizeLong());
  op.SerializeToArray(plain.data(), static_cast<int>(plain.size()));
  sql::Statement st(db_,
                    "INSERT INTO intents (case_id, client_op_id, control, content) "
                    "VALUES (?, ?, 1, ?)");
  return st.Bind(1, case_id)
      .Bind(2, client_op_id)
      .Bind(3, at_rest_.Seal(CaseLabel("intent", case_id) + ":" + Hex(client_op_id), plain))
      .Run();
}

Result<std::vector<Intent>> LocalStore::PendingIntents(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  return PendingIntentsLocked(case_id);
}

Result<std::optional<std::pair<CaseRecord, std::vector<Intent>>>> LocalStore::CaseWithIntents(
    ByteView case_id, uint64_t* view_version) {
  using Out = std::optional<std::pair<CaseRecord, std::vector<Intent>>>;
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  if (view_version != nullptr) *view_version = view_writes_;
  std::optional<CaseRecord> rec;
  if (kept_ && kept_->case_id == Bytes(case_id.begin(), case_id.end())) {
    rec = *kept_;  // a copy is cheaper than decrypting and parsing the stored state
  } else {
    KRING_ASSIGN_OR_RETURN(rec, LoadCaseLocked(case_id));
  }
  if (!rec) return Out();
  model::ClearSources(rec->state);
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, PendingIntentsLocked(case_id));
  return Out(std::make_pair(std::move(*rec), std::move(intents)));
}

std::vector<Intent>* LocalStore::KeptIntentsLocked(ByteView case_id) {
  if (!kept_intents_ || kept_intents_->first != Bytes(case_id.begin(), case_id.end())) {
    return nullptr;
  }
  return &kept_intents_->second;
}

Result<std::vector<Intent>> LocalStore::PendingIntentsLocked(ByteView case_id) {
  if (const std::vector<Intent>* kept = KeptIntentsLocked(case_id)) return *kept;
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> loaded, LoadIntentsLocked(case_id));
  kept_intents_.emplace(Bytes(case_id.begin(), case_id.end()), loaded);
  return loaded;
}

Result<std::vector<Intent>> LocalStore::LoadIntentsLocked(ByteView case_id) {
  sql::Statement st(db_,
                    "SELECT id, client_op_id, control, content, sealed FROM intents "
                    "WHERE case_id = ? AND rejected = 0 ORDER BY id");
  st.Bind(1, case_id);
  std::vector<Intent> out;
  while (st.Step()) {
    Intent in;
    in.id = st.Int(0);
    in.case_id = Bytes(case_id.begin(), case_id.end());
    in.client_op_id = st.Blob(1);
    in.control = st.Int(2) != 0;
    if (!st.IsNull(3)) {
      KRING_ASSIGN_OR_RETURN(
          SecretBytes plain,
          at_rest_.Open(CaseLabel("intent", case_id) + ":" + Hex(in.client_op_id), st.Blob(3)));
      bool parsed = in.control
                        ? in.control_op.ParseFromArray(plain.data(), static_cast<int>(plain.size()))
                        : in.content.ParseFromArray(plain.data(), static_cast<int>(plain.size()));
      if (!parsed) return DataLoss("stored intent is malformed");
    }
    if (!st.IsNull(4)) {
      v1::SealedIntent sealed;
      if (!sealed.ParseFromString(st.BlobString(4)))
        return DataLoss("stored envelope is malformed");
      in.sealed.assign(sealed.envelopes().begin(), sealed.envelopes().end());
    }
    out.push_back(std::move(in));
  }
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Result<size_t> LocalStore::PendingIntentCount(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  if (const std::vector<Intent>* kept = KeptIntentsLocked(case_id)) return kept->size();
  sql::Statement st(db_, "SELECT COUNT(*) FROM intents WHERE case_id = ? AND rejected = 0");
  st.Bind(1, case_id);
  size_t n = 0;
  if (st.Step()) n = static_cast<size_t>(st.Int(0));
  KRING_RETURN_IF_ERROR(st.status());
  return n;
}

Result<std::optional<bool>> LocalStore::IntentRejected(ByteView case_id, ByteView client_op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  sql::Statement st(db_, "SELECT rejected FROM intents WHERE case_id = ? AND client_op_id = ?");
  st.Bind(1, case_id).Bind(2, client_op_id);
  std::optional<bool> rejected;
  if (st.Step()) rejected = st.Int(0) != 0;
  KRING_RETURN_IF_ERROR(st.status());
  return rejected;
}

Result<bool> LocalStore::RefoldDue(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT 1 FROM refold_due WHERE case_id = ?");
  st.Bind(1, case_id);
  const bool due = st.Step();
  KRING_RETURN_IF_ERROR(st.status());
  return due;
}

Status LocalStore::RefoldDone(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "DELETE FROM refold_due WHERE case_id = ?");
  return st.Bind(1, case_id).Run();
}

Status LocalStore::SetSealed(int64_t intent_id, const std::vector<v1::Envelope>& envelopes) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::SealedIntent sealed;
  for (const auto& e : envelopes) *sealed.add_envelopes() = e;
  sql::Statement st(db_, "UPDATE intents SET sealed = ? WHERE id = ?");
  KRING_RETURN_IF_ERROR(st.Bind(1, sealed.SerializeAsString()).Bind(2, intent_id).Run());
  if (kept_intents_) {
    for (Intent& in : kept_intents_->second) {
      if (in.id == intent_id) in.sealed = envelopes;
    }
  }
  return {};
}

Status LocalStore::SetSealedMany(const std::vector<const Intent*>& intents) {
  if (intents.empty()) return {};
  // Serialized before the lock: a thousand sealed forms are megabytes, and the app's calls to
  // the store wait on the lock meanwhile.
  std::vector<std::string> blobs;
  blobs.reserve(intents.size());
  for (const Intent* in : intents) {
    v1::SealedIntent sealed;
    for (const auto& e : in->sealed) *sealed.add_envelopes() = e;
    blobs.push_back(sealed.SerializeAsString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  sql::Statement st(db_, "UPDATE intents SET sealed = ? WHERE id = ?");
  std::map<int64_t, const Intent*> by_id;
  for (size_t i = 0; i < intents.size(); ++i) {
    st.Reset();
    KRING_RETURN_IF_ERROR(st.BindBorrowed(1, View(blobs[i])).Bind(2, intents[i]->id).Run());
    by_id[intents[i]->id] = intents[i];
  }
  KRING_RETURN_IF_ERROR(tx.Commit());
  if (kept_intents_) {
    for (Intent& in : kept_intents_->second) {
      auto it = by_id.find(in.id);
      if (it != by_id.end()) in.sealed = it->second->sealed;
    }
  }
  return {};
}

Status LocalStore::ClearSealed(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "UPDATE intents SET sealed = NULL WHERE case_id = ?");
  KRING_RETURN_IF_ERROR(st.Bind(1, case_id).Run());
  if (std::vector<Intent>* kept = KeptIntentsLocked(case_id)) {
    for (Intent& in : *kept) in.sealed.clear();
  }
  return {};
}

Result<std::vector<v1::LogEntry>> LocalStore::LogEntries(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_,
                    "SELECT first_seq, last_seq, chain_hashes, envelopes FROM log_segments "
                    "WHERE case_id = ? ORDER BY last_seq");
  st.Bind(1, case_id);
  std::vector<v1::LogEntry> out;
  SegmentRow row;
  while (st.Step()) {
    KRING_RETURN_IF_ERROR(ReadSegmentRow(st, &row));
    for (const SegmentEntry& s : row.entries) {
      v1::LogEntry e;
      e.set_seq(s.seq);
      e.set_chain_hash(s.chain_hash.data(), s.chain_hash.size());
      if (!e.mutable_envelope()->ParseFromArray(s.envelope.data(),
                                                static_cast<int>(s.envelope.size()))) {
        return DataLoss("stored log entry is malformed");
      }
      out.push_back(std::move(e));
    }
  }
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Status LocalStore::ReplaceState(ByteView case_id, v1::CaseState state, RemovalMark mark) {
  std::lock_guard<std::mutex> lock(mu_);
  CaseWrittenLocked();
  return WriteStateLocked(mark == RemovalMark::kKeep
                              ? "UPDATE cases SET state = ?, state_form = ? WHERE case_id = ?"
                              : "UPDATE cases SET state = ?, state_form = ?, removal_unsettled = 0 "
                                "WHERE case_id = ?",
                          case_id, state);
}

Status LocalStore::DeleteCase(ByteView case_id, OpCounter counter) {
  std::lock_guard<std::mutex> lock(mu_);
  CaseWrittenLocked();
  kept_intents_.reset();
  sql::Transaction txn(db_);
  KRING_RETURN_IF_ERROR(txn.status());
  for (const char* table :
       {"log_segments", "device_heads", "epoch_keys", "intents", "receipts", "receipt_conflicts",
        "push_results", "alarms", "op_counters", "refold_due", "cases"}) {
    if (counter == OpCounter::kKeep && std::string_view(table) == "op_counters") continue;
    sql::Statement del(db_, std::string("DELETE FROM ") + table + " WHERE case_id = ?");
    KRING_RETURN_IF_ERROR(del.Bind(1, case_id).Run());
  }
  KRING_RETURN_IF_ERROR(txn.Commit());
  if (counter == OpCounter::kDelete) op_counters_.erase(Bytes(case_id.begin(), case_id.end()));
  // The write-ahead log still holds copies of the deleted pages until it is checkpointed.
  return db_.TruncateWal();
}

Status LocalStore::RejectIntent(int64_t intent_id, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  IntentWrittenLocked(nullptr);
  sql::Statement st(db_, "UPDATE intents SET rejected = 1, error = ? WHERE id = ?");
  KRING_RETURN_IF_ERROR(st.BindText(1, error).Bind(2, intent_id).Run());
  if (kept_intents_) {
    std::erase_if(kept_intents_->second, [&](const Intent& in) { return in.id == intent_id; });
  }
  return {};
}

Status LocalStore::RejectIntents(const std::vector<int64_t>& intent_ids, const std::string& error) {
  if (intent_ids.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  IntentWrittenLocked(nullptr);
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  sql::Statement st(db_, "UPDATE intents SET rejected = 1, error = ? WHERE id = ?");
  for (int64_t id : intent_ids) {
    st.Reset();
    KRING_RETURN_IF_ERROR(st.BindText(1, error).Bind(2, id).Run());
  }
  KRING_RETURN_IF_ERROR(tx.Commit());
  if (kept_intents_) {
    const std::set<int64_t> gone(intent_ids.begin(), intent_ids.end());
    std::erase_if(kept_intents_->second, [&](const Intent& in) { return gone.count(in.id) != 0; });
  }
  return {};
}

Result<std::optional<v1::Receipt>> LocalStore::SaveReceipt(const v1::Receipt& receipt) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  const std::string bytes = receipt.SerializeAsString();
  sql::Statement get(db_, "SELECT receipt FROM receipts WHERE case_id = ? AND seq = ?");
  get.Bind(1, receipt.case_id()).Bind(2, static_cast<int64_t>(receipt.seq()));
  std::optional<v1::Receipt> first;
  if (get.Step()) {
    first.emplace();
    if (!first->ParseFromString(get.BlobString(0))) return DataLoss("stored receipt is malformed");
  }
  KRING_RETURN_IF_ERROR(get.status());
  if (!first) {
    sql::Statement ins(db_, "INSERT INTO receipts (case_id, seq, receipt) VALUES (?, ?, ?)");
    KRING_RETURN_IF_ERROR(ins.Bind(1, receipt.case_id())
                              .Bind(2, static_cast<int64_t>(receipt.seq()))
                              .Bind(3, bytes)
                              .Run());
    KRING_RETURN_IF_ERROR(tx.Commit());
    return std::optional<v1::Receipt>();
  }
  // The same position re-signed later (a retried op) says nothing new.
  if (first->chain_hash() == receipt.chain_hash()) return std::optional<v1::Receipt>();
  sql::Statement ins(db_,
                     "INSERT OR IGNORE INTO receipt_conflicts (case_id, seq, receipt) "
                     "VALUES (?, ?, ?)");
  KRING_RETURN_IF_ERROR(ins.Bind(1, receipt.case_id())
                            .Bind(2, static_cast<int64_t>(receipt.seq()))
                            .Bind(3, bytes)
                            .Run());
  KRING_RETURN_IF_ERROR(tx.Commit());
  return first;
}

Result<std::vector<v1::Receipt>> LocalStore::ConflictingReceipts(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT receipt FROM receipt_conflicts WHERE case_id = ? ORDER BY id");
  st.Bind(1, case_id);
  std::vector<v1::Receipt> out;
  while (st.Step()) {
    v1::Receipt r;
    if (!r.ParseFromString(st.BlobString(0))) return DataLoss("stored receipt is malformed");
    out.push_back(std::move(r));
  }
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Status LocalStore::KeepPushResults(ByteView case_id, const std::vector<SentOp>& sent) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  sql::Statement ins(db_,
                     "INSERT OR REPLACE INTO push_results "
                     "(case_id, seq, envelope_hash, client_op_id, result) VALUES (?, ?, ?, ?, ?)");
  for (const SentOp& s : sent) {
    ins.Reset();
    KRING_RETURN_IF_ERROR(ins.Bind(1, case_id)
                              .Bind(2, static_cast<int64_t>(s.result.seq()))
                              .Bind(3, s.envelope_hash)
                              .Bind(4, s.client_op_id)
                              .Bind(5, s.result.SerializeAsString())
                              .Run());
  }
  return tx.Commit();
}

Result<std::multimap<uint64_t, SentOp>> LocalStore::PushResults(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_,
                    "SELECT seq, envelope_hash, client_op_id, result FROM push_results "
                    "WHERE case_id = ? ORDER BY seq");
  st.Bind(1, case_id);
  std::multimap<uint64_t, SentOp> out;
  while (st.Step()) {
    SentOp s;
    s.envelope_hash = st.Blob(1);
    s.client_op_id = st.Blob(2);
    if (!s.result.ParseFromString(st.BlobString(3))) {
      return DataLoss("stored push result is malformed");
    }
    out.emplace(static_cast<uint64_t>(st.Int(0)), std::move(s));
  }
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Result<std::optional<v1::LogEntry>> LocalStore::LogEntryAt(ByteView case_id, uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, kSegmentAtSql);
  SegmentRow row;
  KRING_ASSIGN_OR_RETURN(const bool found, ReadSegmentAt(st, case_id, seq, &row));
  if (!found) return std::optional<v1::LogEntry>();
  const SegmentEntry& s = *row.At(seq);
  v1::LogEntry e;
  e.set_seq(seq);
  e.set_chain_hash(s.chain_hash.data(), s.chain_hash.size());
  if (!e.mutable_envelope()->ParseFromArray(s.envelope.data(),
                                            static_cast<int>(s.envelope.size()))) {
    return DataLoss("stored log entry is malformed");
  }
  return std::optional<v1::LogEntry>(std::move(e));
}

Result<std::map<uint64_t, v1::Receipt>> LocalStore::Receipts(ByteView case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT seq, receipt FROM receipts WHERE case_id = ?");
  st.Bind(1, case_id);
  std::map<uint64_t, v1::Receipt> out;
  while (st.Step()) {
    v1::Receipt r;
    if (!r.ParseFromString(st.BlobString(1))) return DataLoss("stored receipt is malformed");
    out[static_cast<uint64_t>(st.Int(0))] = std::move(r);
  }
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Status LocalStore::InsertAlarmLocked(const Alarm& alarm) {
  sql::Statement ins(db_,
                     "INSERT INTO alarms (case_id, kind, seq, detail, evidence, created_at_ms) "
                     "VALUES (?, ?, ?, ?, ?, ?)");
  return ins.Bind(1, alarm.case_id)
      .Bind(2, static_cast<int64_t>(alarm.kind))
      .Bind(3, static_cast<int64_t>(alarm.seq))
      .BindText(4, alarm.detail)
      .Bind(5, alarm.evidence)
      .Bind(6, NowMs())
      .Run();
}

Status LocalStore::RaiseAlarm(const Alarm& alarm, bool halt) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  KRING_RETURN_IF_ERROR(InsertAlarmLocked(alarm));
  if (halt) {
    CaseWrittenLocked();
    sql::Statement st(db_, "UPDATE cases SET halted = 1 WHERE case_id = ?");
    KRING_RETURN_IF_ERROR(st.Bind(1, alarm.case_id).Run());
  }
  return tx.Commit();
}

Result<bool> LocalStore::HasAlarm(ByteView case_id, AlarmKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_, "SELECT COUNT(*) FROM alarms WHERE case_id = ? AND kind = ?");
  st.Bind(1, case_id).Bind(2, static_cast<int64_t>(kind));
  const bool found = st.Step() && st.Int(0) > 0;
  KRING_RETURN_IF_ERROR(st.status());
  return found;
}

Result<std::vector<Alarm>> LocalStore::Alarms() {
  std::lock_guard<std::mutex> lock(mu_);
  sql::Statement st(db_,
                    "SELECT id, case_id, kind, seq, detail, evidence, created_at_ms FROM alarms "
                    "ORDER BY id");
  std::vector<Alarm> out;
  while (st.Step()) {
    Alarm a;
    a.id = st.Int(0);
    a.case_id = st.Blob(1);
    a.kind = static_cast<AlarmKind>(st.Int(2));
    a.seq = static_cast<uint64_t>(st.Int(3));
    a.detail = st.Text(4);
    a.evidence = st.Blob(5);
    a.created_at_ms = st.Int(6);
    out.push_back(std::move(a));
  }
  KRING_RETURN_IF_ERROR(st.status());
  return out;
}

Status LocalStore::ApplyBatch(AppliedBatch& batch, uint64_t* version) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  const bool in_step = version != nullptr && *version == case_writes_;
  CaseWrittenLocked();
  if (version != nullptr) *version = 0;  // set once the write is committed
  // The sealed state is serialized and encrypted on a second core while this one writes the
  // log rows of a large batch (they touch different members of the batch).
  auto seal_state = [&] { return SealState(batch.case_id, batch.state); };
  std::future<Bytes> sealed_state;
  const size_t rows = batch.entries.size() + batch.pulled.size();
  if (rows >= kParallelSealEntries) {
    sealed_state = std::async(std::launch::async, seal_state);
  }
  std::future<void> freed;  // the written entries, freed while the commit syncs
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  {
    sql::Statement head(db_, "SELECT head_seq FROM cases WHERE case_id = ?");
    head.Bind(1, batch.case_id);
    const bool found = head.Step();
    KRING_RETURN_IF_ERROR(head.status());
    if (!found || head.Int(0) != static_cast<int64_t>(batch.from_seq)) {
      return Status(StatusCode::kAborted, "the case was synced by another process meanwhile",
                    kCaseSyncedElsewhere);
    }
  }
  // The log: a row per run of consecutive entries (store/log_segments.h), each entry's envelope
  // serialized straight into its row.
  std::vector<const v1::LogEntry*> rows_in_order;
  rows_in_order.reserve(rows);
  for (const v1::LogEntry& e : batch.entries) rows_in_order.push_back(&e);
  rows_in_order.insert(rows_in_order.end(), batch.pulled.begin(), batch.pulled.end());
  KRING_RETURN_IF_ERROR(AppendLog(db_, batch.case_id, rows_in_order));
  for (const auto& [device_id, head] : batch.device_heads) {
    sql::Statement st(
        db_,
        "INSERT OR REPLACE INTO device_heads (case_id, device_id, counter, last_hash) "
        "VALUES (?, ?, ?, ?)");
    KRING_RETURN_IF_ERROR(st.Bind(1, batch.case_id)
                              .Bind(2, device_id)
                              .Bind(3, static_cast<int64_t>(head.counter))
                              .Bind(4, head.last_hash)
                              .Run());
  }
  for (const EpochKey& k : batch.epoch_keys)
    KRING_RETURN_IF_ERROR(SaveEpochKeyLocked(batch.case_id, k));
  // Before the statement, which borrows it (WriteStateLocked says why).
  const Bytes sealed = sealed_state.valid() ? sealed_state.get() : seal_state();
  sql::Statement upd(db_,
                     "UPDATE cases SET head_seq = ?, head_hash = ?, state = ?, state_form = ?, "
                     "removal_unsettled = ? WHERE case_id = ?");
  KRING_RETURN_IF_ERROR(upd.Bind(1, static_cast<int64_t>(batch.head_seq))
                            .Bind(2, batch.head_hash)
                            .BindBorrowed(3, sealed)
                            .Bind(4, kStateFormWithRefs)
                            .Bind(5, int64_t{batch.removal_unsettled ? 1 : 0})
                            .Bind(6, batch.case_id)
                            .Run());
  for (const Bytes& id : batch.confirmed_client_op_ids) {
    sql::Statement del(db_, "DELETE FROM intents WHERE case_id = ? AND client_op_id = ?");
    KRING_RETURN_IF_ERROR(del.Bind(1, batch.case_id).Bind(2, id).Run());
  }
  // The verifier compared every kept push result up to the new head with the log: matched.
  sql::Statement matched(db_, "DELETE FROM push_results WHERE case_id = ? AND seq <= ?");
  KRING_RETURN_IF_ERROR(
      matched.Bind(1, batch.case_id).Bind(2, static_cast<int64_t>(batch.head_seq)).Run());
  for (const Alarm& a : batch.alarms) KRING_RETURN_IF_ERROR(InsertAlarmLocked(a));
  if (rows >= kParallelSealEntries) {
    // The rows are in SQLite's pages now. Freeing thousands of parsed envelopes takes a while:
    // done on another core while this one waits for the commit's fsync.
    batch.pulled.clear();  // points into the arenas
    freed = std::async(std::launch::async, [written = std::move(batch.entries),
                                            arenas = std::move(batch.arenas)]() mutable {
      written.clear();
      arenas.clear();
    });
  }
  KRING_RETURN_IF_ERROR(tx.Commit());
  if (std::vector<Intent>* kept = KeptIntentsLocked(batch.case_id)) {
    const std::set<Bytes> confirmed(batch.confirmed_client_op_ids.begin(),
                                    batch.confirmed_client_op_ids.end());
    std::erase_if(*kept, [&](const Intent& in) { return confirmed.count(in.client_op_id) != 0; });
  }
  if (in_step) *version = case_writes_;
  return {};
}

Result<SettledRemoval> LocalStore::SettleRemoval(ByteView case_id, ByteView own_account,
                                                 uint64_t* version) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  const bool in_step = version != nullptr && *version == case_writes_;
  CaseWrittenLocked();
  if (version != nullptr) *version = 0;
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  KRING_ASSIGN_OR_RETURN(SettledRemoval settled, SettleRemovalLocked(case_id, own_account));
  KRING_RETURN_IF_ERROR(tx.Commit());
  if (in_step) *version = case_writes_;
  return settled;
}

Result<SettledRemoval> LocalStore::ReturnToRemoval(ByteView case_id, v1::CaseState state,
                                                   ByteView own_account) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteOtherWritersLocked();
  CaseWrittenLocked();
  sql::Transaction tx(db_);
  KRING_RETURN_IF_ERROR(tx.status());
  // Marked unsettled and settled at once: the rejection is SettleRemoval's.
  KRING_RETURN_IF_ERROR(WriteStateLocked(
      "UPDATE cases SET state = ?, state_form = ?, removal_unsettled = 1 WHERE case_id = ?",
      case_id, state));
  KRING_ASSIGN_OR_RETURN(SettledRemoval settled, SettleRemovalLocked(case_id, own_account));
  KRING_RETURN_IF_ERROR(tx.Commit());
  return settled;
}

Result<SettledRemoval> LocalStore::SettleRemovalLocked(ByteView case_id, ByteView own_account) {
  SettledRemoval out;
  sql::Statement mark(db_, "SELECT removal_unsettled FROM cases WHERE case_id = ?");
  mark.Bind(1, case_id);
  if (!mark.Step()) {
    KRING_RETURN_IF_ERROR(mark.status());
    return out;
  }
  if (mark.Int(0) == 0) return out;  // settled already (by another sync, or an accepted invite)
  out.settled = true;
  out.told_before = mark.Int(0) == 2;  // marked by the upgrade to schema 8 (kSchemaV8)
  // Read in this transaction: a change queued meanwhile is rejected with the rest, not left.
  kept_intents_.reset();
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, LoadIntentsLocked(case_id));
  sql::Statement reject(db_, "UPDATE intents SET rejected = 1, error = ? WHERE id = ?");
  for (const Intent& in : intents) {
    if (in.control && in.control_op.has_accept_invite()) continue;  // a way back in
    // This device's own leave is done, not refused.
    const bool own_leave =
        in.control && in.control_op.has_remove_member() &&
        std::ranges::equal(View(in.control_op.remove_member().account_id()), own_account);
    reject.Reset();
    KRING_RETURN_IF_ERROR(
        reject.BindText(1, own_leave ? kLeftTheCase : kRemovedFromTheCase).Bind(2, in.id).Run());
    if (!own_leave) ++out.refused;
  }
  sql::Statement clear(db_, "UPDATE cases SET removal_unsettled = 0 WHERE case_id = ?");
  KRING_RETURN_IF_ERROR(clear.Bind(1, case_id).Run());
  return out;
}

}  // namespace kring::client
