// RFC 5280 types: the SGP.26 test certificates decode with the generated PKIX
// codecs and re-encode to identical bytes; SGP.22 messages carry them opaque.

#include <filesystem>

#include "samples.hpp"
#include "rsp/asn1/pkix.hpp"
#include "rsp/common/file.hpp"

namespace rsp::asn1 {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> reference_certificates() {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::path dir = fs::path(RSP_REFERENCE_DIR) / "certs";
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.path().extension() == ".der" && e.path().filename().string().rfind("CERT_", 0) == 0)
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Asn1Pkix, Sgp26CertificatesDecodeAndReencode) {
  auto files = reference_certificates();
  if (files.empty()) GTEST_SKIP() << "reference SGP.26 certificates not present";
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    auto der = read_file(path);
    ASSERT_TRUE(der);
    auto cert = decode<pkix::Certificate>(*der);
    ASSERT_TRUE(cert) << cert.error().to_string();
    EXPECT_EQ(to_hex(encode(*cert)), to_hex(*der));
    EXPECT_EQ(cert->tbsCertificate.version, 2);  // v3
    EXPECT_EQ(cert->signatureAlgorithm.algorithm.to_string().rfind("1.2.840.10045.4.3.", 0), 0u);  // ecdsa-with-SHA*
    ASSERT_TRUE(cert->tbsCertificate.extensions);
    // In an SGP.22 message the same bytes travel as an opaque element.
    sgp22::AuthenticateServerRequest q;
    q.serverSigned1 = test::server_signed1();
    q.serverSignature1 = test::filled(64, 1);
    q.euiccCiPKIdToBeUsed = test::kSki;
    q.serverCertificate = RawElement{*der};
    q.ctxParams1 = test::ctx_params1();
    auto back = decode<sgp22::AuthenticateServerRequest>(encode(q));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->serverCertificate.der, *der);
  }
}

TEST(Asn1Pkix, ImplicitlyTaggedCrlKeepsItsOwnTag) {
  // LoadCRLRequest.crl is [0] IMPLICIT CertificateList on the wire (A0), but
  // the kept bytes are the CRL's own DER (30), over which its signature is.
  sgp22::LoadCRLRequest q;
  q.crl = RawElement{test::hex("3006020101020102")};
  Bytes der = encode(q);
  EXPECT_EQ(to_hex(der), "BF3508A006020101020102");
  auto back = decode<sgp22::LoadCRLRequest>(der);
  ASSERT_TRUE(back);
  EXPECT_EQ(to_hex(back->crl.der), "3006020101020102");
}

}  // namespace
}  // namespace rsp::asn1
