// The local store keeps secrets and plaintext sealed with the host app's storage key.
#include "store/local_store.h"

#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"

#include "support/temp_dir.h"

using namespace kring;
using namespace kring::client;

namespace {
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("the local store refuses a wrong or malformed storage key", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  REQUIRE(LocalStore::Open(path, key).ok());
  CHECK(LocalStore::Open(path, crypto::RandomSecret(32)).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(LocalStore::Open(path, crypto::RandomSecret(16)).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(LocalStore::Open(path, key).ok());
}

TEST_CASE("intents, keys and state are not stored in plaintext", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/local.db";
  SecretBytes key = crypto::RandomSecret(32);
  const std::string marker = "MARKER-huisadres-Kerkstraat-12";
  Bytes case_id(16, 7);
  SecretBytes epoch_key = crypto::RandomSecret(32);
  {
    auto store = LocalStore::Open(path, key);
    REQUIRE(store.ok());
    LocalStore& s = *store.value();
    REQUIRE(s.CreateCase(case_id).ok());
    v1::ContentOp op;
    op.set_version(1);
    op.add_mutations()->mutable_set_field()->mutable_value()->set_text(marker);
    REQUIRE(s.AddContentIntent(case_id, Bytes(16, 1), op).ok());
    REQUIRE(s.SaveEpochKey(case_id, {0, 1, epoch_key}).ok());
    AppliedBatch batch;
    batch.case_id = case_id;
    batch.state.set_case_id(ToString(case_id));
    (*batch.state.mutable_entities())["x"].set_type(marker);
    REQUIRE(s.ApplyBatch(batch).ok());
    auto intents = s.PendingIntents(case_id);
    REQUIRE(intents.ok());
    REQUIRE(intents->size() == 1);
    CHECK(intents->front().content.mutations(0).set_field().value().text() == marker);
    auto k = s.FindEpochKey(case_id, 0, 1);
    REQUIRE(k.ok());
    REQUIRE(k->has_value());
    CHECK(ConstantTimeEqual((*k)->key, epoch_key));
  }
  std::string bytes = ReadAll(path) + ReadAll(path + "-wal");
  CHECK(bytes.find(marker) == std::string::npos);
  CHECK(bytes.find(ToString(epoch_key)) == std::string::npos);
}
