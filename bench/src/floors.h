// Floors: what the hardware and libraries do with no Kring logic at all.
#pragma once

#include <string>

#include "report.h"

namespace kring::bench {

// libsodium primitives at the sizes Kring uses (1 KiB ops, 32-byte digests and keys).
void RunCryptoFloors(Report& report, int rounds);

// What a page fault costs here: the first touches of fresh anonymous memory, one per base page,
// in microseconds per fault. It depends much on the (virtual) machine, and a client that
// touches new memory pays it (docs/performance.md, cold sync).
void RunPageFaultFloor(Report& report, int rounds);

// 1 KiB rows into SQLite at kringd's durability (WAL, synchronous=FULL): one transaction per row
// and batches of 50.
void RunSqliteFloors(Report& report, int rounds, const std::string& dir);

// Inserts up to `rows` rows of `row_bytes` in transactions of `batch` rows, stopping after
// `time_cap` seconds; returns rows/s. The table is created if needed.
double SqliteInsertRate(const std::string& path, size_t rows, size_t batch, size_t row_bytes,
                        double time_cap);

}  // namespace kring::bench
