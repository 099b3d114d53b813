#include "model/content_rules.h"

#include "domain/plan_rules.h"

namespace kring::client::model {

std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation) {
  // Generic entities (the foundation's model) are open to every member; the domain's typed
  // entities add their rules here.
  if (std::string denied = domain::CheckPlanRule(state, ctx, mutation); !denied.empty()) {
    return denied;
  }
  return {};
}

}  // namespace kring::client::model
