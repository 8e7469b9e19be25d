#include "rsp/crypto/aes.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>

#include "ossl.hpp"

namespace rsp::crypto {

using detail::CipherCtxPtr;
using detail::fail;
using Code = CryptoError::Code;

namespace {

// Fetched once: OpenSSL 3 looks an algorithm up again on every init when it
// is given the legacy EVP_aes_*() objects, which cost more than encrypting a
// BSP segment. Never freed.
const EVP_CIPHER* fetched(const char* name) { return EVP_CIPHER_fetch(nullptr, name, nullptr); }

const EVP_CIPHER* cbc_for(std::size_t key_len) {
  static const EVP_CIPHER* const aes128 = fetched("AES-128-CBC");
  static const EVP_CIPHER* const aes192 = fetched("AES-192-CBC");
  static const EVP_CIPHER* const aes256 = fetched("AES-256-CBC");
  switch (key_len) {
    case 16: return aes128;
    case 24: return aes192;
    case 32: return aes256;
    default: return nullptr;
  }
}

const EVP_CIPHER* ecb_for(std::size_t key_len) {
  static const EVP_CIPHER* const aes128 = fetched("AES-128-ECB");
  static const EVP_CIPHER* const aes192 = fetched("AES-192-ECB");
  static const EVP_CIPHER* const aes256 = fetched("AES-256-ECB");
  switch (key_len) {
    case 16: return aes128;
    case 24: return aes192;
    case 32: return aes256;
    default: return nullptr;
  }
}

const char* cmac_cipher_name(std::size_t key_len) {
  switch (key_len) {
    case 16: return "AES-128-CBC";
    case 24: return "AES-192-CBC";
    case 32: return "AES-256-CBC";
    default: return nullptr;
  }
}

CryptoResult<Bytes> run_cipher(const EVP_CIPHER* cipher, ByteView key, const std::uint8_t* iv,
                               ByteView data, bool encrypt) {
  if (cipher == nullptr) return fail(Code::InvalidInput, "AES key must be 16, 24 or 32 bytes");
  if (data.empty() || data.size() % kAesBlock != 0 || data.size() > INT_MAX / 2)
    return fail(Code::InvalidInput, "AES input must be a non-empty multiple of 16 bytes");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1)
    return fail(Code::Internal, "AES init failed");
  Bytes out(data.size() + kAesBlock);
  int len1 = 0, len2 = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len1, data.data(), static_cast<int>(data.size())) !=
          1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + len1, &len2) != 1)
    return fail(Code::Internal, "AES operation failed");
  out.resize(static_cast<std::size_t>(len1 + len2));
  return out;
}

}  // namespace

CryptoResult<Bytes> aes_cmac(ByteView key, ByteView data) {
  const char* name = cmac_cipher_name(key.size());
  if (name == nullptr) return fail(Code::InvalidInput, "AES key must be 16, 24 or 32 bytes");
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  if (mac == nullptr) return fail(Code::Internal, "CMAC unavailable");
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac),
                                                                 &EVP_MAC_CTX_free);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, const_cast<char*>(name), 0),
      OSSL_PARAM_construct_end()};
  Bytes out(kAesBlock);
  std::size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != kAesBlock)
    return fail(Code::Internal, "CMAC failed");
  return out;
}

CryptoResult<Bytes> aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data) {
  if (iv.size() != kAesBlock) return fail(Code::InvalidInput, "IV must be 16 bytes");
  return run_cipher(cbc_for(key.size()), key, iv.data(), data, true);
}

CryptoResult<Bytes> aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data) {
  if (iv.size() != kAesBlock) return fail(Code::InvalidInput, "IV must be 16 bytes");
  return run_cipher(cbc_for(key.size()), key, iv.data(), data, false);
}

CryptoResult<Bytes> aes_encrypt_block(ByteView key, ByteView block) {
  if (block.size() != kAesBlock) return fail(Code::InvalidInput, "block must be 16 bytes");
  return run_cipher(ecb_for(key.size()), key, nullptr, block, true);
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
