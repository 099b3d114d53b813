#include "case_log.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/refusal.h"
#include "kring/v1/account.pb.h"

#include "push_state.h"

namespace kring::server {
namespace {

Status At(size_t index, const Status& s) {
  return s.WithContext("envelope " + std::to_string(index) + ": ");
}

bool IsManager(int role) { return role == v1::ROLE_CHAIR || role == v1::ROLE_COORDINATOR; }

// Invite states as stored (the values of kring.v1.InviteState.Status).
constexpr int64_t kMaxInviteLifetimeMs = int64_t{30} * 24 * 3600 * 1000;
enum InviteStatus {
  kInvitePending = 1,
  kInviteAccepted = 2,
  kInviteApproved = 3,
  kInviteDeclined = 4,
  kInviteRevoked = 5
};

// Who a Rekey's `revoked_devices` belong to: none named, only the author's account, or (also) a
// device of another member's account.
enum class Revocation { kNone, kOwn, kOtherMember };

// A Rekey naming revoked devices: each must be a registered device, not the recovery device,
// revoked by its account's chain, of the author's account or of a member of the case (any member
// may cut off a device revoked since, so nothing waits for that device's owner).
Result<Revocation> CheckRevokedDevices(storage::StoreTxn& txn, ByteView case_id,
                                       const Author& author, const v1::Rekey& rekey) {
  if (rekey.revoked_devices_size() == 0) return Revocation::kNone;
  if (rekey.revoked_devices_size() > 64) return InvalidArgument("too many revoked devices");
  std::set<std::string> seen;
  Revocation out = Revocation::kOwn;
  for (const std::string& id : rekey.revoked_devices()) {
    if (id.size() != crypto::kIdBytes || !seen.insert(id).second) {
      return InvalidArgument("malformed revoked device id");
    }
    KRING_ASSIGN_OR_RETURN(std::optional<storage::DeviceRecord> device, txn.GetDevice(View(id)));
    if (!device || device->is_recovery || !device->revoked) {
      return PermissionDenied("rekey names a device its account has not revoked");
    }
    if (device->account_id == author.account_id) continue;
    KRING_ASSIGN_OR_RETURN(std::optional<int> role, txn.GetMemberRole(case_id, device->account_id));
    if (!role) return PermissionDenied("rekey names a device of someone outside the case");
    out = Revocation::kOtherMember;
  }
  return out;
}

// A Rekey of a scope lets go of the scope's revocation holds it settles: the devices it names,
// and those whose account it gives no key to (removed from the case or the scope).
Status ReleaseRevocationHolds(storage::StoreTxn& txn, ByteView case_id, const v1::Rekey& rekey) {
  KRING_ASSIGN_OR_RETURN(auto holds, txn.RevocationHolds(case_id, rekey.scope_id()));
  for (const auto& [device, account] : holds) {
    const bool named = std::find(rekey.revoked_devices().begin(), rekey.revoked_devices().end(),
                                 ToString(device)) != rekey.revoked_devices().end();
    const bool keyed = std::find(rekey.recipients().begin(), rekey.recipients().end(),
                                 ToString(account)) != rekey.recipients().end();
    if (named || !keyed) {
      KRING_RETURN_IF_ERROR(txn.ReleaseRevocationHold(case_id, rekey.scope_id(), device));
    }
  }
  return {};
}

// A Rekey of scope 0 by a plain member names at least one device no Rekey of the scope named
// before (the devices are checked by CheckRevokedDevices).
Result<bool> NamesNewDevice(storage::StoreTxn& txn, ByteView case_id, const v1::Rekey& rekey) {
  for (const std::string& device : rekey.revoked_devices()) {
    KRING_ASSIGN_OR_RETURN(bool named,
                           txn.RevocationNamed(case_id, rekey.scope_id(), View(device)));
    if (!named) return true;
  }
  return false;
}

// In a case that lets newcomers read history, every later Rekey of scope 0 carries the back-link
// to the previous key (kringd cannot open it, but can see it is there): no member's Rekey cuts
// newcomers off from what came before.
Status CheckHistoryBackLink(storage::StoreTxn& txn, ByteView case_id, const v1::Rekey& rekey) {
  if (rekey.new_epoch() <= 1 || !rekey.previous_key_box().empty()) return {};
  KRING_ASSIGN_OR_RETURN(std::vector<storage::StoredOp> first, txn.ReadOps(case_id, 0, 1, 0));
  v1::Envelope env;
  if (first.empty() || !env.ParseFromString(first[0].envelope)) {
    return DataLoss("create op is missing");
  }
  v1::ControlBody body;
  if (!body.ParseFromString(env.control_body()) || !body.has_create_case()) {
    return DataLoss("create op unreadable");
  }
  if (body.create_case().newcomers_read_history()) {
    return InvalidArgument("rekey needs the history back-link");
  }
  return {};
}

Status CheckCreateCase(storage::StoreTxn& txn, const Author& author, const v1::OpHeader& h,
                       const v1::CreateCase& create) {
  if (h.scope_id() != 0 || h.epoch() != 1) {
    return InvalidArgument("create case must use scope 0 and epoch 1");
  }
  if (create.members_size() < 1 ||
      static_cast<size_t>(create.members_size()) > protocol::kMaxCaseMembers) {
    return InvalidArgument("a case has 1.." + std::to_string(protocol::kMaxCaseMembers) +
                           " members");
  }
  std::set<std::string> seen;
  bool author_manages = false;
  int chairs = 0;
  for (const v1::Member& m : create.members()) {
    if (m.account_id().size() != crypto::kIdBytes) {
      return InvalidArgument("member account_id must be 16 bytes");
    }
    if (m.role() != v1::ROLE_CHAIR && m.role() != v1::ROLE_COORDINATOR &&
        m.role() != v1::ROLE_MEMBER) {
      return InvalidArgument("unknown member role");
    }
    if (!seen.insert(m.account_id()).second) return InvalidArgument("duplicate member");
    if (m.role() == v1::ROLE_CHAIR && ++chairs > 1) return InvalidArgument("more than one chair");
    if (m.account_id() == ToString(author.account_id) && IsManager(m.role())) {
      author_manages = true;
    }
  }
  if (!author_manages) {
    return PermissionDenied("the creator must be a chair or coordinator of the case",
                            refusal::kManagersOnly);
  }
  for (const v1::Member& m : create.members()) {
    KRING_ASSIGN_OR_RETURN(bool known, txn.AccountExists(View(m.account_id())));
    if (!known)
      return FailedPrecondition("member account is not known to this server",
                                refusal::kAccountUnknown);
  }
  return {};
}

// The account's current user key generation: stored at each publish since migration 8, else
// read once from its stored chain (verified when it was published) and stored.
Result<std::optional<uint32_t>> CurrentUserKeyGeneration(storage::StoreTxn& txn,
                                                         ByteView account_id) {
  KRING_ASSIGN_OR_RETURN(std::optional<uint32_t> stored, txn.GetUserKeyGeneration(account_id));
  if (stored) return stored;
  KRING_ASSIGN_OR_RETURN(std::vector<std::string> links, txn.LoadChainLinks(account_id, 0));
  std::optional<uint32_t> generation;
  for (const std::string& link_bytes : links) {
    v1::ChainLink link;
    v1::LinkBody body;
    if (!link.ParseFromString(link_bytes) || !body.ParseFromString(link.body())) {
      return DataLoss("stored link unreadable");
    }
    if (body.has_root()) generation = body.root().user_key().generation();
    if (body.has_rotate_user_key()) generation = body.rotate_user_key().user_key().generation();
  }
  if (generation) KRING_RETURN_IF_ERROR(txn.SetUserKeyGeneration(account_id, *generation));
  return generation;
}

Status CheckRekey(storage::StoreTxn& txn, ByteView case_id, const v1::Rekey& rekey,
                  uint64_t current_epoch) {
  if (rekey.new_epoch() != current_epoch + 1) return FailedPrecondition("stale epoch");
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members,
                         rekey.scope_id() == 0 ? txn.ListMembers(case_id)
                                               : txn.ListScopeMembers(case_id, rekey.scope_id()));
  std::set<std::string> member_set;
  for (const Bytes& m : members) member_set.insert(ToString(m));
  std::set<std::string> recipients;
  for (const std::string& r : rekey.recipients()) {
    if (!recipients.insert(r).second) return InvalidArgument("duplicate rekey recipient");
  }
  if (recipients != member_set) {
    return InvalidArgument("rekey recipients must equal the scope's members");
  }
  if (rekey.boxes_size() != rekey.recipients_size()) {
    return InvalidArgument("rekey needs one key box per recipient");
  }
  std::set<std::string> boxed;
  for (const v1::KeyBox& box : rekey.boxes()) {
    if (box.sealed_key().size() != crypto::kKeyBytes + crypto::kSealOverhead) {
      return InvalidArgument("malformed key box");
    }
    if (!boxed.insert(box.account_id()).second) return InvalidArgument("duplicate key box");
  }
  if (boxed != recipients) return InvalidArgument("key boxes do not match the recipients");
  // Each key goes to the recipient's current user key: an older generation's seed is held by
  // the devices revoked since (its rotation is the revocation's), so a box made from a chain
  // fetched before the rotation would hand them the new key. The author's device fetches the
  // chains again and seals a new Rekey (libkring does so on FAILED_PRECONDITION).
  for (const v1::KeyBox& box : rekey.boxes()) {
    KRING_ASSIGN_OR_RETURN(std::optional<uint32_t> current,
                           CurrentUserKeyGeneration(txn, View(box.account_id())));
    if (current && box.user_key_generation() < *current) {
      return FailedPrecondition("rekey boxes a key to an older user key", refusal::kStaleUserKey);
    }
  }
  return {};
}

// Who may change the circle: the chair removes anyone but themself; the coordinator anyone but
// the chair. Both add members; a chair can be added only while the case has none (the
// coordinator created it before the resident joined).
// Someone leaves the case: out of every restricted scope, each of which needs a new key from one
// of its remaining members before anything is sealed to it again.
Status LeaveScopes(storage::StoreTxn& txn, ByteView case_id, ByteView account_id) {
  KRING_ASSIGN_OR_RETURN(std::vector<uint32_t> scopes, txn.ScopesOf(case_id, account_id));
  for (uint32_t scope : scopes) {
    KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListScopeMembers(case_id, scope));
    std::vector<Bytes> rest;
    for (Bytes& m : members) {
      if (!ConstantTimeEqual(m, account_id)) rest.push_back(std::move(m));
    }
    KRING_RETURN_IF_ERROR(txn.SetScopeMembers(case_id, scope, rest));
    KRING_RETURN_IF_ERROR(txn.SetRekeyRequired(case_id, true, scope));
  }
  return {};
}

