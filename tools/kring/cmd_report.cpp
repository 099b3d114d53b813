// kring report team: the anonymous team report over the cases this coordinator works on (DOMAIN
// 8, F6), as text, CSV or JSON; computed on this device, no names, ids or free text.
#include <unistd.h>

#include <iostream>

#include "kring/domain/case_figures.h"
#include "kring/domain/team_report.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "terminal_text.h"

namespace kring::cli {
namespace {

int Team(Ctx& ctx) {
  auto from = ctx.Time("from", "now-365d");
  if (!from.ok()) return Fail(from.status());
  // "--to 2026-12-31" includes the 31st.
  auto to = ParseEndTime(ctx.Get("to", "now+1d"));
  if (!to.ok()) {
    return Fail(Status(to.status().code(), "--to: " + Explain(to.status().message())));
  }
  // A person at a terminal reads text; a script or a file gets CSV, as before.
  const std::string format =
      ctx.json ? "json" : ctx.Get("format", isatty(STDOUT_FILENO) ? "tekst" : "csv");
  const bool text = format == "tekst" || format == "text";
  if (!text && format != "csv" && format != "json") {
    return BadInput(ctx, "--format: tekst, csv of json", "--format: text, csv or json");
  }
  auto cases = domain::CoordinatedCaseFigures(ctx.client);
  if (!cases.ok()) return Fail(cases.status());
  if (cases->empty()) {
    std::cerr << ctx.T(
                     "Je bent in geen casus op dit apparaat gespreksleider. Het rapport telt "
                     "alleen casussen waarin jij gespreksleider bent.",
                     "You are the coordinator of no case on this device. The report counts "
                     "only cases in which you are the coordinator.")
              << "\n";
  }
  auto report = domain::ComputeTeamReport(*cases, {*from, *to});
  if (!report.ok()) return Fail(report.status());
  // The CSV ends its rows in CRLF (RFC 4180); no export holds free text: the file as it is.
  if (text) {
    RawOut() << domain::TeamReportText(*report, ctx.lang);
  } else if (format == "json") {
    RawOut() << domain::TeamReportJson(*report) << "\n";
  } else {
    RawOut() << domain::TeamReportCsv(*report, ctx.lang);
  }
  return 0;
}

}  // namespace

const std::vector<Verb>& ReportVerbs() {
  static const std::vector<Verb> verbs = {
      {"report",
       "team",
       "[--from DATUM] [--to DATUM] [--format tekst|csv|json]",
       "Anoniem teamrapport over jouw casussen als gespreksleider (kleine aantallen verborgen;\n"
       "      tekst op het scherm, anders csv)",
       "Anonymous team report over your cases as coordinator (small numbers hidden; text on a\n"
       "      terminal, csv otherwise)",
       {"from", "to", "format"},
       {},
       Team},
  };
  return verbs;
}

}  // namespace kring::cli
