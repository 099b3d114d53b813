// A time as a user types it for the kring CLI (tools/kring/time_arg.h: ParseTime): "now+3d",
// "now+7d@19:30", "2026-12-05", "2026-12-05T19:30", UTC milliseconds. Properties: no crash;
// anything refused is INVALID_ARGUMENT; a text taken is one of those forms character by
// character (no sign, space or missing digit inside a number); a time taken reads the same again,
// and written back in either form the CLI reads (UTC milliseconds; the Amsterdam wall clock, for a
// whole minute in the supported range) reads back as the same instant, the second of autumn's two
// equal hours excepted (it reads as the first, summer time first); a date or wall clock typed in
// its exact form is the wall clock of the instant taken (nothing rolled over: no 31 February, no
// 24:00, no hour skipped in spring). "now" is a fixed instant (ParseTime's overload with `now_ms`),
// so an input means the same in every run.
#include <cstdint>
#include <cstdio>
#include <string>

#include "kring/domain/amsterdam_time.h"

#include "fuzz_check.h"
#include "time_arg.h"

namespace {

namespace domain = kring::domain;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kNowMs = 1'764'547'200'000;  // 2025-12-01T00:00Z

kring::Result<int64_t> ParseTime(const std::string& text) {
  return kring::cli::ParseTime(text, kNowMs);
}

bool SameWallClock(const domain::AmsterdamTime& a, const domain::AmsterdamTime& b) {
  return a.year == b.year && a.month == b.month && a.day == b.day && a.hour == b.hour &&
         a.minute == b.minute;
}

bool IsDigit(char ch) { return ch >= '0' && ch <= '9'; }

// `text` is `form` with a digit for each 'd'.
bool Matches(const std::string& text, const std::string& form) {
  if (text.size() != form.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (form[i] == 'd' ? !IsDigit(text[i]) : text[i] != form[i]) return false;
  }
  return true;
}

// The exact forms "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM".
bool ExactForm(const std::string& text) {
  return Matches(text, "dddd-dd-dd") || Matches(text, "dddd-dd-ddTdd:dd");
}

// A date as written in the Netherlands ("5-12-2026", "05-12-2026"), alone or with "HH:MM" after
// 'T', a space or '@'; or the ISO date with a space before the clock time.
bool DutchForm(const std::string& text) {
  if (Matches(text, "dddd-dd-dd dd:dd")) return true;
  for (const std::string date : {"d-d-dddd", "dd-d-dddd", "d-dd-dddd", "dd-dd-dddd"}) {
    if (Matches(text, date)) return true;
    for (const char* sep : {"T", " ", "@"}) {
      if (Matches(text, date + sep + "dd:dd")) return true;
    }
  }
  return false;
}

// One of the documented forms, character by character: "now", "now+Nd" / "-Nh" / "+Nm" with
// 1 to 6 digits, either of those with "@HH:MM", an exact date or wall clock (ISO or Dutch), or
// 1 to 15 digits.
bool DocumentedForm(const std::string& text) {
  if (ExactForm(text) || DutchForm(text)) return true;
  if (!text.empty() && text.size() <= 15 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    return true;
  }
  if (text.rfind("now", 0) != 0) return false;
  std::string rest = text.substr(3);
  if (const size_t at = rest.find('@'); at != std::string::npos) {
    if (!Matches(rest.substr(at), "@dd:dd")) return false;
    rest = rest.substr(0, at);
  }
  if (rest.empty()) return true;
  if (rest.size() < 3 || rest.size() > 8 || (rest[0] != '+' && rest[0] != '-')) return false;
  const char unit = rest.back();
  if (unit != 'd' && unit != 'h' && unit != 'm') return false;
  for (size_t i = 1; i + 1 < rest.size(); ++i) {
    if (!IsDigit(rest[i])) return false;
  }
  return true;
}

int Number(const std::string& text, size_t at, size_t n) { return std::stoi(text.substr(at, n)); }

void CheckWallClock(int64_t v) {
  if (!domain::IsSupportedUtcMs(v) || v % 60'000 != 0) return;
  const domain::AmsterdamTime t = domain::ToAmsterdam(v);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute);
  kring::Result<int64_t> back = ParseTime(text);
  if (!back.ok()) {
    // Only where the instant after it leaves the range (the last hours before 2200 in UTC).
    KRING_FUZZ_CHECK(!domain::IsSupportedUtcMs(v + 2 * kHourMs));
    return;
  }
  KRING_FUZZ_CHECK(*back == v ||
                   (*back == v - kHourMs && SameWallClock(domain::ToAmsterdam(*back), t)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  kring::Result<int64_t> r = ParseTime(text);
  if (!r.ok()) {
    KRING_FUZZ_CHECK(r.status().code() == kring::StatusCode::kInvalidArgument);
    return 0;
  }
  const int64_t v = *r;
  // Only the documented forms: no sign, space or missing digit inside a number.
  KRING_FUZZ_CHECK(DocumentedForm(text));
  if (text == "now") KRING_FUZZ_CHECK(v == kNowMs);
  kring::Result<int64_t> again = ParseTime(text);
  KRING_FUZZ_CHECK(again.ok() && *again == v);
  if (v >= 0 && v <= 999'999'999'999'999) {
    kring::Result<int64_t> ms = ParseTime(std::to_string(v));
    KRING_FUZZ_CHECK(ms.ok() && *ms == v);
  }
  CheckWallClock(v);
  if (ExactForm(text)) {
    const domain::AmsterdamTime t = domain::ToAmsterdam(v);
    domain::AmsterdamTime typed;
    typed.year = Number(text, 0, 4);
    typed.month = Number(text, 5, 2);
    typed.day = Number(text, 8, 2);
    typed.hour = text.size() == 16 ? Number(text, 11, 2) : 0;
    typed.minute = text.size() == 16 ? Number(text, 14, 2) : 0;
    KRING_FUZZ_CHECK(SameWallClock(t, typed));
  }
  return 0;
}
