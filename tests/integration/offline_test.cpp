// Offline-first durability: an edit is stored before the call returns, survives closing the
// client, and reaches the others exactly once; lost push responses and server crashes do not
// duplicate or lose anything.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

TEST_CASE("an offline edit survives closing the client and arrives exactly once", "[offline]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto e = a->CreateEntity(*cid, "agreement");
  REQUIRE(e.ok());
  REQUIRE(a->SyncNow().ok());
  REQUIRE(b->SyncNow().ok());
  const uint64_t seq_before = b->ConfirmedView(*cid)->seq();

  server.Stop();
  REQUIRE(a->SetField(*cid, *e, "action", Text("Oma belt elke dinsdag")).ok());
  CHECK(a->PendingIntents(*cid) == 1);
  a.Reopen();  // closed without syncing: the edit must already be on disk
  CHECK(a->PendingIntents(*cid) == 1);
  CHECK(a->View(*cid)->entities().at(Hex(*e)).fields().at("action").value().text() ==
        "Oma belt elke dinsdag");
  CHECK(a->SyncNow().status().transient());

  server.Restart();
  REQUIRE(a->SyncNow().ok());
  REQUIRE(a->SyncNow().ok());  // a second sync must not send it again
  REQUIRE(b->SyncNow().ok());
  CHECK(a->PendingIntents(*cid) == 0);
  auto view = b->ConfirmedView(*cid);
  REQUIRE(view.ok());
  CHECK(view->seq() == seq_before + 1);
  CHECK(view->entities().at(Hex(*e)).fields().at("action").value().text() ==
        "Oma belt elke dinsdag");
}

TEST_CASE("a push whose response is lost is retried and not duplicated", "[offline]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto lossy = std::make_shared<TamperTransport>(net);
  Device a(lossy), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(a->SyncNow().ok());
  const uint64_t seq_before = a->ConfirmedView(*cid)->seq();

  auto e = a->CreateEntity(*cid, "note");
  REQUIRE(e.ok());
  // The server commits, then dies before the response reaches the device.
  std::atomic<int> pushes{0};
  lossy->after_push = [&](const v1::PushRequest&, const v1::PushResponse&) {
    if (pushes++ > 0) return Status();
    server.Kill();
    return Status(StatusCode::kUnavailable, "connection reset");
  };
  CHECK(a->SyncNow().status().transient());
  CHECK(a->PendingIntents(*cid) == 1);
  server.Restart();
  REQUIRE(a->SyncNow().ok());
  REQUIRE(b->SyncNow().ok());
  CHECK(a->PendingIntents(*cid) == 0);
  for (Device* d : {&a, &b}) {
    auto view = (*d)->ConfirmedView(*cid);
    REQUIRE(view.ok());
    CHECK(view->seq() == seq_before + 1);
    CHECK(view->entities().count(Hex(*e)) == 1);
  }
}

// A device back online with a long queue sends several pushes before it pulls them back (one
// pull and one stored state for all of them); a push in that burst whose answer is lost, or that
// never reached kringd, is confirmed by the pull or sent again after it, and nothing arrives
// twice.
TEST_CASE(
    "queued edits go out in consecutive pushes, and a lost answer among them duplicates nothing",
    "[offline]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto spy = std::make_shared<TamperTransport>(net);
  Device a(spy), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(a->SyncNow().ok());
  const uint64_t seq_before = a->ConfirmedView(*cid)->seq();
  const int entities_before = a->ConfirmedView(*cid)->entities_size();
  std::mutex mu;
  std::string calls;  // 'P' for a push, 'L' for a pull, in order
  spy->before_push = [&](v1::PushRequest&) {
    std::lock_guard<std::mutex> lock(mu);
    calls += 'P';
  };
  spy->on_pull = [&](const v1::PullRequest&, v1::PullResponse&) {
    std::lock_guard<std::mutex> lock(mu);
    calls += 'L';
  };
  auto queue = [&](int n) {
    for (int i = 0; i < n; ++i) REQUIRE(a->CreateEntity(*cid, "note").ok());
  };

  // 200 edits: pushes of 64, 64, 64 and 8, one after the other, then the pull that confirms.
  queue(200);
  REQUIRE(a->SyncNow().ok());
  CHECK(a->PendingIntents(*cid) == 0);
  CHECK(calls.find("PPPP") != std::string::npos);
  CHECK(calls.find('P') == calls.find("PPPP"));  // no pull between the first push and the rest
  CHECK(calls.rfind('P') == calls.find("PPPP") + 3);
  CHECK(calls.find('L', calls.rfind('P')) != std::string::npos);  // then the pull that confirms

  // The answer to the second push of the next burst is lost, kringd having stored it: the pull
  // confirms it and it is not sent again (64, 64 | pull | 64, 8).
  queue(200);
  std::atomic<int> pushes{0};
  spy->after_push = [&](const v1::PushRequest&, const v1::PushResponse&) {
    if (++pushes == 2) return Status(StatusCode::kUnavailable, "connection reset");
    return Status();
  };
  REQUIRE(a->SyncNow().ok());
  CHECK(a->PendingIntents(*cid) == 0);
  CHECK(pushes == 4);

  // The network drops out after the first push of the next burst, before the second reaches
  // kringd: it goes again after the pull (64 | 64 lost | pull | 64, 64, 8).
  queue(200);
  pushes = 0;
  spy->after_push = [&](const v1::PushRequest&, const v1::PushResponse&) {
    if (++pushes == 1) spy->fail_pushes = true;
    return Status();
  };
  spy->on_pull = [&](const v1::PullRequest&, v1::PullResponse&) { spy->fail_pushes = false; };
  REQUIRE(a->SyncNow().ok());
  REQUIRE(b->SyncNow().ok());
  CHECK(a->PendingIntents(*cid) == 0);
  for (Device* d : {&a, &b}) {
    auto view = (*d)->ConfirmedView(*cid);
    REQUIRE(view.ok());
    CHECK(view->seq() == seq_before + 600);
    CHECK(view->entities_size() == entities_before + 600);
    CHECK((*d)->Alarms().empty());
  }
}

