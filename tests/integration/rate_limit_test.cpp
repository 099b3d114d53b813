// libkring against a kringd whose per-address limit of calls without a session is spent: the
// user gets a Dutch text, queued edits stay queued, signed-in devices go on.
#include <catch2/catch.hpp>

#include "kring/common/refusal.h"
#include "kring/domain/messages.h"

#include "support/client_fixture.h"

namespace kring::test {

TEST_CASE("a sign-in refused by the server's limit is shown in Dutch and keeps the edit queued",
          "[rate_limit]") {
  // Refills one call per 100 s: none during the test.
  TestServer server({"--unauthenticated-rate", "0.01", "--unauthenticated-burst", "30"});
  auto net = ServerTransport(server);
  Device a(net), b(net);
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  REQUIRE(a->SyncNow().ok());
  REQUIRE(b->SyncNow().ok());

  // Someone else on this address spends the rest of its bucket.
  Status spent;
  for (int i = 0; i < 1000 && spent.ok(); ++i) spent = net->GetServerInfo().status();
  REQUIRE(spent.code() == StatusCode::kResourceExhausted);

  // Signed in already: not limited.
  auto e = a->CreateEntity(*cid, "agreement");
  REQUIRE(e.ok());
  REQUIRE(a->SyncNow().ok());
  CHECK(a->PendingIntents(*cid) == 0);

  // Opened again, b has no session, and signing in is refused.
  b.Reopen();
  auto mine = b->CreateEntity(*cid, "agreement");
  REQUIRE(mine.ok());
  auto synced = b->SyncNow();
  REQUIRE_FALSE(synced.ok());
  CHECK(synced.status().code() == StatusCode::kResourceExhausted);
  CHECK(synced.status().reason() == refusal::kRateLimited);
  CHECK(synced.status().transient());  // the background sync tries again later, with backoff
  CHECK(domain::UserText(synced.status()) ==
        "De server krijgt nu te veel aanvragen van jouw netwerk. Wacht een minuut en probeer het "
        "dan opnieuw.");
  CHECK(domain::UserText(synced.status(), domain::Language::kEnglish) ==
        "The server is getting too many requests from your network right now. Wait a minute and "
        "try again.");
  CHECK(b->PendingIntents(*cid) == 1);  // queued, not rejected

  // A new account cannot be made from this address now either, and says why.
  Device fresh(net, Device::Fresh{});
  auto created = fresh->CreateAccount();
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == StatusCode::kResourceExhausted);
  CHECK(domain::UserText(created.status()).rfind("De server krijgt nu te veel aanvragen", 0) == 0);
}

TEST_CASE("a device signs in while others on its address keep its challenges' cap full",
          "[rate_limit]") {
  // A table of 8 live challenges. Someone on this address (127.0.0.1) asks for 12, 4 for each of
  // three devices whose ids it knows, and signs in with none. Without the cap (0: as before it)
  // that fills the table and the device cannot sign in; with 2 per address it churns its own.
  for (const char* cap : {"0", "2"}) {
    INFO("--challenges-per-address " << cap);
    TestServer server({"--max-challenges", "8", "--challenges-per-address", cap});
    auto net = ServerTransport(server);
    Device a(net), b(net), c(net), d(net);
    auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
    REQUIRE(cid.ok());
    REQUIRE(a->SyncNow().ok());
    REQUIRE(b->SyncNow().ok());
    auto flood = [&] {
      for (Device* known : {&a, &c, &d}) {
        v1::ChallengeRequest req;
        req.set_device_id(ToString((*known)->Account()->device_id));
        for (int i = 0; i < 4; ++i) (void)net->GetChallenge(req);
      }
    };
    flood();
    b.Reopen();  // no session: the next sync signs in
    auto mine = b->CreateEntity(*cid, "agreement");
    REQUIRE(mine.ok());
    auto synced = b->SyncNow();
    if (std::string(cap) == "0") {
      REQUIRE_FALSE(synced.ok());
      CHECK(synced.status().code() == StatusCode::kResourceExhausted);
      CHECK(synced.status().transient());  // tried again later
      CHECK(b->PendingIntents(*cid) == 1);
      continue;
    }
    REQUIRE(synced.status().message() == "");
    CHECK(b->PendingIntents(*cid) == 0);
    // And again, after more of the same.
    flood();
    b.Reopen();
    CHECK(b->SyncNow().ok());
  }
}

}  // namespace kring::test
