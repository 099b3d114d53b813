// A removed account's pulls (docs/protocol.md section 9): kringd serves it the case log up to and
// including the op that removed it, and its signed head at that op, never past it, whatever the
// limit and wherever the page starts; from there on it is refused (NOT_A_MEMBER).
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/sqlite.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// A chair, a member who will be removed and one who stays, in a keyed case (seqs 1-2), three
// content ops (3-5), the removal (6) with its Rekey (7) and three content ops after it (8-10).
struct RemovedMemberCase {
  TestServer server;
  Client c{server.address()};
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  TestAccount stays = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member, &stays});
  std::vector<v1::LogEntry> log;  // the whole log, as the member who stays pulls it
  static constexpr uint64_t kRemoval = 6;
  static constexpr uint64_t kHead = 10;

  RemovedMemberCase() {
    for (int i = 0; i < 3; ++i) PushOne(ops.Content(1));
    v1::ControlBody remove;
    remove.mutable_remove_member()->set_account_id(ToString(member.account_id));
    std::vector<v1::Envelope> removal;
    ops.AddTo(removal, ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, remove));
    ops.AddTo(removal, ops.Rekey(2, {chair.account_id, stays.account_id}));
    v1::PushResponse pushed;
    REQUIRE(Push(c, chair.token, ops.case_id(), removal, &pushed).ok());
    REQUIRE(pushed.results(0).seq() == kRemoval);
    for (int i = 0; i < 3; ++i) PushOne(ops.Content(2));
    v1::PullResponse all;
    REQUIRE(Pull(c, stays.token, ops.case_id(), 0, "", &all, 1000).ok());
    log.assign(all.entries().begin(), all.entries().end());
    REQUIRE(log.size() == kHead);
  }

  void PushOne(const v1::Envelope& env) {
    REQUIRE(Push(c, chair.token, ops.case_id(), {env}).ok());
    ops.Accepted(env);
  }

  // The removed member's pull after `after_seq` (its cursor hash from the log).
  grpc::Status MemberPull(uint64_t after_seq, uint32_t limit, v1::PullResponse* out) {
    const std::string hash = after_seq == 0 ? "" : log[after_seq - 1].chain_hash();
    return Pull(c, member.token, ops.case_id(), after_seq, hash, out, limit);
  }

  // The seqs of a page's entries.
  static std::vector<uint64_t> Seqs(const v1::PullResponse& page) {
    std::vector<uint64_t> seqs;
    for (const auto& e : page.entries()) seqs.push_back(e.seq());
    return seqs;
  }
};

}  // namespace

TEST_CASE("a removed account's page ends at its removal whatever the limit", "[pull][removal]") {
  RemovedMemberCase k;
  for (uint32_t limit : {0u, 7u, 1000u}) {
    v1::PullResponse page;
    REQUIRE(k.MemberPull(0, limit, &page).error_message() == "");
    CHECK(RemovedMemberCase::Seqs(page) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6});
    // The head is signed at the removal: neither the case's head seq nor a later chain hash.
    CHECK(page.head().seq() == RemovedMemberCase::kRemoval);
    CHECK(page.head().chain_hash() == k.log[RemovedMemberCase::kRemoval - 1].chain_hash());
    CHECK(page.entries(5).chain_hash() == k.log[5].chain_hash());
  }
  // Only the removal is left: one entry, though the limit allows more.
  v1::PullResponse last;
  REQUIRE(k.MemberPull(5, 1000, &last).error_message() == "");
  CHECK(RemovedMemberCase::Seqs(last) == std::vector<uint64_t>{6});
  CHECK(last.head().seq() == RemovedMemberCase::kRemoval);
}

