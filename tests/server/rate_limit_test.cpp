// kringd's per-address limit of the calls that need no session, and its per-address cap of live
// sign-in challenges, as clients on 127.0.0.1, [::1] (or, in netns_test.sh's namespace, in
// 2001:db8::/32) meet them, and the log lines they leave.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kring/common/protocol.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

grpc::Status GetChallenge(Client& c, const Bytes& device_id, v1::ChallengeResponse* out) {
  v1::ChallengeRequest req;
  req.set_device_id(ToString(device_id));
  return c.account->GetChallenge(Ctx().get(), req, out);
}

grpc::Status GetServerInfo(Client& c) {
  v1::ServerInfo info;
  return c.sync->GetServerInfo(Ctx().get(), {}, &info);
}

// Refused by the limit: RESOURCE_EXHAUSTED, RATE_LIMITED, a fixed message.
void CheckLimited(const grpc::Status& s, const TestAccount& a) {
  CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(RefusalReason(s) == refusal::kRateLimited);
  CHECK(s.error_message() == "too many requests; try again later");
  CHECK(s.error_message().find(Hex(a.device_id)) == std::string::npos);
}

// kringd's `rate_limited` log lines so far.
std::vector<std::string> RateLimitedLines(const TestServer& server) {
  std::vector<std::string> lines;
  std::istringstream in(server.log());
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"event\":\"rate_limited\"") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// Nothing but the bucket, the call and the count: the whole line, field by field.
bool IsRateLimitedLine(const std::string& line, const std::string& peer, const std::string& rpc,
                       int refused) {
  const std::regex form(
      "\\{\"ts_ms\":[0-9]+,\"level\":\"warn\",\"event\":\"rate_limited\","
      "\"peer\":\"([^\"]*)\",\"rpc\":\"([A-Za-z]+)\",\"refused\":([0-9]+)\\}");
  std::smatch m;
  return std::regex_match(line, m, form) && m[1] == peer && m[2] == rpc &&
         m[3] == std::to_string(refused);
}

// Every refusable call, each carrying what `a` would send: device id, a fresh challenge and its
// signature, a chain, a recovery proof.
void MakeRefusedCalls(Client& c, const TestAccount& a, const v1::ChallengeResponse& ch) {
  CheckLimited(GetServerInfo(c), a);
  v1::ChallengeResponse refused_ch;
  CheckLimited(GetChallenge(c, a.device_id, &refused_ch), a);
  v1::SignInResponse session;
  CheckLimited(c.account->SignIn(Ctx().get(), SignInRequestFor(a, ch), &session), a);
  CheckLimited(Publish(c, NewAccount()), a);
  v1::GetChainRequest recovery;
  recovery.set_recovery_device_id(ToString(protocol::DeviceId(a.recovery.public_key)));
  recovery.set_challenge(ch.challenge());
  recovery.set_signature(std::string(crypto::kSignatureBytes, 'x'));
  v1::GetChainResponse chain;
  CheckLimited(c.account->GetChain(Ctx().get(), recovery, &chain), a);
}

// Whether an IPv6 socket can bind `address` here: not on a host without IPv6, nor outside the
// network namespace that netns_test.sh makes for the 2001:db8:a:: addresses.
bool CanBindV6(const char* address) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  const bool ok = ::inet_pton(AF_INET6, address, &a.sin6_addr) == 1 &&
                  ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

constexpr const char* kNoIpv6 = "skipped: this host cannot bind an IPv6 socket to ::1";

// kringd's lines of one event so far.
std::vector<std::string> EventLines(const TestServer& server, const std::string& event) {
  std::vector<std::string> lines;
  std::istringstream in(server.log());
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"event\":\"" + event + "\"") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// A `challenges_capped` line: nothing but the prefix and the count.
bool IsCappedLine(const std::string& line, const std::string& peer, int retired) {
  const std::regex form(
      "\\{\"ts_ms\":[0-9]+,\"level\":\"warn\",\"event\":\"challenges_capped\","
      "\"peer\":\"([^\"]*)\",\"retired\":([0-9]+)\\}");
  std::smatch m;
  return std::regex_match(line, m, form) && m[1] == peer && m[2] == std::to_string(retired);
}

