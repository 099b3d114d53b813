#include "publish_plan.h"

#include <algorithm>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring::server {
namespace {

std::shared_ptr<const VerifiedChain> VerifiedState(const UserChain& chain, std::string last_link) {
  auto v = std::make_shared<VerifiedChain>();
  v->state = chain;
  v->state.links.clear();
  v->state.links.shrink_to_fit();
  v->last_link = std::move(last_link);
  v->bytes = ChainCache::EstimateBytes(*v);
  return v;
}

}  // namespace

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

}  // namespace kring::server
