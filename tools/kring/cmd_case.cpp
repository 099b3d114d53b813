// kring scope / case close / case erase: restricted scopes (a few members with their own key)
// and the end of a case: closing with a retention period, or erasure at the resident's request.
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "kring/domain/organising.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "messages.h"
#include "number_arg.h"

namespace kring::cli {
namespace {

// `s` about one of several people named: with the user's own word for them first, so they see
// which one (what they typed, shown back to them; the output is made terminal-safe).
Status AboutRef(const Status& s, const std::string& ref) {
  return {s.code(), "\"" + ref + "\": " + Explain(s.message(), s.reason())};
}

// Accounts of the people named (each must have joined with the app).
Result<std::vector<Bytes>> Accounts(Ctx& ctx) {
  std::vector<Bytes> out;
  domain::Organising org(ctx.client, ctx.case_id);
  for (const std::string& ref : ctx.positional) {
    auto person = ctx.Person(ref);
    if (!person.ok()) return AboutRef(person.status(), ref);
    auto p = org.GetPerson(*person);
    if (!p.ok()) return AboutRef(p.status(), ref);
    if (p->account_id.empty()) {
      return AboutRef(FailedPrecondition(ctx.T("Deze persoon heeft (nog) geen account in de casus.",
                                               "This person has no account in the case (yet).")),
                      ref);
    }
    out.push_back(p->account_id);
  }
  return out;
}

int ScopeCreate(Ctx& ctx) {
  auto members = Accounts(ctx);
  if (!members.ok()) return Fail(members.status());
  auto scope = ctx.client.CreateScope(ctx.case_id, *members);
  if (!scope.ok()) return Fail(scope.status());
  return ctx.Made("scope", std::to_string(*scope), JNum(*scope),
                  "Afgeschermde groep gemaakt: alleen deze mensen kunnen lezen wat erin staat.",
                  "Restricted group created: only these people can read what is in it.");
}

int ScopeSet(Ctx& ctx) {
  if (ctx.positional.empty()) return ctx.Usage();
  const std::optional<int64_t> scope =
      ParseWholeNumber(ctx.positional.front(), 1, std::numeric_limits<uint32_t>::max());
  if (!scope) return ctx.Usage();
  ctx.positional.erase(ctx.positional.begin());
  // The group first: the library judges the members before the group, so a wrong group number
  // would be reported as a problem with the people named.
  auto scopes = domain::Organising(ctx.client, ctx.case_id).Scopes();
  if (!scopes.ok()) return Fail(scopes.status());
  if (std::none_of(scopes->begin(), scopes->end(), [&](const domain::ScopeSummary& s) {
        return s.scope_id == static_cast<uint32_t>(*scope);
      })) {
    return Fail(NotFound(ctx.T("Groep ", "Group ") + std::to_string(*scope) +
                         ctx.T(" bestaat niet in deze casus. Kijk met: kring scope list",
                               " does not exist in this case. See: kring scope list")));
  }
  auto members = Accounts(ctx);
  if (!members.ok()) return Fail(members.status());
  Status s = ctx.client.SetScopeMembers(ctx.case_id, static_cast<uint32_t>(*scope), *members);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Leden van de groep aangepast.", "Group members changed.");
}

// What a scope is for (Organising::Scopes' `holds`), in the user's language.
const char* HoldsWord(const Ctx& ctx, const std::string& what) {
  if (what == "private_time") return ctx.T("eigen tijd van het netwerk", "the network's own time");
  if (what == "contact") return ctx.T("contactgegevens", "contact details");
  if (what == "pretalk") return ctx.T("voorgesprekken", "pre-talks");
  if (what == "address") return ctx.T("adres van het beraad", "the meeting's address");
  if (what == "meeting_note") return ctx.T("notities van het beraad", "meeting notes");
  if (what == "plan") return ctx.T("plan en afspraken", "plan and agreements");
  return ctx.T("andere gegevens", "other items");
}

int ScopeList(Ctx& ctx) {
  auto scopes = domain::Organising(ctx.client, ctx.case_id).Scopes();
  if (!scopes.ok()) return Fail(scopes.status());
  std::vector<std::string> rows;
  for (const domain::ScopeSummary& scope : *scopes) {
    const bool private_time =
        std::find(scope.holds.begin(), scope.holds.end(), "private_time") != scope.holds.end();
    // A group someone is kept out of (say the contact details kept from an ex-partner) is not
    // spelled out to them by the names of everyone else: that would make the exclusion stark.
    // The network's private time is known from the meeting, so its members are named.
    const bool named = scope.is_member || private_time;
    // A member is shown by the name of the person the rules act on for their account; an
    // account no person is linked to (yet) by its role or the start of its id.
    std::vector<std::string> names;
    std::vector<std::string> members, people, holds;
    for (size_t i = 0; i < scope.member_account_ids.size(); ++i) {
      const Bytes& account = scope.member_account_ids[i];
      const Bytes& person = scope.member_person_ids[i];
      // JSON says no more than the text: the accounts of a group you are kept out of would
      // spell out who else is in it as surely as their names.
      if (!named) continue;
      members.push_back(JId(account));
      names.push_back(person.empty() ? ctx.NameOfAccount(account) : ctx.NameOf(person));
      people.push_back(JObj({{"account", JId(account)},
                             {"person", JId(person)},
                             {"name", person.empty() ? "null" : JStr(names.back())}}));
    }
    for (const std::string& h : scope.holds) holds.push_back(JStr(h));
    if (ctx.json) {
      rows.push_back(JObj({{"scope", JNum(scope.scope_id)},
                           {"members", JArr(members)},
                           {"people", JArr(people)},
                           {"holds", JArr(holds)},
                           {"is_member", JBool(scope.is_member)}}));
      continue;
    }
    std::cout << ctx.T("Groep ", "Group ") << scope.scope_id << ": ";
    if (!named) {
      // Someone outside a group reads nothing in it: only that they are not in it.
      std::cout << ctx.T("jij zit er niet in", "you are not in it") << "\n";
      continue;
    }
    for (size_t i = 0; i < scope.holds.size(); ++i) {
      std::cout << (i == 0 ? "" : ", ") << HoldsWord(ctx, scope.holds[i]);
    }
    if (!scope.is_member) {
      std::cout << " " << ctx.T("(jij zit er niet in)", "(you are not in it)");
    } else if (scope.holds.empty()) {
      // "Empty" would contradict the members listed below: nothing is stored in it yet.
      std::cout << ctx.T("er staat nog niets in", "nothing is stored in it yet");
    }
    std::cout << "\n  " << ctx.T("Wie erin zit: ", "Who is in it: ");
    for (size_t i = 0; i < names.size(); ++i) std::cout << (i == 0 ? "" : ", ") << names[i];
    std::cout << "\n";
  }
  if (ctx.json) {
    PrintJson(JArr(rows));
  } else if (scopes->empty()) {
    std::cout << ctx.T("Geen afgeschermde groepen.", "No restricted groups.") << "\n";
  }
  return 0;
}

int Close(Ctx& ctx) {
  const std::optional<int64_t> days = ParseWholeNumber(ctx.Get("retention-days", "30"), 0, 3650);
  if (!days) {
    return BadInput(ctx, "--retention-days: een aantal dagen van 0 tot en met 3650",
                    "--retention-days: a number of days from 0 to 3650");
  }
  Status s = ctx.client.CloseCase(ctx.case_id, static_cast<uint32_t>(*days));
  if (!s.ok()) return Fail(s);
  return ctx.Done("De casus is gesloten. Na de bewaartermijn wordt alles gewist.",
                  "The case is closed. After the retention period everything is erased.");
}

int Erase(Ctx& ctx) {
  if (!ctx.On("yes")) {
    return BadInput(ctx, "Wissen kan niet ongedaan worden. Bevestig met --yes.",
                    "Erasure cannot be undone. Confirm with --yes.");
  }
  Status s = ctx.client.EraseCase(ctx.case_id);
  if (!s.ok()) return Fail(s);
  return ctx.Done("De casus is gewist, ook op de server.",
                  "The case is erased, also on the server.");
}

}  // namespace

const std::vector<Verb>& CaseVerbs() {
  static const std::vector<Verb> verbs = {
      {"scope",
       "create",
       "PERSOON ...",
       "Maak een afgeschermde groep (alleen deze mensen en jij)",
       "Create a restricted group (only these people and you)",
       {},
       {},
       ScopeCreate,
       kAnyNumber},
      {"scope",
       "set",
       "GROEP PERSOON ...",
       "Vervang de leden van een groep",
       "Replace a group's members",
       {},
       {},
       ScopeSet,
       kAnyNumber},
      {"scope",
       "list",
       "",
       "Toon de afgeschermde groepen: waarvoor ze zijn en, als jij erin zit, wie erin zit",
       "Show the restricted groups: what they are for and, if you are in one, who is in it",
       {},
       {},
       ScopeList},
      {"case",
       "close",
       "[--retention-days 30]",
       "Sluit de casus (alleen lezen; na de bewaartermijn gewist)",
       "Close the case (read-only; erased after the retention period)",
       {"retention-days"},
       {},
       Close},
      {"case",
       "erase",
       "--yes",
       "Wis de casus meteen (hoofdpersoon; kan niet terug)",
       "Erase the case now (resident; cannot be undone)",
       {},
       {"yes"},
       Erase},
  };
  return verbs;
}

}  // namespace kring::cli
