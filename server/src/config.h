// kringd configuration: defaults, then the optional config file, then environment, then flags.
#pragma once

#include <cstdint>
#include <string>

#include "kring/common/status.h"

namespace kring::server {

struct Config {
  std::string listen = "127.0.0.1:7443";
  std::string data_dir = "./var/kringd";
  std::string db;         // empty: <data_dir>/kringd.sqlite3
  std::string port_file;  // empty: none
  std::string log_level = "info";
  int64_t session_ttl_seconds = 3600;
  int64_t retention_sweep_seconds = 3600;
  // Days an erased case's history (erased_history, erased_readers) is kept after the erasure;
  // the retention sweep deletes older ones (the tombstone stays). 0: deleted at the next sweep.
  int64_t erased_history_days = 365;
  // Calls that need no session, per client address (IPv4 address, IPv6 /64): `rate` per second
  // on average, `burst` at once; an IPv6 /56 and /48 get both scaled by kWiderScale
  // (rate_limiter.h). Rate 0: no limit. Defaults: docs/operations.md.
  double unauthenticated_rate = 20;
  int64_t unauthenticated_burst = 100;
  // Live sign-in challenges per client address (IPv4 address, IPv6 /64; a /56 and /48 get it
  // scaled by kWiderScale): at the cap a new one retires that address's oldest. 0: no cap.
  int64_t challenges_per_address = 128;
  // Live sign-in challenges in all (SessionManager::kMaxChallenges by default).
  int64_t max_challenges = 100000;
  std::string tls_cert;
  std::string tls_key;
  bool show_help = false;
  bool show_version = false;

  std::string DbPath() const { return db.empty() ? data_dir + "/kringd.sqlite3" : db; }
};

// Parses argv (and KRINGD_* environment). An error means usage + exit code 2.
Result<Config> ParseConfig(int argc, char** argv);
const char* Usage();
// "20", "0.5": a rate as the flags take it, for the log.
std::string FormatRate(double rate);

}  // namespace kring::server
