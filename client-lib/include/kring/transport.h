// The client's view of kringd. The core talks only to this interface; grpc_transport.cpp is the
// one file that includes grpcpp. Tests wrap it to simulate a lying server or a lost response.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kring/common/status.h"
#include "kring/v1/account.pb.h"
#include "kring/v1/sync.pb.h"

namespace kring::client {

// An open Subscribe stream; destroying it cancels the stream and waits for its callbacks.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Every call is blocking with a deadline and thread-safe. `token` is the session token.
  virtual Result<v1::ServerInfo> GetServerInfo() = 0;
  virtual Result<v1::PublishChainResponse> PublishChain(const v1::PublishChainRequest& req) = 0;
  virtual Result<v1::GetChainResponse> GetChain(const v1::GetChainRequest& req,
                                                const std::string& token) = 0;
  virtual Result<v1::ChallengeResponse> GetChallenge(const v1::ChallengeRequest& req) = 0;
  virtual Result<v1::SignInResponse> SignIn(const v1::SignInRequest& req) = 0;
  virtual Result<v1::PushResponse> Push(const v1::PushRequest& req, const std::string& token) = 0;
  virtual Result<v1::PullResponse> Pull(const v1::PullRequest& req, const std::string& token) = 0;
  // Pull, into the caller's `out` (which may be on a protobuf arena: a catch-up pulls each page
  // onto its own, so the page's thousand entries are allocated in blocks and freed at once).
  // Here Pull's answer is moved into `out`, a copy when `out` is on an arena; the gRPC transport
  // parses into `out` itself.
  virtual Status PullInto(const v1::PullRequest& req, const std::string& token,
                          v1::PullResponse& out) {
    KRING_ASSIGN_OR_RETURN(v1::PullResponse pulled, Pull(req, token));
    out = std::move(pulled);
    return Status();
  }
  virtual Result<v1::ListCasesResponse> ListCases(const std::string& token) = 0;
  // on_poke and on_end run on a transport thread; on_end runs exactly once, last.
  virtual std::unique_ptr<Subscription> Subscribe(const std::string& token,
                                                  std::function<void(const v1::Poke&)> on_poke,
                                                  std::function<void(const Status&)> on_end) = 0;
};

struct GrpcTransportOptions {
  int deadline_ms = 10000;
  // PEM root certificates; empty means plaintext (loopback and tests only).
  std::string tls_root_certs;
};

std::shared_ptr<Transport> MakeGrpcTransport(const std::string& address,
                                             const GrpcTransportOptions& options = {});

}  // namespace kring::client
