// kring circle / invitation / pretalk / participation: who is in the netwerkberaad, how they
// were invited and the coordinator's pre-talks (DOMAIN step 2).
#include <iostream>

#include "kring/domain/names.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "words.h"

namespace kring::cli {
namespace {

using domain::Organising;

std::string PersonJson(const domain::Person& p, const std::string& invitation) {
  return JObj({{"id", JId(p.person_id)},
               {"name", JStr(p.name)},
               {"relation", JStr(p.relation)},
               {"kind", JStr(p.kind)},
               {"organisation", JStr(p.organisation)},
               {"function", JStr(p.function)},
               {"status", JStr(p.status)},
               {"has_app", JBool(p.has_app)},
               {"account", JId(p.account_id)},
               {"account_removed", JBool(p.account_removed)},
               {"account_not_joined", JBool(p.account_not_joined)},
               {"left", JBool(p.left)},
               {"left_at_ms", JNum(p.left_at_ms)},
               {"invitation", JStr(invitation)}});
}

std::string StatusText(const Ctx& ctx, const std::string& status) {
  return ShowWord(ctx, kPersonStatuses,
                  status == "approved" || status == "declined" ? status : "proposed");
}

// Who is in the circle now; with --all also who left it and who was declined (they stay for
// the history).
int List(Ctx& ctx) {
  Organising org(ctx.client, ctx.case_id);
  auto circle = org.Circle();
  if (!circle.ok()) return Fail(circle.status());
  std::vector<std::string> rows;
  size_t left_hidden = 0, declined_hidden = 0;
  for (const domain::Person& p : *circle) {
    if (!ctx.On("all") && (p.left || p.status == "declined")) {
      ++(p.left ? left_hidden : declined_hidden);
      continue;
    }
    auto inv = org.InvitationOf(p.person_id);
    std::string invitation = inv.ok() ? domain::InvitationStateName(*inv) : "";
    if (ctx.json) {
      rows.push_back(PersonJson(p, invitation));
      continue;
    }
    std::cout << Hex(p.person_id) << "  " << p.name;
    if (!p.relation.empty()) std::cout << " (" << p.relation << ")";
    std::cout << "  " << ShowWord(ctx, kPersonKinds, p.kind) << ", ";
    if (p.left) {
      std::cout << ctx.T("niet meer in de kring", "no longer in the circle");
      if (p.left_at_ms > 0)
        std::cout << ctx.T(" (sinds ", " (since ") << ShowTime(ctx, p.left_at_ms) << ")";
    } else {
      std::cout << StatusText(ctx, p.status);
    }
    // An account taken out of the case no longer takes part, whatever the entry says; one linked
    // that was never in the case is not in yet, and can be invited.
    if (p.account_removed) {
      std::cout << ctx.T(", doet niet meer mee met de app", ", no longer takes part with the app");
    } else if (p.account_not_joined && !p.left && p.status == "approved") {
      std::cout << ctx.T(", nog niet in de app (uitnodigen: kring invitation app ",
                         ", not in the app yet (invite: kring invitation app ")
                << Hex(p.person_id) << ")";
    } else if (p.account_not_joined) {
      std::cout << ctx.T(", nog niet in de app", ", not in the app yet");
    } else if (p.has_app) {
      std::cout << ctx.T(", met app", ", with the app");
    }
    std::cout << "\n";
  }
  if (ctx.json) {
    PrintJson(JArr(rows));
    return 0;
  }
  if (circle->size() == left_hidden + declined_hidden) {
    std::cout << ctx.T("De kring is nog leeg.", "The circle is empty.") << "\n";
  }
  if (left_hidden + declined_hidden > 0) {
    std::cout << (ctx.english() ? "Not shown: " : "Niet getoond: ");
    if (left_hidden > 0) {
      std::cout << left_hidden << ctx.T(" niet meer in de kring", " no longer in the circle");
    }
    if (declined_hidden > 0) {
      std::cout << (left_hidden > 0 ? ", " : "") << declined_hidden
                << ctx.T(" afgewezen", " declined");
    }
    std::cout << ctx.T(". Toon ook hen met: kring circle list --all",
                       ". Show them too with: kring circle list --all")
              << "\n";
  }
  return 0;
}

int Propose(Ctx& ctx) {
  domain::PersonInput p;
  p.name = ctx.Get("name");
  p.kind = DomainWord(kPersonKinds, ctx.Get("kind", "family"));
  p.relation = ctx.Get("relation");
  p.organisation = ctx.Get("organisation");
  p.function = ctx.Get("function");
  p.language = ctx.Get("language", "nl");
  p.interpreter = ctx.On("interpreter");
  p.has_app = ctx.On("has-app") || ctx.Has("account");
  p.contact = {ctx.Get("phone"), ctx.Get("email"), ctx.Get("address")};
  if (ctx.Has("account")) {
    auto account = ParseId(ctx.Get("account"));
    if (!account) return BadId("--account");
    p.account_id = *account;
  }
  // Two people may share a name (two cousins called Mo): allowed, but commands that take a name
  // cannot tell them apart, so say so before it becomes a surprise.
  // Names are matched as people type them (domain::SameName): "mo" is Mo too.
  bool name_taken = false;
  if (auto circle = Organising(ctx.client, ctx.case_id).Circle(); circle.ok()) {
    for (const domain::Person& other : *circle) {
      name_taken =
          name_taken || (domain::SameName(other.name, p.name) && other.status != "declined");
    }
  }
  auto id = Organising(ctx.client, ctx.case_id).ProposePerson(p);
  if (!id.ok()) return Fail(id.status());
  if (name_taken) {
    std::cerr << ctx.T(
                     "Let op: er is al iemand in de kring met deze naam. Gebruik voortaan het id "
                     "(kring circle list) of geef een naam die verschilt.",
                     "Note: someone in the circle already has this name. From now on use the "
                     "id (kring circle list) or give a different name.")
              << "\n";
  }
  return ctx.Made("person", *id, "Voorgesteld. De hoofdpersoon of de gespreksleider beslist.",
                  "Proposed. The resident or the coordinator decides.");
}

// Changes what is known of a person; what is not given stays as it is.
int Edit(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  Organising org(ctx.client, ctx.case_id);
  auto now = org.GetPerson(*person);
  if (!now.ok()) return Fail(now.status());
  domain::PersonInput p;
  p.name = ctx.Get("name", now->name);
  p.relation = ctx.Get("relation", now->relation);
  p.kind = DomainWord(kPersonKinds, ctx.Get("kind", now->kind));
  p.organisation = ctx.Get("organisation", now->organisation);
  p.function = ctx.Get("function", now->function);
  p.language = ctx.Get("language", now->language);
  p.interpreter = ctx.On("interpreter") || (now->interpreter && !ctx.On("no-interpreter"));
  Status s = org.UpdatePerson(*person, p);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Gegevens van deze persoon aangepast.", "This person's details changed.");
}

int Decide(Ctx& ctx, bool approve) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  Organising org(ctx.client, ctx.case_id);
  Status s = approve ? org.ApprovePerson(*person) : org.DeclinePerson(*person);
  if (!s.ok()) return Fail(s);
  return approve
             ? ctx.Done("Deze persoon hoort nu bij de kring.", "This person is now in the circle.")
             : ctx.Done("Afgewezen.", "Declined.");
}

// Takes someone out of the circle. What that leaves open is said, not changed behind the user's
// back: their open agreements need a new owner, and an account still in the case can still read.
int Remove(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  Organising org(ctx.client, ctx.case_id);
  auto removal = org.RemovePerson(*person);
  if (!removal.ok()) return Fail(removal.status());
  auto who = org.GetPerson(*person);
  if (!who.ok()) return Fail(who.status());
  if (int rc = ctx.Done("Uit de kring gehaald. Eerdere afspraken blijven bewaard, met wie het was.",
                        "Taken out of the circle. Earlier agreements are kept, with who it was.",
                        true, /*json=*/"");  // its own document below
      rc != 0) {
    return rc;
  }
  if (ctx.json) {
    std::vector<std::string> open;
    for (const Bytes& a : removal->open_agreements) open.push_back(JId(a));
    PrintJson(JObj({{"person", JId(*person)},
                    {"open_agreements", JArr(open)},
                    {"still_member", JBool(removal->still_member)},
                    {"in_private_time", JBool(removal->in_private_time)}}));
    return 0;
  }
  if (!removal->open_agreements.empty()) {
    std::cout << ctx.T("Deze afspraken zijn nog open en hebben een nieuwe eigenaar nodig:",
                       "These agreements are still open and need a new owner:")
              << "\n";
    domain::Plan plan(ctx.client, ctx.case_id);
    for (const Bytes& id : removal->open_agreements) {
      auto a = plan.GetAgreement(id);
      std::cout << "  " << Hex(id) << "  " << (a.ok() ? a->input.action : "") << "\n";
    }
    std::cout << ctx.T("Kies een nieuwe eigenaar met: kring agreement owner AFSPRAAK PERSOON",
                       "Choose a new owner with: kring agreement owner AGREEMENT PERSON")
              << "\n";
  }
  // Leaving the circle is not losing access: no key changes here.
  if (removal->still_member) {
    std::cout << ctx.T(
                     "Let op: deze persoon kan de casus nog lezen met de app. Uit de kring halen "
                     "neemt die toegang niet weg. Haal die weg met: kring member remove ",
                     "Note: this person can still read the case with the app. Taking them out "
                     "of the circle does not take that access away. Take it away with: kring "
                     "member remove ")
              << Hex(ctx.case_id) << " " << Hex(who->account_id) << "\n"
              << ctx.T("Wat hij of zij al gezien heeft, kun je niet terugnemen.",
                       "What they have already seen cannot be taken back.")
              << "\n";
  }
  if (removal->in_private_time) {
    std::cout << ctx.T(
                     "Let op: er is nu eigen tijd. Deze persoon kan het concept van de eigen tijd "
                     "nog lezen, tot je hem of haar uit de casus haalt.",
                     "Note: private time is running. This person can still read the private time "
                     "draft until you remove them from the case.")
              << "\n";
  }
  return 0;
}

int Approve(Ctx& ctx) { return Decide(ctx, true); }
int Decline(Ctx& ctx) { return Decide(ctx, false); }

int Link(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  auto account = ParseId(ctx.Pos(1));
  if (!account) return BadId("ACCOUNT");
  Status s = Organising(ctx.client, ctx.case_id).LinkAccount(*person, *account);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Account gekoppeld.", "Account linked.");
}

int ContactCmd(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  Organising org(ctx.client, ctx.case_id);
  if (ctx.Has("phone") || ctx.Has("email") || ctx.Has("address")) {
    // Like `circle edit`: what is not named stays as it is (--phone '' clears the phone).
    auto before = org.ContactOf(*person);
    if (!before.ok()) return Fail(before.status());
    domain::ContactDetails was =
        before->has_value() ? (*before)->details : domain::ContactDetails{};
    Status s = org.SetContact(*person, {ctx.Get("phone", was.phone), ctx.Get("email", was.email),
                                        ctx.Get("address", was.address)});
    if (!s.ok()) return Fail(s);
    return ctx.Done("Contactgegevens opgeslagen. Alleen de gespreksleider en deze persoon zien ze.",
                    "Contact details saved. Only the coordinator and this person see them.");
  }
  auto contact = org.ContactOf(*person);
  if (!contact.ok()) return Fail(contact.status());
  domain::ContactDetails d = contact->has_value() ? (*contact)->details : domain::ContactDetails{};
  if (ctx.json) {
    PrintJson(JObj({{"visible", JBool(contact->has_value())},
                    {"phone", JStr(d.phone)},
                    {"email", JStr(d.email)},
                    {"address", JStr(d.address)}}));
    return 0;
  }
  if (!contact->has_value()) {
    std::cout << ctx.T("Geen contactgegevens die jij mag zien.", "No contact details you may see.")
              << "\n";
    return 0;
  }
  // Only what was filled in: an empty "adres:" line reads as an address that was lost.
  if (d.phone.empty() && d.email.empty() && d.address.empty()) {
    std::cout << ctx.T("Er zijn nog geen contactgegevens ingevuld.",
                       "No contact details filled in yet.")
              << "\n";
    return 0;
  }
  if (!d.phone.empty()) std::cout << ctx.T("telefoon: ", "phone: ") << d.phone << "\n";
  if (!d.email.empty()) std::cout << "e-mail: " << d.email << "\n";
  if (!d.address.empty()) std::cout << ctx.T("adres: ", "address: ") << d.address << "\n";
  return 0;
}

// ---- invitation ----

int InviteApp(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  // A word that is no role is refused: taken as "member" it made a different invitation than the
  // one asked for ("hoofdpersoon" became a plain member's link).
  const std::optional<v1::Role> role = TypedRole(ctx.Get("role", "member"));
  if (!role) {
    const std::string choices = WordChoices(ctx, kRoles);
    return BadInput(ctx, "--role: kies " + choices + ".", "--role: choose " + choices + ".");
  }
  const v1::Role r = *role;
  int64_t hours = std::atoll(ctx.Get("hours", "72").c_str());
  if (hours < 1 || hours > 720) return BadInput(ctx, "--hours: 1 tot 720", "--hours: 1 to 720");
  auto inv = Organising(ctx.client, ctx.case_id).InviteWithApp(*person, r, hours * 3600);
  if (!inv.ok()) return Fail(inv.status());
  const int rc = SettleInvite(ctx.client, ctx.reports, *inv, ctx.json);
  // The earlier link may be in someone's mailbox already: it no longer works, whatever the sync.
  if (inv->replaced_earlier) {
    std::cerr << domain::UserText("invite.replaced_earlier", ctx.lang) << "\n";
  }
  return rc;
}

int InviteRecord(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  // The words in either language (uitgenodigd, aangenomen, afgewezen), or as scripts wrote them.
  const std::optional<std::string> st = TypedWord(kInvitationAnswers, ctx.positional[1]);
  if (!st) {
    const std::string choices = WordChoices(ctx, kInvitationAnswers);
    return BadInput(ctx, "Kies: " + choices + ".", "Choose: " + choices + ".");
  }
  const domain::InvitationState state = *st == "pending"    ? domain::InvitationState::kPending
                                        : *st == "accepted" ? domain::InvitationState::kAccepted
                                                            : domain::InvitationState::kDeclined;
  Status s = Organising(ctx.client, ctx.case_id).RecordInvitation(*person, state);
  if (!s.ok()) return Fail(s);
  // Said back in the words `invitation status` shows, so the user sees what was recorded.
  const std::string nl = "Uitnodiging vastgelegd: " +
                         ShowWord(ctx, kInvitationStates, domain::InvitationStateName(state)) + ".";
  const std::string en = "Invitation recorded: " +
                         ShowWord(ctx, kInvitationStates, domain::InvitationStateName(state)) + ".";
  return ctx.Done(nl.c_str(), en.c_str());
}

int InviteStatus(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  Organising org(ctx.client, ctx.case_id);
  auto state = org.InvitationOf(*person);
  if (!state.ok()) return Fail(state.status());
  auto who = org.GetPerson(*person);
  if (!who.ok()) return Fail(who.status());
  // Joined through the app, but the account is not linked to this person (approved before an
  // approval linked it, or the link was refused): say so, or they cannot take part as themself.
  const bool unlinked = *state == domain::InvitationState::kJoined && who->account_id.empty();
  if (ctx.json) {
    PrintJson(JObj(
        {{"state", JStr(domain::InvitationStateName(*state))}, {"account", JId(who->account_id)}}));
  } else {
    std::cout << ShowWord(ctx, kInvitationStates, domain::InvitationStateName(*state)) << "\n";
    if (unlinked) std::cerr << Text(Msg::kJoinedNotLinked) << "\n";
  }
  return 0;
}

int InviteRevoke(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  Status s = Organising(ctx.client, ctx.case_id).RevokeInvitation(*person);
  if (!s.ok()) return Fail(s);
  return ctx.Done("De uitnodiging is ingetrokken.", "The invitation is withdrawn.");
}

// ---- pre-talks ----

int PreTalkLog(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  auto at = ctx.Time("at", "now");
  if (!at.ok()) return Fail(at.status());
  domain::PreTalkInput in{*person,
                          *at,
                          DomainWord(kPreTalkWays, ctx.Get("how", "home")),
                          ctx.Get("explained"),
                          ctx.Get("questions"),
                          ctx.Get("safety")};
  auto id = Organising(ctx.client, ctx.case_id).LogPreTalk(in);
  if (!id.ok()) return Fail(id.status());
  return ctx.Made("pretalk", *id, "Voorgesprek vastgelegd.", "Pre-talk recorded.");
}

int PreTalkList(Ctx& ctx) {
  Organising org(ctx.client, ctx.case_id);
  auto talks = org.PreTalks();
  if (!talks.ok()) return Fail(talks.status());
  auto missing = org.InviteesWithoutPreTalk();
  if (!missing.ok()) return Fail(missing.status());
  // Held, but the notes are not for this device (the chair's): say so instead of "none yet".
  auto circle = org.Circle();
  if (!circle.ok()) return Fail(circle.status());
  std::vector<Bytes> unreadable;
  for (const domain::Person& p : *circle) {
    if (!p.pretalk_held) continue;
    bool readable = false;
    for (const auto& t : *talks) readable |= t.person_id == p.person_id;
    if (!readable) unreadable.push_back(p.person_id);
  }
  if (ctx.json) {
    std::vector<std::string> rows, without;
    for (const auto& t : *talks) {
      rows.push_back(JObj({{"id", JId(t.pretalk_id)},
                           {"person", JId(t.person_id)},
                           {"held_at_ms", JNum(t.held_at_ms)},
                           {"how", JStr(t.how)},
                           {"safety_concerns", JStr(t.safety_concerns)}}));
    }
    for (const Bytes& p : *missing) without.push_back(JId(p));
    std::vector<std::string> hidden;
    for (const Bytes& p : unreadable) hidden.push_back(JId(p));
    PrintJson(JObj({{"pretalks", JArr(rows)},
                    {"without_pretalk", JArr(without)},
                    {"held_notes_hidden", JArr(hidden)}}));
    return 0;
  }
  for (const auto& t : *talks) {
    std::cout << ShowTime(ctx, t.held_at_ms) << "  " << ctx.NameOf(t.person_id) << " ("
              << ShowWord(ctx, kPreTalkWays, t.how) << ")"
              << (t.safety_concerns.empty()
                      ? ""
                      : ctx.T("  [zorg over veiligheid]", "  [safety concern]"))
              << "\n";
  }
  for (const Bytes& p : unreadable) {
    std::cout << ctx.T("Voorgesprek gehouden: ", "Pre-talk held: ") << ctx.NameOf(p)
              << ctx.T(" (wat er besproken is, zien alleen de gespreksleider en deze persoon)",
                       " (only the coordinator and this person see what was said)")
              << "\n";
  }
  for (const Bytes& p : *missing) {
    std::cout << ctx.T("Nog geen voorgesprek: ", "No pre-talk yet: ") << ctx.NameOf(p) << "\n";
  }
  return 0;
}

int Participation(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  const std::string m = DomainWord(kParticipations, ctx.positional[1]);
  domain::Participation mode = m == "attend"        ? domain::Participation::kAttend
                               : m == "part"        ? domain::Participation::kPart
                               : m == "written"     ? domain::Participation::kWrittenContribution
                               : m == "not_invited" ? domain::Participation::kNotInvited
                                                    : static_cast<domain::Participation>(-1);
  if (static_cast<int>(mode) < 0) {
    return BadInput(ctx, "Kies: komt, deels, schriftelijk of niet-uitgenodigd.",
                    "Choose: attends, part, written or not-invited.");
  }
  Status s =
      Organising(ctx.client, ctx.case_id).DecideParticipation({*person, mode, ctx.Get("reason")});
  if (!s.ok()) return Fail(s);
  return ctx.Done("Vastgelegd hoe deze persoon meedoet.", "Recorded how this person takes part.");
}

// What someone who cannot come wants the meeting to know.
int AbsentView(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  auto id = Organising(ctx.client, ctx.case_id).AddAbsentView(*person, ctx.Get("text"));
  if (!id.ok()) return Fail(id.status());
  return ctx.Done("Opgeslagen. Het wordt voorgelezen op het netwerkberaad.",
                  "Saved. It will be read out at the meeting.");
}

int AbsentViews(Ctx& ctx) {
  auto views = Organising(ctx.client, ctx.case_id).AbsentViews();
  if (!views.ok()) return Fail(views.status());
  std::vector<std::string> rows;
  for (const auto& v : *views) {
    if (ctx.json) {
      rows.push_back(
          JObj({{"id", JId(v.view_id)}, {"person", JId(v.person_id)}, {"text", JStr(v.text)}}));
    } else {
      std::cout << ctx.NameOf(v.person_id) << ": " << v.text << "\n";
    }
  }
  if (ctx.json) PrintJson(JArr(rows));
  return 0;
}

}  // namespace

