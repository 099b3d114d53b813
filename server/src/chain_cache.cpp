#include "chain_cache.h"

#include <algorithm>
#include <utility>

namespace kring::server {
namespace {

// Rough heap cost of a map node or a small allocation, on top of the payload.
constexpr size_t kNodeOverhead = 64;

}  // namespace

ChainCache::ChainCache(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

size_t ChainCache::EstimateBytes(const VerifiedChain& chain) {
  const UserChain& s = chain.state;
  size_t n = sizeof(VerifiedChain) + chain.last_link.capacity() + s.account_id.capacity() +
             s.root_hash.capacity() + s.head_hash.capacity() + 2 * kNodeOverhead;
  for (const auto& [id, dev] : s.devices) {
    n += kNodeOverhead + sizeof(ChainDevice) + id.capacity() + dev.device_id.capacity() +
         dev.signing_public_key.capacity() + dev.box_public_key.capacity();
  }
  n += s.user_key.box_public_key.capacity() + s.user_key.signing_public_key.capacity();
  for (const v1::SealedSeed& seed : s.user_key.sealed_seeds) n += seed.SpaceUsedLong();
  for (const v1::ChainLink& link : s.links) n += link.SpaceUsedLong();
  return n;
}

std::shared_ptr<const VerifiedChain> ChainCache::Get(ByteView account_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Bytes(account_id.begin(), account_id.end()));
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.chain;
}

void ChainCache::Put(std::shared_ptr<const VerifiedChain> chain) {
  if (!chain || chain->state.length == 0) return;
  const size_t bytes = std::max(chain->bytes, sizeof(VerifiedChain));
  std::shared_ptr<const VerifiedChain> dropped;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(chain->state.account_id);
  if (it != entries_.end()) {
    if (it->second.chain->state.length > chain->state.length) return;
    dropped = it->second.chain;
    EraseLocked(it);
  }
  if (bytes > max_bytes_ / 16 || max_entries_ == 0) return;
  while (!lru_.empty() && (entries_.size() >= max_entries_ || bytes_ + bytes > max_bytes_)) {
    EraseLocked(entries_.find(lru_.back()));
  }
  lru_.push_front(chain->state.account_id);
  Entry& e = entries_[chain->state.account_id];
  e.chain = std::move(chain);
  e.bytes = bytes;
  e.lru = lru_.begin();
  bytes_ += bytes;
}

void ChainCache::Erase(ByteView account_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Bytes(account_id.begin(), account_id.end()));
  if (it != entries_.end()) EraseLocked(it);
}

void ChainCache::EraseLocked(std::map<Bytes, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

size_t ChainCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

size_t ChainCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace kring::server
