// The C ABI over kring::client::Client. Every entry point runs its body through one noexcept
// guard (Guard) that resets out_err, catches everything and maps Status -> kring_status in one
// place (ToCStatus). Callbacks never run under a lock of this file.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kring/abi/v1/alarms.pb.h"
#include "kring/abi/v1/devices.pb.h"
#include "kring/abi/v1/domain.pb.h"
#include "kring/abi/v1/sync.pb.h"
#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/refusal.h"
#include "kring/common/status.h"
#include "kring/common/utf8.h"
#include "kring/domain/messages.h"
#include "kring/kring.h"
#include "kring/transport.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/model.pb.h"

#include "domain_call.h"

namespace {

using kring::Bytes;
using kring::Status;
using kring::StatusCode;

constexpr size_t kIdSize = 16;
constexpr size_t kStorageKeySize = 32;
constexpr size_t kMaxMessageBytes = 128 * 1024;  // CreateCase, ContentOp (as the client checks)
constexpr size_t kMaxValueBytes = 64 * 1024;     // a Value, as the reducer checks
constexpr size_t kMaxStringBytes = 4096;         // names and paths; the client checks tighter
constexpr size_t kMaxScopeMembers = 256;         // ids in one scope (a case is smaller)

// ---- Status mapping: the only place where kring::StatusCode meets kring_status ----

#define KRING_MIRROR(c, k) \
  static_assert(static_cast<int>(StatusCode::c) == static_cast<int>(k), "mirror " #k)
KRING_MIRROR(kOk, KRING_OK);
KRING_MIRROR(kInvalidArgument, KRING_ERR_INVALID_ARGUMENT);
KRING_MIRROR(kNotFound, KRING_ERR_NOT_FOUND);
KRING_MIRROR(kAlreadyExists, KRING_ERR_ALREADY_EXISTS);
KRING_MIRROR(kPermissionDenied, KRING_ERR_PERMISSION_DENIED);
KRING_MIRROR(kUnauthenticated, KRING_ERR_UNAUTHENTICATED);
KRING_MIRROR(kFailedPrecondition, KRING_ERR_FAILED_PRECONDITION);
KRING_MIRROR(kUnavailable, KRING_ERR_UNAVAILABLE);
KRING_MIRROR(kDeadlineExceeded, KRING_ERR_DEADLINE_EXCEEDED);
KRING_MIRROR(kResourceExhausted, KRING_ERR_RESOURCE_EXHAUSTED);
KRING_MIRROR(kDataLoss, KRING_ERR_DATA_LOSS);
KRING_MIRROR(kInternal, KRING_ERR_INTERNAL);
KRING_MIRROR(kCancelled, KRING_ERR_CANCELLED);
KRING_MIRROR(kAborted, KRING_ERR_ABORTED);
KRING_MIRROR(kSecurityAlarm, KRING_ERR_SECURITY_ALARM);
#undef KRING_MIRROR
constexpr int kLastStatus = KRING_ERR_SECURITY_ALARM;

// kring_role mirrors kring.v1.Role; kring_change_kind mirrors ChangeEvent::Kind.
static_assert(static_cast<int>(kring::v1::ROLE_CHAIR) == KRING_ROLE_CHAIR, "mirror chair");
static_assert(static_cast<int>(kring::v1::ROLE_COORDINATOR) == KRING_ROLE_COORDINATOR,
              "mirror coordinator");
static_assert(static_cast<int>(kring::v1::ROLE_MEMBER) == KRING_ROLE_MEMBER, "mirror member");
static_assert(static_cast<int>(kring::client::ChangeEvent::Kind::kRemovedFromCase) ==
                  KRING_CHANGE_REMOVED_FROM_CASE,
              "mirror removed from case");
static_assert(static_cast<int>(kring::client::ChangeEvent::Kind::kCaseDeleted) ==
                  KRING_CHANGE_CASE_DELETED,
              "mirror case deleted");

kring_status ToCStatus(StatusCode code) {
  const int c = static_cast<int>(code);
  // A code appended to StatusCode before this file learns it must not leak as an unknown number.
  if (c < 0 || c > kLastStatus) return KRING_ERR_INTERNAL;
  return static_cast<kring_status>(c);
}

}  // namespace

struct kring_error {
  kring_status code;
  std::string message = {};
  std::string reason = {};  // the server's refusal reason, or ""
  // For a known refusal reason or a message that is a domain key: its user text (else empty).
  std::string text_nl = {};
  std::string text_en = {};
};

namespace {

// ---- Errors, outputs ----

// Fills what an app reads of a failed status. Without memory the error keeps its code and
// whatever was filled: an empty reason or text is "none", never a wrong one.
void FillError(kring_error& error, const Status& status) noexcept {
  try {
    error.message = status.message();
    error.reason = status.reason();
    // Domain calls fail with a key ("referral.no_consent"), server refusals carry a reason key:
    // keep the text the app shows.
    if (kring::domain::HasUserText(status)) {
      error.text_nl = kring::domain::UserText(status, kring::domain::Language::kDutch);
      error.text_en = kring::domain::UserText(status, kring::domain::Language::kEnglish);
    }
  } catch (...) {
    error.text_nl.clear();
    error.text_en.clear();
  }
}

kring_error* NewError(kring_status code, const Status& status) noexcept {
  try {
    auto* error = new kring_error{code};
    FillError(*error, status);
    return error;
  } catch (...) {
    return nullptr;
  }
}

kring_status Report(const Status& status, kring_error** out_err) noexcept {
  const kring_status code = ToCStatus(status.code());
  if (code != KRING_OK && out_err != nullptr) *out_err = NewError(code, status);
  return code;
}

// The one guard around every entry point that can fail.
template <typename F>
kring_status Guard(kring_error** out_err, F&& body) noexcept {
  if (out_err != nullptr) *out_err = nullptr;
  try {
    return Report(body(), out_err);
  } catch (const std::bad_alloc&) {
    return Report(Status(StatusCode::kResourceExhausted, "out of memory"), out_err);
  } catch (...) {
    return Report(Status(StatusCode::kInternal, "internal error in libkring"), out_err);
  }
}

Status Invalid(const char* message) { return {StatusCode::kInvalidArgument, message}; }

void Reset(kring_bytes* out) {
  if (out != nullptr) *out = kring_bytes{nullptr, 0};
}
void Reset(char** out) {
  if (out != nullptr) *out = nullptr;
}

// Library-owned copies; throw std::bad_alloc (caught by Guard) when memory runs out.
void SetBytes(kring_bytes* out, const uint8_t* data, size_t len) {
  if (len == 0) return;
  auto* copy = static_cast<uint8_t*>(std::malloc(len));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, data, len);
  *out = kring_bytes{copy, len};
}
void SetBytes(kring_bytes* out, const Bytes& b) { SetBytes(out, b.data(), b.size()); }
void SetBytes(kring_bytes* out, const std::string& s) {
  SetBytes(out, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
char* CopyString(const std::string& s) {
  auto* copy = static_cast<char*>(std::malloc(s.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, s.c_str(), s.size() + 1);
  return copy;
}
void WipeString(std::string& s) { kring::WipeMemory(s.data(), s.size()); }

// ---- Input checks ----

Status ReadString(const char* s, const char* what, std::string* out) {
  if (s == nullptr) return Invalid(what);
  const size_t n = strnlen(s, kMaxStringBytes + 1);
  if (n > kMaxStringBytes) return Invalid(what);
  if (!kring::utf8::IsValid(std::string_view(s, n))) return Invalid(what);
  out->assign(s, n);
  return {};
}

Status ReadId(const uint8_t* p, size_t len, const char* what, Bytes* out) {
  if (p == nullptr || len != kIdSize) return Invalid(what);
  out->assign(p, p + len);
  return {};
}

Status ReadRole(kring_role role, kring::v1::Role* out) {
  // C callers may pass any int: compare numbers, not enumerators.
  const int r = static_cast<int>(role);
  if (r == KRING_ROLE_CHAIR || r == KRING_ROLE_COORDINATOR || r == KRING_ROLE_MEMBER) {
    *out = static_cast<kring::v1::Role>(r);
    return {};
  }
  return Invalid("role must be KRING_ROLE_CHAIR, KRING_ROLE_COORDINATOR or KRING_ROLE_MEMBER");
}

// Wipes a string that held a secret (an invite link) when the scope ends.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { WipeString(s_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

template <typename Message>
Status ReadMessage(const uint8_t* p, size_t len, size_t max, const char* what, Message* out) {
  if (p == nullptr && len != 0) return Invalid(what);
  if (len > max) return Invalid(what);
  if (len > 0 && !out->ParseFromArray(p, static_cast<int>(len))) return Invalid(what);
  return {};
}

Status ReadMembers(const uint8_t* ids, size_t len, std::vector<Bytes>* out) {
  if (ids == nullptr && len != 0) return Invalid("member_ids is NULL");
  if (len % kIdSize != 0) return Invalid("member_ids must be 16-byte ids concatenated");
  if (len / kIdSize > kMaxScopeMembers) return Invalid("too many member ids");
  for (size_t i = 0; i < len; i += kIdSize) out->emplace_back(ids + i, ids + i + kIdSize);
  return {};
}

// Reads an entry point's C parameters in the order they are listed, the client first. The first
// one that is missing or malformed becomes the call's error (KRING_ERR_INVALID_ARGUMENT with that
// parameter's message) and nothing after it is read, so each entry point lists what it takes in
// one statement and then reads as its own logic:
//   KRING_RETURN_IF_ERROR(Params(client).Out(out_x, "out_x is required").Case(id, len, &cid)
//                             .status());
class Params {
 public:
  explicit Params(const kring_client* client)
      : status_(client == nullptr ? Invalid("client is required") : Status()) {}

  // Any other condition on the parameters, e.g. several outputs that are all required.
  Params& Require(bool ok, const char* what) {
    if (status_.ok() && !ok) status_ = Invalid(what);
    return *this;
  }
  // A required output (already reset by the entry point).
  Params& Out(const void* out, const char* what) { return Require(out != nullptr, what); }
  Params& Id(const uint8_t* p, size_t len, const char* what, Bytes* out) {
    if (status_.ok()) status_ = ReadId(p, len, what, out);
    return *this;
  }
  Params& Case(const uint8_t* p, size_t len, Bytes* out) {
    return Id(p, len, "case id must be 16 bytes", out);
  }
  Params& Entity(const uint8_t* p, size_t len, Bytes* out) {
    return Id(p, len, "entity id must be 16 bytes", out);
  }
  Params& Text(const char* s, const char* what, std::string* out) {
    if (status_.ok()) status_ = ReadString(s, what, out);
    return *this;
  }
  // "nl" or "en": the language of a sentence the library returns.
  Params& Language(const char* lang, std::string* out) {
    static constexpr char kWhat[] = "lang must be \"nl\" or \"en\"";
    Text(lang, kWhat, out);
    return Require(*out == "nl" || *out == "en", kWhat);
  }
  Params& Role(kring_role role, kring::v1::Role* out) {
    if (status_.ok()) status_ = ReadRole(role, out);
    return *this;
  }
  template <typename Message>
  Params& Proto(const uint8_t* p, size_t len, size_t max, const char* what, Message* out) {
    if (status_.ok()) status_ = ReadMessage(p, len, max, what, out);
    return *this;
  }
  Params& Members(const uint8_t* ids, size_t len, std::vector<Bytes>* out) {
    if (status_.ok()) status_ = ReadMembers(ids, len, out);
    return *this;
  }

  const Status& status() const { return status_; }

 private:
  Status status_;
};

// ---- Callbacks ----

// How deep the current thread is inside callbacks of this library (any client).
thread_local int tls_callback_depth = 0;

struct CallbackScope {
  CallbackScope() { ++tls_callback_depth; }
  ~CallbackScope() { --tls_callback_depth; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
};

// One registered change listener. Shared by the C++ listener (which may be copied by the
// client while it notifies) and the client's token map; free_user_data runs exactly once, after
// the last call of the listener has returned.
struct Listener {
  kring_change_fn fn = nullptr;              // one of fn and event_fn
  kring_change_event_fn event_fn = nullptr;  // ABI 6
  void* user_data = nullptr;
  kring_free_fn free_fn = nullptr;
  int cpp_token = 0;

  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;
  bool removed = false;
  bool free_when_idle = false;
  std::atomic<bool> freed{false};

  void Free() noexcept {
    if (freed.exchange(true)) return;
    if (free_fn != nullptr) free_fn(user_data);
  }

  void Call(const kring::client::ChangeEvent& event) noexcept {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (removed) return;
      ++in_flight;
    }
    // kring_change_kind mirrors ChangeEvent::Kind number for number; kinds the C++ client appends
    // pass through with their number (listeners ignore kinds they do not know, see kring.h).
    kring_change_kind kind = KRING_CHANGE_CASE_CHANGED;
    switch (event.kind) {
      case kring::client::ChangeEvent::Kind::kCaseChanged:
        kind = KRING_CHANGE_CASE_CHANGED;
        break;
      case kring::client::ChangeEvent::Kind::kAlarm:
        kind = KRING_CHANGE_ALARM;
        break;
      case kring::client::ChangeEvent::Kind::kIntentRejected:
        kind = KRING_CHANGE_INTENT_REJECTED;
        break;
      case kring::client::ChangeEvent::Kind::kRemovedFromCase:
        kind = KRING_CHANGE_REMOVED_FROM_CASE;
        break;
      case kring::client::ChangeEvent::Kind::kCaseDeleted:
        kind = KRING_CHANGE_CASE_DELETED;
        break;
      default:
        kind = static_cast<kring_change_kind>(static_cast<int>(event.kind));
        break;
    }
    if (fn != nullptr) {
      CallbackScope scope;
      fn(user_data, kind, event.case_id.empty() ? nullptr : event.case_id.data(),
         event.case_id.size(), event.detail.c_str());
    } else {
      CallEventFn(kind, event);
    }
    bool free_now = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (--in_flight == 0) {
        free_now = free_when_idle;
        free_when_idle = false;
        idle.notify_all();
      }
    }
    if (free_now) Free();
  }

  void CallEventFn(kring_change_kind kind, const kring::client::ChangeEvent& event) noexcept {
    std::string nl;
    std::string en;
    try {
      if (const std::string key = kring::refusal::TextKey(event.reason);
          !event.reason.empty() && kring::domain::HasUserText(key)) {
        nl = kring::domain::UserText(key, kring::domain::Language::kDutch);
        en = kring::domain::UserText(key, kring::domain::Language::kEnglish);
      }
    } catch (...) {  // without memory: no text, the event still goes out
      nl.clear();
      en.clear();
    }
    const kring_change_event e{sizeof(kring_change_event),
                               kind,
                               event.case_id.empty() ? nullptr : event.case_id.data(),
                               event.case_id.size(),
                               event.detail.c_str(),
                               event.reason.c_str(),
                               nl.c_str(),
                               en.c_str(),
                               kind == KRING_CHANGE_INTENT_REJECTED ? event.count : 0};
    CallbackScope scope;
    event_fn(user_data, &e);
  }

  // Stops further calls; frees now, or when the running calls return if this thread is itself
  // inside a callback (waiting there could deadlock).
  void Release() noexcept {
    std::unique_lock<std::mutex> lock(mu);
    removed = true;
    if (in_flight > 0 && tls_callback_depth > 0) {
      free_when_idle = true;
      return;
    }
    idle.wait(lock, [&] { return in_flight == 0; });
    lock.unlock();
    Free();
  }
};

struct AsyncJob {
  kring_completion_fn fn;
  void* user_data;
  Bytes case_id;  // kring_client_sync_case_async: that case only; empty: a full sync
};

void Complete(const AsyncJob& job, const Status& status) noexcept {
  kring_error error{ToCStatus(status.code())};
  FillError(error, status);
  CallbackScope scope;
  job.fn(job.user_data, error.code, error.code == KRING_OK ? nullptr : &error);
}

Status SyncStatus(kring::client::Client& client, const Bytes& case_id) {
  if (tls_callback_depth > 0) {
    return {StatusCode::kFailedPrecondition, "sync_now cannot be called from a callback"};
  }
  return case_id.empty() ? client.SyncNow().status() : client.SyncCase(case_id).status();
}

}  // namespace

struct kring_client {
  std::unique_ptr<kring::client::Client> client;

  std::mutex mu;  // everything below
  std::map<uint64_t, std::shared_ptr<Listener>> listeners;
  uint64_t next_token = 1;
  std::deque<AsyncJob> jobs;
  std::condition_variable jobs_cv;
  bool closing = false;
  std::thread callback_thread;

  void RunJobs() noexcept {
    for (;;) {
      AsyncJob job{};
      bool cancelled = false;
      {
        std::unique_lock<std::mutex> lock(mu);
        jobs_cv.wait(lock, [&] { return closing || !jobs.empty(); });
        if (jobs.empty()) return;
        job = jobs.front();
        jobs.pop_front();
        cancelled = closing;
      }
      if (cancelled) {
        Complete(job, Status(StatusCode::kCancelled, "client closed"));
        continue;
      }
      Status status;
      try {
        status = SyncStatus(*client, job.case_id);
      } catch (const std::bad_alloc&) {
        status = Status(StatusCode::kResourceExhausted, "out of memory");
      } catch (...) {
        status = Status(StatusCode::kInternal, "internal error in libkring");
      }
      Complete(job, status);
    }
  }

  void CloseNow() noexcept {
    std::thread worker;
    {
      std::lock_guard<std::mutex> lock(mu);
      closing = true;
      worker = std::move(callback_thread);
    }
    jobs_cv.notify_all();
    if (worker.joinable()) worker.join();  // finishes the running job, cancels the queued ones
    client.reset();                        // stops and joins the sync worker: no more callbacks
    std::map<uint64_t, std::shared_ptr<Listener>> left;
    {
      std::lock_guard<std::mutex> lock(mu);
      left.swap(listeners);
    }
    for (auto& [token, l] : left) l->Release();
  }
};

// ---- Library information ----

// The event struct's layout is ABI: fields are only ever appended (kring.h).
static_assert(offsetof(kring_change_event, size) == 0);
static_assert(offsetof(kring_change_event, kind) == sizeof(size_t));
static_assert(offsetof(kring_change_event, case_id) == 2 * sizeof(void*));
static_assert(offsetof(kring_change_event, case_id_len) == 3 * sizeof(void*));
static_assert(offsetof(kring_change_event, detail) == 4 * sizeof(void*));
static_assert(offsetof(kring_change_event, reason) == 5 * sizeof(void*));
static_assert(offsetof(kring_change_event, text_nl) == 6 * sizeof(void*));
static_assert(offsetof(kring_change_event, text_en) == 7 * sizeof(void*));
static_assert(offsetof(kring_change_event, count) == 8 * sizeof(void*));
static_assert(sizeof(kring_change_event) == 9 * sizeof(void*));

namespace {

// Both listener kinds: `set` puts the callback into the new Listener.
template <typename Set>
kring_status AddListener(kring_client* client, bool given, Set set, void* user_data,
                         kring_free_fn free_user_data, uint64_t* out_token,
                         kring_error** out_err) noexcept {
  if (out_token != nullptr) *out_token = 0;
  std::shared_ptr<Listener> created;
  bool registered = false;
  kring_status status = Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client)
                              .Require(given, "listener is required")
                              .Out(out_token, "out_token is required")
                              .status());
    created = std::make_shared<Listener>();
    set(*created);
    created->user_data = user_data;
    created->free_fn = free_user_data;
    std::lock_guard<std::mutex> lock(client->mu);
    std::shared_ptr<Listener> l = created;
    l->cpp_token = client->client->AddChangeListener(
        [l](const kring::client::ChangeEvent& event) { l->Call(event); });
    try {
      const uint64_t token = client->next_token++;
      client->listeners.emplace(token, l);
      registered = true;
      *out_token = token;
    } catch (...) {
      client->client->RemoveChangeListener(l->cpp_token);
      throw;
    }
    return {};
  });
  if (!registered) {
    // Ownership of user_data passed to us either way: release it exactly once.
    if (created != nullptr) {
      created->Release();
    } else if (free_user_data != nullptr) {
      free_user_data(user_data);
    }
  }
  return status;
}

}  // namespace

