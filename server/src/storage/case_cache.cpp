#include "storage/case_cache.h"

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

}  // namespace kring::server::storage
