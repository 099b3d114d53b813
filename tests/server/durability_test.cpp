// Crashes and restarts: acknowledged ops survive with the same seq and chain hash, nothing
// unacknowledged half-exists, and the server key is kept.
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "server/server_test_util.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace kring::test {

TEST_CASE("the server key and data survive a graceful restart", "[durability]") {
  TestServer server;
  Client c(server.address());
  v1::ServerInfo before;
  REQUIRE(c.sync->GetServerInfo(Ctx().get(), {}, &before).ok());
  TestAccount a = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, a);
  CHECK(server.Stop() == 0);

  server.Restart();
  Client c2(server.address());
  v1::ServerInfo after;
  REQUIRE(c2.sync->GetServerInfo(Ctx().get(), {}, &after).ok());
  CHECK(after.server_id() == before.server_id());
  CHECK(after.signing_public_key() == before.signing_public_key());
  SecretBytes sk = server.ServerSecretKey();
  CHECK(ToString(ByteView(sk.data() + 32, 32)) == after.signing_public_key());
  // Sessions end on restart; signing in again restores access.
  v1::PullResponse pull;
  CHECK(Pull(c2, a.token, b.case_id(), 0, {}, &pull).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(SignIn(c2, a).ok());
  CHECK(HeadSeq(c2, a.token, b.case_id()) == 2);
}

// The device cursor is inserted by a device's first op in a case and updated in place after
// that; after a restart (an empty case cache) the next op is checked against the stored row.
TEST_CASE("a device's cursor survives a restart", "[durability]") {
  TestServer server;
  Client c(server.address());
  TestAccount a = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, a);  // the create inserts the cursor, the rekey updates it
  for (int i = 0; i < 3; ++i) {
    v1::Envelope e = b.Content(1);
    REQUIRE(Push(c, a.token, b.case_id(), {e}).ok());
    b.Accepted(e);
  }
  CHECK(server.Stop() == 0);

  server.Restart();
  Client c2(server.address());
  REQUIRE(SignIn(c2, a).ok());
  // A replay of an old counter and a skipped counter are both refused; the next one goes.
  v1::Envelope old = b.Content(1, [](v1::OpHeader& h) { h.set_device_counter(2); });
  CHECK(Push(c2, a.token, b.case_id(), {old}).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  v1::Envelope skip =
      b.Content(1, [](v1::OpHeader& h) { h.set_device_counter(h.device_counter() + 1); });
  CHECK(Push(c2, a.token, b.case_id(), {skip}).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  v1::PushResponse resp;
  v1::Envelope next = b.Content(1);
  REQUIRE(Push(c2, a.token, b.case_id(), {next}, &resp).ok());
  REQUIRE(resp.results_size() == 1);
  CHECK(resp.results(0).seq() == 6);
  CHECK_FALSE(resp.results(0).duplicate());
}

TEST_CASE("SIGKILL during a burst loses no acknowledged op", "[durability]") {
  TestServer server;
  constexpr int kWriters = 4;
  std::vector<TestAccount> accounts;
  Bytes case_id;
  std::vector<std::unique_ptr<OpBuilder>> builders;
  {
    Client c(server.address());
    for (int i = 0; i < kWriters; ++i) accounts.push_back(MakeAccount(c));
    std::vector<const TestAccount*> others;
    for (int i = 1; i < kWriters; ++i) others.push_back(&accounts[static_cast<size_t>(i)]);
    OpBuilder chair = CreateKeyedCase(c, accounts[0], others);
    case_id = chair.case_id();
    builders.push_back(std::make_unique<OpBuilder>(chair));
    for (int i = 1; i < kWriters; ++i) {
      builders.push_back(std::make_unique<OpBuilder>(accounts[static_cast<size_t>(i)], case_id));
    }
  }

  // Acknowledged results: (seq -> chain hash), and every envelope hash we ever sent.
  std::mutex mu;
  std::map<uint64_t, std::string> acked;
  std::atomic<int> acked_count{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> killing{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      Client c(server.address());
      OpBuilder& b = *builders[static_cast<size_t>(w)];
      const TestAccount& a = accounts[static_cast<size_t>(w)];
      while (!stop) {
        std::vector<v1::Envelope> batch;
        for (int i = 0; i < 3; ++i) {
          batch.push_back(b.Content(1));
          b.Accepted(batch.back());
        }
        v1::PushResponse resp;
        grpc::Status s = Push(c, a.token, case_id, batch, &resp);
        if (!s.ok()) {  // the server died: this batch is unacknowledged
          if (!killing) WARN(s.error_message());
          break;
        }
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& r : resp.results()) acked[r.seq()] = r.chain_hash();
        acked_count += resp.results_size();
      }
    });
  }
  // Kill once a fair number of ops are acknowledged (bounded wait).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (acked_count < 150 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  killing = true;
  server.Kill();
  stop = true;
  for (auto& t : threads) t.join();
  REQUIRE(acked_count >= 150);

  server.Restart();
  Client c(server.address());
  v1::ServerInfo info;
  REQUIRE(c.sync->GetServerInfo(Ctx().get(), {}, &info).ok());
  TestAccount& reader = accounts[0];
  REQUIRE(SignIn(c, reader).ok());

  // Pull the whole log and recompute the chain.
  std::vector<v1::LogEntry> log;
  Bytes prev;
  uint64_t head = 0;
  for (;;) {
    v1::PullResponse pull;
    REQUIRE(
        Pull(c, reader.token, case_id, log.size(), ToString(prev), &pull, protocol::kMaxPullLimit)
            .error_message() == "");
    head = pull.head().seq();
    CHECK(protocol::VerifyReceipt(pull.head(), ToBytes(info.signing_public_key())));
    for (const auto& e : pull.entries()) {
      REQUIRE(e.seq() == log.size() + 1);
      // Every stored op is complete: it parses and its author signature verifies.
      auto parsed = protocol::ParseEnvelope(e.envelope());
      REQUIRE(parsed.ok());
      size_t author = 0;
      for (size_t i = 0; i < accounts.size(); ++i) {
        if (ToBytes(parsed->header.author_device_id()) == accounts[i].device_id) author = i;
      }
      CHECK(crypto::Verify(accounts[author].signing.public_key, parsed->digest,
                           View(e.envelope().signature())));
      Bytes h = protocol::ChainHash(prev, e.seq(), parsed->envelope_hash);
      REQUIRE(h == ToBytes(e.chain_hash()));
      prev = h;
      log.push_back(e);
    }
    if (pull.entries_size() == 0 || log.size() >= head) break;
  }
  CHECK(log.size() == head);
  // Every acknowledged op is there with the same seq and chain hash.
  for (const auto& [seq, hash] : acked) {
    REQUIRE(seq <= log.size());
    CHECK(log[seq - 1].chain_hash() == hash);
  }
}

