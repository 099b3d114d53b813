#include "domain/plan_model.h"

#include <algorithm>
#include <utility>

#include "kring/common/crypto.h"

namespace kring::domain::plan_model {
namespace {

template <size_t N>
bool OneOf(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// Every field of the hash is framed as name, kind tag and value, so no two different contents
// share an encoding (an absent field and an empty text differ too).
void AddField(crypto::Hasher& h, const v1::Entity& e, std::string_view name) {
  h.Add(name);
  const v1::Value* v = Field(e, name);
  if (v == nullptr) {
    h.AddU64(0);
    return;
  }
  h.AddU64(static_cast<uint64_t>(v->kind_case()));
  switch (v->kind_case()) {
    case v1::Value::kText:
      h.Add(v->text());
      break;
    case v1::Value::kInteger:
      h.AddU64(static_cast<uint64_t>(v->integer()));
      break;
    case v1::Value::kFlag:
      h.AddU64(v->flag() ? 1 : 0);
      break;
    case v1::Value::kBlob:
      h.Add(v->blob());
      break;
    case v1::Value::kTimeMs:
      h.AddU64(static_cast<uint64_t>(v->time_ms()));
      break;
    case v1::Value::KIND_NOT_SET:
      break;
  }
}

}  // namespace

bool IsPlanType(std::string_view type) {
  static constexpr std::string_view kTypes[] = {
      kPlanDraft,    kPlanVersion,   kPlanDetails,      kPlanAcceptance, kProfessionalDecision,
      kPlanSettings, kAgreement,     kCheckIn,          kSixWeekCheck,   kAssessment,
      kMentor,       kMentorCheckIn, kMentorEvaluation, kWellBeing,      kCostItem};
  return OneOf(kTypes, type);
}

bool IsLifeDomain(std::string_view name) { return OneOf(kLifeDomains, name); }
std::string LifeDomainField(std::string_view domain) { return "domain_" + std::string(domain); }
bool IsAgreementContentField(std::string_view field) {
  return OneOf(kAgreementContentFields, field);
}
bool MadeInPrivateTime(const v1::Entity& agreement) {
  return !BlobField(agreement, kAgreementPrivateTime).empty();
}
bool IsOutcome(std::string_view s) { return OneOf(kOutcomes, s); }
bool IsOpenOutcome(std::string_view s) { return s != "done" && s != "dropped"; }
bool IsCheckOutcome(std::string_view s) { return OneOf(kCheckOutcomes, s); }
bool IsDecision(std::string_view s) { return OneOf(kDecisions, s); }

const v1::Entity* FindEntity(const v1::CaseState& state, const std::string& id) {
  auto it = state.entities().find(Hex(View(id)));
  return it == state.entities().end() ? nullptr : &it->second;
}

const v1::Value* Field(const v1::Entity& e, std::string_view name) {
  auto it = e.fields().find(std::string(name));
  return it == e.fields().end() ? nullptr : &it->second.value();
}

std::string TextField(const v1::Entity& e, std::string_view name) {
  const v1::Value* v = Field(e, name);
  return v != nullptr && v->has_text() ? v->text() : std::string();
}

std::string BlobField(const v1::Entity& e, std::string_view name) {
  const v1::Value* v = Field(e, name);
  return v != nullptr && v->has_blob() ? v->blob() : std::string();
}

int64_t IntField(const v1::Entity& e, std::string_view name) {
  const v1::Value* v = Field(e, name);
  if (v == nullptr) return 0;
  if (v->has_integer()) return v->integer();
  if (v->has_time_ms()) return v->time_ms();
  return 0;
}

bool FlagField(const v1::Entity& e, std::string_view name) {
  const v1::Value* v = Field(e, name);
  return v != nullptr && v->has_flag() && v->flag();
}

std::vector<v1::Value> SetValues(const v1::Entity& e, std::string_view set) {
  std::vector<std::pair<std::string, v1::Value>> live;
  auto it = e.sets().find(std::string(set));
  if (it == e.sets().end()) return {};
  for (const auto& [key, el] : it->second.elements()) {
    if (el.live_tags_size() > 0) live.emplace_back(key, el.value());
  }
  // Map order is unspecified in protobuf: sort so every device lists alike.
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<v1::Value> out;
  for (auto& [key, v] : live) out.push_back(std::move(v));
  return out;
}

std::vector<std::string> HiddenFrom(const v1::Entity& e) {
  std::vector<std::string> out;
  for (const v1::Value& v : SetValues(e, "hidden_from")) {
    if (v.has_blob()) out.push_back(v.blob());
  }
  return out;
}

const v1::Entity* FindPerson(const v1::CaseState& state, const std::string& person_id) {
  const v1::Entity* p = FindEntity(state, person_id);
  if (p == nullptr || p->deleted() || p->type() != kPerson || p->scope_id() != 0) return nullptr;
  return p;
}

std::vector<std::string> PersonsOfAccount(const v1::CaseState& state, ByteView account_id) {
  std::vector<std::string> out;
  if (account_id.empty()) return out;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kPerson || e.deleted() || e.scope_id() != 0) continue;
    const std::string linked = BlobField(e, "account_id");
    if (!linked.empty() && ConstantTimeEqual(View(linked), account_id)) {
      out.push_back(e.entity_id());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool AccountIsPerson(const v1::CaseState& state, ByteView account_id,
                     const std::string& person_id) {
  const v1::Entity* p = FindPerson(state, person_id);
  if (p == nullptr) return false;
  const std::string linked = BlobField(*p, "account_id");
  return !linked.empty() && !account_id.empty() && ConstantTimeEqual(View(linked), account_id);
}

namespace {
bool HasRole(const v1::CaseState& state, ByteView account_id, v1::Role role) {
  for (const auto& m : state.members()) {
    if (m.role() == role && ConstantTimeEqual(View(m.account_id()), account_id)) return true;
  }
  return false;
}
}  // namespace

bool IsChair(const v1::CaseState& state, ByteView account_id) {
  return HasRole(state, account_id, v1::ROLE_CHAIR);
}
bool IsCoordinator(const v1::CaseState& state, ByteView account_id) {
  return HasRole(state, account_id, v1::ROLE_COORDINATOR);
}

bool IsProfessionalAccount(const v1::CaseState& state, ByteView account_id) {
  for (const std::string& id : PersonsOfAccount(state, account_id)) {
    const v1::Entity* p = FindPerson(state, id);
    if (p != nullptr && TextField(*p, "kind") == "professional") return true;
  }
  return false;
}

Bytes AgreementHash(const v1::Entity& agreement) {
  crypto::Hasher h("kring.agreement.v1");
  h.Add(agreement.entity_id());
  AddField(h, agreement, "salt");
  for (std::string_view f : kAgreementContentFields) AddField(h, agreement, f);
  return h.Finish();
}

Bytes PlanHash(const v1::Entity& plan) {
  crypto::Hasher h("kring.plan.v1");
  for (std::string_view f : {"wil", "kan", "nodig"}) AddField(h, plan, f);
  for (std::string_view d : kLifeDomains) AddField(h, plan, LifeDomainField(d));
  for (std::string_view f :
       {"contingency", "contact_person", "bottom_lines", "answers", "responsible_professional",
        "review_days", "agreement_refs", "details_id", "details_hash"}) {
    AddField(h, plan, f);
  }
  return h.Finish();
}

Bytes DetailsHash(const v1::Entity& details) {
  crypto::Hasher h("kring.plan.details.v1");
  h.Add(details.entity_id());
  AddField(h, details, "salt");
  for (std::string_view d : kLifeDomains) AddField(h, details, LifeDomainField(d));
  return h.Finish();
}

std::string AgreementRefs(const v1::CaseState& state) {
  std::vector<std::pair<std::string, Bytes>> refs;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kAgreement || e.deleted() || MadeInPrivateTime(e)) continue;
    refs.emplace_back(e.entity_id(), AgreementHash(e));
  }
  std::sort(refs.begin(), refs.end());
  std::string out;
  for (const auto& [id, hash] : refs) {
    out += id;
    out += ToString(hash);
  }
  return out;
}

bool NewerVersion(const v1::Entity& a, const v1::Entity& b) {
  // The log decides, not the stored `number`: anyone who may write a version chooses that, and a
  // version sent later from an old view would otherwise slip in before the ones everyone already
  // knows by their number. A pending version (seq 0) is this device's newest.
  const uint64_t sa = a.created_seq() == 0 ? UINT64_MAX : a.created_seq();
  const uint64_t sb = b.created_seq() == 0 ? UINT64_MAX : b.created_seq();
  if (sa != sb) return sa > sb;
  // Versions still pending are this device's own, numbered one after the other as it made them.
  if (sa == UINT64_MAX) {
    const int64_t na = IntField(a, "number"), nb = IntField(b, "number");
    if (na != nb) return na > nb;
  }
  return a.entity_id() > b.entity_id();  // two versions in one op (raw): any fixed order
}

const v1::Entity* CurrentVersion(const v1::CaseState& state) {
  const v1::Entity* best = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kPlanVersion || e.deleted() || e.scope_id() != 0) continue;
    if (best == nullptr || NewerVersion(e, *best)) best = &e;
  }
  return best;
}

