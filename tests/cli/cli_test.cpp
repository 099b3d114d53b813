// The `kring` CLI end to end: health check, accounts, a shared case, edits and sync, in Dutch by
// default and English on request, with clear errors for bad input.
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include "kring/common/sqlite.h"

#include "support/temp_dir.h"
#include "support/test_server.h"

using kring::test::TempDir;
using kring::test::TestServer;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// KRING_CASE is unset first (a developer's shell may export it): a test that wants it sets it
// in `env`.
Run Cli(const std::string& env, const std::string& args) {
  std::string cmd =
      "unset KRING_CASE; " + env + " " + KRING_CLI_PATH + " " + args + " 2>&1 </dev/null";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The environment of one person's kring: their own passphrase and database in `dir`.
std::string Person(const TempDir& dir, const std::string& name) {
  return "KRING_PASSPHRASE='" + name + " wachtwoord' KRING_DB=" + dir.path() + "/" + name + ".db";
}

std::string Field(const std::string& out, const std::string& key) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(key + " ([0-9a-f]{32})")));
  return m[1];
}

// Anna and Bas make their accounts, and Anna a case with Bas as a member, through the command
// line (each in the environment Person gives).
struct SharedCase {
  std::string anna_id;
  std::string bas_id;
  std::string case_id;
};
SharedCase AnnaAndBasShareACase(const std::string& srv, const std::string& anna,
                                const std::string& bas) {
  SharedCase out;
  Run a = Cli(anna, srv + " account create");
  REQUIRE(a.exit_code == 0);
  out.anna_id = Field(a.out, "account");
  Run b = Cli(bas, srv + " account create");
  REQUIRE(b.exit_code == 0);
  out.bas_id = Field(b.out, "account");
  Run created = Cli(anna, srv + " case create " + out.bas_id + ":member");
  REQUIRE(created.exit_code == 0);
  out.case_id = Field(created.out, "Casus gemaakt:");
  return out;
}

// A new case of `coordinator` (as its coordinator) whose chair `res` accepted an invite and waits
// for approval: the case's id and the resident's account id.
struct WaitingChair {
  std::string case_id;
  std::string res_id;
};
WaitingChair ChairWaitsForApproval(const std::string& srv, const std::string& coordinator,
                                   const std::string& coordinator_id, const std::string& res) {
  WaitingChair out;
  Run r = Cli(res, srv + " account create");
  REQUIRE(r.exit_code == 0);
  out.res_id = Field(r.out, "account");
  Run created = Cli(coordinator, srv + " case create " + coordinator_id + ":coordinator");
  REQUIRE(created.exit_code == 0);
  out.case_id = Field(created.out, "Casus gemaakt:");
  Run inv = Cli(coordinator, srv + " invite create " + out.case_id + " chair --hours 24");
  REQUIRE(inv.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(inv.out, m, std::regex("link (kring://invite/1/[0-9a-f/]+)")));
  REQUIRE(Cli(res, srv + " invite accept " + m[1].str()).exit_code == 0);
  return out;
}

}  // namespace

TEST_CASE("kring health reports whether kringd serves", "[cli]") {
  TestServer server;
  Run ok = Cli("", "--server " + server.address() + " health");
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("De server werkt.") != std::string::npos);
  CHECK(Cli("", "--lang en --server " + server.address() + " health").out.find("serving") !=
        std::string::npos);
  // The global options may also follow the command.
  Run after = Cli("", "health --server " + server.address() + " --lang en");
  CHECK(after.exit_code == 0);
  CHECK(after.out.find("serving") != std::string::npos);
  std::string address = server.address();
  server.Stop();
  Run down = Cli("", "--server " + address + " health");
  CHECK(down.exit_code == 1);
}

TEST_CASE("two people share a case through the command line", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");

  Run a = Cli(anna, srv + " account create");
  REQUIRE(a.exit_code == 0);
  CHECK(a.out.find("herstelsleutel") != std::string::npos);
  Run b = Cli(bas, srv + " account create");
  REQUIRE(b.exit_code == 0);
  std::string bas_id = Field(b.out, "account");

  Run created = Cli(anna, srv + " case create --from-now-on " + bas_id + ":member");
  REQUIRE(created.exit_code == 0);
  CHECK(created.out.find("ziet alleen wat daarna gebeurt") != std::string::npos);
  std::string case_id = Field(created.out, "Casus gemaakt:");
  Run entity = Cli(anna, srv + " entity create " + case_id + " afspraak");
  REQUIRE(entity.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  std::string entity_id = m[1];
  REQUIRE(Cli(anna, srv + " field set " + case_id + " " + entity_id +
                        " actie 'Oom Jan brengt de kinderen naar school'")
              .exit_code == 0);
  // Long enough for the local store to name it by its log entry (the store's own bookkeeping).
  const std::string long_note = "Lange notitie " + std::string(200, 'n');
  REQUIRE(
      Cli(anna, srv + " field set " + case_id + " " + entity_id + " notitie '" + long_note + "'")
          .exit_code == 0);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);

  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);
  Run list = Cli(bas, srv + " case list");
  CHECK(list.out.find(case_id) != std::string::npos);
  Run show = Cli(bas, srv + " case show " + case_id);
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("Oom Jan brengt de kinderen naar school") != std::string::npos);
  CHECK(show.out.find(long_note) != std::string::npos);
  CHECK(show.out.find("sourceMutation") == std::string::npos);
  CHECK(show.out.find("sourceOpDigest") == std::string::npos);
  CHECK(Cli(bas, srv + " alarms").out.find("Geen beveiligingsmeldingen.") != std::string::npos);
  Run who = Cli(bas, srv + " account show");
  CHECK(who.out.find("safety_number") != std::string::npos);

  // Anna changes the circle: Cor joins, Bas leaves; Bas keeps what he saw and gets nothing new.
  const std::string cor = Person(dir, "cor");
  Run c = Cli(cor, srv + " account create");
  REQUIRE(c.exit_code == 0);
  std::string cor_id = Field(c.out, "account");
  Run added = Cli(anna, srv + " member add " + case_id + " " + cor_id + ":member");
  CHECK(added.exit_code == 0);
  CHECK(added.out.find("Toegevoegd") != std::string::npos);
  Run removed = Cli(anna, srv + " member remove " + case_id + " " + bas_id);
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("niet meer lezen") != std::string::npos);
  // Cor joined "from now on" (the case was created with --from-now-on): a new item reaches him,
  // the one from before he joined does not.
  Run fresh = Cli(anna, srv + " entity create " + case_id + " afspraak");
  REQUIRE(fresh.exit_code == 0);
  REQUIRE(std::regex_search(fresh.out, m, std::regex("([0-9a-f]{32})")));
  std::string fresh_id = m[1];
  REQUIRE(
      Cli(anna, srv + " field set " + case_id + " " + fresh_id + " actie 'Nieuw plan'").exit_code ==
      0);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  REQUIRE(Cli(cor, srv + " sync").exit_code == 0);
  Run cor_view = Cli(cor, srv + " case show " + case_id);
  CHECK(cor_view.out.find("Nieuw plan") != std::string::npos);
  CHECK(cor_view.out.find("Oom Jan brengt de kinderen naar school") == std::string::npos);
  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);
  Run bas_view = Cli(bas, srv + " case show " + case_id);
  CHECK(bas_view.out.find("Oom Jan brengt de kinderen naar school") != std::string::npos);
  CHECK(bas_view.out.find("Nieuw plan") == std::string::npos);
  CHECK(bas_view.out.find("\"removed\": true") != std::string::npos);
  // Out of the case: listed as such, and an edit is refused at once instead of waiting for ever.
  CHECK(Cli(bas, srv + " case list").out.find(case_id + "  (je doet niet meer mee)") !=
        std::string::npos);
  Run bas_edit = Cli(bas, srv + " entity create " + case_id + " afspraak");
  CHECK(bas_edit.exit_code == 1);
  CHECK(bas_edit.out.find("geen lid meer") != std::string::npos);
  Run bas_sync = Cli(bas, srv + " sync");
  CHECK(bas_sync.exit_code == 0);
  CHECK(bas_sync.out.find("Niet gelukt") == std::string::npos);
  Run long_type = Cli(anna, srv + " entity create " + case_id + " " + std::string(65, 'x'));
  CHECK(long_type.exit_code == 1);
  CHECK(long_type.out.find("Het soort onderdeel moet 1 tot 64 tekens lang zijn") !=
        std::string::npos);
  Run denied = Cli(bas, srv + " member remove " + case_id + " " + cor_id);
  CHECK(denied.exit_code == 1);
  Run again = Cli(anna, srv + " member remove " + case_id + " " + bas_id);
  CHECK(again.exit_code == 1);
  CHECK(again.out.find("geen lid van de casus") != std::string::npos);
  // Cor leaves by himself; Anna's device hands out the next key when she syncs.
  Run left = Cli(cor, srv + " case leave " + case_id);
  CHECK(left.exit_code == 0);
  CHECK(left.out.find("uit de kring gestapt") != std::string::npos);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  REQUIRE(Cli(anna, srv + " entity create " + case_id + " notitie").exit_code == 0);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  CHECK(Cli(anna, srv + " case show " + case_id).out.find("notitie") != std::string::npos);
}

