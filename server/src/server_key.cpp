#include "server_key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <sys/stat.h>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/protocol.h"

namespace kring::server {
namespace {

Status WriteAll(int fd, const uint8_t* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(StatusCode::kUnavailable, "cannot write server key");
    data += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Result<ServerKey> FromSecret(SecretBytes secret) {
  if (secret.size() != 64) return DataLoss("server key file has the wrong size");
  // Re-derive from the seed so a damaged public half is detected.
  crypto::SigningKeyPair kp = crypto::SigningKeyPairFromSeed(ByteView(secret.data(), 32));
  if (!ConstantTimeEqual(ByteView(secret.data() + 32, 32), kp.public_key)) {
    return DataLoss("server key file is inconsistent");
  }
  ServerKey key;
  key.server_id = protocol::ServerId(kp.public_key);
  key.public_key = kp.public_key;
  key.secret_key = std::move(kp.secret_key);
  return key;
}

}  // namespace

Result<ServerKey> LoadOrCreateServerKey(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kServerKeyFileName;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
      log::Warn("server_key_permissions_too_open");
    }
    SecretBytes secret(65);
    size_t got = 0;
    for (;;) {
      ssize_t n = ::read(fd, secret.data() + got, secret.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
      if (got == secret.size()) break;
    }
    ::close(fd);
    secret.resize(got);
    return FromSecret(std::move(secret));
  }
  if (errno != ENOENT) return Status(StatusCode::kUnavailable, "cannot open server key");

  crypto::SigningKeyPair kp = crypto::NewSigningKeyPair();
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status(StatusCode::kUnavailable, "cannot create server key");
  Status s = WriteAll(fd, kp.secret_key.data(), kp.secret_key.size());
  if (s.ok() && ::fsync(fd) != 0) s = Status(StatusCode::kUnavailable, "cannot sync server key");
  ::close(fd);
  if (s.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    // Another process won the race: use its key.
    s = errno == EEXIST ? Status() : Status(StatusCode::kUnavailable, "cannot store server key");
    ::unlink(tmp.c_str());
    if (s.ok()) return LoadOrCreateServerKey(data_dir);
  }
  ::unlink(tmp.c_str());
  KRING_RETURN_IF_ERROR(s);
  int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  log::Info("server_key_created", {{"server_id", Hex(protocol::ServerId(kp.public_key))}});
  return FromSecret(SecretBytes(kp.secret_key.begin(), kp.secret_key.end()));
}

}  // namespace kring::server
