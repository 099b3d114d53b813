// Building v1::Value and new ids for mutations: one place for every writer of the content model
// (the client API and the domain).
#pragma once

#include <cstdint>
#include <string>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/v1/model.pb.h"

namespace kring::client::model {

inline v1::Value TextValue(const std::string& s) {
  v1::Value v;
  v.set_text(s);
  return v;
}
inline v1::Value BlobValue(const std::string& b) {
  v1::Value v;
  v.set_blob(b);
  return v;
}
inline v1::Value BlobValue(const Bytes& b) { return BlobValue(ToString(b)); }
inline v1::Value IntValue(int64_t i) {
  v1::Value v;
  v.set_integer(i);
  return v;
}
inline v1::Value TimeValue(int64_t ms) {
  v1::Value v;
  v.set_time_ms(ms);
  return v;
}
inline v1::Value FlagValue(bool f) {
  v1::Value v;
  v.set_flag(f);
  return v;
}
// A fresh 16-byte element, add-tag or op id.
inline std::string NewId() { return ToString(crypto::RandomBytes(crypto::kIdBytes)); }
// A fresh 16-byte entity id for an entity created in `scope_id`: the id commits to its scope by
// its first 4 bytes (big-endian scope id, 0 for scope 0), so that nobody can create an entity of
// a restricted scope again in another scope (model::EntityIdFitsScope, the reducer's rule).
inline std::string NewEntityId(uint32_t scope_id) {
  std::string id = ToString(crypto::RandomBytes(crypto::kIdBytes));
  id[0] = static_cast<char>((scope_id >> 24) & 0xff);
  id[1] = static_cast<char>((scope_id >> 16) & 0xff);
  id[2] = static_cast<char>((scope_id >> 8) & 0xff);
  id[3] = static_cast<char>(scope_id & 0xff);
  return id;
}

}  // namespace kring::client::model
