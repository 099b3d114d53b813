// The server never sees case content: a known plaintext marker written into a case appears
// nowhere in kringd's database or data directory, nor in any device's local store.
#include <catch2/catch.hpp>

#include "support/client_fixture.h"

using namespace kring;
using namespace kring::test;

TEST_CASE("no plaintext reaches the server's disk or the local stores", "[privacy]") {
  TestServer server;
  auto net = ServerTransport(server);
  Device a(net), b(net);
  const std::string marker = "PLAINTEXT-MARKER-Kerkstraat-12-Oss-0612345678";
  const std::string type_marker = "TYPEMARKER-veiligheidsplan";
  auto cid = a->CreateCase({{b.account_id(), v1::ROLE_MEMBER}});
  REQUIRE(cid.ok());
  auto e = a->CreateEntity(*cid, type_marker);
  REQUIRE(e.ok());
  REQUIRE(a->SetField(*cid, *e, "address", Text(marker)).ok());
  REQUIRE(a->AddToSet(*cid, *e, "phones", Text(marker)).ok());
  REQUIRE(a->SyncNow().ok());
  REQUIRE(b->SyncNow().ok());
  REQUIRE(b->ConfirmedView(*cid)->entities().at(Hex(*e)).fields().at("address").value().text() ==
          marker);
  server.Stop();  // flushes and closes the database (and its WAL) cleanly
  CHECK(FilesContaining(server.data_dir(), marker).empty());
  CHECK(FilesContaining(server.data_dir(), type_marker).empty());
  for (Device* d : {&a, &b}) {
    std::string dir = d->db_path().substr(0, d->db_path().rfind('/'));
    CHECK(FilesContaining(dir, marker).empty());
    CHECK(FilesContaining(dir, type_marker).empty());
  }
}
