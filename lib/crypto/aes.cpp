#include "rsp/crypto/aes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>

#include "ossl.hpp"

namespace rsp::crypto {

using detail::CipherCtxPtr;
using detail::fail;
using Code = CryptoError::Code;

namespace {

// Fetched once (detail::fetch_cipher): a BSP segment costs less to encrypt
// than a lookup.
const EVP_CIPHER* cbc_for(std::size_t key_len) {
  static const EVP_CIPHER* const aes128 = detail::fetch_cipher("AES-128-CBC");
  static const EVP_CIPHER* const aes192 = detail::fetch_cipher("AES-192-CBC");
  static const EVP_CIPHER* const aes256 = detail::fetch_cipher("AES-256-CBC");
  switch (key_len) {
    case 16: return aes128;
    case 24: return aes192;
    case 32: return aes256;
    default: return nullptr;
  }
}

constexpr std::uint8_t kZeroIv[kAesBlock] = {};

/// A context keyed for one direction, padding off; the IV is set per call.
CipherCtxPtr keyed(const EVP_CIPHER* cipher, ByteView key, bool encrypt) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1)
    return nullptr;
  return ctx;
}

/// Runs a keyed context over `data` from `iv`; the key schedule is kept.
CryptoResult<Bytes> run_keyed(EVP_CIPHER_CTX* ctx, const std::uint8_t* iv, ByteView data) {
  if (data.empty() || data.size() % kAesBlock != 0 || data.size() > INT_MAX / 2)
    return fail(Code::InvalidInput, "AES input must be a non-empty multiple of 16 bytes");
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv, -1, nullptr) != 1) return fail(Code::Internal, "AES init failed");
  Bytes out(data.size() + kAesBlock);
  int len1 = 0, len2 = 0;
  if (EVP_CipherUpdate(ctx, out.data(), &len1, data.data(), static_cast<int>(data.size())) != 1 ||
      EVP_CipherFinal_ex(ctx, out.data() + len1, &len2) != 1)
    return fail(Code::Internal, "AES operation failed");
  out.resize(static_cast<std::size_t>(len1 + len2));
  return out;
}

/// The doubling in GF(2^128) that makes CMAC's subkeys (NIST SP 800-38B §6.1).
std::array<std::uint8_t, kAesBlock> dbl(const std::uint8_t* in) {
  std::array<std::uint8_t, kAesBlock> out{};
  for (std::size_t i = 0; i < kAesBlock; ++i)
    out[i] = static_cast<std::uint8_t>((in[i] << 1) | (i + 1 < kAesBlock ? in[i + 1] >> 7 : 0));
  // Constant time: the reduction is applied through a mask, not a branch.
  out[kAesBlock - 1] ^= static_cast<std::uint8_t>(0x87 & (0 - (in[0] >> 7)));
  return out;
}

}  // namespace

// The one-shot functions are a key used once: one code path per operation.

CryptoResult<Bytes> aes_cmac(ByteView key, ByteView data) {
  RSP_TRY(AesKey k, AesKey::make(key));
  return k.cmac({data});
}

CryptoResult<Bytes> aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data) {
  RSP_TRY(AesKey k, AesKey::make(key));
  return k.cbc_encrypt(iv, data);
}

CryptoResult<Bytes> aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data) {
  RSP_TRY(AesKey k, AesKey::make(key));
  return k.cbc_decrypt(iv, data);
}

CryptoResult<Bytes> aes_encrypt_block(ByteView key, ByteView block) {
  RSP_TRY(AesKey k, AesKey::make(key));
  return k.encrypt_block(block);
}

struct AesKey::Contexts {
  Bytes key;         ///< the contexts below are keyed from it at first use
  CipherCtxPtr enc;  ///< CBC encryption; also one-block ECB (CBC under a zero IV) and CMAC
  CipherCtxPtr dec;
  bool subkeys = false;                             ///< k1 and k2 computed
  std::array<std::uint8_t, kAesBlock> k1{}, k2{};  ///< the CMAC subkeys
  ~Contexts() {
    wipe(key);
    OPENSSL_cleanse(k1.data(), k1.size());
    OPENSSL_cleanse(k2.data(), k2.size());
  }

  /// The context for one direction, keyed when first needed.
  CryptoResult<EVP_CIPHER_CTX*> context(bool encrypt) {
    CipherCtxPtr& ctx = encrypt ? enc : dec;
    if (!ctx) {
      ctx = keyed(cbc_for(key.size()), key, encrypt);
      if (!ctx) return fail(Code::Internal, "AES init failed");
    }
    return ctx.get();
  }
};

