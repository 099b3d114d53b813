#include "kring/domain/organising.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "kring/common/crypto.h"
#include "kring/domain/names.h"

#include "domain/organising_rules.h"
#include "domain/plan_model.h"
#include "domain/plan_ops.h"
#include "domain/plan_release.h"
#include "domain/rule_refusals.h"
#include "model/content_rules.h"
#include "model/reducer.h"
#include "model/values.h"

namespace kring::domain {
namespace {

using client::model::BlobValue;
using client::model::FlagValue;
using client::model::IntValue;
using client::model::NewEntityId;
using client::model::NewId;
using client::model::TextValue;
using client::model::TimeValue;

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr size_t kMaxLanguage = 16;
constexpr size_t kMaxAddress = 400;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Invalid(const char* key) { return InvalidArgument(key); }
Status Denied() { return PermissionDenied("domain.not_allowed"); }
// A call only the chair or a coordinator makes (the reducer's rules say the same, as
// refused.managers_only, for the edits they check).
Status ManagersOnly() { return PermissionDenied(kManagersOnly); }
Status Unknown() { return NotFound("domain.unknown_item"); }

std::string S(const Bytes& b) { return ToString(b); }
Bytes B(const std::string& s) { return ToBytes(s); }

v1::Mutation Create(const std::string& id, const char* type) {
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(id);
  m.mutable_create_entity()->set_type(type);
  return m;
}

// Based on the revision this device sees, so a concurrent edit becomes a visible conflict.
v1::Mutation Set(const std::string& id, const std::string& field, const v1::Value& value,
                 const v1::Entity* current = nullptr) {
  v1::Mutation m;
  v1::SetField* sf = m.mutable_set_field();
  sf->set_entity_id(id);
  sf->set_field(field);
  *sf->mutable_value() = value;
  if (current != nullptr) {
    auto f = current->fields().find(field);
    if (f != current->fields().end()) sf->set_base_revision(f->second.revision());
  }
  return m;
}

// An element id that sorts in the order the items were entered (Elements reads a set in id
// order): the position in the list first, then random bytes as in any id. Bottom lines and
// questions are read back in the order the referrer wrote them.
std::string OrderedElementId(size_t position) {
  std::string id = NewId();
  id[0] = static_cast<char>((position >> 8) & 0xff);
  id[1] = static_cast<char>(position & 0xff);
  return id;
}

v1::Mutation Add(const std::string& id, const std::string& set, const std::string& element_id,
                 const v1::Value& value) {
  v1::Mutation m;
  v1::SetAdd* a = m.mutable_set_add();
  a->set_entity_id(id);
  a->set_set(set);
  a->set_element_id(element_id);
  a->set_add_tag(NewId());
  *a->mutable_value() = value;
  return m;
}

v1::Mutation Delete(const std::string& id) {
  v1::Mutation m;
  m.mutable_delete_entity()->set_entity_id(id);
  return m;
}

int64_t TimeField(const v1::Entity& e, const std::string& field) {
  const v1::Value* v = FieldValue(e, field);
  return v != nullptr && v->has_time_ms() ? v->time_ms() : 0;
}
int64_t IntField(const v1::Entity& e, const std::string& field) {
  const v1::Value* v = FieldValue(e, field);
  return v != nullptr && v->has_integer() ? v->integer() : 0;
}
bool FlagField(const v1::Entity& e, const std::string& field) {
  const v1::Value* v = FieldValue(e, field);
  return v != nullptr && v->has_flag() && v->flag();
}

// Live elements of a set, in element-id order (the same on every device).
std::vector<const v1::SetElement*> Elements(const v1::Entity& e, const std::string& set) {
  std::vector<const v1::SetElement*> out;
  auto it = e.sets().find(set);
  if (it == e.sets().end()) return out;
  std::map<std::string, const v1::SetElement*> sorted;
  for (const auto& [key, el] : it->second.elements()) {
    if (el.live_tags_size() > 0) sorted[key] = &el;
  }
  for (const auto& [key, el] : sorted) out.push_back(el);
  return out;
}

// Newest first by log position; pending (seq 0) edits are newer than anything confirmed.
uint64_t Position(const v1::Entity& e) {
  return e.created_seq() == 0 ? std::numeric_limits<uint64_t>::max() : e.created_seq();
}
bool NewerThan(const v1::Entity& a, const v1::Entity& b) {
  if (Position(a) != Position(b)) return Position(a) > Position(b);
  return a.entity_id() > b.entity_id();
}

const v1::Entity* FindTyped(const v1::CaseState& view, const std::string& id, const char* type) {
  auto it = view.entities().find(Hex(View(id)));
  if (it == view.entities().end()) return nullptr;
  if (it->second.type() != type || it->second.deleted()) return nullptr;
  return &it->second;
}

std::vector<const v1::Entity*> AllOf(const v1::CaseState& view, const char* type) {
  std::vector<const v1::Entity*> out;
  for (const auto& [key, e] : view.entities()) {
    if (e.type() == type && !e.deleted()) out.push_back(&e);
  }
  std::sort(out.begin(), out.end(),
            [](const v1::Entity* a, const v1::Entity* b) { return NewerThan(*b, *a); });
  return out;
}

// Entities of `type` whose `person` field names person_id, oldest first.
std::vector<const v1::Entity*> AboutPerson(const v1::CaseState& view, const char* type,
                                           const std::string& person_id) {
  std::vector<const v1::Entity*> out;
  for (const v1::Entity* e : AllOf(view, type)) {
    if (BlobField(*e, "person") == person_id) out.push_back(e);
  }
  return out;
}

bool IsRole(const v1::CaseState& view, const Bytes& account, v1::Role role) {
  const v1::Member* m = client::model::FindMember(view, account);
  return m != nullptr && m->role() == role;
}
bool IsManager(const v1::CaseState& view, const Bytes& account) {
  return IsRole(view, account, v1::ROLE_CHAIR) || IsRole(view, account, v1::ROLE_COORDINATOR);
}
std::vector<Bytes> WithRole(const v1::CaseState& view, v1::Role role) {
  std::vector<Bytes> out;
  for (const auto& m : view.members()) {
    if (m.role() == role) out.push_back(B(m.account_id()));
  }
  return out;
}
std::vector<Bytes> Coordinators(const v1::CaseState& view) {
  return WithRole(view, v1::ROLE_COORDINATOR);
}
// Coordinators plus the chair: the people who organise and may see all poll answers.
std::vector<Bytes> Organisers(const v1::CaseState& view) {
  std::vector<Bytes> out = Coordinators(view);
  for (const Bytes& chair : WithRole(view, v1::ROLE_CHAIR)) out.push_back(chair);
  return out;
}

bool ValidKind(const std::string& kind) {
  for (const char* k : {"resident", "family", "friend", "neighbour", "child", "advocate", "mentor",
                        "professional", "coordinator"}) {
    if (kind == k) return true;
  }
  return false;
}

bool ValidPhone(const std::string& phone) {
  int digits = 0;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c != ' ' && c != '-' && c != '+' && c != '(' && c != ')') {
      return false;
    }
  }
  return digits >= 6 && digits <= 15;
}

Status ValidateContact(const ContactDetails& c) {
  if (c.phone.size() > kMaxShortText || c.email.size() > kMaxShortText ||
      c.address.size() > kMaxAddress) {
    return Invalid("contact.too_long");
  }
  if (!c.phone.empty() && !ValidPhone(c.phone)) return Invalid("contact.phone_invalid");
  if (!c.email.empty()) {
    auto at = c.email.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= c.email.size() ||
        c.email.find(' ') != std::string::npos) {
      return Invalid("contact.email_invalid");
    }
  }
  return {};
}

Status ValidatePerson(const PersonInput& p) {
  if (p.name.empty()) return Invalid("person.name_missing");
  if (p.name.size() > kMaxShortText || p.relation.size() > kMaxShortText ||
      p.organisation.size() > kMaxShortText || p.function.size() > kMaxShortText) {
    return Invalid("person.text_too_long");
  }
  if (!ValidKind(p.kind)) return Invalid("person.kind_invalid");
  if (p.kind != "resident" && p.relation.empty()) return Invalid("person.relation_missing");
  if (p.kind == "professional" && p.organisation.empty()) {
    return Invalid("person.organisation_missing");
  }
  if (p.kind == "professional" && p.function.empty()) return Invalid("person.function_missing");
  if (p.language.size() < 2 || p.language.size() > kMaxLanguage) {
    return Invalid("person.language_invalid");
  }
  if (!p.account_id.empty() && (p.account_id.size() != crypto::kIdBytes || !p.has_app)) {
    return Invalid("person.account_invalid");
  }
  return ValidateContact(p.contact);
}

Status ValidateText(const std::string& s, size_t max, const char* too_long_key) {
  return s.size() > max ? Invalid(too_long_key) : Status();
}

void PersonFields(const std::string& id, const PersonInput& p, const std::string& status,
                  std::vector<v1::Mutation>& out) {
  out.push_back(Create(id, kPersonType));
  out.push_back(Set(id, "name", TextValue(p.name)));
  out.push_back(Set(id, "relation", TextValue(p.relation)));
  out.push_back(Set(id, "kind", TextValue(p.kind)));
  if (!p.organisation.empty()) out.push_back(Set(id, "organisation", TextValue(p.organisation)));
  if (!p.function.empty()) out.push_back(Set(id, "function", TextValue(p.function)));
  out.push_back(Set(id, "language", TextValue(p.language)));
  out.push_back(Set(id, "interpreter", FlagValue(p.interpreter)));
  out.push_back(Set(id, "has_app", FlagValue(p.has_app)));
  out.push_back(Set(id, "status", TextValue(status)));
  // Linking an account is the organisers' call (the rules refuse it from anyone else).
  if (!p.account_id.empty()) out.push_back(Set(id, "account_id", BlobValue(S(p.account_id))));
}

Person PersonFrom(const v1::CaseState& view, const v1::Entity& e) {
  Person p;
  p.person_id = B(e.entity_id());
  p.name = TextField(e, "name");
  p.relation = TextField(e, "relation");
  p.kind = TextField(e, "kind");
  p.organisation = TextField(e, "organisation");
  p.function = TextField(e, "function");
  p.language = TextField(e, "language");
  p.interpreter = FlagField(e, "interpreter");
  p.has_app = FlagField(e, "has_app");
  p.account_id = B(BlobField(e, "account_id"));
  p.status = TextField(e, "status");
  p.invite_id = B(BlobField(e, "invite_id"));
  p.proposed_by_account_id = B(e.created_by_account_id());
  p.pretalk_held = FlagField(e, "pretalk_held");
  p.left = FlagField(e, "left");
  p.left_at_ms = p.left ? TimeField(e, "left_at_ms") : 0;
  // Not a member: taken out, or not in yet (the fold keeps who was removed, as nothing else
  // tells the two apart).
  if (!p.account_id.empty() && client::model::FindMember(view, p.account_id) == nullptr) {
    p.account_removed = client::model::WasRemoved(view, p.account_id);
    p.account_not_joined = !p.account_removed;
  }
  return p;
}

std::string EncodeSlot(int64_t start, int64_t end) {
  std::string out(16, '\0');
  for (size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((static_cast<uint64_t>(start) >> (56 - 8 * i)) & 0xff);
    out[8 + i] = static_cast<char>((static_cast<uint64_t>(end) >> (56 - 8 * i)) & 0xff);
  }
  return out;
}

std::optional<std::pair<int64_t, int64_t>> DecodeSlot(const std::string& b) {
  if (b.size() != 16) return std::nullopt;
  uint64_t s = 0, e = 0;
  for (size_t i = 0; i < 8; ++i) {
    s = (s << 8) | static_cast<uint8_t>(b[i]);
    e = (e << 8) | static_cast<uint8_t>(b[8 + i]);
  }
  return std::make_pair(static_cast<int64_t>(s), static_cast<int64_t>(e));
}

std::string SlotField(const std::string& slot_id) { return "slot_" + Hex(View(slot_id)); }

const char* AnswerName(Answer a) {
  switch (a) {
    case Answer::kYes:
      return "yes";
    case Answer::kIfNeedBe:
      return "if_need_be";
    case Answer::kNo:
      return "no";
  }
  return "no";
}
std::optional<Answer> ParseAnswer(const std::string& s) {
  if (s == "yes") return Answer::kYes;
  if (s == "if_need_be") return Answer::kIfNeedBe;
  if (s == "no") return Answer::kNo;
  return std::nullopt;
}

