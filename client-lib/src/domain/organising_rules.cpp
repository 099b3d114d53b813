#include "domain/organising_rules.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "kring/domain/organising.h"

#include "domain/private_time.h"
#include "domain/rule_refusals.h"

namespace kring::domain {

using client::model::FindMember;
using client::model::InScope;
using client::model::OpContext;
using client::model::WrittenInOp;

const v1::Entity* FindPersonEntity(const v1::CaseState& state, const std::string& person_id) {
  if (person_id.size() != 16) return nullptr;
  auto it = state.entities().find(Hex(View(person_id)));
  if (it == state.entities().end()) return nullptr;
  const v1::Entity& e = it->second;
  // Only scope 0: every reader of any op has it, so the rule's answer is the same everywhere.
  if (e.type() != kPersonType || e.scope_id() != 0 || e.deleted()) return nullptr;
  return &e;
}

const v1::Entity* PersonOfAccount(const v1::CaseState& state, ByteView account_id) {
  if (account_id.empty()) return nullptr;
  const v1::Entity* found = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kPersonType || e.scope_id() != 0 || e.deleted()) continue;
    const std::string account = BlobField(e, "account_id");
    if (account.empty() || !ConstantTimeEqual(View(account), account_id)) continue;
    // Deterministic when two persons name the same account: the first by id.
    if (found == nullptr || e.entity_id() < found->entity_id()) found = &e;
  }
  return found;
}

bool IsNetworkMember(const v1::CaseState& state, const v1::Member& member) {
  if (member.role() == v1::ROLE_COORDINATOR) return false;
  const v1::Entity* person = PersonOfAccount(state, View(member.account_id()));
  if (person == nullptr) return false;
  // Taken out of the circle: no longer part of the network's private time.
  const v1::Value* left = FieldValue(*person, "left");
  if (left != nullptr && left->flag()) return false;
  const std::string kind = TextField(*person, "kind");
  return kind != "professional" && kind != "coordinator";
}

bool InOpenPrivateTime(const v1::CaseState& state, ByteView account_id) {
  for (const auto& [key, e] : state.entities()) {
    // A cancelled or deleted meeting counts too: its scope and the draft's key stay until the
    // network releases the draft (a deleted meeting is restored for that first).
    if (e.type() != kMeetingType || e.scope_id() != 0) continue;
    if (TextField(e, "phase") != "private_time") continue;
    const v1::Value* released = FieldValue(e, "draft_released");
    if (released != nullptr && released->flag()) continue;
    const v1::Value* scope = FieldValue(e, "private_scope");
    if (scope == nullptr || !scope->has_integer()) continue;
    if (InScope(state, static_cast<uint32_t>(scope->integer()), account_id)) return true;
  }
  return false;
}

Status CheckControlPolicy(const v1::CaseState& state, const v1::ControlIntent& intent) {
  // A role change takes nobody out of a scope: a member in an open private time who became
  // coordinator would keep the draft's key.
  if (intent.has_set_role() && intent.set_role().role() == v1::ROLE_COORDINATOR &&
      InOpenPrivateTime(state, View(intent.set_role().account_id()))) {
    return FailedPrecondition("role.in_private_time");
  }
  return {};
}

namespace {

// The person the invitation `account` accepted (and waits on) was made for, or null.
const v1::Entity* PersonInvitedAs(const v1::CaseState& state, ByteView account) {
  if (account.empty()) return nullptr;
  const v1::Entity* found = nullptr;
  for (const v1::InviteState& invite : state.invites()) {
    if (invite.status() != v1::InviteState::ACCEPTED || invite.invite_id().empty() ||
        !ConstantTimeEqual(View(invite.accepted_by_account_id()), account)) {
      continue;
    }
    for (const auto& [key, e] : state.entities()) {
      if (e.type() != kPersonType || e.scope_id() != 0 || e.deleted()) continue;
      if (BlobField(e, "invite_id") != invite.invite_id()) continue;
      // Deterministic when two persons name the same invite: the first by id.
      if (found == nullptr || e.entity_id() < found->entity_id()) found = &e;
    }
  }
  return found;
}

}  // namespace

std::vector<v1::Mutation> InviteeLinkOnApproval(const v1::CaseState& state, ByteView approver,
                                                ByteView account) {
  const v1::Entity* person = PersonInvitedAs(state, account);
  if (person == nullptr) return {};
  const std::string linked = BlobField(*person, "account_id");
  if (!linked.empty()) return {};  // this account, or another one: never replaced silently
  const v1::Entity* other = PersonOfAccount(state, account);
  if (other != nullptr && other->entity_id() != person->entity_id()) return {};
  // What Organising::LinkAccount writes, based on the revisions seen.
  std::vector<v1::Mutation> out;
  auto set = [&](const std::string& field, v1::Value value) {
    v1::Mutation m;
    v1::SetField* sf = m.mutable_set_field();
    sf->set_entity_id(person->entity_id());
    sf->set_field(field);
    *sf->mutable_value() = std::move(value);
    auto f = person->fields().find(field);
    if (f != person->fields().end()) sf->set_base_revision(f->second.revision());
    out.push_back(std::move(m));
  };
  v1::Value blob;
  blob.set_blob(ToString(account));
  set("account_id", std::move(blob));
  v1::Value flag;
  flag.set_flag(true);
  set("has_app", std::move(flag));
  OpContext ctx;
  ctx.author_account_id = Bytes(approver.begin(), approver.end());
  for (const v1::Mutation& m : out) {
    if (!CheckOrganisingRule(state, ctx, m, person).empty()) return {};
  }
  return out;
}

