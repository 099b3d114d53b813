#include "sync/sync_engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>
#include <thread>

#include <google/protobuf/arena.h>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"

#include "crypto/identity.h"
#include "domain/organising_rules.h"
#include "domain/rule_refusals.h"
#include "model/reducer.h"
#include "sync/push_proof.h"
#include "sync/verifier.h"

namespace kring::client {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxRoundsPerCase = 50;
// Pushes of consecutive sealed runs (each at most protocol::kMaxPushEnvelopes ops) before the
// pull that confirms them (PushOnce): bounded, so a long queue still lets others' edits in.
constexpr int kPushesBeforePull = 16;
// Verified pages kept in memory before one local commit (bounds memory on a cold sync). A
// catch-up whose rest fits in one more page finishes in the same commit (see PullOnce), so at
// most kMaxEntriesPerCommit + 2 pages are held.
constexpr size_t kMaxEntriesPerCommit = 10000;
constexpr auto kMinBackoff = std::chrono::milliseconds(250);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kIdleResync = std::chrono::seconds(60);
// Above a content op's padded body in its envelope: header, nonce, commitment, AEAD tag,
// signature and field tags.
constexpr size_t kEnvelopeSlack = protocol::kMaxHeaderBytes + 512;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The local store keeps seqs as SQLite integers: a seq above INT64_MAX would be stored negative
// and never match the log, so kringd can never have assigned it honestly.
bool InStoredRange(uint64_t seq) {
  return seq <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// A pulled page on its own protobuf arena: its entries (up to a thousand envelopes, each a
// handful of messages and strings) are allocated in blocks and freed at once, with the batch
// that writes them (AppliedBatch::arenas). The strings' bytes are still allocated one by one.
struct PulledPage {
  std::unique_ptr<google::protobuf::Arena> arena;
  v1::PullResponse* response = nullptr;  // on `arena`
};

google::protobuf::ArenaOptions PulledPageArenaOptions() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = 64 * 1024;
  o.max_block_size = 1024 * 1024;
  return o;
}

}  // namespace

v1::Envelope SignEnvelope(const v1::LocalAccount& me, const v1::OpHeader& header,
                          const v1::ControlBody* control, const v1::ContentOp* content,
                          ByteView epoch_key) {
  v1::Envelope env = SealEnvelope(header, control, content, epoch_key);
  SignSealed(me, env);
  return env;
}

void SignSealed(const v1::LocalAccount& me, v1::Envelope& env) {
  env.set_signature(
      ToString(crypto::Sign(View(me.device_signing_secret_key()), protocol::OpDigest(env))));
}

v1::Envelope SealEnvelope(const v1::OpHeader& header, const v1::ControlBody* control,
                          const v1::ContentOp* content, ByteView epoch_key) {
  v1::Envelope env;
  env.set_header(header.SerializeAsString());
  if (control != nullptr) env.set_control_body(control->SerializeAsString());
  if (content != nullptr) {
    SecretBytes plain(content->ByteSizeLong());
    content->SerializeToArray(plain.data(), static_cast<int>(plain.size()));
    Bytes padded = crypto::Pad(plain, protocol::kPaddingBlock);
    Bytes nonce = crypto::RandomBytes(crypto::kNonceBytes);
    SecretBytes key = protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kContent);
    env.set_nonce(ToString(nonce));
    env.set_key_commitment(ToString(protocol::OpKeyCommitment(epoch_key, nonce)));
    env.set_ciphertext(ToString(
        crypto::AeadEncrypt(key, nonce, padded, protocol::AssociatedData(View(env.header()), {}))));
    WipeMemory(padded.data(), padded.size());
  }
  return env;
}

SyncEngine::SyncEngine(LocalStore* store, std::shared_ptr<Transport> transport, EventSink sink)
    : store_(store),
      transport_(std::move(transport)),
      sink_(std::move(sink)),
      entries_per_commit_(kMaxEntriesPerCommit) {}

SyncEngine::~SyncEngine() { Stop(); }

void SyncEngine::SetAccount(const v1::LocalAccount& account) {
  std::lock_guard<std::mutex> lock(account_mu_);
  account_ = account;
}

void SyncEngine::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_ || !transport_) return;
  running_ = true;
  stop_ = false;
  wake_ = true;
  worker_ = std::thread([this] { Run(); });
  worker_id_ = worker_.get_id();
}

void SyncEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  std::unique_ptr<Subscription> sub;
  std::vector<std::promise<Result<SyncStats>>> waiters;
  std::vector<CaseWaiter> case_waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
    sub = std::move(subscription_);
    waiters.swap(waiters_);
    case_waiters.swap(case_waiters_);
  }
  sub.reset();  // cancels the stream and joins its thread, outside our lock
  for (auto& w : waiters) w.set_value(Status(StatusCode::kCancelled, "client closed"));
  for (auto& w : case_waiters) w.done.set_value(Status(StatusCode::kCancelled, "client closed"));
  std::vector<ChangeEvent> told;
  {
    std::lock_guard<std::mutex> lock(mu_);
    told.swap(told_);
  }
  // What an API call settled while the worker ran on: told before the listeners go.
  if (sink_ && !told.empty()) sink_(std::move(told));
}

void SyncEngine::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

Result<SyncStats> SyncEngine::SyncNow() {
  return Request(nullptr, [this] { return SyncAll(); });
}

Result<SyncStats> SyncEngine::SyncOneCase(const Bytes& case_id) {
  return Request(&case_id, [&] { return SyncOne(case_id); });
}

Result<SyncStats> SyncEngine::Request(const Bytes* case_id,
                                      const std::function<Outcome()>& on_this_thread) {
  std::future<Result<SyncStats>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      // Change listeners run on the worker: waiting there for the worker would never end (and
      // Close after it). Without a worker the round runs here, as below, and that is safe.
      if (std::this_thread::get_id() == worker_id_) {
        return FailedPrecondition(
            "SyncNow and SyncCase cannot be called from a change listener while background sync "
            "runs: the listener runs on the sync worker");
      }
      if (case_id != nullptr) {
        case_waiters_.push_back({*case_id, {}});
        done = case_waiters_.back().done.get_future();
      } else {
        waiters_.emplace_back();
        done = waiters_.back().get_future();
        wake_ = true;
      }
    }
  }
  if (done.valid()) {
    cv_.notify_all();
    return done.get();
  }
  Outcome out = on_this_thread();
  Result<SyncStats> result = ResultOf(out);
  if (sink_ && !out.events.empty()) sink_(std::move(out.events));
  return result;
}

Result<SyncStats> SyncEngine::ResultOf(const Outcome& out) {
  if (!out.status.ok()) return out.status;
  return out.stats;
}

void SyncEngine::Run() {
  auto backoff = kMinBackoff;
  auto next_attempt = Clock::now();
  for (;;) {
    std::vector<std::promise<Result<SyncStats>>> waiters;
    std::vector<CaseWaiter> case_waiters;
    std::vector<ChangeEvent> told;
    bool full = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, next_attempt, [&] {
        return stop_ || wake_ || !waiters_.empty() || !told_.empty() || !case_waiters_.empty();
      });
      if (stop_) return;
      // Woken only for SyncOneCase: that case alone, and the full round stays where it was.
      full = wake_ || !waiters_.empty() || !told_.empty() || Clock::now() >= next_attempt;
      wake_ = false;
      waiters.swap(waiters_);
      case_waiters.swap(case_waiters_);
      told.swap(told_);
    }
    if (sink_ && !told.empty()) sink_(std::move(told));
    told.clear();
    for (CaseWaiter& w : case_waiters) {
      Outcome one = SyncOne(w.case_id);
      w.done.set_value(ResultOf(one));
      if (sink_ && !one.events.empty()) sink_(std::move(one.events));
    }
    if (!full) continue;
    Outcome out = SyncAll();
    if (out.status.transient() || out.status.code() == StatusCode::kUnauthenticated) {
      next_attempt = Clock::now() + backoff;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    } else {
      backoff = kMinBackoff;
      next_attempt = Clock::now() + kIdleResync;
    }
    if (out.status.ok()) EnsureSubscribed();
    for (auto& w : waiters) w.set_value(ResultOf(out));
    if (sink_ && !out.events.empty()) sink_(std::move(out.events));
  }
}

void SyncEngine::EnsureSubscribed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (subscription_ && !subscription_dead_) return;
  }
  std::unique_ptr<Subscription> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(subscription_);
  }
  old.reset();
  auto token = Token();
  if (!token.ok()) return;
  auto sub = transport_->Subscribe(
      token.value(), [this](const v1::Poke&) { Wake(); },
      [this](const Status&) {
        std::lock_guard<std::mutex> lock(mu_);
        subscription_dead_ = true;
      });
  std::lock_guard<std::mutex> lock(mu_);
  subscription_dead_ = false;
  subscription_ = std::move(sub);
}

Status SyncEngine::EnsureServerPinned() {
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    if (!server_key_.empty()) return {};
  }
  KRING_ASSIGN_OR_RETURN(std::optional<Bytes> pinned, store_->PinnedServerKey());
  if (!pinned) {
    if (!transport_) return FailedPrecondition("no server configured");
    KRING_ASSIGN_OR_RETURN(v1::ServerInfo info, transport_->GetServerInfo());
    if (info.protocol_version() != protocol::kVersion ||
        info.signing_public_key().size() != crypto::kPublicKeyBytes) {
      return FailedPrecondition("server speaks an unsupported protocol version");
    }
    // Trust on first use; the key is pinned from then on (docs/threat-model.md).
    pinned = ToBytes(info.signing_public_key());
    KRING_RETURN_IF_ERROR(store_->PinServerKey(*pinned));
  }
  std::lock_guard<std::mutex> lock(account_mu_);
  server_key_ = *pinned;
  return {};
}

Result<v1::SignInResponse> SignInDevice(Transport& transport, ByteView server_id,
                                        const v1::LocalAccount& me) {
  // kringd keeps 4 open challenges per device and address: processes of one profile signing in
  // side by side (kring commands in a script) retire each other's, and a sign-in with a retired
  // one is refused as CHALLENGE_UNKNOWN. It gets a fresh challenge after a short random pause
  // (so processes in step fall out of step), a few times; a kringd from before that reason
  // refuses it without one, which is tried again once. Any other refusal is final.
  constexpr int kSignInAttempts = 4;
  Result<v1::SignInResponse> signed_in = Status(StatusCode::kInternal, "no sign-in");
  for (int attempt = 1;; ++attempt) {
    v1::ChallengeRequest creq;
    creq.set_device_id(me.device_id());
    KRING_ASSIGN_OR_RETURN(v1::ChallengeResponse challenge, transport.GetChallenge(creq));
    if (!ConstantTimeEqual(View(challenge.server_id()), server_id)) {
      return PermissionDenied("server identity differs from the pinned server");
    }
    v1::SignInRequest sreq;
    sreq.set_device_id(me.device_id());
    sreq.set_challenge(challenge.challenge());
    sreq.set_signature(ToString(crypto::Sign(
        View(me.device_signing_secret_key()),
        protocol::AuthSignInput(server_id, View(challenge.challenge()), View(me.device_id())))));
    signed_in = transport.SignIn(sreq);
    const Status& s = signed_in.status();
    const bool retired =
        s.code() == StatusCode::kUnauthenticated &&
        (s.reason() == refusal::kChallengeUnknown || (s.reason().empty() && attempt == 1));
    if (signed_in.ok() || !retired || attempt == kSignInAttempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + crypto::RandomBytes(1)[0] % 32));
  }
  return signed_in;
}

Result<std::string> SyncEngine::Token() {
  KRING_RETURN_IF_ERROR(EnsureServerPinned());
  // One sign-in at a time: a caller that waited here finds the fresh token below.
  std::lock_guard<std::mutex> signing_in(signin_mu_);
  v1::LocalAccount me;
  Bytes server_id;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    if (!account_) return FailedPrecondition("this device has no account yet");
    if (!token_.empty() && token_expires_ms_ - 30000 > NowMs()) return token_;
    me = *account_;
    server_id = protocol::ServerId(server_key_);
  }
  KRING_ASSIGN_OR_RETURN(v1::SignInResponse session, SignInDevice(*transport_, server_id, me));
  std::lock_guard<std::mutex> lock(account_mu_);
  token_ = session.session_token();
  token_expires_ms_ = session.expires_at_ms();
  return token_;
}

template <typename Fn>
auto SyncEngine::WithToken(Fn&& fn) -> decltype(fn(std::string())) {
  for (int attempt = 0;; ++attempt) {
    auto token = Token();
    if (!token.ok()) return token.status();
    auto r = fn(token.value());
    if (r.ok() || r.status().code() != StatusCode::kUnauthenticated || attempt > 0) return r;
    // Sessions end when kringd restarts: sign in again once.
    std::lock_guard<std::mutex> lock(account_mu_);
    token_.clear();
  }
}

Result<UserChain> SyncEngine::ChainOf(const Bytes& account_id, bool refresh) {
  if (!refresh) {
    // Verified once per process: the verifier asks for the author's chain for every op, and
    // re-verifying its links each time would cost a signature check per op.
    std::lock_guard<std::mutex> lock(chain_cache_mu_);
    auto it = chain_cache_.find(account_id);
    if (it != chain_cache_.end()) return it->second;
  }
  KRING_ASSIGN_OR_RETURN(std::optional<UserChain> stored, store_->LoadChain(account_id));
  if (stored && !refresh) {
    std::lock_guard<std::mutex> lock(chain_cache_mu_);
    chain_cache_[account_id] = *stored;
    return std::move(*stored);
  }
  v1::GetChainRequest req;
  req.set_account_id(ToString(account_id));
  KRING_ASSIGN_OR_RETURN(v1::GetChainResponse resp, WithToken([&](const std::string& t) {
                           return transport_->GetChain(req, t);
                         }));
  std::vector<v1::ChainLink> links(resp.links().begin(), resp.links().end());
  KRING_ASSIGN_OR_RETURN(UserChain chain, VerifyChain(account_id, links));
  if (stored) {
    // A chain only grows: the server may not rewrite links this device already verified.
    if (chain.length < stored->length) return InvalidArgument("account chain got shorter");
    for (size_t i = 0; i < stored->links.size(); ++i) {
      if (stored->links[i].SerializeAsString() != chain.links[i].SerializeAsString()) {
        return InvalidArgument("account chain was rewritten");
      }
    }
  }
  // Unchanged (the usual case when a sync looks for new user key generations): no write.
  if (!stored || stored->length != chain.length) {
    KRING_RETURN_IF_ERROR(store_->SaveChain(account_id, links));
  }
  std::lock_guard<std::mutex> lock(chain_cache_mu_);
  chain_cache_[account_id] = chain;
  return chain;
}

