// kring check / mentor / micro: the follow-up after the plan is accepted: the 4-week check-in,
// the six-week check, the young person's JIM mentor and the micro-analysis (DOMAIN 5-7, F4-F6).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>

#include "kring/domain/follow_up.h"
#include "kring/domain/plan.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "number_arg.h"
#include "words.h"

namespace kring::cli {
namespace {

using domain::FollowUp;

// A result the six-week check records for an agreement: done, partly, not done or blocked.
std::optional<domain::AgreementStatus> Assessable(const std::string& w) {
  const std::optional<domain::AgreementStatus> st = TypedAgreementStatus(w);
  if (st == domain::AgreementStatus::kDone || st == domain::AgreementStatus::kPartly ||
      st == domain::AgreementStatus::kNotDone || st == domain::AgreementStatus::kBlocked) {
    return st;
  }
  return std::nullopt;
}

int CheckIn(Ctx& ctx) {
  auto at = ctx.Time("at", "now");
  if (!at.ok()) return Fail(at.status());
  Status s = FollowUp(ctx.client, ctx.case_id).RecordCheckIn(*at, ctx.Get("note"));
  if (!s.ok()) return Fail(s);
  return ctx.Done("Check na 4 weken vastgelegd.", "4-week check-in recorded.");
}

const char* OutcomeName(domain::CheckOutcome o) {
  switch (o) {
    case domain::CheckOutcome::kAdjust:
      return "adjust";
    case domain::CheckOutcome::kVervolgberaad:
      return "vervolgberaad";
    default:
      return "continue";
  }
}

int SixWeek(Ctx& ctx) {
  domain::SixWeekCheckInput in;
  auto at = ctx.Time("at", "now");
  if (!at.ok()) return Fail(at.status());
  in.at_ms = *at;
  const std::string outcome = DomainWord(kCheckOutcomes, ctx.Get("outcome", "continue"));
  in.outcome = outcome == "adjust"          ? domain::CheckOutcome::kAdjust
               : outcome == "vervolgberaad" ? domain::CheckOutcome::kVervolgberaad
                                            : domain::CheckOutcome::kContinue;
  if (outcome != "continue" && outcome != "adjust" && outcome != "vervolgberaad") {
    return BadInput(ctx, "--outcome: doorgaan, aanpassen of vervolgberaad",
                    "--outcome: continue, adjust or vervolgberaad");
  }
  in.note = ctx.Get("note");
  // An agreement by the id given, also the one it had in private time (its released copy stands
  // for it, as for agreement accept); nullopt for one this device does not know.
  domain::Plan plan(ctx.client, ctx.case_id);
  auto known = [&plan](const Bytes& id) -> std::optional<Bytes> {
    auto a = plan.GetAgreement(id);
    return a.ok() ? std::optional<Bytes>(a->agreement_id) : std::nullopt;
  };
  // Each agreement of the plan at most once: as given with --assess ID=done, else as it stands
  // when it has a result already. One without a result (proposed, agreed) stays out of the
  // check: without an assessment nothing about an agreement changes.
  std::map<Bytes, domain::AgreementStatus> given;
  for (const std::string& a : ctx.All("assess")) {
    const size_t eq = a.find('=');
    const std::optional<Bytes> id =
        eq == std::string::npos ? std::nullopt : ParseId(a.substr(0, eq));
    const std::optional<domain::AgreementStatus> st =
        eq == std::string::npos ? std::nullopt : Assessable(a.substr(eq + 1));
    if (!id || !st) {
      return BadInput(ctx,
                      "--assess: schrijf AFSPRAAK=klaar|deels|niet-gedaan|loopt-vast, met de id "
                      "van de afspraak (kring agreement list) voor de =.",
                      "--assess: write AGREEMENT=done|partly|not-done|blocked, with the "
                      "agreement's id (kring agreement list) before the =.");
    }
    const std::optional<Bytes> agreement = known(*id);
    if (!agreement) return Fail(InvalidArgument("followup.unknown_agreement"));
    given[*agreement] = *st;
  }
  // What is in the way of an agreement assessed loopt-vast: --obstacle AFSPRAAK=T, or just
  // --obstacle T when one agreement is assessed so; --obstacle-owner and --new-due the same way.
  std::vector<Bytes> blocked;
  for (const auto& [id, st] : given) {
    if (st == domain::AgreementStatus::kBlocked) blocked.push_back(id);
  }
  std::map<std::string, std::map<Bytes, std::string>> per_blocked;  // option -> agreement -> value
  for (const char* option : {"obstacle", "obstacle-owner", "new-due"}) {
    for (const std::string& v : ctx.All(option)) {
      const size_t eq = v.find('=');
      std::optional<Bytes> id = eq == std::string::npos ? std::nullopt : ParseId(v.substr(0, eq));
      std::string value = id ? v.substr(eq + 1) : v;
      if (id) {
        id = known(*id);
      } else if (blocked.size() == 1) {
        id = blocked.front();
      }
      if (!id || std::find(blocked.begin(), blocked.end(), *id) == blocked.end()) {
        const std::string o = std::string("--") + option;
        return BadInput(ctx,
                        o +
                            " hoort bij een afspraak met --assess AFSPRAAK=loopt-vast. Bij meer "
                            "dan één zo'n afspraak: " +
                            o + " AFSPRAAK=...",
                        o +
                            " goes with an agreement given --assess AGREEMENT=blocked. With more "
                            "than one such agreement: " +
                            o + " AGREEMENT=...");
      }
      per_blocked[option][*id] = std::move(value);
    }
  }
  auto current = plan.Current();
  if (!current.ok()) return Fail(current.status());
  if (!current->has_value()) return Fail(FailedPrecondition("plan.no_plan"));
  for (const domain::AgreementRef& ref : (*current)->agreements) {
    auto a = plan.GetAgreement(ref.agreement_id);
    if (!a.ok()) continue;  // sealed to a scope this device is not in
    domain::AssessmentInput as{ref.agreement_id, a->status, std::nullopt};
    const auto it = given.find(ref.agreement_id);
    if (it != given.end()) {
      as.result = it->second;
      given.erase(it);
    } else if (!Assessable(domain::AgreementStatusName(a->status))) {
      continue;
    }
    if (as.result == domain::AgreementStatus::kBlocked) {
      // What was given here, else what the agreement has already (agreement status).
      as.obstacle = a->obstacle;
      auto typed = [&](const char* option) -> const std::string* {
        auto o = per_blocked[option].find(ref.agreement_id);
        return o == per_blocked[option].end() ? nullptr : &o->second;
      };
      if (typed("obstacle") || typed("obstacle-owner") || typed("new-due")) {
        domain::Obstacle o = as.obstacle.value_or(domain::Obstacle{});
        if (const std::string* t = typed("obstacle")) o.description = *t;
        if (const std::string* t = typed("obstacle-owner"); t || o.owner.empty()) {
          auto owner = ctx.Person(t ? *t : "me");
          if (!owner.ok()) return Fail(owner.status());
          o.owner = *owner;
        }
        if (const std::string* t = typed("new-due"); t || o.new_due_ms <= 0) {
          auto due = OptionDueTime("new-due", t ? *t : "now+14d");
          if (!due.ok()) return Fail(due.status());
          o.new_due_ms = *due;
        }
        as.obstacle = o;
      }
    }
    in.assessments.push_back(as);
  }
  // An agreement given that is not in the current plan is not silently left out.
  if (!given.empty()) return Fail(InvalidArgument("followup.unknown_agreement"));
  if (in.assessments.empty()) {
    return BadInput(ctx,
                    "Nog geen afspraak heeft een uitkomst. Zeg per afspraak hoe het ging: "
                    "--assess AFSPRAAK=klaar|deels|niet-gedaan|loopt-vast.",
                    "No agreement has a result yet. Say for each agreement how it went: "
                    "--assess AGREEMENT=done|partly|not-done|blocked.");
  }
  auto id = FollowUp(ctx.client, ctx.case_id).RecordSixWeekCheck(in);
  if (!id.ok()) return Fail(id.status());
  return ctx.Made("check", *id, "Zes-wekencheck vastgelegd.", "Six-week check recorded.");
}

int CheckShow(Ctx& ctx) {
  FollowUp f(ctx.client, ctx.case_id);
  auto latest = f.LatestCheck();
  if (!latest.ok()) return Fail(latest.status());
  auto upcoming = f.UpcomingChecks(NowMs());
  if (!upcoming.ok()) return Fail(upcoming.status());
  auto checkins = f.CheckIns();
  if (!checkins.ok()) return Fail(checkins.status());
  std::vector<std::string> next;
  for (const auto& u : *upcoming) {
    const char* kind = u.kind == domain::UpcomingCheck::Kind::kCheckIn        ? "check_in"
                       : u.kind == domain::UpcomingCheck::Kind::kSixWeekCheck ? "six_week_check"
                                                                              : "mentor_evaluation";
    next.push_back(
        JObj({{"kind", JStr(kind)}, {"due_ms", JNum(u.due_ms)}, {"overdue", JBool(u.overdue)}}));
  }
  if (ctx.json) {
    std::string check = "null";
    if (latest->has_value()) {
      std::vector<std::string> rows;
      for (const auto& a : (*latest)->assessments) {
        std::string obstacle = "null";
        if (a.obstacle) {
          obstacle = JObj({{"description", JStr(a.obstacle->description)},
                           {"owner", JId(a.obstacle->owner)},
                           {"new_due_ms", JNum(a.obstacle->new_due_ms)}});
        }
        rows.push_back(JObj({{"agreement", JId(a.agreement_id)},
                             {"result", JStr(domain::AgreementStatusName(a.result))},
                             {"obstacle", obstacle}}));
      }
      check = JObj({{"id", JId((*latest)->check_id)},
                    {"version", JId((*latest)->version_id)},
                    {"at_ms", JNum((*latest)->at_ms)},
                    {"outcome", JStr(OutcomeName((*latest)->outcome))},
                    {"assessments", JArr(rows)}});
    }
    std::vector<std::string> done;
    for (const domain::LogEntry& e : *checkins) {
      done.push_back(JObj(
          {{"at_ms", JNum(e.at_ms)}, {"note", JStr(e.note)}, {"by", JId(e.author_account_id)}}));
    }
    PrintJson(JObj({{"latest", check}, {"checkins", JArr(done)}, {"upcoming", JArr(next)}}));
    return 0;
  }
  // The 4-week check-ins held, with what was noted and by whom.
  for (const domain::LogEntry& e : *checkins) {
    std::cout << ctx.T("Check na 4 weken op ", "4-week check-in on ") << ShowTime(ctx, e.at_ms)
              << ctx.T(", door ", ", by ") << ctx.NameOfAccount(e.author_account_id) << "\n";
    if (!e.note.empty()) std::cout << "  " << e.note << "\n";
  }
  if (!latest->has_value()) {
    std::cout << ctx.T("Nog geen zes-wekencheck.", "No six-week check yet.") << "\n";
  } else {
    const auto& c = **latest;
    std::cout << ctx.T("Zes-wekencheck op ", "Six-week check on ") << ShowTime(ctx, c.at_ms)
              << "\n";
    auto agreements = domain::Plan(ctx.client, ctx.case_id).Agreements();
    for (const auto& a : c.assessments) {
      std::string action = "?";
      if (agreements.ok()) {
        for (const auto& ag : *agreements) {
          if (ag.agreement_id == a.agreement_id)
            action = ctx.NameOf(ag.input.owner) + ": " + ag.input.action;
        }
      }
      std::cout << "  " << action << "  [" << AgreementStatusWord(ctx, a.result) << "]";
      // Blocked: the new date, what is in the way and who sorts it out.
      if (a.obstacle) {
        std::cout << ctx.T(" nieuwe datum ", " new date ") << ShowTime(ctx, a.obstacle->new_due_ms);
      }
      std::cout << "\n";
      if (a.obstacle) PrintObstacle(ctx, a.obstacle->description, a.obstacle->owner);
    }
    std::cout << ctx.T("  Uitkomst: ", "  Outcome: ")
              << (c.outcome == domain::CheckOutcome::kContinue ? ctx.T("zo doorgaan", "continue")
                  : c.outcome == domain::CheckOutcome::kAdjust
                      ? ctx.T("plan aanpassen", "adjust the plan")
                      : ctx.T("nieuw netwerkberaad", "a follow-up meeting"))
              << "\n";
  }
  for (const auto& u : *upcoming) {
    std::cout << (u.kind == domain::UpcomingCheck::Kind::kCheckIn
                      ? ctx.T("Check na 4 weken: ", "4-week check-in: ")
                  : u.kind == domain::UpcomingCheck::Kind::kSixWeekCheck
                      ? ctx.T("Zes-wekencheck: ", "Six-week check: ")
                      : ctx.T("Evaluatie mentor: ", "Mentor evaluation: "))
              << ShowTime(ctx, u.due_ms) << (u.overdue ? ctx.T(" (te laat)", " (overdue)") : "")
              << "\n";
  }
  return 0;
}

// ---- mentor ----

int Designate(Ctx& ctx) {
  domain::MentorInput in;
  auto young = ctx.Person(ctx.Get("young"));
  if (!young.ok()) return Fail(young.status());
  auto mentor = ctx.Person(ctx.Get("mentor"));
  if (!mentor.ok()) return Fail(mentor.status());
  in.young_person = *young;
  in.mentor = *mentor;
  in.parental_consent = ctx.On("consent");
  if (ctx.Has("consent-by")) {
    auto by = ctx.Person(ctx.Get("consent-by"));
    if (!by.ok()) return Fail(by.status());
    in.consent_by = *by;
  }
  if (ctx.Has("mentor-birth")) {
    auto birth = ctx.Time("mentor-birth");
    if (!birth.ok()) return Fail(birth.status());
    in.mentor_birth_ms = *birth;
  }
  in.now_ms = NowMs();
  auto d = FollowUp(ctx.client, ctx.case_id).DesignateMentor(in);
  if (!d.ok()) return Fail(d.status());
  for (const std::string& w : d->warnings) std::cerr << domain::UserText(w, ctx.lang) << "\n";
  return ctx.Made("mentor", d->mentor_id, "Mentor vastgelegd.", "Mentor recorded.");
}

int MentorLog(Ctx& ctx, bool evaluation) {
  auto m = FollowUp(ctx.client, ctx.case_id).Mentor();
  if (!m.ok()) return Fail(m.status());
  if (!m->has_value()) {
    return Fail(
        NotFound(ctx.T("Er is nog geen mentor. Leg eerst vast wie de mentor is: kring "
                       "mentor designate",
                       "There is no mentor yet. First record who the mentor is: kring "
                       "mentor designate")));
  }
  auto at = ctx.Time("at", "now");
  if (!at.ok()) return Fail(at.status());
  FollowUp f(ctx.client, ctx.case_id);
  Status s = evaluation ? f.LogEvaluation((*m)->mentor_id, *at, ctx.Get("note"))
                        : f.LogMentorCheckIn((*m)->mentor_id, *at, ctx.Get("note"));
  if (!s.ok()) return Fail(s);
  return ctx.Done("Opgeslagen.", "Saved.");
}
int MentorCheckIn(Ctx& ctx) { return MentorLog(ctx, false); }
int MentorEvaluate(Ctx& ctx) { return MentorLog(ctx, true); }

// The case's mentor into `out`; else the exit code, after saying there is none (0) or why it
// could not be read.
int ShownMentor(Ctx& ctx, std::optional<domain::MentorState>& out) {
  auto m = FollowUp(ctx.client, ctx.case_id).Mentor();
  if (!m.ok()) return Fail(m.status());
  if (!m->has_value()) {
    if (ctx.json)
      PrintJson("null");
    else
      std::cout << ctx.T("Geen mentor.", "No mentor.") << "\n";
    return 0;
  }
  out = std::move(**m);
  return 0;
}

int MentorShow(Ctx& ctx) {
  std::optional<domain::MentorState> m;
  if (int rc = ShownMentor(ctx, m); !m) return rc;
  const domain::MentorState& s = *m;
  if (ctx.json) {
    std::vector<std::string> warnings;
    for (const auto& w : s.warnings) warnings.push_back(JStr(w));
    PrintJson(JObj({{"id", JId(s.mentor_id)},
                    {"young_person", JId(s.young_person)},
                    {"mentor", JId(s.mentor)},
                    {"parental_consent", JBool(s.parental_consent)},
                    {"warnings", JArr(warnings)},
                    {"checkins", JNum(static_cast<int64_t>(s.checkins.size()))},
                    {"evaluations", JNum(static_cast<int64_t>(s.evaluations.size()))},
                    {"next_evaluation_ms", JNum(s.next_evaluation_ms)}}));
    return 0;
  }
  std::cout << ctx.T("Mentor van ", "Mentor of ") << ctx.NameOf(s.young_person) << ": "
            << ctx.NameOf(s.mentor) << "\n"
            << ctx.T("Volgende evaluatie: ", "Next evaluation: ")
            << ShowTime(ctx, s.next_evaluation_ms) << "\n";
  for (const auto& w : s.warnings) std::cout << "  " << domain::UserText(w, ctx.lang) << "\n";
  return 0;
}

// Every check-in with the mentor and every evaluation, oldest first, with who logged it.
int MentorList(Ctx& ctx) {
  std::optional<domain::MentorState> m;
  if (int rc = ShownMentor(ctx, m); !m) return rc;
  const domain::MentorState& s = *m;
  if (ctx.json) {
    auto rows = [](const std::vector<domain::MentorLogEntry>& log) {
      std::vector<std::string> out;
      for (const auto& e : log) {
        out.push_back(JObj(
            {{"at_ms", JNum(e.at_ms)}, {"note", JStr(e.note)}, {"by", JId(e.author_account_id)}}));
      }
      return JArr(out);
    };
    PrintJson(JObj({{"id", JId(s.mentor_id)},
                    {"checkins", rows(s.checkins)},
                    {"evaluations", rows(s.evaluations)}}));
    return 0;
  }
  auto print = [&ctx](const char* nl, const char* en,
                      const std::vector<domain::MentorLogEntry>& log, const char* none_nl,
                      const char* none_en) {
    std::cout << ctx.T(nl, en) << "\n";
    if (log.empty()) std::cout << "  " << ctx.T(none_nl, none_en) << "\n";
    for (const auto& e : log) {
      std::cout << "  " << ShowTime(ctx, e.at_ms) << ctx.T(", door ", ", by ")
                << ctx.NameOfAccount(e.author_account_id) << "\n";
      if (!e.note.empty()) std::cout << "    " << e.note << "\n";
    }
  };
  std::cout << ctx.T("Mentor van ", "Mentor of ") << ctx.NameOf(s.young_person) << ": "
            << ctx.NameOf(s.mentor) << "\n"
            << ctx.T("Dit logboek lezen alleen de mentor, de jongere en de gespreksleider.",
                     "Only the mentor, the young person and the coordinator read this log.")
            << "\n";
  print("Contactmomenten met de mentor:", "Check-ins with the mentor:", s.checkins,
        "Nog geen contactmoment.", "No check-in yet.");
  print("Evaluaties (elke 2 maanden):", "Evaluations (every two months):", s.evaluations,
        "Nog geen evaluatie.", "No evaluation yet.");
  std::cout << ctx.T("Volgende evaluatie: ", "Next evaluation: ")
            << ShowTime(ctx, s.next_evaluation_ms) << "\n";
  return 0;
}

// ---- micro-analysis ----

std::optional<domain::Moment> MomentOf(const std::string& w) {
  if (w == "intake") return domain::Moment::kIntake;
  if (w == "review") return domain::Moment::kReview;
  return std::nullopt;
}

int WellBeing(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto moment = MomentOf(ctx.Pos(0));
  if (!moment) return BadInput(ctx, "Kies: intake of review.", "Choose: intake or review.");
  const std::optional<int64_t> score = ParseWholeNumber(ctx.positional[1], 0, 10);
  if (!score) {
    return BadInput(ctx, domain::UserText("micro.score_out_of_range", domain::Language::kDutch),
                    domain::UserText("micro.score_out_of_range", domain::Language::kEnglish));
  }
  auto at = ctx.Time("at", "now");
  if (!at.ok()) return Fail(at.status());
  Status s =
      FollowUp(ctx.client, ctx.case_id).RecordWellBeing(*moment, static_cast<int>(*score), *at);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Opgeslagen.", "Saved.");
}

// What ParseEuroCents lets through; the domain refuses amounts above its own limit.
constexpr int64_t kAnyAmount = 999'999'999;

int Cost(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto moment = MomentOf(ctx.Pos(0));
  if (!moment) return BadInput(ctx, "Kies: intake of review.", "Choose: intake or review.");
  const std::optional<int64_t> cents = ParseEuroCents(ctx.Get("euros"), kAnyAmount);
  if (!cents) {
    return BadInput(ctx, "--euros: schrijf het bedrag per maand in cijfers, zoals 250 of 12,50.",
                    "--euros: write the amount per month in figures, like 250 or 12.50.");
  }
  Status s = FollowUp(ctx.client, ctx.case_id).AddCostItem(*moment, ctx.Get("service"), *cents);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Opgeslagen.", "Saved.");
}

std::string Opt(const std::optional<int64_t>& v) { return v ? JNum(*v) : "null"; }
std::string Opt(const std::optional<int32_t>& v) { return v ? JNum(*v) : "null"; }

int MicroShow(Ctx& ctx) {
  auto m = FollowUp(ctx.client, ctx.case_id).Micro();
  if (!m.ok()) return Fail(m.status());
  if (ctx.json) {
    PrintJson(JObj({{"wellbeing_before", Opt(m->wellbeing_before)},
                    {"wellbeing_after", Opt(m->wellbeing_after)},
                    {"wellbeing_delta", Opt(m->wellbeing_delta)},
                    {"cost_before_cents", Opt(m->cost_before_cents)},
                    {"cost_after_cents", Opt(m->cost_after_cents)},
                    {"cost_delta_cents", Opt(m->cost_delta_cents)}}));
    return 0;
  }
  auto num = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
  auto eur = [&ctx](const std::optional<int64_t>& v) {
    return v ? ShowEuros(*v, ctx.english()) : std::string("-");
  };
  std::cout << ctx.T("Welzijn (0-10): voor ", "Well-being (0-10): before ")
            << num(m->wellbeing_before) << ctx.T(", na ", ", after ") << num(m->wellbeing_after)
            << "\n"
            << ctx.T("Kosten per maand: voor ", "Cost per month: before ")
            << eur(m->cost_before_cents) << ctx.T(", na ", ", after ") << eur(m->cost_after_cents)
            << "\n";
  return 0;
}

}  // namespace

const std::vector<Verb>& FollowUpVerbs() {
  static const std::vector<Verb> verbs = {
      {"check",
       "in",
       "[--at TIJD] [--note T]",
       "Leg de check na 4 weken vast (gespreksleider)",
       "Record the 4-week check-in (coordinator)",
       {"at", "note"},
       {},
       CheckIn},
      {"check",
       "six-week",
       "[--at TIJD] [--assess AFSPRAAK=klaar|deels|niet-gedaan|loopt-vast ...]\n"
       "      [--obstacle [AFSPRAAK=]T --obstacle-owner [AFSPRAAK=]PERSOON --new-due "
       "[AFSPRAAK=]TIJD]\n"
       "      [--outcome doorgaan|aanpassen|vervolgberaad] [--note T]",
       "Leg de zes-wekencheck vast (zonder --assess blijft een afspraak zoals hij staat)",
       "Record the six-week check (without --assess an agreement stays as it is)",
       {"at", "assess", "obstacle", "obstacle-owner", "new-due", "outcome", "note"},
       {},
       SixWeek},
      {"check",
       "show",
       "",
       "Toon de laatste check en wat er nog komt",
       "Show the latest check and what is coming",
       {},
       {},
       CheckShow},
      {"mentor",
       "designate",
       "--young PERSOON --mentor PERSOON --consent [--consent-by PERSOON] [--mentor-birth DATUM]",
       "Leg de mentor (JIM) van de jongere vast, met toestemming van een ouder",
       "Record the young person's mentor (JIM), with a parent's consent",
       {"young", "mentor", "consent-by", "mentor-birth"},
       {"consent"},
       Designate},
      {"mentor",
       "checkin",
       "[--at TIJD] [--note T]",
       "Leg een contactmoment met de mentor vast",
       "Record a check-in with the mentor",
       {"at", "note"},
       {},
       MentorCheckIn},
      {"mentor",
       "evaluate",
       "[--at TIJD] [--note T]",
       "Leg de evaluatie (elke 2 maanden) vast",
       "Record the (two-monthly) evaluation",
       {"at", "note"},
       {},
       MentorEvaluate},
      {"mentor",
       "show",
       "",
       "Toon de mentor en de volgende evaluatie",
       "Show the mentor and the next evaluation",
       {},
       {},
       MentorShow},
      {"mentor",
       "list",
       "",
       "Toon alle contactmomenten en evaluaties, met wie ze vastlegde",
       "Show every check-in and evaluation, with who recorded it",
       {},
       {},
       MentorList},
      {"micro",
       "wellbeing",
       "intake|review CIJFER(0-10) [--at TIJD]",
       "Welzijn van de bewoner bij de start of bij de check",
       "Resident's well-being at start or check",
       {"at"},
       {},
       WellBeing,
       2},
      {"micro",
       "cost",
       "intake|review --service T --euros BEDRAG",
       "Kosten van hulp per maand",
       "Monthly cost of a service",
       {"service", "euros"},
       {},
       Cost,
       1},
      {"micro", "show", "", "Toon de micro-analyse", "Show the micro-analysis", {}, {}, MicroShow},
  };
  return verbs;
}

}  // namespace kring::cli
