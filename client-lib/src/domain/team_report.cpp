#include "kring/domain/team_report.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <string_view>

#include "kring/domain/amsterdam_time.h"

namespace kring::domain {
namespace {

constexpr double kMsPerDay = 86'400'000.0;

// A count cell: hidden under the minimum (the count is its own basis).
ReportCell CountCell(uint32_t count) {
  if (count < kMinReportCell) return {};
  return {static_cast<double>(count), count};
}

// A computed figure: hidden when fewer than the minimum number of cases feed it.
ReportCell FigureCell(double value, uint32_t cases) {
  if (cases < kMinReportCell) return {};
  return {value, cases};
}

Status CheckCase(const CaseFigures& c) {
  const bool bad =
      (c.referral_utc_ms && !IsSupportedUtcMs(*c.referral_utc_ms)) ||
      (c.meeting_held && !c.meeting_utc_ms) ||
      (c.meeting_utc_ms && !IsSupportedUtcMs(*c.meeting_utc_ms)) ||
      (c.meeting_utc_ms && c.referral_utc_ms && *c.meeting_utc_ms < *c.referral_utc_ms) ||
      c.agreements_assessed > kMaxReportAgreements || c.agreements_done > c.agreements_assessed ||
      (c.wellbeing_before && (*c.wellbeing_before < 0 || *c.wellbeing_before > 10)) ||
      (c.wellbeing_after && (*c.wellbeing_after < 0 || *c.wellbeing_after > 10)) ||
      (c.cost_before_cents &&
       (*c.cost_before_cents < 0 || *c.cost_before_cents > kMaxReportCostCents)) ||
      (c.cost_after_cents &&
       (*c.cost_after_cents < 0 || *c.cost_after_cents > kMaxReportCostCents));
  return bad ? InvalidArgument("report.bad_case") : Status();
}

struct Figure {
  std::string_view name;
  const ReportCell TeamReport::*cell;
  int decimals;
};

constexpr std::array<Figure, 7> kFigures = {{
    {"beraden_held", &TeamReport::beraden_held, 0},
    {"spoed_count", &TeamReport::spoed_count, 0},
    {"median_lead_time_days", &TeamReport::median_lead_time_days, 1},
    {"plan_accepted_percent", &TeamReport::plan_accepted_percent, 1},
    {"agreements_done_percent", &TeamReport::agreements_done_percent, 1},
    {"mean_wellbeing_delta", &TeamReport::mean_wellbeing_delta, 2},
    {"mean_cost_delta_cents", &TeamReport::mean_cost_delta_cents, 0},
}};

// Locale-independent fixed notation ("." decimal point whatever the process locale), no "-0".
std::string FormatNumber(double v, int decimals) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return "0";
  std::string s(buf, end);
  if (s.front() == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string IsoUtc(int64_t utc_ms) {
  const AmsterdamTime t = UtcCalendarTime(utc_ms);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvRow(std::initializer_list<std::string_view> fields) {
  std::string row;
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) row += ',';
    first = false;
    row += CsvField(f);
  }
  return row + "\r\n";
}

}  // namespace

Result<TeamReport> ComputeTeamReport(const std::vector<CaseFigures>& cases,
                                     const ReportPeriod& period) {
  if (period.from_utc_ms >= period.to_utc_ms || !IsSupportedUtcMs(period.from_utc_ms) ||
      period.to_utc_ms > kMaxSupportedUtcMs) {
    return InvalidArgument("report.bad_period");
  }
  if (cases.size() > kMaxReportCases) return InvalidArgument("report.too_many_cases");
  for (const CaseFigures& c : cases) KRING_RETURN_IF_ERROR(CheckCase(c));

  uint32_t held = 0, spoed = 0, accepted = 0;
  std::vector<int64_t> lead_ms;
  uint32_t agreement_cases = 0;
  uint64_t assessed = 0, done = 0;
  uint32_t wellbeing_cases = 0, cost_cases = 0;
  int64_t wellbeing_sum = 0, cost_sum = 0;
  for (const CaseFigures& c : cases) {
    if (!c.meeting_held || *c.meeting_utc_ms < period.from_utc_ms ||
        *c.meeting_utc_ms >= period.to_utc_ms) {
      continue;
    }
    ++held;
    if (c.spoed) ++spoed;
    if (c.plan_accepted) ++accepted;
    if (c.referral_utc_ms) lead_ms.push_back(*c.meeting_utc_ms - *c.referral_utc_ms);
    if (c.agreements_assessed > 0) {
      ++agreement_cases;
      assessed += c.agreements_assessed;
      done += c.agreements_done;
    }
    if (c.wellbeing_before && c.wellbeing_after) {
      ++wellbeing_cases;
      wellbeing_sum += *c.wellbeing_after - *c.wellbeing_before;
    }
    if (c.cost_before_cents && c.cost_after_cents) {
      ++cost_cases;
      cost_sum += *c.cost_after_cents - *c.cost_before_cents;
    }
  }

  TeamReport r;
  r.period = period;
  r.beraden_held = CountCell(held);
  r.spoed_count = CountCell(spoed);
  if (!lead_ms.empty()) {
    std::sort(lead_ms.begin(), lead_ms.end());
    const size_t mid = lead_ms.size() / 2;
    // Halves summed separately: no overflow, exact for whole milliseconds.
    const double median_ms = lead_ms.size() % 2 == 1 ? static_cast<double>(lead_ms[mid])
                                                     : static_cast<double>(lead_ms[mid - 1]) / 2 +
                                                           static_cast<double>(lead_ms[mid]) / 2;
    r.median_lead_time_days =
        FigureCell(median_ms / kMsPerDay, static_cast<uint32_t>(lead_ms.size()));
  }
  if (held > 0) {
    r.plan_accepted_percent = FigureCell(100.0 * accepted / held, held);
  }
  if (assessed > 0) {
    r.agreements_done_percent = FigureCell(
        100.0 * static_cast<double>(done) / static_cast<double>(assessed), agreement_cases);
  }
  if (wellbeing_cases > 0) {
    r.mean_wellbeing_delta =
        FigureCell(static_cast<double>(wellbeing_sum) / wellbeing_cases, wellbeing_cases);
  }
  if (cost_cases > 0) {
    r.mean_cost_delta_cents = FigureCell(static_cast<double>(cost_sum) / cost_cases, cost_cases);
  }
  return r;
}

std::string TeamReportCsv(const TeamReport& r, Language language) {
  std::string out = CsvRow({"figure", "label", "value", "cases", "status"});
  out += CsvRow({"period_from", UserText("report.period_from", language),
                 IsoUtc(r.period.from_utc_ms), "", "shown"});
  out += CsvRow({"period_to", UserText("report.period_to", language), IsoUtc(r.period.to_utc_ms),
                 "", "shown"});
  for (const Figure& f : kFigures) {
    const ReportCell& cell = r.*f.cell;
    const std::string label = UserText("report." + std::string(f.name), language);
    if (cell.suppressed()) {
      out += CsvRow({f.name, label, "", "", "suppressed"});
    } else {
      out += CsvRow({f.name, label, FormatNumber(*cell.value, f.decimals),
                     std::to_string(*cell.cases), "shown"});
    }
  }
  return out;
}

std::string TeamReportText(const TeamReport& r, Language language) {
  // The period as people read it: its first and last day in Amsterdam (`to` is exclusive).
  const auto day = [language](int64_t utc_ms) {
    const AmsterdamTime t = ToAmsterdam(utc_ms);
    char buf[16];
    if (language == Language::kDutch) {
      std::snprintf(buf, sizeof buf, "%d-%d-%04d", t.day, t.month, t.year);
    } else {
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
    }
    return std::string(buf);
  };
  std::string out = UserText("report.title", language) + ", " +
                    ToLower(UserText("report.period_from", language)) + " " +
                    day(r.period.from_utc_ms) + " " + UserText("report.until", language) + " " +
                    day(r.period.to_utc_ms - 1) + "\n";
  bool hidden = false;
  for (const Figure& f : kFigures) {
    const ReportCell& cell = r.*f.cell;
    out += "  " + UserText("report." + std::string(f.name), language) + ": ";
    if (cell.suppressed()) {
      hidden = true;
      out += UserText("report.hidden", language) + "\n";
      continue;
    }
    std::string value = FormatNumber(*cell.value, f.decimals);
    if (language == Language::kDutch) std::replace(value.begin(), value.end(), '.', ',');
    out += value + " (" + std::to_string(*cell.cases) + " " + UserText("report.cases", language) +
           ")\n";
  }
  if (hidden) out += UserText("report.hidden_note", language) + "\n";
  return out;
}

std::string TeamReportJson(const TeamReport& r) {
  // Every string written here is a fixed ASCII name or an ISO time: nothing needs escaping.
  std::string out = "{\"period\":{\"from\":\"" + IsoUtc(r.period.from_utc_ms) + "\",\"to\":\"" +
                    IsoUtc(r.period.to_utc_ms) +
                    "\"},\"min_cell\":" + std::to_string(kMinReportCell) + ",\"figures\":{";
  bool first = true;
  for (const Figure& f : kFigures) {
    const ReportCell& cell = r.*f.cell;
    if (!first) out += ',';
    first = false;
    // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on "x" + std::string.
    out += '"';
    out += f.name;
    out += "\":";
    if (cell.suppressed()) {
      out += "{\"value\":null,\"cases\":null,\"status\":\"suppressed\"}";
    } else {
      out += "{\"value\":" + FormatNumber(*cell.value, f.decimals) +
             ",\"cases\":" + std::to_string(*cell.cases) + ",\"status\":\"shown\"}";
    }
  }
  return out + "}}";
}

}  // namespace kring::domain
