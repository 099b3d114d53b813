// What a user is told when a content rule refuses an edit: the refusing rule's own key, which
// says who may, with a Dutch and an English text; a rule without one falls back to the generic.
#include "domain/rule_refusals.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "kring/domain/messages.h"

#include "domain/plan_rules.h"

using namespace kring::domain;

TEST_CASE("a refusing rule's key says who may, in Dutch and English", "[organising]") {
  CHECK(RefusalKey("") == "");
  CHECK(RefusalKey(rule::kSpoed) == "rule.referral_spoed");
  CHECK(UserText(RefusalKey(rule::kSpoed)) ==
        "Alleen wie de aanmelding deed, de hoofdpersoon of de gespreksleider mag spoed aan- of "
        "uitzetten.");
  CHECK(RefusalKey(rule::kManagers) == kManagersOnly);
  CHECK(UserText(kManagersOnly) == "Dit mag alleen de hoofdpersoon of de gespreksleider.");
  CHECK(UserText(kManagersOnly, Language::kEnglish) ==
        "Only the resident or the coordinator may do this.");
  CHECK(RefusalKey(rule::kChairLink) == "person.chair_link");
  CHECK(RefusalKey(rule::kFirstReferral) == "referral.first_by_organiser");
  // The plan rules' codes are plan_rules.h's constants, used by plan_rules.cpp.
  CHECK(RefusalKey(plan_rule::kOnlyYoungPerson) == "rule.mentor_designate");
  CHECK(RefusalKey(plan_rule::kNotEditor) == "rule.agreement_editor");
  CHECK(RefusalKey(plan_rule::kOnlyManagers) == kManagersOnly);
  // A malformed value or a rule added later without a text: the generic refusal.
  CHECK(RefusalKey(rule::kDenied) == "domain.not_allowed");
  CHECK(RefusalKey("plan: score out of range") == "domain.not_allowed");
  CHECK(RefusalKey("a rule nobody mapped yet") == "domain.not_allowed");
}

TEST_CASE("an account waiting for the chair's approval is told so, whatever rule refused",
          "[organising]") {
  const kring::Bytes me(16, 7);
  kring::v1::CaseState waiting;
  waiting.set_pending_approval(true);
  CHECK(RefusalKeyFor(waiting, me, rule::kManagers) == "member.waiting_approval");
  CHECK(RefusalKeyFor(waiting, me, "") == "");
  CHECK(HasUserText("member.waiting_approval"));
  // Accepted on this device's log view: the invitation shows who accepted it.
  kring::v1::CaseState accepted;
  kring::v1::InviteState* invite = accepted.add_invites();
  invite->set_status(kring::v1::InviteState::ACCEPTED);
  invite->set_accepted_by_account_id(std::string(16, '\x07'));
  CHECK(RefusalKeyFor(accepted, me, rule::kNotAMember) == "member.waiting_approval");
  // Anyone else: who may.
  CHECK(RefusalKeyFor(kring::v1::CaseState(), me, rule::kManagers) == kManagersOnly);
}

TEST_CASE("every key a refusing rule maps to has a Dutch and an English text", "[organising]") {
  std::ifstream in(std::string(KRING_SOURCE_DIR) + "/client-lib/src/domain/rule_refusals.cpp");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  const std::regex key(
      R"re("((?:domain|rule|person|referral|meeting|member|plan|agreement)\.[a-z_]+)")re");
  int keys = 0;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), key);
       it != std::sregex_iterator(); ++it) {
    INFO((*it)[1].str());
    CHECK(HasUserText((*it)[1].str()));
    ++keys;
  }
  CHECK(keys > 25);
  CHECK(HasUserText(kManagersOnly));
  CHECK(HasUserText("referral.waiting_approval"));
}
