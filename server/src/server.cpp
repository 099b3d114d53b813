#include "server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/service_type.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "kring/common/log.h"
#include "kring/common/protocol.h"

#include "account_service.h"
#include "auth/session_manager.h"
#include "case_log.h"
#include "server_state.h"
#include "sync_service.h"

namespace kring::server {
namespace {

constexpr size_t kReadConnections = 4;
constexpr auto kShutdownGrace = std::chrono::seconds(5);

Status MakeDirs(const std::string& path) {
  if (path.empty()) return {};
  std::string partial;
  std::stringstream ss(path);
  std::string part;
  if (path[0] == '/') partial = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    partial += part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status(StatusCode::kUnavailable, "cannot create data dir");
    }
    partial += '/';
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kUnavailable, "data dir is not a directory");
  }
  return {};
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read TLS file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One kringd per database: the writer thread's case cache (storage/case_cache.h) is exact only
// because no other process writes the tables. An advisory lock on "<db>.lock", which the kernel
// lets go of when the process ends, however it ends.
class DatabaseLock {
 public:
  DatabaseLock() = default;
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;
  ~DatabaseLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  // The operator's own path is named in the errors (it is configuration, not case content).
  Status Acquire(const std::string& db_path) {
    // The lock is named after the file the path leads to, so a symlink under another name (or a
    // path through a symlinked directory) finds the same lock.
    std::error_code ec;
    const std::filesystem::path real = std::filesystem::weakly_canonical(db_path, ec);
    const std::string path = (ec ? db_path : real.string()) + ".lock";
    fd_ = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);  // flock needs no write
    if (fd_ < 0) {
      return Status(StatusCode::kUnavailable,
                    "cannot open the database lock file " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status(StatusCode::kFailedPrecondition,
                      "another kringd is using this database (" + path + " is locked)");
      }
      // ENOLCK and the like: a file system without locks (keep the database on a local disk).
      return Status(StatusCode::kUnavailable, "cannot lock " + path + ": " + std::strerror(errno));
    }
    return {};
  }

 private:
  int fd_ = -1;
};

bool IsLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr.rfind("localhost:", 0) == 0 ||
         addr.rfind("[::1]", 0) == 0 || addr.rfind("unix:", 0) == 0;
}

}  // namespace

struct Server::Impl {
  // Deletes closed cases whose retention ended: once at start, then every interval.
  void SweepLoop(std::chrono::seconds interval) {
    std::unique_lock<std::mutex> lock(sweep_mu);
    while (!sweep_stop) {
      lock.unlock();
      Sweep();
      lock.lock();
      sweep_cv.wait_for(lock, interval, [&] { return sweep_stop; });
    }
  }
  // One writer transaction per batch of about kSweepOpsPerTxn erased ops (a large erasure
  // alone), so the writer is not held for seconds; batches until none is due (at most 1000).
  void Sweep() {
    constexpr uint64_t kSweepOpsPerTxn = 20000;
    {
      // Erased cases' histories past their lifetime (the tombstones stay).
      std::promise<void> finished;
      const int64_t keep_ms = erased_history_days * 24 * 3600 * 1000;
      state->store->Submit({[keep_ms](storage::StoreTxn& txn) -> Status {
                              return txn.DropErasedHistoriesBefore(auth::NowMs() - keep_ms);
                            },
                            [&](const Status& s) {
                              if (!s.ok() && s.code() != StatusCode::kUnavailable) {
                                log::Error("erased_history_sweep_failed",
                                           {{"code", static_cast<int64_t>(s.code())}});
                              }
                              finished.set_value();
                            },
                            {}});
      finished.get_future().wait();
    }
    for (int batch = 0; batch < 1000; ++batch) {
      std::promise<void> finished;
      size_t n = 0;
      bool ok = false;
      state->store->Submit(
          {[&n](storage::StoreTxn& txn) -> Status {
             KRING_ASSIGN_OR_RETURN(n, SweepRetention(txn, auth::NowMs(), 100, kSweepOpsPerTxn));
             return {};
           },
           [&](const Status& s) {
             ok = s.ok();
             if (ok && n > 0) {
               log::Info("retention_sweep", {{"deleted_cases", static_cast<int64_t>(n)}});
             }
             if (!s.ok() && s.code() != StatusCode::kUnavailable) {
               log::Error("retention_sweep_failed", {{"code", static_cast<int64_t>(s.code())}});
             }
             finished.set_value();
           },
           {}});
      finished.get_future().wait();
      if (!ok || n == 0) return;
    }
  }

