// kring_client_domain_call's dispatcher: converts the kring.abi.v1 domain messages to the C++
// domain structs and back. The enums of domain.proto number their values as the C++ enums do
// (checked below), so they convert by number after a range check.
#include "domain_call.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kring/domain/case_figures.h"
#include "kring/domain/exports.h"
#include "kring/domain/follow_up.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

namespace kring::abi {
namespace {

namespace pb = kring::abi::v1;
namespace d = kring::domain;

#define KRING_SAME(cpp, proto) \
  static_assert(static_cast<int>(cpp) == static_cast<int>(proto), "mirror " #proto)
KRING_SAME(d::Answer::kNo, pb::POLL_ANSWER_NO);
KRING_SAME(d::LocationKind::kOnline, pb::LOCATION_ONLINE);
KRING_SAME(d::Phase::kAcceptance, pb::PHASE_ACCEPTANCE);
KRING_SAME(d::Phase::kPrivateTime, pb::PHASE_PRIVATE_TIME);
KRING_SAME(d::Attendance::kWrittenView, pb::ATTENDANCE_WRITTEN_VIEW);
KRING_SAME(d::Attendance::kAbsent, pb::ATTENDANCE_ABSENT);
KRING_SAME(d::Decision::kReject, pb::DECISION_REJECT);
KRING_SAME(d::AgreementStatus::kDropped, pb::AGREEMENT_DROPPED);
KRING_SAME(d::AgreementStatus::kBlocked, pb::AGREEMENT_BLOCKED);
KRING_SAME(d::CheckOutcome::kVervolgberaad, pb::CHECK_VERVOLGBERAAD);
KRING_SAME(d::UpcomingCheck::Kind::kMentorEvaluation, pb::UPCOMING_MENTOR_EVALUATION);
KRING_SAME(d::InvitationState::kRevoked, pb::INVITATION_REVOKED);
KRING_SAME(d::InvitationState::kJoined, pb::INVITATION_JOINED);
KRING_SAME(d::Participation::kNotInvited, pb::PARTICIPATION_NOT_INVITED);
KRING_SAME(d::Participation::kWrittenContribution, pb::PARTICIPATION_WRITTEN_CONTRIBUTION);
KRING_SAME(d::Moment::kReview, pb::MOMENT_REVIEW);
KRING_SAME(d::ReportFormat::kJson, pb::REPORT_FORMAT_JSON);
#undef KRING_SAME

constexpr size_t kIdBytes = 16;

Status Invalid(const std::string& what) { return InvalidArgument(what); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "nl" or "" is Dutch, "en" English; anything else is refused.
Result<d::Language> LanguageOf(const std::string& code) {
  if (code.empty() || code == "nl") return d::Language::kDutch;
  if (code == "en") return d::Language::kEnglish;
  return Invalid("language must be \"nl\" or \"en\"");
}

// An optional id: empty, or exactly 16 bytes.
Result<Bytes> OptionalId(const std::string& b, const char* what) {
  if (!b.empty() && b.size() != 16) return Invalid(std::string(what) + " must be 16 bytes");
  return ToBytes(b);
}

// An id the domain code looks up: exactly 16 bytes (what names the field, never its value).
Result<Bytes> Id(const std::string& b, const char* what) {
  if (b.size() != kIdBytes) return Invalid(std::string(what) + " must be 16 bytes");
  return ToBytes(b);
}

std::vector<Bytes> Ids(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<Bytes> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (const std::string& b : in) out.push_back(ToBytes(b));
  return out;
}

template <typename Out>
void AddIds(const std::vector<Bytes>& in, Out* out) {
  for (const Bytes& b : in) out->Add(ToString(b));
}

// A proto enum value as the C++ enum with the same numbering; unknown values are refused.
template <typename E>
Result<E> Enum(int value, bool (*valid)(int), const char* what) {
  if (!valid(value)) return Invalid(std::string(what) + " is not a known value");
  return static_cast<E>(value);
}

// ---- Organising: in ----

d::ContactDetails FromProto(const pb::ContactDetails& c) {
  return {c.phone(), c.email(), c.address()};
}

d::PersonInput FromProto(const pb::PersonInput& p) {
  d::PersonInput out;
  out.name = p.name();
  out.relation = p.relation();
  out.kind = p.kind();
  out.organisation = p.organisation();
  out.function = p.function();
  if (!p.language().empty()) out.language = p.language();
  out.interpreter = p.interpreter();
  out.has_app = p.has_app();
  out.account_id = ToBytes(p.account_id());
  out.contact = FromProto(p.contact());
  return out;
}

d::ResidentQuestion FromProto(const pb::ResidentQuestion& q) {
  return {q.ik_wil(), q.ik_kan(), q.ik_heb_nodig()};
}

d::ResidentQuestionEdit FromProto(const pb::ResidentQuestionEdit& q) {
  d::ResidentQuestionEdit out;
  if (q.has_ik_wil()) out.ik_wil = q.ik_wil();
  if (q.has_ik_kan()) out.ik_kan = q.ik_kan();
  if (q.has_ik_heb_nodig()) out.ik_heb_nodig = q.ik_heb_nodig();
  return out;
}

d::ReferralInput FromProto(const pb::ReferralInput& r) {
  d::ReferralInput out;
  out.referrer_kind = r.referrer_kind();
  out.resident = FromProto(r.resident());
  out.reason = r.reason();
  for (const auto& p : r.invitees()) out.invitees.push_back(FromProto(p));
  out.resident_consent = r.resident_consent();
  out.bottom_lines.assign(r.bottom_lines().begin(), r.bottom_lines().end());
  out.questions.assign(r.questions().begin(), r.questions().end());
  out.spoed = r.spoed();
  out.question = FromProto(r.question());
  out.referred_at_ms = r.referred_at_ms();
  return out;
}

d::CoordinatorAssignment FromProto(const pb::CoordinatorAssignment& a) {
  return {ToBytes(a.coordinator_account_id()), a.language(), a.gender(), a.culture()};
}

d::PollInput FromProto(const pb::PollInput& p) {
  d::PollInput out;
  for (const auto& s : p.slots()) out.slots.push_back({{}, s.start_ms(), s.end_ms()});
  out.required = Ids(p.required());
  out.deadline_ms = p.deadline_ms();
  out.replace = p.replace();
  return out;
}

Result<d::LocationInput> FromProto(const pb::LocationInput& l) {
  d::LocationInput out;
  KRING_ASSIGN_OR_RETURN(
      out.kind, Enum<d::LocationKind>(l.kind(), pb::LocationKind_IsValid, "location kind"));
  out.coarse = l.coarse();
  out.exact = l.exact();
  out.hidden_from = Ids(l.hidden_from());
  return out;
}

d::FixOverrides FromProto(const pb::FixOverrides& o) {
  return {o.no_pretalk_reason(), o.required_no_reason()};
}

// ---- Organising: out ----

void ToProto(const d::ResidentQuestion& q, pb::ResidentQuestion* out) {
  out->set_ik_wil(q.ik_wil);
  out->set_ik_kan(q.ik_kan);
  out->set_ik_heb_nodig(q.ik_heb_nodig);
}

void ToProto(const d::Referral& r, pb::Referral* out) {
  out->set_referral_id(ToString(r.referral_id));
  out->set_referrer_kind(r.referrer_kind);
  out->set_referrer_account_id(ToString(r.referrer_account_id));
  out->set_resident_person_id(ToString(r.resident_person_id));
  AddIds(r.invitee_person_ids, out->mutable_invitee_person_ids());
  out->set_reason(r.reason);
  out->set_resident_consent(r.resident_consent);
  out->set_spoed(r.spoed);
  for (const auto& s : r.bottom_lines) out->add_bottom_lines(s);
  for (const auto& s : r.questions) out->add_questions(s);
  ToProto(r.question, out->mutable_question());
  out->set_referred_at_ms(r.referred_at_ms);
  pb::CoordinatorAssignment* c = out->mutable_coordinator();
  c->set_coordinator_account_id(ToString(r.coordinator.coordinator_account_id));
  c->set_language(r.coordinator.language);
  c->set_gender(r.coordinator.gender);
  c->set_culture(r.coordinator.culture);
  out->set_coordinator_assigned_at_ms(r.coordinator_assigned_at_ms);
  for (const d::LaterReferral& l : r.later) {
    pb::LaterReferral* o = out->add_later();
    o->set_referral_id(ToString(l.referral_id));
    o->set_referrer_account_id(ToString(l.referrer_account_id));
    o->set_referred_at_ms(l.referred_at_ms);
    o->set_resident_person_id(ToString(l.resident_person_id));
    o->set_reason(l.reason);
    for (const std::string& b : l.bottom_lines) o->add_bottom_lines(b);
    for (const std::string& q : l.questions) o->add_questions(q);
  }
}

void ToProto(const d::Person& p, pb::Person* out) {
  out->set_person_id(ToString(p.person_id));
  out->set_name(p.name);
  out->set_relation(p.relation);
  out->set_kind(p.kind);
  out->set_organisation(p.organisation);
  out->set_function(p.function);
  out->set_language(p.language);
  out->set_interpreter(p.interpreter);
  out->set_has_app(p.has_app);
  out->set_account_id(ToString(p.account_id));
  out->set_status(p.status);
  out->set_invite_id(ToString(p.invite_id));
  out->set_proposed_by_account_id(ToString(p.proposed_by_account_id));
  out->set_pretalk_held(p.pretalk_held);
  out->set_left(p.left);
  out->set_left_at_ms(p.left_at_ms);
  out->set_account_removed(p.account_removed);
  out->set_account_not_joined(p.account_not_joined);
}

void ToProto(const d::Slot& s, pb::Slot* out) {
  out->set_slot_id(ToString(s.slot_id));
  out->set_start_ms(s.start_ms);
  out->set_end_ms(s.end_ms);
}

void ToProto(const d::Poll& p, pb::Poll* out) {
  out->set_poll_id(ToString(p.poll_id));
  for (const auto& s : p.slots) ToProto(s, out->add_slots());
  AddIds(p.required, out->mutable_required());
  out->set_deadline_ms(p.deadline_ms);
}

void ToProto(const d::SlotTally& t, pb::SlotTally* out) {
  out->set_slot_id(ToString(t.slot_id));
  out->set_yes(t.yes);
  out->set_if_need_be(t.if_need_be);
  out->set_no(t.no);
  AddIds(t.required_no, out->mutable_required_no());
}

void ToProto(const d::Meeting& m, pb::Meeting* out) {
  out->set_meeting_id(ToString(m.meeting_id));
  out->set_start_ms(m.start_ms);
  out->set_end_ms(m.end_ms);
  out->set_spoed(m.spoed);
  out->set_cancelled(m.cancelled);
  out->set_location_kind(static_cast<pb::LocationKind>(m.location_kind));
  out->set_coarse_location(m.coarse_location);
  out->set_exact_location(m.exact_location);
  out->set_uid(m.uid);
  out->set_sequence(m.sequence);
  out->set_phase(static_cast<pb::Phase>(m.phase));
  for (const auto& [phase, at] : m.phase_started_at_ms) {
    pb::PhaseStart* s = out->add_phase_started();
    s->set_phase(static_cast<pb::Phase>(phase));
    s->set_at_ms(at);
  }
  out->set_private_scope(m.private_scope);
  out->set_draft_released(m.draft_released);
  out->set_no_pretalk_reason(m.no_pretalk_reason);
  out->set_required_no_reason(m.required_no_reason);
  for (const d::AttendanceEntry& a : m.attendance) {
    pb::AttendanceEntry* e = out->add_attendance();
    e->set_person_id(ToString(a.person_id));
    e->set_attendance(static_cast<pb::Attendance>(a.attendance));
  }
  out->set_finished_at_ms(m.finished_at_ms);
}

void ToProto(const d::MeetingNote& n, pb::MeetingNote* out) {
  out->set_note_id(ToString(n.note_id));
  out->set_meeting_id(ToString(n.meeting_id));
  out->set_author_account_id(ToString(n.author_account_id));
  out->set_written_at_ms(n.written_at_ms);
  out->set_phase(static_cast<pb::Phase>(n.phase));
  out->set_private_time(n.private_time);
  out->set_text(n.text);
}

void ToProto(const d::PreTalk& t, pb::PreTalk* out) {
  out->set_pretalk_id(ToString(t.pretalk_id));
  out->set_person_id(ToString(t.person_id));
  out->set_held_at_ms(t.held_at_ms);
  out->set_how(t.how);
  out->set_explained(t.explained);
  out->set_questions(t.questions);
  out->set_safety_concerns(t.safety_concerns);
}

void ToProto(const d::CalendarData& c, pb::CalendarData* out) {
  out->set_uid(c.uid);
  out->set_sequence(c.sequence);
  out->set_start_ms(c.start_ms);
  out->set_end_ms(c.end_ms);
  out->set_location_text(c.location_text);
  out->set_location_kind(static_cast<pb::LocationKind>(c.location_kind));
  out->set_cancelled(c.cancelled);
}

// ---- Plan and FollowUp: in ----

d::PlanContent FromProto(const pb::PlanContent& c) {
  d::PlanContent out;
  out.ik_wil = c.ik_wil();
  out.ik_kan = c.ik_kan();
  out.ik_heb_nodig = c.ik_heb_nodig();
  out.life_domains.insert(c.life_domains().begin(), c.life_domains().end());
  out.contingency = c.contingency();
  out.contact_person = ToBytes(c.contact_person());
  out.bottom_lines = c.bottom_lines();
  out.answers = c.answers();
  out.responsible_professional = ToBytes(c.responsible_professional());
  if (c.review_days() != 0) out.review_days = c.review_days();
  return out;
}

d::AgreementInput FromProto(const pb::AgreementInput& a) {
  d::AgreementInput out;
  out.owner = ToBytes(a.owner());
  out.action = a.action();
  out.due_ms = a.due_ms();
  out.recurrence = a.recurrence();
  out.checker = ToBytes(a.checker());
  out.life_domain = a.life_domain();
  out.hidden_from = Ids(a.hidden_from());
  out.visible_to = Ids(a.visible_to());
  return out;
}

d::Obstacle FromProto(const pb::Obstacle& o) {
  return {o.description(), ToBytes(o.owner()), o.new_due_ms()};
}

Result<d::SixWeekCheckInput> FromProto(const pb::SixWeekCheckInput& c) {
  d::SixWeekCheckInput out;
  out.at_ms = c.at_ms();
  for (const auto& a : c.assessments()) {
    d::AssessmentInput in;
    in.agreement_id = ToBytes(a.agreement_id());
    KRING_ASSIGN_OR_RETURN(
        in.result, Enum<d::AgreementStatus>(a.result(), pb::AgreementStatus_IsValid, "result"));
    if (a.has_obstacle()) in.obstacle = FromProto(a.obstacle());
    out.assessments.push_back(std::move(in));
  }
  KRING_ASSIGN_OR_RETURN(out.outcome,
                         Enum<d::CheckOutcome>(c.outcome(), pb::CheckOutcome_IsValid, "outcome"));
  out.note = c.note();
  return out;
}

// ---- Plan and FollowUp: out ----

void ToProto(const d::PlanContent& c, pb::PlanContent* out) {
  out->set_ik_wil(c.ik_wil);
  out->set_ik_kan(c.ik_kan);
  out->set_ik_heb_nodig(c.ik_heb_nodig);
  out->mutable_life_domains()->insert(c.life_domains.begin(), c.life_domains.end());
  out->set_contingency(c.contingency);
  out->set_contact_person(ToString(c.contact_person));
  out->set_bottom_lines(c.bottom_lines);
  out->set_answers(c.answers);
  out->set_responsible_professional(ToString(c.responsible_professional));
  out->set_review_days(c.review_days);
}

void ToProto(const d::PlanVersion& v, pb::PlanVersion* out) {
  out->set_version_id(ToString(v.version_id));
  out->set_number(v.number);
  ToProto(v.content, out->mutable_content());
  for (const auto& a : v.agreements) {
    pb::AgreementRef* r = out->add_agreements();
    r->set_agreement_id(ToString(a.agreement_id));
    r->set_content_hash(ToString(a.content_hash));
  }
  out->set_hash(ToString(v.hash));
  out->set_details_readable(v.details_readable);
  out->set_created_seq(v.created_seq);
  out->set_based_on(v.based_on);
  out->set_skipped(v.skipped);
}

void ToProto(const d::Acceptance& a, pb::Acceptance* out) {
  out->set_version_id(ToString(a.version_id));
  out->set_chair_accepted(a.chair_accepted);
  out->set_accepted_at_ms(a.accepted_at_ms);
  out->set_needs_professional(a.needs_professional);
  out->set_professional(static_cast<pb::Decision>(a.professional));
  out->set_conditions(a.conditions);
  out->set_reason(a.reason);
  out->set_accepted(a.accepted);
  out->set_review_at_ms(a.review_at_ms);
  out->set_checkin_at_ms(a.checkin_at_ms);
}

void ToProto(const d::Obstacle& o, pb::Obstacle* out) {
  out->set_description(o.description);
  out->set_owner(ToString(o.owner));
  out->set_new_due_ms(o.new_due_ms);
}

void ToProto(const d::Agreement& a, pb::Agreement* out) {
  out->set_agreement_id(ToString(a.agreement_id));
  pb::AgreementInput* in = out->mutable_input();
  in->set_owner(ToString(a.input.owner));
  in->set_action(a.input.action);
  in->set_due_ms(a.input.due_ms);
  in->set_recurrence(a.input.recurrence);
  in->set_checker(ToString(a.input.checker));
  in->set_life_domain(a.input.life_domain);
  AddIds(a.input.hidden_from, in->mutable_hidden_from());
  AddIds(a.input.visible_to, in->mutable_visible_to());
  out->set_content_hash(ToString(a.content_hash));
  out->set_accepted_hash(ToString(a.accepted_hash));
  out->set_accepted(a.accepted);
  out->set_acceptance_stale(a.acceptance_stale);
  out->set_status(static_cast<pb::AgreementStatus>(a.status));
  if (a.obstacle) ToProto(*a.obstacle, out->mutable_obstacle());
  out->set_scope_id(a.scope_id);
  out->set_conflicts(static_cast<int32_t>(a.conflicts.size()));
  out->set_owner_left(a.owner_left);
  out->set_needs_new_owner(a.needs_new_owner());
  out->set_in_private_time(a.in_private_time);
  out->set_copy_of(ToString(a.copy_of));
}

void ToProto(const d::SixWeekCheck& c, pb::SixWeekCheck* out) {
  out->set_check_id(ToString(c.check_id));
  out->set_version_id(ToString(c.version_id));
  out->set_at_ms(c.at_ms);
  out->set_outcome(static_cast<pb::CheckOutcome>(c.outcome));
  for (const auto& a : c.assessments) {
    pb::Assessment* p = out->add_assessments();
    p->set_agreement_id(ToString(a.agreement_id));
    p->set_result(static_cast<pb::AgreementStatus>(a.result));
    if (a.obstacle) ToProto(*a.obstacle, p->mutable_obstacle());
  }
}

void AddConflicts(const std::vector<kring::v1::Conflict>& in, pb::DomainResponse* out) {
  for (const auto& c : in) out->add_conflicts(c.SerializeAsString());
}

void ToProto(const d::LogEntry& e, pb::MentorLogEntry* out) {
  out->set_at_ms(e.at_ms);
  out->set_note(e.note);
  out->set_author_account_id(ToString(e.author_account_id));
}

void ToProto(const d::MentorState& m, pb::MentorState* out) {
  out->set_mentor_id(ToString(m.mentor_id));
  out->set_young_person(ToString(m.young_person));
  out->set_mentor(ToString(m.mentor));
  out->set_parental_consent(m.parental_consent);
  out->set_designated_at_ms(m.designated_at_ms);
  for (const auto& w : m.warnings) out->add_warnings(w);
  for (const auto& e : m.checkins) ToProto(e, out->add_checkins());
  for (const auto& e : m.evaluations) ToProto(e, out->add_evaluations());
  out->set_next_evaluation_ms(m.next_evaluation_ms);
}

void ToProto(const d::MicroAnalysis& m, pb::MicroAnalysis* out) {
  if (m.wellbeing_before) out->set_wellbeing_before(*m.wellbeing_before);
  if (m.wellbeing_after) out->set_wellbeing_after(*m.wellbeing_after);
  if (m.wellbeing_delta) out->set_wellbeing_delta(*m.wellbeing_delta);
  if (m.cost_before_cents) out->set_cost_before_cents(*m.cost_before_cents);
  if (m.cost_after_cents) out->set_cost_after_cents(*m.cost_after_cents);
  if (m.cost_delta_cents) out->set_cost_delta_cents(*m.cost_delta_cents);
}

void AddAgreements(const std::vector<d::Agreement>& in, pb::DomainResponse* out) {
  for (const auto& a : in) ToProto(a, out->add_agreements());
}

// A created entity's id into response.id.
Status SetId(const Result<Bytes>& r, pb::DomainResponse* out) {
  if (!r.ok()) return r.status();
  out->set_id(ToString(r.value()));
  return {};
}

Status SetScope(const Result<uint32_t>& r, pb::DomainResponse* out) {
  if (!r.ok()) return r.status();
  out->set_scope_id(r.value());
  return {};
}

Status Organise(d::Organising& org, const pb::DomainRequest& req, pb::DomainResponse* out) {
  switch (req.call_case()) {
    case pb::DomainRequest::kSubmitReferral:
      return SetId(org.SubmitReferral(FromProto(req.submit_referral())), out);
    case pb::DomainRequest::kAssignCoordinator:
      return org.AssignCoordinator(FromProto(req.assign_coordinator()));
    case pb::DomainRequest::kGetReferral: {
      KRING_ASSIGN_OR_RETURN(d::Referral r, org.GetReferral());
      ToProto(r, out->mutable_referral());
      return {};
    }
    case pb::DomainRequest::kProposePerson:
      return SetId(org.ProposePerson(FromProto(req.propose_person())), out);
    case pb::DomainRequest::kApprovePerson: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.approve_person().id(), "person id"));
      return org.ApprovePerson(id);
    }
    case pb::DomainRequest::kDeclinePerson: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.decline_person().id(), "person id"));
      return org.DeclinePerson(id);
    }
    case pb::DomainRequest::kRemovePerson: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.remove_person().id(), "person id"));
      KRING_ASSIGN_OR_RETURN(d::PersonRemoval removal, org.RemovePerson(id));
      for (const Bytes& a : removal.open_agreements) out->add_ids(ToString(a));
      if (removal.still_member) out->add_warnings("person.still_member");
      if (removal.in_private_time) out->add_warnings("person.in_private_time");
      return {};
    }
    case pb::DomainRequest::kLinkAccount: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.link_account().person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(Bytes account, Id(req.link_account().account_id(), "account id"));
      return org.LinkAccount(person, account);
    }
    case pb::DomainRequest::kCircle: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::Person> people, org.Circle());
      for (const auto& p : people) ToProto(p, out->add_people());
      return {};
    }
    case pb::DomainRequest::kCreatePoll: {
      // Asked before: after it, the new poll is the current one.
      const bool had_poll = org.CurrentPoll().ok();
      KRING_RETURN_IF_ERROR(SetId(org.CreatePoll(FromProto(req.create_poll())), out));
      if (had_poll) out->add_warnings("poll.replaced_earlier");
      return {};
    }
    case pb::DomainRequest::kCurrentPoll: {
      KRING_ASSIGN_OR_RETURN(d::Poll poll, org.CurrentPoll());
      ToProto(poll, out->mutable_poll());
      return {};
    }
    case pb::DomainRequest::kGetPoll: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.get_poll().id(), "poll id"));
      KRING_ASSIGN_OR_RETURN(d::Poll poll, org.GetPoll(id));
      ToProto(poll, out->mutable_poll());
      return {};
    }
    case pb::DomainRequest::kAnswerPoll: {
      const pb::AnswerPoll& a = req.answer_poll();
      KRING_ASSIGN_OR_RETURN(Bytes poll, Id(a.poll_id(), "poll id"));
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(a.person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(Bytes slot, Id(a.slot_id(), "slot id"));
      KRING_ASSIGN_OR_RETURN(d::Answer answer,
                             Enum<d::Answer>(a.answer(), pb::PollAnswer_IsValid, "answer"));
      return org.AnswerPoll(poll, person, slot, answer);
    }
    case pb::DomainRequest::kTally: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.tally().id(), "poll id"));
      KRING_ASSIGN_OR_RETURN(std::vector<d::SlotTally> tally, org.Tally(id));
      for (const auto& t : tally) ToProto(t, out->add_tally());
      return {};
    }
    case pb::DomainRequest::kFixMeeting: {
      const pb::FixMeeting& f = req.fix_meeting();
      KRING_ASSIGN_OR_RETURN(Bytes poll, Id(f.poll_id(), "poll id"));
      KRING_ASSIGN_OR_RETURN(Bytes slot, Id(f.slot_id(), "slot id"));
      KRING_ASSIGN_OR_RETURN(d::LocationInput location, FromProto(f.location()));
      return SetId(org.FixMeeting(poll, slot, location, FromProto(f.overrides())), out);
    }
    case pb::DomainRequest::kFixSpoedMeeting: {
      const pb::FixSpoedMeeting& f = req.fix_spoed_meeting();
      KRING_ASSIGN_OR_RETURN(d::LocationInput location, FromProto(f.location()));
      return SetId(org.FixSpoedMeeting(f.start_ms(), f.end_ms(), location, FromProto(f.overrides()),
                                       f.now_ms()),
                   out);
    }
    case pb::DomainRequest::kCurrentMeeting: {
      KRING_ASSIGN_OR_RETURN(d::Meeting m, org.CurrentMeeting());
      ToProto(m, out->mutable_meeting());
      return {};
    }
    case pb::DomainRequest::kStartPhase: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.start_phase().meeting_id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(d::Phase phase,
                             Enum<d::Phase>(req.start_phase().phase(), pb::Phase_IsValid, "phase"));
      return org.StartPhase(id, phase);
    }
    case pb::DomainRequest::kStartPrivateTime: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.start_private_time().id(), "meeting id"));
      return SetScope(org.StartPrivateTime(id), out);
    }
    case pb::DomainRequest::kReleaseDraft: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.release_draft().id(), "meeting id"));
      return org.ReleaseDraft(id);
    }
    case pb::DomainRequest::kWhatReleaseShares: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.what_release_shares().id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(d::ReleaseContents what, org.WhatReleaseShares(id));
      pb::ReleaseContents* p = out->mutable_release_contents();
      p->set_notes(static_cast<uint32_t>(what.notes));
      p->set_agreements(static_cast<uint32_t>(what.agreements));
      p->set_drafts(static_cast<uint32_t>(what.drafts));
      return {};
    }
    case pb::DomainRequest::kLogPretalk: {
      const pb::PreTalkInput& t = req.log_pretalk();
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(t.person_id(), "person id"));
      return SetId(org.LogPreTalk({person, t.held_at_ms(), t.how(), t.explained(), t.questions(),
                                   t.safety_concerns()}),
                   out);
    }
    case pb::DomainRequest::kPretalks: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::PreTalk> talks, org.PreTalks());
      for (const auto& t : talks) ToProto(t, out->add_pretalks());
      return {};
    }
    case pb::DomainRequest::kReschedule: {
      const pb::Reschedule& r = req.reschedule();
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(r.meeting_id(), "meeting id"));
      return org.Reschedule(id, r.start_ms(), r.end_ms());
    }
    case pb::DomainRequest::kCancelMeeting: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.cancel_meeting().id(), "meeting id"));
      return org.CancelMeeting(id);
    }
    case pb::DomainRequest::kCalendarFor: {
      KRING_ASSIGN_OR_RETURN(Bytes meeting, Id(req.calendar_for().meeting_id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.calendar_for().person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(d::CalendarData c, org.CalendarFor(meeting, person));
      ToProto(c, out->mutable_calendar());
      return {};
    }
    case pb::DomainRequest::kRecordInvitation: {
      const pb::RecordInvitation& r = req.record_invitation();
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(r.person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(
          d::InvitationState state,
          Enum<d::InvitationState>(r.state(), pb::InvitationState_IsValid, "invitation state"));
      return org.RecordInvitation(person, state);
    }
    case pb::DomainRequest::kRevokeInvitation: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.revoke_invitation().id(), "person id"));
      return org.RevokeInvitation(person);
    }
    case pb::DomainRequest::kInvitationOf: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.invitation_of().person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(d::InvitationState state,
                             org.InvitationOf(person, req.invitation_of().now_ms()));
      out->set_invitation_state(static_cast<pb::InvitationState>(state));
      return {};
    }
    case pb::DomainRequest::kDecideParticipation: {
      const pb::ParticipationDecision& p = req.decide_participation();
      d::ParticipationDecision decision;
      KRING_ASSIGN_OR_RETURN(decision.person_id, Id(p.person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(
          decision.mode,
          Enum<d::Participation>(p.mode(), pb::Participation_IsValid, "participation"));
      decision.reason = p.reason();
      return org.DecideParticipation(decision);
    }
    case pb::DomainRequest::kParticipationOf: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.participation_of().id(), "person id"));
      KRING_ASSIGN_OR_RETURN(std::optional<d::ParticipationDecision> p,
                             org.ParticipationOf(person));
      if (p) {
        pb::ParticipationDecision* o = out->mutable_participation();
        o->set_person_id(ToString(p->person_id));
        o->set_mode(static_cast<pb::Participation>(p->mode));
        o->set_reason(p->reason);
      }
      return {};
    }
    case pb::DomainRequest::kRecordAttendance: {
      const pb::RecordAttendance& r = req.record_attendance();
      KRING_ASSIGN_OR_RETURN(Bytes meeting, Id(r.meeting_id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(r.person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(
          d::Attendance attendance,
          Enum<d::Attendance>(r.attendance(), pb::Attendance_IsValid, "attendance"));
      return org.RecordAttendance(meeting, person, attendance);
    }
    case pb::DomainRequest::kAddMeetingNote: {
      KRING_ASSIGN_OR_RETURN(Bytes meeting, Id(req.add_meeting_note().meeting_id(), "meeting id"));
      return SetId(org.AddMeetingNote(meeting, req.add_meeting_note().text()), out);
    }
    case pb::DomainRequest::kMeetingNotes: {
      KRING_ASSIGN_OR_RETURN(Bytes meeting, Id(req.meeting_notes().id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(std::vector<d::MeetingNote> notes, org.MeetingNotes(meeting));
      for (const d::MeetingNote& n : notes) ToProto(n, out->add_meeting_notes());
      return {};
    }
    case pb::DomainRequest::kFinishMeeting: {
      KRING_ASSIGN_OR_RETURN(Bytes meeting, Id(req.finish_meeting().id(), "meeting id"));
      return org.FinishMeeting(meeting);
    }
    case pb::DomainRequest::kAddAbsentView: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.add_absent_view().person_id(), "person id"));
      return SetId(org.AddAbsentView(person, req.add_absent_view().text()), out);
    }
    case pb::DomainRequest::kAbsentViews: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::AbsentView> views, org.AbsentViews());
      for (const auto& v : views) {
        pb::AbsentView* o = out->add_absent_views();
        o->set_view_id(ToString(v.view_id));
        o->set_person_id(ToString(v.person_id));
        o->set_text(v.text);
      }
      return {};
    }
    case pb::DomainRequest::kSetLocation: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.set_location().meeting_id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(d::LocationInput location, FromProto(req.set_location().location()));
      return org.SetLocation(id, location);
    }
    case pb::DomainRequest::kShareLocationWithCurrentCircle: {
      KRING_ASSIGN_OR_RETURN(Bytes id,
                             Id(req.share_location_with_current_circle().id(), "meeting id"));
      return org.ShareLocationWithCurrentCircle(id);
    }
    case pb::DomainRequest::kConflicts: {
      KRING_ASSIGN_OR_RETURN(std::vector<kring::v1::Conflict> list, org.Conflicts());
      AddConflicts(list, out);
      return {};
    }
    case pb::DomainRequest::kExportCalendar: {
      const pb::ExportCalendar& e = req.export_calendar();
      KRING_ASSIGN_OR_RETURN(Bytes meeting, Id(e.meeting_id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(e.person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(d::Language language, LanguageOf(e.language()));
      KRING_ASSIGN_OR_RETURN(std::string ics,
                             d::ExportCalendar(org, meeting, person, language, e.now_ms()));
      out->set_text(std::move(ics));
      return {};
    }
    case pb::DomainRequest::kInviteWithApp: {
      const pb::InviteWithApp& i = req.invite_with_app();
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(i.person_id(), "person id"));
      if (i.role() == 0 || !kring::v1::Role_IsValid(static_cast<int>(i.role()))) {
        return Invalid("role is not a known value");
      }
      KRING_ASSIGN_OR_RETURN(
          d::AppInvitation inv,
          org.InviteWithApp(person, static_cast<kring::v1::Role>(i.role()), i.valid_for_seconds()));
      pb::Invitation* o = out->mutable_invitation();
      o->set_invite_id(ToString(inv.invite_id));
      o->set_link(inv.link);
      o->set_qr_text(inv.qr_text);
      if (inv.replaced_earlier) out->add_warnings("invite.replaced_earlier");
      return {};
    }
    case pb::DomainRequest::kSetResidentQuestion:
      return org.SetResidentQuestion(FromProto(req.set_resident_question()));
    case pb::DomainRequest::kEditResidentQuestion:
      return org.EditResidentQuestion(FromProto(req.edit_resident_question()));
    case pb::DomainRequest::kSetSpoed:
      return org.SetSpoed(req.set_spoed().spoed());
    case pb::DomainRequest::kScopes: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::ScopeSummary> scopes, org.Scopes());
      for (const d::ScopeSummary& s : scopes) {
        pb::ScopeSummary* p = out->add_scopes();
        p->set_scope_id(s.scope_id);
        for (const Bytes& a : s.member_account_ids) p->add_member_account_ids(ToString(a));
        for (const Bytes& m : s.member_person_ids) p->add_member_person_ids(ToString(m));
        for (const std::string& h : s.holds) p->add_holds(h);
        p->set_is_member(s.is_member);
      }
      return {};
    }
    case pb::DomainRequest::kUpdatePerson: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.update_person().person_id(), "person id"));
      d::PersonInput in = FromProto(req.update_person().person());
      // UpdatePerson changes neither: the account link and the contact have their own calls.
      in.account_id.clear();
      in.contact = {};
      return org.UpdatePerson(person, in);
    }
    case pb::DomainRequest::kSetContact: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.set_contact().person_id(), "person id"));
      return org.SetContact(person, FromProto(req.set_contact().details()));
    }
    case pb::DomainRequest::kGetPerson: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.get_person().id(), "person id"));
      KRING_ASSIGN_OR_RETURN(d::Person p, org.GetPerson(person));
      ToProto(p, out->add_people());
      return {};
    }
    case pb::DomainRequest::kMyPersonId:
      return SetId(org.MyPersonId(), out);
    case pb::DomainRequest::kContactOf: {
      KRING_ASSIGN_OR_RETURN(Bytes person, Id(req.contact_of().id(), "person id"));
      KRING_ASSIGN_OR_RETURN(std::optional<d::Contact> c, org.ContactOf(person));
      if (c) {
        pb::Contact* o = out->mutable_contact();
        o->set_contact_id(ToString(c->contact_id));
        o->set_person_id(ToString(c->person_id));
        pb::ContactDetails* details = o->mutable_details();
        details->set_phone(c->details.phone);
        details->set_email(c->details.email);
        details->set_address(c->details.address);
      }
      return {};
    }
    case pb::DomainRequest::kInviteesWithoutPretalk: {
      KRING_ASSIGN_OR_RETURN(std::vector<Bytes> people, org.InviteesWithoutPreTalk());
      AddIds(people, out->mutable_ids());
      return {};
    }
    case pb::DomainRequest::kPollAnswers: {
      KRING_ASSIGN_OR_RETURN(Bytes poll, Id(req.poll_answers().id(), "poll id"));
      KRING_ASSIGN_OR_RETURN(std::vector<d::PollAnswer> answers, org.Answers(poll));
      for (const auto& a : answers) {
        pb::SlotAnswer* o = out->add_answers();
        o->set_person_id(ToString(a.person_id));
        o->set_slot_id(ToString(a.slot_id));
        o->set_answer(static_cast<pb::PollAnswer>(a.answer));
      }
      return {};
    }
    case pb::DomainRequest::kGetMeeting: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.get_meeting().id(), "meeting id"));
      KRING_ASSIGN_OR_RETURN(d::Meeting m, org.GetMeeting(id));
      ToProto(m, out->mutable_meeting());
      return {};
    }
    case pb::DomainRequest::kPrivateTimeScope: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.private_time_scope().id(), "meeting id"));
      return SetScope(org.PrivateTimeScope(id), out);
    }
    case pb::DomainRequest::kReminderTimes: {
      const pb::ReminderTimes& r = req.reminder_times();
      const int64_t now = r.now_ms() != 0 ? r.now_ms() : NowMs();
      for (int64_t t : d::ReminderTimes(r.start_ms(), now)) out->add_times(t);
      return {};
    }
    case pb::DomainRequest::kNotificationText: {
      KRING_ASSIGN_OR_RETURN(d::Language language, LanguageOf(req.notification_text().language()));
      out->set_text(d::NotificationText(language));
      return {};
    }
    default:
      return Invalid("request has no known call");
  }
}

