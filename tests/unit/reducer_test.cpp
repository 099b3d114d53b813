// The reducer's merge rules: last-writer-wins with visible conflicts, add-wins sets with
// tombstones, delete with undo, and no effect from invalid mutations.
#include "model/reducer.h"

#include <catch2/catch.hpp>
#include <google/protobuf/arena.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/domain/messages.h"

#include "domain/organising_rules.h"
#include "domain/rule_refusals.h"
#include "model/content_rules.h"
#include "model/values.h"

using namespace kring;
using namespace kring::client;

namespace {

const Bytes kAlice(16, 'a');
const Bytes kBob(16, 'b');

Bytes Id(char c) { return Bytes(16, static_cast<uint8_t>(c)); }
// An entity id for scope `scope`: its first 4 bytes are the scope id, big-endian.
Bytes ScopedId(uint32_t scope, char c) {
  Bytes id = Id(c);
  for (size_t i = 0; i < 4; ++i) id[i] = static_cast<uint8_t>(scope >> (24 - 8 * i));
  return id;
}

v1::Value Text(const std::string& s) {
  v1::Value v;
  v.set_text(s);
  return v;
}

struct Log {
  v1::CaseState state;
  uint64_t seq = 0;
  void Apply(const Bytes& author, const Bytes& op_id, std::vector<v1::Mutation> ms,
             uint32_t scope = 0) {
    v1::ContentOp op;
    op.set_version(1);
    op.set_scope_id(scope);
    for (auto& m : ms) *op.add_mutations() = m;
    model::ApplyContent(state, op, {++seq, author, op_id, scope});
  }
};

v1::Mutation Create(const Bytes& id, const std::string& type) {
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(ToString(id));
  m.mutable_create_entity()->set_type(type);
  return m;
}

v1::Mutation Set(const Bytes& id, const std::string& field, const std::string& value,
                 const Bytes& base) {
  v1::Mutation m;
  m.mutable_set_field()->set_entity_id(ToString(id));
  m.mutable_set_field()->set_field(field);
  *m.mutable_set_field()->mutable_value() = Text(value);
  m.mutable_set_field()->set_base_revision(ToString(base));
  return m;
}

const v1::Entity& E(const Log& log, const Bytes& id) { return log.state.entities().at(Hex(id)); }

}  // namespace

TEST_CASE("sequential edits based on the current revision make no conflict", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "agreement")});
  log.Apply(kAlice, Id(2), {Set(e, "action", "boodschappen", {})});
  log.Apply(kBob, Id(3), {Set(e, "action", "boodschappen doen", Id(2))});
  CHECK(E(log, e).fields().at("action").value().text() == "boodschappen doen");
  CHECK(log.state.conflicts_size() == 0);
}

TEST_CASE("a concurrent edit of one field is a visible conflict and keeps both values",
          "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "agreement")});
  log.Apply(kAlice, Id(2), {Set(e, "due", "maandag", {})});
  // Both saw revision 2; the server ordered Alice first.
  log.Apply(kAlice, Id(3), {Set(e, "due", "dinsdag", Id(2))});
  log.Apply(kBob, Id(4), {Set(e, "due", "woensdag", Id(2))});
  CHECK(E(log, e).fields().at("due").value().text() == "woensdag");
  REQUIRE(log.state.conflicts_size() == 1);
  const auto& c = log.state.conflicts(0);
  CHECK(c.kept_value().text() == "woensdag");
  CHECK(c.other_value().text() == "dinsdag");
  CHECK(c.kept_seq() == 4);
  CHECK(c.other_seq() == 3);
  CHECK_FALSE(c.resolved());
  // Resolving: an edit based on the kept revision settles the conflict.
  log.Apply(kAlice, Id(5), {Set(e, "due", "dinsdag", Id(4))});
  CHECK(log.state.conflicts(0).resolved());
}

TEST_CASE("two edits in one op do not conflict with themselves", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "note"), Set(e, "t", "a", {}), Set(e, "t", "b", {})});
  CHECK(E(log, e).fields().at("t").value().text() == "b");
  CHECK(log.state.conflicts_size() == 0);
}

// Every member sees the op headers: a raw op that copies the id of the op that wrote a field is
// still a concurrent edit, kept as a visible conflict, not taken for a second write of that op.
TEST_CASE("a copied op id still makes a conflict", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "note")});
  log.Apply(kAlice, Id(2), {Set(e, "t", "van Alice", {})});
  // Bob's raw op reuses Alice's op id and bases on nothing he saw.
  log.Apply(kBob, Id(2), {Set(e, "t", "van Bob", {})});
  CHECK(E(log, e).fields().at("t").value().text() == "van Bob");
  REQUIRE(log.state.conflicts_size() == 1);
  CHECK(log.state.conflicts(0).other_value().text() == "van Alice");
  CHECK(log.state.conflicts(0).other_seq() == 2);
  // The same author and op id at another seq (a replayed op) is no write of that op either.
  log.Apply(kAlice, Id(2), {Set(e, "t", "weer van Alice", {})});
  CHECK(log.state.conflicts_size() == 2);
}
// The verifier gives up each opened op: its values move into the state instead of being copied,
// and the result must be the same, conflicts included.
TEST_CASE("applying an op given up moves its values and folds as a copy would", "[reducer]") {
  Log copied;
  Log moved;
  Bytes e = Id('e');
  auto ops = std::vector<std::vector<v1::Mutation>>{
      {Create(e, "note"), Set(e, "t", std::string(300, 'a'), {})},
      {Set(e, "t", std::string(300, 'b'), Id(1))},
      {Set(e, "t", std::string(300, 'c'), Id(1))}};  // concurrent with the one before
  uint64_t n = 0;
  for (const auto& ms : ops) {
    copied.Apply(kAlice, Id(static_cast<char>(++n)), ms);
    v1::ContentOp op;
    op.set_version(1);
    for (const auto& m : ms) *op.add_mutations() = m;
    model::ApplyContent(moved.state, std::move(op),
                        {++moved.seq, kAlice, Id(static_cast<char>(n)), 0});
  }
  CHECK(E(moved, e).fields().at("t").value().text() == std::string(300, 'c'));
  REQUIRE(moved.state.conflicts_size() == 1);
  CHECK(moved.state.conflicts(0).kept_value().text() == std::string(300, 'c'));
  CHECK(moved.state.conflicts(0).other_value().text() == std::string(300, 'b'));
  const v1::FieldState& a = E(moved, e).fields().at("t");
  const v1::FieldState& b = E(copied, e).fields().at("t");
  CHECK(a.SerializeAsString() == b.SerializeAsString());
  // The created entity's id moves too: the whole entity is the same.
  CHECK(E(moved, e).entity_id() == ToString(e));
  CHECK(E(moved, e).SerializeAsString() == E(copied, e).SerializeAsString());
  CHECK(moved.state.conflicts(0).SerializeAsString() ==
        copied.state.conflicts(0).SerializeAsString());
}

