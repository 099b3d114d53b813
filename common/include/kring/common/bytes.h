// Byte strings, hex, and a vector that wipes itself when freed (for secrets).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kring/common/status.h"

namespace kring {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// Wipes memory on deallocation so secrets do not linger in freed heap blocks.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n);
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const {
    return true;
  }
};
void WipeMemory(void* p, std::size_t n);
template <typename T>
void WipingAllocator<T>::deallocate(T* p, std::size_t n) {
  WipeMemory(p, n * sizeof(T));
  std::allocator<T>{}.deallocate(p, n);
}

using SecretBytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;

inline ByteView View(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline ByteView View(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(ByteView b) { return std::string(b.begin(), b.end()); }

std::string Hex(ByteView bytes);
// The same lowercase hex by table lookups, not in constant time: only for public values such as
// entity ids (the case state keys its entities by them, several times per op of a catch-up).
std::string HexOfPublic(ByteView bytes);
// The same digits into `out`, which must be 2 * bytes.size() characters: no allocation (for a key
// looked up without a string, such as the reducer's EntityKey). Inline: a catch-up makes tens of
// thousands of entity keys, and out of line it cost 2 million instructions more in the cold sync.
inline void HexOfPublicInto(ByteView bytes, std::span<char> out);
std::optional<Bytes> FromHex(std::string_view hex);
// Constant-time equality for secrets and authenticators (sizes are public).
bool ConstantTimeEqual(ByteView a, ByteView b);

namespace internal {
// The two hex digits of every byte value: one lookup per byte.
inline constexpr std::array<std::array<char, 2>, 256> kHexPairs = [] {
  constexpr char kDigits[] = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> pairs{};
  for (size_t b = 0; b < pairs.size(); ++b) pairs[b] = {kDigits[b >> 4], kDigits[b & 15]};
  return pairs;
}();
}  // namespace internal

inline void HexOfPublicInto(ByteView bytes, std::span<char> out) {
  KRING_CHECK(out.size() == bytes.size() * 2);
  char* p = out.data();
  for (const uint8_t b : bytes) {
    std::memcpy(p, internal::kHexPairs[b].data(), 2);
    p += 2;
  }
}

}  // namespace kring