// `n` accounts with published chains (published through `c`), for challenges of their own.
std::vector<TestAccount> PublishedAccounts(Client& c, size_t n) {
  std::vector<TestAccount> accounts;
  for (size_t i = 0; i < n; ++i) {
    accounts.push_back(NewAccount());
    REQUIRE(Publish(c, accounts.back()).ok());
  }
  return accounts;
}

struct Asked {
  const TestAccount* account;
  v1::ChallengeResponse challenge;
  grpc::Status status;
};

// An attacker's client asks for 4 challenges for each of `accounts` (a device holds at most 4)
// and signs in with none of them.
void AskChallenges(Client& c, const std::vector<TestAccount>& accounts, size_t first, size_t count,
                   std::vector<Asked>& out) {
  for (size_t i = first; i < first + count; ++i) {
    for (int k = 0; k < 4; ++k) {
      Asked a{&accounts[i], {}, {}};
      a.status = GetChallenge(c, accounts[i].device_id, &a.challenge);
      out.push_back(std::move(a));
    }
  }
}

int Refused(const std::vector<Asked>& asked) {
  int refused = 0;
  for (const Asked& a : asked) {
    if (a.status.ok()) continue;
    ++refused;
    CHECK(a.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(a.status.error_message() == "too many outstanding challenges");
  }
  return refused;
}

grpc::Status SignInWith(Client& c, const Asked& a) {
  v1::SignInResponse session;
  return c.account->SignIn(Ctx().get(), SignInRequestFor(*a.account, a.challenge), &session);
}

}  // namespace

TEST_CASE("an IPv6 client is limited by its /64, logged once under the prefix, with no secret",
          "[rate_limit]") {
  if (!CanBindV6("::1")) {
    WARN(kNoIpv6);
    return;
  }
  // Refills one call per 100 s: none during the test.
  TestServer server(
      {"--listen", "[::1]:0", "--unauthenticated-rate", "0.01", "--unauthenticated-burst", "4"},
      TestServer::Log::kCapture);
  REQUIRE(server.address().rfind("[::1]:", 0) == 0);
  Client c(server.address());
  TestAccount a = MakeAccount(c);  // PublishChain, GetChallenge, SignIn: 1 left
  v1::ChallengeResponse ch;
  REQUIRE(GetChallenge(c, a.device_id, &ch).ok());  // none left
  CHECK(RateLimitedLines(server).empty());          // spent, not yet refused

  for (int i = 0; i < 10; ++i) MakeRefusedCalls(c, a, ch);
  // A signed-in call is not limited and changes nothing below.
  v1::ListCasesResponse cases;
  CHECK(c.sync->ListCases(Ctx(a.token).get(), {}, &cases).ok());

  // 50 refusals, one line: the first, under the /64 (not the address ::1). One line only
  // because kringd logs a bucket at most once per 60 s (its log window) and the test takes far
  // less: the other 49 are counted into the next line, which never comes.
  const std::vector<std::string> lines = RateLimitedLines(server);
  REQUIRE(lines.size() == 1);
  CHECK(IsRateLimitedLine(lines[0], "::/64", "GetServerInfo", 1));
  // Nothing the calls carried is anywhere in the log.
  const std::string log = server.log();
  for (const std::string& secret :
       {Hex(a.device_id), Hex(a.account_id), Hex(ToBytes(ch.challenge())), a.token,
        Hex(a.recovery.public_key), Hex(a.signing.public_key)}) {
    CHECK(log.find(secret) == std::string::npos);
  }
}

