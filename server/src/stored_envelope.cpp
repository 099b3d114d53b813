#include "stored_envelope.h"

#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace kring::server {

std::optional<bool> ScanStoredEnvelope(std::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  constexpr int kSignatureField = 6;  // kring.v1.Envelope.signature
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  bool is_signed = false;
  while (!in.ExpectAtEnd()) {
    uint32_t tag = in.ReadTag();
    // 0: ReadTag met a truncated or over-long varint, or the all-zero tag (field 0, varint). Field
    // 0 with another wire type is refused below: by the end-group check or by SkipField, which
    // refuses field number 0 as the parser does.
    if (tag == 0) return std::nullopt;
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_END_GROUP) {
      return std::nullopt;  // an end-group with no group open
    }
    if (WireFormatLite::GetTagFieldNumber(tag) == kSignatureField &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return std::nullopt;
      is_signed = length != 0;
      continue;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
  }
  return is_signed;
}

}  // namespace kring::server
