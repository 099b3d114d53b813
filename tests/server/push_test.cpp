// The case log: append rules, idempotency, receipts, pull cursors.
#include <atomic>
#include <chrono>
#include <thread>
#include <tuple>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/v1/refusal.pb.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

Bytes B(const std::string& s) { return ToBytes(s); }

// 65 pushes of 64 ops by `ops`'s author (4,160 ops): more than kringd looks back from a seen_seq
// for a retry. The answer to the last push.
v1::PushResponse PushPastRetryLookup(Client& c, const TestAccount& author, OpBuilder& ops) {
  v1::PushResponse last;
  for (int push = 0; push < 65; ++push) {
    std::vector<v1::Envelope> batch;
    for (int i = 0; i < 64; ++i) {
      batch.push_back(ops.Content(1));
      ops.Accepted(batch.back());
    }
    REQUIRE(Push(c, author.token, ops.case_id(), batch, &last).ok());
  }
  return last;
}

// A keyed case of a chair and a member (log at seq 2), for the tests of how far back kringd looks
// for a retry.
struct RetryLookupCase {
  TestServer server;
  Client c{server.address()};
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  OpBuilder by_member{member, b.case_id()};
  std::string hash_at2;  // the chain hash at seq 2

  RetryLookupCase() {
    v1::PullResponse at2;
    REQUIRE(Pull(c, chair.token, b.case_id(), 0, "", &at2).ok());
    REQUIRE(at2.head().seq() == 2);
    hash_at2 = at2.head().chain_hash();
  }
};

// Seals an op as seen at (seq, hash), and under `client_op_id` when one is given.
OpBuilder::Tweak SeenAt(uint64_t seq, std::string hash, std::string client_op_id = {}) {
  return [=](v1::OpHeader& h) {
    h.set_seen_seq(seq);
    h.set_seen_hash(hash);
    if (!client_op_id.empty()) h.set_client_op_id(client_op_id);
  };
}

}  // namespace

TEST_CASE("push, pull, receipts and chain hashes", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  v1::ServerInfo info;
  REQUIRE(c.sync->GetServerInfo(Ctx().get(), {}, &info).ok());
  Bytes server_pk = B(info.signing_public_key());

  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  std::vector<v1::Envelope> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(b.Content(1));
    b.Accepted(batch.back());
  }
  v1::PushResponse pushed;
  REQUIRE(Push(c, chair.token, b.case_id(), batch, &pushed).error_message() == "");
  REQUIRE(pushed.results_size() == 3);
  // One receipt covers the whole push: the chain hash at its last seq commits to the others.
  for (int i = 0; i < 3; ++i) {
    const v1::PushResult& r = pushed.results(i);
    CHECK(r.seq() == static_cast<uint64_t>(3 + i));
    CHECK_FALSE(r.duplicate());
    CHECK(protocol::VerifyReceipt(r.receipt(), server_pk));
    CHECK(r.receipt().seq() == 5);
    CHECK(r.receipt().chain_hash() == pushed.results(2).chain_hash());
    CHECK(B(r.receipt().case_id()) == b.case_id());
  }

  // The member pulls everything; chain hashes recompute from the envelopes.
  v1::PullResponse pull;
  REQUIRE(Pull(c, member.token, b.case_id(), 0, {}, &pull).ok());
  REQUIRE(pull.entries_size() == 5);
  Bytes prev;
  for (int i = 0; i < pull.entries_size(); ++i) {
    const v1::LogEntry& e = pull.entries(i);
    CHECK(e.seq() == static_cast<uint64_t>(i + 1));
    Bytes h = protocol::ChainHash(prev, e.seq(), protocol::EnvelopeHash(e.envelope()));
    CHECK(h == B(e.chain_hash()));
    prev = h;
  }
  CHECK(pull.head().seq() == 5);
  CHECK(B(pull.head().chain_hash()) == prev);
  CHECK(protocol::VerifyReceipt(pull.head(), server_pk));
  CHECK(pushed.results(2).chain_hash() == pull.entries(4).chain_hash());

  // Cursor paging, a wrong cursor hash, and a cursor beyond the head.
  v1::PullResponse page;
  REQUIRE(Pull(c, member.token, b.case_id(), 2, pull.entries(1).chain_hash(), &page, 2).ok());
  REQUIRE(page.entries_size() == 2);
  CHECK(page.entries(0).seq() == 3);
  CHECK(Pull(c, member.token, b.case_id(), 2, pull.entries(2).chain_hash(), &page).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(Pull(c, member.token, b.case_id(), 6, prev.empty() ? "" : ToString(prev), &page)
            .error_code() == grpc::StatusCode::OUT_OF_RANGE);

  // ListCases shows the case to both members.
  v1::ListCasesResponse list;
  REQUIRE(c.sync->ListCases(Ctx(member.token).get(), {}, &list).ok());
  REQUIRE(list.cases_size() == 1);
  CHECK(list.cases(0).head_seq() == 5);
}

