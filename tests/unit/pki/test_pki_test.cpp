// `rsp pki init` library side: the generated PKI verifies with our validator
// and with the OpenSSL command line.

#include "rsp/pki/test_pki.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "pki_test_util.hpp"
#include "rsp/common/file.hpp"
#include "rsp/pki/directory.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/key_store.hpp"

namespace rsp::pki {
namespace {

namespace fs = std::filesystem;

bool have_openssl_cli() { return std::system("openssl version >/dev/null 2>&1") == 0; }

/// Runs `openssl verify` and returns its combined output.
std::string openssl_verify(const fs::path& dir, const std::string& ca, const std::string& cert,
                           const std::string& untrusted = "") {
  std::string cmd = "cd '" + dir.string() + "' && openssl verify -CAfile " + ca;
  if (!untrusted.empty()) cmd += " -untrusted " + untrusted;
  cmd += " " + cert + " 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    pclose(p);
  }
  return out;
}

class PkiTestPkiTest : public ::testing::TestWithParam<crypto::Curve> {};

TEST_P(PkiTestPkiTest, InitThenVerifyRoundTrip) {
  testing::TempDir dir;
  TestPkiOptions opt;
  opt.out_dir = dir.path();
  opt.curves = {GetParam()};
  opt.smdpp_address = "smdp.example.test";
  auto pki = make_test_pki(opt);
  ASSERT_TRUE(pki.has_value()) << pki.error().message;
  EXPECT_TRUE(is_valid_eid(pki->eid));
  EXPECT_EQ(pki->eid.substr(0, 8), "89049032");
  EXPECT_EQ(pki->items.size(), 12u);
  const std::string c = GetParam() == crypto::Curve::NistP256 ? "NIST" : "BRP";
  for (const char* name : {"CERT_CI_ECDSA_", "SK_CI_ECDSA_", "CERT_EUM_ECDSA_", "CERT_EUICC_ECDSA_",
                           "CERT_S_SM_DPauth_ECDSA_", "CERT_S_SM_DPpb_ECDSA_", "CERT_S_SM_DP_TLS_",
                           "SK_S_SM_DP_TLS_", "CERT_S_SM_DSauth_ECDSA_", "CERT_S_SM_DS_TLS_",
                           "CERT_M2M_SM_SR_TLS_", "CERT_M2M_SM_DP_TLS_", "CERT_M2M_SM_DP_ECDSA_", "CERT_OPERATOR_TLS_"}) {
    EXPECT_TRUE(fs::exists(dir.path() / (std::string(name) + c + ".pem"))) << name << c;
  }
  const auto key_perms = fs::status(dir.path() / ("SK_EUICC_ECDSA_" + c + ".pem")).permissions();
  EXPECT_EQ(key_perms & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const auto psk_perms = fs::status(dir.path() / "PSK_M2M_SCP81.txt").permissions();
  EXPECT_EQ(psk_perms & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  auto checks = verify_directory(dir.path());
  ASSERT_TRUE(checks.has_value()) << checks.error().message;
  ASSERT_EQ(checks->size(), 12u);
  for (const auto& check : *checks) {
    EXPECT_FALSE(check.error.has_value()) << check.file << ": " << check.error->message;
    if (check.role == Role::Euicc) {
      EXPECT_EQ(check.eid, pki->eid);
    }
  }

  // The DPtls certificate names the SM-DP+ address and loopback.
  auto data = read_file(dir.path() / ("CERT_S_SM_DP_TLS_" + c + ".pem"));
  ASSERT_TRUE(data.has_value());
  auto tls = Certificate::load(*data);
  ASSERT_TRUE(tls.has_value());
  EXPECT_EQ(tls->front().dns_names(), std::vector<std::string>{"smdp.example.test"});
  EXPECT_EQ(tls->front().ip_addresses(), std::vector<std::string>{"127.0.0.1"});
  // Each private key belongs to its certificate.
  FileKeyStore keys(dir.path());
  auto key = keys.load("SK_S_SM_DP_TLS_" + c);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(key_matches_certificate(tls->front(), *key));
}

TEST_P(PkiTestPkiTest, OpensslCliAcceptsTheChains) {
  if (!have_openssl_cli()) GTEST_SKIP() << "openssl command line tool not installed";
  testing::TempDir dir;
  TestPkiOptions opt;
  opt.out_dir = dir.path();
  opt.curves = {GetParam()};
  ASSERT_TRUE(make_test_pki(opt).has_value());
  const std::string c = GetParam() == crypto::Curve::NistP256 ? "NIST" : "BRP";
  const std::string ca = "CERT_CI_ECDSA_" + c + ".pem";
  for (const char* leaf : {"CERT_EUM_ECDSA_", "CERT_S_SM_DPauth_ECDSA_", "CERT_S_SM_DPpb_ECDSA_",
                           "CERT_S_SM_DP_TLS_", "CERT_S_SM_DSauth_ECDSA_", "CERT_S_SM_DS_TLS_",
                           "CERT_M2M_SM_SR_TLS_", "CERT_M2M_SM_DP_TLS_", "CERT_M2M_SM_DP_ECDSA_", "CERT_OPERATOR_TLS_"}) {
    const std::string file = leaf + c + ".pem";
    EXPECT_NE(openssl_verify(dir.path(), ca, file).find(file + ": OK"), std::string::npos) << file;
  }
  // The eUICC chain: OpenSSL applies RFC 5280 subtree matching to the EUM's
  // SGP.22-style name constraints, so it refuses what SGP.22 accepts.
  auto out = openssl_verify(dir.path(), ca, "CERT_EUICC_ECDSA_" + c + ".pem", "CERT_EUM_ECDSA_" + c + ".pem");
  EXPECT_NE(out.find("permitted subtree violation"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Curves, PkiTestPkiTest,
                         ::testing::Values(crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1),
                         [](const auto& param_info) { return std::string(crypto::short_name(param_info.param)); });

TEST(PkiTestPki, GivenEidSetsTheEumPrefix) {
  testing::TempDir dir;
  TestPkiOptions opt;
  opt.out_dir = dir.path();
  opt.curves = {crypto::Curve::NistP256};
  opt.eid = "89049033123451234512345678901257";
  auto pki = make_test_pki(opt);
  ASSERT_TRUE(pki.has_value()) << pki.error().message;
  EXPECT_EQ(pki->eid_prefix, "89049033");
  auto checks = verify_directory(dir.path());
  ASSERT_TRUE(checks.has_value());
  for (const auto& check : *checks) EXPECT_FALSE(check.error.has_value()) << check.file;
  opt.eid = "89049033123451234512345678901258";
  EXPECT_EQ(make_test_pki(opt).error().code, PkiError::Code::InvalidArgument);
}

TEST(PkiTestPki, IssuesUnderAnExistingCi) {
  auto ci = testing::make_ci("Existing CI", crypto::Curve::BrainpoolP256r1);
  testing::TempDir dir;
  TestPkiOptions opt;
  opt.out_dir = dir.path();
  opt.ci = TestPkiOptions::ExistingCi{ci.cert, ci.key};
  auto pki = make_test_pki(opt);
  ASSERT_TRUE(pki.has_value()) << pki.error().message;
  EXPECT_FALSE(fs::exists(dir.path() / "SK_CI_ECDSA_BRP.pem"));
  EXPECT_FALSE(fs::exists(dir.path() / "CERT_CI_ECDSA_NIST.pem"));
  auto checks = verify_directory(dir.path());
  ASSERT_TRUE(checks.has_value());
  EXPECT_EQ(checks->size(), 12u);
  for (const auto& check : *checks) EXPECT_FALSE(check.error.has_value()) << check.file;
  // A key that is not the CI's is refused.
  auto other = crypto::EcKey::generate(crypto::Curve::BrainpoolP256r1);
  ASSERT_TRUE(other.has_value());
  opt.ci = TestPkiOptions::ExistingCi{ci.cert, *other};
  EXPECT_EQ(make_test_pki(opt).error().code, PkiError::Code::InvalidArgument);
}

}  // namespace
}  // namespace rsp::pki
