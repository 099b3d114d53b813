// The local store keeps secrets and plaintext sealed with the host app's storage key.
#include "store/local_store.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/sqlite.h"

#include "store/log_segments.h"
#include "support/old_store_log.h"
#include "support/temp_dir.h"

using namespace kring;
using namespace kring::client;

namespace {
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

v1::LogEntry TestEntry(uint64_t seq) {
  v1::LogEntry e;
  e.set_seq(seq);
  e.set_chain_hash(std::string(32, static_cast<char>(seq)));
  e.mutable_envelope()->set_signature(std::string(64, static_cast<char>(seq + 1)));
  return e;
}
}  // namespace

TEST_CASE("the local store refuses a wrong or malformed storage key", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  REQUIRE(LocalStore::Open(path, key).ok());
  CHECK(LocalStore::Open(path, crypto::RandomSecret(32)).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(LocalStore::Open(path, crypto::RandomSecret(16)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(LocalStore::Open(path, key).ok());
}

TEST_CASE("intents, keys and state are not stored in plaintext", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const std::string marker = "MARKER-huisadres-Kerkstraat-12";
  Bytes case_id(16, 7);
  SecretBytes epoch_key = crypto::RandomSecret(32);
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    LocalStore& s = *store.value();
    REQUIRE(s.CreateCase(case_id).ok());
    v1::ContentOp op;
    op.set_version(1);
    op.add_mutations()->mutable_set_field()->mutable_value()->set_text(marker);
    REQUIRE(s.AddContentIntent(case_id, Bytes(16, 1), op).ok());
    REQUIRE(s.SaveEpochKey(case_id, {0, 1, epoch_key}).ok());
    AppliedBatch batch;
    batch.case_id = case_id;
    batch.state.set_case_id(ToString(case_id));
    (*batch.state.mutable_entities())["x"].set_type(marker);
    REQUIRE(s.ApplyBatch(batch).ok());
    auto intents = s.PendingIntents(case_id);
    REQUIRE(intents.ok());
    REQUIRE(intents->size() == 1);
    CHECK(intents->front().content.mutations(0).set_field().value().text() == marker);
    auto k = s.FindEpochKey(case_id, 0, 1);
    REQUIRE(k.ok());
    REQUIRE(k->has_value());
    CHECK(ConstantTimeEqual((*k)->key, epoch_key));
  }
  std::string bytes = ReadAll(path) + ReadAll(path + "-wal");
  CHECK(bytes.find(marker) == std::string::npos);
  CHECK(bytes.find(ToString(epoch_key)) == std::string::npos);
}

// The store keeps the last synced case decrypted in memory; whatever writes the case after
// that (this store, or another connection to the same file) must be seen by the next sync.
TEST_CASE("the case kept in memory never hides a newer stored state", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  auto opened = LocalStore::Open(path, key);
  REQUIRE(opened.ok());
  std::unique_ptr<LocalStore> store = std::move(opened).value();
  Bytes case_id(16, 9);
  REQUIRE(store->CreateCase(case_id).ok());

  // A sync: take, commit a batch, keep.
  uint64_t version = 0;
  auto taken = store->TakeCase(case_id, &version);
  REQUIRE(taken.ok());
  REQUIRE(taken.value());
  AppliedBatch batch;
  batch.case_id = case_id;
  batch.head_seq = 1;
  batch.head_hash = Bytes(32, 1);
  batch.state.set_seq(1);
  v1::LogEntry entry;
  entry.set_seq(1);
  entry.set_chain_hash(std::string(32, '\1'));
  batch.entries.push_back(entry);
  REQUIRE(store->ApplyBatch(batch, &version).ok());
  REQUIRE(version != 0);
  store->KeepCase(CaseRecord{case_id, 1, batch.head_hash, false, batch.state}, version);

  SECTION("kept and taken without reading the file again") {
    auto again = store->TakeCase(case_id, &version);
    REQUIRE(again.ok());
    CHECK(again.value()->head_seq == 1);
    CHECK(again.value()->state.seq() == 1);
  }
  SECTION("a write through this store drops it") {
    v1::CaseState removed = batch.state;
    removed.set_removed(true);
    REQUIRE(store->ReplaceState(case_id, removed, LocalStore::RemovalMark::kKeep).ok());
    auto flags = store->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK(flags.value()->removed);
  }
  SECTION("a write by another connection to the same file drops it") {
    auto other = LocalStore::Open(path, key);
    REQUIRE(other.ok());
    v1::CaseState removed = batch.state;
    removed.set_removed(true);
    REQUIRE(other.value()->ReplaceState(case_id, removed, LocalStore::RemovalMark::kKeep).ok());
    auto flags = store->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK(flags.value()->removed);
    auto again = store->TakeCase(case_id, &version);
    REQUIRE(again.ok());
    CHECK(again.value()->state.removed());
  }
  SECTION("a record taken before another write is not kept") {
    auto again = store->TakeCase(case_id, &version);
    REQUIRE(again.ok());
    REQUIRE(store->RaiseAlarm(Alarm{0, case_id, AlarmKind::kTamper, 1, "test", {}, 0}).ok());
    store->KeepCase(std::move(*again.value()), version);
    auto flags = store->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK(flags.value()->halted);
  }
}

// Every sync lists the cases kringd knows and adds each to the store; one already there is not
// written, so the case record kept in memory stays valid (reloading it means decrypting and
// parsing the whole stored state).
TEST_CASE("adding a case the store already has is not a write to it", "[store]") {
  test::TempDir dir;
  auto opened = LocalStore::Open(dir.path() + "/local.db", crypto::RandomSecret(32));
  REQUIRE(opened.ok());
  LocalStore& store = *opened.value();
  const Bytes case_id(16, 4);
  REQUIRE(store.CreateCase(case_id).ok());
  auto apply = [&](uint64_t version) {
    AppliedBatch batch;
    batch.case_id = case_id;
    batch.head_hash = Bytes(32, 1);
    REQUIRE(store.ApplyBatch(batch, &version).ok());
    return version;  // 0 when something else wrote the case since `version`
  };
  uint64_t version = 0;
  REQUIRE(store.TakeCase(case_id, &version).ok());
  REQUIRE(store.CreateCase(case_id).ok());  // listed again
  CHECK(apply(version) != 0);
  REQUIRE(store.TakeCase(case_id, &version).ok());
  REQUIRE(store.CreateCase(Bytes(16, 9)).ok());  // a new case is a write
  CHECK(apply(version) == 0);
}

// A sync seals a whole queue before it pushes anything and stores the sealed forms together;
// they must all be there afterwards, also for a store opened again (a crash after sealing).
TEST_CASE("sealed forms stored together are all kept, also after reopening", "[store]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes case_id(16, 6);
  {
    auto opened = LocalStore::Open(path, key);
    REQUIRE(opened.ok());
    LocalStore& store = *opened.value();
    REQUIRE(store.CreateCase(case_id).ok());
    for (uint8_t i = 1; i <= 3; ++i) {
      REQUIRE(store.AddContentIntent(case_id, Bytes(16, i), v1::ContentOp()).ok());
    }
    auto pending = store.PendingIntents(case_id);
    REQUIRE(pending.ok());
    REQUIRE(pending->size() == 3);
    std::vector<const Intent*> sealed;
    for (size_t i = 0; i < pending->size(); i += 2) {  // the first and the third
      (*pending)[i].sealed.push_back(TestEntry(i + 1).envelope());
      sealed.push_back(&(*pending)[i]);
    }
    REQUIRE(store.SetSealedMany(sealed).ok());
    auto kept = store.PendingIntents(case_id);  // the store's kept copy
    REQUIRE(kept.ok());
    CHECK((*kept)[0].sealed.size() == 1);
    CHECK((*kept)[1].sealed.empty());
    CHECK((*kept)[2].sealed.size() == 1);
  }
  auto reopened = LocalStore::Open(path, key);
  REQUIRE(reopened.ok());
  auto stored = (*reopened)->PendingIntents(case_id);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 3);
  REQUIRE((*stored)[0].sealed.size() == 1);
  CHECK((*stored)[0].sealed[0].signature() == TestEntry(1).envelope().signature());
  CHECK((*stored)[1].sealed.empty());
  REQUIRE((*stored)[2].sealed.size() == 1);
  CHECK((*stored)[2].sealed[0].signature() == TestEntry(3).envelope().signature());
}

// ApplyBatch writes its log as rows of up to 64 consecutive entries (store/log_segments.h); every
// entry must arrive, in order, from both the batch's own entries and the pulled ones, and a seq
// that is already stored must still refuse the whole batch.
TEST_CASE("a batch's log rows are stored whole and in order, and a repeated seq refuses it",
          "[store]") {
  test::TempDir dir;
  SecretBytes key = crypto::RandomSecret(32);
  auto opened = LocalStore::Open(dir.path() + "/local.db", key);
  REQUIRE(opened.ok());
  LocalStore& store = *opened.value();
  Bytes case_id(16, 5);
  REQUIRE(store.CreateCase(case_id).ok());
  auto entry = [](uint64_t seq) { return TestEntry(seq); };
  // 3 own entries and 64 + 8 + 3 pulled ones: a full segment and a part one, each with entries
  // from both lists.
  constexpr uint64_t kRows = 3 + 64 + 8 + 3;
  std::vector<v1::LogEntry> pulled;
  for (uint64_t seq = 4; seq <= kRows; ++seq) pulled.push_back(entry(seq));
  AppliedBatch batch;
  batch.case_id = case_id;
  batch.head_seq = kRows;
  batch.head_hash = Bytes(32, 1);
  batch.state.set_seq(kRows);
  for (uint64_t seq = 1; seq <= 3; ++seq) batch.entries.push_back(entry(seq));
  for (const v1::LogEntry& e : pulled) batch.pulled.push_back(&e);
  REQUIRE(store.ApplyBatch(batch).ok());
  auto stored = store.LogEntries(case_id);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == kRows);
  for (uint64_t seq = 1; seq <= kRows; ++seq) {
    const v1::LogEntry& e = (*stored)[seq - 1];
    CHECK(e.seq() == seq);
    CHECK(e.chain_hash() == entry(seq).chain_hash());
    CHECK(e.envelope().signature() == entry(seq).envelope().signature());
  }

  // A second batch with a stored seq in the middle of its 8-row statement: nothing of it stays.
  AppliedBatch again;
  again.case_id = case_id;
  again.from_seq = kRows;
  again.head_seq = kRows + 9;
  again.head_hash = Bytes(32, 2);
  again.state.set_seq(kRows + 9);
  for (uint64_t seq = kRows + 1; seq <= kRows + 8; ++seq) {
    again.entries.push_back(entry(seq == kRows + 5 ? kRows : seq));
  }
  again.entries.push_back(entry(kRows + 9));
  CHECK_FALSE(store.ApplyBatch(again).ok());
  auto after = store.LogEntries(case_id);
  REQUIRE(after.ok());
  CHECK(after->size() == kRows);
  auto record = store.LoadCase(case_id);
  REQUIRE(record.ok());
  REQUIRE(record.value());
  CHECK(record.value()->head_seq == kRows);

  // A batch starting inside a stored segment (not at its last entry): refused too.
  AppliedBatch inside;
  inside.case_id = case_id;
  inside.from_seq = kRows;
  inside.head_seq = kRows + 1;
  inside.head_hash = Bytes(32, 3);
  inside.state.set_seq(kRows + 1);
  for (uint64_t seq = 10; seq <= 12; ++seq) inside.entries.push_back(entry(seq));
  inside.entries.push_back(entry(kRows + 1));
  CHECK(store.ApplyBatch(inside).code() == StatusCode::kAlreadyExists);
  after = store.LogEntries(case_id);
  REQUIRE(after.ok());
  CHECK(after->size() == kRows);
}