const std::vector<Verb>& CircleVerbs() {
  static const std::vector<Verb> verbs = {
      {"circle",
       "list",
       "[--all]",
       "Toon wie in de kring zit (--all: ook wie er niet meer in zit of is afgewezen; --json "
       "voor scripts)",
       "Show who is in the circle (--all: also who left it or was declined; --json for scripts)",
       {},
       {"all"},
       List},
      {"circle",
       "propose",
       "--name NAAM [--kind SOORT] [--relation R]\n"
       "      [--organisation O --function F] [--phone T] [--email E] [--address A]\n"
       "      [--account ID] [--has-app] [--interpreter] [--language nl]",
       "Stel iemand voor voor de kring (SOORT: familie, vriend, buur, kind, vertrouwenspersoon,\n"
       "      mentor, professional, gespreksleider of bewoner)",
       "Propose someone for the circle (SOORT: family, friend, neighbour, child, advocate,\n"
       "      mentor, professional, coordinator or resident)",
       {"name", "kind", "relation", "organisation", "function", "language", "phone", "email",
        "address", "account"},
       {"has-app", "interpreter"},
       Propose},
      {"circle",
       "edit",
       "PERSOON [--name NAAM] [--relation R] [--kind K] [--organisation O] [--function F]\n"
       "      [--language nl] [--interpreter | --no-interpreter]",
       "Pas de gegevens van iemand in de kring aan (wat je niet noemt, blijft)",
       "Change someone's details in the circle (what you leave out stays)",
       {"name", "relation", "kind", "organisation", "function", "language"},
       {"interpreter", "no-interpreter"},
       Edit,
       1},
      {"circle",
       "approve",
       "PERSOON",
       "Laat iemand toe in de kring (hoofdpersoon, gespreksleider)",
       "Let someone into the circle (resident, coordinator)",
       {},
       {},
       Approve,
       1},
      {"circle",
       "remove",
       "PERSOON",
       "Haal iemand uit de kring. Alleen de hoofdpersoon of gespreksleider mag dit. De "
       "hoofdpersoon zelf blijft altijd in de kring. Eerdere afspraken blijven bewaard.",
       "Take someone out of the circle. Only the resident or the coordinator may do this. The "
       "resident always stays in the circle. Earlier agreements are kept.",
       {},
       {},
       Remove,
       1},
      {"circle",
       "decline",
       "PERSOON",
       "Wijs een voorstel af",
       "Decline a proposal",
       {},
       {},
       Decline,
       1},
      {"circle",
       "link",
       "PERSOON ACCOUNT",
       "Koppel het account van iemand die meedoet",
       "Link the account of someone taking part",
       {},
       {},
       Link,
       2},
      {"circle",
       "contact",
       "PERSOON [--phone T] [--email E] [--address A]",
       "Zet of toon contactgegevens (alleen voor gespreksleider en de persoon zelf)",
       "Set or show contact details (coordinator and the person only)",
       {"phone", "email", "address"},
       {},
       ContactCmd,
       1},
      {"invitation",
       "app",
       "PERSOON [--role deelnemer|hoofdpersoon|gespreksleider] [--hours N]",
       "Nodig iemand met de app uit (een link die één keer werkt; een nieuwe link voor\n"
       "      dezelfde persoon zet de vorige link uit)",
       "Invite someone with the app (a link that works once; a new link for the same\n"
       "      person turns the previous link off)",
       {"role", "hours"},
       {},
       InviteApp,
       1},
      {"invitation",
       "record",
       "PERSOON uitgenodigd|aangenomen|afgewezen",
       "Leg vast hoe iemand zonder app reageerde",
       "Record the answer of someone without the app",
       {},
       {},
       InviteRecord,
       2},
      {"invitation",
       "status",
       "PERSOON",
       "Stand van de uitnodiging",
       "State of the invitation",
       {},
       {},
       InviteStatus,
       1},
      {"invitation",
       "revoke",
       "PERSOON",
       "Trek de app-uitnodiging in",
       "Withdraw the app invitation",
       {},
       {},
       InviteRevoke,
       1},
      {"pretalk",
       "log",
       "PERSOON [--at TIJD] [--how HOE] [--explained T]\n"
       "      [--questions T] [--safety T]",
       "Leg een voorgesprek vast (HOE: thuis, telefoon, video, kantoor of anders; --safety:\n"
       "      alleen de gespreksleider ziet dit)",
       "Record a pre-talk (HOE: home, phone, video, office or other; --safety: only the\n"
       "      coordinator sees it)",
       {"at", "how", "explained", "questions", "safety"},
       {},
       PreTalkLog,
       1},
      {"pretalk",
       "list",
       "",
       "Toon voorgesprekken en wie er nog geen had",
       "Show pre-talks and who has had none",
       {},
       {},
       PreTalkList},
      {"participation",
       "set",
       "PERSOON komt|deels|schriftelijk|niet-uitgenodigd [--reason T]",
       "Leg vast hoe iemand meedoet (een reden nodig, behalve bij komt)",
       "Record how someone takes part (a reason unless attend)",
       {"reason"},
       {},
       Participation,
       2},
      {"participation",
       "view",
       "PERSOON --text T",
       "Schrijf op wat iemand die niet kan komen wil zeggen",
       "Write down what someone who cannot come wants to say",
       {"text"},
       {},
       AbsentView,
       1},
      {"participation",
       "views",
       "",
       "Toon wat mensen die niet komen, willen zeggen",
       "Show what people who do not come want to say",
       {},
       {},
       AbsentViews},
  };
  return verbs;
}

}  // namespace kring::cli