void SyncEngine::PrefetchChains(const std::vector<Bytes>& account_ids) {
  std::vector<const Bytes*> missing;
  {
    std::lock_guard<std::mutex> lock(chain_cache_mu_);
    for (const Bytes& id : account_ids) {
      if (chain_cache_.count(id) == 0) missing.push_back(&id);
    }
  }
  if (missing.size() < 2) return;  // one is fetched in order anyway
  constexpr size_t kAtOnce = 8;    // a large circle's cold sync: a few fetches in flight at a time
  for (size_t begin = 0; begin < missing.size(); begin += kAtOnce) {
    std::vector<std::future<void>> fetches;
    for (size_t i = begin; i < std::min(missing.size(), begin + kAtOnce); ++i) {
      fetches.push_back(
          std::async(std::launch::async, [this, id = missing[i]] { (void)ChainOf(*id); }));
    }
    for (auto& f : fetches) f.get();
  }
}

Result<v1::LocalAccount> SyncEngine::RefreshOwnUserKeys() {
  v1::LocalAccount me;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    if (!account_) return FailedPrecondition("this device has no account yet");
    me = *account_;
  }
  KRING_ASSIGN_OR_RETURN(UserChain chain, ChainOf(ToBytes(me.account_id()), true));
  std::set<uint32_t> held;
  for (const auto& uk : me.user_keys()) held.insert(uk.generation());
  if (held.count(chain.user_key.generation) != 0) return me;
  std::map<uint32_t, SecretBytes> seeds =
      identity::OpenUserKeySeeds(chain, View(me.device_id()), identity::DeviceBoxKeyPair(me));
  bool added = false;
  for (const auto& [generation, seed] : seeds) {
    if (held.count(generation) != 0) continue;
    v1::LocalUserKey* uk = me.add_user_keys();
    uk->set_generation(generation);
    uk->set_seed(ToString(seed));
    added = true;
  }
  if (!added) return me;
  KRING_RETURN_IF_ERROR(store_->SaveAccount(me));
  std::lock_guard<std::mutex> lock(account_mu_);
  account_ = me;
  return me;
}

void SyncEngine::ForgetSession() {
  std::lock_guard<std::mutex> lock(account_mu_);
  token_.clear();
  token_expires_ms_ = 0;
}

Status SyncEngine::Alarm(const Bytes& case_id, AlarmKind kind, uint64_t seq,
                         const std::string& detail, Bytes evidence, Outcome& out, bool halt) {
  kring::client::Alarm a;
  a.case_id = case_id;
  a.kind = kind;
  a.seq = seq;
  a.detail = detail;
  a.evidence = std::move(evidence);
  KRING_RETURN_IF_ERROR(store_->RaiseAlarm(a, halt));
  log::Warn("alarm",
            {{"case", Hex(case_id)}, {"kind", std::string(AlarmKindName(kind))}, {"seq", seq}});
  out.events.push_back({ChangeEvent::Kind::kAlarm, case_id, detail});
  return {StatusCode::kSecurityAlarm, std::string(AlarmKindName(kind)) + ": " + detail};
}

Status SyncEngine::RemovalNotShown(const Bytes& case_id, uint64_t head_seq, Outcome& out) {
  static constexpr std::string_view kDetail = "server refuses the case without showing a removal";
  KRING_ASSIGN_OR_RETURN(bool raised, store_->HasAlarm(case_id, AlarmKind::kRemovalNotShown));
  // Ends this case's round without a push (kringd would refuse each queued change, and they
  // must stay); SyncAll does not report an alarm as the sync's error.
  if (raised) {
    return {StatusCode::kSecurityAlarm,
            std::string(AlarmKindName(AlarmKind::kRemovalNotShown)) + ": " + std::string(kDetail)};
  }
  // Not halting: the case is not stopped, and a server that serves the removal later (or serves
  // the case again) is read as usual.
  return Alarm(case_id, AlarmKind::kRemovalNotShown, head_seq, std::string(kDetail), {}, out,
               /*halt=*/false);
}

Status SyncEngine::PrepareRound() {
  if (!transport_) return FailedPrecondition("no server configured");
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    if (!account_) return FailedPrecondition("this device has no account yet");
  }
  // Keys boxed to a user key generation made on another device of this account open only once
  // this device holds that generation.
  return RefreshOwnUserKeys().status();
}

Status SyncEngine::TakeListed(ByteView case_id) {
  KRING_RETURN_IF_ERROR(store_->CreateCase(case_id));
  // Listed again after a removal: this account was added back; read on from the verified head.
  // (An unsettled removal is read on from anyway, and the log itself shows the re-adding.)
  auto flags = store_->LoadCaseFlags(case_id);
  auto rec =
      flags.ok() && flags.value() && flags.value()->removed && !flags.value()->removal_unsettled
          ? store_->LoadCase(case_id)
          : Result<std::optional<CaseRecord>>(std::optional<CaseRecord>());
  if (rec.ok() && rec.value() && rec.value()->state.removed()) {
    v1::CaseState state = rec.value()->state;
    state.set_removed(false);
    KRING_RETURN_IF_ERROR(
        store_->ReplaceState(case_id, std::move(state), LocalStore::RemovalMark::kClear));
  }
  return {};
}

SyncEngine::Outcome SyncEngine::SyncAll() {
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  Outcome out;
  if (Status s = PrepareRound(); !s.ok()) {
    out.status = s;
    return out;
  }
  auto listed = WithToken([&](const std::string& t) { return transport_->ListCases(t); });
  if (!listed.ok()) {
    out.status = listed.status();
    return out;
  }
  for (const auto& c : listed->cases()) {
    if (c.case_id().size() != crypto::kIdBytes) continue;
    if (Status s = TakeListed(View(c.case_id())); !s.ok()) {
      out.status = s;
      return out;
    }
  }
  auto ids = store_->CaseIds();
  if (!ids.ok()) {
    out.status = ids.status();
    return out;
  }
  for (const Bytes& id : ids.value()) {
    Status s = SyncCase(id, out);
    // An alarm halts only that case; other cases keep syncing.
    if (!s.ok() && s.code() != StatusCode::kSecurityAlarm && out.status.ok()) out.status = s;
  }
  return out;
}

SyncEngine::Outcome SyncEngine::SyncOne(const Bytes& case_id) {
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  Outcome out;
  out.status = [&]() -> Status {
    // A halted case is known here: said before any network call, so offline it is the alarm
    // too, not UNAVAILABLE (which a caller would retry for a case that can never sync).
    KRING_ASSIGN_OR_RETURN(std::optional<CaseFlags> flags, store_->LoadCaseFlags(case_id));
    if (flags && flags->halted) return Halted(case_id);
    KRING_RETURN_IF_ERROR(PrepareRound());
    // Asked of kringd every time, as SyncAll does, so this case's result is never weaker than a
    // full sync's: a case this account was added to (or added back to after a removal) since
    // the last sync is taken here too. One call, whatever the number of cases.
    KRING_ASSIGN_OR_RETURN(v1::ListCasesResponse listed, WithToken([&](const std::string& t) {
                             return transport_->ListCases(t);
                           }));
    const std::string wanted = ToString(case_id);
    for (const auto& c : listed.cases()) {
      if (c.case_id() == wanted) KRING_RETURN_IF_ERROR(TakeListed(case_id));
    }
    KRING_ASSIGN_OR_RETURN(flags, store_->LoadCaseFlags(case_id));
    if (!flags) return NotFound("unknown case");
    if (flags->halted) return Halted(case_id);
    return SyncCase(case_id, out);
  }();
  return out;
}

Status SyncEngine::Halted(const Bytes& case_id) {
  // SyncAll passes over a halted case (and the others sync); asked for this case alone, the
  // caller learns that it did not sync, and why.
  KRING_ASSIGN_OR_RETURN(std::vector<kring::client::Alarm> alarms, store_->Alarms());
  std::string kind = "ALARM";
  for (const auto& a : alarms) {
    if (a.case_id == case_id && a.kind != AlarmKind::kRemovalNotShown) {
      kind = AlarmKindName(a.kind);
      break;
    }
  }
  return {StatusCode::kSecurityAlarm, kind + ": this case is stopped by a security alarm"};
}

// Pulls until caught up (each pull makes progress or stops), then pushes and pulls again; the
// number of push rounds is bounded so a server that keeps rejecting cannot spin the worker.
Status SyncEngine::SyncCase(const Bytes& case_id, Outcome& out) {
  int synced_elsewhere = 0;
  for (int push_round = 0; push_round < kMaxRoundsPerCase;) {
    KRING_ASSIGN_OR_RETURN(std::optional<CaseFlags> rec, store_->LoadCaseFlags(case_id));
    // An unsettled removal is pulled on from: the catch-up that verified it broke off, and a
    // later page may add this account back. So is a removal verified while an acceptance of a
    // new invite waits: the acceptance still goes out, and its approval comes after it.
    if (!rec || rec->halted ||
        (rec->removed && !rec->removal_unsettled && !rec->pending_approval)) {
      return {};
    }
    if (rec->pending_approval) {
      KRING_ASSIGN_OR_RETURN(bool ended, EndNeedlessWait(case_id, out));
      if (ended) continue;  // read again: no longer waiting
    }
    Result<bool> pull = PullOnce(case_id, out);
    if (!pull.ok() && SyncedElsewhere(pull.status()) && ++synced_elsewhere <= kMaxRoundsPerCase) {
      continue;  // what it verified is stored by the other process: take the case again
    }
    KRING_ASSIGN_OR_RETURN(bool pulled, std::move(pull));
    if (pulled) continue;
    // Out as far as verified: nothing is pushed (kringd would refuse it); the queued changes
    // wait until a catch-up ends at the removal or reads on past it. Only an acceptance of a
    // new invite goes out (PushOnce puts it first).
    if (rec->removed && !rec->pending_approval) return {};
    KRING_ASSIGN_OR_RETURN(bool pushed, PushOnce(case_id, out));
    if (!pushed) return {};
    // Waiting for approval: the acceptance is sent; nothing can be pulled to confirm it yet.
    if (rec->pending_approval) return {};
    ++push_round;
  }
  return {};
}