LocationKind ParseLocation(const std::string& s) {
  if (s == "venue") return LocationKind::kVenue;
  if (s == "online") return LocationKind::kOnline;
  return LocationKind::kHome;
}

const char* ParticipationName(Participation p) {
  switch (p) {
    case Participation::kAttend:
      return "attend";
    case Participation::kPart:
      return "part";
    case Participation::kWrittenContribution:
      return "written";
    case Participation::kNotInvited:
      return "not_invited";
  }
  return "attend";
}
std::optional<Participation> ParseParticipation(const std::string& s) {
  if (s == "attend") return Participation::kAttend;
  if (s == "part") return Participation::kPart;
  if (s == "written") return Participation::kWrittenContribution;
  if (s == "not_invited") return Participation::kNotInvited;
  return std::nullopt;
}

constexpr Phase kPhases[] = {Phase::kNotStarted, Phase::kInformation, Phase::kPrivateTime,
                             Phase::kPlanPresentation, Phase::kAcceptance};
Phase ParsePhase(const std::string& s) {
  for (Phase p : kPhases) {
    if (s == PhaseName(p)) return p;
  }
  return Phase::kNotStarted;
}

// The refusal of a write by an account that is no member (yet): one waiting for the chair's
// approval is told so, as it can do this once approved.
Status NotAMember(const v1::CaseState& view, const Bytes& me) {
  return WaitingForApproval(view, me) ? PermissionDenied("member.waiting_approval") : Denied();
}
// A call only the chair or a coordinator makes, by someone who is neither: an account waiting for
// approval is told that first.
Status NotAManager(const v1::CaseState& view, const Bytes& me) {
  return WaitingForApproval(view, me) ? PermissionDenied("member.waiting_approval")
                                      : ManagersOnly();
}

// Edits checked against the reducer's rules on a working copy of the view, in order, before any
// is queued: the API reports a clear error instead of queuing an edit every device would drop.
class Batch {
 public:
  Batch(client::Client& client, Bytes case_id, v1::CaseState view, Bytes me)
      : client_(client),
        case_id_(std::move(case_id)),
        state_(std::move(view)),
        me_(std::move(me)) {}

  Status Add(std::vector<v1::Mutation> mutations, uint32_t scope_id) {
    if (mutations.empty()) return {};
    if (mutations.size() > client::model::kMaxMutationsPerOp) return Invalid("domain.too_large");
    client::model::OpContext ctx;
    ctx.author_account_id = me_;
    ctx.client_op_id = crypto::RandomBytes(crypto::kIdBytes);
    ctx.scope_id = scope_id;
    for (const v1::Mutation& m : mutations) {
      if (!client::model::ValidateMutation(m).ok()) return Invalid("domain.too_large");
      // The refusing rule's own key, which says who may (rule_refusals.cpp).
      if (const std::string rule = client::model::CheckContentRule(state_, ctx, m); !rule.empty()) {
        return PermissionDenied(RefusalKeyFor(state_, me_, rule));
      }
      v1::ContentOp one;
      one.set_version(1);
      one.set_scope_id(scope_id);
      *one.add_mutations() = m;
      client::model::ApplyContent(state_, one, ctx);
    }
    ops_.emplace_back(std::move(mutations), scope_id);
    return {};
  }

  Status Commit() {
    for (const auto& [mutations, scope] : ops_) {
      KRING_RETURN_IF_ERROR(client_.Submit(case_id_, mutations, scope));
    }
    ops_.clear();
    return {};
  }

  const v1::CaseState& state() const { return state_; }

 private:
  client::Client& client_;
  Bytes case_id_;
  v1::CaseState state_;
  Bytes me_;
  std::vector<std::pair<std::vector<v1::Mutation>, uint32_t>> ops_;
};

// Approved and not taken out of the circle again.
bool InCircle(const v1::Entity& person) {
  return TextField(person, "status") == "approved" && !FlagField(person, "left");
}

// Invitees for the pre-talk check and "confirmed": everyone in the circle but coordinators.
bool IsInvitee(const v1::CaseState& view, const v1::Entity& person) {
  if (!InCircle(person)) return false;
  const std::string kind = TextField(person, "kind");
  if (kind == "coordinator") return false;
  const auto decisions = AboutPerson(view, kParticipationType, person.entity_id());
  return decisions.empty() || TextField(*decisions.back(), "mode") != "not_invited";
}

InvitationState InvitationFrom(const v1::CaseState& view, const v1::Entity& person,
                               int64_t now_ms) {
  const std::string account = BlobField(person, "account_id");
  if (!account.empty() && client::model::FindMember(view, View(account)) != nullptr) {
    return InvitationState::kJoined;
  }
  const std::string invite_id = BlobField(person, "invite_id");
  if (!invite_id.empty()) {
    for (const auto& inv : view.invites()) {
      if (inv.invite_id() != invite_id) continue;
      switch (inv.status()) {
        case v1::InviteState::PENDING:
          return inv.expires_at_ms() <= now_ms ? InvitationState::kExpired
                                               : InvitationState::kPending;
        case v1::InviteState::ACCEPTED:
          return InvitationState::kAccepted;
        case v1::InviteState::APPROVED:
          return InvitationState::kJoined;
        case v1::InviteState::DECLINED:
          return InvitationState::kDeclined;
        case v1::InviteState::REVOKED:
          return InvitationState::kRevoked;
        case v1::InviteState::EXPIRED:
          return InvitationState::kExpired;
        default:
          break;
      }
    }
    return InvitationState::kPending;  // the invite op is still on its way
  }
  const std::string recorded = TextField(person, "invite_state");
  for (InvitationState s :
       {InvitationState::kPending, InvitationState::kAccepted, InvitationState::kDeclined}) {
    if (recorded == InvitationStateName(s)) return s;
  }
  return InvitationState::kNotInvited;
}

// Confirmed: approved and said yes (through the app or to the coordinator), or an organiser.
bool IsConfirmed(const v1::CaseState& view, const v1::Entity& person, int64_t now_ms) {
  if (!InCircle(person)) return false;
  const std::string kind = TextField(person, "kind");
  // A kind "resident" the first referral does not back (written before it) is no resident.
  if (kind == "coordinator" || (kind == "resident" && !IsSecondResident(view, person))) {
    return true;
  }
  if (!IsInvitee(view, person)) return false;
  const InvitationState s = InvitationFrom(view, person, now_ms);
  return s == InvitationState::kAccepted || s == InvitationState::kJoined;
}

std::set<std::string> HiddenFrom(const v1::Entity& e) {
  std::set<std::string> out;
  for (const v1::SetElement* el : Elements(e, "hidden_from")) out.insert(el->value().blob());
  return out;
}

// A meeting that may still change: not cancelled, not finished.
Status StillOpen(const v1::Entity& meeting) {
  if (TextField(meeting, "status") == "cancelled") return FailedPrecondition("meeting.cancelled");
  if (FieldValue(meeting, "finished_at_ms") != nullptr) {
    return FailedPrecondition("meeting.finished");
  }
  return {};
}

std::string AttendanceField(const std::string& person_id) {
  return kAttendancePrefix + Hex(View(person_id));
}

std::optional<Attendance> ParseAttendance(const std::string& s) {
  for (Attendance a : {Attendance::kPresent, Attendance::kWrittenView, Attendance::kAbsent}) {
    if (s == AttendanceName(a)) return a;
  }
  return std::nullopt;
}

// The attendance recorded on a meeting, in person-id order.
std::vector<AttendanceEntry> AttendanceOf(const v1::Entity& meeting) {
  std::map<std::string, Attendance> sorted;
  const std::string prefix = kAttendancePrefix;
  for (const auto& [field, state] : meeting.fields()) {
    if (field.rfind(prefix, 0) != 0 || !state.value().has_text()) continue;
    const std::optional<Bytes> person = FromHex(std::string_view(field).substr(prefix.size()));
    const std::optional<Attendance> a = ParseAttendance(state.value().text());
    if (!person || person->size() != crypto::kIdBytes || !a) continue;
    if (field != AttendanceField(S(*person))) continue;  // one spelling: lowercase hex
    sorted[S(*person)] = *a;
  }
  std::vector<AttendanceEntry> out;
  for (const auto& [person, a] : sorted) out.push_back({B(person), a});
  return out;
}

// The meeting's notes this view holds, including private-time ones in their scope.
std::vector<const v1::Entity*> NotesOf(const v1::CaseState& view, const std::string& meeting_id) {
  std::vector<const v1::Entity*> out;
  for (const v1::Entity* n : AllOf(view, kMeetingNoteType)) {
    if (BlobField(*n, "meeting") == meeting_id) out.push_back(n);
  }
  return out;
}

// A circle copy of a private-time note, made at the release (the reducer allows `copy_of` and
// `author` only there).
bool IsSharedCopy(const v1::Entity& note) {
  return note.scope_id() == 0 && BlobField(note, "copy_of").size() == crypto::kIdBytes &&
         BlobField(note, "author").size() == crypto::kIdBytes;
}

// The private-time notes of `meeting` that the release already shared with the circle: only
// originals in the meeting's private-time scope (a copy never hides a note shared from the start).
std::set<std::string> SharedNotes(const v1::CaseState& view, const v1::Entity& meeting) {
  const uint32_t private_scope = static_cast<uint32_t>(IntField(meeting, "private_scope"));
  std::set<std::string> copied;
  std::set<std::string> out;
  if (private_scope == 0) return out;
  const std::vector<const v1::Entity*> notes = NotesOf(view, meeting.entity_id());
  for (const v1::Entity* n : notes) {
    if (IsSharedCopy(*n)) copied.insert(BlobField(*n, "copy_of"));
  }
  for (const v1::Entity* n : notes) {
    if (n->scope_id() == private_scope && copied.count(n->entity_id()) != 0) {
      out.insert(n->entity_id());
    }
  }
  return out;
}

Meeting MeetingFrom(const v1::CaseState& view, const v1::Entity& e) {
  Meeting m;
  m.meeting_id = B(e.entity_id());
  m.start_ms = TimeField(e, "start_ms");
  m.end_ms = TimeField(e, "end_ms");
  m.spoed = FlagField(e, "spoed");
  m.cancelled = TextField(e, "status") == "cancelled";
  m.location_kind = ParseLocation(TextField(e, "location_kind"));
  m.coarse_location = TextField(e, "location_coarse");
  m.poll_id = B(BlobField(e, "poll"));
  m.slot_id = B(BlobField(e, "slot"));
  m.uid = TextField(e, "uid");
  m.sequence = IntField(e, "sequence");
  m.phase = ParsePhase(TextField(e, "phase"));
  for (Phase p : kPhases) {
    if (p == Phase::kNotStarted) continue;
    const int64_t at = TimeField(e, std::string("phase_") + PhaseName(p) + "_at_ms");
    if (at != 0) m.phase_started_at_ms.emplace_back(p, at);
  }
  m.private_scope = static_cast<uint32_t>(IntField(e, "private_scope"));
  m.draft_released = FlagField(e, "draft_released");
  m.no_pretalk_reason = TextField(e, "no_pretalk_reason");
  m.required_no_reason = TextField(e, "required_no_reason");
  m.attendance = AttendanceOf(e);
  m.finished_at_ms = TimeField(e, "finished_at_ms");
  // The newest address this device can read (absent where the scope excludes it).
  for (const v1::Entity* a : AllOf(view, kMeetingAddressType)) {
    if (BlobField(*a, "meeting") == e.entity_id()) m.exact_location = TextField(*a, "address");
  }
  return m;
}

Status ValidateLocation(const v1::CaseState& view, const LocationInput& l) {
  if (l.coarse.empty()) return Invalid("location.coarse_missing");
  if (l.exact.empty()) return Invalid("location.exact_missing");
  if (l.coarse.size() > kMaxShortText || l.exact.size() > kMaxAddress) {
    return Invalid("location.too_long");
  }
  if (l.hidden_from.size() > kMaxListItems) return Invalid("location.too_long");
  for (const Bytes& p : l.hidden_from) {
    if (FindPersonEntity(view, S(p)) == nullptr) return Invalid("location.hidden_unknown");
  }
  return {};
}

Status ValidateTimes(int64_t start_ms, int64_t end_ms) {
  if (start_ms <= 0 || end_ms <= start_ms || end_ms - start_ms > kDayMs) {
    return Invalid("meeting.time_invalid");
  }
  return {};
}

}  // namespace

