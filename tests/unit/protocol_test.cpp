// Structural checks of envelopes: what the server and every client reject before anything else.
#include "kring/common/protocol.h"

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/refusal.h"
#include "kring/domain/messages.h"
#include "kring/v1/refusal.pb.h"

#include "crypto/identity.h"
#include "sync/sync_engine.h"

using namespace kring;

namespace {

struct Fixture {
  client::identity::CreatedAccount account = client::identity::CreateAccount(0);
  SecretBytes epoch_key = crypto::RandomSecret(32);

  v1::OpHeader Header() const {
    v1::OpHeader h;
    h.set_version(1);
    h.set_case_id(std::string(16, 'c'));
    h.set_epoch(1);
    h.set_author_account_id(account.local.account_id());
    h.set_author_device_id(account.local.device_id());
    h.set_device_counter(1);
    h.set_client_op_id(std::string(16, 'o'));
    h.set_kind(v1::OP_KIND_CONTENT);
    return h;
  }
  v1::Envelope Content(const v1::OpHeader& h) const {
    v1::ContentOp op;
    op.set_version(1);
    return client::SignEnvelope(account.local, h, nullptr, &op, epoch_key);
  }
};

}  // namespace

TEST_CASE("a well-formed content envelope parses and its signature verifies", "[protocol]") {
  Fixture f;
  v1::Envelope env = f.Content(f.Header());
  auto op = protocol::ParseEnvelope(env);
  REQUIRE(op.ok());
  CHECK(crypto::Verify(View(f.account.local.device_signing_public_key()), op->digest,
                       View(env.signature())));
  CHECK(op->envelope_hash == protocol::EnvelopeHash(env));
  // The ciphertext is padded: a tiny op still fills a 256-byte block.
  CHECK(env.ciphertext().size() == 256 + crypto::kAeadOverhead);
}

