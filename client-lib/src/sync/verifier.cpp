#include "sync/verifier.h"

#include <algorithm>
#include <set>
#include <thread>

#include <google/protobuf/arena.h>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "crypto/identity.h"
#include "crypto/open_content.h"
#include "model/reducer.h"
#include "sync/push_proof.h"

namespace kring::client {
namespace {

// A Rekey gave a revoked device's account a key under a user key the device may hold.
constexpr char kBoxedToHeldKey[] = "rekey boxes the key to a user key the revoked device held";

Bytes Evidence(const v1::PullResponse& response, const v1::LogEntry* entry) {
  v1::PullResponse ev;
  *ev.mutable_head() = response.head();
  if (entry != nullptr) *ev.add_entries() = *entry;
  return ToBytes(ev.SerializeAsString());
}

struct Checked {
  const v1::LogEntry* entry;
  const protocol::ParsedOp* op;  // in the page's ParsedPage, which outlives the verifier
};

// Parses every entry of `response` into `page`, reusing its messages; `for_each(n, fn)` runs
// fn(i) for each i, on this thread or on all cores (an envelope's parse and hashes need nothing
// of the others, and fn(i) touches item i only).
template <typename ForEach>
void ParseInto(const v1::PullResponse& response, ParsedPage& page, const ForEach& for_each) {
  const size_t n = static_cast<size_t>(response.entries_size());
  // Grown only: the messages beyond n stay for a longer page later.
  if (page.ops.size() < n) page.ops.resize(n);
  if (page.status.size() < n) page.status.resize(n);
  page.size = n;
  for_each(n, [&](size_t i) {
    protocol::ParsedOp& op = page.ops[i];
    page.status[i] =
        protocol::ParseEnvelopeInto(response.entries(static_cast<int>(i)).envelope(),
                                    {op.header, op.control, op.digest, op.envelope_hash});
  });
  page.filled = true;
}

// A copy of everything but the entities, the part of a state that grows with the case: the
// entities are swapped out for the copy and back (O(1) each), so `state` ends unchanged.
v1::CaseState CopyWithoutEntities(v1::CaseState& state) {
  v1::CaseState rest;
  state.mutable_entities()->swap(*rest.mutable_entities());
  v1::CaseState copy = state;
  state.mutable_entities()->swap(*rest.mutable_entities());
  return copy;
}

// Runs fn(i) for every i in [0, n), split over the cores when there is enough work for it (a
// catch-up page); fn must only touch item i.
template <typename Fn>
void ForEachOnCores(size_t n, const Fn& fn) {
  constexpr size_t kMinPerThread = 64;
  const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()),
                                          std::max<size_t>(1, n / kMinPerThread));
  const size_t chunk = (n + threads - 1) / std::max<size_t>(1, threads);
  auto run = [&](size_t begin) {
    for (size_t i = begin; i < std::min(n, begin + chunk); ++i) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t * chunk);
  run(0);
  for (std::thread& th : pool) th.join();
}

class BatchVerifier {
 public:
  // `owned`: the same response, when its entries may be moved into the result. `entries_stay`:
  // the result gets none of them (the caller writes them from `resp`).
  BatchVerifier(VerifyContext& ctx, const v1::PullResponse& resp, v1::PullResponse* owned,
                ParsedPage* parsed = nullptr, bool entries_stay = false)
      : ctx_(ctx), resp_(resp), owned_(owned), parsed_(parsed), entries_stay_(entries_stay) {}

  VerifyResult Run() {
    if (CheckHead() && CheckEntries() && CheckSignatures() && !ApplyAll()) RestoreState();
    return Finish();
  }

 private:
  bool Fail(AlarmKind kind, uint64_t seq, std::string detail, const v1::LogEntry* entry) {
    result_.failure = VerifyFailure{kind, seq, std::move(detail), Evidence(resp_, entry)};
    return false;
  }
  bool LocalError(Status s) {
    result_.error = std::move(s);
    return false;
  }
  VerifyResult Finish() { return std::move(result_); }

  bool CheckHead() {
    // Entries from this device's own verified log, or an erased case's history (no head).
    if (ctx_.replay || ctx_.erased_history) return true;
    const v1::Receipt& head = resp_.head();
    const CaseRecord& rec = ctx_.record;
    if (!protocol::VerifyReceipt(head, ctx_.server_public_key) ||
        !ConstantTimeEqual(View(head.case_id()), rec.case_id)) {
      return Fail(AlarmKind::kTamper, head.seq(), "head is not signed by the pinned server key",
                  nullptr);
    }
    if (head.seq() < rec.head_seq) {
      return Fail(AlarmKind::kRollback, head.seq(), "server head is older than the verified head",
                  nullptr);
    }
    if (ctx_.receipts != nullptr && !ctx_.receipts->empty() &&
        ctx_.receipts->rbegin()->first > head.seq()) {
      return Fail(AlarmKind::kRollback, head.seq(),
                  "server head is older than a receipt this device holds", nullptr);
    }
    if (head.seq() > rec.head_seq && resp_.entries_size() == 0) {
      return Fail(AlarmKind::kDrop, head.seq(), "signed head is ahead but no entries were served",
                  nullptr);
    }
    if (head.seq() == rec.head_seq && resp_.entries_size() == 0 &&
        !ConstantTimeEqual(View(head.chain_hash()), rec.head_hash)) {
      return Fail(AlarmKind::kFork, head.seq(), "server head differs from the verified head",
                  nullptr);
    }
    return true;
  }

  // An author's verified chain, asked of ctx_ once per account per batch (it is copied out);
  // a refresh asks again and replaces it.
  Result<const UserChain*> ChainOf(const Bytes& account_id, bool refresh) {
    auto it = chains_.find(account_id);
    if (it != chains_.end() && !refresh) return &it->second;
    KRING_ASSIGN_OR_RETURN(UserChain chain, ctx_.chain_of(account_id, refresh));
    return &(chains_[account_id] = std::move(chain));
  }

  const v1::Receipt* ReceiptAt(uint64_t seq) const {
    if (ctx_.receipts == nullptr) return nullptr;
    auto it = ctx_.receipts->find(seq);
    return it == ctx_.receipts->end() ? nullptr : &it->second;
  }

  // What kringd answered at push time for this seq must be what its log holds there: a server
  // that acknowledged this device's op and then serves another branch is caught here.
  bool CheckSentOps(const v1::LogEntry& entry, const protocol::ParsedOp& op, ByteView chain) {
    if (ctx_.push_results == nullptr || ctx_.me == nullptr) return true;
    auto [begin, end] = ctx_.push_results->equal_range(entry.seq());
    for (auto it = begin; it != end; ++it) {
      if (MatchesSentOp(it->second, chain, op.envelope_hash, op.header,
                        View(ctx_.me->device_id()))) {
        continue;
      }
      result_.failure = VerifyFailure{AlarmKind::kFork, entry.seq(), kPushResultDiffers,
                                      SentOpEvidence(it->second, entry, &resp_.head())};
      return false;
    }
    return true;
  }

