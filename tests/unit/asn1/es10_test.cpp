// ES10a/b/c (LPA <-> eUICC, SGP.22 §5.7) messages: one round trip per message
// type, with the outer tag SGP.22 gives it.

#include "samples.hpp"

namespace rsp::asn1 {
namespace {

using namespace test;

std::string head(const Bytes& der, std::size_t n) { return to_hex(ByteView(der).first(std::min(n, der.size()))); }

// ES10a
TEST(Asn1Es10a, EuiccConfiguredAddresses) {
  EXPECT_EQ(to_hex(roundtrip(sgp22::EuiccConfiguredAddressesRequest{})), "BF3C00");
  sgp22::EuiccConfiguredAddressesResponse r;
  r.defaultDpAddress = "smdp.example.com";
  r.rootDsAddress = "lpa.ds.gsma.com";
  EXPECT_EQ(head(roundtrip(r), 2), "BF3C");
}

TEST(Asn1Es10a, SetDefaultDpAddress) {
  sgp22::SetDefaultDpAddressRequest q;
  q.defaultDpAddress = "smdp.example.com";
  roundtrip(q);
  sgp22::SetDefaultDpAddressResponse r;
  r.setDefaultDpAddressResult = 0;
  EXPECT_EQ(to_hex(roundtrip(r)), "BF3F03800100");
}

// ES10b
TEST(Asn1Es10b, GetEuiccInfo) {
  EXPECT_EQ(to_hex(roundtrip(sgp22::GetEuiccInfo1Request{})), "BF2000");
  EXPECT_EQ(to_hex(roundtrip(sgp22::GetEuiccInfo2Request{})), "BF2200");
  EXPECT_EQ(head(roundtrip(euicc_info1()), 7), "BF203582030202");
  Bytes der = roundtrip(euicc_info2());
  EXPECT_EQ(head(der, 2), "BF22");
}

TEST(Asn1Es10b, GetEuiccChallenge) {
  EXPECT_EQ(to_hex(roundtrip(sgp22::GetEuiccChallengeRequest{})), "BF2E00");
  sgp22::GetEuiccChallengeResponse r;
  r.euiccChallenge = filled(16, 0x20);
  EXPECT_EQ(head(roundtrip(r), 5), "BF2E128010");
}

TEST(Asn1Es10b, AuthenticateServer) {
  sgp22::AuthenticateServerRequest q;
  q.serverSigned1 = server_signed1();
  q.serverSignature1 = filled(64, 0x07);
  q.euiccCiPKIdToBeUsed = kSki;
  q.serverCertificate = fake_certificate();
  q.ctxParams1 = ctx_params1();
  EXPECT_EQ(head(roundtrip(q), 2), "BF38");
  EXPECT_EQ(head(roundtrip(authenticate_server_response_ok()), 2), "BF38");
  sgp22::AuthenticateServerResponse err;
  auto& e = err.set_authenticateResponseError();
  e.transactionId = kTransactionId;
  e.authenticateErrorCode = 7;
  EXPECT_EQ(head(roundtrip(err), 4), "BF3817A1");
  EXPECT_STREQ(err.alternative_name(), "authenticateResponseError");
}

TEST(Asn1Es10b, PrepareDownload) {
  EXPECT_EQ(head(roundtrip(prepare_download_request()), 2), "BF21");
  EXPECT_EQ(head(roundtrip(prepare_download_response_ok()), 2), "BF21");
  sgp22::PrepareDownloadResponse err;
  auto& e = err.set_downloadResponseError();
  e.transactionId = kTransactionId;
  e.downloadErrorCode = 127;
  roundtrip(err);
}

TEST(Asn1Es10b, LoadBoundProfilePackageResult) {
  EXPECT_EQ(head(roundtrip(profile_installation_result()), 3), "BF3781");
  sgp22::ProfileInstallationResult r = profile_installation_result();
  auto& fail = r.profileInstallationResultData.finalResult.set_errorResult();
  fail.bppCommandId = 1;
  fail.errorReason = 9;
  roundtrip(r);
}

TEST(Asn1Es10b, Notifications) {
  sgp22::ListNotificationRequest q;
  q.profileManagementOperation = BitString::from_bits({0, 1});
  EXPECT_EQ(to_hex(roundtrip(q)), "BF2804810206C0");
  sgp22::ListNotificationResponse r;
  r.set_notificationMetadataList({notification_metadata()});
  roundtrip(r);
  sgp22::RetrieveNotificationsListRequest rq;
  rq.searchCriteria.emplace().set_seqNumber(7);
  EXPECT_EQ(to_hex(roundtrip(rq)), "BF2B05A003800107");
  sgp22::RetrieveNotificationsListResponse rr;
  sgp22::PendingNotification pn;
  pn.set_profileInstallationResult(profile_installation_result());
  sgp22::PendingNotification other;
  auto& o = other.set_otherSignedNotification();
  o.tbsOtherNotification = notification_metadata();
  o.euiccNotificationSignature = filled(64, 0x08);
  o.euiccCertificate = fake_certificate();
  o.eumCertificate = fake_certificate();
  rr.set_notificationList({pn, other});
  roundtrip(rr);
  sgp22::NotificationSentRequest sq;
  sq.seqNumber = 7;
  EXPECT_EQ(to_hex(roundtrip(sq)), "BF3003800107");
  sgp22::NotificationSentResponse sr;
  sr.deleteNotificationStatus = 0;
  EXPECT_EQ(to_hex(roundtrip(sr)), "BF3003800100");
}

TEST(Asn1Es10b, LoadCrl) {
  sgp22::LoadCRLRequest q;
  q.crl = fake_certificate();
  roundtrip(q);
  sgp22::LoadCRLResponse r;
  auto& ok = r.set_loadCRLResponseOk();
  ok.missingParts = std::vector<sgp22::LoadCRLResponseOk_missingParts_item>{{3}, {5}};
  roundtrip(r);
  sgp22::LoadCRLResponse e;
  e.set_loadCRLResponseError(2);
  roundtrip(e);
}

TEST(Asn1Es10b, CancelSession) {
  sgp22::CancelSessionRequest q;
  q.transactionId = kTransactionId;
  q.reason = 0;
  EXPECT_EQ(head(roundtrip(q), 4), "BF411580");
  EXPECT_EQ(head(roundtrip(cancel_session_response_ok()), 2), "BF41");
  sgp22::CancelSessionResponse e;
  e.set_cancelSessionResponseError(5);
  EXPECT_EQ(to_hex(roundtrip(e)), "BF4103810105");
}

TEST(Asn1Es10b, GetRat) {
  EXPECT_EQ(to_hex(roundtrip(sgp22::GetRatRequest{})), "BF4300");
  sgp22::GetRatResponse r;
  sgp22::ProfilePolicyAuthorisationRule rule;
  rule.pprIds = BitString::from_bits({1});
  rule.allowedOperators = {sgp22::OperatorID{hex("21F354"), hex("FF"), std::nullopt}};
  rule.pprFlags = BitString::from_bits({0});
  r.rat = {rule};
  roundtrip(r);
}

// ES10c
TEST(Asn1Es10c, GetProfilesInfo) {
  sgp22::ProfileInfoListRequest q;
  q.searchCriteria.emplace().set_iccid(kIccid);
  q.tagList = hex("5A4F9F70");
  EXPECT_EQ(head(roundtrip(q), 6), "BF2D14A00C5A");
  sgp22::ProfileInfo p;
  p.iccid = kIccid;
  p.isdpAid = hex("A0000005591010FFFFFFFF8900001000");
  p.profileState = 1;
  p.profileNickname = "work";
  p.serviceProviderName = "Operator";
  p.profileName = "Test profile";
  p.profileClass = 2;
  p.profilePolicyRules = BitString::from_bits({1});
  sgp22::ProfileInfoListResponse r;
  r.set_profileInfoListOk({p});
  EXPECT_EQ(head(roundtrip(r), 7), "BF2D4BA049E347");
  sgp22::ProfileInfoListResponse e;
  e.set_profileInfoListError(1);
  EXPECT_EQ(to_hex(roundtrip(e)), "BF2D03810101");
}

TEST(Asn1Es10c, EnableDisableDeleteProfile) {
  sgp22::EnableProfileRequest en;
  en.profileIdentifier.set_iccid(kIccid);
  en.refreshFlag = true;
  EXPECT_EQ(to_hex(roundtrip(en)), "BF3111A00C5A0A" + to_hex(kIccid) + "8101FF");
  sgp22::EnableProfileResponse enr;
  enr.enableResult = 0;
  EXPECT_EQ(to_hex(roundtrip(enr)), "BF3103800100");
  sgp22::DisableProfileRequest dis;
  dis.profileIdentifier.set_isdpAid(hex("A0000005591010FFFFFFFF8900001000"));
  dis.refreshFlag = false;
  roundtrip(dis);
  sgp22::DisableProfileResponse disr;
  disr.disableResult = 2;
  roundtrip(disr);
  sgp22::DeleteProfileRequest del;
  del.set_iccid(kIccid);
  EXPECT_EQ(to_hex(roundtrip(del)), "BF330C5A0A" + to_hex(kIccid));
  sgp22::DeleteProfileResponse delr;
  delr.deleteResult = 1;
  roundtrip(delr);
}

TEST(Asn1Es10c, MemoryResetEidNickname) {
  sgp22::EuiccMemoryResetRequest m;
  m.resetOptions = BitString::from_bits({0, 1});
  EXPECT_EQ(to_hex(roundtrip(m)), "BF3404820206C0");
  sgp22::EuiccMemoryResetResponse mr;
  mr.resetResult = 0;
  roundtrip(mr);
  sgp22::GetEuiccDataRequest g;
  g.tagList = hex("5A");
  EXPECT_EQ(to_hex(roundtrip(g)), "BF3E035C015A");
  sgp22::GetEuiccDataResponse gr;
  gr.eidValue = hex("89049032123451234512345678901235");
  EXPECT_EQ(to_hex(roundtrip(gr)), "BF3E125A1089049032123451234512345678901235");
  sgp22::SetNicknameRequest n;
  n.iccid = kIccid;
  n.profileNickname = "home";
  roundtrip(n);
  sgp22::SetNicknameResponse nr;
  nr.setNicknameResult = 0;
  roundtrip(nr);
}

}  // namespace
}  // namespace rsp::asn1
