// kring referral: the referral that starts a netwerkberaad (DOMAIN steps 0-1), from flags or a
// JSON file, and the coordinator's assignment.
#include <fstream>
#include <iostream>
#include <sstream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "kring/domain/names.h"
#include "kring/domain/organising.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "words.h"

namespace kring::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr size_t kMaxReferralFileBytes = 256 * 1024;

std::string Str(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it != s.fields().end() && it->second.has_string_value() ? it->second.string_value() : "";
}
bool Flag(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it != s.fields().end() && it->second.bool_value();
}
std::vector<std::string> Strings(const Struct& s, const std::string& key) {
  std::vector<std::string> out;
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return out;
  for (const Value& v : it->second.list_value().values()) out.push_back(v.string_value());
  return out;
}

domain::PersonInput PersonFrom(const Struct& s) {
  domain::PersonInput p;
  p.name = Str(s, "name");
  p.kind = DomainWord(kPersonKinds, Str(s, "kind"));
  p.relation = Str(s, "relation");
  p.organisation = Str(s, "organisation");
  p.function = Str(s, "function");
  if (!Str(s, "language").empty()) p.language = Str(s, "language");
  p.interpreter = Flag(s, "interpreter");
  p.has_app = Flag(s, "has_app");
  p.contact = {Str(s, "phone"), Str(s, "email"), Str(s, "address")};
  return p;
}

// "Naam|soort|relatie|telefoon|e-mail|app": the last four may be left out.
domain::PersonInput PersonFromFlag(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, '|')) parts.push_back(part);
  parts.resize(6);
  domain::PersonInput p;
  p.name = parts[0];
  p.kind = parts[1].empty() ? "family" : DomainWord(kPersonKinds, parts[1]);
  p.relation = parts[2];
  p.contact.phone = parts[3];
  p.contact.email = parts[4];
  p.has_app = parts[5] == "app";
  return p;
}

Result<domain::ReferralInput> FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("file");
  std::string text(kMaxReferralFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (static_cast<size_t>(in.gcount()) > kMaxReferralFileBytes) return InvalidArgument("too big");
  text.resize(static_cast<size_t>(in.gcount()));
  Struct s;
  if (!google::protobuf::util::JsonStringToMessage(text, &s).ok()) return InvalidArgument("json");
  domain::ReferralInput r;
  r.referrer_kind = Str(s, "referrer_kind");
  if (auto it = s.fields().find("resident"); it != s.fields().end()) {
    r.resident = PersonFrom(it->second.struct_value());
  }
  r.resident.kind = "resident";
  r.reason = Str(s, "reason");
  r.resident_consent = Flag(s, "resident_consent");
  r.spoed = Flag(s, "spoed");
  r.bottom_lines = Strings(s, "bottom_lines");
  r.questions = Strings(s, "questions");
  r.question = {Str(s, "ik_wil"), Str(s, "ik_kan"), Str(s, "ik_heb_nodig")};
  if (auto it = s.fields().find("invitees"); it != s.fields().end()) {
    for (const Value& v : it->second.list_value().values()) {
      r.invitees.push_back(PersonFrom(v.struct_value()));
    }
  }
  return r;
}

