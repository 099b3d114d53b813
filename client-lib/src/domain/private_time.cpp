#include "domain/private_time.h"

#include "kring/common/crypto.h"
#include "kring/domain/organising.h"

#include "domain/organising_rules.h"
#include "domain/plan_model.h"
#include "model/reducer.h"

namespace kring::domain {
namespace {

// A meeting that is not deleted, cancelled or finished, with a private scope the account is in
// as a network member, in one of `phases` now.
bool NetworkMeeting(const v1::CaseState& state, const v1::Entity& e, ByteView account_id,
                    std::initializer_list<Phase> phases) {
  if (e.type() != kMeetingType || e.scope_id() != 0 || e.deleted()) return false;
  if (TextField(e, "status") == "cancelled" || FieldValue(e, "finished_at_ms") != nullptr) {
    return false;
  }
  bool in_phase = false;
  for (Phase p : phases) in_phase = in_phase || TextField(e, "phase") == PhaseName(p);
  if (!in_phase) return false;
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

// Released, in private time or (moved on before the network's version) the plan presentation.
bool ReleasedFor(const v1::CaseState& state, const v1::Entity& e, ByteView account_id) {
  return NetworkMeeting(state, e, account_id, {Phase::kPrivateTime, Phase::kPlanPresentation}) &&
         Released(e);
}

// Whether the network made a plan version since the meeting's private scope was set (which no one
// changes while the private time is open): a version by anyone but the chair or a coordinator.
// Only an old log's version, made without `network_version`, is found this way; pending ones
// (seq 0) count too.
bool NetworkMadeVersion(const v1::CaseState& state, const v1::Entity& meeting) {
  auto scope = meeting.fields().find("private_scope");
  const uint64_t since = scope == meeting.fields().end() ? 0 : scope->second.seq();
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != plan_model::kPlanVersion || e.scope_id() != 0) continue;
    if (e.created_seq() != 0 && e.created_seq() <= since) continue;
    const ByteView creator = View(e.created_by_account_id());
    if (!plan_model::IsChair(state, creator) && !plan_model::IsCoordinator(state, creator))
      return true;
  }
  return false;
}

bool VersionOpen(const v1::CaseState& state, const v1::Entity& e, ByteView account_id) {
  return ReleasedFor(state, e, account_id) && FieldValue(e, kNetworkVersionField) == nullptr &&
         !NetworkMadeVersion(state, e);
}

}  // namespace

bool InNetworkPrivateTime(const v1::CaseState& state, ByteView account_id) {
  if (!IsNetwork(state, account_id)) return false;
  for (const auto& [key, e] : state.entities()) {
    if (NetworkMeeting(state, e, account_id, {Phase::kPrivateTime})) return true;
  }
  return false;
}

const v1::Entity* NetworkVersionOpen(const v1::CaseState& state, ByteView account_id) {
  if (!IsNetwork(state, account_id)) return nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (VersionOpen(state, e, account_id)) return &e;
  }
  return nullptr;
}

bool NetworkVersionMade(const v1::CaseState& state, ByteView account_id) {
  if (!IsNetwork(state, account_id)) return false;
  for (const auto& [key, e] : state.entities()) {
    if (ReleasedFor(state, e, account_id) && !VersionOpen(state, e, account_id)) return true;
  }
  return false;
}

bool NetworkMakesVersion(const v1::CaseState& state, const client::model::OpContext& ctx,
                         std::string_view version_id) {
  const ByteView author = ctx.author_account_id;
  if (!IsNetwork(state, author)) return false;
  for (const auto& [key, e] : state.entities()) {
    if (!ReleasedFor(state, e, author)) continue;
    auto named = e.fields().find(kNetworkVersionField);
    if (named == e.fields().end()) {
      // An old log's plan release: before the meeting moved on, once.
      if (TextField(e, "phase") == PhaseName(Phase::kPrivateTime) &&
          !NetworkMadeVersion(state, e)) {
        return true;
      }
      continue;
    }
    const v1::Value& v = named->second.value();
    if (v.has_blob() && v.blob() == version_id && client::model::WrittenInOp(named->second, ctx)) {
      return true;
    }
  }
  return false;
}

bool MayNameNetworkVersion(const v1::CaseState& state, const v1::Entity& meeting,
                           ByteView account_id, const v1::Value& value) {
  return value.has_blob() && value.blob().size() == crypto::kIdBytes &&
         IsNetwork(state, account_id) && VersionOpen(state, meeting, account_id);
}

}  // namespace kring::domain
