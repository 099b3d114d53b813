#include "checked_cold.h"

#include <sodium.h>

#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"
#include "kring/common/user_chain.h"
#include "kring/v1/case.pb.h"

#include "crypto/identity.h"
#include "kring_ops.h"
#include "raw_hash.h"
#include "report.h"

namespace kring::bench {
namespace {

constexpr uint32_t kPage = 1000;  // the pages the floor relay and libkring ask for
constexpr size_t kFields = 16;    // the fields of Envelope and OpHeader are numbered below 16

// ---- Finding the fields (protobuf wire format) without copies ----

bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Length-delimited fields as views into `m`, varint fields as values; fields >= kFields skipped.
struct Fields {
  std::array<std::string_view, kFields> bytes{};
  std::array<uint64_t, kFields> varint{};
};

bool Scan(std::string_view m, Fields& f) {
  const auto* p = reinterpret_cast<const uint8_t*>(m.data());
  const uint8_t* end = p + m.size();
  while (p < end) {
    uint64_t tag = 0, v = 0;
    if (!ReadVarint(p, end, tag)) return false;
    const uint64_t field = tag >> 3;
    switch (tag & 7) {
      case 0:
        if (!ReadVarint(p, end, v)) return false;
        if (field < kFields) f.varint[field] = v;
        break;
      case 1:
        if (end - p < 8) return false;
        p += 8;
        break;
      case 2:
        if (!ReadVarint(p, end, v) || v > static_cast<uint64_t>(end - p)) return false;
        if (field < kFields) f.bytes[field] = {reinterpret_cast<const char*>(p), v};
        p += v;
        break;
      case 5:
        if (end - p < 4) return false;
        p += 4;
        break;
      default:
        return false;
    }
  }
  return true;
}

const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Envelope (kring/v1/case.proto) and OpHeader field numbers.
enum EnvelopeField {
  kHeader = 1,
  kNonce = 2,
  kKeyCommitment = 3,
  kCiphertext = 4,
  kBody = 5,
  kSig
};
enum HeaderField { kDevice = 6, kCounter = 7, kPrevHash = 8, kKind = 12 };

struct Entry {
  uint64_t seq = 0;
  Fields env, header;
  uint8_t digest[32];
  uint8_t envelope_hash[32];
  bool opened = false;
  bool ok = false;  // set by the parallel part; checked in order
};

struct Page {
  floorrelay::v1::ReadResponse response;
  std::vector<Entry> entries;
};

// A queue of pages between two stages; Close() ends it (and wakes a waiting reader).
class PageQueue {
 public:
  void Push(std::unique_ptr<Page> p) {
    std::lock_guard lock(mu_);
    pages_.push_back(std::move(p));
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  std::unique_ptr<Page> Pop() {  // nullptr once closed and empty
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !pages_.empty(); });
    if (pages_.empty()) return nullptr;
    std::unique_ptr<Page> p = std::move(pages_.front());
    pages_.pop_front();
    return p;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Page>> pages_;
  bool closed_ = false;
};

// fn(i) for i in [0, n) on both cores (this thread and one more).
template <typename Fn>
void OnBothCores(size_t n, const Fn& fn) {
  const size_t half = n / 2;
  std::thread other([&] {
    for (size_t i = half; i < n; ++i) fn(i);
  });
  for (size_t i = 0; i < half; ++i) fn(i);
  other.join();
}

struct DeviceState {
  uint64_t counter = 0;
  uint8_t last_hash[32];
  std::string signing_key;
  size_t last_in_page = SIZE_MAX;  // its newest signed op in the page being checked
  bool unsigned_tail = false;      // its newest op so far is unsigned
};

class Checker {
 public:
  explicit Checker(const CheckedColdInput& in) : in_(in) {}

