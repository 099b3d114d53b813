// A real kringd on 127.0.0.1:0 with a temporary data dir, for the ABI tests. Not the shared
// TestServer: that links kring::common, whose static copy of the kring/v1 protobuf code would be
// registered in the process a second time next to libkring.so's and abort at start-up.
#pragma once

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "support/temp_dir.h"

namespace kring::abi_test {

class KringdProcess {
 public:
  KringdProcess() {
    const std::string port_file = dir_.path() + "/port";
    std::vector<std::string> args = {
        KRINGD_PATH, "--listen", "127.0.0.1:0", "--data-dir", dir_.path() + "/data", "--port-file",
        port_file, "--log-level", "warn",
        // All tests sign in from 127.0.0.1: no per-address limit (TestServer does the same).
        "--unauthenticated-rate", "0"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // A test that crashes must not leave its kringd behind: the orphan would keep ctest's output
      // pipe open and hang the whole run. (The signal follows the forking thread; tests start
      // servers from their main thread.)
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // kringd writes the port file atomically once it listens; poll it with a bounded wait.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        address_ = "127.0.0.1:" + std::to_string(port);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("kringd exited during start-up");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    throw std::runtime_error("kringd did not start in time");
  }
  ~KringdProcess() { Kill(); }
  KringdProcess(const KringdProcess&) = delete;
  KringdProcess& operator=(const KringdProcess&) = delete;

  const std::string& address() const { return address_; }

 private:
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  test::TempDir dir_;
  std::string address_;
  pid_t pid_ = -1;
};

}  // namespace kring::abi_test
