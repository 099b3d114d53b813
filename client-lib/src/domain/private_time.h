// Whether an account writes as the network in its private time, for rules outside the organising
// entities (the plan's version rule). Reads only scope-0 state, like every content rule.
#pragma once

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

// A network member (no professional or coordinator) in the scope of a meeting's private time,
// released or not, while the meeting is still in that phase (not deleted, cancelled or finished):
// the release of the network's draft happens in this phase, and the phase moves on only after it.
bool InNetworkPrivateTime(const v1::CaseState& state, ByteView account_id);

}  // namespace kring::domain
