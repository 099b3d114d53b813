#include "memory.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/resource.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "kring_ops.h"
#include "servers.h"

namespace kring::bench {
namespace {

// Clients connected before the "before" reading, so one-time costs (gRPC thread pools, the first
// connection, SQLite caches) are not charged to the measured clients. In their own case.
constexpr size_t kWarmupClients = 20;
constexpr size_t kCaseSize = 100;            // members per case (kringd allows 200)
constexpr size_t kConnectThreads = 4;        // client threads that connect and sign in
constexpr double kOpenTimeoutSeconds = 240;  // per tier
constexpr double kCloseTimeoutSeconds = 60;
constexpr size_t kFdReserve = 256;  // descriptors kept free besides one per client
constexpr auto kSettle = std::chrono::milliseconds(500);

double ProcField(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) * 1024.0;  // kB
  }
  throw std::runtime_error("no " + key + " in " + path);
}

// Counts streams that opened, failed and ended, so the driver can wait for all of them.
class Tally {
 public:
  void Opened() { Bump(opened_); }
  void Failed() { Bump(failed_); }
  void Ended() { Bump(ended_); }
  // Waits until `n` streams opened or failed; returns how many failed.
  size_t WaitSettled(size_t n, double timeout_s) {
    std::unique_lock<std::mutex> lock(mu_);
    bool all = cv_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                            [&] { return opened_ + failed_ >= n; });
    if (!all) throw std::runtime_error("streams did not open in time");
    return failed_;
  }
  void WaitEnded(size_t n, double timeout_s) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                      [&] { return ended_ >= n; })) {
      throw std::runtime_error("streams did not end in time");
    }
  }

 private:
  void Bump(size_t& counter) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counter;
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  size_t opened_ = 0;
  size_t failed_ = 0;
  size_t ended_ = 0;
};

class HeldStreamBase {
 public:
  virtual ~HeldStreamBase() = default;
  grpc::ClientContext ctx;
};

// A server stream held open by the callback API (no thread per client): counted as open when the
// server's initial metadata arrives, or its first message when `wait_for_message` (kringd sends
// the current heads first, so the server has done all its work for this stream).
template <typename Req, typename Msg>
class HeldStream final : public HeldStreamBase, public grpc::ClientReadReactor<Msg> {
 public:
  HeldStream(Tally& tally, bool wait_for_message)
      : tally_(tally), wait_for_message_(wait_for_message) {}
  Req request;

  void Start() {
    this->StartRead(&msg_);
    this->StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (!wait_for_message_ || !ok) Settle(ok);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    Settle(true);
    this->StartRead(&msg_);
  }
  void OnDone(const grpc::Status&) override {
    Settle(false);
    tally_.Ended();
  }

 private:
  void Settle(bool ok) {
    if (settled_.exchange(true)) return;
    if (ok) {
      tally_.Opened();
    } else {
      tally_.Failed();
    }
  }
  Tally& tally_;
  const bool wait_for_message_;
  std::atomic<bool> settled_{false};
  Msg msg_;
};

using PokeStream = HeldStream<v1::SubscribeRequest, v1::Poke>;
using WatchStream = HeldStream<floorrelay::v1::WatchRequest, floorrelay::v1::WatchEvent>;

struct HeldClient {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::SyncService::Stub> sync;
  std::unique_ptr<floorrelay::v1::Relay::Stub> relay;
  std::unique_ptr<HeldStreamBase> stream;
};

