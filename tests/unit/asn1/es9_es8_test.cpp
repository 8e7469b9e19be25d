// ES9+ (LPA <-> SM-DP+, SGP.22 §5.6), ES8+ (SM-DP+ <-> eUICC, §5.5) and ES11
// messages: one round trip per message type, and encodings from public traces.

#include <fstream>
#include <sstream>

#include "samples.hpp"
#include "rsp/common/file.hpp"

namespace rsp::asn1 {
namespace {

using namespace test;

std::string head(const Bytes& der, std::size_t n) { return to_hex(ByteView(der).first(std::min(n, der.size()))); }

std::string trace_value(const std::string& name) {
  std::ifstream in(std::string(RSP_SOURCE_DIR) + "/tests/data/asn1/es8_trace.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " = ", 0) == 0) return line.substr(name.size() + 3);
  }
  ADD_FAILURE() << "no " << name << " in es8_trace.txt";
  return "";
}

sgp22::InitialiseSecureChannelRequest initialise_secure_channel() {
  sgp22::InitialiseSecureChannelRequest v;
  v.remoteOpId = sgp22::RemoteOpId_values::installBoundProfilePackage;
  v.transactionId = kTransactionId;
  v.controlRefTemplate.keyType = hex("88");
  v.controlRefTemplate.keyLen = hex("10");
  v.controlRefTemplate.hostId = hex("8080808080808080");
  v.smdpOtpk = filled(65, 0x04);
  v.smdpSign = filled(64, 0x09);
  return v;
}

// ES9+
TEST(Asn1Es9, InitiateAuthentication) {
  sgp22::InitiateAuthenticationRequest q;
  q.euiccChallenge = filled(16, 0x20);
  q.smdpAddress = "smdp.example.com";
  q.euiccInfo1 = euicc_info1();
  EXPECT_EQ(head(roundtrip(q), 5), "BF395C8110");
  sgp22::InitiateAuthenticationResponse r;
  auto& ok = r.set_initiateAuthenticationOk();
  ok.transactionId = kTransactionId;
  ok.serverSigned1 = server_signed1();
  ok.serverSignature1 = filled(64, 0x07);
  ok.euiccCiPKIdToBeUsed = kSki;
  ok.serverCertificate = fake_certificate();
  EXPECT_EQ(head(roundtrip(r), 2), "BF39");
  sgp22::InitiateAuthenticationResponse e;
  e.set_initiateAuthenticationError(sgp22::InitiateAuthenticationResponse::initiateAuthenticationError_values::ciPKNotSupported);
  EXPECT_EQ(to_hex(roundtrip(e)), "BF3903810103");
}

TEST(Asn1Es9, AuthenticateClient) {
  sgp22::AuthenticateClientRequest q;
  q.transactionId = kTransactionId;
  q.authenticateServerResponse = authenticate_server_response_ok();
  roundtrip(q);
  sgp22::AuthenticateClientResponseEs9 r;
  auto& ok = r.set_authenticateClientOk();
  ok.transactionId = kTransactionId;
  ok.profileMetaData.iccid = kIccid;
  ok.profileMetaData.serviceProviderName = "Operator";
  ok.profileMetaData.profileName = "Test profile";
  ok.prepareDownloadRequest = prepare_download_request();
  roundtrip(r);
  sgp22::AuthenticateClientResponseEs9 e;
  e.set_authenticateClientError(8);
  EXPECT_EQ(to_hex(roundtrip(e)), "BF3B03810108");
}

TEST(Asn1Es9, GetBoundProfilePackage) {
  sgp22::GetBoundProfilePackageRequest q;
  q.transactionId = kTransactionId;
  q.prepareDownloadResponse = prepare_download_response_ok();
  roundtrip(q);
  sgp22::GetBoundProfilePackageResponse r;
  auto& ok = r.set_getBoundProfilePackageOk();
  ok.transactionId = kTransactionId;
  ok.boundProfilePackage.initialiseSecureChannelRequest = initialise_secure_channel();
  ok.boundProfilePackage.firstSequenceOf87 = {filled(24, 0x30)};
  ok.boundProfilePackage.sequenceOf88 = {filled(40, 0x31)};
  ok.boundProfilePackage.sequenceOf86 = {filled(100, 0x32), filled(20, 0x33)};
  roundtrip(r);
  sgp22::GetBoundProfilePackageResponse e;
  e.set_getBoundProfilePackageError(95);
  roundtrip(e);
}

TEST(Asn1Es9, HandleNotificationAndCancelSession) {
  sgp22::HandleNotification n;
  n.pendingNotification.set_profileInstallationResult(profile_installation_result());
  EXPECT_EQ(head(roundtrip(n), 2), "BF3D");
  sgp22::CancelSessionRequestEs9 c;
  c.transactionId = kTransactionId;
  c.cancelSessionResponse = cancel_session_response_ok();
  roundtrip(c);
  sgp22::CancelSessionResponseEs9 cr;
  cr.set_cancelSessionOk();
  EXPECT_EQ(to_hex(roundtrip(cr)), "BF4102A000");
  sgp22::CancelSessionResponseEs9 ce;
  ce.set_cancelSessionError(1);
  roundtrip(ce);
}

TEST(Asn1Es9, RemoteProfileProvisioningWrappers) {
  sgp22::RemoteProfileProvisioningRequest q;
  auto& init = q.set_initiateAuthenticationRequest();
  init.euiccChallenge = filled(16, 0x20);
  init.smdpAddress = "smdp.example.com";
  init.euiccInfo1 = euicc_info1();
  Bytes der = roundtrip(q);
  EXPECT_EQ(head(der, 1), "A2");
  sgp22::RemoteProfileProvisioningResponse r;
  r.set_authenticateClientResponseEs11().set_authenticateClientError(6);
  EXPECT_EQ(to_hex(roundtrip(r)), "A206BF4003810106");
}

// ES11
TEST(Asn1Es11, AuthenticateClientResponseEs11) {
  sgp22::AuthenticateClientResponseEs11 r;
  auto& ok = r.set_authenticateClientOk();
  ok.transactionId = kTransactionId;
  ok.eventEntries = {sgp22::EventEntries{"EVENT-1", "smdp.example.com"}};
  roundtrip(r);
}

// ES8+
TEST(Asn1Es8, BoundProfilePackageParts) {
  EXPECT_EQ(head(roundtrip(initialise_secure_channel()), 5), "BF2381AE82");
  sgp22::ConfigureISDPRequest c;
  c.dpProprietaryData.emplace().dpOid = *Oid::from_string("2.999.10");
  roundtrip(c);
  sgp22::StoreMetadataRequest s;
  s.iccid = kIccid;
  s.serviceProviderName = "Operator";
  s.profileName = "Test";
  s.profileClass = 0;
  s.notificationConfigurationInfo = {sgp22::NotificationConfigurationInformation{BitString::from_bits({0}), "smdp.example.com"}};
  roundtrip(s);
  sgp22::ReplaceSessionKeysRequest k;
  k.initialMacChainingValue = filled(16, 1);
  k.ppkEnc = filled(16, 2);
  k.ppkCmac = filled(16, 3);
  roundtrip(k);
  sgp22::UpdateMetadataRequest u;
  u.profileName = "Renamed";
  roundtrip(u);
}

TEST(Asn1Es8, TraceCommandsReencode) {
  EXPECT_EQ(reencodes<sgp22::ConfigureISDPRequest>(hex(trace_value("ConfigureISDPRequest"))),
            sgp22::ConfigureISDPRequest{});
  auto meta = reencodes<sgp22::StoreMetadataRequest>(hex(trace_value("StoreMetadataRequest")));
  EXPECT_EQ(to_hex(meta.iccid), "98001032547698103214");
  EXPECT_EQ(meta.serviceProviderName, "GSMA_TEST");
  EXPECT_EQ(meta.profileName, "GSMA_TEST_PROFILE");
  EXPECT_EQ(meta.profileClass, 0);
}

TEST(Asn1Es8, TraceBoundProfilePackageReencodes) {
  auto data = read_file(std::string(RSP_SOURCE_DIR) + "/tests/data/asn1/bpp_pysim_trace.der");
  ASSERT_TRUE(data);
  auto bpp = reencodes<sgp22::BoundProfilePackage>(*data);
  const auto& isc = bpp.initialiseSecureChannelRequest;
  EXPECT_EQ(isc.remoteOpId, 1);
  EXPECT_EQ(to_hex(isc.controlRefTemplate.keyType), "88");
  EXPECT_EQ(to_hex(isc.controlRefTemplate.keyLen), "10");
  EXPECT_EQ(isc.smdpOtpk.size(), 65u);
  EXPECT_FALSE(bpp.firstSequenceOf87.empty());
  EXPECT_FALSE(bpp.sequenceOf88.empty());
  EXPECT_FALSE(bpp.sequenceOf86.empty());
}

}  // namespace
}  // namespace rsp::asn1
