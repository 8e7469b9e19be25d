#include "rsp/crypto/ecka.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>


#include "brainpool_p256r1.hpp"
#include "ossl.hpp"

namespace rsp::crypto {

using detail::fail;
using detail::PkeyCtxPtr;
using Code = CryptoError::Code;

namespace {

/// brainpoolP256r1 on our arithmetic (brainpool_p256r1.hpp).
CryptoResult<Bytes> brainpool_shared_secret(const EcKey& own, const EcKey& peer) {
  brainpool::Scalar d{};
  brainpool::Point q{};
  if (!detail::public_point(peer, q)) return fail(Code::InvalidKey, "peer public key rejected");
  if (!detail::private_scalar(own, d)) return fail(Code::Internal, "private key unavailable");
  auto z = brainpool::shared_secret(d, q);
  OPENSSL_cleanse(d.data(), d.size());
  if (!z) return fail(Code::InvalidKey, "peer public key rejected");
  Bytes out(z->begin(), z->end());
  OPENSSL_cleanse(z->data(), z->size());
  return out;
}

}  // namespace

CryptoResult<Bytes> ecka_shared_secret(const EcKey& own, const EcKey& peer) {
  if (!own.has_private()) return fail(Code::InvalidKey, "ECKA needs our private key");
  if (own.curve() != peer.curve()) return fail(Code::InvalidKey, "keys are on different curves");
  if (own.curve() == Curve::BrainpoolP256r1) return brainpool_shared_secret(own, peer);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.evp(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1)
    return fail(Code::Internal, "EVP_PKEY_derive_init failed");
  // Every EcKey was validated when it was built (EcKey::adopt), so OpenSSL
  // need not validate the peer point a second time.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.evp(), 0) != 1)
    return fail(Code::InvalidKey, "peer public key rejected");
  std::size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1 || len != 32)
    return fail(Code::Internal, "unexpected shared secret size");
  Bytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1 || len != 32) {
    wipe(z);
    return fail(Code::Internal, "ECDH derivation failed");
  }
  return z;
}

}  // namespace rsp::crypto
