#include "config.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>

namespace kring::server {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

Status ParseTtl(const std::string& v, Config& c) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 1 || n > 30LL * 24 * 3600) {
    return InvalidArgument("session ttl must be 1..2592000 seconds");
  }
  c.session_ttl_seconds = n;
  return {};
}

Status ParseSweep(const std::string& v, Config& c) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 1 || n > 24LL * 3600) {
    return InvalidArgument("retention sweep interval must be 1..86400 seconds");
  }
  c.retention_sweep_seconds = n;
  return {};
}

Status ParseErasedHistoryDays(const std::string& v, Config& c) {
  if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::strtoll(v.c_str(), nullptr, 10) > 36500) {
    return InvalidArgument("erased history days must be 0..36500");
  }
  c.erased_history_days = std::strtoll(v.c_str(), nullptr, 10);
  return {};
}

// Calls per second per address (IPv4 address, IPv6 /64): 0 (no limit), or 0.01..1000000.
Status ParseRate(const std::string& v, Config& c) {
  char* end = nullptr;
  double n = std::strtod(v.c_str(), &end);
  bool number = !v.empty() && *end == '\0' && std::isfinite(n) &&
                v.find_first_not_of("0123456789.") == std::string::npos;
  if (!number || !(n == 0 || (n >= 0.01 && n <= 1e6))) {
    return InvalidArgument(
        "unauthenticated rate must be 0 (no limit) or 0.01..1000000 calls per second");
  }
  c.unauthenticated_rate = n;
  return {};
}

Status ParseBurst(const std::string& v, Config& c) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 1 || n > 1000000) {
    return InvalidArgument("unauthenticated burst must be 1..1000000 calls");
  }
  c.unauthenticated_burst = n;
  return {};
}

// A count of challenges: digits only (no sign, space or exponent), min..1000000.
bool ParseCount(const std::string& v, long long min, long long& out) {
  if (v.empty() || v.size() > 7 || v.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::strtoll(v.c_str(), nullptr, 10);
  return out >= min && out <= 1000000;
}

// Live challenges per address (IPv4 address, IPv6 /64): 0 (no cap) or 1..1000000.
Status ParseChallengeCap(const std::string& v, Config& c) {
  long long n = 0;
  if (!ParseCount(v, 0, n)) {
    return InvalidArgument("challenges per address must be 0 (no cap) or 1..1000000");
  }
  c.challenges_per_address = n;
  return {};
}

Status ParseMaxChallenges(const std::string& v, Config& c) {
  long long n = 0;
  if (!ParseCount(v, 1, n)) return InvalidArgument("max challenges must be 1..1000000");
  c.max_challenges = n;
  return {};
}

Status CheckLogLevel(const std::string& v) {
  if (v == "debug" || v == "info" || v == "warn" || v == "error") return {};
  return InvalidArgument("log level must be debug, info, warn or error");
}

Status ApplyKey(const std::string& key, const std::string& value, Config& c) {
  if (key == "listen") {
    c.listen = value;
  } else if (key == "data_dir") {
    c.data_dir = value;
  } else if (key == "db") {
    c.db = value;
  } else if (key == "session_ttl_seconds") {
    return ParseTtl(value, c);
  } else if (key == "retention_sweep_seconds") {
    return ParseSweep(value, c);
  } else if (key == "erased_history_days") {
    return ParseErasedHistoryDays(value, c);
  } else if (key == "unauthenticated_rate") {
    return ParseRate(value, c);
  } else if (key == "unauthenticated_burst") {
    return ParseBurst(value, c);
  } else if (key == "challenges_per_address") {
    return ParseChallengeCap(value, c);
  } else if (key == "max_challenges") {
    return ParseMaxChallenges(value, c);
  } else if (key == "log_level") {
    KRING_RETURN_IF_ERROR(CheckLogLevel(value));
    c.log_level = value;
  } else if (key == "tls_cert") {
    c.tls_cert = value;
  } else if (key == "tls_key") {
    c.tls_key = value;
  } else {
    return InvalidArgument("unknown config key: " + key);
  }
  return {};
}

Status LoadFile(const std::string& path, Config& c) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read config file");
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("config line " + std::to_string(lineno) + ": expected key = value");
    }
    Status s = ApplyKey(Trim(t.substr(0, eq)), Trim(t.substr(eq + 1)), c);
    if (!s.ok())
      return InvalidArgument("config line " + std::to_string(lineno) + ": " + s.message());
  }
  return {};
}

}  // namespace

