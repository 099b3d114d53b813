#include "catch_up.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "kring/client.h"
#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/common/sqlite.h"

#include "kring_ops.h"
#include "servers.h"

namespace kring::bench {
namespace {

constexpr size_t kDevices = 3;
constexpr size_t kNoteBytes = 1000;   // as the other workloads: a 1 KiB plaintext per op
constexpr uint32_t kPage = 1000;      // kringd's and the floor's largest page
constexpr double kConvergeCap = 120;  // seconds per contender per round, then the run fails
// Between two sync attempts of a device still waiting for the others' pushes (both contenders).
constexpr auto kPoll = std::chrono::milliseconds(2);

// Runs fn(i) for the devices at once from a common start; returns the time until the last one
// finished. The first exception is rethrown after all threads ended.
double AllDevices(const std::function<void(size_t)>& fn) {
  std::atomic<size_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> finished(kDevices, 0);
  std::vector<std::string> errors(kDevices);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kDevices; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (!go) std::this_thread::yield();
      try {
        fn(i);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      finished[i] = Now();
    });
  }
  while (ready < kDevices) std::this_thread::yield();
  double start = Now();
  go = true;
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) {
    if (!e.empty()) throw std::runtime_error(e);
  }
  double last = 0;
  for (double f : finished) last = std::max(last, f - start);
  return last;
}

std::unique_ptr<client::Client> OpenDevice(const std::string& path, const std::string& address) {
  client::ClientOptions co;
  co.db_path = path;
  co.storage_key = crypto::RandomSecret(32);
  co.transport = client::MakeGrpcTransport(address, {30000, {}});
  co.background_sync = false;  // offline until the bench calls SyncNow
  auto opened = client::Client::Open(std::move(co));
  if (!opened.ok()) throw std::runtime_error("Client::Open: " + opened.status().ToString());
  return std::move(opened).value();
}

template <typename T>
T OrThrow(Result<T> r, const std::string& what) {
  if (!r.ok()) throw std::runtime_error(what + ": " + r.status().ToString());
  return std::move(r).value();
}

struct KringTimes {
  double queue = 0;      // the offline edits (not part of the claim)
  double catch_up = 0;   // from the first sync until the last device converged
  double idle_sync = 0;  // one more SyncNow afterwards, with nothing to push or pull (a poll)
};

// One kringd round: three fresh libkring devices in a fresh case, `edits` offline edits each,
// then all three sync until each has every op confirmed; verified to be the same state.
KringTimes KringRound(const std::string& address, const std::string& dir, size_t edits) {
  KringTimes times;
  std::vector<std::unique_ptr<client::Client>> devs;
  std::vector<client::MemberSpec> members;
  for (size_t i = 0; i < kDevices; ++i) {
    devs.push_back(OpenDevice(dir + "/device-" + std::to_string(i) + ".kring.sqlite3", address));
    client::NewAccount acct = OrThrow(devs[i]->CreateAccount(), "CreateAccount");
    if (i > 0) members.push_back({acct.info.account_id, v1::ROLE_MEMBER});
  }
  Bytes case_id = OrThrow(devs[0]->CreateCase(members), "CreateCase");
  for (auto& d : devs) OrThrow(d->SyncNow(), "initial SyncNow");
  uint64_t base = OrThrow(devs[0]->ConfirmedView(case_id), "ConfirmedView").seq();
  for (auto& d : devs) {
    if (OrThrow(d->ConfirmedView(case_id), "ConfirmedView").seq() != base) {
      throw std::runtime_error("catch-up: devices do not start from the same head");
    }
  }
  // Offline: each edit is queued as an intent (durably stored), nothing goes to kringd.
  times.queue = AllDevices([&](size_t i) {
    for (size_t k = 0; k < edits; ++k) {
      v1::ContentOp op = NoteOp(kNoteBytes);
      Status s = devs[i]->Submit(case_id, {op.mutations().begin(), op.mutations().end()});
      if (!s.ok()) throw std::runtime_error("Submit: " + s.ToString());
    }
    if (devs[i]->PendingIntents(case_id) != edits) {
      throw std::runtime_error("catch-up: intents were not queued");
    }
  });

  const uint64_t expected = base + kDevices * edits;
  times.catch_up = AllDevices([&](size_t i) {
    double deadline = Now() + kConvergeCap;
    for (;;) {
      OrThrow(devs[i]->SyncNow(), "SyncNow");
      if (devs[i]->PendingIntents(case_id) == 0 &&
          OrThrow(devs[i]->ConfirmedView(case_id), "ConfirmedView").seq() == expected) {
        return;
      }
      if (Now() > deadline) {
        throw std::runtime_error("catch-up: device " + std::to_string(i) +
                                 " did not converge within the time cap");
      }
      std::this_thread::sleep_for(kPoll);
    }
  });

  // Converged means: the same confirmed state everywhere, every edit in it, no alarm.
  v1::CaseState first = OrThrow(devs[0]->ConfirmedView(case_id), "ConfirmedView");
  if (first.seq() != expected || static_cast<size_t>(first.entities_size()) != kDevices * edits) {
    throw std::runtime_error("catch-up: device 0 holds " + std::to_string(first.entities_size()) +
                             " notes at seq " + std::to_string(first.seq()));
  }
  for (size_t i = 0; i < kDevices; ++i) {
    if (!devs[i]->Alarms().empty()) throw std::runtime_error("catch-up: a device raised an alarm");
    v1::CaseState other = OrThrow(devs[i]->ConfirmedView(case_id), "ConfirmedView");
    if (!google::protobuf::util::MessageDifferencer::Equals(first, other)) {
      throw std::runtime_error("catch-up: device " + std::to_string(i) +
                               " did not converge to the same state");
    }
  }
  // What an app's periodic sync costs once a device holds the case (not part of the claim).
  const double idle_start = Now();
  OrThrow(devs[0]->SyncNow(), "idle SyncNow");
  times.idle_sync = Now() - idle_start;
  return times;
}

