#pragma once
/// brainpoolP256r1 (RFC 5639 §3.4) scalar multiplication, ECDSA and ECKA on
/// our own constant-time field arithmetic. Internal to the crypto component.
///
/// Why not OpenSSL: OpenSSL 3.0 has tuned code for P-256 only; on brainpool
/// it runs generic bignum arithmetic and a ladder that cannot use a
/// precomputed table, about 0.3 ms per operation, and an SGP.22 download
/// needs eight on the eUICC side. Keys, certificates, X.509 and TLS stay with
/// OpenSSL; this file only does the curve arithmetic of sign, verify, ECKA
/// and public-key derivation. Tests check it against OpenSSL.

#include <array>
#include <cstdint>
#include <optional>

namespace rsp::crypto::brainpool {

using Scalar = std::array<std::uint8_t, 32>;  ///< big-endian
using Point = std::array<std::uint8_t, 65>;   ///< 04 || X || Y
using Signature = std::array<std::uint8_t, 64>;  ///< r || s (BSI TR-03111 §5.2.2)

/// Whether `d` is a valid private scalar: 0 < d < n.
bool valid_scalar(const Scalar& d);

/// Whether `q` is 04||X||Y with X, Y < p and on the curve (the cofactor is 1,
/// so that is a full public-key validation).
bool valid_point(const Point& q);

/// d·G; nullopt when d is not a valid scalar.
std::optional<Point> public_point(const Scalar& d);

/// ECDSA over a 32-byte digest (X9.62 / BSI TR-03111 §4.2.1.1) with a fresh
/// random nonce; nullopt when d is not valid or no randomness is available.
std::optional<Signature> sign(const Scalar& d, const std::array<std::uint8_t, 32>& digest);

/// ECDSA verification; false for r or s outside [1, n-1] or an invalid point.
bool verify(const Point& q, const std::array<std::uint8_t, 32>& digest, const Signature& rs);

/// ECKA-DH (BSI TR-03111 §4.3.1): x(d·Q); nullopt for an invalid scalar or point.
std::optional<Scalar> shared_secret(const Scalar& d, const Point& q);

}  // namespace rsp::crypto::brainpool
