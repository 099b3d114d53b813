// Who may write what in the organising entities (person, contact, referral, pre-talks, poll,
// answers, meeting). Called by model::CheckContentRule on every device, so a forbidden edit has no
// effect anywhere. Depends only on scope-0 entities, the case's members and scopes, and the
// mutated entity itself; no clocks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

#include "domain/plan_model.h"
#include "model/reducer.h"

namespace kring::domain {

// Empty when allowed or when the mutation is not about an organising entity; else a reason code.
// `target`: the entity the mutation changes in `state`, null for a create or when it does not
// exist.
std::string CheckOrganisingRule(const v1::CaseState& state, const client::model::OpContext& ctx,
                                const v1::Mutation& mutation, const v1::Entity* target);

// Helpers shared with the API (organising.cpp), so it asks the same questions as the rules.
const v1::Entity* FindPersonEntity(const v1::CaseState& state, const std::string& person_id);
const v1::Entity* PersonOfAccount(const v1::CaseState& state, ByteView account_id);
// The case's first referral (the one that names the resident for good), or null.
const v1::Entity* FirstReferral(const v1::CaseState& state);
// The person whose circle it is, never taken out of it: named resident by the case's first
// referral, or linked to the chair's account; of kind "resident" only while no referral names
// the resident (the same rule as IsSecondResident, so a second resident never counts).
bool IsTheResident(const v1::CaseState& state, const v1::Entity& person);
// The case's first referral names a resident, and it is not `person`: `person` is not made
// resident (the reducer skips a kind "resident" for them).
bool IsSecondResident(const v1::CaseState& state, const v1::Entity& person);
// The person entered as the resident before any referral names one: of the live scope-0 persons
// of kind "resident" not declined nor left, the one linked to the chair's account, else an
// approved one, else one the chair or a coordinator entered, else the first by id; null when
// there is none. The only person a first referral may name when one was entered before its op
// (the reducer's rule), so a first referral made now names this person (SubmitReferral) rather
// than enter the resident again, which would leave two persons counted as the resident, neither
// removable.
const v1::Entity* EnteredResident(const v1::CaseState& state);
// The case's resident as one person, the same on every device: the person the first referral
// names, else EnteredResident. Null when there is none (or the person named is gone).
const v1::Entity* ResidentPerson(const v1::CaseState& state);
// The person's account_id names the chair: a link only the chair changes (CheckPerson).
bool IsLinkedToChair(const v1::CaseState& state, const v1::Entity& person);
// A member of the network: not a coordinator, and not linked to a professional/coordinator
// person. Members without a person entity are left out (the draft stays private by default).
bool IsNetworkMember(const v1::CaseState& state, const v1::Member& member);
// Who may make a case's first referral (which names the resident for good): the chair, a
// coordinator, or a member linked to an approved professional in the circle who has not left.
bool MayReferFirst(const v1::CaseState& state, ByteView account_id);
// In the scope of a meeting's private time that is still open (the network has not released its
// draft; cancelled or deleted meetings included): nobody in it is made coordinator, since a
// coordinator may not read the network's draft (DOMAIN.md F1).
bool InOpenPrivateTime(const v1::CaseState& state, ByteView account_id);
// This device's own policy on a control change, on top of the rules every device applies
// (model::CheckControlPermission, which the caller runs first so a refusal of permission comes
// first). Run when the change is queued and again when it is sealed against the state pulled since,
// so a promotion queued offline does not cross a private time started on another device meanwhile.
// Not a rule of the reducer: other devices cannot see why this device would refuse. Fails with
// kFailedPrecondition and a domain key ("role.in_private_time") as message.
Status CheckControlPolicy(const v1::CaseState& state, const v1::ControlIntent& intent);
// Approving an acceptance (Client::ApproveMember) links the account to the person the invitation
// was made for (Organising::InviteWithApp keeps the invite id on the person), in the same action:
// the edits Organising::LinkAccount makes, judged by the same rules for `approver`. Empty when
// the invitation was made for nobody in the circle, the person is linked to this account
// already, or the link is refused: the person is linked to another account, the account to
// another person, or the rules refuse the approver. `state` is the view in which the account
// still waits.
std::vector<v1::Mutation> InviteeLinkOnApproval(const v1::CaseState& state, ByteView approver,
                                                ByteView account);
// The field readers are plan_model's (one set for the whole domain): the same functions under
// these names, so a file that reads both vocabularies sees no second overload.
inline const v1::Value* FieldValue(const v1::Entity& e, std::string_view field) {
  return plan_model::Field(e, field);
}
using plan_model::BlobField;
using plan_model::TextField;

}  // namespace kring::domain
