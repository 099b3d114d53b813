#include "floors.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <vector>

#include <sys/mman.h>

#include "kring/common/crypto.h"
#include "kring/common/sqlite.h"

#include "client_cost.h"

namespace kring::bench {
namespace {

constexpr double kCryptoSlice = 0.15;  // seconds per primitive per round
constexpr size_t kCryptoMaxIters = 2000000;

// Calls fn in batches until `slice` seconds pass (or the iteration cap); returns calls/s.
double Rate(const std::function<void()>& fn, double slice) {
  size_t n = 0;
  double start = Now();
  double elapsed = 0;
  while (elapsed < slice && n < kCryptoMaxIters) {
    for (int i = 0; i < 16; ++i) fn();
    n += 16;
    elapsed = Now() - start;
  }
  return static_cast<double>(n) / elapsed;
}

}  // namespace

void RunCryptoFloors(Report& report, int rounds) {
  crypto::EnsureInitialized();
  std::vector<uint8_t> msg(1024, 7), ct(1024 + crypto_aead_xchacha20poly1305_ietf_ABYTES), pt(1024),
      big(64 * 1024, 3), hash(32), digest(32, 9), sig(64);
  std::vector<uint8_t> key(32), nonce(24);
  randombytes_buf(key.data(), key.size());
  randombytes_buf(nonce.data(), nonce.size());
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, msg.data(), msg.size(), nullptr, 0,
                                             nullptr, nonce.data(), key.data());
  std::vector<uint8_t> spk(32), ssk(64), bpk(32), bsk(32);
  crypto_sign_keypair(spk.data(), ssk.data());
  crypto_sign_detached(sig.data(), nullptr, digest.data(), digest.size(), ssk.data());
  crypto_box_keypair(bpk.data(), bsk.data());
  std::vector<uint8_t> sealed(32 + crypto_box_SEALBYTES), opened(32);
  crypto_box_seal(sealed.data(), key.data(), key.size(), bpk.data());

  struct Item {
    std::string name;
    std::string unit;
    double scale;
    std::function<void()> fn;
  };
  std::vector<Item> items = {
      {"XChaCha20-Poly1305 seal 1 KiB", "ops/s", 1,
       [&] {
         crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, msg.data(), msg.size(),
                                                    nullptr, 0, nullptr, nonce.data(), key.data());
       }},
      {"XChaCha20-Poly1305 open 1 KiB", "ops/s", 1,
       [&] {
         if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), &len, nullptr, ct.data(),
                                                        ct.size(), nullptr, 0, nonce.data(),
                                                        key.data()) != 0) {
           throw std::runtime_error("aead open failed");
         }
       }},
      {"BLAKE2b-256 of 1 KiB", "ops/s", 1,
       [&] { crypto_generichash(hash.data(), 32, msg.data(), msg.size(), nullptr, 0); }},
      {"BLAKE2b-256 of 64 KiB", "MB/s", 64.0 * 1024 / 1e6,
       [&] { crypto_generichash(hash.data(), 32, big.data(), big.size(), nullptr, 0); }},
      {"Ed25519 sign (32-byte digest)", "ops/s", 1,
       [&] { crypto_sign_detached(sig.data(), nullptr, digest.data(), 32, ssk.data()); }},
      {"Ed25519 verify (32-byte digest)", "ops/s", 1,
       [&] {
         if (crypto_sign_verify_detached(sig.data(), digest.data(), 32, spk.data()) != 0) {
           throw std::runtime_error("verify failed");
         }
       }},
      {"sealed box seal (32-byte key)", "ops/s", 1,
       [&] { crypto_box_seal(sealed.data(), key.data(), key.size(), bpk.data()); }},
      {"sealed box open (32-byte key)", "ops/s", 1,
       [&] {
         if (crypto_box_seal_open(opened.data(), sealed.data(), sealed.size(), bpk.data(),
                                  bsk.data()) != 0) {
           throw std::runtime_error("seal open failed");
         }
       }},
  };
  for (const Item& it : items) {
    Floor f{"libsodium 1.0.18 (one core)", it.name, it.unit, {}};
    for (int r = 0; r < rounds; ++r) f.rounds.push_back(Rate(it.fn, kCryptoSlice) * it.scale);
    report.floors.push_back(std::move(f));
  }
}

