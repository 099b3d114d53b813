#include "time_arg.h"

#include <chrono>
#include <cstdio>
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

Result<int64_t> ParseTime(const std::string& text, int64_t now_ms) {
  const Status bad = InvalidArgument("time.invalid_local");
  if (text.empty() || text.size() > 40) return bad;
  // "now+7d@19:30": that day in Amsterdam, at that wall-clock time.
  if (auto at = text.find('@'); at != std::string::npos && text.rfind("now", 0) == 0) {
    KRING_ASSIGN_OR_RETURN(int64_t day, ParseTime(text.substr(0, at), now_ms));
    domain::AmsterdamTime t = domain::ToAmsterdam(day);
    int n = 0;
    const std::string clock = text.substr(at + 1);
    if (clock.size() != 5 || std::sscanf(clock.c_str(), "%2d:%2d%n", &t.hour, &t.minute, &n) != 2 ||
        n != 5) {
      return bad;
    }
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
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return bad;
    }
    if (digits.size() > 6) return bad;
    int64_t n = std::atoll(digits.c_str());
    int64_t unit_ms = unit == 'd' ? 86'400'000 : unit == 'h' ? 3'600'000 : unit == 'm' ? 60'000 : 0;
    if (unit_ms == 0) return bad;
    return now_ms + (sign == '+' ? 1 : -1) * n * unit_ms;
  }
  bool all_digits = true;
  for (char ch : text) all_digits = all_digits && ch >= '0' && ch <= '9';
  if (all_digits) {
    if (text.size() > 15) return bad;
    return std::atoll(text.c_str());
  }
  domain::AmsterdamTime t;
  int n = 0;
  if (text.size() == 10) {
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &t.year, &t.month, &t.day, &n) != 3 || n != 10) {
      return bad;
    }
  } else if (text.size() == 16) {
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &t.year, &t.month, &t.day, &t.hour,
                    &t.minute, &n) != 5 ||
        n != 16) {
      return bad;
    }
  } else {
    return bad;
  }
  return domain::FromAmsterdam(t);
}

}  // namespace kring::cli
