#include "store/log_segments.h"

#include <limits>

namespace kring::client {

Status SegmentBuilder::StartEntry(uint64_t seq, ByteView chain_hash) {
  // SQLite's integers are signed; seqs start at 1 (SplitSegment refuses anything else).
  if (seq == 0 || seq > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument("a log entry's seq is out of range");
  }
  if (chain_hash.size() != crypto::kHashBytes) {
    return InvalidArgument("a log entry's chain hash is not 32 bytes");
  }
  if (count_ == 0) {
    first_seq_ = seq;
  } else if (seq != last_seq() + 1) {
    return InvalidArgument("a log segment's entries are not consecutive");
  }
  chain_hashes_.append(reinterpret_cast<const char*>(chain_hash.data()), chain_hash.size());
  return {};
}

Status SegmentBuilder::EndEntry(size_t length_at) {
  const size_t n = envelopes_.size() - length_at - kSegmentLengthBytes;
  if (n > std::numeric_limits<uint32_t>::max()) {
    // The entry is taken back: the row stays as it was before it.
    envelopes_.resize(length_at);
    chain_hashes_.resize(chain_hashes_.size() - crypto::kHashBytes);
    return InvalidArgument("a log entry's envelope is too large");
  }
  for (size_t i = 0; i < kSegmentLengthBytes; ++i) {
    envelopes_[length_at + i] = static_cast<char>(n >> (8 * (kSegmentLengthBytes - 1 - i)));
  }
  ++count_;
  return {};
}

Status SegmentBuilder::Add(uint64_t seq, ByteView chain_hash, ByteView envelope) {
  return AddSerialized(seq, chain_hash, [&](std::string& out) {
    out.append(reinterpret_cast<const char*>(envelope.data()), envelope.size());
  });
}

Status SplitSegment(int64_t first_seq, int64_t last_seq, ByteView chain_hashes, ByteView envelopes,
                    std::vector<SegmentEntry>* out) {
  out->clear();
  // Every size is checked against the blobs as read before anything is sized by a claim.
  if (first_seq < 1 || last_seq < first_seq ||
      static_cast<uint64_t>(last_seq - first_seq) >= kMaxReadSegmentEntries) {
    return DataLoss("stored log segment is malformed");
  }
  const uint64_t count = static_cast<uint64_t>(last_seq - first_seq) + 1;
  if (chain_hashes.size() != count * crypto::kHashBytes) {
    return DataLoss("stored log segment is malformed");
  }
  out->reserve(count);
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (envelopes.size() - at < kSegmentLengthBytes) {
      return DataLoss("stored log segment is malformed");
    }
    size_t n = 0;
    for (size_t b = 0; b < kSegmentLengthBytes; ++b) n = n << 8 | envelopes[at + b];
    at += kSegmentLengthBytes;
    if (envelopes.size() - at < n) return DataLoss("stored log segment is malformed");
    out->push_back(SegmentEntry{static_cast<uint64_t>(first_seq) + i,
                                chain_hashes.subspan(i * crypto::kHashBytes, crypto::kHashBytes),
                                envelopes.subspan(at, n)});
    at += n;
  }
  if (at != envelopes.size()) return DataLoss("stored log segment is malformed");
  return {};
}

}  // namespace kring::client
