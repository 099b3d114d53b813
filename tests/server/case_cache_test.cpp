// The writer's case cache (server/src/storage/case_cache.h) keeps what pushes of content ops read
// between pushes. Each test fills it with content pushes, then changes what it holds (a rekey, a
// removal, an addition, a revoked device, a push that is rolled back) and pushes again: the
// answer must be the one the tables give, against a real kringd. The last test mixes pushes that
// take ApplyPush's second pass into the same groups.
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// Pushes one content op (epoch `epoch`) and REQUIREs that it lands right after `head`; returns
// its chain hash.
std::string PushContent(Client& c, const TestAccount& who, OpBuilder& ops, uint64_t epoch,
                        uint64_t& head, const OpBuilder::Tweak& tweak = {}) {
  v1::Envelope e = ops.Content(epoch, tweak);
  v1::PushResponse resp;
  grpc::Status s = Push(c, who.token, ops.case_id(), {e}, &resp);
  REQUIRE(s.error_message() == "");
  REQUIRE(resp.results_size() == 1);
  CHECK(resp.results(0).seq() == head + 1);
  ops.Accepted(e);
  ++head;
  return resp.results(0).chain_hash();
}

}  // namespace

TEST_CASE("content after a rekey is checked against the new epoch", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  OpBuilder member_ops(member, ops.case_id());
  uint64_t head = 2;
  PushContent(c, chair, ops, 1, head);
  PushContent(c, member, member_ops, 1, head);

  auto rekey = ops.Rekey(2, {chair.account_id, member.account_id});
  REQUIRE(Push(c, chair.token, ops.case_id(), {rekey}).ok());
  ops.Accepted(rekey);
  ++head;
  grpc::Status stale = Push(c, member.token, ops.case_id(), {member_ops.Content(1)});
  CHECK(stale.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(stale.error_message() == "envelope 0: stale epoch");
  PushContent(c, member, member_ops, 2, head);
  const std::string at_head = PushContent(c, chair, ops, 2, head);
  CHECK(HeadSeq(c, chair.token, ops.case_id()) == head);

  // What the author saw is checked against the head as cached, and against the log before it.
  const uint64_t seen = head;
  grpc::Status wrong =
      Push(c, member.token, ops.case_id(), {member_ops.Content(2, [&](v1::OpHeader& h) {
             h.set_seen_seq(seen);
             h.set_seen_hash(std::string(at_head.size(), 'x'));
           })});
  CHECK(wrong.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(wrong.error_message() == "envelope 0: seen_hash does not match the log");
  PushContent(c, member, member_ops, 2, head, [&](v1::OpHeader& h) {
    h.set_seen_seq(seen);
    h.set_seen_hash(at_head);
  });
  CHECK(Push(c, chair.token, ops.case_id(),
             {ops.Content(2,
                          [&](v1::OpHeader& h) {
                            h.set_seen_seq(head);
                            h.set_seen_hash(at_head);
                          })})
            .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("a removed member's next push is refused and an added one is poked", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount newcomer = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  OpBuilder member_ops(member, ops.case_id());
  uint64_t head = 2;
  PushContent(c, member, member_ops, 1, head);
  PushContent(c, chair, ops, 1, head);

  v1::ControlBody remove;
  remove.mutable_remove_member()->set_account_id(ToString(member.account_id));
  auto removal = ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, remove);
  ops.Accepted(removal);
  auto removal_rekey = ops.Rekey(2, {chair.account_id});
  ops.Accepted(removal_rekey);
  REQUIRE(Push(c, chair.token, ops.case_id(), {removal, removal_rekey}).ok());
  head += 2;
  grpc::Status refused = Push(c, member.token, ops.case_id(), {member_ops.Content(2)});
  CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  PushContent(c, chair, ops, 2, head);

  v1::ControlBody add;
  v1::Member* m = add.mutable_add_member()->mutable_member();
  m->set_account_id(ToString(newcomer.account_id));
  m->set_role(v1::ROLE_MEMBER);
  auto addition = ops.Control(v1::OP_KIND_ADD_MEMBER, 0, 2, add);
  ops.Accepted(addition);
  auto addition_rekey = ops.Rekey(3, {chair.account_id, newcomer.account_id});
  ops.Accepted(addition_rekey);
  REQUIRE(Push(c, chair.token, ops.case_id(), {addition, addition_rekey}).ok());
  head += 2;

  // The newcomer subscribes; a content push after that must poke it (the member list a push
  // pokes was cached before the addition).
  auto ctx = Ctx(newcomer.token);
  auto reader = c.sync->Subscribe(ctx.get(), {});
  v1::Poke poke;
  REQUIRE(reader->Read(&poke));
  CHECK(poke.head_seq() == head);
  PushContent(c, chair, ops, 3, head);
  bool saw_new_head = false;
  for (int i = 0; i < 4 && !saw_new_head && reader->Read(&poke); ++i) {
    saw_new_head = poke.head_seq() == head;
  }
  CHECK(saw_new_head);
  ctx->TryCancel();
  (void)reader->Finish();
  OpBuilder newcomer_ops(newcomer, ops.case_id());
  PushContent(c, newcomer, newcomer_ops, 3, head);
}

TEST_CASE("a device revoked between two content pushes holds the next one", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  uint64_t head = 2;
  PushContent(c, chair, ops, 1, head);
  PushContent(c, chair, ops, 1, head);

  // The revocation is an account change, not a push: it runs as its own write job.
  RevokeSelf(c, member);
  grpc::Status held = Push(c, chair.token, ops.case_id(), {ops.Content(1)});
  CHECK(held.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(held.error_message().find(protocol::kHeldForRevokedDevice) != std::string::npos);
  CHECK(RefusalReason(held) == refusal::kHeldForRevokedDevice);
  CHECK(HeadSeq(c, chair.token, ops.case_id()) == head);
}

TEST_CASE("a push that is rolled back leaves nothing cached for the next", "[push]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair);
  uint64_t head = 2;
  PushContent(c, chair, ops, 1, head);

  // Two ops, the second with a broken signature: the first is appended, then the whole push is
  // undone. The next push must continue from the head and device cursor before it.
  v1::Envelope good = ops.Content(1);
  ops.Accepted(good);
  v1::Envelope bad = ops.Content(1);
  bad.set_signature(std::string(bad.signature().size(), '\0'));
  grpc::Status s = Push(c, chair.token, ops.case_id(), {good, bad});
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(HeadSeq(c, chair.token, ops.case_id()) == head);
  v1::PushResponse resp;
  REQUIRE(Push(c, chair.token, ops.case_id(), {good}, &resp).ok());
  REQUIRE(resp.results_size() == 1);
  CHECK(resp.results(0).seq() == head + 1);
  CHECK_FALSE(resp.results(0).duplicate());
  ++head;

  // A retry of the stored op with a new one: the first attempt fails on the stored op and is
  // rolled back, the second goes through with the lookup.
  v1::Envelope next = ops.Content(1);
  REQUIRE(Push(c, chair.token, ops.case_id(), {good, next}, &resp).ok());
  REQUIRE(resp.results_size() == 2);
  CHECK(resp.results(0).duplicate());
  CHECK(resp.results(0).seq() == head);
  CHECK(resp.results(1).seq() == head + 1);
  ops.Accepted(next);
  ++head;
  PushContent(c, chair, ops, 1, head);

  // An op that does not continue the device's chain is refused, and the one that does still goes.
  v1::Envelope gap = ops.Content(1, [](v1::OpHeader& h) { h.set_device_counter(99); });
  CHECK(Push(c, chair.token, ops.case_id(), {gap}).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  PushContent(c, chair, ops, 1, head);
  CHECK(HeadSeq(c, chair.token, ops.case_id()) == head);
}

namespace {

// A case with a chair and three members, each with a builder of their own ops: the set-up of the
// concurrent push tests below. Not copied or moved: the builders refer to the accounts.
struct FourPushers {
  explicit FourPushers(Client& c)
      : chair(MakeAccount(c)),
        others{MakeAccount(c), MakeAccount(c), MakeAccount(c)},
        chair_ops(CreateKeyedCase(c, chair, {&others[0], &others[1], &others[2]})),
        who{&chair, &others[0], &others[1], &others[2]} {
    builders.push_back(chair_ops);
    for (const TestAccount& o : others) builders.emplace_back(o, chair_ops.case_id());
  }
  FourPushers(const FourPushers&) = delete;
  FourPushers& operator=(const FourPushers&) = delete;

  TestAccount chair;
  std::array<TestAccount, 3> others;
  OpBuilder chair_ops;
  std::vector<const TestAccount*> who;
  std::vector<OpBuilder> builders;
};

// The acknowledged seqs are 3..2 + count (after CreateCase and Rekey), one op each, and the log
// kringd serves ends at the last of them with the chain hash each acknowledgement gave. Returns
// that last seq.
uint64_t CheckAckedLog(Client& c, const FourPushers& p,
                       const std::map<uint64_t, std::string>& acked, size_t count) {
  const uint64_t last = 2 + count;
  REQUIRE(acked.size() == count);
  CHECK(acked.begin()->first == 3);
  CHECK(acked.rbegin()->first == last);
  v1::PullResponse pull;
  REQUIRE(Pull(c, p.chair.token, p.chair_ops.case_id(), 0, {}, &pull).ok());
  CHECK(pull.head().seq() == last);
  CHECK(pull.head().chain_hash() == acked.rbegin()->second);
  for (const v1::LogEntry& e : pull.entries()) {
    auto it = acked.find(e.seq());
    if (it != acked.end()) CHECK(e.chain_hash() == it->second);
  }
  return last;
}

}  // namespace

// The writer keeps the case heads its pushes leave and writes them once per group commit. Pushes
// from several members at once land in shared groups, with a push that is rolled back between
// two that go through: each push must continue from the head before it, and the head a pull reads
// (from `cases`) must be the last op's.
TEST_CASE("concurrent pushes with rolled back ones between them keep the case head exact",
          "[push]") {
  TestServer server;
  Client c(server.address());
  FourPushers p(c);

  constexpr int kPushes = 25;
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // seq -> chain hash
  std::vector<std::string> errors;
  // Per member: the op of its last push that was rolled back, pushed again next.
  std::vector<std::optional<v1::Envelope>> carry(p.who.size());
  std::vector<std::thread> threads;
  for (size_t w = 0; w < p.who.size(); ++w) {
    threads.emplace_back([&, w] {
      Client tc(server.address());
      OpBuilder& b = p.builders[w];
      std::optional<v1::Envelope>& carried = carry[w];
      for (int i = 0; i < kPushes; ++i) {
        v1::Envelope good = carried ? *carried : b.Content(1);
        if (!carried) b.Accepted(good);
        v1::PushResponse resp;
        grpc::Status s = Push(tc, p.who[w]->token, b.case_id(), {good}, &resp);
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!s.ok() || resp.results_size() != 1) {
            errors.push_back("good push: " + s.error_message());
            return;
          }
          if (!acked.emplace(resp.results(0).seq(), resp.results(0).chain_hash()).second) {
            errors.push_back("seq given twice");
          }
        }
        // A push the writer rolls back: its first op is appended, then the second's bad
        // signature fails it. The first is pushed again next.
        carried = b.Content(1);
        b.Accepted(*carried);
        v1::Envelope bad = b.Content(1);
        bad.set_signature(std::string(bad.signature().size(), '\0'));
        grpc::Status refused = Push(tc, p.who[w]->token, b.case_id(), {*carried, bad});
        if (refused.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
          std::lock_guard<std::mutex> lock(mu);
          errors.push_back("bad push: " + refused.error_message());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) UNSCOPED_INFO(e);
  REQUIRE(errors.empty());
  const uint64_t last = CheckAckedLog(c, p, acked, p.who.size() * kPushes);
  // And the cached path continues from there.
  uint64_t head = last;
  for (size_t w = 0; w < p.who.size(); ++w) {
    v1::PushResponse resp;
    REQUIRE(Push(c, p.who[w]->token, p.chair_ops.case_id(), {*carry[w]}, &resp).ok());
    REQUIRE(resp.results_size() == 1);
    CHECK(resp.results(0).seq() == ++head);
    CHECK_FALSE(resp.results(0).duplicate());
    PushContent(c, *p.who[w], p.builders[w], 1, head);
  }
  CHECK(HeadSeq(c, p.chair.token, p.chair_ops.case_id()) == head);
}

// A push whose first pass fails (a retry of a stored op with a new one) is undone to the start of
// its job and stored by its second pass (StoreTxn::Attempt inside the writer's job savepoint,
// server/src/storage/store.cpp). Pushes from several members at once put such pushes in shared
// groups with pushes that go through at once and pushes that are refused after appending an op:
// every retry gets its original's seq and chain hash, every new op one seq, and nothing else is
// stored.
TEST_CASE("concurrent pushes that take the lookup pass store their new ops once", "[push]") {
  TestServer server;
  Client c(server.address());
  FourPushers p(c);

  constexpr int kRounds = 12;
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // seq -> chain hash
  std::vector<std::string> errors;
  auto ack = [&](const v1::PushResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (!acked.emplace(r.seq(), r.chain_hash()).second) errors.push_back("seq given twice");
  };
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(what);
  };
  std::vector<std::thread> threads;
  for (size_t w = 0; w < p.who.size(); ++w) {
    threads.emplace_back([&, w] {
      Client tc(server.address());
      OpBuilder& b = p.builders[w];
      std::optional<v1::Envelope> carried;  // appended by a refused push, pushed again next
      for (int i = 0; i < kRounds; ++i) {
        v1::Envelope first = carried ? *carried : b.Content(1);
        if (!carried) b.Accepted(first);
        v1::PushResponse resp;
        grpc::Status s = Push(tc, p.who[w]->token, b.case_id(), {first}, &resp);
        if (!s.ok() || resp.results_size() != 1 || resp.results(0).duplicate()) {
          return fail("first push: " + s.error_message());
        }
        const v1::PushResult original = resp.results(0);
        ack(original);
        // The retry is not above the device's stored ids: the first pass fails, the second
        // answers it from the stored op and appends the new one.
        v1::Envelope next = b.Content(1);
        b.Accepted(next);
        resp.Clear();
        s = Push(tc, p.who[w]->token, b.case_id(), {first, next}, &resp);
        if (!s.ok() || resp.results_size() != 2) return fail("retry push: " + s.error_message());
        if (!resp.results(0).duplicate() || resp.results(0).seq() != original.seq() ||
            resp.results(0).chain_hash() != original.chain_hash()) {
          return fail("retry not answered with its original");
        }
        if (resp.results(1).duplicate()) return fail("new op answered as a duplicate");
        ack(resp.results(1));
        // Refused after its first op is appended (both passes): nothing of it stays.
        carried = b.Content(1);
        b.Accepted(*carried);
        v1::Envelope bad = b.Content(1);
        bad.set_signature(std::string(bad.signature().size(), '\0'));
        s = Push(tc, p.who[w]->token, b.case_id(), {*carried, bad});
        if (s.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
          return fail("bad push: " + s.error_message());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) UNSCOPED_INFO(e);
  REQUIRE(errors.empty());
  // Seqs 3..last, each given to exactly one acknowledged op: no op was stored twice or stored
  // from a refused push.
  CheckAckedLog(c, p, acked, p.who.size() * kRounds * 2);
}

}  // namespace kring::test
