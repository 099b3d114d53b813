// User text of the CLI: Dutch (B1) by default, English with --lang en or KRING_LANG=en.
#pragma once

#include <string>

namespace kring::cli {

enum class Msg {
  kUsage,
  kServing,
  kNotServing,
  kAccountCreated,
  kRecoveryKeyNote,
  kNoAccount,
  kCaseCreated,
  kSynced,
  kNoAlarms,
  kAlarmLine,
  kPassphrasePrompt,
  kPassphraseEmpty,
  kWrongPassphrase,
  kUnknownCommand,
  kMissingArgument,
  kBadId,
  kEditStored,
  kOffline,
  kError,
  kMemberAdded,
  kMemberRemoved,
  kLanguageTag,
  kMemberApproved,
  kMemberDeclined,
  kInviteNote,
  kInviteAccepted,
  kInviteOpen,
  kInviteWaiting,
  kInviteApproved,
  kInviteDeclined,
  kInviteRevoked,
  kInviteExpired,
};

void SetLanguage(const std::string& lang);
const char* Text(Msg msg);

}  // namespace kring::cli
