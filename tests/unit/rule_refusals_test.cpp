// What a user is told when a content rule refuses an edit: the refusing rule's own key, which
// says who may, with a Dutch and an English text; a rule without one falls back to the generic.
#include "domain/rule_refusals.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "kring/domain/messages.h"

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
  // The plan rules' codes are plan_rules.cpp's own words.
  CHECK(RefusalKey("plan: only the young person") == "rule.mentor_designate");
  CHECK(RefusalKey("agreement: not an editor") == "rule.agreement_editor");
  // A malformed value or a rule added later without a text: the generic refusal.
  CHECK(RefusalKey(rule::kDenied) == "domain.not_allowed");
  CHECK(RefusalKey("plan: score out of range") == "domain.not_allowed");
  CHECK(RefusalKey("a rule nobody mapped yet") == "domain.not_allowed");
}

TEST_CASE("every key a refusing rule maps to has a Dutch and an English text", "[organising]") {
  std::ifstream in(std::string(KRING_SOURCE_DIR) + "/client-lib/src/domain/rule_refusals.cpp");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  const std::regex key(
      R"re("((?:domain|rule|person|referral|meeting|plan|agreement)\.[a-z_]+)")re");
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