Result<bool> InScope(storage::StoreTxn& txn, ByteView case_id, uint32_t scope_id,
                     const Author& author) {
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListScopeMembers(case_id, scope_id));
  for (const Bytes& m : members) {
    if (m == author.account_id) return true;
  }
  return false;
}

// Closing: the chair or a coordinator. Erasing: the chair, or a coordinator while the resident
// has not joined (someone must be able to honour a request made before that).
Status CheckCloseOrErase(storage::StoreTxn& txn, ByteView case_id, int author_role,
                         const v1::OpHeader& h, const v1::ControlBody& body) {
  KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> epoch, txn.GetScopeEpoch(case_id, 0));
  if (!epoch || h.epoch() != *epoch) return FailedPrecondition("stale epoch");
  if (author_role == v1::ROLE_CHAIR) return {};
  if (author_role != v1::ROLE_COORDINATOR) {
    return h.kind() == v1::OP_KIND_CLOSE_CASE
               ? PermissionDenied("only a chair or coordinator may close", refusal::kManagersOnly)
               : PermissionDenied("only the chair may erase the case", refusal::kChairOnlyErase);
  }
  bool has_chair = false;
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListMembers(case_id));
  for (const Bytes& id : members) {
    KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
    has_chair = has_chair || (r && *r == v1::ROLE_CHAIR);
  }
  if (!has_chair) return {};
  if (h.kind() == v1::OP_KIND_ERASE_CASE)
    return PermissionDenied("only the chair may erase", refusal::kChairOnlyErase);
  if (body.close_case().retention_days() < protocol::kMinRetentionDaysWithoutChair) {
    return PermissionDenied("only the chair may close with so short a retention",
                            refusal::kChairOnlyShortRetention);
  }
  return {};
}

