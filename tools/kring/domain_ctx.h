// What a netwerkberaad command works with: its parsed flags, the open client, the case, and the
// helpers that turn what a user types (a person's name or id, "now+3d") into domain values and
// domain values into Dutch/English text or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/domain/messages.h"
#include "kring/domain/organising.h"

#include "commands.h"
#include "session.h"
#include "time_arg.h"

namespace kring::cli {

struct Verb;  // domain_commands.h

// Upper bound for any one flag value typed on the command line (the domain checks its own,
// tighter limits per field).
inline constexpr size_t kMaxFlagBytes = 16 * 1024;

struct Ctx {
  Ctx(client::Client& c, Reports& r, const Options& o) : client(c), reports(r), options(o) {}

  client::Client& client;
  Reports& reports;
  const Options& options;
  domain::Language lang = domain::Language::kDutch;
  bool json = false;
  Bytes case_id;
  std::vector<std::string> positional;                    // after AREA VERB
  std::map<std::string, std::vector<std::string>> flags;  // --name value (repeatable)
  std::map<std::string, bool> switches;                   // --name
  const Verb* verb = nullptr;                             // the command being run

  bool english() const { return lang == domain::Language::kEnglish; }
  const char* T(const char* nl, const char* en) const { return english() ? en : nl; }
  // The last value of --name, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  bool Has(const std::string& name) const;
  const std::vector<std::string>& All(const std::string& name) const;
  bool On(const std::string& name) const;
  // Positional argument i, or empty.
  std::string Pos(size_t i) const;
  // The time given with --name, or `fallback` when it is not given; what is no time is refused
  // with a message that names --name (a command may take several times).
  Result<int64_t> Time(const std::string& name, const std::string& fallback = "") const;
  // The same for a due date or deadline: a date alone is the end of that day (ParseDueTime).
  Result<int64_t> DueTime(const std::string& name, const std::string& fallback = "") const;

  // A person of the circle: 32 hex digits, "me" (this account's person), or the exact name.
  Result<Bytes> Person(const std::string& ref) const;
  Result<std::vector<Bytes>> People(const std::vector<std::string>& refs) const;
  // The name of a person id as this device knows it ("?" when unknown).
  std::string NameOf(const Bytes& person_id) const;
  // Who an account is, for a user: the name of the person the rules act on for it
  // (domain::PersonOfAccount); for an account no person is linked to, its role in the case
  // ("gespreksleider"), else "account" and the start of its id; "-" for none. Reads the circle
  // and the members once per command, however many accounts it names.
  std::string NameOfAccount(const Bytes& account_id) const;
  // The sync after an edit: 0, or the exit code of what was refused. Then says `nl`/`en`, or
  // with --json prints `json` ({"ok":true} by default; an empty one prints nothing, for a
  // command that prints its own document after this).
  int Done(const char* nl, const char* en, bool edit = true,
           const std::string& json = R"({"ok":true})");
  // Done for an edit that made something: its id on a line "WORD ID" first (as before the
  // sync, so a user sees it even if the sync fails), or with --json {"id": ..., "synced": ...}
  // after the sync, whatever it did: the item is stored on this device, and the exit code says
  // what went wrong. `json_id` is the JSON value of the id (JId or JNum).
  int Made(const char* word, const std::string& text_id, const std::string& json_id, const char* nl,
           const char* en);
  int Made(const char* word, const Bytes& id, const char* nl, const char* en);
  // Words missing or not as the command takes them: says so, shows this command's own usage
  // (not the whole program's), and returns 2.
  int Usage() const;

  // Read by NameOfAccount on first use.
  mutable std::optional<std::vector<domain::Person>> circle_cache;
  mutable std::map<Bytes, v1::Role> role_cache;
};

// A member's role in the user's language ("gespreksleider").
const char* RoleWord(v1::Role role);

// Amsterdam time in the user's language ("zaterdag 5 december 2026, 19:30").
std::string ShowTime(const Ctx& ctx, int64_t utc_ms);

// Two indented lines under a blocked agreement: what is in the way, and who sorts it out.
void PrintObstacle(const Ctx& ctx, const std::string& description, const Bytes& owner);

// A time typed for option --name (`text`), with an error that names the option.
Result<int64_t> OptionTime(const std::string& name, const std::string& text);
// The same for a due date or deadline (ParseDueTime).
Result<int64_t> OptionDueTime(const std::string& name, const std::string& text);

// A usage error for this command: prints `why` and returns 2.
int BadInput(const Ctx& ctx, const std::string& why_nl, const std::string& why_en);

// Minimal JSON building: values are already-encoded JSON text.
// A JSON string: control, C1 and bidi characters as escapes, invalid UTF-8 as \ufffd.
std::string JStr(const std::string& s);
std::string JNum(int64_t n);
std::string JBool(bool b);
std::string JId(const Bytes& id);  // hex string, or null when empty
std::string JObj(const std::vector<std::pair<std::string, std::string>>& members);
std::string JArr(const std::vector<std::string>& values);
// JSON text with every character TerminalSafe would change written as a \u escape (invalid UTF-8
// as \ufffd): still the same JSON for a parser, harmless on a terminal. For JSON made elsewhere
// (protobuf's); JStr's strings are already so.
std::string JsonTerminalSafe(std::string_view json);
// Prints a JSON document (one line) on stdout, as is: not through the terminal filter, whose
// "\x1b" form is not JSON (main.cpp, terminal_text.h).
void PrintJson(const std::string& json);

}  // namespace kring::cli
