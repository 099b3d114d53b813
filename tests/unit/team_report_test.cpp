// Anonymous team report: figures checked against an independent computation in this test on
// generated case sets, small-number suppression at the 4/5 edge, period edges, validation, and
// the exact CSV (RFC 4180) and JSON output.
#include "kring/domain/team_report.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/domain/amsterdam_time.h"

using namespace kring;
using namespace kring::domain;

namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kFrom = 1767225600000;  // 2026-01-01T00:00Z
constexpr int64_t kTo = 1769904000000;    // 2026-02-01T00:00Z
const ReportPeriod kJanuary{kFrom, kTo};

CaseFigures Held(int64_t meeting, int64_t lead_days) {
  CaseFigures c;
  c.meeting_held = true;
  c.meeting_utc_ms = meeting;
  c.referral_utc_ms = meeting - lead_days * kDay;
  return c;
}

std::vector<CaseFigures> HeldCases(int n) {
  std::vector<CaseFigures> cases;
  for (int i = 0; i < n; ++i) cases.push_back(Held(kFrom + (i + 1) * kDay, 10));
  return cases;
}

TeamReport Compute(const std::vector<CaseFigures>& cases, ReportPeriod period = kJanuary) {
  auto r = ComputeTeamReport(cases, period);
  REQUIRE(r.ok());
  return r.value();
}

// ---- The independent computation: plain loops over the same definitions, written from the
// header's description, in integers where possible. ----
struct Expected {
  int held = 0, spoed = 0, accepted = 0;
  std::vector<int64_t> leads;
  int agreement_cases = 0;
  long assessed = 0, done = 0;
  int wb_cases = 0;
  long wb_sum = 0;
  int cost_cases = 0;
  long long cost_sum = 0;
};

Expected Independent(const std::vector<CaseFigures>& cases, ReportPeriod p) {
  Expected e;
  for (const CaseFigures& c : cases) {
    if (!c.meeting_held) continue;
    const int64_t m = c.meeting_utc_ms.value();
    if (m < p.from_utc_ms || m >= p.to_utc_ms) continue;
    e.held++;
    e.spoed += c.spoed ? 1 : 0;
    e.accepted += c.plan_accepted ? 1 : 0;
    if (c.referral_utc_ms.has_value()) e.leads.push_back(m - c.referral_utc_ms.value());
    if (c.agreements_assessed != 0) {
      e.agreement_cases++;
      e.assessed += c.agreements_assessed;
      e.done += c.agreements_done;
    }
    if (c.wellbeing_before.has_value() && c.wellbeing_after.has_value()) {
      e.wb_cases++;
      e.wb_sum += c.wellbeing_after.value() - c.wellbeing_before.value();
    }
    if (c.cost_before_cents.has_value() && c.cost_after_cents.has_value()) {
      e.cost_cases++;
      e.cost_sum += c.cost_after_cents.value() - c.cost_before_cents.value();
    }
  }
  return e;
}

double Median(std::vector<int64_t> v) {
  // Insertion sort, deliberately unlike the code under test.
  for (size_t i = 1; i < v.size(); ++i) {
    for (size_t j = i; j > 0 && v[j - 1] > v[j]; --j) std::swap(v[j - 1], v[j]);
  }
  const size_t n = v.size();
  return n % 2 == 1 ? static_cast<double>(v[n / 2])
                    : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2.0;
}

void CheckCell(const ReportCell& cell, bool shown, double value, int cases, const char* what) {
  INFO(what);
  if (!shown) {
    CHECK(cell.suppressed());
    CHECK_FALSE(cell.cases.has_value());
    return;
  }
  REQUIRE_FALSE(cell.suppressed());
  CHECK(*cell.value == Approx(value).epsilon(1e-9).margin(1e-9));
  REQUIRE(cell.cases.has_value());
  CHECK(*cell.cases == static_cast<uint32_t>(cases));
}

