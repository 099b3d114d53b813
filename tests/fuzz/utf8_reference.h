// An independent oracle for UTF-8, written from the Unicode Standard's table of well-formed byte
// sequences (chapter 3, table 3-7) and nothing else: the fuzz targets compare kring's own
// decoder (common/src/utf8.cpp, written for speed) and every filter built on it with this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kring::fuzz {

// Length of the well-formed sequence at s[i], or 0 when there is none there.
inline size_t WellFormedAt(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b = at(i);
  if (b <= 0x7f) return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xbf;  // the second byte's range; later bytes are always 80..BF
  if (b >= 0xc2 && b <= 0xdf) {
    need = 1;
  } else if (b == 0xe0) {
    need = 2, lo = 0xa0;
  } else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) {
    need = 2;
  } else if (b == 0xed) {
    need = 2, hi = 0x9f;
  } else if (b == 0xf0) {
    need = 3, lo = 0x90;
  } else if (b >= 0xf1 && b <= 0xf3) {
    need = 3;
  } else if (b == 0xf4) {
    need = 3, hi = 0x8f;
  } else {
    return 0;
  }
  if (i + need >= s.size()) return 0;  // cut short
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k <= need; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return need + 1;
}

inline bool WellFormed(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = WellFormedAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The code point of a well-formed sequence.
inline uint32_t CodePoint(std::string_view seq) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(seq[k])); };
  switch (seq.size()) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x1f) << 6) | (b(1) & 0x3f);
    case 3:
      return ((b(0) & 0x0f) << 12) | ((b(1) & 0x3f) << 6) | (b(2) & 0x3f);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3f) << 12) | ((b(2) & 0x3f) << 6) | (b(3) & 0x3f);
  }
}

}  // namespace kring::fuzz