TEST_CASE("a push that asks for a shared receipt gets it once", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  v1::ServerInfo info;
  REQUIRE(c.sync->GetServerInfo(Ctx().get(), {}, &info).ok());
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::PushRequest req;
  req.set_case_id(ToString(b.case_id()));
  req.set_shared_receipt(true);
  for (int i = 0; i < 3; ++i) {
    *req.add_envelopes() = b.Content(1);
    b.Accepted(*req.envelopes().rbegin());
  }
  v1::PushResponse pushed;
  REQUIRE(c.sync->Push(Ctx(chair.token).get(), req, &pushed).error_message() == "");
  REQUIRE(pushed.results_size() == 3);
  // The one receipt of the push, beside the results instead of in each of them.
  CHECK(protocol::VerifyReceipt(pushed.receipt(), B(info.signing_public_key())));
  CHECK(pushed.receipt().seq() == 5);
  CHECK(pushed.receipt().chain_hash() == pushed.results(2).chain_hash());
  for (const v1::PushResult& r : pushed.results()) CHECK_FALSE(r.has_receipt());
  // A retry asking the same gets the original results, again under one receipt.
  v1::PushResponse again;
  REQUIRE(c.sync->Push(Ctx(chair.token).get(), req, &again).ok());
  REQUIRE(again.results_size() == 3);
  CHECK(again.results(0).duplicate());
  CHECK(again.receipt().seq() == 5);
  CHECK_FALSE(again.results(0).has_receipt());
}

TEST_CASE("a retried op returns its original result", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::Envelope op = b.Content(1);
  b.Accepted(op);
  v1::PushResponse first;
  v1::PushResponse again;
  REQUIRE(Push(c, chair.token, b.case_id(), {op}, &first).ok());
  REQUIRE(Push(c, chair.token, b.case_id(), {op}, &again).ok());
  REQUIRE(again.results_size() == 1);
  CHECK(again.results(0).duplicate());
  CHECK(again.results(0).seq() == first.results(0).seq());
  CHECK(again.results(0).chain_hash() == first.results(0).chain_hash());
  // The retry's receipt covers the original seq again (the same statement, signed anew).
  CHECK(again.results(0).receipt().seq() == first.results(0).seq());
  CHECK(again.results(0).receipt().chain_hash() == first.results(0).chain_hash());
  CHECK(again.results(0).receipt().time_ms() == first.results(0).receipt().time_ms());
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 3);
  // A retried batch where the first op is stored and the second is new.
  v1::Envelope next = b.Content(1);
  b.Accepted(next);
  v1::PushResponse mixed;
  REQUIRE(Push(c, chair.token, b.case_id(), {op, next}, &mixed).ok());
  CHECK(mixed.results(0).duplicate());
  CHECK_FALSE(mixed.results(1).duplicate());
  CHECK(mixed.results(1).seq() == 4);
  CHECK(mixed.results(0).receipt().seq() == 4);
  CHECK(mixed.results(1).receipt().seq() == 4);
  CHECK(mixed.results(1).receipt().chain_hash() == mixed.results(1).chain_hash());
}

TEST_CASE("an op sealed anew under a stored client_op_id gets the stored result", "[push]") {
  // libkring may seal an intent again (docs/protocol.md section 11): the new sealing continues
  // the device's chain, passes every check and only its client_op_id is known. kringd answers it
  // from the stored op and stores nothing, also when a new op follows it in the same push.
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::Envelope op = b.Content(1);
  b.Accepted(op);
  v1::OpHeader stored_header;
  REQUIRE(stored_header.ParseFromString(op.header()));
  v1::PushResponse first;
  REQUIRE(Push(c, chair.token, b.case_id(), {op}, &first).ok());
  const auto same_id = [&](v1::OpHeader& h) { h.set_client_op_id(stored_header.client_op_id()); };

  v1::PushResponse alone;
  REQUIRE(Push(c, chair.token, b.case_id(), {b.Content(1, same_id)}, &alone).ok());
  REQUIRE(alone.results_size() == 1);
  CHECK(alone.results(0).duplicate());
  CHECK(alone.results(0).seq() == first.results(0).seq());
  CHECK(alone.results(0).chain_hash() == first.results(0).chain_hash());
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 3);

  // Nothing of the new sealing was stored: the next new op continues the chain from `op`.
  v1::Envelope resealed = b.Content(1, same_id);
  v1::Envelope fresh = b.Content(1);
  v1::PushResponse mixed;
  REQUIRE(Push(c, chair.token, b.case_id(), {resealed, fresh}, &mixed).ok());
  REQUIRE(mixed.results_size() == 2);
  CHECK(mixed.results(0).duplicate());
  CHECK(mixed.results(0).seq() == first.results(0).seq());
  CHECK_FALSE(mixed.results(1).duplicate());
  CHECK(mixed.results(1).seq() == 4);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 4);
}

