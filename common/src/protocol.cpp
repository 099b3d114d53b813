#include "kring/common/protocol.h"

#include "kring/common/crypto.h"

namespace kring::protocol {

using crypto::Hasher;

Bytes InviteId(ByteView pk) { return Hasher("kring-invite-id-v1", 16).Add(pk).Finish(); }

Bytes InviteAcceptInput(ByteView case_id, ByteView invite_id, ByteView account_id) {
  return Hasher("kring-invite-accept-v1").Add(case_id).Add(invite_id).Add(account_id).Finish();
}

bool VerifyInviteProof(const v1::Invite& invite, ByteView case_id, ByteView account_id,
                       ByteView proof) {
  return crypto::Verify(View(invite.signing_public_key()),
                        InviteAcceptInput(case_id, View(invite.invite_id()), account_id), proof);
}

Bytes DeviceId(ByteView pk) { return Hasher("kring-device-id-v1", 16).Add(pk).Finish(); }
Bytes AccountId(ByteView root) { return Hasher("kring-account-id-v1", 16).Add(root).Finish(); }
Bytes ServerId(ByteView pk) { return Hasher("kring-server-id-v1", 16).Add(pk).Finish(); }

Bytes LinkHash(ByteView body) { return Hasher("kring-chain-link-v1").Add(body).Finish(); }
Bytes LinkSignInput(ByteView body) { return Hasher("kring-chain-link-sig-v1").Add(body).Finish(); }

Bytes AuthSignInput(ByteView server_id, ByteView challenge, ByteView device_id) {
  return Hasher("kring-auth-v1")
      .Add(server_id)
      .Add(challenge)
      .Add(device_id)
      .Add("sign-in")
      .Finish();
}

Bytes RecoveryChainSignInput(ByteView server_id, ByteView challenge, ByteView recovery_device_id) {
  return Hasher("kring-auth-v1")
      .Add(server_id)
      .Add(challenge)
      .Add(recovery_device_id)
      .Add("recovery-chain")
      .Finish();
}

namespace {

// The hashes a catch-up computes for every op start from a copy of a hasher that has absorbed
// their label, made once: setting one up again (libsodium's init and the label) costs about 300
// instructions, the copy a tenth of that. The digest is the same. Keyless hashers only: the state
// of a keyed one holds its key.
const Hasher& OpDigestStart() {
  static const Hasher start("kring-op-v1");
  return start;
}
const Hasher& EnvelopeHashStart() {
  static const Hasher start("kring-envelope-v1");
  return start;
}

// OpDigest into `out` (kHashBytes).
void OpDigestInto(const v1::Envelope& env, std::span<uint8_t> out) {
  Hasher(OpDigestStart())
      .Add(env.header())
      .Add(env.nonce())
      .Add(env.key_commitment())
      .Add(env.ciphertext())
      .Add(env.control_body())
      .FinishInto(out);
}

}  // namespace

Bytes OpDigest(const v1::Envelope& env) {
  Bytes out(crypto::kHashBytes);
  OpDigestInto(env, out);
  return out;
}

Bytes EnvelopeHash(const v1::Envelope& env) {
  return Hasher(EnvelopeHashStart()).Add(OpDigest(env)).Add(env.signature()).Finish();
}

Bytes ChainHash(ByteView prev, uint64_t seq, ByteView envelope_hash) {
  const HashArray h = ChainHashArray(prev, seq, envelope_hash);
  return Bytes(h.begin(), h.end());
}

HashArray ChainHashArray(ByteView prev, uint64_t seq, ByteView envelope_hash) {
  static const Hasher start("kring-chain-v1");  // as OpDigestStart
  HashArray out{};
  Hasher(start).Add(prev).AddU64(seq).Add(envelope_hash).FinishInto(out);
  return out;
}

Bytes AssociatedData(ByteView header, ByteView control_body) {
  const HashArray h = AssociatedDataArray(header, control_body);
  return Bytes(h.begin(), h.end());
}

HashArray AssociatedDataArray(ByteView header, ByteView control_body) {
  static const Hasher start("kring-op-ad-v1");  // as OpDigestStart
  HashArray out{};
  Hasher(start).Add(header).Add(control_body).FinishInto(out);
  return out;
}

Bytes ReceiptSignInput(ByteView case_id, uint64_t seq, ByteView chain_hash, int64_t time_ms) {
  return Hasher("kring-receipt-v1")
      .Add(case_id)
      .AddU64(seq)
      .Add(chain_hash)
      .AddU64(static_cast<uint64_t>(time_ms))
      .Finish();
}

bool VerifyReceipt(const v1::Receipt& r, ByteView server_public_key) {
  Bytes input = ReceiptSignInput(View(r.case_id()), r.seq(), View(r.chain_hash()), r.time_ms());
  return crypto::Verify(server_public_key, input, View(r.signature()));
}

v1::Receipt MakeReceipt(ByteView case_id, uint64_t seq, ByteView chain_hash, int64_t time_ms,
                        ByteView server_secret_key) {
  v1::Receipt r;
  r.set_case_id(ToString(case_id));
  r.set_seq(seq);
  r.set_chain_hash(ToString(chain_hash));
  r.set_time_ms(time_ms);
  r.set_signature(ToString(
      crypto::Sign(server_secret_key, ReceiptSignInput(case_id, seq, chain_hash, time_ms))));
  return r;
}

SecretBytes DeriveEpochSubkey(ByteView epoch_key, EpochSubkey which) {
  return crypto::DeriveKey(epoch_key, static_cast<uint64_t>(which), "kringepk");
}

Bytes EpochKeyCommitment(ByteView epoch_key, ByteView case_id, uint32_t scope_id, uint64_t epoch) {
  SecretBytes k = DeriveEpochSubkey(epoch_key, EpochSubkey::kCommitment);
  return Hasher("kring-epoch-commit-v1", 32, k)
      .Add(case_id)
      .AddU64(scope_id)
      .AddU64(epoch)
      .Finish();
}

Bytes OpKeyCommitment(ByteView epoch_key, ByteView nonce) {
  return OpKeyCommitmentWithSubkey(DeriveEpochSubkey(epoch_key, EpochSubkey::kCommitment), nonce);
}

Bytes OpKeyCommitmentWithSubkey(ByteView commitment_subkey, ByteView nonce) {
  const HashArray h = OpKeyCommitmentArray(commitment_subkey, nonce);
  return Bytes(h.begin(), h.end());
}

constexpr std::string_view kOpKeyCommitLabel = "kring-op-key-commit-v1";

HashArray OpKeyCommitmentArray(ByteView commitment_subkey, ByteView nonce) {
  // One op (sealing): set up here, no copy of the key's state kept.
  HashArray out{};
  Hasher(kOpKeyCommitLabel, crypto::kHashBytes, commitment_subkey).Add(nonce).FinishInto(out);
  return out;
}

crypto::HasherStart OpKeyCommitmentStart(ByteView commitment_subkey) {
  return crypto::HasherStart(kOpKeyCommitLabel, crypto::kHashBytes, commitment_subkey);
}

HashArray OpKeyCommitmentArray(const crypto::HasherStart& start, ByteView nonce) {
  HashArray out{};
  start.Start().Add(nonce).FinishInto(out);
  return out;
}

std::string EpochFingerprint(ByteView epoch_key, ByteView case_id, uint32_t scope_id,
                             uint64_t epoch) {
  SecretBytes k = DeriveEpochSubkey(epoch_key, EpochSubkey::kFingerprint);
  Bytes h = Hasher("kring-epoch-fingerprint-v1", 32, k)
                .Add(case_id)
                .AddU64(scope_id)
                .AddU64(epoch)
                .Finish();
  std::string out;
  for (size_t group = 0; group < 3; ++group) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | h[group * 8 + i];
    std::string digits = std::to_string(v % 10000);
    if (!out.empty()) out += ' ';
    out += std::string(4 - digits.size(), '0') + digits;
  }
  return out;
}

