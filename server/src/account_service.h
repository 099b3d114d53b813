// AccountService: user chains and device sign-in.
#pragma once

#include <memory>

namespace grpc {
class Service;
}

namespace kring::server {

struct ServerState;

std::unique_ptr<grpc::Service> MakeAccountService(ServerState& state);

}  // namespace kring::server
