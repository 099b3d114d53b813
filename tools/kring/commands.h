// The CLI's commands. Each returns the process exit code: 0 ok, 1 failure, 2 usage error,
// 3 security alarm (also a refusal because the case is stopped by one: Fail, IsHaltedCase).
#pragma once

#include <string>
#include <vector>

namespace kring::cli {

struct Options {
  std::string server = "127.0.0.1:7443";
  std::string db = "kring.db";
  std::string passphrase_file;    // --passphrase-file: the passphrase is its first line
  bool json = false;              // --json: commands print JSON for scripts
  std::vector<std::string> args;  // the command and its arguments
};

int RunCommand(const Options& options);

}  // namespace kring::cli
