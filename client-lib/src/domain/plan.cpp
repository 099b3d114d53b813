#include "kring/domain/plan.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "kring/common/crypto.h"
#include "kring/domain/follow_up.h"
#include "kring/domain/organising.h"

#include "domain/organising_rules.h"
#include "domain/plan_model.h"
#include "domain/plan_ops.h"
#include "domain/plan_release.h"
#include "domain/plan_rules.h"
#include "domain/private_time.h"
#include "domain/render_text.h"
#include "domain/rule_refusals.h"
#include "model/content_rules.h"
#include "model/reducer.h"

namespace kring::domain {

namespace {

using namespace plan_model;  // NOLINT(google-build-using-namespace): one module's vocabulary
using namespace plan_ops;    // NOLINT(google-build-using-namespace)

constexpr int32_t kMaxReviewDays = 365;

Bytes B(const std::string& s) { return ToBytes(s); }
std::string S(const Bytes& b) { return ToString(b); }

Result<v1::CaseState> ViewOf(const client::Client& c, const Bytes& case_id) {
  return c.View(case_id);
}

Status CheckSize(const std::string& s, size_t max, const char* key) {
  return s.size() <= max ? Status() : InvalidArgument(key);
}

// Only spaces, tabs or newlines: says nothing, so it counts as missing.
bool Blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

// Sizes only: a draft may still be incomplete.
Status ValidateDraft(const PlanContent& c) {
  for (const std::string* s :
       {&c.ik_wil, &c.ik_kan, &c.ik_heb_nodig, &c.contingency, &c.bottom_lines, &c.answers}) {
    KRING_RETURN_IF_ERROR(CheckSize(*s, kMaxPlanTextBytes, "plan.text_too_long"));
  }
  for (const auto& [domain, text] : c.life_domains) {
    if (!IsLifeDomain(domain)) return InvalidArgument("plan.unknown_life_domain");
    KRING_RETURN_IF_ERROR(CheckSize(text, kMaxPlanTextBytes, "plan.text_too_long"));
  }
  // One version is one op, and an op must stay well under the envelope limit.
  size_t total = c.ik_wil.size() + c.ik_kan.size() + c.ik_heb_nodig.size() + c.contingency.size() +
                 c.bottom_lines.size() + c.answers.size();
  for (const auto& [domain, text] : c.life_domains) total += text.size();
  if (total > kMaxPlanTotalBytes) return InvalidArgument("plan.text_too_long");
  if (c.review_days < 1 || c.review_days > kMaxReviewDays) {
    return InvalidArgument("plan.review_days_invalid");
  }
  for (const Bytes* id : {&c.contact_person, &c.responsible_professional}) {
    if (!id->empty() && id->size() != crypto::kIdBytes)
      return InvalidArgument("plan.unknown_person");
  }
  return {};
}

// Taken out of the circle (Organising::RemovePerson), or out of the case: the account linked to
// the person is no longer a member (`kring case leave`, a member removed). Either way they could
// never read, accept or do what is given to them.
bool Left(const v1::CaseState& view, const Bytes& person_id) {
  const v1::Entity* p = FindPerson(view, S(person_id));
  if (p == nullptr) return false;
  const std::string account = BlobField(*p, "account_id");
  return FlagField(*p, "left") ||
         (!account.empty() && client::model::FindMember(view, B(account)) == nullptr);
}

Status ValidateVersion(const v1::CaseState& view, const PlanContent& c) {
  KRING_RETURN_IF_ERROR(ValidateDraft(c));
  if (c.contingency.empty()) return InvalidArgument("plan.contingency_missing");
  if (c.contact_person.empty()) return InvalidArgument("plan.contact_missing");
  if (FindPerson(view, S(c.contact_person)) == nullptr) {
    return InvalidArgument("plan.contact_unknown");
  }
  if (Left(view, c.contact_person)) return InvalidArgument("plan.contact_left");
  if (!c.bottom_lines.empty() || !c.responsible_professional.empty()) {
    if (c.responsible_professional.empty()) return InvalidArgument("plan.professional_missing");
    const v1::Entity* p = FindPerson(view, S(c.responsible_professional));
    if (p == nullptr || TextField(*p, "kind") != "professional") {
      return InvalidArgument("plan.professional_unknown");
    }
    if (Left(view, c.responsible_professional)) return InvalidArgument("plan.professional_left");
  }
  return {};
}

// Every content field of a new entity is written, also when empty, so the hash of a version is
// well defined. On an existing draft only what changed is written, based on the revision in view,
// so two people editing different parts offline do not collide and the same part collides
// visibly.
void AppendContent(std::vector<v1::Mutation>& out, const std::string& id, const PlanContent& c,
                   const v1::Entity* existing) {
  auto put = [&](std::string_view field, const v1::Value& v) {
    if (existing != nullptr) {
      const v1::Value* old = Field(*existing, field);
      if (old != nullptr && old->SerializeAsString() == v.SerializeAsString()) return;
    }
    out.push_back(Set(id, field, v, existing));
  };
  put("wil", TextValue(c.ik_wil));
  put("kan", TextValue(c.ik_kan));
  put("nodig", TextValue(c.ik_heb_nodig));
  for (std::string_view d : kLifeDomains) {
    auto it = c.life_domains.find(std::string(d));
    put(LifeDomainField(d), TextValue(it == c.life_domains.end() ? std::string() : it->second));
  }
  put("contingency", TextValue(c.contingency));
  put("contact_person", BlobValue(c.contact_person));
  put("bottom_lines", TextValue(c.bottom_lines));
  put("answers", TextValue(c.answers));
  put("responsible_professional", BlobValue(c.responsible_professional));
  put("review_days", IntValue(c.review_days));
}

PlanContent ContentOf(const v1::Entity& e) {
  PlanContent c;
  c.ik_wil = TextField(e, "wil");
  c.ik_kan = TextField(e, "kan");
  c.ik_heb_nodig = TextField(e, "nodig");
  for (std::string_view d : kLifeDomains) {
    std::string text = TextField(e, LifeDomainField(d));
    if (!text.empty()) c.life_domains[std::string(d)] = std::move(text);
  }
  c.contingency = TextField(e, "contingency");
  c.contact_person = B(BlobField(e, "contact_person"));
  c.bottom_lines = TextField(e, "bottom_lines");
  c.answers = TextField(e, "answers");
  c.responsible_professional = B(BlobField(e, "responsible_professional"));
  const int64_t days = IntField(e, "review_days");
  c.review_days =
      days > 0 && days <= kMaxReviewDays ? static_cast<int32_t>(days) : kDefaultReviewDays;
  return c;
}

// The details entity of a version, when this state holds it and it matches the version.
const v1::Entity* DetailsOf(const v1::CaseState& state, const v1::Entity& version) {
  const v1::Entity* d = FindEntity(state, BlobField(version, "details_id"));
  if (d == nullptr || d->deleted() || d->type() != kPlanDetails) return nullptr;
  if (!ConstantTimeEqual(View(ToString(DetailsHash(*d))),
                         View(BlobField(version, "details_hash")))) {
    return nullptr;
  }
  return d;
}

PlanVersion VersionOf(const v1::CaseState& state, const v1::Entity& e) {
  PlanVersion v;
  v.version_id = B(e.entity_id());
  const std::vector<const v1::Entity*> order = VersionsInOrder(state);
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i]->entity_id() != e.entity_id()) continue;
    v.number = static_cast<int64_t>(i) + 1;
    std::tie(v.based_on, v.skipped) = VersionBase(order, i);
  }
  if (v.number == 0) v.number = VersionNumber(state, e);  // a deleted or restricted one
  v.content = ContentOf(e);
  if (!BlobField(e, "details_id").empty()) {
    const v1::Entity* details = DetailsOf(state, e);
    v.details_readable = details != nullptr;
    if (details != nullptr) v.content.life_domains = ContentOf(*details).life_domains;
  }
  const std::string refs = BlobField(e, "agreement_refs");
  constexpr size_t kRef = crypto::kIdBytes + crypto::kHashBytes;
  for (size_t i = 0; i + kRef <= refs.size(); i += kRef) {
    v.agreements.push_back({B(refs.substr(i, crypto::kIdBytes)),
                            B(refs.substr(i + crypto::kIdBytes, crypto::kHashBytes))});
  }
  v.hash = PlanHash(e);
  v.created_seq = e.created_seq();
  return v;
}