TEST_CASE(
    "an op with a client_op_id below the device's earlier ones is new, and its retry a duplicate",
    "[push]") {
  // libkring pushes a Rekey queued after some edits before them (docs/protocol.md section 11),
  // so an id below one the device stored can be a new op: kringd looks it up and stores it.
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  const auto id = [](char first) {
    return [first](v1::OpHeader& h) {
      h.set_client_op_id(std::string(1, first) + std::string(15, '\x01'));
    };
  };
  v1::Envelope high = b.Content(1, id('\x70'));
  b.Accepted(high);
  REQUIRE(Push(c, chair.token, b.case_id(), {high}).ok());
  v1::Envelope low = b.Content(1, id('\x10'));
  b.Accepted(low);
  v1::Envelope lower = b.Content(1, id('\x05'));
  b.Accepted(lower);
  v1::PushResponse first;
  REQUIRE(Push(c, chair.token, b.case_id(), {low, lower}, &first).ok());
  CHECK_FALSE(first.results(0).duplicate());
  CHECK_FALSE(first.results(1).duplicate());
  CHECK(first.results(1).seq() == 5);
  v1::PushResponse again;
  REQUIRE(Push(c, chair.token, b.case_id(), {lower, high}, &again).ok());
  CHECK(again.results(0).duplicate());
  CHECK(again.results(0).seq() == 5);
  CHECK(again.results(1).duplicate());
  CHECK(again.results(1).seq() == 3);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 5);
  // The highest id so far (0x70...) still comes first: one just above it is new.
  v1::Envelope next = b.Content(1, [](v1::OpHeader& h) {
    h.set_client_op_id(std::string(1, '\x70') + std::string(14, '\x01') + std::string(1, '\x02'));
  });
  b.Accepted(next);
  v1::PushResponse after;
  REQUIRE(Push(c, chair.token, b.case_id(), {next}, &after).ok());
  CHECK_FALSE(after.results(0).duplicate());
  CHECK(after.results(0).seq() == 6);
}

TEST_CASE("a retry sealed long before its push is refused until a new sealing, and stores nothing",
          "[push]") {
  // kringd looks for a retry's original among the ops after its seen_seq, up to 4,096 of them.
  // An op sealed when the log was at seq 2 and pushed only after 4,160 other ops, then retried:
  // its original lies past that range, so kringd cannot tell it from a new op with a used id
  // and refuses with FAILED_PRECONDITION, on which a client pulls (confirming the op) and seals
  // anew.
  RetryLookupCase t;
  auto [c, chair, member, b, by_member] = std::tie(t.c, t.chair, t.member, t.b, t.by_member);
  v1::Envelope late = b.Content(1, SeenAt(2, t.hash_at2));
  b.Accepted(late);
  PushPastRetryLookup(c, member, by_member);
  v1::PushResponse stored;
  REQUIRE(Push(c, chair.token, b.case_id(), {late}, &stored).ok());
  REQUIRE(stored.results(0).seq() == 2 + 65 * 64 + 1);

  const grpc::Status retried = Push(c, chair.token, b.case_id(), {late});
  CHECK(retried.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(retried.error_message() ==
        "envelope 0: a retry is looked up at most 4096 ops after its seen_seq");
  CHECK(HeadSeq(c, chair.token, b.case_id()) == stored.results(0).seq());
  // Sealed anew after a pull to the head (which held it): the stored original's result.
  const uint64_t head = stored.results(0).seq();
  v1::OpHeader late_header;
  REQUIRE(late_header.ParseFromString(late.header()));
  v1::Envelope resealed =
      b.Content(1, SeenAt(head, stored.results(0).chain_hash(), late_header.client_op_id()));
  v1::PushResponse again;
  REQUIRE(Push(c, chair.token, b.case_id(), {resealed}, &again).ok());
  CHECK(again.results(0).duplicate());
  CHECK(again.results(0).seq() == head);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);
}

TEST_CASE("a new op with a lower client_op_id sealed long before is refused, then stored once",
          "[push]") {
  // As a device's edits queued before its Rekey and pushed after it, sealed when the log was at
  // seq 2: 4,160 ops later kringd cannot look back far enough to tell it from a retry. Sealed
  // anew against the head it goes in, once.
  RetryLookupCase t;
  auto [c, chair, member, b, by_member] = std::tie(t.c, t.chair, t.member, t.b, t.by_member);
  const std::string low_id = std::string(16, '\0');  // below every id the builder gives out
  v1::Envelope queued = b.Content(1, SeenAt(2, t.hash_at2, low_id));
  const v1::PushResponse last = PushPastRetryLookup(c, member, by_member);
  const uint64_t head = 2 + 65 * 64;
  REQUIRE(last.results(63).seq() == head);
  const std::string head_hash = last.results(63).chain_hash();
  const grpc::Status refused = Push(c, chair.token, b.case_id(), {queued});
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head);

  v1::Envelope resealed = b.Content(1, SeenAt(head, head_hash, low_id));
  b.Accepted(resealed);
  v1::PushResponse stored;
  REQUIRE(Push(c, chair.token, b.case_id(), {resealed}, &stored).ok());
  CHECK_FALSE(stored.results(0).duplicate());
  CHECK(stored.results(0).seq() == head + 1);
  v1::PushResponse again;
  REQUIRE(Push(c, chair.token, b.case_id(), {resealed}, &again).ok());
  CHECK(again.results(0).duplicate());
  CHECK(HeadSeq(c, chair.token, b.case_id()) == head + 1);
}