extern "C" {

uint32_t kring_abi_version(void) noexcept { return KRING_ABI_VERSION; }

size_t kring_id_size(void) noexcept { return kIdSize; }

size_t kring_storage_key_size(void) noexcept { return kStorageKeySize; }

const char* kring_status_name(kring_status status) noexcept {
  switch (status) {
    case KRING_OK:
      return "OK";
    case KRING_ERR_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case KRING_ERR_NOT_FOUND:
      return "NOT_FOUND";
    case KRING_ERR_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case KRING_ERR_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case KRING_ERR_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case KRING_ERR_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case KRING_ERR_UNAVAILABLE:
      return "UNAVAILABLE";
    case KRING_ERR_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case KRING_ERR_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case KRING_ERR_DATA_LOSS:
      return "DATA_LOSS";
    case KRING_ERR_INTERNAL:
      return "INTERNAL";
    case KRING_ERR_CANCELLED:
      return "CANCELLED";
    case KRING_ERR_ABORTED:
      return "ABORTED";
    case KRING_ERR_SECURITY_ALARM:
      return "SECURITY_ALARM";
  }
  return "UNKNOWN";
}

// ---- Errors and buffers ----

kring_status kring_error_code(const kring_error* error) noexcept {
  return error == nullptr ? KRING_ERR_INVALID_ARGUMENT : error->code;
}

const char* kring_error_message(const kring_error* error) noexcept {
  return error == nullptr ? "" : error->message.c_str();
}

const char* kring_error_user_text(const kring_error* error, const char* lang) noexcept {
  if (error == nullptr || lang == nullptr) return "";
  if (std::strcmp(lang, "nl") == 0) return error->text_nl.c_str();
  if (std::strcmp(lang, "en") == 0) return error->text_en.c_str();
  return "";
}

const char* kring_error_reason(const kring_error* error) noexcept {
  return error == nullptr ? "" : error->reason.c_str();
}

void kring_error_free(kring_error* error) noexcept { delete error; }

void kring_bytes_free(kring_bytes* bytes) noexcept {
  if (bytes == nullptr) return;
  if (bytes->data != nullptr) {
    kring::WipeMemory(bytes->data, bytes->len);
    std::free(bytes->data);
  }
  *bytes = kring_bytes{nullptr, 0};
}

void kring_string_free(char* str) noexcept {
  if (str == nullptr) return;
  kring::WipeMemory(str, std::strlen(str));
  std::free(str);
}

// ---- Client lifetime ----

kring_status kring_client_open(uint32_t abi_version, const char* db_path,
                               const uint8_t* storage_key, size_t storage_key_len,
                               const char* server_address, const char* tls_root_certs,
                               int background_sync, kring_client** out_client,
                               kring_error** out_err) noexcept {
  if (out_client != nullptr) *out_client = nullptr;
  return Guard(out_err, [&]() -> Status {
    if (out_client == nullptr) return Invalid("out_client is required");
    if (abi_version == 0 || abi_version > KRING_ABI_VERSION) {
      return {StatusCode::kFailedPrecondition,
              "caller was built for ABI version " + std::to_string(abi_version) +
                  ", this libkring provides " + std::to_string(KRING_ABI_VERSION)};
    }
    kring::client::ClientOptions options;
    KRING_RETURN_IF_ERROR(ReadString(db_path, "db_path must be a UTF-8 path", &options.db_path));
    if (options.db_path.empty()) return Invalid("db_path must not be empty");
    if (storage_key == nullptr || storage_key_len != kStorageKeySize) {
      return Invalid("storage key must be 32 bytes");
    }
    options.storage_key.assign(storage_key, storage_key + storage_key_len);
    if (server_address != nullptr) {
      std::string address;
      KRING_RETURN_IF_ERROR(ReadString(server_address, "server_address is not valid", &address));
      if (address.empty()) return Invalid("server_address must not be empty");
      kring::client::GrpcTransportOptions topts;
      if (tls_root_certs != nullptr) topts.tls_root_certs = tls_root_certs;
      options.transport = kring::client::MakeGrpcTransport(address, topts);
    }
    options.background_sync = background_sync != 0;
    auto opened = kring::client::Client::Open(std::move(options));
    if (!opened.ok()) return opened.status();
    auto c = std::make_unique<kring_client>();
    c->client = std::move(opened).value();
    *out_client = c.release();
    return {};
  });
}

void kring_client_close(kring_client* client) noexcept {
  if (client == nullptr) return;
  if (tls_callback_depth > 0) {
    // Inside one of this client's callbacks the threads to join include this one: finish the
    // close elsewhere once the callback has returned.
    try {
      std::thread([client] {
        client->CloseNow();
        delete client;
      }).detach();
      return;
    } catch (...) {
      std::abort();  // cannot close safely and must not leak a running client
    }
  }
  client->CloseNow();
  delete client;
}

// ---- Account ----

kring_status kring_client_create_account(kring_client* client, kring_bytes* out_account_id,
                                         char** out_safety_number, char** out_recovery_key,
                                         kring_error** out_err) noexcept {
  Reset(out_account_id);
  Reset(out_safety_number);
  Reset(out_recovery_key);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client)
                              .Require(out_account_id != nullptr && out_safety_number != nullptr &&
                                           out_recovery_key != nullptr,
                                       "outputs are required")
                              .status());
    auto created = client->client->CreateAccount();
    if (!created.ok()) return created.status();
    kring::client::NewAccount& a = created.value();
    struct Wipe {
      std::string& s;
      ~Wipe() { WipeString(s); }
    } wipe{a.recovery_key};
    char* safety = CopyString(a.info.safety_number);
    char* recovery = nullptr;
    try {
      recovery = CopyString(a.recovery_key);
      SetBytes(out_account_id, a.info.account_id);
    } catch (...) {
      kring_string_free(safety);
      kring_string_free(recovery);
      throw;
    }
    *out_safety_number = safety;
    *out_recovery_key = recovery;
    return {};
  });
}

