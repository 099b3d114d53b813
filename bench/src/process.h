// A server process for the benchmarks: a fresh temp dir, 127.0.0.1 port 0, --port-file, and a
// bounded wait until it listens (as tests/support/test_server.cpp does for kringd).
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace kring::bench {

class ServerProcess {
 public:
  // `args` may contain "{dir}", replaced by the process's temp dir. Throws if it does not start.
  ServerProcess(std::string name, std::string binary, std::vector<std::string> args);
  ~ServerProcess();  // SIGTERM, bounded wait, SIGKILL; removes the temp dir
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& address() const { return address_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

 private:
  std::string name_;
  std::string dir_;
  std::string address_;
  pid_t pid_ = -1;
};

// Turns off kringd's per-address limit of the calls that need no session (--unauthenticated-rate)
// for every kringd started from now on: the workloads create thousands of accounts from
// 127.0.0.1. Through the environment (KRINGD_UNAUTHENTICATED_RATE=0), not a flag, so that
// KRING_BENCH_KRINGD may name a kringd older than the flag. Call it once, before any thread
// starts: setenv is not safe while other threads read the environment.
void NoUnauthenticatedLimit();

// Runs `argv` (argv[0] an absolute path) to completion and returns what it wrote to stdout;
// stderr passes through. Killed after `timeout_seconds`. `exit_code` gets the exit status, or
// -1 when it was killed or did not exit normally.
std::string RunCapture(const std::vector<std::string>& argv, double timeout_seconds,
                       int* exit_code);

// Writes every dirty page of the machine to disk (sync(2)) and returns when that is done. Called
// before each timed run of the cold-sync rounds, so that no contender pays for the writeback of
// what ran before it: PouchDB's client, for one, leaves megabytes in the page cache without an
// fsync, and the kernel would write them back during the next contender's commits.
void SettleDisk();

// The absolute path of `name` found in $PATH, or "" when there is none.
std::string FindInPath(const std::string& name);

// A temp dir removed on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kring::bench
