// The domain's fixed values (a person's kind, how a pre-talk was held, an invitation's state) as
// words a user types and reads. The domain stores English identifiers and names the Dutch words in
// its messages ("Kies wie deze persoon is: familie, vriend, ..."); the command line accepts the
// identifier and both languages' words, and shows the word of the user's language.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "kring/domain/plan.h"

#include "domain_ctx.h"

namespace kring::cli {

struct Word {
  const char* value;  // the domain's identifier, also what --json prints
  const char* nl;
  const char* en;
};

extern const std::span<const Word> kPersonKinds;
extern const std::span<const Word> kPreTalkWays;
extern const std::span<const Word> kInvitationStates;
extern const std::span<const Word> kAgreementStatuses;
extern const std::span<const Word> kPollAnswers;
extern const std::span<const Word> kLifeDomainNames;
extern const std::span<const Word> kMeetingPhases;
extern const std::span<const Word> kParticipations;
extern const std::span<const Word> kCheckOutcomes;
extern const std::span<const Word> kRoles;
extern const std::span<const Word> kLocationKinds;
extern const std::span<const Word> kAttendances;
extern const std::span<const Word> kDecisions;
extern const std::span<const Word> kInvitationAnswers;  // invitation record
extern const std::span<const Word> kKeepChoices;        // conflicts resolve --keep

// The identifier of the word the user typed: one of `words`' identifiers or words in either
// language, in any case, a space, '-' and '_' alike ("Ja", "als-het-moet"); nullopt for any other
// word, which a command refuses naming the choices (WordChoices).
std::optional<std::string> TypedWord(std::span<const Word> words, const std::string& typed);
// The role the user typed (a word of kRoles in either language, or the identifier, in any
// case); nullopt for any other word.
std::optional<v1::Role> TypedRole(const std::string& typed);
// The words to choose from in the user's language, as typed: "ja, als-het-moet of nee".
std::string WordChoices(const Ctx& ctx, std::span<const Word> words);
extern const std::span<const Word> kPersonStatuses;

// The agreement state the user typed (a word of kAgreementStatuses, either language, or the
// identifier); nullopt for anything else. AgreementStatusWord: its word in the user's language.
std::optional<domain::AgreementStatus> TypedAgreementStatus(const std::string& typed);
std::string AgreementStatusWord(const Ctx& ctx, domain::AgreementStatus status);

// Whether `field` is a poll's answer for one of its slots: "slot_" and the slot's id in hex.
bool IsPollAnswerField(const std::string& field);

// The identifier for what the user typed (any case); what matches no word is returned as typed,
// so the domain refuses it with its own message.
std::string DomainWord(std::span<const Word> words, const std::string& typed);

// What an entity type or a field of the case is called in the user's language (B1 Dutch or
// English), for output that would otherwise show the stored names (kring changes, kring
// conflicts). What has no label (a raw item of `kring entity create`, or a name of a newer
// version) is returned as it is.
std::string EntityLabel(const Ctx& ctx, const std::string& type);
std::string FieldLabel(const Ctx& ctx, const std::string& field);

// The words for the values of a field the domain stores as an identifier (a person's kind, an
// agreement's state "not_done", a meeting's phase), for output that shows a stored value as it
// is (kring conflicts --values); empty for a field of free text.
std::span<const Word> ValueWords(const std::string& type, const std::string& field);

// The word for an identifier in the user's language; an unknown identifier (written by a newer
// version) as it is.
std::string ShowWord(const Ctx& ctx, std::span<const Word> words, const std::string& value);

}  // namespace kring::cli