  DatabaseLock db_lock;  // first, so it is let go of after everything else
  std::unique_ptr<ServerState> state;
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool sweep_stop = false;
  int64_t erased_history_days = 365;
  std::thread sweeper;
  std::unique_ptr<grpc::Service> account_service;
  std::unique_ptr<grpc::Service> sync_service;
  std::unique_ptr<grpc::Server> grpc_server;
  int port = 0;
  bool shut_down = false;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return impl_->port; }

Result<std::unique_ptr<Server>> Server::Start(const Config& config) {
  KRING_RETURN_IF_ERROR(MakeDirs(config.data_dir));
  auto impl = std::make_unique<Impl>();
  KRING_RETURN_IF_ERROR(impl->db_lock.Acquire(config.DbPath()));
  KRING_ASSIGN_OR_RETURN(ServerKey key, LoadOrCreateServerKey(config.data_dir));
  KRING_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                         storage::OpenSqliteStore(config.DbPath(), kReadConnections));
  RateLimiter::Options limit;
  limit.rate = config.unauthenticated_rate;
  limit.burst = config.unauthenticated_burst;
  auth::SessionManager::Options challenges;
  challenges.max_challenges = static_cast<size_t>(config.max_challenges);
  challenges.challenges_per_address = static_cast<size_t>(config.challenges_per_address);
  impl->state = std::make_unique<ServerState>(std::move(key), std::move(store),
                                              config.session_ttl_seconds, limit, challenges);
  impl->account_service = MakeAccountService(*impl->state);
  impl->sync_service = MakeSyncService(*impl->state);

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!config.tls_cert.empty()) {
    KRING_ASSIGN_OR_RETURN(std::string cert, ReadFile(config.tls_cert));
    KRING_ASSIGN_OR_RETURN(std::string pkey, ReadFile(config.tls_key));
    grpc::SslServerCredentialsOptions opts;
    opts.pem_key_cert_pairs.push_back({pkey, cert});
    creds = grpc::SslServerCredentials(opts);
  } else {
    if (!IsLoopback(config.listen)) log::Warn("listening_without_tls");
    creds = grpc::InsecureServerCredentials();
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, creds, &impl->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(protocol::kMaxPushBytes + 64 * 1024));
  builder.RegisterService(impl->account_service.get());
  builder.RegisterService(impl->sync_service.get());
  impl->grpc_server = builder.BuildAndStart();
  if (!impl->grpc_server || impl->port == 0) {
    impl->state->store->Shutdown();
    return Status(StatusCode::kUnavailable, "cannot listen on " + config.listen);
  }
  impl->erased_history_days = config.erased_history_days;
  impl->sweeper = std::thread([raw = impl.get(), s = config.retention_sweep_seconds] {
    raw->SweepLoop(std::chrono::seconds(s));
  });
  // The docs' bound on retiring an honest challenge relies on the cap staying above the burst:
  // one burst of sign-ins from an address must not retire its own.
  if (config.unauthenticated_rate > 0 && config.challenges_per_address > 0 &&
      config.challenges_per_address <= config.unauthenticated_burst) {
    log::Warn("challenge_cap_not_above_burst",
              {{"challenges_per_address", config.challenges_per_address},
               {"unauthenticated_burst", config.unauthenticated_burst}});
  }
  log::Info("serving", {{"port", int64_t{impl->port}},
                        {"server_id", Hex(impl->state->key.server_id)},
                        {"tls", !config.tls_cert.empty()},
                        {"unauthenticated_rate", FormatRate(config.unauthenticated_rate)},
                        {"unauthenticated_burst", config.unauthenticated_burst},
                        {"challenges_per_address", config.challenges_per_address},
                        {"max_challenges", config.max_challenges}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Shutdown() {
  if (!impl_ || impl_->shut_down) return;
  impl_->shut_down = true;
  {
    std::lock_guard<std::mutex> lock(impl_->sweep_mu);
    impl_->sweep_stop = true;
  }
  impl_->sweep_cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
  impl_->state->pokes.CloseAll();
  // Reports NOT_SERVING to health watchers and ends their streams, so Shutdown does not wait
  // for its deadline on them.
  if (auto* health = impl_->grpc_server->GetHealthCheckService()) health->Shutdown();
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  impl_->state->store->Shutdown();  // runs what is queued, then closes the database
  impl_->state->receipts.Stop();    // signs the receipts of what was queued
  impl_->grpc_server->Wait();
  log::Info("shutdown");
}

}  // namespace kring::server
