// The netwerkberaad's plan and follow-up over a real kringd: seven people on their own devices
// draft, release and accept a plan, accept and update agreements offline, and record the six-week
// check; every device ends with the same plan. Invalid input fails with its key and changes
// nothing; forbidden edits sent raw have no effect on any device; printouts leave out what is
// hidden from their reader.
#include "kring/domain/plan.h"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/domain/case_figures.h"
#include "kring/domain/follow_up.h"
#include "kring/domain/messages.h"
#include "kring/domain/organising.h"

#include "store/local_store.h"
#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using namespace kring::domain;
using google::protobuf::util::MessageDifferencer;

namespace {

constexpr int64_t kJan31 = 1769817600000;  // 2026-01-31T00:00Z
constexpr int64_t kHour = 3'600'000;

v1::Value Flag(bool f) {
  v1::Value v;
  v.set_flag(f);
  return v;
}

// Seven people: the resident chairs; a coordinator; aunt, uncle and neighbour; a professional
// (district team); a mentor. Two more people without the app: grandma and an ex-partner.
struct Circle {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  // The uncle's network can drop out or be held (a release that crosses another's).
  std::shared_ptr<TamperTransport> uncle_net = std::make_shared<TamperTransport>(net);
  Device resident{net}, coordinator{net}, aunt{net}, uncle{uncle_net}, neighbour{net},
      professional{net}, mentor{net};
  Bytes cid;
  Bytes p_resident, p_coordinator, p_aunt, p_uncle, p_neighbour, p_professional, p_mentor,
      p_grandma, p_ex;

  std::vector<Device*> all() {
    return {&resident, &coordinator, &aunt, &uncle, &neighbour, &professional, &mentor};
  }
  // Everyone but the professional, who holds only the agreements they own or check.
  std::vector<Device*> readers() {
    return {&resident, &coordinator, &aunt, &uncle, &neighbour, &mentor};
  }

