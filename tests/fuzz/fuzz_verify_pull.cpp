// What a client does with a pull page a possibly lying server sent: client::VerifyPull
// (client-lib/src/sync/verifier.h). Built once at start-up, with every key from a fixed seed: the
// honest log of a small case (three accounts, CreateCase, Rekey, content ops signed alone and in an
// unsigned run, AddMember and its Rekey to a second epoch, each op saying which head its author had
// seen, as libkring writes them), signed and sealed by libkring's own functions
// (tests/support/verifier_log.h), and three points a client may have verified up to, holding
// receipts and push results for its own ops. Each input changes the honest page from one of those
// points, as raw bytes or entry by entry (drop, duplicate, reorder, move envelopes between
// positions or in from another case, change a field of an envelope, of its header, its seq or chain
// hash, add unknown fields), then, as a server holding its own signing key can, may compute the
// chain hashes again and sign a new head, or cut the page short under an honest head.
// Properties: no crash and no local error; a refused page leaves the state as it was; an accepted
// page is the honest log's entries up to some position, byte for byte (as protobuf messages), and
// gives exactly what the honest page up to there gives (state, head, device heads, keys,
// complaints): so no change of signed or sealed content is ever accepted; and an honest page up to
// a position (under a head its honest page is taken with; unknown fields outside the envelopes
// aside) is taken, so a verifier that refuses too much fails too.
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "fuzz_check.h"
#include "support/verifier_log.h"
#include "sync/verifier.h"

namespace {

namespace v1 = kring::v1;
namespace client = kring::client;
namespace protocol = kring::protocol;
namespace crypto = kring::crypto;
using google::protobuf::util::MessageDifferencer;
using kring::Bytes;
using kring::SecretBytes;
using kring::ToBytes;
using kring::ToString;
using kring::View;
using kring::test::Author;
using kring::test::Log;

// libsodium's randomness from a fixed seed and a counter: the same keys, ids and nonces on every
// start, so an input means the same page changes in every run (and a finding repeats).
uint64_t random_calls = 0;
void FixedBuf(void* buf, size_t n) {
  unsigned char seed[randombytes_SEEDBYTES] = "kring fuzz_verify_pull";
  std::memcpy(seed + sizeof(seed) - sizeof(random_calls), &random_calls, sizeof(random_calls));
  ++random_calls;
  randombytes_buf_deterministic(buf, n, seed);
}
uint32_t FixedRandom() {
  uint32_t v = 0;
  FixedBuf(&v, sizeof v);
  return v;
}
uint32_t FixedUniform(uint32_t upper) { return upper < 2 ? 0 : FixedRandom() % upper; }
const char* FixedName() { return "kring-fuzz-fixed"; }
randombytes_implementation fixed_random = {FixedName,    FixedRandom, nullptr,
                                           FixedUniform, FixedBuf,    nullptr};

// What an honest page from a starting point up to the log's `j`-th entry gives (nullopt:
// refused, as a page ending inside an unsigned run is).
using Reference = std::optional<client::VerifyResult>;

struct Start {
  size_t at = 0;  // verified up to this entry
  client::CaseRecord record;
  std::map<Bytes, client::DeviceHead> heads;
  std::vector<client::EpochKey> keys;
  std::vector<Reference> refs;  // by j - at
  // Whether the honest page up to j is taken under the log's newest head, and under a head for j
  // itself (by j - at): such a page must be taken, whatever unknown fields it carries outside the
  // envelopes.
  std::vector<bool> taken_under_newest, taken_under_own;
  std::string page;  // the honest page from here: every entry after `at`, head signed
};

struct Fixture {
  Author chair, member, third;
  Log log;
  Log other;  // another case of the same chair: its ops are validly signed, for another case
  std::map<uint64_t, v1::Receipt> receipts;              // the chair's, for its pushes
  std::multimap<uint64_t, client::SentOp> push_results;  // what kringd answered to them
  std::vector<Start> starts;
  std::vector<v1::Receipt> heads;  // log.Head(k) by k, signed once