Status PlanCall(d::Plan& plan, const pb::DomainRequest& req, pb::DomainResponse* out) {
  switch (req.call_case()) {
    case pb::DomainRequest::kNetworkScope:
      return SetScope(plan.NetworkScope(), out);
    case pb::DomainRequest::kCreateDraft:
      return SetId(
          plan.CreateDraft(req.create_draft().scope_id(), FromProto(req.create_draft().content())),
          out);
    case pb::DomainRequest::kUpdateDraft: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.update_draft().draft_id(), "draft id"));
      return plan.UpdateDraft(id, FromProto(req.update_draft().content()));
    }
    case pb::DomainRequest::kReleasePlan: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.release_plan().id(), "draft id"));
      return SetId(plan.Release(id), out);
    }
    case pb::DomainRequest::kPublishPlan:
      return SetId(plan.Publish(FromProto(req.publish_plan())), out);
    case pb::DomainRequest::kCurrentPlan: {
      KRING_ASSIGN_OR_RETURN(std::optional<d::PlanVersion> v, plan.Current());
      if (v) ToProto(*v, out->mutable_plan());
      return {};
    }
    case pb::DomainRequest::kAcceptPlan: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.accept_plan().version_id(), "version id"));
      return plan.Accept(id, req.accept_plan().now_ms());
    }
    case pb::DomainRequest::kProfessionalDecision: {
      const pb::ProfessionalDecision& p = req.professional_decision();
      KRING_ASSIGN_OR_RETURN(Bytes version, Id(p.version_id(), "version id"));
      KRING_ASSIGN_OR_RETURN(Bytes me, Id(p.my_person_id(), "person id"));
      KRING_ASSIGN_OR_RETURN(d::Decision decision,
                             Enum<d::Decision>(p.decision(), pb::Decision_IsValid, "decision"));
      return plan.RecordProfessionalDecision(version, me, decision, p.conditions_or_reason(),
                                             p.now_ms());
    }
    case pb::DomainRequest::kAcceptanceOf: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.acceptance_of().id(), "version id"));
      KRING_ASSIGN_OR_RETURN(d::Acceptance a, plan.AcceptanceOf(id));
      ToProto(a, out->mutable_acceptance());
      return {};
    }
    case pb::DomainRequest::kAddAgreement:
      return SetId(plan.AddAgreement(FromProto(req.add_agreement())), out);
    case pb::DomainRequest::kAcceptAgreement: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.accept_agreement().id(), "agreement id"));
      return plan.AcceptAgreement(id);
    }
    case pb::DomainRequest::kUpdateStatus: {
      const pb::UpdateStatus& u = req.update_status();
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(u.agreement_id(), "agreement id"));
      KRING_ASSIGN_OR_RETURN(
          d::AgreementStatus status,
          Enum<d::AgreementStatus>(u.status(), pb::AgreementStatus_IsValid, "status"));
      std::optional<d::Obstacle> obstacle;
      if (u.has_obstacle()) obstacle = FromProto(u.obstacle());
      return plan.UpdateStatus(id, status, obstacle);
    }
    case pb::DomainRequest::kGetAgreement: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.get_agreement().id(), "agreement id"));
      KRING_ASSIGN_OR_RETURN(d::Agreement a, plan.GetAgreement(id));
      ToProto(a, out->add_agreements());
      return {};
    }
    case pb::DomainRequest::kEditAgreement: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.edit_agreement().agreement_id(), "agreement id"));
      return plan.EditAgreement(id, FromProto(req.edit_agreement().input()));
    }
    case pb::DomainRequest::kAgreements: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::Agreement> list, plan.Agreements());
      AddAgreements(list, out);
      return {};
    }
    case pb::DomainRequest::kVersions: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::PlanVersion> list, plan.Versions());
      for (const auto& v : list) ToProto(v, out->add_versions());
      return {};
    }
    case pb::DomainRequest::kDraft: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.draft().id(), "draft id"));
      KRING_ASSIGN_OR_RETURN(d::PlanContent c, plan.Draft(id));
      ToProto(c, out->mutable_content());
      return {};
    }
    case pb::DomainRequest::kGrantProfessionalsFullView:
      return plan.GrantProfessionalsFullView(req.grant_professionals_full_view().granted());
    case pb::DomainRequest::kConflictsOf: {
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(req.conflicts_of().id(), "entity id"));
      KRING_ASSIGN_OR_RETURN(std::vector<kring::v1::Conflict> list, plan.ConflictsOf(id));
      AddConflicts(list, out);
      return {};
    }
    case pb::DomainRequest::kCurrentPlanForMe: {
      KRING_ASSIGN_OR_RETURN(std::optional<d::PlanVersion> v, plan.CurrentForMe());
      if (v) ToProto(*v, out->mutable_plan());
      return {};
    }
    case pb::DomainRequest::kDrafts: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::PlanDraft> list, plan.Drafts());
      for (const d::PlanDraft& draft : list) {
        pb::PlanDraft* p = out->add_drafts();
        p->set_draft_id(ToString(draft.draft_id));
        p->set_scope_id(draft.scope_id);
        ToProto(draft.content, p->mutable_content());
        p->set_last_author_account_id(ToString(draft.last_author_account_id));
      }
      return {};
    }
    case pb::DomainRequest::kLatestAcceptedPlan: {
      KRING_ASSIGN_OR_RETURN(std::optional<d::PlanVersion> v, plan.LatestAccepted());
      if (v) ToProto(*v, out->mutable_plan());
      return {};
    }
    default:
      return Invalid("request has no known call");
  }
}