// `seq` is the position the op gets when it is appended: a removal records it (the removed
// account may pull up to and including it), an addition deletes the account's removal.
Status CheckMembershipChange(storage::StoreTxn& txn, ByteView case_id, int author_role,
                             const Author& author, const v1::OpHeader& h,
                             const v1::ControlBody& body, uint64_t seq) {
  const bool leaving =
      body.has_remove_member() && body.remove_member().account_id() == ToString(author.account_id);
  if (!IsManager(author_role) && !leaving) {
    return PermissionDenied("only a chair or coordinator may change the members",
                            refusal::kManagersOnly);
  }
  if (h.scope_id() != 0) return InvalidArgument("membership changes use scope 0");
  KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> epoch, txn.GetScopeEpoch(case_id, 0));
  if (!epoch || h.epoch() != *epoch) return FailedPrecondition("stale epoch");
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListMembers(case_id));
  if (body.has_add_member() && author_role == v1::ROLE_COORDINATOR) {
    // The coordinator lets people in only until the resident (the chair) has joined.
    for (const Bytes& id : members) {
      KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
      if (r && *r == v1::ROLE_CHAIR)
        return PermissionDenied("the chair decides who comes in", refusal::kChairDecides);
    }
  }
  if (body.has_add_member()) {
    const v1::Member& m = body.add_member().member();
    if (m.role() != v1::ROLE_CHAIR && m.role() != v1::ROLE_COORDINATOR &&
        m.role() != v1::ROLE_MEMBER) {
      return InvalidArgument("unknown member role");
    }
    if (members.size() >= protocol::kMaxCaseMembers)
      return InvalidArgument("case is full", refusal::kCaseFull);
    KRING_ASSIGN_OR_RETURN(std::optional<int> existing,
                           txn.GetMemberRole(case_id, View(m.account_id())));
    if (existing)
      return Status(StatusCode::kAlreadyExists, "already a member", refusal::kAlreadyMember);
    KRING_ASSIGN_OR_RETURN(bool known, txn.AccountExists(View(m.account_id())));
    if (!known)
      return FailedPrecondition("member account is not known to this server",
                                refusal::kAccountUnknown);
    KRING_ASSIGN_OR_RETURN(std::optional<storage::PendingRecord> pending,
                           txn.GetPending(case_id, View(m.account_id())));
    if (pending) {
      // Approval of someone who accepted an invite: with the role the invite offered.
      if (pending->role != m.role())
        return InvalidArgument("approval must keep the invited role", refusal::kApprovalKeepsRole);
      KRING_ASSIGN_OR_RETURN(std::optional<storage::InviteRecord> inv,
                             txn.GetInvite(case_id, pending->invite_id));
      if (inv) {
        inv->state = kInviteApproved;
        KRING_RETURN_IF_ERROR(txn.PutInvite(case_id, pending->invite_id, *inv));
      }
      KRING_RETURN_IF_ERROR(txn.DeletePending(case_id, View(m.account_id())));
    }
    if (m.role() == v1::ROLE_CHAIR) {
      for (const Bytes& id : members) {
        KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
        if (r && *r == v1::ROLE_CHAIR)
          return PermissionDenied("the case already has a chair", refusal::kChairExists);
      }
    }
    KRING_RETURN_IF_ERROR(txn.DeleteRemovalSeq(case_id, View(m.account_id())));
    return txn.InsertMember(case_id, View(m.account_id()), m.role());
  }
  const std::string& target = body.remove_member().account_id();
  KRING_ASSIGN_OR_RETURN(std::optional<int> target_role, txn.GetMemberRole(case_id, View(target)));
  if (!target_role) return NotFound("not a member of this case", refusal::kTargetNotMember);
  if (leaving) {
    // Leaving: someone else must remain who can hand out the next key; until they do, nothing
    // new may be sealed (the leaver holds the current key).
    bool other_manager = false;
    for (const Bytes& id : members) {
      if (id == author.account_id) continue;
      KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
      other_manager |= r && IsManager(*r);
    }
    if (!other_manager) {
      return PermissionDenied("someone else must remain who can hand out new keys",
                              refusal::kKeyHolderMustRemain);
    }
    KRING_RETURN_IF_ERROR(txn.SetRekeyRequired(case_id, true));
    KRING_RETURN_IF_ERROR(LeaveScopes(txn, case_id, View(target)));
    KRING_RETURN_IF_ERROR(txn.SetRemovalSeq(case_id, View(target), seq));
    return txn.DeleteMember(case_id, View(target));
  }
  if (author_role == v1::ROLE_COORDINATOR && *target_role == v1::ROLE_CHAIR) {
    return PermissionDenied("only the chair can be removed by nobody but the chair",
                            refusal::kChairRemovesChair);
  }
  KRING_RETURN_IF_ERROR(LeaveScopes(txn, case_id, View(target)));
  KRING_RETURN_IF_ERROR(txn.SetRemovalSeq(case_id, View(target), seq));
  return txn.DeleteMember(case_id, View(target));
}

// Creates a restricted scope or replaces its members. Whoever makes the key can read the scope,
// so the author must be in it; and the author must be in the scope it changes.
Status CheckSetScope(storage::StoreTxn& txn, ByteView case_id, const Author& author,
                     const v1::OpHeader& h, const v1::SetScope& set) {
  KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> epoch0, txn.GetScopeEpoch(case_id, 0));
  if (!epoch0 || h.epoch() != *epoch0) return FailedPrecondition("stale epoch");
  std::set<std::string> seen;
  bool author_in = false;
  for (const std::string& m : set.members()) {
    if (!seen.insert(m).second) return InvalidArgument("duplicate scope member");
    KRING_ASSIGN_OR_RETURN(std::optional<int> role, txn.GetMemberRole(case_id, View(m)));
    if (!role)
      return FailedPrecondition("scope member is not a member of the case",
                                refusal::kTargetNotMember);
    author_in |= ToBytes(m) == author.account_id;
  }
  if (!author_in)
    return PermissionDenied("the author must be a member of the scope", refusal::kNotInScope);
  KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> epoch, txn.GetScopeEpoch(case_id, set.scope_id()));
  if (set.create()) {
    if (epoch) return Status(StatusCode::kAlreadyExists, "scope exists already");
    KRING_ASSIGN_OR_RETURN(size_t scopes, txn.CountScopes(case_id));
    if (scopes >= protocol::kMaxScopesPerCase)
      return InvalidArgument("too many scopes", refusal::kTooManyScopes);
    KRING_RETURN_IF_ERROR(txn.SetScopeEpoch(case_id, set.scope_id(), 0));
  } else {
    if (!epoch) return NotFound("unknown scope", refusal::kScopeUnknown);
    KRING_ASSIGN_OR_RETURN(std::vector<Bytes> current,
                           txn.ListScopeMembers(case_id, set.scope_id()));
    bool was_in = false;
    for (const Bytes& m : current) was_in |= m == author.account_id;
    if (!was_in)
      return PermissionDenied("only a member of the scope may change it", refusal::kNotInScope);
    // Widening shows what is written from then on to the newcomers: chair or coordinator only.
    KRING_ASSIGN_OR_RETURN(std::optional<int> role, txn.GetMemberRole(case_id, author.account_id));
    if (!role || !IsManager(*role)) {
      for (const std::string& m : set.members()) {
        if (std::find(current.begin(), current.end(), ToBytes(m)) == current.end()) {
          return PermissionDenied("only the chair or a coordinator may let someone into a scope",
                                  refusal::kManagersOnly);
        }
      }
    }
  }
  std::vector<Bytes> members;
  for (const std::string& m : set.members()) members.push_back(ToBytes(m));
  KRING_RETURN_IF_ERROR(txn.SetScopeMembers(case_id, set.scope_id(), members));
  // Its Rekey follows in the same push (checked by ApplyPush) and clears this.
  return txn.SetRekeyRequired(case_id, true, set.scope_id());
}