TEST_CASE("a removed account's page ends at its removal also over a gap in the stored seqs",
          "[pull][removal]") {
  RemovedMemberCase k;
  // A database with a gap before the removal (an op lost from it): the page's row limit
  // (R - after_seq) then reaches past R, and the seq decides where it ends.
  REQUIRE(k.server.Stop() == 0);
  {
    auto db = sql::Database::Open(k.server.data_dir() + "/data/kringd.sqlite3");
    REQUIRE(db.ok());
    REQUIRE(db->Exec("DELETE FROM ops WHERE seq = 4").ok());
  }
  k.server.Restart();
  Client c(k.server.address());
  REQUIRE(SignIn(c, k.member).ok());
  v1::PullResponse page;
  REQUIRE(Pull(c, k.member.token, k.ops.case_id(), 0, "", &page, 1000).error_message() == "");
  CHECK(RemovedMemberCase::Seqs(page) == std::vector<uint64_t>{1, 2, 3, 5, 6});
  CHECK(page.head().seq() == RemovedMemberCase::kRemoval);
}

TEST_CASE("a removed account's pages meet its removal exactly at their boundaries",
          "[pull][removal]") {
  RemovedMemberCase k;
  // A page that ends exactly at the removal.
  v1::PullResponse exact;
  REQUIRE(k.MemberPull(3, 3, &exact).error_message() == "");
  CHECK(RemovedMemberCase::Seqs(exact) == std::vector<uint64_t>{4, 5, 6});
  CHECK(exact.head().seq() == RemovedMemberCase::kRemoval);
  // A page that ends just before it, then one with the removal alone.
  v1::PullResponse before;
  REQUIRE(k.MemberPull(3, 2, &before).error_message() == "");
  CHECK(RemovedMemberCase::Seqs(before) == std::vector<uint64_t>{4, 5});
  CHECK(before.head().seq() == RemovedMemberCase::kRemoval);
  v1::PullResponse alone;
  REQUIRE(k.MemberPull(5, 2, &alone).error_message() == "");
  CHECK(RemovedMemberCase::Seqs(alone) == std::vector<uint64_t>{6});
  // From the removal on: refused, also with a valid cursor past it or beyond the head.
  for (uint64_t after :
       {RemovedMemberCase::kRemoval, RemovedMemberCase::kRemoval + 1, RemovedMemberCase::kHead}) {
    v1::PullResponse refused;
    grpc::Status s = k.MemberPull(after, 1000, &refused);
    CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(RefusalReason(s) == refusal::kNotAMember);
    CHECK(refused.entries_size() == 0);
  }
  v1::PullResponse beyond;
  grpc::Status s =
      Pull(k.c, k.member.token, k.ops.case_id(), RemovedMemberCase::kHead + 5, "", &beyond);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // The member who stays reads on to the head; the removed one no longer lists the case.
  CHECK(HeadSeq(k.c, k.stays.token, k.ops.case_id()) == RemovedMemberCase::kHead);
  v1::ListCasesResponse listed;
  auto ctx = Ctx(k.member.token);
  REQUIRE(k.c.sync->ListCases(ctx.get(), {}, &listed).ok());
  CHECK(listed.cases_size() == 0);
}

TEST_CASE("a removed account is poked with its removal's seq, not the head", "[pull][removal]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  TestAccount member = MakeAccount(c);
  OpBuilder ops = CreateKeyedCase(c, chair, {&member});
  auto ctx = Ctx(member.token);
  // The stream ends at the deadline, so a poke that never comes fails a Read below, not blocks.
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto reader = c.sync->Subscribe(ctx.get(), {});
  v1::Poke poke;
  REQUIRE(reader->Read(&poke));
  CHECK(poke.head_seq() == 2);
  v1::ControlBody remove;
  remove.mutable_remove_member()->set_account_id(ToString(member.account_id));
  std::vector<v1::Envelope> removal;
  ops.AddTo(removal, ops.Control(v1::OP_KIND_REMOVE_MEMBER, 0, 1, remove));
  ops.AddTo(removal, ops.Rekey(2, {chair.account_id}));
  REQUIRE(Push(c, chair.token, ops.case_id(), removal).ok());
  // The stream may repeat the head it had before (pokes are hints); the next one is the removal.
  for (int i = 0; i < 4 && poke.head_seq() == 2; ++i) REQUIRE(reader->Read(&poke));
  CHECK(poke.case_id() == ToString(ops.case_id()));
  CHECK(poke.head_seq() == 3);  // the RemoveMember; its Rekey at 4 is not for this account
  ctx->TryCancel();
}

}  // namespace kring::test
