#include "store/stored_state.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
Bytes ValueDigest(const v1::Value& v) {
  const std::string& payload = v.kind_case() == v1::Value::kText ? v.text() : v.blob();
  return crypto::Hasher("kring-stored-value-v1", kDigestBytes)
      .AddU64(static_cast<uint64_t>(v.kind_case()))
      .Add(View(payload))
      .Finish();
}

// Whether `key` is the lowercase hex of `id` (how the reducer keys entities): the reference
// names the entity by its id, so only entities found again that way are left out.
bool IsHexOf(std::string_view key, std::string_view id) {
  constexpr char kDigits[] = "0123456789abcdef";
  if (key.size() != 2 * id.size()) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const auto b = static_cast<unsigned char>(id[i]);
    if (key[2 * i] != kDigits[b >> 4] || key[2 * i + 1] != kDigits[b & 15]) return false;
  }
  return true;
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
    for (const Source& s : sources_) {
      s.field->set_source_mutation(s.mutation);
      s.field->set_source_op_digest_lo(s.lo);
      s.field->set_source_op_digest_hi(s.hi);
    }
  }
  void Take(v1::Value& v) {
    std::string* slot = v.kind_case() == v1::Value::kText ? v.mutable_text() : v.mutable_blob();
    taken_.emplace_back(slot, std::string());
    taken_.back().second.swap(*slot);
  }
  // A left-out field's source is in its reference; the stored state does not repeat it.
  void TakeSource(v1::FieldState& f) {
    if (f.source_mutation() == 0) return;
    sources_.push_back({&f, f.source_mutation(), f.source_op_digest_lo(), f.source_op_digest_hi()});
    f.clear_source_mutation();
    f.clear_source_op_digest_lo();
    f.clear_source_op_digest_hi();
  }

 private:
  std::vector<std::pair<std::string*, std::string>> taken_;
  struct Source {
    v1::FieldState* field;
    uint32_t mutation;
    uint64_t lo, hi;
  };
  std::vector<Source> sources_;
};

// Adds references column by column.
class RefsWriter {
 public:
  explicit RefsWriter(v1::StoredValueRefs& refs) : refs_(refs) {}
  void Field(const std::string& entity_id, const std::string& name, const v1::FieldState& f) {
    if (f.source_mutation() != 0) {
      // Named by the op's digest, taken when it was verified: no hash of the value here.
      refs_.add_slots(v1::StoredValueRefs::SLOT_FIELD);
      refs_.add_seqs(f.seq());
      const auto digest = model::SourceDigest(f);
      refs_.mutable_digests()->append(reinterpret_cast<const char*>(digest.data()), digest.size());
      refs_.add_mutations(f.source_mutation());  // the index + 1 in both
    } else {
      Add(v1::StoredValueRefs::SLOT_FIELD, f.seq(), f.value());
    }
    refs_.mutable_entity_ids()->append(entity_id);
    auto [it, added] = names_.try_emplace(name, static_cast<uint32_t>(refs_.field_names_size()));
    if (added) refs_.add_field_names(name);
    refs_.add_field_name_indexes(it->second);
  }
  void Conflict(v1::StoredValueRefs::Slot slot, int index, uint64_t seq, const v1::Value& v) {
    Add(slot, seq, v);
    refs_.add_conflicts(static_cast<uint32_t>(index));
  }

 private:
  void Add(v1::StoredValueRefs::Slot slot, uint64_t seq, const v1::Value& v) {
    refs_.add_slots(slot);
    refs_.add_seqs(seq);
    const Bytes digest = ValueDigest(v);
    refs_.mutable_digests()->append(digest.begin(), digest.end());
    refs_.add_mutations(0);
  }
  v1::StoredValueRefs& refs_;
  std::map<std::string_view, uint32_t> names_;  // views of the state's field keys
};

// A left-out value to put back: where it goes and what the op that wrote it must say.
struct Target {
  uint64_t seq;
  std::string_view digest;
  v1::Value* value;
  const std::string* entity_id;
  const std::string* field;
  uint32_t mutation;       // StoredValueRefs.mutations: 0, or the SetField's index + 1
  v1::FieldState* source;  // SLOT_FIELD named by its op: gets its source back, else null
};

Status Malformed() { return DataLoss("stored case state refers to a value it does not have"); }

