#include "peers.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace kring::bench {
namespace {

// The peers' payload: a note whose JSON is 1,000 bytes, the size of kring's serialized ContentOp
// before it is padded to 1 KiB and sealed (kring_ops.cpp NoteOp, workloads.cpp kNoteBytes).
constexpr const char* kPayloadBytes = "1000";

// Generous bounds for one script: building payloads, connecting, and the measured part.
constexpr double kFixtureLimit = 600;
constexpr double kColdLimit = 180;
constexpr double kPushExtra = 120;

// The last line of `out` that starts with "{": the script's one result line.
std::string ResultLine(const std::string& out) {
  std::string found;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '{') found = line;
  }
  return found;
}

std::string PushLabel(size_t clients, size_t batch) {
  return "push: " + std::to_string(clients) + (clients == 1 ? " client, " : " clients, ") +
         (batch == 1 ? "single-op pushes" : "batches of 50");
}

}  // namespace

Peers::Peers(Report& report, const Options& o)
    : report_(report),
      cold_ops_(o.cold_ops),
      authors_(o.authors),
      push_time_cap_(o.push_time_cap),
      scratch_(o.scratch),
      node_(FindInPath("node")),
      dir_(PEERS_DIR) {
  auto skip = [&](const std::string& why) {
    std::fprintf(stderr, "bench: peers skipped: %s\n", why.c_str());
    report_.notes.push_back("peers skipped: " + why);
  };
  if (node_.empty()) {
    skip("node not found in PATH");
    return;
  }
  if (!std::filesystem::exists(dir_ + "/node_modules")) {
    // Installed only when benchmarking, exactly as locked (bench/peers/package-lock.json). No
    // install scripts: the one native module (leveldown) ships prebuilt binaries in its package.
    if (FindInPath("npm").empty()) {
      skip("npm not found in PATH and bench/peers not installed");
      return;
    }
    std::fprintf(stderr, "bench: installing the peers (npm ci in %s)\n", dir_.c_str());
    std::string cmd = "npm ci --prefix '" + dir_ + "' --ignore-scripts --no-audit --no-fund 1>&2";
    if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(dir_ + "/node_modules")) {
      std::error_code ec;
      std::filesystem::remove_all(dir_ + "/node_modules", ec);  // a half install would stick
      skip("npm ci in bench/peers failed");
      return;
    }
  }
  available_ = true;
}

Peers::~Peers() = default;

std::string Peers::Url(const std::string& scheme, const ServerProcess& server) const {
  return scheme + "://" + server.address();
}