  // Per sync: the authors' chains give their devices' signing keys.
  void VerifyChains() {
    for (const auto& [account, links] : in_.author_chains) {
      auto chain = VerifyChain(account, links);
      if (!chain.ok()) throw std::runtime_error("checked floor: author chain");
      for (const auto& [id, d] : chain->devices) {
        if (!d.is_recovery) devices_[ToString(id)].signing_key = ToString(d.signing_public_key);
      }
    }
  }

  void CheckPage(Page& page) {
    const auto& items = page.response.items();
    const size_t n = static_cast<size_t>(items.size());
    page.entries.resize(n);
    // 1. Both cores: find the fields, the op digest (what the author signs) and the envelope hash
    //    (what the next op of the device and the log chain link to); open content ops whose key
    //    is known.
    OnBothCores(n, [&](size_t i) {
      Entry& e = page.entries[i];
      e.seq = items[static_cast<int>(i)].seq();
      e.ok = Scan(items[static_cast<int>(i)].data(), e.env) && Scan(e.env.bytes[kHeader], e.header);
      if (!e.ok) return;
      RawHash("kring-op-v1")
          .Part(e.env.bytes[kHeader])
          .Part(e.env.bytes[kNonce])
          .Part(e.env.bytes[kKeyCommitment])
          .Part(e.env.bytes[kCiphertext])
          .Part(e.env.bytes[kBody])
          .Final(e.digest);
      RawHash("kring-envelope-v1")
          .Part(e.digest, 32)
          .Part(e.env.bytes[kSig])
          .Final(e.envelope_hash);
      if (keys_ready_ && e.header.varint[kKind] == v1::OP_KIND_CONTENT) e.ok = e.opened = Open(e);
    });
    // 2. In log order: seq continuity, the per-device counter and hash link, the chain hash;
    //    the Rekey gives the epoch key.
    for (size_t i = 0; i < n; ++i) {
      Entry& e = page.entries[i];
      if (!e.ok || e.seq != seq_ + 1) throw std::runtime_error("checked floor: entry");
      auto dev = devices_.find(e.header.bytes[kDevice]);
      if (dev == devices_.end()) throw std::runtime_error("checked floor: unknown device");
      DeviceState& d = dev->second;
      const std::string_view prev = e.header.bytes[kPrevHash];
      if (e.header.varint[kCounter] != d.counter + 1 ||
          (d.counter == 0 ? !prev.empty()
                          : prev.size() != 32 || std::memcmp(prev.data(), d.last_hash, 32) != 0)) {
        throw std::runtime_error("checked floor: device link");
      }
      d.counter = e.header.varint[kCounter];
      std::memcpy(d.last_hash, e.envelope_hash, 32);
      // The floor relay's pages may end inside a run (kringd's do not): the newest signed op of
      // the device is checked, and the ops after it by the next page's signature.
      d.unsigned_tail = e.env.bytes[kSig].empty();
      if (!d.unsigned_tail) d.last_in_page = i;
      RawHash("kring-chain-v1")
          .Part(chain_, seq_ == 0 ? 0 : 32)
          .U64(e.seq)
          .Part(e.envelope_hash, 32)
          .Final(chain_);
      seq_ = e.seq;
      if (e.header.varint[kKind] == v1::OP_KIND_REKEY) OpenEpochKey(e);
    }
    // 3. Both cores: the page's signed head, one signature per device (its newest op in the page
    //    links back to its others), and the content ops not opened in step 1 (the first page's,
    //    sealed under the key its own Rekey brings).
    std::vector<std::pair<int, size_t>> tasks = {{0, 0}};
    for (auto& [id, d] : devices_) {
      if (d.last_in_page != SIZE_MAX) tasks.push_back({1, d.last_in_page});
    }
    for (size_t i = 0; i < n; ++i) {
      const Entry& e = page.entries[i];
      if (!e.opened && e.header.varint[kKind] == v1::OP_KIND_CONTENT) tasks.push_back({2, i});
    }
    std::vector<char> good(tasks.size(), 0);
    OnBothCores(tasks.size(), [&](size_t t) {
      const auto [what, i] = tasks[t];
      if (what == 0) {
        good[t] = protocol::VerifyReceipt(in_.head, in_.server_public_key) ? 1 : 0;
      } else if (what == 1) {
        const Entry& e = page.entries[i];
        const std::string& key = devices_.find(e.header.bytes[kDevice])->second.signing_key;
        const std::string_view sig = e.env.bytes[kSig];
        good[t] = sig.size() == crypto_sign_BYTES &&
                  crypto_sign_verify_detached(U8(sig), e.digest, 32, U8(key)) == 0;
      } else {
        good[t] = Open(page.entries[i]) ? 1 : 0;
      }
    });
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (good[t] == 0) {
        static const char* const kWhat[] = {"head", "signature", "content"};
        throw std::runtime_error(std::string("checked floor: ") + kWhat[tasks[t].first] +
                                 " does not verify at seq " +
                                 std::to_string(page.entries[tasks[t].second].seq));
      }
    }
    for (auto& [id, d] : devices_) d.last_in_page = SIZE_MAX;
  }