// Pulls and verifies pages until the signed head is reached (or kMaxEntriesPerCommit), keeping
// the verified state in memory between pages, and commits them in one local transaction: the
// sealed case state is written once per catch-up instead of once per page. The state moves
// from the store's kept copy through the pages and back without being copied or parsed again.
Result<bool> SyncEngine::PullOnce(const Bytes& case_id, Outcome& out) {
  uint64_t version = 0;
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->TakeCase(case_id, &version));
  // Folded again with today's rules when they changed since the state was stored, so this
  // device agrees with a new device or a restore. A case with no log yet (waiting for approval
  // of a first acceptance) has nothing to fold; one removed and waiting again is folded (Replay
  // keeps the wait).
  KRING_ASSIGN_OR_RETURN(bool refold, store_->RefoldDue(case_id));
  if (refold && rec->head_seq == 0) {
    KRING_RETURN_IF_ERROR(store_->RefoldDone(case_id));
    refold = false;
  }
  if (rec->state.history_replay_pending() || refold) {
    KRING_RETURN_IF_ERROR(Replay(case_id));
    if (refold) KRING_RETURN_IF_ERROR(store_->RefoldDone(case_id));
    KRING_ASSIGN_OR_RETURN(rec, store_->TakeCase(case_id, &version));
  }
  KRING_ASSIGN_OR_RETURN(auto device_heads, store_->DeviceHeads(case_id));
  KRING_ASSIGN_OR_RETURN(auto receipts, store_->Receipts(case_id));
  KRING_ASSIGN_OR_RETURN(auto push_results, store_->PushResults(case_id));
  v1::LocalAccount me;
  Bytes server_key;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    server_key = server_key_;
    me = *account_;
  }
  // The record is not needed after this: its state moves from page to page without copies.
  const uint64_t stored_head = rec->head_seq;
  // Removed by a catch-up that ended at the removal (an unsettled one still waits for that).
  const bool was_removed = rec->state.removed() && !rec->removal_unsettled;
  const bool pending_approval = rec->state.pending_approval();
  // Conflicts are only appended: those from here on are the ones this catch-up makes.
  const int conflicts_before = rec->state.conflicts_size();
  CaseRecord current = std::move(*rec);
  rec.reset();
  AppliedBatch verified;  // every page verified so far, not yet written
  verified.case_id = case_id;
  verified.from_seq = stored_head;
  bool learned_older_keys = false;
  std::vector<VerifyFailure> complaints;
  // This device's ops in the verified pages that a content rule refused (VerifyResult).
  std::vector<std::pair<uint64_t, std::string>> refused_own;

  // Called once before PullOnce returns; takes the verified state out of `current`. `at_end`:
  // the catch-up ends where the server's log for this account ends (its signed head, or its
  // refusal after a verified removal), not broken off by an error or the entry cap. Only then
  // is a removal of this account settled: a catch-up broken off between a removal and a later
  // re-adding must not reject the queued changes of an account that is a member again.
  // The highest signed head of the pages verified so far. kringd signed that its log reaches that
  // far, so a later head below it is a rollback (CheckHead) and a later entry at its seq must
  // carry its chain hash: it counts as a receipt for the pages after it at once, and is kept as
  // one with the commit when the catch-up ends short of it (the entry cap, or an error).
  std::optional<v1::Receipt> signed_ahead;
  auto commit = [&](bool at_end) -> Status {
    if (verified.pulled.empty()) return {};
    verified.head_seq = current.head_seq;
    verified.head_hash = current.head_hash;
    verified.state = std::move(current.state);
    // Written with the batch, so a crash before the replay below is finished resumes it.
    verified.state.set_history_replay_pending(learned_older_keys);
    // So is a removal until it is settled below: a crash before then settles it at a later
    // catch-up that ends at it, and a catch-up broken off before it leaves it unsettled.
    // A removal verified while this device waits for approval of an acceptance stood in the
    // log before that acceptance (a pending account is no member to remove): the user acted on
    // being out already, and what is queued was made after the acceptance and waits for its
    // approval. Nothing is settled, rejected or told for it.
    const bool newly_removed =
        verified.state.removed() && !was_removed && !verified.state.pending_approval();
    verified.removal_unsettled = newly_removed;
    const size_t written = verified.pulled.size();  // ApplyBatch takes a large batch's entries
    size_t own_conflicts = 0;
    const size_t new_conflicts = model::OpenConflictsFrom(verified.state, conflicts_before,
                                                          View(me.account_id()), &own_conflicts);
    verified.alarms.clear();
    for (VerifyFailure& f : complaints) {
      verified.alarms.push_back(
          kring::client::Alarm{0, case_id, f.kind, f.seq, f.detail, std::move(f.evidence), 0});
    }
    complaints.clear();
    KRING_RETURN_IF_ERROR(store_->ApplyBatch(verified, &version));
    for (const kring::client::Alarm& a : verified.alarms) {
      out.events.push_back({ChangeEvent::Kind::kAlarm, case_id, a.detail});
    }
    verified.alarms.clear();
    if (learned_older_keys) KRING_RETURN_IF_ERROR(Replay(case_id));
    bool unsettled = newly_removed;
    if (newly_removed && at_end) {
      KRING_RETURN_IF_ERROR(SettleRemoval(case_id, out, &version));
      unsettled = false;
    }
    out.stats.pulled += written;
    if (new_conflicts > 0) out.stats.new_conflicts[case_id] += new_conflicts;
    for (auto& [seq, rule] : refused_own) {
      out.stats.refused.push_back({case_id, seq, domain::RefusalKey(rule)});
    }
    refused_own.clear();
    if (own_conflicts > 0) out.stats.new_own_conflicts[case_id] += own_conflicts;
    out.events.push_back({ChangeEvent::Kind::kCaseChanged, case_id, {}});
    KRING_RETURN_IF_ERROR(QueueRekeyAfterLeave(case_id, verified.state, me));
    const uint64_t committed_head = verified.head_seq;
    store_->KeepCase(CaseRecord{case_id, verified.head_seq, std::move(verified.head_hash),
                                current.halted, std::move(verified.state), unsettled},
                     version);
    if (signed_ahead && signed_ahead->seq() > committed_head) {
      KRING_RETURN_IF_ERROR(KeepReceipt(case_id, *signed_ahead, out));
    }
    return Status();
  };
  // A catch-up that verified nothing new ends at an unsettled removal of this account: kringd
  // refused the pull after it, or served nothing past it under a head signed at it.
  auto settle_stored = [&]() -> Result<bool> {
    KRING_RETURN_IF_ERROR(SettleRemoval(case_id, out, &version));
    current.removal_unsettled = false;
    store_->KeepCase(std::move(current), version);
    return true;
  };
  uint64_t served_head = 0;  // the signed head of the last page verified

  // Whether the catch-up goes on after a page that brought `held` entries up to `head` of
  // `signed_head`. Every commit rewrites the whole sealed state (about the size of the case's
  // content), so a last commit of a few entries would cost as much as the big one before it:
  // when the rest fits in one page it comes into this commit.
  // (A test's smaller cap, SetEntriesPerCommit, takes a page of its size as the page here.)
  const size_t cap = entries_per_commit_;
  const size_t page_size = std::min<size_t>(protocol::kMaxPullLimit, cap);
  auto goes_on = [cap, page_size](size_t held, uint64_t head, uint64_t signed_head) {
    if (head >= signed_head || held >= cap + page_size) return false;
    return held < cap || signed_head - head <= page_size;
  };
  auto pull = [this, &case_id](uint64_t after_seq,
                               const std::string& after_hash) -> Result<PulledPage> {
    v1::PullRequest req;
    req.set_case_id(ToString(case_id));
    req.set_after_seq(after_seq);
    req.set_after_chain_hash(after_hash);
    req.set_limit(protocol::kMaxPullLimit);
    PulledPage page;
    page.arena = std::make_unique<google::protobuf::Arena>(PulledPageArenaOptions());
    page.response = google::protobuf::Arena::CreateMessage<v1::PullResponse>(page.arena.get());
    // WithToken wants a Result (it signs in again once on an expired session).
    Result<bool> pulled = WithToken([&](const std::string& t) -> Result<bool> {
      Status s = transport_->PullInto(req, t, *page.response);
      if (!s.ok()) return s;
      return true;
    });
    if (!pulled.ok()) return pulled.status();
    return page;
  };
  // The next page, asked for while this one is verified (kringd works on the other core), and
  // its envelopes parsed and hashed on that thread while this one checks and folds the page
  // before. Its position comes from the unverified page; it is used only if that page verifies,
  // and then the position is the verified head. Whatever it returns is verified like any other
  // page.
  // The pages' parses, used in turn: the next page is parsed into one while this one is checked
  // with the other, and each parse reuses the messages of the page two before (ParsedPage).
  // Declared before `prefetched`, whose destructor waits for the thread that may be parsing.
  ParsedPage parsed_pages[2];
  size_t this_page = 0;
  auto pull_and_parse = [&pull](uint64_t after_seq, std::string after_hash,
                                ParsedPage* into) -> Result<PulledPage> {
    KRING_ASSIGN_OR_RETURN(PulledPage page, pull(after_seq, after_hash));
    ParseEntries(*page.response, *into);
    return page;
  };
  std::future<Result<PulledPage>> prefetched;

  for (;;) {
    // Built in one expression: every path yields a page or an error, never an empty result.
    Result<PulledPage> resp = [&]() -> Result<PulledPage> {
      if (!prefetched.valid()) return pull(current.head_seq, ToString(current.head_hash));
      this_page = 1 - this_page;  // the prefetch parsed into the other one
      return prefetched.get();
    }();
    if (resp.ok() && resp->response->has_erased()) {
      KRING_RETURN_IF_ERROR(commit(/*at_end=*/false));
      KRING_RETURN_IF_ERROR(AcceptErasure(case_id, resp->response->erased(), out));
      return false;
    }
    if (!resp.ok()) {
      const Status& s = resp.status();
      if (s.code() == StatusCode::kPermissionDenied && current.state.removed() && !was_removed) {
        // Out by a verified removal not yet settled (verified in this catch-up, or in one that
        // broke off after it): kringd serves nothing after it, whatever head a page claimed, so
        // its refusal is the catch-up's end, not an error. (The catch-up does not stop at the
        // removal itself: a later page may add this account back.)
        if (verified.pulled.empty()) return settle_stored();
        KRING_RETURN_IF_ERROR(commit(/*at_end=*/true));
        return true;
      }
      if (!verified.pulled.empty()) {
        // Keep what was verified before the failure; a removal in it stays unsettled.
        KRING_RETURN_IF_ERROR(commit(/*at_end=*/false));
        return s;
      }
      // A case created on this device is unknown to the server until its first push.
      if (stored_head == 0 && s.code() == StatusCode::kNotFound) return false;
      if (s.code() == StatusCode::kPermissionDenied && pending_approval) {
        return false;  // accepted an invite; the case opens once the chair approves
      }
      if (s.code() == StatusCode::kPermissionDenied && stored_head > 0) {
        // kringd serves a removed account its log up to and including its removal, and this
        // device learns it is out by folding that verified op (commit() above). A refusal
        // without it is only the server's word: the case stays as it is (not removed, queued
        // changes kept, nothing pushed this round) and an alarm says so, once.
        return RemovalNotShown(case_id, stored_head, out);
      }
      if (stored_head > 0 &&
          (s.code() == StatusCode::kFailedPrecondition ||
           s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound)) {
        // The server no longer has the head this device verified.
        return Alarm(case_id, AlarmKind::kRollback, stored_head,
                     "server does not have the verified head", {}, out);
      }
      return s;
    }
    VerifyContext ctx;
    ctx.record.case_id = current.case_id;
    ctx.record.head_seq = current.head_seq;
    ctx.record.head_hash = current.head_hash;
    ctx.record.halted = current.halted;
    ctx.record.state = std::move(current.state);  // handed back below, folded or as it was
    ctx.device_heads = device_heads;
    ctx.receipts = &receipts;
    ctx.push_results = &push_results;
    ctx.server_public_key = server_key;
    ctx.me = &me;
    ctx.chain_hash_at = [&](uint64_t seq) -> Result<std::optional<Bytes>> {
      if (seq > stored_head && seq - stored_head <= verified.pulled.size()) {
        return std::optional<Bytes>(
            ToBytes(verified.pulled[static_cast<size_t>(seq - stored_head - 1)]->chain_hash()));
      }
      return store_->ChainHashAt(case_id, seq);
    };
    ctx.chain_of = [&](const Bytes& account, bool refresh) { return ChainOf(account, refresh); };
    ctx.prefetch_chains = [this](const std::vector<Bytes>& ids) { PrefetchChains(ids); };
    ctx.epoch_key = [&](uint32_t scope, uint64_t epoch) -> Result<std::optional<EpochKey>> {
      for (auto it = verified.epoch_keys.rbegin(); it != verified.epoch_keys.rend(); ++it) {
        if (it->scope_id == scope && it->epoch == epoch) return std::optional<EpochKey>(*it);
      }
      return store_->FindEpochKey(case_id, scope, epoch);
    };
    const v1::PullResponse& response = *resp->response;
    const uint64_t signed_head = response.head().seq();
    if (response.entries_size() > 0) {
      const v1::LogEntry& last = response.entries(response.entries_size() - 1);
      if (goes_on(verified.pulled.size() + static_cast<size_t>(response.entries_size()), last.seq(),
                  signed_head)) {
        prefetched = std::async(std::launch::async, pull_and_parse, last.seq(), last.chain_hash(),
                                &parsed_pages[1 - this_page]);
      }
    }
    served_head = signed_head;
    VerifyResult v = VerifyPullInPlace(ctx, response, &parsed_pages[this_page]);
    if (!v.error.ok() || v.failure) {
      current.state = std::move(ctx.record.state);  // the state after the pages before this one
    } else {
      current.state = std::move(v.batch.state);
    }
    if (!v.error.ok()) {
      KRING_RETURN_IF_ERROR(commit(/*at_end=*/false));
      return v.error;
    }
    if (v.failure) {
      KRING_RETURN_IF_ERROR(commit(/*at_end=*/false));  // the pages before this one verified
      return Alarm(case_id, v.failure->kind, v.failure->seq, v.failure->detail,
                   std::move(v.failure->evidence), out);
    }
    if (response.entries_size() == 0) break;
    // Verified: written from the page itself, which the batch keeps until then.
    for (const v1::LogEntry& e : response.entries()) verified.pulled.push_back(&e);
    verified.arenas.push_back(std::move(resp->arena));
    for (auto& [device, head] : v.batch.device_heads) {
      device_heads[device] = head;
      verified.device_heads[device] = head;
    }
    for (auto& k : v.batch.epoch_keys) verified.epoch_keys.push_back(std::move(k));
    for (auto& id : v.batch.confirmed_client_op_ids) {
      verified.confirmed_client_op_ids.push_back(std::move(id));
    }
    learned_older_keys |= v.learned_older_keys;
    for (auto& r : v.refused_own) refused_own.push_back(std::move(r));
    for (auto& f : v.complaints) complaints.push_back(std::move(f));
    current.head_seq = v.batch.head_seq;
    current.head_hash = std::move(v.batch.head_hash);
    if (!signed_ahead || signed_head > signed_ahead->seq()) {
      signed_ahead = response.head();
      receipts.emplace(signed_head, response.head());
    }
    if (!goes_on(verified.pulled.size(), current.head_seq, signed_head)) break;
  }
  // Stopped at the signed head, not at the entry cap (the rest comes in the next commit).
  const bool at_end = current.head_seq >= served_head;
  if (verified.pulled.empty()) {
    if (at_end && current.state.removed() && !was_removed) return settle_stored();
    // A crash after a leave was written but before its Rekey was queued (commit above: two
    // transactions) leaves the stored state waiting for a key with nothing queued to give it.
    // Queued here too, or kringd would hold every edit until something new came in. Most syncs
    // read nothing here: the queue is read only when a key or a complaint is due.
    KRING_RETURN_IF_ERROR(QueueRekeyAfterLeave(case_id, current.state, me));
    store_->KeepCase(std::move(current), version);  // nothing new: the state goes back as taken
    return false;
  }
  KRING_RETURN_IF_ERROR(commit(at_end));
  return true;
}

namespace {

// Whether kringd's refusal of a push is one a pull and a new seal can cure (a stale epoch or
// chain position). A closed case is not: kringd refuses every change but the erasure from then
// on, and a device that cannot pull it (an acceptance waiting for approval) would otherwise send
// the same op at every sync; the op is rejected instead.
bool PullCures(const Status& refused) {
  return refused.code() == StatusCode::kFailedPrecondition &&
         refused.reason() != refusal::kCaseClosed;
}

// A complaint asked for a new key of `scope` and its epoch is still the current one.
bool RekeyRequested(const v1::CaseState& state, uint32_t scope) {
  auto req = state.rekey_requests().find(scope);
  auto cur = state.scope_epochs().find(scope);
  return req != state.rekey_requests().end() && cur != state.scope_epochs().end() &&
         req->second == cur->second;
}

bool ScopeNeedsRekey(const v1::CaseState& state, uint32_t scope) {
  auto it = state.scopes().find(scope);
  return it != state.scopes().end() && it->second.members_size() > 0 &&
         (it->second.rekey_required() || RekeyRequested(state, scope));
}

bool IsManager(const v1::CaseState& state, const v1::LocalAccount& me) {
  const v1::Member* self = model::FindMember(state, View(me.account_id()));
  return self != nullptr &&
         (self->role() == v1::ROLE_CHAIR || self->role() == v1::ROLE_COORDINATOR);
}

v1::OpHeader NewHeader(const v1::LocalAccount& me, const Bytes& case_id, const CaseRecord& rec,
                       const DeviceHead& mine, v1::OpKind kind, uint64_t epoch,
                       const std::string& client_op_id, uint32_t scope_id = 0) {
  v1::OpHeader h;
  h.set_version(protocol::kVersion);
  h.set_case_id(ToString(case_id));
  h.set_scope_id(scope_id);
  h.set_epoch(epoch);
  h.set_author_account_id(me.account_id());
  h.set_author_device_id(me.device_id());
  h.set_device_counter(mine.counter + 1);
  h.set_prev_device_op_hash(ToString(mine.last_hash));
  h.set_client_op_id(client_op_id);
  h.set_seen_seq(rec.head_seq);
  h.set_seen_hash(ToString(rec.head_hash));
  h.set_kind(kind);
  h.set_created_at_ms(NowMs());
  return h;
}

}  // namespace

