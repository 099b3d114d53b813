// The plan's pure parts: canonical hashes, the reducer's plan rules on a hand-made log, the
// two-monthly schedule and the user texts of every key the plan uses.
#include "domain/plan_model.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/domain/follow_up.h"
#include "kring/domain/messages.h"
#include "kring/domain/plan.h"

#include "model/reducer.h"

using namespace kring;
namespace pm = kring::domain::plan_model;

namespace {

v1::Value TextV(const std::string& s) {
  v1::Value v;
  v.set_text(s);
  return v;
}
v1::Value BlobV(const std::string& s) {
  v1::Value v;
  v.set_blob(s);
  return v;
}

std::string Id() { return ToString(crypto::RandomBytes(crypto::kIdBytes)); }

v1::Mutation CreateM(const std::string& id, std::string_view type) {
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(id);
  m.mutable_create_entity()->set_type(std::string(type));
  return m;
}
v1::Mutation SetM(const std::string& id, const std::string& field, const v1::Value& v) {
  v1::Mutation m;
  m.mutable_set_field()->set_entity_id(id);
  m.mutable_set_field()->set_field(field);
  *m.mutable_set_field()->mutable_value() = v;
  return m;
}

// A case log folded by the real reducer, one op per Apply.
struct Log {
  v1::CaseState state;
  uint64_t seq = 0;
  std::string chair = Id(), coordinator = Id(), member = Id();

  Log() {
    for (auto [account, role] :
         {std::pair{chair, v1::ROLE_CHAIR}, std::pair{coordinator, v1::ROLE_COORDINATOR},
          std::pair{member, v1::ROLE_MEMBER}}) {
      v1::Member* m = state.add_members();
      m->set_account_id(account);
      m->set_role(role);
    }
  }
  // Returns the op's client_op_id.
  Bytes Apply(const std::string& author, const std::vector<v1::Mutation>& ms) {
    Bytes op_id = crypto::RandomBytes(16);
    ApplyAs(author, op_id, ms);
    return op_id;
  }
  // Under a client_op_id the author chose (a raw op may copy another's: every member sees them).
  void ApplyAs(const std::string& author, const Bytes& op_id, const std::vector<v1::Mutation>& ms) {
    v1::ContentOp op;
    op.set_version(1);
    for (const auto& m : ms) *op.add_mutations() = m;
    client::model::ApplyContent(state, op, {++seq, ToBytes(author), op_id, 0});
  }
  const v1::Entity* Get(const std::string& id) { return pm::FindEntity(state, id); }
};

v1::Entity PlanEntity(const std::vector<std::pair<std::string, std::string>>& fields) {
  v1::Entity e;
  e.set_entity_id(std::string(16, 'p'));
  e.set_type(std::string(pm::kPlanVersion));
  for (const auto& [k, v] : fields) *(*e.mutable_fields())[k].mutable_value() = TextV(v);
  return e;
}

}  // namespace

TEST_CASE("plan hashes are canonical and framed", "[plan]") {
  const Bytes a = pm::PlanHash(PlanEntity({{"wil", "ab"}, {"kan", ""}}));
  CHECK(a == pm::PlanHash(PlanEntity({{"kan", ""}, {"wil", "ab"}})));
  CHECK(a.size() == crypto::kHashBytes);
  // Moving text across a field boundary, or an empty field versus an absent one, differ.
  CHECK(a != pm::PlanHash(PlanEntity({{"wil", "a"}, {"kan", "b"}})));
  CHECK(a != pm::PlanHash(PlanEntity({{"wil", "ab"}})));
  v1::Entity with_refs = PlanEntity({{"wil", "ab"}, {"kan", ""}});
  *(*with_refs.mutable_fields())["agreement_refs"].mutable_value() = BlobV(std::string(48, 'x'));
  CHECK(a != pm::PlanHash(with_refs));
  // Fields outside the content (bookkeeping) do not change what was accepted.
  v1::Entity numbered = PlanEntity({{"wil", "ab"}, {"kan", ""}});
  *(*numbered.mutable_fields())["number"].mutable_value() = TextV("7");
  CHECK(a == pm::PlanHash(numbered));
}

TEST_CASE("an agreement's hash covers its content, not its status", "[plan]") {
  v1::Entity e;
  e.set_entity_id(std::string(16, 'a'));
  e.set_type(std::string(pm::kAgreement));
  *(*e.mutable_fields())["action"].mutable_value() = TextV("Boodschappen");
  const Bytes h = pm::AgreementHash(e);
  *(*e.mutable_fields())["outcome"].mutable_value() = TextV("done");
  CHECK(pm::AgreementHash(e) == h);
  *(*e.mutable_fields())["action"].mutable_value() = TextV("Boodschappen doen");
  CHECK(pm::AgreementHash(e) != h);
}

