// Signs push receipts after the commit, off the writer thread, one signature per case per
// round: everything that committed while the previous round was signing shares one receipt for
// the highest seq of its case. The chain hash at that seq commits to every earlier entry, so the
// receipt proves the server's word about each of them as firmly as one receipt per op would
// (docs/protocol.md "Receipts"); a push of an account removed in the same round is the exception
// (Request::done). Under load this is the same trade as the group commit: one
// Ed25519 signature (about 24 us) for many pushes instead of one per op on the writer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/v1/sync.pb.h"

namespace kring::server {

class ReceiptSigner {
 public:
  // An account this push removed (RemoveMember, also leaving) at `seq`.
  struct Removal {
    Bytes account_id;
    uint64_t seq = 0;
    Bytes chain_hash;  // chain hash at `seq`
    int64_t time_ms = 0;
  };

  struct Request {
    Bytes case_id;
    uint64_t seq = 0;  // the push's highest seq
    Bytes chain_hash;  // chain hash at `seq`
    int64_t time_ms = 0;
    // Called once, on the signer thread, with a receipt for a seq >= `seq` of the case, or
    // with nullptr if signing failed (the caller answers INTERNAL; nothing is left unanswered).
    // The receipt is the round's highest seq of the case, except for a push whose author a push
    // of the same round removed at R >= `seq`: that one gets a receipt at R (the lowest such R),
    // never past it, since a removed account gets no chain hash of the case past its removal
    // (docs/protocol.md section 9).
    std::function<void(const v1::Receipt*)> done;
    Bytes author_account_id;
    std::vector<Removal> removals;  // the accounts this push removed
    // Every op of the push was stored before (a retry): the receipt is re-signed at `seq`
    // itself, not at the round's head, so a retry answered after its author's removal in an
    // earlier round never carries a chain hash past that removal.
    bool retry = false;
  };

  explicit ReceiptSigner(const SecretBytes& secret_key);
  ~ReceiptSigner();
  ReceiptSigner(const ReceiptSigner&) = delete;
  ReceiptSigner& operator=(const ReceiptSigner&) = delete;

  // Thread-safe. After Stop() requests are signed on the caller's thread.
  void Submit(Request request);
  // As Submit, but the signer thread is not woken until Flush(): the writer queues the receipts
  // of a whole group commit, then flushes, so they cost one signature per case (Submit would
  // wake the signer at the group's first push and sign that one alone).
  void Queue(Request request);
  void Flush();
  // Signs what is queued, then joins the thread.
  void Stop();

 private:
  void Loop();
  void SignRound(std::vector<Request>& round) const;
  friend struct ReceiptSignerTestAccess;

  const SecretBytes& secret_key_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kring::server