TEST_CASE("ops with random client_op_ids, as older clients sent, are stored and retried",
          "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  const auto random_id = [](v1::OpHeader& h) {
    h.set_client_op_id(ToString(crypto::RandomBytes(16)));
  };
  std::vector<v1::Envelope> batch;
  for (int i = 0; i < 20; ++i) {
    batch.push_back(b.Content(1, random_id));
    b.Accepted(batch.back());
  }
  v1::PushResponse first;
  REQUIRE(Push(c, chair.token, b.case_id(), batch, &first).ok());
  v1::PushResponse again;
  REQUIRE(Push(c, chair.token, b.case_id(), batch, &again).ok());
  REQUIRE(again.results_size() == 20);
  for (int i = 0; i < 20; ++i) {
    CHECK_FALSE(first.results(i).duplicate());
    CHECK(again.results(i).duplicate());
    CHECK(again.results(i).seq() == first.results(i).seq());
  }
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 22);
}

TEST_CASE(
    "an id stored twice by a device that pulled past the first answers retries with the first",
    "[push]") {
  // What kringd no longer promises (docs/protocol.md section 11): an op sealed anew under an id
  // the device stored before its seen_seq is a second op. An honest device never sends one (its
  // pull confirmed the intent); a retry of the original still gets the original's result.
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::Envelope original = b.Content(1);
  b.Accepted(original);
  v1::Envelope between = b.Content(1);
  b.Accepted(between);
  v1::PushResponse first;
  REQUIRE(Push(c, chair.token, b.case_id(), {original, between}, &first).ok());
  v1::OpHeader header;
  REQUIRE(header.ParseFromString(original.header()));
  v1::Envelope reused =
      b.Content(1, SeenAt(4, first.results(1).chain_hash(), header.client_op_id()));
  b.Accepted(reused);
  v1::PushResponse second;
  REQUIRE(Push(c, chair.token, b.case_id(), {reused}, &second).ok());
  CHECK_FALSE(second.results(0).duplicate());
  CHECK(second.results(0).seq() == 5);
  v1::PushResponse retried;
  REQUIRE(Push(c, chair.token, b.case_id(), {original}, &retried).ok());
  CHECK(retried.results(0).duplicate());
  CHECK(retried.results(0).seq() == 3);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 5);
}

TEST_CASE("a membership change whose rekey carries the change's own client_op_id is refused",
          "[push]") {
  // Otherwise the Rekey would be answered as the change's duplicate and the change stored
  // without it: every member's device would then halt the case on the next op.
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount newcomer = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::ControlBody add;
  v1::Member* m = add.mutable_add_member()->mutable_member();
  m->set_account_id(ToString(newcomer.account_id));
  m->set_role(v1::ROLE_MEMBER);
  v1::Envelope addition = b.Control(v1::OP_KIND_ADD_MEMBER, 0, 1, add);
  v1::OpHeader header;
  REQUIRE(header.ParseFromString(addition.header()));
  b.Accepted(addition);
  v1::Envelope rekey = b.Rekey(2, {chair.account_id, newcomer.account_id},
                               [&](v1::OpHeader& h) { h.set_client_op_id(header.client_op_id()); });
  const grpc::Status refused = Push(c, chair.token, b.case_id(), {addition, rekey});
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message() == "envelope 0: a membership change must be followed by its rekey");
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 2);
}

TEST_CASE("a push that repeats one of its own ops answers the repeat as a duplicate", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::Envelope op = b.Content(1);
  b.Accepted(op);
  v1::Envelope next = b.Content(1);
  b.Accepted(next);
  v1::PushResponse resp;
  REQUIRE(Push(c, chair.token, b.case_id(), {op, op, next}, &resp).ok());
  REQUIRE(resp.results_size() == 3);
  CHECK_FALSE(resp.results(0).duplicate());
  CHECK(resp.results(1).duplicate());
  CHECK(resp.results(1).seq() == resp.results(0).seq());
  CHECK(resp.results(1).chain_hash() == resp.results(0).chain_hash());
  CHECK_FALSE(resp.results(2).duplicate());
  CHECK(resp.results(2).seq() == resp.results(0).seq() + 1);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 4);
}

