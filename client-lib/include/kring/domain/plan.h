// The netwerkberaad's plan (DOMAIN steps 4 and F1-F3, F7, F8): a versioned plan with a version
// hash, its acceptance by the chair (and the responsible professional where bottom lines exist),
// and agreements that their owners accept and whose status is followed up.
//
// Everything is stored as entities in the case log (see client-lib/src/domain/plan_model.h for
// the types and fields); the reducer enforces who may write what on every device
// (client-lib/src/domain/plan_rules.cpp). Calls fail with a Status whose message is a key for
// UserText ("plan.contingency_missing"); nothing is written then. A refusal by the rules is
// PERMISSION_DENIED with the key that says who may: "plan.only_chair_accepts" (Accept),
// "rule.chair_only" (GrantProfessionalsFullView), "plan.not_professional"
// (RecordProfessionalDecision), "plan.network_only" (Release, Publish by a professional),
// "rule.agreement_editor" (EditAgreement), "agreement.not_owner" (AcceptAgreement),
// "rule.agreement_outcome" (UpdateStatus), and "member.waiting_approval" for an account that still
// waits for the chair's approval.
//
// Thread-safety: a Plan is a thin handle; its methods are as thread-safe as the Client.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/domain/messages.h"
#include "kring/domain/printout.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

inline constexpr int64_t kDayMs = 86'400'000;
inline constexpr int32_t kDefaultReviewDays = 42;  // the six-week check
inline constexpr int32_t kCheckInDays = 28;        // the coordinator's 4-week check-in

// Size limits for what people type (UTF-8 bytes).
inline constexpr size_t kMaxPlanTextBytes = 8 * 1024;
inline constexpr size_t kMaxShortTextBytes = 1024;
inline constexpr size_t kMaxHiddenFrom = 64;
inline constexpr size_t kMaxPlanTotalBytes = 64 * 1024;  // all texts of one version
inline constexpr size_t kMaxAgreements = 200;            // per case: a version carries them all

// Life domains: housing, finances, relationships, daytime, health, safety.
const std::vector<std::string>& LifeDomains();

struct PlanContent {
  std::string ik_wil;
  std::string ik_kan;
  std::string ik_heb_nodig;
  std::map<std::string, std::string> life_domains;  // key: one of LifeDomains()
  std::string contingency;                          // "what if it goes wrong"; mandatory
  Bytes contact_person;                             // network contact person; mandatory
  std::string bottom_lines;                         // from the referral; may be empty
  std::string answers;                              // answers to the referral's questions
  Bytes responsible_professional;            // person id; mandatory when bottom_lines is not empty
  int32_t review_days = kDefaultReviewDays;  // six-week check = acceptance + review_days
};

// A draft this device can read (private time: in the network's scope).
struct PlanDraft {
  Bytes draft_id;
  uint32_t scope_id = 0;  // 0: drafted in the open
  PlanContent content;
  // Who wrote to it last (account), as far as this device knows; empty when unknown.
  Bytes last_author_account_id;
  // Who made it (account): its first author, whoever changed it since.
  Bytes first_author_account_id;
};

struct AgreementRef {
  Bytes agreement_id;
  Bytes content_hash;
};

struct PlanVersion {
  Bytes version_id;
  int64_t number = 0;
  PlanContent content;
  std::vector<AgreementRef> agreements;  // the agreements as they were at this version
  Bytes hash;                            // BLAKE2b of the canonical content: what is accepted
  // False when this device cannot read the life-domain details (a professional without the
  // chair's grant) or they do not match the version: content.life_domains is then empty.
  bool details_readable = true;
  uint64_t created_seq = 0;  // 0 while pending on this device
  // The number of the version its writer saw as current when making it: 0 for none, -1 when the
  // version does not say (made before versions stored it).
  int64_t based_on = -1;
  // Made from an older view (e.g. offline): the number of the newest version its writer did not
  // see (0: nothing skipped). What that one changed may be missing from this one; while this is
  // the current version it shows as a conflict (StaleVersionConflicts).
  int64_t skipped = 0;
};

