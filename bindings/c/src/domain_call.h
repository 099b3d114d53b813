// The netwerkberaad domain behind kring_client_domain_call: one kring.abi.v1.DomainRequest is
// dispatched to kring::domain::Organising, Plan or FollowUp, and the result is returned as a
// kring.abi.v1.DomainResponse. Domain failures keep their Status, whose message is a key for
// kring::domain::UserText.
#pragma once

#include "kring/abi/v1/domain.pb.h"
#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"

namespace kring::abi {

Result<v1::DomainResponse> DomainCall(client::Client& client, const Bytes& case_id,
                                      const v1::DomainRequest& request);

}  // namespace kring::abi