int Submit(Ctx& ctx) {
  domain::ReferralInput r;
  if (ctx.Has("file")) {
    auto parsed = FromFile(ctx.Get("file"));
    if (!parsed.ok()) {
      return BadInput(
          ctx,
          "Dit bestand kan ik niet lezen als aanmelding (een JSON-bestand van hoogstens 256 kB).",
          "Cannot read this file as a referral (JSON, at most 256 kB).");
    }
    r = std::move(*parsed);
  } else {
    r.referrer_kind = ctx.Get("referrer", "professional");
    r.resident.name = ctx.Get("resident");
    r.resident.kind = "resident";
    r.resident.has_app = ctx.On("resident-has-app");
    r.reason = ctx.Get("reason");
    r.resident_consent = ctx.On("consent");
    r.spoed = ctx.On("spoed");
    r.bottom_lines = ctx.All("bottom-line");
    r.questions = ctx.All("question");
    r.question = {ctx.Get("ik-wil"), ctx.Get("ik-kan"), ctx.Get("ik-heb-nodig")};
    for (const std::string& inv : ctx.All("invitee")) r.invitees.push_back(PersonFromFlag(inv));
  }
  // Who the circle already has by name (domain::AlreadyNamed): the referral names them, but
  // proposes nobody twice. Said, so a user who sent it again knows nobody was added twice.
  domain::Organising org(ctx.client, ctx.case_id);
  std::vector<std::string> known;
  if (auto circle = org.Circle(); circle.ok()) {
    std::vector<domain::Person> people = std::move(*circle);
    for (const domain::PersonInput& p : r.invitees) {
      if (domain::AlreadyNamed(people, p.name) != nullptr) {
        known.push_back(p.name);
      } else {
        domain::Person later;  // a second line for the same name in this referral
        later.name = p.name;
        people.push_back(std::move(later));
      }
    }
  }
  auto id = org.SubmitReferral(r);
  if (!id.ok()) return Fail(id.status());
  for (const std::string& name : known) {
    std::cerr << ctx.T("Staat al in de kring, niet opnieuw voorgesteld: ",
                       "Already in the circle, not proposed again: ")
              << name << "\n";
  }
  return ctx.Made("referral", *id,
                  "Aanmelding opgeslagen. De genoemde mensen zijn voorgesteld voor de kring.",
                  "Referral saved. The people named are proposed for the circle.");
}

// Each line of a list under its heading, or that there is none: a user must be able to tell
// "none entered" from "not shown".
void PrintList(const Ctx& ctx, const char* heading_nl, const char* heading_en,
               const std::vector<std::string>& items) {
  std::cout << ctx.T(heading_nl, heading_en);
  if (items.empty()) {
    std::cout << ctx.T(" geen\n", " none\n");
    return;
  }
  std::cout << "\n";
  for (const auto& item : items) std::cout << "  - " << item << "\n";
}

