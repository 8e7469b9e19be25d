#include "rsp/crypto/kdf.hpp"

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <memory>

#include "ossl.hpp"
#include "rsp/crypto/aes.hpp"

namespace rsp::crypto {

using detail::fail;
using Code = CryptoError::Code;

CryptoResult<Bytes> x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t length) {
  if (length == 0 || length > 4096 || z.empty())
    return fail(Code::InvalidInput, "X9.63 KDF: bad secret or output length");
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "X963KDF", nullptr);
  if (kdf == nullptr) return fail(Code::Internal, "X963KDF unavailable");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf),
                                                                 &EVP_KDF_CTX_free);
  if (!ctx) return fail(Code::Internal, "EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[4];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(z.data()), z.size());
  if (!shared_info.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(shared_info.data()), shared_info.size());
  params[n] = OSSL_PARAM_construct_end();
  Bytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    wipe(out);
    return fail(Code::Internal, "X9.63 KDF failed");
  }
  return out;
}

CryptoResult<Bytes> sp800_108_cmac_gp(ByteView key, std::uint8_t derivation_constant,
                                      ByteView context, std::uint16_t length_bits) {
  if (length_bits == 0 || length_bits % 8 != 0 || context.size() > 256)
    return fail(Code::InvalidInput, "SP 800-108: bad output length or context");
  const std::size_t out_len = length_bits / 8;
  Bytes input(11, 0x00);
  input.push_back(derivation_constant);
  input.push_back(0x00);  // separation indicator
  input.push_back(static_cast<std::uint8_t>(length_bits >> 8));
  input.push_back(static_cast<std::uint8_t>(length_bits));
  const std::size_t counter_pos = input.size();
  input.push_back(0x00);
  input.insert(input.end(), context.begin(), context.end());
  Bytes out;
  for (unsigned i = 1; out.size() < out_len; ++i) {
    if (i > 255) return fail(Code::InvalidInput, "SP 800-108: output too long");
    input[counter_pos] = static_cast<std::uint8_t>(i);
    RSP_TRY(Bytes block, aes_cmac(key, input));
    out.insert(out.end(), block.begin(), block.end());
    wipe(block);
  }
  out.resize(out_len);
  return out;
}

}  // namespace rsp::crypto
