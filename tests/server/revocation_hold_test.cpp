// After a device is revoked, kringd holds content in the cases of its account until a Rekey
// names the device: raw pushes against a real kringd.
#include <functional>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

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

// Publishes links after `a`'s Root, signed by its first device; `fill` makes link `index`'s
// kind. Returns the new device's keys when a link adds one (it countersigns).
struct ChainWriter {
  Client& c;
  const TestAccount& a;
  uint64_t next = 1;
  Bytes prev;

  ChainWriter(Client& client, const TestAccount& account)
      : c(client), a(account), prev(protocol::LinkHash(View(account.root.body()))) {}

  // One publish of the links `fills` make, in order.
  void Publish(const std::vector<std::function<void(v1::LinkBody&)>>& fills,
               const crypto::SigningKeyPair* countersigner = nullptr) {
    v1::PublishChainRequest pub;
    pub.set_account_id(ToString(a.account_id));
    for (const auto& fill : fills) {
      v1::LinkBody body;
      body.set_version(1);
      body.set_index(next++);
      body.set_prev_link_hash(ToString(prev));
      body.set_signer_device_id(ToString(a.device_id));
      body.set_created_at_ms(1);
      fill(body);
      v1::ChainLink* link = pub.add_links();
      link->set_body(body.SerializeAsString());
      const Bytes input = protocol::LinkSignInput(View(link->body()));
      link->set_signature(ToString(crypto::Sign(a.signing.secret_key, input)));
      if (body.has_add_device() && countersigner != nullptr) {
        link->set_new_device_signature(ToString(crypto::Sign(countersigner->secret_key, input)));
      }
      prev = protocol::LinkHash(View(link->body()));
    }
    v1::PublishChainResponse published;
    last = c.account->PublishChain(Ctx().get(), pub, &published);
    if (must_succeed) REQUIRE(last.error_message() == "");
  }

  bool must_succeed = true;
  grpc::Status last;  // of the last publish
};

// A second device of `a` (signed by its first device): its id and keys.
struct SecondDevice {
  crypto::SigningKeyPair signing = crypto::NewSigningKeyPair();
  crypto::BoxKeyPair box = crypto::NewBoxKeyPair();
  Bytes id = protocol::DeviceId(signing.public_key);
};

std::function<void(v1::LinkBody&)> AddDevice(const SecondDevice& d) {
  return [&d](v1::LinkBody& body) {
    v1::AddDeviceLink* add = body.mutable_add_device();
    add->mutable_device()->set_signing_public_key(ToString(d.signing.public_key));
    add->mutable_device()->set_box_public_key(ToString(d.box.public_key));
    v1::SealedSeed* seed = add->add_sealed_seeds();
    seed->set_recipient_id(ToString(d.id));
    seed->set_sealed(ToString(crypto::Seal(d.box.public_key, crypto::RandomSecret(32))));
  };
}

std::function<void(v1::LinkBody&)> RevokeDevice(const Bytes& device_id) {
  return [device_id](v1::LinkBody& body) {
    body.mutable_revoke_device()->set_device_id(ToString(device_id));
  };
}

// A new user key generation (OpBuilder boxes the account's keys to it from then on).
std::function<void(v1::LinkBody&)> RotateUserKey(const TestAccount& a, uint32_t generation) {
  return [&a, generation](v1::LinkBody& body) {
    FillRotateUserKey(body, a, generation);
    RecordUserKeyGeneration(a.account_id, generation);
  };
}

// A second device of the account (signed by its first), then revoked again by the first: the
// account keeps a working device and has a revoked one.
Bytes AddAndRevokeSecondDevice(Client& c, const TestAccount& a) {
  SecondDevice second;
  ChainWriter chain(c, a);
  chain.Publish({AddDevice(second), RevokeDevice(second.id),
                 RotateUserKey(a, UserKeyGenerationOf(a.account_id) + 1)},
                &second.signing);
  return second.id;
}

