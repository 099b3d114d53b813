#include "domain/render_text.h"

#include <cstdint>

namespace kring::domain::render {

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool HasControlChars(std::string_view s, bool allow_newlines) {
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    if (allow_newlines && (c == '\n' || c == '\r')) continue;
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

std::string WithoutControlChars(std::string_view s, bool allow_newlines) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    if (c == '\t') {
      out += ' ';
    } else if ((c < 0x20 || c == 0x7F) && !(allow_newlines && (c == '\n' || c == '\r'))) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out += ch;
    }
  }
  return out;
}

std::string NormalizeNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string CheckText(std::string_view s, size_t max_bytes, bool allow_newlines,
                      std::string_view prefix) {
  if (s.size() > max_bytes) return std::string(prefix) + ".too_long";
  if (!IsValidUtf8(s) || HasControlChars(s, allow_newlines)) {
    return std::string(prefix) + ".bad_text";
  }
  return {};
}

}  // namespace kring::domain::render