bool ShowsAsConflict(const v1::Conflict& c) { return client::model::OpenConflict(c); }

const char* InvitationStateName(InvitationState state) {
  switch (state) {
    case InvitationState::kNotInvited:
      return "not_invited";
    case InvitationState::kPending:
      return "pending";
    case InvitationState::kAccepted:
      return "accepted";
    case InvitationState::kJoined:
      return "joined";
    case InvitationState::kDeclined:
      return "declined";
    case InvitationState::kExpired:
      return "expired";
    case InvitationState::kRevoked:
      return "revoked";
  }
  return "not_invited";
}

const char* LocationKindName(LocationKind kind) {
  switch (kind) {
    case LocationKind::kHome:
      return "home";
    case LocationKind::kVenue:
      return "venue";
    case LocationKind::kOnline:
      return "online";
  }
  return "home";
}

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kNotStarted:
      return "not_started";
    case Phase::kInformation:
      return "information";
    case Phase::kPrivateTime:
      return "private_time";
    case Phase::kPlanPresentation:
      return "plan_presentation";
    case Phase::kAcceptance:
      return "acceptance";
  }
  return "not_started";
}

const char* AttendanceName(Attendance attendance) {
  switch (attendance) {
    case Attendance::kPresent:
      return "present";
    case Attendance::kWrittenView:
      return "written_view";
    case Attendance::kAbsent:
      return "absent";
  }
  return "absent";
}

Organising::Organising(client::Client& client, Bytes case_id)
    : client_(client), case_id_(std::move(case_id)) {}

Result<v1::CaseState> Organising::Read() const { return client_.View(case_id_); }

Result<Bytes> Organising::MyAccount() const {
  KRING_ASSIGN_OR_RETURN(client::AccountInfo info, client_.Account());
  return info.account_id;
}

struct Organising::ManagedMeeting {
  v1::CaseState view;
  Bytes me;
  // The meeting's key in view.entities(): looked up, as a pointer would not survive a move.
  std::string key;
  const v1::Entity& meeting() const { return view.entities().at(key); }
};

Result<Organising::ManagedMeeting> Organising::OpenMeetingForManager(
    const Bytes& meeting_id) const {
  ManagedMeeting out;
  KRING_ASSIGN_OR_RETURN(out.view, Read());
  KRING_ASSIGN_OR_RETURN(out.me, MyAccount());
  if (!IsManager(out.view, out.me)) return NotAManager(out.view, out.me);
  const v1::Entity* e = FindTyped(out.view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  KRING_RETURN_IF_ERROR(StillOpen(*e));
  out.key = Hex(View(e->entity_id()));
  return out;
}

Result<uint32_t> Organising::ScopeFor(const std::vector<Bytes>& readers) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  // Only current members can hold a key; people without the app (or not yet joined) are
  // covered by hidden_from and by who prints what. The writer is always in (it makes the key).
  std::vector<std::string> want{S(me)};
  for (const Bytes& r : readers) {
    if (client::model::FindMember(view, r) != nullptr) want.push_back(S(r));
  }
  // One scope per audience: reusing it keeps the number of keys (and rekeys) small.
  return plan_ops::ScopeWithMembers(client_, case_id_, view, std::move(want));
}

Status Organising::Write(const std::vector<v1::Mutation>& mutations, uint32_t scope_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  Batch batch(client_, case_id_, std::move(view), me);
  KRING_RETURN_IF_ERROR(batch.Add(mutations, scope_id));
  return batch.Commit();
}

// ---- Referral ----

namespace {

// Why there is no referral to show: an account that accepted its invitation but waits for the
// chair's approval has no key to the case's content yet, so it sees none (it may well exist).
Status NoReferral(const v1::CaseState& view, const Bytes& me) {
  return NotFound(WaitingForApproval(view, me) ? "referral.waiting_approval" : "referral.none");
}

// The case's referral: its first (FirstReferral, which the rules use and which nobody deletes),
// whoever referred later. Null when there is none.
const v1::Entity* TheReferral(const v1::CaseState& view) {
  const v1::Entity* first = FirstReferral(view);
  return first == nullptr || first->deleted() ? nullptr : first;
}

}  // namespace

Result<Bytes> Organising::SubmitReferral(const ReferralInput& r) {
  if (r.referrer_kind != "professional" && r.referrer_kind != "resident") {
    return Invalid("referral.referrer_invalid");
  }
  if (r.resident.kind != "resident") return Invalid("referral.resident_kind");
  KRING_RETURN_IF_ERROR(ValidatePerson(r.resident));
  if (r.reason.empty()) return Invalid("referral.reason_missing");
  KRING_RETURN_IF_ERROR(ValidateText(r.reason, kMaxLongText, "referral.reason_too_long"));
  if (r.invitees.empty()) return Invalid("referral.no_invitees");
  if (r.invitees.size() > kMaxListItems) return Invalid("referral.too_many_invitees");
  for (const PersonInput& p : r.invitees) {
    if (p.kind == "resident") return Invalid("referral.second_resident");
    KRING_RETURN_IF_ERROR(ValidatePerson(p));
    if (p.contact.empty()) return Invalid("referral.invitee_no_contact");
  }
  if (!r.resident_consent) return Invalid("referral.no_consent");
  for (const auto* list : {&r.bottom_lines, &r.questions}) {
    if (list->size() > kMaxListItems) return Invalid("referral.too_many_items");
    for (const std::string& s : *list) {
      if (s.empty() || s.size() > kMaxLongText) return Invalid("referral.item_invalid");
    }
  }
  for (const std::string* s : {&r.question.ik_wil, &r.question.ik_kan, &r.question.ik_heb_nodig}) {
    KRING_RETURN_IF_ERROR(ValidateText(*s, kMaxLongText, "referral.question_too_long"));
  }
  if (r.referred_at_ms < 0) return Invalid("referral.time_invalid");

  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (client::model::FindMember(view, me) == nullptr) return NotAMember(view, me);
  // The reducer's rule (organising_rules.cpp), asked first for a clear answer.
  const v1::Entity* existing = TheReferral(view);
  if (existing == nullptr && !MayReferFirst(view, me)) {
    return PermissionDenied("referral.first_by_organiser");
  }
  // Only the resident refers as the resident, and the resident holds the chair's account.
  if (r.referrer_kind == "resident" && !IsRole(view, me, v1::ROLE_CHAIR)) {
    return PermissionDenied("referral.referrer_not_resident");
  }
  const bool organiser = IsManager(view, me);
  // A later referral is about the case's resident, whom the first one named: it names that
  // person again and makes no new one (a second resident person could not be removed, and
  // every name-based command for the resident would then find two). The resident given in the
  // input (name, contact, app) is checked as always but not used then: the user does not have to
  // repeat it exactly, and the resident's details are changed through the person commands.
  // The same holds for the first referral when the resident is in the circle already (`circle
  // propose --kind resident`, often linked to the chair's account): it names that person
  // (EnteredResident), as the first referral decides for good who counts as the resident. Their
  // entry stays as it is (approving it is the organisers' own step).
  // A first referral that names nobody (a modified client's, whose resident every device
  // skipped) leaves the resident to the kind: a later one then names nobody either (the rules
  // take only the first's resident) and enters the resident only if nobody is entered as one.
  std::string resident_id;
  const bool names_resident = existing == nullptr || !BlobField(*existing, "resident").empty();
  if (existing != nullptr) resident_id = BlobField(*existing, "resident");
  if (resident_id.empty()) {
    if (const v1::Entity* entered = EnteredResident(view)) resident_id = entered->entity_id();
  }
  Batch batch(client_, case_id_, view, me);

  // The resident is in the circle from the start when an organiser refers; otherwise the
  // coordinator approves everyone, the resident included.
  const bool new_resident = resident_id.empty();
  if (new_resident) {
    resident_id = NewEntityId(0);
    std::vector<v1::Mutation> resident;
    PersonFields(resident_id, r.resident, organiser ? "approved" : "proposed", resident);
    KRING_RETURN_IF_ERROR(batch.Add(std::move(resident), 0));
  }
  // An invitee the circle already has by name (names.h, AlreadyNamed; an earlier invitee of this
  // referral too) is named by the referral as that person: sending a referral twice, or a later
  // one naming the same relatives, proposes nobody twice. Their details and contact stay as they
  // are; the person commands change them.
  KRING_ASSIGN_OR_RETURN(std::vector<Person> circle, Circle());
  std::vector<std::string> invitee_ids;
  std::vector<bool> invitee_new;
  for (const PersonInput& p : r.invitees) {
    const Person* known = AlreadyNamed(circle, p.name);
    if (known != nullptr) {
      invitee_ids.push_back(S(known->person_id));
      invitee_new.push_back(false);
      continue;
    }
    invitee_ids.push_back(NewEntityId(0));
    invitee_new.push_back(true);
    std::vector<v1::Mutation> person;
    PersonFields(invitee_ids.back(), p, "proposed", person);
    KRING_RETURN_IF_ERROR(batch.Add(std::move(person), 0));
    Person added;
    added.person_id = B(invitee_ids.back());
    added.name = p.name;
    circle.push_back(std::move(added));
  }

  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> ref;
  ref.push_back(Create(id, kReferralType));
  ref.push_back(Set(id, "referrer_kind", TextValue(r.referrer_kind)));
  if (names_resident) ref.push_back(Set(id, "resident", BlobValue(resident_id)));
  ref.push_back(Set(id, "reason", TextValue(r.reason)));
  ref.push_back(Set(id, "resident_consent", FlagValue(true)));
  ref.push_back(Set(id, "spoed", FlagValue(r.spoed)));
  ref.push_back(
      Set(id, "referred_at_ms", TimeValue(r.referred_at_ms == 0 ? NowMs() : r.referred_at_ms)));
  ref.push_back(Set(id, "ik_wil", TextValue(r.question.ik_wil)));
  ref.push_back(Set(id, "ik_kan", TextValue(r.question.ik_kan)));
  ref.push_back(Set(id, "ik_heb_nodig", TextValue(r.question.ik_heb_nodig)));
  for (size_t i = 0; i < invitee_ids.size(); ++i) {
    // The same person twice in one referral is one element.
    if (std::find(invitee_ids.begin(), invitee_ids.begin() + static_cast<std::ptrdiff_t>(i),
                  invitee_ids[i]) != invitee_ids.begin() + static_cast<std::ptrdiff_t>(i)) {
      continue;
    }
    ref.push_back(Add(id, "invitees", invitee_ids[i], BlobValue(invitee_ids[i])));
  }
  for (size_t i = 0; i < r.bottom_lines.size(); ++i) {
    ref.push_back(Add(id, "bottom_lines", OrderedElementId(i), TextValue(r.bottom_lines[i])));
  }
  for (size_t i = 0; i < r.questions.size(); ++i) {
    ref.push_back(Add(id, "questions", OrderedElementId(i), TextValue(r.questions[i])));
  }
  KRING_RETURN_IF_ERROR(batch.Add(std::move(ref), 0));

  // Contact details apart, each for the coordinator(s) and that person only (P3).
  std::vector<std::pair<const PersonInput*, const std::string*>> with_contact;
  if (new_resident && !r.resident.contact.empty()) {
    with_contact.emplace_back(&r.resident, &resident_id);
  }
  for (size_t i = 0; i < r.invitees.size(); ++i) {
    if (invitee_new[i]) with_contact.emplace_back(&r.invitees[i], &invitee_ids[i]);
  }
  for (const auto& [p, pid] : with_contact) {
    std::vector<Bytes> readers = Coordinators(view);
    readers.push_back(me);
    if (!p->account_id.empty()) readers.push_back(p->account_id);
    KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(readers));
    const std::string cid = NewEntityId(scope);
    std::vector<v1::Mutation> c;
    c.push_back(Create(cid, kContactType));
    c.push_back(Set(cid, "person", BlobValue(*pid)));
    if (!p->contact.phone.empty()) c.push_back(Set(cid, "phone", TextValue(p->contact.phone)));
    if (!p->contact.email.empty()) c.push_back(Set(cid, "email", TextValue(p->contact.email)));
    if (!p->contact.address.empty())
      c.push_back(Set(cid, "address", TextValue(p->contact.address)));
    KRING_RETURN_IF_ERROR(batch.Add(std::move(c), scope));
  }
  KRING_RETURN_IF_ERROR(batch.Commit());
  return B(id);
}