TEST_CASE("malformed envelopes are rejected with a reason", "[protocol]") {
  Fixture f;
  SECTION("unknown version") {
    auto h = f.Header();
    h.set_version(2);
    auto r = protocol::ParseEnvelope(f.Content(h));
    CHECK(r.status().message() == "unknown header version");
  }
  SECTION("short case id") {
    auto h = f.Header();
    h.set_case_id("x");
    CHECK(protocol::ParseEnvelope(f.Content(h)).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("counter 2 without previous hash") {
    auto h = f.Header();
    h.set_device_counter(2);
    CHECK_FALSE(protocol::ParseEnvelope(f.Content(h)).ok());
  }
  SECTION("header bytes that are not a header") {
    v1::Envelope env = f.Content(f.Header());
    env.set_header("\xff\xff\xff");
    CHECK(protocol::ParseEnvelope(env).status().message() == "malformed header");
  }
  SECTION("oversized") {
    v1::Envelope env = f.Content(f.Header());
    env.set_ciphertext(std::string(protocol::kMaxEnvelopeBytes + 1, 'x'));
    CHECK(protocol::ParseEnvelope(env).status().message() == "envelope too large");
  }
  SECTION("control kind without a body") {
    auto h = f.Header();
    h.set_kind(v1::OP_KIND_REKEY);
    v1::ControlBody body;
    body.mutable_create_case();
    auto env = client::SignEnvelope(f.account.local, h, &body, nullptr, {});
    CHECK(protocol::ParseEnvelope(env).status().message() == "control body does not match op kind");
  }
  SECTION("signature of the wrong length") {
    v1::Envelope env = f.Content(f.Header());
    env.set_signature(env.signature().substr(1));
    CHECK(protocol::ParseEnvelope(env).status().message() == "signature must be 64 bytes");
  }
  SECTION("missing signature: allowed on a content op of a run, never on a control op") {
    v1::Envelope env = f.Content(f.Header());
    env.clear_signature();
    CHECK(protocol::ParseEnvelope(env).ok());
    auto h = f.Header();
    h.set_kind(v1::OP_KIND_CLOSE_CASE);
    v1::ControlBody body;
    body.mutable_close_case()->set_retention_days(30);
    auto control = client::SignEnvelope(f.account.local, h, &body, nullptr, {});
    REQUIRE(protocol::ParseEnvelope(control).ok());
    control.clear_signature();
    CHECK(protocol::ParseEnvelope(control).status().message() == "control ops must be signed");
  }
}

// A verifier parses each page into the messages of the page before (client::ParsedPage): what
// ParseEnvelopeInto leaves there is the new envelope's alone, whatever the messages held.
TEST_CASE("an envelope parsed into reused messages keeps nothing of the one before", "[protocol]") {
  Fixture f;
  auto h = f.Header();
  h.set_kind(v1::OP_KIND_CLOSE_CASE);
  v1::ControlBody body;
  body.mutable_close_case()->set_retention_days(30);
  const v1::Envelope control = client::SignEnvelope(f.account.local, h, &body, nullptr, {});
  const v1::Envelope content = f.Content(f.Header());

  v1::OpHeader header;
  v1::ControlBody parsed_control;
  Bytes digest, envelope_hash;
  const protocol::ParsedOpFields into{header, parsed_control, digest, envelope_hash};
  REQUIRE(protocol::ParseEnvelopeInto(control, into).ok());
  REQUIRE(parsed_control.has_close_case());
  REQUIRE(protocol::ParseEnvelopeInto(content, into).ok());
  auto fresh = protocol::ParseEnvelopeFields(content);
  REQUIRE(fresh.ok());
  CHECK(header.SerializeAsString() == fresh->header.SerializeAsString());
  CHECK(parsed_control.ByteSizeLong() == 0);
  CHECK(digest == fresh->digest);
  CHECK(envelope_hash == fresh->envelope_hash);
}

TEST_CASE("every byte of an envelope is covered by its digest", "[protocol]") {
  Fixture f;
  v1::Envelope env = f.Content(f.Header());
  Bytes digest = protocol::OpDigest(env);
  for (int field = 0; field < 4; ++field) {
    v1::Envelope t = env;
    std::string* target = field == 0   ? t.mutable_header()
                          : field == 1 ? t.mutable_nonce()
                          : field == 2 ? t.mutable_key_commitment()
                                       : t.mutable_ciphertext();
    (*target)[target->size() - 1] = static_cast<char>((*target)[target->size() - 1] ^ 1);
    CHECK(protocol::OpDigest(t) != digest);
  }
}

TEST_CASE("receipts verify only with the server key and unchanged fields", "[protocol]") {
  auto server = crypto::NewSigningKeyPair();
  Bytes case_id(16, 9);
  Bytes chain(32, 4);
  v1::Receipt r = protocol::MakeReceipt(case_id, 5, chain, 1234, server.secret_key);
  CHECK(protocol::VerifyReceipt(r, server.public_key));
  v1::Receipt other = r;
  other.set_seq(6);
  CHECK_FALSE(protocol::VerifyReceipt(other, server.public_key));
  CHECK_FALSE(protocol::VerifyReceipt(r, crypto::NewSigningKeyPair().public_key));
}

TEST_CASE("every refusal reason is a well-formed key with a text in Dutch and English",
          "[protocol]") {
  for (std::string_view reason : refusal::kAll) {
    INFO(reason);
    CHECK(refusal::IsReasonKey(reason));
    CHECK(domain::HasUserText(refusal::TextKey(reason)));
    const Status refused(StatusCode::kPermissionDenied, "server: envelope 0: x", reason);
    CHECK(domain::UserText(refused, domain::Language::kDutch) ==
          domain::UserText(refusal::TextKey(reason), domain::Language::kDutch));
  }
  // A reason this library does not know (a newer kringd): the message, as before.
  const Status newer(StatusCode::kPermissionDenied, "referral.no_consent", "SOMETHING_NEW");
  CHECK(domain::UserText(newer) == "De bewoner moet eerst toestemming geven.");
  CHECK_FALSE(refusal::IsReasonKey(""));
  CHECK_FALSE(refusal::IsReasonKey("invite_used"));
  CHECK_FALSE(refusal::IsReasonKey(std::string(refusal::kMaxReasonBytes + 1, 'A')));
}

TEST_CASE("refusal details: what kringd encodes decodes, anything else gives no reason",
          "[protocol]") {
  const std::string details =
      refusal::EncodeDetails(7, "envelope 0: invite was already used", refusal::kInviteUsed);
  CHECK(refusal::DecodeDetails(details) == refusal::kInviteUsed);
  // The layout of google.rpc.Status: code and message as in the gRPC status.
  v1::StatusDetails parsed;
  REQUIRE(parsed.ParseFromString(details));
  CHECK(parsed.code() == 7);
  CHECK(parsed.message() == "envelope 0: invite was already used");
  REQUIRE(parsed.details_size() == 1);
  CHECK(parsed.details(0).type_url() == refusal::kErrorInfoType);

  CHECK(refusal::DecodeDetails("").empty());
  CHECK(refusal::DecodeDetails("\xff\xff\xff").empty());  // not a message
  // Well formed but over the 4 KiB a client reads.
  CHECK(refusal::DecodeDetails(
            refusal::EncodeDetails(7, std::string(5000, 'x'), refusal::kInviteUsed))
            .empty());
  v1::StatusDetails other = parsed;
  other.mutable_details(0)->set_type_url("type.googleapis.com/google.rpc.RetryInfo");
  CHECK(refusal::DecodeDetails(other.SerializeAsString()).empty());
  v1::ErrorInfo foreign;
  foreign.set_reason("INVITE_USED");
  foreign.set_domain("example.org");
  other = parsed;
  other.mutable_details(0)->set_value(foreign.SerializeAsString());
  CHECK(refusal::DecodeDetails(other.SerializeAsString()).empty());
  CHECK(refusal::DecodeDetails(refusal::EncodeDetails(7, "x", "invite used; rm -rf")).empty());
}
