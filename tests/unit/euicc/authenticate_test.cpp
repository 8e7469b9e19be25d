// AuthenticateServer (SGP.22 §5.7.13) through Card::transmit. The SM-DP+ side
// here is a TEST DOUBLE: it signs serverSigned1 with the DPauth key of the
// shared test PKI, as the real SM-DP+ (component smdpp) does.

#include "euicc_fixture.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/pki/key_store.hpp"

namespace rsp::euicc::test {
namespace {

using namespace asn1::sgp22;

class AuthenticateTest : public EuiccTest {
 protected:
  /// A request as the SM-DP+ test double builds it (NIST curve).
  AuthenticateServerRequest request(const Bytes& challenge) {
    auto cert = pki::Certificate::load_file(shared_pki_dir() / "CERT_S_SM_DPauth_ECDSA_NIST.pem");
    auto key = pki::load_private_key_file(shared_pki_dir() / "SK_S_SM_DPauth_ECDSA_NIST.pem");
    EXPECT_TRUE(cert && key);
    AuthenticateServerRequest r;
    r.serverSigned1.transactionId = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    r.serverSigned1.euiccChallenge = challenge;
    r.serverSigned1.serverAddress = "smdp.example.com";
    r.serverSigned1.serverChallenge = Bytes(16, 0x5C);
    r.serverSignature1 = *crypto::sign_plain(*key, asn1::encode(r.serverSigned1));
    r.euiccCiPKIdToBeUsed = store_->identity()->curves.front().ci_pkid;
    r.serverCertificate.der = cert->front().der();
    CtxParamsForCommonAuthentication ctx;
    ctx.matchingId = "MATCHING-ID-1";
    ctx.deviceInfo.tac = {0x35, 0x29, 0x06, 0x11};
    r.ctxParams1.alternative = ctx;
    return r;
  }

  Bytes challenge() { return call<GetEuiccChallengeResponse>(GetEuiccChallengeRequest{}).euiccChallenge; }

