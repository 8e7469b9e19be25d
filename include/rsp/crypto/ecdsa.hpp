#pragma once
/// ECDSA with SHA-256 on P-256 / brainpoolP256r1 (SGP.22 §2.6.5), and the two
/// signature encodings RSP uses:
///  - DER Ecdsa-Sig-Value (X9.62: SEQUENCE { r INTEGER, s INTEGER }), as in
///    X.509 certificates;
///  - plain r||s, 64 bytes (BSI TR-03111 §5.2.2), as in SGP.22 euiccSignature1/2,
///    serverSignature1/2 and smdpSignature2.

#include <cstddef>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

inline constexpr std::size_t kPlainSignatureSize = 64;
/// Longest DER encoding of a 256-bit curve signature (2 + 2 * (2 + 33)).
inline constexpr std::size_t kMaxDerSignatureSize = 72;

/// Signs SHA-256(message); DER encoding.
CryptoResult<Bytes> sign_der(const EcKey& key, ByteView message);
/// Signs SHA-256(message); plain r||s encoding (64 bytes).
CryptoResult<Bytes> sign_plain(const EcKey& key, ByteView message);

/// Verifies a DER signature over SHA-256(message). Malformed encodings give
/// InvalidSignature, a well-formed signature that does not match VerifyFailed.
CryptoResult<void> verify_der(const EcKey& key, ByteView message, ByteView signature);
/// Verifies a plain r||s signature (exactly 64 bytes) over SHA-256(message).
CryptoResult<void> verify_plain(const EcKey& key, ByteView message, ByteView signature);

/// DER -> r||s with strict X.690 DER parsing: one SEQUENCE of two positive,
/// minimally encoded INTEGERs of at most 32 significant bytes, short-form
/// lengths, no trailing bytes; r and s non-zero.
CryptoResult<Bytes> der_to_plain(ByteView der);
/// r||s (64 bytes, r and s non-zero) -> DER.
CryptoResult<Bytes> plain_to_der(ByteView plain);

}  // namespace rsp::crypto