// The floor device's local log, opened before the clock and closed after it, as libkring's
// devices are (closing waits for the background copy of the write-ahead log).
sql::Database OpenFloorDevice(const std::string& db_path) {
  auto db = sql::Database::Open(db_path, /*read_only=*/false, kDeviceCheckpoints);
  if (!db.ok()) throw std::runtime_error("floor device db");
  if (!db->Exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)").ok()) {
    throw std::runtime_error("floor device schema");
  }
  return std::move(db).value();
}

// The floor's device: appends its own items, then reads pages until its local log holds every
// item, each page stored in one local transaction at synchronous=FULL; returns a hash of the log.
Bytes FloorDevice(const std::string& address, const Bytes& log_id,
                  const std::vector<std::string>& mine, sql::Database* db, size_t expected) {
  FloorConn conn(address);
  for (size_t at = 0; at < mine.size(); at += protocol::kMaxPushEnvelopes) {
    floorrelay::v1::AppendRequest req;
    req.set_log_id(ToString(log_id));
    for (size_t k = at; k < std::min(mine.size(), at + protocol::kMaxPushEnvelopes); ++k) {
      req.add_items(mine[k]);
    }
    floorrelay::v1::AppendResponse resp;
    grpc::Status s = conn.relay->Append(Ctx().get(), req, &resp);
    if (!s.ok()) throw std::runtime_error("Append: " + s.error_message());
  }
  uint64_t after = 0;
  size_t stored = 0;
  double deadline = Now() + kConvergeCap;
  while (stored < expected) {
    floorrelay::v1::ReadRequest req;
    req.set_log_id(ToString(log_id));
    req.set_after_seq(after);
    req.set_limit(kPage);
    floorrelay::v1::ReadResponse resp;
    grpc::Status s = conn.relay->Read(Ctx().get(), req, &resp);
    if (!s.ok()) throw std::runtime_error("Read: " + s.error_message());
    if (resp.items_size() == 0) {
      if (Now() > deadline) throw std::runtime_error("catch-up: floor device did not converge");
      std::this_thread::sleep_for(kPoll);
      continue;
    }
    sql::Transaction tx(*db);
    sql::Statement ins(*db, "INSERT INTO log (seq, data) VALUES (?, ?)");
    for (const floorrelay::v1::Item& it : resp.items()) {
      ins.Reset();
      if (!ins.Bind(1, static_cast<int64_t>(it.seq())).Bind(2, it.data()).Run().ok()) {
        throw std::runtime_error("floor device insert");
      }
    }
    if (!tx.Commit().ok()) throw std::runtime_error("floor device commit");
    stored += static_cast<size_t>(resp.items_size());
    after = resp.items(resp.items_size() - 1).seq();
  }
  crypto::Hasher h("kring-bench-floor-log");
  sql::Statement all(*db, "SELECT seq, data FROM log ORDER BY seq");
  while (all.Step()) h.AddU64(static_cast<uint64_t>(all.Int(0))).Add(all.BlobString(1));
  return h.Finish();
}

