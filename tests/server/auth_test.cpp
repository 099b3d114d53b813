// Sign-in and sessions as an attacker would probe them.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

#include "server/server_test_util.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

v1::SignInRequest SignedRequest(const TestAccount& signer, const Bytes& device_id,
                                const v1::ChallengeResponse& ch) {
  v1::SignInRequest req;
  req.set_device_id(ToString(device_id));
  req.set_challenge(ch.challenge());
  req.set_signature(ToString(crypto::Sign(
      signer.signing.secret_key,
      protocol::AuthSignInput(View(ch.server_id()), View(ch.challenge()), device_id))));
  return req;
}

v1::ChallengeResponse Challenge(Client& c, const Bytes& device_id) {
  v1::ChallengeRequest req;
  req.set_device_id(ToString(device_id));
  v1::ChallengeResponse ch;
  REQUIRE(c.account->GetChallenge(Ctx().get(), req, &ch).ok());
  REQUIRE(ch.challenge().size() == 32);
  return ch;
}

}  // namespace

TEST_CASE("calls without a valid session are UNAUTHENTICATED", "[auth]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = MakeAccount(c);
  Bytes case_id = crypto::RandomBytes(16);

  v1::PullResponse pull;
  CHECK(Pull(c, "", case_id, 0, {}, &pull).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  // A forged token of the right shape, and a malformed one.
  std::string forged = Hex(crypto::RandomBytes(32));
  CHECK(Pull(c, forged, case_id, 0, {}, &pull).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(Pull(c, "not-a-token", case_id, 0, {}, &pull).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  OpBuilder b(a, case_id);
  CHECK(Push(c, forged, case_id, {b.CreateCase({{a.account_id, v1::ROLE_CHAIR}})}).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  v1::ListCasesResponse list;
  CHECK(c.sync->ListCases(Ctx().get(), {}, &list).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  v1::GetChainRequest gc;
  gc.set_account_id(ToString(a.account_id));
  v1::GetChainResponse chain;
  CHECK(c.account->GetChain(Ctx(forged).get(), gc, &chain).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  auto sub_ctx = Ctx(forged);
  auto reader = c.sync->Subscribe(sub_ctx.get(), {});
  v1::Poke poke;
  CHECK_FALSE(reader->Read(&poke));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);

  // The real token works.
  REQUIRE(c.account->GetChain(Ctx(a.token).get(), gc, &chain).ok());
  CHECK(chain.links_size() == 1);
  // GetServerInfo needs no session.
  v1::ServerInfo info;
  REQUIRE(c.sync->GetServerInfo(Ctx().get(), {}, &info).ok());
  CHECK(info.protocol_version() == 1);
  CHECK(Bytes(info.server_id().begin(), info.server_id().end()) ==
        protocol::ServerId(View(info.signing_public_key())));
}

TEST_CASE("a challenge is single use and bound to its device", "[auth]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = NewAccount();
  TestAccount b = NewAccount();
  REQUIRE(Publish(c, a).ok());
  REQUIRE(Publish(c, b).ok());

  v1::ChallengeResponse ch = Challenge(c, a.device_id);
  v1::SignInRequest req = SignedRequest(a, a.device_id, ch);
  v1::SignInResponse resp;
  REQUIRE(c.account->SignIn(Ctx().get(), req, &resp).ok());
  CHECK(resp.session_token().size() == 64);
  CHECK(resp.account_id() == ToString(a.account_id));
  // Replaying the same signed challenge fails.
  CHECK(c.account->SignIn(Ctx().get(), req, &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  // Device b signs a challenge issued to device a: wrong key for a, wrong device for b.
  ch = Challenge(c, a.device_id);
  CHECK(c.account->SignIn(Ctx().get(), SignedRequest(b, a.device_id, ch), &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  ch = Challenge(c, a.device_id);
  CHECK(c.account->SignIn(Ctx().get(), SignedRequest(b, b.device_id, ch), &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  // A challenge the server never issued.
  ch.set_challenge(ToString(crypto::RandomBytes(32)));
  CHECK(c.account->SignIn(Ctx().get(), SignedRequest(a, a.device_id, ch), &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  // A device whose chain was never published gets no challenge at all.
  TestAccount stranger = NewAccount();
  v1::ChallengeRequest creq;
  creq.set_device_id(ToString(stranger.device_id));
  CHECK(c.account->GetChallenge(Ctx().get(), creq, &ch).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  // A device holds at most four outstanding challenges: a fifth retires the oldest.
  std::vector<v1::ChallengeResponse> issued;
  for (int i = 0; i < 5; ++i) issued.push_back(Challenge(c, a.device_id));
  CHECK(c.account->SignIn(Ctx().get(), SignedRequest(a, a.device_id, issued[0]), &resp)
            .error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(c.account->SignIn(Ctx().get(), SignedRequest(a, a.device_id, issued[1]), &resp).ok());
  CHECK(c.account->SignIn(Ctx().get(), SignedRequest(a, a.device_id, issued[4]), &resp).ok());
}

TEST_CASE("sessions expire", "[auth]") {
  TestServer server({"--session-ttl-seconds", "1"});
  Client c(server.address());
  TestAccount a = MakeAccount(c);
  v1::ListCasesResponse list;
  REQUIRE(c.sync->ListCases(Ctx(a.token).get(), {}, &list).ok());
  // Bounded wait for the 1 s TTL to pass.
  grpc::Status s;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = c.sync->ListCases(Ctx(a.token).get(), {}, &list);
  } while (s.ok() && std::chrono::steady_clock::now() < deadline);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  // Signing in again works.
  REQUIRE(SignIn(c, a).ok());
  CHECK(c.sync->ListCases(Ctx(a.token).get(), {}, &list).ok());
}

TEST_CASE("PublishChain validates links and is idempotent", "[auth]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = NewAccount();
  // Wrong account id for the Root.
  v1::PublishChainRequest req;
  req.set_account_id(ToString(crypto::RandomBytes(16)));
  *req.add_links() = a.root;
  v1::PublishChainResponse resp;
  CHECK(c.account->PublishChain(Ctx().get(), req, &resp).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // A tampered Root.
  req.set_account_id(ToString(a.account_id));
  req.mutable_links(0)->mutable_signature()->at(0) ^= 1;
  CHECK(c.account->PublishChain(Ctx().get(), req, &resp).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // The real one, twice.
  *req.mutable_links(0) = a.root;
  REQUIRE(c.account->PublishChain(Ctx().get(), req, &resp).ok());
  CHECK(resp.length() == 1);
  REQUIRE(c.account->PublishChain(Ctx().get(), req, &resp).ok());
  CHECK(resp.length() == 1);
  // GetChain of an unknown account.
  REQUIRE(SignIn(c, a).ok());
  v1::GetChainRequest gc;
  gc.set_account_id(ToString(crypto::RandomBytes(16)));
  v1::GetChainResponse chain;
  CHECK(c.account->GetChain(Ctx(a.token).get(), gc, &chain).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("the recovery key cannot hold a session", "[auth]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = MakeAccount(c);
  TestAccount paper = a;
  paper.signing = a.recovery;
  paper.device_id = protocol::DeviceId(a.recovery.public_key);
  paper.token.clear();
  CHECK(SignIn(c, paper).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(paper.token.empty());
}

TEST_CASE("the recovery key reads its own account's chain with a signed challenge, nothing else",
          "[auth]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = MakeAccount(c);
  TestAccount other = MakeAccount(c);
  const Bytes recovery_id = protocol::DeviceId(a.recovery.public_key);
  auto request = [&](const crypto::SigningKeyPair& key, const v1::ChallengeResponse& ch) {
    v1::GetChainRequest req;
    req.set_recovery_device_id(ToString(recovery_id));
    req.set_challenge(ch.challenge());
    req.set_signature(ToString(crypto::Sign(
        key.secret_key, protocol::RecoveryChainSignInput(View(ch.server_id()), View(ch.challenge()),
                                                         recovery_id))));
    return req;
  };
  v1::GetChainResponse chain;
  // Signed by someone else's key, or a sign-in signature: refused, and the challenge is used up.
  v1::ChallengeResponse ch = Challenge(c, recovery_id);
  CHECK(c.account->GetChain(Ctx().get(), request(a.signing, ch), &chain).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(c.account->GetChain(Ctx().get(), request(a.recovery, ch), &chain).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  // For another account id: refused.
  ch = Challenge(c, recovery_id);
  v1::GetChainRequest wrong = request(a.recovery, ch);
  wrong.set_account_id(ToString(other.account_id));
  CHECK(c.account->GetChain(Ctx().get(), wrong, &chain).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  // Malformed.
  v1::GetChainRequest short_sig = request(a.recovery, Challenge(c, recovery_id));
  short_sig.set_signature("x");
  CHECK(c.account->GetChain(Ctx().get(), short_sig, &chain).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // Right: the chain of the account the recovery key belongs to, without a session.
  REQUIRE(c.account->GetChain(Ctx().get(), request(a.recovery, Challenge(c, recovery_id)), &chain)
              .ok());
  REQUIRE(chain.links_size() == 1);
  CHECK(chain.links(0).SerializeAsString() == a.root.SerializeAsString());
  // A device's own key cannot read chains this way (it is not a recovery id).
  v1::GetChainRequest as_device;
  v1::ChallengeResponse dch = Challenge(c, a.device_id);
  as_device.set_recovery_device_id(ToString(a.device_id));
  as_device.set_challenge(dch.challenge());
  as_device.set_signature(ToString(crypto::Sign(
      a.signing.secret_key, protocol::RecoveryChainSignInput(View(dch.server_id()),
                                                             View(dch.challenge()), a.device_id))));
  CHECK(c.account->GetChain(Ctx().get(), as_device, &chain).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("revoking a device ends its sessions and its poke stream at once", "[auth]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = MakeAccount(c);
  auto sub_ctx = Ctx(a.token);
  auto reader = c.sync->Subscribe(sub_ctx.get(), {});
  v1::GetChainRequest gc;
  gc.set_account_id(ToString(a.account_id));
  v1::GetChainResponse chain;
  REQUIRE(c.account->GetChain(Ctx(a.token).get(), gc, &chain).ok());

  RevokeSelf(c, a);  // any active device may sign a RevokeDevice

  v1::Poke poke;
  while (reader->Read(&poke)) {
  }
  CHECK(reader->Finish().ok());  // ended by the server, not by this client
  CHECK(c.account->GetChain(Ctx(a.token).get(), gc, &chain).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(SignIn(c, a).error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace kring::test
