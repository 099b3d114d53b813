// The sync engine: one worker thread per client that signs in, pulls and verifies every case to
// its head, rebases and seals pending intents, pushes them, and sleeps until a poke, a local edit,
// a backoff timer or SyncNow() wakes it. Network calls never run under the engine's lock.
#pragma once

#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kring/client.h"
#include "kring/common/user_chain.h"
#include "kring/transport.h"

#include "store/local_store.h"

namespace kring::client {

class SyncEngine {
 public:
  using EventSink = std::function<void(std::vector<ChangeEvent>)>;

  SyncEngine(LocalStore* store, std::shared_ptr<Transport> transport, EventSink sink);
  ~SyncEngine();
  SyncEngine(const SyncEngine&) = delete;
  SyncEngine& operator=(const SyncEngine&) = delete;

  void SetAccount(const v1::LocalAccount& account);
  void Start();
  void Stop();
  void Wake();
  Result<SyncStats> SyncNow();
  // Client::SyncCase: one case only, on the worker when it runs (its events then come from the
  // worker, as SyncNow's do), else on the calling thread. The worker's own schedule (backoff,
  // the idle resync) is left as it was: a sync of one case is not a full sync.
  Result<SyncStats> SyncOneCase(const Bytes& case_id);

  // Shared with the Client for case creation.
  Status EnsureServerPinned();
  Result<std::string> Token();
  // The verified chain of an account: the stored one, or fetched (and then stored) when absent
  // or when `refresh` asks for links the device has not seen (a new device of that account).
  Result<UserChain> ChainOf(const Bytes& account_id, bool refresh = false);
  // Readies ChainOf for accounts not verified in this process yet, several at once: a cold sync
  // of a case with n authors then waits for about one fetch (and its fsync) instead of n in a
  // row. Failures are left for ChainOf to meet again in the verifier's order.
  void PrefetchChains(const std::vector<Bytes>& account_ids);
  Transport* transport() const { return transport_.get(); }
  // User key generations sealed to this device in its own chain that it does not hold yet
  // (another device of the account rotated the user key after revoking a device): opened and
  // stored. Returns the account as stored afterwards.
  Result<v1::LocalAccount> RefreshOwnUserKeys();
  // Drops the session (after this device's account changed, e.g. a device was revoked).
  void ForgetSession();
  // For tests only (ClientOptions::entries_per_commit_for_tests): a catch-up commits after about
  // this many entries instead of 10,000, so a test needs tens of entries, not thousands. Set
  // before the first sync.
  void SetEntriesPerCommit(size_t entries) { entries_per_commit_ = entries; }
  // The lock every sync holds from start to end (one sync at a time): an API call that reads a
  // case record and writes it back whole (Client::AcceptInvite) holds it meanwhile, so that no
  // catch-up commits in between. It waits for a running sync to end (network calls included).
  // Never held while listeners are called, nor by a caller that then syncs.
  std::unique_lock<std::mutex> HoldSync() { return std::unique_lock<std::mutex>(sync_mu_); }
  // Events of an API call (an invite accepted while a removal was unsettled): sent on the
  // worker at the start of its next round, or at once on the calling thread without a worker.
  void Tell(std::vector<ChangeEvent> events);
  // The events of a settled removal: one kIntentRejected for the changes it refused (when
  // any), then kRemovedFromCase; none when nothing was settled.
  static void SettledRemovalEvents(const Bytes& case_id, const SettledRemoval& settled,
                                   std::vector<ChangeEvent>& events);

  // SyncOne's SECURITY_ALARM for a halted case, naming the alarm that stopped it (also
  // Client::CaseStopped's). Reads the store only.
  Status Halted(const Bytes& case_id);

