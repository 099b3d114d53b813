#include "sync_service.h"

#include <exception>
#include <map>
#include <mutex>

#include <google/protobuf/arena.h>

#include "kring/common/crypto.h"
#include "kring/common/log.h"
#include "kring/common/protocol.h"
#include "kring/common/refusal.h"
#include "kring/v1/sync.grpc.pb.h"

#include "arena_allocator.h"
#include "case_log.h"
#include "server_state.h"
#include "service_edge.h"
#include "stored_envelope.h"

namespace kring::server {
namespace {

constexpr size_t kMaxPullResponseBytes = 4 * 1024 * 1024;

template <typename F>
grpc::Status Guard(F&& f) {
  try {
    return f();
  } catch (const std::exception&) {
    return ToGrpc(Internal("exception at the service edge"));
  }
}

// A poke stream: at most one write in flight; pokes for a case that arrive meanwhile are
// coalesced into the newest head.
class PokeStream final : public grpc::ServerWriteReactor<v1::Poke>, public PokeSink {
 public:
  PokeStream(PokeHub& hub, Bytes account_id, const Bytes& device_id)
      : hub_(hub), account_id_(std::move(account_id)) {
    hub_.Add(account_id_, this, device_id);
  }

  void Poke(const Bytes& case_id, uint64_t head_seq) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    uint64_t& pending = pending_[case_id];
    if (head_seq > pending) pending = head_seq;
    MaybeWriteLocked();
  }

  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status::OK);
  }

  // Ends the stream with `status` before its first poke (its session ended as it was opened).
  void Refuse(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream broken"));
    } else if (finishing_) {
      FinishLocked(final_status_);
    } else {
      MaybeWriteLocked();
    }
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    hub_.Remove(account_id_, this);
    delete this;
  }

 private:
  void MaybeWriteLocked() {
    if (in_flight_ || finishing_ || pending_.empty()) return;
    auto it = pending_.begin();
    current_.set_case_id(ToString(it->first));
    current_.set_head_seq(it->second);
    pending_.erase(it);
    in_flight_ = true;
    StartWrite(&current_);
  }

  // Finish waits for an in-flight write to complete.
  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    if (!finishing_) {
      finishing_ = true;
      final_status_ = std::move(status);
    }
    if (in_flight_) return;
    finished_ = true;
    Finish(final_status_);
  }

  PokeHub& hub_;
  const Bytes account_id_;
  std::mutex mu_;
  std::map<Bytes, uint64_t> pending_;
  v1::Poke current_;
  bool in_flight_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

