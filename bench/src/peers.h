// The peers of issue 7 a user would pick for offline-first sync: Yjs with y-websocket, and
// PouchDB replicating against a CouchDB-protocol server (express-pouchdb on LevelDB). They are
// installed from npm into bench/peers/ (`npm ci`, only when benchmarking) and run as Node
// processes in the same rounds as kringd: kringd, its floors, then each peer (A B C ...).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "process.h"
#include "report.h"
#include "workloads.h"

namespace kring::bench {

class Peers {
 public:
  // Finds node and npm, and runs `npm ci` in bench/peers when its node_modules is missing. When
  // any of that fails, available() is false and a note in the report says why: the run goes on
  // without the peers.
  Peers(Report& report, const Options& options);
  ~Peers();
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  bool available() const { return available_; }

  // Cold sync: starts both peer servers and builds the same case on each (cold_ops notes of the
  // kring op size by `authors` authors in turns of 50). Each round then syncs a fresh client of
  // each peer; Finish adds the rows "kringd / Yjs" and "kringd / PouchDB".
  void PrepareCold();
  void ColdRound(int round, double kring_seconds);
  void FinishCold();

  // Push: the y-websocket server as shipped (in memory) and with its LevelDB persistence, and
  // the PouchDB server; each round pushes the same number of notes per client with the same time
  // cap as kringd. Finish adds kringd / each peer and kringd / the best peer of each round.
  void PreparePush();
  void PushRound(size_t clients, size_t batch, size_t per_client, int round, double kring_rate);
  void FinishPush();

 private:
  struct PushRows {
    std::vector<Comparison> rows;  // Yjs in memory, Yjs + LevelDB, PouchDB, best peer
  };

  // Runs bench/peers/<script> with `args` and returns the named number of its JSON result line,
  // or 0 (and a note) when the script failed.
  double RunScript(const std::string& what, const std::string& script,
                   const std::vector<std::string>& args, const std::string& field,
                   double timeout_seconds);
  std::string Url(const std::string& scheme, const ServerProcess& server) const;

  Report& report_;
  size_t cold_ops_;
  size_t authors_;
  double push_time_cap_;
  std::string scratch_;
  std::string node_;
  std::string dir_;
  bool available_ = false;

  std::unique_ptr<ServerProcess> yjs_;
  std::unique_ptr<ServerProcess> yjs_leveldb_;
  std::unique_ptr<ServerProcess> pouchdb_;
  std::vector<Comparison> cold_;
  std::vector<std::pair<size_t, size_t>> push_order_;
  std::map<std::pair<size_t, size_t>, PushRows> push_;
};

}  // namespace kring::bench
