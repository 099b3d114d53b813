// kring_bench: every benchmark of issue 7 in one run. Writes <out>/latest.md and latest.json.
//
//   kring_bench [--out DIR] [--rounds N] [--quick] [--clients 1,8,64,256]
//   [--mem-clients 100,1000,5000] [--edits 1000]
//   [--only crypto,sqlite,seal,callgrind,coldcount,cold,push,peers,catchup,memory]
//
// peers (Yjs + y-websocket, PouchDB + express-pouchdb; bench/peers/, installed with npm ci when
// missing) run inside the cold and push rounds; without node they are skipped with a note.
//
// Every comparison alternates its contenders (A B A B ...) and reports the median ratio with
// min-max. Only loopback addresses are used; every loop is bounded in count and time.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sys/utsname.h>

#include "kring/common/crypto.h"
#include "kring/common/log.h"

#include "callgrind_marks.h"
#include "catch_up.h"
#include "floors.h"
#include "memory.h"
#include "peers.h"
#include "process.h"
#include "report.h"
#include "workloads.h"

namespace kring::bench {
namespace {

std::string Machine() {
  std::string model = "unknown CPU";
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  long mem_kb = 0;
  std::ifstream mem("/proc/meminfo");
  for (std::string line; std::getline(mem, line);) {
    if (line.rfind("MemTotal:", 0) == 0) mem_kb = std::stol(line.substr(9));
  }
  utsname u{};
  uname(&u);
  std::ostringstream o;
  o << model << ", " << sysconf(_SC_NPROCESSORS_ONLN) << " cores, " << mem_kb / 1024
    << " MiB RAM, Linux " << u.release << "; libsodium 1.0.18, SQLite 3.40, gRPC 1.51 "
    << "(Debian 12 packages); Release build";
  return o.str();
}

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

// Instructions callgrind counts for `iterations` seal loops of one contender.
double CallgrindInstructions(const std::string& which, size_t iterations) {
  std::string cmd = "valgrind --tool=callgrind --callgrind-out-file=/dev/null /proc/" +
                    std::to_string(getpid()) + "/exe --callgrind-loop " + which + " " +
                    std::to_string(iterations) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen valgrind");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  std::smatch m;
  if (rc != 0 || !std::regex_search(out, m, std::regex("Collected : ([0-9]+)"))) {
    throw std::runtime_error("callgrind run failed");
  }
  return std::stod(m[1]);
}

// Instruction counts repeat within 1%, so one run per contender is enough; the setup is removed
// by taking the difference of a long and a short run.
void RunCallgrind(Report& report) {
  if (std::system("command -v valgrind >/dev/null 2>&1") != 0) {
    report.notes.push_back("callgrind: valgrind not installed, instruction counts skipped");
    return;
  }
  constexpr size_t kShort = 100;
  constexpr size_t kLong = 1100;
  Comparison c{"client seal + sign per 1 KiB op (callgrind instructions)",
               "libkring SignEnvelope + header + envelope hash",
               "raw libsodium calls of the same work",
               "instr/op",
               false,
               {},
               {},
               1.2,
               "<= 1.2x",
               "valgrind --tool=callgrind; (count(1100) - count(100)) / 1000; one run each "
               "(deterministic up to the random nonces and keys)"};
  for (const char* which : {"kring", "raw"}) {
    double per_op = (CallgrindInstructions(which, kLong) - CallgrindInstructions(which, kShort)) /
                    static_cast<double>(kLong - kShort);
    (std::string(which) == "kring" ? c.a : c.b).push_back(per_op);
  }
  report.comparisons.push_back(c);
}

// The instructions of one cold round, counted by callgrind in a run of this binary under valgrind
// (`--only cold --rounds 1` with KRING_BENCH_COLD_ROUNDS_ONLY): for each contender its client's
// run and the closing of its local database (ClientCost: the thread that calls it, and every
// std::thread that runs meanwhile; gRPC's own threads are not std::threads and are not counted
// for any contender). The servers run outside valgrind and are not counted. Times of the cold
// rounds range over 2x on this machine; libkring's count repeats within 0.3%, the floors' within
// a few percent (their WAL copies depend on timing; docs/performance.md).
void RunColdInstructions(Report& report, const Options& options, bool quick) {
  const std::string valgrind = FindInPath("valgrind");
  const std::string env = FindInPath("env");
  if (valgrind.empty() || env.empty()) {
    report.notes.push_back("coldcount: valgrind not installed, cold-sync instructions skipped");
    return;
  }
  if (!kCallgrindMarks) {
    report.notes.push_back(
        "coldcount: built without valgrind/callgrind.h, cold-sync instructions skipped");
    return;
  }
  const std::string dir = options.scratch + "/cold-callgrind";
  std::filesystem::create_directories(dir);
  // The child runs the rounds only, with none of the settings meant for this run's own rounds.
  std::vector<std::string> argv = {env,
                                   "-u",
                                   "KRING_BENCH_COLD_SYNC_ONLY",
                                   "-u",
                                   "KRING_BENCH_MARKS",
                                   "-u",
                                   "KRING_BENCH_COLD_HOOK",
                                   "KRING_BENCH_COLD_ROUNDS_ONLY=1",
                                   valgrind,
                                   "--tool=callgrind",
                                   "-q",
                                   "--callgrind-out-file=" + dir + "/counts",
                                   "--toggle-collect=std::thread::_State_impl*",
                                   "/proc/" + std::to_string(getpid()) + "/exe",
                                   "--only",
                                   "cold",
                                   "--rounds",
                                   "1",
                                   "--out",
                                   dir};
  if (quick) argv.push_back("--quick");
  int code = 0;
  RunCapture(argv, 3600, &code);
  if (code != 0) {
    throw std::runtime_error("callgrind cold run failed: exit code " + std::to_string(code));
  }
  // Each mark's dump is a file of its own (counts.1, counts.2, ...) named in its "desc" line.
  std::optional<double> kring, floor, checked;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().filename().string().rfind("counts.", 0) != 0) continue;
    std::ifstream in(file.path());
    std::string mark;
    std::optional<double> total;
    for (std::string line; std::getline(in, line);) {
      constexpr std::string_view kTrigger = "desc: Trigger: Client Request: ";
      if (line.rfind(kTrigger, 0) == 0) mark = line.substr(kTrigger.size());
      if (line.rfind("totals: ", 0) == 0) total = std::stod(line.substr(8));
    }
    if (mark == kLibkringColdCount) kring = total;
    if (mark == kFloorColdCount) floor = total;
    if (mark == kCheckedColdCount) checked = total;
  }
  if (!kring || !floor || !checked) throw std::runtime_error("callgrind cold run wrote no counts");
  const std::string workload = "cold sync of " + std::to_string(options.cold_ops) +
                               " x 1 KiB ops, fresh device: client instructions (callgrind)";
  const std::string kring_name = "libkring SyncNow, all its threads";
  const std::string floor_name = "floor relay's reader (pages + local SQLite store)";
  const std::string checked_name = "checked floor (the reader + the checks' raw crypto)";
  auto add = [&](const std::string& a_name, double a, const std::string& b_name, double b,
                 const std::string& note) {
    report.comparisons.push_back(
        Comparison{workload, a_name, b_name, "instr", false, {a}, {b}, std::nullopt, "", note});
  };
  add(kring_name, *kring, floor_name, *floor,
      "one round under valgrind --tool=callgrind; the servers (kringd, floor relay) not counted");
  add(checked_name, *checked, floor_name, *floor, "");
  add(kring_name, *kring, checked_name, *checked, "");
}

