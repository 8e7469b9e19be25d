#pragma once
/// AES primitives over EVP_CIPHER / EVP_MAC: CMAC (NIST SP 800-38B, RFC 4493),
/// CBC without padding, single-block ECB (for counter-derived ICVs), and the
/// ISO/IEC 9797-1 method 2 padding ('80' then '00's) that SCP03, SCP03t/BSP use.
/// Keys are 16, 24 or 32 bytes.

#include <cstddef>
#include <initializer_list>
#include <memory>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

inline constexpr std::size_t kAesBlock = 16;

/// Full 16-byte AES-CMAC.
CryptoResult<Bytes> aes_cmac(ByteView key, ByteView data);
/// AES-CBC encryption; `data` must be a non-empty multiple of 16 bytes.
CryptoResult<Bytes> aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data);
/// AES-CBC decryption; `data` must be a non-empty multiple of 16 bytes.
CryptoResult<Bytes> aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data);
/// AES of one 16-byte block (ECB), e.g. ICV = E(S-ENC, counter).
CryptoResult<Bytes> aes_encrypt_block(ByteView key, ByteView block);

/// One AES key ready for many operations, as a BSP session needs for the
/// segments of a profile package: the key schedules and the CMAC subkeys are
/// computed at first use, not at every call, and OpenSSL looks the algorithms
/// up once. The functions above are such a key used once. One user at a
/// time; the key material is wiped when it goes.
class AesKey {
 public:
  /// InvalidInput unless `key` is 16, 24 or 32 bytes.
  static CryptoResult<AesKey> make(ByteView key);
  AesKey(AesKey&&) noexcept;
  AesKey& operator=(AesKey&&) noexcept;
  ~AesKey();

  /// Full 16-byte AES-CMAC of the concatenation of `parts`.
  CryptoResult<Bytes> cmac(std::initializer_list<ByteView> parts);
  CryptoResult<Bytes> cbc_encrypt(ByteView iv, ByteView data);
  CryptoResult<Bytes> cbc_decrypt(ByteView iv, ByteView data);
  CryptoResult<Bytes> encrypt_block(ByteView block);

 private:
  struct Contexts;
  explicit AesKey(std::unique_ptr<Contexts> c);
  std::unique_ptr<Contexts> c_;
};

/// Appends '80' and zero or more '00' up to a multiple of 16 (always pads).
Bytes pad_iso9797_m2(ByteView data);
/// Strips ISO 9797-1 method 2 padding; InvalidPadding when absent or malformed.
CryptoResult<Bytes> unpad_iso9797_m2(ByteView padded);

/// A 16-byte block holding `counter` big-endian, left-padded with zeros.
Bytes counter_block(std::uint64_t counter, std::uint8_t first_byte = 0x00);

}  // namespace rsp::crypto
