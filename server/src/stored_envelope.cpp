#include "stored_envelope.h"

#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace kring::server {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr int kSignatureField = 6;  // kring.v1.Envelope.signature
// The parser reads a tag of at most 5 bytes (parse_context.h's ReadTag); CodedInputStream takes up
// to 10, dropping the bits past 32. So each tag's length is measured here: a 6-byte tag, at the
// top or inside a group, was read as a field by the scan and refused by the parse (found by
// tests/fuzz/fuzz_envelope.cpp).
constexpr int kMaxTagBytes = 5;
// Groups nested deeper than this fail a client's parse of the page: protobuf's recursion limit is
// 100, and a page holds the envelope two messages deep (PullResponse, LogEntry). kringd refuses
// pushed envelopes with unknown fields (case_log.cpp), so only bytes changed at rest get here.
constexpr int kMaxGroupDepth = 98;

// The next tag as the parser reads it; 0 when it would refuse it (truncated, over 5 bytes, or the
// all-zero tag, field 0 with wire type varint; field 0 with another wire type is refused by the
// caller's checks).
uint32_t ReadTag(CodedInputStream& in) {
  const int at = in.CurrentPosition();
  const uint32_t tag = in.ReadTag();
  return in.CurrentPosition() - at > kMaxTagBytes ? 0 : tag;
}

// A length as the parser reads it (parse_context.h's ReadSize): at most 5 bytes and below 2 GiB.
// CodedInputStream::ReadVarint32 takes up to 10 bytes and drops the bits past 32 (found in the
// review of the fuzz targets).
bool ReadLength(CodedInputStream& in, uint32_t& length) {
  length = 0;
  for (int i = 0; i < 5; ++i) {
    uint8_t byte = 0;
    if (!in.ReadRaw(&byte, 1)) return false;
    if (i == 4 && byte >= 0x08) return false;  // 2 GiB or more, or a sixth byte
    length |= static_cast<uint32_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) return true;
  }
  return false;
}

// Skips the field of `tag`, whose tag has been read; false where the parser refuses.
bool SkipField(CodedInputStream& in, uint32_t tag, int depth);

// Skips the fields of a group up to its end tag (for `field`); false where the parser refuses.
bool SkipGroup(CodedInputStream& in, int field, int depth) {
  if (depth > kMaxGroupDepth) return false;
  for (;;) {
    const uint32_t tag = ReadTag(in);
    if (tag == 0) return false;
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_END_GROUP) {
      return WireFormatLite::GetTagFieldNumber(tag) == field;
    }
    if (!SkipField(in, tag, depth)) return false;
  }
}

bool SkipField(CodedInputStream& in, uint32_t tag, int depth) {
  if (WireFormatLite::GetTagFieldNumber(tag) == 0) return false;
  switch (WireFormatLite::GetTagWireType(tag)) {
    case WireFormatLite::WIRETYPE_VARINT: {
      uint64_t value = 0;
      return in.ReadVarint64(&value);
    }
    case WireFormatLite::WIRETYPE_FIXED64:
      return in.Skip(8);
    case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
      uint32_t length = 0;
      return ReadLength(in, length) && in.Skip(static_cast<int>(length));
    }
    case WireFormatLite::WIRETYPE_START_GROUP:
      return SkipGroup(in, WireFormatLite::GetTagFieldNumber(tag), depth + 1);
    case WireFormatLite::WIRETYPE_FIXED32:
      return in.Skip(4);
    default:  // an end-group with no group open, or wire types 6 and 7
      return false;
  }
}

}  // namespace

std::optional<bool> ScanStoredEnvelope(std::string_view bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  bool is_signed = false;
  while (!in.ExpectAtEnd()) {
    const uint32_t tag = ReadTag(in);
    if (tag == 0) return std::nullopt;
    if (WireFormatLite::GetTagFieldNumber(tag) == kSignatureField &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!ReadLength(in, length) || !in.Skip(static_cast<int>(length))) return std::nullopt;
      is_signed = length != 0;
      continue;
    }
    if (!SkipField(in, tag, 0)) return std::nullopt;
  }
  return is_signed;
}

}  // namespace kring::server
