// The floor relay: a bare gRPC server (callback API) that appends bytes to SQLite and serves them
// back, at kringd's durability (WAL, synchronous=FULL, acknowledged after the commit) and with the
// same group commit shape (one writer thread, one transaction per group of queued requests), but
// with no application logic: no sessions, no parsing, no checks, no hashes, no signatures.
// What kringd does on top of this is what the benchmarks charge it for. One optional check:
// with AppendRequest.verify_key set it verifies each signed item's Ed25519 signature on the gRPC
// thread, as kringd does, to show what that one unavoidable cost leaves of the floor. As in kringd,
// an item may be unsigned only when a later item of the same request is signed (libkring signs
// the last op of a push's run), so a batch costs one check. With AppendRequest.receipt set as
// well it adds the rest of what a server must do to be held to the order it acknowledged, and
// nothing else: each op's envelope hash (gRPC thread, from the digest the check computed) and
// chain hash (writer thread, in log order), stored in a table of their own beside the bytes,
// and after the commit a signed receipt for each request's last seq from kringd's own
// ReceiptSigner (server/src/receipt_signer.h: one Ed25519 signature per log per round, off the
// writer thread), sent back in the response.
//
// Usage: kring_floor_relay --db PATH --port-file PATH [--listen 127.0.0.1:0]
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "floorrelay/v1/relay.grpc.pb.h"
#include "receipt_signer.h"

namespace {

constexpr uint32_t kMaxReadLimit = 1000;
constexpr size_t kMaxReadBytes = 4 * 1024 * 1024;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS items (
  log_id BLOB NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (log_id, seq));
CREATE TABLE IF NOT EXISTS chained (
  log_id BLOB NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, chain_hash BLOB NOT NULL,
  UNIQUE (log_id, seq));
)sql";

struct Job {
  const floorrelay::v1::AppendRequest* req;
  floorrelay::v1::AppendResponse* resp;
  grpc::ServerUnaryReactor* reactor;
  // One per item when the request asked for a receipt (then the items go to `chained`).
  std::vector<kring::Bytes> envelope_hashes;
  kring::Bytes chain_hash;  // at the job's last seq (the writer sets it)
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One thread owns the only write connection; each wake-up commits everything queued so far.
class Writer {
 public:
  Writer(kring::sql::Database db, kring::server::ReceiptSigner& signer)
      : db_(std::move(db)), signer_(signer), thread_([this] { Loop(); }) {}
  ~Writer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  void Submit(Job job) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    cv_.notify_one();
  }

 private:
  void Loop() {
    kring::sql::Statement insert(db_, "INSERT INTO items (log_id, seq, data) VALUES (?, ?, ?)");
    kring::sql::Statement insert_chained(
        db_, "INSERT INTO chained (log_id, seq, data, chain_hash) VALUES (?, ?, ?, ?)");
    for (;;) {
      std::deque<Job> group;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        group.swap(queue_);
      }
      grpc::Status status = grpc::Status::OK;
      {
        kring::sql::Transaction tx(db_);
        bool ok = tx.status().ok();
        for (Job& job : group) {
          if (!job.envelope_hashes.empty()) {
            ok = ok && AppendChained(insert_chained, job);
            continue;
          }
          uint64_t& head = heads_[job.req->log_id()];
          for (const std::string& item : job.req->items()) {
            if (!ok) break;
            insert.Reset();
            ok = insert.Bind(1, job.req->log_id())
                     .Bind(2, static_cast<int64_t>(head + 1))
                     .Bind(3, item)
                     .Run()
                     .ok();
            if (ok) ++head;
          }
          job.resp->set_last_seq(head);
        }
        if (ok) ok = tx.Commit().ok();
        if (!ok) {
          status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "commit failed");
          heads_.clear();  // only a benchmark: a failed commit ends the run anyway
          chains_.clear();
        }
      }
      const int64_t now = NowMs();
      for (Job& job : group) {
        if (!status.ok() || job.envelope_hashes.empty()) {
          job.reactor->Finish(status);
          continue;
        }
        // Committed: answered by the signer thread with the receipt of this log's round.
        signer_.Queue({kring::ToBytes(job.req->log_id()),
                       job.resp->last_seq(),
                       job.chain_hash,
                       now,
                       [resp = job.resp, reactor = job.reactor](const kring::v1::Receipt* r) {
                         if (r == nullptr) {
                           reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no receipt"));
                           return;
                         }
                         r->SerializeToString(resp->mutable_receipt());
                         reactor->Finish(grpc::Status::OK);
                       },
                       {},
                       {},
                       false});
      }
      signer_.Flush();
    }
  }

  // The job's items into `chained`, each with its chain hash; the job keeps the last one.
  bool AppendChained(kring::sql::Statement& insert, Job& job) {
    Chain& chain = chains_[job.req->log_id()];
    for (int i = 0; i < job.req->items_size(); ++i) {
      const uint64_t seq = chain.seq + 1;
      kring::Bytes hash =
          kring::protocol::ChainHash(chain.hash, seq, job.envelope_hashes[static_cast<size_t>(i)]);
      insert.Reset();
      if (!insert.Bind(1, job.req->log_id())
               .Bind(2, static_cast<int64_t>(seq))
               .Bind(3, job.req->items(i))
               .Bind(4, hash)
               .Run()
               .ok()) {
        return false;
      }
      chain.seq = seq;
      chain.hash = std::move(hash);
    }
    job.resp->set_last_seq(chain.seq);
    job.chain_hash = chain.hash;
    return true;
  }

  struct Chain {
    uint64_t seq = 0;
    kring::Bytes hash;
  };

  kring::sql::Database db_;
  kring::server::ReceiptSigner& signer_;
  std::map<std::string, uint64_t> heads_;
  std::map<std::string, Chain> chains_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::thread thread_;
};