kring_status kring_client_account(kring_client* client, kring_bytes* out_account_id,
                                  kring_bytes* out_device_id, char** out_safety_number,
                                  kring_error** out_err) noexcept {
  Reset(out_account_id);
  Reset(out_device_id);
  Reset(out_safety_number);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client)
                              .Require(out_account_id != nullptr && out_device_id != nullptr &&
                                           out_safety_number != nullptr,
                                       "outputs are required")
                              .status());
    auto info = client->client->Account();
    if (!info.ok()) return info.status();
    kring_bytes account{nullptr, 0};
    kring_bytes device{nullptr, 0};
    try {
      SetBytes(&account, info->account_id);
      SetBytes(&device, info->device_id);
      *out_safety_number = CopyString(info->safety_number);
    } catch (...) {
      kring_bytes_free(&account);
      kring_bytes_free(&device);
      throw;
    }
    *out_account_id = account;
    *out_device_id = device;
    return {};
  });
}

kring_status kring_client_safety_number_of(kring_client* client, const uint8_t* account_id,
                                           size_t account_id_len, char** out_safety_number,
                                           kring_error** out_err) noexcept {
  Reset(out_safety_number);
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_safety_number, "out_safety_number is required")
                              .Id(account_id, account_id_len, "account id must be 16 bytes", &id)
                              .status());
    auto number = client->client->SafetyNumberOf(id);
    if (!number.ok()) return number.status();
    *out_safety_number = CopyString(number.value());
    return {};
  });
}

