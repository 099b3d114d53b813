// The protocol's hash, signature and key-derivation inputs and the structural checks of an
// envelope, shared by kringd and libkring so both compute exactly the same bytes.
// docs/protocol.md describes every function here.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "kring/common/bytes.h"
#include "kring/common/crypto.h"
#include "kring/common/status.h"
#include "kring/v1/case.pb.h"
#include "kring/v1/sync.pb.h"

namespace kring::protocol {

inline constexpr uint32_t kVersion = 1;

// Limits. The server enforces them on input; clients enforce them on what they pull.
inline constexpr size_t kMaxEnvelopeBytes = 256 * 1024;
inline constexpr size_t kMaxHeaderBytes = 1024;
inline constexpr size_t kMaxControlBodyBytes = 128 * 1024;
inline constexpr size_t kMaxPushEnvelopes = 64;
inline constexpr size_t kMaxPushBytes = 4 * 1024 * 1024;
inline constexpr uint32_t kDefaultPullLimit = 256;
inline constexpr uint32_t kMaxPullLimit = 1000;
// A serialized PullRequest: two 16/32-byte ids and two numbers make under 100 bytes. kringd
// refuses a larger one before parsing it (the raw Pull method parses the request itself).
inline constexpr size_t kMaxPullRequestBytes = 1024;
inline constexpr size_t kMaxChainLinkBytes = 16 * 1024;
inline constexpr size_t kMaxChainLinks = 1000;
inline constexpr size_t kMaxCaseMembers = 200;
inline constexpr size_t kMaxScopesPerCase = 1000;  // restricted scopes, besides scope 0
inline constexpr uint32_t kMaxRetentionDays = 3650;
// Once the resident (chair) has joined, only they can make a case go at once (EraseCase or a
// close with less retention than this).
inline constexpr uint32_t kMinRetentionDaysWithoutChair = 30;
inline constexpr size_t kMaxComplaintReasonBytes = 64;
inline constexpr size_t kPaddingBlock = 256;

// kringd's FAILED_PRECONDITION message (after "envelope N: ") for content sealed to a scope that
// waits for a Rekey naming a device revoked since. Clients act on its reason key
// (refusal::kHeldForRevokedDevice), not on this text.
inline constexpr std::string_view kHeldForRevokedDevice =
    "waiting for a new key after a device was revoked";

// Ids.
Bytes DeviceId(ByteView signing_public_key);         // H16("kring-device-id-v1", pk)
Bytes AccountId(ByteView root_link_hash);            // H16("kring-account-id-v1", root hash)
Bytes ServerId(ByteView server_signing_public_key);  // H16("kring-server-id-v1", pk)

// Invitations: the id of an invite key, and what an accepting account signs with it.
Bytes InviteId(ByteView invite_signing_public_key);  // H16("kring-invite-id-v1", pk)
Bytes InviteAcceptInput(ByteView case_id, ByteView invite_id, ByteView account_id);
bool VerifyInviteProof(const v1::Invite& invite, ByteView case_id, ByteView account_id,
                       ByteView proof);

// User chain links.
Bytes LinkHash(ByteView link_body);       // H("kring-chain-link-v1", body)
Bytes LinkSignInput(ByteView link_body);  // H("kring-chain-link-sig-v1", body)

// Device sign-in.
Bytes AuthSignInput(ByteView server_id, ByteView challenge, ByteView device_id);
// Reading an account's chain with the recovery key (restore on a fresh device): same hash with
// purpose "recovery-chain", so neither signature can stand in for the other.
Bytes RecoveryChainSignInput(ByteView server_id, ByteView challenge, ByteView recovery_device_id);

// Ops.
Bytes OpDigest(const v1::Envelope& env);      // what the author signs
Bytes EnvelopeHash(const v1::Envelope& env);  // H("kring-envelope-v1", digest, signature)
Bytes ChainHash(ByteView prev_chain_hash, uint64_t seq, ByteView envelope_hash);
Bytes AssociatedData(ByteView header, ByteView control_body);
// The same two, and OpKeyCommitmentWithSubkey below, as arrays: no allocation (a catch-up
// computes each once per op). Each *Array form's bytes equal its Bytes form's.
using HashArray = std::array<uint8_t, crypto::kHashBytes>;
HashArray ChainHashArray(ByteView prev_chain_hash, uint64_t seq, ByteView envelope_hash);
HashArray AssociatedDataArray(ByteView header, ByteView control_body);

// Receipts (also used for signed heads).
Bytes ReceiptSignInput(ByteView case_id, uint64_t seq, ByteView chain_hash, int64_t time_ms);
bool VerifyReceipt(const v1::Receipt& receipt, ByteView server_public_key);
v1::Receipt MakeReceipt(ByteView case_id, uint64_t seq, ByteView chain_hash, int64_t time_ms,
                        ByteView server_secret_key);

// Epoch keys: subkeys and commitments.
enum class EpochSubkey : uint64_t {
  kContent = 1,
  kCommitment = 2,
  kBackLink = 3,
  kFingerprint = 4
};
SecretBytes DeriveEpochSubkey(ByteView epoch_key, EpochSubkey which);
Bytes EpochKeyCommitment(ByteView epoch_key, ByteView case_id, uint32_t scope_id, uint64_t epoch);
Bytes OpKeyCommitment(ByteView epoch_key, ByteView nonce);
// The same from the already derived commitment subkey (verifiers derive it once per epoch).
Bytes OpKeyCommitmentWithSubkey(ByteView commitment_subkey, ByteView nonce);
HashArray OpKeyCommitmentArray(ByteView commitment_subkey, ByteView nonce);
// The same from the commitment hasher's start with the subkey absorbed, made once per epoch key
// (OpKeyCommitmentStart; client::EpochSubkeys keeps it): no keyed set-up per op.
crypto::HasherStart OpKeyCommitmentStart(ByteView commitment_subkey);
HashArray OpKeyCommitmentArray(const crypto::HasherStart& start, ByteView nonce);
// Epoch fingerprint: 12 digits in groups of 4 from the fingerprint subkey, compared in person
// at the meeting (equal codes = everyone holds the same key for this epoch).
std::string EpochFingerprint(ByteView epoch_key, ByteView case_id, uint32_t scope_id,
                             uint64_t epoch);

// History back-link: the previous epoch key sealed under the new key's back-link subkey,
// associated data H("kring-backlink-v1", case_id, u64 scope, u64 new_epoch).
Bytes SealPreviousKey(ByteView new_epoch_key, ByteView previous_key, ByteView case_id,
                      uint32_t scope_id, uint64_t new_epoch);
Result<SecretBytes> OpenPreviousKey(ByteView new_epoch_key, ByteView box, ByteView case_id,
                                    uint32_t scope_id, uint64_t new_epoch);

// A structurally valid envelope, parsed once. Hashes are over the received bytes.
struct ParsedOp {
  v1::Envelope envelope;
  v1::OpHeader header;
  v1::ControlBody control;  // empty for content ops
  Bytes digest;
  Bytes envelope_hash;
};

// Size limits, version, id lengths, kind/body agreement. Does not check the signature; an empty
// one is allowed on content ops only (a push's unsigned run, docs/protocol.md).
Result<ParsedOp> ParseEnvelope(const v1::Envelope& env);
// The same checks, without copying the envelope into the result (its `envelope` stays empty):
// for a verifier that keeps `env` alive and reads it there.
Result<ParsedOp> ParseEnvelopeFields(const v1::Envelope& env);
// Where ParseEnvelopeInto puts what it parses: the caller's own messages, e.g. on a protobuf
// arena (kringd parses a push's headers on its request's arena: no string object is allocated
// and freed per header field).
struct ParsedOpFields {
  v1::OpHeader& header;
  v1::ControlBody& control;
  Bytes& digest;
  Bytes& envelope_hash;
};
// ParseEnvelopeFields' checks and hashes, into `op`. The messages may be reused from an earlier
// envelope (a verifier parses each page into the last page's messages, so their strings keep
// their allocations): the header is parsed anew and the control body cleared for a content op.
// On an error `op` holds a partial parse and must not be read.
Status ParseEnvelopeInto(const v1::Envelope& env, const ParsedOpFields& op);
bool IsControl(v1::OpKind kind);

}  // namespace kring::protocol
