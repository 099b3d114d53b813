// kringd's flags for the per-address limit of calls without a session: defaults, flags, config
// file, environment, and refusals of bad values (kringd does not start).
#include "config.h"

#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.h"
#include "support/test_server.h"

namespace kring::server {
namespace {

Result<Config> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kringd");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseConfig(static_cast<int>(args.size()), argv.data());
}

}  // namespace

TEST_CASE("the unauthenticated limit defaults to 20 per second with bursts of 100", "[config]") {
  auto c = Parse({});
  REQUIRE(c.ok());
  CHECK(c->unauthenticated_rate == 20);
  CHECK(c->unauthenticated_burst == 100);
  std::string usage = Usage();
  CHECK(usage.find("--unauthenticated-rate") != std::string::npos);
  CHECK(usage.find("--unauthenticated-burst") != std::string::npos);
}

TEST_CASE("the unauthenticated limit is set by flag, config file and environment", "[config]") {
  auto c = Parse({"--unauthenticated-rate", "1.5", "--unauthenticated-burst=3"});
  REQUIRE(c.ok());
  CHECK(c->unauthenticated_rate == 1.5);
  CHECK(c->unauthenticated_burst == 3);
  c = Parse({"--unauthenticated-rate=0"});
  REQUIRE(c.ok());
  CHECK(c->unauthenticated_rate == 0);  // no limit

  test::TempDir dir;
  const std::string file = dir.path() + "/kringd.conf";
  std::ofstream(file) << "# limits\nunauthenticated_rate = 5\nunauthenticated_burst = 40\n";
  c = Parse({"--config", file});
  REQUIRE(c.ok());
  CHECK(c->unauthenticated_rate == 5);
  CHECK(c->unauthenticated_burst == 40);
  // Flags win over the file, the later flag over the earlier.
  c = Parse({"--config", file, "--unauthenticated-rate", "7", "--unauthenticated-rate", "8"});
  REQUIRE(c.ok());
  CHECK(c->unauthenticated_rate == 8);
  CHECK(c->unauthenticated_burst == 40);

  ::setenv("KRINGD_UNAUTHENTICATED_RATE", "0", 1);
  ::setenv("KRINGD_UNAUTHENTICATED_BURST", "9", 1);
  c = Parse({"--config", file});
  CHECK(c.ok());
  CHECK((c.ok() && c->unauthenticated_rate == 0 && c->unauthenticated_burst == 9));
  c = Parse({"--unauthenticated-rate", "2"});
  CHECK((c.ok() && c->unauthenticated_rate == 2));
  ::setenv("KRINGD_UNAUTHENTICATED_RATE", "lots", 1);
  auto bad = Parse({});
  CHECK_FALSE(bad.ok());
  // The message says where the bad value came from.
  CHECK(bad.status().message().find("KRINGD_UNAUTHENTICATED_RATE") != std::string::npos);
  ::unsetenv("KRINGD_UNAUTHENTICATED_RATE");
  ::unsetenv("KRINGD_UNAUTHENTICATED_BURST");
}

TEST_CASE("the example config file sets the default limit", "[config]") {
  auto c = Parse({"--config", KRING_SOURCE_DIR "/deploy/kringd.conf.example"});
  REQUIRE(c.ok());
  CHECK(c->unauthenticated_rate == 20);
  CHECK(c->unauthenticated_burst == 100);
}

TEST_CASE("bad unauthenticated limits are refused with a clear error", "[config]") {
  for (const char* rate : {"-1", "abc", "", "1e3", "0.001", "2000000", "nan", "inf", "1,5", " 5",
                           "5 ", "0x10", "+5"}) {
    INFO(rate);
    auto c = Parse({"--unauthenticated-rate", rate});
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message() ==
          "unauthenticated rate must be 0 (no limit) or 0.01..1000000 calls per second");
  }
  for (const char* burst : {"0", "-3", "1.5", "abc", "", "1000001", "99999999999999999999"}) {
    INFO(burst);
    auto c = Parse({"--unauthenticated-burst", burst});
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message() == "unauthenticated burst must be 1..1000000 calls");
  }
  CHECK_FALSE(Parse({"--unauthenticated-rate"}).ok());  // no value

  test::TempDir dir;
  const std::string file = dir.path() + "/kringd.conf";
  std::ofstream(file) << "unauthenticated_burst = 0\n";
  auto c = Parse({"--config", file});
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() == "config line 1: unauthenticated burst must be 1..1000000 calls");
}