namespace {
// The head the next batch of `case_id` continues from.
uint64_t StoredHead(LocalStore& store, const Bytes& case_id) {
  auto rec = store.LoadCase(case_id);
  REQUIRE(rec.ok());
  REQUIRE(rec->has_value());
  return (*rec)->head_seq;
}

// Stores `seqs` (ascending) of `case_id` in one batch.
void StoreLog(LocalStore& store, const Bytes& case_id, const std::vector<uint64_t>& seqs) {
  AppliedBatch batch;
  batch.case_id = case_id;
  batch.from_seq = StoredHead(store, case_id);
  batch.head_seq = seqs.back();
  batch.head_hash = Bytes(32, 1);
  batch.state.set_seq(seqs.back());
  for (uint64_t seq : seqs) batch.entries.push_back(TestEntry(seq));
  REQUIRE(store.ApplyBatch(batch).ok());
}

// Every point lookup of the case's log agrees with `seqs` (the seqs stored), around each of them.
void RequireLookups(LocalStore& store, const Bytes& case_id, const std::vector<uint64_t>& seqs) {
  const std::set<uint64_t> stored(seqs.begin(), seqs.end());
  for (uint64_t seq = 0; seq <= seqs.back() + 2; ++seq) {
    INFO("seq " << seq);
    auto hash = store.ChainHashAt(case_id, seq);
    REQUIRE(hash.ok());
    auto entry = store.LogEntryAt(case_id, seq);
    REQUIRE(entry.ok());
    if (stored.count(seq) != 0) {
      REQUIRE(hash->has_value());
      CHECK(**hash == ToBytes(TestEntry(seq).chain_hash()));
      REQUIRE(entry->has_value());
      CHECK((*entry)->seq() == seq);
      CHECK((*entry)->chain_hash() == TestEntry(seq).chain_hash());
      CHECK((*entry)->envelope().signature() == TestEntry(seq).envelope().signature());
    } else {
      CHECK_FALSE(hash->has_value());
      CHECK_FALSE(entry->has_value());
    }
  }
  auto all = store.LogEntries(case_id);
  REQUIRE(all.ok());
  REQUIRE(all->size() == seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) CHECK((*all)[i].seq() == seqs[i]);
}

int64_t SegmentRows(const std::string& path) {
  auto db = sql::Database::Open(path, /*read_only=*/true);
  REQUIRE(db.ok());
  sql::Statement st(*db, "SELECT count(*) FROM log_segments");
  REQUIRE(st.Step());
  return st.Int(0);
}
}  // namespace

