#include "rsp/ota/trigger.hpp"

#include <gtest/gtest.h>

namespace rsp::ota {
namespace {

AdminSessionTrigger sample() {
  AdminSessionTrigger t;
  // OPEN CHANNEL objects (TS 102 223): bearer default, buffer 512, TCP client remote port 8443, IPv4 127.0.0.1.
  t.connection_parameters = from_hex("350103" "39020200" "3C030220FB" "3E05217F000001").value();
  t.security = TriggerSecurity{"SMSR-PSK-89049032", 0x40, 0x01};
  t.retry = TriggerRetry{3, 90, {}};
  t.host = "smsr.example";
  t.agent_id = "//se-id/eid/89049032123451234512345678901235";
  t.uri = "/ram";
  return t;
}

TEST(OtaTrigger, PublicElementCodings) {
  // pySim's Amendment B element vectors: security parameters, host and URI.
  AdminSessionTrigger t;
  t.security = TriggerSecurity{std::string("\xDE\xAD\xBE\xEF"), 0x00, 0x40};
  t.host = "admin.host";
  t.uri = "https://admin.host/uri";
  Bytes enc = encode(t).value();
  const std::string hex = to_hex(enc);
  EXPECT_NE(hex.find("850804DEADBEEF020040"), std::string::npos);
  EXPECT_NE(hex.find("8A0A61646D696E2E686F7374"), std::string::npos);
  EXPECT_NE(hex.find("8C1668747470733A2F2F61646D696E2E686F73742F757269"), std::string::npos);
  EXPECT_EQ(hex.substr(0, 2), "81");
  EXPECT_EQ(hex.substr(4, 2), "83");
  EXPECT_EQ(decode_admin_session_trigger(enc).value(), t);
}

TEST(OtaTrigger, RoundTripsEverything) {
  auto t = sample();
  ASSERT_FALSE(t.connection_parameters.empty());
  Bytes enc = encode(t).value();
  EXPECT_EQ(decode_admin_session_trigger(enc).value(), t);
  // Retry delay as a TS 102 223 timer: 90 s = 00:01:30, BCD swapped.
  EXPECT_NE(to_hex(enc).find("86070003250300" "1003"), std::string::npos);
  t.retry->waiting_delay_seconds = 99 * 3600 + 59 * 60 + 59;
  t.retry->report_failure = {0x01};
  EXPECT_EQ(decode_admin_session_trigger(encode(t).value()).value(), t);
  t.retry->waiting_delay_seconds = 100 * 3600;
  EXPECT_EQ(encode(t).error().code, OtaErrorCode::InvalidValue);
  // Only the session parameters are mandatory; unknown elements are skipped.
  EXPECT_EQ(decode_admin_session_trigger(from_hex("81028300").value()).value(), AdminSessionTrigger{});
  EXPECT_TRUE(decode_admin_session_trigger(from_hex("81078300B3039C0100").value()));
  EXPECT_TRUE(decode_admin_session_trigger(from_hex("81068304A5020101").value()));
}

TEST(OtaTrigger, RejectsMalformed) {
  Bytes enc = encode(sample()).value();
  for (std::size_t cut = 0; cut < enc.size(); ++cut)
    EXPECT_FALSE(decode_admin_session_trigger(ByteView(enc).first(cut))) << cut;
  auto code = [](const char* hex) { return decode_admin_session_trigger(from_hex(hex).value()).error().code; };
  EXPECT_EQ(code("8200"), OtaErrorCode::InvalidValue);
  EXPECT_EQ(code("8100"), OtaErrorCode::MissingElement);
  EXPECT_EQ(code("810483008300"), OtaErrorCode::UnexpectedElement);
  EXPECT_EQ(code("8106830484008400"), OtaErrorCode::InvalidValue);          // empty connection parameters
  EXPECT_EQ(code("81058303850105"), OtaErrorCode::Truncated);              // PSK identity beyond the value
  EXPECT_EQ(code("8109830785050141030001"), OtaErrorCode::InvalidValue);  // key version length 3
  EXPECT_EQ(code("810B8309860700032402000000"), OtaErrorCode::InvalidValue);  // not a timer TLV
  EXPECT_EQ(code("810B830986070003250300A000"), OtaErrorCode::InvalidValue);  // not BCD
  EXPECT_EQ(code("810B8309860700032503000006"), OtaErrorCode::InvalidValue);  // 60 seconds
  EXPECT_EQ(code("8108830689048A008A00"), OtaErrorCode::UnexpectedElement);
  EXPECT_EQ(code("81028380"), OtaErrorCode::InvalidValue);
  EXPECT_FALSE(decode_admin_session_trigger(concat({enc, Bytes{0}})));
}

}  // namespace
}  // namespace rsp::ota