namespace {

bool IsOrganisingType(std::string_view type) {
  for (std::string_view t :
       {kPersonType, kContactType, kReferralType, kPreTalkType, kSafetyNoteType, kParticipationType,
        kAbsentViewType, kPollType, kPollAnswerType, kMeetingType, kMeetingAddressType,
        kMeetingNoteType}) {
    if (type == t) return true;
  }
  return false;
}

struct Who {
  const v1::CaseState& state;
  ByteView account;
  const v1::Member* member;
  const OpContext& ctx;  // the op being checked: what it wrote before this mutation (WrittenInOp)
  bool manager() const {
    return member->role() == v1::ROLE_CHAIR || member->role() == v1::ROLE_COORDINATOR;
  }
  bool coordinator() const { return member->role() == v1::ROLE_COORDINATOR; }
  bool Created(const v1::Entity& e) const {
    return ConstantTimeEqual(View(e.created_by_account_id()), account);
  }
  bool Is(const v1::Entity& person) const {
    const std::string a = BlobField(person, "account_id");
    return !a.empty() && ConstantTimeEqual(View(a), account);
  }
};

// The refusal codes (rule_refusals.h): each says which rule refused, so the user learns who may.
using rule::kDenied;

}  // namespace

namespace {

// Where an entity was created in the log: a pending one (seq 0) counts as the newest.
uint64_t LogPosition(const v1::Entity& e) {
  return e.created_seq() == 0 ? std::numeric_limits<uint64_t>::max() : e.created_seq();
}

// A person a first referral may name as the resident: live in scope 0, of kind "resident", not
// declined and not taken out of the circle (such an entry is not the resident the organisers
// let in).
bool MayBeNamedResident(const v1::Entity& e) {
  if (e.type() != kPersonType || e.scope_id() != 0 || e.deleted()) return false;
  if (TextField(e, "kind") != "resident" || TextField(e, "status") == "declined") return false;
  const v1::Value* left = FieldValue(e, "left");
  return left == nullptr || !left->flag();
}

// The entity was made by the op being checked: created at its log position and every field of
// it written by that op. All pending ops share seq 0, so for one (only the author's own) a field
// it wrote must show it too: an entity one pending op created and a later one fills would
// otherwise count as the later op's here and as the earlier op's once both are confirmed.
bool MadeInThisOp(const v1::Entity& e, const OpContext& ctx) {
  if (e.created_seq() != ctx.seq || ctx.client_op_id.empty()) return false;
  const std::string op_id = ToString(ctx.client_op_id);
  bool wrote = false;
  for (const auto& [name, f] : e.fields()) {
    if (f.seq() != ctx.seq || f.revision() != op_id) return false;
    wrote = true;
  }
  return wrote || ctx.seq != 0;
}

// The person entered as the resident whom a first referral names (`op`: leaving out the persons
// that op makes itself). Ranked so that nobody but the organisers decides it: the chair's own
// person, then an approved entry (only the chair or a coordinator approves), then one the chair
// or a coordinator entered, then the first by id (the id is the writer's choice, so it only
// breaks ties): a member's kind "resident" proposal, even with a low id, never comes before the
// resident the organisers entered. Not the log position: every pending op has seq 0, so a device
// that entered the resident twice offline could not tell which the log puts first, and its
// referral would name one the reducer then refuses.
const v1::Entity* RankedResident(const v1::CaseState& state, const OpContext* op) {
  const auto rank = [&state](const v1::Entity& p) {
    const v1::Member* entered_by = FindMember(state, View(p.created_by_account_id()));
    const bool by_organiser = entered_by != nullptr && (entered_by->role() == v1::ROLE_CHAIR ||
                                                        entered_by->role() == v1::ROLE_COORDINATOR);
    return std::make_tuple(!IsLinkedToChair(state, p), TextField(p, "status") != "approved",
                           !by_organiser, p.entity_id());
  };
  const v1::Entity* found = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (!MayBeNamedResident(e)) continue;
    if (op != nullptr && MadeInThisOp(e, *op)) continue;
    if (found == nullptr || rank(e) < rank(*found)) found = &e;
  }
  return found;
}

}  // namespace