Status Organising::AssignCoordinator(const CoordinatorAssignment& a) {
  for (const std::string* s : {&a.language, &a.gender, &a.culture}) {
    KRING_RETURN_IF_ERROR(ValidateText(*s, kMaxShortText, "referral.preference_too_long"));
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  if (!IsRole(view, a.coordinator_account_id, v1::ROLE_COORDINATOR)) {
    return Invalid("referral.coordinator_not_member");
  }
  const v1::Entity* e = TheReferral(view);
  if (e == nullptr) {
    KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
    return NoReferral(view, me);
  }
  const std::string& id = e->entity_id();
  return Write({Set(id, "coordinator_account", BlobValue(S(a.coordinator_account_id)), e),
                Set(id, "coordinator_language", TextValue(a.language), e),
                Set(id, "coordinator_gender", TextValue(a.gender), e),
                Set(id, "coordinator_culture", TextValue(a.culture), e),
                Set(id, "coordinator_assigned_at_ms", TimeValue(NowMs()), e)},
               e->scope_id());
}

Status Organising::SetResidentQuestion(const ResidentQuestion& q) {
  return EditResidentQuestion({q.ik_wil, q.ik_kan, q.ik_heb_nodig});
}

Status Organising::EditResidentQuestion(const ResidentQuestionEdit& q) {
  for (const std::optional<std::string>* s : {&q.ik_wil, &q.ik_kan, &q.ik_heb_nodig}) {
    if (*s) KRING_RETURN_IF_ERROR(ValidateText(**s, kMaxLongText, "referral.question_too_long"));
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = TheReferral(view);
  if (e == nullptr) {
    KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
    return NoReferral(view, me);
  }
  const std::string& id = e->entity_id();
  // Each part given is written, also when this device shows that text already: the view may be
  // stale (offline-first), and a skipped part would let another member's unseen edit stand while
  // the user was told "done", as SetSpoed. Parts not given are left to whoever edits them.
  std::vector<v1::Mutation> m;
  for (auto [field, value] : {std::pair{"ik_wil", &q.ik_wil}, std::pair{"ik_kan", &q.ik_kan},
                              std::pair{"ik_heb_nodig", &q.ik_heb_nodig}}) {
    if (*value) m.push_back(Set(id, field, TextValue(**value), e));
  }
  if (m.empty()) return {};
  return Write(m, e->scope_id());
}

Status Organising::SetSpoed(bool spoed) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  // The case's referral (the first), as every reader and the spoed gate use it.
  const v1::Entity* e = TheReferral(view);
  if (e == nullptr) return NoReferral(view, me);
  // Everything taken from `e` before the view moves into the batch (`e` points into it).
  const uint32_t scope = e->scope_id();
  // Written even when this device already shows the asked value: the view may be stale
  // (offline-first), and a skipped write would let another member's unseen opposite write stand
  // while the user was told "done". The later op in the log wins the field.
  std::vector<v1::Mutation> set = {Set(e->entity_id(), "spoed", FlagValue(spoed), e)};
  Batch batch(client_, case_id_, std::move(view), me);
  KRING_RETURN_IF_ERROR(batch.Add(std::move(set), scope));
  return batch.Commit();
}

Result<Referral> Organising::GetReferral() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* first = TheReferral(view);
  if (first == nullptr) {
    KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
    return NoReferral(view, me);
  }
  const v1::Entity& e = *first;
  Referral r;
  r.referral_id = B(e.entity_id());
  r.referrer_kind = TextField(e, "referrer_kind");
  r.referrer_account_id = B(e.created_by_account_id());
  r.resident_person_id = B(BlobField(e, "resident"));
  for (const auto* el : Elements(e, "invitees"))
    r.invitee_person_ids.push_back(B(el->value().blob()));
  r.reason = TextField(e, "reason");
  r.resident_consent = FlagField(e, "resident_consent");
  r.spoed = FlagField(e, "spoed");
  for (const auto* el : Elements(e, "bottom_lines")) r.bottom_lines.push_back(el->value().text());
  for (const auto* el : Elements(e, "questions")) r.questions.push_back(el->value().text());
  r.question = {TextField(e, "ik_wil"), TextField(e, "ik_kan"), TextField(e, "ik_heb_nodig")};
  r.referred_at_ms = TimeField(e, "referred_at_ms");
  r.coordinator.coordinator_account_id = B(BlobField(e, "coordinator_account"));
  r.coordinator.language = TextField(e, "coordinator_language");
  r.coordinator.gender = TextField(e, "coordinator_gender");
  r.coordinator.culture = TextField(e, "coordinator_culture");
  r.coordinator_assigned_at_ms = TimeField(e, "coordinator_assigned_at_ms");
  // Any member may refer again: shown as additions, in log order, never as the case's referral.
  for (const v1::Entity* later : AllOf(view, kReferralType)) {
    if (later->entity_id() == e.entity_id() || later->scope_id() != 0) continue;
    LaterReferral l{B(later->entity_id()),
                    B(later->created_by_account_id()),
                    TimeField(*later, "referred_at_ms"),
                    B(BlobField(*later, "resident")),
                    TextField(*later, "reason"),
                    {},
                    {}};
    for (const auto* el : Elements(*later, "bottom_lines")) {
      l.bottom_lines.push_back(el->value().text());
    }
    for (const auto* el : Elements(*later, "questions")) l.questions.push_back(el->value().text());
    r.later.push_back(std::move(l));
  }
  return r;
}

// ---- Circle ----

Result<Bytes> Organising::ProposePerson(const PersonInput& p) {
  KRING_RETURN_IF_ERROR(ValidatePerson(p));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (client::model::FindMember(view, me) == nullptr) return NotAMember(view, me);
  // The reducer's rule (organising_rules.cpp), asked first for a clear answer: once the first
  // referral names the resident, nobody else becomes one.
  const v1::Entity* referral = FirstReferral(view);
  if (p.kind == "resident" && referral != nullptr && !BlobField(*referral, "resident").empty()) {
    return FailedPrecondition("person.second_resident");
  }
  Batch batch(client_, case_id_, view, me);
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> person;
  PersonFields(id, p, "proposed", person);
  KRING_RETURN_IF_ERROR(batch.Add(std::move(person), 0));
  if (!p.contact.empty()) {
    std::vector<Bytes> readers = Coordinators(view);
    readers.push_back(me);
    if (!p.account_id.empty()) readers.push_back(p.account_id);
    KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(readers));
    const std::string cid = NewEntityId(scope);
    std::vector<v1::Mutation> c;
    c.push_back(Create(cid, kContactType));
    c.push_back(Set(cid, "person", BlobValue(id)));
    if (!p.contact.phone.empty()) c.push_back(Set(cid, "phone", TextValue(p.contact.phone)));
    if (!p.contact.email.empty()) c.push_back(Set(cid, "email", TextValue(p.contact.email)));
    if (!p.contact.address.empty()) c.push_back(Set(cid, "address", TextValue(p.contact.address)));
    KRING_RETURN_IF_ERROR(batch.Add(std::move(c), scope));
  }
  KRING_RETURN_IF_ERROR(batch.Commit());
  return B(id);
}

Status Organising::ApprovePerson(const Bytes& person_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  // `status` is written also when this device shows the person approved already: its view may be
  // stale, and another organiser's unseen decline would stand while the user was told "done"
  // (the later op in the log wins). `left` is written only when this device shows the person out
  // of the circle: approving them then is asking to bring them back. Writing it otherwise would
  // undo a removal made on another device that the caller never saw.
  std::vector<v1::Mutation> m = {Set(e->entity_id(), "status", TextValue("approved"), e)};
  if (FlagField(*e, "left")) m.push_back(Set(e->entity_id(), "left", FlagValue(false), e));
  return Write(m, 0);
}

Status Organising::DeclinePerson(const Bytes& person_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  return Write({Set(e->entity_id(), "status", TextValue("declined"), e)}, 0);
}

Result<PersonRemoval> Organising::RemovePerson(const Bytes& person_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  // Who may is the reducer's rule (organising_rules.cpp); asked first for a clear answer.
  if (!IsManager(view, me)) return NotAManager(view, me);
  // Nobody takes the person linked to their own account out (it decides private time).
  const std::string account = BlobField(*e, "account_id");
  if (!account.empty() && ConstantTimeEqual(View(account), me)) {
    return PermissionDenied(RefusalKey(rule::kOwnClass));
  }
  if (IsTheResident(view, *e)) return FailedPrecondition("person.resident_stays");
  if (FlagField(*e, "left")) return FailedPrecondition("person.already_left");
  if (TextField(*e, "status") != "approved") return FailedPrecondition("person.not_in_circle");
  // An open app invitation would still let them join: it stops working.
  const std::string invite_id = BlobField(*e, "invite_id");
  if (!invite_id.empty() && InvitationFrom(view, *e, NowMs()) == InvitationState::kPending) {
    // Refused only when this device's view of roles is behind the server's (checked above).
    Status revoked = client_.RevokeInvite(case_id_, B(invite_id));
    if (revoked.code() == StatusCode::kPermissionDenied) return ManagersOnly();
    KRING_RETURN_IF_ERROR(revoked);
  }
  KRING_RETURN_IF_ERROR(Write({Set(e->entity_id(), "left", FlagValue(true), e),
                               Set(e->entity_id(), "left_at_ms", TimeValue(NowMs()), e)},
                              0));
  PersonRemoval out;
  // From the state after the write: what access the account still has now.
  KRING_ASSIGN_OR_RETURN(v1::CaseState after, Read());
  out.still_member = !account.empty() && client::model::FindMember(after, View(account)) != nullptr;
  out.in_private_time = out.still_member && InOpenPrivateTime(after, View(account));
  // Their open agreements keep them as owner: nobody else is made responsible without a say.
  for (const v1::Entity* a : AllOf(view, plan_model::kAgreement.data())) {
    if (BlobField(*a, "owner") != e->entity_id()) continue;
    if (!plan_model::IsOpenOutcome(TextField(*a, "outcome"))) continue;
    out.open_agreements.push_back(B(a->entity_id()));
  }
  return out;
}

Status Organising::LinkAccount(const Bytes& person_id, const Bytes& account_id) {
  if (account_id.size() != crypto::kIdBytes) return Invalid("person.account_invalid");
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  if (client::model::FindMember(view, account_id) == nullptr) {
    return Invalid("person.account_not_member");
  }
  const v1::Entity* other = PersonOfAccount(view, account_id);
  if (other != nullptr && other->entity_id() != e->entity_id()) {
    return Invalid("person.account_in_use");
  }
  // The reducer's rule (organising_rules.cpp), asked first for a clear answer: the link of the
  // chair's own person is the chair's to change.
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (IsLinkedToChair(view, *e) && BlobField(*e, "account_id") != S(account_id) &&
      !IsRole(view, me, v1::ROLE_CHAIR)) {
    return PermissionDenied("person.chair_link");
  }
  return Write({Set(e->entity_id(), "account_id", BlobValue(S(account_id)), e),
                Set(e->entity_id(), "has_app", FlagValue(true), e)},
               0);
}

Status Organising::UpdatePerson(const Bytes& person_id, const PersonInput& p) {
  KRING_RETURN_IF_ERROR(ValidatePerson(p));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  // The reducer's rule (organising_rules.cpp), asked first for a clear answer: the kind of the
  // chair's own person is the chair's, as its link is.
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (TextField(*e, "kind") != p.kind && IsLinkedToChair(view, *e) &&
      !IsRole(view, me, v1::ROLE_CHAIR)) {
    return PermissionDenied("person.chair_link");
  }
  if (p.kind == "resident" && TextField(*e, "kind") != "resident" && IsSecondResident(view, *e)) {
    return FailedPrecondition("person.second_resident");
  }
  const std::string& id = e->entity_id();
  std::vector<v1::Mutation> m;
  for (auto [field, value] :
       {std::pair{"name", &p.name}, std::pair{"relation", &p.relation}, std::pair{"kind", &p.kind},
        std::pair{"organisation", &p.organisation}, std::pair{"function", &p.function},
        std::pair{"language", &p.language}}) {
    if (TextField(*e, field) != *value) m.push_back(Set(id, field, TextValue(*value), e));
  }
  if (FlagField(*e, "interpreter") != p.interpreter) {
    m.push_back(Set(id, "interpreter", FlagValue(p.interpreter), e));
  }
  if (m.empty()) return {};
  return Write(m, 0);
}

