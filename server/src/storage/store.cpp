#include "storage/store.h"

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kring/common/log.h"

#include "storage/migrations.h"
#include "storage/writer.h"

namespace kring::server::storage {
namespace {

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

// Row counts of InsertOps's statements, largest first (a push holds at most 64 ops).
constexpr size_t kInsertOpsRows[] = {32, 8, 1};

// The INSERT of `rows` ops (one of kInsertOpsRows), built once.
const std::string& InsertOpsSql(size_t rows) {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    for (size_t n : kInsertOpsRows) {
      std::string sql =
          "INSERT OR FAIL INTO ops (case_key, seq, envelope, chain_hash, device_id, client_op_id, "
          "received_at_ms) VALUES ";
      for (size_t i = 0; i < n; ++i) sql += i == 0 ? "(?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?)";
      out.push_back(std::move(sql));
    }
    return out;
  }();
  size_t i = 0;
  while (kInsertOpsRows[i] != rows) ++i;
  return texts[i];
}
uint64_t U64(int64_t v) { return static_cast<uint64_t>(v); }

class SqliteTxn final : public StoreTxn {
 public:
  SqliteTxn(sql::Database& db, bool writable) : db_(db), writable_(writable) {}

  Result<std::vector<std::string>> LoadChainLinks(ByteView account_id,
                                                  uint64_t from_index) override {
    sql::Statement st(
        db_, "SELECT link FROM chain_links WHERE account_id = ? AND idx >= ? ORDER BY idx");
    st.Bind(1, account_id).Bind(2, I64(from_index));
    std::vector<std::string> out;
    while (st.Step()) out.push_back(st.BlobString(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status AppendChainLink(ByteView account_id, uint64_t index, const std::string& link,
                         ByteView link_hash) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(
        db_, "INSERT INTO chain_links (account_id, idx, link, link_hash) VALUES (?,?,?,?)");
    return st.Bind(1, account_id).Bind(2, I64(index)).Bind(3, link).Bind(4, link_hash).Run();
  }

  Status SetUserKeyGeneration(ByteView account_id, uint32_t generation) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "INSERT INTO user_key_generations (account_id, generation) VALUES (?1, ?2) "
                      "ON CONFLICT (account_id) DO UPDATE SET generation = ?2");
    return st.Bind(1, account_id).Bind(2, int64_t{generation}).Run();
  }

  Result<std::optional<uint32_t>> GetUserKeyGeneration(ByteView account_id) override {
    sql::Statement st(db_, "SELECT generation FROM user_key_generations WHERE account_id = ?");
    st.Bind(1, account_id);
    std::optional<uint32_t> out;
    if (st.Step()) out = static_cast<uint32_t>(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<std::optional<DeviceRecord>> GetDevice(ByteView device_id) override {
    sql::Statement st(db_,
                      "SELECT account_id, signing_pk, revoked, is_recovery FROM devices "
                      "WHERE device_id = ?");
    st.Bind(1, device_id);
    std::optional<DeviceRecord> out;
    if (st.Step()) {
      out = DeviceRecord{Bytes(device_id.begin(), device_id.end()), st.Blob(0), st.Blob(1),
                         st.Int(2) != 0, st.Int(3) != 0};
    }
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status PutDevice(const DeviceRecord& d) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(
        db_,
        "INSERT INTO devices (device_id, account_id, signing_pk, revoked, is_recovery) "
        "VALUES (?,?,?,?,?) ON CONFLICT (device_id) DO UPDATE SET "
        "revoked = excluded.revoked");
    return st.Bind(1, d.device_id)
        .Bind(2, d.account_id)
        .Bind(3, d.signing_public_key)
        .Bind(4, int64_t{d.revoked ? 1 : 0})
        .Bind(5, int64_t{d.is_recovery ? 1 : 0})
        .Run();
  }

  Result<bool> AccountExists(ByteView account_id) override {
    sql::Statement st(db_, "SELECT 1 FROM chain_links WHERE account_id = ? AND idx = 0");
    st.Bind(1, account_id);
    bool found = st.Step();
    KRING_RETURN_IF_ERROR(st.status());
    return found;
  }

  Result<std::optional<CaseRecord>> GetCase(ByteView case_id) override {
    sql::Statement st(db_,
                      "SELECT case_key, head_seq, head_hash, close_seq, delete_after_ms FROM cases "
                      "WHERE case_id = ?");
    st.Bind(1, case_id);
    std::optional<CaseRecord> out;
    if (st.Step()) {
      out = CaseRecord{st.Int(0), U64(st.Int(1)), st.Blob(2), U64(st.Int(3)), st.Int(4)};
    }
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<int64_t> InsertCase(ByteView case_id, int64_t now_ms) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    // One above the highest key in use by a case or an op (one step at the end of each index).
    // An erased case's key can come back, as its ops were deleted with it; counting ops too means
    // ops left without their case (a partial restore, a hand edit) are never given to a new case.
    sql::Statement next(db_,
                        "SELECT MAX(IFNULL((SELECT MAX(case_key) FROM cases), 0), "
                        "IFNULL((SELECT MAX(case_key) FROM ops), 0)) + 1");
    const int64_t case_key = next.Step() ? next.Int(0) : 0;
    KRING_RETURN_IF_ERROR(next.status());
    if (case_key < 1) return Internal("case key out of range");
    sql::Statement st(db_,
                      "INSERT INTO cases (case_id, head_seq, head_hash, created_at_ms, case_key) "
                      "VALUES (?, 0, ?, ?, ?)");
    KRING_RETURN_IF_ERROR(
        st.Bind(1, case_id).Bind(2, ByteView{}).Bind(3, now_ms).Bind(4, case_key).Run());
    return case_key;
  }

  Status SetCaseHead(ByteView case_id, uint64_t seq, ByteView chain_hash) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "UPDATE cases SET head_seq = ?, head_hash = ? WHERE case_id = ?");
    return st.Bind(1, I64(seq)).Bind(2, chain_hash).Bind(3, case_id).Run();
  }

