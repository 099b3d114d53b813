// Permission rules for the plan's entities (plan, agreements, follow-up, mentor, micro-analysis).
// Called by the reducer through model::CheckContentRule on every device, so a forbidden edit has
// no effect anywhere. Deterministic: reads only scope-0 state and the mutated entity, no clocks.
#pragma once

#include <string>

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

#include "model/reducer.h"

namespace kring::domain {

// The refusal codes of "who may" that rule_refusals.cpp turns into a user's key (the others, a
// malformed value, fall back to domain.not_allowed there).
namespace plan_rule {
inline constexpr char kOnlyChair[] = "plan: only the chair";
inline constexpr char kOnlyManagers[] = "plan: only the chair or coordinator";
inline constexpr char kOnlyProfessional[] = "plan: only a professional";
inline constexpr char kDecisionNotByThatProfessional[] = "plan: decision not by that professional";
// A plan version (and its details) by anyone but the chair, a coordinator or the network as it
// names it in its meeting's `network_version` (MayMakePlanVersion, NetworkMakesVersion).
inline constexpr char kPlanVersion[] = "plan: version not by this account";
inline constexpr char kOnlyYoungPerson[] = "plan: only the young person";
inline constexpr char kNotMentor[] = "plan: not the mentor";
inline constexpr char kWrittenOnce[] = "plan: entry is written once";
inline constexpr char kNotDeleted[] = "plan: entry cannot be deleted";
inline constexpr char kNotEditor[] = "agreement: not an editor";
inline constexpr char kOnlyOwnerAccepts[] = "agreement: only the owner accepts";
inline constexpr char kNotOwnerCheckerOrManager[] = "agreement: not owner, checker or manager";
}  // namespace plan_rule

// Empty when the mutation is allowed or does not touch a plan entity; else a short reason code
// (no content).
// `target`: the entity the mutation changes in `state`, null for a create or when it does not
// exist.
std::string CheckPlanRule(const v1::CaseState& state, const client::model::OpContext& ctx,
                          const v1::Mutation& mutation, const v1::Entity* target);

// Who may make a plan version (and its details) at any time: the chair and the coordinators, never
// a professional. The network makes one version after its meeting release
// (private_time.h, NetworkMakesVersion); Plan::Publish asks both first for a clear refusal.
bool MayMakePlanVersion(const v1::CaseState& state, ByteView account_id);
// The meeting's private time holds the restricted scope `scope_id`: every reader of that scope
// may read the meeting's private scope (it is that scope, or one cut from it by hidden_from).
// `released`: only once its network released it. A meeting deleted since still counts: its
// private scope and what was made in it remain.
bool PrivateTimeHolds(const v1::CaseState& state, const v1::Entity& meeting, uint32_t scope_id,
                      bool released);
// Some meeting's private time holds `scope_id` (as PrivateTimeHolds).
bool AnyPrivateTimeHolds(const v1::CaseState& state, uint32_t scope_id, bool released);
// The account is a current member of the case's network (not a coordinator or professional,
// not taken out of the circle): the ones private time belongs to.
bool IsNetworkAccount(const v1::CaseState& state, ByteView account_id);
// The scope an entity id was made in (its first 4 bytes, see model::NewEntityId).
uint32_t ScopeOfEntityId(std::string_view entity_id);

}  // namespace kring::domain