TEST_CASE(
    "on a dual-stack listener an IPv4 and an IPv6 client have buckets of their own, each "
    "logged once",
    "[rate_limit]") {
  if (!CanBindV6("::1")) {
    WARN(kNoIpv6);
    return;
  }
  TestServer server(
      {"--listen", "[::]:0", "--unauthenticated-rate", "0.01", "--unauthenticated-burst", "3"},
      TestServer::Log::kCapture);
  const std::string port = server.address().substr(server.address().rfind(':') + 1);
  Client v6("[::1]:" + port);
  Client v4("127.0.0.1:" + port);
  TestAccount a = NewAccount();
  for (int i = 0; i < 3; ++i) REQUIRE(GetServerInfo(v6).ok());
  v1::ChallengeResponse ch;
  CheckLimited(GetChallenge(v6, a.device_id, &ch), a);
  // The IPv4 client has its full bucket still.
  for (int i = 0; i < 3; ++i) REQUIRE(GetServerInfo(v4).ok());
  CheckLimited(GetChallenge(v4, a.device_id, &ch), a);
  for (int i = 0; i < 20; ++i) {
    CheckLimited(GetServerInfo(v6), a);
    CheckLimited(GetServerInfo(v4), a);
  }
  const std::vector<std::string> lines = RateLimitedLines(server);
  REQUIRE(lines.size() == 2);
  CHECK(IsRateLimitedLine(lines[0], "::/64", "GetChallenge", 1));
  CHECK(IsRateLimitedLine(lines[1], "127.0.0.1", "GetChallenge", 1));
}

// Hidden: it needs the addresses 2001:db8:a:1::1 to 2001:db8:a:5::1 on a loopback of its own,
// which tests/server/netns_test.sh gives it in a new user and network namespace (ctest test
// rate_limit.netns; skipped where unshare or ip is missing or namespaces are not allowed).
TEST_CASE("five IPv6 clients in five /64s of one /56 are held to the /56, logged under the /56",
          "[.][netns]") {
  if (!CanBindV6("2001:db8:a:1::1")) {
    FAIL("2001:db8:a:1::1 is not a local address: run this test through netns_test.sh");
  }
  // Bursts of 2 per /64 and 8 per /56; refills one call per 100 s per /64: none during the test.
  TestServer server(
      {"--listen", "[::]:0", "--unauthenticated-rate", "0.01", "--unauthenticated-burst", "2"},
      TestServer::Log::kCapture);
  const std::string port = server.address().substr(server.address().rfind(':') + 1);
  // A client that dials a local address is seen by kringd coming from it: kringd sees each of
  // these from its own /64 of the /56 2001:db8:a::/56.
  std::vector<std::unique_ptr<Client>> clients;
  for (int n = 1; n <= 5; ++n) {
    clients.push_back(
        std::make_unique<Client>("[2001:db8:a:" + std::to_string(n) + "::1]:" + port));
  }
  // Four /64s take their 2 each: the /56's 8.
  for (size_t n = 0; n < 4; ++n) {
    INFO("client " << n + 1);
    for (int i = 0; i < 2; ++i) CHECK(GetServerInfo(*clients[n]).ok());
  }
  // The fifth /64's own bucket is full, but its /56 is spent: refused, and logged under the /56.
  const TestAccount a = NewAccount();
  CheckLimited(GetServerInfo(*clients[4]), a);
  CheckLimited(GetServerInfo(*clients[4]), a);
  // Logged once: the second refusal falls in the same 60 s log window.
  const std::vector<std::string> lines = RateLimitedLines(server);
  REQUIRE(lines.size() == 1);
  CHECK(IsRateLimitedLine(lines[0], "2001:db8:a::/56", "GetServerInfo", 1));
  // Another /56 of the /48 is not spent.
  Client other("[2001:db8:a:100::1]:" + port);
  CHECK(GetServerInfo(other).ok());
}