enum class Decision { kNone, kAccept, kAcceptWithConditions, kReject };

struct Acceptance {
  Bytes version_id;
  bool chair_accepted = false;
  int64_t accepted_at_ms = 0;       // the chair's acceptance
  bool needs_professional = false;  // the version has bottom lines
  Decision professional = Decision::kNone;
  std::string conditions;     // with kAcceptWithConditions
  std::string reason;         // with kReject
  bool accepted = false;      // counts as accepted: chair, and professional where needed
  int64_t review_at_ms = 0;   // six-week check date (0 until accepted)
  int64_t checkin_at_ms = 0;  // 4-week check-in date (0 until accepted)
};

enum class AgreementStatus { kProposed, kAccepted, kDone, kPartly, kNotDone, kBlocked, kDropped };
const char* AgreementStatusName(AgreementStatus status);  // "proposed", ..., "not_done"

struct AgreementInput {
  Bytes owner;  // person id (a circle member)
  std::string action;
  int64_t due_ms = 0;              // a due date, or
  std::string recurrence;          // a recurrence in words ("elke zaterdag")
  Bytes checker;                   // person id: who checks
  std::string life_domain;         // one of LifeDomains(), or empty
  std::vector<Bytes> hidden_from;  // person ids this agreement is hidden from
  // People without the app who may still see a restricted agreement on paper (person ids). A
  // restricted agreement is left off every other printout of someone without the app.
  std::vector<Bytes> visible_to;
};

struct Obstacle {
  std::string description;
  Bytes owner;  // person id: who removes the obstacle
  int64_t new_due_ms = 0;
};

struct Agreement {
  Bytes agreement_id;
  AgreementInput input;
  Bytes content_hash;             // the current version of its content
  Bytes accepted_hash;            // what the owner accepted (empty: never)
  bool accepted = false;          // accepted_hash == content_hash
  bool acceptance_stale = false;  // accepted once, but edited afterwards: visibly not accepted
  AgreementStatus status = AgreementStatus::kProposed;
  std::optional<Obstacle> obstacle;  // when blocked
  uint32_t scope_id = 0;
  // The date that counts now: a blocked agreement's new date, else its due date (0 for one with
  // a recurrence instead). input.due_ms stays the date agreed first.
  int64_t current_due_ms() const {
    return obstacle && obstacle->new_due_ms > 0 ? obstacle->new_due_ms : input.due_ms;
  }
  // Unresolved concurrent edits (e.g. two devices set the status offline): both values kept.
  std::vector<v1::Conflict> conflicts;
  // The owner was taken out of the circle (Organising::RemovePerson). The agreement keeps them
  // as owner (the history shows who it was); nobody else is made responsible without a say.
  bool owner_left = false;
  // Still to be done (not done or dropped) by someone who left: pick a new owner with
  // Plan::EditAgreement.
  bool needs_new_owner() const {
    return owner_left && status != AgreementStatus::kDone && status != AgreementStatus::kDropped;
  }
  // Written by the network in private time and not shared yet: sealed to the network (as the
  // draft) until it releases (Organising::ReleaseDraft), which shares a copy with everyone who
  // would have read it had it been made outside private time.
  bool in_private_time = false;
  // The release's copy of an agreement made in private time: the id the network knew it by
  // (the original's, which commands still take); empty for any other agreement. Lists show it
  // beside the copy's own id, so an id noted in private time is found again.
  Bytes copy_of;
};

