// Workloads against a real kringd process and the floor relay (both on 127.0.0.1, port 0).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "report.h"

namespace kring::bench {

struct Options {
  int rounds = 5;
  std::string scratch;  // temp dir for local stores and SQLite files
  size_t cold_ops = 10000;
  size_t authors = 5;
  std::vector<size_t> push_clients = {1, 8, 64, 256};
  double push_time_cap = 4.0;  // seconds per contender per round
  // Instruction counts (docs/performance.md, push bullets): one batch size only (0 = 1 and 50),
  // and the per-client op count times `push_scale`, so two runs differ only in the pushes.
  size_t push_batch = 0;
  size_t push_scale = 1;
  // Called after each round's own contenders with kring's figure of that round, so that other
  // contenders (the peers, bench/src/peers.h) run in the same alternation.
  std::function<void(int round, double kring_seconds)> after_cold_round;
  std::function<void(size_t clients, size_t batch, size_t per_client, int round,
                     double kring_ops_per_s)>
      after_push_round;
};

// Cold sync of a case of `cold_ops` 1 KiB content ops by `authors` devices on a fresh libkring
// device (pull, verify, decrypt, fold, store) vs the floor relay's cold read + local store of the
// same bytes; then the client's in-process verify+open+apply cost vs raw libsodium on the same
// entries.
void RunColdSync(Report& report, const Options& options);

// The names under which a cold round run under callgrind dumps each contender's instructions
// (callgrind_marks.h; RunColdInstructions in bench_main.cpp reads them back).
inline constexpr const char* kLibkringColdCount = "libkring cold sync";
inline constexpr const char* kFloorColdCount = "floor relay cold sync";
inline constexpr const char* kCheckedColdCount = "checked floor cold sync";

// Push throughput: N clients, each its own device and connection, pushing single ops and batches
// of 50 to kringd vs appending the same bytes to the floor relay vs raw SQLite transactions.
void RunPush(Report& report, const Options& options);

// Client seal+sign cost per op: libkring's SignEnvelope vs the raw libsodium calls it needs.
void RunSealCost(Report& report, const Options& options);

// For callgrind: runs one seal loop (`which` = "kring" or "raw") `iterations` times.
void SealLoop(const std::string& which, size_t iterations);

}  // namespace kring::bench
