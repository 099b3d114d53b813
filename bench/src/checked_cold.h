// The "checked floor" of the cold sync: the floor relay's cold sync plus the least cryptography a
// verifying client must do for the same entries, on both cores and overlapped with the pulls and
// the local inserts (docs/performance-log.md, "Cold sync"). No parsing beyond finding the fields,
// no fold, no state: only the checks' libsodium calls and the floor's storing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/v1/account.pb.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/sync.pb.h"

namespace kring::bench {

struct CheckedColdInput {
  std::string address;  // the floor relay
  Bytes log_id;
  std::string db_path;  // a fresh local SQLite file
  size_t expected = 0;  // entries in the log
  // The authors' chains as a client fetches them (account id, links): verified inside the clock.
  std::vector<std::pair<Bytes, std::vector<v1::ChainLink>>> author_chains;
  v1::Receipt head;  // kringd's signed head of the same log: every page is checked against it
  Bytes server_public_key;
  const v1::LocalAccount* reader = nullptr;  // its box in the log's Rekey gives the epoch key
};

// Seconds for the whole sync: pull every page, check and open every entry, store each page in
// one transaction at synchronous=FULL. Throws when a check fails or the log is incomplete.
double CheckedFloorColdSync(const CheckedColdInput& in);

}  // namespace kring::bench