TEST_CASE("sets are add-wins with tombstones", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "circle")});
  v1::Mutation add;
  add.mutable_set_add()->set_entity_id(ToString(e));
  add.mutable_set_add()->set_set("people");
  add.mutable_set_add()->set_element_id(ToString(Id('p')));
  add.mutable_set_add()->set_add_tag(ToString(Id('t')));
  *add.mutable_set_add()->mutable_value() = Text("buurvrouw");
  log.Apply(kAlice, Id(2), {add});
  // Bob removes what he saw (tag t) while Alice concurrently re-adds with tag u: the add wins.
  v1::Mutation readd = add;
  readd.mutable_set_add()->set_add_tag(ToString(Id('u')));
  v1::Mutation remove;
  remove.mutable_set_remove()->set_entity_id(ToString(e));
  remove.mutable_set_remove()->set_set("people");
  remove.mutable_set_remove()->set_element_id(ToString(Id('p')));
  remove.mutable_set_remove()->add_observed_tags(ToString(Id('t')));
  log.Apply(kAlice, Id(3), {readd});
  log.Apply(kBob, Id(4), {remove});
  const auto& el = E(log, e).sets().at("people").elements().at(Hex(Id('p')));
  CHECK(el.live_tags_size() == 1);
  CHECK(el.removed_tags_size() == 1);
  // A remove of every observed tag leaves a tombstone; a replayed old add does not resurrect it.
  v1::Mutation remove_all = remove;
  remove_all.mutable_set_remove()->add_observed_tags(ToString(Id('u')));
  log.Apply(kBob, Id(5), {remove_all});
  log.Apply(kAlice, Id(6), {add});
  const auto& gone = E(log, e).sets().at("people").elements().at(Hex(Id('p')));
  CHECK(gone.live_tags_size() == 0);
  CHECK(gone.removed_tags_size() == 2);
}

TEST_CASE("delete is a tombstone that can be undone", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "agreement"), Set(e, "action", "bellen", {})});
  v1::Mutation del;
  del.mutable_delete_entity()->set_entity_id(ToString(e));
  log.Apply(kBob, Id(2), {del});
  CHECK(E(log, e).deleted());
  CHECK(E(log, e).fields().at("action").value().text() == "bellen");
  v1::Mutation restore;
  restore.mutable_restore_entity()->set_entity_id(ToString(e));
  log.Apply(kAlice, Id(3), {restore});
  CHECK_FALSE(E(log, e).deleted());
}

TEST_CASE("invalid mutations have no effect", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "agreement")});
  v1::CaseState before = log.state;
  log.Apply(kAlice, Id(2), {Create(e, "other-type")});                // id taken
  log.Apply(kAlice, Id(3), {Set(Id('x'), "f", "v", {})});             // unknown entity
  log.Apply(kAlice, Id(4), {Set(e, std::string(65, 'f'), "v", {})});  // name too long
  v1::Mutation bad_id = Create(Bytes(3, 1), "t");
  log.Apply(kAlice, Id(5), {bad_id});
  before.set_seq(log.state.seq());
  CHECK(log.state.SerializeAsString() == before.SerializeAsString());
  CHECK(model::ValidateMutation(bad_id).code() == StatusCode::kInvalidArgument);
}

// Protobuf cannot read back a string field that is not UTF-8: one such text would make the
// author's own queue and state unreadable (an alarm on their own device).
TEST_CASE("texts and names that are not UTF-8 are refused and have no effect", "[reducer]") {
  Log log;
  Bytes e = Id('e');
  log.Apply(kAlice, Id(1), {Create(e, "note")});
  v1::CaseState before = log.state;
  const std::string bad = "caf\xe9";  // Latin-1, not UTF-8
  const std::vector<v1::Mutation> refused = {Set(e, "text", bad, {}), Set(e, bad, "v", {}),
                                             Create(Id('f'), bad)};
  for (size_t i = 0; i < refused.size(); ++i) {
    CHECK(model::ValidateMutation(refused[i]).code() == StatusCode::kInvalidArgument);
    log.Apply(kAlice, Id(static_cast<char>(2 + i)), {refused[i]});
  }
  v1::Mutation add;
  add.mutable_set_add()->set_entity_id(ToString(e));
  add.mutable_set_add()->set_set("tags");
  add.mutable_set_add()->set_element_id(ToString(Id('g')));
  add.mutable_set_add()->set_add_tag(ToString(Id('h')));
  add.mutable_set_add()->mutable_value()->set_text("\xed\xa0\x80");  // a surrogate
  CHECK(model::ValidateMutation(add).code() == StatusCode::kInvalidArgument);
  log.Apply(kAlice, Id(9), {add});
  before.set_seq(log.state.seq());
  CHECK(log.state.SerializeAsString() == before.SerializeAsString());
  CHECK(model::ValidateMutation(Set(e, "text", "caf\xc3\xa9 \xe2\x80\xae", {})).ok());
}

// A catch-up's fold does not check UTF-8 again (OpContext::utf8_checked): it relies on protobuf's
// parser refusing such an op when it is opened, which this pins down.
TEST_CASE("a content op with a text or name that is not UTF-8 does not parse", "[reducer]") {
  const Bytes e = Id('e');
  const std::string bad = "caf\xe9";
  v1::Mutation add;
  add.mutable_set_add()->set_entity_id(ToString(e));
  add.mutable_set_add()->set_set(bad);
  add.mutable_set_add()->set_element_id(ToString(Id('g')));
  add.mutable_set_add()->set_add_tag(ToString(Id('h')));
  v1::Mutation remove;
  remove.mutable_set_remove()->set_entity_id(ToString(e));
  remove.mutable_set_remove()->set_set(bad);
  remove.mutable_set_remove()->set_element_id(ToString(Id('g')));
  const std::vector<v1::Mutation> refused = {Set(e, "text", bad, {}), Set(e, bad, "v", {}),
                                             Create(Id('f'), bad), add, remove};
  for (const v1::Mutation& m : refused) {
    v1::ContentOp op;
    op.set_version(1);
    *op.add_mutations() = Create(e, "note");
    *op.add_mutations() = m;
    std::string wire;
    REQUIRE(op.AppendPartialToString(&wire));  // serializes, logging the bad string
    v1::ContentOp parsed;
    CHECK_FALSE(parsed.ParseFromString(wire));
  }
  // The same op with UTF-8 parses, and folds as one checked in the fold.
  v1::ContentOp good;
  good.set_version(1);
  *good.add_mutations() = Create(e, "note");
  *good.add_mutations() = Set(e, "text", "caf\xc3\xa9", {});
  v1::ContentOp parsed;
  REQUIRE(parsed.ParseFromString(good.SerializeAsString()));
  v1::CaseState checked, trusted;
  model::ApplyContent(checked, good, {1, kAlice, Id(1), 0});
  model::ApplyContent(trusted, std::move(parsed), {1, kAlice, Id(1), 0, /*utf8_checked=*/true});
  CHECK(trusted.SerializeAsString() == checked.SerializeAsString());
}

