// Catch-up after offline edits: three devices (three accounts in one case) each queue `edits`
// edits offline through libkring's Client API, then all sync at once until they have converged;
// vs three floor relay clients appending and reading back the same amount of bytes.
#pragma once

#include <cstddef>

#include "report.h"
#include "workloads.h"

namespace kring::bench {

// Throws (failing the run) when a round does not converge.
void RunCatchUp(Report& report, const Options& options, size_t edits);

}  // namespace kring::bench
