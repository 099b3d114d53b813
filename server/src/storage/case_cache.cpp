#include "storage/case_cache.h"

#include <algorithm>

namespace kring::server::storage {

CachedCase* CaseCache::Find(ByteView case_id) {
  auto it = cases_.find(case_id);
  return it == cases_.end() ? nullptr : &it->second;
}

CachedCase& CaseCache::Put(ByteView case_id) {
  if (CachedCase* found = Find(case_id)) return *found;
  // Full: one entry makes room. The keys are random case ids, so the first is as good as any;
  // clearing all would free thousands of allocations inside one push and re-read every case.
  if (cases_.size() >= kMaxCases) cases_.erase(cases_.begin());
  return cases_.emplace(Bytes(case_id.begin(), case_id.end()), CachedCase{}).first->second;
}

void CaseCache::Erase(ByteView case_id) {
  auto it = cases_.find(case_id);
  if (it != cases_.end()) cases_.erase(it);
}

void CaseCache::SetJobHead(ByteView case_id, uint64_t seq, ByteView hash) {
  if (!job_head_) job_head_.emplace();
  // Assigned in place: a single-op push sets it once, a push with control ops once per flush.
  job_head_->first.assign(case_id.begin(), case_id.end());
  job_head_->second.seq = seq;
  job_head_->second.hash.assign(hash.begin(), hash.end());
}

void CaseCache::KeepJobHead() {
  if (!job_head_) return;
  auto it = heads_.find(job_head_->first);
  if (it == heads_.end()) {
    heads_.emplace(std::move(job_head_->first), std::move(job_head_->second));
  } else {
    it->second.seq = job_head_->second.seq;
    it->second.hash.swap(job_head_->second.hash);
  }
  job_head_.reset();
}

const CaseHead* CaseCache::UnwrittenHead(ByteView case_id) const {
  if (job_head_ && std::ranges::equal(job_head_->first, case_id)) return &job_head_->second;
  auto it = heads_.find(case_id);
  return it == heads_.end() ? nullptr : &it->second;
}

}  // namespace kring::server::storage