TEST_CASE("an entity stays in its scope: edits sealed to another scope have no effect",
          "[reducer]") {
  Log log;
  log.Apply(kAlice, Id('1'), {Create(ScopedId(7, 'e'), "location")}, 7);
  log.Apply(kAlice, Id('2'), {Set(ScopedId(7, 'e'), "exact", "geheim", {})}, 7);
  REQUIRE(log.state.entities().at(Hex(ScopedId(7, 'e'))).scope_id() == 7);
  log.Apply(kBob, Id('3'), {Set(ScopedId(7, 'e'), "exact", "overal", Id('2'))}, 0);
  v1::Mutation del;
  del.mutable_delete_entity()->set_entity_id(ToString(ScopedId(7, 'e')));
  log.Apply(kBob, Id('4'), {del}, 0);
  const v1::Entity& e = E(log, ScopedId(7, 'e'));
  CHECK(e.fields().at("exact").value().text() == "geheim");
  CHECK_FALSE(e.deleted());
}

TEST_CASE("an entity id commits to its scope: a create that breaks the rule has no effect",
          "[reducer]") {
  Log log;
  (*log.state.mutable_scopes())[7];  // scope ids are public state on every member's device
  // A restricted create without its scope's prefix.
  log.Apply(kAlice, Id('1'), {Create(ScopedId(8, 'e'), "note")}, 7);
  log.Apply(kAlice, Id('2'), {Create(Id('f'), "note")}, 7);
  CHECK(log.state.entities().empty());
  // A scope-0 create with the prefix of an existing scope: the attack that would give the
  // devices outside scope 7 another entity under the id of scope 7's one.
  log.Apply(kBob, Id('3'), {Create(ScopedId(7, 'g'), "note")}, 0);
  CHECK(log.state.entities().empty());
  // Prefix 0 in scope 0, a prefix that is no scope, and a restricted create with its prefix.
  log.Apply(kBob, Id('4'), {Create(ScopedId(0, 'h'), "note")}, 0);
  log.Apply(kBob, Id('5'), {Create(ScopedId(9, 'i'), "note")}, 0);
  log.Apply(kAlice, Id('6'), {Create(ScopedId(7, 'j'), "note")}, 7);
  CHECK(log.state.entities().size() == 3);
  CHECK(E(log, ScopedId(0, 'h')).scope_id() == 0);
  CHECK(E(log, ScopedId(9, 'i')).scope_id() == 0);
  CHECK(E(log, ScopedId(7, 'j')).scope_id() == 7);
  // The rule reads the scopes at that point of the log: scope 9 made later does not undo the
  // entity created before it.
  (*log.state.mutable_scopes())[9];
  log.Apply(kBob, Id('7'), {Create(ScopedId(9, 'k'), "note")}, 0);
  CHECK(log.state.entities().size() == 3);
  CHECK(log.state.entities().count(Hex(ScopedId(9, 'i'))) == 1);
}

TEST_CASE("NewEntityId puts the scope id in front", "[reducer]") {
  const std::string id = model::NewEntityId(0x7A01B2C3);
  REQUIRE(id.size() == 16);
  CHECK(ToBytes(id.substr(0, 4)) == Bytes{0x7A, 0x01, 0xB2, 0xC3});
  CHECK(ToBytes(model::NewEntityId(0).substr(0, 4)) == Bytes(4, 0));
  v1::CaseState state;
  (*state.mutable_scopes())[0x7A01B2C3];
  CHECK(model::EntityIdFitsScope(state, 0x7A01B2C3, id));
  CHECK_FALSE(model::EntityIdFitsScope(state, 0, id));
  CHECK(model::EntityIdFitsScope(state, 0, model::NewEntityId(0)));
  CHECK_FALSE(model::EntityIdFitsScope(state, 5, model::NewEntityId(0)));
}

// A catch-up opens a page's ops onto one protobuf arena: the fold takes their values into the
// state (on the heap) whole, whatever their kind, and the state outlives the arena.
TEST_CASE("values of an op on a protobuf arena move into the state whole", "[reducer]") {
  v1::CaseState state;
  const std::string note = "notitie " + std::string(3000, 'n');
  const std::string image(600, '\x7f');
  {
    google::protobuf::Arena arena;
    auto* op = google::protobuf::Arena::CreateMessage<v1::ContentOp>(&arena);
    op->set_version(1);
    *op->add_mutations() = Create(Id('e'), "agreement");
    *op->add_mutations() = Set(Id('e'), "text", note, {});
    v1::Mutation blob = Set(Id('e'), "image", "", {});
    blob.mutable_set_field()->mutable_value()->set_blob(image);
    *op->add_mutations() = blob;
    v1::Mutation count = Set(Id('e'), "count", "", {});
    count.mutable_set_field()->mutable_value()->set_integer(7);
    *op->add_mutations() = count;
    model::ApplyContent(state, std::move(*op), {1, kAlice, Id('1'), 0});
  }
  const v1::Entity& entity = state.entities().at(Hex(Id('e')));
  CHECK(entity.entity_id() == ToString(Id('e')));
  CHECK(entity.type() == "agreement");
  const auto& fields = entity.fields();
  CHECK(fields.at("text").value().text() == note);
  CHECK(fields.at("image").value().blob() == image);
  CHECK(fields.at("count").value().integer() == 7);
}