namespace {
Bytes BackLinkAd(ByteView case_id, uint32_t scope_id, uint64_t new_epoch) {
  return Hasher("kring-backlink-v1").Add(case_id).AddU64(scope_id).AddU64(new_epoch).Finish();
}
}  // namespace

Bytes SealPreviousKey(ByteView new_epoch_key, ByteView previous_key, ByteView case_id,
                      uint32_t scope_id, uint64_t new_epoch) {
  SecretBytes k = DeriveEpochSubkey(new_epoch_key, EpochSubkey::kBackLink);
  Bytes nonce = crypto::RandomBytes(crypto::kNonceBytes);
  Bytes ct = crypto::AeadEncrypt(k, nonce, previous_key, BackLinkAd(case_id, scope_id, new_epoch));
  nonce.insert(nonce.end(), ct.begin(), ct.end());
  return nonce;
}

Result<SecretBytes> OpenPreviousKey(ByteView new_epoch_key, ByteView box, ByteView case_id,
                                    uint32_t scope_id, uint64_t new_epoch) {
  if (box.size() != crypto::kNonceBytes + crypto::kKeyBytes + crypto::kAeadOverhead) {
    return InvalidArgument("malformed back-link");
  }
  SecretBytes k = DeriveEpochSubkey(new_epoch_key, EpochSubkey::kBackLink);
  return crypto::AeadDecrypt(k, box.first(crypto::kNonceBytes), box.subspan(crypto::kNonceBytes),
                             BackLinkAd(case_id, scope_id, new_epoch));
}