  size_t size() const { return log.entries().size(); }

  // What the sync engine hands VerifyPull at this starting point (the chair's device).
  void Fill(client::VerifyContext& ctx, const Start& s) const {
    ctx.record = s.record;
    ctx.device_heads = s.heads;
    ctx.receipts = &receipts;
    ctx.push_results = &push_results;
    ctx.server_public_key = log.server().public_key;
    ctx.me = &chair.local;
    const Log* l = &log;
    const size_t at = s.at;
    ctx.chain_hash_at = [l, at](uint64_t seq) -> kring::Result<std::optional<Bytes>> {
      if (seq == 0 || seq > at) return std::optional<Bytes>();
      return std::optional<Bytes>(ToBytes(l->entries()[seq - 1].chain_hash()));
    };
    const Fixture* f = this;
    ctx.chain_of = [f](const Bytes& account, bool) -> kring::Result<kring::UserChain> {
      for (const Author* a : {&f->chair, &f->member, &f->third}) {
        if (account == a->account_id) return a->chain;
      }
      return kring::NotFound("no such account");
    };
    ctx.prefetch_chains = [](const std::vector<Bytes>&) {};
    const std::vector<client::EpochKey>* keys = &s.keys;
    ctx.epoch_key = [keys](uint32_t scope,
                           uint64_t epoch) -> kring::Result<std::optional<client::EpochKey>> {
      for (const client::EpochKey& k : *keys) {
        if (k.scope_id == scope && k.epoch == epoch) return std::optional<client::EpochKey>(k);
      }
      return std::optional<client::EpochKey>();
    };
  }