namespace {

v1::CaseState Circle(const std::vector<std::pair<Bytes, v1::Role>>& members) {
  v1::CaseState state;
  for (const auto& [id, role] : members) {
    v1::Member* m = state.add_members();
    m->set_account_id(ToString(id));
    m->set_role(role);
  }
  return state;
}

v1::ControlBody SetRole(const Bytes& account_id, v1::Role role) {
  v1::ControlBody body;
  body.mutable_set_role()->set_account_id(ToString(account_id));
  body.mutable_set_role()->set_role(role);
  return body;
}

v1::Role RoleOf(const v1::CaseState& state, const Bytes& account_id) {
  const v1::Member* m = model::FindMember(state, account_id);
  return m == nullptr ? v1::ROLE_UNSPECIFIED : m->role();
}

}  // namespace

TEST_CASE("role changes follow kringd's rules and change only the role", "[reducer]") {
  const Bytes chair = Id('c'), coordinator = Id('o'), member = Id('m'), outsider = Id('x');
  const v1::CaseState with_chair = Circle(
      {{chair, v1::ROLE_CHAIR}, {coordinator, v1::ROLE_COORDINATOR}, {member, v1::ROLE_MEMBER}});
  auto check = [](const v1::CaseState& s, const Bytes& author, const Bytes& target, v1::Role role) {
    return model::CheckControlPermission(s, author, SetRole(target, role)).message();
  };
  CHECK(check(with_chair, chair, member, v1::ROLE_COORDINATOR).empty());
  CHECK(check(with_chair, chair, coordinator, v1::ROLE_MEMBER).empty());
  CHECK(check(with_chair, coordinator, coordinator, v1::ROLE_MEMBER).empty());  // steps back
  CHECK(check(with_chair, member, member, v1::ROLE_COORDINATOR) ==
        "only a chair or coordinator may do this");
  CHECK(check(with_chair, outsider, member, v1::ROLE_COORDINATOR) == "author is not a member");
  CHECK(check(with_chair, chair, member, v1::ROLE_CHAIR) ==
        "a role change gives coordinator or member");
  CHECK(check(with_chair, chair, member, v1::ROLE_UNSPECIFIED) ==
        "a role change gives coordinator or member");
  CHECK(check(with_chair, chair, outsider, v1::ROLE_MEMBER) == "not a member");
  CHECK(check(with_chair, chair, chair, v1::ROLE_COORDINATOR) ==
        "the chair's role does not change");
  CHECK(check(with_chair, coordinator, chair, v1::ROLE_MEMBER) ==
        "the chair's role does not change");
  CHECK(check(with_chair, chair, member, v1::ROLE_MEMBER) == "the member has this role already");
  CHECK(check(with_chair, coordinator, member, v1::ROLE_COORDINATOR) ==
        "the chair decides who has which role");

  // Before the resident joins a coordinator decides, as long as one who hands out keys remains.
  const v1::CaseState no_chair =
      Circle({{coordinator, v1::ROLE_COORDINATOR}, {member, v1::ROLE_MEMBER}});
  CHECK(check(no_chair, coordinator, member, v1::ROLE_COORDINATOR).empty());
  CHECK(check(no_chair, coordinator, coordinator, v1::ROLE_MEMBER) ==
        "someone else must remain who can hand out new keys");

  v1::CaseState closed = with_chair;
  closed.set_closed(true);
  CHECK(check(closed, chair, member, v1::ROLE_COORDINATOR) == "the case is closed");

  // Applied: the role and nothing else (no new key is awaited).
  v1::CaseState applied = with_chair;
  (*applied.mutable_scope_epochs())[0] = 3;
  const v1::CaseState before = applied;
  v1::OpHeader h;
  h.set_author_account_id(ToString(chair));
  model::ApplyControl(applied, h, SetRole(member, v1::ROLE_COORDINATOR), 9);
  CHECK(RoleOf(applied, member) == v1::ROLE_COORDINATOR);
  CHECK(applied.members_size() == before.members_size());
  CHECK_FALSE(applied.rekey_pending());
  CHECK(applied.scope_epochs().at(0) == 3);
  CHECK(applied.seq() == 9);
}

TEST_CASE("a role change refused on the device has kringd's status code and reason key",
          "[reducer]") {
  const Bytes chair = Id('c'), coordinator = Id('o'), member = Id('m'), outsider = Id('x');
  const v1::CaseState with_chair = Circle(
      {{chair, v1::ROLE_CHAIR}, {coordinator, v1::ROLE_COORDINATOR}, {member, v1::ROLE_MEMBER}});
  struct Case {
    const Bytes& author;
    const Bytes& target;
    v1::Role role;
    StatusCode code;
    std::string_view reason;
  };
  const Case cases[] = {
      {member, member, v1::ROLE_COORDINATOR, StatusCode::kPermissionDenied, refusal::kManagersOnly},
      {outsider, member, v1::ROLE_COORDINATOR, StatusCode::kPermissionDenied, refusal::kNotAMember},
      {chair, member, v1::ROLE_CHAIR, StatusCode::kInvalidArgument, refusal::kRoleNotAssignable},
      {chair, member, v1::ROLE_UNSPECIFIED, StatusCode::kInvalidArgument,
       refusal::kRoleNotAssignable},
      {chair, outsider, v1::ROLE_MEMBER, StatusCode::kNotFound, refusal::kTargetNotMember},
      {coordinator, chair, v1::ROLE_MEMBER, StatusCode::kPermissionDenied,
       refusal::kChairKeepsRole},
      {chair, member, v1::ROLE_MEMBER, StatusCode::kAlreadyExists, refusal::kRoleUnchanged},
      {coordinator, member, v1::ROLE_COORDINATOR, StatusCode::kPermissionDenied,
       refusal::kChairDecidesRoles},
  };
  for (const Case& c : cases) {
    const Status s = model::CheckControlPermission(with_chair, c.author, SetRole(c.target, c.role));
    CHECK(s.code() == c.code);
    CHECK(s.reason() == c.reason);
  }
  const v1::CaseState no_chair =
      Circle({{coordinator, v1::ROLE_COORDINATOR}, {member, v1::ROLE_MEMBER}});
  const Status last =
      model::CheckControlPermission(no_chair, coordinator, SetRole(coordinator, v1::ROLE_MEMBER));
  CHECK(last.code() == StatusCode::kPermissionDenied);
  CHECK(last.reason() == refusal::kKeyHolderMustRemain);
  v1::CaseState closed = with_chair;
  closed.set_closed(true);
  const Status shut =
      model::CheckControlPermission(closed, chair, SetRole(member, v1::ROLE_COORDINATOR));
  CHECK(shut.code() == StatusCode::kFailedPrecondition);
  CHECK(shut.reason() == refusal::kCaseClosed);
  CHECK(
      model::CheckControlPermission(with_chair, chair, SetRole(member, v1::ROLE_COORDINATOR)).ok());
}

