// Marks that let one callgrind run of the benchmark count a part of it apart from the rest
// (`--only coldcount`, docs/performance.md). Outside valgrind each mark is a few instructions
// that do nothing; without valgrind's headers (package valgrind) they compile to nothing.
#pragma once

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define KRING_BENCH_CALLGRIND_MARKS 1
#endif

namespace kring::bench {

// Whether this build has the marks (a run under callgrind without them could not tell the
// contenders apart).
#ifdef KRING_BENCH_CALLGRIND_MARKS
inline constexpr bool kCallgrindMarks = true;
#else
inline constexpr bool kCallgrindMarks = false;
#endif

// Starts callgrind's totals from zero (the next dump's "totals:" line counts from here).
inline void ZeroCallgrindCounts() {
#ifdef KRING_BENCH_CALLGRIND_MARKS
  CALLGRIND_ZERO_STATS;
#endif
}

// Turns counting on or off for the calling thread only.
inline void ToggleCallgrindCounting() {
#ifdef KRING_BENCH_CALLGRIND_MARKS
  CALLGRIND_TOGGLE_COLLECT;
#endif
}

// Writes what was counted since the last zero or dump to a file of its own, named `what` in its
// "desc: Trigger: Client Request:" line, its count in the "totals:" line, and starts the totals
// from zero again.
inline void DumpCallgrindCounts(const char* what) {
#ifdef KRING_BENCH_CALLGRIND_MARKS
  CALLGRIND_DUMP_STATS_AT(what);
#else
  (void)what;
#endif
}

}  // namespace kring::bench
