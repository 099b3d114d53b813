#include "support/client_fixture.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring::test {
namespace {

class FollowingTransport : public client::Transport {
 public:
  explicit FollowingTransport(TestServer& server) : server_(server) {}

  Result<v1::ServerInfo> GetServerInfo() override { return Cur()->GetServerInfo(); }
  Result<v1::PublishChainResponse> PublishChain(const v1::PublishChainRequest& r) override {
    return Cur()->PublishChain(r);
  }
  Result<v1::GetChainResponse> GetChain(const v1::GetChainRequest& r,
                                        const std::string& t) override {
    return Cur()->GetChain(r, t);
  }
  Result<v1::ChallengeResponse> GetChallenge(const v1::ChallengeRequest& r) override {
    return Cur()->GetChallenge(r);
  }
  Result<v1::SignInResponse> SignIn(const v1::SignInRequest& r) override {
    return Cur()->SignIn(r);
  }
  Result<v1::PushResponse> Push(const v1::PushRequest& r, const std::string& t) override {
    return Cur()->Push(r, t);
  }
  Result<v1::PullResponse> Pull(const v1::PullRequest& r, const std::string& t) override {
    return Cur()->Pull(r, t);
  }
  Status PullInto(const v1::PullRequest& r, const std::string& t, v1::PullResponse& out) override {
    return Cur()->PullInto(r, t, out);
  }
  Result<v1::ListCasesResponse> ListCases(const std::string& t) override {
    return Cur()->ListCases(t);
  }
  std::unique_ptr<client::Subscription> Subscribe(
      const std::string& t, std::function<void(const v1::Poke&)> on_poke,
      std::function<void(const Status&)> on_end) override {
    return Cur()->Subscribe(t, std::move(on_poke), std::move(on_end));
  }

 private:
  std::shared_ptr<client::Transport> Cur() {
    std::lock_guard<std::mutex> lock(mu_);
    if (server_.address() != address_ || !current_) {
      address_ = server_.address();
      // 15 s per call: on a loaded 2-core machine (ctest -j2, an ASan build, other builds) a
      // call has taken longer than the 3 s this was before; no test waits for a deadline.
      current_ = client::MakeGrpcTransport(address_, {15000, {}});
    }
    return current_;
  }
  TestServer& server_;
  std::mutex mu_;
  std::string address_;
  std::shared_ptr<client::Transport> current_;
};

}  // namespace

std::shared_ptr<client::Transport> ServerTransport(TestServer& server) {
  return std::make_shared<FollowingTransport>(server);
}

Result<v1::PushResponse> TamperTransport::Push(const v1::PushRequest& r, const std::string& t) {
  Remember(t);
  if (fail_pushes) return Status(StatusCode::kUnavailable, "no network");
  v1::PushRequest req = r;
  if (before_push) before_push(req);
  auto resp = inner_->Push(req, t);
  if (resp.ok() && on_push) on_push(req, resp.value());
  if (resp.ok() && after_push) {
    Status s = after_push(req, resp.value());
    if (!s.ok()) return s;
  }
  return resp;
}

Result<v1::PullResponse> TamperTransport::Pull(const v1::PullRequest& r, const std::string& t) {
  Remember(t);
  ++pulls;
  if (fail_pulls) return Status(StatusCode::kUnavailable, "no network");
  v1::PullRequest req = r;
  if (pull_limit != 0) req.set_limit(pull_limit);
  auto resp = inner_->Pull(req, t);
  if (resp.ok() && on_pull) on_pull(req, resp.value());
  return resp;
}

Status TamperTransport::PullInto(const v1::PullRequest& r, const std::string& t,
                                 v1::PullResponse& out) {
  Remember(t);
  ++pulls;
  if (fail_pulls) return Status(StatusCode::kUnavailable, "no network");
  v1::PullRequest req = r;
  if (pull_limit != 0) req.set_limit(pull_limit);
  KRING_RETURN_IF_ERROR(inner_->PullInto(req, t, out));
  if (on_pull) on_pull(req, out);
  return Status();
}

void Rechain(const v1::PullRequest& req, v1::PullResponse& resp, ByteView server_secret_key) {
  Bytes chain = ToBytes(req.after_chain_hash());
  uint64_t seq = req.after_seq();
  for (auto& e : *resp.mutable_entries()) {
    e.set_seq(++seq);
    chain = protocol::ChainHash(chain, seq, protocol::EnvelopeHash(e.envelope()));
    e.set_chain_hash(ToString(chain));
  }
  *resp.mutable_head() = protocol::MakeReceipt(View(resp.head().case_id()), seq, chain,
                                               resp.head().time_ms(), server_secret_key);
}

Device::Device(std::shared_ptr<client::Transport> transport, bool background_sync)
    : db_path_(dir_.path() + "/kring.db"),
      storage_key_(crypto::RandomSecret(32)),
      transport_(std::move(transport)),
      background_(background_sync) {
  Open();
  auto created = client_->CreateAccount();
  if (!created.ok()) throw std::runtime_error("CreateAccount: " + created.status().ToString());
  account_id_ = created->info.account_id;
  recovery_key_ = created->recovery_key;
}

Device::Device(std::shared_ptr<client::Transport> transport, Fresh, bool background_sync)
    : db_path_(dir_.path() + "/kring.db"),
      storage_key_(crypto::RandomSecret(32)),
      transport_(std::move(transport)),
      background_(background_sync) {
  Open();
}

void Device::Open() {
  client::ClientOptions options;
  options.db_path = db_path_;
  options.storage_key = storage_key_;
  options.transport = transport_;
  options.background_sync = background_;
  options.entries_per_commit_for_tests = entries_per_commit_;
  auto opened = client::Client::Open(std::move(options));
  if (!opened.ok()) throw std::runtime_error("Open: " + opened.status().ToString());
  client_ = std::move(opened).value();
}

void Device::Reopen() {
  client_.reset();
  Open();
}

void Device::ReopenWithEntriesPerCommit(size_t entries) {
  entries_per_commit_ = entries;
  Reopen();
}

void SyncAll(std::initializer_list<Device*> devices, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    for (Device* d : devices) {
      auto synced = (*d)->SyncNow();
      if (!synced.ok()) throw std::runtime_error("sync failed: " + synced.status().message());
    }
  }
}

v1::Value Text(const std::string& s) {
  v1::Value v;
  v.set_text(s);
  return v;
}

v1::Value Blob(const Bytes& b) {
  v1::Value v;
  v.set_blob(ToString(b));
  return v;
}

v1::Mutation CreateMutation(const Bytes& id, const std::string& type) {
  v1::Mutation m;
  m.mutable_create_entity()->set_entity_id(ToString(id));
  m.mutable_create_entity()->set_type(type);
  return m;
}

v1::Mutation SetMutation(const Bytes& id, const std::string& field, const v1::Value& value) {
  v1::Mutation m;
  m.mutable_set_field()->set_entity_id(ToString(id));
  m.mutable_set_field()->set_field(field);
  *m.mutable_set_field()->mutable_value() = value;
  return m;
}

std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (bytes.find(needle) != std::string::npos) out.push_back(entry.path().string());
  }
  return out;
}

}  // namespace kring::test
