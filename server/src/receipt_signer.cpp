#include "receipt_signer.h"

#include <exception>
#include <map>

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
  try {
    // Every request here has committed, so the highest seq per case is in the log.
    std::map<Bytes, const Request*> highest;
    for (const Request& r : round) {
      const Request*& h = highest[r.case_id];
      if (h == nullptr || r.seq > h->seq) h = &r;
    }
    for (const auto& [case_id, r] : highest) {
      receipts[case_id] =
          protocol::MakeReceipt(case_id, r->seq, r->chain_hash, r->time_ms, secret_key_);
    }
  } catch (const std::exception&) {
    log::Error("receipt_signing_failed");
    receipts.clear();
  }
  for (Request& r : round) {
    auto it = receipts.find(r.case_id);
    try {
      r.done(it == receipts.end() ? nullptr : &it->second);
    } catch (const std::exception&) {
      log::Error("receipt_completion_failed");
    }
  }
}

}  // namespace kring::server
