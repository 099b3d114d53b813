#include "store/stored_state.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>

#include "kring/common/crypto.h"

namespace kring::client {
namespace {

constexpr size_t kDigestBytes = 16;

bool LeavesOut(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kText:
      return v.text().size() >= kMinLeftOutValueBytes;
    case v1::Value::kBlob:
      return v.blob().size() >= kMinLeftOutValueBytes;
    default:
      return false;
  }
}

// Binds a reference to the exact value (kind and bytes), so a log row that gives back anything
// else is caught.
std::string ValueDigest(const v1::Value& v) {
  const std::string& payload = v.kind_case() == v1::Value::kText ? v.text() : v.blob();
  return ToString(crypto::Hasher("kring-stored-value-v1", kDigestBytes)
                      .AddU64(static_cast<uint64_t>(v.kind_case()))
                      .Add(View(payload))
                      .Finish());
}

// Holds the left-out values while the state is serialized and puts them back when it goes, also
// when serializing throws.
class LeftOut {
 public:
  LeftOut() = default;
  LeftOut(const LeftOut&) = delete;
  LeftOut& operator=(const LeftOut&) = delete;
  ~LeftOut() {
    for (auto& [slot, payload] : taken_) slot->swap(payload);
  }
  void Take(v1::Value& v) {
    std::string* slot = v.kind_case() == v1::Value::kText ? v.mutable_text() : v.mutable_blob();
    taken_.emplace_back(slot, std::string());
    taken_.back().second.swap(*slot);
  }

 private:
  std::vector<std::pair<std::string*, std::string>> taken_;
};

void AddRef(v1::StoredCaseState& refs, v1::StoredValueRef::Slot slot, uint64_t seq,
            const v1::Value& v) {
  v1::StoredValueRef* r = refs.add_refs();
  r->set_slot(slot);
  r->set_seq(seq);
  r->set_digest(ValueDigest(v));
}

// A left-out value to put back: where it goes and what the op that wrote it must say.
struct Target {
  const v1::StoredValueRef* ref;
  v1::Value* value;
  const std::string* entity_id;
  const std::string* field;
};

Status NamesNothing() { return DataLoss("stored case state refers to a value it does not have"); }

Result<std::vector<Target>> Targets(const v1::StoredCaseState& stored, v1::CaseState& state) {
  std::vector<Target> out;
  out.reserve(static_cast<size_t>(stored.refs_size()));
  for (const v1::StoredValueRef& r : stored.refs()) {
    if (r.seq() == 0) return NamesNothing();
    if (r.slot() == v1::StoredValueRef::SLOT_FIELD) {
      auto e = state.mutable_entities()->find(r.entity_key());
      if (e == state.mutable_entities()->end()) return NamesNothing();
      auto f = e->second.mutable_fields()->find(r.field());
      if (f == e->second.mutable_fields()->end() || f->second.seq() != r.seq()) {
        return NamesNothing();
      }
      out.push_back({&r, f->second.mutable_value(), &e->second.entity_id(), &f->first});
      continue;
    }
    if (r.conflict() >= static_cast<uint32_t>(state.conflicts_size())) return NamesNothing();
    v1::Conflict& c = *state.mutable_conflicts(static_cast<int>(r.conflict()));
    const bool kept = r.slot() == v1::StoredValueRef::SLOT_CONFLICT_KEPT;
    if (!kept && r.slot() != v1::StoredValueRef::SLOT_CONFLICT_OTHER) return NamesNothing();
    if ((kept ? c.kept_seq() : c.other_seq()) != r.seq()) return NamesNothing();
    out.push_back(
        {&r, kept ? c.mutable_kept_value() : c.mutable_other_value(), &c.entity_id(), &c.field()});
  }
  // Each log entry is read and opened once, in log order.
  std::stable_sort(out.begin(), out.end(),
                   [](const Target& a, const Target& b) { return a.ref->seq() < b.ref->seq(); });
  return out;
}

// Puts back the values of `targets` (all naming the op at one seq) from the opened op.
Status PutBack(v1::ContentOp& op, const Target* begin, const Target* end) {
  std::vector<std::optional<std::string>> digests(static_cast<size_t>(op.mutations_size()));
  std::vector<int> found;
  found.reserve(static_cast<size_t>(end - begin));
  for (const Target* t = begin; t != end; ++t) {
    int at = -1;
    for (int i = 0; i < op.mutations_size() && at < 0; ++i) {
      const v1::Mutation& m = op.mutations(i);
      if (m.kind_case() != v1::Mutation::kSetField || m.set_field().entity_id() != *t->entity_id ||
          m.set_field().field() != *t->field) {
        continue;
      }
      std::optional<std::string>& d = digests[static_cast<size_t>(i)];
      if (!d) d = ValueDigest(m.set_field().value());
      if (*d == t->ref->digest()) at = i;
    }
    if (at < 0) return DataLoss("a value of the stored case state is not in its log entry");
    found.push_back(at);
  }
  // A value named twice (a field and the conflict it won) is copied; its last use moves it.
  for (size_t k = 0; k < found.size(); ++k) {
    v1::Value* from = op.mutable_mutations(found[k])->mutable_set_field()->mutable_value();
    const bool used_later = std::find(found.begin() + static_cast<std::ptrdiff_t>(k) + 1,
                                      found.end(), found[k]) != found.end();
    if (used_later) {
      *begin[k].value = *from;
    } else {
      *begin[k].value = std::move(*from);
    }
  }
  return {};
}

}  // namespace