bool IsControl(v1::OpKind kind) {
  return kind == v1::OP_KIND_CREATE_CASE || kind == v1::OP_KIND_REKEY ||
         kind == v1::OP_KIND_ADD_MEMBER || kind == v1::OP_KIND_REMOVE_MEMBER ||
         kind == v1::OP_KIND_INVITE || kind == v1::OP_KIND_REVOKE_INVITE ||
         kind == v1::OP_KIND_ACCEPT_INVITE || kind == v1::OP_KIND_DECLINE_MEMBER ||
         kind == v1::OP_KIND_SET_SCOPE || kind == v1::OP_KIND_CLOSE_CASE ||
         kind == v1::OP_KIND_ERASE_CASE || kind == v1::OP_KIND_COMPLAINT ||
         kind == v1::OP_KIND_SET_ROLE;
}

Result<ParsedOp> ParseEnvelope(const v1::Envelope& env) {
  KRING_ASSIGN_OR_RETURN(ParsedOp op, ParseEnvelopeFields(env));
  op.envelope = env;
  return op;
}

Result<ParsedOp> ParseEnvelopeFields(const v1::Envelope& env) {
  ParsedOp op;
  KRING_RETURN_IF_ERROR(
      ParseEnvelopeInto(env, {op.header, op.control, op.digest, op.envelope_hash}));
  return op;
}