AgreementStatus StatusFromName(std::string_view s, bool accepted) {
  if (s == "done") return AgreementStatus::kDone;
  if (s == "partly") return AgreementStatus::kPartly;
  if (s == "not_done") return AgreementStatus::kNotDone;
  if (s == "blocked") return AgreementStatus::kBlocked;
  if (s == "dropped") return AgreementStatus::kDropped;
  return accepted ? AgreementStatus::kAccepted : AgreementStatus::kProposed;
}

Agreement AgreementOf(const v1::CaseState& state, const v1::Entity& e) {
  Agreement a;
  a.agreement_id = B(e.entity_id());
  a.input.owner = B(BlobField(e, "owner"));
  a.input.action = TextField(e, "action");
  a.input.due_ms = IntField(e, "due_ms");
  a.input.recurrence = TextField(e, "recurrence");
  a.input.checker = B(BlobField(e, "checker"));
  a.input.life_domain = TextField(e, "life_domain");
  for (const std::string& h : HiddenFrom(e)) a.input.hidden_from.push_back(B(h));
  for (const v1::Value& v : SetValues(e, "visible_to")) {
    if (v.has_blob()) a.input.visible_to.push_back(B(v.blob()));
  }
  a.content_hash = AgreementHash(e);
  a.accepted_hash = B(BlobField(e, "accepted_hash"));
  a.accepted = !a.accepted_hash.empty() && a.accepted_hash == a.content_hash;
  a.acceptance_stale = !a.accepted_hash.empty() && !a.accepted;
  a.status = StatusFromName(TextField(e, "outcome"), a.accepted);
  const v1::Entity* owner = FindPerson(state, BlobField(e, "owner"));
  a.owner_left = owner != nullptr && FlagField(*owner, "left");
  if (a.status == AgreementStatus::kBlocked) {
    a.obstacle = Obstacle{TextField(e, "obstacle"), B(BlobField(e, "obstacle_owner")),
                          IntField(e, "new_due_ms")};
  }
  a.scope_id = e.scope_id();
  a.in_private_time = MadeInPrivateTime(e);
  a.copy_of = B(BlobField(e, kAgreementCopyOf));
  for (const v1::Conflict& c : state.conflicts()) {
    if (ShowsAsConflict(c) && c.entity_id() == e.entity_id()) a.conflicts.push_back(c);
  }
  return a;
}

// The chair's grant, last writer wins (a pending edit on this device counts as newest).
bool ProfessionalsGranted(const v1::CaseState& state) {
  bool granted = false;
  uint64_t best = 0;
  bool any = false;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kPlanSettings || e.deleted()) continue;
    auto it = e.fields().find("professionals_see_all");
    if (it == e.fields().end()) continue;
    const uint64_t seq = it->second.seq() == 0 ? UINT64_MAX : it->second.seq();
    if (!any || seq >= best) {
      best = seq;
      any = true;
      granted = it->second.value().flag();
    }
  }
  return granted;
}

// What a professional sees without the chair's grant: the summary, not the life-domain details.
// The one place that decides it, so moving the details into a scope later changes only this.
PlanVersion SummaryForProfessional(PlanVersion v) {
  v.content.life_domains.clear();
  return v;
}

size_t CountAgreements(const v1::CaseState& view) {
  size_t n = 0;
  for (const auto& [key, e] : view.entities()) {
    if (e.type() == kAgreement && !e.deleted()) ++n;
  }
  return n;
}

// `current`: the agreement being edited (null for a new one). Someone who left the circle is not
// made owner or checker; an agreement that already names them may still be edited otherwise.
Status ValidateAgreement(const v1::CaseState& view, const AgreementInput& in,
                         const v1::Entity* current = nullptr) {
  if (in.owner.empty()) return InvalidArgument("agreement.owner_missing");
  if (FindPerson(view, S(in.owner)) == nullptr) return InvalidArgument("agreement.owner_unknown");
  if (Left(view, in.owner) && (current == nullptr || BlobField(*current, "owner") != S(in.owner))) {
    return InvalidArgument("agreement.owner_left");
  }
  if (Blank(in.action)) return InvalidArgument("agreement.action_missing");
  KRING_RETURN_IF_ERROR(CheckSize(in.action, kMaxShortTextBytes, "agreement.text_too_long"));
  KRING_RETURN_IF_ERROR(CheckSize(in.recurrence, kMaxShortTextBytes, "agreement.text_too_long"));
  if (in.due_ms <= 0 && in.recurrence.empty()) return InvalidArgument("agreement.when_missing");
  if (!in.checker.empty() && FindPerson(view, S(in.checker)) == nullptr) {
    return InvalidArgument("agreement.checker_unknown");
  }
  if (!in.checker.empty() && Left(view, in.checker) &&
      (current == nullptr || BlobField(*current, "checker") != S(in.checker))) {
    return InvalidArgument("agreement.checker_left");
  }
  if (!in.life_domain.empty() && !IsLifeDomain(in.life_domain)) {
    return InvalidArgument("plan.unknown_life_domain");
  }
  if (in.hidden_from.size() > kMaxHiddenFrom) return InvalidArgument("agreement.too_many_hidden");
  for (const Bytes& p : in.hidden_from) {
    if (FindPerson(view, S(p)) == nullptr) return InvalidArgument("agreement.hidden_unknown");
  }
  if (in.visible_to.size() > kMaxHiddenFrom) return InvalidArgument("agreement.too_many_hidden");
  std::vector<Bytes> listed_before;
  if (current != nullptr) {
    for (const v1::Value& v : SetValues(*current, "visible_to"))
      listed_before.push_back(B(v.blob()));
  }
  for (const Bytes& p : in.visible_to) {
    if (FindPerson(view, S(p)) == nullptr) return InvalidArgument("agreement.hidden_unknown");
    // Someone who left gets nothing new on paper; who was listed already stays listed.
    if (Left(view, p) &&
        std::find(listed_before.begin(), listed_before.end(), p) == listed_before.end()) {
      return InvalidArgument("agreement.visible_left");
    }
  }
  return {};
}

