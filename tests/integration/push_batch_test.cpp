// kringd's push of a long batch as one unit: every op of it is checked as strictly as when it
// came alone, a failing op stores nothing of the push, and a retry that carries stored ops along
// with new ones gets the original results for the stored ones. kringd reads what all ops of a
// push share once and writes the case head and device cursor at its end, so these tests pin the
// behaviour that must not change with that.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

namespace {

// While `hold` is set, keeps the pushes libkring makes instead of sending them (the network
// drops after sealing); the test then sends them itself, as that device.
class HoldingTransport : public TamperTransport {
 public:
  using TamperTransport::TamperTransport;

  Result<v1::PushResponse> Push(const v1::PushRequest& r, const std::string& t) override {
    if (!hold) return TamperTransport::Push(r, t);
    std::lock_guard<std::mutex> lock(mu_);
    held_.emplace_back(r, t);
    return Status(StatusCode::kUnavailable, "no network");
  }

  std::pair<v1::PushRequest, std::string> Last() {
    std::lock_guard<std::mutex> lock(mu_);
    REQUIRE_FALSE(held_.empty());
    return held_.back();
  }

  std::vector<std::pair<v1::PushRequest, std::string>> All() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_;
  }

  std::atomic<bool> hold{false};

 private:
  std::mutex mu_;
  std::vector<std::pair<v1::PushRequest, std::string>> held_;
};

struct Writer : WriterReaderCase<HoldingTransport> {
  // The push libkring makes now, held back.
  std::pair<v1::PushRequest, std::string> Held() {
    wire->hold = true;
    CHECK(writer->SyncNow().status().transient());
    return wire->Last();
  }

  uint64_t ReaderSeq() {
    REQUIRE(reader->SyncNow().ok());
    return reader->ConfirmedView(case_id)->seq();
  }

  void ExpectConverged(const std::vector<Bytes>& ids, uint64_t seq) {
    wire->hold = false;
    REQUIRE(writer->SyncNow().ok());
    CHECK(ReaderSeq() == seq);
    for (Device* d : {&writer, &reader}) {
      auto view = (*d)->ConfirmedView(case_id);
      REQUIRE(view.ok());
      for (const Bytes& id : ids) CHECK(view->entities().count(Hex(id)) == 1);
      CHECK((*d)->Alarms().empty());
    }
    CHECK(writer->PendingIntents(case_id) == 0);
  }
};

}  // namespace

TEST_CASE("a push of stored ops and new ones stores only the new ones", "[push]") {
  Writer w;
  std::vector<Bytes> ids = w.Edit(30);
  auto [first, token] = w.Held();
  REQUIRE(first.envelopes_size() == 30);
  auto stored = w.net->Push(first, token);
  REQUIRE(stored.ok());
  REQUIRE(stored->results_size() == 30);
  // The answer never reached the device: it sends the 30 again, with 20 new edits after them
  // (libkring itself would pull first and find them; a device that cannot pull sends them all).
  for (const Bytes& id : w.Edit(20)) ids.push_back(id);
  auto [next, retry_token] = w.Held();
  REQUIRE(next.envelopes_size() == 20);
  v1::PushRequest retry = first;
  for (const v1::Envelope& env : next.envelopes()) *retry.add_envelopes() = env;
  auto resp = w.net->Push(retry, retry_token);
  REQUIRE(resp.ok());
  REQUIRE(resp->results_size() == 50);
  for (int i = 0; i < 30; ++i) {
    CHECK(resp->results(i).duplicate());
    CHECK(resp->results(i).seq() == stored->results(i).seq());
    CHECK(resp->results(i).chain_hash() == stored->results(i).chain_hash());
  }
  for (int i = 30; i < 50; ++i) {
    CHECK_FALSE(resp->results(i).duplicate());
    CHECK(resp->results(i).seq() == static_cast<uint64_t>(2 + 1 + i));
  }
  // Sent once more, all of it is a retry; the case head stayed where the first answer left it.
  auto again = w.net->Push(retry, retry_token);
  REQUIRE(again.ok());
  for (int i = 0; i < 50; ++i) {
    CHECK(again->results(i).duplicate());
    CHECK(again->results(i).seq() == resp->results(i).seq());
  }
  CHECK(w.ReaderSeq() == 2 + 50);
  w.ExpectConverged(ids, 2 + 50);
}

