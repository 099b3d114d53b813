// A failure of kringd's storage: the client hears its code (UNAVAILABLE stays retryable) and a
// fixed message, never SQLite's text, which names tables and columns; the server log has that.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "server/server_test_util.h"
#include "service_edge.h"
#include "support/test_server.h"

namespace kring::test {
namespace {

// What `f` writes to stderr (kringd's log).
std::string Stderr(const std::function<void()>& f) {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  REQUIRE(::dup2(::fileno(out), STDERR_FILENO) >= 0);
  f();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string text;
  std::rewind(out);
  for (int ch = std::fgetc(out); ch != EOF; ch = std::fgetc(out)) text += static_cast<char>(ch);
  std::fclose(out);
  return text;
}

void CheckNoSqliteText(const std::string& message) {
  for (const char* word :
       {"UNIQUE", "constraint", "devices", "revoked", "ops", "index", "probe", "locked", "sql"}) {
    INFO(message);
    CHECK(message.find(word) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("a storage error reaches the client as its code without SQLite's text", "[storage]") {
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  REQUIRE(server.Stop() == 0);
  {
    // Both devices of a new account are stored unrevoked: the second one's row fails with
    // "UNIQUE constraint failed: devices.revoked".
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE UNIQUE INDEX storage_error_probe ON devices (revoked)").ok());
  }
  server.Restart();
  Client c(server.address());
  grpc::Status s = Publish(c, NewAccount());
  CHECK(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(s.error_message() == "storage conflict");
  CheckNoSqliteText(s.error_message());
  CHECK(s.error_details().empty());
}

TEST_CASE("a push that fails in storage gets its code without SQLite's text", "[storage]") {
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  TestAccount a;
  std::unique_ptr<OpBuilder> ops;
  {
    Client c(server.address());
    a = MakeAccount(c);
    ops = std::make_unique<OpBuilder>(CreateKeyedCase(c, a));
  }
  REQUIRE(server.Stop() == 0);
  {
    // The case holds its creation and Rekey (seq 1 and 2): the next op fails with "UNIQUE
    // constraint failed: index 'storage_error_probe'".
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE UNIQUE INDEX storage_error_probe ON ops (case_key, seq > 1)").ok());
  }
  server.Restart();
  Client c(server.address());
  REQUIRE(SignIn(c, a).ok());
  grpc::Status s = Push(c, a.token, ops->case_id(), {ops->Content(1)});
  CHECK(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(s.error_message() == "storage conflict");
  CheckNoSqliteText(s.error_message());
}

TEST_CASE(
    "a push whose transaction SQLite drops gets UNAVAILABLE, stores nothing, and the next "
    "goes in",
    "[storage]") {
  // SQLite rolls the whole transaction back on some errors (a full disk, an I/O error); a trigger
  // does that here when a marked op's row is inserted. The push's first pass runs in the writer
  // job's own savepoint and has written rows (an op naming one of the push as seen) when the
  // marked row goes in with the push's last rows: the push is answered UNAVAILABLE (a client
  // retries it), nothing of it is stored, and the next push continues the log as before.
  TestServer server;
  const std::string path = server.data_dir() + "/data/kringd.sqlite3";
  TestAccount a;
  TestAccount reader;
  std::unique_ptr<OpBuilder> ops;
  {
    Client c(server.address());
    a = MakeAccount(c);
    reader = MakeAccount(c);
    ops = std::make_unique<OpBuilder>(CreateKeyedCase(c, a, {&reader}));  // seq 1 and 2
  }
  REQUIRE(server.Stop() == 0);
  const std::string marked(16, '\xee');  // above every id the builder gives out
  {
    auto db = sql::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TRIGGER lose_transaction BEFORE INSERT ON ops WHEN "
                     "NEW.client_op_id = X'" +
                     std::string(32, 'e') + "' BEGIN SELECT RAISE(ROLLBACK, 'lost'); END")
                .ok());
  }
  server.Restart();
  Client c(server.address());
  REQUIRE(SignIn(c, a).ok());
  REQUIRE(SignIn(c, reader).ok());
  v1::PullResponse at2;
  REQUIRE(Pull(c, a.token, ops->case_id(), 0, "", &at2).ok());
  const Bytes head = ToBytes(at2.head().chain_hash());

  OpBuilder b = *ops;  // the builder as kringd's log leaves it: the lost push is not accepted
  std::vector<v1::Envelope> push;
  push.push_back(ops->Content(1));  // seq 3
  ops->Accepted(push.back());
  push.push_back(ops->Content(1));  // seq 4
  ops->Accepted(push.back());
  const Bytes at3 = protocol::ChainHash(head, 3, protocol::EnvelopeHash(push[0]));
  push.push_back(ops->Content(1, [&](v1::OpHeader& h) {  // its check writes seq 3 and 4
    h.set_seen_seq(3);
    h.set_seen_hash(ToString(at3));
  }));
  ops->Accepted(push.back());
  push.push_back(ops->Content(1, [&](v1::OpHeader& h) { h.set_client_op_id(marked); }));
  const grpc::Status lost = Push(c, a.token, ops->case_id(), push);
  CHECK(lost.error_code() == grpc::StatusCode::UNAVAILABLE);
  CheckNoSqliteText(lost.error_message());
  CHECK(HeadSeq(c, a.token, ops->case_id()) == 2);

  // Nothing of it stayed, the device's cursor included: new ops continue from seq 2's.
  std::vector<v1::Envelope> next;
  for (int i = 0; i < 3; ++i) {
    next.push_back(b.Content(1));
    b.Accepted(next.back());
  }
  v1::PushResponse resp;
  REQUIRE(Push(c, a.token, b.case_id(), next, &resp).error_message() == "");
  REQUIRE(resp.results_size() == 3);
  const std::vector<v1::LogEntry> log = VerifiedLog(c, reader, a, b.case_id());
  REQUIRE(log.size() == 5);
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(resp.results(i).duplicate());
    CHECK(resp.results(i).seq() == static_cast<uint64_t>(3 + i));
    CHECK(resp.results(i).chain_hash() == log[static_cast<size_t>(2 + i)].chain_hash());
    CHECK(log[static_cast<size_t>(2 + i)].envelope().SerializeAsString() ==
          next[static_cast<size_t>(i)].SerializeAsString());
  }
}

TEST_CASE("kringd logs a storage error's text and answers its code with a fixed message",
          "[storage]") {
  // As the storage layer makes it (kring/common/sqlite.cpp).
  grpc::Status s;
  std::string log = Stderr([&] {
    s = server::ToGrpc(
        Status::Storage(StatusCode::kUnavailable, "sql step failed: database is locked"));
  });
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(s.error_message() == "storage unavailable");
  CheckNoSqliteText(s.error_message());
  CHECK(log.find("\"event\":\"storage_error\"") != std::string::npos);
  CHECK(log.find("sql step failed: database is locked") != std::string::npos);

  log = Stderr([&] {
    s = server::ToGrpc(Status::Storage(StatusCode::kDataLoss,
                                       "sql step failed: database disk image is malformed"));
  });
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(s.error_message() == "internal error");
  CHECK(log.find("database disk image is malformed") != std::string::npos);

  // Any other status keeps its message: it is written for clients.
  s = server::ToGrpc(Status(StatusCode::kUnavailable, "the account's chain changed meanwhile"));
  CHECK(s.error_message() == "the account's chain changed meanwhile");
}

}  // namespace kring::test