TEST_CASE("the reducer applies the plan's rules", "[plan]") {
  Log log;
  const std::string version = Id();
  log.Apply(log.chair, {CreateM(version, pm::kPlanVersion), SetM(version, "wil", TextV("x")),
                        SetM(version, "contingency", TextV("bellen"))});
  REQUIRE(log.Get(version) != nullptr);
  const std::string hash = ToString(pm::PlanHash(*log.Get(version)));

  SECTION("a version by the chair or a coordinator; a member outside private time makes none") {
    const std::string by_member = Id(), by_coordinator = Id();
    log.Apply(log.member,
              {CreateM(by_member, pm::kPlanVersion), SetM(by_member, "wil", TextV("y"))});
    CHECK(log.Get(by_member) == nullptr);
    log.Apply(log.coordinator,
              {CreateM(by_coordinator, pm::kPlanVersion), SetM(by_coordinator, "wil", TextV("z"))});
    CHECK(log.Get(by_coordinator) != nullptr);
  }

  SECTION("a version is written once") {
    log.Apply(log.member, {SetM(version, "contingency", TextV("niets"))});
    CHECK(pm::TextField(*log.Get(version), "contingency") == "bellen");
    log.Apply(log.chair, {SetM(version, "contingency", TextV("niets"))});
    CHECK(pm::TextField(*log.Get(version), "contingency") == "bellen");
  }
  SECTION("only the chair accepts, and only the version's own hash") {
    const std::string by_member = Id(), wrong = Id(), right = Id();
    log.Apply(log.member, {CreateM(by_member, pm::kPlanAcceptance)});
    CHECK(log.Get(by_member) == nullptr);
    log.Apply(log.chair,
              {CreateM(wrong, pm::kPlanAcceptance), SetM(wrong, "version_id", BlobV(version)),
               SetM(wrong, "hash", BlobV(std::string(32, 'z')))});
    CHECK(pm::BlobField(*log.Get(wrong), "hash").empty());
    log.Apply(log.chair,
              {CreateM(right, pm::kPlanAcceptance), SetM(right, "version_id", BlobV(version)),
               SetM(right, "hash", BlobV(hash))});
    CHECK(pm::BlobField(*log.Get(right), "hash") == hash);
    CHECK(domain::ReadAcceptance(log.state, ToBytes(version)).accepted);
  }
  SECTION("blocked needs its obstacle from the same edit") {
    const std::string a = Id();
    log.Apply(log.coordinator, {CreateM(a, pm::kAgreement), SetM(a, "action", TextV("x"))});
    log.Apply(log.coordinator,
              {SetM(a, "obstacle", TextV("geen tijd")), SetM(a, "obstacle_owner", BlobV(Id()))});
    v1::Value due;
    due.set_time_ms(5);
    log.Apply(log.coordinator, {SetM(a, "new_due_ms", due), SetM(a, "outcome", TextV("blocked"))});
    CHECK(pm::TextField(*log.Get(a), "outcome").empty());
    const Bytes blocked_op =
        log.Apply(log.coordinator,
                  {SetM(a, "obstacle", TextV("geen tijd")), SetM(a, "obstacle_owner", BlobV(Id())),
                   SetM(a, "new_due_ms", due), SetM(a, "outcome", TextV("blocked"))});
    CHECK(pm::TextField(*log.Get(a), "outcome") == "blocked");
    log.Apply(log.coordinator, {SetM(a, "outcome", TextV("half"))});
    CHECK(pm::TextField(*log.Get(a), "outcome") == "blocked");
    // A later op under that edit's op id is not that edit: no blocked without a new obstacle.
    log.Apply(log.coordinator, {SetM(a, "outcome", TextV("done"))});
    REQUIRE(pm::TextField(*log.Get(a), "outcome") == "done");
    log.ApplyAs(log.coordinator, blocked_op, {SetM(a, "outcome", TextV("blocked"))});
    CHECK(pm::TextField(*log.Get(a), "outcome") == "done");
  }
  SECTION("micro-analysis entries only by the chair or coordinator, scores 0-10") {
    const std::string by_member = Id(), w = Id();
    log.Apply(log.member, {CreateM(by_member, pm::kWellBeing)});
    CHECK(log.Get(by_member) == nullptr);
    v1::Value eleven;
    eleven.set_integer(11);
    log.Apply(log.coordinator, {CreateM(w, pm::kWellBeing), SetM(w, "score", eleven)});
    CHECK(log.Get(w)->fields().count("score") == 0);
  }
}

