// The DER walk of Certificate::from_der against OpenSSL's parse
// (from_der_openssl): the same view of every certificate the walk reads, the
// same verdict on damaged ones, and names compared as X509_NAME_cmp does.

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <filesystem>

#include "pki_test_util.hpp"
#include "rsp/common/file.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/pki/test_pki.hpp"

namespace rsp::pki {
namespace {

namespace fs = std::filesystem;
using testing::issue;
using testing::make_ci;
using testing::make_eum;
using testing::make_euicc;
using testing::make_leaf;
using testing::spec;

/// Both parses of `der` agree: both refuse, or both read the same view.
void expect_same_parse(ByteView der, const std::string& what) {
  auto walked = Certificate::from_der(der);
  auto reference = Certificate::from_der_openssl(der);
  ASSERT_EQ(walked.has_value(), reference.has_value())
      << what << ": " << (walked ? "" : walked.error().message) << (reference ? "" : reference.error().message);
  if (walked) EXPECT_TRUE(same_view(*walked, *reference)) << what;
}

TEST(PkiCertificateDer, GeneratedCertificatesOfEveryRoleReadAlike) {
  for (const auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    auto ci = make_ci("Unit Test CI", curve);
    auto eum = make_eum(ci, "89049032", curve);
    auto euicc = make_euicc(eum, "89049032123451234512345678901235", "RSP Test EUM", curve);
    expect_same_parse(ci.cert.der(), "CI");
    expect_same_parse(eum.cert.der(), "EUM");
    expect_same_parse(euicc.cert.der(), "eUICC");
    for (const Role role : {Role::DpAuth, Role::DpPb, Role::DpTls, Role::DsAuth, Role::DsTls})
      expect_same_parse(make_leaf(ci, role, curve).cert.der(), std::string(role_name(role)));
  }
}

TEST(PkiCertificateDer, TheEuiccCertificateIsWalkedAndItsX509MadeOnDemand) {
  auto ci = make_ci();
  auto eum = make_eum(ci);
  auto euicc = make_euicc(eum, "89049032123451234512345678901235");
  auto walked = Certificate::from_der(euicc.cert.der());
  ASSERT_TRUE(walked.has_value());
  EXPECT_EQ(walked->role(), Role::Euicc);
  EXPECT_TRUE(walked->issuer_is_subject_of(eum.cert));
  EXPECT_FALSE(walked->issuer_is_subject_of(ci.cert));
  EXPECT_TRUE(walked->signature_verifies_with(eum.key));
  EXPECT_FALSE(walked->signature_verifies_with(ci.key));
  ASSERT_NE(walked->x509(), nullptr);
  EXPECT_EQ(walked->x509(), Certificate(*walked).x509());  // copies share it
  EXPECT_EQ(walked->subject(), euicc.cert.subject());
}

TEST(PkiCertificateDer, TestPkiAndSgp26CertificatesReadAlike) {
  testing::TempDir dir;
  TestPkiOptions o;
  o.out_dir = dir.path();
  ASSERT_TRUE(make_test_pki(o).has_value());
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    if (e.path().filename().string().rfind("CERT_", 0) == 0) files.push_back(e.path());
  const fs::path sgp26 = testing::reference_dir() / "certs";
  if (fs::is_directory(sgp26))
    for (const auto& e : fs::recursive_directory_iterator(sgp26))
      if (e.is_regular_file() && (e.path().extension() == ".der" || e.path().extension() == ".pem"))
        files.push_back(e.path());
  ASSERT_GT(files.size(), 4u);
  for (const auto& f : files) {
    auto certs = Certificate::load_file(f);
    if (!certs) continue;  // not a certificate file
    for (const auto& c : *certs) expect_same_parse(c.der(), f.filename().string());
  }
}

/// Every single-byte change of an eUICC certificate: the walk never accepts
/// what OpenSSL refuses nor reads a field otherwise.
TEST(PkiCertificateDer, DamagedCertificatesGetOpenSslsVerdict) {
  for (const auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    auto ci = make_ci("Unit Test CI", curve);
    auto eum = make_eum(ci, "89049032", curve);
    const Bytes der = make_euicc(eum, "89049032123451234512345678901235", "RSP Test EUM", curve).cert.der();
    for (std::size_t i = 0; i < der.size(); ++i)
      for (const std::uint8_t flip : {0x01, 0x20, 0x80, 0xff}) {
        Bytes damaged = der;
        damaged[i] ^= flip;
        expect_same_parse(damaged, "byte " + std::to_string(i) + " ^ " + std::to_string(flip));
      }
    for (std::size_t cut = 0; cut < der.size(); cut += 7) expect_same_parse(ByteView(der).first(cut), "cut");
    Bytes longer = der;
    longer.push_back(0);
    expect_same_parse(longer, "trailing byte");
  }
}

TEST(PkiCertificateDer, NamesCompareAsX509NameCmp) {
  auto ci = make_ci();
  auto eum = make_eum(ci);
  auto euicc = make_euicc(eum, "89049032123451234512345678901235");
  auto walked = Certificate::from_der(euicc.cert.der());
  ASSERT_TRUE(walked.has_value());
  const std::vector<std::vector<std::pair<std::string, std::string>>> names = {
      {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "EUM Test"}},
      {{"C", "es"}, {"O", "rsp test eum"}, {"CN", "EUM TEST"}},
      {{"C", "ES"}, {"O", "  RSP \t Test   EUM "}, {"CN", "EUM\nTest"}},
      {{"C", "ES"}, {"O", "RSP Test EUM2"}, {"CN", "EUM Test"}},
      {{"C", "ES"}, {"CN", "EUM Test"}, {"O", "RSP Test EUM"}},
      {{"C", "ES"}, {"O", "RSP Test EUM"}},
      {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "EUM Test"}, {"OU", "x"}},
      {{"C", "ES"}, {"O", "RSP-Test EUM"}, {"CN", "EUM Test"}},
  };
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto s = spec(Role::Eum, names[i]);
    s.eum_permitted = EumPermittedName{"RSP Test EUM", "89049032"};
    auto other = issue(s, &ci);
    const bool openssl = X509_NAME_cmp(X509_get_issuer_name(euicc.cert.x509()), X509_get_subject_name(other.cert.x509())) == 0;
    EXPECT_EQ(walked->issuer_is_subject_of(other.cert), openssl) << "name " << i;
    EXPECT_EQ(euicc.cert.issuer_is_subject_of(other.cert), openssl) << "name " << i;
    auto other_walked = Certificate::from_der(other.cert.der());
    ASSERT_TRUE(other_walked.has_value());
    EXPECT_EQ(walked->issuer_is_subject_of(*other_walked), openssl) << "name " << i;
  }
  EXPECT_EQ(names.size(), 8u);
}

}  // namespace
}  // namespace rsp::pki
