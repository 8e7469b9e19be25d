#include "fixture.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"

namespace rsp::smdpp::testing {

namespace fs = std::filesystem;

const fs::path& test_pki_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::path(RSP_BINARY_DIR) / "smdpp_test_pki" / std::to_string(::getpid());
    fs::remove_all(d);
    fs::create_directories(d);
    pki::TestPkiOptions o;
    o.out_dir = d;
    o.smdpp_address = kAddress;
    auto r = pki::make_test_pki(o);
    if (!r) {
      std::fprintf(stderr, "make_test_pki: %s\n", r.error().message.c_str());
      std::abort();
    }
    return d;
  }();
  return dir;
}

TestEuiccCredentials test_euicc_credentials(crypto::Curve curve) {
  return test_pki_euicc_credentials(test_pki_dir(), curve);
}

std::optional<TestEuiccCredentials> sgp26_euicc_credentials(const fs::path& certs, crypto::Curve curve) {
  const std::string c = curve == crypto::Curve::NistP256 ? "NIST" : "BRP";
  const fs::path euicc = certs / "eUICC" / ("CERT_EUICC_ECDSA_" + c + ".der");
  const fs::path sk = certs / "eUICC" / ("SK_EUICC_ECDSA_" + c + ".pem");
  const fs::path eum = certs / "EUM" / ("CERT_EUM_ECDSA_" + c + ".der");
  const fs::path ci = certs / "CertificateIssuer" / ("CERT_CI_ECDSA_" + c + ".der");
  for (const auto& f : {euicc, sk, eum, ci})
    if (!fs::exists(f)) return std::nullopt;
  auto key = pki::load_private_key_file(sk);
  if (!key) return std::nullopt;
  return TestEuiccCredentials{first_certificate(euicc), first_certificate(eum), *key, first_certificate(ci)};
}

World::World(const fs::path& pki_dir, std::uint64_t seed)
    : rng(Bytes{static_cast<std::uint8_t>(seed), 0x5D}),
      clock(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())) {
  auto ids = IdentitySet::load_directory(pki_dir);
  if (!ids) {
    std::fprintf(stderr, "load_directory: %s\n", ids.error().message.c_str());
    std::abort();
  }
  identities = std::make_shared<IdentitySet>(std::move(*ids));
  catalog = std::make_shared<InMemoryProfileCatalog>();
  ServerConfig cfg;
  cfg.address = kAddress;
  cfg.session_timeout = std::chrono::seconds(300);
  server = std::make_unique<Server>(cfg, identities, catalog, clock, rng);
}

}  // namespace rsp::smdpp::testing
