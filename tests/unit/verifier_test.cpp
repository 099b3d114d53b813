// The verifier folds a page into the case state in place. When a page fails after some of its
// ops were applied, the state must come back exactly as it was before the page: the pages
// before it are still committed, and nothing of the failed page may reach them.
#include "sync/verifier.h"

#include <set>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/user_chain.h"

#include "crypto/identity.h"
#include "support/verifier_log.h"
#include "sync/sync_engine.h"

using namespace kring;
using google::protobuf::util::MessageDifferencer;

namespace {

using test::AddCreate;
using test::AddDelete;
using test::AddText;
using test::AppendStart;
using test::Author;
using test::FillContext;
using test::Log;
using test::NewAuthor;
using test::Note;
using test::RekeyBody;

const std::string& Text(const v1::CaseState& state, const std::string& id) {
  return state.entities().at(HexOfPublic(View(id))).fields().at("text").value().text();
}

}  // namespace

TEST_CASE("a page that fails halfway hands the state back exactly as before it", "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);

  const v1::ControlBody rekey = AppendStart(log, chair, member, epoch_key);
  auto new_id = [] { return ToString(crypto::RandomBytes(crypto::kIdBytes)); };
  // The first page's notes: one changed once by the second page, one it deletes, one it changes
  // in two ops.
  const std::string first = new_id(), doomed = new_id(), twice = new_id();
  v1::ContentOp note;
  note.set_version(1);
  for (const std::string* id : {&first, &doomed, &twice}) {
    AddCreate(note, *id);
    AddText(note, *id, "eerste");
  }
  log.Append(member, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  const size_t first_page = 3;

  // The second page changes the first note, deletes one and changes another in two ops, adds a
  // second note and changes it again (an entity the page itself created), adds a third and
  // deletes it again, names entities by ids of 15 and 17 bytes (which the fold refuses), then
  // breaks a rule: a plain member may not make a new key for the case.
  const std::string second = new_id(), brief = new_id();
  note.Clear();
  note.set_version(1);
  AddText(note, first, "veranderd");
  AddDelete(note, doomed);
  AddText(note, twice, "een keer");
  log.Append(member, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  note = Note(second, "tweede", true);
  AddCreate(note, brief);
  AddText(note, brief, "kort");
  log.Append(chair, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  note = Note(second, "tweede, veranderd", false);
  AddDelete(note, brief);
  const std::string short_id = new_id().substr(1), long_id = new_id() + "x";
  AddText(note, short_id, "te kort");
  AddCreate(note, long_id);
  AddDelete(note, long_id);
  log.Append(chair, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  note.Clear();
  note.set_version(1);
  AddText(note, twice, "twee keer");
  log.Append(member, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  const size_t without_failing = 7;
  log.Append(member, v1::OP_KIND_REKEY, &rekey, nullptr, {});

  client::CaseRecord rec;
  rec.case_id = log.case_id();
  std::map<Bytes, client::DeviceHead> heads;
  std::vector<client::EpochKey> keys;
  auto context = [&](client::VerifyContext& ctx) {
    FillContext(ctx, log, chair, member, keys);
    ctx.device_heads = heads;
  };

  // A page that serves only the first three entries, under a head signed for them.
  v1::PullResponse page1 = log.FirstPage(first_page);
  client::VerifyContext ctx1;
  ctx1.record = std::move(rec);
  context(ctx1);
  client::VerifyResult v1r = client::VerifyPull(ctx1, std::move(page1));
  REQUIRE(v1r.error.ok());
  REQUIRE_FALSE(v1r.failure);
  REQUIRE(v1r.batch.entries.size() == first_page);
  REQUIRE(v1r.batch.state.entities_size() == 3);
  for (auto& [d, h] : v1r.batch.device_heads) heads[d] = h;
  keys = v1r.batch.epoch_keys;
  REQUIRE(keys.size() == 1);

  rec = std::move(ctx1.record);
  rec.head_seq = v1r.batch.head_seq;
  rec.head_hash = v1r.batch.head_hash;
  rec.state = std::move(v1r.batch.state);
  const v1::CaseState before = rec.state;

  // The same page without its failing op applies every change: the state a failed page hands
  // back is not merely one that nothing was applied to.
  client::VerifyContext ctx3;
  ctx3.record = rec;
  context(ctx3);
  client::VerifyResult v3r = client::VerifyPull(ctx3, log.Range(first_page, without_failing));
  REQUIRE(v3r.error.ok());
  REQUIRE_FALSE(v3r.failure);
  const v1::CaseState& applied = v3r.batch.state;
  CHECK(applied.entities_size() == 5);
  CHECK(Text(applied, first) == "veranderd");
  CHECK(applied.entities().at(HexOfPublic(View(doomed))).deleted());
  CHECK(Text(applied, twice) == "twee keer");
  CHECK(Text(applied, second) == "tweede, veranderd");
  CHECK(applied.entities().at(HexOfPublic(View(brief))).deleted());
  for (const auto& [key, entity] : applied.entities()) {
    CHECK(entity.entity_id().size() == crypto::kIdBytes);
  }

  client::VerifyContext ctx2;
  ctx2.record = std::move(rec);
  context(ctx2);
  client::VerifyResult v2r = client::VerifyPull(ctx2, log.Page(first_page));
  REQUIRE(v2r.error.ok());
  REQUIRE(v2r.failure);
  CHECK(v2r.failure->kind == client::AlarmKind::kTamper);
  CHECK(v2r.failure->seq == 8);
  CHECK(MessageDifferencer::Equals(before, ctx2.record.state));
  CHECK(before.entities_size() == 3);
  CHECK_FALSE(before.entities().at(HexOfPublic(View(doomed))).deleted());
}

// A catch-up parses each page into the messages of the page two before (ParsedPage), on the
// thread that pulled it. A page handed on without a new parse of the next response must never
// stand for it, even when both pages are the same size.
TEST_CASE("a reused parsed page is parsed again for the next response", "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);  // two control ops: the first page
  for (int i = 0; i < 2; ++i) {                // two notes: the second page, of the same size
    v1::ContentOp note = Note(ToString(crypto::RandomBytes(crypto::kIdBytes)), "x", true);
    log.Append(member, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  }
  const size_t first_page = 2;

  std::vector<client::EpochKey> keys;
  auto context = [&](client::VerifyContext& ctx) { FillContext(ctx, log, chair, member, keys); };

  client::ParsedPage parsed;
  v1::PullResponse page1 = log.FirstPage(first_page);
  client::ParseEntries(page1, parsed);
  REQUIRE(parsed.filled);
  client::VerifyContext ctx1;
  ctx1.record.case_id = log.case_id();
  context(ctx1);
  client::VerifyResult v1r = client::VerifyPull(ctx1, std::move(page1), &parsed);
  REQUIRE(v1r.error.ok());
  REQUIRE_FALSE(v1r.failure);
  CHECK_FALSE(parsed.filled);
  keys = v1r.batch.epoch_keys;

  client::CaseRecord rec = std::move(ctx1.record);
  rec.head_seq = v1r.batch.head_seq;
  rec.head_hash = v1r.batch.head_hash;
  rec.state = std::move(v1r.batch.state);
  client::VerifyContext ctx2;
  ctx2.record = std::move(rec);
  context(ctx2);
  for (auto& [d, h] : v1r.batch.device_heads) ctx2.device_heads[d] = h;
  v1::PullResponse page2 = log.Page(first_page);
  REQUIRE(static_cast<size_t>(page2.entries_size()) == parsed.size);
  // Not parsed for page2: the first page's parse (its CreateCase and Rekey) must not be taken.
  client::VerifyResult v2r = client::VerifyPull(ctx2, std::move(page2), &parsed);
  REQUIRE(v2r.error.ok());
  REQUIRE_FALSE(v2r.failure);
  CHECK(v2r.batch.state.entities_size() == 2);
  for (size_t i = 0; i < parsed.size; ++i) {
    CHECK(parsed.ops[i].header.kind() == v1::OP_KIND_CONTENT);
    CHECK(parsed.ops[i].control.ByteSizeLong() == 0);
  }
}

TEST_CASE("chains are fetched ahead only for the accounts the checks can accept as authors",
          "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  std::vector<Author> strangers;
  for (int i = 0; i < 3; ++i) strangers.push_back(NewAuthor());
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  const size_t first_page = 2;
  // A lying server's second page: a CreateCase after seq 1 naming strangers, then an op by
  // each of them. Only a CreateCase at seq 1 makes members; these authors fail in order.
  v1::ControlBody create;
  for (const Author& a : strangers) {
    v1::Member* m = create.mutable_create_case()->add_members();
    m->set_account_id(ToString(a.account_id));
    m->set_role(v1::ROLE_CHAIR);
  }
  log.Append(chair, v1::OP_KIND_CREATE_CASE, &create, nullptr, {});
  for (Author& a : strangers) {
    v1::ContentOp note = Note(ToString(crypto::RandomBytes(crypto::kIdBytes)), "x", true);
    log.Append(a, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);
  }

  std::set<Bytes> prefetched;
  std::vector<client::EpochKey> keys;
  auto context = [&](client::VerifyContext& ctx) {
    ctx.server_public_key = log.server().public_key;
    ctx.me = &chair.local;
    ctx.chain_hash_at = [](uint64_t) -> Result<std::optional<Bytes>> {
      return std::optional<Bytes>();
    };
    ctx.chain_of = [&](const Bytes& account, bool) -> Result<UserChain> {
      if (account == chair.account_id) return chair.chain;
      if (account == member.account_id) return member.chain;
      for (const Author& a : strangers) {
        if (account == a.account_id) return a.chain;
      }
      return NotFound("no such account");
    };
    ctx.prefetch_chains = [&](const std::vector<Bytes>& ids) {
      prefetched.insert(ids.begin(), ids.end());
    };
    ctx.epoch_key = [&](uint32_t, uint64_t) -> Result<std::optional<client::EpochKey>> {
      if (keys.empty()) return std::optional<client::EpochKey>();
      return std::optional<client::EpochKey>(keys[0]);
    };
  };

  v1::PullResponse page1 = log.FirstPage(first_page);
  client::VerifyContext ctx1;
  ctx1.record.case_id = log.case_id();
  context(ctx1);
  client::VerifyResult v1r = client::VerifyPull(ctx1, std::move(page1));
  REQUIRE(v1r.error.ok());
  REQUIRE_FALSE(v1r.failure);
  // The CreateCase at seq 1 of a new record makes its members authors the checks accept.
  CHECK(prefetched == std::set<Bytes>{chair.account_id});
  keys = v1r.batch.epoch_keys;

  client::CaseRecord rec = std::move(ctx1.record);
  rec.head_seq = v1r.batch.head_seq;
  rec.head_hash = v1r.batch.head_hash;
  rec.state = std::move(v1r.batch.state);
  prefetched.clear();
  client::VerifyContext ctx2;
  ctx2.record = std::move(rec);
  context(ctx2);
  for (auto& [d, h] : v1r.batch.device_heads) ctx2.device_heads[d] = h;
  client::VerifyResult v2r = client::VerifyPull(ctx2, log.Page(first_page));
  REQUIRE(v2r.error.ok());
  REQUIRE(v2r.failure);
  CHECK(v2r.failure->kind == client::AlarmKind::kTamper);
  CHECK(v2r.failure->seq == first_page + 2);
  CHECK(v2r.failure->detail == "author is not a member of the case");
  for (const Author& a : strangers) CHECK(prefetched.count(a.account_id) == 0);
}

// A run of one device's ops in a page reuses the answers of the op before it (a member, an
// active device of its account's chain). Each case below is one page from seq 1 in which that
// reuse would be wrong: the op named must get the full check and be refused.
namespace {

// Verifies the log's first `n` entries (all when 0) as the first page of a new record, as `me`
// reads it; `authors` are the accounts whose chains the client can fetch.
client::VerifyResult VerifyAsOnePage(const Log& log, const Author& me,
                                     const std::vector<const Author*>& authors, size_t n = 0) {
  client::VerifyContext ctx;
  ctx.record.case_id = log.case_id();
  ctx.server_public_key = log.server().public_key;
  ctx.me = &me.local;
  ctx.chain_hash_at = [](uint64_t) -> Result<std::optional<Bytes>> {
    return std::optional<Bytes>();
  };
  ctx.chain_of = [authors](const Bytes& account, bool) -> Result<UserChain> {
    for (const Author* a : authors) {
      if (account == a->account_id) return a->chain;
    }
    return NotFound("no such account");
  };
  ctx.epoch_key = [](uint32_t, uint64_t) -> Result<std::optional<client::EpochKey>> {
    return std::optional<client::EpochKey>();
  };
  return client::VerifyPull(ctx, n == 0 ? log.Page(0) : log.FirstPage(n));
}

void AppendNote(Log& log, Author& a, const SecretBytes& epoch_key, uint64_t epoch = 1) {
  v1::ContentOp note = Note(ToString(crypto::RandomBytes(crypto::kIdBytes)), "x", true);
  log.Append(a, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key, epoch);
}

// The page up to the log's last op verifies, and the whole page is refused at that op with
// `detail`: the refusal is that op's alone.
// The chair's Invite of a member, signed for with `invite_key`.
void AppendInvite(Log& log, Author& chair, const crypto::SigningKeyPair& invite_key) {
  v1::ControlBody invite;
  v1::Invite* inv = invite.mutable_invite();
  inv->set_invite_id(ToString(protocol::InviteId(invite_key.public_key)));
  inv->set_signing_public_key(ToString(invite_key.public_key));
  inv->set_role(v1::ROLE_MEMBER);
  inv->set_expires_at_ms(1800000000000);
  log.Append(chair, v1::OP_KIND_INVITE, &invite, nullptr, {});
}

// `newcomer`'s AcceptInvite of that invite, with its proof.
void AppendAccept(Log& log, Author& newcomer, const crypto::SigningKeyPair& invite_key) {
  const std::string invite_id = ToString(protocol::InviteId(invite_key.public_key));
  v1::ControlBody accept;
  accept.mutable_accept_invite()->set_invite_id(invite_id);
  accept.mutable_accept_invite()->set_proof(ToString(crypto::Sign(
      invite_key.secret_key,
      protocol::InviteAcceptInput(log.case_id(), View(invite_id), newcomer.account_id))));
  log.Append(newcomer, v1::OP_KIND_ACCEPT_INVITE, &accept, nullptr, {});
}

void RequireOnlyLastRefused(const Log& log, const Author& me,
                            const std::vector<const Author*>& authors, const std::string& detail) {
  const auto last = static_cast<size_t>(log.Page(0).entries_size());
  const client::VerifyResult before = VerifyAsOnePage(log, me, authors, last - 1);
  REQUIRE(before.error.ok());
  REQUIRE_FALSE(before.failure);
  const client::VerifyResult r = VerifyAsOnePage(log, me, authors);
  REQUIRE(r.error.ok());
  REQUIRE(r.failure);
  CHECK(r.failure->kind == client::AlarmKind::kTamper);
  CHECK(r.failure->seq == last);
  CHECK(r.failure->detail == detail);
}

}  // namespace

TEST_CASE("a device's op after its account left the case in the same page is refused",
          "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  AppendNote(log, member, epoch_key);
  // The member leaves, then its device writes on as if it had not: the RemoveMember ends the
  // run, so the op after it is checked for membership again.
  v1::ControlBody leave;
  leave.mutable_remove_member()->set_account_id(ToString(member.account_id));
  log.Append(member, v1::OP_KIND_REMOVE_MEMBER, &leave, nullptr, {});
  AppendNote(log, member, epoch_key);

  RequireOnlyLastRefused(log, chair, {&chair, &member}, "author is not a member of the case");
}

TEST_CASE("a non-member's op after its own AcceptInvite in the same page is refused",
          "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Author stranger = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  const crypto::SigningKeyPair invite_key = crypto::NewSigningKeyPair();
  AppendInvite(log, chair, invite_key);
  // An AcceptInvite is the one op a non-member may write; no chair approved it yet, so the same
  // device's next op is by a non-member and must not ride on the AcceptInvite's check.
  AppendAccept(log, stranger, invite_key);
  AppendNote(log, stranger, epoch_key);

  RequireOnlyLastRefused(log, chair, {&chair, &member, &stranger},
                         "author is not a member of the case");
}

TEST_CASE("a device's op after a Rekey in its own run that cuts it off is refused", "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  // The chair's device writes seq 1 to 5 as one run. Its account's chain has revoked it since,
  // and its own Rekey at seq 4 says so (as a revoked device may, for what it wrote before): seq 5
  // comes after its cut-off.
  AppendStart(log, chair, member, epoch_key);
  AppendNote(log, chair, epoch_key);
  const SecretBytes next_key = crypto::RandomSecret(crypto::kKeyBytes);
  v1::ControlBody rekey = RekeyBody(log, chair, member, next_key, 2);
  rekey.mutable_rekey()->add_revoked_devices(chair.local.device_id());
  log.Append(chair, v1::OP_KIND_REKEY, &rekey, nullptr, {}, 2);
  AppendNote(log, chair, next_key, 2);
  chair.chain.devices.at(ToBytes(chair.local.device_id())).revoked_at = 1;

  RequireOnlyLastRefused(log, member, {&chair, &member},
                         "op by a device revoked before this position");
}

TEST_CASE("a Rekey naming a revoked device must box its account's key past that device",
          "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  AppendNote(log, chair, epoch_key);
  // The member's phone was revoked while the member's user key was at generation 1 (and rotated
  // to 2 right after, as kringd requires). The chair's Rekey names the phone but boxes the
  // member's key to generation 1, which the phone holds.
  const Bytes phone = crypto::RandomBytes(crypto::kIdBytes);
  ChainDevice revoked;
  revoked.device_id = phone;
  revoked.signing_public_key = crypto::NewSigningKeyPair().public_key;
  revoked.revoked_at = 2;
  revoked.generation_at_revocation = 1;
  member.chain.devices[phone] = revoked;
  const SecretBytes next_key = crypto::RandomSecret(crypto::kKeyBytes);
  v1::ControlBody rekey = RekeyBody(log, chair, member, next_key, 2);
  rekey.mutable_rekey()->add_revoked_devices(ToString(phone));
  REQUIRE(rekey.rekey().boxes(1).user_key_generation() == 1);
  // The same log with the member's box at generation 2 instead.
  Log fresh = log;
  Author fresh_chair = chair;
  log.Append(chair, v1::OP_KIND_REKEY, &rekey, nullptr, {}, 2);
  rekey.mutable_rekey()->mutable_boxes(1)->set_user_key_generation(2);
  fresh.Append(fresh_chair, v1::OP_KIND_REKEY, &rekey, nullptr, {}, 2);

  RequireOnlyLastRefused(log, chair, {&chair, &member},
                         "rekey boxes the key to a user key the revoked device held");
  const client::VerifyResult taken = VerifyAsOnePage(fresh, fresh_chair, {&fresh_chair, &member});
  REQUIRE(taken.error.ok());
  CHECK_FALSE(taken.failure);

  // After the phone's cut-off, a later Rekey that names nobody may not box the member's key to
  // generation 1 either; to generation 2 it is taken.
  Log later = fresh;
  Author later_chair = fresh_chair;
  const SecretBytes third_key = crypto::RandomSecret(crypto::kKeyBytes);
  v1::ControlBody plain = RekeyBody(fresh, fresh_chair, member, third_key, 3);
  fresh.Append(fresh_chair, v1::OP_KIND_REKEY, &plain, nullptr, {}, 3);
  RequireOnlyLastRefused(fresh, fresh_chair, {&fresh_chair, &member},
                         "rekey boxes the key to a user key the revoked device held");
  plain.mutable_rekey()->mutable_boxes(1)->set_user_key_generation(2);
  later.Append(later_chair, v1::OP_KIND_REKEY, &plain, nullptr, {}, 3);
  const client::VerifyResult also = VerifyAsOnePage(later, later_chair, {&later_chair, &member});
  REQUIRE(also.error.ok());
  CHECK_FALSE(also.failure);
}

TEST_CASE("an op naming another account for the device of the op before it is refused",
          "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  AppendNote(log, chair, epoch_key);
  // The chair's device signs an op that claims the member's account, continuing its own
  // counter and link: only the member's chain can say this device is not the member's.
  Author posing = chair;
  posing.account_id = member.account_id;
  AppendNote(log, posing, epoch_key);

  RequireOnlyLastRefused(log, chair, {&chair, &member},
                         "author device is not active in its account");
}

// kringd refuses every change to a closed case but the erasure: a server that slips in one it
// refused (or never got) is caught, not applied.
TEST_CASE("a Rekey or an AcceptInvite after the case was closed is refused", "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Author stranger = NewAuthor();
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  const crypto::SigningKeyPair invite_key = crypto::NewSigningKeyPair();
  auto start = [&](Log& log) {
    AppendStart(log, chair, member, epoch_key);
    AppendInvite(log, chair, invite_key);
    v1::ControlBody close;
    close.mutable_close_case()->set_retention_days(30);
    log.Append(chair, v1::OP_KIND_CLOSE_CASE, &close, nullptr, {});
  };
  SECTION("a new key") {
    Log log;
    start(log);
    v1::ControlBody rekey =
        RekeyBody(log, chair, member, crypto::RandomSecret(crypto::kKeyBytes), 2);
    log.Append(chair, v1::OP_KIND_REKEY, &rekey, nullptr, {}, 2);
    RequireOnlyLastRefused(log, member, {&chair, &member}, "rekey after the case was closed");
  }
  SECTION("an invitation accepted") {
    Log log;
    start(log);
    AppendAccept(log, stranger, invite_key);
    RequireOnlyLastRefused(log, member, {&chair, &member, &stranger}, "the case is closed");
  }
}

// An envelope's fields that no signature or hash covers: kringd refuses a push with unknown
// fields in an envelope (docs/protocol.md section 7), so only a lying server (or bytes changed at
// rest) serves one. The client would store the extra bytes with the op it verified.
TEST_CASE("an envelope with fields its signature does not cover is refused", "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  v1::ContentOp note = Note(ToString(crypto::RandomBytes(crypto::kIdBytes)), "x", true);
  log.Append(member, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);

  std::vector<client::EpochKey> keys;
  for (int at : {0, 2}) {  // a control op, a content op
    v1::PullResponse page = log.Page(0);
    v1::Envelope& env = *page.mutable_entries(at)->mutable_envelope();
    env.GetReflection()->MutableUnknownFields(&env)->AddLengthDelimited(100, "ongetekend");
    // Its hashes are the same: the chain and the signed head still match.
    REQUIRE(protocol::EnvelopeHash(env) ==
            protocol::EnvelopeHash(log.entries()[static_cast<size_t>(at)].envelope()));
    client::VerifyContext ctx;
    ctx.record.case_id = log.case_id();
    FillContext(ctx, log, chair, member, keys);
    const client::VerifyResult r = client::VerifyPull(ctx, page);
    REQUIRE(r.error.ok());
    REQUIRE(r.failure);
    CHECK(r.failure->kind == client::AlarmKind::kTamper);
    CHECK(r.failure->seq == static_cast<uint64_t>(at) + 1);
    CHECK(r.failure->detail == "envelope has unknown fields");
  }
  // The same page as served: taken.
  client::VerifyContext ctx;
  ctx.record.case_id = log.case_id();
  FillContext(ctx, log, chair, member, keys);
  const client::VerifyResult r = client::VerifyPull(ctx, log.Page(0));
  REQUIRE(r.error.ok());
  CHECK_FALSE(r.failure);
}

// A device that stored such an envelope before the check existed (a kringd from before it refused
// them on push, a modified client that pushed one) folds its own log again on a replay or refold:
// the bytes were verified when pulled, and refusing them there would stop the case's sync with
// "verified log no longer replays" and no alarm.
TEST_CASE("a replay of the stored log folds an envelope with unknown fields stored before",
          "[verifier]") {
  Author chair = NewAuthor();
  Author member = NewAuthor();
  Log log;
  const SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  AppendStart(log, chair, member, epoch_key);
  const std::string id = ToString(crypto::RandomBytes(crypto::kIdBytes));
  v1::ContentOp note = Note(id, "bewaard", true);
  log.Append(member, v1::OP_KIND_CONTENT, nullptr, &note, epoch_key);

  const std::vector<client::EpochKey> keys = {{0, 1, epoch_key}};
  auto replay = [&](const v1::PullResponse& stored) {
    client::VerifyContext ctx;
    ctx.replay = true;
    ctx.record.case_id = log.case_id();
    FillContext(ctx, log, chair, member, keys);
    return client::VerifyPull(ctx, stored);
  };
  // The stored log as SyncEngine::Replay hands it over: every entry, no head.
  v1::PullResponse clean = log.Page(0);
  clean.clear_head();
  v1::PullResponse stored = clean;
  for (int at : {0, 2}) {
    v1::Envelope& env = *stored.mutable_entries(at)->mutable_envelope();
    env.GetReflection()->MutableUnknownFields(&env)->AddLengthDelimited(100, "ongetekend");
  }
  const client::VerifyResult want = replay(clean);
  REQUIRE(want.error.ok());
  REQUIRE_FALSE(want.failure);
  const client::VerifyResult r = replay(stored);
  REQUIRE(r.error.ok());
  REQUIRE_FALSE(r.failure);
  CHECK(r.batch.head_seq == 3);
  CHECK(MessageDifferencer::Equals(r.batch.state, want.batch.state));
  CHECK(Text(r.batch.state, id) == "bewaard");
}