TEST_CASE("every control change refused on the device carries kringd's reason key for its rule",
          "[reducer]") {
  const Bytes chair = Id('c'), coordinator = Id('o'), member = Id('m'), outsider = Id('x'),
              waiting = Id('p'), newcomer = Id('n');
  const std::string open_invite(16, 'I'), revoked_invite(16, 'R'), used_invite(16, 'U'),
      expired_invite(16, 'E'), unknown_invite(16, 'Z');
  constexpr uint32_t kScope = 7;
  v1::CaseState with_chair = Circle(
      {{chair, v1::ROLE_CHAIR}, {coordinator, v1::ROLE_COORDINATOR}, {member, v1::ROLE_MEMBER}});
  with_chair.set_case_id(std::string(16, 'k'));
  v1::Member* pending = with_chair.add_pending_members();
  pending->set_account_id(ToString(waiting));
  pending->set_role(v1::ROLE_MEMBER);
  for (const auto& [id, status] : {std::pair{open_invite, v1::InviteState::PENDING},
                                   std::pair{revoked_invite, v1::InviteState::REVOKED},
                                   std::pair{used_invite, v1::InviteState::APPROVED},
                                   std::pair{expired_invite, v1::InviteState::EXPIRED}}) {
    v1::InviteState* inv = with_chair.add_invites();
    inv->set_invite_id(id);
    inv->set_status(status);
  }
  v1::ScopeState& scope = (*with_chair.mutable_scopes())[kScope];
  scope.set_scope_id(kScope);
  scope.add_members(ToString(chair));
  scope.add_members(ToString(member));

  auto add = [](const Bytes& id, v1::Role role) {
    v1::ControlBody b;
    b.mutable_add_member()->mutable_member()->set_account_id(ToString(id));
    b.mutable_add_member()->mutable_member()->set_role(role);
    return b;
  };
  auto remove = [](const Bytes& id) {
    v1::ControlBody b;
    b.mutable_remove_member()->set_account_id(ToString(id));
    return b;
  };
  auto invite = [](v1::Role role) {
    v1::ControlBody b;
    b.mutable_invite()->set_invite_id(std::string(16, 'N'));
    b.mutable_invite()->set_role(role);
    return b;
  };
  auto revoke = [](const std::string& id) {
    v1::ControlBody b;
    b.mutable_revoke_invite()->set_invite_id(id);
    return b;
  };
  auto accept = [](const std::string& id) {
    v1::ControlBody b;
    b.mutable_accept_invite()->set_invite_id(id);
    b.mutable_accept_invite()->set_proof(std::string(64, '\0'));
    return b;
  };
  auto decline = [](const Bytes& id) {
    v1::ControlBody b;
    b.mutable_decline_member()->set_account_id(ToString(id));
    return b;
  };
  auto close = [](uint32_t days) {
    v1::ControlBody b;
    b.mutable_close_case()->set_retention_days(days);
    return b;
  };
  v1::ControlBody erase;
  erase.mutable_erase_case();
  v1::ControlBody complaint;
  complaint.mutable_complaint()->set_scope_id(kScope);
  auto set_scope = [](uint32_t id, bool create, const std::vector<Bytes>& members) {
    v1::ControlBody b;
    b.mutable_set_scope()->set_scope_id(id);
    b.mutable_set_scope()->set_create(create);
    for (const Bytes& m : members) b.mutable_set_scope()->add_members(ToString(m));
    return b;
  };
  v1::ControlBody two_chairs;
  for (const Bytes& id : {chair, member}) {
    v1::Member* m = two_chairs.mutable_create_case()->add_members();
    m->set_account_id(ToString(id));
    m->set_role(v1::ROLE_CHAIR);
  }

  struct Case {
    const char* what;
    const Bytes& author;
    v1::ControlBody body;
    std::string_view reason;
  };
  const Case cases[] = {
      {"an outsider adds", outsider, add(newcomer, v1::ROLE_MEMBER), refusal::kNotAMember},
      {"a member adds", member, add(newcomer, v1::ROLE_MEMBER), refusal::kManagersOnly},
      {"a coordinator adds once the chair joined", coordinator, add(newcomer, v1::ROLE_MEMBER),
       refusal::kChairDecides},
      {"a member added twice", chair, add(member, v1::ROLE_MEMBER), refusal::kAlreadyMember},
      {"an approval with another role", chair, add(waiting, v1::ROLE_COORDINATOR),
       refusal::kApprovalKeepsRole},
      {"a second chair added", chair, add(newcomer, v1::ROLE_CHAIR), refusal::kChairExists},
      {"a second chair invited", chair, invite(v1::ROLE_CHAIR), refusal::kChairExists},
      {"a member invites", member, invite(v1::ROLE_MEMBER), refusal::kManagersOnly},
      {"an unknown invite revoked", chair, revoke(unknown_invite), refusal::kInviteUnknown},
      {"a used invite revoked", chair, revoke(used_invite), refusal::kInviteNotOpen},
      {"a decline of someone not waiting", chair, decline(member), refusal::kNotWaiting},
      {"a coordinator declines once the chair joined", coordinator, decline(waiting),
       refusal::kChairDecides},
      {"a removal of someone outside", chair, remove(outsider), refusal::kTargetNotMember},
      {"a coordinator removes the chair", coordinator, remove(chair), refusal::kChairRemovesChair},
      {"a member removes", member, remove(coordinator), refusal::kManagersOnly},
      {"a coordinator erases once the chair joined", coordinator, erase, refusal::kChairOnlyErase},
      {"a member erases", member, erase, refusal::kChairOnlyErase},
      {"a member closes", member, close(30), refusal::kManagersOnly},
      {"a coordinator closes with a short retention", coordinator, close(0),
       refusal::kChairOnlyShortRetention},
      {"a complaint about a scope one is not in", coordinator, complaint, refusal::kNotInScope},
      {"a scope with someone outside", chair, set_scope(kScope, false, {chair, outsider}),
       refusal::kTargetNotMember},
      {"a scope without its author", chair, set_scope(8, true, {member}), refusal::kNotInScope},
      {"an unknown scope changed", chair, set_scope(9, false, {chair}), refusal::kScopeUnknown},
      {"a scope changed from outside", coordinator, set_scope(kScope, false, {coordinator}),
       refusal::kNotInScope},
      {"a scope widened by a member", member,
       set_scope(kScope, false, {chair, member, coordinator}), refusal::kManagersOnly},
      {"an acceptance by a member", member, accept(open_invite), refusal::kAlreadyJoined},
      {"an acceptance by someone waiting", waiting, accept(open_invite), refusal::kAlreadyWaiting},
      {"an acceptance of an unknown invite", newcomer, accept(unknown_invite),
       refusal::kInviteUnknown},
      {"an acceptance of a revoked invite", newcomer, accept(revoked_invite),
       refusal::kInviteRevoked},
      {"an acceptance of a used invite", newcomer, accept(used_invite), refusal::kInviteUsed},
      {"an acceptance of an expired invite", newcomer, accept(expired_invite),
       refusal::kInviteExpired},
      {"an acceptance without the invite's proof", newcomer, accept(open_invite),
       refusal::kInviteProofInvalid},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const Status s = model::CheckControlPermission(with_chair, c.author, c.body);
    CHECK(s.code() == StatusCode::kPermissionDenied);
    CHECK(s.reason() == c.reason);
    CHECK(domain::HasUserText(refusal::TextKey(s.reason())));
  }

  // Two chairs make a malformed op, not a refusal: kringd gives no reason either.
  const Status two = model::CheckControlPermission(with_chair, chair, two_chairs);
  CHECK(two.code() == StatusCode::kInvalidArgument);
  CHECK(two.reason().empty());

  // The last one who hands out keys cannot leave.
  const v1::CaseState alone = Circle({{chair, v1::ROLE_CHAIR}, {member, v1::ROLE_MEMBER}});
  const Status leave = model::CheckControlPermission(alone, chair, remove(chair));
  CHECK(leave.code() == StatusCode::kPermissionDenied);
  CHECK(leave.reason() == refusal::kKeyHolderMustRemain);

  // A closed case: kringd's FAILED_PRECONDITION, for every change but the erasure; leaving too,
  // else the device lets the leave through and kringd refuses it forever.
  v1::CaseState closed = with_chair;
  closed.set_closed(true);
  for (const auto& [author, body] :
       std::vector<std::pair<Bytes, v1::ControlBody>>{{chair, add(newcomer, v1::ROLE_MEMBER)},
                                                      {chair, close(30)},
                                                      {chair, invite(v1::ROLE_MEMBER)},
                                                      {member, remove(member)},
                                                      {chair, remove(chair)}}) {
    const Status s = model::CheckControlPermission(closed, author, body);
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK(s.reason() == refusal::kCaseClosed);
  }
  CHECK(model::CheckControlPermission(closed, chair, erase).ok());

  // No more scopes than a case may have.
  v1::CaseState full = with_chair;
  for (uint32_t id = 100; full.scopes().size() < protocol::kMaxScopesPerCase; ++id) {
    (*full.mutable_scopes())[id].set_scope_id(id);
  }
  const Status too_many = model::CheckControlPermission(full, chair, set_scope(8, true, {chair}));
  CHECK(too_many.code() == StatusCode::kPermissionDenied);
  CHECK(too_many.reason() == refusal::kTooManyScopes);

  // What is allowed stays allowed.
  CHECK(model::CheckControlPermission(with_chair, chair, add(newcomer, v1::ROLE_MEMBER)).ok());
  CHECK(model::CheckControlPermission(with_chair, chair, add(waiting, v1::ROLE_MEMBER)).ok());
  CHECK(model::CheckControlPermission(with_chair, coordinator, close(30)).ok());
  CHECK(model::CheckControlPermission(with_chair, member, remove(member)).ok());
  CHECK(model::CheckControlPermission(with_chair, chair, set_scope(8, true, {chair})).ok());
  // An invite past its time (EXPIRED in a device's view) may still be revoked, as at kringd.
  CHECK(model::CheckControlPermission(with_chair, chair, revoke(expired_invite)).ok());
  CHECK(model::CheckControlPermission(with_chair, chair, revoke(open_invite)).ok());
  // A verifier's alarm keeps the English sentence.
  CHECK(
      model::CheckControlPermission(with_chair, member, add(newcomer, v1::ROLE_MEMBER)).message() ==
      "only a chair or coordinator may do this");
}

