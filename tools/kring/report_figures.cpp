#include "report_figures.h"

#include "kring/domain/plan.h"

namespace kring::cli {

Result<std::vector<Figures>> CoordinatedFigures(client::Client& client) {
  auto me = client.Account();
  if (!me.ok()) return me.status();
  const std::string my_id = ToString(me->account_id);
  std::vector<Figures> out;
  for (const Bytes& case_id : client.Cases()) {
    auto view = client.View(case_id);
    if (!view.ok()) continue;  // e.g. erased or stopped by an alarm: not in the report
    bool coordinator = false;
    for (const auto& m : view->members()) {
      if (m.account_id() == my_id && m.role() == v1::ROLE_COORDINATOR) coordinator = true;
    }
    if (!coordinator) continue;
    const domain::CaseFigures f = domain::ComputeCaseFigures(*view);
    out.push_back({f.meeting_held, f.spoed, f.referral_received_at_ms, f.meeting_held_at_ms,
                   f.plan_accepted, f.agreements_assessed, f.agreements_done, f.wellbeing_before,
                   f.wellbeing_after, f.monthly_cost_before_cents, f.monthly_cost_after_cents});
  }
  return out;
}

}  // namespace kring::cli
