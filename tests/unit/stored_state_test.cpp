// The stored form of a case state leaves out large values a log op wrote, gives them back from
// the log, and leaves the caller's state as it was.
#include "store/stored_state.h"

#include <map>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

using namespace kring;
using namespace kring::client;
using google::protobuf::util::MessageDifferencer;

namespace {

const std::string kEntityId(16, '\x01');

v1::ContentOp WriteOp(const std::string& field, const v1::Value& value) {
  v1::ContentOp op;
  op.set_version(1);
  v1::SetField* m = op.add_mutations()->mutable_set_field();
  m->set_entity_id(kEntityId);
  m->set_field(field);
  *m->mutable_value() = value;
  return op;
}

v1::Value Text(std::string s) {
  v1::Value v;
  v.set_text(std::move(s));
  return v;
}

}  // namespace

TEST_CASE("the stored form keeps large logged values out and gives them back", "[stored-state]") {
  const v1::Value note = Text(std::string(4000, 'n'));
  const v1::Value pending = Text(std::string(4000, 'p'));
  const v1::Value other = Text(std::string(3000, 'o'));
  std::map<uint64_t, v1::ContentOp> log{{5, WriteOp("note", note)}, {3, WriteOp("note", other)}};
  v1::CaseState state;
  v1::Entity& e = (*state.mutable_entities())[Hex(View(kEntityId))];
  e.set_entity_id(kEntityId);
  v1::FieldState& f = (*e.mutable_fields())["note"];
  *f.mutable_value() = note;
  f.set_seq(5);
  v1::FieldState& p = (*e.mutable_fields())["draft"];
  *p.mutable_value() = pending;  // seq 0: not in the log
  (*e.mutable_fields())["owner"].mutable_value()->set_text("tante");
  (*e.mutable_fields())["owner"].set_seq(5);
  v1::Conflict* c = state.add_conflicts();
  c->set_entity_id(kEntityId);
  c->set_field("note");
  *c->mutable_kept_value() = note;
  *c->mutable_other_value() = other;
  c->set_kept_seq(5);
  c->set_other_seq(3);
  const v1::CaseState original = state;

  SecretBytes plain = SerializeStoredState(state);
  CHECK(MessageDifferencer::Equals(state, original));  // lent, and given back as it was
  CHECK(plain.size() < 4000 + 1000);                   // the pending draft only
  std::vector<uint64_t> opened;
  auto open = [&](uint64_t seq) -> Result<v1::ContentOp> {
    opened.push_back(seq);
    auto it = log.find(seq);
    if (it == log.end()) return DataLoss("missing");
    return it->second;
  };

  SECTION("read back whole, each entry opened once in log order") {
    auto read = ParseStoredState(plain, open);
    REQUIRE(read.ok());
    CHECK(MessageDifferencer::Equals(*read, original));
    CHECK(opened == std::vector<uint64_t>{3, 5});
  }
  SECTION("an entry that is gone is data loss") {
    log.erase(3);
    CHECK(ParseStoredState(plain, open).status().code() == StatusCode::kDataLoss);
  }
  SECTION("an entry that gives another value is data loss") {
    log[5] = WriteOp("note", Text(std::string(4000, 'x')));
    CHECK(ParseStoredState(plain, open).status().code() == StatusCode::kDataLoss);
  }
  SECTION("an entity not keyed by its id keeps its values in the stored form") {
    v1::CaseState odd = original;
    odd.clear_conflicts();
    (*odd.mutable_entities())["not-hex"] = odd.entities().at(Hex(View(kEntityId)));
    odd.mutable_entities()->erase(Hex(View(kEntityId)));
    SecretBytes kept = SerializeStoredState(odd);
    CHECK(kept.size() > 4000 + 4000);  // the note and the draft
    auto read = ParseStoredState(kept, open);
    REQUIRE(read.ok());
    CHECK(MessageDifferencer::Equals(*read, odd));
    CHECK(opened.empty());
  }
}
