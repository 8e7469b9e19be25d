// SM-DP+ core: failures answer the exact SGP.22 subject / reason codes.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/issuer.hpp"
#include "rsp/pki/key_store.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace sg = asn1::sgp22;
const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF2};

#define EXPECT_CODE(result, code)                                                             \
  do {                                                                                        \
    ASSERT_FALSE(result);                                                                     \
    EXPECT_EQ((result).error().subject_code, (code).subject) << (result).error().message;     \
    EXPECT_EQ((result).error().reason_code, (code).reason) << (result).error().message;       \
  } while (0)

class SmdppNegative : public ::testing::Test {
 protected:
  SmdppNegative() : w(test_pki_dir()), e(test_euicc_credentials(crypto::Curve::NistP256), w.rng) {
    auto p = PreparedProfile::prepare(make_test_upp(kIccid, 200), {"SP", "P", std::nullopt}, false, w.rng);
    profile = *p;
    w.catalog->add(ProfileOrder{"M1", e.eid(), std::nullopt, 3, profile});
  }
  sg::InitiateAuthenticationOkEs9 init() {
    auto r = w.server->initiate_authentication(e.initiate(kAddress));
    EXPECT_TRUE(r);
    return *r;
  }
  sg::AuthenticateClientOk auth(const std::string& mid = "M1") {
    auto r = w.server->authenticate_client(*e.authenticate_server(init(), mid));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return *r;
  }
  World w;
  TestEuicc e;
  std::shared_ptr<const PreparedProfile> profile;
};

TEST_F(SmdppNegative, WrongSmdpAddress) {
  auto r = w.server->initiate_authentication(e.initiate("other.example"));
  EXPECT_CODE(r, codes::kInvalidSmdpAddress);
}

// SGP.22 v2.2.2 §5.6.1: the CIs the eUICC signs with decide whether we can
// verify it at all (8.8.2 / 3.1); the CIs it verifies with decide whether we
// have a DPauth certificate it accepts (8.8.4 / 3.7).
TEST_F(SmdppNegative, NoneOfTheEuiccsCisIsSupported) {
  auto req = e.initiate(kAddress);
  req.euiccInfo1.euiccCiPKIdListForVerification = {Bytes(20, 0x42)};
  req.euiccInfo1.euiccCiPKIdListForSigning = {Bytes(20, 0x42), Bytes(20, 0x43)};
  auto r = w.server->initiate_authentication(req);
  EXPECT_CODE(r, codes::kSecurityConfigNotSupported);
  EXPECT_EQ(w.server->session_count(), 0u);
}

TEST_F(SmdppNegative, SigningCiSupportedButNoDpAuthUnderAVerificationCi) {
  auto req = e.initiate(kAddress);
  ASSERT_FALSE(req.euiccInfo1.euiccCiPKIdListForSigning.empty());  // our CI: the eUICC can be verified
  req.euiccInfo1.euiccCiPKIdListForVerification = {Bytes(20, 0x42)};
  auto r = w.server->initiate_authentication(req);
  EXPECT_CODE(r, codes::kServerCertUnavailable);
  EXPECT_EQ(w.server->session_count(), 0u);
}

TEST_F(SmdppNegative, TrustedCiWithoutAnIdentityIsUnavailableNotUnsupported) {
  // A CI we trust for eUICC chains but hold no DPauth under: the other curve's.
  auto nist_only = std::make_shared<IdentitySet>();
  for (const auto& id : w.identities->identities()) {
    if (id.ci_pkid == *test_euicc_credentials(crypto::Curve::NistP256).ci_cert.subject_key_id()) {
      ASSERT_TRUE(nist_only->add(id));
    }
  }
  for (const auto& ci : w.identities->cis()) nist_only->add_ci(ci);
  const auto brp = test_euicc_credentials(crypto::Curve::BrainpoolP256r1);
  const Bytes brp_ci = *brp.ci_cert.subject_key_id();
  ServerConfig config;
  config.address = kAddress;
  Server server(config, nist_only, w.catalog, w.clock, w.rng);
  auto req = e.initiate(kAddress);
  req.euiccInfo1.euiccCiPKIdListForVerification = {brp_ci};
  req.euiccInfo1.euiccCiPKIdListForSigning = {brp_ci};
  EXPECT_CODE(server.initiate_authentication(req), codes::kServerCertUnavailable);
  req.euiccInfo1.euiccCiPKIdListForSigning = {Bytes(20, 0x42)};
  EXPECT_CODE(server.initiate_authentication(req), codes::kSecurityConfigNotSupported);
}

