// A lying server: a transport between one device and the real kringd rewrites what the server
// returns, re-chains it and signs the head with the server's own key, as a malicious operator
// could. Each lie must raise the right persistent alarm and apply nothing forged.
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/v1/local.pb.h"

#include "store/local_store.h"
#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using client::AlarmKind;
using google::protobuf::util::MessageDifferencer;

namespace {

struct Scenario {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  std::shared_ptr<TamperTransport> lie = std::make_shared<TamperTransport>(net);
  Device writer{net};
  Device victim{lie};
  Device third{net};
  Bytes case_id;
  Bytes entity;

  Scenario() {
    auto cid = writer->CreateCase(
        {{victim.account_id(), v1::ROLE_MEMBER}, {third.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(cid.ok());
    case_id = *cid;
    auto e = writer->CreateEntity(case_id, "agreement");
    REQUIRE(e.ok());
    entity = *e;
    REQUIRE(writer->SyncNow().ok());
    REQUIRE(victim->SyncNow().ok());
    REQUIRE(third->SyncNow().ok());
  }

  // The writer adds `n` ops that the victim has not seen yet.
  void WriteMore(int n) {
    for (int i = 0; i < n; ++i) {
      REQUIRE(writer->SetField(case_id, entity, "step", Text("stap " + std::to_string(i))).ok());
      REQUIRE(writer->SyncNow().ok());
    }
  }

  // Syncs the victim through the lie and checks the alarm and that nothing was applied.
  void ExpectAlarm(AlarmKind kind) {
    v1::CaseState before = *victim->ConfirmedView(case_id);
    REQUIRE(victim->SyncNow().ok());  // an alarm halts the case, not the client
    auto alarms = victim->Alarms();
    REQUIRE(alarms.size() == 1);
    CHECK(client::AlarmKindName(alarms[0].kind) == std::string(client::AlarmKindName(kind)));
    CHECK(alarms[0].case_id == case_id);
    CHECK((kind == AlarmKind::kRollback || !alarms[0].evidence.empty()));
    CHECK(MessageDifferencer::Equals(before, *victim->ConfirmedView(case_id)));
    // Persistent: still there after a restart of the app, and the case stays stopped.
    victim.Reopen();
    CHECK(victim->Alarms().size() == 1);
    lie->on_pull = nullptr;
    REQUIRE(victim->SyncNow().ok());
    CHECK(MessageDifferencer::Equals(before, *victim->ConfirmedView(case_id)));
    CHECK(victim->CreateEntity(case_id, "note").status().code() == StatusCode::kFailedPrecondition);
  }

  SecretBytes ServerKey() { return server.ServerSecretKey(); }
};

std::string Flip(std::string s, size_t at) {
  s[at % s.size()] = static_cast<char>(s[at % s.size()] ^ 0x01);
  return s;
}

// A server that answers as if its log ended at `cut`: true entries up to it, none after, and a
// head at `cut` that it signs (also when the page holds nothing past the cursor at `cut`).
void EndLogAt(uint64_t cut, const SecretBytes& key, const v1::PullRequest& req,
              v1::PullResponse& resp) {
  Bytes hash_at_cut;
  auto* entries = resp.mutable_entries();
  for (int i = entries->size() - 1; i >= 0; --i) {
    if (entries->Get(i).seq() > cut) {
      entries->DeleteSubrange(i, 1);
    } else if (entries->Get(i).seq() == cut) {
      hash_at_cut = ToBytes(entries->Get(i).chain_hash());
    }
  }
  if (hash_at_cut.empty()) {
    if (req.after_seq() != cut) return;
    hash_at_cut = ToBytes(req.after_chain_hash());  // nothing past the cut, consistently
  }
  *resp.mutable_head() =
      protocol::MakeReceipt(View(req.case_id()), cut, hash_at_cut, resp.head().time_ms(), key);
}

}  // namespace

TEST_CASE("a flipped ciphertext bit raises TAMPER", "[malicious]") {
  Scenario s;
  s.WriteMore(3);
  SecretBytes key = s.ServerKey();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() < 2) return;
    auto* env = resp.mutable_entries(1)->mutable_envelope();
    env->set_ciphertext(Flip(env->ciphertext(), 40));
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("an edited header raises TAMPER", "[malicious]") {
  Scenario s;
  s.WriteMore(2);
  SecretBytes key = s.ServerKey();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() < 1) return;
    auto* env = resp.mutable_entries(resp.entries_size() - 1)->mutable_envelope();
    v1::OpHeader h;
    h.ParseFromString(env->header());
    h.set_created_at_ms(h.created_at_ms() - 86400000);  // backdate by a day
    env->set_header(h.SerializeAsString());
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("a changed chain hash without re-signing raises TAMPER", "[malicious]") {
  Scenario s;
  s.WriteMore(2);
  s.lie->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (resp.entries_size() < 1) return;
    resp.mutable_entries(0)->set_chain_hash(Flip(resp.entries(0).chain_hash(), 0));
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("a dropped op raises DROP", "[malicious]") {
  Scenario s;
  s.WriteMore(3);
  SecretBytes key = s.ServerKey();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() < 3) return;
    resp.mutable_entries()->DeleteSubrange(1, 1);
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kDrop);
}

TEST_CASE("two reordered ops raise TAMPER", "[malicious]") {
  Scenario s;
  s.WriteMore(3);
  SecretBytes key = s.ServerKey();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() < 2) return;
    resp.mutable_entries()->SwapElements(0, 1);
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("a replayed op raises TAMPER", "[malicious]") {
  Scenario s;
  s.WriteMore(2);
  SecretBytes key = s.ServerKey();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() < 1) return;
    *resp.add_entries() = resp.entries(0);
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("an older head raises ROLLBACK", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    // Pretend the last op never happened: an older head, properly signed, and no entries.
    resp.clear_entries();
    *resp.mutable_head() = protocol::MakeReceipt(View(req.case_id()), req.after_seq() - 1,
                                                 Bytes(32, 0), resp.head().time_ms(), key);
  };
  s.ExpectAlarm(AlarmKind::kRollback);
}

// A catch-up that ends short of the signed head (at its entry cap, or broken off) keeps that
// head: kringd signed that its log reaches that far, so a later answer that stops below it is a
// rollback, though it reaches past what this device verified.
TEST_CASE("a head below one the device was shown before raises ROLLBACK, after a short catch-up",
          "[malicious]") {
  Scenario s;
  const uint64_t base = s.victim->ConfirmedView(s.case_id)->seq();
  s.WriteMore(20);
  // Pages of 2, and the network drops out once the catch-up has 4 entries: it keeps those and
  // stops well short of the head.
  s.lie->pull_limit = 2;
  s.lie->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    for (const v1::LogEntry& e : resp.entries()) {
      if (e.seq() >= base + 4) s.lie->fail_pulls = true;
    }
  };
  (void)s.victim->SyncNow();  // broken off: what verified is kept
  const uint64_t verified = s.victim->ConfirmedView(s.case_id)->seq();
  REQUIRE(verified > base);
  REQUIRE(verified < base + 12);
  REQUIRE(s.victim->Alarms().empty());
  s.lie->fail_pulls = false;