// People without the app who may read a restricted item on paper: everyone not hidden from it,
// not declined and not taken out of the circle; professionals only when involved or granted.
std::vector<Bytes> AppLessReaders(const v1::CaseState& view, const std::vector<Bytes>& hidden,
                                  const std::vector<Bytes>& involved, bool granted) {
  std::vector<Bytes> out;
  auto listed = [](const std::vector<Bytes>& list, const std::string& id) {
    return std::find(list.begin(), list.end(), B(id)) != list.end();
  };
  for (const auto& [key, p] : view.entities()) {
    if (p.type() != kPerson || p.deleted() || p.scope_id() != 0 ||
        !BlobField(p, "account_id").empty() || TextField(p, "status") == "declined" ||
        FlagField(p, "left")) {
      continue;
    }
    if (TextField(p, "kind") == "professional" && !granted && !listed(involved, p.entity_id())) {
      continue;
    }
    if (!listed(hidden, p.entity_id())) out.push_back(B(p.entity_id()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

const v1::Entity* FindOfType(const v1::CaseState& view, const Bytes& id, std::string_view type) {
  const v1::Entity* e = FindEntity(view, S(id));
  if (e == nullptr || e->deleted() || e->type() != type) return nullptr;
  return e;
}

// An agreement by its id, or by the id it had in private time: the release's copy stands for the
// original. Only a copy of an agreement made in some meeting's private scope counts (the rules
// let only the network write copy_of, and only then); the earliest made wins when more than one
// device made one, the lowest id between copies of one op.
const v1::Entity* FindAgreement(const v1::CaseState& view, const Bytes& id) {
  if (const v1::Entity* e = FindOfType(view, id, kAgreement)) return e;
  const std::string original = S(id);
  if (!AnyPrivateTimeHolds(view, ScopeOfEntityId(original), true)) return nullptr;
  const v1::Entity* copy = nullptr;
  for (const auto& [key, e] : view.entities()) {
    if (e.type() != kAgreement || e.deleted() || BlobField(e, kAgreementCopyOf) != original) {
      continue;
    }
    if (copy == nullptr || e.created_seq() < copy->created_seq() ||
        (e.created_seq() == copy->created_seq() && e.entity_id() < copy->entity_id())) {
      copy = &e;
    }
  }
  return copy;
}

uint32_t PrivateScopeOf(const v1::Entity& meeting) {
  const int64_t scope = IntField(meeting, "private_scope");
  return scope > 0 && scope <= UINT32_MAX ? static_cast<uint32_t>(scope) : 0;
}

// A private time that is open (the network holds its scope and has not released it), as the
// organising rules count it.
bool OpenPrivateTime(const v1::Entity& meeting) {
  return meeting.type() == kMeeting && meeting.scope_id() == 0 && !meeting.deleted() &&
         TextField(meeting, "phase") == PhaseName(Phase::kPrivateTime) &&
         PrivateScopeOf(meeting) != 0 && !FlagField(meeting, "draft_released");
}

// The open private time `account` is in (only the network is let into its scope), if any.
const v1::Entity* MyOpenPrivateTime(const v1::CaseState& view, const Bytes& account) {
  for (const auto& [key, e] : view.entities()) {
    if (OpenPrivateTime(e) && client::model::InScope(view, PrivateScopeOf(e), account)) {
      return &e;
    }
  }
  return nullptr;
}

// This view holds agreements of a private time that is still open: nobody outside the network
// can read them yet.
bool HoldsOpenPrivateTimeAgreements(const v1::CaseState& view) {
  for (const auto& [key, e] : view.entities()) {
    if (e.type() != kAgreement || e.deleted() || !MadeInPrivateTime(e)) continue;
    const v1::Entity* meeting = FindEntity(view, BlobField(e, kAgreementPrivateTime));
    if (meeting != nullptr && OpenPrivateTime(*meeting)) return true;
  }
  return false;
}

struct AgreementOp {
  std::string id;
  uint32_t scope = 0;
  std::vector<v1::Mutation> mutations;
};

// The op that makes an agreement. Outside private time: professionals get only the agreements
// they own or check, unless the chair granted more; the rest is sealed to a scope without them,
// so the key never reaches their devices. In `private_time` (a meeting's open private time): the
// network alone, as the draft, until the release shares it (AgreementReleaseOps).
Result<AgreementOp> NewAgreementOp(client::Client& client, const Bytes& case_id,
                                   const v1::CaseState& view, const AgreementInput& in,
                                   const v1::Entity* private_time) {
  const bool granted = ProfessionalsGranted(view) && private_time == nullptr;
  Audience audience;
  audience.hidden_from = in.hidden_from;
  audience.exclude_professionals = !granted;
  if (private_time != nullptr) {
    audience.exclude_coordinators = true;
    audience.within_scope = PrivateScopeOf(*private_time);
  } else {
    audience.keep = {in.owner};
    if (!in.checker.empty()) audience.keep.push_back(in.checker);
  }
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeForItem(client, case_id, audience));
  // A restricted agreement goes on the paper of people without the app only when listed: list
  // everyone without the app it is not hidden from (professionals only when involved).
  std::vector<Bytes> visible = in.visible_to;
  if (scope != 0) {
    for (Bytes& p : AppLessReaders(view, in.hidden_from, audience.keep, granted)) {
      if (std::find(visible.begin(), visible.end(), p) == visible.end()) {
        visible.push_back(std::move(p));
      }
    }
    if (visible.size() > 2 * kMaxHiddenFrom) return InvalidArgument("agreement.too_many_hidden");
  }
  AgreementOp op;
  op.id = NewEntityId(scope);
  op.scope = scope;
  const std::string& id = op.id;
  // Every agreement starts proposed: it counts as accepted only once its owner accepts it. The
  // salt keeps its content hash (listed in scope-0 plan versions) from being guessed.
  op.mutations = {Create(id, kAgreement),
                  Set(id, "salt", BlobValue(NewId())),
                  Set(id, "owner", BlobValue(in.owner)),
                  Set(id, "action", TextValue(in.action)),
                  Set(id, "due_ms", TimeValue(in.due_ms)),
                  Set(id, "recurrence", TextValue(in.recurrence)),
                  Set(id, "checker", BlobValue(in.checker)),
                  Set(id, "life_domain", TextValue(in.life_domain))};
  if (private_time != nullptr) {
    op.mutations.push_back(Set(id, kAgreementPrivateTime, BlobValue(B(private_time->entity_id()))));
  }
  for (const Bytes& p : in.hidden_from)
    op.mutations.push_back(Add(id, "hidden_from", BlobValue(p)));
  for (const Bytes& p : visible) op.mutations.push_back(Add(id, "visible_to", BlobValue(p)));
  return op;
}

}  // namespace

const std::vector<std::string>& LifeDomains() {
  static const std::vector<std::string> kAll(std::begin(kLifeDomains), std::end(kLifeDomains));
  return kAll;
}

const char* AgreementStatusName(AgreementStatus status) {
  switch (status) {
    case AgreementStatus::kProposed:
      return "proposed";
    case AgreementStatus::kAccepted:
      return "accepted";
    case AgreementStatus::kDone:
      return "done";
    case AgreementStatus::kPartly:
      return "partly";
    case AgreementStatus::kNotDone:
      return "not_done";
    case AgreementStatus::kBlocked:
      return "blocked";
    case AgreementStatus::kDropped:
      return "dropped";
  }
  return "proposed";
}

Result<uint32_t> ScopeForItem(client::Client& client, const Bytes& case_id,
                              const Audience& audience) {
  if (audience.hidden_from.size() > kMaxHiddenFrom) {
    return InvalidArgument("agreement.too_many_hidden");
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client.View(case_id));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client));
  // Accounts that must never get the key. People without the app have no device to keep it
  // from: for them the item's `hidden_from` set is what printouts and exports honour.
  std::set<std::string> excluded;
  for (const Bytes& p : audience.hidden_from) {
    const v1::Entity* person = FindPerson(view, S(p));
    if (person == nullptr) return InvalidArgument("agreement.hidden_unknown");
    const std::string account = BlobField(*person, "account_id");
    if (!account.empty()) excluded.insert(account);
  }
  // Left out by category, except the author (who must read what they write) and those kept.
  std::set<std::string> kept = {S(me)};
  for (const Bytes& p : audience.keep) {
    if (const v1::Entity* person = FindPerson(view, S(p))) {
      const std::string account = BlobField(*person, "account_id");
      if (!account.empty()) kept.insert(account);
    }
  }
  for (const v1::Member& m : view.members()) {
    if (audience.within_scope != 0 &&
        !client::model::InScope(view, audience.within_scope, View(m.account_id()))) {
      excluded.insert(m.account_id());
      continue;
    }
    if (kept.count(m.account_id()) != 0) continue;
    if ((audience.exclude_professionals && IsProfessionalAccount(view, View(m.account_id()))) ||
        (audience.exclude_coordinators && m.role() == v1::ROLE_COORDINATOR)) {
      excluded.insert(m.account_id());
    }
  }
  std::vector<std::string> members;
  for (const v1::Member& m : view.members()) {
    if (excluded.count(m.account_id()) == 0) members.push_back(m.account_id());
  }
  if (excluded.count(S(me)) != 0) return InvalidArgument("plan.hidden_from_self");
  if (audience.requested_scope != 0) {
    // The caller's scope must keep out everyone this item is hidden from.
    auto scope = view.scopes().find(audience.requested_scope);
    if (scope == view.scopes().end()) return InvalidArgument("agreement.bad_scope");
    for (const std::string& m : scope->second.members()) {
      if (excluded.count(m) != 0) return InvalidArgument("agreement.bad_scope");
    }
    return audience.requested_scope;
  }
  // Hidden from someone without the app yet: still a restricted scope of today's members, so
  // that person, once they join, gets no key for it.
  if (audience.within_scope == 0 && members.size() == static_cast<size_t>(view.members_size()) &&
      audience.hidden_from.empty()) {
    return 0u;
  }
  return ScopeWithMembers(client, case_id, view, std::move(members));
}

