// The meeting's record on a real kringd: who attended, short notes that follow the private-time
// rules, and closing the meeting ("beraad afgerond"), after which nothing about it changes on any
// device, whoever tries and however (through the API or a raw edit).
#include <algorithm>
#include <optional>

#include <catch2/catch.hpp>

#include "kring/domain/exports.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

#include "model/values.h"
#include "support/client_fixture.h"
#include "support/organising_fixture.h"

using namespace kring;
using namespace kring::test;
using namespace kring::domain;

namespace {

constexpr int64_t kHour = 3600LL * 1000;

ReferralInput SpoedReferral() {
  ReferralInput r;
  r.referrer_kind = "professional";
  r.resident = NewPerson("Sanne de Vries", "resident", "", "");
  r.resident.has_app = true;
  r.reason = "Sanne wil weer grip op haar geld.";
  auto mother = NewPerson("Ria de Vries", "family", "moeder", "06-12345678");
  mother.has_app = true;
  auto teacher = NewPerson("Joke Bakker", "professional", "juf van Tim", "06-22223333");
  teacher.organisation = "Basisschool De Linde";
  teacher.function = "leerkracht";
  teacher.has_app = true;
  auto neighbour = NewPerson("Karim Amrani", "neighbour", "buurman", "06-44445555");
  auto grandma = NewPerson("Oma Truus", "family", "oma", "030-1234567");
  r.invitees = {mother, teacher, neighbour, grandma};
  r.resident_consent = true;
  r.spoed = true;
  return r;
}

std::vector<std::string> NoteTexts(Device& d, const Bytes& cid, const Bytes& meeting) {
  auto notes = Organising(*d, cid).MeetingNotes(meeting);
  REQUIRE(notes.ok());
  std::vector<std::string> out;
  for (const auto& n : *notes) out.push_back(n.text);
  return out;
}

bool Has(const std::vector<std::string>& texts, const std::string& text) {
  return std::find(texts.begin(), texts.end(), text) != texts.end();
}

}  // namespace