TEST_F(SmdppNegative, WrongEuiccSignature1) {
  auto acr = *e.authenticate_server(init(), std::string("M1"));
  std::get<0>(acr.authenticateServerResponse.alternative).euiccSignature1[5] ^= 0x01;
  auto r = w.server->authenticate_client(acr);
  EXPECT_CODE(r, codes::kEuiccSignatureInvalid);
}

TEST_F(SmdppNegative, TamperedSignedData) {
  auto acr = *e.authenticate_server(init(), std::string("M1"));
  std::get<0>(acr.authenticateServerResponse.alternative).euiccSigned1.serverAddress = "x";
  auto r = w.server->authenticate_client(acr);
  EXPECT_CODE(r, codes::kEuiccSignatureInvalid);
}

TEST_F(SmdppNegative, UnknownTransactionId) {
  auto acr = *e.authenticate_server(init(), std::string("M1"));
  acr.transactionId = Bytes(16, 0xEE);
  auto r = w.server->authenticate_client(acr);
  EXPECT_CODE(r, codes::kUnknownTransactionId);
}

TEST_F(SmdppNegative, ReplayedTransactionId) {
  auto acr = *e.authenticate_server(init(), std::string("M1"));
  ASSERT_TRUE(w.server->authenticate_client(acr));
  auto r = w.server->authenticate_client(acr);
  EXPECT_CODE(r, codes::kUnknownTransactionId);
  // And a BPP request replayed after success.
  auto ok = w.server->authenticate_client(*e.authenticate_server(init(), std::string("M1")));
  ASSERT_TRUE(ok);
  auto gbpp = *e.prepare_download(*ok, std::nullopt);
  ASSERT_TRUE(w.server->get_bound_profile_package(gbpp));
  auto again = w.server->get_bound_profile_package(gbpp);
  EXPECT_CODE(again, codes::kUnknownTransactionId);
}

TEST_F(SmdppNegative, WrongEid) {
  w.catalog->add(ProfileOrder{"BOUND", std::string("89049032000000000000000000000000"), std::nullopt, 3, profile});
  auto r = w.server->authenticate_client(*e.authenticate_server(init(), std::string("BOUND")));
  EXPECT_CODE(r, codes::kEidMismatch);
}

TEST_F(SmdppNegative, UnknownMatchingId) {
  auto r = w.server->authenticate_client(*e.authenticate_server(init(), std::string("NOPE")));
  EXPECT_CODE(r, codes::kMatchingIdRefused);
}

TEST_F(SmdppNegative, ExpiredSession) {
  auto i = init();
  w.clock.advance(std::chrono::seconds(301));
  auto r = w.server->authenticate_client(*e.authenticate_server(i, std::string("M1")));
  EXPECT_CODE(r, codes::kUnknownTransactionId);
  EXPECT_EQ(w.server->session_count(), 0u);
}

TEST_F(SmdppNegative, SessionUsableUntilItsLastSecond) {
  // Before AuthenticateClient a session has the short pending timeout, all
  // of it, in whole seconds.
  auto i = init();
  w.clock.advance(ServerConfig{}.pending_session_timeout);
  EXPECT_TRUE(w.server->authenticate_client(*e.authenticate_server(i, std::string("M1"))));
}

TEST_F(SmdppNegative, AnUnauthenticatedSessionEndsAfterThePendingTimeout) {
  auto i = init();
  w.clock.advance(ServerConfig{}.pending_session_timeout + std::chrono::seconds(1));
  auto r = w.server->authenticate_client(*e.authenticate_server(i, std::string("M1")));
  EXPECT_CODE(r, codes::kUnknownTransactionId);
}

TEST_F(SmdppNegative, WrongEuiccSignature2) {
  auto gbpp = *e.prepare_download(auth(), std::nullopt);
  std::get<0>(gbpp.prepareDownloadResponse.alternative).euiccSignature2[0] ^= 0x80;
  auto r = w.server->get_bound_profile_package(gbpp);
  EXPECT_CODE(r, codes::kEuiccSignatureInvalid);
}

TEST_F(SmdppNegative, EidOutsideEumRange) {
  // An eUICC certificate the EUM signed for an EID outside its permitted prefix.
  const auto& dir = test_pki_dir();
  auto creds = test_euicc_credentials(crypto::Curve::NistP256);
  auto eum_key = pki::load_private_key_file(dir / "SK_EUM_ECDSA_NIST.pem");
  ASSERT_TRUE(eum_key);
  pki::CertificateSpec spec;
  spec.role = pki::Role::Euicc;
  const auto& permitted = creds.eum_cert.eum_permitted();
  ASSERT_FALSE(permitted.empty());
  const auto eid = pki::make_eid("89999999", "0000000000000000000001");
  ASSERT_TRUE(eid);
  spec.subject = {{"C", "ES"}, {"O", permitted[0].organization.value_or("")}, {"serialNumber", *eid}, {"CN", "Bad"}};
  spec.not_before = creds.eum_cert.not_before();
  spec.not_after = creds.eum_cert.not_after();
  auto cert = pki::issue_certificate(spec, creds.euicc_key, &creds.eum_cert, *eum_key);
  ASSERT_TRUE(cert) << cert.error().message;
  creds.euicc_cert = *cert;
  TestEuicc bad(creds, w.rng);
  auto i = w.server->initiate_authentication(bad.initiate(kAddress));
  ASSERT_TRUE(i);
  auto r = w.server->authenticate_client(*bad.authenticate_server(*i, std::string("M1")));
  EXPECT_CODE(r, codes::kEuiccCertInvalid);
}

