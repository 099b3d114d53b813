// Status and Result<T>: expected failures as values. Messages never contain plaintext, keys,
// names or contact details.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kring {

// Numbering is append-only: it is mirrored by the C ABI and the bindings.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kAlreadyExists = 3,
  kPermissionDenied = 4,
  kUnauthenticated = 5,
  kFailedPrecondition = 6,
  kUnavailable = 7,
  kDeadlineExceeded = 8,
  kResourceExhausted = 9,
  kDataLoss = 10,
  kInternal = 11,
  kCancelled = 12,
  kAborted = 13,
  kSecurityAlarm = 14,  // verification failed; an alarm was raised
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // A refusal with a machine-readable reason (kring/common/refusal.h): kringd sends it in the
  // gRPC status details, so clients act on and explain the reason without reading the message.
  Status(StatusCode code, std::string message, std::string_view reason)
      : code_(code), message_(std::move(message)), reason_(reason) {}
  static Status Ok() { return {}; }
  // A failure of the storage layer (kring/common/sqlite.h). Its message carries SQLite's text,
  // which names tables and columns: kringd writes it to its log and answers a client with a
  // fixed message for the code (server/src/service_edge.cpp).
  static Status Storage(StatusCode code, std::string message) {
    Status s(code, std::move(message));
    s.storage_ = true;
    return s;
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The refusal's reason key ("INVITE_USED"), or "" when there is none.
  const std::string& reason() const { return reason_; }
  // Made by Storage: the message is for the server's log, never for a client.
  bool storage() const { return storage_; }
  // The same status with `prefix` before its message: code, reason and storage mark kept (a
  // status rebuilt from code and message would lose the mark and show SQLite's text).
  Status WithContext(std::string_view prefix) const {
    Status s = *this;
    s.message_.insert(0, prefix);
    return s;
  }
  std::string ToString() const;
  // Transient failures are retried with backoff; everything else is surfaced.
  bool transient() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kDeadlineExceeded ||
           code_ == StatusCode::kResourceExhausted;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
  bool storage_ = false;
};

// `reason`: a refusal's key (kring/common/refusal.h), or none.
inline Status InvalidArgument(std::string m, std::string_view reason = {}) {
  return {StatusCode::kInvalidArgument, std::move(m), reason};
}
inline Status NotFound(std::string m, std::string_view reason = {}) {
  return {StatusCode::kNotFound, std::move(m), reason};
}
inline Status FailedPrecondition(std::string m, std::string_view reason = {}) {
  return {StatusCode::kFailedPrecondition, std::move(m), reason};
}
inline Status PermissionDenied(std::string m, std::string_view reason = {}) {
  return {StatusCode::kPermissionDenied, std::move(m), reason};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace kring

#define KRING_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::kring::Status kring_status_ = (expr);        \
    if (!kring_status_.ok()) return kring_status_; \
  } while (false)

#define KRING_CONCAT_INNER(a, b) a##b
#define KRING_CONCAT(a, b) KRING_CONCAT_INNER(a, b)
#define KRING_ASSIGN_OR_RETURN(lhs, expr) \
  KRING_ASSIGN_OR_RETURN_IMPL(KRING_CONCAT(kring_result_, __LINE__), lhs, expr)
#define KRING_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

// Broken invariants abort: they are bugs, not inputs.
#define KRING_CHECK(cond)                                         \
  do {                                                            \
    if (!(cond)) ::kring::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)

namespace kring {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
