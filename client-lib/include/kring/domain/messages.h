// User text for the netwerkberaad domain: Dutch (B1: short sentences, everyday words) and
// English. Domain calls fail with a Status whose message is a stable key ("referral.no_consent");
// the app shows UserText(key). Keys and texts never contain case content.
#pragma once

#include <string>
#include <string_view>

#include "kring/common/status.h"

namespace kring::domain {

enum class Language { kDutch, kEnglish };

// The text for `key`; the key itself when unknown (so a missing text is visible, not empty).
std::string UserText(std::string_view key, Language language = Language::kDutch);

// The text for a failed Status: of its refusal reason when the server gave a known one
// ("refused." + the reason in lower case), else of its message (a domain key); empty for OK.
std::string UserText(const Status& status, Language language = Language::kDutch);

// Whether a text exists for `key` in both languages (tests check every key the domain uses).
bool HasUserText(std::string_view key);
// Whether UserText(status) finds a text (for its reason or its message).
bool HasUserText(const Status& status);

}  // namespace kring::domain
