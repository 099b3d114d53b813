#include "domain/private_time.h"

#include "kring/domain/organising.h"

#include "domain/organising_rules.h"
#include "model/reducer.h"

namespace kring::domain {
namespace {

// A meeting that is not deleted, cancelled or finished, with a private scope the account is in
// as a network member; `phase` is its phase now.
bool NetworkMeeting(const v1::CaseState& state, const v1::Entity& e, ByteView account_id,
                    const char* phase) {
  if (e.type() != kMeetingType || e.scope_id() != 0 || e.deleted()) return false;
  if (TextField(e, "phase") != phase || TextField(e, "status") == "cancelled" ||
      FieldValue(e, "finished_at_ms") != nullptr) {
    return false;
  }
  const v1::Value* scope = FieldValue(e, "private_scope");
  if (scope == nullptr || !scope->has_integer() || scope->integer() <= 0) return false;
  return client::model::InScope(state, static_cast<uint32_t>(scope->integer()), account_id);
}

bool IsNetwork(const v1::CaseState& state, ByteView account_id) {
  const v1::Member* member = client::model::FindMember(state, account_id);
  return member != nullptr && IsNetworkMember(state, *member);
}

bool Released(const v1::Entity& meeting) {
  const v1::Value* released = FieldValue(meeting, "draft_released");
  return released != nullptr && released->flag();
}

}  // namespace

bool InNetworkPrivateTime(const v1::CaseState& state, ByteView account_id) {
  if (!IsNetwork(state, account_id)) return false;
  for (const auto& [key, e] : state.entities()) {
    if (NetworkMeeting(state, e, account_id, "private_time")) return true;
  }
  return false;
}

const v1::Entity* ReleasedPrivateTime(const v1::CaseState& state, ByteView account_id) {
  if (!IsNetwork(state, account_id)) return nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (NetworkMeeting(state, e, account_id, "private_time") && Released(e)) return &e;
  }
  return nullptr;
}

const v1::Entity* PrivateTimeEndedInOp(const v1::CaseState& state, ByteView account_id,
                                       ByteView op_id) {
  if (op_id.empty() || !IsNetwork(state, account_id)) return nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (!NetworkMeeting(state, e, account_id, "plan_presentation") || !Released(e)) continue;
    // The meeting rule lets the network write this phase only from its released private time.
    auto phase = e.fields().find("phase");
    if (phase != e.fields().end() && phase->second.revision() == ToString(op_id)) return &e;
  }
  return nullptr;
}

}  // namespace kring::domain