  // Now the server answers as if its log ended at base + 12: true entries, a head it signs,
  // but below the base + 20 it signed before.
  SecretBytes key = s.ServerKey();
  const uint64_t cut = base + 12;
  s.lie->pull_limit = 0;
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    EndLogAt(cut, key, req, resp);
  };
  s.ExpectAlarm(AlarmKind::kRollback);
}

// Within one catch-up too: a page signed at a lower head than the page before it is a rollback.
TEST_CASE("a page whose head is below the previous page's raises ROLLBACK", "[malicious]") {
  Scenario s;
  const uint64_t base = s.victim->ConfirmedView(s.case_id)->seq();
  s.WriteMore(10);
  SecretBytes key = s.ServerKey();
  const uint64_t cut = base + 4;
  // Pages of 2: the first one as kringd signed it (head base + 10), the next ones as if the log
  // ended at base + 4.
  s.lie->pull_limit = 2;
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (req.after_seq() == base) return;
    EndLogAt(cut, key, req, resp);
  };
  REQUIRE(s.victim->SyncNow().ok());  // an alarm halts the case, not the client
  auto alarms = s.victim->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == AlarmKind::kRollback);
  // The first page verified and is kept; nothing after it.
  CHECK(s.victim->ConfirmedView(s.case_id)->seq() == base + 2);
  s.victim.Reopen();
  CHECK(s.victim->Alarms().size() == 1);
}