std::vector<const v1::Entity*> VersionsInOrder(const v1::CaseState& state) {
  std::vector<const v1::Entity*> out;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() == kPlanVersion && !e.deleted() && e.scope_id() == 0) out.push_back(&e);
  }
  std::sort(out.begin(), out.end(),
            [](const v1::Entity* a, const v1::Entity* b) { return NewerVersion(*b, *a); });
  return out;
}

std::pair<int64_t, int64_t> VersionBase(const std::vector<const v1::Entity*>& order, size_t i) {
  const auto& fields = order[i]->fields();
  auto it = fields.find(std::string(kVersionBasedOn));
  if (it == fields.end()) return {-1, 0};
  const std::string& base = it->second.value().blob();
  int64_t based_on = 0;
  for (size_t j = 0; j < order.size() && !base.empty(); ++j) {
    if (order[j]->entity_id() == base) based_on = static_cast<int64_t>(j) + 1;
  }
  auto seen = fields.find(std::string(kVersionSeenSeq));
  if (seen == fields.end()) {
    // Made before versions stored their writer's log position: the version before it is the one
    // its writer did not see when it names another.
    const bool skipped = i > 0 && base != order[i - 1]->entity_id();
    return {based_on, skipped ? static_cast<int64_t>(i) : 0};
  }
  // The newest version that reached the log after the writer's view and is not the writer's own
  // (those were in its view while pending). based_on alone misses a second version made in the
  // same old view: it names the first, which is right before it once both land.
  const uint64_t seen_seq =
      static_cast<uint64_t>(std::max<int64_t>(seen->second.value().integer(), 0));
  const std::string& author = order[i]->created_by_account_id();
  for (size_t j = i; j-- > 0;) {
    const v1::Entity& other = *order[j];
    if (other.created_seq() > seen_seq && other.created_by_account_id() != author) {
      return {based_on, static_cast<int64_t>(j) + 1};
    }
  }
  return {based_on, 0};
}

