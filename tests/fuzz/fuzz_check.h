// What every fuzz target uses to state a property: a broken property aborts, so libFuzzer keeps
// the input as a crash and the standalone driver (fuzz_main.cpp) fails its test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// libFuzzer's entry point, defined once per target.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define KRING_FUZZ_CHECK(cond)                                                         \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

namespace kring::fuzz {

// Takes typed values off the front of a fuzz input, as clang's FuzzedDataProvider does (which
// the gcc build does not have): a structure-aware target reads its fields one by one, and an
// input that runs out yields zeros and empty strings.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t remaining() const { return size_; }
  uint8_t Byte() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  uint64_t Int(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | Byte();
    return v;
  }
  bool Bool() { return (Byte() & 1) != 0; }
  // A string whose length is the next byte (at most `max`, capped by what is left).
  std::string_view Bytes(size_t max = 255) {
    size_t n = Byte();
    if (n > max) n = max;
    if (n > size_) n = size_;
    std::string_view out(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return out;
  }
  std::string_view Rest() {
    std::string_view out(reinterpret_cast<const char*>(data_), size_);
    data_ += size_;
    size_ = 0;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

}  // namespace kring::fuzz
