// kring: command-line client on libkring. Global options may stand before or after the command;
// see `kring --help`.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <sys/stat.h>

#include "kring/common/log.h"

#include "commands.h"
#include "domain_commands.h"
#include "messages.h"
#include "terminal_text.h"

namespace {

// A profile is one person's store in its own directory under $KRING_HOME (default ~/.kring), so
// one script can act as several people. The name becomes a directory: letters, digits, - and _.
bool ProfileDb(const std::string& name, std::string& db) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_';
    if (!ok) return false;
  }
  std::string home;
  if (const char* env = std::getenv("KRING_HOME")) {
    home = env;
  } else if (const char* user = std::getenv("HOME")) {
    home = std::string(user) + "/.kring";
  } else {
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(home + "/" + name, ec);
  if (ec) return false;
  db = home + "/" + name + "/kring.db";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kring::cli;
  // Before anything is printed: every byte for the terminal passes the one rule there.
  TerminalSafeOutput terminal_safe;
  Options o;
  if (const char* env = std::getenv("KRING_SERVER")) o.server = env;
  if (const char* env = std::getenv("KRING_DB")) o.db = env;
  const char* env_lang = std::getenv("KRING_LANG");
  const bool env_lang_known = env_lang == nullptr || SetLanguage(env_lang);
  std::string profile;
  if (const char* env = std::getenv("KRING_PROFILE")) profile = env;
  kring::log::SetMinLevel(kring::log::Level::kError);
  umask(077);  // the local store and its salt are for this user only
  // The language first, wherever it stands, so --help and errors already use it.
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--lang") == 0) SetLanguage(argv[i + 1]);
  }
  bool lang_given = false;
  bool db_given = false, profile_given = false;
  std::string case_before;  // --case written before the command's words
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    // The global options are read wherever they stand, also after the command word
    // (`kring case list --profile anna --json`); no command uses these names for its own flags.
    // Right after a command's own flag the word is that flag's value, even when it looks like a
    // global option (`--note "--json"`), so it is passed on untouched.
    const bool value_position = !o.args.empty() && o.args.back().rfind("--", 0) == 0 &&
                                o.args.back() != "--help" && o.args.back() != "-h";
    if (value_position) {
      o.args.push_back(arg);
    } else if (arg == "--server") {
      if (!value(o.server)) return 2;
    } else if (arg == "--db") {
      if (!value(o.db)) return 2;
      profile.clear();  // an explicit file wins over KRING_PROFILE
      db_given = true;
    } else if (arg == "--profile") {
      if (!value(profile)) return 2;
      profile_given = true;
    } else if (arg == "--case" && o.args.empty()) {
      // The option of the netwerkberaad commands and of the general commands that take the
      // case, where a user also writes global ones.
      if (!value(case_before)) return 2;
    } else if (arg == "--passphrase-file") {
      if (!value(o.passphrase_file)) return 2;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--lang") {
      std::string lang;
      if (!value(lang)) return 2;
      lang_given = true;
      if (!SetLanguage(lang)) {
        std::cerr << Text(Msg::kError) << ": " << Text(Msg::kUnknownLanguage) << "\n";
        return 2;
      }
    } else if (!o.args.empty()) {
      o.args.push_back(arg);  // the command's own words and flags (--help included)
    } else if (arg == "--help" || arg == "-h") {
      std::cout << Text(Msg::kUsage) << DomainOverview();
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      std::cerr << Text(Msg::kUnknownCommand) << ": " << CommandWord(arg) << "\n"
                << Text(Msg::kUsage);
      return 2;
    } else {
      o.args.push_back(arg);
    }
  }
  // An unknown KRING_LANG is refused only when no --lang overrides it.
  if (!env_lang_known && !lang_given) {
    std::cerr << Text(Msg::kError) << ": " << Text(Msg::kUnknownLanguage) << "\n";
    return 2;
  }
  if (db_given && profile_given) {
    std::cerr << Text(Msg::kError) << ": " << Text(Msg::kDbOrProfile) << "\n";
    return 2;
  }
  if (!case_before.empty()) {
    // Right after the command's words, where the command reads its flags (a command that takes
    // no case refuses it there).
    auto at = o.args.begin();
    while (at != o.args.end() && at->rfind("--", 0) != 0) ++at;
    o.args.insert(at, {"--case", case_before});
  }
  if (!profile.empty() && !ProfileDb(profile, o.db)) {
    std::cerr << Text(Msg::kBadProfile) << "\n";
    return 2;
  }
  return RunCommand(o);
}
