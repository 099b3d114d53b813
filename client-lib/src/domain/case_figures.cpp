#include "kring/domain/case_figures.h"

#include <optional>
#include <string>

#include "kring/domain/follow_up.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

#include "domain/organising_rules.h"
#include "domain/plan_model.h"

namespace kring::domain {

using plan_model::Field;
using plan_model::FlagField;
using plan_model::IntField;
using plan_model::TextField;

CaseFigures ComputeCaseFigures(const v1::CaseState& state) {
  CaseFigures f;
  const std::string held_field = std::string("phase_") + PhaseName(Phase::kInformation) + "_at_ms";
  std::optional<int64_t> referral;
  bool meeting_spoed = false;
  // The case's referral is its first (as the rules and GetReferral take it): a member's later
  // referral changes neither the case's spoed nor when it was referred.
  if (const v1::Entity* first = FirstReferral(state); first != nullptr && !first->deleted()) {
    f.spoed = FlagField(*first, "spoed");
    if (Field(*first, "referred_at_ms") != nullptr) referral = IntField(*first, "referred_at_ms");
  }
  for (const auto& [key, e] : state.entities()) {
    if (e.deleted()) continue;
    if (e.type() == kMeetingType && TextField(e, "status") != "cancelled" &&
        Field(e, held_field) != nullptr) {
      const int64_t at = IntField(e, "start_ms");
      if (!f.meeting_utc_ms || at < *f.meeting_utc_ms) {
        f.meeting_utc_ms = at;
        meeting_spoed = FlagField(e, "spoed");
      }
      f.meeting_held = true;
    }
  }
  f.spoed = f.spoed || meeting_spoed;
  if (referral && (!f.meeting_utc_ms || *referral <= *f.meeting_utc_ms)) {
    f.referral_utc_ms = referral;
  }
  for (const auto& [key, e] : state.entities()) {
    if (f.plan_accepted || e.type() != plan_model::kPlanVersion || e.deleted() ||
        e.scope_id() != 0) {
      continue;
    }
    f.plan_accepted = ReadAcceptance(state, ToBytes(e.entity_id())).accepted;
  }
  if (std::optional<SixWeekCheck> check = ReadLatestCheck(state)) {
    f.agreements_assessed = static_cast<uint32_t>(check->assessments.size());
    for (const AssessmentInput& a : check->assessments) {
      if (a.result == AgreementStatus::kDone) ++f.agreements_done;
    }
  }
  const MicroAnalysis micro = ReadMicroAnalysis(state);
  f.wellbeing_before = micro.wellbeing_before;
  f.wellbeing_after = micro.wellbeing_after;
  f.cost_before_cents = micro.cost_before_cents;
  f.cost_after_cents = micro.cost_after_cents;
  return f;
}

Result<std::vector<CaseFigures>> CoordinatedCaseFigures(const client::Client& client) {
  KRING_ASSIGN_OR_RETURN(client::AccountInfo me, client.Account());
  std::vector<CaseFigures> out;
  for (const Bytes& case_id : client.Cases()) {
    KRING_ASSIGN_OR_RETURN(v1::CaseState view, client.View(case_id));
    if (view.removed() || !plan_model::IsCoordinator(view, me.account_id)) continue;
    out.push_back(ComputeCaseFigures(view));
  }
  return out;
}

Result<TeamReport> TeamReportOfMyCases(const client::Client& client, const ReportPeriod& period) {
  KRING_ASSIGN_OR_RETURN(std::vector<CaseFigures> cases, CoordinatedCaseFigures(client));
  return ComputeTeamReport(cases, period);
}

Result<std::string> ExportTeamReport(const client::Client& client, const ReportPeriod& period,
                                     ReportFormat format, Language language) {
  KRING_ASSIGN_OR_RETURN(TeamReport report, TeamReportOfMyCases(client, period));
  return format == ReportFormat::kCsv ? TeamReportCsv(report, language) : TeamReportJson(report);
}

}  // namespace kring::domain
