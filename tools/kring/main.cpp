// kring: command-line client on libkring. Flags first, then the command; see `kring --help`.
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <sys/stat.h>

#include "kring/common/log.h"

#include "commands.h"
#include "messages.h"

int main(int argc, char** argv) {
  using namespace kring::cli;
  Options o;
  if (const char* env = std::getenv("KRING_SERVER")) o.server = env;
  if (const char* env = std::getenv("KRING_DB")) o.db = env;
  if (const char* env = std::getenv("KRING_LANG")) SetLanguage(env);
  kring::log::SetMinLevel(kring::log::Level::kError);
  umask(077);  // the local store and its salt are for this user only
  // The language first, wherever it stands, so --help and errors already use it.
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--lang") == 0) SetLanguage(argv[i + 1]);
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (!o.args.empty()) {
      o.args.push_back(arg);
    } else if (arg == "--server") {
      if (!value(o.server)) return 2;
    } else if (arg == "--db") {
      if (!value(o.db)) return 2;
    } else if (arg == "--lang") {
      std::string lang;
      if (!value(lang)) return 2;
      SetLanguage(lang);
    } else if (arg == "--help" || arg == "-h") {
      std::cout << Text(Msg::kUsage);
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      std::cerr << Text(Msg::kUnknownCommand) << " " << arg << "\n" << Text(Msg::kUsage);
      return 2;
    } else {
      o.args.push_back(arg);
    }
  }
  return RunCommand(o);
}