// Runs fn(i) for i in [begin, end) on `threads` threads.
void ParallelFor(size_t begin, size_t end, size_t threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{begin};
  std::mutex err_mu;
  std::string error;
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < end;) {
        try {
          fn(i);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(err_mu);
          if (error.empty()) error = e.what();
          next = end;
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  if (!error.empty()) throw std::runtime_error(error);
}

std::string SignIn(const std::shared_ptr<grpc::Channel>& channel, const BenchAccount& a) {
  auto account = v1::AccountService::NewStub(channel);
  v1::ChallengeRequest creq;
  creq.set_device_id(ToString(a.device_id));
  v1::ChallengeResponse ch;
  grpc::Status s = account->GetChallenge(Ctx().get(), creq, &ch);
  if (!s.ok()) throw std::runtime_error("GetChallenge: " + s.error_message());
  v1::SignInRequest req;
  req.set_device_id(ToString(a.device_id));
  req.set_challenge(ch.challenge());
  req.set_signature(ToString(crypto::Sign(
      View(a.local.device_signing_secret_key()),
      protocol::AuthSignInput(View(ch.server_id()), View(ch.challenge()), a.device_id))));
  v1::SignInResponse resp;
  s = account->SignIn(Ctx().get(), req, &resp);
  if (!s.ok()) throw std::runtime_error("SignIn: " + s.error_message());
  return resp.session_token();
}

// One contender's clients: each its own channel (own TCP connection), for kringd signed in with
// its own device, then one held stream.
class ClientSet {
 public:
  ClientSet(std::string address, bool kringd, const std::vector<BenchAccount>& accounts)
      : address_(std::move(address)), kringd_(kringd), accounts_(accounts) {
    clients_.resize(accounts.size());
  }
  ~ClientSet() {
    try {
      CancelAll();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench: memory: %s\n", e.what());
    }
  }

  // Connects clients [begin, end) and waits until every stream is open.
  void Open(size_t begin, size_t end) {
    ParallelFor(begin, end, kConnectThreads, [&](size_t i) {
      HeldClient& c = clients_[i];
      c.channel = NewChannel(address_);
      if (kringd_) {
        std::string token = SignIn(c.channel, accounts_[i]);
        c.sync = v1::SyncService::NewStub(c.channel);
        auto stream = std::make_unique<PokeStream>(tally_, /*wait_for_message=*/true);
        stream->ctx.AddMetadata("authorization", "Bearer " + token);
        c.sync->async()->Subscribe(&stream->ctx, &stream->request, stream.get());
        PokeStream* raw = stream.get();
        c.stream = std::move(stream);
        raw->Start();
      } else {
        c.relay = floorrelay::v1::Relay::NewStub(c.channel);
        auto stream = std::make_unique<WatchStream>(tally_, /*wait_for_message=*/false);
        c.relay->async()->Watch(&stream->ctx, &stream->request, stream.get());
        WatchStream* raw = stream.get();
        c.stream = std::move(stream);
        raw->Start();
      }
      ++started_;
    });
    if (size_t failed = tally_.WaitSettled(started_, kOpenTimeoutSeconds); failed > 0) {
      throw std::runtime_error(std::to_string(failed) + " streams failed to open");
    }
  }

  void CancelAll() {
    if (started_ == 0) return;
    for (HeldClient& c : clients_) {
      if (c.stream) c.stream->ctx.TryCancel();
    }
    tally_.WaitEnded(started_, kCloseTimeoutSeconds);
    clients_.clear();
    started_ = 0;
  }

 private:
  std::string address_;
  bool kringd_;
  const std::vector<BenchAccount>& accounts_;
  Tally tally_;
  std::vector<HeldClient> clients_;
  size_t started_ = 0;
};

struct MemFixture {
  std::string data_dir;
  std::vector<BenchAccount> accounts;  // warm-up clients first
};

// Publishes every account and puts them in cases of kCaseSize (the warm-up clients in their
// own), so each Subscribe has one case head to send. Built once; kringd restarts on it per round.
void BuildFixture(MemFixture& f, size_t total) {
  auto kringd = StartKringdOn(f.data_dir);
  f.accounts.resize(total);
  std::vector<std::unique_ptr<KringConn>> conns(kConnectThreads);
  for (auto& c : conns) c = std::make_unique<KringConn>(kringd->address());
  ParallelFor(0, total, kConnectThreads, [&](size_t i) {
    f.accounts[i] = NewAccount();
    PublishAndSignIn(*conns[i % conns.size()], f.accounts[i]);
  });
  std::vector<std::pair<size_t, size_t>> groups = {{0, kWarmupClients}};
  for (size_t b = kWarmupClients; b < total; b += kCaseSize) {
    groups.emplace_back(b, std::min(total, b + kCaseSize));
  }
  for (auto [b, e] : groups) {
    DeviceWriter chair(f.accounts[b], crypto::RandomBytes(16));
    std::vector<std::pair<Bytes, v1::Role>> members;
    for (size_t i = b; i < e; ++i) {
      members.emplace_back(f.accounts[i].account_id, i == b ? v1::ROLE_CHAIR : v1::ROLE_MEMBER);
    }
    v1::PushRequest req;
    req.set_case_id(ToString(chair.case_id()));
    *req.add_envelopes() = chair.CreateCase(members);
    v1::PushResponse resp;
    grpc::Status s = conns[0]->sync->Push(Ctx(f.accounts[b].token).get(), req, &resp);
    if (!s.ok()) throw std::runtime_error("CreateCase: " + s.error_message());
  }
}

// Raises the soft descriptor limit to the hard one (the servers inherit it); returns how many
// clients fit besides the warm-up clients and a reserve.
size_t RaiseFdLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) throw std::runtime_error("getrlimit");
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) throw std::runtime_error("setrlimit");
  }
  size_t cap = lim.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(lim.rlim_cur);
  return cap > kFdReserve + kWarmupClients ? cap - kFdReserve - kWarmupClients : 0;
}

struct TierReading {
  ProcessMemory per_client;  // bytes per client
};

