// The domain's fixed values (a person's kind, how a pre-talk was held, an invitation's state) as
// words a user types and reads. The domain stores English identifiers and names the Dutch words in
// its messages ("Kies wie deze persoon is: familie, vriend, ..."); the command line accepts the
// identifier and both languages' words, and shows the word of the user's language.
#pragma once

#include <span>
#include <string>

#include "domain_ctx.h"

namespace kring::cli {

struct Word {
  const char* value;  // the domain's identifier, also what --json prints
  const char* nl;
  const char* en;
};

extern const std::span<const Word> kPersonKinds;
extern const std::span<const Word> kPreTalkWays;
extern const std::span<const Word> kInvitationStates;

// The identifier for what the user typed (any case); what matches no word is returned as typed,
// so the domain refuses it with its own message.
std::string DomainWord(std::span<const Word> words, const std::string& typed);

// The word for an identifier in the user's language; an unknown identifier (written by a newer
// version) as it is.
std::string ShowWord(const Ctx& ctx, std::span<const Word> words, const std::string& value);

}  // namespace kring::cli
