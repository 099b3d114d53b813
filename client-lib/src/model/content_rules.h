// Who may write what in a case's content: the netwerkberaad's permission rules (only the chair
// approves a person, a professional cannot edit a relative's entries, ...). The reducer asks
// before it applies each mutation, on every device, so a violation has no effect anywhere, even
// when a modified client sends it. Rules may only depend on state every reader of the mutation
// has: scope 0 and the mutated entity's own scope.
#pragma once

#include <string>

#include "kring/v1/model.pb.h"

#include "model/reducer.h"

namespace kring::client::model {

// An empty string when `mutation` by ctx.author_account_id is allowed in `state`, else a short
// reason code (no content) for logs and tests; the domain turns it into the key a user is shown,
// which says who may (domain::RefusalKey, domain/rule_refusals.h).
std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation);
// The same, for a caller that has looked up the entity `mutation` changes already: `target` is
// that entity in `state`, null for a create or an entity that does not exist.
std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation, const v1::Entity* target);

}  // namespace kring::client::model