// The Rekey `env` with `account`'s key box sealed to user key `generation`, signed again.
v1::Envelope BoxedTo(v1::Envelope env, const Bytes& account, uint32_t generation,
                     const TestAccount& author) {
  v1::ControlBody body;
  REQUIRE(body.ParseFromString(env.control_body()));
  for (v1::KeyBox& box : *body.mutable_rekey()->mutable_boxes()) {
    if (box.account_id() == ToString(account)) box.set_user_key_generation(generation);
  }
  env.set_control_body(body.SerializeAsString());
  Resign(env, author);
  return env;
}

// A restricted scope `scope` with these members, made by `ops`'s author (its first key, epoch 1).
std::vector<v1::Envelope> NewScope(OpBuilder& ops, uint64_t epoch0, uint32_t scope,
                                   const std::vector<Bytes>& members) {
  v1::ControlBody body;
  body.mutable_set_scope()->set_scope_id(scope);
  body.mutable_set_scope()->set_create(true);
  for (const Bytes& m : members) body.mutable_set_scope()->add_members(ToString(m));
  std::vector<v1::Envelope> out;
  out.push_back(ops.Control(v1::OP_KIND_SET_SCOPE, 0, epoch0, body));
  ops.Accepted(out.back());
  out.push_back(ops.ScopeRekey(scope, 1, members));
  ops.Accepted(out.back());
  return out;
}

v1::Envelope ScopeContent(OpBuilder& ops, uint32_t scope, uint64_t epoch) {
  return ops.Content(epoch, [&](v1::OpHeader& h) { h.set_scope_id(scope); });
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

TEST_CASE("kringd holds a revoked device's restricted scopes until a Rekey of each names it",
          "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount other = MakeAccount(c);
  const std::vector<Bytes> all = {chair.account_id, member.account_id, other.account_id};
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &other});
  const Bytes& case_id = ops.case_id();
  REQUIRE(Push(c, chair.token, case_id, NewScope(ops, 1, 7, {chair.account_id, member.account_id}))
              .ok());
  REQUIRE(Push(c, chair.token, case_id, NewScope(ops, 1, 8, {chair.account_id, other.account_id}))
              .ok());

  RevokeSelf(c, member);
  // Scope 0 and the member's scope wait; the scope without the member goes on.
  CHECK(Held(Push(c, chair.token, case_id, {ScopeContent(ops, 7, 1)})));
  CHECK(Held(Push(c, chair.token, case_id, {ops.Content(1)})));
  auto elsewhere = ScopeContent(ops, 8, 1);
  REQUIRE(Push(c, chair.token, case_id, {elsewhere}).ok());
  ops.Accepted(elsewhere);

  // Naming the device in scope 0 releases scope 0 only.
  auto whole = Naming(ops.Rekey(2, all), {member.device_id}, chair);
  REQUIRE(Push(c, chair.token, case_id, {whole}).ok());
  ops.Accepted(whole);
  auto in_case = ops.Content(2);
  REQUIRE(Push(c, chair.token, case_id, {in_case}).ok());
  ops.Accepted(in_case);
  CHECK(Held(Push(c, chair.token, case_id, {ScopeContent(ops, 7, 1)})));

  // Naming it in the scope releases the scope.
  auto scoped = Naming(ops.ScopeRekey(7, 2, {chair.account_id, member.account_id}),
                       {member.device_id}, chair);
  REQUIRE(Push(c, chair.token, case_id, {scoped}).ok());
  ops.Accepted(scoped);
  CHECK(Push(c, chair.token, case_id, {ScopeContent(ops, 7, 2)}).ok());
}

