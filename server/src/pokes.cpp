#include "pokes.h"

namespace kring::server {

void PokeHub::Add(const Bytes& account_id, PokeSink* sink, const Bytes& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sinks_[account_id].insert(sink);
  if (!device_id.empty()) device_of_[sink] = device_id;
  if (closed_) sink->Close();
}

void PokeHub::Remove(const Bytes& account_id, PokeSink* sink) {
  std::lock_guard<std::mutex> lock(mu_);
  device_of_.erase(sink);
  auto it = sinks_.find(account_id);
  if (it == sinks_.end()) return;
  it->second.erase(sink);
  if (it->second.empty()) sinks_.erase(it);
}

void PokeHub::Notify(const std::vector<Bytes>& account_ids, const Bytes& case_id,
                     uint64_t head_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Bytes& account : account_ids) {
    auto it = sinks_.find(account);
    if (it == sinks_.end()) continue;
    for (PokeSink* sink : it->second) sink->Poke(case_id, head_seq);
  }
}

void PokeHub::CloseDevice(const Bytes& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [sink, device] : device_of_) {
    if (device == device_id) sink->Close();
  }
}

void PokeHub::CloseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (auto& [account, sinks] : sinks_) {
    for (PokeSink* sink : sinks) sink->Close();
  }
}

size_t PokeHub::size() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto& [account, sinks] : sinks_) n += sinks.size();
  return n;
}

}  // namespace kring::server
