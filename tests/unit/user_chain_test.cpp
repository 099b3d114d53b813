// User chain verification: what the server checks before storing and every client before trusting.
#include "kring/common/user_chain.h"

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "crypto/identity.h"

using namespace kring;

TEST_CASE("a fresh account's root verifies and yields its account id", "[chain]") {
  auto created = client::identity::CreateAccount(1000);
  auto chain = VerifyChain(View(created.local.account_id()), {created.root});
  REQUIRE(chain.ok());
  CHECK(chain->length == 1);
  CHECK(chain->ActiveDevice(View(created.local.device_id())) != nullptr);
  CHECK(chain->user_key.generation == 1);
  // The user key seed sealed to the device opens with the device key and matches the public key.
  const auto& sealed = chain->user_key.sealed_seeds.front();
  crypto::BoxKeyPair device{ToBytes(created.local.device_box_public_key()),
                            SecretBytes(created.local.device_box_secret_key().begin(),
                                        created.local.device_box_secret_key().end())};
  auto seed = crypto::SealOpen(device, View(sealed.sealed()));
  REQUIRE(seed.ok());
  CHECK(client::identity::UserBoxKeyPair(seed.value()).public_key ==
        chain->user_key.box_public_key);
}

TEST_CASE("the recovery key opens the user key seed", "[chain]") {
  auto created = client::identity::CreateAccount(1000);
  auto chain = VerifyChain({}, {created.root});
  REQUIRE(chain.ok());
  auto rec = client::identity::RecoveryBoxKeyPair(created.recovery_key);
  bool opened = false;
  for (const auto& s : chain->user_key.sealed_seeds)
    opened |= crypto::SealOpen(rec, View(s.sealed())).ok();
  CHECK(opened);
  CHECK(client::identity::FormatRecoveryKey(created.recovery_key).size() == 64 + 15);
}

TEST_CASE("tampered or misattributed chains are rejected", "[chain]") {
  auto created = client::identity::CreateAccount(1000);
  SECTION("flipped signature") {
    v1::ChainLink link = created.root;
    std::string sig = link.signature();
    sig[0] = static_cast<char>(sig[0] ^ 1);
    link.set_signature(sig);
    CHECK(VerifyChain({}, {link}).status().message() == "bad root signature");
  }
  SECTION("another account's id") {
    auto other = client::identity::CreateAccount(1000);
    CHECK_FALSE(VerifyChain(View(other.local.account_id()), {created.root}).ok());
  }
  SECTION("a second root") {
    CHECK(VerifyChain({}, {created.root, created.root}).status().code() ==
          StatusCode::kInvalidArgument);
  }
  SECTION("a link with fields its signatures do not cover") {
    v1::ChainLink link = created.root;
    link.GetReflection()->MutableUnknownFields(&link)->AddVarint(99, 1);
    CHECK(VerifyChain({}, {link}).status().message() == "link has unknown fields");
    // The same link without them verifies.
    CHECK(VerifyChain({}, {created.root}).ok());
  }
  SECTION("an empty chain") { CHECK(VerifyChain({}, {}).status().code() == StatusCode::kNotFound); }
}

