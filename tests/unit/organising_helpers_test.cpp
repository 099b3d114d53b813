// Device-side helpers of the organising domain: Amsterdam time, reminders, notification text,
// and a Dutch and English text for every message key the organising code can return.
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "kring/domain/messages.h"
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