TEST_CASE("the challenge caps default to 128 per address and 100,000 in all", "[config]") {
  auto c = Parse({});
  REQUIRE(c.ok());
  CHECK(c->challenges_per_address == 128);
  CHECK(c->max_challenges == 100000);
  const std::string usage = Usage();
  CHECK(usage.find("--challenges-per-address") != std::string::npos);
  CHECK(usage.find("--max-challenges") != std::string::npos);
  c = Parse({"--config", KRING_SOURCE_DIR "/deploy/kringd.conf.example"});
  REQUIRE(c.ok());
  CHECK(c->challenges_per_address == 128);
  CHECK(c->max_challenges == 100000);
}

TEST_CASE("the challenge caps are set by flag, config file and environment", "[config]") {
  auto c = Parse({"--challenges-per-address", "0", "--max-challenges=20"});
  REQUIRE(c.ok());
  CHECK(c->challenges_per_address == 0);  // no cap
  CHECK(c->max_challenges == 20);
  test::TempDir dir;
  const std::string file = dir.path() + "/kringd.conf";
  std::ofstream(file) << "challenges_per_address = 16\nmax_challenges = 5000\n";
  c = Parse({"--config", file});
  REQUIRE(c.ok());
  CHECK(c->challenges_per_address == 16);
  CHECK(c->max_challenges == 5000);
  ::setenv("KRINGD_CHALLENGES_PER_ADDRESS", "32", 1);
  ::setenv("KRINGD_MAX_CHALLENGES", "6000", 1);
  c = Parse({"--config", file, "--max-challenges", "7000"});
  CHECK((c.ok() && c->challenges_per_address == 32 && c->max_challenges == 7000));
  ::setenv("KRINGD_CHALLENGES_PER_ADDRESS", "many", 1);
  auto bad = Parse({});
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message().find("KRINGD_CHALLENGES_PER_ADDRESS") != std::string::npos);
  ::unsetenv("KRINGD_CHALLENGES_PER_ADDRESS");
  ::unsetenv("KRINGD_MAX_CHALLENGES");

  for (const char* cap : {"-1", "abc", "", "1000001", "1e3", "+5", " 5", "5 ", "0x10", "1.5"}) {
    INFO(cap);
    auto r = Parse({"--challenges-per-address", cap});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "challenges per address must be 0 (no cap) or 1..1000000");
  }
  for (const char* max : {"0", "-1", "1000001", "+5", "99999999999999999999"}) {
    INFO(max);
    auto r = Parse({"--max-challenges", max});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "max challenges must be 1..1000000");
  }
  CHECK_THROWS(test::TestServer({"--max-challenges", "0"}));
}

TEST_CASE("kringd does not start with a bad unauthenticated limit", "[config]") {
  CHECK_THROWS(test::TestServer({"--unauthenticated-rate", "-1"}));
  CHECK_THROWS(test::TestServer({"--unauthenticated-burst", "0"}));
  // The values it takes start it.
  CHECK_NOTHROW(
      test::TestServer({"--unauthenticated-rate", "0.5", "--unauthenticated-burst", "1"}));
}

TEST_CASE("the erased history's lifetime is set by flag, config file and environment", "[config]") {
  auto c = Parse({});
  REQUIRE(c.ok());
  CHECK(c->erased_history_days == 365);
  c = Parse({"--erased-history-days", "0"});
  REQUIRE(c.ok());
  CHECK(c->erased_history_days == 0);
  c = Parse({"--config", KRING_SOURCE_DIR "/deploy/kringd.conf.example"});
  REQUIRE(c.ok());
  CHECK(c->erased_history_days == 365);
  ::setenv("KRINGD_ERASED_HISTORY_DAYS", "30", 1);
  c = Parse({});
  REQUIRE(c.ok());
  CHECK(c->erased_history_days == 30);
  ::setenv("KRINGD_ERASED_HISTORY_DAYS", "soon", 1);
  c = Parse({});
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("KRINGD_ERASED_HISTORY_DAYS") != std::string::npos);
  ::unsetenv("KRINGD_ERASED_HISTORY_DAYS");
  for (const char* days : {"-1", "36501", "1.5", "", "abc", "99999999999"}) {
    INFO(days);
    auto bad = Parse({"--erased-history-days", days});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message() == "erased history days must be 0..36500");
  }
}

}  // namespace kring::server
