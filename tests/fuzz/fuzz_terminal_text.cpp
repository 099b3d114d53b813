// The command line's terminal filter (tools/kring/terminal_text.h): whatever a member wrote, what
// reaches the reader's terminal is UTF-8 with no control character but newline and tab, no C1
// control and no bidi control; text without any of them passes unchanged; and the streaming form
// gives the same bytes however the text is cut into writes.
#include <algorithm>
#include <string>

#include "fuzz_check.h"
#include "terminal_text.h"
#include "utf8_reference.h"

namespace {

bool Harmful(uint32_t cp) {
  return (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

// Every code point of a well-formed `s` passes `keep`.
template <typename Keep>
bool AllCodePoints(std::string_view s, const Keep& keep) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = kring::fuzz::WellFormedAt(s, i);
    if (n == 0 || !keep(kring::fuzz::CodePoint(s.substr(i, n)))) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kring::fuzz::Input in(data, size);
  // The first bytes say where the streaming form cuts the text; the rest is the text.
  const size_t cuts = in.Byte() % 8;
  size_t cut_at[8];
  for (size_t i = 0; i < cuts; ++i) cut_at[i] = in.Byte();
  const std::string_view text = in.Rest();

  const std::string safe = kring::cli::TerminalSafe(text);
  KRING_FUZZ_CHECK(kring::fuzz::WellFormed(safe));
  KRING_FUZZ_CHECK(AllCodePoints(safe, [](uint32_t cp) { return !Harmful(cp); }));
  if (AllCodePoints(text, [](uint32_t cp) { return !Harmful(cp); })) KRING_FUZZ_CHECK(safe == text);

  std::string streamed;
  std::string pending;
  size_t from = 0;
  for (size_t i = 0; i <= cuts; ++i) {
    const size_t to = i < cuts ? std::min(text.size(), from + cut_at[i]) : text.size();
    pending.append(text.substr(from, to - from));
    from = to;
    const size_t used = kring::cli::AppendTerminalSafe(pending, i == cuts, streamed);
    KRING_FUZZ_CHECK(used <= pending.size());
    KRING_FUZZ_CHECK(i < cuts || used == pending.size());
    KRING_FUZZ_CHECK(pending.size() - used <= 3);  // only an unfinished sequence waits
    pending.erase(0, used);
  }
  KRING_FUZZ_CHECK(streamed == safe);
  return 0;
}