// The log is stored as rows of up to 64 consecutive entries: a lookup of one entry finds it at
// either end of a row, in the middle, after a gap, and finds nothing in a gap or past the end;
// another case's rows next to it are not taken for its own.
TEST_CASE("log lookups are right at the ends of every segment and around gaps", "[store]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  auto opened = LocalStore::Open(path, key);
  REQUIRE(opened.ok());
  LocalStore& store = *opened.value();
  const Bytes a(16, 1), b(16, 2);
  REQUIRE(store.CreateCase(a).ok());
  REQUIRE(store.CreateCase(b).ok());
  // 1-130 (segments 1-64, 65-128, 129-130), a gap, 133-140, a gap, 200; in two batches, the
  // second going on from the first's last entry.
  std::vector<uint64_t> first, second;
  for (uint64_t seq = 1; seq <= 100; ++seq) first.push_back(seq);
  for (uint64_t seq = 101; seq <= 130; ++seq) second.push_back(seq);
  for (uint64_t seq = 133; seq <= 140; ++seq) second.push_back(seq);
  second.push_back(200);
  StoreLog(store, a, first);
  StoreLog(store, a, second);
  StoreLog(store, b, {1, 2, 3});  // b sorts after a: its rows follow a's in the table
  std::vector<uint64_t> all = first;
  all.insert(all.end(), second.begin(), second.end());
  RequireLookups(store, a, all);
  RequireLookups(store, b, {1, 2, 3});
  // 1-64, 65-100, 101-130, 133-140, 200, and b's one.
  CHECK(SegmentRows(path) == 6);
}

