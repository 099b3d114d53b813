// The times a user types on the command line ("now+3d", "2026-12-05T19:30"): no client, no
// output, so the fuzz target (tests/fuzz/fuzz_parse_time.cpp) links it alone.
#pragma once

#include <cstdint>
#include <string>

#include "kring/common/status.h"

namespace kring::cli {

// A time typed by the user: "now", "now+3d" / "now-2h" / "now+30m", "now+7d@19:30" (that day
// at 19:30 in Amsterdam), a date "2026-12-05"
// (00:00 in Amsterdam), "2026-12-05T19:30" (Amsterdam wall clock), or UTC milliseconds.
// "now" is NowMs().
Result<int64_t> ParseTime(const std::string& text);
// The same with "now" at `now_ms` (UTC milliseconds): the fuzz target's fixed instant.
Result<int64_t> ParseTime(const std::string& text, int64_t now_ms);
// "Now" for this command: the moment of the first call, the same value for every later call in
// one run of kring.
int64_t NowMs();

}  // namespace kring::cli
