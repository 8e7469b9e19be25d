#pragma once
// Sample SGP.22 values shared by the message tests (made-up contents with the
// sizes SGP.22 requires).

#include "asn1_test_util.hpp"
#include "rsp/asn1/sgp22.hpp"

namespace rsp::asn1::test {

inline Bytes filled(std::size_t n, std::uint8_t start) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

inline const Bytes kSki = hex("F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
inline const Bytes kTransactionId = hex("0102030405060708090A0B0C0D0E0F10");
inline const Bytes kIccid = hex("98001032547698103214");

inline sgp22::EUICCInfo1 euicc_info1() {
  sgp22::EUICCInfo1 v;
  v.svn = hex("020200");
  v.euiccCiPKIdListForVerification = {kSki};
  v.euiccCiPKIdListForSigning = {kSki};
  return v;
}

inline sgp22::EUICCInfo2 euicc_info2() {
  sgp22::EUICCInfo2 v;
  v.profileVersion = hex("020301");
  v.svn = hex("020200");
  v.euiccFirmwareVer = hex("230623");
  v.extCardResource = hex("810108820400045BF883022419");
  v.uiccCapability = BitString{hex("7F36F3C0"), 6};
  v.javacardVersion = hex("0F0100");
  v.globalplatformVersion = hex("020300");
  v.rspCapability = BitString::from_bits({0, 3});
  v.euiccCiPKIdListForVerification = {kSki};
  v.euiccCiPKIdListForSigning = {kSki};
  v.euiccCategory = sgp22::EUICCInfo2::euiccCategory_values::basicEuicc;
  v.forbiddenProfilePolicyRules = BitString::from_bits({1});
  v.ppVersion = hex("010000");
  v.sasAcreditationNumber = "TEST-SAS-1";
  v.certificationDataObject = sgp22::CertificationDataObject{"platform", "https://dloa.example"};
  return v;
}

inline sgp22::DeviceInfo device_info() {
  sgp22::DeviceInfo d;
  d.tac = hex("35334931");
  d.deviceCapabilities.gsmSupportedRelease = hex("0D0000");
  d.deviceCapabilities.eutranSupportedRelease = hex("0F0000");
  d.imei = hex("3533343931313030");
  return d;
}

inline sgp22::CtxParams1 ctx_params1() {
  sgp22::CtxParams1 c;
  auto& common = c.set_ctxParamsForCommonAuthentication();
  common.matchingId = "04386-AGYFT-A74Y8-3F815";
  common.deviceInfo = device_info();
  return c;
}

inline sgp22::ServerSigned1 server_signed1() {
  sgp22::ServerSigned1 s;
  s.transactionId = kTransactionId;
  s.euiccChallenge = filled(16, 0x20);
  s.serverAddress = "smdp.example.com";
  s.serverChallenge = filled(16, 0x40);
  return s;
}

inline sgp22::AuthenticateServerResponse authenticate_server_response_ok() {
  sgp22::AuthenticateServerResponse r;
  auto& ok = r.set_authenticateResponseOk();
  ok.euiccSigned1.transactionId = kTransactionId;
  ok.euiccSigned1.serverAddress = "smdp.example.com";
  ok.euiccSigned1.serverChallenge = filled(16, 0x40);
  ok.euiccSigned1.euiccInfo2 = euicc_info2();
  ok.euiccSigned1.ctxParams1 = ctx_params1();
  ok.euiccSignature1 = filled(64, 0x01);
  ok.euiccCertificate = fake_certificate();
  ok.eumCertificate = fake_certificate();
  return r;
}

inline sgp22::PrepareDownloadRequest prepare_download_request() {
  sgp22::PrepareDownloadRequest p;
  p.smdpSigned2.transactionId = kTransactionId;
  p.smdpSigned2.ccRequiredFlag = true;
  p.smdpSignature2 = filled(64, 0x02);
  p.smdpCertificate = fake_certificate();
  return p;
}

inline sgp22::PrepareDownloadResponse prepare_download_response_ok() {
  sgp22::PrepareDownloadResponse r;
  auto& ok = r.set_downloadResponseOk();
  ok.euiccSigned2.transactionId = kTransactionId;
  ok.euiccSigned2.euiccOtpk = filled(65, 0x04);
  ok.euiccSigned2.hashCc = filled(32, 0x10);
  ok.euiccSignature2 = filled(64, 0x03);
  return r;
}

inline sgp22::NotificationMetadata notification_metadata() {
  sgp22::NotificationMetadata m;
  m.seqNumber = 7;
  m.profileManagementOperation = BitString::from_bits({0});
  m.notificationAddress = "smdp.example.com";
  m.iccid = kIccid;
  return m;
}

inline sgp22::ProfileInstallationResult profile_installation_result() {
  sgp22::ProfileInstallationResult r;
  auto& d = r.profileInstallationResultData;
  d.transactionId = kTransactionId;
  d.notificationMetadata = notification_metadata();
  d.smdpOid = *Oid::from_string("2.999.10");
  auto& ok = d.finalResult.set_successResult();
  ok.aid = hex("A0000005591010FFFFFFFF8900001000");
  ok.simaResponse = hex("300680020000A100");
  r.euiccSignPIR = filled(64, 0x05);
  return r;
}

inline sgp22::CancelSessionResponse cancel_session_response_ok() {
  sgp22::CancelSessionResponse r;
  auto& ok = r.set_cancelSessionResponseOk();
  ok.euiccCancelSessionSigned.transactionId = kTransactionId;
  ok.euiccCancelSessionSigned.smdpOid = *Oid::from_string("2.999.10");
  ok.euiccCancelSessionSigned.reason = 1;
  ok.euiccCancelSessionSignature = filled(64, 0x06);
  return r;
}

}  // namespace rsp::asn1::test
