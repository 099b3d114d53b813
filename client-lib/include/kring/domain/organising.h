// The organising half of a netwerkberaad (DOMAIN.md steps 0-3): referral, circle, invitations,
// pre-talks, scheduling and the meeting's phases, as typed operations over a case's content log.
//
// Every operation validates its input first and queues nothing on error; it then fails with a
// Status whose message is a stable key ("referral.no_consent") with a Dutch and English text in
// messages.cpp. Permission rules (who may approve a person, fix the meeting, answer for whom) are
// also enforced by every device's reducer (organising_rules.cpp), so a modified client gets
// nowhere; these methods check them up front only to give a clear error. A refusal by such a
// rule is PERMISSION_DENIED with a key that says who may ("refused.managers_only" for a call only
// the chair or a coordinator makes, "rule.*" otherwise; docs/domain.md, "Refusals: who may"), or
// "member.waiting_approval" for an account that still waits for the chair's approval.
//
// Restricted items (contact details, poll answers, safety concerns, the exact meeting address,
// the network's private time) live in restricted scopes chosen by one function (ScopeFor).
//
// Thread-safety: an Organising is as thread-safe as its Client (each call reads a fresh View and
// queues one or more edits); it holds no state of its own besides the case id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/domain/messages.h"

namespace kring::domain {

// ---- Entity types and limits (other engineers rely on these names) ----
inline constexpr char kPersonType[] = "person";
inline constexpr char kContactType[] = "contact";
inline constexpr char kReferralType[] = "referral";
inline constexpr char kPreTalkType[] = "pretalk";
inline constexpr char kSafetyNoteType[] = "pretalk_safety";
inline constexpr char kParticipationType[] = "participation";
inline constexpr char kAbsentViewType[] = "absent_view";
inline constexpr char kPollType[] = "poll";
inline constexpr char kPollAnswerType[] = "poll_answer";
inline constexpr char kMeetingType[] = "meeting";
inline constexpr char kMeetingAddressType[] = "meeting_address";
inline constexpr char kMeetingNoteType[] = "meeting_note";
// A meeting's attendance: one field per person on the meeting, "attendance_" + hex person id.
inline constexpr char kAttendancePrefix[] = "attendance_";

inline constexpr size_t kMaxShortText = 200;     // names, relations, functions, channels
inline constexpr size_t kMaxLongText = 4000;     // reasons, questions, notes
inline constexpr size_t kMaxListItems = 50;      // bottom lines, questions, invitees, slots
inline constexpr size_t kMaxMeetingNote = 2000;  // one meeting note (verslag, aantekening)
inline constexpr size_t kMaxMeetingNotes = 200;  // notes per meeting

// ---- Referral (step 0) and coordinator (step 1) ----

struct ContactDetails {
  std::string phone;
  std::string email;
  std::string address;
  bool empty() const { return phone.empty() && email.empty() && address.empty(); }
};

// A person to add to the circle. `kind` is one of: resident family friend neighbour child
// advocate mentor professional coordinator; professionals need an organisation and a function.
struct PersonInput {
  std::string name;
  std::string relation;  // the relation to the resident, in the proposer's words
  std::string kind;
  std::string organisation;
  std::string function;
  std::string language = "nl";
  bool interpreter = false;
  bool has_app = false;
  Bytes account_id;        // 16 bytes when the person already has an account in this case
  ContactDetails contact;  // stored apart, visible to the coordinator(s) and the person only
};

// The resident's question in three parts.
struct ResidentQuestion {
  std::string ik_wil;
  std::string ik_kan;
  std::string ik_heb_nodig;
};

// Some parts of the resident's question: each part given is written, the others stay as they are.
struct ResidentQuestionEdit {
  std::optional<std::string> ik_wil;
  std::optional<std::string> ik_kan;
  std::optional<std::string> ik_heb_nodig;
};

struct ReferralInput {
  std::string referrer_kind;  // "professional" or "resident"
  PersonInput resident;
  std::string reason;                 // in the referrer's words
  std::vector<PersonInput> invitees;  // each with at least one contact channel
  bool resident_consent = false;
  std::vector<std::string> bottom_lines;  // optional
  std::vector<std::string> questions;     // optional: questions the plan must answer
  bool spoed = false;
  ResidentQuestion question;
  int64_t referred_at_ms = 0;  // UTC; 0 = now
};

struct CoordinatorAssignment {
  Bytes coordinator_account_id;  // a member of the case with the coordinator role
  std::string language;          // preferences, free text (may be empty)
  std::string gender;
  std::string culture;
};

// A referral made after the case's first one: an addition, which changes nothing of whom the
// case is about, its reason, bottom lines, spoed or coordinator.
struct LaterReferral {
  Bytes referral_id;
  Bytes referrer_account_id;
  int64_t referred_at_ms = 0;
  Bytes resident_person_id;  // the case's resident (a later referral makes no new one)
  std::string reason;        // in that referrer's words
  std::vector<std::string> bottom_lines;
  std::vector<std::string> questions;
};

// The case's referral is its first one (by log position), whoever referred later.
struct Referral {
  Bytes referral_id;
  std::string referrer_kind;
  Bytes referrer_account_id;
  Bytes resident_person_id;
  std::vector<Bytes> invitee_person_ids;
  std::string reason;
  bool resident_consent = false;
  bool spoed = false;
  std::vector<std::string> bottom_lines;
  std::vector<std::string> questions;
  ResidentQuestion question;
  int64_t referred_at_ms = 0;  // for referral-to-meeting lead time
  CoordinatorAssignment coordinator;
  int64_t coordinator_assigned_at_ms = 0;
  std::vector<LaterReferral> later;  // in log order
};

// ---- Circle (step 2) ----

struct Person {
  Bytes person_id;
  std::string name;
  std::string relation;
  std::string kind;
  std::string organisation;
  std::string function;
  std::string language;
  bool interpreter = false;
  bool has_app = false;
  Bytes account_id;
  std::string status;  // proposed | approved | declined
  Bytes invite_id;
  Bytes proposed_by_account_id;
  // A coordinator logged a pre-talk with this person (its notes may be hidden from this device).
  bool pretalk_held = false;
  // Taken out of the circle (RemovePerson): kept, so earlier agreements still name them, but no
  // longer an invitee, not in private time, and not made owner of a new agreement.
  bool left = false;
  int64_t left_at_ms = 0;  // when it was written (UTC); 0 when not left
  // Linked to an account that was a member of the case and no longer is (removed with `member
  // remove`, or it left the case): they no longer take part with the app.
  bool account_removed = false;
  // Linked to an account that has not been a member of the case (yet): not in the app yet, and
  // they can be invited with it (InviteWithApp).
  bool account_not_joined = false;
  // Approved and not taken out again.
  bool in_circle() const { return status == "approved" && !left; }
};

// The person of `circle` (as Organising::Circle returns it) that the rules act on for an account:
// the one linked to it, the first by id when several are, whether in the circle or not; nullptr
// when none is. Every device's reducer picks the same person (organising_rules.cpp), so a name
// shown for an account is the person whose rights it has.
const Person* PersonOfAccount(const std::vector<Person>& circle, const Bytes& account_id);

// What RemovePerson tells the user about: nothing is changed for them silently.
struct PersonRemoval {
  // Open agreements (not done or dropped) this device can see whose owner the person is: they
  // keep the person as owner and show as needing a new owner (Agreement::needs_new_owner()).
  std::vector<Bytes> open_agreements;
  // The linked account is still a member of the case: it can still read the case until it is
  // removed with Client::RemoveMember (a control change with a new key, not done here). Leaving
  // the circle is not losing access, and what was seen cannot be taken back.
  bool still_member = false;
  // That account is in the scope of a private time still open: it keeps reading the network's
  // draft (and an exact address already sealed to it) until removed from the case.
  bool in_private_time = false;
};

// A restricted scope as a user recognises it: who is in it and what it is for, as far as this
// device can tell (a scope holds no label of its own; what it holds says what it is for).
struct ScopeSummary {
  uint32_t scope_id = 0;
  std::vector<Bytes> member_account_ids;  // in the order of the control op
  // Parallel to member_account_ids: the person of the circle the rules act on for that account
  // (as PersonOfAccount picks it), or empty when none is linked to it (yet).
  std::vector<Bytes> member_person_ids;
  // What this device reads in it, each once, in this order: "private_time" (the network's scope
  // of a meeting's private time), "contact" (contact details), "pretalk" (pre-talk notes),
  // "address" (a meeting's exact address), "meeting_note", "plan" (plan items and agreements
  // kept from some people), "other". A device not in the scope reads nothing in it, so knows
  // only "private_time" (from the meeting); empty when it holds nothing this device can read.
  // A device taken out of the scope keeps what it decrypted before: it may still list holds
  // here while is_member is false.
  std::vector<std::string> holds;
  // This account is in it (so can read what is sealed to it from now on). A user not in it is
  // best not shown the names of everyone who is (someone kept out of the contact details would
  // see who was let in); `kring scope list` names them only for members and for private time.
  bool is_member = false;
};

struct Contact {
  Bytes contact_id;
  Bytes person_id;
  ContactDetails details;
};

// O3: pending / accepted / declined / expired, plus the states around them.
enum class InvitationState {
  kNotInvited,
  kPending,
  kAccepted,
  kJoined,
  kDeclined,
  kExpired,
  kRevoked
};
const char* InvitationStateName(InvitationState state);

// An app invitation made for a person (Organising::InviteWithApp).
struct AppInvitation : client::Invitation {
  // An earlier link for this person was still open and no longer works: tell the user, who may
  // have sent it already ("invite.replaced_earlier").
  bool replaced_earlier = false;
};

// ---- Pre-talks and participation ----

struct PreTalkInput {
  Bytes person_id;
  int64_t held_at_ms = 0;       // UTC
  std::string how;              // home | phone | video | office | other
  std::string explained;        // what was explained
  std::string questions;        // the person's questions
  std::string safety_concerns;  // optional; visible to the coordinator(s) only
};

struct PreTalk {
  Bytes pretalk_id;
  Bytes person_id;
  int64_t held_at_ms = 0;
  std::string how;
  std::string explained;
  std::string questions;
  std::string safety_concerns;  // empty unless this device may read it
};

// How an alleged perpetrator takes part.
enum class Participation { kAttend, kPart, kWrittenContribution, kNotInvited };

struct ParticipationDecision {
  Bytes person_id;
  Participation mode = Participation::kAttend;
  std::string reason;  // required for kPart, kWrittenContribution and kNotInvited
};

struct AbsentView {
  Bytes view_id;
  Bytes person_id;
  std::string text;
};

// ---- Scheduling ----

enum class Answer { kYes, kIfNeedBe, kNo };

struct Slot {
  Bytes slot_id;
  int64_t start_ms = 0;  // UTC
  int64_t end_ms = 0;
};

struct PollInput {
  std::vector<Slot> slots;      // slot_id is assigned
  std::vector<Bytes> required;  // person ids
  int64_t deadline_ms = 0;      // UTC
  // The new poll becomes the case's current one (Organising::CurrentPoll). While the current
  // poll is still open and people answered it, that is only done when asked for: their answers
  // would silently stop counting (CreatePoll, "poll.open_has_answers").
  bool replace = false;
};

struct Poll {
  Bytes poll_id;
  std::vector<Slot> slots;  // sorted by start
  std::vector<Bytes> required;
  int64_t deadline_ms = 0;
};

struct PollAnswer {
  Bytes person_id;
  Bytes slot_id;
  Answer answer = Answer::kYes;
};

struct SlotTally {
  Bytes slot_id;
  int yes = 0;
  int if_need_be = 0;
  int no = 0;
  std::vector<Bytes> required_no;  // required participants who said no
};

enum class LocationKind { kHome, kVenue, kOnline };
const char* LocationKindName(LocationKind kind);  // home | venue | online (as stored)

struct LocationInput {
  LocationKind kind = LocationKind::kHome;
  std::string coarse;  // what everyone sees ("bij Anna thuis, Utrecht-Noord")
  std::string exact;   // street and number, or the video link: confirmed participants only
  std::vector<Bytes> hidden_from;  // person ids who must not get the exact location
};

// Reasons for fixing the meeting despite a warning.
struct FixOverrides {
  std::string no_pretalk_reason;   // some invitees have had no pre-talk
  std::string required_no_reason;  // a required participant said no to the slot
};

enum class Phase { kNotStarted, kInformation, kPrivateTime, kPlanPresentation, kAcceptance };
const char* PhaseName(Phase phase);

// Who of the circle took part in the meeting: there, sent their view in writing instead (DOMAIN
// step 2: "collect the views of those who cannot come"), or absent.
enum class Attendance { kPresent, kWrittenView, kAbsent };
const char* AttendanceName(Attendance attendance);  // present | written_view | absent

struct AttendanceEntry {
  Bytes person_id;
  Attendance attendance = Attendance::kPresent;
};

// A short meeting note (verslag / aantekening). Notes are a record: never edited or removed.
struct MeetingNote {
  Bytes note_id;
  Bytes meeting_id;
  Bytes author_account_id;  // who wrote it (for a released private-time note: its first author)
  int64_t written_at_ms = 0;
  Phase phase = Phase::kNotStarted;  // the phase it was written in
  // Written by the network during its private time: sealed to the private-time scope, so the
  // coordinator and professionals cannot read it until the network releases its draft; the
  // release shares it with the whole circle.
  bool private_time = false;
  std::string text;
};

// What a release of private time would share (Organising::WhatReleaseShares), counted in this
// device's view: the network's notes and agreements not shared yet, and the network's drafts it
// holds (these stay with the network until the plan is released from one, Plan::Release).
struct ReleaseContents {
  size_t notes = 0;
  size_t agreements = 0;
  size_t drafts = 0;
};

struct Meeting {
  Bytes meeting_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool spoed = false;
  bool cancelled = false;
  LocationKind location_kind = LocationKind::kHome;
  std::string coarse_location;
  std::string exact_location;  // empty unless this device may read it
  // The poll and its slot the meeting was fixed from; empty for a spoed meeting fixed without.
  Bytes poll_id;
  Bytes slot_id;
  std::string uid;       // stable, for calendar exports
  int64_t sequence = 0;  // bumped on every change of time, location or cancellation
  Phase phase = Phase::kNotStarted;
  std::vector<std::pair<Phase, int64_t>> phase_started_at_ms;
  uint32_t private_scope = 0;  // the network-only scope during and after private time
  bool draft_released = false;
  std::string no_pretalk_reason;
  std::string required_no_reason;
  // Who was there, in person-id order; people without an entry were not recorded.
  std::vector<AttendanceEntry> attendance;
  // The meeting is closed ("beraad afgerond"); 0 while it is not. After it nothing about the
  // meeting changes: no phase, attendance, time, place or cancellation.
  int64_t finished_at_ms = 0;
  bool finished() const { return finished_at_ms != 0; }
};

// What a calendar export or printout for one person needs (O7): only what that person may see.
struct CalendarData {
  std::string uid;
  int64_t sequence = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  LocationKind location_kind = LocationKind::kHome;  // the meeting's, said in LOCATION too
  std::string location_text;
  bool cancelled = false;
};

class Organising {
 public:
  Organising(client::Client& client, Bytes case_id);

