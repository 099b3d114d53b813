#include "kring/domain/follow_up.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>
#include <utility>

#include "domain/plan_model.h"
#include "domain/plan_ops.h"
#include "model/reducer.h"

namespace kring::domain {
namespace {

using namespace plan_model;  // NOLINT(google-build-using-namespace): one module's vocabulary
using namespace plan_ops;    // NOLINT(google-build-using-namespace)

constexpr size_t kMutationsPerOp = 200;  // below the reducer's 256 per op
constexpr int64_t kMaxMonthlyCents = 100'000'000;

Bytes B(const std::string& s) { return ToBytes(s); }
std::string S(const Bytes& b) { return ToString(b); }

// A pending entity (seq 0) is this device's newest.
uint64_t Order(uint64_t seq) { return seq == 0 ? UINT64_MAX : seq; }

// Howard Hinnant's civil-date algorithms: calendar months without a time zone library.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::tuple<int64_t, int64_t, int64_t> CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return {y + (m <= 2 ? 1 : 0), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t AddMonths(int64_t ms, int64_t months) {
  const int64_t days = FloorDiv(ms, kDayMs);
  const int64_t rest = ms - days * kDayMs;
  auto [y, m, d] = CivilFromDays(days);
  const int64_t total = y * 12 + (m - 1) + months;
  const int64_t ny = FloorDiv(total, 12);
  const int64_t nm = total - ny * 12 + 1;
  const int64_t nd = std::min(d, DaysInMonth(ny, nm));
  return DaysFromCivil(ny, nm, nd) * kDayMs + rest;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* MomentName(Moment m) { return m == Moment::kIntake ? "intake" : "review"; }

const char* CheckOutcomeName(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::kContinue:
      return "continue";
    case CheckOutcome::kAdjust:
      return "adjust";
    case CheckOutcome::kVervolgberaad:
      return "vervolgberaad";
  }
  return "continue";
}

CheckOutcome CheckOutcomeFromName(std::string_view s) {
  if (s == "adjust") return CheckOutcome::kAdjust;
  if (s == "vervolgberaad") return CheckOutcome::kVervolgberaad;
  return CheckOutcome::kContinue;
}

AgreementStatus OutcomeFromName(std::string_view s) {
  if (s == "partly") return AgreementStatus::kPartly;
  if (s == "not_done") return AgreementStatus::kNotDone;
  if (s == "blocked") return AgreementStatus::kBlocked;
  if (s == "dropped") return AgreementStatus::kDropped;
  return AgreementStatus::kDone;
}

const v1::Entity* LatestOfType(const v1::CaseState& state, std::string_view type) {
  const v1::Entity* best = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != type || e.deleted() || e.scope_id() != 0) continue;
    if (best == nullptr || std::make_tuple(Order(e.created_seq()), e.entity_id()) >
                               std::make_tuple(Order(best->created_seq()), best->entity_id())) {
      best = &e;
    }
  }
  return best;
}

// The entries of `type` that name `mentor_id` in `mentor_link` (the 4-week check-ins name none:
// all of them with an empty id).
std::vector<LogEntry> LogOf(const v1::CaseState& state, std::string_view type,
                            const std::string& mentor_id) {
  std::vector<LogEntry> out;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != type || e.deleted() || BlobField(e, "mentor_link") != mentor_id) continue;
    out.push_back({IntField(e, "at_ms"), TextField(e, "note"), B(e.created_by_account_id())});
  }
  // By time, then note and who logged it: equal entries by two people keep one order everywhere.
  std::sort(out.begin(), out.end(), [](const LogEntry& a, const LogEntry& b) {
    return std::tie(a.at_ms, a.note, a.author_account_id) <
           std::tie(b.at_ms, b.note, b.author_account_id);
  });
  return out;
}

Status CheckNote(const std::string& note) {
  return note.size() <= kMaxPlanTextBytes ? Status() : InvalidArgument("followup.note_too_long");
}

