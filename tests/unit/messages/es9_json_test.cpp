#include "rsp/messages/es9_json.hpp"

#include <gtest/gtest.h>

#include "../asn1/samples.hpp"

namespace rsp::messages::es9 {
namespace {

namespace t = ::rsp::asn1::test;
using nlohmann::json;

json parse(const std::string& s) { return json::parse(s); }

sgp::InitiateAuthenticationRequest init_request() {
  sgp::InitiateAuthenticationRequest r;
  r.euiccChallenge = t::filled(16, 0x20);
  r.smdpAddress = "smdp.example.com";
  r.euiccInfo1 = t::euicc_info1();
  return r;
}

sgp::InitiateAuthenticationOkEs9 init_ok() {
  sgp::InitiateAuthenticationOkEs9 r;
  r.transactionId = t::kTransactionId;
  r.serverSigned1 = t::server_signed1();
  r.serverSignature1 = t::filled(64, 0x11);
  r.euiccCiPKIdToBeUsed = t::kSki;
  r.serverCertificate = t::fake_certificate();
  return r;
}

TEST(Es9Json, Paths) {
  EXPECT_EQ(path(Function::InitiateAuthentication), "/gsma/rsp2/es9plus/initiateAuthentication");
  EXPECT_EQ(function_from_path("/gsma/rsp2/es9plus/getBoundProfilePackage"),
            Function::GetBoundProfilePackage);
  EXPECT_EQ(function_from_path("/gsma/rsp2/es9plus/cancelSession"), Function::CancelSession);
  EXPECT_FALSE(function_from_path("/gsma/rsp2/es9plus/"));
  EXPECT_FALSE(function_from_path("/gsma/rsp2/es9plus/initiateAuthenticationX"));
  EXPECT_FALSE(function_from_path("/gsma/rsp2/es2plus/downloadOrder"));
}

TEST(Es9Json, InitiateAuthenticationRequestRoundTrip) {
  auto req = init_request();
  std::string body = encode_request(req);
  auto j = parse(body);
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["euiccChallenge"], base64_encode(req.euiccChallenge));
  EXPECT_EQ(j["euiccInfo1"], base64_encode(asn1::encode(req.euiccInfo1)));
  EXPECT_EQ(j["euiccInfo1"].get<std::string>().substr(0, 2), "vy");  // 'BF20' in base64
  EXPECT_EQ(j["smdpAddress"], "smdp.example.com");
  auto back = decode_initiate_authentication_request(body);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, req);

  // an optional request header is accepted and checked
  j["header"] = {{"functionRequesterIdentifier", "lpa"}, {"functionCallIdentifier", "1"}};
  EXPECT_TRUE(decode_initiate_authentication_request(j.dump()));
  j["header"] = {{"functionRequesterIdentifier", "lpa"}};
  EXPECT_FALSE(decode_initiate_authentication_request(j.dump()));
}

TEST(Es9Json, InitiateAuthenticationRequestStrict) {
  auto good = parse(encode_request(init_request()));
  auto expect_error = [](const json& j, ErrorKind kind, const char* field) {
    auto r = decode_initiate_authentication_request(j.dump());
    ASSERT_FALSE(r) << j.dump();
    EXPECT_EQ(r.error().kind, kind) << r.error().to_string();
    EXPECT_EQ(r.error().field, field);
    EXPECT_EQ(r.error().subject_code, "1.2");
  };
  auto j = good;
  j.erase("smdpAddress");
  expect_error(j, ErrorKind::MissingField, "smdpAddress");
  j = good;
  j["extra"] = 1;
  expect_error(j, ErrorKind::UnknownField, "extra");
  j = good;
  j["euiccChallenge"] = "not base64!";
  expect_error(j, ErrorKind::BadBase64, "euiccChallenge");
  j = good;
  j["euiccChallenge"] = base64_encode(t::filled(15, 0));
  expect_error(j, ErrorKind::BadValue, "euiccChallenge");
  j = good;
  j["euiccInfo1"] = base64_encode(t::filled(10, 0));
  expect_error(j, ErrorKind::BadDer, "euiccInfo1");
  j = good;
  j["smdpAddress"] = 5;
  expect_error(j, ErrorKind::WrongType, "smdpAddress");
  // unpadded base64 is refused
  j = good;
  std::string b = j["euiccChallenge"];
  while (!b.empty() && b.back() == '=') b.pop_back();
  j["euiccChallenge"] = b;
  expect_error(j, ErrorKind::BadBase64, "euiccChallenge");

  auto not_json = decode_initiate_authentication_request("{\"euiccChallenge\":");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().kind, ErrorKind::MalformedJson);
  EXPECT_EQ(not_json.error().reason_code, "2.1");
  EXPECT_FALSE(decode_initiate_authentication_request("[]"));
}