TEST_CASE("a Rekey that gives the revoked device's account no key releases its hold", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount other = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &other});
  const Bytes& case_id = ops.case_id();
  REQUIRE(Push(c, chair.token, case_id, NewScope(ops, 1, 7, {chair.account_id, member.account_id}))
              .ok());
  REQUIRE(Push(c, chair.token, case_id,
               NewScope(ops, 1, 8, {chair.account_id, member.account_id, other.account_id}))
              .ok());
  RevokeSelf(c, member);

  // Scope 7 is narrowed to the chair alone: its Rekey gives the member no key.
  v1::ControlBody narrow;
  narrow.mutable_set_scope()->set_scope_id(7);
  narrow.mutable_set_scope()->add_members(ToString(chair.account_id));
  auto set = ops.Control(v1::OP_KIND_SET_SCOPE, 0, 1, narrow);
  ops.Accepted(set);
  auto set_rekey = ops.ScopeRekey(7, 2, {chair.account_id});
  ops.Accepted(set_rekey);
  REQUIRE(Push(c, chair.token, case_id, {set, set_rekey}).ok());
  auto in_scope = ScopeContent(ops, 7, 2);
  REQUIRE(Push(c, chair.token, case_id, {in_scope}).ok());
  ops.Accepted(in_scope);
  CHECK(Held(Push(c, chair.token, case_id, {ScopeContent(ops, 8, 1)})));

  // The member is removed: the case's Rekey and the other scope's give it no key.
  v1::ControlBody remove;
  remove.mutable_remove_member()->set_account_id(ToString(member.account_id));
  auto removal = ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, remove);
  ops.Accepted(removal);
  auto removal_rekey = ops.Rekey(2, {chair.account_id, other.account_id});
  ops.Accepted(removal_rekey);
  auto scope_rekey = ops.ScopeRekey(8, 2, {chair.account_id, other.account_id});
  ops.Accepted(scope_rekey);
  REQUIRE(Push(c, chair.token, case_id, {removal, removal_rekey, scope_rekey}).ok());
  auto after = ops.Content(2);
  REQUIRE(Push(c, chair.token, case_id, {after}).ok());
  ops.Accepted(after);
  CHECK(Push(c, chair.token, case_id, {ScopeContent(ops, 8, 2)}).ok());
}

TEST_CASE("the case's Rekey after a revoked device's account left releases its hold", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount leaver = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&leaver});
  const Bytes& case_id = ops.case_id();
  OpBuilder leaver_ops(leaver, case_id);
  // The leaver's second device is revoked (the first stays active) and the leaver leaves.
  AddAndRevokeSecondDevice(c, leaver);
  CHECK(Held(Push(c, chair.token, case_id, {ops.Content(1)})));
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(leaver.account_id));
  REQUIRE(
      Push(c, leaver.token, case_id, {leaver_ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, leave)})
          .ok());
  // The chair's new key goes to nobody who holds the revoked device's keys: the hold ends.
  auto rekey = ops.Rekey(2, {chair.account_id});
  REQUIRE(Push(c, chair.token, case_id, {rekey}).ok());
  ops.Accepted(rekey);
  CHECK(Push(c, chair.token, case_id, {ops.Content(2)}).ok());
}

TEST_CASE("a plain member names another member's revoked device once, and not before a leave's key",
          "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount plain = MakeAccount(c);
  TestAccount leaver = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &plain, &leaver});
  const Bytes& case_id = ops.case_id();
  OpBuilder plain_ops(plain, case_id);
  OpBuilder leaver_ops(leaver, case_id);
  RevokeSelf(c, member);
  // Someone leaves: the case waits for the chair's or a coordinator's new key.
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(leaver.account_id));
  REQUIRE(
      Push(c, leaver.token, case_id, {leaver_ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, leave)})
          .ok());
  const std::vector<Bytes> rest = {chair.account_id, member.account_id, plain.account_id};
  CHECK(Push(c, plain.token, case_id, {Naming(plain_ops.Rekey(2, rest), {member.device_id}, plain)})
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);

  auto chairs = ops.Rekey(2, rest);
  REQUIRE(Push(c, chair.token, case_id, {chairs}).ok());
  ops.Accepted(chairs);
  // Now the plain member may name the device; the content waits until then.
  CHECK(Held(Push(c, plain.token, case_id, {plain_ops.Content(2)})));
  auto named = Naming(plain_ops.Rekey(3, rest), {member.device_id}, plain);
  REQUIRE(Push(c, plain.token, case_id, {named}).ok());
  plain_ops.Accepted(named);
  auto content = plain_ops.Content(3);
  REQUIRE(Push(c, plain.token, case_id, {content}).ok());
  plain_ops.Accepted(content);

  // Naming it again forces nobody to new keys: refused for a plain member, not for the chair.
  grpc::Status again =
      Push(c, plain.token, case_id, {Naming(plain_ops.Rekey(4, rest), {member.device_id}, plain)});
  CHECK(again.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(again.error_message().find("named before") != std::string::npos);
  auto chair_again = Naming(ops.Rekey(4, rest), {member.device_id}, chair);
  CHECK(Push(c, chair.token, case_id, {chair_again}).ok());
}

