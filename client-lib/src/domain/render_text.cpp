#include "domain/render_text.h"

#include <cstdint>

#include "kring/common/utf8.h"

namespace kring::domain::render {

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
  if (!utf8::IsValid(s) || HasControlChars(s, allow_newlines)) {
    return std::string(prefix) + ".bad_text";
  }
  return {};
}

}  // namespace kring::domain::render
