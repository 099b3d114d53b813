#include "kring/common/utf8.h"

#include <cstdint>
#include <cstring>

namespace kring::utf8 {

Seq Decode(std::string_view text, size_t i, uint32_t& cp, size_t& len) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 < 0x80) {
    cp = b0;
    len = 1;
    return Seq::kOk;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return Seq::kBad;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= text.size()) return Seq::kShort;
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b & 0xC0u) != 0x80u) return Seq::kBad;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return Seq::kOk;
}

bool IsValid(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    // Most text is ASCII: eight bytes without a high bit are eight valid code points, checked
    // in one step instead of decoding each (a note's text is checked on every op folded).
    if (i + 8 <= text.size()) {
      uint64_t word = 0;
      std::memcpy(&word, text.data() + i, sizeof word);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    uint32_t cp = 0;
    size_t len = 1;
    if (Decode(text, i, cp, len) != Seq::kOk) return false;
    i += len;
  }
  return true;
}

}  // namespace kring::utf8
