#include "account_service.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <set>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/user_chain.h"
#include "kring/v1/account.grpc.pb.h"

#include "chain_cache.h"
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

// A counting limit: Slot takes one of `max` places if one is free, and gives it back.
class VerifyLimit {
 public:
  explicit VerifyLimit(int max) : max_(max) {}

  class Slot {
   public:
    explicit Slot(VerifyLimit& limit) : limit_(limit), held_(limit.TryTake()) {}
    ~Slot() {
      if (held_) limit_.Give();
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    bool held() const { return held_; }

   private:
    VerifyLimit& limit_;
    const bool held_;
  };

 private:
  bool TryTake() {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_ >= max_) return false;
    ++busy_;
    return true;
  }
  void Give() {
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
  }

  const int max_;
  std::mutex mu_;
  int busy_ = 0;
};

struct PublishOutcome {
  uint64_t length = 0;
  size_t appended = 0;
  std::vector<Bytes> revoked;  // devices revoked by this publish: their sessions end
};

// What a publish verified on a read snapshot, for the writer to store if the account's chain is
// still the one verified (CommitPublish).
struct PublishPlan {
  Bytes account_id;
  uint64_t stored_length = 0;    // the chain's length in the snapshot
  std::string stored_last_link;  // its serialized link at stored_length - 1
  // Every link of the request, in order: its index and serialized bytes.
  std::vector<std::pair<uint64_t, std::string>> request;
  uint64_t min_request_index = 0;
  struct NewLink {
    uint64_t index = 0;
    std::string bytes;
    Bytes hash;
  };
  std::vector<NewLink> append;
  // Devices whose row was missing or had another revoked state in the snapshot, in the order the
  // chain lists them; the writer checks each row again.
  std::vector<storage::DeviceRecord> device_writes;
  uint32_t user_key_generation = 0;
  uint64_t length = 0;  // after the publish
  // The chain's state after the new links, for the cache once they are committed.
  std::shared_ptr<const VerifiedChain> verified_after;
};

std::shared_ptr<const VerifiedChain> VerifiedState(const UserChain& chain, std::string last_link) {
  auto v = std::make_shared<VerifiedChain>();
  v->state = chain;
  v->state.links.clear();
  v->state.links.shrink_to_fit();
  v->last_link = std::move(last_link);
  v->bytes = ChainCache::EstimateBytes(*v);
  return v;
}

// The stored links a publish is checked against, read in one short snapshot (LoadStored).
struct StoredLinks {
  uint64_t from = 0;               // the index of bytes[0]
  std::vector<std::string> bytes;  // the stored links from `from` on, serialized
  // The verified state `cache` holds for the chain, when its last link is still stored there.
  std::shared_ptr<const VerifiedChain> cached;
  uint64_t min_index = std::numeric_limits<uint64_t>::max();  // the lowest index requested
  uint64_t length() const { return from + bytes.size(); }
  // Whether stored links not verified before have to be verified (a miss in the cache); not for
  // an account with nothing stored yet (its Root is a new link, at most 64 of which are verified
  // per request, cached or not).
  bool unverified() const { return cached ? cached->state.length < length() : length() > 0; }
};

// Runs inside a Read and verifies nothing: loads the stored links a publish needs. With a state
// `cache` holds whose last link is still the stored one at its index, only the links from there
// (or from the lowest index the request names) are read, else the whole chain.
Status LoadStored(storage::StoreTxn& txn, ChainCache& cache, ByteView account_id,
                  const google::protobuf::RepeatedPtrField<v1::ChainLink>& links,
                  StoredLinks& stored) {
  stored = StoredLinks{};
  for (const v1::ChainLink& link : links) {
    v1::LinkBody body;
    if (body.ParseFromString(link.body())) {
      stored.min_index = std::min(stored.min_index, body.index());
    }
  }
  stored.cached = cache.Get(account_id);
  if (stored.cached) {
    stored.from = std::min(stored.cached->state.length - 1, stored.min_index);
    KRING_ASSIGN_OR_RETURN(stored.bytes, txn.LoadChainLinks(account_id, stored.from));
    const uint64_t at = stored.cached->state.length - 1 - stored.from;
    if (at < stored.bytes.size() && stored.bytes[at] == stored.cached->last_link) return {};
    cache.Erase(account_id);
    stored.cached = nullptr;
  }
  stored.from = 0;
  KRING_ASSIGN_OR_RETURN(stored.bytes, txn.LoadChainLinks(account_id, 0));
  return {};
}