Status Organising::SetContact(const Bytes& person_id, const ContactDetails& details) {
  KRING_RETURN_IF_ERROR(ValidateContact(details));
  if (details.empty()) return Invalid("contact.empty");
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* person = FindPersonEntity(view, S(person_id));
  if (person == nullptr) return Unknown();
  Batch batch(client_, case_id_, view, me);
  // The old details go: one current set per person, in the scope of who may see it now.
  for (const v1::Entity* old : AboutPerson(view, kContactType, S(person_id))) {
    KRING_RETURN_IF_ERROR(batch.Add({Delete(old->entity_id())}, old->scope_id()));
  }
  std::vector<Bytes> readers = Coordinators(view);
  readers.push_back(me);
  const std::string account = BlobField(*person, "account_id");
  if (!account.empty()) readers.push_back(B(account));
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(readers));
  const std::string cid = NewEntityId(scope);
  std::vector<v1::Mutation> c;
  c.push_back(Create(cid, kContactType));
  c.push_back(Set(cid, "person", BlobValue(S(person_id))));
  if (!details.phone.empty()) c.push_back(Set(cid, "phone", TextValue(details.phone)));
  if (!details.email.empty()) c.push_back(Set(cid, "email", TextValue(details.email)));
  if (!details.address.empty()) c.push_back(Set(cid, "address", TextValue(details.address)));
  KRING_RETURN_IF_ERROR(batch.Add(std::move(c), scope));
  return batch.Commit();
}

Result<std::vector<Person>> Organising::Circle() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  std::vector<Person> out;
  for (const v1::Entity* e : AllOf(view, kPersonType)) {
    if (e->scope_id() == 0) out.push_back(PersonFrom(view, *e));
  }
  return out;
}

Result<Person> Organising::GetPerson(const Bytes& person_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  return PersonFrom(view, *e);
}

Result<Bytes> Organising::MyPersonId() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* e = PersonOfAccount(view, me);
  if (e == nullptr) return NotFound("person.not_linked");
  return B(e->entity_id());
}

Result<std::optional<Contact>> Organising::ContactOf(const Bytes& person_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  auto contacts = AboutPerson(view, kContactType, S(person_id));
  if (contacts.empty()) return std::optional<Contact>();
  const v1::Entity& e = *contacts.back();
  Contact c;
  c.contact_id = B(e.entity_id());
  c.person_id = person_id;
  c.details = {TextField(e, "phone"), TextField(e, "email"), TextField(e, "address")};
  return std::optional<Contact>(std::move(c));
}

// ---- Invitations ----

Result<AppInvitation> Organising::InviteWithApp(const Bytes& person_id, v1::Role role,
                                                int64_t valid_for_seconds) {
  // The server would take ROLE_UNSPECIFIED as a member: a role the caller did not mean.
  if (role != v1::ROLE_MEMBER && role != v1::ROLE_CHAIR && role != v1::ROLE_COORDINATOR) {
    return Invalid("invite.role_invalid");
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (!IsManager(view, me)) return NotAManager(view, me);
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  if (TextField(*e, "status") != "approved") return FailedPrecondition("invite.not_approved");
  if (FlagField(*e, "left")) return FailedPrecondition("person.already_left");
  // A linked account that has not been a member yet is invited like anyone else (the invitee
  // accepts with it); one in the case, or taken out of it, is refused with the reason.
  const std::string account = BlobField(*e, "account_id");
  if (!account.empty() && client::model::FindMember(view, View(account)) != nullptr) {
    return FailedPrecondition("invite.already_joined");
  }
  if (!account.empty() && client::model::WasRemoved(view, View(account))) {
    return FailedPrecondition("invite.account_removed");
  }
  if (valid_for_seconds < 1 || valid_for_seconds > 30LL * 24 * 3600) {
    return Invalid("invite.validity_invalid");
  }
  // Resending replaces the previous link: the old one stops working. Two open links for one
  // person would let either be used, and the person keeps only one invite id to link with.
  AppInvitation invitation;
  const std::string old = BlobField(*e, "invite_id");
  if (!old.empty()) {
    for (const auto& inv : view.invites()) {
      if (inv.invite_id() == old && inv.status() == v1::InviteState::PENDING &&
          inv.expires_at_ms() > NowMs()) {
        KRING_RETURN_IF_ERROR(client_.RevokeInvite(case_id_, B(old)));
        invitation.replaced_earlier = true;
      }
    }
  }
  KRING_ASSIGN_OR_RETURN(client::Invitation made,
                         client_.CreateInvite(case_id_, role, valid_for_seconds));
  static_cast<client::Invitation&>(invitation) = std::move(made);
  KRING_RETURN_IF_ERROR(
      Write({Set(e->entity_id(), "invite_id", BlobValue(S(invitation.invite_id)), e),
             Set(e->entity_id(), "has_app", FlagValue(true), e)},
            0));
  return invitation;
}

Status Organising::RecordInvitation(const Bytes& person_id, InvitationState state) {
  if (state != InvitationState::kPending && state != InvitationState::kAccepted &&
      state != InvitationState::kDeclined) {
    return Invalid("invite.state_invalid");
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  if (FlagField(*e, "left")) return FailedPrecondition("person.already_left");
  if (!BlobField(*e, "invite_id").empty()) return FailedPrecondition("invite.has_app_invite");
  return Write({Set(e->entity_id(), "invite_state", TextValue(InvitationStateName(state)), e)}, 0);
}

Status Organising::RevokeInvitation(const Bytes& person_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  // The server lets only the chair or a coordinator revoke (MANAGERS_ONLY): asked here first, so
  // a member's attempt queues nothing; the server's refusal (a role changed meanwhile) says the
  // same.
  if (!IsManager(view, me)) return NotAManager(view, me);
  if (InvitationFrom(view, *e, NowMs()) != InvitationState::kPending) {
    return FailedPrecondition("invite.not_open");
  }
  Status revoked = client_.RevokeInvite(case_id_, B(BlobField(*e, "invite_id")));
  if (revoked.code() == StatusCode::kPermissionDenied) return ManagersOnly();
  return revoked;
}

Result<InvitationState> Organising::InvitationOf(const Bytes& person_id, int64_t now_ms) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindPersonEntity(view, S(person_id));
  if (e == nullptr) return Unknown();
  return InvitationFrom(view, *e, now_ms == 0 ? NowMs() : now_ms);
}

// ---- Pre-talks ----

Result<Bytes> Organising::LogPreTalk(const PreTalkInput& t) {
  if (t.held_at_ms <= 0) return Invalid("pretalk.time_missing");
  bool known_how = false;
  for (const char* h : {"home", "phone", "video", "office", "other"}) known_how |= t.how == h;
  if (!known_how) return Invalid("pretalk.how_invalid");
  for (const std::string* s : {&t.explained, &t.questions, &t.safety_concerns}) {
    KRING_RETURN_IF_ERROR(ValidateText(*s, kMaxLongText, "pretalk.too_long"));
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* person = FindPersonEntity(view, S(t.person_id));
  if (person == nullptr) return Unknown();
  Batch batch(client_, case_id_, view, me);
  std::vector<Bytes> readers = Coordinators(view);
  const std::string account = BlobField(*person, "account_id");
  if (!account.empty()) readers.push_back(B(account));
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(readers));
  const std::string id = NewEntityId(scope);
  KRING_RETURN_IF_ERROR(batch.Add(
      {Create(id, kPreTalkType), Set(id, "person", BlobValue(S(t.person_id))),
       Set(id, "held_at_ms", TimeValue(t.held_at_ms)), Set(id, "how", TextValue(t.how)),
       Set(id, "explained", TextValue(t.explained)), Set(id, "questions", TextValue(t.questions))},
      scope));
  if (!t.safety_concerns.empty()) {
    // Safety concerns are for the coordinator(s) only, never the person or the circle.
    KRING_ASSIGN_OR_RETURN(uint32_t safety_scope, ScopeFor(Coordinators(view)));
    const std::string sid = NewEntityId(safety_scope);
    KRING_RETURN_IF_ERROR(
        batch.Add({Create(sid, kSafetyNoteType), Set(sid, "pretalk", BlobValue(id)),
                   Set(sid, "person", BlobValue(S(t.person_id))),
                   Set(sid, "concerns", TextValue(t.safety_concerns))},
                  safety_scope));
  }
  // That a pre-talk was held (not what was said) goes on the person in scope 0: the chair, who
  // fixes the meeting too (O4), cannot read the notes but must not be told it is missing.
  if (!FlagField(*person, "pretalk_held")) {
    KRING_RETURN_IF_ERROR(
        batch.Add({Set(person->entity_id(), "pretalk_held", FlagValue(true), person)}, 0));
  }
  KRING_RETURN_IF_ERROR(batch.Commit());
  return B(id);
}

Result<std::vector<PreTalk>> Organising::PreTalks() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  std::map<std::string, std::string> concerns;
  for (const v1::Entity* s : AllOf(view, kSafetyNoteType)) {
    concerns[BlobField(*s, "pretalk")] = TextField(*s, "concerns");
  }
  std::vector<PreTalk> out;
  for (const v1::Entity* e : AllOf(view, kPreTalkType)) {
    PreTalk t;
    t.pretalk_id = B(e->entity_id());
    t.person_id = B(BlobField(*e, "person"));
    t.held_at_ms = TimeField(*e, "held_at_ms");
    t.how = TextField(*e, "how");
    t.explained = TextField(*e, "explained");
    t.questions = TextField(*e, "questions");
    auto c = concerns.find(e->entity_id());
    if (c != concerns.end()) t.safety_concerns = c->second;
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<Bytes>> Organising::InviteesWithoutPreTalk() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  std::set<std::string> talked;
  for (const v1::Entity* e : AllOf(view, kPreTalkType)) talked.insert(BlobField(*e, "person"));
  std::vector<Bytes> out;
  for (const v1::Entity* p : AllOf(view, kPersonType)) {
    if (p->scope_id() != 0 || !IsInvitee(view, *p)) continue;
    // A pre-talk whose notes this device cannot read still counts: its person says it was held.
    if (talked.count(p->entity_id()) == 0 && !FlagField(*p, "pretalk_held")) {
      out.push_back(B(p->entity_id()));
    }
  }
  return out;
}

Status Organising::DecideParticipation(const ParticipationDecision& d) {
  if (d.mode != Participation::kAttend && d.reason.empty()) {
    return Invalid("participation.reason_missing");
  }
  KRING_RETURN_IF_ERROR(ValidateText(d.reason, kMaxLongText, "participation.too_long"));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (FindPersonEntity(view, S(d.person_id)) == nullptr) return Unknown();
  Batch batch(client_, case_id_, view, me);
  // The decision and its reason stay with the organisers; the circle sees who comes.
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(Organisers(view)));
  const std::string id = NewEntityId(scope);
  KRING_RETURN_IF_ERROR(
      batch.Add({Create(id, kParticipationType), Set(id, "person", BlobValue(S(d.person_id))),
                 Set(id, "mode", TextValue(ParticipationName(d.mode))),
                 Set(id, "reason", TextValue(d.reason))},
                scope));
  return batch.Commit();
}

Result<std::optional<ParticipationDecision>> Organising::ParticipationOf(
    const Bytes& person_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  auto decisions = AboutPerson(view, kParticipationType, S(person_id));
  if (decisions.empty()) return std::optional<ParticipationDecision>();
  const v1::Entity& e = *decisions.back();
  ParticipationDecision d;
  d.person_id = person_id;
  d.mode = ParseParticipation(TextField(e, "mode")).value_or(Participation::kAttend);
  d.reason = TextField(e, "reason");
  return std::optional<ParticipationDecision>(std::move(d));
}

Result<Bytes> Organising::AddAbsentView(const Bytes& person_id, const std::string& text) {
  if (text.empty()) return Invalid("absent_view.text_missing");
  KRING_RETURN_IF_ERROR(ValidateText(text, kMaxLongText, "absent_view.too_long"));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  if (FindPersonEntity(view, S(person_id)) == nullptr) return Unknown();
  const std::string id = NewEntityId(0);
  KRING_RETURN_IF_ERROR(
      Write({Create(id, kAbsentViewType), Set(id, "person", BlobValue(S(person_id))),
             Set(id, "text", TextValue(text))},
            0));
  return B(id);
}

