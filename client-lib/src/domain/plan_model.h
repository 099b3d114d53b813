// The plan's entities as stored in the case log: type and field names, canonical hashes, and
// small pure lookups over a CaseState. Shared by the reducer's permission rules (which must be
// deterministic and read only scope 0 and the mutated entity) and by the typed API and queries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

namespace kring::domain::plan_model {

// ---- Entity types ----
// Prefixed so they never collide with generic entities ("agreement", "note") that apps and the
// foundation's tests create without rules.
inline constexpr std::string_view kPlanDraft = "plan_draft";      // lives in a network-only scope
inline constexpr std::string_view kPlanVersion = "plan_version";  // immutable, scope 0
// A version's life-domain details, sealed (unless granted) to a scope without professionals.
inline constexpr std::string_view kPlanDetails = "plan_details";
inline constexpr std::string_view kPlanAcceptance = "plan_acceptance";  // chair, immutable
inline constexpr std::string_view kProfessionalDecision = "plan_professional_decision";
inline constexpr std::string_view kPlanSettings = "plan_settings";  // chair's grants
inline constexpr std::string_view kAgreement = "plan_agreement";
inline constexpr std::string_view kCheckIn = "followup_checkin";  // coordinator, 4 weeks
inline constexpr std::string_view kSixWeekCheck = "six_week_check";
inline constexpr std::string_view kAssessment = "agreement_assessment";
inline constexpr std::string_view kMentor = "mentor_designation";
inline constexpr std::string_view kMentorCheckIn = "mentor_checkin";
inline constexpr std::string_view kMentorEvaluation = "mentor_evaluation";
inline constexpr std::string_view kWellBeing = "micro_wellbeing";
inline constexpr std::string_view kCostItem = "micro_cost_item";
// Written by part 1; read only.
inline constexpr std::string_view kPerson = "person";
inline constexpr std::string_view kReferral = "referral";
inline constexpr std::string_view kMeeting = "meeting";

bool IsPlanType(std::string_view type);

// ---- Plan content fields (drafts and versions share them) ----
inline constexpr std::string_view kLifeDomains[] = {"housing", "finances", "relationships",
                                                    "daytime", "health",   "safety"};
bool IsLifeDomain(std::string_view name);
// "domain_housing" etc.
std::string LifeDomainField(std::string_view domain);

// ---- Agreement fields that make up its content (and its version hash) ----
inline constexpr std::string_view kAgreementContentFields[] = {
    "owner", "action", "due_ms", "recurrence", "checker", "life_domain"};
bool IsAgreementContentField(std::string_view field);

// An agreement the network wrote in a meeting's private time and has not shared yet: the field
// names the meeting (written once, in the creating op). The release shares a copy without it and
// deletes the original, so a marked agreement is never one everyone reads.
inline constexpr std::string_view kAgreementPrivateTime = "private_time";
bool MadeInPrivateTime(const v1::Entity& agreement);
// On the release's copy: the original's id (written once, in the creating op), so an id the
// network noted in private time still names the agreement afterwards.
inline constexpr std::string_view kAgreementCopyOf = "copy_of";
// On the release's copy: the account that wrote the original (written once, in the creating op),
// who edits the copy as the creator it is: the releaser need not be the one who wrote it.
inline constexpr std::string_view kAgreementAuthor = "author";

inline constexpr std::string_view kOutcomes[] = {"done", "partly", "not_done", "blocked",
                                                 "dropped"};
bool IsOutcome(std::string_view s);
// Still to be carried out: not done and not dropped (proposed, accepted, partly, not done,
// blocked).
bool IsOpenOutcome(std::string_view s);
inline constexpr std::string_view kCheckOutcomes[] = {"continue", "adjust", "vervolgberaad"};
bool IsCheckOutcome(std::string_view s);
inline constexpr std::string_view kDecisions[] = {"accept", "accept_with_conditions", "reject"};
bool IsDecision(std::string_view s);

// ---- Reading entities ----
const v1::Entity* FindEntity(const v1::CaseState& state, const std::string& id);
const v1::Value* Field(const v1::Entity& e, std::string_view name);
std::string TextField(const v1::Entity& e, std::string_view name);
std::string BlobField(const v1::Entity& e, std::string_view name);
int64_t IntField(const v1::Entity& e, std::string_view name);  // integer or time_ms
bool FlagField(const v1::Entity& e, std::string_view name);
// Live element values of a set (add-wins: an element with a live tag).
std::vector<v1::Value> SetValues(const v1::Entity& e, std::string_view set);
// Blob values of `hidden_from`: person ids this entity is hidden from.
std::vector<std::string> HiddenFrom(const v1::Entity& e);

// ---- People and roles (scope 0 only, so every reader decides alike) ----
const v1::Entity* FindPerson(const v1::CaseState& state, const std::string& person_id);
// Person ids (scope 0, not deleted) linked to this account.
std::vector<std::string> PersonsOfAccount(const v1::CaseState& state, ByteView account_id);
bool AccountIsPerson(const v1::CaseState& state, ByteView account_id, const std::string& person_id);
bool IsChair(const v1::CaseState& state, ByteView account_id);
bool IsCoordinator(const v1::CaseState& state, ByteView account_id);
bool IsProfessionalAccount(const v1::CaseState& state, ByteView account_id);

// ---- Hashes (BLAKE2b over a framed, canonical encoding) ----
// An agreement's content version: what its owner accepts.
Bytes AgreementHash(const v1::Entity& agreement);
// A plan version (draft or released): its content fields and the agreements it carries
// (`agreement_refs`: sorted id || content hash pairs), and its details by `details_hash`, so
// readers without the details can still check what was accepted.
Bytes PlanHash(const v1::Entity& plan);
// The life-domain details of a version (salted: the hash lies in scope 0).
Bytes DetailsHash(const v1::Entity& details);
// The agreement refs blob for the agreements currently in `state` (not deleted, not still in
// private time).
std::string AgreementRefs(const v1::CaseState& state);

// On a version: the id of the version its writer saw as current (an empty blob: none), written
// in its creating op. A version sent late from an older view takes the next number without
// conflicting with the versions in between; this field shows that its writer never saw them
// (StaleVersionConflicts). Versions made before it was stored lack it and show nothing.
inline constexpr std::string_view kVersionBasedOn = "based_on";
// On a version: the log position its writer's view had reached (CaseState::seq), written in its
// creating op. A version of another account that reached the log after it was not in that view,
// even when based_on names the version right before (two versions made in one old view).
// The writer's word, like based_on. Versions made before it was stored fall back to based_on.
inline constexpr std::string_view kVersionSeenSeq = "seen_seq";

// The newest released version: the last in the log (a pending one, seq 0, is this device's
// newest; among several pending ones the highest stored `number`, as this device made them), then
// id. Null when there is none.
const v1::Entity* CurrentVersion(const v1::CaseState& state);
// The order CurrentVersion picks by: true when `a` is newer than `b`.
bool NewerVersion(const v1::Entity& a, const v1::Entity& b);
// The number users see for a version: its place in that order (1 = the oldest). A version that
// arrives late goes last, so the number of a version in the log never changes; only one still
// pending on this device may move up when others reach the server before it. The `number` a
// version stores is its writer's guess, a display hint no reader trusts: anyone who may write a
// version chooses it.
int64_t VersionNumber(const v1::CaseState& state, const v1::Entity& version);
// Every version (scope 0, not deleted) in that order, oldest first: entry i has number i + 1.
std::vector<const v1::Entity*> VersionsInOrder(const v1::CaseState& state);
// Of `order[i]` (VersionsInOrder): the number of the version its writer saw as current (0: none,
// -1: it does not say), and the number of the newest version before it that its writer did not
// see (0: nothing skipped; kVersionSeenSeq). domain::PlanVersion::based_on and ::skipped.
std::pair<int64_t, int64_t> VersionBase(const std::vector<const v1::Entity*>& order, size_t i);
// domain::StaleVersionConflicts (kring/domain/plan.h), for callers of this header.
std::vector<v1::Conflict> StaleVersionConflicts(const v1::CaseState& state);

}  // namespace kring::domain::plan_model
