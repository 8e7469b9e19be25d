#pragma once
/// Issues X.509 v3 certificates following the SGP.22 §4.5.2 certificate
/// profile of each role (the extensions SGP.26 test certificates carry):
///   all roles   subjectKeyIdentifier, authorityKeyIdentifier (unless self-signed),
///               certificatePolicies = id-rspRole-<role> (critical except on TLS
///               certificates, as in SGP.26; none for M2mTls),
///               ecdsa-with-SHA256 signature
///   CI          basicConstraints critical cA, keyUsage critical keyCertSign + cRLSign
///   EUM         basicConstraints critical cA pathLen 0, keyUsage critical keyCertSign,
///               nameConstraints critical permitted directoryName {O, serialNumber = EID prefix}
///   eUICC, DPauth, DPpb, DSauth   keyUsage critical digitalSignature
///   DPtls, DStls, M2mTls          keyUsage critical digitalSignature, extendedKeyUsage
///               critical serverAuth + clientAuth, subjectAltName dNSName / iPAddress

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rsp/pki/certificate.hpp"

namespace rsp::pki {

struct CertificateSpec {
  Role role = Role::DpAuth;
  /// Subject attributes in order, by OpenSSL short name: {"C","ES"}, {"O","ACME"},
  /// {"serialNumber", EID}, {"CN","TEST SM-DP+"}.
  std::vector<std::pair<std::string, std::string>> subject;
  TimePoint not_before{};
  TimePoint not_after{};
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  /// subjectAltName registeredID (SGP.22 names SM-DP+/EUM/CI by OID there), dotted.
  std::optional<std::string> registered_id;
  /// EUM only: the permitted subtree of the name constraints.
  std::optional<EumPermittedName> eum_permitted;
  /// Serial number; empty means 8 random bytes.
  Bytes serial;
  /// Replaces the role's keyUsage (OpenSSL config syntax, e.g. "critical,keyAgreement");
  /// only for making deliberately non-conforming certificates in tests.
  std::optional<std::string> key_usage_override;
};

/// Issues a certificate for `subject_key` (public part used) signed by
/// `issuer_key`. `issuer` null means self-signed (then `subject_key` must be
/// `issuer_key`'s key).
PkiResult<Certificate> issue_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                         const Certificate* issuer, const crypto::EcKey& issuer_key);

inline PkiResult<Certificate> issue_certificate(const CertificateSpec& spec, const crypto::EcKey& subject_key,
                                                const Certificate* issuer, const crypto::EcKey& issuer_key) {
  return issue_certificate(spec, subject_key.evp(), issuer, issuer_key);
}

/// Whether `key` is the private key of `cert`.
bool key_matches_certificate(const Certificate& cert, const crypto::EcKey& key);

}  // namespace rsp::pki
