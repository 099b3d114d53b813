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
// A fresh 16-byte entity, element or op id.
inline std::string NewId() { return ToString(crypto::RandomBytes(crypto::kIdBytes)); }

}  // namespace kring::client::model