SecretBytes SerializeStoredState(v1::CaseState& state) {
  v1::StoredCaseState refs;  // only its refs are set: the state is written in place below
  LeftOut left_out;
  for (auto& [key, entity] : *state.mutable_entities()) {
    for (auto& [name, field] : *entity.mutable_fields()) {
      if (field.seq() == 0 || !LeavesOut(field.value())) continue;
      AddRef(refs, v1::StoredValueRef::SLOT_FIELD, field.seq(), field.value());
      refs.mutable_refs(refs.refs_size() - 1)->set_entity_key(key);
      refs.mutable_refs(refs.refs_size() - 1)->set_field(name);
      left_out.Take(*field.mutable_value());
    }
  }
  for (int i = 0; i < state.conflicts_size(); ++i) {
    v1::Conflict& c = *state.mutable_conflicts(i);
    if (c.kept_seq() != 0 && LeavesOut(c.kept_value())) {
      AddRef(refs, v1::StoredValueRef::SLOT_CONFLICT_KEPT, c.kept_seq(), c.kept_value());
      refs.mutable_refs(refs.refs_size() - 1)->set_conflict(static_cast<uint32_t>(i));
      left_out.Take(*c.mutable_kept_value());
    }
    if (c.other_seq() != 0 && LeavesOut(c.other_value())) {
      AddRef(refs, v1::StoredValueRef::SLOT_CONFLICT_OTHER, c.other_seq(), c.other_value());
      refs.mutable_refs(refs.refs_size() - 1)->set_conflict(static_cast<uint32_t>(i));
      left_out.Take(*c.mutable_other_value());
    }
  }
  // StoredCaseState written by hand: field 1 (the state, serialized straight into the buffer
  // instead of being copied into a StoredCaseState first), then the refs' own serialization
  // (field 2); protobuf reads the concatenation as one message.
  using google::protobuf::io::CodedOutputStream;
  const size_t state_size = state.ByteSizeLong();
  const size_t refs_size = refs.ByteSizeLong();
  const size_t head = 1 + CodedOutputStream::VarintSize64(state_size);
  SecretBytes plain(head + state_size + refs_size);
  uint8_t* p = plain.data();
  *p++ = (1 << 3) | 2;  // field 1, length-delimited
  p = CodedOutputStream::WriteVarint64ToArray(state_size, p);
  p = state.SerializeWithCachedSizesToArray(p);
  refs.SerializeWithCachedSizesToArray(p);
  return plain;
}

Result<v1::CaseState> ParseStoredState(ByteView plain, const OpenLogContent& open) {
  v1::StoredCaseState stored;
  if (!stored.ParseFromArray(plain.data(), static_cast<int>(plain.size()))) {
    return DataLoss("stored case state is malformed");
  }
  v1::CaseState state;
  state.Swap(stored.mutable_state());
  KRING_ASSIGN_OR_RETURN(std::vector<Target> targets, Targets(stored, state));
  for (size_t i = 0; i < targets.size();) {
    size_t j = i;
    while (j < targets.size() && targets[j].ref->seq() == targets[i].ref->seq()) ++j;
    KRING_ASSIGN_OR_RETURN(v1::ContentOp op, open(targets[i].ref->seq()));
    KRING_RETURN_IF_ERROR(PutBack(op, targets.data() + i, targets.data() + j));
    i = j;
  }
  return state;
}

}  // namespace kring::client
