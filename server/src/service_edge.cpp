#include "service_edge.h"

#include "kring/common/log.h"
#include "kring/common/refusal.h"

namespace kring::server {

grpc::Status ToGrpc(const Status& s) {
  using grpc::StatusCode;
  StatusCode code = StatusCode::INTERNAL;
  switch (s.code()) {
    case kring::StatusCode::kOk:
      return grpc::Status::OK;
    case kring::StatusCode::kInvalidArgument:
      code = StatusCode::INVALID_ARGUMENT;
      break;
    case kring::StatusCode::kNotFound:
      code = StatusCode::NOT_FOUND;
      break;
    case kring::StatusCode::kAlreadyExists:
      code = StatusCode::ALREADY_EXISTS;
      break;
    case kring::StatusCode::kPermissionDenied:
      code = StatusCode::PERMISSION_DENIED;
      break;
    case kring::StatusCode::kUnauthenticated:
      code = StatusCode::UNAUTHENTICATED;
      break;
    case kring::StatusCode::kFailedPrecondition:
      code = StatusCode::FAILED_PRECONDITION;
      break;
    case kring::StatusCode::kUnavailable:
      code = StatusCode::UNAVAILABLE;
      break;
    case kring::StatusCode::kDeadlineExceeded:
      code = StatusCode::DEADLINE_EXCEEDED;
      break;
    case kring::StatusCode::kResourceExhausted:
      code = StatusCode::RESOURCE_EXHAUSTED;
      break;
    case kring::StatusCode::kCancelled:
      code = StatusCode::CANCELLED;
      break;
    case kring::StatusCode::kAborted:
      code = StatusCode::ABORTED;
      break;
    case kring::StatusCode::kDataLoss:
    case kring::StatusCode::kInternal:
    case kring::StatusCode::kSecurityAlarm:
      // Storage and invariant details stay in the server log.
      log::Error("internal_error", {{"code", std::string(StatusCodeName(s.code()))}});
      return {StatusCode::INTERNAL, "internal error"};
  }
  if (!refusal::IsReasonKey(s.reason())) return {code, s.message()};
  // gRPC's richer error model: google.rpc.Status with one ErrorInfo (refusal.proto).
  return {code, s.message(),
          refusal::EncodeDetails(static_cast<int32_t>(code), s.message(), s.reason())};
}

Result<auth::Session> Authenticate(const grpc::CallbackServerContext* ctx,
                                   auth::SessionManager& sessions) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return Status(kring::StatusCode::kUnauthenticated, "missing session");
  return sessions.Authenticate(std::string_view(it->second.data(), it->second.size()));
}

}  // namespace kring::server
