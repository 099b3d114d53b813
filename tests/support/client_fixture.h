// Devices for integration tests: a real libkring client with its own local store, talking to a
// real kringd through the gRPC transport (optionally wrapped to play a lying server).
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kring/client.h"
#include "kring/transport.h"

#include "support/temp_dir.h"
#include "support/test_server.h"

namespace kring::test {

// A transport to a TestServer that follows it across restarts (the port may change).
std::shared_ptr<client::Transport> ServerTransport(TestServer& server);

// Forwards to another transport and lets a test rewrite what the "server" returns.
class TamperTransport : public client::Transport {
 public:
  explicit TamperTransport(std::shared_ptr<client::Transport> inner) : inner_(std::move(inner)) {}

  // Called with the request and the real response; may rewrite the response.
  std::function<void(const v1::PullRequest&, v1::PullResponse&)> on_pull;
  // Called before the push reaches the server; may rewrite the request (a corrupting network).
  std::function<void(v1::PushRequest&)> before_push;
  // Called with the request and the real push response; may rewrite the response (a server
  // that lies at push time).
  std::function<void(const v1::PushRequest&, v1::PushResponse&)> on_push;
  // Called with the real list of cases; may rewrite it (a server listing a case it then refuses).
  std::function<void(v1::ListCasesResponse&)> on_list_cases;
  // Called after the real push; return a non-OK status to lose the response.
  std::function<Status(const v1::PushRequest&, const v1::PushResponse&)> after_push;
  // While set, pushes fail as UNAVAILABLE before reaching the server (the network drops out
  // between sealing and sending).
  std::atomic<bool> fail_pushes{false};
  // While set, pulls fail as UNAVAILABLE before reaching the server (the network drops out in
  // the middle of a catch-up).
  std::atomic<bool> fail_pulls{false};
  // While non-zero, pulls ask for at most this many entries (a reader with small pages).
  std::atomic<uint32_t> pull_limit{0};
  // How many pulls this device sent (answered or refused).
  std::atomic<int> pulls{0};
  // The session token of the last call that carried one (tests that act as this device).
  std::string last_token() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_token_;
  }

  Result<v1::ServerInfo> GetServerInfo() override { return inner_->GetServerInfo(); }
  Result<v1::PublishChainResponse> PublishChain(const v1::PublishChainRequest& r) override {
    return inner_->PublishChain(r);
  }
  Result<v1::GetChainResponse> GetChain(const v1::GetChainRequest& r,
                                        const std::string& t) override {
    return inner_->GetChain(r, t);
  }
  Result<v1::ChallengeResponse> GetChallenge(const v1::ChallengeRequest& r) override {
    return inner_->GetChallenge(r);
  }
  Result<v1::SignInResponse> SignIn(const v1::SignInRequest& r) override {
    return inner_->SignIn(r);
  }
  Result<v1::PushResponse> Push(const v1::PushRequest& r, const std::string& t) override;
  Result<v1::PullResponse> Pull(const v1::PullRequest& r, const std::string& t) override;
  // As Pull, but through the inner transport's PullInto, so a catch-up's pages are parsed onto
  // their arenas as with the real transport; on_pull rewrites them in place.
  Status PullInto(const v1::PullRequest& r, const std::string& t, v1::PullResponse& out) override;
  Result<v1::ListCasesResponse> ListCases(const std::string& t) override {
    auto listed = inner_->ListCases(t);
    if (listed.ok() && on_list_cases) on_list_cases(*listed);
    return listed;
  }
  std::unique_ptr<client::Subscription> Subscribe(
      const std::string& t, std::function<void(const v1::Poke&)> on_poke,
      std::function<void(const Status&)> on_end) override {
    return inner_->Subscribe(t, std::move(on_poke), std::move(on_end));
  }

 private:
  void Remember(const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    last_token_ = token;
  }
  std::shared_ptr<client::Transport> inner_;
  std::mutex mu_;
  std::string last_token_;
};

// What a malicious server does after rewriting entries: recompute the chain hashes from the
// cursor and sign a matching head with the server's own key, so only end-to-end checks can tell.
void Rechain(const v1::PullRequest& req, v1::PullResponse& resp, ByteView server_secret_key);

// One device of one account.
class Device {
 public:
  Device(std::shared_ptr<client::Transport> transport, bool background_sync = false);
  // A fresh device without an account yet (to be linked to one, or restored).
  struct Fresh {};
  Device(std::shared_ptr<client::Transport> transport, Fresh, bool background_sync = false);
  // After linking or restoring: the account this device now belongs to.
  void set_account_id(Bytes id) { account_id_ = std::move(id); }
  // Closes the client (no sync) and opens the same local store again.
  void Reopen();
  // Reopens the client so that a catch-up commits after about `entries` entries instead of
  // 10,000 (ClientOptions::entries_per_commit_for_tests); kept across later reopens.
  void ReopenWithEntriesPerCommit(size_t entries);
  void Close() { client_.reset(); }
  client::Client& operator*() { return *client_; }
  client::Client* operator->() { return client_.get(); }
  const Bytes& account_id() const { return account_id_; }
  // The recovery key CreateAccount showed (empty for a Fresh device).
  const std::string& recovery_key() const { return recovery_key_; }
  const std::string& db_path() const { return db_path_; }
  const SecretBytes& storage_key() const { return storage_key_; }

 private:
  void Open();
  TempDir dir_;
  std::string db_path_;
  SecretBytes storage_key_;
  std::shared_ptr<client::Transport> transport_;
  bool background_;
  size_t entries_per_commit_ = 0;
  std::unique_ptr<client::Client> client_;
  Bytes account_id_;
  std::string recovery_key_;
};

// A case of two members on one kringd: `writer` edits through `wire` (a TamperTransport, or a
// subclass of it that a test needs), `reader` reads through `reader_wire`; both are synced once.
template <class Wire = TamperTransport>
struct WriterReaderCase {
  TestServer server;
  std::shared_ptr<client::Transport> net = ServerTransport(server);
  std::shared_ptr<Wire> wire = std::make_shared<Wire>(net);
  std::shared_ptr<TamperTransport> reader_wire = std::make_shared<TamperTransport>(net);
  Device writer{wire};
  Device reader{reader_wire};
  Bytes case_id;

  WriterReaderCase() {
    auto cid = writer->CreateCase({{reader.account_id(), v1::ROLE_MEMBER}});
    if (!cid.ok()) throw std::runtime_error("test case could not be created");
    case_id = *cid;
    if (!writer->SyncNow().ok() || !reader->SyncNow().ok()) {
      throw std::runtime_error("test case could not be synced");
    }
  }

  // n notes created by the writer (queued, not synced); their entity ids.
  std::vector<Bytes> Edit(int n) {
    std::vector<Bytes> ids;
    for (int i = 0; i < n; ++i) {
      auto id = writer->CreateEntity(case_id, "note");
      if (!id.ok()) throw std::runtime_error("note could not be queued");
      ids.push_back(*id);
    }
    return ids;
  }
};

// Syncs the devices in this order, `rounds` times (in a second round the devices early in the
// order receive what the later ones pushed). Throws when a sync fails.
void SyncAll(std::initializer_list<Device*> devices, int rounds = 2);

v1::Value Text(const std::string& s);
v1::Value Blob(const Bytes& b);
// Raw content mutations, for edits a modified client could send (Client::Submit).
v1::Mutation CreateMutation(const Bytes& id, const std::string& type);
v1::Mutation SetMutation(const Bytes& id, const std::string& field, const v1::Value& value);
// Files under dir (recursively) whose bytes contain needle.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle);

}  // namespace kring::test