TEST_CASE("adding a device needs both signatures, revoking deactivates it", "[chain]") {
  auto created = client::identity::CreateAccount(1000);
  auto chain = VerifyChain({}, {created.root});
  REQUIRE(chain.ok());
  auto new_sign = crypto::NewSigningKeyPair();
  auto new_box = crypto::NewBoxKeyPair();
  v1::LinkBody body;
  body.set_version(1);
  body.set_index(1);
  body.set_prev_link_hash(ToString(chain->head_hash));
  body.set_signer_device_id(created.local.device_id());
  body.mutable_add_device()->mutable_device()->set_signing_public_key(
      ToString(new_sign.public_key));
  body.mutable_add_device()->mutable_device()->set_box_public_key(ToString(new_box.public_key));
  v1::ChainLink link;
  link.set_body(body.SerializeAsString());
  Bytes input = protocol::LinkSignInput(View(link.body()));
  link.set_signature(
      ToString(crypto::Sign(View(created.local.device_signing_secret_key()), input)));

  UserChain copy = chain.value();
  CHECK(ApplyLink(copy, link).message() == "bad new-device signature");
  CHECK(copy.length == 1);  // unchanged on error

  link.set_new_device_signature(ToString(crypto::Sign(new_sign.secret_key, input)));
  REQUIRE(ApplyLink(copy, link).ok());
  Bytes new_id = protocol::DeviceId(new_sign.public_key);
  CHECK(copy.ActiveDevice(new_id) != nullptr);

  v1::LinkBody revoke;
  revoke.set_version(1);
  revoke.set_index(2);
  revoke.set_prev_link_hash(ToString(copy.head_hash));
  revoke.set_signer_device_id(created.local.device_id());
  revoke.mutable_revoke_device()->set_device_id(ToString(new_id));
  v1::ChainLink rlink;
  rlink.set_body(revoke.SerializeAsString());
  rlink.set_signature(ToString(crypto::Sign(View(created.local.device_signing_secret_key()),
                                            protocol::LinkSignInput(View(rlink.body())))));
  REQUIRE(ApplyLink(copy, rlink).ok());
  CHECK(copy.ActiveDevice(new_id) == nullptr);
  CHECK(copy.devices.at(new_id).generation_at_revocation == std::optional<uint32_t>(1));

  // The user key rotated right after: the revocation's generation stays what it was.
  v1::LinkBody rotate;
  rotate.set_version(1);
  rotate.set_index(3);
  rotate.set_prev_link_hash(ToString(copy.head_hash));
  rotate.set_signer_device_id(created.local.device_id());
  v1::UserKeyGeneration* uk = rotate.mutable_rotate_user_key()->mutable_user_key();
  uk->set_generation(2);
  uk->set_box_public_key(ToString(crypto::NewBoxKeyPair().public_key));
  uk->set_signing_public_key(ToString(crypto::NewSigningKeyPair().public_key));
  v1::SealedSeed* seed = uk->add_sealed_seeds();
  seed->set_recipient_id(created.local.device_id());
  seed->set_sealed(ToString(
      crypto::Seal(crypto::NewBoxKeyPair().public_key, crypto::RandomSecret(crypto::kKeyBytes))));
  v1::ChainLink klink;
  klink.set_body(rotate.SerializeAsString());
  klink.set_signature(ToString(crypto::Sign(View(created.local.device_signing_secret_key()),
                                            protocol::LinkSignInput(View(klink.body())))));
  REQUIRE(ApplyLink(copy, klink).ok());
  CHECK(copy.user_key.generation == 2);
  CHECK(copy.devices.at(new_id).generation_at_revocation == std::optional<uint32_t>(1));
}

// Every field of a chain, as one comparable string.
std::string Fields(const UserChain& c) {
  std::string out = Hex(c.account_id) + "|" + Hex(c.root_hash) + "|" + Hex(c.head_hash) + "|" +
                    std::to_string(c.length) + "|devices";
  for (const auto& [id, d] : c.devices) {
    out += "|" + Hex(id) + "," + Hex(d.device_id) + "," + Hex(d.signing_public_key) + "," +
           Hex(d.box_public_key) + "," + std::to_string(d.added_at) + "," +
           (d.revoked_at ? std::to_string(*d.revoked_at) : "-") + "," +
           (d.generation_at_revocation ? std::to_string(*d.generation_at_revocation) : "-") + "," +
           (d.is_recovery ? "r" : "d");
  }
  out += "|user_key|" + std::to_string(c.user_key.generation) + "," +
         Hex(c.user_key.box_public_key) + "," + Hex(c.user_key.signing_public_key);
  for (const auto& s : c.user_key.sealed_seeds) out += "," + Hex(View(s.SerializeAsString()));
  out += "|links";
  for (const auto& l : c.links) out += "|" + Hex(View(l.SerializeAsString()));
  return out;
}