  Circle() {
    auto c = resident->CreateCase({{coordinator.account_id(), v1::ROLE_COORDINATOR},
                                   {aunt.account_id(), v1::ROLE_MEMBER},
                                   {uncle.account_id(), v1::ROLE_MEMBER},
                                   {neighbour.account_id(), v1::ROLE_MEMBER},
                                   {professional.account_id(), v1::ROLE_MEMBER},
                                   {mentor.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(c.ok());
    cid = *c;
    SyncAll();
    p_resident = AddPerson("Sam", "resident", "zelf", &resident);
    p_coordinator = AddPerson("Gespreksleider", "coordinator", "gespreksleider", &coordinator);
    p_aunt = AddPerson("Tante Ria", "family", "tante", &aunt);
    p_uncle = AddPerson("Oom Kees", "family", "vader", &uncle);
    p_neighbour = AddPerson("Buurman Piet", "neighbour", "buurman", &neighbour);
    p_professional = AddPerson("Wijkteam Anna", "professional", "wijkteam", &professional);
    p_mentor = AddPerson("Coach Mo", "mentor", "trainer van de voetbal", &mentor);
    p_grandma = AddPerson("Oma Jo", "family", "oma", nullptr);
    p_ex = AddPerson("Ex-partner", "family", "ex", nullptr);
    SyncAll();
  }

  Bytes AddPerson(const std::string& name, const std::string& kind, const std::string& relation,
                  Device* device) {
    Bytes id = crypto::RandomBytes(crypto::kIdBytes);
    std::vector<v1::Mutation> ms{CreateMutation(id, "person"),
                                 SetMutation(id, "name", Text(name)),
                                 SetMutation(id, "kind", Text(kind)),
                                 SetMutation(id, "relation", Text(relation)),
                                 SetMutation(id, "status", Text("approved")),
                                 SetMutation(id, "has_app", Flag(device != nullptr))};
    if (kind == "professional") {
      ms.push_back(SetMutation(id, "function", Text("ambulant hulpverlener")));
      ms.push_back(SetMutation(id, "organisation", Text("Wijkteam Noord")));
    }
    if (device != nullptr) ms.push_back(SetMutation(id, "account_id", Blob(device->account_id())));
    REQUIRE(coordinator->Submit(cid, ms).ok());
    return id;
  }

  // A meeting in the network's private time over `network_scope` (Plan::NetworkScope), written
  // by the coordinator as Organising does (the plan's rules read only the meeting entity).
  Bytes OpenPrivateTime(uint32_t network_scope) {
    const Bytes meeting = crypto::RandomBytes(crypto::kIdBytes);
    v1::Value scope;
    scope.set_integer(network_scope);
    REQUIRE(coordinator
                ->Submit(cid, {CreateMutation(meeting, "meeting"),
                               SetMutation(meeting, "status", Text("fixed")),
                               SetMutation(meeting, "private_scope", scope),
                               SetMutation(meeting, "phase", Text("private_time"))})
                .ok());
    SyncAll();
    return meeting;
  }

  // The network (the aunt) releases what it made in that private time (`meeting release`): only
  // after it does the network make its plan version.
  void ReleasePrivateTime(const Bytes& meeting) {
    REQUIRE(Organising(*aunt, cid).ReleaseDraft(meeting).ok());
    SyncAll();
  }

  void SyncAll() {
    for (int round = 0; round < 2; ++round) {
      for (Device* d : all()) REQUIRE((*d)->SyncNow().ok());
    }
  }

  v1::CaseState Confirmed(Device& d) {
    auto v = d->ConfirmedView(cid);
    REQUIRE(v.ok());
    return v.value();
  }

  // What `account` may read of `state`: scope 0 and the scopes it is in.
  static v1::CaseState ReadableBy(v1::CaseState state, const Bytes& account) {
    auto in_scope = [&](uint32_t scope) {
      if (scope == 0) return true;
      auto it = state.scopes().find(scope);
      if (it == state.scopes().end()) return false;
      const auto& m = it->second.members();
      return std::find(m.begin(), m.end(), ToString(account)) != m.end();
    };
    std::vector<std::string> drop;
    for (const auto& [key, e] : state.entities()) {
      if (!in_scope(e.scope_id())) drop.push_back(key);
    }
    for (const std::string& key : drop) state.mutable_entities()->erase(key);
    auto* conflicts = state.mutable_conflicts();
    for (int i = conflicts->size() - 1; i >= 0; --i) {
      if (state.entities().count(Hex(View(conflicts->Get(i).entity_id()))) == 0) {
        conflicts->DeleteSubrange(i, 1);
      }
    }
    return state;
  }

  // Every device holds the same confirmed state as far as it may read it (restricted scopes
  // stay on their members' devices), with nothing left pending.
  void RequireConverged() {
    const v1::CaseState reference = Confirmed(resident);
    for (Device* d : all()) {
      CHECK((*d)->PendingIntents(cid) == 0);
      CHECK(MessageDifferencer::Equals(ReadableBy(reference, d->account_id()),
                                       ReadableBy(Confirmed(*d), resident.account_id())));
      CHECK((*d)->Alarms().empty());
    }
  }

  PlanContent Content() const {
    PlanContent c;
    c.ik_wil = "Ik wil in mijn huis blijven wonen.";
    c.ik_kan = "Ik kan zelf koken.";
    c.ik_heb_nodig = "Ik heb hulp nodig met post en geld.";
    c.life_domains["housing"] = "Huur op tijd betalen.";
    c.life_domains["finances"] = "Schulden in kaart brengen.";
    c.contingency = "Als het misgaat, bellen we tante Ria.";
    c.contact_person = p_aunt;
    c.bottom_lines = "De kinderen zijn veilig thuis.";
    c.answers = "Ja, er is elke dag iemand bereikbaar.";
    c.responsible_professional = p_professional;
    return c;
  }
};

AgreementInput MakeAgreement(const Bytes& owner, const std::string& action, int64_t due,
                             const Bytes& checker = {}) {
  AgreementInput in;
  in.owner = owner;
  in.action = action;
  in.due_ms = due;
  in.checker = checker;
  in.life_domain = "finances";
  return in;
}

domain::Agreement Get(Device& d, const Bytes& cid, const Bytes& id) {
  auto a = Plan(*d, cid).GetAgreement(id);
  REQUIRE(a.ok());
  return a.value();
}

// A call that must fail with `key`, have a Dutch text, and change nothing on this device.
template <typename Fn>
void RequireRejected(Device& d, const Bytes& cid, const std::string& key, Fn fn) {
  auto before = d->View(cid);
  REQUIRE(before.ok());
  Status s = fn();
  CHECK(s.message() == key);
  CHECK_FALSE(s.ok());
  CHECK(HasUserText(key));
  CHECK(UserText(s) != key);
  auto after = d->View(cid);
  REQUIRE(after.ok());
  CHECK(MessageDifferencer::Equals(before.value(), after.value()));
}

template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace

TEST_CASE("a plan is drafted, accepted, followed up offline and checked at six weeks", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan aunt_plan(*k.aunt, cid);

  // Agreements first (anyone may propose), then the network drafts and releases the plan.
  auto a_aunt = aunt_plan.AddAgreement(
      MakeAgreement(k.p_aunt, "Boodschappen doen", kJan31 + 7 * kDayMs, k.p_coordinator));
  auto a_uncle =
      aunt_plan.AddAgreement(MakeAgreement(k.p_uncle, "Post openen met Sam", kJan31 + 14 * kDayMs));
  auto a_prof = aunt_plan.AddAgreement(
      MakeAgreement(k.p_professional, "Aanmelden bij schuldhulp", kJan31 + 10 * kDayMs));
  AgreementInput weekly = MakeAgreement(k.p_neighbour, "Samen wandelen", 0);
  weekly.recurrence = "elke zaterdag";
  auto a_neighbour = aunt_plan.AddAgreement(weekly);
  REQUIRE(a_aunt.ok());
  REQUIRE(a_uncle.ok());
  REQUIRE(a_prof.ok());
  REQUIRE(a_neighbour.ok());

  // Private time: the draft lives in the network's own scope, without professionals and the
  // coordinator.
  auto network = aunt_plan.NetworkScope();
  REQUIRE(network.ok());
  CHECK(*network != 0);
  PlanContent draft_content = k.Content();
  draft_content.contingency.clear();  // a draft may still be incomplete
  auto draft = aunt_plan.CreateDraft(*network, draft_content);
  REQUIRE(draft.ok());
  k.SyncAll();
  CHECK(*Plan(*k.uncle, cid).NetworkScope() == *network);  // reused, not made again
  CHECK(Plan(*k.coordinator, cid).NetworkScope().status().message() == "plan.network_only");
  CHECK(Plan(*k.professional, cid).NetworkScope().status().message() == "plan.network_only");
  CHECK(k.uncle->View(cid)->entities().count(Hex(*draft)) == 1);
  CHECK(k.coordinator->View(cid)->entities().count(Hex(*draft)) == 0);
  for (Device* d : {&k.coordinator, &k.professional}) {
    CHECK(k.Confirmed(*d).entities().count(Hex(*draft)) == 0);
    CHECK(Plan(**d, cid).Draft(*draft).status().code() == StatusCode::kNotFound);
  }
  for (Device* d : {&k.resident, &k.aunt, &k.uncle, &k.neighbour, &k.mentor}) {
    CHECK(k.Confirmed(*d).entities().count(Hex(*draft)) == 1);
  }
  Plan uncle_plan(*k.uncle, cid);
  REQUIRE(uncle_plan.UpdateDraft(*draft, k.Content()).ok());
  k.SyncAll();
  REQUIRE(aunt_plan.Draft(*draft)->contingency == k.Content().contingency);
  // The network lists its draft, last written by the uncle; those outside list none.
  auto drafts = aunt_plan.Drafts();
  REQUIRE(drafts.ok());
  REQUIRE(drafts->size() == 1);
  CHECK(drafts->at(0).draft_id == *draft);
  CHECK(drafts->at(0).scope_id == *network);
  CHECK(drafts->at(0).last_author_account_id == k.uncle.account_id());
  CHECK(drafts->at(0).content.ik_wil == k.Content().ik_wil);
  for (Device* d : {&k.coordinator, &k.professional}) CHECK(Plan(**d, cid).Drafts()->empty());
  k.ReleasePrivateTime(k.OpenPrivateTime(*network));
  auto version = aunt_plan.Release(*draft);
  REQUIRE(version.ok());
  k.SyncAll();

  // Every device reads the same version with the same hash, carrying the four agreements.
  auto v1_res = Plan(*k.coordinator, cid).Current();
  REQUIRE(v1_res.ok());
  REQUIRE(v1_res->has_value());
  const PlanVersion v1 = **v1_res;
  CHECK(v1.number == 1);
  CHECK(v1.agreements.size() == 4);
  CHECK(v1.hash.size() == crypto::kHashBytes);
  for (Device* d : k.all()) CHECK((*Plan(**d, cid).Current())->hash == v1.hash);

  // The chair accepts; with bottom lines the plan counts only after the professional decides.
  Plan resident_plan(*k.resident, cid);
  REQUIRE(resident_plan.Accept(*version, kJan31).ok());
  k.SyncAll();
  Acceptance acc = *Plan(*k.coordinator, cid).AcceptanceOf(*version);
  CHECK(acc.chair_accepted);
  CHECK(acc.needs_professional);
  CHECK_FALSE(acc.accepted);
  Plan prof_plan(*k.professional, cid);
  REQUIRE(prof_plan
              .RecordProfessionalDecision(*version, k.p_professional,
                                          Decision::kAcceptWithConditions,
                                          "Elke week contact met het wijkteam.", kJan31 + kHour)
              .ok());
  k.SyncAll();
  for (Device* d : k.all()) {
    acc = *Plan(**d, cid).AcceptanceOf(*version);
    CHECK(acc.accepted);
    CHECK(acc.professional == Decision::kAcceptWithConditions);
    CHECK(acc.review_at_ms == kJan31 + kHour + 42 * kDayMs);
    CHECK(acc.checkin_at_ms == kJan31 + kHour + 28 * kDayMs);
  }

  // Owners accept their agreements; the neighbour was absent, so theirs stays proposed.
  REQUIRE(aunt_plan.AcceptAgreement(*a_aunt).ok());
  REQUIRE(uncle_plan.AcceptAgreement(*a_uncle).ok());
  REQUIRE(prof_plan.AcceptAgreement(*a_prof).ok());
  k.SyncAll();
  for (Device* d : k.readers()) {
    CHECK(Get(*d, cid, *a_aunt).status == AgreementStatus::kAccepted);
    CHECK(Get(*d, cid, *a_prof).accepted);
    CHECK(Get(*d, cid, *a_neighbour).status == AgreementStatus::kProposed);
  }
  CHECK(Get(k.professional, cid, *a_prof).accepted);

  // Professionals see their own agreements and the summary, unless the chair grants more.
  // The others are sealed to a scope without them: their device never has them.
  auto prof_list = prof_plan.Agreements();
  REQUIRE(prof_list.ok());
  CHECK(prof_list->size() == 1);
  CHECK(k.Confirmed(k.professional).entities().count(Hex(*a_aunt)) == 0);
  CHECK((*prof_plan.CurrentForMe())->content.life_domains.empty());
  CHECK(aunt_plan.Agreements()->size() == 4);
  REQUIRE(resident_plan.GrantProfessionalsFullView(true).ok());
  k.SyncAll();
  // The details of the version they accepted stay sealed to the network: the grant opens what
  // comes after it.
  const PlanVersion prof_v1 = **prof_plan.Current();
  CHECK_FALSE(prof_v1.details_readable);
  CHECK(prof_v1.content.life_domains.empty());
  CHECK(prof_v1.hash == v1.hash);
  CHECK(v1.details_readable);
  CHECK(v1.content.life_domains.size() == 2);
  auto after_grant =
      Plan(*k.coordinator, cid)
          .AddAgreement(MakeAgreement(k.p_neighbour, "Gras maaien", kJan31 + 5 * kDayMs));
  REQUIRE(after_grant.ok());
  k.SyncAll();
  CHECK(prof_plan.Agreements()->size() == 2);
  REQUIRE(k.coordinator->DeleteEntity(cid, *after_grant).ok());
  k.SyncAll();
  CHECK(prof_plan.Agreements()->size() == 1);

  // Offline, on different devices: statuses change, two of them concurrently on one agreement.
  const uint64_t before_offline = k.Confirmed(k.resident).seq();
  k.server.Stop();
  REQUIRE(aunt_plan.UpdateStatus(*a_aunt, AgreementStatus::kDone).ok());
  Plan coordinator_plan(*k.coordinator, cid);
  REQUIRE(coordinator_plan.UpdateStatus(*a_aunt, AgreementStatus::kPartly).ok());
  REQUIRE(uncle_plan
              .UpdateStatus(*a_uncle, AgreementStatus::kBlocked,
                            Obstacle{"De brieven liggen bij de bewindvoerder.", k.p_coordinator,
                                     kJan31 + 30 * kDayMs})
              .ok());
  REQUIRE(Plan(*k.neighbour, cid).AcceptAgreement(*a_neighbour).ok());
  k.server.Restart();
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    const domain::Agreement aunt_a = Get(*d, cid, *a_aunt);
    // Both offline values survive: one in the field, the other in a visible conflict.
    REQUIRE(aunt_a.conflicts.size() == 1);
    std::vector<std::string> values = {aunt_a.conflicts[0].kept_value().text(),
                                       aunt_a.conflicts[0].other_value().text()};
    std::sort(values.begin(), values.end());
    CHECK(values == std::vector<std::string>{"done", "partly"});
    const domain::Agreement uncle_a = Get(*d, cid, *a_uncle);
    CHECK(uncle_a.status == AgreementStatus::kBlocked);
    REQUIRE(uncle_a.obstacle.has_value());
    CHECK(uncle_a.obstacle->owner == k.p_coordinator);
    CHECK(Get(*d, cid, *a_neighbour).status == AgreementStatus::kAccepted);
  }
  // "Since I last looked": the offline edits, and nothing older.
  auto changes = FollowUp(*k.resident, cid).ChangedSince(before_offline);
  REQUIRE(changes.ok());
  std::vector<Bytes> changed_ids;
  for (const Change& c : *changes) changed_ids.push_back(c.entity_id);
  std::sort(changed_ids.begin(), changed_ids.end());
  std::vector<Bytes> expected = {*a_aunt, *a_uncle, *a_neighbour};
  std::sort(expected.begin(), expected.end());
  CHECK(changed_ids == expected);

  // The coordinator settles the conflict with both values in view.
  REQUIRE(coordinator_plan.UpdateStatus(*a_aunt, AgreementStatus::kDone).ok());
  // An edit to an accepted agreement visibly invalidates its acceptance on every device.
  domain::Agreement prof_a = Get(k.coordinator, cid, *a_prof);
  AgreementInput changed = prof_a.input;
  changed.due_ms += 7 * kDayMs;
  REQUIRE(coordinator_plan.EditAgreement(*a_prof, changed).ok());
  k.SyncAll();
  for (Device* d : k.readers()) {
    const domain::Agreement a = Get(*d, cid, *a_prof);
    CHECK_FALSE(a.accepted);
    CHECK(a.acceptance_stale);
    CHECK(a.status == AgreementStatus::kProposed);
    CHECK(Get(*d, cid, *a_aunt).conflicts.empty());
    CHECK(Get(*d, cid, *a_aunt).status == AgreementStatus::kDone);
  }

  // Follow-up lists.
  FollowUp coordinator_follow(*k.coordinator, cid);
  auto overdue = coordinator_follow.Overdue(kJan31 + 20 * kDayMs);
  REQUIRE(overdue.ok());
  REQUIRE(overdue->size() == 1);  // the professional's intake (moved to day 17); not done yet
  CHECK(overdue->front().agreement_id == *a_prof);
  auto mine = FollowUp(*k.uncle, cid).MyAgreements();
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 1);
  CHECK(mine->front().agreement_id == *a_uncle);
  auto upcoming = coordinator_follow.UpcomingChecks(kJan31 + 30 * kDayMs);
  REQUIRE(upcoming.ok());
  REQUIRE(upcoming->size() == 2);
  CHECK(upcoming->at(0).kind == UpcomingCheck::Kind::kCheckIn);
  CHECK(upcoming->at(0).overdue);
  CHECK(upcoming->at(1).kind == UpcomingCheck::Kind::kSixWeekCheck);
  CHECK_FALSE(upcoming->at(1).overdue);
  REQUIRE(coordinator_follow.RecordCheckIn(kJan31 + 29 * kDayMs, "Gaat goed.").ok());
  CHECK(coordinator_follow.UpcomingChecks(kJan31 + 30 * kDayMs)->size() == 1);

  // The six-week check: every agreement assessed; the outcome is to continue.
  SixWeekCheckInput check;
  check.at_ms = kJan31 + 43 * kDayMs;
  check.outcome = CheckOutcome::kContinue;
  check.assessments = {{*a_aunt, AgreementStatus::kDone, std::nullopt},
                       {*a_uncle, AgreementStatus::kBlocked,
                        Obstacle{"Nog geen afspraak met de bewindvoerder.", k.p_coordinator,
                                 check.at_ms + 14 * kDayMs}},
                       {*a_prof, AgreementStatus::kPartly, std::nullopt},
                       {*a_neighbour, AgreementStatus::kDone, std::nullopt}};
  REQUIRE(coordinator_follow.RecordSixWeekCheck(check).ok());
  REQUIRE(coordinator_follow.RecordWellBeing(Moment::kIntake, 4, kJan31).ok());
  REQUIRE(coordinator_follow.RecordWellBeing(Moment::kReview, 7, check.at_ms).ok());
  REQUIRE(coordinator_follow.AddCostItem(Moment::kIntake, "Schuldhulp", 45000).ok());
  REQUIRE(coordinator_follow.AddCostItem(Moment::kIntake, "Thuiszorg", 30000).ok());
  REQUIRE(coordinator_follow.AddCostItem(Moment::kReview, "Schuldhulp", 20000).ok());
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    FollowUp f(**d, cid);
    auto latest = f.LatestCheck();
    REQUIRE(latest.ok());
    REQUIRE(latest->has_value());
    CHECK((*latest)->assessments.size() == 4);
    CHECK((*latest)->version_id == *version);
    CHECK(Get(*d, cid, *a_prof).status == AgreementStatus::kPartly);
    CHECK(Get(*d, cid, *a_neighbour).status == AgreementStatus::kDone);
    const MicroAnalysis micro = *f.Micro();
    CHECK(micro.wellbeing_delta == 3);
    CHECK(micro.cost_before_cents == 75000);
    CHECK(micro.cost_delta_cents == -55000);
    CHECK(f.UpcomingChecks(check.at_ms)->empty());
  }
  // The professional's device holds the assessment of their own agreement only.
  auto prof_check = FollowUp(*k.professional, cid).LatestCheck();
  REQUIRE(prof_check.ok());
  REQUIRE(prof_check->has_value());
  REQUIRE((*prof_check)->assessments.size() == 1);
  CHECK((*prof_check)->assessments[0].agreement_id == *a_prof);
  const CaseFigures figures = ComputeCaseFigures(k.Confirmed(k.neighbour));
  CHECK(figures.plan_accepted);
  CHECK(figures.agreements_assessed == 4);
  CHECK(figures.agreements_done == 2);
  CHECK(figures.wellbeing_before == 4);
  CHECK(figures.wellbeing_after == 7);
  CHECK(figures.cost_before_cents == 75000);
  CHECK(figures.cost_after_cents == 20000);
  // No referral or meeting in this circle: representable, and left out of the lead time.
  // (tests/integration/domain_exports_test.cpp drives whole cases through organising too.)
  CHECK_FALSE(figures.meeting_held);
  CHECK_FALSE(figures.referral_utc_ms.has_value());