TEST_CASE("people added later read what came before unless the case is made --from-now-on",
          "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");
  const std::string cor = Person(dir, "cor");
  const SharedCase shared = AnnaAndBasShareACase(srv, anna, bas);
  Run cor_account = Cli(cor, srv + " account create");
  REQUIRE(cor_account.exit_code == 0);
  const std::string cor_id = Field(cor_account.out, "account");

  // The circle is written before anyone is invited: a newcomer must be able to read it.
  Run entity = Cli(anna, srv + " entity create " + shared.case_id + " persoon");
  REQUIRE(entity.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  const std::string entity_id = m[1];
  REQUIRE(Cli(anna, srv + " field set " + shared.case_id + " " + entity_id + " naam 'Tante Ria'")
              .exit_code == 0);
  Run added = Cli(anna, srv + " member add " + shared.case_id + " " + cor_id + ":member");
  REQUIRE(added.exit_code == 0);
  CHECK(added.out.find("Toegevoegd") != std::string::npos);
  REQUIRE(Cli(cor, srv + " sync").exit_code == 0);
  CHECK(Cli(cor, srv + " case show " + shared.case_id).out.find("Tante Ria") != std::string::npos);

  // Both choices at once is a usage error, and no case is made.
  Run both = Cli(anna, srv + " case create --history --from-now-on " + cor_id + ":member");
  CHECK(both.exit_code == 2);
  Run listed = Cli(anna, srv + " case list");
  REQUIRE(listed.exit_code == 0);
  CHECK(std::count(listed.out.begin(), listed.out.end(), '\n') == 1);

  // The default is said when the case is made, in the user's language.
  Run made = Cli(anna, srv + " --lang en case create " + cor_id + ":member");
  REQUIRE(made.exit_code == 0);
  CHECK(made.out.find("can also read what was written before") != std::string::npos);
}

TEST_CASE("a mistyped store is refused and not made: only account create begins one", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  REQUIRE(Cli(anna, srv + " account create").exit_code == 0);
  const std::string typo = "KRING_PASSPHRASE='anna wachtwoord' KRING_DB=" + dir.path() + "/ana.db";
  for (const char* command : {"case list", "sync", "account show", "circle list"}) {
    Run r = Cli(typo, srv + " " + command);
    INFO(command << ": " << r.out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("Hier is nog geen opslag van kring.") != std::string::npos);
    CHECK(r.out.find("ana.db") == std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/ana.db"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/ana.db.salt"));
  Run english = Cli(typo, "--lang en " + srv + " case list");
  CHECK(english.out.find("There is no kring store here yet.") != std::string::npos);
  // The right store still opens.
  CHECK(Cli(anna, srv + " account show").exit_code == 0);
}

TEST_CASE("the command line rejects bad input clearly", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string env = "KRING_PASSPHRASE=geheim-wachtwoord KRING_DB=" + dir.path() + "/c.db";
  REQUIRE(Cli(env, srv + " account create").exit_code == 0);
  Run wrong = Cli("KRING_PASSPHRASE=fout KRING_DB=" + dir.path() + "/c.db", srv + " account show");
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.out.find("Deze wachtwoordzin past niet bij deze opslag.") != std::string::npos);
  CHECK(wrong.out.find("geheim") == std::string::npos);
  Run bad_id = Cli(env, srv + " case show 1234");
  CHECK(bad_id.exit_code == 2);
  CHECK(bad_id.out.find("geen geldige id") != std::string::npos);
  Run unknown = Cli(env, srv + " vlieg");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.out.find("Onbekende opdracht: vlieg") != std::string::npos);
  // Only words that look like commands are echoed: never a name typed in the wrong place.
  Run name = Cli(env, srv + " 'Tante Ria'");
  CHECK(name.exit_code == 2);
  CHECK(name.out.find("Tante Ria") == std::string::npos);
  // An account id the server does not know: said in Dutch, not the server's English.
  Run stranger = Cli(env, srv + " case create 0123456789abcdef0123456789abcdef");
  CHECK(stranger.exit_code == 1);
  CHECK(stranger.out.find("Dit account bestaat niet op de server.") != std::string::npos);
  CHECK(Cli(env, srv + " case create ffffffffffffffffffffffffffffffff:koning").exit_code == 2);
  Run no_account =
      Cli("KRING_PASSPHRASE=zonder-account KRING_DB=" + dir.path() + "/d.db", srv + " sync");
  CHECK(no_account.exit_code == 1);
  CHECK(no_account.out.find("kring account create") != std::string::npos);
  // A new store needs a passphrase of at least 8 characters; refused, nothing is created. An
  // existing store is opened with whatever passphrase is given ("fout" above was tried, not
  // refused).
  const std::string short_env = "KRING_DB=" + dir.path() + "/kort.db KRING_PASSPHRASE=";
  Run short_one = Cli(short_env + "geheim1", srv + " account create");
  CHECK(short_one.exit_code == 1);
  CHECK(short_one.out.find("minstens 8 tekens") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.path() + "/kort.db"));
  CHECK(!std::filesystem::exists(dir.path() + "/kort.db.salt"));
  // 12 bytes, but 4 characters: too short.
  CHECK(Cli(short_env + "'€€€€'", srv + " account create").out.find("minstens 8 tekens") !=
        std::string::npos);
  // A damaged salt file is named by what it is, never by its path (it holds the profile name).
  { std::ofstream(dir.path() + "/c.db.salt", std::ios::trunc) << "kort"; }
  Run damaged = Cli(env, srv + " account show");
  CHECK(damaged.exit_code == 1);
  CHECK(damaged.out.find("(.salt) is beschadigd") != std::string::npos);
  CHECK(damaged.out.find(dir.path()) == std::string::npos);
  // Only Dutch and English are offered; another language is refused instead of ignored.
  Run german = Cli("", "--lang de --server " + server.address() + " health");
  CHECK(german.exit_code == 2);
  CHECK(german.out.find("Kies nl (Nederlands) of en (English)") != std::string::npos);
  CHECK(Cli("KRING_LANG=de", "--server " + server.address() + " health").exit_code == 2);
  CHECK(Cli("KRING_LANG=en_GB.UTF-8", "--server " + server.address() + " health")
            .out.find("serving") != std::string::npos);
  CHECK(Cli("KRING_LANG=de", "--lang EN --server " + server.address() + " health")
            .out.find("serving") != std::string::npos);
  // Every command refuses a word over 16 KiB, not only the netwerkberaad commands.
  Run too_long = Cli(env, srv + " invite create " + std::string(17 * 1024, 'a'));
  CHECK(too_long.exit_code == 2);
  CHECK(too_long.out.find("te lang") != std::string::npos);
}