  // ---- Referral and coordinator ----
  // Writes the referral, the resident and each invitee as circle members (the resident approved,
  // invitees proposed) and their contact details. Keys: referral.* and person.*. The case's
  // first referral names the resident for good, so only the chair, a coordinator or a member
  // linked to an approved professional in the circle makes it: "referral.first_by_organiser"
  // (PERMISSION_DENIED) for anyone else; later referrals are open to every member. A later
  // referral names the case's resident (the first referral's) and makes no new resident person:
  // the resident given in it (name, contact, app) is not used. referrer_kind "resident" only
  // from the chair's account (the resident's): "referral.referrer_not_resident" otherwise.
  Result<Bytes> SubmitReferral(const ReferralInput& referral);
  Status AssignCoordinator(const CoordinatorAssignment& assignment);
  // The resident's question (ik wil / ik kan / ik heb nodig), written or changed later: all three
  // parts are written, also a part this device already shows with that text (its view may be
  // stale, and a skipped part would let another member's unseen edit stand while the caller was
  // told it was done). The later op in the log wins each part.
  Status SetResidentQuestion(const ResidentQuestion& question);
  // The same for the parts given only (`kring referral question --ik-wil ...`): a part not given
  // is not written, so another member's concurrent edit of it stays. With no part given nothing
  // is written (the CLI refuses that as a usage error).
  Status EditResidentQuestion(const ResidentQuestionEdit& edit);
  // Sets or clears the spoed flag of the case's (first) referral later (safety turned out to be
  // at stake, or no longer is). Whoever may write the referral: its referrer, the chair or a
  // coordinator (every device's reducer enforces the same); "rule.referral_spoed" for anyone
  // else ("member.waiting_approval" for an account not yet approved). The value is written even
  // when this device already shows it (its view may be stale; the later op wins). A meeting fixed
  // as a spoedberaad stays one; clearing the flag only stops a new spoedberaad (FixSpoedMeeting).
  Status SetSpoed(bool spoed);
  // The case's referral: its first, which the rules use and nobody deletes (later ones are in
  // `later`); NOT_FOUND "referral.none" before one exists, "referral.waiting_approval" for an
  // account that accepted its invitation but waits for the chair's approval (it reads nothing yet).
  Result<Referral> GetReferral() const;