Result<std::vector<AbsentView>> Organising::AbsentViews() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  std::vector<AbsentView> out;
  for (const v1::Entity* e : AllOf(view, kAbsentViewType)) {
    out.push_back({B(e->entity_id()), B(BlobField(*e, "person")), TextField(*e, "text")});
  }
  return out;
}

// ---- Scheduling ----

namespace {

// Whether the case's current poll is still open (deadline ahead, no meeting fixed from it) and
// answered by someone, as far as this device sees.
bool OpenPollWithAnswers(const v1::CaseState& view) {
  const auto polls = AllOf(view, kPollType);
  if (polls.empty()) return false;
  const v1::Entity& current = *polls.back();
  if (TimeField(current, "deadline_ms") < NowMs()) return false;
  for (const v1::Entity* m : AllOf(view, kMeetingType)) {
    if (BlobField(*m, "poll") == current.entity_id()) return false;
  }
  for (const v1::Entity* a : AllOf(view, kPollAnswerType)) {
    if (BlobField(*a, "poll") != current.entity_id()) continue;
    for (const auto& [field, value] : a->fields()) {
      if (field.rfind("slot_", 0) == 0) return true;
    }
  }
  return false;
}

}  // namespace

Result<Bytes> Organising::CreatePoll(const PollInput& poll) {
  if (poll.slots.empty()) return Invalid("poll.no_slots");
  if (poll.slots.size() > kMaxListItems || poll.required.size() > kMaxListItems) {
    return Invalid("poll.too_many");
  }
  int64_t first = std::numeric_limits<int64_t>::max();
  for (const Slot& s : poll.slots) {
    if (s.start_ms <= 0 || s.end_ms <= s.start_ms || s.end_ms - s.start_ms > kDayMs) {
      return Invalid("poll.slot_invalid");
    }
    first = std::min(first, s.start_ms);
  }
  if (poll.deadline_ms <= 0) return Invalid("poll.deadline_missing");
  if (poll.deadline_ms > first) return Invalid("poll.deadline_after_slot");
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  for (const Bytes& p : poll.required) {
    const v1::Entity* person = FindPersonEntity(view, S(p));
    if (person == nullptr) return Invalid("poll.required_unknown");
    if (FlagField(*person, "left")) return Invalid("poll.required_left");
  }
  if (!poll.replace && OpenPollWithAnswers(view)) {
    return FailedPrecondition("poll.open_has_answers");
  }
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> m{Create(id, kPollType),
                              Set(id, "deadline_ms", TimeValue(poll.deadline_ms))};
  for (const Slot& s : poll.slots)
    m.push_back(Add(id, "slots", NewId(), BlobValue(EncodeSlot(s.start_ms, s.end_ms))));
  for (const Bytes& p : poll.required) m.push_back(Add(id, "required", S(p), BlobValue(S(p))));
  KRING_RETURN_IF_ERROR(Write(m, 0));
  return B(id);
}

Result<Poll> Organising::CurrentPoll() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const auto polls = AllOf(view, kPollType);
  if (polls.empty()) return NotFound("poll.none");
  return GetPoll(B(polls.back()->entity_id()));
}

Result<Poll> Organising::GetPoll(const Bytes& poll_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(poll_id), kPollType);
  if (e == nullptr) return Unknown();
  Poll p;
  p.poll_id = poll_id;
  p.deadline_ms = TimeField(*e, "deadline_ms");
  for (const auto* el : Elements(*e, "slots")) {
    auto times = DecodeSlot(el->value().blob());
    if (times) p.slots.push_back({B(el->element_id()), times->first, times->second});
  }
  std::sort(p.slots.begin(), p.slots.end(), [](const Slot& a, const Slot& b) {
    return a.start_ms != b.start_ms ? a.start_ms < b.start_ms : a.slot_id < b.slot_id;
  });
  for (const auto* el : Elements(*e, "required")) p.required.push_back(B(el->value().blob()));
  return p;
}

Status Organising::AnswerPoll(const Bytes& poll_id, const Bytes& person_id, const Bytes& slot_id,
                              Answer answer) {
  KRING_ASSIGN_OR_RETURN(Poll poll, GetPoll(poll_id));
  bool known_slot = false;
  for (const Slot& s : poll.slots) known_slot |= s.slot_id == slot_id;
  if (!known_slot) return Invalid("poll.unknown_slot");
  if (NowMs() > poll.deadline_ms) return FailedPrecondition("poll.deadline_passed");
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* person = FindPersonEntity(view, S(person_id));
  if (person == nullptr) return Unknown();
  if (FlagField(*person, "left")) return FailedPrecondition("person.already_left");
  const std::string field = SlotField(S(slot_id));
  // One answer entity per (poll, person), one field per slot: answers for different people or
  // slots never touch the same field, so concurrent offline answers all count.
  for (const v1::Entity* e : AboutPerson(view, kPollAnswerType, S(person_id))) {
    if (BlobField(*e, "poll") != S(poll_id)) continue;
    return Write({Set(e->entity_id(), field, TextValue(AnswerName(answer)), e)}, e->scope_id());
  }
  std::vector<Bytes> readers = Organisers(view);
  const std::string account = BlobField(*person, "account_id");
  if (!account.empty()) readers.push_back(B(account));
  readers.push_back(me);
  Batch batch(client_, case_id_, view, me);
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(readers));
  const std::string id = NewEntityId(scope);
  KRING_RETURN_IF_ERROR(batch.Add(
      {Create(id, kPollAnswerType), Set(id, "poll", BlobValue(S(poll_id))),
       Set(id, "person", BlobValue(S(person_id))), Set(id, field, TextValue(AnswerName(answer)))},
      scope));
  return batch.Commit();
}

Result<std::vector<PollAnswer>> Organising::Answers(const Bytes& poll_id) const {
  KRING_ASSIGN_OR_RETURN(Poll poll, GetPoll(poll_id));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  std::string only;  // a participant sees their own answers only (O5)
  if (!IsManager(view, me)) {
    const v1::Entity* mine = PersonOfAccount(view, me);
    if (mine == nullptr) return std::vector<PollAnswer>();
    only = mine->entity_id();
  }
  // (person, slot) -> newest field; two answer entities for one person (made offline on two
  // devices) merge here.
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, std::string>> newest;
  for (const v1::Entity* e : AllOf(view, kPollAnswerType)) {
    if (BlobField(*e, "poll") != S(poll_id)) continue;
    const std::string person = BlobField(*e, "person");
    if (person.empty() || (!only.empty() && person != only)) continue;
    for (const Slot& s : poll.slots) {
      auto f = e->fields().find(SlotField(S(s.slot_id)));
      if (f == e->fields().end()) continue;
      const uint64_t pos =
          f->second.seq() == 0 ? std::numeric_limits<uint64_t>::max() : f->second.seq();
      auto& slot = newest[{person, S(s.slot_id)}];
      if (slot.second.empty() || pos >= slot.first) slot = {pos, f->second.value().text()};
    }
  }
  std::vector<PollAnswer> out;
  for (const auto& [key, value] : newest) {
    auto a = ParseAnswer(value.second);
    if (a) out.push_back({B(key.first), B(key.second), *a});
  }
  return out;
}

Result<std::vector<SlotTally>> Organising::Tally(const Bytes& poll_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (!IsManager(view, me)) return PermissionDenied("poll.results_hidden");
  KRING_ASSIGN_OR_RETURN(Poll poll, GetPoll(poll_id));
  KRING_ASSIGN_OR_RETURN(std::vector<PollAnswer> answers, Answers(poll_id));
  // Someone taken out of the circle no longer comes: their answers stay, but do not count.
  std::set<std::string> left;
  for (const v1::Entity* p : AllOf(view, kPersonType)) {
    if (FlagField(*p, "left")) left.insert(p->entity_id());
  }
  std::vector<SlotTally> out;
  for (const Slot& s : poll.slots) {
    SlotTally t;
    t.slot_id = s.slot_id;
    for (const PollAnswer& a : answers) {
      if (a.slot_id != s.slot_id || left.count(S(a.person_id)) != 0) continue;
      if (a.answer == Answer::kYes) ++t.yes;
      if (a.answer == Answer::kIfNeedBe) ++t.if_need_be;
      if (a.answer == Answer::kNo) {
        ++t.no;
        if (std::find(poll.required.begin(), poll.required.end(), a.person_id) !=
            poll.required.end()) {
          t.required_no.push_back(a.person_id);
        }
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

// Who may read the exact location: the organisers and every confirmed person with an account
// that it is not hidden from (O6, P2).
std::vector<Bytes> AddressReaders(const v1::CaseState& view, const std::set<std::string>& hidden,
                                  int64_t now_ms) {
  std::set<Bytes> readers;
  for (const Bytes& a : Organisers(view)) {
    const v1::Entity* p = PersonOfAccount(view, a);
    if (p == nullptr || hidden.count(p->entity_id()) == 0) readers.insert(a);
  }
  for (const auto& [key, e] : view.entities()) {
    if (e.type() != kPersonType || e.scope_id() != 0 || e.deleted()) continue;
    if (hidden.count(e.entity_id()) != 0 || !IsConfirmed(view, e, now_ms)) continue;
    const std::string account = BlobField(e, "account_id");
    if (!account.empty() && client::model::FindMember(view, View(account)) != nullptr) {
      readers.insert(B(account));
    }
  }
  return {readers.begin(), readers.end()};
}

}  // namespace

Result<Bytes> Organising::FixMeeting(const Bytes& poll_id, const Bytes& slot_id,
                                     const LocationInput& location, const FixOverrides& overrides) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (!IsManager(view, me)) return NotAManager(view, me);
  KRING_ASSIGN_OR_RETURN(Poll poll, GetPoll(poll_id));
  const Slot* slot = nullptr;
  for (const Slot& s : poll.slots) {
    if (s.slot_id == slot_id) slot = &s;
  }
  if (slot == nullptr) return Invalid("poll.unknown_slot");
  KRING_ASSIGN_OR_RETURN(std::vector<SlotTally> tally, Tally(poll_id));
  for (const SlotTally& t : tally) {
    if (t.slot_id == slot_id && !t.required_no.empty() && overrides.required_no_reason.empty()) {
      return FailedPrecondition("meeting.required_said_no");
    }
  }
  return Fix(slot->start_ms, slot->end_ms, location, overrides, poll_id, slot_id);
}

Result<Bytes> Organising::FixSpoedMeeting(int64_t start_ms, int64_t end_ms,
                                          const LocationInput& location,
                                          const FixOverrides& overrides, int64_t now_ms) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* referral = TheReferral(view);
  if (referral == nullptr || !FlagField(*referral, "spoed")) {
    return FailedPrecondition("meeting.not_spoed");
  }
  if (AmsterdamDay(start_ms) != AmsterdamDay(now_ms == 0 ? NowMs() : now_ms)) {
    return FailedPrecondition("meeting.spoed_not_today");
  }
  return Fix(start_ms, end_ms, location, overrides, {}, {});
}

Result<Bytes> Organising::Fix(int64_t start_ms, int64_t end_ms, const LocationInput& location,
                              const FixOverrides& overrides, const Bytes& poll_id,
                              const Bytes& slot_id) {
  KRING_RETURN_IF_ERROR(ValidateTimes(start_ms, end_ms));
  KRING_RETURN_IF_ERROR(
      ValidateText(overrides.no_pretalk_reason, kMaxLongText, "meeting.reason_too_long"));
  KRING_RETURN_IF_ERROR(
      ValidateText(overrides.required_no_reason, kMaxLongText, "meeting.reason_too_long"));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  if (!IsManager(view, me)) return NotAManager(view, me);
  KRING_RETURN_IF_ERROR(ValidateLocation(view, location));
  const bool spoed = poll_id.empty();
  // One meeting at a time; a finished one (which can no longer be cancelled) leaves room for the
  // next, the vervolgberaad.
  for (const v1::Entity* m : AllOf(view, kMeetingType)) {
    if (TextField(*m, "status") == "fixed" && FieldValue(*m, "finished_at_ms") == nullptr) {
      return FailedPrecondition("meeting.already_fixed");
    }
  }
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> without, InviteesWithoutPreTalk());
  if (!without.empty() && overrides.no_pretalk_reason.empty()) {
    return FailedPrecondition("meeting.pretalk_missing");
  }

  Batch batch(client_, case_id_, view, me);
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> m{Create(id, kMeetingType),
                              Set(id, "start_ms", TimeValue(start_ms)),
                              Set(id, "end_ms", TimeValue(end_ms)),
                              Set(id, "status", TextValue("fixed")),
                              Set(id, "spoed", FlagValue(spoed)),
                              Set(id, "uid", TextValue(Hex(View(id)) + "@kring")),
                              Set(id, "sequence", IntValue(0)),
                              Set(id, "phase", TextValue(PhaseName(Phase::kNotStarted))),
                              Set(id, "location_kind", TextValue(LocationKindName(location.kind))),
                              Set(id, "location_coarse", TextValue(location.coarse)),
                              Set(id, "fixed_at_ms", TimeValue(NowMs()))};
  if (!spoed) {
    m.push_back(Set(id, "poll", BlobValue(S(poll_id))));
    m.push_back(Set(id, "slot", BlobValue(S(slot_id))));
  }
  if (!overrides.no_pretalk_reason.empty()) {
    m.push_back(Set(id, "no_pretalk_reason", TextValue(overrides.no_pretalk_reason)));
  }
  if (!overrides.required_no_reason.empty()) {
    m.push_back(Set(id, "required_no_reason", TextValue(overrides.required_no_reason)));
  }
  KRING_RETURN_IF_ERROR(batch.Add(std::move(m), 0));
  std::set<std::string> hidden;
  for (const Bytes& p : location.hidden_from) hidden.insert(S(p));
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(AddressReaders(view, hidden, NowMs())));
  const std::string aid = NewEntityId(scope);
  std::vector<v1::Mutation> a{Create(aid, kMeetingAddressType), Set(aid, "meeting", BlobValue(id)),
                              Set(aid, "address", TextValue(location.exact))};
  for (const std::string& p : hidden) a.push_back(Add(aid, "hidden_from", p, BlobValue(p)));
  KRING_RETURN_IF_ERROR(batch.Add(std::move(a), scope));
  KRING_RETURN_IF_ERROR(batch.Commit());
  return B(id);
}

