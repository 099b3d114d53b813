/*
 * kring.h: the C ABI of libkring (libkring.so). This header is the reference documentation.
 *
 * The C ABI is a thin wrapper around the C++ API (kring/client.h); Java (JNI) and Swift use it.
 * Overview, ownership rules, threading and versioning in prose: docs/c-abi.md.
 *
 * Conventions that hold for every function unless its comment says otherwise:
 *  - Return value: a kring_status; KRING_OK (0) on success.
 *  - Outputs come last, before `out_err`. Every output is reset on entry (NULL / 0 / empty), so
 *    after a failure it holds nothing that needs freeing. A required output that is NULL makes
 *    the call fail with KRING_ERR_INVALID_ARGUMENT.
 *  - `kring_error** out_err` is always the last parameter and may be NULL. On failure, when not
 *    NULL, *out_err receives an error the caller frees with kring_error_free (it stays NULL if
 *    even that allocation fails). On success *out_err is NULL.
 *  - No C++ exception ever crosses this boundary.
 *  - Buffers the library returns (kring_bytes, char*) are allocated by the library and must be
 *    freed with kring_bytes_free / kring_string_free, which wipe them first.
 *  - Inputs are borrowed for the duration of the call only; the library copies what it keeps.
 *  - Identifiers (account, case, entity, element ids) are kring_id_size() (16) raw bytes.
 *  - Strings are NUL-terminated UTF-8; invalid UTF-8 is rejected with KRING_ERR_INVALID_ARGUMENT.
 *  - Model values cross as serialized Protobuf of proto/kring/v1/model.proto and case.proto
 *    (package kring.v1); apps decode them with their platform's protobuf library.
 *  - Every function is thread-safe on one kring_client, except kring_client_close, which must
 *    not race with any other use of the same client.
 *  - Error messages never contain plaintext, keys, names or contact details.
 */
#ifndef KRING_KRING_H_
#define KRING_KRING_H_

#include <stddef.h>
#include <stdint.h>

#if defined(KRING_BUILDING_LIBRARY)
#define KRING_API __attribute__((visibility("default")))
#else
#define KRING_API
#endif