Result<std::vector<v1::Envelope>> SyncEngine::SealControl(const Bytes& case_id,
                                                          const CaseRecord& rec,
                                                          const v1::CaseState& projected,
                                                          const Intent& in, DeviceHead& mine) {
  v1::LocalAccount me;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    me = *account_;
  }
  const v1::ControlIntent& ci = in.control_op;
  const v1::ControlBody change = model::ControlBodyOf(ci);
  uint64_t current_epoch = 0;
  auto cur = projected.scope_epochs().find(0);
  if (cur != projected.scope_epochs().end()) current_epoch = cur->second;
  v1::OpKind kind = v1::OP_KIND_UNSPECIFIED;
  if (ci.has_create_case()) {
    if (projected.members_size() != 0) return Status(StatusCode::kAborted, "case exists already");
    kind = v1::OP_KIND_CREATE_CASE;
    current_epoch = 1;  // CreateCase is sealed under epoch 1, the epoch its Rekey starts
  } else if (ci.has_add_member() || ci.has_remove_member()) {
    // The refusal keeps its reason key, for the app's text in the rejection event.
    Status denied = model::CheckControlPermission(projected, View(me.account_id()), change);
    if (!denied.ok()) return Status(StatusCode::kAborted, denied.message(), denied.reason());
    kind = ci.has_add_member() ? v1::OP_KIND_ADD_MEMBER : v1::OP_KIND_REMOVE_MEMBER;
  } else if (ci.has_invite() || ci.has_revoke_invite() || ci.has_decline_member() ||
             ci.has_accept_invite() || ci.has_close_case() || ci.has_erase_case() ||
             ci.has_complaint() || ci.has_set_role()) {
    // One op, no new key: nobody gains or loses access by these alone (a role decides what
    // someone may do, not what they can read).
    kind = ci.has_invite()           ? v1::OP_KIND_INVITE
           : ci.has_revoke_invite()  ? v1::OP_KIND_REVOKE_INVITE
           : ci.has_decline_member() ? v1::OP_KIND_DECLINE_MEMBER
           : ci.has_close_case()     ? v1::OP_KIND_CLOSE_CASE
           : ci.has_erase_case()     ? v1::OP_KIND_ERASE_CASE
           : ci.has_complaint()      ? v1::OP_KIND_COMPLAINT
           : ci.has_set_role()       ? v1::OP_KIND_SET_ROLE
                                     : v1::OP_KIND_ACCEPT_INVITE;
    // The acceptor cannot see the case yet (one that is a member by its log again does not
    // send its acceptance: EndNeedlessWait).
    if (!ci.has_accept_invite()) {
      // The refusal keeps its reason key, for the app's text in the rejection event.
      Status denied = model::CheckControlPermission(projected, View(me.account_id()), change);
      if (!denied.ok()) return Status(StatusCode::kAborted, denied.message(), denied.reason());
      // Against the state pulled since it was queued (the same policy as Client::QueueControl):
      // the message is the domain key, for the text in the rejection event.
      denied = domain::CheckControlPolicy(projected, ci);
      if (!denied.ok()) return Status(StatusCode::kAborted, denied.message(), denied.reason());
    }
    v1::OpHeader h = NewHeader(me, case_id, rec, mine, kind, std::max<uint64_t>(current_epoch, 1),
                               ToString(in.client_op_id));
    std::vector<v1::Envelope> single;
    single.push_back(SignEnvelope(me, h, &change, nullptr, {}));
    mine.counter = h.device_counter();
    mine.last_hash = protocol::EnvelopeHash(single.back());
    return single;
  } else if (ci.has_set_scope()) {
    // The refusal keeps its reason key, for the app's text in the rejection event.
    Status denied = model::CheckControlPermission(projected, View(me.account_id()), change);
    if (!denied.ok()) return Status(StatusCode::kAborted, denied.message(), denied.reason());
    kind = v1::OP_KIND_SET_SCOPE;
  } else if (ci.has_rekey_scope()) {
    const uint32_t id = ci.rekey_scope().scope_id();
    if (projected.rekey_pending()) return Status(StatusCode::kAborted, "rekey no longer needed");
    if (id == 0 ? !RekeyRequested(projected, 0) || !IsManager(projected, me)
                : !ScopeNeedsRekey(projected, id)) {
      return Status(StatusCode::kAborted, "rekey no longer needed");
    }
    if (!model::InScope(projected, id, View(me.account_id()))) {
      return Status(StatusCode::kAborted, "not in this scope any more");
    }
    std::vector<v1::Envelope> out;
    v1::CaseState after = projected;
    KRING_RETURN_IF_ERROR(
        AppendRekey(me, case_id, rec, after, id, ToString(in.client_op_id), out, mine));
    return out;
  } else if (ci.has_rekey_after_revoke()) {
    // Devices revoked by their accounts' chains (this account's, or another member's after
    // kringd held this device's content): new keys for scope 0 and for every restricted scope
    // this device is in that holds a revoked device's account, each naming the devices, in one
    // push, so nothing after this opens with their keys. A scope already rekeyed naming a
    // device (by another member's device first) is not rekeyed again for it.
    if (projected.removed() || model::FindMember(projected, View(me.account_id())) == nullptr) {
      return Status(StatusCode::kAborted, "not a member of this case any more");
    }
    // Whose device each one is, by the members' verified chains; a device of someone no longer
    // in the case needs no naming (the Rekey that removed them gave them no key). A member whose
    // chain does not load now gets no Rekey this round: kringd keeps holding the content and the
    // next sync tries again (nothing is taken from the server's word meanwhile).
    std::map<std::string, std::string> owner;
    for (const std::string& device : ci.rekey_after_revoke().revoked_devices()) {
      for (const v1::Member& m : projected.members()) {
        auto chain = ChainOf(ToBytes(m.account_id()));
        if (!chain.ok()) {
          log::Warn("revocation_rekey_chain_unavailable", {{"case", Hex(case_id)}});
          continue;
        }
        if (chain->devices.count(ToBytes(device)) != 0) {
          owner[device] = m.account_id();
          break;
        }
      }
    }
    // Devices still to be named in a scope: of an account in it, not named there before (by
    // another member's device first, or a plain member would be refused).
    auto to_name = [&](const v1::CaseState& state, uint32_t id) {
      std::vector<std::string> named;
      for (const auto& [device, account] : owner) {
        if (model::InScope(state, id, View(account)) &&
            state.revocation_rekeys().count(model::RevocationLabel(id, View(device))) == 0) {
          named.push_back(device);
        }
      }
      return named;
    };
    const std::vector<std::string> whole = to_name(projected, 0);
    if (projected.rekey_pending()) {
      // A membership change waits for the case's own Rekey, and every client refuses a Rekey of
      // a restricted scope before it (so does kringd). This device makes that Rekey only when it
      // names a device and may (a chair or coordinator after a leave, or a plain member for its
      // own account's devices; after another change only its device); else the intent waits
      // here, unsealed, until the case's Rekey lands.
      const bool others = std::ranges::any_of(
          whole, [&](const std::string& d) { return owner[d] != me.account_id(); });
      const bool may = projected.rekey_pending_device().empty()
                           ? IsManager(projected, me) || !others
                           : projected.rekey_pending_device() == me.device_id();
      if (whole.empty() || !may) return std::vector<v1::Envelope>{};
    }
    std::vector<uint32_t> scopes = {0};
    for (const auto& [id, scope] : projected.scopes()) {
      if (scope.members_size() > 0 && model::InScope(projected, id, View(me.account_id()))) {
        scopes.push_back(id);
      }
    }
    std::sort(scopes.begin() + 1, scopes.end());
    std::vector<v1::Envelope> out;
    v1::CaseState after = projected;
    for (uint32_t id : scopes) {
      const std::vector<std::string> named = id == 0 ? whole : to_name(after, id);
      if (named.empty()) continue;
      if (out.size() >= protocol::kMaxPushEnvelopes) break;
      std::string op_id = ToString(in.client_op_id);
      if (!out.empty()) {
        KRING_ASSIGN_OR_RETURN(Bytes rekey_op_id, store_->NewClientOpId(case_id));
        op_id = ToString(rekey_op_id);
      }
      if (Status made = AppendRekey(me, case_id, rec, after, id, op_id, out, mine, named);
          !made.ok()) {
        // A recipient's chain did not load (or this device lacks the key a history back-link
        // needs): the Rekeys made so far go out, the rest (or all) wait for the next sync while
        // kringd keeps holding the content. Rejecting the intent instead would only queue it
        // again at the next refusal.
        log::Warn("revocation_rekey_deferred", {{"case", Hex(case_id)}});
        return out;
      }
    }
    if (out.empty()) return Status(StatusCode::kAborted, "rekey no longer needed");
    return out;
  } else if (ci.has_rekey_after_leave()) {
    if (!projected.rekey_pending()) return Status(StatusCode::kAborted, "rekey no longer needed");
    const v1::Member* self = model::FindMember(projected, View(me.account_id()));
    if (self == nullptr ||
        (self->role() != v1::ROLE_CHAIR && self->role() != v1::ROLE_COORDINATOR)) {
      return Status(StatusCode::kAborted, "only a chair or coordinator may rekey");
    }
    kind = v1::OP_KIND_REKEY;
  } else {
    return Status(StatusCode::kAborted, "unknown control change");
  }
  std::vector<v1::Envelope> out;
  v1::CaseState after = projected;
  const bool rekey_only = kind == v1::OP_KIND_REKEY;
  if (!rekey_only) {
    v1::OpHeader h1 =
        NewHeader(me, case_id, rec, mine, kind, current_epoch, ToString(in.client_op_id));
    out.push_back(SignEnvelope(me, h1, &change, nullptr, {}));
    mine.counter = h1.device_counter();
    mine.last_hash = protocol::EnvelopeHash(out.back());
    model::ApplyControl(after, h1, change, 0);
    // Leaving: the leaver must not make the next key (it would know it); a chair or coordinator
    // device does, and kringd accepts nothing else until then.
    if (ci.has_remove_member() && ci.remove_member().account_id() == me.account_id()) return out;
  }

  // The Rekey: a fresh epoch key boxed to every member after the change.
  const uint32_t rekeyed_scope = ci.has_set_scope() ? ci.set_scope().scope_id() : 0;
  std::string rekey_op_id = ToString(in.client_op_id);
  if (!rekey_only) {
    KRING_ASSIGN_OR_RETURN(Bytes fresh, store_->NewClientOpId(case_id));
    rekey_op_id = ToString(fresh);
  }
  KRING_RETURN_IF_ERROR(
      AppendRekey(me, case_id, rec, after, rekeyed_scope, rekey_op_id, out, mine));
  if (ci.has_remove_member()) {
    // Every restricted scope the removed person was in and this device is in gets its new key
    // in the same push; the others wait for one of their own members (QueueScopeRekeys).
    for (const auto& [id, scope] : after.scopes()) {
      if (!scope.rekey_required() || scope.members_size() == 0 ||
          !model::InScope(after, id, View(me.account_id()))) {
        continue;
      }
      if (out.size() >= protocol::kMaxPushEnvelopes) break;
      KRING_ASSIGN_OR_RETURN(Bytes scope_rekey_op_id, store_->NewClientOpId(case_id));
      KRING_RETURN_IF_ERROR(
          AppendRekey(me, case_id, rec, after, id, ToString(scope_rekey_op_id), out, mine));
    }
  }
  return out;
}

// A fresh key for `scope` boxed to its members in `state` (which the Rekey is applied to), signed
// as the next op of this device. The key is stored before the push: if the push is rejected,
// resealing writes a new key for the same epoch.
Status SyncEngine::AppendRekey(const v1::LocalAccount& me, const Bytes& case_id,
                               const CaseRecord& rec, v1::CaseState& state, uint32_t scope,
                               const std::string& client_op_id, std::vector<v1::Envelope>& out,
                               DeviceHead& mine, const std::vector<std::string>& revoked_devices) {
  uint64_t current_epoch = 0;
  if (auto cur = state.scope_epochs().find(scope); cur != state.scope_epochs().end()) {
    current_epoch = cur->second;
  }
  const uint64_t new_epoch = current_epoch + 1;  // 1 for a new case or scope
  std::vector<std::string> recipients;
  if (scope == 0) {
    for (const v1::Member& m : state.members()) recipients.push_back(m.account_id());
  } else {
    auto it = state.scopes().find(scope);
    if (it == state.scopes().end()) return Status(StatusCode::kAborted, "unknown scope");
    recipients.assign(it->second.members().begin(), it->second.members().end());
  }
  SecretBytes epoch_key = crypto::RandomSecret(crypto::kKeyBytes);
  v1::ControlBody rekey_body;
  v1::Rekey* rk = rekey_body.mutable_rekey();
  rk->set_scope_id(scope);
  rk->set_new_epoch(new_epoch);
  rk->set_key_commitment(
      ToString(protocol::EpochKeyCommitment(epoch_key, case_id, scope, new_epoch)));
  for (const std::string& device : revoked_devices) rk->add_revoked_devices(device);
  for (const std::string& account : recipients) {
    // Fresh chains: a box must go to each member's current user key, not a rotated-out one.
    KRING_ASSIGN_OR_RETURN(UserChain chain, ChainOf(ToBytes(account), true));
    rk->add_recipients(account);
    v1::KeyBox* box = rk->add_boxes();
    box->set_account_id(account);
    box->set_user_key_generation(chain.user_key.generation);
    box->set_sealed_key(ToString(crypto::Seal(chain.user_key.box_public_key, epoch_key)));
  }
  // History back-links only for the whole case (restricted scopes open "from now on"). Every
  // client and kringd refuse a later key of such a case without one, so a device that never got
  // the previous key leaves the new one to another device.
  if (scope == 0 && state.newcomers_read_history() && new_epoch > 1) {
    KRING_ASSIGN_OR_RETURN(std::optional<EpochKey> previous,
                           store_->FindEpochKey(case_id, 0, new_epoch - 1));
    if (!previous || state.unreadable_epochs().count(model::EpochLabel(0, new_epoch - 1)) != 0) {
      return Status(StatusCode::kAborted, "this device does not hold the case's current key");
    }
    rk->set_previous_key_box(
        ToString(protocol::SealPreviousKey(epoch_key, previous->key, case_id, 0, new_epoch)));
  }
  v1::OpHeader h =
      NewHeader(me, case_id, rec, mine, v1::OP_KIND_REKEY, new_epoch, client_op_id, scope);
  out.push_back(SignEnvelope(me, h, &rekey_body, nullptr, {}));
  mine.counter = h.device_counter();
  mine.last_hash = protocol::EnvelopeHash(out.back());
  model::ApplyControl(state, h, rekey_body, 0);
  return store_->SaveEpochKey(case_id, {scope, new_epoch, std::move(epoch_key)});
}

