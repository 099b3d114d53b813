// libkring: the client library apps embed. One Client per local store (one device).
//
// Thread-safety: every public method is thread-safe. Edits return after their intent is durably
// stored; the worker thread syncs in the background. Change listeners run on the worker thread,
// never while the client holds its own lock. With background sync a listener must not wait for
// a sync: SyncNow and SyncCase called from it return FAILED_PRECONDITION at once (the worker
// would wait for itself); hand the sync to another thread. Without a worker a listener runs on
// the thread that synced, after the sync, and may sync again there.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/transport.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/model.pb.h"

namespace kring::client {

struct ClientOptions {
  std::string db_path;
  // 32 bytes from the platform keystore; protects secrets and plaintext at rest. Wiped by Open.
  SecretBytes storage_key;
  std::shared_ptr<Transport> transport;  // required for anything that talks to kringd
  bool background_sync = true;           // start the worker thread (subscribe-driven)
  // For tests only; 0 (the default) in apps. When set, a catch-up commits its verified entries
  // after about this many (and takes a rest of up to this many along) instead of 10,000, so a
  // test of a catch-up over several commits needs tens of entries, not thousands.
  size_t entries_per_commit_for_tests = 0;
};

struct AccountInfo {
  Bytes account_id;
  Bytes device_id;
  std::string safety_number;
};

struct NewAccount {
  AccountInfo info;
  // Shown once to the user (written down or printed as QR); never stored by the library.
  std::string recovery_key;
};

// A device of this account, from its verified user chain (the recovery key is not listed).
struct DeviceInfo {
  Bytes device_id;
  uint64_t added_at = 0;  // index of the chain link that added it
  bool revoked = false;
  bool this_device = false;
};

// The new device's side of linking: the text for a QR code (its public keys, no secret) and the
// code to compare with what the existing device computes from that text.
struct DeviceLinkRequest {
  std::string payload;
  std::string code;  // 8 digits, "1234 5678"
};

// What the app shows after a removal, in Dutch (B1) and English.
struct RemovalNotice {
  std::string nl;
  std::string en;
};

// An invitation to share out of band: the link (for SMS or e-mail) and the same text for a QR
// code at the kitchen table. It holds the invite secret: whoever has it can accept once.
struct Invitation {
  Bytes invite_id;
  std::string link;
  std::string qr_text;
};

struct MemberSpec {
  Bytes account_id;
  v1::Role role = v1::ROLE_MEMBER;
};

// kRemovalNotShown: kringd refused this account the case (PERMISSION_DENIED on pull) without
// serving the RemoveMember that took it out; the case stays as it is, not halted (the others
// halt their case).
enum class AlarmKind { kTamper, kFork, kDrop, kRollback, kKeyMismatch, kRemovalNotShown };
const char* AlarmKindName(AlarmKind kind);

// A verification failure. Persistent: it survives restarts and stops syncing of that case
// (kRemovalNotShown excepted: raised once, the case keeps trying).
struct Alarm {
  int64_t id = 0;
  Bytes case_id;
  AlarmKind kind = AlarmKind::kTamper;
  uint64_t seq = 0;    // position in the log where it was detected
  std::string detail;  // what failed; contains no content
  Bytes evidence;      // serialized evidence (e.g. the offending entry or receipt)
  int64_t created_at_ms = 0;
};

struct ChangeEvent {
  // kCaseDeleted: erased on request, or its retention ended; the local copy is gone.
  enum class Kind { kCaseChanged, kAlarm, kIntentRejected, kRemovedFromCase, kCaseDeleted };
  Kind kind = Kind::kCaseChanged;
  Bytes case_id;
  std::string detail;
  std::string reason =
      {};  // kIntentRejected by kringd: its reason key (kring/common/refusal.h), or ""
  // kIntentRejected: how many queued changes it rejects (at least 1); 0 for the other kinds, as
  // in the C and Java bindings. One event stands for all of them when a case is closed
  // (CASE_CLOSED: every change queued for it is rejected at once; the device's own rekeys and
  // complaints are rejected too but not counted) or when edits to a restricted scope this account
  // was taken out of are dropped (NOT_IN_SCOPE; SCOPE_UNKNOWN when the case no longer has it),
  // and when this account was removed from the case (NOT_A_MEMBER).
  size_t count = 0;
};
using ChangeListener = std::function<void(const ChangeEvent&)>;

// What became of a change this device queued. kDone: no longer kept, because kringd ordered it
// (or its case is gone from this device).
enum class IntentOutcome { kQueued, kRejected, kDone };

// A change this device made that reached the log but that the case's rules refused as every
// device folds it: it had no effect (or part of it none). E.g. a plan release queued offline
// after another network member's release reached kringd first.
struct RefusedChange {
  Bytes case_id;
  uint64_t seq = 0;    // its place in the case's log
  std::string reason;  // the text key of the refusing rule (domain::RefusalKey), no content
};

struct SyncStats {
  uint64_t pulled = 0;
  uint64_t pushed = 0;
  // Per case: the conflicts the pulled log made (two edits of one field at once) that are still
  // open after it, i.e. shown to the user (domain::ShowsAsConflict, on an item the case has).
  // A case without a new one is not in it.
  std::map<Bytes, uint64_t> new_conflicts;
  // This device's own changes the pulled log brought back refused, in log order: told once, by
  // the sync that pulled them.
  std::vector<RefusedChange> refused;
  // Per case: how many of new_conflicts have both values written by this account, on two of its
  // devices (not two people who disagree). A case without such a one is not in it.
  std::map<Bytes, uint64_t> new_own_conflicts;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Open(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- Account ----
  // Creates device keys, the user chain Root, user key gen 1 and a recovery key, and publishes
  // the chain. Fails with ALREADY_EXISTS when this store already has an account.
  Result<NewAccount> CreateAccount();
  Result<AccountInfo> Account() const;
  // Safety number of another account, from its verified chain (fetched if needed).
  Result<std::string> SafetyNumberOf(const Bytes& account_id);

  // ---- Devices (DESIGN section 3) ----
  // Linking a second device, in two steps with text or QR codes between the two devices:
  //  1. the new device (a store without an account) calls RequestDeviceLink and shows the
  //     payload as a QR code and the code as digits; calling it again shows the same;
  //  2. an existing device of the account scans the payload, the person types or compares the
  //     code shown on the new device, and ApproveDeviceLink returns the approval (a QR code for
  //     the new device); a payload changed on the way gives another code and is refused;
  //  3. the new device scans the approval; FinishDeviceLink publishes the AddDevice link (signed
  //     by both devices), checks it in the account's chain, takes the user keys (sealed to it
  //     in the link) and syncs every case of the account.
  // Nothing secret travels in the clear; the server can neither read the seeds nor swap keys.
  Result<DeviceLinkRequest> RequestDeviceLink();
  Result<std::string> ApproveDeviceLink(const std::string& payload, const std::string& code);
  Result<AccountInfo> FinishDeviceLink(const std::string& approval);
  // This account's devices, from its chain as kringd has it now (online).
  Result<std::vector<DeviceInfo>> Devices();
  // A lost or stolen device, from another device of the account: revokes it and rotates the
  // user key to the remaining devices (and the recovery key) in the chain; kringd ends its
  // sessions at once and refuses it from then on. Every case this account is in gets a new key
  // for scope 0 and for each restricted scope the account is in, queued and pushed by sync.
  Status RevokeDevice(const Bytes& device_id);
  // A fresh device (a store without an account) takes over an account with its recovery key:
  // it adds itself to the chain, signed by the recovery key, and reads every case again. A key
  // that belongs to no account gives NOT_FOUND and changes nothing. With `expected_account_id`
  // (16 bytes, e.g. from a contact's device) the chain must be that account's, so a server cannot
  // hand over a chain it built around the recovery key's public keys.
  Result<AccountInfo> RestoreAccount(const std::string& recovery_key,
                                     const Bytes& expected_account_id = {});

  // ---- Cases ----
  // Online: fetches and verifies every member's chain, then queues CreateCase and the initial
  // Rekey of scope 0. The caller is included as chair unless listed with another role.
  // newcomers_read_history is the chair's choice for people added later: true = they can read
  // what was written before they joined; false = "from now on" only.
  Result<Bytes> CreateCase(const std::vector<MemberSpec>& members,
                           bool newcomers_read_history = false);
  // Online (the new member's chain is fetched and verified): queues AddMember with a Rekey that
  // gives the newcomer the new epoch key. Only the chair or coordinator.
  Status AddMember(const Bytes& case_id, const MemberSpec& member);
  // Queues RemoveMember with a Rekey for everyone else, pushed atomically. Returns the sentence
  // the app shows: what was seen cannot be recalled, what comes after is protected.
  Result<RemovalNotice> RemoveMember(const Bytes& case_id, const Bytes& account_id);

  // The current epoch's fingerprint of a scope (0: the whole case) ("epoch 3: 1234 5678 9012"),
  // to compare at the meeting, especially after a removal. NOT_FOUND before this device has a
  // key (or when it is not in the scope).
  Result<std::string> EpochFingerprint(const Bytes& case_id, uint32_t scope_id = 0) const;

  // Leave the case (any member, while a chair or coordinator remains): the next key comes from
  // them, so nothing written after this can be read here. Returns the sentence the app shows.
  Result<RemovalNotice> LeaveCase(const Bytes& case_id);

  // ---- Closing and erasure (DOMAIN step 9) ----
  // Chair or coordinator: the case becomes read-only; `retention_days` (0..3650) after kringd
  // receives this, it deletes the case, and every device deletes its copy when it learns so.
  Status CloseCase(const Bytes& case_id, uint32_t retention_days);
  // The chair (the resident asks for erasure): kringd deletes the case at once, keeping only the
  // signed request, and every device deletes its copy. Cannot be undone.
  Status EraseCase(const Bytes& case_id);

  // ---- Invitations (for people without an account yet) ----
  // Chair or coordinator: a single-use invite for `role`, valid for `valid_for_seconds`
  // (1 second .. 30 days). Its state is in View(case).invites().
  Result<Invitation> CreateInvite(const Bytes& case_id, v1::Role role, int64_t valid_for_seconds);
  Status RevokeInvite(const Bytes& case_id, const Bytes& invite_id);
  // The invitee (with an account on this device): proves it holds the invite and waits, without
  // keys or content, until approved. Returns the case id.
  // Blocks while a sync runs (the case is read and written back whole, and no catch-up may commit
  // in between): that can take network round trips for every case, so call it on a background
  // thread, not on an app's UI thread. No network call of its own.
  Result<Bytes> AcceptInvite(const std::string& link);
  // Chair (or coordinator): let a pending member in (with a new key) or say no.
  Status ApproveMember(const Bytes& case_id, const Bytes& account_id);
  Status DeclineMember(const Bytes& case_id, const Bytes& account_id);
  // Changes a member's role to ROLE_COORDINATOR or ROLE_MEMBER. Offline-first: queued and sent
  // at the next sync; no new key (every role reads the same). The chair (or, before the resident
  // has joined, a coordinator) decides; a coordinator may always step back to member; the
  // chair's role never changes; a chair or coordinator must remain. A refused change is
  // PERMISSION_DENIED here with the rule, or rejected by kringd with its refusal reason.
  Status SetRole(const Bytes& case_id, const Bytes& account_id, v1::Role role);
  std::vector<Bytes> Cases() const;

  // ---- Restricted scopes (DESIGN section 5) ----
  // A subset of the members with its own key, for content hidden from everyone else (a new
  // address hidden from one person, the network's private time, contact details for the
  // coordinator only). Any member may create one; the caller is always included. Returns the
  // scope id for CreateEntity/Submit. Offline-first like edits; the key is made at push time.
  Result<uint32_t> CreateScope(const Bytes& case_id, const std::vector<Bytes>& members);
  // Replaces a scope's members (a member of the scope only, who stays in it). A new key goes to
  // the new members; someone taken out cannot read what is written after.
  Status SetScopeMembers(const Bytes& case_id, uint32_t scope_id,
                         const std::vector<Bytes>& members);

  // ---- Edits (offline-first; stored durably before returning) ----
  // `scope_id` 0 is the whole case; another scope hides the op from everyone outside it. Every
  // mutation of an existing entity must be in the entity's scope (else it has no effect).
  // A CreateEntity's id commits to the scope by its first 4 bytes (big-endian): the scope id in
  // a restricted scope; in scope 0 no id of a scope of the case (use 0). Else INVALID_ARGUMENT.
  Status Submit(const Bytes& case_id, const std::vector<v1::Mutation>& mutations,
                uint32_t scope_id = 0);
  // The entity lives in `scope_id` for good; SetField and the others below use its scope.
  Result<Bytes> CreateEntity(const Bytes& case_id, const std::string& type, uint32_t scope_id = 0);
  Result<uint32_t> ScopeOf(const Bytes& case_id, const Bytes& entity_id) const;
  // Based on the revision currently visible, so a concurrent edit becomes a visible conflict.
  Status SetField(const Bytes& case_id, const Bytes& entity_id, const std::string& field,
                  const v1::Value& value);
  Result<Bytes> AddToSet(const Bytes& case_id, const Bytes& entity_id, const std::string& set,
                         const v1::Value& value);
  Status RemoveFromSet(const Bytes& case_id, const Bytes& entity_id, const std::string& set,
                       const Bytes& element_id);
  Status DeleteEntity(const Bytes& case_id, const Bytes& entity_id);
  Status RestoreEntity(const Bytes& case_id, const Bytes& entity_id);

  // ---- Reading ----
  // Optimistic view: confirmed state with pending intents replayed on top.
  Result<v1::CaseState> View(const Bytes& case_id) const;
  // Confirmed state only (what the server has ordered and this device has verified).
  Result<v1::CaseState> ConfirmedView(const Bytes& case_id) const;
  size_t PendingIntents(const Bytes& case_id) const;
  // The ids of the case's queued changes, oldest first: a caller compares them before and after
  // queueing to know its own change, and asks OutcomeOf after a sync.
  Result<std::vector<Bytes>> QueuedIntentIds(const Bytes& case_id) const;
  Result<IntentOutcome> OutcomeOf(const Bytes& case_id, const Bytes& client_op_id) const;
  std::vector<Alarm> Alarms() const;
  // OK, or the SECURITY_ALARM SyncCase gives for a case an alarm stopped (the store's halted
  // flag, not an alarm's text): for a call that must not act on a stopped case's view.
  // NOT_FOUND for a case this device does not know.
  Status CaseStopped(const Bytes& case_id);

  // ---- Sync ----
  // Runs one full sync on the worker (or inline without one) and waits for it.
  // FAILED_PRECONDITION from a change listener while background sync runs (see the top).
  Result<SyncStats> SyncNow();
  // The same for one case only: pulls and verifies it, pushes its queued changes, with SyncNow's
  // locking and events (on the worker, or inline without one); other cases are not touched, so
  // a halted or refused case elsewhere does not fail it. It still waits its turn: with a worker
  // it runs after the worker's round in progress (a full sync included); without one a
  // SyncNow on another thread finishes first. kringd's list of cases is read as SyncNow reads
  // it, so a case this account was just added (back) to is taken too.
  // Errors: INVALID_ARGUMENT for an id that is not 16 bytes; NOT_FOUND when neither this device
  // nor kringd has the case; as SyncNow without an account, server or network, and from a
  // change listener. Unlike SyncNow, which passes over a case an alarm stops and reports the
  // others, this case's stop is the result: SECURITY_ALARM when the case is halted (by an alarm
  // that stops it: TAMPER, FORK, DROP, ROLLBACK, or KEY_MISMATCH for a Rekey whose recipients
  // are not the members; raised by this sync or before it, and then told before any network
  // call, offline too) or when kringd refuses the case without showing a removal
  // (REMOVAL_NOT_SHOWN, on every such sync). An alarm that does not stop the case (KEY_MISMATCH
  // for a key box of this device only, answered with a complaint) is only an event: OK.
  Result<SyncStats> SyncCase(const Bytes& case_id);
  int AddChangeListener(ChangeListener listener);
  void RemoveChangeListener(int token);

  class Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kring::client
