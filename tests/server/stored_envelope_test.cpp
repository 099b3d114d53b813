// kringd serves stored envelopes without parsing them (server/src/stored_envelope.h): its scan
// must refuse exactly the bytes a parse refuses and read the signature as the parse does, and
// the wire form of a page must read as a PullResponse.
#include "stored_envelope.h"

#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "kring/v1/sync.pb.h"

namespace kring::test {
namespace {

using server::ScanStoredEnvelope;

v1::Envelope SampleEnvelope() {
  v1::Envelope env;
  env.set_header(std::string(40, 'h'));
  env.set_nonce(std::string(24, 'n'));
  env.set_key_commitment(std::string(32, 'k'));
  env.set_ciphertext(std::string(200, 'c'));
  env.set_signature(std::string(64, 's'));
  return env;
}

// What a client's parse makes of `bytes` served in a page (PullResponseWire, read as the
// PullResponse it is on the wire): nullopt when it refuses them, else whether it is signed. The
// envelope sits two messages deep there, which counts against protobuf's recursion limit.
std::optional<bool> ParsedSigned(const std::string& bytes) {
  v1::PullResponseWire wire;
  v1::LogEntryWire* entry = wire.add_entries();
  entry->set_seq(1);
  entry->set_envelope(bytes);
  v1::PullResponse page;
  if (!page.ParseFromString(wire.SerializeAsString()) || page.entries_size() != 1) {
    return std::nullopt;
  }
  return !page.entries(0).envelope().signature().empty();
}

TEST_CASE("a stored envelope is scanned as a parse reads it") {
  v1::Envelope env = SampleEnvelope();
  std::string signed_bytes = env.SerializeAsString();
  CHECK(ScanStoredEnvelope(signed_bytes) == std::optional<bool>(true));
  env.clear_signature();
  CHECK(ScanStoredEnvelope(env.SerializeAsString()) == std::optional<bool>(false));
  CHECK(ScanStoredEnvelope("") == std::optional<bool>(false));
  // Field number 0: the all-zero tag, and with a length-delimited wire type (refused by SkipField).
  for (const std::string& field0 : {std::string("\x00\x00", 2), std::string("\x02\x00", 2)}) {
    CHECK(ScanStoredEnvelope(signed_bytes + field0) == std::nullopt);
    CHECK(ParsedSigned(signed_bytes + field0) == std::nullopt);
  }
  // A later empty signature replaces an earlier one, as in a parse.
  CHECK(ScanStoredEnvelope(signed_bytes + std::string("\x32\x00", 2)) ==
        std::optional<bool>(false));

  // Every truncation and every byte replaced by values that make tags, lengths and groups go
  // wrong: the scan agrees with the parse each time.
  for (size_t n = 0; n < signed_bytes.size(); ++n) {
    std::string cut = signed_bytes.substr(0, n);
    CHECK(ScanStoredEnvelope(cut) == ParsedSigned(cut));
  }
  const unsigned char kValues[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x07,
                                   0x0c, 0x32, 0x7f, 0x80, 0xc8, 0xff};
  for (size_t i = 0; i < signed_bytes.size(); ++i) {
    for (unsigned char v : kValues) {
      std::string changed = signed_bytes;
      changed[i] = static_cast<char>(v);
      INFO("byte " << i << " set to " << static_cast<int>(v));
      CHECK(ScanStoredEnvelope(changed) == ParsedSigned(changed));
    }
  }
}

TEST_CASE("the scan reads tags and groups as the parse does in every encoding") {
  // Found by tests/fuzz/fuzz_envelope.cpp and its review: CodedInputStream reads a tag or a
  // length of up to 10 bytes, the parser of at most 5 (a length also below 2 GiB). 6-byte tags at
  // the top and inside a group, the same tags in 5 bytes, over-long lengths of a known field, the
  // signature and an unknown field, a fifth length byte of 0x10, a length in 5 bytes.
  const std::string cases[] = {
      std::string("\x88\xae\xf6\xf5\x8f\x00\x18", 7),
      std::string("\x88\xae\xf6\xf5\x0f\x18", 6),
      std::string("\x3b\x88\x80\x80\x80\x80\x00\x01\x3c", 9),
      std::string("\x3b\x88\x80\x80\x80\x00\x01\x3c", 8),
      std::string("\x0a\x81\x80\x80\x80\x80\x00\x41", 8),
      std::string("\x32\x81\x80\x80\x80\x80\x00\x41", 8),
      std::string("\x3a\x80\x80\x80\x80\x80\x00", 7),
      std::string("\x3b\x42\x80\x80\x80\x80\x80\x00\x3c", 9),
      std::string("\x32\x81\x80\x80\x80\x10\x41", 7),
      std::string("\x32\x81\x80\x80\x80\x00\x41", 7),
  };
  for (const std::string& bytes : cases) {
    INFO("bytes: " << bytes.size());
    CHECK(ScanStoredEnvelope(bytes) == ParsedSigned(bytes));
  }
  CHECK(ScanStoredEnvelope(cases[0]) == std::nullopt);
  CHECK(ScanStoredEnvelope(cases[2]) == std::nullopt);
  CHECK(ScanStoredEnvelope(cases[5]) == std::nullopt);
  CHECK(ScanStoredEnvelope(cases[9]) == std::optional<bool>(true));
  // Unknown groups nested around the recursion limit: the scan stops where a page's parse does.
  for (int depth : {1, 50, 97, 98, 99, 100, 101, 150}) {
    std::string nested;
    for (int i = 0; i < depth; ++i) nested += "\x3b";  // start group, field 7
    for (int i = 0; i < depth; ++i) nested += "\x3c";  // end group, field 7
    INFO("depth " << depth);
    CHECK(ScanStoredEnvelope(nested) == ParsedSigned(nested));
  }
}

TEST_CASE("a page in kringd's wire form reads as a PullResponse") {
  v1::Envelope env = SampleEnvelope();
  v1::PullResponseWire wire;
  v1::LogEntryWire* e = wire.add_entries();
  e->set_seq(7);
  e->set_envelope(env.SerializeAsString());
  e->set_chain_hash(std::string(32, 'x'));
  wire.mutable_head()->set_seq(7);
  wire.mutable_head()->set_signature(std::string(64, 'r'));

  v1::PullResponse read;
  REQUIRE(read.ParseFromString(wire.SerializeAsString()));
  REQUIRE(read.entries_size() == 1);
  CHECK(read.entries(0).seq() == 7);
  CHECK(read.entries(0).envelope().SerializeAsString() == env.SerializeAsString());
  CHECK(read.entries(0).chain_hash() == std::string(32, 'x'));
  CHECK(read.head().seq() == 7);
  CHECK(read.head().signature() == std::string(64, 'r'));
}

}  // namespace
}  // namespace kring::test
