// gRPC health check of a kringd (grpc.health.v1.Health/Check).
#pragma once

#include <string>

namespace kring::cli {

// True when the server answers SERVING within the timeout.
bool IsServing(const std::string& address, int timeout_ms);

}  // namespace kring::cli
