// The cost of kringd's per-address limit check (docs/operations.md): reading gRPC's peer string
// and taking a call from each of its buckets, on 100,000 calls of one kind of caller. Prints the
// table's heap; the instructions per check come from callgrind, counting Work only:
//   valgrind --tool=callgrind --toggle-collect='*Work*' kring_rate_limiter_cost v6miss
// Kinds: v4miss (20,000 IPv4 addresses in turn: every call a miss that evicts), v4hit (one
// address), v6miss (20,000 /48s in turn: three misses), v6cycle (the /64s of one /48 in turn),
// v6hit (one /64).
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rate_limiter.h"

namespace kring::server {
namespace {

__attribute__((noinline)) size_t Work(RateLimiter& limiter, const std::vector<std::string>& peers,
                                      size_t calls) {
  size_t admitted = 0;
  for (size_t i = 0; i < calls; ++i) {
    if (limiter.Admit(KeysOfPeer(peers[i % peers.size()])).allowed) ++admitted;
  }
  return admitted;
}

std::vector<std::string> Peers(const std::string& kind) {
  const bool one = kind == "v4hit" || kind == "v6hit";
  const unsigned n = one ? 1 : 20000;
  std::vector<std::string> peers;
  char text[128];
  for (unsigned i = 0; i < n; ++i) {
    if (kind.rfind("v4", 0) == 0) {
      std::snprintf(text, sizeof text, "ipv4:10.%u.%u.%u:5678", i >> 16, (i >> 8) & 255, i & 255);
    } else if (kind == "v6miss") {
      std::snprintf(text, sizeof text, "ipv6:%%5B2a02:%x:%x:34ab:1c2d:3e4f:5a6b:7c8d%%5D:5678",
                    0xa000 + (i >> 16), i & 0xffff);
    } else if (kind == "v6cycle") {
      std::snprintf(text, sizeof text, "ipv6:%%5B2a02:a46c:8f12:%x:1c2d:3e4f:5a6b:7c8d%%5D:5678",
                    i & 0xffff);
    } else {
      std::snprintf(text, sizeof text, "ipv6:%%5B2a02:a46c:8f12:34ab:1c2d:3e4f:5a6b:7c8d%%5D:5678");
    }
    peers.emplace_back(text);
  }
  return peers;
}

size_t HeapInUse() {
  const struct mallinfo2 m = ::mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace
}  // namespace kring::server

int main(int argc, char** argv) {
  using kring::server::RateLimiter;
  const std::string kind = argc > 1 ? argv[1] : "v4miss";
  const std::vector<std::string> peers = kring::server::Peers(kind);
  const size_t before = kring::server::HeapInUse();
  RateLimiter::Options options;
  options.rate = 1e6;  // every call admitted: the path of a call that goes on to do work
  options.burst = 1000000;
  RateLimiter limiter(options);
  const size_t calls = 100000;
  const size_t admitted = kring::server::Work(limiter, peers, calls);
  std::printf("%s: %zu calls, %zu admitted, %zu buckets, %zu bytes of heap\n", kind.c_str(), calls,
              admitted, limiter.tracked_keys(), kring::server::HeapInUse() - before);
  return 0;
}