  // The last entry's chain hash must be the signed head's, and every device's newest op signed.
  void CheckEnd() const {
    for (const auto& [id, d] : devices_) {
      if (d.unsigned_tail) throw std::runtime_error("checked floor: unsigned ops at the end");
    }
    if (seq_ != in_.head.seq() || in_.head.chain_hash().size() != 32 ||
        std::memcmp(chain_, in_.head.chain_hash().data(), 32) != 0) {
      throw std::runtime_error("checked floor: head");
    }
  }

 private:
  // Key commitment, associated data, AEAD open and unpad of a content op.
  bool Open(const Entry& e) const {
    const std::string_view nonce = e.env.bytes[kNonce], ct = e.env.bytes[kCiphertext];
    const std::string_view kc = e.env.bytes[kKeyCommitment];
    if (nonce.size() != 24 || kc.size() != 32 || ct.size() < 16 || ct.size() > 64 * 1024) {
      return false;
    }
    uint8_t expect[32], ad[32];
    RawHash("kring-op-key-commit-v1", commit_key_.data(), commit_key_.size())
        .Part(nonce)
        .Final(expect);
    if (sodium_memcmp(expect, kc.data(), 32) != 0) return false;
    RawHash("kring-op-ad-v1").Part(e.env.bytes[kHeader]).Part(nullptr, 0).Final(ad);
    thread_local std::vector<uint8_t> plain(64 * 1024);
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr, U8(ct), ct.size(),
                                                   ad, 32, U8(nonce), content_key_.data()) != 0) {
      return false;
    }
    // libkring's rule (sodium_unpad's, scanned from the end: crypto::UnpaddedSize says why
    // constant time buys nothing after the AEAD).
    return crypto::UnpaddedSize({plain.data(), static_cast<size_t>(len)}, protocol::kPaddingBlock)
        .ok();
  }

  // Once per sync: the reader's box in the Rekey, the epoch key's commitment, the two subkeys.
  void OpenEpochKey(const Entry& e) {
    v1::ControlBody body;
    if (!body.ParseFromArray(e.env.bytes[kBody].data(),
                             static_cast<int>(e.env.bytes[kBody].size())) ||
        !body.has_rekey()) {
      throw std::runtime_error("checked floor: rekey");
    }
    const v1::Rekey& rk = body.rekey();
    for (const v1::KeyBox& box : rk.boxes()) {
      if (box.account_id() != in_.reader->account_id()) continue;
      for (const auto& uk : in_.reader->user_keys()) {
        if (uk.generation() != box.user_key_generation()) continue;
        auto key = crypto::SealOpen(client::identity::UserBoxKeyPair(View(uk.seed())),
                                    View(box.sealed_key()));
        if (!key.ok() || !ConstantTimeEqual(protocol::EpochKeyCommitment(
                                                *key, in_.log_id, rk.scope_id(), rk.new_epoch()),
                                            View(rk.key_commitment()))) {
          throw std::runtime_error("checked floor: epoch key");
        }
        content_key_ = protocol::DeriveEpochSubkey(*key, protocol::EpochSubkey::kContent);
        commit_key_ = protocol::DeriveEpochSubkey(*key, protocol::EpochSubkey::kCommitment);
        keys_ready_ = true;
        return;
      }
    }
    throw std::runtime_error("checked floor: no box for the reader");
  }

  const CheckedColdInput& in_;
  std::map<std::string, DeviceState, std::less<>> devices_;  // by device id
  uint8_t chain_[32] = {0};
  uint64_t seq_ = 0;
  bool keys_ready_ = false;
  SecretBytes content_key_, commit_key_;
};

}  // namespace