// What goes on `reader_person_id`'s printout (F7), as the data the HTML/text renderer takes
// (printout.h; RenderPrintout in exports.h does both steps). Leaves out every entity hidden from
// that person and every entity in a scope the person's account is not in (for people without the
// app: any scope other than 0 unless the entity's `visible_to` set lists them). Headings and
// life-domain names are in `language`. The plan date is the chair's acceptance, or `now_ms`
// (0 = the clock) for a plan not accepted yet. NOT_FOUND "plan.no_plan" when the reader may see
// no plan version; FAILED_PRECONDITION "print.reader_left" for someone taken out of the circle.
Result<PrintablePlan> PrintoutFor(const v1::CaseState& state, const Bytes& reader_person_id,
                                  Language language = Language::kDutch, int64_t now_ms = 0);

// Where a restricted item lives: the ONE place that turns "hidden from these people" (and "not
// for professionals / coordinators") into a scope. Returns 0 when nobody with the app is left
// out; else an existing scope with exactly the remaining members, or a new one. The caller is
// never left out by a category, and naming them in hidden_from fails ("plan.hidden_from_self").
// People without the app are kept out through the item's `hidden_from` set, which printouts and
// exports honour.
struct Audience {
  std::vector<Bytes> hidden_from;  // person ids
  bool exclude_professionals = false;
  bool exclude_coordinators = false;
  std::vector<Bytes> keep;       // person ids kept in despite the categories (owner, checker)
  uint32_t requested_scope = 0;  // when set, used as is (e.g. a scope the app already made)
  // When set, only members of this scope (e.g. a private time's): nobody outside it is let in,
  // not even by `keep`, and the result is never scope 0.
  uint32_t within_scope = 0;
};
Result<uint32_t> ScopeForItem(client::Client& client, const Bytes& case_id,
                              const Audience& audience);

class Plan {
 public:
  Plan(client::Client& client, Bytes case_id);

  // ---- Drafting (private time) ----
  // The network-only scope of private time: every member except professionals and coordinators
  // (made on first use, reused after).
  Result<uint32_t> NetworkScope();
  // A draft in `scope_id` (usually NetworkScope(); 0 drafts in the open).
  Result<Bytes> CreateDraft(uint32_t scope_id, const PlanContent& content);
  Status UpdateDraft(const Bytes& draft_id, const PlanContent& content);
  Result<PlanContent> Draft(const Bytes& draft_id) const;
  // Every draft this device can read, the one written to last first.
  Result<std::vector<PlanDraft>> Drafts() const;
  // Unresolved concurrent edits of a draft (or any plan entity): both values, never lost. An
  // UpdateDraft made with the kept value in view resolves them.
  Result<std::vector<v1::Conflict>> ConflictsOf(const Bytes& entity_id) const;
  // Copies the draft into scope 0 as a new version with the agreements as they are now.
  // `ended_private_time`, when given: the meeting this version moved on from the network's
  // released private time to the plan presentation, else empty.
  Result<Bytes> Release(const Bytes& draft_id, Bytes* ended_private_time = nullptr);
  // Whether this account may release a draft as a plan version, now or once the network has
  // released the private time it is in (Organising::ReleaseDraft): OK for the chair and a
  // coordinator, and for a network member from its private time until the network's one
  // version; else what Release would be refused with ("plan.network_version_made" once the
  // network made its version, else the key that says who may). This device's view; no fetch.
  Status MayRelease() const;
  // A new version straight away (no private draft), e.g. an adjusted plan after the check.
  // A version lists only agreements everyone it is for can read: while this device holds
  // agreements of a private time that is still open (after fetching the case, best effort, in
  // case another device released), it fails with plan.private_time_open (the network releases
  // its private time first, Organising::ReleaseDraft).
  // The network's one version (after its `meeting release`): a second one fails with
  // plan.network_version_made, also when another member's release reached kringd first.
  Result<Bytes> Publish(const PlanContent& content, Bytes* ended_private_time = nullptr);

