#include "workloads.h"

#include <sodium.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "kring/client.h"
#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"
#include "kring/common/user_chain.h"

#include "checked_cold.h"
#include "client_cost.h"
#include "floors.h"
#include "kring_ops.h"
#include "process.h"
#include "raw_hash.h"
#include "sync/sync_engine.h"
#include "sync/verifier.h"

namespace kring::bench {
namespace {

constexpr size_t kNoteBytes = 1000;  // ContentOp size: pads to 1 KiB, 1040-byte ciphertext
constexpr size_t kFixtureBatch = 50;
constexpr uint32_t kPage = 1000;

// Whether the switch `name` is set in the environment (to anything but "").
bool EnvSet(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0';
}

// KRING_BENCH_MARKS: a file that gets one line per timed run (steady-clock start and end in
// seconds, ops, contender), so what is sampled outside the bench (/proc, `perf stat -I`, `perf
// record -k CLOCK_MONOTONIC` then `perf report --time START,END`) can be cut per contender.
void Mark(const char* contender, double start, double end, size_t ops) {
  if (const char* marks = std::getenv("KRING_BENCH_MARKS")) {
    if (FILE* f = std::fopen(marks, "a")) {
      std::fprintf(f, "%.6f %.6f %zu %s\n", start, end, ops, contender);
      std::fclose(f);
    }
  }
}

std::unique_ptr<ServerProcess> StartKringd() {
  // KRING_BENCH_KRINGD: another kringd (main's head, or a wrapper that runs it under callgrind)
  // against the same bench binary.
  const char* other = std::getenv("KRING_BENCH_KRINGD");
  return std::make_unique<ServerProcess>(
      "kringd", other != nullptr && *other != '\0' ? other : KRINGD_PATH,
      std::vector<std::string>{"--listen", "127.0.0.1:0", "--data-dir", "{dir}/data", "--log-level",
                               "warn"});
}

std::unique_ptr<ServerProcess> StartFloor() {
  // KRING_BENCH_FLOOR_RELAY: as KRING_BENCH_KRINGD, e.g. a wrapper that runs it under callgrind.
  const char* other = std::getenv("KRING_BENCH_FLOOR_RELAY");
  return std::make_unique<ServerProcess>(
      "floor relay", other != nullptr && *other != '\0' ? other : FLOOR_RELAY_PATH,
      std::vector<std::string>{"--listen", "127.0.0.1:0", "--db", "{dir}/floor.sqlite3"});
}

void Check(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.error_message());
}

v1::PushResponse PushOrThrow(KringConn& conn, const std::string& token, const Bytes& case_id,
                             const std::vector<v1::Envelope>& envs) {
  v1::PushRequest req;
  req.set_case_id(ToString(case_id));
  for (const v1::Envelope& e : envs) *req.add_envelopes() = e;
  v1::PushResponse resp;
  Check(conn.sync->Push(Ctx(token).get(), req, &resp), "Push");
  return resp;
}

void AppendOrThrow(FloorConn& conn, const Bytes& log_id, const std::vector<std::string>& items) {
  floorrelay::v1::AppendRequest req;
  req.set_log_id(ToString(log_id));
  for (const std::string& i : items) req.add_items(i);
  floorrelay::v1::AppendResponse resp;
  Check(conn.relay->Append(Ctx().get(), req, &resp), "Append");
}

// ---- Raw libsodium equivalents of the protocol's per-op work (docs/protocol.md) ----

struct RawSealState {
  std::string header;  // serialized header of a representative op
  Bytes plain;         // serialized ContentOp
  SecretBytes content_key;
  SecretBytes commit_key;
  std::string secret_key;
  Bytes pad_buf;
  uint8_t nonce[24];
  uint8_t kc[32];
  uint8_t ad[32];
  uint8_t digest[32];
  uint8_t env_hash[32];
  uint8_t sig[64];
  Bytes ct;
};

// Pad, nonce, key commitment, associated data, AEAD, digest, Ed25519 signature, envelope hash.
void RawSealOne(RawSealState& s) {
  std::memcpy(s.pad_buf.data(), s.plain.data(), s.plain.size());
  size_t padded = 0;
  sodium_pad(&padded, s.pad_buf.data(), s.plain.size(), 256, s.pad_buf.size());
  randombytes_buf(s.nonce, sizeof s.nonce);
  RawHash("kring-op-key-commit-v1", s.commit_key.data(), s.commit_key.size())
      .Part(s.nonce, 24)
      .Final(s.kc);
  RawHash("kring-op-ad-v1").Part(s.header).Part(nullptr, 0).Final(s.ad);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(s.ct.data(), &ct_len, s.pad_buf.data(), padded, s.ad,
                                             32, nullptr, s.nonce, s.content_key.data());
  RawHash("kring-op-v1")
      .Part(s.header)
      .Part(s.nonce, 24)
      .Part(s.kc, 32)
      .Part(s.ct.data(), static_cast<size_t>(ct_len))
      .Part(nullptr, 0)
      .Final(s.digest);
  crypto_sign_detached(s.sig, nullptr, s.digest, 32,
                       reinterpret_cast<const uint8_t*>(s.secret_key.data()));
  RawHash("kring-envelope-v1").Part(s.digest, 32).Part(s.sig, 64).Final(s.env_hash);
}

struct SealFixture {
  BenchAccount author = NewAccount();
  SecretBytes epoch_key = crypto::RandomSecret(32);
  v1::ContentOp content = NoteOp(kNoteBytes);
  DeviceWriter writer{author, crypto::RandomBytes(16)};
  RawSealState raw;

