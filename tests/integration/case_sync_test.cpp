// Client::SyncCase: one case pulled, verified and pushed while the device's other cases stay as
// they were (their queued edits unsent, others' edits unread), against a real kringd. A case
// stopped by an alarm is that case's error only; ids the device cannot sync are told clearly.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/refusal.h"

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

namespace {

// The cases a device's listener heard of, by kind, and the threads it ran on.
struct Heard {
  std::mutex mu;
  std::vector<client::ChangeEvent> events;
  std::vector<std::thread::id> threads;

  void Listen(client::Client& c) {
    c.AddChangeListener([this](const client::ChangeEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(e);
      threads.push_back(std::this_thread::get_id());
    });
  }
  size_t About(const Bytes& case_id, client::ChangeEvent::Kind kind) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& e : events)
      n += e.case_id == case_id && e.kind == kind ? size_t{1} : size_t{0};
    return n;
  }
  size_t AboutCase(const Bytes& case_id) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& e : events) n += e.case_id == case_id ? size_t{1} : size_t{0};
    return n;
  }
};

// What one device sent to and asked of kringd, by case.
struct Watched : TamperTransport {
  using TamperTransport::TamperTransport;
  std::mutex mu;
  std::vector<Bytes> pulled;
  std::vector<Bytes> pushed;

  Result<v1::PushResponse> Push(const v1::PushRequest& r, const std::string& t) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      pushed.push_back(ToBytes(r.case_id()));
    }
    return TamperTransport::Push(r, t);
  }
  Status PullInto(const v1::PullRequest& r, const std::string& t, v1::PullResponse& out) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      pulled.push_back(ToBytes(r.case_id()));
    }
    return TamperTransport::PullInto(r, t, out);
  }
  size_t Calls(const std::vector<Bytes>& calls, const Bytes& case_id) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const Bytes& c : calls) n += c == case_id ? size_t{1} : size_t{0};
    return n;
  }
  void Forget() {
    std::lock_guard<std::mutex> lock(mu);
    pulled.clear();
    pushed.clear();
  }
};

bool Holds(client::Client& c, const Bytes& case_id, const Bytes& entity, bool confirmed) {
  auto view = confirmed ? c.ConfirmedView(case_id) : c.View(case_id);
  return view.ok() && view->entities().count(Hex(entity)) == 1;
}

// Anna and Bas share two cases; Bas's device talks through `wire`. Both synced once.
struct TwoCases {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  std::shared_ptr<Watched> wire = std::make_shared<Watched>(net);
  Device anna{net};
  Device bas{wire};
  Bytes a;
  Bytes b;