Status Organising::Reschedule(const Bytes& meeting_id, int64_t start_ms, int64_t end_ms) {
  KRING_RETURN_IF_ERROR(ValidateTimes(start_ms, end_ms));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  KRING_RETURN_IF_ERROR(StillOpen(*e));
  const std::string& id = e->entity_id();
  return Write(
      {Set(id, "start_ms", TimeValue(start_ms), e), Set(id, "end_ms", TimeValue(end_ms), e),
       Set(id, "sequence", IntValue(IntField(*e, "sequence") + 1), e)},
      0);
}

Status Organising::SetLocation(const Bytes& meeting_id, const LocationInput& location) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  KRING_RETURN_IF_ERROR(ValidateLocation(view, location));
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  KRING_RETURN_IF_ERROR(StillOpen(*e));
  const std::string& id = e->entity_id();
  Batch batch(client_, case_id_, view, me);
  std::vector<v1::Mutation> m{
      Set(id, "location_kind", TextValue(LocationKindName(location.kind)), e),
      Set(id, "location_coarse", TextValue(location.coarse), e),
      Set(id, "sequence", IntValue(IntField(*e, "sequence") + 1), e)};
  KRING_RETURN_IF_ERROR(batch.Add(std::move(m), 0));
  // The old exact address goes; the new one is sealed to who may read it now.
  for (const v1::Entity* old : AllOf(view, kMeetingAddressType)) {
    if (BlobField(*old, "meeting") != id) continue;
    KRING_RETURN_IF_ERROR(batch.Add({Delete(old->entity_id())}, old->scope_id()));
  }
  std::set<std::string> hidden;
  for (const Bytes& p : location.hidden_from) hidden.insert(S(p));
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(AddressReaders(view, hidden, NowMs())));
  const std::string aid = NewEntityId(scope);
  std::vector<v1::Mutation> a{Create(aid, kMeetingAddressType), Set(aid, "meeting", BlobValue(id)),
                              Set(aid, "address", TextValue(location.exact))};
  for (const std::string& p : hidden) a.push_back(Add(aid, "hidden_from", p, BlobValue(p)));
  KRING_RETURN_IF_ERROR(batch.Add(std::move(a), scope));
  return batch.Commit();
}

Status Organising::ShareLocationWithCurrentCircle(const Bytes& meeting_id) {
  KRING_ASSIGN_OR_RETURN(ManagedMeeting open, OpenMeetingForManager(meeting_id));
  const v1::CaseState& view = open.view;
  const Bytes& me = open.me;
  const v1::Entity* e = &open.meeting();
  const v1::Entity* current = nullptr;
  for (const v1::Entity* a : AllOf(view, kMeetingAddressType)) {
    if (BlobField(*a, "meeting") == e->entity_id()) current = a;
  }
  if (current == nullptr) return NotFound("location.none");
  const std::set<std::string> hidden = HiddenFrom(*current);
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(AddressReaders(view, hidden, NowMs())));
  if (scope == current->scope_id()) return {};  // the audience did not change
  Batch batch(client_, case_id_, view, me);
  KRING_RETURN_IF_ERROR(batch.Add({Delete(current->entity_id())}, current->scope_id()));
  const std::string aid = NewEntityId(scope);
  std::vector<v1::Mutation> a{Create(aid, kMeetingAddressType),
                              Set(aid, "meeting", BlobValue(e->entity_id())),
                              Set(aid, "address", TextValue(TextField(*current, "address")))};
  for (const std::string& p : hidden) a.push_back(Add(aid, "hidden_from", p, BlobValue(p)));
  KRING_RETURN_IF_ERROR(batch.Add(std::move(a), scope));
  return batch.Commit();
}

Status Organising::CancelMeeting(const Bytes& meeting_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  KRING_RETURN_IF_ERROR(StillOpen(*e));
  const std::string& id = e->entity_id();
  return Write({Set(id, "status", TextValue("cancelled"), e),
                Set(id, "sequence", IntValue(IntField(*e, "sequence") + 1), e)},
               0);
}

Result<Meeting> Organising::CurrentMeeting() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  auto meetings = AllOf(view, kMeetingType);
  if (meetings.empty()) return NotFound("meeting.none");
  return MeetingFrom(view, *meetings.back());
}

Result<Meeting> Organising::GetMeeting(const Bytes& meeting_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  return MeetingFrom(view, *e);
}

Result<CalendarData> Organising::CalendarFor(const Bytes& meeting_id,
                                             const Bytes& person_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  const v1::Entity* person = FindPersonEntity(view, S(person_id));
  if (e == nullptr || person == nullptr) return Unknown();
  Meeting m = MeetingFrom(view, *e);
  CalendarData c;
  c.uid = m.uid;
  c.sequence = m.sequence;
  c.start_ms = m.start_ms;
  c.end_ms = m.end_ms;
  c.cancelled = m.cancelled;
  c.location_kind = m.location_kind;
  c.location_text = m.coarse_location;
  // The exact location only for a confirmed person it is not hidden from; a person without the
  // app gets it on paper from the coordinator's device, so the same rule applies.
  const v1::Entity* address = nullptr;
  for (const v1::Entity* a : AllOf(view, kMeetingAddressType)) {
    if (BlobField(*a, "meeting") == e->entity_id()) address = a;
  }
  if (address != nullptr && HiddenFrom(*address).count(person->entity_id()) == 0 &&
      IsConfirmed(view, *person, NowMs())) {
    c.location_text = m.coarse_location + "\n" + TextField(*address, "address");
  }
  return c;
}

// ---- The meeting ----

Status Organising::StartPhase(const Bytes& meeting_id, Phase phase) {
  if (phase == Phase::kPrivateTime) return StartPrivateTime(meeting_id).status();
  if (phase == Phase::kNotStarted) return Invalid("meeting.phase_order");
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  KRING_RETURN_IF_ERROR(StillOpen(*e));
  const Phase current = ParsePhase(TextField(*e, "phase"));
  if (static_cast<int>(phase) <= static_cast<int>(current)) {
    return FailedPrecondition("meeting.phase_order");
  }
  // Private time cannot be skipped, and ends only when the network has released its draft. One
  // without the network's scope was never open (no draft can be released): it is not stuck.
  const bool open_private_time =
      !FlagField(*e, "draft_released") && FieldValue(*e, "private_scope") != nullptr;
  if (static_cast<int>(phase) > static_cast<int>(Phase::kPrivateTime) &&
      (static_cast<int>(current) < static_cast<int>(Phase::kPrivateTime) || open_private_time)) {
    return FailedPrecondition("meeting.draft_not_released");
  }
  if (phase == Phase::kInformation && current != Phase::kNotStarted) {
    return FailedPrecondition("meeting.phase_order");
  }
  const std::string& id = e->entity_id();
  return Write(
      {Set(id, "phase", TextValue(PhaseName(phase)), e),
       Set(id, std::string("phase_") + PhaseName(phase) + "_at_ms", TimeValue(NowMs()), e)},
      0);
}

Result<uint32_t> Organising::StartPrivateTime(const Bytes& meeting_id) {
  KRING_ASSIGN_OR_RETURN(ManagedMeeting open, OpenMeetingForManager(meeting_id));
  const v1::CaseState& view = open.view;
  const Bytes& me = open.me;
  const v1::Entity* e = &open.meeting();
  if (ParsePhase(TextField(*e, "phase")) != Phase::kInformation) {
    return FailedPrecondition("meeting.phase_order");
  }
  // The scope's key is made by its author, who can always read it: so a network member (the
  // resident, who chairs) starts private time, never the coordinator or a professional.
  const v1::Member* self = client::model::FindMember(view, me);
  if (self == nullptr || !IsNetworkMember(view, *self)) {
    return FailedPrecondition("meeting.private_time_by_network");
  }
  std::vector<Bytes> network;
  for (const auto& m : view.members()) {
    if (!IsNetworkMember(view, m)) continue;
    // Someone the organisers decided not to invite (an alleged perpetrator) is not in it either.
    const v1::Entity* person = PersonOfAccount(view, View(m.account_id()));
    const auto decisions = AboutPerson(view, kParticipationType, person->entity_id());
    if (!decisions.empty() && TextField(*decisions.back(), "mode") == "not_invited") continue;
    network.push_back(B(m.account_id()));
  }
  KRING_ASSIGN_OR_RETURN(uint32_t scope, ScopeFor(network));
  const std::string& id = e->entity_id();
  const std::string at = std::string("phase_") + PhaseName(Phase::kPrivateTime) + "_at_ms";
  KRING_RETURN_IF_ERROR(Write({Set(id, "private_scope", IntValue(scope), e),
                               Set(id, "phase", TextValue(PhaseName(Phase::kPrivateTime)), e),
                               Set(id, at, TimeValue(NowMs()), e)},
                              0));
  return scope;
}

Result<uint32_t> Organising::PrivateTimeScope(const Bytes& meeting_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  if (FieldValue(*e, "private_scope") == nullptr) {
    return FailedPrecondition("meeting.no_private_time");
  }
  return static_cast<uint32_t>(IntField(*e, "private_scope"));
}

Status Organising::ReleaseDraft(const Bytes& meeting_id) {
  // Fetch the case first, so the notes the network wrote on other devices are shared too. Best
  // effort: offline (or inside a sync) this device's own view decides. A case stopped by a
  // security alarm (now or before) is not released from a view nobody can trust: its
  // SECURITY_ALARM is the answer, as for Client::SyncCase.
  (void)client_.SyncCase(case_id_);
  // The store's halted flag, set by this sync or one before it, offline too (a refusal without
  // a removal, REMOVAL_NOT_SHOWN, halts nothing: as offline, this device's view decides).
  KRING_RETURN_IF_ERROR(client_.CaseStopped(case_id_));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  if (ParsePhase(TextField(*e, "phase")) != Phase::kPrivateTime) {
    return FailedPrecondition("meeting.not_private_time");
  }
  const bool released = FlagField(*e, "draft_released");
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const std::string& id = e->entity_id();
  Batch batch(client_, case_id_, view, me);
  if (!released) {
    KRING_RETURN_IF_ERROR(batch.Add({Set(id, "draft_released", FlagValue(true), e),
                                     Set(id, "released_at_ms", TimeValue(NowMs()), e)},
                                    0));
  }
  // Once released, calling it again (still in private time) shares the notes that reached this
  // device after the release: the same step, for what is left.
  size_t copies = 0;
  // The network's private-time notes go to the whole circle with the draft: a copy in scope 0
  // that keeps the first author, time and phase (the original stays in the private scope).
  const uint32_t private_scope = static_cast<uint32_t>(IntField(*e, "private_scope"));
  const std::set<std::string> shared = SharedNotes(view, *e);
  for (const v1::Entity* n : NotesOf(view, id)) {
    if (private_scope == 0 || n->scope_id() != private_scope || shared.count(n->entity_id())) {
      continue;
    }
    const std::string cid = NewEntityId(0);
    KRING_RETURN_IF_ERROR(
        batch.Add({Create(cid, kMeetingNoteType), Set(cid, "meeting", BlobValue(id)),
                   Set(cid, "text", TextValue(TextField(*n, "text"))),
                   Set(cid, "written_at_ms", TimeValue(TimeField(*n, "written_at_ms"))),
                   Set(cid, "phase", TextValue(TextField(*n, "phase"))),
                   Set(cid, "private_time", FlagValue(true)),
                   Set(cid, "author", BlobValue(n->created_by_account_id())),
                   Set(cid, "copy_of", BlobValue(n->entity_id()))},
                  0));
    ++copies;
  }
  // The network's private-time agreements: each copied into the scope it would have had outside
  // private time, the original deleted (allowed now that the release is in the batch).
  KRING_ASSIGN_OR_RETURN(std::vector<ReleaseOp> agreements,
                         AgreementReleaseOps(client_, case_id_, view, id));
  for (ReleaseOp& op : agreements) {
    KRING_RETURN_IF_ERROR(batch.Add(std::move(op.mutations), op.scope_id));
  }
  copies += agreements.size();
  if (released && copies == 0) return FailedPrecondition("meeting.already_released");
  return batch.Commit();
}

