// Device-side helpers of the organising domain: Amsterdam time, reminders, notification text,
// and a Dutch and English text for every message key the organising code can return.
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "kring/domain/messages.h"
#include "kring/domain/names.h"
#include "kring/domain/organising.h"

using namespace kring::domain;

namespace {
constexpr int64_t kHour = 3600LL * 1000;
constexpr int64_t kDay = 24 * kHour;
}  // namespace

TEST_CASE("Amsterdam offset follows EU summer time", "[organising]") {
  // 2025: summer time from 30 March 01:00 UTC to 26 October 01:00 UTC.
  const int64_t march30_0100 = 1743296400000;
  const int64_t october26_0100 = 1761440400000;
  CHECK(AmsterdamOffsetMs(march30_0100 - 1) == kHour);
  CHECK(AmsterdamOffsetMs(march30_0100) == 2 * kHour);
  CHECK(AmsterdamOffsetMs(october26_0100 - 1) == 2 * kHour);
  CHECK(AmsterdamOffsetMs(october26_0100) == kHour);
  CHECK(AmsterdamOffsetMs(1735689600000) == kHour);  // 2025-01-01 00:00 UTC
  // 23:30 UTC on 30 June is already 1 July in Amsterdam.
  const int64_t june30_2330 = 1751326200000;
  CHECK(AmsterdamDay(june30_2330) == AmsterdamDay(june30_2330 + 2 * kHour));
  CHECK(AmsterdamDay(june30_2330 - 2 * kHour) + 1 == AmsterdamDay(june30_2330));  // 23:30 CEST
}

TEST_CASE("reminders are a week, a day and two hours before, never in the past", "[organising]") {
  const int64_t start = 1751364000000;
  CHECK(ReminderTimes(start, start - 30 * kDay) ==
        std::vector<int64_t>{start - 7 * kDay, start - kDay, start - 2 * kHour});
  CHECK(ReminderTimes(start, start - 3 * kDay) ==
        std::vector<int64_t>{start - kDay, start - 2 * kHour});
  CHECK(ReminderTimes(start, start - kHour).empty());
}

TEST_CASE("a notification never carries case content", "[organising]") {
  CHECK(NotificationText() == "Er is iets nieuws in je kring.");
  CHECK(NotificationText(Language::kEnglish) == "There is something new in your circle.");
}

TEST_CASE("every organising message key has a Dutch and an English text", "[organising]") {
  int keys = 0;
  for (const char* file :
       {"/client-lib/src/domain/organising.cpp", "/client-lib/src/domain/organising_rules.cpp"}) {
    std::ifstream in(std::string(KRING_SOURCE_DIR) + file);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    const std::regex key(
        R"re("((?:domain|notify|referral|person|contact|invite|pretalk|participation|absent_view|poll|location|meeting)\.[a-z_]+)")re");
    for (auto it = std::sregex_iterator(source.begin(), source.end(), key);
         it != std::sregex_iterator(); ++it) {
      INFO((*it)[1].str());
      CHECK(HasUserText((*it)[1].str()));
      ++keys;
    }
  }
  CHECK(keys > 60);
}

TEST_CASE("names match without letter case and with accented letters", "[organising]") {
  CHECK(SameName("Kees Bakker", "kees bakker"));
  CHECK(SameName("ÉLODIE VAN DÜREN", "élodie van düren"));
  CHECK(SameName("Ĳsbrand", "ĳsbrand"));
  CHECK(SameName("ŁUKASZ", "łukasz"));
  CHECK(SameName("ŸVONNE", "ÿvonne"));
  // Accents, spaces and other letters still count; text that is not UTF-8 only matches itself.
  CHECK_FALSE(SameName("Rene", "René"));
  CHECK_FALSE(SameName("Kees  Bakker", "Kees Bakker"));
  CHECK_FALSE(SameName("Kees", "Keesje"));
  CHECK_FALSE(SameName("a\xff", "A\xff"));
  CHECK(SameName("a\xff", "a\xff"));

  std::vector<Person> circle(4);
  circle[0].name = "Kees Bakker";
  circle[0].status = "approved";
  circle[1].name = "kees bakker";
  circle[1].status = "proposed";
  circle[2].name = "Mo";
  circle[2].status = "approved";
  circle[2].left = true;
  circle[3].name = "Piet";
  circle[3].status = "declined";
  // Two names that differ only in case: both, so a caller refuses to guess.
  CHECK(PeopleNamed(circle, "KEES BAKKER").size() == 2);
  CHECK(PeopleNamed(circle, "mo").size() == 1);
  CHECK(PeopleNamed(circle, "piet").empty());
  // A referral names whoever has the name already, declined too.
  CHECK(AlreadyNamed(circle, "PIET") == &circle[3]);
  CHECK(AlreadyNamed(circle, "Anna") == nullptr);
}