TEST_CASE("nobody decides what kind of participant their own account is", "[reducer]") {
  const Bytes chair = Id('c'), coordinator = Id('o'), other = Id('p'), member = Id('m');
  Log log;
  log.state = Circle({{chair, v1::ROLE_CHAIR},
                      {coordinator, v1::ROLE_COORDINATOR},
                      {other, v1::ROLE_COORDINATOR},
                      {member, v1::ROLE_MEMBER}});
  auto link = [](const Bytes& person, const Bytes& account) {
    v1::Mutation m;
    m.mutable_set_field()->set_entity_id(ToString(person));
    m.mutable_set_field()->set_field("account_id");
    m.mutable_set_field()->mutable_value()->set_blob(ToString(account));
    return m;
  };
  auto kind_of = [&log](const Bytes& person) {
    return E(log, person).fields().at("kind").value().text();
  };
  auto network = [&log](const Bytes& account) {
    return domain::IsNetworkMember(log.state, *model::FindMember(log.state, account));
  };
  // A coordinator enters themself in the circle as coordinator: allowed.
  const Bytes self = Id('1');
  log.Apply(coordinator, Id(11),
            {Create(self, "person"), Set(self, "kind", "coordinator", {}),
             Set(self, "status", "approved", {}), link(self, coordinator)});
  REQUIRE(E(log, self).fields().count("account_id") == 1);
  // Then makes themself family, unlinks themself, or removes the entry: none takes effect.
  log.Apply(coordinator, Id(12), {Set(self, "kind", "family", Id(11))});
  log.Apply(coordinator, Id(13), {link(self, member)});
  v1::Mutation remove;
  remove.mutable_delete_entity()->set_entity_id(ToString(self));
  log.Apply(coordinator, Id(14), {remove});
  CHECK(kind_of(self) == "coordinator");
  CHECK(E(log, self).fields().at("account_id").value().blob() == ToString(coordinator));
  CHECK_FALSE(E(log, self).deleted());
  // Nor links themself to a network entry.
  const Bytes aunt = Id('2');
  log.Apply(coordinator, Id(15), {Create(aunt, "person"), Set(aunt, "kind", "family", {})});
  log.Apply(coordinator, Id(16), {link(aunt, coordinator)});
  CHECK(E(log, aunt).fields().count("account_id") == 0);
  // Stepping back to member leaves them out of the network (and so out of private time).
  log.state.mutable_members(1)->set_role(v1::ROLE_MEMBER);
  CHECK_FALSE(network(coordinator));
  CHECK(model::CheckContentRule(log.state, {99, coordinator, Id(17), 0},
                                Set(self, "kind", "family", Id(11))) != "");
  // Someone else decides what a person is: another coordinator may.
  log.Apply(other, Id(18), {Set(self, "kind", "family", Id(11))});
  CHECK(kind_of(self) == "family");
  // The chair, who is the resident, enters themself as the resident.
  const Bytes resident = Id('3');
  log.Apply(
      chair, Id(19),
      {Create(resident, "person"), Set(resident, "kind", "resident", {}), link(resident, chair)});
  CHECK(network(chair));
}

