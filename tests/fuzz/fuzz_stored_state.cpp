// The local store's sealed form of a case state (client-lib/src/store/stored_state.h): large
// values a log op wrote are left out and named by that op, and put back from the log when the
// state is read. Two kinds of input: a state built from the input that agrees with a small fixed
// log (fields written by its ops, with and without the source the fold records, pending and small
// values, conflicts, an entity under a key that is not its id in hex), whose stored form is then
// changed byte by byte; and raw bytes read as a stored form. Properties: no crash; serializing
// leaves the state as it was; a state that agrees with the log reads back exactly; a stored form
// that does not read is DataLoss and nothing else; each log entry is opened once, in log order;
// a stored form that reads gives a state that, where it agrees with the log, reads back exactly
// again.
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>

#include "kring/common/crypto.h"

#include "fuzz_check.h"
#include "model/reducer.h"
#include "store/stored_state.h"

namespace {

namespace v1 = kring::v1;
using google::protobuf::util::MessageDifferencer;
using kring::Bytes;
using kring::client::LogContent;

constexpr uint64_t kOps = 4;
const std::string kEntity[2] = {std::string(16, '\x01'), std::string(16, '\x02')};
const char* const kFields[3] = {"tekst", "bijlage", "klein"};

// The log: op k (seq 1..4) sets, in this order, E0.tekst, E1.bijlage (a blob), E0.klein (short,
// never left out) and E1.tekst; the long values differ from op to op.
struct Log {
  std::vector<v1::ContentOp> ops;  // by seq - 1
  std::vector<Bytes> digests;      // stand-ins for the digests of their envelopes

  Log() {
    for (uint64_t k = 1; k <= kOps; ++k) {
      v1::ContentOp op;
      op.set_version(1);
      auto set = [&op](const std::string& entity, const char* field) {
        v1::SetField* sf = op.add_mutations()->mutable_set_field();
        sf->set_entity_id(entity);
        sf->set_field(field);
        return sf->mutable_value();
      };
      const auto n = static_cast<size_t>(k);
      set(kEntity[0], "tekst")->set_text(std::string(120 + 10 * n, static_cast<char>('a' + k)));
      set(kEntity[1], "bijlage")->set_blob(std::string(300 + n, static_cast<char>(k)));
      set(kEntity[0], "klein")->set_text(std::string(n, 'k'));
      set(kEntity[1], "tekst")->set_text(std::string(128, static_cast<char>('A' + k)));
      digests.push_back(
          kring::crypto::Hasher("kring-fuzz-stored-op").Add(op.SerializeAsString()).Finish());
      ops.push_back(std::move(op));
    }
  }