TEST_CASE("a push's ops are stored in order around a control op and an op seeing one of them",
          "[push]") {
  // kringd keeps a push's content rows and inserts them several to a statement; an op that names
  // an op of the same push as seen, and a control op, find the rows before them in the log.
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});  // seq 1 and 2
  v1::PullResponse before;
  REQUIRE(Pull(c, member.token, b.case_id(), 0, {}, &before).ok());
  REQUIRE(before.entries_size() == 2);
  const Bytes head = B(before.entries(1).chain_hash());

  std::vector<v1::Envelope> batch;
  b.AddTo(batch, b.Content(1));  // seq 3
  b.AddTo(batch, b.Content(1));  // seq 4
  const Bytes at3 = protocol::ChainHash(head, 3, protocol::EnvelopeHash(batch[0]));
  const Bytes at4 = protocol::ChainHash(at3, 4, protocol::EnvelopeHash(batch[1]));
  b.AddTo(batch, b.Content(1, [&](v1::OpHeader& h) {  // seq 5 saw seq 4, pushed with it
    h.set_seen_seq(4);
    h.set_seen_hash(ToString(at4));
  }));
  b.AddTo(batch, b.Content(1));  // seq 6
  v1::ControlBody close;
  close.mutable_close_case()->set_retention_days(30);
  b.AddTo(batch, b.Control(v1::OP_KIND_CLOSE_CASE, 0, 1, close));  // seq 7
  v1::PushResponse pushed;
  REQUIRE(Push(c, chair.token, b.case_id(), batch, &pushed).error_message() == "");
  REQUIRE(pushed.results_size() == 5);
  CHECK(B(pushed.results(1).chain_hash()) == at4);

  // Stored as pushed, in order, each chain hash as answered.
  v1::PullResponse pull;
  REQUIRE(Pull(c, member.token, b.case_id(), 2, ToString(head), &pull).ok());
  REQUIRE(pull.entries_size() == 5);
  Bytes prev = head;
  for (int i = 0; i < 5; ++i) {
    const v1::LogEntry& e = pull.entries(i);
    CHECK(e.seq() == static_cast<uint64_t>(3 + i));
    CHECK(e.envelope().SerializeAsString() == batch[static_cast<size_t>(i)].SerializeAsString());
    prev = protocol::ChainHash(prev, e.seq(), protocol::EnvelopeHash(e.envelope()));
    CHECK(B(e.chain_hash()) == prev);
    CHECK(pushed.results(i).seq() == e.seq());
    CHECK_FALSE(pushed.results(i).duplicate());
    CHECK(pushed.results(i).chain_hash() == e.chain_hash());
  }
  CHECK(pull.head().seq() == 7);

  // A wrong hash for an op of the same push is refused at that op, and the push stores nothing.
  OpBuilder other = CreateKeyedCase(c, chair, {&member});
  v1::Envelope first = other.Content(1);
  other.Accepted(first);
  v1::Envelope wrong = other.Content(1, [&](v1::OpHeader& h) {
    h.set_seen_seq(3);
    h.set_seen_hash(ToString(at3));  // the other case's
  });
  grpc::Status refused = Push(c, chair.token, other.case_id(), {first, wrong});
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message() == "envelope 1: seen_hash does not match the log");
  CHECK(HeadSeq(c, chair.token, other.case_id()) == 2);
}

TEST_CASE("a push whose fast pass wrote rows before meeting a retry stores each op once",
          "[push]") {
  // kringd's first pass takes a push's ops for new until one may be a retry (its client_op_id is
  // not above the device's stored ones). Here it has inserted rows by then: an op naming an
  // earlier op of the same push as seen makes it write the push's rows so far. The pass is
  // rolled back to the writer job's savepoint and the second pass stores every op once, in
  // order, and answers the retry with its original result (docs/protocol.md section 8, check 4,
  // and section 11).
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});  // seq 1 and 2
  v1::Envelope stored = b.Content(1);
  b.Accepted(stored);
  v1::PushResponse original;
  REQUIRE(Push(c, chair.token, b.case_id(), {stored}, &original).ok());
  REQUIRE(original.results(0).seq() == 3);
  const Bytes at3 = B(original.results(0).chain_hash());

  // Three new ops, the third naming the first as seen; then `stored` again; then a new op.
  std::vector<v1::Envelope> push;
  b.AddTo(push, b.Content(1));  // seq 4
  b.AddTo(push, b.Content(1));  // seq 5
  const Bytes at4 = protocol::ChainHash(at3, 4, protocol::EnvelopeHash(push[0]));
  b.AddTo(push, b.Content(1, SeenAt(4, ToString(at4))));  // seq 6: its check reads seq 4's row
  push.push_back(stored);       // the retry: answered with seq 3, stored nothing
  b.AddTo(push, b.Content(1));  // seq 7
  REQUIRE(ClientOpId(stored) < ClientOpId(push[2]));  // below the push's ids: may be a retry

  v1::PushResponse resp;
  REQUIRE(Push(c, chair.token, b.case_id(), push, &resp).error_message() == "");
  REQUIRE(resp.results_size() == 5);
  const std::vector<uint64_t> seqs = {4, 5, 6, 3, 7};
  for (int i = 0; i < 5; ++i) {
    INFO("result " << i);
    CHECK(resp.results(i).seq() == seqs[static_cast<size_t>(i)]);
    CHECK(resp.results(i).duplicate() == (i == 3));
  }
  CHECK(B(resp.results(0).chain_hash()) == at4);
  CHECK(resp.results(3).chain_hash() == original.results(0).chain_hash());
  CHECK(resp.results(3).receipt().seq() == 7);

  // The same shape again, but its last op has a bad signature: refused at that op, and nothing
  // of the push stays, neither the rows nor the head nor the device's cursor (section 8: a push
  // is atomic).
  std::vector<v1::Envelope> refused_push;
  b.AddTo(refused_push, b.Content(1));  // would be seq 8
  b.AddTo(refused_push, b.Content(1));
  const Bytes at7 = B(resp.results(4).chain_hash());
  const Bytes at8 = protocol::ChainHash(at7, 8, protocol::EnvelopeHash(refused_push[0]));
  b.AddTo(refused_push, b.Content(1, SeenAt(8, ToString(at8))));
  refused_push.push_back(stored);
  v1::Envelope forged = b.Content(1);
  std::string& signature = *forged.mutable_signature();
  signature[0] = static_cast<char>(signature[0] ^ 1);
  refused_push.push_back(forged);
  const grpc::Status refused = Push(c, chair.token, b.case_id(), refused_push);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message() == "envelope 4: bad signature");
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 7);

  // The refused ops are new to kringd: sent again with a validly signed last op, they go in at 8.
  std::vector<v1::Envelope> again(refused_push.begin(), refused_push.begin() + 4);
  v1::Envelope last = b.Content(1);
  b.Accepted(last);
  again.push_back(last);
  v1::PushResponse after;
  REQUIRE(Push(c, chair.token, b.case_id(), again, &after).error_message() == "");
  REQUIRE(after.results_size() == 5);
  CHECK(after.results(0).seq() == 8);
  CHECK(after.results(2).seq() == 10);
  CHECK(after.results(3).duplicate());
  CHECK(after.results(3).seq() == 3);
  CHECK(after.results(4).seq() == 11);

  // The other device reads exactly these ops, each once, and the log verifies.
  const std::vector<v1::LogEntry> log = VerifiedLog(c, member, chair, b.case_id());
  REQUIRE(log.size() == 11);
  std::vector<v1::Envelope> expected = {stored, push[0], push[1], push[2], push[4]};
  for (size_t i = 0; i < 3; ++i) expected.push_back(again[i]);
  expected.push_back(last);
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("seq " << i + 3);
    CHECK(log[i + 2].envelope().SerializeAsString() == expected[i].SerializeAsString());
  }
  for (int i = 0; i < 5; ++i) {
    const v1::LogEntry& e = log[resp.results(i).seq() - 1];
    CHECK(e.chain_hash() == resp.results(i).chain_hash());
  }
  for (int i = 0; i < 5; ++i) {
    CHECK(log[after.results(i).seq() - 1].chain_hash() == after.results(i).chain_hash());
  }
}

