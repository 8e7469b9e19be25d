#pragma once
/// Internal RAII holders for the OpenSSL X.509 objects the pki component uses.
/// Not a public header.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "rsp/pki/error.hpp"

namespace rsp::pki::detail {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
inline void bio_free(BIO* b) { BIO_free(b); }

using BioPtr = std::unique_ptr<BIO, Deleter<BIO, bio_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using AsnIntPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER, ASN1_INTEGER_free>>;
using AsnTimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;
using NameConstraintsPtr =
    std::unique_ptr<NAME_CONSTRAINTS, Deleter<NAME_CONSTRAINTS, NAME_CONSTRAINTS_free>>;
using PoliciesPtr =
    std::unique_ptr<CERTIFICATEPOLICIES, Deleter<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

/// Builds an error and drops OpenSSL's error queue so a later call does not
/// report a stale cause.
inline unexpected<PkiError> fail(PkiError::Code code, std::string what) {
  ERR_clear_error();
  return unexpected(PkiError{code, std::move(what)});
}

/// Contents of a memory BIO as a string.
inline std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace rsp::pki::detail
