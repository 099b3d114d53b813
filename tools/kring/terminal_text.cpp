#include "terminal_text.h"

#include <cstdint>
#include <cstdio>
#include <iostream>

#include "kring/common/utf8.h"

namespace kring::cli {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

using utf8::Decode;
using utf8::Seq;

bool IsBidiControl(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// "\x1b" for an ASCII control character, "\u202e" for the others.
void AppendEscape(uint32_t cp, std::string& out) {
  char buf[16];
  if (cp < 0x80) {
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
  } else {
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
  }
  out += buf;
}

}  // namespace

// A stream buffer that passes what is written through TerminalSafe to `next`.
class TerminalSafeOutput::Filter : public std::streambuf {
 public:
  explicit Filter(std::streambuf* next) : next_(next) {}
  std::streambuf* next() const { return next_; }
  // Writes what is still held back (an unfinished UTF-8 sequence) as invalid.
  void Finish() {
    Drain(true);
    next_->pubsync();
  }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    pending_ += traits_type::to_char_type(ch);
    Drain(false);
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    pending_.append(s, static_cast<size_t>(n));
    Drain(false);
    return n;
  }
  int sync() override { return next_->pubsync(); }

 private:
  void Drain(bool final) {
    std::string safe;
    const size_t used = AppendTerminalSafe(pending_, final, safe);
    pending_.erase(0, used);
    next_->sputn(safe.data(), static_cast<std::streamsize>(safe.size()));
  }

  std::streambuf* next_;
  std::string pending_;  // at most an unfinished UTF-8 sequence between writes
};

namespace {
TerminalSafeOutput::Filter* g_stdout_filter = nullptr;  // while TerminalSafeOutput lives
}  // namespace

TextChar ReadTextChar(std::string_view text, size_t i, bool final) {
  uint32_t cp = 0;
  size_t len = 1;
  switch (Decode(text, i, cp, len)) {
    case Seq::kShort:
      if (!final) return {TextChar::kShort, 0, 0};
      return {TextChar::kInvalid, 0, 1};
    case Seq::kBad:
      return {TextChar::kInvalid, 0, 1};
    case Seq::kOk:
      break;
  }
  const bool control = (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F ||
                       (cp >= 0x80 && cp <= 0x9F) || IsBidiControl(cp);
  return {control ? TextChar::kEscape : TextChar::kKeep, cp, len};
}

size_t AppendTerminalSafe(std::string_view text, bool final, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    const TextChar c = ReadTextChar(text, i, final);
    switch (c.kind) {
      case TextChar::kShort:
        return i;
      case TextChar::kInvalid:
        out += kReplacement;
        break;
      case TextChar::kEscape:
        AppendEscape(c.code_point, out);
        break;
      case TextChar::kKeep:
        out.append(text.substr(i, c.len));
        break;
    }
    i += c.len;
  }
  return i;
}

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendTerminalSafe(text, /*final=*/true, out);
  return out;
}

TerminalSafeOutput::TerminalSafeOutput()
    : out_(std::make_unique<Filter>(std::cout.rdbuf())),
      err_(std::make_unique<Filter>(std::cerr.rdbuf())) {
  g_stdout_filter = out_.get();
  std::cout.rdbuf(out_.get());
  std::cerr.rdbuf(err_.get());
}

TerminalSafeOutput::~TerminalSafeOutput() {
  std::cout.flush();
  std::cerr.flush();
  out_->Finish();
  err_->Finish();
  std::cout.rdbuf(out_->next());
  std::cerr.rdbuf(err_->next());
  g_stdout_filter = nullptr;
}

std::ostream& RawOut() {
  std::cout.flush();
  static std::ostream raw(nullptr);
  if (g_stdout_filter != nullptr) {
    g_stdout_filter->Finish();  // what came before goes first, whole
    raw.rdbuf(g_stdout_filter->next());
  } else {
    raw.rdbuf(std::cout.rdbuf());
  }
  return raw;
}

}  // namespace kring::cli