TEST_CASE("a coordinator invites the resident with a link on the command line", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string coord = "KRING_PASSPHRASE=gespreksleider KRING_DB=" + dir.path() + "/gl.db";
  const std::string resident = "KRING_PASSPHRASE=bewoner-1 KRING_DB=" + dir.path() + "/b.db";
  REQUIRE(Cli(coord, srv + " account create").exit_code == 0);
  Run r = Cli(resident, srv + " account create");
  REQUIRE(r.exit_code == 0);
  std::string resident_id = Field(r.out, "account");
  Run me = Cli(coord, srv + " account show");
  std::string coord_id = Field(me.out, "account");
  Run created = Cli(coord, srv + " case create " + coord_id + ":coordinator");
  REQUIRE(created.exit_code == 0);
  std::string case_id = Field(created.out, "Casus gemaakt:");

  Run inv = Cli(coord, srv + " invite create " + case_id + " chair --hours 24");
  REQUIRE(inv.exit_code == 0);
  CHECK(inv.out.find("werkt één keer") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(inv.out, m, std::regex("link (kring://invite/1/[0-9a-f/]+)")));
  std::string link = m[1];
  std::string invite_id = Field(inv.out, "uitnodiging");
  CHECK(Cli(coord, srv + " invite list " + case_id).out.find(invite_id + " open") !=
        std::string::npos);

  Run accepted = Cli(resident, srv + " invite accept " + link);
  REQUIRE(accepted.exit_code == 0);
  CHECK(accepted.out.find(case_id) != std::string::npos);
  // Waiting for approval is not being a member yet: leaving is refused, in Dutch.
  Run early = Cli(resident, srv + " case leave " + case_id);
  CHECK(early.exit_code == 1);
  CHECK(early.out.find("Je bent (nog) geen lid van deze casus.") != std::string::npos);
  // Approving right after the acceptance: `member approve` fetches it first, no sync needed.
  Run approved = Cli(coord, srv + " member approve " + case_id + " " + resident_id);
  INFO(approved.out);
  REQUIRE(approved.exit_code == 0);
  CHECK(approved.out.find("Goedgekeurd") != std::string::npos);
  // Approving again: nobody waits any more. The library's text, and where to look.
  Run twice = Cli(coord, srv + " member approve " + case_id + " " + resident_id);
  CHECK(twice.exit_code == 1);
  CHECK(twice.out.find("Deze persoon wacht niet op goedkeuring. Kijk met: kring invite list") !=
        std::string::npos);
  CHECK(Cli(coord, srv + " invite list " + case_id).out.find("goedgekeurd " + resident_id) !=
        std::string::npos);
  // The rules' refusals are Dutch too: the coordinator cannot take the chair out.
  Run chair_stays = Cli(coord, srv + " member remove " + case_id + " " + resident_id);
  CHECK(chair_stays.exit_code == 1);
  CHECK(chair_stays.out.find("kan de hoofdpersoon niet uit de kring halen") != std::string::npos);
  Run e = Cli(coord, srv + " entity create " + case_id + " afspraak");
  REQUIRE(e.exit_code == 0);
  REQUIRE(Cli(coord, srv + " sync").exit_code == 0);
  REQUIRE(Cli(resident, srv + " sync").exit_code == 0);
  Run show = Cli(resident, srv + " case show " + case_id);
  CHECK(show.out.find("afspraak") != std::string::npos);
  CHECK(show.out.find("ROLE_CHAIR") != std::string::npos);
  Run code_a = Cli(coord, srv + " case fingerprint " + case_id);
  Run code_b = Cli(resident, srv + " case fingerprint " + case_id);
  REQUIRE(code_a.exit_code == 0);
  CHECK(code_a.out == code_b.out);
  CHECK(code_a.out.rfind("epoch 2: ", 0) == 0);
  CHECK(Cli(coord, "--lang en " + srv + " invite list " + case_id).out.find(" approved ") !=
        std::string::npos);
  // The link works once: a second person is told so, clearly.
  const std::string other = "KRING_PASSPHRASE=iemand-anders KRING_DB=" + dir.path() + "/x.db";
  REQUIRE(Cli(other, srv + " account create").exit_code == 0);
  Run nonsense = Cli(other, srv + " invite accept kring://nonsense");
  CHECK(nonsense.exit_code == 1);
  CHECK(nonsense.out.find("Dit is geen geldige uitnodiging") != std::string::npos);
  Run reused = Cli(other, srv + " invite accept " + link);
  CHECK(reused.exit_code == 1);
  CHECK(reused.out.find("Deze uitnodiging is al gebruikt.") != std::string::npos);
  // Safety numbers: what the resident sees of herself is what the coordinator sees of her.
  Run own = Cli(resident, srv + " account show");
  std::smatch sn;
  REQUIRE(std::regex_search(own.out, sn, std::regex("safety_number ([0-9 ]+)")));
  CHECK(Cli(coord, srv + " account safety-number " + resident_id).out.find(sn[1].str()) !=
        std::string::npos);
  // The local store is readable by its user only.
  CHECK((std::filesystem::status(dir.path() + "/b.db").permissions() &
         std::filesystem::perms::others_read) == std::filesystem::perms::none);
}

TEST_CASE("a second device, a lost phone and the recovery key on the command line", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string phone = "KRING_PASSPHRASE=telefoon KRING_DB=" + dir.path() + "/phone.db";
  const std::string laptop = "KRING_PASSPHRASE=laptop-1 KRING_DB=" + dir.path() + "/laptop.db";
  const std::string fresh = "KRING_PASSPHRASE=nieuw-apparaat KRING_DB=" + dir.path() + "/fresh.db";
  Run a = Cli(phone, srv + " account create");
  REQUIRE(a.exit_code == 0);
  const std::string account = Field(a.out, "account");
  std::smatch m;
  REQUIRE(std::regex_search(a.out, m, std::regex("((?:[0-9a-f]{4}-){15}[0-9a-f]{4})")));
  const std::string recovery_key = m[1];
  const std::string phone_device = Field(Cli(phone, srv + " account show").out, "device");
  Run created = Cli(phone, srv + " case create");
  REQUIRE(created.exit_code == 0);
  const std::string case_id = Field(created.out, "Casus gemaakt:");
  Run e = Cli(phone, srv + " entity create " + case_id + " afspraak");
  REQUIRE(e.exit_code == 0);

  // The laptop asks; the phone approves with the laptop's code; the laptop finishes.
  Run request = Cli(laptop, srv + " device link-request");
  REQUIRE(request.exit_code == 0);
  CHECK(request.out.find("kring device approve") != std::string::npos);
  REQUIRE(
      std::regex_search(request.out, m, std::regex("payload (kring://device-link/1/[0-9a-f]+)")));
  const std::string payload = m[1];
  REQUIRE(std::regex_search(request.out, m, std::regex("code ([0-9]{4} [0-9]{4})")));
  const std::string code = m[1];
  Run wrong = Cli(phone, srv + " device approve " + payload + " '0000 0000'");
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.out.find("De code klopt niet") != std::string::npos);
  Run approve = Cli(phone, srv + " device approve " + payload + " '" + code + "'");
  REQUIRE(approve.exit_code == 0);
  REQUIRE(std::regex_search(approve.out, m,
                            std::regex("approval (kring://device-approve/1/[0-9a-f/]+)")));
  const std::string approval = m[1];
  Run finish = Cli(laptop, srv + " device link-finish " + approval);
  REQUIRE(finish.exit_code == 0);
  CHECK(finish.out.find("hoort nu bij je account") != std::string::npos);
  CHECK(Field(finish.out, "account") == account);
  CHECK(Cli(laptop, srv + " case show " + case_id).out.find("afspraak") != std::string::npos);
  Run list = Cli(laptop, srv + " device list");
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find(phone_device) != std::string::npos);
  CHECK(list.out.find("(dit apparaat)") != std::string::npos);

  // The phone is lost: the laptop revokes it; the phone is refused from then on.
  Run self = Cli(laptop,
                 srv + " device revoke " + Field(Cli(laptop, srv + " account show").out, "device"));
  CHECK(self.exit_code == 1);
  CHECK(self.out.find("ander apparaat") != std::string::npos);
  Run revoke = Cli(laptop, srv + " device revoke " + phone_device);
  REQUIRE(revoke.exit_code == 0);
  CHECK(revoke.out.find("Apparaat ingetrokken") != std::string::npos);
  CHECK(Cli(laptop, srv + " device list").out.find(phone_device + " (ingetrokken)") !=
        std::string::npos);
  Run refused = Cli(phone, srv + " sync");
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("Dit apparaat is ingetrokken. Het kan niet meer inloggen.") !=
        std::string::npos);

  // A new phone with the recovery key: a wrong key changes nothing; the right one restores.
  Run bad = Cli(fresh + " KRING_RECOVERY_KEY=" + std::string(64, 'a'), srv + " account restore");
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("hoort bij geen account") != std::string::npos);
  CHECK(Cli(fresh, srv + " account show").exit_code == 1);
  Run restored =
      Cli(fresh + " KRING_RECOVERY_KEY=" + recovery_key, srv + " account restore " + account);
  REQUIRE(restored.exit_code == 0);
  CHECK(restored.out.find("weer op dit apparaat") != std::string::npos);
  CHECK(Field(restored.out, "account") == account);
  CHECK(Cli(fresh, srv + " case show " + case_id).out.find("afspraak") != std::string::npos);
  CHECK(Cli(fresh, srv + " --lang en device list").out.find("(revoked)") != std::string::npos);
}