  // A new version after the check: the version number goes up and the old acceptance does not
  // carry over.
  PlanContent adjusted = k.Content();
  adjusted.ik_heb_nodig += " En een bewindvoerder.";
  auto version2 = coordinator_plan.Publish(adjusted);
  REQUIRE(version2.ok());
  k.SyncAll();
  const PlanVersion v2 = **Plan(*k.mentor, cid).Current();
  CHECK(v2.number == 2);
  CHECK((*prof_plan.CurrentForMe())->content.life_domains.size() == 2);
  CHECK(v2.hash != v1.hash);
  CHECK_FALSE(Plan(*k.mentor, cid).AcceptanceOf(*version2)->accepted);
  CHECK(ComputeCaseFigures(k.Confirmed(k.mentor)).plan_accepted);

  // The chair withdraws the grant: the professional reads every version as the summary, the
  // earlier ones as the current one (the details written under the grant are on their device).
  REQUIRE(resident_plan.GrantProfessionalsFullView(false).ok());
  k.SyncAll();
  CHECK((*prof_plan.CurrentForMe())->content.life_domains.empty());
  auto prof_versions = prof_plan.Versions();
  REQUIRE(prof_versions.ok());
  REQUIRE(prof_versions->size() == 2);
  for (const PlanVersion& v : *prof_versions) CHECK(v.content.life_domains.empty());
  CHECK(Plan(*k.mentor, cid).Versions()->back().content.life_domains.size() == 2);
  k.RequireConverged();
}

TEST_CASE("someone who left the case is given no agreement, as someone out of the circle",
          "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  // The neighbour leaves the case (kring case leave); the circle still lists his person.
  REQUIRE(k.neighbour->LeaveCase(cid).ok());
  k.SyncAll();
  Plan coordinator_plan(*k.coordinator, cid);
  RequireRejected(k.coordinator, cid, "agreement.owner_left", [&] {
    return StatusOf(coordinator_plan.AddAgreement(MakeAgreement(k.p_neighbour, "Post", kJan31)));
  });
  AgreementInput checked = MakeAgreement(k.p_aunt, "Post", kJan31);
  checked.checker = k.p_neighbour;
  RequireRejected(k.coordinator, cid, "agreement.checker_left",
                  [&] { return StatusOf(coordinator_plan.AddAgreement(checked)); });
  // Someone still in the case is given one as before.
  REQUIRE(coordinator_plan.AddAgreement(MakeAgreement(k.p_aunt, "Post", kJan31)).ok());
}

TEST_CASE("invalid plan input is rejected with its key and changes nothing", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan coordinator_plan(*k.coordinator, cid);
  Plan aunt_plan(*k.aunt, cid);
  // The chair makes versions at any time (a relative only in private time).
  Plan resident_plan(*k.resident, cid);

  PlanContent c = k.Content();
  c.contingency.clear();
  RequireRejected(k.resident, cid, "plan.contingency_missing",
                  [&] { return StatusOf(resident_plan.Publish(c)); });
  c = k.Content();
  c.contact_person.clear();
  RequireRejected(k.resident, cid, "plan.contact_missing",
                  [&] { return StatusOf(resident_plan.Publish(c)); });
  c = k.Content();
  c.contact_person = crypto::RandomBytes(16);
  RequireRejected(k.resident, cid, "plan.contact_unknown",
                  [&] { return StatusOf(resident_plan.Publish(c)); });
  c = k.Content();
  c.responsible_professional.clear();
  RequireRejected(k.resident, cid, "plan.professional_missing",
                  [&] { return StatusOf(resident_plan.Publish(c)); });
  c = k.Content();
  c.responsible_professional = k.p_uncle;
  RequireRejected(k.resident, cid, "plan.professional_unknown",
                  [&] { return StatusOf(resident_plan.Publish(c)); });
  c = k.Content();
  c.life_domains["tuin"] = "Gras maaien";
  RequireRejected(k.aunt, cid, "plan.unknown_life_domain",
                  [&] { return StatusOf(aunt_plan.CreateDraft(0, c)); });
  c = k.Content();
  c.ik_wil = std::string(kMaxPlanTextBytes + 1, 'x');
  RequireRejected(k.aunt, cid, "plan.text_too_long",
                  [&] { return StatusOf(aunt_plan.CreateDraft(0, c)); });
  c = k.Content();
  c.review_days = 0;
  RequireRejected(k.resident, cid, "plan.review_days_invalid",
                  [&] { return StatusOf(resident_plan.Publish(c)); });

  RequireRejected(k.aunt, cid, "agreement.owner_missing", [&] {
    return StatusOf(aunt_plan.AddAgreement(MakeAgreement({}, "Iets", kJan31)));
  });
  RequireRejected(k.aunt, cid, "agreement.action_missing", [&] {
    return StatusOf(aunt_plan.AddAgreement(MakeAgreement(k.p_aunt, "", kJan31)));
  });
  // Only spaces and a newline say nothing either.
  RequireRejected(k.aunt, cid, "agreement.action_missing", [&] {
    return StatusOf(aunt_plan.AddAgreement(MakeAgreement(k.p_aunt, "  \n ", kJan31)));
  });
  RequireRejected(k.aunt, cid, "agreement.when_missing", [&] {
    return StatusOf(aunt_plan.AddAgreement(MakeAgreement(k.p_aunt, "Iets", 0)));
  });
  RequireRejected(k.aunt, cid, "agreement.checker_unknown", [&] {
    return StatusOf(
        aunt_plan.AddAgreement(MakeAgreement(k.p_aunt, "Iets", kJan31, crypto::RandomBytes(16))));
  });

  // Set up a released, accepted plan and agreements for the rest.
  auto version = coordinator_plan.Publish(k.Content());
  REQUIRE(version.ok());
  auto a_aunt = aunt_plan.AddAgreement(MakeAgreement(k.p_aunt, "Boodschappen doen", kJan31));
  auto a_grandma = aunt_plan.AddAgreement(MakeAgreement(k.p_grandma, "Soep koken", kJan31));
  REQUIRE(a_aunt.ok());
  REQUIRE(a_grandma.ok());
  k.SyncAll();

  Plan uncle_plan(*k.uncle, cid);
  RequireRejected(k.uncle, cid, "plan.only_chair_accepts",
                  [&] { return uncle_plan.Accept(*version, kJan31); });
  RequireRejected(k.uncle, cid, "plan.not_professional", [&] {
    return uncle_plan.RecordProfessionalDecision(*version, k.p_professional, Decision::kAccept, "",
                                                 kJan31);
  });
  Plan prof_plan(*k.professional, cid);
  RequireRejected(k.professional, cid, "plan.reason_missing", [&] {
    return prof_plan.RecordProfessionalDecision(*version, k.p_professional, Decision::kReject, "",
                                                kJan31);
  });
  RequireRejected(k.uncle, cid, "agreement.not_owner",
                  [&] { return uncle_plan.AcceptAgreement(*a_aunt); });
  // The aunt made her agreement: the uncle is told who may change it.
  RequireRejected(k.uncle, cid, "rule.agreement_editor", [&] {
    return uncle_plan.EditAgreement(*a_aunt, MakeAgreement(k.p_aunt, "Boodschappen", kJan31));
  });
  RequireRejected(k.uncle, cid, "rule.chair_only",
                  [&] { return uncle_plan.GrantProfessionalsFullView(true); });
  // Only the coordinator speaks for someone without the app.
  RequireRejected(k.uncle, cid, "agreement.not_owner",
                  [&] { return uncle_plan.AcceptAgreement(*a_grandma); });
  RequireRejected(k.aunt, cid, "agreement.obstacle_missing",
                  [&] { return aunt_plan.UpdateStatus(*a_aunt, AgreementStatus::kBlocked); });
  RequireRejected(k.aunt, cid, "agreement.status_invalid",
                  [&] { return aunt_plan.UpdateStatus(*a_aunt, AgreementStatus::kAccepted); });
  // The neighbour neither owns nor checks the aunt's agreement.
  RequireRejected(k.neighbour, cid, "rule.agreement_outcome", [&] {
    return Plan(*k.neighbour, cid).UpdateStatus(*a_aunt, AgreementStatus::kDone);
  });
  FollowUp aunt_follow(*k.aunt, cid);
  FollowUp coordinator_follow(*k.coordinator, cid);
  RequireRejected(k.coordinator, cid, "micro.score_out_of_range",
                  [&] { return coordinator_follow.RecordWellBeing(Moment::kIntake, 11, kJan31); });
  RequireRejected(k.coordinator, cid, "micro.cost_invalid",
                  [&] { return coordinator_follow.AddCostItem(Moment::kIntake, "Thuiszorg", -5); });
  RequireRejected(k.coordinator, cid, "micro.service_missing",
                  [&] { return coordinator_follow.AddCostItem(Moment::kIntake, "", 100); });
  RequireRejected(k.aunt, cid, "refused.managers_only",
                  [&] { return aunt_follow.RecordWellBeing(Moment::kIntake, 5, kJan31); });
  RequireRejected(k.coordinator, cid, "followup.unknown_agreement", [&] {
    SixWeekCheckInput in;
    in.assessments = {{crypto::RandomBytes(16), AgreementStatus::kDone, std::nullopt}};
    return StatusOf(coordinator_follow.RecordSixWeekCheck(in));
  });
  RequireRejected(k.coordinator, cid, "followup.duplicate_assessment", [&] {
    SixWeekCheckInput in;
    in.assessments = {{*a_aunt, AgreementStatus::kDone, std::nullopt},
                      {*a_aunt, AgreementStatus::kPartly, std::nullopt}};
    return StatusOf(coordinator_follow.RecordSixWeekCheck(in));
  });
  FollowUp resident_follow(*k.resident, cid);
  RequireRejected(k.resident, cid, "mentor.consent_missing", [&] {
    MentorInput in{k.p_resident, k.p_mentor, false, {}, 0, kJan31};
    return StatusOf(resident_follow.DesignateMentor(in));
  });
  RequireRejected(k.resident, cid, "mentor.same_person", [&] {
    MentorInput in{k.p_resident, k.p_resident, true, k.p_uncle, 0, kJan31};
    return StatusOf(resident_follow.DesignateMentor(in));
  });
  // Someone else cannot designate the young person's mentor.
  RequireRejected(k.aunt, cid, "rule.mentor_designate", [&] {
    MentorInput in{k.p_resident, k.p_mentor, true, k.p_uncle, 0, kJan31};
    return StatusOf(aunt_follow.DesignateMentor(in));
  });
  k.SyncAll();
  k.RequireConverged();
}

TEST_CASE("forbidden plan edits sent raw have no effect on any device", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan coordinator_plan(*k.coordinator, cid);
  auto version = coordinator_plan.Publish(k.Content());
  REQUIRE(version.ok());
  auto a_aunt = coordinator_plan.AddAgreement(MakeAgreement(k.p_aunt, "Boodschappen doen", kJan31));
  REQUIRE(a_aunt.ok());
  k.SyncAll();
  const Bytes hash = (*Plan(*k.uncle, cid).Current())->hash;
  const domain::Agreement before = Get(k.uncle, cid, *a_aunt);

  // A member accepts someone else's agreement.
  REQUIRE(k.uncle
              ->Submit(cid, {SetMutation(*a_aunt, "accepted_hash", Blob(before.content_hash))},
                       *k.uncle->ScopeOf(cid, *a_aunt))
              .ok());
  // A member (not the chair) accepts the plan with the right hash.
  const Bytes fake_acceptance = crypto::RandomBytes(16);
  REQUIRE(k.aunt
              ->Submit(cid, {CreateMutation(fake_acceptance, "plan_acceptance"),
                             SetMutation(fake_acceptance, "version_id", Blob(*version)),
                             SetMutation(fake_acceptance, "hash", Blob(hash)),
                             SetMutation(fake_acceptance, "accepted_at_ms", Text("x"))})
              .ok());
  // The coordinator records a "professional" decision.
  const Bytes fake_decision = crypto::RandomBytes(16);
  REQUIRE(k.coordinator
              ->Submit(cid, {CreateMutation(fake_decision, "plan_professional_decision"),
                             SetMutation(fake_decision, "version_id", Blob(*version)),
                             SetMutation(fake_decision, "hash", Blob(hash)),
                             SetMutation(fake_decision, "person", Blob(k.p_professional)),
                             SetMutation(fake_decision, "decision", Text("accept"))})
              .ok());
  // The professional decides for another professional's person record... or rather for a
  // person that is not theirs.
  const Bytes wrong_person = crypto::RandomBytes(16);
  REQUIRE(k.professional
              ->Submit(cid, {CreateMutation(wrong_person, "plan_professional_decision"),
                             SetMutation(wrong_person, "version_id", Blob(*version)),
                             SetMutation(wrong_person, "hash", Blob(hash)),
                             SetMutation(wrong_person, "person", Blob(k.p_uncle))})
              .ok());
  // A released version is rewritten afterwards.
  REQUIRE(k.aunt
              ->Submit(cid, {SetMutation(*version, "contingency", Text("Niets."))},
                       *k.aunt->ScopeOf(cid, *version))
              .ok());
  // The owner blocks without an obstacle.
  REQUIRE(k.aunt
              ->Submit(cid, {SetMutation(*a_aunt, "outcome", Text("blocked"))},
                       *k.aunt->ScopeOf(cid, *a_aunt))
              .ok());
  // A member who is neither owner nor checker marks it done; another deletes it.
  REQUIRE(k.neighbour
              ->Submit(cid, {SetMutation(*a_aunt, "outcome", Text("done"))},
                       *k.neighbour->ScopeOf(cid, *a_aunt))
              .ok());
  v1::Mutation del;
  del.mutable_delete_entity()->set_entity_id(ToString(*a_aunt));
  REQUIRE(k.neighbour->Submit(cid, {del}, *k.neighbour->ScopeOf(cid, *a_aunt)).ok());
  // The chair accepts with a hash that is not the version's.
  const Bytes wrong_hash = crypto::RandomBytes(16);
  REQUIRE(k.resident
              ->Submit(cid, {CreateMutation(wrong_hash, "plan_acceptance"),
                             SetMutation(wrong_hash, "version_id", Blob(*version)),
                             SetMutation(wrong_hash, "hash", Blob(crypto::RandomBytes(32)))})
              .ok());
  // A well-being score out of range, written by the coordinator raw.
  const Bytes bad_score = crypto::RandomBytes(16);
  v1::Value eleven;
  eleven.set_integer(11);
  REQUIRE(k.coordinator
              ->Submit(cid, {CreateMutation(bad_score, "micro_wellbeing"),
                             SetMutation(bad_score, "moment", Text("intake")),
                             SetMutation(bad_score, "score", eleven)})
              .ok());
  k.SyncAll();
  k.RequireConverged();

  for (Device* d : k.readers()) {
    const v1::CaseState s = k.Confirmed(*d);
    const domain::Agreement a = Get(*d, cid, *a_aunt);
    CHECK(a.accepted_hash.empty());
    CHECK(a.status == AgreementStatus::kProposed);
    CHECK(s.entities().count(Hex(fake_acceptance)) == 0);
    CHECK(s.entities().count(Hex(fake_decision)) == 0);
    CHECK(s.entities().at(Hex(wrong_person)).fields().count("person") == 0);
    CHECK(s.entities().at(Hex(wrong_hash)).fields().count("hash") == 0);
    CHECK(s.entities().at(Hex(bad_score)).fields().count("score") == 0);
    CHECK((*Plan(**d, cid).Current())->content.contingency == k.Content().contingency);
    CHECK((*Plan(**d, cid).Current())->hash == hash);
    CHECK_FALSE(Plan(**d, cid).AcceptanceOf(*version)->chair_accepted);
    CHECK(Plan(**d, cid).AcceptanceOf(*version)->professional == Decision::kNone);
  }
  // The rightful edits still work afterwards.
  REQUIRE(Plan(*k.aunt, cid).AcceptAgreement(*a_aunt).ok());
  REQUIRE(Plan(*k.resident, cid).Accept(*version, kJan31).ok());
  k.SyncAll();
  for (Device* d : k.readers()) {
    CHECK(Get(*d, cid, *a_aunt).accepted);
    CHECK(Plan(**d, cid).AcceptanceOf(*version)->chair_accepted);
  }
}

// The plan is the resident's: a relative outside private time cannot replace it with a version
// of their own words, through the library or a raw op (DOMAIN step 4).
TEST_CASE("a plan version is made by the chair, a coordinator, or the network in private time",
          "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto first = Plan(*k.resident, cid).Publish(k.Content());
  REQUIRE(first.ok());
  k.SyncAll();

  PlanContent theirs = k.Content();
  theirs.ik_wil = "Ik wil dat mama beslist.";
  Plan aunt_plan(*k.aunt, cid);
  RequireRejected(k.aunt, cid, "rule.plan_version",
                  [&] { return StatusOf(aunt_plan.Publish(theirs)); });
  Plan professional_plan(*k.professional, cid);
  RequireRejected(k.professional, cid, "rule.plan_version",
                  [&] { return StatusOf(professional_plan.Publish(theirs)); });

  // The same, sent raw: a version numbered after the resident's, and its details.
  const Bytes raw_details = crypto::RandomBytes(crypto::kIdBytes);
  const Bytes raw_version = crypto::RandomBytes(crypto::kIdBytes);
  v1::Value two;
  two.set_integer(2);
  REQUIRE(k.aunt
              ->Submit(cid, {CreateMutation(raw_details, "plan_details"),
                             SetMutation(raw_details, "domain_housing", Text("Mama beslist."))})
              .ok());
  REQUIRE(k.aunt
              ->Submit(cid, {CreateMutation(raw_version, "plan_version"),
                             SetMutation(raw_version, "number", two),
                             SetMutation(raw_version, "wil", Text(theirs.ik_wil)),
                             SetMutation(raw_version, "contingency", Text(theirs.contingency)),
                             SetMutation(raw_version, "contact_person", Blob(k.p_aunt)),
                             SetMutation(raw_version, "details_id", Blob(raw_details))})
              .ok());
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    const v1::CaseState s = k.Confirmed(*d);
    CHECK(s.entities().count(Hex(raw_version)) == 0);
    CHECK(s.entities().count(Hex(raw_details)) == 0);
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *first);
    CHECK((*current)->content.ik_wil == k.Content().ik_wil);
  }

  // The coordinator may (e.g. after the six-week check); the network in its private time may:
  // that is its release of the draft.
  REQUIRE(Plan(*k.coordinator, cid).Publish(k.Content()).ok());
  auto network = aunt_plan.NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  k.ReleasePrivateTime(k.OpenPrivateTime(*network));
  auto released = aunt_plan.Publish(theirs);
  REQUIRE(released.ok());
  // The professional is not part of the network's private time.
  RequireRejected(k.professional, cid, "rule.plan_version",
                  [&] { return StatusOf(professional_plan.Publish(theirs)); });
  k.SyncAll();
  for (Device* d : k.readers()) {
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *released);
    CHECK((*current)->number == 3);
  }
}

