// The anonymous figures of each case this device coordinates, in a form that does not need
// plan.h: plan.h and team_report.h both define domain::CaseFigures, so no file can include both.
// TODO(glue): replace with domain::CoordinatedCaseFigures (case_figures.h) once it is merged.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kring/client.h"
#include "kring/common/status.h"

namespace kring::cli {

struct Figures {
  bool meeting_held = false;
  bool spoed = false;
  std::optional<int64_t> referral_ms;
  std::optional<int64_t> meeting_ms;
  bool plan_accepted = false;
  int32_t agreements_assessed = 0;
  int32_t agreements_done = 0;
  std::optional<int32_t> wellbeing_before;
  std::optional<int32_t> wellbeing_after;
  std::optional<int64_t> cost_before_cents;
  std::optional<int64_t> cost_after_cents;
};

// Cases where this account is a coordinator (the report is about the coordinator's own work).
Result<std::vector<Figures>> CoordinatedFigures(client::Client& client);

}  // namespace kring::cli
