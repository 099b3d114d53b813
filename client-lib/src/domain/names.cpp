#include "kring/domain/names.h"

#include <cstdint>

#include "kring/common/utf8.h"

namespace kring::domain {
namespace {

// The lower-case letter of an upper-case one in the ranges SameName folds; anything else as it is.
uint32_t Lower(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
  // Latin-1 Supplement: À..Þ, except the multiplication sign.
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp == 0x178) return 0xFF;  // Ÿ
  // Latin Extended-A pairs upper and lower letters, even/odd from Ā to ķ and from Ŋ to ŷ,
  // odd/even from Ĺ to ň and from Ź to ž. İ (U+0130), ı, ĸ and ŉ have no simple pair.
  if ((cp >= 0x100 && cp <= 0x137 && cp != 0x130) || (cp >= 0x14A && cp <= 0x177)) {
    return cp % 2 == 0 ? cp + 1 : cp;
  }
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
    return cp % 2 == 1 ? cp + 1 : cp;
  }
  return cp;
}

}  // namespace

bool SameName(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    uint32_t ca = 0, cb = 0;
    size_t la = 0, lb = 0;
    if (utf8::Decode(a, i, ca, la) != utf8::Seq::kOk ||
        utf8::Decode(b, j, cb, lb) != utf8::Seq::kOk) {
      return a == b;
    }
    if (Lower(ca) != Lower(cb)) return false;
    i += la;
    j += lb;
  }
  return i == a.size() && j == b.size();
}

std::vector<const Person*> PeopleNamed(const std::vector<Person>& circle, std::string_view name) {
  std::vector<const Person*> found;
  for (bool with_left : {false, true}) {
    for (const Person& p : circle) {
      if (p.status == "declined" || p.left != with_left || !SameName(p.name, name)) continue;
      found.push_back(&p);
    }
    if (!found.empty()) break;
  }
  return found;
}

const Person* AlreadyNamed(const std::vector<Person>& circle, std::string_view name) {
  for (const Person& p : circle) {
    if (SameName(p.name, name)) return &p;
  }
  return nullptr;
}

}  // namespace kring::domain