TEST_CASE("the chair changes a member's role on the command line", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");
  const auto [anna_id, bas_id, case_id] = AnnaAndBasShareACase(srv, anna, bas);
  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);

  // A plain member may not; the refusal is in Dutch.
  Run denied = Cli(bas, srv + " member role " + case_id + " " + bas_id + " coordinator");
  CHECK(denied.exit_code == 1);
  CHECK(denied.out.find("Dit mag alleen de hoofdpersoon of de gespreksleider.") !=
        std::string::npos);
  // Only coordinator or member, as a word the command knows.
  CHECK(Cli(anna, srv + " member role " + case_id + " " + bas_id + " baas").exit_code != 0);

  // Without the server the change waits on Anna's device: it says so, not that it is done.
  Run queued =
      Cli(anna, "--server 127.0.0.1:1 member role " + case_id + " " + bas_id + " coordinator");
  INFO(queued.out);
  REQUIRE(queued.exit_code == 0);
  CHECK(queued.out.find("Dit gaat pas in als de server het heeft aangenomen.") !=
        std::string::npos);
  CHECK(queued.out.find("De rol is aangepast.") == std::string::npos);
  // One line about it: not also that an edit was stored for later.
  CHECK(queued.out.find("Opgeslagen op dit apparaat.") == std::string::npos);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);
  CHECK(Cli(bas, srv + " case show " + case_id).out.find("ROLE_COORDINATOR") != std::string::npos);
  // Now Bas may do what a coordinator does: invite.
  CHECK(Cli(bas, srv + " invite create " + case_id).exit_code == 0);

  Run same =
      Cli(anna, "--lang en " + srv + " member role " + case_id + " " + bas_id + " coordinator");
  CHECK(same.exit_code == 1);
  CHECK(same.out.find("This person already has that role.") != std::string::npos);
  Run chair = Cli(bas, srv + " member role " + case_id + " " + anna_id + " member");
  CHECK(chair.exit_code == 1);
  CHECK(chair.out.find("De hoofdpersoon blijft altijd hoofdpersoon.") != std::string::npos);
  // A coordinator steps back to member by himself.
  // Online, kringd accepts it before the command says it is done.
  Run back = Cli(bas, srv + " member role " + case_id + " " + bas_id + " member");
  CHECK(back.exit_code == 0);
  CHECK(back.out.find("De rol is aangepast.") != std::string::npos);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  CHECK(Cli(anna, srv + " case show " + case_id).out.find("ROLE_COORDINATOR") == std::string::npos);
}

TEST_CASE("a role change is told by its own outcome and not by the case's other changes", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");
  const std::string cor = Person(dir, "cor");
  REQUIRE(Cli(anna, srv + " account create").exit_code == 0);
  Run b = Cli(bas, srv + " account create");
  REQUIRE(b.exit_code == 0);
  const std::string bas_id = Field(b.out, "account");
  Run c = Cli(cor, srv + " account create");
  REQUIRE(c.exit_code == 0);
  const std::string cor_id = Field(c.out, "account");
  Run created = Cli(anna, srv + " case create " + bas_id + ":member " + cor_id + ":member");
  REQUIRE(created.exit_code == 0);
  const std::string case_id = Field(created.out, "Casus gemaakt:");
  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);

  // Bas's promotion waits on Anna's device while Bas leaves: it can never be accepted now.
  Run queued =
      Cli(anna, "--server 127.0.0.1:1 member role " + case_id + " " + bas_id + " coordinator");
  REQUIRE(queued.exit_code == 0);
  CHECK(queued.out.find("Dit gaat pas in als de server het heeft aangenomen.") !=
        std::string::npos);
  REQUIRE(Cli(bas, srv + " case leave " + case_id).exit_code == 0);

  // Cor's promotion is accepted: the command says so and exits 0, and shows the other refusal.
  Run cor_up = Cli(anna, srv + " member role " + case_id + " " + cor_id + " coordinator");
  INFO(cor_up.out);
  CHECK(cor_up.exit_code == 0);
  CHECK(cor_up.out.find("De rol is aangepast.") != std::string::npos);
  CHECK(cor_up.out.find("Deze persoon is geen lid van de casus.") != std::string::npos);
  CHECK(cor_up.out.find("Dit gaat pas in") == std::string::npos);
  REQUIRE(Cli(cor, srv + " sync").exit_code == 0);
  CHECK(Cli(cor, srv + " case show " + case_id).out.find("ROLE_COORDINATOR") != std::string::npos);

  // Refused: its reason and exit 1, nothing said about waiting.
  Run again = Cli(anna, srv + " member role " + case_id + " " + cor_id + " coordinator");
  CHECK(again.exit_code == 1);
  CHECK(again.out.find("Deze persoon heeft die rol al.") != std::string::npos);
  CHECK(again.out.find("Dit gaat pas in") == std::string::npos);
}