Result<std::vector<Target>> Targets(const v1::StoredValueRefs& refs, v1::CaseState& state) {
  const size_t n = static_cast<size_t>(refs.slots_size());
  const auto fields = static_cast<size_t>(
      std::count(refs.slots().begin(), refs.slots().end(), v1::StoredValueRefs::SLOT_FIELD));
  if (static_cast<size_t>(refs.seqs_size()) != n || refs.digests().size() != n * kDigestBytes ||
      refs.entity_ids().size() != fields * crypto::kIdBytes ||
      static_cast<size_t>(refs.field_name_indexes_size()) != fields ||
      static_cast<size_t>(refs.conflicts_size()) != n - fields ||
      (refs.mutations_size() != 0 && static_cast<size_t>(refs.mutations_size()) != n)) {
    return Malformed();
  }
  std::vector<Target> out;
  out.reserve(n);
  size_t field = 0, conflict = 0;
  for (size_t i = 0; i < n; ++i) {
    const int at = static_cast<int>(i);
    Target t{refs.seqs(at), std::string_view(refs.digests()).substr(i * kDigestBytes, kDigestBytes),
             nullptr,       nullptr,
             nullptr,       refs.mutations_size() == 0 ? 0 : refs.mutations(at),
             nullptr};
    if (t.seq == 0) return Malformed();
    const v1::StoredValueRefs::Slot slot = refs.slots(at);
    if (slot == v1::StoredValueRefs::SLOT_FIELD) {
      const std::string id = refs.entity_ids().substr(field * crypto::kIdBytes, crypto::kIdBytes);
      const uint32_t name = refs.field_name_indexes(static_cast<int>(field++));
      if (name >= static_cast<uint32_t>(refs.field_names_size())) return Malformed();
      auto e = state.mutable_entities()->find(Hex(View(id)));
      if (e == state.mutable_entities()->end() || e->second.entity_id() != id) return Malformed();
      auto f = e->second.mutable_fields()->find(refs.field_names(static_cast<int>(name)));
      if (f == e->second.mutable_fields()->end() || f->second.seq() != t.seq) return Malformed();
      t.value = f->second.mutable_value();
      t.entity_id = &e->second.entity_id();
      t.field = &f->first;
      if (t.mutation != 0) t.source = &f->second;
    } else {
      if (t.mutation != 0) return Malformed();  // only fields are named by their op
      const uint32_t index = refs.conflicts(static_cast<int>(conflict++));
      if (index >= static_cast<uint32_t>(state.conflicts_size())) return Malformed();
      v1::Conflict& c = *state.mutable_conflicts(static_cast<int>(index));
      const bool kept = slot == v1::StoredValueRefs::SLOT_CONFLICT_KEPT;
      if (!kept && slot != v1::StoredValueRefs::SLOT_CONFLICT_OTHER) return Malformed();
      if ((kept ? c.kept_seq() : c.other_seq()) != t.seq) return Malformed();
      t.value = kept ? c.mutable_kept_value() : c.mutable_other_value();
      t.entity_id = &c.entity_id();
      t.field = &c.field();
    }
    out.push_back(t);
  }
  // Each log entry is read and opened once, in log order.
  std::stable_sort(out.begin(), out.end(),
                   [](const Target& a, const Target& b) { return a.seq < b.seq; });
  return out;
}

