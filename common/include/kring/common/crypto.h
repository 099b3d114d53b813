// Thin, typed wrappers over the libsodium 1.0.18 calls listed in DESIGN section 10.
#pragma once

#include <cstdint>
#include <string_view>

#include "kring/common/bytes.h"
#include "kring/common/status.h"

namespace kring::crypto {

inline constexpr size_t kIdBytes = 16;
inline constexpr size_t kHashBytes = 32;
inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kNonceBytes = 24;
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSealOverhead = 48;
inline constexpr size_t kAeadOverhead = 16;

// Calls sodium_init() once per process; safe from any thread. Aborts if libsodium cannot start.
void EnsureInitialized();

Bytes RandomBytes(size_t n);
SecretBytes RandomSecret(size_t n);

// Domain-separated BLAKE2b. The label is absorbed first; every variable-length part is framed
// as u64 little-endian length followed by the bytes; integers are 8 bytes little-endian.
class Hasher {
 public:
  Hasher(std::string_view label, size_t out_len = kHashBytes, ByteView key = {});
  Hasher& Add(ByteView part);
  Hasher& Add(std::string_view part) { return Add(View(part)); }
  Hasher& AddU64(uint64_t v);
  Bytes Finish();
  // The same digest into `out`, which must be out_len bytes: no allocation (for the hashes a
  // catch-up computes per op).
  void FinishInto(std::span<uint8_t> out);

 private:
  friend class HasherStart;
  Hasher() = default;  // HasherStart::Start fills it
  void AbsorbRaw(const uint8_t* data, size_t len);
  alignas(64) unsigned char state_[384];
  size_t out_len_;
};

// A keyed Hasher as it starts (key and label absorbed), kept for many hashes with that key and
// label: each Start() is a copy of it, a tenth of setting one up. The state holds the key
// (BLAKE2b keeps the key block until its first compression), so it lives in memory that is wiped
// when freed, as a SecretBytes key does; a Hasher wipes its state when it finishes.
class HasherStart {
 public:
  HasherStart(std::string_view label, size_t out_len, ByteView key);
  Hasher Start() const;

 private:
  SecretBytes state_;  // a Hasher's bytes
};

struct SigningKeyPair {
  Bytes public_key;        // 32
  SecretBytes secret_key;  // 64 (seed || public key)
};
struct BoxKeyPair {
  Bytes public_key;        // 32
  SecretBytes secret_key;  // 32
};

SigningKeyPair SigningKeyPairFromSeed(ByteView seed32);
SigningKeyPair NewSigningKeyPair();
BoxKeyPair BoxKeyPairFromSeed(ByteView seed32);
BoxKeyPair NewBoxKeyPair();

Bytes Sign(ByteView secret_key, ByteView message);
bool Verify(ByteView public_key, ByteView message, ByteView signature);

Bytes Seal(ByteView recipient_public_key, ByteView plaintext);
Result<SecretBytes> SealOpen(const BoxKeyPair& keys, ByteView sealed);

// 32-byte subkey via crypto_kdf_derive_from_key; context is exactly 8 characters.
SecretBytes DeriveKey(ByteView master32, uint64_t id, std::string_view context8);

Bytes AeadEncrypt(ByteView key, ByteView nonce, ByteView plaintext, ByteView ad);
// The same into `out` (exactly plaintext.size() + kAeadOverhead bytes, apart from `plaintext` or
// starting at its first byte: in place), for a record that holds the ciphertext without a copy.
void AeadEncryptInto(ByteView key, ByteView nonce, ByteView plaintext, ByteView ad,
                     std::span<uint8_t> out);
Result<SecretBytes> AeadDecrypt(ByteView key, ByteView nonce, ByteView ciphertext, ByteView ad);
// The same into `out` (at least ciphertext.size() - kAeadOverhead bytes; a buffer the caller
// reuses, so no allocation per call): the plaintext's size, or AeadDecrypt's errors.
Result<size_t> AeadDecryptInto(ByteView key, ByteView nonce, ByteView ciphertext, ByteView ad,
                               std::span<uint8_t> out);

// ISO/IEC 7816-4 padding to a multiple of block_size (sodium_pad).
Bytes Pad(ByteView data, size_t block_size);
// Built on UnpaddedSize, so the same holds: not in constant time, only for a plaintext the AEAD
// has authenticated.
Result<Bytes> Unpad(ByteView data, size_t block_size);
// The length of `data` without its padding, for a caller that reads the data in place. Not in
// constant time: only for a plaintext the AEAD has authenticated (crypto.cpp says why).
Result<size_t> UnpaddedSize(ByteView data, size_t block_size);

}  // namespace kring::crypto
