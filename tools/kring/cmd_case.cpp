// kring scope / case close / case erase: restricted scopes (a few members with their own key)
// and the end of a case: closing with a retention period, or erasure at the resident's request.
#include <cstdlib>
#include <iostream>

#include "kring/domain/organising.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "number_arg.h"

namespace kring::cli {
namespace {

// Accounts of the people named (each must have joined with the app).
Result<std::vector<Bytes>> Accounts(Ctx& ctx) {
  std::vector<Bytes> out;
  domain::Organising org(ctx.client, ctx.case_id);
  for (const std::string& ref : ctx.positional) {
    KRING_ASSIGN_OR_RETURN(Bytes person, ctx.Person(ref));
    KRING_ASSIGN_OR_RETURN(domain::Person p, org.GetPerson(person));
    if (p.account_id.empty()) {
      return FailedPrecondition(ctx.T("Deze persoon heeft (nog) geen account in de casus.",
                                      "This person has no account in the case (yet)."));
    }
    out.push_back(p.account_id);
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
  auto members = Accounts(ctx);
  if (!members.ok()) return Fail(members.status());
  Status s = ctx.client.SetScopeMembers(ctx.case_id, static_cast<uint32_t>(*scope), *members);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Leden van de groep aangepast.", "Group members changed.");
}

int ScopeList(Ctx& ctx) {
  auto view = ctx.client.View(ctx.case_id);
  if (!view.ok()) return Fail(view.status());
  std::vector<std::string> rows;
  for (const auto& [id, scope] : view->scopes()) {
    std::vector<std::string> members;
    for (const std::string& m : scope.members()) members.push_back(JStr(Hex(View(m))));
    if (ctx.json) {
      rows.push_back(JObj({{"scope", JNum(id)}, {"members", JArr(members)}}));
      continue;
    }
    std::cout << id << ": " << scope.members_size()
              << (scope.members_size() == 1 ? ctx.T(" lid", " member")
                                            : ctx.T(" leden", " members"))
              << "\n";
  }
  if (ctx.json) PrintJson(JArr(rows));
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
       "Toon de afgeschermde groepen",
       "Show the restricted groups",
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