  // ---- Circle ----
  // Anyone may propose; the chair or coordinator approves or declines. A person of kind
  // "resident" once the first referral names the resident: "person.second_resident"
  // (FAILED_PRECONDITION; every device's reducer skips such a kind).
  Result<Bytes> ProposePerson(const PersonInput& person);
  // Writes `status` approved, also when this device already shows the person approved (a stale
  // view would otherwise let another organiser's unseen decline stand): the later op in the log
  // wins. Approving someone this device shows taken out of the circle brings them back (`left`
  // written false); for anyone this device shows in the circle `left` is not written, so a
  // removal made on another device that this one has not seen stands (approving is no way to
  // undo what the caller never saw). Nobody brings back the person linked to their own account
  // (the reducer refuses anyone setting their own `left`).
  Status ApprovePerson(const Bytes& person_id);
  Status DeclinePerson(const Bytes& person_id);
  // Chair or coordinator (as approving): takes someone out of the circle (a neighbour who moved,
  // a relative who no longer takes part). The person stays, marked `left`, so the history keeps
  // who they were. Refused for the resident ("person.resident_stays": kind resident, the first
  // referral's resident, or the person linked to a chair), for someone not in the
  // circle ("person.not_in_circle": proposed or declined) or taken out already
  // ("person.already_left"), and for the person linked to one's own account ("rule.own_kind": it
  // decides private time); "refused.managers_only" for anyone but the chair or a coordinator. Their
  // open app invitation is withdrawn. Their open agreements are not given to anyone else; the
  // result names them. Every device's reducer enforces who may. An open app invitation is revoked
  // on the server first, so then this needs the server (offline: the transport's error, nothing
  // written); otherwise it works offline.
  Result<PersonRemoval> RemovePerson(const Bytes& person_id);
  // Chair or coordinator: the account that belongs to a person (after they joined). Nobody links
  // their own account but as coordinator or professional (the chair also as the resident), and
  // nobody changes the kind or link of the person linked to them: "rule.own_kind" (the chair may
  // change their own link); "refused.managers_only" for anyone but the chair or a coordinator. The
  // link of the person linked to the chair's account is the chair's alone to change:
  // "person.chair_link" (PERMISSION_DENIED) for anyone else.
  Status LinkAccount(const Bytes& person_id, const Bytes& account_id);
  // Changes name, relation, kind, organisation, function, language and interpreter (only the
  // fields that differ; each edit based on the revision seen, so concurrent edits show as
  // conflicts). Contact details and the account link have their own calls.
  Status UpdatePerson(const Bytes& person_id, const PersonInput& person);
  // Replaces the person's contact details (coordinator(s) or the person).
  Status SetContact(const Bytes& person_id, const ContactDetails& details);
  Result<std::vector<Person>> Circle() const;
  Result<Person> GetPerson(const Bytes& person_id) const;
  // The person entity of this device's account; NOT_FOUND "person.not_linked".
  Result<Bytes> MyPersonId() const;
  // Empty when none is set or this device may not read it.
  Result<std::optional<Contact>> ContactOf(const Bytes& person_id) const;

