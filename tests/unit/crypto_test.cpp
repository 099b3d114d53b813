// Known-answer vectors (computed with an independent BLAKE2b implementation, Python's hashlib,
// and RFC 8032) and tamper tests for the crypto wrappers.
#include "kring/common/crypto.h"

#include <sodium.h>

#include <catch2/catch.hpp>

#include "kring/common/protocol.h"
#include "kring/common/utf8.h"

#include "crypto/at_rest.h"
#include "model/reducer.h"

using namespace kring;

namespace {
Bytes H(const char* hex) { return *FromHex(hex); }
}  // namespace

TEST_CASE("labelled BLAKE2b framing matches the documented encoding", "[crypto]") {
  // blake2b(frame("kring-test-v1") || frame("abc") || u64le(7)), frame = u64le(len) || bytes
  CHECK(Hex(crypto::Hasher("kring-test-v1").Add("abc").AddU64(7).Finish()) ==
        "8bc2c2239ee74f9ea0f128fb86cba0c7ee4de5a7c951f523bc528c43941de65d");
  Bytes key(32, 7);
  CHECK(Hex(crypto::Hasher("kring-test-v1", 32, key).Add("abc").Finish()) ==
        "1dada8cf94f143124e39b2961e9b417b904ffecc729b1f9a83922689a987ea51");
  // A kept start gives the same hash, every time it is started from.
  const crypto::HasherStart start("kring-test-v1", 32, key);
  for (int i = 0; i < 2; ++i) {
    CHECK(Hex(start.Start().Add("abc").Finish()) ==
          "1dada8cf94f143124e39b2961e9b417b904ffecc729b1f9a83922689a987ea51");
  }
  Bytes pk(32);
  for (size_t i = 0; i < pk.size(); ++i) pk[i] = static_cast<uint8_t>(i);
  CHECK(Hex(protocol::DeviceId(pk)) == "70cc866b8d81ae49c0d8dc3c1e144619");
  CHECK(Hex(protocol::ChainHash({}, 1, Bytes(32, 0))) ==
        "dacf6b58011aca9acb49bb0ccc37d268572fd90a53aa62df892d0117a28870a4");
}

// The vectors were computed with main's Bytes forms before the array forms existed (and agree
// with Python's hashlib): the array forms, which the Bytes forms now wrap, must give them too.
TEST_CASE("chain hash, associated data and op key commitment match known answers", "[crypto]") {
  Bytes header(41);
  for (size_t i = 0; i < header.size(); ++i) header[i] = static_cast<uint8_t>(i);
  const Bytes body = ToBytes("control body");
  const Bytes prev(32, 0x11), envelope_hash(32, 0x22), subkey(32, 0x33);
  Bytes nonce(24);
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(i);
  auto hex = [](const protocol::HashArray& a) { return Hex(a); };

  const char* ad_empty = "4c233af3eac8fab8ff8c839854b25af0390eb545648364ef97d84e1b54c7214c";
  const char* ad_body = "05ee044e7694b39fb8b3087a04e86fc6ca250a1124794b3e249bcf6dacc62430";
  CHECK(Hex(protocol::AssociatedData(header, {})) == ad_empty);
  CHECK(hex(protocol::AssociatedDataArray(header, {})) == ad_empty);
  CHECK(Hex(protocol::AssociatedData(header, body)) == ad_body);
  CHECK(hex(protocol::AssociatedDataArray(header, body)) == ad_body);

  const char* chain = "8cc842aeced5ce79678b29affed0dae8164f9eea93b7fa46e57349434addb235";
  CHECK(Hex(protocol::ChainHash(prev, 7, envelope_hash)) == chain);
  CHECK(hex(protocol::ChainHashArray(prev, 7, envelope_hash)) == chain);
  const char* first_chain = "dacf6b58011aca9acb49bb0ccc37d268572fd90a53aa62df892d0117a28870a4";
  CHECK(hex(protocol::ChainHashArray({}, 1, Bytes(32, 0))) == first_chain);

  const char* commitment = "1108ae336db055ec9b92d56dad2cfdfe98e5bbe7ac21a34b6ded78c8a8d5d27e";
  CHECK(Hex(protocol::OpKeyCommitmentWithSubkey(subkey, nonce)) == commitment);
  CHECK(hex(protocol::OpKeyCommitmentArray(subkey, nonce)) == commitment);
  const crypto::HasherStart start = protocol::OpKeyCommitmentStart(subkey);
  for (int i = 0; i < 2; ++i) {
    CHECK(hex(protocol::OpKeyCommitmentArray(start, nonce)) == commitment);
  }
}

