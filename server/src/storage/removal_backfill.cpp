// Migration 10's data step: the removal seqs of accounts removed before kringd kept them.
#include <map>
#include <set>
#include <string>
#include <utility>

#include "kring/common/bytes.h"
#include "kring/common/log.h"
#include "kring/common/sqlite.h"
#include "kring/common/status.h"
#include "kring/v1/case.pb.h"

#include "storage/migrations.h"

namespace kring::server::storage {
namespace {

Result<bool> BackfillDue(sql::Database& db) {
  sql::Statement st(db, "SELECT COUNT(*) FROM case_removals_backfill");
  if (!st.Step())
    return st.status().ok() ? Internal("no answer from case_removals_backfill") : st.status();
  return st.Int(0) > 0;
}

// For one case: the last removal of each account, cleared by an AddMember after it, written for
// the accounts that are not members now.
Status WriteCase(sql::Database& db, const Bytes& case_id, const std::map<Bytes, int64_t>& removed) {
  for (const auto& [account, seq] : removed) {
    sql::Statement member(db,
                          "SELECT COUNT(*) FROM case_members WHERE case_id = ? AND account_id = ?");
    member.Bind(1, case_id).Bind(2, account);
    if (!member.Step()) return member.status();
    if (member.Int(0) > 0) continue;
    sql::Statement ins(db,
                       "INSERT OR REPLACE INTO case_removals (case_id, account_id, removal_seq) "
                       "VALUES (?,?,?)");
    KRING_RETURN_IF_ERROR(ins.Bind(1, case_id).Bind(2, account).Bind(3, seq).Run());
  }
  return {};
}

}  // namespace

Status BackfillRemovals(sql::Database& db) {
  KRING_ASSIGN_OR_RETURN(bool due, BackfillDue(db));
  if (!due) return {};
  sql::Transaction tx(db);
  KRING_RETURN_IF_ERROR(tx.status());
  // Every op once, case by case in log order; only control ops' public parts are read.
  sql::Statement ops(db,
                     "SELECT c.case_id, o.seq, o.envelope FROM ops AS o JOIN cases AS c ON "
                     "c.case_key = o.case_key ORDER BY o.case_key, o.seq");
  Bytes current;
  std::map<Bytes, int64_t> removed;
  size_t rows = 0;
  size_t unreadable = 0;
  v1::Envelope env;
  v1::OpHeader header;
  v1::ControlBody body;
  while (ops.Step()) {
    Bytes case_id = ops.Blob(0);
    if (case_id != current) {
      KRING_RETURN_IF_ERROR(WriteCase(db, current, removed));
      removed.clear();
      current = std::move(case_id);
    }
    const std::string envelope = ops.BlobString(2);
    if (!env.ParseFromString(envelope) || !header.ParseFromString(env.header())) {
      // Its page fails for every reader anyway (DATA_LOSS); kringd still starts.
      ++unreadable;
      continue;
    }
    if (header.kind() != v1::OP_KIND_ADD_MEMBER && header.kind() != v1::OP_KIND_REMOVE_MEMBER) {
      continue;
    }
    if (!body.ParseFromString(env.control_body())) {
      ++unreadable;
      continue;
    }
    if (header.kind() == v1::OP_KIND_ADD_MEMBER) {
      removed.erase(ToBytes(body.add_member().member().account_id()));
    } else {
      removed[ToBytes(body.remove_member().account_id())] = ops.Int(1);
      ++rows;
    }
  }
  KRING_RETURN_IF_ERROR(ops.status());
  KRING_RETURN_IF_ERROR(WriteCase(db, current, removed));
  KRING_RETURN_IF_ERROR(db.Exec("DELETE FROM case_removals_backfill"));
  KRING_RETURN_IF_ERROR(tx.Commit());
  log::Info("removals_backfilled", {{"removal_ops", static_cast<uint64_t>(rows)},
                                    {"unreadable_ops", static_cast<uint64_t>(unreadable)}});
  return {};
}

}  // namespace kring::server::storage