// Seals pending intents in order, continuing this device's op chain. Intents sealed earlier (and
// perhaps pushed with a lost response) keep their bytes; if they no longer continue the chain,
// everything is resealed against the verified state.
// Someone left: the next key must come from a chair or coordinator. Each such device queues a
// Rekey; the first to land wins and the others drop theirs as no longer needed.
Status SyncEngine::QueueRekeyAfterLeave(const Bytes& case_id, const v1::CaseState& state,
                                        const v1::LocalAccount& me) {
  KRING_RETURN_IF_ERROR(QueueScopeRekeys(case_id, state, me));
  if (!state.rekey_pending() || !state.rekey_pending_device().empty()) return {};
  const v1::Member* self = model::FindMember(state, View(me.account_id()));
  if (self == nullptr || (self->role() != v1::ROLE_CHAIR && self->role() != v1::ROLE_COORDINATOR)) {
    return {};
  }
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, store_->PendingIntents(case_id));
  for (const Intent& in : intents) {
    if (in.control && in.control_op.has_rekey_after_leave()) return {};
  }
  v1::ControlIntent intent;
  intent.mutable_rekey_after_leave()->set_scope_id(0);
  KRING_ASSIGN_OR_RETURN(Bytes client_op_id, store_->NewClientOpId(case_id));
  return store_->AddControlIntent(case_id, client_op_id, intent);
}

// kringd holds content of this case until a Rekey names a device revoked since. Which device is
// not taken from kringd: every member's chain is fetched afresh, and each revoked device of a
// member that some scope this device is in still waits for (no Rekey of that scope named it) is
// queued for one Rekey, which PushOnce sends ahead of the held edits. False when there is none
// (the edits wait for another member's device, or the next sync).
Result<bool> SyncEngine::QueueRekeyForRevoked(const Bytes& case_id) {
  v1::LocalAccount me;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    me = *account_;
  }
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->LoadCase(case_id));
  if (!rec || rec->state.removed()) return false;
  const v1::CaseState& state = rec->state;
  std::vector<uint32_t> mine_scopes = {0};
  for (const auto& [id, scope] : state.scopes()) {
    if (scope.members_size() > 0 && model::InScope(state, id, View(me.account_id()))) {
      mine_scopes.push_back(id);
    }
  }
  std::vector<std::string> devices;
  for (const v1::Member& m : state.members()) {
    // A chain that does not load now (offline, or it does not verify) names nothing this round:
    // the content stays held and the next sync looks again. Another member's chain still counts.
    auto chain = ChainOf(ToBytes(m.account_id()), true);
    if (!chain.ok()) {
      log::Warn("revocation_rekey_chain_unavailable", {{"case", Hex(case_id)}});
      continue;
    }
    for (const auto& [id, device] : chain->devices) {
      if (device.is_recovery || !device.revoked_at) continue;
      // `device_id` named for the lambda: clang before 16 cannot capture a structured binding
      // (the fuzz targets build with clang, tests/fuzz).
      const auto& device_id = id;
      const bool waits = std::ranges::any_of(mine_scopes, [&](uint32_t scope) {
        return model::InScope(state, scope, View(m.account_id())) &&
               state.revocation_rekeys().count(model::RevocationLabel(scope, device_id)) == 0;
      });
      if (waits && devices.size() < 64) devices.push_back(ToString(id));
    }
  }
  if (devices.empty()) return false;
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, store_->PendingIntents(case_id));
  for (const Intent& in : intents) {
    if (!in.control || !in.control_op.has_rekey_after_revoke()) continue;
    const auto& queued = in.control_op.rekey_after_revoke().revoked_devices();
    if (std::ranges::all_of(devices, [&](const std::string& d) {
          return std::find(queued.begin(), queued.end(), d) != queued.end();
        })) {
      return true;
    }
  }
  v1::ControlIntent intent;
  intent.mutable_rekey_after_revoke()->set_scope_id(0);
  for (const std::string& d : devices) intent.mutable_rekey_after_revoke()->add_revoked_devices(d);
  KRING_ASSIGN_OR_RETURN(Bytes client_op_id, store_->NewClientOpId(case_id));
  KRING_RETURN_IF_ERROR(store_->AddControlIntent(case_id, client_op_id, intent));
  return true;
}

// kringd says the case is gone. Only a valid signed request makes this device delete its copy:
// an EraseCase by the chair (or a coordinator before the resident joined), or a CloseCase by a
// chair or coordinator whose retention has ended by this device's clock too (a day of slack).
// Anything else is a server trying to make devices forget: an alarm, and nothing is deleted.
Status SyncEngine::AcceptErasure(const Bytes& case_id, const v1::CaseErased& erased, Outcome& out) {
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->LoadCase(case_id));
  if (!rec) return {};
  const v1::LogEntry& trigger = erased.trigger();
  auto reject = [&](const std::string& why) {
    // The tombstone without its history (which holds no content, but can be large).
    v1::CaseErased evidence;
    evidence.set_case_id(erased.case_id());
    evidence.set_erased_at_ms(erased.erased_at_ms());
    *evidence.mutable_trigger() = trigger;
    return Alarm(case_id, AlarmKind::kTamper, trigger.seq(), why,
                 ToBytes(evidence.SerializeAsString()), out);
  };
  auto op = protocol::ParseEnvelope(trigger.envelope());
  if (!op.ok() || !ConstantTimeEqual(View(op->header.case_id()), case_id) ||
      (op->header.kind() != v1::OP_KIND_ERASE_CASE &&
       op->header.kind() != v1::OP_KIND_CLOSE_CASE)) {
    return reject("tombstone without an erasure or close request");
  }
  if (trigger.seq() <= rec->head_seq) {
    // A position this device verified: the request must be the very op it has there.
    KRING_ASSIGN_OR_RETURN(std::optional<Bytes> at, store_->ChainHashAt(case_id, trigger.seq()));
    Bytes prev;
    if (trigger.seq() > 1) {
      KRING_ASSIGN_OR_RETURN(std::optional<Bytes> before,
                             store_->ChainHashAt(case_id, trigger.seq() - 1));
      if (before) prev = *before;
    }
    if (!at || !ConstantTimeEqual(*at, View(trigger.chain_hash())) ||
        !ConstantTimeEqual(*at, protocol::ChainHash(prev, trigger.seq(), op->envelope_hash))) {
      return reject("tombstone names an op this device does not have");
    }
  }
  KRING_ASSIGN_OR_RETURN(UserChain chain, ChainOf(ToBytes(op->header.author_account_id()), true));
  const ChainDevice* device = chain.ActiveDevice(View(op->header.author_device_id()));
  if (device == nullptr || !crypto::Verify(device->signing_public_key, op->digest,
                                           View(trigger.envelope().signature()))) {
    return reject("erasure request is not signed by a device of its author");
  }
  // Past the verified head the request is checked against the state the log leads to: kringd
  // keeps the log's control ops (and the content ops' hashes) with the tombstone.
  std::optional<v1::CaseState> folded;
  if (trigger.seq() > rec->head_seq) {
    std::string why;
    KRING_ASSIGN_OR_RETURN(folded, StateAtErasure(*rec, erased, op->envelope_hash, why));
    if (!folded) return reject(why);
  }
  const v1::CaseState& state = folded ? *folded : rec->state;
  const v1::Member* author = model::FindMember(state, View(op->header.author_account_id()));
  if (op->header.kind() == v1::OP_KIND_ERASE_CASE) {
    v1::CaseState before_close = state;
    before_close.set_closed(false);
    const Status denied = model::CheckControlPermission(
        before_close, View(op->header.author_account_id()), op->control);
    if (!denied.ok()) return reject("erasure request by someone who may not erase");
  } else {
    const bool manager = author != nullptr && (author->role() == v1::ROLE_CHAIR ||
                                               author->role() == v1::ROLE_COORDINATOR);
    const int64_t ends = op->header.created_at_ms() +
                         int64_t{op->control.close_case().retention_days()} * 24 * 3600 * 1000;
    if (!manager) return reject("case closed by someone who may not close it");
    if (ends > NowMs() + int64_t{24} * 3600 * 1000) {
      return reject("case deleted before its retention ended");
    }
  }
  KRING_RETURN_IF_ERROR(store_->DeleteCase(case_id));
  out.events.push_back({ChangeEvent::Kind::kCaseDeleted, case_id, {}});
  return {};
}

namespace {
// More seqs than this between the verified head and an erasure are not read (the check would
// keep a chain hash for each of them): the erasure is checked against the verified state, as
// when kringd serves no history.
constexpr uint64_t kMaxErasedHistory = uint64_t{1} << 20;
}  // namespace

Result<std::optional<v1::CaseState>> SyncEngine::StateAtErasure(const CaseRecord& rec,
                                                                const v1::CaseErased& first,
                                                                ByteView trigger_envelope_hash,
                                                                std::string& why) {
  const Bytes& case_id = rec.case_id;
  const v1::LogEntry& trigger = first.trigger();
  const uint64_t trigger_seq = trigger.seq();
  auto fail = [&why](std::string reason) -> Result<std::optional<v1::CaseState>> {
    why = std::move(reason);
    return std::optional<v1::CaseState>();
  };
  // Only kringd from before the history (or an account it keeps none for) serves none, and a
  // history longer than kMaxErasedHistory is not read: the check falls back to the verified state
  // (docs/threat-model.md).
  if (trigger_seq > rec.head_seq + 1 &&
      (first.history_size() == 0 || trigger_seq - rec.head_seq - 1 > kMaxErasedHistory)) {
    return std::optional<v1::CaseState>(rec.state);
  }
  v1::LocalAccount me;
  Bytes server_key;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    server_key = server_key_;
    me = *account_;
  }
  KRING_ASSIGN_OR_RETURN(auto device_heads, store_->DeviceHeads(case_id));
  KRING_ASSIGN_OR_RETURN(auto receipts, store_->Receipts(case_id));
  KRING_ASSIGN_OR_RETURN(auto push_results, store_->PushResults(case_id));
  // The history's chain hashes, by seq - head - 1: the verifier's seen-head and link checks
  // read them.
  std::vector<protocol::HashArray> chain;
  VerifyContext ctx;
  ctx.record.case_id = case_id;
  ctx.record.head_seq = rec.head_seq;
  ctx.record.head_hash = rec.head_hash;
  ctx.record.state = rec.state;
  ctx.device_heads = std::move(device_heads);
  ctx.receipts = &receipts;
  ctx.push_results = &push_results;
  ctx.server_public_key = server_key;
  ctx.me = &me;
  ctx.erased_history = true;
  ctx.chain_hash_at = [&](uint64_t seq) -> Result<std::optional<Bytes>> {
    if (seq > rec.head_seq) {
      const uint64_t i = seq - rec.head_seq - 1;
      if (i >= chain.size()) return std::optional<Bytes>();
      return std::optional<Bytes>(Bytes(chain[i].begin(), chain[i].end()));
    }
    return store_->ChainHashAt(case_id, seq);
  };
  ctx.chain_of = [&](const Bytes& account, bool refresh) { return ChainOf(account, refresh); };
  ctx.epoch_key = [&](uint32_t scope, uint64_t epoch) {
    return store_->FindEpochKey(case_id, scope, epoch);
  };
  uint64_t at = rec.head_seq;
  Bytes prev = rec.head_hash;
  v1::CaseErased page = first;
  for (bool first_page = true; at + 1 < trigger_seq; first_page = false) {
    if (!first_page || page.history_size() == 0 || page.history(0).seq() != at + 1) {
      // The next page (or the first again, from this device's head).
      v1::PullRequest req;
      req.set_case_id(ToString(case_id));
      req.set_after_seq(at);
      req.set_after_chain_hash(ToString(prev));
      req.set_limit(protocol::kMaxPullLimit);
      if (!first_page || page.history_size() > 0) {
        KRING_ASSIGN_OR_RETURN(v1::PullResponse resp,
                               WithToken([&](const std::string& t) -> Result<v1::PullResponse> {
                                 return transport_->Pull(req, t);
                               }));
        if (!resp.has_erased()) return fail("erased case's history broke off");
        page = std::move(*resp.mutable_erased());
      }
      if (page.trigger().seq() != trigger_seq ||
          !ConstantTimeEqual(View(page.trigger().chain_hash()), View(trigger.chain_hash()))) {
        return fail("erased case's history names another erasure");
      }
    }
    if (page.history_size() == 0) return fail("erased case's history stops before the erasure");
    v1::PullResponse controls;
    for (v1::ErasedEntry& e : *page.mutable_history()) {
      if (e.seq() != at + 1 || e.seq() >= trigger_seq) {
        return fail("erased case's history is out of order");
      }
      if (e.chain_hash().size() != crypto::kHashBytes) {
        return fail("erased case's history has a malformed entry");
      }
      Bytes envelope_hash;
      if (e.op_case() == v1::ErasedEntry::kControl) {
        auto parsed = protocol::ParseEnvelope(e.control());
        if (!parsed.ok()) return fail("erased case's history has a malformed op");
        envelope_hash = std::move(parsed->envelope_hash);
      } else if (e.op_case() == v1::ErasedEntry::kEnvelopeHash &&
                 e.envelope_hash().size() == crypto::kHashBytes) {
        envelope_hash = ToBytes(e.envelope_hash());
      } else {
        return fail("erased case's history has a malformed entry");
      }
      const protocol::HashArray link = protocol::ChainHashArray(prev, e.seq(), envelope_hash);
      if (!ConstantTimeEqual(link, View(e.chain_hash()))) {
        return fail("erased case's history does not link");
      }
      chain.push_back(link);
      prev.assign(link.begin(), link.end());
      at = e.seq();
      if (e.op_case() == v1::ErasedEntry::kControl) {
        v1::LogEntry* entry = controls.add_entries();
        entry->set_seq(e.seq());
        entry->set_chain_hash(e.chain_hash());
        *entry->mutable_envelope() = std::move(*e.mutable_control());
      }
    }
    if (controls.entries_size() > 0) {
      // The page's control ops, checked and folded as a pull's (verifier.cpp); the seqs
      // between them were linked above.
      VerifyResult v = VerifyPull(ctx, std::move(controls));
      if (!v.error.ok()) return v.error;
      if (v.failure) return fail(v.failure->detail);
      ctx.record.state = std::move(v.batch.state);
      for (auto& [device, head] : v.batch.device_heads) ctx.device_heads[device] = head;
    }
    ctx.record.head_seq = at;
    ctx.record.head_hash = prev;
    if (at + 1 < trigger_seq && !page.more()) {
      return fail("erased case's history stops before the erasure");
    }
  }
  if (!ConstantTimeEqual(protocol::ChainHashArray(prev, trigger_seq, trigger_envelope_hash),
                         View(trigger.chain_hash()))) {
    return fail("erasure does not link to the verified log");
  }
  return std::optional<v1::CaseState>(std::move(ctx.record.state));
}

