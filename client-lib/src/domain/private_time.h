// Whether an account writes as the network in its private time, for rules outside the organising
// entities (the plan's version rule). Reads only scope-0 state, like every content rule.
#pragma once

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

// A network member (no professional or coordinator) in the scope of a meeting's private time,
// released or not, while the meeting is still in that phase (not deleted, cancelled or finished).
bool InNetworkPrivateTime(const v1::CaseState& state, ByteView account_id);

// The meeting whose private time the network has released (`meeting release`) and that is still
// in that phase (not deleted, cancelled or finished), with the account a network member in its
// private scope; else null. The network's plan version is made now, once: the op that makes it
// moves this meeting on to the plan presentation (docs/plan.md, "Who makes a version").
const v1::Entity* ReleasedPrivateTime(const v1::CaseState& state, ByteView account_id);

// The meeting the op `op_id` moved from its released private time to the plan presentation,
// with the account a network member in its private scope; else null. Only in that op may the
// network make its plan version: after it, private time is over.
const v1::Entity* PrivateTimeEndedInOp(const v1::CaseState& state, ByteView account_id,
                                       ByteView op_id);

}  // namespace kring::domain
