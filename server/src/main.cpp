// kringd: flags -> config -> run until SIGTERM/SIGINT.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <absl/synchronization/mutex.h>
#include <sys/stat.h>

#include "kring/common/crypto.h"
#include "kring/common/log.h"

#include "config.h"
#include "server.h"

namespace {

kring::log::Level ParseLevel(const std::string& s) {
  if (s == "debug") return kring::log::Level::kDebug;
  if (s == "warn") return kring::log::Level::kWarn;
  if (s == "error") return kring::log::Level::kError;
  return kring::log::Level::kInfo;
}

// Written to a temp file and renamed, so a reader never sees a partial port number.
bool WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = std::fprintf(f, "%d\n", port) > 0;
  ok = std::fclose(f) == 0 && ok;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::umask(077);  // database, WAL and key files are private to the service user
  auto config = kring::server::ParseConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "kringd: %s\n%s", config.status().message().c_str(),
                 kring::server::Usage());
    return 2;
  }
  if (config->show_help) {
    std::fputs(kring::server::Usage(), stdout);
    return 0;
  }
  if (config->show_version) {
    std::printf("kringd %s\n", KRING_VERSION);
    return 0;
  }
  kring::log::SetMinLevel(ParseLevel(config->log_level));
  // Debian builds absl without NDEBUG, which leaves absl::Mutex's deadlock detection on: every
  // lock gRPC takes updates a process-wide lock graph under one global lock, several us of CPU
  // per push (docs/performance.md). It is a debugging aid for absl's own users (kringd's locks
  // are std::mutex), so kringd turns it off before any thread starts.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  kring::crypto::EnsureInitialized();

  // Block the shutdown signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = kring::server::Server::Start(*config);
  if (!server.ok()) {
    kring::log::Error("start_failed",
                      {{"code", std::string(kring::StatusCodeName(server.status().code()))},
                       {"reason", server.status().message()}});
    return 1;
  }
  if (!config->port_file.empty() && !WritePortFile(config->port_file, (*server)->port())) {
    kring::log::Error("port_file_failed");
    (*server)->Shutdown();
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  kring::log::Info("signal", {{"signal", int64_t{sig}}});
  (*server)->Shutdown();
  return 0;
}
