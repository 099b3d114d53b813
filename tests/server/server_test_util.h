// Raw-stub helpers for kringd integration tests: accounts (device keys + Root link), sign-in,
// and signed envelopes built exactly as a client would.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/refusal.h"
#include "kring/v1/account.grpc.pb.h"
#include "kring/v1/sync.grpc.pb.h"

namespace kring::test {

struct Client {
  explicit Client(const std::string& address);
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AccountService::Stub> account;
  std::unique_ptr<v1::SyncService::Stub> sync;
};

// A context with a deadline and, when given, the session token.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = {});

struct TestAccount {
  crypto::SigningKeyPair signing;
  crypto::BoxKeyPair box;
  crypto::SigningKeyPair recovery;  // the recovery "paper device"
  Bytes device_id;
  Bytes account_id;
  v1::ChainLink root;
  std::string token;
};

// Keys and a signed Root link (recovery key and user key seed sealed to device and recovery).
TestAccount NewAccount();
// PublishChain + GetChallenge + SignIn; REQUIREs success.
TestAccount MakeAccount(Client& c);
grpc::Status Publish(Client& c, const TestAccount& a);
// The SignIn request that answers `ch` with `a`'s device key.
v1::SignInRequest SignInRequestFor(const TestAccount& a, const v1::ChallengeResponse& ch);
grpc::Status SignIn(Client& c, TestAccount& a);
// The device revokes itself: a RevokeDevice link at index 1 (any active device of the account
// may sign one) and, as kringd requires, a new user key (generation 2) right after it, signed by
// the recovery key. REQUIREs that kringd takes it.
void RevokeSelf(Client& c, const TestAccount& a);
// The rotation link's body: a user key `generation` (its seed sealed to a throwaway key; kringd
// checks only the form).
void FillRotateUserKey(v1::LinkBody& body, const TestAccount& a, uint32_t generation);
// The user key generation OpBuilder boxes an account's keys to: 1 until a test's rotation of it.
void RecordUserKeyGeneration(const Bytes& account_id, uint32_t generation);
uint32_t UserKeyGenerationOf(const Bytes& account_id);

// Builds this device's ops for one case, keeping the per-device counter and previous-op hash.
class OpBuilder {
 public:
  OpBuilder(const TestAccount& author, Bytes case_id)
      : author_(author), case_id_(std::move(case_id)) {}
  using Tweak = std::function<void(v1::OpHeader&)>;

  v1::Envelope CreateCase(const std::vector<std::pair<Bytes, v1::Role>>& members,
                          const Tweak& tweak = {});
  v1::Envelope Rekey(uint64_t new_epoch, const std::vector<Bytes>& recipients,
                     const Tweak& tweak = {});
  // A Rekey of a restricted scope (Rekey above: scope 0).
  v1::Envelope ScopeRekey(uint32_t scope, uint64_t new_epoch, const std::vector<Bytes>& recipients,
                          const Tweak& tweak = {});
  v1::Envelope Content(uint64_t epoch, const Tweak& tweak = {});
  // Any control op with this body, in `scope` under `epoch`.
  v1::Envelope Control(v1::OpKind kind, uint32_t scope, uint64_t epoch, const v1::ControlBody& body,
                       const Tweak& tweak = {});
  // Call after the server accepted an envelope from this builder.
  void Accepted(const v1::Envelope& env);
  // For a push of several ops: `env` appended to `push`, and taken as accepted so that the next
  // op continues it.
  void AddTo(std::vector<v1::Envelope>& push, v1::Envelope env);

  const Bytes& case_id() const { return case_id_; }

 private:
  v1::Envelope Build(v1::OpKind kind, uint32_t scope, uint64_t epoch, std::string control,
                     const Tweak& tweak);
  const TestAccount& author_;
  Bytes case_id_;
  uint64_t counter_ = 0;
  Bytes prev_hash_;
};

// Signs (header, body) as the author: used after tampering with an envelope.
void Resign(v1::Envelope& env, const TestAccount& author);

grpc::Status Push(Client& c, const std::string& token, const Bytes& case_id,
                  const std::vector<v1::Envelope>& envs, v1::PushResponse* out = nullptr);
grpc::Status Pull(Client& c, const std::string& token, const Bytes& case_id, uint64_t after_seq,
                  const std::string& after_hash, v1::PullResponse* out, uint32_t limit = 0);
// The refusal reason in a status's details (kring/common/refusal.h), or "" without one.
std::string RefusalReason(const grpc::Status& status);
// The whole log of the case as `reader` pulls it, checked as a reading device checks it: seqs
// 1, 2, ... without a gap, each chain hash continuing the one before over its entry's envelope
// and the head's the last one's, each signature valid under `author`'s key, and the ops
// continuing `author`'s device chain (counter + 1, the previous op's envelope hash). For cases
// whose every op is `author`'s device's.
std::vector<v1::LogEntry> VerifiedLog(Client& c, const TestAccount& reader,
                                      const TestAccount& author, const Bytes& case_id);
// The envelope's client_op_id (REQUIREs a readable header).
std::string ClientOpId(const v1::Envelope& env);
// Head seq as seen by Pull (REQUIREs success).
uint64_t HeadSeq(Client& c, const std::string& token, const Bytes& case_id);

// Creates a case with `author` as chair plus `others` as members and rekeys it to epoch 1.
OpBuilder CreateKeyedCase(Client& c, const TestAccount& author,
                          const std::vector<const TestAccount*>& others = {});

}  // namespace kring::test
