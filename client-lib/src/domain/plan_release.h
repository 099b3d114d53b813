// Sharing the agreements the network wrote in private time, at its release
// (Organising::ReleaseDraft): what everyone would have read, had they been written outside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

struct ReleaseOp {
  std::vector<v1::Mutation> mutations;
  uint32_t scope_id = 0;
};

// The agreements of `meeting_id`'s private time this view holds that are not shared yet.
size_t PrivateTimeAgreementCount(const v1::CaseState& view, const std::string& meeting_id);

// Per such agreement two ops, in this order: a copy made as Plan::AddAgreement would make it now
// outside private time (by this account: same content, hidden from the same people, a new id and
// salt, proposed), and the deletion of the original in its private scope. Queued with the
// release itself (the deletion is allowed only once the network has released).
Result<std::vector<ReleaseOp>> AgreementReleaseOps(client::Client& client, const Bytes& case_id,
                                                   const v1::CaseState& view,
                                                   const std::string& meeting_id);

}  // namespace kring::domain
