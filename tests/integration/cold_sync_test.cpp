// A cold sync whose first page brings the case's epoch key in its own Rekey: the content ops
// after that Rekey are opened on all cores before the fold reaches them (docs/performance-log.md,
// the cold sync item), and every check still holds for them.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "store/local_store.h"
#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;
using client::AlarmKind;
using google::protobuf::util::MessageDifferencer;

namespace {

// Enough content ops after the Rekey for them to be opened on two threads, and for the synced
// batch to reach kParallelSealEntries (local_store.cpp): the state is sealed on a second thread
// and the written entries are freed while the commit syncs.
constexpr int kNotes = 300;

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
    // One page for the whole log unless a test asks for smaller ones.
    cold_wire->pull_limit = protocol::kMaxPullLimit;
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

  // The member plays foul: pushes one validly signed, correctly placed content op of its own
  // (its first op) that `spoil` makes unreadable. kringd cannot tell; only a reader that opens
  // it can. The op lands at the next position of the log. Closes the member.
  void PushMemberNote(const std::function<void(v1::Envelope&, const SecretBytes&)>& spoil) {
    REQUIRE(member->SyncNow().ok());
    const std::string token = member_wire->last_token();
    member.Close();
    auto store = client::LocalStore::Open(member.db_path(), member.storage_key());
    REQUIRE(store.ok());
    auto account = (*store)->LoadAccount();
    REQUIRE(account.ok());
    auto epoch_key = (*store)->FindEpochKey(case_id, 0, 1);
    REQUIRE(epoch_key.ok());
    REQUIRE(epoch_key->has_value());
    v1::OpHeader h;
    h.set_version(protocol::kVersion);
    h.set_case_id(ToString(case_id));
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
    spoil(env, (*epoch_key)->key);
    env.set_signature(ToString(
        crypto::Sign(View((*account)->device_signing_secret_key()), protocol::OpDigest(env))));
    v1::PushRequest push;
    push.set_case_id(ToString(case_id));
    *push.add_envelopes() = env;
    REQUIRE(net->Push(push, token).ok());
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

namespace {

// A member's note spoiled by `spoil` among kNotes good ones: the cold device's first page holds
// the Rekey and every note, the spoiled one raises one alarm of `kind` with `detail` at its seq,
// and every other note is applied.
void ExpectOneUnreadableNote(const std::function<void(v1::Envelope&, const SecretBytes&)>& spoil,
                             AlarmKind kind, const std::string& detail) {
  ColdCase c;
  c.Write(kNotes / 2);
  c.PushMemberNote(spoil);
  c.Write(kNotes / 2);
  v1::PullResponse first;
  c.cold_wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (req.after_seq() == 0) first = resp;
  };
  REQUIRE(c.cold->SyncNow().ok());
  c.ExpectFirstPageHoldsRekeyAndContent(first, kNotes + 3);
  auto alarms = c.cold->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == kind);
  CHECK(alarms[0].case_id == c.case_id);
  CHECK(alarms[0].seq == static_cast<uint64_t>(kNotes / 2 + 3));
  CHECK(alarms[0].detail == detail);
  c.ExpectAllNotes();
}

}  // namespace

TEST_CASE("a note under a wrong key commitment in a cold sync's first page is reported",
          "[coldsync]") {
  // Signed by a member and correctly placed: every check before the fold passes, the op is
  // opened ahead (after the page's Rekey delivered the key) and the opening fails.
  ExpectOneUnreadableNote(
      [](v1::Envelope& env, const SecretBytes&) {
        env.set_key_commitment(ToString(crypto::RandomBytes(32)));
      },
      AlarmKind::kKeyMismatch, "unreadable op by a member: op key commitment does not match");
}

TEST_CASE("a member's unreadable note in a cold sync's first page is reported, the rest applied",
          "[coldsync]") {
  // Garbage ciphertext under the right key and commitment.
  ExpectOneUnreadableNote([](v1::Envelope&, const SecretBytes&) {}, AlarmKind::kTamper,
                          "unreadable op by a member: ciphertext does not decrypt");
}