double CheckedFloorColdSync(const CheckedColdInput& in) {
  double start = Now();
  auto db = sql::Database::Open(in.db_path, /*read_only=*/false, kDeviceCheckpoints);
  if (!db.ok()) throw std::runtime_error("checked floor db");
  if (!db->Exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)").ok()) {
    throw std::runtime_error("checked floor schema");
  }
  PageQueue pulled, checked;
  std::mutex error_mu;
  std::exception_ptr error;
  auto fail = [&](std::exception_ptr e) {
    std::lock_guard lock(error_mu);
    if (!error) error = e;
  };
  // Pulls the next page while the one before is checked (as libkring prefetches).
  std::thread puller([&] {
    try {
      FloorConn conn(in.address);
      uint64_t after = 0;
      for (int page = 0; page < 1000; ++page) {
        auto p = std::make_unique<Page>();
        floorrelay::v1::ReadRequest req;
        req.set_log_id(ToString(in.log_id));
        req.set_after_seq(after);
        req.set_limit(kPage);
        grpc::Status s = conn.relay->Read(Ctx().get(), req, &p->response);
        if (!s.ok()) throw std::runtime_error("checked floor Read");
        if (p->response.items_size() == 0) break;
        after = p->response.items(p->response.items_size() - 1).seq();
        pulled.Push(std::move(p));
      }
    } catch (...) {
      fail(std::current_exception());
    }
    pulled.Close();
  });
  // Stores each checked page in one transaction while the next one is checked.
  uint64_t stored = 0;
  std::thread storer([&] {
    try {
      sql::Statement ins(*db, "INSERT INTO log (seq, data) VALUES (?, ?)");
      while (std::unique_ptr<Page> p = checked.Pop()) {
        sql::Transaction tx(*db);
        for (const floorrelay::v1::Item& it : p->response.items()) {
          ins.Reset();
          if (!ins.Bind(1, static_cast<int64_t>(it.seq())).Bind(2, it.data()).Run().ok()) {
            throw std::runtime_error("checked floor insert");
          }
        }
        if (!tx.Commit().ok()) throw std::runtime_error("checked floor commit");
        stored = p->response.items(p->response.items_size() - 1).seq();
      }
    } catch (...) {
      fail(std::current_exception());
      while (checked.Pop() != nullptr) {
      }
    }
  });
  try {
    Checker checker(in);
    checker.VerifyChains();
    while (std::unique_ptr<Page> p = pulled.Pop()) {
      checker.CheckPage(*p);
      checked.Push(std::move(p));
    }
    checker.CheckEnd();
  } catch (...) {
    fail(std::current_exception());
    while (pulled.Pop() != nullptr) {
    }
  }
  checked.Close();
  puller.join();
  storer.join();
  double elapsed = Now() - start;
  if (error) std::rethrow_exception(error);
  if (stored != in.expected) throw std::runtime_error("checked floor cold sync incomplete");
  return elapsed;
}

}  // namespace kring::bench
