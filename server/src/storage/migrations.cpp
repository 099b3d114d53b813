#include "storage/migrations.h"

namespace kring::server::storage {

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kMigrations = {
      // 1: accounts, devices, cases and the case logs.
      R"sql(
CREATE TABLE chain_links (
  account_id BLOB NOT NULL,
  idx INTEGER NOT NULL,
  link BLOB NOT NULL,        -- serialized kring.v1.ChainLink
  link_hash BLOB NOT NULL,
  PRIMARY KEY (account_id, idx)
);
CREATE TABLE devices (
  device_id BLOB PRIMARY KEY,
  account_id BLOB NOT NULL,
  signing_pk BLOB NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  is_recovery INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE cases (
  case_id BLOB PRIMARY KEY,
  head_seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE case_members (
  case_id BLOB NOT NULL REFERENCES cases (case_id),
  account_id BLOB NOT NULL,
  role INTEGER NOT NULL,
  PRIMARY KEY (case_id, account_id)
) WITHOUT ROWID;
CREATE INDEX case_members_by_account ON case_members (account_id, case_id);
CREATE TABLE scopes (
  case_id BLOB NOT NULL REFERENCES cases (case_id),
  scope_id INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  PRIMARY KEY (case_id, scope_id)
) WITHOUT ROWID;
CREATE TABLE device_cursors (
  case_id BLOB NOT NULL REFERENCES cases (case_id),
  device_id BLOB NOT NULL,
  last_counter INTEGER NOT NULL,
  last_envelope_hash BLOB NOT NULL,
  PRIMARY KEY (case_id, device_id)
) WITHOUT ROWID;
CREATE TABLE ops (
  case_id BLOB NOT NULL REFERENCES cases (case_id),
  seq INTEGER NOT NULL,
  envelope BLOB NOT NULL,    -- serialized kring.v1.Envelope, exactly as received
  chain_hash BLOB NOT NULL,
  device_id BLOB NOT NULL,
  client_op_id BLOB NOT NULL,
  envelope_hash BLOB NOT NULL,
  received_at_ms INTEGER NOT NULL,
  UNIQUE (case_id, seq)
);
CREATE UNIQUE INDEX ops_idempotency ON ops (case_id, device_id, client_op_id);
)sql",
      // 2: invitations and accounts waiting for approval.
      R"sql(
CREATE TABLE case_invites (
  case_id BLOB NOT NULL REFERENCES cases (case_id),
  invite_id BLOB NOT NULL,
  signing_pk BLOB NOT NULL,
  role INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  state INTEGER NOT NULL,     -- kring.v1.InviteState.Status
  PRIMARY KEY (case_id, invite_id)
) WITHOUT ROWID;
CREATE TABLE case_pending (
  case_id BLOB NOT NULL REFERENCES cases (case_id),
  account_id BLOB NOT NULL,
  role INTEGER NOT NULL,
  invite_id BLOB NOT NULL,
  PRIMARY KEY (case_id, account_id)
) WITHOUT ROWID;
)sql",
      // 3: after someone leaves, scope 0 waits for a Rekey by a chair or coordinator.
      R"sql(
ALTER TABLE scopes ADD COLUMN rekey_required INTEGER NOT NULL DEFAULT 0;
)sql",
      // 4: restricted scopes: which members hold each scope's key.
      R"sql(
CREATE TABLE scope_members (
  case_id BLOB NOT NULL,
  scope_id INTEGER NOT NULL,
  account_id BLOB NOT NULL,
  PRIMARY KEY (case_id, scope_id, account_id)
) WITHOUT ROWID;
CREATE INDEX scope_members_by_account ON scope_members (case_id, account_id);
)sql",
      // 5: closing, retention and erasure. A deleted case leaves only its tombstone.
      R"sql(
ALTER TABLE cases ADD COLUMN close_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN delete_after_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_by_deletion ON cases (delete_after_ms) WHERE close_seq > 0;
CREATE TABLE erased_cases (
  case_id BLOB PRIMARY KEY,
  erased_at_ms INTEGER NOT NULL,
  trigger BLOB NOT NULL       -- serialized kring.v1.LogEntry: the EraseCase or CloseCase op
) WITHOUT ROWID;
)sql",
      // 6: a revoked device's cases wait for a Rekey naming it, in scope 0 and in every
      // restricted scope its account holds (one row per case, scope and revoked device); and
      // which devices each scope's Rekeys have named.
      R"sql(
CREATE TABLE revocation_holds (
  case_id BLOB NOT NULL,
  scope_id INTEGER NOT NULL,
  device_id BLOB NOT NULL,
  account_id BLOB NOT NULL,   -- the revoked device's account
  PRIMARY KEY (case_id, scope_id, device_id)
) WITHOUT ROWID;
-- Every (case, scope, device) a Rekey named as revoked: a plain member may not force new keys
-- by naming again a device named before.
CREATE TABLE revocation_named (
  case_id BLOB NOT NULL,
  scope_id INTEGER NOT NULL,
  device_id BLOB NOT NULL,
  PRIMARY KEY (case_id, scope_id, device_id)
) WITHOUT ROWID;
)sql",
      // 7: ops keyed by an integer per case instead of the 16-byte case id: each case gets a
      // case_key, and both indexes of ops start with it. The rows stay in the order they were
      // stored (rowid), so every append goes to the end of the table whichever case it is for.
      // envelope_hash (written empty since 2026-11-29, recomputable) is dropped. No foreign key
      // on ops: kringd appends only to a case it read in the same transaction and erasure
      // deletes the ops first, and the check was a lookup in `cases` per op. An op without its
      // case (impossible under the old foreign key, possible after a hand edit) gets a NULL
      // case_key from the LEFT JOIN and fails the NOT NULL: the upgrade stops and changes
      // nothing rather than dropping the row.
      R"sql(
