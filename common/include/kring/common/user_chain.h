// Verification of user chains (accounts). Used by kringd before storing links and by every
// client before trusting a member's devices or user key.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/v1/account.pb.h"

namespace kring {

struct ChainDevice {
  Bytes device_id;
  Bytes signing_public_key;
  Bytes box_public_key;
  uint64_t added_at = 0;               // link index
  std::optional<uint64_t> revoked_at;  // link index
  // The account's user key generation when the device was revoked: the newest one the device
  // may hold. Keys given to the account once it is cut off must be boxed to a later one (kringd
  // takes a revocation only with the rotation right after it, in the same publish).
  std::optional<uint32_t> generation_at_revocation;
  bool is_recovery = false;
};

struct UserKeyPublic {
  uint32_t generation = 0;
  Bytes box_public_key;
  Bytes signing_public_key;
  std::vector<v1::SealedSeed> sealed_seeds;
};

// The state after applying links in order. Only ever built by ApplyLink.
struct UserChain {
  Bytes account_id;
  Bytes root_hash;
  Bytes head_hash;
  uint64_t length = 0;
  std::map<Bytes, ChainDevice> devices;  // includes the recovery pseudo-device
  UserKeyPublic user_key;
  std::vector<v1::ChainLink> links;

  const ChainDevice* ActiveDevice(ByteView device_id) const;
};

// Validates one link against the chain so far and appends it. On error the chain is unchanged.
Status ApplyLink(UserChain& chain, const v1::ChainLink& link);

// Verifies a whole chain; when expected_account_id is non-empty the Root must produce it.
Result<UserChain> VerifyChain(ByteView expected_account_id,
                              const std::vector<v1::ChainLink>& links);

// Safety number: 30 digits in 6 groups of 5, derived from the Root hash; stable across devices.
std::string SafetyNumber(ByteView root_hash);

}  // namespace kring