// ---- Cases ----

namespace {

// history: -1 = take CreateCase.newcomers_read_history as it is; 0 / 1 = the caller's argument,
// which the message must not contradict.
kring_status CreateCaseImpl(kring_client* client, const uint8_t* create_case,
                            size_t create_case_len, int history, kring_bytes* out_case_id,
                            kring_error** out_err) noexcept {
  Reset(out_case_id);
  return Guard(out_err, [&]() -> Status {
    kring::v1::CreateCase request;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_case_id, "out_case_id is required")
                              .Proto(create_case, create_case_len, kMaxMessageBytes,
                                     "create_case is not a kring.v1.CreateCase", &request)
                              .status());
    if (history == 0 && request.newcomers_read_history()) {
      return Invalid("create_case.newcomers_read_history contradicts the argument");
    }
    const bool read_history = history == 1 || request.newcomers_read_history();
    std::vector<kring::client::MemberSpec> members;
    members.reserve(static_cast<size_t>(request.members_size()));
    for (const auto& m : request.members()) {
      members.push_back({kring::ToBytes(m.account_id()), m.role()});
    }
    auto case_id = client->client->CreateCase(members, read_history);
    if (!case_id.ok()) return case_id.status();
    SetBytes(out_case_id, case_id.value());
    return {};
  });
}

}  // namespace

kring_status kring_client_create_case(kring_client* client, const uint8_t* create_case,
                                      size_t create_case_len, kring_bytes* out_case_id,
                                      kring_error** out_err) noexcept {
  return CreateCaseImpl(client, create_case, create_case_len, -1, out_case_id, out_err);
}

kring_status kring_client_cases(kring_client* client, kring_bytes* out_case_ids,
                                kring_error** out_err) noexcept {
  Reset(out_case_ids);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client).Out(out_case_ids, "out_case_ids is required").status());
    Bytes all;
    for (const Bytes& id : client->client->Cases()) all.insert(all.end(), id.begin(), id.end());
    SetBytes(out_case_ids, all);
    return {};
  });
}

// ---- Membership and invitations ----