TEST_CASE("a graceful stop leaves one self-contained database file", "[durability]") {
  TestServer server;
  Client c(server.address());
  TestAccount chair = MakeAccount(c);
  OpBuilder b = CreateKeyedCase(c, chair, {});
  REQUIRE(server.Stop() == 0);
  const std::string db = server.data_dir() + "/data/kringd.sqlite3";
  // The WAL was checkpointed into the file and removed: a copy of the file alone is a backup.
  CHECK_FALSE(std::filesystem::exists(db + "-wal"));
  const std::string copy = server.data_dir() + "/copy.sqlite3";
  std::filesystem::copy_file(db, copy);
  auto opened = sql::Database::Open(copy, /*read_only=*/true);
  REQUIRE(opened.ok());
  sql::Statement st(*opened, "SELECT COUNT(*) FROM ops");
  REQUIRE(st.Step());
  CHECK(st.Int(0) == 2);
}

}  // namespace kring::test

namespace kring::test {

// The writer's case cache holds only while no other process writes the database.
TEST_CASE("a second kringd does not open a database another one is using", "[durability]") {
  TestServer first;
  const std::vector<std::string> same_db = {"--db", first.data_dir() + "/data/kringd.sqlite3"};
  CHECK_THROWS(TestServer{same_db});
  // The same file under another name is the same database.
  TempDir links;
  const std::string alias = links.path() + "/alias.sqlite3";
  std::filesystem::create_symlink(first.data_dir() + "/data/kringd.sqlite3", alias);
  CHECK_THROWS(TestServer{{"--db", alias}});
  std::filesystem::create_directory_symlink(first.data_dir() + "/data", links.path() + "/dir");
  CHECK_THROWS(TestServer{{"--db", links.path() + "/dir/kringd.sqlite3"}});
  REQUIRE(first.Stop() == 0);
  TestServer second(same_db);
  CHECK(second.running());
}

}  // namespace kring::test
