#include "domain/private_time.h"

#include "kring/domain/organising.h"

#include "domain/organising_rules.h"
#include "model/reducer.h"

namespace kring::domain {

bool InNetworkPrivateTime(const v1::CaseState& state, ByteView account_id) {
  const v1::Member* member = client::model::FindMember(state, account_id);
  if (member == nullptr || !IsNetworkMember(state, *member)) return false;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kMeetingType || e.scope_id() != 0 || e.deleted()) continue;
    if (TextField(e, "phase") != "private_time" || TextField(e, "status") == "cancelled" ||
        FieldValue(e, "finished_at_ms") != nullptr) {
      continue;
    }
    const v1::Value* scope = FieldValue(e, "private_scope");
    if (scope == nullptr || !scope->has_integer() || scope->integer() <= 0) continue;
    if (client::model::InScope(state, static_cast<uint32_t>(scope->integer()), account_id)) {
      return true;
    }
  }
  return false;
}

}  // namespace kring::domain
