#include "domain/plan_ops.h"

#include <algorithm>
#include <optional>

#include "kring/common/crypto.h"

#include "domain/rule_refusals.h"
#include "model/content_rules.h"
#include "model/reducer.h"

namespace kring::domain::plan_ops {

v1::Mutation Create(const std::string& id, std::string_view type) {
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(id);
  m.mutable_create_entity()->set_type(std::string(type));
  return m;
}

v1::Mutation Set(const std::string& id, std::string_view field, const v1::Value& value,
                 const v1::Entity* entity) {
  v1::Mutation m;
  v1::SetField* f = m.mutable_set_field();
  f->set_entity_id(id);
  f->set_field(std::string(field));
  *f->mutable_value() = value;
  if (entity != nullptr) {
    auto it = entity->fields().find(std::string(field));
    if (it != entity->fields().end()) f->set_base_revision(it->second.revision());
  }
  return m;
}

v1::Mutation Add(const std::string& id, std::string_view set, const v1::Value& value) {
  v1::Mutation m;
  v1::SetAdd* a = m.mutable_set_add();
  a->set_entity_id(id);
  a->set_set(std::string(set));
  a->set_element_id(NewId());
  a->set_add_tag(NewId());
  *a->mutable_value() = value;
  return m;
}

Result<Bytes> MyAccount(const client::Client& client) {
  KRING_ASSIGN_OR_RETURN(client::AccountInfo me, client.Account());
  return me.account_id;
}

Result<uint32_t> ScopeWithMembers(client::Client& client, const Bytes& case_id,
                                  const v1::CaseState& view, std::vector<std::string> accounts) {
  std::sort(accounts.begin(), accounts.end());
  accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());
  std::optional<uint32_t> found;
  for (const auto& [id, scope] : view.scopes()) {
    std::vector<std::string> have(scope.members().begin(), scope.members().end());
    std::sort(have.begin(), have.end());
    if (have == accounts && (!found || id < *found)) found = id;
  }
  if (found) return *found;
  std::vector<Bytes> members;
  members.reserve(accounts.size());
  for (const std::string& m : accounts) members.emplace_back(m.begin(), m.end());
  return client.CreateScope(case_id, members);
}

Status SubmitChecked(client::Client& client, const Bytes& case_id, const v1::CaseState& view,
                     const std::vector<v1::Mutation>& mutations, uint32_t scope_id) {
  KRING_RETURN_IF_ERROR(CheckAllowed(client, view, mutations, scope_id));
  return client.Submit(case_id, mutations, scope_id);
}

Status CheckAllowed(const client::Client& client, const v1::CaseState& view,
                    const std::vector<v1::Mutation>& mutations, uint32_t scope_id) {
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client));
  // Replays the op the way every device will (pending: seq 0), one mutation at a time, so a
  // mutation that depends on an earlier one in the same op is judged after it.
  v1::CaseState copy = view;
  client::model::OpContext ctx{0, me, crypto::RandomBytes(crypto::kIdBytes), scope_id};
  for (const v1::Mutation& m : mutations) {
    // The refusing rule's own key, which says who may (rule_refusals.cpp).
    if (const std::string rule = client::model::CheckContentRule(copy, ctx, m); !rule.empty()) {
      return PermissionDenied(RefusalKeyFor(copy, me, rule));
    }
    v1::ContentOp one;
    one.set_version(1);
    one.set_scope_id(scope_id);
    *one.add_mutations() = m;
    client::model::ApplyContent(copy, one, ctx);
  }
  return {};
}

}  // namespace kring::domain::plan_ops
