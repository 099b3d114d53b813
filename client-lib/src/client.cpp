#include "kring/client.h"

#include <chrono>
#include <mutex>
#include <set>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "crypto/identity.h"
#include "model/reducer.h"
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

  Status CheckCaseKnown(const Bytes& case_id) {
    KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
    KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->LoadCase(case_id));
    if (!rec) return NotFound("unknown case");
    if (rec->halted) return FailedPrecondition("this case is stopped by a security alarm");
    return {};
  }

  Result<v1::CaseState> BuildView(const Bytes& case_id, bool optimistic) {
    KRING_RETURN_IF_ERROR(CheckCaseId(case_id));
    KRING_ASSIGN_OR_RETURN(auto snapshot, store_->CaseWithIntents(case_id));
    if (!snapshot) return NotFound("unknown case");
    v1::CaseState state = std::move(snapshot->first.state);
    if (state.case_id().empty()) state.set_case_id(ToString(case_id));
    if (!optimistic) return state;
    const std::vector<Intent>& intents = snapshot->second;
    KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, Me());
    const uint64_t confirmed_seq = state.seq();
    for (const Intent& in : intents) {
      if (in.control) {
        // A queued change shows at once (members), before its ops are sealed and confirmed.
        // The acceptor cannot see the case yet; a pending Rekey has no visible effect.
        if (in.control_op.has_accept_invite() || in.control_op.has_rekey_after_leave() ||
            in.control_op.has_rekey_scope()) {
          continue;
        }
        v1::ControlBody body = model::ControlBodyOf(in.control_op);
        v1::OpHeader header;
        header.set_case_id(ToString(case_id));
        model::ApplyControl(state, header, body, 0);
        state.set_rekey_pending(false);
      } else {
        model::ApplyContent(state, in.content,
                            {0, ToBytes(me.account_id()), in.client_op_id, in.content.scope_id()});
      }
    }
    state.set_seq(confirmed_seq);
    state.set_pending_intents(static_cast<uint32_t>(intents.size()));
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
    std::string denied = model::CheckControlPermission(view, kring::View(me.account_id()),
                                                       model::ControlBodyOf(intent));
    if (!denied.empty()) return PermissionDenied(denied);
    KRING_RETURN_IF_ERROR(
        store_->AddControlIntent(case_id, crypto::RandomBytes(crypto::kIdBytes), intent));
    engine_.Wake();
    return {};
  }

  Status Queue(const Bytes& case_id, const std::vector<v1::Mutation>& mutations,
               uint32_t scope_id) {
    KRING_RETURN_IF_ERROR(CheckCaseKnown(case_id));
    if (mutations.empty()) return InvalidArgument("an edit needs at least one change");
    if (mutations.size() > model::kMaxMutationsPerOp) return InvalidArgument("too many changes");
    if (scope_id != 0) {
      KRING_ASSIGN_OR_RETURN(v1::LocalAccount me, Me());
      KRING_ASSIGN_OR_RETURN(v1::CaseState view, BuildView(case_id, true));
      if (view.scopes().count(scope_id) == 0) return NotFound("unknown scope");
      if (!model::InScope(view, scope_id, kring::View(me.account_id()))) {
        return PermissionDenied("not a member of this scope");
      }
    }
    v1::ContentOp op;
    op.set_version(1);
    op.set_scope_id(scope_id);
    for (const auto& m : mutations) {
      KRING_RETURN_IF_ERROR(model::ValidateMutation(m));
      *op.add_mutations() = m;
    }
    if (op.ByteSizeLong() > protocol::kMaxEnvelopeBytes / 2) {
      return InvalidArgument("edit is too large");
    }
    KRING_RETURN_IF_ERROR(
        store_->AddContentIntent(case_id, crypto::RandomBytes(crypto::kIdBytes), op));
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
        return PermissionDenied("the creator must be the chair or the coordinator");
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
  KRING_RETURN_IF_ERROR(
      impl_->store_->StartCase(case_id, empty, crypto::RandomBytes(crypto::kIdBytes), intent));
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
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> existing, impl_->store_->LoadCase(*case_id));
  if (existing && !existing->state.removed() && existing->head_seq > 0) {
    return Status(StatusCode::kAlreadyExists, "already in this case");
  }
  v1::ControlIntent intent;
  v1::AcceptInvite* accept = intent.mutable_accept_invite();
  accept->set_invite_id(ToString(invite_id));
  accept->set_proof(ToString(crypto::Sign(
      keys.secret_key,
      protocol::InviteAcceptInput(*case_id, invite_id, kring::View(me.account_id())))));
  if (existing && existing->halted) {
    return FailedPrecondition("this case is stopped by a security alarm on this device");
  }
  if (existing && existing->state.pending_approval()) {
    return Status(StatusCode::kAlreadyExists, "already waiting for approval in this case");
  }
  // Joining, or joining again after a removal: the verified log so far stays (it continues
  // this device's op chain in the case); reading resumes once approved.
  v1::CaseState waiting;
  if (existing) waiting = existing->state;
  waiting.set_case_id(ToString(*case_id));
  waiting.set_removed(false);
  waiting.set_pending_approval(true);
  KRING_RETURN_IF_ERROR(
      impl_->store_->StartCase(*case_id, waiting, crypto::RandomBytes(crypto::kIdBytes), intent));
  impl_->engine_.Wake();
  return *case_id;
}