  // ---- Invitations ----
  // For a person with the app: creates a membership invite and stores its id on the person.
  // Approving its acceptance (Client::ApproveMember, any app) links the person to the accepted
  // account in the same action, as LinkAccount does and under its rules; a person or account
  // that is linked already stays as it is (Person::account_id shows whether it was linked).
  // `role` is ROLE_MEMBER, ROLE_CHAIR or ROLE_COORDINATOR ("invite.role_invalid" otherwise,
  // nothing made). A person has one link at a time: an earlier link still open is revoked on the
  // server first (so an old message cannot be used any more), and the result says so
  // (AppInvitation::replaced_earlier) for the user to be told.
  Result<AppInvitation> InviteWithApp(const Bytes& person_id, v1::Role role,
                                      int64_t valid_for_seconds);
  // For a person without the app, invited in person or by phone: the coordinator records it.
  Status RecordInvitation(const Bytes& person_id, InvitationState state);
  // Chair or coordinator: revokes the person's open app invitation (the link stops working).
  // "refused.managers_only" for anyone else, before anything reaches the server (which refuses
  // the same); FAILED_PRECONDITION "invite.not_open" when there is no open invitation.
  Status RevokeInvitation(const Bytes& person_id);
  Result<InvitationState> InvitationOf(const Bytes& person_id, int64_t now_ms = 0) const;