kring_status kring_client_create_case_with_history(kring_client* client, const uint8_t* create_case,
                                                   size_t create_case_len,
                                                   int newcomers_read_history,
                                                   kring_bytes* out_case_id,
                                                   kring_error** out_err) noexcept {
  return CreateCaseImpl(client, create_case, create_case_len, newcomers_read_history != 0 ? 1 : 0,
                        out_case_id, out_err);
}

kring_status kring_client_add_member(kring_client* client, const uint8_t* case_id,
                                     size_t case_id_len, const uint8_t* account_id,
                                     size_t account_id_len, kring_role role,
                                     kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    kring::client::MemberSpec member;
    KRING_RETURN_IF_ERROR(
        Params(client)
            .Case(case_id, case_id_len, &cid)
            .Id(account_id, account_id_len, "account id must be 16 bytes", &member.account_id)
            .Role(role, &member.role)
            .status());
    return client->client->AddMember(cid, member);
  });
}

kring_status kring_client_remove_member(kring_client* client, const uint8_t* case_id,
                                        size_t case_id_len, const uint8_t* account_id,
                                        size_t account_id_len, const char* lang, char** out_notice,
                                        kring_error** out_err) noexcept {
  Reset(out_notice);
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes aid;
    std::string language;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_notice, "out_notice is required")
                              .Case(case_id, case_id_len, &cid)
                              .Id(account_id, account_id_len, "account id must be 16 bytes", &aid)
                              .Language(lang, &language)
                              .status());
    auto notice = client->client->RemoveMember(cid, aid);
    if (!notice.ok()) return notice.status();
    // The removal is queued: from here on only copying the sentence can fail (out of memory).
    *out_notice = CopyString(language == "nl" ? notice->nl : notice->en);
    return {};
  });
}

kring_status kring_client_create_invite(kring_client* client, const uint8_t* case_id,
                                        size_t case_id_len, kring_role role,
                                        int64_t valid_for_seconds, kring_bytes* out_invite_id,
                                        char** out_link, char** out_qr_text,
                                        kring_error** out_err) noexcept {
  Reset(out_invite_id);
  Reset(out_link);
  Reset(out_qr_text);
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    kring::v1::Role r = kring::v1::ROLE_UNSPECIFIED;
    KRING_RETURN_IF_ERROR(
        Params(client)
            .Require(out_invite_id != nullptr && out_link != nullptr && out_qr_text != nullptr,
                     "outputs are required")
            .Case(case_id, case_id_len, &cid)
            .Role(role, &r)
            .status());
    auto created = client->client->CreateInvite(cid, r, valid_for_seconds);
    if (!created.ok()) return created.status();
    kring::client::Invitation& invitation = created.value();
    WipeOnExit wipe_link{invitation.link};
    WipeOnExit wipe_qr{invitation.qr_text};
    kring_bytes id{nullptr, 0};
    char* link = nullptr;
    try {
      SetBytes(&id, invitation.invite_id);
      link = CopyString(invitation.link);
      *out_qr_text = CopyString(invitation.qr_text);
    } catch (...) {
      kring_bytes_free(&id);
      kring_string_free(link);
      throw;
    }
    *out_invite_id = id;
    *out_link = link;
    return {};
  });
}

kring_status kring_client_revoke_invite(kring_client* client, const uint8_t* case_id,
                                        size_t case_id_len, const uint8_t* invite_id,
                                        size_t invite_id_len, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes iid;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &cid)
                              .Id(invite_id, invite_id_len, "invite id must be 16 bytes", &iid)
                              .status());
    return client->client->RevokeInvite(cid, iid);
  });
}

kring_status kring_client_accept_invite(kring_client* client, const char* link,
                                        kring_bytes* out_case_id, kring_error** out_err) noexcept {
  Reset(out_case_id);
  return Guard(out_err, [&]() -> Status {
    std::string text;
    WipeOnExit wipe{text};  // holds the invite secret
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_case_id, "out_case_id is required")
                              .Text(link, "link must be UTF-8", &text)
                              .status());
    auto case_id = client->client->AcceptInvite(text);
    if (!case_id.ok()) return case_id.status();
    SetBytes(out_case_id, case_id.value());
    return {};
  });
}

namespace {

kring_status DecideImpl(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                        const uint8_t* account_id, size_t account_id_len, bool approve,
                        kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes aid;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &cid)
                              .Id(account_id, account_id_len, "account id must be 16 bytes", &aid)
                              .status());
    return approve ? client->client->ApproveMember(cid, aid)
                   : client->client->DeclineMember(cid, aid);
  });
}

}  // namespace

kring_status kring_client_approve_member(kring_client* client, const uint8_t* case_id,
                                         size_t case_id_len, const uint8_t* account_id,
                                         size_t account_id_len, kring_error** out_err) noexcept {
  return DecideImpl(client, case_id, case_id_len, account_id, account_id_len, true, out_err);
}

kring_status kring_client_decline_member(kring_client* client, const uint8_t* case_id,
                                         size_t case_id_len, const uint8_t* account_id,
                                         size_t account_id_len, kring_error** out_err) noexcept {
  return DecideImpl(client, case_id, case_id_len, account_id, account_id_len, false, out_err);
}

kring_status kring_client_set_role(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                                   const uint8_t* account_id, size_t account_id_len,
                                   kring_role role, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes aid;
    kring::v1::Role r = kring::v1::ROLE_UNSPECIFIED;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &cid)
                              .Id(account_id, account_id_len, "account id must be 16 bytes", &aid)
                              .Role(role, &r)
                              .status());
    return client->client->SetRole(cid, aid, r);
  });
}

kring_status kring_client_leave_case(kring_client* client, const uint8_t* case_id,
                                     size_t case_id_len, const char* lang, char** out_notice,
                                     kring_error** out_err) noexcept {
  Reset(out_notice);
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    std::string language;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_notice, "out_notice is required")
                              .Case(case_id, case_id_len, &cid)
                              .Language(lang, &language)
                              .status());
    auto notice = client->client->LeaveCase(cid);
    if (!notice.ok()) return notice.status();
    // The leave is queued: from here on only copying the sentence can fail (out of memory).
    *out_notice = CopyString(language == "nl" ? notice->nl : notice->en);
    return {};
  });
}

kring_status kring_client_epoch_fingerprint(kring_client* client, const uint8_t* case_id,
                                            size_t case_id_len, char** out_text,
                                            kring_error** out_err) noexcept {
  Reset(out_text);
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_text, "out_text is required")
                              .Case(case_id, case_id_len, &cid)
                              .status());
    auto text = client->client->EpochFingerprint(cid);
    if (!text.ok()) return text.status();
    *out_text = CopyString(text.value());
    return {};
  });
}

// ---- Devices ----

kring_status kring_client_request_device_link(kring_client* client, char** out_payload,
                                              char** out_code, kring_error** out_err) noexcept {
  Reset(out_payload);
  Reset(out_code);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(
        Params(client)
            .Require(out_payload != nullptr && out_code != nullptr, "outputs are required")
            .status());
    auto request = client->client->RequestDeviceLink();
    if (!request.ok()) return request.status();
    char* payload = CopyString(request->payload);
    try {
      *out_code = CopyString(request->code);
    } catch (...) {
      kring_string_free(payload);
      throw;
    }
    *out_payload = payload;
    return {};
  });
}

kring_status kring_client_approve_device_link(kring_client* client, const char* payload,
                                              const char* code, char** out_approval,
                                              kring_error** out_err) noexcept {
  Reset(out_approval);
  return Guard(out_err, [&]() -> Status {
    std::string payload_text, code_text;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_approval, "out_approval is required")
                              .Text(payload, "payload must be UTF-8", &payload_text)
                              .Text(code, "code must be UTF-8", &code_text)
                              .status());
    auto approval = client->client->ApproveDeviceLink(payload_text, code_text);
    if (!approval.ok()) return approval.status();
    *out_approval = CopyString(approval.value());
    return {};
  });
}