  SealFixture() {
    v1::Envelope sample = writer.Content(1, epoch_key, content, 7, std::string(32, 'h'));
    raw.header = sample.header();
    raw.plain = ToBytes(content.SerializeAsString());
    raw.content_key = protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kContent);
    raw.commit_key = protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kCommitment);
    raw.secret_key = author.local.device_signing_secret_key();
    raw.pad_buf.resize(raw.plain.size() + 256);
    raw.ct.resize(raw.pad_buf.size() + 16);
  }
  // What SealPending does per intent: a header, SignEnvelope, the envelope hash for the next op.
  void KringSealOne() {
    v1::Envelope env = writer.Content(1, epoch_key, content, 7, std::string(32, 'h'));
    if (env.ciphertext().size() != 1040) throw std::runtime_error("unexpected op size");
  }
};

// ---- Cold sync fixture ----

struct Reader {
  std::unique_ptr<client::Client> client;
  Bytes account_id;
  Bytes user_box_public_key;
};

struct ColdFixture {
  std::unique_ptr<ServerProcess> kringd;
  std::unique_ptr<ServerProcess> floor;
  std::unique_ptr<KringConn> conn;
  std::vector<BenchAccount> authors;
  std::vector<Reader> readers;
  Bytes case_id;
  SecretBytes epoch_key;
  size_t total_ops = 0;
};

void BuildColdFixture(ColdFixture& f, const Options& o) {
  f.kringd = StartKringd();
  f.floor = StartFloor();
  f.conn = std::make_unique<KringConn>(f.kringd->address());
  FloorConn floor(f.floor->address());
  f.authors.resize(o.authors);
  for (BenchAccount& a : f.authors) {
    a = NewAccount();
    PublishAndSignIn(*f.conn, a);
  }
  // One fresh libkring device (its own account, a member of the case) per round.
  for (int r = 0; r < o.rounds; ++r) {
    client::ClientOptions co;
    co.db_path = o.scratch + "/reader-" + std::to_string(r) + ".kring.sqlite3";
    co.storage_key = crypto::RandomSecret(32);
    co.transport = client::MakeGrpcTransport(f.kringd->address(), {30000, {}});
    co.background_sync = false;
    auto opened = client::Client::Open(std::move(co));
    if (!opened.ok()) throw std::runtime_error("Client::Open: " + opened.status().ToString());
    Reader rd;
    rd.client = std::move(opened).value();
    auto acct = rd.client->CreateAccount();
    if (!acct.ok()) throw std::runtime_error("CreateAccount: " + acct.status().ToString());
    rd.account_id = acct->info.account_id;
    v1::GetChainRequest greq;
    greq.set_account_id(ToString(rd.account_id));
    v1::GetChainResponse chain;
    Check(f.conn->account->GetChain(Ctx(f.authors[0].token).get(), greq, &chain), "GetChain");
    auto verified = VerifyChain(rd.account_id, {chain.links().begin(), chain.links().end()});
    if (!verified.ok()) throw std::runtime_error("reader chain does not verify");
    rd.user_box_public_key = verified->user_key.box_public_key;
    f.readers.push_back(std::move(rd));
  }

  f.case_id = crypto::RandomBytes(16);
  f.epoch_key = crypto::RandomSecret(32);
  std::vector<DeviceWriter> writers;
  for (const BenchAccount& a : f.authors) writers.emplace_back(a, f.case_id);
  std::vector<std::pair<Bytes, v1::Role>> members;
  std::vector<Recipient> recipients;
  for (size_t i = 0; i < f.authors.size(); ++i) {
    members.emplace_back(f.authors[i].account_id, i == 0 ? v1::ROLE_CHAIR : v1::ROLE_MEMBER);
    recipients.push_back({f.authors[i].account_id, f.authors[i].user_box_public_key});
  }
  for (const Reader& rd : f.readers) {
    members.emplace_back(rd.account_id, v1::ROLE_MEMBER);
    recipients.push_back({rd.account_id, rd.user_box_public_key});
  }
  std::vector<v1::Envelope> first = {writers[0].CreateCase(members),
                                     writers[0].Rekey(1, recipients, f.epoch_key)};
  v1::PushResponse resp = PushOrThrow(*f.conn, f.authors[0].token, f.case_id, first);
  std::vector<std::string> bytes;
  for (const v1::Envelope& e : first) bytes.push_back(e.SerializeAsString());
  AppendOrThrow(floor, f.case_id, bytes);
  uint64_t head_seq = resp.results(1).seq();
  std::string head_hash = resp.results(1).chain_hash();
  f.total_ops = 2;
  // Authors take turns pushing batches of 50, each op having seen the head before its push.
  for (size_t done = 0, b = 0; done < o.cold_ops; ++b) {
    size_t who = b % f.authors.size();
    std::vector<v1::Envelope> batch;
    for (size_t i = 0; i < kFixtureBatch && done < o.cold_ops; ++i, ++done) {
      // As libkring pushes a run: only its last op is signed.
      const bool last = i + 1 == kFixtureBatch || done + 1 == o.cold_ops;
      batch.push_back(
          writers[who].Content(1, f.epoch_key, NoteOp(kNoteBytes), head_seq, head_hash, last));
    }
    resp = PushOrThrow(*f.conn, f.authors[who].token, f.case_id, batch);
    head_seq = resp.results(resp.results_size() - 1).seq();
    head_hash = resp.results(resp.results_size() - 1).chain_hash();
    bytes.clear();
    for (const v1::Envelope& e : batch) bytes.push_back(e.SerializeAsString());
    AppendOrThrow(floor, f.case_id, bytes);
    f.total_ops += batch.size();
  }
  if (head_seq != f.total_ops) throw std::runtime_error("fixture head does not match");
}