 private:
  struct Outcome {
    SyncStats stats;
    Status status;
    std::vector<ChangeEvent> events;
  };
  void Run();
  // SyncNow and SyncOneCase (`case_id` set): queued for the worker and waited for when it runs
  // (FAILED_PRECONDITION on the worker itself, i.e. from a change listener), else
  // `on_this_thread` runs here and its events go to the sink.
  Result<SyncStats> Request(const Bytes* case_id, const std::function<Outcome()>& on_this_thread);
  static Result<SyncStats> ResultOf(const Outcome& out);
  Outcome SyncAll();
  // Why a round cannot start (no server, no account) or the user keys refreshed first.
  Status PrepareRound();
  // A case ListCases returned: stored (created when new), and read on from its verified head
  // when this account was added back after a settled removal.
  Status TakeListed(ByteView case_id);
  // SyncOneCase's round: ListCases as SyncAll (a case this device does not hold yet but kringd
  // lists, or a re-adding, is taken the same way), then SyncCase of that case alone. Unlike
  // SyncAll, the case's alarm is its result: SECURITY_ALARM when the case is halted (checked
  // first, offline too) or a halting alarm or REMOVAL_NOT_SHOWN is raised; NOT_FOUND when
  // neither this device nor kringd knows it.
  Outcome SyncOne(const Bytes& case_id);
  Status SyncCase(const Bytes& case_id, Outcome& out);
  // Returns true when it applied anything.
  Result<bool> PullOnce(const Bytes& case_id, Outcome& out);
  Result<bool> PushOnce(const Bytes& case_id, Outcome& out);
  // Verifies every receipt of a push (signature, case, seq, chain hash), stores it and keeps
  // each result of `req`'s envelopes to hold kringd to it (KeepReceipt, KeepPushResults).
  Status AcceptReceipts(const Bytes& case_id, const v1::PushRequest& req,
                        const v1::PushResponse& resp, Outcome& out);
  // Stores a verified receipt; FORK when another receipt for its seq signs a different chain
  // hash (both are kept) or when it contradicts the log this device verified.
  Status KeepReceipt(const Bytes& case_id, const v1::Receipt& receipt, Outcome& out);
  // Keeps (seq, chain hash, envelope hash) of each envelope this device sent for the verifier to
  // compare when the log reaches that seq; a seq verified already is compared at once (FORK).
  Status KeepPushResults(const Bytes& case_id, const v1::PushRequest& req,
                         const v1::PushResponse& resp, Outcome& out);
  // Takes the store's kept record for SealPendingWith and gives it back: a push round neither
  // decrypts nor copies the case state.
  Status SealPending(const Bytes& case_id, std::vector<Intent>& intents, Outcome& out);
  Status SealPendingWith(const Bytes& case_id, const CaseRecord& rec, std::vector<Intent>& intents,
                         Outcome& out);
  // A control intent becomes its op plus a Rekey of scope 0 for the members after the change.
  Result<std::vector<v1::Envelope>> SealControl(const Bytes& case_id, const CaseRecord& rec,
                                                const v1::CaseState& projected, const Intent& in,
                                                DeviceHead& mine);
  Status AppendRekey(const v1::LocalAccount& me, const Bytes& case_id, const CaseRecord& rec,
                     v1::CaseState& state, uint32_t scope, const std::string& client_op_id,
                     std::vector<v1::Envelope>& out, DeviceHead& mine,
                     const std::vector<std::string>& revoked_devices = {});
  // A catch-up ended at this account's verified removal: its queued changes are rejected and
  // the mark cleared in one transaction (LocalStore::SettleRemoval), then the app is told, once.
  // `version` as in LocalStore::ApplyBatch.
  Status SettleRemoval(const Bytes& case_id, Outcome& out, uint64_t* version);
  // Rejects `ids` in one transaction and tells the app once: one kIntentRejected event with
  // kringd's `reason` and `counted` as its count (none when `counted` is 0).
  Status RejectTogether(const Bytes& case_id, const std::vector<int64_t>& ids, size_t counted,
                        const std::string& detail, std::string_view reason, Outcome& out);
  // A closed case accepts nothing but the erasure: every other queued change is rejected at
  // once, with one event for all of them (a queued close of this device's own is rejected
  // quietly: the case is closed as the user wanted). Returns how many intents were rejected.
  Result<size_t> RejectForClosedCase(const Bytes& case_id, const std::string& detail, Outcome& out);
  Status AcceptErasure(const Bytes& case_id, const v1::CaseErased& erased, Outcome& out);
  // The case state an erasure at a seq past this device's head is checked against: the verified
  // state folded on through the history kringd kept with the tombstone (pulled a page at a time
  // from `first` on), whose chain must link the verified head to the trigger. The verified state
  // itself when kringd served no history (a tombstone from before migration 11). nullopt with
  // `why` set when the history does not check out (the caller raises TAMPER).
  Result<std::optional<v1::CaseState>> StateAtErasure(const CaseRecord& rec,
                                                      const v1::CaseErased& first,
                                                      ByteView trigger_envelope_hash,
                                                      std::string& why);
  Status QueueRekeyAfterLeave(const Bytes& case_id, const v1::CaseState& state,
                              const v1::LocalAccount& me);
  Status QueueScopeRekeys(const Bytes& case_id, const v1::CaseState& state,
                          const v1::LocalAccount& me);
  // kringd held content until a Rekey names a device revoked since: queues it (true) when the
  // members' chains show such a device this device can name.
  Result<bool> QueueRekeyForRevoked(const Bytes& case_id);
  // After the server refused this device's AcceptInvite: it no longer waits for approval. Back
  // in its removal, the changes still queued are rejected with one event in `out`.
  Status UndoAcceptance(ByteView case_id, Outcome& out);
  // Waiting for approval while the verified log shows this account a member: the acceptance is
  // rejected here (ALREADY_JOINED) and the wait ends (true).
  Result<bool> EndNeedlessWait(const Bytes& case_id, Outcome& out);
  Status QueueComplaints(const Bytes& case_id, const v1::CaseState& state,
                         const v1::LocalAccount& me, const std::vector<Intent>& intents);
  // Folds the verified log again from the start, with every epoch key known now.
  Status Replay(const Bytes& case_id);
  // A pull refused (PERMISSION_DENIED) while the verified state does not show this account
  // removed: a non-halting REMOVAL_NOT_SHOWN alarm, raised once per case; returns the alarm
  // status so the round ends without a push.
  Status RemovalNotShown(const Bytes& case_id, uint64_t head_seq, Outcome& out);
  // Raises and reports an alarm; `halt` stops the case's syncing (every kind but
  // REMOVAL_NOT_SHOWN). Returns the alarm status.
  Status Alarm(const Bytes& case_id, AlarmKind kind, uint64_t seq, const std::string& detail,
               Bytes evidence, Outcome& out, bool halt = true);
  template <typename Fn>
  auto WithToken(Fn&& fn) -> decltype(fn(std::string()));
  void EnsureSubscribed();

