#include "domain_ctx.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <utility>

#include "kring/domain/amsterdam_time.h"
#include "kring/domain/names.h"
#include "kring/domain/organising.h"

#include "domain_commands.h"
#include "messages.h"
#include "terminal_text.h"

namespace kring::cli {

std::string Ctx::Get(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() || it->second.empty() ? fallback : it->second.back();
}

bool Ctx::Has(const std::string& name) const { return flags.count(name) != 0; }

const std::vector<std::string>& Ctx::All(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = flags.find(name);
  return it == flags.end() ? kNone : it->second;
}

bool Ctx::On(const std::string& name) const { return switches.count(name) != 0; }

std::string Ctx::Pos(size_t i) const { return i < positional.size() ? positional[i] : ""; }

Result<Bytes> Ctx::Person(const std::string& ref) const {
  domain::Organising org(client, case_id);
  if (ref == "me") return org.MyPersonId();
  if (auto id = ParseId(ref)) return *id;
  KRING_ASSIGN_OR_RETURN(auto circle, org.Circle());
  // Case does not count (domain::SameName). Someone who left keeps their name in the history; a
  // name shared with someone in the circle means the one in the circle.
  const std::vector<const domain::Person*> named = domain::PeopleNamed(circle, ref);
  // Two people with the same name, or names that differ only in case: the user picks by id.
  if (named.size() > 1) {
    return UsageError(T("Meer mensen hebben deze naam; gebruik de id.",
                        "More people have this name; use the id."));
  }
  if (named.empty()) {
    return NotFound(T("Niemand in de kring heeft deze naam of id. Kijk met: kring circle list",
                      "Nobody in the circle has this name or id. See: kring circle list"));
  }
  return named.front()->person_id;
}

Result<std::vector<Bytes>> Ctx::People(const std::vector<std::string>& refs) const {
  std::vector<Bytes> out;
  for (const std::string& r : refs) {
    KRING_ASSIGN_OR_RETURN(Bytes id, Person(r));
    out.push_back(std::move(id));
  }
  return out;
}

std::string Ctx::NameOf(const Bytes& person_id) const {
  if (person_id.empty()) return "-";
  auto p = domain::Organising(client, case_id).GetPerson(person_id);
  return p.ok() ? p->name : "?";
}

std::string Ctx::NameOfAccount(const Bytes& account_id) const {
  if (account_id.empty()) return "-";
  if (!circle_cache) {
    auto circle = domain::Organising(client, case_id).Circle();
    circle_cache = circle.ok() ? std::move(*circle) : std::vector<domain::Person>{};
    auto view = client.View(case_id);
    if (view.ok()) {
      for (const v1::Member& m : view->members()) role_cache[ToBytes(m.account_id())] = m.role();
    }
  }
  if (const domain::Person* p = domain::PersonOfAccount(*circle_cache, account_id)) {
    return p->name;
  }
  // A coordinator outside the circle, say: still told apart from "unknown".
  auto role = role_cache.find(account_id);
  if (role != role_cache.end()) return RoleWord(role->second);
  return "account " + Hex(account_id).substr(0, 8);
}

const char* RoleWord(v1::Role role) {
  return Text(role == v1::ROLE_CHAIR         ? Msg::kRoleChair
              : role == v1::ROLE_COORDINATOR ? Msg::kRoleCoordinator
                                             : Msg::kRoleMember);
}

int Ctx::Done(const char* nl, const char* en, bool edit, const std::string& json_doc) {
  int rc = Settle(client, reports, edit, /*quiet=*/true);
  if (rc != 0) return rc;
  if (!json) {
    std::cout << T(nl, en) << "\n";
  } else if (!json_doc.empty()) {
    PrintJson(json_doc);
  }
  return rc;
}

namespace {

// What was made, in the user's language: the line "<word> <id>" is read by people (scripts use
// --json), so in Dutch it is not "person ..." but "persoon ...".
const char* MadeWord(const Ctx& ctx, const char* word) {
  static const std::pair<const char*, const char*> kDutch[] = {
      {"agreement", "afspraak"},  {"check", "check"},   {"draft", "concept"},
      {"meeting", "beraad"},      {"mentor", "mentor"}, {"note", "aantekening"},
      {"person", "persoon"},      {"poll", "prikker"},  {"pretalk", "voorgesprek"},
      {"referral", "aanmelding"}, {"scope", "groep"},   {"version", "versie"}};
  for (const auto& [en, nl] : kDutch) {
    if (std::string_view(word) == en) return ctx.T(nl, en);
  }
  return word;
}

}  // namespace

int Ctx::Made(const char* word, const std::string& text_id, const std::string& json_id,
              const char* nl, const char* en) {
  if (!json) {
    std::cout << MadeWord(*this, word) << " " << text_id << "\n";
    return Done(nl, en);
  }
  // It is stored on this device whatever the sync does: a script gets its id, and the exit
  // code says what went wrong (README, --json).
  bool synced = false;
  const int rc = Settle(client, reports, /*edit=*/true, /*quiet=*/true, &synced);
  PrintJson(JObj({{"id", json_id}, {"synced", JBool(synced)}}));
  return rc;
}

int Ctx::Made(const char* word, const Bytes& id, const char* nl, const char* en) {
  return Made(word, Hex(id), JId(id), nl, en);
}

int Ctx::Usage() const {
  if (verb == nullptr) return cli::Usage();
  std::cerr << Text(Msg::kError) << ": "
            << T("deze opdracht mist iets, of er staat iets anders dan hij verwacht.",
                 "this command is missing something, or has something it does not expect.")
            << "\n";
  PrintVerbHelp(*verb, std::cerr);
  return 2;
}

namespace {

Result<int64_t> NamedTime(const std::string& name, Result<int64_t> t) {
  if (t.ok()) return t;
  return Status(t.status().code(), "--" + name + ": " + Explain(t.status().message()));
}

}  // namespace

Result<int64_t> OptionTime(const std::string& name, const std::string& text) {
  return NamedTime(name, ParseTime(text));
}

Result<int64_t> OptionDueTime(const std::string& name, const std::string& text) {
  return NamedTime(name, ParseDueTime(text));
}

Result<int64_t> Ctx::Time(const std::string& name, const std::string& fallback) const {
  return OptionTime(name, Get(name, fallback));
}

Result<int64_t> Ctx::DueTime(const std::string& name, const std::string& fallback) const {
  return OptionDueTime(name, Get(name, fallback));
}

std::string ShowTime(const Ctx& ctx, int64_t utc_ms) {
  if (utc_ms == 0) return "-";
  return domain::FormatAmsterdamDateTime(utc_ms, ctx.lang);
}

void PrintObstacle(const Ctx& ctx, const std::string& description, const Bytes& owner) {
  std::cout << ctx.T("    Wat in de weg zit: ", "    What is in the way: ") << description << "\n"
            << ctx.T("    Wie dat oplost: ", "    Who sorts it out: ") << ctx.NameOf(owner) << "\n";
}

int BadInput(const Ctx& ctx, const std::string& why_nl, const std::string& why_en) {
  std::cerr << Text(Msg::kError) << ": " << (ctx.english() ? why_en : why_nl) << "\n";
  return 2;
}

std::string JStr(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const TextChar c = ReadTextChar(s, i, /*final=*/true);
    const uint32_t cp = c.code_point;
    if (c.kind == TextChar::kInvalid) {
      out += "\\ufffd";  // JSON is UTF-8: a broken byte cannot pass
    } else if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (c.kind == TextChar::kEscape) {
      // Valid JSON that still cannot drive a terminal; a parser gets the same character back.
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s, i, c.len);
    }
    i += c.len;
  }
  return out + "\"";
}

std::string JNum(int64_t n) { return std::to_string(n); }
std::string JBool(bool b) { return b ? "true" : "false"; }
std::string JId(const Bytes& id) { return id.empty() ? "null" : JStr(Hex(id)); }

std::string JObj(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i != 0) out += ",";
    out += JStr(members[i].first) + ":" + members[i].second;
  }
  return out + "}";
}

std::string JArr(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ",";
    out += values[i];
  }
  return out + "]";
}

std::string JsonTerminalSafe(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size();) {
    const TextChar c = ReadTextChar(json, i, /*final=*/true);
    if (c.kind == TextChar::kKeep) {
      out.append(json.substr(i, c.len));
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x",
                    static_cast<unsigned>(c.kind == TextChar::kInvalid ? 0xFFFD : c.code_point));
      out += buf;
    }
    i += c.len;
  }
  return out;
}

void PrintJson(const std::string& json) { RawOut() << JsonTerminalSafe(json) << "\n"; }

}  // namespace kring::cli