TEST_CASE("one address cannot fill the sign-in challenge table, and its own devices still sign in",
          "[rate_limit]") {
  // The caller from another address is on [::1]; without IPv6 only that part is skipped.
  const bool v6_here = CanBindV6("::1");
  if (!v6_here) WARN(kNoIpv6);
  // A table of 12 challenges; the address 127.0.0.1 asks for 16. Without the cap (0: as before
  // it) it fills the table and a caller from another address cannot sign in.
  for (const char* cap : {"0", "3"}) {
    INFO("--challenges-per-address " << cap);
    TestServer server({"--listen", v6_here ? "[::]:0" : "127.0.0.1:0", "--max-challenges", "12",
                       "--challenges-per-address", cap},
                      TestServer::Log::kCapture);
    const std::string port = server.address().substr(server.address().rfind(':') + 1);
    Client v4("127.0.0.1:" + port);
    std::unique_ptr<Client> v6 = v6_here ? std::make_unique<Client>("[::1]:" + port) : nullptr;
    const std::vector<TestAccount> accounts = PublishedAccounts(v4, 4);
    std::vector<Asked> flood;
    AskChallenges(v4, accounts, 0, 4, flood);
    if (std::string(cap) == "0") {
      CHECK(Refused(flood) == 4);
      TestAccount honest = NewAccount();
      REQUIRE(Publish(v4, honest).ok());
      v1::ChallengeResponse ch;
      CHECK(GetChallenge(v4, honest.device_id, &ch).error_code() ==
            grpc::StatusCode::RESOURCE_EXHAUSTED);
      if (v6 != nullptr) {
        const grpc::Status locked_out = GetChallenge(*v6, honest.device_id, &ch);
        CHECK(locked_out.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
      }
      continue;
    }
    // Every call got a challenge, but 127.0.0.1 holds only its 3 newest.
    CHECK(Refused(flood) == 0);
    // A device from another address signs in.
    if (v6 != nullptr) MakeAccount(*v6);
    // So does one behind the capped address: its challenge retires that address's oldest.
    MakeAccount(v4);
    // The oldest the address held were retired: signing in with them is refused; with the
    // newest it works.
    const grpc::Status retired = SignInWith(v4, flood.front());
    CHECK(retired.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(retired.error_message() == "unknown or used challenge");
    CHECK(SignInWith(v4, flood.back()).ok());
    // Logged once (the log window is a minute), under the address, with nothing else.
    const std::vector<std::string> lines = EventLines(server, "challenges_capped");
    REQUIRE(lines.size() == 1);
    CHECK(IsCappedLine(lines[0], "127.0.0.1", 1));
    const std::string log = server.log();
    for (const Asked& a : flood) {
      CHECK(log.find(Hex(a.account->device_id)) == std::string::npos);
      CHECK(log.find(Hex(ToBytes(a.challenge.challenge()))) == std::string::npos);
    }
  }
}

// Hidden, as the test above: it needs 2001:db8:a:1::1 .. :5::1 (five /64s of one /56) and
// 2001:db8:b:1::1, 2001:db8:c:1::1, 2001:db8:d:1::1 (three more /48s), from netns_test.sh.
TEST_CASE("callers from a few IPv6 prefixes cannot lock a caller from another out of signing in",
          "[.][netns]") {
  if (!CanBindV6("2001:db8:d:1::1")) {
    FAIL("2001:db8:d:1::1 is not a local address: run this test through netns_test.sh");
  }
  // A table of 16 challenges. Seven /64s in three /48s ask for 56; without the cap (0: as
  // before it) they fill the table. With 2 per /64 (8 per /56, 32 per /48) they hold 12: the
  // /56 2001:db8:a::/56 its 8, the other two /64s 2 each.
  for (const char* cap : {"0", "2"}) {
    INFO("--challenges-per-address " << cap);
    TestServer server(
        {"--listen", "[::]:0", "--max-challenges", "16", "--challenges-per-address", cap},
        TestServer::Log::kCapture);
    const std::string port = server.address().substr(server.address().rfind(':') + 1);
    auto dial = [&](const std::string& host) {
      return std::make_unique<Client>("[" + host + "]:" + port);
    };
    std::vector<std::unique_ptr<Client>> attackers;
    for (int n = 1; n <= 5; ++n)
      attackers.push_back(dial("2001:db8:a:" + std::to_string(n) + "::1"));
    attackers.push_back(dial("2001:db8:b:1::1"));
    attackers.push_back(dial("2001:db8:c:1::1"));
    const std::unique_ptr<Client> honest = dial("2001:db8:d:1::1");
    const std::vector<TestAccount> accounts = PublishedAccounts(*honest, 2 * attackers.size());
    std::vector<Asked> flood;
    for (size_t n = 0; n < attackers.size(); ++n)
      AskChallenges(*attackers[n], accounts, 2 * n, 2, flood);
    if (std::string(cap) == "0") {
      CHECK(Refused(flood) == 56 - 16);
      TestAccount locked_out = NewAccount();
      REQUIRE(Publish(*honest, locked_out).ok());
      v1::ChallengeResponse ch;
      CHECK(GetChallenge(*honest, locked_out.device_id, &ch).error_code() ==
            grpc::StatusCode::RESOURCE_EXHAUSTED);
      continue;
    }
    CHECK(Refused(flood) == 0);
    // The honest caller from the fourth /48 signs in; so does one from the capped /56.
    MakeAccount(*honest);
    MakeAccount(*attackers[4]);
    // The fifth /64 of the /56, under its own cap, retired challenges of the others: logged
    // under the /56. No line names a whole address.
    const std::vector<std::string> lines = EventLines(server, "challenges_capped");
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
            return IsCappedLine(l, "2001:db8:a::/56", 1);
          }) == 1);
    for (const std::string& l : lines) CHECK(l.find("::1\"") == std::string::npos);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
            return IsCappedLine(l, "2001:db8:b:1::/64", 1);
          }) == 1);
  }
}