TEST(Es9Json, InitiateAuthenticationResponseRoundTrip) {
  auto ok = init_ok();
  std::string body = encode_response(ok);
  auto j = parse(body);
  EXPECT_EQ(j["header"]["functionExecutionStatus"]["status"], "Executed-Success");
  EXPECT_EQ(j["transactionId"], "0102030405060708090A0B0C0D0E0F10");
  EXPECT_EQ(j["serverSignature1"], base64_encode(tlv::encode(tlv::Tag::application(55), ok.serverSignature1)));
  EXPECT_EQ(j["euiccCiPKIdToBeUsed"], base64_encode(concat({from_hex("0414").value(), t::kSki})));
  EXPECT_EQ(j["serverCertificate"], base64_encode(ok.serverCertificate.der));
  // Written as text, exactly as the serializer writes the same object.
  EXPECT_EQ(body, dump(j));
  auto back = decode_initiate_authentication_response(body);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, ok);

  j["serverSignature1"] = base64_encode(tlv::encode(tlv::Tag::universal(4), ok.serverSignature1));
  auto bad_tag = decode_initiate_authentication_response(j.dump());
  ASSERT_FALSE(bad_tag);
  EXPECT_EQ(bad_tag.error().kind, ErrorKind::BadDer);
  j = parse(body);
  j["transactionId"] = "0102X3";
  EXPECT_EQ(decode_initiate_authentication_response(j.dump()).error().kind, ErrorKind::BadHex);
  j["transactionId"] = "";
  EXPECT_EQ(decode_initiate_authentication_response(j.dump()).error().kind, ErrorKind::BadHex);
  j["transactionId"] = "0102030405060708090a0b0c0d0e0f10";  // lower case accepted on input
  EXPECT_TRUE(decode_initiate_authentication_response(j.dump()));
}

TEST(Es9Json, FailedResponseCarriesTheServerCodes) {
  std::string body = encode_header_only_response(ResponseHeader::failed("8.2.6", "3.8", "refused"));
  auto r = decode_authenticate_client_response(body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::FunctionFailed);
  EXPECT_EQ(r.error().subject_code, "8.2.6");
  EXPECT_EQ(r.error().reason_code, "3.8");
  auto h = decode_response_header(body);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->succeeded());
  EXPECT_EQ(decode_cancel_session_response(body).error().subject_code, "8.2.6");
  EXPECT_TRUE(decode_cancel_session_response(encode_header_only_response(ResponseHeader::success())));
}