// A row that does not hold what its seqs claim is data loss on every read, never a read out of
// bounds or a wrong entry.
TEST_CASE("a corrupted log segment is data loss on every read", "[store]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes case_id(16, 1);
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    REQUIRE((*store)->CreateCase(case_id).ok());
    std::vector<uint64_t> seqs;
    for (uint64_t seq = 1; seq <= 10; ++seq) seqs.push_back(seq);
    StoreLog(**store, case_id, seqs);
  }
  // The change, and whether it leaves the seqs and chain hashes as they were (then a chain hash
  // lookup, which reads only those, still gives the stored hash).
  const auto [change, hashes_intact] = GENERATE(table<std::string, bool>({
      {"UPDATE log_segments SET envelopes = substr(envelopes, 1, length(envelopes) - 1)", true},
      {"UPDATE log_segments SET envelopes = envelopes || x'00'", true},
      {"UPDATE log_segments SET envelopes = x'7fffffff' || envelopes", true},
      {"UPDATE log_segments SET chain_hashes = substr(chain_hashes, 2)", false},
      {"UPDATE log_segments SET first_seq = 0", false},
      {"UPDATE log_segments SET first_seq = last_seq + 1", false},
      {"UPDATE log_segments SET last_seq = 9223372036854775807", false},
      {"UPDATE log_segments SET first_seq = -9223372036854775807, last_seq = 10", false},
      {"UPDATE log_segments SET chain_hashes = zeroblob(32 * 70000), first_seq = 1, "
       "last_seq = 70000",
       false},
  }));
  INFO(change);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Exec(change).ok());
  }
  auto store = LocalStore::Open(path, key);
  REQUIRE(store.ok());
  CHECK((*store)->LogEntries(case_id).status().code() == StatusCode::kDataLoss);
  CHECK((*store)->LogEntryAt(case_id, 5).status().code() == StatusCode::kDataLoss);
  auto hash = (*store)->ChainHashAt(case_id, 5);
  if (hashes_intact) {
    REQUIRE(hash.ok());
    CHECK(hash.value() == std::optional<Bytes>(ToBytes(TestEntry(5).chain_hash())));
  } else {
    CHECK(hash.status().code() == StatusCode::kDataLoss);
  }
}

TEST_CASE("a log segment is split only when it holds exactly what its seqs claim", "[store]") {
  SegmentBuilder row;
  REQUIRE(row.Add(7, Bytes(32, 7), View(std::string("zeven"))).ok());
  REQUIRE(row.Add(8, Bytes(32, 8), View(std::string())).ok());
  REQUIRE(row.Add(9, Bytes(32, 9), View(std::string(300, 'n'))).ok());
  CHECK_FALSE(row.Add(11, Bytes(32, 11), View(std::string("elf"))).ok());   // not the next
  CHECK_FALSE(row.Add(10, Bytes(31, 10), View(std::string("tien"))).ok());  // not a hash
  CHECK(row.size() == 3);
  std::vector<SegmentEntry> entries;
  REQUIRE(SplitSegment(7, 9, row.chain_hashes(), row.envelopes(), &entries).ok());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].seq == 7);
  CHECK(ToString(entries[0].envelope) == "zeven");
  CHECK(entries[1].envelope.empty());
  CHECK(ToString(entries[2].envelope) == std::string(300, 'n'));
  CHECK(ToBytes(ToString(entries[2].chain_hash)) == Bytes(32, 9));
  // Claims that do not match the blobs.
  CHECK(SplitSegment(7, 8, row.chain_hashes(), row.envelopes(), &entries).code() ==
        StatusCode::kDataLoss);
  CHECK(entries.empty());
  CHECK(SplitSegment(7, 10, row.chain_hashes(), row.envelopes(), &entries).code() ==
        StatusCode::kDataLoss);
  CHECK(SplitSegment(0, 2, row.chain_hashes(), row.envelopes(), &entries).code() ==
        StatusCode::kDataLoss);
  CHECK(SplitSegment(9, 7, row.chain_hashes(), row.envelopes(), &entries).code() ==
        StatusCode::kDataLoss);
  const std::string bytes = ToString(row.envelopes());
  CHECK(SplitSegment(7, 9, row.chain_hashes(), View(bytes.substr(0, bytes.size() - 1)), &entries)
            .code() == StatusCode::kDataLoss);
  CHECK(SplitSegment(7, 9, row.chain_hashes(), View(bytes.substr(0, 3)), &entries).code() ==
        StatusCode::kDataLoss);
  row.Clear();
  CHECK(row.empty());
  CHECK_FALSE(row.Add(0, Bytes(32, 0), View(std::string("nul"))).ok());
}