  // The index of op `seq`'s SetField of this entity and field (-1: none).
  int IndexOf(uint64_t seq, const std::string& entity, const std::string& field) const {
    if (seq == 0 || seq > kOps) return -1;
    const v1::ContentOp& op = ops[seq - 1];
    for (int i = 0; i < op.mutations_size(); ++i) {
      const v1::SetField& sf = op.mutations(i).set_field();
      if (sf.entity_id() == entity && sf.field() == field) return i;
    }
    return -1;
  }
};

const Log& TheLog() {
  static const Log* log = new Log();
  return *log;
}

bool LeftOut(const v1::Value& v) {
  return (v.kind_case() == v1::Value::kText && v.text().size() >= 128) ||
         (v.kind_case() == v1::Value::kBlob && v.blob().size() >= 128);
}

// Whether every value the stored form leaves out of `state` is in the log as the state says.
bool AgreesWithLog(const v1::CaseState& state) {
  const Log& log = TheLog();
  auto in_log = [&log](uint64_t seq, const std::string& entity, const std::string& field,
                       const v1::Value& v) {
    const int i = log.IndexOf(seq, entity, field);
    return i >= 0 &&
           MessageDifferencer::Equals(log.ops[seq - 1].mutations(i).set_field().value(), v);
  };
  for (const auto& [key, entity] : state.entities()) {
    if (entity.entity_id().size() != 16 || key != kring::Hex(kring::View(entity.entity_id()))) {
      continue;
    }
    for (const auto& [name, f] : entity.fields()) {
      if (f.seq() == 0 || !LeftOut(f.value())) continue;
      if (!in_log(f.seq(), entity.entity_id(), name, f.value())) return false;
      if (f.source_mutation() != 0) {
        const auto digest = kring::client::model::SourceDigest(f);
        const Bytes& op_digest = log.digests[f.seq() - 1];
        if (!std::equal(digest.begin(), digest.end(), op_digest.begin()) ||
            static_cast<int>(f.source_mutation()) - 1 !=
                log.IndexOf(f.seq(), entity.entity_id(), name)) {
          return false;
        }
      }
    }
  }
  for (const v1::Conflict& c : state.conflicts()) {
    if (c.kept_seq() != 0 && LeftOut(c.kept_value()) &&
        !in_log(c.kept_seq(), c.entity_id(), c.field(), c.kept_value())) {
      return false;
    }
    if (c.other_seq() != 0 && LeftOut(c.other_value()) &&
        !in_log(c.other_seq(), c.entity_id(), c.field(), c.other_value())) {
      return false;
    }
  }
  return true;
}

// Reads a stored form, checking that the log is opened once per entry, in log order.
kring::Result<v1::CaseState> Read(const kring::Bytes& plain) {
  uint64_t last = 0;
  auto open = [&last](uint64_t seq) -> kring::Result<LogContent> {
    KRING_FUZZ_CHECK(seq > last);
    last = seq;
    const Log& log = TheLog();
    if (seq == 0 || seq > kOps) return kring::DataLoss("no such entry");
    return LogContent{log.ops[seq - 1], log.digests[seq - 1]};
  };
  kring::Result<v1::CaseState> r = kring::client::ParseStoredState(plain, open);
  KRING_FUZZ_CHECK(r.ok() || r.status().code() == kring::StatusCode::kDataLoss);
  return r;
}

// A state's bytes with its maps in key order: two states are equal exactly when these are (no
// floating-point fields; unknown fields count in both). MessageDifferencer took two thirds of the
// run's time, most of it walking the entity and field maps; under ASan about 20 s.
std::string Canonical(const v1::CaseState& state) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    state.SerializeToCodedStream(&coded);
  }
  return out;
}

// Stores `state` and reads it back: unchanged by the store, and the same when it agrees.
void RoundTrip(v1::CaseState& state) {
  const std::string before = Canonical(state);
  const kring::Bytes plain = kring::client::SerializeStoredState(state);
  KRING_FUZZ_CHECK(Canonical(state) == before);
  if (!AgreesWithLog(state)) return;
  kring::Result<v1::CaseState> back = Read(plain);
  KRING_FUZZ_CHECK(back.ok());
  KRING_FUZZ_CHECK(Canonical(*back) == before);
}

v1::Value ValueOf(uint64_t seq, const std::string& entity, const std::string& field) {
  const int i = TheLog().IndexOf(seq, entity, field);
  return i < 0 ? v1::Value() : TheLog().ops[seq - 1].mutations(i).set_field().value();
}

