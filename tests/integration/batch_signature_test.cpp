// Batch signatures end to end (docs/protocol.md "Batch signatures"): libkring signs only the last
// content op of each push's run, readers accept the run through its hash links, and a server that
// strips that signature or cuts a page inside a run raises TAMPER.
#include <atomic>
#include <functional>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using client::AlarmKind;

namespace {

int Signed(const v1::PushRequest& r) {
  int n = 0;
  for (const v1::Envelope& env : r.envelopes()) n += env.signature().empty() ? 0 : 1;
  return n;
}

struct Pair : WriterReaderCase<> {
  void ExpectConverged(const std::vector<Bytes>& ids) {
    for (Device* d : {&writer, &reader}) {
      auto view = (*d)->ConfirmedView(case_id);
      REQUIRE(view.ok());
      for (const Bytes& id : ids) CHECK(view->entities().count(Hex(id)) == 1);
      CHECK((*d)->Alarms().empty());
      CHECK((*d)->PendingIntents(case_id) == 0);
    }
    CHECK(writer->ConfirmedView(case_id)->seq() == reader->ConfirmedView(case_id)->seq());
  }

  // The reader's server rewrites each full page with `lie` and re-signs it as a malicious server
  // would: the reader raises one TAMPER alarm and applies nothing of it.
  void ExpectTamperWhenPagesAre(const std::function<void(v1::PullResponse&)>& lie) {
    SecretBytes key = server.ServerSecretKey();
    reader_wire->on_pull = [lie, key](const v1::PullRequest& req, v1::PullResponse& resp) {
      if (resp.entries_size() < 10) return;
      lie(resp);
      Rechain(req, resp, key);
    };
    v1::CaseState before = *reader->ConfirmedView(case_id);
    REQUIRE(reader->SyncNow().ok());
    auto alarms = reader->Alarms();
    REQUIRE(alarms.size() == 1);
    CHECK(alarms[0].kind == AlarmKind::kTamper);
    CHECK(reader->ConfirmedView(case_id)->seq() == before.seq());
  }
};

}  // namespace

TEST_CASE("50 offline edits go out as one push with one signature and converge", "[batchsig]") {
  Pair p;
  std::vector<Bytes> ids = p.Edit(50);
  std::vector<std::pair<int, int>> pushes;  // envelopes, signed
  p.wire->after_push = [&](const v1::PushRequest& r, const v1::PushResponse&) {
    pushes.emplace_back(r.envelopes_size(), Signed(r));
    return Status();
  };
  REQUIRE(p.writer->SyncNow().ok());
  REQUIRE(pushes.size() == 1);
  CHECK(pushes[0] == std::make_pair(50, 1));
  // A reader with pages of 7: kringd extends each page to the end of the run it cuts into.
  p.reader_wire->pull_limit = 7;
  REQUIRE(p.reader->SyncNow().ok());
  p.ExpectConverged(ids);
  CHECK(p.reader->ConfirmedView(p.case_id)->seq() == 2 + 50);
}

TEST_CASE("a run longer than one push is split into signed runs", "[batchsig]") {
  Pair p;
  const int n = static_cast<int>(protocol::kMaxPushEnvelopes) + 10;
  std::vector<Bytes> ids = p.Edit(n);
  std::vector<std::pair<int, int>> pushes;
  p.wire->after_push = [&](const v1::PushRequest& r, const v1::PushResponse&) {
    pushes.emplace_back(r.envelopes_size(), Signed(r));
    CHECK_FALSE(r.envelopes(r.envelopes_size() - 1).signature().empty());
    return Status();
  };
  REQUIRE(p.writer->SyncNow().ok());
  REQUIRE(p.reader->SyncNow().ok());
  REQUIRE(pushes.size() == 2);
  CHECK(pushes[0] == std::make_pair(static_cast<int>(protocol::kMaxPushEnvelopes), 1));
  CHECK(pushes[1] == std::make_pair(10, 1));
  p.ExpectConverged(ids);
}

