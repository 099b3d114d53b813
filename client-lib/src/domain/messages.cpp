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
    // Renderers: time, calendar export, printable plan, team report.
    {"time.invalid_local", "Deze datum of tijd bestaat niet.", "This date or time does not exist."},
    {"time.nonexistent_local",
     "Deze tijd bestaat niet: de klok gaat die nacht een uur vooruit. Kies een andere tijd.",
     "This time does not exist: the clocks go forward one hour that night. Pick another time."},
    {"calendar.bad_uid", "De agenda-afspraak heeft geen geldige code.",
     "The calendar item has no valid code."},
    {"calendar.bad_sequence", "Het volgnummer van de agenda-afspraak is te hoog.",
     "The calendar item's sequence number is too high."},
    {"calendar.bad_time", "De begin- of eindtijd klopt niet. Het einde moet na het begin zijn.",
     "The start or end time is wrong. The end must come after the start."},
    {"calendar.too_long", "Een tekst voor de agenda is te lang.",
     "A text for the calendar is too long."},
    {"calendar.bad_text", "Een tekst voor de agenda bevat tekens die niet mogen.",
     "A text for the calendar contains characters that are not allowed."},
    {"calendar.empty_summary", "De agenda-afspraak heeft nog geen titel.",
     "The calendar item has no title yet."},
    {"print.too_long", "Een tekst in het plan is te lang om af te drukken.",
     "A text in the plan is too long to print."},
    {"print.bad_text", "Een tekst in het plan bevat tekens die niet mogen.",
     "A text in the plan contains characters that are not allowed."},
    {"print.bad_time", "Een datum in het plan klopt niet.", "A date in the plan is wrong."},
    {"print.title", "Het plan van {name}", "{name}'s plan"},
    {"print.version", "Versie", "Version"},
    {"print.date", "Datum", "Date"},
    {"print.question", "Mijn vraag", "My question"},
    {"print.i_want", "Ik wil", "I want"},
    {"print.i_can", "Ik kan", "I can"},
    {"print.i_need", "Ik heb nodig", "I need"},
    {"print.life_domains", "Mijn leven, per onderwerp", "My life, topic by topic"},
    {"print.agreements", "Afspraken", "Agreements"},
    {"print.col_who", "Wie", "Who"},
    {"print.col_what", "Wat", "What"},
    {"print.col_when", "Wanneer", "When"},
    {"print.col_checker", "Wie kijkt of het gebeurt", "Who checks"},
    {"print.col_status", "Hoe staat het", "Status"},
    {"print.status.proposed", "Voorstel", "Proposed"},
    {"print.status.accepted", "Afgesproken", "Agreed"},
    {"print.status.done", "Klaar", "Done"},
    {"print.status.partly", "Voor een deel klaar", "Partly done"},
    {"print.status.not_done", "Niet gelukt", "Not done"},
    {"print.status.blocked", "Loopt vast", "Blocked"},
    {"print.status.dropped", "Gestopt", "Dropped"},
    {"print.contingency", "Als het misgaat", "If things go wrong"},
    {"print.contact_person", "Contactpersoon", "Contact person"},
    {"print.contact_intro", "Heb je een vraag over het plan? Neem dan contact op met:",
     "Do you have a question about the plan? Please contact:"},
    {"print.review", "Samen terugkijken", "Looking back together"},
    {"print.review_intro", "We kijken samen hoe het gaat op", "We will look at how it is going on"},
    {"print.empty", "Nog niet ingevuld.", "Not filled in yet."},
    {"print.footer",
     "Dit plan is van jou en je kring. Bewaar het goed. Geef het niet zomaar aan anderen.",
     "This plan belongs to you and your circle. Keep it safe. Do not just pass it on."},
    {"report.bad_period", "De periode klopt niet. Het einde moet na het begin zijn.",
     "The period is wrong. The end must come after the start."},
    {"report.too_many_cases", "Er zijn te veel kringen voor een overzicht.",
     "There are too many circles for one report."},
    {"report.bad_case", "De cijfers van een kring kloppen niet.",
     "The figures of one circle are not right."},
    {"report.period_from", "Vanaf", "From"},
    {"report.period_to", "Tot", "Until"},
    {"report.beraden_held", "Aantal beraden", "Meetings held"},
    {"report.spoed_count", "Aantal spoedberaden", "Urgent meetings"},
    {"report.median_lead_time_days", "Dagen van aanmelding tot beraad (mediaan)",
     "Days from referral to meeting (median)"},
    {"report.plan_accepted_percent", "Procent met een goedgekeurd plan",
     "Percent with an accepted plan"},
    {"report.agreements_done_percent", "Procent afspraken klaar bij de zes-wekencheck",
     "Percent of agreements done at the six-week check"},
    {"report.mean_wellbeing_delta", "Verschil in welzijn (gemiddeld, 0-10)",
     "Change in well-being (mean, 0-10)"},
    {"report.mean_cost_delta_cents", "Verschil in kosten per maand (gemiddeld, in centen)",
     "Change in monthly cost (mean, in cents)"},
    // ---- organising (referral, circle, invitations, pre-talks, scheduling, meeting) ----
    // ---- plan (plan, agreements, follow-up, mentor, micro-analysis, reports) ----
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