// The network's release ends its private time (DOMAIN step 3): it makes its version after
// `meeting release`, once, and that moves the meeting on. No one of the network replaces the
// released plan afterwards, through the library or a raw op.
TEST_CASE("private time ends with the network plan release", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan aunt_plan(*k.aunt, cid);
  Plan uncle_plan(*k.uncle, cid);
  auto network = aunt_plan.NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);

  // Before the release the network shares what it made first: no version yet.
  RequireRejected(k.aunt, cid, "plan.release_meeting_first",
                  [&] { return StatusOf(aunt_plan.Publish(k.Content())); });

  k.ReleasePrivateTime(meeting);
  auto released = aunt_plan.Publish(k.Content());
  REQUIRE(released.ok());
  k.SyncAll();
  for (Device* d : k.all()) {
    auto m = Organising(**d, cid).GetMeeting(meeting);
    REQUIRE(m.ok());
    CHECK(m->phase == Phase::kPlanPresentation);
  }

  // Private time is over: the network does not replace the released plan.
  PlanContent theirs = k.Content();
  theirs.ik_wil = "Ik wil dat oom beslist.";
  RequireRejected(k.uncle, cid, "plan.network_version_made",
                  [&] { return StatusOf(uncle_plan.Publish(theirs)); });
  RequireRejected(k.aunt, cid, "plan.network_version_made",
                  [&] { return StatusOf(aunt_plan.Publish(theirs)); });
  // Nor by raw ops: moving the meeting back is the organisers' (refused), and a version after
  // the phase moved on is skipped.
  v1::Value two;
  two.set_integer(2);
  const Bytes again = crypto::RandomBytes(crypto::kIdBytes);
  REQUIRE(
      k.uncle
          ->Submit(cid, {SetMutation(meeting, "phase", Text("private_time")),
                         CreateMutation(again, "plan_version"), SetMutation(again, "number", two),
                         SetMutation(again, "wil", Text(theirs.ik_wil))})
          .ok());
  const Bytes third = crypto::RandomBytes(crypto::kIdBytes);
  REQUIRE(
      k.uncle
          ->Submit(cid, {SetMutation(meeting, "phase", Text("plan_presentation")),
                         CreateMutation(third, "plan_version"), SetMutation(third, "number", two)})
          .ok());
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    const v1::CaseState s = k.Confirmed(*d);
    CHECK(s.entities().count(Hex(again)) == 0);
    CHECK(s.entities().count(Hex(third)) == 0);
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *released);
    CHECK(Organising(**d, cid).GetMeeting(meeting)->phase == Phase::kPlanPresentation);
  }
  // The organisers still may (an adjusted plan after the six-week check).
  REQUIRE(Plan(*k.resident, cid).Publish(theirs).ok());
}

