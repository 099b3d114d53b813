// A lying server: a transport between one device and the real kringd rewrites what the server
// returns, re-chains it and signs the head with the server's own key, as a malicious operator
// could. Each lie must raise the right persistent alarm and apply nothing forged.
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

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