Status FollowUpCall(d::FollowUp& follow, const pb::DomainRequest& req, pb::DomainResponse* out) {
  switch (req.call_case()) {
    case pb::DomainRequest::kRecordCheckIn:
      return follow.RecordCheckIn(req.record_check_in().at_ms(), req.record_check_in().note());
    case pb::DomainRequest::kRecordSixWeekCheck: {
      KRING_ASSIGN_OR_RETURN(d::SixWeekCheckInput in, FromProto(req.record_six_week_check()));
      return SetId(follow.RecordSixWeekCheck(in), out);
    }
    case pb::DomainRequest::kLatestCheck: {
      KRING_ASSIGN_OR_RETURN(std::optional<d::SixWeekCheck> c, follow.LatestCheck());
      if (c) ToProto(*c, out->mutable_check());
      return {};
    }
    case pb::DomainRequest::kCheckIns: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::LogEntry> list, follow.CheckIns());
      for (const d::LogEntry& e : list) ToProto(e, out->add_check_ins());
      return {};
    }
    case pb::DomainRequest::kMyAgreements: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::Agreement> list, follow.MyAgreements());
      AddAgreements(list, out);
      return {};
    }
    case pb::DomainRequest::kOverdue: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::Agreement> list,
                             follow.Overdue(req.overdue().now_ms()));
      AddAgreements(list, out);
      return {};
    }
    case pb::DomainRequest::kUpcomingChecks: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::UpcomingCheck> list,
                             follow.UpcomingChecks(req.upcoming_checks().now_ms()));
      for (const auto& c : list) {
        pb::UpcomingCheck* u = out->add_upcoming();
        u->set_kind(static_cast<pb::UpcomingKind>(c.kind));
        u->set_due_ms(c.due_ms);
        u->set_overdue(c.overdue);
      }
      return {};
    }
    case pb::DomainRequest::kDesignateMentor: {
      const pb::MentorInput& m = req.designate_mentor();
      d::MentorInput in;
      KRING_ASSIGN_OR_RETURN(in.young_person, Id(m.young_person(), "young person id"));
      KRING_ASSIGN_OR_RETURN(in.mentor, Id(m.mentor(), "mentor id"));
      in.parental_consent = m.parental_consent();
      KRING_ASSIGN_OR_RETURN(in.consent_by, OptionalId(m.consent_by(), "consent_by"));
      in.mentor_birth_ms = m.mentor_birth_ms();
      in.now_ms = m.now_ms();
      KRING_ASSIGN_OR_RETURN(d::MentorDesignation designation, follow.DesignateMentor(in));
      out->set_id(ToString(designation.mentor_id));
      for (const auto& w : designation.warnings) out->add_warnings(w);
      return {};
    }
    case pb::DomainRequest::kLogMentorCheckIn: {
      const pb::MentorLog& l = req.log_mentor_check_in();
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(l.mentor_id(), "mentor id"));
      return follow.LogMentorCheckIn(id, l.at_ms(), l.note());
    }
    case pb::DomainRequest::kLogEvaluation: {
      const pb::MentorLog& l = req.log_evaluation();
      KRING_ASSIGN_OR_RETURN(Bytes id, Id(l.mentor_id(), "mentor id"));
      return follow.LogEvaluation(id, l.at_ms(), l.note());
    }
    case pb::DomainRequest::kMentor: {
      KRING_ASSIGN_OR_RETURN(std::optional<d::MentorState> m, follow.Mentor());
      if (m) ToProto(*m, out->mutable_mentor());
      return {};
    }
    case pb::DomainRequest::kRecordWellBeing: {
      const pb::WellBeing& w = req.record_well_being();
      KRING_ASSIGN_OR_RETURN(d::Moment moment,
                             Enum<d::Moment>(w.moment(), pb::Moment_IsValid, "moment"));
      return follow.RecordWellBeing(moment, w.score(), w.at_ms());
    }
    case pb::DomainRequest::kAddCostItem: {
      const pb::CostItem& c = req.add_cost_item();
      KRING_ASSIGN_OR_RETURN(d::Moment moment,
                             Enum<d::Moment>(c.moment(), pb::Moment_IsValid, "moment"));
      return follow.AddCostItem(moment, c.service(), c.monthly_cents());
    }
    case pb::DomainRequest::kMicro: {
      KRING_ASSIGN_OR_RETURN(d::MicroAnalysis m, follow.Micro());
      ToProto(m, out->mutable_micro());
      return {};
    }
    case pb::DomainRequest::kChangedSince: {
      KRING_ASSIGN_OR_RETURN(std::vector<d::Change> list,
                             follow.ChangedSince(req.changed_since().seq()));
      for (const auto& c : list) {
        pb::Change* o = out->add_changes();
        o->set_entity_id(ToString(c.entity_id));
        o->set_type(c.type);
        o->set_created(c.created);
        for (const auto& f : c.fields) o->add_fields(f);
        o->set_seq(c.seq);
      }
      return {};
    }
    default:
      return Invalid("request has no known call");
  }
}

}  // namespace