double Peers::RunScript(const std::string& what, const std::string& script,
                        const std::vector<std::string>& args, const std::string& field,
                        double timeout_seconds) {
  std::vector<std::string> argv = {node_, dir_ + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--hard-limit");
  argv.push_back(std::to_string(static_cast<int>(timeout_seconds)));
  int rc = -1;
  std::string line = ResultLine(RunCapture(argv, timeout_seconds + 10, &rc));
  std::smatch m;
  if (rc == 0 && line.find("\"ok\":true") != std::string::npos &&
      std::regex_search(line, m, std::regex("\"" + field + "\":([-0-9.eE+]+)"))) {
    return std::stod(m[1]);
  }
  std::smatch err;
  std::string why = std::regex_search(line, err, std::regex("\"error\":\"([^\"]*)\""))
                        ? err[1].str()
                        : "exit code " + std::to_string(rc);
  std::fprintf(stderr, "bench: %s failed: %s\n", what.c_str(), why.c_str());
  report_.notes.push_back(what + " failed (" + why + "); that round has no ratio");
  return 0;
}

void Peers::PrepareCold() {
  yjs_ = std::make_unique<ServerProcess>("y-websocket server", node_,
                                         std::vector<std::string>{dir_ + "/yjs-server.js"});
  pouchdb_ = std::make_unique<ServerProcess>(
      "PouchDB server", node_,
      std::vector<std::string>{dir_ + "/pouchdb-server.js", "--dir", "{dir}/pouchdb"});
  const std::string ops = std::to_string(cold_ops_);
  const std::string authors = std::to_string(authors_);
  double yjs = RunScript("Yjs cold-sync fixture", "yjs-client.js",
                         {"fixture", "--url", Url("ws", *yjs_), "--room", "cold", "--ops", ops,
                          "--authors", authors, "--payload", kPayloadBytes},
                         "seconds", kFixtureLimit);
  double pouch = RunScript("PouchDB cold-sync fixture", "pouchdb-client.js",
                           {"fixture", "--url", Url("http", *pouchdb_), "--db", "cold", "--ops",
                            ops, "--authors", authors, "--payload", kPayloadBytes},
                           "seconds", kFixtureLimit);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "peers' cold sync fixture: %s notes of 1,000 bytes by %s authors in turns of 50; "
                "built in %.1f s (Yjs) and %.1f s (PouchDB)",
                ops.c_str(), authors.c_str(), yjs, pouch);
  report_.notes.push_back(buf);

  std::string workload = "cold sync of " + ops + " x 1 KiB ops, 5 authors, fresh device";
  cold_.push_back(Comparison{workload,
                             "kringd + libkring SyncNow (verify, decrypt, fold, store)",
                             "Yjs + y-websocket (in memory), fresh Y.Doc, state fsynced",
                             "s",
                             false,
                             {},
                             {},
                             1.0,
                             "<= 1.0x (not slower than Yjs)",
                             "B: a new Node process's WebsocketProvider from connecting until "
                             "synced with every note, then Y.encodeStateAsUpdate written and "
                             "fsynced; no signatures, no encryption"});
  cold_.push_back(Comparison{workload,
                             "kringd + libkring SyncNow (verify, decrypt, fold, store)",
                             "PouchDB replicate.from express-pouchdb, fresh LevelDB",
                             "s",
                             false,
                             {},
                             {},
                             std::nullopt,
                             "",
                             "B: a new Node process's PouchDB (LevelDB adapter, on disk) "
                             "replicating with default settings until it holds every document"});
}

void Peers::ColdRound(int round, double kring_seconds) {
  std::string r = std::to_string(round);
  std::string yjs_store = scratch_ + "/yjs-cold-" + r;
  std::string pouch_store = scratch_ + "/pouchdb-cold-" + r;
  std::filesystem::create_directories(yjs_store);
  std::filesystem::create_directories(pouch_store);
  const std::string expect = std::to_string(cold_ops_);
  SettleDisk();
  double yjs = RunScript("Yjs cold sync round " + r, "yjs-client.js",
                         {"cold", "--url", Url("ws", *yjs_), "--room", "cold", "--expect", expect,
                          "--store", yjs_store},
                         "seconds", kColdLimit);
  SettleDisk();
  double pouch = RunScript("PouchDB cold sync round " + r, "pouchdb-client.js",
                           {"cold", "--url", Url("http", *pouchdb_), "--db", "cold", "--expect",
                            expect, "--store", pouch_store},
                           "seconds", kColdLimit);
  cold_[0].a.push_back(kring_seconds);
  cold_[0].b.push_back(yjs);
  cold_[1].a.push_back(kring_seconds);
  cold_[1].b.push_back(pouch);
}

void Peers::FinishCold() {
  for (Comparison& c : cold_) report_.comparisons.push_back(std::move(c));
  cold_.clear();
  yjs_.reset();
  pouchdb_.reset();
}

void Peers::PreparePush() {
  yjs_ = std::make_unique<ServerProcess>("y-websocket server", node_,
                                         std::vector<std::string>{dir_ + "/yjs-server.js"});
  yjs_leveldb_ = std::make_unique<ServerProcess>(
      "y-websocket server with LevelDB", node_,
      std::vector<std::string>{dir_ + "/yjs-server.js", "--persist", "{dir}/leveldb"});
  pouchdb_ = std::make_unique<ServerProcess>(
      "PouchDB server", node_,
      std::vector<std::string>{dir_ + "/pouchdb-server.js", "--dir", "{dir}/pouchdb"});
}

