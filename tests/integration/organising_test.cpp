// Organising a netwerkberaad (referral, circle, invitations, pre-talks, poll, meeting phases)
// across several devices on a real kringd: every device converges, invalid input is refused with
// its own key and changes nothing, and forbidden edits have no effect anywhere.
#include "kring/domain/organising.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/refusal.h"
#include "kring/domain/case_figures.h"
#include "kring/domain/messages.h"
#include "kring/domain/plan.h"

#include "support/client_fixture.h"
#include "support/organising_fixture.h"

using namespace kring;
using namespace kring::test;
using namespace kring::domain;

namespace {

constexpr int64_t kHour = 3600LL * 1000;
constexpr int64_t kDay = 24 * kHour;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ReferralInput ValidReferral() {
  ReferralInput r;
  r.referrer_kind = "professional";
  r.resident = NewPerson("Sanne de Vries", "resident", "");
  r.resident.has_app = true;
  r.reason = "Sanne wil weer grip op haar geld en de zorg voor de kinderen.";
  auto mother = NewPerson("Ria de Vries", "family", "moeder", "06-12345678");
  mother.has_app = true;
  auto neighbour = NewPerson("Karim Amrani", "neighbour", "buurman", "", "karim@example.nl");
  neighbour.has_app = true;
  auto teacher = NewPerson("Joke Bakker", "professional", "juf van Tim", "", "j.bakker@school.nl");
  teacher.organisation = "Basisschool De Linde";
  teacher.function = "leerkracht";
  teacher.has_app = true;
  auto grandma = NewPerson("Oma Truus", "family", "oma", "030-1234567");
  grandma.language = "nl";
  grandma.interpreter = false;
  auto friend_ = NewPerson("Lotte Jansen", "friend", "vriendin", "06-87654321");
  friend_.has_app = true;
  auto child = NewPerson("Tim de Vries", "child", "zoon", "06-11112222");
  r.invitees = {mother, neighbour, teacher, grandma, friend_, child};
  r.resident_consent = true;
  r.bottom_lines = {"Tim en Eva gaan elke dag naar school."};
  r.questions = {"Wie helpt Sanne met de post?"};
  r.question = {"Ik wil rust in huis.", "Ik kan goed koken.", "Ik heb hulp nodig met geld."};
  return r;
}

const domain::Person* ByName(const std::vector<domain::Person>& circle, const std::string& name) {
  for (const auto& p : circle) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// The teacher of ValidReferral, entered by an organiser as an approved professional linked to
// `account`: then she may make the case's first referral.
Bytes EnterProfessional(Organising& organiser, const Bytes& account) {
  PersonInput teacher =
      NewPerson("Joke Bakker", "professional", "juf van Tim", "", "j.bakker@school.nl");
  teacher.organisation = "Basisschool De Linde";
  teacher.function = "leerkracht";
  return AddLinkedPerson(organiser, teacher, account);
}

// A referral by the teacher, who is in the circle already: she does not name herself again.
ReferralInput WithoutTeacher(ReferralInput r) {
  r.invitees.erase(std::remove_if(r.invitees.begin(), r.invitees.end(),
                                  [](const PersonInput& p) { return p.name == "Joke Bakker"; }),
                   r.invitees.end());
  return r;
}

// The case of `resident`, `mother` and the coordinator of `by_coordinator`: a spoed referral,
// Sanne and Ria linked to the resident's and the mother's accounts (Ria approved), and a spoed
// meeting in its information phase, not yet synced. Sanne's, Ria's and the meeting's ids.
struct SpoedOfThree {
  Bytes sanne, ria, meeting;
};
SpoedOfThree SpoedMeetingOfThree(Organising& by_coordinator, Device& resident, Device& mother) {
  ReferralInput r = ValidReferral();
  r.spoed = true;
  REQUIRE(by_coordinator.SubmitReferral(r).ok());
  SpoedOfThree c;
  c.sanne = IdOf(by_coordinator, "Sanne de Vries");
  c.ria = IdOf(by_coordinator, "Ria de Vries");
  REQUIRE(by_coordinator.LinkAccount(c.sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(c.ria, mother.account_id()).ok());
  REQUIRE(by_coordinator.ApprovePerson(c.ria).ok());
  c.meeting = SpoedMeetingInInformation(by_coordinator);
  return c;
}

// A case of a chair, a coordinator and Ria (a member), who read its history, synced once: for
// the chair's own person, whom only the chair relinks or gives another kind.
struct ChairsPersonCase {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  Device chair{net}, coordinator{net}, ria{net};
  Bytes cid = Created();
  Organising by_chair{*chair, cid}, by_coordinator{*coordinator, cid}, by_ria{*ria, cid};

  Bytes Created() {
    auto id = chair->CreateCase(
        {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {ria.account_id(), v1::ROLE_MEMBER}},
        true);
    REQUIRE(id.ok());
    SyncAll({&chair, &coordinator, &ria}, 1);
    return *id;
  }

  // `p` entered by the coordinator as the chair's own person: linked to the chair's account and
  // approved (not yet synced). Its id.
  Bytes EnterChairsPerson(const PersonInput& p) {
    return AddLinkedPerson(by_coordinator, p, chair.account_id());
  }
};

}  // namespace

TEST_CASE("organising from referral to private time converges on every device", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), neighbour(net), teacher(net), lotte(net);
  // Newcomers read history: Lotte, who joins later, sees the circle and the poll.
  auto created = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                       {mother.account_id(), v1::ROLE_MEMBER},
                                       {neighbour.account_id(), v1::ROLE_MEMBER},
                                       {teacher.account_id(), v1::ROLE_MEMBER}},
                                      true);
  REQUIRE(created.ok());
  const Bytes cid = *created;
  SyncAll({&resident, &coordinator, &mother, &neighbour, &teacher}, 1);
  Organising by_resident(*resident, cid), by_coordinator(*coordinator, cid),
      by_mother(*mother, cid), by_neighbour(*neighbour, cid), by_teacher(*teacher, cid);

  // The first referral names the resident for good: the coordinator lets the teacher into the
  // circle as a professional first (a plain member cannot make it).
  const Bytes joke = EnterProfessional(by_coordinator, teacher.account_id());
  SyncAll({&coordinator, &teacher}, 1);

  // Step 0: the teacher refers. Everyone she names is proposed, not yet in the circle.
  const int64_t before = Now();
  auto referral_id = by_teacher.SubmitReferral(WithoutTeacher(ValidReferral()));
  REQUIRE(referral_id.ok());
  SyncAll({&teacher, &coordinator}, 1);
  auto circle = by_coordinator.Circle();
  REQUIRE(circle.ok());
  REQUIRE(circle->size() == 7);
  for (const auto& p : *circle) CHECK(p.status == (p.person_id == joke ? "approved" : "proposed"));
  auto referral = by_coordinator.GetReferral();
  REQUIRE(referral.ok());
  CHECK(referral->referrer_account_id == teacher.account_id());
  CHECK(referral->resident_consent);
  CHECK_FALSE(referral->spoed);
  CHECK(referral->referred_at_ms >= before);
  CHECK(referral->invitee_person_ids.size() == 5);
  CHECK(referral->bottom_lines ==
        std::vector<std::string>{"Tim en Eva gaan elke dag naar school."});
  CHECK(referral->question.ik_heb_nodig == "Ik heb hulp nodig met geld.");

  // Spoed later: the referrer (a professional, a plain member) and the organisers may, nobody
  // else, also not when the flag already has that value.
  SyncAll({&neighbour}, 1);
  CHECK(by_neighbour.SetSpoed(true).message() == "rule.referral_spoed");
  REQUIRE(by_teacher.SetSpoed(true).ok());
  SyncAll({&teacher, &coordinator, &neighbour}, 1);
  CHECK(by_coordinator.GetReferral()->spoed);
  CHECK(by_neighbour.SetSpoed(true).message() == "rule.referral_spoed");
  // Written even when this device already shows the value: its view may be stale.
  const size_t queued = teacher->PendingIntents(cid);
  REQUIRE(by_teacher.SetSpoed(true).ok());
  CHECK(teacher->PendingIntents(cid) == queued + 1);
  SyncAll({&teacher}, 1);
  REQUIRE(by_coordinator.SetSpoed(false).ok());
  SyncAll({&coordinator, &teacher, &neighbour}, 1);
  CHECK_FALSE(by_teacher.GetReferral()->spoed);
  // Offline-first, the trial's lost update: the teacher sets spoed; the coordinator, not yet
  // synced, still sees "nee" and asks for "nee". That later op must be written and win on every
  // device (it was skipped as "unchanged", leaving spoed on while the CLI said it was off).
  REQUIRE(by_teacher.SetSpoed(true).ok());
  SyncAll({&teacher}, 1);
  REQUIRE(by_teacher.GetReferral()->spoed);
  REQUIRE_FALSE(by_coordinator.GetReferral()->spoed);  // stale view
  REQUIRE(by_coordinator.SetSpoed(false).ok());
  SyncAll({&coordinator, &teacher, &neighbour}, 1);
  for (Organising* o : {&by_coordinator, &by_teacher, &by_neighbour}) {
    CHECK_FALSE(o->GetReferral()->spoed);
  }
  // Forged past SetSpoed: the neighbour writes the flag through raw Submit (the server cannot
  // read it). Every device's reducer drops it, so no spoedberaad can follow from it.
  {
    v1::Mutation forged;
    forged.mutable_set_field()->set_entity_id(ToString(*referral_id));
    forged.mutable_set_field()->set_field("spoed");
    forged.mutable_set_field()->mutable_value()->set_flag(true);
    REQUIRE(neighbour->Submit(cid, {forged}).ok());
    SyncAll({&neighbour, &coordinator, &teacher, &resident}, 1);
    CHECK(neighbour->PendingIntents(cid) == 0);
    for (Organising* o : {&by_neighbour, &by_coordinator, &by_teacher, &by_resident}) {
      auto seen = o->GetReferral();
      REQUIRE(seen.ok());
      CHECK_FALSE(seen->spoed);
    }
  }

  // Step 1: the coordinator is assigned; preferences recorded. Only organisers may.
  CoordinatorAssignment assignment{coordinator.account_id(), "nl", "vrouw", ""};
  CHECK(by_teacher.AssignCoordinator(assignment).message() == "refused.managers_only");
  REQUIRE(by_coordinator.AssignCoordinator(assignment).ok());

  // Step 2: the coordinator approves the circle and links the accounts of those in the app.
  const Bytes sanne = IdOf(by_coordinator, "Sanne de Vries");
  const Bytes ria = IdOf(by_coordinator, "Ria de Vries");
  const Bytes karim = IdOf(by_coordinator, "Karim Amrani");
  const Bytes truus = IdOf(by_coordinator, "Oma Truus");
  const Bytes lotte_id = IdOf(by_coordinator, "Lotte Jansen");
  const Bytes tim = IdOf(by_coordinator, "Tim de Vries");
  CHECK(by_teacher.ApprovePerson(ria).message() == "refused.managers_only");
  for (const Bytes& p : {sanne, ria, karim, joke, truus, lotte_id, tim}) {
    REQUIRE(by_coordinator.ApprovePerson(p).ok());
  }
  REQUIRE(by_coordinator.LinkAccount(sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(ria, mother.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(karim, neighbour.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(joke, teacher.account_id()).ok());
  CHECK(by_coordinator.LinkAccount(tim, mother.account_id()).message() == "person.account_in_use");
  auto me = NewPerson("Fatima El Idrissi", "coordinator", "gespreksleider");
  me.has_app = true;
  me.account_id = coordinator.account_id();
  auto fatima = by_coordinator.ProposePerson(me);
  REQUIRE(fatima.ok());
  REQUIRE(by_coordinator.ApprovePerson(*fatima).ok());
  // Anyone may propose someone else ("who else cares?"); the resident decides.
  auto uncle =
      by_neighbour.ProposePerson(NewPerson("Henk de Vries", "family", "oom", "0612121212"));
  REQUIRE(uncle.ok());
  SyncAll({&neighbour, &resident}, 1);
  REQUIRE(by_resident.DeclinePerson(*uncle).ok());

  // Lotte joins through an app invitation; the coordinator sees its state move on.
  auto invitation = by_coordinator.InviteWithApp(lotte_id, v1::ROLE_MEMBER, 3600);
  REQUIRE(invitation.ok());
  CHECK(*by_coordinator.InvitationOf(lotte_id) == InvitationState::kPending);
  SyncAll({&coordinator}, 1);
  REQUIRE(lotte->AcceptInvite(invitation->link).ok());
  SyncAll({&lotte, &coordinator, &resident}, 1);
  CHECK(*by_coordinator.InvitationOf(lotte_id) == InvitationState::kAccepted);
  REQUIRE(resident->ApproveMember(cid, lotte.account_id()).ok());
  SyncAll({&resident, &coordinator}, 1);
  REQUIRE(by_coordinator.LinkAccount(lotte_id, lotte.account_id()).ok());
  CHECK(*by_coordinator.InvitationOf(lotte_id) == InvitationState::kJoined);
  // Oma Truus has no app: the coordinator called her and records it.
  CHECK(*by_coordinator.InvitationOf(truus) == InvitationState::kNotInvited);
  REQUIRE(by_coordinator.RecordInvitation(truus, InvitationState::kAccepted).ok());
  CHECK(*by_coordinator.InvitationOf(truus) == InvitationState::kAccepted);
  REQUIRE(by_coordinator.RecordInvitation(tim, InvitationState::kAccepted).ok());

  // Pre-talks, with a safety concern only the coordinator may read; Karim cannot come.
  const int64_t now = Now();
  for (const Bytes& p : {sanne, ria, karim, joke, lotte_id, tim}) {
    PreTalkInput talk{p, now - kDay, "home", "Wat een netwerkberaad is.", "Wie komen er?", ""};
    if (p == ria) talk.safety_concerns = "Spanning met de ex-partner.";
    REQUIRE(by_coordinator.LogPreTalk(talk).ok());
  }
  CHECK(by_teacher.LogPreTalk({truus, now, "phone", "", "", ""}).status().message() ==
        "rule.coordinator_only");
  REQUIRE(by_coordinator
              .DecideParticipation({karim, Participation::kWrittenContribution,
                                    "Karim werkt die dag; hij schrijft zijn idee op."})
              .ok());
  SyncAll({&coordinator, &neighbour, &mother}, 1);
  REQUIRE(by_neighbour.AddAbsentView(karim, "Ik kan op zaterdag boodschappen doen.").ok());
  CHECK(by_mother.AddAbsentView(karim, "Namens Karim").status().message() == "rule.absent_view");

  // The poll: the resident and the teacher must be there.
  SyncAll({&neighbour, &coordinator}, 1);
  PollInput poll_input;
  poll_input.slots = {{{}, now + 3 * kDay, now + 3 * kDay + 2 * kHour},
                      {{}, now + 4 * kDay, now + 4 * kDay + 2 * kHour}};
  poll_input.required = {sanne, joke};
  poll_input.deadline_ms = now + 2 * kDay;
  CHECK(by_mother.CreatePoll(poll_input).status().message() == "refused.managers_only");
  auto poll_id = by_coordinator.CreatePoll(poll_input);
  REQUIRE(poll_id.ok());
  SyncAll({&coordinator, &resident, &mother, &teacher, &lotte}, 1);
  auto poll = by_resident.GetPoll(*poll_id);
  REQUIRE(poll.ok());
  REQUIRE(poll->slots.size() == 2);
  const Bytes first = poll->slots[0].slot_id, second = poll->slots[1].slot_id;
  REQUIRE(by_resident.AnswerPoll(*poll_id, sanne, first, Answer::kYes).ok());
  REQUIRE(by_resident.AnswerPoll(*poll_id, sanne, second, Answer::kNo).ok());
  REQUIRE(by_teacher.AnswerPoll(*poll_id, joke, first, Answer::kIfNeedBe).ok());
  REQUIRE(by_mother.AnswerPoll(*poll_id, ria, first, Answer::kYes).ok());
  Organising by_lotte(*lotte, cid);
  REQUIRE(by_lotte.AnswerPoll(*poll_id, lotte_id, first, Answer::kYes).ok());
  REQUIRE(by_coordinator.AnswerPoll(*poll_id, truus, first, Answer::kYes).ok());
  CHECK(by_mother.AnswerPoll(*poll_id, truus, first, Answer::kNo).message() == "rule.poll_answer");
  SyncAll({&resident, &teacher, &mother, &lotte, &coordinator}, 1);
  auto tally = by_coordinator.Tally(*poll_id);
  REQUIRE(tally.ok());
  CHECK(tally->at(0).yes == 4);
  CHECK(tally->at(0).if_need_be == 1);
  CHECK(tally->at(1).required_no == std::vector<Bytes>{sanne});

  // Fixing warns for invitees without a pre-talk (only Oma Truus) and needs a reason.
  CHECK(*by_coordinator.InviteesWithoutPreTalk() == std::vector<Bytes>{truus});
  LocationInput home{
      LocationKind::kHome, "Bij Sanne thuis, Utrecht-Noord", "Kerkstraat 12, Utrecht", {}};
  CHECK(by_coordinator.FixMeeting(*poll_id, first, home).status().message() ==
        "meeting.pretalk_missing");
  CHECK(by_teacher.FixMeeting(*poll_id, first, home, {"Oma belt zelf", ""}).status().message() ==
        "refused.managers_only");
  auto meeting_id = by_coordinator.FixMeeting(*poll_id, first, home,
                                              {"Oma Truus had geen tijd; ze komt wel.", ""});
  REQUIRE(meeting_id.ok());
  SyncAll({&coordinator, &resident, &mother, &neighbour, &teacher, &lotte}, 1);

  // The meeting, step by step: only organisers move phases; the network releases its draft.
  CHECK(by_teacher.StartPhase(*meeting_id, Phase::kInformation).message() ==
        "refused.managers_only");
  CHECK(by_resident.StartPrivateTime(*meeting_id).status().message() == "meeting.phase_order");
  REQUIRE(by_coordinator.StartPhase(*meeting_id, Phase::kInformation).ok());
  // The resident starts private time: the scope's key is made on a network member's device.
  CHECK(by_coordinator.StartPrivateTime(*meeting_id).status().message() ==
        "meeting.private_time_by_network");
  SyncAll({&coordinator, &resident}, 1);
  auto private_scope = by_resident.StartPrivateTime(*meeting_id);
  REQUIRE(private_scope.ok());
  CHECK(*private_scope != 0);
  CHECK(*by_resident.PrivateTimeScope(*meeting_id) == *private_scope);
  SyncAll({&resident, &coordinator}, 1);
  // The groups say what they are for: the private time's, also to the coordinator outside it,
  // who reads nothing in it; its members by their person in the circle.
  {
    auto find = [&](const std::vector<ScopeSummary>& all) -> const ScopeSummary* {
      for (const ScopeSummary& g : all) {
        if (g.scope_id == *private_scope) return &g;
      }
      return nullptr;
    };
    auto outside = by_coordinator.Scopes();
    REQUIRE(outside.ok());
    const ScopeSummary* seen = find(*outside);
    REQUIRE(seen != nullptr);
    CHECK_FALSE(seen->is_member);
    CHECK(seen->holds == std::vector<std::string>{"private_time"});
    auto inside = by_resident.Scopes();
    REQUIRE(inside.ok());
    const ScopeSummary* own = find(*inside);
    REQUIRE(own != nullptr);
    CHECK(own->is_member);
    REQUIRE_FALSE(own->holds.empty());
    CHECK(own->holds.front() == "private_time");
    REQUIRE(own->member_account_ids.size() == own->member_person_ids.size());
    bool resident_named = false;
    for (size_t i = 0; i < own->member_account_ids.size(); ++i) {
      if (own->member_account_ids[i] == resident.account_id()) {
        resident_named = own->member_person_ids[i] == sanne;
      }
    }
    CHECK(resident_named);
    // A coordinator-only group (the safety concerns) holds pre-talks for the coordinator.
    bool pretalks = false;
    for (const ScopeSummary& g : *outside) {
      if (std::find(g.holds.begin(), g.holds.end(), "pretalk") != g.holds.end()) pretalks = true;
    }
    CHECK(pretalks);
  }
  CHECK(by_coordinator.StartPhase(*meeting_id, Phase::kPlanPresentation).message() ==
        "meeting.draft_not_released");
  SyncAll({&coordinator, &teacher, &mother}, 1);
  CHECK(by_teacher.ReleaseDraft(*meeting_id).message() == "rule.network_releases");
  // Nor does she learn, before that refusal, how much the network wrote.
  CHECK(by_teacher.WhatReleaseShares(*meeting_id).status().message() == "rule.network_releases");
  CHECK(by_coordinator.WhatReleaseShares(*meeting_id).status().message() ==
        "rule.network_releases");
  REQUIRE(by_mother.ReleaseDraft(*meeting_id).ok());
  SyncAll({&mother, &coordinator}, 1);
  REQUIRE(by_coordinator.StartPhase(*meeting_id, Phase::kPlanPresentation).ok());
  REQUIRE(by_coordinator.StartPhase(*meeting_id, Phase::kAcceptance).ok());
  SyncAll({&coordinator, &resident, &mother, &neighbour, &teacher, &lotte}, 1);

  // Every device agrees on all of it.
  RequireSameContent({&resident, &coordinator, &mother, &neighbour, &teacher, &lotte}, cid);
  for (Device* d : {&resident, &coordinator, &mother, &neighbour, &teacher, &lotte}) {
    CHECK((*d)->PendingIntents(cid) == 0);
    CHECK((*d)->Alarms().empty());
    Organising org(**d, cid);
    auto m = org.CurrentMeeting();
    REQUIRE(m.ok());
    CHECK(m->meeting_id == *meeting_id);
    CHECK(m->start_ms == now + 3 * kDay);
    CHECK(m->phase == Phase::kAcceptance);
    CHECK(m->phase_started_at_ms.size() == 4);
    CHECK(m->draft_released);
    CHECK(m->coarse_location == "Bij Sanne thuis, Utrecht-Noord");
    CHECK(m->no_pretalk_reason == "Oma Truus had geen tijd; ze komt wel.");
    auto people = org.Circle();
    REQUIRE(people.ok());
    CHECK(people->size() == 9);
    CHECK(ByName(*people, "Henk de Vries")->status == "declined");
    CHECK(ByName(*people, "Lotte Jansen")->account_id == lotte.account_id());
  }
  // The calendar data for Oma Truus (printed by the coordinator): confirmed, so the address.
  auto cal = by_coordinator.CalendarFor(*meeting_id, truus);
  REQUIRE(cal.ok());
  CHECK(cal->location_text.find("Kerkstraat 12") != std::string::npos);
  CHECK(cal->sequence == 0);
  CHECK_FALSE(cal->uid.empty());
  auto pretalks = by_coordinator.PreTalks();
  REQUIRE(pretalks.ok());
  CHECK(pretalks->size() == 6);
  auto absent = by_resident.AbsentViews();
  REQUIRE(absent.ok());
  REQUIRE(absent->size() == 1);
  CHECK(absent->at(0).person_id == karim);
}

TEST_CASE("every invalid referral is refused with its own key and queues nothing", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), teacher(net);
  auto cid = resident->CreateCase({{teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &teacher}, 1);
  Organising org(*teacher, *cid);
  const size_t pending = teacher->PendingIntents(*cid);
  const int entities = teacher->View(*cid)->entities_size();

  using Edit = std::function<void(ReferralInput&)>;
  const std::vector<std::pair<std::string, Edit>> cases = {
      {"referral.referrer_invalid", [](ReferralInput& r) { r.referrer_kind = "buurman"; }},
      {"referral.resident_kind", [](ReferralInput& r) { r.resident.kind = "family"; }},
      {"person.name_missing", [](ReferralInput& r) { r.resident.name.clear(); }},
      {"referral.reason_missing", [](ReferralInput& r) { r.reason.clear(); }},
      {"referral.reason_too_long", [](ReferralInput& r) { r.reason.assign(5000, 'x'); }},
      {"referral.no_invitees", [](ReferralInput& r) { r.invitees.clear(); }},
      {"referral.too_many_invitees",
       [](ReferralInput& r) {
         const PersonInput copy = r.invitees[0];
         r.invitees.resize(51, copy);
       }},
      {"referral.second_resident", [](ReferralInput& r) { r.invitees[1].kind = "resident"; }},
      {"referral.invitee_no_contact", [](ReferralInput& r) { r.invitees[2].contact = {}; }},
      {"person.kind_invalid", [](ReferralInput& r) { r.invitees[0].kind = "oom"; }},
      {"person.relation_missing", [](ReferralInput& r) { r.invitees[0].relation.clear(); }},
      {"person.organisation_missing", [](ReferralInput& r) { r.invitees[2].organisation.clear(); }},
      {"person.function_missing", [](ReferralInput& r) { r.invitees[2].function.clear(); }},
      {"person.language_invalid", [](ReferralInput& r) { r.invitees[0].language.clear(); }},
      {"person.text_too_long", [](ReferralInput& r) { r.invitees[0].name.assign(300, 'a'); }},
      {"person.account_invalid", [](ReferralInput& r) { r.invitees[3].account_id = Bytes(16, 1); }},
      {"contact.phone_invalid", [](ReferralInput& r) { r.invitees[0].contact.phone = "bel me"; }},
      {"contact.email_invalid",
       [](ReferralInput& r) { r.invitees[1].contact.email = "karim.example.nl"; }},
      {"contact.too_long",
       [](ReferralInput& r) { r.invitees[1].contact.address.assign(500, 'a'); }},
      {"referral.no_consent", [](ReferralInput& r) { r.resident_consent = false; }},
      {"referral.too_many_items", [](ReferralInput& r) { r.questions.resize(51, "Vraag?"); }},
      {"referral.item_invalid", [](ReferralInput& r) { r.bottom_lines.push_back(""); }},
      {"referral.question_too_long", [](ReferralInput& r) { r.question.ik_wil.assign(5000, 'w'); }},
      {"referral.time_invalid", [](ReferralInput& r) { r.referred_at_ms = -5; }},
  };
  for (const auto& [key, edit] : cases) {
    INFO(key);
    ReferralInput r = ValidReferral();
    edit(r);
    auto result = org.SubmitReferral(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK(result.status().message() == key);
    CHECK(HasUserText(key));
    CHECK(UserText(result.status()) != key);  // a Dutch sentence, not the key
    CHECK(teacher->PendingIntents(*cid) == pending);
    CHECK(teacher->View(*cid)->entities_size() == entities);
  }
  // The case's first referral: not by a member the organisers have not let in as a
  // professional.
  auto first = org.SubmitReferral(WithoutTeacher(ValidReferral()));
  CHECK(first.status().code() == StatusCode::kPermissionDenied);
  CHECK(first.status().message() == "referral.first_by_organiser");
  CHECK(UserText(first.status()) != "referral.first_by_organiser");
  CHECK(teacher->PendingIntents(*cid) == pending);
  CHECK(teacher->View(*cid)->entities_size() == entities);
  Organising by_resident(*resident, *cid);
  EnterProfessional(by_resident, teacher.account_id());
  SyncAll({&resident, &teacher}, 1);
  const size_t pending_in = teacher->PendingIntents(*cid);
  const int entities_in = teacher->View(*cid)->entities_size();
  // A member who only proposes cannot link accounts: refused before anything is queued.
  ReferralInput linked = WithoutTeacher(ValidReferral());
  linked.invitees[0].account_id = resident.account_id();
  CHECK(org.SubmitReferral(linked).status().message() == "refused.managers_only");
  CHECK(teacher->PendingIntents(*cid) == pending_in);
  CHECK(teacher->View(*cid)->entities_size() == entities_in);
  REQUIRE(org.SubmitReferral(WithoutTeacher(ValidReferral())).ok());
}

TEST_CASE("forbidden edits sent through raw Submit have no effect on any device", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), teacher(net), mother(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {teacher.account_id(), v1::ROLE_MEMBER},
                                   {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &teacher, &mother}, 1);
  Organising by_coordinator(*coordinator, *cid);
  auto mum = NewPerson("Ria de Vries", "family", "moeder", "0612345678");
  mum.has_app = true;
  mum.account_id = mother.account_id();
  auto ria = by_coordinator.ProposePerson(mum);
  REQUIRE(ria.ok());
  auto grandma =
      by_coordinator.ProposePerson(NewPerson("Oma Truus", "family", "oma", "0301234567"));
  REQUIRE(grandma.ok());
  auto prof = NewPerson("Joke Bakker", "professional", "juf", "", "joke@school.nl");
  prof.organisation = "De Linde";
  prof.function = "leerkracht";
  prof.has_app = true;
  prof.account_id = teacher.account_id();
  auto joke = by_coordinator.ProposePerson(prof);
  REQUIRE(joke.ok());
  const int64_t now = Now();
  PollInput input;
  input.slots = {{{}, now + 3 * kDay, now + 3 * kDay + kHour}};
  input.required = {*ria};
  input.deadline_ms = now + kDay;
  auto poll_id = by_coordinator.CreatePoll(input);
  REQUIRE(poll_id.ok());
  SyncAll({&coordinator, &resident, &teacher, &mother}, 1);
  Organising by_mother(*mother, *cid);
  auto seen = by_mother.GetPoll(*poll_id);
  REQUIRE(seen.ok());
  const Bytes slot = seen->slots.at(0).slot_id;
  REQUIRE(by_mother.AnswerPoll(*poll_id, *ria, slot, Answer::kNo).ok());
  SyncAll({&mother, &coordinator, &resident, &teacher}, 1);
  const v1::CaseState before = *resident->ConfirmedView(*cid);

  auto set = [](const Bytes& id, const std::string& field, const v1::Value& v) {
    v1::Mutation m;
    m.mutable_set_field()->set_entity_id(ToString(id));
    m.mutable_set_field()->set_field(field);
    *m.mutable_set_field()->mutable_value() = v;
    return m;
  };
  v1::Value approved = Text("approved");
  v1::Value blob;
  blob.set_blob(ToString(teacher.account_id()));
  // The professional approves a person, edits the mother's entry, takes over grandma's account
  // link, fixes a meeting, and answers the poll for the mother and for grandma.
  REQUIRE(teacher->Submit(*cid, {set(*grandma, "status", approved)}).ok());
  REQUIRE(teacher->Submit(*cid, {set(*ria, "relation", Text("ex-schoonmoeder"))}).ok());
  REQUIRE(teacher->Submit(*cid, {set(*grandma, "account_id", blob)}).ok());
  const Bytes fake_meeting = crypto::RandomBytes(16);
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(ToString(fake_meeting));
  create.mutable_create_entity()->set_type(kMeetingType);
  REQUIRE(teacher->Submit(*cid, {create, set(fake_meeting, "status", Text("fixed"))}).ok());
  std::string answer_entity;
  for (const auto& [key, e] : before.entities()) {
    if (e.type() == kPollAnswerType) answer_entity = e.entity_id();
  }
  REQUIRE(answer_entity.size() == 16);
  const std::string slot_field = "slot_" + Hex(slot);
  REQUIRE(teacher->Submit(*cid, {set(ToBytes(answer_entity), slot_field, Text("yes"))}).ok());
  const Bytes fake_answer = crypto::RandomBytes(16);
  v1::Mutation create_answer;
  create_answer.mutable_create_entity()->set_entity_id(ToString(fake_answer));
  create_answer.mutable_create_entity()->set_type(kPollAnswerType);
  v1::Value grandma_blob;
  grandma_blob.set_blob(ToString(*grandma));
  REQUIRE(teacher
              ->Submit(*cid, {create_answer, set(fake_answer, "person", grandma_blob),
                              set(fake_answer, slot_field, Text("no"))})
              .ok());
  // The mother (not a coordinator) answers for grandma, who has no app.
  REQUIRE(mother->Submit(*cid, {create_answer, set(fake_answer, "person", grandma_blob)}).ok());
  SyncAll({&teacher, &mother, &coordinator, &resident}, 1);

  for (Device* d : {&resident, &coordinator, &teacher, &mother}) {
    CHECK((*d)->PendingIntents(*cid) == 0);
    auto v = (*d)->ConfirmedView(*cid);
    REQUIRE(v.ok());
    const auto& entities = v->entities();
    CHECK(entities.at(Hex(*grandma)).fields().at("status").value().text() == "proposed");
    CHECK(entities.at(Hex(*grandma)).fields().count("account_id") == 0);
    CHECK(entities.at(Hex(*ria)).fields().at("relation").value().text() == "moeder");
    // The forbidden creations left empty shells at most; no field was written.
    auto m = entities.find(Hex(fake_meeting));
    CHECK(m == entities.end());
    auto a = entities.find(Hex(fake_answer));
    if (a != entities.end()) CHECK(a->second.fields().empty());
    Organising org(**d, *cid);
    CHECK(org.CurrentMeeting().status().message() == "meeting.none");
    // The answer lives in the scope of the mother and the organisers: the teacher never has it.
    auto answer = entities.find(Hex(ToBytes(answer_entity)));
    if (d == &teacher) {
      CHECK(answer == entities.end());
    } else {
      REQUIRE(answer != entities.end());
      CHECK(answer->second.fields().at(slot_field).value().text() == "no");
    }
  }
  auto answers = by_coordinator.Answers(*poll_id);
  REQUIRE(answers.ok());
  REQUIRE(answers->size() == 1);
  CHECK(answers->at(0).person_id == *ria);
  CHECK(answers->at(0).answer == Answer::kNo);
}

TEST_CASE("poll answers: hidden from participants, offline answers all count, required no",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), neighbour(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {neighbour.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother, &neighbour}, 1);
  Organising by_coordinator(*coordinator, *cid);
  std::map<std::string, Bytes> people;
  for (auto [name, kind, account] : {std::tuple{"Sanne", "resident", resident.account_id()},
                                     std::tuple{"Ria", "family", mother.account_id()},
                                     std::tuple{"Karim", "neighbour", neighbour.account_id()}}) {
    auto p = NewPerson(name, kind, kind == std::string("resident") ? "" : "kring", "0612345678");
    p.has_app = true;
    p.account_id = account;
    auto id = by_coordinator.ProposePerson(p);
    REQUIRE(id.ok());
    REQUIRE(by_coordinator.ApprovePerson(*id).ok());
    people[name] = *id;
  }
  auto truus = by_coordinator.ProposePerson(NewPerson("Truus", "family", "oma", "0301234567"));
  REQUIRE(truus.ok());
  REQUIRE(by_coordinator.ApprovePerson(*truus).ok());
  const int64_t now = Now();
  PollInput input;
  input.slots = {{{}, now + 5 * kDay, now + 5 * kDay + kHour},
                 {{}, now + 6 * kDay, now + 6 * kDay + kHour}};
  input.required = {people["Sanne"], people["Karim"]};
  input.deadline_ms = now + 2 * kDay;

  SECTION("invalid polls are refused with their key") {
    for (auto [key, edit] : std::vector<std::pair<std::string, std::function<void(PollInput&)>>>{
             {"poll.no_slots", [](PollInput& p) { p.slots.clear(); }},
             {"poll.slot_invalid", [](PollInput& p) { p.slots[0].end_ms = p.slots[0].start_ms; }},
             {"poll.deadline_missing", [](PollInput& p) { p.deadline_ms = 0; }},
             {"poll.deadline_after_slot", [](PollInput& p) { p.deadline_ms += 10 * kDay; }},
             {"poll.required_unknown", [](PollInput& p) { p.required.push_back(Bytes(16, 7)); }},
         }) {
      PollInput p = input;
      edit(p);
      CHECK(by_coordinator.CreatePoll(p).status().message() == key);
      CHECK(HasUserText(key));
    }
  }

  auto poll_id = by_coordinator.CreatePoll(input);
  REQUIRE(poll_id.ok());
  SyncAll({&coordinator, &resident, &mother, &neighbour}, 1);
  Organising by_mother(*mother, *cid), by_neighbour(*neighbour, *cid), by_resident(*resident, *cid);
  auto poll = by_mother.GetPoll(*poll_id);
  REQUIRE(poll.ok());
  const Bytes a = poll->slots.at(0).slot_id, b = poll->slots.at(1).slot_id;

  // Four devices answer while offline from each other (no sync in between): nothing is lost.
  REQUIRE(by_mother.AnswerPoll(*poll_id, people["Ria"], a, Answer::kYes).ok());
  REQUIRE(by_neighbour.AnswerPoll(*poll_id, people["Karim"], a, Answer::kNo).ok());
  REQUIRE(by_neighbour.AnswerPoll(*poll_id, people["Karim"], b, Answer::kYes).ok());
  REQUIRE(by_mother.AnswerPoll(*poll_id, people["Ria"], b, Answer::kIfNeedBe).ok());
  REQUIRE(by_resident.AnswerPoll(*poll_id, people["Sanne"], a, Answer::kYes).ok());
  REQUIRE(by_coordinator.AnswerPoll(*poll_id, *truus, b, Answer::kYes).ok());
  CHECK(by_neighbour.AnswerPoll(*poll_id, *truus, a, Answer::kYes).message() == "rule.poll_answer");
  SyncAll({&mother, &neighbour, &resident, &coordinator}, 1);
  SyncAll({&mother, &neighbour, &resident, &coordinator}, 1);

  auto tally = by_coordinator.Tally(*poll_id);
  REQUIRE(tally.ok());
  CHECK(tally->at(0).yes == 2);
  CHECK(tally->at(0).no == 1);
  CHECK(tally->at(0).required_no == std::vector<Bytes>{people["Karim"]});
  CHECK(tally->at(1).yes == 2);
  CHECK(tally->at(1).if_need_be == 1);
  // The resident chairs, so sees the results too; the others see only their own answers.
  CHECK(by_resident.Tally(*poll_id).ok());
  CHECK(by_mother.Tally(*poll_id).status().message() == "poll.results_hidden");
  auto mine = by_mother.Answers(*poll_id);
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 2);
  for (const auto& ans : *mine) CHECK(ans.person_id == people["Ria"]);
  CHECK(by_resident.Answers(*poll_id)->size() == 6);

  // A required participant's no blocks the slot unless the reason is given.
  LocationInput online{
      LocationKind::kOnline, "Online (link volgt)", "https://meet.example/abc", {}};
  FixOverrides overrides{"Niet nodig: spoed in de familie.", ""};
  auto blocked = by_coordinator.FixMeeting(*poll_id, a, online, overrides);
  CHECK(blocked.status().message() == "meeting.required_said_no");
  CHECK(by_coordinator.CurrentMeeting().status().message() == "meeting.none");
  overrides.required_no_reason = "Karim schrijft zijn bijdrage op.";
  auto fixed = by_coordinator.FixMeeting(*poll_id, a, online, overrides);
  REQUIRE(fixed.ok());
  auto meeting = by_coordinator.CurrentMeeting();
  REQUIRE(meeting.ok());
  CHECK(meeting->required_no_reason == overrides.required_no_reason);
  CHECK(by_coordinator.FixMeeting(*poll_id, b, online, overrides).status().message() ==
        "meeting.already_fixed");

  // Time or place changes bump the calendar sequence; cancelling too.
  REQUIRE(by_coordinator.Reschedule(*fixed, now + 7 * kDay, now + 7 * kDay + kHour).ok());
  REQUIRE(by_coordinator.SetLocation(*fixed, online).ok());
  REQUIRE(by_coordinator.CancelMeeting(*fixed).ok());
  SyncAll({&coordinator, &mother}, 1);
  auto seen = by_mother.CalendarFor(*fixed, people["Ria"]);
  REQUIRE(seen.ok());
  CHECK(seen->sequence == 3);
  CHECK(seen->cancelled);
  CHECK(seen->start_ms == now + 7 * kDay);
}