  client::VerifyResult Verify(const Start& s, const v1::PullResponse& page) const {
    client::VerifyContext ctx;
    Fill(ctx, s);
    return client::VerifyPull(ctx, page);
  }
};

v1::PullResponse Entries(const Log& log, size_t after, size_t upto, const v1::Receipt& head) {
  v1::PullResponse r;
  for (size_t i = after; i < upto; ++i) *r.add_entries() = log.entries()[i];
  *r.mutable_head() = head;
  return r;
}

bool SameResult(const client::VerifyResult& r, const client::VerifyResult& ref) {
  const client::AppliedBatch& b = r.batch;
  const client::AppliedBatch& want = ref.batch;
  if (b.case_id != want.case_id || b.head_seq != want.head_seq || b.head_hash != want.head_hash ||
      b.confirmed_client_op_ids != want.confirmed_client_op_ids ||
      r.learned_older_keys != ref.learned_older_keys ||
      !MessageDifferencer::Equals(b.state, want.state)) {
    return false;
  }
  if (b.device_heads.size() != want.device_heads.size()) return false;
  for (const auto& [device, head] : want.device_heads) {
    auto it = b.device_heads.find(device);
    if (it == b.device_heads.end() || it->second.counter != head.counter ||
        it->second.last_hash != head.last_hash) {
      return false;
    }
  }
  if (b.epoch_keys.size() != want.epoch_keys.size()) return false;
  for (size_t i = 0; i < b.epoch_keys.size(); ++i) {
    if (b.epoch_keys[i].scope_id != want.epoch_keys[i].scope_id ||
        b.epoch_keys[i].epoch != want.epoch_keys[i].epoch ||
        b.epoch_keys[i].key != want.epoch_keys[i].key) {
      return false;
    }
  }
  if (r.complaints.size() != ref.complaints.size()) return false;
  for (size_t i = 0; i < r.complaints.size(); ++i) {
    if (r.complaints[i].kind != ref.complaints[i].kind ||
        r.complaints[i].seq != ref.complaints[i].seq ||
        r.complaints[i].detail != ref.complaints[i].detail) {
      return false;
    }
  }
  return true;
}

Fixture* Build() {
  // Before anything calls into libsodium: crypto::EnsureInitialized runs sodium_init lazily, at
  // the first key or random bytes below, and libsodium takes a new implementation only before it
  // is initialised. Never restored: each fuzz target is a program of its own.
  KRING_FUZZ_CHECK(randombytes_set_implementation(&fixed_random) == 0);
  auto* f = new Fixture{kring::test::NewAuthor(),
                        kring::test::NewAuthor(),
                        kring::test::NewAuthor(),
                        Log(),
                        Log(),
                        {},
                        {},
                        {},
                        {}};
  Log& log = f->log;
  const SecretBytes key1 = crypto::RandomSecret(crypto::kKeyBytes);
  const SecretBytes key2 = crypto::RandomSecret(crypto::kKeyBytes);
  auto id = [] { return ToString(crypto::RandomBytes(crypto::kIdBytes)); };
  const std::string a = id(), b = id(), c = id();

  kring::test::AppendStart(log, f->chair, f->member, key1);  // 1 CreateCase, 2 Rekey
  log.SeeHead();
  v1::ContentOp op = kring::test::Note(a, "eerste", true);
  log.Append(f->member, v1::OP_KIND_CONTENT, nullptr, &op, key1);  // 3
  log.SeeHead();                                                   // one push of two ops:
  op = kring::test::Note(b, "tweede", true);
  log.Append(f->chair, v1::OP_KIND_CONTENT, nullptr, &op, key1, 1, false);  // 4 unsigned
  op = kring::test::Note(a, "veranderd", false);
  log.Append(f->chair, v1::OP_KIND_CONTENT, nullptr, &op, key1);  // 5 signed, ends the run
  log.SeeHead();
  v1::ControlBody add;
  add.mutable_add_member()->mutable_member()->set_account_id(ToString(f->third.account_id));
  add.mutable_add_member()->mutable_member()->set_role(v1::ROLE_MEMBER);
  log.Append(f->chair, v1::OP_KIND_ADD_MEMBER, &add, nullptr, {});  // 6
  const v1::ControlBody rekey =
      kring::test::RekeyBody(log, {&f->chair, &f->member, &f->third}, key2, 2);
  log.Append(f->chair, v1::OP_KIND_REKEY, &rekey, nullptr, {}, 2);  // 7
  log.SeeHead();
  op = kring::test::Note(c, "derde", true);
  log.Append(f->third, v1::OP_KIND_CONTENT, nullptr, &op, key2, 2);  // 8
  log.SeeHead();
  op.Clear();
  op.set_version(1);
  kring::test::AddDelete(op, b);
  log.Append(f->member, v1::OP_KIND_CONTENT, nullptr, &op, key2, 2, false);  // 9 unsigned
  op = kring::test::Note(c, "derde, veranderd", false);
  log.Append(f->member, v1::OP_KIND_CONTENT, nullptr, &op, key2, 2);  // 10 signed

  Author other_chair = f->chair;
  other_chair.counter = 0;
  other_chair.last_hash.clear();
  Author other_member = f->member;
  kring::test::AppendStart(f->other, other_chair, other_member, key1);

  for (uint64_t seq : {5u, 7u}) f->receipts[seq] = log.Head(seq);
  for (uint64_t seq : {4u, 5u, 6u, 7u}) {
    const v1::LogEntry& e = log.entries()[seq - 1];
    v1::OpHeader h;
    KRING_FUZZ_CHECK(h.ParseFromString(e.envelope().header()));
    client::SentOp sent{protocol::EnvelopeHash(e.envelope()), ToBytes(h.client_op_id()), {}};
    sent.result.set_seq(seq);
    sent.result.set_chain_hash(e.chain_hash());
    *sent.result.mutable_receipt() = log.Head(seq <= 5 ? 5 : 7);
    f->push_results.emplace(seq, std::move(sent));
  }

  const size_t n = f->size();
  for (size_t k = 0; k <= n; ++k) f->heads.push_back(log.Head(k));
  for (size_t at : {size_t{0}, size_t{5}, size_t{7}}) {
    Start s;
    s.at = at;
    s.record.case_id = log.case_id();
    if (at > 0) {
      Start zero;
      zero.record.case_id = log.case_id();
      client::VerifyResult r = f->Verify(zero, Entries(log, 0, at, f->heads[n]));
      KRING_FUZZ_CHECK(r.error.ok() && !r.failure);
      s.record.head_seq = r.batch.head_seq;
      s.record.head_hash = r.batch.head_hash;
      s.record.state = std::move(r.batch.state);
      s.heads = std::move(r.batch.device_heads);
      s.keys = std::move(r.batch.epoch_keys);
    }
    for (size_t j = at; j <= n; ++j) {
      // The head most pages carry (the log's newest), else one for j itself: a page accepted
      // under some head is accepted under one of these, and gives the same under both.
      client::VerifyResult newest = f->Verify(s, Entries(log, at, j, f->heads[n]));
      client::VerifyResult own = f->Verify(s, Entries(log, at, j, f->heads[j]));
      KRING_FUZZ_CHECK(newest.error.ok() && own.error.ok());
      s.taken_under_newest.push_back(!newest.failure);
      s.taken_under_own.push_back(!own.failure);
      if (!newest.failure && !own.failure) KRING_FUZZ_CHECK(SameResult(own, newest));
      s.refs.push_back(!newest.failure ? Reference(std::move(newest))
                       : !own.failure  ? Reference(std::move(own))
                                       : Reference());
    }
    KRING_FUZZ_CHECK(s.refs.back().has_value());  // the honest page is taken
    s.page = Entries(log, at, n, f->heads[n]).SerializeAsString();
    f->starts.push_back(std::move(s));
  }
  // Pages ending inside an unsigned run (after 4 and 9) are refused.
  KRING_FUZZ_CHECK(!f->starts[0].refs[4].has_value() && !f->starts[0].refs[9].has_value());
  return f;
}

const std::string& FieldOf(const v1::Envelope& env, uint8_t which) {
  switch (which % 6) {
    case 0:
      return env.header();
    case 1:
      return env.nonce();
    case 2:
      return env.key_commitment();
    case 3:
      return env.ciphertext();
    case 4:
      return env.control_body();
    default:
      return env.signature();
  }
}

void SetFieldOf(v1::Envelope& env, uint8_t which, std::string value) {
  switch (which % 6) {
    case 0:
      return env.set_header(std::move(value));
    case 1:
      return env.set_nonce(std::move(value));
    case 2:
      return env.set_key_commitment(std::move(value));
    case 3:
      return env.set_ciphertext(std::move(value));
    case 4:
      return env.set_control_body(std::move(value));
    default:
      return env.set_signature(std::move(value));
  }
}

// A change to a string: a bit flipped, cut short, a byte added, or emptied.
void ChangeBytes(kring::fuzz::Input& in, std::string& s) {
  const uint8_t how = in.Byte();
  const size_t at = static_cast<size_t>(in.Int(2));
  switch (how % 4) {
    case 0:
      if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1u << (in.Byte() % 8));
      break;
    case 1:
      s.resize(s.empty() ? 0 : at % s.size());
      break;
    case 2:
      s.insert(s.empty() ? 0 : at % (s.size() + 1), 1, static_cast<char>(in.Byte()));
      break;
    default:
      s.clear();
  }
}

