// The team report on a coordinator's device (DOMAIN 8, F6): each case's anonymous figures read
// from its state, and the report over every case this device holds in which its account is a
// coordinator. The figures and exports are those of team_report.h (no names, ids or free text);
// this file only turns case state into them.
//
// Thread-safety: ComputeCaseFigures is pure; the others are as thread-safe as the Client.
#pragma once

#include <string>
#include <vector>

#include "kring/client.h"
#include "kring/common/status.h"
#include "kring/domain/messages.h"
#include "kring/domain/team_report.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

// One case's figures from the state this device holds:
//   meeting_held / meeting_utc_ms  the earliest meeting that was not cancelled and whose
//                                  information phase was started (the beraad took place); its
//                                  time is the meeting's planned start
//   spoed                          the referral or the held meeting is spoed
//   referral_utc_ms                the earliest referral's time; left out when the case has no
//                                  referral or it is dated after the meeting (a typing error must
//                                  not make the whole report fail)
//   plan_accepted                  some version of the plan was accepted (a later adjustment not
//                                  yet accepted does not take that away)
//   agreements_assessed / _done    at the latest six-week check
//   wellbeing / cost before, after the micro-analysis
// Figures come from what this device may read; a coordinator holds all of them.
CaseFigures ComputeCaseFigures(const v1::CaseState& state);

// The figures of every case on this device in which this account is a coordinator (optimistic
// views, so the coordinator's own offline edits count). Cases where the account is only a member
// are left out: the report is about the coordinator's own work.
Result<std::vector<CaseFigures>> CoordinatedCaseFigures(const client::Client& client);

// ComputeTeamReport over CoordinatedCaseFigures.
Result<TeamReport> TeamReportOfMyCases(const client::Client& client, const ReportPeriod& period);

enum class ReportFormat { kCsv, kJson };
// The report as a file to hand to the team: TeamReportCsv (labels in `language`) or
// TeamReportJson.
Result<std::string> ExportTeamReport(const client::Client& client, const ReportPeriod& period,
                                     ReportFormat format, Language language = Language::kDutch);

}  // namespace kring::domain