TEST_CASE("a spoedberaad is fixed the same day without a poll", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator}, 1);
  Organising org(*coordinator, *cid);
  ReferralInput r = ValidReferral();
  const int64_t now = Now();
  LocationInput venue{LocationKind::kVenue, "Buurthuis De Ster", "Sterlaan 1, Utrecht", {}};
  FixOverrides why{"Spoed: geen tijd voor voorgesprekken.", ""};
  REQUIRE(org.SubmitReferral(r).ok());
  CHECK(org.FixSpoedMeeting(now + kHour, now + 2 * kHour, venue, why, now).status().message() ==
        "meeting.not_spoed");

  // Another case, referred as spoed.
  auto cid2 = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid2.ok());
  SyncAll({&resident, &coordinator}, 1);
  Organising spoed(*coordinator, *cid2);
  r.spoed = true;
  REQUIRE(spoed.SubmitReferral(r).ok());
  // "Now" is noon in Amsterdam on a summer day, so the tests do not depend on the clock.
  const int64_t noon = 1751364000000;  // 2025-07-01 10:00 UTC = 12:00 CEST
  CHECK(spoed.FixSpoedMeeting(noon + kDay, noon + kDay + kHour, venue, why, noon)
            .status()
            .message() == "meeting.spoed_not_today");
  CHECK(spoed.FixSpoedMeeting(noon + 4 * kHour, noon + 5 * kHour, venue, {}, noon)
            .status()
            .message() == "meeting.pretalk_missing");
  auto fixed = spoed.FixSpoedMeeting(noon + 4 * kHour, noon + 5 * kHour, venue, why, noon);
  REQUIRE(fixed.ok());
  SyncAll({&coordinator, &resident}, 1);
  auto m = Organising(*resident, *cid2).CurrentMeeting();
  REQUIRE(m.ok());
  CHECK(m->spoed);
  CHECK(m->location_kind == LocationKind::kVenue);
}