std::vector<Agreement> ReadAgreements(const v1::CaseState& state) {
  std::vector<Agreement> out;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() == kAgreement && !e.deleted()) out.push_back(AgreementOf(state, e));
  }
  std::sort(out.begin(), out.end(), [](const Agreement& a, const Agreement& b) {
    if (a.input.due_ms != b.input.due_ms) return a.input.due_ms < b.input.due_ms;
    return a.agreement_id < b.agreement_id;
  });
  return out;
}

std::vector<v1::Conflict> StaleVersionConflicts(const v1::CaseState& state) {
  return plan_model::StaleVersionConflicts(state);
}

std::optional<PlanVersion> ReadCurrentVersion(const v1::CaseState& state) {
  const v1::Entity* e = CurrentVersion(state);
  if (e == nullptr) return std::nullopt;
  return VersionOf(state, *e);
}

namespace {

// The newest version that counts as accepted (ReadAcceptance), or null.
const v1::Entity* AcceptedVersion(const v1::CaseState& state) {
  const v1::Entity* best = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kPlanVersion || e.deleted() || e.scope_id() != 0) continue;
    if (best != nullptr && !NewerVersion(e, *best)) continue;
    if (ReadAcceptance(state, B(e.entity_id())).accepted) best = &e;
  }
  return best;
}

}  // namespace

std::optional<PlanVersion> ReadAcceptedVersion(const v1::CaseState& state) {
  const v1::Entity* e = AcceptedVersion(state);
  if (e == nullptr) return std::nullopt;
  return VersionOf(state, *e);
}

Acceptance ReadAcceptance(const v1::CaseState& state, const Bytes& version_id) {
  Acceptance a;
  a.version_id = version_id;
  const v1::Entity* version = FindOfType(state, version_id, kPlanVersion);
  if (version == nullptr) return a;
  const Bytes hash = PlanHash(*version);
  const PlanContent content = ContentOf(*version);
  a.needs_professional = !content.bottom_lines.empty();
  int64_t professional_at = 0;
  uint64_t professional_seq = 0;
  for (const auto& [key, e] : state.entities()) {
    if (e.deleted() || BlobField(e, "version_id") != S(version_id) ||
        BlobField(e, "hash") != S(hash)) {
      continue;
    }
    if (e.type() == kPlanAcceptance) {
      const int64_t at = IntField(e, "accepted_at_ms");
      if (!a.chair_accepted || at < a.accepted_at_ms) a.accepted_at_ms = at;
      a.chair_accepted = true;
    } else if (e.type() == kProfessionalDecision &&
               BlobField(e, "person") == S(content.responsible_professional)) {
      // The latest decision counts (a pending one on this device is the newest).
      const uint64_t seq = e.created_seq() == 0 ? UINT64_MAX : e.created_seq();
      if (a.professional != Decision::kNone && seq < professional_seq) continue;
      professional_seq = seq;
      const std::string d = TextField(e, "decision");
      a.professional = d == "accept"                   ? Decision::kAccept
                       : d == "accept_with_conditions" ? Decision::kAcceptWithConditions
                                                       : Decision::kReject;
      a.conditions = d == "accept_with_conditions" ? TextField(e, "text") : std::string();
      a.reason = d == "reject" ? TextField(e, "text") : std::string();
      professional_at = IntField(e, "decided_at_ms");
    }
  }
  const bool professional_ok =
      a.professional == Decision::kAccept || a.professional == Decision::kAcceptWithConditions;
  a.accepted = a.chair_accepted && (!a.needs_professional || professional_ok);
  if (a.accepted) {
    const int64_t at =
        a.needs_professional ? std::max(a.accepted_at_ms, professional_at) : a.accepted_at_ms;
    a.review_at_ms = at + int64_t{content.review_days} * kDayMs;
    a.checkin_at_ms = at + int64_t{kCheckInDays} * kDayMs;
  }
  return a;
}

Plan::Plan(client::Client& client, Bytes case_id) : client_(client), case_id_(std::move(case_id)) {}

Result<uint32_t> Plan::NetworkScope() {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  // Private time belongs to the network: whoever is left out of it cannot open it.
  if (IsCoordinator(view, me) || IsProfessionalAccount(view, me)) {
    return PermissionDenied("plan.network_only");
  }
  Audience audience;
  audience.exclude_professionals = true;
  audience.exclude_coordinators = true;
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeForItem(client_, case_id_, audience));
  return scope;
}

Result<Bytes> Plan::CreateDraft(uint32_t scope_id, const PlanContent& content) {
  KRING_RETURN_IF_ERROR(ValidateDraft(content));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  Audience audience;
  audience.requested_scope = scope_id;
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeForItem(client_, case_id_, audience));
  const std::string id = NewEntityId(scope);
  std::vector<v1::Mutation> ms{Create(id, kPlanDraft)};
  AppendContent(ms, id, content, nullptr);
  KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, ms, scope));
  return B(id);
}

Status Plan::UpdateDraft(const Bytes& draft_id, const PlanContent& content) {
  KRING_RETURN_IF_ERROR(ValidateDraft(content));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* draft = FindOfType(view, draft_id, kPlanDraft);
  if (draft == nullptr) return NotFound("domain.unknown_item");
  std::vector<v1::Mutation> ms;
  AppendContent(ms, S(draft_id), content, draft);
  if (ms.empty()) return {};
  return SubmitChecked(client_, case_id_, view, ms, draft->scope_id());
}

Result<PlanContent> Plan::Draft(const Bytes& draft_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* draft = FindOfType(view, draft_id, kPlanDraft);
  if (draft == nullptr) return NotFound("domain.unknown_item");
  return ContentOf(*draft);
}

