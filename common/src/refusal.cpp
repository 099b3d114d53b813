#include "kring/common/refusal.h"

#include "kring/v1/refusal.pb.h"

namespace kring::refusal {
namespace {

constexpr size_t kMaxDetailsBytes = 4096;

}  // namespace

std::string EncodeDetails(int32_t grpc_code, std::string_view message, std::string_view reason) {
  v1::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kDomain));
  v1::StatusDetails details;
  details.set_code(grpc_code);
  details.set_message(std::string(message));
  v1::AnyDetail* any = details.add_details();
  any->set_type_url(std::string(kErrorInfoType));
  any->set_value(info.SerializeAsString());
  return details.SerializeAsString();
}

std::string DecodeDetails(std::string_view details) {
  if (details.empty() || details.size() > kMaxDetailsBytes) return {};
  v1::StatusDetails parsed;
  if (!parsed.ParseFromArray(details.data(), static_cast<int>(details.size()))) return {};
  for (const v1::AnyDetail& any : parsed.details()) {
    if (any.type_url() != kErrorInfoType) continue;
    v1::ErrorInfo info;
    if (!info.ParseFromString(any.value()) || info.domain() != kDomain) continue;
    // A reason only this device gives is never taken from the network.
    if (info.reason() == kCaseHalted) return {};
    if (IsReasonKey(info.reason())) return info.reason();
  }
  return {};
}

}  // namespace kring::refusal
