#include "account_service.h"

#include <exception>
#include <set>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/user_chain.h"
#include "kring/v1/account.grpc.pb.h"

#include "server_state.h"
#include "service_edge.h"

namespace kring::server {
namespace {

constexpr int kMaxLinksPerPublish = 64;

struct PublishOutcome {
  uint64_t length = 0;
  size_t appended = 0;
  std::vector<Bytes> revoked;  // devices revoked by this publish: their sessions end
};

// Runs on the writer thread inside a savepoint.
Status ApplyPublish(storage::StoreTxn& txn, ByteView account_id,
                    const google::protobuf::RepeatedPtrField<v1::ChainLink>& links,
                    PublishOutcome& out) {
  out = PublishOutcome{};
  KRING_ASSIGN_OR_RETURN(std::vector<std::string> stored_bytes, txn.LoadChainLinks(account_id, 0));
  std::vector<v1::ChainLink> stored(stored_bytes.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    if (!stored[i].ParseFromString(stored_bytes[i])) return DataLoss("stored link unreadable");
  }
  UserChain chain;
  if (!stored.empty()) {
    auto verified = VerifyChain(account_id, stored);
    if (!verified.ok()) return DataLoss("stored chain does not verify");
    chain = std::move(verified).value();
  }
  const uint64_t stored_length = chain.length;
  // A revocation takes effect only with a new user key right after it, in the same publish: the
  // revoked device holds every earlier seed, and kringd (like every client) refuses keys boxed
  // to those once it is cut off. A revocation without one would leave its cases waiting.
  bool awaiting_rotation = false;
  for (const v1::ChainLink& link : links) {
    // Refused, not stored: kringd serves the stored link inside GetChainResponse, one message
    // deeper than it parsed it, so nested unknown groups within the recursion limit here could
    // exceed it at every reader of the chain (as for envelopes, case_log.cpp PrepareEnvelopes).
    if (!link.GetReflection()->GetUnknownFields(link).empty())
      return InvalidArgument("link has unknown fields");
    v1::LinkBody body;
    if (!body.ParseFromString(link.body())) return InvalidArgument("malformed link body");
    if (body.index() < stored_length) {
      // A client retrying a publish: identical bytes are fine, anything else is a fork.
      if (link.SerializeAsString() != stored_bytes[body.index()]) {
        return InvalidArgument("link conflicts with the stored chain");
      }
      continue;
    }
    if (awaiting_rotation && !body.has_rotate_user_key()) {
      return InvalidArgument("a revocation needs a new user key right after it");
    }
    KRING_RETURN_IF_ERROR(ApplyLink(chain, link));
    awaiting_rotation = body.has_revoke_device();
  }
  if (awaiting_rotation) return InvalidArgument("a revocation needs a new user key right after it");
  if (chain.length > protocol::kMaxChainLinks) {
    return Status(StatusCode::kResourceExhausted, "chain too long");
  }
  if (chain.account_id != Bytes(account_id.begin(), account_id.end())) {
    return InvalidArgument("root link does not produce this account_id");
  }
  for (uint64_t i = stored_length; i < chain.length; ++i) {
    const v1::ChainLink& link = chain.links[i];
    KRING_RETURN_IF_ERROR(txn.AppendChainLink(account_id, i, link.SerializeAsString(),
                                              protocol::LinkHash(View(link.body()))));
  }
  for (const auto& [id, dev] : chain.devices) {
    KRING_ASSIGN_OR_RETURN(std::optional<storage::DeviceRecord> existing, txn.GetDevice(id));
    if (existing && existing->account_id != chain.account_id) {
      return InvalidArgument("device belongs to another account");
    }
    bool revoked = dev.revoked_at.has_value();
    if (existing && existing->revoked == revoked) continue;
    KRING_RETURN_IF_ERROR(
        txn.PutDevice({id, chain.account_id, dev.signing_public_key, revoked, dev.is_recovery}));
    if (revoked) {
      // Until a Rekey names it, each case the account is in keeps content off the keys the
      // device holds (kringd refuses content there; clients make that Rekey on their own).
      KRING_RETURN_IF_ERROR(txn.HoldForRevokedDevice(chain.account_id, id));
      out.revoked.push_back(id);
    }
  }
  // Keys are boxed to this generation from now on (CheckRekey).
  KRING_RETURN_IF_ERROR(txn.SetUserKeyGeneration(chain.account_id, chain.user_key.generation));
  out.length = chain.length;
  out.appended = static_cast<size_t>(chain.length - stored_length);
  return {};
}

class AccountServiceImpl final : public v1::AccountService::CallbackService {
 public:
  explicit AccountServiceImpl(ServerState& state) : state_(state) {}

