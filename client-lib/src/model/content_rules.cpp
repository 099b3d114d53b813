#include "model/content_rules.h"

#include "domain/organising_rules.h"

namespace kring::client::model {

std::string CheckContentRule(const v1::CaseState& state, const OpContext& ctx,
                             const v1::Mutation& mutation) {
  // Generic entities (the foundation's model) are open to every member; the domain's typed
  // entities add their rules here.
  if (std::string r = domain::CheckOrganisingRule(state, ctx, mutation); !r.empty()) return r;
  return {};
}

}  // namespace kring::client::model