TEST_CASE("a cold sync over several pages keeps the pages before a tampered one", "[coldsync]") {
  ColdCase c;
  c.Write(kNotes);
  c.cold_wire->pull_limit = 128;  // pages end at run boundaries, so page 1 may end a bit apart
  SecretBytes key = c.server.ServerSecretKey();
  std::vector<uint64_t> pulled_after;
  c.cold_wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    pulled_after.push_back(req.after_seq());
    if (pulled_after.size() != 2) return;  // page 2 only
    // A server's change to a note (the first one of page 2): its hash no longer matches the
    // writer's next op's link to it.
    auto* env = resp.mutable_entries(0)->mutable_envelope();
    std::string ciphertext = env->ciphertext();
    ciphertext[40] = static_cast<char>(ciphertext[40] ^ 0x01);
    env->set_ciphertext(ciphertext);
    // Its head stays the one page 1 showed (a head below that would be a ROLLBACK): a page that
    // ends before it says nothing of its chain hash.
    const v1::Receipt shown = resp.head();
    Rechain(req, resp, key);
    if (shown.seq() > resp.entries(resp.entries_size() - 1).seq()) *resp.mutable_head() = shown;
  };
  REQUIRE(c.cold->SyncNow().ok());  // an alarm halts the case, not the client
  REQUIRE(pulled_after.size() >= 2);
  const uint64_t page_one_end = pulled_after[1];
  REQUIRE(page_one_end > 2);
  REQUIRE(page_one_end < static_cast<uint64_t>(kNotes));
  auto alarms = c.cold->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == AlarmKind::kTamper);
  CHECK(alarms[0].case_id == c.case_id);
  CHECK(alarms[0].seq == page_one_end + 2);
  CHECK(alarms[0].detail == "op does not link to its device's previous op");
  // Page 1 verified and is kept; nothing of page 2 was applied.
  auto view = c.cold->ConfirmedView(c.case_id);
  REQUIRE(view.ok());
  CHECK(view->seq() == page_one_end);
  CHECK(view->entities_size() == static_cast<int>(page_one_end) - 2);
}

namespace {
// The log rows in the file as another connection sees them: what a crash would leave.
int64_t CommittedLogRows(const std::string& path) {
  auto db = sql::Database::Open(path, /*read_only=*/true);
  REQUIRE(db.ok());
  sql::Statement st(*db, "SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM log_segments");
  REQUIRE(st.Step());
  return st.Int(0);
}
}  // namespace

// A catch-up commits once, at its end: while it runs, nothing of the pages verified so far is in
// the file (what a crash would leave) or in a view, and a tampered page 3 leaves pages 1 and 2
// committed and nothing of page 3.
TEST_CASE("a cold sync keeps the two pages before a tampered third and commits nothing earlier",
          "[coldsync]") {
  ColdCase c;
  c.Write(kNotes);
  c.cold_wire->pull_limit = 96;
  SecretBytes key = c.server.ServerSecretKey();
  std::vector<uint64_t> pulled_after;
  std::vector<int64_t> rows_seen;
  std::vector<uint64_t> view_seq;
  c.cold_wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    pulled_after.push_back(req.after_seq());
    if (pulled_after.size() < 3) return;
    // Page 3 is asked for while page 2 is verified, page 1 verified before it.
    rows_seen.push_back(CommittedLogRows(c.cold.db_path()));
    auto view = c.cold->ConfirmedView(c.case_id);
    REQUIRE(view.ok());
    view_seq.push_back(view->seq());
    if (pulled_after.size() != 3) return;
    auto* env = resp.mutable_entries(0)->mutable_envelope();
    std::string ciphertext = env->ciphertext();
    ciphertext[40] = static_cast<char>(ciphertext[40] ^ 0x01);
    env->set_ciphertext(ciphertext);
    Rechain(req, resp, key);
  };
  REQUIRE(c.cold->SyncNow().ok());
  REQUIRE(pulled_after.size() >= 3);
  const uint64_t page_two_end = pulled_after[2];
  REQUIRE(page_two_end > pulled_after[1]);
  REQUIRE(page_two_end < static_cast<uint64_t>(kNotes));
  // Uncommitted while the catch-up ran: not in the file for another connection, not in a view.
  CHECK(rows_seen == std::vector<int64_t>(rows_seen.size(), 0));
  CHECK(view_seq == std::vector<uint64_t>(view_seq.size(), 0));
  auto alarms = c.cold->Alarms();
  REQUIRE(alarms.size() == 1);
  CHECK(alarms[0].kind == AlarmKind::kTamper);
  CHECK(alarms[0].seq == page_two_end + 2);
  auto view = c.cold->ConfirmedView(c.case_id);
  REQUIRE(view.ok());
  CHECK(view->seq() == page_two_end);
  CHECK(view->entities_size() == static_cast<int>(page_two_end) - 2);
  CHECK(CommittedLogRows(c.cold.db_path()) == static_cast<int64_t>(page_two_end));
}

TEST_CASE("a cold sync over several pages converges", "[coldsync]") {
  ColdCase c;
  c.Write(kNotes);
  c.cold_wire->pull_limit = 128;
  REQUIRE(c.cold->SyncNow().ok());
  CHECK(c.cold->Alarms().empty());
  c.ExpectAllNotes();
}
