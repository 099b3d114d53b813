#include "service_edge.h"

#include "kring/common/log.h"

namespace kring::server {

grpc::Status ToGrpc(const Status& s) {
  using grpc::StatusCode;
  switch (s.code()) {
    case kring::StatusCode::kOk:
      return grpc::Status::OK;
    case kring::StatusCode::kInvalidArgument:
      return {StatusCode::INVALID_ARGUMENT, s.message()};
    case kring::StatusCode::kNotFound:
      return {StatusCode::NOT_FOUND, s.message()};
    case kring::StatusCode::kAlreadyExists:
      return {StatusCode::ALREADY_EXISTS, s.message()};
    case kring::StatusCode::kPermissionDenied:
      return {StatusCode::PERMISSION_DENIED, s.message()};
    case kring::StatusCode::kUnauthenticated:
      return {StatusCode::UNAUTHENTICATED, s.message()};
    case kring::StatusCode::kFailedPrecondition:
      return {StatusCode::FAILED_PRECONDITION, s.message()};
    case kring::StatusCode::kUnavailable:
      return {StatusCode::UNAVAILABLE, s.message()};
    case kring::StatusCode::kDeadlineExceeded:
      return {StatusCode::DEADLINE_EXCEEDED, s.message()};
    case kring::StatusCode::kResourceExhausted:
      return {StatusCode::RESOURCE_EXHAUSTED, s.message()};
    case kring::StatusCode::kCancelled:
      return {StatusCode::CANCELLED, s.message()};
    case kring::StatusCode::kAborted:
      return {StatusCode::ABORTED, s.message()};
    case kring::StatusCode::kDataLoss:
    case kring::StatusCode::kInternal:
    case kring::StatusCode::kSecurityAlarm:
      break;
  }
  // Storage and invariant details stay in the server log.
  log::Error("internal_error", {{"code", std::string(StatusCodeName(s.code()))}});
  return {StatusCode::INTERNAL, "internal error"};
}

Result<auth::Session> Authenticate(const grpc::CallbackServerContext* ctx,
                                   auth::SessionManager& sessions) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return Status(kring::StatusCode::kUnauthenticated, "missing session");
  return sessions.Authenticate(std::string_view(it->second.data(), it->second.size()));
}

}  // namespace kring::server
