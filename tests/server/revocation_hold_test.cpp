// After a device is revoked, kringd holds content in the cases of its account until a Rekey
// names the device: raw pushes against a real kringd.
#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// The device revokes itself (any active device of the account may sign a RevokeDevice).
void RevokeSelf(Client& c, const TestAccount& a) {
  v1::LinkBody body;
  body.set_version(1);
  body.set_index(1);
  body.set_prev_link_hash(ToString(protocol::LinkHash(View(a.root.body()))));
  body.set_signer_device_id(ToString(a.device_id));
  body.mutable_revoke_device()->set_device_id(ToString(a.device_id));
  v1::PublishChainRequest pub;
  pub.set_account_id(ToString(a.account_id));
  v1::ChainLink* link = pub.add_links();
  link->set_body(body.SerializeAsString());
  link->set_signature(
      ToString(crypto::Sign(a.signing.secret_key, protocol::LinkSignInput(View(link->body())))));
  v1::PublishChainResponse published;
  REQUIRE(c.account->PublishChain(Ctx().get(), pub, &published).ok());
}

// The Rekey `env`, naming `devices` as revoked, signed again by its author.
v1::Envelope Naming(v1::Envelope env, const std::vector<Bytes>& devices,
                    const TestAccount& author) {
  v1::ControlBody body;
  REQUIRE(body.ParseFromString(env.control_body()));
  for (const Bytes& d : devices) body.mutable_rekey()->add_revoked_devices(ToString(d));
  env.set_control_body(body.SerializeAsString());
  Resign(env, author);
  return env;
}

bool Held(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         s.error_message().find(protocol::kHeldForRevokedDevice) != std::string::npos;
}

}  // namespace

TEST_CASE("kringd holds content after a revocation until a Rekey names the device", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount outsider = MakeAccount(c);
  const Bytes case_id = crypto::RandomBytes(16);
  OpBuilder ops(chair, case_id);
  auto create =
      ops.CreateCase({{chair.account_id, v1::ROLE_CHAIR}, {member.account_id, v1::ROLE_MEMBER}});
  ops.Accepted(create);
  auto first = ops.Rekey(1, {chair.account_id, member.account_id});
  REQUIRE(Push(c, chair.token, case_id, {create, first}).ok());
  ops.Accepted(first);
  const Bytes other_case = crypto::RandomBytes(16);
  OpBuilder other_ops(chair, other_case);
  auto other_create = other_ops.CreateCase({{chair.account_id, v1::ROLE_CHAIR}});
  other_ops.Accepted(other_create);
  auto other_first = other_ops.Rekey(1, {chair.account_id});
  REQUIRE(Push(c, chair.token, other_case, {other_create, other_first}).ok());
  other_ops.Accepted(other_first);

  // An account in no case revokes its device: nothing is held.
  RevokeSelf(c, outsider);
  auto before = ops.Content(1);
  REQUIRE(Push(c, chair.token, case_id, {before}).ok());
  ops.Accepted(before);

  // The member's device is revoked: content sealed to the old key is refused, nothing stored.
  RevokeSelf(c, member);
  const uint64_t head = HeadSeq(c, chair.token, case_id);
  CHECK(Held(Push(c, chair.token, case_id, {ops.Content(1)})));
  CHECK(HeadSeq(c, chair.token, case_id) == head);
  // A case the member is not in goes on.
  auto elsewhere = other_ops.Content(1);
  CHECK(Push(c, chair.token, other_case, {elsewhere}).ok());

  // A Rekey may name only revoked devices of the author's account or of a member.
  CHECK(
      Push(c, chair.token, case_id,
           {Naming(ops.Rekey(2, {chair.account_id, member.account_id}), {chair.device_id}, chair)})
          .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Push(c, chair.token, case_id,
             {Naming(ops.Rekey(2, {chair.account_id, member.account_id}), {outsider.device_id},
                     chair)})
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);

  // A new key that does not name the device leaves the hold in place.
  auto plain = ops.Rekey(2, {chair.account_id, member.account_id});
  REQUIRE(Push(c, chair.token, case_id, {plain}).ok());
  ops.Accepted(plain);
  CHECK(Held(Push(c, chair.token, case_id, {ops.Content(2)})));

  // The Rekey naming it releases the hold; content under the new key is taken again.
  auto naming =
      Naming(ops.Rekey(3, {chair.account_id, member.account_id}), {member.device_id}, chair);
  REQUIRE(Push(c, chair.token, case_id, {naming}).ok());
  ops.Accepted(naming);
  auto after = ops.Content(3);
  CHECK(Push(c, chair.token, case_id, {after}).ok());
  CHECK(HeadSeq(c, chair.token, case_id) == head + 3);
}

}  // namespace kring::test