// One field of an op's header changed and written again (its signature left as it was).
void ChangeHeader(kring::fuzz::Input& in, const Fixture& f, v1::Envelope& env) {
  v1::OpHeader h;
  if (!h.ParseFromString(env.header())) return;
  const auto delta = static_cast<int8_t>(in.Byte());
  auto shift = [delta](uint64_t v) {
    return v + static_cast<uint64_t>(static_cast<int64_t>(delta));
  };
  const Author* authors[] = {&f.chair, &f.member, &f.third};
  const Author& someone = *authors[in.Byte() % 3];
  switch (in.Byte() % 12) {
    case 0:
      h.set_seen_seq(shift(h.seen_seq()));
      break;
    case 1: {
      std::string s = h.seen_hash();
      ChangeBytes(in, s);
      h.set_seen_hash(s);
      break;
    }
    case 2:
      h.set_device_counter(shift(h.device_counter()));
      break;
    case 3:
      h.set_epoch(shift(h.epoch()));
      break;
    case 4:
      h.set_scope_id(static_cast<uint32_t>(shift(h.scope_id())));
      break;
    case 5:
      h.set_kind(static_cast<v1::OpKind>(in.Byte() % 16));
      break;
    case 6:
      h.set_author_account_id(ToString(someone.account_id));
      break;
    case 7:
      h.set_author_device_id(someone.local.device_id());
      break;
    case 8:
      h.set_case_id(ToString(f.other.case_id()));
      break;
    case 9:
      h.set_created_at_ms(h.created_at_ms() + delta);
      break;
    case 10: {
      std::string s = h.prev_device_op_hash();
      ChangeBytes(in, s);
      h.set_prev_device_op_hash(s);
      break;
    }
    default:  // a field no reader knows, in the signed bytes
      h.GetReflection()->MutableUnknownFields(&h)->AddVarint(127, 1);
  }
  env.set_header(h.SerializeAsString());
}