// The network may also end its released private time without a version of its own; then the
// chair publishes the plan.
TEST_CASE("the network ends released private time by the phase", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto network = Plan(*k.aunt, cid).NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);
  // Not before the release: private time ends only with it.
  CHECK(Organising(*k.uncle, cid).StartPhase(meeting, Phase::kPlanPresentation).message() ==
        "meeting.draft_not_released");
  k.ReleasePrivateTime(meeting);
  REQUIRE(Organising(*k.uncle, cid).StartPhase(meeting, Phase::kPlanPresentation).ok());
  // Only that step is the network's: the next phase stays the organisers'.
  CHECK(Organising(*k.uncle, cid).StartPhase(meeting, Phase::kAcceptance).message() ==
        "refused.managers_only");
  k.SyncAll();
  // The network still releases its one plan (the phase moved on before it): once.
  Bytes ended;
  auto released = Plan(*k.aunt, cid).Publish(k.Content(), &ended);
  REQUIRE(released.ok());
  CHECK(ended.empty());  // the meeting was moved on already
  k.SyncAll();
  RequireRejected(k.uncle, cid, "plan.network_version_made",
                  [&] { return StatusOf(Plan(*k.uncle, cid).Publish(k.Content())); });
  for (Device* d : k.readers()) {
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *released);
  }
  REQUIRE(Plan(*k.resident, cid).Publish(k.Content()).ok());
}

// The coordinator moves the meeting on to the plan presentation after the network's meeting
// release but before its plan release: the network still releases its plan.
TEST_CASE("the network releases its plan after the organiser moved the phase", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto network = Plan(*k.aunt, cid).NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);
  k.ReleasePrivateTime(meeting);
  REQUIRE(Organising(*k.coordinator, cid).StartPhase(meeting, Phase::kPlanPresentation).ok());
  k.SyncAll();
  auto released = Plan(*k.aunt, cid).Publish(k.Content());
  REQUIRE(released.ok());
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *released);
  }
}

// Two network members release at once: the first to reach kringd makes the network's version;
// the other's has no effect on any device, and its author is told.
TEST_CASE("a second network release at once is refused and told", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto network = Plan(*k.aunt, cid).NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);
  k.ReleasePrivateTime(meeting);
  // The aunt's release reaches kringd while the uncle's is on its way.
  Result<Bytes> aunts = FailedPrecondition("not yet");
  k.uncle_net->before_push = [&](v1::PushRequest&) {
    if (aunts.ok()) return;
    aunts = Plan(*k.aunt, cid).Publish(k.Content());
  };
  PlanContent theirs = k.Content();
  theirs.ik_wil = "Ik wil dat oom beslist.";
  auto uncles = Plan(*k.uncle, cid).Publish(theirs);
  k.uncle_net->before_push = nullptr;
  REQUIRE(aunts.ok());
  CHECK(uncles.status().message() == "plan.network_version_made");
  CHECK(HasUserText("plan.network_version_made"));
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *aunts);
    CHECK(Organising(**d, cid).GetMeeting(meeting)->phase == Phase::kPlanPresentation);
  }
}

// The same race with the uncle offline: his release is queued, lands after the aunt's and has
// no effect. The sync that brings it back tells him so, with the rule's key and no content.
TEST_CASE("a refused own release is told at the sync", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto network = Plan(*k.aunt, cid).NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);
  k.ReleasePrivateTime(meeting);
  k.uncle_net->fail_pushes = true;
  k.uncle_net->fail_pulls = true;
  PlanContent theirs = k.Content();
  theirs.ik_wil = "Ik wil dat oom beslist.";
  auto uncles = Plan(*k.uncle, cid).Publish(theirs);
  REQUIRE(uncles.ok());  // queued: offline, nothing says otherwise yet
  auto aunts = Plan(*k.aunt, cid).Publish(k.Content());
  REQUIRE(aunts.ok());
  k.uncle_net->fail_pushes = false;
  k.uncle_net->fail_pulls = false;
  auto stats = k.uncle->SyncNow();
  REQUIRE(stats.ok());
  // Both of its ops (the details, then the version) were refused, for the same reason.
  REQUIRE(stats->refused.size() == 2);
  for (const client::RefusedChange& r : stats->refused) {
    CHECK(r.case_id == cid);
    CHECK(r.seq > 0);
    CHECK(r.reason == "plan.network_version_made");
  }
  CHECK(stats->refused[0].seq < stats->refused[1].seq);
  CHECK(HasUserText("plan.network_version_made"));
  CHECK((*Plan(*k.uncle, cid).Current())->version_id == *aunts);
  // Told once: the next sync has nothing new to say, and nobody else's sync says it.
  auto again = k.uncle->SyncNow();
  REQUIRE(again.ok());
  CHECK(again->refused.empty());
  auto aunt_stats = k.aunt->SyncNow();
  REQUIRE(aunt_stats.ok());
  CHECK(aunt_stats->refused.empty());
  k.SyncAll();
  k.RequireConverged();
}

// An op's client_op_id is its author's choice and every member sees it: a raw op that copies
// the network's release's id is not that op. It neither makes a second version nor stamps the
// end of private time again.
TEST_CASE("a copied op id does not replay the network release", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto network = Plan(*k.aunt, cid).NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);
  k.ReleasePrivateTime(meeting);
  auto released = Plan(*k.aunt, cid).Publish(k.Content());
  REQUIRE(released.ok());
  k.SyncAll();
  const v1::Entity before = k.Confirmed(k.uncle).entities().at(Hex(meeting));
  const std::string release_op = before.fields().at("phase").revision();
  const std::string at_field = "phase_plan_presentation_at_ms";

  // The uncle queues a raw op under the aunt's op id, as a crafted client would.
  v1::ContentOp op;
  op.set_version(1);
  const Bytes again = crypto::RandomBytes(crypto::kIdBytes);
  v1::Value later;
  later.set_time_ms(before.fields().at(at_field).value().time_ms() + kHour);
  v1::Value two;
  two.set_integer(2);
  for (v1::Mutation m : {SetMutation(meeting, at_field, later),
                         CreateMutation(again, "plan_version"), SetMutation(again, "number", two),
                         SetMutation(again, "wil", Text("Ik wil dat oom beslist."))}) {
    *op.add_mutations() = std::move(m);
  }
  k.uncle.Close();
  {
    auto store = client::LocalStore::Open(k.uncle.db_path(), k.uncle.storage_key());
    REQUIRE(store.ok());
    REQUIRE((*store)->AddContentIntent(cid, ToBytes(release_op), op).ok());
  }
  k.uncle.Reopen();
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    const v1::CaseState s = k.Confirmed(*d);
    CHECK(s.entities().count(Hex(again)) == 0);
    CHECK(s.entities().at(Hex(meeting)).fields().at(at_field).value().time_ms() ==
          before.fields().at(at_field).value().time_ms());
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *released);
  }
}

// Two versions published from the same view (no sync between them) each get a number of their
// own: numbers follow the order in which versions count, so "version 3" names one version, the
// current one, on every device.
TEST_CASE("versions published from the same view get numbers of their own", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  REQUIRE(Plan(*k.resident, cid).Publish(k.Content()).ok());
  k.SyncAll();
  // Both see version 1 and write "2" as the next number.
  auto by_resident = Plan(*k.resident, cid).Publish(k.Content());
  REQUIRE(by_resident.ok());
  PlanContent other = k.Content();
  other.ik_wil = "Ik wil op tijd mijn huur betalen.";
  auto by_coordinator = Plan(*k.coordinator, cid).Publish(other);
  REQUIRE(by_coordinator.ok());
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    auto versions = Plan(**d, cid).Versions();
    REQUIRE(versions.ok());
    REQUIRE(versions->size() == 3);
    for (size_t i = 0; i < versions->size(); ++i) CHECK((*versions)[i].number == int64_t(i) + 1);
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->number == 3);
    CHECK((*current)->version_id == versions->back().version_id);
  }
}