class RejectedStream final : public grpc::ServerWriteReactor<v1::Poke> {
 public:
  explicit RejectedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

class SyncServiceImpl final
    : public v1::SyncService::WithRawCallbackMethod_Pull<v1::SyncService::CallbackService> {
 public:
  explicit SyncServiceImpl(ServerState& state) : state_(state) {
    SetMessageAllocatorFor_Push(&push_allocator_);
  }

  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* ctx,
                                          const v1::ServerInfoRequest*,
                                          v1::ServerInfo* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (grpc::Status limited = AdmitUnauthenticated(ctx, state_.unauthenticated, "GetServerInfo");
        !limited.ok()) {
      reactor->Finish(limited);
      return reactor;
    }
    resp->set_server_id(ToString(state_.key.server_id));
    resp->set_signing_public_key(ToString(state_.key.public_key));
    resp->set_version(std::string("kringd ") + KRING_VERSION);
    resp->set_protocol_version(protocol::kVersion);
    resp->set_max_envelope_bytes(static_cast<uint32_t>(protocol::kMaxEnvelopeBytes));
    resp->set_max_push_envelopes(static_cast<uint32_t>(protocol::kMaxPushEnvelopes));
    resp->set_max_pull_limit(protocol::kMaxPullLimit);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* ctx, const v1::PushRequest* req,
                                 v1::PushResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    grpc::Status early = Guard([&]() -> grpc::Status {
      auto session = Authenticate(ctx, state_.sessions);
      if (!session.ok()) return ToGrpc(session.status());
      if (req->case_id().size() != crypto::kIdBytes) {
        return ToGrpc(InvalidArgument("case_id must be 16 bytes"));
      }
      if (req->envelopes_size() < 1 ||
          static_cast<size_t>(req->envelopes_size()) > protocol::kMaxPushEnvelopes) {
        return ToGrpc(InvalidArgument("push 1..64 envelopes at a time"));
      }
      if (req->ByteSizeLong() > protocol::kMaxPushBytes) {
        return ToGrpc(Status(StatusCode::kResourceExhausted, "push too large"));
      }
      // The session is this call's own copy: its ids move into the author.
      auto author = std::make_shared<Author>(Author{std::move(session->device_id),
                                                    std::move(session->account_id),
                                                    std::move(session->signing_public_key)});
      auto batch = std::make_shared<std::vector<PreparedEnvelope>>(PrepareEnvelopes(*req, *author));
      auto outcome = std::make_shared<PushOutcome>();
      ServerState& state = state_;
      int64_t now = auth::NowMs();
      state_.store->Submit(
          {[req, author, batch, outcome, now](storage::StoreTxn& txn) {
             return ApplyPush(txn, *author, View(req->case_id()), *batch, now, *outcome);
           },
           [req, resp, reactor, author, outcome, &state](const Status& s) {
             if (log::Enabled(log::Level::kInfo)) {
               log::Info("push", {{"case_id", Hex(View(req->case_id()))},
                                  {"envelopes", static_cast<uint64_t>(req->envelopes_size())},
                                  {"head_seq", outcome->head_seq},
                                  {"code", std::string(StatusCodeName(s.code()))}});
             }
             if (!s.ok() || outcome->results.empty()) {
               reactor->Finish(ToGrpc(s));
               return;
             }
             // Committed: the receipt is signed on the signer thread, which then answers; it
             // starts when the whole group is queued (after_group below).
             // Built in place, the case id and the receipt's chain hash moved in: copying them
             // was two allocations per push on the writer thread.
             Bytes case_id = ToBytes(req->case_id());
             ReceiptSigner::Request request{
                 {},
                 outcome->receipt.seq,
                 std::move(outcome->receipt.chain_hash),
                 outcome->receipt.time_ms,
                 [resp, reactor, outcome, &state, case_id,
                  shared = req->shared_receipt()](const v1::Receipt* receipt) {
                   if (receipt == nullptr) {
                     // Stored, but unanswered: the client's retry gets its receipt then.
                     reactor->Finish(ToGrpc(Internal("receipt signing failed")));
                     return;
                   }
                   // Every result of a push shares its one receipt: sent once when the client
                   // reads it there, else copied into each result as before.
                   if (shared) *resp->mutable_receipt() = *receipt;
                   // Built on the response's arena.
                   resp->mutable_results()->Reserve(static_cast<int>(outcome->results.size()));
                   for (const OpResult& o : outcome->results) {
                     v1::PushResult* r = resp->add_results();
                     r->set_seq(o.seq);
                     r->set_chain_hash(o.chain_hash.data(), o.chain_hash.size());
                     if (o.duplicate) r->set_duplicate(true);
                     if (!shared) *r->mutable_receipt() = *receipt;
                   }
                   reactor->Finish(grpc::Status::OK);
                   if (outcome->appended && outcome->members) {
                     state.pokes.Notify(*outcome->members, case_id, outcome->head_seq);
                   }
                   if (outcome->appended) {
                     for (const auto& [account, removal_seq] : outcome->removed) {
                       state.pokes.Notify({account}, case_id, removal_seq);
                     }
                   }
                 },
                 std::move(author->account_id),  // done with it: the push has committed
                 {},
                 !outcome->appended};
             request.case_id = std::move(case_id);
             for (const auto& [account, removal_seq] : outcome->removed) {
               for (const OpResult& o : outcome->results) {
                 if (o.seq != removal_seq) continue;
                 request.removals.push_back({account, o.seq, o.chain_hash, o.time_ms});
                 break;
               }
             }
             state.receipts.Queue(std::move(request));
           },
           // Once the group's pushes have queued their receipts: one signature per case for
           // them all (ReceiptSigner::Queue).
           [&state] { state.receipts.Flush(); },
           /*keeps_case_cache=*/true, ToBytes(req->case_id())});
      return grpc::Status::OK;
    });
    if (!early.ok()) reactor->Finish(early);
    return reactor;
  }

