// The ES7 JSON binding (and ES4's PrepareSMSRChange / SMSRChange): every
// request and response survives a round trip; missing and malformed members
// are refused by name; a handed-over EIS that carries keys is refused; the
// responses decode strictly.
#include "rsp/m2m/es7.hpp"

#include <gtest/gtest.h>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es8.hpp"
#include "test_support/sample_eis.hpp"

namespace rsp::m2m::es7 {
namespace {

using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";

Eis sample_eis_without_keys() {
  auto e = eis_from_json(test_support::sample_eis());
  EXPECT_TRUE(e);
  Eis out = e ? *e : Eis{};
  out.isd_r.scp80_key_sets.clear();
  out.isd_r.scp81_psk.reset();
  return out;
}

Bytes receipt() { return es8::encode_receipt({Bytes(16, 0x11), Bytes(16, 0x22)}); }
Bytes key_agreement() {
  const Bytes point(65, 0x04);
  const Bytes crt = es8::encode_crt(es8::kKeyUsageIsdR, 2, Bytes(es8::kHostIdSize, 0x33));
  return es8::encode_key_agreement_message(es8::encode_key_agreement_body(crt, point, crypto::Curve::NistP256),
                                           Bytes(64, 0x5A));
}

Error refused(Function f, const json& body) {
  auto r = decode_request(f, body.dump());
  EXPECT_FALSE(r) << body.dump();
  return r ? Error{} : r.error();
}

TEST(Es7, EveryRequestRoundTrips) {
  const std::vector<Request> all = {
      AuthenticateSmsr{kEid, from_hex("308201").value()},
      CreateAdditionalKeyset{kEid, 3, std::nullopt},
      CreateAdditionalKeyset{kEid, 4, Bytes(16, 0x5A)},
      HandoverEuicc{sample_eis_without_keys(), receipt()},
      PrepareSmsrChange{kEid, "smsr-1"},
      SmsrChange{kEid, "smsr-2", 600},
      SmsrChange{kEid, "smsr-2", std::nullopt},
  };
  for (const auto& r : all) {
    auto back = decode_request(function_of(r), encode_request(r, "call-7"));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, r);
  }
}

TEST(Es7, FunctionsAreNamedAsTheSpecNamesThem) {
  EXPECT_EQ(function(Function::HandoverEuicc).name, "ES7.HandoverEUICC");
  EXPECT_EQ(function_named("ES7.CreateAdditionalKeyset"), Function::CreateAdditionalKeyset);
  EXPECT_EQ(function_named("ES4.SMSRChange"), Function::SmsrChange);
  EXPECT_FALSE(function_named("ES7.Nothing"));
}

TEST(Es7, MissingAndMalformedMembersAreRefusedByName) {
  auto e = refused(Function::AuthenticateSmsr, json{{"eid", kEid}});
  EXPECT_EQ(e.kind, Error::Kind::Missing);
  EXPECT_NE(e.message.find("ecasdCertificate"), std::string::npos);
  e = refused(Function::AuthenticateSmsr, json{{"eid", kEid}, {"ecasdCertificate", "zz"}});
  EXPECT_EQ(e.kind, Error::Kind::Invalid);
  e = refused(Function::AuthenticateSmsr, json{{"eid", "123"}, {"ecasdCertificate", "3082"}});
  EXPECT_NE(e.message.find("eid"), std::string::npos);
  // Key versions outside 1..15 (TS 102 225's four bits).
  for (int v : {0, 16, -1}) {
    e = refused(Function::CreateAdditionalKeyset, json{{"eid", kEid}, {"keyVersion", v}});
    EXPECT_NE(e.message.find("keyVersion"), std::string::npos);
  }
  refused(Function::CreateAdditionalKeyset, json{{"eid", kEid}, {"keyVersion", "2"}});
  refused(Function::CreateAdditionalKeyset, json{{"eid", kEid}, {"keyVersion", 2}, {"extra", 1}});
  // The ISD-R's random challenge: 16 bytes of hex, when present.
  for (const json& rc : {json("00"), json(std::string(34, 'A')), json("zz"), json(16)}) {
    e = refused(Function::CreateAdditionalKeyset, json{{"eid", kEid}, {"keyVersion", 2}, {"randomChallenge", rc}});
    EXPECT_NE(e.message.find("randomChallenge"), std::string::npos);
  }
  refused(Function::SmsrChange, json{{"eid", kEid}});
  refused(Function::SmsrChange, json{{"eid", kEid}, {"targetSmsrId", ""}});
  refused(Function::SmsrChange, json{{"eid", kEid}, {"targetSmsrId", "x"}, {"validityPeriod", 0}});
  refused(Function::PrepareSmsrChange, json{{"eid", kEid}, {"currentSmsrId", 5}});
  // Another function's member is unknown here.
  refused(Function::PrepareSmsrChange, json{{"eid", kEid}, {"currentSmsrId", "a"}, {"targetSmsrId", "b"}});
  EXPECT_FALSE(decode_request(Function::SmsrChange, "not json"));
  EXPECT_FALSE(decode_request(Function::SmsrChange, "[]"));
}

TEST(Es7, HandoverRefusesKeysAndBadReceipts) {
  // The current SM-SR's keys never travel to the new one.
  json with_keys{{"eis", test_support::sample_eis()}, {"receipt", to_hex(receipt())}};
  auto e = refused(Function::HandoverEuicc, with_keys);
  EXPECT_NE(e.message.find("eis.isdR"), std::string::npos);
  // The message never quotes a key.
  for (const char* secret : {"1111111111", "2222222222", "3333333333"})
    EXPECT_EQ(e.message.find(secret), std::string::npos) << e.message;
  const json eis = eis_to_json(sample_eis_without_keys(), Keys::Omit);
  refused(Function::HandoverEuicc, json{{"eis", eis}});
  refused(Function::HandoverEuicc, json{{"eis", eis}, {"receipt", "8510"}});
  refused(Function::HandoverEuicc, json{{"receipt", to_hex(receipt())}});
  json broken = eis;
  broken.erase("eid");
  e = refused(Function::HandoverEuicc, json{{"eis", broken}, {"receipt", to_hex(receipt())}});
  EXPECT_NE(e.message.find("eis."), std::string::npos);
}

TEST(Es7, ResponsesRoundTripAndDecodeStrictly) {
  const std::vector<Response> all = {
      Response{"Executed-Success", "", "", from_hex("3082").value(), {}, 0},
      Response{"Executed-Success", "", "", {}, key_agreement(), 0},
      Response{"Executed-Success", "", "", {}, {}, 42},
      Response{"Failed", "8.1.1", "3.9", {}, {}, 0},
  };
  for (const auto& r : all) {
    auto back = decode_response(encode_response(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, r);
  }
  EXPECT_FALSE(decode_response(R"({})"));
  EXPECT_FALSE(decode_response(R"({"functionExecutionStatus":{"status":"Fine"}})"));
  EXPECT_FALSE(decode_response(R"({"functionExecutionStatus":{"status":"Failed"},"x":1})"));
  EXPECT_FALSE(decode_response(R"({"functionExecutionStatus":{"status":"Executed-Success"},"keyAgreement":"A600"})"));
  EXPECT_FALSE(decode_response(R"({"functionExecutionStatus":{"status":"Executed-Success"},"operationId":0})"));
}

TEST(Es7, AdditionalPskIdentityNamesTheEidAndVersion) {
  EXPECT_EQ(additional_psk_identity(kEid, 2), "eUICC-" + kEid + "-kv2");
  EXPECT_NE(additional_psk_identity(kEid, 2), additional_psk_identity(kEid, 3));
}

}  // namespace
}  // namespace rsp::m2m::es7
