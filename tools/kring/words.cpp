#include "words.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "kring/domain/messages.h"

namespace kring::cli {
namespace {

constexpr Word kPersonKindWords[] = {
    {"resident", "bewoner", "resident"},
    {"family", "familie", "family"},
    {"friend", "vriend", "friend"},
    {"neighbour", "buur", "neighbour"},
    {"child", "kind", "child"},
    {"advocate", "vertrouwenspersoon", "advocate"},
    {"mentor", "mentor", "mentor"},
    {"professional", "professional", "professional"},
    {"coordinator", "gespreksleider", "coordinator"},
};

constexpr Word kPreTalkWayWords[] = {
    {"home", "thuis", "at home"},    {"phone", "telefoon", "phone"}, {"video", "video", "video"},
    {"office", "kantoor", "office"}, {"other", "anders", "other"},
};

// A poll answer (domain::Answer, stored as text in the field "slot_" + the slot's id).
constexpr Word kPollAnswerWords[] = {
    {"yes", "ja", "yes"},
    {"if_need_be", "als het moet", "if need be"},
    {"no", "nee", "no"},
};

// An agreement's state: `agreement list` shows these words and `agreement status` and
// `check six-week --assess` take them (values as domain::AgreementStatusName).
constexpr Word kAgreementStatusWords[] = {
    {"proposed", "voorgesteld", "proposed"},
    {"accepted", "afgesproken", "accepted"},
    {"done", "klaar", "done"},
    {"partly", "deels", "partly"},
    {"not_done", "niet gedaan", "not done"},
    {"blocked", "loopt vast", "blocked"},
    {"dropped", "vervallen", "dropped"},
};

// The plan's life domains (--domain wonen=..., an agreement's --domain geld); values as the
// domain's keys, Dutch words as the headings the plan shows (plan.domain.*).
constexpr Word kLifeDomainWords[] = {
    {"housing", "wonen", "housing"},
    {"finances", "geld", "finances"},
    {"relationships", "relaties", "relationships"},
    {"daytime", "dagbesteding", "daytime activity"},
    {"health", "gezondheid", "health"},
    {"safety", "veiligheid", "safety"},
};

// The meeting's phases (values as domain::PhaseName); `meeting phase` takes the three a chair
// starts with it, private time has its own command.
constexpr Word kMeetingPhaseWords[] = {
    {"not_started", "nog niet begonnen", "not started"},
    {"information", "informatie", "information"},
    {"private_time", "eigen tijd van het netwerk", "the network's private time"},
    {"plan_presentation", "plan voorstellen", "plan presentation"},
    {"acceptance", "plan aannemen", "acceptance"},
};

// How someone takes part in the meeting (values as the domain stores domain::Participation).
constexpr Word kParticipationWords[] = {
    {"attend", "komt", "attends"},
    {"part", "deels", "part of it"},
    {"written", "schriftelijk", "in writing"},
    {"not_invited", "niet uitgenodigd", "not invited"},
};

// What the six-week check decides (domain::CheckOutcome).
constexpr Word kCheckOutcomeWords[] = {
    {"continue", "doorgaan", "continue"},
    {"adjust", "aanpassen", "adjust"},
    {"vervolgberaad", "vervolgberaad", "follow-up meeting"},
};

// A member's role in the case (v1::Role), as `invitation app --role` takes it; the Dutch words
// are those RoleWord shows.
constexpr Word kRoleWords[] = {
    {"member", "deelnemer", "member"},
    {"chair", "hoofdpersoon", "chair"},
    {"coordinator", "gespreksleider", "coordinator"},
};

// A meeting's state as stored ("status": fixed by `poll fix` or `meeting spoed`, or cancelled).
constexpr Word kMeetingStatusWords[] = {
    {"fixed", "gepland", "planned"},
    {"cancelled", "afgezegd", "cancelled"},
};

// A professional's decision as stored (plan_professional_decision "decision"), in the words
// `plan show` uses for it.
constexpr Word kStoredDecisionWords[] = {
    {"accept", "akkoord", "accepted"},
    {"accept_with_conditions", "akkoord met voorwaarden", "accepted with conditions"},
    {"reject", "niet akkoord", "rejected"},
};

// What someone without the app answered to an invitation (invitation record); the Dutch words
// begin as `invitation status` shows these states.
constexpr Word kInvitationAnswerWords[] = {
    {"pending", "uitgenodigd", "invited"},
    {"accepted", "aangenomen", "accepted"},
    {"declined", "afgewezen", "declined"},
};

// Which value of a conflict holds (conflicts resolve --keep).
constexpr Word kKeepWords[] = {
    {"current", "huidige", "current"},
    {"other", "andere", "other"},
};

// Where the meeting is (domain::LocationKind, values as the domain stores them).
constexpr Word kLocationKindWords[] = {
    {"home", "thuis", "home"},
    {"venue", "locatie", "venue"},
    {"online", "online", "online"},
};

// Who was at the meeting (domain::Attendance; values as `meeting attend` always took them).
constexpr Word kAttendanceWords[] = {
    {"present", "aanwezig", "present"},
    {"written", "schriftelijk", "written"},
    {"absent", "afwezig", "absent"},
};

// A professional's decision on a plan version (plan decide --decision).
constexpr Word kDecisionWords[] = {
    {"accept", "akkoord", "accept"},
    {"conditions", "voorwaarden", "conditions"},
    {"reject", "niet akkoord", "reject"},
};

// Where a person of the circle stands (domain::Person::status); `circle list` shows these.
constexpr Word kPersonStatusWords[] = {
    {"proposed", "voorgesteld", "proposed"},
    {"approved", "in de kring", "in the circle"},
    {"declined", "afgewezen", "declined"},
};

constexpr Word kInvitationStateWords[] = {
    {"not_invited", "niet uitgenodigd", "not invited"},
    {"pending", "uitgenodigd, nog geen antwoord", "invited, no answer yet"},
    {"accepted", "aangenomen, wacht op goedkeuring", "accepted, waiting for approval"},
    {"joined", "doet mee", "joined"},
    {"declined", "afgewezen", "declined"},
    {"expired", "verlopen", "expired"},
    {"revoked", "ingetrokken", "withdrawn"},
};

// The labels are Words too: shown with ShowWord, never typed.
constexpr Word kEntityLabels[] = {
    // The organising half (organising.h)
    {"person", "persoon in de kring", "person in the circle"},
    {"contact", "contactgegevens", "contact details"},
    {"referral", "aanmelding", "referral"},
    {"pretalk", "voorgesprek", "pre-talk"},
    {"pretalk_safety", "zorgen over veiligheid uit het voorgesprek",
     "safety concerns from the pre-talk"},
    {"participation", "hoe iemand meedoet", "how someone takes part"},
    {"absent_view", "inbreng van iemand die er niet is", "view of someone who is not there"},
    {"poll", "prikker", "date poll"},
    {"poll_answer", "antwoord op de prikker", "answer to the date poll"},
    {"meeting", "netwerkberaad", "meeting"},
    {"meeting_address", "adres van het netwerkberaad", "address of the meeting"},
    {"meeting_note", "aantekening bij het netwerkberaad", "meeting note"},
    // The plan and what follows it (plan_model.h)
    {"plan_draft", "concept", "draft"},
    {"plan_version", "planversie", "plan version"},
    {"plan_details", "uitwerking van het plan", "plan details"},
    {"plan_acceptance", "akkoord op het plan", "plan acceptance"},
    {"plan_professional_decision", "besluit van de professional", "professional's decision"},
    {"plan_settings", "instellingen van het plan", "plan settings"},
    {"plan_agreement", "afspraak", "agreement"},
    {"followup_checkin", "check na 4 weken", "4-week check-in"},
    {"six_week_check", "zes-wekencheck", "six-week check"},
    {"agreement_assessment", "beoordeling van een afspraak", "agreement assessment"},
    {"mentor_designation", "mentor", "mentor"},
    {"mentor_checkin", "contact met de mentor", "mentor check-in"},
    {"mentor_evaluation", "evaluatie met de mentor", "mentor evaluation"},
    {"micro_wellbeing", "welzijnscijfer", "well-being score"},
    {"micro_cost_item", "kosten van hulp", "cost of a service"},
};

// The fields people change after they were written, where two can do so at the same time.
constexpr Word kFieldLabels[] = {
    // A person of the circle and their contact details
    {"name", "naam", "name"},
    {"relation", "relatie met de bewoner", "relation to the resident"},
    {"kind", "soort", "kind"},
    {"organisation", "organisatie", "organisation"},
    {"function", "functie", "job"},
    {"language", "taal", "language"},
    {"interpreter", "tolk nodig", "needs an interpreter"},
    {"has_app", "heeft de app", "has the app"},
    {"account_id", "account", "account"},
    {"status", "stand", "status"},
    {"left", "uit de kring", "out of the circle"},
    {"invite_id", "uitnodiging", "invitation"},
    {"invite_state", "stand van de uitnodiging", "state of the invitation"},
    {"phone", "telefoon", "phone"},
    {"email", "e-mail", "email"},
    {"address", "adres", "address"},
    // The referral and the resident's question
    {"reason", "reden", "reason"},
    {"spoed", "spoed", "urgent"},
    {"resident_consent", "toestemming van de bewoner", "the resident's consent"},
    {"coordinator_account", "gespreksleider", "coordinator"},
    {"coordinator_language", "voorkeur voor de taal", "preferred language"},
    {"coordinator_gender", "voorkeur voor man of vrouw", "preferred gender"},
    {"coordinator_culture", "voorkeur voor de cultuur", "preferred culture"},
    // Pre-talks, participation, the meeting
    {"how", "hoe", "how"},
    {"at_ms", "wanneer", "when"},
    {"explained", "wat is uitgelegd", "what was explained"},
    {"questions", "vragen", "questions"},
    {"concerns", "zorgen", "concerns"},
    {"mode", "hoe iemand meedoet", "how someone takes part"},
    {"text", "tekst", "text"},
    {"note", "aantekening", "note"},
    {"phase", "fase", "phase"},
    {"start_ms", "begintijd", "start time"},
    {"end_ms", "eindtijd", "end time"},
    {"location_kind", "soort plek", "kind of place"},
    {"location_coarse", "plek (globaal)", "place (roughly)"},
    // The plan (drafts and versions)
    {"contingency", "wat als het misgaat", "what if it goes wrong"},
    {"contact_person", "contactpersoon van het netwerk", "the network's contact person"},
    {"responsible_professional", "verantwoordelijke professional", "responsible professional"},
    {"review_days", "dagen tot de check", "days until the check"},
    // Agreements and how they go
    {"owner", "wie het doet", "who does it"},
    {"action", "wat er gebeurt", "what is done"},
    {"due_ms", "klaar op", "due date"},
    {"recurrence", "hoe vaak", "how often"},
    {"checker", "wie het controleert", "who checks"},
    {"life_domain", "levensgebied", "area of life"},
    {"outcome", "hoe het gaat", "how it goes"},
    {"obstacle", "wat in de weg zit", "what is in the way"},
    {"obstacle_owner", "wie dat oplost", "who sorts it out"},
    {"new_due_ms", "nieuwe datum", "new date"},
    {"accepted_hash", "akkoord van wie het doet", "accepted by whoever does it"},
    // A plan's acceptance and decisions (kring changes names these as changed)
    {"accepted_at_ms", "akkoord gegeven op", "agreed on"},
    {"decision", "besluit", "decision"},
    {"decided_at_ms", "besluit genomen op", "decided on"},
    {"professionals_see_all", "professionals zien alles", "professionals see everything"},
    // Follow-up
    {"score", "cijfer", "score"},
    {"service", "hulp", "service"},
    {"monthly_cents", "kosten per maand", "cost per month"},
};

// The fields whose value is an identifier with words above, per entity type ("" for any type:
// the field means the same wherever it is). An agreement's state is stored in "outcome", a
// check's decision too: the type tells them apart.
struct ValueWordsOf {
  std::string_view type;
  std::string_view field;
  std::span<const Word> words;
};

const ValueWordsOf kValueWords[] = {
    {"person", "kind", kPersonKindWords},
    {"person", "status", kPersonStatusWords},
    {"person", "invite_state", kInvitationStateWords},
    {"pretalk", "how", kPreTalkWayWords},
    {"participation", "mode", kParticipationWords},
    {"", "phase", kMeetingPhaseWords},
    {"meeting", "location_kind", kLocationKindWords},
    {"meeting", "status", kMeetingStatusWords},
    {"plan_professional_decision", "decision", kStoredDecisionWords},
    {"plan_agreement", "outcome", kAgreementStatusWords},
    {"plan_agreement", "life_domain", kLifeDomainWords},
    {"agreement_assessment", "result", kAgreementStatusWords},
    {"six_week_check", "outcome", kCheckOutcomeWords},
};

// Fields whose words the domain has itself (the plan's headings and life domains, as `kring plan
// show` and the printout show them): their label is the domain's text, one wording for both.
struct DomainLabel {
  std::string_view field;
  const char* key;  // domain::UserText
};

constexpr DomainLabel kDomainFieldLabels[] = {
    // The resident's question (referral) and the plan's
    {"ik_wil", "plan.heading.ik_wil"},
    {"ik_kan", "plan.heading.ik_kan"},
    {"ik_heb_nodig", "plan.heading.ik_heb_nodig"},
    {"wil", "plan.heading.ik_wil"},
    {"kan", "plan.heading.ik_kan"},
    {"nodig", "plan.heading.ik_heb_nodig"},
    {"bottom_lines", "plan.heading.bottom_lines"},
    {"answers", "plan.heading.answers"},
    // The plan's life domains: "domain_" + plan_model::kLifeDomains
    {"domain_housing", "plan.domain.housing"},
    {"domain_finances", "plan.domain.finances"},
    {"domain_relationships", "plan.domain.relationships"},
    {"domain_daytime", "plan.domain.daytime"},
    {"domain_health", "plan.domain.health"},
    {"domain_safety", "plan.domain.safety"},
};

// A heading as a label inside a line: "Geld" -> "geld", "Ik wil" -> "ik wil"; a first word of
// one letter stays as it is ("I want").
std::string InLine(std::string text) {
  if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) &&
      std::islower(static_cast<unsigned char>(text[1]))) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// Any case; a space, '-' and '_' are one (a word of two parts is typed without quotes as
// niet-gedaan, and identifiers are written not_done).
bool SameWord(std::string_view a, std::string_view b) {
  const auto fold = [](char c) {
    return c == '-' || c == '_' ? ' '
                                : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return fold(x) == fold(y); });
}

}  // namespace