TEST_F(SmdppNegative, CancelSessionEndsIt) {
  auto a = auth();
  ASSERT_TRUE(w.server->cancel_session(e.cancel(sg::CancelSessionReason_values::endUserRejection)));
  auto r = w.server->get_bound_profile_package(*e.prepare_download(a, std::nullopt));
  EXPECT_CODE(r, codes::kUnknownTransactionId);
  EXPECT_EQ(w.catalog->events("M1"), std::vector<OrderEvent>{OrderEvent::Cancelled});
}

TEST_F(SmdppNegative, CancelSessionBadSignatureKeepsSession) {
  auto a = auth();
  auto c = e.cancel(1);
  std::get<0>(c.cancelSessionResponse.alternative).euiccCancelSessionSignature[3] ^= 1;
  auto r = w.server->cancel_session(c);
  EXPECT_CODE(r, codes::kEuiccSignatureInvalid);
  EXPECT_TRUE(w.server->get_bound_profile_package(*e.prepare_download(a, std::nullopt)));
}

// Certificates in the order SGP.22 v2.2.2 §5.6.2 checks them: a CI we do not
// know (8.11.1 / 3.9), then expiry (6.3), then the rest of the profile (6.1).
class CertificateOrder : public SmdppNegative {
 protected:
  pki::CertificateSpec eum_spec(std::chrono::seconds expired_for) const {
    pki::CertificateSpec spec;
    spec.role = pki::Role::Eum;
    spec.subject = {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "EUM Again"}};
    spec.not_before = w.clock.now() - std::chrono::hours(24 * 400);
    spec.not_after = w.clock.now() - expired_for;
    spec.registered_id = "2.999.5";
    spec.eum_permitted = creds.eum_cert.eum_permitted().front();
    return spec;
  }
  /// AuthenticateClient of the genuine eUICC presenting `eum` (and `euicc`).
  SmdppResult<sg::AuthenticateClientOk> present(const pki::Certificate& eum,
                                                std::optional<pki::Certificate> euicc = std::nullopt) {
    auto c = creds;
    c.eum_cert = eum;
    if (euicc) c.euicc_cert = *euicc;
    TestEuicc card(c, w.rng);
    auto i = w.server->initiate_authentication(card.initiate(kAddress));
    if (!i) return unexpected(i.error());
    return w.server->authenticate_client(*card.authenticate_server(*i, std::string("M1")));
  }
  TestEuiccCredentials creds = test_euicc_credentials(crypto::Curve::NistP256);
  crypto::EcKey ci_key = *pki::load_private_key_file(test_pki_dir() / "SK_CI_ECDSA_NIST.pem");
  crypto::EcKey eum_key = *pki::load_private_key_file(test_pki_dir() / "SK_EUM_ECDSA_NIST.pem");
};

TEST_F(CertificateOrder, AnExpiredEumCertificateIsExpired) {
  auto eum = pki::issue_certificate(eum_spec(std::chrono::hours(1)), eum_key, &creds.ci_cert, ci_key);
  ASSERT_TRUE(eum) << eum.error().message;
  EXPECT_CODE(present(*eum), codes::kEumCertExpired);
}

TEST_F(CertificateOrder, ExpiryComesBeforeARoleError) {
  auto spec = eum_spec(std::chrono::hours(1));
  spec.role = pki::Role::DpAuth;  // the wrong role's policy, and expired
  spec.eum_permitted.reset();
  auto eum = pki::issue_certificate(spec, eum_key, &creds.ci_cert, ci_key);
  ASSERT_TRUE(eum) << eum.error().message;
  EXPECT_CODE(present(*eum), codes::kEumCertExpired);
  // Valid in time, the role is what is wrong.
  spec.not_after = w.clock.now() + std::chrono::hours(24);
  auto current = pki::issue_certificate(spec, eum_key, &creds.ci_cert, ci_key);
  ASSERT_TRUE(current);
  EXPECT_CODE(present(*current), codes::kEumCertInvalid);
}

