// The times a user types for `kring` (tools/kring/time_arg.h): exactly the documented forms
// ("now", "now+3d", "now+7d@19:30", "2026-12-05", "2026-12-05T19:30", UTC milliseconds), and
// nothing that merely looks like one: no signs, spaces or missing digits inside a number.
#include "time_arg.h"

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "kring/domain/amsterdam_time.h"
#include "kring/domain/messages.h"

using kring::cli::ParseTime;

namespace {

constexpr int64_t kNowMs = 1'764'547'200'000;  // 2025-12-01T00:00Z, 01:00 in Amsterdam

int64_t Amsterdam(int year, int month, int day, int hour, int minute) {
  kring::domain::AmsterdamTime t;
  t.year = year;
  t.month = month;
  t.day = day;
  t.hour = hour;
  t.minute = minute;
  auto r = kring::domain::FromAmsterdam(t);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("kring reads the documented time forms", "[cli]") {
  CHECK(*ParseTime("now", kNowMs) == kNowMs);
  CHECK(*ParseTime("now+3d", kNowMs) == kNowMs + 3 * 86'400'000);
  CHECK(*ParseTime("now-2h", kNowMs) == kNowMs - 2 * 3'600'000);
  CHECK(*ParseTime("now+30m", kNowMs) == kNowMs + 30 * 60'000);
  CHECK(*ParseTime("now+7d@19:30", kNowMs) == Amsterdam(2025, 12, 8, 19, 30));
  CHECK(*ParseTime("now+0d@09:05", kNowMs) == Amsterdam(2025, 12, 1, 9, 5));
  CHECK(*ParseTime("2026-12-05", kNowMs) == Amsterdam(2026, 12, 5, 0, 0));
  CHECK(*ParseTime("2026-12-05T19:30", kNowMs) == Amsterdam(2026, 12, 5, 19, 30));
  CHECK(*ParseTime("2026-01-05T09:00", kNowMs) == Amsterdam(2026, 1, 5, 9, 0));
  CHECK(*ParseTime("1700000000000", kNowMs) == 1'700'000'000'000);
  CHECK(*ParseTime("0", kNowMs) == 0);
}

TEST_CASE("kring refuses a time with a sign, a space or a missing digit inside a number", "[cli]") {
  // Most of these were read as a valid time before (sscanf skips spaces and takes signs).
  for (const char* text : {
           "2026- 1-05",        "2026-+1-05",       "2026-01- 5",
           "2026-01-+5",        "2026-1 -05",       "+026-01-05",
           " 2026-01-5",        "2026-01-05T 9:00", "2026-01-05T+9:00",
           "2026-01-05T-0:30",  "2026-01-05T09: 5", "2026-01-05T09:+5",
           "2026-01-05T09:-0",  "2026/01/05",       "2026-01-05t09:00",
           "now+1d@ 9:00",      "now+1d@+9:00",     "now+1d@-0:30",
           "now+1d@09: 5",      "now+1d@09:+5",     "now+1d@9:00",
           "now+1d@09:00 ",     "now+1d@0900",      "now+ 1d",
           "now++1d",           "now+1d ",          " now+1d",
           " 1700000000000",    "+1700000000000",   "-1",
           "2026-01-05T09:00Z",
       }) {
    INFO(text);
    auto r = ParseTime(text, kNowMs);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == kring::StatusCode::kInvalidArgument);
    // The user reads the forms to use, in Dutch and in English.
    CHECK(r.status().message() == "time.format");
  }
  CHECK(kring::domain::UserText("time.format", kring::domain::Language::kDutch)
            .find("Schrijf de datum als 5-12-2026 of 2026-12-05") == 0);
  CHECK(kring::domain::UserText("time.format", kring::domain::Language::kEnglish)
            .find("Write the date as 2026-12-05") == 0);
}

TEST_CASE("kring reads a date as written in the Netherlands, and --to takes the whole day",
          "[cli]") {
  CHECK(*ParseTime("5-12-2026", kNowMs) == Amsterdam(2026, 12, 5, 0, 0));
  CHECK(*ParseTime("05-12-2026", kNowMs) == Amsterdam(2026, 12, 5, 0, 0));
  CHECK(*ParseTime("5-1-2026 19:30", kNowMs) == Amsterdam(2026, 1, 5, 19, 30));
  CHECK(*ParseTime("5-12-2026@19:30", kNowMs) == Amsterdam(2026, 12, 5, 19, 30));
  CHECK(*ParseTime("05-12-2026T09:05", kNowMs) == Amsterdam(2026, 12, 5, 9, 5));
  CHECK(*ParseTime("2026-12-05 19:30", kNowMs) == Amsterdam(2026, 12, 5, 19, 30));
  for (const char* text : {"5-12-26", "123-12-2026", "5-12-2026 9:30", "5/12/2026", "5-12-2026 ",
                           "5 december 19:30", "-5-12-2026", "5--12-2026"}) {
    INFO(text);
    auto r = ParseTime(text, kNowMs);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "time.format");
  }
  // Written well, but not a day: the domain's sentence.
  CHECK(ParseTime("31-2-2026", kNowMs).status().message() == "time.invalid_local");
  // The end of a period: a date alone is the whole day (the next day's 00:00), in both forms,
  // also across the change to winter time; a time stays that time.
  CHECK(*kring::cli::ParseEndTime("2026-12-31") == Amsterdam(2027, 1, 1, 0, 0));
  CHECK(*kring::cli::ParseEndTime("31-12-2026") == Amsterdam(2027, 1, 1, 0, 0));
  CHECK(*kring::cli::ParseEndTime("2026-10-25") == Amsterdam(2026, 10, 26, 0, 0));
  CHECK(*kring::cli::ParseEndTime("2026-12-31T12:00") == Amsterdam(2026, 12, 31, 12, 0));
}

TEST_CASE("kring still refuses a well-formed time that does not exist", "[cli]") {
  for (const char* text : {"2026-02-31", "2026-13-01", "2026-12-05T24:00", "2026-12-05T19:60",
                           "2026-03-29T02:30", "now+1d@24:00", "now+1d@19:60", "1969-12-31",
                           "2200-01-01", "1234567890123456", "now+1234567d", "now+1w"}) {
    INFO(text);
    CHECK_FALSE(ParseTime(text, kNowMs).ok());
  }
}

TEST_CASE("a due date alone means the end of that day and a start needs its time", "[cli]") {
  // Shown as that day, 23:59: the 5th still counts (before, it was the 5th at 00:00).
  CHECK(*kring::cli::ParseDueTime("5-12-2026") == Amsterdam(2026, 12, 6, 0, 0) - 1);
  CHECK(*kring::cli::ParseDueTime("2026-10-25") == Amsterdam(2026, 10, 26, 0, 0) - 1);
  CHECK(*kring::cli::ParseDueTime("5-12-2026 10:00") == Amsterdam(2026, 12, 5, 10, 0));
  for (const char* date : {"5-12-2026", "2026-12-05"}) CHECK(kring::cli::IsDateOnly(date));
  for (const char* moment :
       {"5-12-2026 19:30", "2026-12-05T19:30", "now+3d", "now+1d@19:30", "1764547200000"}) {
    INFO(moment);
    CHECK_FALSE(kring::cli::IsDateOnly(moment));
  }
}