TEST_CASE("a closed case is told once for all edits queued offline, by kringd's reason key",
          "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string offline = "--server 127.0.0.1:1";
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");
  const std::string cor = Person(dir, "cor");
  REQUIRE(Cli(anna, srv + " account create").exit_code == 0);
  Run b = Cli(bas, srv + " account create");
  REQUIRE(b.exit_code == 0);
  const std::string bas_id = Field(b.out, "account");
  REQUIRE(Cli(cor, srv + " account create").exit_code == 0);
  Run created = Cli(anna, srv + " case create " + bas_id + ":member");
  REQUIRE(created.exit_code == 0);
  const std::string case_id = Field(created.out, "Casus gemaakt:");
  Run entity = Cli(anna, srv + " entity create " + case_id + " afspraak");
  REQUIRE(entity.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(entity.out, m, std::regex("([0-9a-f]{32})")));
  const std::string entity_id = m[1];
  Run inv = Cli(anna, srv + " invite create " + case_id + " member --hours 24");
  REQUIRE(inv.exit_code == 0);
  REQUIRE(std::regex_search(inv.out, m, std::regex("link (kring://invite/1/[0-9a-f/]+)")));
  const std::string link = m[1];
  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);

  // Bas edits three times without a connection, while Anna closes the case.
  for (const char* text : {"een", "twee", "drie"}) {
    Run queued = Cli(bas, offline + " field set " + case_id + " " + entity_id + " actie " + text);
    REQUIRE(queued.exit_code == 0);
    CHECK(queued.out.find("Opgeslagen op dit apparaat.") != std::string::npos);
  }
  REQUIRE(Cli(anna, srv + " case close --case " + case_id).exit_code == 0);

  // One line for the three, with their number: not one line per edit.
  Run synced = Cli(bas, srv + " sync");
  INFO(synced.out);
  CHECK(synced.exit_code == 1);
  const std::string closed = "Deze casus is gesloten. Je kunt hem alleen nog lezen.";
  CHECK(synced.out.find("Niet gelukt: " + closed + " (3 wijzigingen niet doorgevoerd)") !=
        std::string::npos);
  CHECK(synced.out.find(closed) == synced.out.rfind(closed));
  // A new edit is refused at once, not stored for later.
  Run later = Cli(bas, srv + " field set " + case_id + " " + entity_id + " actie vier");
  CHECK(later.exit_code == 1);
  CHECK(later.out.find(closed) != std::string::npos);
  CHECK(later.out.find("Opgeslagen op dit apparaat.") == std::string::npos);

  // Cor cannot read the case before approval, so only kringd knows it is closed: its refusal
  // reaches the command line by its reason key alone (no phrase of the message has a text).
  Run accepted = Cli(cor, srv + " invite accept " + link);
  INFO(accepted.out);
  CHECK(accepted.exit_code == 1);
  CHECK(accepted.out.find(closed) != std::string::npos);
  Run english = Cli(cor, "--lang en " + srv + " invite accept " + link);
  CHECK(english.exit_code == 1);
  CHECK(english.out.find("This case is closed. You can only read it.") != std::string::npos);
}

TEST_CASE("kringd's limit per address is told as such, not as an unreachable server", "[cli]") {
  // Refills one call per 100 s: none during the test.
  TestServer server({"--unauthenticated-rate", "0.01", "--unauthenticated-burst", "4"});
  TempDir dir;
  const std::string srv = "--server " + server.address();
  Run refused;
  for (int i = 0; i < 10 && refused.exit_code <= 0; ++i) {
    refused = Cli(Person(dir, "p" + std::to_string(i)), srv + " account create");
  }
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("De server krijgt nu te veel aanvragen van jouw netwerk. Wacht een "
                         "minuut en probeer het dan opnieuw.") != std::string::npos);
  CHECK(refused.out.find("niet bereikbaar") == std::string::npos);
  Run en = Cli(Person(dir, "q"), "--lang en " + srv + " account create");
  CHECK(en.exit_code == 1);
  CHECK(en.out.find("too many requests from your network") != std::string::npos);
}

TEST_CASE("a server that stops sending a case without showing the removal is told as an alarm",
          "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");
  std::string srv = "--server " + server.address();
  const auto [anna_id, bas_id, case_id] = AnnaAndBasShareACase(srv, anna, bas);
  REQUIRE(Cli(bas, srv + " sync").exit_code == 0);
  Run entity = Cli(bas, srv + " entity create " + case_id + " afspraak");
  REQUIRE(entity.exit_code == 0);

  // Anna removes Bas; kringd then loses the record of that removal (a server that lies about
  // it), so it refuses Bas the case without serving the removal that would prove it.
  REQUIRE(Cli(anna, srv + " member remove " + case_id + " " + bas_id).exit_code == 0);
  REQUIRE(server.Stop() == 0);
  {
    auto db = kring::sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    REQUIRE(db->Exec("DELETE FROM case_removals").ok());
  }
  server.Restart();
  srv = "--server " + server.address();

  Run synced = Cli(bas, srv + " sync");
  INFO(synced.out);
  Run alarms = Cli(bas, srv + " alarms");
  INFO(alarms.out);
  CHECK(alarms.exit_code == 3);
  CHECK(alarms.out.find("REMOVAL_NOT_SHOWN case " + case_id) != std::string::npos);
  // Scripts get the kind as a lowercase word, as every other word of --json.
  Run alarms_json = Cli(bas, srv + " --json alarms");
  CHECK(alarms_json.exit_code == 3);
  CHECK(alarms_json.out.find("\"kind\":\"removal_not_shown\"") != std::string::npos);
  CHECK(alarms.out.find("De server stuurt deze casus niet meer. Hij laat niet zien dat je bent "
                        "verwijderd.") != std::string::npos);
  CHECK(Cli(bas, "--lang en " + srv + " alarms")
            .out.find("The server no longer sends you this case.") != std::string::npos);
  // Not taken as a removal: the case and the edit Bas made stay on his device.
  Run show = Cli(bas, srv + " case show " + case_id);
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("afspraak") != std::string::npos);
  CHECK(show.out.find("\"removed\": true") == std::string::npos);
}

TEST_CASE("member approve works while the server refuses the coordinator another case", "[cli]") {
  TestServer server;
  TempDir dir;
  std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");  // the coordinator, in two cases
  const std::string bas = Person(dir, "bas");
  const std::string res = Person(dir, "res");  // the resident of Anna's new case
  // Bas's case, with Anna as a member; Anna's device holds it.
  const auto [bas_id, anna_id, other_case] = AnnaAndBasShareACase(srv, bas, anna);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  const auto [case_id, res_id] = ChairWaitsForApproval(srv, anna, anna_id, res);

  // Meanwhile Bas takes Anna out of his case, and kringd loses the record of that removal: it
  // refuses Anna that case without serving the removal (REMOVAL_NOT_SHOWN on her device).
  REQUIRE(Cli(bas, srv + " member remove " + other_case + " " + anna_id).exit_code == 0);
  REQUIRE(server.Stop() == 0);
  {
    auto db = kring::sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    REQUIRE(db->Exec("DELETE FROM case_removals").ok());
  }
  server.Restart();
  srv = "--server " + server.address();

  // Approving in her own case reads and sends that case only: Bas's case neither holds it up
  // nor turns it into an alarm (before, its refusal made the approval exit 3).
  Run approved = Cli(anna, srv + " member approve " + case_id + " " + res_id);
  INFO(approved.out);
  CHECK(approved.exit_code == 0);
  CHECK(approved.out.find("Goedgekeurd") != std::string::npos);
  CHECK(approved.out.find("Beveiligingsmelding") == std::string::npos);
  REQUIRE(Cli(res, srv + " sync").exit_code == 0);
  CHECK(Cli(res, srv + " case show " + case_id).out.find("ROLE_CHAIR") != std::string::npos);
  // A role change in her case likewise: the coordinator steps back, the resident stays chair.
  Run role = Cli(anna, srv + " member role " + case_id + " " + anna_id + " member");
  INFO(role.out);
  CHECK(role.exit_code == 0);
  CHECK(role.out.find("De rol is aangepast.") != std::string::npos);
  CHECK(role.out.find("Beveiligingsmelding") == std::string::npos);

  // `kring sync CASE` is the same for one case; the refused case is told when it is synced.
  Run one = Cli(anna, srv + " sync " + case_id);
  INFO(one.out);
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("Bijgewerkt.") != std::string::npos);
  // The first sync of it raises the alarm; later ones say what it is.
  Run found = Cli(anna, srv + " sync " + other_case);
  INFO(found.out);
  CHECK(found.exit_code == 3);
  CHECK(found.out.find("Beveiligingsmelding. Kijk met: kring alarms") != std::string::npos);
  Run refused = Cli(anna, srv + " sync " + other_case);
  INFO(refused.out);
  CHECK(refused.exit_code == 3);
  CHECK(refused.out.find("De server stuurt deze casus niet meer.") != std::string::npos);
  CHECK(Cli(anna, "--lang en " + srv + " sync " + other_case)
            .out.find("The server no longer sends you this case.") != std::string::npos);
  CHECK(Cli(anna, srv + " alarms").out.find("REMOVAL_NOT_SHOWN case " + other_case) !=
        std::string::npos);
  // The full sync still reads every case (the refused one is passed over, as before).
  Run all = Cli(anna, srv + " sync");
  INFO(all.out);
  CHECK(all.exit_code == 0);
}

