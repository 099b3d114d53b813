#include "support/device_keys.h"

#include <map>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

#include "store/local_store.h"

namespace kring::test {

void Link(Device& existing, Device& fresh) {
  auto request = fresh->RequestDeviceLink();
  REQUIRE(request.ok());
  auto approval = existing->ApproveDeviceLink(request->payload, request->code);
  REQUIRE(approval.ok());
  auto info = fresh->FinishDeviceLink(*approval);
  REQUIRE(info.ok());
  CHECK(info->account_id == existing.account_id());
  fresh.set_account_id(info->account_id);
}

Bytes DeviceIdOf(Device& d) {
  auto info = d->Account();
  REQUIRE(info.ok());
  return info->device_id;
}

std::string TextOf(const v1::CaseState& s, const Bytes& entity, const std::string& field) {
  auto e = s.entities().find(Hex(entity));
  if (e == s.entities().end()) return {};
  auto f = e->second.fields().find(field);
  return f == e->second.fields().end() ? std::string() : f->second.value().text();
}

Loot Steal(Device& d, const Bytes& case_id, const std::vector<uint32_t>& scopes) {
  d.Close();
  auto store = client::LocalStore::Open(d.db_path(), d.storage_key());
  REQUIRE(store.ok());
  Loot loot;
  auto account = (*store)->LoadAccount();
  REQUIRE(account.ok());
  REQUIRE(account->has_value());
  loot.account = **account;
  for (uint32_t scope : scopes) {
    for (uint64_t epoch = 1; epoch <= 10; ++epoch) {
      auto key = (*store)->FindEpochKey(case_id, scope, epoch);
      REQUIRE(key.ok());
      if (*key) loot.epoch_keys.push_back((*key)->key);
    }
  }
  return loot;
}

client::DeviceHead HeadOf(Device& d, const Bytes& case_id, const Bytes& device_id) {
  d.Close();
  std::map<Bytes, client::DeviceHead> heads;
  {
    auto store = client::LocalStore::Open(d.db_path(), d.storage_key());
    REQUIRE(store.ok());
    auto read = (*store)->DeviceHeads(case_id);
    REQUIRE(read.ok());
    heads = *read;
  }
  d.Reopen();
  auto it = heads.find(device_id);
  return it == heads.end() ? client::DeviceHead{} : it->second;
}

v1::OpHeader ForgedHeader(const v1::LocalAccount& account, const Bytes& case_id, v1::OpKind kind,
                          uint64_t epoch, const client::DeviceHead& head, uint64_t seen_seq,
                          const std::string& seen_hash) {
  v1::OpHeader h;
  h.set_version(1);
  h.set_case_id(ToString(case_id));
  h.set_epoch(epoch);
  h.set_author_account_id(account.account_id());
  h.set_author_device_id(account.device_id());
  h.set_device_counter(head.counter + 1);
  h.set_prev_device_op_hash(ToString(head.last_hash));
  h.set_client_op_id(ToString(crypto::RandomBytes(16)));
  h.set_seen_seq(seen_seq);
  h.set_seen_hash(seen_hash);
  h.set_kind(kind);
  return h;
}

bool Decrypts(const SecretBytes& epoch_key, const v1::Envelope& env) {
  SecretBytes k = protocol::DeriveEpochSubkey(epoch_key, protocol::EpochSubkey::kContent);
  return crypto::AeadDecrypt(k, View(env.nonce()), View(env.ciphertext()),
                             protocol::AssociatedData(View(env.header()), {}))
      .ok();
}

}  // namespace kring::test
