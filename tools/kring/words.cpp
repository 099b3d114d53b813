#include "words.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace kring::cli {
namespace {

constexpr Word kPersonKindWords[] = {
    {"resident", "bewoner", "resident"},
    {"family", "familie", "family"},
    {"friend", "vriend", "friend"},
    {"neighbour", "buur", "neighbour"},
    {"child", "kind", "child"},
    {"advocate", "vertrouwenspersoon", "advocate"},
    {"mentor", "mentor", "mentor"},
    {"professional", "professional", "professional"},
    {"coordinator", "gespreksleider", "coordinator"},
};

constexpr Word kPreTalkWayWords[] = {
    {"home", "thuis", "at home"},    {"phone", "telefoon", "phone"}, {"video", "video", "video"},
    {"office", "kantoor", "office"}, {"other", "anders", "other"},
};

constexpr Word kInvitationStateWords[] = {
    {"not_invited", "niet uitgenodigd", "not invited"},
    {"pending", "uitgenodigd, nog geen antwoord", "invited, no answer yet"},
    {"accepted", "aangenomen, wacht op goedkeuring", "accepted, waiting for approval"},
    {"joined", "doet mee", "joined"},
    {"declined", "afgewezen", "declined"},
    {"expired", "verlopen", "expired"},
    {"revoked", "ingetrokken", "withdrawn"},
};

bool SameWord(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const std::span<const Word> kPersonKinds{kPersonKindWords};
const std::span<const Word> kPreTalkWays{kPreTalkWayWords};
const std::span<const Word> kInvitationStates{kInvitationStateWords};

std::string DomainWord(std::span<const Word> words, const std::string& typed) {
  for (const Word& w : words) {
    if (SameWord(typed, w.value) || SameWord(typed, w.nl) || SameWord(typed, w.en)) return w.value;
  }
  return typed;
}

std::string ShowWord(const Ctx& ctx, std::span<const Word> words, const std::string& value) {
  for (const Word& w : words) {
    if (value == w.value) return ctx.english() ? w.en : w.nl;
  }
  return value;
}

}  // namespace kring::cli