Result<v1::DomainResponse> DomainCall(client::Client& client, const Bytes& case_id,
                                      const v1::DomainRequest& request) {
  // The oneof's field numbers group the calls: 1..29 and 100..129 Organising, 30..59 and
  // 130..159 Plan, 60..99 and 160.. FollowUp.
  const int call = static_cast<int>(request.call_case());
  if (call == 0) return Invalid("request has no call");
  // RenderPrintout reads the whole case state (exports.h), not one of the three handles.
  if (request.call_case() == v1::DomainRequest::kRenderPrintout) {
    const v1::RenderPrintout& r = request.render_printout();
    KRING_ASSIGN_OR_RETURN(Bytes reader, Id(r.reader_person_id(), "person id"));
    KRING_ASSIGN_OR_RETURN(d::Language language, LanguageOf(r.language()));
    KRING_ASSIGN_OR_RETURN(kring::v1::CaseState state, client.View(case_id));
    KRING_ASSIGN_OR_RETURN(std::string html,
                           d::RenderPrintout(state, reader, language, r.now_ms()));
    v1::DomainResponse response;
    response.set_text(std::move(html));
    return response;
  }
  // So does the team report, over every case this account coordinates (case_id is not read).
  if (request.call_case() == v1::DomainRequest::kExportTeamReport) {
    const v1::ExportTeamReport& r = request.export_team_report();
    KRING_ASSIGN_OR_RETURN(
        d::ReportFormat format,
        Enum<d::ReportFormat>(r.format(), v1::ReportFormat_IsValid, "report format"));
    KRING_ASSIGN_OR_RETURN(d::Language language, LanguageOf(r.language()));
    KRING_ASSIGN_OR_RETURN(std::string file,
                           d::ExportTeamReport(client, {r.from_ms(), r.to_ms()}, format, language));
    v1::DomainResponse response;
    response.set_text(std::move(file));
    return response;
  }
  const int group = call >= 100 ? call - 100 : call;
  v1::DomainResponse response;
  Status status;
  if (group < 30) {
    d::Organising org(client, case_id);
    status = Organise(org, request, &response);
  } else if (group < 60) {
    d::Plan plan(client, case_id);
    status = PlanCall(plan, request, &response);
  } else {
    d::FollowUp follow(client, case_id);
    status = FollowUpCall(follow, request, &response);
  }
  if (!status.ok()) return status;
  return response;
}

}  // namespace kring::abi
