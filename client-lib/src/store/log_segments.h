// The stored form of the verified local log (store schema 14, table log_segments): one row per run
// of consecutive entries, up to kMaxSegmentEntries, instead of one row per entry. A cold sync
// stores thousands of entries in one transaction on the sync's critical path, and each row had
// its own cost whatever its bytes (two b-tree inserts, a uniqueness seek, its share of a
// statement); a run of a page's entries is one row. This file only builds and splits a row's
// two blobs; local_store.cpp does the SQL.
//
// A row: (case_id, last_seq, first_seq, chain_hashes, envelopes). chain_hashes is the entries'
// chain hashes (32 bytes each) in seq order; envelopes is, per entry in seq order, a 4-byte
// big-endian length and the serialized envelope. A row read back is checked whole before any
// of its entries is used: a corrupted one is DataLoss, never a read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/status.h"

namespace kring::client {

// At most this many entries to a row written: a point lookup (a chain hash for the verifier's
// seen-head checks, a long value's envelope when the stored state is read) reads its row whole,
// and 64 chain hashes (2 KB) still fit in the row's first page. Rows of more are still read.
inline constexpr size_t kMaxSegmentEntries = 64;
// A row claiming more entries than this is refused as corrupted before anything is allocated.
inline constexpr uint64_t kMaxReadSegmentEntries = 1 << 16;
inline constexpr size_t kSegmentLengthBytes = 4;

// The blobs of one row, built entry by entry; reused from row to row (Clear keeps the buffers).
class SegmentBuilder {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  uint64_t first_seq() const { return first_seq_; }
  uint64_t last_seq() const { return first_seq_ + count_ - 1; }
  // Whether the entry at `seq` continues this row (the next seq, and room left).
  bool Continues(uint64_t seq) const {
    return count_ != 0 && count_ < kMaxSegmentEntries && seq == last_seq() + 1;
  }
  void Clear() {
    count_ = 0;
    chain_hashes_.clear();
    envelopes_.clear();
  }
  // Starts a row at `seq` when empty; else `seq` must continue it (Continues). InvalidArgument
  // when the chain hash is not 32 bytes or the envelope does not fit a 4-byte length.
  Status Add(uint64_t seq, ByteView chain_hash, ByteView envelope);
  // As Add, with the envelope serialized straight into the row (no copy of its own first).
  // `serialize(out)` appends the envelope's bytes to `out`.
  template <typename Serialize>
  Status AddSerialized(uint64_t seq, ByteView chain_hash, Serialize&& serialize) {
    KRING_RETURN_IF_ERROR(StartEntry(seq, chain_hash));
    const size_t at = envelopes_.size();
    envelopes_.append(kSegmentLengthBytes, '\0');
    serialize(envelopes_);
    return EndEntry(at);
  }
  ByteView chain_hashes() const { return View(chain_hashes_); }
  ByteView envelopes() const { return View(envelopes_); }

 private:
  Status StartEntry(uint64_t seq, ByteView chain_hash);
  Status EndEntry(size_t length_at);

  uint64_t first_seq_ = 0;
  size_t count_ = 0;
  std::string chain_hashes_;
  std::string envelopes_;
};

// One entry of a row read back; the views point into the row's blobs.
struct SegmentEntry {
  uint64_t seq = 0;
  ByteView chain_hash;
  ByteView envelope;
};

// Splits a row read back into its entries (replacing `out`'s contents): DataLoss unless
// first_seq >= 1, last_seq >= first_seq, it claims at most kMaxReadSegmentEntries, chain_hashes
// holds exactly one 32-byte hash per entry and envelopes exactly one length-prefixed envelope per
// entry with no bytes left over.
Status SplitSegment(int64_t first_seq, int64_t last_seq, ByteView chain_hashes, ByteView envelopes,
                    std::vector<SegmentEntry>* out);

}  // namespace kring::client