TEST_CASE("a failing op in the middle of a long push stores nothing of it", "[push]") {
  Writer w;
  std::vector<Bytes> ids = w.Edit(50);
  auto [push, token] = w.Held();
  REQUIRE(push.envelopes_size() == 50);
  // Op 25 claims an epoch the case does not have. It is unsigned (only the run's last op is):
  // kringd finds it by its own checks, after 25 ops of the push have passed theirs.
  v1::PushRequest bad = push;
  v1::OpHeader h;
  REQUIRE(h.ParseFromString(bad.envelopes(25).header()));
  h.set_epoch(h.epoch() + 1);
  bad.mutable_envelopes(25)->set_header(h.SerializeAsString());
  auto refused = w.net->Push(bad, token);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.status().message().find("envelope 25:") != std::string::npos);
  CHECK(w.ReaderSeq() == 2);
  // Not even the first 25 ops, the case head or the device's cursor: the push as sealed is new.
  auto resp = w.net->Push(push, token);
  REQUIRE(resp.ok());
  REQUIRE(resp->results_size() == 50);
  for (int i = 0; i < 50; ++i) {
    CHECK_FALSE(resp->results(i).duplicate());
    CHECK(resp->results(i).seq() == static_cast<uint64_t>(3 + i));
  }
  w.ExpectConverged(ids, 2 + 50);
}

TEST_CASE("a push whose ops do not continue the device's chain halfway is refused whole",
          "[push]") {
  Writer w;
  std::vector<Bytes> ids = w.Edit(40);
  auto [push, token] = w.Held();
  REQUIRE(push.envelopes_size() == 40);
  // Without op 20, op 21 does not follow op 19: the device's chain breaks in the middle.
  v1::PushRequest gap = push;
  gap.mutable_envelopes()->DeleteSubrange(20, 1);
  auto refused = w.net->Push(gap, token);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.status().message().find("envelope 20:") != std::string::npos);
  CHECK(w.ReaderSeq() == 2);
  w.ExpectConverged(ids, 2 + 40);
}

TEST_CASE("a push with a new scope between content ops checks each op on what came before it",
          "[push]") {
  Writer w;
  std::vector<Bytes> ids = w.Edit(5);
  auto scope = w.writer->CreateScope(w.case_id, {w.reader.account_id()});
  REQUIRE(scope.ok());
  for (int i = 0; i < 5; ++i) {
    auto id = w.writer->CreateEntity(w.case_id, "note", *scope);
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  for (const Bytes& id : w.Edit(5)) ids.push_back(id);
  auto [push, token] = w.Held();
  std::vector<int> kinds;
  for (const v1::Envelope& env : push.envelopes()) {
    v1::OpHeader h;
    REQUIRE(h.ParseFromString(env.header()));
    kinds.push_back(h.kind());
  }
  INFO("kinds of the held push");
  CAPTURE(kinds);
  // Content of scope 0, the scope with its key, content of the new scope, scope 0 again.
  REQUIRE(kinds.size() == 17);
  CHECK(kinds[5] == v1::OP_KIND_SET_SCOPE);
  CHECK(kinds[6] == v1::OP_KIND_REKEY);

  // A content op sealed to the new scope but claiming an older epoch is refused, after the
  // SetScope and Rekey before it in the same push were applied.
  v1::PushRequest bad = push;
  v1::OpHeader h;
  REQUIRE(h.ParseFromString(bad.envelopes(8).header()));
  REQUIRE(h.scope_id() == *scope);
  h.set_epoch(h.epoch() - 1);
  bad.mutable_envelopes(8)->set_header(h.SerializeAsString());
  auto refused = w.net->Push(bad, token);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("envelope 8:") != std::string::npos);
  CHECK(w.ReaderSeq() == 2);

  auto resp = w.net->Push(push, token);
  REQUIRE(resp.ok());
  REQUIRE(resp->results_size() == 17);
  for (int i = 0; i < 17; ++i) CHECK(resp->results(i).seq() == static_cast<uint64_t>(3 + i));
  w.ExpectConverged(ids, 2 + 17);
}

TEST_CASE("a device's client op ids rise across a restart, and a lost answer stores nothing twice",
          "[push]") {
  Writer w;
  auto ClientOpIds = [](const v1::PushRequest& push) {
    std::vector<Bytes> out;
    for (const v1::Envelope& env : push.envelopes()) {
      auto op = protocol::ParseEnvelopeFields(env);
      REQUIRE(op.ok());
      out.push_back(ToBytes(op->header.client_op_id()));
    }
    return out;
  };
  std::vector<Bytes> ids = w.Edit(30);
  auto [first, token] = w.Held();
  REQUIRE(first.envelopes_size() == 30);
  // kringd stores the push, but its answer never reaches the device, which then restarts.
  auto stored = w.net->Push(first, token);
  REQUIRE(stored.ok());
  w.writer.Reopen();
  for (const Bytes& id : w.Edit(20)) ids.push_back(id);
  auto [next, next_token] = w.Held();
  REQUIRE(next.envelopes_size() >= 20);
  // In queueing order, each id sorts after the one before it (kringd's idempotency index then
  // appends), before and after the restart.
  std::vector<Bytes> op_ids = ClientOpIds(first);
  for (const Bytes& id : ClientOpIds(next)) {
    if (std::find(op_ids.begin(), op_ids.end(), id) == op_ids.end()) op_ids.push_back(id);
  }
  REQUIRE(op_ids.size() == 50);
  for (size_t i = 1; i < op_ids.size(); ++i) CHECK(op_ids[i - 1] < op_ids[i]);
  // The 30 that kringd kept are stored once: 2 ops of the case set-up, then 50 notes.
  w.ExpectConverged(ids, 2 + 50);
}

