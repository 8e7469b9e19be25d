#pragma once
/// SHA-256 (FIPS 180-4): the hash under every SGP.22 signature, hashCc
/// (SGP.22 §3.1.3), operators' API key hashes and the certificate memos' keys.

#include <array>
#include <cstdint>

#include "rsp/common/bytes.hpp"

namespace rsp::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

/// The digest of `data` into `out`; false only when OpenSSL cannot hash.
bool sha256(ByteView data, Sha256Digest& out);
/// The digest as bytes; empty only when OpenSSL cannot hash.
Bytes sha256(ByteView data);

}  // namespace rsp::crypto
