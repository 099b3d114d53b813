// The netwerkberaad commands (kring AREA VERB ...): one table of verbs, each with its flags and
// help, gathered from the cmd_*.cpp files; one function runs a command line against it.
#pragma once

#include <cstddef>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "kring/v1/model.pb.h"

#include "commands.h"

namespace kring::cli {

struct Ctx;

// Verb::max_words for a command that takes a list of words (scope create PERSOON ...).
inline constexpr size_t kAnyNumber = std::numeric_limits<size_t>::max();

struct Verb {
  const char* area;
  const char* verb;    // "" for the area's own command (kring changes)
  const char* syntax;  // the arguments after AREA VERB
  const char* nl;      // what it does, Dutch (B1)
  const char* en;
  std::vector<const char*> value_flags;  // --name VALUE (may repeat)
  std::vector<const char*> switches;     // --name
  int (*run)(Ctx&);  // with ctx.case_id from --case, KRING_CASE or the device's only case
  // How many words (not flags) may follow AREA VERB, as in `syntax`. More is refused before
  // anything happens: a misplaced word must not be silently ignored (conflicts --case X resolve
  // would otherwise list instead of resolve). The command itself checks for too few.
  size_t max_words = 0;
};

const std::vector<Verb>& ReferralVerbs();  // cmd_referral.cpp
const std::vector<Verb>& CircleVerbs();    // cmd_circle.cpp
const std::vector<Verb>& MeetingVerbs();   // cmd_meeting.cpp
const std::vector<Verb>& PlanVerbs();      // cmd_plan.cpp
const std::vector<Verb>& FollowUpVerbs();  // cmd_follow_up.cpp
const std::vector<Verb>& CaseVerbs();      // cmd_case.cpp
const std::vector<Verb>& ExportVerbs();    // cmd_export.cpp
const std::vector<Verb>& ReportVerbs();    // cmd_report.cpp
const std::vector<Verb>& ChangesVerbs();   // cmd_changes.cpp
const std::vector<Verb>& ConflictVerbs();  // cmd_conflicts.cpp

// Whether args[0] is a netwerkberaad area (with args[1] one of its verbs, or --help).
bool IsDomainCommand(const std::vector<std::string>& args);
int RunDomainCommand(const Options& options);
// `kring GROUP --help`: the commands of one group (an area of the netwerkberaad, one of the
// general commands such as member or invite, or both, as for case) in the user's language, on
// `out` (stdout; stderr when it goes with an error). False, printing nothing, for a word that is
// no group.
bool PrintGroupHelp(const std::string& group, std::ostream& out = std::cout);
// The list of areas for `kring --help`.
std::string DomainOverview();
// "Gebruik: kring AREA VERB ..." and what the command does, on stdout.
// The command's usage and what it does: on stdout when asked for (--help), on stderr with an
// error, so that stdout holds nothing but results (scripts, --json).
void PrintVerbHelp(const Verb& v, std::ostream& out = std::cout);

}  // namespace kring::cli
