// SetRole against a real kringd: who may change a role, to what, and that the new role counts at
// once (also for the next op of the same push, and after pushes whose roles the writer's case
// cache kept).
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

v1::ControlBody SetRoleBody(const Bytes& account_id, v1::Role role) {
  v1::ControlBody body;
  body.mutable_set_role()->set_account_id(ToString(account_id));
  body.mutable_set_role()->set_role(role);
  return body;
}

// An Invite only a chair or coordinator may write.
v1::ControlBody InviteBody() {
  const crypto::SigningKeyPair invite_key = crypto::NewSigningKeyPair();
  v1::ControlBody body;
  v1::Invite* inv = body.mutable_invite();
  inv->set_signing_public_key(ToString(invite_key.public_key));
  inv->set_invite_id(ToString(protocol::InviteId(invite_key.public_key)));
  inv->set_role(v1::ROLE_MEMBER);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  inv->set_expires_at_ms(now_ms + int64_t{3600} * 1000);
  return body;
}

// Pushes one control op of `who`; on success the builder moves on.
grpc::Status PushControl(Client& c, const TestAccount& who, OpBuilder& ops, v1::OpKind kind,
                         const v1::ControlBody& body, uint32_t scope = 0) {
  v1::Envelope e = ops.Control(kind, scope, 1, body);
  grpc::Status s = Push(c, who.token, ops.case_id(), {e});
  if (s.ok()) ops.Accepted(e);
  return s;
}

grpc::Status SetRole(Client& c, const TestAccount& who, OpBuilder& ops, const Bytes& target,
                     v1::Role role) {
  return PushControl(c, who, ops, v1::OP_KIND_SET_ROLE, SetRoleBody(target, role));
}

}  // namespace