Status ParseEnvelopeInto(const v1::Envelope& env, const ParsedOpFields& op) {
  if (env.ByteSizeLong() > kMaxEnvelopeBytes) return InvalidArgument("envelope too large");
  if (env.header().empty() || env.header().size() > kMaxHeaderBytes) {
    return InvalidArgument("envelope header missing or too large");
  }
  if (env.control_body().size() > kMaxControlBodyBytes) {
    return InvalidArgument("control body too large");
  }
  // Empty: a content op inside a push's unsigned run, authenticated by the hash links to the
  // run's signed last op (docs/protocol.md "Batch signatures"); only content ops may be so.
  if (!env.signature().empty() && env.signature().size() != crypto::kSignatureBytes) {
    return InvalidArgument("signature must be 64 bytes");
  }
  if (!op.header.ParseFromString(env.header())) return InvalidArgument("malformed header");
  const v1::OpHeader& h = op.header;
  if (h.version() != kVersion) return InvalidArgument("unknown header version");
  if (h.case_id().size() != crypto::kIdBytes) return InvalidArgument("case_id must be 16 bytes");
  if (h.author_account_id().size() != crypto::kIdBytes ||
      h.author_device_id().size() != crypto::kIdBytes) {
    return InvalidArgument("author ids must be 16 bytes");
  }
  if (h.client_op_id().size() != crypto::kIdBytes) {
    return InvalidArgument("client_op_id must be 16 bytes");
  }
  if (h.device_counter() == 0) return InvalidArgument("device_counter starts at 1");
  if (h.device_counter() == 1 ? !h.prev_device_op_hash().empty()
                              : h.prev_device_op_hash().size() != crypto::kHashBytes) {
    return InvalidArgument("prev_device_op_hash does not fit device_counter");
  }
  if (h.seen_seq() == 0 ? !h.seen_hash().empty() : h.seen_hash().size() != crypto::kHashBytes) {
    return InvalidArgument("seen_hash does not fit seen_seq");
  }
  if (h.epoch() == 0) return InvalidArgument("epoch starts at 1");
  if (h.kind() == v1::OP_KIND_CONTENT) {
    if (env.nonce().size() != crypto::kNonceBytes ||
        env.key_commitment().size() != crypto::kHashBytes ||
        env.ciphertext().size() < crypto::kAeadOverhead || !env.control_body().empty()) {
      return InvalidArgument("malformed content op");
    }
    // A content op has no control body; `op.control` may be a message reused from an earlier
    // (control) op, so it must not keep that op's body (empty already: a few instructions).
    op.control.Clear();
  } else if (IsControl(h.kind())) {
    // A control op stands alone or ends a run: it is always signed.
    if (env.signature().empty()) return InvalidArgument("control ops must be signed");
    if (!env.nonce().empty() || !env.key_commitment().empty() || !env.ciphertext().empty()) {
      return InvalidArgument("control ops carry no ciphertext");
    }
    if (!op.control.ParseFromString(env.control_body())) {
      return InvalidArgument("malformed control body");
    }
    bool fits = (h.kind() == v1::OP_KIND_CREATE_CASE && op.control.has_create_case()) ||
                (h.kind() == v1::OP_KIND_REKEY && op.control.has_rekey()) ||
                (h.kind() == v1::OP_KIND_ADD_MEMBER && op.control.has_add_member()) ||
                (h.kind() == v1::OP_KIND_REMOVE_MEMBER && op.control.has_remove_member()) ||
                (h.kind() == v1::OP_KIND_INVITE && op.control.has_invite()) ||
                (h.kind() == v1::OP_KIND_REVOKE_INVITE && op.control.has_revoke_invite()) ||
                (h.kind() == v1::OP_KIND_ACCEPT_INVITE && op.control.has_accept_invite()) ||
                (h.kind() == v1::OP_KIND_DECLINE_MEMBER && op.control.has_decline_member()) ||
                (h.kind() == v1::OP_KIND_SET_SCOPE && op.control.has_set_scope()) ||
                (h.kind() == v1::OP_KIND_CLOSE_CASE && op.control.has_close_case()) ||
                (h.kind() == v1::OP_KIND_ERASE_CASE && op.control.has_erase_case()) ||
                (h.kind() == v1::OP_KIND_COMPLAINT && op.control.has_complaint()) ||
                (h.kind() == v1::OP_KIND_SET_ROLE && op.control.has_set_role());
    if (!fits) return InvalidArgument("control body does not match op kind");
    if (h.kind() == v1::OP_KIND_REKEY &&
        (op.control.rekey().scope_id() != h.scope_id() ||
         op.control.rekey().new_epoch() != h.epoch() ||
         op.control.rekey().key_commitment().size() != crypto::kHashBytes ||
         !(op.control.rekey().previous_key_box().empty() ||
           op.control.rekey().previous_key_box().size() ==
               crypto::kNonceBytes + crypto::kKeyBytes + crypto::kAeadOverhead))) {
      return InvalidArgument("rekey body does not match its header");
    }
    if (h.kind() == v1::OP_KIND_ADD_MEMBER &&
        op.control.add_member().member().account_id().size() != crypto::kIdBytes) {
      return InvalidArgument("added member account_id must be 16 bytes");
    }
    if (h.kind() == v1::OP_KIND_REMOVE_MEMBER &&
        op.control.remove_member().account_id().size() != crypto::kIdBytes) {
      return InvalidArgument("removed member account_id must be 16 bytes");
    }
    if (h.kind() == v1::OP_KIND_INVITE &&
        (op.control.invite().signing_public_key().size() != crypto::kPublicKeyBytes ||
         !ConstantTimeEqual(View(op.control.invite().invite_id()),
                            InviteId(View(op.control.invite().signing_public_key()))))) {
      return InvalidArgument("invite id does not match its key");
    }
    if (h.kind() == v1::OP_KIND_REVOKE_INVITE &&
        op.control.revoke_invite().invite_id().size() != crypto::kIdBytes) {
      return InvalidArgument("invite id must be 16 bytes");
    }
    if (h.kind() == v1::OP_KIND_ACCEPT_INVITE &&
        (op.control.accept_invite().invite_id().size() != crypto::kIdBytes ||
         op.control.accept_invite().proof().size() != crypto::kSignatureBytes)) {
      return InvalidArgument("malformed invite acceptance");
    }
    if (h.kind() == v1::OP_KIND_DECLINE_MEMBER &&
        op.control.decline_member().account_id().size() != crypto::kIdBytes) {
      return InvalidArgument("declined account_id must be 16 bytes");
    }
    if (h.kind() == v1::OP_KIND_SET_SCOPE) {
      const v1::SetScope& ss = op.control.set_scope();
      if (ss.scope_id() == 0 || h.scope_id() != 0) {
        return InvalidArgument("a scope change names a restricted scope and is sent in scope 0");
      }
      if (ss.members_size() < 1 || static_cast<size_t>(ss.members_size()) > kMaxCaseMembers) {
        return InvalidArgument("a scope has 1.." + std::to_string(kMaxCaseMembers) + " members");
      }
      for (const std::string& m : ss.members()) {
        if (m.size() != crypto::kIdBytes) return InvalidArgument("scope member must be 16 bytes");
      }
    }
    if ((h.kind() == v1::OP_KIND_CLOSE_CASE || h.kind() == v1::OP_KIND_ERASE_CASE ||
         h.kind() == v1::OP_KIND_COMPLAINT || h.kind() == v1::OP_KIND_SET_ROLE) &&
        h.scope_id() != 0) {
      return InvalidArgument("closing, erasing, complaints and role changes use scope 0");
    }
    if (h.kind() == v1::OP_KIND_SET_ROLE &&
        op.control.set_role().account_id().size() != crypto::kIdBytes) {
      return InvalidArgument("account_id of a role change must be 16 bytes");
    }
    if (h.kind() == v1::OP_KIND_COMPLAINT &&
        (op.control.complaint().rekey_seq() == 0 || op.control.complaint().epoch() == 0 ||
         op.control.complaint().reason().size() > kMaxComplaintReasonBytes)) {
      return InvalidArgument("malformed complaint");
    }
    if (h.kind() == v1::OP_KIND_CLOSE_CASE &&
        op.control.close_case().retention_days() > kMaxRetentionDays) {
      return InvalidArgument("retention is at most " + std::to_string(kMaxRetentionDays) + " days");
    }
    if (h.kind() == v1::OP_KIND_REKEY && h.scope_id() != 0 &&
        !op.control.rekey().previous_key_box().empty()) {
      return InvalidArgument("restricted scopes carry no history back-link");
    }
  } else {
    return InvalidArgument("unknown op kind");
  }
  // Into the caller's buffers: a verifier's parse reuses those of the page two before (no
  // allocation per op).
  op.digest.resize(crypto::kHashBytes);
  OpDigestInto(env, op.digest);
  op.envelope_hash.resize(crypto::kHashBytes);
  Hasher(EnvelopeHashStart()).Add(op.digest).Add(env.signature()).FinishInto(op.envelope_hash);
  return {};
}

}  // namespace kring::protocol