int Show(Ctx& ctx) {
  const domain::Organising org(ctx.client, ctx.case_id);
  auto r = org.GetReferral();
  if (!r.ok()) return Fail(r.status());
  if (ctx.json) {
    std::vector<std::string> lines, questions, invitees, later;
    for (const auto& l : r->bottom_lines) lines.push_back(JStr(l));
    for (const auto& q : r->questions) questions.push_back(JStr(q));
    for (const auto& p : r->invitee_person_ids) invitees.push_back(JId(p));
    for (const auto& l : r->later) {
      std::vector<std::string> l_lines, l_questions;
      for (const auto& b : l.bottom_lines) l_lines.push_back(JStr(b));
      for (const auto& q : l.questions) l_questions.push_back(JStr(q));
      later.push_back(JObj({{"id", JId(l.referral_id)},
                            {"referrer_account", JId(l.referrer_account_id)},
                            {"referred_at_ms", JNum(l.referred_at_ms)},
                            {"resident", JId(l.resident_person_id)},
                            {"reason", JStr(l.reason)},
                            {"bottom_lines", JArr(l_lines)},
                            {"questions", JArr(l_questions)}}));
    }
    PrintJson(JObj({{"id", JId(r->referral_id)},
                    {"referrer_kind", JStr(r->referrer_kind)},
                    {"resident", JId(r->resident_person_id)},
                    {"invitees", JArr(invitees)},
                    {"reason", JStr(r->reason)},
                    {"resident_consent", JBool(r->resident_consent)},
                    {"spoed", JBool(r->spoed)},
                    {"bottom_lines", JArr(lines)},
                    {"questions", JArr(questions)},
                    {"ik_wil", JStr(r->question.ik_wil)},
                    {"ik_kan", JStr(r->question.ik_kan)},
                    {"ik_heb_nodig", JStr(r->question.ik_heb_nodig)},
                    {"referred_at_ms", JNum(r->referred_at_ms)},
                    {"coordinator", JId(r->coordinator.coordinator_account_id)},
                    {"later", JArr(later)}}));
    return 0;
  }
  const std::string referrer = ctx.NameOfAccount(r->referrer_account_id);
  // A coordinator refers as a professional (referrer_kind), but is named by their role: it is
  // in the case's members, which NameOfAccount has just read.
  auto role = ctx.role_cache.find(r->referrer_account_id);
  const bool by_coordinator = role != ctx.role_cache.end() && role->second == v1::ROLE_COORDINATOR;
  // An account without a person in the circle is named by its role, which the words before it
  // say already: "de gespreksleider", not "de gespreksleider (gespreksleider)".
  const auto by_role = [&](const Bytes& account, const std::string& name) {
    auto it = ctx.role_cache.find(account);
    return it != ctx.role_cache.end() && name == RoleWord(it->second);
  };
  std::cout << ctx.T("Aangemeld op: ", "Referred on: ") << ShowTime(ctx, r->referred_at_ms) << "\n"
            << ctx.T("Aangemeld door: ", "Referred by: ")
            << (r->referrer_kind == "resident" ? ctx.T("de bewoner", "the resident")
                : by_coordinator               ? ctx.T("de gespreksleider", "the coordinator")
                                               : ctx.T("een professional", "a professional"));
  if (!by_role(r->referrer_account_id, referrer)) std::cout << " (" << referrer << ")";
  std::cout << "\n"
            << ctx.T("Bewoner: ", "Resident: ") << ctx.NameOf(r->resident_person_id) << "\n"
            << ctx.T("Spoed: ", "Urgent: ") << (r->spoed ? ctx.T("ja", "yes") : ctx.T("nee", "no"))
            << "\n"
            << ctx.T("Reden: ", "Reason: ") << r->reason << "\n"
            << ctx.T("Ik wil: ", "I want: ") << r->question.ik_wil << "\n"
            << ctx.T("Ik kan: ", "I can: ") << r->question.ik_kan << "\n"
            << ctx.T("Ik heb nodig: ", "I need: ") << r->question.ik_heb_nodig << "\n";
  PrintList(ctx, "Voorwaarden (waar het plan aan moet voldoen):",
            "Bottom lines (what the plan must meet):", r->bottom_lines);
  PrintList(ctx, "Vragen die het plan moet beantwoorden:", "Questions the plan must answer:",
            r->questions);
  std::vector<std::string> invitees;
  for (const auto& p : r->invitee_person_ids) invitees.push_back(ctx.NameOf(p));
  PrintList(ctx, "Voorgesteld voor de kring:", "Proposed for the circle:", invitees);
  if (!r->coordinator.coordinator_account_id.empty()) {
    const std::string name = ctx.NameOfAccount(r->coordinator.coordinator_account_id);
    std::cout << ctx.T("Gespreksleider: ", "Coordinator: ")
              << (by_role(r->coordinator.coordinator_account_id, name)
                      ? ctx.T("toegewezen (niet als persoon in de kring)",
                              "assigned (not a person in the circle)")
                      : name)
              << "\n";
  }
  // Later referrals are additions: they do not change whom the case is about or anything above.
  if (!r->later.empty()) {
    std::cout << ctx.T("Latere aanmeldingen: ", "Later referrals: ") << r->later.size() << "\n";
    for (const auto& l : r->later) {
      std::cout << "  " << ShowTime(ctx, l.referred_at_ms) << ctx.T(", door ", ", by ")
                << ctx.NameOfAccount(l.referrer_account_id) << "\n"
                << "    " << ctx.T("Reden: ", "Reason: ") << l.reason << "\n";
      for (const auto& b : l.bottom_lines) {
        std::cout << "    " << ctx.T("Voorwaarde: ", "Bottom line: ") << b << "\n";
      }
      for (const auto& q : l.questions) {
        std::cout << "    " << ctx.T("Vraag: ", "Question: ") << q << "\n";
      }
    }
  }
  return 0;
}

// Sets or clears the spoed flag later: the referrer, the chair or a coordinator.
int Spoed(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  const std::string& w = ctx.positional[0];
  const bool on = w == "ja" || w == "aan" || w == "yes" || w == "on";
  if (!on && w != "nee" && w != "uit" && w != "no" && w != "off") {
    return BadInput(ctx, "Kies: ja of nee.", "Choose: yes or no.");
  }
  Status s = domain::Organising(ctx.client, ctx.case_id).SetSpoed(on);
  if (!s.ok()) return Fail(s);
  return on ? ctx.Done("De aanmelding is nu spoed: een spoedberaad kan op dezelfde dag.",
                       "The referral is now urgent: an urgent meeting can be held the same day.")
            : ctx.Done("De aanmelding is geen spoed meer.", "The referral is no longer urgent.");
}

