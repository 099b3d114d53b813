#include "kring/common/user_chain.h"

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring {
namespace {

Status CheckDeviceKeys(const v1::DeviceKeys& keys) {
  if (keys.signing_public_key().size() != crypto::kPublicKeyBytes ||
      keys.box_public_key().size() != crypto::kPublicKeyBytes) {
    return InvalidArgument("device keys must be 32 bytes each");
  }
  return {};
}

Status CheckSealedSeed(const v1::SealedSeed& s) {
  if (s.recipient_id().size() != crypto::kIdBytes ||
      s.sealed().size() != crypto::kKeyBytes + crypto::kSealOverhead) {
    return InvalidArgument("malformed sealed user key seed");
  }
  return {};
}

Status CheckUserKey(const v1::UserKeyGeneration& uk) {
  if (uk.box_public_key().size() != crypto::kPublicKeyBytes ||
      uk.signing_public_key().size() != crypto::kPublicKeyBytes) {
    return InvalidArgument("user key public keys must be 32 bytes each");
  }
  if (uk.sealed_seeds_size() == 0 || uk.sealed_seeds_size() > 64) {
    return InvalidArgument("user key must be sealed to 1..64 recipients");
  }
  for (const auto& s : uk.sealed_seeds()) KRING_RETURN_IF_ERROR(CheckSealedSeed(s));
  return {};
}

ChainDevice MakeDevice(const v1::DeviceKeys& keys, uint64_t index, bool recovery) {
  ChainDevice d;
  d.signing_public_key = ToBytes(keys.signing_public_key());
  d.box_public_key = ToBytes(keys.box_public_key());
  d.device_id = protocol::DeviceId(d.signing_public_key);
  d.added_at = index;
  d.is_recovery = recovery;
  return d;
}

UserKeyPublic MakeUserKey(const v1::UserKeyGeneration& uk) {
  return {uk.generation(),
          ToBytes(uk.box_public_key()),
          ToBytes(uk.signing_public_key()),
          {uk.sealed_seeds().begin(), uk.sealed_seeds().end()}};
}

}  // namespace

const ChainDevice* UserChain::ActiveDevice(ByteView device_id) const {
  auto it = devices.find(Bytes(device_id.begin(), device_id.end()));
  if (it == devices.end() || it->second.revoked_at) return nullptr;
  return &it->second;
}

// Every check runs before the first change to `chain`, so that a failing link leaves it as it
// was; the change is then made in place (a copy of the chain per link made verifying a chain
// quadratic in its length). Nothing after "Apply" in a branch may return an error, and what may
// throw there (out of memory) is undone before the exception leaves, so the chain is unchanged
// on every way out but success.
Status ApplyLink(UserChain& chain, const v1::ChainLink& link) {
  if (link.ByteSizeLong() > protocol::kMaxChainLinkBytes) return InvalidArgument("link too large");
  v1::LinkBody body;
  if (!body.ParseFromString(link.body())) return InvalidArgument("malformed link body");
  if (body.version() != 1) return InvalidArgument("unknown link version");
  if (body.index() != chain.length) return InvalidArgument("link index does not continue chain");
  if (!ConstantTimeEqual(View(body.prev_link_hash()), chain.head_hash)) {
    return InvalidArgument("link does not extend the chain head");
  }
  Bytes sign_input = protocol::LinkSignInput(View(link.body()));
  Bytes link_hash = protocol::LinkHash(View(link.body()));

  if (body.has_root()) {
    if (chain.length != 0) return InvalidArgument("root must be the first link");
    const auto& root = body.root();
    KRING_RETURN_IF_ERROR(CheckDeviceKeys(root.device()));
    KRING_RETURN_IF_ERROR(CheckDeviceKeys(root.recovery()));
    KRING_RETURN_IF_ERROR(CheckUserKey(root.user_key()));
    if (root.user_key().generation() != 1) return InvalidArgument("first user key is gen 1");
    ChainDevice first = MakeDevice(root.device(), 0, false);
    ChainDevice recovery = MakeDevice(root.recovery(), 0, true);
    if (!ConstantTimeEqual(View(body.signer_device_id()), first.device_id)) {
      return InvalidArgument("root must be signed by its first device");
    }
    if (!crypto::Verify(first.signing_public_key, sign_input, View(link.signature()))) {
      return InvalidArgument("bad root signature");
    }
    // Apply: built aside (the chain is empty) and moved in, which cannot throw.
    UserChain rooted;
    rooted.root_hash = link_hash;
    rooted.account_id = protocol::AccountId(link_hash);
    rooted.devices[first.device_id] = first;
    rooted.devices[recovery.device_id] = recovery;
    rooted.user_key = MakeUserKey(root.user_key());
    rooted.links.reserve(1);
    chain = std::move(rooted);
  } else {
    if (chain.length == 0) return InvalidArgument("chain must start with a root");
    const ChainDevice* signer = chain.ActiveDevice(View(body.signer_device_id()));
    if (signer == nullptr) return PermissionDenied("link signer is not an active device");
    if (!crypto::Verify(signer->signing_public_key, sign_input, View(link.signature()))) {
      return InvalidArgument("bad link signature");
    }
    // Room for this link first: the push_back at the end then cannot throw.
    chain.links.reserve(chain.links.size() + 1);
    if (body.has_add_device()) {
      const auto& add = body.add_device();
      KRING_RETURN_IF_ERROR(CheckDeviceKeys(add.device()));
      ChainDevice dev = MakeDevice(add.device(), body.index(), false);
      if (chain.devices.count(dev.device_id) != 0) return InvalidArgument("device already added");
      if (!crypto::Verify(dev.signing_public_key, sign_input, View(link.new_device_signature()))) {
        return InvalidArgument("bad new-device signature");
      }
      if (add.sealed_seeds_size() > 64) return InvalidArgument("too many sealed seeds");
      for (const auto& s : add.sealed_seeds()) KRING_RETURN_IF_ERROR(CheckSealedSeed(s));
      // Apply; a copy that throws takes back what was added before it.
      const size_t seeds_before = chain.user_key.sealed_seeds.size();
      const Bytes device_id = dev.device_id;
      try {
        chain.user_key.sealed_seeds.insert(chain.user_key.sealed_seeds.end(),
                                           add.sealed_seeds().begin(), add.sealed_seeds().end());
        chain.devices.emplace(device_id, std::move(dev));
      } catch (...) {
        chain.user_key.sealed_seeds.erase(
            chain.user_key.sealed_seeds.begin() + static_cast<std::ptrdiff_t>(seeds_before),
            chain.user_key.sealed_seeds.end());
        chain.devices.erase(device_id);
        throw;
      }
    } else if (body.has_revoke_device()) {
      auto it = chain.devices.find(ToBytes(body.revoke_device().device_id()));
      if (it == chain.devices.end() || it->second.revoked_at || it->second.is_recovery) {
        return InvalidArgument("revoked device is not an active device");
      }
      // Apply.
      it->second.revoked_at = body.index();
      it->second.generation_at_revocation = chain.user_key.generation;
    } else if (body.has_rotate_user_key()) {
      const auto& uk = body.rotate_user_key().user_key();
      KRING_RETURN_IF_ERROR(CheckUserKey(uk));
      if (uk.generation() != chain.user_key.generation + 1) {
        return InvalidArgument("user key generation must increase by one");
      }
      // Apply.
      chain.user_key = MakeUserKey(uk);
    } else {
      return InvalidArgument("unknown link kind");
    }
  }
  chain.head_hash = std::move(link_hash);
  chain.length += 1;
  chain.links.push_back(link);
  return {};
}

Result<UserChain> VerifyChain(ByteView expected_account_id,
                              const std::vector<v1::ChainLink>& links) {
  if (links.empty()) return NotFound("empty chain");
  if (links.size() > protocol::kMaxChainLinks) return InvalidArgument("chain too long");
  UserChain chain;
  for (const auto& link : links) {
    // kringd refuses such a link on PublishChain, so only a server that changed what it stored
    // serves one; its signatures do not cover the extra fields, which a client would otherwise
    // store with the link and compare as part of its bytes (a chain "rewritten" by them alone).
    if (!link.GetReflection()->GetUnknownFields(link).empty()) {
      return InvalidArgument("link has unknown fields");
    }
    KRING_RETURN_IF_ERROR(ApplyLink(chain, link));
  }
  if (!expected_account_id.empty() && !ConstantTimeEqual(expected_account_id, chain.account_id)) {
    return InvalidArgument("chain does not belong to the expected account");
  }
  return chain;
}

std::string SafetyNumber(ByteView root_hash) {
  Bytes h = crypto::Hasher("kring-safety-number-v1", 64).Add(root_hash).Finish();
  std::string out;
  for (size_t group = 0; group < 6; ++group) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | h[group * 8 + i];
    std::string digits = std::to_string(v % 100000);
    if (!out.empty()) out += ' ';
    out += std::string(5 - digits.size(), '0') + digits;
  }
  return out;
}

}  // namespace kring
