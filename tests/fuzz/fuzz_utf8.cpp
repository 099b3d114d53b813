// kring::utf8 (the one strict decoder behind the content model, the export renderers and the
// command line's terminal filter) against the Unicode Standard's table (utf8_reference.h), and
// against protobuf's own check: a text kring accepts must be one protobuf accepts in a string
// field, or a note would make its author's store unreadable.
#include <google/protobuf/stubs/common.h>

#include "kring/common/utf8.h"

#include "fuzz_check.h"
#include "utf8_reference.h"

namespace {

using kring::utf8::Seq;

// Whether `prefix` (cut short at the end of a text) can still become a well-formed sequence.
bool CanStillEndWell(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 3) return false;
  for (int a = 0x80; a <= 0xbf; ++a) {
    std::string s(prefix);
    s.push_back(static_cast<char>(a));
    if (kring::fuzz::WellFormedAt(s, 0) == s.size()) return true;
    for (int b = 0x80; b <= 0xbf && s.size() < 4; b += 0x3f) {
      std::string t = s;
      t.push_back(static_cast<char>(b));
      if (kring::fuzz::WellFormedAt(t, 0) == t.size()) return true;
      std::string u = t + '\x80';
      if (u.size() <= 4 && kring::fuzz::WellFormedAt(u, 0) == u.size()) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = kring::utf8::IsValid(text);
  KRING_FUZZ_CHECK(valid == kring::fuzz::WellFormed(text));
  if (valid) {
    KRING_FUZZ_CHECK(google::protobuf::internal::IsStructurallyValidUTF8(
        text.data(), static_cast<int>(text.size())));
  }

  // Decode, sequence by sequence, says the same and gives the table's code points.
  bool all_ok = true;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t len = 0;
    const Seq seq = kring::utf8::Decode(text, i, cp, len);
    const size_t expected = kring::fuzz::WellFormedAt(text, i);
    if (seq == Seq::kOk) {
      KRING_FUZZ_CHECK(len == expected && len >= 1 && len <= 4);
      KRING_FUZZ_CHECK(cp == kring::fuzz::CodePoint(text.substr(i, len)));
      i += len;
      continue;
    }
    all_ok = false;
    KRING_FUZZ_CHECK(expected == 0);
    // And the converse: a sequence the end of the text cut off, which more bytes could still
    // complete, is short, not bad (a stream waits for the rest of it).
    KRING_FUZZ_CHECK((seq == Seq::kShort) == CanStillEndWell(text.substr(i)));
    break;
  }
  KRING_FUZZ_CHECK(all_ok == valid);
  return 0;
}
