// The times a user types on the command line ("now+3d", "2026-12-05T19:30"): no client, no
// output, so the fuzz target (tests/fuzz/fuzz_parse_time.cpp) links it alone.
#pragma once

#include <cstdint>
#include <string>

#include "kring/common/status.h"

namespace kring::cli {

// A time typed by the user: "now", "now+3d" / "now-2h" / "now+30m", "now+7d@19:30" (that day
// at 19:30 in Amsterdam), a date "2026-12-05" or "5-12-2026" (00:00 in Amsterdam), with a clock
// time after 'T', a space or '@' ("2026-12-05T19:30", "5-12-2026 19:30": Amsterdam wall clock),
// or UTC milliseconds. "now" is NowMs(). What is none of these: "time.format" (the forms shown).
Result<int64_t> ParseTime(const std::string& text);
// The end of a period (`--to`): a date alone means the end of that day (the next day's 00:00 in
// Amsterdam), so "--to 2026-12-31" includes the 31st; other forms as ParseTime.
Result<int64_t> ParseEndTime(const std::string& text);
// A due date or deadline (`--due`, `--new-due`, `--deadline`): a date alone means the end of that
// day (ParseEndTime less one millisecond, so it shows as that day, 23:59): "klaar op 5-12-2026"
// means the 5th still counts. Other forms as ParseTime.
Result<int64_t> ParseDueTime(const std::string& text);
// Whether `text` is a date without a time of day ("2026-12-05", "5-12-2026"): a meeting's start
// needs the time, or it would silently be midnight.
bool IsDateOnly(const std::string& text);
// The same with "now" at `now_ms` (UTC milliseconds): the fuzz target's fixed instant.
Result<int64_t> ParseTime(const std::string& text, int64_t now_ms);
// "Now" for this command: the moment of the first call, the same value for every later call in
// one run of kring.
int64_t NowMs();

}  // namespace kring::cli
