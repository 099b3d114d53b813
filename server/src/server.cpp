#include "server.h"

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/service_type.h>
#include <sys/stat.h>

#include "kring/common/log.h"
#include "kring/common/protocol.h"

#include "account_service.h"
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

bool IsLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr.rfind("localhost:", 0) == 0 ||
         addr.rfind("[::1]", 0) == 0 || addr.rfind("unix:", 0) == 0;
}

}  // namespace

struct Server::Impl {
  std::unique_ptr<ServerState> state;
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
  KRING_ASSIGN_OR_RETURN(ServerKey key, LoadOrCreateServerKey(config.data_dir));
  KRING_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                         storage::OpenSqliteStore(config.DbPath(), kReadConnections));
  auto impl = std::make_unique<Impl>();
  impl->state =
      std::make_unique<ServerState>(std::move(key), std::move(store), config.session_ttl_seconds);
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
  log::Info("serving", {{"port", int64_t{impl->port}},
                        {"server_id", Hex(impl->state->key.server_id)},
                        {"tls", !config.tls_cert.empty()}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Shutdown() {
  if (!impl_ || impl_->shut_down) return;
  impl_->shut_down = true;
  impl_->state->pokes.CloseAll();
  // Reports NOT_SERVING to health watchers and ends their streams, so Shutdown does not wait
  // for its deadline on them.
  if (auto* health = impl_->grpc_server->GetHealthCheckService()) health->Shutdown();
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  impl_->state->store->Shutdown();  // runs what is queued, then closes the database
  impl_->grpc_server->Wait();
  log::Info("shutdown");
}

}  // namespace kring::server