TEST_F(CertificateOrder, AnEumUnderAnUnknownCiIsAnUnknownCiEvenWhenExpiredOrOfAnotherRole) {
  // A CI of its own, not one we trust.
  pki::CertificateSpec ci_spec;
  ci_spec.role = pki::Role::Ci;
  ci_spec.subject = {{"CN", "Some Other CI"}, {"O", "ELSEWHERE"}, {"C", "IT"}};
  ci_spec.not_before = w.clock.now() - std::chrono::hours(24);
  ci_spec.not_after = w.clock.now() + std::chrono::hours(24 * 365);
  ci_spec.registered_id = "2.999.99";
  auto other_key = crypto::EcKey::generate(crypto::Curve::NistP256, w.rng);
  ASSERT_TRUE(other_key);
  auto other_ci = pki::issue_certificate(ci_spec, *other_key, nullptr, *other_key);
  ASSERT_TRUE(other_ci) << other_ci.error().message;
  for (auto expired_for : {std::chrono::seconds(-3600), std::chrono::seconds(3600)}) {
    auto eum = pki::issue_certificate(eum_spec(expired_for), eum_key, &*other_ci, *other_key);
    ASSERT_TRUE(eum) << eum.error().message;
    EXPECT_CODE(present(*eum), codes::kUnknownCiPk);
  }
  auto spec = eum_spec(std::chrono::seconds(3600));
  spec.role = pki::Role::DpAuth;
  spec.eum_permitted.reset();
  auto wrong_role = pki::issue_certificate(spec, eum_key, &*other_ci, *other_key);
  ASSERT_TRUE(wrong_role);
  EXPECT_CODE(present(*wrong_role), codes::kUnknownCiPk);
}

TEST_F(CertificateOrder, AnExpiredEuiccCertificateIsExpired) {
  pki::CertificateSpec spec;
  spec.role = pki::Role::Euicc;
  spec.subject = {{"C", "ES"},
                  {"O", creds.eum_cert.eum_permitted().front().organization.value_or("")},
                  {"serialNumber", e.eid()},
                  {"CN", "Expired eUICC"}};
  spec.not_before = w.clock.now() - std::chrono::hours(48);
  spec.not_after = w.clock.now() - std::chrono::hours(1);
  auto euicc = pki::issue_certificate(spec, creds.euicc_key, &creds.eum_cert, eum_key);
  ASSERT_TRUE(euicc) << euicc.error().message;
  EXPECT_CODE(present(creds.eum_cert, *euicc), codes::kEuiccCertExpired);
}

// SGP.22 v2.2.2 §5.6.5: the signed smdpOid must be this SM-DP+'s (8.8 / 3.10);
// such a cancel does not end the session.
TEST_F(SmdppNegative, CancelSessionNamingAnotherSmdpOid) {
  auto a = auth();
  auto r = w.server->cancel_session(e.cancel(sg::CancelSessionReason_values::endUserRejection,
                                             *asn1::Oid::from_string("2.999.77")));
  EXPECT_CODE(r, codes::kInvalidSmdpOid);
  EXPECT_TRUE(w.catalog->events("M1").empty());
  ASSERT_TRUE(w.server->cancel_session(e.cancel(sg::CancelSessionReason_values::endUserRejection)));
  EXPECT_EQ(w.catalog->events("M1"), std::vector<OrderEvent>{OrderEvent::Cancelled});
  EXPECT_CODE(w.server->get_bound_profile_package(*e.prepare_download(a, std::nullopt)), codes::kUnknownTransactionId);
}

TEST_F(SmdppNegative, ForgedInstallationResult) {
  auto gbpp = *e.prepare_download(auth(), std::nullopt);
  ASSERT_TRUE(w.server->get_bound_profile_package(gbpp));
  auto n = e.install_result(true);
  std::get<0>(n.alternative).euiccSignPIR[1] ^= 1;
  auto r = w.server->handle_notification(n);
  EXPECT_CODE(r, codes::kEuiccSignatureInvalid);
  auto good = w.server->handle_notification(e.install_result(false));
  ASSERT_TRUE(good);
  EXPECT_FALSE(good->install_success);
}

TEST_F(SmdppNegative, OtherSignedNotification) {
  (void)e.initiate(kAddress);
  auto ok = w.server->handle_notification(e.other_notification(7));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->seq_number, 7);
  EXPECT_EQ(ok->eid, e.eid());
  auto n = e.other_notification(8);
  std::get<1>(n.alternative).tbsOtherNotification.seqNumber = 9;
  auto bad = w.server->handle_notification(n);
  EXPECT_CODE(bad, codes::kEuiccSignatureInvalid);
}

}  // namespace
}  // namespace rsp::smdpp::testing
