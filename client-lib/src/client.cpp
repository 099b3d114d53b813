#include "kring/client.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"

#include "crypto/identity.h"
#include "domain/organising_rules.h"
#include "model/reducer.h"
#include "model/values.h"
#include "store/local_store.h"
#include "sync/sync_engine.h"

namespace kring::client {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status CheckCaseId(const Bytes& case_id) {
  if (case_id.size() != crypto::kIdBytes) return InvalidArgument("case id must be 16 bytes");
  return {};
}

}  // namespace

const char* AlarmKindName(AlarmKind kind) {
  switch (kind) {
    case AlarmKind::kTamper:
      return "TAMPER";
    case AlarmKind::kFork:
      return "FORK";
    case AlarmKind::kDrop:
      return "DROP";
    case AlarmKind::kRollback:
      return "ROLLBACK";
    case AlarmKind::kKeyMismatch:
      return "KEY_MISMATCH";
    case AlarmKind::kRemovalNotShown:
      return "REMOVAL_NOT_SHOWN";
  }
  return "UNKNOWN";
}

class Client::Impl {
 public:
  Impl(std::unique_ptr<LocalStore> store, std::shared_ptr<Transport> transport)
      : store_(std::move(store)),
        engine_(store_.get(), std::move(transport),
                [this](std::vector<ChangeEvent> events) { Notify(events); }) {}

  ~Impl() { engine_.Stop(); }

  std::unique_ptr<LocalStore> store_;
  SyncEngine engine_;
  bool has_transport_ = false;
  bool background_ = false;

  mutable std::mutex mu_;  // account_ and listeners_
  std::optional<v1::LocalAccount> account_;
  std::map<int, ChangeListener> listeners_;
  int next_listener_ = 1;

