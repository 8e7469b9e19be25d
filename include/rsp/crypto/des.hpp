#pragma once
/// DES and triple DES in CBC mode for SCP80 (ETSI TS 102 225 §5.1.2/§5.1.3):
/// single DES, and triple DES in outer-CBC mode (EDE, FIPS 46-3 / SP 800-67)
/// with two keys (K1||K2, K3 = K1) or three keys (K1||K2||K3). The DES CBC-MAC
/// is the last block of the CBC encryption from a zero ICV, computed with the
/// same outer-CBC triple DES (TS 102 225 §5.1.3). Keys are 8, 16 or 24 bytes;
/// an 8-byte key is single DES, run as EDE with K1 = K2 = K3.

#include <cstddef>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

inline constexpr std::size_t kDesBlock = 8;

/// CBC encryption without padding; `data` a non-empty multiple of 8 bytes.
CryptoResult<Bytes> des_cbc_encrypt(ByteView key, ByteView iv, ByteView data);
/// CBC decryption without padding; `data` a non-empty multiple of 8 bytes.
CryptoResult<Bytes> des_cbc_decrypt(ByteView key, ByteView iv, ByteView data);
/// CBC-MAC from a zero ICV: the last 8-byte block of the CBC encryption of
/// `data` (a non-empty multiple of 8; padding is the caller's business).
CryptoResult<Bytes> des_cbc_mac(ByteView key, ByteView data);

}  // namespace rsp::crypto