// A serialized page changed byte by byte: flips, bytes set, cut, inserted or removed, and runs
// copied from one place to another (an entry or envelope moved when the cut falls right).
void ChangeRaw(kring::fuzz::Input& in, std::string& bytes) {
  const size_t edits = in.Byte() % 8;
  for (size_t e = 0; e < edits && in.remaining() > 0; ++e) {
    const uint8_t how = in.Byte();
    const size_t at = bytes.empty() ? 0 : static_cast<size_t>(in.Int(2)) % bytes.size();
    switch (how % 6) {
      case 0:
        if (!bytes.empty()) bytes[at] ^= static_cast<char>(1u << (in.Byte() % 8));
        break;
      case 1:
        if (!bytes.empty()) bytes[at] = static_cast<char>(in.Byte());
        break;
      case 2:
        bytes.resize(at);
        break;
      case 3:
        bytes.insert(at, in.Bytes(16));
        break;
      case 4:
        bytes.erase(at, in.Int(2) % 512);
        break;
      default: {
        if (bytes.empty()) break;
        const size_t from = static_cast<size_t>(in.Int(2)) % bytes.size();
        const std::string run = bytes.substr(from, in.Int(2) % 2048);
        bytes.insert(at, run);
      }
    }
  }
}

v1::LogEntry PoolEntry(const Fixture& f, uint8_t which) {
  const size_t all = f.size() + f.other.entries().size();
  const size_t i = which % all;
  return i < f.size() ? f.log.entries()[i] : f.other.entries()[i - f.size()];
}