  // ---- Pre-talks, participation, views of those who cannot come ----
  Result<Bytes> LogPreTalk(const PreTalkInput& pretalk);
  Result<std::vector<PreTalk>> PreTalks() const;
  // Approved invitees (everyone in the circle but coordinators, not "not invited") without a
  // pre-talk. LogPreTalk also marks the person (scope 0, field `pretalk_held`, no notes), so a
  // pre-talk this device cannot read (the chair's) counts as held; one logged before that mark
  // existed counts only where its notes can be read.
  Result<std::vector<Bytes>> InviteesWithoutPreTalk() const;
  Status DecideParticipation(const ParticipationDecision& decision);
  Result<std::optional<ParticipationDecision>> ParticipationOf(const Bytes& person_id) const;
  Result<Bytes> AddAbsentView(const Bytes& person_id, const std::string& text);
  Result<std::vector<AbsentView>> AbsentViews() const;

  // ---- Scheduling ----
  // The new poll is the case's current poll from now on (the one `CurrentPoll` returns; the
  // earlier ones stay, with their answers, by id). Refused with FAILED_PRECONDITION
  // "poll.open_has_answers" unless `poll.replace` while the current poll is open (its deadline
  // not passed, no meeting fixed from it) and this device sees answers to it: a coordinator
  // expects to be asked before the answers people gave stop counting.
  Result<Bytes> CreatePoll(const PollInput& poll);
  // The newest poll of the case (log order; one not yet synced counts as newest): the one people
  // answer unless told another. NOT_FOUND "poll.none" when there is none. Two polls made on this
  // device since its last sync are in no order yet (as two meetings for CurrentMeeting): the
  // sync, which sends them in the order they were made, settles which is current.
  Result<Poll> CurrentPoll() const;
  Result<Poll> GetPoll(const Bytes& poll_id) const;
  // By the person themself, or by the coordinator for someone without the app. Each (person,
  // slot) is its own field, so answers written offline on different devices all count.
  Status AnswerPoll(const Bytes& poll_id, const Bytes& person_id, const Bytes& slot_id,
                    Answer answer);
  // The answers this device may see: everyone's for the chair and coordinator, otherwise only
  // the answers of this device's own person.
  Result<std::vector<PollAnswer>> Answers(const Bytes& poll_id) const;
  // Chair or coordinator only ("meeting.results_hidden" for others). Answers of someone taken out
  // of the circle are not counted (so their "no" needs no override either).
  Result<std::vector<SlotTally>> Tally(const Bytes& poll_id) const;
  // Chair or coordinator: fixes the meeting on a slot. Fails with meeting.pretalk_missing or
  // meeting.required_said_no unless the matching override reason is given.
  Result<Bytes> FixMeeting(const Bytes& poll_id, const Bytes& slot_id,
                           const LocationInput& location, const FixOverrides& overrides = {});
  // A spoedberaad: the referral is spoed, the meeting starts today (Europe/Amsterdam), no poll.
  Result<Bytes> FixSpoedMeeting(int64_t start_ms, int64_t end_ms, const LocationInput& location,
                                const FixOverrides& overrides = {}, int64_t now_ms = 0);
  Status Reschedule(const Bytes& meeting_id, int64_t start_ms, int64_t end_ms);
  // A new location replaces the old exact address (in a new scope for the current circle).
  Status SetLocation(const Bytes& meeting_id, const LocationInput& location);
  // The exact location is sealed to the people confirmed when it was set. After someone else
  // confirms (or joins the app), this shares it again with the current audience, keeping who it
  // is hidden from. No calendar change, so the sequence stays.
  Status ShareLocationWithCurrentCircle(const Bytes& meeting_id);
  Status CancelMeeting(const Bytes& meeting_id);
  // The newest meeting; NOT_FOUND "meeting.none".
  Result<Meeting> CurrentMeeting() const;
  Result<Meeting> GetMeeting(const Bytes& meeting_id) const;
  // For the iCalendar export and the printout of `person_id`: the location text that person may
  // see (exact only for confirmed people it is not hidden from).
  Result<CalendarData> CalendarFor(const Bytes& meeting_id, const Bytes& person_id) const;

