#include "model/content_rules.h"

#include "domain/organising_rules.h"
#include "domain/plan_rules.h"

namespace kring::client::model {

std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation) {
  const v1::Entity* target = nullptr;
  if (!mutation.has_create_entity()) {
    const std::string* id = MutatedEntityId(mutation);
    if (id == nullptr) return {};
    auto it = state.entities().find(Hex(View(*id)));
    if (it != state.entities().end()) target = &it->second;
  }
  return CheckContentRule(state, ctx, mutation, target);
}

std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation, const v1::Entity* target) {
  // Generic entities (the foundation's model) are open to every member; the domain's typed
  // entities add their rules here. Each rule set ignores types it does not own.
  if (std::string denied = domain::CheckOrganisingRule(state, ctx, mutation, target);
      !denied.empty()) {
    return denied;
  }
  return domain::CheckPlanRule(state, ctx, mutation, target);
}

}  // namespace kring::client::model