TEST_CASE(
    "calls without a session from one address are refused after the burst, and change "
    "nothing",
    "[rate_limit]") {
  // Refills one call per 100 s: none during the test.
  TestServer server({"--unauthenticated-rate", "0.01", "--unauthenticated-burst", "6"});
  Client c(server.address());
  TestAccount a = MakeAccount(c);  // PublishChain, GetChallenge, SignIn: 3 left
  v1::ChallengeResponse ch;
  REQUIRE(GetChallenge(c, a.device_id, &ch).ok());  // 2 left
  TestAccount b = NewAccount();
  REQUIRE(Publish(c, b).ok());     // 1 left
  REQUIRE(GetServerInfo(c).ok());  // none left

  // Every RPC that needs no session is refused now, before it looks at the request.
  v1::ChallengeResponse refused_ch;
  CheckLimited(GetChallenge(c, a.device_id, &refused_ch), a);
  CHECK(refused_ch.challenge().empty());
  v1::SignInResponse session;
  CheckLimited(c.account->SignIn(Ctx().get(), SignInRequestFor(a, ch), &session), a);
  CHECK(session.session_token().empty());
  TestAccount unpublished = NewAccount();
  CheckLimited(Publish(c, unpublished), a);
  CheckLimited(GetServerInfo(c), a);
  v1::GetChainRequest recovery;
  recovery.set_recovery_device_id(ToString(protocol::DeviceId(a.recovery.public_key)));
  recovery.set_challenge(std::string(32, 'x'));
  recovery.set_signature(std::string(crypto::kSignatureBytes, 'x'));
  v1::GetChainResponse chain;
  CheckLimited(c.account->GetChain(Ctx().get(), recovery, &chain), a);
  CHECK(chain.links_size() == 0);
  // Malformed requests too: the limit comes first.
  v1::PublishChainResponse published;
  CheckLimited(c.account->PublishChain(Ctx().get(), v1::PublishChainRequest(), &published), a);

  // Nothing the refused calls carried was stored: the refused chain is unknown, b's is there.
  v1::GetChainRequest gc;
  gc.set_account_id(ToString(unpublished.account_id));
  grpc::Status unknown = c.account->GetChain(Ctx(a.token).get(), gc, &chain);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  gc.set_account_id(ToString(b.account_id));
  REQUIRE(c.account->GetChain(Ctx(a.token).get(), gc, &chain).ok());
  CHECK(chain.links_size() == 1);

  // A signed-in device is not limited: many pushes and pulls, far beyond the burst.
  OpBuilder builder = CreateKeyedCase(c, a);
  for (int i = 0; i < 20; ++i) {
    v1::Envelope env = builder.Content(1);
    REQUIRE(Push(c, a.token, builder.case_id(), {env}).error_message() == "");
    builder.Accepted(env);
    v1::PullResponse pull;
    REQUIRE(Pull(c, a.token, builder.case_id(), 0, {}, &pull).ok());
  }
  CHECK(HeadSeq(c, a.token, builder.case_id()) == 22);
  v1::ListCasesResponse cases;
  CHECK(c.sync->ListCases(Ctx(a.token).get(), {}, &cases).ok());
  // ... and that did not refill the bucket.
  CheckLimited(GetChallenge(c, a.device_id, &refused_ch), a);
}