TEST_CASE("a batch stored with its response lost is retried with new edits after it",
          "[batchsig]") {
  Pair p;
  std::vector<Bytes> ids = p.Edit(30);
  std::atomic<int> pushes{0};
  p.wire->after_push = [&](const v1::PushRequest&, const v1::PushResponse&) {
    if (pushes++ > 0) return Status();
    return Status(StatusCode::kUnavailable, "connection reset");  // stored, answer lost
  };
  CHECK(p.writer->SyncNow().status().transient());
  CHECK(p.writer->PendingIntents(p.case_id) == 30);
  // More edits while the first batch waits: they form a run of their own after it.
  p.wire->fail_pushes = true;
  for (const Bytes& id : p.Edit(20)) ids.push_back(id);
  CHECK(p.writer->SyncNow().status().transient());
  p.wire->fail_pushes = false;
  REQUIRE(p.writer->SyncNow().ok());
  REQUIRE(p.reader->SyncNow().ok());
  p.ExpectConverged(ids);
  CHECK(p.reader->ConfirmedView(p.case_id)->seq() == 2 + 50);  // nothing stored twice
}

TEST_CASE("a server that strips the signature ending a run raises TAMPER", "[batchsig]") {
  Pair p;
  p.Edit(10);
  REQUIRE(p.writer->SyncNow().ok());
  p.ExpectTamperWhenPagesAre([](v1::PullResponse& resp) {
    resp.mutable_entries(resp.entries_size() - 1)->mutable_envelope()->clear_signature();
  });
}

TEST_CASE("a server that ends a page inside a run raises TAMPER", "[batchsig]") {
  Pair p;
  p.Edit(10);
  REQUIRE(p.writer->SyncNow().ok());
  // The page stops at the run's fifth op and the head is signed there, as if nothing followed.
  p.ExpectTamperWhenPagesAre([](v1::PullResponse& resp) {
    while (resp.entries_size() > 5) resp.mutable_entries()->RemoveLast();
  });
}

TEST_CASE("a refused batch is retried op by op, each op sent alone signed", "[batchsig]") {
  Pair p;
  std::vector<Bytes> ids = p.Edit(5);
  // The first push arrives with its run's signature damaged: kringd refuses it as a whole, and
  // libkring sends the first edit alone (signed now) before sealing the rest again.
  std::vector<std::pair<int, int>> pushes;
  p.wire->before_push = [&](v1::PushRequest& r) {
    pushes.emplace_back(r.envelopes_size(), Signed(r));
    if (pushes.size() > 1) return;
    v1::Envelope* last = r.mutable_envelopes(r.envelopes_size() - 1);
    std::string sig = last->signature();
    sig[0] = static_cast<char>(sig[0] ^ 1);
    last->set_signature(sig);
  };
  REQUIRE(p.writer->SyncNow().ok());
  REQUIRE(p.reader->SyncNow().ok());
  REQUIRE(pushes.size() == 3);
  CHECK(pushes[0] == std::make_pair(5, 1));
  CHECK(pushes[1] == std::make_pair(1, 1));
  CHECK(pushes[2] == std::make_pair(4, 1));
  p.ExpectConverged(ids);
  CHECK(p.reader->ConfirmedView(p.case_id)->seq() == 2 + 5);
}

TEST_CASE("a scope edit that needs a rekey, followed by 63 or more edits, still goes out",
          "[batchsig]") {
  // The Rekey and the edit it keys travel in one push: the run must count both, or it outgrows
  // a push and the device never sends it.
  const int edits = GENERATE(63, 64, 70);
  TestServer server;
  auto net = ServerTransport(server);
  Device chair(net), coordinator(net), teacher(net);
  auto cid = chair->CreateCase(
      {{coordinator.account_id(), v1::ROLE_COORDINATOR}, {teacher.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&chair, &coordinator, &teacher}) REQUIRE((*d)->SyncNow().ok());
  auto pros = coordinator->CreateScope(*cid, {teacher.account_id()});
  REQUIRE(pros.ok());
  for (Device* d : {&coordinator, &chair, &teacher}) REQUIRE((*d)->SyncNow().ok());
  // The coordinator edits offline in its scope; meanwhile the chair removes the teacher.
  for (int i = 0; i < edits; ++i) REQUIRE(coordinator->CreateEntity(*cid, "note", *pros).ok());
  REQUIRE(chair->RemoveMember(*cid, teacher.account_id()).ok());
  REQUIRE(chair->SyncNow().ok());
  for (int round = 0; round < 3; ++round) (void)coordinator->SyncNow();
  INFO("edits: " << edits << ", pending after 3 syncs: " << coordinator->PendingIntents(*cid));
  CHECK(coordinator->PendingIntents(*cid) == 0);
  CHECK(coordinator->Alarms().empty());
}