TEST_CASE("circle entries: who may edit them, and concurrent edits are kept as conflicts",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), teacher(net), mother(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {teacher.account_id(), v1::ROLE_MEMBER},
                                   {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &teacher, &mother}, 1);
  Organising by_resident(*resident, *cid), by_coordinator(*coordinator, *cid),
      by_teacher(*teacher, *cid), by_mother(*mother, *cid);

  ReferralInput r = ValidReferral();
  r.referrer_kind = "resident";
  REQUIRE(by_resident.SubmitReferral(r).ok());
  REQUIRE(by_resident
              .SetResidentQuestion({"Ik wil dat Tim naar school gaat.", "Ik kan koken.",
                                    "Ik heb iemand nodig voor de post."})
              .ok());
  auto mum = NewPerson("Ria de Vries", "family", "moeder", "0612345678");
  mum.has_app = true;
  mum.account_id = mother.account_id();
  auto ria = by_coordinator.ProposePerson(mum);
  REQUIRE(ria.ok());
  REQUIRE(by_coordinator.ApprovePerson(*ria).ok());
  auto els_input = NewPerson("Els", "family", "tante", "0612345679");
  auto els = by_teacher.ProposePerson(els_input);
  REQUIRE(els.ok());
  SyncAll({&resident, &coordinator, &teacher, &mother}, 1);
  CHECK(by_teacher.SetResidentQuestion({"", "", ""}).message() == "rule.referral");
  CHECK(by_coordinator.GetReferral()->question.ik_wil == "Ik wil dat Tim naar school gaat.");

  // A proposal is its proposer's (and the organisers') to edit: the mother is told who may, and
  // neither the entry nor its contact details change.
  const size_t mother_pending = mother->PendingIntents(*cid);
  auto by_other = els_input;
  by_other.relation = "buurvrouw";
  CHECK(by_mother.UpdatePerson(*els, by_other).message() == "rule.proposed_entry");
  CHECK(by_mother.SetContact(*els, {"0699999999", "", ""}).message() == "rule.contact");
  CHECK(mother->PendingIntents(*cid) == mother_pending);
  CHECK(by_teacher.GetPerson(*els)->relation == "tante");

  // The proposer edits the entry while it is a proposal; once approved it is no longer hers.
  els_input.relation = "tante van moederskant";
  REQUIRE(by_teacher.UpdatePerson(*els, els_input).ok());
  SyncAll({&teacher, &coordinator}, 1);
  REQUIRE(by_coordinator.ApprovePerson(*els).ok());
  SyncAll({&coordinator, &teacher}, 1);
  els_input.relation = "zus van Ria";
  CHECK(by_teacher.UpdatePerson(*els, els_input).message() == "rule.approved_entry");
  // The mother edits her own entry, but not what kind of participant she is.
  mum.language = "tr";
  mum.interpreter = true;
  REQUIRE(by_mother.UpdatePerson(*ria, mum).ok());
  mum.kind = "professional";
  mum.organisation = "Wijkteam";
  mum.function = "hulpverlener";
  CHECK(by_mother.UpdatePerson(*ria, mum).message() == "rule.own_kind");
  SyncAll({&mother, &coordinator}, 1);
  CHECK(by_coordinator.GetPerson(*ria)->interpreter);
  CHECK(by_coordinator.GetPerson(*ria)->kind == "family");

  // The resident and the coordinator change Els's relation at the same time, offline: one value
  // wins on every device, the other is kept in a visible conflict.
  SyncAll({&resident}, 1);
  auto a = els_input, b = els_input;
  a.relation = "tante (zus van Ria)";
  b.relation = "tante, woont in Zeist";
  REQUIRE(by_resident.UpdatePerson(*els, a).ok());
  REQUIRE(by_coordinator.UpdatePerson(*els, b).ok());
  SyncAll({&resident, &coordinator, &teacher, &resident}, 1);
  for (Organising* org : {&by_resident, &by_coordinator, &by_teacher}) {
    auto conflicts = org->Conflicts();
    REQUIRE(conflicts.ok());
    REQUIRE(conflicts->size() == 1);
    const v1::Conflict& c = conflicts->at(0);
    CHECK(c.field() == "relation");
    std::set<std::string> both{c.kept_value().text(), c.other_value().text()};
    CHECK(both == std::set<std::string>{a.relation, b.relation});
    CHECK(org->GetPerson(*els)->relation == c.kept_value().text());
  }
  // Editing with the conflict in view resolves it.
  auto settled = els_input;
  settled.relation = "tante (zus van Ria), woont in Zeist";
  REQUIRE(by_coordinator.UpdatePerson(*els, settled).ok());
  SyncAll({&coordinator, &resident}, 1);
  CHECK(by_resident.Conflicts()->empty());

  // An app invitation can be revoked by the organisers only.
  auto invitation = by_coordinator.InviteWithApp(*els, v1::ROLE_MEMBER, 3600);
  REQUIRE(invitation.ok());
  SyncAll({&coordinator, &teacher}, 1);
  CHECK(*by_coordinator.InvitationOf(*els) == InvitationState::kPending);
  CHECK(*by_coordinator.InvitationOf(*els, Now() + 2 * kHour) == InvitationState::kExpired);
  const size_t teacher_pending = teacher->PendingIntents(*cid);
  CHECK(by_teacher.RevokeInvitation(*els).message() == "refused.managers_only");
  CHECK(teacher->PendingIntents(*cid) == teacher_pending);
  CHECK(*by_teacher.InvitationOf(*els) == InvitationState::kPending);
  REQUIRE(by_coordinator.RevokeInvitation(*els).ok());
  SyncAll({&coordinator, &resident}, 1);
  CHECK(*by_resident.InvitationOf(*els) == InvitationState::kRevoked);
  CHECK(by_coordinator.RevokeInvitation(*els).message() == "invite.not_open");
}

