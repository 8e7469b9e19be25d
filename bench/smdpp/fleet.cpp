#include "fleet.hpp"

#include <chrono>
#include <string>

#include "rsp/pki/eid.hpp"
#include "rsp/pki/issuer.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"

namespace rsp::bench {

namespace fs = std::filesystem;

namespace {

std::string suffix(crypto::Curve curve) { return curve == crypto::Curve::NistP256 ? "NIST" : "BRP"; }

}  // namespace

std::vector<smdpp::testing::TestEuiccCredentials> make_fleet(const fs::path& d, crypto::Curve curve, int n) {
  const auto base = smdpp::testing::test_pki_euicc_credentials(d, curve);
  const auto eum_key = pki::load_private_key_file(d / ("SK_EUM_ECDSA_" + suffix(curve) + ".pem")).value();
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const pki::TestPkiOptions defaults;
  std::vector<smdpp::testing::TestEuiccCredentials> fleet;
  fleet.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto key = crypto::EcKey::generate(curve).value();
    pki::CertificateSpec spec;
    spec.role = pki::Role::Euicc;
    const auto eid = pki::make_random_eid(defaults.eid_prefix).value();
    spec.subject = {{"C", "ES"}, {"O", "RSP Test EUM"}, {"serialNumber", eid}, {"CN", "Test eUICC"}};
    spec.not_before = now - std::chrono::hours(1);
    spec.not_after = now + std::chrono::hours(24 * 365);
    auto cert = pki::issue_certificate(spec, key, &base.eum_cert, eum_key).value();
    fleet.push_back({std::move(cert), base.eum_cert, std::move(key), base.ci_cert});
  }
  return fleet;
}

}  // namespace rsp::bench
