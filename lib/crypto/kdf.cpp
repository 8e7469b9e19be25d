#include "rsp/crypto/kdf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

#include "ossl.hpp"
#include "rsp/crypto/aes.hpp"

namespace rsp::crypto {

using detail::fail;
using Code = CryptoError::Code;

CryptoResult<Bytes> x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t length) {
  if (length == 0 || length > 4096 || z.empty())
    return fail(Code::InvalidInput, "X9.63 KDF: bad secret or output length");
  // ANSI X9.63 (SEC 1 v2 §3.6.1): K_i = SHA-256(Z || Counter_i || SharedInfo),
  // Counter_i a 32-bit big-endian count from 1, the K_i concatenated and cut
  // to `length`. Hashed here with SHA-256 fetched once for the process: the
  // X963KDF object of OpenSSL 3 fetched its digest by name again on every
  // call, which cost more than the two or three hashes of a BSP key set.
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) return fail(Code::Internal, "SHA256 unavailable");
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return fail(Code::Internal, "EVP_MD_CTX_new failed");
  Bytes out(length);
  std::array<std::uint8_t, 32> block{};
  std::size_t done = 0;
  for (std::uint32_t counter = 1; done < length; ++counter) {
    const std::uint8_t c[4] = {static_cast<std::uint8_t>(counter >> 24), static_cast<std::uint8_t>(counter >> 16),
                               static_cast<std::uint8_t>(counter >> 8), static_cast<std::uint8_t>(counter)};
    unsigned int n = 0;
    if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 || EVP_DigestUpdate(ctx.get(), z.data(), z.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), c, sizeof c) != 1 ||
        (!shared_info.empty() && EVP_DigestUpdate(ctx.get(), shared_info.data(), shared_info.size()) != 1) ||
        EVP_DigestFinal_ex(ctx.get(), block.data(), &n) != 1 || n != block.size()) {
      wipe(out);
      std::fill(block.begin(), block.end(), std::uint8_t{0});
      return fail(Code::Internal, "X9.63 KDF failed");
    }
    const std::size_t take = std::min(block.size(), length - done);
    std::copy_n(block.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += take;
  }
  OPENSSL_cleanse(block.data(), block.size());
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