TEST_CASE("restricted items never reach the devices they are hidden from", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), ex(net), teacher(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {ex.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother, &ex, &teacher}, 1);
  Organising by_resident(*resident, *cid), by_coordinator(*coordinator, *cid),
      by_mother(*mother, *cid), by_ex(*ex, *cid), by_teacher(*teacher, *cid);

  const std::string address = "Nieuwe Weg 7, Amersfoort";          // hidden from the ex-partner
  const std::string phone = "0611223344";                          // the mother's number
  const std::string safety = "Ex-partner dreigde bij de school.";  // coordinator only
  auto add = [&](const PersonInput& p, const Bytes& account) {
    return AddLinkedPerson(by_coordinator, p, account);
  };
  const Bytes sanne = add(NewPerson("Sanne", "resident", "", "0600000001"), resident.account_id());
  const Bytes ria = add(NewPerson("Ria", "family", "moeder", phone), mother.account_id());
  const Bytes rob = add(NewPerson("Rob", "family", "ex-partner", "0600000003"), ex.account_id());
  auto prof = NewPerson("Joke", "professional", "juf", "", "joke@school.nl");
  prof.organisation = "De Linde";
  prof.function = "leerkracht";
  const Bytes joke = add(prof, teacher.account_id());
  auto fatima = NewPerson("Fatima", "coordinator", "gespreksleider");
  add(fatima, coordinator.account_id());
  const int64_t now = Now();
  for (const Bytes& p : {sanne, ria, rob, joke}) {
    REQUIRE(by_coordinator
                .LogPreTalk(
                    {p, now - kDay, "home", "Uitleg", "Geen", p == sanne ? safety : std::string()})
                .ok());
  }
  PollInput input;
  input.slots = {{{}, now + 3 * kDay, now + 3 * kDay + 2 * kHour}};
  input.deadline_ms = now + kDay;
  auto poll_id = by_coordinator.CreatePoll(input);
  REQUIRE(poll_id.ok());
  SyncAll({&coordinator, &resident, &mother, &ex, &teacher}, 1);
  auto seen = by_mother.GetPoll(*poll_id);
  REQUIRE(seen.ok());
  const Bytes slot = seen->slots.at(0).slot_id;
  REQUIRE(by_mother.AnswerPoll(*poll_id, ria, slot, Answer::kYes).ok());
  REQUIRE(by_ex.AnswerPoll(*poll_id, rob, slot, Answer::kIfNeedBe).ok());
  SyncAll({&mother, &ex, &coordinator}, 1);
  LocationInput home{LocationKind::kHome, "Bij Sanne thuis (nieuw adres)", address, {rob}};
  auto meeting = by_coordinator.FixMeeting(*poll_id, slot, home);
  REQUIRE(meeting.ok());
  SyncAll({&coordinator, &resident, &mother, &ex, &teacher}, 1);
  SyncAll({&coordinator, &resident, &mother, &ex, &teacher}, 1);

  auto holds = [&](Device& d, const std::string& text) {
    auto v = d->ConfirmedView(*cid);
    REQUIRE(v.ok());
    return v->SerializeAsString().find(text) != std::string::npos;
  };
  // The exact address: the confirmed people it is not hidden from; the coarse text: everyone.
  for (Device* d : {&resident, &coordinator, &mother, &teacher}) CHECK(holds(*d, address));
  CHECK_FALSE(holds(ex, address));
  auto seen_by_ex = by_ex.CurrentMeeting();
  REQUIRE(seen_by_ex.ok());
  CHECK(seen_by_ex->coarse_location == "Bij Sanne thuis (nieuw adres)");
  CHECK(seen_by_ex->exact_location.empty());
  CHECK(by_mother.CurrentMeeting()->exact_location == address);
  // The calendar and printout data follow the same rule, also on the coordinator's device.
  CHECK(by_coordinator.CalendarFor(*meeting, rob)->location_text.find(address) ==
        std::string::npos);
  CHECK(by_coordinator.CalendarFor(*meeting, ria)->location_text.find(address) !=
        std::string::npos);
  CHECK(by_ex.CalendarFor(*meeting, rob)->location_text == "Bij Sanne thuis (nieuw adres)");

  // Someone who confirms later (the uncle, after the meeting was fixed) gets the address once the
  // coordinator shares it again; the ex-partner still does not.
  Device uncle(net);
  REQUIRE(resident->AddMember(*cid, {uncle.account_id(), v1::ROLE_MEMBER}).ok());
  SyncAll({&resident, &coordinator}, 1);
  const Bytes henk = add(NewPerson("Henk", "family", "oom", "0600000009"), uncle.account_id());
  SyncAll({&coordinator, &uncle}, 1);
  CHECK_FALSE(holds(uncle, address));
  REQUIRE(by_coordinator.ShareLocationWithCurrentCircle(*meeting).ok());
  SyncAll({&coordinator, &uncle, &ex, &mother}, 1);
  CHECK(holds(uncle, address));
  CHECK(holds(mother, address));
  CHECK_FALSE(holds(ex, address));
  CHECK(by_coordinator.CalendarFor(*meeting, henk)->sequence == 0);

  // Contact details: the coordinator and the person only.
  CHECK(holds(coordinator, phone));
  CHECK(holds(mother, phone));
  for (Device* d : {&resident, &ex, &teacher}) CHECK_FALSE(holds(*d, phone));
  CHECK(by_mother.ContactOf(ria)->has_value());
  CHECK_FALSE(by_teacher.ContactOf(ria)->has_value());
  // Safety concerns from a pre-talk: the coordinator only, not even the person talked to.
  CHECK(holds(coordinator, safety));
  for (Device* d : {&resident, &mother, &ex, &teacher}) CHECK_FALSE(holds(*d, safety));
  CHECK(by_resident.PreTalks()->size() == 1);  // her own pre-talk, without the concern
  CHECK(by_resident.PreTalks()->at(0).safety_concerns.empty());
  // Poll answers: the person and the organisers; the ex sees only his own.
  auto ex_answers = by_ex.Answers(*poll_id);
  REQUIRE(ex_answers.ok());
  REQUIRE(ex_answers->size() == 1);
  CHECK(ex_answers->at(0).person_id == rob);
  for (Device* d : {&ex, &teacher}) {
    int answers = 0;
    const v1::CaseState view = *(*d)->ConfirmedView(*cid);
    for (const auto& [key, e] : view.entities()) {
      answers += e.type() == kPollAnswerType ? 1 : 0;
    }
    CHECK(answers == (d == &ex ? 1 : 0));
  }
  CHECK(by_resident.Answers(*poll_id)->size() == 2);

  // Private time: the network drafts in a scope without the professional and the coordinator.
  REQUIRE(by_coordinator.StartPhase(*meeting, Phase::kInformation).ok());
  SyncAll({&coordinator, &resident}, 1);
  auto scope = by_resident.StartPrivateTime(*meeting);
  REQUIRE(scope.ok());
  SyncAll({&resident, &mother, &coordinator, &teacher}, 1);
  auto draft = mother->CreateEntity(*cid, "plan_draft", *scope);
  REQUIRE(draft.ok());
  const std::string idea = "Oma haalt Tim op woensdag van school.";
  REQUIRE(mother->SetField(*cid, *draft, "text", Text(idea)).ok());
  SyncAll({&mother, &resident, &coordinator, &teacher, &ex}, 1);
  CHECK(holds(resident, idea));
  CHECK(holds(ex, idea));  // Rob is family and was not excluded from the meeting
  CHECK_FALSE(holds(coordinator, idea));
  CHECK_FALSE(holds(teacher, idea));
  CHECK(by_coordinator.StartPhase(*meeting, Phase::kPlanPresentation).message() ==
        "meeting.draft_not_released");
  REQUIRE(by_mother.ReleaseDraft(*meeting).ok());
  SyncAll({&mother, &coordinator}, 1);
  REQUIRE(by_coordinator.StartPhase(*meeting, Phase::kPlanPresentation).ok());
  for (Device* d : {&resident, &coordinator, &mother, &ex, &teacher}) CHECK((*d)->Alarms().empty());
}

TEST_CASE("two coordinators answering offline for the same person both count", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), first(net), second(net);
  auto cid = resident->CreateCase(
      {{first.account_id(), v1::ROLE_COORDINATOR}, {second.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &first, &second}, 1);
  Organising by_first(*first, *cid), by_second(*second, *cid);
  auto truus = by_first.ProposePerson(NewPerson("Oma Truus", "family", "oma", "0301234567"));
  REQUIRE(truus.ok());
  REQUIRE(by_first.ApprovePerson(*truus).ok());
  const int64_t now = Now();
  PollInput input;
  input.slots = {{{}, now + 3 * kDay, now + 3 * kDay + kHour},
                 {{}, now + 4 * kDay, now + 4 * kDay + kHour}};
  input.required = {*truus};
  input.deadline_ms = now + kDay;
  auto poll_id = by_first.CreatePoll(input);
  REQUIRE(poll_id.ok());
  SyncAll({&first, &second}, 1);
  auto poll = by_second.GetPoll(*poll_id);
  REQUIRE(poll.ok());
  // Oma phones each coordinator about a different day; neither has seen the other's entry, so
  // each creates an answer entity for her. Both answers count.
  REQUIRE(by_first.AnswerPoll(*poll_id, *truus, poll->slots[0].slot_id, Answer::kYes).ok());
  REQUIRE(by_second.AnswerPoll(*poll_id, *truus, poll->slots[1].slot_id, Answer::kNo).ok());
  SyncAll({&first, &second, &first, &resident}, 1);
  for (Organising* org : {&by_first, &by_second}) {
    auto tally = org->Tally(*poll_id);
    REQUIRE(tally.ok());
    CHECK(tally->at(0).yes == 1);
    CHECK(tally->at(1).no == 1);
    CHECK(tally->at(1).required_no == std::vector<Bytes>{*truus});
  }
  // Later answers go to the existing entity: a change of mind replaces the answer.
  REQUIRE(by_second.AnswerPoll(*poll_id, *truus, poll->slots[1].slot_id, Answer::kIfNeedBe).ok());
  SyncAll({&second, &first}, 1);
  auto answers = by_first.Answers(*poll_id);
  REQUIRE(answers.ok());
  REQUIRE(answers->size() == 2);
  CHECK(answers->at(0).answer != Answer::kNo);
  CHECK(answers->at(1).answer != Answer::kNo);
}

TEST_CASE("a coordinator never gets into private time: not through their own entry, not promoted",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net);
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother}, 1);
  Organising by_coordinator(*coordinator, *cid);
  ReferralInput r = ValidReferral();
  r.spoed = true;
  REQUIRE(by_coordinator.SubmitReferral(r).ok());
  const Bytes sanne = IdOf(by_coordinator, "Sanne de Vries");
  const Bytes ria = IdOf(by_coordinator, "Ria de Vries");
  const Bytes truus = IdOf(by_coordinator, "Oma Truus");
  REQUIRE(by_coordinator.LinkAccount(sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(ria, mother.account_id()).ok());
  // The library refuses linking themself to a family entry, then entering themself as family.
  CHECK(by_coordinator.LinkAccount(truus, coordinator.account_id()).message() == "rule.own_kind");
  auto me = NewPerson("Fatima El Idrissi", "coordinator", "gespreksleider");
  me.has_app = true;
  me.account_id = coordinator.account_id();
  auto fatima = by_coordinator.ProposePerson(me);
  REQUIRE(fatima.ok());  // as coordinator: allowed
  PersonInput as_family = me;
  as_family.kind = "family";
  CHECK(by_coordinator.UpdatePerson(*fatima, as_family).message() == "rule.own_kind");

  // A lying author's device sends both anyway: no device applies them, not even its own.
  auto set = [](const Bytes& id, const std::string& field, const v1::Value& v) {
    v1::Mutation m;
    m.mutable_set_field()->set_entity_id(ToString(id));
    m.mutable_set_field()->set_field(field);
    *m.mutable_set_field()->mutable_value() = v;
    return m;
  };
  v1::Value self;
  self.set_blob(ToString(coordinator.account_id()));
  REQUIRE(coordinator->Submit(*cid, {set(*fatima, "kind", Text("family"))}).ok());
  REQUIRE(coordinator->Submit(*cid, {set(truus, "account_id", self)}).ok());
  const Bytes meeting = SpoedMeetingInInformation(by_coordinator);
  SyncAll({&coordinator, &resident, &mother}, 1);
  for (Device* d : {&resident, &coordinator, &mother}) {
    CHECK((*d)->PendingIntents(*cid) == 0);
    auto v = (*d)->ConfirmedView(*cid);
    REQUIRE(v.ok());
    CHECK(v->entities().at(Hex(*fatima)).fields().at("kind").value().text() == "coordinator");
    CHECK(v->entities().at(Hex(truus)).fields().count("account_id") == 0);
  }
  RequireSameContent({&resident, &coordinator, &mother}, *cid);

  // Stepping back to member does not make them network: the resident's private time leaves them
  // out.
  REQUIRE(coordinator->SetRole(*cid, coordinator.account_id(), v1::ROLE_MEMBER).ok());
  SyncAll({&coordinator, &resident, &mother}, 1);
  Organising by_resident(*resident, *cid);
  auto scope = by_resident.StartPrivateTime(meeting);
  REQUIRE(scope.ok());
  SyncAll({&resident, &mother, &coordinator}, 1);
  auto view = resident->ConfirmedView(*cid);
  REQUIRE(view.ok());
  const auto& members = view->scopes().at(*scope).members();
  auto in_scope = [&members](const Bytes& account) {
    return std::find(members.begin(), members.end(), ToString(account)) != members.end();
  };
  CHECK(in_scope(mother.account_id()));
  CHECK(in_scope(resident.account_id()));
  CHECK_FALSE(in_scope(coordinator.account_id()));

  // Promoting the mother while she is in the open private time would let a coordinator read the
  // draft: refused with a text for the person, nothing queued. After the release it may.
  const Status early = resident->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR);
  CHECK(early.code() == StatusCode::kFailedPrecondition);
  CHECK(early.message() == "role.in_private_time");
  CHECK(UserText(early) != "role.in_private_time");
  CHECK(UserText(early, Language::kEnglish) != UserText(early));
  CHECK(resident->PendingIntents(*cid) == 0);
  REQUIRE(Organising(*mother, *cid).ReleaseDraft(meeting).ok());
  SyncAll({&mother, &resident}, 1);
  REQUIRE(resident->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR).ok());
  REQUIRE(resident->SyncNow().ok());
  CHECK(resident->PendingIntents(*cid) == 0);
}

TEST_CASE("a promotion queued before a private time started elsewhere is refused when sealed",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net);
  // The resident's second device, where the private time is started.
  Device phone(net, Device::Fresh{});
  auto request = phone->RequestDeviceLink();
  REQUIRE(request.ok());
  auto approval = resident->ApproveDeviceLink(request->payload, request->code);
  REQUIRE(approval.ok());
  REQUIRE(phone->FinishDeviceLink(*approval).ok());
  phone.set_account_id(resident.account_id());
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother, &phone}, 1);
  Organising by_coordinator(*coordinator, *cid);
  ReferralInput r = ValidReferral();
  r.spoed = true;
  REQUIRE(by_coordinator.SubmitReferral(r).ok());
  REQUIRE(by_coordinator.LinkAccount(IdOf(by_coordinator, "Sanne de Vries"), resident.account_id())
              .ok());
  REQUIRE(
      by_coordinator.LinkAccount(IdOf(by_coordinator, "Ria de Vries"), mother.account_id()).ok());
  const Bytes meeting = SpoedMeetingInInformation(by_coordinator);
  SyncAll({&coordinator, &resident, &mother, &phone}, 1);

  // The resident's first device queues the mother's promotion before it hears of the private time
  // the phone starts: allowed there, and waiting.
  REQUIRE(resident->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR).ok());
  CHECK(resident->PendingIntents(*cid) == 1);
  auto scope = Organising(*phone, *cid).StartPrivateTime(meeting);
  REQUIRE(scope.ok());
  SyncAll({&phone, &mother, &coordinator}, 1);

  // A plain member is told they may not, not to wait for the release.
  const Status by_member = mother->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR);
  CHECK(by_member.reason() == refusal::kManagersOnly);
  CHECK(mother->PendingIntents(*cid) == 0);

  // The first device pulls the private time first, then refuses to seal the promotion:
  // the event carries the domain key, so the app shows the same sentence as when queueing.
  std::vector<client::ChangeEvent> rejected;
  std::mutex mu;
  resident->AddChangeListener([&](const client::ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (e.kind == client::ChangeEvent::Kind::kIntentRejected) rejected.push_back(e);
  });
  REQUIRE(resident->SyncNow().ok());
  {
    std::lock_guard<std::mutex> lock(mu);  // the listener takes it on every event
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].detail == "role.in_private_time");
    const Status as_event(StatusCode::kAborted, rejected[0].detail, rejected[0].reason);
    CHECK(UserText(as_event) == UserText("role.in_private_time", Language::kDutch));
    CHECK(UserText(as_event) != "role.in_private_time");
  }
  CHECK(resident->PendingIntents(*cid) == 0);
  SyncAll({&coordinator, &resident, &mother, &phone}, 1);
  for (Device* d : {&resident, &coordinator, &mother, &phone}) {
    CHECK((*d)->PendingIntents(*cid) == 0);
    auto v = (*d)->ConfirmedView(*cid);
    REQUIRE(v.ok());
    for (const v1::Member& m : v->members()) {
      if (ConstantTimeEqual(View(m.account_id()), mother.account_id())) {
        CHECK(m.role() == v1::ROLE_MEMBER);
      }
    }
  }
  RequireSameContent({&resident, &coordinator, &mother, &phone}, *cid);

  // Cancelling or deleting the meeting does not end the private time: its scope and the draft's
  // key stay, so the promotion waits until the network released the draft (a deleted meeting is
  // restored for that first).
  REQUIRE(by_coordinator.CancelMeeting(meeting).ok());
  SyncAll({&coordinator, &resident}, 1);
  CHECK(resident->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR).message() ==
        "role.in_private_time");
  REQUIRE(resident->DeleteEntity(*cid, meeting).ok());
  CHECK(resident->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR).message() ==
        "role.in_private_time");
  REQUIRE(resident->RestoreEntity(*cid, meeting).ok());
  SyncAll({&resident, &mother}, 1);
  REQUIRE(Organising(*mother, *cid).ReleaseDraft(meeting).ok());
  SyncAll({&mother, &resident}, 1);
  REQUIRE(resident->SetRole(*cid, mother.account_id(), v1::ROLE_COORDINATOR).ok());
  REQUIRE(resident->SyncNow().ok());
  CHECK(resident->PendingIntents(*cid) == 0);
}