  void Notify(const std::vector<ChangeEvent>& events) {
    std::vector<ChangeListener> copy;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [token, l] : listeners_) copy.push_back(l);
    }
    for (const auto& e : events) {
      for (const auto& l : copy) l(e);
    }
  }

  Result<v1::LocalAccount> Me() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!account_) return FailedPrecondition("this device has no account yet");
    return *account_;
  }

  Status CheckCaseKnown(const Bytes& case_id, bool for_edit = false) {
    KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
    // The flags come from the store's kept record: no decrypting of the state per edit.
    KRING_ASSIGN_OR_RETURN(std::optional<CaseFlags> flags, store_->LoadCaseFlags(case_id));
    if (!flags) return NotFound("unknown case");
    if (flags->halted) {
      return FailedPrecondition("this case is stopped by a security alarm", refusal::kCaseHalted);
    }
    if (for_edit && flags->closed) {
      return FailedPrecondition("the case is closed", refusal::kCaseClosed);
    }
    // Out of the case by its verified log: an edit could never go out (and would wait in the
    // queue for ever). While an invite's acceptance waits for approval, edits wait with it.
    if (for_edit && flags->removed && !flags->pending_approval) {
      return FailedPrecondition("no longer a member of this case", refusal::kNotAMember);
    }
    return {};
  }

  // The optimistic view of one case (the last one asked for) as of a store view version: while
  // the store is still at that version, or only this client queued intents since, it is
  // current. Queueing an offline edit then costs one reducer step instead of a replay of every
  // pending intent. Invite expiry is not applied here (it depends on the clock, see BuildView).
  struct KeptView {
    Bytes case_id;
    uint64_t version = 0;
    v1::CaseState state;
  };
  std::mutex view_mu_;  // view_
  std::optional<KeptView> view_;

  // Applies one pending intent to an optimistic view, as a replay of the queue does.
  static void ApplyPending(v1::CaseState& state, const Bytes& case_id, const v1::LocalAccount& me,
                           bool control, const v1::ControlIntent& control_op,
                           const v1::ContentOp& content, const Bytes& client_op_id) {
    const uint64_t confirmed_seq = state.seq();
    if (control) {
      // A queued change shows at once (members), before its ops are sealed and confirmed.
      // The acceptor cannot see the case yet; a pending Rekey has no visible effect.
      if (!control_op.has_accept_invite() && !control_op.has_rekey_after_leave() &&
          !control_op.has_rekey_scope() && !control_op.has_rekey_after_revoke()) {
        v1::ControlBody body = model::ControlBodyOf(control_op);
        v1::OpHeader header;
        header.set_case_id(ToString(case_id));
        model::ApplyControl(state, header, body, 0);
        state.set_rekey_pending(false);
      }
    } else {
      model::ApplyContent(state, content,
                          {0, ToBytes(me.account_id()), client_op_id, content.scope_id()});
    }
    state.set_seq(confirmed_seq);
    state.set_pending_intents(state.pending_intents() + 1);
  }

  // Makes view_ the current optimistic view of the case, rebuilding it only when the store
  // changed in a way this client did not follow.
  Status FreshViewLocked(const Bytes& case_id) {
    KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
    if (view_ && view_->case_id == case_id && view_->version == store_->ViewVersion()) return {};
    view_.reset();
    uint64_t version = 0;
    KRING_ASSIGN_OR_RETURN(auto snapshot, store_->CaseWithIntents(case_id, &version));
    if (!snapshot) return NotFound("unknown case");
    KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, Me());
    v1::CaseState state = std::move(snapshot->first.state);
    if (state.case_id().empty()) state.set_case_id(ToString(case_id));
    state.set_pending_intents(0);
    for (const Intent& in : snapshot->second) {
      ApplyPending(state, case_id, me, in.control, in.control_op, in.content, in.client_op_id);
    }
    view_ = KeptView{case_id, version, std::move(state)};
    return {};
  }

  // Runs `fn` on the current optimistic view without copying it (invite expiry not applied).
  Status WithView(const Bytes& case_id, const std::function<Status(const v1::CaseState&)>& fn) {
    std::lock_guard<std::mutex> lock(view_mu_);
    KRING_RETURN_IF_ERROR(FreshViewLocked(case_id));
    return fn(view_->state);
  }

  // Stores an intent of this client and, when the kept view was current just before, applies
  // it to that view too; otherwise the next view is rebuilt.
  Status AddIntent(const Bytes& case_id, bool control, const v1::ControlIntent& control_op,
                   const v1::ContentOp& content) {
    KRING_ASSIGN_OR_RETURN(const Bytes client_op_id, store_->NewClientOpId(case_id));
    std::lock_guard<std::mutex> lock(view_mu_);
    const bool kept = view_ && view_->case_id == case_id;
    uint64_t version = kept ? view_->version : 0;
    Status added = control ? store_->AddControlIntent(case_id, client_op_id, control_op, &version)
                           : store_->AddContentIntent(case_id, client_op_id, content, &version);
    if (!added.ok() || !kept || version == 0) {
      view_.reset();
      return added;
    }
    KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, Me());
    ApplyPending(view_->state, case_id, me, control, control_op, content, client_op_id);
    view_->version = version;
    return {};
  }

  Result<v1::CaseState> BuildView(const Bytes& case_id, bool optimistic) {
    KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
    if (!optimistic) {
      KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->LoadCase(case_id));
      if (!rec) return NotFound("unknown case");
      if (rec->state.case_id().empty()) rec->state.set_case_id(ToString(case_id));
      return std::move(rec->state);
    }
    v1::CaseState state;
    KRING_RETURN_IF_ERROR(WithView(case_id, [&](const v1::CaseState& view) {
      state = view;
      return Status();
    }));
    // Expiry is the server's call; the view shows an open invite past its time as expired.
    const int64_t now = NowMs();
    for (auto& inv : *state.mutable_invites()) {
      if (inv.status() == v1::InviteState::PENDING && inv.expires_at_ms() <= now) {
        inv.set_status(v1::InviteState::EXPIRED);
      }
    }
    return state;
  }

  // Checks a control change against the rules every device applies, then queues it; it is sealed
  // (with its Rekey where it changes who holds keys) at push time.
  Status QueueControl(const Bytes& case_id, const v1::ControlIntent& intent) {
    KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, Me());
    KRING_RETURN_IF_ERROR(CheckCaseKnown(case_id));
    KRING_ASSIGN_OR_RETURN(v1::CaseState view, BuildView(case_id, true));
    KRING_RETURN_IF_ERROR(model::CheckControlPermission(view, kring::View(me.account_id()),
                                                        model::ControlBodyOf(intent)));
    // The same device policy runs again when the change is sealed (SyncEngine::SealControl).
    KRING_RETURN_IF_ERROR(domain::CheckControlPolicy(view, intent));
    KRING_RETURN_IF_ERROR(AddIntent(case_id, /*control=*/true, intent, {}));
    engine_.Wake();
    return {};
  }

  Status Queue(const Bytes& case_id, const std::vector<v1::Mutation>& mutations,
               uint32_t scope_id) {
    KRING_RETURN_IF_ERROR(CheckCaseKnown(case_id, /*for_edit=*/true));
    if (mutations.empty()) return InvalidArgument("an edit needs at least one change");
    if (mutations.size() > model::kMaxMutationsPerOp) return InvalidArgument("too many changes");
    if (scope_id != 0) {
      KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, Me());
      KRING_RETURN_IF_ERROR(WithView(case_id, [&](const v1::CaseState& view) {
        // As kringd answers content sealed to a scope the case does not have.
        if (view.scopes().count(scope_id) == 0) {
          return FailedPrecondition("unknown scope", refusal::kScopeUnknown);
        }
        if (!model::InScope(view, scope_id, kring::View(me.account_id()))) {
          return PermissionDenied("not a member of this scope", refusal::kNotInScope);
        }
        return Status();
      }));
    }
    v1::ContentOp op;
    op.set_version(1);
    op.set_scope_id(scope_id);
    bool creates = false;
    for (const auto& m : mutations) {
      KRING_RETURN_IF_ERROR(model::ValidateMutation(m));
      creates = creates || m.kind_case() == v1::Mutation::kCreateEntity;
      *op.add_mutations() = m;
    }
    // The reducer drops a create whose id does not fit its scope; refusing it here makes a
    // writer's bug fail loudly instead of losing the entity on every device.
    if (creates) {
      KRING_RETURN_IF_ERROR(WithView(case_id, [&](const v1::CaseState& view) {
        for (const auto& m : mutations) {
          if (m.kind_case() == v1::Mutation::kCreateEntity &&
              !model::EntityIdFitsScope(view, scope_id, m.create_entity().entity_id())) {
            return InvalidArgument("entity id does not fit its scope");
          }
        }
        return Status();
      }));
    }
    if (op.ByteSizeLong() > protocol::kMaxEnvelopeBytes / 2) {
      return InvalidArgument("edit is too large");
    }
    KRING_RETURN_IF_ERROR(AddIntent(case_id, /*control=*/false, {}, op));
    engine_.Wake();
    return {};
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Open(ClientOptions options) {
  crypto::EnsureInitialized();
  if (options.db_path.empty()) return InvalidArgument("db_path is required");
  auto store = LocalStore::Open(options.db_path, options.storage_key);
  WipeMemory(options.storage_key.data(), options.storage_key.size());
  if (!store.ok()) return store.status();
  bool has_transport = options.transport != nullptr;
  auto impl = std::make_unique<Impl>(std::move(store).value(), std::move(options.transport));
  impl->has_transport_ = has_transport;
  impl->background_ = options.background_sync && has_transport;
  if (options.entries_per_commit_for_tests != 0) {
    impl->engine_.SetEntriesPerCommit(options.entries_per_commit_for_tests);
  }
  KRING_ASSIGN_OR_RETURN(std::optional<v1::LocalAccount> account, impl->store_->LoadAccount());
  if (account) {
    impl->account_ = *account;
    impl->engine_.SetAccount(*account);
    if (impl->background_) impl->engine_.Start();
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<NewAccount> Client::CreateAccount() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    if (impl_->account_) return Status(StatusCode::kAlreadyExists, "this device has an account");
  }
  Transport* transport = impl_->engine_.transport();
  if (transport == nullptr) return FailedPrecondition("no server configured");
  KRING_RETURN_IF_ERROR(impl_->engine_.EnsureServerPinned());
  identity::CreatedAccount created = identity::CreateAccount(NowMs());
  v1::PublishChainRequest req;
  req.set_account_id(created.local.account_id());
  *req.add_links() = created.root;
  // Publishing first means a failure leaves nothing half-created on this device.
  KRING_RETURN_IF_ERROR(transport->PublishChain(req).status());
  KRING_RETURN_IF_ERROR(
      impl_->store_->SaveChain(kring::View(created.local.account_id()), {created.root}));
  KRING_RETURN_IF_ERROR(impl_->store_->SaveAccount(created.local));
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    impl_->account_ = created.local;
  }
  impl_->engine_.SetAccount(created.local);
  if (impl_->background_) impl_->engine_.Start();
  NewAccount out;
  out.info.account_id = ToBytes(created.local.account_id());
  out.info.device_id = ToBytes(created.local.device_id());
  out.info.safety_number = SafetyNumber(protocol::LinkHash(kring::View(created.root.body())));
  out.recovery_key = identity::FormatRecoveryKey(created.recovery_key);
  return out;
}

Result<AccountInfo> Client::Account() const {
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->Me());
  KRING_ASSIGN_OR_RETURN(std::optional<UserChain> chain,
                         impl_->store_->LoadChain(kring::View(me.account_id())));
  if (!chain) return DataLoss("own account chain is missing");
  return AccountInfo{ToBytes(me.account_id()), ToBytes(me.device_id()),
                     SafetyNumber(chain->root_hash)};
}

Result<std::string> Client::SafetyNumberOf(const Bytes& account_id) {
  if (account_id.size() != crypto::kIdBytes) return InvalidArgument("account id must be 16 bytes");
  KRING_ASSIGN_OR_RETURN(UserChain chain, impl_->engine_.ChainOf(account_id));
  return SafetyNumber(chain.root_hash);
}