  LocalStore* store_;
  std::shared_ptr<Transport> transport_;
  EventSink sink_;
  size_t entries_per_commit_;

  std::mutex account_mu_;
  std::optional<v1::LocalAccount> account_;
  std::string token_;
  int64_t token_expires_ms_ = 0;
  Bytes server_key_;

  std::mutex sync_mu_;    // one sync at a time
  std::mutex signin_mu_;  // one sign-in at a time (the worker and API calls share the session)

  std::mutex chain_cache_mu_;
  std::map<Bytes, UserChain> chain_cache_;  // verified user chains, by account id

  std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  bool stop_ = false;
  bool wake_ = false;
  bool subscription_dead_ = false;
  std::vector<std::promise<Result<SyncStats>>> waiters_;
  struct CaseWaiter {
    Bytes case_id;
    std::promise<Result<SyncStats>> done;
  };
  std::vector<CaseWaiter> case_waiters_;  // SyncOneCase's, served before a full round
  std::vector<ChangeEvent> told_;         // Tell's events, for the worker's next round
  std::unique_ptr<Subscription> subscription_;
  std::thread worker_;
  std::thread::id worker_id_;  // worker_'s, under mu_ (join clears worker_'s own outside it)
};

// An envelope sealed (content under epoch_key) and signed by this device.
v1::Envelope SignEnvelope(const v1::LocalAccount& me, const v1::OpHeader& header,
                          const v1::ControlBody* control, const v1::ContentOp* content,
                          ByteView epoch_key);
// The same without the signature: a content op inside a push's unsigned run, which only the
// run's last op signs (docs/protocol.md "Batch signatures"). SignSealed adds the signature.
v1::Envelope SealEnvelope(const v1::OpHeader& header, const v1::ControlBody* control,
                          const v1::ContentOp* content, ByteView epoch_key);
void SignSealed(const v1::LocalAccount& me, v1::Envelope& env);

// Signs `me` in with a fresh challenge from `transport`, whose server must be `server_id` (the
// pinned key's id); a challenge retired by a parallel sign-in of the same device is asked for
// again (the sync engine's Token, and a device not yet adopted by it).
Result<v1::SignInResponse> SignInDevice(Transport& transport, ByteView server_id,
                                        const v1::LocalAccount& me);

}  // namespace kring::client