// A page changed entry by entry.
void ChangeEntries(kring::fuzz::Input& in, const Fixture& f, v1::PullResponse& page) {
  auto* entries = page.mutable_entries();
  const size_t edits = in.Byte() % 8;
  for (size_t e = 0; e < edits && in.remaining() > 0; ++e) {
    const uint8_t how = in.Byte();
    const int n = entries->size();
    const int i = n == 0 ? 0 : in.Byte() % n;
    const int to = in.Byte() % (n + 1);
    switch (how % 12) {
      case 0:  // drop
        if (n > 0) entries->DeleteSubrange(i, 1);
        break;
      case 1: {  // duplicate
        if (n == 0) break;
        v1::LogEntry copy = entries->Get(i);
        *entries->Add() = std::move(copy);
        for (int k = n; k > to; --k) entries->SwapElements(k, k - 1);
        break;
      }
      case 2:  // swap two
        if (n > 0) entries->SwapElements(i, to % n);
        break;
      case 3:  // move one
        if (n == 0) break;
        for (int k = i; k < to % n; ++k) entries->SwapElements(k, k + 1);
        for (int k = i; k > to % n; --k) entries->SwapElements(k, k - 1);
        break;
      case 4:  // an envelope from elsewhere in the log, or from another case
        if (n > 0) *entries->Mutable(i)->mutable_envelope() = PoolEntry(f, in.Byte()).envelope();
        break;
      case 5:  // a whole entry from elsewhere (its own seq and chain hash)
        if (n > 0) *entries->Mutable(i) = PoolEntry(f, in.Byte());
        break;
      case 6: {  // a field of an envelope
        if (n == 0) break;
        v1::Envelope& env = *entries->Mutable(i)->mutable_envelope();
        const uint8_t which = in.Byte();
        std::string s = FieldOf(env, which);
        ChangeBytes(in, s);
        SetFieldOf(env, which, std::move(s));
        break;
      }
      case 7:  // a field of a header
        if (n > 0) ChangeHeader(in, f, *entries->Mutable(i)->mutable_envelope());
        break;
      case 8:  // seq
        if (n > 0) {
          v1::LogEntry& entry = *entries->Mutable(i);
          entry.set_seq(entry.seq() + static_cast<uint64_t>(static_cast<int8_t>(in.Byte())));
        }
        break;
      case 9: {  // chain hash
        if (n == 0) break;
        std::string s = entries->Get(i).chain_hash();
        ChangeBytes(in, s);
        entries->Mutable(i)->set_chain_hash(s);
        break;
      }
      case 10:  // the signature of another op, or none
        if (n > 0) {
          entries->Mutable(i)->mutable_envelope()->set_signature(
              in.Bool() ? std::string() : PoolEntry(f, in.Byte()).envelope().signature());
        }
        break;
      default: {  // unknown fields, which no signature or hash covers
        const uint8_t where = in.Byte() % 4;
        google::protobuf::Message* m = &page;
        if (n > 0 && where == 1) m = entries->Mutable(i);
        if (n > 0 && where == 2) m = entries->Mutable(i)->mutable_envelope();
        if (where == 3) m = page.mutable_head();
        m->GetReflection()->MutableUnknownFields(m)->AddVarint(100 + in.Byte() % 8, in.Byte());
      }
    }
  }
}