// The referral the case began with (the oldest by log position, then id; a pending one counts as
// newest), deleted or not: the person it names as resident is the one the circle is about.
const v1::Entity* FirstReferral(const v1::CaseState& state) {
  const v1::Entity* first = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kReferralType || e.scope_id() != 0) continue;
    if (first == nullptr || LogPosition(e) < LogPosition(*first) ||
        (LogPosition(e) == LogPosition(*first) && e.entity_id() < first->entity_id())) {
      first = &e;
    }
  }
  return first;
}

// Whose circle it is: never taken out of it. The resident the first referral names, and the
// person linked to the chair's account (whatever its kind says, as a coordinator may change the
// kind of others). The kind alone counts only while no referral names the resident: once one
// does, a kind "resident" on anyone else (written before that referral, or an old log's second
// resident) is not the reducer's resident (IsSecondResident), and counting it would keep such a
// person in the circle for good.
bool IsTheResident(const v1::CaseState& state, const v1::Entity& person) {
  if (IsLinkedToChair(state, person)) return true;
  const v1::Entity* referral = FirstReferral(state);
  const std::string named = referral == nullptr ? std::string() : BlobField(*referral, "resident");
  if (!named.empty()) return named == person.entity_id();
  return TextField(person, "kind") == "resident";
}

bool IsSecondResident(const v1::CaseState& state, const v1::Entity& person) {
  const v1::Entity* referral = FirstReferral(state);
  if (referral == nullptr) return false;
  const std::string resident = BlobField(*referral, "resident");
  return !resident.empty() && resident != person.entity_id();
}

const v1::Entity* EnteredResident(const v1::CaseState& state) {
  // The same person the reducer lets the first referral name (NamesResident), on every device.
  return RankedResident(state, nullptr);
}

const v1::Entity* ResidentPerson(const v1::CaseState& state) {
  const v1::Entity* referral = FirstReferral(state);
  const std::string named = referral == nullptr ? std::string() : BlobField(*referral, "resident");
  if (!named.empty()) return FindPersonEntity(state, named);
  return EnteredResident(state);
}

bool IsLinkedToChair(const v1::CaseState& state, const v1::Entity& person) {
  const std::string account = BlobField(person, "account_id");
  if (account.empty()) return false;
  const v1::Member* member = FindMember(state, View(account));
  return member != nullptr && member->role() == v1::ROLE_CHAIR;
}

bool MayReferFirst(const v1::CaseState& state, ByteView account_id) {
  const v1::Member* member = FindMember(state, account_id);
  if (member == nullptr) return false;
  if (member->role() == v1::ROLE_CHAIR || member->role() == v1::ROLE_COORDINATOR) return true;
  // A professional the organisers let into the circle as one (a member cannot approve their own
  // entry, so cannot declare themself a professional).
  const v1::Entity* person = PersonOfAccount(state, account_id);
  if (person == nullptr || TextField(*person, "kind") != "professional") return false;
  if (TextField(*person, "status") != "approved") return false;
  const v1::Value* left = FieldValue(*person, "left");
  return left == nullptr || !left->flag();
}