Result<std::vector<PlanDraft>> Plan::Drafts() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  struct Row {
    PlanDraft draft;
    uint64_t last_seq = 0;  // of its last write; pending writes (seq 0) are this device's newest
  };
  std::vector<Row> rows;
  for (const auto& [key, e] : view.entities()) {
    if (e.type() != kPlanDraft || e.deleted()) continue;
    Row r;
    r.draft.draft_id = B(e.entity_id());
    r.draft.scope_id = e.scope_id();
    r.draft.content = ContentOf(e);
    r.last_seq = e.created_seq() == 0 ? UINT64_MAX : e.created_seq();
    std::string author = e.created_by_account_id();
    for (const auto& [name, f] : e.fields()) {
      const uint64_t seq = f.seq() == 0 ? UINT64_MAX : f.seq();
      if (seq >= r.last_seq && !f.author_account_id().empty()) {
        r.last_seq = seq;
        author = f.author_account_id();
      }
    }
    r.draft.last_author_account_id = B(author);
    r.draft.first_author_account_id = B(e.created_by_account_id());
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.last_seq != b.last_seq) return a.last_seq > b.last_seq;
    return a.draft.draft_id < b.draft.draft_id;
  });
  std::vector<PlanDraft> out;
  for (Row& r : rows) out.push_back(std::move(r.draft));
  return out;
}

Result<std::vector<v1::Conflict>> Plan::ConflictsOf(const Bytes& entity_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  std::vector<v1::Conflict> out;
  for (const v1::Conflict& c : view.conflicts()) {
    if (ShowsAsConflict(c) && c.entity_id() == S(entity_id)) out.push_back(c);
  }
  for (v1::Conflict& c : plan_model::StaleVersionConflicts(view)) {
    if (c.entity_id() == S(entity_id)) out.push_back(std::move(c));
  }
  return out;
}

Result<Bytes> Plan::Release(const Bytes& draft_id, Bytes* ended_private_time) {
  KRING_ASSIGN_OR_RETURN(PlanContent content, Draft(draft_id));
  KRING_ASSIGN_OR_RETURN(Bytes id, Publish(content, ended_private_time));
  return id;
}

Status Plan::MayRelease() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  if (MayMakePlanVersion(view, me) || InNetworkPrivateTime(view, me) ||
      NetworkVersionOpen(view, me) != nullptr) {
    return {};
  }
  // As Publish refuses it.
  if (NetworkVersionMade(view, me)) return FailedPrecondition("plan.network_version_made");
  return PermissionDenied(RefusalKeyFor(view, me, plan_rule::kPlanVersion));
}

Result<Bytes> Plan::Publish(const PlanContent& content, Bytes* ended_private_time) {
  if (ended_private_time != nullptr) ended_private_time->clear();
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  const bool organiser = MayMakePlanVersion(view, me);
  // The network's version comes after its `meeting release`, once: another device may have
  // written either (a second network member's release refused here is told so, not lost on
  // sync). Fetch first (best effort; offline, this view decides).
  if (!organiser && (InNetworkPrivateTime(view, me) || NetworkVersionOpen(view, me) != nullptr)) {
    (void)client_.SyncCase(case_id_);
    KRING_ASSIGN_OR_RETURN(view, ViewOf(client_, case_id_));
  }
  // The reducer's rule, asked first so the refusal says who may (before any other reason).
  if (!organiser && NetworkVersionOpen(view, me) == nullptr) {
    if (NetworkVersionMade(view, me)) return FailedPrecondition("plan.network_version_made");
    // Still in private time, not released: what the network made is shared first.
    if (InNetworkPrivateTime(view, me)) return FailedPrecondition("plan.release_meeting_first");
    return PermissionDenied(RefusalKeyFor(view, me, plan_rule::kPlanVersion));
  }
  // A version lists the agreements as everyone reads them: not before the network's release.
  // Another device may have released already: fetch first (best effort; offline, this view
  // decides).
  if (HoldsOpenPrivateTimeAgreements(view)) {
    (void)client_.SyncCase(case_id_);
    KRING_ASSIGN_OR_RETURN(view, ViewOf(client_, case_id_));
    if (HoldsOpenPrivateTimeAgreements(view)) return FailedPrecondition("plan.private_time_open");
  }
  KRING_RETURN_IF_ERROR(ValidateVersion(view, content));
  const v1::Entity* current = CurrentVersion(view);
  // The life-domain details first, in their own op: professionals see the summary only, unless
  // the chair granted more, so without the grant the details never reach their devices.
  const bool granted = ProfessionalsGranted(view);
  Audience audience;
  audience.exclude_professionals = !granted;
  KRING_ASSIGN_OR_RETURN(uint32_t details_scope, ScopeForItem(client_, case_id_, audience));
  const std::string details_id = NewEntityId(details_scope);
  std::vector<v1::Mutation> details{Create(details_id, kPlanDetails),
                                    Set(details_id, "salt", BlobValue(NewId()))};
  for (std::string_view d : kLifeDomains) {
    auto it = content.life_domains.find(std::string(d));
    details.push_back(
        Set(details_id, LifeDomainField(d),
            TextValue(it == content.life_domains.end() ? std::string() : it->second)));
  }
  if (details_scope != 0) {
    for (const Bytes& p : AppLessReaders(view, {}, {}, granted)) {
      details.push_back(Add(details_id, "visible_to", BlobValue(p)));
    }
  }
  v1::CaseState with_details = view;
  const client::model::OpContext ctx{0, me, crypto::RandomBytes(16), details_scope};
  {
    v1::ContentOp op;
    op.set_version(1);
    op.set_scope_id(details_scope);
    for (const auto& m : details) *op.add_mutations() = m;
    client::model::ApplyContent(with_details, op, ctx);
  }
  const v1::Entity* details_entity = FindEntity(with_details, details_id);
  if (details_entity == nullptr) {
    // Its create was refused: by the rule that says who may.
    const std::string key =
        RefusalKeyFor(view, me, client::model::CheckContentRule(view, ctx, details.front()));
    return PermissionDenied(key.empty() ? "domain.not_allowed" : key);
  }

  PlanContent summary = content;
  summary.life_domains.clear();
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> ms;
  // The network's one version is named in its meeting's `network_version` (written once), in the
  // same op and before the create: the reducer lets the network make only the version its op
  // names there. A meeting still in private time moves on to the plan presentation: private time
  // is over. The chair's, when it is of the network, does the same.
  std::string moved;
  if (const v1::Entity* meeting = NetworkVersionOpen(with_details, me); meeting != nullptr) {
    ms.push_back(Set(meeting->entity_id(), kNetworkVersionField, BlobValue(id), meeting));
    if (TextField(*meeting, "phase") == PhaseName(Phase::kPrivateTime)) {
      const std::string presentation = PhaseName(Phase::kPlanPresentation);
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      ms.push_back(Set(meeting->entity_id(), "phase", TextValue(presentation), meeting));
      ms.push_back(
          Set(meeting->entity_id(), "phase_" + presentation + "_at_ms", TimeValue(now), meeting));
      moved = meeting->entity_id();
    }
  }
  ms.push_back(Create(id, kPlanVersion));
  // The version this writer sees as current: one that lands after others it never saw shows so
  // (StaleVersionConflicts) instead of silently dropping what they changed.
  ms.push_back(Set(id, kVersionBasedOn,
                   BlobValue(current == nullptr ? std::string() : current->entity_id())));
  ms.push_back(Set(id, kVersionSeenSeq, IntValue(static_cast<int64_t>(view.seq()))));
  // The place it takes in this view: a hint for this device's pending versions (NewerVersion),
  // counted here rather than taken from the current version's number, which its writer chose.
  ms.push_back(
      Set(id, "number", IntValue(current == nullptr ? 1 : VersionNumber(view, *current) + 1)));
  AppendContent(ms, id, summary, nullptr);
  ms.push_back(Set(id, "agreement_refs", BlobValue(AgreementRefs(view))));
  ms.push_back(Set(id, "details_id", BlobValue(details_id)));
  ms.push_back(Set(id, "details_hash", BlobValue(DetailsHash(*details_entity))));
  KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, details, details_scope));
  KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, with_details, ms, 0));
  if (!organiser) {
    // Another network member's release may have reached kringd first: then this op has no
    // effect on any device. Fetch (best effort) and say so rather than let the plan vanish.
    if (client_.SyncCase(case_id_).ok()) {
      KRING_ASSIGN_OR_RETURN(v1::CaseState after, ViewOf(client_, case_id_));
      if (FindEntity(after, id) == nullptr) return FailedPrecondition("plan.network_version_made");
    }
  }
  if (ended_private_time != nullptr) *ended_private_time = B(moved);
  return B(id);
}

