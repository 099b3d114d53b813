#include "domain/plan_ops.h"

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

Status SubmitChecked(client::Client& client, const Bytes& case_id, const v1::CaseState& view,
                     const std::vector<v1::Mutation>& mutations, uint32_t scope_id) {
  KRING_ASSIGN_OR_RETURN(Bytes me, MyAccount(client));
  // Replays the op the way every device will (pending: seq 0), one mutation at a time, so a
  // mutation that depends on an earlier one in the same op is judged after it.
  v1::CaseState copy = view;
  client::model::OpContext ctx{0, me, crypto::RandomBytes(crypto::kIdBytes), scope_id};
  for (const v1::Mutation& m : mutations) {
    // The refusing rule's own key, which says who may (rule_refusals.cpp).
    if (const std::string rule = client::model::CheckContentRule(copy, ctx, m); !rule.empty()) {
      return PermissionDenied(RefusalKey(rule));
    }
    v1::ContentOp one;
    one.set_version(1);
    one.set_scope_id(scope_id);
    *one.add_mutations() = m;
    client::model::ApplyContent(copy, one, ctx);
  }
  return client.Submit(case_id, mutations, scope_id);
}

}  // namespace kring::domain::plan_ops