TEST_CASE("a head not signed by the pinned server key raises TAMPER", "[malicious]") {
  Scenario s;
  s.WriteMore(1);
  auto impostor = crypto::NewSigningKeyPair();
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    Rechain(req, resp, impostor.secret_key);
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("showing two devices different histories raises FORK", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  // The writer adds X; the third member sees X and then writes Y.
  REQUIRE(s.writer->SetField(s.case_id, s.entity, "note", Text("na overleg")).ok());
  REQUIRE(s.writer->SyncNow().ok());
  REQUIRE(s.third->SyncNow().ok());
  REQUIRE(s.third->SetField(s.case_id, s.entity, "note", Text("definitief")).ok());
  REQUIRE(s.third->SyncNow().ok());
  // The victim is served a history without X: Y claims to have seen a position it now holds.
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (resp.entries_size() != 2) return;
    resp.mutable_entries()->DeleteSubrange(0, 1);
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kFork);
}

TEST_CASE("a log that contradicts the device's own receipt raises FORK", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  // X by the writer is ordered first; the server hides it from the victim for now.
  REQUIRE(s.writer->SetField(s.case_id, s.entity, "theirs", Text("ik help")).ok());
  REQUIRE(s.writer->SyncNow().ok());
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  int pulls = 0;
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (++pulls == 1) {
      // Hide X: an empty pull with a properly signed head at the victim's own position.
      resp.clear_entries();
      *resp.mutable_head() =
          protocol::MakeReceipt(View(req.case_id()), req.after_seq(), View(req.after_chain_hash()),
                                resp.head().time_ms(), key);
      return;
    }
    // The victim's op B was acknowledged at seq N+1; now show B at N and X at N+1.
    if (resp.entries_size() != 2) return;
    resp.mutable_entries()->SwapElements(0, 1);
    Rechain(req, resp, key);
  };
  s.ExpectAlarm(AlarmKind::kFork);
}

// A server that lies at push time (docs/protocol.md "Receipts"): what it answered to this
// device's push, and every receipt it signed, must agree with the log it serves.
namespace {

// The victim's FORK evidence, parsed; the alarm and its evidence hold no content.
v1::ForkEvidence ForkEvidenceOf(Device& victim, const std::string& content) {
  auto alarms = victim->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].detail.find(content) == std::string::npos);
  CHECK(ToString(alarms[0].evidence).find(content) == std::string::npos);
  v1::ForkEvidence ev;
  REQUIRE(
      ev.ParseFromArray(alarms[0].evidence.data(), static_cast<int>(alarms[0].evidence.size())));
  return ev;
}

// The chain hash the real server holds at `seq` (read with the victim's own session).
std::string RealChainHashAt(Scenario& s, uint64_t seq) {
  v1::PullRequest all;
  all.set_case_id(ToString(s.case_id));
  auto log = s.net->Pull(all, s.lie->last_token());
  if (!log.ok()) return {};
  for (const v1::LogEntry& e : log->entries()) {
    if (e.seq() == seq) return e.chain_hash();
  }
  return {};
}

Bytes PublicKeyOf(const SecretBytes& secret) { return Bytes(secret.end() - 32, secret.end()); }

}  // namespace