// A non-member proves it holds an unused, unexpired invite of this case; it becomes pending.
Status AcceptInviteOp(storage::StoreTxn& txn, const Author& author, ByteView case_id,
                      const v1::AcceptInvite& accept, int64_t now_ms) {
  KRING_ASSIGN_OR_RETURN(std::optional<int> member, txn.GetMemberRole(case_id, author.account_id));
  if (member)
    return Status(StatusCode::kAlreadyExists, "already a member", refusal::kAlreadyJoined);
  KRING_ASSIGN_OR_RETURN(std::optional<storage::PendingRecord> pending,
                         txn.GetPending(case_id, author.account_id));
  if (pending)
    return Status(StatusCode::kAlreadyExists, "already waiting for approval",
                  refusal::kAlreadyWaiting);
  KRING_ASSIGN_OR_RETURN(std::optional<storage::InviteRecord> invite,
                         txn.GetInvite(case_id, View(accept.invite_id())));
  if (!invite) return NotFound("unknown invite", refusal::kInviteUnknown);
  // Definitive answers (not FAILED_PRECONDITION, which clients retry after pulling).
  if (invite->state == kInviteRevoked)
    return PermissionDenied("invite was revoked", refusal::kInviteRevoked);
  if (invite->state != kInvitePending)
    return PermissionDenied("invite was already used", refusal::kInviteUsed);
  if (invite->expires_at_ms <= now_ms)
    return PermissionDenied("invite has expired", refusal::kInviteExpired);
  v1::Invite public_invite;
  public_invite.set_invite_id(accept.invite_id());
  public_invite.set_signing_public_key(ToString(invite->signing_public_key));
  if (!protocol::VerifyInviteProof(public_invite, case_id, author.account_id,
                                   View(accept.proof()))) {
    return PermissionDenied("invite proof does not verify", refusal::kInviteProofInvalid);
  }
  invite->state = kInviteAccepted;
  KRING_RETURN_IF_ERROR(txn.PutInvite(case_id, View(accept.invite_id()), *invite));
  return txn.PutPending(case_id, author.account_id, {invite->role, ToBytes(accept.invite_id())});
}

// Invite, revoke and decline: the chair or a coordinator manages who may come in.
Status InviteOps(storage::StoreTxn& txn, ByteView case_id, int author_role, const v1::OpHeader& h,
                 const v1::ControlBody& body, int64_t now_ms) {
  if (!IsManager(author_role)) {
    return PermissionDenied("only a chair or coordinator may manage invitations",
                            refusal::kManagersOnly);
  }
  if (h.scope_id() != 0) return InvalidArgument("invitations use scope 0");
  if (body.has_invite()) {
    const v1::Invite& inv = body.invite();
    if (inv.role() != v1::ROLE_COORDINATOR && inv.role() != v1::ROLE_MEMBER &&
        inv.role() != v1::ROLE_CHAIR) {
      return InvalidArgument("unknown member role");
    }
    if (inv.expires_at_ms() <= now_ms || inv.expires_at_ms() > now_ms + kMaxInviteLifetimeMs) {
      return InvalidArgument("invite expiry must be in the next 30 days");
    }
    KRING_ASSIGN_OR_RETURN(std::optional<storage::InviteRecord> existing,
                           txn.GetInvite(case_id, View(inv.invite_id())));
    if (existing) return Status(StatusCode::kAlreadyExists, "invite exists");
    if (inv.role() == v1::ROLE_CHAIR) {
      KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListMembers(case_id));
      for (const Bytes& id : members) {
        KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
        if (r && *r == v1::ROLE_CHAIR)
          return PermissionDenied("the case already has a chair", refusal::kChairExists);
      }
    }
    return txn.PutInvite(
        case_id, View(inv.invite_id()),
        {ToBytes(inv.signing_public_key()), inv.role(), inv.expires_at_ms(), kInvitePending});
  }
  if (body.has_revoke_invite()) {
    KRING_ASSIGN_OR_RETURN(std::optional<storage::InviteRecord> inv,
                           txn.GetInvite(case_id, View(body.revoke_invite().invite_id())));
    if (!inv) return NotFound("unknown invite", refusal::kInviteUnknown);
    if (inv->state != kInvitePending)
      return FailedPrecondition("invite is no longer open", refusal::kInviteNotOpen);
    inv->state = kInviteRevoked;
    return txn.PutInvite(case_id, View(body.revoke_invite().invite_id()), *inv);
  }
  if (author_role == v1::ROLE_COORDINATOR) {
    KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListMembers(case_id));
    for (const Bytes& id : members) {
      KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
      if (r && *r == v1::ROLE_CHAIR)
        return PermissionDenied("the chair decides who comes in", refusal::kChairDecides);
    }
  }
  const ByteView account = View(body.decline_member().account_id());
  KRING_ASSIGN_OR_RETURN(std::optional<storage::PendingRecord> pending,
                         txn.GetPending(case_id, account));
  if (!pending) return NotFound("not waiting for approval", refusal::kNotWaiting);
  KRING_ASSIGN_OR_RETURN(std::optional<storage::InviteRecord> inv,
                         txn.GetInvite(case_id, pending->invite_id));
  if (inv) {
    inv->state = kInviteDeclined;
    KRING_RETURN_IF_ERROR(txn.PutInvite(case_id, pending->invite_id, *inv));
  }
  return txn.DeletePending(case_id, account);
}

// A chair or coordinator changes a member's role (clients apply the same rules in
// model::CheckControlPermission). Roles decide what someone may do, not what they can read, so
// no key changes. A coordinator may always step back to member (like leaving, it takes power from
// nobody else); any other change is the chair's once the resident has joined. The chair's role
// never changes and nobody becomes chair this way; someone who can hand out keys must remain.
Status SetRoleOp(storage::StoreTxn& txn, ByteView case_id, int author_role, const Author& author,
                 const v1::SetRole& set) {
  if (!IsManager(author_role)) {
    return PermissionDenied("only a chair or coordinator may change roles", refusal::kManagersOnly);
  }
  if (set.role() != v1::ROLE_COORDINATOR && set.role() != v1::ROLE_MEMBER) {
    return InvalidArgument("a role change gives coordinator or member",
                           refusal::kRoleNotAssignable);
  }
  KRING_ASSIGN_OR_RETURN(std::optional<int> target,
                         txn.GetMemberRole(case_id, View(set.account_id())));
  if (!target) return NotFound("not a member of this case", refusal::kTargetNotMember);
  if (*target == v1::ROLE_CHAIR) {
    return PermissionDenied("the chair's role does not change", refusal::kChairKeepsRole);
  }
  if (*target == set.role()) {
    return Status(StatusCode::kAlreadyExists, "the member has this role already",
                  refusal::kRoleUnchanged);
  }
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListMembers(case_id));
  bool has_chair = false;
  bool other_manager = false;
  for (const Bytes& id : members) {
    KRING_ASSIGN_OR_RETURN(std::optional<int> r, txn.GetMemberRole(case_id, id));
    has_chair |= r && *r == v1::ROLE_CHAIR;
    other_manager |= r && IsManager(*r) && id != ToBytes(set.account_id());
  }
  const bool steps_back = ToBytes(set.account_id()) == author.account_id;
  if (author_role == v1::ROLE_COORDINATOR && has_chair && !steps_back) {
    return PermissionDenied("the chair decides who has which role", refusal::kChairDecidesRoles);
  }
  if (set.role() == v1::ROLE_MEMBER && !other_manager) {
    return PermissionDenied("someone else must remain who can hand out new keys",
                            refusal::kKeyHolderMustRemain);
  }
  return txn.SetMemberRole(case_id, View(set.account_id()), set.role());
}

