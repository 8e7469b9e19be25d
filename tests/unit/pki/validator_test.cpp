// Chain validation: every success path and each typed failure.

#include "rsp/pki/validator.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "pki_test_util.hpp"
#include "rsp/pki/eid.hpp"

namespace rsp::pki {
namespace {

using testing::issue;
using testing::make_ci;
using testing::make_eum;
using testing::make_euicc;
using testing::make_leaf;
using testing::spec;
using C = PkiError::Code;

constexpr const char* kEid = "89049032123451234512345678901235";

class PkiValidator : public ::testing::Test {
 protected:
  testing::Issued ci = make_ci();
  testing::Issued eum = make_eum(ci);
  std::vector<Certificate> cis{ci.cert};
  std::vector<Certificate> ims{eum.cert};

  PkiResult<ValidatedChain> check(const Certificate& leaf, Role role, std::optional<TimePoint> at = std::nullopt) {
    return validate_chain(leaf, ims, cis, role, at);
  }
  C code_of(const Certificate& leaf, Role role, std::optional<TimePoint> at = std::nullopt) {
    auto r = check(leaf, role, at);
    EXPECT_FALSE(r.has_value());
    return r ? C::Internal : r.error().code;
  }
};

TEST_F(PkiValidator, EveryRoleValidatesOnBothCurves) {
  for (auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    auto ci2 = make_ci("Curve CI", curve);
    for (Role role : {Role::DpAuth, Role::DpPb, Role::DpTls, Role::DsAuth, Role::DsTls, Role::M2mTls}) {
      auto leaf = make_leaf(ci2, role, curve);
      std::vector<Certificate> trusted{ci.cert, ci2.cert};
      auto r = validate_chain(leaf.cert, {}, trusted, role);
      ASSERT_TRUE(r.has_value()) << role_name(role) << ": " << r.error().message;
      EXPECT_EQ(r->public_key.public_point(), leaf.key.public_point());
      EXPECT_EQ(r->path.size(), 2u);
      EXPECT_EQ(r->path.back().der(), ci2.cert.der());
    }
  }
}

TEST_F(PkiValidator, EuiccChainReturnsEidAndKey) {
  auto euicc = make_euicc(eum, kEid);
  auto r = check(euicc.cert, Role::Euicc);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->eid, kEid);
  EXPECT_EQ(r->public_key.public_point(), euicc.key.public_point());
  ASSERT_EQ(r->path.size(), 3u);
  // The EUM and the CI validate on their own roles too.
  EXPECT_TRUE(check(eum.cert, Role::Eum).has_value());
  EXPECT_TRUE(check(ci.cert, Role::Ci).has_value());
}

TEST_F(PkiValidator, WrongRole) {
  auto tls = make_leaf(ci, Role::DpTls);
  auto r = check(tls.cert, Role::DpAuth);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::WrongRole);
  EXPECT_NE(r.error().message.find("dp-tls"), std::string::npos);
  EXPECT_EQ(code_of(eum.cert, Role::DpAuth), C::WrongRole);
  EXPECT_EQ(code_of(ci.cert, Role::Eum), C::WrongRole);
}

TEST_F(PkiValidator, CertificateFromAnotherCiIsRefused) {
  // Same CI name, different key: found by name but not by key identifier.
  auto other = make_ci("Unit Test CI");
  auto leaf = make_leaf(other, Role::DpAuth);
  EXPECT_EQ(code_of(leaf.cert, Role::DpAuth), C::UnknownIssuer);
  auto stranger = make_ci("Stranger CI");
  auto leaf2 = make_leaf(stranger, Role::DpAuth);
  EXPECT_EQ(code_of(leaf2.cert, Role::DpAuth), C::UnknownIssuer);
  // The other CI itself is not trusted either.
  EXPECT_EQ(code_of(other.cert, Role::Ci), C::UnknownIssuer);
}

TEST_F(PkiValidator, TamperedCertificateHasBadSignature) {
  auto leaf = make_leaf(ci, Role::DpAuth);
  Bytes der = leaf.cert.der();
  const std::string needle = "TEST SM-DP+";
  auto it = std::search(der.begin(), der.end(), needle.begin(), needle.end());
  ASSERT_NE(it, der.end());
  *it = 'X';
  auto tampered = Certificate::from_der(der);
  ASSERT_TRUE(tampered.has_value());
  EXPECT_EQ(code_of(*tampered, Role::DpAuth), C::BadSignature);
  // A flipped bit in the signature value itself.
  Bytes der2 = leaf.cert.der();
  der2[der2.size() - 3] ^= 0x01;
  auto tampered2 = Certificate::from_der(der2);
  ASSERT_TRUE(tampered2.has_value());
  EXPECT_EQ(code_of(*tampered2, Role::DpAuth), C::BadSignature);
}

TEST_F(PkiValidator, KeyOnAnotherCurveIsRefused) {
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1");
  ASSERT_NE(p384, nullptr);
  auto s = spec(Role::DpAuth, {{"O", "ACME"}, {"CN", "P-384 SM-DP+"}});
  auto cert = issue_certificate(s, p384, &ci.cert, ci.key);
  EVP_PKEY_free(p384);
  ASSERT_TRUE(cert.has_value()) << cert.error().message;
  auto r = check(*cert, Role::DpAuth);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::WrongCurve);
  EXPECT_NE(r.error().message.find("secp384r1"), std::string::npos);
}