const std::span<const Word> kPersonKinds{kPersonKindWords};
const std::span<const Word> kPreTalkWays{kPreTalkWayWords};
const std::span<const Word> kAgreementStatuses{kAgreementStatusWords};
const std::span<const Word> kInvitationStates{kInvitationStateWords};
const std::span<const Word> kPollAnswers{kPollAnswerWords};
const std::span<const Word> kLifeDomainNames{kLifeDomainWords};
const std::span<const Word> kMeetingPhases{kMeetingPhaseWords};
const std::span<const Word> kParticipations{kParticipationWords};
const std::span<const Word> kCheckOutcomes{kCheckOutcomeWords};
const std::span<const Word> kRoles{kRoleWords};
const std::span<const Word> kLocationKinds{kLocationKindWords};
const std::span<const Word> kAttendances{kAttendanceWords};
const std::span<const Word> kDecisions{kDecisionWords};
const std::span<const Word> kPersonStatuses{kPersonStatusWords};
const std::span<const Word> kInvitationAnswers{kInvitationAnswerWords};
const std::span<const Word> kKeepChoices{kKeepWords};

std::optional<v1::Role> TypedRole(const std::string& typed) {
  const std::optional<std::string> role = TypedWord(kRoles, typed);
  if (!role) return std::nullopt;
  return *role == "chair"         ? v1::ROLE_CHAIR
         : *role == "coordinator" ? v1::ROLE_COORDINATOR
                                  : v1::ROLE_MEMBER;
}