TEST_CASE("client op ids in a case do not show how many ops the device queued in its other cases",
          "[push]") {
  Writer w;
  auto other = w.writer->CreateCase({{w.reader.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(other.ok());
  // One note in the case, then i + 1 in the other case, and so on.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(w.writer->CreateEntity(w.case_id, "note").ok());
    for (int j = 0; j <= i; ++j) REQUIRE(w.writer->CreateEntity(*other, "note").ok());
  }
  w.wire->hold = true;
  CHECK(w.writer->SyncNow().status().transient());
  // The counter half of each id the case's members read, in push order.
  std::vector<uint64_t> counters;
  for (const auto& [push, token] : w.wire->All()) {
    if (push.case_id() != ToString(w.case_id)) continue;
    for (const v1::Envelope& env : push.envelopes()) {
      auto op = protocol::ParseEnvelopeFields(env);
      REQUIRE(op.ok());
      const std::string& id = op->header.client_op_id();
      uint64_t counter = 0;
      for (size_t i = 0; i < 8; ++i) counter = counter << 8 | static_cast<uint8_t>(id[i]);
      counters.push_back(counter);
    }
  }
  REQUIRE(counters.size() == 10);
  // One apart each: the 55 notes of the other case between them leave no trace.
  for (size_t i = 1; i < counters.size(); ++i) CHECK(counters[i] == counters[i - 1] + 1);
  w.wire->hold = false;
  REQUIRE(w.writer->SyncNow().ok());
  CHECK(w.writer->PendingIntents(w.case_id) == 0);
  CHECK(w.writer->PendingIntents(*other) == 0);
}

TEST_CASE("edits queued before a rekey and pushed long after it are sealed again and arrive once",
          "[push][slow]") {
  // The chair's device queued edits, then learned that someone left and pushed its Rekey first:
  // the edits' client_op_ids lie below the Rekey's, so kringd looks them up as possible retries,
  // from their seen_seq on (docs/protocol.md section 8, check 4). 4,100 ops from another member
  // land between the Rekey's push and theirs, so kringd cannot look back far enough and answers
  // FAILED_PRECONDITION: the device pulls, seals them again against the head, and they arrive
  // once, on every device, without an alarm.
  TestServer server;
  auto net = ServerTransport(server);
  auto spy = std::make_shared<TamperTransport>(net);
  Device chair(spy), member(net), cousin(net);
  auto cid = chair->CreateCase(
      {{member.account_id(), v1::ROLE_MEMBER}, {cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &member, &cousin}) REQUIRE((*d)->SyncNow().ok());
  const int entities_before = chair->ConfirmedView(*cid)->entities_size();

  for (int i = 0; i < 100; ++i) REQUIRE(chair->CreateEntity(*cid, "note").ok());
  REQUIRE(cousin->LeaveCase(*cid).ok());
  REQUIRE(cousin->SyncNow().ok());

  std::mutex mu;
  std::map<std::string, std::set<std::string>> sealings;  // client_op_id -> header bytes sent
  int pushes = 0;
  spy->before_push = [&](v1::PushRequest& push) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const v1::Envelope& env : push.envelopes()) {
        auto op = protocol::ParseEnvelopeFields(env);
        REQUIRE(op.ok());
        sealings[op->header.client_op_id()].insert(env.header());
      }
      if (++pushes != 2) return;
    }
    // Between the push with the Rekey and the next one.
    for (int i = 0; i < 4100; ++i) REQUIRE(member->CreateEntity(*cid, "note").ok());
    REQUIRE(member->SyncNow().ok());
    REQUIRE(member->PendingIntents(*cid) == 0);
  };
  REQUIRE(chair->SyncNow().ok());
  spy->before_push = nullptr;
  REQUIRE(chair->SyncNow().ok());
  REQUIRE(member->SyncNow().ok());
  CHECK(chair->PendingIntents(*cid) == 0);
  // Some edits were sent twice, sealed differently: the refusal and the new sealing.
  size_t resealed = 0;
  for (const auto& [id, headers] : sealings) resealed += headers.size() > 1 ? 1U : 0U;
  CHECK(resealed > 0);
  for (Device* d : {&chair, &member}) {
    auto view = (*d)->ConfirmedView(*cid);
    REQUIRE(view.ok());
    CHECK(view->entities_size() == entities_before + 100 + 4100);
    CHECK((*d)->Alarms().empty());
  }
  CHECK(chair->ConfirmedView(*cid)->seq() == member->ConfirmedView(*cid)->seq());
}

