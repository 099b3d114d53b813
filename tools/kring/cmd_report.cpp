// kring report team: the anonymous team report over the cases this coordinator works on (DOMAIN
// 8, F6), as CSV or JSON; computed on this device, no names, ids or free text.
#include <iostream>

#include "kring/domain/team_report.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "report_figures.h"

namespace kring::cli {
namespace {

int Team(Ctx& ctx) {
  auto from = ParseTime(ctx.Get("from", "now-365d"));
  if (!from.ok()) return Fail(from.status());
  auto to = ParseTime(ctx.Get("to", "now+1d"));
  if (!to.ok()) return Fail(to.status());
  const std::string format = ctx.json ? "json" : ctx.Get("format", "csv");
  if (format != "csv" && format != "json") {
    return BadInput(ctx, "--format: csv of json", "--format: csv or json");
  }
  auto figures = CoordinatedFigures(ctx.client);
  if (!figures.ok()) return Fail(figures.status());
  std::vector<domain::CaseFigures> cases;
  for (const Figures& f : *figures) {
    domain::CaseFigures c;
    c.meeting_held = f.meeting_held && f.meeting_ms.has_value();
    c.spoed = f.spoed;
    c.meeting_utc_ms = c.meeting_held ? f.meeting_ms : std::nullopt;
    // A referral dated after the meeting (a typing error) must not fail the whole report.
    c.referral_utc_ms = f.referral_ms.value_or(f.meeting_ms.value_or(0));
    if (c.meeting_utc_ms && c.referral_utc_ms > *c.meeting_utc_ms) {
      c.referral_utc_ms = *c.meeting_utc_ms;
    }
    c.plan_accepted = f.plan_accepted;
    c.agreements_assessed = static_cast<uint32_t>(std::max(0, f.agreements_assessed));
    c.agreements_done = static_cast<uint32_t>(std::max(0, f.agreements_done));
    c.wellbeing_before = f.wellbeing_before;
    c.wellbeing_after = f.wellbeing_after;
    c.cost_before_cents = f.cost_before_cents;
    c.cost_after_cents = f.cost_after_cents;
    cases.push_back(c);
  }
  auto report = domain::ComputeTeamReport(cases, {*from, *to});
  if (!report.ok()) return Fail(report.status());
  std::cout << (format == "json" ? domain::TeamReportJson(*report) + "\n"
                                 : domain::TeamReportCsv(*report, ctx.lang));
  return 0;
}

}  // namespace

const std::vector<Verb>& ReportVerbs() {
  static const std::vector<Verb> verbs = {
      {"report",
       "team",
       "[--from DATUM] [--to DATUM] [--format csv|json]",
       "Anoniem teamrapport over jouw casussen als gespreksleider (kleine aantallen verborgen)",
       "Anonymous team report over your cases as coordinator (small numbers hidden)",
       {"from", "to", "format"},
       {},
       Team},
  };
  return verbs;
}

}  // namespace kring::cli
