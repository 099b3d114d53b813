#include "messages.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <string_view>

#include "kring/common/refusal.h"
#include "kring/domain/messages.h"

namespace kring::cli {
namespace {

bool g_english = false;

struct Entry {
  const char* nl;
  const char* en;
};

Entry Lookup(Msg m) {
  switch (m) {
    case Msg::kUsage:
      return {
          "Gebruik: kring [--server ADRES] [--profile NAAM | --db BESTAND] [--passphrase-file "
          "BESTAND]\n"
          "             [--lang nl|en] [--json] OPDRACHT\n"
          "  --profile NAAM: de opslag van één persoon in $KRING_HOME/NAAM (standaard ~/.kring)\n"
          "  --json: uitvoer voor scripts, ook bij opdrachten die iets veranderen ({\"id\": ...} "
          "of\n"
          "          {\"ok\": true})\n"
          "  Deze opties mogen ook na de opdracht staan (kring case list --json).\n"
          "  --case ID: de casus voor opdrachten met CASUS (of KRING_CASE, niet bij case leave\n"
          "          en sync); dan valt CASUS weg (kring invite list --case ID)\n"
          "Opdrachten:\n"
          "  health                      Werkt de server? (0 = ja)\n"
          "  server-info                 Gegevens van de server\n"
          "  account create              Maak een account op dit apparaat\n"
          "  account show                Toon account-id en veiligheidsnummer\n"
          "  account safety-number ID    Veiligheidsnummer van een ander (vergelijk het samen)\n"
          "  case create [--from-now-on] [--json] [ID[:rol] ...]\n"
          "                              Start een casus met deze leden (rol:\n"
          "                              hoofdpersoon, gespreksleider of deelnemer). Wie\n"
          "                              later komt, leest ook wat eerder is geschreven;\n"
          "                              --from-now-on: alleen wat daarna komt\n"
          "  member add CASUS ID[:rol]   Voeg iemand toe aan de kring\n"
          "  member remove CASUS WIE     Haal iemand uit de kring (WIE: zie member role)\n"
          "  invite create CASUS [ROL] [--hours N]  Maak een uitnodigingslink (werkt één keer)\n"
          "  invite accept LINK          Neem een uitnodiging aan\n"
          "  invite list CASUS           Toon de uitnodigingen en hun stand\n"
          "  invite revoke CASUS ID      Trek een uitnodiging in\n"
          "  member approve CASUS WIE    Laat iemand die een uitnodiging aannam toe\n"
          "  member decline CASUS WIE    Wijs die persoon af\n"
          "  member role CASUS WIE ROL   Geef iemand een andere rol: gespreksleider of\n"
          "                              deelnemer. WIE: het account-id, of de naam\n"
          "                              zoals kring circle list die toont\n"
          "  case list                   Toon je casussen\n"
          "  case show CASUS             Toon de casus (JSON)\n"
          "  case fingerprint CASUS      Code om samen te vergelijken (zelfde code = veilig)\n"
          "  case leave CASUS            Stap zelf uit de kring\n"
          "  entity create CASUS TYPE    Maak een los onderdeel (bijvoorbeeld een notitie;\n"
          "                              afspraken: kring agreement add)\n"
          "  field set CASUS ID VELD TEKST  Zet een veld\n"
          "  sync [CASUS]                Stuur en haal wijzigingen op (van alle casussen,\n"
          "                              of alleen van deze casus)\n"
          "  alarms                      Toon beveiligingsmeldingen\n"
          "  device link-request         Nieuw apparaat: vraag een koppeling aan (tekst en code)\n"
          "  device approve TEKST [CODE]  Bestaand apparaat: keur het nieuwe apparaat goed\n"
          "  device link-finish TEKST    Nieuw apparaat: maak de koppeling af\n"
          "  device list                 Toon de apparaten van je account\n"
          "  device revoke ID            Trek een kwijtgeraakt apparaat in\n"
          "  account restore [ID]        Zet je account terug met je herstelsleutel\n"
          "                              (KRING_RECOVERY_KEY of vraag); met je account-id\n"
          "                              wordt alleen dat account geaccepteerd\n"
          "De sleutel van de lokale opslag komt uit je wachtwoordzin (KRING_PASSPHRASE of "
          "vraag).\n"
          "Alleen de opdrachten van één groep: kring GROEP --help (bijvoorbeeld kring member "
          "--help).\n"
          "Afsluitcode: 0 gelukt, 1 niet gelukt, 2 fout in de opdracht, 3 beveiligingsmelding\n"
          "(ook als de casus door een melding is gestopt).\n",
          "Usage: kring [--server ADDRESS] [--profile NAME | --db FILE] [--passphrase-file FILE]\n"
          "             [--lang nl|en] [--json] COMMAND\n"
          "  --profile NAME: one person's store in $KRING_HOME/NAME (default ~/.kring)\n"
          "  --json: output for scripts, also of commands that change something ({\"id\": ...}\n"
          "          or {\"ok\": true})\n"
          "  These options may also follow the command (kring case list --json).\n"
          "  --case ID: the case for commands with CASE (or KRING_CASE, not for case leave and\n"
          "          sync); CASE is then left out (kring invite list --case ID)\n"
          "Commands:\n"
          "  health                      Is the server up? (0 = yes)\n"
          "  server-info                 Show the server's details\n"
          "  account create              Create an account on this device\n"
          "  account show                Show account id and safety number\n"
          "  account safety-number ID    Someone else's safety number (compare it together)\n"
          "  case create [--from-now-on] [--json] [ID[:role] ...]\n"
          "                              Start a case with these members (role: chair =\n"
          "                              the resident, coordinator or member). People who\n"
          "                              join later also read what was written before;\n"
          "                              --from-now-on: only what comes after\n"
          "  member add CASE ID[:role]   Add someone to the circle\n"
          "  member remove CASE WHO      Take someone out of the circle (WHO: see member role)\n"
          "  invite create CASE [ROLE] [--hours N]  Make an invitation link (works once)\n"
          "  invite accept LINK          Accept an invitation\n"
          "  invite list CASE            Show the invitations and their state\n"
          "  invite revoke CASE ID       Withdraw an invitation\n"
          "  member approve CASE WHO     Let in someone who accepted an invitation\n"
          "  member decline CASE WHO     Turn that person down\n"
          "  member role CASE WHO ROLE   Give someone another role (coordinator or member).\n"
          "                              WHO: the account id, or the name as kring circle\n"
          "                              list shows it\n"
          "  case list                   List your cases\n"
          "  case show CASE              Show the case (JSON)\n"
          "  case fingerprint CASE       Code to compare together (same code = safe)\n"
          "  case leave CASE             Leave the circle yourself\n"
          "  entity create CASE TYPE     Create a raw item (for example a note;\n"
          "                              agreements: kring agreement add)\n"
          "  field set CASE ID FIELD TEXT  Set a field\n"
          "  sync [CASE]                 Send and fetch changes (of every case, or of this\n"
          "                              case only)\n"
          "  alarms                      Show security alarms\n"
          "  device link-request         New device: ask to be linked (text and code)\n"
          "  device approve TEXT [CODE]  Existing device: approve the new device\n"
          "  device link-finish TEXT     New device: finish the link\n"
          "  device list                 Show your account's devices\n"
          "  device revoke ID            Revoke a lost device\n"
          "  account restore [ID]        Restore your account with your recovery key\n"
          "                              (KRING_RECOVERY_KEY or a prompt); with your account\n"
          "                              id only that account is accepted\n"
          "The local store key comes from your passphrase (KRING_PASSPHRASE or a prompt).\n"
          "Only the commands of one group: kring GROUP --help (for example kring member --help).\n"
          "Exit code: 0 done, 1 failed, 2 error in the command, 3 security alarm (also when the\n"
          "case is stopped by an alarm).\n"};
    case Msg::kServing:
      return {"De server werkt.", "The server is serving."};
    case Msg::kNotServing:
      return {"De server werkt niet.", "The server is not serving."};
    case Msg::kAccountCreated:
      return {"Account gemaakt.", "Account created."};
    case Msg::kRecoveryKeyNote:
      return {"Schrijf deze herstelsleutel op en bewaar hem goed. Je ziet hem maar één keer:",
              "Write down this recovery key and keep it safe. It is shown only once:"};
    case Msg::kNoAccount:
      return {"Dit apparaat heeft nog geen account. Gebruik eerst: kring account create",
              "This device has no account yet. First run: kring account create"};
    case Msg::kCaseCreated:
      return {"Casus gemaakt:", "Case created:"};
    case Msg::kHistoryNote:
      return {"Wie later bij de casus komt, kan ook lezen wat al eerder is geschreven.",
              "People who join the case later can also read what was written before."};
    case Msg::kFromNowOnNote:
      return {
          "Wie later bij de casus komt, ziet alleen wat daarna gebeurt: ook de kring en de "
          "aanmelding van eerder niet. Dit kan niet meer worden veranderd.",
          "People who join the case later see only what happens after that: not even the "
          "circle and the referral from before. This cannot be changed later."};
    case Msg::kSynced:
      return {"Bijgewerkt.", "Up to date."};
    case Msg::kNoAlarms:
      return {"Geen beveiligingsmeldingen.", "No security alarms."};
    case Msg::kAlarmLine:
      return {"Melding", "Alarm"};
    case Msg::kPassphrasePrompt:
      return {"Wachtwoordzin: ", "Passphrase: "};
    case Msg::kPassphraseEmpty:
      return {"Een wachtwoordzin is nodig.", "A passphrase is needed."};
    case Msg::kPassphraseFileUnreadable:
      return {"Het bestand met de wachtwoordzin kan niet worden gelezen. Er is niets veranderd.",
              "The passphrase file cannot be read. Nothing has changed."};
    case Msg::kWrongPassphrase:
      return {"Deze wachtwoordzin past niet bij deze opslag.",
              "This passphrase does not open this store."};
    case Msg::kCaseWaiting:
      return {"wacht op goedkeuring", "waiting for approval"};
    case Msg::kCaseLeft:
      return {"je doet niet meer mee", "you are no longer in it"};
    case Msg::kCaseClosedMark:
      return {"gesloten", "closed"};
    case Msg::kDbOrProfile:
      return {"Kies --db of --profile, niet allebei.", "Choose --db or --profile, not both."};
    case Msg::kNoStore:
      // No path: it holds the profile's name, often a person's.
      return {
          "Hier is nog geen opslag van kring. Kijk of --db of --profile klopt. Nieuw? Begin "
          "met: kring account create",
          "There is no kring store here yet. Check --db or --profile. New? Start with: kring "
          "account create"};
    case Msg::kUnknownCommand:
      return {"Onbekende opdracht", "Unknown command"};
    case Msg::kChooseCommand:
      return {"Kies een opdracht:", "Choose a command:"};
    case Msg::kMissingArgument:
      return {"Er ontbreekt iets in de opdracht.", "Something is missing in the command."};
    case Msg::kBadId:
      return {"Dit is geen geldige id. Een id heeft 32 tekens (0-9 en a-f).",
              "This is not a valid id (32 hexadecimal characters)."};
    case Msg::kNewConflicts:
      return {"Iemand veranderde hetzelfde als een ander, op hetzelfde moment. Nieuwe conflicten:",
              "Someone changed the same thing as someone else at the same time. New conflicts:"};
    case Msg::kNewOwnConflicts:
      return {
          "Je veranderde hetzelfde op twee van jouw apparaten, op hetzelfde moment. Nieuwe "
          "conflicten:",
          "You changed the same thing on two of your devices at the same time. New "
          "conflicts:"};
    case Msg::kSeeConflicts:
      return {"Kies welke waarde blijft: kring conflicts",
              "Choose which value stays: kring conflicts"};
    case Msg::kRefusedChanges:
      return {"Niet doorgegaan. Wijzigingen van dit apparaat die geen effect hadden:",
              "Did not go through. Changes from this device that had no effect:"};
    case Msg::kRefusedWhy:
      return {"Waarom:", "Why:"};
    case Msg::kAccountNameUnknown:
      return {
          "Niemand in de kring met deze naam heeft een account. Gebruik het account-id: kring "
          "invite list",
          "Nobody in the circle with this name has an account. Use the account id: kring "
          "invite list"};
    case Msg::kAccountNameAmbiguous:
      return {
          "Meer mensen met deze naam hebben een account. Gebruik het account-id: kring invite "
          "list",
          "More people with this name have an account. Use the account id: kring invite list"};
    case Msg::kEditStored:
      return {"Opgeslagen en verstuurd.", "Saved and sent."};
    case Msg::kOffline:
      return {"De server is nu niet bereikbaar. Je wijzigingen blijven bewaard.",
              "The server cannot be reached now. Your changes are kept."};
    case Msg::kError:
      return {"Fout", "Error"};
    case Msg::kMemberAdded:
      return {"Toegevoegd. Deze persoon krijgt een nieuwe sleutel voor de casus.",
              "Added. This person gets a new key for the case."};
    case Msg::kMemberRemoved:
      return {"Verwijderd uit de casus.", "Removed from the case."};
    case Msg::kLanguageTag:
      return {"nl", "en"};
    case Msg::kMemberApproved:
      return {"Goedgekeurd. Deze persoon kan nu meelezen.",
              "Approved. This person can now read along."};
    case Msg::kMemberDeclined:
      return {"Afgewezen.", "Declined."};
    case Msg::kRoleChanged:
      return {"De rol is aangepast. Niemand krijgt een nieuwe sleutel.",
              "The role is changed. Nobody gets a new key."};
    case Msg::kControlQueued:
      return {"Dit gaat pas in als de server het heeft aangenomen.",
              "This takes effect once the server has accepted it."};
    case Msg::kInviteNote:
      return {
          "Stuur deze link naar de persoon, of laat de tekst als QR-code scannen. De link werkt "
          "één keer.",
          "Send this link to the person, or let them scan the text as a QR code. The link "
          "works once."};
    case Msg::kInviteAccepted:
      return {"Uitnodiging aangenomen. Je kunt meelezen zodra je bent goedgekeurd. Casus:",
              "Invitation accepted. You can read along once you are approved. Case:"};
    case Msg::kInviteOpen:
      return {"open", "open"};
    case Msg::kInviteWaiting:
      return {"wacht-op-goedkeuring", "waiting-for-approval"};
    case Msg::kInviteApproved:
      return {"goedgekeurd", "approved"};
    case Msg::kInviteDeclined:
      return {"afgewezen", "declined"};
    case Msg::kInviteRevoked:
      return {"ingetrokken", "revoked"};
    case Msg::kInviteExpired:
      return {"verlopen", "expired"};
    case Msg::kNoInvites:
      return {"Er zijn geen uitnodigingen.", "There are no invitations."};
    case Msg::kChooseCase:
      return {
          "Kies de casus: zet de casus-id na de opdracht, of gebruik --case ID of KRING_CASE. "
          "Je casussen: kring case list.",
          "Choose the case: put the case id after the command, or use --case ID or KRING_CASE. "
          "Your cases: kring case list."};
    case Msg::kChooseCaseToLeave:
      return {
          "Zeg welke casus je verlaat: zet de casus-id na de opdracht, of gebruik --case ID "
          "(KRING_CASE telt hier niet). Je casussen: kring case list.",
          "Say which case you leave: put the case id after the command, or use --case ID "
          "(KRING_CASE does not count here). Your cases: kring case list."};
    case Msg::kNotAccepted:
      return {"Niet gelukt", "Not accepted"};
    case Msg::kChangesNotApplied:
      return {"wijzigingen niet doorgevoerd", "changes not applied"};
    case Msg::kRemovedNote:
      return {"Je bent geen lid meer van deze casus. Wat je al zag, blijft op dit apparaat.",
              "You are no longer a member of this case. What you saw stays on this device."};
    case Msg::kAlarmNote:
      return {"Beveiligingsmelding. Kijk met: kring alarms", "Security alarm. See: kring alarms"};
    case Msg::kEditStoredOffline:
      return {"Opgeslagen op dit apparaat. Het wordt verstuurd zodra de server bereikbaar is.",
              "Saved on this device. It is sent as soon as the server can be reached."};
    case Msg::kSyncedCounts:
      return {"opgehaald, verstuurd:", "fetched, sent:"};
    case Msg::kLinkRequestNote:
      return {
          "Laat de tekst (als QR-code) en de code zien op een apparaat dat al bij je account "
          "hoort. Typ daar: kring device approve TEKST CODE",
          "Show the text (as a QR code) and the code to a device that already belongs to your "
          "account. There, run: kring device approve TEXT CODE"};
    case Msg::kApproveNote:
      return {
          "Goedgekeurd. Geef deze tekst aan het nieuwe apparaat. Typ daar: "
          "kring device link-finish TEKST",
          "Approved. Give this text to the new device. There, run: "
          "kring device link-finish TEXT"};
    case Msg::kCodePrompt:
      return {"Typ de code die het nieuwe apparaat laat zien: ",
              "Type the code the new device shows: "};
    case Msg::kDeviceLinked:
      return {"Dit apparaat hoort nu bij je account. Je casussen worden opgehaald.",
              "This device now belongs to your account. Your cases are being fetched."};
    case Msg::kDeviceRevoked:
      return {
          "Apparaat ingetrokken. Het kan niet meer inloggen. Je kringen krijgen een nieuwe "
          "sleutel: wat hierna komt, kan dat apparaat niet lezen.",
          "Device revoked. It can no longer sign in. Your circles get a new key: what comes "
          "after this cannot be read on that device."};
    case Msg::kRecoveryPrompt:
      return {"Typ je herstelsleutel: ", "Type your recovery key: "};
    case Msg::kAccountRestored:
      return {"Je account staat weer op dit apparaat. Je casussen worden opgehaald.",
              "Your account is back on this device. Your cases are being fetched."};
    case Msg::kThisDevice:
      return {"(dit apparaat)", "(this device)"};
    case Msg::kRevokedDevice:
      return {"(ingetrokken)", "(revoked)"};
    case Msg::kUnexpectedWords:
      return {"In de opdracht staan woorden die ik niet verwacht. Er is niets veranderd.",
              "The command has words it does not expect. Nothing has changed."};
    case Msg::kNotUtf8:
      return {"Een woord in de opdracht is geen geldige tekst (UTF-8). Er is niets veranderd.",
              "A word in the command is not valid text (UTF-8). Nothing has changed."};
    case Msg::kTooLong:
      return {
          "Een woord in de opdracht is te lang (hoogstens ongeveer 16.000 tekens). Er is niets "
          "veranderd.",
          "A word in the command is too long (at most about 16,000 characters). Nothing has "
          "changed."};
    case Msg::kUnknownLanguage:
      return {"Deze taal is er niet. Kies nl (Nederlands) of en (English).",
              "This language is not available. Choose nl (Nederlands) or en (English)."};
    case Msg::kPassphraseTooShort:
      return {"Kies een wachtwoordzin van minstens 8 tekens. Er is niets gemaakt.",
              "Choose a passphrase of at least 8 characters. Nothing was created."};
    case Msg::kPassphraseRepeat:
      return {"Typ de wachtwoordzin nog een keer: ", "Type the passphrase again: "};
    case Msg::kPassphraseMismatch:
      return {"De twee wachtwoordzinnen zijn niet gelijk. Er is niets gemaakt.",
              "The two passphrases are not the same. Nothing was created."};
    case Msg::kSaltDamaged:
      return {"Het bestand naast de opslag dat bij de wachtwoordzin hoort (.salt) is beschadigd.",
              "The file next to the store that belongs to the passphrase (.salt) is damaged."};
    case Msg::kSaltUnwritable:
      return {
          "Het bestand naast de opslag (.salt) kan niet worden geschreven. Er is niets gemaakt.",
          "The file next to the store (.salt) cannot be written. Nothing was created."};
    case Msg::kInviteeLinked:
      return {"De uitnodiging was voor deze persoon in de kring. Het account hoort nu bij:",
              "The invitation was for this person in the circle. The account now belongs to:"};
    case Msg::kInviteeNotLinked:
      return {
          "Let op: de uitnodiging was voor deze persoon in de kring, maar het account is "
          "niet aan haar of hem gekoppeld:",
          "Note: the invitation was for this person in the circle, but the account is not "
          "linked to them:"};
    case Msg::kInviteeLinkedElsewhere:
      return {"Deze persoon heeft al een ander account.",
              "This person already has another account."};
    case Msg::kInviteeAccountInUse:
      return {"Dit account hoort al bij iemand anders in de kring.",
              "This account already belongs to someone else in the circle."};
    case Msg::kInviteeLinkHint:
      return {
          "Tot het gekoppeld is, kan deze persoon niet meedoen als zichzelf (bijvoorbeeld de "
          "planning invullen). De hoofdpersoon of de gespreksleider koppelt het met:",
          "Until it is linked, this person cannot take part as themself (for example answer "
          "the poll). The resident or the coordinator links it with:"};
    case Msg::kJoinedNotLinked:
      return {
          "Let op: het account is nog niet aan deze persoon gekoppeld. Koppel het met: kring "
          "circle link PERSOON ACCOUNT",
          "Note: the account is not linked to this person yet. Link it with: kring circle "
          "link PERSON ACCOUNT"};
    case Msg::kInviteFor:
      return {"voor", "for"};
    case Msg::kInviteForRole:
      return {"rol:", "role:"};
    case Msg::kInviteMade:
      return {"uitnodiging", "invite"};
    case Msg::kRoleChair:
      return {"hoofdpersoon", "resident (chair)"};
    case Msg::kRoleCoordinator:
      return {"gespreksleider", "coordinator"};
    case Msg::kRoleMember:
      return {"deelnemer", "member"};
    case Msg::kPersonStillInCircle:
      return {
          "Deze persoon staat nog in de kring, nu zonder app. Hoort hij of zij er niet meer bij? "
          "Haal hem of haar uit de kring met: kring circle remove ",
          "This person is still in the circle, now without the app. No longer part of it? Take "
          "them out of the circle with: kring circle remove "};
    case Msg::kBadProfile:
      return {"Deze profielnaam kan niet. Gebruik letters, cijfers, - of _ (hoogstens 64).",
              "This profile name cannot be used. Use letters, digits, - or _ (at most 64)."};
  }
  return {"", ""};
}

// Where a CLI user can look after a refusal with this reason key ("" where nothing helps).
std::string LookHint(std::string_view reason) {
  struct Hint {
    std::string_view reason;
    const char* nl;
    const char* en;
  };
  static constexpr Hint kHints[] = {
      {refusal::kInviteNotOpen, " Kijk met: kring invite list", " See: kring invite list"},
      {refusal::kNotWaiting, " Kijk met: kring invite list", " See: kring invite list"},
      {refusal::kTargetNotMember, " Kijk met: kring case show", " See: kring case show"},
      {refusal::kScopeUnknown, " Kijk met: kring scope list", " See: kring scope list"},
      {refusal::kCaseHalted, " Kijk met: kring alarms", " See: kring alarms"},
  };
  for (const Hint& h : kHints) {
    if (h.reason == reason) return g_english ? h.en : h.nl;
  }
  return "";
}

// The option a library refusal is about, for the commands that have it. The library's texts
// name no option (apps show them too); on the command line a user must know which one to give.
struct OptionOf {
  std::string_view key;
  const char* option;  // without "--"; a key with two options has two rows
};

constexpr OptionOf kOptionOfKey[] = {
    {"location.coarse_missing", "coarse"},
    {"location.exact_missing", "exact"},
    {"location.hidden_unknown", "hidden-from"},
    {"meeting.pretalk_missing", "no-pretalk-reason"},
    {"meeting.required_said_no", "required-no-reason"},
    {"poll.deadline_missing", "deadline"},
    {"poll.deadline_after_slot", "deadline"},
    {"poll.no_slots", "slot"},
    {"poll.slot_invalid", "slot"},
    {"poll.required_unknown", "required"},
    {"poll.required_left", "required"},
    {"participation.reason_missing", "reason"},
    {"participation.too_long", "reason"},
    {"absent_view.text_missing", "text"},
    {"absent_view.too_long", "text"},
    {"person.name_missing", "name"},
    {"person.relation_missing", "relation"},
    {"person.function_missing", "function"},
    {"person.organisation_missing", "organisation"},
    {"person.kind_invalid", "kind"},
    {"person.language_invalid", "language"},
    {"person.account_invalid", "account"},
    {"contact.email_invalid", "email"},
    {"contact.phone_invalid", "phone"},
    {"pretalk.how_invalid", "how"},
    {"pretalk.time_missing", "at"},
    {"referral.reason_missing", "reason"},
    {"referral.reason_too_long", "reason"},
    {"plan.unknown_life_domain", "domain"},
    {"plan.review_days_invalid", "review-days"},
    {"plan.contingency_missing", "contingency"},
    {"plan.contact_missing", "contact-person"},
    {"plan.contact_unknown", "contact-person"},
    {"plan.professional_missing", "responsible"},
    {"plan.professional_unknown", "responsible"},
    {"plan.conditions_missing", "text"},
    {"plan.reason_missing", "text"},
    {"plan.decision_invalid", "decision"},
    {"agreement.owner_missing", "owner"},
    {"agreement.owner_unknown", "owner"},
    {"agreement.action_missing", "action"},
    {"agreement.when_missing", "due"},
    {"agreement.when_missing", "recurrence"},
    {"agreement.checker_unknown", "checker"},
    {"agreement.hidden_unknown", "hidden-from"},
    {"agreement.obstacle_missing", "obstacle"},
    {"agreement.obstacle_owner_unknown", "obstacle-owner"},
    {"agreement.obstacle_owner_left", "obstacle-owner"},
    {"micro.service_missing", "service"},
    {"micro.service_too_long", "service"},
    {"micro.cost_invalid", "euros"},
    {"mentor.young_person_unknown", "young"},
    {"mentor.mentor_unknown", "mentor"},
    {"invite.validity_invalid", "hours"},
    {"followup.unknown_agreement", "assess"},
    {"followup.duplicate_assessment", "assess"},
    {"followup.note_too_long", "note"},
};

std::vector<std::string> g_command_options;

// " Optie: --coarse." when the command being run has the option `key` is about, else "".
std::string OptionHint(const std::string& key) {
  std::string named;
  for (const OptionOf& o : kOptionOfKey) {
    if (o.key != key || std::find(g_command_options.begin(), g_command_options.end(), o.option) ==
                            g_command_options.end()) {
      continue;
    }
    named += (named.empty() ? "--" : (g_english ? " or --" : " of --")) + std::string(o.option);
  }
  if (named.empty()) return "";
  return (g_english ? " Option: " : " Optie: ") + named + ".";
}

}  // namespace

void SetCommandOptions(const std::vector<const char*>& options) {
  g_command_options.assign(options.begin(), options.end());
}

bool SetLanguage(const std::string& lang) {
  // A locale-style value (en_GB.UTF-8, NL) names its language first.
  std::string code = lang.substr(0, lang.find_first_of("_-.@"));
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (code != "nl" && code != "en") return false;
  g_english = code == "en";
  return true;
}

std::string KeyText(const std::string& key) {
  if (!domain::HasUserText(key)) return key;
  return domain::UserText(key, g_english ? domain::Language::kEnglish : domain::Language::kDutch);
}

std::string Explain(const std::string& reason, const std::string& server_reason) {
  const domain::Language language =
      g_english ? domain::Language::kEnglish : domain::Language::kDutch;
  // The server's refusals carry a reason key; only an older server's lack one. The library's
  // text names no command (apps show it too), so the CLI adds where to look.
  if (const std::string key = refusal::TextKey(server_reason); domain::HasUserText(key)) {
    return domain::UserText(key, language) + LookHint(server_reason);
  }
  // The netwerkberaad's own reasons are stable keys with a text in both languages. A refusal by
  // role or by someone's place in the circle is decided on this device's view, which may be
  // behind a change someone else just made (a new role, an approval): only those get the hint.
  if (domain::HasUserText(reason)) {
    const char* sync_hint = g_english ? " Did that just change? First fetch it: kring sync"
                                      : " Is dat net veranderd? Haal het eerst op: kring sync";
    static const char* const kByRoleOrCircle[] = {
        "domain.not_allowed", "refused.managers_only", "rule.coordinator_only",
        "rule.chair_only",    "rule.approved_entry",   "member.waiting_approval",
    };
    const bool stale_view_may_explain =
        std::find(std::begin(kByRoleOrCircle), std::end(kByRoleOrCircle), reason) !=
        std::end(kByRoleOrCircle);
    return domain::UserText(reason, language) + (stale_view_may_explain ? sync_hint : "") +
           OptionHint(reason);
  }
  struct Known {
    const char* phrase;
    const char* nl;
    const char* en;
  };
  static const Known kKnown[] = {
      {"invite was already used", "Deze uitnodiging is al gebruikt.",
       "This invitation was already used."},
      {"invite was revoked", "Deze uitnodiging is ingetrokken.", "This invitation was withdrawn."},
      {"invite has expired", "Deze uitnodiging is verlopen.", "This invitation has expired."},
      {"unknown invite", "Deze uitnodiging bestaat niet.", "This invitation does not exist."},
      {"not a Kring invitation link",
       "Dit is geen geldige uitnodiging. Kopieer de hele link (begint met kring://).",
       "This is not a valid invitation. Copy the whole link (starts with kring://)."},
      {"the case already has a chair",
       "Deze casus heeft al een hoofdpersoon. Er kan er maar één zijn.",
       "This case already has a resident. There can be only one."},
      {"the chair decides who comes in", "De hoofdpersoon beslist wie erbij komt.",
       "The resident decides who comes in."},
      {"only a chair or coordinator may", "Dit mag alleen de hoofdpersoon of de gespreksleider.",
       "Only the resident or the coordinator may do this."},
      {"not waiting for approval",
       "Deze persoon wacht niet op goedkeuring. Kijk met: kring invite list",
       "This person is not waiting for approval. See: kring invite list"},
      {"approval must keep the invited role", "Keur goed met de rol uit de uitnodiging.",
       "Approve with the role of the invitation."},
      // Role changes (member role), as the library words them.
      {"the chair decides who has which role", "De hoofdpersoon beslist wie welke rol heeft.",
       "The resident decides who has which role."},
      {"the chair's role does not change",
       "De hoofdpersoon blijft altijd hoofdpersoon. Die rol kan niet veranderen.",
       "The resident always stays the resident. That role cannot change."},
      {"a role change gives coordinator or member",
       "Je kunt iemand alleen gespreksleider of gewoon lid maken.",
       "You can only make someone a coordinator or a plain member."},
      {"the member has this role already", "Deze persoon heeft die rol al.",
       "This person already has that role."},
      {"someone else must remain who can hand out new keys",
       "Dat kan niet: er moet een hoofdpersoon of gespreksleider blijven die nieuwe sleutels "
       "geeft.",
       "Not possible: a resident or coordinator must remain to hand out new keys."},
      {"already a member", "Deze persoon is al lid.", "This person is already a member."},
      {"invite is no longer open",
       "Deze uitnodiging is niet meer open. Kijk met: kring invite list",
       "This invitation is no longer open. See: kring invite list"},
      {"only the chair may erase the case", "Alleen de hoofdpersoon mag de casus wissen.",
       "Only the resident may erase the case."},
      // The server's reason for an account id it does not know (member add, case create).
      {"unknown account",
       "Dit account bestaat niet op de server. Kijk of je de account-id goed hebt overgenomen.",
       "This account does not exist on the server. Check that you copied the account id "
       "correctly."},
      // Before "not a member": the longer reasons that contain it.
      {"not a member of this case any more", "Je bent geen lid meer van deze casus.",
       "You are no longer a member of this case."},
      {"author is not a member",
       "Je bent (nog) geen lid van deze casus. Wacht je op goedkeuring? Dan kan dit pas daarna.",
       "You are not (yet) a member of this case. Waiting for approval? Then this can only be "
       "done after that."},
      {"not a member", "Deze persoon is geen lid van de casus. Kijk met: kring case show",
       "This person is not a member of the case. See: kring case show"},
      {"entity type must be", "Het soort onderdeel moet 1 tot 64 tekens lang zijn (geldige tekst).",
       "The kind of item must be 1 to 64 characters long (valid text)."},
      {"already waiting for approval", "Je wacht al op goedkeuring voor deze casus.",
       "You are already waiting for approval in this case."},
      {"unknown case", "Deze casus staat niet op dit apparaat. Kijk met: kring case list",
       "This case is not on this device. See: kring case list"},
      {"unknown entity", "Dit onderdeel bestaat niet.", "This item does not exist."},
      {"this device has an account",
       "Dit apparaat heeft al een account. Kijk met: kring account show",
       "This device already has an account. See: kring account show"},
      {"no confirmed epoch yet", "Er is nog geen code: je bent nog niet toegelaten of bijgewerkt.",
       "There is no code yet: you are not approved or not up to date yet."},
      {"holds no key for the current epoch",
       "Er is nog geen code: je bent nog niet toegelaten of bijgewerkt.",
       "There is no code yet: you are not approved or not up to date yet."},
      {"removed from the case", "Je bent geen lid meer van deze casus.",
       "You are no longer a member of this case."},
      {"confirmation code does not match",
       "De code klopt niet. Kijk nog eens op het nieuwe apparaat en neem de tekst opnieuw over.",
       "The code does not match. Look again at the new device and copy the text again."},
      {"confirmation code has 8 digits", "De code heeft 8 cijfers.", "The code has 8 digits."},
      {"not a Kring device link code",
       "Dit is geen koppeltekst. Kopieer de hele tekst (begint met kring://device-link/).",
       "This is not a link text. Copy the whole text (starts with kring://device-link/)."},
      {"not a Kring device approval",
       "Dit is geen goedkeuring. Kopieer de hele tekst (begint met kring://device-approve/).",
       "This is not an approval. Copy the whole text (starts with kring://device-approve/)."},
      {"the server refused this approval",
       "De server weigert deze goedkeuring. Keur het apparaat opnieuw goed op je andere apparaat.",
       "The server refuses this approval. Approve the device again on your other device."},
      {"this approval is for another device",
       "Deze goedkeuring is voor een ander apparaat. Vraag de koppeling opnieuw aan.",
       "This approval is for another device. Ask for the link again."},
      {"ask for a device link first",
       "Vraag eerst een koppeling aan met: kring device link-request",
       "First ask for a link with: kring device link-request"},
      {"this device was already added", "Dit apparaat hoort al bij je account.",
       "This device already belongs to your account."},
      {"revoke this device from another device",
       "Dit apparaat kun je niet hier intrekken. Doe het vanaf een ander apparaat van je account.",
       "You cannot revoke this device here. Do it from another device of your account."},
      {"no active device with this id",
       "Dit apparaat hoort niet (meer) bij je account. Kijk met: kring device list",
       "This device does not (or no longer) belong to your account. See: kring device list"},
      {"unknown or revoked device",
       "Dit apparaat is ingetrokken of onbekend. Het kan niet meer inloggen.",
       "This device is revoked or unknown. It can no longer sign in."},
      {"not a recovery key",
       "Dit is geen herstelsleutel. Een herstelsleutel heeft 64 tekens (0-9 en a-f).",
       "This is not a recovery key. A recovery key has 64 characters (0-9 and a-f)."},
      {"no account on this server has this recovery key",
       "Deze herstelsleutel hoort bij geen account op deze server. Kijk of je hem goed hebt "
       "overgetypt. Er is niets veranderd.",
       "This recovery key belongs to no account on this server. Check that you typed it "
       "correctly. Nothing has changed."},
      // Alarm details of the push-time checks (kring alarms); the others are shown as they are.
      {"log differs from what the server answered to this device's push",
       "De server zei dat jouw wijziging op een plek in het logboek stond. Daar staat iets anders. "
       "De server liegt of is aangepast.",
       "The server said your change was at a place in the log. Something else is there. The "
       "server lies or was changed."},
      {"signed receipt differs from the verified log",
       "De server heeft een bewijs ondertekend dat niet past bij het logboek op dit apparaat.",
       "The server signed a proof that does not fit the log on this device."},
      {"server signed two different logs for one position",
       "De server heeft voor dezelfde plek in het logboek twee verschillende bewijzen "
       "ondertekend. Beide zijn bewaard.",
       "The server signed two different proofs for the same place in the log. Both are kept."},
      {"server refuses the case without showing a removal",
       "De server stuurt deze casus niet meer. Hij laat niet zien dat je bent verwijderd. Je "
       "wijzigingen blijven op dit apparaat. Vraag de hoofdpersoon of je nog lid bent. Heb je "
       "een nieuwe uitnodiging geaccepteerd? Wacht dan tot de hoofdpersoon je toelaat.",
       "The server no longer sends you this case. It does not show that you were removed. Your "
       "changes stay on this device. Ask the chair whether you are still a member. If you "
       "accepted a new invite, wait for the chair's approval."},
      {"stopped by a security alarm",
       "Deze casus is gestopt door een beveiligingsmelding. Kijk met: kring alarms",
       "This case is stopped by a security alarm. See: kring alarms"},
  };
  for (const Known& k : kKnown) {
    if (reason.find(k.phrase) != std::string::npos) return g_english ? k.en : k.nl;
  }
  return reason;
}

std::string CommandWord(const std::string& word) {
  if (word.empty() || word.size() > 40) return "?";
  for (char ch : word) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return "?";
  }
  return word;
}

const char* Text(Msg msg) {
  Entry e = Lookup(msg);
  return g_english ? e.en : e.nl;
}

const char* DutchText(Msg msg) { return Lookup(msg).nl; }

}  // namespace kring::cli