const char* Usage() {
  return "usage: kringd [options]\n"
         "  --listen ADDR              listen address (default 127.0.0.1:7443; env KRINGD_LISTEN)\n"
         "  --data-dir DIR             data directory (default ./var/kringd; env KRINGD_DATA_DIR)\n"
         "  --db PATH                  SQLite database (default <data-dir>/kringd.sqlite3; env "
         "KRINGD_DB)\n"
         "  --port-file PATH           write the bound port here once serving\n"
         "  --log-level LEVEL          debug, info, warn or error (default info)\n"
         "  --session-ttl-seconds N    session lifetime (default 3600)\n"
         "  --retention-sweep-seconds N  how often closed cases past retention are deleted "
         "(default 3600)\n"
         "  --erased-history-days N    days an erased case's history (no content) is kept for\n"
         "                             devices that were away (default 365; 0..36500;\n"
         "                             env KRINGD_ERASED_HISTORY_DAYS)\n"
         "  --unauthenticated-rate R   calls per second per client address (IPv4 address, IPv6\n"
         "                             /64; an IPv6 /56 gets 4 times as many, a /48 16 times)\n"
         "                             to the RPCs that need no session: sign-in, chain\n"
         "                             publishing (default 20; 0 = no limit;\n"
         "                             env KRINGD_UNAUTHENTICATED_RATE)\n"
         "  --unauthenticated-burst N  how many of those calls an address may make at once\n"
         "                             (default 100, scaled as the rate;\n"
         "                             env KRINGD_UNAUTHENTICATED_BURST)\n"
         "  --challenges-per-address N live sign-in challenges per client address (IPv4\n"
         "                             address, IPv6 /64; a /56 4 times as many, a /48 16\n"
         "                             times); a new one retires that address's oldest\n"
         "                             (default 128; 0 = no cap;\n"
         "                             env KRINGD_CHALLENGES_PER_ADDRESS)\n"
         "  --max-challenges N         live sign-in challenges in all (default 100000;\n"
         "                             env KRINGD_MAX_CHALLENGES)\n"
         "  --tls-cert PATH --tls-key PATH   serve TLS\n"
         "  --config PATH              key = value file (listen, data_dir, db, "
         "session_ttl_seconds, retention_sweep_seconds, erased_history_days, unauthenticated_rate, "
         "unauthenticated_burst, challenges_per_address, max_challenges, log_level, tls_cert, "
         "tls_key)\n"
         "  --help, --version\n";
}

