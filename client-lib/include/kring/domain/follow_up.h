// Follow-up of the plan (DOMAIN steps 5-7, F4-F6): the coordinator's 4-week check-in, the
// six-week check, lists (my agreements, overdue, upcoming checks, changed since), the JIM mentor
// and the micro-analysis. Stored in the case log; the reducer enforces who may write what, and a
// refused call fails with PERMISSION_DENIED and the key that says who may: "refused.managers_only"
// (checks, micro-analysis), "rule.mentor_designate" (DesignateMentor), "rule.mentor_only"
// (LogMentorCheckIn, LogEvaluation), "member.waiting_approval" for an account still waiting for
// the chair's approval.
//
// Thread-safety: a FollowUp is a thin handle; its methods are as thread-safe as the Client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/domain/plan.h"

namespace kring::domain {

enum class CheckOutcome { kContinue, kAdjust, kVervolgberaad };

struct AssessmentInput {
  Bytes agreement_id;
  AgreementStatus result = AgreementStatus::kDone;  // done, partly, not done, blocked
  std::optional<Obstacle> obstacle;                 // required when blocked
};

struct SixWeekCheckInput {
  int64_t at_ms = 0;
  // The agreements assessed, each once. An agreement left out is not part of the check and
  // keeps its status: nothing about an agreement changes without an assessment.
  std::vector<AssessmentInput> assessments;
  CheckOutcome outcome = CheckOutcome::kContinue;
  std::string note;
};

struct SixWeekCheck {
  Bytes check_id;
  Bytes version_id;
  int64_t at_ms = 0;
  CheckOutcome outcome = CheckOutcome::kContinue;
  std::vector<AssessmentInput> assessments;
};

struct UpcomingCheck {
  enum class Kind { kCheckIn, kSixWeekCheck, kMentorEvaluation };
  Kind kind = Kind::kCheckIn;
  int64_t due_ms = 0;
  bool overdue = false;  // due before `now`
};

// "Since I last looked": an entity of the plan created or changed after a seq.
struct Change {
  Bytes entity_id;
  std::string type;
  bool created = false;             // created after the seq
  std::vector<std::string> fields;  // fields written after the seq (sorted)
  uint64_t seq = 0;                 // the latest seq that touched it
};

struct MentorInput {
  Bytes young_person;  // person id
  Bytes mentor;        // person id
  bool parental_consent = false;
  Bytes consent_by;             // person id of the parent who consented (optional)
  int64_t mentor_birth_ms = 0;  // optional: to warn when the mentor is under 18
  int64_t now_ms = 0;
};

struct MentorDesignation {
  Bytes mentor_id;                    // the designation entity
  std::vector<std::string> warnings;  // keys: "mentor.warn_parent", "mentor.warn_under_18"
};

// One dated note in a log: a mentor's check-in or evaluation, a 4-week check-in.
struct LogEntry {
  int64_t at_ms = 0;
  std::string note;
  Bytes author_account_id;  // who logged it
};
using MentorLogEntry = LogEntry;

struct MentorState {
  Bytes mentor_id;
  Bytes young_person;
  Bytes mentor;
  bool parental_consent = false;
  int64_t designated_at_ms = 0;
  std::vector<std::string> warnings;
  std::vector<MentorLogEntry> checkins;
  std::vector<MentorLogEntry> evaluations;
  int64_t next_evaluation_ms = 0;  // the first two-monthly date after the last evaluation
};

enum class Moment { kIntake, kReview };

struct MicroAnalysis {
  std::optional<int32_t> wellbeing_before;
  std::optional<int32_t> wellbeing_after;
  std::optional<int32_t> wellbeing_delta;
  std::optional<int64_t> cost_before_cents;  // per month, sum of items
  std::optional<int64_t> cost_after_cents;
  std::optional<int64_t> cost_delta_cents;
};

// Dates of the two-monthly evaluations with the coach: designation + 2, 4, ... calendar months
// (UTC; a day past the month's end falls on its last day).
std::vector<int64_t> EvaluationSchedule(int64_t designated_at_ms, int count);
// Warning keys for a designation (not errors).
std::vector<std::string> MentorWarnings(const v1::CaseState& state, const Bytes& mentor_person,
                                        int64_t mentor_birth_ms, int64_t now_ms);
MicroAnalysis ReadMicroAnalysis(const v1::CaseState& state);
std::optional<SixWeekCheck> ReadLatestCheck(const v1::CaseState& state);

class FollowUp {
 public:
  FollowUp(client::Client& client, Bytes case_id);

  // ---- Checks (chair or coordinator) ----
  Status RecordCheckIn(int64_t at_ms, const std::string& note);
  // Records the assessments and sets each assessed agreement's status to match, also when this
  // device already shows that status (a stale view would otherwise let another member's unseen
  // change of it stand; the later op in the log wins); the others stay as they are.
  Result<Bytes> RecordSixWeekCheck(const SixWeekCheckInput& input);
  Result<std::optional<SixWeekCheck>> LatestCheck() const;
  // Every 4-week check-in (RecordCheckIn), oldest first, with its note and who recorded it.
  Result<std::vector<LogEntry>> CheckIns() const;

  // ---- Lists ----
  Result<std::vector<Agreement>> MyAgreements() const;  // owned by this account's person
  // Not done, not dropped, past their (new) due date.
  Result<std::vector<Agreement>> Overdue(int64_t now_ms) const;
  Result<std::vector<UpcomingCheck>> UpcomingChecks(int64_t now_ms) const;
  // Plan entities created or changed after `since_seq` (confirmed state).
  Result<std::vector<Change>> ChangedSince(uint64_t since_seq) const;

  // ---- Mentor (JIM) ----
  Result<MentorDesignation> DesignateMentor(const MentorInput& input);
  Status LogMentorCheckIn(const Bytes& mentor_id, int64_t at_ms, const std::string& note);
  Status LogEvaluation(const Bytes& mentor_id, int64_t at_ms, const std::string& note);
  Result<std::optional<MentorState>> Mentor() const;

  // ---- Micro-analysis (chair or coordinator) ----
  Status RecordWellBeing(Moment moment, int32_t score, int64_t at_ms);
  Status AddCostItem(Moment moment, const std::string& service, int64_t monthly_cents);
  Result<MicroAnalysis> Micro() const;

 private:
  client::Client& client_;
  Bytes case_id_;
};

}  // namespace kring::domain