TEST_CASE("non-members are refused", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount outsider = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair);
  v1::PullResponse pull;
  const grpc::Status pull_refused = Pull(c, outsider.token, b.case_id(), 0, {}, &pull);
  CHECK(pull_refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(pull_refused) == refusal::kNotAMember);
  OpBuilder ob(outsider, b.case_id());
  const grpc::Status push_refused = Push(c, outsider.token, b.case_id(), {ob.Content(1)});
  CHECK(push_refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // The reason is in gRPC's richer error model: a google.rpc.Status with the same code and
  // message and one google.rpc.ErrorInfo of domain "kring".
  v1::StatusDetails details;
  REQUIRE(details.ParseFromString(push_refused.error_details()));
  CHECK(details.code() == static_cast<int32_t>(grpc::StatusCode::PERMISSION_DENIED));
  CHECK(details.message() == push_refused.error_message());
  REQUIRE(details.details_size() == 1);
  CHECK(details.details(0).type_url() == "type.googleapis.com/google.rpc.ErrorInfo");
  CHECK(RefusalReason(push_refused) == refusal::kNotAMember);
  // Pushing as someone else (envelope author != session device).
  CHECK(Push(c, outsider.token, b.case_id(), {b.Content(1)}).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Unknown case.
  CHECK(Pull(c, chair.token, crypto::RandomBytes(16), 0, {}, &pull).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  v1::ListCasesResponse list;
  REQUIRE(c.sync->ListCases(Ctx(outsider.token).get(), {}, &list).ok());
  CHECK(list.cases_size() == 0);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 2);
}

TEST_CASE("a complaint about a scope its author is not in is refused with NOT_IN_SCOPE", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  OpBuilder mb(member, b.case_id());
  v1::ControlBody body;
  body.mutable_complaint()->set_rekey_seq(2);
  body.mutable_complaint()->set_scope_id(5);  // no such scope: the member is not in it
  body.mutable_complaint()->set_epoch(1);
  body.mutable_complaint()->set_reason("key_box_mismatch");
  const grpc::Status refused =
      Push(c, member.token, b.case_id(), {mb.Control(v1::OP_KIND_COMPLAINT, 0, 1, body)});
  CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(RefusalReason(refused) == refusal::kNotInScope);  // as the device says (reducer)
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 2);
}

TEST_CASE("content sealed to a scope the case does not have is refused with SCOPE_UNKNOWN",
          "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  // The same code as before the reason keys (clients pull and look again), now with the key a
  // device gives for an edit to an unknown scope.
  const grpc::Status refused = Push(c, chair.token, b.case_id(),
                                    {b.Content(1, [](v1::OpHeader& h) { h.set_scope_id(4242); })});
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(RefusalReason(refused) == refusal::kScopeUnknown);
  CHECK(HeadSeq(c, chair.token, b.case_id()) == 2);
}

