// Whether an account writes as the network in its private time, for rules outside the organising
// entities (the plan's version rule). Reads only scope-0 state, like every content rule.
#pragma once

#include <string_view>

#include "kring/common/bytes.h"
#include "kring/v1/model.pb.h"

#include "model/reducer.h"

namespace kring::domain {

// The meeting field that names the network's one plan version of its released private time:
// written once, in the op that makes that version (docs/plan.md, "Who makes a version").
inline constexpr char kNetworkVersionField[] = "network_version";

// A network member (no professional or coordinator) in the scope of a meeting's private time,
// released or not, while the meeting is still in that phase (not deleted, cancelled or finished).
bool InNetworkPrivateTime(const v1::CaseState& state, ByteView account_id);

// The meeting whose private time the network has released (`meeting release`) and whose network
// has not made its plan version yet, with the account a network member in its private scope; else
// null. The meeting is in `private_time` or, moved on by an organiser or a network member before
// the network's version, in `plan_presentation` (not deleted, cancelled or finished). The op that
// makes the network's version names it in the meeting's `network_version` (and moves the meeting
// on to the plan presentation when it is still in private time).
const v1::Entity* NetworkVersionOpen(const v1::CaseState& state, ByteView account_id);

// Whether the account is a network member in the private scope of a released meeting (in private
// time or the plan presentation) whose network has made its version already: what a second
// `plan release` is told.
bool NetworkVersionMade(const v1::CaseState& state, ByteView account_id);

// Whether the op `ctx` may create `version_id` as the network's plan version: its author is a
// network member in the private scope of a released meeting (in private time or the plan
// presentation) whose `network_version` this same op wrote (WrittenInOp: seq, author and op id)
// naming `version_id`. An op from before that field (an old log's plan release, made while the
// meeting was still in private time) may too when the meeting has no `network_version` and its
// network made no version since its private scope was set: that is its one version.
bool NetworkMakesVersion(const v1::CaseState& state, const client::model::OpContext& ctx,
                         std::string_view version_id);

// Whether `meeting` may be given `network_version` = `value` by `account_id` now: the
// meeting rule's check (NetworkVersionOpen for this meeting, a 16-byte id).
bool MayNameNetworkVersion(const v1::CaseState& state, const v1::Entity& meeting,
                           ByteView account_id, const v1::Value& value);

}  // namespace kring::domain
