// The C ABI as an app sees it: only kring/kring.h and libkring.so. Protobuf values are built and
// read with a few lines of wire-format code here, so this test links no generated code and no
// kring::common (libkring.so carries its own kring/v1 code; a second copy in the process aborts
// at start-up with "File already exists in database").
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/kring.h"

#include "abi/abi_c99.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace {

using Bytes = std::vector<uint8_t>;
constexpr auto kWait = std::chrono::seconds(30);

// ---- Minimal protobuf wire format ----

void PutVarint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
void PutLen(Bytes& out, uint32_t field, const Bytes& value) {
  PutVarint(out, (field << 3) | 2u);
  PutVarint(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
}
void PutLen(Bytes& out, uint32_t field, const std::string& value) {
  PutLen(out, field, Bytes(value.begin(), value.end()));
}
void PutUint(Bytes& out, uint32_t field, uint64_t value) {
  PutVarint(out, field << 3);
  PutVarint(out, value);
}

bool GetVarint(const Bytes& in, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && pos < in.size(); shift += 7) {
    const uint8_t b = in[pos++];
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Fields of one message: number -> raw values (length-delimited payloads, or varints).
struct Fields {
  std::vector<std::pair<uint32_t, Bytes>> len;
  std::vector<std::pair<uint32_t, uint64_t>> varint;

  std::vector<Bytes> All(uint32_t field) const {
    std::vector<Bytes> out;
    for (const auto& [f, v] : len) {
      if (f == field) out.push_back(v);
    }
    return out;
  }
  std::optional<Bytes> One(uint32_t field) const {
    auto all = All(field);
    if (all.empty()) return std::nullopt;
    return all.back();
  }
  uint64_t Uint(uint32_t field) const {
    uint64_t out = 0;
    for (const auto& [f, v] : varint) {
      if (f == field) out = v;
    }
    return out;
  }
};

Fields Parse(const Bytes& in) {
  Fields out;
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t key = 0;
    REQUIRE(GetVarint(in, pos, key));
    const auto field = static_cast<uint32_t>(key >> 3);
    switch (key & 7) {
      case 0: {
        uint64_t v = 0;
        REQUIRE(GetVarint(in, pos, v));
        out.varint.emplace_back(field, v);
        break;
      }
      case 2: {
        uint64_t n = 0;
        REQUIRE(GetVarint(in, pos, n));
        REQUIRE(n <= in.size() - pos);
        out.len.emplace_back(field, Bytes(in.begin() + static_cast<long>(pos),
                                          in.begin() + static_cast<long>(pos + n)));
        pos += n;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      default:
        FAIL("unexpected wire type");
    }
  }
  return out;
}

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::string Hex(const Bytes& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// kring.v1.Value{text}
Bytes TextValue(const std::string& text) {
  Bytes v;
  PutLen(v, 1, text);
  return v;
}

// kring.v1.CreateCase{members: [{account_id, role}]}
Bytes CreateCaseMessage(const std::vector<std::pair<Bytes, uint32_t>>& members) {
  Bytes out;
  for (const auto& [account, role] : members) {
    Bytes m;
    PutLen(m, 1, account);
    PutUint(m, 2, role);
    PutLen(out, 1, m);
  }
  return out;
}

// Looks up CaseState.entities[hex(entity)] (a map: repeated entry {1: key, 2: value}).
std::optional<Fields> EntityOf(const Bytes& state, const Bytes& entity_id) {
  for (const Bytes& entry : Parse(state).All(4)) {
    Fields e = Parse(entry);
    if (e.One(1) && Str(*e.One(1)) == Hex(entity_id)) return Parse(e.One(2).value_or(Bytes{}));
  }
  return std::nullopt;
}

// Entity.fields[name].value.text, if present.
std::optional<std::string> FieldText(const Fields& entity, const std::string& name) {
  for (const Bytes& entry : entity.All(6)) {
    Fields e = Parse(entry);
    if (e.One(1) && Str(*e.One(1)) == name) {
      Fields field_state = Parse(e.One(2).value_or(Bytes{}));
      Fields value = Parse(field_state.One(1).value_or(Bytes{}));
      if (value.One(1)) return Str(*value.One(1));
    }
  }
  return std::nullopt;
}

// Number of live elements in Entity.sets[name].
size_t SetSize(const Fields& entity, const std::string& name) {
  for (const Bytes& entry : entity.All(7)) {
    Fields e = Parse(entry);
    if (e.One(1) && Str(*e.One(1)) == name) {
      size_t live = 0;
      for (const Bytes& el_entry : Parse(e.One(2).value_or(Bytes{})).All(1)) {
        Fields element = Parse(Parse(el_entry).One(2).value_or(Bytes{}));
        if (!element.All(3).empty()) ++live;
      }
      return live;
    }
  }
  return 0;
}

// ---- RAII over the C types, for the tests only ----

struct Error {
  kring_error* e = nullptr;
  ~Error() { kring_error_free(e); }
  kring_error** out() {
    kring_error_free(e);
    e = nullptr;
    return &e;
  }
  kring_status code() const { return kring_error_code(e); }
  std::string message() const { return kring_error_message(e); }
};

struct OwnedBytes {
  kring_bytes b{nullptr, 0};
  ~OwnedBytes() { kring_bytes_free(&b); }
  Bytes get() const { return b.data == nullptr ? Bytes{} : Bytes(b.data, b.data + b.len); }
};

struct OwnedString {
  char* s = nullptr;
  ~OwnedString() { kring_string_free(s); }
  std::string get() const { return s == nullptr ? std::string() : std::string(s); }
};

Bytes StorageKey(uint8_t seed) { return Bytes(kring_storage_key_size(), seed); }

struct Device {
  kring::test::TempDir dir;
  kring_client* client = nullptr;
  Bytes account_id;
  std::string safety_number;
  std::string recovery_key;  // as CreateAccount showed it (tests restore with it)

  Device(const char* address, bool background) {
    Error err;
    const Bytes key = StorageKey(7);
    const std::string db = dir.path() + "/kring.db";
    REQUIRE(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), address,
                              nullptr, background ? 1 : 0, &client, err.out()) == KRING_OK);
    REQUIRE(client != nullptr);
  }
  ~Device() { kring_client_close(client); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  void CreateAccount() {
    OwnedBytes id;
    OwnedString safety;
    OwnedString recovery;
    Error err;
    REQUIRE(kring_client_create_account(client, &id.b, &safety.s, &recovery.s, err.out()) ==
            KRING_OK);
    account_id = id.get();
    safety_number = safety.get();
    REQUIRE(account_id.size() == kring_id_size());
    REQUIRE_FALSE(safety_number.empty());
    REQUIRE_FALSE(recovery.get().empty());
    recovery_key = recovery.get();
  }

  Bytes View(const Bytes& case_id, bool confirmed = false) {
    OwnedBytes state;
    Error err;
    auto fn = confirmed ? kring_client_confirmed_view : kring_client_view;
    REQUIRE(fn(client, case_id.data(), case_id.size(), &state.b, err.out()) == KRING_OK);
    return state.get();
  }

  size_t Pending(const Bytes& case_id) {
    size_t n = 99;
    Error err;
    REQUIRE(kring_client_pending_intents(client, case_id.data(), case_id.size(), &n, err.out()) ==
            KRING_OK);
    return n;
  }

  void Sync() {
    Error err;
    INFO(err.message());
    REQUIRE(kring_client_sync_now(client, nullptr, nullptr, err.out()) == KRING_OK);
  }
};

// Counts completions per job so a double call is seen.
struct Completions {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> calls;
  std::vector<kring_status> statuses;
  bool consistent = true;  // error set exactly when status is not OK, with the same code

  explicit Completions(size_t n) : calls(n, 0), statuses(n, KRING_OK) {}

  struct Job {
    Completions* owner;
    size_t index;
  };

  static void OnDone(void* user_data, kring_status status, const kring_error* error) {
    // Runs on the library's callback thread: record, and let the test thread assert.
    auto* job = static_cast<Job*>(user_data);
    const bool ok = ((status == KRING_OK) == (error == nullptr)) &&
                    (error == nullptr || kring_error_code(error) == status);
    std::lock_guard<std::mutex> lock(job->owner->mu);
    if (!ok) job->owner->consistent = false;
    ++job->owner->calls[job->index];
    job->owner->statuses[job->index] = status;
    job->owner->cv.notify_all();
  }

  bool WaitAll() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kWait, [&] {
      for (int c : calls) {
        if (c == 0) return false;
      }
      return true;
    });
  }
};

}  // namespace

TEST_CASE("abi: library information", "[abi]") {
  CHECK(kring_abi_version() == KRING_ABI_VERSION);
  CHECK(kring_id_size() == 16);
  CHECK(kring_storage_key_size() == 32);
  CHECK(std::string(kring_status_name(KRING_OK)) == "OK");
  CHECK(std::string(kring_status_name(KRING_ERR_SECURITY_ALARM)) == "SECURITY_ALARM");
  for (int s = KRING_OK; s <= KRING_ERR_SECURITY_ALARM; ++s) {
    CHECK(std::string(kring_status_name(static_cast<kring_status>(s))) != "UNKNOWN");
  }
}

TEST_CASE("abi: every function is NULL-safe and resets its outputs (checked from C99)", "[abi]") {
  CHECK(abi_c99_null_safety() == 0);
}

TEST_CASE("abi: open checks the ABI version and the storage key", "[abi]") {
  kring::test::TempDir dir;
  const std::string db = dir.path() + "/kring.db";
  const Bytes key = StorageKey(1);
  kring_client* client = reinterpret_cast<kring_client*>(0x1);
  Error err;

  CHECK(kring_client_open(KRING_ABI_VERSION + 1, db.c_str(), key.data(), key.size(), nullptr,
                          nullptr, 0, &client, err.out()) == KRING_ERR_FAILED_PRECONDITION);
  CHECK(client == nullptr);
  CHECK(err.code() == KRING_ERR_FAILED_PRECONDITION);

  CHECK(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size() - 1, nullptr,
                          nullptr, 0, &client, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(client == nullptr);

  const char bad_utf8[] = {'a', static_cast<char>(0xC0), static_cast<char>(0x80), 0};
  CHECK(kring_client_open(KRING_ABI_VERSION, bad_utf8, key.data(), key.size(), nullptr, nullptr, 0,
                          &client, err.out()) == KRING_ERR_INVALID_ARGUMENT);

  REQUIRE(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), nullptr, nullptr,
                            0, &client, err.out()) == KRING_OK);
  CHECK(err.e == nullptr);
  kring_client_close(client);

  // The same store with another key: refused, and the message names no key material.
  const Bytes wrong = StorageKey(2);
  client = reinterpret_cast<kring_client*>(0x1);
  CHECK(kring_client_open(KRING_ABI_VERSION, db.c_str(), wrong.data(), wrong.size(), nullptr,
                          nullptr, 0, &client, err.out()) != KRING_OK);
  CHECK(client == nullptr);
  CHECK(err.e != nullptr);
}

TEST_CASE("abi: failures reset outputs and report the right code", "[abi]") {
  kring::test::TempDir dir;
  const std::string db = dir.path() + "/kring.db";
  const Bytes key = StorageKey(1);
  kring_client* client = nullptr;
  Error err;
  REQUIRE(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), nullptr, nullptr,
                            0, &client, err.out()) == KRING_OK);
  const Bytes unknown(16, 0x42);
  uint8_t junk = 0;

  SECTION("no account yet") {
    kring_bytes a{&junk, 3};
    kring_bytes d{&junk, 3};
    char* s = reinterpret_cast<char*>(&junk);
    CHECK(kring_client_account(client, &a, &d, &s, err.out()) == KRING_ERR_FAILED_PRECONDITION);
    CHECK((a.data == nullptr && a.len == 0 && d.data == nullptr && d.len == 0 && s == nullptr));
    CHECK(err.code() == KRING_ERR_FAILED_PRECONDITION);
  }
  SECTION("no server for an account") {
    kring_bytes a{&junk, 3};
    char* s1 = reinterpret_cast<char*>(&junk);
    char* s2 = reinterpret_cast<char*>(&junk);
    CHECK(kring_client_create_account(client, &a, &s1, &s2, err.out()) != KRING_OK);
    CHECK((a.data == nullptr && s1 == nullptr && s2 == nullptr));
    CHECK(err.e != nullptr);
  }
  SECTION("unknown case") {
    kring_bytes v{&junk, 3};
    CHECK(kring_client_view(client, unknown.data(), unknown.size(), &v, err.out()) ==
          KRING_ERR_NOT_FOUND);
    CHECK((v.data == nullptr && v.len == 0));
    CHECK(err.code() == KRING_ERR_NOT_FOUND);
    kring_bytes e{&junk, 3};
    CHECK(kring_client_create_entity(client, unknown.data(), unknown.size(), "plan", &e,
                                     err.out()) == KRING_ERR_NOT_FOUND);
    CHECK((e.data == nullptr && e.len == 0));
    // out_err may be NULL.
    CHECK(kring_client_delete_entity(client, unknown.data(), unknown.size(), unknown.data(),
                                     unknown.size(), nullptr) == KRING_ERR_NOT_FOUND);
  }
  SECTION("bad ids, protobuf and strings") {
    CHECK(kring_client_delete_entity(client, unknown.data(), 15, unknown.data(), 16, err.out()) ==
          KRING_ERR_INVALID_ARGUMENT);
    const Bytes garbage = {0xFF, 0xFF, 0xFF};
    CHECK(kring_client_submit(client, unknown.data(), 16, garbage.data(), garbage.size(),
                              err.out()) == KRING_ERR_INVALID_ARGUMENT);
    Bytes no_version;  // a ContentOp without version 1 is refused explicitly
    PutLen(no_version, 2, Bytes{});
    CHECK(kring_client_submit(client, unknown.data(), 16, no_version.data(), no_version.size(),
                              err.out()) == KRING_ERR_INVALID_ARGUMENT);
    CHECK(kring_client_set_field(client, unknown.data(), 16, unknown.data(), 16, "f",
                                 garbage.data(), garbage.size(),
                                 err.out()) == KRING_ERR_INVALID_ARGUMENT);
    const char bad[] = {static_cast<char>(0xFF), 0};
    kring_bytes e{&junk, 3};
    CHECK(kring_client_create_entity(client, unknown.data(), 16, bad, &e, err.out()) ==
          KRING_ERR_INVALID_ARGUMENT);
    CHECK(e.data == nullptr);
    CHECK(kring_client_create_case(client, garbage.data(), garbage.size(), &e, err.out()) ==
          KRING_ERR_INVALID_ARGUMENT);
    CHECK(kring_client_remove_change_listener(client, 12345, err.out()) == KRING_ERR_NOT_FOUND);
  }
  SECTION("empty lists") {
    kring_bytes ids{&junk, 3};
    CHECK(kring_client_cases(client, &ids, err.out()) == KRING_OK);
    CHECK((ids.data == nullptr && ids.len == 0));
    kring_bytes alarms{&junk, 3};
    CHECK(kring_client_alarms(client, &alarms, err.out()) == KRING_OK);
    CHECK(alarms.len == 0);
    CHECK(err.e == nullptr);
  }
  kring_client_close(client);
}

TEST_CASE("abi: sync_async completes exactly once, and close cancels what is queued", "[abi]") {
  kring::test::TempDir dir;
  const std::string db = dir.path() + "/kring.db";
  const Bytes key = StorageKey(1);
  kring_client* client = nullptr;
  REQUIRE(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), nullptr, nullptr,
                            0, &client, nullptr) == KRING_OK);

  SECTION("close from the caller's thread") {
    constexpr size_t kJobs = 20;
    Completions done(kJobs);
    std::vector<Completions::Job> jobs;
    for (size_t i = 0; i < kJobs; ++i) jobs.push_back({&done, i});
    for (auto& job : jobs) {
      REQUIRE(kring_client_sync_async(client, Completions::OnDone, &job, nullptr) == KRING_OK);
    }
    CHECK(kring_client_sync_async(client, nullptr, nullptr, nullptr) == KRING_ERR_INVALID_ARGUMENT);
    kring_client_close(client);  // joins: every completion has run when it returns
    std::lock_guard<std::mutex> lock(done.mu);
    CHECK(done.consistent);
    for (size_t i = 0; i < kJobs; ++i) {
      CHECK(done.calls[i] == 1);
      // Offline client: a sync that ran fails; one that did not run is cancelled.
      CHECK(done.statuses[i] != KRING_OK);
    }
  }

  SECTION("close from inside a completion") {
    // The first completion closes the client, then schedules more work until scheduling is
    // refused; everything it scheduled must still complete exactly once, as CANCELLED.
    static constexpr size_t kMaxJobs = 100000;
    struct State {
      explicit State(kring_client* c) : client(c) {}
      kring_client* client;
      Completions done{kMaxJobs};
      std::vector<Completions::Job> jobs;
      std::atomic<size_t> scheduled{0};
      std::promise<void> closed;
    } st(client);
    for (size_t i = 0; i < kMaxJobs; ++i) st.jobs.push_back({&st.done, i});
    auto first = [](void* user_data, kring_status, const kring_error*) {
      auto* s = static_cast<State*>(user_data);
      kring_client_close(s->client);
      size_t n = 1;
      while (n < s->jobs.size() && kring_client_sync_async(s->client, Completions::OnDone,
                                                           &s->jobs[n], nullptr) == KRING_OK) {
        ++n;
        std::this_thread::yield();  // let the closing thread run
      }
      s->scheduled = n;
      s->closed.set_value();
    };
    REQUIRE(kring_client_sync_async(client, first, &st, nullptr) == KRING_OK);
    REQUIRE(st.closed.get_future().wait_for(kWait) == std::future_status::ready);
    const size_t n = st.scheduled;
    REQUIRE(n < st.jobs.size());  // scheduling was refused once closing began
    {
      std::lock_guard<std::mutex> lock(st.done.mu);
      st.done.calls[0] = 1;  // the first job is the closer itself
      for (size_t i = n; i < st.jobs.size(); ++i) st.done.calls[i] = 1;  // never scheduled
    }
    REQUIRE(st.done.WaitAll());
    std::lock_guard<std::mutex> lock(st.done.mu);
    CHECK(st.done.consistent);
    for (size_t i = 1; i < n; ++i) {
      CHECK(st.done.calls[i] == 1);
      CHECK(st.done.statuses[i] == KRING_ERR_CANCELLED);
    }
  }
}

