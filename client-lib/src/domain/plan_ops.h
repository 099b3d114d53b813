// Building and submitting the plan's mutations: one op per user action, checked against the same
// rules the reducer applies before it is queued, so a forbidden call fails at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kring/client.h"
#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/v1/model.pb.h"

#include "model/values.h"

namespace kring::domain::plan_ops {

using client::model::BlobValue;
using client::model::FlagValue;
using client::model::IntValue;
using client::model::NewEntityId;
using client::model::NewId;
using client::model::TextValue;
using client::model::TimeValue;

v1::Mutation Create(const std::string& id, std::string_view type);
// Based on the revision in `entity` (if any), so a concurrent edit becomes a visible conflict.
v1::Mutation Set(const std::string& id, std::string_view field, const v1::Value& value,
                 const v1::Entity* entity = nullptr);
v1::Mutation Add(const std::string& id, std::string_view set, const v1::Value& value);

// Runs the content rules over `mutations` on a copy of `view` as this account would; fails with
// PermissionDenied with the refusing rule's key (RefusalKey: who may; "domain.not_allowed" for a
// rule without a text of its own) when any would have no effect, else queues them as one op in
// `scope_id`.
Status SubmitChecked(client::Client& client, const Bytes& case_id, const v1::CaseState& view,
                     const std::vector<v1::Mutation>& mutations, uint32_t scope_id);
// The check alone: before a call makes anything (a scope), so a refused call changes nothing.
Status CheckAllowed(const client::Client& client, const v1::CaseState& view,
                    const std::vector<v1::Mutation>& mutations, uint32_t scope_id);

Result<Bytes> MyAccount(const client::Client& client);

// The scope whose members are exactly `accounts` (the lowest id when several have them, so every
// device picks alike), made when there is none: scopes are few and each costs a key per member.
// The caller decides who is in: only current members can hold a key, and the writer must be in.
Result<uint32_t> ScopeWithMembers(client::Client& client, const Bytes& case_id,
                                  const v1::CaseState& view, std::vector<std::string> accounts);

}  // namespace kring::domain::plan_ops
