#pragma once
/// Key derivation functions.

#include <cstddef>
#include <cstdint>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

/// ANSI X9.63 KDF with SHA-256 (BSI TR-03111 §4.3.3, SEC 1 §3.6.1):
/// K = H(Z || 00000001 || SharedInfo) || H(Z || 00000002 || SharedInfo) ...
/// truncated to `length` bytes (1..4096).
CryptoResult<Bytes> x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t length);

/// NIST SP 800-108 KDF in counter mode with AES-CMAC as PRF, laid out as
/// GlobalPlatform Amendment D §4.1.5 prescribes: each block is
/// CMAC(key, label(11 x 00 || constant) || 00 || L (2 bytes, bits) || i || context).
/// `length_bits` is a multiple of 8 up to 0xFFFF.
CryptoResult<Bytes> sp800_108_cmac_gp(ByteView key, std::uint8_t derivation_constant,
                                      ByteView context, std::uint16_t length_bits);

}  // namespace rsp::crypto
