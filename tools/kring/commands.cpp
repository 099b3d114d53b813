#include "commands.h"

#include <sodium.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "kring/client.h"
#include "kring/common/crypto.h"
#include "kring/common/utf8.h"
#include "kring/domain/names.h"
#include "kring/domain/organising.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "general_commands.h"
#include "health.h"
#include "messages.h"
#include "session.h"
#include "terminal_text.h"
#include "words.h"

namespace kring::cli {
namespace {

const char* InviteStatusText(v1::InviteState::Status s) {
  switch (s) {
    case v1::InviteState::PENDING:
      return Text(Msg::kInviteOpen);
    case v1::InviteState::ACCEPTED:
      return Text(Msg::kInviteWaiting);
    case v1::InviteState::APPROVED:
      return Text(Msg::kInviteApproved);
    case v1::InviteState::DECLINED:
      return Text(Msg::kInviteDeclined);
    case v1::InviteState::REVOKED:
      return Text(Msg::kInviteRevoked);
    case v1::InviteState::EXPIRED:
      return Text(Msg::kInviteExpired);
    default:
      return "?";
  }
}

// The words --json prints for an invitation's state and role: stable lowercase words for
// scripts, the state as `circle invite-status` names it (domain::InvitationStateName), the role
// as `invite create` and `member role` take it (README, "JSON").
const char* InviteStatusId(v1::InviteState::Status s) {
  switch (s) {
    case v1::InviteState::PENDING:
      return "pending";
    case v1::InviteState::ACCEPTED:
      return "accepted";  // waiting for the chair's (or coordinator's) approval
    case v1::InviteState::APPROVED:
      return "joined";
    case v1::InviteState::DECLINED:
      return "declined";
    case v1::InviteState::REVOKED:
      return "revoked";
    case v1::InviteState::EXPIRED:
      return "expired";
    default:
      return "unknown";  // a state of a newer version
  }
}

const char* RoleId(v1::Role r) {
  switch (r) {
    case v1::ROLE_CHAIR:
      return "chair";
    case v1::ROLE_COORDINATOR:
      return "coordinator";
    case v1::ROLE_MEMBER:
      return "member";
    default:
      return "unknown";
  }
}

// An alarm's kind in --json: AlarmKindName ("KEY_MISMATCH") in lowercase ("key_mismatch"), as the
// CLI's other JSON words. The text line keeps the name the docs use.
std::string AlarmKindId(client::AlarmKind kind) {
  std::string out = client::AlarmKindName(kind);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

// Takes `--case VALUE` out of the command's words, wherever it stands after the first word
// (`kring invite --case X list` too), so that the command is found without it.
std::optional<std::string> TakeCaseOption(std::vector<std::string>& a) {
  for (size_t i = 1; i + 1 < a.size(); ++i) {
    if (a[i] != "--case") continue;
    std::string given = a[i + 1];
    a.erase(a.begin() + static_cast<std::ptrdiff_t>(i),
            a.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    return given;
  }
  return std::nullopt;
}

// A general command whose first argument is the case (`member approve CASUS ID`) also takes it
// as --case ID (`given`), or from KRING_CASE, as the netwerkberaad commands do; the case word
// written in its place still works, and wins over KRING_CASE. `sync [CASUS]` takes --case, not
// KRING_CASE (without a case it syncs every case); `case leave` cannot be undone and takes no
// case from KRING_CASE. The case is put where the command reads it. Returns 0, or the exit code
// of a refusal.
int PlaceCase(const GeneralCommand* command, const std::optional<std::string>& given,
              std::vector<std::string>& a) {
  if (command == nullptr) return 0;  // an unknown command: refused as such
  const size_t first = command->words.size();
  if (!command->takes_case && !command->optional_case) {
    if (!given) return 0;
    std::cerr << Text(Msg::kUnknownCommand) << ": --case\n";
    PrintGroupHelp(a[0], std::cerr);
    return 2;
  }
  if (given) {
    // Written twice (--case and the word) leaves one word too many: refused by the command.
    a.insert(a.begin() + static_cast<std::ptrdiff_t>(first), *given);
    return 0;
  }
  if (command->optional_case) return 0;
  // Every word after the command's counts, one that begins with -- too (a field's text may).
  const size_t words = a.size() - first;
  const std::string word = words > 0 ? a[first] : "";
  const char* env_value = command->case_from_env ? std::getenv("KRING_CASE") : nullptr;
  const std::string env = env_value != nullptr ? env_value : "";
  // A word that cannot be the case: a flag (invite create --hours N) or a role (invite create
  // ROL has as many words as invite create CASUS).
  const bool no_case_word = words == 0 || word.rfind("--", 0) == 0 || TypedRole(word).has_value();
  // The case was written: as KRING_CASE's own value, as an id where no id may follow it
  // (entity create CASUS with the type forgotten), or with all the command's words. Then a word
  // too few is the command's usage error: the environment's case never stands in for it.
  const bool written = (!env.empty() && word == env) ||
                       (!command->id_after_case && ParseId(word)) ||
                       (!no_case_word && words >= command->required);
  if (written) return 0;
  if (!env.empty()) {
    a.insert(a.begin() + static_cast<std::ptrdiff_t>(first), env);
    return 0;
  }
  if (no_case_word || words < command->required) {
    std::cerr << Text(Msg::kError) << ": "
              << Text(command->case_from_env ? Msg::kChooseCase : Msg::kChooseCaseToLeave) << "\n";
    PrintGroupHelp(a[0], std::cerr);
    return 2;
  }
  return 0;
}

// After approving `account`: an invitation made for a person of the circle links that person
// (Client::ApproveMember). Says to whom, or clearly that it did not and what to do.
// The account a member command names: its id, or the name of a person in the case's circle
// (as the circle shows it, case not counting: domain::SameName) with an account: linked to them, or
// the one that accepted the app invitation for them. A coordinator knows the people by name, not
// their account ids. On failure prints why and returns nullopt (exit code 2, as for a bad id).
std::optional<Bytes> NamedAccount(client::Client& c, const Bytes& case_id,
                                  const std::string& word) {
  if (auto id = ParseId(word)) return *id;
  auto view = c.View(case_id);
  auto circle = domain::Organising(c, case_id).Circle();
  if (!view.ok() || !circle.ok()) {
    BadId();
    return std::nullopt;
  }
  std::optional<Bytes> found;
  for (const domain::Person& p : *circle) {
    if (!domain::SameName(p.name, word) || p.status == "declined") continue;
    Bytes account = p.account_id;
    for (const auto& inv : view->invites()) {
      if (account.empty() && !p.invite_id.empty() && inv.invite_id() == ToString(p.invite_id)) {
        account = ToBytes(inv.accepted_by_account_id());
      }
    }
    if (account.empty()) continue;
    if (found && *found != account) {
      std::cerr << Text(Msg::kError) << ": " << Text(Msg::kAccountNameAmbiguous) << "\n";
      return std::nullopt;
    }
    found = account;
  }
  if (!found) std::cerr << Text(Msg::kError) << ": " << Text(Msg::kAccountNameUnknown) << "\n";
  return found;
}

void ReportInviteeLink(client::Client& c, const Bytes& case_id, const Bytes& account, bool json) {
  auto view = c.View(case_id);
  if (!view.ok()) return;
  std::vector<std::string> invites;
  for (const auto& inv : view->invites()) {
    if (ToBytes(inv.accepted_by_account_id()) == account) invites.push_back(inv.invite_id());
  }
  auto circle = domain::Organising(c, case_id).Circle();
  if (invites.empty() || !circle.ok()) return;
  const domain::Person* invited = nullptr;
  const domain::Person* holder = nullptr;  // the person this account is linked to, if any
  for (const domain::Person& p : *circle) {
    if (!p.invite_id.empty() &&
        std::find(invites.begin(), invites.end(), ToString(p.invite_id)) != invites.end()) {
      invited = &p;
    }
    if (p.account_id == account) holder = &p;
  }
  if (invited == nullptr) return;
  if (invited->account_id == account) {
    // The good news only on stdout, where --json has its document instead; the warnings below
    // are for the person, so they stay on stderr either way.
    if (!json) std::cout << Text(Msg::kInviteeLinked) << " " << invited->name << "\n";
    return;
  }
  std::cerr << Text(Msg::kInviteeNotLinked) << " " << invited->name << "\n";
  if (!invited->account_id.empty()) {
    std::cerr << Text(Msg::kInviteeLinkedElsewhere) << "\n";
  } else if (holder != nullptr) {
    std::cerr << Text(Msg::kInviteeAccountInUse) << "\n";
  }
  std::cerr << Text(Msg::kInviteeLinkHint) << "\n  kring circle link " << Hex(invited->person_id)
            << " " << Hex(account) << " --case " << Hex(case_id) << "\n";
}

// An account as account show prints it with --json, the id also as "id" (the account made or
// linked); `synced` when a sync followed.
std::string AccountJson(const client::AccountInfo& info, std::optional<bool> synced = {}) {
  std::vector<std::pair<std::string, std::string>> members = {
      {"id", JId(info.account_id)},
      {"account", JId(info.account_id)},
      {"device", JId(info.device_id)},
      {"safety_number", JStr(info.safety_number)}};
  if (synced) members.push_back({"synced", JBool(*synced)});
  return JObj(members);
}

// A write command that makes nothing with an id: with --json, {"ok":true} once it went through
// (or is kept until the next sync); the exit code `rc` as it is.
int OkJson(const Options& o, int rc) {
  if (o.json && rc == 0) PrintJson(JObj({{"ok", JBool(true)}}));
  return rc;
}

}  // namespace

int RunCommand(const Options& options) {
  // main() has taken the global options (--json too) wherever they stood, except as a flag's
  // value: what is left here is the command's own (and --case, for the general commands that
  // take the case: PlaceCase puts it in its place).
  const Options& o = options;
  std::vector<std::string> args = o.args;
  const auto& a = args;
  if (a.empty()) return Usage();
  auto is = [&](std::initializer_list<const char*> words) {
    if (a.size() < words.size()) return false;
    size_t i = 0;
    for (const char* w : words) {
      if (a[i++] != w) return false;
    }
    return true;
  };

  // Text that is not UTF-8 cannot be stored (protobuf refuses it when the case is read back),
  // and no word of any command needs more than 16 KiB: both refused here, for every command,
  // before the store opens or anything is written.
  for (const std::string& w : a) {
    if (w.size() > kMaxFlagBytes) {
      std::cerr << Text(Msg::kError) << ": " << Text(Msg::kTooLong) << "\n";
      return 2;
    }
    if (!utf8::IsValid(w)) {
      std::cerr << Text(Msg::kError) << ": " << Text(Msg::kNotUtf8) << "\n";
      return 2;
    }
  }
  if (IsDomainCommand(a)) return RunDomainCommand(o);
  for (const std::string& w : a) {
    if (w == "--help" || w == "-h") {
      // `kring member --help`, `kring case list --help`: that group's commands; a word that is
      // no group gets the general help.
      if (PrintGroupHelp(a[0])) return 0;
      std::cout << Text(Msg::kUsage) << DomainOverview();
      return 0;
    }
  }
  // The general commands are those the usage text lists (general_commands.h).
  const std::vector<GeneralCommand> commands = GeneralCommands();
  const std::optional<std::string> given_case = TakeCaseOption(args);
  const GeneralCommand* command = FindGeneralCommand(commands, a);
  if (int rc = PlaceCase(command, given_case, args); rc != 0) return rc;
  // The commands below that take no words after their name; the others check their own count. A
  // stray word is refused before the store opens, so nothing happens.
  for (const auto& words :
       std::initializer_list<std::initializer_list<const char*>>{{"server-info"},
                                                                 {"account", "create"},
                                                                 {"account", "show"},
                                                                 {"case", "list"},
                                                                 {"alarms"}}) {
    if (is(words) && a.size() > words.size()) {
      std::cerr << Text(Msg::kError) << ": " << Text(Msg::kUnexpectedWords) << "\n";
      return Usage();
    }
  }
  // sync [CASE]: one word at most, a case id, also refused before the store opens.
  if (is({"sync"}) && a.size() > 2) {
    std::cerr << Text(Msg::kError) << ": " << Text(Msg::kUnexpectedWords) << "\n";
    return Usage();
  }
  if (is({"sync"}) && a.size() == 2 && !ParseId(a[1])) return BadId();
  if (is({"health"})) {
    if (a.size() != 1) {  // e.g. "health --server X": options go before the command
      std::cerr << Text(Msg::kUsage);
      return 2;
    }
    bool ok = IsServing(o.server, 5000);
    std::cout << Text(ok ? Msg::kServing : Msg::kNotServing) << "\n";
    return ok ? 0 : 1;
  }
  if (is({"server-info"})) {
    auto info = client::MakeGrpcTransport(o.server)->GetServerInfo();
    if (!info.ok()) return Fail(info.status());
    std::cout << "server_id " << Hex(View(info->server_id())) << "\nversion " << info->version()
              << "\nprotocol " << info->protocol_version() << "\n";
    return 0;
  }
  if (command == nullptr) {
    // A group's word with a verb it lacks, or none (`kring member`: asked to choose, it is no
    // unknown command): the group's commands, before the store opens; any other word: the
    // general usage.
    std::ostringstream group;
    const bool is_group = PrintGroupHelp(a[0], group);
    if (is_group && a.size() == 1) {
      std::cerr << Text(Msg::kChooseCommand) << "\n";
    } else {
      std::cerr << Text(Msg::kUnknownCommand) << ": " << CommandWord(a[0])
                << (a.size() > 1 ? " " + CommandWord(a[1]) : "") << "\n";
    }
    if (is_group) {
      std::cerr << group.str();
      return 2;
    }
    return Usage();
  }
  const bool begins_store =
      is({"account", "create"}) || is({"device", "link-request"}) || is({"account", "restore"});
  auto opened = OpenClient(o, begins_store ? NewStore::kMayCreate : NewStore::kRefuse);
  if (!opened.ok()) return Fail(opened.status());
  client::Client& c = *opened.value();
  Reports reports;
  Listen(c, reports);

  if (is({"account", "create"})) {
    auto created = c.CreateAccount();
    if (!created.ok()) return Fail(created.status());
    if (o.json) {
      PrintJson(AccountJson(created->info));
    } else {
      std::cout << Text(Msg::kAccountCreated) << "\naccount " << Hex(created->info.account_id)
                << "\nsafety_number " << created->info.safety_number << "\n";
    }
    std::cerr << Text(Msg::kRecoveryKeyNote) << "\n" << created->recovery_key << "\n";
    return 0;
  }
  // ---- A device without an account: linking it, or restoring with the recovery key ----
  if (is({"device", "link-request"})) {
    if (a.size() != 2) return Usage();
    auto request = c.RequestDeviceLink();
    if (!request.ok()) return Fail(request.status());
    if (o.json) {
      PrintJson(JObj({{"payload", JStr(request->payload)}, {"code", JStr(request->code)}}));
    } else {
      std::cout << "payload " << request->payload << "\ncode " << request->code << "\n";
    }
    std::cerr << Text(Msg::kLinkRequestNote) << "\n";
    return 0;
  }
  if (is({"device", "link-finish"})) {
    if (a.size() != 3) return Usage();
    auto info = c.FinishDeviceLink(a[2]);
    if (!info.ok()) return Fail(info.status());
    if (!o.json) {
      std::cout << Text(Msg::kDeviceLinked) << "\naccount " << Hex(info->account_id)
                << "\nsafety_number " << info->safety_number << "\n";
    }
    const int rc = Settle(c, reports, false);
    // The link holds even when the first sync failed: scripts get the account as well.
    if (o.json) PrintJson(AccountJson(*info, rc == 0));
    return rc;
  }
  if (is({"account", "restore"})) {
    // account restore [ACCOUNT-ID]: with the id, only that account is accepted from the server.
    if (a.size() != 2 && a.size() != 3) return Usage();
    Bytes expected;
    if (a.size() == 3) {
      auto id = ParseId(a[2]);
      if (!id) return BadId();
      expected = *id;
    }
    std::string key = ReadLine(Msg::kRecoveryPrompt, "KRING_RECOVERY_KEY", /*hide=*/true);
    auto info = c.RestoreAccount(key, expected);
    sodium_memzero(key.data(), key.size());
    if (!info.ok()) return Fail(info.status());
    if (!o.json) {
      std::cout << Text(Msg::kAccountRestored) << "\naccount " << Hex(info->account_id)
                << "\nsafety_number " << info->safety_number << "\n";
    }
    const int rc = Settle(c, reports, false);
    if (o.json) PrintJson(AccountJson(*info, rc == 0));
    return rc;
  }
  auto me = c.Account();
  if (!me.ok()) {
    std::cerr << Text(Msg::kNoAccount) << "\n";
    return 1;
  }
  if (is({"account", "safety-number"})) {
    if (a.size() != 3) return Usage();
    auto account = ParseId(a[2]);
    if (!account) return BadId();
    auto number = c.SafetyNumberOf(*account);
    if (!number.ok()) return Fail(number.status());
    std::cout << *number << "\n";
    return 0;
  }
  if (is({"account", "show"}) && o.json) {
    PrintJson(JObj({{"account", JId(me->account_id)},
                    {"device", JId(me->device_id)},
                    {"safety_number", JStr(me->safety_number)}}));
    return 0;
  }
  if (is({"account", "show"})) {
    std::cout << "account " << Hex(me->account_id) << "\ndevice " << Hex(me->device_id)
              << "\nsafety_number " << me->safety_number << "\n";
    return 0;
  }
  if (is({"case", "create"})) {
    std::vector<client::MemberSpec> members;
    // People added later read what came before unless --from-now-on: the netwerkberaad's circle
    // and referral are written before anyone is invited, and a newcomer who cannot read them
    // cannot take part (not even find themself in the circle). --history says the default.
    bool history = false, from_now_on = false;
    for (size_t i = 2; i < a.size(); ++i) {
      if (a[i] == "--history" || a[i] == "--from-now-on") {
        (a[i] == "--history" ? history : from_now_on) = true;
        continue;
      }
      std::string id = a[i], role = "member";
      if (auto colon = id.find(':'); colon != std::string::npos) {
        role = id.substr(colon + 1);
        id = id.substr(0, colon);
      }
      auto parsed = ParseId(id);
      if (!parsed) return BadId();
      // The role in either language (hoofdpersoon, gespreksleider, deelnemer) or as before.
      const std::optional<v1::Role> r = TypedRole(role);
      if (!r) return Usage();
      members.push_back({*parsed, *r});
    }
    if (history && from_now_on) return Usage();
    auto cid = c.CreateCase(members, !from_now_on);
    if (!cid.ok()) return Fail(cid.status());
    bool synced = false;
    const int rc = Settle(c, reports, false, false, &synced);
    if (o.json) {
      // The case exists (queued durably) even when the sync failed: scripts get its id.
      PrintJson(JObj({{"id", JId(*cid)}, {"case", JId(*cid)}, {"synced", JBool(synced)}}));
    } else {
      std::cout << Text(Msg::kCaseCreated) << " " << Hex(*cid) << "\n";
      std::cerr << Text(from_now_on ? Msg::kFromNowOnNote : Msg::kHistoryNote) << "\n";
    }
    return rc;
  }
  if (is({"member", "approve"}) || is({"member", "decline"})) {
    if (a.size() != 4) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    // The acceptance reaches this device only through a sync: fetch first, so approving right
    // after `invite accept` works without a separate `kring sync`. Offline, the device's own
    // view decides (and says what it knows). This case only: another case on the device that
    // is stopped by an alarm or refused by the server neither fails nor slows the approval.
    if (int rc = FetchCaseFirst(c, reports, *cid); rc != 0) return rc;
    auto account = NamedAccount(c, *cid, a[3]);
    if (!account) return 2;
    const bool approve = a[1] == "approve";
    const int rc = SettleControl(
        c, reports, *cid,
        [&] { return approve ? c.ApproveMember(*cid, *account) : c.DeclineMember(*cid, *account); },
        approve ? Msg::kMemberApproved : Msg::kMemberDeclined, o.json);
    if (approve && rc == 0) ReportInviteeLink(c, *cid, *account, o.json);
    return rc;
  }
  if (is({"member", "role"})) {
    // member role CASE ID coordinator|member: queued like an edit, no new key.
    if (a.size() != 5) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    // The chair's role is refused with its reason (the chair's role does not change).
    const std::optional<v1::Role> typed = TypedRole(a[4]);
    if (!typed) return Usage();
    const v1::Role r = *typed;
    // Decided on what this device knows now: fetch this case first (as approve does).
    if (int rc = FetchCaseFirst(c, reports, *cid); rc != 0) return rc;
    auto account = NamedAccount(c, *cid, a[3]);
    if (!account) return 2;
    return SettleControl(
        c, reports, *cid, [&] { return c.SetRole(*cid, *account, r); }, Msg::kRoleChanged, o.json);
  }
  if (is({"invite", "create"})) {
    // invite create CASE [ROLE] [--hours N]
    if (a.size() < 3) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    v1::Role role = v1::ROLE_MEMBER;
    int64_t hours = 72;
    for (size_t i = 3; i < a.size(); ++i) {
      if (a[i] == "--hours" && i + 1 < a.size()) {
        char* end = nullptr;
        hours = std::strtoll(a[++i].c_str(), &end, 10);
        if (end == nullptr || *end != '\0' || hours < 1 || hours > 720) return Usage();
      } else if (const std::optional<v1::Role> typed = TypedRole(a[i])) {
        role = *typed;
      } else {
        return Usage();
      }
    }
    auto inv = c.CreateInvite(*cid, role, hours * 3600);
    if (!inv.ok()) return Fail(inv.status());
    return SettleInvite(c, reports, *inv, o.json);
  }
  if (is({"invite", "accept"})) {
    if (a.size() != 3) return Usage();
    auto cid = c.AcceptInvite(a[2]);
    if (!cid.ok()) return Fail(cid.status());
    bool synced = false;
    const int rc = Settle(c, reports, false, false, &synced);
    if (o.json) {
      // The acceptance is stored on this device (sent with the next sync): a script gets the
      // case either way, and the exit code says what went wrong.
      PrintJson(JObj({{"ok", JBool(true)}, {"case", JId(*cid)}, {"synced", JBool(synced)}}));
      return rc;
    }
    if (rc != 0) return rc;
    std::cout << Text(Msg::kInviteAccepted) << " " << Hex(*cid) << "\n";
    return 0;
  }
  if (is({"invite", "revoke"})) {
    if (a.size() != 4) return Usage();
    auto cid = ParseId(a[2]);
    auto iid = ParseId(a[3]);
    if (!cid || !iid) return BadId();
    Status s = c.RevokeInvite(*cid, *iid);
    if (!s.ok()) return Fail(s);
    return OkJson(o, Settle(c, reports, false));
  }
  if (is({"invite", "list"})) {
    if (a.size() != 3) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    auto view = c.View(*cid);
    if (!view.ok()) return Fail(view.status());
    // Beside each id, whom it is for and who took it, by their name in the circle (when this
    // device can read the circle): ids alone are not recognisable.
    auto circle = domain::Organising(c, *cid).Circle();
    const std::vector<domain::Person> people =
        circle.ok() ? std::move(*circle) : std::vector<domain::Person>{};
    auto invited = [&](const std::string& invite) -> const domain::Person* {
      for (const domain::Person& p : people) {
        if (!p.invite_id.empty() && p.invite_id == ToBytes(invite)) return &p;
      }
      return nullptr;
    };
    // The person the rules act on for the account that took it.
    auto holder = [&](const std::string& account) {
      return domain::PersonOfAccount(people, ToBytes(account));
    };
    if (o.json) {
      std::vector<std::string> rows;
      for (const auto& inv : view->invites()) {
        const domain::Person* p = invited(inv.invite_id());
        const domain::Person* by = holder(inv.accepted_by_account_id());
        rows.push_back(JObj({{"invite", JStr(Hex(View(inv.invite_id())))},
                             {"status", JStr(InviteStatusId(inv.status()))},
                             {"role", JStr(RoleId(inv.role()))},
                             {"person", p == nullptr ? "null" : JId(p->person_id)},
                             {"name", p == nullptr ? "null" : JStr(p->name)},
                             {"accepted_by", inv.accepted_by_account_id().empty()
                                                 ? "null"
                                                 : JStr(Hex(View(inv.accepted_by_account_id())))},
                             {"accepted_by_name", by == nullptr ? "null" : JStr(by->name)}}));
      }
      PrintJson(JArr(rows));
      return 0;
    }
    if (view->invites().empty()) std::cout << Text(Msg::kNoInvites) << "\n";
    for (const auto& inv : view->invites()) {
      std::cout << Hex(View(inv.invite_id())) << " " << InviteStatusText(inv.status());
      if (!inv.accepted_by_account_id().empty()) {
        std::cout << " " << Hex(View(inv.accepted_by_account_id()));
        if (const domain::Person* by = holder(inv.accepted_by_account_id())) {
          std::cout << " (" << by->name << ")";
        }
      }
      // Whom it is for, when a person of the circle has it (not "for a new member" otherwise: a
      // person's invitation replaced by a resent one matches no person any more either), and
      // the role it gives, whatever its state.
      std::cout << "  ";
      if (const domain::Person* p = invited(inv.invite_id())) {
        std::cout << Text(Msg::kInviteFor) << " " << p->name << ", ";
      }
      std::cout << Text(Msg::kInviteForRole) << " " << RoleWord(inv.role()) << "\n";
    }
    return 0;
  }
  if (is({"member", "add"}) || is({"member", "remove"})) {
    if (a.size() != 4) return Usage();
    auto cid = ParseId(a[2]);
    std::string id = a[3], role = "member";
    if (auto colon = id.find(':'); colon != std::string::npos) {
      role = id.substr(colon + 1);
      id = id.substr(0, colon);
    }
    if (!cid) return BadId();
    // Remove names someone in the case (by name too); add an account not in it yet, by its id.
    auto account = a[1] == "remove" ? NamedAccount(c, *cid, id) : ParseId(id);
    if (!account) return a[1] == "remove" ? 2 : BadId();
    // Success is said only once kringd took the change (or it waits offline): a change the
    // server refuses must not be announced as done first.
    if (a[1] == "add") {
      const std::optional<v1::Role> r = TypedRole(role);
      if (!r) return Usage();
      return SettleControl(
          c, reports, *cid,
          [&] {
            return c.AddMember(*cid, {*account, *r});
          },
          Msg::kMemberAdded, o.json);
    }
    client::RemovalNotice notice;
    const int rc = SettleControl(
        c, reports, *cid,
        [&]() -> Status {
          KRING_ASSIGN_OR_RETURN(notice, c.RemoveMember(*cid, *account));
          return {};
        },
        Msg::kMemberRemoved, o.json);
    if (rc == 0) {
      // The user is told what was already seen cannot be recalled (DOMAIN.md), with --json too:
      // then on stderr, as stdout holds SettleControl's {"ok":true,...}.
      std::ostream& out = o.json ? std::cerr : std::cout;
      out << (Text(Msg::kLanguageTag) == std::string("en") ? notice.en : notice.nl) << "\n";
      // The person of this account stays in the circle (its agreements keep their owner), now
      // shown as no longer taking part: taking them out of the circle is a choice of its own.
      auto circle = domain::Organising(c, *cid).Circle();
      if (circle.ok()) {
        for (const domain::Person& p : *circle) {
          if (p.account_id != *account || !p.in_circle()) continue;
          out << Text(Msg::kPersonStillInCircle) << Hex(p.person_id) << "\n";
        }
      }
    }
    return rc;
  }
  if (is({"case", "leave"})) {
    if (a.size() != 3) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    auto notice = c.LeaveCase(*cid);
    if (!notice.ok()) return Fail(notice.status());
    auto synced = c.SyncNow();
    if (!synced.ok()) return Fail(synced.status());
    // What was already seen cannot be recalled: told with --json too, then on stderr.
    (o.json ? std::cerr : std::cout)
        << (Text(Msg::kLanguageTag) == std::string("en") ? notice->en : notice->nl) << "\n";
    return OkJson(o, 0);
  }
  if (is({"case", "fingerprint"})) {
    if (a.size() != 3) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    auto code = c.EpochFingerprint(*cid);
    if (!code.ok()) return Fail(code.status());
    std::cout << *code << "\n";
    return 0;
  }
  if (is({"case", "list"}) && o.json) {
    std::vector<std::string> ids;
    for (const Bytes& id : c.Cases()) ids.push_back(JId(id));
    PrintJson(JArr(ids));
    return 0;
  }
  if (is({"case", "list"})) {
    // The id, whom the case is about (from its referral, when this device can read it), and
    // whether it still takes part: scripts read the ids with --json.
    for (const Bytes& id : c.Cases()) {
      std::cout << Hex(id);
      const domain::Organising organising(c, id);
      auto referral = organising.GetReferral();
      if (referral.ok()) {
        auto resident = organising.GetPerson(referral->resident_person_id);
        if (resident.ok()) std::cout << "  " << resident->name;
      }
      if (auto view = c.View(id); view.ok()) {
        if (view->pending_approval()) {
          std::cout << "  (" << Text(Msg::kCaseWaiting) << ")";
        } else if (view->removed()) {
          std::cout << "  (" << Text(Msg::kCaseLeft) << ")";
        } else if (view->closed()) {
          std::cout << "  (" << Text(Msg::kCaseClosedMark) << ")";
        }
      }
      std::cout << "\n";
    }
    return 0;
  }
  if (is({"case", "show"})) {
    if (a.size() != 3) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    auto view = c.View(*cid);
    if (!view.ok()) return Fail(view.status());
    std::string json;
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(*view, &json, opts);
    RawOut() << JsonTerminalSafe(json);
    return 0;
  }
  if (is({"entity", "create"})) {
    if (a.size() != 4) return Usage();
    auto cid = ParseId(a[2]);
    if (!cid) return BadId();
    auto id = c.CreateEntity(*cid, a[3]);
    if (!id.ok()) return Fail(id.status());
    if (!o.json) {
      std::cout << Hex(*id) << "\n";
      return Settle(c, reports, true);
    }
    // Stored on this device whatever the sync does: the id, and whether it reached kringd.
    bool synced = false;
    const int rc = Settle(c, reports, true, /*quiet=*/true, &synced);
    PrintJson(JObj({{"id", JId(*id)}, {"synced", JBool(synced)}}));
    return rc;
  }
  if (is({"field", "set"})) {
    if (a.size() != 6) return Usage();
    auto cid = ParseId(a[2]);
    auto eid = ParseId(a[3]);
    if (!cid || !eid) return BadId();
    v1::Value v;
    v.set_text(a[5]);
    Status s = c.SetField(*cid, *eid, a[4], v);
    if (!s.ok()) return Fail(s);
    return OkJson(o, Settle(c, reports, true, /*quiet=*/o.json));
  }
  if (is({"device", "approve"})) {
    if (a.size() != 3 && a.size() != 4) return Usage();
    std::string code = a.size() == 4 ? a[3] : ReadLine(Msg::kCodePrompt, nullptr, false);
    auto approval = c.ApproveDeviceLink(a[2], code);
    if (!approval.ok()) return Fail(approval.status());
    if (o.json) {
      PrintJson(JObj({{"approval", JStr(*approval)}}));
      return 0;
    }
    std::cout << "approval " << *approval << "\n";
    std::cerr << Text(Msg::kApproveNote) << "\n";
    return 0;
  }
  if (is({"device", "list"})) {
    if (a.size() != 2) return Usage();
    auto devices = c.Devices();
    if (!devices.ok()) return Fail(devices.status());
    if (o.json) {
      std::vector<std::string> rows;
      for (const client::DeviceInfo& d : *devices) {
        rows.push_back(JObj({{"device", JId(d.device_id)},
                             {"this_device", JBool(d.this_device)},
                             {"revoked", JBool(d.revoked)}}));
      }
      PrintJson(JArr(rows));
      return 0;
    }
    for (const client::DeviceInfo& d : *devices) {
      std::cout << Hex(d.device_id);
      if (d.this_device) std::cout << " " << Text(Msg::kThisDevice);
      if (d.revoked) std::cout << " " << Text(Msg::kRevokedDevice);
      std::cout << "\n";
    }
    return 0;
  }
  if (is({"device", "revoke"})) {
    if (a.size() != 3) return Usage();
    auto device = ParseId(a[2]);
    if (!device) return BadId();
    Status s = c.RevokeDevice(*device);
    if (!s.ok()) return Fail(s);
    if (o.json) return OkJson(o, Settle(c, reports, false));
    std::cout << Text(Msg::kDeviceRevoked) << "\n";
    return Settle(c, reports, false);
  }
  if (is({"sync"})) {
    // sync [CASE]: every case, or only this one (the others are neither sent nor fetched); the
    // words were checked before the store opened.
    const std::optional<Bytes> only = a.size() == 2 ? ParseId(a[1]) : std::nullopt;
    // Two people who changed the same thing at once are told at the sync that brings it (F8):
    // nobody looks at kring conflicts unasked. The sync counts them per case as it folds.
    client::SyncStats stats;
    int rc = only ? SettleCase(c, reports, *only, &stats)
                  : Settle(c, reports, false, false, nullptr, &stats);
    for (const auto& [cid, count] : stats.new_conflicts) {
      // Both values written by this account came from two of its devices: not two people.
      auto own_it = stats.new_own_conflicts.find(cid);
      const uint64_t own = own_it == stats.new_own_conflicts.end() ? 0 : own_it->second;
      // On stderr: with --json, stdout holds the result document.
      for (const auto& [msg, n] :
           {std::pair{Msg::kNewConflicts, count - own}, std::pair{Msg::kNewOwnConflicts, own}}) {
        if (n == 0) continue;
        std::cerr << Text(msg) << " " << n << ". " << Text(Msg::kSeeConflicts) << " --case "
                  << Hex(cid) << "\n";
      }
    }
    // This device's changes a rule refused: told by SettleAfter, as by any command that syncs.
    if (o.json) return OkJson(o, rc);
    if (rc == 0) std::cout << Text(Msg::kSynced) << "\n";
    return rc;
  }
  if (is({"alarms"})) {
    auto alarms = c.Alarms();
    if (o.json) {
      std::vector<std::string> rows;
      for (const auto& al : alarms) {
        rows.push_back(JObj({{"kind", JStr(AlarmKindId(al.kind))},
                             {"case", JId(al.case_id)},
                             {"seq", JNum(static_cast<int64_t>(al.seq))}}));
      }
      PrintJson(JArr(rows));
      return alarms.empty() ? 0 : 3;
    }
    if (alarms.empty()) std::cout << Text(Msg::kNoAlarms) << "\n";
    for (const auto& al : alarms) {
      std::cout << Text(Msg::kAlarmLine) << " " << client::AlarmKindName(al.kind) << " case "
                << Hex(al.case_id) << " seq " << al.seq << ": " << Explain(al.detail) << "\n";
    }
    return alarms.empty() ? 0 : 3;
  }
  std::cerr << Text(Msg::kUnknownCommand) << ".\n";
  return Usage();
}

}  // namespace kring::cli
