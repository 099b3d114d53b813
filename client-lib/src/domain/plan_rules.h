// Permission rules for the plan's entities (plan, agreements, follow-up, mentor, micro-analysis).
// Called by the reducer through model::CheckContentRule on every device, so a forbidden edit has
// no effect anywhere. Deterministic: reads only scope-0 state and the mutated entity, no clocks.
#pragma once

#include <string>

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

#include "model/reducer.h"

namespace kring::domain {

// Empty when the mutation is allowed or does not touch a plan entity; else a short reason code
// (no content).
// `target`: the entity the mutation changes in `state`, null for a create or when it does not
// exist.
std::string CheckPlanRule(const v1::CaseState& state, const client::model::OpContext& ctx,
                          const v1::Mutation& mutation, const v1::Entity* target);

// Who may make a plan version (and its details): the chair and the coordinators, and the network
// in its private time (its release of the draft); never a professional. The reducer's rule, and
// Plan::Publish asks it first for a clear refusal.
bool MayMakePlanVersion(const v1::CaseState& state, ByteView account_id);

}  // namespace kring::domain