// Someone left a restricted scope and the remover was not in it: each device in the scope queues
// its next key; the first to land wins and the others drop theirs as no longer needed.
Status SyncEngine::QueueScopeRekeys(const Bytes& case_id, const v1::CaseState& state,
                                    const v1::LocalAccount& me) {
  if (state.removed() || state.closed()) return {};
  std::vector<uint32_t> needed;
  // While the case waits for its new key after a leave, sealing drops every scope's rekey as no
  // longer needed (SealControl): none is queued until that key has come, or each sync would queue
  // one more to drop.
  if (!state.rekey_pending()) {
    for (const auto& [id, scope] : state.scopes()) {
      if (ScopeNeedsRekey(state, id) && model::InScope(state, id, View(me.account_id()))) {
        needed.push_back(id);
      }
    }
    if (RekeyRequested(state, 0) && IsManager(state, me)) needed.push_back(0);
  }
  // Most syncs need neither: the pending queue (which can hold thousands of offline edits) is
  // read only when there is a key to ask for or a complaint to make.
  if (needed.empty() && state.unreadable_epochs().empty()) return {};
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, store_->PendingIntents(case_id));
  KRING_RETURN_IF_ERROR(QueueComplaints(case_id, state, me, intents));
  if (needed.empty()) return {};
  for (uint32_t id : needed) {
    bool queued = false;
    for (const Intent& in : intents) {
      queued |= in.control && in.control_op.has_rekey_scope() &&
                in.control_op.rekey_scope().scope_id() == id;
    }
    if (queued) continue;
    v1::ControlIntent intent;
    intent.mutable_rekey_scope()->set_scope_id(id);
    KRING_ASSIGN_OR_RETURN(Bytes client_op_id, store_->NewClientOpId(case_id));
    KRING_RETURN_IF_ERROR(store_->AddControlIntent(case_id, client_op_id, intent));
  }
  return {};
}

// Each epoch whose key box for this device did not open gets one signed complaint, so the others
// see it and a chair or coordinator (a member, for a restricted scope) hands out a new key.
Status SyncEngine::QueueComplaints(const Bytes& case_id, const v1::CaseState& state,
                                   const v1::LocalAccount& me, const std::vector<Intent>& intents) {
  for (const auto& [label, rekey_seq] : state.unreadable_epochs()) {
    bool done = false;
    for (const auto& c : state.complaints()) {
      done |= c.rekey_seq() == rekey_seq && c.account_id() == me.account_id();
    }
    for (const Intent& in : intents) {
      done |= in.control && in.control_op.has_complaint() &&
              in.control_op.complaint().rekey_seq() == rekey_seq;
    }
    if (done) continue;
    const size_t colon = label.find(':');
    v1::ControlIntent intent;
    v1::Complaint* c = intent.mutable_complaint();
    c->set_rekey_seq(rekey_seq);
    c->set_scope_id(static_cast<uint32_t>(std::stoul(label.substr(0, colon))));
    c->set_epoch(std::stoull(label.substr(colon + 1)));
    c->set_reason("key_box_mismatch");
    KRING_ASSIGN_OR_RETURN(Bytes client_op_id, store_->NewClientOpId(case_id));
    KRING_RETURN_IF_ERROR(store_->AddControlIntent(case_id, client_op_id, intent));
  }
  return {};
}

// After a removal nothing queued can ever be accepted: each edit is rejected visibly (kept on
// the device with its reason) instead of waiting forever, with the mark, in one transaction; the
// app is told only once that has committed (a crash before it leaves the removal unsettled, to
// be settled and told at the next catch-up that ends there).
Status SyncEngine::SettleRemoval(const Bytes& case_id, Outcome& out, uint64_t* version) {
  std::string me_account;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    me_account = account_->account_id();
  }
  KRING_ASSIGN_OR_RETURN(SettledRemoval settled,
                         store_->SettleRemoval(case_id, View(me_account), version));
  SettledRemovalEvents(case_id, settled, out.events);
  return {};
}

void SyncEngine::SettledRemovalEvents(const Bytes& case_id, const SettledRemoval& settled,
                                      std::vector<ChangeEvent>& events) {
  if (!settled.settled) return;
  if (settled.refused > 0) {
    log::Warn("intents_rejected", {{"case", Hex(case_id)},
                                   {"reason", std::string(refusal::kNotAMember)},
                                   {"count", std::to_string(settled.refused)}});
    // One event for the case, not one per change: the app shows one message with the number.
    ChangeEvent e{ChangeEvent::Kind::kIntentRejected, case_id, kRemovedFromTheCase,
                  std::string(refusal::kNotAMember)};
    e.count = settled.refused;
    events.push_back(std::move(e));
  }
  // A removal the store upgrade marked was told by the libkring that verified it.
  if (!settled.told_before) events.push_back({ChangeEvent::Kind::kRemovedFromCase, case_id, {}});
}

void SyncEngine::Tell(std::vector<ChangeEvent> events) {
  if (events.empty() || !sink_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      for (ChangeEvent& e : events) told_.push_back(std::move(e));
      wake_ = true;
      events.clear();
    }
  }
  if (events.empty()) {
    cv_.notify_all();
    return;
  }
  sink_(std::move(events));
}

Result<size_t> SyncEngine::RejectForClosedCase(const Bytes& case_id, const std::string& detail,
                                               Outcome& out) {
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, store_->PendingIntents(case_id));
  std::vector<int64_t> ids;
  std::vector<int64_t> own_closes;  // closed by someone else: what the user wanted happened
  size_t made_by_user = 0;          // not the Rekeys and complaints this device queued on its own
  for (const Intent& in : intents) {
    if (in.control && in.control_op.has_erase_case()) continue;  // still accepted
    if (in.control && in.control_op.has_close_case()) {
      own_closes.push_back(in.id);
      continue;
    }
    ids.push_back(in.id);
    const bool own =
        in.control && (in.control_op.has_rekey_after_leave() || in.control_op.has_rekey_scope() ||
                       in.control_op.has_rekey_after_revoke() || in.control_op.has_complaint());
    if (!own) ++made_by_user;
  }
  // Done, not refused: rejected quietly, as the own leave after a removal.
  KRING_RETURN_IF_ERROR(store_->RejectIntents(own_closes, "closed already"));
  KRING_RETURN_IF_ERROR(
      RejectTogether(case_id, ids, made_by_user, detail, refusal::kCaseClosed, out));
  return ids.size() + own_closes.size();
}

Status SyncEngine::RejectTogether(const Bytes& case_id, const std::vector<int64_t>& ids,
                                  size_t counted, const std::string& detail,
                                  std::string_view reason, Outcome& out) {
  KRING_RETURN_IF_ERROR(store_->RejectIntents(ids, detail));
  if (counted == 0) return {};
  log::Warn("intents_rejected", {{"case", Hex(case_id)},
                                 {"reason", std::string(reason)},
                                 {"count", std::to_string(counted)}});
  // One event for the case, not one per change: the app shows one message with the number.
  ChangeEvent e{ChangeEvent::Kind::kIntentRejected, case_id, detail, std::string(reason)};
  e.count = counted;
  out.events.push_back(std::move(e));
  return {};
}

Status SyncEngine::Replay(const Bytes& case_id) {
  v1::LocalAccount me;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    me = *account_;
  }
  // The wait for approval is this device's own, not the log's: it is kept as stored. The log
  // folded again from its start cannot tell it (an approval of an earlier acceptance of this
  // account would end it, and the acceptance now waiting is not in the log yet), and the fold
  // that stored it read the same entries.
  KRING_ASSIGN_OR_RETURN(std::optional<CaseFlags> flags, store_->LoadCaseFlags(case_id));
  const bool pending_approval = flags && flags->pending_approval;
  // Each pass can learn one more epoch back through the back-links; an epoch is at most once.
  for (int pass = 0; pass < 1000; ++pass) {
    KRING_ASSIGN_OR_RETURN(std::vector<v1::LogEntry> log, store_->LogEntries(case_id));
    v1::PullResponse all;
    for (auto& e : log) *all.add_entries() = std::move(e);
    VerifyContext ctx;
    ctx.replay = true;
    ctx.record.case_id = case_id;
    ctx.me = &me;
    ctx.chain_hash_at = [&](uint64_t seq) { return store_->ChainHashAt(case_id, seq); };
    ctx.chain_of = [&](const Bytes& account, bool refresh) { return ChainOf(account, refresh); };
    ctx.epoch_key = [&](uint32_t scope, uint64_t epoch) {
      return store_->FindEpochKey(case_id, scope, epoch);
    };
    VerifyResult v = VerifyPull(ctx, std::move(all));
    if (!v.error.ok()) return v.error;
    if (v.failure) return DataLoss("verified log no longer replays: " + v.failure->detail);
    for (const EpochKey& k : v.batch.epoch_keys)
      KRING_RETURN_IF_ERROR(store_->SaveEpochKey(case_id, k));
    if (!v.learned_older_keys) {
      v.batch.state.set_pending_approval(pending_approval);
      return store_->ReplaceState(case_id, std::move(v.batch.state),
                                  LocalStore::RemovalMark::kKeep);
    }
  }
  return Internal("history replay did not settle");
}

Status SyncEngine::SealPending(const Bytes& case_id, std::vector<Intent>& intents, Outcome& out) {
  uint64_t version = 0;
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->TakeCase(case_id, &version));
  if (!rec) return NotFound("unknown case");
  // Sealing writes intents and keys only, never the case row: the record stays the stored one
  // (KeepCase drops it if anything else wrote a case meanwhile).
  Status sealed = SealPendingWith(case_id, *rec, intents, out);
  store_->KeepCase(std::move(*rec), version);
  return sealed;
}