// The floor's cold sync: read everything in pages and store each page in one local transaction
// at the same durability as libkring's local store.
double FloorColdSync(const std::string& address, const Bytes& log_id, const std::string& db_path,
                     size_t expected) {
  double start = Now();
  FloorConn conn(address);
  auto db = sql::Database::Open(db_path, /*read_only=*/false, kDeviceCheckpoints);
  if (!db.ok()) throw std::runtime_error("floor reader db");
  Status s = db->Exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  if (!s.ok()) throw std::runtime_error("floor reader schema");
  uint64_t after = 0;
  for (int page = 0; page < 1000; ++page) {
    floorrelay::v1::ReadRequest req;
    req.set_log_id(ToString(log_id));
    req.set_after_seq(after);
    req.set_limit(kPage);
    floorrelay::v1::ReadResponse resp;
    Check(conn.relay->Read(Ctx().get(), req, &resp), "Read");
    if (resp.items_size() == 0) break;
    sql::Transaction tx(*db);
    sql::Statement ins(*db, "INSERT INTO log (seq, data) VALUES (?, ?)");
    for (const floorrelay::v1::Item& it : resp.items()) {
      ins.Reset();
      if (!ins.Bind(1, static_cast<int64_t>(it.seq())).Bind(2, it.data()).Run().ok()) {
        throw std::runtime_error("floor reader insert");
      }
    }
    if (!tx.Commit().ok()) throw std::runtime_error("floor reader commit");
    after = static_cast<uint64_t>(resp.items(resp.items_size() - 1).seq());
  }
  double elapsed = Now() - start;
  Mark("floor relay cold sync", start, start + elapsed, expected);
  if (after != expected) throw std::runtime_error("floor cold sync incomplete");
  return elapsed;
}

// ---- In-process verification: libkring's VerifyPull vs the raw calls on the same entries ----

struct VerifyFixture {
  std::vector<v1::PullResponse> pages;
  Bytes server_key;
  std::map<Bytes, UserChain> chains;
  const BenchAccount* me = nullptr;
  Bytes case_id;
  SecretBytes epoch_key;
};

// Runs the client's verifier over all pages, carrying state between pages as SyncEngine does.
double KringVerifyAll(const VerifyFixture& vf) {
  double start = Now();
  client::CaseRecord rec;
  rec.case_id = vf.case_id;
  std::map<Bytes, client::DeviceHead> heads;
  std::map<uint64_t, Bytes> hashes;
  std::vector<client::EpochKey> keys;
  size_t applied = 0;
  for (const v1::PullResponse& page : vf.pages) {
    client::VerifyContext ctx;
    ctx.record = std::move(rec);  // as SyncEngine does: the state is handed over, not copied
    ctx.device_heads = heads;
    ctx.server_public_key = vf.server_key;
    ctx.me = &vf.me->local;
    ctx.chain_hash_at = [&](uint64_t seq) -> Result<std::optional<Bytes>> {
      auto it = hashes.find(seq);
      if (it == hashes.end()) return std::optional<Bytes>();
      return std::optional<Bytes>(it->second);
    };
    ctx.chain_of = [&](const Bytes& account, bool) -> Result<UserChain> {
      auto it = vf.chains.find(account);
      if (it == vf.chains.end()) return NotFound("no chain");
      return it->second;
    };
    ctx.epoch_key = [&](uint32_t scope, uint64_t epoch) -> Result<std::optional<client::EpochKey>> {
      for (const client::EpochKey& k : keys) {
        if (k.scope_id == scope && k.epoch == epoch) {
          return std::optional<client::EpochKey>(client::EpochKey{scope, epoch, k.key});
        }
      }
      return std::optional<client::EpochKey>();
    };
    client::VerifyResult v = client::VerifyPull(ctx, page);
    rec = std::move(ctx.record);
    if (!v.error.ok() || v.failure) {
      throw std::runtime_error("verify failed: " + (v.failure ? v.failure->detail : ""));
    }
    for (const v1::LogEntry& e : v.batch.entries) hashes[e.seq()] = ToBytes(e.chain_hash());
    for (auto& [d, h] : v.batch.device_heads) heads[d] = h;
    for (client::EpochKey& k : v.batch.epoch_keys) keys.push_back(std::move(k));
    applied += v.batch.entries.size();
    rec.head_seq = v.batch.head_seq;
    rec.head_hash = v.batch.head_hash;
    rec.state = std::move(v.batch.state);
  }
  double elapsed = Now() - start;
  if (applied != rec.head_seq || rec.state.entities_size() == 0) {
    throw std::runtime_error("verify applied nothing");
  }
  return elapsed;
}

struct RawEntry {
  uint64_t seq;
  std::string header, nonce, kc, ct, body, sig, chain;
  bool content;
  bool verify_sig;  // the newest op of its device in its page
  std::string signer;
};

struct RawVerifyFixture {
  std::vector<RawEntry> entries;
  SecretBytes content_key, commit_key;
  std::map<std::string, std::string> signing_keys;  // device id -> public key
};

