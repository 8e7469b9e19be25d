#pragma once
/// The SM-DP+ identities (SGP.22 §4.5.2.1: a DPauth certificate and key for
/// ES9+ authentication, a DPpb certificate and key for profile binding) and the
/// CI certificates it trusts. Several identities can live side by side (one per
/// CI / curve); each session picks one chaining to a CI the eUICC lists.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/smdpp/error.hpp"

namespace rsp::smdpp {

struct ServerIdentity {
  std::string name;  ///< e.g. "S_SM_DPauth_ECDSA_NIST", for logs and selection
  pki::Certificate dp_auth_cert;
  crypto::EcKey dp_auth_key;
  pki::Certificate dp_pb_cert;
  crypto::EcKey dp_pb_key;
  /// SubjectKeyIdentifier of the CI that issued both certificates.
  Bytes ci_pkid;
};

class IdentitySet {
 public:
  /// Adds one identity; InvalidRequest when the keys do not match the
  /// certificates or the two certificates have other roles / issuers.
  SmdppResult<void> add(ServerIdentity identity);
  /// Adds a trusted CI (used for eUICC chains and to check identities).
  void add_ci(pki::Certificate ci) { cis_.push_back(std::move(ci)); }

  /// Loads every CERT_*DP*auth* / matching *pb* pair (with SK_*.pem next to
  /// it) and every CI certificate found under `dir`, recursively. Works for the
  /// `rsp pki init` layout and the SGP.26 folder layout (DPauth/, DPpb/,
  /// CertificateIssuer/). Fails when no identity is found.
  static SmdppResult<IdentitySet> load_directory(const std::filesystem::path& dir);

  /// The first identity whose CI is in `verification` (the CIs the eUICC can
  /// verify SM-DP+ certificates with) and whose CI we can also use for the
  /// eUICC's own chain (`signing`, empty means any). SGP.22 §5.6.1.
  const ServerIdentity* select(std::span<const Bytes> verification, std::span<const Bytes> signing) const;
  /// select(), with the InitiateAuthentication answer when there is none
  /// (SGP.22 v2.2.2 §5.6.1): none of the CIs the eUICC signs with
  /// (`signing`) is one we trust, so its certificate chain could not be
  /// verified: 8.8.2 / 3.1 (security configuration not supported); we trust
  /// one of them but hold no DPauth certificate under a CI of `verification`:
  /// 8.8.4 / 3.7 (server authentication certificate unavailable).
  SmdppResult<const ServerIdentity*> choose(std::span<const Bytes> verification, std::span<const Bytes> signing) const;

  const std::vector<ServerIdentity>& identities() const { return ids_; }
  const std::vector<pki::Certificate>& cis() const { return cis_; }

 private:
  std::vector<ServerIdentity> ids_;
  std::vector<pki::Certificate> cis_;
};

}  // namespace rsp::smdpp
