// Parsing X.509 certificates into the RSP view (roles, SKI/AKI, EID, name constraints).

#include "rsp/pki/certificate.hpp"

#include <gtest/gtest.h>

#include "pki_test_util.hpp"
#include "rsp/common/file.hpp"

namespace rsp::pki {
namespace {

using testing::issue;
using testing::make_ci;
using testing::make_eum;
using testing::make_euicc;
using testing::make_leaf;

TEST(PkiCertificate, GeneratedCiHasTheCiProfile) {
  auto ci = make_ci();
  const Certificate& c = ci.cert;
  EXPECT_EQ(c.role(), Role::Ci);
  EXPECT_TRUE(c.self_issued());
  EXPECT_TRUE(c.is_ca());
  EXPECT_EQ(c.key_usage(), unsigned{kKuKeyCertSign | kKuCrlSign});
  EXPECT_TRUE(c.subject_key_id().has_value());
  EXPECT_FALSE(c.authority_key_id().has_value());
  EXPECT_EQ(c.curve(), crypto::Curve::NistP256);
  EXPECT_TRUE(c.signed_with_ecdsa_sha256());
  ASSERT_EQ(c.policies().size(), 1u);
  EXPECT_EQ(c.policies()[0], "2.23.146.1.2.1.0");
}

TEST(PkiCertificate, EumNameConstraintsAndEuiccEid) {
  auto ci = make_ci();
  auto eum = make_eum(ci, "89049032", crypto::Curve::BrainpoolP256r1);
  ASSERT_EQ(eum.cert.eum_permitted().size(), 1u);
  EXPECT_EQ(eum.cert.eum_permitted()[0].organization, "RSP Test EUM");
  EXPECT_EQ(eum.cert.eum_permitted()[0].eid_prefix, "89049032");
  EXPECT_EQ(eum.cert.path_len(), 0);
  EXPECT_EQ(eum.cert.authority_key_id(), ci.cert.subject_key_id());
  EXPECT_EQ(eum.cert.curve(), crypto::Curve::BrainpoolP256r1);
  auto euicc = make_euicc(eum, "89049032123451234512345678901235");
  EXPECT_EQ(euicc.cert.role(), Role::Euicc);
  EXPECT_EQ(euicc.cert.subject_serial_number(), "89049032123451234512345678901235");
  EXPECT_EQ(euicc.cert.subject_organization(), "RSP Test EUM");
  EXPECT_FALSE(euicc.cert.is_ca());
}

TEST(PkiCertificate, TlsCertificateHasSanAndEku) {
  auto ci = make_ci();
  auto tls = make_leaf(ci, Role::DpTls);
  EXPECT_EQ(tls.cert.role(), Role::DpTls);
  EXPECT_TRUE(tls.cert.eku_server_auth());
  EXPECT_TRUE(tls.cert.eku_client_auth());
  ASSERT_EQ(tls.cert.dns_names().size(), 1u);
  EXPECT_EQ(tls.cert.dns_names()[0], "localhost");
}

TEST(PkiCertificate, PemRoundTripAndMultipleBlocks) {
  auto ci = make_ci();
  auto eum = make_eum(ci);
  const std::string pem = ci.cert.to_pem() + eum.cert.to_pem();
  auto certs = Certificate::load(as_bytes(pem));
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].der(), ci.cert.der());
  EXPECT_EQ((*certs)[1].der(), eum.cert.der());
  auto der = Certificate::load(ci.cert.der());
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(der->front().subject(), ci.cert.subject());
}

TEST(PkiCertificate, PublicKeyMatchesTheIssuedKey) {
  auto ci = make_ci();
  auto key = ci.cert.public_key();
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->public_point(), ci.key.public_point());
}

TEST(PkiCertificate, RejectsMalformedInput) {
  auto ci = make_ci();
  Bytes der = ci.cert.der();
  EXPECT_EQ(Certificate::from_der({}).error().code, PkiError::Code::Malformed);
  Bytes truncated(der.begin(), der.end() - 1);
  EXPECT_EQ(Certificate::from_der(truncated).error().code, PkiError::Code::Malformed);
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(Certificate::from_der(trailing).error().code, PkiError::Code::Malformed);
  EXPECT_EQ(Certificate::from_der(as_bytes("hello")).error().code, PkiError::Code::Malformed);
  EXPECT_EQ(Certificate::load(as_bytes("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
                .error()
                .code,
            PkiError::Code::Malformed);
  Bytes huge(Certificate::kMaxDerSize + 1, 0x30);
  EXPECT_EQ(Certificate::from_der(huge).error().code, PkiError::Code::Malformed);
}

TEST(PkiCertificate, LoadFileReportsMissingFiles) {
  auto r = Certificate::load_file("/nonexistent/CERT_CI_ECDSA_NIST.pem");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, PkiError::Code::Io);
}

TEST(PkiCertificate, M2mTlsHasNoRspPolicy) {
  auto ci = make_ci();
  auto m2m = make_leaf(ci, Role::M2mTls);
  EXPECT_TRUE(m2m.cert.policies().empty());
  EXPECT_EQ(m2m.cert.role(), Role::M2mTls);
}

TEST(PkiRoles, PolicyOidsFollowSgp22) {
  EXPECT_EQ(policy_oid(Role::Ci), "2.23.146.1.2.1.0");
  EXPECT_EQ(policy_oid(Role::Euicc), "2.23.146.1.2.1.1");
  EXPECT_EQ(policy_oid(Role::Eum), "2.23.146.1.2.1.2");
  EXPECT_EQ(policy_oid(Role::DpTls), "2.23.146.1.2.1.3");
  EXPECT_EQ(policy_oid(Role::DpAuth), "2.23.146.1.2.1.4");
  EXPECT_EQ(policy_oid(Role::DpPb), "2.23.146.1.2.1.5");
  EXPECT_EQ(policy_oid(Role::DsTls), "2.23.146.1.2.1.6");
  EXPECT_EQ(policy_oid(Role::DsAuth), "2.23.146.1.2.1.7");
  EXPECT_FALSE(policy_oid(Role::M2mTls).has_value());
  EXPECT_EQ(role_from_policy("2.23.146.1.2.1.4"), Role::DpAuth);
  EXPECT_FALSE(role_from_policy("2.23.146.1.2.1.8").has_value());
  EXPECT_EQ(role_from_name("dp-pb"), Role::DpPb);
}

TEST(PkiTime, ParsesAndFormatsUtc) {
  auto t = parse_utc_time("2026-08-02T13:14:38Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_utc_time(*t), "2026-08-02T13:14:38Z");
  EXPECT_EQ(format_utc_time(*parse_utc_time("2026-07-01")), "2026-07-01T00:00:00Z");
  EXPECT_FALSE(parse_utc_time("2026-02-30T00:00:00Z").has_value());
  EXPECT_FALSE(parse_utc_time("2026-07-01 00:00:00").has_value());
  EXPECT_FALSE(parse_utc_time("2026-07-01T24:00:00Z").has_value());
}

}  // namespace
}  // namespace rsp::pki