Result<Bytes> Client::CreateCase(const std::vector<MemberSpec>& members,
                                 bool newcomers_read_history) {
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->Me());
  if (members.size() > protocol::kMaxCaseMembers) return InvalidArgument("too many members");
  std::vector<MemberSpec> all = members;
  std::set<Bytes> seen;
  bool includes_me = false;
  for (const MemberSpec& m : all) {
    if (m.account_id.size() != crypto::kIdBytes) {
      return InvalidArgument("member account id must be 16 bytes");
    }
    if (m.role != v1::ROLE_CHAIR && m.role != v1::ROLE_COORDINATOR && m.role != v1::ROLE_MEMBER) {
      return InvalidArgument("member role must be chair, coordinator or member");
    }
    if (!seen.insert(m.account_id).second) return InvalidArgument("member listed twice");
    if (ConstantTimeEqual(m.account_id, kring::View(me.account_id()))) {
      includes_me = true;
      if (m.role == v1::ROLE_MEMBER) {
        return PermissionDenied("the creator must be the chair or the coordinator",
                                refusal::kManagersOnly);
      }
    }
  }
  if (!includes_me) all.push_back({ToBytes(me.account_id()), v1::ROLE_CHAIR});
  if (all.size() > protocol::kMaxCaseMembers) return InvalidArgument("too many members");
  size_t chairs = 0;
  for (const MemberSpec& m : all) chairs += m.role == v1::ROLE_CHAIR ? 1 : 0;
  if (chairs > 1) return InvalidArgument("a case has at most one chair");

  // Every member's chain is fetched and verified now, so a bad id fails here and not later.
  for (const MemberSpec& m : all) {
    KRING_RETURN_IF_ERROR(impl_->engine_.ChainOf(m.account_id).status());
  }
  v1::ControlIntent intent;
  v1::CreateCase* create = intent.mutable_create_case();
  create->set_newcomers_read_history(newcomers_read_history);
  for (const MemberSpec& m : all) {
    v1::Member* member = create->add_members();
    member->set_account_id(ToString(m.account_id));
    member->set_role(m.role);
  }
  Bytes case_id = crypto::RandomBytes(crypto::kIdBytes);
  v1::CaseState empty;
  empty.set_case_id(ToString(case_id));
  KRING_ASSIGN_OR_RETURN(Bytes client_op_id, impl_->store_->NewClientOpId(case_id));
  KRING_RETURN_IF_ERROR(impl_->store_->StartCase(case_id, empty, client_op_id, intent));
  impl_->engine_.Wake();
  return case_id;
}

Status Client::AddMember(const Bytes& case_id, const MemberSpec& member) {
  if (member.account_id.size() != crypto::kIdBytes) {
    return InvalidArgument("member account id must be 16 bytes");
  }
  if (member.role != v1::ROLE_CHAIR && member.role != v1::ROLE_COORDINATOR &&
      member.role != v1::ROLE_MEMBER) {
    return InvalidArgument("member role must be chair, coordinator or member");
  }
  v1::ControlIntent intent;
  v1::Member* m = intent.mutable_add_member()->mutable_member();
  m->set_account_id(ToString(member.account_id));
  m->set_role(member.role);
  // The newcomer's chain is verified now: its key box is sealed to that user key at push time.
  KRING_RETURN_IF_ERROR(impl_->engine_.ChainOf(member.account_id).status());
  return impl_->QueueControl(case_id, intent);
}

Result<RemovalNotice> Client::RemoveMember(const Bytes& case_id, const Bytes& account_id) {
  if (account_id.size() != crypto::kIdBytes) return InvalidArgument("account id must be 16 bytes");
  v1::ControlIntent intent;
  intent.mutable_remove_member()->set_account_id(ToString(account_id));
  KRING_RETURN_IF_ERROR(impl_->QueueControl(case_id, intent));
  return RemovalNotice{
      "Wat deze persoon al heeft gezien, kunnen we niet terughalen. Alles wat hierna komt, kan "
      "deze persoon niet meer lezen.",
      "What this person has already seen cannot be taken back. Nothing that comes after this "
      "can be read by them."};
}

namespace {

constexpr std::string_view kInvitePrefix = "kring://invite/1/";
constexpr int64_t kMaxInviteSeconds = int64_t{30} * 24 * 3600;

crypto::SigningKeyPair InviteKeys(ByteView secret) {
  return crypto::SigningKeyPairFromSeed(crypto::DeriveKey(secret, 1, "kringinv"));
}

}  // namespace

Result<Invitation> Client::CreateInvite(const Bytes& case_id, v1::Role role,
                                        int64_t valid_for_seconds) {
  if (valid_for_seconds < 1 || valid_for_seconds > kMaxInviteSeconds) {
    return InvalidArgument("an invite is valid for 1 second to 30 days");
  }
  SecretBytes secret = crypto::RandomSecret(crypto::kKeyBytes);
  crypto::SigningKeyPair keys = InviteKeys(secret);
  v1::ControlIntent intent;
  v1::Invite* inv = intent.mutable_invite();
  inv->set_invite_id(ToString(protocol::InviteId(keys.public_key)));
  inv->set_signing_public_key(ToString(keys.public_key));
  inv->set_role(role);
  inv->set_expires_at_ms(NowMs() + valid_for_seconds * 1000);
  KRING_RETURN_IF_ERROR(impl_->QueueControl(case_id, intent));
  Invitation out;
  out.invite_id = ToBytes(inv->invite_id());
  out.link = std::string(kInvitePrefix) + Hex(case_id) + "/" + Hex(secret);
  out.qr_text = out.link;
  return out;
}

Result<RemovalNotice> Client::LeaveCase(const Bytes& case_id) {
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->Me());
  v1::ControlIntent intent;
  intent.mutable_remove_member()->set_account_id(me.account_id());
  KRING_RETURN_IF_ERROR(impl_->QueueControl(case_id, intent));
  return RemovalNotice{
      "Je bent uit de kring gestapt. Wat je al hebt gezien, blijft op dit apparaat. Wat hierna "
      "komt, kun je niet meer lezen.",
      "You have left the circle. What you have seen stays on this device. What comes after this "
      "you can no longer read."};
}

Status Client::RevokeInvite(const Bytes& case_id, const Bytes& invite_id) {
  v1::ControlIntent intent;
  intent.mutable_revoke_invite()->set_invite_id(ToString(invite_id));
  return impl_->QueueControl(case_id, intent);
}