int Main(int argc, char** argv) {
  NoUnauthenticatedLimit();  // first: no thread runs yet
  crypto::EnsureInitialized();
  log::SetMinLevel(log::Level::kError);
  std::string out_dir = "bench/results";
  Options options;
  std::set<std::string> only;
  bool quick = false;
  std::vector<size_t> mem_clients = {100, 1000, 5000};
  size_t edits = 1000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--callgrind-loop") {
      std::string which = next();
      SealLoop(which, std::stoul(next()));
      return 0;
    } else if (a == "--out") {
      out_dir = next();
    } else if (a == "--rounds") {
      options.rounds = std::max(1, std::min(50, std::stoi(next())));
    } else if (a == "--clients") {
      options.push_clients.clear();
      std::stringstream ss(next());
      for (std::string c; std::getline(ss, c, ',');) {
        options.push_clients.push_back(std::max<size_t>(1, std::min<size_t>(512, std::stoul(c))));
      }
    } else if (a == "--mem-clients") {
      mem_clients.clear();
      std::stringstream ss(next());
      for (std::string c; std::getline(ss, c, ',');) {
        mem_clients.push_back(std::max<size_t>(1, std::min<size_t>(100000, std::stoul(c))));
      }
    } else if (a == "--edits") {
      edits = std::max<size_t>(1, std::min<size_t>(100000, std::stoul(next())));
    } else if (a == "--push-batch") {
      options.push_batch = std::stoul(next());
    } else if (a == "--push-scale") {
      options.push_scale = std::max<size_t>(1, std::min<size_t>(100, std::stoul(next())));
    } else if (a == "--push-time-cap") {
      options.push_time_cap = std::max(0.1, std::stod(next()));
    } else if (a == "--quick") {
      quick = true;
    } else if (a == "--only") {
      std::stringstream ss(next());
      for (std::string s; std::getline(ss, s, ',');) only.insert(s);
      // The peers are measured in the cold and push rounds: `--only peers` alone runs both,
      // `--only push,peers` just push.
      if (only.count("peers") > 0 && only.count("cold") == 0 && only.count("push") == 0) {
        only.insert({"cold", "push"});
      }
    } else {
      std::fprintf(
          stderr,
          "usage: kring_bench [--out DIR] [--rounds N] [--quick] [--clients 1,8,64,256] "
          "[--mem-clients 100,1000,5000] [--edits 1000] "
          "[--push-batch 1|50] [--push-scale K] [--push-time-cap S] "
          "[--only crypto,sqlite,seal,callgrind,coldcount,cold,push,peers,catchup,memory]\n");
      return 2;
    }
  }
  if (quick) {
    options.cold_ops = 2000;
    options.push_time_cap = 1.5;
    mem_clients = {100, 500};
    edits = 200;
  }
  auto want = [&](const std::string& s) { return only.empty() || only.count(s) > 0; };
  std::error_code made;
  std::filesystem::create_directories(out_dir, made);
  if (made) {
    std::fprintf(stderr, "bench: cannot create %s: %s\n", out_dir.c_str(), made.message().c_str());
    return 2;
  }
  ScratchDir scratch;
  options.scratch = scratch.path();

  Report report;
  report.started_at = Timestamp();
  report.machine = Machine();
  report.rounds = options.rounds;
  report.command = "make bench";
  if (argc > 1) {
    report.command = "kring_bench";
    for (int i = 1; i < argc; ++i) report.command += std::string(" ") + argv[i];
  }
  auto step = [&](const std::string& name, const std::function<void()>& fn) {
    if (!want(name)) return;
    double start = Now();
    std::fprintf(stderr, "bench: %s ...\n", name.c_str());
    fn();
    std::fprintf(stderr, "bench: %s done in %.1f s\n", name.c_str(), Now() - start);
    report.WriteMarkdown(out_dir + "/latest.md");  // partial results survive a later failure
    report.WriteJson(out_dir + "/latest.json");
  };
  step("crypto", [&] {
    RunCryptoFloors(report, options.rounds);
    RunPageFaultFloor(report, options.rounds);
  });
  step("sqlite", [&] { RunSqliteFloors(report, options.rounds, options.scratch); });
  step("seal", [&] { RunSealCost(report, options); });
  step("callgrind", [&] { RunCallgrind(report); });
  step("coldcount", [&] { RunColdInstructions(report, options, quick); });
  // The peers run inside the cold and push rounds (A B C ...); without node they are skipped.
  std::unique_ptr<Peers> peers;
  if (want("peers") && (want("cold") || want("push"))) {
    peers = std::make_unique<Peers>(report, options);
    if (!peers->available()) peers.reset();
  }
  // A peer server that does not start costs its rows, never the run.
  auto with_peers = [&](const char* what, const std::function<void()>& prepare) {
    if (!peers) return false;
    try {
      prepare();
      return true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench: peers skipped for %s: %s\n", what, e.what());
      report.notes.push_back(std::string("peers skipped for ") + what + ": " + e.what());
      return false;
    }
  };
  step("cold", [&] {
    bool on = with_peers("cold sync", [&] { peers->PrepareCold(); });
    if (on) options.after_cold_round = [&](int r, double a) { peers->ColdRound(r, a); };
    RunColdSync(report, options);
    options.after_cold_round = nullptr;
    if (on) peers->FinishCold();
  });
  step("push", [&] {
    bool on = with_peers("push", [&] { peers->PreparePush(); });
    if (on) {
      options.after_push_round = [&](size_t n, size_t batch, size_t per_client, int r, double a) {
        peers->PushRound(n, batch, per_client, r, a);
      };
    }
    RunPush(report, options);
    options.after_push_round = nullptr;
    if (on) peers->FinishPush();
  });
  step("catchup", [&] { RunCatchUp(report, options, edits); });
  step("memory", [&] { RunMemory(report, options, mem_clients); });
  std::fprintf(stderr, "bench: wrote %s/latest.md and latest.json\n", out_dir.c_str());
  return 0;
}

}  // namespace
}  // namespace kring::bench

int main(int argc, char** argv) {
  try {
    return kring::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kring_bench: %s\n", e.what());
    return 1;
  }
}