TEST_CASE(
    "once the bucket refills, calls without a session succeed again, and a refused sign-in "
    "left its challenge usable",
    "[rate_limit]") {
  // One call every 2 s after a burst of 3.
  TestServer server({"--unauthenticated-rate", "0.5", "--unauthenticated-burst", "3"});
  Client c(server.address());
  TestAccount a = NewAccount();
  REQUIRE(Publish(c, a).ok());
  v1::ChallengeResponse ch;
  REQUIRE(GetChallenge(c, a.device_id, &ch).ok());

  // Spend the bucket (bounded: a call refills a token in 2 s, so refusals come quickly).
  grpc::Status spent;
  for (int i = 0; i < 1000 && spent.ok(); ++i) spent = GetServerInfo(c);
  CheckLimited(spent, a);

  // Sign in with the challenge fetched before, until the limit lets the call through: the
  // refused attempts did not use the challenge up. Polled with a bound far above the 2 s refill.
  const v1::SignInRequest sreq = SignInRequestFor(a, ch);
  v1::SignInResponse session;
  grpc::Status signed_in = c.account->SignIn(Ctx().get(), sreq, &session);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (signed_in.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    signed_in = c.account->SignIn(Ctx().get(), sreq, &session);
  }
  REQUIRE(signed_in.error_message() == "");
  CHECK_FALSE(session.session_token().empty());
  v1::ListCasesResponse cases;
  CHECK(c.sync->ListCases(Ctx(session.session_token()).get(), {}, &cases).ok());
}

TEST_CASE("a caller on another address cannot retire a device's challenge by asking for its id",
          "[rate_limit]") {
  if (!CanBindV6("::1")) {
    WARN(kNoIpv6);
    return;
  }
  // Device ids are public (account chains). The victim on 127.0.0.1 gets a challenge; someone on
  // ::1 asks for 8 for the victim's device before the victim signs in.
  TestServer server({"--listen", "[::]:0"}, TestServer::Log::kCapture);
  const std::string port = server.address().substr(server.address().rfind(':') + 1);
  Client home("127.0.0.1:" + port);
  Client elsewhere("[::1]:" + port);
  const std::vector<TestAccount> victim = PublishedAccounts(home, 1);
  Asked mine{&victim[0], {}, {}};
  REQUIRE(GetChallenge(home, victim[0].device_id, &mine.challenge).ok());
  std::vector<Asked> theirs;
  AskChallenges(elsewhere, victim, 0, 1, theirs);
  AskChallenges(elsewhere, victim, 0, 1, theirs);
  CHECK(Refused(theirs) == 0);
  CHECK(SignInWith(home, mine).ok());
  // The caller elsewhere retired only its own: its oldest is gone, its newest works.
  CHECK(SignInWith(elsewhere, theirs.front()).error_message() == "unknown or used challenge");
  CHECK(SignInWith(elsewhere, theirs.back()).ok());
  CHECK(EventLines(server, "challenges_capped").empty());
}

TEST_CASE("kringd warns at start-up when the challenge cap is not above the burst",
          "[rate_limit]") {
  // A cap at or below the burst lets one burst of an office's sign-ins retire its own.
  {
    TestServer server({"--unauthenticated-rate", "20", "--challenges-per-address", "100"},
                      TestServer::Log::kCapture);
    const std::vector<std::string> lines = EventLines(server, "challenge_cap_not_above_burst");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("\"level\":\"warn\"") != std::string::npos);
    CHECK(lines[0].find("\"challenges_per_address\":100") != std::string::npos);
    CHECK(lines[0].find("\"unauthenticated_burst\":100") != std::string::npos);
  }
  // Not with the defaults, above the burst, without the cap, or without the rate limit (the
  // test harness turns it off).
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--unauthenticated-rate", "20"},
        {"--unauthenticated-rate", "20", "--challenges-per-address", "101"},
        {"--unauthenticated-rate", "20", "--challenges-per-address", "0"},
        {"--challenges-per-address", "10"}}) {
    TestServer server(args, TestServer::Log::kCapture);
    CHECK(EventLines(server, "challenge_cap_not_above_burst").empty());
  }
}

}  // namespace kring::test