#ifdef __cplusplus
#define KRING_NOEXCEPT noexcept
extern "C" {
#else
#define KRING_NOEXCEPT
#endif

/*
 * The ABI version this header describes. Pass it to kring_client_open. It grows by one whenever a
 * function or enumerator is appended; existing functions never change. A library accepts callers
 * compiled against its own version or any earlier one.
 *   1  the first ABI.
 *   2  membership and invitations (kring_client_create_case_with_history, _add_member,
 *      _remove_member, _create_invite, _revoke_invite, _accept_invite, _approve_member,
 *      _decline_member), kring_role, KRING_CHANGE_REMOVED_FROM_CASE.
 *   3  leaving a case and comparing keys (kring_client_leave_case,
 *      kring_client_epoch_fingerprint).
 *   4  devices of an account (kring_client_request_device_link, _approve_device_link,
 *      _finish_device_link, _devices, _revoke_device, _restore_account).
 *   5  restricted scopes (kring_client_create_scope, _set_scope_members,
 *      _create_entity_in_scope, _submit_in_scope, _scope_of), closing and erasure
 *      (kring_client_close_case, _erase_case), KRING_CHANGE_CASE_DELETED, the netwerkberaad
 *      domain (kring_client_domain_call) and kring_error_user_text.
 *   6  the server's refusal reasons (kring_error_reason; kring_error_user_text explains them;
 *      kring_client_add_change_event_listener gives them for rejected edits).
 *   7  changing a member's role (kring_client_set_role).
 *   8  kring_change_event.count: one KRING_CHANGE_INTENT_REJECTED for many queued changes (a
 *      closed case rejects all its queued changes at once, in one event).
 *   9  syncing one case (kring_client_sync_case, kring_client_sync_case_async).
 *  10  taking someone out of the circle: DomainRequest.remove_person, Person.left, left_at_ms
 *      and account_removed, Agreement.owner_left and needs_new_owner; the meeting's record
 *      (domain calls 120-123); spoed set later and the restricted scopes (calls 124-125), the
 *      resident's question edited per part (call 127), MentorLogEntry.author_account_id, what a
 *      private time's release shares (call 128), Agreement.in_private_time, the 4-week check-ins
 *      (call 160), the plan's drafts this device can read and the latest accepted version
 *      (calls 51-52, DomainResponse.drafts); a plan version only by the chair, a coordinator or
 *      the network in private time (a reducer rule; no new function).
 *  11  what a sync brought: kring_client_sync_now_report and kring_client_sync_case_report
 *      (kring.abi.v1.SyncReport: pulled, pushed and the new conflicts per case, with those
 *      made on two of this account's own devices, CaseConflicts.own_devices);
 *      Person.account_not_joined (a linked account never in the case: it can be invited), after
 *      which Person.account_removed is set only for an account that was a member.
 */
#define KRING_ABI_VERSION 11u

/*
 * Status codes. Numbering is append-only and mirrors kring::StatusCode
 * (common/include/kring/common/status.h). bindings/check_status_codes.sh checks that Java and
 * Swift map every code. Transient codes (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) may
 * succeed when retried; the others will not without a change.
 */
typedef enum kring_status {
  KRING_OK = 0,
  KRING_ERR_INVALID_ARGUMENT = 1,    /* bad input: NULL, wrong size, unparsable protobuf */
  KRING_ERR_NOT_FOUND = 2,           /* unknown case, entity, element, token or account */
  KRING_ERR_ALREADY_EXISTS = 3,      /* e.g. this store already has an account */
  KRING_ERR_PERMISSION_DENIED = 4,   /* the account may not do this */
  KRING_ERR_UNAUTHENTICATED = 5,     /* the server rejected this device's sign-in */
  KRING_ERR_FAILED_PRECONDITION = 6, /* wrong state: no account yet, no server, ABI mismatch */
  KRING_ERR_UNAVAILABLE = 7,         /* server unreachable (transient) */
  KRING_ERR_DEADLINE_EXCEEDED = 8,   /* a server call timed out (transient) */
  KRING_ERR_RESOURCE_EXHAUSTED = 9,  /* out of memory, quota (transient) */
  KRING_ERR_DATA_LOSS = 10,          /* the local store is damaged or the storage key is wrong */
  KRING_ERR_INTERNAL = 11,           /* a bug in libkring */
  KRING_ERR_CANCELLED = 12,          /* the client was closed before the operation finished */
  KRING_ERR_ABORTED = 13,            /* a concurrent change; retry the operation */
  KRING_ERR_SECURITY_ALARM = 14      /* verification failed and an alarm was raised */
} kring_status;

/* What a change listener is told about. Append-only, like kring_status: a listener must ignore
 * values it does not know (a newer library may report more kinds). */
typedef enum kring_change_kind {
  KRING_CHANGE_CASE_CHANGED = 0,      /* new verified ops were applied to the case */
  KRING_CHANGE_ALARM = 1,             /* a security alarm was raised (see kring_client_alarms) */
  KRING_CHANGE_INTENT_REJECTED = 2,   /* the server or the reducer rejected a local edit */
  KRING_CHANGE_REMOVED_FROM_CASE = 3, /* ABI 2: this account was removed from the case; the
                                         case stops syncing and its view keeps what was seen
                                         (CaseState.removed is set); detail is "". Sent once,
                                         when a sync ends at the verified removal: after a sync
                                         that broke off past it, the view may show removed
                                         without this event (queued edits kept) until the next
                                         sync finds the end or a re-adding, or until an invite
                                         to the case is accepted (then sent on the worker, and
                                         the view waits for approval) */
  KRING_CHANGE_CASE_DELETED = 4       /* ABI 5: the case was erased on the chair's request or
                                         its retention ended; this device's copy is gone (it
                                         leaves kring_client_cases; views fail with NOT_FOUND) */
} kring_change_kind;

/* ABI 2. A member's role in a case; the numbers are those of kring.v1.Role (case.proto). */
typedef enum kring_role {
  KRING_ROLE_CHAIR = 1,       /* the resident; at most one per case */
  KRING_ROLE_COORDINATOR = 2, /* the gespreksleider; may add, invite and approve like the chair */
  KRING_ROLE_MEMBER = 3
} kring_role;

/* One open local store (one device). Opaque; created by kring_client_open, freed by
 * kring_client_close. */
typedef struct kring_client kring_client;

/* An error: a code and a message. Opaque; freed by kring_error_free. */
typedef struct kring_error kring_error;

/* A library-owned byte buffer. `data` may be NULL when `len` is 0. Freed (and wiped) by
 * kring_bytes_free; never free `data` yourself. */
typedef struct kring_bytes {
  uint8_t* data;
  size_t len;
} kring_bytes;

/*
 * Completion of an asynchronous operation. Called exactly once per successful scheduling call,
 * on the client's callback thread (never on the caller's thread, never while the library holds
 * one of its locks). `error` is NULL when status is KRING_OK; otherwise it is owned by the
 * library and valid only during the call (copy what you need; do not free it). When the client
 * is closed before the operation ran, status is KRING_ERR_CANCELLED.
 */
typedef void (*kring_completion_fn)(void* user_data, kring_status status, const kring_error* error);

/*
 * A change notification. `case_id` (case_id_len bytes, NULL when len is 0) and `detail` (a short
 * ASCII description without content; never NULL) are owned by the library and valid only during
 * the call. Runs on the thread that applied the change: the client's sync worker when opened
 * with background sync, otherwise the thread running kring_client_sync_now (or _sync_case) or
 * the callback thread of kring_client_sync_async (or _sync_case_async). Never called while the
 * library holds one of its locks. It may call any kring_client_* function except
 * kring_client_sync_now and kring_client_sync_case (which fail with
 * KRING_ERR_FAILED_PRECONDITION there).
 */
typedef void (*kring_change_fn)(void* user_data, kring_change_kind kind, const uint8_t* case_id,
                                size_t case_id_len, const char* detail);

/* Releases a callback's user_data. Called exactly once. */
typedef void (*kring_free_fn)(void* user_data);

/* ---------------------------------------------------------------------------------------------
 * Library information. All thread-safe, no allocation, callable before any client is open.
 * ------------------------------------------------------------------------------------------- */

/* Returns the ABI version of the loaded library (compare with KRING_ABI_VERSION). */
KRING_API uint32_t kring_abi_version(void) KRING_NOEXCEPT;

/* Returns the size in bytes of every identifier (account, device, case, entity, element): 16. */
KRING_API size_t kring_id_size(void) KRING_NOEXCEPT;

/* Returns the size in bytes of the storage key kring_client_open expects: 32. */
KRING_API size_t kring_storage_key_size(void) KRING_NOEXCEPT;

/* Returns a static, never-freed name such as "INVALID_ARGUMENT" (or "UNKNOWN" for a code this
 * library does not know). */
KRING_API const char* kring_status_name(kring_status status) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Errors and library-owned buffers. NULL-safe; thread-safe on distinct objects.
 * ------------------------------------------------------------------------------------------- */

/* Returns the error's code; KRING_ERR_INVALID_ARGUMENT when `error` is NULL. */
KRING_API kring_status kring_error_code(const kring_error* error) KRING_NOEXCEPT;

/* Returns the error's message (UTF-8, owned by `error`, valid until kring_error_free); "" when
 * `error` is NULL. */
KRING_API const char* kring_error_message(const kring_error* error) KRING_NOEXCEPT;

/*
 * ABI 5. The text an app shows for a domain error (kring_client_domain_call and any error whose
 * message is a domain key such as "referral.no_consent") and, since ABI 6, for a refusal of the
 * server with a reason this library knows (kring_error_reason): lang "nl" for Dutch (B1) or "en"
 * for English. Owned by `error`, valid until kring_error_free. "" when `error` is NULL, lang is
 * neither, or there is no such text (then show a generic text and log the message).
 */
KRING_API const char* kring_error_user_text(const kring_error* error,
                                            const char* lang) KRING_NOEXCEPT;

/*
 * ABI 6. The server's reason for refusing, a stable key of A-Z, 0-9 and '_' such as
 * "INVITE_USED" or "NOT_A_MEMBER" (the list: kring/common/refusal.h; a newer server may send
 * reasons this library does not know). A control change (member, invitation, role, scope,
 * closing, erasing, complaint) this library refuses itself before queuing it carries the key
 * kringd gives for the same rule. Act on the key, never on the message. Owned by `error`,
 * valid until kring_error_free; "" when `error` is NULL or the error is not such a refusal.
 */
KRING_API const char* kring_error_reason(const kring_error* error) KRING_NOEXCEPT;

/* Frees an error. NULL-safe. */
KRING_API void kring_error_free(kring_error* error) KRING_NOEXCEPT;

/* Wipes and frees bytes->data, then sets data to NULL and len to 0. NULL-safe (both `bytes` and
 * bytes->data). Only for buffers this library filled. */
KRING_API void kring_bytes_free(kring_bytes* bytes) KRING_NOEXCEPT;

/* Wipes and frees a string this library returned. NULL-safe. */
KRING_API void kring_string_free(char* str) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Client lifetime.
 * ------------------------------------------------------------------------------------------- */

/*
 * Opens (creating if needed) the local store at `db_path` and returns a client.
 *
 * abi_version     KRING_ABI_VERSION as compiled into the caller. A caller built against a newer
 *                 ABI than this library fails with KRING_ERR_FAILED_PRECONDITION.
 * db_path         path of the SQLite file; borrowed; required.
 * storage_key     storage_key_len bytes from the platform keystore (kring_storage_key_size());
 *                 borrowed and copied into wiped memory; the caller keeps and wipes its copy.
 *                 A wrong key for an existing store fails with KRING_ERR_DATA_LOSS.
 * server_address  "host:port" of kringd, or NULL for an offline-only client (edits and reads
 *                 work; create_account, create_case and sync fail with FAILED_PRECONDITION or
 *                 UNAVAILABLE). Borrowed.
 * tls_root_certs  PEM roots for TLS, or NULL/"" for plaintext (loopback and tests only).
 * background_sync nonzero: start a worker thread that syncs on local edits, server pokes and a
 *                 timer (once the device has an account). Zero: sync only when asked.
 * out_client      receives the client; the caller owns it and frees it with kring_client_close.
 *
 * Thread-safety: thread-safe. Allocation: the client and its threads.
 */
KRING_API kring_status kring_client_open(uint32_t abi_version, const char* db_path,
                                         const uint8_t* storage_key, size_t storage_key_len,
                                         const char* server_address, const char* tls_root_certs,
                                         int background_sync, kring_client** out_client,
                                         kring_error** out_err) KRING_NOEXCEPT;

/*
 * Closes a client and frees it. NULL-safe. Waits for a sync in progress to finish (each server
 * call has a deadline), completes every queued kring_client_sync_async with KRING_ERR_CANCELLED,
 * stops and joins the client's threads, then calls free_user_data of every change listener still
 * registered. No callback runs after it returns, except in one case: when called from inside a
 * callback of this client, the close is finished on another thread after that callback returns.
 *
 * Thread-safety: must not race with any other call on the same client (including another close).
 */
KRING_API void kring_client_close(kring_client* client) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Account. Thread-safe.
 * ------------------------------------------------------------------------------------------- */

/*
 * Creates this device's account (device keys, user chain, recovery key) and publishes it to the
 * server. Online. Fails with KRING_ERR_ALREADY_EXISTS when the store already has an account.
 *
 * out_account_id     receives the 16-byte account id (library-owned; kring_bytes_free).
 * out_safety_number  receives the account's safety number, digits (kring_string_free).
 * out_recovery_key   receives the recovery key as words: show it once, never store it
 *                    (kring_string_free wipes it).
 */
KRING_API kring_status kring_client_create_account(kring_client* client,
                                                   kring_bytes* out_account_id,
                                                   char** out_safety_number,
                                                   char** out_recovery_key,
                                                   kring_error** out_err) KRING_NOEXCEPT;

/*
 * This device's account. Fails with KRING_ERR_FAILED_PRECONDITION when there is none yet.
 * out_account_id, out_device_id: 16 bytes each (kring_bytes_free). out_safety_number: digits
 * (kring_string_free).
 */
KRING_API kring_status kring_client_account(kring_client* client, kring_bytes* out_account_id,
                                            kring_bytes* out_device_id, char** out_safety_number,
                                            kring_error** out_err) KRING_NOEXCEPT;

/*
 * Safety number of another account, from its verified chain (fetched from the server if this
 * device does not have it). account_id: 16 bytes, borrowed. out_safety_number:
 * kring_string_free.
 */
KRING_API kring_status kring_client_safety_number_of(kring_client* client,
                                                     const uint8_t* account_id,
                                                     size_t account_id_len,
                                                     char** out_safety_number,
                                                     kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Cases. Thread-safe.
 * ------------------------------------------------------------------------------------------- */

/*
 * Creates a case. Online: fetches and verifies every member's chain, then queues the case's
 * creation for the next sync.
 *
 * create_case  a serialized kring.v1.CreateCase (case.proto): the members with their roles
 *              (chair, coordinator or member). The caller is added as chair unless listed.
 *              Its newcomers_read_history field is honoured (libkring with ABI 1 ignored it;
 *              unset means "from now on"). Borrowed; at most 128 KiB.
 * out_case_id  receives the new case's 16-byte id (kring_bytes_free).
 */
KRING_API kring_status kring_client_create_case(kring_client* client, const uint8_t* create_case,
                                                size_t create_case_len, kring_bytes* out_case_id,
                                                kring_error** out_err) KRING_NOEXCEPT;

/*
 * The cases this device knows. out_case_ids receives the ids concatenated: len is a multiple of
 * kring_id_size(), id i is at data + i * 16 (data is NULL when there are none).
 * kring_bytes_free.
 */
KRING_API kring_status kring_client_cases(kring_client* client, kring_bytes* out_case_ids,
                                          kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Membership and invitations (ABI 2). Thread-safe. case_id and account_id: 16 bytes, borrowed.
 * Each change is queued durably as a control intent and sent at the next sync, where kringd and
 * every member's device check it again; a refusal there arrives as KRING_CHANGE_INTENT_REJECTED.
 * The library refuses up front what the caller's role does not allow (KRING_ERR_PERMISSION_DENIED,
 * judged on this device's optimistic view). A closed case refuses every change but the erasure
 * with KRING_ERR_FAILED_PRECONDITION and the reason CASE_CLOSED, as kringd does. A case stopped
 * by a security alarm fails with KRING_ERR_FAILED_PRECONDITION. Members, pending members and
 * invites are read from the view (kring.v1.CaseState members, pending_members, invites,
 * pending_approval, removed).
 * ------------------------------------------------------------------------------------------- */

/*
 * kring_client_create_case with the chair's choice for people added later as an argument.
 * newcomers_read_history  nonzero: members added later can read what was written before they
 *                         joined (each Rekey carries a back-link to the previous key); zero:
 *                         "from now on" only. Fixed for the life of the case.
 * create_case             as for kring_client_create_case; its newcomers_read_history field must
 *                         be unset or agree with the argument (KRING_ERR_INVALID_ARGUMENT).
 * out_case_id             receives the new case's 16-byte id (kring_bytes_free).
 * Online (fetches and verifies every member's chain). Allocation: out_case_id.
 */
KRING_API kring_status kring_client_create_case_with_history(
    kring_client* client, const uint8_t* create_case, size_t create_case_len,
    int newcomers_read_history, kring_bytes* out_case_id, kring_error** out_err) KRING_NOEXCEPT;

/*
 * Adds an existing account to the case with `role`. Only the chair or a coordinator; a case has
 * at most one chair. Online: the newcomer's chain is fetched and verified (KRING_ERR_NOT_FOUND
 * for an unknown account). The push carries a Rekey that gives the newcomer the new key.
 * role: KRING_ROLE_*; another value is KRING_ERR_INVALID_ARGUMENT. No outputs, no allocation.
 */
KRING_API kring_status kring_client_add_member(kring_client* client, const uint8_t* case_id,
                                               size_t case_id_len, const uint8_t* account_id,
                                               size_t account_id_len, kring_role role,
                                               kring_error** out_err) KRING_NOEXCEPT;

/*
 * Removes a member (chair or coordinator; a coordinator cannot remove the chair:
 * KRING_ERR_PERMISSION_DENIED). Removing oneself is leaving (kring_client_leave_case): refused
 * with KEY_HOLDER_MUST_REMAIN only when nobody else could hand out new keys, and with
 * KRING_ERR_FAILED_PRECONDITION CASE_CLOSED on a closed case. The push carries a Rekey for
 * everyone else, so what is written afterwards is unreadable to the removed account; its device
 * gets KRING_CHANGE_REMOVED_FROM_CASE at its next sync.
 * lang        "nl" or "en" (borrowed): the language of the notice; anything else is
 *             KRING_ERR_INVALID_ARGUMENT, checked before anything is queued.
 * out_notice  receives the sentence the app must show to the person removing: what was seen
 *             cannot be recalled, what comes after is protected. UTF-8; kring_string_free.
 */
KRING_API kring_status kring_client_remove_member(kring_client* client, const uint8_t* case_id,
                                                  size_t case_id_len, const uint8_t* account_id,
                                                  size_t account_id_len, const char* lang,
                                                  char** out_notice,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/*
 * Creates a single-use invitation for someone who may not have an account yet. Chair or
 * coordinator. Its state (PENDING, ACCEPTED, APPROVED, DECLINED, REVOKED, EXPIRED) is in
 * CaseState.invites once created.
 * role               the role the accepted member gets on approval (KRING_ROLE_*).
 * valid_for_seconds  1 .. 2592000 (30 days); expiry is enforced by kringd's clock.
 * out_invite_id      receives the invite's 16-byte id, for kring_client_revoke_invite and to
 *                    find it in CaseState.invites (kring_bytes_free).
 * out_link           receives the link to send out of band (SMS, e-mail), e.g.
 *                    "kring://invite/1/...". It holds the invite secret: whoever has it can
 *                    accept once. Do not log or store it. kring_string_free (wipes it).
 * out_qr_text        receives the text to show as a QR code (today the same as the link; apps
 *                    must not rely on that). Secret like the link; kring_string_free.
 */
KRING_API kring_status kring_client_create_invite(kring_client* client, const uint8_t* case_id,
                                                  size_t case_id_len, kring_role role,
                                                  int64_t valid_for_seconds,
                                                  kring_bytes* out_invite_id, char** out_link,
                                                  char** out_qr_text,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/*
 * Revokes an invitation that was not used yet (chair or coordinator). invite_id: the 16 bytes
 * from kring_client_create_invite or CaseState.invites, borrowed. Revoking one that is not
 * pending fails with KRING_ERR_PERMISSION_DENIED. No outputs, no allocation.
 */
KRING_API kring_status kring_client_revoke_invite(kring_client* client, const uint8_t* case_id,
                                                  size_t case_id_len, const uint8_t* invite_id,
                                                  size_t invite_id_len,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/*
 * Accepts an invitation on this device (which needs an account: KRING_ERR_FAILED_PRECONDITION
 * otherwise). Proves it holds the invite and binds this account; the case then appears in
 * kring_client_cases with CaseState.pending_approval set and no keys or content until the chair
 * or a coordinator approves. A used, revoked or expired invite is refused by kringd at the next
 * sync (KRING_CHANGE_INTENT_REJECTED). Blocks while a sync of this client runs (it waits for
 * that sync to end, network round trips for every case included; it makes no network call of
 * its own): call it on a background thread, never on an app's UI thread.
 * link         the link or QR text (borrowed; the library wipes its copy). Not a Kring link:
 *              KRING_ERR_INVALID_ARGUMENT. Already a member: KRING_ERR_ALREADY_EXISTS.
 * out_case_id  receives the case's 16-byte id (kring_bytes_free).
 */
KRING_API kring_status kring_client_accept_invite(kring_client* client, const char* link,
                                                  kring_bytes* out_case_id,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/*
 * Lets in an account waiting in CaseState.pending_members, with the role its invite named: an
 * AddMember with a new key (chair or coordinator). KRING_ERR_NOT_FOUND when nobody with this
 * account waits. Online, like kring_client_add_member. No outputs, no allocation.
 */
KRING_API kring_status kring_client_approve_member(kring_client* client, const uint8_t* case_id,
                                                   size_t case_id_len, const uint8_t* account_id,
                                                   size_t account_id_len,
                                                   kring_error** out_err) KRING_NOEXCEPT;

/*
 * Says no to an account waiting in CaseState.pending_members (chair or coordinator); its invite
 * becomes DECLINED and it never gets keys. KRING_ERR_PERMISSION_DENIED when the account is not
 * waiting. No outputs, no allocation.
 */
KRING_API kring_status kring_client_decline_member(kring_client* client, const uint8_t* case_id,
                                                   size_t case_id_len, const uint8_t* account_id,
                                                   size_t account_id_len,
                                                   kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 7. Changes a member's role to KRING_ROLE_COORDINATOR or KRING_ROLE_MEMBER. Queued like
 * kring_client_decline_member (offline-first, sent at the next sync) and carries no new key: a
 * role decides what someone may do, not what they can read. Rules (kringd and every device check
 * them): the chair or a coordinator; once the resident (chair) has joined only the chair, except
 * that a coordinator may always step back to member; the chair's own role never changes and
 * nobody becomes chair this way; a chair or coordinator must remain. Breaking a rule known on
 * this device fails here with the status and kring_error_reason kringd would give
 * (KRING_ERR_PERMISSION_DENIED with MANAGERS_ONLY, CHAIR_DECIDES_ROLES, CHAIR_KEEPS_ROLE or
 * KEY_HOLDER_MUST_REMAIN; KRING_ERR_NOT_FOUND with TARGET_NOT_MEMBER; KRING_ERR_ALREADY_EXISTS
 * with ROLE_UNCHANGED); one found later (when the queued change is sealed, or by kringd) comes
 * as KRING_CHANGE_INTENT_REJECTED with the same reason. kring_error_user_text explains each.
 * Making someone coordinator while they are in an open private time is
 * KRING_ERR_FAILED_PRECONDITION with the domain key "role.in_private_time"; when a promotion
 * queued earlier meets a private time this device learnt of since, it is dropped when sealed and
 * the rejection event carries that key.
 * case_id, account_id  16 bytes each, borrowed.
 * role                 KRING_ROLE_COORDINATOR or KRING_ROLE_MEMBER. KRING_ROLE_CHAIR reaches
 *                      the library and is KRING_ERR_INVALID_ARGUMENT with the reason
 *                      ROLE_NOT_ASSIGNABLE. A value that is no KRING_ROLE_* at all is refused
 *                      by this binding before the library sees it: KRING_ERR_INVALID_ARGUMENT
 *                      without a reason, the message naming the valid roles.
 * No outputs, no allocation. Thread-safety: thread-safe.
 */
KRING_API kring_status kring_client_set_role(kring_client* client, const uint8_t* case_id,
                                             size_t case_id_len, const uint8_t* account_id,
                                             size_t account_id_len, kring_role role,
                                             kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 3. This device's account leaves the case (any member, while a chair or coordinator
 * remains: the last one who can hand out keys cannot leave, KRING_ERR_PERMISSION_DENIED). Queued
 * like kring_client_remove_member of oneself and sent at the next sync; kringd then accepts no
 * new content in the case until a chair's or coordinator's device has made the next key, which
 * it does by itself at its next sync (never this device). Afterwards this device gets
 * KRING_CHANGE_REMOVED_FROM_CASE like a removed member, and its view keeps what was seen.
 * case_id     16 bytes, borrowed.
 * lang        "nl" or "en" (borrowed): the language of the notice; anything else is
 *             KRING_ERR_INVALID_ARGUMENT, checked before anything is queued.
 * out_notice  receives the sentence the app must show to the person leaving: what was seen stays
 *             on this device, what comes after cannot be read here. UTF-8; kring_string_free.
 * No account on this device: KRING_ERR_FAILED_PRECONDITION. Thread-safety: thread-safe.
 * Allocation: out_notice.
 */
KRING_API kring_status kring_client_leave_case(kring_client* client, const uint8_t* case_id,
                                               size_t case_id_len, const char* lang,
                                               char** out_notice,
                                               kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 3. The fingerprint of the case's current key (the whole-case scope), to compare aloud at
 * the meeting, especially after someone was removed or left: every remaining member's device
 * shows the same text, e.g. "epoch 2: 1234 5678 9012" (ASCII; compare the whole text). Local
 * only (no network): it reads the confirmed state, so it changes once this device has synced
 * the new key.
 * case_id   16 bytes, borrowed. An unknown case, a case without a confirmed key yet, or one whose
 *           current key this device does not hold: KRING_ERR_NOT_FOUND.
 * out_text  receives the fingerprint (kring_string_free).
 * Thread-safety: thread-safe. Allocation: out_text.
 */
KRING_API kring_status kring_client_epoch_fingerprint(kring_client* client, const uint8_t* case_id,
                                                      size_t case_id_len, char** out_text,
                                                      kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * ABI 4. Devices of an account. Online; thread-safe. Linking a second device takes two codes
 * between the devices (QR codes, or text):
 *   1. the new device (a store without an account): kring_client_request_device_link, shows the
 *      payload as a QR code and the code as digits;
 *   2. an existing device of the account scans the payload; the person types the code the new
 *      device shows: kring_client_approve_device_link returns the approval, shown as a QR code;
 *   3. the new device scans it: kring_client_finish_device_link; it then syncs every case.
 * No secret travels in the clear: the payload holds public keys, the approval holds the user
 * keys sealed to the new device. A payload changed on the way gives another code and is refused.
 * ------------------------------------------------------------------------------------------- */

/*
 * On a new device (no account: else KRING_ERR_ALREADY_EXISTS): makes its device keys (kept in
 * the store until linked; calling again returns the same) and returns
 * out_payload  the text for a QR code, "kring://device-link/1/..." (public keys only).
 * out_code     the code to show next to it, "1234 5678" (8 digits).
 * Both kring_string_free. Local only (no network).
 */
KRING_API kring_status kring_client_request_device_link(kring_client* client, char** out_payload,
                                                        char** out_code,
                                                        kring_error** out_err) KRING_NOEXCEPT;

/*
 * On an existing device of the account: approves the new device.
 * payload       the new device's payload (borrowed). Not a link payload:
 *               KRING_ERR_INVALID_ARGUMENT.
 * code          the 8 digits the new device shows, as the person typed them (spaces ignored).
 *               Not matching the payload (changed on the way, or another device):
 *               KRING_ERR_PERMISSION_DENIED; nothing is sealed.
 * out_approval  the text for the new device, "kring://device-approve/1/..." (kring_string_free).
 *               It holds the user keys sealed to the new device only.
 * The device already belongs to the account: KRING_ERR_ALREADY_EXISTS.
 */
KRING_API kring_status kring_client_approve_device_link(kring_client* client, const char* payload,
                                                        const char* code, char** out_approval,
                                                        kring_error** out_err) KRING_NOEXCEPT;

/*
 * On the new device: publishes the approved link (signed by both devices), checks it in the
 * account's chain and takes over the account; then sync brings every case.
 * approval           the existing device's approval (borrowed). Not one, or refused by the
 *                    server (changed on the way, or the account changed since: approve again):
 *                    KRING_ERR_INVALID_ARGUMENT; the device stays without an account.
 * out_account_id     the account's 16-byte id (kring_bytes_free).
 * out_safety_number  the account's safety number, unchanged by the new device
 *                    (kring_string_free).
 */
KRING_API kring_status kring_client_finish_device_link(kring_client* client, const char* approval,
                                                       kring_bytes* out_account_id,
                                                       char** out_safety_number,
                                                       kring_error** out_err) KRING_NOEXCEPT;

/*
 * This account's devices from its chain as kringd has it now.
 * out_devices  a serialized kring.abi.v1.DeviceList (bindings/proto/kring/abi/v1/devices.proto):
 *              device id, when added, revoked, whether it is this device (kring_bytes_free).
 */
KRING_API kring_status kring_client_devices(kring_client* client, kring_bytes* out_devices,
                                            kring_error** out_err) KRING_NOEXCEPT;

/*
 * A lost or stolen device, from another device of the account: revokes it and gives the account a
 * new user key for the remaining devices; kringd ends the device's sessions at once and refuses it
 * afterwards. Every case the account is in gets new keys (the whole case and each restricted
 * scope the account is in), sent at the next sync, so nothing written after that can be read
 * with what the lost device holds.
 * device_id  16 bytes, borrowed. This device: KRING_ERR_INVALID_ARGUMENT (use another one). Not
 *            an active device of the account: KRING_ERR_NOT_FOUND. No outputs, no allocation.
 */
KRING_API kring_status kring_client_revoke_device(kring_client* client, const uint8_t* device_id,
                                                  size_t device_id_len,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/*
 * On a fresh device (no account: else KRING_ERR_ALREADY_EXISTS): takes over the account of this
 * recovery key; then sync brings every case. The recovery key stays valid.
 * recovery_key       as written down (groups, spaces and dashes ignored; borrowed, the library
 *                    wipes its copy). Not a recovery key: KRING_ERR_INVALID_ARGUMENT. No account
 *                    on this server has it: KRING_ERR_NOT_FOUND. Either way nothing changes.
 * account_id         NULL (with account_id_len 0) to take the account the server names for this
 *                    key, or its 16-byte id (borrowed) when known: then a server cannot hand
 *                    over an account it built around the key (another account: NOT_FOUND).
 * out_account_id     the account's 16-byte id (kring_bytes_free).
 * out_safety_number  the account's safety number (kring_string_free); show it, so the person
 *                    can compare it with what the others know.
 */
KRING_API kring_status kring_client_restore_account(kring_client* client, const char* recovery_key,
                                                    const uint8_t* account_id,
                                                    size_t account_id_len,
                                                    kring_bytes* out_account_id,
                                                    char** out_safety_number,
                                                    kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * ABI 5. Restricted scopes: a subset of the members with its own key, for content hidden from
 * everyone else (a new address hidden from one person, the network's private time). Scope 0 is
 * the whole case. Offline-first like edits: queued durably, the key is made at push time.
 * Thread-safe. case_id, entity_id: 16 bytes, borrowed. member_ids: account ids concatenated
 * (member_ids_len a multiple of 16, at most 256 ids; NULL when the length is 0), borrowed.
 * Scopes and their members are in CaseState.scopes.
 * ------------------------------------------------------------------------------------------- */

/*
 * Creates a scope (any member); the caller is always included. Like membership changes, what
 * this device's view already forbids is refused up front; kringd and every device check again
 * at the next sync, where a refusal arrives as KRING_CHANGE_INTENT_REJECTED.
 * out_scope_id  receives the new scope's id (never 0), for the *_in_scope functions.
 * No allocation.
 */
KRING_API kring_status kring_client_create_scope(kring_client* client, const uint8_t* case_id,
                                                 size_t case_id_len, const uint8_t* member_ids,
                                                 size_t member_ids_len, uint32_t* out_scope_id,
                                                 kring_error** out_err) KRING_NOEXCEPT;

/*
 * Replaces a scope's members (a member of the scope only, who stays in it). The new members get
 * a new key; someone taken out cannot read what is written afterwards. scope_id 0 is
 * KRING_ERR_INVALID_ARGUMENT (the whole case changes through membership). No outputs.
 */
KRING_API kring_status kring_client_set_scope_members(kring_client* client, const uint8_t* case_id,
                                                      size_t case_id_len, uint32_t scope_id,
                                                      const uint8_t* member_ids,
                                                      size_t member_ids_len,
                                                      kring_error** out_err) KRING_NOEXCEPT;

/*
 * kring_client_create_entity in a scope: the entity lives there for good, and the edit functions
 * use its scope. scope_id 0 is the whole case. out_entity_id: 16 bytes (kring_bytes_free).
 */
KRING_API kring_status kring_client_create_entity_in_scope(
    kring_client* client, const uint8_t* case_id, size_t case_id_len, const char* type,
    uint32_t scope_id, kring_bytes* out_entity_id, kring_error** out_err) KRING_NOEXCEPT;

/*
 * kring_client_submit in a scope: the op is readable only by the scope's members. Every mutation
 * of an existing entity must be in that entity's scope (otherwise it has no effect). A new
 * entity's id starts with the scope id (4 bytes, big-endian); in scope 0 it must not start with
 * the id of a scope of the case (use 4 zero bytes). Else KRING_ERR_INVALID_ARGUMENT. As kringd
 * answers: a scope the case does not have is KRING_ERR_FAILED_PRECONDITION with the reason
 * SCOPE_UNKNOWN, one this account is not in KRING_ERR_PERMISSION_DENIED with NOT_IN_SCOPE (also
 * for kring_client_create_entity_in_scope). An edit queued before this account was taken out of
 * the scope is dropped at the next sync: KRING_CHANGE_INTENT_REJECTED with NOT_IN_SCOPE.
 */
KRING_API kring_status kring_client_submit_in_scope(kring_client* client, const uint8_t* case_id,
                                                    size_t case_id_len, const uint8_t* content_op,
                                                    size_t content_op_len, uint32_t scope_id,
                                                    kring_error** out_err) KRING_NOEXCEPT;

/* The scope an entity lives in (0: the whole case). Local only. Unknown entity:
 * KRING_ERR_NOT_FOUND. out_scope_id is reset to 0 on entry. No allocation. */
KRING_API kring_status kring_client_scope_of(kring_client* client, const uint8_t* case_id,
                                             size_t case_id_len, const uint8_t* entity_id,
                                             size_t entity_id_len, uint32_t* out_scope_id,
                                             kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * ABI 5. Closing and erasure (DOMAIN step 9). Queued like membership changes and sent at the next
 * sync. Thread-safe. case_id: 16 bytes, borrowed. No outputs, no allocation.
 * ------------------------------------------------------------------------------------------- */

/*
 * Closes the case (chair or coordinator; checked again by kringd and every device): it becomes
 * read-only; retention_days (0 .. 3650, else KRING_ERR_INVALID_ARGUMENT) after kringd receives
 * this it deletes the case, and every device deletes its copy when it learns so
 * (KRING_CHANGE_CASE_DELETED).
 */
KRING_API kring_status kring_client_close_case(kring_client* client, const uint8_t* case_id,
                                               size_t case_id_len, uint32_t retention_days,
                                               kring_error** out_err) KRING_NOEXCEPT;

/*
 * Erases the case on the resident's request (the chair only; checked again by kringd and every
 * device):
 * kringd deletes it at once, keeping only the signed request, and every device deletes its copy
 * at its next sync (KRING_CHANGE_CASE_DELETED). Cannot be undone.
 */
KRING_API kring_status kring_client_erase_case(kring_client* client, const uint8_t* case_id,
                                               size_t case_id_len,
                                               kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * ABI 5. The netwerkberaad domain: referral, circle, poll, meeting, plan, agreements and
 * follow-up (kring::domain::Organising, Plan, FollowUp) through one function. Thread-safe.
 * ------------------------------------------------------------------------------------------- */

/*
 * Runs one domain call on a case.
 * case_id       16 bytes, borrowed.
 * request       a serialized kring.abi.v1.DomainRequest (bindings/proto/kring/abi/v1/
 *               domain.proto) with exactly one call set; borrowed; at most 128 KiB. Unparsable,
 *               no call, an id that is not 16 bytes or an unknown enum value:
 *               KRING_ERR_INVALID_ARGUMENT before anything is read or queued.
 * out_response  receives a serialized kring.abi.v1.DomainResponse with the fields the request
 *               names (kring_bytes_free; may be empty, len 0, for calls that return nothing).
 * Edits are offline-first (queued durably, sent at the next sync); reads are local. A domain
 * refusal queues nothing and fails with the matching code (usually INVALID_ARGUMENT,
 * PERMISSION_DENIED, NOT_FOUND or FAILED_PRECONDITION); the error's message is the domain key
 * (e.g. "referral.no_consent", "domain.not_allowed") and kring_error_user_text gives its text.
 * Allocation: out_response.
 */
KRING_API kring_status kring_client_domain_call(kring_client* client, const uint8_t* case_id,
                                                size_t case_id_len, const uint8_t* request,
                                                size_t request_len, kring_bytes* out_response,
                                                kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Edits. Offline-first: each returns after the edit is durably stored as a pending intent; it is
 * sent at the next sync. Thread-safe. case_id, entity_id, element_id: 16 bytes, borrowed.
 * A case stopped by a security alarm fails with KRING_ERR_FAILED_PRECONDITION.
 * ------------------------------------------------------------------------------------------- */

/*
 * Queues a batch of mutations as one op. content_op: a serialized kring.v1.ContentOp
 * (model.proto) with version 1 and 1..256 mutations; borrowed; at most 128 KiB. Prefer the
 * specific functions below: they fill in ids, tags and base revisions.
 */
KRING_API kring_status kring_client_submit(kring_client* client, const uint8_t* case_id,
                                           size_t case_id_len, const uint8_t* content_op,
                                           size_t content_op_len,
                                           kring_error** out_err) KRING_NOEXCEPT;

/* Creates an entity of `type` (e.g. "agreement"; UTF-8, at most 64 bytes). out_entity_id
 * receives its new 16-byte id (kring_bytes_free). */
KRING_API kring_status kring_client_create_entity(kring_client* client, const uint8_t* case_id,
                                                  size_t case_id_len, const char* type,
                                                  kring_bytes* out_entity_id,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/*
 * Sets a field, based on the revision currently visible (a concurrent edit by someone else
 * becomes a visible conflict in CaseState.conflicts, never a silent loss).
 * field: UTF-8 name, at most 64 bytes. value: a serialized kring.v1.Value, borrowed (NULL when
 * value_len is 0, which is the empty Value).
 */
KRING_API kring_status kring_client_set_field(kring_client* client, const uint8_t* case_id,
                                              size_t case_id_len, const uint8_t* entity_id,
                                              size_t entity_id_len, const char* field,
                                              const uint8_t* value, size_t value_len,
                                              kring_error** out_err) KRING_NOEXCEPT;

/* Adds an element to the add-wins set `set` of an entity. value: serialized kring.v1.Value.
 * out_element_id receives the new element's 16-byte id (kring_bytes_free). */
KRING_API kring_status kring_client_add_to_set(kring_client* client, const uint8_t* case_id,
                                               size_t case_id_len, const uint8_t* entity_id,
                                               size_t entity_id_len, const char* set,
                                               const uint8_t* value, size_t value_len,
                                               kring_bytes* out_element_id,
                                               kring_error** out_err) KRING_NOEXCEPT;

/* Removes an element (the adds this device has seen; a concurrent add wins). */
KRING_API kring_status kring_client_remove_from_set(kring_client* client, const uint8_t* case_id,
                                                    size_t case_id_len, const uint8_t* entity_id,
                                                    size_t entity_id_len, const char* set,
                                                    const uint8_t* element_id,
                                                    size_t element_id_len,
                                                    kring_error** out_err) KRING_NOEXCEPT;

/* Marks an entity deleted (a tombstone that kring_client_restore_entity undoes). */
KRING_API kring_status kring_client_delete_entity(kring_client* client, const uint8_t* case_id,
                                                  size_t case_id_len, const uint8_t* entity_id,
                                                  size_t entity_id_len,
                                                  kring_error** out_err) KRING_NOEXCEPT;

/* Restores a deleted entity. */
KRING_API kring_status kring_client_restore_entity(kring_client* client, const uint8_t* case_id,
                                                   size_t case_id_len, const uint8_t* entity_id,
                                                   size_t entity_id_len,
                                                   kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Reading. Thread-safe; local only (no network).
 * ------------------------------------------------------------------------------------------- */

/* Optimistic view: confirmed state with pending edits replayed on top. out_state receives a
 * serialized kring.v1.CaseState (model.proto) (kring_bytes_free). */
KRING_API kring_status kring_client_view(kring_client* client, const uint8_t* case_id,
                                         size_t case_id_len, kring_bytes* out_state,
                                         kring_error** out_err) KRING_NOEXCEPT;

/* Confirmed state only (ordered by the server and verified by this device): a serialized
 * kring.v1.CaseState (kring_bytes_free). */
KRING_API kring_status kring_client_confirmed_view(kring_client* client, const uint8_t* case_id,
                                                   size_t case_id_len, kring_bytes* out_state,
                                                   kring_error** out_err) KRING_NOEXCEPT;

/* Number of this device's edits to the case not yet confirmed by the server (0 for an unknown
 * case). */
KRING_API kring_status kring_client_pending_intents(kring_client* client, const uint8_t* case_id,
                                                    size_t case_id_len, size_t* out_count,
                                                    kring_error** out_err) KRING_NOEXCEPT;

/*
 * Every security alarm this device has raised (persistent; an alarmed case stops syncing).
 * out_alarms receives a serialized kring.abi.v1.AlarmList (bindings/proto/kring/abi/v1/
 * alarms.proto), in protobuf wire format:
 *   message AlarmList { repeated Alarm alarms = 1; }
 *   message Alarm { int64 id = 1; bytes case_id = 2; AlarmKind kind = 3; uint64 seq = 4;
 *                   string detail = 5; bytes evidence = 6; int64 created_at_ms = 7; }
 *   enum AlarmKind { TAMPER = 0; FORK = 1; DROP = 2; ROLLBACK = 3; KEY_MISMATCH = 4;
 *                    REMOVAL_NOT_SHOWN = 5; }
 * REMOVAL_NOT_SHOWN: the server refused this account the case without serving the removal
 * that would explain it; the case is kept as it was and not stopped, and the alarm is raised
 * once per case.
 * Empty (len 0) when there are none. kring_bytes_free.
 */
KRING_API kring_status kring_client_alarms(kring_client* client, kring_bytes* out_alarms,
                                           kring_error** out_err) KRING_NOEXCEPT;

/* ---------------------------------------------------------------------------------------------
 * Sync.
 * ------------------------------------------------------------------------------------------- */

/*
 * Runs one full sync (pull and verify every case, push pending edits) and waits for it. Blocks
 * for network round trips, each with a deadline. With background sync it runs on the worker;
 * otherwise on the calling thread (change listeners then run on the calling thread).
 * out_pulled, out_pushed: optional (may be NULL); receive the number of ops pulled and pushed.
 * Fails with KRING_ERR_FAILED_PRECONDITION when called from inside a callback of this library
 * (it would wait for itself), KRING_ERR_CANCELLED when the client is closed meanwhile.
 * Thread-safety: thread-safe.
 */
KRING_API kring_status kring_client_sync_now(kring_client* client, uint64_t* out_pulled,
                                             uint64_t* out_pushed,
                                             kring_error** out_err) KRING_NOEXCEPT;

/*
 * Schedules one full sync and returns at once. On KRING_OK, `completion` is called exactly once
 * on the client's callback thread (a thread the library starts for this client) with the sync's
 * outcome, or with KRING_ERR_CANCELLED when the client is closed before the sync ran. On any
 * other return (e.g. NULL client or completion) it is never called.
 * user_data is passed to `completion` untouched; the library does not free it.
 * Thread-safety: thread-safe. Allocation: the callback thread on first use.
 */
KRING_API kring_status kring_client_sync_async(kring_client* client, kring_completion_fn completion,
                                               void* user_data,
                                               kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 9. Syncs one case only, as kring_client_sync_now does every case, and waits for it: pulls
 * and verifies that case, pushes its queued changes; no other case is read or sent, so a case
 * stopped by an alarm or refused by the server elsewhere on this device does not fail it. It
 * still waits its turn: with background sync it runs after the worker's round in progress (a
 * full sync included), without it after a sync running on another thread. The server's list of
 * cases is read as a full sync reads it, so a case this account was just added (or added back)
 * to is taken too. Change listeners run as for kring_client_sync_now.
 * case_id: 16 bytes, borrowed. out_pulled, out_pushed: optional (may be NULL); receive the
 * number of ops pulled and pushed for this case.
 * Fails with KRING_ERR_INVALID_ARGUMENT for an id that is not 16 bytes; KRING_ERR_NOT_FOUND
 * when neither this device nor the server has the case; KRING_ERR_SECURITY_ALARM when the case
 * is stopped by an alarm (TAMPER, FORK, DROP, ROLLBACK, or KEY_MISMATCH for a Rekey whose
 * recipients are not the members; raised by this call or before it, and then reported before
 * any network call, offline too) or the server refuses it without showing a removal
 * (REMOVAL_NOT_SHOWN, on every such call); kring_client_sync_now passes over such a case and
 * succeeds for the others. An alarm that does not stop the case (KEY_MISMATCH for a key box of
 * this device only, answered with a complaint) is only a change event: KRING_OK. Otherwise as
 * kring_client_sync_now (KRING_ERR_FAILED_PRECONDITION without an account or from inside a
 * callback, KRING_ERR_UNAVAILABLE offline, KRING_ERR_CANCELLED when the client is closed
 * meanwhile).
 * Thread-safety: thread-safe.
 */
KRING_API kring_status kring_client_sync_case(kring_client* client, const uint8_t* case_id,
                                              size_t case_id_len, uint64_t* out_pulled,
                                              uint64_t* out_pushed,
                                              kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 9. kring_client_sync_case, scheduled like kring_client_sync_async: returns at once; on
 * KRING_OK, `completion` is called exactly once on the client's callback thread with that
 * case's outcome (the errors of kring_client_sync_case), or with KRING_ERR_CANCELLED when the
 * client is closed before it ran. On any other return (NULL client or completion, an id that is
 * not 16 bytes) it is never called. case_id: 16 bytes, borrowed (copied before returning).
 * user_data is passed to `completion` untouched; the library does not free it.
 * Thread-safety: thread-safe. Allocation: the callback thread on first use.
 */
KRING_API kring_status kring_client_sync_case_async(kring_client* client, const uint8_t* case_id,
                                                    size_t case_id_len,
                                                    kring_completion_fn completion, void* user_data,
                                                    kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 11. kring_client_sync_now, telling also which cases the sync brought new conflicts to, so
 * an app can point the user at them. out_report: required; receives a kring.abi.v1.SyncReport
 * (bindings/proto/kring/abi/v1/sync.proto): `pulled`, `pushed` as kring_client_sync_now gives
 * them, and `new_conflicts`, per case the conflicts (two edits of one field at once) the pulled
 * log made that are still open after it, with `own_devices`: how many of them this account
 * wrote both values of itself, on two of its devices (tell the user so, not that two people
 * disagree); a case without one is not listed, and a conflict is counted only by the sync that
 * brought it. Since 11 too: `refused`, this device's own changes that reached the log but that a
 * rule of the case refused (no effect), each with its case, seq and the rule's text key and
 * texts, told once. Later figures are appended to SyncReport, not added as new functions.
 * kring_bytes_free. Errors and thread-safety as kring_client_sync_now.
 */
KRING_API kring_status kring_client_sync_now_report(kring_client* client, kring_bytes* out_report,
                                                    kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 11. kring_client_sync_case with kring_client_sync_now_report's output: the report lists
 * at most that case. case_id: 16 bytes, borrowed. out_report: required; kring_bytes_free.
 * Errors and thread-safety as kring_client_sync_case.
 */
KRING_API kring_status kring_client_sync_case_report(kring_client* client, const uint8_t* case_id,
                                                     size_t case_id_len, kring_bytes* out_report,
                                                     kring_error** out_err) KRING_NOEXCEPT;

/*
 * Registers a change listener (see kring_change_fn for its thread and rules).
 * Ownership of user_data passes to the library on every call, including a failing one:
 * free_user_data (may be NULL) is called exactly once with it: before this function returns if
 * it fails, otherwise after the listener's last call, when it is removed or the client closed.
 * out_token receives a token (never 0) for kring_client_remove_change_listener.
 * Thread-safety: thread-safe; may be called from inside a callback.
 */
KRING_API kring_status kring_client_add_change_listener(kring_client* client,
                                                        kring_change_fn listener, void* user_data,
                                                        kring_free_fn free_user_data,
                                                        uint64_t* out_token,
                                                        kring_error** out_err) KRING_NOEXCEPT;

/*
 * ABI 6. A change notification as one struct, so that later versions can add fields at its end:
 * `size` is sizeof(kring_change_event) as the library that calls knows it; a field appended
 * later is there only when offsetof(kring_change_event, field) + sizeof(field) <= size (the
 * fields of the header an app was built with are always there: kring_client_open refuses a
 * library older than that header). kind, case_id, case_id_len and detail are those of
 * kring_change_fn. `reason`: for KRING_CHANGE_INTENT_REJECTED by the server, its refusal reason
 * key (as kring_error_reason gives, e.g. "INVITE_USED"), and for a queued control change this
 * library refused itself when sealing it (the rules changed since it was queued), the key
 * kringd gives for the same rule; "" for every other event and for an edit refused without a
 * reason. text_nl / text_en: the text to show the person when this
 * library knows the reason, else "" (show a general text). The struct and everything it points
 * to are owned by the library and valid only during the call; strings are never NULL.
 * count (ABI 8): for KRING_CHANGE_INTENT_REJECTED, how many queued changes this one event rejects
 * (at least 1). When a case is closed (reason CASE_CLOSED, from kringd or from the verified log)
 * every change queued for it but the erasure is rejected at once, in one event with their number
 * (the device's own rekeys and complaints are rejected too but not counted), and edits to a
 * restricted scope this account was taken out of come as one event with reason NOT_IN_SCOPE
 * (SCOPE_UNKNOWN when the case no longer has the scope), as do the changes queued by an account
 * removed from the case (NOT_A_MEMBER); show one message. 0 for the other kinds.
 */
typedef struct kring_change_event {
  size_t size;
  kring_change_kind kind;
  const uint8_t* case_id;
  size_t case_id_len;
  const char* detail;
  const char* reason;
  const char* text_nl;
  const char* text_en;
  size_t count;
} kring_change_event;

typedef void (*kring_change_event_fn)(void* user_data, const kring_change_event* event);

/*
 * ABI 6. Registers a change listener that receives kring_change_event: the same events, threads,
 * rules, user_data ownership and token as kring_client_add_change_listener (remove it with
 * kring_client_remove_change_listener), plus the server's reason for a rejected edit.
 * Thread-safety: thread-safe; may be called from inside a callback.
 */
KRING_API kring_status kring_client_add_change_event_listener(
    kring_client* client, kring_change_event_fn listener, void* user_data,
    kring_free_fn free_user_data, uint64_t* out_token, kring_error** out_err) KRING_NOEXCEPT;

/*
 * Removes a change listener. When it returns, the listener will not be called again and, unless
 * called from inside a callback, no call of it is still running and its free_user_data has been
 * called on this thread. Called from inside a callback, free_user_data runs on the callback's
 * thread once the running calls of that listener have returned.
 * Fails with KRING_ERR_NOT_FOUND for an unknown or already removed token.
 * Thread-safety: thread-safe.
 */
KRING_API kring_status kring_client_remove_change_listener(kring_client* client, uint64_t token,
                                                           kring_error** out_err) KRING_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KRING_KRING_H_ */
