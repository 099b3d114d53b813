// The gRPC edge: one mapping kring::Status -> grpc::Status, and session authentication from
// call metadata. Server-internal header (services only).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include "kring/common/status.h"

#include "auth/session_manager.h"
#include "rate_limiter.h"

namespace kring::server {

grpc::Status ToGrpc(const Status& status);

// Reads "authorization: Bearer <token>". Missing, malformed, unknown, expired or revoked ->
// UNAUTHENTICATED.
Result<auth::Session> Authenticate(const grpc::CallbackServerContext* ctx,
                                   auth::SessionManager& sessions);

// For an RPC that needs no session, before any work: OK, or RESOURCE_EXHAUSTED (reason
// RATE_LIMITED) once one of the caller's buckets is spent (its IPv4 address; its IPv6 /64, /56
// or /48). Logs "rate_limited" at most once per bucket per interval, naming the bucket (an IPv4
// address or an IPv6 prefix). `rpc` names the call in that log event.
grpc::Status AdmitUnauthenticated(const grpc::CallbackServerContext* ctx, RateLimiter& limiter,
                                  std::string_view rpc) noexcept;

}  // namespace kring::server
