#include "time_arg.h"

#include <chrono>
#include <cstdlib>

#include "kring/domain/amsterdam_time.h"

namespace kring::cli {

int64_t NowMs() {
  // One instant per command (from its first use): "--slot now+2d" and a default "--deadline
  // now+2d" must mean the same moment, however long the work between reading them takes.
  static const int64_t command_moment = std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count();
  return command_moment;
}

Result<int64_t> ParseTime(const std::string& text) {
  // NowMs() only for a text that uses it: its first call fixes the command's moment.
  return ParseTime(text, text.rfind("now", 0) == 0 ? NowMs() : 0);
}

namespace {

bool IsDigit(char ch) { return ch >= '0' && ch <= '9'; }

// `text` has exactly the shape of `form`: a digit where `form` has 'd', the same character
// elsewhere. No signs, spaces or missing digits (what sscanf's "%2d" lets through).
bool HasForm(const std::string& text, const char* form) {
  const std::string f = form;
  if (text.size() != f.size()) return false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == 'd' ? !IsDigit(text[i]) : text[i] != f[i]) return false;
  }
  return true;
}

// The number of `n` digits at `at` (HasForm has checked they are digits).
int Number(const std::string& text, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
  return v;
}

bool AllDigits(const std::string& text) {
  for (char ch : text) {
    if (!IsDigit(ch)) return false;
  }
  return true;
}

}  // namespace

Result<int64_t> ParseTime(const std::string& text, int64_t now_ms) {
  const Status bad = InvalidArgument("time.invalid_local");
  if (text.empty() || text.size() > 40) return bad;
  // "now+7d@19:30": that day in Amsterdam, at that wall-clock time.
  if (auto at = text.find('@'); at != std::string::npos && text.rfind("now", 0) == 0) {
    const std::string clock = text.substr(at + 1);
    if (!HasForm(clock, "dd:dd")) return bad;
    KRING_ASSIGN_OR_RETURN(int64_t day, ParseTime(text.substr(0, at), now_ms));
    domain::AmsterdamTime t = domain::ToAmsterdam(day);
    t.hour = Number(clock, 0, 2);
    t.minute = Number(clock, 3, 2);
    t.second = 0;
    t.millisecond = 0;
    return domain::FromAmsterdam(t);
  }
  if (text.rfind("now", 0) == 0) {
    if (text.size() == 3) return now_ms;
    char sign = text[3];
    char unit = text.back();
    if ((sign != '+' && sign != '-') || text.size() < 6) return bad;
    std::string digits = text.substr(4, text.size() - 5);
    if (!AllDigits(digits) || digits.size() > 6) return bad;
    int64_t n = std::atoll(digits.c_str());
    int64_t unit_ms = unit == 'd' ? 86'400'000 : unit == 'h' ? 3'600'000 : unit == 'm' ? 60'000 : 0;
    if (unit_ms == 0) return bad;
    return now_ms + (sign == '+' ? 1 : -1) * n * unit_ms;
  }
  if (AllDigits(text)) {
    if (text.size() > 15) return bad;
    return std::atoll(text.c_str());
  }
  // "2026-12-05" (00:00 in Amsterdam) or "2026-12-05T19:30": every digit there, nothing else.
  const bool wall_clock = HasForm(text, "dddd-dd-ddTdd:dd");
  if (!wall_clock && !HasForm(text, "dddd-dd-dd")) return bad;
  domain::AmsterdamTime t;
  if (wall_clock) {
    t.hour = Number(text, 11, 2);
    t.minute = Number(text, 14, 2);
  }
  t.year = Number(text, 0, 4);
  t.month = Number(text, 5, 2);
  t.day = Number(text, 8, 2);
  return domain::FromAmsterdam(t);
}

}  // namespace kring::cli