v1::CaseState Build(kring::fuzz::Input& in) {
  const Log& log = TheLog();
  v1::CaseState state;
  state.set_seq(in.Byte());
  for (const std::string& id : kEntity) {
    if (!in.Bool()) continue;
    v1::Entity& e = (*state.mutable_entities())[kring::Hex(kring::View(id))];
    e.set_entity_id(id);
    e.set_type("note");
    for (const char* name : kFields) {
      const uint8_t how = in.Byte();
      const uint64_t seq = how % 6;
      if (seq == 0) continue;
      v1::FieldState& f = (*e.mutable_fields())[name];
      f.set_revision(std::string(in.Bytes(16)));
      if (seq == 5) {  // pending: not in the log yet
        f.mutable_value()->set_text(std::string(200, 'p'));
        continue;
      }
      const int index = log.IndexOf(seq, id, name);
      if (index < 0) {  // written by that op in another field: a short value
        f.mutable_value()->set_text("kort");
      } else {
        *f.mutable_value() = ValueOf(seq, id, name);
      }
      f.set_seq(seq);
      if (index >= 0 && (how & 0x80) != 0) {  // the source the fold records
        kring::client::model::SetSource(f, kring::ByteView(log.digests[seq - 1]).first(16),
                                        static_cast<uint32_t>(index));
      }
    }
  }
  const size_t conflicts = in.Byte() % 3;
  for (size_t i = 0; i < conflicts; ++i) {
    v1::Conflict& c = *state.add_conflicts();
    const std::string& id = kEntity[in.Byte() % 2];
    c.set_entity_id(id);
    c.set_field("tekst");
    c.set_kept_seq(in.Byte() % (kOps + 1));
    c.set_other_seq(in.Byte() % (kOps + 1));
    // Seq 0: a pending value, kept in the stored form.
    *c.mutable_kept_value() =
        c.kept_seq() == 0 ? ValueOf(1, id, "tekst") : ValueOf(c.kept_seq(), id, "tekst");
    *c.mutable_other_value() =
        c.other_seq() == 0 ? ValueOf(2, id, "tekst") : ValueOf(c.other_seq(), id, "tekst");
    c.set_resolved(in.Bool());
  }
  if (in.Bool()) {  // a key that is not the hex of its id: never left out
    v1::Entity& odd = (*state.mutable_entities())["niet-hex"];
    odd.set_entity_id(kEntity[0]);
    v1::FieldState& f = (*odd.mutable_fields())["tekst"];
    *f.mutable_value() = ValueOf(3, kEntity[0], "tekst");
    f.set_seq(2);  // not what op 2 wrote: kept in the stored form
  }
  return state;
}

// A stored form changed byte by byte: flips, bytes set, cuts, insertions, removals.
void Change(kring::fuzz::Input& in, kring::Bytes& plain) {
  std::string bytes(plain.begin(), plain.end());
  while (in.remaining() > 0) {
    const uint8_t how = in.Byte();
    const size_t at = bytes.empty() ? 0 : static_cast<size_t>(in.Int(2)) % bytes.size();
    switch (how % 5) {
      case 0:
        if (!bytes.empty()) bytes[at] ^= static_cast<char>(1u << (in.Byte() % 8));
        break;
      case 1:
        if (!bytes.empty()) bytes[at] = static_cast<char>(in.Byte());
        break;
      case 2:
        bytes.resize(at);
        break;
      case 3:
        bytes.insert(at, in.Bytes(8));
        break;
      default:
        bytes.erase(at, in.Byte());
    }
  }
  plain.assign(bytes.begin(), bytes.end());
}

// What a stored form that reads gives: stored again, unchanged by the store, and read back the
// same where it agrees with the log.
void CheckRead(const kring::Bytes& plain) {
  kring::Result<v1::CaseState> r = Read(plain);
  if (r.ok()) RoundTrip(*r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  // Strings of the state that are not UTF-8 are refused (DataLoss); protobuf's log line for each
  // would only slow the search.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  kring::fuzz::Input in(data, size);
  if (in.Byte() % 2 == 0) {
    const std::string_view raw = in.Rest();
    CheckRead(kring::Bytes(raw.begin(), raw.end()));
    return 0;
  }
  v1::CaseState state = Build(in);
  KRING_FUZZ_CHECK(AgreesWithLog(state));
  RoundTrip(state);
  if (in.remaining() == 0) return 0;
  kring::Bytes plain = kring::client::SerializeStoredState(state);
  Change(in, plain);
  CheckRead(plain);
  return 0;
}