  std::int64_t error_of(const AuthenticateServerRequest& r) {
    auto resp = call<AuthenticateServerResponse>(r);
    EXPECT_NE(resp.authenticateResponseError(), nullptr);
    return resp.authenticateResponseError() ? resp.authenticateResponseError()->authenticateErrorCode : -1;
  }
};

TEST_F(AuthenticateTest, SignsEuiccSigned1WithTheEuiccKey) {
  auto req = request(challenge());
  auto resp = call<AuthenticateServerResponse>(req);
  const auto* ok = resp.authenticateResponseOk();
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->euiccSigned1.transactionId, req.serverSigned1.transactionId);
  EXPECT_EQ(ok->euiccSigned1.serverChallenge, req.serverSigned1.serverChallenge);
  const auto* ctx = ok->euiccSigned1.ctxParams1.ctxParamsForCommonAuthentication();
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(ctx->matchingId, std::optional<std::string>("MATCHING-ID-1"));
  auto cert = pki::Certificate::from_der(ok->euiccCertificate.der);
  ASSERT_TRUE(cert.has_value());
  EXPECT_TRUE(crypto::verify_plain(*cert->public_key(), asn1::encode(ok->euiccSigned1), ok->euiccSignature1)
                  .has_value());
  // the challenge is one-time: a replay fails
  EXPECT_EQ(error_of(req), AuthenticateErrorCode_values::noSessionContext);
}

TEST_F(AuthenticateTest, RefusesBadInputsWithTheSpecCodes) {
  auto c = challenge();
  auto wrong_challenge = request(Bytes(16, 0x00));
  EXPECT_EQ(error_of(wrong_challenge), AuthenticateErrorCode_values::euiccChallengeMismatch);

  auto tampered = request(c);
  tampered.serverSigned1.serverAddress = "evil.example.com";
  EXPECT_EQ(error_of(tampered), AuthenticateErrorCode_values::invalidSignature);

  auto unknown_ci = request(c);
  unknown_ci.euiccCiPKIdToBeUsed = Bytes(20, 0xAB);
  EXPECT_EQ(error_of(unknown_ci), AuthenticateErrorCode_values::ciPKUnknown);

  auto not_dpauth = request(c);
  not_dpauth.serverCertificate.der = store_->identity()->curves.front().eum_cert;
  EXPECT_EQ(error_of(not_dpauth), AuthenticateErrorCode_values::invalidCertificate);

  auto no_session = request(Bytes(16, 0x00));
  reopen();
  EXPECT_EQ(error_of(no_session), AuthenticateErrorCode_values::noSessionContext);
}

/// The SM-DP+ test double's PrepareDownloadRequest after a successful
/// AuthenticateServer (DPpb key of the shared test PKI).
PrepareDownloadRequest prepare_request(const AuthenticateResponseOk& auth, bool cc) {
  auto cert = pki::Certificate::load_file(shared_pki_dir() / "CERT_S_SM_DPpb_ECDSA_NIST.pem");
  auto key = pki::load_private_key_file(shared_pki_dir() / "SK_S_SM_DPpb_ECDSA_NIST.pem");
  EXPECT_TRUE(cert && key);
  PrepareDownloadRequest r;
  r.smdpSigned2.transactionId = auth.euiccSigned1.transactionId;
  r.smdpSigned2.ccRequiredFlag = cc;
  tlv::Writer w;
  w.put(tlv::Tag::application(55), auth.euiccSignature1);
  Bytes data = asn1::encode(r.smdpSigned2);
  Bytes sig1 = w.take();
  data.insert(data.end(), sig1.begin(), sig1.end());
  r.smdpSignature2 = *crypto::sign_plain(*key, data);
  if (cc) r.hashCc = Bytes(32, 0x33);
  r.smdpCertificate.der = cert->front().der();
  return r;
}

TEST_F(AuthenticateTest, PrepareDownloadGivesAOneTimeKeySignedByTheEuicc) {
  auto auth = call<AuthenticateServerResponse>(request(challenge()));
  ASSERT_NE(auth.authenticateResponseOk(), nullptr);
  const auto& ok1 = *auth.authenticateResponseOk();

  auto tampered = prepare_request(ok1, true);
  tampered.smdpSigned2.ccRequiredFlag = false;
  auto resp = call<PrepareDownloadResponse>(tampered);
  ASSERT_NE(resp.downloadResponseError(), nullptr);
  EXPECT_EQ(resp.downloadResponseError()->downloadErrorCode, DownloadErrorCode_values::invalidSignature);

  auto wrong_cert = prepare_request(ok1, false);
  wrong_cert.smdpCertificate = request(Bytes(16, 0)).serverCertificate;  // DPauth, not DPpb
  resp = call<PrepareDownloadResponse>(wrong_cert);
  ASSERT_NE(resp.downloadResponseError(), nullptr);
  EXPECT_EQ(resp.downloadResponseError()->downloadErrorCode, DownloadErrorCode_values::invalidCertificate);

  auto good = prepare_request(ok1, true);
  resp = call<PrepareDownloadResponse>(good);
  ASSERT_NE(resp.downloadResponseOk(), nullptr) << resp.alternative_name();
  const auto& ok2 = *resp.downloadResponseOk();
  EXPECT_EQ(ok2.euiccSigned2.transactionId, ok1.euiccSigned1.transactionId);
  EXPECT_EQ(ok2.euiccSigned2.euiccOtpk.size(), 65u);
  EXPECT_EQ(ok2.euiccSigned2.hashCc, good.hashCc);
  tlv::Writer w;
  w.put(tlv::Tag::application(55), good.smdpSignature2);
  Bytes data = asn1::encode(ok2.euiccSigned2);
  Bytes sig = w.take();
  data.insert(data.end(), sig.begin(), sig.end());
  auto cert = pki::Certificate::from_der(ok1.euiccCertificate.der);
  EXPECT_TRUE(crypto::verify_plain(*cert->public_key(), data, ok2.euiccSignature2).has_value());
}

TEST_F(AuthenticateTest, PrepareDownloadOutsideASessionIsRefused) {
  AuthenticateResponseOk fake;
  fake.euiccSigned1.transactionId = {9, 9, 9, 9};
  fake.euiccSignature1 = Bytes(64, 1);
  auto resp = call<PrepareDownloadResponse>(prepare_request(fake, false));
  ASSERT_NE(resp.downloadResponseError(), nullptr);
  EXPECT_EQ(resp.downloadResponseError()->downloadErrorCode, DownloadErrorCode_values::noSessionContext);
}

}  // namespace
}  // namespace rsp::euicc::test