TEST_CASE("a first referral names a person entered as the resident in the op that makes it",
          "[reducer]") {
  const Bytes chair = Id('c'), coordinator = Id('o'), teacher = Id('t');
  Log log;
  log.state = Circle(
      {{chair, v1::ROLE_CHAIR}, {coordinator, v1::ROLE_COORDINATOR}, {teacher, v1::ROLE_MEMBER}});
  auto blob = [](const Bytes& field_entity, const std::string& field, const Bytes& value) {
    v1::Mutation m;
    m.mutable_set_field()->set_entity_id(ToString(field_entity));
    m.mutable_set_field()->set_field(field);
    m.mutable_set_field()->mutable_value()->set_blob(ToString(value));
    return m;
  };
  auto leave = [](const Bytes& person) {
    v1::Mutation m;
    m.mutable_set_field()->set_entity_id(ToString(person));
    m.mutable_set_field()->set_field("left");
    m.mutable_set_field()->mutable_value()->set_flag(true);
    return m;
  };
  // The coordinator enters Sanne as the resident (no app), and the teacher as an approved
  // professional: she may make the first referral (MayReferFirst).
  const Bytes sanne = Id('1'), joke = Id('2');
  log.Apply(coordinator, Id(11),
            {Create(sanne, "person"), Set(sanne, "name", "Sanne", {}),
             Set(sanne, "kind", "resident", {}), Set(sanne, "status", "approved", {})});
  log.Apply(coordinator, Id(12),
            {Create(joke, "person"), Set(joke, "kind", "professional", {}),
             Set(joke, "status", "approved", {}), blob(joke, "account_id", teacher)});
  REQUIRE(domain::MayReferFirst(log.state, teacher));
  const Bytes referral = Id('r');
  auto names = [&] {
    const v1::Entity* first = domain::FirstReferral(log.state);
    REQUIRE(first != nullptr);
    REQUIRE(first->entity_id() == ToString(referral));
    auto f = first->fields().find("resident");
    return f == first->fields().end() ? std::string() : f->second.value().blob();
  };
  // Whatever the referral tried, Sanne is still the resident: never taken out of the circle.
  auto sanne_stays = [&] {
    CHECK(domain::IsTheResident(log.state, E(log, sanne)));
    log.Apply(coordinator, Id(30), {leave(sanne)});
    CHECK(E(log, sanne).fields().count("left") == 0);
    // Nor is she a second resident, whose kind "resident" the reducer refuses.
    CHECK_FALSE(domain::IsSecondResident(log.state, E(log, sanne)));
  };

  SECTION("an id that names nobody") {
    log.Apply(teacher, Id(20), {Create(referral, "referral"), blob(referral, "resident", Id('x'))});
    CHECK(names().empty());
    sanne_stays();
  }
  SECTION("a person who is not the resident: the referrer's own") {
    log.Apply(teacher, Id(20), {Create(referral, "referral"), blob(referral, "resident", joke)});
    CHECK(names().empty());
    sanne_stays();
    CHECK_FALSE(domain::IsTheResident(log.state, E(log, joke)));
  }
  SECTION("the resident written in a later op, by the referrer or an organiser") {
    log.Apply(teacher, Id(20), {Create(referral, "referral")});
    log.Apply(teacher, Id(21), {blob(referral, "resident", joke)});
    log.Apply(coordinator, Id(22), {blob(referral, "resident", joke)});
    log.Apply(chair, Id(23), {blob(referral, "resident", sanne)});
    CHECK(names().empty());
    sanne_stays();
    CHECK(model::CheckContentRule(log.state, {99, teacher, Id(24), 0},
                                  blob(referral, "resident", sanne)) ==
          domain::rule::kFirstReferralResident);
  }
  SECTION("a person of kind resident who was deleted") {
    const Bytes gone = Id('3');
    v1::Mutation remove;
    remove.mutable_delete_entity()->set_entity_id(ToString(gone));
    log.Apply(coordinator, Id(13), {Create(gone, "person"), Set(gone, "kind", "family", {})});
    log.Apply(coordinator, Id(14), {remove});
    log.Apply(chair, Id(15), {Set(gone, "kind", "resident", Id(13))});
    REQUIRE(E(log, gone).fields().at("kind").value().text() == "resident");
    log.Apply(teacher, Id(20), {Create(referral, "referral"), blob(referral, "resident", gone)});
    CHECK(names().empty());
  }
  SECTION("the person entered as the resident, in the referral's own op, stands") {
    log.Apply(teacher, Id(20), {Create(referral, "referral"), blob(referral, "resident", sanne)});
    CHECK(names() == ToString(sanne));
    sanne_stays();
    // Fixed from then on.
    log.Apply(chair, Id(21), {blob(referral, "resident", joke)});
    CHECK(names() == ToString(sanne));
  }
  SECTION("a resident the referral's op enters itself, with Sanne entered before") {
    const Bytes entered = Id('4');
    log.Apply(
        teacher, Id(20),
        {Create(entered, "person"), Set(entered, "kind", "resident", {}),
         Set(entered, "status", "proposed", {}), Create(referral, "referral"),
         Set(referral, "referrer_kind", "professional", {}), blob(referral, "resident", entered)});
    CHECK(names().empty());
    sanne_stays();
    CHECK(domain::EnteredResident(log.state) == &E(log, sanne));
  }
  SECTION("a proposed resident with a lower id than Sanne") {
    // Any member proposes a person of kind "resident" and picks its id: it does not come before
    // the resident the coordinator entered, for the reducer nor for SubmitReferral.
    const Bytes low = Id(1);
    log.Apply(teacher, Id(19),
              {Create(low, "person"), Set(low, "kind", "resident", {}),
               Set(low, "status", "proposed", {})});
    CHECK(domain::EnteredResident(log.state) == &E(log, sanne));
    CHECK(domain::ResidentPerson(log.state) == &E(log, sanne));
    log.Apply(teacher, Id(20), {Create(referral, "referral"), blob(referral, "resident", low)});
    CHECK(names().empty());
    sanne_stays();
  }
}