// The number a version stores is its writer's choice: a network member releasing a version in
// private time could store the highest there is. The log decides which version is current, so
// the chair's next version is the current one again, numbered 3 everywhere.
TEST_CASE("a forged version number does not hold the plan", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto first = Plan(*k.resident, cid).Publish(k.Content());
  REQUIRE(first.ok());
  auto network = Plan(*k.aunt, cid).NetworkScope();
  REQUIRE(network.ok());
  k.SyncAll();
  const Bytes meeting = k.OpenPrivateTime(*network);
  k.ReleasePrivateTime(meeting);
  const Bytes forged = crypto::RandomBytes(crypto::kIdBytes);
  v1::Value highest;
  highest.set_integer(INT64_MAX);
  // As the network's version is written: named in its meeting, in the op that ends private time.
  REQUIRE(k.aunt
              ->Submit(cid, {SetMutation(meeting, "network_version", Blob(forged)),
                             SetMutation(meeting, "phase", Text("plan_presentation")),
                             CreateMutation(forged, "plan_version"),
                             SetMutation(forged, "number", highest),
                             SetMutation(forged, "wil", Text("Ik wil dat mama beslist.")),
                             SetMutation(forged, "contingency", Text("Mama bellen.")),
                             SetMutation(forged, "contact_person", Blob(k.p_aunt))})
              .ok());
  k.SyncAll();
  REQUIRE((*Plan(*k.resident, cid).Current())->version_id == forged);  // the network's release

  auto third = Plan(*k.resident, cid).Publish(k.Content());
  REQUIRE(third.ok());
  k.SyncAll();
  k.RequireConverged();
  for (Device* d : k.readers()) {
    auto current = Plan(**d, cid).Current();
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->version_id == *third);
    CHECK((*current)->number == 3);
    auto versions = Plan(**d, cid).Versions();
    REQUIRE(versions.ok());
    REQUIRE(versions->size() == 3);
    // A version that does not say what its writer saw (as made before it was stored) gives no
    // conflict.
    CHECK((*versions)[1].based_on == -1);
    CHECK((*versions)[1].skipped == 0);
    CHECK(StaleVersionConflicts(k.Confirmed(*d)).empty());
    CHECK((*versions)[0].version_id == *first);
    CHECK((*versions)[1].version_id == forged);
    CHECK((*versions)[1].number == 2);
    CHECK((*versions)[2].version_id == *third);
  }
  // The chair's version stores the place it took, not the forged number plus one.
  const v1::CaseState s = k.Confirmed(k.resident);
  CHECK(s.entities().at(Hex(*third)).fields().at("number").value().integer() == 3);
}

// Everyone read version 3 as "versie 3" (on paper too); versions written from an older view that
// arrive after it go last, so version 3 stays the one everyone read, and `plan accept 3` signs it.
TEST_CASE("a late version takes the next number and changes no other", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  auto v1 = Plan(*k.resident, cid).Publish(k.Content());
  REQUIRE(v1.ok());
  k.SyncAll();
  // The coordinator, offline from here, sees version 1 only and writes two versions.
  PlanContent late = k.Content();
  late.ik_wil = "Ik wil verhuizen.";
  Plan coordinator_plan(*k.coordinator, cid);
  auto late_a = coordinator_plan.Publish(late);
  REQUIRE(late_a.ok());
  late.ik_kan = "Ik kan zelf dozen inpakken.";
  auto late_b = coordinator_plan.Publish(late);
  REQUIRE(late_b.ok());
  CHECK((*coordinator_plan.Current())->version_id == *late_b);  // the last it made is its newest
  CHECK((*coordinator_plan.Current())->number == 3);

  // Meanwhile the chair publishes versions 2 and 3, and the aunt reads them.
  Plan resident_plan(*k.resident, cid);
  auto v2 = resident_plan.Publish(k.Content());
  REQUIRE(v2.ok());
  REQUIRE(k.resident->SyncNow().ok());
  PlanContent third = k.Content();
  third.ik_kan = "Ik kan zelf koken en boodschappen doen.";
  auto v3 = resident_plan.Publish(third);
  REQUIRE(v3.ok());
  REQUIRE(k.resident->SyncNow().ok());
  REQUIRE(k.aunt->SyncNow().ok());
  CHECK((*Plan(*k.aunt, cid).Current())->version_id == *v3);
  CHECK((*Plan(*k.aunt, cid).Current())->number == 3);

  k.SyncAll();
  k.RequireConverged();
  const std::vector<Bytes> order = {*v1, *v2, *v3, *late_a, *late_b};
  for (Device* d : k.readers()) {
    auto versions = Plan(**d, cid).Versions();
    REQUIRE(versions.ok());
    REQUIRE(versions->size() == order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      CHECK((*versions)[i].version_id == order[i]);
      CHECK((*versions)[i].number == int64_t(i) + 1);
    }
    CHECK((*Plan(**d, cid).Current())->version_id == *late_b);
    // Each says which version its writer saw. Both late ones missed versions 2 and 3: the
    // second names the first as its base, but its writer's view was as old.
    const std::vector<int64_t> based_on = {0, 1, 2, 1, 4};
    const std::vector<int64_t> skipped = {0, 0, 0, 3, 3};
    for (size_t i = 0; i < order.size(); ++i) {
      CHECK((*versions)[i].based_on == based_on[i]);
      CHECK((*versions)[i].skipped == skipped[i]);
    }
    // Shown as a conflict on the current version, naming the newest one its writer did not see:
    // where an app lists conflicts and on the version itself.
    auto conflicts = Organising(**d, cid).Conflicts();
    REQUIRE(conflicts.ok());
    REQUIRE(conflicts->size() == 1);
    const v1::Conflict& c = conflicts->front();
    CHECK(c.entity_id() == ToString(*late_b));
    CHECK(c.field() == "based_on");
    CHECK(c.kept_value().integer() == 5);
    CHECK(c.other_value().integer() == 3);
    CHECK(c.kept_author_account_id() == ToString(k.coordinator.account_id()));
    CHECK(c.other_author_account_id() == ToString(k.resident.account_id()));
    CHECK(ShowsAsConflict(c));
    auto of_version = Plan(**d, cid).ConflictsOf(*late_b);
    REQUIRE(of_version.ok());
    CHECK(of_version->size() == 1);
    CHECK(Plan(**d, cid).ConflictsOf(*late_a)->empty());
  }
  // A version made with all of them in view ends the conflict; the late ones keep their mark.
  auto weighed = resident_plan.Publish(third);
  REQUIRE(weighed.ok());
  k.SyncAll();
  for (Device* d : k.readers()) {
    auto conflicts = Organising(**d, cid).Conflicts();
    REQUIRE(conflicts.ok());
    CHECK(conflicts->empty());
    auto versions = Plan(**d, cid).Versions();
    REQUIRE(versions.ok());
    REQUIRE(versions->size() == order.size() + 1);
    CHECK((*versions)[3].skipped == 3);
    CHECK(versions->back().version_id == *weighed);
    CHECK(versions->back().based_on == 5);
    CHECK(versions->back().skipped == 0);
  }
  // Version 3 by its number, as the CLI looks it up, is the one the chair read.
  auto versions = resident_plan.Versions();
  REQUIRE(versions.ok());
  const auto named = std::find_if(versions->begin(), versions->end(),
                                  [](const PlanVersion& v) { return v.number == 3; });
  REQUIRE(named != versions->end());
  CHECK(named->content.ik_kan == third.ik_kan);
  REQUIRE(resident_plan.Accept(named->version_id, kJan31).ok());
  k.SyncAll();
  CHECK(Plan(*k.aunt, cid).AcceptanceOf(*v3)->chair_accepted);
}

// Paper for people without the app: the accepted version, and a word when a newer one waits;
// with none accepted, the newest, marked.
TEST_CASE("a printout shows the latest accepted version", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  PlanContent first = k.Content();
  first.bottom_lines.clear();  // no professional's decision needed
  first.responsible_professional.clear();
  auto v1 = Plan(*k.resident, cid).Publish(first);
  REQUIRE(v1.ok());
  k.SyncAll();
  auto unaccepted = PrintoutFor(k.Confirmed(k.coordinator), k.p_grandma);
  REQUIRE(unaccepted.ok());
  CHECK(unaccepted->plan_version == 1);
  CHECK_FALSE(unaccepted->accepted);
  CHECK(unaccepted->newer_version_waiting == 0);
  CHECK(RenderPlanText(*unaccepted)->find("Let op: dit plan is nog niet aangenomen.") !=
        std::string::npos);

  REQUIRE(Plan(*k.resident, cid).Accept(*v1, kJan31).ok());
  PlanContent second = first;
  second.ik_wil = "Ik wil verhuizen.";
  auto v2 = Plan(*k.coordinator, cid).Publish(second);
  REQUIRE(v2.ok());
  k.SyncAll();
  CHECK((*Plan(*k.aunt, cid).Current())->version_id == *v2);
  CHECK((*Plan(*k.aunt, cid).LatestAccepted())->version_id == *v1);
  auto paper = PrintoutFor(k.Confirmed(k.coordinator), k.p_grandma);
  REQUIRE(paper.ok());
  CHECK(paper->plan_version == 1);
  CHECK(paper->accepted);
  CHECK(paper->newer_version_waiting == 2);
  REQUIRE(paper->i_want.size() == 1);
  CHECK(paper->i_want[0] == first.ik_wil);
  auto html = RenderPlanHtml(*paper);
  REQUIRE(html.ok());
  CHECK(html->find("Er is een nieuwere versie van het plan (versie 2). Die is nog niet "
                   "aangenomen.") != std::string::npos);
  CHECK(html->find("Let op") == std::string::npos);

  REQUIRE(Plan(*k.resident, cid).Accept(*v2, kJan31 + kHour).ok());
  k.SyncAll();
  auto now = PrintoutFor(k.Confirmed(k.coordinator), k.p_grandma);
  REQUIRE(now.ok());
  CHECK(now->plan_version == 2);
  CHECK(now->accepted);
  CHECK(now->newer_version_waiting == 0);
  CHECK(now->i_want[0] == second.ik_wil);
}

// Paper names the version it prints: an agreement added or changed after that version is marked,
// so it does not pass for part of what was accepted.
TEST_CASE("a printout marks agreements not in the printed version", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan coordinator_plan(*k.coordinator, cid);
  auto soup = coordinator_plan.AddAgreement(MakeAgreement(k.p_grandma, "Soep koken", kJan31));
  auto post = coordinator_plan.AddAgreement(MakeAgreement(k.p_uncle, "Post openen", kJan31));
  REQUIRE(soup.ok());
  REQUIRE(post.ok());
  PlanContent content = k.Content();
  content.bottom_lines.clear();  // no professional's decision needed
  content.responsible_professional.clear();
  auto v1 = coordinator_plan.Publish(content);
  REQUIRE(v1.ok());
  k.SyncAll();
  REQUIRE(Plan(*k.resident, cid).Accept(*v1, kJan31).ok());
  // For version 2, still waiting: a new agreement, and the post one changed.
  auto key = coordinator_plan.AddAgreement(
      MakeAgreement(k.p_neighbour, "Reservesleutel bewaren", kJan31 + kHour));
  REQUIRE(key.ok());
  REQUIRE(coordinator_plan
              .EditAgreement(*post, MakeAgreement(k.p_uncle, "Post openen en betalen", kJan31))
              .ok());
  auto v2 = coordinator_plan.Publish(content);
  REQUIRE(v2.ok());
  k.SyncAll();

  auto marked = [](const PrintablePlan& p, const std::string& what) {
    const auto a = std::find_if(p.agreements.begin(), p.agreements.end(),
                                [&](const PrintAgreement& x) { return x.what == what; });
    REQUIRE(a != p.agreements.end());
    return a->not_in_version;
  };
  constexpr std::string_view kNote = "Nieuw of veranderd na deze versie van het plan";
  auto paper = PrintoutFor(k.Confirmed(k.coordinator), k.p_grandma);
  REQUIRE(paper.ok());
  CHECK(paper->plan_version == 1);
  CHECK(paper->accepted);
  CHECK(paper->newer_version_waiting == 2);
  REQUIRE(paper->agreements.size() == 3);
  CHECK_FALSE(marked(*paper, "Soep koken"));
  CHECK(marked(*paper, "Post openen en betalen"));
  CHECK(marked(*paper, "Reservesleutel bewaren"));
  for (auto render : {RenderPlanText, RenderPlanHtml}) {
    auto doc = render(*paper, Language::kDutch);
    REQUIRE(doc.ok());
    const size_t first = doc->find(kNote);
    REQUIRE(first != std::string::npos);
    const size_t second = doc->find(kNote, first + 1);
    CHECK(second != std::string::npos);
    CHECK(doc->find(kNote, second + 1) == std::string::npos);
  }

  // Once version 2 is accepted it is the one printed, and it carries all three as they are.
  REQUIRE(Plan(*k.resident, cid).Accept(*v2, kJan31 + kHour).ok());
  k.SyncAll();
  auto now = PrintoutFor(k.Confirmed(k.coordinator), k.p_grandma);
  REQUIRE(now.ok());
  CHECK(now->plan_version == 2);
  for (const PrintAgreement& a : now->agreements) CHECK_FALSE(a.not_in_version);
  CHECK(RenderPlanText(*now)->find(kNote) == std::string::npos);
}

