// A cold sync whose first page brings the case's epoch key in its own Rekey: the content ops
// after that Rekey are opened on all cores before the fold reaches them (docs/performance.md, the
// cold sync item), and every check still holds for them.
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "store/local_store.h"
#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using client::AlarmKind;
using google::protobuf::util::MessageDifferencer;

namespace {

// Enough content ops after the Rekey for them to be opened on two threads.
constexpr int kNotes = 200;

// A writer's case with `cold` as a member that has never synced: its first pull page holds the
// CreateCase, the Rekey that brings the epoch key, and the notes.
struct ColdCase {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  std::shared_ptr<TamperTransport> cold_wire = std::make_shared<TamperTransport>(net);
  std::shared_ptr<TamperTransport> member_wire = std::make_shared<TamperTransport>(net);
  Device writer{net};
  Device member{member_wire};
  Device cold{cold_wire};
  Bytes case_id;
  std::vector<Bytes> notes;

  ColdCase() {
    auto cid = writer->CreateCase(
        {{member.account_id(), v1::ROLE_MEMBER}, {cold.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(cid.ok());
    case_id = *cid;
  }

  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      auto id = writer->CreateEntity(case_id, "note");
      REQUIRE(id.ok());
      notes.push_back(*id);
    }
    REQUIRE(writer->SyncNow().ok());
    REQUIRE(writer->PendingIntents(case_id) == 0);
  }

  // The cold device's first page, as kringd served it: CreateCase, Rekey, then content ops.
  void ExpectFirstPageHoldsRekeyAndContent(const v1::PullResponse& first, int entries) {
    REQUIRE(first.entries_size() == entries);
    v1::OpHeader rekey, note;
    REQUIRE(rekey.ParseFromString(first.entries(1).envelope().header()));
    REQUIRE(note.ParseFromString(first.entries(2).envelope().header()));
    CHECK(rekey.kind() == v1::OP_KIND_REKEY);
    CHECK(note.kind() == v1::OP_KIND_CONTENT);
  }

  void ExpectAllNotes() {
    auto mine = cold->ConfirmedView(case_id);
    auto theirs = writer->ConfirmedView(case_id);
    REQUIRE(mine.ok());
    REQUIRE(theirs.ok());
    CHECK(mine->seq() == theirs->seq());
    CHECK(static_cast<size_t>(mine->entities_size()) == notes.size());
    for (const Bytes& id : notes) CHECK(mine->entities().count(Hex(id)) == 1);
  }
};

}  // namespace

TEST_CASE("a cold sync whose first page holds the Rekey and the notes converges", "[coldsync]") {
  ColdCase c;
  c.Write(kNotes);
  v1::PullResponse first;
  c.cold_wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (req.after_seq() == 0) first = resp;
  };
  REQUIRE(c.cold->SyncNow().ok());
  c.ExpectFirstPageHoldsRekeyAndContent(first, kNotes + 2);
  CHECK(c.cold->Alarms().empty());
  c.ExpectAllNotes();
  CHECK(MessageDifferencer::Equals(*c.cold->ConfirmedView(c.case_id),
                                   *c.writer->ConfirmedView(c.case_id)));
}

TEST_CASE("a tampered note after the Rekey in a cold sync's first page raises TAMPER",
          "[coldsync]") {
  ColdCase c;
  c.Write(kNotes);
  SecretBytes key = c.server.ServerSecretKey();
  c.cold_wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (req.after_seq() != 0) return;
    auto* env = resp.mutable_entries(150)->mutable_envelope();
    std::string ciphertext = env->ciphertext();
    ciphertext[40] = static_cast<char>(ciphertext[40] ^ 0x01);
    env->set_ciphertext(ciphertext);
    Rechain(req, resp, key);
  };
  REQUIRE(c.cold->SyncNow().ok());  // an alarm halts the case, not the client
  auto alarms = c.cold->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == AlarmKind::kTamper);
  CHECK(alarms[0].case_id == c.case_id);
  // Nothing of the page was applied.
  auto view = c.cold->ConfirmedView(c.case_id);
  REQUIRE(view.ok());
  CHECK(view->seq() == 0);
  CHECK(view->entities_size() == 0);
}

TEST_CASE("a member's unreadable note in a cold sync's first page is reported, the rest applied",
          "[coldsync]") {
  ColdCase c;
  c.Write(kNotes / 2);
  REQUIRE(c.member->SyncNow().ok());
  const std::string token = c.member_wire->last_token();
  // The member plays foul: a validly signed, correctly placed op whose ciphertext is garbage
  // under the right key (kringd cannot tell; only a reader that opens it can).
  c.member.Close();
  auto store = client::LocalStore::Open(c.member.db_path(), c.member.storage_key());
  REQUIRE(store.ok());
  auto account = (*store)->LoadAccount();
  REQUIRE(account.ok());
  auto epoch_key = (*store)->FindEpochKey(c.case_id, 0, 1);
  REQUIRE(epoch_key.ok());
  REQUIRE(epoch_key->has_value());
  v1::OpHeader h;
  h.set_version(protocol::kVersion);
  h.set_case_id(ToString(c.case_id));
  h.set_epoch(1);
  h.set_author_account_id((*account)->account_id());
  h.set_author_device_id((*account)->device_id());
  h.set_device_counter(1);
  h.set_client_op_id(ToString(crypto::RandomBytes(16)));
  h.set_kind(v1::OP_KIND_CONTENT);
  v1::Envelope env;
  env.set_header(h.SerializeAsString());
  Bytes nonce = crypto::RandomBytes(24);
  env.set_nonce(ToString(nonce));
  env.set_key_commitment(ToString(protocol::OpKeyCommitment((*epoch_key)->key, nonce)));
  env.set_ciphertext(ToString(crypto::RandomBytes(272)));
  env.set_signature(ToString(
      crypto::Sign(View((*account)->device_signing_secret_key()), protocol::OpDigest(env))));
  v1::PushRequest push;
  push.set_case_id(ToString(c.case_id));
  *push.add_envelopes() = env;
  REQUIRE(c.net->Push(push, token).ok());
  c.Write(kNotes / 2);

  v1::PullResponse first;
  c.cold_wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (req.after_seq() == 0) first = resp;
  };
  REQUIRE(c.cold->SyncNow().ok());
  c.ExpectFirstPageHoldsRekeyAndContent(first, kNotes + 3);
  auto alarms = c.cold->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].seq == static_cast<uint64_t>(kNotes / 2 + 3));
  CHECK(alarms[0].detail.find("unreadable op by a member") != std::string::npos);
  c.ExpectAllNotes();
}