// What a server with its own signing key can do after changing a page: compute the chain hashes
// again from the client's head, and sign a head of its choosing; or change the head unsigned; or
// serve the first k entries under the honest log's newest head or its head for them (a page cut
// short: unchanged entries are mostly taken, and compared for a j below the log's size).
void ServerFixUp(kring::fuzz::Input& in, const Fixture& f, const Start& s, v1::PullResponse& page) {
  const uint8_t how = in.Byte();
  if ((how & 1) != 0) {
    Bytes prev = s.record.head_hash;
    for (v1::LogEntry& e : *page.mutable_entries()) {
      prev = protocol::ChainHash(prev, e.seq(), protocol::EnvelopeHash(e.envelope()));
      e.set_chain_hash(ToString(prev));
    }
  }
  if ((how >> 4) % 4 == 3) {
    const uint8_t cut = in.Byte();
    const int k = (cut >> 1) % (page.entries_size() + 1);
    page.mutable_entries()->DeleteSubrange(k, page.entries_size() - k);
    // The log's newest head (a page limited in size), or the one for where it ends (refused
    // below 7 here: the chair holds a receipt for 7).
    *page.mutable_head() =
        f.heads[(cut & 1) != 0 ? f.size() : std::min(s.at + static_cast<size_t>(k), f.size())];
    return;
  }
  const int n = page.entries_size();
  const uint64_t last_seq = n == 0 ? s.at : page.entries(n - 1).seq();
  const Bytes last_chain = n == 0 ? s.record.head_hash : ToBytes(page.entries(n - 1).chain_hash());
  const auto sign = [&](uint64_t seq, const Bytes& chain, int64_t time_ms) {
    // Most heads signed here are the same few (the honest chain at some seq): kept, since
    // signing costs more than the rest of a refused input.
    static std::map<std::tuple<uint64_t, Bytes, int64_t>, v1::Receipt> signed_heads;
    if (signed_heads.size() > 4096) signed_heads.clear();
    auto [it, added] = signed_heads.try_emplace({seq, chain, time_ms});
    if (added) {
      it->second =
          protocol::MakeReceipt(f.log.case_id(), seq, chain, time_ms, f.log.server().secret_key);
    }
    *page.mutable_head() = it->second;
  };
  constexpr int64_t kTime = 1700000000000;
  switch ((how >> 1) % 8) {
    case 0:  // the head as it is
      break;
    case 1:
      sign(last_seq, last_chain, kTime);
      break;
    case 2:
      sign(f.size(), last_chain, kTime);
      break;
    case 3:
      sign(last_seq + in.Byte() % 4, last_chain, kTime);
      break;
    case 4: {
      const uint64_t seq = in.Byte();
      sign(
          seq,
          seq >= 1 && seq <= f.size() ? ToBytes(f.log.entries()[seq - 1].chain_hash()) : last_chain,
          kTime);
      break;
    }
    case 5: {  // a field of the signed head, unsigned
      v1::Receipt& head = *page.mutable_head();
      std::string field;
      switch (in.Byte() % 5) {
        case 0:
          field = head.case_id();
          ChangeBytes(in, field);
          head.set_case_id(field);
          break;
        case 1:
          field = head.chain_hash();
          ChangeBytes(in, field);
          head.set_chain_hash(field);
          break;
        case 2:
          field = head.signature();
          ChangeBytes(in, field);
          head.set_signature(field);
          break;
        case 3:
          head.set_seq(head.seq() + static_cast<uint64_t>(static_cast<int8_t>(in.Byte())));
          break;
        default:
          head.set_time_ms(head.time_ms() + 1);
      }
      break;
    }
    case 6:
      sign(last_seq, last_chain, kTime + 1 + in.Byte());
      break;
    default:
      page.clear_head();
  }
}

// The position j an honest page ends at, when `page` is the honest log's entries after the start
// up to j under a head the honest page up to j is taken with (Head(n) or Head(j)), unknown fields
// of the page, its head and its entries aside (nothing covers or stores them; an envelope's are
// refused, so those stay).
std::optional<size_t> HonestEnd(const Fixture& f, const Start& s, const v1::PullResponse& page) {
  const size_t j = s.at + static_cast<size_t>(page.entries_size());
  if (j > f.size() || !s.refs[j - s.at].has_value()) return std::nullopt;
  v1::PullResponse copy = page;
  copy.GetReflection()->MutableUnknownFields(&copy)->Clear();
  if (copy.has_head()) {
    v1::Receipt& head = *copy.mutable_head();
    head.GetReflection()->MutableUnknownFields(&head)->Clear();
  }
  for (v1::LogEntry& e : *copy.mutable_entries()) {
    e.GetReflection()->MutableUnknownFields(&e)->Clear();
  }
  const bool under_newest =
      s.taken_under_newest[j - s.at] &&
      MessageDifferencer::Equals(copy, Entries(f.log, s.at, j, f.heads[f.size()]));
  const bool under_own = s.taken_under_own[j - s.at] &&
                         MessageDifferencer::Equals(copy, Entries(f.log, s.at, j, f.heads[j]));
  if (!under_newest && !under_own) return std::nullopt;
  return j;
}