// All checks for one new (non-duplicate) op, then the append. Content ops read and update the
// push's state in memory; a control op is checked against the tables, as they stand after the
// push's previous ops (ApplyNew).
Status ApplyOne(PushState& state, const Author& author, ByteView case_id, size_t index,
                const PreparedEnvelope& p, int64_t now_ms, PushOutcome& out) {
  const PushedOp& op = p.parsed.value();
  storage::StoreTxn& txn = state.txn();
  const v1::OpHeader& h = op.header();
  KRING_ASSIGN_OR_RETURN(std::optional<storage::CaseRecord> * kase_slot, state.Case());
  if (h.kind() == v1::OP_KIND_CREATE_CASE) {
    if (*kase_slot) return Status(StatusCode::kAlreadyExists, "case already exists");
    // An erased case's id stays taken: its tombstone must keep answering devices that were away.
    KRING_ASSIGN_OR_RETURN(std::optional<storage::ErasedCase> erased, txn.GetErased(case_id));
    if (erased) return Status(StatusCode::kAlreadyExists, "case already exists");
    if (index != 0) return InvalidArgument("create case must be the first op of its push");
    KRING_RETURN_IF_ERROR(CheckCreateCase(txn, author, h, op.control().create_case()));
    KRING_ASSIGN_OR_RETURN(int64_t case_key, txn.InsertCase(case_id, now_ms));
    for (const v1::Member& m : op.control().create_case().members()) {
      KRING_RETURN_IF_ERROR(txn.InsertMember(case_id, View(m.account_id()), m.role()));
    }
    KRING_RETURN_IF_ERROR(txn.SetScopeEpoch(case_id, 0, 0));
    state.SetCreated(case_key);
  } else if (!*kase_slot) {
    KRING_ASSIGN_OR_RETURN(std::optional<storage::ErasedCase> erased, txn.GetErased(case_id));
    return NotFound(erased ? "case was erased" : "unknown case", refusal::kCaseUnknown);
  }
  const storage::CaseRecord& kase = **kase_slot;
  const bool accepting = h.kind() == v1::OP_KIND_ACCEPT_INVITE;
  if (accepting) {
    KRING_RETURN_IF_ERROR(
        AcceptInviteOp(txn, author, case_id, op.control().accept_invite(), now_ms));
  }
  KRING_ASSIGN_OR_RETURN(std::optional<int> role, state.AuthorRole());
  if (!role && !accepting)
    return PermissionDenied("not a member of this case", refusal::kNotAMember);
  if (kase.close_seq > 0 && h.kind() != v1::OP_KIND_ERASE_CASE) {
    return FailedPrecondition("case is closed", refusal::kCaseClosed);
  }

  // Per-device continuity: this op must follow the device's previous op in this case.
  KRING_ASSIGN_OR_RETURN(const std::optional<storage::DeviceCursor>* cursor, state.Cursor());
  uint64_t last_counter = *cursor ? (*cursor)->last_counter : 0;
  const ByteView last_hash = *cursor ? ByteView((*cursor)->last_envelope_hash) : ByteView{};
  if (h.device_counter() != last_counter + 1 ||
      !std::ranges::equal(View(h.prev_device_op_hash()), last_hash)) {
    return FailedPrecondition("device counter or previous-op hash does not continue");
  }

  // What the author saw must be a prefix of this log.
  if (h.seen_seq() > kase.head_seq) return FailedPrecondition("seen_seq is beyond the head");
  if (h.seen_seq() > 0) {
    KRING_ASSIGN_OR_RETURN(std::optional<Bytes> seen, state.ChainHashAt(h.seen_seq()));
    if (!seen || *seen != ToBytes(h.seen_hash())) {
      return FailedPrecondition("seen_hash does not match the log");
    }
  }

  // After someone left, only a Rekey (or an acceptance, which involves no key) may come next.
  KRING_ASSIGN_OR_RETURN(bool rekey_required, state.RekeyRequired());
  if (rekey_required && h.kind() != v1::OP_KIND_REKEY && h.kind() != v1::OP_KIND_ACCEPT_INVITE &&
      h.kind() != v1::OP_KIND_ERASE_CASE && h.kind() != v1::OP_KIND_COMPLAINT) {
    return FailedPrecondition("waiting for a new key after someone left", refusal::kRekeyPending);
  }

  // Membership changes (the following Rekey is required by ApplyPush).
  if (h.kind() == v1::OP_KIND_ADD_MEMBER || h.kind() == v1::OP_KIND_REMOVE_MEMBER) {
    KRING_RETURN_IF_ERROR(
        CheckMembershipChange(txn, case_id, *role, author, h, op.control(), kase.head_seq + 1));
  }
  if (h.kind() == v1::OP_KIND_INVITE || h.kind() == v1::OP_KIND_REVOKE_INVITE ||
      h.kind() == v1::OP_KIND_DECLINE_MEMBER) {
    KRING_RETURN_IF_ERROR(InviteOps(txn, case_id, *role, h, op.control(), now_ms));
  }

  if (h.kind() == v1::OP_KIND_SET_ROLE) {
    KRING_RETURN_IF_ERROR(SetRoleOp(txn, case_id, *role, author, op.control().set_role()));
  }
  if (h.kind() == v1::OP_KIND_SET_SCOPE) {
    KRING_RETURN_IF_ERROR(CheckSetScope(txn, case_id, author, h, op.control().set_scope()));
  }
  if (h.kind() == v1::OP_KIND_CLOSE_CASE || h.kind() == v1::OP_KIND_ERASE_CASE) {
    KRING_RETURN_IF_ERROR(CheckCloseOrErase(txn, case_id, *role, h, op.control()));
  }
  if (h.kind() == v1::OP_KIND_COMPLAINT) {
    // Any member may complain about a Rekey in this log; kringd cannot check the box itself.
    KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> epoch, txn.GetScopeEpoch(case_id, 0));
    if (!epoch || h.epoch() != *epoch) return FailedPrecondition("stale epoch");
    if (op.control().complaint().rekey_seq() > kase.head_seq) {
      return InvalidArgument("complaint about an op that is not in the log");
    }
    if (op.control().complaint().scope_id() != 0) {
      KRING_ASSIGN_OR_RETURN(bool in_scope,
                             InScope(txn, case_id, op.control().complaint().scope_id(), author));
      if (!in_scope)
        return PermissionDenied("a complaint about a scope the author is not in",
                                refusal::kNotInScope);
    }
  }

  // Epochs.
  if (h.kind() == v1::OP_KIND_REKEY) {
    const v1::Rekey& rekey = op.control().rekey();
    KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> epoch,
                           txn.GetScopeEpoch(case_id, rekey.scope_id()));
    if (!epoch) return FailedPrecondition("unknown scope", refusal::kScopeUnknown);
    KRING_ASSIGN_OR_RETURN(Revocation revocation, CheckRevokedDevices(txn, case_id, author, rekey));
    if (rekey.scope_id() == 0) {
      // A member who lost a device makes the new key themself (DESIGN section 3; the chair
      // need not be online to cut a stolen phone off), and so may any member for a device of
      // another member, except while a leave waits for its Rekey: that one stays with the chair
      // or a coordinator.
      const bool cuts_off = revocation == Revocation::kOwn ||
                            (revocation == Revocation::kOtherMember && !rekey_required);
      if (!IsManager(*role) && !cuts_off) {
        return PermissionDenied("only a chair or coordinator may rekey", refusal::kManagersOnly);
      }
      if (!IsManager(*role)) {
        // Naming a device cut off long ago again would let any member force new keys at will.
        KRING_ASSIGN_OR_RETURN(bool names_new, NamesNewDevice(txn, case_id, rekey));
        if (!names_new) return PermissionDenied("rekey names only devices named before");
      }
      KRING_RETURN_IF_ERROR(CheckHistoryBackLink(txn, case_id, rekey));
    } else {
      KRING_ASSIGN_OR_RETURN(bool in_scope, InScope(txn, case_id, rekey.scope_id(), author));
      if (!in_scope)
        return PermissionDenied("only a member of the scope may rekey it", refusal::kNotInScope);
      // After a leave the case's own Rekey comes first (clients check the same order).
      if (rekey_required)
        return FailedPrecondition("waiting for a new key after someone left",
                                  refusal::kRekeyPending);
    }
    KRING_RETURN_IF_ERROR(CheckRekey(txn, case_id, rekey, *epoch));
    KRING_RETURN_IF_ERROR(txn.SetScopeEpoch(case_id, rekey.scope_id(), rekey.new_epoch()));
    KRING_RETURN_IF_ERROR(txn.SetRekeyRequired(case_id, false, rekey.scope_id()));
    KRING_RETURN_IF_ERROR(ReleaseRevocationHolds(txn, case_id, rekey));
    for (const std::string& device : rekey.revoked_devices()) {
      KRING_RETURN_IF_ERROR(txn.RecordRevocationNamed(case_id, rekey.scope_id(), View(device)));
    }
  } else if (h.kind() == v1::OP_KIND_CONTENT) {
    KRING_ASSIGN_OR_RETURN(const PushState::Scope* scope, state.ContentScope(h.scope_id()));
    if (!scope->epoch) return FailedPrecondition("unknown scope", refusal::kScopeUnknown);
    if (*scope->epoch == 0 || h.epoch() != *scope->epoch) {
      return FailedPrecondition("stale epoch");
    }
    if (h.scope_id() != 0) {
      if (!scope->author_in)
        return PermissionDenied("not a member of this scope", refusal::kNotInScope);
      if (scope->rekey_required)
        return FailedPrecondition("waiting for a new key of this scope", refusal::kRekeyPending);
    }
    // A device of someone holding this scope's key was revoked: nothing new is sealed to that
    // key until a Rekey names the device (clients make it when they see this answer).
    if (scope->revocation_hold) {
      return FailedPrecondition(std::string(protocol::kHeldForRevokedDevice),
                                refusal::kHeldForRevokedDevice);
    }
  }

  // Append.
  uint64_t seq = kase.head_seq + 1;
  // The result holds the chain hash: the row borrows it until it is inserted (PushState::Append).
  out.results.push_back({seq, protocol::ChainHash(kase.head_hash, seq, op.envelope_hash), now_ms});
  const Bytes& chain_hash = out.results.back().chain_hash;
  const storage::NewOp row{
      kase.case_key,    seq,   p.serialized, chain_hash, author.device_id, View(h.client_op_id()),
      op.envelope_hash, now_ms};
  // The device cursor is written once, when the push ends (or before a control op reads the
  // tables); the case head goes to the writer's case cache, written once per group (case_cache.h).
  KRING_RETURN_IF_ERROR(state.Append(row, h.device_counter(), h.kind() == v1::OP_KIND_CONTENT));
  if (h.kind() == v1::OP_KIND_CLOSE_CASE) {
    const int64_t retention_ms =
        int64_t{op.control().close_case().retention_days()} * 24 * 3600 * 1000;
    KRING_RETURN_IF_ERROR(txn.SetCaseClosed(case_id, seq, now_ms + retention_ms));
  }
  if (h.kind() == v1::OP_KIND_ERASE_CASE) {
    v1::LogEntry trigger;
    trigger.set_seq(seq);
    *trigger.mutable_envelope() = *p.envelope;
    trigger.set_chain_hash(ToString(chain_hash));
    out.erase_trigger = trigger.SerializeAsString();
  }
  out.head_seq = seq;
  out.appended = true;
  return {};
}

