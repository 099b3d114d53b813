// The driver of a fuzz target in the normal (gcc) build, where libFuzzer is not there: `make
// test` runs every target on its committed seeds, then on a fixed number of inputs made from
// them and from a seeded generator (the same inputs on every run, so a failure repeats). The
// real search for new inputs is `make fuzz` (clang, libFuzzer, tests/fuzz/README.md).
//
//   fuzz_<target> [--runs N] [FILE_OR_DIR...]
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_check.h"

namespace {

using Input = std::vector<uint8_t>;

// xorshift64*: fixed seed, so every run makes the same inputs.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

// Bytes that parsers of text and of protobuf care about: ASCII, UTF-8 leads and continuations,
// the edges of the code point ranges, control characters, protobuf tags and lengths.
constexpr uint8_t kInteresting[] = {
    0x00, 0x01, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x1b, 0x20, 0x2c, 0x3b, 0x5c, 0x61, 0x7f, 0x80,
    0x8f, 0x90, 0x9f, 0xa0, 0xad, 0xae, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef,
    0xf0, 0xf4, 0xf5, 0xff, 0x08, 0x10, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x42, 0x4a, 0x52};

Input Generate(Rng& rng) {
  Input in(rng.Below(rng.Below(4) == 0 ? 2048 : 96));
  const bool text_like = rng.Below(2) == 0;
  for (uint8_t& b : in) {
    b = text_like && rng.Below(3) != 0 ? kInteresting[rng.Below(sizeof(kInteresting))]
                                       : static_cast<uint8_t>(rng.Next());
  }
  return in;
}

Input Mutate(const Input& seed, Rng& rng) {
  Input in = seed;
  const size_t edits = 1 + rng.Below(8);
  for (size_t e = 0; e < edits; ++e) {
    switch (rng.Below(5)) {
      case 0:  // flip a bit
        if (!in.empty()) in[rng.Below(in.size())] ^= static_cast<uint8_t>(1u << rng.Below(8));
        break;
      case 1:  // an interesting byte
        if (!in.empty()) in[rng.Below(in.size())] = kInteresting[rng.Below(sizeof(kInteresting))];
        break;
      case 2:  // cut
        in.resize(rng.Below(in.size() + 1));
        break;
      case 3:  // insert
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(rng.Below(in.size() + 1)),
                  static_cast<uint8_t>(rng.Next()));
        break;
      default: {  // repeat a slice
        if (in.empty()) break;
        const size_t at = rng.Below(in.size());
        const size_t n = 1 + rng.Below(std::min<size_t>(16, in.size() - at));
        Input slice(in.begin() + static_cast<std::ptrdiff_t>(at),
                    in.begin() + static_cast<std::ptrdiff_t>(at + n));
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(rng.Below(in.size() + 1)), slice.begin(),
                  slice.end());
      }
    }
  }
  return in;
}

// The input under test, printed in hex when a property fails (the target aborts), so that the
// failure can be kept as a seed and repeated: `xxd -r -p` turns the line back into the file.
const Input* current = nullptr;

extern "C" void PrintCurrentInput(int) {
  if (current != nullptr) {
    static const char kDigits[] = "0123456789abcdef";
    (void)!write(2, "failing input (hex): ", 21);
    for (uint8_t b : *current) {
      const char pair[2] = {kDigits[b >> 4], kDigits[b & 15]};
      (void)!write(2, pair, 2);
    }
    (void)!write(2, "\n", 1);
  }
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Seeds from a file of hex lines (tests/fuzz/seeds/*.hex: one input per line, '#' starts a
// comment line) or from a file or directory of raw inputs (libFuzzer's corpus form).
bool ReadSeeds(const std::filesystem::path& path, std::vector<Input>& seeds) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());  // the same order, so the same inputs
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    std::ifstream file(f, std::ios::binary);
    if (!file) return false;
    if (f.extension() != ".hex") {
      seeds.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
      continue;
    }
    std::string line;
    while (std::getline(file, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (line.size() % 2 != 0) return false;
      Input in;
      for (size_t i = 0; i < line.size(); i += 2) {
        const int high = HexDigit(line[i]);
        const int low = HexDigit(line[i + 1]);
        if (high < 0 || low < 0) return false;
        in.push_back(static_cast<uint8_t>(high * 16 + low));
      }
      seeds.push_back(std::move(in));
    }
  }
  return true;
}

void Run(const Input& in) {
  current = &in;
  LLVMFuzzerTestOneInput(in.data(), in.size());
  current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  size_t runs = 20000;
  std::vector<Input> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0) {
      char* end = nullptr;
      if (i + 1 == argc || (runs = std::strtoull(argv[++i], &end, 10), *end != '\0')) {
        std::fprintf(stderr, "--runs needs a number\n");
        return 2;
      }
      continue;
    }
    if (!ReadSeeds(argv[i], seeds)) {
      std::fprintf(stderr, "cannot read seeds from %s\n", argv[i]);
      return 2;
    }
  }
  std::signal(SIGABRT, PrintCurrentInput);
  Run(Input{});
  for (const Input& seed : seeds) Run(seed);
  Rng rng;
  for (size_t i = 0; i < runs; ++i) {
    if (!seeds.empty() && rng.Below(2) == 0) {
      Run(Mutate(seeds[rng.Below(seeds.size())], rng));
    } else {
      Run(Generate(rng));
    }
  }
  std::printf("%zu seeds and %zu made inputs: every property held\n", seeds.size(), runs);
  return 0;
}