RawVerifyFixture MakeRawVerify(const VerifyFixture& vf) {
  RawVerifyFixture r;
  r.content_key = protocol::DeriveEpochSubkey(vf.epoch_key, protocol::EpochSubkey::kContent);
  r.commit_key = protocol::DeriveEpochSubkey(vf.epoch_key, protocol::EpochSubkey::kCommitment);
  for (const auto& [acct, chain] : vf.chains) {
    for (const auto& [dev, d] : chain.devices)
      r.signing_keys[ToString(dev)] = ToString(d.signing_public_key);
  }
  for (const v1::PullResponse& page : vf.pages) {
    std::map<std::string, size_t> last;
    for (const v1::LogEntry& e : page.entries()) {
      v1::OpHeader h;
      h.ParseFromString(e.envelope().header());
      RawEntry re{e.seq(),
                  e.envelope().header(),
                  e.envelope().nonce(),
                  e.envelope().key_commitment(),
                  e.envelope().ciphertext(),
                  e.envelope().control_body(),
                  e.envelope().signature(),
                  e.chain_hash(),
                  h.kind() == v1::OP_KIND_CONTENT,
                  false,
                  h.author_device_id()};
      last[h.author_device_id()] = r.entries.size();
      r.entries.push_back(std::move(re));
    }
    for (const auto& [dev, idx] : last) r.entries[idx].verify_sig = true;
  }
  return r;
}

// Per op: digest, envelope hash, chain hash (compared), key commitment (compared), associated
// data, AEAD open, unpad; one Ed25519 verification per device per page.
double RawVerifyAll(const RawVerifyFixture& r) {
  double start = Now();
  uint8_t prev[32] = {0};
  size_t prev_len = 0;
  std::vector<uint8_t> plain(64 * 1024);
  for (const RawEntry& e : r.entries) {
    uint8_t digest[32], env_hash[32], chain[32], kc[32], ad[32];
    RawHash("kring-op-v1")
        .Part(e.header)
        .Part(e.nonce)
        .Part(e.kc)
        .Part(e.ct)
        .Part(e.body)
        .Final(digest);
    RawHash("kring-envelope-v1")
        .Part(digest, 32)
        .Part(reinterpret_cast<const uint8_t*>(e.sig.data()), e.sig.size())
        .Final(env_hash);
    RawHash("kring-chain-v1").Part(prev, prev_len).U64(e.seq).Part(env_hash, 32).Final(chain);
    if (std::memcmp(chain, e.chain.data(), 32) != 0) throw std::runtime_error("raw chain");
    std::memcpy(prev, chain, 32);
    prev_len = 32;
    if (e.verify_sig) {
      const std::string& pk = r.signing_keys.at(e.signer);
      if (crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(e.sig.data()), digest, 32,
                                      reinterpret_cast<const uint8_t*>(pk.data())) != 0) {
        throw std::runtime_error("raw signature");
      }
    }
    if (!e.content) continue;
    RawHash("kring-op-key-commit-v1", r.commit_key.data(), r.commit_key.size())
        .Part(e.nonce)
        .Final(kc);
    if (std::memcmp(kc, e.kc.data(), 32) != 0) throw std::runtime_error("raw commitment");
    RawHash("kring-op-ad-v1").Part(e.header).Part(nullptr, 0).Final(ad);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain.data(), &len, nullptr, reinterpret_cast<const uint8_t*>(e.ct.data()), e.ct.size(),
            ad, 32, reinterpret_cast<const uint8_t*>(e.nonce.data()), r.content_key.data()) != 0) {
      throw std::runtime_error("raw decrypt");
    }
    size_t unpadded = 0;
    if (sodium_unpad(&unpadded, plain.data(), static_cast<size_t>(len), 256) != 0) {
      throw std::runtime_error("raw unpad");
    }
  }
  return Now() - start;
}

}  // namespace