ALTER TABLE cases ADD COLUMN case_key INTEGER;
UPDATE cases SET case_key = numbered.k
  FROM (SELECT case_id, row_number() OVER (ORDER BY created_at_ms, case_id) AS k FROM cases)
    AS numbered
  WHERE cases.case_id = numbered.case_id;
CREATE UNIQUE INDEX cases_by_key ON cases (case_key);
CREATE TABLE ops_v7 (
  case_key INTEGER NOT NULL,  -- cases.case_key
  seq INTEGER NOT NULL,
  envelope BLOB NOT NULL,     -- serialized kring.v1.Envelope
  chain_hash BLOB NOT NULL,
  device_id BLOB NOT NULL,
  client_op_id BLOB NOT NULL,
  received_at_ms INTEGER NOT NULL,
  UNIQUE (case_key, seq)
);
INSERT INTO ops_v7 (rowid, case_key, seq, envelope, chain_hash, device_id, client_op_id,
                    received_at_ms)
  SELECT o.rowid, c.case_key, o.seq, o.envelope, o.chain_hash, o.device_id, o.client_op_id,
         o.received_at_ms
  FROM ops AS o LEFT JOIN cases AS c ON c.case_id = o.case_id
  ORDER BY o.rowid;
DROP TABLE ops;
ALTER TABLE ops_v7 RENAME TO ops;
CREATE UNIQUE INDEX ops_idempotency ON ops (case_key, device_id, client_op_id);
)sql",
      // 8: each account's current user key generation, as its chain says after the last
      // publish: a Rekey must box every key to it (a box to an older one would hand the key to
      // a device revoked since, which holds the older seeds). Written by every publish; an
      // account without a row gets one from its stored chain the first time a Rekey boxes to it.
      R"sql(
CREATE TABLE user_key_generations (
  account_id BLOB PRIMARY KEY,
  generation INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
      // 9: retries found without a per-device index. The unique index on (case, device,
      // client_op_id) put each device's entries in a B-tree range of their own, so a group commit
      // of pushes from n devices wrote about n of its pages (docs/performance-log.md, "Push, single
      // ops", branches `pushdup` and `pushdup2`). Instead each device cursor keeps the highest
      // client_op_id the device stored in the case (an op above it is new without a lookup), and
      // a retry is looked up among the device's ops from its `seen_seq` on, on an index that
      // grows at the case's end like the log (docs/protocol.md section 8, check 4). The highest
      // id is read from the old index before it goes.
      R"sql(
ALTER TABLE device_cursors ADD COLUMN max_client_op_id BLOB NOT NULL DEFAULT x'';
UPDATE device_cursors SET max_client_op_id = coalesce(
  (SELECT max(o.client_op_id) FROM ops AS o JOIN cases AS c ON o.case_key = c.case_key
   WHERE c.case_id = device_cursors.case_id AND o.device_id = device_cursors.device_id), x'');
DROP INDEX ops_idempotency;
CREATE INDEX ops_retry_lookup ON ops (case_key, seq, device_id, client_op_id);
)sql",
      // 10: the seq of the op that took each account out of a case (a RemoveMember by someone
      // else, or of itself: leaving). A removed account may pull up to and including that op,
      // never past it (docs/protocol.md section 9). Added back to the case, its row goes.
      // Accounts removed before this migration get their rows from the stored control ops:
      // a row in `case_removals_backfill` says that is still to do (BackfillRemovals, in
      // removal_backfill.cpp, run by kringd right after the migrations, in one transaction that
      // deletes the row).
      R"sql(
CREATE TABLE case_removals (
  case_id BLOB NOT NULL,
  account_id BLOB NOT NULL,
  removal_seq INTEGER NOT NULL,
  PRIMARY KEY (case_id, account_id)
) WITHOUT ROWID;
CREATE TABLE case_removals_backfill (due INTEGER NOT NULL);
INSERT INTO case_removals_backfill (due) VALUES (1);
)sql",
      // 11: what an erased case's tombstone keeps for a device that was away (docs/protocol.md
      // section 9): every seq before the trigger, a control op whole and a content op as its
      // envelope hash only (no ciphertext); and the accounts that were members at the erasure,
      // the only ones it is served to. Kept --erased-history-days (the tombstone stays). Cases
      // erased before this
      // migration have none.
      R"sql(
CREATE TABLE erased_history (
  case_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  chain_hash BLOB NOT NULL,
  control_envelope BLOB,      -- serialized kring.v1.Envelope of a control op, else NULL
  envelope_hash BLOB,         -- a content op's envelope hash, else NULL
  PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE TABLE erased_readers (
  case_id BLOB NOT NULL,
  account_id BLOB NOT NULL,
  PRIMARY KEY (case_id, account_id)
) WITHOUT ROWID;
)sql",
  };
  return kMigrations;
}

}  // namespace kring::server::storage