std::optional<std::string> TypedWord(std::span<const Word> words, const std::string& typed) {
  for (const Word& w : words) {
    if (SameWord(typed, w.value) || SameWord(typed, w.nl) || SameWord(typed, w.en)) return w.value;
  }
  return std::nullopt;
}

std::string WordChoices(const Ctx& ctx, std::span<const Word> words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? ctx.T(" of ", " or ") : ", ";
    std::string word = ctx.english() ? words[i].en : words[i].nl;
    // Typed as one word: niet-uitgenodigd, if-need-be.
    std::replace(word.begin(), word.end(), ' ', '-');
    out += word;
  }
  return out;
}

std::string DomainWord(std::span<const Word> words, const std::string& typed) {
  return TypedWord(words, typed).value_or(typed);
}

std::optional<domain::AgreementStatus> TypedAgreementStatus(const std::string& typed) {
  const std::string value = DomainWord(kAgreementStatuses, typed);
  for (auto status : {domain::AgreementStatus::kProposed, domain::AgreementStatus::kAccepted,
                      domain::AgreementStatus::kDone, domain::AgreementStatus::kPartly,
                      domain::AgreementStatus::kNotDone, domain::AgreementStatus::kBlocked,
                      domain::AgreementStatus::kDropped}) {
    if (value == domain::AgreementStatusName(status)) return status;
  }
  return std::nullopt;
}

