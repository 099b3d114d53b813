// kringd writes a Pull page as PullResponseWire (raw Pull, sync_service.cpp) and clients read it
// as PullResponse: the twins must stay the same on the wire. A field added to one and not the
// other would be dropped or misread silently, so this walks both descriptors.
#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <google/protobuf/descriptor.h>

#include "kring/v1/sync.pb.h"

namespace kring::test {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The message types each read message maps to in its wire twin (others must be the same type).
const std::map<const Descriptor*, const Descriptor*>& Twins() {
  static const std::map<const Descriptor*, const Descriptor*> twins = {
      {v1::PullResponse::descriptor(), v1::PullResponseWire::descriptor()},
      {v1::LogEntry::descriptor(), v1::LogEntryWire::descriptor()},
  };
  return twins;
}

void CheckTwin(const Descriptor* read, const Descriptor* wire) {
  INFO(read->full_name() << " and " << wire->full_name());
  CHECK(read->field_count() == wire->field_count());
  CHECK(read->oneof_decl_count() == wire->oneof_decl_count());
  for (int i = 0; i < wire->field_count(); ++i) {
    INFO("wire field " << wire->field(i)->name());
    CHECK(read->FindFieldByNumber(wire->field(i)->number()) != nullptr);
  }
  for (int i = 0; i < read->field_count(); ++i) {
    const FieldDescriptor* r = read->field(i);
    INFO("field " << r->name());
    const FieldDescriptor* w = wire->FindFieldByNumber(r->number());
    REQUIRE(w != nullptr);
    CHECK(w->name() == r->name());
    CHECK(w->label() == r->label());
    CHECK(w->is_packed() == r->is_packed());
    CHECK((w->containing_oneof() == nullptr) == (r->containing_oneof() == nullptr));
    if (read == v1::LogEntry::descriptor() && r->name() == "envelope") {
      // The one difference: a message field and a bytes field are the same on the wire.
      CHECK(r->type() == FieldDescriptor::TYPE_MESSAGE);
      CHECK(r->message_type() == v1::Envelope::descriptor());
      CHECK(w->type() == FieldDescriptor::TYPE_BYTES);
      continue;
    }
    REQUIRE(w->type() == r->type());
    if (r->type() != FieldDescriptor::TYPE_MESSAGE) continue;
    auto twin = Twins().find(r->message_type());
    CHECK(w->message_type() == (twin != Twins().end() ? twin->second : r->message_type()));
  }
}

}  // namespace

TEST_CASE("PullResponseWire and LogEntryWire match PullResponse and LogEntry field by field") {
  for (const auto& [read, wire] : Twins()) CheckTwin(read, wire);
}

}  // namespace kring::test