TEST_CASE("member approve and member role work while kringd fails on another case", "[cli]") {
  TestServer server;
  TempDir dir;
  std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");  // the coordinator, in two cases
  const std::string bas = Person(dir, "bas");
  const std::string res = Person(dir, "res");
  const auto [bas_id, anna_id, other_case] = AnnaAndBasShareACase(srv, bas, anna);
  REQUIRE(Cli(anna, srv + " sync").exit_code == 0);
  const auto [case_id, res_id] = ChairWaitsForApproval(srv, anna, anna_id, res);
  // Bas writes in his case; Anna has not read it yet.
  REQUIRE(Cli(bas, srv + " entity create " + other_case + " afspraak").exit_code == 0);

  // kringd's copy of Bas's last op is damaged: it fails every pull of that case (INTERNAL).
  REQUIRE(server.Stop() == 0);
  {
    auto db = kring::sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    const std::string key = "(SELECT case_key FROM cases WHERE case_id = x'" + other_case + "')";
    REQUIRE(db->Exec("UPDATE ops SET envelope = x'ff' WHERE case_key = " + key +
                     " AND seq = (SELECT MAX(seq) FROM ops WHERE case_key = " + key + ")")
                .ok());
  }
  server.Restart();
  srv = "--server " + server.address();
  Run all = Cli(anna, srv + " sync");
  INFO(all.out);
  REQUIRE(all.exit_code == 1);  // the full sync meets it, every time

  // Her own case does not: approving and a role change read and send that case only (before,
  // both ran the full sync first and failed with it).
  Run approved = Cli(anna, srv + " member approve " + case_id + " " + res_id);
  INFO(approved.out);
  CHECK(approved.exit_code == 0);
  CHECK(approved.out.find("Goedgekeurd") != std::string::npos);
  Run role = Cli(anna, "--lang en " + srv + " member role " + case_id + " " + anna_id + " member");
  INFO(role.out);
  CHECK(role.exit_code == 0);
  CHECK(role.out.find("The role is changed.") != std::string::npos);
  REQUIRE(Cli(res, srv + " sync").exit_code == 0);
  Run show = Cli(res, srv + " case show " + case_id);
  CHECK(show.out.find("ROLE_CHAIR") != std::string::npos);
  CHECK(show.out.find("ROLE_COORDINATOR") == std::string::npos);
  CHECK(Cli(anna, srv + " sync " + case_id).exit_code == 0);
  CHECK(Cli(anna, srv + " sync " + other_case).exit_code == 1);
}

TEST_CASE("kring sync takes one case id, and says so for a wrong or unknown one", "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  const std::string bas = Person(dir, "bas");
  const auto [anna_id, bas_id, case_id] = AnnaAndBasShareACase(srv, anna, bas);
  Run e = Cli(anna, srv + " entity create " + case_id + " afspraak");
  REQUIRE(e.exit_code == 0);

  // Bas fetches the one case he names.
  Run one = Cli(bas, srv + " sync " + case_id);
  INFO(one.out);
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("Bijgewerkt.") != std::string::npos);
  CHECK(Cli(bas, srv + " case show " + case_id).out.find("afspraak") != std::string::npos);
  CHECK(Cli(bas, "--lang en " + srv + " sync " + case_id).out.find("Up to date.") !=
        std::string::npos);

  // Not an id, two words: usage errors (exit 2) before the store opens.
  Run bad = Cli(bas, srv + " sync 1234");
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("Dit is geen geldige id") != std::string::npos);
  Run two = Cli(bas, srv + " sync " + case_id + " " + case_id);
  CHECK(two.exit_code == 2);
  // An id neither this device nor the server has: exit 1, in Dutch or English.
  const std::string unknown(32, 'a');
  Run none = Cli(bas, srv + " sync " + unknown);
  CHECK(none.exit_code == 1);
  CHECK(none.out.find("Deze casus staat niet op dit apparaat.") != std::string::npos);
  CHECK(Cli(bas, "--lang en " + srv + " sync " + unknown)
            .out.find("This case is not on this device.") != std::string::npos);
  // Offline, like the full sync.
  Run offline = Cli(bas, "--server 127.0.0.1:1 sync " + case_id);
  CHECK(offline.exit_code == Cli(bas, "--server 127.0.0.1:1 sync").exit_code);
  // The usage text names the case id.
  CHECK(Cli("", "--help").out.find("sync [CASUS]") != std::string::npos);
  CHECK(Cli("", "--lang en --help").out.find("sync [CASE]") != std::string::npos);
}

TEST_CASE(
    "member approve in a case stopped by an alarm is exit 3 with the alarm note, also offline",
    "[cli]") {
  TestServer server;
  TempDir dir;
  std::string srv = "--server " + server.address();
  const std::string anna = Person(dir, "anna");
  const std::string res = Person(dir, "res");
  Run a = Cli(anna, srv + " account create");
  REQUIRE(a.exit_code == 0);
  const std::string anna_id = Field(a.out, "account");
  const auto [case_id, res_id] = ChairWaitsForApproval(srv, anna, anna_id, res);

  // kringd's copy of the resident's acceptance is changed (its last byte flipped): Anna's
  // device has not read it yet.
  REQUIRE(server.Stop() == 0);
  {
    auto db = kring::sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    const std::string key = "(SELECT case_key FROM cases WHERE case_id = x'" + case_id + "')";
    REQUIRE(db->Exec("UPDATE ops SET envelope = substr(envelope, 1, length(envelope) - 1) || "
                     "(CASE WHEN substr(envelope, -1) = x'00' THEN x'01' ELSE x'00' END) "
                     "WHERE case_key = " +
                     key + " AND seq = (SELECT MAX(seq) FROM ops WHERE case_key = " + key + ")")
                .ok());
  }
  server.Restart();
  srv = "--server " + server.address();

  // The approval's fetch finds it: told as every sync tells an alarm, not as a raw error.
  Run found = Cli(anna, srv + " member approve " + case_id + " " + res_id);
  INFO(found.out);
  CHECK(found.exit_code == 3);
  CHECK(found.out.find("Beveiligingsmelding. Kijk met: kring alarms") != std::string::npos);
  CHECK(found.out.find("Goedgekeurd") == std::string::npos);
  CHECK(Cli(anna, srv + " alarms").out.find("case " + case_id) != std::string::npos);

  // The case is stopped now: approving again says so, online and offline alike (exit 3, not the
  // "server cannot be reached" of a case that merely waits).
  for (const std::string& server_arg : {srv, std::string("--server 127.0.0.1:1")}) {
    Run again = Cli(anna, server_arg + " member approve " + case_id + " " + res_id);
    INFO(server_arg << ": " << again.out);
    CHECK(again.exit_code == 3);
    CHECK(again.out.find("Deze casus is gestopt door een beveiligingsmelding. Kijk met: kring "
                         "alarms") != std::string::npos);
    Run role = Cli(
        anna, "--lang en " + server_arg + " member role " + case_id + " " + anna_id + " member");
    INFO(role.out);
    CHECK(role.exit_code == 3);
    CHECK(role.out.find("This case is stopped by a security alarm. See: kring alarms") !=
          std::string::npos);
    // Every command that refuses because the case is stopped uses the same exit code 3 (the
    // documented one for a security alarm), not the 1 of a plain failure.
    Run add = Cli(anna, server_arg + " member add " + case_id + " " + res_id + ":member");
    INFO(add.out);
    CHECK(add.exit_code == 3);
    CHECK(add.out.find("gestopt door een beveiligingsmelding") != std::string::npos);
    Run remove = Cli(anna, server_arg + " member remove " + case_id + " " + res_id);
    INFO(remove.out);
    CHECK(remove.exit_code == 3);
    CHECK(remove.out.find("gestopt door een beveiligingsmelding") != std::string::npos);
    Run entity = Cli(anna, server_arg + " entity create " + case_id + " notitie");
    INFO(entity.out);
    CHECK(entity.exit_code == 3);
    Run scope = Cli(anna, server_arg + " scope create --case " + case_id);
    INFO(scope.out);
    CHECK(scope.exit_code == 3);
    CHECK(scope.out.find("gestopt door een beveiligingsmelding") != std::string::npos);
  }
}

