// What every command shares: opening this person's store (passphrase -> Argon2id storage key),
// syncing and reporting what became of the edits, and turning a Status into an exit code.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/refusal.h"
#include "kring/common/status.h"
#include "kring/domain/messages.h"

#include "commands.h"
#include "messages.h"

namespace kring::cli {

// What the library reported during a sync on this (the calling) thread.
struct Reports {
  struct Rejected {
    std::string detail;
    std::string reason;  // the server's reason key, or ""
    size_t count = 1;    // the queued changes it stands for (all of a closed case's at once)
  };
  std::vector<Rejected> rejected;
  bool removed = false;
  bool alarm = false;
};

// The reason of a Status the command line makes for words it cannot use (a name that fits two
// people): Fail says it and returns 2, as for any other usage error.
inline constexpr char kUsageReason[] = "cli.usage";
inline Status UsageError(std::string message) {
  return InvalidArgument(std::move(message), kUsageReason);
}
// Prints the error in the user's language (a domain key becomes its UserText) and returns the
// exit code: 1, 2 for a UsageError, or 3 for a security alarm or a case stopped by one
// (IsHaltedCase).
int Fail(const Status& s);
// Whether the library refused because the case is stopped by a security alarm on this device:
// kFailedPrecondition with the local reason kCaseHalted (client.cpp), never a server's text (a
// server cannot give that reason: refusal::DecodeDetails drops it). A sync of such a case fails
// with kSecurityAlarm: the command line names both the same, exit 3, whichever comes first.
inline bool IsHaltedCase(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition && s.reason() == refusal::kCaseHalted;
}
// Syncs and tells the user what became of their changes: 0 all went through (or waits for the
// network when `edit`), 1 something was refused, 3 a security alarm. `quiet` leaves the "sent"
// line to the caller, who prints what the edit means. `synced`, when given, is set to whether the
// sync went through with nothing refused (false offline, even though that is exit 0 for an edit).
// `stats`, when given, gets what the sync reported (its new conflicts per case); empty when it
// failed.
int Settle(client::Client& c, Reports& reports, bool edit, bool quiet = false,
           bool* synced = nullptr, client::SyncStats* stats = nullptr);
// Settle after an invitation was made (`kring invite create`, `kring invitation app`): the id and
// link on stdout once the sync went through, with the note about sharing the link on stderr; with
// `json` {"id","invite","link","synced"} whatever the sync did (it is stored on this device; the
// link works once "synced" is true). Returns Settle's exit code.
int SettleInvite(client::Client& c, Reports& reports, const client::Invitation& inv, bool json);
// Settle for one case only (`kring sync CASE`): the others are neither sent nor fetched. A case
// stopped by an alarm is exit 3, one neither this device nor the server has exit 1.
int SettleCase(client::Client& c, Reports& reports, const Bytes& case_id,
               client::SyncStats* stats = nullptr);
// Syncs `case_id` before a control change is decided on this device's view (approve, role):
// 0 to go on (fetched, or offline: the device's own view decides). Else what the sync found is
// told as Settle tells it (the alarm note, a refusal, a removal) and its exit code returned
// (a case stopped by an alarm: 3, offline too).
int FetchCaseFirst(client::Client& c, Reports& reports, const Bytes& case_id);
// Queues a control change (a role, an approval) with `queue`, syncs that case only (SyncCase),
// and says what became of THIS change: `done` once kringd accepted it; refused, the reason
// (exit 1); still queued (offline, or waiting for a new key first), that it takes effect once
// the server accepts it.
// Other changes of the case that wait or are refused do not decide it or the exit code (a
// refusal is still shown); a security alarm is exit 3 whatever became of it. With `json`, instead
// of `done` or the "once the server accepts it" line: {"ok":true,"synced":true|false}.
int SettleControl(client::Client& c, Reports& reports, const Bytes& case_id,
                  const std::function<Status()>& queue, Msg done, bool json = false);
// A line typed by the user (hidden like a passphrase when `hide`), or from `env` when set.
std::string ReadLine(Msg prompt, const char* env, bool hide);
// Opens this person's store. Only the commands that begin one (account create, device
// link-request, account restore) may make a new store: for any other, a mistyped --db or
// --profile is refused instead of answered from a new, empty store left behind.
enum class NewStore { kRefuse, kMayCreate };
Result<std::unique_ptr<client::Client>> OpenClient(const Options& o, NewStore new_store);
// Listens for rejected edits, removals and alarms during this process.
void Listen(client::Client& c, Reports& reports);
std::optional<Bytes> ParseId(const std::string& hex);
int Usage();
int BadId();
// BadId for the option or word that holds it ("--entity", "AFSPRAAK"): that name first.
int BadId(const std::string& what);
domain::Language CurrentLanguage();

}  // namespace kring::cli