  grpc::ServerUnaryReactor* PublishChain(grpc::CallbackServerContext* ctx,
                                         const v1::PublishChainRequest* req,
                                         v1::PublishChainResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    try {
      if (req->account_id().size() != crypto::kIdBytes) {
        reactor->Finish(ToGrpc(InvalidArgument("account_id must be 16 bytes")));
        return reactor;
      }
      if (req->links_size() < 1 || req->links_size() > kMaxLinksPerPublish) {
        reactor->Finish(ToGrpc(InvalidArgument("publish 1..64 links at a time")));
        return reactor;
      }
      for (const auto& link : req->links()) {
        if (link.ByteSizeLong() > protocol::kMaxChainLinkBytes) {
          reactor->Finish(ToGrpc(InvalidArgument("link too large")));
          return reactor;
        }
      }
      auto outcome = std::make_shared<PublishOutcome>();
      ServerState& state = state_;
      state_.store->Submit(
          {[req, outcome](storage::StoreTxn& txn) {
             return ApplyPublish(txn, View(req->account_id()), req->links(), *outcome);
           },
           [req, resp, reactor, outcome, &state](const Status& s) {
             if (s.ok()) {
               for (const Bytes& d : outcome->revoked) {
                 state.sessions.RevokeDevice(d);
                 state.pokes.CloseDevice(d);
               }
               resp->set_length(outcome->length);
             }
             log::Info("publish_chain", {{"account_id", Hex(View(req->account_id()))},
                                         {"appended", static_cast<uint64_t>(outcome->appended)},
                                         {"code", std::string(StatusCodeName(s.code()))}});
             reactor->Finish(ToGrpc(s));
           },
           {}});
    } catch (const std::exception&) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "internal error"));
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* GetChain(grpc::CallbackServerContext* ctx,
                                     const v1::GetChainRequest* req,
                                     v1::GetChainResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpc(Guard([&]() -> Status {
      Bytes account_id = ToBytes(req->account_id());
      if (!req->recovery_device_id().empty()) {
        KRING_ASSIGN_OR_RETURN(account_id, RecoveryAccount(*req));
      } else {
        KRING_ASSIGN_OR_RETURN(auth::Session session, Authenticate(ctx, state_.sessions));
        (void)session;
      }
      if (account_id.size() != crypto::kIdBytes) {
        return InvalidArgument("account_id must be 16 bytes");
      }
      return state_.store->Read([&](storage::StoreTxn& txn) -> Status {
        KRING_ASSIGN_OR_RETURN(bool exists, txn.AccountExists(account_id));
        if (!exists) return NotFound("unknown account", refusal::kAccountUnknown);
        KRING_ASSIGN_OR_RETURN(std::vector<std::string> links,
                               txn.LoadChainLinks(account_id, req->from_index()));
        for (const std::string& bytes : links) {
          if (!resp->add_links()->ParseFromString(bytes)) return DataLoss("stored link unreadable");
        }
        return {};
      });
    })));
    return reactor;
  }

