#pragma once
// What the cross-process SM-SR tests (smsr_serve_test, smsr_soap_test) share:
// the configuration they start `rsp smsr serve` with and their HTTPS clients.

#include <filesystem>
#include <memory>
#include <string>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::e2e {

/// `rsp smsr serve` on 127.0.0.1 port 0 with the test PKI under `pki`: its
/// TLS identity, its database and access log in `dir`, client certificates
/// checked against the test CI, a sweep every second, and the EUM EUM-TEST
/// known by its TLS client certificate. A test adds its MNOs and the rest.
inline nlohmann::json smsr_serve_config(const std::filesystem::path& dir, const std::filesystem::path& pki) {
  return {{"listen", "127.0.0.1:0"},
          {"tls_cert", (pki / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
          {"tls_key", (pki / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
          {"database", (dir / "smsr.db").string()},
          {"client_trust", (pki / "CERT_CI_ECDSA_NIST.pem").string()},
          {"sweep_interval", 1},
          {"access_log", (dir / "access.log").string()},
          {"eums", {{{"name", "EUM-TEST"}, {"client_cert", (pki / "CERT_OPERATOR_TLS_NIST.pem").string()}}}}};
}

/// An HTTPS client of the SM-SR at `url`, trusting the test CI; `as_eum`:
/// with EUM-TEST's TLS client certificate. Null (the test failed) when it
/// cannot be made.
inline std::unique_ptr<net::HttpsClient> smsr_client(const std::string& url, const std::filesystem::path& pki,
                                                     bool as_eum) {
  net::HttpsClientOptions o;
  o.base_url = url;
  o.trust_anchors = *net::load_certificates(pki / "CERT_CI_ECDSA_NIST.pem");
  if (as_eum) {
    auto id = net::TlsIdentity::load(pki / "CERT_OPERATOR_TLS_NIST.pem", pki / "SK_OPERATOR_TLS_NIST.pem");
    EXPECT_TRUE(id);
    if (id) o.identity = std::move(*id);
  }
  auto c = net::HttpsClient::create(std::move(o));
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? std::move(*c) : nullptr;
}

}  // namespace rsp::e2e
