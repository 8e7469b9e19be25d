// Our brainpoolP256r1 code on hostile points and signatures, differential
// against OpenSSL: both must accept the same public points, and agree on
// whether a signature verifies. Input: 04||X||Y (65) || r||s (64) || digest (32).
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "brainpool_p256r1.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/ecdsa.hpp"

using namespace rsp;
using namespace rsp::crypto;

namespace {

/// OpenSSL's verdict on r||s over a prehashed digest.
bool openssl_verifies(const EcKey& key, ByteView digest, ByteView rs) {
  auto der = plain_to_der(rs);
  if (!der) return false;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.evp(), nullptr),
                                                                   &EVP_PKEY_CTX_free);
  return ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(ctx.get(), der->data(), der->size(), digest.data(), digest.size()) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 65 + 64 + 32) return 0;
  brainpool::Point q{};
  brainpool::Signature rs{};
  std::array<std::uint8_t, 32> digest{};
  std::copy(data, data + 65, q.begin());
  std::copy(data + 65, data + 129, rs.begin());
  std::copy(data + 129, data + 161, digest.begin());

  const bool ours = brainpool::valid_point(q);
  auto key = EcKey::from_public_point(Curve::BrainpoolP256r1, ByteView(q.data(), q.size()));
  if (ours != key.has_value()) std::abort();
  const bool verified = brainpool::verify(q, digest, rs);
  if (!key) {
    if (verified) std::abort();
    return 0;
  }
  if (verified != openssl_verifies(*key, ByteView(digest.data(), digest.size()), ByteView(rs.data(), rs.size())))
    std::abort();
  return 0;
}