  // ---- The meeting ----
  // Chair or coordinator; phases only move forward. Private time has its own call.
  Status StartPhase(const Bytes& meeting_id, Phase phase);
  // Creates the network-only scope (members whose person is not a professional or coordinator,
  // nor someone decided "not invited") and moves to private time. Returns the scope to draft the
  // plan in. Called by a network member, usually the resident as chair: a scope's author always
  // holds its key, so the coordinator cannot start it ("meeting.private_time_by_network").
  Result<uint32_t> StartPrivateTime(const Bytes& meeting_id);
  Result<uint32_t> PrivateTimeScope(const Bytes& meeting_id) const;
  // A network member (in the private scope) releases the draft; the plan is then copied to
  // scope 0 by the plan code.
  // Also shares the network's private-time notes with the whole circle (see MeetingNote). Fetches
  // the case first (best effort: offline, this device's view decides; a case stopped by a
  // security alarm fails with the sync's SECURITY_ALARM). Called again while the
  // phase is still private time, it shares the notes that reached this device after the release;
  // meeting.already_released when there are none.
  // The agreements the network wrote in private time (Plan::AddAgreement) are shared in the same
  // step: each is copied into the scope Plan::AddAgreement gives it outside private time (so the
  // coordinator reads it, a professional only when they own or check it unless the chair granted
  // more) and the original is deleted. The copy is a new agreement and starts proposed.
  Status ReleaseDraft(const Bytes& meeting_id);
  // What ReleaseDraft would share now (fetches the case first, best effort, as ReleaseDraft).
  // Changes nothing; for telling the network before it releases.
  Result<ReleaseContents> WhatReleaseShares(const Bytes& meeting_id);