TEST_CASE("kringd takes no Rekey of a restricted scope before the case's own after a leave",
          "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount leaver = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &leaver});
  const Bytes& case_id = ops.case_id();
  OpBuilder leaver_ops(leaver, case_id);
  const std::vector<Bytes> scope_members = {chair.account_id, member.account_id};
  REQUIRE(Push(c, chair.token, case_id, NewScope(ops, 1, 7, scope_members)).ok());
  RevokeSelf(c, member);
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(leaver.account_id));
  REQUIRE(
      Push(c, leaver.token, case_id, {leaver_ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, leave)})
          .ok());
  // Every client takes the scope's Rekey only after the case's own: so does kringd.
  grpc::Status early =
      Push(c, chair.token, case_id,
           {Naming(OpBuilder(ops).ScopeRekey(7, 2, scope_members), {member.device_id}, chair)});
  CHECK(early.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  auto whole = ops.Rekey(2, {chair.account_id, member.account_id});
  REQUIRE(Push(c, chair.token, case_id, {whole}).ok());
  ops.Accepted(whole);
  CHECK(Push(c, chair.token, case_id,
             {Naming(ops.ScopeRekey(7, 2, scope_members), {member.device_id}, chair)})
            .ok());
}

TEST_CASE("a plain member names its own revoked device while a leave waits", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount plain = MakeAccount(c);
  TestAccount leaver = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&plain, &leaver});
  const Bytes& case_id = ops.case_id();
  OpBuilder plain_ops(plain, case_id);
  OpBuilder leaver_ops(leaver, case_id);
  const Bytes second = AddAndRevokeSecondDevice(c, plain);
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(leaver.account_id));
  REQUIRE(
      Push(c, leaver.token, case_id, {leaver_ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, leave)})
          .ok());
  auto own = Naming(plain_ops.Rekey(2, {chair.account_id, plain.account_id}), {second}, plain);
  REQUIRE(Push(c, plain.token, case_id, {own}).ok());
  plain_ops.Accepted(own);
  CHECK(Push(c, plain.token, case_id, {plain_ops.Content(2)}).ok());
}