Result<Bytes> Client::AcceptInvite(const std::string& link) {
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->Me());
  // kring://invite/1/<case id: 32 hex>/<secret: 64 hex>
  if (link.size() != kInvitePrefix.size() + 32 + 1 + 64 || link.rfind(kInvitePrefix, 0) != 0 ||
      link[kInvitePrefix.size() + 32] != '/') {
    return InvalidArgument("this is not a Kring invitation link");
  }
  auto case_id = FromHex(std::string_view(link).substr(kInvitePrefix.size(), 32));
  auto secret_hex = FromHex(std::string_view(link).substr(kInvitePrefix.size() + 33));
  if (!case_id || !secret_hex) return InvalidArgument("this is not a Kring invitation link");
  SecretBytes secret(secret_hex->begin(), secret_hex->end());
  WipeMemory(secret_hex->data(), secret_hex->size());
  crypto::SigningKeyPair keys = InviteKeys(secret);
  Bytes invite_id = protocol::InviteId(keys.public_key);
  // The case is read, checked and written back whole: no catch-up may commit in between (this
  // write would undo it, or it this one). Held until the acceptance is stored; the events and
  // the wake-up below go out after it is released.
  std::unique_lock<std::mutex> no_sync = impl_->engine_.HoldSync();
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> existing, impl_->store_->LoadCase(*case_id));
  if (existing && !existing->state.removed() && existing->head_seq > 0) {
    return Status(StatusCode::kAlreadyExists, "already in this case", refusal::kAlreadyJoined);
  }
  v1::ControlIntent intent;
  v1::AcceptInvite* accept = intent.mutable_accept_invite();
  accept->set_invite_id(ToString(invite_id));
  accept->set_proof(ToString(crypto::Sign(
      keys.secret_key,
      protocol::InviteAcceptInput(*case_id, invite_id, kring::View(me.account_id())))));
  if (existing && existing->halted) {
    return FailedPrecondition("this case is stopped by a security alarm on this device",
                              refusal::kCaseHalted);
  }
  if (existing && existing->state.pending_approval()) {
    return Status(StatusCode::kAlreadyExists, "already waiting for approval in this case",
                  refusal::kAlreadyWaiting);
  }
  // Joining, or joining again after a removal: the verified log so far stays (it continues
  // this device's op chain in the case); reading resumes once approved.
  v1::CaseState waiting;
  if (existing) waiting = existing->state;
  waiting.set_case_id(ToString(*case_id));
  waiting.set_removed(false);
  waiting.set_pending_approval(true);
  // A removal no catch-up has ended at yet is settled with it: the user acts on it, and the
  // changes queued before it could never go out (the case waits for approval, and they would
  // stand before the acceptance). Left unsettled, they would wait for a verdict that no sync
  // gives once the state no longer shows the removal.
  const bool settle = existing && existing->state.removed() && existing->removal_unsettled;
  KRING_ASSIGN_OR_RETURN(Bytes client_op_id, impl_->store_->NewClientOpId(*case_id));
  SettledRemoval settled;
  KRING_RETURN_IF_ERROR(impl_->store_->StartCase(*case_id, waiting, client_op_id, intent,
                                                 settle ? kring::View(me.account_id()) : ByteView(),
                                                 &settled));
  no_sync.unlock();
  std::vector<ChangeEvent> events;
  SyncEngine::SettledRemovalEvents(*case_id, settled, events);
  impl_->engine_.Tell(std::move(events));
  impl_->engine_.Wake();
  return *case_id;
}

Status Client::ApproveMember(const Bytes& case_id, const Bytes& account_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, impl_->BuildView(case_id, true));
  for (const auto& p : view.pending_members()) {
    if (ConstantTimeEqual(kring::View(p.account_id()), account_id)) {
      // An invitation made for a person of the circle: the approval links that person to the
      // account in the same action (the domain's rule, as `LinkAccount`), queued after the
      // AddMember so the newcomer's first key already reads it. A refused link leaves the person
      // unlinked (Person::account_id shows it; LinkAccount says why).
      KRING_ASSIGN_OR_RETURN(AccountInfo me, Account());
      const std::vector<v1::Mutation> link =
          domain::InviteeLinkOnApproval(view, me.account_id, account_id);
      KRING_RETURN_IF_ERROR(AddMember(case_id, {account_id, p.role()}));
      if (link.empty()) return {};
      return Submit(case_id, link, 0);
    }
  }
  return NotFound("nobody with this account waits for approval", refusal::kNotWaiting);
}

Status Client::DeclineMember(const Bytes& case_id, const Bytes& account_id) {
  v1::ControlIntent intent;
  intent.mutable_decline_member()->set_account_id(ToString(account_id));
  return impl_->QueueControl(case_id, intent);
}

Status Client::SetRole(const Bytes& case_id, const Bytes& account_id, v1::Role role) {
  if (account_id.size() != crypto::kIdBytes) return InvalidArgument("account id must be 16 bytes");
  // A wrong role is the caller's input, whoever calls: refused as kringd would refuse it.
  if (role != v1::ROLE_COORDINATOR && role != v1::ROLE_MEMBER) {
    return InvalidArgument("a role change gives coordinator or member",
                           refusal::kRoleNotAssignable);
  }
  v1::ControlIntent intent;
  intent.mutable_set_role()->set_account_id(ToString(account_id));
  intent.mutable_set_role()->set_role(role);
  return impl_->QueueControl(case_id, intent);
}

Result<std::string> Client::EpochFingerprint(const Bytes& case_id, uint32_t scope_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState state, impl_->BuildView(case_id, false));
  auto epoch = state.scope_epochs().find(scope_id);
  if (epoch == state.scope_epochs().end()) return NotFound("no confirmed epoch yet");
  KRING_ASSIGN_OR_RETURN(std::optional<EpochKey> key,
                         impl_->store_->FindEpochKey(case_id, scope_id, epoch->second));
  if (!key) return NotFound("this device holds no key for the current epoch");
  return "epoch " + std::to_string(epoch->second) + ": " +
         protocol::EpochFingerprint(key->key, case_id, scope_id, epoch->second);
}

std::vector<Bytes> Client::Cases() const {
  auto ids = impl_->store_->CaseIds();
  return ids.ok() ? ids.value() : std::vector<Bytes>();
}

Status Client::Submit(const Bytes& case_id, const std::vector<v1::Mutation>& mutations,
                      uint32_t scope_id) {
  // An edit of an entity sealed to another scope than the entity's would show it to people the
  // entity is hidden from (the reducer ignores it, but the plaintext would be out): refused.
  KRING_RETURN_IF_ERROR(impl_->WithView(case_id, [&](const v1::CaseState& view) {
    for (const v1::Mutation& m : mutations) {
      const std::string* id = model::MutatedEntityId(m);
      if (id == nullptr) continue;
      auto e = view.entities().find(Hex(kring::View(*id)));
      if (e != view.entities().end() && e->second.scope_id() != scope_id) {
        return InvalidArgument("an edit must be in the scope of the item it changes");
      }
    }
    return Status();
  }));
  return impl_->Queue(case_id, mutations, scope_id);
}

Result<Bytes> Client::CreateEntity(const Bytes& case_id, const std::string& type,
                                   uint32_t scope_id) {
  const std::string id = model::NewEntityId(scope_id);
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(id);
  m.mutable_create_entity()->set_type(type);
  KRING_RETURN_IF_ERROR(impl_->Queue(case_id, {m}, scope_id));
  return ToBytes(id);
}

