// What the writer thread knows of a case between pushes, so a push of content ops does not read
// it from the tables again: the case record with its head, its members (the accounts poked after
// a push) and their roles, the devices' cursors, and scope 0's rekey flag, epoch and revocation
// hold. A single-op push read all of that anew (seven statements, the member list one row per
// member); with 64 members the list alone was about a third of the writer's instructions.
//
// Valid because only the writer thread writes, and kept exact by its two users:
// - the writer (writer.cpp) clears it before any job that does not declare
//   `WriteJob::keeps_case_cache` (account changes such as a revoked device's holds, the retention
//   sweep, anything added later), and after a group whose commit failed; after a push that
//   failed (its savepoint was rolled back) it drops that push's case;
// - a push (push_state.cpp) writes its case's entry back only when it went through with content
//   ops only (which change the head and the author's cursor, and nothing else cached); a control op
//   drops the entry before it runs, so the tables are read again from then on.
// It also holds the case heads that pushes left and that are not in `cases` yet: a push of the
// group that reads a case from the tables takes the head from here (UnwrittenHead), and the
// writer writes them once per group (Writer::WriteHeads) before the commit and before any job
// that does not keep the cache (such a job may read `cases`); a head left by a job that failed
// is dropped with it, and all are dropped with a failed group.
// Only the writer thread touches it; read transactions never see it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "kring/common/bytes.h"

#include "storage/store.h"

namespace kring::server::storage {

// Orders Bytes keys and finds them by a ByteView, without copying the view into a key.
struct BytesLess {
  using is_transparent = void;
  bool operator()(ByteView a, ByteView b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
};

struct CachedCase {
  CaseRecord kase;
  std::shared_ptr<const std::vector<Bytes>> members;     // null: not read yet
  std::map<Bytes, std::optional<int>, BytesLess> roles;  // by account; nullopt: not a member
  std::map<Bytes, std::optional<DeviceCursor>, BytesLess> cursors;  // by device
  std::optional<bool> rekey_required;                               // scope 0
  std::optional<std::optional<uint64_t>> epoch;                     // scope 0; outer: read yet
  std::optional<bool> revocation_hold;                              // scope 0
};

struct CaseHead {
  uint64_t seq = 0;
  Bytes hash;
};

using CaseHeads = std::map<Bytes, CaseHead, BytesLess>;

class CaseCache {
 public:
  // nullptr when the case is not cached.
  CachedCase* Find(ByteView case_id);
  // The case's entry, new and empty if there was none.
  CachedCase& Put(ByteView case_id);
  void Erase(ByteView case_id);
  void Clear() { cases_.clear(); }
  size_t size() const { return cases_.size(); }

  // The head the running job left for its case (a push's Flush), instead of an UPDATE of
  // `cases` per push. It stays the job's own until the job ends: KeepJobHead when it went
  // through, DropJobHead when it was rolled back (or a push starts over); the writer also drops
  // any before each job runs.
  void SetJobHead(ByteView case_id, uint64_t seq, ByteView hash);
  void KeepJobHead();
  void DropJobHead() { job_head_.reset(); }
  // The newest head of the case not written to `cases` yet (the running job's, else the
  // group's), or nullptr: the tables' head is then the case's head.
  const CaseHead* UnwrittenHead(ByteView case_id) const;
  // The group's unwritten heads, handed over to be written (or dropped with a failed group).
  CaseHeads TakeHeads() { return std::exchange(heads_, {}); }

 private:
  // Bounded: past this many cases one entry leaves for each new one (a re-read costs one push
  // its reads).
  // An entry holds the member list (at most 200) and the roles and cursors of those who pushed:
  // a few tens of KiB at most.
  static constexpr size_t kMaxCases = 1024;
  std::map<Bytes, CachedCase, BytesLess> cases_;
  // Apart from the entries: an entry may be dropped or evicted while its head is not written.
  CaseHeads heads_;
  std::optional<std::pair<Bytes, CaseHead>> job_head_;
};

}  // namespace kring::server::storage