Result<std::optional<PlanVersion>> Plan::Current() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  return ReadCurrentVersion(view);
}

Result<std::optional<PlanVersion>> Plan::LatestAccepted() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  std::optional<PlanVersion> v = ReadAcceptedVersion(view);
  if (v && IsProfessionalAccount(view, me) && !ProfessionalsGranted(view)) {
    return std::optional<PlanVersion>(SummaryForProfessional(std::move(*v)));
  }
  return v;
}

Result<std::vector<PlanVersion>> Plan::Versions() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  // Earlier versions follow the rule of the current one (CurrentForMe): a professional without
  // the chair's grant reads the summary, also of details written while a grant was on.
  const bool summary_only = IsProfessionalAccount(view, me) && !ProfessionalsGranted(view);
  std::vector<PlanVersion> out;
  for (const auto& [key, e] : view.entities()) {
    if (e.type() == kPlanVersion && !e.deleted() && e.scope_id() == 0) {
      PlanVersion v = VersionOf(view, e);
      out.push_back(summary_only ? SummaryForProfessional(std::move(v)) : std::move(v));
    }
  }
  std::sort(out.begin(), out.end(), [](const PlanVersion& a, const PlanVersion& b) {
    if (a.number != b.number) return a.number < b.number;
    return a.version_id < b.version_id;
  });
  return out;
}

Result<std::optional<PlanVersion>> Plan::CurrentForMe() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  std::optional<PlanVersion> v = ReadCurrentVersion(view);
  if (v && IsProfessionalAccount(view, me) && !ProfessionalsGranted(view)) {
    return std::optional<PlanVersion>(SummaryForProfessional(std::move(*v)));
  }
  return v;
}

Status Plan::Accept(const Bytes& version_id, int64_t now_ms) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* version = FindOfType(view, version_id, kPlanVersion);
  if (version == nullptr) return NotFound("plan.unknown_version");
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  if (!IsChair(view, me)) return PermissionDenied("plan.only_chair_accepts");
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> ms{
      Create(id, kPlanAcceptance), Set(id, "version_id", BlobValue(version_id)),
      Set(id, "hash", BlobValue(PlanHash(*version))), Set(id, "accepted_at_ms", TimeValue(now_ms))};
  return SubmitChecked(client_, case_id_, view, ms, 0);
}

Status Plan::RecordProfessionalDecision(const Bytes& version_id, const Bytes& my_person_id,
                                        Decision decision, const std::string& text,
                                        int64_t now_ms) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* version = FindOfType(view, version_id, kPlanVersion);
  if (version == nullptr) return NotFound("plan.unknown_version");
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  const v1::Entity* person = FindPerson(view, S(my_person_id));
  if (person == nullptr || TextField(*person, "kind") != "professional" ||
      !AccountIsPerson(view, me, S(my_person_id))) {
    return PermissionDenied("plan.not_professional");
  }
  const char* name = nullptr;
  switch (decision) {
    case Decision::kAccept:
      name = "accept";
      break;
    case Decision::kAcceptWithConditions:
      if (text.empty()) return InvalidArgument("plan.conditions_missing");
      name = "accept_with_conditions";
      break;
    case Decision::kReject:
      if (text.empty()) return InvalidArgument("plan.reason_missing");
      name = "reject";
      break;
    case Decision::kNone:
      return InvalidArgument("plan.decision_invalid");
  }
  KRING_RETURN_IF_ERROR(CheckSize(text, kMaxPlanTextBytes, "plan.text_too_long"));
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> ms{Create(id, kProfessionalDecision),
                               Set(id, "version_id", BlobValue(version_id)),
                               Set(id, "hash", BlobValue(PlanHash(*version))),
                               Set(id, "person", BlobValue(my_person_id)),
                               Set(id, "decision", TextValue(name)),
                               Set(id, "text", TextValue(text)),
                               Set(id, "decided_at_ms", TimeValue(now_ms))};
  return SubmitChecked(client_, case_id_, view, ms, 0);
}

Result<Acceptance> Plan::AcceptanceOf(const Bytes& version_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  if (FindOfType(view, version_id, kPlanVersion) == nullptr) {
    return NotFound("plan.unknown_version");
  }
  return ReadAcceptance(view, version_id);
}

Status Plan::GrantProfessionalsFullView(bool granted) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> ms{Create(id, kPlanSettings),
                               Set(id, "professionals_see_all", FlagValue(granted))};
  return SubmitChecked(client_, case_id_, view, ms, 0);
}

Result<Bytes> Plan::AddAgreement(const AgreementInput& in) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_RETURN_IF_ERROR(ValidateAgreement(view, in));
  if (CountAgreements(view) >= kMaxAgreements) return FailedPrecondition("agreement.too_many");
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  KRING_ASSIGN_OR_RETURN(AgreementOp op,
                         NewAgreementOp(client_, case_id_, view, in, MyOpenPrivateTime(view, me)));
  // The rules judge the op by the scope it is sealed to, which ScopeForItem may just have made.
  if (op.scope != 0 && view.scopes().count(op.scope) == 0) {
    KRING_ASSIGN_OR_RETURN(view, ViewOf(client_, case_id_));
  }
  KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, op.mutations, op.scope));
  return B(op.id);
}

Status Plan::EditAgreement(const Bytes& agreement_id, const AgreementInput& in) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* e = FindAgreement(view, agreement_id);
  if (e == nullptr) return NotFound("domain.unknown_item");
  KRING_RETURN_IF_ERROR(ValidateAgreement(view, in, e));
  const std::string id = e->entity_id();
  std::vector<v1::Mutation> ms;
  // Only what changed, so an unrelated concurrent edit does not become a conflict.
  auto set_if = [&](std::string_view f, const v1::Value& v) {
    const v1::Value* old = Field(*e, f);
    if (old == nullptr || old->SerializeAsString() != v.SerializeAsString()) {
      ms.push_back(Set(id, f, v, e));
    }
  };
  set_if("owner", BlobValue(in.owner));
  set_if("action", TextValue(in.action));
  set_if("due_ms", TimeValue(in.due_ms));
  set_if("recurrence", TextValue(in.recurrence));
  set_if("checker", BlobValue(in.checker));
  set_if("life_domain", TextValue(in.life_domain));
  const std::vector<std::string> hidden = HiddenFrom(*e);
  for (const Bytes& p : in.hidden_from) {
    if (std::find(hidden.begin(), hidden.end(), S(p)) != hidden.end()) continue;
    // An entity stays in the scope it was made in: someone with the app who can read it now
    // cannot be shut out afterwards; that takes a new agreement.
    const std::string account = BlobField(*FindPerson(view, S(p)), "account_id");
    if (!account.empty() && client::model::InScope(view, e->scope_id(), View(account))) {
      return FailedPrecondition("agreement.restrict_needs_new");
    }
    ms.push_back(Add(id, "hidden_from", BlobValue(p)));
  }
  std::vector<std::string> visible;
  for (const v1::Value& v : SetValues(*e, "visible_to")) visible.push_back(v.blob());
  for (const Bytes& p : in.visible_to) {
    if (std::find(visible.begin(), visible.end(), S(p)) == visible.end()) {
      ms.push_back(Add(id, "visible_to", BlobValue(p)));
    }
  }
  if (ms.empty()) return {};
  return SubmitChecked(client_, case_id_, view, ms, e->scope_id());
}

