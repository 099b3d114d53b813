// Live pokes: "case X has head N" to every subscribed session of a member account. Pokes are
// hints only (never content); a lost poke costs a client one later pull.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "kring/common/bytes.h"

namespace kring::server {

class PokeSink {
 public:
  virtual ~PokeSink() = default;
  // Called under the hub's lock; must not block or call back into the hub.
  virtual void Poke(const Bytes& case_id, uint64_t head_seq) = 0;
  virtual void Close() = 0;
};

class PokeHub {
 public:
  // All thread-safe.
  // `device_id`: the signed-in device of the stream, so revoking it closes its streams.
  void Add(const Bytes& account_id, PokeSink* sink, const Bytes& device_id = {});
  void Remove(const Bytes& account_id, PokeSink* sink);
  // A device was revoked: its streams end at once (no more "case X changed" hints for it).
  void CloseDevice(const Bytes& device_id);
  void Notify(const std::vector<Bytes>& account_ids, const Bytes& case_id, uint64_t head_seq);
  // Server shutdown: closes every stream; later Adds are closed at once.
  void CloseAll();
  size_t size();

 private:
  std::mutex mu_;
  bool closed_ = false;
  std::map<Bytes, std::set<PokeSink*>> sinks_;
  std::map<PokeSink*, Bytes> device_of_;
};

}  // namespace kring::server