TEST_CASE("a link refused after its signature checked leaves the chain as it was", "[chain]") {
  auto created = client::identity::CreateAccount(1000);
  auto verified = VerifyChain({}, {created.root});
  REQUIRE(verified.ok());
  UserChain chain = verified.value();
  const Bytes me = ToBytes(created.local.device_id());
  const ByteView my_key = View(created.local.device_signing_secret_key());
  // A device added, revoked and a key rotated, so every field has content that could change.
  auto added = crypto::NewSigningKeyPair();
  v1::LinkBody add;
  add.mutable_add_device()->mutable_device()->set_signing_public_key(ToString(added.public_key));
  add.mutable_add_device()->mutable_device()->set_box_public_key(
      ToString(crypto::NewBoxKeyPair().public_key));
  const v1::SealedSeed good_seed = chain.user_key.sealed_seeds.front();
  *add.mutable_add_device()->add_sealed_seeds() = good_seed;
  REQUIRE(
      ApplyLink(chain, client::identity::SignLink(chain, add, me, my_key, added.secret_key)).ok());
  v1::LinkBody revoke;
  revoke.mutable_revoke_device()->set_device_id(ToString(protocol::DeviceId(added.public_key)));
  REQUIRE(ApplyLink(chain, client::identity::SignLink(chain, revoke, me, my_key)).ok());
  v1::LinkBody rotate;
  v1::UserKeyGeneration* uk = rotate.mutable_rotate_user_key()->mutable_user_key();
  uk->set_generation(2);
  uk->set_box_public_key(ToString(crypto::NewBoxKeyPair().public_key));
  uk->set_signing_public_key(ToString(crypto::NewSigningKeyPair().public_key));
  *uk->add_sealed_seeds() = good_seed;
  REQUIRE(ApplyLink(chain, client::identity::SignLink(chain, rotate, me, my_key)).ok());
  const std::string before = Fields(chain);

  auto next = crypto::NewSigningKeyPair();
  v1::LinkBody body;
  body.mutable_add_device()->mutable_device()->set_signing_public_key(ToString(next.public_key));
  body.mutable_add_device()->mutable_device()->set_box_public_key(
      ToString(crypto::NewBoxKeyPair().public_key));
  *body.mutable_add_device()->add_sealed_seeds() = good_seed;
  SECTION("a bad sealed seed after a good one, both signatures valid") {
    v1::SealedSeed* bad = body.mutable_add_device()->add_sealed_seeds();
    bad->set_recipient_id(good_seed.recipient_id());
    bad->set_sealed("short");
    v1::ChainLink link = client::identity::SignLink(chain, body, me, my_key, next.secret_key);
    CHECK(ApplyLink(chain, link).message() == "malformed sealed user key seed");
  }
  SECTION("a bad new-device signature") {
    v1::ChainLink link = client::identity::SignLink(chain, body, me, my_key, next.secret_key);
    link.set_new_device_signature(ToString(crypto::Sign(
        crypto::NewSigningKeyPair().secret_key, protocol::LinkSignInput(View(link.body())))));
    CHECK(ApplyLink(chain, link).message() == "bad new-device signature");
  }
  SECTION("a rotation that skips a generation") {
    uk->set_generation(4);
    CHECK(ApplyLink(chain, client::identity::SignLink(chain, rotate, me, my_key)).message() ==
          "user key generation must increase by one");
  }
  SECTION("a revocation of a device already revoked") {
    CHECK(ApplyLink(chain, client::identity::SignLink(chain, revoke, me, my_key)).message() ==
          "revoked device is not an active device");
  }
  CHECK(Fields(chain) == before);
}

TEST_CASE("safety numbers are 30 digits and stable", "[chain]") {
  Bytes root(32, 5);
  std::string n = SafetyNumber(root);
  CHECK(n.size() == 35);
  CHECK(n == SafetyNumber(root));
  CHECK(n != SafetyNumber(Bytes(32, 6)));
}
