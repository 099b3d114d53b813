#include "domain/rule_refusals.h"

#include "domain/plan_rules.h"
#include "model/reducer.h"

namespace kring::domain {
namespace {

struct Mapping {
  std::string_view rule;
  std::string_view key;
};

// Grouped by who may: several rules with the same answer share a key. The plan rules' codes are
// plan_rules.h's constants.
constexpr Mapping kMappings[] = {
    {rule::kManagers, kManagersOnly},
    {rule::kCoordinator, "rule.coordinator_only"},
    {rule::kChair, "rule.chair_only"},
    {rule::kOwnClass, "rule.own_kind"},
    {rule::kAccountInUse, "person.account_in_use"},
    {rule::kResidentStays, "person.resident_stays"},
    {rule::kChairLink, "person.chair_link"},
    {rule::kApprovedEntry, "rule.approved_entry"},
    {rule::kProposedEntry, "rule.proposed_entry"},
    {rule::kFixed, "rule.fixed"},
    {rule::kContact, "rule.contact"},
    {rule::kPollAnswer, "rule.poll_answer"},
    {rule::kAbsentView, "rule.absent_view"},
    {rule::kFinished, "meeting.finished"},
    {rule::kCancelled, "meeting.cancelled"},
    {rule::kNotStarted, "meeting.not_started"},
    {rule::kPhaseOrder, "meeting.phase_order"},
    {rule::kNotPrivateTime, "meeting.not_private_time"},
    {rule::kNetworkReleases, "rule.network_releases"},
    {rule::kNotInPrivateTime, "rule.in_private_time_releases"},
    {rule::kPrivateTimeOpen, "rule.private_time_open"},
    {rule::kNetworkVersionMade, "plan.network_version_made"},
    {rule::kNote, "rule.meeting_note"},
    {rule::kNoteWritten, "rule.written_once"},
    {rule::kTooManyNotes, "meeting.too_many_notes"},
    {rule::kFirstReferral, "referral.first_by_organiser"},
    {rule::kFirstReferralStays, "rule.first_referral_stays"},
    {rule::kReferral, "rule.referral"},
    {rule::kSpoed, "rule.referral_spoed"},
    {rule::kSecondResident, "person.second_resident"},
    {rule::kReferralResident, "rule.referral_resident"},
    {rule::kFirstReferralResident, "rule.first_referral_resident"},
    {rule::kReferrerResident, "rule.referrer_resident"},
    // plan_rules.cpp
    {plan_rule::kOnlyChair, "rule.chair_only"},
    {plan_rule::kOnlyManagers, kManagersOnly},
    {plan_rule::kOnlyProfessional, "plan.not_professional"},
    {plan_rule::kDecisionNotByThatProfessional, "plan.not_professional"},
    {plan_rule::kPlanVersion, "rule.plan_version"},
    {plan_rule::kOnlyYoungPerson, "rule.mentor_designate"},
    {plan_rule::kNotMentor, "rule.mentor_only"},
    {plan_rule::kWrittenOnce, "rule.written_once"},
    {plan_rule::kNotDeleted, "rule.written_once"},
    {plan_rule::kNotEditor, "rule.agreement_editor"},
    {plan_rule::kOnlyOwnerAccepts, "agreement.not_owner"},
    {plan_rule::kNotOwnerCheckerOrManager, "rule.agreement_outcome"},
};

}  // namespace

std::string RefusalKey(std::string_view rule) {
  if (rule.empty()) return {};
  for (const Mapping& m : kMappings) {
    if (m.rule == rule) return std::string(m.key);
  }
  return "domain.not_allowed";
}

bool WaitingForApproval(const v1::CaseState& view, ByteView me) {
  if (view.pending_approval()) return true;
  if (client::model::FindMember(view, me) != nullptr) return false;
  for (const v1::InviteState& invite : view.invites()) {
    if (invite.status() == v1::InviteState::ACCEPTED &&
        ConstantTimeEqual(View(invite.accepted_by_account_id()), me)) {
      return true;
    }
  }
  return false;
}

std::string RefusalKeyFor(const v1::CaseState& view, ByteView me, std::string_view rule) {
  if (rule.empty()) return {};
  return WaitingForApproval(view, me) ? "member.waiting_approval" : RefusalKey(rule);
}

}  // namespace kring::domain
