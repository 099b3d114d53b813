// The steps of a PublishChain (account_service.cpp), apart from its RPC: what is read in a short
// snapshot (LoadStored), checked before anything is verified (Screen), verified outside any
// read (PreparePublish, PlanDevices), and stored by the writer only while the stored chain is
// still the one verified (CommitPublish). Kept apart so that the writer's answer to a chain that
// changed between the snapshot and the commit can be tested without racing two publishes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/common/user_chain.h"
#include "kring/v1/account.pb.h"

#include "chain_cache.h"
#include "storage/store.h"

namespace kring::server {

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
                  StoredLinks& stored);

// Cheap checks before anything is verified, each refused with the message the full check gives
// for it: the request's links in order up to its first new one (unknown fields, a readable body,
// a retried link byte-identical to the stored one), and that the first new link continues the
// stored chain (version, index and prev_link_hash, in ApplyLink's order), so that a request that
// cannot extend the chain costs no verification of it. Sets `retry_only` when every link is a
// stored one: there is nothing to verify or to write.
Status Screen(const google::protobuf::RepeatedPtrField<v1::ChainLink>& links,
              const StoredLinks& stored, bool& retry_only);

// Runs on an RPC thread outside any Read (it holds no read connection while it verifies): checks
// the request exactly as a publish is checked (the stored chain verifies, retried links are
// byte-identical, new links pass ApplyLink, a revocation comes with a rotation) against the
// links LoadStored read, and plans the new links; `chain` is the chain's state after them. The
// stored chain is verified from the state in `stored.cached` when there is one, else from its
// Root.
Status PreparePublish(ChainCache& cache, ByteView account_id,
                      const google::protobuf::RepeatedPtrField<v1::ChainLink>& links,
                      const StoredLinks& stored, UserChain& chain, PublishPlan& plan);

// Runs inside a second, short Read after PreparePublish: the devices of `chain` belong to this
// account, and which device rows the writer has to write. This snapshot may be newer than the
// one the links were read from; that is sound because CommitPublish stores the plan only while
// the stored chain's length and last link are still the ones verified, and reads each device
// row again before writing it.
Status PlanDevices(storage::StoreTxn& txn, const UserChain& chain, PublishPlan& plan);

// Runs on the writer thread inside a savepoint, and verifies nothing: it compares the stored
// chain with the one PreparePublish verified (its length and last link) and stores the plan.
// Only another publish of the account can have changed it since; what is then decided by
// comparing bytes (a retry, a conflicting link) is answered as before, anything else is
// UNAVAILABLE: publishing again is checked against the longer chain. libkring does not retry
// PublishChain on its own: the UNAVAILABLE reaches the caller (client.cpp), which may publish
// again.
Status CommitPublish(storage::StoreTxn& txn, const PublishPlan& plan, PublishOutcome& out);

}  // namespace kring::server
