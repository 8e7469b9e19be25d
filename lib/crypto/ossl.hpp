#pragma once
/// Internal RAII holders and error helpers for the OpenSSL 3 objects the crypto
/// component uses. Not a public header.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto::detail {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

/// A cipher fetched once by name and kept for the process: OpenSSL 3 looks
/// an algorithm up again on every init when it is given the legacy
/// EVP_aes_*() objects, which costs more than encrypting a short message.
/// Callers keep the result in a function-local static; never freed.
inline const EVP_CIPHER* fetch_cipher(const char* name) { return EVP_CIPHER_fetch(nullptr, name, nullptr); }

/// Builds an error and drops OpenSSL's error queue so that a later operation
/// does not report a stale cause. The message names the operation only.
inline unexpected<CryptoError> fail(CryptoError::Code code, std::string what) {
  ERR_clear_error();
  return unexpected(CryptoError{code, std::move(what)});
}

/// The private scalar d of `key`, 32 bytes big-endian; false for a public key.
/// The caller wipes `out` after use.
bool private_scalar(const EcKey& key, std::array<std::uint8_t, 32>& out);
/// The public point 04||X||Y of `key` in the fixed-size form our curve
/// arithmetic takes; false for an empty key.
bool public_point(const EcKey& key, std::array<std::uint8_t, 65>& out);

}  // namespace rsp::crypto::detail