namespace {

// The account a device now belongs to (finishing a link, restoring), as the two outputs.
Status AccountOutputs(const kring::client::AccountInfo& info, kring_bytes* out_account_id,
                      char** out_safety_number) {
  char* safety = CopyString(info.safety_number);
  try {
    SetBytes(out_account_id, info.account_id);
  } catch (...) {
    kring_string_free(safety);
    throw;
  }
  *out_safety_number = safety;
  return {};
}

}  // namespace

kring_status kring_client_finish_device_link(kring_client* client, const char* approval,
                                             kring_bytes* out_account_id, char** out_safety_number,
                                             kring_error** out_err) noexcept {
  Reset(out_account_id);
  Reset(out_safety_number);
  return Guard(out_err, [&]() -> Status {
    std::string text;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Require(out_account_id != nullptr && out_safety_number != nullptr,
                                       "outputs are required")
                              .Text(approval, "approval must be UTF-8", &text)
                              .status());
    auto info = client->client->FinishDeviceLink(text);
    if (!info.ok()) return info.status();
    return AccountOutputs(info.value(), out_account_id, out_safety_number);
  });
}

kring_status kring_client_devices(kring_client* client, kring_bytes* out_devices,
                                  kring_error** out_err) noexcept {
  Reset(out_devices);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client).Out(out_devices, "out_devices is required").status());
    auto devices = client->client->Devices();
    if (!devices.ok()) return devices.status();
    kring::abi::v1::DeviceList list;
    for (const kring::client::DeviceInfo& d : devices.value()) {
      kring::abi::v1::Device* out = list.add_devices();
      out->set_device_id(kring::ToString(d.device_id));
      out->set_added_at(d.added_at);
      out->set_revoked(d.revoked);
      out->set_this_device(d.this_device);
    }
    SetBytes(out_devices, list.SerializeAsString());
    return {};
  });
}

kring_status kring_client_revoke_device(kring_client* client, const uint8_t* device_id,
                                        size_t device_id_len, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(
        Params(client).Id(device_id, device_id_len, "device id must be 16 bytes", &id).status());
    return client->client->RevokeDevice(id);
  });
}

kring_status kring_client_restore_account(kring_client* client, const char* recovery_key,
                                          const uint8_t* account_id, size_t account_id_len,
                                          kring_bytes* out_account_id, char** out_safety_number,
                                          kring_error** out_err) noexcept {
  Reset(out_account_id);
  Reset(out_safety_number);
  return Guard(out_err, [&]() -> Status {
    std::string text;
    WipeOnExit wipe{text};  // the recovery key
    Bytes expected;
    Params params(client);
    params
        .Require(out_account_id != nullptr && out_safety_number != nullptr, "outputs are required")
        .Text(recovery_key, "recovery_key must be UTF-8", &text);
    // The expected account is optional: NULL with length 0.
    if (account_id != nullptr || account_id_len != 0) {
      params.Id(account_id, account_id_len, "account id must be 16 bytes or NULL", &expected);
    }
    KRING_RETURN_IF_ERROR(params.status());
    auto info = client->client->RestoreAccount(text, expected);
    if (!info.ok()) return info.status();
    return AccountOutputs(info.value(), out_account_id, out_safety_number);
  });
}

// ---- Edits ----

namespace {

kring_status SubmitImpl(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                        const uint8_t* content_op, size_t content_op_len, uint32_t scope_id,
                        kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    kring::v1::ContentOp op;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &id)
                              .Proto(content_op, content_op_len, kMaxMessageBytes,
                                     "content_op is not a kring.v1.ContentOp", &op)
                              .status());
    if (op.version() != 1) return Invalid("content_op version must be 1");
    std::vector<kring::v1::Mutation> mutations(op.mutations().begin(), op.mutations().end());
    return client->client->Submit(id, mutations, scope_id);
  });
}

kring_status CreateEntityImpl(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                              const char* type, uint32_t scope_id, kring_bytes* out_entity_id,
                              kring_error** out_err) noexcept {
  Reset(out_entity_id);
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    std::string t;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_entity_id, "out_entity_id is required")
                              .Case(case_id, case_id_len, &id)
                              .Text(type, "type must be UTF-8", &t)
                              .status());
    auto entity = client->client->CreateEntity(id, t, scope_id);
    if (!entity.ok()) return entity.status();
    SetBytes(out_entity_id, entity.value());
    return {};
  });
}

}  // namespace

kring_status kring_client_submit(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                                 const uint8_t* content_op, size_t content_op_len,
                                 kring_error** out_err) noexcept {
  return SubmitImpl(client, case_id, case_id_len, content_op, content_op_len, 0, out_err);
}

kring_status kring_client_create_entity(kring_client* client, const uint8_t* case_id,
                                        size_t case_id_len, const char* type,
                                        kring_bytes* out_entity_id,
                                        kring_error** out_err) noexcept {
  return CreateEntityImpl(client, case_id, case_id_len, type, 0, out_entity_id, out_err);
}

kring_status kring_client_set_field(kring_client* client, const uint8_t* case_id,
                                    size_t case_id_len, const uint8_t* entity_id,
                                    size_t entity_id_len, const char* field, const uint8_t* value,
                                    size_t value_len, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes eid;
    std::string f;
    kring::v1::Value v;
    KRING_RETURN_IF_ERROR(
        Params(client)
            .Case(case_id, case_id_len, &cid)
            .Entity(entity_id, entity_id_len, &eid)
            .Text(field, "field must be UTF-8", &f)
            .Proto(value, value_len, kMaxValueBytes, "value is not a kring.v1.Value", &v)
            .status());
    return client->client->SetField(cid, eid, f, v);
  });
}

kring_status kring_client_add_to_set(kring_client* client, const uint8_t* case_id,
                                     size_t case_id_len, const uint8_t* entity_id,
                                     size_t entity_id_len, const char* set, const uint8_t* value,
                                     size_t value_len, kring_bytes* out_element_id,
                                     kring_error** out_err) noexcept {
  Reset(out_element_id);
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes eid;
    std::string s;
    kring::v1::Value v;
    KRING_RETURN_IF_ERROR(
        Params(client)
            .Out(out_element_id, "out_element_id is required")
            .Case(case_id, case_id_len, &cid)
            .Entity(entity_id, entity_id_len, &eid)
            .Text(set, "set must be UTF-8", &s)
            .Proto(value, value_len, kMaxValueBytes, "value is not a kring.v1.Value", &v)
            .status());
    auto element = client->client->AddToSet(cid, eid, s, v);
    if (!element.ok()) return element.status();
    SetBytes(out_element_id, element.value());
    return {};
  });
}

kring_status kring_client_remove_from_set(kring_client* client, const uint8_t* case_id,
                                          size_t case_id_len, const uint8_t* entity_id,
                                          size_t entity_id_len, const char* set,
                                          const uint8_t* element_id, size_t element_id_len,
                                          kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes eid;
    Bytes elid;
    std::string s;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &cid)
                              .Entity(entity_id, entity_id_len, &eid)
                              .Text(set, "set must be UTF-8", &s)
                              .Id(element_id, element_id_len, "element id must be 16 bytes", &elid)
                              .status());
    return client->client->RemoveFromSet(cid, eid, s, elid);
  });
}