// An open stream that never writes: initial metadata (so the client knows the call is up), then
// nothing until the client cancels or the server shuts down.
class IdleStream final : public grpc::ServerWriteReactor<floorrelay::v1::WatchEvent> {
 public:
  IdleStream() { StartSendInitialMetadata(); }
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }
};

class RelayImpl final : public floorrelay::v1::Relay::CallbackService {
 public:
  RelayImpl(std::string db_path, Writer& writer) : db_path_(std::move(db_path)), writer_(writer) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* ctx,
                                   const floorrelay::v1::AppendRequest* req,
                                   floorrelay::v1::AppendResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    Job job{req, resp, reactor, {}, {}};
    if (!req->verify_key().empty()) {
      if (req->receipt()) job.envelope_hashes.reserve(static_cast<size_t>(req->items_size()));
      bool covered = true;  // every unsigned item so far has a signed one after it
      for (const std::string& item : req->items()) {
        kring::v1::Envelope env;
        if (!env.ParseFromString(item)) {
          covered = false;
          break;
        }
        const kring::Bytes digest = kring::protocol::OpDigest(env);
        if (req->receipt()) {
          // protocol::EnvelopeHash, from the digest already at hand (as kringd's parse does).
          job.envelope_hashes.push_back(kring::crypto::Hasher("kring-envelope-v1")
                                            .Add(digest)
                                            .Add(kring::View(env.signature()))
                                            .Finish());
        }
        if (env.signature().empty()) {
          covered = false;
          continue;
        }
        covered = kring::crypto::Verify(kring::View(req->verify_key()), digest,
                                        kring::View(env.signature()));
        if (!covered) break;
      }
      if (!covered) {
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad signature"));
        return reactor;
      }
    } else if (req->receipt()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "receipt needs verify_key"));
      return reactor;
    }
    writer_.Submit(std::move(job));
    return reactor;
  }

  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* ctx,
                                 const floorrelay::v1::ReadRequest* req,
                                 floorrelay::v1::ReadResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    // One read-only connection per gRPC thread, each read in its own snapshot (as kringd).
    thread_local std::unique_ptr<kring::sql::Database> db;
    if (!db) {
      auto opened = kring::sql::Database::Open(db_path_, /*read_only=*/true);
      if (!opened.ok()) {
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot open database"));
        return reactor;
      }
      db = std::make_unique<kring::sql::Database>(std::move(opened).value());
    }
    uint32_t limit = req->limit() == 0 ? 256 : std::min(req->limit(), kMaxReadLimit);
    bool ok = db->Exec("BEGIN").ok();
    {
      kring::sql::Statement st(*db,
                               "SELECT seq, data FROM items WHERE log_id = ? AND seq > ? "
                               "ORDER BY seq LIMIT ?");
      st.Bind(1, req->log_id())
          .Bind(2, static_cast<int64_t>(req->after_seq()))
          .Bind(3, static_cast<int64_t>(limit));
      size_t bytes = 0;
      while (ok && st.Step()) {
        floorrelay::v1::Item* item = resp->add_items();
        item->set_seq(static_cast<uint64_t>(st.Int(0)));
        item->set_data(st.BlobString(1));
        bytes += item->data().size();
        if (bytes >= kMaxReadBytes) break;
      }
      ok = ok && st.status().ok();
    }
    ok = db->Exec("COMMIT").ok() && ok;
    reactor->Finish(ok ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNAVAILABLE, "read failed"));
    return reactor;
  }

  grpc::ServerWriteReactor<floorrelay::v1::WatchEvent>* Watch(
      grpc::CallbackServerContext*, const floorrelay::v1::WatchRequest*) override {
    return new IdleStream();
  }

 private:
  std::string db_path_;
  Writer& writer_;
};

bool WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = std::fprintf(f, "%d\n", port) > 0;
  ok = std::fclose(f) == 0 && ok;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As kringd does (server/src/main.cpp): gRPC's locks without absl's deadlock detection, so the
  // floor is not slowed by a debugging aid kringd has turned off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string db_path;
  std::string port_file;
  std::string listen = "127.0.0.1:0";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--db") {
      db_path = argv[i + 1];
    } else if (flag == "--port-file") {
      port_file = argv[i + 1];
    } else if (flag == "--listen") {
      listen = argv[i + 1];
    }
  }
  if (db_path.empty() || port_file.empty()) {
    std::fprintf(stderr, "usage: kring_floor_relay --db PATH --port-file PATH\n");
    return 2;
  }
  auto db = kring::sql::Database::Open(db_path);
  if (!db.ok() || !db->Exec(kSchema).ok()) {
    std::fprintf(stderr, "floor relay: cannot open %s\n", db_path.c_str());
    return 1;
  }
  // SIGTERM/SIGINT end the server through sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The receipt contender's signing key: fresh per run, like a new kringd's (server_key.cpp).
  const kring::crypto::SigningKeyPair receipt_key = kring::crypto::NewSigningKeyPair();
  kring::server::ReceiptSigner signer(receipt_key.secret_key);
  Writer writer(std::move(db).value(), signer);
  RelayImpl service(db_path, writer);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024 + 64 * 1024);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0 || !WritePortFile(port_file, port)) {
    std::fprintf(stderr, "floor relay: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  // Open Watch streams never end by themselves: cancel whatever is left after a short grace.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