namespace {

// Contact details of a person: the coordinator(s) and chair, the person, and whoever proposed
// the person (who supplies the first channel).
bool MayWriteContactOf(const Who& who, const std::string& person_id) {
  const v1::Entity* person = FindPersonEntity(who.state, person_id);
  if (person == nullptr) return false;
  return who.manager() || who.Is(*person) || who.Created(*person);
}

// A person's poll answers: the person, or the coordinator for someone without the app.
bool MayAnswerFor(const Who& who, const std::string& person_id) {
  const v1::Entity* person = FindPersonEntity(who.state, person_id);
  if (person == nullptr) return false;
  if (who.Is(*person)) return true;
  return who.coordinator() && BlobField(*person, "account_id").empty();
}

// What kind of participant someone's account is (network, professional or coordinator) decides
// whether they are let into private time (IsNetworkMember), so nobody decides it for their own
// account: not the kind or link of the person linked to them, not removing or restoring that
// person, and not linking themself to a person, except as what keeps them out of private time (a
// coordinator enters themself in the circle) or, for the chair, as the resident they are.
bool ChangesOwnClass(const Who& who, const v1::Mutation& m, const v1::Entity& e) {
  if (m.has_delete_entity() || m.has_restore_entity()) return who.Is(e);
  if (!m.has_set_field()) return false;
  const std::string& field = m.set_field().field();
  if (field == "left") return who.Is(e);  // leaving the circle also leaves private time
  if (field != "kind" && field != "account_id") return false;
  // The chair's own link is theirs to change (CheckPerson keeps it from everyone else): unlinking
  // only takes the chair out of private time, and the account linked instead is judged as any.
  if (who.Is(e)) return !(field == "account_id" && who.member->role() == v1::ROLE_CHAIR);
  if (field != "account_id" || !m.set_field().value().has_blob() ||
      !ConstantTimeEqual(View(m.set_field().value().blob()), who.account)) {
    return false;
  }
  const std::string kind = TextField(e, "kind");
  const bool out_of_private_time = kind == "professional" || kind == "coordinator";
  const bool chair_as_resident = who.member->role() == v1::ROLE_CHAIR && kind == "resident";
  return !out_of_private_time && !chair_as_resident;
}

// Another live scope-0 person than `e` linked to `account` (empty: none can be).
bool AccountHasOtherPerson(const v1::CaseState& state, const std::string& account,
                           const v1::Entity& e) {
  if (account.empty()) return false;
  for (const auto& [key, other] : state.entities()) {
    if (other.type() != kPersonType || other.scope_id() != 0 || other.deleted()) continue;
    if (other.entity_id() == e.entity_id()) continue;
    const std::string linked = BlobField(other, "account_id");
    if (!linked.empty() && ConstantTimeEqual(View(linked), View(account))) return true;
  }
  return false;
}

std::string CheckPerson(const Who& who, const v1::Mutation& m, const v1::Entity* e) {
  if (m.has_create_entity()) return {};
  if (ChangesOwnClass(who, m, *e)) return rule::kOwnClass;
  if (e->scope_id() == 0) {
    // One live person per account, for everyone (the library says person.account_in_use):
    // PersonOfAccount takes the first by id, so a second person linked to the chair's account,
    // with a lower id, would decide who the chair is (their kind, private time) and take the
    // chair's link protection (IsLinkedToChair) with it.
    if (m.has_set_field() && m.set_field().field() == "account_id" &&
        m.set_field().value().has_blob() &&
        AccountHasOtherPerson(who.state, m.set_field().value().blob(), *e)) {
      return rule::kAccountInUse;
    }
    if (m.has_restore_entity() && e->deleted() &&
        AccountHasOtherPerson(who.state, BlobField(*e, "account_id"), *e)) {
      return rule::kAccountInUse;
    }
  }
  if (m.has_delete_entity() || m.has_restore_entity()) {
    // The resident never vanishes from their own case's circle, whoever asks (the chair too):
    // deleting their entry would also lock the chair out of the network. Ending the case is the
    // way out.
    if (m.has_delete_entity() && IsTheResident(who.state, *e)) return rule::kResidentStays;
    return who.manager() ? "" : rule::kManagers;
  }
  if (m.has_set_field() && m.set_field().field() == "pretalk_held") {
    // That a pre-talk was held: written with the pre-talk, which only a coordinator logs.
    return who.coordinator() ? "" : rule::kCoordinator;
  }
  if (m.has_set_field() &&
      (m.set_field().field() == "left" || m.set_field().field() == "left_at_ms")) {
    // Taking someone out of the circle (or back in) is for those who let them in; the resident's
    // circle is about them, so they are never taken out of it.
    if (!who.manager()) return rule::kManagers;
    const bool leaves = m.set_field().field() == "left" && m.set_field().value().flag();
    return leaves && IsTheResident(who.state, *e) ? rule::kResidentStays : "";
  }
  if (m.has_set_field() && m.set_field().field() == "kind" &&
      m.set_field().value().text() == "resident" && TextField(*e, "kind") != "resident" &&
      IsSecondResident(who.state, *e)) {
    // The case has one resident, the one its first referral names: nobody makes another person
    // resident (a later referral's or a proposal's new resident person), as such a person could
    // never be taken out of the circle again (IsTheResident).
    return rule::kSecondResident;
  }
  if (m.has_set_field() && m.set_field().field() == "kind" && e->fields().count("kind") != 0) {
    // Who the resident is, is the chair's to change (a coordinator could otherwise make the
    // resident a relative and take them out of the circle). The first kind is set with the entry.
    const std::string before = TextField(*e, "kind");
    const std::string& after = m.set_field().value().text();
    // The chair's own person counts as the resident's whatever its kind says (IsLinkedToChair):
    // its kind decides the chair's place in private time, so it is the chair's too.
    const bool residents =
        before == "resident" || after == "resident" || IsLinkedToChair(who.state, *e);
    if (before != after && residents && who.member->role() != v1::ROLE_CHAIR) {
      return rule::kChair;
    }
  }
  if (m.has_set_field() && m.set_field().field() == "account_id" &&
      who.member->role() != v1::ROLE_CHAIR && IsLinkedToChair(who.state, *e)) {
    // The person linked to the chair's account is the resident's (IsTheResident): a coordinator
    // who moved or cleared that link would take the protection away. Only the chair changes it;
    // writing the same account again changes nothing.
    const v1::Value& after = m.set_field().value();
    if (!after.has_blob() || after.blob() != BlobField(*e, "account_id")) return rule::kChairLink;
  }
  if (who.manager()) return {};
  if (m.has_set_field()) {
    const std::string& field = m.set_field().field();
    if (field == "status") {
      // A proposer marks a new person as proposed; approving and declining is for the chair
      // or coordinator.
      const bool first = e->fields().count("status") == 0;
      return first && m.set_field().value().text() == "proposed" ? "" : rule::kManagers;
    }
    if (field == "account_id" || field == "invite_id" || field == "invite_state") {
      return rule::kManagers;
    }
  }
  if (TextField(*e, "status") == "approved") {
    // Once in the circle an entry is the person's own: the proposer no longer edits it, and only
    // the organisers change what kind of participant someone is (it decides private time).
    if (m.has_set_field() && m.set_field().field() == "kind") return rule::kManagers;
    return who.Is(*e) ? "" : rule::kApprovedEntry;
  }
  // A professional (or anyone) cannot edit someone else's entry: only its proposer or the
  // person themself.
  return who.Created(*e) || who.Is(*e) ? "" : rule::kProposedEntry;
}

// `refused`: the code when `may` says no (who may write for that person).
std::string CheckForPerson(const Who& who, const v1::Mutation& m, const v1::Entity* e,
                           bool (*may)(const Who&, const std::string&), const char* refused) {
  if (m.has_create_entity()) return {};
  if (m.has_set_field() && m.set_field().field() == "person") {
    // The person an entry is about is fixed once: it decides who may write the rest.
    if (e->fields().count("person") != 0) return rule::kFixed;
    return may(who, m.set_field().value().blob()) ? "" : refused;
  }
  const std::string person = BlobField(*e, "person");
  if (person.empty()) {
    // Nothing but the person may be written first; an entry about no one can only be removed.
    return who.Created(*e) && (m.has_delete_entity() || m.has_restore_entity()) ? "" : kDenied;
  }
  return may(who, person) ? "" : refused;
}

bool MayWriteAbsentView(const Who& who, const std::string& person_id) {
  const v1::Entity* person = FindPersonEntity(who.state, person_id);
  return person != nullptr && (who.manager() || who.Is(*person));
}

bool IsAttendance(const v1::Value& v) {
  if (!v.has_text()) return false;
  for (Attendance a : {Attendance::kPresent, Attendance::kWrittenView, Attendance::kAbsent}) {
    if (v.text() == AttendanceName(a)) return true;
  }
  return false;
}

bool Started(const v1::Entity& meeting) {
  const std::string phase = TextField(meeting, "phase");
  return !phase.empty() && phase != PhaseName(Phase::kNotStarted);
}

uint32_t PrivateScopeOf(const v1::Entity& meeting) {
  const v1::Value* scope = FieldValue(meeting, "private_scope");
  return scope != nullptr && scope->has_integer() ? static_cast<uint32_t>(scope->integer()) : 0;
}

bool Released(const v1::Entity& meeting) {
  const v1::Value* released = FieldValue(meeting, "draft_released");
  return released != nullptr && released->flag();
}

// Private time that is open: the network holds a scope and has not released its draft (what
// InOpenPrivateTime counts).
bool OpenPrivateTime(const v1::Entity& meeting) {
  return TextField(meeting, "phase") == PhaseName(Phase::kPrivateTime) &&
         PrivateScopeOf(meeting) != 0 && !Released(meeting);
}

// The network ends its private time once it has released it: a network member in the private
// scope moves the meeting on to the plan presentation (the op that makes its plan version,
// Plan::Publish), and stamps when. Besides `network_version` (CheckMeeting) nothing else of the
// meeting is theirs to change.
bool EndsReleasedPrivateTime(const Who& who, const v1::Mutation& m, const v1::Entity& meeting) {
  if (!m.has_set_field() || TextField(meeting, "status") == "cancelled" || !Released(meeting) ||
      !IsNetworkMember(who.state, *who.member) ||
      !InScope(who.state, PrivateScopeOf(meeting), who.account)) {
    return false;
  }
  const std::string presentation = PhaseName(Phase::kPlanPresentation);
  const v1::SetField& f = m.set_field();
  if (f.field() == "phase") {
    return f.value().text() == presentation &&
           TextField(meeting, "phase") == PhaseName(Phase::kPrivateTime);
  }
  if (f.field() == "phase_" + presentation + "_at_ms") {
    auto phase = meeting.fields().find("phase");
    return f.value().has_time_ms() && TextField(meeting, "phase") == presentation &&
           phase != meeting.fields().end() && WrittenInOp(phase->second, who.ctx);
  }
  return false;
}

std::string CheckMeeting(const Who& who, const v1::Mutation& m, const v1::Entity* e) {
  // A finished meeting is a record: nothing about it changes any more, on any device.
  if (FieldValue(*e, "finished_at_ms") != nullptr) return rule::kFinished;
  if (m.has_set_field() && m.set_field().field() == "finished_at_ms") {
    if (!who.manager()) return rule::kManagers;
    if (!m.set_field().value().has_time_ms()) return kDenied;
    if (TextField(*e, "status") == "cancelled") return rule::kCancelled;
    return TextField(*e, "phase") == PhaseName(Phase::kAcceptance) ? "" : rule::kPhaseOrder;
  }
  if (m.has_set_field() && m.set_field().field().rfind(kAttendancePrefix, 0) == 0) {
    // Attendance is recorded once the meeting has begun, by the organisers.
    if (!who.manager()) return rule::kManagers;
    if (!IsAttendance(m.set_field().value())) return kDenied;
    // One spelling per person (lowercase hex of an approved person in the circle), so no two
    // fields can answer for the same person.
    const std::string& field = m.set_field().field();
    const std::optional<Bytes> person =
        FromHex(std::string_view(field).substr(sizeof(kAttendancePrefix) - 1));
    if (!person || field != kAttendancePrefix + Hex(*person)) return kDenied;
    const v1::Entity* entry = FindPersonEntity(who.state, ToString(*person));
    if (entry == nullptr || TextField(*entry, "status") != "approved") return kDenied;
    if (TextField(*e, "status") == "cancelled") return rule::kCancelled;
    return Started(*e) ? "" : rule::kNotStarted;
  }
  if (m.has_set_field() &&
      (m.set_field().field() == "draft_released" || m.set_field().field() == "released_at_ms")) {
    // The network releases its own draft; professionals and the coordinator cannot.
    if (!IsNetworkMember(who.state, *who.member)) return rule::kNetworkReleases;
    const v1::Value* scope = FieldValue(*e, "private_scope");
    const uint32_t scope_id =
        scope != nullptr && scope->has_integer() ? static_cast<uint32_t>(scope->integer()) : 0;
    // No private scope yet: private time has not begun. A network member kept out of it (the
    // chair chose who takes part) is told that only those in it release.
    if (scope_id == 0) return rule::kNotPrivateTime;
    if (!InScope(who.state, scope_id, who.account)) return rule::kNotInPrivateTime;
    return TextField(*e, "phase") == "private_time" ? "" : rule::kNotPrivateTime;
  }
  if (m.has_set_field() && m.set_field().field() == "private_scope") {
    // Private time is the network's alone: its scope may hold no professional or coordinator.
    if (!who.manager()) return rule::kManagers;
    if (!m.set_field().value().has_integer()) return kDenied;
    // Nor is it moved to another scope while open: the draft's key and notes stay where the
    // network has them until it releases them.
    if (OpenPrivateTime(*e)) return rule::kPrivateTimeOpen;
    const int64_t id = m.set_field().value().integer();
    auto scope = who.state.scopes().find(static_cast<uint32_t>(id));
    if (scope == who.state.scopes().end()) return kDenied;
    for (const std::string& account : scope->second.members()) {
      const v1::Member* member = FindMember(who.state, View(account));
      if (member == nullptr || !IsNetworkMember(who.state, *member)) return kDenied;
    }
    return {};
  }
  if (m.has_set_field() && m.set_field().field() == kNetworkVersionField) {
    // Names the network's one plan version, in the op that makes it (NetworkMakesVersion):
    // written once, by the network. An organiser has no need of it (their versions need none).
    if (!IsNetworkMember(who.state, *who.member)) return rule::kNetworkReleases;
    return MayNameNetworkVersion(who.state, *e, who.account, m.set_field().value())
               ? ""
               : rule::kNetworkVersionMade;
  }
  if (!who.manager() && EndsReleasedPrivateTime(who, m, *e)) return {};
  if (m.has_set_field() && m.set_field().field() == "phase" && OpenPrivateTime(*e) &&
      m.set_field().value().text() != PhaseName(Phase::kPrivateTime)) {
    // Private time ends only with the network's release (as StartPhase asks): no organiser's
    // phase edit ends it early, forward or back, which would also end it for InOpenPrivateTime.
    // A private time without a scope was never open (nobody can release it): an organiser may
    // move such a meeting on, so it is not stuck.
    return rule::kPrivateTimeOpen;
  }
  return who.manager() ? "" : rule::kManagers;
}

const v1::Entity* MeetingEntity(const v1::CaseState& state, const std::string& id) {
  if (id.size() != 16) return nullptr;
  auto it = state.entities().find(Hex(View(id)));
  if (it == state.entities().end()) return nullptr;
  const v1::Entity& e = it->second;
  if (e.type() != kMeetingType || e.scope_id() != 0 || e.deleted()) return nullptr;
  return &e;
}

// The writer is a network member in the meeting's private time.
bool NetworkInPrivateTime(const Who& who, const v1::Entity& meeting) {
  const uint32_t private_scope = PrivateScopeOf(meeting);
  return private_scope != 0 && IsNetworkMember(who.state, *who.member) &&
         InScope(who.state, private_scope, who.account);
}

// The release: the network has released its draft and the next phase has not begun. Only then
// may a network member copy the private-time notes to the whole circle.
bool InRelease(const Who& who, const v1::Entity& meeting) {
  return Released(meeting) && TextField(meeting, "phase") == PhaseName(Phase::kPrivateTime) &&
         NetworkInPrivateTime(who, meeting);
}

// Who may write a note about `meeting` into a note entity of `note_scope`.
bool MayNote(const Who& who, const v1::Entity& meeting, uint32_t note_scope) {
  if (TextField(meeting, "status") == "cancelled" || !Started(meeting)) return false;
  if (note_scope == 0) {
    // The organisers write for the whole circle; the network shares its private-time notes
    // at the release.
    return who.manager() || InRelease(who, meeting);
  }
  // In private time: only the network, only into that private time's scope, until released.
  return note_scope == PrivateScopeOf(meeting) && NetworkInPrivateTime(who, meeting) &&
         !Released(meeting) && TextField(meeting, "phase") == PhaseName(Phase::kPrivateTime);
}

// The notes about `meeting_id` in `scope` this state holds.
size_t NoteCount(const v1::CaseState& state, const std::string& meeting_id, uint32_t scope) {
  size_t n = 0;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() == kMeetingNoteType && e.scope_id() == scope && !e.deleted() &&
        BlobField(e, "meeting") == meeting_id) {
      ++n;
    }
  }
  return n;
}

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n\v\f") == std::string::npos;
}