TEST_F(PkiValidator, EidOutsideTheEumRangeIsRefused) {
  // A valid EID with another issuer prefix, issued by our EUM on purpose.
  auto foreign = make_euicc(eum, "89049033123451234512345678901257");
  ASSERT_TRUE(is_valid_eid("89049033123451234512345678901257"));
  auto r = check(foreign.cert, Role::Euicc);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::EidOutOfRange);
  // Right prefix, wrong organisation.
  auto wrong_org = make_euicc(eum, kEid, "Other EUM");
  EXPECT_EQ(code_of(wrong_org.cert, Role::Euicc), C::EidOutOfRange);
  // Bad check digits.
  auto bad_check = make_euicc(eum, "89049032123451234512345678901234");
  EXPECT_EQ(code_of(bad_check.cert, Role::Euicc), C::InvalidEid);
}

TEST_F(PkiValidator, ExpiredAndNotYetValid) {
  // The leaf ends a day before its CI, so that at its last second the CI is
  // still valid (both "now + 365 days" could fall a second apart).
  auto leaf_spec = spec(Role::DpTls, {{"O", "ACME"}, {"CN", "localhost"}});
  leaf_spec.dns_names = {"localhost"};
  leaf_spec.not_after = ci.cert.not_after() - std::chrono::hours(24);
  auto leaf = issue(leaf_spec, &ci);
  auto r = check(leaf.cert, Role::DpTls, leaf.cert.not_after() + std::chrono::seconds(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::Expired);
  EXPECT_NE(r.error().message.find("certificate expired"), std::string::npos);
  EXPECT_TRUE(check(leaf.cert, Role::DpTls, leaf.cert.not_after()).has_value());
  EXPECT_EQ(code_of(leaf.cert, Role::DpTls, leaf.cert.not_before() - std::chrono::seconds(1)), C::NotYetValid);
  // An expired intermediate fails the eUICC chain.
  auto eum_spec = spec(Role::Eum, {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "Old EUM"}});
  eum_spec.eum_permitted = EumPermittedName{"RSP Test EUM", "89049032"};
  eum_spec.not_before = testing::now_seconds() - std::chrono::hours(3);
  eum_spec.not_after = testing::now_seconds() - std::chrono::hours(1);
  auto old_eum = issue(eum_spec, &ci);
  auto euicc = make_euicc(old_eum, kEid);
  std::vector<Certificate> old_ims{old_eum.cert};
  auto r2 = validate_chain(euicc.cert, old_ims, cis, Role::Euicc, old_eum.cert.not_after() + std::chrono::minutes(1));
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, C::Expired);
}

TEST_F(PkiValidator, PrefersAValidReissuedIntermediate) {
  // An expired and a current EUM certificate for the same key and name.
  auto old_spec = spec(Role::Eum, {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "EUM Test"}});
  old_spec.eum_permitted = EumPermittedName{"RSP Test EUM", "89049032"};
  old_spec.not_before = testing::now_seconds() - std::chrono::hours(3);
  old_spec.not_after = testing::now_seconds() - std::chrono::hours(2);
  auto old_cert = issue_certificate(old_spec, eum.key, &ci.cert, ci.key);
  ASSERT_TRUE(old_cert.has_value());
  auto euicc = make_euicc(eum, kEid);
  std::vector<Certificate> both{*old_cert, eum.cert};
  const auto at = testing::now_seconds();
  auto r = validate_chain(euicc.cert, both, cis, Role::Euicc, at);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->path[1].der(), eum.cert.der());
  std::vector<Certificate> only_old{*old_cert};
  EXPECT_EQ(validate_chain(euicc.cert, only_old, cis, Role::Euicc, at).error().code, C::Expired);
}

TEST_F(PkiValidator, MissingPolicyAndWrongKeyUsage) {
  auto plain = make_leaf(ci, Role::M2mTls);  // no certificatePolicies
  EXPECT_EQ(code_of(plain.cert, Role::DpTls), C::MissingExtension);
  auto s = spec(Role::DpAuth, {{"O", "ACME"}, {"CN", "KA SM-DP+"}});
  s.key_usage_override = "critical,keyAgreement";
  auto ka = issue(s, &ci);
  EXPECT_EQ(code_of(ka.cert, Role::DpAuth), C::WrongKeyUsage);
  auto s2 = spec(Role::DpAuth, {{"O", "ACME"}, {"CN", "Signing SM-DP+"}});
  s2.key_usage_override = "critical,digitalSignature,keyCertSign";
  auto signer = issue(s2, &ci);
  EXPECT_EQ(code_of(signer.cert, Role::DpAuth), C::WrongKeyUsage);
}

TEST_F(PkiValidator, EuiccWithoutItsEumIsUnknown) {
  auto euicc = make_euicc(eum, kEid);
  EXPECT_EQ(validate_chain(euicc.cert, {}, cis, Role::Euicc).error().code, C::UnknownIssuer);
  EXPECT_EQ(validate_chain(euicc.cert, ims, {}, Role::Euicc).error().code, C::UnknownIssuer);
}

TEST_F(PkiValidator, IntermediateOnlyForEuicc) {
  // A DPauth certificate signed by the EUM must not validate through it.
  auto s = spec(Role::DpAuth, {{"O", "ACME"}, {"CN", "EUM-issued SM-DP+"}});
  auto leaf = issue(s, &eum);
  EXPECT_EQ(code_of(leaf.cert, Role::DpAuth), C::WrongRole);
}

TEST_F(PkiValidator, GarbageDerIsMalformed) {
  auto r = validate_chain_der(as_bytes("\x30\x03\x02\x01\x01"), ims, cis, Role::DpAuth);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, C::Malformed);
}

}  // namespace
}  // namespace rsp::pki