Result<Config> ParseConfig(int argc, char** argv) {
  Config c;
  // The config file is applied first so that environment and flags override it.
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--config" && i + 1 < argc) KRING_RETURN_IF_ERROR(LoadFile(argv[i + 1], c));
    if (a.rfind("--config=", 0) == 0) KRING_RETURN_IF_ERROR(LoadFile(std::string(a.substr(9)), c));
  }
  if (const char* v = std::getenv("KRINGD_LISTEN")) c.listen = v;
  if (const char* v = std::getenv("KRINGD_DATA_DIR")) c.data_dir = v;
  if (const char* v = std::getenv("KRINGD_DB")) c.db = v;
  // A bad value in the environment stops kringd even when a flag would override it, as a bad
  // line in the config file does; the message names the variable.
  if (const char* v = std::getenv("KRINGD_UNAUTHENTICATED_RATE")) {
    KRING_RETURN_IF_ERROR(ParseRate(v, c).WithContext("KRINGD_UNAUTHENTICATED_RATE: "));
  }
  if (const char* v = std::getenv("KRINGD_UNAUTHENTICATED_BURST")) {
    KRING_RETURN_IF_ERROR(ParseBurst(v, c).WithContext("KRINGD_UNAUTHENTICATED_BURST: "));
  }
  if (const char* v = std::getenv("KRINGD_CHALLENGES_PER_ADDRESS")) {
    KRING_RETURN_IF_ERROR(ParseChallengeCap(v, c).WithContext("KRINGD_CHALLENGES_PER_ADDRESS: "));
  }
  if (const char* v = std::getenv("KRINGD_MAX_CHALLENGES")) {
    KRING_RETURN_IF_ERROR(ParseMaxChallenges(v, c).WithContext("KRINGD_MAX_CHALLENGES: "));
  }
  if (const char* v = std::getenv("KRINGD_ERASED_HISTORY_DAYS")) {
    KRING_RETURN_IF_ERROR(ParseErasedHistoryDays(v, c).WithContext("KRINGD_ERASED_HISTORY_DAYS: "));
  }

  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      c.show_help = true;
      continue;
    }
    if (flag == "--version") {
      c.show_version = true;
      continue;
    }
    std::string value;
    size_t eq = flag.find('=');
    std::string name(flag.substr(0, eq));
    static constexpr std::string_view kKnown[] = {"--config",
                                                  "--listen",
                                                  "--data-dir",
                                                  "--db",
                                                  "--port-file",
                                                  "--log-level",
                                                  "--session-ttl-seconds",
                                                  "--retention-sweep-seconds",
                                                  "--erased-history-days",
                                                  "--unauthenticated-rate",
                                                  "--unauthenticated-burst",
                                                  "--challenges-per-address",
                                                  "--max-challenges",
                                                  "--tls-cert",
                                                  "--tls-key"};
    bool known = false;
    for (std::string_view k : kKnown) known = known || k == name;
    if (!known) return InvalidArgument("unknown flag: " + name);
    if (eq != std::string_view::npos) {
      value = std::string(flag.substr(eq + 1));
    } else if (name.rfind("--", 0) == 0 && i + 1 < argc) {
      value = argv[++i];
    } else {
      return InvalidArgument("missing value for " + name);
    }
    if (name == "--config") continue;  // applied above
    if (name == "--listen") {
      c.listen = value;
    } else if (name == "--data-dir") {
      c.data_dir = value;
    } else if (name == "--db") {
      c.db = value;
    } else if (name == "--port-file") {
      c.port_file = value;
    } else if (name == "--log-level") {
      KRING_RETURN_IF_ERROR(CheckLogLevel(value));
      c.log_level = value;
    } else if (name == "--session-ttl-seconds") {
      KRING_RETURN_IF_ERROR(ParseTtl(value, c));
    } else if (name == "--retention-sweep-seconds") {
      KRING_RETURN_IF_ERROR(ParseSweep(value, c));
    } else if (name == "--erased-history-days") {
      KRING_RETURN_IF_ERROR(ParseErasedHistoryDays(value, c));
    } else if (name == "--unauthenticated-rate") {
      KRING_RETURN_IF_ERROR(ParseRate(value, c));
    } else if (name == "--unauthenticated-burst") {
      KRING_RETURN_IF_ERROR(ParseBurst(value, c));
    } else if (name == "--challenges-per-address") {
      KRING_RETURN_IF_ERROR(ParseChallengeCap(value, c));
    } else if (name == "--max-challenges") {
      KRING_RETURN_IF_ERROR(ParseMaxChallenges(value, c));
    } else if (name == "--tls-cert") {
      c.tls_cert = value;
    } else if (name == "--tls-key") {
      c.tls_key = value;
    } else {
      return InvalidArgument("unknown flag: " + name);
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (c.listen.empty() || c.data_dir.empty()) return InvalidArgument("empty listen or data dir");
  return c;
}

std::string FormatRate(double rate) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", rate);
  return text;
}

}  // namespace kring::server
