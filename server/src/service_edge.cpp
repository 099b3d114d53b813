#include "service_edge.h"

#include <exception>

#include "kring/common/log.h"
#include "kring/common/refusal.h"

namespace kring::server {

namespace {

// SQLite's text names tables and columns: it goes to the server log, and the client gets a fixed
// message for the code (the code stays: clients retry UNAVAILABLE).
const char* StorageMessage(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      return "storage unavailable";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "storage conflict";
    default:
      return "storage error";
  }
}

void LogStorageError(const Status& s) {
  log::Write(s.code() == kring::StatusCode::kUnavailable ? log::Level::kWarn : log::Level::kError,
             "storage_error",
             {{"code", std::string(StatusCodeName(s.code()))}, {"detail", s.message()}});
}

}  // namespace

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
      if (s.storage()) {
        LogStorageError(s);
      } else {
        log::Error("internal_error", {{"code", std::string(StatusCodeName(s.code()))}});
      }
      return {StatusCode::INTERNAL, "internal error"};
  }
  if (s.storage()) {
    LogStorageError(s);
    return {code, StorageMessage(code)};
  }
  if (!refusal::IsReasonKey(s.reason())) return {code, s.message()};
  // gRPC's richer error model: google.rpc.Status with one ErrorInfo (refusal.proto).
  return {code, s.message(),
          refusal::EncodeDetails(static_cast<int32_t>(code), s.message(), s.reason())};
}

grpc::Status AdmitUnauthenticated(const grpc::CallbackServerContext* ctx, RateLimiter& limiter,
                                  std::string_view rpc) noexcept {
  if (!limiter.enabled()) return grpc::Status::OK;
  try {
    const PeerKeys keys = KeysOfPeer(ctx->peer());
    const RateLimiter::Verdict verdict = limiter.Admit(keys);
    if (verdict.allowed) return grpc::Status::OK;
    if (verdict.refusals_to_log > 0) {
      // The bucket that refused (an IPv4 address or an IPv6 prefix, never a whole IPv6
      // address) is operational data: which network to look at. Nothing of the request is.
      log::Warn("rate_limited", {{"peer", KeyText(keys.keys[verdict.refused_by])},
                                 {"rpc", std::string(rpc)},
                                 {"refused", verdict.refusals_to_log}});
    }
    return ToGrpc(Status(kring::StatusCode::kResourceExhausted,
                         "too many requests; try again later", refusal::kRateLimited));
  } catch (const std::exception&) {  // out of memory: the handlers call this outside their guard
    return {grpc::StatusCode::INTERNAL, "internal error"};
  }
}

Result<auth::Session> Authenticate(const grpc::CallbackServerContext* ctx,
                                   auth::SessionManager& sessions) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return Status(kring::StatusCode::kUnauthenticated, "missing session");
  return sessions.Authenticate(std::string_view(it->second.data(), it->second.size()));
}

}  // namespace kring::server