kring_status kring_client_delete_entity(kring_client* client, const uint8_t* case_id,
                                        size_t case_id_len, const uint8_t* entity_id,
                                        size_t entity_id_len, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes eid;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &cid)
                              .Entity(entity_id, entity_id_len, &eid)
                              .status());
    return client->client->DeleteEntity(cid, eid);
  });
}

kring_status kring_client_restore_entity(kring_client* client, const uint8_t* case_id,
                                         size_t case_id_len, const uint8_t* entity_id,
                                         size_t entity_id_len, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes eid;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &cid)
                              .Entity(entity_id, entity_id_len, &eid)
                              .status());
    return client->client->RestoreEntity(cid, eid);
  });
}

// ---- Restricted scopes ----

kring_status kring_client_create_scope(kring_client* client, const uint8_t* case_id,
                                       size_t case_id_len, const uint8_t* member_ids,
                                       size_t member_ids_len, uint32_t* out_scope_id,
                                       kring_error** out_err) noexcept {
  if (out_scope_id != nullptr) *out_scope_id = 0;
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    std::vector<Bytes> members;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_scope_id, "out_scope_id is required")
                              .Case(case_id, case_id_len, &cid)
                              .Members(member_ids, member_ids_len, &members)
                              .status());
    auto scope = client->client->CreateScope(cid, members);
    if (!scope.ok()) return scope.status();
    *out_scope_id = scope.value();
    return {};
  });
}

kring_status kring_client_set_scope_members(kring_client* client, const uint8_t* case_id,
                                            size_t case_id_len, uint32_t scope_id,
                                            const uint8_t* member_ids, size_t member_ids_len,
                                            kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    std::vector<Bytes> members;
    KRING_RETURN_IF_ERROR(
        Params(client)
            .Require(scope_id != 0, "scope 0 is the whole case: change membership instead")
            .Case(case_id, case_id_len, &cid)
            .Members(member_ids, member_ids_len, &members)
            .status());
    return client->client->SetScopeMembers(cid, scope_id, members);
  });
}

kring_status kring_client_create_entity_in_scope(kring_client* client, const uint8_t* case_id,
                                                 size_t case_id_len, const char* type,
                                                 uint32_t scope_id, kring_bytes* out_entity_id,
                                                 kring_error** out_err) noexcept {
  return CreateEntityImpl(client, case_id, case_id_len, type, scope_id, out_entity_id, out_err);
}

kring_status kring_client_submit_in_scope(kring_client* client, const uint8_t* case_id,
                                          size_t case_id_len, const uint8_t* content_op,
                                          size_t content_op_len, uint32_t scope_id,
                                          kring_error** out_err) noexcept {
  return SubmitImpl(client, case_id, case_id_len, content_op, content_op_len, scope_id, out_err);
}

kring_status kring_client_scope_of(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                                   const uint8_t* entity_id, size_t entity_id_len,
                                   uint32_t* out_scope_id, kring_error** out_err) noexcept {
  if (out_scope_id != nullptr) *out_scope_id = 0;
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    Bytes eid;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_scope_id, "out_scope_id is required")
                              .Case(case_id, case_id_len, &cid)
                              .Entity(entity_id, entity_id_len, &eid)
                              .status());
    auto scope = client->client->ScopeOf(cid, eid);
    if (!scope.ok()) return scope.status();
    *out_scope_id = scope.value();
    return {};
  });
}

// ---- Closing and erasure ----

kring_status kring_client_close_case(kring_client* client, const uint8_t* case_id,
                                     size_t case_id_len, uint32_t retention_days,
                                     kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    KRING_RETURN_IF_ERROR(Params(client).Case(case_id, case_id_len, &cid).status());
    return client->client->CloseCase(cid, retention_days);
  });
}

kring_status kring_client_erase_case(kring_client* client, const uint8_t* case_id,
                                     size_t case_id_len, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    KRING_RETURN_IF_ERROR(Params(client).Case(case_id, case_id_len, &cid).status());
    return client->client->EraseCase(cid);
  });
}

// ---- The netwerkberaad domain ----

kring_status kring_client_domain_call(kring_client* client, const uint8_t* case_id,
                                      size_t case_id_len, const uint8_t* request,
                                      size_t request_len, kring_bytes* out_response,
                                      kring_error** out_err) noexcept {
  Reset(out_response);
  return Guard(out_err, [&]() -> Status {
    Bytes cid;
    kring::abi::v1::DomainRequest call;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_response, "out_response is required")
                              .Case(case_id, case_id_len, &cid)
                              .Proto(request, request_len, kMaxMessageBytes,
                                     "request is not a kring.abi.v1.DomainRequest", &call)
                              .status());
    auto response = kring::abi::DomainCall(*client->client, cid, call);
    if (!response.ok()) return response.status();
    std::string serialized;
    if (!response->SerializeToString(&serialized)) {
      return kring::Internal("cannot serialize the response");
    }
    WipeOnExit wipe{serialized};  // case content
    SetBytes(out_response, serialized);
    return {};
  });
}

// ---- Reading ----

namespace {

kring_status ViewImpl(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                      bool optimistic, kring_bytes* out_state, kring_error** out_err) noexcept {
  Reset(out_state);
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_state, "out_state is required")
                              .Case(case_id, case_id_len, &id)
                              .status());
    auto state = optimistic ? client->client->View(id) : client->client->ConfirmedView(id);
    if (!state.ok()) return state.status();
    std::string serialized;
    if (!state->SerializeToString(&serialized)) return kring::Internal("cannot serialize state");
    struct Wipe {
      std::string& s;
      ~Wipe() { WipeString(s); }  // case content
    } wipe{serialized};
    SetBytes(out_state, serialized);
    return {};
  });
}

}  // namespace

kring_status kring_client_view(kring_client* client, const uint8_t* case_id, size_t case_id_len,
                               kring_bytes* out_state, kring_error** out_err) noexcept {
  return ViewImpl(client, case_id, case_id_len, true, out_state, out_err);
}

kring_status kring_client_confirmed_view(kring_client* client, const uint8_t* case_id,
                                         size_t case_id_len, kring_bytes* out_state,
                                         kring_error** out_err) noexcept {
  return ViewImpl(client, case_id, case_id_len, false, out_state, out_err);
}

kring_status kring_client_pending_intents(kring_client* client, const uint8_t* case_id,
                                          size_t case_id_len, size_t* out_count,
                                          kring_error** out_err) noexcept {
  if (out_count != nullptr) *out_count = 0;
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Out(out_count, "out_count is required")
                              .Case(case_id, case_id_len, &id)
                              .status());
    *out_count = client->client->PendingIntents(id);
    return {};
  });
}

kring_status kring_client_alarms(kring_client* client, kring_bytes* out_alarms,
                                 kring_error** out_err) noexcept {
  Reset(out_alarms);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client).Out(out_alarms, "out_alarms is required").status());
    kring::abi::v1::AlarmList list;
    for (const kring::client::Alarm& a : client->client->Alarms()) {
      kring::abi::v1::Alarm* out = list.add_alarms();
      out->set_id(a.id);
      out->set_case_id(kring::ToString(a.case_id));
      switch (a.kind) {
        case kring::client::AlarmKind::kTamper:
          out->set_kind(kring::abi::v1::TAMPER);
          break;
        case kring::client::AlarmKind::kFork:
          out->set_kind(kring::abi::v1::FORK);
          break;
        case kring::client::AlarmKind::kDrop:
          out->set_kind(kring::abi::v1::DROP);
          break;
        case kring::client::AlarmKind::kRollback:
          out->set_kind(kring::abi::v1::ROLLBACK);
          break;
        case kring::client::AlarmKind::kKeyMismatch:
          out->set_kind(kring::abi::v1::KEY_MISMATCH);
          break;
        case kring::client::AlarmKind::kRemovalNotShown:
          out->set_kind(kring::abi::v1::REMOVAL_NOT_SHOWN);
          break;
      }
      out->set_seq(a.seq);
      out->set_detail(a.detail);
      out->set_evidence(kring::ToString(a.evidence));
      out->set_created_at_ms(a.created_at_ms);
    }
    std::string serialized;
    if (!list.SerializeToString(&serialized)) return kring::Internal("cannot serialize alarms");
    SetBytes(out_alarms, serialized);
    return {};
  });
}