Status Client::CloseCase(const Bytes& case_id, uint32_t retention_days) {
  if (retention_days > protocol::kMaxRetentionDays) {
    return InvalidArgument("retention is at most " + std::to_string(protocol::kMaxRetentionDays) +
                           " days");
  }
  v1::ControlIntent intent;
  intent.mutable_close_case()->set_retention_days(retention_days);
  return impl_->QueueControl(case_id, intent);
}

Status Client::EraseCase(const Bytes& case_id) {
  v1::ControlIntent intent;
  intent.mutable_erase_case();
  return impl_->QueueControl(case_id, intent);
}

Result<uint32_t> Client::CreateScope(const Bytes& case_id, const std::vector<Bytes>& members) {
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->Me());
  v1::ControlIntent intent;
  v1::SetScope* set = intent.mutable_set_scope();
  uint32_t id = 0;
  while (id == 0) {
    Bytes r = crypto::RandomBytes(4);
    id = (uint32_t{r[0]} << 24 | uint32_t{r[1]} << 16 | uint32_t{r[2]} << 8 | r[3]) & 0x7fffffff;
  }
  set->set_scope_id(id);
  set->set_create(true);
  bool has_me = false;
  for (const Bytes& m : members) {
    has_me |= ToString(m) == me.account_id();
    set->add_members(ToString(m));
  }
  // Whoever makes the key can read the scope: the author is always in it.
  if (!has_me) set->add_members(me.account_id());
  KRING_RETURN_IF_ERROR(impl_->QueueControl(case_id, intent));
  return id;
}

Status Client::SetScopeMembers(const Bytes& case_id, uint32_t scope_id,
                               const std::vector<Bytes>& members) {
  v1::ControlIntent intent;
  v1::SetScope* set = intent.mutable_set_scope();
  set->set_scope_id(scope_id);
  for (const Bytes& m : members) set->add_members(ToString(m));
  return impl_->QueueControl(case_id, intent);
}

Result<uint32_t> Client::ScopeOf(const Bytes& case_id, const Bytes& entity_id) const {
  uint32_t scope_id = 0;
  KRING_RETURN_IF_ERROR(impl_->WithView(case_id, [&](const v1::CaseState& view) {
    auto e = view.entities().find(Hex(entity_id));
    if (e == view.entities().end()) return NotFound("unknown entity");
    scope_id = e->second.scope_id();
    return Status();
  }));
  return scope_id;
}

Status Client::SetField(const Bytes& case_id, const Bytes& entity_id, const std::string& field,
                        const v1::Value& value) {
  v1::Mutation m;
  uint32_t scope_id = 0;
  KRING_RETURN_IF_ERROR(impl_->WithView(case_id, [&](const v1::CaseState& view) {
    auto e = view.entities().find(Hex(entity_id));
    if (e == view.entities().end()) return NotFound("unknown entity");
    v1::SetField* sf = m.mutable_set_field();
    sf->set_entity_id(ToString(entity_id));
    sf->set_field(field);
    *sf->mutable_value() = value;
    auto f = e->second.fields().find(field);
    if (f != e->second.fields().end()) sf->set_base_revision(f->second.revision());
    scope_id = e->second.scope_id();
    return Status();
  }));
  return impl_->Queue(case_id, {m}, scope_id);
}

Result<Bytes> Client::AddToSet(const Bytes& case_id, const Bytes& entity_id, const std::string& set,
                               const v1::Value& value) {
  KRING_ASSIGN_OR_RETURN(uint32_t scope_id, ScopeOf(case_id, entity_id));
  Bytes element = crypto::RandomBytes(crypto::kIdBytes);
  v1::Mutation m;
  v1::SetAdd* add = m.mutable_set_add();
  add->set_entity_id(ToString(entity_id));
  add->set_set(set);
  add->set_element_id(ToString(element));
  add->set_add_tag(ToString(crypto::RandomBytes(crypto::kIdBytes)));
  *add->mutable_value() = value;
  KRING_RETURN_IF_ERROR(impl_->Queue(case_id, {m}, scope_id));
  return element;
}

Status Client::RemoveFromSet(const Bytes& case_id, const Bytes& entity_id, const std::string& set,
                             const Bytes& element_id) {
  v1::Mutation m;
  uint32_t scope_id = 0;
  KRING_RETURN_IF_ERROR(impl_->WithView(case_id, [&](const v1::CaseState& view) {
    auto e = view.entities().find(Hex(entity_id));
    if (e == view.entities().end()) return NotFound("unknown entity");
    auto s = e->second.sets().find(set);
    if (s == e->second.sets().end()) return NotFound("unknown set");
    auto el = s->second.elements().find(Hex(element_id));
    if (el == s->second.elements().end()) return NotFound("unknown element");
    v1::SetRemove* rm = m.mutable_set_remove();
    rm->set_entity_id(ToString(entity_id));
    rm->set_set(set);
    rm->set_element_id(ToString(element_id));
    for (const auto& tag : el->second.live_tags()) rm->add_observed_tags(tag);
    scope_id = e->second.scope_id();
    return Status();
  }));
  return impl_->Queue(case_id, {m}, scope_id);
}

Status Client::DeleteEntity(const Bytes& case_id, const Bytes& entity_id) {
  KRING_ASSIGN_OR_RETURN(uint32_t scope_id, ScopeOf(case_id, entity_id));
  v1::Mutation m;
  m.mutable_delete_entity()->set_entity_id(ToString(entity_id));
  return impl_->Queue(case_id, {m}, scope_id);
}

Status Client::RestoreEntity(const Bytes& case_id, const Bytes& entity_id) {
  KRING_ASSIGN_OR_RETURN(uint32_t scope_id, ScopeOf(case_id, entity_id));
  v1::Mutation m;
  m.mutable_restore_entity()->set_entity_id(ToString(entity_id));
  return impl_->Queue(case_id, {m}, scope_id);
}

Result<v1::CaseState> Client::View(const Bytes& case_id) const {
  return impl_->BuildView(case_id, true);
}

Result<v1::CaseState> Client::ConfirmedView(const Bytes& case_id) const {
  return impl_->BuildView(case_id, false);
}

size_t Client::PendingIntents(const Bytes& case_id) const {
  auto n = impl_->store_->PendingIntentCount(case_id);
  return n.ok() ? n.value() : 0;
}

Result<std::vector<Bytes>> Client::QueuedIntentIds(const Bytes& case_id) const {
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, impl_->store_->PendingIntents(case_id));
  std::vector<Bytes> ids;
  ids.reserve(intents.size());
  for (const Intent& in : intents) ids.push_back(in.client_op_id);
  return ids;
}

Result<IntentOutcome> Client::OutcomeOf(const Bytes& case_id, const Bytes& client_op_id) const {
  KRING_ASSIGN_OR_RETURN(std::optional<bool> rejected,
                         impl_->store_->IntentRejected(case_id, client_op_id));
  if (!rejected) return IntentOutcome::kDone;
  return *rejected ? IntentOutcome::kRejected : IntentOutcome::kQueued;
}