// Cheap checks before anything is verified, each refused with the message the full check gives
// for it: the request's links in order up to its first new one (unknown fields, a readable body,
// a retried link byte-identical to the stored one), and that the first new link continues the
// stored chain (version, index and prev_link_hash, in ApplyLink's order), so that a request that
// cannot extend the chain costs no verification of it. Sets `retry_only` when every link is a
// stored one: there is nothing to verify or to write.
Status Screen(const google::protobuf::RepeatedPtrField<v1::ChainLink>& links,
              const StoredLinks& stored, bool& retry_only) {
  retry_only = false;
  for (const v1::ChainLink& link : links) {
    if (!link.GetReflection()->GetUnknownFields(link).empty())
      return InvalidArgument("link has unknown fields");
    v1::LinkBody body;
    if (!body.ParseFromString(link.body())) return InvalidArgument("malformed link body");
    if (body.index() < stored.length()) {
      if (body.index() < stored.from) return Internal("retried link not loaded");
      if (link.SerializeAsString() != stored.bytes[body.index() - stored.from]) {
        return InvalidArgument("link conflicts with the stored chain");
      }
      continue;
    }
    if (body.version() != 1) return InvalidArgument("unknown link version");
    if (body.index() != stored.length()) {
      return InvalidArgument("link index does not continue chain");
    }
    Bytes head;  // empty before a Root, as in ApplyLink
    if (!stored.bytes.empty()) {
      v1::ChainLink last;
      if (!last.ParseFromString(stored.bytes.back())) return {};  // the full check refuses it
      head = protocol::LinkHash(View(last.body()));
    }
    if (!ConstantTimeEqual(View(body.prev_link_hash()), head)) {
      return InvalidArgument("link does not extend the chain head");
    }
    return {};
  }
  retry_only = true;
  return {};
}

// Runs on an RPC thread outside any Read (it holds no read connection while it verifies): checks
// the request exactly as a publish is checked (the stored chain verifies, retried links are
// byte-identical, new links pass ApplyLink, a revocation comes with a rotation) against the
// links LoadStored read, and plans the new links; `chain` is the chain's state after them. The
// stored chain is verified from the state in `stored.cached` when there is one, else from its
// Root.
Status PreparePublish(ChainCache& cache, ByteView account_id,
                      const google::protobuf::RepeatedPtrField<v1::ChainLink>& links,
                      const StoredLinks& stored, UserChain& chain, PublishPlan& plan) {
  plan = PublishPlan{};
  plan.account_id = Bytes(account_id.begin(), account_id.end());
  chain = stored.cached ? stored.cached->state : UserChain{};
  const uint64_t from = stored.from;
  const std::vector<std::string>& stored_bytes = stored.bytes;
  const uint64_t stored_length = stored.length();
  if (stored_length > protocol::kMaxChainLinks) return DataLoss("stored chain does not verify");
  if (chain.length < stored_length) {
    // The stored links not verified before (all of them without a cached state).
    std::vector<v1::ChainLink> unverified(stored_length - chain.length);
    for (size_t i = 0; i < unverified.size(); ++i) {
      if (!unverified[i].ParseFromString(stored_bytes[chain.length - from + i])) {
        return DataLoss("stored link unreadable");
      }
    }
    for (const v1::ChainLink& link : unverified) {
      if (!ApplyLink(chain, link).ok()) return DataLoss("stored chain does not verify");
      // kringd keeps the state, not the links (chain_cache.h): dropping each one as it is applied
      // keeps a second copy of a long chain's links (up to 16 MiB) out of memory.
      chain.links.clear();
    }
    if (!ConstantTimeEqual(account_id, chain.account_id)) {
      return DataLoss("stored chain does not verify");
    }
    cache.Put(VerifiedState(chain, stored_bytes.back()));
  }
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
    std::string bytes = link.SerializeAsString();
    if (body.index() < stored_length) {
      if (body.index() < from) return Internal("retried link not loaded");
      // A client retrying a publish: identical bytes are fine, anything else is a fork.
      if (bytes != stored_bytes[body.index() - from]) {
        return InvalidArgument("link conflicts with the stored chain");
      }
      plan.request.emplace_back(body.index(), std::move(bytes));
      continue;
    }
    if (awaiting_rotation && !body.has_rotate_user_key()) {
      return InvalidArgument("a revocation needs a new user key right after it");
    }
    KRING_RETURN_IF_ERROR(ApplyLink(chain, link));
    awaiting_rotation = body.has_revoke_device();
    plan.append.push_back({body.index(), bytes, protocol::LinkHash(View(link.body()))});
    plan.request.emplace_back(body.index(), std::move(bytes));
  }
  if (awaiting_rotation) return InvalidArgument("a revocation needs a new user key right after it");
  if (chain.length > protocol::kMaxChainLinks) {
    return Status(StatusCode::kResourceExhausted, "chain too long");
  }
  if (chain.account_id != plan.account_id) {
    return InvalidArgument("root link does not produce this account_id");
  }
  plan.stored_length = stored_length;
  if (stored_length > 0) plan.stored_last_link = stored_bytes.back();
  plan.min_request_index = stored.min_index;
  plan.user_key_generation = chain.user_key.generation;
  plan.length = chain.length;
  if (!plan.append.empty()) plan.verified_after = VerifiedState(chain, plan.append.back().bytes);
  return {};
}