bool IsPhaseName(const std::string& s) {
  for (Phase p :
       {Phase::kInformation, Phase::kPrivateTime, Phase::kPlanPresentation, Phase::kAcceptance}) {
    if (s == PhaseName(p)) return true;
  }
  return false;
}

// Notes are a record: written once by their author, never changed or removed; the meeting they
// are about is written first and decides who may write. Only the known fields, each of its type.
std::string CheckMeetingNote(const Who& who, const v1::Mutation& m, const v1::Entity* e) {
  if (m.has_create_entity()) return {};
  if (!m.has_set_field() || !who.Created(*e)) return rule::kNoteWritten;
  const std::string& field = m.set_field().field();
  const v1::Value& v = m.set_field().value();
  if (e->fields().count(field) != 0) return rule::kNoteWritten;
  if (field == "meeting") {
    const v1::Entity* meeting = MeetingEntity(who.state, v.blob());
    if (meeting == nullptr) return kDenied;
    // A cancelled or not yet started meeting takes no notes from anyone: say that, not who may.
    if (TextField(*meeting, "status") == "cancelled") return rule::kCancelled;
    if (!Started(*meeting)) return rule::kNotStarted;
    if (!MayNote(who, *meeting, e->scope_id())) return rule::kNote;
    // At most kMaxMeetingNotes per meeting in each scope; the release may copy up to as many
    // private-time notes again to the whole circle.
    const size_t limit =
        e->scope_id() == 0 && InRelease(who, *meeting) ? 2 * kMaxMeetingNotes : kMaxMeetingNotes;
    return NoteCount(who.state, v.blob(), e->scope_id()) < limit ? "" : rule::kTooManyNotes;
  }
  const v1::Entity* meeting = MeetingEntity(who.state, BlobField(*e, "meeting"));
  if (meeting == nullptr) return kDenied;
  if (field == "text") {
    return v.has_text() && !IsBlank(v.text()) && v.text().size() <= kMaxMeetingNote ? "" : kDenied;
  }
  if (field == "written_at_ms") return v.has_time_ms() ? "" : kDenied;
  if (field == "phase") return v.has_text() && IsPhaseName(v.text()) ? "" : kDenied;
  if (field == "private_time") return v.has_flag() ? "" : kDenied;
  if (field == "author" || field == "copy_of") {
    // Only on the circle's copy of a private-time note, made at the release by the network;
    // the first author is someone in that private time.
    if (e->scope_id() != 0 || !InRelease(who, *meeting)) return kDenied;
    if (!v.has_blob() || v.blob().size() != 16) return kDenied;
    if (field == "author" && !InScope(who.state, PrivateScopeOf(*meeting), View(v.blob()))) {
      return kDenied;
    }
    return {};
  }
  return kDenied;
}

