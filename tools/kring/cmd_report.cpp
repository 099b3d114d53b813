// kring report team: the anonymous team report over the cases this coordinator works on (DOMAIN
// 8, F6), as CSV or JSON; computed on this device, no names, ids or free text.
#include <iostream>

#include "kring/domain/case_figures.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "terminal_text.h"

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
  auto report = domain::ExportTeamReport(
      ctx.client, {*from, *to},
      format == "json" ? domain::ReportFormat::kJson : domain::ReportFormat::kCsv, ctx.lang);
  if (!report.ok()) return Fail(report.status());
  // CSV ends its rows in CRLF (RFC 4180) and holds no free text: the file as it is.
  RawOut() << *report << (format == "json" ? "\n" : "");
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