TEST_CASE("the resident a first referral names by rank", "[reducer]") {
  const Bytes chair = Id('c'), coordinator = Id('o'), aunt = Id('a');
  Log log;
  log.state = Circle(
      {{chair, v1::ROLE_CHAIR}, {coordinator, v1::ROLE_COORDINATOR}, {aunt, v1::ROLE_MEMBER}});
  auto blob = [](const Bytes& field_entity, const std::string& field, const Bytes& value) {
    v1::Mutation m;
    m.mutable_set_field()->set_entity_id(ToString(field_entity));
    m.mutable_set_field()->set_field(field);
    m.mutable_set_field()->mutable_value()->set_blob(ToString(value));
    return m;
  };
  auto resident = [](const Bytes& id, const std::string& status) {
    return std::vector<v1::Mutation>{Create(id, "person"), Set(id, "kind", "resident", {}),
                                     Set(id, "status", status, {})};
  };
  auto names = [&log](const Bytes& referral) {
    auto f = E(log, referral).fields().find("resident");
    return f == E(log, referral).fields().end() ? std::string() : f->second.value().blob();
  };
  const Bytes referral = Id('r');

  SECTION("nobody entered yet: the referral's op enters the resident and names them") {
    const Bytes sanne = Id('1');
    std::vector<v1::Mutation> op = resident(sanne, "approved");
    op.push_back(Create(referral, "referral"));
    op.push_back(Set(referral, "referrer_kind", "professional", {}));
    op.push_back(blob(referral, "resident", sanne));
    log.Apply(coordinator, Id(20), op);
    CHECK(names(referral) == ToString(sanne));
  }
  SECTION("the chair's own person first, then an approved entry, then an organiser's") {
    const Bytes first = Id(1), approved = Id(2), own = Id(3), declined = Id(4), entered = Id(5);
    log.Apply(aunt, Id(10), resident(first, "proposed"));
    log.Apply(coordinator, Id(9), resident(entered, "proposed"));
    CHECK(domain::EnteredResident(log.state) == &E(log, entered));
    log.Apply(coordinator, Id(11), resident(declined, "approved"));
    log.Apply(coordinator, Id(12), {Set(declined, "status", "declined", Id(11))});
    log.Apply(coordinator, Id(13), resident(approved, "approved"));
    CHECK(domain::EnteredResident(log.state) == &E(log, approved));
    std::vector<v1::Mutation> own_entry = resident(own, "proposed");
    own_entry.push_back(blob(own, "account_id", chair));
    log.Apply(chair, Id(14), own_entry);
    CHECK(domain::EnteredResident(log.state) == &E(log, own));
    // Only that person is named: not the approved one, nor the first entered.
    auto refer = [&](const Bytes& named) {
      log.Apply(coordinator, Id(20),
                {Create(referral, "referral"), Set(referral, "referrer_kind", "professional", {}),
                 blob(referral, "resident", named)});
      return names(referral);
    };
    SECTION("the approved one") { CHECK(refer(approved).empty()); }
    SECTION("the member's low id") { CHECK(refer(first).empty()); }
    SECTION("the organiser's proposed entry") { CHECK(refer(entered).empty()); }
    SECTION("the declined one") { CHECK(refer(declined).empty()); }
    SECTION("the chair's own") { CHECK(refer(own) == ToString(own)); }
  }
  SECTION("an old log that entered the resident again in the referral's op") {
    // The usual order before schema 12: `circle propose --kind resident --account <chair>`,
    // then a referral that entered the resident again and named that second person.
    const Bytes sanne = Id('1'), again = Id('2');
    std::vector<v1::Mutation> entry = resident(sanne, "approved");
    entry.push_back(blob(sanne, "account_id", chair));
    log.Apply(coordinator, Id(11), entry);
    std::vector<v1::Mutation> op = resident(again, "approved");
    op.push_back(Create(referral, "referral"));
    op.push_back(Set(referral, "referrer_kind", "professional", {}));
    op.push_back(blob(referral, "resident", again));
    log.Apply(coordinator, Id(20), op);
    CHECK(names(referral).empty());
    CHECK(domain::ResidentPerson(log.state) == &E(log, sanne));
    // Both count as the resident until the chair changes the duplicate's kind; then an organiser
    // takes it out, and Sanne stays.
    CHECK(domain::IsTheResident(log.state, E(log, again)));
    log.Apply(chair, Id(21), {Set(again, "kind", "family", Id(20))});
    v1::Mutation leave;
    leave.mutable_set_field()->set_entity_id(ToString(again));
    leave.mutable_set_field()->set_field("left");
    leave.mutable_set_field()->mutable_value()->set_flag(true);
    log.Apply(coordinator, Id(22), {leave});
    CHECK(E(log, again).fields().count("left") == 1);
    CHECK(domain::IsTheResident(log.state, E(log, sanne)));
  }
  SECTION("a pending referral is named only in the pending op that made it") {
    // Every pending op has seq 0: the op that names the resident is told apart by what it wrote.
    log.Apply(coordinator, Id(11), resident(Id('1'), "approved"));
    auto pending = [&log](const Bytes& author, const Bytes& op_id, std::vector<v1::Mutation> ms) {
      v1::ContentOp op;
      op.set_version(1);
      for (auto& m : ms) *op.add_mutations() = m;
      model::ApplyContent(log.state, op, {0, author, op_id, 0});
    };
    pending(coordinator, Id(20),
            {Create(referral, "referral"), Set(referral, "referrer_kind", "professional", {})});
    pending(coordinator, Id(21), {blob(referral, "resident", Id('1'))});
    CHECK(names(referral).empty());
  }
  SECTION("a pending referral names the resident in its own op") {
    log.Apply(coordinator, Id(11), resident(Id('1'), "approved"));
    v1::ContentOp op;
    op.set_version(1);
    for (const v1::Mutation& m :
         {Create(referral, "referral"), Set(referral, "referrer_kind", "professional", {}),
          blob(referral, "resident", Id('1'))}) {
      *op.add_mutations() = m;
    }
    model::ApplyContent(log.state, op, {0, coordinator, Id(20), 0});
    CHECK(names(referral) == ToString(Id('1')));
  }
}