TEST_CASE("a push answered with a position that holds another op raises FORK", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  const uint64_t n = s.victim->ConfirmedView(s.case_id)->seq();
  // X by the writer is ordered at n+1; the server hides it from the victim for now.
  REQUIRE(s.writer->SetField(s.case_id, s.entity, "theirs", Text("ik help")).ok());
  REQUIRE(s.writer->SyncNow().ok());
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  int pulls = 0;
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (++pulls > 1) return;  // after the push: the true log, X at n+1 and the victim's B at n+2
    resp.clear_entries();
    *resp.mutable_head() =
        protocol::MakeReceipt(View(req.case_id()), req.after_seq(), View(req.after_chain_hash()),
                              resp.head().time_ms(), key);
  };
  // B is stored at n+2, but the answer says n+1 (X's chain hash); its receipt, the real one at
  // n+2, covers that seq and agrees with the log: only tying B to n+1 shows the lie.
  s.lie->on_push = [&](const v1::PushRequest&, v1::PushResponse& resp) {
    resp.mutable_results(0)->set_seq(n + 1);
    resp.mutable_results(0)->set_chain_hash(RealChainHashAt(s, n + 1));
  };
  s.ExpectAlarm(AlarmKind::kFork);
  auto alarms = s.victim->Alarms();
  CHECK(alarms[0].seq == n + 1);
  v1::ForkEvidence ev = ForkEvidenceOf(s.victim, "koken");
  CHECK(ev.push_result().seq() == n + 1);
  CHECK(ev.entry().seq() == n + 1);
  CHECK(ev.sent_envelope_hash() != ev.entry().envelope_hash());
  v1::OpHeader entry_header;  // the entry is named by its header and hashes, not its content
  CHECK(entry_header.ParseFromString(ev.entry().header()));
  REQUIRE(ev.receipts_size() == 1);
  CHECK(protocol::VerifyReceipt(ev.receipts(0), PublicKeyOf(key)));
  CHECK(protocol::VerifyReceipt(ev.head(), PublicKeyOf(key)));
  CHECK(s.victim->PendingIntents(s.case_id) == 1);  // B is kept, not confirmed by the lie
}

TEST_CASE("a push answered with a verified position of another op raises FORK", "[malicious]") {
  Scenario s;
  REQUIRE(s.writer->SetField(s.case_id, s.entity, "theirs", Text("ik help")).ok());
  REQUIRE(s.writer->SyncNow().ok());
  REQUIRE(s.victim->SyncNow().ok());  // the victim verified X at n
  const uint64_t n = s.victim->ConfirmedView(s.case_id)->seq();
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  s.lie->on_push = [&](const v1::PushRequest&, v1::PushResponse& resp) {
    resp.mutable_results(0)->set_seq(n);
    resp.mutable_results(0)->set_chain_hash(RealChainHashAt(s, n));
  };
  s.ExpectAlarm(AlarmKind::kFork);
  v1::ForkEvidence ev = ForkEvidenceOf(s.victim, "koken");
  CHECK(ev.push_result().seq() == n);
  CHECK(ev.entry().seq() == n);
  CHECK(!ev.has_head());  // the entry comes from the victim's own verified log
}

TEST_CASE("a receipt for a verified position with another chain hash raises FORK", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  const uint64_t n = s.victim->ConfirmedView(s.case_id)->seq();
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  const Bytes other(32, 7);
  // A consistent answer (result and receipt agree) about a seq the victim verified long ago.
  s.lie->on_push = [&](const v1::PushRequest&, v1::PushResponse& resp) {
    v1::PushResult* r = resp.mutable_results(0);
    r->set_seq(n);
    r->set_chain_hash(ToString(other));
    *r->mutable_receipt() = protocol::MakeReceipt(s.case_id, n, other, r->receipt().time_ms(), key);
  };
  s.ExpectAlarm(AlarmKind::kFork);
  v1::ForkEvidence ev = ForkEvidenceOf(s.victim, "koken");
  REQUIRE(ev.receipts_size() == 1);
  CHECK(ev.receipts(0).seq() == n);
  CHECK(ev.entry().seq() == n);
  CHECK(ev.entry().chain_hash() != ev.receipts(0).chain_hash());
}