  // The chain hash at a position up to the record's head (PageChainHash past it).
  Result<std::optional<Bytes>> HashAt(uint64_t seq) {
    if (seq == ctx_.record.head_seq) return std::optional<Bytes>(ctx_.record.head_hash);
    return ctx_.chain_hash_at(seq);
  }

  // The chain hash at a position past the record's head, from this page's entry there: nullptr
  // when that entry is not checked yet.
  const std::string* PageChainHash(uint64_t seq) const {
    const size_t idx = static_cast<size_t>(seq - ctx_.record.head_seq - 1);
    return idx < checked_.size() ? &checked_[idx].entry->chain_hash() : nullptr;
  }

  // True when the op with this device counter appears after position `seq` in the response.
  bool LaterInBatch(const std::string& device_id, uint64_t counter, uint64_t seq) const {
    for (const v1::LogEntry& e : resp_.entries()) {
      if (e.seq() <= seq) continue;
      v1::OpHeader h;
      if (h.ParseFromString(e.envelope().header()) && h.author_device_id() == device_id &&
          h.device_counter() == counter) {
        return true;
      }
    }
    return false;
  }

  // Asks ctx_ to ready the chains of the page's authors at once. Only of accounts the checks in
  // CheckEntries can accept as authors: members before the page, or made members by an op they
  // apply (create_case at seq 1 of a new record, add_member ops). This runs before the hash-link
  // and author checks, so a lying server can still name one stranger per entry of the page; the
  // in-order checks would fetch no more than that either.
  void PrefetchChains(const ParsedPage& page, const v1::CaseState& membership) {
    if (!ctx_.prefetch_chains) return;
    std::set<std::string> members;
    for (const v1::Member& m : membership.members()) members.insert(m.account_id());
    for (size_t i = 0; i < page.size; ++i) {
      if (!page.status[i].ok()) continue;
      const protocol::ParsedOp* parsed = &page.ops[i];
      if (i == 0 && ctx_.record.head_seq == 0 && resp_.entries(0).seq() == 1 &&
          parsed->control.has_create_case()) {
        for (const v1::Member& m : parsed->control.create_case().members()) {
          members.insert(m.account_id());
        }
      }
      if (parsed->header.kind() == v1::OP_KIND_ADD_MEMBER && parsed->control.has_add_member()) {
        members.insert(parsed->control.add_member().member().account_id());
      }
    }
    std::set<Bytes> authors;
    const std::string* previous = nullptr;  // runs of one author are common
    for (size_t i = 0; i < page.size; ++i) {
      if (!page.status[i].ok()) continue;
      const std::string& author = page.ops[i].header.author_account_id();
      if ((previous != nullptr && *previous == author) || members.count(author) == 0) continue;
      previous = &author;
      authors.insert(ToBytes(author));
    }
    ctx_.prefetch_chains({authors.begin(), authors.end()});
  }