  // ---- Reading ----
  Result<std::optional<PlanVersion>> Current() const;
  // Every released version, oldest first (number). For a professional without the chair's
  // grant each is the summary, as CurrentForMe.
  Result<std::vector<PlanVersion>> Versions() const;
  // For a professional without the chair's grant: the summary only (no life-domain details).
  Result<std::optional<PlanVersion>> CurrentForMe() const;
  // The newest accepted version (ReadAcceptedVersion), read as CurrentForMe; none when no
  // version is accepted yet.
  Result<std::optional<PlanVersion>> LatestAccepted() const;

  // ---- Acceptance ----
  // The chair accepts this exact version (its hash is recorded and checked by every device).
  Status Accept(const Bytes& version_id, int64_t now_ms);
  // The responsible professional (my_person_id must be my professional person) decides.
  Status RecordProfessionalDecision(const Bytes& version_id, const Bytes& my_person_id,
                                    Decision decision, const std::string& conditions_or_reason,
                                    int64_t now_ms);
  Result<Acceptance> AcceptanceOf(const Bytes& version_id) const;
  // The chair lets professionals see everything of the plan, not just the summary and their
  // own agreements. Agreements made before stay sealed to the scope they were made in.
  Status GrantProfessionalsFullView(bool granted);

  // ---- Agreements ----
  // Sealed to ScopeForItem: without the people it is hidden from, and (unless granted) without
  // professionals who neither own nor check it. Written by a network member in an open private
  // time (Organising::StartPrivateTime, not released yet): sealed to that private time's scope
  // (without the people it is hidden from) and marked, so professionals and coordinators read it
  // only after the release, in the scope this call would give it then (Organising::ReleaseDraft).
  Result<Bytes> AddAgreement(const AgreementInput& input);
  // Changes content; an accepted agreement visibly loses its acceptance.
  Status EditAgreement(const Bytes& agreement_id, const AgreementInput& input);
  // As the owner (or the coordinator for an owner without the app): accept the current version.
  // Not for an agreement still in private time (agreement.in_private_time): the release shares
  // it as a new agreement, whose acceptance only its owner can sign, so it is accepted after.
  Status AcceptAgreement(const Bytes& agreement_id);
  // done / partly / not done / dropped; blocked needs an obstacle. Not in private time either.
  Status UpdateStatus(const Bytes& agreement_id, AgreementStatus status,
                      const std::optional<Obstacle>& obstacle = std::nullopt);
  Result<Agreement> GetAgreement(const Bytes& agreement_id) const;
  // What this account may see: everything, or for a professional without the grant only the
  // agreements they own or check.
  Result<std::vector<Agreement>> Agreements() const;

 private:
  client::Client& client_;
  Bytes case_id_;
};

// Pure readers over a state (used by Plan, FollowUp and the renderers).
std::vector<Agreement> ReadAgreements(const v1::CaseState& state);
std::optional<PlanVersion> ReadCurrentVersion(const v1::CaseState& state);
// The newest version that counts as accepted (Acceptance::accepted); it may be older than the
// current one, which then waits for acceptance. What paper for people without the app shows.
std::optional<PlanVersion> ReadAcceptedVersion(const v1::CaseState& state);
Acceptance ReadAcceptance(const v1::CaseState& state, const Bytes& version_id);
// F8 for plan versions: the current version when its writer saw another version as current than
// the one before it (PlanVersion::skipped); none otherwise. Versions are ordered by the log, so one
// written from an old view that lands late becomes the newest without a conflict of fields; this
// is that conflict. Each is on the late version (entity_id), field "based_on": kept_value its
// number (integer), kept_seq and kept_author_account_id its own; other_value the number of the
// version before it that its writer did not see, other_seq and other_author_account_id that
// version's. Versions are written once, so it is not resolved by writing the field: a new version
// made with the current one in view takes its place, and the conflict is gone. An older version
// that skipped one (PlanVersion::skipped) stays marked but is no conflict any more.
std::vector<v1::Conflict> StaleVersionConflicts(const v1::CaseState& state);

}  // namespace kring::domain
