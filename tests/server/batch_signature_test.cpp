// Batch signatures (docs/protocol.md "Batch signatures"): kringd takes a push's unsigned content
// ops only together with a later signed op that their hash links lead to, stores all of such a
// push or nothing, and never ends a pull page inside an unsigned run.
#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// `n` content ops continuing the builder's chain; only the last is signed.
std::vector<v1::Envelope> Run(OpBuilder& b, int n) {
  std::vector<v1::Envelope> run;
  for (int i = 0; i < n; ++i) {
    v1::Envelope env = b.Content(1);
    if (i + 1 < n) env.clear_signature();
    b.Accepted(env);
    run.push_back(std::move(env));
  }
  return run;
}

}  // namespace

TEST_CASE("a run of unsigned ops ending on a signed op is stored and paged whole", "[batchsig]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});  // seq 1 and 2, both signed

  v1::PushResponse pushed;
  REQUIRE(Push(c, chair.token, b.case_id(), Run(b, 50), &pushed).error_message() == "");
  REQUIRE(pushed.results_size() == 50);
  CHECK(pushed.results(49).seq() == 52);

  // A page limit that ends inside the run: kringd serves up to the run's signed last op.
  v1::PullResponse page;
  REQUIRE(Pull(c, member.token, b.case_id(), 0, {}, &page, 10).ok());
  REQUIRE(page.entries_size() == 52);
  CHECK(page.entries(0).envelope().signature().size() == crypto::kSignatureBytes);
  CHECK(page.entries(2).envelope().signature().empty());
  CHECK(page.entries(51).envelope().signature().size() == crypto::kSignatureBytes);
  Bytes prev;
  for (const v1::LogEntry& e : page.entries()) {
    prev = protocol::ChainHash(prev, e.seq(), protocol::EnvelopeHash(e.envelope()));
    CHECK(ToBytes(e.chain_hash()) == prev);
  }
  // From inside the run (a cursor an honest reader never has, but a valid one): to its end.
  const std::string at20 = page.entries(19).chain_hash();
  REQUIRE(Pull(c, member.token, b.case_id(), 20, at20, &page, 1).ok());
  CHECK(page.entries_size() == 32);
  // A limit that ends exactly on a signed op is not extended.
  REQUIRE(Pull(c, member.token, b.case_id(), 0, {}, &page, 2).ok());
  CHECK(page.entries_size() == 2);
}

TEST_CASE("a push whose last op is unsigned is refused and stores nothing", "[batchsig]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  const uint64_t head = HeadSeq(c, chair.token, b.case_id());
  std::vector<v1::Envelope> run = Run(b, 3);
  run.back().clear_signature();
  grpc::Status s = Push(c, chair.token, b.case_id(), run);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("envelope 0") != std::string::npos);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);
}

TEST_CASE("an unsigned op whose signed successor does not link to it stores nothing",
          "[batchsig]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  const uint64_t head = HeadSeq(c, chair.token, b.case_id());
  // The signed op links to the signed form of the first op; the first is sent unsigned.
  v1::Envelope first = b.Content(1);
  b.Accepted(first);
  first.clear_signature();
  v1::Envelope second = b.Content(1);
  grpc::Status s = Push(c, chair.token, b.case_id(), {first, second});
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);

  // Nor does a signed successor whose signature is wrong cover the unsigned op.
  OpBuilder again(chair, b.case_id());
  std::vector<v1::Envelope> run;
  {
    v1::PullResponse all;
    REQUIRE(Pull(c, chair.token, b.case_id(), 0, {}, &all).ok());
    for (const v1::LogEntry& e : all.entries()) again.Accepted(e.envelope());
  }
  run = Run(again, 2);
  std::string sig = run.back().signature();
  sig[3] = static_cast<char>(sig[3] ^ 1);
  run.back().set_signature(sig);
  s = Push(c, chair.token, b.case_id(), run);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);
}

TEST_CASE("an unsigned control op is refused", "[batchsig]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  const uint64_t head = HeadSeq(c, chair.token, b.case_id());
  v1::Envelope rekey = b.Rekey(2, {chair.account_id, member.account_id});
  rekey.clear_signature();
  b.Accepted(rekey);
  v1::Envelope content = b.Content(2);
  grpc::Status s = Push(c, chair.token, b.case_id(), {rekey, content});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);
}

TEST_CASE("a run already stored is answered as duplicates when resent with the next run",
          "[batchsig]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  std::vector<v1::Envelope> first = Run(b, 5);
  REQUIRE(Push(c, chair.token, b.case_id(), first).ok());  // its response "lost"
  std::vector<v1::Envelope> both = first;
  for (v1::Envelope& env : Run(b, 4)) both.push_back(std::move(env));
  v1::PushResponse resp;
  REQUIRE(Push(c, chair.token, b.case_id(), both, &resp).error_message() == "");
  REQUIRE(resp.results_size() == 9);
  for (int i = 0; i < 9; ++i) CHECK(resp.results(i).duplicate() == (i < 5));
  CHECK(resp.results(8).seq() == 11);
  // The resent first run alone, unsigned ops included, is still all duplicates.
  REQUIRE(Push(c, chair.token, b.case_id(), first, &resp).ok());
  CHECK(resp.results(0).duplicate());
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 11);
}

}  // namespace kring::test
