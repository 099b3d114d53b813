// The reasons kringd gives when it refuses a call: stable keys a client can act on (the sync
// engine makes a Rekey for HELD_FOR_REVOKED_DEVICE) and explain in the user's language
// (domain::UserText of "refused.<reason in lower case>"). kringd sends them in the gRPC status
// details (proto/kring/v1/refusal.proto); the English message stays for logs and older clients.
// Append only: a client may meet a reason it does not know and then shows a general text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kring::refusal {

inline constexpr std::string_view kDomain = "kring";  // ErrorInfo.domain
inline constexpr std::string_view kErrorInfoType = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr size_t kMaxReasonBytes = 48;

// Invitations.
inline constexpr std::string_view kInviteUnknown = "INVITE_UNKNOWN";
inline constexpr std::string_view kInviteRevoked = "INVITE_REVOKED";
inline constexpr std::string_view kInviteUsed = "INVITE_USED";
inline constexpr std::string_view kInviteExpired = "INVITE_EXPIRED";
inline constexpr std::string_view kInviteNotOpen = "INVITE_NOT_OPEN";
inline constexpr std::string_view kInviteProofInvalid = "INVITE_PROOF_INVALID";
// Who may do what.
inline constexpr std::string_view kManagersOnly = "MANAGERS_ONLY";  // chair or coordinator
inline constexpr std::string_view kChairDecides = "CHAIR_DECIDES";  // who comes in, once joined
inline constexpr std::string_view kChairExists = "CHAIR_EXISTS";
inline constexpr std::string_view kChairOnlyErase = "CHAIR_ONLY_ERASE";
inline constexpr std::string_view kChairOnlyShortRetention = "CHAIR_ONLY_SHORT_RETENTION";
inline constexpr std::string_view kKeyHolderMustRemain = "KEY_HOLDER_MUST_REMAIN";
inline constexpr std::string_view kChairRemovesChair = "CHAIR_REMOVES_CHAIR";  // nobody else may
inline constexpr std::string_view kApprovalKeepsRole = "APPROVAL_KEEPS_ROLE";
// Role changes (SetRole): once the resident joined only the chair changes roles; the chair's role
// never changes and nobody becomes chair by one; a change must change something.
inline constexpr std::string_view kChairDecidesRoles = "CHAIR_DECIDES_ROLES";
inline constexpr std::string_view kChairKeepsRole = "CHAIR_KEEPS_ROLE";
inline constexpr std::string_view kRoleNotAssignable = "ROLE_NOT_ASSIGNABLE";
inline constexpr std::string_view kRoleUnchanged = "ROLE_UNCHANGED";
// Membership.
inline constexpr std::string_view kNotAMember = "NOT_A_MEMBER";            // the caller or author
inline constexpr std::string_view kTargetNotMember = "TARGET_NOT_MEMBER";  // the person named
inline constexpr std::string_view kAlreadyMember = "ALREADY_MEMBER";       // the person added
inline constexpr std::string_view kAlreadyJoined = "ALREADY_JOINED";       // the caller, accepting
inline constexpr std::string_view kAlreadyWaiting = "ALREADY_WAITING";
inline constexpr std::string_view kNotWaiting = "NOT_WAITING";
inline constexpr std::string_view kCaseFull = "CASE_FULL";
inline constexpr std::string_view kNotInScope = "NOT_IN_SCOPE";  // a restricted part of the case
inline constexpr std::string_view kAccountUnknown = "ACCOUNT_UNKNOWN";
// The case and its keys.
inline constexpr std::string_view kCaseUnknown = "CASE_UNKNOWN";
inline constexpr std::string_view kCaseClosed = "CASE_CLOSED";
// Local only: libkring refuses every change to a case a security alarm stopped on this device.
// kringd never sends it, and a client drops it when a server does (DecodeDetails), so a server
// cannot make a refusal look like this device's alarm.
inline constexpr std::string_view kCaseHalted = "CASE_HALTED";
inline constexpr std::string_view kRekeyPending = "REKEY_PENDING";  // someone left: new key first
inline constexpr std::string_view kHeldForRevokedDevice = "HELD_FOR_REVOKED_DEVICE";
// A Rekey boxed a key to a recipient's user key generation older than its current one (a device
// revoked since holds it): the author fetches the chains again and seals a new one.
inline constexpr std::string_view kStaleUserKey = "STALE_USER_KEY";
// Devices. Only a device its account revoked hears DEVICE_REVOKED (an app may lock itself on it);
// one the server does not know (not linked yet, a server restored from an older backup) or the
// recovery key signing in hears DEVICE_UNKNOWN.
inline constexpr std::string_view kDeviceRevoked = "DEVICE_REVOKED";
inline constexpr std::string_view kDeviceUnknown = "DEVICE_UNKNOWN";
// A sign-in with a challenge kringd does not hold (used, expired, or retired by a newer one for
// the same device: processes of one profile signing in at once): ask for a new challenge.
inline constexpr std::string_view kChallengeUnknown = "CHALLENGE_UNKNOWN";
// Restricted scopes: a change names a scope the case does not have, or a new one would pass the
// limit per case (protocol::kMaxScopesPerCase).
inline constexpr std::string_view kScopeUnknown = "SCOPE_UNKNOWN";
inline constexpr std::string_view kTooManyScopes = "TOO_MANY_SCOPES";
// Too many calls that need no session (sign-in, publishing a chain) from the caller's address
// in a short time (RESOURCE_EXHAUSTED; kringd's --unauthenticated-rate): wait and try again.
inline constexpr std::string_view kRateLimited = "RATE_LIMITED";