void RunColdSync(Report& report, const Options& o) {
  ColdFixture f;
  double t0 = Now();
  BuildColdFixture(f, o);
  report.notes.push_back("cold sync fixture: " + std::to_string(f.total_ops) + " ops (" +
                         std::to_string(o.cold_ops) + " content + CreateCase + Rekey) by " +
                         std::to_string(o.authors) + " authors, built in " +
                         std::to_string(static_cast<int>(Now() - t0)) + " s");

  Comparison cold{
      "cold sync of " + std::to_string(o.cold_ops) + " x 1 KiB ops, 5 authors, fresh device",
      "libkring SyncNow (verify, decrypt, fold, store)",
      "floor relay read + local SQLite store",
      "s",
      false,
      {},
      {},
      1.3,
      "<= 1.3x",
      "A includes sign-in, ListCases, 5 chain fetches, pulls in the pages the client "
      "asks for (1000 since 80f010b), local transactions at synchronous=FULL; B reads pages of "
      "1000 and "
      "stores each in one transaction at synchronous=FULL"};
  // KRING_BENCH_COLD_SYNC_ONLY: kring's SyncNow and the bare floor only, then stop, so that a
  // callgrind run of `--only cold` counts the sync alone (the checked floor's threads and the
  // in-process round below would be counted with it).
  const bool sync_only = EnvSet("KRING_BENCH_COLD_SYNC_ONLY");
  // KRING_BENCH_COLD_ROUNDS_ONLY: the rounds' three contenders, then stop: the run under
  // callgrind of `--only coldcount`, which counts each contender's instructions apart
  // (ClientCost). Only then do the rounds touch callgrind's counts.
  const bool rounds_only = EnvSet("KRING_BENCH_COLD_ROUNDS_ONLY");
  // The checked floor: the floor relay's cold sync plus the checks' raw cryptography, against
  // kringd's signed head of the same log; author 0 is its reader.
  CheckedColdInput checked_in;
  checked_in.address = f.floor->address();
  checked_in.log_id = f.case_id;
  checked_in.expected = f.total_ops;
  checked_in.reader = &f.authors[0].local;
  for (const BenchAccount& a : f.authors)
    checked_in.author_chains.push_back({a.account_id, {a.root}});
  {
    v1::ServerInfo info;
    Check(f.conn->sync->GetServerInfo(Ctx().get(), v1::ServerInfoRequest(), &info), "ServerInfo");
    checked_in.server_public_key = ToBytes(info.signing_public_key());
    v1::PullRequest req;
    req.set_case_id(ToString(f.case_id));
    req.set_limit(1);
    v1::PullResponse resp;
    Check(f.conn->sync->Pull(Ctx(f.authors[0].token).get(), req, &resp), "Pull");
    checked_in.head = resp.head();
  }
  Comparison checked_vs_floor{cold.workload,
                              "checked floor (floor relay + the checks' raw crypto, both cores)",
                              "floor relay read + local SQLite store",
                              "s",
                              false,
                              {},
                              {},
                              std::nullopt,
                              "",
                              "A: per envelope BLAKE2b digest + envelope hash + chain hash, device "
                              "hash link; per content op key commitment, AD, XChaCha20-Poly1305 "
                              "open, unpad; per page the signed head and one Ed25519 verify per "
                              "author device; per sync 5 author chains and the epoch key box"};
  Comparison kring_vs_checked{cold.workload,
                              cold.a_name,
                              checked_vs_floor.a_name,
                              "s",
                              false,
                              {},
                              {},
                              std::nullopt,
                              "",
                              ""};
  // What each contender's client costs in CPU, whatever its wall time waits for (ClientCost).
  const std::string cpu_workload = cold.workload + ": client CPU time";
  const std::string cpu_note =
      "user + system time of every thread of the bench process during each run; the servers "
      "(kringd, floor relay) not counted";
  Comparison kring_cpu{cpu_workload, cold.a_name, cold.b_name,  "s", false,
                       {},           {},          std::nullopt, "",  cpu_note};
  Comparison checked_cpu{
      cpu_workload, checked_vs_floor.a_name, cold.b_name, "s", false, {}, {}, std::nullopt, "", ""};
  Comparison kring_vs_checked_cpu{
      cpu_workload, cold.a_name, checked_vs_floor.a_name, "s", false, {}, {}, std::nullopt, "", ""};
  // And the memory each touches for the first time (minor page faults of the bench process):
  // what a client keeps until its commit is new memory, and each new page costs a fault.
  const std::string faults_group = "cold sync, client minor page faults";
  Floor kring_faults{faults_group, cold.a_name, "faults", {}};
  Floor floor_faults{faults_group, cold.b_name, "faults", {}};
  Floor checked_faults{faults_group, checked_vs_floor.a_name, "faults", {}};
  // KRING_BENCH_COLD_HOOK: a program run as `<hook> start|stop <kringd pid> <floor relay pid>`
  // around the cold rounds, e.g. one that zeroes and dumps callgrind's counts of the two servers
  // (callgrind_control -z / -d), so that their serving of the cold syncs is counted apart from
  // the fixture's pushes. A name without a slash is looked up in $PATH (execv does not search
  // it). The hook's stdout is discarded (its stderr passes through); a non-zero exit fails the run.
  const char* hook_env = std::getenv("KRING_BENCH_COLD_HOOK");
  std::string hook = hook_env != nullptr ? hook_env : "";
  if (!hook.empty() && hook.find('/') == std::string::npos) {
    std::string found = FindInPath(hook);
    if (found.empty()) throw std::runtime_error("cold hook " + hook + " not found in PATH");
    hook = std::move(found);
  }
  auto run_hook = [&](const char* what) {
    if (hook.empty()) return;
    int code = 0;
    RunCapture({hook, what, std::to_string(f.kringd->pid()), std::to_string(f.floor->pid())}, 600,
               &code);
    if (code != 0) {
      throw std::runtime_error(std::string("cold hook ") + what + " failed: exit code " +
                               std::to_string(code) + " (-1: killed or no normal exit)");
    }
  };
  run_hook("start");
  // "stop" runs also when a round throws, so that what the hook started ends; its own failure is
  // then dropped, so that the round's error is the one reported.
  struct StopHook {
    std::function<void(const char*)> run;
    bool armed = true;
    ~StopHook() {
      if (!armed) return;
      try {
        run("stop");
      } catch (...) {  // see above
      }
    }
  } stop_hook{run_hook};
  for (int r = 0; r < o.rounds; ++r) {
    // Each contender's client cost (client_cost.h) covers its run and the closing of its local
    // database (which waits for its last WAL copy), not the checks in between; its wall time
    // stops when its last commit is durable.
    SettleDisk();
    ClientCost a_cost(rounds_only);
    a_cost.Resume();
    double start = Now();
    auto stats = f.readers[static_cast<size_t>(r)].client->SyncNow();
    double a = Now() - start;
    a_cost.Pause();
    Mark("libkring cold sync", start, start + a, f.total_ops);
    if (!stats.ok()) throw std::runtime_error("cold SyncNow: " + stats.status().ToString());
    client::Client& reader = *f.readers[static_cast<size_t>(r)].client;
    if (stats->pulled != f.total_ops || !reader.Alarms().empty()) {
      throw std::runtime_error("cold sync incomplete: pulled " + std::to_string(stats->pulled));
    }
    auto view = reader.ConfirmedView(f.case_id);
    if (!view.ok() || static_cast<size_t>(view->entities_size()) != o.cold_ops) {
      throw std::runtime_error("cold sync state does not hold every note");
    }
    // Closed before the floor's round: the local store copies its write-ahead log into the
    // database file after SyncNow returned (sql::WalCheckpointer), and that copy must not run
    // during the next contender's round. The floor's own database closes after its timing too.
    a_cost.Resume();
    f.readers[static_cast<size_t>(r)].client.reset();
    a_cost.Pause();
    a_cost.Dump(kLibkringColdCount);
    SettleDisk();
    ClientCost b_cost(rounds_only);
    b_cost.Resume();
    double b =
        FloorColdSync(f.floor->address(), f.case_id,
                      o.scratch + "/floor-reader-" + std::to_string(r) + ".sqlite3", f.total_ops);
    b_cost.Pause();
    b_cost.Dump(kFloorColdCount);
    cold.a.push_back(a);
    cold.b.push_back(b);
    kring_cpu.a.push_back(a_cost.cpu_seconds());
    kring_cpu.b.push_back(b_cost.cpu_seconds());
    kring_faults.rounds.push_back(a_cost.minor_faults());
    floor_faults.rounds.push_back(b_cost.minor_faults());
    if (!sync_only) {
      checked_in.db_path = o.scratch + "/checked-reader-" + std::to_string(r) + ".sqlite3";
      SettleDisk();
      ClientCost c_cost(rounds_only);
      c_cost.Resume();
      double c = CheckedFloorColdSync(checked_in);
      c_cost.Pause();
      c_cost.Dump(kCheckedColdCount);
      checked_vs_floor.a.push_back(c);
      checked_vs_floor.b.push_back(b);
      kring_vs_checked.a.push_back(a);
      kring_vs_checked.b.push_back(c);
      checked_cpu.a.push_back(c_cost.cpu_seconds());
      checked_cpu.b.push_back(b_cost.cpu_seconds());
      kring_vs_checked_cpu.a.push_back(a_cost.cpu_seconds());
      kring_vs_checked_cpu.b.push_back(c_cost.cpu_seconds());
      checked_faults.rounds.push_back(c_cost.minor_faults());
    }
    if (o.after_cold_round) o.after_cold_round(r, a);
  }
  stop_hook.armed = false;
  run_hook("stop");
  report.comparisons.push_back(cold);
  report.comparisons.push_back(kring_cpu);
  report.floors.push_back(kring_faults);
  report.floors.push_back(floor_faults);
  if (sync_only) return;
  report.floors.push_back(checked_faults);
  report.comparisons.push_back(checked_vs_floor);
  report.comparisons.push_back(kring_vs_checked);
  report.comparisons.push_back(checked_cpu);
  report.comparisons.push_back(kring_vs_checked_cpu);
  if (rounds_only) return;

  // Verification cost in-process, on the exact entries kringd serves.
  VerifyFixture vf;
  vf.case_id = f.case_id;
  vf.epoch_key = f.epoch_key;
  vf.me = &f.authors[0];
  v1::ServerInfo info;
  Check(f.conn->sync->GetServerInfo(Ctx().get(), v1::ServerInfoRequest(), &info), "ServerInfo");
  vf.server_key = ToBytes(info.signing_public_key());
  for (const BenchAccount& a : f.authors) {
    auto chain = VerifyChain(a.account_id, {a.root});
    if (!chain.ok()) throw std::runtime_error("author chain");
    vf.chains.emplace(a.account_id, std::move(chain).value());
  }
  uint64_t after = 0;
  std::string after_hash;
  while (after < f.total_ops) {
    v1::PullRequest req;
    req.set_case_id(ToString(f.case_id));
    req.set_after_seq(after);
    req.set_after_chain_hash(after_hash);
    req.set_limit(kPage);
    v1::PullResponse resp;
    Check(f.conn->sync->Pull(Ctx(f.authors[0].token).get(), req, &resp), "Pull");
    if (resp.entries_size() == 0) break;
    after = resp.entries(resp.entries_size() - 1).seq();
    after_hash = resp.entries(resp.entries_size() - 1).chain_hash();
    vf.pages.push_back(std::move(resp));
  }
  RawVerifyFixture rv = MakeRawVerify(vf);
  Comparison verify{"client verify + open + apply per op (pages of 1000, in-process)",
                    "libkring VerifyPull",
                    "raw libsodium calls of the same checks",
                    "us/op",
                    false,
                    {},
                    {},
                    std::nullopt,
                    "",
                    "B: per op 5 BLAKE2b (digest, envelope, chain, commitment, AD), AEAD open, "
                    "unpad; one Ed25519 verify per device per page; no parsing, no fold"};
  double per_op = 1e6 / static_cast<double>(f.total_ops);
  for (int r = 0; r < o.rounds; ++r) {
    verify.a.push_back(KringVerifyAll(vf) * per_op);
    verify.b.push_back(RawVerifyAll(rv) * per_op);
  }
  report.comparisons.push_back(verify);
}