  TwoCases() {
    auto ca = anna->CreateCase({{bas.account_id(), v1::ROLE_MEMBER}});
    auto cb = anna->CreateCase({{bas.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(ca.ok());
    REQUIRE(cb.ok());
    a = *ca;
    b = *cb;
    REQUIRE(anna->SyncNow().ok());
    REQUIRE(bas->SyncNow().ok());
  }

  Bytes Note(Device& d, const Bytes& case_id) {
    auto id = d->CreateEntity(case_id, "note");
    REQUIRE(id.ok());
    return *id;
  }
};

}  // namespace

TEST_CASE("syncing one case converges it and leaves the device's other case as it was",
          "[integration]") {
  TwoCases t;
  Heard heard;
  heard.Listen(*t.bas);
  // Anna writes in both cases and sends it; Bas writes in both without sending.
  const Bytes anna_a = t.Note(t.anna, t.a);
  const Bytes anna_b = t.Note(t.anna, t.b);
  REQUIRE(t.anna->SyncNow().ok());
  const Bytes bas_a = t.Note(t.bas, t.a);
  const Bytes bas_b = t.Note(t.bas, t.b);
  t.wire->Forget();

  auto stats = t.bas->SyncCase(t.a);
  INFO(stats.status().ToString());
  REQUIRE(stats.ok());
  CHECK(stats->pulled >= 1);
  CHECK(stats->pushed >= 1);
  // Case A: Anna's note read and verified, Bas's note accepted by kringd.
  CHECK(Holds(*t.bas, t.a, anna_a, /*confirmed=*/true));
  CHECK(Holds(*t.bas, t.a, bas_a, /*confirmed=*/true));
  CHECK(t.bas->PendingIntents(t.a) == 0);
  CHECK(heard.About(t.a, client::ChangeEvent::Kind::kCaseChanged) >= 1);
  // Case B untouched: Bas's note still queued, Anna's not read, nothing asked or sent, no event.
  CHECK(t.bas->PendingIntents(t.b) == 1);
  CHECK(Holds(*t.bas, t.b, bas_b, /*confirmed=*/false));
  CHECK_FALSE(Holds(*t.bas, t.b, bas_b, /*confirmed=*/true));
  CHECK_FALSE(Holds(*t.bas, t.b, anna_b, /*confirmed=*/false));
  CHECK(t.wire->Calls(t.wire->pulled, t.b) == 0);
  CHECK(t.wire->Calls(t.wire->pushed, t.b) == 0);
  CHECK(heard.AboutCase(t.b) == 0);

  // On Anna's device: case A has Bas's note, case B does not (it never left his device).
  REQUIRE(t.anna->SyncCase(t.a).ok());
  CHECK(Holds(*t.anna, t.a, bas_a, /*confirmed=*/true));
  REQUIRE(t.anna->SyncCase(t.b).ok());
  CHECK_FALSE(Holds(*t.anna, t.b, bas_b, /*confirmed=*/false));

  // Then case B alone converges too.
  REQUIRE(t.bas->SyncCase(t.b).ok());
  CHECK(t.bas->PendingIntents(t.b) == 0);
  CHECK(Holds(*t.bas, t.b, anna_b, /*confirmed=*/true));
  REQUIRE(t.anna->SyncCase(t.b).ok());
  CHECK(Holds(*t.anna, t.b, bas_b, /*confirmed=*/true));
}

TEST_CASE("syncing a case stopped by an alarm fails with SECURITY_ALARM and another case syncs",
          "[integration]") {
  TwoCases t;
  Heard heard;
  heard.Listen(*t.bas);
  // kringd (through Bas's wire) serves case B with a flipped bit, re-chained and re-signed.
  const SecretBytes key = t.server.ServerSecretKey();
  for (int i = 0; i < 3; ++i) t.Note(t.anna, t.b);
  const Bytes anna_a = t.Note(t.anna, t.a);
  REQUIRE(t.anna->SyncNow().ok());
  t.wire->on_pull = [&](const v1::PullRequest& req, v1::PullResponse& resp) {
    if (ToBytes(req.case_id()) != t.b || resp.entries_size() < 2) return;
    auto* env = resp.mutable_entries(1)->mutable_envelope();
    std::string c = env->ciphertext();
    c[c.size() / 2] = static_cast<char>(c[c.size() / 2] ^ 0x01);
    env->set_ciphertext(c);
    Rechain(req, resp, key);
  };

  // The sync that finds it: the alarm is this case's result, and its event is delivered.
  auto found = t.bas->SyncCase(t.b);
  CHECK(found.status().code() == StatusCode::kSecurityAlarm);
  CHECK(heard.About(t.b, client::ChangeEvent::Kind::kAlarm) == 1);
  REQUIRE(t.bas->Alarms().size() == 1);
  CHECK(t.bas->Alarms()[0].case_id == t.b);
  // Halted: every later sync of it says so (the lie has stopped, the case has not restarted).
  t.wire->on_pull = nullptr;
  auto again = t.bas->SyncCase(t.b);
  CHECK(again.status().code() == StatusCode::kSecurityAlarm);
  CHECK(again.status().message().find("stopped by a security alarm") != std::string::npos);
  CHECK(again.status().message().find("TAMPER") != std::string::npos);
  CHECK(heard.About(t.b, client::ChangeEvent::Kind::kAlarm) == 1);  // raised once
  // Offline as well: the device knows the case is stopped, so it does not say "try again later"
  // (UNAVAILABLE) for a case that can never sync.
  REQUIRE(t.server.Stop() == 0);
  auto offline = t.bas->SyncCase(t.b);
  CHECK(offline.status().code() == StatusCode::kSecurityAlarm);
  CHECK(offline.status().message().find("TAMPER") != std::string::npos);
  CHECK(t.bas->SyncCase(t.a).status().transient());  // the healthy case just waits
  // A change to it is refused at once, with the reason only the library gives (the command
  // line's exit 3 rests on it, never on a message a server could word alike).
  auto edit = t.bas->CreateEntity(t.b, "notitie");
  CHECK(edit.status().code() == StatusCode::kFailedPrecondition);
  CHECK(edit.status().reason() == refusal::kCaseHalted);
  t.server.Restart();

  // The healthy case syncs alone as if nothing happened elsewhere.
  auto healthy = t.bas->SyncCase(t.a);
  INFO(healthy.status().ToString());
  REQUIRE(healthy.ok());
  CHECK(Holds(*t.bas, t.a, anna_a, /*confirmed=*/true));
  // A full sync passes over the halted case and succeeds for the others (its documented
  // difference from SyncCase).
  CHECK(t.bas->SyncNow().ok());
  CHECK(t.bas->Alarms().size() == 1);
}

TEST_CASE("syncing one case tells unknown and malformed ids and the offline or signed-out device",
          "[integration]") {
  TwoCases t;
  CHECK(t.bas->SyncCase(crypto::RandomBytes(crypto::kIdBytes)).status().code() ==
        StatusCode::kNotFound);
  CHECK(t.bas->SyncCase(Bytes(15, 1)).status().code() == StatusCode::kInvalidArgument);
  CHECK(t.bas->SyncCase(Bytes{}).status().code() == StatusCode::kInvalidArgument);
  CHECK(t.bas->SyncCase(Bytes(17, 1)).status().code() == StatusCode::kInvalidArgument);

  // A case Anna made after Bas's last sync: kringd lists it for him, so it is not unknown.
  auto c = t.anna->CreateCase({{t.bas.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(c.ok());
  const Bytes note = t.Note(t.anna, *c);
  REQUIRE(t.anna->SyncCase(*c).ok());
  auto taken = t.bas->SyncCase(*c);
  INFO(taken.status().ToString());
  REQUIRE(taken.ok());
  CHECK(Holds(*t.bas, *c, note, /*confirmed=*/true));

  // A device without an account: as SyncNow.
  Device fresh(t.net, Device::Fresh{});
  CHECK(fresh->SyncCase(t.a).status().code() == fresh->SyncNow().status().code());
  CHECK(fresh->SyncCase(t.a).status().code() == StatusCode::kFailedPrecondition);

  // Offline: as SyncNow, and the queued edit waits.
  t.Note(t.bas, t.a);
  REQUIRE(t.server.Stop() == 0);
  auto offline = t.bas->SyncCase(t.a);
  CHECK(offline.status().transient());
  CHECK(offline.status().code() == t.bas->SyncNow().status().code());
  CHECK(t.bas->PendingIntents(t.a) == 1);
  t.server.Restart();
  REQUIRE(t.bas->SyncCase(t.a).ok());
  CHECK(t.bas->PendingIntents(t.a) == 0);
}

TEST_CASE("syncing one case settles a removal from it, as a full sync does", "[integration]") {
  TwoCases t;
  Heard heard;
  heard.Listen(*t.bas);
  t.Note(t.bas, t.a);  // queued while Anna removes him: rejected with the removal
  REQUIRE(t.anna->RemoveMember(t.a, t.bas.account_id()).ok());
  REQUIRE(t.anna->SyncNow().ok());

  auto synced = t.bas->SyncCase(t.a);
  INFO(synced.status().ToString());
  CHECK(synced.ok());
  CHECK(heard.About(t.a, client::ChangeEvent::Kind::kRemovedFromCase) == 1);
  CHECK(heard.About(t.a, client::ChangeEvent::Kind::kIntentRejected) == 1);
  CHECK(t.bas->View(t.a)->removed());
  CHECK(t.bas->Alarms().empty());
  // Still a member of the other case.
  REQUIRE(t.bas->SyncCase(t.b).ok());
  CHECK_FALSE(t.bas->View(t.b)->removed());
}

TEST_CASE("with background sync, one case's sync runs on the worker and its events come from it",
          "[integration]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device anna{net};
  Device bas{net, /*background_sync=*/true};
  Heard heard;
  heard.Listen(*bas);
  auto cid = anna->CreateCase({{bas.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto note = anna->CreateEntity(*cid, "note");
  REQUIRE(note.ok());
  REQUIRE(anna->SyncNow().ok());

  auto synced = bas->SyncCase(*cid);
  INFO(synced.status().ToString());
  REQUIRE(synced.ok());
  CHECK(Holds(*bas, *cid, *note, /*confirmed=*/true));
  CHECK(bas->SyncCase(crypto::RandomBytes(crypto::kIdBytes)).status().code() ==
        StatusCode::kNotFound);
  // Listeners never run on the caller's thread with a worker (it may have synced the case on
  // its own first; then the events came from it all the same).
  bas.Close();  // joins the worker: no listener call after this
  std::lock_guard<std::mutex> lock(heard.mu);
  CHECK_FALSE(heard.threads.empty());
  for (const auto& id : heard.threads) CHECK(id != std::this_thread::get_id());
}

TEST_CASE("a change listener that syncs is refused on the worker and runs inline without one",
          "[integration]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device anna{net};
  Device bas{net, /*background_sync=*/true};
  Device cor{net};  // no worker: its listener runs on the thread that synced
  auto cid =
      anna->CreateCase({{bas.account_id(), v1::ROLE_MEMBER}, {cor.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(anna->SyncNow().ok());

  // Bas's listener asks for a sync from the worker that called it: refused at once (before,
  // it waited for the worker, which waited for it, and closing the client hung as well).
  std::promise<std::pair<Status, Status>> asked;
  auto answer = asked.get_future();
  std::atomic<bool> once{false};
  client::Client* b = &*bas;
  const Bytes id = *cid;
  bas->AddChangeListener([&](const client::ChangeEvent&) {
    if (once.exchange(true)) return;
    Status one = b->SyncCase(id).status();
    Status all = b->SyncNow().status();
    asked.set_value({one, all});
  });
  REQUIRE(anna->CreateEntity(*cid, "note").ok());
  REQUIRE(anna->SyncNow().ok());
  std::thread([b] { (void)b->SyncNow(); }).detach();
  if (answer.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    std::fprintf(stderr, "the listener's sync never returned: the worker is deadlocked\n");
    std::_Exit(1);  // closing Bas's client would hang too
  }
  const auto [one, all] = answer.get();
  CHECK(one.code() == StatusCode::kFailedPrecondition);
  CHECK(one.message().find("change listener") != std::string::npos);
  CHECK(all.code() == StatusCode::kFailedPrecondition);
  // The worker goes on: a sync from another thread works, and the client closes.
  auto later = bas->SyncCase(*cid);
  INFO(later.status().ToString());
  CHECK(later.ok());
  bas.Close();

  // Without a worker the listener runs on the syncing thread, outside the sync: its own sync
  // runs there at once.
  std::atomic<int> inner{0};
  client::Client* c = &*cor;
  cor->AddChangeListener([&](const client::ChangeEvent&) {
    if (inner.fetch_add(1) == 0) CHECK(c->SyncCase(id).ok());
  });
  REQUIRE(anna->CreateEntity(*cid, "second note").ok());
  REQUIRE(anna->SyncNow().ok());
  REQUIRE(cor->SyncCase(*cid).ok());
  CHECK(inner > 0);
}