namespace {

v1::Value IntV(int64_t i) {
  v1::Value v;
  v.set_integer(i);
  return v;
}
v1::Value FlagV(bool f) {
  v1::Value v;
  v.set_flag(f);
  return v;
}

// A log with two relatives (persons linked to `member` and `outsider`), a network scope with the
// member alone, and a meeting in that scope's private time, all written as the organisers do.
struct PrivateTimeLog : Log {
  std::string outsider = Id(), member_person = Id(), meeting = Id();

  PrivateTimeLog() {
    v1::Member* m = state.add_members();
    m->set_account_id(outsider);
    m->set_role(v1::ROLE_MEMBER);
    for (auto [person, account] : {std::pair{member_person, member}, std::pair{Id(), outsider}}) {
      Apply(coordinator, {CreateM(person, "person"), SetM(person, "kind", TextV("family")),
                          SetM(person, "status", TextV("approved")),
                          SetM(person, "account_id", BlobV(account))});
    }
    constexpr uint32_t kScope = 7;
    v1::OpHeader header;
    header.set_author_account_id(member);
    v1::ControlBody body;
    body.mutable_set_scope()->set_scope_id(kScope);
    body.mutable_set_scope()->add_members(member);
    body.mutable_set_scope()->set_create(true);
    REQUIRE(client::model::CheckControlPermission(state, ToBytes(member), body).ok());
    client::model::ApplyControl(state, header, body, ++seq);
    Apply(coordinator, {CreateM(meeting, "meeting"), SetM(meeting, "status", TextV("fixed")),
                        SetM(meeting, "private_scope", IntV(kScope)),
                        SetM(meeting, "phase", TextV("private_time"))});
    REQUIRE(pm::TextField(*Get(meeting), "phase") == "private_time");
  }
  // Whether a version `account` sends raw is in the state afterwards.
  bool MakesVersion(const std::string& account) {
    const std::string v = Id();
    Apply(account, {CreateM(v, pm::kPlanVersion), SetM(v, "wil", TextV("Mama beslist."))});
    return Get(v) != nullptr;
  }
  // The same as Plan::Publish writes the network's version: the op names it in the meeting's
  // `network_version` and moves the meeting on to the plan presentation.
  bool MakesReleaseVersion(const std::string& account) {
    const std::string v = Id();
    Apply(account, {SetM(meeting, "network_version", BlobV(v)),
                    SetM(meeting, "phase", TextV("plan_presentation")),
                    CreateM(v, pm::kPlanVersion), SetM(v, "wil", TextV("Mama beslist."))});
    return Get(v) != nullptr;
  }
};

}  // namespace

// Whoever may write a version chooses its stored number: the log orders them (a late version goes
// last, so no number users know moves), this device's pending ones after it, as it made them.
TEST_CASE("versions are ordered by the log and not by their stored number", "[plan]") {
  Log log;
  const std::string first = Id(), second = Id(), pending_a = Id(), pending_b = Id();
  log.Apply(log.chair, {CreateM(first, pm::kPlanVersion), SetM(first, "number", IntV(INT64_MAX))});
  log.Apply(log.coordinator, {CreateM(second, pm::kPlanVersion), SetM(second, "number", IntV(1))});
  CHECK(pm::CurrentVersion(log.state) == log.Get(second));
  CHECK(pm::VersionNumber(log.state, *log.Get(first)) == 1);
  CHECK(pm::VersionNumber(log.state, *log.Get(second)) == 2);

  for (const auto& [id, number] : {std::pair{pending_a, 3}, std::pair{pending_b, 4}}) {
    v1::ContentOp op;
    op.set_version(1);
    *op.add_mutations() = CreateM(id, pm::kPlanVersion);
    *op.add_mutations() = SetM(id, "number", IntV(number));
    client::model::ApplyContent(log.state, op, {0, ToBytes(log.chair), crypto::RandomBytes(16), 0});
  }
  CHECK(pm::CurrentVersion(log.state) == log.Get(pending_b));
  CHECK(pm::VersionNumber(log.state, *log.Get(pending_a)) == 3);
  CHECK(pm::VersionNumber(log.state, *log.Get(pending_b)) == 4);
}

