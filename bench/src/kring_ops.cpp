#include "kring_ops.h"

#include <chrono>
#include <stdexcept>

#include "kring/common/protocol.h"

#include "crypto/identity.h"
#include "sync/sync_engine.h"

namespace kring::bench {

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

KringConn::KringConn(const std::string& address)
    : channel(NewChannel(address)),
      account(v1::AccountService::NewStub(channel)),
      sync(v1::SyncService::NewStub(channel)) {}

FloorConn::FloorConn(const std::string& address)
    : channel(NewChannel(address)), relay(floorrelay::v1::Relay::NewStub(channel)) {}

Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return {};
  return Status(
      StatusCode::kUnavailable,
      "grpc " + std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message());
}

BenchAccount NewAccount() {
  // Exactly what libkring's Client::CreateAccount does, without a local store.
  client::identity::CreatedAccount created = client::identity::CreateAccount(1700000000000);
  BenchAccount a;
  a.local = std::move(created.local);
  a.root = std::move(created.root);
  a.account_id = protocol::AccountId(protocol::LinkHash(View(a.root.body())));
  a.device_id = ToBytes(a.local.device_id());
  a.user_box_public_key =
      client::identity::UserBoxKeyPair(View(a.local.user_keys(0).seed())).public_key;
  return a;
}

void PublishAndSignIn(KringConn& conn, BenchAccount& a) {
  v1::PublishChainRequest pub;
  pub.set_account_id(ToString(a.account_id));
  *pub.add_links() = a.root;
  v1::PublishChainResponse pub_resp;
  grpc::Status s = conn.account->PublishChain(Ctx().get(), pub, &pub_resp);
  if (!s.ok()) throw std::runtime_error("PublishChain: " + s.error_message());
  v1::ChallengeRequest creq;
  creq.set_device_id(ToString(a.device_id));
  v1::ChallengeResponse ch;
  s = conn.account->GetChallenge(Ctx().get(), creq, &ch);
  if (!s.ok()) throw std::runtime_error("GetChallenge: " + s.error_message());
  v1::SignInRequest req;
  req.set_device_id(ToString(a.device_id));
  req.set_challenge(ch.challenge());
  req.set_signature(ToString(crypto::Sign(
      View(a.local.device_signing_secret_key()),
      protocol::AuthSignInput(View(ch.server_id()), View(ch.challenge()), a.device_id))));
  v1::SignInResponse resp;
  s = conn.account->SignIn(Ctx().get(), req, &resp);
  if (!s.ok()) throw std::runtime_error("SignIn: " + s.error_message());
  a.token = resp.session_token();
}

v1::OpHeader DeviceWriter::Header(v1::OpKind kind, uint64_t epoch, uint64_t seen_seq,
                                  const std::string& seen_hash) {
  v1::OpHeader h;
  h.set_version(protocol::kVersion);
  h.set_case_id(ToString(case_id_));
  h.set_scope_id(0);
  h.set_epoch(epoch);
  h.set_author_account_id(ToString(author_->account_id));
  h.set_author_device_id(ToString(author_->device_id));
  h.set_device_counter(counter_ + 1);
  h.set_prev_device_op_hash(ToString(prev_hash_));
  // As libkring draws them (LocalStore::NewClientOpId): a rising big-endian counter, then
  // random bytes.
  std::string client_op_id = ToString(crypto::RandomBytes(16));
  for (size_t i = 0; i < 8; ++i) {
    client_op_id[i] = static_cast<char>(static_cast<uint8_t>((counter_ + 1) >> (56 - 8 * i)));
  }
  h.set_client_op_id(client_op_id);
  h.set_seen_seq(seen_seq);
  h.set_seen_hash(seen_hash);
  h.set_kind(kind);
  h.set_created_at_ms(1700000000000);
  return h;
}

v1::Envelope DeviceWriter::Advance(v1::Envelope env) {
  ++counter_;
  prev_hash_ = protocol::EnvelopeHash(env);
  return env;
}

v1::Envelope DeviceWriter::CreateCase(const std::vector<std::pair<Bytes, v1::Role>>& members) {
  v1::ControlBody body;
  for (const auto& [id, role] : members) {
    v1::Member* m = body.mutable_create_case()->add_members();
    m->set_account_id(ToString(id));
    m->set_role(role);
  }
  v1::OpHeader h = Header(v1::OP_KIND_CREATE_CASE, 1, 0, {});
  return Advance(client::SignEnvelope(author_->local, h, &body, nullptr, {}));
}

v1::Envelope DeviceWriter::Rekey(uint64_t new_epoch, const std::vector<Recipient>& recipients,
                                 ByteView epoch_key) {
  v1::ControlBody body;
  v1::Rekey* r = body.mutable_rekey();
  r->set_scope_id(0);
  r->set_new_epoch(new_epoch);
  r->set_key_commitment(ToString(protocol::EpochKeyCommitment(epoch_key, case_id_, 0, new_epoch)));
  for (const Recipient& rc : recipients) {
    r->add_recipients(ToString(rc.account_id));
    v1::KeyBox* box = r->add_boxes();
    box->set_account_id(ToString(rc.account_id));
    box->set_user_key_generation(1);
    box->set_sealed_key(ToString(crypto::Seal(rc.user_box_public_key, epoch_key)));
  }
  v1::OpHeader h = Header(v1::OP_KIND_REKEY, new_epoch, 0, {});
  return Advance(client::SignEnvelope(author_->local, h, &body, nullptr, {}));
}

v1::Envelope DeviceWriter::Content(uint64_t epoch, ByteView epoch_key, const v1::ContentOp& content,
                                   uint64_t seen_seq, const std::string& seen_hash, bool sign) {
  v1::OpHeader h = Header(v1::OP_KIND_CONTENT, epoch, seen_seq, seen_hash);
  v1::Envelope env = client::SealEnvelope(h, nullptr, &content, epoch_key);
  if (sign) client::SignSealed(author_->local, env);
  return Advance(std::move(env));
}

v1::ContentOp NoteOp(size_t bytes) {
  v1::ContentOp op;
  op.set_version(1);
  // A scope-0 entity id starts with 4 zero bytes (the reducer's scope prefix rule).
  std::string id = ToString(crypto::RandomBytes(16));
  id.replace(0, 4, 4, '\0');
  v1::CreateEntity* ce = op.add_mutations()->mutable_create_entity();
  ce->set_entity_id(id);
  ce->set_type("note");
  v1::SetField* sf = op.add_mutations()->mutable_set_field();
  sf->set_entity_id(id);
  sf->set_field("text");
  size_t fixed = op.ByteSizeLong() + 8;  // tags and lengths of value and text
  sf->mutable_value()->set_text(std::string(bytes > fixed ? bytes - fixed : 1, 'n'));
  return op;
}

}  // namespace kring::bench