TEST_CASE("the chair makes a member coordinator, who may then invite, and back", "[setrole]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  OpBuilder member_ops(member, ops.case_id());
  // A content push first: the writer's case cache now holds the member's role.
  v1::Envelope content = member_ops.Content(1);
  REQUIRE(Push(c, member.token, ops.case_id(), {content}).ok());
  member_ops.Accepted(content);

  grpc::Status before = PushControl(c, member, member_ops, v1::OP_KIND_INVITE, InviteBody());
  CHECK(before.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(before) == refusal::kManagersOnly);

  REQUIRE(SetRole(c, chair, ops, member.account_id, v1::ROLE_COORDINATOR).error_message() == "");
  CHECK(PushControl(c, member, member_ops, v1::OP_KIND_INVITE, InviteBody()).error_message() == "");
  // The same role again changes nothing and is said so.
  grpc::Status same = SetRole(c, chair, ops, member.account_id, v1::ROLE_COORDINATOR);
  CHECK(same.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(RefusalReason(same) == refusal::kRoleUnchanged);

  REQUIRE(SetRole(c, chair, ops, member.account_id, v1::ROLE_MEMBER).error_message() == "");
  grpc::Status after = PushControl(c, member, member_ops, v1::OP_KIND_INVITE, InviteBody());
  CHECK(after.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(after) == refusal::kManagersOnly);
  // No Rekey came with the changes: content under epoch 1 still goes in.
  v1::Envelope later = member_ops.Content(1);
  CHECK(Push(c, member.token, ops.case_id(), {later}).error_message() == "");
}

TEST_CASE("kringd refuses role changes that break the rules and stores nothing", "[setrole]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount coordinator = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount outsider = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&coordinator, &member});
  OpBuilder coordinator_ops(coordinator, ops.case_id());
  OpBuilder member_ops(member, ops.case_id());
  REQUIRE(SetRole(c, chair, ops, coordinator.account_id, v1::ROLE_COORDINATOR).ok());
  const uint64_t head = HeadSeq(c, chair.token, ops.case_id());

  struct Refused {
    const char* what;
    grpc::Status status;
    grpc::StatusCode code;
    std::string_view reason;
  };
  const std::vector<Refused> refused = {
      {"a plain member", SetRole(c, member, member_ops, coordinator.account_id, v1::ROLE_MEMBER),
       grpc::StatusCode::PERMISSION_DENIED, refusal::kManagersOnly},
      {"nobody becomes chair", SetRole(c, chair, ops, member.account_id, v1::ROLE_CHAIR),
       grpc::StatusCode::INVALID_ARGUMENT, refusal::kRoleNotAssignable},
      {"no role", SetRole(c, chair, ops, member.account_id, v1::ROLE_UNSPECIFIED),
       grpc::StatusCode::INVALID_ARGUMENT, refusal::kRoleNotAssignable},
      {"the chair's own role", SetRole(c, chair, ops, chair.account_id, v1::ROLE_COORDINATOR),
       grpc::StatusCode::PERMISSION_DENIED, refusal::kChairKeepsRole},
      {"a coordinator about the chair",
       SetRole(c, coordinator, coordinator_ops, chair.account_id, v1::ROLE_MEMBER),
       grpc::StatusCode::PERMISSION_DENIED, refusal::kChairKeepsRole},
      {"someone outside the case", SetRole(c, chair, ops, outsider.account_id, v1::ROLE_MEMBER),
       grpc::StatusCode::NOT_FOUND, refusal::kTargetNotMember},
      {"a coordinator once the chair joined",
       SetRole(c, coordinator, coordinator_ops, member.account_id, v1::ROLE_COORDINATOR),
       grpc::StatusCode::PERMISSION_DENIED, refusal::kChairDecidesRoles},
  };
  for (const Refused& r : refused) {
    INFO(r.what);
    CHECK(r.status.error_code() == r.code);
    CHECK(RefusalReason(r.status) == r.reason);
  }
  // Malformed: another scope than 0, an account id that is not 16 bytes.
  CHECK(PushControl(c, chair, ops, v1::OP_KIND_SET_ROLE,
                    SetRoleBody(member.account_id, v1::ROLE_COORDINATOR), 7)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(PushControl(c, chair, ops, v1::OP_KIND_SET_ROLE,
                    SetRoleBody(Bytes(15, 1), v1::ROLE_COORDINATOR))
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(HeadSeq(c, chair.token, ops.case_id()) == head);

  // A coordinator may always step back to member (the chair remains to hand out keys); the
  // next op of the same push already counts with the new role.
  v1::Envelope step_back = coordinator_ops.Control(
      v1::OP_KIND_SET_ROLE, 0, 1, SetRoleBody(coordinator.account_id, v1::ROLE_MEMBER));
  coordinator_ops.Accepted(step_back);
  v1::Envelope invite = coordinator_ops.Control(v1::OP_KIND_INVITE, 0, 1, InviteBody());
  grpc::Status both = Push(c, coordinator.token, ops.case_id(), {step_back, invite});
  CHECK(both.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(both) == refusal::kManagersOnly);
  CHECK(HeadSeq(c, chair.token, ops.case_id()) == head);
  CHECK(Push(c, coordinator.token, ops.case_id(), {step_back}).error_message() == "");
}

TEST_CASE(
    "before the resident joins a coordinator changes roles while one who hands out keys "
    "remains",
    "[setrole]") {
  TestServer server;
  Client c(server.address());
  TestAccount first = MakeAccount(c);
  TestAccount second = MakeAccount(c);
  OpBuilder ops(first, crypto::RandomBytes(16));
  v1::Envelope create = ops.CreateCase(
      {{first.account_id, v1::ROLE_COORDINATOR}, {second.account_id, v1::ROLE_MEMBER}});
  ops.Accepted(create);
  v1::Envelope rekey = ops.Rekey(1, {first.account_id, second.account_id});
  ops.Accepted(rekey);
  REQUIRE(Push(c, first.token, ops.case_id(), {create, rekey}).error_message() == "");
  OpBuilder second_ops(second, ops.case_id());

  grpc::Status last = SetRole(c, first, ops, first.account_id, v1::ROLE_MEMBER);
  CHECK(last.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(last) == refusal::kKeyHolderMustRemain);

  REQUIRE(SetRole(c, first, ops, second.account_id, v1::ROLE_COORDINATOR).error_message() == "");
  // The new coordinator (no chair yet) may change the first one's role.
  REQUIRE(SetRole(c, second, second_ops, first.account_id, v1::ROLE_MEMBER).error_message() == "");
  grpc::Status alone = SetRole(c, second, second_ops, second.account_id, v1::ROLE_MEMBER);
  CHECK(alone.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(alone) == refusal::kKeyHolderMustRemain);
}

TEST_CASE("a role change waits for the key after a leave and ends with the case", "[setrole]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount leaver = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &leaver});
  OpBuilder leaver_ops(leaver, ops.case_id());
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(leaver.account_id));
  REQUIRE(PushControl(c, leaver, leaver_ops, v1::OP_KIND_REMOVE_MEMBER, leave).ok());

  grpc::Status waiting = SetRole(c, chair, ops, member.account_id, v1::ROLE_COORDINATOR);
  CHECK(waiting.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(RefusalReason(waiting) == refusal::kRekeyPending);
  v1::Envelope rekey = ops.Rekey(2, {chair.account_id, member.account_id});
  REQUIRE(Push(c, chair.token, ops.case_id(), {rekey}).error_message() == "");
  ops.Accepted(rekey);
  REQUIRE(SetRole(c, chair, ops, member.account_id, v1::ROLE_COORDINATOR).error_message() == "");

  v1::ControlBody close;
  close.mutable_close_case()->set_retention_days(30);
  v1::Envelope closing = ops.Control(v1::OP_KIND_CLOSE_CASE, 0, 2, close);
  REQUIRE(Push(c, chair.token, ops.case_id(), {closing}).error_message() == "");
  ops.Accepted(closing);
  grpc::Status closed = SetRole(c, chair, ops, member.account_id, v1::ROLE_MEMBER);
  CHECK(closed.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(RefusalReason(closed) == refusal::kCaseClosed);
}

}  // namespace kring::test
