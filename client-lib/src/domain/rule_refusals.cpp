#include "domain/rule_refusals.h"

namespace kring::domain {
namespace {

struct Mapping {
  std::string_view rule;
  std::string_view key;
};

// Grouped by who may: several rules with the same answer share a key. The plan rules' codes are
// plan_rules.cpp's literals.
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
    {rule::kPrivateTimeOpen, "rule.private_time_open"},
    {rule::kNote, "rule.meeting_note"},
    {rule::kNoteWritten, "rule.written_once"},
    {rule::kTooManyNotes, "meeting.too_many_notes"},
    {rule::kFirstReferral, "referral.first_by_organiser"},
    {rule::kFirstReferralStays, "rule.first_referral_stays"},
    {rule::kReferral, "rule.referral"},
    {rule::kSpoed, "rule.referral_spoed"},
    // plan_rules.cpp
    {"plan: only the chair", "rule.chair_only"},
    {"plan: only the chair or coordinator", kManagersOnly},
    {"plan: only a professional", "plan.not_professional"},
    {"plan: decision not by that professional", "plan.not_professional"},
    {"plan: not by a professional", "plan.network_only"},
    {"plan: only the young person", "rule.mentor_designate"},
    {"plan: not the mentor", "rule.mentor_only"},
    {"plan: entry is written once", "rule.written_once"},
    {"plan: entry cannot be deleted", "rule.written_once"},
    {"agreement: not an editor", "rule.agreement_editor"},
    {"agreement: only the owner accepts", "agreement.not_owner"},
    {"agreement: not owner, checker or manager", "rule.agreement_outcome"},
};

}  // namespace

std::string RefusalKey(std::string_view rule) {
  if (rule.empty()) return {};
  for (const Mapping& m : kMappings) {
    if (m.rule == rule) return std::string(m.key);
  }
  return "domain.not_allowed";
}

}  // namespace kring::domain