// The network writes one version, after its own meeting release, named in the meeting's
// write-once `network_version`: not before the release, not a second one, not for a meeting
// called off, and not once taken out of the circle.
TEST_CASE("a network member makes one version after its release", "[plan]") {
  PrivateTimeLog log;
  CHECK_FALSE(log.MakesVersion(log.member));         // not released yet
  CHECK_FALSE(log.MakesReleaseVersion(log.member));  // nor naming it before the release
  REQUIRE(pm::TextField(*log.Get(log.meeting), "phase") == "private_time");
  log.Apply(log.member, {SetM(log.meeting, "draft_released", FlagV(true))});
  REQUIRE(pm::FlagField(*log.Get(log.meeting), "draft_released"));
  CHECK_FALSE(log.MakesReleaseVersion(log.outsider));  // a relative outside the private scope
  // The organisers' versions need no name: they never write it.
  log.Apply(log.coordinator, {SetM(log.meeting, "network_version", BlobV(Id()))});
  REQUIRE(log.Get(log.meeting)->fields().count("network_version") == 0);
  REQUIRE(pm::TextField(*log.Get(log.meeting), "phase") == "private_time");

  SECTION("once, ending private time") {
    CHECK(log.MakesReleaseVersion(log.member));
    CHECK(pm::TextField(*log.Get(log.meeting), "phase") == "plan_presentation");
    CHECK_FALSE(log.MakesVersion(log.member));
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
    // Moving the meeting back is the organisers' alone; and it would give no second version.
    log.Apply(log.member, {SetM(log.meeting, "phase", TextV("private_time"))});
    CHECK(pm::TextField(*log.Get(log.meeting), "phase") == "plan_presentation");
    log.Apply(log.coordinator, {SetM(log.meeting, "phase", TextV("private_time"))});
    CHECK_FALSE(log.MakesVersion(log.member));
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("only the version its own op names") {
    const std::string v = Id(), other = Id();
    const Bytes release = log.Apply(log.member, {SetM(log.meeting, "network_version", BlobV(v)),
                                                 CreateM(other, pm::kPlanVersion)});
    CHECK(log.Get(other) == nullptr);
    // The name stands; a later op under the same op id is not that op.
    log.ApplyAs(log.member, release, {CreateM(v, pm::kPlanVersion)});
    CHECK(log.Get(v) == nullptr);
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("an old log's release in private time, once") {
    CHECK(log.MakesVersion(log.member));
    CHECK_FALSE(log.MakesVersion(log.member));
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("also once an organiser moved the phase on") {
    log.Apply(log.coordinator, {SetM(log.meeting, "phase", TextV("plan_presentation"))});
    REQUIRE(pm::TextField(*log.Get(log.meeting), "phase") == "plan_presentation");
    CHECK_FALSE(log.MakesVersion(log.member));  // an old log's form: only in private time
    CHECK(log.MakesReleaseVersion(log.member));
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("not once the meeting is further on") {
    log.Apply(log.coordinator, {SetM(log.meeting, "phase", TextV("acceptance"))});
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("not for a finished meeting") {
    v1::Value at;
    at.set_time_ms(5);
    log.Apply(log.coordinator, {SetM(log.meeting, "phase", TextV("acceptance")),
                                SetM(log.meeting, "finished_at_ms", at)});
    REQUIRE(log.Get(log.meeting)->fields().count("finished_at_ms") == 1);
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("not for a cancelled meeting") {
    log.Apply(log.coordinator, {SetM(log.meeting, "status", TextV("cancelled"))});
    REQUIRE(pm::TextField(*log.Get(log.meeting), "status") == "cancelled");
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("not for a deleted meeting") {
    v1::Mutation del;
    del.mutable_delete_entity()->set_entity_id(log.meeting);
    log.Apply(log.coordinator, {del});
    REQUIRE(log.Get(log.meeting)->deleted());
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
  SECTION("not once taken out of the circle") {
    log.Apply(log.coordinator, {SetM(log.member_person, "left", FlagV(true))});
    REQUIRE(pm::FlagField(*log.Get(log.member_person), "left"));
    CHECK_FALSE(log.MakesReleaseVersion(log.member));
  }
}

TEST_CASE("paper names one resident however the persons are listed", "[plan]") {
  // Two persons entered as the resident before any referral names one (a slip, or an old log),
  // and grandma without the app, who gets paper. Ids in a fixed order: `low` before `high`.
  const std::string low = std::string(4, '\0') + std::string(12, 'a');
  const std::string high = std::string(4, '\0') + std::string(12, 'b');
  const std::string grandma = Id();
  // Every device prints the same name: the chair's own person first, else the first by id,
  // whichever the entity map happens to list last.
  for (const auto& [linked, expected] :
       {std::pair{std::string(), "Sanne"}, std::pair{low, "Sanne"}, std::pair{high, "Sam"}}) {
    Log log;
    const std::string version = Id();
    log.Apply(log.chair, {CreateM(version, pm::kPlanVersion), SetM(version, "wil", TextV("x"))});
    for (const auto& [id, name] : {std::pair{low, "Sanne"}, std::pair{high, "Sam"}}) {
      std::vector<v1::Mutation> entry = {CreateM(id, "person"), SetM(id, "name", TextV(name)),
                                         SetM(id, "kind", TextV("resident"))};
      if (id == linked) entry.push_back(SetM(id, "account_id", BlobV(log.chair)));
      log.Apply(log.coordinator, entry);
    }
    log.Apply(log.coordinator,
              {CreateM(grandma, "person"), SetM(grandma, "kind", TextV("family"))});
    REQUIRE(log.Get(high) != nullptr);
    auto paper = domain::PrintoutFor(log.state, ToBytes(grandma));
    REQUIRE(paper.ok());
    CHECK(paper->resident_first_name == expected);
  }
}

TEST_CASE("two-monthly evaluations follow the calendar", "[plan]") {
  constexpr int64_t kJan31_2026 = 1769817600000;
  CHECK(domain::EvaluationSchedule(kJan31_2026, 3) ==
        std::vector<int64_t>{1774915200000, 1780185600000, 1785456000000});  // Mar, May, Jul 31
  constexpr int64_t kDec31_2027 = 1830211200000;
  CHECK(domain::EvaluationSchedule(kDec31_2027, 1) ==
        std::vector<int64_t>{1835395200000});  // 2028-02-29: a leap year
}

TEST_CASE("every key the plan uses has Dutch and English text", "[plan]") {
  for (const char* key : {"plan.text_too_long",
                          "plan.unknown_life_domain",
                          "plan.review_days_invalid",
                          "plan.unknown_person",
                          "plan.contingency_missing",
                          "plan.contact_missing",
                          "plan.contact_unknown",
                          "plan.contact_left",
                          "plan.professional_left",
                          "plan.professional_missing",
                          "plan.professional_unknown",
                          "plan.unknown_version",
                          "plan.only_chair_accepts",
                          "plan.not_professional",
                          "plan.conditions_missing",
                          "plan.reason_missing",
                          "plan.decision_invalid",
                          "plan.no_plan",
                          "plan.heading.ik_wil",
                          "plan.heading.ik_kan",
                          "plan.heading.ik_heb_nodig",
                          "plan.heading.bottom_lines",
                          "plan.heading.answers",
                          "agreement.owner_missing",
                          "agreement.owner_unknown",
                          "agreement.visible_left",
                          "print.reader_left",
                          "agreement.action_missing",
                          "agreement.text_too_long",
                          "agreement.when_missing",
                          "agreement.checker_unknown",
                          "agreement.too_many_hidden",
                          "agreement.hidden_unknown",
                          "agreement.not_owner",
                          "agreement.status_invalid",
                          "agreement.obstacle_missing",
                          "agreement.obstacle_owner_unknown",
                          "agreement.too_many",
                          "plan.hidden_from_self",
                          "plan.network_only",
                          "agreement.restrict_needs_new",
                          "followup.note_too_long",
                          "followup.no_assessments",
                          "followup.too_many_assessments",
                          "followup.unknown_agreement",
                          "followup.duplicate_assessment",
                          "followup.assessment_invalid",
                          "mentor.young_person_unknown",
                          "mentor.mentor_unknown",
                          "mentor.same_person",
                          "mentor.consent_missing",
                          "mentor.consent_by_unknown",
                          "mentor.young_person_left",
                          "mentor.mentor_left",
                          "mentor.consent_by_left",
                          "mentor.warn_parent",
                          "mentor.warn_under_18",
                          "micro.score_out_of_range",
                          "micro.service_missing",
                          "micro.service_too_long",
                          "micro.cost_invalid"}) {
    INFO(key);
    CHECK(domain::HasUserText(key));
  }
  for (const std::string& d : domain::LifeDomains()) CHECK(domain::HasUserText("plan.domain." + d));
}
