// The gRPC edge: one mapping kring::Status -> grpc::Status, and session authentication from
// call metadata. Server-internal header (services only).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include "kring/common/status.h"

#include "auth/session_manager.h"

namespace kring::server {

grpc::Status ToGrpc(const Status& status);

// Reads "authorization: Bearer <token>". Missing, malformed, unknown, expired or revoked ->
// UNAUTHENTICATED.
Result<auth::Session> Authenticate(const grpc::CallbackServerContext* ctx,
                                   auth::SessionManager& sessions);

}  // namespace kring::server
