#include "domain_commands.h"

#include <algorithm>
#include <cstring>
#include <iostream>

#include "domain_ctx.h"
#include "messages.h"
#include "session.h"

namespace kring::cli {
namespace {

const std::vector<const Verb*>& AllVerbs() {
  static const std::vector<const Verb*> all = [] {
    std::vector<const Verb*> v;
    for (const auto* list :
         {&ReferralVerbs(), &CircleVerbs(), &MeetingVerbs(), &PlanVerbs(), &FollowUpVerbs(),
          &CaseVerbs(), &ExportVerbs(), &ReportVerbs(), &ChangesVerbs(), &ConflictVerbs()}) {
      for (const Verb& verb : *list) v.push_back(&verb);
    }
    return v;
  }();
  return all;
}

const Verb* Find(const std::string& area, const std::string& verb) {
  for (const Verb* v : AllVerbs()) {
    if (area == v->area && verb == v->verb) return v;
  }
  return nullptr;
}

bool IsArea(const std::string& area) {
  // "case" is shared with the older commands (case list, show ...): only its verbs here count.
  if (area == "case") return false;
  for (const Verb* v : AllVerbs()) {
    if (area == v->area) return true;
  }
  return false;
}

bool WantsHelp(const std::vector<std::string>& a) {
  return std::any_of(a.begin(), a.end(),
                     [](const std::string& s) { return s == "--help" || s == "-h"; });
}

// The syntax is written with Dutch placeholders; in English they read as English ones.
std::string Syntax(const char* syntax) {
  std::string out = syntax;
  if (Text(Msg::kLanguageTag) != std::string("en")) return out;
  static const std::pair<const char*, const char*> kWords[] = {
      {"ja|als-het-moet|nee", "yes|if-need-be|no"},
      {"(zelfde opties als draft)", "(same options as draft)"},
      {"PERSOON", "PERSON"},
      {"TIJD", "TIME"},
      {"DATUM", "DATE"},
      {"BESTAND", "FILE"},
      {"AANMELDING", "REFERRAL"},
      {"NAAM", "NAME"},
      {"MOMENT", "SLOT"},
      {"CONCEPT", "DRAFT"},
      {"VERSIE", "VERSION"},
      {"AFSPRAAK", "AGREEMENT"},
      {"GROEP", "GROUP"},
      {"CIJFER", "SCORE"},
      {"BEDRAG", "AMOUNT"},
      {"VOLGNUMMER", "SEQ"},
      {"VELD", "FIELD"},
      {"Naam|soort|relatie|telefoon|e-mail|app", "Name|kind|relation|phone|email|app"},
  };
  for (const auto& [nl, en] : kWords) {
    for (size_t at = out.find(nl); at != std::string::npos; at = out.find(nl, at + 1)) {
      out.replace(at, std::strlen(nl), en);
    }
  }
  return out;
}

// "AREA VERB", or just "AREA" for an area's own command (kring changes).
std::string Words(const Verb& v) {
  return *v.verb == '\0' ? std::string(v.area) : std::string(v.area) + " " + v.verb;
}

// The command as typed, with its arguments when it takes any (no trailing space otherwise).
std::string CommandLine(const Verb& v) {
  const std::string syntax = Syntax(v.syntax);
  return syntax.empty() ? Words(v) : Words(v) + " " + syntax;
}

// The lines of the general usage (Msg::kUsage) for the commands of `group`: each command line
// that starts with the group's word, with the lines that continue its explanation. The general
// usage stays the one place these commands are described.
std::string UsageLinesOf(const std::string& group) {
  const std::string usage = Text(Msg::kUsage);
  std::string out;
  bool in_group = false;
  for (size_t at = 0; at < usage.size();) {
    size_t end = usage.find('\n', at);
    if (end == std::string::npos) end = usage.size();
    const std::string line = usage.substr(at, end - at);
    at = end + 1;
    if (line.rfind("  ", 0) != 0) {  // a heading or the closing sentence
      in_group = false;
      continue;
    }
    const size_t word = line.find_first_not_of(' ');
    if (word == 2) {  // a command line: "  case list   ..."
      const size_t word_end = line.find(' ', word);
      in_group = line.substr(word, word_end - word) == group;
    } else if (word < 10) {  // an option of the general usage ("  --profile ...")
      in_group = false;
    }
    if (in_group) out += line + "\n";
  }
  return out;
}

// Refuses words after AREA VERB that the command does not take. The words themselves are not
// repeated (they may be a name); only a verb of this area that stands too late is named, with
// where it belongs.
int UnexpectedWords(const Verb& v, const std::vector<std::string>& words, size_t first_flag) {
  const bool en = Text(Msg::kLanguageTag) == std::string("en");
  std::cerr << Text(Msg::kError) << ": " << Text(Msg::kUnexpectedWords) << "\n";
  if (first_flag == 1 && Find(v.area, words.front()) != nullptr) {
    std::cerr << (en ? "Put the command right after the area: kring "
                     : "Zet de opdracht direct na het gebied: kring ")
              << v.area << " " << words.front() << " ...\n";
  }
  PrintVerbHelp(v, std::cerr);
  return 2;
}

bool Listed(const std::vector<const char*>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

}  // namespace

void PrintVerbHelp(const Verb& v, std::ostream& out) {
  const bool en = Text(Msg::kLanguageTag) == std::string("en");
  out << (en ? "Usage: kring [--profile NAME] [--json] "
             : "Gebruik: kring [--profile NAAM] [--json] ")
      << CommandLine(v) << "\n  " << (en ? v.en : v.nl) << "\n"
      << (en ? "  --case ID: the case (not needed when this device has one case)\n"
             : "  --case ID: de casus (niet nodig als dit apparaat één casus heeft)\n");
}

bool PrintGroupHelp(const std::string& group, std::ostream& out) {
  const bool en = Text(Msg::kLanguageTag) == std::string("en");
  const std::string general = UsageLinesOf(group);
  std::string verbs;
  for (const Verb* v : AllVerbs()) {
    if (group != v->area) continue;
    verbs += "  kring " + CommandLine(*v) + "\n      " + (en ? v->en : v->nl) + "\n";
  }
  if (general.empty() && verbs.empty()) return false;
  out << (en ? "Usage: kring [OPTIONS] " : "Gebruik: kring [OPTIES] ") << group
      << (en ? " COMMAND ...\n" : " OPDRACHT ...\n") << general << verbs;
  if (!verbs.empty()) {
    out << (en ? "More about one command: kring " : "Meer over één opdracht: kring ") << group
        << (en ? " COMMAND --help\n" : " OPDRACHT --help\n");
  }
  out << (en ? "All commands and options: kring --help\n"
             : "Alle opdrachten en opties: kring --help\n");
  return true;
}

bool IsDomainCommand(const std::vector<std::string>& a) {
  if (a.empty()) return false;
  if (a.size() >= 2 && Find(a[0], a[1]) != nullptr) return true;
  return IsArea(a[0]);
}

std::string DomainOverview() {
  std::vector<std::string> areas;
  for (const Verb* v : AllVerbs()) {
    if (std::find(areas.begin(), areas.end(), v->area) == areas.end()) areas.push_back(v->area);
  }
  std::string out = Text(Msg::kLanguageTag) == std::string("en")
                        ? "Netwerkberaad (kring GROUP --help for its commands):\n "
                        : "Netwerkberaad (kring GROEP --help voor de opdrachten):\n ";
  for (const std::string& a : areas) out += " " + a;
  return out + "\n";
}

int RunDomainCommand(const Options& o) {
  const auto& a = o.args;
  const Verb* verb = a.size() >= 2 ? Find(a[0], a[1]) : nullptr;
  size_t first_flag = 2;
  // An area with a command of its own (kring changes --since 12): no verb, flags follow.
  if (verb == nullptr && (a.size() == 1 || a[1].rfind("--", 0) == 0) && !WantsHelp(a)) {
    verb = Find(a[0], "");
    first_flag = 1;
  }
  if (verb == nullptr) {
    if (a.size() >= 2 && !WantsHelp(a)) {
      std::cerr << Text(Msg::kUnknownCommand) << ": " << CommandWord(a[0]) << " "
                << CommandWord(a[1]) << "\n";
    } else if (a.size() == 1) {
      std::cerr << Text(Msg::kChooseCommand) << "\n";  // `kring circle` alone
    }
    // Asked for: on stdout; with an error: on stderr, with the error.
    PrintGroupHelp(a[0], WantsHelp(a) ? std::cout : std::cerr);
    return WantsHelp(a) ? 0 : 2;
  }
  if (WantsHelp(a)) {
    PrintVerbHelp(*verb);
    return 0;
  }
  // Parse flags before opening the store, so a typing error costs no passphrase.
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> flags;
  std::map<std::string, bool> switches;
  bool json = o.json;
  std::string case_ref;
  for (size_t i = first_flag; i < a.size(); ++i) {
    const std::string& w = a[i];  // RunCommand has refused words over kMaxFlagBytes
    if (w.rfind("--", 0) != 0) {
      positional.push_back(w);
      continue;
    }
    std::string name = w.substr(2);
    if (name == "json") {
      json = true;
    } else if (name == "case" && i + 1 < a.size()) {
      case_ref = a[++i];
    } else if (Listed(verb->switches, name)) {
      switches[name] = true;
    } else if (Listed(verb->value_flags, name) && i + 1 < a.size()) {
      flags[name].push_back(a[++i]);
    } else {
      // An option the command knows but given last has no value; any other is not one of its
      // options. Said as such: "unknown command: --person" sent people looking for a command.
      const bool en = Text(Msg::kLanguageTag) == std::string("en");
      if (Listed(verb->value_flags, name)) {
        std::cerr << Text(Msg::kError) << ": " << CommandWord(w)
                  << (en ? " needs a value after it\n" : " mist een waarde erachter\n");
      } else {
        std::cerr << (en ? "Unknown option: " : "Onbekende optie: ") << CommandWord(w) << "\n";
      }
      PrintVerbHelp(*verb, std::cerr);
      return 2;
    }
  }

  if (positional.size() > verb->max_words) return UnexpectedWords(*verb, positional, first_flag);
  SetCommandOptions(verb->value_flags);

  auto opened = OpenClient(o, NewStore::kRefuse);
  if (!opened.ok()) return Fail(opened.status());
  client::Client& c = *opened.value();
  Reports reports;
  Listen(c, reports);
  if (!c.Account().ok()) {
    std::cerr << Text(Msg::kNoAccount) << "\n";
    return 1;
  }
  Ctx ctx(c, reports, o);
  ctx.verb = verb;
  ctx.lang = CurrentLanguage();
  ctx.json = json;
  ctx.positional = std::move(positional);
  ctx.flags = std::move(flags);
  ctx.switches = std::move(switches);
  // The team report reads every case the coordinator works on; every other command one case.
  if (std::strcmp(verb->area, "report") != 0) {
    if (case_ref.empty()) {
      if (const char* env = std::getenv("KRING_CASE")) case_ref = env;
    }
    if (!case_ref.empty()) {
      auto id = ParseId(case_ref);
      if (!id) return BadId("--case");
      ctx.case_id = *id;
    } else {
      std::vector<Bytes> cases = c.Cases();
      if (cases.size() != 1) {
        std::cerr << Text(Msg::kError) << ": "
                  << ctx.T("Kies de casus met --case ID (kring case list).",
                           "Choose the case with --case ID (kring case list).")
                  << "\n";
        return 2;
      }
      ctx.case_id = cases.front();
    }
  }
  return verb->run(ctx);
}

}  // namespace kring::cli