// A content op runs on what the push has read so far. A control op may change the case,
// members, epochs and rekey flags, and its checks read the tables: it sees them with the push's
// cursor written and its head as PushState::Case() gives it (the pending head in the writer's
// case cache, not yet in `cases`), and the ops after it read them again.
Status ApplyNew(PushState& state, const Author& author, ByteView case_id, size_t index,
                const PreparedEnvelope& p, int64_t now_ms, PushOutcome& out) {
  if (p.parsed->header().kind() == v1::OP_KIND_CONTENT) {
    return ApplyOne(state, author, case_id, index, p, now_ms, out);
  }
  KRING_RETURN_IF_ERROR(state.FlushAndForget());
  KRING_RETURN_IF_ERROR(ApplyOne(state, author, case_id, index, p, now_ms, out));
  return state.FlushAndForget();
}

// Deletes the case but for its tombstone (the trigger, a serialized LogEntry at `trigger_seq`),
// which keeps, for a device that was away, every seq before the trigger (a control op whole, a
// content op as its envelope hash: no ciphertext) and the accounts that were members, the only
// ones it is served to (docs/protocol.md section 9). One transaction with the deletion.
// A stored op that cannot be read, or a seq missing, keeps no history at all (a device that was
// away then checks against the state it last synced) and the case is erased anyway: one damaged
// row must not block an erasure, nor hold back a retention sweep's other cases.
Status EraseWithHistory(storage::StoreTxn& txn, ByteView case_id, int64_t now_ms,
                        const std::string& trigger, uint64_t trigger_seq) {
  uint64_t after = 0;
  bool whole = true;
  std::vector<storage::ErasedEntryRecord> kept;
  while (whole && after + 1 < trigger_seq) {
    KRING_ASSIGN_OR_RETURN(std::vector<storage::StoredOp> ops,
                           txn.ReadOps(case_id, after, 1000, 4 * 1024 * 1024));
    if (ops.empty()) {
      whole = false;
      break;
    }
    kept.clear();
    for (storage::StoredOp& op : ops) {
      if (op.seq >= trigger_seq) break;
      v1::Envelope env;
      v1::OpHeader h;
      if (op.seq != after + 1 || !env.ParseFromString(op.envelope) ||
          !h.ParseFromString(env.header())) {
        whole = false;
        break;
      }
      storage::ErasedEntryRecord e;
      e.seq = op.seq;
      e.chain_hash = std::move(op.chain_hash);
      if (protocol::IsControl(h.kind())) {
        e.control_envelope = std::move(op.envelope);
      } else {
        e.envelope_hash = protocol::EnvelopeHash(env);
      }
      kept.push_back(std::move(e));
      after = op.seq;
    }
    if (!whole) break;
    if (kept.empty()) break;  // only ops at or after the trigger
    KRING_RETURN_IF_ERROR(txn.KeepErasedHistory(case_id, kept));
  }
  if (whole && after + 1 < trigger_seq) whole = false;  // the log stops before the trigger
  if (whole) {
    KRING_ASSIGN_OR_RETURN(std::vector<Bytes> members, txn.ListMembers(case_id));
    KRING_RETURN_IF_ERROR(txn.KeepErasedReaders(case_id, members));
  } else {
    KRING_RETURN_IF_ERROR(txn.DropErasedHistory(case_id));
    log::Warn("erased_without_history", {{"case_id", Hex(case_id)}, {"seq", trigger_seq}});
  }
  return txn.EraseCase(case_id, now_ms, trigger);
}

}  // namespace