// ---- Push ----

namespace {

struct Pusher {
  BenchAccount account;
  std::unique_ptr<KringConn> conn;
  std::unique_ptr<FloorConn> floor;
};

// One client's pushes of a round, as requests built before the clock starts: the clock then
// counts the servers and the RPCs, not the bench copying envelopes into requests (the peers'
// clients, bench/peers/*-client.js, also build their updates and requests before the clock).
struct Planned {
  std::vector<v1::PushRequest> pushes;                 // kringd
  std::vector<floorrelay::v1::AppendRequest> appends;  // the floor relays: the same bytes
  std::vector<DeviceWriter::Position> after_chunk;
  DeviceWriter::Position before;
  size_t acked_chunks = 0;
};

// Runs `clients` threads, each doing `fn(i)` and returning how many ops were acknowledged.
double Parallel(const char* contender, size_t clients, const std::function<size_t(size_t)>& fn) {
  std::atomic<size_t> total{0};
  std::vector<std::thread> threads;
  double start = Now();
  for (size_t i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { total += fn(i); });
  }
  for (std::thread& t : threads) t.join();
  double elapsed = Now() - start;
  Mark(contender, start, start + elapsed, total.load());
  return static_cast<double>(total.load()) / elapsed;
}

}  // namespace

void RunPush(Report& report, const Options& o) {
  auto kringd = StartKringd();
  auto floor = StartFloor();
  size_t max_clients = 0;
  for (size_t n : o.push_clients) max_clients = std::max(max_clients, n);
  std::vector<Pusher> pushers(max_clients);
  for (Pusher& p : pushers) {
    p.account = NewAccount();
    p.conn = std::make_unique<KringConn>(kringd->address());
    p.floor = std::make_unique<FloorConn>(floor->address());
    PublishAndSignIn(*p.conn, p.account);
  }
  SecretBytes epoch_key = crypto::RandomSecret(32);
  const v1::ContentOp note = NoteOp(kNoteBytes);
  for (size_t n : o.push_clients) {
    // One case per client count, shared by its n clients (n members); above kringd's member
    // limit the clients are dealt round-robin over as few cases as fit (256: two of 128).
    size_t cases = (n + protocol::kMaxCaseMembers - 1) / protocol::kMaxCaseMembers;
    std::vector<Bytes> case_ids;
    for (size_t k = 0; k < cases; ++k) case_ids.push_back(crypto::RandomBytes(16));
    std::vector<DeviceWriter> writers;
    for (size_t i = 0; i < n; ++i) writers.emplace_back(pushers[i].account, case_ids[i % cases]);
    for (size_t k = 0; k < cases; ++k) {
      std::vector<std::pair<Bytes, v1::Role>> members;
      std::vector<Recipient> recipients;
      for (size_t i = k; i < n; i += cases) {
        members.emplace_back(pushers[i].account.account_id,
                             i == k ? v1::ROLE_CHAIR : v1::ROLE_MEMBER);
        recipients.push_back(
            {pushers[i].account.account_id, pushers[i].account.user_box_public_key});
      }
      PushOrThrow(*pushers[k].conn, pushers[k].account.token, case_ids[k],
                  {writers[k].CreateCase(members), writers[k].Rekey(1, recipients, epoch_key)});
    }

    for (size_t batch : {size_t{1}, size_t{50}}) {
      if (o.push_batch != 0 && batch != o.push_batch) continue;
      size_t per_client = o.push_scale * (batch == 1 ? std::max<size_t>(4, (1500 + n - 1) / n)
                                                     : 50 * std::max<size_t>(2, (200 + n - 1) / n));
      std::string label = std::to_string(n) + (n == 1 ? " client, " : " clients, ") +
                          (batch == 1 ? "single-op pushes" : "batches of 50");
      // Every push row compares two rates, higher being better.
      auto rates = [&](std::string a_name, std::string b_name) {
        return Comparison{"push: " + label,
                          std::move(a_name),
                          std::move(b_name),
                          "ops/s",
                          true,
                          {},
                          {},
                          std::nullopt,
                          "",
                          ""};
      };
      Comparison vs_floor = rates("kringd", "floor relay");
      Comparison vs_sqlite = rates("kringd", batch == 1 ? "raw SQLite, one txn per row (1 thread)"
                                                        : "raw SQLite, txns of 50 rows (1 thread)");
      // The check kringd cannot skip: one Ed25519 verification per signed op, which is every
      // single-op push and one per batch (libkring signs the last op of a push's run).
      Comparison vs_checked =
          rates("kringd", batch == 1 ? "floor relay + Ed25519 check per op"
                                     : "floor relay + one Ed25519 check per push");
      // The least a kringd that keeps its security properties does per push beyond the check:
      // each op's chain hash stored with it and a signed receipt per log per group commit, from
      // kringd's own ReceiptSigner (bench/src/floor_relay.cpp). Against it the check and the
      // receipt are no longer charged to kringd; against the bare floor they show what they
      // cost any relay that does them.
      const std::string receipt_name =
          batch == 1 ? "floor relay + check + receipt" : "floor relay + check per push + receipt";
      Comparison vs_receipt = rates("kringd", receipt_name);
      Comparison receipt_vs_floor = rates(receipt_name, "floor relay");
      Comparison checked_vs_floor = rates(vs_checked.b_name, "floor relay");
      if (n == 64 && batch == 1) {
        vs_floor.target = 0.8;
        vs_floor.target_text = ">= 0.80";
      }
      if (batch == 50) {
        vs_sqlite.target = 0.7;
        vs_sqlite.target_text = ">= 0.70";
      }
      for (int r = 0; r < o.rounds; ++r) {
        // Sealed and signed before the clock starts: this measures the servers, not the clients.
        std::vector<Planned> plans(n);
        for (size_t i = 0; i < n; ++i) {
          Planned& p = plans[i];
          p.before = writers[i].position();
          for (size_t done = 0; done < per_client; done += batch) {
            v1::PushRequest& push = p.pushes.emplace_back();
            push.set_case_id(ToString(writers[i].case_id()));
            push.set_shared_receipt(true);  // as libkring asks
            floorrelay::v1::AppendRequest& append = p.appends.emplace_back();
            append.set_log_id(push.case_id());
            for (size_t k = 0; k < batch; ++k) {
              // As libkring seals a push: one signature, on the run's last op.
              *push.add_envelopes() = writers[i].Content(1, epoch_key, note, 0, {}, k + 1 == batch);
              append.add_items(push.envelopes(static_cast<int>(k)).SerializeAsString());
            }
            p.after_chunk.push_back(writers[i].position());
          }
        }
        double deadline = 0;
        auto kringd_rate = [&] {
          deadline = Now() + o.push_time_cap;
          double rate = Parallel("kringd", n, [&](size_t i) -> size_t {
            Planned& p = plans[i];
            size_t acked = 0;
            for (const v1::PushRequest& req : p.pushes) {
              if (Now() > deadline) break;
              v1::PushResponse resp;
              grpc::Status s =
                  pushers[i].conn->sync->Push(Ctx(pushers[i].account.token).get(), req, &resp);
              if (!s.ok()) break;
              acked += static_cast<size_t>(req.envelopes_size());
              ++p.acked_chunks;
            }
            return acked;
          });
          for (size_t i = 0; i < n; ++i) {
            Planned& p = plans[i];
            writers[i].Restore(p.acked_chunks == 0 ? p.before : p.after_chunk[p.acked_chunks - 1]);
          }
          return rate;
        };
        // The floor relay's three contenders push the same bytes in the same chunks; `verify`
        // adds the signature check, `receipt` the chain hashes and the signed receipt (a round
        // without one in an answer stops, as kringd's would be a failure).
        auto floor_rate = [&](bool verify, bool receipt) {
          for (size_t i = 0; i < n; ++i) {
            for (floorrelay::v1::AppendRequest& req : plans[i].appends) {
              if (verify) {
                req.set_verify_key(pushers[i].account.local.device_signing_public_key());
              } else {
                req.clear_verify_key();
              }
              req.set_receipt(receipt);
            }
          }
          deadline = Now() + o.push_time_cap;
          return Parallel(receipt  ? "floor relay + check + receipt"
                          : verify ? "floor relay + check"
                                   : "floor relay",
                          n, [&](size_t i) -> size_t {
                            size_t acked = 0;
                            for (const floorrelay::v1::AppendRequest& req : plans[i].appends) {
                              if (Now() > deadline) break;
                              floorrelay::v1::AppendResponse resp;
                              if (!pushers[i].floor->relay->Append(Ctx().get(), req, &resp).ok())
                                break;
                              if (receipt && resp.receipt().empty()) break;
                              acked += static_cast<size_t>(req.items_size());
                            }
                            return acked;
                          });
        };
        // The contenders take turns in an order that rotates with the round (round r starts
        // with contender r mod 5), so none always runs right after the same other one: a
        // server's WAL checkpoint on its background thread, or the kernel's writeback, after
        // one contender's run lands on every contender alike instead of always on the next.
        double a = 0, b = 0, checked = 0, receipted = 0, c = 0;
        const std::array<std::function<void()>, 5> turns = {
            [&] { a = kringd_rate(); }, [&] { b = floor_rate(false, false); },
            [&] { checked = floor_rate(true, false); }, [&] { receipted = floor_rate(true, true); },
            [&] {
              c = SqliteInsertRate(o.scratch + "/push-sqlite.sqlite3", n * per_client, batch,
                                   plans[0].appends[0].items(0).size(), o.push_time_cap);
            }};
        for (size_t k = 0; k < turns.size(); ++k) {
          turns[(k + static_cast<size_t>(r)) % turns.size()]();
        }
        vs_floor.a.push_back(a);
        vs_floor.b.push_back(b);
        vs_sqlite.a.push_back(a);
        vs_sqlite.b.push_back(c);
        vs_checked.a.push_back(a);
        vs_checked.b.push_back(checked);
        vs_receipt.a.push_back(a);
        vs_receipt.b.push_back(receipted);
        receipt_vs_floor.a.push_back(receipted);
        receipt_vs_floor.b.push_back(b);
        checked_vs_floor.a.push_back(checked);
        checked_vs_floor.b.push_back(b);
        if (o.after_push_round) o.after_push_round(n, batch, per_client, r, a);
      }
      report.comparisons.push_back(vs_floor);
      report.comparisons.push_back(vs_checked);
      report.comparisons.push_back(vs_receipt);
      report.comparisons.push_back(checked_vs_floor);
      report.comparisons.push_back(receipt_vs_floor);
      report.comparisons.push_back(vs_sqlite);
    }
  }
  report.notes.push_back(
      "push: every client is its own device, account and TCP connection; envelopes are sealed "
      "and signed before the clock starts (seen_seq 0), so the figures measure the servers; "
      "kringd and the floor relay run as separate processes on the same 2 cores as the clients");
}

