// A real kringd process for integration tests: temp data dir, port 0, bounded start-up wait.
// Free of grpcpp so any test layer can use it.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "kring/common/bytes.h"

namespace kring::test {

class TestServer {
 public:
  // Where kringd's stderr (its log, one JSON object per line) goes.
  enum class Log { kInherit, kCapture };  // kCapture: to a file that log() reads

  // Starts kringd at once; aborts the test (via exception) if it is not serving within 20 s.
  // A `--listen` in extra_args wins over 127.0.0.1:0 ("[::1]:0" for IPv6; address() follows).
  explicit TestServer(std::vector<std::string> extra_args = {}, Log log = Log::kInherit);
  ~TestServer();  // SIGKILL and remove the data dir
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  const std::string& address() const { return address_; }  // "127.0.0.1:PORT", "[::1]:PORT"
  // With Log::kCapture, everything kringd has logged so far (across restarts); else empty.
  std::string log() const;
  const std::string& data_dir() const { return data_dir_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM and wait: a graceful shutdown. Returns the exit status (0 on a clean shutdown).
  int Stop();
  // SIGKILL and wait: a crash.
  void Kill();
  // Starts again on the same data dir; the port may change (address() follows).
  void Restart();
  // Starts again on the same data dir and the same port, for a client that keeps the address it
  // was opened with (the C ABI's kring_client_open). Fails like the constructor if the port was
  // taken meanwhile.
  void RestartOnSamePort();

  // The server's Ed25519 secret key from <data_dir>/server_key: 64 raw bytes, libsodium layout
  // (32-byte seed followed by the 32-byte public key). Tests that play a malicious server use
  // it to sign forged heads and receipts. In support/server_key.cpp (kring_test_support): the
  // rest of TestServer (kring_test_process) does not link kring::common.
  SecretBytes ServerSecretKey() const;

 private:
  void Launch(int fixed_port = 0);  // 0: the --listen given (127.0.0.1:0 by default)

  std::vector<std::string> extra_args_;
  Log log_;
  std::string data_dir_;
  std::string address_;
  pid_t pid_ = -1;
};

}  // namespace kring::test