// Store schema 14 keeps the log as segments; a store of an older schema has it one row per entry
// in `log`, moved into segments by the first Open in one transaction. A move that did not commit
// (user_version 14 already, `log` still there) is done at the next Open.
TEST_CASE("a store with its log one row per entry opens with the log in segments", "[store]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes a(16, 1), b(16, 2);
  std::vector<uint64_t> a_seqs, b_seqs{1, 2, 5, 6};
  for (uint64_t seq = 1; seq <= 150; ++seq) a_seqs.push_back(seq);
  a_seqs.push_back(152);
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    REQUIRE((*store)->CreateCase(a).ok());
    REQUIRE((*store)->CreateCase(b).ok());
    StoreLog(**store, a, a_seqs);
    StoreLog(**store, b, b_seqs);
  }
  const int version = GENERATE(13, 14);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    test::LogBackToRows(*db);
    if (version == 14) {
      // As a crash in the move leaves it: schema 14's table made, the rows not yet moved.
      REQUIRE(db->Exec("CREATE TABLE log_segments (case_id BLOB NOT NULL, last_seq INTEGER NOT "
                       "NULL, first_seq INTEGER NOT NULL, chain_hashes BLOB NOT NULL, envelopes "
                       "BLOB NOT NULL, PRIMARY KEY (case_id, last_seq));")
                  .ok());
    }
    REQUIRE(db->Exec("PRAGMA user_version = " + std::to_string(version)).ok());
    sql::Statement rows(*db, "SELECT count(*) FROM log");
    REQUIRE(rows.Step());
    REQUIRE(rows.Int(0) == static_cast<int64_t>(a_seqs.size() + b_seqs.size()));
  }
  auto store = LocalStore::Open(path, key);
  REQUIRE(store.ok());
  RequireLookups(**store, a, a_seqs);
  RequireLookups(**store, b, b_seqs);
  // a: 1-64, 65-128, 129-150, 152; b: 1-2, 5-6.
  CHECK(SegmentRows(path) == 6);
  {
    auto db = sql::Database::Open(path, /*read_only=*/true);
    REQUIRE(db.ok());
    sql::Statement gone(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'log'");
    REQUIRE(gone.Step());
    CHECK(gone.Int(0) == 0);
    sql::Statement at(*db, "PRAGMA user_version");
    REQUIRE(at.Step());
    CHECK(at.Int(0) == 15);  // migrated on to the current schema
  }
  // And it goes on: the next batch follows the moved rows, a repeated seq is still refused.
  StoreLog(**store, a, {153, 154});
  a_seqs.push_back(153);
  a_seqs.push_back(154);
  RequireLookups(**store, a, a_seqs);
  AppliedBatch again;
  again.case_id = b;
  again.from_seq = StoredHead(**store, b);
  again.head_seq = 6;
  again.head_hash = Bytes(32, 1);
  again.entries.push_back(TestEntry(6));
  CHECK((*store)->ApplyBatch(again).code() == StatusCode::kAlreadyExists);
}

namespace {
// The counter half of a client op id (its first 8 bytes, big-endian).
uint64_t OpCounter(const Bytes& id) {
  uint64_t counter = 0;
  for (size_t i = 0; i < 8; ++i) counter = counter << 8 | id[i];
  return counter;
}
}  // namespace

TEST_CASE("client op ids of one device rise per case, also across a restart of the store",
          "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes case_id = crypto::RandomBytes(crypto::kIdBytes);
  std::vector<Bytes> ids;
  // More than one reserved block of counters before the restart, and one more after it.
  for (int round = 0; round < 2; ++round) {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    for (int i = 0; i < 1500; ++i) {
      auto id = (*store)->NewClientOpId(case_id);
      REQUIRE(id.ok());
      REQUIRE(id->size() == crypto::kIdBytes);
      ids.push_back(*id);
    }
  }
  // Byte order is the order of kringd's index: each id sorts after the one drawn before it.
  for (size_t i = 1; i < ids.size(); ++i) CHECK(ids[i - 1] < ids[i]);
  // The last 8 bytes stay random: two ids never share them by counting.
  CHECK(std::set<Bytes>(ids.begin(), ids.end()).size() == ids.size());
  CHECK(!std::equal(ids[0].begin() + 8, ids[0].end(), ids[1].begin() + 8));
}

