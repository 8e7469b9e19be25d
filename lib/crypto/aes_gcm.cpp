#include "rsp/crypto/aes_gcm.hpp"

#include <openssl/evp.h>

#include <climits>

#include "ossl.hpp"

namespace rsp::crypto {

using detail::CipherCtxPtr;
using detail::fail;
using Code = CryptoError::Code;

namespace {

const EVP_CIPHER* gcm_for(std::size_t key_len) {
  static const EVP_CIPHER* const aes128 = detail::fetch_cipher("AES-128-GCM");
  static const EVP_CIPHER* const aes192 = detail::fetch_cipher("AES-192-GCM");
  static const EVP_CIPHER* const aes256 = detail::fetch_cipher("AES-256-GCM");
  switch (key_len) {
    case 16: return aes128;
    case 24: return aes192;
    case 32: return aes256;
    default: return nullptr;
  }
}

/// Checks the sizes and starts one direction under key and nonce (12 bytes
/// is GCM's default IV length), then feeds the additional data.
CryptoResult<CipherCtxPtr> start(ByteView key, ByteView nonce, ByteView aad, std::size_t data_size, bool encrypt) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (!cipher) return fail(Code::InvalidInput, "AES-GCM key must be 16, 24 or 32 bytes");
  if (nonce.size() != kGcmNonceSize) return fail(Code::InvalidInput, "AES-GCM nonce must be 12 bytes");
  if (data_size > INT_MAX - kGcmTagSize || aad.size() > INT_MAX) return fail(Code::InvalidInput, "AES-GCM input too long");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nonce.data(), encrypt ? 1 : 0, nullptr) != 1)
    return fail(Code::Internal, "AES-GCM init failed");
  int len = 0;
  if (!aad.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return fail(Code::Internal, "AES-GCM additional data failed");
  return ctx;
}

}  // namespace

CryptoResult<Bytes> aes_gcm_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
  RSP_TRY(CipherCtxPtr ctx, start(key, nonce, aad, plaintext.size(), true));
  Bytes out(plaintext.size() + kGcmTagSize);
  int len = 0, tail = 0;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1)
    return fail(Code::Internal, "AES-GCM encryption failed");
  // GCM is a stream mode: nothing is left for the final call to write.
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1 ||
      static_cast<std::size_t>(len + tail) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kGcmTagSize),
                          out.data() + plaintext.size()) != 1)
    return fail(Code::Internal, "AES-GCM encryption failed");
  return out;
}

CryptoResult<Bytes> aes_gcm_open(ByteView key, ByteView nonce, ByteView aad, ByteView sealed) {
  if (sealed.size() < kGcmTagSize) return fail(Code::InvalidInput, "AES-GCM data is shorter than its tag");
  const std::size_t n = sealed.size() - kGcmTagSize;
  RSP_TRY(CipherCtxPtr ctx, start(key, nonce, aad, n, false));
  Bytes out(n);
  int len = 0, tail = 0;
  if (n > 0 && EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), static_cast<int>(n)) != 1)
    return fail(Code::Internal, "AES-GCM decryption failed");
  Bytes tag(sealed.begin() + static_cast<std::ptrdiff_t>(n), sealed.end());
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kGcmTagSize), tag.data()) != 1)
    return fail(Code::Internal, "AES-GCM decryption failed");
  std::uint8_t none[kGcmTagSize];  // the final call writes nothing in GCM
  if (EVP_DecryptFinal_ex(ctx.get(), none, &tail) != 1) {
    wipe(out);
    return fail(Code::MacMismatch, "AES-GCM tag does not verify");
  }
  return out;
}

}  // namespace rsp::crypto
