// The stored form of a case state leaves out large values a log op wrote, gives them back from
// the log, and leaves the caller's state as it was.
#include "store/stored_state.h"

#include <map>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"

#include "model/reducer.h"

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

// A stand-in for the digest of the envelope a log row holds.
Bytes OpDigestOf(const v1::ContentOp& op) {
  return crypto::Hasher("kring-test-op-v1").Add(op.SerializeAsString()).Finish();
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

  Bytes plain = SerializeStoredState(state);
  CHECK(MessageDifferencer::Equals(state, original));  // lent, and given back as it was
  CHECK(plain.size() < 4000 + 1000);                   // the pending draft only
  // The framed form (sealed in place by the store) is the same plaintext between its margins.
  const Bytes framed = SerializeStoredState(state, 24, 16);
  CHECK(MessageDifferencer::Equals(state, original));
  REQUIRE(framed.size() == 24 + plain.size() + 16);
  CHECK(Bytes(framed.begin() + 24, framed.end() - 16) == plain);
  std::vector<uint64_t> opened;
  auto open = [&](uint64_t seq) -> Result<LogContent> {
    opened.push_back(seq);
    auto it = log.find(seq);
    if (it == log.end()) return DataLoss("missing");
    return LogContent{it->second, OpDigestOf(it->second)};
  };

  SECTION("read back whole, each entry opened once in log order") {
    auto read = ParseStoredState(plain, open);
    REQUIRE(read.ok());
    CHECK(MessageDifferencer::Equals(*read, original));
    CHECK(opened == std::vector<uint64_t>{3, 5});
  }
  SECTION("a state stored before values were named by their op (no mutations) reads the same") {
    v1::StoredCaseState stored;
    REQUIRE(stored.ParseFromArray(plain.data(), static_cast<int>(plain.size())));
    REQUIRE(stored.refs().mutations_size() > 0);  // what this version writes
    stored.mutable_refs()->clear_mutations();
    const std::string older = stored.SerializeAsString();
    auto read = ParseStoredState(View(older), open);
    REQUIRE(read.ok());
    CHECK(MessageDifferencer::Equals(*read, original));
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
    Bytes kept = SerializeStoredState(odd);
    CHECK(kept.size() > 4000 + 4000);  // the note and the draft
    auto read = ParseStoredState(kept, open);
    REQUIRE(read.ok());
    CHECK(MessageDifferencer::Equals(*read, odd));
    CHECK(opened.empty());
  }
}

// A catch-up's fold records which op and SetField wrote a long value (FieldState's source); the
// stored form names it by them instead of a digest of the value, and a log row that is not that
// op, or an index that is not that SetField, is data loss.
TEST_CASE("a value the fold named by its op is stored by the op's digest", "[stored-state]") {
  const v1::Value note = Text(std::string(4000, 'n'));
  v1::ContentOp op;
  op.set_version(1);
  v1::Mutation* create = op.add_mutations();
  create->mutable_create_entity()->set_entity_id(kEntityId);
  create->mutable_create_entity()->set_type("note");
  v1::SetField* set = op.add_mutations()->mutable_set_field();
  set->set_entity_id(kEntityId);
  set->set_field("note");
  *set->mutable_value() = note;
  std::map<uint64_t, v1::ContentOp> log{{7, op}};
  const Bytes digest = OpDigestOf(op);

  // Folded as the verifier folds a verified op: the source is recorded for the long value only.
  v1::CaseState state;
  v1::ContentOp short_op = op;
  short_op.mutable_mutations(1)->mutable_set_field()->set_field("title");
  short_op.mutable_mutations(1)->mutable_set_field()->mutable_value()->set_text("kort");
  model::ApplyContent(state, op, {7, Bytes(16, 'a'), Bytes(16, 'o'), 0, true, digest});
  model::ApplyContent(state, short_op, {8, Bytes(16, 'a'), Bytes(16, 'p'), 0, true, digest});
  const v1::Entity& e = state.entities().at(Hex(View(kEntityId)));
  const auto source = model::SourceDigest(e.fields().at("note"));
  REQUIRE(Bytes(source.begin(), source.end()) == Bytes(digest.begin(), digest.begin() + 16));
  CHECK(e.fields().at("note").source_mutation() == 2);  // the SetField at index 1, plus 1
  CHECK(e.fields().at("title").source_mutation() == 0);
  // A pending edit (no op digest) has no source.
  v1::CaseState pending = state;
  model::ApplyContent(pending, op, {0, Bytes(16, 'a'), Bytes(16, 'q'), 0});
  CHECK(pending.entities().at(Hex(View(kEntityId))).fields().at("note").source_mutation() == 0);

  const v1::CaseState original = state;
  Bytes plain = SerializeStoredState(state);
  CHECK(MessageDifferencer::Equals(state, original));
  CHECK(plain.size() < 1000);
  CHECK(ToString(plain).find(ToString(ByteView(digest).first(16))) !=
        std::string::npos);  // in refs
  auto open = [&](uint64_t seq) -> Result<LogContent> {
    auto it = log.find(seq);
    if (it == log.end()) return DataLoss("missing");
    return LogContent{it->second, OpDigestOf(it->second)};
  };

  SECTION("read back whole, source included") {
    auto read = ParseStoredState(plain, open);
    REQUIRE(read.ok());
    CHECK(MessageDifferencer::Equals(*read, original));
    // Sealed again from what was read: named by the op again, and read back the same.
    Bytes again = SerializeStoredState(*read);
    CHECK(again.size() < 1000);
    CHECK(ToString(again).find(ToString(ByteView(digest).first(16))) != std::string::npos);
    auto reread = ParseStoredState(again, open);
    REQUIRE(reread.ok());
    CHECK(MessageDifferencer::Equals(*reread, original));
  }
  SECTION("another op at that position is data loss, even with the same value") {
    v1::ContentOp other = op;
    other.set_scope_id(1);  // another op: another digest, the same SetField
    log[7] = other;
    CHECK(ParseStoredState(plain, open).status().code() == StatusCode::kDataLoss);
  }
  SECTION("a log row whose digest matches but has no such SetField is data loss") {
    v1::ContentOp other = op;
    other.mutable_mutations()->DeleteSubrange(1, 1);
    auto same_digest = [&](uint64_t) -> Result<LogContent> { return LogContent{other, digest}; };
    CHECK(ParseStoredState(plain, same_digest).status().code() == StatusCode::kDataLoss);
    v1::ContentOp swapped = op;
    swapped.mutable_mutations(1)->mutable_set_field()->set_field("other");
    auto wrong_field = [&](uint64_t) -> Result<LogContent> { return LogContent{swapped, digest}; };
    CHECK(ParseStoredState(plain, wrong_field).status().code() == StatusCode::kDataLoss);
  }
}
