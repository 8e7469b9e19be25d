// The ES11 and ES12 JSON codecs (rsp/messages): round trips and the
// refusals of malformed requests.

#include <gtest/gtest.h>

#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es12_json.hpp"

namespace rsp::messages {
namespace {

const std::string kEid = "89049032123451234512345678901235";

TEST(Es12Json, RegisterEventRoundTrips) {
  es12::RegisterEventRequest r{RequestHeader{"dp.example", "call-1"}, kEid, "smdp.example", "EV", true};
  auto back = es12::decode_register_event_request(es12::encode_request(r));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, r);
  es12::DeleteEventRequest d{std::nullopt, kEid, "EV"};
  auto d_back = es12::decode_delete_event_request(es12::encode_request(d));
  ASSERT_TRUE(d_back);
  EXPECT_EQ(*d_back, d);
}

TEST(Es12Json, MalformedRegistrationsAreRefused) {
  const auto code = [](std::string_view body) {
    auto r = es12::decode_register_event_request(body);
    return r ? std::string("ok") : r.error().subject_code + "/" + r.error().reason_code + " " + r.error().field;
  };
  EXPECT_EQ(code("[]"), "1.2/2.1 ");
  EXPECT_EQ(code(R"({"rspServerAddress":"a","eventId":"e"})"), "1.2/2.2 eid");
  EXPECT_EQ(code(R"({"eid":"123","rspServerAddress":"a","eventId":"e"})"), "1.2/2.1 eid");
  EXPECT_EQ(code(R"({"eid":")" + kEid + R"(","rspServerAddress":"","eventId":"e"})"), "1.2/2.1 rspServerAddress");
  EXPECT_EQ(code(R"({"eid":")" + kEid + R"(","rspServerAddress":"a","eventId":")" + std::string(300, 'x') + "\"}"),
            "1.2/2.1 eventId");
  EXPECT_EQ(code(R"({"eid":")" + kEid + R"(","rspServerAddress":"a","eventId":"e","forwardingIndicator":"yes"})"),
            "1.2/2.1 forwardingIndicator");
  EXPECT_EQ(code(R"({"eid":")" + kEid + R"(","rspServerAddress":"a","eventId":"e","extra":1})"), "1.2/2.1 extra");
  EXPECT_EQ(code(R"({"eid":")" + kEid + R"(","rspServerAddress":"a","eventId":"e"})"), "ok");
}

TEST(Es11Json, InitiateAuthenticationUsesSmdsAddress) {
  asn1::sgp22::InitiateAuthenticationRequest r;
  r.euiccChallenge = Bytes(16, 0x42);
  r.euiccInfo1.svn = Bytes{2, 2, 2};
  r.smdpAddress = "smds.example";
  const std::string body = es11::encode_initiate_authentication_request(r);
  EXPECT_NE(body.find("\"smdsAddress\""), std::string::npos);
  EXPECT_EQ(body.find("smdpAddress"), std::string::npos);
  auto back = es11::decode_initiate_authentication_request(body);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->smdpAddress, "smds.example");
  // ES9+'s member name is not ES11's.
  std::string es9_body = body;
  es9_body.replace(es9_body.find("smdsAddress"), 11, "smdpAddress");
  auto refused = es11::decode_initiate_authentication_request(es9_body);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "smdpAddress");
  std::string missing = body;
  missing.replace(missing.find("smdsAddress"), 11, "somethingEl");
  auto no_address = es11::decode_initiate_authentication_request(missing);
  ASSERT_FALSE(no_address);
}

TEST(Es11Json, EventEntriesRoundTrip) {
  asn1::sgp22::AuthenticateClientOkEs11 ok;
  ok.transactionId = Bytes(16, 0x07);
  ok.eventEntries.push_back({"E1", "smdp.example"});
  ok.eventEntries.push_back({"E2", "alt.smds.example"});
  auto back = es11::decode_authenticate_client_response(es11::encode_authenticate_client_response(ok));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, ok);
  auto bad = es11::decode_authenticate_client_response(
      R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"transactionId":"07","eventEntries":[1]})");
  EXPECT_FALSE(bad);
}

}  // namespace
}  // namespace rsp::messages
