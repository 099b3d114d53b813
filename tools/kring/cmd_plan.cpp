// kring plan / agreement: the plan drafted in private time, released, accepted by the chair (and
// the responsible professional where bottom lines exist), and the agreements in it (DOMAIN step
// 4, F1-F3).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include "kring/domain/follow_up.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "number_arg.h"
#include "words.h"

namespace kring::cli {
namespace {

using domain::Plan;

// The plan's content as JSON members, the same for a draft and a version (plan show --json).
void AddContentFields(const domain::PlanContent& c,
                      std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::pair<std::string, std::string>> domains;
  for (const auto& [k, t] : c.life_domains) domains.push_back({k, JStr(t)});
  fields.insert(fields.end(), {{"ik_wil", JStr(c.ik_wil)},
                               {"ik_kan", JStr(c.ik_kan)},
                               {"ik_heb_nodig", JStr(c.ik_heb_nodig)},
                               {"life_domains", JObj(domains)},
                               {"contingency", JStr(c.contingency)},
                               {"contact_person", JId(c.contact_person)},
                               {"bottom_lines", JStr(c.bottom_lines)},
                               {"responsible_professional", JId(c.responsible_professional)}});
}

// Fills `c` from the flags given (others stay as they are, so `plan update` changes only those).
Status ContentFromFlags(Ctx& ctx, domain::PlanContent& c) {
  if (ctx.Has("ik-wil")) c.ik_wil = ctx.Get("ik-wil");
  if (ctx.Has("ik-kan")) c.ik_kan = ctx.Get("ik-kan");
  if (ctx.Has("ik-heb-nodig")) c.ik_heb_nodig = ctx.Get("ik-heb-nodig");
  if (ctx.Has("contingency")) c.contingency = ctx.Get("contingency");
  if (ctx.Has("bottom-lines")) c.bottom_lines = ctx.Get("bottom-lines");
  if (ctx.Has("answers")) c.answers = ctx.Get("answers");
  for (const std::string& d : ctx.All("domain")) {
    auto eq = d.find('=');
    if (eq == std::string::npos) return InvalidArgument("plan.unknown_life_domain");
    c.life_domains[DomainWord(kLifeDomainNames, d.substr(0, eq))] = d.substr(eq + 1);
  }
  if (ctx.Has("contact-person")) {
    KRING_ASSIGN_OR_RETURN(c.contact_person, ctx.Person(ctx.Get("contact-person")));
  }
  if (ctx.Has("responsible")) {
    KRING_ASSIGN_OR_RETURN(c.responsible_professional, ctx.Person(ctx.Get("responsible")));
  }
  if (ctx.Has("review-days")) {
    // What is not a plain number is refused with the domain's own message for a bad term.
    const std::optional<int64_t> days = ParseWholeNumber(ctx.Get("review-days"), 0, 100'000);
    if (!days) return InvalidArgument("plan.review_days_invalid");
    c.review_days = static_cast<int>(*days);
  }
  return Status();
}

int Draft(Ctx& ctx) {
  Plan plan(ctx.client, ctx.case_id);
  uint32_t scope = 0;
  if (!ctx.On("open")) {
    auto network = plan.NetworkScope();
    if (!network.ok()) return Fail(network.status());
    scope = *network;
  }
  domain::PlanContent c;
  if (Status s = ContentFromFlags(ctx, c); !s.ok()) return Fail(s);
  auto id = plan.CreateDraft(scope, c);
  if (!id.ok()) return Fail(id.status());
  if (ctx.On("open")) {
    return ctx.Made("draft", *id, "Concept gemaakt. Iedereen in de kring ziet het.",
                    "Draft created. Everyone in the circle sees it.");
  }
  // A network member releases a draft only in (or right after) private time: after it, or
  // before any, "only the network sees it" alone would promise a release that is refused.
  const Status may = plan.MayRelease();
  if (may.ok()) {
    return ctx.Made("draft", *id, "Concept gemaakt. Alleen het netwerk ziet het.",
                    "Draft created. Only the network sees it.");
  }
  const std::string release = "kring plan release " + Hex(*id);
  const bool made = may.message() == "plan.network_version_made";
  const std::string nl =
      std::string("Concept gemaakt. Alleen het netwerk ziet het. ") +
      (made ? "Het netwerk heeft zijn plan al vrijgegeven. Daarom kan het netwerk dit concept "
              "niet meer vrijgeven. "
            : "Er is nu geen eigen tijd. Daarom kan het netwerk dit concept nu niet vrijgeven. ") +
      "De hoofdpersoon kan dat wel, met: " + release;
  const std::string en =
      std::string("Draft created. Only the network sees it. ") +
      (made ? "The network has already released its plan, so the network can no longer release "
              "this draft. "
            : "There is no private time now, so the network cannot release this draft now. ") +
      "The resident can, with: " + release;
  return ctx.Made("draft", *id, nl.c_str(), en.c_str());
}

int Update(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto id = ParseId(ctx.Pos(0));
  if (!id) return BadId(ctx.T("CONCEPT", "DRAFT"));
  Plan plan(ctx.client, ctx.case_id);
  auto c = plan.Draft(*id);
  if (!c.ok()) return Fail(c.status());
  if (Status s = ContentFromFlags(ctx, *c); !s.ok()) return Fail(s);
  Status s = plan.UpdateDraft(*id, *c);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Concept bijgewerkt.", "Draft updated.");
}

// The version is made: named by its number, as people know it ("versie 3", as `plan versions`
// and `plan show 3` name it; --json: its id). When it ended private time (Plan::Publish says
// which meeting it moved on to the plan presentation), say so, in the words `meeting phase` takes.
int VersionMade(Ctx& ctx, const Bytes& version, const Bytes& ended_private_time,
                const std::string& nl, const std::string& en) {
  std::string number = Hex(version);
  if (auto all = Plan(ctx.client, ctx.case_id).Versions(); all.ok()) {
    for (const domain::PlanVersion& v : *all) {
      if (v.version_id == version) number = std::to_string(v.number);
    }
  }
  if (ended_private_time.empty()) {
    return ctx.Made("version", number, JId(version), nl.c_str(), en.c_str());
  }
  const std::string ended_nl = nl + " De eigen tijd is voorbij. Het beraad gaat verder met: " +
                               ShowWord(ctx, kMeetingPhases, "plan_presentation") + ".";
  const std::string ended_en = en + " Private time is over. The meeting goes on with: " +
                               ShowWord(ctx, kMeetingPhases, "plan_presentation") + ".";
  return ctx.Made("version", number, JId(version), ended_nl.c_str(), ended_en.c_str());
}

// What a version needs that a draft may lack, and the option of `plan update` that gives it:
// `plan release` has no such options, so its refusal names the command that does.
struct DraftGap {
  const char* key;  // the library's refusal
  const char* nl;
  const char* en;
};

constexpr DraftGap kDraftGaps[] = {
    {"plan.contingency_missing", "--contingency TEKST", "--contingency TEXT"},
    {"plan.contact_missing", "--contact-person PERSOON", "--contact-person PERSON"},
    {"plan.contact_unknown", "--contact-person PERSOON", "--contact-person PERSON"},
    {"plan.professional_missing", "--responsible PERSOON", "--responsible PERSON"},
    {"plan.professional_unknown", "--responsible PERSOON", "--responsible PERSON"},
};

int ReleasePlan(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto id = ParseId(ctx.Pos(0));
  if (!id) return BadId(ctx.T("CONCEPT", "DRAFT"));
  Bytes ended;
  auto version = Plan(ctx.client, ctx.case_id).Release(*id, &ended);
  if (!version.ok()) {
    const int rc = Fail(version.status());
    for (const DraftGap& gap : kDraftGaps) {
      if (version.status().message() != gap.key) continue;
      std::cerr << ctx.T("Vul het concept aan met: kring plan update ",
                         "Complete the draft with: kring plan update ")
                << Hex(*id) << " " << ctx.T(gap.nl, gap.en) << "\n";
    }
    return rc;
  }
  return VersionMade(ctx, *version, ended,
                     "Het plan is vrijgegeven. Iedereen in de kring ziet het nu.",
                     "The plan is released. Everyone in the circle sees it now.");
}

int Publish(Ctx& ctx) {
  Plan plan(ctx.client, ctx.case_id);
  auto current = plan.Current();
  if (!current.ok()) return Fail(current.status());
  domain::PlanContent c = current->has_value() ? (*current)->content : domain::PlanContent{};
  if (Status s = ContentFromFlags(ctx, c); !s.ok()) return Fail(s);
  Bytes ended;
  auto version = plan.Publish(c, &ended);
  if (!version.ok()) return Fail(version.status());
  return VersionMade(ctx, *version, ended, "Nieuwe versie van het plan gemaakt.",
                     "New plan version created.");
}

// The version a command names: its number as `plan versions` shows it (1, 2, ...) or its id;
// without a word the current version. Read as this device may read it (CurrentForMe, Versions).
Result<domain::PlanVersion> NamedVersion(Ctx& ctx) {
  Plan plan(ctx.client, ctx.case_id);
  if (ctx.positional.empty()) {
    KRING_ASSIGN_OR_RETURN(auto current, plan.CurrentForMe());
    if (!current) return FailedPrecondition("plan.no_plan");
    return *std::move(current);
  }
  const std::string& word = ctx.Pos(0);
  // A number is short; an id is 32 hex digits (which may be digits only).
  const std::optional<int64_t> number =
      word.size() <= 7 ? ParseWholeNumber(word, 1, 1'000'000) : std::nullopt;
  const std::optional<Bytes> id = number ? std::nullopt : ParseId(word);
  if (!number && !id) {
    return InvalidArgument(ctx.T("VERSIE: ", "VERSION: ") + std::string(Text(Msg::kBadId)));
  }
  KRING_ASSIGN_OR_RETURN(std::vector<domain::PlanVersion> all, plan.Versions());
  for (domain::PlanVersion& v : all) {
    if (number ? v.number == *number : v.version_id == *id) return std::move(v);
  }
  return NotFound("plan.unknown_version");
}

// After accepting or deciding: which version that was, by the number `plan versions` shows, and
// the newer one if there is, so the user sees what they signed. A version's number stays once it
// is in the log, but one this device had not sent yet gets a later number when versions of others
// reach the server first. `--json`: the version's id and number.
int DoneWithVersion(Ctx& ctx, const domain::PlanVersion& v, const std::string& nl,
                    const std::string& en) {
  const std::string n = std::to_string(v.number);
  std::string text_nl = nl + " (versie " + n + ").";
  std::string text_en = en + " (version " + n + ").";
  auto current = Plan(ctx.client, ctx.case_id).Current();
  if (current.ok() && current->has_value() && (*current)->version_id != v.version_id) {
    const std::string newest = std::to_string((*current)->number);
    text_nl +=
        " Er is een nieuwere versie: versie " + newest + " (kring plan show " + newest + ").";
    text_en +=
        " There is a newer version: version " + newest + " (kring plan show " + newest + ").";
  }
  return ctx.Done(text_nl.c_str(), text_en.c_str(), /*edit=*/true,
                  JObj({{"version", JId(v.version_id)}, {"number", JNum(v.number)}}));
}

int Accept(Ctx& ctx) {
  auto version = NamedVersion(ctx);
  if (!version.ok()) return Fail(version.status());
  Status s = Plan(ctx.client, ctx.case_id).Accept(version->version_id, NowMs());
  if (!s.ok()) return Fail(s);
  return DoneWithVersion(ctx, *version, "Je hebt het plan aangenomen", "You accepted the plan");
}

int Decide(Ctx& ctx) {
  auto version = NamedVersion(ctx);
  if (!version.ok()) return Fail(version.status());
  auto me = ctx.Person("me");
  if (!me.ok()) return Fail(me.status());
  // The Dutch words beside the English ones scripts use, in any case.
  const std::optional<std::string> d = TypedWord(kDecisions, ctx.Get("decision"));
  if (!d) {
    const std::string choices = "--decision: " + WordChoices(ctx, kDecisions);
    return BadInput(ctx, choices, choices);
  }
  const domain::Decision decision = *d == "accept"       ? domain::Decision::kAccept
                                    : *d == "conditions" ? domain::Decision::kAcceptWithConditions
                                                         : domain::Decision::kReject;
  Status s =
      Plan(ctx.client, ctx.case_id)
          .RecordProfessionalDecision(version->version_id, *me, decision, ctx.Get("text"), NowMs());
  if (!s.ok()) return Fail(s);
  return DoneWithVersion(ctx, *version, "Je besluit is vastgelegd", "Your decision is recorded");
}

const char* DecisionName(domain::Decision d) {
  switch (d) {
    case domain::Decision::kAccept:
      return "accept";
    case domain::Decision::kAcceptWithConditions:
      return "conditions";
    case domain::Decision::kReject:
      return "reject";
    default:
      return "none";
  }
}

// The number of the newest version that holds this draft's content as it is now, 0 for none: a
// release copies the draft into a version (a version names no draft), so a draft whose text is
// a version's was released as it (or `plan publish` wrote the same). The life domains count
// only where this device reads the version's details.
int64_t ReleasedAs(const domain::PlanContent& c, const std::vector<domain::PlanVersion>& versions) {
  int64_t number = 0;
  for (const domain::PlanVersion& v : versions) {
    const domain::PlanContent& x = v.content;
    if (x.ik_wil == c.ik_wil && x.ik_kan == c.ik_kan && x.ik_heb_nodig == c.ik_heb_nodig &&
        x.contingency == c.contingency && x.contact_person == c.contact_person &&
        x.bottom_lines == c.bottom_lines && x.answers == c.answers &&
        x.responsible_professional == c.responsible_professional &&
        x.review_days == c.review_days &&
        (!v.details_readable || x.life_domains == c.life_domains)) {
      number = std::max(number, v.number);
    }
  }
  return number;
}

// Who made a draft, who changed it last if someone else did, and whether it was released:
// "geschreven door Ria, laatst veranderd door Sanne, vrijgegeven als versie 1".
std::string DraftHistory(const Ctx& ctx, const domain::PlanDraft& d, int64_t released_as) {
  std::string out = std::string(ctx.T("geschreven door ", "written by ")) +
                    ctx.NameOfAccount(d.first_author_account_id);
  if (!d.last_author_account_id.empty() && d.last_author_account_id != d.first_author_account_id) {
    out += std::string(ctx.T(", laatst veranderd door ", ", last changed by ")) +
           ctx.NameOfAccount(d.last_author_account_id);
  }
  if (released_as != 0) {
    out +=
        ctx.T(", vrijgegeven als versie ", ", released as version ") + std::to_string(released_as);
  }
  return out;
}

// One draft as this device reads it (the network's, in private time): `plan show --draft ID`.
int ShowDraft(Ctx& ctx) {
  if (!ctx.positional.empty()) return ctx.Usage();
  auto id = ParseId(ctx.Get("draft"));
  if (!id) return BadId("--draft");
  Plan plan(ctx.client, ctx.case_id);
  auto drafts = plan.Drafts();
  if (!drafts.ok()) return Fail(drafts.status());
  const domain::PlanDraft* d = nullptr;
  for (const domain::PlanDraft& x : *drafts) {
    if (x.draft_id == *id) d = &x;
  }
  if (d == nullptr) return Fail(NotFound("domain.unknown_item"));
  auto versions = plan.Versions();
  if (!versions.ok()) return Fail(versions.status());
  const int64_t released_as = ReleasedAs(d->content, *versions);
  const domain::PlanContent& c = d->content;
  if (ctx.json) {
    // by: the last author (as before); first_by: who made it; released_as: 0 or a version.
    std::vector<std::pair<std::string, std::string>> fields = {
        {"draft", JId(d->draft_id)},
        {"private_time", JBool(d->scope_id != 0)},
        {"by", JId(d->last_author_account_id)},
        {"first_by", JId(d->first_author_account_id)},
        {"released_as", JNum(released_as)},
        {"answers", JStr(c.answers)},
        {"review_days", JNum(c.review_days)}};
    AddContentFields(c, fields);
    PrintJson(JObj(fields));
    return 0;
  }
  std::cout << ctx.T("Concept", "Draft")
            << (d->scope_id != 0 ? ctx.T(" (alleen het netwerk ziet het)", " (network only)") : "")
            << ", " << DraftHistory(ctx, *d, released_as) << "\n"
            << ctx.T("  Ik wil: ", "  I want: ") << c.ik_wil << "\n"
            << ctx.T("  Ik kan: ", "  I can: ") << c.ik_kan << "\n"
            << ctx.T("  Ik heb nodig: ", "  I need: ") << c.ik_heb_nodig << "\n";
  for (const auto& [k, t] : c.life_domains) {
    std::cout << "  " << domain::UserText("plan.domain." + k, ctx.lang) << ": " << t << "\n";
  }
  std::cout << ctx.T("  Als het misgaat: ", "  If it goes wrong: ") << c.contingency << "\n"
            << ctx.T("  Contactpersoon: ", "  Contact person: ")
            << (c.contact_person.empty() ? "-" : ctx.NameOf(c.contact_person)) << "\n";
  if (!c.bottom_lines.empty())
    std::cout << ctx.T("  Voorwaarden: ", "  Bottom lines: ") << c.bottom_lines << "\n";
  if (!c.answers.empty()) std::cout << ctx.T("  Antwoorden: ", "  Answers: ") << c.answers << "\n";
  return 0;
}

// The drafts this device can read: during private time the network's, which `plan show` does not
// show until it is released.
int Drafts(Ctx& ctx) {
  Plan plan(ctx.client, ctx.case_id);
  auto drafts = plan.Drafts();
  if (!drafts.ok()) return Fail(drafts.status());
  auto versions = plan.Versions();
  if (!versions.ok()) return Fail(versions.status());
  if (ctx.json) {
    std::vector<std::string> rows;
    for (const domain::PlanDraft& d : *drafts) {
      rows.push_back(JObj({{"id", JId(d.draft_id)},
                           {"private_time", JBool(d.scope_id != 0)},
                           {"by", JId(d.last_author_account_id)},
                           {"first_by", JId(d.first_author_account_id)},
                           {"released_as", JNum(ReleasedAs(d.content, *versions))},
                           {"ik_wil", JStr(d.content.ik_wil)}}));
    }
    PrintJson(JArr(rows));
    return 0;
  }
  if (drafts->empty()) {
    std::cout << ctx.T("Er is geen concept dat jij kunt lezen.", "There is no draft you can read.")
              << "\n";
    return 0;
  }
  for (const domain::PlanDraft& d : *drafts) {
    std::cout << Hex(d.draft_id) << "  "
              << (d.content.ik_wil.empty() ? ctx.T("(nog geen ik wil)", "(no I want yet)")
                                           : d.content.ik_wil)
              << "\n    " << DraftHistory(ctx, d, ReleasedAs(d.content, *versions)) << "\n";
  }
  std::cout << ctx.T("Een concept lezen: kring plan show --draft CONCEPT",
                     "To read a draft: kring plan show --draft DRAFT")
            << "\n";
  return 0;
}

std::string AgreementJson(const domain::Agreement& a);
void PrintAgreement(const Ctx& ctx, const domain::Agreement& a, const char* indent = "");

std::string AcceptanceWords(const Ctx& ctx, const domain::Acceptance& acc);

int Show(Ctx& ctx) {
  if (ctx.Has("draft")) return ShowDraft(ctx);
  Plan plan(ctx.client, ctx.case_id);
  auto named = NamedVersion(ctx);
  if (!named.ok() && named.status().message() == "plan.no_plan") {
    // No version yet, but the network may be drafting one this device can read.
    auto drafts = plan.Drafts();
    if (drafts.ok() && !drafts->empty()) {
      std::cerr << Text(Msg::kError) << ": " << domain::UserText("plan.no_plan", ctx.lang) << " "
                << ctx.T("Er is een concept: kring plan drafts",
                         "There is a draft: kring plan drafts")
                << "\n";
      return 1;
    }
  }
  if (!named.ok()) return Fail(named.status());
  const domain::PlanVersion& v = *named;
  auto current = plan.Current();
  if (!current.ok()) return Fail(current.status());
  const bool is_current = current->has_value() && (*current)->version_id == v.version_id;
  auto acc = plan.AcceptanceOf(v.version_id);
  if (!acc.ok()) return Fail(acc.status());
  // The version that counts on paper (export printout) while this one waits for acceptance.
  auto accepted = plan.LatestAccepted();
  if (!accepted.ok()) return Fail(accepted.status());
  const int64_t accepted_number =
      accepted->has_value() && (*accepted)->version_id != v.version_id ? (*accepted)->number : 0;
  // The version's agreements as they stand now, those this account may see (agreement list).
  auto readable = plan.Agreements();
  if (!readable.ok()) return Fail(readable.status());
  std::vector<const domain::Agreement*> agreements;
  for (const domain::AgreementRef& ref : v.agreements) {
    for (const domain::Agreement& a : *readable) {
      if (a.agreement_id == ref.agreement_id) agreements.push_back(&a);
    }
  }
  const domain::PlanContent& c = v.content;
  if (ctx.json) {
    std::vector<std::string> rows;
    for (const domain::Agreement* a : agreements) rows.push_back(AgreementJson(*a));
    std::vector<std::pair<std::string, std::string>> fields = {
        {"version", JId(v.version_id)},
        {"number", JNum(v.number)},
        {"current", JBool(is_current)},
        {"hash", JStr(Hex(v.hash))},
        {"details_readable", JBool(v.details_readable)},
        {"agreements", JNum(static_cast<int64_t>(v.agreements.size()))},
        {"agreement_list", JArr(rows)},
        {"chair_accepted", JBool(acc->chair_accepted)},
        {"professional", JStr(DecisionName(acc->professional))},
        {"needs_professional", JBool(acc->needs_professional)},
        {"conditions", JStr(acc->conditions)},
        {"reason", JStr(acc->reason)},
        {"accepted", JBool(acc->accepted)},
        {"accepted_at_ms", JNum(acc->accepted_at_ms)},
        {"accepted_version", JNum(acc->accepted ? 0 : accepted_number)},
        {"based_on", JNum(v.based_on)},
        {"skipped", JNum(v.skipped)},
        {"checkin_at_ms", JNum(acc->checkin_at_ms)},
        {"review_at_ms", JNum(acc->review_at_ms)}};
    AddContentFields(c, fields);
    PrintJson(JObj(fields));
    return 0;
  }
  std::cout << ctx.T("Plan, versie ", "Plan, version ") << v.number;
  if (!is_current && current->has_value()) {
    std::cout << ctx.T(" (een eerdere versie; de huidige is versie ",
                       " (an earlier version; the current one is version ")
              << (*current)->number << ")";
  }
  std::cout << "\n";
  if (v.skipped > 0) {
    // Written from an older view and landed after a version its writer missed. Only the current
    // one is listed by kring conflicts: a later version was made with this one in view.
    std::cout << ctx.T("  Let op: deze versie is gemaakt zonder versie ",
                       "  Note: this version was made without seeing version ")
              << v.skipped
              << ctx.T(" te zien. Wat die veranderde, staat er misschien niet in",
                       ". What that one changed may be missing from it")
              << (is_current ? " (kring conflicts).\n" : ".\n");
  }
  std::cout << ctx.T("  Ik wil: ", "  I want: ") << c.ik_wil << "\n"
            << ctx.T("  Ik kan: ", "  I can: ") << c.ik_kan << "\n"
            << ctx.T("  Ik heb nodig: ", "  I need: ") << c.ik_heb_nodig << "\n";
  for (const auto& [k, t] : c.life_domains) {
    std::cout << "  " << domain::UserText("plan.domain." + k, ctx.lang) << ": " << t << "\n";
  }
  if (!v.details_readable) {
    std::cout << ctx.T("  (De uitwerking per leefgebied is alleen voor het netwerk.)",
                       "  (The details per life domain are for the network only.)")
              << "\n";
  }
  std::cout << ctx.T("  Als het misgaat: ", "  If it goes wrong: ") << c.contingency << "\n"
            << ctx.T("  Contactpersoon: ", "  Contact person: ") << ctx.NameOf(c.contact_person)
            << "\n";
  if (!c.bottom_lines.empty())
    std::cout << ctx.T("  Voorwaarden: ", "  Bottom lines: ") << c.bottom_lines << "\n";
  // Who does what by when: the agreements as `agreement list` shows them.
  std::cout << (is_current
                    ? ctx.T("  Afspraken:", "  Agreements:")
                    : ctx.T("  Afspraken, zoals ze nu staan:", "  Agreements, as they are now:"));
  if (agreements.empty()) std::cout << ctx.T(" geen", " none");
  std::cout << "\n";
  for (const domain::Agreement* a : agreements) PrintAgreement(ctx, *a, "  ");
  // The responsible professional's say where bottom lines need it (the latest decision counts).
  if (acc->needs_professional || acc->professional != domain::Decision::kNone) {
    std::cout << ctx.T("  Besluit van de professional: ", "  The professional's decision: ");
    switch (acc->professional) {
      case domain::Decision::kAccept:
        std::cout << ctx.T("akkoord", "accepted");
        break;
      case domain::Decision::kAcceptWithConditions:
        std::cout << ctx.T("akkoord met voorwaarden: ", "accepted with conditions: ")
                  << acc->conditions;
        break;
      case domain::Decision::kReject:
        std::cout << ctx.T("niet akkoord: ", "rejected: ") << acc->reason;
        break;
      default:
        std::cout << ctx.T("nog geen besluit", "no decision yet");
    }
    std::cout << "\n";
  }
  // The same words as `plan versions` (the resident may have agreed while the professional's
  // decision is still awaited), starting with a capital.
  std::string state = AcceptanceWords(ctx, *acc);
  state[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(state[0])));
  std::cout << "  " << state << "\n";
  if (!acc->accepted && accepted_number != 0) {
    std::cout << ctx.T("  De aangenomen versie is versie ", "  The accepted version is version ")
              << accepted_number << ctx.T(" (kring plan show ", " (kring plan show ")
              << accepted_number << ")\n";
  }
  if (acc->accepted) {
    std::cout << ctx.T("  Check na 4 weken: ", "  4-week check-in: ")
              << ShowTime(ctx, acc->checkin_at_ms) << "\n"
              << ctx.T("  Zes-wekencheck: ", "  Six-week check: ")
              << ShowTime(ctx, acc->review_at_ms) << "\n";
  }
  return 0;
}

// What the chair and the professional decided about a version, in a few words.
std::string AcceptanceWords(const Ctx& ctx, const domain::Acceptance& acc) {
  if (acc.accepted)
    return ctx.T("aangenomen op ", "accepted on ") + ShowTime(ctx, acc.accepted_at_ms);
  if (acc.professional == domain::Decision::kReject) {
    return ctx.T("afgewezen door de professional", "rejected by the professional");
  }
  if (acc.chair_accepted) {
    return ctx.T("hoofdpersoon akkoord, wacht op de professional",
                 "resident agreed, waiting for the professional");
  }
  return ctx.T("nog niet aangenomen", "not yet accepted");
}

// Every version of the plan, oldest first: what was agreed before, e.g. at the six-week check.
int Versions(Ctx& ctx) {
  Plan plan(ctx.client, ctx.case_id);
  auto all = plan.Versions();
  if (!all.ok()) return Fail(all.status());
  auto current = plan.Current();
  if (!current.ok()) return Fail(current.status());
  std::vector<std::string> rows;
  for (const domain::PlanVersion& v : *all) {
    auto acc = plan.AcceptanceOf(v.version_id);
    if (!acc.ok()) return Fail(acc.status());
    const bool is_current = current->has_value() && (*current)->version_id == v.version_id;
    if (ctx.json) {
      rows.push_back(JObj({{"version", JId(v.version_id)},
                           {"number", JNum(v.number)},
                           {"current", JBool(is_current)},
                           {"agreements", JNum(static_cast<int64_t>(v.agreements.size()))},
                           {"chair_accepted", JBool(acc->chair_accepted)},
                           {"professional", JStr(DecisionName(acc->professional))},
                           {"accepted", JBool(acc->accepted)},
                           {"accepted_at_ms", JNum(acc->accepted_at_ms)}}));
      continue;
    }
    std::cout << ctx.T("Versie ", "Version ") << v.number
              << (is_current ? ctx.T(" (huidige)", " (current)") : "") << ": "
              << AcceptanceWords(ctx, *acc) << ", " << v.agreements.size()
              << ctx.T(v.agreements.size() == 1 ? " afspraak" : " afspraken",
                       v.agreements.size() == 1 ? " agreement" : " agreements")
              << "\n";
  }
  if (ctx.json) {
    PrintJson(JArr(rows));
  } else if (all->empty()) {
    std::cout << ctx.T("Er is nog geen plan.", "There is no plan yet.") << "\n";
  } else {
    std::cout << ctx.T("Een versie lezen: kring plan show NUMMER",
                       "To read a version: kring plan show NUMBER")
              << "\n";
  }
  return 0;
}

int Grant(Ctx& ctx) {
  const std::string word = ctx.positional.size() == 1 ? ctx.Pos(0) : "";
  const bool on = word == "aan" || word == "on";
  if (!on && word != "uit" && word != "off") return ctx.Usage();
  Status s = Plan(ctx.client, ctx.case_id).GrantProfessionalsFullView(on);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Opgeslagen.", "Saved.");
}

// ---- agreements ----

// One agreement as `agreement list --json` shows it (and `plan show --json` in its agreements).
std::string AgreementJson(const domain::Agreement& a) {
  // due_ms: the date that counts now (a blocked agreement's new date); first_due_ms: the date
  // agreed first.
  std::string obstacle = "null";
  if (a.obstacle) {
    obstacle = JObj({{"description", JStr(a.obstacle->description)},
                     {"owner", JId(a.obstacle->owner)},
                     {"new_due_ms", JNum(a.obstacle->new_due_ms)}});
  }
  return JObj({{"id", JId(a.agreement_id)},
               {"owner", JId(a.input.owner)},
               {"action", JStr(a.input.action)},
               {"due_ms", JNum(a.current_due_ms())},
               {"first_due_ms", JNum(a.input.due_ms)},
               {"obstacle", obstacle},
               {"recurrence", JStr(a.input.recurrence)},
               {"checker", JId(a.input.checker)},
               {"life_domain", JStr(a.input.life_domain)},
               {"status", JStr(domain::AgreementStatusName(a.status))},
               {"accepted", JBool(a.accepted)},
               {"acceptance_stale", JBool(a.acceptance_stale)},
               {"restricted", JBool(a.scope_id != 0 || !a.input.hidden_from.empty())},
               {"conflicts", JNum(static_cast<int64_t>(a.conflicts.size()))},
               {"owner_left", JBool(a.owner_left)},
               {"needs_new_owner", JBool(a.needs_new_owner())},
               {"copy_of", JId(a.copy_of)}});
}

// One agreement as `agreement list` shows it: who does what by when, its state, what is in the
// way. `indent` before its first line (`plan show` lists them under the plan).
void PrintAgreement(const Ctx& ctx, const domain::Agreement& a, const char* indent) {
  std::cout << indent << Hex(a.agreement_id);
  // The release gave it a new id; the one noted in private time still works.
  if (!a.copy_of.empty()) std::cout << ctx.T(" (was ", " (was ") << Hex(a.copy_of) << ")";
  std::cout << "  " << ctx.NameOf(a.input.owner);
  if (a.owner_left) std::cout << ctx.T(" (niet meer in de kring)", " (no longer in the circle)");
  std::cout << ": " << a.input.action << "  [" << AgreementStatusWord(ctx, a.status) << "]";
  if (a.current_due_ms() != 0) {
    std::cout << ctx.T(" voor ", " by ") << ShowTime(ctx, a.current_due_ms());
    if (a.input.due_ms != 0 && a.input.due_ms != a.current_due_ms()) {
      std::cout << ctx.T(" (eerst ", " (first ") << ShowTime(ctx, a.input.due_ms) << ")";
    }
  }
  if (!a.input.recurrence.empty()) std::cout << " (" << a.input.recurrence << ")";
  if (!a.conflicts.empty())
    std::cout << ctx.T("  (twee wijzigingen tegelijk: kijk samen)",
                       "  (two changes at once: look together)");
  std::cout << "\n";
  if (a.obstacle) PrintObstacle(ctx, a.obstacle->description, a.obstacle->owner);
  if (a.needs_new_owner()) {
    std::cout << ctx.T("    Heeft een nieuwe eigenaar nodig: kring agreement owner ",
                       "    Needs a new owner: kring agreement owner ")
              << Hex(a.agreement_id) << ctx.T(" PERSOON", " PERSON") << "\n";
  }
}

int PrintAgreements(Ctx& ctx, const std::vector<domain::Agreement>& list) {
  if (ctx.json) {
    std::vector<std::string> rows;
    for (const auto& a : list) rows.push_back(AgreementJson(a));
    PrintJson(JArr(rows));
    return 0;
  }
  if (list.empty()) std::cout << ctx.T("Geen afspraken.", "No agreements.") << "\n";
  for (const auto& a : list) PrintAgreement(ctx, a);
  return 0;
}

int Add(Ctx& ctx) {
  domain::AgreementInput in;
  auto owner = ctx.Person(ctx.Get("owner", "me"));
  if (!owner.ok()) return Fail(owner.status());
  in.owner = *owner;
  in.action = ctx.Get("action");
  if (ctx.Has("due")) {
    auto due = ctx.DueTime("due");
    if (!due.ok()) return Fail(due.status());
    in.due_ms = *due;
  }
  in.recurrence = ctx.Get("recurrence");
  if (ctx.Has("checker")) {
    auto checker = ctx.Person(ctx.Get("checker"));
    if (!checker.ok()) return Fail(checker.status());
    in.checker = *checker;
  }
  in.life_domain = DomainWord(kLifeDomainNames, ctx.Get("domain"));
  auto hidden = ctx.People(ctx.All("hidden-from"));
  if (!hidden.ok()) return Fail(hidden.status());
  in.hidden_from = *hidden;
  auto visible = ctx.People(ctx.All("visible-to"));
  if (!visible.ok()) return Fail(visible.status());
  in.visible_to = *visible;
  Plan plan(ctx.client, ctx.case_id);
  auto id = plan.AddAgreement(in);
  if (!id.ok()) return Fail(id.status());
  auto made = plan.GetAgreement(*id);
  if (made.ok() && made->in_private_time) {
    // Short: what is true now and when that changes. The release gives the agreement a new id,
    // but the one shown here keeps working, so there is nothing about ids to act on.
    return ctx.Made("agreement", *id,
                    "Afspraak voorgesteld. Het is eigen tijd: alleen het netwerk leest deze "
                    "afspraak. Na het vrijgeven (kring meeting release) lezen de anderen haar "
                    "ook. Dan kan de afspraak ook worden aangenomen.",
                    "Agreement proposed. It is private time: only the network reads this "
                    "agreement. After the release (kring meeting release) the others read it "
                    "too. Then it can be accepted as well.");
  }
  return ctx.Made("agreement", *id, "Afspraak voorgesteld.", "Agreement proposed.");
}

// A new owner for an agreement (after its owner left the circle, or by agreement): the rest stays,
// and the new owner accepts it themself (the content changed, so the old acceptance lapses).
int SetOwner(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto id = ParseId(ctx.Pos(0));
  if (!id) return BadId(ctx.T("AFSPRAAK", "AGREEMENT"));
  auto owner = ctx.Person(ctx.Pos(1));
  if (!owner.ok()) return Fail(owner.status());
  Plan plan(ctx.client, ctx.case_id);
  auto agreement = plan.GetAgreement(*id);
  if (!agreement.ok()) return Fail(agreement.status());
  domain::AgreementInput in = agreement->input;
  in.owner = *owner;
  Status s = plan.EditAgreement(*id, in);
  if (!s.ok()) return Fail(s);
  return ctx.Done("De afspraak heeft een nieuwe eigenaar. Die moet de afspraak nog aannemen.",
                  "The agreement has a new owner, who still has to accept it.");
}

int AcceptAgreement(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto id = ParseId(ctx.Pos(0));
  if (!id) return BadId(ctx.T("AFSPRAAK", "AGREEMENT"));
  Status s = Plan(ctx.client, ctx.case_id).AcceptAgreement(*id);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Afspraak aangenomen.", "Agreement accepted.");
}

int SetStatus(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto id = ParseId(ctx.Pos(0));
  if (!id) return BadId(ctx.T("AFSPRAAK", "AGREEMENT"));
  // The words `agreement list` shows (klaar, deels, ...), and the English ones scripts use.
  const std::optional<domain::AgreementStatus> st = TypedAgreementStatus(ctx.positional[1]);
  if (!st || st == domain::AgreementStatus::kProposed || st == domain::AgreementStatus::kAccepted) {
    return BadInput(ctx, "Kies: klaar, deels, niet-gedaan, loopt-vast of vervallen.",
                    "Choose: done, partly, not-done, blocked or dropped.");
  }
  // The owner and new date describe what blocks the agreement: without --obstacle they would be
  // dropped without a word (a new date for a "deels" agreement is not what they set).
  if (!ctx.Has("obstacle") && (ctx.Has("obstacle-owner") || ctx.Has("new-due"))) {
    return BadInput(
        ctx,
        "--obstacle-owner en --new-due horen bij --obstacle: schrijf op wat er vastloopt "
        "(met loopt-vast).",
        "--obstacle-owner and --new-due go with --obstacle: write what blocks it (with "
        "blocked).");
  }
  std::optional<domain::Obstacle> obstacle;
  if (ctx.Has("obstacle")) {
    domain::Obstacle o;
    o.description = ctx.Get("obstacle");
    auto owner = ctx.Person(ctx.Get("obstacle-owner", "me"));
    if (!owner.ok()) return Fail(owner.status());
    o.owner = *owner;
    auto due = ctx.DueTime("new-due", "now+14d");
    if (!due.ok()) return Fail(due.status());
    o.new_due_ms = *due;
    obstacle = o;
  }
  Status s = Plan(ctx.client, ctx.case_id).UpdateStatus(*id, *st, obstacle);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Stand van de afspraak opgeslagen.", "Agreement status saved.");
}

int List(Ctx& ctx) {
  auto list = Plan(ctx.client, ctx.case_id).Agreements();
  if (!list.ok()) return Fail(list.status());
  return PrintAgreements(ctx, *list);
}

int Mine(Ctx& ctx) {
  auto list = domain::FollowUp(ctx.client, ctx.case_id).MyAgreements();
  if (!list.ok()) return Fail(list.status());
  return PrintAgreements(ctx, *list);
}

int Overdue(Ctx& ctx) {
  auto at = ctx.Time("at", "now");
  if (!at.ok()) return Fail(at.status());
  auto list = domain::FollowUp(ctx.client, ctx.case_id).Overdue(*at);
  if (!list.ok()) return Fail(list.status());
  return PrintAgreements(ctx, *list);
}

const std::vector<const char*> kContentFlags = {
    "ik-wil",  "ik-kan", "ik-heb-nodig",   "contingency", "bottom-lines",
    "answers", "domain", "contact-person", "responsible", "review-days"};
constexpr const char* kContentSyntax =
    "[--ik-wil T] [--ik-kan T] [--ik-heb-nodig T] [--domain wonen=T ...]\n"
    "      [--contingency T] [--contact-person PERSOON] [--bottom-lines T]\n"
    "      [--responsible PERSOON] [--answers T] [--review-days 42]";
// The draft's own switch after the content flags, so its usage line names it.
constexpr const char* kDraftSyntax =
    "[--ik-wil T] [--ik-kan T] [--ik-heb-nodig T] [--domain wonen=T ...]\n"
    "      [--contingency T] [--contact-person PERSOON] [--bottom-lines T]\n"
    "      [--responsible PERSOON] [--answers T] [--review-days 42] [--open]";

}  // namespace

const std::vector<Verb>& PlanVerbs() {
  static const std::vector<Verb> verbs = {
      {"plan",
       "draft",
       kDraftSyntax,
       "Schrijf een concept in de eigen tijd (alleen het netwerk ziet het; --open: iedereen)",
       "Write a draft in private time (network only; --open: everyone)",
       kContentFlags,
       {"open"},
       Draft},
      {"plan",
       "update",
       "CONCEPT (zelfde opties als draft)",
       "Werk het concept bij",
       "Update the draft",
       kContentFlags,
       {},
       Update,
       1},
      {"plan",
       "release",
       "CONCEPT",
       "Geef het concept vrij als versie van het plan",
       "Release the draft as a plan version",
       {},
       {},
       ReleasePlan,
       1},
      {"plan",
       "publish",
       "(zelfde opties als draft)",
       "Maak direct een nieuwe versie (bijvoorbeeld na de check)",
       "Publish a new version directly (e.g. after the check)",
       kContentFlags,
       {},
       Publish},
      {"plan",
       "accept",
       "[VERSIE]",
       "Hoofdpersoon: neem deze versie van het plan aan",
       "Chair: accept this version of the plan",
       {},
       {},
       Accept,
       1},
      {"plan",
       "decide",
       "--decision akkoord|voorwaarden|niet-akkoord [--text T] [VERSIE]",
       "Verantwoordelijke professional: je besluit over het plan",
       "Responsible professional: your decision on the plan",
       {"decision", "text"},
       {},
       Decide,
       1},
      {"plan",
       "show",
       "[VERSIE] [--draft CONCEPT]",
       "Toon het plan, een eerdere versie (nummer uit plan versions) of een concept (--draft)",
       "Show the plan, an earlier version (number from plan versions) or a draft (--draft)",
       {"draft"},
       {},
       Show,
       1},
      {"plan",
       "drafts",
       "",
       "De concepten die jij kunt lezen (in de eigen tijd: die van het netwerk)",
       "The drafts you can read (in private time: the network's)",
       {},
       {},
       Drafts},
      {"plan",
       "versions",
       "",
       "Alle versies van het plan: welke is aangenomen, hoeveel afspraken",
       "Every version of the plan: which was accepted, how many agreements",
       {},
       {},
       Versions},
      {"plan",
       "grant",
       "aan|uit",
       "Hoofdpersoon: professionals zien het hele plan (of niet)",
       "Chair: professionals see the whole plan (or not)",
       {},
       {},
       Grant,
       1},
      {"agreement",
       "add",
       "--action T [--owner PERSOON] [--due TIJD | --recurrence T] [--checker PERSOON]\n"
       "      [--domain wonen|geld|...] [--hidden-from PERSOON ...] [--visible-to PERSOON "
       "...]",
       "Stel een afspraak voor",
       "Propose an agreement",
       {"owner", "action", "due", "recurrence", "checker", "domain", "hidden-from", "visible-to"},
       {},
       Add},
      {"agreement",
       "owner",
       "AFSPRAAK PERSOON",
       "Geef een afspraak een nieuwe eigenaar (bijvoorbeeld als iemand uit de kring ging)",
       "Give an agreement a new owner (for example when someone left the circle)",
       {},
       {},
       SetOwner,
       2},
      {"agreement",
       "accept",
       "AFSPRAAK",
       "Neem je afspraak aan",
       "Accept your agreement",
       {},
       {},
       AcceptAgreement,
       1},
      {"agreement",
       "status",
       "AFSPRAAK klaar|deels|niet-gedaan|loopt-vast|vervallen [--obstacle T --obstacle-owner "
       "PERSOON\n"
       "      --new-due TIJD]",
       "Hoe staat de afspraak ervoor?",
       "How is the agreement going?",
       {"obstacle", "obstacle-owner", "new-due"},
       {},
       SetStatus,
       2},
      {"agreement",
       "list",
       "",
       "Alle afspraken die jij mag zien",
       "Every agreement you may see",
       {},
       {},
       List},
      {"agreement", "mine", "", "Jouw afspraken", "Your agreements", {}, {}, Mine},
      {"agreement",
       "overdue",
       "[--at TIJD]",
       "Afspraken over hun datum",
       "Agreements past their date",
       {"at"},
       {},
       Overdue},
  };
  return verbs;
}

}  // namespace kring::cli