TEST_CASE("a push answered with a seq beyond the stored range raises TAMPER", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  // Result and signed receipt agree, but the seq cannot be kept as a local seq.
  const uint64_t far = (uint64_t{1} << 63) + 1;
  s.lie->on_push = [&](const v1::PushRequest&, v1::PushResponse& resp) {
    v1::PushResult* r = resp.mutable_results(0);
    r->set_seq(far);
    *r->mutable_receipt() = protocol::MakeReceipt(s.case_id, far, ToBytes(r->chain_hash()),
                                                  r->receipt().time_ms(), key);
  };
  s.ExpectAlarm(AlarmKind::kTamper);
}

TEST_CASE("two receipts for one position are both kept and raise FORK", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  const uint64_t n = s.victim->ConfirmedView(s.case_id)->seq();
  // B is acknowledged honestly at n+1, with a receipt.
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  REQUIRE(s.victim->SyncNow().ok());
  REQUIRE(s.victim->Alarms().empty());
  // D's answer comes with a second receipt for n+1 that signs another chain hash.
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan fietsen")).ok());
  const Bytes other(32, 9);
  s.lie->on_push = [&](const v1::PushRequest&, v1::PushResponse& resp) {
    v1::PushResult* r = resp.mutable_results(0);
    r->set_seq(n + 1);
    r->set_chain_hash(ToString(other));
    *r->mutable_receipt() =
        protocol::MakeReceipt(s.case_id, n + 1, other, r->receipt().time_ms(), key);
  };
  s.ExpectAlarm(AlarmKind::kFork);
  // Portable proof: two receipts by the server key for one (case, seq), different chain hashes.
  v1::ForkEvidence ev = ForkEvidenceOf(s.victim, "fietsen");
  REQUIRE(ev.receipts_size() == 2);
  for (const v1::Receipt& r : ev.receipts()) {
    CHECK(protocol::VerifyReceipt(r, PublicKeyOf(key)));
    CHECK(r.seq() == n + 1);
    CHECK(r.case_id() == ToString(s.case_id));
  }
  CHECK(ev.receipts(0).chain_hash() != ev.receipts(1).chain_hash());
  // Both are in the victim's store too.
  s.victim.Close();
  auto store = client::LocalStore::Open(s.victim.db_path(), s.victim.storage_key());
  REQUIRE(store.ok());
  auto first = (*store)->Receipts(s.case_id);
  auto second = (*store)->ConflictingReceipts(s.case_id);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(first->count(n + 1) == 1);
  REQUIRE(second->size() == 1);
  CHECK(first->at(n + 1).chain_hash() == ev.receipts(0).chain_hash());
  CHECK((*second)[0].chain_hash() == ToString(other));
}

TEST_CASE("a retried push answered as a duplicate raises nothing", "[malicious]") {
  Scenario s;
  SecretBytes key = s.ServerKey();
  REQUIRE(s.victim->SetField(s.case_id, s.entity, "mine", Text("ik kan koken")).ok());
  // The server commits B but the answer is lost, and the next pull does not show B yet (as if
  // the commit were slow): the device pushes the same envelope again and gets the original
  // result back as a duplicate, with a receipt re-signed over it.
  int pushes = 0;
  s.lie->after_push = [&](const v1::PushRequest&, const v1::PushResponse&) {
    return pushes++ == 0 ? Status(StatusCode::kUnavailable, "connection reset") : Status();
  };
  bool duplicate = false;
  s.lie->on_push = [&](const v1::PushRequest&, v1::PushResponse& resp) {
    duplicate |= resp.results_size() == 1 && resp.results(0).duplicate();
  };
  CHECK(s.victim->SyncNow().status().transient());
  int pulls = 0;
  s.lie->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (++pulls > 1) return;
    resp.clear_entries();
    *resp.mutable_head() =
        protocol::MakeReceipt(View(req.case_id()), req.after_seq(), View(req.after_chain_hash()),
                              resp.head().time_ms(), key);
  };
  REQUIRE(s.victim->SyncNow().ok());
  CHECK(duplicate);
  CHECK(s.victim->Alarms().empty());
  CHECK(s.victim->PendingIntents(s.case_id) == 0);
  REQUIRE(s.writer->SyncNow().ok());
  CHECK(s.victim->ConfirmedView(s.case_id)->seq() == s.writer->ConfirmedView(s.case_id)->seq());
}