TEST_CASE("kring GROUP --help shows that group's commands, in the user's language", "[cli]") {
  // No store and no server are needed to read the help.
  struct Group {
    const char* name;
    std::vector<const char*> commands;  // lines it must show
  };
  const std::vector<Group> groups = {
      {"case", {"case list", "case create", "case leave", "kring case close", "kring case erase"}},
      {"member", {"member add", "member remove", "member approve", "member role"}},
      {"invite", {"invite create", "invite accept", "invite list", "invite revoke"}},
      {"device", {"device link-request", "device revoke"}},
      {"account", {"account create", "account restore"}},
      {"circle", {"kring circle propose", "kring circle list"}},
      {"meeting", {"kring meeting show"}},
      {"plan", {"kring plan draft"}},
      {"referral", {"kring referral submit"}},
      {"scope", {"kring scope create"}},
      {"report", {"kring report team"}},
      {"poll", {"kring poll answer"}},
  };
  for (const Group& g : groups) {
    for (const char* flag : {"--help", "-h"}) {
      Run help = Cli("", std::string(g.name) + " " + flag);
      INFO(g.name << " " << flag << ":\n" << help.out);
      CHECK(help.exit_code == 0);
      CHECK(help.out.find(std::string("Gebruik: kring [OPTIES] ") + g.name) != std::string::npos);
      for (const char* c : g.commands) CHECK(help.out.find(c) != std::string::npos);
      // Not the general help: no other group's commands, no list of all of them.
      if (std::string(g.name) != "device") {
        CHECK(help.out.find("device link-request") == std::string::npos);
      } else {
        CHECK(help.out.find("member add") == std::string::npos);
      }
      CHECK(help.out.find("Opdrachten:") == std::string::npos);
      CHECK(help.out.find("Netwerkberaad (kring GROEP --help") == std::string::npos);
      // A command without arguments ends at its words: no trailing space to copy along.
      CHECK(help.out.find(" \n") == std::string::npos);
    }
  }
  // In English, as the general help.
  Run english = Cli("", "--lang en member --help");
  CHECK(english.exit_code == 0);
  CHECK(english.out.find("Usage: kring [OPTIONS] member") != std::string::npos);
  CHECK(english.out.find("Add someone to the circle") != std::string::npos);
  CHECK(english.out.find("Voeg iemand toe") == std::string::npos);
  Run area = Cli("KRING_LANG=en", "circle --help");
  CHECK(area.out.find("Usage: kring [OPTIONS] circle") != std::string::npos);
  CHECK(area.out.find("Propose someone for the circle") != std::string::npos);
  // A command of the group with --help shows the group too, and `kring --help` still all.
  CHECK(Cli("", "member add --help").out.find("member approve") != std::string::npos);
  Run all = Cli("", "--help");
  CHECK(all.exit_code == 0);
  CHECK(all.out.find("device link-request") != std::string::npos);
  CHECK(all.out.find("kring GROEP --help") != std::string::npos);
  // One word for a group everywhere: not "GEBIED" in one place and "GROEP" in another.
  CHECK(all.out.find("GEBIED") == std::string::npos);
  CHECK(Cli("", "--lang en --help").out.find("AREA") == std::string::npos);
  Run bare_en = Cli("", "--lang en circle");
  CHECK(bare_en.exit_code == 2);
  CHECK(bare_en.out.find("Choose a command:") != std::string::npos);
  CHECK(bare_en.out.find("kring circle propose") != std::string::npos);
  // A verb a group lacks, or none: that group's commands with the error, exit 2, before any
  // store is opened (no passphrase, no database here).
  for (const char* wrong :
       {"member foo", "case foo", "circle foo", "member", "invite", "circle", "case"}) {
    Run r = Cli("", wrong);
    INFO(wrong << ":\n" << r.out);
    CHECK(r.exit_code == 2);
    // A group's word alone asks to choose one of its commands: it is no unknown command.
    const bool alone = std::string(wrong).find(' ') == std::string::npos;
    CHECK((r.out.find("Onbekende opdracht") != std::string::npos) == !alone);
    CHECK((r.out.find("Kies een opdracht:") != std::string::npos) == alone);
    CHECK(r.out.find(std::string("Gebruik: kring [OPTIES] ") +
                     std::string(wrong).substr(0, std::string(wrong).find(' '))) !=
          std::string::npos);
    CHECK(r.out.find("device link-request") == std::string::npos);
    CHECK(r.out.find("Wachtwoordzin") == std::string::npos);
  }
  // A word that is no group still gets the general help.
  Run none = Cli("", "nogroup --help");
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("device link-request") != std::string::npos);
}

TEST_CASE(
    "member and invite take the case as --case or KRING_CASE, and invite list prints words "
    "for scripts",
    "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string coord = Person(dir, "coord");
  const std::string res = Person(dir, "res");
  const std::string srv = "--server " + server.address();
  Run made = Cli(coord, srv + " account create");
  REQUIRE(made.exit_code == 0);
  const std::string coord_id = Field(made.out, "account");
  Run created = Cli(coord, srv + " case create " + coord_id + ":coordinator");
  REQUIRE(created.exit_code == 0);
  const std::string case_id = Field(created.out, "Casus gemaakt:");
  const std::string in_case = coord + " KRING_CASE=" + case_id;

  // No invitations yet: said in words, [] for scripts; the case from KRING_CASE or --case.
  Run none = Cli(in_case, srv + " invite list");
  INFO(none.out);
  CHECK(none.exit_code == 0);
  CHECK(none.out == "Er zijn geen uitnodigingen.\n");
  Run none_en = Cli(coord, "--lang en " + srv + " invite list --case " + case_id);
  CHECK(none_en.exit_code == 0);
  CHECK(none_en.out == "There are no invitations.\n");
  Run none_json = Cli(coord, srv + " --case " + case_id + " --json invite list");
  CHECK(none_json.exit_code == 0);
  CHECK(none_json.out == "[]\n");

  // invite create with a role word and KRING_CASE: the role is no case id.
  Run inv = Cli(in_case, srv + " invite create chair --hours 24");
  INFO(inv.out);
  REQUIRE(inv.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(inv.out, m, std::regex("link (kring://invite/1/[0-9a-f/]+)")));
  Run r = Cli(res, srv + " account create");
  REQUIRE(r.exit_code == 0);
  const std::string res_id = Field(r.out, "account");
  REQUIRE(Cli(res, srv + " invite accept " + m[1].str()).exit_code == 0);
  REQUIRE(Cli(coord, srv + " sync").exit_code == 0);

  // Stable lowercase words in --json: the state as it is, the role as invite create takes it.
  Run waiting = Cli(in_case, srv + " --json invite list");
  INFO(waiting.out);
  CHECK(waiting.exit_code == 0);
  CHECK(waiting.out.find("\"status\":\"accepted\"") != std::string::npos);
  CHECK(waiting.out.find("\"role\":\"chair\"") != std::string::npos);
  CHECK(waiting.out.find("ROLE_") == std::string::npos);
  CHECK(waiting.out.find("ACCEPTED") == std::string::npos);
  // member approve ACCOUNT with the case from KRING_CASE.
  Run approved = Cli(in_case, srv + " member approve " + res_id);
  INFO(approved.out);
  CHECK(approved.exit_code == 0);
  // The state's words are those of circle invite-status: joined, not approved.
  Run listed = Cli(coord, srv + " invite list --json --case " + case_id);
  CHECK(listed.out.find("\"status\":\"joined\"") != std::string::npos);
  CHECK(listed.out.find("pproved") == std::string::npos);
  // The case word still works, and wins over KRING_CASE.
  Run positional =
      Cli(coord + " KRING_CASE=00000000000000000000000000000000", srv + " invite list " + case_id);
  CHECK(positional.exit_code == 0);
  CHECK(positional.out.find("goedgekeurd " + res_id) != std::string::npos);

  // No case at all: said what is missing, with the group's commands, not the whole help.
  Run missing = Cli("unset KRING_CASE; " + coord, srv + " invite list");
  INFO(missing.out);
  CHECK(missing.exit_code == 2);
  CHECK(missing.out.find("Kies de casus: zet de casus-id na de opdracht, of gebruik --case ID of "
                         "KRING_CASE. Je casussen: kring case list.") != std::string::npos);
  CHECK(missing.out.find("invite list CASUS") != std::string::npos);
  CHECK(missing.out.find("device link-request") == std::string::npos);
  // The case twice (--case and the word) is one word too many; --case where no case is taken
  // is refused; both before anything changes.
  CHECK(Cli(coord, srv + " member decline --case " + case_id + " " + case_id + " " + res_id)
            .exit_code == 2);
  Run no_case = Cli(coord, srv + " --case " + case_id + " account show");
  CHECK(no_case.exit_code == 2);
  CHECK(no_case.out.find("Onbekende opdracht: --case") != std::string::npos);
  CHECK(Cli(in_case, srv + " invite list").out.find("goedgekeurd " + res_id) != std::string::npos);
  // The help says it.
  CHECK(Cli("", "--help").out.find("--case ID: de casus voor opdrachten met CASUS") !=
        std::string::npos);
  CHECK(Cli("", "--lang en --help").out.find("--case ID: the case for commands with CASE") !=
        std::string::npos);
}

