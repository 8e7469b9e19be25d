#pragma once
// Shared helpers of the pki unit tests: temporary directories and a small
// in-memory PKI made with issue_certificate.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "rsp/pki/issuer.hpp"
#include "rsp/pki/validator.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::pki::testing {

using test_support::TempDir;

inline TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct Issued {
  Certificate cert;
  crypto::EcKey key;
};

inline CertificateSpec spec(Role role, std::vector<std::pair<std::string, std::string>> subject) {
  CertificateSpec s;
  s.role = role;
  s.subject = std::move(subject);
  s.not_before = now_seconds() - std::chrono::hours(1);
  s.not_after = now_seconds() + std::chrono::days(365);
  return s;
}

/// Issues `s` for a fresh key on `curve`; self-signed when `issuer` is null.
inline Issued issue(const CertificateSpec& s, const Issued* issuer,
                    crypto::Curve curve = crypto::Curve::NistP256) {
  auto key = crypto::EcKey::generate(curve);
  EXPECT_TRUE(key.has_value());
  auto cert = issue_certificate(s, *key, issuer ? &issuer->cert : nullptr, issuer ? issuer->key : *key);
  EXPECT_TRUE(cert.has_value()) << (cert ? "" : cert.error().message);
  return Issued{std::move(*cert), std::move(*key)};
}

inline Issued make_ci(const std::string& cn = "Unit Test CI", crypto::Curve curve = crypto::Curve::NistP256) {
  return issue(spec(Role::Ci, {{"CN", cn}, {"O", "RSPTEST"}, {"C", "IT"}}), nullptr, curve);
}

inline Issued make_eum(const Issued& ci, const std::string& prefix = "89049032",
                       crypto::Curve curve = crypto::Curve::NistP256) {
  auto s = spec(Role::Eum, {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "EUM Test"}});
  s.eum_permitted = EumPermittedName{"RSP Test EUM", prefix};
  return issue(s, &ci, curve);
}

inline Issued make_euicc(const Issued& eum, const std::string& eid, const std::string& org = "RSP Test EUM",
                         crypto::Curve curve = crypto::Curve::NistP256) {
  return issue(spec(Role::Euicc, {{"C", "ES"}, {"O", org}, {"serialNumber", eid}, {"CN", "Test eUICC"}}), &eum,
               curve);
}

inline Issued make_leaf(const Issued& ci, Role role, crypto::Curve curve = crypto::Curve::NistP256) {
  auto s = spec(role, {{"O", "ACME"}, {"CN", is_tls_role(role) ? "localhost" : "TEST SM-DP+"}});
  if (is_tls_role(role)) s.dns_names = {"localhost"};
  return issue(s, &ci, curve);
}

inline std::filesystem::path reference_dir() { return std::filesystem::path(RSP_REFERENCE_DIR); }

}  // namespace rsp::pki::testing