double SqliteInsertRate(const std::string& path, size_t rows, size_t batch, size_t row_bytes,
                        double time_cap) {
  auto db = sql::Database::Open(path);
  if (!db.ok()) throw std::runtime_error("sqlite open: " + db.status().ToString());
  Status s = db->Exec(
      "CREATE TABLE IF NOT EXISTS items (log_id BLOB NOT NULL, seq INTEGER NOT NULL, "
      "data BLOB NOT NULL, UNIQUE (log_id, seq))");
  if (!s.ok()) throw std::runtime_error("sqlite schema: " + s.ToString());
  int64_t seq = 0;
  {
    sql::Statement max(*db, "SELECT COALESCE(MAX(seq), 0) FROM items");
    if (max.Step()) seq = max.Int(0);
  }
  Bytes log_id(16, 1);
  Bytes row = crypto::RandomBytes(row_bytes);
  sql::Statement insert(*db, "INSERT INTO items (log_id, seq, data) VALUES (?, ?, ?)");
  size_t done = 0;
  double start = Now();
  while (done < rows && Now() - start < time_cap) {
    sql::Transaction tx(*db);
    if (!tx.status().ok()) throw std::runtime_error("sqlite begin: " + tx.status().ToString());
    for (size_t i = 0; i < batch; ++i) {
      insert.Reset();
      Status st = insert.Bind(1, log_id).Bind(2, ++seq).Bind(3, row).Run();
      if (!st.ok()) throw std::runtime_error("sqlite insert: " + st.ToString());
    }
    Status c = tx.Commit();
    if (!c.ok()) throw std::runtime_error("sqlite commit: " + c.ToString());
    done += batch;
  }
  return static_cast<double>(done) / (Now() - start);
}

void RunPageFaultFloor(Report& report, int rounds) {
  constexpr size_t kBytes = size_t{64} << 20;
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  Floor f{"Linux (this machine)",
          "first touch of a fresh page (minor page fault), 64 MiB, no huge pages",
          "us/fault",
          {}};
  for (int r = 0; r < rounds; ++r) {
    void* mem = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw std::runtime_error("mmap failed");
    // With transparent huge pages one fault would map 2 MiB: the figure is one base page.
    madvise(mem, kBytes, MADV_NOHUGEPAGE);
    auto* bytes = static_cast<volatile unsigned char*>(mem);
    ClientCost cost(/*count_instructions=*/false);
    cost.Resume();
    double start = Now();
    for (size_t at = 0; at < kBytes; at += page) bytes[at] = 1;
    const double elapsed = Now() - start;
    cost.Pause();
    munmap(mem, kBytes);
    f.rounds.push_back(elapsed * 1e6 / std::max(1.0, cost.minor_faults()));
  }
  report.floors.push_back(std::move(f));
}

void RunSqliteFloors(Report& report, int rounds, const std::string& dir) {
  Floor one{
      "SQLite 3.40 (WAL, synchronous=FULL)", "1 KiB insert, one transaction per row", "rows/s", {}};
  Floor fifty{
      "SQLite 3.40 (WAL, synchronous=FULL)", "1 KiB insert, transactions of 50 rows", "rows/s", {}};
  for (int r = 0; r < rounds; ++r) {
    one.rounds.push_back(SqliteInsertRate(dir + "/floor-1.sqlite3", 400, 1, 1024, 1.5));
    fifty.rounds.push_back(SqliteInsertRate(dir + "/floor-50.sqlite3", 10000, 50, 1024, 1.5));
  }
  report.floors.push_back(std::move(one));
  report.floors.push_back(std::move(fifty));
}

}  // namespace kring::bench