TEST_CASE("edits queued before a leave's rekey go out after it in one push and arrive once",
          "[push]") {
  // The chair's device queued edits, then learned that someone left: it pushes the case's Rekey
  // first and the edits after it, in one push, their client_op_ids below the Rekey's
  // (docs/protocol.md section 11). kringd's first pass stores the Rekey (its row, the new epoch,
  // the device's cursor) before the first edit stops it as a possible retry; that pass is rolled
  // back to the writer job's savepoint and the second pass stores every op once. The answer is
  // lost and the push sent again: each op gets its original result. Every device then reads
  // the log without an alarm.
  TestServer server;
  auto net = ServerTransport(server);
  auto wire = std::make_shared<HoldingTransport>(net);
  auto reader_wire = std::make_shared<TamperTransport>(net);
  Device chair(wire), member(reader_wire), cousin(net);
  auto cid = chair->CreateCase(
      {{member.account_id(), v1::ROLE_MEMBER}, {cousin.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  SyncAll({&chair, &member, &cousin}, 1);
  std::vector<Bytes> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = chair->CreateEntity(*cid, "note");
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  REQUIRE(cousin->LeaveCase(*cid).ok());
  REQUIRE(cousin->SyncNow().ok());
  const uint64_t before = 3;  // the case's creation, its first Rekey, the leave

  wire->hold = true;
  CHECK(chair->SyncNow().status().transient());
  auto [push, token] = wire->Last();
  REQUIRE(push.envelopes_size() == 6);
  std::vector<std::string> op_ids;
  for (int i = 0; i < 6; ++i) {
    auto op = protocol::ParseEnvelopeFields(push.envelopes(i));
    REQUIRE(op.ok());
    CHECK(op->header.kind() == (i == 0 ? v1::OP_KIND_REKEY : v1::OP_KIND_CONTENT));
    op_ids.push_back(op->header.client_op_id());
  }
  // Each edit's id lies below the Rekey's: kringd's first pass stops at the first edit.
  for (int i = 1; i < 6; ++i) CHECK(op_ids[static_cast<size_t>(i)] < op_ids[0]);

  auto stored = net->Push(push, token);
  REQUIRE(stored.ok());
  REQUIRE(stored->results_size() == 6);
  for (int i = 0; i < 6; ++i) {
    CHECK_FALSE(stored->results(i).duplicate());
    CHECK(stored->results(i).seq() == before + 1 + static_cast<uint64_t>(i));
  }
  // The answer never reached the device; the push comes again, all of it a retry.
  auto again = net->Push(push, token);
  REQUIRE(again.ok());
  REQUIRE(again->results_size() == 6);
  for (int i = 0; i < 6; ++i) {
    CHECK(again->results(i).duplicate());
    CHECK(again->results(i).seq() == stored->results(i).seq());
    CHECK(again->results(i).chain_hash() == stored->results(i).chain_hash());
  }

  // The member's device reads exactly these six ops after the leave, each chain hash as
  // answered, and verifies them (no alarm).
  std::vector<v1::LogEntry> seen;
  reader_wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const auto& e : resp.entries()) seen.push_back(e);
  };
  REQUIRE(member->SyncNow().ok());
  std::vector<v1::LogEntry> pushed_part;
  for (const v1::LogEntry& e : seen) {
    if (e.seq() > before) pushed_part.push_back(e);
    if (e.seq() != before) continue;
    auto leave = protocol::ParseEnvelopeFields(e.envelope());
    REQUIRE(leave.ok());
    CHECK(leave->header.kind() == v1::OP_KIND_REMOVE_MEMBER);
  }
  REQUIRE(pushed_part.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    const int r = static_cast<int>(i);
    CHECK(pushed_part[i].seq() == stored->results(r).seq());
    CHECK(pushed_part[i].chain_hash() == stored->results(r).chain_hash());
    CHECK(pushed_part[i].envelope().SerializeAsString() == push.envelopes(r).SerializeAsString());
  }
  wire->hold = false;
  REQUIRE(chair->SyncNow().ok());
  for (Device* d : {&chair, &member}) {
    auto view = (*d)->ConfirmedView(*cid);
    REQUIRE(view.ok());
    CHECK(view->seq() == before + 6);
    CHECK(view->scope_epochs().at(0) == 2);
    for (const Bytes& id : ids) CHECK(view->entities().count(Hex(id)) == 1);
    CHECK((*d)->Alarms().empty());
    CHECK((*d)->PendingIntents(*cid) == 0);
  }
}
