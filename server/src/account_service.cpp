#include "account_service.h"

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/user_chain.h"
#include "kring/v1/account.grpc.pb.h"

#include "chain_cache.h"
#include "publish_plan.h"
#include "server_state.h"
#include "service_edge.h"

namespace kring::server {
namespace {

constexpr int kMaxLinksPerPublish = 64;

// The verified states of the chains publishes saw: 4096 accounts, 32 MiB at most.
constexpr size_t kChainCacheEntries = 4096;
constexpr size_t kChainCacheBytes = 32 * 1024 * 1024;

// Publishes that verify stored links kringd has not verified before (a miss in the chain cache)
// at the same time; more are answered UNAVAILABLE (libkring passes it to its caller; it does not
// retry). Bounds the CPU and memory uncached chains
// cost at once (threat-model.md); a publish its cache covers does not count. One limit per
// kringd (one AccountService).
constexpr int kMaxUncachedVerifications = 2;

class AccountServiceImpl final : public v1::AccountService::CallbackService {
 public:
  explicit AccountServiceImpl(ServerState& state) : state_(state) {}

  grpc::ServerUnaryReactor* PublishChain(grpc::CallbackServerContext* ctx,
                                         const v1::PublishChainRequest* req,
                                         v1::PublishChainResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    try {
      // Before kringd acts on the request (gRPC has decoded it): nothing read or verified, no
      // event logged.
      if (grpc::Status limited = AdmitUnauthenticated(ctx, state_.unauthenticated, "PublishChain");
          !limited.ok()) {
        reactor->Finish(limited);
        return reactor;
      }
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
      // The stored links are read in one short Read and verified outside it, so verification
      // holds no read connection; the device rows are read in a second short Read. The writer's
      // check of the stored chain's length and last link (CommitPublish) keeps this sound.
      const ByteView account_id = View(req->account_id());
      StoredLinks stored;
      Status prepared = state_.store->Read([&](storage::StoreTxn& txn) {
        return LoadStored(txn, chains_, account_id, req->links(), stored);
      });
      bool retry_only = false;
      if (prepared.ok()) prepared = Screen(req->links(), stored, retry_only);
      if (prepared.ok() && retry_only) {
        // A pure retry: every link is byte for byte the stored one at its index. It is answered
        // from the snapshot with no verification and no writer job, as CommitPublish would have
        // answered it: the stored length (the stored chain's device rows and user key generation
        // were written with it).
        resp->set_length(stored.length());
        LogPublish(*req, 0, prepared);
        reactor->Finish(grpc::Status::OK);
        return reactor;
      }
      auto plan = std::make_shared<PublishPlan>();
      UserChain chain;
      // Only a publish that has to verify stored links the cache does not cover takes a place.
      std::optional<VerifyLimit::Slot> slot;
      if (prepared.ok() && stored.unverified()) {
        slot.emplace(verify_limit_);
        if (!slot->held()) {
          prepared = Status(StatusCode::kUnavailable, "too many chains being verified; try again");
        }
      }
      if (prepared.ok()) {
        prepared = PreparePublish(chains_, account_id, req->links(), stored, chain, *plan);
      }
      slot.reset();
      if (prepared.ok()) {
        prepared = state_.store->Read(
            [&](storage::StoreTxn& txn) { return PlanDevices(txn, chain, *plan); });
      }
      if (!prepared.ok()) {
        LogPublish(*req, 0, prepared);
        reactor->Finish(ToGrpc(prepared));
        return reactor;
      }
      auto outcome = std::make_shared<PublishOutcome>();
      ServerState& state = state_;
      ChainCache& chains = chains_;
      state_.store->Submit(
          {[plan, outcome](storage::StoreTxn& txn) { return CommitPublish(txn, *plan, *outcome); },
           [req, resp, reactor, plan, outcome, &state, &chains](const Status& s) {
             if (s.ok()) {
               if (outcome->appended > 0) chains.Put(plan->verified_after);
               for (const Bytes& d : outcome->revoked) {
                 state.sessions.RevokeDevice(d);
                 state.pokes.CloseDevice(d);
               }
               resp->set_length(outcome->length);
             }
             LogPublish(*req, outcome->appended, s);
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
    // With a recovery proof instead of a session, GetChain costs a signature verification.
    if (!req->recovery_device_id().empty()) {
      if (grpc::Status limited = AdmitUnauthenticated(ctx, state_.unauthenticated, "GetChain");
          !limited.ok()) {
        reactor->Finish(limited);
        return reactor;
      }
    }
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
    if (grpc::Status limited = AdmitUnauthenticated(ctx, state_.unauthenticated, "GetChallenge");
        !limited.ok()) {
      reactor->Finish(limited);
      return reactor;
    }
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
      const PeerKeys peer = KeysOfPeer(ctx->peer());
      KRING_ASSIGN_OR_RETURN(auth::Challenge c,
                             state_.sessions.IssueChallenge(View(req->device_id()), peer));
      if (c.retired_to_log > 0) {
        // As rate_limited: the prefix (an IPv4 address or an IPv6 prefix, never a whole IPv6
        // address) and a count; nothing of the request, not the device.
        log::Warn("challenges_capped",
                  {{"peer", KeyText(peer.keys[c.capped_by])}, {"retired", c.retired_to_log}});
      }
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
    // Before the challenge is consumed and the signature verified, and before the sign_in event.
    if (grpc::Status limited = AdmitUnauthenticated(ctx, state_.unauthenticated, "SignIn");
        !limited.ok()) {
      reactor->Finish(limited);
      return reactor;
    }
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
      // A revocation ends the device's sessions after its commit. One committed between the read
      // above and CreateSession ended them before this one existed: read again now that it
      // does (a revocation committed after this read ends this session itself).
      bool revoked_since = false;
      KRING_RETURN_IF_ERROR(state_.store->Read([&](storage::StoreTxn& txn) -> Status {
        KRING_ASSIGN_OR_RETURN(std::optional<storage::DeviceRecord> now,
                               txn.GetDevice(View(req->device_id())));
        revoked_since = !now || now->revoked;
        return {};
      }));
      if (revoked_since) {
        state_.sessions.RevokeDevice(device->device_id);
        return Status(StatusCode::kUnauthenticated, "unknown or revoked device",
                      refusal::kDeviceRevoked);
      }
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

  static void LogPublish(const v1::PublishChainRequest& req, size_t appended, const Status& s) {
    log::Info("publish_chain", {{"account_id", Hex(View(req.account_id()))},
                                {"appended", static_cast<uint64_t>(appended)},
                                {"code", std::string(StatusCodeName(s.code()))}});
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
  ChainCache chains_{kChainCacheEntries, kChainCacheBytes};
  VerifyLimit verify_limit_{kMaxUncachedVerifications};
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAccountService(ServerState& state) {
  return std::make_unique<AccountServiceImpl>(state);
}

}  // namespace kring::server