// Every reason above, for the test that each has a text in both languages.
inline constexpr std::string_view kAll[] = {kInviteUnknown,
                                            kInviteRevoked,
                                            kInviteUsed,
                                            kInviteExpired,
                                            kInviteNotOpen,
                                            kInviteProofInvalid,
                                            kManagersOnly,
                                            kChairDecides,
                                            kChairExists,
                                            kChairOnlyErase,
                                            kChairOnlyShortRetention,
                                            kKeyHolderMustRemain,
                                            kChairRemovesChair,
                                            kApprovalKeepsRole,
                                            kNotAMember,
                                            kTargetNotMember,
                                            kAlreadyMember,
                                            kAlreadyJoined,
                                            kAlreadyWaiting,
                                            kNotWaiting,
                                            kCaseFull,
                                            kNotInScope,
                                            kAccountUnknown,
                                            kCaseUnknown,
                                            kCaseClosed,
                                            kCaseHalted,
                                            kRekeyPending,
                                            kHeldForRevokedDevice,
                                            kDeviceRevoked,
                                            kDeviceUnknown,
                                            kChallengeUnknown,
                                            kStaleUserKey,
                                            kChairDecidesRoles,
                                            kChairKeepsRole,
                                            kRoleNotAssignable,
                                            kRoleUnchanged,
                                            kScopeUnknown,
                                            kTooManyScopes,
                                            kRateLimited};

// Whether `reason` has the form of a reason key: 1..kMaxReasonBytes of A-Z, 0-9 and '_'.
inline bool IsReasonKey(std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxReasonBytes) return false;
  for (char c : reason) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// The gRPC status details carrying `reason` (google.rpc.Status with one ErrorInfo; code and
// message as in the gRPC status). kringd's side.
std::string EncodeDetails(int32_t grpc_code, std::string_view message, std::string_view reason);
// The reason key in status details, or "" when they are absent, over 4 KiB, malformed, from
// another domain, not a reason key or a local-only one (kCaseHalted). The client's side:
// details come from the network.
std::string DecodeDetails(std::string_view details);

// The key of the reason's user text: "INVITE_USED" -> "refused.invite_used".
inline std::string TextKey(std::string_view reason) {
  std::string key = "refused.";
  for (char c : reason) key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return key;
}

}  // namespace kring::refusal
