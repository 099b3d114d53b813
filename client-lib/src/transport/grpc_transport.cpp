// The only file of libkring that includes grpcpp.
#include <chrono>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "kring/common/refusal.h"
#include "kring/transport.h"
#include "kring/v1/account.grpc.pb.h"
#include "kring/v1/sync.grpc.pb.h"

namespace kring::client {
namespace {

constexpr int kMaxResponseBytes = 16 * 1024 * 1024;

Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return {};
  StatusCode code = StatusCode::kInternal;
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      code = StatusCode::kInvalidArgument;
      break;
    case grpc::StatusCode::NOT_FOUND:
      code = StatusCode::kNotFound;
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      code = StatusCode::kAlreadyExists;
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      code = StatusCode::kPermissionDenied;
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      code = StatusCode::kUnauthenticated;
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      code = StatusCode::kFailedPrecondition;
      break;
    case grpc::StatusCode::UNAVAILABLE:
      code = StatusCode::kUnavailable;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      code = StatusCode::kDeadlineExceeded;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      code = StatusCode::kResourceExhausted;
      break;
    case grpc::StatusCode::CANCELLED:
      code = StatusCode::kCancelled;
      break;
    case grpc::StatusCode::ABORTED:
      code = StatusCode::kAborted;
      break;
    case grpc::StatusCode::DATA_LOSS:
      code = StatusCode::kDataLoss;
      break;
    default:
      code = StatusCode::kInternal;
      break;
  }
  return {code, "server: " + s.error_message(), refusal::DecodeDetails(s.error_details())};
}

class GrpcSubscription final : public Subscription {
 public:
  GrpcSubscription(v1::SyncService::Stub* stub, const std::string& token,
                   std::function<void(const v1::Poke&)> on_poke,
                   std::function<void(const Status&)> on_end) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    thread_ = std::thread([this, stub, on_poke = std::move(on_poke), on_end = std::move(on_end)] {
      v1::SubscribeRequest req;
      auto reader = stub->Subscribe(&ctx_, req);
      v1::Poke poke;
      while (reader->Read(&poke)) on_poke(poke);
      on_end(FromGrpc(reader->Finish()));
    });
  }
  ~GrpcSubscription() override {
    ctx_.TryCancel();
    thread_.join();
  }

 private:
  grpc::ClientContext ctx_;
  std::thread thread_;
};

class GrpcTransport final : public Transport {
 public:
  GrpcTransport(const std::string& address, const GrpcTransportOptions& options)
      : options_(options) {
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (options.tls_root_certs.empty()) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = options.tls_root_certs;
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxResponseBytes);
    // Reconnect quickly after a server restart; the sync engine has its own backoff.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    channel_ = grpc::CreateCustomChannel(address, creds, args);
    account_ = v1::AccountService::NewStub(channel_);
    sync_ = v1::SyncService::NewStub(channel_);
  }

  Result<v1::ServerInfo> GetServerInfo() override {
    return Call<v1::ServerInfo>([&](grpc::ClientContext* c, v1::ServerInfo* out) {
      return sync_->GetServerInfo(c, v1::ServerInfoRequest(), out);
    });
  }
  Result<v1::PublishChainResponse> PublishChain(const v1::PublishChainRequest& req) override {
    return Call<v1::PublishChainResponse>(
        [&](grpc::ClientContext* c, auto* out) { return account_->PublishChain(c, req, out); });
  }
  Result<v1::GetChainResponse> GetChain(const v1::GetChainRequest& req,
                                        const std::string& token) override {
    return Call<v1::GetChainResponse>(
        [&](grpc::ClientContext* c, auto* out) { return account_->GetChain(c, req, out); }, token);
  }
  Result<v1::ChallengeResponse> GetChallenge(const v1::ChallengeRequest& req) override {
    return Call<v1::ChallengeResponse>(
        [&](grpc::ClientContext* c, auto* out) { return account_->GetChallenge(c, req, out); });
  }
  Result<v1::SignInResponse> SignIn(const v1::SignInRequest& req) override {
    return Call<v1::SignInResponse>(
        [&](grpc::ClientContext* c, auto* out) { return account_->SignIn(c, req, out); });
  }
  Result<v1::PushResponse> Push(const v1::PushRequest& req, const std::string& token) override {
    return Call<v1::PushResponse>(
        [&](grpc::ClientContext* c, auto* out) { return sync_->Push(c, req, out); }, token);
  }
  Result<v1::PullResponse> Pull(const v1::PullRequest& req, const std::string& token) override {
    return Call<v1::PullResponse>(
        [&](grpc::ClientContext* c, auto* out) { return sync_->Pull(c, req, out); }, token);
  }
  Status PullInto(const v1::PullRequest& req, const std::string& token,
                  v1::PullResponse& out) override {
    return CallInto([&](grpc::ClientContext* c) { return sync_->Pull(c, req, &out); }, token);
  }
  Result<v1::ListCasesResponse> ListCases(const std::string& token) override {
    return Call<v1::ListCasesResponse>(
        [&](grpc::ClientContext* c, auto* out) {
          return sync_->ListCases(c, v1::ListCasesRequest(), out);
        },
        token);
  }
  std::unique_ptr<Subscription> Subscribe(const std::string& token,
                                          std::function<void(const v1::Poke&)> on_poke,
                                          std::function<void(const Status&)> on_end) override {
    return std::make_unique<GrpcSubscription>(sync_.get(), token, std::move(on_poke),
                                              std::move(on_end));
  }

 private:
  template <typename Resp, typename Fn>
  Result<Resp> Call(Fn&& fn, const std::string& token = {}) {
    Resp out;
    KRING_RETURN_IF_ERROR(CallInto([&](grpc::ClientContext* c) { return fn(c, &out); }, token));
    return out;
  }
  // The call, its answer parsed into wherever `fn` puts it.
  template <typename Fn>
  Status CallInto(Fn&& fn, const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(options_.deadline_ms));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    grpc::Status s = fn(&ctx);
    if (!s.ok()) return FromGrpc(s);
    return Status();
  }

  GrpcTransportOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AccountService::Stub> account_;
  std::unique_ptr<v1::SyncService::Stub> sync_;
};

}  // namespace

std::shared_ptr<Transport> MakeGrpcTransport(const std::string& address,
                                             const GrpcTransportOptions& options) {
  return std::make_shared<GrpcTransport>(address, options);
}

}  // namespace kring::client
