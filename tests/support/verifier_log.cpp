#include "support/verifier_log.h"

#include "kring/common/protocol.h"
#include "kring/common/status.h"

#include "crypto/identity.h"
#include "sync/sync_engine.h"

namespace kring::test {

namespace {
constexpr int64_t kHeadTimeMs = 1700000000000;
}  // namespace

Author NewAuthor() {
  client::identity::CreatedAccount created = client::identity::CreateAccount(1700000000000);
  Author a;
  a.local = std::move(created.local);
  a.account_id = protocol::AccountId(protocol::LinkHash(View(created.root.body())));
  auto chain = VerifyChain(a.account_id, {created.root});
  KRING_CHECK(chain.ok());
  a.chain = std::move(chain).value();
  return a;
}

Log::Log()
    : case_id_(crypto::RandomBytes(crypto::kIdBytes)), server_(crypto::NewSigningKeyPair()) {}

void Log::SeeHead() { seen_.emplace(entries_.size(), prev_); }

void Log::Append(Author& a, v1::OpKind kind, const v1::ControlBody* control,
                 const v1::ContentOp* content, ByteView epoch_key, uint64_t epoch, bool sign) {
  v1::OpHeader h;
  h.set_version(protocol::kVersion);
  h.set_case_id(ToString(case_id_));
  h.set_epoch(epoch);
  h.set_author_account_id(ToString(a.account_id));
  h.set_author_device_id(a.local.device_id());
  h.set_device_counter(a.counter + 1);
  h.set_prev_device_op_hash(ToString(a.last_hash));
  h.set_client_op_id(ToString(crypto::RandomBytes(crypto::kIdBytes)));
  if (seen_ && seen_->first > 0) {
    h.set_seen_seq(seen_->first);
    h.set_seen_hash(ToString(seen_->second));
  }
  h.set_kind(kind);
  v1::Envelope env = sign ? client::SignEnvelope(a.local, h, control, content, epoch_key)
                          : client::SealEnvelope(h, control, content, epoch_key);
  ++a.counter;
  a.last_hash = protocol::EnvelopeHash(env);
  v1::LogEntry e;
  e.set_seq(entries_.size() + 1);
  prev_ = protocol::ChainHash(prev_, e.seq(), a.last_hash);
  e.set_chain_hash(ToString(prev_));
  *e.mutable_envelope() = std::move(env);
  entries_.push_back(std::move(e));
}

v1::Receipt Log::Head(size_t upto) const {
  KRING_CHECK(upto <= entries_.size());
  const ByteView chain = upto == 0 ? ByteView() : View(entries_[upto - 1].chain_hash());
  return protocol::MakeReceipt(case_id_, upto, chain, kHeadTimeMs, server_.secret_key);
}

v1::PullResponse Log::Page(size_t after) const {
  v1::PullResponse r;
  for (size_t i = after; i < entries_.size(); ++i) *r.add_entries() = entries_[i];
  *r.mutable_head() =
      protocol::MakeReceipt(case_id_, entries_.size(), prev_, kHeadTimeMs, server_.secret_key);
  return r;
}

v1::PullResponse Log::Range(size_t after, size_t upto) const {
  KRING_CHECK(after <= upto && upto <= entries_.size());
  v1::PullResponse r;
  for (size_t i = after; i < upto; ++i) *r.add_entries() = entries_[i];
  *r.mutable_head() = Head(upto);
  return r;
}

v1::PullResponse Log::FirstPage(size_t n) const { return Range(0, n); }

v1::ContentOp Note(const std::string& id, const std::string& text, bool create) {
  v1::ContentOp op;
  op.set_version(1);
  if (create) AddCreate(op, id);
  AddText(op, id, text);
  return op;
}

void AddCreate(v1::ContentOp& op, const std::string& id) {
  v1::CreateEntity* ce = op.add_mutations()->mutable_create_entity();
  ce->set_entity_id(id);
  ce->set_type("note");
}

void AddText(v1::ContentOp& op, const std::string& id, const std::string& text) {
  v1::SetField* sf = op.add_mutations()->mutable_set_field();
  sf->set_entity_id(id);
  sf->set_field("text");
  sf->mutable_value()->set_text(text);
}

void AddDelete(v1::ContentOp& op, const std::string& id) {
  op.add_mutations()->mutable_delete_entity()->set_entity_id(id);
}

v1::ControlBody RekeyBody(const Log& log, const std::vector<const Author*>& recipients,
                          const SecretBytes& epoch_key, uint64_t epoch) {
  v1::ControlBody rekey;
  v1::Rekey* rk = rekey.mutable_rekey();
  rk->set_new_epoch(epoch);
  rk->set_key_commitment(
      ToString(protocol::EpochKeyCommitment(epoch_key, log.case_id(), 0, epoch)));
  for (const Author* a : recipients) {
    rk->add_recipients(ToString(a->account_id));
    v1::KeyBox* box = rk->add_boxes();
    box->set_account_id(ToString(a->account_id));
    box->set_user_key_generation(a->local.user_keys(0).generation());
    box->set_sealed_key(ToString(crypto::Seal(
        client::identity::UserBoxKeyPair(View(a->local.user_keys(0).seed())).public_key,
        epoch_key)));
  }
  return rekey;
}

v1::ControlBody RekeyBody(const Log& log, const Author& chair, const Author& member,
                          const SecretBytes& epoch_key, uint64_t epoch) {
  return RekeyBody(log, {&chair, &member}, epoch_key, epoch);
}

v1::ControlBody AppendStart(Log& log, Author& chair, Author& member, const SecretBytes& epoch_key) {
  v1::ControlBody create;
  for (const Author* a : {&chair, &member}) {
    v1::Member* m = create.mutable_create_case()->add_members();
    m->set_account_id(ToString(a->account_id));
    m->set_role(a == &chair ? v1::ROLE_CHAIR : v1::ROLE_MEMBER);
  }
  log.Append(chair, v1::OP_KIND_CREATE_CASE, &create, nullptr, {});
  v1::ControlBody rekey = RekeyBody(log, chair, member, epoch_key, 1);
  log.Append(chair, v1::OP_KIND_REKEY, &rekey, nullptr, {});
  return rekey;
}

void FillContext(client::VerifyContext& ctx, const Log& log, const Author& chair,
                 const Author& member, const std::vector<client::EpochKey>& keys) {
  ctx.server_public_key = log.server().public_key;
  ctx.me = &chair.local;
  ctx.chain_hash_at = [](uint64_t) -> Result<std::optional<Bytes>> {
    return std::optional<Bytes>();
  };
  ctx.chain_of = [&chair, &member](const Bytes& account, bool) -> Result<UserChain> {
    return account == chair.account_id ? chair.chain : member.chain;
  };
  ctx.epoch_key = [&keys](uint32_t, uint64_t) -> Result<std::optional<client::EpochKey>> {
    if (keys.empty()) return std::optional<client::EpochKey>();
    return std::optional<client::EpochKey>(keys[0]);
  };
}

}  // namespace kring::test