TEST_CASE("approving an invitation made for a person links that person on every device",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), ria(net), henk(net);
  auto created = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(created.ok());
  const Bytes cid = *created;
  SyncAll({&resident, &coordinator}, 1);
  Organising by_resident(*resident, cid), by_coordinator(*coordinator, cid), by_ria(*ria, cid);

  auto tante =
      by_coordinator.ProposePerson(NewPerson("Tante Ria", "family", "tante", "0611111111"));
  REQUIRE(tante.ok());
  REQUIRE(by_coordinator.ApprovePerson(*tante).ok());
  auto invitation = by_coordinator.InviteWithApp(*tante, v1::ROLE_MEMBER, 3600);
  REQUIRE(invitation.ok());
  SyncAll({&coordinator, &resident}, 1);
  REQUIRE(ria->AcceptInvite(invitation->link).ok());
  SyncAll({&ria, &resident}, 1);
  // Until the chair approves, Ria is told she waits, when she reads and when she writes (not
  // "not allowed" nor who may: she may once approved), and nothing is queued.
  const size_t waiting_pending = ria->PendingIntents(cid);
  CHECK(by_ria.GetReferral().status().message() == "referral.waiting_approval");
  CHECK(by_ria.ProposePerson(NewPerson("Buurman Kees", "friend", "buurman")).status().message() ==
        "member.waiting_approval");
  CHECK(UserText("member.waiting_approval") ==
        "Je wacht nog op goedkeuring van de hoofdpersoon. Daarna kun je dit doen.");
  CHECK(ria->PendingIntents(cid) == waiting_pending);
  // The chair approves; nobody links the account by hand.
  REQUIRE(resident->ApproveMember(cid, ria.account_id()).ok());
  SyncAll({&resident, &coordinator, &ria}, 2);
  for (Organising* org : {&by_resident, &by_coordinator, &by_ria}) {
    auto person = org->GetPerson(*tante);
    REQUIRE(person.ok());
    CHECK(person->account_id == ria.account_id());
    CHECK(*org->InvitationOf(*tante) == InvitationState::kJoined);
  }
  // Ria now takes part as herself: her own person, her own contact details.
  auto mine = by_ria.MyPersonId();
  REQUIRE(mine.ok());
  CHECK(*mine == *tante);
  REQUIRE(by_ria.SetContact(*tante, {"0612345678", "", ""}).ok());
  SyncAll({&ria, &coordinator}, 1);
  auto contact = by_coordinator.ContactOf(*tante);
  REQUIRE(contact.ok());
  REQUIRE(contact->has_value());
  CHECK((*contact)->details.phone == "0612345678");

  // An account that already belongs to someone in the circle is approved, but never silently
  // moved to the person the invitation was for.
  PersonInput henk_input = NewPerson("Henk", "friend", "vriend");
  henk_input.has_app = true;
  henk_input.account_id = henk.account_id();
  auto first = by_coordinator.ProposePerson(henk_input);
  REQUIRE(first.ok());
  auto second = by_coordinator.ProposePerson(NewPerson("Oom Henk", "family", "oom", "0622222222"));
  REQUIRE(second.ok());
  REQUIRE(by_coordinator.ApprovePerson(*second).ok());
  auto again = by_coordinator.InviteWithApp(*second, v1::ROLE_MEMBER, 3600);
  REQUIRE(again.ok());
  SyncAll({&coordinator, &ria}, 1);
  // Only the chair or a coordinator revokes an invitation: Ria is told so before anything
  // reaches the server, and the link still works (Henk joins with it below).
  const size_t ria_pending = ria->PendingIntents(cid);
  CHECK(by_ria.RevokeInvitation(*second).message() == "refused.managers_only");
  CHECK(ria->PendingIntents(cid) == ria_pending);
  CHECK(*by_coordinator.InvitationOf(*second) == InvitationState::kPending);
  REQUIRE(henk->AcceptInvite(again->link).ok());
  SyncAll({&henk, &coordinator, &resident}, 1);
  REQUIRE(resident->ApproveMember(cid, henk.account_id()).ok());
  SyncAll({&resident, &coordinator}, 1);
  CHECK(by_resident.GetPerson(*second)->account_id.empty());
  CHECK(by_resident.GetPerson(*first)->account_id == henk.account_id());
  auto members = resident->View(cid);
  REQUIRE(members.ok());
  bool henk_in = false;
  for (const auto& m : members->members()) henk_in |= ToBytes(m.account_id()) == henk.account_id();
  CHECK(henk_in);
}

TEST_CASE("two devices writing the same value at once is no conflict to show", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator}, 1);
  Organising by_resident(*resident, *cid), by_coordinator(*coordinator, *cid);
  auto input = NewPerson("Els", "family", "tante", "0612345679");
  auto els = by_coordinator.ProposePerson(input);
  REQUIRE(els.ok());
  SyncAll({&coordinator, &resident}, 1);

  // Both write the same relation before seeing each other's edit.
  input.relation = "tante van moederskant";
  REQUIRE(by_resident.UpdatePerson(*els, input).ok());
  REQUIRE(by_coordinator.UpdatePerson(*els, input).ok());
  SyncAll({&resident, &coordinator, &resident}, 1);
  for (Device* d : {&resident, &coordinator}) {
    // The model keeps its record of the concurrent writes, the same on every device ...
    auto view = (*d)->View(*cid);
    REQUIRE(view.ok());
    size_t kept = 0;
    for (const v1::Conflict& c : view->conflicts()) kept += c.resolved() ? 0U : 1U;
    CHECK(kept == 1);
  }
  // ... but there is nothing to choose between: no conflict is shown.
  for (Organising* org : {&by_resident, &by_coordinator}) {
    auto conflicts = org->Conflicts();
    REQUIRE(conflicts.ok());
    CHECK(conflicts->empty());
    CHECK(org->GetPerson(*els)->relation == "tante van moederskant");
  }

  // Two different values are still a conflict.
  auto a = input, b = input;
  a.relation = "tante (zus van Ria)";
  b.relation = "tante, woont in Zeist";
  REQUIRE(by_resident.UpdatePerson(*els, a).ok());
  REQUIRE(by_coordinator.UpdatePerson(*els, b).ok());
  SyncAll({&resident, &coordinator, &resident}, 1);
  for (Organising* org : {&by_resident, &by_coordinator}) {
    auto conflicts = org->Conflicts();
    REQUIRE(conflicts.ok());
    CHECK(conflicts->size() == 1);
  }
}

TEST_CASE("the chair knows who had a pre-talk without reading it, and cannot fake one",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator}, 1);
  Organising by_resident(*resident, *cid), by_coordinator(*coordinator, *cid);
  PersonInput sanne_input = NewPerson("Sanne", "resident", "");
  sanne_input.has_app = true;
  sanne_input.account_id = resident.account_id();
  auto sanne = by_coordinator.ProposePerson(sanne_input);
  auto ria = by_coordinator.ProposePerson(NewPerson("Tante Ria", "family", "tante", "0611111111"));
  auto kees = by_coordinator.ProposePerson(NewPerson("Kees", "neighbour", "buurman", "0622222222"));
  REQUIRE((sanne.ok() && ria.ok() && kees.ok()));
  for (const Bytes& p : {*sanne, *ria, *kees}) REQUIRE(by_coordinator.ApprovePerson(p).ok());
  REQUIRE(by_coordinator.LogPreTalk({*ria, Now() - kDay, "phone", "Uitleg.", "", ""}).ok());
  REQUIRE(by_coordinator.LogPreTalk({*sanne, Now() - kDay, "home", "Uitleg.", "", ""}).ok());
  SyncAll({&coordinator, &resident}, 1);

  // The resident reads no notes of Ria's pre-talk, yet Ria is not listed as without one.
  auto talks = by_resident.PreTalks();
  REQUIRE(talks.ok());
  for (const PreTalk& t : *talks) CHECK(t.person_id != *ria);
  CHECK(by_resident.GetPerson(*ria)->pretalk_held);
  CHECK(*by_resident.InviteesWithoutPreTalk() == std::vector<Bytes>{*kees});
  CHECK(*by_coordinator.InviteesWithoutPreTalk() == std::vector<Bytes>{*kees});

  // Marking a pre-talk as held is the coordinator's, as logging one is: the chair's raw edit
  // has no effect on any device.
  v1::Mutation fake;
  fake.mutable_set_field()->set_entity_id(ToString(*kees));
  fake.mutable_set_field()->set_field("pretalk_held");
  fake.mutable_set_field()->mutable_value()->set_flag(true);
  REQUIRE(resident->Submit(*cid, {fake}, 0).ok());
  SyncAll({&resident, &coordinator}, 1);
  CHECK_FALSE(by_coordinator.GetPerson(*kees)->pretalk_held);
  CHECK_FALSE(by_resident.GetPerson(*kees)->pretalk_held);
  CHECK(*by_resident.InviteesWithoutPreTalk() == std::vector<Bytes>{*kees});
}

namespace {

// A raw edit of one person field, as a modified client would send it.
v1::Mutation SetPersonField(const Bytes& person, const std::string& field, bool flag) {
  v1::Mutation m;
  m.mutable_set_field()->set_entity_id(ToString(person));
  m.mutable_set_field()->set_field(field);
  m.mutable_set_field()->mutable_value()->set_flag(flag);
  return m;
}

}  // namespace

TEST_CASE(
    "someone taken out of the circle: every device sees it, the history stays, and only "
    "the organisers can, never for the resident",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), ria(net);
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {ria.account_id(), v1::ROLE_MEMBER}},
      true);
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &ria}, 1);
  Organising by_resident(*resident, *cid), by_coordinator(*coordinator, *cid), by_ria(*ria, *cid);
  PersonInput sanne_input = NewPerson("Sanne", "resident", "");
  sanne_input.account_id = resident.account_id();
  sanne_input.has_app = true;
  PersonInput ria_input = NewPerson("Tante Ria", "family", "tante");
  ria_input.account_id = ria.account_id();
  ria_input.has_app = true;
  auto sanne = by_coordinator.ProposePerson(sanne_input);
  auto tante = by_coordinator.ProposePerson(ria_input);
  auto kees = by_coordinator.ProposePerson(NewPerson("Kees", "neighbour", "buurman"));
  REQUIRE((sanne.ok() && tante.ok() && kees.ok()));
  for (const Bytes& p : {*sanne, *tante, *kees}) REQUIRE(by_coordinator.ApprovePerson(p).ok());
  Plan plan(*coordinator, *cid);
  AgreementInput mow;
  mow.owner = *kees;
  mow.action = "Gras maaien";
  mow.due_ms = Now() + 7 * kDay;
  auto open = plan.AddAgreement(mow);
  REQUIRE(open.ok());
  AgreementInput bins = mow;
  bins.action = "Kliko buiten zetten";
  auto done = plan.AddAgreement(bins);
  REQUIRE(done.ok());
  REQUIRE(plan.UpdateStatus(*done, AgreementStatus::kDone).ok());
  SyncAll({&coordinator, &resident, &ria}, 1);

  auto kees_left_on = [&](Organising& org) {
    auto p = org.GetPerson(*kees);
    REQUIRE(p.ok());
    return p->left;
  };

  // A member who is no organiser is refused, and her raw edit has no effect anywhere.
  auto refused = by_ria.RemovePerson(*kees);
  CHECK(refused.status().code() == StatusCode::kPermissionDenied);
  CHECK(refused.status().message() == "refused.managers_only");
  REQUIRE(ria->Submit(*cid, {SetPersonField(*kees, "left", true)}, 0).ok());
  // The resident is never taken out of her own circle: not through the API, not by a raw edit.
  auto resident_out = by_coordinator.RemovePerson(*sanne);
  CHECK(resident_out.status().code() == StatusCode::kFailedPrecondition);
  CHECK(resident_out.status().message() == "person.resident_stays");
  REQUIRE(coordinator->Submit(*cid, {SetPersonField(*sanne, "left", true)}, 0).ok());
  SyncAll({&ria, &coordinator, &resident}, 1);
  for (Organising* org : {&by_resident, &by_coordinator, &by_ria}) {
    CHECK_FALSE(kees_left_on(*org));
    CHECK_FALSE(org->GetPerson(*sanne)->left);
  }

  // Kees must be at the meeting and cannot come on the one evening offered.
  PollInput poll_input;
  poll_input.slots = {Slot{{}, Now() + 7 * kDay, Now() + 7 * kDay + 2 * kHour}};
  poll_input.required = {*kees};
  poll_input.deadline_ms = Now() + 3 * kDay;
  auto poll = by_coordinator.CreatePoll(poll_input);
  REQUIRE(poll.ok());
  const Bytes slot = by_coordinator.GetPoll(*poll)->slots.at(0).slot_id;
  REQUIRE(by_coordinator.AnswerPoll(*poll, *kees, slot, Answer::kNo).ok());
  REQUIRE(by_coordinator.Tally(*poll)->at(0).required_no == std::vector<Bytes>{*kees});

  // The coordinator takes Kees out: what is still open is named, nothing is reassigned.
  auto removed = by_coordinator.RemovePerson(*kees);
  REQUIRE(removed.ok());
  CHECK(removed->open_agreements == std::vector<Bytes>{*open});
  CHECK_FALSE(removed->still_member);
  SyncAll({&coordinator, &resident, &ria}, 1);
  for (Organising* org : {&by_resident, &by_coordinator, &by_ria}) {
    auto circle = org->Circle();
    REQUIRE(circle.ok());
    const domain::Person* k = ByName(*circle, "Kees");
    REQUIRE(k != nullptr);  // kept for the history
    CHECK(k->left);
    CHECK_FALSE(k->in_circle());
    CHECK(k->left_at_ms > 0);
    CHECK(ByName(*circle, "Tante Ria")->in_circle());
  }
  for (Device* d : {&resident, &ria}) {
    Plan seen(**d, *cid);
    auto still_open = seen.GetAgreement(*open);
    REQUIRE(still_open.ok());
    CHECK(still_open->input.owner == *kees);
    CHECK(still_open->owner_left);
    CHECK(still_open->needs_new_owner());
    auto finished = seen.GetAgreement(*done);
    REQUIRE(finished.ok());
    CHECK(finished->owner_left);
    CHECK_FALSE(finished->needs_new_owner());
  }
  // No longer an invitee: no pre-talk is missing for him.
  auto without = by_coordinator.InviteesWithoutPreTalk();
  REQUIRE(without.ok());
  CHECK(std::find(without->begin(), without->end(), *kees) == without->end());
  CHECK(by_coordinator.RemovePerson(*kees).status().message() == "person.already_left");
  // His "no" no longer counts, and he is neither required nor answered for again.
  auto tally = by_coordinator.Tally(*poll);
  REQUIRE(tally.ok());
  CHECK(tally->at(0).no == 0);
  CHECK(tally->at(0).required_no.empty());
  CHECK(by_coordinator.CreatePoll(poll_input).status().message() == "poll.required_left");
  CHECK(by_coordinator.AnswerPoll(*poll, *kees, slot, Answer::kYes).message() ==
        "person.already_left");

  // Nothing new is given to him; his old agreement may still be edited, and given to Ria.
  auto to_kees = plan.AddAgreement(mow);
  CHECK(to_kees.status().code() == StatusCode::kInvalidArgument);
  CHECK(to_kees.status().message() == "agreement.owner_left");
  AgreementInput checked_by_kees = mow;
  checked_by_kees.owner = *tante;
  checked_by_kees.checker = *kees;
  CHECK(plan.AddAgreement(checked_by_kees).status().message() == "agreement.checker_left");
  AgreementInput renamed = mow;
  renamed.action = "Gras maaien en heg knippen";
  REQUIRE(plan.EditAgreement(*open, renamed).ok());
  renamed.owner = *tante;
  REQUIRE(plan.EditAgreement(*open, renamed).ok());
  SyncAll({&coordinator, &resident}, 1);
  auto moved = Plan(*resident, *cid).GetAgreement(*open);
  REQUIRE(moved.ok());
  CHECK(moved->input.owner == *tante);
  CHECK_FALSE(moved->needs_new_owner());

  // Ria's account is removed from the case: her entry stays, shown as no longer taking part.
  REQUIRE(resident->RemoveMember(*cid, ria.account_id()).ok());
  SyncAll({&resident, &coordinator}, 2);
  auto ria_now = by_coordinator.GetPerson(*tante);
  REQUIRE(ria_now.ok());
  CHECK(ria_now->account_removed);
  CHECK(ria_now->in_circle());
  CHECK_FALSE(by_coordinator.GetPerson(*kees)->account_removed);  // never had an account

  // Approving him again brings him back, on every device.
  REQUIRE(by_resident.ApprovePerson(*kees).ok());
  SyncAll({&resident, &coordinator}, 1);
  CHECK(by_coordinator.GetPerson(*kees)->in_circle());
  CHECK(by_resident.GetPerson(*kees)->in_circle());
}