TEST_CASE("kringd killed during a burst of pushes loses nothing acknowledged", "[offline][slow]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto killer = std::make_shared<TamperTransport>(net);
  Device a(killer), b(net), c(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}, {c.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  for (Device* d : {&a, &b, &c}) REQUIRE((*d)->SyncNow().ok());

  constexpr int kEditsPerDevice = 40;
  std::vector<std::vector<Bytes>> created(3);
  std::array<Device*, 3> devices = {&a, &b, &c};
  std::atomic<int> acked{0};
  killer->after_push = [&](const v1::PushRequest&, const v1::PushResponse&) {
    if (++acked == 3) server.Kill();
    return Status();
  };
  std::vector<std::thread> writers;
  for (size_t i = 0; i < devices.size(); ++i) {
    writers.emplace_back([&, i] {
      for (int n = 0; n < kEditsPerDevice; ++n) {
        auto id = (*devices[i])->CreateEntity(*cid, "note");
        if (id.ok()) created[i].push_back(*id);
        if (n % 5 == 4) (void)(*devices[i])->SyncNow();
      }
    });
  }
  for (auto& t : writers) t.join();
  server.Kill();
  server.Restart();
  for (int round = 0; round < 3; ++round) {
    for (Device* d : devices) REQUIRE((*d)->SyncNow().ok());
  }
  v1::CaseState reference = *a->ConfirmedView(*cid);
  CHECK(reference.entities_size() == 3 * kEditsPerDevice);
  for (const auto& ids : created) {
    REQUIRE(ids.size() == kEditsPerDevice);
    for (const Bytes& id : ids) CHECK(reference.entities().count(Hex(id)) == 1);
  }
  for (Device* d : devices) {
    CHECK((*d)->PendingIntents(*cid) == 0);
    CHECK((*d)->ConfirmedView(*cid)->seq() == reference.seq());
    CHECK((*d)->Alarms().empty());
  }
  // 2 control ops + one op per edit: nothing was stored twice.
  CHECK(reference.seq() == 2 + 3 * kEditsPerDevice);
}

TEST_CASE("bad input to the library gets a clear error and changes nothing", "[offline]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  CHECK(a->CreateCase({{Bytes(3, 1), v1::ROLE_MEMBER}}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}, {b.account_id(), v1::ROLE_MEMBER}})
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(a->CreateCase({{Bytes(16, 9), v1::ROLE_MEMBER}}).status().code() == StatusCode::kNotFound);
  CHECK(a->CreateEntity(Bytes(16, 1), "note").status().code() == StatusCode::kNotFound);
  CHECK(a->CreateEntity(*cid, "").status().code() == StatusCode::kInvalidArgument);
  CHECK(a->CreateEntity(*cid, std::string(65, 't')).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(a->SetField(*cid, Bytes(16, 2), "f", Text("v")).code() == StatusCode::kNotFound);
  auto e = a->CreateEntity(*cid, "note");
  REQUIRE(e.ok());
  CHECK(a->SetField(*cid, *e, "", Text("v")).code() == StatusCode::kInvalidArgument);
  CHECK(a->SetField(*cid, *e, "f", Text(std::string(70 * 1024, 'x'))).code() ==
        StatusCode::kInvalidArgument);
  CHECK(a->Submit(*cid, {}).code() == StatusCode::kInvalidArgument);
  // Text that is not UTF-8 (protobuf could not read it back from the queue or the state).
  CHECK(a->SetField(*cid, *e, "f", Text("caf\xe9")).code() == StatusCode::kInvalidArgument);
  CHECK(a->SetField(*cid, *e, "f\xff", Text("v")).code() == StatusCode::kInvalidArgument);
  CHECK(a->CreateEntity(*cid, "n\xc0\xafte").status().code() == StatusCode::kInvalidArgument);
  CHECK(a->PendingIntents(*cid) == 2);  // the CreateCase change and CreateEntity only
  REQUIRE(a->SyncNow().ok());
  CHECK(a->Alarms().empty());
  CHECK(a->CreateAccount().status().code() == StatusCode::kAlreadyExists);
}

// kring commands run side by side on one profile are processes with one store file: one may
// store a catch-up while another is verifying the same entries. The later one takes the case
// again and goes on from there, instead of failing on entries stored already; and each one's
// sign-in works although their challenges retire each other's.
TEST_CASE("two clients on one store file sync the same case at the same time", "[offline]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto wire = std::make_shared<TamperTransport>(net);
  Device writer(net);
  Device reader(wire);
  auto cid = writer->CreateCase({{reader.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto e = writer->CreateEntity(*cid, "note");
  REQUIRE(e.ok());
  REQUIRE(writer->SyncNow().ok());
  REQUIRE(reader->SyncNow().ok());
  for (int i = 0; i < 5; ++i) {
    REQUIRE(writer->SetField(*cid, *e, "tekst", Text("regel " + std::to_string(i))).ok());
    REQUIRE(writer->SyncNow().ok());
  }
  const uint64_t head = writer->ConfirmedView(*cid)->seq();

  // A second client on the reader's file, as a second `kring` process on the same profile.
  client::ClientOptions options;
  options.db_path = reader.db_path();
  options.storage_key = reader.storage_key();
  options.transport = net;
  auto opened = client::Client::Open(std::move(options));
  REQUIRE(opened.ok());
  std::unique_ptr<client::Client> other = std::move(opened).value();

  // While the reader has its first page in hand, the other process stores the same entries.
  std::atomic<bool> done{false};
  wire->on_pull = [&](const v1::PullRequest&, v1::PullResponse& resp) {
    if (resp.entries_size() == 0 || done.exchange(true)) return;
    auto synced = other->SyncNow();
    CHECK(synced.ok());
  };
  auto synced = reader->SyncNow();
  INFO(synced.status().message());
  REQUIRE(synced.ok());
  REQUIRE(done);
  CHECK(reader->Alarms().empty());
  CHECK(reader->ConfirmedView(*cid)->seq() == head);
  CHECK(reader->View(*cid)->entities().at(Hex(*e)).fields().at("tekst").value().text() ==
        "regel 4");
  CHECK(other->ConfirmedView(*cid)->seq() == head);
}

namespace {
// Before the first sign-in it forwards, four more challenges for the same device are asked for,
// as four other processes of the same profile would: kringd retires the oldest, the one this
// sign-in carries.
class CrowdedSignIn : public TamperTransport {
 public:
  using TamperTransport::TamperTransport;
  Result<v1::SignInResponse> SignIn(const v1::SignInRequest& r) override {
    if (!crowded_.exchange(true)) {
      v1::ChallengeRequest other;
      other.set_device_id(r.device_id());
      for (int i = 0; i < 4; ++i) REQUIRE(GetChallenge(other).ok());
    }
    ++sign_ins;
    return TamperTransport::SignIn(r);
  }
  std::atomic<int> sign_ins{0};

 private:
  std::atomic<bool> crowded_{false};
};
}  // namespace

TEST_CASE("a sign-in whose challenge another process of the profile retired signs in again",
          "[offline]") {
  TestServer server;
  auto net = ServerTransport(server);
  auto crowded = std::make_shared<CrowdedSignIn>(net);
  Device d(crowded);
  auto cid = d->CreateCase({});
  REQUIRE(cid.ok());
  auto synced = d->SyncNow();
  INFO(synced.status().message());
  CHECK(synced.ok());
  CHECK(crowded->sign_ins == 2);  // refused once, then signed in with a fresh challenge
}
