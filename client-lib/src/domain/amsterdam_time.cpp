#include "kring/domain/amsterdam_time.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

namespace kring::domain {
namespace {

constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

// Names are local constants: they are calendar vocabulary, not messages, and both languages must
// stay in step with the number formatting below.
constexpr std::array<std::string_view, 7> kWeekdayNl = {
    "zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"};
constexpr std::array<std::string_view, 7> kWeekdayEn = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNl = {
    "januari", "februari", "maart",     "april",   "mei",      "juni",
    "juli",    "augustus", "september", "oktober", "november", "december"};
constexpr std::array<std::string_view, 12> kMonthEn = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

struct Civil {
  int year;
  int month;
  int day;
};

// Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar.
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(m <= 2 ? y + 1 : y), static_cast<int>(m), static_cast<int>(d)};
}

// 0 = Sunday; 1970-01-01 was a Thursday.
int WeekdayFromDays(int64_t days) {
  int64_t w = (days + 4) % 7;
  if (w < 0) w += 7;
  return static_cast<int>(w);
}

int64_t LastSundayUtcOneAm(int year, int month) {
  const int last = DaysInMonth(year, month);
  const int64_t days = DaysFromCivil(year, month, last);
  return (days - WeekdayFromDays(days)) * kMsPerDay + kMsPerHour;
}

int64_t Clamp(int64_t utc_ms) {
  return std::clamp(utc_ms, kMinSupportedUtcMs, kMaxSupportedUtcMs - 1);
}

std::string TwoDigits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

}  // namespace

bool IsSupportedUtcMs(int64_t utc_ms) {
  return utc_ms >= kMinSupportedUtcMs && utc_ms < kMaxSupportedUtcMs;
}

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = month <= 2 ? int64_t{year} - 1 : int64_t{year};
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = month > 2 ? month - 3 : month + 9;
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<size_t>(month - 1)];
}

int64_t SummerTimeStartUtcMs(int year) { return LastSundayUtcOneAm(year, 3); }
int64_t SummerTimeEndUtcMs(int year) { return LastSundayUtcOneAm(year, 10); }

bool IsAmsterdamSummerTime(int64_t utc_ms) {
  utc_ms = Clamp(utc_ms);
  // The UTC year is the right one: both changes are far from New Year.
  const int year = CivilFromDays(FloorDiv(utc_ms, kMsPerDay)).year;
  return utc_ms >= SummerTimeStartUtcMs(year) && utc_ms < SummerTimeEndUtcMs(year);
}

int AmsterdamUtcOffsetMinutes(int64_t utc_ms) { return IsAmsterdamSummerTime(utc_ms) ? 120 : 60; }

namespace {

// Calendar fields of `utc_ms` shifted by `offset_minutes`.
AmsterdamTime Breakdown(int64_t utc_ms, int offset_minutes) {
  AmsterdamTime t;
  t.utc_offset_minutes = offset_minutes;
  t.summer_time = offset_minutes == 120;
  const int64_t local = utc_ms + offset_minutes * kMsPerMinute;
  const int64_t days = FloorDiv(local, kMsPerDay);
  const int64_t in_day = local - days * kMsPerDay;
  const Civil c = CivilFromDays(days);
  t.year = c.year;
  t.month = c.month;
  t.day = c.day;
  t.hour = static_cast<int>(in_day / kMsPerHour);
  t.minute = static_cast<int>(in_day % kMsPerHour / kMsPerMinute);
  t.second = static_cast<int>(in_day % kMsPerMinute / 1000);
  t.millisecond = static_cast<int>(in_day % 1000);
  t.weekday = WeekdayFromDays(days);
  return t;
}

}  // namespace

AmsterdamTime ToAmsterdam(int64_t utc_ms) {
  utc_ms = Clamp(utc_ms);
  return Breakdown(utc_ms, AmsterdamUtcOffsetMinutes(utc_ms));
}

AmsterdamTime UtcCalendarTime(int64_t utc_ms) { return Breakdown(Clamp(utc_ms), 0); }

Result<int64_t> FromAmsterdam(const AmsterdamTime& local) {
  if (local.year < 1970 || local.year > 2199 || local.month < 1 || local.month > 12 ||
      local.day < 1 || local.day > DaysInMonth(local.year, local.month) || local.hour < 0 ||
      local.hour > 23 || local.minute < 0 || local.minute > 59 || local.second < 0 ||
      local.second > 59 || local.millisecond < 0 || local.millisecond > 999) {
    return InvalidArgument("time.invalid_local");
  }
  const int64_t wall = DaysFromCivil(local.year, local.month, local.day) * kMsPerDay +
                       local.hour * kMsPerHour + local.minute * kMsPerMinute +
                       local.second * int64_t{1000} + local.millisecond;
  // Try both offsets; a candidate is real when the rule gives that same offset at that instant.
  // Summer time first, so an autumn time that occurs twice resolves to its first occurrence.
  for (int offset : {120, 60}) {
    const int64_t utc = wall - offset * kMsPerMinute;
    if (!IsSupportedUtcMs(utc)) continue;
    if (AmsterdamUtcOffsetMinutes(utc) == offset) return utc;
  }
  const int64_t as_winter = wall - 60 * kMsPerMinute;
  if (!IsSupportedUtcMs(as_winter) || !IsSupportedUtcMs(wall - 120 * kMsPerMinute)) {
    return InvalidArgument("time.invalid_local");
  }
  return InvalidArgument("time.nonexistent_local");
}

std::string FormatAmsterdamDate(int64_t utc_ms, Language language) {
  const AmsterdamTime t = ToAmsterdam(utc_ms);
  const bool nl = language == Language::kDutch;
  const auto wd = static_cast<size_t>(t.weekday);
  const auto mo = static_cast<size_t>(t.month - 1);
  std::string out(nl ? kWeekdayNl[wd] : kWeekdayEn[wd]);
  out += ' ';
  out += std::to_string(t.day);
  out += ' ';
  out += nl ? kMonthNl[mo] : kMonthEn[mo];
  out += ' ';
  out += std::to_string(t.year);
  return out;
}

std::string FormatAmsterdamClock(int64_t utc_ms) {
  const AmsterdamTime t = ToAmsterdam(utc_ms);
  return TwoDigits(t.hour) + ":" + TwoDigits(t.minute);
}

std::string FormatAmsterdamDateTime(int64_t utc_ms, Language language) {
  return FormatAmsterdamDate(utc_ms, language) + ", " + FormatAmsterdamClock(utc_ms);
}

}  // namespace kring::domain
