// What a user is told when a content rule (model::CheckContentRule) refuses an edit: the rule's
// short code is for logs and tests; the user gets a stable text key that says who may do it.
#pragma once

#include <string>
#include <string_view>

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

// The text key (messages.cpp) for the refusal `rule` returned: a "rule." key or an existing
// domain key that says who may; "domain.not_allowed" for a rule without its own text (a
// malformed value, a new rule). Empty when `rule` is empty (allowed).
std::string RefusalKey(std::string_view rule);

// An account that accepted its invitation but waits for the chair's approval: no member yet, so
// every rule refuses its writes. This device marks the case as waiting from the acceptance on; a
// view that has the log since shows the accepted invitation.
bool WaitingForApproval(const v1::CaseState& view, ByteView me);
// The key for `rule`'s refusal of a write by `me`: "member.waiting_approval" for an account that
// waits for approval (it may do this once approved, or is then told who may), else
// RefusalKey(rule). Empty when `rule` is empty.
std::string RefusalKeyFor(const v1::CaseState& view, ByteView me, std::string_view rule);

// The organising rules' refusal codes (organising_rules.cpp returns them; RefusalKey maps them).
namespace rule {
inline constexpr char kDenied[] = "organising: not allowed";  // malformed: no text of its own
// No member (yet): the caller, which knows whether the account waits for approval, says which.
inline constexpr char kNotAMember[] = "organising: author is not a member";
inline constexpr char kManagers[] = "organising: chair or coordinator";
inline constexpr char kCoordinator[] = "organising: coordinator";
inline constexpr char kChair[] = "organising: chair";
inline constexpr char kOwnClass[] = "organising: own kind";
inline constexpr char kAccountInUse[] = "organising: account in use";
inline constexpr char kResidentStays[] = "organising: resident stays";
inline constexpr char kChairLink[] = "organising: chair link";
inline constexpr char kApprovedEntry[] = "organising: approved entry";
inline constexpr char kProposedEntry[] = "organising: proposed entry";
inline constexpr char kFixed[] = "organising: fixed";
inline constexpr char kContact[] = "organising: contact";
inline constexpr char kPollAnswer[] = "organising: poll answer";
inline constexpr char kAbsentView[] = "organising: absent view";
inline constexpr char kFinished[] = "organising: meeting finished";
inline constexpr char kCancelled[] = "organising: meeting cancelled";
inline constexpr char kNotStarted[] = "organising: meeting not started";
inline constexpr char kPhaseOrder[] = "organising: phase order";
inline constexpr char kNotPrivateTime[] = "organising: not private time";
inline constexpr char kNetworkReleases[] = "organising: network releases";
inline constexpr char kNotInPrivateTime[] = "organising: not in private time";
inline constexpr char kPrivateTimeOpen[] = "organising: private time open";
// The meeting's `network_version` by anyone but a network member in its released private time
// whose network has made no version yet (it is written once).
inline constexpr char kNetworkVersionMade[] = "organising: network version made";
inline constexpr char kNote[] = "organising: note";
inline constexpr char kNoteWritten[] = "organising: note written once";
inline constexpr char kTooManyNotes[] = "organising: too many notes";
inline constexpr char kFirstReferral[] = "organising: first referral";
inline constexpr char kFirstReferralStays[] = "organising: first referral stays";
inline constexpr char kReferral[] = "organising: referral";
inline constexpr char kSpoed[] = "organising: spoed";
inline constexpr char kSecondResident[] = "organising: second resident";
inline constexpr char kReferralResident[] = "organising: referral names another resident";
inline constexpr char kFirstReferralResident[] = "organising: first referral's resident";
inline constexpr char kReferrerResident[] = "organising: referrer resident";
}  // namespace rule

// The one key of every call only the chair or a coordinator may make.
inline constexpr char kManagersOnly[] = "refused.managers_only";

}  // namespace kring::domain