Status SyncEngine::SealPendingWith(const Bytes& case_id, const CaseRecord& rec,
                                   std::vector<Intent>& intents, Outcome& out) {
  KRING_ASSIGN_OR_RETURN(auto heads, store_->DeviceHeads(case_id));
  v1::LocalAccount me;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    me = *account_;
  }
  const DeviceHead confirmed = heads[ToBytes(me.device_id())];
  DeviceHead mine = confirmed;
  // The state with this device's sealed control ops applied; a copy is made only once one
  // changes it (content ops do not), so a push round of edits does not copy the case state.
  std::optional<v1::CaseState> changed;
  auto projected = [&]() -> const v1::CaseState& { return changed ? *changed : rec.state; };
  auto change = [&]() -> v1::CaseState& {
    if (!changed) changed = rec.state;
    return *changed;
  };
  // The unsigned run at the end of what is sealed: a push carries whole runs, so a run is kept
  // within one push's limits, and its last op is signed once nothing more joins it.
  Intent* last_sealed = nullptr;
  size_t run_envelopes = 0;
  size_t run_bytes = 0;
  // Counted by whole intents, as PushOnce takes them: an intent whose last op is signed ends the
  // run; otherwise all its envelopes (a signed Rekey before an unsigned edit included) travel in
  // the same push as the run's signed end, so they all count against that push's limits.
  auto extend_run = [&](const std::vector<v1::Envelope>& envelopes) {
    if (envelopes.empty()) return;
    if (!envelopes.back().signature().empty()) {
      run_envelopes = 0;
      run_bytes = 0;
      return;
    }
    for (const v1::Envelope& env : envelopes) {
      ++run_envelopes;
      run_bytes += env.ByteSizeLong();
    }
  };
  // The intents sealed (or signed) in this call, stored together at its end: one commit for a
  // thousand queued edits instead of one each. Nothing is pushed before SealPending returns.
  std::vector<const Intent*> to_store;
  auto store_later = [&](const Intent& in) {
    if (to_store.empty() || to_store.back() != &in) to_store.push_back(&in);
  };
  auto close_run = [&]() -> Status {
    if (last_sealed == nullptr || !last_sealed->sealed.back().signature().empty()) return {};
    // Nothing is sealed after this op yet, so signing it (which changes its hash) breaks no
    // link; the intent is stored again with the signature.
    SignSealed(me, last_sealed->sealed.back());
    mine.last_hash = protocol::EnvelopeHash(last_sealed->sealed.back());
    run_envelopes = 0;
    run_bytes = 0;
    store_later(*last_sealed);
    return {};
  };
  bool stale = false;
  for (Intent& in : intents) {
    if (in.sealed.empty()) break;
    for (const v1::Envelope& env : in.sealed) {
      auto parsed = protocol::ParseEnvelope(env);
      const v1::CaseState& now = projected();
      auto epoch = now.scope_epochs().find(parsed.ok() ? parsed->header.scope_id() : uint32_t{0});
      const bool old_epoch =
          parsed.ok() && parsed->header.kind() == v1::OP_KIND_CONTENT &&
          (epoch == now.scope_epochs().end() || parsed->header.epoch() != epoch->second ||
           now.rekey_pending() || ScopeNeedsRekey(now, parsed->header.scope_id()));
      // Never resend content sealed under an epoch a removed member may hold: reseal it.
      if (!parsed.ok() || old_epoch || parsed->header.device_counter() != mine.counter + 1 ||
          !ConstantTimeEqual(View(parsed->header.prev_device_op_hash()), mine.last_hash)) {
        stale = true;
        break;
      }
      if (protocol::IsControl(parsed->header.kind())) {
        model::ApplyControl(change(), parsed->header, parsed->control, 0);
      }
      mine.counter = parsed->header.device_counter();
      mine.last_hash = parsed->envelope_hash;
    }
    if (stale) break;
    last_sealed = &in;
    extend_run(in.sealed);
  }
  if (stale) {
    KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
    for (Intent& in : intents) in.sealed.clear();
    mine = confirmed;
    changed.reset();
    last_sealed = nullptr;
    run_envelopes = 0;
    run_bytes = 0;
  }
  // Edits that can never be sealed: for a scope this account was taken out of, or one the case
  // no longer has. Rejected after the loop, each kind in one transaction and one event.
  std::vector<int64_t> out_of_scope;
  std::vector<int64_t> scope_unknown;
  std::vector<int64_t> no_longer_needed;  // rekeys another device made first, rejected quietly
  // Sealed in a lambda so that every way out of it still closes the run (below).
  auto seal_new = [&]() -> Status {
    for (Intent& in : intents) {
      if (!in.sealed.empty()) continue;
      std::vector<v1::Envelope> envelopes;
      if (in.control) {
        // Control ops are signed and stand alone: the run before them ends here.
        KRING_RETURN_IF_ERROR(close_run());
        DeviceHead before = mine;
        auto sealed = SealControl(case_id, rec, projected(), in, mine);
        if (!sealed.ok()) {
          mine = before;
          if (sealed.status().code() != StatusCode::kAborted) return sealed.status();
          // Closed by this device's own close, sealed before it and not yet accepted (a close
          // in the verified log rejects the queue before sealing): it waits. Should kringd
          // refuse the close, it goes out after all; once the close comes back in a pull, it is
          // rejected with the rest of the queue, in one event.
          if (sealed.status().reason() == refusal::kCaseClosed) break;
          if (in.control_op.has_rekey_after_leave() || in.control_op.has_rekey_scope() ||
              in.control_op.has_rekey_after_revoke()) {
            // Another chair or coordinator device handed out the key first: nothing to tell.
            KRING_RETURN_IF_ERROR(store_->RejectIntent(in.id, sealed.status().message()));
            no_longer_needed.push_back(in.id);
            continue;
          }
          // This change can never be accepted any more (e.g. the person was removed already):
          // reject it visibly and go on with the rest.
          KRING_RETURN_IF_ERROR(store_->RejectIntent(in.id, sealed.status().message()));
          return sealed.status();
        }
        envelopes = std::move(sealed).value();
        // A Rekey after a revocation that must wait for the case's own Rekey: it and everything
        // after it stay unsealed (sealing past it would take device counters it needs).
        if (envelopes.empty()) break;
        for (const v1::Envelope& env : envelopes) {
          auto parsed = protocol::ParseEnvelope(env);
          if (parsed.ok()) model::ApplyControl(change(), parsed->header, parsed->control, 0);
        }
      } else {
        if (projected().rekey_pending() || projected().members_size() == 0) break;
        // Closed by this device's own close, sealed before this edit and not yet accepted: the
        // edit waits (as above) rather than be lost should kringd refuse the close.
        if (projected().closed()) break;
        const uint32_t scope = in.content.scope_id();
        if (scope != 0 && projected().scopes().count(scope) == 0) {
          // The scope is gone from the case: the edit can never be sealed. Rejected visibly with
          // kringd's reason for an unknown scope (one event for all such edits of this round).
          scope_unknown.push_back(in.id);
          continue;
        }
        if (scope != 0 && !model::InScope(projected(), scope, View(me.account_id()))) {
          // The scope was closed to this account meanwhile: the edit may not be sealed any more.
          // Rejected visibly with kringd's reason (one event for all such edits of this round).
          out_of_scope.push_back(in.id);
          continue;
        }
        if (scope != 0 && ScopeNeedsRekey(projected(), scope)) {
          // Someone left the scope (or a server holds back its new key): this device is in it, so
          // it makes the next key now rather than seal to one a removed member holds, or wait on
          // its own queued rekey behind this edit.
          KRING_RETURN_IF_ERROR(close_run());  // the Rekey is signed and links to a final op
          DeviceHead before = mine;
          v1::CaseState after = projected();
          std::vector<v1::Envelope> rekey;
          KRING_ASSIGN_OR_RETURN(Bytes rekey_op_id, store_->NewClientOpId(case_id));
          Status made =
              AppendRekey(me, case_id, rec, after, scope, ToString(rekey_op_id), rekey, mine);
          if (!made.ok()) {
            mine = before;
            return made;
          }
          changed = std::move(after);
          for (v1::Envelope& env : rekey) envelopes.push_back(std::move(env));
        }
        auto epoch_it = projected().scope_epochs().find(scope);
        if (epoch_it == projected().scope_epochs().end()) break;
        KRING_ASSIGN_OR_RETURN(std::optional<EpochKey> key,
                               store_->FindEpochKey(case_id, scope, epoch_it->second));
        if (!key) break;  // no key delivered yet: the intents wait
        // A run fits in one push (count and bytes as PushOnce takes them); the bound on the
        // sealed size is known before sealing, since the header only links to a final op.
        size_t bound = in.content.ByteSizeLong() + protocol::kPaddingBlock + kEnvelopeSlack;
        for (const v1::Envelope& env : envelopes) bound += env.ByteSizeLong();  // its Rekey
        if (run_envelopes + envelopes.size() + 1 > protocol::kMaxPushEnvelopes ||
            run_bytes + bound > protocol::kMaxPushBytes / 2) {
          KRING_RETURN_IF_ERROR(close_run());
        }
        v1::OpHeader h = NewHeader(me, case_id, rec, mine, v1::OP_KIND_CONTENT, key->epoch,
                                   ToString(in.client_op_id), scope);
        envelopes.push_back(SealEnvelope(h, nullptr, &in.content, key->key));
        mine.counter = h.device_counter();
        mine.last_hash = protocol::EnvelopeHash(envelopes.back());
      }
      in.sealed = std::move(envelopes);
      store_later(in);
      last_sealed = &in;
      extend_run(in.sealed);
    }
    return {};
  };
  Status sealed_all = seal_new();
  Status rejected = RejectTogether(case_id, out_of_scope, out_of_scope.size(),
                                   "not in this scope any more", refusal::kNotInScope, out);
  if (rejected.ok()) {
    rejected = RejectTogether(case_id, scope_unknown, scope_unknown.size(),
                              "this scope does not exist", refusal::kScopeUnknown, out);
  }
  if (sealed_all.ok()) sealed_all = rejected;
  // Whatever stopped the sealing, the last sealed op ends its run signed, and what was sealed
  // is stored.
  KRING_RETURN_IF_ERROR(close_run());
  if (Status stored = store_->SetSealedMany(to_store); !stored.ok()) {
    // Nothing is pushed after either failure; an intent rejected in this round is still told.
    if (sealed_all.code() != StatusCode::kAborted) return stored;
    log::Warn("sealed_forms_not_stored", {{"case", Hex(case_id)}});
  }
  // What was rejected above leaves the caller's queue too: PushOnce's pushes stop at the first
  // unsealed intent, so one left at the front would hold back everything sealed behind it.
  if (sealed_all.ok()) {
    std::set<int64_t> gone(out_of_scope.begin(), out_of_scope.end());
    gone.insert(scope_unknown.begin(), scope_unknown.end());
    gone.insert(no_longer_needed.begin(), no_longer_needed.end());
    if (!gone.empty()) {
      std::erase_if(intents, [&](const Intent& in) { return gone.count(in.id) != 0; });
    }
  }
  return sealed_all;
}

Status SyncEngine::AcceptReceipts(const Bytes& case_id, const v1::PushRequest& req,
                                  const v1::PushResponse& answer, Outcome& out) {
  // A push that asked for one shared receipt gets it once, beside the results: each result is
  // checked and kept with it below, exactly as if kringd had copied it into every result.
  v1::PushResponse filled;
  if (answer.has_receipt()) {
    filled = answer;
    for (v1::PushResult& r : *filled.mutable_results()) {
      if (!r.has_receipt()) *r.mutable_receipt() = answer.receipt();
    }
  }
  const v1::PushResponse& resp = answer.has_receipt() ? filled : answer;
  Bytes server_key;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    server_key = server_key_;
  }
  // One result per envelope, in order: anything else cannot be tied to what was sent.
  if (resp.results_size() != req.envelopes_size()) {
    return Alarm(case_id, AlarmKind::kTamper, 0, "push answer does not match the push",
                 ToBytes(resp.SerializeAsString()), out);
  }
  // A receipt may cover a later seq of the case than its result (one signature per push or per
  // signing round, docs/protocol.md "Receipts"): the chain hash it signs commits to every earlier
  // entry, and the verifier later checks the pulled log against it at its own seq.
  std::string verified;  // the receipt last verified and saved; results of a push share one
  for (const v1::PushResult& r : resp.results()) {
    const v1::Receipt& rc = r.receipt();
    std::string bytes = rc.SerializeAsString();
    const bool seen = !verified.empty() && bytes == verified;
    if ((!seen && !protocol::VerifyReceipt(rc, server_key)) ||
        !ConstantTimeEqual(View(rc.case_id()), case_id) || r.seq() == 0 || rc.seq() < r.seq() ||
        !InStoredRange(r.seq()) || !InStoredRange(rc.seq()) ||
        (rc.seq() == r.seq() && !ConstantTimeEqual(View(rc.chain_hash()), View(r.chain_hash())))) {
      return Alarm(case_id, AlarmKind::kTamper, r.seq(), "push receipt does not verify",
                   ToBytes(r.SerializeAsString()), out);
    }
    if (!seen) KRING_RETURN_IF_ERROR(KeepReceipt(case_id, rc, out));
    verified = std::move(bytes);
  }
  return KeepPushResults(case_id, req, resp, out);
}

Status SyncEngine::KeepReceipt(const Bytes& case_id, const v1::Receipt& receipt, Outcome& out) {
  // Stored first, so an equivocation keeps both signed receipts whatever else is found.
  KRING_ASSIGN_OR_RETURN(std::optional<v1::Receipt> first, store_->SaveReceipt(receipt));
  if (first) {
    return Alarm(case_id, AlarmKind::kFork, receipt.seq(), kTwoReceipts,
                 EquivocationEvidence(*first, receipt), out);
  }
  // A seq this device verified already is not pulled again: compare it with the log now.
  KRING_ASSIGN_OR_RETURN(std::optional<v1::LogEntry> at,
                         store_->LogEntryAt(case_id, receipt.seq()));
  if (at && !ConstantTimeEqual(View(at->chain_hash()), View(receipt.chain_hash()))) {
    return Alarm(case_id, AlarmKind::kFork, receipt.seq(), kReceiptDiffersFromLog,
                 ReceiptEvidence(receipt, *at), out);
  }
  return {};
}

Status SyncEngine::KeepPushResults(const Bytes& case_id, const v1::PushRequest& req,
                                   const v1::PushResponse& resp, Outcome& out) {
  Bytes my_device;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    my_device = ToBytes(account_->device_id());
  }
  std::vector<SentOp> kept;
  for (int i = 0; i < resp.results_size(); ++i) {
    const v1::Envelope& env = req.envelopes(i);
    v1::OpHeader header;
    header.ParseFromString(env.header());  // this device's own envelope: sealed well-formed
    SentOp sent{protocol::EnvelopeHash(env), ToBytes(header.client_op_id()), resp.results(i)};
    // The local log holds every seq up to the verified head and nothing after it.
    KRING_ASSIGN_OR_RETURN(std::optional<v1::LogEntry> at,
                           store_->LogEntryAt(case_id, sent.result.seq()));
    if (!at) {
      kept.push_back(std::move(sent));
      continue;
    }
    auto op = protocol::ParseEnvelopeFields(at->envelope());
    if (!op.ok() ||
        !MatchesSentOp(sent, View(at->chain_hash()), op->envelope_hash, op->header, my_device)) {
      return Alarm(case_id, AlarmKind::kFork, sent.result.seq(), kPushResultDiffers,
                   SentOpEvidence(sent, *at, nullptr), out);
    }
  }
  if (kept.empty()) return {};
  return store_->KeepPushResults(case_id, kept);
}

