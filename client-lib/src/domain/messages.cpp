#include "kring/domain/messages.h"

namespace kring::domain {
namespace {

struct Text {
  std::string_view key;
  std::string_view nl;
  std::string_view en;
};

// One table, sorted by nothing: lookups are rare (an error or a label on screen).
constexpr Text kTexts[] = {
    // ---- general ----
    {"domain.not_allowed", "Dit mag jij niet doen in deze kring.",
     "You are not allowed to do this in this circle."},
    {"domain.unknown_item", "Dit onderdeel bestaat niet (meer).",
     "This item does not exist (any more)."},
    // ---- organising (referral, circle, invitations, pre-talks, scheduling, meeting) ----
    // ---- plan (plan, agreements, follow-up, mentor, micro-analysis, reports) ----
    {"plan.text_too_long", "Deze tekst is te lang. Maak hem korter.",
     "This text is too long. Please shorten it."},
    {"plan.unknown_life_domain", "Dit levensgebied kennen we niet.",
     "We do not know this life domain."},
    {"plan.review_days_invalid", "Kies een termijn voor de check van 1 tot 365 dagen.",
     "Choose a review period of 1 to 365 days."},
    {"plan.unknown_person", "Deze persoon staat niet in de kring.",
     "This person is not in the circle."},
    {"plan.contingency_missing", "Schrijf op wat jullie doen als het misgaat.",
     "Write down what you will do if things go wrong."},
    {"plan.contact_missing", "Kies een contactpersoon uit het netwerk.",
     "Choose a contact person from the network."},
    {"plan.contact_unknown", "De contactpersoon staat niet in de kring.",
     "The contact person is not in the circle."},
    {"plan.professional_missing", "Er zijn voorwaarden. Kies de professional die daarover beslist.",
     "There are bottom lines. Choose the professional who decides on them."},
    {"plan.professional_unknown", "Deze persoon is geen professional in de kring.",
     "This person is not a professional in the circle."},
    {"plan.unknown_version", "Deze versie van het plan bestaat niet.",
     "This version of the plan does not exist."},
    {"plan.only_chair_accepts", "Alleen de hoofdpersoon keurt het plan goed.",
     "Only the main person can accept the plan."},
    {"plan.not_professional", "Alleen de professional zelf kan dit besluit vastleggen.",
     "Only the professional can record this decision."},
    {"plan.conditions_missing", "Schrijf op onder welke voorwaarden je akkoord gaat.",
     "Write down your conditions."},
    {"plan.reason_missing", "Schrijf op waarom je het plan afwijst.",
     "Write down why you reject the plan."},
    {"plan.decision_invalid", "Kies: akkoord, akkoord met voorwaarden of niet akkoord.",
     "Choose: accept, accept with conditions or reject."},
    {"plan.no_plan", "Er is nog geen plan.", "There is no plan yet."},
    {"plan.heading.ik_wil", "Ik wil", "I want"},
    {"plan.heading.ik_kan", "Ik kan", "I can"},
    {"plan.heading.ik_heb_nodig", "Ik heb nodig", "I need"},
    {"plan.heading.bottom_lines", "Voorwaarden", "Bottom lines"},
    {"plan.heading.answers", "Antwoorden op de vragen", "Answers to the questions"},
    {"plan.domain.housing", "Wonen", "Housing"},
    {"plan.domain.finances", "Geld", "Finances"},
    {"plan.domain.relationships", "Relaties", "Relationships"},
    {"plan.domain.daytime", "Dagbesteding", "Daytime activity"},
    {"plan.domain.health", "Gezondheid", "Health"},
    {"plan.domain.safety", "Veiligheid", "Safety"},
    {"agreement.too_many", "Er zijn te veel afspraken. Rond eerst oude afspraken af.",
     "There are too many agreements. Close old agreements first."},
    {"plan.hidden_from_self", "Je kunt iets niet voor jezelf verbergen.",
     "You cannot hide something from yourself."},
    {"agreement.restrict_needs_new",
     "Deze persoon heeft de afspraak al kunnen zien. Maak een nieuwe afspraak zonder hem of haar.",
     "This person could already see the agreement. Make a new agreement without them."},
    {"plan.network_only", "Alleen het netwerk maakt het plan in de eigen tijd.",
     "Only the network drafts the plan in private time."},
    {"agreement.owner_missing", "Kies wie deze afspraak uitvoert.",
     "Choose who carries out this agreement."},
    {"agreement.owner_unknown", "Wie de afspraak uitvoert, staat niet in de kring.",
     "The person for this agreement is not in the circle."},
    {"agreement.action_missing", "Schrijf op wat er moet gebeuren.",
     "Write down what needs to be done."},
    {"agreement.text_too_long", "Deze tekst is te lang. Maak hem korter.",
     "This text is too long. Please shorten it."},
    {"agreement.when_missing", "Kies een datum of schrijf op hoe vaak.",
     "Choose a date or write down how often."},
    {"agreement.checker_unknown", "Wie het controleert, staat niet in de kring.",
     "The person who checks is not in the circle."},
    {"agreement.too_many_hidden", "Je kunt dit voor te veel mensen verbergen. Kies er minder.",
     "You are hiding this from too many people. Choose fewer."},
    {"agreement.hidden_unknown", "Iemand voor wie je dit verbergt, staat niet in de kring.",
     "Someone you hide this from is not in the circle."},
    {"agreement.not_owner", "Alleen wie de afspraak uitvoert, kan hem goedkeuren.",
     "Only the person who carries out the agreement can accept it."},
    {"agreement.status_invalid", "Kies: gedaan, deels, niet gedaan, vastgelopen of vervallen.",
     "Choose: done, partly, not done, blocked or dropped."},
    {"agreement.obstacle_missing",
     "Vastgelopen? Schrijf op wat in de weg zit, wie het oplost en een nieuwe datum.",
     "Blocked? Write down the obstacle, who removes it and a new date."},
    {"agreement.obstacle_owner_unknown", "Wie het probleem oplost, staat niet in de kring.",
     "The person who removes the obstacle is not in the circle."},
    {"followup.note_too_long", "Deze notitie is te lang. Maak hem korter.",
     "This note is too long. Please shorten it."},
    {"followup.no_assessments", "Bekijk minstens een afspraak.", "Assess at least one agreement."},
    {"followup.too_many_assessments", "Dit zijn te veel afspraken voor een keer. Doe het in delen.",
     "These are too many agreements at once. Do it in parts."},
    {"followup.unknown_agreement", "Deze afspraak bestaat niet (meer).",
     "This agreement does not exist (any more)."},
    {"followup.duplicate_assessment", "Je hebt deze afspraak twee keer bekeken. Kies een uitkomst.",
     "You assessed this agreement twice. Choose one result."},
    {"followup.assessment_invalid", "Kies: gedaan, deels, niet gedaan of vastgelopen.",
     "Choose: done, partly, not done or blocked."},
    {"mentor.young_person_unknown", "De jongere staat niet in de kring.",
     "The young person is not in the circle."},
    {"mentor.mentor_unknown", "De mentor staat niet in de kring.",
     "The mentor is not in the circle."},
    {"mentor.same_person", "De jongere kan niet zijn eigen mentor zijn.",
     "The young person cannot be their own mentor."},
    {"mentor.consent_missing", "Eerst moet een ouder toestemming geven.",
     "A parent must give consent first."},
    {"mentor.consent_by_unknown", "De ouder die toestemming gaf, staat niet in de kring.",
     "The parent who gave consent is not in the circle."},
    {"mentor.warn_parent", "Let op: de mentor is een ouder. Een JIM is meestal iemand anders.",
     "Note: the mentor is a parent. A JIM is usually someone else."},
    {"mentor.warn_under_18", "Let op: de mentor is jonger dan 18 jaar.",
     "Note: the mentor is under 18."},
    {"micro.score_out_of_range", "Kies een cijfer van 0 tot en met 10.",
     "Choose a score from 0 to 10."},
    {"micro.service_missing", "Schrijf op om welke hulp het gaat.",
     "Write down which service this is."},
    {"micro.service_too_long", "Deze naam is te lang. Maak hem korter.",
     "This name is too long. Please shorten it."},
    {"micro.cost_invalid", "Vul een bedrag per maand in van 0 euro of meer.",
     "Enter an amount per month of 0 euro or more."},
};

const Text* Find(std::string_view key) {
  for (const Text& t : kTexts) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

}  // namespace

std::string UserText(std::string_view key, Language language) {
  const Text* t = Find(key);
  if (t == nullptr) return std::string(key);
  return std::string(language == Language::kDutch ? t->nl : t->en);
}

std::string UserText(const Status& status, Language language) {
  if (status.ok()) return {};
  return UserText(status.message(), language);
}

bool HasUserText(std::string_view key) {
  const Text* t = Find(key);
  return t != nullptr && !t->nl.empty() && !t->en.empty();
}

}  // namespace kring::domain