Status Client::ApproveMember(const Bytes& case_id, const Bytes& account_id) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, impl_->BuildView(case_id, true));
  for (const auto& p : view.pending_members()) {
    if (ConstantTimeEqual(kring::View(p.account_id()), account_id)) {
      return AddMember(case_id, {account_id, p.role()});
    }
  }
  return NotFound("nobody with this account waits for approval");
}

Status Client::DeclineMember(const Bytes& case_id, const Bytes& account_id) {
  v1::ControlIntent intent;
  intent.mutable_decline_member()->set_account_id(ToString(account_id));
  return impl_->QueueControl(case_id, intent);
}

Result<std::string> Client::EpochFingerprint(const Bytes& case_id) const {
  KRING_ASSIGN_OR_RETURN(v1::CaseState state, impl_->BuildView(case_id, false));
  auto epoch = state.scope_epochs().find(0);
  if (epoch == state.scope_epochs().end()) return NotFound("no confirmed epoch yet");
  KRING_ASSIGN_OR_RETURN(std::optional<EpochKey> key,
                         impl_->store_->FindEpochKey(case_id, 0, epoch->second));
  if (!key) return NotFound("this device holds no key for the current epoch");
  return "epoch " + std::to_string(epoch->second) + ": " +
         protocol::EpochFingerprint(key->key, case_id, 0, epoch->second);
}

std::vector<Bytes> Client::Cases() const {
  auto ids = impl_->store_->CaseIds();
  return ids.ok() ? ids.value() : std::vector<Bytes>();
}

Status Client::Submit(const Bytes& case_id, const std::vector<v1::Mutation>& mutations,
                      uint32_t scope_id) {
  return impl_->Queue(case_id, mutations, scope_id);
}

Result<Bytes> Client::CreateEntity(const Bytes& case_id, const std::string& type,
                                   uint32_t scope_id) {
  Bytes id = crypto::RandomBytes(crypto::kIdBytes);
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(ToString(id));
  m.mutable_create_entity()->set_type(type);
  KRING_RETURN_IF_ERROR(impl_->Queue(case_id, {m}, scope_id));
  return id;
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
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, impl_->BuildView(case_id, true));
  auto e = view.entities().find(Hex(entity_id));
  if (e == view.entities().end()) return NotFound("unknown entity");
  return e->second.scope_id();
}

Status Client::SetField(const Bytes& case_id, const Bytes& entity_id, const std::string& field,
                        const v1::Value& value) {
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, impl_->BuildView(case_id, true));
  auto e = view.entities().find(Hex(entity_id));
  if (e == view.entities().end()) return NotFound("unknown entity");
  v1::Mutation m;
  v1::SetField* sf = m.mutable_set_field();
  sf->set_entity_id(ToString(entity_id));
  sf->set_field(field);
  *sf->mutable_value() = value;
  auto f = e->second.fields().find(field);
  if (f != e->second.fields().end()) sf->set_base_revision(f->second.revision());
  return impl_->Queue(case_id, {m}, e->second.scope_id());
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
  KRING_ASSIGN_OR_RETURN(v1::CaseState view, impl_->BuildView(case_id, true));
  auto e = view.entities().find(Hex(entity_id));
  if (e == view.entities().end()) return NotFound("unknown entity");
  auto s = e->second.sets().find(set);
  if (s == e->second.sets().end()) return NotFound("unknown set");
  auto el = s->second.elements().find(Hex(element_id));
  if (el == s->second.elements().end()) return NotFound("unknown element");
  v1::Mutation m;
  v1::SetRemove* rm = m.mutable_set_remove();
  rm->set_entity_id(ToString(entity_id));
  rm->set_set(set);
  rm->set_element_id(ToString(element_id));
  for (const auto& tag : el->second.live_tags()) rm->add_observed_tags(tag);
  return impl_->Queue(case_id, {m}, e->second.scope_id());
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

std::vector<Alarm> Client::Alarms() const {
  auto a = impl_->store_->Alarms();
  return a.ok() ? a.value() : std::vector<Alarm>();
}

Result<SyncStats> Client::SyncNow() { return impl_->engine_.SyncNow(); }

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

}  // namespace kring::client