Result<size_t> SweepRetention(storage::StoreTxn& txn, int64_t now_ms, uint32_t limit,
                              uint64_t max_ops) {
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> due, txn.CasesDueForDeletion(now_ms, limit));
  size_t deleted = 0;
  uint64_t ops_erased = 0;
  for (const Bytes& case_id : due) {
    if (ops_erased >= max_ops) break;
    KRING_ASSIGN_OR_RETURN(std::optional<storage::CaseRecord> kase, txn.GetCase(case_id));
    if (!kase || kase->close_seq == 0) continue;
    KRING_ASSIGN_OR_RETURN(std::vector<storage::StoredOp> ops,
                           txn.ReadOps(case_id, kase->close_seq - 1, 1, 1));
    // Without its close op the case has no trigger a device could check: it stays, logged, and
    // the sweep goes on with the other cases.
    v1::LogEntry trigger;
    if (ops.empty() || ops[0].seq != kase->close_seq ||
        !trigger.mutable_envelope()->ParseFromString(ops[0].envelope)) {
      log::Error("retention_close_unreadable", {{"case_id", Hex(case_id)}});
      continue;
    }
    trigger.set_seq(ops[0].seq);
    trigger.set_chain_hash(ToString(ops[0].chain_hash));
    KRING_RETURN_IF_ERROR(
        EraseWithHistory(txn, case_id, now_ms, trigger.SerializeAsString(), trigger.seq()));
    ++deleted;
    ops_erased += kase->head_seq;
  }
  return deleted;
}

PushedOp::PushedOp(google::protobuf::Arena* arena) {
  if (arena != nullptr) {
    header_ = google::protobuf::Arena::CreateMessage<v1::OpHeader>(arena);
    control_ = google::protobuf::Arena::CreateMessage<v1::ControlBody>(arena);
  } else {
    owned_header_ = std::make_unique<v1::OpHeader>();
    owned_control_ = std::make_unique<v1::ControlBody>();
    header_ = owned_header_.get();
    control_ = owned_control_.get();
  }
}

std::vector<PreparedEnvelope> PrepareEnvelopes(const v1::PushRequest& request,
                                               const Author& author) {
  std::vector<PreparedEnvelope> out;
  out.reserve(static_cast<size_t>(request.envelopes_size()));
  google::protobuf::Arena* arena = request.GetArena();
  for (const v1::Envelope& env : request.envelopes()) {
    PreparedEnvelope p;
    PushedOp op(arena);
    // Unknown fields are refused, not stored: kringd would write them back into the stored bytes
    // and serve them inside PullResponse, one message deeper than it parsed them (PushRequest ->
    // Envelope), and the signature does not cover them. Nested groups that fit protobuf's
    // recursion limit here would then exceed it at every member's pull, which could never read
    // that page again.
    const Status parsed = !env.GetReflection()->GetUnknownFields(env).empty()
                              ? InvalidArgument("envelope has unknown fields")
                              : protocol::ParseEnvelopeInto(env, op.fields());
    if (parsed.ok()) {
      p.parsed = std::move(op);
    } else {
      p.parsed = parsed;
    }
    // One Ed25519 check per signed envelope: a push's unsigned content ops cost none here, their
    // signed successor in the same push covers them through the hash links (ApplyPush).
    if (p.parsed.ok()) {
      p.envelope = &env;
      p.is_signed = !env.signature().empty();
      p.signature_ok = p.is_signed && crypto::Verify(author.signing_public_key, p.parsed->digest,
                                                     View(env.signature()));
    }
    out.push_back(std::move(p));
  }
  // ParseEnvelopeInto took each parsed envelope's size, so the sizes are cached.
  size_t total = 0;
  for (const PreparedEnvelope& p : out) {
    // ByteSizeLong, not the cached size: the array below is only as large as this sum says.
    if (p.envelope != nullptr) total += p.envelope->ByteSizeLong();
  }
  char* buffer = arena != nullptr && total > 0
                     ? google::protobuf::Arena::CreateArray<char>(arena, total)
                     : nullptr;
  for (PreparedEnvelope& p : out) {
    if (p.envelope == nullptr) continue;
    const size_t size = static_cast<size_t>(p.envelope->GetCachedSize());
    if (buffer == nullptr) {
      p.owned = std::make_unique<std::string>(p.envelope->SerializeAsString());
      p.serialized = *p.owned;
      continue;
    }
    const uint8_t* end =
        p.envelope->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(buffer));
    KRING_CHECK(end == reinterpret_cast<uint8_t*>(buffer) + size);
    p.serialized = std::string_view(buffer, size);
    buffer += size;
  }
  return out;
}