// ---- Sync ----

kring_status kring_client_sync_now(kring_client* client, uint64_t* out_pulled, uint64_t* out_pushed,
                                   kring_error** out_err) noexcept {
  if (out_pulled != nullptr) *out_pulled = 0;
  if (out_pushed != nullptr) *out_pushed = 0;
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client).status());
    if (tls_callback_depth > 0) {
      return {StatusCode::kFailedPrecondition, "sync_now cannot be called from a callback"};
    }
    auto stats = client->client->SyncNow();
    if (!stats.ok()) return stats.status();
    if (out_pulled != nullptr) *out_pulled = stats->pulled;
    if (out_pushed != nullptr) *out_pushed = stats->pushed;
    return {};
  });
}

namespace {

// Queues a sync job for the callback thread (started on first use).
Status ScheduleSync(kring_client* client, AsyncJob job) {
  {
    std::lock_guard<std::mutex> lock(client->mu);
    if (client->closing) return {StatusCode::kCancelled, "client closed"};
    if (!client->callback_thread.joinable()) {
      client->callback_thread = std::thread([client] { client->RunJobs(); });
    }
    client->jobs.push_back(std::move(job));
  }
  client->jobs_cv.notify_all();
  return {};
}

}  // namespace

kring_status kring_client_sync_async(kring_client* client, kring_completion_fn completion,
                                     void* user_data, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(
        Params(client).Require(completion != nullptr, "completion is required").status());
    return ScheduleSync(client, {completion, user_data, {}});
  });
}

kring_status kring_client_sync_case(kring_client* client, const uint8_t* case_id,
                                    size_t case_id_len, uint64_t* out_pulled, uint64_t* out_pushed,
                                    kring_error** out_err) noexcept {
  if (out_pulled != nullptr) *out_pulled = 0;
  if (out_pushed != nullptr) *out_pushed = 0;
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(Params(client).Case(case_id, case_id_len, &id).status());
    if (tls_callback_depth > 0) {
      return {StatusCode::kFailedPrecondition, "sync_case cannot be called from a callback"};
    }
    auto stats = client->client->SyncCase(id);
    if (!stats.ok()) return stats.status();
    if (out_pulled != nullptr) *out_pulled = stats->pulled;
    if (out_pushed != nullptr) *out_pushed = stats->pushed;
    return {};
  });
}

namespace {

// A sync's figures as kring.abi.v1.SyncReport bytes into `out`.
Status SetReport(const kring::client::SyncStats& stats, kring_bytes* out) {
  kring::abi::v1::SyncReport report;
  report.set_pulled(stats.pulled);
  report.set_pushed(stats.pushed);
  for (const auto& [case_id, count] : stats.new_conflicts) {
    kring::abi::v1::CaseConflicts* c = report.add_new_conflicts();
    c->set_case_id(kring::ToString(case_id));
    c->set_count(count);
    auto own = stats.new_own_conflicts.find(case_id);
    if (own != stats.new_own_conflicts.end()) c->set_own_devices(own->second);
  }
  for (const kring::client::RefusedChange& r : stats.refused) {
    kring::abi::v1::RefusedChange* out_r = report.add_refused();
    out_r->set_case_id(kring::ToString(r.case_id));
    out_r->set_seq(r.seq);
    out_r->set_reason(r.reason);
    out_r->set_text_nl(kring::domain::UserText(r.reason, kring::domain::Language::kDutch));
    out_r->set_text_en(kring::domain::UserText(r.reason, kring::domain::Language::kEnglish));
  }
  std::string serialized;
  if (!report.SerializeToString(&serialized)) return kring::Internal("cannot serialize report");
  SetBytes(out, serialized);
  return {};
}

}  // namespace

kring_status kring_client_sync_now_report(kring_client* client, kring_bytes* out_report,
                                          kring_error** out_err) noexcept {
  Reset(out_report);
  return Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client).Out(out_report, "out_report is required").status());
    if (tls_callback_depth > 0) {
      return {StatusCode::kFailedPrecondition, "sync_now cannot be called from a callback"};
    }
    auto stats = client->client->SyncNow();
    if (!stats.ok()) return stats.status();
    return SetReport(*stats, out_report);
  });
}

kring_status kring_client_sync_case_report(kring_client* client, const uint8_t* case_id,
                                           size_t case_id_len, kring_bytes* out_report,
                                           kring_error** out_err) noexcept {
  Reset(out_report);
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &id)
                              .Out(out_report, "out_report is required")
                              .status());
    if (tls_callback_depth > 0) {
      return {StatusCode::kFailedPrecondition, "sync_case cannot be called from a callback"};
    }
    auto stats = client->client->SyncCase(id);
    if (!stats.ok()) return stats.status();
    return SetReport(*stats, out_report);
  });
}

kring_status kring_client_sync_case_async(kring_client* client, const uint8_t* case_id,
                                          size_t case_id_len, kring_completion_fn completion,
                                          void* user_data, kring_error** out_err) noexcept {
  return Guard(out_err, [&]() -> Status {
    Bytes id;
    KRING_RETURN_IF_ERROR(Params(client)
                              .Case(case_id, case_id_len, &id)
                              .Require(completion != nullptr, "completion is required")
                              .status());
    return ScheduleSync(client, {completion, user_data, std::move(id)});
  });
}

kring_status kring_client_add_change_listener(kring_client* client, kring_change_fn listener,
                                              void* user_data, kring_free_fn free_user_data,
                                              uint64_t* out_token, kring_error** out_err) noexcept {
  return AddListener(
      client, listener != nullptr, [listener](Listener& l) { l.fn = listener; }, user_data,
      free_user_data, out_token, out_err);
}

kring_status kring_client_add_change_event_listener(kring_client* client,
                                                    kring_change_event_fn listener, void* user_data,
                                                    kring_free_fn free_user_data,
                                                    uint64_t* out_token,
                                                    kring_error** out_err) noexcept {
  return AddListener(
      client, listener != nullptr, [listener](Listener& l) { l.event_fn = listener; }, user_data,
      free_user_data, out_token, out_err);
}

kring_status kring_client_remove_change_listener(kring_client* client, uint64_t token,
                                                 kring_error** out_err) noexcept {
  std::shared_ptr<Listener> l;
  kring_status status = Guard(out_err, [&]() -> Status {
    KRING_RETURN_IF_ERROR(Params(client).status());
    std::lock_guard<std::mutex> lock(client->mu);
    auto it = client->listeners.find(token);
    if (it == client->listeners.end()) return kring::NotFound("no listener with this token");
    l = std::move(it->second);
    client->listeners.erase(it);
    client->client->RemoveChangeListener(l->cpp_token);
    return {};
  });
  if (l != nullptr) l->Release();  // outside client->mu: it may wait for a running call
  return status;
}

}  // extern "C"