// One round of one contender: a fresh server process, warm-up, then the tiers cumulatively.
std::vector<TierReading> MeasureRound(bool kringd, const MemFixture& f,
                                      const std::vector<size_t>& tiers, ProcessMemory& base) {
  std::unique_ptr<ServerProcess> server = kringd ? StartKringdOn(f.data_dir) : StartFloorRelay();
  std::vector<TierReading> out;
  {
    ClientSet clients(server->address(), kringd, f.accounts);
    clients.Open(0, kWarmupClients);
    std::this_thread::sleep_for(kSettle);
    base = ReadProcessMemory(server->pid());
    size_t open = 0;
    for (size_t n : tiers) {
      clients.Open(kWarmupClients + open, kWarmupClients + n);
      open = n;
      std::this_thread::sleep_for(kSettle);
      ProcessMemory now = ReadProcessMemory(server->pid());
      double d = static_cast<double>(n);
      out.push_back({{(now.rss - base.rss) / d, (now.rss_anon - base.rss_anon) / d,
                      (now.pss - base.pss) / d}});
    }
  }
  return out;
}

std::string Range(const std::vector<double>& v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.1f (%.1f-%.1f)", Median(v), Min(v), Max(v));
  return buf;
}

}  // namespace

ProcessMemory ReadProcessMemory(int pid) {
  std::string dir = "/proc/" + std::to_string(pid);
  return {ProcField(dir + "/status", "VmRSS:"), ProcField(dir + "/status", "RssAnon:"),
          ProcField(dir + "/smaps_rollup", "Pss:")};
}

void RunMemory(Report& report, const Options& o, std::vector<size_t> tiers) {
  std::sort(tiers.begin(), tiers.end());
  tiers.erase(std::unique(tiers.begin(), tiers.end()), tiers.end());
  size_t fit = RaiseFdLimit();
  if (!tiers.empty() && tiers.back() > fit) {
    report.notes.push_back("memory: " + std::to_string(tiers.back()) +
                           " clients do not fit RLIMIT_NOFILE here; measured " +
                           std::to_string(fit) + " instead");
    while (!tiers.empty() && tiers.back() >= fit) tiers.pop_back();
    if (fit > 0) tiers.push_back(fit);
  }
  if (tiers.empty()) return;
  MemFixture f;
  f.data_dir = o.scratch + "/memory-kringd";
  double t0 = Now();
  BuildFixture(f, kWarmupClients + tiers.back());
  report.notes.push_back("memory fixture: " + std::to_string(f.accounts.size()) +
                         " accounts in cases of " + std::to_string(kCaseSize) + ", built in " +
                         std::to_string(static_cast<int>(Now() - t0)) + " s");

  std::vector<Comparison> rows;
  for (size_t n : tiers) {
    Comparison c{"server memory per subscribed client, " + std::to_string(n) + " clients",
                 "kringd (signed in, Subscribe stream)",
                 "floor relay (bare Watch stream)",
                 "KiB/client",
                 false,
                 {},
                 {},
                 1.5,
                 "<= 1.5x",
                 "VmRSS after all streams are open minus before (" +
                     std::to_string(kWarmupClients) +
                     " warm-up clients open), / clients; each client its own TCP connection; "
                     "fresh server process per round"};
    rows.push_back(c);
  }
  std::vector<std::vector<double>> anon_a(tiers.size()), anon_b(tiers.size());
  std::vector<double> base_a, base_b;
  for (int r = 0; r < o.rounds; ++r) {
    ProcessMemory ba, bb;
    std::vector<TierReading> a = MeasureRound(true, f, tiers, ba);
    std::vector<TierReading> b = MeasureRound(false, f, tiers, bb);
    base_a.push_back(ba.rss / 1048576.0);
    base_b.push_back(bb.rss / 1048576.0);
    for (size_t t = 0; t < tiers.size(); ++t) {
      rows[t].a.push_back(a[t].per_client.rss / 1024.0);
      rows[t].b.push_back(b[t].per_client.rss / 1024.0);
      anon_a[t].push_back(a[t].per_client.rss_anon / 1024.0);
      anon_b[t].push_back(b[t].per_client.rss_anon / 1024.0);
    }
  }
  for (Comparison& c : rows) report.comparisons.push_back(std::move(c));
  std::string note = "memory: RSS with the warm-up clients, MiB: kringd " + Range(base_a) +
                     ", floor relay " + Range(base_b) + "; RssAnon KiB/client, kringd vs floor:";
  for (size_t t = 0; t < tiers.size(); ++t) {
    note += " " + std::to_string(tiers[t]) + ": " + Range(anon_a[t]) + " vs " + Range(anon_b[t]);
    note += t + 1 < tiers.size() ? ";" : "";
  }
  report.notes.push_back(note);
}

}  // namespace kring::bench