// Puts back the values of `targets` (all naming the op at one seq) from the opened op.
Status PutBack(LogContent& logged, const Target* begin, const Target* end) {
  v1::ContentOp& op = logged.content;
  std::vector<std::optional<Bytes>> digests(static_cast<size_t>(op.mutations_size()));
  std::vector<int> found;
  found.reserve(static_cast<size_t>(end - begin));
  const std::string_view op_digest(reinterpret_cast<const char*>(logged.op_digest.data()),
                                   std::min(logged.op_digest.size(), kDigestBytes));
  for (const Target* t = begin; t != end; ++t) {
    if (t->mutation != 0) {
      // The log row must be the op the fold took the value from: its digest binds the whole
      // envelope, so the SetField at that index holds the very value left out.
      const uint32_t index = t->mutation - 1;
      if (t->digest != op_digest || index >= static_cast<uint32_t>(op.mutations_size())) {
        return DataLoss("a value of the stored case state is not in its log entry");
      }
      const v1::Mutation& m = op.mutations(static_cast<int>(index));
      if (m.kind_case() != v1::Mutation::kSetField || m.set_field().entity_id() != *t->entity_id ||
          m.set_field().field() != *t->field) {
        return DataLoss("a value of the stored case state is not in its log entry");
      }
      found.push_back(static_cast<int>(index));
      continue;
    }
    int at = -1;
    for (int i = 0; i < op.mutations_size() && at < 0; ++i) {
      const v1::Mutation& m = op.mutations(i);
      if (m.kind_case() != v1::Mutation::kSetField || m.set_field().entity_id() != *t->entity_id ||
          m.set_field().field() != *t->field) {
        continue;
      }
      std::optional<Bytes>& d = digests[static_cast<size_t>(i)];
      if (!d) d = ValueDigest(m.set_field().value());
      if (ToString(*d) == t->digest) at = i;
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
    if (begin[k].source != nullptr) {
      model::SetSource(*begin[k].source, View(begin[k].digest), begin[k].mutation - 1);
    }
  }
  return {};
}

}  // namespace

Bytes SerializeStoredState(v1::CaseState& state, size_t before, size_t after) {
  v1::StoredCaseState outer;  // only its refs are set: the state is written in place below
  RefsWriter refs(*outer.mutable_refs());
  LeftOut left_out;
  for (auto& [key, entity] : *state.mutable_entities()) {
    if (entity.entity_id().size() != crypto::kIdBytes || !IsHexOf(key, entity.entity_id()))
      continue;
    for (auto& [name, field] : *entity.mutable_fields()) {
      if (field.seq() == 0 || !LeavesOut(field.value())) continue;
      refs.Field(entity.entity_id(), name, field);
      left_out.Take(*field.mutable_value());
      left_out.TakeSource(field);
    }
  }
  for (int i = 0; i < state.conflicts_size(); ++i) {
    v1::Conflict& c = *state.mutable_conflicts(i);
    if (c.kept_seq() != 0 && LeavesOut(c.kept_value())) {
      refs.Conflict(v1::StoredValueRefs::SLOT_CONFLICT_KEPT, i, c.kept_seq(), c.kept_value());
      left_out.Take(*c.mutable_kept_value());
    }
    if (c.other_seq() != 0 && LeavesOut(c.other_value())) {
      refs.Conflict(v1::StoredValueRefs::SLOT_CONFLICT_OTHER, i, c.other_seq(), c.other_value());
      left_out.Take(*c.mutable_other_value());
    }
  }
  // StoredCaseState written by hand: field 1 (the state, serialized straight into the buffer
  // instead of being copied into a StoredCaseState first), then `outer`, which holds only field
  // 2; protobuf reads the concatenation as one message.
  using google::protobuf::io::CodedOutputStream;
  const size_t state_size = state.ByteSizeLong();
  const size_t outer_size = outer.ByteSizeLong();
  const size_t head = 1 + CodedOutputStream::VarintSize64(state_size);
  Bytes plain(before + head + state_size + outer_size + after);
  uint8_t* p = plain.data() + before;
  *p++ = (1 << 3) | 2;  // field 1, length-delimited
  p = CodedOutputStream::WriteVarint64ToArray(state_size, p);
  p = state.SerializeWithCachedSizesToArray(p);
  outer.SerializeWithCachedSizesToArray(p);
  return plain;
}

Result<v1::CaseState> ParseStoredState(ByteView plain, const OpenLogContent& open) {
  v1::StoredCaseState stored;
  if (!stored.ParseFromArray(plain.data(), static_cast<int>(plain.size()))) {
    return DataLoss("stored case state is malformed");
  }
  v1::CaseState state;
  state.Swap(stored.mutable_state());
  KRING_ASSIGN_OR_RETURN(std::vector<Target> targets, Targets(stored.refs(), state));
  for (size_t i = 0; i < targets.size();) {
    size_t j = i;
    while (j < targets.size() && targets[j].seq == targets[i].seq) ++j;
    KRING_ASSIGN_OR_RETURN(LogContent op, open(targets[i].seq));
    KRING_RETURN_IF_ERROR(PutBack(op, targets.data() + i, targets.data() + j));
    i = j;
  }
  return state;
}

}  // namespace kring::client
