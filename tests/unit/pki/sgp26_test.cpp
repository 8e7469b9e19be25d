// Interoperability with the published GSMA SGP.26 test PKI (reference
// material beside the checkout; skipped when absent).

#include <gtest/gtest.h>

#include <stdexcept>

#include "pki_test_util.hpp"
#include "rsp/common/file.hpp"
#include "rsp/pki/directory.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"

namespace rsp::pki {
namespace {

namespace fs = std::filesystem;
using C = PkiError::Code;

fs::path certs_dir() { return testing::reference_dir() / "certs"; }

class PkiSgp26 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(certs_dir()))
      GTEST_SKIP() << "SGP.26 reference certificates not found under " << certs_dir();
  }
  static Certificate load(const std::string& rel) {
    auto certs = Certificate::load_file(certs_dir() / rel);
    // gtest reports an exception as a failure of the running test.
    if (!certs) throw std::runtime_error(certs.error().message);
    return certs->front();
  }
  std::vector<Certificate> cis() {
    return {load("CertificateIssuer/CERT_CI_ECDSA_NIST.der"), load("CertificateIssuer/CERT_CI_ECDSA_BRP.der")};
  }
  std::vector<Certificate> eums() { return {load("EUM/CERT_EUM_ECDSA_NIST.der"), load("EUM/CERT_EUM_ECDSA_BRP.der")}; }
};

TEST_F(PkiSgp26, ParsesTheTestCertificates) {
  auto ci = load("CertificateIssuer/CERT_CI_ECDSA_NIST.der");
  EXPECT_EQ(ci.role(), Role::Ci);
  EXPECT_EQ(to_hex(*ci.subject_key_id()), "F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
  auto eum = load("EUM/CERT_EUM_ECDSA_NIST.der");
  EXPECT_EQ(eum.role(), Role::Eum);
  ASSERT_EQ(eum.eum_permitted().size(), 1u);
  EXPECT_EQ(eum.eum_permitted()[0].organization, "RSP Test EUM");
  EXPECT_EQ(eum.eum_permitted()[0].eid_prefix, "89049032");
  auto euicc = load("eUICC/CERT_EUICC_ECDSA_BRP.der");
  EXPECT_EQ(euicc.role(), Role::Euicc);
  EXPECT_EQ(euicc.curve(), crypto::Curve::BrainpoolP256r1);
  EXPECT_EQ(euicc.subject_serial_number(), "89049032123451234512345678901235");
  auto tls = load("DPtls/CERT_S_SM_DP_TLS_NIST.der");
  EXPECT_EQ(tls.role(), Role::DpTls);
  EXPECT_EQ(format_utc_time(tls.not_after()), "2026-08-02T13:14:38Z");
  EXPECT_EQ(tls.dns_names(), std::vector<std::string>{"testsmdpplus1.example.com"});
}

TEST_F(PkiSgp26, EuiccChainsValidateWithTheEid) {
  for (const char* file : {"eUICC/CERT_EUICC_ECDSA_NIST.der", "eUICC/CERT_EUICC_ECDSA_BRP.der"}) {
    auto r = validate_chain(load(file), eums(), cis(), Role::Euicc);
    ASSERT_TRUE(r.has_value()) << file << ": " << r.error().message;
    EXPECT_EQ(r->eid, "89049032123451234512345678901235");
  }
}

TEST_F(PkiSgp26, WholeSetValidatesBeforeTheTlsExpiry) {
  // 2026-07-25: after the VARO TLS certificates start (2026-07-21), before the others expire (2026-08-02).
  auto checks = verify_directory(certs_dir(), parse_utc_time("2026-07-25T00:00:00Z"));
  ASSERT_TRUE(checks.has_value()) << checks.error().message;
  EXPECT_GE(checks->size(), 20u);
  for (const auto& c : *checks) EXPECT_FALSE(c.error.has_value()) << c.file << ": " << c.error->message;
}

TEST_F(PkiSgp26, DpTlsNistValidOnJulyFirst) {
  auto r = validate_chain(load("DPtls/CERT_S_SM_DP_TLS_NIST.der"), {}, cis(), Role::DpTls,
                          parse_utc_time("2026-07-01T00:00:00Z"));
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST_F(PkiSgp26, DpTlsNistIsExpiredNow) {
  auto r = validate_chain(load("DPtls/CERT_S_SM_DP_TLS_NIST.der"), {}, cis(), Role::DpTls);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::Expired);
  EXPECT_NE(r.error().message.find("certificate expired"), std::string::npos) << r.error().message;
}

TEST_F(PkiSgp26, DpTlsPresentedAsDpAuthIsWrongRole) {
  auto r = validate_chain(load("DPtls/CERT_S_SM_DP_VARO_TLS_NIST.der"), {}, cis(), Role::DpAuth,
                          parse_utc_time("2026-07-25T00:00:00Z"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::WrongRole);
}

TEST_F(PkiSgp26, IssuesFreshCertificatesUnderTheTestCi) {
  auto key = load_private_key_file(certs_dir() / "CertificateIssuer/SK_CI_ECDSA_NIST.pem");
  ASSERT_TRUE(key.has_value()) << key.error().message;
  testing::TempDir dir;
  TestPkiOptions opt;
  opt.out_dir = dir.path();
  opt.ci = TestPkiOptions::ExistingCi{load("CertificateIssuer/CERT_CI_ECDSA_NIST.der"), *key};
  opt.smdpp_address = "testsmdpplus1.example.com";
  auto pki = make_test_pki(opt);
  ASSERT_TRUE(pki.has_value()) << pki.error().message;
  // The fresh DPtls certificate chains to the published Test CI, valid now.
  auto data = read_file(dir.path() / "CERT_S_SM_DP_TLS_NIST.pem");
  ASSERT_TRUE(data.has_value());
  auto tls = Certificate::load(*data);
  ASSERT_TRUE(tls.has_value());
  auto r = validate_chain(tls->front(), {}, cis(), Role::DpTls);
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

}  // namespace
}  // namespace rsp::pki
