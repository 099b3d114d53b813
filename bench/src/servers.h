// Starting the two servers the memory and catch-up workloads compare, on 127.0.0.1 port 0.
#pragma once

#include <memory>
#include <string>

#include "process.h"

namespace kring::bench {

// kringd on `data_dir` (reused across restarts, so a fixture is built once), or on a fresh
// directory of its own when `data_dir` is empty.
inline std::unique_ptr<ServerProcess> StartKringdOn(const std::string& data_dir) {
  return std::make_unique<ServerProcess>(
      "kringd", KRINGD_PATH,
      std::vector<std::string>{"--listen", "127.0.0.1:0", "--data-dir",
                               data_dir.empty() ? "{dir}/data" : data_dir, "--log-level", "warn"});
}

inline std::unique_ptr<ServerProcess> StartFloorRelay() {
  return std::make_unique<ServerProcess>(
      "floor relay", FLOOR_RELAY_PATH,
      std::vector<std::string>{"--listen", "127.0.0.1:0", "--db", "{dir}/floor.sqlite3"});
}

}  // namespace kring::bench
