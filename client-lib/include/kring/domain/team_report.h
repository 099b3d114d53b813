// Anonymous team report (DOMAIN 8, F6), computed on the coordinator's device from per-case
// figures and exported as CSV (RFC 4180) and JSON. Pure and thread-safe.
//
// Anonymity by construction: CaseFigures holds only flags, times and numbers (no names, ids or
// free text), and the exports hold only the figures below, the period and fixed labels.
//
// Which cases count: those whose meeting (beraad) was held inside the period [from, to). Every
// figure is computed over those cases:
//   beraden_held              number of such cases
//   spoed_count               how many of them were spoed
//   median_lead_time_days     median of (meeting - referral) in days, over the cases whose
//                             referral time is known
//   plan_accepted_percent     share with an accepted plan, in percent
//   agreements_done_percent   agreements done / agreements assessed at the six-week check, over
//                             the cases with at least one agreement assessed, in percent
//   mean_wellbeing_delta      mean of (after - before), cases with both scores (0-10)
//   mean_cost_delta_cents     mean of (after - before) monthly cost, cases with both amounts
//
// Small-number suppression (kMinReportCell = 5): a count under 5 (including 0) is hidden, and a
// figure computed from fewer than 5 cases is hidden, together with its number of cases. Hidden
// cells are exported as empty (CSV) / null (JSON) with status "suppressed". This stops a reader
// from recognising a single family from a small number. Limitation: a shown share over a shown
// base can still imply a small count (e.g. 2 of 12 accepted plans); the rule above is the one
// the domain asks for, and a report goes to the coordinators' own team.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kring/common/status.h"
#include "kring/domain/messages.h"

namespace kring::domain {

inline constexpr uint32_t kMinReportCell = 5;
inline constexpr size_t kMaxReportCases = 100'000;
inline constexpr uint32_t kMaxReportAgreements = 1000;          // per case
inline constexpr int64_t kMaxReportCostCents = 100'000'000'00;  // 100 million euro a month

// One case's figures: ComputeCaseFigures (case_figures.h) fills them from a case's state.
struct CaseFigures {
  bool meeting_held = false;
  bool spoed = false;
  // Absent when the case has no referral (a case opened without one) or its time is unknown;
  // such a case counts everywhere except in the lead time.
  std::optional<int64_t> referral_utc_ms;
  std::optional<int64_t> meeting_utc_ms;  // required when meeting_held; not before the referral
  bool plan_accepted = false;
  uint32_t agreements_assessed = 0;     // at the six-week check
  uint32_t agreements_done = 0;         // <= agreements_assessed
  std::optional<int> wellbeing_before;  // 0-10
  std::optional<int> wellbeing_after;
  std::optional<int64_t> cost_before_cents;  // monthly, >= 0
  std::optional<int64_t> cost_after_cents;
};

struct ReportPeriod {
  int64_t from_utc_ms = 0;  // inclusive
  int64_t to_utc_ms = 0;    // exclusive, > from
};

// One figure: its value and the number of cases it is computed from, both absent when hidden.
struct ReportCell {
  std::optional<double> value;
  std::optional<uint32_t> cases;
  bool suppressed() const { return !value.has_value(); }
};

struct TeamReport {
  ReportPeriod period;
  ReportCell beraden_held;
  ReportCell spoed_count;
  ReportCell median_lead_time_days;
  ReportCell plan_accepted_percent;
  ReportCell agreements_done_percent;
  ReportCell mean_wellbeing_delta;
  ReportCell mean_cost_delta_cents;
};

// Fails with "report.bad_period" (from >= to, outside the supported time range),
// "report.too_many_cases" or "report.bad_case" (an impossible combination of figures).
Result<TeamReport> ComputeTeamReport(const std::vector<CaseFigures>& cases,
                                     const ReportPeriod& period);

// CSV (RFC 4180: CRLF, a header row, fields quoted when needed), one row per figure:
//   figure,label,value,cases,status
// label is the UserText of "report.<figure>" in `language`; value uses "." as decimal point.
// The period comes first as two rows (period_from, period_to) with ISO 8601 UTC values.
std::string TeamReportCsv(const TeamReport& report, Language language = Language::kDutch);

// JSON: {"period":{"from":"...Z","to":"...Z"},"min_cell":5,"figures":{"beraden_held":
// {"value":12,"cases":12,"status":"shown"},"spoed_count":{"value":null,"cases":null,
// "status":"suppressed"},...}}. Machine-readable, so no labels.
std::string TeamReportJson(const TeamReport& report);
// For a person at a terminal: a title with the period's first and last day, one line per figure
// (label, value, number of cases, or "verborgen"), and a line saying why figures are hidden when
// any is. Labels and words in `language`; Dutch uses a decimal comma.
std::string TeamReportText(const TeamReport& report, Language language = Language::kDutch);

}  // namespace kring::domain