  Status InsertMember(ByteView case_id, ByteView account_id, int role) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "INSERT INTO case_members (case_id, account_id, role) VALUES (?,?,?)");
    return st.Bind(1, case_id).Bind(2, account_id).Bind(3, int64_t{role}).Run();
  }

  Status PutInvite(ByteView case_id, ByteView invite_id, const InviteRecord& inv) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "INSERT OR REPLACE INTO case_invites (case_id, invite_id, signing_pk, role, "
                      "expires_at_ms, state) VALUES (?,?,?,?,?,?)");
    return st.Bind(1, case_id)
        .Bind(2, invite_id)
        .Bind(3, inv.signing_public_key)
        .Bind(4, int64_t{inv.role})
        .Bind(5, inv.expires_at_ms)
        .Bind(6, int64_t{inv.state})
        .Run();
  }

  Result<std::optional<InviteRecord>> GetInvite(ByteView case_id, ByteView invite_id) override {
    sql::Statement st(db_,
                      "SELECT signing_pk, role, expires_at_ms, state FROM case_invites "
                      "WHERE case_id = ? AND invite_id = ?");
    st.Bind(1, case_id).Bind(2, invite_id);
    std::optional<InviteRecord> out;
    if (st.Step()) {
      out = InviteRecord{st.Blob(0), static_cast<int>(st.Int(1)), st.Int(2),
                         static_cast<int>(st.Int(3))};
    }
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status PutPending(ByteView case_id, ByteView account_id, const PendingRecord& p) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "INSERT OR REPLACE INTO case_pending (case_id, account_id, role, invite_id) "
                      "VALUES (?,?,?,?)");
    return st.Bind(1, case_id)
        .Bind(2, account_id)
        .Bind(3, int64_t{p.role})
        .Bind(4, p.invite_id)
        .Run();
  }

  Result<std::optional<PendingRecord>> GetPending(ByteView case_id, ByteView account_id) override {
    sql::Statement st(
        db_, "SELECT role, invite_id FROM case_pending WHERE case_id = ? AND account_id = ?");
    st.Bind(1, case_id).Bind(2, account_id);
    std::optional<PendingRecord> out;
    if (st.Step()) out = PendingRecord{static_cast<int>(st.Int(0)), st.Blob(1)};
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status DeletePending(ByteView case_id, ByteView account_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "DELETE FROM case_pending WHERE case_id = ? AND account_id = ?");
    return st.Bind(1, case_id).Bind(2, account_id).Run();
  }

  Status DeleteMember(ByteView case_id, ByteView account_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "DELETE FROM case_members WHERE case_id = ? AND account_id = ?");
    return st.Bind(1, case_id).Bind(2, account_id).Run();
  }

  Status SetRemovalSeq(ByteView case_id, ByteView account_id, uint64_t seq) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "INSERT OR REPLACE INTO case_removals (case_id, account_id, removal_seq) "
                      "VALUES (?,?,?)");
    return st.Bind(1, case_id).Bind(2, account_id).Bind(3, I64(seq)).Run();
  }

  Status DeleteRemovalSeq(ByteView case_id, ByteView account_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "DELETE FROM case_removals WHERE case_id = ? AND account_id = ?");
    return st.Bind(1, case_id).Bind(2, account_id).Run();
  }

  Result<std::optional<uint64_t>> GetRemovalSeq(ByteView case_id, ByteView account_id) override {
    sql::Statement st(db_,
                      "SELECT removal_seq FROM case_removals WHERE case_id = ? AND account_id = ?");
    st.Bind(1, case_id).Bind(2, account_id);
    std::optional<uint64_t> out;
    if (st.Step()) out = U64(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status SetMemberRole(ByteView case_id, ByteView account_id, int role) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "UPDATE case_members SET role = ? WHERE case_id = ? AND account_id = ?");
    return st.Bind(1, int64_t{role}).Bind(2, case_id).Bind(3, account_id).Run();
  }

  Result<std::optional<int>> GetMemberRole(ByteView case_id, ByteView account_id) override {
    sql::Statement st(db_, "SELECT role FROM case_members WHERE case_id = ? AND account_id = ?");
    st.Bind(1, case_id).Bind(2, account_id);
    std::optional<int> out;
    if (st.Step()) out = static_cast<int>(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<std::vector<Bytes>> ListMembers(ByteView case_id) override {
    sql::Statement st(db_, "SELECT account_id FROM case_members WHERE case_id = ?");
    st.Bind(1, case_id);
    std::vector<Bytes> out;
    while (st.Step()) out.push_back(st.Blob(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<std::vector<CaseHeadRecord>> ListCasesOf(ByteView account_id) override {
    sql::Statement st(db_,
                      "SELECT c.case_id, c.head_seq FROM case_members m JOIN cases c "
                      "ON c.case_id = m.case_id WHERE m.account_id = ? ORDER BY c.case_id");
    st.Bind(1, account_id);
    std::vector<CaseHeadRecord> out;
    while (st.Step()) out.push_back({st.Blob(0), U64(st.Int(1))});
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<bool> RekeyRequired(ByteView case_id, uint32_t scope_id) override {
    sql::Statement st(db_, "SELECT rekey_required FROM scopes WHERE case_id = ? AND scope_id = ?");
    st.Bind(1, case_id).Bind(2, int64_t{scope_id});
    bool required = st.Step() && st.Int(0) != 0;
    KRING_RETURN_IF_ERROR(st.status());
    return required;
  }

  Status SetRekeyRequired(ByteView case_id, bool required, uint32_t scope_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "UPDATE scopes SET rekey_required = ? WHERE case_id = ? AND scope_id = ?");
    return st.Bind(1, int64_t{required ? 1 : 0}).Bind(2, case_id).Bind(3, int64_t{scope_id}).Run();
  }

  Status HoldForRevokedDevice(ByteView account_id, ByteView device_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement whole(db_,
                         "INSERT OR IGNORE INTO revocation_holds "
                         "(case_id, scope_id, device_id, account_id) "
                         "SELECT case_id, 0, ?, account_id FROM case_members WHERE account_id = ?");
    KRING_RETURN_IF_ERROR(whole.Bind(1, device_id).Bind(2, account_id).Run());
    sql::Statement scoped(db_,
                          "INSERT OR IGNORE INTO revocation_holds "
                          "(case_id, scope_id, device_id, account_id) "
                          "SELECT case_id, scope_id, ?, account_id FROM scope_members "
                          "WHERE account_id = ?");
    return scoped.Bind(1, device_id).Bind(2, account_id).Run();
  }

  Result<bool> HeldForRevocation(ByteView case_id, uint32_t scope_id) override {
    sql::Statement st(db_,
                      "SELECT 1 FROM revocation_holds WHERE case_id = ? AND scope_id = ? LIMIT 1");
    st.Bind(1, case_id).Bind(2, int64_t{scope_id});
    bool held = st.Step();
    KRING_RETURN_IF_ERROR(st.status());
    return held;
  }

  Result<std::vector<std::pair<Bytes, Bytes>>> RevocationHolds(ByteView case_id,
                                                               uint32_t scope_id) override {
    sql::Statement st(db_,
                      "SELECT device_id, account_id FROM revocation_holds "
                      "WHERE case_id = ? AND scope_id = ?");
    st.Bind(1, case_id).Bind(2, int64_t{scope_id});
    std::vector<std::pair<Bytes, Bytes>> out;
    while (st.Step()) out.emplace_back(st.Blob(0), st.Blob(1));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status ReleaseRevocationHold(ByteView case_id, uint32_t scope_id, ByteView device_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "DELETE FROM revocation_holds "
                      "WHERE case_id = ? AND scope_id = ? AND device_id = ?");
    return st.Bind(1, case_id).Bind(2, int64_t{scope_id}).Bind(3, device_id).Run();
  }

  Result<bool> RevocationNamed(ByteView case_id, uint32_t scope_id, ByteView device_id) override {
    sql::Statement st(db_,
                      "SELECT 1 FROM revocation_named "
                      "WHERE case_id = ? AND scope_id = ? AND device_id = ?");
    st.Bind(1, case_id).Bind(2, int64_t{scope_id}).Bind(3, device_id);
    bool named = st.Step();
    KRING_RETURN_IF_ERROR(st.status());
    return named;
  }

  Status RecordRevocationNamed(ByteView case_id, uint32_t scope_id, ByteView device_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "INSERT OR IGNORE INTO revocation_named (case_id, scope_id, device_id) "
                      "VALUES (?, ?, ?)");
    return st.Bind(1, case_id).Bind(2, int64_t{scope_id}).Bind(3, device_id).Run();
  }

  Status SetCaseClosed(ByteView case_id, uint64_t close_seq, int64_t delete_after_ms) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_, "UPDATE cases SET close_seq = ?, delete_after_ms = ? WHERE case_id = ?");
    return st.Bind(1, I64(close_seq)).Bind(2, delete_after_ms).Bind(3, case_id).Run();
  }

  bool ErasedACase() const override { return erased_; }

  Status Attempt(const std::function<Status()>& body,
                 const std::function<Status()>& fallback) override {
    // The job's savepoint serves as the attempt's while the job has written nothing (every write
    // method starts with CheckWritable, which forgets it, and SQLite's count of changed rows has
    // not moved since the job began): rolling back to it undoes the body's writes and nothing
    // else, and the fallback then runs inside it, as it would after a nested savepoint's
    // rollback. Taken once: after the body, the job has written.
    sql::Savepoint* job = std::exchange(job_savepoint_, nullptr);
    KRING_RETURN_IF_ERROR(CheckWritable());
    if (job != nullptr && db_.TotalChanges() == job_start_changes_) {
      if (body().ok()) return {};
      if (!job->RollbackTo().ok() || !db_.InTransaction()) {
        return Status(StatusCode::kUnavailable, "storage transaction was lost");
      }
      return fallback();
    }
    {
      sql::Savepoint sp(db_, "attempt");
      KRING_RETURN_IF_ERROR(sp.status());
      if (body().ok()) return sp.Release();
      // Statements run after a lost transaction would each commit on their own.
      if (!sp.Rollback().ok() || !db_.InTransaction()) {
        return Status(StatusCode::kUnavailable, "storage transaction was lost");
      }
    }
    return fallback();
  }

  Status EraseCase(ByteView case_id, int64_t now_ms, const std::string& trigger) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    erased_ = true;
    // Children first (they reference cases); secure_delete overwrites the freed pages.
    KRING_ASSIGN_OR_RETURN(std::optional<int64_t> case_key, CaseKey(case_id));
    if (case_key) {
      sql::Statement del(db_, "DELETE FROM ops WHERE case_key = ?");
      KRING_RETURN_IF_ERROR(del.Bind(1, *case_key).Run());
    }
    for (const char* table :
         {"case_members", "scope_members", "scopes", "device_cursors", "case_invites",
          "case_pending", "revocation_holds", "revocation_named", "case_removals", "cases"}) {
      sql::Statement del(db_, std::string("DELETE FROM ") + table + " WHERE case_id = ?");
      KRING_RETURN_IF_ERROR(del.Bind(1, case_id).Run());
    }
    sql::Statement ins(db_,
                       "INSERT OR REPLACE INTO erased_cases (case_id, erased_at_ms, trigger) "
                       "VALUES (?,?,?)");
    return ins.Bind(1, case_id).Bind(2, now_ms).Bind(3, trigger).Run();
  }

  Result<std::optional<ErasedCase>> GetErased(ByteView case_id) override {
    sql::Statement st(db_, "SELECT erased_at_ms, trigger FROM erased_cases WHERE case_id = ?");
    st.Bind(1, case_id);
    std::optional<ErasedCase> out;
    if (st.Step()) out = ErasedCase{st.Int(0), st.BlobString(1)};
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status KeepErasedHistory(ByteView case_id, std::span<const ErasedEntryRecord> entries) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    for (const ErasedEntryRecord& e : entries) {
      sql::Statement st(db_,
                        "INSERT OR REPLACE INTO erased_history (case_id, seq, chain_hash, "
                        "control_envelope, envelope_hash) VALUES (?,?,?,?,?)");
      st.Bind(1, case_id).Bind(2, I64(e.seq)).Bind(3, e.chain_hash);
      if (e.control_envelope.empty()) {
        st.BindNull(4).Bind(5, e.envelope_hash);
      } else {
        st.Bind(4, e.control_envelope).BindNull(5);
      }
      KRING_RETURN_IF_ERROR(st.Run());
    }
    return {};
  }

  Status KeepErasedReaders(ByteView case_id, const std::vector<Bytes>& accounts) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    for (const Bytes& account : accounts) {
      sql::Statement st(db_,
                        "INSERT OR REPLACE INTO erased_readers (case_id, account_id) VALUES (?,?)");
      KRING_RETURN_IF_ERROR(st.Bind(1, case_id).Bind(2, account).Run());
    }
    return {};
  }

  Status DropErasedHistory(ByteView case_id) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    for (const char* table : {"erased_history", "erased_readers"}) {
      sql::Statement del(db_, std::string("DELETE FROM ") + table + " WHERE case_id = ?");
      KRING_RETURN_IF_ERROR(del.Bind(1, case_id).Run());
    }
    return {};
  }

  Status DropErasedHistoriesBefore(int64_t erased_before_ms) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    for (const char* table : {"erased_history", "erased_readers"}) {
      sql::Statement del(db_, std::string("DELETE FROM ") + table +
                                  " WHERE case_id IN (SELECT case_id FROM erased_cases WHERE "
                                  "erased_at_ms < ?)");
      KRING_RETURN_IF_ERROR(del.Bind(1, erased_before_ms).Run());
    }
    return {};
  }

  Result<bool> IsErasedReader(ByteView case_id, ByteView account_id) override {
    sql::Statement st(db_, "SELECT 1 FROM erased_readers WHERE case_id = ? AND account_id = ?");
    st.Bind(1, case_id).Bind(2, account_id);
    const bool found = st.Step();
    KRING_RETURN_IF_ERROR(st.status());
    return found;
  }

  Result<std::vector<ErasedEntryRecord>> ReadErasedHistory(ByteView case_id, uint64_t after_seq,
                                                           uint32_t limit,
                                                           size_t max_bytes) override {
    sql::Statement st(db_,
                      "SELECT seq, chain_hash, control_envelope, envelope_hash FROM erased_history "
                      "WHERE case_id = ? AND seq > ? ORDER BY seq LIMIT ?");
    st.Bind(1, case_id).Bind(2, I64(after_seq)).Bind(3, int64_t{limit});
    std::vector<ErasedEntryRecord> out;
    size_t bytes = 0;
    while (st.Step()) {
      ErasedEntryRecord e{U64(st.Int(0)), st.Blob(1), st.BlobString(2), st.Blob(3)};
      bytes += e.control_envelope.size() + 80;
      if (!out.empty() && bytes > max_bytes) break;
      out.push_back(std::move(e));
    }
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<std::optional<Bytes>> ErasedChainHashAt(ByteView case_id, uint64_t seq) override {
    sql::Statement st(db_, "SELECT chain_hash FROM erased_history WHERE case_id = ? AND seq = ?");
    st.Bind(1, case_id).Bind(2, I64(seq));
    std::optional<Bytes> out;
    if (st.Step()) out = st.Blob(0);
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<std::vector<Bytes>> CasesDueForDeletion(int64_t now_ms, uint32_t limit) override {
    sql::Statement st(db_,
                      "SELECT case_id FROM cases WHERE close_seq > 0 AND delete_after_ms <= ? "
                      "ORDER BY delete_after_ms LIMIT ?");
    st.Bind(1, now_ms).Bind(2, int64_t{limit});
    std::vector<Bytes> out;
    while (st.Step()) out.push_back(st.Blob(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<size_t> CountScopes(ByteView case_id) override {
    sql::Statement st(db_, "SELECT COUNT(*) FROM scopes WHERE case_id = ? AND scope_id != 0");
    st.Bind(1, case_id);
    size_t n = st.Step() ? static_cast<size_t>(st.Int(0)) : 0;
    KRING_RETURN_IF_ERROR(st.status());
    return n;
  }

  Result<std::vector<Bytes>> ListScopeMembers(ByteView case_id, uint32_t scope_id) override {
    sql::Statement st(db_,
                      "SELECT account_id FROM scope_members WHERE case_id = ? AND scope_id = ?");
    st.Bind(1, case_id).Bind(2, int64_t{scope_id});
    std::vector<Bytes> out;
    while (st.Step()) out.push_back(st.Blob(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status SetScopeMembers(ByteView case_id, uint32_t scope_id,
                         const std::vector<Bytes>& members) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement del(db_, "DELETE FROM scope_members WHERE case_id = ? AND scope_id = ?");
    KRING_RETURN_IF_ERROR(del.Bind(1, case_id).Bind(2, int64_t{scope_id}).Run());
    for (const Bytes& m : members) {
      sql::Statement ins(
          db_, "INSERT INTO scope_members (case_id, scope_id, account_id) VALUES (?,?,?)");
      KRING_RETURN_IF_ERROR(ins.Bind(1, case_id).Bind(2, int64_t{scope_id}).Bind(3, m).Run());
    }
    return {};
  }

  Result<std::vector<uint32_t>> ScopesOf(ByteView case_id, ByteView account_id) override {
    sql::Statement st(db_,
                      "SELECT scope_id FROM scope_members WHERE case_id = ? AND account_id = ? "
                      "ORDER BY scope_id");
    st.Bind(1, case_id).Bind(2, account_id);
    std::vector<uint32_t> out;
    while (st.Step()) out.push_back(static_cast<uint32_t>(st.Int(0)));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Result<std::optional<uint64_t>> GetScopeEpoch(ByteView case_id, uint32_t scope_id) override {
    sql::Statement st(db_, "SELECT epoch FROM scopes WHERE case_id = ? AND scope_id = ?");
    st.Bind(1, case_id).Bind(2, int64_t{scope_id});
    std::optional<uint64_t> out;
    if (st.Step()) out = U64(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status SetScopeEpoch(ByteView case_id, uint32_t scope_id, uint64_t epoch) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    sql::Statement st(db_,
                      "INSERT INTO scopes (case_id, scope_id, epoch) VALUES (?,?,?) "
                      "ON CONFLICT (case_id, scope_id) DO UPDATE SET epoch = excluded.epoch");
    return st.Bind(1, case_id).Bind(2, int64_t{scope_id}).Bind(3, I64(epoch)).Run();
  }

  Result<std::optional<DeviceCursor>> GetDeviceCursor(ByteView case_id,
                                                      ByteView device_id) override {
    sql::Statement st(db_,
                      "SELECT last_counter, last_envelope_hash, max_client_op_id FROM "
                      "device_cursors WHERE case_id = ? AND device_id = ?");
    st.Bind(1, case_id).Bind(2, device_id);
    std::optional<DeviceCursor> out;
    if (st.Step()) out = DeviceCursor{U64(st.Int(0)), st.Blob(1), st.Blob(2)};
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status SetDeviceCursor(ByteView case_id, ByteView device_id, const DeviceCursor& c) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    // Every push but a device's first in a case finds its row: an UPDATE of the non-key columns
    // skips the upsert's conflict handling and its foreign-key checks. The values are borrowed
    // (they outlive the statements): copying them was four allocations per push.
    {
      sql::Statement up(db_,
                        "UPDATE device_cursors SET last_counter = ?, last_envelope_hash = ?, "
                        "max_client_op_id = ? WHERE case_id = ? AND device_id = ?");
      KRING_RETURN_IF_ERROR(up.Bind(1, I64(c.last_counter))
                                .BindBorrowed(2, c.last_envelope_hash)
                                .BindBorrowed(3, c.max_client_op_id)
                                .BindBorrowed(4, case_id)
                                .BindBorrowed(5, device_id)
                                .Run());
      if (db_.Changes() > 0) return {};
    }
    sql::Statement st(db_,
                      "INSERT INTO device_cursors (case_id, device_id, last_counter, "
                      "last_envelope_hash, max_client_op_id) VALUES (?,?,?,?,?)");
    return st.BindBorrowed(1, case_id)
        .BindBorrowed(2, device_id)
        .Bind(3, I64(c.last_counter))
        .BindBorrowed(4, c.last_envelope_hash)
        .BindBorrowed(5, c.max_client_op_id)
        .Run();
  }

  Result<std::map<Bytes, StoredOpRef>> FindRetries(
      ByteView case_id, ByteView device_id, uint64_t from_seq, uint64_t to_seq,
      const std::vector<Bytes>& client_op_ids) override {
    std::map<Bytes, StoredOpRef> out;
    KRING_ASSIGN_OR_RETURN(std::optional<int64_t> case_key, CaseKey(case_id));
    if (!case_key || client_op_ids.empty() || from_seq > to_seq) return out;
    // The index holds every column this reads, so the scan touches no row; only the first match
    // of each id reads its row, for the result. Since migration 9 a device can store one id
    // more than once (docs/protocol.md section 11): reading every match would let it make each
    // small push read as many large rows as it stored.
    std::vector<Bytes> wanted = client_op_ids;
    std::vector<std::pair<Bytes, uint64_t>> found;
    {
      sql::Statement scan(db_,
                          "SELECT client_op_id, seq FROM ops INDEXED BY ops_retry_lookup "
                          "WHERE case_key = ? AND seq BETWEEN ? AND ? AND device_id = ?");
      scan.Bind(1, *case_key).Bind(2, I64(from_seq)).Bind(3, I64(to_seq)).Bind(4, device_id);
      while (!wanted.empty() && scan.Step()) {
        Bytes id = scan.Blob(0);
        auto it = std::ranges::find(wanted, id);
        if (it == wanted.end()) continue;
        wanted.erase(it);
        found.emplace_back(std::move(id), U64(scan.Int(1)));
      }
      KRING_RETURN_IF_ERROR(scan.status());
    }
    for (auto& [id, seq] : found) {
      sql::Statement row(db_,
                         "SELECT chain_hash, received_at_ms FROM ops WHERE case_key = ? AND "
                         "seq = ?");
      row.Bind(1, *case_key).Bind(2, I64(seq));
      if (!row.Step()) return row.status().ok() ? DataLoss("op row missing") : row.status();
      out.emplace(std::move(id), StoredOpRef{seq, row.Blob(0), row.Int(1)});
    }
    return out;
  }

  Result<std::optional<Bytes>> ChainHashAt(ByteView case_id, uint64_t seq) override {
    std::optional<Bytes> out;
    KRING_ASSIGN_OR_RETURN(std::optional<int64_t> case_key, CaseKey(case_id));
    if (!case_key) return out;
    sql::Statement st(db_, "SELECT chain_hash FROM ops WHERE case_key = ? AND seq = ?");
    st.Bind(1, *case_key).Bind(2, I64(seq));
    if (st.Step()) out = st.Blob(0);
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  Status InsertOp(const NewOp& op) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    if (op.case_key < 1) return Internal("op without its case's key");
    sql::Statement st(db_,
                      "INSERT INTO ops (case_key, seq, envelope, chain_hash, device_id, "
                      "client_op_id, received_at_ms) VALUES (?,?,?,?,?,?,?)");
    // Every blob borrowed: `op` outlives the statement, and SQLite's copies of them were a
    // malloc and a free each per op.
    return st.Bind(1, op.case_key)
        .Bind(2, I64(op.seq))
        .BindBorrowed(3, View(op.envelope))
        .BindBorrowed(4, op.chain_hash)
        .BindBorrowed(5, op.device_id)
        .BindBorrowed(6, op.client_op_id)
        .Bind(7, op.received_at_ms)
        .Run();
  }

  Status InsertOps(std::span<const NewOp> ops) override {
    KRING_RETURN_IF_ERROR(CheckWritable());
    // Rows of several ops per statement: each statement has its cost (cursors, seeks, reset)
    // whatever its rows; a few fixed row counts keep the texts cached. OR FAIL: a statement that
    // fails keeps the rows before the failing one, which the caller rolls back with the rest, so
    // SQLite keeps no statement journal for it (with ABORT, the default, a statement of several
    // rows copies each page it changes there first, and spills them to a temporary file).
    while (!ops.empty()) {
      size_t rows = 1;
      for (size_t n : kInsertOpsRows) {
        if (ops.size() >= n) {
          rows = n;
          break;
        }
      }
      sql::Statement st(db_, InsertOpsSql(rows));
      for (size_t i = 0; i < rows; ++i) {
        const NewOp& op = ops[i];
        if (op.case_key < 1) return Internal("op without its case's key");
        const int at = static_cast<int>(i * 7);
        // Borrowed as in InsertOp: `ops` outlives the statement.
        st.Bind(at + 1, op.case_key)
            .Bind(at + 2, I64(op.seq))
            .BindBorrowed(at + 3, View(op.envelope))
            .BindBorrowed(at + 4, op.chain_hash)
            .BindBorrowed(at + 5, op.device_id)
            .BindBorrowed(at + 6, op.client_op_id)
            .Bind(at + 7, op.received_at_ms);
      }
      KRING_RETURN_IF_ERROR(st.Run());
      ops = ops.subspan(rows);
    }
    return {};
  }

  Result<std::vector<StoredOp>> ReadOps(ByteView case_id, uint64_t after_seq, uint32_t limit,
                                        size_t max_bytes) override {
    std::vector<StoredOp> out;
    KRING_ASSIGN_OR_RETURN(std::optional<int64_t> case_key, CaseKey(case_id));
    if (!case_key) return out;
    sql::Statement st(db_,
                      "SELECT seq, envelope, chain_hash FROM ops WHERE case_key = ? AND seq > ? "
                      "ORDER BY seq LIMIT ?");
    st.Bind(1, *case_key).Bind(2, I64(after_seq)).Bind(3, int64_t{limit});
    size_t bytes = 0;
    while (st.Step()) {
      StoredOp op{U64(st.Int(0)), st.BlobString(1), st.Blob(2)};
      bytes += op.envelope.size() + 64;
      if (!out.empty() && bytes > max_bytes) break;
      out.push_back(std::move(op));
    }
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  void SetJobSavepoint(sql::Savepoint* job) override {
    job_savepoint_ = job;
    if (job != nullptr) job_start_changes_ = db_.TotalChanges();
  }

 private:
  // The case's case_key, or nullopt when there is no such case.
  Result<std::optional<int64_t>> CaseKey(ByteView case_id) {
    sql::Statement st(db_, "SELECT case_key FROM cases WHERE case_id = ?");
    st.Bind(1, case_id);
    std::optional<int64_t> out;
    if (st.Step()) out = st.Int(0);
    KRING_RETURN_IF_ERROR(st.status());
    return out;
  }

  // Every write method starts with it: from the first write on, the job's savepoint no longer
  // marks a state with nothing of the job in it (Attempt).
  Status CheckWritable() {
    if (!writable_) return Internal("write on a read transaction");
    job_savepoint_ = nullptr;
    return {};
  }

  sql::Database& db_;
  bool writable_;
  bool erased_ = false;
  // The writer's savepoint around the running job while the job has written nothing, else null.
  sql::Savepoint* job_savepoint_ = nullptr;
  int64_t job_start_changes_ = 0;  // db_.TotalChanges() when job_savepoint_ was named
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sql::Database writer_db, std::vector<sql::Database> readers)
      : writer_(std::move(writer_db)), readers_(std::move(readers)) {}
  ~SqliteStore() override { Shutdown(); }

  void Submit(WriteJob job) override { writer_.Submit(std::move(job)); }

  Status Read(const std::function<Status(StoreTxn&)>& fn) override {
    sql::Database db;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return closed_ || !readers_.empty(); });
      if (closed_) return Status(StatusCode::kUnavailable, "server is shutting down");
      db = std::move(readers_.back());
      readers_.pop_back();
    }
    ReaderLease lease(*this, std::move(db));
    Status s = lease.db().Exec("BEGIN");
    if (s.ok()) {
      std::unique_ptr<StoreTxn> txn = MakeSqliteTxn(lease.db(), /*writable=*/false);
      s = fn(*txn);
      (void)lease.db().Exec("COMMIT");
    }
    return s;
  }

  // Read connections close first, so the writer's connection is the last one: closing it
  // checkpoints the WAL into the database file and removes the WAL (a read-only connection
  // closing last would leave the data only in the -wal file).
  void Shutdown() override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!closed_) {
        closed_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return readers_.size() == reader_count_; });
        readers_.clear();
      }
    }
    writer_.Stop();
  }

 private:
  Writer writer_;
  // A read connection taken from readers_, given back however Read ends: when `fn` throws, its
  // transaction is rolled back first. Without it the connection would be lost to the pool (and
  // Shutdown would wait for it forever).
  class ReaderLease {
   public:
    ReaderLease(SqliteStore& store, sql::Database db) : store_(store), db_(std::move(db)) {}
    ~ReaderLease() {
      if (db_.InTransaction()) (void)db_.Exec("ROLLBACK");
      std::lock_guard<std::mutex> lock(store_.mu_);
      store_.readers_.push_back(std::move(db_));
      store_.cv_.notify_all();
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    sql::Database& db() { return db_; }

   private:
    SqliteStore& store_;
    sql::Database db_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<sql::Database> readers_;
  size_t reader_count_ = readers_.size();
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<StoreTxn> MakeSqliteTxn(sql::Database& db, bool writable) {
  return std::make_unique<SqliteTxn>(db, writable);
}

namespace {

int64_t UserVersion(const sql::Database& db) {
  sql::Statement st(db, "PRAGMA user_version");
  return st.Step() ? st.Int(0) : -1;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, size_t read_connections) {
  // SQLite's memory statistics take a global mutex and update counters on every malloc and free
  // (about ten per stored op); kringd reads none of them. Only possible before SQLite's first
  // use in the process: later (a second store in one process, as in tests) it is refused and
  // changes nothing.
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  KRING_ASSIGN_OR_RETURN(sql::Database db, sql::Database::Open(path));
  const int64_t version_before = UserVersion(db);
  KRING_RETURN_IF_ERROR(db.Migrate(Migrations()));
  // Migration 10's rows for accounts removed before it, from the stored control ops.
  KRING_RETURN_IF_ERROR(BackfillRemovals(db));
  if (UserVersion(db) != version_before) {
    // A migration that rebuilt a table (7: `ops`) leaves its pages in a WAL as large as the
    // copy; give that space back now instead of at the next erasure or shutdown.
    (void)db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  std::vector<sql::Database> readers;
  for (size_t i = 0; i < read_connections; ++i) {
    KRING_ASSIGN_OR_RETURN(sql::Database r, sql::Database::Open(path, /*read_only=*/true));
    readers.push_back(std::move(r));
  }
  log::Info("store_opened", {{"read_connections", static_cast<uint64_t>(read_connections)}});
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(db), std::move(readers)));
}

}  // namespace kring::server::storage