namespace {

// ApplyPush's one pass. Without `look_up_stored` it takes every op of the push for new (only the
// push's own ops count as stored), and ApplyPush keeps the result only if it is OK.
Status ApplyBatch(storage::StoreTxn& txn, const Author& author, ByteView case_id,
                  const std::vector<PreparedEnvelope>& batch, int64_t now_ms, PushOutcome& out,
                  bool look_up_stored) {
  out = PushOutcome{};
  // Reserved: the pending rows borrow the results' chain hashes (whose buffers would survive a
  // move anyway).
  out.results.reserve(batch.size());
  PushState state(txn, case_id, author.device_id, author.account_id);
  // The push's ops whose client_op_id is not above every one the device stored: only these may be
  // retries. Sized on the second pass only (the first has none, and no allocation for them).
  std::vector<bool> may_be_retry;
  if (look_up_stored) {
    may_be_retry.assign(batch.size(), false);
    // Retries: every op this device stored under one of those ids from the earliest of their
    // seen_seqs on, read in one statement (ops the push appends are added as it goes).
    std::vector<Bytes> client_op_ids;
    uint64_t from_seq = std::numeric_limits<uint64_t>::max();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].parsed.ok()) continue;
      const v1::OpHeader& h = batch[i].parsed->header();
      KRING_ASSIGN_OR_RETURN(bool above, state.AboveStoredClientOpIds(View(h.client_op_id())));
      if (above) continue;
      may_be_retry[i] = true;
      client_op_ids.push_back(ToBytes(h.client_op_id()));
      from_seq = std::min(from_seq, h.seen_seq());
    }
    KRING_RETURN_IF_ERROR(state.LoadStored(client_op_ids, from_seq));
  }
  // The first new unsigned op not yet followed by a new signed one: such an op is authenticated
  // only by a later op of this push that continues its hash chain and carries a valid signature.
  std::optional<size_t> unsigned_from;
  for (size_t i = 0; i < batch.size(); ++i) {
    const PreparedEnvelope& p = batch[i];
    if (!p.parsed.ok()) return At(i, p.parsed.status());
    const PushedOp& op = p.parsed.value();
    const v1::OpHeader& h = op.header();
    // Compared in place: copying the ids to compare them was three allocations per op.
    if (!std::ranges::equal(View(h.case_id()), case_id)) {
      return At(i, PermissionDenied("envelope belongs to another case"));
    }
    if (!std::ranges::equal(View(h.author_device_id()), author.device_id) ||
        !std::ranges::equal(View(h.author_account_id()), author.account_id)) {
      return At(i, PermissionDenied("envelope author is not the signed-in device"));
    }
    // A retry of an op that is already stored gets the original result and nothing else.
    if (const storage::StoredOpRef* dup = state.Stored(View(h.client_op_id()))) {
      const storage::StoredOpRef& ref = *dup;
      out.results.push_back({ref.seq, ref.chain_hash, ref.received_at_ms, /*duplicate=*/true});
      continue;
    }
    if (!look_up_stored) {
      // Above the device's stored ids (and this push's so far) it is new; otherwise it may be a
      // retry, which the second pass looks up.
      KRING_ASSIGN_OR_RETURN(bool above, state.AboveStoredClientOpIds(View(h.client_op_id())));
      if (!above) return Status(StatusCode::kAborted, "may be a retry");
    } else if (may_be_retry[i] && !state.LookedUpToHead()) {
      // Its original, if it has one, may lie past the range looked at: a pull first (which
      // confirms a stored op) and a new sealing with a newer seen_seq settle it.
      return At(i, FailedPrecondition("a retry is looked up at most " +
                                      std::to_string(PushState::kMaxRetryLookup) +
                                      " ops after its seen_seq"));
    }
    if (p.is_signed && !p.signature_ok) return At(i, InvalidArgument("bad signature"));
    if (!p.is_signed && h.kind() != v1::OP_KIND_CONTENT) {
      return At(i, InvalidArgument("control ops must be signed"));  // ParseEnvelope has it too
    }
    // Removal and addition are atomic with their rekey: nothing may be sealed in between.
    const bool leaving = h.kind() == v1::OP_KIND_REMOVE_MEMBER &&
                         ToBytes(op.control().remove_member().account_id()) == author.account_id;
    if ((h.kind() == v1::OP_KIND_ADD_MEMBER || h.kind() == v1::OP_KIND_REMOVE_MEMBER ||
         h.kind() == v1::OP_KIND_SET_SCOPE) &&
        !leaving) {
      const uint32_t scope =
          h.kind() == v1::OP_KIND_SET_SCOPE ? op.control().set_scope().scope_id() : 0;
      const bool rekey_follows = i + 1 < batch.size() && batch[i + 1].parsed.ok() &&
                                 batch[i + 1].parsed->header().kind() == v1::OP_KIND_REKEY &&
                                 batch[i + 1].parsed->control().rekey().scope_id() == scope;
      if (!rekey_follows) {
        return At(i, InvalidArgument("a membership change must be followed by its rekey"));
      }
      // The Rekey must be new too: a retried (duplicate) one would not change the epoch. Nor may
      // it carry the change's own id: once the change is appended it would be answered as the
      // change's duplicate, leaving the change stored without its Rekey.
      const std::string& rekey_id = batch[i + 1].parsed->header().client_op_id();
      if (state.Stored(View(rekey_id)) != nullptr || rekey_id == h.client_op_id()) {
        return At(i, InvalidArgument("a membership change must be followed by its rekey"));
      }
    }
    Status s = ApplyNew(state, author, case_id, i, p, now_ms, out);
    if (!s.ok()) return s.code() == StatusCode::kInternal ? s : At(i, s);
    // ApplyOne checked that this op continues the device's chain from the previous new op, so
    // a signed op here covers every unsigned one since `unsigned_from`.
    if (p.is_signed) {
      unsigned_from.reset();
    } else if (!unsigned_from) {
      unsigned_from = i;
    }
  }
  if (unsigned_from) {
    // The caller rolls the whole push back: no unsigned op is stored without its signed end.
    return At(*unsigned_from, InvalidArgument("unsigned op without a signed op after it"));
  }
  KRING_RETURN_IF_ERROR(state.Flush());
  if (out.appended) {
    KRING_ASSIGN_OR_RETURN(out.members, state.Members());
    // A removed member is poked once more, with the seq of its removal (never the case's head:
    // nothing after its removal reaches it), so its device pulls its removal at once.
    for (size_t i = 0; i < batch.size() && i < out.results.size(); ++i) {
      const PreparedEnvelope& p = batch[i];
      if (p.parsed.ok() && p.parsed->header().kind() == v1::OP_KIND_REMOVE_MEMBER) {
        out.removed.emplace_back(ToBytes(p.parsed->control().remove_member().account_id()),
                                 out.results[i].seq);
      }
    }
  }
  // The receipt covers the push's highest seq: a new op's, or a duplicate's when all are.
  const OpResult* highest = nullptr;
  for (const OpResult& r : out.results) {
    if (highest == nullptr || r.seq > highest->seq) highest = &r;
  }
  if (highest != nullptr) out.receipt = {highest->seq, highest->chain_hash, highest->time_ms};
  if (!out.erase_trigger.empty()) {
    // Erasure on request: nothing of the case stays but the tombstone with the signed request and
    // the history without content that EraseWithHistory keeps for the members.
    v1::LogEntry trigger;
    if (!trigger.ParseFromString(out.erase_trigger)) return Internal("erasure trigger unreadable");
    KRING_RETURN_IF_ERROR(EraseWithHistory(txn, case_id, now_ms, out.erase_trigger, trigger.seq()));
  }
  state.WriteBack();
  return {};
}

}  // namespace

Status ApplyPush(storage::StoreTxn& txn, const Author& author, ByteView case_id,
                 const std::vector<PreparedEnvelope>& batch, int64_t now_ms, PushOutcome& out) {
  // Almost every push is new ops only, so first without the duplicate lookup: an op whose
  // client_op_id is above every one its device stored in the case (kept in the device cursor)
  // cannot be a retry, and libkring's ids rise per case. The first op that is not, and anything
  // else that fails, rolls the attempt back and the push runs again with the lookup: a retry's
  // duplicates and every error come from there.
  // The passes capture one pointer, so each fits std::function's own buffer (capturing the six
  // arguments was two heap allocations per push).
  struct Args {
    storage::StoreTxn& txn;
    const Author& author;
    ByteView case_id;
    const std::vector<PreparedEnvelope>& batch;
    int64_t now_ms;
    PushOutcome& out;
  } args{txn, author, case_id, batch, now_ms, out};
  return txn.Attempt(
      [a = &args] {
        return ApplyBatch(a->txn, a->author, a->case_id, a->batch, a->now_ms, a->out,
                          /*look_up_stored=*/false);
      },
      [a = &args] {
        return ApplyBatch(a->txn, a->author, a->case_id, a->batch, a->now_ms, a->out,
                          /*look_up_stored=*/true);
      });
}

}  // namespace kring::server