  // ---- The meeting's record ----
  // Chair or coordinator: who of the circle (an approved person) was there, sent their view in
  // writing, or was absent. From the information phase until the meeting is finished; a new
  // answer for the same person replaces the old one (two at once show as a conflict). Keys:
  // meeting.not_started, meeting.finished, meeting.cancelled, domain.unknown_item.
  Status RecordAttendance(const Bytes& meeting_id, const Bytes& person_id, Attendance attendance);
  // A short note (not blank, at most kMaxMeetingNote bytes, at most kMaxMeetingNotes per meeting
  // in the scope it goes to; every device's reducer enforces the same), from the
  // information phase on, also after the meeting is finished (the verslag is often written
  // afterwards). Outside private time: the chair or coordinator, visible to the whole circle.
  // During private time: a network member in it (the chair too), sealed to the private-time
  // scope; the coordinator may still write notes for the circle then, the others may not.
  // Keys: meeting.note_missing, meeting.note_too_long, meeting.too_many_notes,
  // meeting.not_started, meeting.cancelled, rule.meeting_note (not who may write now),
  // member.waiting_approval (an account not yet approved).
  Result<Bytes> AddMeetingNote(const Bytes& meeting_id, const std::string& text);
  // The notes this device may read, oldest first.
  Result<std::vector<MeetingNote>> MeetingNotes(const Bytes& meeting_id) const;
  // Chair or coordinator closes the meeting in the acceptance phase, recording the time. Every
  // device then refuses any change to the meeting (phases, attendance, time, place, cancelling).
  // Keys: meeting.phase_order (not in acceptance), meeting.finished, meeting.cancelled.
  Status FinishMeeting(const Bytes& meeting_id);

