// kringd refuses client messages with unknown fields where it stores and serves them again: an
// envelope's or a chain link's unknown fields are not signed, and kringd would serve them one
// message deeper than it parsed them, so nested groups it could still read could make every
// reader's parse fail for good (case_log.cpp PrepareEnvelopes, account_service.cpp).
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/unknown_field_set.h>

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

google::protobuf::UnknownFieldSet& UnknownOf(google::protobuf::Message& m) {
  return *m.GetReflection()->MutableUnknownFields(&m);
}

}  // namespace

TEST_CASE("a push with unknown envelope fields is refused and nothing is stored", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  const uint64_t head = HeadSeq(c, chair.token, b.case_id());

  // 99 nested groups: the push (PushRequest -> Envelope -> groups) stays within protobuf's
  // recursion limit of 100 at kringd, a pull of it (PullResponse -> LogEntry -> Envelope ->
  // groups) would not at the member.
  v1::Envelope deep = b.Content(1);
  google::protobuf::UnknownFieldSet* group = &UnknownOf(deep);
  for (int i = 0; i < 99; ++i) group = group->AddGroup(15);
  grpc::Status s = Push(c, chair.token, b.case_id(), {deep});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "envelope 0: envelope has unknown fields");

  // One unknown varint is refused as well.
  v1::Envelope clean = b.Content(1);
  v1::Envelope one = clean;
  UnknownOf(one).AddVarint(99, 1);
  s = Push(c, chair.token, b.case_id(), {one});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "envelope 0: envelope has unknown fields");
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);
  CHECK(HeadSeq(c, member.token, b.case_id()) == head);

  // The same envelope without them is stored, and the member reads the whole log.
  v1::PushResponse pushed;
  REQUIRE(Push(c, chair.token, b.case_id(), {clean}, &pushed).error_message() == "");
  b.Accepted(clean);
  CHECK(pushed.results(0).seq() == head + 1);
  v1::PullResponse pull;
  REQUIRE(Pull(c, member.token, b.case_id(), 0, {}, &pull).ok());
  CHECK(pull.entries_size() == static_cast<int>(head + 1));
  CHECK(pull.entries(pull.entries_size() - 1).envelope().SerializeAsString() ==
        clean.SerializeAsString());
}

TEST_CASE("a chain link with unknown fields is refused", "[account]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = NewAccount();
  UnknownOf(a.root).AddLengthDelimited(42, "x");
  grpc::Status s = Publish(c, a);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "link has unknown fields");
  UnknownOf(a.root).Clear();
  REQUIRE(Publish(c, a).error_message() == "");
  REQUIRE(SignIn(c, a).ok());
}

}  // namespace kring::test
