// Europe/Amsterdam time without a tz database: the EU rule, its two edges each year, local ->
// UTC for skipped and doubled times, and the Dutch/English display text. Expected values come
// from the IANA tz database (Python zoneinfo), not from the code under test.
#include "kring/domain/amsterdam_time.h"

#include <catch2/catch.hpp>

using namespace kring;
using namespace kring::domain;

namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kMinute = 60'000;

AmsterdamTime Local(int y, int mo, int d, int h, int mi, int s = 0) {
  AmsterdamTime t;
  t.year = y;
  t.month = mo;
  t.day = d;
  t.hour = h;
  t.minute = mi;
  t.second = s;
  return t;
}

void CheckLocal(int64_t utc_ms, int y, int mo, int d, int h, int mi, int s, int offset) {
  INFO("utc_ms " << utc_ms);
  const AmsterdamTime t = ToAmsterdam(utc_ms);
  CHECK(t.year == y);
  CHECK(t.month == mo);
  CHECK(t.day == d);
  CHECK(t.hour == h);
  CHECK(t.minute == mi);
  CHECK(t.second == s);
  CHECK(t.utc_offset_minutes == offset);
  CHECK(t.summer_time == (offset == 120));
}

}  // namespace

TEST_CASE("UTC to Amsterdam matches the tz database on known instants", "[amsterdam_time]") {
  CheckLocal(1796495400000, 2026, 12, 5, 19, 30, 0, 60);  // 2026-12-05T18:30Z
  CheckLocal(0, 1970, 1, 1, 1, 0, 0, 60);
  // Random instants over the supported range (seeded, from zoneinfo).
  struct Row {
    int64_t utc;
    int y, mo, d, h, mi, s, offset;
  };
  const Row rows[] = {
      {3470981467447, 2079, 12, 28, 10, 31, 7, 60},   {423702537296, 1983, 6, 6, 1, 8, 57, 120},
      {7220151136051, 2198, 10, 18, 15, 32, 16, 120}, {826935316523, 1996, 3, 16, 1, 15, 16, 60},
      {5125466606072, 2132, 6, 2, 14, 43, 26, 120},   {1887670062837, 2029, 10, 26, 2, 47, 42, 120},
      {756075286744, 1993, 12, 16, 21, 54, 46, 60},   {3678354499418, 2086, 7, 24, 15, 8, 19, 120},
      {2113423936399, 2036, 12, 20, 23, 12, 16, 60},  {4845112719321, 2123, 7, 15, 18, 38, 39, 120},
      {521514338854, 1986, 7, 12, 3, 5, 38, 120},     {4977123431599, 2127, 9, 20, 16, 17, 11, 120},
  };
  for (const Row& r : rows) CheckLocal(r.utc, r.y, r.mo, r.d, r.h, r.mi, r.s, r.offset);
}

TEST_CASE("summer time starts and ends on the tz database's instants", "[amsterdam_time]") {
  struct Year {
    int year;
    int64_t start, end;
  };
  const Year years[] = {
      {2024, 1711846800000, 1729990800000}, {2025, 1743296400000, 1761440400000},
      {2026, 1774746000000, 1792890000000}, {2027, 1806195600000, 1824944400000},
      {2028, 1837645200000, 1856394000000}, {2029, 1869094800000, 1887843600000},
      {2030, 1901149200000, 1919293200000},
  };
  for (const Year& y : years) {
    INFO("year " << y.year);
    CHECK(SummerTimeStartUtcMs(y.year) == y.start);
    CHECK(SummerTimeEndUtcMs(y.year) == y.end);
    CHECK_FALSE(IsAmsterdamSummerTime(y.start - 1));
    CHECK(IsAmsterdamSummerTime(y.start));
    CHECK(IsAmsterdamSummerTime(y.end - 1));
    CHECK_FALSE(IsAmsterdamSummerTime(y.end));
  }
}

TEST_CASE("the clock jumps at the spring edge: 02:00 CET becomes 03:00 CEST", "[amsterdam_time]") {
  const int64_t start = 1774746000000;  // 2026-03-29T01:00Z
  CheckLocal(start - 1000, 2026, 3, 29, 1, 59, 59, 60);
  CHECK(ToAmsterdam(start - 1).millisecond == 999);
  CheckLocal(start, 2026, 3, 29, 3, 0, 0, 120);
  CHECK(FormatAmsterdamDateTime(start - kMinute) == "zondag 29 maart 2026, 01:59");
  CHECK(FormatAmsterdamDateTime(start) == "zondag 29 maart 2026, 03:00");

  // 02:00-02:59 does not exist that night.
  for (int minute : {0, 1, 30, 59}) {
    auto r = FromAmsterdam(Local(2026, 3, 29, 2, minute));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "time.nonexistent_local");
  }
  CHECK(FromAmsterdam(Local(2026, 3, 29, 1, 59, 59)).value() == start - 1000);
  CHECK(FromAmsterdam(Local(2026, 3, 29, 3, 0)).value() == start);
  // The day before and after are ordinary.
  CHECK(FromAmsterdam(Local(2026, 3, 28, 2, 30)).value() == start - 24 * kHour + 30 * kMinute);
  CHECK(FromAmsterdam(Local(2026, 3, 30, 2, 30)).value() == start + 23 * kHour + 30 * kMinute);
}