  // Unresolved concurrent edits of organising entities this device can see (F8): both values
  // are kept; editing the field again with the kept value in view resolves it. Then the plan
  // versions written from an older view (StaleVersionConflicts in plan.h), the case's other
  // conflict a user must hear of: those are resolved by a new version, not by an edit.
  Result<std::vector<v1::Conflict>> Conflicts() const;
  // Every restricted scope of the case (not scope 0), by scope id.
  Result<std::vector<ScopeSummary>> Scopes() const;

  const Bytes& case_id() const { return case_id_; }

 private:
  // The ONE place that chooses where a restricted item lives: a scope whose members are exactly
  // the `readers` who are members (plus the writer, who makes its key), reused when it exists.
  Result<uint32_t> ScopeFor(const std::vector<Bytes>& readers);
  Result<v1::CaseState> Read() const;
  Result<Bytes> MyAccount() const;
  // The view, this account and the meeting `meeting_id` in it, for a call only the chair or a
  // coordinator makes on a meeting that is still open (the shared preamble of those calls).
  struct ManagedMeeting;
  Result<ManagedMeeting> OpenMeetingForManager(const Bytes& meeting_id) const;
  // Checks the mutations against the reducer's rules on a copy of the view, then queues them.
  Status Write(const std::vector<v1::Mutation>& mutations, uint32_t scope_id);
  // Fixes a meeting (from a poll slot, or a spoedberaad when poll_id is empty).
  Result<Bytes> Fix(int64_t start_ms, int64_t end_ms, const LocationInput& location,
                    const FixOverrides& overrides, const Bytes& poll_id, const Bytes& slot_id);

  client::Client& client_;
  Bytes case_id_;
};

// F8: whether a conflict is one to show and to resolve: unresolved, and its two values differ.
// Two devices that wrote the same value at the same time disagree about nothing: the model keeps
// that conflict as it keeps every other (every device folds the log the same way), but nobody has
// to choose between two equal values. Every reader of conflicts in the domain uses this.
bool ShowsAsConflict(const v1::Conflict& conflict);

// When the app should remind about a meeting starting at start_ms: a week, a day and two hours
// before, those still after now_ms. Computed on the device; no server involved.
std::vector<int64_t> ReminderTimes(int64_t start_ms, int64_t now_ms);

// The only text a notification may carry: never case content (P5).
std::string NotificationText(Language language = Language::kDutch);

// Europe/Amsterdam's offset from UTC at utc_ms (CET +1h, CEST +2h; EU rules since 1996).
int64_t AmsterdamOffsetMs(int64_t utc_ms);
// The Europe/Amsterdam calendar day (days since 1970-01-01) of utc_ms.
int64_t AmsterdamDay(int64_t utc_ms);

}  // namespace kring::domain
