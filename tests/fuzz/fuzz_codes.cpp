// Text a person types or a server sends that kring decodes without a parser library: hex (ids in
// links and commands), the recovery key written on paper, and the padding under every opened op
// (ISO/IEC 7816-4, common/include/kring/common/crypto.h). Properties: no crash, and each decoder
// is the exact inverse of its encoder on everything it accepts.
#include <string>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"

#include "crypto/identity.h"
#include "fuzz_check.h"

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kring::fuzz::Input in(data, size);
  // Every block size up to 64, and 256, the one the protocol pads content ops to.
  const uint8_t pick = in.Byte();
  const size_t block = pick >= 192 ? 256 : 1 + pick % 64;
  const std::string_view rest = in.Rest();
  const kring::ByteView bytes(reinterpret_cast<const uint8_t*>(rest.data()), rest.size());

  // Hex both ways.
  KRING_FUZZ_CHECK(kring::FromHex(kring::Hex(bytes)) == kring::Bytes(bytes.begin(), bytes.end()));
  if (std::optional<kring::Bytes> decoded = kring::FromHex(rest)) {
    KRING_FUZZ_CHECK(kring::Hex(*decoded) == Lower(rest));
  }

  // Padding: the size and the unpadded bytes agree, and padding them again gives the input back.
  kring::Result<size_t> unpadded_size = kring::crypto::UnpaddedSize(bytes, block);
  kring::Result<kring::Bytes> unpadded = kring::crypto::Unpad(bytes, block);
  KRING_FUZZ_CHECK(unpadded_size.ok() == unpadded.ok());
  if (unpadded.ok()) {
    KRING_FUZZ_CHECK(*unpadded_size == unpadded->size() && unpadded->size() < bytes.size());
    KRING_FUZZ_CHECK(kring::Bytes(bytes.begin(),
                                  bytes.begin() + static_cast<std::ptrdiff_t>(unpadded->size())) ==
                     *unpadded);
    if (bytes.size() % block == 0) {
      KRING_FUZZ_CHECK(kring::crypto::Pad(*unpadded, block) ==
                       kring::Bytes(bytes.begin(), bytes.end()));
    }
  }
  const kring::Bytes padded = kring::crypto::Pad(bytes, block);
  KRING_FUZZ_CHECK(padded.size() % block == 0 && padded.size() > bytes.size());
  kring::Result<kring::Bytes> back = kring::crypto::Unpad(padded, block);
  KRING_FUZZ_CHECK(back.ok() && *back == kring::Bytes(bytes.begin(), bytes.end()));

  // The recovery key: what it accepts prints back as the same key.
  kring::Result<kring::SecretBytes> key =
      kring::client::identity::ParseRecoveryKey(std::string(rest));
  if (key.ok()) {
    KRING_FUZZ_CHECK(key->size() == 32);
    const kring::ByteView k(key->data(), key->size());
    kring::Result<kring::SecretBytes> again =
        kring::client::identity::ParseRecoveryKey(kring::client::identity::FormatRecoveryKey(k));
    KRING_FUZZ_CHECK(again.ok() &&
                     kring::ConstantTimeEqual(k, kring::ByteView(again->data(), again->size())));
  }
  return 0;
}