TEST_CASE("a case that is written is never replaced by KRING_CASE, and --case stands anywhere",
          "[cli]") {
  TestServer server;
  TempDir dir;
  const std::string coord = Person(dir, "coord");
  const std::string srv = "--server " + server.address();
  Run made = Cli(coord, srv + " account create");
  REQUIRE(made.exit_code == 0);
  const std::string coord_id = Field(made.out, "account");
  Run first = Cli(coord, srv + " case create " + coord_id + ":coordinator");
  REQUIRE(first.exit_code == 0);
  const std::string c = Field(first.out, "Casus gemaakt:");
  Run second = Cli(coord, srv + " case create " + coord_id + ":coordinator");
  REQUIRE(second.exit_code == 0);
  const std::string other = Field(second.out, "Casus gemaakt:");
  const std::string in_other = coord + " KRING_CASE=" + other;
  Run note = Cli(coord, srv + " entity create " + c + " notitie");
  REQUIRE(note.exit_code == 0);
  const std::string e = note.out.substr(0, 32);

  // A field's text may begin with --: stored as written, with or without KRING_CASE.
  Run dashes = Cli(coord, srv + " field set " + c + " " + e + " tekst --x");
  INFO(dashes.out);
  CHECK(dashes.exit_code == 0);
  CHECK(Cli(coord, srv + " case show " + c).out.find("\"--x\"") != std::string::npos);
  Run dashes_env = Cli(in_other, srv + " field set " + c + " " + e + " tekst --hours");
  INFO(dashes_env.out);
  CHECK(dashes_env.exit_code == 0);
  CHECK(Cli(coord, srv + " case show " + c).out.find("\"--hours\"") != std::string::npos);

  // The case written, the type forgotten: refused, nothing made in the KRING_CASE case (whose
  // id would have become the type).
  Run forgot = Cli(in_other, srv + " entity create " + c);
  CHECK(forgot.exit_code == 2);
  Run forgot_same = Cli(coord + " KRING_CASE=" + c, srv + " entity create " + c);
  CHECK(forgot_same.exit_code == 2);
  CHECK(Cli(coord, srv + " case show " + other).out.find(c) == std::string::npos);
  CHECK(Cli(coord, srv + " case show " + c).out.find("\"type\": \"" + c) == std::string::npos);

  // case leave cannot be undone: an empty word is no reason to leave the KRING_CASE case.
  Run leave = Cli(in_other, srv + " case leave");
  INFO(leave.out);
  CHECK(leave.exit_code == 2);
  CHECK(leave.out.find("Zeg welke casus je verlaat") != std::string::npos);
  CHECK(Cli(in_other, "--lang en " + srv + " case leave")
            .out.find("KRING_CASE does not count here") != std::string::npos);
  CHECK(Cli(coord, srv + " case list").out.find("je doet niet meer mee") == std::string::npos);

  // --case between the group and its verb.
  Run between = Cli(coord, srv + " invite --case " + c + " list");
  INFO(between.out);
  CHECK(between.exit_code == 0);
  CHECK(between.out == "Er zijn geen uitnodigingen.\n");

  // invite create without any case: asked for the case, not told the role is a bad id.
  for (const char* words : {"invite create chair", "invite create --hours 5"}) {
    Run no_case = Cli(coord, srv + " " + words);
    INFO(no_case.out);
    CHECK(no_case.exit_code == 2);
    CHECK(no_case.out.find("Kies de casus") != std::string::npos);
    CHECK(no_case.out.find("geen geldige id") == std::string::npos);
  }
  // A new invitation is pending, as circle invite-status says it.
  REQUIRE(Cli(in_other, srv + " invite create member").exit_code == 0);
  CHECK(Cli(coord, srv + " --json invite list " + other).out.find("\"status\":\"pending\"") !=
        std::string::npos);

  // sync --case ID is sync ID (an unknown id is told as such); sync without a case syncs every
  // case whatever KRING_CASE says.
  Run one = Cli(coord, srv + " sync --case " + c);
  INFO(one.out);
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("Bijgewerkt.") != std::string::npos);
  Run unknown = Cli(coord, srv + " sync --case " + std::string(32, 'a'));
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.find("Deze casus staat niet op dit apparaat.") != std::string::npos);
  CHECK(Cli(coord + " KRING_CASE=" + std::string(32, 'a'), srv + " sync").exit_code == 0);

  // case leave takes --case: the case is read (and the last coordinator may not leave it).
  Run left = Cli(coord, srv + " case leave --case " + other);
  INFO(left.out);
  CHECK(left.exit_code == 1);
  CHECK(left.out.find("Er moet een hoofdpersoon of gespreksleider blijven") != std::string::npos);
}

TEST_CASE("the general commands are the same in both languages and all of them are known",
          "[cli]") {
  // The commands as each language's help lists them: "  group verb ..." lines.
  auto listed = [](const std::string& help) {
    std::set<std::string> out;
    std::istringstream lines(help);
    std::string line;
    const std::regex command("^  ([a-z][a-z-]*)( [a-z][a-z-]*)?(  | [A-Z\\[]|$)");
    bool in_commands = false;
    while (std::getline(lines, line)) {
      if (line == "Opdrachten:" || line == "Commands:") {
        in_commands = true;
        continue;
      }
      if (line.rfind("  ", 0) != 0) in_commands = false;  // the lines after the list
      std::smatch m;
      if (in_commands && std::regex_search(line, m, command)) out.insert(m[1].str() + m[2].str());
    }
    return out;
  };
  const std::set<std::string> nl = listed(Cli("", "--help").out);
  const std::set<std::string> en = listed(Cli("", "--lang en --help").out);
  CHECK(nl.size() > 25);
  CHECK(nl == en);
  // Each is a known command in both languages: with a stray word, without a store, it is
  // refused for its words or the missing store, never as an unknown command.
  TempDir dir;
  const std::string none = "KRING_PASSPHRASE='geheim wachtwoord' KRING_DB=" + dir.path() + "/x.db";
  for (const std::string& words : nl) {
    for (const char* lang : {"nl", "en"}) {
      Run r =
          Cli(none, "--server 127.0.0.1:1 --lang " + std::string(lang) + " " + words + " extra");
      INFO(std::string(lang) + " " + words + ": " + r.out);
      CHECK(r.out.find("Onbekende opdracht") == std::string::npos);
      CHECK(r.out.find("Unknown command") == std::string::npos);
    }
  }
}
