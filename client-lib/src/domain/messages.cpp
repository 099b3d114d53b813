#include "kring/domain/messages.h"

namespace kring::domain {
namespace {

struct Text {
  std::string_view key;
  std::string_view nl;
  std::string_view en;
};

// One table, sorted by nothing: lookups are rare (an error or a label on screen).
constexpr Text kTexts[] = {
    // ---- general ----
    {"domain.not_allowed", "Dit mag jij niet doen in deze kring.",
     "You are not allowed to do this in this circle."},
    {"domain.unknown_item", "Dit onderdeel bestaat niet (meer).",
     "This item does not exist (any more)."},
    // ---- organising (referral, circle, invitations, pre-talks, scheduling, meeting) ----
    // ---- plan (plan, agreements, follow-up, mentor, micro-analysis, reports) ----
};

const Text* Find(std::string_view key) {
  for (const Text& t : kTexts) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

}  // namespace

std::string UserText(std::string_view key, Language language) {
  const Text* t = Find(key);
  if (t == nullptr) return std::string(key);
  return std::string(language == Language::kDutch ? t->nl : t->en);
}

std::string UserText(const Status& status, Language language) {
  if (status.ok()) return {};
  return UserText(status.message(), language);
}

bool HasUserText(std::string_view key) {
  const Text* t = Find(key);
  return t != nullptr && !t->nl.empty() && !t->en.empty();
}

}  // namespace kring::domain