std::vector<Alarm> Client::Alarms() const {
  auto a = impl_->store_->Alarms();
  return a.ok() ? a.value() : std::vector<Alarm>();
}

Status Client::CaseStopped(const Bytes& case_id) {
  KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
  KRING_ASSIGN_OR_RETURN(std::optional<CaseFlags> flags, impl_->store_->LoadCaseFlags(case_id));
  if (!flags) return NotFound("unknown case");
  return flags->halted ? impl_->engine_.Halted(case_id) : Status();
}

Result<SyncStats> Client::SyncNow() { return impl_->engine_.SyncNow(); }

Result<SyncStats> Client::SyncCase(const Bytes& case_id) {
  KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
  return impl_->engine_.SyncOneCase(case_id);
}

int Client::AddChangeListener(ChangeListener listener) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  int token = impl_->next_listener_++;
  impl_->listeners_[token] = std::move(listener);
  return token;
}

void Client::RemoveChangeListener(int token) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->listeners_.erase(token);
}

// ---- Devices ----

namespace {

constexpr std::string_view kLinkPrefix = "kring://device-link/1/";
constexpr std::string_view kApprovalPrefix = "kring://device-approve/1/";

// 8 digits from the new device's public keys: the person compares them on both screens, so a
// payload changed on its way (other keys) is caught before anything is sealed to it.
std::string LinkCode(ByteView signing_public_key, ByteView box_public_key) {
  Bytes h = crypto::Hasher("kring-device-link-code-v1", 32)
                .Add(signing_public_key)
                .Add(box_public_key)
                .Finish();
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | h[i];
  std::string digits = std::to_string(v % 100000000);
  digits = std::string(8 - digits.size(), '0') + digits;
  return digits.substr(0, 4) + " " + digits.substr(4);
}

std::string DigitsOnly(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

// Signs in as `me` with the raw transport (a device not yet adopted by the sync engine).
Result<std::string> SignInAs(Transport* transport, ByteView server_key,
                             const v1::LocalAccount& me) {
  KRING_ASSIGN_OR_RETURN(v1::SignInResponse session,
                         SignInDevice(*transport, protocol::ServerId(server_key), me));
  return session.session_token();
}

void AddUserKeys(v1::LocalAccount& local, const std::map<uint32_t, SecretBytes>& seeds) {
  for (const auto& [generation, seed] : seeds) {
    v1::LocalUserKey* uk = local.add_user_keys();
    uk->set_generation(generation);
    uk->set_seed(ToString(seed));
  }
}

}  // namespace

Result<DeviceLinkRequest> Client::RequestDeviceLink() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    if (impl_->account_) return Status(StatusCode::kAlreadyExists, "this device has an account");
  }
  KRING_ASSIGN_OR_RETURN(std::optional<v1::LocalAccount> keys, impl_->store_->LoadPendingDevice());
  if (!keys) {
    keys = identity::NewDeviceKeys();
    KRING_RETURN_IF_ERROR(impl_->store_->SavePendingDevice(*keys));
  }
  DeviceLinkRequest out;
  out.payload = std::string(kLinkPrefix) + Hex(kring::View(keys->device_signing_public_key())) +
                Hex(kring::View(keys->device_box_public_key()));
  out.code = LinkCode(kring::View(keys->device_signing_public_key()),
                      kring::View(keys->device_box_public_key()));
  return out;
}

Result<std::string> Client::ApproveDeviceLink(const std::string& payload, const std::string& code) {
  KRING_RETURN_IF_ERROR(impl_->Me().status());
  // kring://device-link/1/<signing public key: 64 hex><box public key: 64 hex>
  if (payload.size() != kLinkPrefix.size() + 128 || payload.rfind(kLinkPrefix, 0) != 0) {
    return InvalidArgument("this is not a Kring device link code");
  }
  auto sign_pk = FromHex(std::string_view(payload).substr(kLinkPrefix.size(), 64));
  auto box_pk = FromHex(std::string_view(payload).substr(kLinkPrefix.size() + 64, 64));
  if (!sign_pk || !box_pk) return InvalidArgument("this is not a Kring device link code");
  const std::string typed = DigitsOnly(code);
  if (typed.size() != 8) return InvalidArgument("the confirmation code has 8 digits");
  if (!ConstantTimeEqual(kring::View(DigitsOnly(LinkCode(*sign_pk, *box_pk))),
                         kring::View(typed))) {
    return PermissionDenied(
        "the confirmation code does not match this link code: it was changed on the way or "
        "belongs to another device");
  }
  // The newest user keys of this device, and the account's chain as kringd has it now.
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->engine_.RefreshOwnUserKeys());
  KRING_ASSIGN_OR_RETURN(UserChain chain,
                         impl_->engine_.ChainOf(ToBytes(me.account_id()), /*refresh=*/true));
  if (chain.devices.count(protocol::DeviceId(*sign_pk)) != 0) {
    return Status(StatusCode::kAlreadyExists, "this device was already added to the account");
  }
  if (static_cast<size_t>(me.user_keys_size()) > 64) {
    return FailedPrecondition("too many user key generations to hand over");
  }
  v1::LinkBody body;
  body.set_created_at_ms(NowMs());
  v1::AddDeviceLink* add = body.mutable_add_device();
  add->mutable_device()->set_signing_public_key(ToString(*sign_pk));
  add->mutable_device()->set_box_public_key(ToString(*box_pk));
  // Every generation this device holds: the new device reads the whole history of every case
  // (older key boxes are sealed to older generations).
  const Bytes new_device_id = protocol::DeviceId(*sign_pk);
  for (const auto& uk : me.user_keys()) {
    v1::SealedSeed* sealed = add->add_sealed_seeds();
    sealed->set_recipient_id(ToString(new_device_id));
    sealed->set_sealed(ToString(crypto::Seal(*box_pk, kring::View(uk.seed()))));
  }
  v1::ChainLink link = identity::SignLink(chain, body, kring::View(me.device_id()),
                                          kring::View(me.device_signing_secret_key()));
  return std::string(kApprovalPrefix) + Hex(kring::View(me.account_id())) + "/" +
         Hex(kring::View(link.SerializeAsString()));
}