TEST_CASE("the clock goes back at the autumn edge: 02:00-02:59 happens twice", "[amsterdam_time]") {
  const int64_t end = 1792890000000;  // 2026-10-25T01:00Z
  CheckLocal(end - 1000, 2026, 10, 25, 2, 59, 59, 120);
  CheckLocal(end, 2026, 10, 25, 2, 0, 0, 60);
  CheckLocal(end - kHour, 2026, 10, 25, 2, 0, 0, 120);
  // A doubled time resolves to its first occurrence (still summer time).
  CHECK(FromAmsterdam(Local(2026, 10, 25, 2, 0)).value() == end - kHour);
  CHECK(FromAmsterdam(Local(2026, 10, 25, 2, 30)).value() == end - 30 * kMinute);
  CHECK(FromAmsterdam(Local(2026, 10, 25, 1, 59)).value() == end - kHour - kMinute);
  CHECK(FromAmsterdam(Local(2026, 10, 25, 3, 0)).value() == end + kHour);
}

TEST_CASE("local -> UTC -> local round-trips every quarter hour for two years",
          "[amsterdam_time]") {
  const int64_t from = 1767225600000;  // 2026-01-01T00:00Z
  int checked = 0;
  for (int64_t t = from; t < from + 2 * 366 * 24 * kHour; t += 15 * kMinute) {
    const AmsterdamTime local = ToAmsterdam(t);
    auto back = FromAmsterdam(local);
    REQUIRE(back.ok());
    // Only the second pass through the doubled autumn hour maps back to the first pass.
    if (back.value() != t) {
      CHECK(back.value() == t - kHour);
      CHECK_FALSE(local.summer_time);
      CHECK(local.hour == 2);
    }
    ++checked;
  }
  CHECK(checked > 70'000);
}

TEST_CASE("impossible local dates and times are rejected", "[amsterdam_time]") {
  for (const AmsterdamTime& t :
       {Local(2026, 2, 29, 12, 0), Local(2026, 4, 31, 12, 0), Local(2026, 13, 1, 12, 0),
        Local(2026, 0, 1, 12, 0), Local(2026, 6, 1, 24, 0), Local(2026, 6, 1, 12, 60),
        Local(2026, 6, 1, 12, 0, 60), Local(1969, 12, 31, 12, 0), Local(2200, 1, 1, 12, 0),
        Local(1970, 1, 1, 0, 30)}) {
    auto r = FromAmsterdam(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "time.invalid_local");
  }
  CHECK(FromAmsterdam(Local(2028, 2, 29, 12, 0)).ok());  // leap day
  CHECK(HasUserText("time.invalid_local"));
  CHECK(HasUserText("time.nonexistent_local"));
}

TEST_CASE("display text in Dutch and English", "[amsterdam_time]") {
  const int64_t t = 1796495400000;  // 2026-12-05T18:30Z
  CHECK(FormatAmsterdamDateTime(t) == "zaterdag 5 december 2026, 19:30");
  CHECK(FormatAmsterdamDateTime(t, Language::kEnglish) == "Saturday 5 December 2026, 19:30");
  CHECK(FormatAmsterdamDate(t) == "zaterdag 5 december 2026");
  CHECK(FormatAmsterdamClock(t) == "19:30");
  // Summer: 2026-07-01T07:05Z is 09:05 in Amsterdam, a Wednesday.
  CHECK(FormatAmsterdamDateTime(1782889500000) == "woensdag 1 juli 2026, 09:05");
  CHECK(FormatAmsterdamDateTime(1782889500000, Language::kEnglish) ==
        "Wednesday 1 July 2026, 09:05");
  // New Year's Eve 23:30 UTC is already the next year in Amsterdam.
  CHECK(FormatAmsterdamDateTime(1798759800000) == "vrijdag 1 januari 2027, 00:30");

  // Every month and weekday name, from the 1st of each month of 2027 at noon UTC.
  const char* nl[] = {
      "vrijdag 1 januari 2027", "maandag 1 februari 2027", "maandag 1 maart 2027",
      "donderdag 1 april 2027", "zaterdag 1 mei 2027",     "dinsdag 1 juni 2027",
      "donderdag 1 juli 2027",  "zondag 1 augustus 2027",  "woensdag 1 september 2027",
      "vrijdag 1 oktober 2027", "maandag 1 november 2027", "woensdag 1 december 2027"};
  const char* en[] = {
      "Friday 1 January 2027", "Monday 1 February 2027", "Monday 1 March 2027",
      "Thursday 1 April 2027", "Saturday 1 May 2027",    "Tuesday 1 June 2027",
      "Thursday 1 July 2027",  "Sunday 1 August 2027",   "Wednesday 1 September 2027",
      "Friday 1 October 2027", "Monday 1 November 2027", "Wednesday 1 December 2027"};
  for (int m = 1; m <= 12; ++m) {
    const int64_t noon = DaysFromCivil(2027, m, 1) * 24 * kHour + 12 * kHour;
    CHECK(FormatAmsterdamDate(noon) == nl[m - 1]);
    CHECK(FormatAmsterdamDate(noon, Language::kEnglish) == en[m - 1]);
  }
}

TEST_CASE("out-of-range instants are clamped, never undefined", "[amsterdam_time]") {
  CHECK_FALSE(IsSupportedUtcMs(-1));
  CHECK_FALSE(IsSupportedUtcMs(kMaxSupportedUtcMs));
  CHECK(IsSupportedUtcMs(kMaxSupportedUtcMs - 1));
  CHECK(ToAmsterdam(INT64_MIN).year == 1970);
  CHECK(ToAmsterdam(INT64_MAX).year == 2200);  // clamped to 2199-12-31T23:59:59.999Z, +1 h
}