TEST_CASE("client op ids in one case do not count the device's ops in its other cases", "[store]") {
  test::TempDir dir;
  SecretBytes key = crypto::RandomSecret(32);
  auto store = LocalStore::Open(dir.path() + "/local.db", key);
  REQUIRE(store.ok());
  const Bytes a = crypto::RandomBytes(crypto::kIdBytes);
  const Bytes b = crypto::RandomBytes(crypto::kIdBytes);
  // Ops interleaved: one in A, then i+1 in B, and so on.
  std::vector<uint64_t> in_a;
  std::vector<uint64_t> in_b;
  for (int i = 0; i < 20; ++i) {
    auto id = (*store)->NewClientOpId(a);
    REQUIRE(id.ok());
    in_a.push_back(OpCounter(*id));
    for (int j = 0; j <= i; ++j) {
      auto other = (*store)->NewClientOpId(b);
      REQUIRE(other.ok());
      in_b.push_back(OpCounter(*other));
    }
  }
  // Each case counts its own ids only, one by one from 0: A's members see no trace of B.
  for (size_t i = 0; i < in_a.size(); ++i) CHECK(in_a[i] == i);
  for (size_t i = 0; i < in_b.size(); ++i) CHECK(in_b[i] == i);
}

TEST_CASE(
    "a case forgotten after a refused acceptance keeps its op counter, an erased one does not",
    "[store]") {
  // kringd may hold the refused device's acceptance: the next one's id must rise above it, or
  // kringd looks it up as a possible retry, which a device waiting for approval (seen_seq 0)
  // can fail for good in a case of more than 4,096 ops.
  test::TempDir dir;
  const std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes joined = crypto::RandomBytes(crypto::kIdBytes);
  const Bytes erased = crypto::RandomBytes(crypto::kIdBytes);
  Bytes before;
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    for (int i = 0; i < 3; ++i) {
      auto id = (*store)->NewClientOpId(joined);
      REQUIRE(id.ok());
      before = *id;
      REQUIRE((*store)->NewClientOpId(erased).ok());
    }
    REQUIRE((*store)->DeleteCase(joined, LocalStore::OpCounter::kKeep).ok());
    REQUIRE((*store)->DeleteCase(erased).ok());
    auto after = (*store)->NewClientOpId(joined);
    REQUIRE(after.ok());
    CHECK(before < *after);
  }
  auto reopened = LocalStore::Open(path, key);
  REQUIRE(reopened.ok());
  auto after_restart = (*reopened)->NewClientOpId(joined);
  REQUIRE(after_restart.ok());
  CHECK(before < *after_restart);
  // Erasure leaves no trace of the case, its counter included: it counts from 0 again.
  auto fresh = (*reopened)->NewClientOpId(erased);
  REQUIRE(fresh.ok());
  CHECK(OpCounter(*fresh) == 0);
}

TEST_CASE("a store from before per-case op counters continues above every id it handed out",
          "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes known = crypto::RandomBytes(crypto::kIdBytes);
  REQUIRE(LocalStore::Open(path, key).ok());
  {
    // Back to schema 3: one counter for all cases, 5,000 counters of it reserved.
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    test::LogBackToRows(*db);
    REQUIRE(db->Exec("DROP TABLE op_counters; ALTER TABLE cases DROP COLUMN removal_unsettled; "
                     "PRAGMA user_version = 3;")
                .ok());
    REQUIRE(db->Exec("INSERT INTO meta (key, value) VALUES ('op_counter', 5000)").ok());
    sql::Statement add(*db, "INSERT INTO cases (case_id) VALUES (?)");
    REQUIRE(add.Bind(1, known).Run().ok());
  }
  auto store = LocalStore::Open(path, key);
  REQUIRE(store.ok());
  // The case known before goes on above the shared counter; a case added since starts at 0.
  auto id = (*store)->NewClientOpId(known);
  REQUIRE(id.ok());
  CHECK(OpCounter(*id) == 5000);
  auto fresh = (*store)->NewClientOpId(crypto::RandomBytes(crypto::kIdBytes));
  REQUIRE(fresh.ok());
  CHECK(OpCounter(*fresh) == 0);
}