std::optional<MentorState> ReadMentor(const v1::CaseState& state) {
  const v1::Entity* e = LatestOfType(state, kMentor);
  if (e == nullptr) return std::nullopt;
  MentorState m;
  m.mentor_id = B(e->entity_id());
  m.young_person = B(BlobField(*e, "young_person"));
  m.mentor = B(BlobField(*e, "mentor"));
  m.parental_consent = FlagField(*e, "parental_consent");
  m.designated_at_ms = IntField(*e, "designated_at_ms");
  m.warnings = MentorWarnings(state, m.mentor, IntField(*e, "mentor_birth_ms"), m.designated_at_ms);
  m.checkins = LogOf(state, kMentorCheckIn, e->entity_id());
  m.evaluations = LogOf(state, kMentorEvaluation, e->entity_id());
  const int64_t last = m.evaluations.empty() ? m.designated_at_ms : m.evaluations.back().at_ms;
  // The first two-monthly date after the last evaluation (bounded: 50 years of evaluations).
  for (int64_t date : EvaluationSchedule(m.designated_at_ms, 300)) {
    if (date > last) {
      m.next_evaluation_ms = date;
      break;
    }
  }
  return m;
}

}  // namespace

std::vector<int64_t> EvaluationSchedule(int64_t designated_at_ms, int count) {
  std::vector<int64_t> out;
  for (int i = 1; i <= count; ++i) out.push_back(AddMonths(designated_at_ms, 2 * i));
  return out;
}

std::vector<std::string> MentorWarnings(const v1::CaseState& state, const Bytes& mentor_person,
                                        int64_t mentor_birth_ms, int64_t now_ms) {
  std::vector<std::string> out;
  if (const v1::Entity* p = FindPerson(state, S(mentor_person))) {
    // The relation is in the proposer's own words: look for the usual words for a parent.
    const std::string rel = Lower(TextField(*p, "relation"));
    const bool grand =
        rel.find("groot") != std::string::npos || rel.find("grand") != std::string::npos;
    for (const char* word :
         {"vader", "moeder", "ouder", "papa", "mama", "father", "mother", "parent"}) {
      if (!grand && rel.find(word) != std::string::npos) {
        out.emplace_back("mentor.warn_parent");
        break;
      }
    }
  }
  if (mentor_birth_ms != 0 && now_ms != 0 && AddMonths(mentor_birth_ms, 18 * 12) > now_ms) {
    out.emplace_back("mentor.warn_under_18");
  }
  return out;
}

MicroAnalysis ReadMicroAnalysis(const v1::CaseState& state) {
  MicroAnalysis m;
  std::map<std::string, std::tuple<int64_t, uint64_t, int32_t>> wellbeing;  // moment -> latest
  std::map<std::string, int64_t> cost;
  for (const auto& [key, e] : state.entities()) {
    if (e.deleted()) continue;
    const std::string moment = TextField(e, "moment");
    if (e.type() == kWellBeing) {
      auto entry = std::make_tuple(IntField(e, "at_ms"), Order(e.created_seq()),
                                   static_cast<int32_t>(IntField(e, "score")));
      auto it = wellbeing.find(moment);
      if (it == wellbeing.end() || entry > it->second) wellbeing[moment] = entry;
    } else if (e.type() == kCostItem) {
      cost[moment] += IntField(e, "monthly_cents");
    }
  }
  if (auto it = wellbeing.find("intake"); it != wellbeing.end()) {
    m.wellbeing_before = std::get<2>(it->second);
  }
  if (auto it = wellbeing.find("review"); it != wellbeing.end()) {
    m.wellbeing_after = std::get<2>(it->second);
  }
  if (m.wellbeing_before && m.wellbeing_after) {
    m.wellbeing_delta = *m.wellbeing_after - *m.wellbeing_before;
  }
  if (auto it = cost.find("intake"); it != cost.end()) m.cost_before_cents = it->second;
  if (auto it = cost.find("review"); it != cost.end()) m.cost_after_cents = it->second;
  if (m.cost_before_cents && m.cost_after_cents) {
    m.cost_delta_cents = *m.cost_after_cents - *m.cost_before_cents;
  }
  return m;
}

