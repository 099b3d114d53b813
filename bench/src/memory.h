// Server memory per connected, subscribed client: kringd holding a signed-in Subscribe stream
// per client vs the floor relay holding a bare Watch stream per client.
#pragma once

#include <cstddef>
#include <vector>

#include "report.h"
#include "workloads.h"

namespace kring::bench {

// `client_counts` are cumulative tiers (e.g. 100, 1000, 5000) measured on one server process per
// contender per round. Raises RLIMIT_NOFILE (inherited by the servers) and caps the largest tier
// at what the limit allows, with a note.
void RunMemory(Report& report, const Options& options, std::vector<size_t> client_counts);

// RSS figures of a process from /proc, in bytes.
struct ProcessMemory {
  double rss = 0;       // VmRSS
  double rss_anon = 0;  // RssAnon (heap, stacks, anonymous mmaps)
  double pss = 0;       // smaps_rollup Pss
};
ProcessMemory ReadProcessMemory(int pid);

}  // namespace kring::bench