TEST_CASE("an unsettled removal is kept with its batch across a restart until it is settled",
          "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes case_id(16, 7);
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    REQUIRE((*store)->CreateCase(case_id).ok());
    AppliedBatch batch;
    batch.case_id = case_id;
    batch.head_seq = 1;
    batch.head_hash = Bytes(32, 1);
    batch.state.set_seq(1);
    batch.state.set_removed(true);
    batch.entries.push_back(TestEntry(1));
    batch.removal_unsettled = true;
    REQUIRE((*store)->ApplyBatch(batch).ok());
  }
  auto store = LocalStore::Open(path, key);
  REQUIRE(store.ok());
  auto flags = (*store)->LoadCaseFlags(case_id);
  REQUIRE(flags.ok());
  CHECK(flags.value()->removed);
  CHECK(flags.value()->removal_unsettled);

  SECTION("settled, the queued changes rejected with it and only once") {
    const Bytes me(16, 9);
    v1::ContentOp edit;
    REQUIRE((*store)->AddContentIntent(case_id, Bytes(16, 1), edit).ok());
    v1::ControlIntent leave;
    leave.mutable_remove_member()->set_account_id(ToString(me));
    REQUIRE((*store)->AddControlIntent(case_id, Bytes(16, 2), leave).ok());
    v1::ControlIntent accept;
    accept.mutable_accept_invite()->set_invite_id(std::string(16, '\3'));
    REQUIRE((*store)->AddControlIntent(case_id, Bytes(16, 3), accept).ok());

    auto settled = (*store)->SettleRemoval(case_id, me);
    REQUIRE(settled.ok());
    CHECK(settled->settled);
    CHECK(settled->refused == 1);  // the edit; the own leave is done, the acceptance kept
    auto edit_rejected = (*store)->IntentRejected(case_id, Bytes(16, 1));
    REQUIRE(edit_rejected.ok());
    CHECK(edit_rejected.value() == std::optional<bool>(true));
    auto leave_rejected = (*store)->IntentRejected(case_id, Bytes(16, 2));
    REQUIRE(leave_rejected.ok());
    CHECK(leave_rejected.value() == std::optional<bool>(true));
    auto pending = (*store)->PendingIntents(case_id);
    REQUIRE(pending.ok());
    REQUIRE(pending->size() == 1);
    CHECK(pending->front().control_op.has_accept_invite());
    flags = (*store)->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK(flags.value()->removed);
    CHECK_FALSE(flags.value()->removal_unsettled);
    uint64_t version = 0;
    auto taken = (*store)->TakeCase(case_id, &version);
    REQUIRE(taken.ok());
    CHECK_FALSE(taken.value()->removal_unsettled);

    // Settled already: nothing more is rejected, and the caller tells the app nothing again.
    REQUIRE((*store)->AddContentIntent(case_id, Bytes(16, 4), edit).ok());
    auto again = (*store)->SettleRemoval(case_id, me);
    REQUIRE(again.ok());
    CHECK_FALSE(again->settled);
    CHECK(again->refused == 0);
    auto count = (*store)->PendingIntentCount(case_id);
    REQUIRE(count.ok());
    CHECK(count.value() == 2);
  }
  SECTION("cleared when the state is replaced by one that ends the removal") {
    auto rec = (*store)->LoadCase(case_id);
    REQUIRE(rec.ok());
    REQUIRE(
        (*store)->ReplaceState(case_id, rec.value()->state, LocalStore::RemovalMark::kKeep).ok());
    flags = (*store)->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK(flags.value()->removal_unsettled);  // a replay folds the same removal
    REQUIRE(
        (*store)->ReplaceState(case_id, rec.value()->state, LocalStore::RemovalMark::kClear).ok());
    flags = (*store)->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK(flags.value()->removed);
    CHECK_FALSE(flags.value()->removal_unsettled);
  }
  SECTION("meaningless once the state no longer shows the removal (a new invite accepted)") {
    auto rec = (*store)->LoadCase(case_id);
    REQUIRE(rec.ok());
    v1::CaseState waiting = rec.value()->state;
    waiting.set_removed(false);
    waiting.set_pending_approval(true);
    REQUIRE((*store)->ReplaceState(case_id, waiting, LocalStore::RemovalMark::kKeep).ok());
    flags = (*store)->LoadCaseFlags(case_id);
    REQUIRE(flags.ok());
    CHECK_FALSE(flags.value()->removed);
    CHECK_FALSE(flags.value()->removal_unsettled);
  }
}