  bool CheckEntries() {
    uint64_t expected = ctx_.record.head_seq + 1;
    Bytes prev_chain = ctx_.record.head_hash;
    heads_ = ctx_.device_heads;
    // Membership at each position, for the author check; ApplyAll folds from the record again.
    // Entities play no part in it.
    v1::CaseState membership = CopyWithoutEntities(ctx_.record.state);
    // Parsing and hashing each envelope needs nothing of the others: done on all cores first;
    // the checks below still run in log order.
    const size_t n = static_cast<size_t>(resp_.entries_size());
    checked_.reserve(n);
    if (parsed_ == nullptr) parsed_ = &own_parsed_;
    // Filled: parsed by the thread that pulled the page. Never used for another page: VerifyPull
    // clears `filled` when done, and a page parsed for this response has its size.
    if (!parsed_->filled || parsed_->size != n) {
      ParseInto(resp_, *parsed_, [](size_t count, const auto& fn) { ForEachOnCores(count, fn); });
    }
    const ParsedPage& page = *parsed_;
    PrefetchChains(page, membership);
    size_t index = 0;
    for (const v1::LogEntry& entry : resp_.entries()) {
      const size_t at = index++;
      const uint64_t seq = entry.seq();
      if (seq > expected && ctx_.erased_history) {
        // The content ops in between: their links were checked by the caller.
        auto before = HashAt(seq - 1);
        if (!before.ok()) return LocalError(before.status());
        if (!before.value()) {
          return Fail(AlarmKind::kTamper, seq, "erased history has a gap", &entry);
        }
        prev_chain = std::move(**before);
        expected = seq;
      }
      if (seq > expected)
        return Fail(AlarmKind::kDrop, expected, "log entries are missing", &entry);
      if (seq < expected) return Fail(AlarmKind::kTamper, seq, "log position repeated", &entry);
      if (!ctx_.replay && !ctx_.erased_history && seq > resp_.head().seq()) {
        return Fail(AlarmKind::kTamper, seq, "entry beyond the signed head", &entry);
      }
      if (!page.status[at].ok()) {
        return Fail(AlarmKind::kTamper, seq, "malformed envelope", &entry);
      }
      // Bytes no signature or hash covers, which the store would keep with the op: kringd
      // refuses them on push (docs/protocol.md section 7), so only a lying server serves them.
      // Not on a replay: this device's own log was verified when it was pulled, and a device that
      // stored such an envelope before this check existed must still be able to fold it again.
      if (!ctx_.replay &&
          !entry.envelope().GetReflection()->GetUnknownFields(entry.envelope()).empty()) {
        return Fail(AlarmKind::kTamper, seq, "envelope has unknown fields", &entry);
      }
      const protocol::ParsedOp& op = page.ops[at];
      const v1::OpHeader& h = op.header;
      if (ctx_.erased_history && !protocol::IsControl(h.kind())) {
        return Fail(AlarmKind::kTamper, seq, "content op in an erased case's history", &entry);
      }
      if (!ConstantTimeEqual(View(h.case_id()), ctx_.record.case_id)) {
        return Fail(AlarmKind::kTamper, seq, "op belongs to another case", &entry);
      }
      const protocol::HashArray chain = protocol::ChainHashArray(prev_chain, seq, op.envelope_hash);
      if (!ConstantTimeEqual(chain, View(entry.chain_hash()))) {
        return Fail(AlarmKind::kTamper, seq, "chain hash does not recompute", &entry);
      }
      const v1::Receipt* receipt = ReceiptAt(seq);
      if (receipt != nullptr && !ConstantTimeEqual(View(receipt->chain_hash()), chain)) {
        v1::PullResponse ev;
        *ev.mutable_head() = *receipt;
        *ev.add_entries() = entry;
        result_.failure = VerifyFailure{AlarmKind::kFork, seq,
                                        "log differs from a signed receipt for this position",
                                        ToBytes(ev.SerializeAsString())};
        return false;
      }
      if (!CheckSentOps(entry, op, chain)) return false;
      // The author must be a member at this position (the first op defines the members) with
      // an active device.
      if (seq == 1 && op.control.has_create_case()) {
        model::ApplyControl(membership, h, op.control, 0);
      }
      // A run of one device's ops (a push's 50) asks the same questions about its author op
      // after op: for the same account and device as the op before, and the membership as it was
      // then, the answers found for that op are used again (a member, an active device of a
      // verified chain; its head and its entries in the maps below). The cut-off, counter, link
      // and seen-head checks still run for every op.
      const bool same_author = author_memo_.head != nullptr &&
                               h.author_account_id() == author_memo_.account &&
                               h.author_device_id() == author_memo_.device;
      bool member = same_author;
      DeviceHead* head = author_memo_.head;
      size_t* last_index = author_memo_.last_index;
      if (!same_author) {
        member = model::FindMember(membership, View(h.author_account_id())) != nullptr;
        if (!member && h.kind() != v1::OP_KIND_ACCEPT_INVITE) {
          return Fail(AlarmKind::kTamper, seq, "author is not a member of the case", &entry);
        }
        Bytes author_device = ToBytes(h.author_device_id());
        auto chain_of = ChainOf(ToBytes(h.author_account_id()), false);
        if (chain_of.ok() && (*chain_of)->devices.count(author_device) == 0) {
          // A device this client has not seen yet: fetch the account's newer links once.
          chain_of = ChainOf(ToBytes(h.author_account_id()), true);
        }
        if (!chain_of.ok()) {
          if (chain_of.status().transient()) return LocalError(chain_of.status());
          return Fail(AlarmKind::kTamper, seq, "author account chain does not verify", &entry);
        }
        // A device revoked since stays valid for what it wrote before its account's Rekey cut it
        // off in this case (kringd refused it from the revocation on); nothing after that counts.
        const UserChain& author_chain = **chain_of;
        auto known = author_chain.devices.find(author_device);
        const ChainDevice* device = known == author_chain.devices.end() ? nullptr : &known->second;
        if (device == nullptr || device->is_recovery) {
          return Fail(AlarmKind::kTamper, seq, "author device is not active in its account",
                      &entry);
        }
        // Read only once every check of the batch has passed (CheckSignatures, ApplyAll).
        head = &heads_[author_device];
        changed_devices_.insert(author_device);
        signing_key_[author_device] = device->signing_public_key;
        last_index = &last_of_device_[std::move(author_device)];
      }
      if (!membership.device_cutoffs().empty() &&
          membership.device_cutoffs().count(Hex(View(h.author_device_id()))) != 0) {
        return Fail(AlarmKind::kTamper, seq, "op by a device revoked before this position", &entry);
      }
      DeviceHead& dh = *head;
      if (h.device_counter() <= dh.counter) {
        return Fail(AlarmKind::kTamper, seq, "op of this device replayed", &entry);
      }
      // In an erased case's history the device's content ops in between are hashes only: its
      // counter may jump, and its link is checked only where it does not.
      const bool hidden_ops = ctx_.erased_history && h.device_counter() > dh.counter + 1;
      if (h.device_counter() > dh.counter + 1 && !hidden_ops) {
        if (LaterInBatch(h.author_device_id(), dh.counter + 1, seq)) {
          return Fail(AlarmKind::kTamper, seq, "ops of this device are out of order", &entry);
        }
        return Fail(AlarmKind::kDrop, seq, "earlier ops of this device are missing", &entry);
      }
      if (!hidden_ops && !ConstantTimeEqual(View(h.prev_device_op_hash()), dh.last_hash)) {
        return Fail(AlarmKind::kTamper, seq, "op does not link to its device's previous op",
                    &entry);
      }
      if (h.seen_seq() >= seq) {
        return Fail(AlarmKind::kFork, seq, "op was written after a later position", &entry);
      }
      if (h.seen_seq() > ctx_.record.head_seq && !ctx_.erased_history) {
        // Seen in this batch (seen_seq < seq): compared with that entry's chain hash in place.
        const std::string* seen = PageChainHash(h.seen_seq());
        if (seen == nullptr || !ConstantTimeEqual(View(*seen), View(h.seen_hash()))) {
          return Fail(AlarmKind::kFork, seq, "author saw a different history", &entry);
        }
      } else if (h.seen_seq() > 0) {
        auto seen = HashAt(h.seen_seq());
        if (!seen.ok()) return LocalError(seen.status());
        if (!seen.value() || !ConstantTimeEqual(**seen, View(h.seen_hash()))) {
          return Fail(AlarmKind::kFork, seq, "author saw a different history", &entry);
        }
      }
      const bool changes_members =
          h.kind() == v1::OP_KIND_ADD_MEMBER || h.kind() == v1::OP_KIND_REMOVE_MEMBER;
      if (changes_members) model::ApplyControl(membership, h, op.control, 0);
      // Cut-offs take effect for the entries after this one (ApplyRekey checks the claim).
      if (h.kind() == v1::OP_KIND_REKEY) {
        for (const std::string& d : op.control.rekey().revoked_devices()) {
          membership.mutable_device_cutoffs()->insert({Hex(View(d)), seq});
        }
      }
      dh.counter = h.device_counter();
      dh.last_hash = op.envelope_hash;
      *last_index = checked_.size();
      // Kept for the next op only while what it stands for holds: the author was found a member
      // (an AcceptInvite is not checked for it) and the membership did not change.
      if (member && !changes_members) {
        author_memo_.account = h.author_account_id();
        author_memo_.device = h.author_device_id();
        author_memo_.head = head;
        author_memo_.last_index = last_index;
      } else {
        author_memo_ = AuthorMemo();
      }
      checked_.push_back(Checked{&entry, &op});
      prev_chain.assign(chain.begin(), chain.end());
      ++expected;
    }
    if (!ctx_.replay && !ctx_.erased_history && !checked_.empty() &&
        checked_.back().entry->seq() == resp_.head().seq() &&
        !ConstantTimeEqual(prev_chain, View(resp_.head().chain_hash()))) {
      return Fail(AlarmKind::kFork, resp_.head().seq(), "signed head does not match the log",
                  checked_.back().entry);
    }
    return true;
  }