TEST_CASE("a printout leaves out what is hidden from its reader", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan coordinator_plan(*k.coordinator, cid);
  auto version = coordinator_plan.Publish(k.Content());
  REQUIRE(version.ok());
  k.SyncAll();
  REQUIRE(Plan(*k.resident, cid).Accept(*version, kJan31).ok());
  auto open_a =
      coordinator_plan.AddAgreement(MakeAgreement(k.p_grandma, "Soep koken", kJan31, k.p_aunt));
  // Hidden from the ex-partner (no app) and the uncle (with the app); grandma may see it on
  // paper.
  AgreementInput secret =
      MakeAgreement(k.p_aunt, "Sam helpen verhuizen naar het nieuwe adres", kJan31);
  secret.hidden_from = {k.p_ex, k.p_uncle};
  secret.visible_to = {k.p_grandma};
  auto hidden_a = coordinator_plan.AddAgreement(secret);
  // Hidden from the uncle only: restricted, so left off every paper of someone without the app.
  AgreementInput key = MakeAgreement(k.p_neighbour, "Reservesleutel bewaren", kJan31);
  key.hidden_from = {k.p_uncle};
  auto key_a = coordinator_plan.AddAgreement(key);
  REQUIRE(open_a.ok());
  REQUIRE(hidden_a.ok());
  REQUIRE(key_a.ok());
  k.SyncAll();
  k.RequireConverged();

  // The uncle's device never gets the restricted agreements: one scope serves both.
  const uint32_t scope = *k.coordinator->ScopeOf(cid, *hidden_a);
  CHECK(scope != 0);
  CHECK(*k.coordinator->ScopeOf(cid, *key_a) == scope);
  const v1::CaseState uncle_state = k.Confirmed(k.uncle);
  CHECK(uncle_state.entities().count(Hex(*hidden_a)) == 0);
  CHECK(uncle_state.entities().count(Hex(*key_a)) == 0);
  CHECK(Plan(*k.uncle, cid).Agreements()->size() == 1);

  // An item sealed to a restricted scope by other code, without `visible_to`: never on the
  // paper of someone without the app.
  // Its id starts with the scope id (big-endian), as every entity created in a scope.
  Bytes raw = crypto::RandomBytes(16);
  for (size_t i = 0; i < 4; ++i) raw[i] = static_cast<uint8_t>(scope >> (24 - 8 * i));
  REQUIRE(k.coordinator
              ->Submit(
                  cid,
                  {CreateMutation(raw, "plan_agreement"), SetMutation(raw, "owner", Blob(k.p_aunt)),
                   SetMutation(raw, "action", Text("Kluis openen"))},
                  scope)
              .ok());
  k.SyncAll();

  auto has_action = [](const PrintablePlan& p, const std::string& action) {
    return std::any_of(p.agreements.begin(), p.agreements.end(),
                       [&](const PrintAgreement& a) { return a.what == action; });
  };
  auto printout = [](const v1::CaseState& s, const Bytes& reader) {
    auto p = PrintoutFor(s, reader);
    REQUIRE(p.ok());
    return *p;
  };
  // The uncle's and the professional's devices hold only what they may read; paper from there
  // has no more.
  const PrintablePlan from_uncle = printout(k.Confirmed(k.uncle), k.p_grandma);
  CHECK(from_uncle.agreements.size() == 1);
  CHECK(printout(k.Confirmed(k.professional), k.p_grandma).agreements.empty());
  for (Device* d : {&k.resident, &k.coordinator, &k.aunt, &k.neighbour, &k.mentor}) {
    const v1::CaseState s = k.Confirmed(*d);
    const PrintablePlan ex = printout(s, k.p_ex);
    CHECK(ex.plan_version >= 1);
    CHECK(ex.agreements.size() == 2);
    CHECK(has_action(ex, "Soep koken"));
    CHECK(has_action(ex, key.action));
    CHECK_FALSE(has_action(ex, secret.action));
    const PrintablePlan uncle = printout(s, k.p_uncle);
    CHECK(uncle.agreements.size() == 1);
    CHECK_FALSE(has_action(uncle, secret.action));
    CHECK_FALSE(has_action(uncle, key.action));
    const PrintablePlan grandma = printout(s, k.p_grandma);
    CHECK(grandma.agreements.size() == 3);
    CHECK(has_action(grandma, secret.action));
    CHECK_FALSE(has_action(grandma, "Kluis openen"));
    CHECK(grandma.contingency == k.Content().contingency);
    CHECK(grandma.contact_person_name == "Tante Ria");
    CHECK(grandma.i_want == std::vector<std::string>{k.Content().ik_wil});
    CHECK(grandma.i_can == std::vector<std::string>{k.Content().ik_kan});
    CHECK(grandma.i_need == std::vector<std::string>{k.Content().ik_heb_nodig});
    CHECK(grandma.life_domains.size() == 2);
    CHECK(grandma.bottom_lines == k.Content().bottom_lines);
    CHECK(grandma.answers == k.Content().answers);
    const auto soep = std::find_if(grandma.agreements.begin(), grandma.agreements.end(),
                                   [](const PrintAgreement& a) { return a.what == "Soep koken"; });
    REQUIRE(soep != grandma.agreements.end());
    CHECK(soep->who == "Oma Jo");
    CHECK(soep->checker == "Tante Ria");
    CHECK(soep->status == PrintAgreementStatus::kProposed);
    // People with the app get on paper what their device may read.
    CHECK(printout(s, k.p_aunt).agreements.size() == 4);
  }
  // Someone with the app who could read an agreement cannot be shut out of it afterwards.
  AgreementInput more = Get(k.coordinator, cid, *open_a).input;
  more.hidden_from = {k.p_uncle};
  RequireRejected(k.coordinator, cid, "agreement.restrict_needs_new",
                  [&] { return coordinator_plan.EditAgreement(*open_a, more); });
  // The coordinator accepts for grandma, who has no app; the owner of a restricted agreement
  // accepts it in its scope.
  REQUIRE(coordinator_plan.AcceptAgreement(*open_a).ok());
  REQUIRE(Plan(*k.aunt, cid).AcceptAgreement(*hidden_a).ok());
  k.SyncAll();
  CHECK(Get(k.resident, cid, *open_a).status == AgreementStatus::kAccepted);
  CHECK(Get(k.resident, cid, *hidden_a).status == AgreementStatus::kAccepted);
  k.RequireConverged();
}

TEST_CASE("the young person's mentor: consent, warnings, log and two-monthly evaluations",
          "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  FollowUp resident_follow(*k.resident, cid);
  // A parent as mentor, under 18 (born 2010-06-15): warnings, not errors.
  MentorInput parent{k.p_resident, k.p_uncle, true, k.p_aunt, 1276560000000, kJan31};
  auto warned = resident_follow.DesignateMentor(parent);
  REQUIRE(warned.ok());
  CHECK(warned->warnings == std::vector<std::string>{"mentor.warn_parent", "mentor.warn_under_18"});
  for (const std::string& w : warned->warnings) CHECK(HasUserText(w));
  // The young person chooses again: the football coach, an adult.
  MentorInput coach{k.p_resident, k.p_mentor, true, k.p_aunt, 946684800000, kJan31};
  auto designation = resident_follow.DesignateMentor(coach);
  REQUIRE(designation.ok());
  CHECK(designation->warnings.empty());
  k.SyncAll();

  FollowUp mentor_follow(*k.mentor, cid);
  REQUIRE(mentor_follow
              .LogMentorCheckIn(designation->mentor_id, kJan31 + 7 * kDayMs, "Samen gevoetbald.")
              .ok());
  // Only the mentor (or the coordinator) writes the mentor log.
  RequireRejected(k.aunt, cid, "rule.mentor_only", [&] {
    return FollowUp(*k.aunt, cid).LogMentorCheckIn(designation->mentor_id, kJan31, "x");
  });
  const Bytes raw = crypto::RandomBytes(16);
  REQUIRE(k.aunt
              ->Submit(cid, {CreateMutation(raw, "mentor_checkin"),
                             SetMutation(raw, "mentor_link", Blob(designation->mentor_id))})
              .ok());
  k.SyncAll();
  k.RequireConverged();

  // Evaluations every two calendar months: Jan 31 -> Mar 31 -> May 31.
  CHECK(EvaluationSchedule(kJan31, 2) == std::vector<int64_t>{1774915200000, 1780185600000});
  CHECK(EvaluationSchedule(1767139200000, 1) == std::vector<int64_t>{1772236800000});  // Feb 28
  // The log is the mentor's, the young person's and the coordinator's (P3): everyone sees who
  // the mentor is, only they read what was logged; the others' devices never get its key.
  const std::vector<Device*> log_readers = {&k.resident, &k.coordinator, &k.mentor};
  const std::vector<Device*> kept_out = {&k.aunt, &k.uncle, &k.neighbour, &k.professional};
  for (Device* d : k.all()) {
    auto m = FollowUp(**d, cid).Mentor();
    REQUIRE(m.ok());
    REQUIRE(m->has_value());
    CHECK((*m)->mentor == k.p_mentor);
    CHECK((*m)->parental_consent);
    CHECK((*m)->next_evaluation_ms == 1774915200000);
  }
  for (Device* d : log_readers) CHECK((*FollowUp(**d, cid).Mentor())->checkins.size() == 1);
  for (Device* d : kept_out) {
    CHECK((*FollowUp(**d, cid).Mentor())->checkins.empty());
    CHECK(k.Confirmed(*d).DebugString().find("Samen gevoetbald.") == std::string::npos);
  }
  REQUIRE(FollowUp(*k.coordinator, cid)
              .LogEvaluation(designation->mentor_id, 1774915200000 + kHour, "Goed gesprek.")
              .ok());
  k.SyncAll();
  for (Device* d : log_readers) {
    auto m = *FollowUp(**d, cid).Mentor();
    CHECK(m->evaluations.size() == 1);
    CHECK(m->next_evaluation_ms == 1780185600000);
  }
  for (Device* d : kept_out) CHECK((*FollowUp(**d, cid).Mentor())->evaluations.empty());
  auto upcoming = resident_follow.UpcomingChecks(kJan31);
  REQUIRE(upcoming.ok());
  REQUIRE(upcoming->size() == 1);
  CHECK(upcoming->front().kind == UpcomingCheck::Kind::kMentorEvaluation);
}

