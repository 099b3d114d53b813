// A case's log written by hand for the verifier's tests and fuzz target: accounts with their
// verified chains, ops signed and sealed as libkring does (client::SignEnvelope, SealEnvelope),
// and pull pages of them under a head signed by a server key the test holds. No network, no
// kringd, no Catch2 (the fuzz target links it too).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/user_chain.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/model.pb.h"
#include "kring/v1/sync.pb.h"

#include "sync/verifier.h"

namespace kring::test {

struct Author {
  v1::LocalAccount local;
  Bytes account_id;
  UserChain chain;
  uint64_t counter = 0;
  Bytes last_hash;
};

// A new account with one device, its chain verified.
Author NewAuthor();

// Writes signed ops of a case and serves them as pull pages with a signed head.
class Log {
 public:
  Log();

  const Bytes& case_id() const { return case_id_; }
  const crypto::SigningKeyPair& server() const { return server_; }
  const std::vector<v1::LogEntry>& entries() const { return entries_; }

  // Ops appended from now on say their authors saw the log up to its present head (as libkring
  // writes the head it has verified into every op of a push: one call per push).
  void SeeHead();

  // `sign` false: sealed but not signed, an op inside a push's unsigned run (docs/protocol.md
  // "Batch signatures"); the run's last op is signed.
  void Append(Author& a, v1::OpKind kind, const v1::ControlBody* control,
              const v1::ContentOp* content, ByteView epoch_key, uint64_t epoch = 1,
              bool sign = true);

  // The head a server signs for the `upto`-th entry (0: the empty log; at most the log's size).
  v1::Receipt Head(size_t upto) const;

  // Entries after `after` up to the newest, under a head signed for the newest.
  v1::PullResponse Page(size_t after) const;
  // Entries after `after` up to the `upto`-th, under a head signed for the `upto`-th (a server
  // that has not served the rest yet). `after` <= `upto` <= the log's size.
  v1::PullResponse Range(size_t after, size_t upto) const;
  // The first `n` entries only, under a head signed for the n-th.
  v1::PullResponse FirstPage(size_t n) const;

 private:
  Bytes case_id_;
  crypto::SigningKeyPair server_;
  std::vector<v1::LogEntry> entries_;
  Bytes prev_;
  std::optional<std::pair<uint64_t, Bytes>> seen_;
};

v1::ContentOp Note(const std::string& id, const std::string& text, bool create);
void AddCreate(v1::ContentOp& op, const std::string& id);
void AddText(v1::ContentOp& op, const std::string& id, const std::string& text);
void AddDelete(v1::ContentOp& op, const std::string& id);

// A Rekey of scope 0 to `epoch`, the key boxed for each of `recipients`.
v1::ControlBody RekeyBody(const Log& log, const std::vector<const Author*>& recipients,
                          const SecretBytes& epoch_key, uint64_t epoch);
// The same for the chair and the member.
v1::ControlBody RekeyBody(const Log& log, const Author& chair, const Author& member,
                          const SecretBytes& epoch_key, uint64_t epoch);

// The case's first two ops: the chair's CreateCase (chair and member) and its Rekey to epoch 1.
// Returns the Rekey's body.
v1::ControlBody AppendStart(Log& log, Author& chair, Author& member, const SecretBytes& epoch_key);

// What the sync engine hands VerifyPull, for a case of `chair` and `member` read on the chair's
// device: no stored chain hashes, their chains as given, `keys` (the first one) for any epoch.
void FillContext(client::VerifyContext& ctx, const Log& log, const Author& chair,
                 const Author& member, const std::vector<client::EpochKey>& keys);

}  // namespace kring::test
