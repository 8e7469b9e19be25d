#include "rsp/crypto/des.hpp"

#include <openssl/evp.h>

#include <climits>

#include "ossl.hpp"

namespace rsp::crypto {

using detail::CipherCtxPtr;
using detail::fail;
using Code = CryptoError::Code;

namespace {

/// Expands the key to the 24 bytes of a three-key EDE schedule: K1 K2 K1 for
/// two keys, K1 K1 K1 for single DES (EDE with equal keys is one DES).
bool ede3_key(ByteView key, std::uint8_t (&out)[24]) {
  const std::size_t n = key.size();
  if (n != 8 && n != 16 && n != 24) return false;
  for (std::size_t i = 0; i < 24; ++i) out[i] = key[i % n];
  return true;
}

CryptoResult<Bytes> run(ByteView key, ByteView iv, ByteView data, bool encrypt) {
  static const EVP_CIPHER* const cipher = detail::fetch_cipher("DES-EDE3-CBC");
  if (data.empty() || data.size() % kDesBlock != 0 || data.size() > INT_MAX / 2)
    return fail(Code::InvalidInput, "DES input must be a non-empty multiple of 8 bytes");
  if (iv.size() != kDesBlock) return fail(Code::InvalidInput, "DES ICV must be 8 bytes");
  std::uint8_t k[24];
  if (!ede3_key(key, k)) return fail(Code::InvalidInput, "DES key must be 8, 16 or 24 bytes");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(data.size() + kDesBlock);
  int len1 = 0, len2 = 0;
  const bool ok = cipher != nullptr && ctx &&
                  EVP_CipherInit_ex2(ctx.get(), cipher, k, iv.data(), encrypt ? 1 : 0, nullptr) == 1 &&
                  EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
                  EVP_CipherUpdate(ctx.get(), out.data(), &len1, data.data(),
                                   static_cast<int>(data.size())) == 1 &&
                  EVP_CipherFinal_ex(ctx.get(), out.data() + len1, &len2) == 1;
  OPENSSL_cleanse(k, sizeof k);
  if (!ok) return fail(Code::Internal, "DES operation failed");
  out.resize(static_cast<std::size_t>(len1 + len2));
  return out;
}

}  // namespace

CryptoResult<Bytes> des_cbc_encrypt(ByteView key, ByteView iv, ByteView data) {
  return run(key, iv, data, true);
}

CryptoResult<Bytes> des_cbc_decrypt(ByteView key, ByteView iv, ByteView data) {
  return run(key, iv, data, false);
}

CryptoResult<Bytes> des_cbc_mac(ByteView key, ByteView data) {
  const std::uint8_t zero[kDesBlock] = {};
  auto enc = run(key, ByteView(zero, kDesBlock), data, true);
  if (!enc) return enc;
  return Bytes(enc->end() - kDesBlock, enc->end());
}

}  // namespace rsp::crypto