Result<AccountInfo> Client::FinishDeviceLink(const std::string& approval) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    if (impl_->account_) return Status(StatusCode::kAlreadyExists, "this device has an account");
  }
  KRING_ASSIGN_OR_RETURN(std::optional<v1::LocalAccount> keys, impl_->store_->LoadPendingDevice());
  if (!keys) return FailedPrecondition("ask for a device link first (RequestDeviceLink)");
  // kring://device-approve/1/<account id: 32 hex>/<chain link: hex>
  const size_t link_at = kApprovalPrefix.size() + 33;
  if (approval.size() <= link_at || approval.size() > link_at + 2 * protocol::kMaxChainLinkBytes ||
      approval.rfind(kApprovalPrefix, 0) != 0 || approval[link_at - 1] != '/') {
    return InvalidArgument("this is not a Kring device approval");
  }
  auto account_id = FromHex(std::string_view(approval).substr(kApprovalPrefix.size(), 32));
  auto link_bytes = FromHex(std::string_view(approval).substr(link_at));
  v1::ChainLink link;
  v1::LinkBody body;
  if (!account_id || !link_bytes ||
      !link.ParseFromArray(link_bytes->data(), static_cast<int>(link_bytes->size())) ||
      !body.ParseFromString(link.body()) || !body.has_add_device()) {
    return InvalidArgument("this is not a Kring device approval");
  }
  // The approval must add exactly this device; the seeds sealed to it must open.
  if (!ConstantTimeEqual(kring::View(body.add_device().device().signing_public_key()),
                         kring::View(keys->device_signing_public_key())) ||
      !ConstantTimeEqual(kring::View(body.add_device().device().box_public_key()),
                         kring::View(keys->device_box_public_key()))) {
    return PermissionDenied("this approval is for another device");
  }
  link.set_new_device_signature(
      ToString(crypto::Sign(kring::View(keys->device_signing_secret_key()),
                            protocol::LinkSignInput(kring::View(link.body())))));
  Transport* transport = impl_->engine_.transport();
  if (transport == nullptr) return FailedPrecondition("no server configured");
  KRING_RETURN_IF_ERROR(impl_->engine_.EnsureServerPinned());
  v1::PublishChainRequest req;
  req.set_account_id(ToString(*account_id));
  *req.add_links() = link;
  if (Status s = transport->PublishChain(req).status(); !s.ok()) {
    if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kPermissionDenied) {
      return InvalidArgument(
          "the server refused this approval: it was changed on the way, or the account changed "
          "since; approve the link again");
    }
    return s;
  }
  // Now a device of the account: sign in and check the link is in the account's chain.
  KRING_ASSIGN_OR_RETURN(std::optional<Bytes> server_key, impl_->store_->PinnedServerKey());
  if (!server_key) return FailedPrecondition("the server's key is not pinned yet");
  v1::LocalAccount local = *keys;
  local.set_account_id(ToString(*account_id));
  KRING_ASSIGN_OR_RETURN(std::string token, SignInAs(transport, *server_key, local));
  v1::GetChainRequest creq;
  creq.set_account_id(ToString(*account_id));
  KRING_ASSIGN_OR_RETURN(v1::GetChainResponse resp, transport->GetChain(creq, token));
  std::vector<v1::ChainLink> links(resp.links().begin(), resp.links().end());
  KRING_ASSIGN_OR_RETURN(UserChain chain, VerifyChain(*account_id, links));
  if (body.index() >= chain.length ||
      chain.links[body.index()].SerializeAsString() != link.SerializeAsString() ||
      chain.ActiveDevice(kring::View(local.device_id())) == nullptr) {
    return PermissionDenied("the account's chain does not hold this device's link");
  }
  std::map<uint32_t, SecretBytes> seeds = identity::OpenUserKeySeeds(
      chain, kring::View(local.device_id()), identity::DeviceBoxKeyPair(local));
  if (seeds.count(chain.user_key.generation) == 0) {
    return PermissionDenied("the approval does not hand over the account's current user key");
  }
  AddUserKeys(local, seeds);
  KRING_RETURN_IF_ERROR(impl_->store_->SaveChain(*account_id, links));
  KRING_RETURN_IF_ERROR(impl_->store_->SaveAccount(local));
  KRING_RETURN_IF_ERROR(impl_->store_->ClearPendingDevice());
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    impl_->account_ = local;
  }
  impl_->engine_.SetAccount(local);
  if (impl_->background_) impl_->engine_.Start();
  return AccountInfo{*account_id, ToBytes(local.device_id()), SafetyNumber(chain.root_hash)};
}

Result<std::vector<DeviceInfo>> Client::Devices() {
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->Me());
  KRING_ASSIGN_OR_RETURN(UserChain chain,
                         impl_->engine_.ChainOf(ToBytes(me.account_id()), /*refresh=*/true));
  std::vector<DeviceInfo> out;
  for (const auto& [id, dev] : chain.devices) {
    if (dev.is_recovery) continue;
    out.push_back({id, dev.added_at, dev.revoked_at.has_value(),
                   ConstantTimeEqual(id, kring::View(me.device_id()))});
  }
  std::sort(out.begin(), out.end(),
            [](const DeviceInfo& a, const DeviceInfo& b) { return a.added_at < b.added_at; });
  return out;
}

Status Client::RevokeDevice(const Bytes& device_id) {
  KRING_RETURN_IF_ERROR(impl_->Me().status());
  if (device_id.size() != crypto::kIdBytes) return InvalidArgument("device id must be 16 bytes");
  KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, impl_->engine_.RefreshOwnUserKeys());
  if (ConstantTimeEqual(device_id, kring::View(me.device_id()))) {
    return InvalidArgument("revoke this device from another device of the account");
  }
  const Bytes account_id = ToBytes(me.account_id());
  KRING_ASSIGN_OR_RETURN(UserChain chain, impl_->engine_.ChainOf(account_id, /*refresh=*/true));
  const ChainDevice* target = chain.ActiveDevice(device_id);
  if (target == nullptr || target->is_recovery) {
    return NotFound("no active device with this id in this account");
  }

  // RevokeDevice, then a new user key generation sealed to every remaining device and to the
  // recovery key (which must open every generation to restore the whole history).
  v1::LinkBody revoke;
  revoke.set_created_at_ms(NowMs());
  revoke.mutable_revoke_device()->set_device_id(ToString(device_id));
  v1::ChainLink revoke_link = identity::SignLink(chain, revoke, kring::View(me.device_id()),
                                                 kring::View(me.device_signing_secret_key()));
  UserChain after = chain;
  KRING_RETURN_IF_ERROR(ApplyLink(after, revoke_link));
  SecretBytes seed = crypto::RandomSecret(crypto::kKeyBytes);
  const uint32_t generation = chain.user_key.generation + 1;
  v1::LinkBody rotate;
  rotate.set_created_at_ms(NowMs());
  v1::UserKeyGeneration* uk = rotate.mutable_rotate_user_key()->mutable_user_key();
  uk->set_generation(generation);
  uk->set_box_public_key(ToString(identity::UserBoxKeyPair(seed).public_key));
  uk->set_signing_public_key(ToString(identity::UserSigningKeyPair(seed).public_key));
  for (const auto& [id, dev] : after.devices) {
    if (dev.revoked_at) continue;
    v1::SealedSeed* sealed = uk->add_sealed_seeds();
    sealed->set_recipient_id(ToString(id));
    sealed->set_sealed(ToString(crypto::Seal(dev.box_public_key, seed)));
  }
  v1::ChainLink rotate_link = identity::SignLink(after, rotate, kring::View(me.device_id()),
                                                 kring::View(me.device_signing_secret_key()));
  KRING_RETURN_IF_ERROR(ApplyLink(after, rotate_link));
  v1::PublishChainRequest req;
  req.set_account_id(ToString(account_id));
  *req.add_links() = revoke_link;
  *req.add_links() = rotate_link;
  Transport* transport = impl_->engine_.transport();
  if (transport == nullptr) return FailedPrecondition("no server configured");
  // Both links in one publish: kringd stores them together and ends the device's sessions.
  KRING_RETURN_IF_ERROR(transport->PublishChain(req).status());

  v1::LocalUserKey* local_uk = me.add_user_keys();
  local_uk->set_generation(generation);
  local_uk->set_seed(ToString(seed));
  KRING_RETURN_IF_ERROR(impl_->store_->SaveAccount(me));
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    impl_->account_ = me;
  }
  impl_->engine_.SetAccount(me);
  KRING_RETURN_IF_ERROR(impl_->engine_.ChainOf(account_id, /*refresh=*/true).status());

  // Every case this account is in: new keys, naming the revoked device (pushed by sync).
  KRING_ASSIGN_OR_RETURN(std::vector<Bytes> cases, impl_->store_->CaseIds());
  for (const Bytes& case_id : cases) {
    KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, impl_->store_->LoadCase(case_id));
    if (!rec || rec->halted || rec->state.removed() || rec->state.pending_approval() ||
        model::FindMember(rec->state, account_id) == nullptr) {
      continue;
    }
    v1::ControlIntent intent;
    intent.mutable_rekey_after_revoke()->set_scope_id(0);
    intent.mutable_rekey_after_revoke()->add_revoked_devices(ToString(device_id));
    KRING_ASSIGN_OR_RETURN(Bytes client_op_id, impl_->store_->NewClientOpId(case_id));
    KRING_RETURN_IF_ERROR(impl_->store_->AddControlIntent(case_id, client_op_id, intent));
  }
  impl_->engine_.Wake();
  return {};
}