// With KRING_FUZZ_STATS set, how often each outcome came, printed at exit: whether the inputs
// reach the checks past the head and the entries.
void Count(const std::string& outcome) {
  static std::map<std::string, size_t>* counts = [] {
    auto* m =
        std::getenv("KRING_FUZZ_STATS") != nullptr ? new std::map<std::string, size_t>() : nullptr;
    if (m != nullptr) {
      std::atexit([] {
        for (const auto& [what, n] : *counts) std::fprintf(stderr, "%8zu  %s\n", n, what.c_str());
      });
    }
    return m;
  }();
  if (counts != nullptr) ++(*counts)[outcome];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  static const Fixture& f = *Build();
  kring::fuzz::Input in(data, size);
  const uint8_t choice = in.Byte();
  const Start& s = f.starts[choice % f.starts.size()];
  const bool raw = (choice / 3) % 2 == 0;
  const uint8_t entry_point = static_cast<uint8_t>((choice / 6) % 4);

  v1::PullResponse page;
  if (raw) {
    std::string bytes = s.page;
    ChangeRaw(in, bytes);
    if (!page.ParseFromString(bytes)) {
      Count("not a PullResponse");
      return 0;  // what the transport refuses
    }
  } else {
    KRING_FUZZ_CHECK(page.ParseFromString(s.page));
    ChangeEntries(in, f, page);
  }
  ServerFixUp(in, f, s, page);
  // Before VerifyPull takes or changes the page.
  const std::optional<size_t> honest_end = HonestEnd(f, s, page);

  client::VerifyContext ctx;
  f.Fill(ctx, s);
  // A parse kept from the page before (a catch-up reuses it), unfilled as VerifyPull leaves it.
  client::ParsedPage parsed;
  if (entry_point >= 2) {
    v1::PullResponse before;
    KRING_FUZZ_CHECK(before.ParseFromString(f.starts[(choice + 1) % f.starts.size()].page));
    client::ParseEntries(before, parsed);
    parsed.filled = false;
  }
  client::VerifyResult r;
  std::vector<v1::LogEntry> accepted;
  switch (entry_point) {
    case 0:
      r = client::VerifyPull(ctx, page);
      accepted = r.batch.entries;
      break;
    case 1:
      r = client::VerifyPull(ctx, v1::PullResponse(page));
      accepted = r.batch.entries;
      break;
    case 2:  // parsed on the thread that pulled it, as a catch-up does
      client::ParseEntries(page, parsed);
      r = client::VerifyPull(ctx, v1::PullResponse(page), &parsed);
      accepted = r.batch.entries;
      KRING_FUZZ_CHECK(!parsed.filled);
      break;
    default:
      r = client::VerifyPullInPlace(ctx, page, &parsed);
      KRING_FUZZ_CHECK(r.batch.entries.empty());
      accepted.assign(page.entries().begin(), page.entries().end());
  }

  KRING_FUZZ_CHECK(r.error.ok());
  Count(r.failure ? r.failure->detail : "taken at " + std::to_string(r.batch.head_seq));
  if (honest_end) {
    Count("honest up to " + std::to_string(*honest_end));
    // An honest page is taken, up to its end: a verifier that refuses too much fails here.
    KRING_FUZZ_CHECK(!r.failure && r.batch.head_seq == *honest_end);
  }
  if (r.failure) {
    KRING_FUZZ_CHECK(!r.failure->detail.empty());
    KRING_FUZZ_CHECK(MessageDifferencer::Equals(ctx.record.state, s.record.state));
    return 0;
  }
  // Taken: the honest entries after the starting point up to some position, and what the
  // honest page up to there gives.
  const uint64_t j = r.batch.head_seq;
  KRING_FUZZ_CHECK(j >= s.at && j <= f.size());
  KRING_FUZZ_CHECK(accepted.size() == j - s.at);
  for (size_t k = 0; k < accepted.size(); ++k) {
    const v1::LogEntry& honest = f.log.entries()[s.at + k];
    KRING_FUZZ_CHECK(accepted[k].seq() == honest.seq() &&
                     accepted[k].chain_hash() == honest.chain_hash());
    KRING_FUZZ_CHECK(MessageDifferencer::Equals(accepted[k].envelope(), honest.envelope()));
  }
  const Reference& ref = s.refs[j - s.at];
  KRING_FUZZ_CHECK(ref.has_value());
  KRING_FUZZ_CHECK(SameResult(r, *ref));
  return 0;
}