Status Plan::AcceptAgreement(const Bytes& agreement_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* e = FindAgreement(view, agreement_id);
  if (e == nullptr) return NotFound("domain.unknown_item");
  if (MadeInPrivateTime(*e)) return FailedPrecondition("agreement.in_private_time");
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  const std::string owner = BlobField(*e, "owner");
  const v1::Entity* person = FindPerson(view, owner);
  const bool speaks_for =
      AccountIsPerson(view, me, owner) ||
      (person != nullptr && BlobField(*person, "account_id").empty() && IsCoordinator(view, me));
  if (!speaks_for) return PermissionDenied("agreement.not_owner");
  return SubmitChecked(client_, case_id_, view,
                       {Set(e->entity_id(), "accepted_hash", BlobValue(AgreementHash(*e)), e)},
                       e->scope_id());
}

Status Plan::UpdateStatus(const Bytes& agreement_id, AgreementStatus status,
                          const std::optional<Obstacle>& obstacle) {
  if (status == AgreementStatus::kProposed || status == AgreementStatus::kAccepted) {
    return InvalidArgument("agreement.status_invalid");
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* e = FindAgreement(view, agreement_id);
  if (e == nullptr) return NotFound("domain.unknown_item");
  if (MadeInPrivateTime(*e)) return FailedPrecondition("agreement.in_private_time");
  const std::string id = e->entity_id();
  std::vector<v1::Mutation> ms;
  if (status == AgreementStatus::kBlocked) {
    if (!obstacle || obstacle->description.empty() || obstacle->owner.empty() ||
        obstacle->new_due_ms <= 0) {
      return InvalidArgument("agreement.obstacle_missing");
    }
    KRING_RETURN_IF_ERROR(
        CheckSize(obstacle->description, kMaxShortTextBytes, "agreement.text_too_long"));
    if (FindPerson(view, S(obstacle->owner)) == nullptr) {
      return InvalidArgument("agreement.obstacle_owner_unknown");
    }
    if (Left(view, obstacle->owner)) return InvalidArgument("agreement.obstacle_owner_left");
    ms.push_back(Set(id, "obstacle", TextValue(obstacle->description), e));
    ms.push_back(Set(id, "obstacle_owner", BlobValue(obstacle->owner), e));
    ms.push_back(Set(id, "new_due_ms", TimeValue(obstacle->new_due_ms), e));
  }
  ms.push_back(Set(id, "outcome", TextValue(AgreementStatusName(status)), e));
  return SubmitChecked(client_, case_id_, view, ms, e->scope_id());
}

Result<Agreement> Plan::GetAgreement(const Bytes& agreement_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  const v1::Entity* e = FindAgreement(view, agreement_id);
  if (e == nullptr) return NotFound("domain.unknown_item");
  return AgreementOf(view, *e);
}

Result<std::vector<Agreement>> Plan::Agreements() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, ViewOf(client_, case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  std::vector<Agreement> all = ReadAgreements(view);
  if (!IsProfessionalAccount(view, me) || ProfessionalsGranted(view)) return all;
  std::vector<Agreement> mine;
  for (Agreement& a : all) {
    if (AccountIsPerson(view, me, S(a.input.owner)) ||
        AccountIsPerson(view, me, S(a.input.checker))) {
      mine.push_back(std::move(a));
    }
  }
  return mine;
}

// ---- The release of private time ----

namespace {

std::vector<const v1::Entity*> PrivateTimeAgreements(const v1::CaseState& view,
                                                     const std::string& meeting_id) {
  std::vector<const v1::Entity*> out;
  const v1::Entity* meeting = FindEntity(view, meeting_id);
  for (const auto& [key, e] : view.entities()) {
    // Only what the marker's rule lets through (an older state may hold a marker on something
    // else): sealed inside this meeting's private scope. The writer may be gone since.
    if (e.type() == kAgreement && !e.deleted() &&
        BlobField(e, kAgreementPrivateTime) == meeting_id && meeting != nullptr &&
        PrivateTimeHolds(view, *meeting, e.scope_id(), false)) {
      out.push_back(&e);
    }
  }
  return out;
}

}  // namespace

size_t PrivateTimeAgreementCount(const v1::CaseState& view, const std::string& meeting_id) {
  return PrivateTimeAgreements(view, meeting_id).size();
}

Result<std::vector<ReleaseOp>> AgreementReleaseOps(client::Client& client, const Bytes& case_id,
                                                   const v1::CaseState& view,
                                                   const std::string& meeting_id) {
  std::vector<ReleaseOp> out;
  for (const v1::Entity* original : PrivateTimeAgreements(view, meeting_id)) {
    // The content was checked when it was written; the copy takes it as it is (an owner who
    // has left since stays the owner, as on any agreement).
    const AgreementInput in = AgreementOf(view, *original).input;
    KRING_ASSIGN_OR_RETURN(AgreementOp copy, NewAgreementOp(client, case_id, view, in, nullptr));
    copy.mutations.push_back(Set(copy.id, kAgreementCopyOf, BlobValue(B(original->entity_id()))));
    // The writer edits the copy as its creator, while still of the network: someone removed
    // from the case or taken out of the circle is named nowhere (the rules would refuse the
    // name, and with it the whole release).
    if (IsNetworkAccount(view, View(original->created_by_account_id()))) {
      copy.mutations.push_back(
          Set(copy.id, kAgreementAuthor, BlobValue(B(original->created_by_account_id()))));
    }
    out.push_back({std::move(copy.mutations), copy.scope});
    v1::Mutation gone;
    gone.mutable_delete_entity()->set_entity_id(original->entity_id());
    out.push_back({{std::move(gone)}, original->scope_id()});
  }
  return out;
}

// ---- Printout ----

namespace {

PrintAgreementStatus PrintStatusOf(AgreementStatus status) {
  switch (status) {
    case AgreementStatus::kProposed:
      return PrintAgreementStatus::kProposed;
    case AgreementStatus::kAccepted:
      return PrintAgreementStatus::kAccepted;
    case AgreementStatus::kDone:
      return PrintAgreementStatus::kDone;
    case AgreementStatus::kPartly:
      return PrintAgreementStatus::kPartly;
    case AgreementStatus::kNotDone:
      return PrintAgreementStatus::kNotDone;
    case AgreementStatus::kBlocked:
      return PrintAgreementStatus::kBlocked;
    case AgreementStatus::kDropped:
      return PrintAgreementStatus::kDropped;
  }
  return PrintAgreementStatus::kProposed;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every plan the domain accepts must fit on paper (printout.h's limits).
static_assert(kMaxPrintTextBytes >= kMaxPlanTextBytes && kMaxPrintTextBytes >= kMaxShortTextBytes);
static_assert(kMaxPrintItems >= kMaxAgreements);

}  // namespace

Result<PrintablePlan> PrintoutFor(const v1::CaseState& state, const Bytes& reader_person_id,
                                  Language language, int64_t now_ms) {
  const std::string reader = S(reader_person_id);
  const v1::Entity* person = FindPerson(state, reader);
  // Someone taken out of the circle gets no new paper: what they had, they keep, nothing more.
  if (person != nullptr && FlagField(*person, "left")) {
    return FailedPrecondition("print.reader_left");
  }
  const std::string account = person == nullptr ? std::string() : BlobField(*person, "account_id");
  auto visible = [&](const v1::Entity& e) {
    if (e.deleted()) return false;
    const std::vector<std::string> hidden = HiddenFrom(e);
    if (std::find(hidden.begin(), hidden.end(), reader) != hidden.end()) return false;
    if (e.scope_id() == 0) return true;
    if (!account.empty()) return client::model::InScope(state, e.scope_id(), View(account));
    for (const v1::Value& v : SetValues(e, "visible_to")) {
      if (v.has_blob() && v.blob() == reader) return true;
    }
    return false;
  };
  // Other members' text as a printout can carry it: no control characters (render_text.h).
  auto one_line = [](const std::string& s) { return render::WithoutControlChars(s, false); };
  auto multi_line = [](const std::string& s) { return render::WithoutControlChars(s, true); };
  auto name_of = [&](const std::string& id) {
    const v1::Entity* p = FindPerson(state, id);
    return p == nullptr || !visible(*p) ? std::string() : one_line(TextField(*p, "name"));
  };
  // Paper is for people without the app, who cannot see what changes after it is printed: the
  // accepted plan, with a word when a newer version waits; without one, the newest, marked.
  const v1::Entity* newest = CurrentVersion(state);
  if (newest == nullptr || !visible(*newest)) return NotFound("plan.no_plan");
  const v1::Entity* accepted = AcceptedVersion(state);
  const v1::Entity* version = accepted != nullptr && visible(*accepted) ? accepted : newest;

  PrintablePlan out;
  out.accepted = version == accepted;
  if (version != newest) {
    out.newer_version_waiting =
        static_cast<uint32_t>(std::clamp<int64_t>(VersionNumber(state, *newest), 1, UINT32_MAX));
  }
  // The resident as the rules take them, one person on every device and every printout: the
  // person the first referral names, else the one entered as the resident (the chair's own person
  // first, then the first by id), never whichever the entity map happens to list last.
  if (const v1::Entity* resident = ResidentPerson(state);
      resident != nullptr && TextField(*resident, "kind") == "resident" && visible(*resident)) {
    out.resident_first_name = one_line(TextField(*resident, "name"));
  }
  PlanVersion v = VersionOf(state, *version);
  const v1::Entity* details = DetailsOf(state, *version);
  if (details != nullptr && !visible(*details)) v.content.life_domains.clear();
  out.plan_version = static_cast<uint32_t>(std::clamp<int64_t>(v.number, 1, UINT32_MAX));
  const Acceptance acc = ReadAcceptance(state, v.version_id);
  out.plan_date_utc_ms = acc.accepted ? acc.accepted_at_ms : (now_ms != 0 ? now_ms : NowMs());
  if (acc.accepted && acc.review_at_ms > 0) out.review_date_utc_ms = acc.review_at_ms;
  // Each part of the question as one item: the person's own line breaks are kept by the
  // renderer, and no sentence gets split into bullets it was not written as.
  auto item = [&](std::vector<std::string>& list, const std::string& text) {
    if (!text.empty()) list.push_back(multi_line(text));
  };
  item(out.i_want, v.content.ik_wil);
  item(out.i_can, v.content.ik_kan);
  item(out.i_need, v.content.ik_heb_nodig);
  for (std::string_view d : kLifeDomains) {
    auto it = v.content.life_domains.find(std::string(d));
    if (it != v.content.life_domains.end() && !it->second.empty()) {
      out.life_domains.push_back(
          {UserText("plan.domain." + std::string(d), language), multi_line(it->second)});
    }
  }
  out.bottom_lines = multi_line(v.content.bottom_lines);
  out.answers = multi_line(v.content.answers);
  out.contingency = multi_line(v.content.contingency);
  out.contact_person_name = name_of(S(v.content.contact_person));

  // Every agreement as it stands now (paper is how people without the app learn of theirs), each
  // one the printed version does not carry as it reads now marked: the header names that version.
  std::set<std::pair<Bytes, Bytes>> in_version;
  for (const AgreementRef& ref : v.agreements)
    in_version.emplace(ref.agreement_id, ref.content_hash);
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kAgreement || !visible(e)) continue;
    const Agreement a = AgreementOf(state, e);
    PrintAgreement p;
    p.not_in_version = in_version.count({a.agreement_id, AgreementHash(e)}) == 0;
    p.who = name_of(S(a.input.owner));
    p.who_left = a.owner_left;
    p.what = multi_line(a.input.action);
    if (a.current_due_ms() > 0) p.due_utc_ms = a.current_due_ms();
    p.recurrence = one_line(a.input.recurrence);
    p.checker = name_of(S(a.input.checker));
    p.status = PrintStatusOf(a.status);
    if (a.obstacle) {
      // Blocked: the new date counts; the first one stays in view, with what is in the way.
      if (a.input.due_ms > 0 && a.input.due_ms != a.current_due_ms()) {
        p.first_due_utc_ms = a.input.due_ms;
      }
      p.obstacle = multi_line(a.obstacle->description);
      p.obstacle_owner = name_of(S(a.obstacle->owner));
    }
    out.agreements.push_back(std::move(p));
  }
  std::sort(out.agreements.begin(), out.agreements.end(),
            [](const PrintAgreement& a, const PrintAgreement& b) {
              return std::tie(a.due_utc_ms, a.who, a.what) < std::tie(b.due_utc_ms, b.who, b.what);
            });

  // Who took part in the meeting the plan came from (the absent are not named: the printout is
  // the plan, not a register): the meeting finished last, else the newest one that has begun
  // (a vervolgberaad still being planned has no attendance).
  const v1::Entity* meeting = nullptr;
  auto rank = [](const v1::Entity& x) {
    const int64_t finished_at = IntField(x, "finished_at_ms");
    return std::make_tuple(finished_at != 0, finished_at,
                           x.created_seq() == 0 ? UINT64_MAX : x.created_seq());
  };
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kMeetingType || e.scope_id() != 0 || e.deleted() ||
        TextField(e, "status") == "cancelled") {
      continue;
    }
    const std::string phase = TextField(e, "phase");
    if (phase.empty() || phase == PhaseName(Phase::kNotStarted)) continue;
    if (meeting == nullptr || rank(e) > rank(*meeting)) meeting = &e;
  }
  if (meeting != nullptr) {
    const std::string prefix = kAttendancePrefix;
    for (const auto& [field, value] : meeting->fields()) {
      if (field.rfind(prefix, 0) != 0 || !value.value().has_text()) continue;
      const std::optional<Bytes> who = FromHex(std::string_view(field).substr(prefix.size()));
      if (!who) continue;
      const std::string name = name_of(S(*who));
      if (name.empty()) continue;
      const std::string& attendance = value.value().text();
      if (attendance == AttendanceName(Attendance::kPresent)) out.present.push_back(name);
      if (attendance == AttendanceName(Attendance::kWrittenView)) {
        out.written_views.push_back(name);
      }
    }
    std::sort(out.present.begin(), out.present.end());
    std::sort(out.written_views.begin(), out.written_views.end());
  }
  return out;
}

}  // namespace kring::domain
