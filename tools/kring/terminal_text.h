// What `kring` writes for a person to read is case content other members wrote. Printed as is, a
// note could drive the reader's terminal: escape sequences (colours, cursor moves, OSC 8 links,
// OSC 52 clipboard writes), BEL, backspace or a carriage return that overwrites the line, or bidi
// controls that show text in another order than it is. One rule makes such text harmless; main()
// puts it between std::cout/std::cerr and the terminal, so no command can forget it.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace kring::cli {

// `text` made safe to show: "\n" and "\t" stay; every other C0 control character and DEL becomes
// the visible "\xNN" (ESC: "\x1b"); a C1 control (U+0080-U+009F) and a bidi control (U+202A-U+202E,
// U+2066-U+2069) become the visible "\uNNNN"; invalid UTF-8 becomes U+FFFD, one per bad byte.
// Everything else, including a backslash, is kept as it is.
std::string TerminalSafe(std::string_view text);

// The same rule over `text` of a stream: appends the safe form of the bytes it can judge to `out`
// and returns how many it used. Unless `final`, an incomplete UTF-8 sequence at the end is left
// for the next call (it may continue in the next write).
size_t AppendTerminalSafe(std::string_view text, bool final, std::string& out);

// One character of `text` at byte i as the rule above sees it, for writers with their own escape
// syntax (JStr). `len` bytes are used; kShort only when not `final`.
struct TextChar {
  enum Kind { kKeep, kEscape, kInvalid, kShort } kind;
  uint32_t code_point;  // for kKeep and kEscape
  size_t len;
};
TextChar ReadTextChar(std::string_view text, size_t i, bool final);

// For as long as it lives, everything written to std::cout and std::cerr passes TerminalSafe.
class TerminalSafeOutput {
 public:
  class Filter;  // the stream buffer (terminal_text.cpp; RawOut reaches past it)

  TerminalSafeOutput();
  ~TerminalSafeOutput();
  TerminalSafeOutput(const TerminalSafeOutput&) = delete;
  TerminalSafeOutput& operator=(const TerminalSafeOutput&) = delete;

 private:
  std::unique_ptr<Filter> out_;
  std::unique_ptr<Filter> err_;
};

// Standard output as is, for output with its own format rules that already exclude control
// characters (JSON from JStr/PrintJson, iCalendar with its CRLF line ends, the CSV team report).
// What was written to std::cout before is written first.
std::ostream& RawOut();

}  // namespace kring::cli
