// The general commands (accounts, cases, members, invitations, devices) as the general usage
// text lists them (Msg::kUsage): that text is the one list of these commands and their words.
// commands.cpp derives from it which commands exist and which of them take the case as their
// first word, so the list, the help and the checks cannot drift apart.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace kring::cli {

struct GeneralCommand {
  std::vector<std::string> words;  // "member", "add"; or one word ("sync")
  bool takes_case = false;         // the first argument is CASUS (CASE): --case or KRING_CASE may
                                   // stand in for it
  bool optional_case = false;      // the first argument is [CASUS] (sync): --case may stand in
                                   // for it, KRING_CASE not (without it: every case)
  bool case_from_env = false;      // KRING_CASE may stand in for the case (not for case leave,
                                   // which cannot be undone: its case is always written)
  bool id_after_case = false;      // the argument after the case may be an id (member approve
                                   // CASUS WIE): an id written first may be either
  size_t required = 0;             // the arguments that are not optional, the case included
};

// The commands of the usage text, always read from the Dutch text so that which commands exist
// cannot depend on the language (the command words are the same in both).
std::vector<GeneralCommand> GeneralCommands();

// The command `args` begins with, or nullptr when it begins with none of them.
const GeneralCommand* FindGeneralCommand(const std::vector<GeneralCommand>& commands,
                                         const std::vector<std::string>& args);

}  // namespace kring::cli
