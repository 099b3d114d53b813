// The protocol's framed BLAKE2b (common/src/protocol.cpp's Hasher: the label, then a u64 length
// and the bytes of each part) with raw libsodium calls, for the contenders that do the checks'
// cryptography without libkring.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kring::bench {

class RawHash {
 public:
  explicit RawHash(const char* label, const uint8_t* key = nullptr, size_t key_len = 0) {
    crypto_generichash_init(&st_, key, key_len, 32);
    Part(reinterpret_cast<const uint8_t*>(label), std::strlen(label));
  }
  RawHash& Part(const uint8_t* p, size_t n) {
    U64(n);
    if (n > 0) crypto_generichash_update(&st_, p, n);
    return *this;
  }
  RawHash& Part(std::string_view s) {
    return Part(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  RawHash& U64(uint64_t v) {
    uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(v >> (8 * i));
    crypto_generichash_update(&st_, le, 8);
    return *this;
  }
  void Final(uint8_t* out) { crypto_generichash_final(&st_, out, 32); }

 private:
  crypto_generichash_state st_;
};

}  // namespace kring::bench