TEST_CASE("taking someone out of the circle who still has the app says so", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), ria(net);
  auto cid = resident->CreateCase({{ria.account_id(), v1::ROLE_MEMBER}}, true);
  REQUIRE(cid.ok());
  SyncAll({&resident, &ria}, 1);
  Organising by_resident(*resident, *cid), by_ria(*ria, *cid);
  PersonInput ria_input = NewPerson("Tante Ria", "family", "tante");
  ria_input.account_id = ria.account_id();
  ria_input.has_app = true;
  auto tante = by_resident.ProposePerson(ria_input);
  REQUIRE(tante.ok());
  REQUIRE(by_resident.ApprovePerson(*tante).ok());
  SyncAll({&resident, &ria}, 1);
  // Ria, no organiser, cannot take herself out.
  CHECK(by_ria.RemovePerson(*tante).status().code() == StatusCode::kPermissionDenied);
  auto removed = by_resident.RemovePerson(*tante);
  REQUIRE(removed.ok());
  CHECK(removed->still_member);
  CHECK(removed->open_agreements.empty());
  SyncAll({&resident, &ria}, 1);
  CHECK(by_ria.GetPerson(*tante)->left);
  // Her own raw edit cannot bring her back.
  REQUIRE(ria->Submit(*cid, {SetPersonField(*tante, "left", false)}, 0).ok());
  SyncAll({&ria, &resident}, 1);
  CHECK(by_resident.GetPerson(*tante)->left);
  CHECK(by_ria.GetPerson(*tante)->left);
}

// Entered by hand with an account that is not in the case yet: not shown as gone, and invited
// like anyone else. Only an account that was in the case and was taken out reads as gone.
TEST_CASE("a person linked to an account not in the case yet can be invited", "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), ria(net);
  auto created = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(created.ok());
  const Bytes cid = *created;
  SyncAll({&resident, &coordinator}, 1);
  Organising by_resident(*resident, cid), by_coordinator(*coordinator, cid);
  PersonInput input = NewPerson("Tante Ria", "family", "tante");
  input.has_app = true;
  input.account_id = ria.account_id();
  auto tante = by_coordinator.ProposePerson(input);
  REQUIRE(tante.ok());
  REQUIRE(by_coordinator.ApprovePerson(*tante).ok());
  SyncAll({&coordinator, &resident}, 1);
  for (Organising* org : {&by_resident, &by_coordinator}) {
    auto p = org->GetPerson(*tante);
    REQUIRE(p.ok());
    CHECK(p->account_not_joined);
    CHECK_FALSE(p->account_removed);
  }
  auto invitation = by_coordinator.InviteWithApp(*tante, v1::ROLE_MEMBER, 3600);
  INFO(invitation.status().message());
  REQUIRE(invitation.ok());
  SyncAll({&coordinator, &resident}, 1);
  REQUIRE(ria->AcceptInvite(invitation->link).ok());
  SyncAll({&ria, &resident}, 1);
  REQUIRE(resident->ApproveMember(cid, ria.account_id()).ok());
  SyncAll({&resident, &coordinator}, 2);
  auto joined = by_coordinator.GetPerson(*tante);
  REQUIRE(joined.ok());
  CHECK(joined->account_id == ria.account_id());
  CHECK_FALSE(joined->account_not_joined);
  CHECK_FALSE(joined->account_removed);
  CHECK(*by_coordinator.InvitationOf(*tante) == InvitationState::kJoined);
  CHECK(by_coordinator.InviteWithApp(*tante, v1::ROLE_MEMBER, 3600).status().message() ==
        "invite.already_joined");

  // Taken out of the case: now she no longer takes part, on every device, and a new link is
  // refused saying why (not "already in the app").
  REQUIRE(resident->RemoveMember(cid, ria.account_id()).ok());
  SyncAll({&resident, &coordinator}, 2);
  for (Organising* org : {&by_resident, &by_coordinator}) {
    auto gone = org->GetPerson(*tante);
    REQUIRE(gone.ok());
    CHECK(gone->account_removed);
    CHECK_FALSE(gone->account_not_joined);
  }
  auto refused = by_coordinator.InviteWithApp(*tante, v1::ROLE_MEMBER, 3600);
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.status().message() == "invite.account_removed");
  CHECK(UserText(refused.status()) ==
        "Het account van deze persoon is uit de casus gehaald. Wil je dat deze persoon weer "
        "meedoet? Voeg het account dan weer toe aan de casus.");
}

namespace {

v1::Mutation SetEntityBlobOrText(const Bytes& entity, const std::string& field,
                                 const std::string& value, bool blob) {
  v1::Mutation m;
  m.mutable_set_field()->set_entity_id(ToString(entity));
  m.mutable_set_field()->set_field(field);
  if (blob) {
    m.mutable_set_field()->mutable_value()->set_blob(value);
  } else {
    m.mutable_set_field()->mutable_value()->set_text(value);
  }
  return m;
}

}  // namespace

TEST_CASE(
    "the resident stays in the circle when a coordinator first makes them a relative, and so "
    "does the chair's own person",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator}, 1);
  Organising by_chair(*chair, *cid), by_coordinator(*coordinator, *cid);
  REQUIRE(by_coordinator.SubmitReferral(ValidReferral()).ok());
  SyncAll({&coordinator, &chair}, 1);
  auto referral = by_coordinator.GetReferral();
  REQUIRE(referral.ok());
  const Bytes sanne = referral->resident_person_id;
  REQUIRE(by_coordinator.GetPerson(sanne)->in_circle());

  // `kring circle edit SANNE --kind familie`, then `kring circle remove SANNE`: both refused.
  PersonInput as_sister = NewPerson("Sanne de Vries", "family", "zus");
  CHECK(by_coordinator.UpdatePerson(sanne, as_sister).message() == "rule.chair_only");
  CHECK(by_coordinator.RemovePerson(sanne).status().message() == "person.resident_stays");
  // The same as raw edits of a modified client: no effect on any device.
  const Bytes other = referral->invitee_person_ids.at(0);
  REQUIRE(coordinator->Submit(*cid, {SetEntityBlobOrText(sanne, "kind", "family", false)}, 0).ok());
  REQUIRE(coordinator->Submit(*cid, {SetPersonField(sanne, "left", true)}, 0).ok());
  // Nor is the referral made to name someone else as the resident.
  REQUIRE(
      coordinator
          ->Submit(*cid,
                   {SetEntityBlobOrText(referral->referral_id, "resident", ToString(other), true)},
                   0)
          .ok());
  REQUIRE(by_coordinator.ApprovePerson(other).ok());
  // Someone else made resident by the coordinator: refused too (the case has its resident).
  CHECK(by_coordinator.UpdatePerson(other, NewPerson("Ria de Vries", "resident", "")).message() ==
        "person.second_resident");
  SyncAll({&coordinator, &chair}, 1);
  for (Organising* org : {&by_chair, &by_coordinator}) {
    auto s = org->GetPerson(sanne);
    REQUIRE(s.ok());
    CHECK(s->kind == "resident");
    CHECK_FALSE(s->left);
    CHECK(org->GetReferral()->resident_person_id == sanne);
  }

  // The chair may change the kind; the first referral still names her, so she stays.
  REQUIRE(by_chair.UpdatePerson(sanne, as_sister).ok());
  SyncAll({&chair, &coordinator}, 1);
  REQUIRE(by_coordinator.GetPerson(sanne)->kind == "family");
  CHECK(by_coordinator.RemovePerson(sanne).status().message() == "person.resident_stays");
  REQUIRE(coordinator->Submit(*cid, {SetPersonField(sanne, "left", true)}, 0).ok());

  // The person linked to the chair's account stays too, whatever their kind.
  const Bytes joke =
      AddLinkedPerson(by_coordinator, NewPerson("Joke", "family", "tante"), chair.account_id());
  CHECK(by_coordinator.RemovePerson(joke).status().message() == "person.resident_stays");
  REQUIRE(coordinator->Submit(*cid, {SetPersonField(joke, "left", true)}, 0).ok());
  SyncAll({&coordinator, &chair}, 1);
  for (Organising* org : {&by_chair, &by_coordinator}) {
    CHECK_FALSE(org->GetPerson(sanne)->left);
    CHECK_FALSE(org->GetPerson(joke)->left);
  }
}

TEST_CASE(
    "the resident's entry is never deleted: not by a coordinator, not by the chair, not after "
    "the first referral is deleted",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator}, 1);
  Organising by_chair(*chair, *cid), by_coordinator(*coordinator, *cid);
  REQUIRE(by_coordinator.SubmitReferral(ValidReferral()).ok());
  SyncAll({&coordinator, &chair}, 1);
  auto referral = by_coordinator.GetReferral();
  REQUIRE(referral.ok());
  const Bytes sanne = referral->resident_person_id;
  PersonInput joke_input = NewPerson("Joke", "family", "tante");
  joke_input.account_id = chair.account_id();
  joke_input.has_app = true;
  auto joke = by_coordinator.ProposePerson(joke_input);
  auto kees = by_coordinator.ProposePerson(NewPerson("Kees", "neighbour", "buurman"));
  REQUIRE((joke.ok() && kees.ok()));
  REQUIRE(by_coordinator.ApprovePerson(*joke).ok());
  SyncAll({&coordinator, &chair}, 1);

  auto raw_delete = [](const Bytes& id) {
    v1::Mutation m;
    m.mutable_delete_entity()->set_entity_id(ToString(id));
    return m;
  };
  auto all_there = [&] {
    for (Organising* org : {&by_chair, &by_coordinator}) {
      auto s = org->GetPerson(sanne);
      auto j = org->GetPerson(*joke);
      REQUIRE(s.ok());
      REQUIRE(j.ok());
      CHECK(s->in_circle());
      CHECK(j->in_circle());
    }
  };

  // A modified client deletes the resident's entry and the chair's own person: no effect.
  REQUIRE(coordinator->Submit(*cid, {raw_delete(sanne)}, 0).ok());
  REQUIRE(coordinator->Submit(*cid, {raw_delete(*joke)}, 0).ok());
  SyncAll({&coordinator, &chair}, 1);
  all_there();

  // Not after the chair made her a relative and the coordinator deleted the first referral
  // either (it still names her), nor by the chair.
  REQUIRE(by_chair.UpdatePerson(sanne, NewPerson("Sanne de Vries", "family", "zus")).ok());
  SyncAll({&chair, &coordinator}, 1);
  REQUIRE(coordinator->Submit(*cid, {raw_delete(referral->referral_id)}, 0).ok());
  SyncAll({&coordinator, &chair}, 1);
  // (The first referral is never deleted either.)
  for (Organising* org : {&by_chair, &by_coordinator}) {
    CHECK(org->GetReferral()->referral_id == referral->referral_id);
  }
  REQUIRE(coordinator->Submit(*cid, {raw_delete(sanne)}, 0).ok());
  REQUIRE(chair->Submit(*cid, {raw_delete(sanne)}, 0).ok());
  SyncAll({&coordinator, &chair}, 1);
  all_there();

  // An ordinary proposed person can still be deleted.
  REQUIRE(coordinator->Submit(*cid, {raw_delete(*kees)}, 0).ok());
  SyncAll({&coordinator, &chair}, 1);
  for (Organising* org : {&by_chair, &by_coordinator}) CHECK_FALSE(org->GetPerson(*kees).ok());
}

TEST_CASE(
    "taking someone out of the circle during private time says their app still reads the draft",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net);
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother}, 1);
  Organising by_coordinator(*coordinator, *cid), by_resident(*resident, *cid);
  const auto [sanne, ria, meeting] = SpoedMeetingOfThree(by_coordinator, resident, mother);
  SyncAll({&coordinator, &resident, &mother}, 1);
  auto scope = by_resident.StartPrivateTime(meeting);
  REQUIRE(scope.ok());
  SyncAll({&resident, &mother, &coordinator}, 1);

  auto removed = by_coordinator.RemovePerson(ria);
  REQUIRE(removed.ok());
  CHECK(removed->still_member);
  CHECK(removed->in_private_time);
  SyncAll({&coordinator, &resident, &mother}, 1);
  // As said: no key changed, so her device still holds the draft's scope.
  auto view = mother->ConfirmedView(*cid);
  REQUIRE(view.ok());
  const auto& members = view->scopes().at(*scope).members();
  CHECK(std::find(members.begin(), members.end(), ToString(mother.account_id())) != members.end());
  CHECK(Organising(*mother, *cid).GetPerson(ria)->left);
}

TEST_CASE_METHOD(
    ChairsPersonCase,
    "the account link of the chair's own person is the chair's to change: a coordinator's edit "
    "has no effect on any device",
    "[organising]") {
  // The chair's own person, entered as a relative and named by no referral: only the link to
  // the chair's account makes it the resident's.
  const Bytes joke = EnterChairsPerson(NewPerson("Joke", "family", "tante"));
  SyncAll({&coordinator, &chair, &ria}, 1);
  auto linked_to = [&](Organising& org) {
    auto p = org.GetPerson(joke);
    REQUIRE(p.ok());
    return p->account_id;
  };

  // `kring circle link JOKE RIA` by the coordinator: refused with its own key, nothing queued.
  const size_t pending = coordinator->PendingIntents(cid);
  const Status moved = by_coordinator.LinkAccount(joke, ria.account_id());
  CHECK(moved.code() == StatusCode::kPermissionDenied);
  CHECK(moved.message() == "person.chair_link");
  CHECK(UserText(moved) != "person.chair_link");
  CHECK(coordinator->PendingIntents(cid) == pending);
  // The same as raw edits of a modified client, moving the link to Ria and clearing it: no
  // effect on any device, so the chair's person still cannot be taken out.
  REQUIRE(coordinator
              ->Submit(cid,
                       {SetEntityBlobOrText(joke, "account_id", ToString(ria.account_id()), true)},
                       0)
              .ok());
  REQUIRE(coordinator->Submit(cid, {SetEntityBlobOrText(joke, "account_id", "", true)}, 0).ok());
  SyncAll({&coordinator, &chair, &ria}, 1);
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria}) {
    CHECK(linked_to(*org) == chair.account_id());
  }
  CHECK(by_coordinator.RemovePerson(joke).status().message() == "person.resident_stays");
  // Writing the same link again changes nothing and is no refusal.
  REQUIRE(by_coordinator.LinkAccount(joke, chair.account_id()).ok());
  SyncAll({&coordinator, &chair, &ria}, 1);

  // The chair may: the entry is then Ria's, and no longer the resident's.
  REQUIRE(by_chair.LinkAccount(joke, ria.account_id()).ok());
  SyncAll({&chair, &coordinator, &ria}, 1);
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria}) {
    CHECK(linked_to(*org) == ria.account_id());
  }
  REQUIRE(by_coordinator.RemovePerson(joke).ok());
}

