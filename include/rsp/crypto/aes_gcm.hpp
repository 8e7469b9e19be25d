#pragma once
/// AES-GCM authenticated encryption (NIST SP 800-38D) over OpenSSL EVP, with
/// 96-bit nonces and full 128-bit tags: what is sealed is ciphertext || tag.
/// For secrets at rest, such as the SM-DP+'s stored profile packages. A nonce
/// must never be used twice under one key; callers draw it at random (one
/// message per fresh key, or few enough messages under one key).

#include <cstddef>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

inline constexpr std::size_t kGcmNonceSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;

/// Encrypts `plaintext` under `key` (16, 24 or 32 bytes) and `nonce` (12
/// bytes) and authenticates it together with `aad`; returns ciphertext ||
/// tag (plaintext size + 16). InvalidInput for wrong key or nonce sizes.
CryptoResult<Bytes> aes_gcm_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext);
/// The plaintext of `sealed` (ciphertext || tag). MacMismatch, with no
/// plaintext released, when the tag does not verify: another key, nonce or
/// `aad`, or changed data. InvalidInput for wrong sizes.
CryptoResult<Bytes> aes_gcm_open(ByteView key, ByteView nonce, ByteView aad, ByteView sealed);

}  // namespace rsp::crypto