void CheckAgainstIndependent(const std::vector<CaseFigures>& cases, ReportPeriod p) {
  const TeamReport r = Compute(cases, p);
  const Expected e = Independent(cases, p);
  CheckCell(r.beraden_held, e.held >= 5, e.held, e.held, "held");
  CheckCell(r.spoed_count, e.spoed >= 5, e.spoed, e.spoed, "spoed");
  const int lead_cases = static_cast<int>(e.leads.size());
  CheckCell(r.median_lead_time_days, lead_cases >= 5, lead_cases ? Median(e.leads) / kDay : 0,
            lead_cases, "median");
  CheckCell(r.plan_accepted_percent, e.held >= 5, e.held ? 100.0 * e.accepted / e.held : 0, e.held,
            "accepted");
  CheckCell(r.agreements_done_percent, e.agreement_cases >= 5,
            e.assessed ? 100.0 * static_cast<double>(e.done) / static_cast<double>(e.assessed) : 0,
            e.agreement_cases, "agreements");
  CheckCell(r.mean_wellbeing_delta, e.wb_cases >= 5,
            e.wb_cases ? static_cast<double>(e.wb_sum) / e.wb_cases : 0, e.wb_cases, "wellbeing");
  CheckCell(r.mean_cost_delta_cents, e.cost_cases >= 5,
            e.cost_cases ? static_cast<double>(e.cost_sum) / e.cost_cases : 0, e.cost_cases,
            "cost");
}

// Raw mt19937 output (fully specified by the standard), reduced by modulo.
struct Gen {
  std::mt19937 rng;
  explicit Gen(uint32_t seed) : rng(seed) {}
  int64_t Below(int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); }
  bool Coin(int percent) { return Below(100) < percent; }
};

std::vector<CaseFigures> Generate(uint32_t seed, int n) {
  Gen g(seed);
  std::vector<CaseFigures> cases;
  for (int i = 0; i < n; ++i) {
    CaseFigures c;
    c.spoed = g.Coin(30);
    // Meetings from mid-December to mid-February, so some fall outside January.
    const int64_t referral = kFrom - 60 * kDay + g.Below(80 * kDay);
    // Every tenth case was opened without a referral: it counts everywhere but in the lead
    // time. (Not drawn from the generator, so the other draws stay as they were.)
    if (i % 10 != 9) c.referral_utc_ms = referral;
    c.meeting_held = g.Coin(85);
    if (c.meeting_held || g.Coin(20)) {  // a planned meeting not (yet) held has a time too
      c.meeting_utc_ms = std::max(referral, kFrom - 15 * kDay) + g.Below(40 * kDay);
    }
    c.plan_accepted = c.meeting_held && g.Coin(70);
    if (g.Coin(75)) {
      c.agreements_assessed = static_cast<uint32_t>(g.Below(9));
      c.agreements_done = static_cast<uint32_t>(g.Below(c.agreements_assessed + 1));
    }
    if (g.Coin(70)) c.wellbeing_before = static_cast<int>(g.Below(11));
    if (g.Coin(70)) c.wellbeing_after = static_cast<int>(g.Below(11));
    if (g.Coin(60)) c.cost_before_cents = g.Below(500'000);
    if (g.Coin(60)) c.cost_after_cents = g.Below(500'000);
    cases.push_back(c);
  }
  return cases;
}

}  // namespace

TEST_CASE("generated case sets match an independent computation", "[team_report]") {
  int shown_medians = 0, hidden_medians = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    const int n = static_cast<int>(seed % 30) * 2 + static_cast<int>(seed % 3);  // 0..60
    INFO("seed " << seed << " cases " << n);
    const auto cases = Generate(seed, n);
    CheckAgainstIndependent(cases, kJanuary);
    CheckAgainstIndependent(cases, {kFrom - 30 * kDay, kTo + 30 * kDay});
    (Compute(cases).median_lead_time_days.suppressed() ? hidden_medians : shown_medians)++;
  }
  // The generator covers both sides of the suppression rule.
  CHECK(shown_medians > 10);
  CHECK(hidden_medians > 3);
}

TEST_CASE("counts under five are hidden, five is shown", "[team_report]") {
  TeamReport r = Compute(HeldCases(4));
  CHECK(r.beraden_held.suppressed());
  CHECK(r.median_lead_time_days.suppressed());
  CHECK(r.plan_accepted_percent.suppressed());
  r = Compute(HeldCases(5));
  CheckCell(r.beraden_held, true, 5, 5, "held 5");
  CheckCell(r.median_lead_time_days, true, 10, 5, "median 5");
  CheckCell(r.plan_accepted_percent, true, 0, 5, "accepted 0 of 5");
  CHECK(r.spoed_count.suppressed());  // zero is under five too

  auto cases = HeldCases(10);
  for (int i = 0; i < 4; ++i) cases[static_cast<size_t>(i)].spoed = true;
  CHECK(Compute(cases).spoed_count.suppressed());
  cases[4].spoed = true;
  CheckCell(Compute(cases).spoed_count, true, 5, 5, "spoed 5");
  CHECK(Compute({}).beraden_held.suppressed());
}

