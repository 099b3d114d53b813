// Exit 3 for a halted case is decided by the library's local reason, not by any text: a server
// that words its refusal like this device's alarm (or names the local reason) gets exit 1.
#include <catch2/catch.hpp>

#include "kring/common/refusal.h"
#include "kring/common/status.h"

#include "session.h"

using kring::FailedPrecondition;
using kring::cli::IsHaltedCase;
namespace refusal = kring::refusal;

TEST_CASE("a halted case is known by the library's local reason, not by a message", "[cli]") {
  CHECK(IsHaltedCase(
      FailedPrecondition("this case is stopped by a security alarm", refusal::kCaseHalted)));
  // A server's refusal reaches the command line as "server: ..." with the server's reason key.
  CHECK_FALSE(IsHaltedCase(FailedPrecondition("server: this case is stopped by a security alarm")));
  CHECK_FALSE(IsHaltedCase(FailedPrecondition("server: this case is stopped by a security alarm",
                                              refusal::kCaseClosed)));
  // A server cannot give the local reason: its details are dropped when decoded.
  CHECK(refusal::DecodeDetails(refusal::EncodeDetails(9, "x", refusal::kCaseHalted)).empty());
  CHECK(refusal::DecodeDetails(refusal::EncodeDetails(9, "x", refusal::kCaseClosed)) ==
        refusal::kCaseClosed);
}