void Peers::PushRound(size_t clients, size_t batch, size_t per_client, int round,
                      double kring_rate) {
  std::pair<size_t, size_t> key{clients, batch};
  if (push_.count(key) == 0) {
    push_order_.push_back(key);
    PushRows& rows = push_[key];
    const std::string label = PushLabel(clients, batch);
    for (const char* peer :
         {"Yjs + y-websocket (in memory, as shipped)", "Yjs + y-websocket + y-leveldb persistence",
          "PouchDB + express-pouchdb (LevelDB)"}) {
      rows.rows.push_back(
          Comparison{label, "kringd", peer, "ops/s", true, {}, {}, std::nullopt, "", ""});
    }
    rows.rows.push_back(Comparison{label,
                                   "kringd",
                                   "best peer of the round",
                                   "ops/s",
                                   true,
                                   {},
                                   {},
                                   1.5,
                                   ">= 1.5x",
                                   "B: the highest of the three peer rates in each round"});
  }
  // Fresh rooms and databases per round, as kringd's pushes extend one case per client count.
  const std::string name =
      "push-" + std::to_string(clients) + "-" + std::to_string(batch) + "-" + std::to_string(round);
  std::vector<std::string> common = {"--clients",    std::to_string(clients),
                                     "--batch",      std::to_string(batch),
                                     "--per-client", std::to_string(per_client),
                                     "--time-cap",   std::to_string(push_time_cap_),
                                     "--payload",    kPayloadBytes};
  auto with = [&](std::vector<std::string> head) {
    head.insert(head.end(), common.begin(), common.end());
    return head;
  };
  const double limit = push_time_cap_ + kPushExtra;
  const std::string label = PushLabel(clients, batch) + " round " + std::to_string(round);
  double yjs =
      RunScript("Yjs " + label, "yjs-client.js",
                with({"push", "--url", Url("ws", *yjs_), "--room", name}), "ops_per_s", limit);
  double yjs_ldb = RunScript("Yjs + LevelDB " + label, "yjs-client.js",
                             with({"push", "--url", Url("ws", *yjs_leveldb_), "--room", name}),
                             "ops_per_s", limit);
  double pouch =
      RunScript("PouchDB " + label, "pouchdb-client.js",
                with({"push", "--url", Url("http", *pouchdb_), "--db", name}), "ops_per_s", limit);
  std::vector<Comparison>& rows = push_[key].rows;
  const double peers[] = {yjs, yjs_ldb, pouch};
  for (size_t i = 0; i < 3; ++i) {
    rows[i].a.push_back(kring_rate);
    rows[i].b.push_back(peers[i]);
  }
  rows[3].a.push_back(kring_rate);
  rows[3].b.push_back(std::max({yjs, yjs_ldb, pouch}));
}

void Peers::FinishPush() {
  for (const auto& key : push_order_) {
    for (Comparison& c : push_[key].rows) report_.comparisons.push_back(std::move(c));
  }
  push_order_.clear();
  push_.clear();
  report_.notes.push_back(
      "peers' push: one Node process runs all N clients (one connection each, notes built "
      "before the clock starts); y-websocket: one document per client (no fan-out to other "
      "clients, the peer's best case), an update acknowledged by the server's echo of it (held "
      "in memory; with y-leveldb the write is queued, not awaited, not fsynced); PouchDB: one "
      "database, PUT /db/id or POST /db/_bulk_docs of 50, acknowledged by 201 + ok (LevelDB "
      "without fsync). kringd acknowledges after its commit at synchronous=FULL");
  yjs_.reset();
  yjs_leveldb_.reset();
  pouchdb_.reset();
}

}  // namespace kring::bench
