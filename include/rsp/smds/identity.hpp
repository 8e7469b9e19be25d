#pragma once
/// The SM-DS identities for ES11 (SGP.22 v2.2.2 §4.5.2.1: a DSauth
/// certificate and key per CI / curve) and the CI certificates it trusts for
/// eUICC chains.

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/smds/error.hpp"

namespace rsp::smds {

struct DsIdentity {
  std::string name;  ///< e.g. "S_SM_DSauth_ECDSA_NIST"
  pki::Certificate ds_auth_cert;
  crypto::EcKey ds_auth_key;
  Bytes ci_pkid;  ///< SubjectKeyIdentifier of the CI that issued it
};

class IdentitySet {
 public:
  /// Adds one identity; refused when the role is not DSauth or the key does
  /// not match.
  SmdsResult<void> add(DsIdentity identity);
  void add_ci(pki::Certificate ci) { cis_.push_back(std::move(ci)); }

  /// Every CERT_*DSauth* certificate with its SK_*.pem, and every CI
  /// certificate, under `dir` (the `rsp pki init` layout). Fails when no
  /// identity is found.
  static SmdsResult<IdentitySet> load_directory(const std::filesystem::path& dir);

  /// The identity for an eUICC's CI lists (§5.8.1), or the SM-DS's code.
  SmdsResult<const DsIdentity*> choose(std::span<const Bytes> verification, std::span<const Bytes> signing) const;

  const std::vector<DsIdentity>& identities() const { return ids_; }
  const std::vector<pki::Certificate>& cis() const { return cis_; }

 private:
  std::vector<DsIdentity> ids_;
  std::vector<pki::Certificate> cis_;
};

}  // namespace rsp::smds