// Computed with Python's hashlib. Each hash is taken twice: the per-op hashes start from a copy
// of their label's hasher, which must stay as it was.
TEST_CASE("op digest and envelope hash match known answers", "[crypto]") {
  v1::Envelope env;
  std::string header(41, '\0');
  for (size_t i = 0; i < header.size(); ++i) header[i] = static_cast<char>(i);
  std::string nonce(24, '\0');
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<char>(i);
  env.set_header(header);
  env.set_nonce(nonce);
  env.set_key_commitment(std::string(32, '\x44'));
  env.set_ciphertext("ciphertext");
  const char* digest = "07a55c302ecef60d2202c0d7c17f427c03d2218b9ad44e05877e0b6fd600b002";
  const char* unsigned_hash = "8dd14ecb171c23c820eebeb42f5b9ab9081d394502a238e664173fbe9d2277b1";
  const char* signed_hash = "d347a6403c1516784b3b2033852788cedba34fd058fe3cfb61e4513dfccf8d3d";
  for (int i = 0; i < 2; ++i) {
    CHECK(Hex(protocol::OpDigest(env)) == digest);
    CHECK(Hex(protocol::EnvelopeHash(env)) == unsigned_hash);
  }
  env.set_signature(std::string(64, '\x55'));
  for (int i = 0; i < 2; ++i) {
    CHECK(Hex(protocol::OpDigest(env)) == digest);
    CHECK(Hex(protocol::EnvelopeHash(env)) == signed_hash);
  }
}

