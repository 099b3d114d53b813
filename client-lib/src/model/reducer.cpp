#include "model/reducer.h"

#include <algorithm>
#include <set>
#include <string>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/common/utf8.h"

#include "model/content_rules.h"

namespace kring::client::model {
namespace {

bool ValidId(const std::string& id) { return id.size() == crypto::kIdBytes; }
// Names and texts must be UTF-8: protobuf refuses to read a string field that is not, so one such
// text would make the author's own pending edits and state unreadable on the next load.
// `check_utf8`: false when protobuf's parser has read the op (OpContext::utf8_checked).
bool ValidName(const std::string& name, bool check_utf8 = true) {
  return !name.empty() && name.size() <= kMaxNameBytes && (!check_utf8 || utf8::IsValid(name));
}
bool ValidValue(const v1::Value& v, bool check_utf8 = true) {
  return v.ByteSizeLong() <= kMaxValueBytes &&
         (!v.has_text() || !check_utf8 || utf8::IsValid(v.text()));
}

// `id`: 16 bytes (CheckMutation).
v1::Entity* FindEntity(v1::CaseState& state, const std::string& id) {
  auto it = state.mutable_entities()->find(EntityKey(View(id)).view());
  return it == state.mutable_entities()->end() ? nullptr : &it->second;
}

// `value`: m's value when the caller gives the op up (it is moved into the state), else null (it
// is copied).
// An op parsed on a protobuf arena (a pulled page's) gives up its text or blob by a string swap:
// Swap between messages of different arenas would copy it.
void TakeValue(const v1::Value& from, v1::Value* value, v1::Value* to) {
  if (value == nullptr) {
    *to = from;
  } else if (value->GetArena() == to->GetArena()) {
    to->Swap(value);
  } else if (value->kind_case() == v1::Value::kText) {
    to->mutable_text()->swap(*value->mutable_text());
  } else if (value->kind_case() == v1::Value::kBlob) {
    to->mutable_blob()->swap(*value->mutable_blob());
  } else {
    *to = *value;
  }
}

// `index`: m's position in its op.
void ApplySetField(v1::CaseState& state, v1::Entity* e, const v1::SetField& m, const OpContext& ctx,
                   int index, v1::Value* value) {
  if (e == nullptr) return;
  auto& fields = *e->mutable_fields();
  // One lookup: the field's slot, made empty when the field is new.
  auto [it, is_new] = fields.try_emplace(m.field());
  if (!is_new) {
    const v1::FieldState& current = it->second;
    bool based_on_current = current.revision() == m.base_revision();
    // A field this same op wrote before is no concurrent edit. The revision alone does not
    // prove that (WrittenInOp): a raw op copying another op's id would overwrite without a trace.
    if (!based_on_current && !WrittenInOp(current, ctx)) {
      // Concurrent edit: the later seq wins the field, the other value is kept in the conflict.
      v1::Conflict* c = state.add_conflicts();
      c->set_entity_id(m.entity_id());
      c->set_field(m.field());
      *c->mutable_kept_value() = m.value();
      *c->mutable_other_value() = current.value();
      c->set_kept_seq(ctx.seq);
      c->set_other_seq(current.seq());
      c->set_kept_author_account_id(ToString(ctx.author_account_id));
      c->set_other_author_account_id(current.author_account_id());
    } else if (based_on_current) {
      // An edit made with the current value in view settles earlier conflicts on this field.
      for (auto& c : *state.mutable_conflicts()) {
        if (c.entity_id() == m.entity_id() && c.field() == m.field()) c.set_resolved(true);
      }
    }
  }
  v1::FieldState& fs = it->second;
  TakeValue(m.value(), value, fs.mutable_value());
  fs.set_revision(ToString(ctx.client_op_id));
  fs.set_seq(ctx.seq);
  fs.set_author_account_id(ToString(ctx.author_account_id));
  const v1::Value& v = fs.value();
  const size_t size = v.kind_case() == v1::Value::kText   ? v.text().size()
                      : v.kind_case() == v1::Value::kBlob ? v.blob().size()
                                                          : 0;
  if (ctx.op_digest.size() >= kSourceDigestBytes && size >= kMinSourcedValueBytes) {
    SetSource(fs, ctx.op_digest.first(kSourceDigestBytes), static_cast<uint32_t>(index));
  } else {
    fs.clear_source_mutation();
    fs.clear_source_op_digest_lo();
    fs.clear_source_op_digest_hi();
  }
}

// An entity lives in the scope it was created in: a mutation of it sealed to another scope could
// be read by people the entity is hidden from, so it has no effect.
// `e`: the entity the mutation changes, null when it does not exist (yet).
bool InOpScope(const v1::Entity* e, uint32_t op_scope) {
  return e == nullptr || e->scope_id() == op_scope;
}

void ApplySetAdd(v1::Entity* e, const v1::SetAdd& m, v1::Value* value) {
  if (e == nullptr) return;
  v1::SetElement& el =
      (*(*e->mutable_sets())[m.set()].mutable_elements())[HexOfPublic(View(m.element_id()))];
  el.set_element_id(m.element_id());
  TakeValue(m.value(), value, el.mutable_value());
  const auto& removed = el.removed_tags();
  const auto& live = el.live_tags();
  if (std::find(removed.begin(), removed.end(), m.add_tag()) == removed.end() &&
      std::find(live.begin(), live.end(), m.add_tag()) == live.end()) {
    el.add_live_tags(m.add_tag());
  }
}

void ApplySetRemove(v1::Entity* e, const v1::SetRemove& m) {
  if (e == nullptr) return;
  auto sets = e->mutable_sets();
  auto set_it = sets->find(m.set());
  if (set_it == sets->end()) return;
  auto el_it = set_it->second.mutable_elements()->find(HexOfPublic(View(m.element_id())));
  if (el_it == set_it->second.mutable_elements()->end()) return;
  v1::SetElement& el = el_it->second;
  // Only the observed tags are removed: a concurrent add (a tag not observed) wins.
  for (const std::string& tag : m.observed_tags()) {
    auto* live = el.mutable_live_tags();
    auto pos = std::find(live->begin(), live->end(), tag);
    if (pos != live->end()) live->erase(pos);
    const auto& removed = el.removed_tags();
    if (std::find(removed.begin(), removed.end(), tag) == removed.end()) el.add_removed_tags(tag);
  }
}

}  // namespace

const v1::Member* FindMember(const v1::CaseState& state, ByteView account_id) {
  for (const auto& m : state.members()) {
    if (ConstantTimeEqual(View(m.account_id()), account_id)) return &m;
  }
  return nullptr;
}

bool WasRemoved(const v1::CaseState& state, ByteView account_id) {
  for (const std::string& removed : state.removed_account_ids()) {
    if (ConstantTimeEqual(View(removed), account_id)) return true;
  }
  return false;
}

const std::string* MutatedEntityId(const v1::Mutation& m) {
  switch (m.kind_case()) {
    case v1::Mutation::kSetField:
      return &m.set_field().entity_id();
    case v1::Mutation::kSetAdd:
      return &m.set_add().entity_id();
    case v1::Mutation::kSetRemove:
      return &m.set_remove().entity_id();
    case v1::Mutation::kDeleteEntity:
      return &m.delete_entity().entity_id();
    case v1::Mutation::kRestoreEntity:
      return &m.restore_entity().entity_id();
    case v1::Mutation::kCreateEntity:
    case v1::Mutation::KIND_NOT_SET:
      break;
  }
  return nullptr;
}

// HexOfPublicInto checks that `id` fills the 32 digits (16 bytes).
EntityKey::EntityKey(ByteView id) { HexOfPublicInto(id, digits_); }

std::string EpochLabel(uint32_t scope_id, uint64_t epoch) {
  return std::to_string(scope_id) + ":" + std::to_string(epoch);
}

std::string RevocationLabel(uint32_t scope_id, ByteView device_id) {
  return std::to_string(scope_id) + ":" + Hex(device_id);
}

bool WrittenInOp(const v1::FieldState& field, const OpContext& ctx) {
  return !ctx.client_op_id.empty() && field.seq() == ctx.seq &&
         field.revision() == ToString(ctx.client_op_id) &&
         ConstantTimeEqual(View(field.author_account_id()), ctx.author_account_id);
}

bool InScope(const v1::CaseState& state, uint32_t scope_id, ByteView account_id) {
  if (FindMember(state, account_id) == nullptr) return false;
  if (scope_id == 0) return true;
  auto it = state.scopes().find(scope_id);
  if (it == state.scopes().end()) return false;
  for (const auto& m : it->second.members()) {
    if (ConstantTimeEqual(View(m), account_id)) return true;
  }
  return false;
}

bool EntityIdFitsScope(const v1::CaseState& state, uint32_t scope_id, std::string_view entity_id) {
  if (entity_id.size() < 4) return false;
  uint32_t prefix = 0;
  for (size_t i = 0; i < 4; ++i) {
    prefix = (prefix << 8) | static_cast<uint8_t>(entity_id[i]);
  }
  if (scope_id != 0) return prefix == scope_id;
  return prefix == 0 || state.scopes().count(prefix) == 0;
}

namespace {

// ValidateMutation; `check_utf8` as for ValidName.
Status CheckMutation(const v1::Mutation& m, bool check_utf8) {
  switch (m.kind_case()) {
    case v1::Mutation::kCreateEntity:
      if (!ValidId(m.create_entity().entity_id()))
        return InvalidArgument("entity id must be 16 bytes");
      if (m.create_entity().type().empty() || m.create_entity().type().size() > kMaxTypeBytes ||
          (check_utf8 && !utf8::IsValid(m.create_entity().type()))) {
        return InvalidArgument("entity type must be 1..64 bytes of UTF-8");
      }
      return {};
    case v1::Mutation::kSetField:
      if (!ValidId(m.set_field().entity_id())) return InvalidArgument("entity id must be 16 bytes");
      if (!ValidName(m.set_field().field(), check_utf8))
        return InvalidArgument("field name must be 1..64 bytes of UTF-8");
      if (!ValidValue(m.set_field().value(), check_utf8)) {
        return InvalidArgument("value larger than 64 KiB or text not UTF-8");
      }
      return {};
    case v1::Mutation::kSetAdd:
      if (!ValidId(m.set_add().entity_id()) || !ValidId(m.set_add().element_id()) ||
          !ValidId(m.set_add().add_tag())) {
        return InvalidArgument("entity, element and tag ids must be 16 bytes");
      }
      if (!ValidName(m.set_add().set(), check_utf8))
        return InvalidArgument("set name must be 1..64 bytes of UTF-8");
      if (!ValidValue(m.set_add().value(), check_utf8)) {
        return InvalidArgument("value larger than 64 KiB or text not UTF-8");
      }
      return {};
    case v1::Mutation::kSetRemove:
      if (!ValidId(m.set_remove().entity_id()) || !ValidId(m.set_remove().element_id())) {
        return InvalidArgument("entity and element ids must be 16 bytes");
      }
      if (!ValidName(m.set_remove().set(), check_utf8))
        return InvalidArgument("set name must be 1..64 bytes of UTF-8");
      return {};
    case v1::Mutation::kDeleteEntity:
      return ValidId(m.delete_entity().entity_id()) ? Status()
                                                    : InvalidArgument("entity id must be 16 bytes");
    case v1::Mutation::kRestoreEntity:
      return ValidId(m.restore_entity().entity_id())
                 ? Status()
                 : InvalidArgument("entity id must be 16 bytes");
    case v1::Mutation::KIND_NOT_SET:
      break;
  }
  return InvalidArgument("unknown mutation");
}

}  // namespace

Status ValidateMutation(const v1::Mutation& m) { return CheckMutation(m, true); }

namespace {

v1::InviteState* FindInvite(v1::CaseState& state, const std::string& invite_id) {
  for (auto& inv : *state.mutable_invites()) {
    if (inv.invite_id() == invite_id) return &inv;
  }
  return nullptr;
}

const v1::InviteState* FindInvite(const v1::CaseState& state, const std::string& invite_id) {
  for (const auto& inv : state.invites()) {
    if (inv.invite_id() == invite_id) return &inv;
  }
  return nullptr;
}

}  // namespace

const v1::Member* FindPending(const v1::CaseState& state, ByteView account_id) {
  for (const auto& m : state.pending_members()) {
    if (ConstantTimeEqual(View(m.account_id()), account_id)) return &m;
  }
  return nullptr;
}

namespace {

void RemovePending(v1::CaseState& state, const std::string& account_id) {
  auto* pending = state.mutable_pending_members();
  for (int i = 0; i < pending->size(); ++i) {
    if (pending->Get(i).account_id() == account_id) {
      pending->DeleteSubrange(i, 1);
      return;
    }
  }
}

void SetInviteOfAccount(v1::CaseState& state, const std::string& account_id,
                        v1::InviteState::Status status) {
  for (auto& inv : *state.mutable_invites()) {
    if (inv.accepted_by_account_id() == account_id && inv.status() == v1::InviteState::ACCEPTED) {
      inv.set_status(status);
    }
  }
}

}  // namespace

v1::ControlBody ControlBodyOf(const v1::ControlIntent& ci) {
  v1::ControlBody body;
  if (ci.has_create_case()) *body.mutable_create_case() = ci.create_case();
  if (ci.has_add_member()) *body.mutable_add_member() = ci.add_member();
  if (ci.has_remove_member()) *body.mutable_remove_member() = ci.remove_member();
  if (ci.has_invite()) *body.mutable_invite() = ci.invite();
  if (ci.has_revoke_invite()) *body.mutable_revoke_invite() = ci.revoke_invite();
  if (ci.has_accept_invite()) *body.mutable_accept_invite() = ci.accept_invite();
  if (ci.has_decline_member()) *body.mutable_decline_member() = ci.decline_member();
  if (ci.has_rekey_after_leave()) *body.mutable_rekey() = ci.rekey_after_leave();
  if (ci.has_set_scope()) *body.mutable_set_scope() = ci.set_scope();
  if (ci.has_rekey_scope()) *body.mutable_rekey() = ci.rekey_scope();
  if (ci.has_close_case()) *body.mutable_close_case() = ci.close_case();
  if (ci.has_erase_case()) *body.mutable_erase_case() = ci.erase_case();
  if (ci.has_complaint()) *body.mutable_complaint() = ci.complaint();
  if (ci.has_rekey_after_revoke()) *body.mutable_rekey() = ci.rekey_after_revoke();
  if (ci.has_set_role()) *body.mutable_set_role() = ci.set_role();
  return body;
}

// The same rules as kringd's CheckSetScope, with its reason keys: members of the case, no
// duplicates, the author in the new scope, and in the old one when changing it. A malformed
// change (scope 0, no members, a member twice, an id taken) carries no reason, as at kringd.
Status CheckSetScope(const v1::CaseState& state, ByteView author_account_id,
                     const v1::SetScope& set) {
  if (set.scope_id() == 0) return PermissionDenied("scope 0 is the whole case");
  if (set.members_size() < 1 ||
      static_cast<size_t>(set.members_size()) > protocol::kMaxCaseMembers) {
    return PermissionDenied("a scope needs members");
  }
  std::set<std::string> seen;
  bool author_in = false;
  for (const std::string& m : set.members()) {
    if (!seen.insert(m).second) return PermissionDenied("duplicate scope member");
    if (FindMember(state, View(m)) == nullptr) {
      return PermissionDenied("scope member is not a member of the case",
                              refusal::kTargetNotMember);
    }
    author_in |= ConstantTimeEqual(View(m), author_account_id);
  }
  if (!author_in) {
    return PermissionDenied("the author must be a member of the scope", refusal::kNotInScope);
  }
  const bool exists = state.scopes().count(set.scope_id()) != 0;
  if (set.create()) {
    if (exists) return PermissionDenied("scope exists already");
    if (state.scopes().size() >= protocol::kMaxScopesPerCase) {
      return PermissionDenied("too many scopes", refusal::kTooManyScopes);
    }
    return {};
  }
  if (!exists) return PermissionDenied("unknown scope", refusal::kScopeUnknown);
  if (!InScope(state, set.scope_id(), author_account_id)) {
    return PermissionDenied("only a member of the scope may change it", refusal::kNotInScope);
  }
  // Widening a scope shows everything written in it from then on to the newcomers: the chair or
  // a coordinator decides that; any member may narrow it.
  const v1::Member* author = FindMember(state, author_account_id);
  if (author->role() != v1::ROLE_CHAIR && author->role() != v1::ROLE_COORDINATOR) {
    for (const std::string& m : set.members()) {
      if (!InScope(state, set.scope_id(), View(m))) {
        return PermissionDenied("only the chair or a coordinator may let someone into a scope",
                                refusal::kManagersOnly);
      }
    }
  }
  return {};
}

bool HasChair(const v1::CaseState& state) {
  for (const auto& m : state.members()) {
    if (m.role() == v1::ROLE_CHAIR) return true;
  }
  return false;
}

namespace {

// The same rules as kringd's SetRoleOp, in the same order and with the same status codes and
// reason keys (a refusal made on the device reads like kringd's): a chair or coordinator;
// coordinator or member; a member who is not the chair; a real change; a coordinator stepping
// back to member may always, other changes are the chair's once the resident joined; a manager
// must remain.
Status CheckSetRole(const v1::CaseState& state, const v1::Member& author, const v1::SetRole& set) {
  if (author.role() != v1::ROLE_CHAIR && author.role() != v1::ROLE_COORDINATOR) {
    return PermissionDenied("only a chair or coordinator may do this", refusal::kManagersOnly);
  }
  if (set.role() != v1::ROLE_COORDINATOR && set.role() != v1::ROLE_MEMBER) {
    return InvalidArgument("a role change gives coordinator or member",
                           refusal::kRoleNotAssignable);
  }
  const v1::Member* target = FindMember(state, View(set.account_id()));
  if (target == nullptr) return NotFound("not a member", refusal::kTargetNotMember);
  if (target->role() == v1::ROLE_CHAIR) {
    return PermissionDenied("the chair's role does not change", refusal::kChairKeepsRole);
  }
  if (target->role() == set.role()) {
    return Status(StatusCode::kAlreadyExists, "the member has this role already",
                  refusal::kRoleUnchanged);
  }
  const bool steps_back = ConstantTimeEqual(View(set.account_id()), View(author.account_id()));
  if (author.role() == v1::ROLE_COORDINATOR && HasChair(state) && !steps_back) {
    return PermissionDenied("the chair decides who has which role", refusal::kChairDecidesRoles);
  }
  if (set.role() == v1::ROLE_MEMBER) {
    for (const auto& m : state.members()) {
      if (m.account_id() != set.account_id() &&
          (m.role() == v1::ROLE_CHAIR || m.role() == v1::ROLE_COORDINATOR)) {
        return {};
      }
    }
    return PermissionDenied("someone else must remain who can hand out new keys",
                            refusal::kKeyHolderMustRemain);
  }
  return {};
}

// An invite that is no longer open, with kringd's reason for the one accepting it (EXPIRED is
// only in a view, which marks an open invite past its time).
Status NotOpenToAccept(const v1::InviteState& invite) {
  if (invite.status() == v1::InviteState::REVOKED) {
    return PermissionDenied("invite is no longer open", refusal::kInviteRevoked);
  }
  if (invite.status() == v1::InviteState::EXPIRED) {
    return PermissionDenied("invite is no longer open", refusal::kInviteExpired);
  }
  return PermissionDenied("invite is no longer open", refusal::kInviteUsed);
}

// A chair is added or invited only while the case has none (the coordinator created it before
// the resident joined).
Status ChairExists(const v1::CaseState& state) {
  return HasChair(state) ? PermissionDenied("the case already has a chair", refusal::kChairExists)
                         : Status();
}

}  // namespace

Status CheckControlPermission(const v1::CaseState& state, ByteView author_account_id,
                              const v1::ControlBody& body) {
  if (body.has_create_case()) {
    int chairs = 0;
    for (const auto& m : body.create_case().members()) chairs += m.role() == v1::ROLE_CHAIR ? 1 : 0;
    // A malformed op, not a refusal (kringd answers INVALID_ARGUMENT without a reason).
    return chairs > 1 ? InvalidArgument("more than one chair") : Status();
  }
  if (body.has_accept_invite()) {
    // The author is not a member: it proves it holds the invite secret instead.
    const v1::AcceptInvite& accept = body.accept_invite();
    if (FindMember(state, author_account_id) != nullptr) {
      return PermissionDenied("already a member", refusal::kAlreadyJoined);
    }
    if (FindPending(state, author_account_id) != nullptr) {
      return PermissionDenied("already waiting for approval", refusal::kAlreadyWaiting);
    }
    const v1::InviteState* inv = FindInvite(state, accept.invite_id());
    if (inv == nullptr) return PermissionDenied("unknown invite", refusal::kInviteUnknown);
    if (inv->status() != v1::InviteState::PENDING) return NotOpenToAccept(*inv);
    v1::Invite public_invite;
    public_invite.set_invite_id(inv->invite_id());
    public_invite.set_signing_public_key(inv->signing_public_key());
    if (!protocol::VerifyInviteProof(public_invite, View(state.case_id()), author_account_id,
                                     View(accept.proof()))) {
      return PermissionDenied("invite proof does not verify", refusal::kInviteProofInvalid);
    }
    // kringd checks the invite first, then refuses every change to a closed case but the erasure.
    if (state.closed()) return FailedPrecondition("the case is closed", refusal::kCaseClosed);
    return {};
  }
  const v1::Member* author = FindMember(state, author_account_id);
  if (author == nullptr) return PermissionDenied("author is not a member", refusal::kNotAMember);
  if (body.has_erase_case()) {
    // The chair; a coordinator only while the resident has not joined.
    if (author->role() == v1::ROLE_CHAIR) return {};
    if (author->role() == v1::ROLE_COORDINATOR && !HasChair(state)) return {};
    return PermissionDenied("only the chair may erase the case", refusal::kChairOnlyErase);
  }
  // kringd's status code for a closed case: the app reads the case, it cannot change it. Leaving
  // is a change too (kringd refuses it the same way), so this comes before the leave check.
  if (state.closed()) return FailedPrecondition("the case is closed", refusal::kCaseClosed);
  if (body.has_remove_member() &&
      ConstantTimeEqual(View(body.remove_member().account_id()), author_account_id)) {
    // Leaving: anyone may, as long as someone remains who can hand out the next key.
    for (const auto& m : state.members()) {
      if (m.account_id() != body.remove_member().account_id() &&
          (m.role() == v1::ROLE_CHAIR || m.role() == v1::ROLE_COORDINATOR)) {
        return {};
      }
    }
    return PermissionDenied("someone else must remain who can hand out new keys",
                            refusal::kKeyHolderMustRemain);
  }
  if (body.has_complaint()) {
    // A member of the scope (only they get key boxes for it); it changes no key by itself.
    return InScope(state, body.complaint().scope_id(), author_account_id)
               ? Status()
               : PermissionDenied("a complaint about a scope the author is not in",
                                  refusal::kNotInScope);
  }
  if (body.has_set_scope()) return CheckSetScope(state, author_account_id, body.set_scope());
  if (body.has_set_role()) return CheckSetRole(state, *author, body.set_role());
  const bool manager = author->role() == v1::ROLE_CHAIR || author->role() == v1::ROLE_COORDINATOR;
  if (!manager) {
    return PermissionDenied("only a chair or coordinator may do this", refusal::kManagersOnly);
  }
  if (body.has_close_case() && author->role() == v1::ROLE_COORDINATOR && HasChair(state) &&
      body.close_case().retention_days() < protocol::kMinRetentionDaysWithoutChair) {
    return PermissionDenied("only the chair may close with so short a retention",
                            refusal::kChairOnlyShortRetention);
  }
  // Once the resident has joined, only the chair decides who comes in.
  if ((body.has_add_member() || body.has_decline_member()) &&
      author->role() == v1::ROLE_COORDINATOR && HasChair(state)) {
    return PermissionDenied("the chair decides who comes in", refusal::kChairDecides);
  }
  if (body.has_add_member()) {
    const v1::Member& m = body.add_member().member();
    if (FindMember(state, View(m.account_id())) != nullptr) {
      return PermissionDenied("already a member", refusal::kAlreadyMember);
    }
    const v1::Member* pending = FindPending(state, View(m.account_id()));
    if (pending != nullptr && pending->role() != m.role()) {
      return PermissionDenied("approval must keep the invited role", refusal::kApprovalKeepsRole);
    }
    if (m.role() == v1::ROLE_CHAIR) KRING_RETURN_IF_ERROR(ChairExists(state));
    if (m.role() != v1::ROLE_CHAIR && m.role() != v1::ROLE_COORDINATOR &&
        m.role() != v1::ROLE_MEMBER) {
      return PermissionDenied("unknown role");  // malformed: no reason, as at kringd
    }
  }
  if (body.has_invite()) {
    // A random 16-byte id taken already is malformed, as at kringd: no reason.
    if (FindInvite(state, body.invite().invite_id()) != nullptr) {
      return PermissionDenied("invite exists");
    }
    const v1::Role r = body.invite().role();
    if (r != v1::ROLE_CHAIR && r != v1::ROLE_COORDINATOR && r != v1::ROLE_MEMBER) {
      return PermissionDenied("unknown role");
    }
    if (r == v1::ROLE_CHAIR) KRING_RETURN_IF_ERROR(ChairExists(state));
  }
  if (body.has_revoke_invite()) {
    const v1::InviteState* inv = FindInvite(state, body.revoke_invite().invite_id());
    if (inv == nullptr) return PermissionDenied("unknown invite", refusal::kInviteUnknown);
    // Past its time is still open to revoke (kringd allows it): a device's view marks such an
    // invite EXPIRED, while kringd's state knows only pending.
    if (inv->status() != v1::InviteState::PENDING && inv->status() != v1::InviteState::EXPIRED) {
      return PermissionDenied("invite is no longer open", refusal::kInviteNotOpen);
    }
  }
  if (body.has_decline_member() &&
      FindPending(state, View(body.decline_member().account_id())) == nullptr) {
    return PermissionDenied("not waiting for approval", refusal::kNotWaiting);
  }
  if (body.has_remove_member()) {
    // Removing oneself is leaving, checked above.
    const v1::Member* target = FindMember(state, View(body.remove_member().account_id()));
    if (target == nullptr) return PermissionDenied("not a member", refusal::kTargetNotMember);
    if (author->role() == v1::ROLE_COORDINATOR && target->role() == v1::ROLE_CHAIR) {
      return PermissionDenied("a coordinator cannot remove the chair", refusal::kChairRemovesChair);
    }
  }
  return {};
}

void ApplyControl(v1::CaseState& state, const v1::OpHeader& header, const v1::ControlBody& body,
                  uint64_t seq) {
  if (body.has_create_case()) {
    state.set_case_id(header.case_id());
    state.clear_members();
    for (const auto& m : body.create_case().members()) *state.add_members() = m;
    state.set_newcomers_read_history(body.create_case().newcomers_read_history());
  } else if (body.has_rekey()) {
    const uint32_t scope = body.rekey().scope_id();
    (*state.mutable_scope_epochs())[scope] = body.rekey().new_epoch();
    state.mutable_rekey_requests()->erase(scope);
    // The first Rekey naming a revoked device cuts it off in this case (the verifier checked
    // that the author's chain revoked it). Pending intents (seq 0) cut nothing off.
    for (const std::string& device : body.rekey().revoked_devices()) {
      if (seq != 0) state.mutable_device_cutoffs()->insert({Hex(View(device)), seq});
      state.mutable_revocation_rekeys()->insert({RevocationLabel(scope, View(device)), seq});
    }
    if (scope == 0) {
      (*state.mutable_epoch_commitments())[body.rekey().new_epoch()] =
          body.rekey().key_commitment();
      state.set_rekey_pending(false);
      state.clear_rekey_pending_device();
    } else if (auto it = state.mutable_scopes()->find(scope); it != state.mutable_scopes()->end()) {
      it->second.set_rekey_required(false);
    }
  } else if (body.has_complaint()) {
    const v1::Complaint& c = body.complaint();
    // Once per account per scope epoch (more have no effect), and only the newest are kept.
    for (const auto& known : state.complaints()) {
      if (known.account_id() == header.author_account_id() && known.scope_id() == c.scope_id() &&
          known.epoch() == c.epoch()) {
        if (seq != 0) state.set_seq(seq);
        return;
      }
    }
    if (state.complaints_size() >= static_cast<int>(kMaxComplaintsKept)) {
      state.mutable_complaints()->DeleteSubrange(0, 1);
    }
    v1::ComplaintState* cs = state.add_complaints();
    cs->set_account_id(header.author_account_id());
    cs->set_rekey_seq(c.rekey_seq());
    cs->set_scope_id(c.scope_id());
    cs->set_epoch(c.epoch());
    cs->set_reason(c.reason());
    cs->set_seq(seq);
    auto current = state.scope_epochs().find(c.scope_id());
    if (current != state.scope_epochs().end() && current->second == c.epoch()) {
      (*state.mutable_rekey_requests())[c.scope_id()] = c.epoch();
    }
  } else if (body.has_close_case()) {
    state.set_closed(true);
    state.set_retention_days(body.close_case().retention_days());
    state.set_closed_at_ms(header.created_at_ms());
    state.set_closed_by_account_id(header.author_account_id());
  } else if (body.has_set_scope()) {
    const v1::SetScope& set = body.set_scope();
    v1::ScopeState& scope = (*state.mutable_scopes())[set.scope_id()];
    if (set.create()) {
      scope.set_scope_id(set.scope_id());
      scope.set_created_by_account_id(header.author_account_id());
      scope.set_created_seq(seq);
    }
    *scope.mutable_members() = set.members();
    // Nothing may be sealed to it until its Rekey (which follows in the same push) arrives: a
    // server that holds that Rekey back gets no content under the old key.
    scope.set_rekey_required(true);
  } else if (body.has_add_member()) {
    const std::string& account = body.add_member().member().account_id();
    if (FindMember(state, View(account)) == nullptr)
      *state.add_members() = body.add_member().member();
    if (FindPending(state, View(account)) != nullptr) {
      RemovePending(state, account);
      SetInviteOfAccount(state, account, v1::InviteState::APPROVED);
    }
    state.set_rekey_pending(true);
  } else if (body.has_invite()) {
    v1::InviteState* inv = state.add_invites();
    inv->set_invite_id(body.invite().invite_id());
    inv->set_role(body.invite().role());
    inv->set_expires_at_ms(body.invite().expires_at_ms());
    inv->set_status(v1::InviteState::PENDING);
    inv->set_created_seq(seq);
    inv->set_created_by_account_id(header.author_account_id());
    inv->set_signing_public_key(body.invite().signing_public_key());
  } else if (body.has_revoke_invite()) {
    if (v1::InviteState* inv = FindInvite(state, body.revoke_invite().invite_id())) {
      inv->set_status(v1::InviteState::REVOKED);
    }
  } else if (body.has_accept_invite()) {
    if (v1::InviteState* inv = FindInvite(state, body.accept_invite().invite_id())) {
      inv->set_status(v1::InviteState::ACCEPTED);
      inv->set_accepted_by_account_id(header.author_account_id());
      v1::Member* pending = state.add_pending_members();
      pending->set_account_id(header.author_account_id());
      pending->set_role(inv->role());
    }
  } else if (body.has_set_role()) {
    // Only the role: keys, scopes and what was written stay as they are.
    for (auto& m : *state.mutable_members()) {
      if (m.account_id() == body.set_role().account_id()) m.set_role(body.set_role().role());
    }
  } else if (body.has_decline_member()) {
    SetInviteOfAccount(state, body.decline_member().account_id(), v1::InviteState::DECLINED);
    RemovePending(state, body.decline_member().account_id());
  } else if (body.has_remove_member()) {
    auto* members = state.mutable_members();
    for (int i = 0; i < members->size(); ++i) {
      if (members->Get(i).account_id() == body.remove_member().account_id()) {
        members->DeleteSubrange(i, 1);
        if (!WasRemoved(state, View(body.remove_member().account_id()))) {
          state.add_removed_account_ids(body.remove_member().account_id());
        }
        break;
      }
    }
    state.set_rekey_pending(true);
    // Out of every restricted scope too; each needs a new key from one of its members.
    for (auto& [id, scope] : *state.mutable_scopes()) {
      auto* sm = scope.mutable_members();
      for (int i = 0; i < sm->size(); ++i) {
        if (sm->Get(i) == body.remove_member().account_id()) {
          sm->DeleteSubrange(i, 1);
          scope.set_rekey_required(true);
          break;
        }
      }
    }
  }
  // A pending op (seq 0, a projection) leaves the confirmed position: a plan version made in
  // that view stores it as what its writer saw (plan_model::kVersionSeenSeq).
  if (seq != 0) state.set_seq(seq);
}

namespace {

// `owned`: the same op when the caller gives it up, so that values move into the state (a note's
// text is otherwise copied once more per op of a catch-up). Every check reads `op` as before.
void ApplyContentOp(v1::CaseState& state, const v1::ContentOp& op, const OpContext& ctx,
                    v1::ContentOp* owned, std::string* refused) {
  if (op.version() != 1 || op.mutations_size() > static_cast<int>(kMaxMutationsPerOp)) {
    if (ctx.seq != 0) state.set_seq(ctx.seq);
    return;
  }
  for (int i = 0; i < op.mutations_size(); ++i) {
    const v1::Mutation& m = op.mutations(i);
    v1::Mutation* movable = owned == nullptr ? nullptr : owned->mutable_mutations(i);
    if (!CheckMutation(m, !ctx.utf8_checked).ok()) continue;
    // The entity a mutation changes is looked up once (its key is the id in hex); the rule check
    // below only reads the state, so the pointer stays valid until the mutation is applied.
    v1::Entity* target = nullptr;
    if (m.kind_case() != v1::Mutation::kCreateEntity) {
      const std::string* id = MutatedEntityId(m);
      if (id == nullptr) continue;
      target = FindEntity(state, *id);
    }
    if (!InOpScope(target, ctx.scope_id)) continue;
    if (std::string why = CheckContentRule(state, ctx, m, target); !why.empty()) {
      if (refused != nullptr && refused->empty()) *refused = std::move(why);
      continue;
    }
    switch (m.kind_case()) {
      case v1::Mutation::kCreateEntity: {
        if (!EntityIdFitsScope(state, ctx.scope_id, m.create_entity().entity_id())) break;
        auto [slot, created] = state.mutable_entities()->try_emplace(
            std::string(EntityKey(View(m.create_entity().entity_id())).view()));
        if (!created) break;
        v1::Entity& e = slot->second;
        if (movable != nullptr) {
          // The op is given up: its id moves into the state by a string swap (as TakeValue).
          e.mutable_entity_id()->swap(*movable->mutable_create_entity()->mutable_entity_id());
        } else {
          e.set_entity_id(m.create_entity().entity_id());
        }
        e.set_type(m.create_entity().type());
        e.set_scope_id(ctx.scope_id);
        e.set_created_seq(ctx.seq);
        e.set_created_by_account_id(ToString(ctx.author_account_id));
        break;
      }
      case v1::Mutation::kSetField:
        ApplySetField(state, target, m.set_field(), ctx, i,
                      movable ? movable->mutable_set_field()->mutable_value() : nullptr);
        break;
      case v1::Mutation::kSetAdd:
        ApplySetAdd(target, m.set_add(),
                    movable ? movable->mutable_set_add()->mutable_value() : nullptr);
        break;
      case v1::Mutation::kSetRemove:
        ApplySetRemove(target, m.set_remove());
        break;
      case v1::Mutation::kDeleteEntity:
        if (target != nullptr) target->set_deleted(true);
        break;
      case v1::Mutation::kRestoreEntity:
        if (target != nullptr) target->set_deleted(false);
        break;
      case v1::Mutation::KIND_NOT_SET:
        break;
    }
  }
  if (ctx.seq != 0) state.set_seq(ctx.seq);
}

}  // namespace

void ApplyContent(v1::CaseState& state, const v1::ContentOp& op, const OpContext& ctx,
                  std::string* refused) {
  ApplyContentOp(state, op, ctx, nullptr, refused);
}

void ApplyContent(v1::CaseState& state, v1::ContentOp&& op, const OpContext& ctx,
                  std::string* refused) {
  ApplyContentOp(state, op, ctx, &op, refused);
}

void SetSource(v1::FieldState& f, ByteView digest16, uint32_t mutation) {
  uint64_t lo = 0, hi = 0;
  for (size_t i = 0; i < 8; ++i) {
    lo |= uint64_t{digest16[i]} << (8 * i);
    hi |= uint64_t{digest16[8 + i]} << (8 * i);
  }
  f.set_source_mutation(mutation + 1);
  f.set_source_op_digest_lo(lo);
  f.set_source_op_digest_hi(hi);
}

std::array<uint8_t, kSourceDigestBytes> SourceDigest(const v1::FieldState& f) {
  std::array<uint8_t, kSourceDigestBytes> out{};
  for (size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(f.source_op_digest_lo() >> (8 * i));
    out[8 + i] = static_cast<uint8_t>(f.source_op_digest_hi() >> (8 * i));
  }
  return out;
}

bool OpenConflict(const v1::Conflict& c) {
  if (c.resolved()) return false;
  // Value is a oneof of scalars: equal values serialize to the same bytes.
  return c.kept_value().SerializeAsString() != c.other_value().SerializeAsString();
}

size_t OpenConflictsFrom(const v1::CaseState& state, int first, ByteView account, size_t* own) {
  size_t n = 0;
  if (own != nullptr) *own = 0;
  for (int i = std::max(first, 0); i < state.conflicts_size(); ++i) {
    const v1::Conflict& c = state.conflicts(i);
    if (!OpenConflict(c) || state.entities().count(EntityKey(View(c.entity_id())).view()) == 0) {
      continue;
    }
    ++n;
    if (own != nullptr && !account.empty() &&
        ConstantTimeEqual(View(c.kept_author_account_id()), account) &&
        ConstantTimeEqual(View(c.other_author_account_id()), account)) {
      ++*own;
    }
  }
  return n;
}

void ClearSources(v1::CaseState& state) {
  for (auto& [id, entity] : *state.mutable_entities()) {
    for (auto& [name, field] : *entity.mutable_fields()) {
      if (field.source_mutation() == 0) continue;
      field.clear_source_mutation();
      field.clear_source_op_digest_lo();
      field.clear_source_op_digest_hi();
    }
  }
}

}  // namespace kring::client::model
