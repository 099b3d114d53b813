#include "receipt_signer.h"

#include <algorithm>
#include <exception>
#include <map>
#include <utility>

#include "kring/common/log.h"
#include "kring/common/protocol.h"

namespace kring::server {

ReceiptSigner::ReceiptSigner(const SecretBytes& secret_key)
    : secret_key_(secret_key), thread_([this] { Loop(); }) {}

ReceiptSigner::~ReceiptSigner() { Stop(); }

void ReceiptSigner::Submit(Request request) {
  Queue(std::move(request));
  Flush();
}

void ReceiptSigner::Queue(Request request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(request));
      return;
    }
  }
  std::vector<Request> alone;
  alone.push_back(std::move(request));
  SignRound(alone);
}

void ReceiptSigner::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!queue_.empty()) cv_.notify_one();
}

void ReceiptSigner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void ReceiptSigner::Loop() {
  for (;;) {
    std::vector<Request> round;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      round.swap(queue_);
    }
    SignRound(round);
  }
}

void ReceiptSigner::SignRound(std::vector<Request>& round) const {
  std::map<Bytes, v1::Receipt> receipts;
  // Receipts below the round's head, signed once per (case, seq): a retry's own seq, and R for a
  // push whose author was removed in this round at R >= its seq (never past R: the removed
  // account's device checks its push results against its head at R; the removal's push holds
  // the chain hash at R).
  std::map<std::pair<Bytes, uint64_t>, v1::Receipt> at_seq;
  std::vector<const v1::Receipt*> chosen(round.size(), nullptr);
  try {
    // Every request here has committed, so the highest seq per case is in the log.
    std::map<Bytes, const Request*> highest;
    std::map<Bytes, std::vector<const Removal*>> removals;  // per case
    for (const Request& r : round) {
      const Request*& h = highest[r.case_id];
      if (h == nullptr || r.seq > h->seq) h = &r;
      for (const Removal& m : r.removals) removals[r.case_id].push_back(&m);
    }
    for (const auto& [case_id, r] : highest) {
      receipts[case_id] =
          protocol::MakeReceipt(case_id, r->seq, r->chain_hash, r->time_ms, secret_key_);
    }
    for (size_t i = 0; i < round.size(); ++i) {
      const Request& r = round[i];
      auto it = receipts.find(r.case_id);
      chosen[i] = &it->second;
      if (r.retry && r.seq < it->second.seq()) {
        auto [at, fresh] = at_seq.try_emplace({r.case_id, r.seq});
        if (fresh) {
          at->second =
              protocol::MakeReceipt(r.case_id, r.seq, r.chain_hash, r.time_ms, secret_key_);
        }
        chosen[i] = &at->second;
        continue;
      }
      auto found = removals.find(r.case_id);
      if (found == removals.end()) continue;
      const Removal* own = nullptr;
      for (const Removal* m : found->second) {
        if (m->account_id == r.author_account_id && m->seq >= r.seq &&
            (own == nullptr || m->seq < own->seq)) {
          own = m;
        }
      }
      if (own == nullptr || own->seq >= it->second.seq()) continue;
      auto [at, fresh] = at_seq.try_emplace({r.case_id, own->seq});
      if (fresh) {
        at->second =
            protocol::MakeReceipt(r.case_id, own->seq, own->chain_hash, own->time_ms, secret_key_);
      }
      chosen[i] = &at->second;
    }
  } catch (const std::exception&) {
    log::Error("receipt_signing_failed");
    std::fill(chosen.begin(), chosen.end(), nullptr);
  }
  for (size_t i = 0; i < round.size(); ++i) {
    try {
      round[i].done(chosen[i]);
    } catch (const std::exception&) {
      log::Error("receipt_completion_failed");
    }
  }
}

}  // namespace kring::server