std::optional<SixWeekCheck> ReadLatestCheck(const v1::CaseState& state) {
  const v1::Entity* best = nullptr;
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kSixWeekCheck || e.deleted()) continue;
    if (best == nullptr ||
        std::make_tuple(IntField(e, "at_ms"), Order(e.created_seq()), e.entity_id()) >
            std::make_tuple(IntField(*best, "at_ms"), Order(best->created_seq()),
                            best->entity_id())) {
      best = &e;
    }
  }
  if (best == nullptr) return std::nullopt;
  SixWeekCheck c;
  c.check_id = B(best->entity_id());
  c.version_id = B(BlobField(*best, "version_id"));
  c.at_ms = IntField(*best, "at_ms");
  c.outcome = CheckOutcomeFromName(TextField(*best, "outcome"));
  for (const auto& [key, e] : state.entities()) {
    if (e.type() != kAssessment || e.deleted() || BlobField(e, "check_id") != best->entity_id()) {
      continue;
    }
    AssessmentInput a;
    a.agreement_id = B(BlobField(e, "agreement_id"));
    a.result = OutcomeFromName(TextField(e, "result"));
    if (a.result == AgreementStatus::kBlocked) {
      a.obstacle = Obstacle{TextField(e, "obstacle"), B(BlobField(e, "obstacle_owner")),
                            IntField(e, "new_due_ms")};
    }
    c.assessments.push_back(std::move(a));
  }
  std::sort(c.assessments.begin(), c.assessments.end(),
            [](const AssessmentInput& a, const AssessmentInput& b) {
              return a.agreement_id < b.agreement_id;
            });
  return c;
}

FollowUp::FollowUp(client::Client& client, Bytes case_id)
    : client_(client), case_id_(std::move(case_id)) {}

Status FollowUp::RecordCheckIn(int64_t at_ms, const std::string& note) {
  KRING_RETURN_IF_ERROR(CheckNote(note));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  const std::string id = NewEntityId(0);
  return SubmitChecked(
      client_, case_id_, view,
      {Create(id, kCheckIn), Set(id, "at_ms", TimeValue(at_ms)), Set(id, "note", TextValue(note))},
      0);
}

Result<std::vector<LogEntry>> FollowUp::CheckIns() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  return LogOf(view, kCheckIn, "");
}

