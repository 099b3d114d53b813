// Europe/Amsterdam civil time without a tz database. Kring stores every time as UTC milliseconds
// (DOMAIN O5) and shows it in Amsterdam time. The EU rule decides the offset: summer time (CEST,
// UTC+2) from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC, winter
// time (CET, UTC+1) otherwise. The rule is applied to every year (it holds since 1996; older
// instants are not a use case). Pure functions: no clock, no locale, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "kring/common/status.h"
#include "kring/domain/messages.h"

namespace kring::domain {

// Supported range: 1970-01-01 up to (not including) 2200-01-01 UTC. Wider instants have no use
// in a netwerkberaad and keep every intermediate value far from overflow.
inline constexpr int64_t kMinSupportedUtcMs = 0;
inline constexpr int64_t kMaxSupportedUtcMs = 7258118400000;  // 2200-01-01T00:00:00Z
bool IsSupportedUtcMs(int64_t utc_ms);

// A wall-clock time in Amsterdam.
struct AmsterdamTime {
  int year = 1970;
  int month = 1;   // 1-12
  int day = 1;     // 1-31
  int hour = 0;    // 0-23
  int minute = 0;  // 0-59
  int second = 0;  // 0-59
  int millisecond = 0;
  int weekday = 4;  // 0 = Sunday ... 6 = Saturday (filled by ToAmsterdam, ignored by From)
  int utc_offset_minutes = 60;  // 60 (CET) or 120 (CEST) (filled by ToAmsterdam)
  bool summer_time = false;     // CEST
};

// Start and end of summer time in `year`, as UTC ms (last Sunday of March/October, 01:00 UTC).
int64_t SummerTimeStartUtcMs(int year);
int64_t SummerTimeEndUtcMs(int year);

// Whether `utc_ms` falls in summer time, and the offset to add to UTC (60 or 120 minutes).
bool IsAmsterdamSummerTime(int64_t utc_ms);
int AmsterdamUtcOffsetMinutes(int64_t utc_ms);

// UTC -> Amsterdam wall clock. Instants outside the supported range are clamped into it (callers
// that accept input validate with IsSupportedUtcMs first).
AmsterdamTime ToAmsterdam(int64_t utc_ms);

// The same fields for UTC itself (offset 0, no summer time): for "Z" timestamps.
AmsterdamTime UtcCalendarTime(int64_t utc_ms);

// Amsterdam wall clock -> UTC ms. Fails with "time.invalid_local" for a date or time that does
// not exist on any calendar (31 April, 24:00, outside the supported range) and with
// "time.nonexistent_local" for a time skipped by the spring change (02:00-02:59 on the last
// Sunday of March). A time that occurs twice in the autumn (02:00-02:59 on the last Sunday of
// October) resolves to the first occurrence (still summer time), the usual calendar choice.
// weekday, utc_offset_minutes and summer_time of `local` are ignored.
Result<int64_t> FromAmsterdam(const AmsterdamTime& local);

// Display text, in Dutch or English, of the Amsterdam time of `utc_ms`:
//   FormatAmsterdamDateTime: "zaterdag 5 december 2026, 19:30" / "Saturday 5 December 2026, 19:30"
//   FormatAmsterdamDate:     "zaterdag 5 december 2026"        / "Saturday 5 December 2026"
//   FormatAmsterdamClock:    "19:30"
std::string FormatAmsterdamDateTime(int64_t utc_ms, Language language = Language::kDutch);
std::string FormatAmsterdamDate(int64_t utc_ms, Language language = Language::kDutch);
std::string FormatAmsterdamClock(int64_t utc_ms);

// Calendar helpers shared by the renderers (proleptic Gregorian, days since 1970-01-01).
int64_t DaysFromCivil(int year, int month, int day);
int DaysInMonth(int year, int month);

}  // namespace kring::domain
