#include "kring/common/bytes.h"

#include <sodium.h>

namespace kring {

void WipeMemory(void* p, std::size_t n) { sodium_memzero(p, n); }

std::string Hex(ByteView bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

std::string HexOfPublic(ByteView bytes) {
  std::string out(bytes.size() * 2, '\0');
  HexOfPublicInto(bytes, out);
  return out;
}

std::optional<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  // An empty vector's data() may be null, which sodium_hex2bin must not get (UBSan, found by
  // tests/fuzz/fuzz_codes.cpp).
  if (hex.empty()) return Bytes{};
  Bytes out(hex.size() / 2);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      len != out.size() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return out;
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  // sodium_memcmp's rule, eight bytes a step: every byte is read and the differences are ORed
  // together, with no branch on their value. sodium_memcmp reads a byte at a time through
  // volatile pointers (about 7 instructions a byte), and a sync compares tens of thousands of
  // 32-byte hashes. The empty asm (GCC and Clang, the compilers this project builds with) hides
  // `diff` from the optimizer after each step, so it cannot end the loop at the first difference.
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    diff |= x ^ y;
    __asm__ __volatile__("" : "+r"(diff));
  }
  for (; i < a.size(); ++i) {
    diff |= static_cast<uint64_t>(a[i] ^ b[i]);
    __asm__ __volatile__("" : "+r"(diff));
  }
  return diff == 0;
}

}  // namespace kring