TEST_CASE("meeting record: attendance and private-time notes then finishing hold on every device",
          "[organising][meeting]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), teacher(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother, &teacher}, 1);
  Organising by_coordinator(*coordinator, *cid);
  REQUIRE(by_coordinator.SubmitReferral(SpoedReferral()).ok());
  const Bytes sanne = IdOf(by_coordinator, "Sanne de Vries");
  const Bytes ria = IdOf(by_coordinator, "Ria de Vries");
  const Bytes joke = IdOf(by_coordinator, "Joke Bakker");
  const Bytes karim = IdOf(by_coordinator, "Karim Amrani");
  const Bytes truus = IdOf(by_coordinator, "Oma Truus");
  for (const Bytes& p : {ria, joke, karim}) REQUIRE(by_coordinator.ApprovePerson(p).ok());
  REQUIRE(by_coordinator.LinkAccount(sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(ria, mother.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(joke, teacher.account_id()).ok());
  LocationInput venue{LocationKind::kVenue, "Buurthuis De Ster", "Sterlaan 1, Utrecht", {}};
  const int64_t noon = 1751364000000;
  auto meeting =
      by_coordinator.FixSpoedMeeting(noon + 4 * kHour, noon + 5 * kHour, venue,
                                     {"Spoed: geen tijd voor voorgesprekken.", ""}, noon);
  REQUIRE(meeting.ok());

  // Nothing to record before the meeting has begun.
  CHECK(by_coordinator.RecordAttendance(*meeting, sanne, Attendance::kPresent).message() ==
        "meeting.not_started");
  CHECK(by_coordinator.AddMeetingNote(*meeting, "Te vroeg.").status().message() ==
        "meeting.not_started");
  REQUIRE(by_coordinator.StartPhase(*meeting, Phase::kInformation).ok());

  // The coordinator records attendance; Oma Truus is not approved in the circle (yet).
  REQUIRE(by_coordinator.RecordAttendance(*meeting, sanne, Attendance::kPresent).ok());
  REQUIRE(by_coordinator.RecordAttendance(*meeting, ria, Attendance::kPresent).ok());
  REQUIRE(by_coordinator.RecordAttendance(*meeting, joke, Attendance::kAbsent).ok());
  REQUIRE(by_coordinator.RecordAttendance(*meeting, karim, Attendance::kWrittenView).ok());
  // A later answer for the same person replaces the first (Joke came after all).
  REQUIRE(by_coordinator.RecordAttendance(*meeting, joke, Attendance::kPresent).ok());
  CHECK(by_coordinator.RecordAttendance(*meeting, truus, Attendance::kPresent).message() ==
        "domain.unknown_item");
  REQUIRE(by_coordinator.AddMeetingNote(*meeting, "Iedereen kreeg dezelfde informatie.").ok());
  CHECK(by_coordinator.AddMeetingNote(*meeting, "").status().message() == "meeting.note_missing");
  CHECK(by_coordinator.AddMeetingNote(*meeting, std::string(kMaxMeetingNote + 1, 'x'))
            .status()
            .message() == "meeting.note_too_long");
  SyncAll({&coordinator, &resident, &mother, &teacher}, 1);

  // The teacher (a professional) and the mother (network, no organiser) may not record: refused
  // by the API with nothing queued, and a raw edit has no effect on any device.
  for (Device* d : {&teacher, &mother}) {
    Organising org(**d, *cid);
    CHECK(org.RecordAttendance(*meeting, karim, Attendance::kAbsent).message() ==
          "refused.managers_only");
    CHECK(org.AddMeetingNote(*meeting, "Mijn eigen verslag.").status().message() ==
          "rule.meeting_note");
    CHECK((*d)->PendingIntents(*cid) == 0);
  }
  REQUIRE(teacher
              ->Submit(*cid, {SetMutation(*meeting, std::string(kAttendancePrefix) + Hex(karim),
                                          Text("absent"))})
              .ok());
  SyncAll({&teacher, &coordinator, &resident, &mother}, 1);
  const std::vector<AttendanceEntry> expected = [&] {
    std::vector<AttendanceEntry> a{{sanne, Attendance::kPresent},
                                   {ria, Attendance::kPresent},
                                   {joke, Attendance::kPresent},
                                   {karim, Attendance::kWrittenView}};
    std::sort(a.begin(), a.end(), [](const auto& x, const auto& y) {
      return ToString(x.person_id) < ToString(y.person_id);
    });
    return a;
  }();
  auto same_attendance = [&](Device& d) {
    auto m = Organising(*d, *cid).CurrentMeeting();
    REQUIRE(m.ok());
    REQUIRE(m->attendance.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      CHECK(m->attendance[i].person_id == expected[i].person_id);
      CHECK(m->attendance[i].attendance == expected[i].attendance);
    }
  };
  for (Device* d : {&resident, &coordinator, &mother, &teacher}) same_attendance(*d);

  // Two organisers answering for Karim at once: the later one holds, the other stays visible as
  // a conflict on every device (F8).
  Organising by_resident_early(*resident, *cid);
  REQUIRE(by_coordinator.RecordAttendance(*meeting, karim, Attendance::kAbsent).ok());
  REQUIRE(by_resident_early.RecordAttendance(*meeting, karim, Attendance::kWrittenView).ok());
  SyncAll({&coordinator, &resident, &mother, &teacher}, 2);
  for (Device* d : {&resident, &coordinator}) {
    same_attendance(*d);
    auto conflicts = Organising(**d, *cid).Conflicts();
    REQUIRE(conflicts.ok());
    REQUIRE(conflicts->size() == 1);
    CHECK(conflicts->at(0).field() == std::string(kAttendancePrefix) + Hex(karim));
    CHECK(conflicts->at(0).other_value().text() == "absent");
  }

  // Private time: the network's notes are sealed like its draft.
  Organising by_resident(*resident, *cid), by_mother(*mother, *cid), by_teacher(*teacher, *cid);
  auto scope = by_resident.StartPrivateTime(*meeting);
  REQUIRE(scope.ok());
  SyncAll({&resident, &mother, &coordinator, &teacher}, 1);
  const std::string secret = "Oom Henk kan de post doen, maar niet op maandag.";
  auto note = by_mother.AddMeetingNote(*meeting, secret);
  REQUIRE(note.ok());
  auto note_scope = mother->ScopeOf(*cid, *note);
  REQUIRE(note_scope.ok());
  CHECK(*note_scope == *scope);
  CHECK(by_teacher.AddMeetingNote(*meeting, "Ik kijk mee.").status().message() ==
        "rule.meeting_note");
  REQUIRE(by_coordinator.AddMeetingNote(*meeting, "Pauze voor de professionals.").ok());
  // The mother writing for the whole circle during private time, through a raw edit: no effect.
  const std::string leak = "Dit zou iedereen moeten lezen.";
  {
    const std::string id = client::model::NewEntityId(0);
    v1::Mutation create;
    create.mutable_create_entity()->set_entity_id(id);
    create.mutable_create_entity()->set_type(kMeetingNoteType);
    v1::Value meeting_ref;
    meeting_ref.set_blob(ToString(*meeting));
    REQUIRE(mother
                ->Submit(*cid, {create, SetMutation(ToBytes(id), "meeting", meeting_ref),
                                SetMutation(ToBytes(id), "text", Text(leak))})
                .ok());
  }
  SyncAll({&mother, &coordinator, &resident, &teacher}, 1);
  for (Device* d : {&resident, &mother}) {
    auto texts = NoteTexts(*d, *cid, *meeting);
    CHECK(Has(texts, secret));
    CHECK_FALSE(Has(texts, leak));
  }
  for (Device* d : {&coordinator, &teacher}) {
    auto texts = NoteTexts(*d, *cid, *meeting);
    CHECK(texts.size() == 2);
    CHECK_FALSE(Has(texts, secret));
    CHECK_FALSE(Has(texts, leak));
  }

  // The release shares the private-time notes with everyone, once, keeping their first author.
  REQUIRE(by_mother.ReleaseDraft(*meeting).ok());
  SyncAll({&mother, &coordinator, &resident, &teacher}, 1);
  for (Device* d : {&resident, &coordinator, &mother, &teacher}) {
    auto notes = Organising(**d, *cid).MeetingNotes(*meeting);
    REQUIRE(notes.ok());
    REQUIRE(notes->size() == 3);
    CHECK(notes->at(0).text == "Iedereen kreeg dezelfde informatie.");
    CHECK(notes->at(0).phase == Phase::kInformation);
    CHECK_FALSE(notes->at(0).private_time);
    const auto shared = std::find_if(notes->begin(), notes->end(),
                                     [&](const MeetingNote& n) { return n.text == secret; });
    REQUIRE(shared != notes->end());
    CHECK(shared->private_time);
    CHECK(shared->phase == Phase::kPrivateTime);
    CHECK(shared->author_account_id == mother.account_id());
  }

  // Finishing: only in acceptance, only by an organiser.
  REQUIRE(by_coordinator.StartPhase(*meeting, Phase::kPlanPresentation).ok());
  CHECK(by_coordinator.FinishMeeting(*meeting).message() == "meeting.phase_order");
  REQUIRE(by_coordinator.StartPhase(*meeting, Phase::kAcceptance).ok());
  SyncAll({&coordinator, &resident, &teacher, &mother}, 1);
  CHECK(by_teacher.FinishMeeting(*meeting).message() == "refused.managers_only");
  CHECK(teacher->PendingIntents(*cid) == 0);
  // The resident (chair) corrects Oma Truus's entry offline, after approving her, while the
  // coordinator closes the meeting: the correction reaches the server after the close, so no
  // device applies it.
  REQUIRE(by_resident.ApprovePerson(truus).ok());
  REQUIRE(by_resident.RecordAttendance(*meeting, truus, Attendance::kAbsent).ok());
  REQUIRE(by_coordinator.FinishMeeting(*meeting).ok());
  SyncAll({&coordinator, &resident, &mother, &teacher}, 2);
  CHECK(resident->PendingIntents(*cid) == 0);

  // After finishing nothing about the meeting moves, through the API or a raw edit.
  CHECK(by_coordinator.StartPhase(*meeting, Phase::kAcceptance).message() == "meeting.finished");
  CHECK(by_coordinator.RecordAttendance(*meeting, sanne, Attendance::kAbsent).message() ==
        "meeting.finished");
  CHECK(by_coordinator.CancelMeeting(*meeting).message() == "meeting.finished");
  CHECK(by_coordinator.Reschedule(*meeting, noon + 6 * kHour, noon + 7 * kHour).message() ==
        "meeting.finished");
  CHECK(by_coordinator.FinishMeeting(*meeting).message() == "meeting.finished");
  CHECK(coordinator->PendingIntents(*cid) == 0);
  REQUIRE(coordinator
              ->Submit(*cid, {SetMutation(*meeting, "phase", Text("information")),
                              SetMutation(*meeting, std::string(kAttendancePrefix) + Hex(sanne),
                                          Text("absent"))})
              .ok());
  // The verslag may still be written after the meeting.
  REQUIRE(by_coordinator.AddMeetingNote(*meeting, "Verslag gemaild naar oma.").ok());
  SyncAll({&coordinator, &resident, &mother, &teacher}, 2);
  std::optional<int64_t> finished_at;
  for (Device* d : {&resident, &coordinator, &mother, &teacher}) {
    CHECK((*d)->PendingIntents(*cid) == 0);
    CHECK((*d)->Alarms().empty());
    auto m = Organising(**d, *cid).CurrentMeeting();
    REQUIRE(m.ok());
    CHECK(m->finished());
    CHECK(m->phase == Phase::kAcceptance);
    if (!finished_at) finished_at = m->finished_at_ms;
    CHECK(m->finished_at_ms == *finished_at);
    same_attendance(*d);
    CHECK(NoteTexts(*d, *cid, *meeting).size() == 4);
  }
  RequireSameContent({&resident, &coordinator, &mother, &teacher}, *cid);

  // The printout of the plan names who was there and who sent a written view, not the absent.
  PlanContent content;
  content.ik_wil = "Rust in huis.";
  content.contingency = "Als het misgaat, bellen we Ria.";
  content.contact_person = ria;
  REQUIRE(Plan(*resident, *cid).Publish(content).ok());
  auto html = RenderPrintout(*resident->View(*cid), ria, Language::kDutch);
  REQUIRE(html.ok());
  const size_t section = html->find("Bij het beraad");
  REQUIRE(section != std::string::npos);
  const std::string at_meeting = html->substr(section, html->find("</section>", section) - section);
  CHECK(at_meeting.find("Waren erbij") != std::string::npos);
  for (const char* name : {"Sanne de Vries", "Ria de Vries", "Joke Bakker"}) {
    CHECK(at_meeting.find(name) < at_meeting.find("Gaven hun mening op papier"));
  }
  CHECK(at_meeting.find("Karim Amrani") > at_meeting.find("Gaven hun mening op papier"));
  CHECK(at_meeting.find("Karim Amrani") != std::string::npos);
  CHECK(at_meeting.find("Oma Truus") == std::string::npos);
}

namespace {

// A raw note in `scope` with the given fields, as a modified client would write it.
Bytes RawNote(Device& d, const Bytes& cid, uint32_t scope,
              const std::vector<std::pair<std::string, v1::Value>>& fields) {
  const std::string id = client::model::NewEntityId(scope);
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(id);
  create.mutable_create_entity()->set_type(kMeetingNoteType);
  std::vector<v1::Mutation> ms{create};
  for (const auto& [field, value] : fields) ms.push_back(SetMutation(ToBytes(id), field, value));
  REQUIRE(d->Submit(cid, ms, scope).ok());
  return ToBytes(id);
}

// The entity as this device's reducer holds it (null if there is none).
const v1::Entity* EntityIn(const v1::CaseState& s, const Bytes& id) {
  auto it = s.entities().find(Hex(id));
  return it == s.entities().end() ? nullptr : &it->second;
}

// A circle with a spoed meeting in its information phase and one note shared from the start.
struct RecordCase {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  // The resident's network can drop out (a release made offline).
  std::shared_ptr<TamperTransport> resident_wire = std::make_shared<TamperTransport>(net);
  Device resident{resident_wire}, coordinator{net}, mother{net}, teacher{net};
  Bytes cid, sanne, ria, joke, karim, truus, meeting, open_note;
  const std::string open_text = "Iedereen kreeg dezelfde informatie.";

  RecordCase() {
    auto c = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(c.ok());
    cid = *c;
    Sync();
    Organising org(*coordinator, cid);
    REQUIRE(org.SubmitReferral(SpoedReferral()).ok());
    sanne = IdOf(org, "Sanne de Vries");
    ria = IdOf(org, "Ria de Vries");
    joke = IdOf(org, "Joke Bakker");
    karim = IdOf(org, "Karim Amrani");
    truus = IdOf(org, "Oma Truus");
    for (const Bytes& p : {ria, joke, karim}) REQUIRE(org.ApprovePerson(p).ok());
    REQUIRE(org.LinkAccount(sanne, resident.account_id()).ok());
    REQUIRE(org.LinkAccount(ria, mother.account_id()).ok());
    REQUIRE(org.LinkAccount(joke, teacher.account_id()).ok());
    meeting = SpoedMeetingInInformation(org);
    auto note = org.AddMeetingNote(meeting, open_text);
    REQUIRE(note.ok());
    open_note = *note;
    Sync();
  }
  void Sync(int rounds = 2) { SyncAll({&coordinator, &resident, &mother, &teacher}, rounds); }
  std::vector<Device*> All() { return {&resident, &coordinator, &mother, &teacher}; }
  // Private time started by the resident (chair), a note by the mother, and her release.
  void ReleaseWithNote(const std::string& text) {
    Organising by_resident(*resident, cid), by_mother(*mother, cid);
    REQUIRE(by_resident.StartPrivateTime(meeting).ok());
    Sync();
    REQUIRE(by_mother.AddMeetingNote(meeting, text).ok());
    REQUIRE(by_mother.ReleaseDraft(meeting).ok());
    Sync();
  }
  void Finish() {
    Organising org(*coordinator, cid);
    REQUIRE(org.StartPhase(meeting, Phase::kPlanPresentation).ok());
    REQUIRE(org.StartPhase(meeting, Phase::kAcceptance).ok());
    REQUIRE(org.FinishMeeting(meeting).ok());
    Sync();
  }
};

}  // namespace

TEST_CASE("meeting record: a raw note cannot claim another writer", "[organising][meeting]") {
  RecordCase c;
  // The coordinator writes a note for the circle that claims the mother wrote it, with a field
  // the app never writes.
  const std::string forged = "Ria zegt: ik doe niet mee.";
  const Bytes forged_id = RawNote(c.coordinator, c.cid, 0,
                                  {{"meeting", Blob(c.meeting)},
                                   {"text", Text(forged)},
                                   {"author", Blob(c.mother.account_id())},
                                   {"extra", Text("x")}});
  c.Sync();
  for (Device* d : c.All()) {
    auto state = (*d)->ConfirmedView(c.cid);
    REQUIRE(state.ok());
    const v1::Entity* n = EntityIn(*state, forged_id);
    REQUIRE(n != nullptr);
    CHECK(n->fields().count("author") == 0);
    CHECK(n->fields().count("extra") == 0);
    auto notes = Organising(**d, c.cid).MeetingNotes(c.meeting);
    REQUIRE(notes.ok());
    for (const MeetingNote& note : *notes) {
      CHECK(note.author_account_id == c.coordinator.account_id());
    }
  }

  // After the release the mother cannot write for the whole circle as someone else in the next
  // phase, nor at all once the meeting is finished.
  const std::string secret = "Oom Henk kan de post doen.";
  c.ReleaseWithNote(secret);
  REQUIRE(Organising(*c.coordinator, c.cid).StartPhase(c.meeting, Phase::kPlanPresentation).ok());
  c.Sync();
  const std::string fake = "Sanne zegt: het plan is goed zo.";
  RawNote(c.mother, c.cid, 0,
          {{"meeting", Blob(c.meeting)},
           {"text", Text(fake)},
           {"author", Blob(c.resident.account_id())},
           {"copy_of", Blob(c.open_note)},
           {"private_time", client::model::FlagValue(true)}});
  c.Sync();
  const std::string next_phase = "Mijn eigen aantekening bij het plan.";
  RawNote(c.mother, c.cid, 0, {{"meeting", Blob(c.meeting)}, {"text", Text(next_phase)}});
  c.Sync();
  REQUIRE(Organising(*c.coordinator, c.cid).StartPhase(c.meeting, Phase::kAcceptance).ok());
  REQUIRE(Organising(*c.coordinator, c.cid).FinishMeeting(c.meeting).ok());
  c.Sync();
  const std::string late = "Na afloop nog iets toegevoegd.";
  RawNote(c.mother, c.cid, 0, {{"meeting", Blob(c.meeting)}, {"text", Text(late)}});
  c.Sync();
  for (Device* d : c.All()) {
    const std::vector<std::string> texts = NoteTexts(*d, c.cid, c.meeting);
    CHECK(Has(texts, c.open_text));
    CHECK(Has(texts, secret));
    CHECK_FALSE(Has(texts, fake));
    CHECK_FALSE(Has(texts, next_phase));
    CHECK_FALSE(Has(texts, late));
    auto notes = Organising(**d, c.cid).MeetingNotes(c.meeting);
    REQUIRE(notes.ok());
    for (const MeetingNote& n : *notes) {
      if (n.text == secret) CHECK(n.author_account_id == c.mother.account_id());
      if (n.text != secret) CHECK(n.author_account_id == c.coordinator.account_id());
    }
  }
}

TEST_CASE("meeting record: a raw copy_of cannot hide a note shared from the start",
          "[organising][meeting]") {
  RecordCase c;
  // Outside the release no note may name a copy_of.
  const std::string hider = "Verstopt de eerste aantekening.";
  const Bytes hider_id = RawNote(
      c.coordinator, c.cid, 0,
      {{"meeting", Blob(c.meeting)}, {"text", Text(hider)}, {"copy_of", Blob(c.open_note)}});
  c.Sync();
  for (Device* d : c.All()) {
    auto state = (*d)->ConfirmedView(c.cid);
    REQUIRE(state.ok());
    const v1::Entity* n = EntityIn(*state, hider_id);
    REQUIRE(n != nullptr);
    CHECK(n->fields().count("copy_of") == 0);
    CHECK(Has(NoteTexts(*d, c.cid, c.meeting), c.open_text));
  }
  // At the release the mother may write copies, but a copy_of naming a note the circle already
  // reads hides nothing, and one that is not an id is refused.
  c.ReleaseWithNote("Oom Henk kan de post doen.");
  RawNote(c.mother, c.cid, 0,
          {{"meeting", Blob(c.meeting)},
           {"text", Text("Kopie van niets.")},
           {"author", Blob(c.mother.account_id())},
           {"copy_of", Blob(c.open_note)}});
  const Bytes short_id = RawNote(
      c.mother, c.cid, 0,
      {{"meeting", Blob(c.meeting)}, {"text", Text("Korte kopie.")}, {"copy_of", Text("kort")}});
  c.Sync();
  for (Device* d : c.All()) {
    CHECK(Has(NoteTexts(*d, c.cid, c.meeting), c.open_text));
    auto state = (*d)->ConfirmedView(c.cid);
    REQUIRE(state.ok());
    const v1::Entity* n = EntityIn(*state, short_id);
    REQUIRE(n != nullptr);
    CHECK(n->fields().count("copy_of") == 0);
  }
}

TEST_CASE("meeting record: every device refuses note texts beyond the limits",
          "[organising][meeting]") {
  RecordCase c;
  Organising by_coordinator(*c.coordinator, c.cid);
  CHECK(by_coordinator.AddMeetingNote(c.meeting, "  \n ").status().message() ==
        "meeting.note_missing");
  CHECK(c.coordinator->PendingIntents(c.cid) == 0);
  std::vector<Bytes> bad;
  for (const v1::Value& text :
       {Text(std::string(kMaxMeetingNote + 1, 'x')), Text("   "), Text(""), Blob(c.meeting)}) {
    bad.push_back(RawNote(c.coordinator, c.cid, 0, {{"meeting", Blob(c.meeting)}, {"text", text}}));
  }
  c.Sync();
  for (Device* d : c.All()) {
    auto state = (*d)->ConfirmedView(c.cid);
    REQUIRE(state.ok());
    for (const Bytes& id : bad) {
      const v1::Entity* n = EntityIn(*state, id);
      REQUIRE(n != nullptr);
      CHECK(n->fields().count("text") == 0);
    }
  }
}

TEST_CASE("meeting record: every device refuses more than the note limit per meeting",
          "[organising][meeting]") {
  RecordCase c;
  // A modified client writes one note more than the limit (one is already there).
  for (size_t batch = 0; batch < 4; ++batch) {
    std::vector<v1::Mutation> ms;
    for (size_t i = 0; i < kMaxMeetingNotes / 4; ++i) {
      const std::string id = client::model::NewEntityId(0);
      v1::Mutation create;
      create.mutable_create_entity()->set_entity_id(id);
      create.mutable_create_entity()->set_type(kMeetingNoteType);
      ms.push_back(create);
      ms.push_back(SetMutation(ToBytes(id), "meeting", Blob(c.meeting)));
      ms.push_back(SetMutation(ToBytes(id), "text", Text("Aantekening.")));
    }
    REQUIRE(c.coordinator->Submit(c.cid, ms).ok());
  }
  SyncAll({&c.coordinator, &c.resident}, 2);
  for (Device* d : {&c.resident, &c.coordinator}) {
    CHECK(NoteTexts(*d, c.cid, c.meeting).size() == kMaxMeetingNotes);
  }
  CHECK(
      Organising(*c.coordinator, c.cid).AddMeetingNote(c.meeting, "Nog een.").status().message() ==
      "meeting.too_many_notes");
}

TEST_CASE("meeting record: the place cannot change after the meeting is finished",
          "[organising][meeting]") {
  RecordCase c;
  c.ReleaseWithNote("Oom Henk kan de post doen.");
  c.Finish();
  Organising by_coordinator(*c.coordinator, c.cid);
  CHECK(by_coordinator.ShareLocationWithCurrentCircle(c.meeting).message() == "meeting.finished");
  CHECK(c.coordinator->PendingIntents(c.cid) == 0);
  // A raw new exact address, and removing the current one.
  auto state = c.coordinator->ConfirmedView(c.cid);
  REQUIRE(state.ok());
  std::vector<Bytes> addresses;
  for (const auto& [key, a] : state->entities()) {
    if (a.type() == kMeetingAddressType && !a.deleted())
      addresses.push_back(ToBytes(a.entity_id()));
  }
  REQUIRE_FALSE(addresses.empty());
  for (const Bytes& a : addresses) REQUIRE(c.coordinator->DeleteEntity(c.cid, a).ok());
  const std::string aid = client::model::NewEntityId(0);
  v1::Mutation create;
  create.mutable_create_entity()->set_entity_id(aid);
  create.mutable_create_entity()->set_type(kMeetingAddressType);
  REQUIRE(c.coordinator
              ->Submit(c.cid, {create, SetMutation(ToBytes(aid), "meeting", Blob(c.meeting)),
                               SetMutation(ToBytes(aid), "address", Text("Geheimstraat 9"))})
              .ok());
  c.Sync(2);
  for (Device* d : {&c.resident, &c.coordinator, &c.mother}) {
    auto m = Organising(**d, c.cid).CurrentMeeting();
    REQUIRE(m.ok());
    CHECK(m->exact_location == "Sterlaan 1, Utrecht");
  }
}

TEST_CASE("meeting record: attendance has one field per approved person", "[organising][meeting]") {
  RecordCase c;
  REQUIRE(Organising(*c.coordinator, c.cid)
              .RecordAttendance(c.meeting, c.karim, Attendance::kPresent)
              .ok());
  // The same person spelled in uppercase hex, and someone not approved in the circle.
  std::string upper = std::string(kAttendancePrefix) + Hex(c.karim);
  std::transform(upper.begin() + sizeof(kAttendancePrefix) - 1, upper.end(),
                 upper.begin() + sizeof(kAttendancePrefix) - 1,
                 [](char ch) { return static_cast<char>(std::toupper(ch)); });
  REQUIRE(upper != std::string(kAttendancePrefix) + Hex(c.karim));
  const std::string truus = std::string(kAttendancePrefix) + Hex(c.truus);
  REQUIRE(c.coordinator
              ->Submit(c.cid, {SetMutation(c.meeting, upper, Text("absent")),
                               SetMutation(c.meeting, truus, Text("present"))})
              .ok());
  c.Sync(2);
  for (Device* d : c.All()) {
    auto state = (*d)->ConfirmedView(c.cid);
    REQUIRE(state.ok());
    const v1::Entity* m = EntityIn(*state, c.meeting);
    REQUIRE(m != nullptr);
    CHECK(m->fields().count(upper) == 0);
    CHECK(m->fields().count(truus) == 0);
    auto meeting = Organising(**d, c.cid).CurrentMeeting();
    REQUIRE(meeting.ok());
    REQUIRE(meeting->attendance.size() == 1);
    CHECK(meeting->attendance[0].attendance == Attendance::kPresent);
  }
}

TEST_CASE("meeting record: the release shares the notes the network wrote on other devices",
          "[organising][meeting]") {
  RecordCase c;
  Organising by_resident(*c.resident, c.cid), by_mother(*c.mother, c.cid);
  REQUIRE(by_resident.StartPrivateTime(c.meeting).ok());
  c.Sync();
  // The mother's note reaches the server; the resident releases without syncing first: the
  // release fetches the case, so her note is shared too.
  const std::string first = "Oom Henk kan de post doen.";
  REQUIRE(by_mother.AddMeetingNote(c.meeting, first).ok());
  SyncAll({&c.mother}, 1);
  REQUIRE(by_resident.ReleaseDraft(c.meeting).ok());
  c.Sync();
  for (Device* d : {&c.coordinator, &c.teacher}) {
    CHECK(Has(NoteTexts(*d, c.cid, c.meeting), first));
  }
}

TEST_CASE("meeting record: releasing again shares the notes a release made offline missed",
          "[organising][meeting]") {
  RecordCase c;
  Organising by_resident(*c.resident, c.cid), by_mother(*c.mother, c.cid);
  REQUIRE(by_resident.StartPrivateTime(c.meeting).ok());
  c.Sync();
  const std::string note = "Oom Henk kan de post doen.";
  REQUIRE(by_mother.AddMeetingNote(c.meeting, note).ok());
  SyncAll({&c.mother}, 1);
  // The resident releases offline, without the mother's note; it reaches the server later.
  c.resident_wire->fail_pulls = true;
  REQUIRE(by_resident.ReleaseDraft(c.meeting).ok());
  c.resident_wire->fail_pulls = false;
  c.Sync();
  CHECK_FALSE(Has(NoteTexts(c.coordinator, c.cid, c.meeting), note));
  // Releasing again (still in private time) shares what is left, once.
  REQUIRE(by_mother.ReleaseDraft(c.meeting).ok());
  c.Sync();
  CHECK(by_mother.ReleaseDraft(c.meeting).message() == "meeting.already_released");
  for (Device* d : c.All()) {
    const std::vector<std::string> texts = NoteTexts(*d, c.cid, c.meeting);
    CHECK(std::count(texts.begin(), texts.end(), note) == 1);
  }
}

TEST_CASE("meeting record: the printout names who was at the finished meeting, not a later one",
          "[organising][meeting]") {
  RecordCase c;
  Organising by_coordinator(*c.coordinator, c.cid);
  REQUIRE(by_coordinator.RecordAttendance(c.meeting, c.karim, Attendance::kPresent).ok());
  c.ReleaseWithNote("Oom Henk kan de post doen.");
  c.Finish();
  // A vervolgberaad is planned, not begun: a finished meeting leaves room for the next one.
  const Bytes finished = c.meeting;
  const int64_t noon = 1751364000000;
  LocationInput venue{LocationKind::kVenue, "Buurthuis De Ster", "Sterlaan 1, Utrecht", {}};
  auto next = by_coordinator.FixSpoedMeeting(noon + 6 * kHour, noon + 7 * kHour, venue,
                                             {"Vervolgberaad, zelfde mensen.", ""}, noon);
  REQUIRE(next.ok());
  auto current = by_coordinator.CurrentMeeting();
  REQUIRE(current.ok());
  CHECK(current->meeting_id == *next);
  CHECK(*next != finished);
  // While the vervolgberaad is fixed and not finished, no third one.
  CHECK(by_coordinator
            .FixSpoedMeeting(noon + 8 * kHour, noon + 9 * kHour, venue, {"Nog een.", ""}, noon)
            .status()
            .message() == "meeting.already_fixed");
  c.Sync();
  PlanContent content;
  content.ik_wil = "Rust in huis.";
  content.contingency = "Als het misgaat, bellen we Ria.";
  content.contact_person = c.ria;
  REQUIRE(Plan(*c.resident, c.cid).Publish(content).ok());
  auto html = RenderPrintout(*c.resident->View(c.cid), c.ria, Language::kDutch);
  REQUIRE(html.ok());
  const size_t section = html->find("Bij het beraad");
  REQUIRE(section != std::string::npos);
  CHECK(html->find("Karim Amrani", section) != std::string::npos);
}
