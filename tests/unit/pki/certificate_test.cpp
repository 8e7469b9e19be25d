// Parsing X.509 certificates into the RSP view (roles, SKI/AKI, EID, name constraints).

#include "rsp/pki/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/evp.h>

#include <algorithm>

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

/// Where `point` sits in `der` (it must be there once).
std::size_t offset_of(const Bytes& der, const Bytes& point) {
  auto it = std::search(der.begin(), der.end(), point.begin(), point.end());
  EXPECT_NE(it, der.end());
  return static_cast<std::size_t>(it - der.begin());
}

TEST(PkiCertificate, SubjectKeyOffTheCurveIsRefused) {
  for (auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    auto ci = make_ci("Unit Test CI", curve);
    Bytes der = ci.cert.der();
    der[offset_of(der, ci.key.public_point()) + 64] ^= 0x01;  // last byte of Y
    auto bad = Certificate::from_der(der);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, PkiError::Code::Malformed);
    EXPECT_NE(bad.error().message.find("subject public key"), std::string::npos) << bad.error().message;
  }
}

/// A DPauth certificate from `ci` for `key`, a key of any kind OpenSSL makes.
Certificate issue_for(const testing::Issued& ci, EVP_PKEY* key) {
  auto cert = issue_certificate(testing::spec(Role::DpAuth, {{"O", "ACME"}, {"CN", "Other key"}}), key, &ci.cert, ci.key);
  EXPECT_TRUE(cert.has_value()) << (cert ? "" : cert.error().message);
  return std::move(*cert);
}

TEST(PkiCertificate, CompressedPointAndOtherCurvesStillParse) {
  auto ci = make_ci();
  // P-256 with a compressed point: the same key as the uncompressed one.
  auto key = crypto::EcKey::generate(crypto::Curve::NistP256);
  ASSERT_TRUE(key.has_value());
  crypto::EvpPkeyPtr compressed(EVP_PKEY_dup(key->evp()));
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(compressed.get(), "point-format", "compressed"), 1);
  const Certificate c = issue_for(ci, compressed.get());
  const Bytes point = key->public_point();
  ASSERT_EQ(std::search(c.der().begin(), c.der().end(), point.begin(), point.end()), c.der().end())
      << "the certificate carries the uncompressed point";
  EXPECT_EQ(c.curve(), crypto::Curve::NistP256);
  EXPECT_EQ(c.key_group(), "prime256v1");
  auto pub = c.public_key();
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->public_point(), key->public_point());
  EXPECT_TRUE(key_matches_certificate(c, *key));

  // P-384: parsed, named, and no key of ours.
  crypto::EvpPkeyPtr p384(EVP_EC_gen("P-384"));
  ASSERT_TRUE(p384);
  const Certificate other = issue_for(ci, p384.get());
  EXPECT_FALSE(other.curve().has_value());
  EXPECT_EQ(other.key_group(), "secp384r1");
  EXPECT_FALSE(other.public_key().has_value());

  // Not an EC key at all: parsed and named the same way.
  crypto::EvpPkeyPtr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  const Certificate rsa_cert = issue_for(ci, rsa.get());
  EXPECT_FALSE(rsa_cert.curve().has_value());
  EXPECT_EQ(rsa_cert.key_group(), "RSA");
  EXPECT_FALSE(rsa_cert.public_key().has_value());
}

TEST(PkiCertificate, KeyMatchesOnlyItsOwnCertificate) {
  auto ci = make_ci();
  auto eum = make_eum(ci);
  EXPECT_TRUE(key_matches_certificate(ci.cert, ci.key));
  EXPECT_TRUE(key_matches_certificate(eum.cert, eum.key));
  EXPECT_FALSE(key_matches_certificate(ci.cert, eum.key));
  auto brp = crypto::EcKey::generate(crypto::Curve::BrainpoolP256r1);
  ASSERT_TRUE(brp.has_value());
  EXPECT_FALSE(key_matches_certificate(ci.cert, *brp));
}

TEST(PkiCertificate, SignatureChecksWithTheIssuerKeyOnly) {
  for (auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    auto ci = make_ci("Unit Test CI", curve);
    auto eum = make_eum(ci, "89049032", curve);
    EXPECT_TRUE(eum.cert.signature_verifies_with(ci.key));
    EXPECT_TRUE(ci.cert.signature_verifies_with(ci.key));  // self-signed
    EXPECT_FALSE(eum.cert.signature_verifies_with(eum.key));
    auto other = make_ci("Unit Test CI", curve);  // same name, another key
    EXPECT_FALSE(eum.cert.signature_verifies_with(other.key));

    // One changed byte of the signed part (the EUM's CN), still a certificate.
    Bytes der = eum.cert.der();
    const std::string cn = "EUM Test";
    auto at = std::search(der.begin(), der.end(), cn.begin(), cn.end());
    ASSERT_NE(at, der.end());
    *at = 'X';
    auto changed = Certificate::from_der(der);
    ASSERT_TRUE(changed.has_value());
    EXPECT_FALSE(changed->signature_verifies_with(ci.key));

    // One changed byte of the signature value (its last octet is s's).
    Bytes sig = eum.cert.der();
    sig.back() ^= 0x01;
    auto resigned = Certificate::from_der(sig);
    ASSERT_TRUE(resigned.has_value());
    EXPECT_FALSE(resigned->signature_verifies_with(ci.key));
  }
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