// One floor round: the same number of ~1.2 KB envelopes per device (sealed and signed before
// the clock, as libkring's would be), appended in chunks of kringd's push limit and read back.
double FloorRound(const std::string& address, const std::string& dir, size_t edits) {
  Bytes log_id = crypto::RandomBytes(16);
  std::vector<std::vector<std::string>> items(kDevices);
  SecretBytes epoch_key = crypto::RandomSecret(32);
  for (size_t i = 0; i < kDevices; ++i) {
    BenchAccount author = NewAccount();
    DeviceWriter writer(author, log_id);
    for (size_t k = 0; k < edits; ++k) {
      items[i].push_back(
          writer.Content(1, epoch_key, NoteOp(kNoteBytes), 0, {}).SerializeAsString());
    }
  }
  std::vector<Bytes> hashes(kDevices);
  std::vector<sql::Database> dbs;
  for (size_t i = 0; i < kDevices; ++i) {
    dbs.push_back(OpenFloorDevice(dir + "/floor-device-" + std::to_string(i) + ".sqlite3"));
  }
  double elapsed = AllDevices([&](size_t i) {
    hashes[i] = FloorDevice(address, log_id, items[i], &dbs[i], kDevices * edits);
  });
  for (const Bytes& h : hashes) {
    if (h != hashes[0]) throw std::runtime_error("catch-up: floor devices differ");
  }
  return elapsed;
}

}  // namespace

void RunCatchUp(Report& report, const Options& o, size_t edits) {
  auto kringd = StartKringdOn("");
  auto floor = StartFloorRelay();
  Comparison c{"catch-up after " + std::to_string(edits) + " offline edits on each of 3 devices",
               "libkring SyncNow on 3 devices until converged",
               "floor relay append + read back + local store",
               "s",
               false,
               {},
               {},
               std::nullopt,
               "",
               "3 accounts in one case; each edit a 1 KiB note (create + set text) queued "
               "offline with Client::Submit; timed from all three starting to sync until the "
               "last has every op confirmed (same seq, same confirmed state, no alarm, checked "
               "after the clock); B: each device appends its " +
                   std::to_string(edits) +
                   " envelopes in chunks of 64, reads pages of 1000 until it holds all, one "
                   "local transaction per page at synchronous=FULL; same log hash checked"};
  std::vector<double> queue;
  std::vector<double> idle;
  for (int r = 0; r < o.rounds; ++r) {
    std::string dir = o.scratch + "/catch-up-" + std::to_string(r);
    std::filesystem::create_directories(dir);
    KringTimes k = KringRound(kringd->address(), dir, edits);
    c.a.push_back(k.catch_up);
    c.b.push_back(FloorRound(floor->address(), dir, edits));
    queue.push_back(k.queue);
    idle.push_back(k.idle_sync * 1000);
  }
  report.comparisons.push_back(c);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.1f s (%.1f-%.1f)", Median(queue), Min(queue), Max(queue));
  report.notes.push_back("catch-up: queueing the " + std::to_string(edits) +
                         " offline edits with Client::Submit, 3 devices at once (not timed in "
                         "the comparison): " +
                         buf);
  std::snprintf(buf, sizeof buf, "%.1f ms (%.1f-%.1f)", Median(idle), Min(idle), Max(idle));
  report.notes.push_back(
      "catch-up: one more SyncNow on a converged device, nothing to push or "
      "pull (a poll; not timed in the comparison): " +
      std::string(buf));
}

}  // namespace kring::bench