Result<AccountInfo> Client::RestoreAccount(const std::string& recovery_key,
                                           const Bytes& expected_account_id) {
  if (!expected_account_id.empty() && expected_account_id.size() != crypto::kIdBytes) {
    return InvalidArgument("account id must be 16 bytes");
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    if (impl_->account_) return Status(StatusCode::kAlreadyExists, "this device has an account");
  }
  KRING_ASSIGN_OR_RETURN(SecretBytes key, identity::ParseRecoveryKey(recovery_key));
  Transport* transport = impl_->engine_.transport();
  if (transport == nullptr) return FailedPrecondition("no server configured");
  KRING_RETURN_IF_ERROR(impl_->engine_.EnsureServerPinned());
  KRING_ASSIGN_OR_RETURN(std::optional<Bytes> server_key, impl_->store_->PinnedServerKey());
  if (!server_key) return FailedPrecondition("the server's key is not pinned yet");
  const Bytes server_id = protocol::ServerId(*server_key);
  crypto::SigningKeyPair rec_sign = identity::RecoverySigningKeyPair(key);
  crypto::BoxKeyPair rec_box = identity::RecoveryBoxKeyPair(key);
  const Bytes rec_id = protocol::DeviceId(rec_sign.public_key);

  // The chain of the account this recovery key belongs to, proven with a signed challenge.
  v1::ChallengeRequest creq;
  creq.set_device_id(ToString(rec_id));
  auto challenge = transport->GetChallenge(creq);
  if (!challenge.ok()) {
    if (challenge.status().code() == StatusCode::kUnauthenticated) {
      return NotFound("no account on this server has this recovery key");
    }
    return challenge.status();
  }
  if (!ConstantTimeEqual(kring::View(challenge->server_id()), server_id)) {
    return PermissionDenied("server identity differs from the pinned server");
  }
  v1::GetChainRequest greq;
  greq.set_recovery_device_id(ToString(rec_id));
  greq.set_account_id(ToString(expected_account_id));
  greq.set_challenge(challenge->challenge());
  greq.set_signature(ToString(crypto::Sign(
      rec_sign.secret_key,
      protocol::RecoveryChainSignInput(server_id, kring::View(challenge->challenge()), rec_id))));
  auto fetched = transport->GetChain(greq, {});
  if (!fetched.ok()) {
    if (fetched.status().code() == StatusCode::kUnauthenticated) {
      return NotFound("no account on this server has this recovery key");
    }
    return fetched.status();
  }
  std::vector<v1::ChainLink> links(fetched->links().begin(), fetched->links().end());
  KRING_ASSIGN_OR_RETURN(UserChain chain, VerifyChain(expected_account_id, links));
  // The chain must name exactly this recovery key (both halves), or it is someone else's.
  const ChainDevice* recovery = chain.ActiveDevice(rec_id);
  if (recovery == nullptr || !recovery->is_recovery ||
      !ConstantTimeEqual(recovery->signing_public_key, rec_sign.public_key) ||
      !ConstantTimeEqual(recovery->box_public_key, rec_box.public_key)) {
    return PermissionDenied("the server sent a chain that does not hold this recovery key");
  }
  std::map<uint32_t, SecretBytes> seeds = identity::OpenUserKeySeeds(chain, rec_id, rec_box);
  if (seeds.count(chain.user_key.generation) == 0) {
    return FailedPrecondition("the recovery key cannot open this account's current user key");
  }

  // This device joins the account, signed by the recovery key, with every generation sealed to
  // it (the recovery key stays valid; it is not used up).
  v1::LocalAccount local = identity::NewDeviceKeys();
  local.set_account_id(ToString(chain.account_id));
  v1::LinkBody body;
  body.set_created_at_ms(NowMs());
  v1::AddDeviceLink* add = body.mutable_add_device();
  add->mutable_device()->set_signing_public_key(local.device_signing_public_key());
  add->mutable_device()->set_box_public_key(local.device_box_public_key());
  for (const auto& [generation, seed] : seeds) {
    v1::SealedSeed* sealed = add->add_sealed_seeds();
    sealed->set_recipient_id(local.device_id());
    sealed->set_sealed(ToString(crypto::Seal(kring::View(local.device_box_public_key()), seed)));
  }
  v1::ChainLink link = identity::SignLink(chain, body, rec_id, rec_sign.secret_key,
                                          kring::View(local.device_signing_secret_key()));
  KRING_RETURN_IF_ERROR(ApplyLink(chain, link));
  v1::PublishChainRequest preq;
  preq.set_account_id(ToString(chain.account_id));
  *preq.add_links() = link;
  KRING_RETURN_IF_ERROR(transport->PublishChain(preq).status());
  AddUserKeys(local, seeds);
  KRING_RETURN_IF_ERROR(impl_->store_->SaveChain(chain.account_id, chain.links));
  KRING_RETURN_IF_ERROR(impl_->store_->SaveAccount(local));
  KRING_RETURN_IF_ERROR(impl_->store_->ClearPendingDevice());
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    impl_->account_ = local;
  }
  impl_->engine_.SetAccount(local);
  if (impl_->background_) impl_->engine_.Start();
  return AccountInfo{chain.account_id, ToBytes(local.device_id()), SafetyNumber(chain.root_hash)};
}

}  // namespace kring::client