TEST_CASE_METHOD(
    ChairsPersonCase,
    "no account gets a second person: a coordinator's person with a low id linked to the chair "
    "has no effect on any device",
    "[organising]") {
  const Bytes sanne = EnterChairsPerson(NewPerson("Sanne", "family", "zelf"));
  auto ria_person = by_coordinator.ProposePerson(NewPerson("Ria", "family", "tante"));
  REQUIRE(ria_person.ok());
  REQUIRE(by_coordinator.LinkAccount(*ria_person, ria.account_id()).ok());
  SyncAll({&coordinator, &chair, &ria}, 1);

  // A modified client: a professional entry with the lowest scope-0 id, linked to the chair's
  // account. PersonOfAccount would take it as the chair's (first by id): out of private time,
  // and its link protected instead of Sanne's.
  Bytes low(16, 0);
  low.back() = 1;
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(ToString(low));
  create.mutable_create_entity()->set_type(kPersonType);
  REQUIRE(coordinator
              ->Submit(cid,
                       {create, SetEntityBlobOrText(low, "name", "Q", false),
                        SetEntityBlobOrText(low, "kind", "professional", false),
                        SetEntityBlobOrText(low, "status", "approved", false),
                        SetEntityBlobOrText(low, "account_id", ToString(chair.account_id()), true)},
                       0)
              .ok());
  // And a deleted entry of Ria's account restored after Ria got a new one.
  v1::Mutation del;
  del.mutable_delete_entity()->set_entity_id(ToString(*ria_person));
  REQUIRE(coordinator->Submit(cid, {del}, 0).ok());
  SyncAll({&coordinator, &chair, &ria}, 1);
  PersonInput again = NewPerson("Ria", "family", "tante");
  again.account_id = ria.account_id();
  again.has_app = true;
  auto ria_again = by_coordinator.ProposePerson(again);
  REQUIRE(ria_again.ok());
  SyncAll({&coordinator, &chair, &ria}, 1);
  v1::Mutation restore;
  restore.mutable_restore_entity()->set_entity_id(ToString(*ria_person));
  REQUIRE(coordinator->Submit(cid, {restore}, 0).ok());
  SyncAll({&coordinator, &chair, &ria}, 1);

  for (Organising* org : {&by_chair, &by_coordinator, &by_ria}) {
    auto q = org->GetPerson(low);
    REQUIRE(q.ok());
    CHECK(q->account_id.empty());
    CHECK(org->GetPerson(*ria_person).status().code() == StatusCode::kNotFound);
  }
  CHECK(*by_chair.MyPersonId() == sanne);
  CHECK(*by_ria.MyPersonId() == *ria_again);
  CHECK(by_coordinator.LinkAccount(low, chair.account_id()).message() == "person.account_in_use");
}

TEST_CASE_METHOD(
    ChairsPersonCase,
    "the kind of the chair's own person is the chair's: a coordinator's change has no effect",
    "[organising]") {
  PersonInput own = NewPerson("Sanne", "family", "zelf");
  own.account_id = chair.account_id();
  own.has_app = true;
  const Bytes sanne = EnterChairsPerson(own);
  SyncAll({&coordinator, &chair, &ria}, 1);

  // Made a professional, the chair would be out of the network's private time.
  PersonInput changed = own;
  changed.kind = "professional";
  changed.organisation = "Wijkteam";
  changed.function = "hulpverlener";
  const Status refused = by_coordinator.UpdatePerson(sanne, changed);
  CHECK(refused.code() == StatusCode::kPermissionDenied);
  CHECK(refused.message() == "person.chair_link");
  REQUIRE(coordinator->Submit(cid, {SetEntityBlobOrText(sanne, "kind", "professional", false)}, 0)
              .ok());
  SyncAll({&coordinator, &chair, &ria}, 1);
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria}) {
    CHECK(org->GetPerson(sanne)->kind == "family");
  }
  // Other fields stay an organiser's edit.
  PersonInput renamed = own;
  renamed.relation = "hoofdpersoon";
  REQUIRE(by_coordinator.UpdatePerson(sanne, renamed).ok());
}

TEST_CASE(
    "the first referral is made by the chair, a coordinator or a professional in the circle, and "
    "another member's has no effect on any device",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), ria(net), teacher(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                {ria.account_id(), v1::ROLE_MEMBER},
                                {teacher.account_id(), v1::ROLE_MEMBER}},
                               true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator, &ria, &teacher}, 1);
  Organising by_chair(*chair, *cid), by_coordinator(*coordinator, *cid), by_ria(*ria, *cid),
      by_teacher(*teacher, *cid);

  // Ria, a relative, and the teacher before the organisers let her in: refused, nothing queued.
  for (auto [device, org] : {std::pair{&ria, &by_ria}, std::pair{&teacher, &by_teacher}}) {
    const size_t pending = (*device)->PendingIntents(*cid);
    auto refused = org->SubmitReferral(WithoutTeacher(ValidReferral()));
    CHECK(refused.status().code() == StatusCode::kPermissionDenied);
    CHECK(refused.status().message() == "referral.first_by_organiser");
    CHECK((*device)->PendingIntents(*cid) == pending);
  }
  // A modified client: Ria's own referral naming Kees (whom she proposes) as the resident. No
  // effect on any device: there is no referral, and Kees is no resident.
  auto kees = by_ria.ProposePerson(NewPerson("Kees", "neighbour", "buurman"));
  REQUIRE(kees.ok());
  Bytes referral_id = crypto::RandomBytes(16);
  std::fill(referral_id.begin(), referral_id.begin() + 4, 0);  // a scope-0 id
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(ToString(referral_id));
  create.mutable_create_entity()->set_type(kReferralType);
  REQUIRE(ria->Submit(*cid,
                      {create, SetEntityBlobOrText(referral_id, "resident", ToString(*kees), true)},
                      0)
              .ok());
  SyncAll({&ria, &chair, &coordinator, &teacher}, 1);
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria, &by_teacher}) {
    CHECK(org->GetReferral().status().code() == StatusCode::kNotFound);
  }
  REQUIRE(by_coordinator.ApprovePerson(*kees).ok());
  CHECK(by_coordinator.RemovePerson(*kees).ok());

  // Once the organisers entered her as a professional, the teacher refers; later referrals are
  // open to every member and do not change whose case it is.
  EnterProfessional(by_coordinator, teacher.account_id());
  SyncAll({&coordinator, &teacher, &ria, &chair}, 1);
  auto first = by_teacher.SubmitReferral(WithoutTeacher(ValidReferral()));
  REQUIRE(first.ok());
  SyncAll({&teacher, &ria, &chair, &coordinator}, 1);
  const Bytes sanne = by_coordinator.GetReferral()->resident_person_id;
  ReferralInput later = WithoutTeacher(ValidReferral());
  later.resident = NewPerson("Ria de Vries", "resident", "");
  later.reason = "Ria wil het anders.";
  later.spoed = true;
  later.bottom_lines = {"Ria blijft erbij."};
  later.questions = {"Wie helpt Ria?"};
  // Only the resident (the chair's account) refers as the resident.
  later.referrer_kind = "resident";
  CHECK(by_ria.SubmitReferral(later).status().message() == "referral.referrer_not_resident");
  later.referrer_kind = "professional";
  const size_t people_before = by_ria.Circle()->size();
  REQUIRE(by_ria.SubmitReferral(later).ok());
  SyncAll({&ria, &chair, &coordinator, &teacher}, 1);
  // It names the case's resident, whatever name it gave: no second (undeletable) resident. Its
  // invitees are the first referral's, already in the circle: nobody is proposed twice.
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria, &by_teacher}) {
    auto circle = org->Circle();
    REQUIRE(circle.ok());
    CHECK(circle->size() == people_before);
    size_t residents = 0;
    for (const auto& p : *circle)
      if (p.kind == "resident") ++residents;
    CHECK(residents == 1);
    auto shown = org->GetReferral();
    REQUIRE(shown.ok());
    REQUIRE(shown->later.size() == 1);
    CHECK(shown->later[0].resident_person_id == sanne);
    CHECK(shown->later[0].reason == "Ria wil het anders.");
    CHECK(shown->later[0].bottom_lines == std::vector<std::string>{"Ria blijft erbij."});
    CHECK(shown->later[0].questions == std::vector<std::string>{"Wie helpt Ria?"});
  }
  // Every device shows the first referral and its resident; Ria's is an addition.
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria, &by_teacher}) {
    auto shown = org->GetReferral();
    REQUIRE(shown.ok());
    CHECK(shown->referral_id == *first);
    CHECK(shown->referrer_account_id == teacher.account_id());
    CHECK(shown->resident_person_id == sanne);
    CHECK(shown->reason == ValidReferral().reason);
    CHECK(shown->bottom_lines == ValidReferral().bottom_lines);
    CHECK_FALSE(shown->spoed);
    REQUIRE(shown->later.size() == 1);
    CHECK(shown->later[0].referrer_account_id == ria.account_id());
  }
  for (Device* d : {&chair, &coordinator, &ria, &teacher}) {
    CHECK_FALSE(ComputeCaseFigures(*(*d)->View(*cid)).spoed);
  }
  // A later spoed referral makes no spoed meeting, and the coordinator is assigned on the first.
  LocationInput venue{LocationKind::kVenue, "Buurthuis De Ster", "Sterlaan 1, Utrecht", {}};
  const int64_t noon = 1751364000000;
  CHECK(by_coordinator
            .FixSpoedMeeting(noon + 4 * kHour, noon + 5 * kHour, venue,
                             {"Spoed: geen tijd voor voorgesprekken.", ""}, noon)
            .status()
            .message() == "meeting.not_spoed");
  REQUIRE(by_coordinator.AssignCoordinator({coordinator.account_id(), "nl", "", ""}).ok());
  SyncAll({&coordinator, &chair, &ria, &teacher}, 1);
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria, &by_teacher}) {
    CHECK(org->GetReferral()->coordinator.coordinator_account_id == coordinator.account_id());
  }
  // A modified client deletes the first referral: no effect on any device.
  v1::Mutation del;
  del.mutable_delete_entity()->set_entity_id(ToString(*first));
  REQUIRE(coordinator->Submit(*cid, {del}, 0).ok());
  SyncAll({&coordinator, &chair, &ria, &teacher}, 1);
  for (Organising* org : {&by_chair, &by_coordinator, &by_ria, &by_teacher}) {
    auto shown = org->GetReferral();
    REQUIRE(shown.ok());
    CHECK(shown->referral_id == *first);
  }
  REQUIRE(by_coordinator.ApprovePerson(sanne).ok());
  CHECK(by_coordinator.RemovePerson(sanne).status().message() == "person.resident_stays");
}

namespace {

// A new scope-0 entity of `type`, as a modified client would create it.
std::pair<Bytes, v1::Mutation> CreateRaw(const std::string& type) {
  Bytes id = crypto::RandomBytes(16);
  std::fill(id.begin(), id.begin() + 4, 0);  // a scope-0 id
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(ToString(id));
  create.mutable_create_entity()->set_type(type);
  return {id, create};
}

}  // namespace

TEST_CASE(
    "a later referral names the case's resident and only the chair refers as the resident: a "
    "modified client's op has no effect on any device",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), ria(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {ria.account_id(), v1::ROLE_MEMBER}},
      true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator, &ria}, 1);
  Organising by_chair(*chair, *cid), by_coordinator(*coordinator, *cid), by_ria(*ria, *cid);
  auto first = by_coordinator.SubmitReferral(ValidReferral());
  REQUIRE(first.ok());
  SyncAll({&coordinator, &chair, &ria}, 1);
  const Bytes sanne = by_coordinator.GetReferral()->resident_person_id;
  const std::vector<Organising*> everyone = {&by_chair, &by_coordinator, &by_ria};
  const std::vector<Device*> devices = {&chair, &coordinator, &ria};

  // The coordinator's later referral as a modified client makes it: a new, approved person of
  // kind resident, named as the referral's resident.
  auto [second_resident, person] = CreateRaw(kPersonType);
  auto [later_id, referral] = CreateRaw(kReferralType);
  REQUIRE(coordinator
              ->Submit(*cid,
                       {person, SetEntityBlobOrText(second_resident, "name", "Sanne", false),
                        SetEntityBlobOrText(second_resident, "kind", "resident", false),
                        SetEntityBlobOrText(second_resident, "status", "approved", false), referral,
                        SetEntityBlobOrText(later_id, "referrer_kind", "professional", false),
                        SetEntityBlobOrText(later_id, "resident", ToString(second_resident), true),
                        SetEntityBlobOrText(later_id, "reason", "Nog een keer.", false)},
                       0)
              .ok());
  SyncAll({&coordinator, &chair, &ria}, 1);
  for (Organising* org : everyone) {
    auto circle = org->Circle();
    REQUIRE(circle.ok());
    size_t residents = 0;
    for (const Person& p : *circle) {
      if (p.kind == "resident") {
        ++residents;
        CHECK(p.person_id == sanne);
      }
    }
    CHECK(residents == 1);
    auto shown = org->GetReferral();
    REQUIRE(shown.ok());
    CHECK(shown->resident_person_id == sanne);
    REQUIRE(shown->later.size() == 1);
    CHECK(shown->later[0].resident_person_id.empty());  // it names nobody else
    CHECK(shown->later[0].reason == "Nog een keer.");
  }
  // So the extra person is no resident: the coordinator can take them out of the circle.
  CHECK(by_coordinator.RemovePerson(second_resident).ok());
  // Nor is anyone else made resident afterwards, by proposal or by the chair's edit.
  CHECK(by_ria.ProposePerson(NewPerson("Sanne", "resident", "")).status().message() ==
        "person.second_resident");
  auto kees = by_ria.ProposePerson(NewPerson("Kees", "neighbour", "buurman"));
  REQUIRE(kees.ok());
  CHECK(by_ria.UpdatePerson(*kees, NewPerson("Kees", "resident", "")).message() ==
        "person.second_resident");
  REQUIRE(ria->Submit(*cid, {SetEntityBlobOrText(*kees, "kind", "resident", false)}, 0).ok());
  SyncAll({&ria, &chair, &coordinator}, 1);
  CHECK(by_chair.UpdatePerson(*kees, NewPerson("Kees", "resident", "")).message() ==
        "person.second_resident");
  REQUIRE(chair->Submit(*cid, {SetEntityBlobOrText(*kees, "kind", "resident", false)}, 0).ok());
  SyncAll({&chair, &coordinator, &ria}, 1);
  for (Organising* org : everyone) CHECK(org->GetPerson(*kees)->kind == "neighbour");
  // The resident's own kind is the chair's to write back.
  PersonInput as_sister = NewPerson("Sanne de Vries", "family", "zus");
  REQUIRE(by_chair.UpdatePerson(sanne, as_sister).ok());
  REQUIRE(by_chair.UpdatePerson(sanne, NewPerson("Sanne de Vries", "resident", "")).ok());
  SyncAll({&chair, &coordinator, &ria}, 1);
  for (Organising* org : everyone) CHECK(org->GetPerson(sanne)->kind == "resident");

  // "Referred by the resident" is for the chair's account alone: the coordinator's raw edit of
  // the first referral, and a member's raw later referral saying so, have no effect anywhere.
  REQUIRE(coordinator
              ->Submit(*cid, {SetEntityBlobOrText(*first, "referrer_kind", "resident", false)}, 0)
              .ok());
  auto [by_resident_id, ria_referral] = CreateRaw(kReferralType);
  REQUIRE(ria->Submit(*cid,
                      {ria_referral,
                       SetEntityBlobOrText(by_resident_id, "referrer_kind", "resident", false),
                       SetEntityBlobOrText(by_resident_id, "resident", ToString(sanne), true),
                       SetEntityBlobOrText(by_resident_id, "reason", "Van Sanne zelf.", false)},
                      0)
              .ok());
  SyncAll({&coordinator, &ria, &chair});
  for (Organising* org : everyone) CHECK(org->GetReferral()->referrer_kind == "professional");
  for (Device* d : devices) {
    auto view = (*d)->View(*cid);
    REQUIRE(view.ok());
    auto found = view->entities().find(Hex(by_resident_id));
    REQUIRE(found != view->entities().end());
    const v1::Entity& e = found->second;
    CHECK(e.fields().count("referrer_kind") == 0);
    CHECK(e.fields().at("resident").value().blob() == ToString(sanne));
  }
  // The chair's own later referral as the resident stands.
  ReferralInput own = ValidReferral();
  own.referrer_kind = "resident";
  own.invitees.resize(1);
  auto chairs = by_chair.SubmitReferral(own);
  REQUIRE(chairs.ok());
  SyncAll({&chair, &coordinator, &ria}, 1);
  for (Device* d : devices) {
    auto view = (*d)->View(*cid);
    REQUIRE(view.ok());
    auto found = view->entities().find(Hex(*chairs));
    REQUIRE(found != view->entities().end());
    const v1::Entity& e = found->second;
    CHECK(e.fields().at("referrer_kind").value().text() == "resident");
    CHECK(e.fields().at("resident").value().blob() == ToString(sanne));
  }
}