std::string AgreementStatusWord(const Ctx& ctx, domain::AgreementStatus status) {
  return ShowWord(ctx, kAgreementStatuses, domain::AgreementStatusName(status));
}

std::string EntityLabel(const Ctx& ctx, const std::string& type) {
  return ShowWord(ctx, kEntityLabels, type);
}

bool IsPollAnswerField(const std::string& field) {
  constexpr std::string_view kSlot = "slot_";
  if (field.rfind(kSlot, 0) != 0) return false;
  auto id = FromHex(field.substr(kSlot.size()));
  return id && !id->empty();
}

std::string FieldLabel(const Ctx& ctx, const std::string& field) {
  if (IsPollAnswerField(field)) return ctx.T("antwoord voor een moment", "answer for a time");
  // A meeting's attendance has a field per person: "attendance_" + their id.
  constexpr std::string_view kAttendance = "attendance_";
  if (field.rfind(kAttendance, 0) == 0) {
    if (auto person = FromHex(field.substr(kAttendance.size())); person && !person->empty()) {
      return std::string(ctx.T("aanwezigheid van ", "attendance of ")) + ctx.NameOf(*person);
    }
  }
  for (const DomainLabel& l : kDomainFieldLabels) {
    if (l.field == field) return InLine(domain::UserText(l.key, ctx.lang));
  }
  return ShowWord(ctx, kFieldLabels, field);
}

std::span<const Word> ValueWords(const std::string& type, const std::string& field) {
  if (IsPollAnswerField(field)) return kPollAnswers;
  for (const ValueWordsOf& v : kValueWords) {
    if ((v.type.empty() || v.type == type) && v.field == field) return v.words;
  }
  return {};
}

std::string ShowWord(const Ctx& ctx, std::span<const Word> words, const std::string& value) {
  for (const Word& w : words) {
    if (value == w.value) return ctx.english() ? w.en : w.nl;
  }
  return value;
}

}  // namespace kring::cli