Result<Bytes> FollowUp::RecordSixWeekCheck(const SixWeekCheckInput& in) {
  KRING_RETURN_IF_ERROR(CheckNote(in.note));
  if (in.assessments.empty()) return InvalidArgument("followup.no_assessments");
  if (in.assessments.size() > kMaxAgreements) {
    return InvalidArgument("followup.too_many_assessments");
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  const v1::Entity* version = CurrentVersion(view);
  if (version == nullptr) return FailedPrecondition("plan.no_plan");
  std::vector<std::string> seen;
  for (const AssessmentInput& a : in.assessments) {
    const v1::Entity* e = FindEntity(view, S(a.agreement_id));
    if (e == nullptr || e->deleted() || e->type() != kAgreement) {
      return InvalidArgument("followup.unknown_agreement");
    }
    if (std::find(seen.begin(), seen.end(), S(a.agreement_id)) != seen.end()) {
      return InvalidArgument("followup.duplicate_assessment");
    }
    seen.push_back(S(a.agreement_id));
    if (a.result != AgreementStatus::kDone && a.result != AgreementStatus::kPartly &&
        a.result != AgreementStatus::kNotDone && a.result != AgreementStatus::kBlocked) {
      return InvalidArgument("followup.assessment_invalid");
    }
    if (a.result == AgreementStatus::kBlocked &&
        (!a.obstacle || a.obstacle->description.empty() || a.obstacle->owner.empty() ||
         a.obstacle->new_due_ms <= 0 || FindPerson(view, S(a.obstacle->owner)) == nullptr)) {
      return InvalidArgument("agreement.obstacle_missing");
    }
    if (a.result == AgreementStatus::kBlocked &&
        FlagField(*FindPerson(view, S(a.obstacle->owner)), "left")) {
      return InvalidArgument("agreement.obstacle_owner_left");
    }
    if (a.obstacle && a.obstacle->description.size() > kMaxShortTextBytes) {
      return InvalidArgument("agreement.text_too_long");
    }
  }
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> check{Create(id, kSixWeekCheck),
                                  Set(id, "version_id", BlobValue(version->entity_id())),
                                  Set(id, "at_ms", TimeValue(in.at_ms)),
                                  Set(id, "outcome", TextValue(CheckOutcomeName(in.outcome))),
                                  Set(id, "note", TextValue(in.note))};
  // The agreements' own status follows the check; grouped per scope (an op has one scope).
  // Each assessment and its agreement's new status go in the agreement's own scope, so a
  // restricted agreement's result and obstacle stay with the people who may read it. Ops are cut
  // per scope and kept under the mutation limit, one agreement never split over two ops.
  std::map<uint32_t, std::vector<std::vector<v1::Mutation>>> per_scope;
  for (const AssessmentInput& a : in.assessments) {
    const v1::Entity* e = FindEntity(view, S(a.agreement_id));
    const std::string result = AgreementStatusName(a.result);
    const std::string aid = NewEntityId(e->scope_id());
    std::vector<v1::Mutation> ms{Create(aid, kAssessment), Set(aid, "check_id", BlobValue(id)),
                                 Set(aid, "agreement_id", BlobValue(a.agreement_id)),
                                 Set(aid, "result", TextValue(result))};
    if (a.result == AgreementStatus::kBlocked) {
      ms.push_back(Set(aid, "obstacle", TextValue(a.obstacle->description)));
      ms.push_back(Set(aid, "obstacle_owner", BlobValue(a.obstacle->owner)));
      ms.push_back(Set(aid, "new_due_ms", TimeValue(a.obstacle->new_due_ms)));
      ms.push_back(Set(e->entity_id(), "obstacle", TextValue(a.obstacle->description), e));
      ms.push_back(Set(e->entity_id(), "obstacle_owner", BlobValue(a.obstacle->owner), e));
      ms.push_back(Set(e->entity_id(), "new_due_ms", TimeValue(a.obstacle->new_due_ms), e));
    }
    // Written also when this device shows that status already: its view may be stale, and a
    // skipped status would let another member's unseen change stand against the check just
    // recorded (the later op in the log wins, as for ApprovePerson).
    ms.push_back(Set(e->entity_id(), "outcome", TextValue(result), e));
    per_scope[e->scope_id()].push_back(std::move(ms));
  }
  KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, check, 0));
  for (const auto& [scope, groups] : per_scope) {
    std::vector<v1::Mutation> op;
    for (const auto& group : groups) {
      if (op.size() + group.size() > kMutationsPerOp) {
        KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, op, scope));
        op.clear();
      }
      op.insert(op.end(), group.begin(), group.end());
    }
    if (!op.empty()) KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, op, scope));
  }
  return B(id);
}

Result<std::optional<SixWeekCheck>> FollowUp::LatestCheck() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  return ReadLatestCheck(view);
}

