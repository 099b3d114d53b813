// What kringd needs to know of a stored envelope to serve it without parsing it: that its bytes
// are a well-formed protobuf message, and whether it carries a signature.
#pragma once

#include <optional>
#include <string_view>

namespace kring::server {

// Walks the top-level fields of a serialized kring.v1.Envelope without copying any of them.
// nullopt when the bytes are not a well-formed message as a client reads it inside a page (what
// its parse of the PullResponse would refuse: every Envelope field is `bytes`, so a parse fails
// on the wire format only, or on groups nested past protobuf's recursion limit); otherwise
// whether its signature (field 6, the last occurrence, as a parse takes it) is non-empty.
std::optional<bool> ScanStoredEnvelope(std::string_view bytes);

}  // namespace kring::server