// An exact meeting address is part of the meeting: it no longer changes once the meeting is
// finished (no new address, no removing or restoring one).
std::string CheckMeetingAddress(const Who& who, const v1::Mutation& m, const v1::Entity* e) {
  if (!who.manager()) return rule::kManagers;
  if (m.has_create_entity()) return {};
  const std::string meeting_id = m.has_set_field() && m.set_field().field() == "meeting"
                                     ? m.set_field().value().blob()
                                     : BlobField(*e, "meeting");
  const v1::Entity* meeting = MeetingEntity(who.state, meeting_id);
  if (meeting != nullptr && FieldValue(*meeting, "finished_at_ms") != nullptr) {
    return rule::kFinished;
  }
  return {};
}

// The first referral names for good who the resident is (the field is fixed, the referral never
// deleted), and from then on only that person counts as the resident (IsTheResident,
// IsSecondResident). So it names the resident the organisers entered, and it does so in the op
// that makes it: a referral made without a resident is not named later, by its creator or an
// organiser, after the circle has changed. When a person was entered as the resident before
// this op, it names that person (RankedResident, the same one SubmitReferral names): a person
// the referral's op enters itself, a proposer's low-id entry, a made-up id, a relative or the
// referrer's own person would take "resident stays" from the real resident and leave the case
// without one for good. Only when nobody was entered as the resident does the op enter one and
// name them.
bool NamesResident(const Who& who, const OpContext& ctx, const v1::Value& value,
                   const v1::Entity& referral) {
  if (!who.Created(referral) || !MadeInThisOp(referral, ctx)) return false;
  if (!value.has_blob()) return false;
  const v1::Entity* person = FindPersonEntity(who.state, value.blob());
  if (person == nullptr || !MayBeNamedResident(*person)) return false;
  if (const v1::Entity* entered = RankedResident(who.state, &ctx)) return entered == person;
  return MadeInThisOp(*person, ctx);
}

}  // namespace

