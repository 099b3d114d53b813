// Pull is a raw gRPC method (kringd parses the request and writes the page itself): what it
// answers, through gRPC, to bytes that are no PullRequest and to a stored envelope that is
// corrupt.
#include <future>
#include <string>

#include <catch2/catch.hpp>
#include <grpcpp/generic/generic_stub.h>

#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// Pull with `body` as the request bytes, as is.
grpc::Status RawPull(Client& c, const std::string& token, const std::string& body) {
  grpc::GenericStub stub(c.channel);
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  auto ctx = Ctx(token);
  stub.UnaryCall(ctx.get(), "/kring.v1.SyncService/Pull", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

}  // namespace

TEST_CASE("a raw Pull refuses bytes that are no PullRequest", "[pull]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);

  v1::PullRequest req;
  req.set_case_id(ToString(b.case_id()));
  REQUIRE(RawPull(c, chair.token, req.SerializeAsString()).ok());

  // A truncated length-delimited field, and a lone end-group: unreadable, before the session.
  for (const std::string& junk : {std::string("\x0a\x10\x01", 3), std::string("\x0c", 1)}) {
    grpc::Status s = RawPull(c, chair.token, junk);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "unreadable PullRequest");
    CHECK(RawPull(c, {}, junk).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Empty: a PullRequest without a case_id.
  grpc::Status empty = RawPull(c, chair.token, {});
  CHECK(empty.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(empty.error_message() == "case_id must be 16 bytes");

  // A readable PullRequest over the bound (an unknown field pads it) is refused unparsed; one at
  // the bound is served.
  const size_t base = req.ByteSizeLong() + 3;  // the padding field's 1-byte tag, 2-byte length
  v1::PullRequest at_bound = req;
  at_bound.GetReflection()->MutableUnknownFields(&at_bound)->AddLengthDelimited(
      15, std::string(protocol::kMaxPullRequestBytes - base + 1, 'x'));
  REQUIRE(at_bound.ByteSizeLong() == protocol::kMaxPullRequestBytes + 1);
  grpc::Status large = RawPull(c, chair.token, at_bound.SerializeAsString());
  CHECK(large.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(large.error_message() == "PullRequest too large");
  at_bound = req;
  at_bound.GetReflection()->MutableUnknownFields(&at_bound)->AddLengthDelimited(
      15, std::string(protocol::kMaxPullRequestBytes - base, 'x'));
  REQUIRE(at_bound.ByteSizeLong() == protocol::kMaxPullRequestBytes);
  CHECK(RawPull(c, chair.token, at_bound.SerializeAsString()).ok());
}

TEST_CASE("a corrupt stored envelope fails its page but not the ones before", "[pull]") {
  TestServer server;
  Bytes case_id;
  TestAccount chair;
  {
    Client c(server.address());
    chair = MakeAccount(c);
    OpBuilder b = CreateKeyedCase(c, chair);
    case_id = b.case_id();
    v1::Envelope env = b.Content(1);
    REQUIRE(Push(c, chair.token, case_id, {env}).ok());
    REQUIRE(HeadSeq(c, chair.token, case_id) == 3);
  }
  REQUIRE(server.Stop() == 0);
  {
    auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    // 0xff starts a varint that never ends: no Envelope.
    REQUIRE(db->Exec("UPDATE ops SET envelope = X'ff' WHERE seq = 3").ok());
  }
  server.Restart();
  Client c(server.address());
  REQUIRE(SignIn(c, chair).ok());
  v1::PullResponse page;
  REQUIRE(Pull(c, chair.token, case_id, 0, {}, &page, 2).ok());
  CHECK(page.entries_size() == 2);
  // DATA_LOSS inside kringd; on the wire INTERNAL "internal error" (docs/protocol.md section 13).
  grpc::Status s = Pull(c, chair.token, case_id, 2, page.entries(1).chain_hash(), &page);
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(s.error_message() == "internal error");
}

}  // namespace kring::test