namespace {

// The device counter an intent's sealed ops start at (0 when unsealed or unreadable).
uint64_t FirstCounter(const Intent& in) {
  if (in.sealed.empty()) return 0;
  v1::OpHeader h;
  return h.ParseFromString(in.sealed.front().header()) ? h.device_counter() : 0;
}

// The order intents are sealed and pushed in. Intents sealed in an earlier round come first, in
// the order of their device counters, so they still continue this device's op chain (a new
// intent moved ahead of them would take a counter they hold). Then, of the unsealed ones, an
// acceptance of an invite (see AcceptanceFirst), the case's own Rekey after a leave (every client
// takes no other Rekey before it), the new keys after a revocation (kringd holds content until they
// land, and nothing more should be sealed to a key a revoked device holds), and the rest in the
// order they were made.
void OrderForSealing(std::vector<Intent>& intents) {
  auto unsealed = std::stable_partition(intents.begin(), intents.end(),
                                        [](const Intent& in) { return !in.sealed.empty(); });
  // Each sealed intent's counter is read (its header parsed) once, not at every comparison: a
  // device back online can hold a thousand sealed intents.
  std::vector<std::pair<uint64_t, size_t>> by_counter;
  by_counter.reserve(static_cast<size_t>(unsealed - intents.begin()));
  for (auto it = intents.begin(); it != unsealed; ++it) {
    by_counter.emplace_back(FirstCounter(*it), by_counter.size());
  }
  std::sort(by_counter.begin(), by_counter.end());  // the index keeps equal counters in order
  std::vector<Intent> sealed_in_order;
  sealed_in_order.reserve(by_counter.size());
  for (const auto& [counter, at] : by_counter) sealed_in_order.push_back(std::move(intents[at]));
  std::move(sealed_in_order.begin(), sealed_in_order.end(), intents.begin());
  auto rank = [](const Intent& in) {
    if (!in.control) return 2;
    if (in.control_op.has_accept_invite()) return -1;  // see AcceptanceFirst
    if (in.control_op.has_rekey_after_leave()) return 0;
    return in.control_op.has_rekey_after_revoke() ? 1 : 2;
  };
  std::stable_sort(unsealed, intents.end(),
                   [&](const Intent& a, const Intent& b) { return rank(a) < rank(b); });
}

// Waiting for approval, kringd takes nothing from this account but its acceptance, and nothing
// else can be sealed before it is approved (e.g. content while the state still waits for the
// Rekey of the removal): an acceptance behind anything else would never go out. True when the
// changes sealed before it must be sealed again after it (OrderForSealing then puts it first).
bool AcceptanceFirst(const std::vector<Intent>& intents) {
  for (size_t i = 0; i < intents.size(); ++i) {
    if (intents[i].control && intents[i].control_op.has_accept_invite()) {
      return i > 0 && intents[i].sealed.empty();
    }
  }
  return false;
}

}  // namespace

// A refused acceptance (the invite was used, revoked or has expired) must not leave the device
// waiting for an approval that cannot come: a case it never read is forgotten, and one it was
// removed from goes back to that (what was queued while waiting rejected), so a fresh invite
// can be accepted.
Status SyncEngine::UndoAcceptance(ByteView case_id, Outcome& out) {
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->LoadCase(case_id));
  if (!rec || !rec->state.pending_approval()) return {};
  // Its counter stays: kringd may hold this device's acceptance, and a fresh invite's must rise
  // above it (LocalStore::DeleteCase).
  if (rec->head_seq == 0) return store_->DeleteCase(case_id, LocalStore::OpCounter::kKeep);
  std::string me_account;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    me_account = account_->account_id();
  }
  v1::CaseState state = std::move(rec->state);
  state.set_pending_approval(false);
  // A member again when the verified log added this account back by its account id before the
  // acceptance (kringd then refuses the acceptance as ALREADY_JOINED): what is queued goes out.
  if (model::FindMember(state, View(me_account)) != nullptr) {
    state.set_removed(false);
    return store_->ReplaceState(case_id, std::move(state), LocalStore::RemovalMark::kClear);
  }
  // Back to its removal, settled when the invite was accepted (StartCase) or verified while
  // waiting. The wait is over: what was made while waiting can never go out, and is rejected
  // with it (one event), as a settled removal rejects what was queued. The removal itself is
  // not told again: the user accepted the invite seeing the case removed, and the acceptance's
  // own rejection says why it did not open.
  state.set_removed(true);
  const Bytes id(case_id.begin(), case_id.end());
  KRING_ASSIGN_OR_RETURN(SettledRemoval settled,
                         store_->ReturnToRemoval(case_id, std::move(state), View(me_account)));
  settled.told_before = true;
  SettledRemovalEvents(id, settled, out.events);
  return {};
}

// A device that accepted an invite before it read a re-adding of its account by account id
// (not the approval of this acceptance) is a member by its verified log while it still waits.
// The acceptance is needless (kringd refuses it as ALREADY_JOINED) and is rejected here, before
// it is sent: the device does not wait on the server's answer. A server that refuses every pull
// and answers the acceptance with a transient error could otherwise keep it waiting for ever,
// its refusals taken as a pending account's (no REMOVAL_NOT_SHOWN).
Result<bool> SyncEngine::EndNeedlessWait(const Bytes& case_id, Outcome& out) {
  KRING_ASSIGN_OR_RETURN(std::optional<CaseRecord> rec, store_->LoadCase(case_id));
  if (!rec || !rec->state.pending_approval()) return false;
  {
    std::lock_guard<std::mutex> lock(account_mu_);
    if (model::FindMember(rec->state, View(account_->account_id())) == nullptr) return false;
  }
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, store_->PendingIntents(case_id));
  std::vector<int64_t> acceptances;
  for (const Intent& in : intents) {
    if (in.control && in.control_op.has_accept_invite()) acceptances.push_back(in.id);
  }
  KRING_RETURN_IF_ERROR(RejectTogether(case_id, acceptances, acceptances.size(),
                                       "already in this case", refusal::kAlreadyJoined, out));
  // What was sealed after the acceptance links to it: sealed again without it.
  KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
  KRING_RETURN_IF_ERROR(UndoAcceptance(case_id, out));  // a member: what is queued goes out
  return true;
}

Result<bool> SyncEngine::PushOnce(const Bytes& case_id, Outcome& out) {
  KRING_ASSIGN_OR_RETURN(std::vector<Intent> intents, store_->PendingIntents(case_id));
  if (intents.empty()) return false;
  KRING_ASSIGN_OR_RETURN(std::optional<CaseFlags> flags, store_->LoadCaseFlags(case_id));
  if (flags && flags->closed) {
    // The verified log holds the close: kringd would refuse each queued change but the
    // erasure, one push round at a time. All of them are rejected now, in one event.
    KRING_ASSIGN_OR_RETURN(size_t rejected,
                           RejectForClosedCase(case_id, "the case is closed", out));
    if (rejected > 0) KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
    KRING_ASSIGN_OR_RETURN(intents, store_->PendingIntents(case_id));
    if (intents.empty()) return false;
  }
  OrderForSealing(intents);
  if (flags && flags->pending_approval && AcceptanceFirst(intents)) {
    // Sealed before the removal, for the membership before it: sealed again once approved.
    KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
    for (Intent& in : intents) in.sealed.clear();
    OrderForSealing(intents);
  }
  if (Status sealed = SealPending(case_id, intents, out); !sealed.ok()) {
    if (sealed.code() != StatusCode::kAborted) return sealed;
    out.events.push_back(
        {ChangeEvent::Kind::kIntentRejected, case_id, sealed.message(), sealed.reason(), 1});
    return true;
  }
  // The sealed intents of one push, from intents[from] on, within the push limits; `fits` is the
  // last that fits before a push must end on a signed op (kringd takes an unsigned op only with
  // its signed end in the same push). Runs are sealed to fit one push, so the cut to a signed end
  // removes only what the limits would split.
  auto collect = [&](size_t from, Intent*& fits) {
    std::vector<Intent*> batch;
    size_t bytes = 0;
    size_t count = 0;
    for (size_t i = from; i < intents.size(); ++i) {
      Intent& in = intents[i];
      // A Rekey after a revocation left unsealed at the front was dropped as no longer needed.
      if (in.sealed.empty() && in.control && in.control_op.has_rekey_after_revoke()) continue;
      // An intent's envelopes (a change and its Rekey) always travel in one push.
      if (in.sealed.empty() || count + in.sealed.size() > protocol::kMaxPushEnvelopes) break;
      size_t size = 0;
      for (const auto& env : in.sealed) size += env.ByteSizeLong();
      if (bytes + size > protocol::kMaxPushBytes / 2 && !batch.empty()) break;
      bytes += size;
      count += in.sealed.size();
      batch.push_back(&in);
    }
    fits = batch.empty() ? nullptr : batch.back();
    while (!batch.empty() && batch.back()->sealed.back().signature().empty()) batch.pop_back();
    return batch;
  };
  auto request = [&](const std::vector<Intent*>& batch) {
    v1::PushRequest req;
    req.set_case_id(ToString(case_id));
    req.set_shared_receipt(true);
    for (const Intent* in : batch) {
      for (const auto& env : in->sealed) *req.add_envelopes() = env;
    }
    return req;
  };
  Intent* fits = nullptr;
  std::vector<Intent*> batch = collect(0, fits);
  if (fits == nullptr) return false;  // nothing sealed: the intents wait (e.g. for a key)
  const bool cut_run = batch.empty();
  if (cut_run) {
    // A run longer than one push (sealed before a crash, then continued): sealing the same
    // layout again would never go out. The last intent that fits ends the run signed instead.
    // The intents sealed after it link to its unsigned form, so SealPending seals them again
    // once this push comes back in a pull.
    {
      std::lock_guard<std::mutex> lock(account_mu_);
      SignSealed(*account_, fits->sealed.back());
    }
    KRING_RETURN_IF_ERROR(store_->SetSealed(fits->id, fits->sealed));
    for (Intent& in : intents) {
      batch.push_back(&in);
      if (&in == fits) break;
    }
  }
  const v1::PushRequest req = request(batch);
  auto resp = WithToken([&](const std::string& t) { return transport_->Push(req, t); });
  if (resp.ok()) {
    KRING_RETURN_IF_ERROR(AcceptReceipts(case_id, req, resp.value(), out));
    out.stats.pushed += batch.size();
    // A device back online with many queued changes sends the next sealed runs too before it
    // pulls: one pull then confirms them all, and the case state is written once for them
    // instead of once per push. A push that fails here ends the burst: if kringd stored it (the
    // answer was lost), the pull confirms it; if not, it goes again after the pull, and a refusal
    // is then handled as for a first push (below).
    // Not after a run was cut: what follows links to the cut op's unsigned form.
    for (int more = 1; !cut_run && more < kPushesBeforePull; ++more) {
      const size_t from = static_cast<size_t>(batch.back() - intents.data()) + 1;
      Intent* next_fits = nullptr;
      std::vector<Intent*> next = collect(from, next_fits);
      if (next.empty()) break;
      const v1::PushRequest next_req = request(next);
      auto next_resp =
          WithToken([&](const std::string& t) { return transport_->Push(next_req, t); });
      if (!next_resp.ok()) break;
      KRING_RETURN_IF_ERROR(AcceptReceipts(case_id, next_req, next_resp.value(), out));
      out.stats.pushed += next.size();
      batch = std::move(next);
    }
    return true;  // pull next: our ops come back verified and confirm the intents
  }
  const Status& s = resp.status();
  if (s.transient() || s.code() == StatusCode::kUnauthenticated) return s;
  if (PullCures(s)) {
    // Stale epoch or chain position: pull again and reseal.
    KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
    // By its reason key; by the message only from a kringd older than the reason keys.
    if (s.reason() == refusal::kHeldForRevokedDevice ||
        (s.reason().empty() &&
         s.message().find(protocol::kHeldForRevokedDevice) != std::string::npos)) {
      // A member's device was revoked and no Rekey has named it yet: make it, then the edits
      // go out under the new key. Without one to make here, they wait (no retry loop).
      KRING_ASSIGN_OR_RETURN(bool queued, QueueRekeyForRevoked(case_id));
      if (!queued) log::Warn("push_held_for_revocation", {{"case", Hex(case_id)}});
      return queued;
    }
    return true;
  }
  // A definitive rejection: isolate the op at fault so the others still go through.
  Status refused = s;  // what the front intent is rejected with
  // A closed case refuses the front op alone as well: no isolating push, all are rejected below.
  if (batch.size() > 1 && s.reason() != refusal::kCaseClosed) {
    v1::PushRequest single;
    single.set_case_id(ToString(case_id));
    single.set_shared_receipt(true);
    for (const auto& env : batch.front()->sealed) *single.add_envelopes() = env;
    // Alone, the op must carry its own signature; the ops sealed after it then no longer link
    // to it and are sealed again once it comes back in a pull.
    v1::Envelope& last = *single.mutable_envelopes()->rbegin();
    if (last.signature().empty()) {
      std::lock_guard<std::mutex> lock(account_mu_);
      SignSealed(*account_, last);
    }
    auto one = WithToken([&](const std::string& t) { return transport_->Push(single, t); });
    if (one.ok()) {
      KRING_RETURN_IF_ERROR(store_->SetSealed(
          batch.front()->id, {single.envelopes().begin(), single.envelopes().end()}));
      KRING_RETURN_IF_ERROR(AcceptReceipts(case_id, single, one.value(), out));
      out.stats.pushed += 1;
      return true;
    }
    if (one.status().transient() || one.status().code() == StatusCode::kUnauthenticated) {
      return one.status();
    }
    if (PullCures(one.status())) {
      KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));  // the log moved on: pull and reseal
      return true;
    }
    refused = one.status();  // the front intent's own refusal, with its own reason
  }
  const bool accepting = batch.front()->control && batch.front()->control_op.has_accept_invite();
  if (refused.reason() == refusal::kCaseClosed) {
    // Closed at kringd (this device may not have pulled the close yet, e.g. an acceptance waiting
    // for approval): every queued change but the erasure is rejected now, in one event, instead
    // of one per push round.
    KRING_ASSIGN_OR_RETURN(size_t rejected, RejectForClosedCase(case_id, refused.ToString(), out));
    if (rejected > 0) {
      KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
      if (accepting) KRING_RETURN_IF_ERROR(UndoAcceptance(case_id, out));
      return true;
    }
  }
  KRING_RETURN_IF_ERROR(store_->RejectIntent(batch.front()->id, refused.ToString()));
  KRING_RETURN_IF_ERROR(store_->ClearSealed(case_id));
  log::Warn("intent_rejected",
            {{"case", Hex(case_id)}, {"code", std::string(StatusCodeName(refused.code()))}});
  out.events.push_back(
      {ChangeEvent::Kind::kIntentRejected, case_id, refused.ToString(), refused.reason(), 1});
  // After its event: the changes rejected with the return to the removal are told after it.
  if (accepting) KRING_RETURN_IF_ERROR(UndoAcceptance(case_id, out));
  return true;
}

}  // namespace kring::client