  // One signature per device in the batch; many devices (a cold sync of a large circle) are
  // checked on several threads. The first failure in log order is reported.
  bool CheckSignatures() {
    std::vector<size_t> to_check;
    for (const auto& [device_id, idx] : last_of_device_) to_check.push_back(idx);
    if (ctx_.erased_history) {
      // No hash links between a device's ops there: every op is checked (each one is signed).
      to_check.clear();
      for (size_t i = 0; i < checked_.size(); ++i) to_check.push_back(i);
    }
    std::sort(to_check.begin(), to_check.end());
    std::vector<char> valid(to_check.size(), 0);
    auto verify_range = [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const Checked& c = checked_[to_check[i]];
        const Bytes& key = signing_key_.at(ToBytes(c.op->header.author_device_id()));
        valid[i] = crypto::Verify(key, c.op->digest, View(c.entry->envelope().signature())) ? 1 : 0;
      }
    };
    constexpr size_t kPerThread = 32;
    size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()),
                                      (to_check.size() + kPerThread - 1) / kPerThread);
    if (threads <= 1) {
      verify_range(0, to_check.size());
    } else {
      std::vector<std::thread> pool;
      size_t chunk = (to_check.size() + threads - 1) / threads;
      for (size_t t = 0; t < threads; ++t) {
        size_t begin = t * chunk, end = std::min(to_check.size(), begin + chunk);
        if (begin < end) pool.emplace_back(verify_range, begin, end);
      }
      for (auto& th : pool) th.join();
    }
    for (size_t i = 0; i < to_check.size(); ++i) {
      if (valid[i] == 0) {
        const Checked& c = checked_[to_check[i]];
        return Fail(AlarmKind::kTamper, c.entry->seq(), "signature does not verify", c.entry);
      }
    }
    return true;
  }

  // The content and commitment subkeys of an epoch, derived once per batch (nullptr: no key).
  // Only keys found are remembered: a key unknown now may still arrive later in the batch.
  Result<const EpochSubkeys*> SubkeysFor(uint32_t scope, uint64_t epoch) {
    auto cached = subkeys_.find({scope, epoch});
    if (cached != subkeys_.end()) return &cached->second;
    KRING_ASSIGN_OR_RETURN(std::optional<SecretBytes> key, KeyFor(scope, epoch));
    if (!key) return static_cast<const EpochSubkeys*>(nullptr);
    return &subkeys_.emplace(std::make_pair(scope, epoch), DeriveEpochSubkeys(*key)).first->second;
  }

  // Remembers each entity a content op is about to change (or create) as it was before the
  // batch, so a failure later in the batch can put the state back without a copy of the whole
  // state: an entity that did not exist is noted by key (erased again by RestoreState), one that
  // did is copied at its first change in the batch. An entity the batch created has a created_seq
  // past the record's head (every entity of the record's state was created at or before it:
  // CaseRecord::state), so it is not copied later: it was noted as absent before the op that
  // created it.
  void JournalEntities(const v1::ContentOp& content) {
    const std::string* previous = nullptr;
    for (const v1::Mutation& m : content.mutations()) {
      const std::string* id = m.kind_case() == v1::Mutation::kCreateEntity
                                  ? &m.create_entity().entity_id()
                                  : model::MutatedEntityId(m);
      // A mutation with a malformed id changes nothing (model::ApplyContent refuses it).
      if (id == nullptr || id->size() != crypto::kIdBytes) continue;
      // An op usually changes one entity several times (create, then set its fields).
      if (previous != nullptr && *previous == *id) continue;
      previous = id;
      const model::EntityKey key(View(*id));
      auto it = state_.entities().find(key.view());
      if (it == state_.entities().end()) {
        absent_entities_.push_back(key);
      } else if (it->second.created_seq() <= ctx_.record.head_seq &&
                 entity_journal_.find(key.view()) == entity_journal_.end()) {
        entity_journal_.emplace(std::string(key.view()), it->second);
      }
    }
  }

  // Undoes a partly applied batch: the entities it created are removed, the journaled
  // entities get their earlier values back, and everything else comes from the copy taken before
  // the fold. Removed first: an entity the batch found, changed, removed and made again (were
  // anything to remove entities) is in both lists and must end up as it was.
  void RestoreState() {
    auto& entities = *state_.mutable_entities();
    for (const model::EntityKey& absent : absent_entities_) entities.erase(absent.view());
    for (auto& [key, before] : entity_journal_) entities[key] = std::move(before);
    entities.swap(*rest_before_.mutable_entities());
    ctx_.record.state = std::move(rest_before_);
  }

  Result<std::optional<SecretBytes>> KeyFor(uint32_t scope, uint64_t epoch) {
    for (const EpochKey& k : result_.batch.epoch_keys) {
      if (k.scope_id == scope && k.epoch == epoch) return std::optional<SecretBytes>(k.key);
    }
    KRING_ASSIGN_OR_RETURN(auto stored, ctx_.epoch_key(scope, epoch));
    if (!stored) return std::optional<SecretBytes>();
    // The state being folded, or before the fold (PreOpen) the one it starts from.
    const v1::CaseState& now = state_.case_id().empty() ? ctx_.record.state : state_;
    if (now.unreadable_epochs().count(model::EpochLabel(scope, epoch)) != 0) {
      // This device's box in the epoch's Rekey did not open: a key stored for it is this
      // device's own Rekey that lost the race for the epoch, not the epoch's key. Only a key a
      // history back-link delivered (it matches the epoch's commitment) opens that epoch.
      auto commitment = now.epoch_commitments().find(epoch);
      if (scope != 0 || commitment == now.epoch_commitments().end() ||
          !ConstantTimeEqual(
              protocol::EpochKeyCommitment(stored->key, ctx_.record.case_id, scope, epoch),
              View(commitment->second))) {
        return std::optional<SecretBytes>();
      }
    }
    return std::optional<SecretBytes>(stored->key);
  }

  // A signed, correctly placed op whose content cannot be read: its author's doing (the server
  // cannot change an authenticated op). It has no effect and is reported, but it does not stop
  // the case: one member must not be able to halt everyone.
  // An unsigned op is signed only through the signed end of its run (each op links to the one
  // before it), so the evidence also holds the author device's entries up to that end: a third
  // party can then check who wrote the op. Pages never end inside a run, so the end is here.
  bool Unreadable(AlarmKind kind, const Checked& c, const char* detail) {
    v1::PullResponse ev;
    *ev.mutable_head() = resp_.head();
    *ev.add_entries() = *c.entry;
    if (c.entry->envelope().signature().empty()) {
      const size_t at = static_cast<size_t>(&c - checked_.data());
      for (size_t i = at + 1; i < checked_.size(); ++i) {
        const Checked& next = checked_[i];
        if (next.op->header.author_device_id() != c.op->header.author_device_id()) continue;
        *ev.add_entries() = *next.entry;
        if (!next.entry->envelope().signature().empty()) break;
      }
    }
    result_.complaints.push_back(VerifyFailure{kind, c.entry->seq(),
                                               std::string("unreadable op by a member: ") + detail,
                                               ToBytes(ev.SerializeAsString())});
    state_.set_seq(c.entry->seq());
    return true;
  }

  bool IsMe(ByteView account_id) const {
    return ConstantTimeEqual(account_id, View(ctx_.me->account_id()));
  }

  // Every device a Rekey names as revoked must be a device that its account's (freshly fetched
  // if needed) user chain has revoked, of the author's account or of a member of the case (any
  // member cuts off a device revoked since; kringd holds content until one does); else the claim
  // is forged. Sets `others` when a device of another member is named.
  bool CheckRevokedDevices(const Checked& c, bool& others) {
    const v1::Rekey& rk = c.op->control.rekey();
    const uint64_t seq = c.entry->seq();
    const Bytes author = ToBytes(c.op->header.author_account_id());
    others = false;
    if (rk.revoked_devices_size() > 64) {
      return Fail(AlarmKind::kTamper, seq, "rekey names too many revoked devices", c.entry);
    }
    std::set<std::string> seen;
    for (const std::string& id : rk.revoked_devices()) {
      if (id.size() != crypto::kIdBytes || !seen.insert(id).second) {
        return Fail(AlarmKind::kTamper, seq, "malformed revoked device id", c.entry);
      }
      auto revoked = [&](const UserChain& chain) {
        auto it = chain.devices.find(ToBytes(id));
        return it != chain.devices.end() && !it->second.is_recovery &&
               it->second.revoked_at.has_value();
      };
      // Whether the account's chain, fetched afresh when the cached one does not show it
      // revoked, revokes the device; false with a failure raised when a chain fails.
      auto revoked_by = [&](const Bytes& account, bool& failed) {
        auto chain = ctx_.chain_of(account, false);
        if (chain.ok() && !revoked(*chain)) chain = ctx_.chain_of(account, true);
        if (!chain.ok()) {
          failed = true;
          if (chain.status().transient()) return LocalError(chain.status());
          return Fail(AlarmKind::kTamper, seq, "member account chain does not verify", c.entry);
        }
        return revoked(*chain);
      };
      bool failed = false;
      if (revoked_by(author, failed)) continue;
      if (failed) return false;
      const v1::Member* owner = nullptr;
      for (const v1::Member& m : state_.members()) {
        if (ConstantTimeEqual(View(m.account_id()), author)) continue;
        // Only a chain that has the device can revoke it: cached chains first, so a genuine
        // claim costs one fetch at most.
        auto cached = ctx_.chain_of(ToBytes(m.account_id()), false);
        if (!cached.ok() || (*cached).devices.count(ToBytes(id)) == 0) continue;
        if (revoked_by(ToBytes(m.account_id()), failed)) owner = &m;
        if (failed) return false;
        break;
      }
      if (owner == nullptr) {
        for (const v1::Member& m : state_.members()) {
          if (ConstantTimeEqual(View(m.account_id()), author)) continue;
          auto fresh = ctx_.chain_of(ToBytes(m.account_id()), true);
          if (fresh.ok() && revoked(*fresh)) {
            owner = &m;
            break;
          }
          if (!fresh.ok() && fresh.status().transient()) return LocalError(fresh.status());
        }
      }
      if (owner == nullptr) {
        return Fail(AlarmKind::kTamper, seq, "rekey names a device its account has not revoked",
                    c.entry);
      }
      others = true;
    }
    return true;
  }

  // Every key given to a revoked device's account once the device is cut off in this case (by
  // an earlier Rekey, or by this one naming it) goes to a user key the device never held: above
  // the generation in force at its revocation, read from the chain's revocation link itself, so
  // a server that hides the rotation from this device cannot hide the rule (kringd takes a
  // revocation only with a new user key right after it, and refuses boxes below the current
  // one). Chains as cached: CheckRevokedDevices has fetched those of the devices this names.
  bool CheckBoxesPastCutOffs(const Checked& c) {
    const v1::Rekey& rk = c.op->control.rekey();
    if (state_.device_cutoffs().empty() && rk.revoked_devices().empty()) return true;
    auto cut_off = [&](const Bytes& device_id) {
      return state_.device_cutoffs().count(Hex(device_id)) != 0 ||
             std::find(rk.revoked_devices().begin(), rk.revoked_devices().end(),
                       ToString(device_id)) != rk.revoked_devices().end();
    };
    for (const v1::KeyBox& box : rk.boxes()) {
      auto chain = ctx_.chain_of(ToBytes(box.account_id()), false);
      if (!chain.ok()) {
        if (chain.status().transient()) return LocalError(chain.status());
        return Fail(AlarmKind::kTamper, c.entry->seq(), "member account chain does not verify",
                    c.entry);
      }
      for (const auto& [id, device] : chain->devices) {
        if (device.generation_at_revocation &&
            box.user_key_generation() <= *device.generation_at_revocation && cut_off(id)) {
          return Fail(AlarmKind::kTamper, c.entry->seq(), kBoxedToHeldKey, c.entry);
        }
      }
    }
    return true;
  }

  bool ApplyRekey(const Checked& c) {
    const v1::Rekey& rk = c.op->control.rekey();
    const uint64_t seq = c.entry->seq();
    // Same rule as kringd: a closed case takes no change but the erasure, a new key included.
    if (state_.closed()) {
      return Fail(AlarmKind::kTamper, seq, "rekey after the case was closed", c.entry);
    }
    const v1::Member* author = model::FindMember(state_, View(c.op->header.author_account_id()));
    const uint32_t scope = rk.scope_id();
    auto restricted = state_.scopes().find(scope);
    bool revocation = false;
    if (rk.revoked_devices_size() > 0) {
      bool others = false;
      if (!CheckRevokedDevices(c, others)) return false;
      // Same rule as kringd: a member whose device was revoked makes the new key themself, and
      // any member may for another member's device, but not in place of the chair's or a
      // coordinator's Rekey after someone left.
      const bool leave_waits = state_.rekey_pending() && state_.rekey_pending_device().empty();
      revocation = !others || !leave_waits;
    }
    if (scope == 0) {
      const bool manager =
          author->role() == v1::ROLE_CHAIR || author->role() == v1::ROLE_COORDINATOR;
      if (!manager && !revocation) {
        return Fail(AlarmKind::kTamper, seq, "rekey by a member without that permission", c.entry);
      }
      // Same rule as kringd: a plain member's Rekey names at least one device not named in the
      // case before, so nobody forces new keys at will by naming an old revocation again.
      if (!manager && std::ranges::none_of(rk.revoked_devices(), [&](const std::string& d) {
            return state_.revocation_rekeys().count(model::RevocationLabel(0, View(d))) == 0;
          })) {
        return Fail(AlarmKind::kTamper, seq, "rekey names only devices named before", c.entry);
      }
      // Same rule as kringd: where newcomers read history, every later key links back.
      if (state_.newcomers_read_history() && rk.new_epoch() > 1 && rk.previous_key_box().empty()) {
        return Fail(AlarmKind::kTamper, seq, "rekey without the history back-link", c.entry);
      }
      if (state_.rekey_pending() && !state_.rekey_pending_device().empty() &&
          c.op->header.author_device_id() != state_.rekey_pending_device()) {
        return Fail(AlarmKind::kTamper, seq, "membership change not followed by its own rekey",
                    c.entry);
      }
    } else if (restricted == state_.scopes().end()) {
      return Fail(AlarmKind::kTamper, seq, "rekey of an unknown scope", c.entry);
    } else if (!model::InScope(state_, scope, View(c.op->header.author_account_id()))) {
      return Fail(AlarmKind::kTamper, seq, "rekey of a scope by someone outside it", c.entry);
    } else if (state_.rekey_pending()) {
      return Fail(AlarmKind::kTamper, seq, "scope rekey before the case's own rekey", c.entry);
    }
    uint64_t current = 0;
    auto it = state_.scope_epochs().find(scope);
    if (it != state_.scope_epochs().end()) current = it->second;
    if (rk.new_epoch() != current + 1) {
      return Fail(AlarmKind::kTamper, seq, "rekey does not follow the current epoch", c.entry);
    }
    std::set<std::string> members, recipients, boxed;
    if (scope == 0) {
      for (const auto& m : state_.members()) members.insert(m.account_id());
    } else {
      for (const auto& m : restricted->second.members()) members.insert(m);
    }
    for (const auto& r : rk.recipients()) recipients.insert(r);
    for (const auto& b : rk.boxes()) boxed.insert(b.account_id());
    if (recipients != members || boxed != members ||
        static_cast<size_t>(rk.recipients_size()) != members.size() ||
        static_cast<size_t>(rk.boxes_size()) != members.size()) {
      return Fail(AlarmKind::kKeyMismatch, seq, "rekey recipients differ from the scope's members",
                  c.entry);
    }
    if (!CheckBoxesPastCutOffs(c)) return false;
    const Bytes& case_id = ctx_.record.case_id;
    std::optional<SecretBytes> key;
    for (const v1::KeyBox& box : rk.boxes()) {
      if (!IsMe(View(box.account_id()))) continue;
      for (const auto& uk : ctx_.me->user_keys()) {
        if (uk.generation() != box.user_key_generation()) continue;
        auto opened =
            crypto::SealOpen(identity::UserBoxKeyPair(View(uk.seed())), View(box.sealed_key()));
        if (opened.ok() && opened->size() == crypto::kKeyBytes) key = std::move(opened.value());
      }
      if (!key || !ConstantTimeEqual(
                      protocol::EpochKeyCommitment(*key, case_id, rk.scope_id(), rk.new_epoch()),
                      View(rk.key_commitment()))) {
        // A bad box for this device only (the others' may be fine, and nobody but this device
        // can tell): report it, post a signed complaint (the sync engine queues it), and go on
        // without the key. Content under this epoch is skipped here until a new key comes.
        result_.complaints.push_back(
            VerifyFailure{AlarmKind::kKeyMismatch, seq,
                          "epoch key box for this device does not match its commitment",
                          Evidence(resp_, c.entry)});
        (*state_.mutable_unreadable_epochs())[model::EpochLabel(rk.scope_id(), rk.new_epoch())] =
            seq;
        key.reset();
        continue;
      }
      result_.batch.epoch_keys.push_back({rk.scope_id(), rk.new_epoch(), *key});
    }
    if (!key) {
      // Not a recipient (not a member yet, or no longer): a key learned through a later epoch's
      // history back-link still opens this epoch's back-link.
      auto known = KeyFor(rk.scope_id(), rk.new_epoch());
      if (!known.ok()) return LocalError(known.status());
      if (known.value() && ConstantTimeEqual(protocol::EpochKeyCommitment(
                                                 **known, case_id, rk.scope_id(), rk.new_epoch()),
                                             View(rk.key_commitment()))) {
        key = std::move(*known.value());
      }
    }
    if (!rk.previous_key_box().empty() && !state_.newcomers_read_history()) {
      return Fail(AlarmKind::kTamper, seq, "history back-link in a case that keeps history closed",
                  c.entry);
    }
    if (key && !rk.previous_key_box().empty() && rk.new_epoch() > 1) {
      const uint64_t prev_epoch = rk.new_epoch() - 1;
      auto prev = protocol::OpenPreviousKey(*key, View(rk.previous_key_box()), case_id,
                                            rk.scope_id(), rk.new_epoch());
      auto commitment = state_.epoch_commitments().find(prev_epoch);
      if (!prev.ok() || prev->size() != crypto::kKeyBytes ||
          commitment == state_.epoch_commitments().end() ||
          !ConstantTimeEqual(
              protocol::EpochKeyCommitment(*prev, case_id, rk.scope_id(), prev_epoch),
              View(commitment->second))) {
        return Fail(AlarmKind::kKeyMismatch, seq, "history back-link does not match its epoch",
                    c.entry);
      }
      auto had = KeyFor(rk.scope_id(), prev_epoch);
      if (!had.ok()) return LocalError(had.status());
      if (!had.value()) {
        result_.batch.epoch_keys.push_back({rk.scope_id(), prev_epoch, std::move(prev.value())});
        result_.learned_older_keys = true;
      }
    }
    model::ApplyControl(state_, c.op->header, c.op->control, seq);
    return true;
  }

  bool ApplyMembershipChange(const Checked& c) {
    const uint64_t seq = c.entry->seq();
    if (state_.rekey_pending()) {
      return Fail(AlarmKind::kTamper, seq, "membership change before the previous rekey", c.entry);
    }
    const Status denied = model::CheckControlPermission(
        state_, View(c.op->header.author_account_id()), c.op->control);
    if (!denied.ok()) return Fail(AlarmKind::kTamper, seq, denied.message(), c.entry);
    // Whether this AddMember approves an acceptance of this account: one folded before it,
    // still waiting (read before the op takes the account off the pending list).
    const bool approves_me = c.op->control.has_add_member() &&
                             IsMe(View(c.op->control.add_member().member().account_id())) &&
                             model::FindPending(state_, View(ctx_.me->account_id())) != nullptr;
    model::ApplyControl(state_, c.op->header, c.op->control, seq);
    // Kept in the state: the change and its Rekey may arrive on different pull pages. After a
    // leave the next Rekey comes from any chair or coordinator device (empty = any).
    const bool leaving =
        c.op->control.has_remove_member() &&
        c.op->control.remove_member().account_id() == c.op->header.author_account_id();
    state_.set_rekey_pending_device(leaving ? std::string() : c.op->header.author_device_id());
    if (c.op->control.has_remove_member() &&
        IsMe(View(c.op->control.remove_member().account_id()))) {
      state_.set_removed(true);
    }
    if (c.op->control.has_add_member() &&
        IsMe(View(c.op->control.add_member().member().account_id()))) {
      state_.set_removed(false);
      // Only the approval ends the wait: an AddMember from before this device's acceptance (a
      // re-adding by account id that a device lagging behind the log folds only now) leaves the
      // acceptance queued and waiting, also when a removal follows it.
      if (approves_me) state_.set_pending_approval(false);
    }
    return true;
  }

  bool ApplyContent(const Checked& c) {
    const v1::OpHeader& h = c.op->header;
    const uint64_t seq = c.entry->seq();
    auto it = state_.scope_epochs().find(h.scope_id());
    if (it == state_.scope_epochs().end() || it->second != h.epoch()) {
      return Fail(AlarmKind::kTamper, seq, "content op sealed under a stale epoch", c.entry);
    }
    if (state_.rekey_pending()) {
      return Fail(AlarmKind::kTamper, seq, "content sealed before the membership change's rekey",
                  c.entry);
    }
    if (state_.closed()) {
      return Fail(AlarmKind::kTamper, seq, "content written after the case was closed", c.entry);
    }
    if (h.scope_id() != 0) {
      auto scope = state_.scopes().find(h.scope_id());
      if (scope == state_.scopes().end() || scope->second.rekey_required()) {
        return Fail(AlarmKind::kTamper, seq, "content sealed to a scope without a current key",
                    c.entry);
      }
      if (!model::InScope(state_, h.scope_id(), View(ctx_.me->account_id())) ||
          !model::InScope(state_, h.scope_id(), View(h.author_account_id()))) {
        // Restricted to others: this device never gets the key, by design. (kringd refuses
        // authors outside the scope; such an op would have no effect here either.)
        state_.set_seq(seq);
        return true;
      }
    }
    auto key = SubkeysFor(h.scope_id(), h.epoch());
    if (!key.ok()) return LocalError(key.status());
    if (!key.value() &&
        state_.unreadable_epochs().count(model::EpochLabel(h.scope_id(), h.epoch())) != 0) {
      state_.set_seq(seq);  // complained about already: unreadable here, not a new failure
      return true;
    }
    if (!key.value()) {
      // Written while this account was not a member (before joining "from now on", or after a
      // removal): unreadable here by design, not an attack.
      if (model::FindMember(state_, View(ctx_.me->account_id())) == nullptr) {
        state_.set_seq(seq);
        return true;
      }
      return Fail(AlarmKind::kKeyMismatch, seq, "no key for this epoch was delivered", c.entry);
    }
    PreOpened opened;
    const size_t at = static_cast<size_t>(&c - checked_.data());
    if (at < pre_opened_.size() && pre_opened_[at].content != nullptr &&
        pre_opened_keys_[at] == *key) {
      opened = pre_opened_[at];
      pre_opened_[at].content = nullptr;
    } else {
      opened = Open(c, **key);
    }
    switch (opened.outcome) {
      case OpenedContent::Outcome::kOk:
        break;
      case OpenedContent::Outcome::kCommitment:
        return Unreadable(AlarmKind::kKeyMismatch, c, "op key commitment does not match");
      case OpenedContent::Outcome::kDecrypt:
        return Unreadable(AlarmKind::kTamper, c, "ciphertext does not decrypt");
      case OpenedContent::Outcome::kMalformed:
        return Unreadable(AlarmKind::kTamper, c, "plaintext is malformed");
    }
    v1::ContentOp& content = *opened.content;
    if (content.scope_id() != h.scope_id()) {
      return Unreadable(AlarmKind::kTamper, c, "plaintext names another scope than its header");
    }
    JournalEntities(content);
    SetFoldContext(seq, h, c.op->digest);
    // The op is opened for this fold only: its values move into the state.
    const bool own =
        !ctx_.replay && ConstantTimeEqual(View(h.author_device_id()), View(ctx_.me->device_id()));
    std::string refused;
    model::ApplyContent(state_, std::move(content), fold_ctx_, own ? &refused : nullptr);
    if (!refused.empty()) result_.refused_own.emplace_back(seq, std::move(refused));
    return true;
  }

  // The batch's one OpContext, set whole for the op at `seq`, its ids assigned into the buffers
  // of the op before (no allocation per op). The structured binding names every field, so a
  // field OpContext gains stops the build here instead of carrying over from the op before.
  void SetFoldContext(uint64_t seq, const v1::OpHeader& h, ByteView op_digest) {
    auto& [at_seq, author, op_id, scope, utf8_checked, digest] = fold_ctx_;
    at_seq = seq;
    const ByteView author_in = View(h.author_account_id()), op_id_in = View(h.client_op_id());
    author.assign(author_in.begin(), author_in.end());
    op_id.assign(op_id_in.begin(), op_id_in.end());
    scope = h.scope_id();
    utf8_checked = true;  // opened ops are parsed by protobuf
    digest = op_digest;
  }

  // An opened op, on the page's arena.
  struct PreOpened {
    OpenedContent::Outcome outcome = OpenedContent::Outcome::kOk;
    v1::ContentOp* content = nullptr;  // on arena_; null: not opened
  };
  // Safe on any thread (the arena is).
  PreOpened Open(const Checked& c, const EpochSubkeys& keys) {
    PreOpened out;
    out.content = google::protobuf::Arena::CreateMessage<v1::ContentOp>(&arena_);
    out.outcome = OpenContentInto(c.entry->envelope(), keys, *out.content);
    return out;
  }

  // Opens on all cores the content ops from `from` on whose epoch key is known by now: before
  // the fold starts, and again after a Rekey of this batch delivered a key (a cold sync's first
  // page brings its epoch key in its own Rekey, before the page's content ops). The fold still
  // decides, op by op and in log order, whether an op is opened at all; it uses the result here
  // only when it would open the op with the very same keys.
  void PreOpen(size_t from) {
    pre_opened_.resize(checked_.size());
    pre_opened_keys_.resize(checked_.size(), nullptr);
    std::set<std::pair<uint32_t, uint64_t>> unknown;  // asked once here (the fold asks again)
    // An epoch that a Rekey not folded yet starts is opened with the key that Rekey delivers
    // (in the fold, or here again once it is folded): a key stored for it now may be this
    // device's own from a Rekey that lost the race for that epoch (kringd refused it as stale).
    for (size_t i = from; i < checked_.size(); ++i) {
      const Checked& c = checked_[i];
      if (c.op->header.kind() == v1::OP_KIND_REKEY) {
        unknown.insert({c.op->control.rekey().scope_id(), c.op->control.rekey().new_epoch()});
      }
    }
    std::vector<size_t> to_open;
    for (size_t i = from; i < checked_.size(); ++i) {
      const v1::OpHeader& h = checked_[i].op->header;
      if (h.kind() != v1::OP_KIND_CONTENT || pre_opened_keys_[i] != nullptr ||
          unknown.count({h.scope_id(), h.epoch()}) != 0) {
        continue;
      }
      auto key = SubkeysFor(h.scope_id(), h.epoch());
      if (key.ok() && key.value() != nullptr) {
        pre_opened_keys_[i] = key.value();
        to_open.push_back(i);
      } else {
        unknown.insert({h.scope_id(), h.epoch()});  // a store error shows up in the fold
      }
    }
    ForEachOnCores(to_open.size(), [&](size_t j) {
      const size_t i = to_open[j];
      pre_opened_[i] = Open(checked_[i], *pre_opened_keys_[i]);
    });
  }

  bool ApplyAll() {
    PreOpen(0);
    // Folded in place; RestoreState undoes it on failure.
    state_ = std::move(ctx_.record.state);
    ctx_.record.state.Clear();
#ifndef NDEBUG
    // CaseRecord::state's rule, which JournalEntities relies on; the store's load does not walk
    // the entities, so only debug builds check it here.
    for (const auto& [key, entity] : state_.entities()) {
      KRING_CHECK(entity.created_seq() <= ctx_.record.head_seq);
    }
#endif
    rest_before_ = CopyWithoutEntities(state_);
    for (const Checked& c : checked_) {
      const uint64_t seq = c.entry->seq();
      const v1::OpHeader& h = c.op->header;
      bool is_create = h.kind() == v1::OP_KIND_CREATE_CASE;
      if ((seq == 1) != is_create) {
        return Fail(AlarmKind::kTamper, seq, "case must start with exactly one CreateCase",
                    c.entry);
      }
      if (is_create) {
        const Status denied =
            model::CheckControlPermission(state_, View(h.author_account_id()), c.op->control);
        if (!denied.ok()) return Fail(AlarmKind::kTamper, seq, denied.message(), c.entry);
        model::ApplyControl(state_, h, c.op->control, seq);
      } else if (h.kind() == v1::OP_KIND_REKEY) {
        const size_t keys_before = result_.batch.epoch_keys.size();
        if (!ApplyRekey(c)) return false;
        // The key arrived here: the ops after this Rekey are opened on all cores, not one by one
        // in the fold.
        if (result_.batch.epoch_keys.size() != keys_before) {
          PreOpen(static_cast<size_t>(&c - checked_.data()) + 1);
        }
      } else if (h.kind() == v1::OP_KIND_ADD_MEMBER || h.kind() == v1::OP_KIND_REMOVE_MEMBER) {
        if (!ApplyMembershipChange(c)) return false;
      } else if (protocol::IsControl(h.kind())) {
        // Invite, revoke, accept, decline: same rules as kringd (expiry excepted: only the
        // server has a clock the log can trust).
        // After a leave, kringd lets acceptances through while the new key is awaited.
        const bool accept_after_leave =
            h.kind() == v1::OP_KIND_ACCEPT_INVITE && state_.rekey_pending_device().empty();
        if (state_.rekey_pending() && !accept_after_leave && h.kind() != v1::OP_KIND_ERASE_CASE &&
            h.kind() != v1::OP_KIND_COMPLAINT) {
          return Fail(AlarmKind::kTamper, seq, "op between a membership change and its rekey",
                      c.entry);
        }
        if (h.scope_id() != 0) {
          return Fail(AlarmKind::kTamper, seq, "this op uses scope 0", c.entry);
        }
        const Status denied =
            model::CheckControlPermission(state_, View(h.author_account_id()), c.op->control);
        if (!denied.ok()) return Fail(AlarmKind::kTamper, seq, denied.message(), c.entry);
        model::ApplyControl(state_, h, c.op->control, seq);
      } else if (!ApplyContent(c)) {
        return false;
      }
      if (ConstantTimeEqual(View(h.author_device_id()), View(ctx_.me->device_id()))) {
        result_.batch.confirmed_client_op_ids.push_back(ToBytes(h.client_op_id()));
      }
    }
    AppliedBatch& b = result_.batch;
    b.case_id = ctx_.record.case_id;
    b.head_seq = checked_.empty() ? ctx_.record.head_seq : checked_.back().entry->seq();
    b.head_hash =
        checked_.empty() ? ctx_.record.head_hash : ToBytes(checked_.back().entry->chain_hash());
    for (const Bytes& d : changed_devices_) b.device_heads[d] = heads_[d];
    b.state = std::move(state_);
    // Last: every entry of the response was checked, in order, and none is read after this.
    if (!entries_stay_) b.entries.reserve(checked_.size());
    for (size_t i = 0; i < checked_.size() && !entries_stay_; ++i) {
      if (owned_ != nullptr) {
        b.entries.push_back(std::move(*owned_->mutable_entries(static_cast<int>(i))));
      } else {
        b.entries.push_back(*checked_[i].entry);
      }
    }
    checked_.clear();
    return true;
  }

  // The page's opened content ops: freed at once with the page, not message by message (their
  // values move into the state by a string swap, model::ApplyContent).
  google::protobuf::Arena arena_{PageArenaOptions()};
  static google::protobuf::ArenaOptions PageArenaOptions() {
    google::protobuf::ArenaOptions o;
    o.start_block_size = 64 * 1024;
    o.max_block_size = 1024 * 1024;
    return o;
  }
  VerifyContext& ctx_;
  const v1::PullResponse& resp_;
  v1::PullResponse* owned_;
  ParsedPage* parsed_;     // this page's parse (ParseEntries(resp_) when filled); or own_parsed_
  ParsedPage own_parsed_;  // for a caller that keeps none
  bool entries_stay_;
  VerifyResult result_;
  std::vector<Checked> checked_;
  std::map<Bytes, DeviceHead> heads_;
  std::set<Bytes> changed_devices_;
  std::map<Bytes, Bytes> signing_key_;
  std::map<Bytes, size_t> last_of_device_;
  v1::CaseState state_;
  v1::CaseState rest_before_;  // the state without its entities, before ApplyAll
  // By entity key: the entities as they were before the batch (JournalEntities).
  std::map<std::string, v1::Entity, std::less<>> entity_journal_;
  std::vector<model::EntityKey> absent_entities_;  // by JournalEntities, erased on failure
  model::OpContext fold_ctx_;                      // ApplyContent's, reused from op to op
  std::map<std::pair<uint32_t, uint64_t>, EpochSubkeys> subkeys_;
  std::map<Bytes, UserChain> chains_;                 // by account id, for this batch
  std::vector<PreOpened> pre_opened_;                 // by index in checked_
  std::vector<const EpochSubkeys*> pre_opened_keys_;  // the keys each was opened with
  // CheckEntries: the op before's author, and what the checks found for it (null: none).
  struct AuthorMemo {
    std::string account, device;
    DeviceHead* head = nullptr;    // in heads_
    size_t* last_index = nullptr;  // in last_of_device_
  } author_memo_;
};

}  // namespace

VerifyResult VerifyPull(VerifyContext& ctx, const v1::PullResponse& response) {
  return BatchVerifier(ctx, response, nullptr).Run();
}

void ParseEntries(const v1::PullResponse& response, ParsedPage& page) {
  ParseInto(response, page, [](size_t count, const auto& fn) {
    for (size_t i = 0; i < count; ++i) fn(i);
  });
}

VerifyResult VerifyPullInPlace(VerifyContext& ctx, const v1::PullResponse& response,
                               ParsedPage* parsed) {
  VerifyResult result = BatchVerifier(ctx, response, nullptr, parsed, /*entries_stay=*/true).Run();
  if (parsed != nullptr) parsed->filled = false;  // as in VerifyPull below
  return result;
}

VerifyResult VerifyPull(VerifyContext& ctx, v1::PullResponse&& response, ParsedPage* parsed) {
  VerifyResult result = BatchVerifier(ctx, response, &response, parsed).Run();
  // Kept for the next page's parse, never taken for that page's result.
  if (parsed != nullptr) parsed->filled = false;
  return result;
}

}  // namespace kring::client
