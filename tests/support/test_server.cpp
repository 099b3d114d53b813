#include "support/test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include <sys/prctl.h>
#include <sys/wait.h>

namespace kring::test {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(10);

// The host of kringd's last --listen: "127.0.0.1" unless a test listens on another.
std::string ListenHost(const std::vector<std::string>& extra_args) {
  std::string listen = "127.0.0.1:0";
  for (size_t i = 0; i < extra_args.size(); ++i) {
    if (extra_args[i] == "--listen" && i + 1 < extra_args.size()) listen = extra_args[i + 1];
    if (extra_args[i].rfind("--listen=", 0) == 0) listen = extra_args[i].substr(9);
  }
  return listen.substr(0, listen.rfind(':'));
}

// The host a client dials for it (a wildcard is dialled on loopback).
std::string ClientHost(const std::vector<std::string>& extra_args) {
  std::string host = ListenHost(extra_args);
  if (host == "[::]") return "[::1]";
  if (host == "0.0.0.0") return "127.0.0.1";
  return host;
}

// "host:port", appended in place (GCC 12's -Wrestrict misreads `host + ":" + port` here).
std::string HostPort(std::string host, int port) {
  host.push_back(':');
  host.append(std::to_string(port));
  return host;
}

}  // namespace

TestServer::TestServer(std::vector<std::string> extra_args, Log log)
    : extra_args_(std::move(extra_args)), log_(log) {
  char tmpl[] = "/tmp/kringd-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  data_dir_ = tmpl;
  try {
    Launch();
  } catch (...) {
    // The destructor does not run for a constructor that throws (tests that expect kringd to
    // refuse its arguments): remove the data dir here, or every run leaves one in /tmp.
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
    throw;
  }
}

TestServer::~TestServer() {
  Kill();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

void TestServer::Launch(int fixed_port) {
  const std::string port_file = data_dir_ + "/port";
  ::unlink(port_file.c_str());
  // Tests create accounts and sign in from 127.0.0.1 faster than kringd lets one address by
  // default: no limit here, unless a test passes its own --unauthenticated-rate (the later flag
  // wins).
  std::vector<std::string> args = {KRINGD_PATH,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   data_dir_ + "/data",
                                   "--port-file",
                                   port_file,
                                   "--log-level",
                                   "warn",
                                   "--unauthenticated-rate",
                                   "0"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  if (fixed_port > 0) {  // the last --listen wins: the same host, on this port
    args.push_back("--listen");
    args.push_back(HostPort(ListenHost(extra_args_), fixed_port));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_file = data_dir_ + "/kringd.log";  // built before fork: no malloc after

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A test that crashes must not leave its kringd behind: the orphan would keep ctest's output
    // pipe open and hang the whole run. (The signal follows the forking thread; tests start
    // servers, and restart them, from their main thread; one started from a thread that ends
    // before the test would be killed with it.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (log_ == Log::kCapture) {
      const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd < 0 || ::dup2(fd, STDERR_FILENO) < 0) ::_exit(127);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  // The port file is written (atomically) only once the server is listening.
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      address_ = HostPort(ClientHost(extra_args_), port);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("kringd exited during start-up");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  Kill();
  throw std::runtime_error("kringd did not start in time");
}

int TestServer::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void TestServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void TestServer::Restart() {
  Kill();
  Launch();
}

void TestServer::RestartOnSamePort() {
  const int port = std::stoi(address_.substr(address_.rfind(':') + 1));
  Kill();
  Launch(port);
}

std::string TestServer::log() const {
  if (log_ != Log::kCapture) return {};
  std::ifstream in(data_dir_ + "/kringd.log", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace kring::test
