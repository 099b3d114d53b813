#include "time_arg.h"

#include <chrono>
#include <cstdlib>

#include "kring/domain/amsterdam_time.h"

#include "number_arg.h"

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

bool IsDateOnly(const std::string& text) {
  return text.find_first_of("T @:") == std::string::npos && text.rfind("now", 0) != 0 &&
         text.find('-') != std::string::npos;
}

Result<int64_t> ParseDueTime(const std::string& text) {
  KRING_ASSIGN_OR_RETURN(int64_t end, ParseEndTime(text));
  return IsDateOnly(text) ? end - 1 : end;
}

Result<int64_t> ParseEndTime(const std::string& text) {
  KRING_ASSIGN_OR_RETURN(int64_t at, ParseTime(text));
  // A date alone ("2026-12-31", "31-12-2026"): to the end of that day, so the day counts.
  if (!IsDateOnly(text)) return at;
  domain::AmsterdamTime next = domain::ToAmsterdam(at + 36 * 3'600'000);  // the next day
  next.hour = 0;
  next.minute = 0;
  next.second = 0;
  next.millisecond = 0;
  return domain::FromAmsterdam(next);
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

// A date as people in the Netherlands write it, "5-12-2026" or "05-12-2026", in ISO order
// ("2026-12-05"); an empty string for anything else.
std::string DutchDateAsIso(const std::string& date) {
  const size_t first = date.find('-');
  const size_t second = first == std::string::npos ? first : date.find('-', first + 1);
  if (second == std::string::npos) return "";
  const std::string day = date.substr(0, first);
  const std::string month = date.substr(first + 1, second - first - 1);
  const std::string year = date.substr(second + 1);
  const auto digits = [](const std::string& part, size_t min, size_t max) {
    if (part.size() < min || part.size() > max) return false;
    for (char ch : part) {
      if (!IsDigit(ch)) return false;
    }
    return true;
  };
  if (!digits(day, 1, 2) || !digits(month, 1, 2) || !digits(year, 4, 4)) return "";
  const auto two = [](const std::string& part) { return part.size() == 1 ? "0" + part : part; };
  return year + "-" + two(month) + "-" + two(day);
}

}  // namespace

Result<int64_t> ParseTime(const std::string& text, int64_t now_ms) {
  // What is not one of the forms gets the forms to copy; a form that is not a real moment
  // (31 February, a clock-change hour) the domain's "does not exist".
  const Status bad = InvalidArgument("time.format");
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
    if (!AllDigits(digits, 6)) return bad;
    int64_t n = std::atoll(digits.c_str());
    int64_t unit_ms = unit == 'd' ? 86'400'000 : unit == 'h' ? 3'600'000 : unit == 'm' ? 60'000 : 0;
    if (unit_ms == 0) return bad;
    return now_ms + (sign == '+' ? 1 : -1) * n * unit_ms;
  }
  if (AllDigits(text, 15)) return std::atoll(text.c_str());
  // A date, then maybe a clock time after 'T', a space or '@': "2026-12-05T19:30",
  // "2026-12-05 19:30", "5-12-2026 19:30", "5-12-2026@19:30".
  std::string iso = text;
  const size_t split = text.find_first_of("T @");
  const std::string date = text.substr(0, split);
  if (std::string dutch = DutchDateAsIso(date); !dutch.empty()) {
    iso = dutch + (split == std::string::npos ? "" : "T" + text.substr(split + 1));
  } else if (split != std::string::npos && text[split] == ' ') {
    iso[split] = 'T';
  }
  // "2026-12-05" (00:00 in Amsterdam) or "2026-12-05T19:30": every digit there, nothing else.
  const bool wall_clock = HasForm(iso, "dddd-dd-ddTdd:dd");
  if (!wall_clock && !HasForm(iso, "dddd-dd-dd")) return bad;
  domain::AmsterdamTime t;
  if (wall_clock) {
    t.hour = Number(iso, 11, 2);
    t.minute = Number(iso, 14, 2);
  }
  t.year = Number(iso, 0, 4);
  t.month = Number(iso, 5, 2);
  t.day = Number(iso, 8, 2);
  return domain::FromAmsterdam(t);
}

}  // namespace kring::cli