std::string CheckOrganisingRule(const v1::CaseState& state, const OpContext& ctx,
                                const v1::Mutation& m, const v1::Entity* target) {
  const v1::Entity* e = nullptr;
  std::string type;
  if (m.has_create_entity()) {
    type = m.create_entity().type();
  } else {
    if (target == nullptr) return {};
    e = target;
    type = e->type();
  }
  if (!IsOrganisingType(type)) return {};
  const v1::Member* member = FindMember(state, ctx.author_account_id);
  if (member == nullptr) return rule::kNotAMember;
  const Who who{state, ctx.author_account_id, member, ctx};

  if (type == kPersonType) return CheckPerson(who, m, e);
  if (type == kContactType) return CheckForPerson(who, m, e, &MayWriteContactOf, rule::kContact);
  if (type == kPollAnswerType) {
    if (m.has_set_field() && m.set_field().field() == "poll") {
      return e->fields().count("poll") == 0 && who.Created(*e) ? "" : rule::kFixed;
    }
    return CheckForPerson(who, m, e, &MayAnswerFor, rule::kPollAnswer);
  }
  if (type == kAbsentViewType) {
    return CheckForPerson(who, m, e, &MayWriteAbsentView, rule::kAbsentView);
  }
  if (type == kReferralType) {
    if (m.has_create_entity()) {
      // The first referral names the resident for the rest of the case (IsTheResident): made by
      // the resident, a coordinator or a professional in the circle (DOMAIN.md step 0), never by
      // any member. Later referrals change nothing of that.
      return FirstReferral(state) != nullptr || MayReferFirst(state, ctx.author_account_id)
                 ? ""
                 : rule::kFirstReferral;
    }
    // The first referral is the case's (GetReferral, the resident it names): never deleted, by
    // anyone, as the resident's person is not.
    if (m.has_delete_entity()) {
      const v1::Entity* first = FirstReferral(state);
      if (first != nullptr && first->entity_id() == e->entity_id()) {
        return rule::kFirstReferralStays;
      }
    }
    if (m.has_set_field() && m.set_field().field().rfind("coordinator_", 0) == 0) {
      return who.manager() ? "" : rule::kManagers;
    }
    // Whose referral it is, is fixed once: it names the resident, who stays in the circle.
    if (m.has_set_field() && m.set_field().field() == "resident" &&
        e->fields().count("resident") != 0) {
      return rule::kFixed;
    }
    if (m.has_set_field() && m.set_field().field() == "resident") {
      const v1::Entity* first = FirstReferral(state);
      if (first != nullptr && first->entity_id() != e->entity_id()) {
        // A later referral is about the case's resident: it names the person the first one
        // names, nobody else (who would then count as the resident, IsTheResident).
        if (m.set_field().value().blob() != BlobField(*first, "resident")) {
          return rule::kReferralResident;
        }
      } else if (!NamesResident(who, ctx, m.set_field().value(), *e)) {
        return rule::kFirstReferralResident;
      }
    }
    // Only the resident refers as the resident, and the resident holds the chair's account: a
    // referral says so only when the chair made it, and only the chair writes it.
    if (m.has_set_field() && m.set_field().field() == "referrer_kind" &&
        m.set_field().value().text() == "resident" &&
        (member->role() != v1::ROLE_CHAIR || !who.Created(*e))) {
      return rule::kReferrerResident;
    }
    if (who.manager() || who.Created(*e)) return {};
    return m.has_set_field() && m.set_field().field() == "spoed" ? rule::kSpoed : rule::kReferral;
  }
  if (type == kPreTalkType || type == kSafetyNoteType) {
    return who.coordinator() ? "" : rule::kCoordinator;
  }
  if (type == kMeetingNoteType) return CheckMeetingNote(who, m, e);
  if (type == kMeetingAddressType) return CheckMeetingAddress(who, m, e);
  if (type == kMeetingType) {
    if (m.has_create_entity()) return who.manager() ? "" : rule::kManagers;
    return CheckMeeting(who, m, e);
  }
  // poll, participation: the chair and coordinator organise.
  return who.manager() ? "" : rule::kManagers;
}

}  // namespace kring::domain