std::vector<v1::Conflict> StaleVersionConflicts(const v1::CaseState& state) {
  const std::vector<const v1::Entity*> order = VersionsInOrder(state);
  // Only the current version: once someone makes a version with the current one in view, what
  // an older version missed was theirs to weigh, and the conflict is over (plan.h).
  if (order.size() < 2) return {};
  const size_t i = order.size() - 1;
  const int64_t skipped = VersionBase(order, i).second;
  if (skipped == 0) return {};
  const v1::Entity& late = *order[i];
  const v1::Entity& unseen = *order[static_cast<size_t>(skipped) - 1];
  v1::Conflict c;
  c.set_entity_id(late.entity_id());
  c.set_field(std::string(kVersionBasedOn));
  c.mutable_kept_value()->set_integer(static_cast<int64_t>(i) + 1);
  c.mutable_other_value()->set_integer(skipped);
  c.set_kept_seq(late.created_seq());
  c.set_other_seq(unseen.created_seq());
  c.set_kept_author_account_id(late.created_by_account_id());
  c.set_other_author_account_id(unseen.created_by_account_id());
  return {std::move(c)};
}

int64_t VersionNumber(const v1::CaseState& state, const v1::Entity& version) {
  int64_t number = 1;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kPlanVersion || e.deleted() || e.scope_id() != 0) continue;
    if (e.entity_id() != version.entity_id() && NewerVersion(version, e)) ++number;
  }
  return number;
}

}  // namespace kring::domain::plan_model