AesKey::AesKey(std::unique_ptr<Contexts> c) : c_(std::move(c)) {}
AesKey::AesKey(AesKey&&) noexcept = default;
AesKey& AesKey::operator=(AesKey&&) noexcept = default;
AesKey::~AesKey() = default;

CryptoResult<AesKey> AesKey::make(ByteView key) {
  if (cbc_for(key.size()) == nullptr) return fail(Code::InvalidInput, "AES key must be 16, 24 or 32 bytes");
  auto c = std::make_unique<Contexts>();
  c->key.assign(key.begin(), key.end());
  return AesKey(std::move(c));
}

/// CMAC (NIST SP 800-38B §6.2) as one CBC encryption under a zero IV of the
/// message whose last block is completed and masked with K1 or K2: a CMAC
/// that runs the cipher once per block costs more on long BSP segments.
CryptoResult<Bytes> AesKey::cmac(std::initializer_list<ByteView> parts) {
  RSP_TRY(EVP_CIPHER_CTX * enc, c_->context(true));
  if (!c_->subkeys) {
    RSP_TRY(Bytes l, run_keyed(enc, kZeroIv, ByteView(kZeroIv, kAesBlock)));
    c_->k1 = dbl(l.data());
    c_->k2 = dbl(c_->k1.data());
    c_->subkeys = true;
    wipe(l);
  }
  std::size_t total = 0;
  for (ByteView part : parts) total += part.size();
  const bool complete = total != 0 && total % kAesBlock == 0;
  const std::size_t blocks = complete ? total / kAesBlock : total / kAesBlock + 1;
  Bytes m(blocks * kAesBlock, 0);
  std::size_t at = 0;
  for (ByteView part : parts) {
    std::copy(part.begin(), part.end(), m.begin() + static_cast<std::ptrdiff_t>(at));
    at += part.size();
  }
  if (!complete) m[total] = 0x80;
  const auto& mask = complete ? c_->k1 : c_->k2;
  for (std::size_t i = 0; i < kAesBlock; ++i) m[m.size() - kAesBlock + i] ^= mask[i];
  auto chain = run_keyed(enc, kZeroIv, m);
  wipe(m);
  if (!chain) return unexpected(chain.error());
  Bytes out(chain->end() - kAesBlock, chain->end());
  wipe(*chain);
  return out;
}

CryptoResult<Bytes> AesKey::cbc_encrypt(ByteView iv, ByteView data) {
  if (iv.size() != kAesBlock) return fail(Code::InvalidInput, "IV must be 16 bytes");
  RSP_TRY(EVP_CIPHER_CTX * enc, c_->context(true));
  return run_keyed(enc, iv.data(), data);
}

CryptoResult<Bytes> AesKey::cbc_decrypt(ByteView iv, ByteView data) {
  if (iv.size() != kAesBlock) return fail(Code::InvalidInput, "IV must be 16 bytes");
  RSP_TRY(EVP_CIPHER_CTX * dec, c_->context(false));
  return run_keyed(dec, iv.data(), data);
}

CryptoResult<Bytes> AesKey::encrypt_block(ByteView block) {
  if (block.size() != kAesBlock) return fail(Code::InvalidInput, "block must be 16 bytes");
  RSP_TRY(EVP_CIPHER_CTX * enc, c_->context(true));
  return run_keyed(enc, kZeroIv, block);
}

Bytes pad_iso9797_m2(ByteView data) {
  Bytes out(data.begin(), data.end());
  out.push_back(0x80);
  while (out.size() % kAesBlock != 0) out.push_back(0x00);
  return out;
}

CryptoResult<Bytes> unpad_iso9797_m2(ByteView padded) {
  if (padded.empty() || padded.size() % kAesBlock != 0)
    return fail(Code::InvalidPadding, "padded data is not a multiple of the block size");
  // Only the last block can hold padding.
  std::size_t i = padded.size();
  std::size_t limit = padded.size() - kAesBlock;
  while (i > limit && padded[i - 1] == 0x00) --i;
  if (i == limit || padded[i - 1] != 0x80) return fail(Code::InvalidPadding, "bad padding");
  return Bytes(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(i - 1));
}

Bytes counter_block(std::uint64_t counter, std::uint8_t first_byte) {
  Bytes b(kAesBlock, 0);
  b[0] = first_byte;
  for (std::size_t i = 0; i < 8; ++i)
    b[kAesBlock - 1 - i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return b;
}

}  // namespace rsp::crypto
