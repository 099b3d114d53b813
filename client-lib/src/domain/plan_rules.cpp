#include "domain/plan_rules.h"

#include <algorithm>
#include <string_view>

#include "kring/common/crypto.h"

#include "domain/organising_rules.h"
#include "domain/plan_model.h"
#include "domain/private_time.h"
#include "domain/rule_refusals.h"

namespace kring::domain {
namespace {

using namespace plan_model;  // NOLINT(google-build-using-namespace): one module's vocabulary
// organising_rules.h has its own spelling of these; the plan's are meant here.
using plan_model::BlobField;
using plan_model::TextField;

constexpr int64_t kMaxMonthlyCents = 100'000'000;  // 1 million euro a month: surely a typo

struct Rule {
  const v1::CaseState& state;
  const client::model::OpContext& ctx;
  ByteView author() const { return ctx.author_account_id; }
  bool chair() const { return IsChair(state, author()); }
  bool coordinator() const { return IsCoordinator(state, author()); }
  bool manager() const { return chair() || coordinator(); }
  bool creator(const v1::Entity& e) const {
    return ConstantTimeEqual(View(e.created_by_account_id()), author());
  }
  // Log entries are written once: only in the op that created them, by their creator.
  bool creating_op(const v1::Entity& e) const { return creator(e) && e.created_seq() == ctx.seq; }
  // A field written earlier in this same op (e.g. the obstacle before `blocked`).
  bool written_in_this_op(const v1::Entity& e, std::string_view field) const {
    auto it = e.fields().find(std::string(field));
    return it != e.fields().end() && client::model::WrittenInOp(it->second, ctx);
  }
  // The account speaks for this person: linked to it, or the coordinator acting for someone
  // without the app.
  bool speaks_for(const std::string& person_id) const {
    if (AccountIsPerson(state, author(), person_id)) return true;
    const v1::Entity* p = FindPerson(state, person_id);
    return p != nullptr && BlobField(*p, "account_id").empty() && coordinator();
  }
  bool matches_version(const v1::Entity& e, const v1::Value& hash) const {
    const v1::Entity* version = FindEntity(state, BlobField(e, "version_id"));
    if (version == nullptr || version->deleted() || version->type() != kPlanVersion ||
        version->scope_id() != 0 || !hash.has_blob()) {
      return false;
    }
    return ConstantTimeEqual(View(hash.blob()), PlanHash(*version));
  }
};

std::string CheckCreate(const Rule& r, const v1::CreateEntity& create) {
  const std::string_view type = create.type();
  if (type == kPlanAcceptance || type == kPlanSettings) {
    return r.chair() ? "" : plan_rule::kOnlyChair;
  }
  if (type == kProfessionalDecision) {
    return IsProfessionalAccount(r.state, r.author()) ? "" : plan_rule::kOnlyProfessional;
  }
  if (type == kPlanVersion || type == kPlanDetails) {
    // The plan is the resident's: a new version replaces it on every screen and on paper. The
    // network writes one only after its release in private time (DOMAIN step 4), once: the op
    // that makes its version names it in the meeting's `network_version`, written once (the
    // details, in their own op, just before).
    if (MayMakePlanVersion(r.state, r.author())) return {};
    const bool network = type == kPlanDetails
                             ? NetworkVersionOpen(r.state, r.author()) != nullptr
                             : NetworkMakesVersion(r.state, r.ctx, create.entity_id());
    if (network) return {};
    // The details of a second network release: refused for the reason its version op is (the
    // meeting's network_version), which is what its author is told after the sync.
    if (type == kPlanDetails && NetworkVersionMade(r.state, r.author())) {
      return rule::kNetworkVersionMade;
    }
    return plan_rule::kPlanVersion;
  }
  if (type == kCheckIn || type == kSixWeekCheck || type == kAssessment || type == kWellBeing ||
      type == kCostItem) {
    return r.manager() ? "" : plan_rule::kOnlyManagers;
  }
  return {};  // drafts, agreements, mentor entries: checked on their fields
}

// Field checks for entries written once (their creating op).
std::string CheckLogField(const Rule& r, const v1::Entity& e, const v1::SetField& f) {
  const std::string_view type = e.type();
  const v1::Value& v = f.value();
  if ((type == kPlanAcceptance || type == kProfessionalDecision) && f.field() == "hash") {
    return r.matches_version(e, v) ? "" : "plan: hash does not match the version";
  }
  if (type == kProfessionalDecision && f.field() == "person") {
    const v1::Entity* p = v.has_blob() ? FindPerson(r.state, v.blob()) : nullptr;
    if (p == nullptr || TextField(*p, "kind") != "professional" ||
        !AccountIsPerson(r.state, r.author(), v.blob())) {
      return plan_rule::kDecisionNotByThatProfessional;
    }
  }
  if (type == kProfessionalDecision && f.field() == "decision" && !IsDecision(v.text())) {
    return "plan: unknown decision";
  }
  if (type == kAssessment && f.field() == "result" && !IsOutcome(v.text())) {
    return "plan: unknown assessment";
  }
  if (type == kSixWeekCheck && f.field() == "outcome" && !IsCheckOutcome(v.text())) {
    return "plan: unknown check outcome";
  }
  if (type == kWellBeing && f.field() == "score" &&
      (!v.has_integer() || v.integer() < 0 || v.integer() > 10)) {
    return "plan: score out of range";
  }
  if (type == kCostItem && f.field() == "monthly_cents" &&
      (!v.has_integer() || v.integer() < 0 || v.integer() > kMaxMonthlyCents)) {
    return "plan: cost out of range";
  }
  if (type == kMentor && f.field() == "young_person") {
    return v.has_blob() && r.speaks_for(v.blob()) ? "" : plan_rule::kOnlyYoungPerson;
  }
  if ((type == kMentorCheckIn || type == kMentorEvaluation) && f.field() == "mentor_link") {
    const v1::Entity* link = v.has_blob() ? FindEntity(r.state, v.blob()) : nullptr;
    if (link == nullptr || link->type() != kMentor || link->scope_id() != 0) {
      return "plan: unknown mentor";
    }
    if (r.coordinator()) return {};
    if (AccountIsPerson(r.state, r.author(), BlobField(*link, "mentor"))) return {};
    if (type == kMentorEvaluation &&
        AccountIsPerson(r.state, r.author(), BlobField(*link, "young_person"))) {
      return {};
    }
    return plan_rule::kNotMentor;
  }
  return {};
}

// The release of a private time: the agreement was marked as the network's in `meeting`'s
// private time, the network has released it, and the writer is in that private time. Only its
// network then shares it (ReleaseDraft copies it and deletes the original), whoever wrote it: the
// creator may not be the one who releases. The agreement's scope must lie inside the private
// time's, so a marker cannot open someone else's agreement to deletion.
bool SharedAtRelease(const Rule& r, const v1::Entity& e) {
  const v1::Entity* meeting = FindEntity(r.state, BlobField(e, kAgreementPrivateTime));
  if (meeting == nullptr || meeting->deleted() ||
      !PrivateTimeHolds(r.state, *meeting, e.scope_id(), true)) {
    return false;
  }
  const auto scope = static_cast<uint32_t>(IntField(*meeting, "private_scope"));
  return IsNetworkAccount(r.state, r.author()) &&
         client::model::InScope(r.state, scope, r.author());
}

// The network member who wrote a private-time agreement edits the release's copy as its creator
// would (someone else of the network may have released it). Only a network member can be named:
// the rules cannot see the original, and a name gives rights to that person only.
bool NamedAuthor(const Rule& r, const v1::Entity& e) {
  const std::string author = BlobField(e, kAgreementAuthor);
  return !author.empty() && ConstantTimeEqual(View(author), r.author());
}

std::string CheckAgreement(const Rule& r, const v1::Entity& e, const v1::Mutation& m) {
  const bool editor = r.creator(e) || r.manager() || NamedAuthor(r, e);
  if (m.has_delete_entity() && MadeInPrivateTime(e) && SharedAtRelease(r, e)) return {};
  if (m.has_restore_entity() && MadeInPrivateTime(e)) {
    // Once released, the copy is the agreement: an original back would be read twice, and by
    // the network alone again.
    const v1::Entity* meeting = FindEntity(r.state, BlobField(e, kAgreementPrivateTime));
    if (meeting == nullptr || FlagField(*meeting, "draft_released")) {
      return "agreement: shared at the release";
    }
  }
  if (!m.has_set_field()) {
    // Sets (hidden_from), delete and restore belong to whoever may edit the agreement.
    return editor ? "" : plan_rule::kNotEditor;
  }
  const v1::SetField& f = m.set_field();
  const v1::Value& v = f.value();
  const std::string owner = BlobField(e, "owner");
  if (f.field() == kAgreementPrivateTime || f.field() == kAgreementCopyOf ||
      f.field() == kAgreementAuthor) {
    // Set once, by its creator as it is made, and only by the network: the markers name the
    // private time an agreement belongs to, or the original a copy stands for (an id others
    // would act on by it).
    if (!r.creating_op(e) || !v.has_blob() || e.fields().count(f.field()) != 0 ||
        !IsNetworkAccount(r.state, r.author())) {
      return "agreement: written once, as it is made";
    }
  }
  if (f.field() == kAgreementPrivateTime) {
    // Only on an agreement sealed inside that meeting's private scope.
    const v1::Entity* meeting = FindEntity(r.state, v.blob());
    if (v.blob().size() != crypto::kIdBytes || meeting == nullptr ||
        !PrivateTimeHolds(r.state, *meeting, e.scope_id(), false)) {
      return "agreement: not of this private time";
    }
    return {};
  }
  if (f.field() == kAgreementCopyOf) {
    // The release's copy: the original was made in the private scope of a meeting whose network
    // has released it (the release comes first in its batch). A copy_of naming anything else
    // would let anyone who reads a copy make a second agreement under the noted id.
    if (v.blob().size() != crypto::kIdBytes ||
        !AnyPrivateTimeHolds(r.state, ScopeOfEntityId(v.blob()), true)) {
      return "agreement: not a copy of a released agreement";
    }
    return {};
  }
  if (f.field() == kAgreementAuthor) {
    // On the release's copy only (its copy_of written first); a network member of the case.
    if (!r.written_in_this_op(e, kAgreementCopyOf) || !IsNetworkAccount(r.state, View(v.blob()))) {
      return "agreement: written once, as it is made";
    }
    return {};
  }
  if (f.field() == "accepted_hash") {
    if (!v.has_blob() || v.blob().size() != crypto::kHashBytes) return "agreement: bad hash";
    return !owner.empty() && r.speaks_for(owner) ? "" : plan_rule::kOnlyOwnerAccepts;
  }
  if (f.field() == "outcome" || f.field() == "obstacle" || f.field() == "obstacle_owner" ||
      f.field() == "new_due_ms" || f.field() == "outcome_note") {
    const std::string checker = BlobField(e, "checker");
    const bool allowed = r.manager() || (!owner.empty() && r.speaks_for(owner)) ||
                         (!checker.empty() && AccountIsPerson(r.state, r.author(), checker));
    if (!allowed) return plan_rule::kNotOwnerCheckerOrManager;
    if (f.field() == "outcome") {
      if (!v.has_text() || (!v.text().empty() && !IsOutcome(v.text()))) {
        return "agreement: unknown outcome";
      }
      // A blocked agreement carries, from the same edit, what blocks it, who removes the
      // obstacle and the new date.
      if (v.text() == "blocked" &&
          (!r.written_in_this_op(e, "obstacle") || TextField(e, "obstacle").empty() ||
           !r.written_in_this_op(e, "obstacle_owner") || BlobField(e, "obstacle_owner").empty() ||
           !r.written_in_this_op(e, "new_due_ms") || IntField(e, "new_due_ms") == 0)) {
        return "agreement: blocked without obstacle";
      }
    }
    return {};
  }
  return editor ? "" : plan_rule::kNotEditor;
}

}  // namespace

bool MayMakePlanVersion(const v1::CaseState& state, ByteView account_id) {
  if (IsProfessionalAccount(state, account_id)) return false;
  return IsChair(state, account_id) || IsCoordinator(state, account_id);
}

std::string CheckPlanRule(const v1::CaseState& state, const client::model::OpContext& ctx,
                          const v1::Mutation& mutation, const v1::Entity* target) {
  Rule r{state, ctx};
  if (mutation.has_create_entity()) {
    if (!IsPlanType(mutation.create_entity().type())) return {};
    return CheckCreate(r, mutation.create_entity());
  }
  const v1::Entity* e = target;
  if (e == nullptr || !IsPlanType(e->type())) return {};
  const std::string_view type = e->type();
  if (type == kPlanDraft) return {};  // its scope decides who may read and write it
  if (type == kPlanSettings) return r.chair() ? "" : plan_rule::kOnlyChair;
  if (type == kAgreement) return CheckAgreement(r, *e, mutation);
  // Everything else is a log entry: written once, in its creating op.
  if (!r.creating_op(*e)) return plan_rule::kWrittenOnce;
  if (mutation.has_delete_entity() || mutation.has_restore_entity()) {
    return plan_rule::kNotDeleted;
  }
  if (mutation.has_set_field()) return CheckLogField(r, *e, mutation.set_field());
  return {};
}

bool PrivateTimeHolds(const v1::CaseState& state, const v1::Entity& meeting, uint32_t scope_id,
                      bool released) {
  if (meeting.type() != kMeeting || meeting.scope_id() != 0 || scope_id == 0 ||
      (released && !FlagField(meeting, "draft_released"))) {
    return false;
  }
  const int64_t private_scope = IntField(meeting, "private_scope");
  auto held = state.scopes().find(scope_id);
  if (private_scope <= 0 || private_scope > UINT32_MAX || held == state.scopes().end()) {
    return false;
  }
  const auto scope = static_cast<uint32_t>(private_scope);
  return std::all_of(held->second.members().begin(), held->second.members().end(),
                     [&](const std::string& account) {
                       return client::model::InScope(state, scope, View(account));
                     });
}

bool AnyPrivateTimeHolds(const v1::CaseState& state, uint32_t scope_id, bool released) {
  return std::any_of(state.entities().begin(), state.entities().end(), [&](const auto& entry) {
    return PrivateTimeHolds(state, entry.second, scope_id, released);
  });
}

bool IsNetworkAccount(const v1::CaseState& state, ByteView account_id) {
  const v1::Member* member = client::model::FindMember(state, account_id);
  return member != nullptr && IsNetworkMember(state, *member);
}

uint32_t ScopeOfEntityId(std::string_view entity_id) {
  if (entity_id.size() < 4) return 0;
  uint32_t scope = 0;
  for (size_t i = 0; i < 4; ++i) scope = (scope << 8) | static_cast<uint8_t>(entity_id[i]);
  return scope;
}

}  // namespace kring::domain