// Runs inside a second, short Read after PreparePublish: the devices of `chain` belong to this
// account, and which device rows the writer has to write. This snapshot may be newer than the
// one the links were read from; that is sound because CommitPublish stores the plan only while
// the stored chain's length and last link are still the ones verified, and reads each device
// row again before writing it.
Status PlanDevices(storage::StoreTxn& txn, const UserChain& chain, PublishPlan& plan) {
  for (const auto& [id, dev] : chain.devices) {
    KRING_ASSIGN_OR_RETURN(std::optional<storage::DeviceRecord> existing, txn.GetDevice(id));
    if (existing && existing->account_id != chain.account_id) {
      return InvalidArgument("device belongs to another account");
    }
    bool revoked = dev.revoked_at.has_value();
    if (existing && existing->revoked == revoked) continue;
    plan.device_writes.push_back(
        {id, chain.account_id, dev.signing_public_key, revoked, dev.is_recovery});
  }
  return {};
}

// Runs on the writer thread inside a savepoint, and verifies nothing: it compares the stored
// chain with the one PreparePublish verified (its length and last link) and stores the plan.
// Only another publish of the account can have changed it since; what is then decided by
// comparing bytes (a retry, a conflicting link) is answered as before, anything else is
// UNAVAILABLE: publishing again is checked against the longer chain. libkring does not retry
// PublishChain on its own: the UNAVAILABLE reaches the caller (client.cpp), which may publish
// again.
Status CommitPublish(storage::StoreTxn& txn, const PublishPlan& plan, PublishOutcome& out) {
  out = PublishOutcome{};
  const ByteView account_id = plan.account_id;
  uint64_t from = plan.stored_length > 0 ? plan.stored_length - 1 : 0;
  KRING_ASSIGN_OR_RETURN(std::vector<std::string> now, txn.LoadChainLinks(account_id, from));
  if (plan.stored_length > 0 && (now.empty() || now.front() != plan.stored_last_link)) {
    return DataLoss("stored chain changed under a publish");
  }
  const uint64_t length_now = from + now.size();
  if (length_now != plan.stored_length) {
    if (plan.min_request_index < from) {
      from = plan.min_request_index;
      KRING_ASSIGN_OR_RETURN(now, txn.LoadChainLinks(account_id, from));
      if (from + now.size() != length_now) return DataLoss("stored chain changed under a publish");
    }
    for (const auto& [index, bytes] : plan.request) {
      if (index >= length_now) {
        return Status(StatusCode::kUnavailable, "the account's chain changed meanwhile");
      }
      if (bytes != now[index - from])
        return InvalidArgument("link conflicts with the stored chain");
    }
    // A retry of links another publish stored meanwhile: that publish wrote the rest.
    out.length = length_now;
    return {};
  }
  for (const PublishPlan::NewLink& link : plan.append) {
    KRING_RETURN_IF_ERROR(txn.AppendChainLink(account_id, link.index, link.bytes, link.hash));
  }
  for (const storage::DeviceRecord& device : plan.device_writes) {
    KRING_ASSIGN_OR_RETURN(std::optional<storage::DeviceRecord> existing,
                           txn.GetDevice(device.device_id));
    if (existing && existing->account_id != plan.account_id) {
      return InvalidArgument("device belongs to another account");
    }
    if (existing && existing->revoked == device.revoked) continue;
    KRING_RETURN_IF_ERROR(txn.PutDevice(device));
    if (device.revoked) {
      // Until a Rekey names it, each case the account is in keeps content off the keys the
      // device holds (kringd refuses content there; clients make that Rekey on their own).
      KRING_RETURN_IF_ERROR(txn.HoldForRevokedDevice(account_id, device.device_id));
      out.revoked.push_back(device.device_id);
    }
  }
  // Keys are boxed to this generation from now on (CheckRekey).
  KRING_RETURN_IF_ERROR(txn.SetUserKeyGeneration(account_id, plan.user_key_generation));
  out.length = plan.length;
  out.appended = plan.append.size();
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