// Changes the resident's question later; parts not given stay as they are (and are not written,
// so another member's concurrent edit of them stays).
int Question(Ctx& ctx) {
  // Without a part there is nothing to change: saying "changed" would hide a forgotten option.
  if (!ctx.Has("ik-wil") && !ctx.Has("ik-kan") && !ctx.Has("ik-heb-nodig")) {
    const int code =
        BadInput(ctx, "noem minstens één deel van de vraag: --ik-wil, --ik-kan of --ik-heb-nodig.",
                 "give at least one part of the question: --ik-wil, --ik-kan or --ik-heb-nodig.");
    PrintVerbHelp(*ctx.verb, std::cerr);
    return code;
  }
  domain::Organising org(ctx.client, ctx.case_id);
  domain::ResidentQuestionEdit q;
  if (ctx.Has("ik-wil")) q.ik_wil = ctx.Get("ik-wil");
  if (ctx.Has("ik-kan")) q.ik_kan = ctx.Get("ik-kan");
  if (ctx.Has("ik-heb-nodig")) q.ik_heb_nodig = ctx.Get("ik-heb-nodig");
  Status s = org.EditResidentQuestion(q);
  if (!s.ok()) return Fail(s);
  return ctx.Done("De vraag van de bewoner is aangepast.", "The resident's question is changed.");
}

int Coordinator(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto account = ctx.Pos(0) == "me" ? std::optional<Bytes>(ctx.client.Account()->account_id)
                                    : ParseId(ctx.Pos(0));
  if (!account) return BadId("ACCOUNT");
  domain::CoordinatorAssignment a{*account, ctx.Get("language"), ctx.Get("gender"),
                                  ctx.Get("culture")};
  Status s = domain::Organising(ctx.client, ctx.case_id).AssignCoordinator(a);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Gespreksleider vastgelegd.", "Coordinator recorded.");
}

}  // namespace

const std::vector<Verb>& ReferralVerbs() {
  static const std::vector<Verb> verbs = {
      {"referral",
       "submit",
       "--file AANMELDING.json | --resident NAAM --reason T --consent\n"
       "      [--invitee 'Naam|soort|relatie|telefoon|e-mail|app' ...] [--bottom-line T ...]\n"
       "      [--question T ...] [--ik-wil T --ik-kan T --ik-heb-nodig T] [--spoed]\n"
       "      [--referrer professional|resident] [--resident-has-app]",
       "Meld een netwerkberaad aan (alleen met toestemming van de bewoner)",
       "Refer a case for a netwerkberaad (only with the resident's consent)",
       {"file", "resident", "reason", "invitee", "bottom-line", "question", "ik-wil", "ik-kan",
        "ik-heb-nodig", "referrer"},
       {"consent", "spoed", "resident-has-app"},
       Submit},
      {"referral",
       "show",
       "",
       "Toon de aanmelding, met voorwaarden en vragen voor het plan",
       "Show the referral, with its bottom lines and questions for the plan",
       {},
       {},
       Show},
      {"referral",
       "spoed",
       "ja|nee",
       "Zet spoed aan of uit (wie aanmeldde, de hoofdpersoon of de gespreksleider)",
       "Turn urgent on or off (the referrer, the resident as chair or the coordinator)",
       {},
       {},
       Spoed,
       1},
      {"referral",
       "question",
       "[--ik-wil T] [--ik-kan T] [--ik-heb-nodig T]",
       "Pas de vraag van de bewoner aan (noem minstens één deel; wat je niet noemt, blijft)",
       "Change the resident's question (give at least one part; what you leave out stays)",
       {"ik-wil", "ik-kan", "ik-heb-nodig"},
       {},
       Question},
      {"referral",
       "coordinator",
       "ACCOUNT|me [--language T] [--gender T] [--culture T]",
       "Wijs de gespreksleider toe (met wensen van de bewoner)",
       "Assign the coordinator (with the resident's preferences)",
       {"language", "gender", "culture"},
       {},
       Coordinator,
       1},
  };
  return verbs;
}

}  // namespace kring::cli