TEST_CASE("a figure from fewer than five cases is hidden, from five it is shown", "[team_report]") {
  auto cases = HeldCases(10);
  // Four cases with both well-being scores, the others with one or none.
  for (size_t i = 0; i < 4; ++i) {
    cases[i].wellbeing_before = 4;
    cases[i].wellbeing_after = 7;
    cases[i].cost_before_cents = 100'000;
    cases[i].cost_after_cents = 40'000;
    cases[i].agreements_assessed = 4;
    cases[i].agreements_done = 3;
  }
  cases[5].wellbeing_before = 1;  // only "before": does not count
  cases[6].cost_after_cents = 5;  // only "after": does not count
  TeamReport r = Compute(cases);
  CHECK(r.mean_wellbeing_delta.suppressed());
  CHECK(r.mean_cost_delta_cents.suppressed());
  CHECK(r.agreements_done_percent.suppressed());
  CheckCell(r.beraden_held, true, 10, 10, "held");

  cases[4].wellbeing_before = 8;
  cases[4].wellbeing_after = 3;
  cases[4].cost_before_cents = 0;
  cases[4].cost_after_cents = 0;
  cases[4].agreements_assessed = 4;
  cases[4].agreements_done = 0;
  r = Compute(cases);
  CheckCell(r.mean_wellbeing_delta, true, (4 * 3 - 5) / 5.0, 5, "wellbeing");
  CheckCell(r.mean_cost_delta_cents, true, (4 * -60'000) / 5.0, 5, "cost");
  CheckCell(r.agreements_done_percent, true, 100.0 * 12 / 20, 5, "agreements");
}

TEST_CASE("the period includes its start and not its end, on the meeting time", "[team_report]") {
  auto cases = HeldCases(4);
  cases.push_back(Held(kFrom, 3));      // on the start: in
  cases.push_back(Held(kTo, 3));        // on the end: out
  cases.push_back(Held(kFrom - 1, 3));  // just before: out
  CaseFigures planned = Held(kFrom + kDay, 3);
  planned.meeting_held = false;  // planned, not held: out
  cases.push_back(planned);
  CaseFigures referred;  // referred in January, no meeting yet: out
  referred.referral_utc_ms = kFrom + kDay;
  cases.push_back(referred);
  CheckCell(Compute(cases).beraden_held, true, 5, 5, "held");
  cases.push_back(Held(kTo - 1, 3));  // the last millisecond: in
  CheckCell(Compute(cases).beraden_held, true, 6, 6, "held");
}

TEST_CASE("median lead time: odd and even counts", "[team_report]") {
  std::vector<CaseFigures> cases;
  for (int64_t days : {30, 10, 20, 50, 40}) cases.push_back(Held(kFrom + kDay, days));
  CheckCell(Compute(cases).median_lead_time_days, true, 30, 5, "odd");
  cases.push_back(Held(kFrom + kDay, 0));  // same-day spoedberaad
  CheckCell(Compute(cases).median_lead_time_days, true, 25, 6, "even");
  cases.push_back(Held(kFrom + kDay + kDay / 2, 0));
  cases.back().referral_utc_ms = kFrom + kDay;  // half a day
  CheckCell(Compute(cases).median_lead_time_days, true, 20, 7, "fraction");
}

TEST_CASE("a case without a referral time counts everywhere except in the lead time",
          "[team_report]") {
  std::vector<CaseFigures> cases;
  for (int64_t days : {10, 20, 30, 40}) cases.push_back(Held(kFrom + kDay, days));
  CaseFigures no_referral = Held(kFrom + kDay, 0);
  no_referral.referral_utc_ms.reset();
  no_referral.plan_accepted = true;
  cases.push_back(no_referral);
  const TeamReport r = Compute(cases);
  CheckCell(r.beraden_held, true, 5, 5, "held");
  CheckCell(r.plan_accepted_percent, true, 20, 5, "accepted");
  CheckCell(r.median_lead_time_days, false, 0, 0, "median from 4 cases");
  cases.push_back(Held(kFrom + kDay, 50));
  CheckCell(Compute(cases).median_lead_time_days, true, 30, 5, "median from 5 of 6 cases");
}

TEST_CASE("invalid input is rejected with its key", "[team_report]") {
  auto key = [](std::vector<CaseFigures> cases, ReportPeriod p = kJanuary) {
    auto r = ComputeTeamReport(cases, p);
    return r.ok() ? std::string() : r.status().message();
  };
  CHECK(key({}, {kTo, kFrom}) == "report.bad_period");
  CHECK(key({}, {kFrom, kFrom}) == "report.bad_period");
  CHECK(key({}, {-1, kTo}) == "report.bad_period");
  CHECK(key({}, {kFrom, kMaxSupportedUtcMs + 1}) == "report.bad_period");
  CHECK(key(HeldCases(5)).empty());

  std::vector<CaseFigures> bad(1, Held(kFrom + kDay, 3));
  bad[0].meeting_utc_ms.reset();  // held without a time
  CHECK(key(bad) == "report.bad_case");
  bad = {Held(kFrom + kDay, -1)};  // meeting before referral
  CHECK(key(bad) == "report.bad_case");
  bad = {Held(kFrom + kDay, 3)};
  bad[0].agreements_assessed = 2;
  bad[0].agreements_done = 3;
  CHECK(key(bad) == "report.bad_case");
  bad[0].agreements_done = 0;
  bad[0].agreements_assessed = kMaxReportAgreements + 1;
  CHECK(key(bad) == "report.bad_case");
  bad = {Held(kFrom + kDay, 3)};
  bad[0].wellbeing_after = 11;
  CHECK(key(bad) == "report.bad_case");
  bad[0].wellbeing_after = -1;
  CHECK(key(bad) == "report.bad_case");
  bad = {Held(kFrom + kDay, 3)};
  bad[0].cost_before_cents = -5;
  CHECK(key(bad) == "report.bad_case");
  bad[0].cost_before_cents = kMaxReportCostCents + 1;
  CHECK(key(bad) == "report.bad_case");
  bad = {Held(kFrom + kDay, 3)};
  bad[0].referral_utc_ms = -kDay;
  CHECK(key(bad) == "report.bad_case");
  // A bad case outside the period still fails: garbage in is never silently dropped.
  bad = {Held(kTo + kDay, 3)};
  bad[0].agreements_done = 1;
  CHECK(key(bad) == "report.bad_case");
  CHECK(key(std::vector<CaseFigures>(kMaxReportCases + 1)) == "report.too_many_cases");

  for (const char* k : {"report.bad_period", "report.too_many_cases", "report.bad_case"}) {
    CHECK(HasUserText(k));
  }
}

namespace {

// Six meetings in January with known figures (see the expected output below).
std::vector<CaseFigures> KnownSet() {
  std::vector<CaseFigures> cases;
  const int64_t leads[] = {10, 12, 14, 20, 30, 40};
  for (int i = 0; i < 6; ++i) {
    CaseFigures c = Held(kFrom + (i + 2) * kDay, leads[i]);
    c.spoed = i < 2;
    c.plan_accepted = i != 3;
    cases.push_back(c);
  }
  const uint32_t assessed[] = {4, 2, 5, 3, 6, 0}, done[] = {3, 2, 1, 3, 6, 0};
  const int before[] = {3, 5, 6, 2, 8, -1}, after[] = {5, 6, 6, 5, 7, -1};
  for (size_t i = 0; i < 6; ++i) {
    cases[i].agreements_assessed = assessed[i];
    cases[i].agreements_done = done[i];
    if (before[i] >= 0) {
      cases[i].wellbeing_before = before[i];
      cases[i].wellbeing_after = after[i];
    }
    if (i < 4) {
      cases[i].cost_before_cents = 50'000;
      cases[i].cost_after_cents = 20'000;
    }
  }
  return cases;
}

}  // namespace

TEST_CASE("CSV export follows RFC 4180 with Dutch labels", "[team_report]") {
  const TeamReport r = Compute(KnownSet());
  const std::string expected =
      "figure,label,value,cases,status\r\n"
      "period_from,Vanaf,2026-01-01T00:00:00Z,,shown\r\n"
      "period_to,Tot,2026-02-01T00:00:00Z,,shown\r\n"
      "beraden_held,Aantal beraden,6,6,shown\r\n"
      "spoed_count,Aantal spoedberaden,,,suppressed\r\n"
      "median_lead_time_days,Dagen van aanmelding tot beraad (mediaan),17.0,6,shown\r\n"
      "plan_accepted_percent,Procent met een goedgekeurd plan,83.3,6,shown\r\n"
      "agreements_done_percent,Procent afspraken klaar bij de zes-wekencheck,75.0,5,shown\r\n"
      "mean_wellbeing_delta,\"Verschil in welzijn (gemiddeld, 0-10)\",1.00,5,shown\r\n"
      "mean_cost_delta_cents,\"Verschil in kosten per maand (gemiddeld, in centen)\",,,"
      "suppressed\r\n";
  CHECK(TeamReportCsv(r) == expected);
  const std::string en = TeamReportCsv(r, Language::kEnglish);
  CHECK(en.find("beraden_held,Meetings held,6,6,shown\r\n") != std::string::npos);
  CHECK(en.find("\"Change in well-being (mean, 0-10)\"") != std::string::npos);
  for (const char* k : {"report.period_from", "report.period_to", "report.beraden_held",
                        "report.spoed_count", "report.median_lead_time_days",
                        "report.plan_accepted_percent", "report.agreements_done_percent",
                        "report.mean_wellbeing_delta", "report.mean_cost_delta_cents"}) {
    CHECK(HasUserText(k));
  }
}

TEST_CASE("the text for a terminal: the period's days, values, cases and why some are hidden",
          "[team_report]") {
  const TeamReport r = Compute(KnownSet());
  // January 2026: the period ends (exclusive) at 1 February 00:00Z, 01:00 in Amsterdam.
  const std::string nl = TeamReportText(r);
  CHECK(nl.rfind("Teamrapport, vanaf 1-1-2026 tot en met 1-2-2026\n", 0) == 0);
  CHECK(nl.find("  Aantal beraden: 6 (6 casussen)\n") != std::string::npos);
  CHECK(nl.find("  Aantal spoedberaden: verborgen\n") != std::string::npos);
  CHECK(nl.find("  Procent met een goedgekeurd plan: 83,3 (6 casussen)\n") != std::string::npos);
  CHECK(nl.find("Verborgen: een aantal onder de 5") != std::string::npos);
  const std::string en = TeamReportText(r, Language::kEnglish);
  CHECK(en.find("  Percent with an accepted plan: 83.3 (6 cases)\n") != std::string::npos);
  CHECK(en.find("  Urgent meetings: hidden\n") != std::string::npos);
}

TEST_CASE("JSON export: figures, nulls for hidden cells, nothing else", "[team_report]") {
  auto cases = KnownSet();
  cases[4].cost_before_cents = 10'000;  // a fifth cost case: -30000 * 4 + 0 = -120000 / 5
  cases[4].cost_after_cents = 10'000;
  const std::string expected =
      "{\"period\":{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-02-01T00:00:00Z\"},"
      "\"min_cell\":5,\"figures\":{"
      "\"beraden_held\":{\"value\":6,\"cases\":6,\"status\":\"shown\"},"
      "\"spoed_count\":{\"value\":null,\"cases\":null,\"status\":\"suppressed\"},"
      "\"median_lead_time_days\":{\"value\":17.0,\"cases\":6,\"status\":\"shown\"},"
      "\"plan_accepted_percent\":{\"value\":83.3,\"cases\":6,\"status\":\"shown\"},"
      "\"agreements_done_percent\":{\"value\":75.0,\"cases\":5,\"status\":\"shown\"},"
      "\"mean_wellbeing_delta\":{\"value\":1.00,\"cases\":5,\"status\":\"shown\"},"
      "\"mean_cost_delta_cents\":{\"value\":-24000,\"cases\":5,\"status\":\"shown\"}}}";
  CHECK(TeamReportJson(Compute(cases)) == expected);
}

TEST_CASE("exports carry only fixed names and numbers", "[team_report]") {
  for (uint32_t seed = 100; seed < 110; ++seed) {
    const TeamReport r = Compute(Generate(seed, 40));
    for (char c : TeamReportJson(r)) {
      const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           std::string_view("{}[]:,.\"_-TZ").find(c) != std::string_view::npos;
      CHECK(allowed);
    }
    // Negative zero never shows ("-0.00" would read as a decline).
    CHECK(TeamReportJson(r).find("-0.0") == std::string::npos);
  }
}
