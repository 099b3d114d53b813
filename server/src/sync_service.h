// SyncService: ordering, storing and relaying case logs.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace kring::server {

struct ServerState;

std::unique_ptr<grpc::Service> MakeSyncService(ServerState& state);

}  // namespace kring::server