  grpc::ServerUnaryReactor* GetChallenge(grpc::CallbackServerContext* ctx,
                                         const v1::ChallengeRequest* req,
                                         v1::ChallengeResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpc(Guard([&]() -> Status {
      if (req->device_id().size() != crypto::kIdBytes) {
        return InvalidArgument("device_id must be 16 bytes");
      }
      // Only registered, active devices get a challenge (no table filling with made-up ids).
      std::optional<storage::DeviceRecord> device;
      KRING_RETURN_IF_ERROR(state_.store->Read([&](storage::StoreTxn& txn) -> Status {
        KRING_ASSIGN_OR_RETURN(device, txn.GetDevice(View(req->device_id())));
        return {};
      }));
      // The recovery id gets a challenge too, but only to read its chain (GetChain); SignIn
      // still refuses it.
      if (!device || device->revoked) {
        return Status(StatusCode::kUnauthenticated, "unknown or revoked device",
                      device ? refusal::kDeviceRevoked : refusal::kDeviceUnknown);
      }
      KRING_ASSIGN_OR_RETURN(auth::Challenge c,
                             state_.sessions.IssueChallenge(View(req->device_id())));
      resp->set_server_id(ToString(state_.key.server_id));
      resp->set_challenge(ToString(c.challenge));
      resp->set_expires_at_ms(c.expires_at_ms);
      return {};
    })));
    return reactor;
  }

  grpc::ServerUnaryReactor* SignIn(grpc::CallbackServerContext* ctx, const v1::SignInRequest* req,
                                   v1::SignInResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    Status result = Guard([&]() -> Status {
      if (req->device_id().size() != crypto::kIdBytes || req->challenge().size() != 32 ||
          req->signature().size() != crypto::kSignatureBytes) {
        return InvalidArgument("malformed sign-in request");
      }
      KRING_RETURN_IF_ERROR(
          state_.sessions.ConsumeChallenge(View(req->device_id()), View(req->challenge())));
      std::optional<storage::DeviceRecord> device;
      KRING_RETURN_IF_ERROR(state_.store->Read([&](storage::StoreTxn& txn) -> Status {
        KRING_ASSIGN_OR_RETURN(device, txn.GetDevice(View(req->device_id())));
        return {};
      }));
      // The recovery key only signs chain links (restoring an account); it never holds a session,
      // so it can never author case ops.
      if (!device || device->revoked || device->is_recovery) {
        // Only a revoked device hears so: an app may lock itself on DEVICE_REVOKED.
        return Status(
            StatusCode::kUnauthenticated, "unknown or revoked device",
            device && device->revoked ? refusal::kDeviceRevoked : refusal::kDeviceUnknown);
      }
      Bytes input = protocol::AuthSignInput(state_.key.server_id, View(req->challenge()),
                                            View(req->device_id()));
      if (!crypto::Verify(device->signing_public_key, input, View(req->signature()))) {
        return Status(StatusCode::kUnauthenticated, "bad sign-in signature");
      }
      KRING_ASSIGN_OR_RETURN(auth::IssuedSession issued,
                             state_.sessions.CreateSession({device->device_id, device->account_id,
                                                            device->signing_public_key, 0}));
      resp->set_session_token(issued.token);
      resp->set_expires_at_ms(issued.expires_at_ms);
      resp->set_account_id(ToString(device->account_id));
      return {};
    });
    log::Info("sign_in", {{"device_id", Hex(View(req->device_id()))},
                          {"code", std::string(StatusCodeName(result.code()))}});
    reactor->Finish(ToGrpc(result));
    return reactor;
  }

 private:
  // Restore on a fresh device: the recovery key proves itself with a signed challenge, and the
  // chain served is the one of the account that recovery id belongs to.
  Result<Bytes> RecoveryAccount(const v1::GetChainRequest& req) {
    if (req.recovery_device_id().size() != crypto::kIdBytes || req.challenge().size() != 32 ||
        req.signature().size() != crypto::kSignatureBytes) {
      return InvalidArgument("malformed recovery proof");
    }
    KRING_RETURN_IF_ERROR(
        state_.sessions.ConsumeChallenge(View(req.recovery_device_id()), View(req.challenge())));
    std::optional<storage::DeviceRecord> device;
    KRING_RETURN_IF_ERROR(state_.store->Read([&](storage::StoreTxn& txn) -> Status {
      KRING_ASSIGN_OR_RETURN(device, txn.GetDevice(View(req.recovery_device_id())));
      return {};
    }));
    if (!device || !device->is_recovery || device->revoked) {
      return Status(StatusCode::kUnauthenticated, "unknown recovery key");
    }
    Bytes input = protocol::RecoveryChainSignInput(state_.key.server_id, View(req.challenge()),
                                                   View(req.recovery_device_id()));
    if (!crypto::Verify(device->signing_public_key, input, View(req.signature()))) {
      return Status(StatusCode::kUnauthenticated, "bad recovery signature");
    }
    if (!req.account_id().empty() &&
        !ConstantTimeEqual(View(req.account_id()), device->account_id)) {
      return Status(StatusCode::kUnauthenticated, "recovery key of another account");
    }
    return device->account_id;
  }

  template <typename F>
  static Status Guard(F&& f) {
    try {
      return f();
    } catch (const std::exception&) {
      return Internal("exception at the service edge");
    }
  }

  ServerState& state_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAccountService(ServerState& state) {
  return std::make_unique<AccountServiceImpl>(state);
}

}  // namespace kring::server