TEST_CASE(
    "a store from before unsettled removals opens with the removals of cases with queued "
    "changes unsettled",
    "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes settled_case(16, 8);  // its queued changes were rejected with the removal
  const Bytes crashed_case(16, 9);  // the old libkring stopped before it rejected them
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    v1::CaseState removed;
    removed.set_removed(true);
    for (const Bytes& id : {settled_case, crashed_case}) {
      REQUIRE((*store)->CreateCase(id).ok());
      REQUIRE((*store)->ReplaceState(id, removed, LocalStore::RemovalMark::kKeep).ok());
      REQUIRE((*store)->AddContentIntent(id, Bytes(16, id[0]), v1::ContentOp()).ok());
    }
    auto pending = (*store)->PendingIntents(settled_case);
    REQUIRE(pending.ok());
    REQUIRE(pending->size() == 1);
    REQUIRE((*store)->RejectIntent(pending->front().id, "removed from the case").ok());
  }
  {
    // Back to schema 6: no removal_unsettled column.
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    test::LogBackToRows(*db);
    REQUIRE(
        db->Exec("ALTER TABLE cases DROP COLUMN removal_unsettled; PRAGMA user_version = 6;").ok());
  }
  auto store = LocalStore::Open(path, key);
  REQUIRE(store.ok());
  // A libkring from before rejected the queued changes of a removed case right after the batch.
  auto flags = (*store)->LoadCaseFlags(settled_case);
  REQUIRE(flags.ok());
  CHECK(flags.value()->removed);
  CHECK_FALSE(flags.value()->removal_unsettled);
  // Unless it stopped in between: then the removal is settled at the next catch-up.
  flags = (*store)->LoadCaseFlags(crashed_case);
  REQUIRE(flags.ok());
  CHECK(flags.value()->removed);
  CHECK(flags.value()->removal_unsettled);
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    sql::Statement version(*db, "PRAGMA user_version");
    REQUIRE(version.Step());
    CHECK(version.Int(0) == 15);  // the current schema
  }
  // Marked by the upgrade: the libkring that verified the removal told it already.
  auto settled = (*store)->SettleRemoval(crashed_case, Bytes(16, 1));
  REQUIRE(settled.ok());
  CHECK(settled->settled);
  CHECK(settled->refused == 1);
  CHECK(settled->told_before);
}

// A complaint about a pulled entry is found only while that entry is verified; once the entry is
// stored it is never verified again. So its alarm is written in the same transaction as the
// entry: a crash cannot keep the one without the other.
TEST_CASE("a batch's alarms are stored with its entries or not at all", "[store]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const Bytes case_id(16, 4);
  auto batch_with_alarm = [&](uint64_t seq, const std::string& detail) {
    AppliedBatch batch;
    batch.case_id = case_id;
    batch.from_seq = seq - 1;
    batch.head_seq = seq;
    batch.head_hash = Bytes(32, static_cast<uint8_t>(seq));
    batch.state.set_seq(seq);
    batch.entries.push_back(TestEntry(seq));
    batch.alarms.push_back(Alarm{0, case_id, AlarmKind::kTamper, seq, detail, Bytes{1, 2, 3}, 0});
    return batch;
  };
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    REQUIRE((*store)->CreateCase(case_id).ok());
    AppliedBatch first = batch_with_alarm(1, "complaint about seq 1");
    REQUIRE((*store)->ApplyBatch(first).ok());
    // The same entry again (another process stored it meanwhile): the batch is refused, and its
    // alarm is not written either.
    AppliedBatch again = batch_with_alarm(1, "second complaint");
    CHECK(SyncedElsewhere((*store)->ApplyBatch(again)));
    // An alarm that cannot be written (the disk refuses it, say) keeps the entries out too:
    // they stay unverified, so the next sync pulls them and finds the complaint again.
    {
      auto other = sql::Database::Open(path);
      REQUIRE(other.ok());
      REQUIRE(other
                  ->Exec("CREATE TRIGGER no_alarms BEFORE INSERT ON alarms "
                         "BEGIN SELECT RAISE(ABORT, 'refused'); END")
                  .ok());
    }
    AppliedBatch refused = batch_with_alarm(2, "complaint about seq 2");
    CHECK_FALSE((*store)->ApplyBatch(refused).ok());
    auto after = (*store)->LoadCase(case_id);
    REQUIRE(after.ok());
    REQUIRE(after->has_value());
    CHECK((*after)->head_seq == 1);
  }
  {
    auto other = sql::Database::Open(path);
    REQUIRE(other.ok());
    REQUIRE(other->Exec("DROP TRIGGER no_alarms").ok());
  }
  auto reopened = LocalStore::Open(path, key);
  REQUIRE(reopened.ok());
  auto alarms = (*reopened)->Alarms();
  REQUIRE(alarms.ok());
  REQUIRE(alarms->size() == 1);
  CHECK(alarms->front().case_id == case_id);
  CHECK(alarms->front().kind == AlarmKind::kTamper);
  CHECK(alarms->front().seq == 1);
  CHECK(alarms->front().detail == "complaint about seq 1");
  CHECK(alarms->front().evidence == Bytes{1, 2, 3});
  auto record = (*reopened)->LoadCase(case_id);
  REQUIRE(record.ok());
  REQUIRE(record->has_value());
  CHECK((*record)->head_seq == 1);
  CHECK_FALSE((*record)->halted);  // a complaint does not stop the case
  // Entry 2 was not stored: the same batch goes in now, with its alarm.
  AppliedBatch retried = batch_with_alarm(2, "complaint about seq 2");
  REQUIRE((*reopened)->ApplyBatch(retried).ok());
  alarms = (*reopened)->Alarms();
  REQUIRE(alarms.ok());
  CHECK(alarms->size() == 2);
}
