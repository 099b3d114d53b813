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
    {"domain.too_large", "Deze wijziging is te groot. Maak hem kleiner.",
     "This change is too large. Make it smaller."},
    {"notify.something_new", "Er is iets nieuws in je kring.",
     "There is something new in your circle."},
    {"absent_view.text_missing", "Schrijf op wat deze persoon wil zeggen.",
     "Write down what this person wants to say."},
    {"absent_view.too_long", "Deze tekst is te lang. Maak hem korter.",
     "This text is too long. Make it shorter."},
    {"contact.email_invalid", "Dit e-mailadres klopt niet.", "This e-mail address is not valid."},
    {"contact.empty", "Vul een telefoonnummer, e-mailadres of adres in.",
     "Enter a phone number, e-mail address or address."},
    {"contact.phone_invalid", "Dit telefoonnummer klopt niet.", "This phone number is not valid."},
    {"contact.too_long", "Deze contactgegevens zijn te lang.",
     "These contact details are too long."},
    {"invite.already_joined", "Deze persoon doet al mee in de app.",
     "This person already uses the app in this circle."},
    {"invite.has_app_invite", "Deze persoon heeft al een uitnodiging via de app.",
     "This person already has an invitation through the app."},
    {"invite.not_open", "Er is geen open uitnodiging voor deze persoon.",
     "There is no open invitation for this person."},
    {"invite.not_approved", "Keur deze persoon eerst goed. Daarna kun je uitnodigen.",
     "Approve this person first. Then you can invite them."},
    {"invite.state_invalid", "Kies: uitgenodigd, komt, of komt niet.",
     "Choose: invited, coming, or not coming."},
    {"invite.validity_invalid", "Een uitnodiging is 1 seconde tot 30 dagen geldig.",
     "An invitation is valid for 1 second to 30 days."},
    {"location.coarse_missing", "Schrijf kort op waar het beraad is, zonder adres.",
     "Briefly describe where the meeting is, without the address."},
    {"location.exact_missing", "Vul het adres of de link voor het beraad in.",
     "Enter the address or link for the meeting."},
    {"location.hidden_unknown", "Iemand in de lijst hoort niet bij de kring.",
     "Someone in the list is not in the circle."},
    {"location.none", "Er is nog geen adres voor het beraad.",
     "There is no address for the meeting yet."},
    {"location.too_long", "De plaats is te lang beschreven.",
     "The location description is too long."},
    {"meeting.already_fixed", "Er staat al een beraad vast. Verzet dat beraad.",
     "A meeting is already fixed. Move that meeting instead."},
    {"meeting.already_released", "Het plan is al vrijgegeven.",
     "The plan has already been released."},
    {"meeting.cancelled", "Dit beraad gaat niet door.", "This meeting has been cancelled."},
    {"meeting.draft_not_released", "Het netwerk heeft het plan nog niet vrijgegeven.",
     "The network has not released the plan yet."},
    {"meeting.private_time_by_network", "De bewoner of iemand uit het netwerk start de eigen tijd.",
     "The resident or someone from the network starts private time."},
    {"meeting.no_network", "Er is nog niemand uit het netwerk in de app.",
     "Nobody from the network uses the app yet."},
    {"meeting.no_private_time", "De eigen tijd is nog niet begonnen.",
     "Private time has not started yet."},
    {"meeting.none", "Er is nog geen beraad gepland.", "No meeting has been planned yet."},
    {"meeting.not_private_time", "Dit kan alleen tijdens de eigen tijd.",
     "This is only possible during private time."},
    {"meeting.not_spoed", "Dit is geen spoedberaad. Plan het beraad met een prikker.",
     "This is not an urgent meeting. Use a poll to plan it."},
    {"meeting.phase_order", "Deze stap kan nu niet. Het beraad gaat stap voor stap.",
     "This step is not possible now. The meeting goes step by step."},
    {"meeting.pretalk_missing",
     "Nog niet iedereen had een voorgesprek. Schrijf op waarom het beraad toch doorgaat.",
     "Not everyone has had a pre-talk. Write down why the meeting goes ahead anyway."},
    {"meeting.reason_too_long", "Deze reden is te lang. Maak hem korter.",
     "This reason is too long. Make it shorter."},
    {"meeting.required_said_no",
     "Iemand die er moet zijn, kan dan niet. Schrijf op waarom je toch dit moment kiest.",
     "Someone who must be there cannot come then. Write down why you still choose this time."},
    {"meeting.spoed_not_today", "Een spoedberaad is op dezelfde dag.",
     "An urgent meeting takes place on the same day."},
    {"meeting.time_invalid",
     "Deze tijd klopt niet. Het einde moet na het begin zijn, op dezelfde dag.",
     "This time is not valid. The end must be after the start, within a day."},
    {"participation.reason_missing", "Schrijf op waarom deze persoon anders meedoet.",
     "Write down why this person takes part differently."},
    {"participation.too_long", "Deze reden is te lang. Maak hem korter.",
     "This reason is too long. Make it shorter."},
    {"person.account_in_use", "Dit account hoort al bij een andere persoon.",
     "This account already belongs to another person."},
    {"person.account_invalid", "Dit account klopt niet.", "This account is not valid."},
    {"person.account_not_member", "Dit account doet nog niet mee in deze kring.",
     "This account is not in this circle yet."},
    {"person.function_missing", "Vul de functie van deze professional in.",
     "Enter this professional's job."},
    {"person.kind_invalid",
     "Kies wie deze persoon is: familie, vriend, buur, professional of iets anders.",
     "Choose who this person is: family, friend, neighbour, professional or something else."},
    {"person.language_invalid", "Kies een taal.", "Choose a language."},
    {"person.name_missing", "Vul een naam in.", "Enter a name."},
    {"person.not_linked", "Je staat nog niet in de kring.", "You are not in the circle yet."},
    {"person.organisation_missing", "Vul de organisatie van deze professional in.",
     "Enter this professional's organisation."},
    {"person.relation_missing", "Schrijf op wie deze persoon is voor de bewoner.",
     "Write down who this person is to the resident."},
    {"person.text_too_long", "Deze tekst is te lang. Maak hem korter.",
     "This text is too long. Make it shorter."},
    {"poll.deadline_after_slot", "De sluitdatum moet voor het eerste moment liggen.",
     "The closing date must be before the first option."},
    {"poll.deadline_missing", "Kies tot wanneer mensen kunnen antwoorden.",
     "Choose until when people can answer."},
    {"poll.deadline_passed", "Je kunt niet meer antwoorden. De prikker is gesloten.",
     "You cannot answer any more. The poll is closed."},
    {"poll.no_slots", "Voeg minstens één moment toe.", "Add at least one option."},
    {"poll.required_unknown", "Iemand die er moet zijn, hoort niet bij de kring.",
     "Someone who must be there is not in the circle."},
    {"poll.results_hidden", "Alleen de gespreksleider en de bewoner zien alle antwoorden.",
     "Only the coordinator and the resident see all answers."},
    {"poll.slot_invalid", "Dit moment klopt niet. Het einde moet na het begin zijn.",
     "This option is not valid. The end must be after the start."},
    {"poll.too_many", "Dit zijn te veel momenten of mensen.",
     "There are too many options or people."},
    {"poll.unknown_slot", "Dit moment staat niet in de prikker.",
     "This option is not in the poll."},
    {"pretalk.how_invalid",
     "Kies hoe het voorgesprek was: thuis, telefoon, video, kantoor of anders.",
     "Choose how the pre-talk took place: at home, phone, video, office or other."},
    {"pretalk.time_missing", "Vul de datum van het voorgesprek in.",
     "Enter the date of the pre-talk."},
    {"pretalk.too_long", "Deze tekst is te lang. Maak hem korter.",
     "This text is too long. Make it shorter."},
    {"referral.coordinator_not_member", "Deze gespreksleider doet nog niet mee in de kring.",
     "This coordinator is not in the circle yet."},
    {"referral.invitee_no_contact",
     "Vul voor iedereen een telefoonnummer, e-mailadres of adres in.",
     "Enter a phone number, e-mail address or address for everyone."},
    {"referral.item_invalid", "Een voorwaarde of vraag is leeg of te lang.",
     "A condition or question is empty or too long."},
    {"referral.no_consent", "De bewoner moet eerst toestemming geven.",
     "The resident must give permission first."},
    {"referral.no_invitees", "Noem minstens één persoon om uit te nodigen.",
     "Name at least one person to invite."},
    {"referral.none", "Er is nog geen aanmelding.", "There is no referral yet."},
    {"referral.preference_too_long", "Deze voorkeur is te lang. Maak hem korter.",
     "This preference is too long. Make it shorter."},
    {"referral.question_too_long", "De hulpvraag is te lang. Maak hem korter.",
     "The question is too long. Make it shorter."},
    {"referral.reason_missing", "Schrijf op waarom u het beraad aanvraagt.",
     "Write down why you are asking for the meeting."},
    {"referral.reason_too_long", "De reden is te lang. Maak hem korter.",
     "The reason is too long. Make it shorter."},
    {"referral.referrer_invalid", "Kies wie aanmeldt: een professional of de bewoner.",
     "Choose who refers: a professional or the resident."},
    {"referral.resident_kind", "De hoofdpersoon moet de bewoner zijn.",
     "The main person must be the resident."},
    {"referral.second_resident", "Er is maar één bewoner. Kies voor de anderen wie ze zijn.",
     "There is only one resident. Choose who the others are."},
    {"referral.time_invalid", "De datum van de aanmelding klopt niet.",
     "The referral date is not valid."},
    {"referral.too_many_invitees", "Dit zijn te veel mensen voor één aanmelding.",
     "These are too many people for one referral."},
    {"referral.too_many_items", "Dit zijn te veel voorwaarden of vragen.",
     "These are too many conditions or questions."},
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
