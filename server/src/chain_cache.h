// The verified states of user chains kringd has seen, so that a PublishChain verifies only the
// links it has not verified before (account_service.cpp). An entry is the state ApplyLink
// continues from, never the links, plus the serialized last link it was verified up to: it
// stands for the stored chain only while the stored link at `state.length - 1` is byte for byte
// that link (chains are append-only; each link's body names the hash of the one before).
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "kring/common/bytes.h"
#include "kring/common/user_chain.h"

namespace kring::server {

struct VerifiedChain {
  UserChain state;        // from ApplyLink over links 0..length-1; `links` left empty
  std::string last_link;  // the serialized link at state.length - 1, as stored
  size_t bytes = 0;       // EstimateBytes, set by the maker (Put may run on the writer thread)
};

// Bounded LRU, by entries and by an estimate of the bytes an entry holds; an entry bigger than
// max_bytes / 16 is not kept (its account's publishes verify the whole chain each time). Only
// states built by ApplyLink from verified links may be put here. Thread-safe.
class ChainCache {
 public:
  ChainCache(size_t max_entries, size_t max_bytes);

  std::shared_ptr<const VerifiedChain> Get(ByteView account_id);
  // Keeps the longer of the entry there and this one (both are prefixes of one chain).
  void Put(std::shared_ptr<const VerifiedChain> chain);
  void Erase(ByteView account_id);

  size_t size() const;
  size_t bytes() const;
  static size_t EstimateBytes(const VerifiedChain& chain);

 private:
  struct Entry {
    std::shared_ptr<const VerifiedChain> chain;
    size_t bytes = 0;
    std::list<Bytes>::iterator lru;  // position in lru_ (front: most recently used)
  };
  void EraseLocked(std::map<Bytes, Entry>::iterator it);

  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<Bytes, Entry> entries_;
  std::list<Bytes> lru_;
  size_t bytes_ = 0;
};

}  // namespace kring::server
