// Push-time proof in the local store and the matching rule: a receipt that contradicts the first
// one for its seq is kept beside it, kept push results go once the verified log passes them, and
// a retried op may come back as an earlier sealing of the same intent.
#include "sync/push_proof.h"

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/v1/local.pb.h"

#include "store/local_store.h"
#include "support/temp_dir.h"

using namespace kring;
using namespace kring::client;

namespace {

v1::Receipt ReceiptFor(const Bytes& case_id, uint64_t seq, const Bytes& chain, int64_t time_ms,
                       const SecretBytes& key) {
  return protocol::MakeReceipt(case_id, seq, chain, time_ms, key);
}

}  // namespace

TEST_CASE("a second receipt for a seq is kept when it signs another chain hash", "[store]") {
  test::TempDir dir;
  auto store = LocalStore::Open(dir.path() + "/local.db", crypto::RandomSecret(32));
  REQUIRE(store.ok());
  LocalStore& s = **store;
  const Bytes case_id(16, 3);
  auto server = crypto::NewSigningKeyPair();
  const v1::Receipt first = ReceiptFor(case_id, 5, Bytes(32, 1), 1000, server.secret_key);
  auto saved = s.SaveReceipt(first);
  REQUIRE(saved.ok());
  CHECK(!saved->has_value());
  // Re-signed later over the same position (a retried op): nothing new, nothing kept.
  saved = s.SaveReceipt(ReceiptFor(case_id, 5, Bytes(32, 1), 2000, server.secret_key));
  REQUIRE(saved.ok());
  CHECK(!saved->has_value());
  // Another chain hash for the same seq: the first comes back and both are kept.
  const v1::Receipt second = ReceiptFor(case_id, 5, Bytes(32, 2), 3000, server.secret_key);
  saved = s.SaveReceipt(second);
  REQUIRE(saved.ok());
  REQUIRE(saved->has_value());
  CHECK((*saved)->SerializeAsString() == first.SerializeAsString());
  auto receipts = s.Receipts(case_id);
  REQUIRE(receipts.ok());
  CHECK(receipts->at(5).SerializeAsString() == first.SerializeAsString());
  auto conflicts = s.ConflictingReceipts(case_id);
  REQUIRE(conflicts.ok());
  REQUIRE(conflicts->size() == 1);
  CHECK((*conflicts)[0].SerializeAsString() == second.SerializeAsString());
  // Erasure takes them with the rest of the case.
  REQUIRE(s.DeleteCase(case_id).ok());
  CHECK(s.ConflictingReceipts(case_id)->empty());
}

TEST_CASE("kept push results go once the verified log reaches their seq", "[store]") {
  test::TempDir dir;
  auto store = LocalStore::Open(dir.path() + "/local.db", crypto::RandomSecret(32));
  REQUIRE(store.ok());
  LocalStore& s = **store;
  const Bytes case_id(16, 4);
  REQUIRE(s.CreateCase(case_id).ok());
  std::vector<SentOp> sent(2);
  sent[0].envelope_hash = Bytes(32, 1);
  sent[0].client_op_id = Bytes(16, 1);
  sent[0].result.set_seq(1);
  sent[1].envelope_hash = Bytes(32, 2);
  sent[1].client_op_id = Bytes(16, 2);
  sent[1].result.set_seq(2);
  REQUIRE(s.KeepPushResults(case_id, sent).ok());
  REQUIRE(s.PushResults(case_id)->size() == 2);
  AppliedBatch batch;
  batch.case_id = case_id;
  batch.head_seq = 1;
  REQUIRE(s.ApplyBatch(batch).ok());
  auto left = s.PushResults(case_id);
  REQUIRE(left.ok());
  REQUIRE(left->size() == 1);
  CHECK(left->begin()->first == 2);
  CHECK(left->begin()->second.envelope_hash == Bytes(32, 2));
}

TEST_CASE("a push result matches its envelope, or for a retry the same intent", "[sync]") {
  const Bytes me(16, 1), chain(32, 5), sent_hash(32, 6), other_hash(32, 7), op_id(16, 8);
  SentOp sent;
  sent.envelope_hash = sent_hash;
  sent.client_op_id = op_id;
  sent.result.set_seq(3);
  sent.result.set_chain_hash(ToString(chain));
  v1::OpHeader mine;
  mine.set_author_device_id(ToString(me));
  mine.set_client_op_id(ToString(op_id));
  CHECK(MatchesSentOp(sent, chain, sent_hash, mine, me));
  CHECK(!MatchesSentOp(sent, Bytes(32, 0), sent_hash, mine, me));  // another chain hash
  // Another envelope of this device's same intent counts only for a duplicate answer.
  CHECK(!MatchesSentOp(sent, chain, other_hash, mine, me));
  sent.result.set_duplicate(true);
  CHECK(MatchesSentOp(sent, chain, other_hash, mine, me));
  v1::OpHeader theirs = mine;
  theirs.set_author_device_id(ToString(Bytes(16, 2)));
  CHECK(!MatchesSentOp(sent, chain, other_hash, theirs, me));
  v1::OpHeader another = mine;
  another.set_client_op_id(ToString(Bytes(16, 9)));
  CHECK(!MatchesSentOp(sent, chain, other_hash, another, me));
}
