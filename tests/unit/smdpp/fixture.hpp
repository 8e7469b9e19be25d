#pragma once
/// Shared set-up of the SM-DP+ tests: a test PKI on both curves, a server
/// over it, orders in an in-memory catalog and the test-double eUICC.

#include <filesystem>
#include <memory>
#include <string>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/smdpp/identity.hpp"
#include "rsp/smdpp/server.hpp"
#include "test_euicc.hpp"

namespace rsp::smdpp::testing {

inline const std::string kAddress = "smdp.test.example";

/// make_test_pki output, made once per process.
const std::filesystem::path& test_pki_dir();
/// The eUICC credentials of the test PKI for `curve`.
TestEuiccCredentials test_euicc_credentials(crypto::Curve curve);
/// Loads the credentials from an SGP.26-shaped folder (eUICC/, EUM/, CertificateIssuer/).
std::optional<TestEuiccCredentials> sgp26_euicc_credentials(const std::filesystem::path& certs, crypto::Curve curve);

struct World {
  explicit World(const std::filesystem::path& pki_dir, std::uint64_t seed = 1);
  crypto::DeterministicRandom rng;
  ManualClock clock;
  std::shared_ptr<IdentitySet> identities;
  std::shared_ptr<InMemoryProfileCatalog> catalog;
  std::unique_ptr<Server> server;
};

}  // namespace rsp::smdpp::testing
