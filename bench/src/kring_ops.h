// Talking to kringd as raw clients do: accounts (device keys + a Root link), sign-in, and
// envelopes sealed and signed by libkring's own SignEnvelope, for workloads that need many
// devices or exact control over what is pushed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/sqlite.h"
#include "kring/common/status.h"
#include "kring/v1/account.grpc.pb.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/model.pb.h"
#include "kring/v1/sync.grpc.pb.h"

#include "floorrelay/v1/relay.grpc.pb.h"

namespace kring::bench {

// How the floors' devices (cold sync, checked floor, catch-up) copy their write-ahead log into
// the database file: every copy on a thread of its own, so no floor commit waits for one. That is
// the floors' fastest (measured against SQLite's inline copy and libkring's setting; libkring's
// local store copies only a large commit's log on the thread, docs/performance.md).
inline constexpr auto kDeviceCheckpoints = sql::Database::Checkpoints::kBackgroundEvery;

// Its own TCP connection (local subchannel pool), like a separate device would have.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = {});

struct KringConn {
  explicit KringConn(const std::string& address);
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AccountService::Stub> account;
  std::unique_ptr<v1::SyncService::Stub> sync;
};

struct FloorConn {
  explicit FloorConn(const std::string& address);
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<floorrelay::v1::Relay::Stub> relay;
};

struct BenchAccount {
  v1::LocalAccount local;  // device keys and user key seed, as libkring keeps them
  Bytes account_id;
  Bytes device_id;
  Bytes user_box_public_key;
  v1::ChainLink root;
  std::string token;
};

// Keys and a signed Root link; Publish + SignIn against kringd. Throws on failure.
BenchAccount NewAccount();
void PublishAndSignIn(KringConn& conn, BenchAccount& account);

struct Recipient {
  Bytes account_id;
  Bytes user_box_public_key;
};

// One device's chain of ops in one case (counter and previous-op hash).
class DeviceWriter {
 public:
  DeviceWriter(const BenchAccount& author, Bytes case_id)
      : author_(&author), case_id_(std::move(case_id)) {}

  v1::Envelope CreateCase(const std::vector<std::pair<Bytes, v1::Role>>& members);
  v1::Envelope Rekey(uint64_t new_epoch, const std::vector<Recipient>& recipients,
                     ByteView epoch_key);
  // A content op sealed under epoch_key by libkring's SealEnvelope; advances the chain. Signed
  // only when `sign`: libkring signs just the last op of each push's run (docs/protocol.md).
  v1::Envelope Content(uint64_t epoch, ByteView epoch_key, const v1::ContentOp& content,
                       uint64_t seen_seq, const std::string& seen_hash, bool sign = true);

  struct Position {
    uint64_t counter = 0;
    Bytes prev_hash;
  };
  Position position() const { return {counter_, prev_hash_}; }
  void Restore(Position p) {
    counter_ = p.counter;
    prev_hash_ = std::move(p.prev_hash);
  }
  const Bytes& case_id() const { return case_id_; }

 private:
  v1::OpHeader Header(v1::OpKind kind, uint64_t epoch, uint64_t seen_seq,
                      const std::string& seen_hash);
  v1::Envelope Advance(v1::Envelope env);
  const BenchAccount* author_;
  Bytes case_id_;
  uint64_t counter_ = 0;
  Bytes prev_hash_;
};

// A ContentOp that creates a "note" entity and sets its "text": about `bytes` serialized, so
// that 1000 pads to a 1 KiB plaintext (1040-byte ciphertext).
v1::ContentOp NoteOp(size_t bytes);

Status FromGrpc(const grpc::Status& s);

}  // namespace kring::bench