TEST_CASE("a Rekey of a case that keeps history open carries the back-link", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  const Bytes case_id = crypto::RandomBytes(16);
  OpBuilder ops(chair, case_id);
  v1::ControlBody create;
  create.mutable_create_case()->set_newcomers_read_history(true);
  for (const auto& [id, role] : {std::pair{chair.account_id, v1::ROLE_CHAIR},
                                 std::pair{member.account_id, v1::ROLE_MEMBER}}) {
    v1::Member* m = create.mutable_create_case()->add_members();
    m->set_account_id(ToString(id));
    m->set_role(role);
  }
  auto created = ops.Control(v1::OP_KIND_CREATE_CASE, 0, 1, create);
  ops.Accepted(created);
  const std::vector<Bytes> all = {chair.account_id, member.account_id};
  auto first = ops.Rekey(1, all);
  ops.Accepted(first);
  REQUIRE(Push(c, chair.token, case_id, {created, first}).ok());
  grpc::Status without = Push(c, chair.token, case_id, {ops.Rekey(2, all)});
  CHECK(without.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(without.error_message().find("back-link") != std::string::npos);
  v1::Envelope linked = ops.Rekey(2, all);
  v1::ControlBody body;
  REQUIRE(body.ParseFromString(linked.control_body()));
  body.mutable_rekey()->set_previous_key_box(ToString(crypto::RandomBytes(72)));
  linked.set_control_body(body.SerializeAsString());
  Resign(linked, chair);
  CHECK(Push(c, chair.token, case_id, {linked}).ok());
}

TEST_CASE("erasing a case deletes its revocation holds and named devices", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  const Bytes case_id = ops.case_id();
  REQUIRE(Push(c, chair.token, case_id, NewScope(ops, 1, 7, {chair.account_id, member.account_id}))
              .ok());
  RevokeSelf(c, member);
  // Scope 0 names the device; the scope still holds it when the case is erased.
  auto named =
      Naming(ops.Rekey(2, {chair.account_id, member.account_id}), {member.device_id}, chair);
  REQUIRE(Push(c, chair.token, case_id, {named}).ok());
  ops.Accepted(named);
  v1::ControlBody erase;
  erase.mutable_erase_case();
  REQUIRE(Push(c, chair.token, case_id, {ops.Control(v1::OP_KIND_ERASE_CASE, 0, 2, erase)}).ok());
  REQUIRE(server.Stop() == 0);
  auto db = sql::Database::Open(server.data_dir() + "/data/kringd.sqlite3", /*read_only=*/true);
  REQUIRE(db.ok());
  for (const char* table : {"revocation_holds", "revocation_named"}) {
    sql::Statement st(*db, std::string("SELECT COUNT(*) FROM ") + table + " WHERE case_id = ?");
    st.Bind(1, case_id);
    REQUIRE(st.Step());
    CHECK(st.Int(0) == 0);
  }
}

TEST_CASE("a Rekey must box each key to the recipient's current user key", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  const Bytes& case_id = ops.case_id();
  const std::vector<Bytes> both = {chair.account_id, member.account_id};

  // The member's phone is lost: its laptop revokes it and rotates the user key (generation 2)
  // in one publish, as libkring does. The stolen phone holds generation 1.
  SecondDevice phone;
  ChainWriter chain(c, member);
  chain.Publish({AddDevice(phone)}, &phone.signing);
  chain.Publish({RevokeDevice(phone.id), RotateUserKey(member, 2)});
  const uint64_t head = HeadSeq(c, chair.token, case_id);
  CHECK(Held(Push(c, chair.token, case_id, {ops.Content(1)})));

  // A Rekey made from the chain as it was before (the member's box to generation 1, which the
  // phone holds) is refused with its reason, nothing is stored and the hold stays.
  grpc::Status stale =
      Push(c, chair.token, case_id,
           {BoxedTo(Naming(ops.Rekey(2, both), {phone.id}, chair), member.account_id, 1, chair)});
  CHECK(stale.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(RefusalReason(stale) == refusal::kStaleUserKey);
  CHECK(HeadSeq(c, chair.token, case_id) == head);
  CHECK(Held(Push(c, chair.token, case_id, {ops.Content(1)})));

  // Boxed to generation 2, the same Rekey releases the hold.
  auto fresh = Naming(ops.Rekey(2, both), {phone.id}, chair);
  REQUIRE(Push(c, chair.token, case_id, {fresh}).ok());
  ops.Accepted(fresh);
  auto content = ops.Content(2);
  REQUIRE(Push(c, chair.token, case_id, {content}).ok());
  ops.Accepted(content);

  // Later Rekeys that name nobody are held to the same rule.
  CHECK(RefusalReason(Push(c, chair.token, case_id,
                           {BoxedTo(ops.Rekey(3, both), member.account_id, 1, chair)})) ==
        refusal::kStaleUserKey);
  REQUIRE(Push(c, chair.token, case_id, {ops.Rekey(3, both)}).ok());
}

TEST_CASE("kringd takes a revocation only with a new user key right after it", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount member = MakeAccount(c);
  SecondDevice phone, tablet;
  ChainWriter chain(c, member);
  chain.Publish({AddDevice(phone)}, &phone.signing);
  chain.must_succeed = false;

  // Alone, or followed by anything but a rotation: refused, nothing stored (the next publish
  // continues from the same link).
  const uint64_t next = chain.next;
  const Bytes prev = chain.prev;
  chain.Publish({RevokeDevice(phone.id)});
  CHECK(chain.last.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  chain.next = next;
  chain.prev = prev;
  chain.Publish({RevokeDevice(phone.id), AddDevice(tablet)}, &tablet.signing);
  CHECK(chain.last.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  chain.next = next;
  chain.prev = prev;

  // With the rotation right after it: taken.
  chain.must_succeed = true;
  chain.Publish({RevokeDevice(phone.id), RotateUserKey(member, 2)});
}

}  // namespace kring::test
