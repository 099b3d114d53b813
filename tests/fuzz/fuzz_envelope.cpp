// What kringd and every client do first with an envelope someone else sent: protocol::ParseEnvelope
// (the structural rules of docs/protocol.md section 7, on push and on pull) and kringd's scan of a
// stored envelope before it serves it (server/src/stored_envelope.h). Two kinds of input: raw
// bytes taken as a serialized Envelope, and an envelope built field by field from the input (so
// the search reaches the rules behind the wire format). Properties: no crash; an envelope the
// parse accepts obeys the structural rules as written in the protocol (sizes, ids, counters, the
// fields of each kind; not yet the per-kind rules of the control bodies); its hashes are the
// protocol's; the scan agrees with a client's parse of the same bytes in a page.
#include <string>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/sync.pb.h"

#include "fuzz_check.h"
#include "stored_envelope.h"

namespace {

namespace v1 = kring::v1;
namespace protocol = kring::protocol;

// Sizes the rules care about, with room around each edge.
std::string Field(kring::fuzz::Input& in) {
  static constexpr size_t kSizes[] = {0, 1, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65};
  const uint8_t pick = in.Byte();
  if (pick < 2 * std::size(kSizes)) {
    return std::string(kSizes[pick % std::size(kSizes)], static_cast<char>(in.Byte()));
  }
  return std::string(in.Bytes());
}

v1::Envelope Build(kring::fuzz::Input& in) {
  v1::OpHeader h;
  h.set_version(static_cast<uint32_t>(in.Byte() % 3));
  h.set_case_id(Field(in));
  h.set_scope_id(static_cast<uint32_t>(in.Byte() % 3));
  h.set_epoch(in.Int(1) % 3);
  h.set_author_account_id(Field(in));
  h.set_author_device_id(Field(in));
  h.set_device_counter(in.Int(1) % 3);
  h.set_prev_device_op_hash(Field(in));
  h.set_client_op_id(Field(in));
  h.set_seen_seq(in.Int(1) % 3);
  h.set_seen_hash(Field(in));
  h.set_kind(static_cast<v1::OpKind>(in.Byte() % 16));
  h.set_created_at_ms(static_cast<int64_t>(in.Int(2)));
  v1::Envelope env;
  if (in.Bool()) {
    env.set_header(h.SerializeAsString());
  } else {
    env.set_header(Field(in));
  }
  env.set_nonce(Field(in));
  env.set_key_commitment(Field(in));
  env.set_ciphertext(Field(in));
  env.set_control_body(Field(in));
  env.set_signature(Field(in));
  return env;
}

// The rules of docs/protocol.md section 7, written again from the text.
void CheckRules(const v1::Envelope& env, const protocol::ParsedOp& op) {
  KRING_FUZZ_CHECK(env.ByteSizeLong() <= protocol::kMaxEnvelopeBytes);
  KRING_FUZZ_CHECK(!env.header().empty() && env.header().size() <= protocol::kMaxHeaderBytes);
  KRING_FUZZ_CHECK(env.control_body().size() <= protocol::kMaxControlBodyBytes);
  const v1::OpHeader& h = op.header;
  KRING_FUZZ_CHECK(h.version() == 1);
  KRING_FUZZ_CHECK(h.case_id().size() == 16 && h.author_account_id().size() == 16 &&
                   h.author_device_id().size() == 16);
  KRING_FUZZ_CHECK(h.device_counter() >= 1);
  KRING_FUZZ_CHECK(h.prev_device_op_hash().empty() == (h.device_counter() == 1));
  KRING_FUZZ_CHECK(h.prev_device_op_hash().empty() || h.prev_device_op_hash().size() == 32);
  KRING_FUZZ_CHECK(h.seen_hash().empty() == (h.seen_seq() == 0));
  KRING_FUZZ_CHECK(h.seen_hash().empty() || h.seen_hash().size() == 32);
  KRING_FUZZ_CHECK(h.epoch() >= 1);
  if (h.kind() == v1::OP_KIND_CONTENT) {
    KRING_FUZZ_CHECK(env.nonce().size() == 24 && env.key_commitment().size() == 32 &&
                     env.ciphertext().size() >= 16 && env.control_body().empty());
    KRING_FUZZ_CHECK(env.signature().empty() || env.signature().size() == 64);
  } else {
    KRING_FUZZ_CHECK(protocol::IsControl(h.kind()));
    KRING_FUZZ_CHECK(env.nonce().empty() && env.key_commitment().empty() &&
                     env.ciphertext().empty());
    KRING_FUZZ_CHECK(env.signature().size() == 64);
  }
  KRING_FUZZ_CHECK(op.digest == protocol::OpDigest(env));
  KRING_FUZZ_CHECK(op.envelope_hash == protocol::EnvelopeHash(env));
}

// A client's parse of `bytes` served in a page (kringd's PullResponseWire, read as the
// PullResponse it is on the wire), the reference for kringd's scan: false when it refuses them.
bool ParseInPage(std::string_view bytes, v1::Envelope& env) {
  v1::PullResponseWire wire;
  v1::LogEntryWire* entry = wire.add_entries();
  entry->set_seq(1);
  entry->set_envelope(std::string(bytes));
  v1::PullResponse page;
  if (!page.ParseFromString(wire.SerializeAsString()) || page.entries_size() != 1) return false;
  env = page.entries(0).envelope();
  return true;
}

void CheckParse(const v1::Envelope& env) {
  kring::Result<protocol::ParsedOp> op = protocol::ParseEnvelope(env);
  kring::Result<protocol::ParsedOp> fields = protocol::ParseEnvelopeFields(env);
  KRING_FUZZ_CHECK(op.ok() == fields.ok());
  if (op.ok()) {
    CheckRules(env, *op);
    KRING_FUZZ_CHECK(fields->digest == op->digest && fields->envelope_hash == op->envelope_hash);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > protocol::kMaxEnvelopeBytes + 64) return 0;
  kring::fuzz::Input in(data, size);
  if (in.Byte() % 2 == 0) {
    const v1::Envelope env = Build(in);
    CheckParse(env);
    // kringd stores what it accepted as serialized; its scan must read it as protobuf does.
    const std::string bytes = env.SerializeAsString();
    const std::optional<bool> signed_ = kring::server::ScanStoredEnvelope(bytes);
    KRING_FUZZ_CHECK(signed_.has_value() && *signed_ == !env.signature().empty());
    return 0;
  }
  const std::string_view bytes = in.Rest();
  v1::Envelope env;
  const bool parsed = ParseInPage(bytes, env);
  const std::optional<bool> signed_ = kring::server::ScanStoredEnvelope(bytes);
  KRING_FUZZ_CHECK(signed_.has_value() == parsed);
  if (parsed) {
    KRING_FUZZ_CHECK(*signed_ == !env.signature().empty());
    CheckParse(env);
  }
  return 0;
}
