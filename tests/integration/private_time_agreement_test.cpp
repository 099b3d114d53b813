// Agreements the network makes in private time, over a real kringd: they stay with the network
// (no coordinator or professional device holds their key or content) until the network releases
// private time; then everyone reads what they would have read had they been made outside it (the
// coordinator all, a professional only the one they own), under the ids the network noted.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

#include "model/reducer.h"
#include "support/client_fixture.h"
#include "support/organising_fixture.h"

using namespace kring;
using namespace kring::test;
using namespace kring::domain;

namespace {

constexpr int64_t kHour = 3600LL * 1000;
constexpr int64_t kDay = 24 * kHour;

PersonInput Professional(const std::string& name, const std::string& organisation) {
  PersonInput p = NewPerson(name, "professional", "hulpverlener", "06-22223333");
  p.organisation = organisation;
  p.function = "begeleider";
  p.has_app = true;
  return p;
}

ReferralInput SpoedReferral() {
  ReferralInput r;
  r.referrer_kind = "professional";
  r.resident = NewPerson("Sanne de Vries", "resident", "", "");
  r.resident.has_app = true;
  r.reason = "Sanne wil weer grip op haar geld.";
  auto mother = NewPerson("Ria de Vries", "family", "moeder", "06-12345678");
  mother.has_app = true;
  r.invitees = {mother, Professional("Joke Bakker", "Basisschool De Linde"),
                Professional("Wim Wijkteam", "Wijkteam Noord")};
  r.resident_consent = true;
  r.spoed = true;
  return r;
}

// SpoedReferral entered by `by_coordinator` and everyone it names approved and linked: Sanne to
// the resident's account, Ria to the mother's, Joke to the teacher's and Wim to the worker's (not
// yet synced). Their ids.
struct SpoedCircle {
  Bytes sanne, ria, joke, wim;
};
SpoedCircle EnterSpoedCircle(Organising& by_coordinator, const Device& resident,
                             const Device& mother, const Device& teacher, const Device& worker) {
  REQUIRE(by_coordinator.SubmitReferral(SpoedReferral()).ok());
  SpoedCircle c;
  c.sanne = IdOf(by_coordinator, "Sanne de Vries");
  c.ria = IdOf(by_coordinator, "Ria de Vries");
  c.joke = IdOf(by_coordinator, "Joke Bakker");
  c.wim = IdOf(by_coordinator, "Wim Wijkteam");
  for (const Bytes& p : {c.ria, c.joke, c.wim}) REQUIRE(by_coordinator.ApprovePerson(p).ok());
  REQUIRE(by_coordinator.LinkAccount(c.sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(c.ria, mother.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(c.joke, teacher.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(c.wim, worker.account_id()).ok());
  return c;
}

AgreementInput MakeAgreement(const Bytes& owner, const std::string& action) {
  AgreementInput in;
  in.owner = owner;
  in.action = action;
  in.due_ms = 1767225600000 + 14 * kDay;  // 2026-01-01 + 14 days
  return in;
}

v1::CaseState Confirmed(Device& d, const Bytes& cid) {
  auto v = d->ConfirmedView(cid);
  REQUIRE(v.ok());
  return v.value();
}

// Whether this device's confirmed state holds any entity with this text in a field: the content
// reached it (its key did, and it could decrypt it).
bool HoldsText(Device& d, const Bytes& cid, const std::string& text) {
  const v1::CaseState state = Confirmed(d, cid);
  for (const auto& [key, e] : state.entities()) {
    for (const auto& [name, field] : e.fields()) {
      if (field.value().has_text() && field.value().text() == text) return true;
    }
  }
  return false;
}

std::vector<std::string> Actions(Device& d, const Bytes& cid) {
  auto list = Plan(*d, cid).Agreements();
  REQUIRE(list.ok());
  std::vector<std::string> out;
  for (const Agreement& a : *list) out.push_back(a.input.action);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("agreements made in private time stay with the network until the release",
          "[plan][organising][meeting]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), teacher(net), worker(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER},
                                   {worker.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto all = {&resident, &coordinator, &mother, &teacher, &worker};
  SyncAll(all, 1);
  Organising by_coordinator(*coordinator, *cid);
  const auto [sanne, ria, joke, wim] =
      EnterSpoedCircle(by_coordinator, resident, mother, teacher, worker);
  const Bytes meeting = SpoedMeetingInInformation(by_coordinator);
  SyncAll(all);
  auto private_scope = Organising(*resident, *cid).StartPrivateTime(meeting);
  REQUIRE(private_scope.ok());
  SyncAll(all);

  // Private time: the mother writes two agreements, one of them for the teacher.
  Plan by_mother(*mother, *cid);
  const std::string post = "Ria opent elke week de post met Sanne.";
  const std::string tutoring = "Joke meldt Tim aan voor bijles.";
  auto a_post = by_mother.AddAgreement(MakeAgreement(ria, post));
  auto a_tutoring = by_mother.AddAgreement(MakeAgreement(joke, tutoring));
  REQUIRE(a_post.ok());
  REQUIRE(a_tutoring.ok());
  SyncAll(all);
  for (const Bytes& id : {*a_post, *a_tutoring}) {
    auto a = by_mother.GetAgreement(id);
    REQUIRE(a.ok());
    CHECK(a->in_private_time);
    // Sealed to the network only: no coordinator or professional is in its scope.
    CHECK(a->scope_id == *private_scope);
    const v1::CaseState state = Confirmed(mother, *cid);
    for (Device* outside : {&coordinator, &teacher, &worker}) {
      CHECK_FALSE(client::model::InScope(state, a->scope_id, outside->account_id()));
    }
  }
  // The coordinator and the professionals hold neither the key nor the content, the owner
  // included; the network reads both.
  for (Device* d : {&coordinator, &teacher, &worker}) {
    CHECK_FALSE(HoldsText(*d, *cid, post));
    CHECK_FALSE(HoldsText(*d, *cid, tutoring));
    CHECK(Confirmed(*d, *cid).entities().count(Hex(*a_post)) == 0);
    CHECK(Confirmed(*d, *cid).entities().count(Hex(*a_tutoring)) == 0);
    CHECK(Actions(*d, *cid).empty());
  }
  CHECK(Actions(resident, *cid) == std::vector<std::string>{tutoring, post});

  // Within private time the network edits its agreements; accepting waits for the release (the
  // release makes a new agreement, whose acceptance only its owner can sign).
  const std::string post_weekly = "Ria opent elke zaterdag de post met Sanne.";
  AgreementInput edited = MakeAgreement(ria, post_weekly);
  REQUIRE(Plan(*resident, *cid).EditAgreement(*a_post, edited).ok());
  CHECK(by_mother.AcceptAgreement(*a_post).message() == "agreement.in_private_time");
  CHECK(by_mother.UpdateStatus(*a_post, AgreementStatus::kDone).message() ==
        "agreement.in_private_time");
  // A plan version lists only agreements everyone can read: not before the release.
  Plan by_resident(*resident, *cid);
  auto network = by_resident.NetworkScope();
  REQUIRE(network.ok());
  PlanContent content;
  content.ik_wil = "Ik wil rust in huis.";
  content.contingency = "Als het misgaat, bellen we Ria.";
  content.contact_person = ria;
  auto draft = by_resident.CreateDraft(*network, content);
  REQUIRE(draft.ok());
  CHECK(by_resident.Release(*draft).status().message() == "plan.private_time_open");
  SyncAll(all);
  CHECK_FALSE(HoldsText(coordinator, *cid, post_weekly));

  // What the release shares, told first; nothing changes by asking.
  Organising org_mother(*mother, *cid);
  auto what = org_mother.WhatReleaseShares(meeting);
  REQUIRE(what.ok());
  CHECK(what->agreements == 2);
  CHECK(what->notes == 0);
  CHECK(what->drafts == 1);
  REQUIRE(org_mother.ReleaseDraft(meeting).ok());
  SyncAll(all);

  // After the release: the coordinator reads both, the teacher the one she owns (by the id the
  // network noted in private time), the other professional neither.
  CHECK(Actions(coordinator, *cid) == std::vector<std::string>{tutoring, post_weekly});
  CHECK(Actions(resident, *cid) == std::vector<std::string>{tutoring, post_weekly});
  CHECK(Actions(mother, *cid) == std::vector<std::string>{tutoring, post_weekly});
  CHECK(Actions(teacher, *cid) == std::vector<std::string>{tutoring});
  CHECK(HoldsText(teacher, *cid, tutoring));
  CHECK_FALSE(HoldsText(teacher, *cid, post_weekly));
  CHECK(Actions(worker, *cid).empty());
  CHECK_FALSE(HoldsText(worker, *cid, tutoring));
  CHECK_FALSE(HoldsText(worker, *cid, post_weekly));
  for (Device* d : {&resident, &mother, &coordinator}) {
    auto a = Plan(**d, *cid).GetAgreement(*a_post);
    REQUIRE(a.ok());
    CHECK(a->agreement_id != *a_post);
    CHECK(a->copy_of == *a_post);  // the id the network noted, for lists to show beside it
    CHECK_FALSE(a->in_private_time);
    CHECK(a->status == AgreementStatus::kProposed);
  }
  // The originals are gone on the network's devices; nothing is listed twice.
  CHECK(Confirmed(resident, *cid).entities().at(Hex(*a_post)).deleted());
  CHECK(Confirmed(mother, *cid).entities().at(Hex(*a_tutoring)).deleted());

  // Owners accept now, the teacher too.
  REQUIRE(by_mother.AcceptAgreement(*a_post).ok());
  REQUIRE(Plan(*teacher, *cid).AcceptAgreement(*a_tutoring).ok());
  SyncAll(all);
  CHECK(Plan(*coordinator, *cid).GetAgreement(*a_post)->status == AgreementStatus::kAccepted);
  CHECK(Plan(*coordinator, *cid).GetAgreement(*a_tutoring)->status == AgreementStatus::kAccepted);

  // The plan released from the draft lists the agreements as everyone reads them.
  auto version = by_resident.Release(*draft);
  REQUIRE(version.ok());
  SyncAll(all);
  auto current = Plan(*coordinator, *cid).Current();
  REQUIRE(current.ok());
  REQUIRE(current->has_value());
  REQUIRE((*current)->agreements.size() == 2);
  for (const AgreementRef& ref : (*current)->agreements) {
    auto a = Plan(*coordinator, *cid).GetAgreement(ref.agreement_id);
    REQUIRE(a.ok());
    CHECK(a->content_hash == ref.content_hash);
  }
  for (Device* d : all) CHECK((*d)->Alarms().empty());
}

TEST_CASE("only the network deletes a private-time original, and only after its release",
          "[plan][organising]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), teacher(net), worker(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER},
                                   {worker.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto all = {&resident, &coordinator, &mother, &teacher, &worker};
  SyncAll(all, 1);
  Organising by_coordinator(*coordinator, *cid);
  const auto [sanne, ria, joke, wim] =
      EnterSpoedCircle(by_coordinator, resident, mother, teacher, worker);
  const Bytes meeting = SpoedMeetingInInformation(by_coordinator);
  SyncAll(all);
  REQUIRE(Organising(*resident, *cid).StartPrivateTime(meeting).ok());
  SyncAll(all);
  // The resident (chair) writes one; the mother (neither its creator nor an organiser) cannot
  // delete it while private time is open: a raw deletion has no effect on any device.
  auto a = Plan(*resident, *cid).AddAgreement(MakeAgreement(ria, "Ria kookt op woensdag."));
  REQUIRE(a.ok());
  SyncAll(all);
  const uint32_t scope = Plan(*mother, *cid).GetAgreement(*a)->scope_id;
  v1::Mutation gone;
  gone.mutable_delete_entity()->set_entity_id(ToString(*a));
  REQUIRE(mother->Submit(*cid, {gone}, scope).ok());
  SyncAll(all);
  for (Device* d : {&resident, &mother}) {
    CHECK_FALSE(Confirmed(*d, *cid).entities().at(Hex(*a)).deleted());
  }
  // One hidden from the mother stays off her device, in private time and after.
  const std::string moving = "Sanne zoekt een nieuwe woning.";
  AgreementInput secret = MakeAgreement(sanne, moving);
  secret.hidden_from = {ria};
  auto hidden = Plan(*resident, *cid).AddAgreement(secret);
  REQUIRE(hidden.ok());
  SyncAll(all);
  for (Device* d : {&mother, &coordinator, &teacher, &worker})
    CHECK_FALSE(HoldsText(*d, *cid, moving));
  CHECK(HoldsText(resident, *cid, moving));
  // The mother releases: her device copies what it holds and deletes the original, as the
  // rules now allow.
  REQUIRE(Organising(*mother, *cid).ReleaseDraft(meeting).ok());
  SyncAll(all);
  for (Device* d : {&resident, &mother}) {
    CHECK(Confirmed(*d, *cid).entities().at(Hex(*a)).deleted());
  }
  CHECK(Actions(coordinator, *cid) == std::vector<std::string>{"Ria kookt op woensdag."});
  CHECK_FALSE(HoldsText(coordinator, *cid, moving));
  // The agreement hidden from her is shared by the resident, releasing again in private time.
  REQUIRE(Organising(*resident, *cid).ReleaseDraft(meeting).ok());
  SyncAll(all);
  CHECK(Actions(coordinator, *cid) == std::vector<std::string>{"Ria kookt op woensdag.", moving});
  CHECK(Actions(resident, *cid) == std::vector<std::string>{"Ria kookt op woensdag.", moving});
  for (Device* d : {&mother, &teacher, &worker}) CHECK_FALSE(HoldsText(*d, *cid, moving));
  CHECK(Organising(*resident, *cid).ReleaseDraft(meeting).message() == "meeting.already_released");
  for (Device* d : all) CHECK((*d)->Alarms().empty());
}

TEST_CASE(
    "the release of private-time agreements reaches every device the same, a removed "
    "member none",
    "[plan][organising][meeting]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), uncle(net), teacher(net);
  // The resident's second device: offline through the whole private time and the release.
  Device phone(net, Device::Fresh{});
  auto request = phone->RequestDeviceLink();
  REQUIRE(request.ok());
  auto approval = resident->ApproveDeviceLink(request->payload, request->code);
  REQUIRE(approval.ok());
  REQUIRE(phone->FinishDeviceLink(*approval).ok());
  phone.set_account_id(resident.account_id());
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {uncle.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&resident, &coordinator, &mother, &uncle, &teacher, &phone}, 1);
  Organising by_coordinator(*coordinator, *cid);
  ReferralInput referral = SpoedReferral();
  PersonInput kees = NewPerson("Kees de Vries", "family", "oom", "06-55556666");
  kees.has_app = true;
  referral.invitees = {referral.invitees[0], referral.invitees[1], kees};
  REQUIRE(by_coordinator.SubmitReferral(referral).ok());
  const Bytes sanne = IdOf(by_coordinator, "Sanne de Vries");
  const Bytes ria = IdOf(by_coordinator, "Ria de Vries");
  const Bytes joke = IdOf(by_coordinator, "Joke Bakker");
  const Bytes oom = IdOf(by_coordinator, "Kees de Vries");
  for (const Bytes& p : {ria, joke, oom}) REQUIRE(by_coordinator.ApprovePerson(p).ok());
  REQUIRE(by_coordinator.LinkAccount(sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(ria, mother.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(joke, teacher.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(oom, uncle.account_id()).ok());
  const Bytes meeting = SpoedMeetingInInformation(by_coordinator);
  // The phone and the coordinator's device hear nothing more until after the release.
  SyncAll({&resident, &coordinator, &mother, &uncle, &teacher, &phone});
  auto online = {&resident, &mother, &uncle, &teacher};
  REQUIRE(Organising(*resident, *cid).StartPrivateTime(meeting).ok());
  SyncAll(online);

  // In private time the mother writes one agreement for herself and one for the uncle.
  const std::string post = "Ria opent elke week de post met Sanne.";
  const std::string garden = "Kees maakt de tuin schoon.";
  auto a_post = Plan(*mother, *cid).AddAgreement(MakeAgreement(ria, post));
  auto a_garden = Plan(*mother, *cid).AddAgreement(MakeAgreement(oom, garden));
  REQUIRE(a_post.ok());
  REQUIRE(a_garden.ok());
  SyncAll(online);
  CHECK(Actions(uncle, *cid) == std::vector<std::string>{garden, post});
  CHECK(Actions(teacher, *cid).empty());

  // The uncle's account is removed before the release: what the release shares is sealed to
  // the members of then, so not to him, not even the agreement he owns.
  REQUIRE(resident->RemoveMember(*cid, uncle.account_id()).ok());
  SyncAll({&resident, &mother, &teacher});
  (void)uncle->SyncNow();

  REQUIRE(Organising(*resident, *cid).ReleaseDraft(meeting).ok());
  SyncAll({&resident, &mother, &teacher});
  (void)uncle->SyncNow();
  // Changed after the release: the new text reaches whoever reads the shared agreement.
  const std::string post_later = "Ria opent elke zaterdag de post met Sanne.";
  const Status edited = Plan(*mother, *cid).EditAgreement(*a_post, MakeAgreement(ria, post_later));
  INFO(edited.message());
  REQUIRE(edited.ok());
  SyncAll({&mother, &resident, &teacher});
  (void)uncle->SyncNow();

  // The devices that were offline sync once, later, and read what the others read: the
  // resident's phone as the resident's laptop, the coordinator both agreements, by the ids
  // the network noted.
  REQUIRE(phone->SyncNow().ok());
  REQUIRE(coordinator->SyncNow().ok());
  const std::vector<std::string> shared{garden, post_later};
  for (Device* d : {&resident, &phone, &mother, &coordinator}) {
    CHECK(Actions(*d, *cid) == shared);
    for (const Bytes& id : {*a_post, *a_garden}) {
      auto a = Plan(**d, *cid).GetAgreement(id);
      REQUIRE(a.ok());
      CHECK(a->agreement_id != id);
      CHECK_FALSE(a->in_private_time);
      CHECK(a->agreement_id == Plan(*resident, *cid).GetAgreement(id)->agreement_id);
    }
  }
  CHECK(Confirmed(phone, *cid).entities().at(Hex(*a_post)).deleted());
  CHECK(Actions(teacher, *cid).empty());
  // The removed uncle holds neither the copies nor what was written in them after.
  const v1::CaseState his = Confirmed(uncle, *cid);
  for (const Bytes& id : {*a_post, *a_garden}) {
    CHECK(his.entities().count(Hex(Plan(*resident, *cid).GetAgreement(id)->agreement_id)) == 0);
  }
  CHECK_FALSE(HoldsText(uncle, *cid, post_later));
  for (Device* d : {&resident, &phone, &mother, &coordinator, &teacher}) {
    CHECK((*d)->Alarms().empty());
  }
}

TEST_CASE("the release of private time holds against a writer gone and a forged copy",
          "[plan][organising][meeting]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device resident(net), coordinator(net), mother(net), uncle(net), teacher(net);
  auto cid = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {mother.account_id(), v1::ROLE_MEMBER},
                                   {uncle.account_id(), v1::ROLE_MEMBER},
                                   {teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto all = {&resident, &coordinator, &mother, &uncle, &teacher};
  SyncAll(all, 1);
  Organising by_coordinator(*coordinator, *cid);
  ReferralInput referral = SpoedReferral();
  PersonInput kees = NewPerson("Kees de Vries", "family", "oom", "06-55556666");
  kees.has_app = true;
  referral.invitees = {referral.invitees[0], referral.invitees[1], kees};
  REQUIRE(by_coordinator.SubmitReferral(referral).ok());
  const Bytes sanne = IdOf(by_coordinator, "Sanne de Vries");
  const Bytes ria = IdOf(by_coordinator, "Ria de Vries");
  const Bytes joke = IdOf(by_coordinator, "Joke Bakker");
  const Bytes oom = IdOf(by_coordinator, "Kees de Vries");
  for (const Bytes& p : {ria, joke, oom}) REQUIRE(by_coordinator.ApprovePerson(p).ok());
  REQUIRE(by_coordinator.LinkAccount(sanne, resident.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(ria, mother.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(joke, teacher.account_id()).ok());
  REQUIRE(by_coordinator.LinkAccount(oom, uncle.account_id()).ok());
  LocationInput venue{LocationKind::kVenue, "Buurthuis De Ster", "Sterlaan 1, Utrecht", {}};
  const int64_t noon = 1751364000000;
  auto meeting = by_coordinator.FixSpoedMeeting(noon + 4 * kHour, noon + 5 * kHour, venue,
                                                {"Spoed.", ""}, noon);
  REQUIRE(meeting.ok());
  REQUIRE(by_coordinator.StartPhase(*meeting, Phase::kInformation).ok());
  SyncAll(all);
  REQUIRE(Organising(*resident, *cid).StartPrivateTime(*meeting).ok());
  SyncAll(all);
  const std::string post = "Ria opent elke week de post met Sanne.";
  auto a_post = Plan(*mother, *cid).AddAgreement(MakeAgreement(ria, post));
  REQUIRE(a_post.ok());
  SyncAll(all);

  SECTION("a writer taken out of the circle before the release") {
    const std::string garden = "Kees maakt de tuin schoon.";
    auto a_garden = Plan(*uncle, *cid).AddAgreement(MakeAgreement(oom, garden));
    REQUIRE(a_garden.ok());
    SyncAll(all);
    REQUIRE(by_coordinator.RemovePerson(oom).ok());
    SyncAll(all);
    // The release still goes through: the copy names no writer who is no longer of the network.
    const Status released = Organising(*mother, *cid).ReleaseDraft(*meeting);
    INFO(released.message());
    REQUIRE(released.ok());
    SyncAll(all);
    for (Device* d : {&resident, &mother, &coordinator}) {
      CHECK(Actions(*d, *cid) == std::vector<std::string>{garden, post});
      auto a = Plan(**d, *cid).GetAgreement(*a_garden);
      REQUIRE(a.ok());
      CHECK(a->agreement_id != *a_garden);
      CHECK_FALSE(a->in_private_time);
    }
    CHECK(Confirmed(mother, *cid).entities().at(Hex(*a_garden)).deleted());
  }

  SECTION("a forged copy does not take the noted id, and the original stays deleted") {
    REQUIRE(Organising(*resident, *cid).ReleaseDraft(*meeting).ok());
    SyncAll(all);
    auto real = Plan(*coordinator, *cid).GetAgreement(*a_post);
    REQUIRE(real.ok());
    // Whoever reads the copy learns the noted id. The coordinator, a professional and a network
    // member each write an agreement in scope 0 with a lower id that claims to be its copy.
    uint8_t low = 0;
    for (Device* forger : {&coordinator, &teacher, &uncle}) {
      Bytes id(16, 0);
      id[15] = ++low;
      v1::Value action;
      action.set_text("Vals: Ria geeft haar pas af.");
      v1::Value due;
      due.set_time_ms(MakeAgreement(ria, "").due_ms);
      (void)(*forger)->Submit(
          *cid,
          {CreateMutation(id, "plan_agreement"), SetMutation(id, "owner", Blob(ria)),
           SetMutation(id, "action", action), SetMutation(id, "due_ms", due),
           SetMutation(id, "copy_of", Blob(*a_post))},
          0);
      SyncAll(all);
    }
    // Every device still reads the real copy by the noted id; the owner's accept acts on it.
    for (Device* d : {&resident, &mother, &coordinator, &uncle}) {
      auto a = Plan(**d, *cid).GetAgreement(*a_post);
      REQUIRE(a.ok());
      CHECK(a->agreement_id == real->agreement_id);
      CHECK(a->input.action == post);
    }
    REQUIRE(Plan(*mother, *cid).AcceptAgreement(*a_post).ok());
    SyncAll(all);
    auto accepted = Plan(*coordinator, *cid).GetAgreement(real->agreement_id);
    REQUIRE(accepted.ok());
    CHECK(accepted->status == AgreementStatus::kAccepted);

    // The original is not brought back after the release, not even by the chair who may edit it.
    const uint32_t scope =
        static_cast<uint32_t>(Confirmed(resident, *cid).entities().at(Hex(*a_post)).scope_id());
    v1::Mutation back;
    back.mutable_restore_entity()->set_entity_id(ToString(*a_post));
    (void)resident->Submit(*cid, {back}, scope);
    (void)mother->Submit(*cid, {back}, scope);
    SyncAll(all);
    for (Device* d : {&resident, &mother}) {
      CHECK(Confirmed(*d, *cid).entities().at(Hex(*a_post)).deleted());
    }
  }

  SECTION(
      "a private-time marker outside the private scope is not written, nor blocks the release") {
    // The mother seals an agreement to a scope she shares with the coordinator and marks it as
    // this private time's: it is no agreement of the private time.
    auto other = mother->CreateScope(*cid, {mother.account_id(), coordinator.account_id()});
    REQUIRE(other.ok());
    SyncAll(all);
    Bytes id(16, 0x07);
    for (size_t i = 0; i < 4; ++i) id[i] = static_cast<uint8_t>((*other >> (24 - 8 * i)) & 0xffu);
    const std::string call = "Ria belt de woningbouw.";
    v1::Value action;
    action.set_text(call);
    v1::Value due;
    due.set_time_ms(MakeAgreement(ria, "").due_ms);
    (void)mother->Submit(*cid,
                         {CreateMutation(id, "plan_agreement"), SetMutation(id, "owner", Blob(ria)),
                          SetMutation(id, "action", action), SetMutation(id, "due_ms", due),
                          SetMutation(id, "private_time", Blob(*meeting))},
                         *other);
    SyncAll(all);
    Organising org_mother(*mother, *cid);
    auto what = org_mother.WhatReleaseShares(*meeting);
    REQUIRE(what.ok());
    CHECK(what->agreements == 1);
    const Status released = org_mother.ReleaseDraft(*meeting);
    INFO(released.message());
    REQUIRE(released.ok());
    SyncAll(all);
    CHECK(Actions(coordinator, *cid) == std::vector<std::string>{call, post});
  }
  for (Device* d : all) CHECK((*d)->Alarms().empty());
}