Result<std::vector<Agreement>> FollowUp::MyAgreements() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client_));
  std::vector<Agreement> out;
  for (Agreement& a : ReadAgreements(view)) {
    if (AccountIsPerson(view, me, S(a.input.owner))) out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<Agreement>> FollowUp::Overdue(int64_t now_ms) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  std::vector<Agreement> out;
  for (Agreement& a : ReadAgreements(view)) {
    if (a.status == AgreementStatus::kDone || a.status == AgreementStatus::kDropped) continue;
    const int64_t due = a.current_due_ms();
    if (due > 0 && due < now_ms) out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<UpcomingCheck>> FollowUp::UpcomingChecks(int64_t now_ms) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  std::vector<UpcomingCheck> out;
  if (const v1::Entity* version = CurrentVersion(view)) {
    const Acceptance acc = ReadAcceptance(view, B(version->entity_id()));
    if (acc.accepted) {
      bool checked_in = false, checked = false;
      for (const auto& [key, e] : view.entities()) {
        if (e.deleted()) continue;
        if (e.type() == kCheckIn && IntField(e, "at_ms") >= acc.accepted_at_ms) checked_in = true;
        if (e.type() == kSixWeekCheck && BlobField(e, "version_id") == version->entity_id()) {
          checked = true;
        }
      }
      if (!checked_in) {
        out.push_back(
            {UpcomingCheck::Kind::kCheckIn, acc.checkin_at_ms, acc.checkin_at_ms < now_ms});
      }
      if (!checked) {
        out.push_back(
            {UpcomingCheck::Kind::kSixWeekCheck, acc.review_at_ms, acc.review_at_ms < now_ms});
      }
    }
  }
  if (std::optional<MentorState> m = ReadMentor(view); m && m->next_evaluation_ms != 0) {
    out.push_back({UpcomingCheck::Kind::kMentorEvaluation, m->next_evaluation_ms,
                   m->next_evaluation_ms < now_ms});
  }
  std::sort(out.begin(), out.end(), [](const UpcomingCheck& a, const UpcomingCheck& b) {
    return std::make_tuple(a.due_ms, static_cast<int>(a.kind)) <
           std::make_tuple(b.due_ms, static_cast<int>(b.kind));
  });
  return out;
}

Result<std::vector<Change>> FollowUp::ChangedSince(uint64_t since_seq) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.ConfirmedView(case_id_));
  std::vector<Change> out;
  for (const auto& [key, e] : view.entities()) {
    if (!IsPlanType(e.type())) continue;
    Change c;
    c.entity_id = B(e.entity_id());
    c.type = e.type();
    c.created = e.created_seq() > since_seq;
    c.seq = e.created_seq();
    for (const auto& [name, f] : e.fields()) {
      if (f.seq() > since_seq) {
        c.fields.push_back(name);
        c.seq = std::max(c.seq, f.seq());
      }
    }
    if (!c.created && c.fields.empty()) continue;
    std::sort(c.fields.begin(), c.fields.end());
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) {
    return std::tie(a.seq, a.entity_id) < std::tie(b.seq, b.entity_id);
  });
  return out;
}

Result<MentorDesignation> FollowUp::DesignateMentor(const MentorInput& in) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  if (FindPerson(view, S(in.young_person)) == nullptr) {
    return InvalidArgument("mentor.young_person_unknown");
  }
  if (FindPerson(view, S(in.mentor)) == nullptr) return InvalidArgument("mentor.mentor_unknown");
  if (in.mentor == in.young_person) return InvalidArgument("mentor.same_person");
  if (!in.parental_consent) return InvalidArgument("mentor.consent_missing");
  if (!in.consent_by.empty() && FindPerson(view, S(in.consent_by)) == nullptr) {
    return InvalidArgument("mentor.consent_by_unknown");
  }
  // Someone taken out of the circle is given no new role in it.
  for (auto [person, key] : {std::pair{&in.young_person, "mentor.young_person_left"},
                             std::pair{&in.mentor, "mentor.mentor_left"},
                             std::pair{&in.consent_by, "mentor.consent_by_left"}}) {
    const v1::Entity* e = person->empty() ? nullptr : FindPerson(view, S(*person));
    if (e != nullptr && FlagField(*e, "left")) return InvalidArgument(key);
  }
  const std::string id = NewEntityId(0);
  std::vector<v1::Mutation> ms{Create(id, kMentor),
                               Set(id, "young_person", BlobValue(in.young_person)),
                               Set(id, "mentor", BlobValue(in.mentor)),
                               Set(id, "parental_consent", FlagValue(in.parental_consent)),
                               Set(id, "consent_by", BlobValue(in.consent_by)),
                               Set(id, "mentor_birth_ms", TimeValue(in.mentor_birth_ms)),
                               Set(id, "designated_at_ms", TimeValue(in.now_ms))};
  KRING_RETURN_IF_ERROR(SubmitChecked(client_, case_id_, view, ms, 0));
  return MentorDesignation{B(id), MentorWarnings(view, in.mentor, in.mentor_birth_ms, in.now_ms)};
}