TEST(Es9Json, AuthenticateClientRoundTrip) {
  sgp::AuthenticateClientRequest req;
  req.transactionId = t::kTransactionId;
  req.authenticateServerResponse = t::authenticate_server_response_ok();
  std::string body = encode_request(req);
  auto j = parse(body);
  EXPECT_EQ(j["transactionId"], "0102030405060708090A0B0C0D0E0F10");
  EXPECT_EQ(j["authenticateServerResponse"].get<std::string>().substr(0, 2), "vz");  // 'BF38'
  auto back = decode_authenticate_client_request(body);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, req);

  sgp::AuthenticateClientOk ok;
  ok.transactionId = t::kTransactionId;
  ok.profileMetaData.iccid = t::kIccid;
  ok.profileMetaData.serviceProviderName = "SP";
  ok.profileMetaData.profileName = "Profile";
  ok.prepareDownloadRequest = t::prepare_download_request();
  ok.prepareDownloadRequest.hashCc.reset();  // not carried by ES9+ (the LPA adds it)
  std::string rbody = encode_response(ok);
  auto rj = parse(rbody);
  for (const char* k : {"header", "transactionId", "profileMetadata", "smdpSigned2", "smdpSignature2",
                        "smdpCertificate"}) {
    EXPECT_TRUE(rj.contains(k)) << k;
  }
  EXPECT_EQ(rj.size(), 6u);
  // Written as text, exactly as the serializer writes the same object.
  EXPECT_EQ(rbody, dump(rj));
  auto rback = decode_authenticate_client_response(rbody);
  ASSERT_TRUE(rback) << rback.error().to_string();
  EXPECT_EQ(*rback, ok);
}

TEST(Es9Json, GetBoundProfilePackageRoundTrip) {
  sgp::GetBoundProfilePackageRequest req;
  req.transactionId = t::kTransactionId;
  req.prepareDownloadResponse = t::prepare_download_response_ok();
  auto back = decode_get_bound_profile_package_request(encode_request(req));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, req);

  sgp::GetBoundProfilePackageOk ok;
  ok.transactionId = t::kTransactionId;
  auto& bpp = ok.boundProfilePackage;
  bpp.initialiseSecureChannelRequest.remoteOpId = 1;
  bpp.initialiseSecureChannelRequest.transactionId = t::kTransactionId;
  bpp.initialiseSecureChannelRequest.controlRefTemplate.keyType = {0x88};
  bpp.initialiseSecureChannelRequest.controlRefTemplate.keyLen = {0x10};
  bpp.initialiseSecureChannelRequest.controlRefTemplate.hostId = {0x01, 0x02};
  bpp.initialiseSecureChannelRequest.smdpOtpk = t::filled(65, 4);
  bpp.initialiseSecureChannelRequest.smdpSign = t::filled(64, 5);
  bpp.firstSequenceOf87 = {t::filled(20, 1)};
  bpp.sequenceOf88 = {t::filled(20, 2)};
  bpp.sequenceOf86 = {t::filled(100, 3), t::filled(50, 4)};
  std::string body = encode_response(ok);
  EXPECT_EQ(parse(body)["boundProfilePackage"].get<std::string>().substr(0, 2), "vz");  // 'BF36'
  auto rback = decode_get_bound_profile_package_response(body);
  ASSERT_TRUE(rback) << rback.error().to_string();
  EXPECT_EQ(*rback, ok);
}

TEST(Es9Json, HandleNotificationAndCancelSessionRoundTrip) {
  sgp::HandleNotification hn;
  hn.pendingNotification.set_profileInstallationResult(t::profile_installation_result());
  std::string body = encode_request(hn);
  EXPECT_EQ(parse(body).size(), 1u);
  auto back = decode_handle_notification_request(body);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, hn);

  sgp::CancelSessionRequestEs9 cs;
  cs.transactionId = t::kTransactionId;
  cs.cancelSessionResponse = t::cancel_session_response_ok();
  auto cback = decode_cancel_session_request(encode_request(cs));
  ASSERT_TRUE(cback) << cback.error().to_string();
  EXPECT_EQ(*cback, cs);
}

TEST(Es9Json, TrailingBytesAfterTheElementAreRefused) {
  auto j = parse(encode_request(init_request()));
  Bytes der = asn1::encode(t::euicc_info1());
  der.push_back(0x00);
  j["euiccInfo1"] = base64_encode(der);
  auto r = decode_initiate_authentication_request(j.dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::BadDer);
}

}  // namespace
}  // namespace rsp::messages::es9