TEST_CASE("bad envelopes are rejected and nothing is stored", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount outsider = MakeAccount(c);

  SECTION("content before any rekey, and a rekey whose recipients are not the members") {
    OpBuilder b(chair, crypto::RandomBytes(16));
    v1::Envelope create =
        b.CreateCase({{chair.account_id, v1::ROLE_CHAIR}, {member.account_id, v1::ROLE_MEMBER}});
    REQUIRE(Push(c, chair.token, b.case_id(), {create}).ok());
    b.Accepted(create);
    grpc::Status s = Push(c, chair.token, b.case_id(), {b.Content(1)});
    CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(s.error_message() == "envelope 0: stale epoch");
    CHECK(Push(c, chair.token, b.case_id(), {b.Rekey(1, {chair.account_id})}).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Push(c, chair.token, b.case_id(),
               {b.Rekey(1, {chair.account_id, member.account_id, outsider.account_id})})
              .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Push(c, chair.token, b.case_id(), {b.Rekey(2, {chair.account_id, member.account_id})})
              .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(HeadSeq(c, chair.token, b.case_id()) == 1);
    // A plain member may not rekey.
    OpBuilder mb(member, b.case_id());
    CHECK(Push(c, member.token, b.case_id(), {mb.Rekey(1, {chair.account_id, member.account_id})})
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(HeadSeq(c, chair.token, b.case_id()) == 1);
  }

  SECTION("structural, signature, continuity and epoch failures") {
    OpBuilder b = CreateKeyedCase(c, chair, {&member});
    const Bytes& id = b.case_id();
    struct Bad {
      const char* what;
      v1::Envelope env;
      grpc::StatusCode code;
    };
    std::vector<Bad> bad;
    {
      v1::Envelope e = b.Content(1);
      e.set_ciphertext(std::string(protocol::kMaxEnvelopeBytes + 1, 'x'));
      Resign(e, chair);
      bad.push_back({"oversized", e, grpc::StatusCode::INVALID_ARGUMENT});
    }
    {
      v1::Envelope e = b.Content(1);
      e.set_header("\xff\xff\xff garbage");
      Resign(e, chair);
      bad.push_back({"malformed header", e, grpc::StatusCode::INVALID_ARGUMENT});
    }
    bad.push_back({"unknown version", b.Content(1, [](v1::OpHeader& h) { h.set_version(2); }),
                   grpc::StatusCode::INVALID_ARGUMENT});
    {
      v1::Envelope e = b.Content(1);
      e.mutable_ciphertext()->at(0) ^= 1;
      bad.push_back({"bad signature", e, grpc::StatusCode::INVALID_ARGUMENT});
    }
    bad.push_back(
        {"wrong counter",
         b.Content(1, [](v1::OpHeader& h) { h.set_device_counter(h.device_counter() + 1); }),
         grpc::StatusCode::FAILED_PRECONDITION});
    bad.push_back({"wrong prev hash",
                   b.Content(1,
                             [](v1::OpHeader& h) {
                               h.set_prev_device_op_hash(ToString(crypto::RandomBytes(32)));
                             }),
                   grpc::StatusCode::FAILED_PRECONDITION});
    bad.push_back({"stale epoch", b.Content(1, [](v1::OpHeader& h) { h.set_epoch(2); }),
                   grpc::StatusCode::FAILED_PRECONDITION});
    bad.push_back({"seen beyond head",
                   b.Content(1,
                             [](v1::OpHeader& h) {
                               h.set_seen_seq(99);
                               h.set_seen_hash(ToString(crypto::RandomBytes(32)));
                             }),
                   grpc::StatusCode::FAILED_PRECONDITION});
    bad.push_back({"wrong seen hash",
                   b.Content(1,
                             [](v1::OpHeader& h) {
                               h.set_seen_seq(1);
                               h.set_seen_hash(ToString(crypto::RandomBytes(32)));
                             }),
                   grpc::StatusCode::FAILED_PRECONDITION});
    bad.push_back({"second create", b.CreateCase({{chair.account_id, v1::ROLE_CHAIR}}),
                   grpc::StatusCode::ALREADY_EXISTS});
    bad.push_back(
        {"other case id",
         b.Content(1, [](v1::OpHeader& h) { h.set_case_id(ToString(crypto::RandomBytes(16))); }),
         grpc::StatusCode::PERMISSION_DENIED});

    for (const Bad& x : bad) {
      INFO(x.what);
      // Alone, and after a valid op in the same batch: the whole batch is refused.
      CHECK(Push(c, chair.token, id, {x.env}).error_code() == x.code);
      v1::Envelope good = b.Content(1);
      v1::Envelope bad_after = x.env;
      grpc::Status s = Push(c, chair.token, id, {good, bad_after});
      CHECK(s.error_code() == x.code);
      CHECK(s.error_message().rfind("envelope 1:", 0) == 0);
      CHECK(HeadSeq(c, chair.token, id) == 2);
    }
    // Still usable afterwards.
    v1::Envelope ok = b.Content(1);
    REQUIRE(Push(c, chair.token, id, {ok}).ok());
    CHECK(HeadSeq(c, chair.token, id) == 3);
  }

  SECTION("create case rules") {
    OpBuilder b(chair, crypto::RandomBytes(16));
    // Unknown member account.
    CHECK(Push(c, chair.token, b.case_id(),
               {b.CreateCase({{chair.account_id, v1::ROLE_CHAIR},
                              {crypto::RandomBytes(16), v1::ROLE_MEMBER}})})
              .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    // The creator must chair or coordinate.
    CHECK(Push(c, chair.token, b.case_id(), {b.CreateCase({{chair.account_id, v1::ROLE_MEMBER}})})
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
    // Duplicate member.
    CHECK(Push(c, chair.token, b.case_id(),
               {b.CreateCase(
                   {{chair.account_id, v1::ROLE_CHAIR}, {chair.account_id, v1::ROLE_MEMBER}})})
              .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    v1::PullResponse pull;
    CHECK(Pull(c, chair.token, b.case_id(), 0, {}, &pull).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }

  SECTION("too many envelopes") {
    OpBuilder b = CreateKeyedCase(c, chair);
    std::vector<v1::Envelope> many;
    for (size_t i = 0; i <= protocol::kMaxPushEnvelopes; ++i) many.push_back(b.Content(1));
    CHECK(Push(c, chair.token, b.case_id(), many).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Push(c, chair.token, b.case_id(), {}).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_CASE("subscribers are poked after commits", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {&member});
  auto ctx = Ctx(member.token);
  auto reader = c.sync->Subscribe(ctx.get(), {});
  // The first poke reports the current head (CreateCase + Rekey), so nothing committed before the
  // stream was registered goes unnoticed; a later commit pokes again.
  v1::Poke poke;
  REQUIRE(reader->Read(&poke));
  CHECK(poke.case_id() == ToString(b.case_id()));
  CHECK(poke.head_seq() == 2);
  v1::Envelope e = b.Content(1);
  REQUIRE(Push(c, chair.token, b.case_id(), {e}).ok());
  b.Accepted(e);
  // The commit that created the case may still poke (head 2) after registration; pokes only
  // say "look again", so a repeat is harmless. Within a few, head 3 must come.
  bool saw_three = false;
  for (int i = 0; i < 4 && !saw_three && reader->Read(&poke); ++i) {
    CHECK(poke.case_id() == ToString(b.case_id()));
    saw_three = poke.head_seq() == 3;
  }
  CHECK(saw_three);
  ctx->TryCancel();
  (void)reader->Finish();
}

}  // namespace kring::test

namespace kring::test {
namespace {

// Pushes that commit close together may share one receipt signature: each answer still carries
// a valid receipt for its own seq or a later one of the same case, and receipts at the same seq
// agree with the log.
TEST_CASE("concurrent pushes get receipts that cover their ops", "[push]") {
  TestServer server;
  Client setup(server.address());
  TestAccount chair = MakeAccount(setup);
  constexpr int kMembers = 6;
  constexpr int kOpsEach = 8;
  std::vector<TestAccount> members;
  members.reserve(kMembers);
  for (int i = 0; i < kMembers; ++i) members.push_back(MakeAccount(setup));
  std::vector<const TestAccount*> others;
  for (const TestAccount& m : members) others.push_back(&m);
  OpBuilder chair_ops = CreateKeyedCase(setup, chair, others);
  const Bytes case_id = chair_ops.case_id();
  v1::ServerInfo info;
  REQUIRE(setup.sync->GetServerInfo(Ctx().get(), {}, &info).ok());
  const Bytes server_pk = B(info.signing_public_key());

  std::vector<std::vector<v1::PushResult>> results(kMembers);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int m = 0; m < kMembers; ++m) {
    threads.emplace_back([&, m] {
      Client c(server.address());
      OpBuilder ops(members[static_cast<size_t>(m)], case_id);
      for (int i = 0; i < kOpsEach; ++i) {
        v1::Envelope env = ops.Content(1);
        v1::PushResponse resp;
        if (!Push(c, members[static_cast<size_t>(m)].token, case_id, {env}, &resp).ok() ||
            resp.results_size() != 1) {
          ++failures;
          return;
        }
        ops.Accepted(env);
        results[static_cast<size_t>(m)].push_back(resp.results(0));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures.load() == 0);

  v1::PullResponse pull;
  REQUIRE(Pull(setup, chair.token, case_id, 0, {}, &pull).ok());
  REQUIRE(pull.entries_size() == 2 + kMembers * kOpsEach);
  size_t checked = 0;
  for (const auto& mine : results) {
    for (const v1::PushResult& r : mine) {
      const v1::Receipt& rc = r.receipt();
      CHECK(protocol::VerifyReceipt(rc, server_pk));
      CHECK(B(rc.case_id()) == case_id);
      CHECK(rc.seq() >= r.seq());
      REQUIRE(rc.seq() >= 1);
      REQUIRE(rc.seq() <= static_cast<uint64_t>(pull.entries_size()));
      CHECK(rc.chain_hash() == pull.entries(static_cast<int>(rc.seq() - 1)).chain_hash());
      CHECK(r.chain_hash() == pull.entries(static_cast<int>(r.seq() - 1)).chain_hash());
      ++checked;
    }
  }
  CHECK(checked == static_cast<size_t>(kMembers * kOpsEach));
}

}  // namespace
}  // namespace kring::test