TEST_CASE("offline edits of a draft and an accepted agreement stay visible, never lost", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan aunt_plan(*k.aunt, cid);
  Plan uncle_plan(*k.uncle, cid);
  Plan coordinator_plan(*k.coordinator, cid);
  auto draft = aunt_plan.CreateDraft(0, k.Content());
  auto a_uncle = coordinator_plan.AddAgreement(MakeAgreement(k.p_uncle, "Post openen", kJan31));
  REQUIRE(draft.ok());
  REQUIRE(a_uncle.ok());
  k.SyncAll();

  k.server.Stop();
  // Aunt and uncle change the same part of the draft, and different parts.
  PlanContent by_aunt = k.Content();
  by_aunt.ik_kan = "Ik kan zelf koken en wassen.";
  by_aunt.answers = "Tante Ria is elke dag bereikbaar.";
  REQUIRE(aunt_plan.UpdateDraft(*draft, by_aunt).ok());
  PlanContent by_uncle = k.Content();
  by_uncle.ik_kan = "Ik kan zelf koken en fietsen.";
  by_uncle.life_domains["health"] = "Elke maand naar de huisarts.";
  REQUIRE(uncle_plan.UpdateDraft(*draft, by_uncle).ok());
  // The owner accepts while the coordinator changes the agreement.
  REQUIRE(uncle_plan.AcceptAgreement(*a_uncle).ok());
  domain::Agreement seen = Get(k.coordinator, cid, *a_uncle);
  seen.input.action = "Post openen met Sam, elke maandag";
  REQUIRE(coordinator_plan.EditAgreement(*a_uncle, seen.input).ok());
  k.server.Restart();
  k.SyncAll();
  k.RequireConverged();

  for (Device* d : k.readers()) {
    Plan p(**d, cid);
    const PlanContent merged = *p.Draft(*draft);
    // Different parts both arrive; the same part keeps one value in the field, one in a conflict.
    CHECK(merged.answers == by_aunt.answers);
    CHECK(merged.life_domains.at("health") == by_uncle.life_domains.at("health"));
    auto conflicts = p.ConflictsOf(*draft);
    REQUIRE(conflicts.ok());
    REQUIRE(conflicts->size() == 1);
    std::vector<std::string> values = {conflicts->at(0).kept_value().text(),
                                       conflicts->at(0).other_value().text()};
    std::sort(values.begin(), values.end());
    CHECK(values == std::vector<std::string>{by_uncle.ik_kan, by_aunt.ik_kan});
    CHECK(merged.ik_kan == conflicts->at(0).kept_value().text());
    // Whatever order the server chose, the acceptance no longer covers the content: visibly so.
    const domain::Agreement a = Get(*d, cid, *a_uncle);
    CHECK(a.input.action == seen.input.action);
    CHECK_FALSE(a.accepted);
    CHECK(a.acceptance_stale);
    CHECK(a.status == AgreementStatus::kProposed);
  }
  // The aunt settles the draft with both values in view; the uncle accepts the new wording.
  PlanContent settled = *aunt_plan.Draft(*draft);
  settled.ik_kan = "Ik kan zelf koken, wassen en fietsen.";
  REQUIRE(aunt_plan.UpdateDraft(*draft, settled).ok());
  REQUIRE(uncle_plan.AcceptAgreement(*a_uncle).ok());
  k.SyncAll();
  for (Device* d : k.readers()) {
    CHECK(Plan(**d, cid).ConflictsOf(*draft)->empty());
    CHECK(Get(*d, cid, *a_uncle).accepted);
  }
  k.RequireConverged();
}

TEST_CASE(
    "a six-week check writes the status it assessed, also when a stale view shows that status "
    "already",
    "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  Plan coordinator_plan(*k.coordinator, cid);
  REQUIRE(coordinator_plan.Publish(k.Content()).ok());
  auto post = coordinator_plan.AddAgreement(MakeAgreement(k.p_uncle, "Post openen", kJan31));
  REQUIRE(post.ok());
  REQUIRE(coordinator_plan.UpdateStatus(*post, AgreementStatus::kDone).ok());
  k.SyncAll();

  // The uncle, who owns the agreement, says it is only partly done; the resident (the chair) has
  // not synced since and still sees it done, and records a six-week check that assesses it done.
  REQUIRE(Plan(*k.uncle, cid).UpdateStatus(*post, AgreementStatus::kPartly).ok());
  REQUIRE(k.uncle->SyncNow().ok());
  REQUIRE(Get(k.resident, cid, *post).status == AgreementStatus::kDone);  // stale view
  SixWeekCheckInput check;
  check.at_ms = kJan31 + 43 * kDayMs;
  check.outcome = CheckOutcome::kContinue;
  check.assessments = {{*post, AgreementStatus::kDone, std::nullopt}};
  REQUIRE(FollowUp(*k.resident, cid).RecordSixWeekCheck(check).ok());
  k.SyncAll();
  k.RequireConverged();
  // The check is the later op: the agreement's status follows it on every device (the status
  // was skipped as "unchanged", so the check said done while the agreement showed partly).
  for (Device* d : k.readers()) {
    CHECK(Get(*d, cid, *post).status == AgreementStatus::kDone);
    auto latest = FollowUp(**d, cid).LatestCheck();
    REQUIRE(latest.ok());
    REQUIRE(latest->has_value());
    REQUIRE((*latest)->assessments.size() == 1);
    CHECK((*latest)->assessments[0].result == AgreementStatus::kDone);
  }
}

TEST_CASE("someone taken out of the circle gets nothing restricted on paper any more", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  // The ex-partner (no app) is taken out of the circle; grandma (no app) stays.
  REQUIRE(domain::Organising(*k.coordinator, cid).RemovePerson(k.p_ex).ok());
  Plan coordinator_plan(*k.coordinator, cid);
  auto version = coordinator_plan.Publish(k.Content());
  REQUIRE(version.ok());
  k.SyncAll();
  REQUIRE(Plan(*k.resident, cid).Accept(*version, kJan31).ok());
  // Restricted (hidden from the uncle): listed for grandma's paper, not for the ex-partner's.
  AgreementInput key = MakeAgreement(k.p_neighbour, "Reservesleutel bewaren", kJan31);
  key.hidden_from = {k.p_uncle};
  auto key_a = coordinator_plan.AddAgreement(key);
  REQUIRE(key_a.ok());
  // Naming her explicitly is refused.
  AgreementInput to_ex = key;
  to_ex.visible_to = {k.p_ex};
  auto refused = coordinator_plan.AddAgreement(to_ex);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message() == "agreement.visible_left");
  AgreementInput edited = key;
  edited.visible_to = {k.p_ex};
  CHECK(coordinator_plan.EditAgreement(*key_a, edited).message() == "agreement.visible_left");
  k.SyncAll();

  const v1::CaseState s = k.Confirmed(k.resident);
  auto listed = [](const v1::Entity& e, const Bytes& person) {
    auto set = e.sets().find("visible_to");
    if (set == e.sets().end()) return false;
    for (const auto& [tag, el] : set->second.elements()) {
      if (el.live_tags_size() > 0 && el.value().blob() == ToString(person)) return true;
    }
    return false;
  };
  const v1::Entity& agreement = s.entities().at(Hex(*key_a));
  CHECK(agreement.scope_id() != 0);
  CHECK(listed(agreement, k.p_grandma));
  CHECK_FALSE(listed(agreement, k.p_ex));
  // The life-domain details (kept from the professional) likewise.
  size_t details = 0;
  for (const auto& [id, e] : s.entities()) {
    if (e.type() != "plan_details" || e.scope_id() == 0) continue;
    ++details;
    CHECK(listed(e, k.p_grandma));
    CHECK_FALSE(listed(e, k.p_ex));
  }
  CHECK(details == 1);
  // No printout is made for her any more; grandma's still has the agreement.
  auto for_ex = PrintoutFor(s, k.p_ex);
  CHECK(for_ex.status().code() == StatusCode::kFailedPrecondition);
  CHECK(for_ex.status().message() == "print.reader_left");
  auto for_grandma = PrintoutFor(s, k.p_grandma);
  REQUIRE(for_grandma.ok());
  CHECK(std::any_of(for_grandma->agreements.begin(), for_grandma->agreements.end(),
                    [&](const PrintAgreement& a) { return a.what == key.action; }));
}

TEST_CASE("someone taken out of the circle gets no new role in the plan or the circle", "[plan]") {
  Circle k;
  const Bytes& cid = k.cid;
  domain::Organising by_coordinator(*k.coordinator, cid);
  for (const Bytes& p : {k.p_aunt, k.p_professional, k.p_mentor, k.p_ex}) {
    REQUIRE(by_coordinator.RemovePerson(p).ok());
  }
  k.SyncAll();
  Plan plan(*k.coordinator, cid);
  // The plan's contact person and responsible professional.
  PlanContent content = k.Content();
  CHECK(plan.Publish(content).status().message() == "plan.contact_left");
  content.contact_person = k.p_neighbour;
  CHECK(plan.Publish(content).status().message() == "plan.professional_left");
  // A mentor, and the young person's side of it.
  FollowUp follow(*k.resident, cid);
  CHECK(follow.DesignateMentor({k.p_resident, k.p_mentor, true, k.p_uncle, 0, kJan31})
            .status()
            .message() == "mentor.mentor_left");
  CHECK(follow.DesignateMentor({k.p_resident, k.p_neighbour, true, k.p_aunt, 0, kJan31})
            .status()
            .message() == "mentor.consent_by_left");
  // An invitation without the app, as for someone still to be asked.
  CHECK(by_coordinator.RecordInvitation(k.p_ex, domain::InvitationState::kPending).message() ==
        "person.already_left");
  // Someone still in the circle is accepted in the same places.
  content.responsible_professional = {};
  content.bottom_lines.clear();
  CHECK(plan.Publish(content).ok());
  CHECK(by_coordinator.RecordInvitation(k.p_grandma, domain::InvitationState::kPending).ok());
}