TEST_CASE("Ed25519 matches RFC 8032 test 1 and rejects tampering", "[crypto]") {
  auto kp = crypto::SigningKeyPairFromSeed(
      H("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  CHECK(Hex(kp.public_key) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  Bytes sig = crypto::Sign(kp.secret_key, {});
  CHECK(Hex(sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
        "f9b"
        "46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(crypto::Verify(kp.public_key, {}, sig));
  Bytes msg = ToBytes("x");
  CHECK_FALSE(crypto::Verify(kp.public_key, msg, sig));
  sig[0] ^= 1;
  CHECK_FALSE(crypto::Verify(kp.public_key, {}, sig));
}

TEST_CASE("AEAD fails on a flipped bit, other associated data or another key", "[crypto]") {
  SecretBytes key = crypto::RandomSecret(32);
  Bytes nonce = crypto::RandomBytes(24);
  Bytes ad = ToBytes("header");
  Bytes ct = crypto::AeadEncrypt(key, nonce, ToBytes("secret plan"), ad);
  auto ok = crypto::AeadDecrypt(key, nonce, ct, ad);
  REQUIRE(ok.ok());
  CHECK(std::string(ok->begin(), ok->end()) == "secret plan");
  Bytes flipped = ct;
  flipped[3] ^= 0x40;
  CHECK_FALSE(crypto::AeadDecrypt(key, nonce, flipped, ad).ok());
  CHECK_FALSE(crypto::AeadDecrypt(key, nonce, ct, ToBytes("other")).ok());
  CHECK_FALSE(crypto::AeadDecrypt(crypto::RandomSecret(32), nonce, ct, ad).ok());
}

// AeadEncryptInto writes the same ciphertext inside a larger record (AtRest::Seal's: nonce, then
// ciphertext) and nothing around it.
TEST_CASE("AEAD into a record's span writes exactly AeadEncrypt's ciphertext", "[crypto]") {
  SecretBytes key = crypto::RandomSecret(32);
  Bytes nonce = crypto::RandomBytes(24);
  Bytes ad = ToBytes("header");
  const Bytes plain = ToBytes("secret plan");
  Bytes record(4 + plain.size() + crypto::kAeadOverhead + 4, 0xee);
  crypto::AeadEncryptInto(
      key, nonce, plain, ad,
      std::span<uint8_t>(record).subspan(4, plain.size() + crypto::kAeadOverhead));
  const Bytes expected = crypto::AeadEncrypt(key, nonce, plain, ad);
  CHECK(Bytes(record.begin() + 4, record.end() - 4) == expected);
  CHECK(Bytes(record.begin(), record.begin() + 4) == Bytes(4, 0xee));
  CHECK(Bytes(record.end() - 4, record.end()) == Bytes(4, 0xee));
  auto opened = crypto::AeadDecrypt(
      key, nonce, ByteView(record).subspan(4, plain.size() + crypto::kAeadOverhead), ad);
  REQUIRE(opened.ok());
  CHECK(std::string(opened->begin(), opened->end()) == "secret plan");
}

// In place (the local store seals a case's state where it was serialized): the same ciphertext
// as into a buffer of its own, and the plaintext is gone from the buffer.
TEST_CASE("AEAD in place writes exactly AeadEncrypt's ciphertext over the plaintext", "[crypto]") {
  SecretBytes key = crypto::RandomSecret(32);
  Bytes nonce = crypto::RandomBytes(24);
  Bytes ad = ToBytes("header");
  Bytes plain(5000);  // several ChaCha20 blocks and a partial one
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 7);
  Bytes buffer = plain;
  buffer.resize(plain.size() + crypto::kAeadOverhead);
  crypto::AeadEncryptInto(key, nonce, ByteView(buffer).first(plain.size()), ad, buffer);
  CHECK(buffer == crypto::AeadEncrypt(key, nonce, plain, ad));
  auto opened = crypto::AeadDecrypt(key, nonce, buffer, ad);
  REQUIRE(opened.ok());
  CHECK(Bytes(opened->begin(), opened->end()) == plain);
}

// AtRest::SealInPlace gives a record of Seal's form (Open opens it under its label only), from a
// buffer with room for the nonce and the tag around the plaintext, and keeps no plaintext.
TEST_CASE("a local record sealed in place opens under its label only and holds no plaintext",
          "[crypto]") {
  auto at_rest = client::AtRest::FromStorageKey(crypto::RandomSecret(32));
  REQUIRE(at_rest.ok());
  const std::string marker = "MARKER-huisadres-Kerkstraat-12";
  Bytes framed(client::AtRest::kSealFront);
  framed.insert(framed.end(), marker.begin(), marker.end());
  framed.resize(framed.size() + client::AtRest::kSealBack);
  const Bytes sealed = at_rest->SealInPlace("state:1", framed);
  CHECK(sealed.size() == at_rest->Seal("state:1", ToBytes(marker)).size());
  CHECK(ToString(sealed).find(marker) == std::string::npos);
  auto opened = at_rest->Open("state:1", sealed);
  REQUIRE(opened.ok());
  CHECK(std::string(opened->begin(), opened->end()) == marker);
  CHECK_FALSE(at_rest->Open("state:2", sealed).ok());
  // Nothing but the frame: an empty plaintext seals and opens too.
  const Bytes empty = at_rest->SealInPlace(
      "state:1", Bytes(client::AtRest::kSealFront + client::AtRest::kSealBack));
  auto none = at_rest->Open("state:1", empty);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

// AeadDecryptInto opens into a buffer the caller keeps; it refuses what AeadDecrypt refuses.
TEST_CASE("AEAD into a buffer opens what AeadDecrypt opens and refuses the rest", "[crypto]") {
  SecretBytes key = crypto::RandomSecret(32);
  Bytes nonce = crypto::RandomBytes(24);
  Bytes ad = ToBytes("header");
  Bytes ct = crypto::AeadEncrypt(key, nonce, ToBytes("secret plan"), ad);
  SecretBytes out(64, 0xee);  // larger than needed: the size says where the plaintext ends
  auto len = crypto::AeadDecryptInto(key, nonce, ct, ad, out);
  REQUIRE(len.ok());
  CHECK(std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len.value())) ==
        "secret plan");
  Bytes flipped = ct;
  flipped[3] ^= 0x40;
  CHECK(crypto::AeadDecryptInto(key, nonce, flipped, ad, out).status().code() ==
        StatusCode::kDataLoss);
  CHECK_FALSE(crypto::AeadDecryptInto(key, nonce, ct, ToBytes("other"), out).ok());
  CHECK_FALSE(crypto::AeadDecryptInto(crypto::RandomSecret(32), nonce, ct, ad, out).ok());
  CHECK(crypto::AeadDecryptInto(key, Bytes(23), ct, ad, out).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(crypto::AeadDecryptInto(key, nonce, Bytes(15), ad, out).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(crypto::AeadDecrypt(key, nonce, Bytes(15), ad).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("sealed boxes open only with the recipient key", "[crypto]") {
  auto alice = crypto::NewBoxKeyPair();
  auto bob = crypto::NewBoxKeyPair();
  Bytes sealed = crypto::Seal(alice.public_key, ToBytes("epoch key"));
  CHECK(crypto::SealOpen(alice, sealed).ok());
  CHECK_FALSE(crypto::SealOpen(bob, sealed).ok());
  CHECK_FALSE(crypto::SealOpen(alice, Bytes(10)).ok());
}

TEST_CASE("padding hides lengths within a block and round-trips", "[crypto]") {
  Bytes a = crypto::Pad(ToBytes("a"), 256);
  Bytes b = crypto::Pad(Bytes(200, 1), 256);
  CHECK(a.size() == 256);
  CHECK(b.size() == 256);
  auto un = crypto::Unpad(a, 256);
  REQUIRE(un.ok());
  CHECK(un.value() == ToBytes("a"));
  CHECK_FALSE(crypto::Unpad(Bytes(256, 0), 256).ok());
  auto size = crypto::UnpaddedSize(b, 256);
  REQUIRE(size.ok());
  CHECK(size.value() == 200);
  CHECK_FALSE(crypto::UnpaddedSize(Bytes(256, 0), 256).ok());
}

// UnpaddedSize scans from the end rather than in constant time: it must accept and reject exactly
// what sodium_unpad does, which every buffer of up to 9 bytes over {0, 0x80, 1} shows here.
TEST_CASE("unpadded size agrees with sodium_unpad on every small buffer", "[crypto]") {
  const uint8_t kBytes[] = {0, 0x80, 1};
  size_t compared = 0;
  for (size_t block : {size_t{1}, size_t{3}, size_t{4}}) {
    for (size_t n = 0; n <= 9; ++n) {
      size_t count = 1;
      for (size_t i = 0; i < n; ++i) count *= 3;
      for (size_t code = 0; code < count; ++code) {
        Bytes data(n);
        for (size_t i = 0, c = code; i < n; ++i, c /= 3) data[i] = kBytes[c % 3];
        size_t expected = 0;
        const bool ok = n > 0 && sodium_unpad(&expected, data.data(), n, block) == 0;
        auto got = crypto::UnpaddedSize(data, block);
        REQUIRE(got.ok() == ok);
        if (ok) REQUIRE(got.value() == expected);
        ++compared;
      }
    }
  }
  CHECK(compared > 3 * 9000);
}

// IsValid checks eight ASCII bytes at a time: a bad byte or a cut sequence must still be found
// at every position of and after such a run.
TEST_CASE("UTF-8 validation finds a bad byte anywhere in long ASCII text", "[crypto]") {
  const std::string ascii(40, 'n');
  CHECK(utf8::IsValid(ascii));
  CHECK(utf8::IsValid(ascii + "\xC3\xA9" + ascii));          // é
  CHECK(utf8::IsValid(ascii + "\xF0\x9F\x98\x80" + ascii));  // U+1F600
  for (size_t at = 0; at <= ascii.size(); ++at) {
    std::string bad = ascii;
    bad.insert(at, "\xFF");
    CHECK_FALSE(utf8::IsValid(bad));
    std::string cut = ascii.substr(0, at) + "\xE2\x82";  // a three-byte sequence cut short
    CHECK_FALSE(utf8::IsValid(cut));
    std::string surrogate = ascii;
    surrogate.insert(at, "\xED\xA0\x80");
    CHECK_FALSE(utf8::IsValid(surrogate));
  }
}

TEST_CASE("key commitments bind the epoch key", "[crypto]") {
  SecretBytes k1 = crypto::RandomSecret(32);
  SecretBytes k2 = crypto::RandomSecret(32);
  Bytes case_id(16, 1);
  Bytes nonce(24, 2);
  CHECK(protocol::EpochKeyCommitment(k1, case_id, 0, 1) ==
        protocol::EpochKeyCommitment(k1, case_id, 0, 1));
  CHECK(protocol::EpochKeyCommitment(k1, case_id, 0, 1) !=
        protocol::EpochKeyCommitment(k2, case_id, 0, 1));
  CHECK(protocol::EpochKeyCommitment(k1, case_id, 0, 1) !=
        protocol::EpochKeyCommitment(k1, case_id, 0, 2));
  CHECK(protocol::OpKeyCommitment(k1, nonce) != protocol::OpKeyCommitment(k2, nonce));
}

TEST_CASE("hex and constant-time comparison", "[crypto]") {
  CHECK(Hex(ToBytes("\x01\xab")) == "01ab");
  CHECK_FALSE(FromHex("0").has_value());
  CHECK_FALSE(FromHex("zz").has_value());
  CHECK(ConstantTimeEqual(ToBytes("abc"), ToBytes("abc")));
  CHECK_FALSE(ConstantTimeEqual(ToBytes("abc"), ToBytes("abd")));
  CHECK_FALSE(ConstantTimeEqual(ToBytes("abc"), ToBytes("ab")));
}

// ConstantTimeEqual compares eight bytes a step and the rest one by one: a difference in any
// byte, in either part, of any length up to a few words is found, and equal buffers are equal.
TEST_CASE("constant-time comparison finds a difference in every byte", "[crypto]") {
  CHECK(ConstantTimeEqual({}, {}));
  for (size_t len = 1; len <= 41; ++len) {
    Bytes a = crypto::RandomBytes(len);
    Bytes b = a;
    CHECK(ConstantTimeEqual(a, b));
    for (size_t i = 0; i < len; ++i) {
      for (const uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
        b[i] ^= flip;
        CHECK_FALSE(ConstantTimeEqual(a, b));
        CHECK_FALSE(ConstantTimeEqual(b, a));
        b[i] ^= flip;
      }
    }
    CHECK(ConstantTimeEqual(a, b));
  }
  // Views at every alignment (the words are read with memcpy), and a view against itself.
  const Bytes buffer = crypto::RandomBytes(64);
  for (size_t offset = 0; offset < 8; ++offset) {
    const ByteView view(buffer.data() + offset, 33);
    Bytes copy(view.begin(), view.end());
    CHECK(ConstantTimeEqual(view, copy));
    CHECK(ConstantTimeEqual(view, view));
    copy[32 - offset] ^= 0x10;
    CHECK_FALSE(ConstantTimeEqual(view, copy));
  }
}

// Entity keys are made with HexOfPublic and read with Hex: the two must agree on every byte.
TEST_CASE("hex of public values equals the constant-time hex", "[crypto]") {
  Bytes all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i);
  CHECK(HexOfPublic(all) == Hex(all));
  CHECK(HexOfPublic({}).empty());
  const Bytes id = crypto::RandomBytes(16);
  CHECK(HexOfPublic(id) == Hex(id));
}

// The reducer keys entities by model::EntityKey (lookups) and by HexOfPublic strings (stored
// keys, read with Hex): all three must agree on every byte value.
TEST_CASE("entity keys equal the hex of their id for every byte value", "[crypto]") {
  for (size_t first = 0; first < 256; first += crypto::kIdBytes) {
    Bytes id(crypto::kIdBytes);
    for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(first + i);
    const client::model::EntityKey key(id);
    CHECK(key.view() == Hex(id));
    CHECK(key.view() == HexOfPublic(id));
  }
  std::array<char, 4> out{};
  HexOfPublicInto(ToBytes("\x0f\xa0"), out);
  CHECK(std::string_view(out.data(), out.size()) == "0fa0");
}

TEST_CASE("epoch fingerprints are short, stable and bound to key and epoch", "[crypto]") {
  SecretBytes k = crypto::RandomSecret(32);
  Bytes case_id(16, 3);
  std::string a = protocol::EpochFingerprint(k, case_id, 0, 2);
  CHECK(a.size() == 14);  // "1234 5678 9012"
  CHECK(a == protocol::EpochFingerprint(k, case_id, 0, 2));
  CHECK(a != protocol::EpochFingerprint(k, case_id, 0, 3));
  CHECK(a != protocol::EpochFingerprint(crypto::RandomSecret(32), case_id, 0, 2));
}
