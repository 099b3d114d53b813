#include "model/content_rules.h"

#include "domain/organising_rules.h"
#include "domain/plan_rules.h"

namespace kring::client::model {

std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation) {
  // Generic entities (the foundation's model) are open to every member; the domain's typed
  // entities add their rules here. Each rule set ignores types it does not own.
  if (std::string denied = domain::CheckOrganisingRule(state, ctx, mutation); !denied.empty()) {
    return denied;
  }
  return domain::CheckPlanRule(state, ctx, mutation);
}

}  // namespace kring::client::model
