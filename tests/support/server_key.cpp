// TestServer::ServerSecretKey, apart from the rest of TestServer: the only part that needs
// kring::common (SecretBytes wipes through libsodium), so tests that must not link kring::common
// (the C ABI's, see tests/CMakeLists.txt) can run a kringd with kring_test_process alone.
#include <fstream>
#include <stdexcept>

#include "support/test_server.h"

namespace kring::test {

SecretBytes TestServer::ServerSecretKey() const {
  std::ifstream in(data_dir_ + "/data/server_key", std::ios::binary);
  SecretBytes key(64);
  in.read(reinterpret_cast<char*>(key.data()), 64);
  if (in.gcount() != 64) throw std::runtime_error("cannot read server key");
  return key;
}

}  // namespace kring::test
