#include "server/server_test_util.h"

#include <chrono>
#include <map>
#include <mutex>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"

namespace kring::test {

Client::Client(const std::string& address)
    : channel(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      account(v1::AccountService::NewStub(channel)),
      sync(v1::SyncService::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

TestAccount NewAccount() {
  TestAccount a;
  a.signing = crypto::NewSigningKeyPair();
  a.box = crypto::NewBoxKeyPair();
  a.device_id = protocol::DeviceId(a.signing.public_key);
  a.recovery = crypto::NewSigningKeyPair();
  const crypto::SigningKeyPair& recovery_sign = a.recovery;
  crypto::BoxKeyPair recovery_box = crypto::NewBoxKeyPair();
  SecretBytes seed = crypto::RandomSecret(32);
  crypto::BoxKeyPair uk_box = crypto::BoxKeyPairFromSeed(crypto::DeriveKey(seed, 1, "kringusk"));
  crypto::SigningKeyPair uk_sign =
      crypto::SigningKeyPairFromSeed(crypto::DeriveKey(seed, 2, "kringusk"));

  v1::LinkBody body;
  body.set_version(1);
  body.set_index(0);
  body.set_signer_device_id(ToString(a.device_id));
  body.set_created_at_ms(1);
  v1::RootLink* root = body.mutable_root();
  root->mutable_device()->set_signing_public_key(ToString(a.signing.public_key));
  root->mutable_device()->set_box_public_key(ToString(a.box.public_key));
  root->mutable_recovery()->set_signing_public_key(ToString(recovery_sign.public_key));
  root->mutable_recovery()->set_box_public_key(ToString(recovery_box.public_key));
  v1::UserKeyGeneration* uk = root->mutable_user_key();
  uk->set_generation(1);
  uk->set_box_public_key(ToString(uk_box.public_key));
  uk->set_signing_public_key(ToString(uk_sign.public_key));
  v1::SealedSeed* s1 = uk->add_sealed_seeds();
  s1->set_recipient_id(ToString(a.device_id));
  s1->set_sealed(ToString(crypto::Seal(a.box.public_key, seed)));
  v1::SealedSeed* s2 = uk->add_sealed_seeds();
  s2->set_recipient_id(ToString(protocol::DeviceId(recovery_sign.public_key)));
  s2->set_sealed(ToString(crypto::Seal(recovery_box.public_key, seed)));

  a.root.set_body(body.SerializeAsString());
  a.root.set_signature(
      ToString(crypto::Sign(a.signing.secret_key, protocol::LinkSignInput(View(a.root.body())))));
  a.account_id = protocol::AccountId(protocol::LinkHash(View(a.root.body())));
  return a;
}

grpc::Status Publish(Client& c, const TestAccount& a) {
  v1::PublishChainRequest req;
  req.set_account_id(ToString(a.account_id));
  *req.add_links() = a.root;
  v1::PublishChainResponse resp;
  return c.account->PublishChain(Ctx().get(), req, &resp);
}

namespace {
std::mutex g_generations_mu;
std::map<Bytes, uint32_t> g_generations;  // accounts whose user key rotated
}  // namespace

void RecordUserKeyGeneration(const Bytes& account_id, uint32_t generation) {
  std::lock_guard<std::mutex> lock(g_generations_mu);
  g_generations[account_id] = generation;
}

uint32_t UserKeyGenerationOf(const Bytes& account_id) {
  std::lock_guard<std::mutex> lock(g_generations_mu);
  auto it = g_generations.find(account_id);
  return it == g_generations.end() ? 1 : it->second;
}

void FillRotateUserKey(v1::LinkBody& body, const TestAccount& a, uint32_t generation) {
  v1::UserKeyGeneration* uk = body.mutable_rotate_user_key()->mutable_user_key();
  uk->set_generation(generation);
  uk->set_box_public_key(ToString(crypto::NewBoxKeyPair().public_key));
  uk->set_signing_public_key(ToString(crypto::NewSigningKeyPair().public_key));
  v1::SealedSeed* seed = uk->add_sealed_seeds();
  seed->set_recipient_id(ToString(protocol::DeviceId(a.recovery.public_key)));
  seed->set_sealed(ToString(
      crypto::Seal(crypto::NewBoxKeyPair().public_key, crypto::RandomSecret(crypto::kKeyBytes))));
}

void RevokeSelf(Client& c, const TestAccount& a) {
  v1::PublishChainRequest pub;
  pub.set_account_id(ToString(a.account_id));
  Bytes prev = protocol::LinkHash(View(a.root.body()));
  for (uint64_t index : {uint64_t{1}, uint64_t{2}}) {
    v1::LinkBody body;
    body.set_version(1);
    body.set_index(index);
    body.set_prev_link_hash(ToString(prev));
    // The device revokes itself; the recovery key, still active, signs the new user key.
    const crypto::SigningKeyPair& signer = index == 1 ? a.signing : a.recovery;
    body.set_signer_device_id(ToString(protocol::DeviceId(signer.public_key)));
    if (index == 1) {
      body.mutable_revoke_device()->set_device_id(ToString(a.device_id));
    } else {
      FillRotateUserKey(body, a, 2);
    }
    v1::ChainLink* link = pub.add_links();
    link->set_body(body.SerializeAsString());
    link->set_signature(
        ToString(crypto::Sign(signer.secret_key, protocol::LinkSignInput(View(link->body())))));
    prev = protocol::LinkHash(View(link->body()));
  }
  v1::PublishChainResponse published;
  grpc::Status s = c.account->PublishChain(Ctx().get(), pub, &published);
  REQUIRE(s.error_message() == "");
  RecordUserKeyGeneration(a.account_id, 2);
}

v1::SignInRequest SignInRequestFor(const TestAccount& a, const v1::ChallengeResponse& ch) {
  v1::SignInRequest req;
  req.set_device_id(ToString(a.device_id));
  req.set_challenge(ch.challenge());
  req.set_signature(ToString(crypto::Sign(
      a.signing.secret_key,
      protocol::AuthSignInput(View(ch.server_id()), View(ch.challenge()), a.device_id))));
  return req;
}

grpc::Status SignIn(Client& c, TestAccount& a) {
  v1::ChallengeRequest creq;
  creq.set_device_id(ToString(a.device_id));
  v1::ChallengeResponse ch;
  grpc::Status s = c.account->GetChallenge(Ctx().get(), creq, &ch);
  if (!s.ok()) return s;
  v1::SignInResponse resp;
  s = c.account->SignIn(Ctx().get(), SignInRequestFor(a, ch), &resp);
  if (s.ok()) a.token = resp.session_token();
  return s;
}

TestAccount MakeAccount(Client& c) {
  TestAccount a = NewAccount();
  grpc::Status s = Publish(c, a);
  REQUIRE(s.error_message() == "");
  s = SignIn(c, a);
  REQUIRE(s.error_message() == "");
  return a;
}

void Resign(v1::Envelope& env, const TestAccount& author) {
  env.set_signature(ToString(crypto::Sign(author.signing.secret_key, protocol::OpDigest(env))));
}

v1::Envelope OpBuilder::Build(v1::OpKind kind, uint32_t scope, uint64_t epoch, std::string control,
                              const Tweak& tweak) {
  v1::OpHeader h;
  h.set_version(1);
  h.set_case_id(ToString(case_id_));
  h.set_scope_id(scope);
  h.set_epoch(epoch);
  h.set_author_account_id(ToString(author_.account_id));
  h.set_author_device_id(ToString(author_.device_id));
  h.set_device_counter(counter_ + 1);
  h.set_prev_device_op_hash(ToString(prev_hash_));
  // As libkring's: the device's counter in the case, big-endian, then 8 random bytes, so a
  // builder's ids rise (kringd takes an id above the device's earlier ones as new at once).
  std::string client_op_id(8, '\0');
  for (size_t i = 0; i < 8; ++i) {
    client_op_id[7 - i] = static_cast<char>(((counter_ + 1) >> (8 * i)) & 0xff);
  }
  h.set_client_op_id(client_op_id + ToString(crypto::RandomBytes(8)));
  h.set_kind(kind);
  h.set_created_at_ms(1);
  if (tweak) tweak(h);
  v1::Envelope env;
  env.set_header(h.SerializeAsString());
  if (kind == v1::OP_KIND_CONTENT) {
    env.set_nonce(ToString(crypto::RandomBytes(24)));
    env.set_key_commitment(ToString(crypto::RandomBytes(32)));
    env.set_ciphertext(ToString(crypto::RandomBytes(272)));
  } else {
    env.set_control_body(std::move(control));
  }
  Resign(env, author_);
  return env;
}

v1::Envelope OpBuilder::CreateCase(const std::vector<std::pair<Bytes, v1::Role>>& members,
                                   const Tweak& tweak) {
  v1::ControlBody body;
  for (const auto& [id, role] : members) {
    v1::Member* m = body.mutable_create_case()->add_members();
    m->set_account_id(ToString(id));
    m->set_role(role);
  }
  return Build(v1::OP_KIND_CREATE_CASE, 0, 1, body.SerializeAsString(), tweak);
}

v1::Envelope OpBuilder::Rekey(uint64_t new_epoch, const std::vector<Bytes>& recipients,
                              const Tweak& tweak) {
  return ScopeRekey(0, new_epoch, recipients, tweak);
}

v1::Envelope OpBuilder::ScopeRekey(uint32_t scope, uint64_t new_epoch,
                                   const std::vector<Bytes>& recipients, const Tweak& tweak) {
  v1::ControlBody body;
  v1::Rekey* r = body.mutable_rekey();
  r->set_scope_id(scope);
  r->set_new_epoch(new_epoch);
  r->set_key_commitment(ToString(crypto::RandomBytes(32)));
  for (const Bytes& id : recipients) {
    r->add_recipients(ToString(id));
    v1::KeyBox* box = r->add_boxes();
    box->set_account_id(ToString(id));
    box->set_user_key_generation(UserKeyGenerationOf(id));
    box->set_sealed_key(ToString(crypto::RandomBytes(80)));
  }
  return Build(v1::OP_KIND_REKEY, scope, new_epoch, body.SerializeAsString(), tweak);
}

v1::Envelope OpBuilder::Control(v1::OpKind kind, uint32_t scope, uint64_t epoch,
                                const v1::ControlBody& body, const Tweak& tweak) {
  return Build(kind, scope, epoch, body.SerializeAsString(), tweak);
}

v1::Envelope OpBuilder::Content(uint64_t epoch, const Tweak& tweak) {
  return Build(v1::OP_KIND_CONTENT, 0, epoch, {}, tweak);
}

void OpBuilder::Accepted(const v1::Envelope& env) {
  ++counter_;
  prev_hash_ = protocol::EnvelopeHash(env);
}

void OpBuilder::AddTo(std::vector<v1::Envelope>& push, v1::Envelope env) {
  Accepted(env);
  push.push_back(std::move(env));
}

grpc::Status Push(Client& c, const std::string& token, const Bytes& case_id,
                  const std::vector<v1::Envelope>& envs, v1::PushResponse* out) {
  v1::PushRequest req;
  req.set_case_id(ToString(case_id));
  for (const auto& e : envs) *req.add_envelopes() = e;
  v1::PushResponse resp;
  return c.sync->Push(Ctx(token).get(), req, out ? out : &resp);
}

grpc::Status Pull(Client& c, const std::string& token, const Bytes& case_id, uint64_t after_seq,
                  const std::string& after_hash, v1::PullResponse* out, uint32_t limit) {
  v1::PullRequest req;
  req.set_case_id(ToString(case_id));
  req.set_after_seq(after_seq);
  req.set_after_chain_hash(after_hash);
  req.set_limit(limit);
  return c.sync->Pull(Ctx(token).get(), req, out);
}

std::string RefusalReason(const grpc::Status& status) {
  return refusal::DecodeDetails(status.error_details());
}

std::vector<v1::LogEntry> VerifiedLog(Client& c, const TestAccount& reader,
                                      const TestAccount& author, const Bytes& case_id) {
  v1::PullResponse pull;
  REQUIRE(Pull(c, reader.token, case_id, 0, "", &pull).error_message() == "");
  std::vector<v1::LogEntry> log(pull.entries().begin(), pull.entries().end());
  REQUIRE(pull.head().seq() == log.size());
  Bytes chain;
  Bytes prev_envelope;
  for (size_t i = 0; i < log.size(); ++i) {
    const v1::LogEntry& e = log[i];
    INFO("entry " << i);
    CHECK(e.seq() == i + 1);
    chain = protocol::ChainHash(chain, e.seq(), protocol::EnvelopeHash(e.envelope()));
    CHECK(ToBytes(e.chain_hash()) == chain);
    CHECK(crypto::Verify(author.signing.public_key, protocol::OpDigest(e.envelope()),
                         ToBytes(e.envelope().signature())));
    v1::OpHeader h;
    REQUIRE(h.ParseFromString(e.envelope().header()));
    CHECK(h.device_counter() == i + 1);
    CHECK(ToBytes(h.prev_device_op_hash()) == prev_envelope);
    prev_envelope = protocol::EnvelopeHash(e.envelope());
  }
  CHECK(ToBytes(pull.head().chain_hash()) == chain);
  return log;
}

std::string ClientOpId(const v1::Envelope& env) {
  v1::OpHeader h;
  REQUIRE(h.ParseFromString(env.header()));
  return h.client_op_id();
}

uint64_t HeadSeq(Client& c, const std::string& token, const Bytes& case_id) {
  v1::PullResponse resp;
  grpc::Status s = Pull(c, token, case_id, 0, {}, &resp, 1);
  REQUIRE(s.error_message() == "");
  return resp.head().seq();
}

OpBuilder CreateKeyedCase(Client& c, const TestAccount& author,
                          const std::vector<const TestAccount*>& others) {
  OpBuilder b(author, crypto::RandomBytes(16));
  std::vector<std::pair<Bytes, v1::Role>> members = {{author.account_id, v1::ROLE_CHAIR}};
  std::vector<Bytes> recipients = {author.account_id};
  for (const TestAccount* o : others) {
    members.emplace_back(o->account_id, v1::ROLE_MEMBER);
    recipients.push_back(o->account_id);
  }
  v1::Envelope create = b.CreateCase(members);
  b.Accepted(create);
  v1::Envelope rekey = b.Rekey(1, recipients);
  b.Accepted(rekey);
  grpc::Status s = Push(c, author.token, b.case_id(), {create, rekey});
  REQUIRE(s.error_message() == "");
  return b;
}

}  // namespace kring::test