namespace {

// Who reads a mentor's log: the mentor, the young person and the coordinators, and its writer
// (P3: the most restrictive by default; what a young person tells their own trusted adult is not
// the whole circle's). A designation this device does not know is left to the rules to refuse.
Result<uint32_t> MentorLogScope(client::Client& client, const Bytes& case_id,
                                const v1::CaseState& view, const Bytes& mentor_id) {
  const v1::Entity* designation = FindEntity(view, S(mentor_id));
  if (designation == nullptr || designation->type() != kMentor) return 0u;
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client));
  std::vector<std::string> readers{S(me)};
  for (const v1::Member& m : view.members()) {
    if (m.role() == v1::ROLE_COORDINATOR) readers.push_back(m.account_id());
  }
  for (const char* field : {"mentor", "young_person"}) {
    const v1::Entity* person = FindPerson(view, BlobField(*designation, field));
    const std::string account = person == nullptr ? "" : BlobField(*person, "account_id");
    if (!account.empty() && client::model::FindMember(view, B(account)) != nullptr) {
      readers.push_back(account);
    }
  }
  return ScopeWithMembers(client, case_id, view, std::move(readers));
}

Status LogMentorEntry(client::Client& client, const Bytes& case_id, std::string_view type,
                      const Bytes& mentor_id, int64_t at_ms, const std::string& note) {
  KRING_RETURN_IF_ERROR(CheckNote(note));
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client.View(case_id));
  const auto entry = [&](const std::string& id) {
    return std::vector<v1::Mutation>{Create(id, type), Set(id, "mentor_link", BlobValue(mentor_id)),
                                     Set(id, "at_ms", TimeValue(at_ms)),
                                     Set(id, "note", TextValue(note))};
  };
  // Refused before its scope is made: a refused call changes nothing.
  KRING_RETURN_IF_ERROR(CheckAllowed(client, view, entry(NewEntityId(0)), 0));
  KRING_ASSIGN_OR_RETURN(uint32_t scope, MentorLogScope(client, case_id, view, mentor_id));
  return SubmitChecked(client, case_id, view, entry(NewEntityId(scope)), scope);
}

}  // namespace

Status FollowUp::LogMentorCheckIn(const Bytes& mentor_id, int64_t at_ms, const std::string& note) {
  return LogMentorEntry(client_, case_id_, kMentorCheckIn, mentor_id, at_ms, note);
}

Status FollowUp::LogEvaluation(const Bytes& mentor_id, int64_t at_ms, const std::string& note) {
  return LogMentorEntry(client_, case_id_, kMentorEvaluation, mentor_id, at_ms, note);
}

Result<std::optional<MentorState>> FollowUp::Mentor() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  return ReadMentor(view);
}

Status FollowUp::RecordWellBeing(Moment moment, int32_t score, int64_t at_ms) {
  if (score < 0 || score > 10) return InvalidArgument("micro.score_out_of_range");
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  const std::string id = NewEntityId(0);
  return SubmitChecked(client_, case_id_, view,
                       {Create(id, kWellBeing), Set(id, "moment", TextValue(MomentName(moment))),
                        Set(id, "score", IntValue(score)), Set(id, "at_ms", TimeValue(at_ms))},
                       0);
}

Status FollowUp::AddCostItem(Moment moment, const std::string& service, int64_t monthly_cents) {
  if (service.empty()) return InvalidArgument("micro.service_missing");
  if (service.size() > kMaxShortTextBytes) return InvalidArgument("micro.service_too_long");
  if (monthly_cents < 0 || monthly_cents > kMaxMonthlyCents) {
    return InvalidArgument("micro.cost_invalid");
  }
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  const std::string id = NewEntityId(0);
  return SubmitChecked(
      client_, case_id_, view,
      {Create(id, kCostItem), Set(id, "moment", TextValue(MomentName(moment))),
       Set(id, "service", TextValue(service)), Set(id, "monthly_cents", IntValue(monthly_cents))},
      0);
}

Result<MicroAnalysis> FollowUp::Micro() const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, client_.View(case_id_));
  return ReadMicroAnalysis(view);
}

}  // namespace kring::domain