  // Raw on the wire (v1::SyncService::WithRawCallbackMethod_Pull): the page is written as a
  // PullResponseWire, whose entries carry each stored envelope as the bytes kringd stored, so
  // serving a page costs a copy of them, not a parse, a serialization and the freeing of every
  // parsed field (docs/performance-log.md, "Cold sync", branch coldserve).
  grpc::ServerUnaryReactor* Pull(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(Guard([&]() -> grpc::Status {
      // Bounded before parsing: gRPC's own 4 MiB + 64 KiB message limit is meant for pushes.
      if (request->Length() > protocol::kMaxPullRequestBytes) {
        return ToGrpc(InvalidArgument("PullRequest too large"));
      }
      v1::PullRequest req;
      grpc::ByteBuffer request_copy(*request);  // shares the slices; Deserialize consumes it
      if (!grpc::SerializationTraits<v1::PullRequest>::Deserialize(&request_copy, &req).ok()) {
        return ToGrpc(InvalidArgument("unreadable PullRequest"));
      }
      // The page's messages on one arena, freed at once after its serialization (the stored
      // envelopes' bytes are moved in, not copied).
      google::protobuf::ArenaOptions options;
      options.start_block_size = 64 * 1024;
      options.max_block_size = 1024 * 1024;
      google::protobuf::Arena arena(options);
      auto* resp = google::protobuf::Arena::CreateMessage<v1::PullResponseWire>(&arena);
      grpc::Status st = PullPage(ctx, req, *resp);
      if (!st.ok()) return st;
      bool own_buffer = false;
      return grpc::SerializationTraits<v1::PullResponseWire>::Serialize(*resp, response,
                                                                        &own_buffer);
    }));
    return reactor;
  }

  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* ctx, const v1::ListCasesRequest*,
                                      v1::ListCasesResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(Guard([&]() -> grpc::Status {
      auto session = Authenticate(ctx, state_.sessions);
      if (!session.ok()) return ToGrpc(session.status());
      return ToGrpc(state_.store->Read([&](storage::StoreTxn& txn) -> Status {
        KRING_ASSIGN_OR_RETURN(std::vector<storage::CaseHeadRecord> cases,
                               txn.ListCasesOf(session->account_id));
        for (const auto& c : cases) {
          v1::CaseHead* h = resp->add_cases();
          h->set_case_id(ToString(c.case_id));
          h->set_head_seq(c.head_seq);
        }
        return {};
      }));
    }));
    return reactor;
  }

  grpc::ServerWriteReactor<v1::Poke>* Subscribe(grpc::CallbackServerContext* ctx,
                                                const v1::SubscribeRequest*) override {
    auto session = Authenticate(ctx, state_.sessions);
    if (!session.ok()) return new RejectedStream(ToGrpc(session.status()));
    auto* stream = new PokeStream(state_.pokes, session->account_id, session->device_id);
    // A revocation ends the device's sessions, then closes its streams. One that came between
    // the check above and this stream's registration closed nothing here: asked again, now
    // that the stream is registered, the session is gone (a later revocation closes the
    // stream itself).
    if (auto again = Authenticate(ctx, state_.sessions); !again.ok()) {
      stream->Refuse(ToGrpc(again.status()));
      return stream;
    }
    // Current heads first: a client learns what it missed while disconnected, and a commit
    // between its last pull and this registration cannot go unnoticed.
    Status s = state_.store->Read([&](storage::StoreTxn& txn) -> Status {
      KRING_ASSIGN_OR_RETURN(std::vector<storage::CaseHeadRecord> cases,
                             txn.ListCasesOf(session->account_id));
      for (const auto& c : cases) stream->Poke(c.case_id, c.head_seq);
      return {};
    });
    if (s.storage()) {
      // SQLite's text names tables and columns only (service_edge.cpp).
      log::Warn("subscribe_initial_heads_failed",
                {{"code", std::string(StatusCodeName(s.code()))}, {"detail", s.message()}});
    } else if (!s.ok()) {
      log::Warn("subscribe_initial_heads_failed",
                {{"code", std::string(StatusCodeName(s.code()))}});
    }
    return stream;
  }

 private:
  // Pull's work between the request and the page: the session, the cursor, the entries and the
  // signed head, into `resp`.
  grpc::Status PullPage(grpc::CallbackServerContext* ctx, const v1::PullRequest& req,
                        v1::PullResponseWire& resp) {
    auto session = Authenticate(ctx, state_.sessions);
    if (!session.ok()) return ToGrpc(session.status());
    if (req.case_id().size() != crypto::kIdBytes) {
      return ToGrpc(InvalidArgument("case_id must be 16 bytes"));
    }
    uint32_t limit = req.limit() == 0 ? protocol::kDefaultPullLimit
                                      : std::min(req.limit(), protocol::kMaxPullLimit);
    ByteView case_id = View(req.case_id());
    bool out_of_range = false;
    bool erased = false;
    storage::CaseRecord head;
    Status s = state_.store->Read([&](storage::StoreTxn& txn) -> Status {
      KRING_ASSIGN_OR_RETURN(std::optional<storage::CaseRecord> kase, txn.GetCase(case_id));
      if (!kase) {
        // Deleted: only the tombstone is left, with the signed op that asked for it and, for
        // the accounts that were members, the log before it without content (control ops
        // whole, content ops as envelope hashes). The case id is random and known only to
        // those who were in the case.
        KRING_ASSIGN_OR_RETURN(std::optional<storage::ErasedCase> gone, txn.GetErased(case_id));
        if (!gone) return NotFound("unknown case", refusal::kCaseUnknown);
        v1::CaseErased* e = resp.mutable_erased();
        e->set_case_id(req.case_id());
        e->set_erased_at_ms(gone->erased_at_ms);
        if (!e->mutable_trigger()->ParseFromString(gone->trigger)) {
          return DataLoss("stored tombstone unreadable");
        }
        erased = true;
        return ServeErasedHistory(txn, *session, req, limit, *e);
      }
      KRING_ASSIGN_OR_RETURN(std::optional<int> role,
                             txn.GetMemberRole(case_id, session->account_id));
      head = *kase;
      if (!role) {
        // A removed account reads up to and including its removal, which its device verifies
        // (docs/protocol.md section 9): never past it, not even the head's chain hash. One that
        // waits for approval again after its removal is refused as any pending account.
        KRING_ASSIGN_OR_RETURN(std::optional<uint64_t> removal,
                               txn.GetRemovalSeq(case_id, session->account_id));
        KRING_ASSIGN_OR_RETURN(std::optional<storage::PendingRecord> pending,
                               txn.GetPending(case_id, session->account_id));
        if (!removal || pending || req.after_seq() >= *removal || *removal > kase->head_seq) {
          return PermissionDenied("not a member of this case", refusal::kNotAMember);
        }
        KRING_ASSIGN_OR_RETURN(std::optional<Bytes> at, txn.ChainHashAt(case_id, *removal));
        if (!at) return DataLoss("removal op is missing");
        head.head_seq = *removal;
        head.head_hash = std::move(*at);
        limit = static_cast<uint32_t>(std::min<uint64_t>(limit, *removal - req.after_seq()));
      }
      if (req.after_seq() > kase->head_seq) {
        out_of_range = true;
        return {};
      }
      if (req.after_seq() > 0) {
        KRING_ASSIGN_OR_RETURN(std::optional<Bytes> at, txn.ChainHashAt(case_id, req.after_seq()));
        if (!at || *at != ToBytes(req.after_chain_hash())) {
          return FailedPrecondition("cursor hash does not match");
        }
      }
      KRING_ASSIGN_OR_RETURN(std::vector<storage::StoredOp> ops,
                             txn.ReadOps(case_id, req.after_seq(), limit, kMaxPullResponseBytes));
      // Each stored envelope goes out as stored (it was serialized by kringd from a parsed
      // push); its bytes are still checked to be a well-formed Envelope, as a parse would.
      bool last_signed = false;
      auto add = [&](storage::StoredOp& op) -> Status {
        std::optional<bool> is_signed = ScanStoredEnvelope(op.envelope);
        if (!is_signed) return DataLoss("stored envelope unreadable");
        last_signed = *is_signed;
        v1::LogEntryWire* e = resp.add_entries();
        e->set_seq(op.seq);
        e->set_envelope(std::move(op.envelope));
        e->set_chain_hash(op.chain_hash.data(), op.chain_hash.size());
        return {};
      };
      for (storage::StoredOp& op : ops) {
        if (op.seq > head.head_seq) break;  // a removed account's page ends at its removal
        KRING_RETURN_IF_ERROR(add(op));
      }
      // A page never ends inside a push's unsigned run: readers check the newest op of each
      // device only, so the run's signed end comes along. A run is one push (at most
      // kMaxPushEnvelopes envelopes and kMaxPushBytes), so this adds at most that much.
      if (!ops.empty() && !last_signed) {
        KRING_ASSIGN_OR_RETURN(
            std::vector<storage::StoredOp> rest,
            txn.ReadOps(case_id, ops.back().seq, protocol::kMaxPushEnvelopes,
                        protocol::kMaxPushBytes + protocol::kMaxPushEnvelopes * 64));
        for (storage::StoredOp& op : rest) {
          if (op.seq > head.head_seq) break;  // a removed account's page ends at its removal
          KRING_RETURN_IF_ERROR(add(op));
          if (last_signed) break;
        }
      }
      return {};
    });
    if (!s.ok()) return ToGrpc(s);
    if (erased) return grpc::Status::OK;
    if (out_of_range) {
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "cursor is beyond the head");
    }
    *resp.mutable_head() = protocol::MakeReceipt(case_id, head.head_seq, head.head_hash,
                                                 auth::NowMs(), state_.key.secret_key);
    return grpc::Status::OK;
  }

  // A member at the erasure gets the log between its cursor and the trigger, a page at a time,
  // so its device can check the erasure against the state that log leads to. Only from a cursor
  // in that log (its chain hash matching, as a normal pull's): a device on another history, or
  // any account that was not a member at the erasure (a removed one, a pending one, a stranger
  // who knows the case id), gets the tombstone alone. Nothing in it is content.
  static Status ServeErasedHistory(storage::StoreTxn& txn, const auth::Session& session,
                                   const v1::PullRequest& req, uint32_t limit, v1::CaseErased& e) {
    const ByteView case_id = View(req.case_id());
    const uint64_t trigger_seq = e.trigger().seq();
    if (req.after_seq() + 1 >= trigger_seq) return {};
    KRING_ASSIGN_OR_RETURN(bool reader, txn.IsErasedReader(case_id, session.account_id));
    if (!reader) return {};
    if (req.after_seq() > 0) {
      KRING_ASSIGN_OR_RETURN(std::optional<Bytes> at,
                             txn.ErasedChainHashAt(case_id, req.after_seq()));
      if (!at || *at != ToBytes(req.after_chain_hash())) return {};
    }
    KRING_ASSIGN_OR_RETURN(
        std::vector<storage::ErasedEntryRecord> entries,
        txn.ReadErasedHistory(case_id, req.after_seq(), limit, kMaxPullResponseBytes));
    for (storage::ErasedEntryRecord& r : entries) {
      if (r.seq >= trigger_seq) break;
      v1::ErasedEntry* out = e.add_history();
      out->set_seq(r.seq);
      out->set_chain_hash(r.chain_hash.data(), r.chain_hash.size());
      if (!r.control_envelope.empty()) {
        if (!out->mutable_control()->ParseFromString(r.control_envelope)) {
          return DataLoss("stored envelope unreadable");
        }
      } else {
        out->set_envelope_hash(r.envelope_hash.data(), r.envelope_hash.size());
      }
    }
    if (e.history_size() > 0) {
      e.set_more(e.history(e.history_size() - 1).seq() + 1 < trigger_seq);
    }
    return {};
  }

  ServerState& state_;
  ArenaMessageAllocator<v1::PushRequest, v1::PushResponse> push_allocator_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeSyncService(ServerState& state) {
  return std::make_unique<SyncServiceImpl>(state);
}

}  // namespace kring::server
