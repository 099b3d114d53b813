// User text of the CLI: Dutch (B1) by default, English with --lang en or KRING_LANG=en.
#pragma once

#include <string>
#include <vector>

namespace kring::cli {

enum class Msg {
  kUsage,
  kServing,
  kNotServing,
  kAccountCreated,
  kRecoveryKeyNote,
  kNoAccount,
  kCaseCreated,
  kHistoryNote,    // after case create: newcomers read what came before
  kFromNowOnNote,  // after case create --from-now-on
  kSynced,
  kNoAlarms,
  kAlarmLine,
  kPassphrasePrompt,
  kPassphraseEmpty,
  kPassphraseFileUnreadable,
  kWrongPassphrase,
  kNoStore,
  kDbOrProfile,
  kCaseWaiting,     // case list: an accepted invite waits for approval
  kCaseLeft,        // case list: this account is out of the case
  kCaseClosedMark,  // case list: the case is closed
  kUnknownCommand,
  kChooseCommand,  // a group's word alone (`kring member`), before its commands
  kMissingArgument,
  kBadId,
  kNewConflicts,     // sync: changes made at the same time as someone else's (count follows)
  kNewOwnConflicts,  // sync: this account changed the same thing on two of its devices
  kSeeConflicts,
  kRefusedChanges,  // sync: this device's changes a rule refused (count follows)
  kRefusedWhy,
  kAccountNameUnknown,    // member ...: no person of that name in the circle has an account
  kAccountNameAmbiguous,  // member ...: two people of that name have an account
  kEditStored,
  kOffline,
  kError,
  kMemberAdded,
  kMemberRemoved,
  kLanguageTag,
  kMemberApproved,
  kMemberDeclined,
  kRoleChanged,
  kControlQueued,
  kInviteNote,
  kInviteAccepted,
  kInviteOpen,
  kInviteWaiting,
  kInviteApproved,
  kInviteDeclined,
  kInviteRevoked,
  kInviteExpired,
  kNoInvites,          // invite list: none in this case
  kChooseCase,         // a general command that takes the case got none (CASUS, --case, KRING_CASE)
  kChooseCaseToLeave,  // case leave got no case (the word or --case; never KRING_CASE)
  kNotAccepted,
  kChangesNotApplied,
  kRemovedNote,
  kAlarmNote,
  kEditStoredOffline,
  kSyncedCounts,
  kLinkRequestNote,
  kApproveNote,
  kCodePrompt,
  kDeviceLinked,
  kDeviceRevoked,
  kRecoveryPrompt,
  kAccountRestored,
  kThisDevice,
  kRevokedDevice,
  kBadProfile,
  kUnexpectedWords,
  kNotUtf8,
  kTooLong,
  kUnknownLanguage,
  kPassphraseTooShort,
  kPassphraseRepeat,
  kPassphraseMismatch,
  kSaltDamaged,
  kSaltUnwritable,
  kInviteeLinked,
  kInviteeNotLinked,
  kInviteeLinkedElsewhere,
  kInviteeAccountInUse,
  kInviteeLinkHint,
  kJoinedNotLinked,
  kPersonStillInCircle,  // member remove: the account's person is still in the circle
  kInviteFor,            // invite list: the person of the circle it is for
  kInviteForRole,        // invite list: the role the invitation gives
  kInviteMade,           // invite create, invitation app: the word before the new invite's id
  kRoleChair,
  kRoleCoordinator,
  kRoleMember,
};

// "nl" or "en" (also as a locale: en_GB.UTF-8); false, and the language unchanged, for any other.
bool SetLanguage(const std::string& lang);
const char* Text(Msg msg);
// The Dutch text whatever the language: for what is read from a text (the general commands
// from the usage text) and must not depend on the language it is shown in.
const char* DutchText(Msg msg);
// A library or server reason in the user's language (B1 Dutch or English) when it is a known
// one; otherwise the reason as it is. `server_reason`: kringd's reason key
// (kring/common/refusal.h) when it gave one; it is explained first.
std::string Explain(const std::string& reason, const std::string& server_reason = "");
// A library text key (messages.cpp of the library) in the user's language, without the hints
// Explain adds; the key itself when it has no text.
std::string KeyText(const std::string& key);
// The options of the command being run (set once it is parsed): a library refusal about what one
// of them gives then names that option ("location.coarse_missing": "... Optie: --coarse.").
void SetCommandOptions(const std::vector<const char*>& options);
// A word of the command as it may be echoed in an error: only when it looks like a command word
// or flag (a-z, 0-9, -; at most 40), otherwise "?" so a name typed by mistake is never shown.
std::string CommandWord(const std::string& word);

}  // namespace kring::cli