TEST_CASE("abi: a change listener's user_data is freed exactly once", "[abi]") {
  // Both ways to register (ABI 6 added the event listener) keep the same rule.
  const bool event_listener = GENERATE(false, true);
  kring::test::TempDir dir;
  const std::string db = dir.path() + "/kring.db";
  const Bytes key = StorageKey(1);
  kring_client* client = nullptr;
  REQUIRE(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), nullptr, nullptr,
                            0, &client, nullptr) == KRING_OK);
  static std::atomic<int> frees;
  frees = 0;
  auto on_change = [](void*, kring_change_kind, const uint8_t*, size_t, const char*) {};
  auto on_event = [](void*, const kring_change_event*) {};
  auto on_free = [](void* user_data) {
    CHECK(user_data == &frees);
    ++frees;
  };
  Error err;
  auto add = [&](bool given, uint64_t* token) {
    if (event_listener) {
      return kring_client_add_change_event_listener(client, given ? +on_event : nullptr, &frees,
                                                    on_free, token, err.out());
    }
    return kring_client_add_change_listener(client, given ? +on_change : nullptr, &frees, on_free,
                                            token, err.out());
  };
  uint64_t t1 = 0;
  uint64_t t2 = 0;
  REQUIRE(add(true, &t1) == KRING_OK);
  REQUIRE(add(true, &t2) == KRING_OK);
  CHECK(t1 != 0);
  CHECK(t2 != t1);

  CHECK(kring_client_remove_change_listener(client, t1, err.out()) == KRING_OK);
  CHECK(frees == 1);  // on this thread, before remove returns
  CHECK(kring_client_remove_change_listener(client, t1, err.out()) == KRING_ERR_NOT_FOUND);
  CHECK(frees == 1);

  // A failing registration takes ownership too.
  uint64_t t3 = 99;
  CHECK(add(false, &t3) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(t3 == 0);
  CHECK(frees == 2);

  kring_client_close(client);  // frees the listener still registered
  CHECK(frees == 3);
}

TEST_CASE("abi: two devices against a real kringd", "[abi]") {
  kring::test::TestServer server;
  Device alice(server.address().c_str(), /*background=*/false);
  Device bob(server.address().c_str(), /*background=*/true);
  alice.CreateAccount();
  bob.CreateAccount();
  Error err;

  {  // account() returns what create_account did; safety numbers agree across devices
    OwnedBytes id;
    OwnedBytes device;
    OwnedString safety;
    REQUIRE(kring_client_account(alice.client, &id.b, &device.b, &safety.s, err.out()) == KRING_OK);
    CHECK(id.get() == alice.account_id);
    CHECK(device.get().size() == 16);
    CHECK(safety.get() == alice.safety_number);
    OwnedString seen_by_bob;
    REQUIRE(kring_client_safety_number_of(bob.client, alice.account_id.data(),
                                          alice.account_id.size(), &seen_by_bob.s,
                                          err.out()) == KRING_OK);
    CHECK(seen_by_bob.get() == alice.safety_number);
    OwnedBytes a2;
    OwnedString s2;
    OwnedString r2;
    CHECK(kring_client_create_account(alice.client, &a2.b, &s2.s, &r2.s, err.out()) ==
          KRING_ERR_ALREADY_EXISTS);
  }

  // Bob listens; his worker syncs on the server's pokes and calls back on its own thread.
  struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Bytes> changed_cases;
    kring_status sync_inside = KRING_OK;
    bool detail_missing = false;
    kring_client* client = nullptr;
  } seen;
  seen.client = bob.client;
  auto on_change = [](void* user_data, kring_change_kind kind, const uint8_t* case_id, size_t len,
                      const char* detail) {
    // Runs on Bob's sync worker: record, and let the test thread assert.
    auto* s = static_cast<Seen*>(user_data);
    const kring_status inside = kring_client_sync_now(s->client, nullptr, nullptr, nullptr);
    std::lock_guard<std::mutex> lock(s->mu);
    if (detail == nullptr) s->detail_missing = true;
    s->sync_inside = inside;
    if (kind == KRING_CHANGE_CASE_CHANGED && case_id != nullptr) {
      s->changed_cases.emplace_back(case_id, case_id + len);
    }
    s->cv.notify_all();
  };
  uint64_t token = 0;
  REQUIRE(kring_client_add_change_listener(bob.client, on_change, &seen, nullptr, &token,
                                           err.out()) == KRING_OK);

  // Alice creates the case with Bob as a member, and writes the plan before syncing.
  const Bytes create = CreateCaseMessage({{bob.account_id, 3 /* ROLE_MEMBER */}});
  OwnedBytes case_id_b;
  REQUIRE(kring_client_create_case(alice.client, create.data(), create.size(), &case_id_b.b,
                                   err.out()) == KRING_OK);
  const Bytes case_id = case_id_b.get();
  REQUIRE(case_id.size() == 16);
  OwnedBytes entity_b;
  REQUIRE(kring_client_create_entity(alice.client, case_id.data(), case_id.size(), "plan",
                                     &entity_b.b, err.out()) == KRING_OK);
  const Bytes entity = entity_b.get();
  const Bytes title = TextValue("Weekplan");
  REQUIRE(kring_client_set_field(alice.client, case_id.data(), case_id.size(), entity.data(),
                                 entity.size(), "title", title.data(), title.size(),
                                 err.out()) == KRING_OK);
  OwnedBytes element_b;
  const Bytes item = TextValue("boodschappen");
  REQUIRE(kring_client_add_to_set(alice.client, case_id.data(), case_id.size(), entity.data(),
                                  entity.size(), "tasks", item.data(), item.size(), &element_b.b,
                                  err.out()) == KRING_OK);
  REQUIRE(element_b.get().size() == 16);

  // A raw ContentOp: create a second entity.
  Bytes op;
  PutUint(op, 1, 1);
  {
    Bytes create_entity;
    PutLen(create_entity, 1, Bytes(16, 0x5A));
    PutLen(create_entity, 2, std::string("note"));
    Bytes mutation;
    PutLen(mutation, 1, create_entity);
    PutLen(op, 2, mutation);
  }
  REQUIRE(kring_client_submit(alice.client, case_id.data(), case_id.size(), op.data(), op.size(),
                              err.out()) == KRING_OK);

  // Offline so far: the optimistic view has the edits, the confirmed one does not.
  CHECK(alice.Pending(case_id) >= 4);
  auto optimistic = EntityOf(alice.View(case_id), entity);
  REQUIRE(optimistic);
  CHECK(FieldText(*optimistic, "title") == "Weekplan");
  CHECK(SetSize(*optimistic, "tasks") == 1);
  CHECK_FALSE(EntityOf(alice.View(case_id, /*confirmed=*/true), entity));

  alice.Sync();
  CHECK(alice.Pending(case_id) == 0);
  auto confirmed = EntityOf(alice.View(case_id, true), entity);
  REQUIRE(confirmed);
  CHECK(FieldText(*confirmed, "title") == "Weekplan");
  CHECK(Parse(alice.View(case_id, true)).Uint(2) > 0);  // CaseState.seq

  {  // Bob's worker picks it up and tells the listener (on the worker thread).
    std::unique_lock<std::mutex> lock(seen.mu);
    REQUIRE(seen.cv.wait_for(lock, kWait, [&] {
      for (const Bytes& c : seen.changed_cases) {
        if (c == case_id) return true;
      }
      return false;
    }));
    CHECK(seen.sync_inside == KRING_ERR_FAILED_PRECONDITION);
    CHECK_FALSE(seen.detail_missing);
  }
  bob.Sync();
  OwnedBytes cases;
  REQUIRE(kring_client_cases(bob.client, &cases.b, err.out()) == KRING_OK);
  REQUIRE(cases.get() == case_id);
  auto at_bob = EntityOf(bob.View(case_id, true), entity);
  REQUIRE(at_bob);
  CHECK(FieldText(*at_bob, "title") == "Weekplan");
  CHECK(SetSize(*at_bob, "tasks") == 1);
  CHECK(EntityOf(bob.View(case_id, true), Bytes(16, 0x5A)));

  // Bob edits back: remove the task, delete and restore the second entity; Alice sees it.
  const Bytes element = element_b.get();
  REQUIRE(kring_client_remove_from_set(bob.client, case_id.data(), case_id.size(), entity.data(),
                                       entity.size(), "tasks", element.data(), element.size(),
                                       err.out()) == KRING_OK);
  const Bytes note(16, 0x5A);
  REQUIRE(kring_client_delete_entity(bob.client, case_id.data(), case_id.size(), note.data(),
                                     note.size(), err.out()) == KRING_OK);
  REQUIRE(kring_client_restore_entity(bob.client, case_id.data(), case_id.size(), note.data(),
                                      note.size(), err.out()) == KRING_OK);
  bob.Sync();
  alice.Sync();
  auto back = EntityOf(alice.View(case_id, true), entity);
  REQUIRE(back);
  CHECK(SetSize(*back, "tasks") == 0);
  auto restored = EntityOf(alice.View(case_id, true), note);
  REQUIRE(restored);
  CHECK(restored->Uint(3) == 0);  // Entity.deleted is false again

  OwnedBytes alarms;
  REQUIRE(kring_client_alarms(alice.client, &alarms.b, err.out()) == KRING_OK);
  CHECK(alarms.get().empty());
  REQUIRE(kring_client_remove_change_listener(bob.client, token, err.out()) == KRING_OK);
}

namespace {

// CaseState field numbers (model.proto) the membership tests read.
constexpr uint32_t kStateMembers = 3;
constexpr uint32_t kStateHistory = 8;  // newcomers_read_history
constexpr uint32_t kStateRemoved = 11;
constexpr uint32_t kStateInvites = 12;
constexpr uint32_t kStatePendingMembers = 13;
constexpr uint32_t kStatePendingApproval = 14;
constexpr uint64_t kInviteAccepted = 2;  // InviteState.Status
constexpr uint64_t kInviteApproved = 3;
constexpr uint64_t kInviteDeclined = 4;
constexpr uint64_t kInviteRevoked = 5;

// Account ids in a repeated Member field (members or pending_members).
std::vector<Bytes> AccountsIn(const Bytes& state, uint32_t field) {
  std::vector<Bytes> out;
  for (const Bytes& m : Parse(state).All(field)) out.push_back(Parse(m).One(1).value_or(Bytes{}));
  return out;
}

bool Has(const std::vector<Bytes>& ids, const Bytes& id) {
  for (const Bytes& x : ids) {
    if (x == id) return true;
  }
  return false;
}

// InviteState.status of one invite in CaseState.invites; 0 when absent.
uint64_t InviteStatus(const Bytes& state, const Bytes& invite_id) {
  for (const Bytes& inv : Parse(state).All(kStateInvites)) {
    Fields f = Parse(inv);
    if (f.One(1) == invite_id) return f.Uint(4);
  }
  return 0;
}

struct Invite {
  Bytes id;
  std::string link;
  std::string qr_text;
};

Invite CreateInvite(Device& d, const Bytes& case_id, kring_role role) {
  OwnedBytes id;
  OwnedString link;
  OwnedString qr;
  Error err;
  INFO(err.message());
  REQUIRE(kring_client_create_invite(d.client, case_id.data(), case_id.size(), role, 3600, &id.b,
                                     &link.s, &qr.s, err.out()) == KRING_OK);
  return {id.get(), link.get(), qr.get()};
}

Bytes AcceptInvite(Device& d, const std::string& link) {
  OwnedBytes case_id;
  Error err;
  INFO(err.message());
  REQUIRE(kring_client_accept_invite(d.client, link.c_str(), &case_id.b, err.out()) == KRING_OK);
  return case_id.get();
}

// kring_client_epoch_fingerprint, required to succeed.
std::string Fingerprint(Device& d, const Bytes& case_id) {
  OwnedString text;
  Error err;
  INFO(err.message());
  REQUIRE(kring_client_epoch_fingerprint(d.client, case_id.data(), case_id.size(), &text.s,
                                         err.out()) == KRING_OK);
  return text.get();
}

// What a kring_change_event listener saw of rejected edits (ABI 6); every other event must carry
// no reason and no text.
struct Rejections {
  std::mutex mu;
  struct Seen {
    Bytes case_id;
    std::string detail, reason, text_nl, text_en;
    size_t count = 0;  // ABI 8: the queued changes the event rejects
  };
  std::vector<Seen> seen;
  bool others_plain = true;
  static void On(void* user_data, const kring_change_event* e) {
    auto* r = static_cast<Rejections*>(user_data);
    std::lock_guard<std::mutex> lock(r->mu);
    if (e->size != sizeof(kring_change_event)) r->others_plain = false;
    if (e->kind != KRING_CHANGE_INTENT_REJECTED) {
      r->others_plain = r->others_plain && *e->reason == 0 && *e->text_nl == 0 &&
                        *e->text_en == 0 && e->count == 0;
      return;
    }
    r->seen.push_back(
        {e->case_id == nullptr ? Bytes{} : Bytes(e->case_id, e->case_id + e->case_id_len),
         e->detail, e->reason, e->text_nl, e->text_en, e->count});
  }
};

// Records the change events of one client (called on the thread that syncs).
struct Events {
  std::mutex mu;
  std::vector<std::pair<kring_change_kind, Bytes>> seen;

  static void On(void* user_data, kring_change_kind kind, const uint8_t* case_id, size_t len,
                 const char*) {
    auto* e = static_cast<Events*>(user_data);
    std::lock_guard<std::mutex> lock(e->mu);
    e->seen.emplace_back(kind, case_id == nullptr ? Bytes{} : Bytes(case_id, case_id + len));
  }
  bool Saw(kring_change_kind kind, const Bytes& case_id) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [k, c] : seen) {
      if (k == kind && c == case_id) return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("abi: membership inputs are checked before anything is queued", "[abi]") {
  kring::test::TempDir dir;
  const std::string db = dir.path() + "/kring.db";
  const Bytes key = StorageKey(1);
  kring_client* client = nullptr;
  Error err;
  REQUIRE(kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), nullptr, nullptr,
                            0, &client, err.out()) == KRING_OK);
  const Bytes id(16, 0x42);
  uint8_t junk = 0;