// ---- Seal cost ----

void SealLoop(const std::string& which, size_t iterations) {
  SealFixture f;
  if (which == "kring") {
    for (size_t i = 0; i < iterations; ++i) f.KringSealOne();
  } else {
    for (size_t i = 0; i < iterations; ++i) RawSealOne(f.raw);
  }
}

void RunSealCost(Report& report, const Options& o) {
  SealFixture f;
  Comparison c{"client seal + sign per 1 KiB op (in-process)",
               "libkring SignEnvelope + header + envelope hash",
               "raw libsodium calls of the same work",
               "us/op",
               false,
               {},
               {},
               std::nullopt,
               "",
               "B: pad, nonce, keyed BLAKE2b commitment, BLAKE2b AD, XChaCha20-Poly1305, BLAKE2b "
               "digest, Ed25519 sign, BLAKE2b envelope hash; subkeys derived once"};
  constexpr size_t kIters = 3000;
  for (int r = 0; r < o.rounds; ++r) {
    double start = Now();
    for (size_t i = 0; i < kIters; ++i) f.KringSealOne();
    double a = (Now() - start) * 1e6 / kIters;
    start = Now();
    for (size_t i = 0; i < kIters; ++i) RawSealOne(f.raw);
    double b = (Now() - start) * 1e6 / kIters;
    c.a.push_back(a);
    c.b.push_back(b);
  }
  report.comparisons.push_back(c);
}

}  // namespace kring::bench