TEST_CASE("a resident kind the first referral does not name keeps nobody in the circle",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator}, 1);
  Organising by_chair(*chair, *cid), by_coordinator(*coordinator, *cid);
  // Before any referral the coordinator enters Sanne as the resident (no app, so linked to no
  // account), twice by mistake. While no referral names a resident, that kind makes each the
  // resident.
  auto entered = by_coordinator.ProposePerson(NewPerson("Sanne", "resident", ""));
  auto again = by_coordinator.ProposePerson(NewPerson("Sanne", "resident", ""));
  REQUIRE((entered.ok() && again.ok()));
  for (const Bytes& p : {*entered, *again}) {
    REQUIRE(by_coordinator.ApprovePerson(p).ok());
    CHECK(by_coordinator.RemovePerson(p).status().message() == "person.resident_stays");
  }
  // Then the first referral: it names one of them (both approved and entered by the coordinator:
  // the first by id), enters no third.
  const size_t people = by_coordinator.Circle()->size();
  REQUIRE(by_coordinator.SubmitReferral(ValidReferral()).ok());
  SyncAll({&coordinator, &chair}, 1);
  const Bytes named = by_coordinator.GetReferral()->resident_person_id;
  CHECK(named == std::min(*entered, *again));
  const Bytes other = named == *entered ? *again : *entered;
  CHECK(by_coordinator.Circle()->size() == people + ValidReferral().invitees.size());
  for (Organising* org : {&by_chair, &by_coordinator}) {
    REQUIRE(org->GetReferral()->resident_person_id == named);
    REQUIRE(org->GetPerson(other)->kind == "resident");  // the kind is still stored
  }

  // The other entry is no longer the resident: the coordinator takes it out of the circle (as
  // the duplicate it now is), and every device applies that. The named resident still stays.
  CHECK(by_coordinator.RemovePerson(other).ok());
  CHECK(by_coordinator.RemovePerson(named).status().message() == "person.resident_stays");
  REQUIRE(coordinator->Submit(*cid, {SetPersonField(named, "left", true)}, 0).ok());
  SyncAll({&coordinator, &chair}, 1);
  for (Organising* org : {&by_chair, &by_coordinator}) {
    CHECK(org->GetPerson(other)->left);
    CHECK_FALSE(org->GetPerson(named)->left);
  }
}

TEST_CASE("a first referral names the resident the chair was entered as and enters no second",
          "[organising]") {
  ChairsPersonCase c;
  // The usual order: the coordinator enters the chair as the resident, then the first referral
  // (by a professional in the circle, here the coordinator) names a resident by name.
  PersonInput own = NewPerson("Sanne", "resident", "");
  const Bytes sanne = c.EnterChairsPerson(own);
  // An earlier, unlinked entry of the resident too: the chair's own person goes first.
  auto unlinked = c.by_coordinator.ProposePerson(NewPerson("Sanne", "resident", ""));
  REQUIRE(unlinked.ok());
  const size_t people = c.by_coordinator.Circle()->size();
  REQUIRE(c.by_coordinator.SubmitReferral(ValidReferral()).ok());
  SyncAll({&c.coordinator, &c.chair, &c.ria}, 1);
  for (Organising* org : {&c.by_chair, &c.by_coordinator, &c.by_ria}) {
    auto circle = org->Circle();
    REQUIRE(circle.ok());
    CHECK(circle->size() == people + ValidReferral().invitees.size());
    CHECK(ByName(*circle, "Sanne de Vries") == nullptr);
    CHECK(org->GetReferral()->resident_person_id == sanne);
  }
  CHECK(c.by_coordinator.RemovePerson(sanne).status().message() == "person.resident_stays");
  // The unlinked entry is the duplicate it now is: taken out of the circle like anyone.
  REQUIRE(c.by_coordinator.ApprovePerson(*unlinked).ok());
  CHECK(c.by_coordinator.RemovePerson(*unlinked).ok());
}

TEST_CASE(
    "a stale view loses no update: the resident's question and an approval are written even when "
    "this device shows them already",
    "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net);
  auto cid = chair->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR}}, true);
  REQUIRE(cid.ok());
  SyncAll({&chair, &coordinator}, 1);
  Organising by_chair(*chair, *cid), by_coordinator(*coordinator, *cid);
  REQUIRE(by_coordinator.SubmitReferral(ValidReferral()).ok());
  SyncAll({&coordinator, &chair}, 1);
  const ResidentQuestion before = by_chair.GetReferral()->question;
  REQUIRE_FALSE(before.ik_wil.empty());

  // The chair changes "ik wil"; the coordinator, not yet synced, still sees the old text and asks
  // for it. That later op must be written and win on every device (it was skipped as
  // "unchanged", leaving the chair's text while the coordinator was told it was done).
  REQUIRE(
      by_chair.SetResidentQuestion({"Ik wil verhuizen.", before.ik_kan, before.ik_heb_nodig}).ok());
  SyncAll({&chair}, 1);
  REQUIRE(by_coordinator.GetReferral()->question.ik_wil == before.ik_wil);  // stale view
  const size_t queued = coordinator->PendingIntents(*cid);
  REQUIRE(by_coordinator.SetResidentQuestion(before).ok());
  CHECK(coordinator->PendingIntents(*cid) == queued + 1);
  SyncAll({&coordinator, &chair});
  for (Organising* org : {&by_chair, &by_coordinator}) {
    CHECK(org->GetReferral()->question.ik_wil == before.ik_wil);
  }
  // A part not given is not written: the chair's concurrent edit of "ik kan" (a new text, not
  // the one the referral had) stays while the stale coordinator, who still sees the old "ik kan",
  // edits "ik heb nodig" only (`kring referral question --ik-heb-nodig`).
  const std::string ik_kan = "Ik kan goed fietsen.";
  REQUIRE(ik_kan != before.ik_kan);
  REQUIRE(by_chair.SetResidentQuestion({before.ik_wil, ik_kan, before.ik_heb_nodig}).ok());
  SyncAll({&chair}, 1);
  REQUIRE(by_coordinator.GetReferral()->question.ik_kan == before.ik_kan);  // stale view
  ResidentQuestionEdit part;
  part.ik_heb_nodig = "Ik heb hulp nodig bij de post.";
  REQUIRE(by_coordinator.EditResidentQuestion(part).ok());
  SyncAll({&coordinator, &chair});
  for (Organising* org : {&by_chair, &by_coordinator}) {
    const ResidentQuestion q = org->GetReferral()->question;
    CHECK(q.ik_wil == before.ik_wil);
    CHECK(q.ik_kan == ik_kan);
    CHECK(q.ik_heb_nodig == "Ik heb hulp nodig bij de post.");
  }
  ResidentQuestionEdit too_long;
  too_long.ik_kan = std::string(100000, 'x');
  CHECK(by_coordinator.EditResidentQuestion(too_long).message() == "referral.question_too_long");

  // Approving: the coordinator declines Karim; the chair, not yet synced, still sees him approved
  // and approves him. The status is written anyway, and the chair's later op wins on every device.
  const Bytes karim = by_coordinator.GetReferral()->invitee_person_ids.at(1);
  REQUIRE(by_coordinator.ApprovePerson(karim).ok());
  SyncAll({&coordinator, &chair});
  REQUIRE(by_coordinator.DeclinePerson(karim).ok());
  SyncAll({&coordinator}, 1);
  REQUIRE(by_chair.GetPerson(karim)->in_circle());  // stale view
  REQUIRE(by_chair.ApprovePerson(karim).ok());
  SyncAll({&chair, &coordinator});
  for (Organising* org : {&by_chair, &by_coordinator}) CHECK(org->GetPerson(karim)->in_circle());
  // But approving is no way to undo a removal the approver never saw: the coordinator takes
  // Karim out of the circle, the chair (stale, still seeing him in it) approves him again, and he
  // stays out on every device.
  REQUIRE(by_coordinator.RemovePerson(karim).ok());
  SyncAll({&coordinator}, 1);
  REQUIRE(by_chair.GetPerson(karim)->in_circle());  // stale view
  REQUIRE(by_chair.ApprovePerson(karim).ok());
  SyncAll({&chair, &coordinator});
  for (Organising* org : {&by_chair, &by_coordinator}) {
    auto p = org->GetPerson(karim);
    REQUIRE(p.ok());
    CHECK(p->left);
    CHECK_FALSE(p->in_circle());
  }
  // Who sees him out of the circle and approves him brings him back, on every device.
  REQUIRE(by_chair.ApprovePerson(karim).ok());
  SyncAll({&chair, &coordinator});
  for (Organising* org : {&by_chair, &by_coordinator}) CHECK(org->GetPerson(karim)->in_circle());
}

TEST_CASE("releasing the draft of a case stopped by a security alarm fails with the alarm",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto wire = std::make_shared<TamperTransport>(net);
  Device resident(wire), coordinator(net), mother(net);
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother}, 1);
  Organising by_coordinator(*coordinator, *cid), by_resident(*resident, *cid);
  const auto [sanne, ria, meeting] = SpoedMeetingOfThree(by_coordinator, resident, mother);
  SyncAll({&coordinator, &resident, &mother}, 1);
  REQUIRE(by_resident.StartPrivateTime(meeting).ok());
  SyncAll({&resident, &mother, &coordinator}, 1);

  // The coordinator writes on; kringd serves it to the resident with a flipped bit, re-chained
  // and re-signed. The release's own sync finds it: the case stops and nothing is released.
  REQUIRE(by_coordinator.AddMeetingNote(meeting, "Pauze voor de professionals.").ok());
  REQUIRE(coordinator->SyncNow().ok());
  const SecretBytes key = server.ServerSecretKey();
  wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() < 1) return;
    auto* env = resp.mutable_entries(0)->mutable_envelope();
    std::string c = env->ciphertext();
    c[c.size() / 2] = static_cast<char>(c[c.size() / 2] ^ 0x01);
    env->set_ciphertext(c);
    Rechain(req, resp, key);
  };
  const size_t pending = resident->PendingIntents(*cid);
  const Status released = by_resident.ReleaseDraft(meeting);
  CHECK(released.code() == StatusCode::kSecurityAlarm);
  CHECK(released.message() == "TAMPER: this case is stopped by a security alarm");
  CHECK(resident->PendingIntents(*cid) == pending);
  CHECK_FALSE(by_resident.GetMeeting(meeting)->draft_released);
  // Later, offline too, the case stays stopped and says so.
  wire->on_pull = nullptr;
  REQUIRE(server.Stop() == 0);
  CHECK(by_resident.ReleaseDraft(meeting).code() == StatusCode::kSecurityAlarm);
  server.Restart();
}

TEST_CASE("no organiser's phase edit ends private time before the network releases its draft",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net);
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother}, 1);
  Organising by_coordinator(*coordinator, *cid), by_resident(*resident, *cid),
      by_mother(*mother, *cid);
  const auto [sanne, ria, meeting] = SpoedMeetingOfThree(by_coordinator, resident, mother);
  SyncAll({&coordinator, &resident, &mother}, 1);
  auto scope = by_resident.StartPrivateTime(meeting);
  REQUIRE(scope.ok());
  SyncAll({&resident, &mother, &coordinator}, 1);

  // Through the API the coordinator cannot; as raw edits (back to information, on to the plan)
  // nothing changes on any device.
  CHECK(by_coordinator.StartPhase(meeting, Phase::kPlanPresentation).message() ==
        "meeting.draft_not_released");
  for (const char* phase : {"information", "plan_presentation"}) {
    REQUIRE(
        coordinator->Submit(*cid, {SetEntityBlobOrText(meeting, "phase", phase, false)}, 0).ok());
  }
  // Nor is the open private time moved to another scope (one without the mother), even by the
  // chair, who is in it.
  auto other = resident->CreateScope(*cid, {resident.account_id()});
  REQUIRE(other.ok());
  v1::Mutation moved;
  moved.mutable_set_field()->set_entity_id(ToString(meeting));
  moved.mutable_set_field()->set_field("private_scope");
  moved.mutable_set_field()->mutable_value()->set_integer(*other);
  REQUIRE(resident->Submit(*cid, {moved}, 0).ok());
  SyncAll({&resident, &coordinator, &mother}, 1);
  SyncAll({&coordinator, &resident, &mother}, 1);
  for (Organising* org : {&by_coordinator, &by_resident, &by_mother}) {
    CHECK(org->GetMeeting(meeting)->phase == Phase::kPrivateTime);
    CHECK(*org->PrivateTimeScope(meeting) == *scope);
  }

  // Once the network released its draft the organisers move on.
  REQUIRE(by_mother.ReleaseDraft(meeting).ok());
  SyncAll({&mother, &coordinator, &resident}, 1);
  REQUIRE(by_coordinator.StartPhase(meeting, Phase::kPlanPresentation).ok());
  SyncAll({&coordinator, &resident, &mother}, 1);
  for (Organising* org : {&by_coordinator, &by_resident, &by_mother}) {
    CHECK(org->GetMeeting(meeting)->phase == Phase::kPlanPresentation);
  }
}

TEST_CASE("a meeting put in private time without the network's scope is not stuck there",
          "[organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net);
  auto cid = resident->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {mother.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother}, 1);
  Organising by_coordinator(*coordinator, *cid), by_resident(*resident, *cid),
      by_mother(*mother, *cid);
  ReferralInput r = ValidReferral();
  r.spoed = true;
  REQUIRE(by_coordinator.SubmitReferral(r).ok());
  const Bytes meeting = SpoedMeetingInInformation(by_coordinator);
  // An older or modified organiser's app writes the phase alone: no scope, so nobody can
  // release a draft, and private time was never open. The organisers can move the meeting on.
  REQUIRE(
      coordinator->Submit(*cid, {SetEntityBlobOrText(meeting, "phase", "private_time", false)}, 0)
          .ok());
  SyncAll({&coordinator, &resident, &mother}, 1);
  CHECK(by_mother.GetMeeting(meeting)->phase == Phase::kPrivateTime);
  REQUIRE(by_coordinator.StartPhase(meeting, Phase::kPlanPresentation).ok());
  SyncAll({&coordinator, &resident, &mother}, 1);
  for (Organising* org : {&by_coordinator, &by_resident, &by_mother}) {
    CHECK(org->GetMeeting(meeting)->phase == Phase::kPlanPresentation);
  }
}