  CHECK(kring_client_add_member(client, id.data(), 16, id.data(), 16, static_cast<kring_role>(0),
                                err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_add_member(client, id.data(), 16, id.data(), 15, KRING_ROLE_MEMBER,
                                err.out()) == KRING_ERR_INVALID_ARGUMENT);
  char* notice = reinterpret_cast<char*>(&junk);
  CHECK(kring_client_remove_member(client, id.data(), 16, id.data(), 16, "de", &notice,
                                   err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(notice == nullptr);
  CHECK(err.message().find("lang") != std::string::npos);
  kring_bytes invite_id{&junk, 3};
  char* link = reinterpret_cast<char*>(&junk);
  char* qr = reinterpret_cast<char*>(&junk);
  CHECK(kring_client_create_invite(client, id.data(), 16, static_cast<kring_role>(0), 60,
                                   &invite_id, &link, &qr,
                                   err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK((invite_id.data == nullptr && link == nullptr && qr == nullptr));
  CHECK(kring_client_create_invite(client, id.data(), 16, KRING_ROLE_MEMBER, 60, &invite_id, &link,
                                   nullptr, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_revoke_invite(client, id.data(), 16, id.data(), 3, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  const char bad[] = {'k', static_cast<char>(0xFF), 0};
  kring_bytes case_id{&junk, 3};
  CHECK(kring_client_accept_invite(client, bad, &case_id, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK((case_id.data == nullptr && case_id.len == 0));
  // No account on this device yet.
  CHECK(kring_client_accept_invite(client, "kring://invite/1/x", &case_id, err.out()) ==
        KRING_ERR_FAILED_PRECONDITION);
  CHECK(kring_client_approve_member(client, id.data(), 16, nullptr, 16, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_decline_member(client, id.data(), 16, id.data(), 17, nullptr) ==
        KRING_ERR_INVALID_ARGUMENT);

  // ABI 3: the language is checked first; a fingerprint needs a known case and a key.
  notice = reinterpret_cast<char*>(&junk);
  CHECK(kring_client_leave_case(client, id.data(), 16, "de", &notice, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(notice == nullptr);
  CHECK(err.message().find("lang") != std::string::npos);
  CHECK(kring_client_leave_case(client, id.data(), 16, "nl", nullptr, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  // No account on this device yet.
  CHECK(kring_client_leave_case(client, id.data(), 16, "nl", &notice, err.out()) ==
        KRING_ERR_FAILED_PRECONDITION);
  CHECK(notice == nullptr);
  char* fingerprint = reinterpret_cast<char*>(&junk);
  CHECK(kring_client_epoch_fingerprint(client, id.data(), 15, &fingerprint, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(fingerprint == nullptr);
  fingerprint = reinterpret_cast<char*>(&junk);
  CHECK(kring_client_epoch_fingerprint(client, id.data(), 16, &fingerprint, err.out()) ==
        KRING_ERR_NOT_FOUND);
  CHECK(fingerprint == nullptr);

  // The flag argument and the message must agree.
  Bytes with_history;
  PutUint(with_history, 2, 1);  // CreateCase.newcomers_read_history = true
  CHECK(kring_client_create_case_with_history(client, with_history.data(), with_history.size(), 0,
                                              &case_id, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_cases(client, &case_id, err.out()) == KRING_OK);
  CHECK(case_id.len == 0);
  kring_client_close(client);
}

TEST_CASE("abi: invitation, approval, adding with history and removal against a real kringd",
          "[abi]") {
  kring::test::TestServer server;
  Device coordinator(server.address().c_str(), /*background=*/false);
  Device invitee(server.address().c_str(), /*background=*/false);
  Device neighbour(server.address().c_str(), /*background=*/false);
  Device latecomer(server.address().c_str(), /*background=*/false);
  coordinator.CreateAccount();
  invitee.CreateAccount();
  neighbour.CreateAccount();
  latecomer.CreateAccount();
  Error err;

  // The coordinator starts a "from now on" case and writes a note before anyone joins.
  const Bytes create = CreateCaseMessage({{coordinator.account_id, KRING_ROLE_COORDINATOR}});
  OwnedBytes case_b;
  REQUIRE(kring_client_create_case_with_history(coordinator.client, create.data(), create.size(), 0,
                                                &case_b.b, err.out()) == KRING_OK);
  const Bytes case_id = case_b.get();
  OwnedBytes note_b;
  REQUIRE(kring_client_create_entity(coordinator.client, case_id.data(), case_id.size(), "note",
                                     &note_b.b, err.out()) == KRING_OK);
  const Bytes note = note_b.get();
  const Invite invite = CreateInvite(coordinator, case_id, KRING_ROLE_MEMBER);
  CHECK(invite.id.size() == 16);
  CHECK(invite.link.rfind("kring://invite/1/", 0) == 0);
  CHECK(invite.qr_text == invite.link);
  coordinator.Sync();
  CHECK(Parse(coordinator.View(case_id, true)).Uint(kStateHistory) == 0);

  // The invitee accepts the link: the case is there, waiting, without keys or content.
  Events invitee_events;
  uint64_t token = 0;
  REQUIRE(kring_client_add_change_listener(invitee.client, Events::On, &invitee_events, nullptr,
                                           &token, err.out()) == KRING_OK);
  CHECK(AcceptInvite(invitee, invite.link) == case_id);
  invitee.Sync();
  CHECK(Parse(invitee.View(case_id)).Uint(kStatePendingApproval) == 1);
  CHECK(Parse(invitee.View(case_id)).All(4).empty());

  // The same link once more, by someone else: the server refuses it, and the event says why.
  Rejections rejections;
  uint64_t latecomer_token = 0;
  REQUIRE(kring_client_add_change_event_listener(latecomer.client, Rejections::On, &rejections,
                                                 nullptr, &latecomer_token, err.out()) == KRING_OK);
  CHECK(AcceptInvite(latecomer, invite.link) == case_id);
  latecomer.Sync();
  {
    std::lock_guard<std::mutex> lock(rejections.mu);
    REQUIRE(rejections.seen.size() == 1);
    CHECK(rejections.others_plain);
    CHECK(rejections.seen[0].case_id == case_id);
    CHECK(rejections.seen[0].detail.find("already used") != std::string::npos);
    CHECK(rejections.seen[0].reason == "INVITE_USED");
    CHECK(rejections.seen[0].text_nl == "Deze uitnodiging is al gebruikt.");
    CHECK(rejections.seen[0].text_en == "This invitation was already used.");
    CHECK(rejections.seen[0].count == 1);
  }
  REQUIRE(kring_client_remove_change_listener(latecomer.client, latecomer_token, err.out()) ==
          KRING_OK);

  // The coordinator sees who waits, and approves.
  coordinator.Sync();
  Bytes state = coordinator.View(case_id, true);
  CHECK(InviteStatus(state, invite.id) == kInviteAccepted);
  CHECK(AccountsIn(state, kStatePendingMembers) == std::vector<Bytes>{invitee.account_id});
  CHECK_FALSE(Has(AccountsIn(state, kStateMembers), invitee.account_id));
  REQUIRE(kring_client_approve_member(coordinator.client, case_id.data(), case_id.size(),
                                      invitee.account_id.data(), invitee.account_id.size(),
                                      err.out()) == KRING_OK);
  CHECK(kring_client_approve_member(coordinator.client, case_id.data(), case_id.size(),
                                    neighbour.account_id.data(), neighbour.account_id.size(),
                                    err.out()) == KRING_ERR_NOT_FOUND);
  coordinator.Sync();
  CHECK(InviteStatus(coordinator.View(case_id, true), invite.id) == kInviteApproved);

  // Written after the approval: the invitee reads it; the older note stays closed.
  OwnedBytes plan_b;
  REQUIRE(kring_client_create_entity(coordinator.client, case_id.data(), case_id.size(), "plan",
                                     &plan_b.b, err.out()) == KRING_OK);
  const Bytes plan = plan_b.get();
  const Bytes title = TextValue("Weekplan");
  REQUIRE(kring_client_set_field(coordinator.client, case_id.data(), case_id.size(), plan.data(),
                                 plan.size(), "title", title.data(), title.size(),
                                 err.out()) == KRING_OK);
  coordinator.Sync();
  invitee.Sync();
  state = invitee.View(case_id, true);
  CHECK(Parse(state).Uint(kStatePendingApproval) == 0);
  CHECK(Has(AccountsIn(state, kStateMembers), invitee.account_id));
  auto at_invitee = EntityOf(state, plan);
  REQUIRE(at_invitee);
  CHECK(FieldText(*at_invitee, "title") == "Weekplan");
  CHECK_FALSE(EntityOf(state, note));
  CHECK(invitee.Pending(case_id) == 0);

  // A second invite: revoked before use. A third: accepted by the neighbour and declined.
  const Invite revoked = CreateInvite(coordinator, case_id, KRING_ROLE_MEMBER);
  coordinator.Sync();
  REQUIRE(kring_client_revoke_invite(coordinator.client, case_id.data(), case_id.size(),
                                     revoked.id.data(), revoked.id.size(), err.out()) == KRING_OK);
  const Invite declined = CreateInvite(coordinator, case_id, KRING_ROLE_MEMBER);
  coordinator.Sync();
  CHECK(InviteStatus(coordinator.View(case_id, true), revoked.id) == kInviteRevoked);
  CHECK(AcceptInvite(neighbour, declined.qr_text) == case_id);
  neighbour.Sync();
  coordinator.Sync();
  REQUIRE(kring_client_decline_member(coordinator.client, case_id.data(), case_id.size(),
                                      neighbour.account_id.data(), neighbour.account_id.size(),
                                      err.out()) == KRING_OK);
  coordinator.Sync();
  state = coordinator.View(case_id, true);
  CHECK(InviteStatus(state, declined.id) == kInviteDeclined);
  CHECK(AccountsIn(state, kStatePendingMembers).empty());
  neighbour.Sync();
  CHECK(Parse(neighbour.View(case_id, true)).All(4).empty());

  // A second case lets newcomers read history: the neighbour, added directly, reads the past.
  OwnedBytes open_b;
  REQUIRE(kring_client_create_case_with_history(coordinator.client, create.data(), create.size(), 1,
                                                &open_b.b, err.out()) == KRING_OK);
  const Bytes open_case = open_b.get();
  OwnedBytes minutes_b;
  REQUIRE(kring_client_create_entity(coordinator.client, open_case.data(), open_case.size(),
                                     "minutes", &minutes_b.b, err.out()) == KRING_OK);
  coordinator.Sync();
  CHECK(Parse(coordinator.View(open_case, true)).Uint(kStateHistory) == 1);
  CHECK(kring_client_add_member(coordinator.client, open_case.data(), open_case.size(),
                                coordinator.account_id.data(), coordinator.account_id.size(),
                                KRING_ROLE_MEMBER, err.out()) == KRING_ERR_PERMISSION_DENIED);
  REQUIRE(kring_client_add_member(coordinator.client, open_case.data(), open_case.size(),
                                  neighbour.account_id.data(), neighbour.account_id.size(),
                                  KRING_ROLE_MEMBER, err.out()) == KRING_OK);
  coordinator.Sync();
  neighbour.Sync();
  CHECK(EntityOf(neighbour.View(open_case, true), minutes_b.get()));

  // Removal: the notice in the caller's language; the removed device is told at its next sync.
  OwnedString notice;
  REQUIRE(kring_client_remove_member(coordinator.client, case_id.data(), case_id.size(),
                                     invitee.account_id.data(), invitee.account_id.size(), "en",
                                     &notice.s, err.out()) == KRING_OK);
  CHECK(notice.get().find("cannot be taken back") != std::string::npos);
  OwnedString notice_nl;
  REQUIRE(kring_client_remove_member(coordinator.client, open_case.data(), open_case.size(),
                                     neighbour.account_id.data(), neighbour.account_id.size(), "nl",
                                     &notice_nl.s, err.out()) == KRING_OK);
  CHECK(notice_nl.get().find("niet meer lezen") != std::string::npos);
  coordinator.Sync();
  const Bytes after = TextValue("na de verwijdering");
  REQUIRE(kring_client_set_field(coordinator.client, case_id.data(), case_id.size(), plan.data(),
                                 plan.size(), "after", after.data(), after.size(),
                                 err.out()) == KRING_OK);
  coordinator.Sync();
  CHECK_FALSE(Has(AccountsIn(coordinator.View(case_id, true), kStateMembers), invitee.account_id));

  CHECK_FALSE(invitee_events.Saw(KRING_CHANGE_REMOVED_FROM_CASE, case_id));
  invitee.Sync();
  CHECK(invitee_events.Saw(KRING_CHANGE_REMOVED_FROM_CASE, case_id));
  state = invitee.View(case_id, true);
  CHECK(Parse(state).Uint(kStateRemoved) == 1);
  auto kept = EntityOf(state, plan);
  REQUIRE(kept);
  CHECK(FieldText(*kept, "title") == "Weekplan");  // what was seen stays
  CHECK_FALSE(FieldText(*kept, "after"));          // what comes after is protected

  // Leaving (ABI 3): a third case with the coordinator's device as chair, the invitee as
  // coordinator and the neighbour as member. The neighbour leaves; the chair's device makes the
  // next key by itself, and the remaining devices show the same new epoch fingerprint.
  const Bytes create_third = CreateCaseMessage(
      {{invitee.account_id, KRING_ROLE_COORDINATOR}, {neighbour.account_id, KRING_ROLE_MEMBER}});
  OwnedBytes third_b;
  REQUIRE(kring_client_create_case(coordinator.client, create_third.data(), create_third.size(),
                                   &third_b.b, err.out()) == KRING_OK);
  const Bytes third = third_b.get();
  OwnedBytes agenda_b;
  REQUIRE(kring_client_create_entity(coordinator.client, third.data(), third.size(), "agenda",
                                     &agenda_b.b, err.out()) == KRING_OK);
  const Bytes agenda = agenda_b.get();
  coordinator.Sync();
  invitee.Sync();
  neighbour.Sync();
  const std::string before_leave = Fingerprint(coordinator, third);
  CHECK(before_leave.rfind("epoch 1: ", 0) == 0);
  CHECK(Fingerprint(invitee, third) == before_leave);
  CHECK(Fingerprint(neighbour, third) == before_leave);

  Events neighbour_events;
  uint64_t neighbour_token = 0;
  REQUIRE(kring_client_add_change_listener(neighbour.client, Events::On, &neighbour_events, nullptr,
                                           &neighbour_token, err.out()) == KRING_OK);
  OwnedString leave_notice;
  REQUIRE(kring_client_leave_case(neighbour.client, third.data(), third.size(), "en",
                                  &leave_notice.s, err.out()) == KRING_OK);
  CHECK(leave_notice.get().find("You have left the circle") != std::string::npos);
  neighbour.Sync();
  CHECK(neighbour_events.Saw(KRING_CHANGE_REMOVED_FROM_CASE, third));
  CHECK(Parse(neighbour.View(third, true)).Uint(kStateRemoved) == 1);
  CHECK(neighbour.Pending(third) == 0);
  REQUIRE(kring_client_remove_change_listener(neighbour.client, neighbour_token, err.out()) ==
          KRING_OK);

  // The chair's first sync sees the leave and pushes the next key; the second confirms it.
  coordinator.Sync();
  coordinator.Sync();
  const std::string after_leave = Fingerprint(coordinator, third);
  CHECK(after_leave.rfind("epoch 2: ", 0) == 0);
  CHECK(after_leave != before_leave);
  CHECK_FALSE(Has(AccountsIn(coordinator.View(third, true), kStateMembers), neighbour.account_id));
  invitee.Sync();
  CHECK(Fingerprint(invitee, third) == after_leave);
  {  // What the leaver still holds is not the new key.
    OwnedString left;
    const kring_status s = kring_client_epoch_fingerprint(neighbour.client, third.data(),
                                                          third.size(), &left.s, err.out());
    CHECK((s == KRING_ERR_NOT_FOUND || (s == KRING_OK && left.get() != after_leave)));
  }
  // Content written after the leave is read by the remaining members, not by the leaver.
  const Bytes later = TextValue("na het vertrek");
  REQUIRE(kring_client_set_field(coordinator.client, third.data(), third.size(), agenda.data(),
                                 agenda.size(), "later", later.data(), later.size(),
                                 err.out()) == KRING_OK);
  coordinator.Sync();
  CHECK(coordinator.Pending(third) == 0);
  invitee.Sync();
  auto at_remaining = EntityOf(invitee.View(third, true), agenda);
  REQUIRE(at_remaining);
  CHECK(FieldText(*at_remaining, "later") == "na het vertrek");
  neighbour.Sync();
  auto at_leaver = EntityOf(neighbour.View(third, true), agenda);
  REQUIRE(at_leaver);  // what was seen stays
  CHECK_FALSE(FieldText(*at_leaver, "later"));

  for (Device* d : {&coordinator, &invitee, &neighbour}) {
    OwnedBytes alarms;
    REQUIRE(kring_client_alarms(d->client, &alarms.b, err.out()) == KRING_OK);
    CHECK(alarms.get().empty());
  }
  REQUIRE(kring_client_remove_change_listener(invitee.client, token, err.out()) == KRING_OK);
}

namespace {

// kringd stopped, `sql` run on its database, kringd started again on the same port (the clients
// keep the address they were opened with): an operator editing the server's records.
void EditStoppedServer(kring::test::TestServer& server, const std::string& sql) {
  REQUIRE(server.Stop() == 0);
  sqlite3* db = nullptr;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  INFO(sqlite3_errmsg(db));
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
  server.RestartOnSamePort();
}

constexpr uint64_t kAlarmRemovalNotShown = 5;  // kring.abi.v1.AlarmKind

}  // namespace

TEST_CASE("abi: a server that stops sending a case without showing the removal raises an alarm",
          "[abi]") {
  kring::test::TestServer server;
  Device anna(server.address().c_str(), /*background=*/false);
  Device bas(server.address().c_str(), /*background=*/false);
  anna.CreateAccount();
  bas.CreateAccount();
  Error err;
  const Bytes create = CreateCaseMessage(
      {{anna.account_id, KRING_ROLE_COORDINATOR}, {bas.account_id, KRING_ROLE_MEMBER}});
  OwnedBytes case_b;
  REQUIRE(kring_client_create_case(anna.client, create.data(), create.size(), &case_b.b,
                                   err.out()) == KRING_OK);
  const Bytes case_id = case_b.get();
  anna.Sync();
  bas.Sync();
  OwnedBytes plan_b;
  REQUIRE(kring_client_create_entity(bas.client, case_id.data(), case_id.size(), "afspraak",
                                     &plan_b.b, err.out()) == KRING_OK);
  const Bytes plan = plan_b.get();
  const Bytes title = TextValue("Samen de post openen");
  REQUIRE(kring_client_set_field(bas.client, case_id.data(), case_id.size(), plan.data(),
                                 plan.size(), "title", title.data(), title.size(),
                                 err.out()) == KRING_OK);
  bas.Sync();
  REQUIRE(bas.Pending(case_id) == 0);

  // Anna removes Bas; kringd then loses the record of that removal (a server that lies about
  // it), so it refuses Bas the case without serving the removal that would prove it.
  OwnedString notice;
  REQUIRE(kring_client_remove_member(anna.client, case_id.data(), case_id.size(),
                                     bas.account_id.data(), bas.account_id.size(), "nl", &notice.s,
                                     err.out()) == KRING_OK);
  anna.Sync();
  EditStoppedServer(server, "DELETE FROM case_removals");

  Events events;
  uint64_t token = 0;
  REQUIRE(kring_client_add_change_listener(bas.client, Events::On, &events, nullptr, &token,
                                           err.out()) == KRING_OK);
  bas.Sync();
  OwnedBytes alarms;
  REQUIRE(kring_client_alarms(bas.client, &alarms.b, err.out()) == KRING_OK);
  const std::vector<Bytes> list = Parse(alarms.get()).All(1);
  REQUIRE(list.size() == 1);
  const Fields alarm = Parse(list[0]);
  CHECK(alarm.Uint(3) == kAlarmRemovalNotShown);
  CHECK(alarm.One(2) == case_id);
  CHECK(events.Saw(KRING_CHANGE_ALARM, case_id));
  CHECK_FALSE(events.Saw(KRING_CHANGE_REMOVED_FROM_CASE, case_id));

  // Not taken as a removal: the case and what Bas wrote stay readable on his device.
  const Bytes state = bas.View(case_id, true);
  CHECK(Parse(state).Uint(kStateRemoved) == 0);
  auto kept = EntityOf(state, plan);
  REQUIRE(kept);
  CHECK(FieldText(*kept, "title") == "Samen de post openen");
  OwnedBytes cases;
  REQUIRE(kring_client_cases(bas.client, &cases.b, err.out()) == KRING_OK);
  CHECK(cases.get() == case_id);  // Bas's only case, still listed

  // Raised once: the next sync adds none.
  bas.Sync();
  OwnedBytes again;
  REQUIRE(kring_client_alarms(bas.client, &again.b, err.out()) == KRING_OK);
  CHECK(Parse(again.get()).All(1).size() == 1);
  REQUIRE(kring_client_remove_change_listener(bas.client, token, err.out()) == KRING_OK);
}

TEST_CASE(
    "abi: linking, listing and revoking devices, and restoring an account against a real "
    "kringd",
    "[abi]") {
  kring::test::TestServer server;
  Device chair(server.address().c_str(), /*background=*/false);
  Device phone(server.address().c_str(), /*background=*/false);
  Device laptop(server.address().c_str(), /*background=*/false);
  Device fresh(server.address().c_str(), /*background=*/false);
  chair.CreateAccount();
  phone.CreateAccount();
  Error err;
  const Bytes create = CreateCaseMessage({{phone.account_id, KRING_ROLE_MEMBER}});
  OwnedBytes case_b;
  REQUIRE(kring_client_create_case(chair.client, create.data(), create.size(), &case_b.b,
                                   err.out()) == KRING_OK);
  const Bytes case_id = case_b.get();
  OwnedBytes plan_b;
  REQUIRE(kring_client_create_entity(chair.client, case_id.data(), case_id.size(), "plan",
                                     &plan_b.b, err.out()) == KRING_OK);
  const Bytes plan = plan_b.get();
  const Bytes title = TextValue("Weekplan");
  REQUIRE(kring_client_set_field(chair.client, case_id.data(), case_id.size(), plan.data(),
                                 plan.size(), "title", title.data(), title.size(),
                                 err.out()) == KRING_OK);
  chair.Sync();
  phone.Sync();

  // The laptop asks; the phone approves with the code the laptop shows; the laptop finishes.
  OwnedString payload, code;
  REQUIRE(kring_client_request_device_link(laptop.client, &payload.s, &code.s, err.out()) ==
          KRING_OK);
  CHECK(payload.get().rfind("kring://device-link/1/", 0) == 0);
  CHECK(code.get().size() == 9);
  OwnedString approval;
  approval.s = reinterpret_cast<char*>(&err);  // junk: reset on entry
  CHECK(kring_client_approve_device_link(phone.client, payload.s, "0000 0000", &approval.s,
                                         err.out()) == KRING_ERR_PERMISSION_DENIED);
  CHECK(err.code() == KRING_ERR_PERMISSION_DENIED);
  CHECK(approval.s == nullptr);
  REQUIRE(kring_client_approve_device_link(phone.client, payload.s, code.s, &approval.s,
                                           err.out()) == KRING_OK);
  OwnedBytes account_b;
  OwnedString number;
  REQUIRE(kring_client_finish_device_link(laptop.client, approval.s, &account_b.b, &number.s,
                                          err.out()) == KRING_OK);
  CHECK(account_b.get() == phone.account_id);
  CHECK(number.get() == phone.safety_number);
  laptop.Sync();
  auto at_laptop = EntityOf(laptop.View(case_id, true), plan);
  REQUIRE(at_laptop);
  CHECK(FieldText(*at_laptop, "title") == "Weekplan");

  // Both devices are listed; the phone's is the first.
  OwnedBytes list;
  REQUIRE(kring_client_devices(laptop.client, &list.b, err.out()) == KRING_OK);
  std::vector<Bytes> devices = Parse(list.get()).All(1);
  REQUIRE(devices.size() == 2);
  OwnedBytes phone_account, phone_device;
  OwnedString phone_number;
  REQUIRE(kring_client_account(phone.client, &phone_account.b, &phone_device.b, &phone_number.s,
                               err.out()) == KRING_OK);
  const Bytes phone_id = phone_device.get();
  CHECK(Parse(devices[0]).One(1) == phone_id);
  CHECK(Parse(devices[0]).Uint(4) == 0);  // not this device
  CHECK(Parse(devices[1]).Uint(4) == 1);

  // The phone is lost: the laptop revokes it; the phone's sign-in is refused from then on.
  CHECK(kring_client_revoke_device(laptop.client, phone_id.data(), 3, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  REQUIRE(kring_client_revoke_device(laptop.client, phone_id.data(), phone_id.size(), err.out()) ==
          KRING_OK);
  laptop.Sync();
  CHECK(laptop.Pending(case_id) == 0);
  CHECK(kring_client_sync_now(phone.client, nullptr, nullptr, err.out()) ==
        KRING_ERR_UNAUTHENTICATED);
  // ABI 6: the server's reason, and its text for the person.
  CHECK(std::string(kring_error_reason(err.e)) == "DEVICE_REVOKED");
  CHECK(std::string(kring_error_user_text(err.e, "nl")) ==
        "Dit apparaat is ingetrokken. Het kan niet meer inloggen.");
  CHECK(std::string(kring_error_user_text(err.e, "en")) ==
        "This device is revoked. It can no longer sign in.");
  OwnedBytes after;
  REQUIRE(kring_client_devices(laptop.client, &after.b, err.out()) == KRING_OK);
  CHECK(Parse(Parse(after.get()).All(1)[0]).Uint(3) == 1);  // revoked

  // A fresh device with the recovery key: a wrong one changes nothing, the right one restores.
  OwnedBytes restored_b;
  OwnedString restored_number;
  CHECK(kring_client_restore_account(fresh.client, "geen sleutel", nullptr, 0, &restored_b.b,
                                     &restored_number.s, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(restored_b.b.data == nullptr);
  const std::string wrong(64, 'a');
  CHECK(kring_client_restore_account(fresh.client, wrong.c_str(), nullptr, 0, &restored_b.b,
                                     &restored_number.s, err.out()) == KRING_ERR_NOT_FOUND);
  CHECK(kring_client_restore_account(fresh.client, phone.recovery_key.c_str(),
                                     phone.account_id.data(), 5, &restored_b.b, &restored_number.s,
                                     err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_restore_account(fresh.client, phone.recovery_key.c_str(),
                                     chair.account_id.data(), chair.account_id.size(),
                                     &restored_b.b, &restored_number.s,
                                     err.out()) == KRING_ERR_NOT_FOUND);
  REQUIRE(kring_client_restore_account(fresh.client, phone.recovery_key.c_str(),
                                       phone.account_id.data(), phone.account_id.size(),
                                       &restored_b.b, &restored_number.s, err.out()) == KRING_OK);
  CHECK(restored_b.get() == phone.account_id);
  CHECK(restored_number.get() == phone.safety_number);
  fresh.Sync();
  auto at_fresh = EntityOf(fresh.View(case_id, true), plan);
  REQUIRE(at_fresh);
  CHECK(FieldText(*at_fresh, "title") == "Weekplan");
}

// ---- ABI 5: restricted scopes, closing and erasure, the netwerkberaad domain ----

namespace {

Bytes CaseFor(Device& chair, const std::vector<Device*>& members) {
  std::vector<std::pair<Bytes, uint32_t>> list;
  for (Device* d : members) list.emplace_back(d->account_id, KRING_ROLE_MEMBER);
  const Bytes request = CreateCaseMessage(list);
  OwnedBytes id;
  Error err;
  REQUIRE(kring_client_create_case(chair.client, request.data(), request.size(), &id.b,
                                   err.out()) == KRING_OK);
  return id.get();
}

uint32_t ScopeOf(Device& d, const Bytes& case_id, const Bytes& entity, kring_status expect) {
  uint32_t scope = 77;
  Error err;
  CHECK(kring_client_scope_of(d.client, case_id.data(), case_id.size(), entity.data(),
                              entity.size(), &scope, err.out()) == expect);
  return scope;
}

Bytes NoteInScope(Device& d, const Bytes& case_id, uint32_t scope, const std::string& text) {
  OwnedBytes id;
  Error err;
  REQUIRE(kring_client_create_entity_in_scope(d.client, case_id.data(), case_id.size(), "note",
                                              scope, &id.b, err.out()) == KRING_OK);
  const Bytes value = TextValue(text);
  REQUIRE(kring_client_set_field(d.client, case_id.data(), case_id.size(), id.b.data, id.b.len,
                                 "text", value.data(), value.size(), err.out()) == KRING_OK);
  return id.get();
}

// Records change kinds per case, from the library's thread; the test thread waits on it.
struct Kinds {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<kring_change_kind, Bytes>> seen;

  static void On(void* user_data, kring_change_kind kind, const uint8_t* case_id, size_t len,
                 const char*) {
    auto* k = static_cast<Kinds*>(user_data);
    std::lock_guard<std::mutex> lock(k->mu);
    k->seen.emplace_back(kind, case_id == nullptr ? Bytes{} : Bytes(case_id, case_id + len));
    k->cv.notify_all();
  }
  bool Has(kring_change_kind kind, const Bytes& case_id) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [k, c] : seen) {
      if (k == kind && c == case_id) return true;
    }
    return false;
  }
};

bool HasCase(Device& d, const Bytes& case_id) {
  OwnedBytes all;
  Error err;
  REQUIRE(kring_client_cases(d.client, &all.b, err.out()) == KRING_OK);
  const Bytes ids = all.get();
  for (size_t i = 0; i + 16 <= ids.size(); i += 16) {
    if (Bytes(ids.begin() + static_cast<long>(i), ids.begin() + static_cast<long>(i + 16)) ==
        case_id) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("abi: restricted scopes against a real kringd", "[abi]") {
  kring::test::TestServer server;
  Device alice(server.address().c_str(), false);
  Device bob(server.address().c_str(), false);
  Device carol(server.address().c_str(), false);
  for (Device* d : {&alice, &bob, &carol}) d->CreateAccount();
  const Bytes cid = CaseFor(alice, {&bob, &carol});
  for (Device* d : {&alice, &bob, &carol}) d->Sync();
  Error err;

  // Bad inputs fail before anything is queued, with the output reset.
  const size_t pending = alice.Pending(cid);
  uint32_t scope = 5;
  CHECK(kring_client_create_scope(alice.client, cid.data(), cid.size(), bob.account_id.data(), 15,
                                  &scope, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(scope == 0);
  CHECK(err.code() == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_create_scope(alice.client, cid.data(), 3, nullptr, 0, &scope, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_set_scope_members(alice.client, cid.data(), cid.size(), 0,
                                       bob.account_id.data(), 16,
                                       err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(alice.Pending(cid) == pending);

  // A scope of Alice and Bob: a note in it reaches Bob, never Carol.
  REQUIRE(kring_client_create_scope(alice.client, cid.data(), cid.size(), bob.account_id.data(),
                                    bob.account_id.size(), &scope, err.out()) == KRING_OK);
  REQUIRE(scope != 0);
  const Bytes secret = NoteInScope(alice, cid, scope, "Nieuw adres: Kerkstraat 1");
  CHECK(ScopeOf(alice, cid, secret, KRING_OK) == scope);
  {  // a failing create_entity_in_scope resets its output
    uint8_t junk = 0;
    kring_bytes out{&junk, 3};
    CHECK(kring_client_create_entity_in_scope(alice.client, cid.data(), cid.size(), nullptr, scope,
                                              &out, err.out()) == KRING_ERR_INVALID_ARGUMENT);
    CHECK((out.data == nullptr && out.len == 0));
    CHECK(ScopeOf(alice, cid, Bytes(16, 0x01), KRING_ERR_NOT_FOUND) == 0);
    // A scope the case does not have: refused as kringd refuses such content.
    CHECK(kring_client_create_entity_in_scope(alice.client, cid.data(), cid.size(), "note",
                                              scope == 4242 ? 4243 : 4242, &out,
                                              err.out()) == KRING_ERR_FAILED_PRECONDITION);
    CHECK(std::string(kring_error_reason(err.e)) == "SCOPE_UNKNOWN");
    CHECK(std::string(kring_error_user_text(err.e, "nl")) ==
          "Dit afgeschermde deel bestaat niet (meer) in deze casus.");
  }
  // A raw op in the scope as well.
  // An entity id created in a scope starts with that scope's id (big-endian).
  Bytes raw_id(16, 0x3C);
  for (size_t i = 0; i < 4; ++i) raw_id[i] = static_cast<uint8_t>(scope >> (24 - 8 * i));
  Bytes op;
  PutUint(op, 1, 1);
  {
    Bytes create_entity;
    PutLen(create_entity, 1, raw_id);
    PutLen(create_entity, 2, std::string("note"));
    Bytes mutation;
    PutLen(mutation, 1, create_entity);
    PutLen(op, 2, mutation);
  }
  REQUIRE(kring_client_submit_in_scope(alice.client, cid.data(), cid.size(), op.data(), op.size(),
                                       scope, err.out()) == KRING_OK);
  CHECK(ScopeOf(alice, cid, raw_id, KRING_OK) == scope);
  for (Device* d : {&alice, &bob, &carol}) d->Sync();
  auto at_bob = EntityOf(bob.View(cid, true), secret);
  REQUIRE(at_bob);
  CHECK(FieldText(*at_bob, "text") == "Nieuw adres: Kerkstraat 1");
  CHECK(ScopeOf(bob, cid, secret, KRING_OK) == scope);
  CHECK(ScopeOf(bob, cid, raw_id, KRING_OK) == scope);
  CHECK_FALSE(EntityOf(carol.View(cid, true), secret));
  CHECK_FALSE(EntityOf(carol.View(cid, true), raw_id));
  CHECK(ScopeOf(carol, cid, secret, KRING_ERR_NOT_FOUND) == 0);

  // Carol in, Bob out: what is written afterwards reaches Carol, not Bob. Whoever changes the
  // members stays in the scope.
  CHECK(kring_client_set_scope_members(alice.client, cid.data(), cid.size(), scope,
                                       carol.account_id.data(), carol.account_id.size(),
                                       err.out()) == KRING_ERR_PERMISSION_DENIED);
  Bytes alice_and_carol = alice.account_id;
  alice_and_carol.insert(alice_and_carol.end(), carol.account_id.begin(), carol.account_id.end());
  REQUIRE(kring_client_set_scope_members(alice.client, cid.data(), cid.size(), scope,
                                         alice_and_carol.data(), alice_and_carol.size(),
                                         err.out()) == KRING_OK);
  alice.Sync();
  const Bytes later = NoteInScope(alice, cid, scope, "Afspraak bij de huisarts");
  for (Device* d : {&alice, &bob, &carol}) d->Sync();
  auto at_carol = EntityOf(carol.View(cid, true), later);
  REQUIRE(at_carol);
  CHECK(FieldText(*at_carol, "text") == "Afspraak bij de huisarts");
  CHECK_FALSE(EntityOf(bob.View(cid, true), later));
  CHECK(ScopeOf(carol, cid, later, KRING_OK) == scope);
}

TEST_CASE("abi: closing and erasing a case against a real kringd", "[abi]") {
  kring::test::TestServer server;
  Device alice(server.address().c_str(), false);
  Device bob(server.address().c_str(), false);
  alice.CreateAccount();
  bob.CreateAccount();
  const Bytes closed = CaseFor(alice, {&bob});
  const Bytes erased = CaseFor(alice, {&bob});
  alice.Sync();
  bob.Sync();
  Error err;

  Kinds kinds;
  uint64_t token = 0;
  REQUIRE(kring_client_add_change_listener(bob.client, Kinds::On, &kinds, nullptr, &token,
                                           err.out()) == KRING_OK);

  // Closing: a retention beyond ten years is refused and queues nothing.
  const size_t pending = alice.Pending(closed);
  CHECK(kring_client_close_case(alice.client, closed.data(), closed.size(), 3651, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(alice.Pending(closed) == pending);
  CHECK(kring_client_close_case(alice.client, closed.data(), 15, 30, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  REQUIRE(kring_client_close_case(alice.client, closed.data(), closed.size(), 30, err.out()) ==
          KRING_OK);
  alice.Sync();
  bob.Sync();
  // CaseState.closed (19) and retention_days (20) on both devices; the case stays readable.
  for (Device* d : {&alice, &bob}) {
    const Fields state = Parse(d->View(closed, true));
    CHECK(state.Uint(19) == 1);
    CHECK(state.Uint(20) == 30);
    CHECK(HasCase(*d, closed));
  }

  // Erasing: gone from Bob's device at his next sync, with KRING_CHANGE_CASE_DELETED.
  CHECK(kring_client_erase_case(alice.client, erased.data(), 4, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  REQUIRE(kring_client_erase_case(alice.client, erased.data(), erased.size(), err.out()) ==
          KRING_OK);
  alice.Sync();
  bob.Sync();
  CHECK(kinds.Has(KRING_CHANGE_CASE_DELETED, erased));
  CHECK_FALSE(kinds.Has(KRING_CHANGE_CASE_DELETED, closed));
  CHECK_FALSE(HasCase(bob, erased));
  OwnedBytes view;
  CHECK(kring_client_view(bob.client, erased.data(), erased.size(), &view.b, err.out()) ==
        KRING_ERR_NOT_FOUND);
  CHECK(view.b.data == nullptr);
  CHECK(HasCase(bob, closed));
  REQUIRE(kring_client_remove_change_listener(bob.client, token, err.out()) == KRING_OK);
}

namespace {

// kring.abi.v1.DomainRequest / DomainResponse, built and read with the wire helpers above.
Bytes Msg(std::initializer_list<std::pair<uint32_t, Bytes>> len_fields,
          std::initializer_list<std::pair<uint32_t, uint64_t>> int_fields = {}) {
  Bytes out;
  for (const auto& [f, v] : int_fields) PutUint(out, f, v);
  for (const auto& [f, v] : len_fields) PutLen(out, f, v);
  return out;
}
Bytes S(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes Call(uint32_t field, const Bytes& body) { return Msg({{field, body}}); }

struct DomainResult {
  kring_status status = KRING_OK;
  Fields response;
  std::string key;  // the error message (a domain key) on failure
  std::string nl;
  std::string en;
};

DomainResult Domain(Device& d, const Bytes& case_id, const Bytes& request) {
  DomainResult r;
  kring_bytes out{reinterpret_cast<uint8_t*>(&r), 3};  // junk: must come back reset on failure
  Error err;
  r.status = kring_client_domain_call(d.client, case_id.data(), case_id.size(), request.data(),
                                      request.size(), &out, err.out());
  if (r.status == KRING_OK) {
    CHECK(err.e == nullptr);
    r.response = Parse(out.data == nullptr ? Bytes{} : Bytes(out.data, out.data + out.len));
    kring_bytes_free(&out);
  } else {
    CHECK((out.data == nullptr && out.len == 0));
    CHECK(err.code() == r.status);
    r.key = err.message();
    r.nl = kring_error_user_text(err.e, "nl");
    r.en = kring_error_user_text(err.e, "en");
    CHECK(std::string(kring_error_user_text(err.e, "de")).empty());
  }
  return r;
}

Bytes Ok(Device& d, const Bytes& case_id, const Bytes& request) {
  DomainResult r = Domain(d, case_id, request);
  INFO(r.key);
  REQUIRE(r.status == KRING_OK);
  return r.response.One(1).value_or(Bytes{});  // DomainResponse.id, when the call makes one
}

Fields Query(Device& d, const Bytes& case_id, uint32_t call, uint32_t response_field,
             const Bytes& body = {}) {
  DomainResult r = Domain(d, case_id, Call(call, body));
  INFO(r.key);
  REQUIRE(r.status == KRING_OK);
  return Parse(r.response.One(response_field).value_or(Bytes{}));
}

Bytes Person(const std::string& name, const std::string& kind, const std::string& relation,
             const std::string& phone) {
  return Msg({{1, S(name)}, {2, S(relation)}, {3, S(kind)}, {10, Msg({{1, S(phone)}})}}, {{8, 1}});
}

}  // namespace

TEST_CASE("abi: a netwerkberaad through kring_client_domain_call against a real kringd", "[abi]") {
  kring::test::TestServer server;
  Device resident(server.address().c_str(), false);
  Device coordinator(server.address().c_str(), false);
  resident.CreateAccount();
  coordinator.CreateAccount();
  Bytes cid;
  {
    const Bytes request = CreateCaseMessage(
        {{coordinator.account_id, static_cast<uint32_t>(KRING_ROLE_COORDINATOR)}});
    OwnedBytes id;
    Error err;
    REQUIRE(kring_client_create_case(resident.client, request.data(), request.size(), &id.b,
                                     err.out()) == KRING_OK);
    cid = id.get();
  }
  auto sync = [&] {
    for (int round = 0; round < 2; ++round) {
      resident.Sync();
      coordinator.Sync();
    }
  };
  sync();

  // Malformed requests: not a DomainRequest, no call, a bad id; nothing queued.
  const size_t pending = coordinator.Pending(cid);
  CHECK(Domain(coordinator, cid, Bytes{0xFF, 0xFF}).status == KRING_ERR_INVALID_ARGUMENT);
  CHECK(Domain(coordinator, cid, Bytes{}).status == KRING_ERR_INVALID_ARGUMENT);
  CHECK(Domain(coordinator, cid, Call(5, Msg({{1, Bytes(3, 1)}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(Domain(coordinator, Bytes(16, 9), Call(8, {})).status != KRING_OK);

  // The referral: without consent it is refused with its key and its Dutch and English text.
  const Bytes resident_person = Person("Sanne de Vries", "resident", "", "06-11223344");
  const Bytes mother = Person("Ria de Vries", "family", "moeder", "06-12345678");
  const Bytes question =
      Msg({{1, S("Ik wil rust in huis.")}, {2, S("Ik kan koken.")}, {3, S("Hulp met geld.")}});
  auto referral = [&](bool consent) {
    return Msg({{1, S("professional")},
                {2, resident_person},
                {3, S("Sanne wil weer grip op haar geld.")},
                {4, mother},
                {9, question}},
               {{5, consent ? 1u : 0u}});
  };
  DomainResult refused = Domain(coordinator, cid, Call(1, referral(false)));
  CHECK(refused.status == KRING_ERR_INVALID_ARGUMENT);
  CHECK(refused.key == "referral.no_consent");
  CHECK(refused.nl == "De bewoner moet eerst toestemming geven.");
  CHECK_FALSE(refused.en.empty());
  CHECK(refused.en != refused.nl);
  CHECK(coordinator.Pending(cid) == pending);
  const Bytes referral_id = Ok(coordinator, cid, Call(1, referral(true)));
  CHECK(referral_id.size() == 16);
  sync();
  const Fields got = Query(resident, cid, 3, 3);
  CHECK(got.One(1) == referral_id);
  CHECK(got.Uint(7) == 1);  // resident_consent
  // Spoed set and cleared after the referral (call 124; the coordinator, then the chair), read
  // back on the other device. The restricted groups (call 125): the contact details went to a
  // group of the coordinator alone, which says so.
  {
    CHECK(got.Uint(8) == 0);
    Ok(coordinator, cid, Call(124, Msg({}, {{1, 1}})));
    sync();
    CHECK(Query(resident, cid, 3, 3).Uint(8) == 1);
    Ok(resident, cid, Call(124, Msg({}, {{1, 0}})));  // the chair
    sync();
    CHECK(Query(coordinator, cid, 3, 3).Uint(8) == 0);
    DomainResult groups = Domain(coordinator, cid, Call(125, {}));
    REQUIRE(groups.status == KRING_OK);
    REQUIRE(groups.response.All(36).size() == 1);
    const Fields g = Parse(groups.response.All(36)[0]);
    CHECK(g.Uint(1) != 0);
    CHECK(g.All(2) == std::vector<Bytes>{coordinator.account_id});
    REQUIRE(g.All(4).size() == 1);
    CHECK(Str(g.All(4)[0]) == "contact");
    CHECK(g.Uint(5) == 1);  // is_member
    // The resident is not in that group: it is listed, holding nothing she can read.
    DomainResult theirs = Domain(resident, cid, Call(125, {}));
    REQUIRE(theirs.status == KRING_OK);
    REQUIRE(theirs.response.All(36).size() == 1);
    const Fields t = Parse(theirs.response.All(36)[0]);
    CHECK(t.All(4).empty());
    CHECK(t.Uint(5) == 0);
  }

  // The circle: the coordinator approves everyone and links Sanne to the resident's account.
  auto circle = [&](Device& d) {
    DomainResult r = Domain(d, cid, Call(8, {}));
    REQUIRE(r.status == KRING_OK);
    std::vector<Fields> people;
    for (const Bytes& p : r.response.All(4)) people.push_back(Parse(p));
    return people;
  };
  auto id_of = [&](const std::string& name) {
    for (const Fields& p : circle(coordinator)) {
      if (p.One(2) && Str(*p.One(2)) == name) return p.One(1).value();
    }
    FAIL("no such person");
    return Bytes{};
  };
  const Bytes sanne = id_of("Sanne de Vries");
  const Bytes ria = id_of("Ria de Vries");
  for (const Bytes& p : {sanne, ria}) Ok(coordinator, cid, Call(5, Msg({{1, p}})));
  Ok(coordinator, cid, Call(7, Msg({{1, sanne}, {2, resident.account_id}})));
  // One account belongs to one person.
  DomainResult in_use =
      Domain(coordinator, cid, Call(7, Msg({{1, ria}, {2, resident.account_id}})));
  CHECK(in_use.status != KRING_OK);
  CHECK(in_use.key == "person.account_in_use");
  CHECK_FALSE(in_use.nl.empty());
  CHECK_FALSE(in_use.en.empty());
  // Anyone may propose someone; the chair approves.
  const Bytes uncle =
      Ok(resident, cid, Call(4, Person("Henk de Vries", "family", "oom", "06-22334455")));
  Ok(resident, cid, Call(5, Msg({{1, uncle}})));
  sync();
  for (Device* d : {&resident, &coordinator}) {
    auto people = circle(*d);
    CHECK(people.size() == 3);
    for (const Fields& p : people) CHECK(Str(p.One(11).value_or(Bytes{})) == "approved");
  }

  // ABI 5, the rest of Organising: who am I, one person, editing a person and their contact.
  CHECK(Ok(resident, cid, Call(110, {})) == sanne);  // my_person_id
  DomainResult not_linked = Domain(coordinator, cid, Call(110, {}));
  CHECK(not_linked.status == KRING_ERR_NOT_FOUND);
  CHECK(not_linked.key == "person.not_linked");
  CHECK_FALSE(not_linked.nl.empty());
  auto person_of = [&](Device& d, const Bytes& id) {
    DomainResult r = Domain(d, cid, Call(109, Msg({{1, id}})));
    INFO(r.key);
    REQUIRE(r.status == KRING_OK);
    REQUIRE(r.response.All(4).size() == 1);
    return Parse(r.response.All(4)[0]);
  };
  CHECK(Str(person_of(resident, ria).One(2).value_or(Bytes{})) == "Ria de Vries");
  CHECK(Str(person_of(resident, ria).One(4).value_or(Bytes{})) == "family");
  // ABI 11: a person proposed with an account that is not in the case reads "not yet in the
  // app" (Person.account_not_joined, field 18) on every device; one whose account is a member
  // does not, nor does one without an account.
  const Bytes els = Ok(coordinator, cid,
                       Call(4, Msg({{1, S("Els Bakker")},
                                    {2, S("buurvrouw")},
                                    {3, S("neighbour")},
                                    {9, Bytes(16, 0x4e)},
                                    {10, Msg({{1, S("06-44556677")}})}},
                                   {{8, 1}})));
  sync();
  for (Device* d : {&resident, &coordinator}) {
    const Fields p = person_of(*d, els);
    CHECK(p.One(10) == Bytes(16, 0x4e));  // account_id
    CHECK(p.Uint(18) == 1);               // account_not_joined
    CHECK(p.Uint(17) == 0);               // account_removed
    CHECK(person_of(*d, sanne).Uint(18) == 0);
    CHECK(person_of(*d, ria).Uint(18) == 0);
  }
  {
    // Bad input is refused before anything is read or queued.
    const size_t before = coordinator.Pending(cid);
    CHECK(Domain(coordinator, cid, Call(109, Msg({{1, Bytes(5, 1)}}))).status ==
          KRING_ERR_INVALID_ARGUMENT);
    CHECK(Domain(coordinator, cid,
                 Call(107, Msg({{1, Bytes(15, 1)}, {2, Person("Ria", "family", "moeder", "")}})))
              .status == KRING_ERR_INVALID_ARGUMENT);
    DomainResult too_long = Domain(
        coordinator, cid,
        Call(107, Msg({{1, ria}, {2, Person(std::string(300, 'x'), "family", "moeder", "")}})));
    CHECK(too_long.status == KRING_ERR_INVALID_ARGUMENT);
    CHECK(too_long.key == "person.text_too_long");
    CHECK(Domain(coordinator, cid, Call(108, Msg({{1, Bytes(3, 1)}, {2, Msg({{1, S("06")}})}})))
              .status == KRING_ERR_INVALID_ARGUMENT);
    DomainResult empty_contact = Domain(coordinator, cid, Call(108, Msg({{1, ria}})));
    CHECK(empty_contact.status == KRING_ERR_INVALID_ARGUMENT);
    CHECK(empty_contact.key == "contact.empty");
    CHECK(Domain(coordinator, cid, Call(111, Msg({{1, Bytes(17, 1)}}))).status ==
          KRING_ERR_INVALID_ARGUMENT);
    CHECK(coordinator.Pending(cid) == before);
  }
  Ok(coordinator, cid,
     Call(107, Msg({{1, ria}, {2, Person("Ria de Vries-Bakker", "family", "moeder", "")}})));
  // The contact lives in a scope of the coordinator(s) and the writer: Ria has no account, so
  // the resident's device is left out.
  Ok(coordinator, cid,
     Call(108, Msg({{1, ria}, {2, Msg({{1, S("06-99887766")}, {3, S("Dorpsweg 3")}})}})));
  sync();
  CHECK(Str(person_of(resident, ria).One(2).value_or(Bytes{})) == "Ria de Vries-Bakker");
  CHECK(Str(person_of(resident, ria).One(3).value_or(Bytes{})) == "moeder");
  const Fields contact = Query(coordinator, cid, 111, 27, Msg({{1, ria}}));
  CHECK(contact.One(2) == ria);
  CHECK(Parse(contact.One(3).value_or(Bytes{})).One(1) == S("06-99887766"));
  CHECK(Parse(contact.One(3).value_or(Bytes{})).One(3) == S("Dorpsweg 3"));
  DomainResult hidden_contact = Domain(resident, cid, Call(111, Msg({{1, ria}})));
  REQUIRE(hidden_contact.status == KRING_OK);
  CHECK_FALSE(hidden_contact.response.One(27));
  // The resident's question, changed after the referral.
  CHECK(Domain(coordinator, cid, Call(106, Msg({{1, S(std::string(5000, 'x'))}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  Ok(coordinator, cid,
     Call(106, Msg({{1, S("Ik wil rust in huis.")},
                    {2, S("Ik kan koken en fietsen.")},
                    {3, S("Hulp met geld.")}})));
  sync();
  CHECK(Parse(Query(resident, cid, 3, 3).One(11).value_or(Bytes{})).One(2) ==
        S("Ik kan koken en fietsen."));
  // Per part (call 127): a part present is written, an empty text too; a part left out is not.
  DomainResult too_long =
      Domain(coordinator, cid, Call(127, Msg({{2, S(std::string(5000, 'x'))}})));
  CHECK(too_long.status == KRING_ERR_INVALID_ARGUMENT);
  CHECK(too_long.key == "referral.question_too_long");
  Ok(coordinator, cid, Call(127, Msg({{2, S("Ik kan goed koken.")}, {3, S("")}})));
  sync();
  const Fields asked = Parse(Query(resident, cid, 3, 3).One(11).value_or(Bytes{}));
  CHECK(asked.One(1) == S("Ik wil rust in huis."));
  CHECK(asked.One(2) == S("Ik kan goed koken."));
  CHECK_FALSE(asked.One(3));  // cleared: proto3 leaves an empty text out
  // Nobody has had a pre-talk yet: every approved invitee is listed.
  auto without_pretalk = [&] {
    DomainResult r = Domain(coordinator, cid, Call(112, {}));
    REQUIRE(r.status == KRING_OK);
    return r.response.All(28);
  };
  CHECK(without_pretalk().size() == 3);

  // The poll: one slot, Sanne required; her answer counts in the coordinator's tally.
  const int64_t start = 1893456000000;  // 2030-01-01T00:00Z
  const Bytes slot =
      Msg({}, {{2, static_cast<uint64_t>(start)}, {3, static_cast<uint64_t>(start + 7'200'000)}});
  const Bytes poll =
      Ok(coordinator, cid,
         Call(9, Msg({{1, slot}, {2, sanne}}, {{3, static_cast<uint64_t>(start - 86'400'000)}})));
  sync();
  const Fields poll_state = Query(resident, cid, 10, 5, Msg({{1, poll}}));
  const Bytes slot_id = Parse(poll_state.One(2).value()).One(1).value();
  Ok(resident, cid, Call(11, Msg({{1, poll}, {2, sanne}, {3, slot_id}}, {{4, 0}})));
  sync();
  const Fields tally = Query(coordinator, cid, 12, 6, Msg({{1, poll}}));
  CHECK(tally.Uint(2) == 1);  // yes
  // The answers: the coordinator sees Sanne's; so does Sanne (her own).
  for (Device* d : {&coordinator, &resident}) {
    DomainResult answers = Domain(*d, cid, Call(113, Msg({{1, poll}})));
    REQUIRE(answers.status == KRING_OK);
    REQUIRE(answers.response.All(29).size() == 1);
    const Fields answer = Parse(answers.response.All(29)[0]);
    CHECK(answer.One(1) == sanne);
    CHECK(answer.One(2) == slot_id);
    CHECK(answer.Uint(3) == 0);  // POLL_ANSWER_YES
  }
  CHECK(Domain(coordinator, cid, Call(113, Msg({{1, Bytes(1, 1)}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(Domain(resident, cid, Call(12, Msg({{1, Bytes(16, 0x11)}}))).status != KRING_OK);

  // Fixing the meeting: nobody had a pre-talk, so it needs a reason.
  const Bytes home = Msg({{2, S("Bij Sanne thuis")}, {3, S("Kerkstraat 12")}});
  DomainResult no_reason =
      Domain(coordinator, cid, Call(13, Msg({{1, poll}, {2, slot_id}, {3, home}})));
  CHECK(no_reason.key == "meeting.pretalk_missing");
  CHECK_FALSE(no_reason.nl.empty());
  const Bytes meeting =
      Ok(coordinator, cid,
         Call(13,
              Msg({{1, poll}, {2, slot_id}, {3, home}, {4, Msg({{1, S("Telefonisch gedaan")}})}})));
  Ok(coordinator, cid, Call(16, Msg({{1, meeting}}, {{2, 1}})));  // PHASE_INFORMATION
  sync();
  const Fields current = Query(resident, cid, 15, 7);
  CHECK(current.One(1) == meeting);
  CHECK(current.Uint(11) == 1);
  const Fields by_id = Query(resident, cid, 114, 7, Msg({{1, meeting}}));  // get_meeting
  CHECK(by_id.One(1) == meeting);
  CHECK(Str(by_id.One(7).value_or(Bytes{})) == "Bij Sanne thuis");
  CHECK(by_id.Uint(2) == static_cast<uint64_t>(start));
  CHECK(Domain(resident, cid, Call(114, Msg({{1, Bytes(16, 0x42)}}))).status != KRING_OK);
  CHECK(Domain(resident, cid, Call(114, Msg({{1, Bytes(2, 0x42)}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  // The meeting's record (calls 120-123): attendance and a note, read back on the other
  // device; bad input refused with nothing queued; finishing only in acceptance.
  {
    const size_t queued = coordinator.Pending(cid);
    CHECK(Domain(coordinator, cid, Call(120, Msg({{1, meeting}, {2, sanne}}, {{3, 7}}))).status ==
          KRING_ERR_INVALID_ARGUMENT);  // no such Attendance
    CHECK(Domain(coordinator, cid, Call(120, Msg({{1, meeting}, {2, Bytes(3, 1)}}, {{3, 1}})))
              .status == KRING_ERR_INVALID_ARGUMENT);
    DomainResult empty_note = Domain(coordinator, cid, Call(121, Msg({{1, meeting}})));
    CHECK(empty_note.status == KRING_ERR_INVALID_ARGUMENT);
    CHECK(empty_note.key == "meeting.note_missing");
    CHECK_FALSE(empty_note.nl.empty());
    DomainResult early_finish = Domain(coordinator, cid, Call(123, Msg({{1, meeting}})));
    CHECK(early_finish.status == KRING_ERR_FAILED_PRECONDITION);
    CHECK(early_finish.key == "meeting.phase_order");
    CHECK(coordinator.Pending(cid) == queued);
    Ok(coordinator, cid, Call(120, Msg({{1, meeting}, {2, sanne}}, {{3, 1}})));  // WRITTEN_VIEW
    const Bytes note =
        Ok(coordinator, cid, Call(121, Msg({{1, meeting}, {2, S("Iedereen kreeg de uitleg.")}})));
    CHECK(note.size() == 16);
    sync();
    const Fields recorded = Query(resident, cid, 114, 7, Msg({{1, meeting}}));
    REQUIRE(recorded.All(17).size() == 1);
    const Fields entry = Parse(recorded.All(17)[0]);
    CHECK(entry.One(1) == sanne);
    CHECK(entry.Uint(2) == 1);      // ATTENDANCE_WRITTEN_VIEW
    CHECK(recorded.Uint(18) == 0);  // not finished
    DomainResult notes = Domain(resident, cid, Call(122, Msg({{1, meeting}})));
    REQUIRE(notes.status == KRING_OK);
    REQUIRE(notes.response.All(35).size() == 1);
    const Fields n = Parse(notes.response.All(35)[0]);
    CHECK(n.One(1) == note);
    CHECK(n.One(3) == coordinator.account_id);
    CHECK(n.Uint(5) == 1);  // PHASE_INFORMATION
    CHECK(n.Uint(6) == 0);  // not private time
    CHECK(Str(n.One(7).value_or(Bytes{})) == "Iedereen kreeg de uitleg.");
  }
  // Reminders a week, a day and two hours before; the notification text carries no content.
  {
    const auto at = static_cast<uint64_t>(start - 10 * 86'400'000LL);
    DomainResult reminders =
        Domain(resident, cid, Call(116, Msg({}, {{1, static_cast<uint64_t>(start)}, {2, at}})));
    REQUIRE(reminders.status == KRING_OK);
    // Packed repeated int64: one length-delimited field of varints.
    const Bytes packed = reminders.response.One(30).value_or(Bytes{});
    std::vector<uint64_t> times;
    for (size_t pos = 0; pos < packed.size();) {
      uint64_t v = 0;
      REQUIRE(GetVarint(packed, pos, v));
      times.push_back(v);
    }
    CHECK(times == std::vector<uint64_t>{static_cast<uint64_t>(start - 7 * 86'400'000LL),
                                         static_cast<uint64_t>(start - 86'400'000LL),
                                         static_cast<uint64_t>(start - 7'200'000LL)});
    DomainResult note = Domain(resident, cid, Call(117, Msg({{1, S("en")}})));
    REQUIRE(note.status == KRING_OK);
    const std::string text = Str(note.response.One(20).value_or(Bytes{}));
    CHECK_FALSE(text.empty());
    CHECK(text.find("Sanne") == std::string::npos);
    CHECK(Domain(resident, cid, Call(117, Msg({{1, S("fr")}}))).status ==
          KRING_ERR_INVALID_ARGUMENT);
  }

  // The plan: an agreement, a draft in the network's own scope, released, accepted.
  const int64_t now = start + 86'400'000;
  const Bytes agreement = Ok(coordinator, cid,
                             Call(39, Msg({{1, sanne}, {2, S("Post openen met Ria")}, {5, ria}},
                                          {{3, static_cast<uint64_t>(now + 7 * 86'400'000LL)}})));
  sync();
  DomainResult network = Domain(resident, cid, Call(30, {}));
  REQUIRE(network.status == KRING_OK);
  const auto scope = static_cast<uint32_t>(network.response.Uint(2));
  CHECK(scope != 0);
  CHECK(Domain(coordinator, cid, Call(30, {})).key == "plan.network_only");
  Bytes content = Msg({{1, S("Ik wil rust in huis.")},
                       {2, S("Ik kan koken.")},
                       {3, S("Hulp met geld.")},
                       {4, Msg({{1, S("finances")}, {2, S("Schulden in kaart.")}})},
                       {5, S("Als het misgaat, bellen we Ria.")},
                       {6, ria}});
  const Bytes draft = Ok(resident, cid, Call(31, Msg({{2, content}}, {{1, scope}})));
  sync();
  CHECK(Domain(coordinator, cid, Call(35, {})).response.One(8) == std::nullopt);
  {
    // The network lists its draft (who wrote it last, its content); the coordinator none.
    DomainResult drafts = Domain(resident, cid, Call(51, {}));
    REQUIRE(drafts.status == KRING_OK);
    REQUIRE(drafts.response.All(39).size() == 1);
    const Fields d = Parse(drafts.response.All(39)[0]);
    CHECK(d.One(1) == draft);
    CHECK(d.Uint(2) == scope);
    CHECK(d.One(4) == resident.account_id);
    CHECK(Parse(d.One(3).value_or(Bytes{})).One(1) == S("Ik wil rust in huis."));
    DomainResult none = Domain(coordinator, cid, Call(51, {}));
    REQUIRE(none.status == KRING_OK);
    CHECK(none.response.All(39).empty());
  }
  const Bytes version = Ok(resident, cid, Call(33, Msg({{1, draft}})));
  CHECK(Domain(resident, cid, Call(52, {})).response.One(8) == std::nullopt);  // not accepted
  Ok(resident, cid, Call(36, Msg({{1, version}}, {{2, static_cast<uint64_t>(now)}})));
  Ok(resident, cid, Call(40, Msg({{1, agreement}})));
  sync();
  CHECK(Query(coordinator, cid, 52, 8).One(1) == version);
  const Fields plan_at_coordinator = Query(coordinator, cid, 35, 8);
  const Fields plan_at_resident = Query(resident, cid, 35, 8);
  CHECK(plan_at_coordinator.One(1) == version);
  CHECK(plan_at_coordinator.Uint(2) == 1);
  CHECK(plan_at_coordinator.One(5) == plan_at_resident.One(5));  // the same hash
  const Fields acceptance = Query(coordinator, cid, 38, 9, Msg({{1, version}}));
  CHECK(acceptance.Uint(8) == 1);  // accepted
  CHECK(acceptance.Uint(9) == static_cast<uint64_t>(now + 42 * 86'400'000LL));

  // Upcoming checks for the coordinator, from the accepted plan's dates.
  DomainResult upcoming =
      Domain(coordinator, cid, Call(65, Msg({}, {{1, static_cast<uint64_t>(now)}})));
  REQUIRE(upcoming.status == KRING_OK);
  REQUIRE(upcoming.response.All(14).size() >= 2);
  const Fields first_check = Parse(upcoming.response.All(14)[0]);
  CHECK(first_check.Uint(1) == 0);  // UPCOMING_CHECK_IN, 28 days after acceptance
  CHECK(first_check.Uint(2) == static_cast<uint64_t>(now + 28 * 86'400'000LL));
  CHECK(first_check.Uint(3) == 0);  // not overdue yet

  // Follow-up: the owner marks it done; the six-week check records it.
  Ok(resident, cid, Call(41, Msg({{1, agreement}}, {{2, 2}})));  // AGREEMENT_DONE
  sync();
  const Fields a = Query(coordinator, cid, 42, 10, Msg({{1, agreement}}));
  CHECK(a.Uint(7) == 2);
  CHECK(a.Uint(5) == 1);  // accepted by the owner
  const Bytes check = Ok(coordinator, cid,
                         Call(61, Msg({{2, Msg({{1, agreement}}, {{2, 2}})}, {4, S("Gaat goed.")}},
                                      {{1, static_cast<uint64_t>(now + 42 * 86'400'000LL)}})));
  sync();
  const Fields latest = Query(resident, cid, 62, 11);
  CHECK(latest.One(1) == check);
  CHECK(latest.All(5).size() == 1);
  DomainResult agreements = Domain(resident, cid, Call(43, {}));
  REQUIRE(agreements.status == KRING_OK);
  CHECK(agreements.response.All(10).size() == 1);
  // Sanne's own agreements; none overdue once done.
  CHECK(Domain(resident, cid, Call(63, {})).response.All(10).size() == 1);
  CHECK(Domain(coordinator, cid,
               Call(64, Msg({}, {{1, static_cast<uint64_t>(now + 100 * 86'400'000LL)}})))
            .response.All(10)
            .empty());

  // The rest of the organising and follow-up calls, each once.
  Ok(coordinator, cid,
     Call(2, Msg({{1, coordinator.account_id}, {2, S("nl")}})));  // assign_coordinator
  sync();
  const Fields assigned = Query(resident, cid, 3, 3);
  CHECK(Parse(assigned.One(13).value_or(Bytes{})).One(1) == coordinator.account_id);
  const Bytes neighbour =
      Ok(coordinator, cid, Call(4, Person("Buurman Piet", "neighbour", "buurman", "06-33445566")));
  sync();
  Ok(resident, cid, Call(6, Msg({{1, neighbour}})));  // decline_person
  Ok(coordinator, cid,
     Call(60, Msg({{2, S("Belronde gedaan.")}},
                  {{1, static_cast<uint64_t>(now + 28 * 86'400'000LL)}})));  // record_check_in
  // An unknown enum value is refused before anything is queued.
  const size_t before_bad_enum = coordinator.Pending(cid);
  CHECK(Domain(coordinator, cid, Call(41, Msg({{1, agreement}}, {{2, 99}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(coordinator.Pending(cid) == before_bad_enum);
  sync();
  bool declined = false;
  for (const Fields& p : circle(coordinator)) {
    if (p.One(1) == neighbour) declined = Str(p.One(11).value_or(Bytes{})) == "declined";
  }
  CHECK(declined);
  // check_ins: the 4-week check-in read back on another device, its note and who wrote it.
  const DomainResult read_checkins = Domain(resident, cid, Call(160, {}));
  REQUIRE(read_checkins.status == KRING_OK);
  const Fields& checkins = read_checkins.response;
  REQUIRE(checkins.All(37).size() == 1);
  const Fields checkin = Parse(checkins.All(37).front());
  CHECK(Str(checkin.One(2).value_or(Bytes{})) == "Belronde gedaan.");
  CHECK(checkin.One(3) == coordinator.account_id);

  // Private time and the draft's release on the meeting; a changed draft, a second version.
  DomainResult private_time = Domain(resident, cid, Call(17, Msg({{1, meeting}})));
  INFO(private_time.key);
  REQUIRE(private_time.status == KRING_OK);
  CHECK(private_time.response.Uint(2) != 0);
  sync();
  // private_time_scope: the same scope on both devices.
  CHECK(Domain(coordinator, cid, Call(115, Msg({{1, meeting}}))).response.Uint(2) ==
        private_time.response.Uint(2));
  CHECK(Domain(resident, cid, Call(115, Msg({{1, meeting}}))).response.Uint(2) ==
        private_time.response.Uint(2));
  // An agreement written in private time stays with the network (Agreement.in_private_time);
  // what the release would share is counted first (call 128), and asking changes nothing.
  const Bytes in_private = Ok(resident, cid,
                              Call(39, Msg({{1, sanne}, {2, S("Sanne belt de woningbouw")}},
                                           {{3, static_cast<uint64_t>(now + 7 * 86'400'000LL)}})));
  sync();
  const Fields original = Query(resident, cid, 42, 10, Msg({{1, in_private}}));
  CHECK(original.Uint(13) == 1);
  CHECK(original.One(14).value_or(Bytes{}).empty());  // copy_of: no copy yet
  CHECK(Domain(coordinator, cid, Call(42, Msg({{1, in_private}}))).status != KRING_OK);
  const Fields shares = Query(resident, cid, 128, 38, Msg({{1, meeting}}));
  CHECK(shares.Uint(1) == 0);  // notes
  CHECK(shares.Uint(2) == 1);  // agreements
  CHECK(shares.Uint(3) == 1);  // the draft, which stays with the network
  sync();
  CHECK(Query(coordinator, cid, 15, 7).Uint(14) == 0);  // not released by asking
  CHECK(Domain(coordinator, cid, Call(42, Msg({{1, in_private}}))).status != KRING_OK);
  Ok(resident, cid, Call(18, Msg({{1, meeting}})));
  sync();
  // Released: the coordinator reads it, by the id the network noted, no longer in private time.
  const Fields shared = Query(coordinator, cid, 42, 10, Msg({{1, in_private}}));
  CHECK(shared.Uint(13) == 0);
  CHECK(Str(Parse(shared.One(2).value_or(Bytes{})).One(2).value_or(Bytes{})) ==
        "Sanne belt de woningbouw");
  // It is the network's copy under an id of its own; copy_of (field 14) names the noted id, in
  // the list too, on both devices, so an app can show it beside the copy.
  CHECK(shared.One(1) != in_private);
  CHECK(shared.One(14) == in_private);
  for (Device* d : {&coordinator, &resident}) {
    const DomainResult listed = Domain(*d, cid, Call(43, {}));
    REQUIRE(listed.status == KRING_OK);
    size_t copies = 0;
    for (const Bytes& bytes : listed.response.All(10)) {
      const Fields listed_agreement = Parse(bytes);
      if (listed_agreement.One(1) == shared.One(1)) {
        ++copies;
        CHECK(listed_agreement.One(14) == in_private);
      } else {  // written in the open
        CHECK(listed_agreement.One(14).value_or(Bytes{}).empty());
      }
    }
    CHECK(copies == 1);
  }
  Ok(resident, cid, Call(32, Msg({{1, draft}, {2, content}})));
  const Bytes second = Ok(resident, cid, Call(34, content));
  sync();
  CHECK(Query(coordinator, cid, 35, 8).One(1) == second);
  CHECK(Query(coordinator, cid, 35, 8).Uint(2) == 2);
  CHECK(Query(coordinator, cid, 52, 8).One(1) == version);  // the second waits for acceptance
  CHECK(Query(coordinator, cid, 15, 7).Uint(14) == 1);      // draft_released
  // Refusals with their key and text: nobody here is the responsible professional, and the
  // referral was not spoed.
  DomainResult not_professional =
      Domain(resident, cid,
             Call(37, Msg({{1, second}, {2, sanne}}, {{3, 1}, {5, static_cast<uint64_t>(now)}})));
  CHECK(not_professional.status != KRING_OK);
  CHECK_FALSE(not_professional.nl.empty());
  DomainResult not_spoed =
      Domain(coordinator, cid,
             Call(14, Msg({{3, home}}, {{1, static_cast<uint64_t>(now)},
                                        {2, static_cast<uint64_t>(now + 3'600'000)},
                                        {5, static_cast<uint64_t>(now)}})));
  CHECK(not_spoed.status != KRING_OK);
  CHECK_FALSE(not_spoed.nl.empty());

  // A pre-talk with Sanne: she reads it, but only the coordinator reads the safety concern (P3).
  const Bytes talk = Ok(coordinator, cid,
                        Call(19, Msg({{1, sanne},
                                      {3, S("phone")},
                                      {4, S("Wat een beraad is.")},
                                      {6, S("Spanning met de ex-partner.")}},
                                     {{2, static_cast<uint64_t>(now)}})));
  sync();
  auto pretalks = [&](Device& d) {
    DomainResult r = Domain(d, cid, Call(20, {}));
    REQUIRE(r.status == KRING_OK);
    REQUIRE(r.response.All(12).size() == 1);
    return Parse(r.response.All(12)[0]);
  };
  CHECK(pretalks(coordinator).One(1) == talk);
  CHECK(Str(pretalks(coordinator).One(7).value_or(Bytes{})) == "Spanning met de ex-partner.");
  CHECK_FALSE(pretalks(resident).One(7));
  CHECK(Str(pretalks(resident).One(5).value_or(Bytes{})) == "Wat een beraad is.");
  // Sanne had her pre-talk: she is no longer listed.
  CHECK(without_pretalk().size() == 2);
  for (const Bytes& p : without_pretalk()) CHECK(p != sanne);

  // ---- The rest of the flows (issue 6), each call once with its result checked ----
  const auto now_u = static_cast<uint64_t>(now);
  auto text_of = [](const DomainResult& r) { return Str(r.response.One(20).value_or(Bytes{})); };

  // Invitations: Henk gets an app invitation, then it is revoked; Ria was invited in person.
  CHECK(Domain(coordinator, cid, Call(105, Msg({{1, uncle}}, {{2, 9}, {3, 3600}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);  // not a role
  const Fields invitation =
      Query(coordinator, cid, 105, 16, Msg({{1, uncle}}, {{2, 3}, {3, 3600}}));
  CHECK_FALSE(invitation.One(1).value_or(Bytes{}).empty());
  CHECK_FALSE(invitation.One(2).value_or(Bytes{}).empty());
  sync();
  auto invitation_of = [&](const Bytes& person) {
    DomainResult r = Domain(coordinator, cid, Call(26, Msg({{1, person}})));
    INFO(r.key);
    REQUIRE(r.status == KRING_OK);
    return r.response.Uint(15);
  };
  CHECK(invitation_of(uncle) == 1);  // INVITATION_PENDING
  DomainResult has_app_invite = Domain(coordinator, cid, Call(24, Msg({{1, uncle}}, {{2, 2}})));
  CHECK(has_app_invite.status != KRING_OK);
  CHECK(has_app_invite.key == "invite.has_app_invite");
  CHECK_FALSE(has_app_invite.nl.empty());
  CHECK(Domain(coordinator, cid, Call(24, Msg({{1, ria}}, {{2, 99}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  Ok(coordinator, cid, Call(25, Msg({{1, uncle}})));          // revoke_invitation
  Ok(coordinator, cid, Call(24, Msg({{1, ria}}, {{2, 2}})));  // record_invitation: accepted
  sync();
  CHECK(invitation_of(uncle) == 6);  // INVITATION_REVOKED
  CHECK(invitation_of(ria) == 2);    // INVITATION_ACCEPTED

  // Participation: a part needs a reason.
  DomainResult no_participation_reason =
      Domain(coordinator, cid, Call(27, Msg({{1, uncle}}, {{2, 1}})));
  CHECK(no_participation_reason.status == KRING_ERR_INVALID_ARGUMENT);
  CHECK(no_participation_reason.key == "participation.reason_missing");
  CHECK_FALSE(no_participation_reason.nl.empty());
  Ok(coordinator, cid, Call(27, Msg({{1, uncle}, {3, S("Alleen het eerste deel.")}}, {{2, 1}})));
  sync();
  const Fields participation = Query(coordinator, cid, 28, 17, Msg({{1, uncle}}));
  CHECK(participation.One(1) == uncle);
  CHECK(participation.Uint(2) == 1);  // PARTICIPATION_PART
  CHECK(Str(participation.One(3).value_or(Bytes{})) == "Alleen het eerste deel.");

  // The view of someone who cannot come.
  const Bytes view =
      Ok(coordinator, cid, Call(29, Msg({{1, uncle}, {2, S("Ik denk aan jullie.")}})));
  CHECK(view.size() == 16);
  sync();
  DomainResult views = Domain(coordinator, cid, Call(100, {}));
  REQUIRE(views.status == KRING_OK);
  REQUIRE(views.response.All(18).size() == 1);
  CHECK(Parse(views.response.All(18)[0]).One(1) == view);
  CHECK(Str(Parse(views.response.All(18)[0]).One(3).value_or(Bytes{})) == "Ik denk aan jullie.");

  // A new location (online), shared again with the current circle; no conflicts.
  const Bytes online = Msg({{2, S("Online")}, {3, S("https://meet.example/beraad")}}, {{1, 2}});
  CHECK(Domain(coordinator, cid, Call(101, Msg({{1, meeting}, {2, Msg({}, {{1, 7}})}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);  // not a location kind
  Ok(coordinator, cid, Call(101, Msg({{1, meeting}, {2, online}})));
  Ok(coordinator, cid, Call(102, Msg({{1, meeting}})));
  sync();
  CHECK(Query(resident, cid, 15, 7).Uint(6) == 2);  // LOCATION_ONLINE
  DomainResult conflicts = Domain(coordinator, cid, Call(103, {}));
  REQUIRE(conflicts.status == KRING_OK);
  CHECK(conflicts.response.All(19).empty());

  // The calendar file.
  DomainResult ics = Domain(coordinator, cid, Call(104, Msg({{1, meeting}, {2, sanne}})));
  INFO(ics.key);
  REQUIRE(ics.status == KRING_OK);
  CHECK(text_of(ics).find("BEGIN:VCALENDAR") != std::string::npos);
  CHECK(text_of(ics).find("Online") != std::string::npos);
  CHECK(Domain(coordinator, cid, Call(104, Msg({{1, meeting}, {2, sanne}, {3, S("de")}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);

  // Plan reading: the versions, the draft, the plan for me, the printout; the chair's grant.
  DomainResult versions = Domain(coordinator, cid, Call(45, {}));
  REQUIRE(versions.status == KRING_OK);
  CHECK(versions.response.All(21).size() == 2);
  const Fields draft_content = Query(resident, cid, 46, 22, Msg({{1, draft}}));
  CHECK(Str(draft_content.One(1).value_or(Bytes{})) == "Ik wil rust in huis.");
  CHECK(Query(resident, cid, 50, 8).One(1) == second);
  DomainResult grant_by_coordinator = Domain(coordinator, cid, Call(47, Msg({}, {{1, 1}})));
  CHECK(grant_by_coordinator.status != KRING_OK);
  CHECK_FALSE(grant_by_coordinator.key.empty());
  Ok(resident, cid, Call(47, Msg({}, {{1, 1}})));
  DomainResult draft_conflicts = Domain(resident, cid, Call(48, Msg({{1, draft}})));
  REQUIRE(draft_conflicts.status == KRING_OK);
  CHECK(draft_conflicts.response.All(19).empty());
  DomainResult printout = Domain(resident, cid, Call(49, Msg({{1, sanne}})));
  INFO(printout.key);
  REQUIRE(printout.status == KRING_OK);
  CHECK(text_of(printout).find("Ik wil rust in huis.") != std::string::npos);
  CHECK(Domain(resident, cid, Call(49, Msg({{1, Bytes(5, 1)}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);

  // The mentor, designated by the young person: Ria is Sanne's mother, so a warning (not an
  // error); consent is required.
  DomainResult no_consent =
      Domain(resident, cid, Call(66, Msg({{1, sanne}, {2, ria}}, {{6, now_u}})));
  CHECK(no_consent.key == "mentor.consent_missing");
  DomainResult designated =
      Domain(resident, cid, Call(66, Msg({{1, sanne}, {2, ria}}, {{3, 1}, {6, now_u}})));
  INFO(designated.key);
  REQUIRE(designated.status == KRING_OK);
  const Bytes mentor_id = designated.response.One(1).value_or(Bytes{});
  CHECK(mentor_id.size() == 16);
  REQUIRE(designated.response.All(23).size() == 1);
  CHECK(Str(designated.response.All(23)[0]) == "mentor.warn_parent");
  sync();
  Ok(coordinator, cid, Call(67, Msg({{1, mentor_id}, {3, S("Eerste gesprek.")}}, {{2, now_u}})));
  Ok(coordinator, cid, Call(68, Msg({{1, mentor_id}, {3, S("Loopt goed.")}}, {{2, now_u + 1}})));
  sync();
  const Fields mentor_state = Query(resident, cid, 69, 24);
  CHECK(mentor_state.One(1) == mentor_id);
  CHECK(mentor_state.One(3) == ria);
  CHECK(mentor_state.All(7).size() == 1);
  CHECK(mentor_state.All(8).size() == 1);

  // The micro-analysis.
  DomainResult bad_score =
      Domain(coordinator, cid, Call(70, Msg({}, {{1, 0}, {2, 11}, {3, now_u}})));
  CHECK(bad_score.key == "micro.score_out_of_range");
  Ok(coordinator, cid, Call(70, Msg({}, {{1, 0}, {2, 4}, {3, now_u}})));
  Ok(coordinator, cid, Call(70, Msg({}, {{1, 1}, {2, 7}, {3, now_u + 1}})));
  Ok(coordinator, cid, Call(71, Msg({{2, S("Schuldhulp")}}, {{1, 0}, {3, 25000}})));
  Ok(coordinator, cid, Call(71, Msg({{2, S("Schuldhulp")}}, {{1, 1}, {3, 10000}})));
  sync();
  const Fields micro = Query(coordinator, cid, 72, 25);
  CHECK(micro.Uint(1) == 4);
  CHECK(micro.Uint(2) == 7);
  CHECK(micro.Uint(3) == 3);
  CHECK(micro.Uint(4) == 25000);
  CHECK(micro.Uint(5) == 10000);

  // Changed since the start: the plan's entities.
  DomainResult changed = Domain(coordinator, cid, Call(73, Msg({}, {{1, 0}})));
  REQUIRE(changed.status == KRING_OK);
  CHECK_FALSE(changed.response.All(26).empty());

  // The anonymous team report over the coordinator's cases (one case: every figure suppressed).
  const auto from = static_cast<uint64_t>(start - 30 * 86'400'000LL);
  const auto to = static_cast<uint64_t>(start + 365 * 86'400'000LL);
  DomainResult json = Domain(coordinator, cid, Call(74, Msg({}, {{1, from}, {2, to}, {3, 1}})));
  INFO(json.key);
  REQUIRE(json.status == KRING_OK);
  CHECK(text_of(json).find("\"min_cell\":5") != std::string::npos);
  CHECK(text_of(json).find("suppressed") != std::string::npos);
  DomainResult csv =
      Domain(coordinator, cid, Call(74, Msg({{4, S("en")}}, {{1, from}, {2, to}, {3, 0}})));
  REQUIRE(csv.status == KRING_OK);
  CHECK(text_of(csv).rfind("figure,label,value,cases,status", 0) == 0);
  DomainResult bad_period = Domain(coordinator, cid, Call(74, Msg({}, {{1, to}, {2, from}})));
  CHECK(bad_period.key == "report.bad_period");
  CHECK_FALSE(bad_period.nl.empty());
  CHECK(Domain(coordinator, cid, Call(74, Msg({}, {{1, from}, {2, to}, {3, 9}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);

  // Editing an accepted agreement visibly drops its acceptance.
  Ok(coordinator, cid,
     Call(44, Msg({{1, agreement},
                   {2, Msg({{1, sanne}, {2, S("Post openen met Ria, elke week")}, {5, ria}},
                           {{3, static_cast<uint64_t>(now + 14 * 86'400'000LL)}})}})));
  sync();
  const Fields edited = Query(resident, cid, 42, 10, Msg({{1, agreement}}));
  CHECK(edited.Uint(5) == 0);  // accepted
  CHECK(edited.Uint(6) == 1);  // acceptance_stale

  // The calendar: a new time bumps the sequence; cancelling shows in every export.
  auto calendar = [&] { return Query(coordinator, cid, 23, 13, Msg({{1, meeting}, {2, sanne}})); };
  const Fields before_move = calendar();
  CHECK_FALSE(before_move.One(1).value_or(Bytes{}).empty());  // uid
  CHECK_FALSE(before_move.One(5).value_or(Bytes{}).empty());  // location text
  Ok(coordinator, cid,
     Call(21, Msg({{1, meeting}}, {{2, static_cast<uint64_t>(start + 86'400'000)},
                                   {3, static_cast<uint64_t>(start + 93'600'000)}})));
  const Fields moved = calendar();
  CHECK(moved.One(1) == before_move.One(1));  // the same UID
  CHECK(moved.Uint(2) == before_move.Uint(2) + 1);
  CHECK(moved.Uint(3) == static_cast<uint64_t>(start + 86'400'000));
  Ok(coordinator, cid, Call(22, Msg({{1, meeting}})));
  sync();
  CHECK(Query(resident, cid, 15, 7).Uint(5) == 1);  // cancelled
  CHECK(calendar().Uint(6) == 1);

  CHECK(resident.Pending(cid) == 0);
  CHECK(coordinator.Pending(cid) == 0);
}

namespace {

// A member's role (KRING_ROLE_*) in a CaseState; 0 when not a member.
uint64_t RoleIn(const Bytes& state, const Bytes& account_id) {
  for (const Bytes& m : Parse(state).All(kStateMembers)) {
    Fields f = Parse(m);
    if (f.One(1) == account_id) return f.Uint(2);
  }
  return 0;
}

}  // namespace

TEST_CASE("abi: changing a member's role against a real kringd", "[abi]") {
  kring::test::TestServer server;
  Device chair(server.address().c_str(), false);
  Device member(server.address().c_str(), false);
  chair.CreateAccount();
  member.CreateAccount();
  const Bytes cid = CaseFor(chair, {&member});
  chair.Sync();
  member.Sync();
  Error err;

  // Inputs are checked before anything is queued.
  const size_t pending = chair.Pending(cid);
  CHECK(kring_client_set_role(chair.client, cid.data(), cid.size(), member.account_id.data(),
                              member.account_id.size(), static_cast<kring_role>(0),
                              err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_set_role(chair.client, cid.data(), cid.size(), member.account_id.data(), 15,
                              KRING_ROLE_COORDINATOR, err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_set_role(chair.client, cid.data(), 15, member.account_id.data(),
                              member.account_id.size(), KRING_ROLE_COORDINATOR,
                              err.out()) == KRING_ERR_INVALID_ARGUMENT);
  // The rules: a plain member may not; nobody becomes chair; the chair stays chair.
  CHECK(kring_client_set_role(member.client, cid.data(), cid.size(), member.account_id.data(),
                              member.account_id.size(), KRING_ROLE_COORDINATOR,
                              err.out()) == KRING_ERR_PERMISSION_DENIED);
  CHECK(std::string(kring_error_reason(err.e)) == "MANAGERS_ONLY");
  CHECK(std::string(kring_error_user_text(err.e, "nl")) ==
        "Dit mag alleen de hoofdpersoon of de gespreksleider.");
  // Nobody becomes chair by a role change: INVALID_ARGUMENT with kringd's reason.
  CHECK(kring_client_set_role(chair.client, cid.data(), cid.size(), member.account_id.data(),
                              member.account_id.size(), KRING_ROLE_CHAIR,
                              err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(std::string(kring_error_reason(err.e)) == "ROLE_NOT_ASSIGNABLE");
  CHECK(std::string(kring_error_user_text(err.e, "en")) ==
        "You can only make someone a coordinator or a plain member.");
  CHECK(kring_client_set_role(chair.client, cid.data(), cid.size(), chair.account_id.data(),
                              chair.account_id.size(), KRING_ROLE_MEMBER,
                              err.out()) == KRING_ERR_PERMISSION_DENIED);
  // The other control changes the library refuses itself carry kringd's reason too.
  CHECK(kring_client_add_member(member.client, cid.data(), cid.size(), chair.account_id.data(),
                                chair.account_id.size(), KRING_ROLE_MEMBER,
                                err.out()) == KRING_ERR_PERMISSION_DENIED);
  CHECK(std::string(kring_error_reason(err.e)) == "MANAGERS_ONLY");
  CHECK(kring_client_decline_member(chair.client, cid.data(), cid.size(), member.account_id.data(),
                                    member.account_id.size(),
                                    err.out()) == KRING_ERR_PERMISSION_DENIED);
  CHECK(std::string(kring_error_reason(err.e)) == "NOT_WAITING");
  CHECK(std::string(kring_error_user_text(err.e, "nl")) ==
        "Deze persoon wacht niet op goedkeuring.");
  CHECK(chair.Pending(cid) == pending);
  CHECK(member.Pending(cid) == 0);

  // The chair makes the member coordinator: queued, then seen on the member's device.
  REQUIRE(kring_client_set_role(chair.client, cid.data(), cid.size(), member.account_id.data(),
                                member.account_id.size(), KRING_ROLE_COORDINATOR,
                                err.out()) == KRING_OK);
  CHECK(RoleIn(chair.View(cid), member.account_id) == KRING_ROLE_COORDINATOR);
  chair.Sync();
  CHECK(chair.Pending(cid) == 0);
  member.Sync();
  CHECK(RoleIn(member.View(cid, true), member.account_id) == KRING_ROLE_COORDINATOR);
  CHECK(RoleIn(member.View(cid, true), chair.account_id) == KRING_ROLE_CHAIR);
  // What a coordinator may do.
  const Invite invite = CreateInvite(member, cid, KRING_ROLE_MEMBER);
  member.Sync();
  chair.Sync();
  CHECK(InviteStatus(chair.View(cid, true), invite.id) != 0);
  CHECK(kring_client_set_role(chair.client, cid.data(), cid.size(), member.account_id.data(),
                              member.account_id.size(), KRING_ROLE_COORDINATOR,
                              err.out()) == KRING_ERR_ALREADY_EXISTS);  // already, as kringd says
  CHECK(std::string(kring_error_reason(err.e)) == "ROLE_UNCHANGED");
}

TEST_CASE("abi: kring_client_sync_case syncs one case and leaves the other", "[abi]") {
  kring::test::TestServer server;
  Device chair(server.address().c_str(), false);
  Device member(server.address().c_str(), false);
  chair.CreateAccount();
  member.CreateAccount();
  const Bytes one = CaseFor(chair, {&member});
  const Bytes two = CaseFor(chair, {&member});
  chair.Sync();
  member.Sync();
  Error err;
  auto note = [&](Device& d, const Bytes& cid) {
    OwnedBytes e;
    REQUIRE(kring_client_create_entity(d.client, cid.data(), cid.size(), "note", &e.b, err.out()) ==
            KRING_OK);
    return e.get();
  };
  const Bytes chair_one = note(chair, one);
  const Bytes chair_two = note(chair, two);
  chair.Sync();
  const Bytes member_one = note(member, one);
  const Bytes member_two = note(member, two);

  uint64_t pulled = 0;
  uint64_t pushed = 0;
  REQUIRE(kring_client_sync_case(member.client, one.data(), one.size(), &pulled, &pushed,
                                 err.out()) == KRING_OK);
  CHECK(pulled >= 1);
  CHECK(pushed >= 1);
  CHECK(EntityOf(member.View(one, true), chair_one));
  CHECK(EntityOf(member.View(one, true), member_one));
  CHECK(member.Pending(one) == 0);
  // The other case: nothing fetched, nothing sent.
  CHECK_FALSE(EntityOf(member.View(two, true), chair_two));
  CHECK(member.Pending(two) == 1);
  chair.Sync();
  CHECK(EntityOf(chair.View(one, true), member_one));
  CHECK_FALSE(EntityOf(chair.View(two), member_two));

  // Ids: unknown to device and server, the wrong length, none. Outputs reset on failure.
  const Bytes unknown(16, 0x42);
  pulled = 7;
  pushed = 7;
  CHECK(kring_client_sync_case(member.client, unknown.data(), unknown.size(), &pulled, &pushed,
                               err.out()) == KRING_ERR_NOT_FOUND);
  CHECK((pulled == 0 && pushed == 0));
  CHECK(err.code() == KRING_ERR_NOT_FOUND);
  CHECK(kring_client_sync_case(member.client, one.data(), 15, nullptr, nullptr, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_sync_case(member.client, nullptr, 16, nullptr, nullptr, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_sync_case(nullptr, one.data(), one.size(), nullptr, nullptr, nullptr) ==
        KRING_ERR_INVALID_ARGUMENT);

  // The async variant: completed once each, with that case's outcome; a bad id is refused at
  // once and never completed.
  Completions done(2);
  Completions::Job jobs[2] = {{&done, 0}, {&done, 1}};
  REQUIRE(kring_client_sync_case_async(member.client, two.data(), two.size(), Completions::OnDone,
                                       &jobs[0], err.out()) == KRING_OK);
  REQUIRE(kring_client_sync_case_async(member.client, unknown.data(), unknown.size(),
                                       Completions::OnDone, &jobs[1], err.out()) == KRING_OK);
  CHECK(kring_client_sync_case_async(member.client, two.data(), 3, Completions::OnDone, &jobs[1],
                                     err.out()) == KRING_ERR_INVALID_ARGUMENT);
  CHECK(kring_client_sync_case_async(member.client, two.data(), two.size(), nullptr, nullptr,
                                     err.out()) == KRING_ERR_INVALID_ARGUMENT);
  REQUIRE(done.WaitAll());
  {
    std::lock_guard<std::mutex> lock(done.mu);
    CHECK(done.consistent);
    CHECK(done.calls[0] == 1);
    CHECK(done.calls[1] == 1);
    CHECK(done.statuses[0] == KRING_OK);
    CHECK(done.statuses[1] == KRING_ERR_NOT_FOUND);
  }
  CHECK(member.Pending(two) == 0);
  CHECK(EntityOf(member.View(two, true), chair_two));
}

// kring.abi.v1.SyncReport: per case (field 3: case_id 1, count 2) the new conflicts it lists.
std::vector<std::pair<Bytes, uint64_t>> NewConflicts(const Fields& report) {
  std::vector<std::pair<Bytes, uint64_t>> out;
  for (const Bytes& c : report.All(3)) {
    const Fields f = Parse(c);
    out.emplace_back(f.One(1).value_or(Bytes{}), f.Uint(2));
  }
  return out;
}

// An app learns from the sync which cases it brought conflicts to (ABI 11), without reading
// every case before and after; a conflict is told once, by the sync that made it.
TEST_CASE("abi: a sync report counts a new conflict once", "[abi]") {
  kring::test::TestServer server;
  Device chair(server.address().c_str(), false);
  Device member(server.address().c_str(), false);
  chair.CreateAccount();
  member.CreateAccount();
  const Bytes one = CaseFor(chair, {&member});
  const Bytes two = CaseFor(chair, {&member});
  Error err;
  OwnedBytes made;
  REQUIRE(kring_client_create_entity(chair.client, one.data(), one.size(), "agreement", &made.b,
                                     err.out()) == KRING_OK);
  const Bytes item = made.get();
  chair.Sync();
  member.Sync();
  auto set = [&](Device& d, const Bytes& cid, const char* field, const std::string& text) {
    const Bytes v = TextValue(text);
    REQUIRE(kring_client_set_field(d.client, cid.data(), cid.size(), item.data(), item.size(),
                                   field, v.data(), v.size(), err.out()) == KRING_OK);
  };
  auto report = [&](Device& d) {
    OwnedBytes out;
    INFO(err.message());
    REQUIRE(kring_client_sync_now_report(d.client, &out.b, err.out()) == KRING_OK);
    return Parse(out.get());
  };
  set(chair, one, "owner", "tante");
  set(member, one, "owner", "oom");
  const Fields first = report(chair);
  CHECK(first.Uint(2) >= 1);  // pushed; nothing to conflict with yet
  CHECK(NewConflicts(first).empty());
  // The member's catch-up makes the conflict: one case, one conflict; the other case unlisted.
  const Fields brought = report(member);
  CHECK(brought.Uint(1) >= 1);
  CHECK(brought.Uint(2) >= 1);
  CHECK(NewConflicts(brought) == std::vector<std::pair<Bytes, uint64_t>>{{one, 1}});
  // The chair learns of it from its own sync of that case (the same report, one case at most).
  OwnedBytes at_chair;
  REQUIRE(kring_client_sync_case_report(chair.client, one.data(), one.size(), &at_chair.b,
                                        err.out()) == KRING_OK);
  CHECK(NewConflicts(Parse(at_chair.get())) == std::vector<std::pair<Bytes, uint64_t>>{{one, 1}});
  // Told once: a later sync bringing another edit does not count it again.
  set(member, one, "action", "koken");
  CHECK(NewConflicts(report(member)).empty());
  const Fields later = report(chair);
  CHECK(later.Uint(1) >= 1);
  CHECK(NewConflicts(later).empty());

  // The report is required; a failure leaves it reset.
  CHECK(kring_client_sync_now_report(chair.client, nullptr, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
  const Bytes unknown(16, 0x42);
  OwnedBytes none;
  CHECK(kring_client_sync_case_report(chair.client, unknown.data(), unknown.size(), &none.b,
                                      err.out()) == KRING_ERR_NOT_FOUND);
  CHECK(none.get().empty());
  CHECK(kring_client_sync_case_report(chair.client, two.data(), two.size(), nullptr, err.out()) ==
        KRING_ERR_INVALID_ARGUMENT);
}

// Two devices of one account that change one field at once are one person: the report says how
// many of a case's new conflicts are such (CaseConflicts.own_devices, field 3), so an app does not
// tell the user that two people disagree.
TEST_CASE("abi: a sync report tells a conflict between two own devices", "[abi]") {
  kring::test::TestServer server;
  Device chair(server.address().c_str(), false);
  Device laptop(server.address().c_str(), false);
  Device member(server.address().c_str(), false);
  chair.CreateAccount();
  member.CreateAccount();
  Error err;
  OwnedString payload, code, approval, number;
  REQUIRE(kring_client_request_device_link(laptop.client, &payload.s, &code.s, err.out()) ==
          KRING_OK);
  REQUIRE(kring_client_approve_device_link(chair.client, payload.s, code.s, &approval.s,
                                           err.out()) == KRING_OK);
  OwnedBytes account_b;
  REQUIRE(kring_client_finish_device_link(laptop.client, approval.s, &account_b.b, &number.s,
                                          err.out()) == KRING_OK);
  const Bytes cid = CaseFor(chair, {&member});
  OwnedBytes made;
  REQUIRE(kring_client_create_entity(chair.client, cid.data(), cid.size(), "agreement", &made.b,
                                     err.out()) == KRING_OK);
  const Bytes item = made.get();
  chair.Sync();
  laptop.Sync();
  member.Sync();
  auto set = [&](Device& d, const char* field, const std::string& text) {
    const Bytes v = TextValue(text);
    REQUIRE(kring_client_set_field(d.client, cid.data(), cid.size(), item.data(), item.size(),
                                   field, v.data(), v.size(), err.out()) == KRING_OK);
  };
  auto own_devices = [&](Device& d) {
    OwnedBytes out;
    INFO(err.message());
    REQUIRE(kring_client_sync_now_report(d.client, &out.b, err.out()) == KRING_OK);
    const std::vector<Bytes> cases = Parse(out.get()).All(3);
    REQUIRE(cases.size() == 1);
    const Fields f = Parse(cases[0]);
    CHECK(f.Uint(2) == 1);
    return f.Uint(3);
  };
  // The chair's phone and laptop: one account, so the laptop's report says own devices.
  set(chair, "owner", "tante");
  set(laptop, "owner", "oom");
  chair.Sync();
  CHECK(own_devices(laptop) == 1);
  member.Sync();  // takes that conflict: not the member's own devices, and counted here
  // Two people: not own devices.
  set(chair, "action", "koken");
  set(member, "action", "fietsen");
  chair.Sync();
  CHECK(own_devices(member) == 0);
}

TEST_CASE("abi: a closed case refuses leaving and editing with CASE_CLOSED", "[abi]") {
  kring::test::TestServer server;
  Device chair(server.address().c_str(), false);
  Device member(server.address().c_str(), false);
  chair.CreateAccount();
  member.CreateAccount();
  const Bytes cid = CaseFor(chair, {&member});
  Error err;
  OwnedBytes entity_b;
  REQUIRE(kring_client_create_entity(chair.client, cid.data(), cid.size(), "plan", &entity_b.b,
                                     err.out()) == KRING_OK);
  const Bytes entity = entity_b.get();
  chair.Sync();
  member.Sync();
  // Three edits wait on the member's device while the chair closes the case.
  for (const char* text : {"een", "twee", "drie"}) {
    const Bytes value = TextValue(text);
    REQUIRE(kring_client_set_field(member.client, cid.data(), cid.size(), entity.data(),
                                   entity.size(), "title", value.data(), value.size(),
                                   err.out()) == KRING_OK);
  }
  REQUIRE(member.Pending(cid) == 3);
  Rejections rejections;
  uint64_t token = 0;
  REQUIRE(kring_client_add_change_event_listener(member.client, Rejections::On, &rejections,
                                                 nullptr, &token, err.out()) == KRING_OK);
  REQUIRE(kring_client_close_case(chair.client, cid.data(), cid.size(), 30, err.out()) == KRING_OK);
  chair.Sync();
  member.Sync();
  {  // ABI 8: one event for the three, with their number, instead of one per edit
    std::lock_guard<std::mutex> lock(rejections.mu);
    CHECK(rejections.others_plain);
    REQUIRE(rejections.seen.size() == 1);
    CHECK(rejections.seen[0].case_id == cid);
    CHECK(rejections.seen[0].reason == "CASE_CLOSED");
    CHECK(rejections.seen[0].count == 3);
    CHECK(rejections.seen[0].text_nl == "Deze casus is gesloten. Je kunt hem alleen nog lezen.");
  }
  CHECK(member.Pending(cid) == 0);

  // As kringd answers: FAILED_PRECONDITION with the reason, and nothing is queued.
  char* notice = nullptr;
  CHECK(kring_client_leave_case(member.client, cid.data(), cid.size(), "nl", &notice, err.out()) ==
        KRING_ERR_FAILED_PRECONDITION);
  CHECK(notice == nullptr);
  CHECK(std::string(kring_error_reason(err.e)) == "CASE_CLOSED");
  CHECK(std::string(kring_error_user_text(err.e, "nl")) ==
        "Deze casus is gesloten. Je kunt hem alleen nog lezen.");
  const Bytes title = TextValue("Weekplan");
  CHECK(kring_client_set_field(member.client, cid.data(), cid.size(), entity.data(), entity.size(),
                               "title", title.data(), title.size(),
                               err.out()) == KRING_ERR_FAILED_PRECONDITION);
  CHECK(std::string(kring_error_reason(err.e)) == "CASE_CLOSED");
  CHECK(member.Pending(cid) == 0);
  REQUIRE(kring_client_remove_change_listener(member.client, token, err.out()) == KRING_OK);
}

TEST_CASE("abi: taking someone out of the circle through kring_client_domain_call (ABI 10)",
          "[abi]") {
  CHECK(kring_abi_version() >= 10);
  kring::test::TestServer server;
  Device resident(server.address().c_str(), false);
  Device coordinator(server.address().c_str(), false);
  Device member(server.address().c_str(), false);
  resident.CreateAccount();
  coordinator.CreateAccount();
  member.CreateAccount();
  Bytes cid;
  {
    const Bytes request =
        CreateCaseMessage({{coordinator.account_id, static_cast<uint32_t>(KRING_ROLE_COORDINATOR)},
                           {member.account_id, static_cast<uint32_t>(KRING_ROLE_MEMBER)}});
    OwnedBytes id;
    Error err;
    REQUIRE(kring_client_create_case(resident.client, request.data(), request.size(), &id.b,
                                     err.out()) == KRING_OK);
    cid = id.get();
  }
  auto sync = [&] {
    for (int round = 0; round < 2; ++round) {
      for (Device* d : {&resident, &coordinator, &member}) d->Sync();
    }
  };
  sync();
  const Bytes sanne = Ok(coordinator, cid, Call(4, Person("Sanne", "resident", "", "06-12345678")));
  const Bytes kees =
      Ok(coordinator, cid, Call(4, Person("Kees", "neighbour", "buurman", "06-87654321")));
  for (const Bytes& p : {sanne, kees}) Ok(coordinator, cid, Call(5, Msg({{1, p}})));
  const Bytes mow =
      Ok(coordinator, cid,
         Call(39, Msg({{1, kees}, {2, S("Gras maaien")}}, {{3, 4'000'000'000'000ULL}})));
  sync();
  auto person_of = [&](Device& d, const Bytes& id) {
    DomainResult r = Domain(d, cid, Call(109, Msg({{1, id}})));
    INFO(r.key);
    REQUIRE(r.status == KRING_OK);
    REQUIRE(r.response.All(4).size() == 1);
    return Parse(r.response.All(4)[0]);
  };

  // Refusals change nothing: a bad id, a member who does not organise, the resident.
  const size_t pending = coordinator.Pending(cid);
  CHECK(Domain(coordinator, cid, Call(118, Msg({{1, Bytes(3, 1)}}))).status ==
        KRING_ERR_INVALID_ARGUMENT);
  DomainResult not_allowed = Domain(member, cid, Call(118, Msg({{1, kees}})));
  CHECK(not_allowed.status == KRING_ERR_PERMISSION_DENIED);
  // The key says who may, and its text travels through the C ABI with it.
  CHECK(not_allowed.key == "refused.managers_only");
  CHECK(not_allowed.nl == "Dit mag alleen de hoofdpersoon of de gespreksleider.");
  DomainResult resident_stays = Domain(coordinator, cid, Call(118, Msg({{1, sanne}})));
  CHECK(resident_stays.status == KRING_ERR_FAILED_PRECONDITION);
  CHECK(resident_stays.key == "person.resident_stays");
  CHECK(resident_stays.nl == "De hoofdpersoon kan niet uit de eigen kring worden gehaald.");
  CHECK_FALSE(resident_stays.en.empty());
  CHECK(coordinator.Pending(cid) == pending);
  CHECK(member.Pending(cid) == 0);

  // Taken out: the response names his open agreement; every device sees him as left.
  DomainResult removed = Domain(coordinator, cid, Call(118, Msg({{1, kees}})));
  INFO(removed.key);
  REQUIRE(removed.status == KRING_OK);
  CHECK(removed.response.All(28) == std::vector<Bytes>{mow});
  CHECK(removed.response.All(23).empty());  // no account that could still read the case
  sync();
  for (Device* d : {&resident, &member}) {
    const Fields p = person_of(*d, kees);
    CHECK(p.Uint(15) == 1);  // left
    CHECK(p.Uint(16) > 0);   // left_at_ms
    CHECK(p.Uint(17) == 0);  // account_removed
    CHECK(person_of(*d, sanne).Uint(15) == 0);
    const Fields a = Query(*d, cid, 42, 10, Msg({{1, mow}}));
    CHECK(a.Uint(11) == 1);  // owner_left
    CHECK(a.Uint(12) == 1);  // needs_new_owner
  }
  // Nobody makes him the owner of something new.
  DomainResult to_kees =
      Domain(coordinator, cid,
             Call(39, Msg({{1, kees}, {2, S("Heg knippen")}}, {{3, 4'000'000'000'000ULL}})));
  CHECK(to_kees.status == KRING_ERR_INVALID_ARGUMENT);
  CHECK(to_kees.key == "agreement.owner_left");
  CHECK_FALSE(to_kees.nl.empty());
}

TEST_CASE("abi: a new poll or invitation says what it replaces (ABI 10)", "[abi]") {
  kring::test::TestServer server;
  Device resident(server.address().c_str(), false);
  Device coordinator(server.address().c_str(), false);
  resident.CreateAccount();
  coordinator.CreateAccount();
  Bytes cid;
  {
    const Bytes request = CreateCaseMessage(
        {{coordinator.account_id, static_cast<uint32_t>(KRING_ROLE_COORDINATOR)}});
    OwnedBytes id;
    Error err;
    REQUIRE(kring_client_create_case(resident.client, request.data(), request.size(), &id.b,
                                     err.out()) == KRING_OK);
    cid = id.get();
  }
  for (int round = 0; round < 2; ++round) {
    resident.Sync();
    coordinator.Sync();
  }
  const Bytes kees =
      Ok(coordinator, cid, Call(4, Person("Kees", "neighbour", "buurman", "06-87654321")));
  Ok(coordinator, cid, Call(5, Msg({{1, kees}})));

  // No poll yet: NOT_FOUND with its key.
  DomainResult none = Domain(coordinator, cid, Call(119, {}));
  CHECK(none.status == KRING_ERR_NOT_FOUND);
  CHECK(none.key == "poll.none");
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const uint64_t day = 86'400'000;
  auto poll = [&](uint64_t start, bool replace) {
    return Call(9, Msg({{1, Msg({}, {{2, start}, {3, start + 7'200'000}})}},
                       {{3, now + day}, {4, replace ? 1U : 0U}}));
  };
  DomainResult first = Domain(coordinator, cid, poll(now + 3 * day, false));
  REQUIRE(first.status == KRING_OK);
  CHECK(first.response.All(23).empty());
  const Bytes first_id = first.response.One(1).value_or(Bytes{});
  const Fields current = Query(coordinator, cid, 119, 5);
  CHECK(current.One(1) == first_id);
  const Bytes slot = Parse(current.All(2).at(0)).One(1).value_or(Bytes{});
  Ok(coordinator, cid, Call(11, Msg({{1, first_id}, {2, kees}, {3, slot}})));  // yes
  // Two polls made before a sync are in no order yet (CurrentPoll): the log orders them.
  coordinator.Sync();

  // Answered and open: replaced only when asked for, nothing queued otherwise.
  const size_t pending = coordinator.Pending(cid);
  DomainResult asked = Domain(coordinator, cid, poll(now + 4 * day, false));
  CHECK(asked.status == KRING_ERR_FAILED_PRECONDITION);
  CHECK(asked.key == "poll.open_has_answers");
  CHECK_FALSE(asked.nl.empty());
  CHECK(coordinator.Pending(cid) == pending);
  DomainResult replaced = Domain(coordinator, cid, poll(now + 4 * day, true));
  REQUIRE(replaced.status == KRING_OK);
  CHECK(replaced.response.All(23) == std::vector<Bytes>{S("poll.replaced_earlier")});
  CHECK(Query(coordinator, cid, 119, 5).One(1) == replaced.response.One(1));
  coordinator.Sync();
  CHECK(Query(coordinator, cid, 119, 5).One(1) == replaced.response.One(1));

  // A second link for the same person: the first is revoked, and the response says so.
  auto invite = [&](uint64_t role) {
    return Domain(coordinator, cid, Call(105, Msg({{1, kees}}, {{2, role}, {3, 3600}})));
  };
  DomainResult link = invite(3);
  REQUIRE(link.status == KRING_OK);
  CHECK(link.response.All(23).empty());
  DomainResult again = invite(3);
  REQUIRE(again.status == KRING_OK);
  CHECK(again.response.All(23) == std::vector<Bytes>{S("invite.replaced_earlier")});
  CHECK(invite(9).status == KRING_ERR_INVALID_ARGUMENT);
}
