// Helpers for tests about devices and what they can read: linking a second device of an account,
// a device's id, a note's text in a view, and the loot a thief (or a removed member) takes from a
// device's own store, to hand the raw envelopes written afterwards to it and check that nothing
// opens. Integration tests only (they use Catch2's REQUIRE and client-lib's store).
#pragma once

#include <string>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/model.pb.h"

#include "store/local_store.h"
#include "support/client_fixture.h"

namespace kring::test {

// Links `fresh` to the account of `existing` through the two codes, as the app does.
void Link(Device& existing, Device& fresh);

Bytes DeviceIdOf(Device& d);

// The text of an entity's field in a view ("" when the entity or field is missing).
std::string TextOf(const v1::CaseState& s, const Bytes& entity, const std::string& field);

// Everything a device's store holds: its account secrets and every epoch key of these scopes.
struct Loot {
  v1::LocalAccount account;
  std::vector<SecretBytes> epoch_keys;
};

// Closes the device (Device::Reopen opens it again).
Loot Steal(Device& d, const Bytes& case_id, const std::vector<uint32_t>& scopes = {0});

// The head of `device_id`'s op chain in this case as the device's store holds it (what a stolen
// device continues from). Closes and reopens the device.
client::DeviceHead HeadOf(Device& d, const Bytes& case_id, const Bytes& device_id);

// A header as a stolen (or a member's own) device would write it, continuing its op chain from
// `head`.
v1::OpHeader ForgedHeader(const v1::LocalAccount& account, const Bytes& case_id, v1::OpKind kind,
                          uint64_t epoch, const client::DeviceHead& head, uint64_t seen_seq = 0,
                          const std::string& seen_hash = {});

// Whether the content of `env` opens with this epoch key.
bool Decrypts(const SecretBytes& epoch_key, const v1::Envelope& env);

}  // namespace kring::test