Result<ReleaseContents> Organising::WhatReleaseShares(const Bytes& meeting_id) {
  (void)client_.SyncCase(case_id_);
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  // Whoever may not release is told so first, with who may (the reducer's rule for the release
  // itself), and learns nothing of what the network wrote, not even how much.
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  Batch may_release(client_, case_id_, view, me);
  KRING_RETURN_IF_ERROR(
      may_release.Add({Set(e->entity_id(), "draft_released", FlagValue(true), e)}, 0));
  if (ParsePhase(TextField(*e, "phase")) != Phase::kPrivateTime) {
    return FailedPrecondition("meeting.not_private_time");
  }
  ReleaseContents out;
  const uint32_t private_scope = static_cast<uint32_t>(IntField(*e, "private_scope"));
  if (private_scope == 0) return out;
  const std::set<std::string> shared = SharedNotes(view, *e);
  for (const v1::Entity* n : NotesOf(view, e->entity_id())) {
    out.notes += n->scope_id() == private_scope && shared.count(n->entity_id()) == 0;
  }
  out.agreements = PrivateTimeAgreementCount(view, e->entity_id());
  for (const auto& [key, d] : view.entities()) {
    out.drafts += d.type() == plan_model::kPlanDraft && !d.deleted() && d.scope_id() != 0;
  }
  return out;
}

// ---- The meeting's record ----

Status Organising::RecordAttendance(const Bytes& meeting_id, const Bytes& person_id,
                                    Attendance attendance) {
  KRING_ASSIGN_OR_RETURN(ManagedMeeting open, OpenMeetingForManager(meeting_id));
  const v1::CaseState& view = open.view;
  const v1::Entity* e = &open.meeting();
  if (ParsePhase(TextField(*e, "phase")) == Phase::kNotStarted) {
    return FailedPrecondition("meeting.not_started");
  }
  const v1::Entity* person = FindPersonEntity(view, S(person_id));
  if (person == nullptr || TextField(*person, "status") != "approved") return Unknown();
  return Write({Set(e->entity_id(), AttendanceField(person->entity_id()),
                    TextValue(AttendanceName(attendance)), e)},
               0);
}

Result<Bytes> Organising::AddMeetingNote(const Bytes& meeting_id, const std::string& text) {
  if (text.find_first_not_of(" \t\r\n\v\f") == std::string::npos) {
    return Invalid("meeting.note_missing");
  }
  KRING_RETURN_IF_ERROR(ValidateText(text, kMaxMeetingNote, "meeting.note_too_long"));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  if (TextField(*e, "status") == "cancelled") return FailedPrecondition("meeting.cancelled");
  const Phase phase = ParsePhase(TextField(*e, "phase"));
  if (phase == Phase::kNotStarted) return FailedPrecondition("meeting.not_started");
  // During private time a network member's note is sealed to the network, like the draft.
  uint32_t scope = 0;
  const uint32_t private_scope = static_cast<uint32_t>(IntField(*e, "private_scope"));
  const v1::Member* self = client::model::FindMember(view, me);
  if (self == nullptr) return NotAMember(view, me);
  if (phase == Phase::kPrivateTime && !FlagField(*e, "draft_released") && private_scope != 0 &&
      IsNetworkMember(view, *self) && client::model::InScope(view, private_scope, me)) {
    scope = private_scope;
  } else if (!IsManager(view, me)) {
    return PermissionDenied(RefusalKey(rule::kNote));  // who writes notes when
  }
  // The reducer's limit: notes about this meeting in the scope the note goes to.
  size_t count = 0;
  for (const v1::Entity* n : NotesOf(view, e->entity_id())) count += n->scope_id() == scope;
  if (count >= kMaxMeetingNotes) return FailedPrecondition("meeting.too_many_notes");
  const std::string id = NewEntityId(scope);
  KRING_RETURN_IF_ERROR(
      Write({Create(id, kMeetingNoteType), Set(id, "meeting", BlobValue(e->entity_id())),
             Set(id, "text", TextValue(text)), Set(id, "written_at_ms", TimeValue(NowMs())),
             Set(id, "phase", TextValue(PhaseName(phase))),
             Set(id, "private_time", FlagValue(scope != 0))},
            scope));
  return B(id);
}

Result<std::vector<MeetingNote>> Organising::MeetingNotes(const Bytes& meeting_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  const v1::Entity* e = FindTyped(view, S(meeting_id), kMeetingType);
  if (e == nullptr) return Unknown();
  const std::vector<const v1::Entity*> notes = NotesOf(view, e->entity_id());
  // A private-time note shared at the release shows once: as its copy for the circle.
  const std::set<std::string> shared = SharedNotes(view, *e);
  std::vector<MeetingNote> out;
  for (const v1::Entity* n : notes) {
    if (shared.count(n->entity_id()) != 0) continue;
    MeetingNote note;
    note.note_id = B(n->entity_id());
    note.meeting_id = meeting_id;
    // The writer is whoever wrote the note, except on the release's copy: its first author.
    note.author_account_id =
        B(IsSharedCopy(*n) ? BlobField(*n, "author") : n->created_by_account_id());
    note.written_at_ms = TimeField(*n, "written_at_ms");
    note.phase = ParsePhase(TextField(*n, "phase"));
    note.private_time = FlagField(*n, "private_time");
    note.text = TextField(*n, "text");
    out.push_back(std::move(note));
  }
  // Oldest first by the author's time; log order (AllOf) breaks ties.
  std::stable_sort(out.begin(), out.end(), [](const MeetingNote& a, const MeetingNote& b) {
    return a.written_at_ms < b.written_at_ms;
  });
  return out;
}

Status Organising::FinishMeeting(const Bytes& meeting_id) {
  KRING_ASSIGN_OR_RETURN(ManagedMeeting open, OpenMeetingForManager(meeting_id));
  const v1::Entity* e = &open.meeting();
  if (ParsePhase(TextField(*e, "phase")) != Phase::kAcceptance) {
    return FailedPrecondition("meeting.phase_order");
  }
  return Write({Set(e->entity_id(), "finished_at_ms", TimeValue(NowMs()), e)}, 0);
}

Result<std::vector<v1::Conflict>> Organising::Conflicts() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  std::vector<v1::Conflict> out;
  for (const v1::Conflict& c : view.conflicts()) {
    if (!ShowsAsConflict(c)) continue;
    auto e = view.entities().find(Hex(View(c.entity_id())));
    if (e == view.entities().end()) continue;
    for (const char* type :
         {kPersonType, kContactType, kReferralType, kPreTalkType, kSafetyNoteType,
          kParticipationType, kAbsentViewType, kPollType, kPollAnswerType, kMeetingType,
          kMeetingAddressType, kMeetingNoteType}) {
      if (e->second.type() == type) {
        out.push_back(c);
        break;
      }
    }
  }
  // The case's plan may have been replaced by a version written from an older view.
  for (v1::Conflict& c : plan_model::StaleVersionConflicts(view)) out.push_back(std::move(c));
  return out;
}

Result<std::vector<ScopeSummary>> Organising::Scopes() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, Read());
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount());
  // What the scope is for, from what is sealed to it (a scope carries no label).
  std::map<uint32_t, std::set<std::string>> holds;
  for (const auto& [key, e] : view.entities()) {
    if (e.scope_id() == 0 || e.deleted()) continue;
    const std::string& t = e.type();
    const char* what = t == kContactType                           ? "contact"
                       : t == kPreTalkType || t == kSafetyNoteType ? "pretalk"
                       : t == kMeetingAddressType                  ? "address"
                       : t == kMeetingNoteType                     ? "meeting_note"
                       : plan_model::IsPlanType(t)                 ? "plan"
                                                                   : "other";
    holds[e.scope_id()].insert(what);
  }
  for (const v1::Entity* m : AllOf(view, kMeetingType)) {
    const auto scope = static_cast<uint32_t>(IntField(*m, "private_scope"));
    if (scope != 0) holds[scope].insert("private_time");
  }
  std::vector<ScopeSummary> out;
  for (const auto& [id, scope] : view.scopes()) {
    if (id == 0) continue;
    ScopeSummary s;
    s.scope_id = id;
    for (const std::string& m : scope.members()) {
      s.member_account_ids.push_back(B(m));
      // The person the rules act on for that account.
      const v1::Entity* person = PersonOfAccount(view, View(m));
      s.member_person_ids.push_back(person == nullptr ? Bytes{} : B(person->entity_id()));
      if (B(m) == me) s.is_member = true;
    }
    const std::set<std::string>& held = holds[id];
    for (const char* what :
         {"private_time", "contact", "pretalk", "address", "meeting_note", "plan", "other"}) {
      if (held.count(what) != 0) s.holds.push_back(what);
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const ScopeSummary& a, const ScopeSummary& b) { return a.scope_id < b.scope_id; });
  return out;
}

// ---- Device-side helpers ----

const Person* PersonOfAccount(const std::vector<Person>& circle, const Bytes& account_id) {
  if (account_id.empty()) return nullptr;
  // The reducer's rule (PersonOfAccount on the view): Circle holds the same persons (scope 0,
  // not deleted), so the first by id is the same one.
  const Person* found = nullptr;
  for (const Person& p : circle) {
    if (p.account_id != account_id) continue;
    if (found == nullptr || p.person_id < found->person_id) found = &p;
  }
  return found;
}

std::vector<int64_t> ReminderTimes(int64_t start_ms, int64_t now_ms) {
  std::vector<int64_t> out;
  // A start before 1970 has no reminders (and start_ms - before cannot overflow below).
  if (start_ms < 0) return out;
  for (int64_t before : {7 * kDayMs, kDayMs, 2 * kHourMs}) {
    if (start_ms - before > now_ms) out.push_back(start_ms - before);
  }
  return out;
}

std::string NotificationText(Language language) {
  return UserText("notify.something_new", language);
}

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t YearOf(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2 ? 1 : 0);
}

// The last Sunday of a month, 01:00 UTC: when EU summer time starts (March) or ends (October).
int64_t LastSundayOneUtc(int64_t year, int64_t month) {
  const int64_t next_first =
      month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, month + 1, 1);
  int64_t last = next_first - 1;
  // 1970-01-01 was a Thursday: weekday 0 = Sunday is (days + 4) mod 7.
  const int64_t weekday = ((last + 4) % 7 + 7) % 7;
  last -= weekday;
  return last * kDayMs + kHourMs;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int64_t AmsterdamOffsetMs(int64_t utc_ms) {
  const int64_t year = YearOf(FloorDiv(utc_ms, kDayMs));
  const bool summer = utc_ms >= LastSundayOneUtc(year, 3) && utc_ms < LastSundayOneUtc(year, 10);
  return summer ? 2 * kHourMs : kHourMs;
}

int64_t AmsterdamDay(int64_t utc_ms) {
  return FloorDiv(utc_ms + AmsterdamOffsetMs(utc_ms), kDayMs);
}

}  // namespace kring::domain
