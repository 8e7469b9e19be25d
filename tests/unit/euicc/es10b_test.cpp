// The ES10b functions outside the download, through Card::transmit
// (SGP.22 §5.7.7-§5.7.12, §5.7.22).

#include "euicc_fixture.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::euicc::test {
namespace {

using namespace asn1::sgp22;

TEST_F(EuiccTest, ChallengeIsFreshEachTime) {
  auto a = call<GetEuiccChallengeResponse>(GetEuiccChallengeRequest{});
  auto b = call<GetEuiccChallengeResponse>(GetEuiccChallengeRequest{});
  EXPECT_EQ(a.euiccChallenge.size(), 16u);
  EXPECT_NE(a.euiccChallenge, b.euiccChallenge);
}

TEST_F(EuiccTest, EuiccInfoNamesTheTrustedCis) {
  auto id = store_->identity();
  ASSERT_TRUE(id.has_value());
  ASSERT_EQ(id->curves.size(), 2u);
  auto info1 = call<EUICCInfo1>(GetEuiccInfo1Request{});
  EXPECT_EQ(info1.svn, (Bytes{2, 2, 2}));
  ASSERT_EQ(info1.euiccCiPKIdListForVerification.size(), 2u);
  EXPECT_EQ(info1.euiccCiPKIdListForVerification[0], id->curves[0].ci_pkid);
  EXPECT_EQ(info1.euiccCiPKIdListForSigning[1], id->curves[1].ci_pkid);
  auto info2 = call<EUICCInfo2>(GetEuiccInfo2Request{});
  EXPECT_EQ(info2.svn, (Bytes{2, 2, 2}));
  EXPECT_EQ(info2.euiccCiPKIdListForSigning.size(), 2u);
  EXPECT_TRUE(info2.rspCapability.test(RspCapability_values::additionalProfile));
  EXPECT_FALSE(info2.rspCapability.test(RspCapability_values::crlSupport));
}

TEST_F(EuiccTest, NotificationsAreSignedListedAndRemoved) {
  auto a = sample_profile(1);
  auto b = sample_profile(2);
  add_profiles({a, b});
  EnableProfileRequest en;
  en.profileIdentifier.set_iccid(a.iccid);
  ASSERT_EQ(call<EnableProfileResponse>(en).enableResult, 0);
  DisableProfileRequest dis;
  dis.profileIdentifier.set_iccid(a.iccid);
  ASSERT_EQ(call<DisableProfileResponse>(dis).disableResult, 0);

  auto listed = call<ListNotificationResponse>(ListNotificationRequest{});
  ASSERT_NE(listed.notificationMetadataList(), nullptr);
  ASSERT_EQ(listed.notificationMetadataList()->size(), 2u);
  const auto first_seq = listed.notificationMetadataList()->front().seqNumber;
  EXPECT_EQ(listed.notificationMetadataList()->front().notificationAddress, "smdp1.example.com");

  ListNotificationRequest only_disable;
  only_disable.profileManagementOperation = asn1::BitString::from_bits({2});
  listed = call<ListNotificationResponse>(only_disable);
  ASSERT_EQ(listed.notificationMetadataList()->size(), 1u);
  EXPECT_TRUE(listed.notificationMetadataList()->front().profileManagementOperation.test(2));

  auto all = call<RetrieveNotificationsListResponse>(RetrieveNotificationsListRequest{});
  ASSERT_NE(all.notificationList(), nullptr);
  ASSERT_EQ(all.notificationList()->size(), 2u);
  const auto* signed_n = all.notificationList()->front().otherSignedNotification();
  ASSERT_NE(signed_n, nullptr);
  auto cert = pki::Certificate::from_der(signed_n->euiccCertificate.der);
  ASSERT_TRUE(cert.has_value());
  auto key = cert->public_key();
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(crypto::verify_plain(*key, asn1::encode(signed_n->tbsOtherNotification),
                                   signed_n->euiccNotificationSignature)
                  .has_value());

  RetrieveNotificationsListRequest by_seq;
  by_seq.searchCriteria.emplace().set_seqNumber(first_seq);
  auto one = call<RetrieveNotificationsListResponse>(by_seq);
  ASSERT_NE(one.notificationList(), nullptr);
  EXPECT_EQ(one.notificationList()->size(), 1u);

  NotificationSentRequest rm;
  rm.seqNumber = first_seq;
  EXPECT_EQ(call<NotificationSentResponse>(rm).deleteNotificationStatus, 0);
  EXPECT_EQ(call<NotificationSentResponse>(rm).deleteNotificationStatus, 1);
  reopen();
  one = call<RetrieveNotificationsListResponse>(by_seq);
  ASSERT_NE(one.notificationsListResultError(), nullptr);
  EXPECT_EQ(*one.notificationsListResultError(), 1);
  EXPECT_EQ(state().notifications.size(), 1u);
}

TEST_F(EuiccTest, RatAllowsPpr1AndPpr2) {
  auto rat = call<GetRatResponse>(GetRatRequest{});
  ASSERT_EQ(rat.rat.size(), 1u);
  EXPECT_TRUE(rat.rat[0].pprIds.test(1));
  EXPECT_TRUE(rat.rat[0].pprIds.test(2));
}

TEST_F(EuiccTest, LoadCrlIsRefusedWhenUnsupported) {
  LoadCRLRequest req;
  req.crl.der = {0x30, 0x00};
  auto r = call<LoadCRLResponse>(req);
  ASSERT_NE(r.loadCRLResponseError(), nullptr);
  EXPECT_EQ(*r.loadCRLResponseError(), LoadCRLResponseError_values::undefinedError);
}

TEST_F(EuiccTest, CancelSessionWithoutSessionIsInvalidTransactionId) {
  CancelSessionRequest req;
  req.transactionId = {1, 2, 3, 4};
  req.reason = CancelSessionReason_values::endUserRejection;
  auto r = call<CancelSessionResponse>(req);
  ASSERT_NE(r.cancelSessionResponseError(), nullptr);
  EXPECT_EQ(*r.cancelSessionResponseError(), 5);
}

}  // namespace
}  // namespace rsp::euicc::test
