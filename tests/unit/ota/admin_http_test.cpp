#include "rsp/ota/admin_http.hpp"

#include <gtest/gtest.h>

namespace rsp::ota {
namespace {

TEST(OtaAdminHttp, RequestRoundTrip) {
  AdminRequest r{"//se-id/eid/89049032123451234512345678901235;//aa-id/aid/A000000559/1010FFFFFFFF8900000100",
                 ScriptStatus::Ok, false, true};
  Headers h = format_request_headers(r);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"X-Admin-Protocol", "globalplatform-remote-admin/1.0"}));
  EXPECT_EQ(parse_request_headers(h).value(), r);
  // The first POST of a session: no body, no status; a resumed one.
  AdminRequest first{"agent", std::nullopt, true, false};
  EXPECT_EQ(parse_request_headers(format_request_headers(first)).value(), first);
  // Header names are case-insensitive, values trimmed, the media type spacing-tolerant.
  Headers loose{{"x-admin-protocol", " globalplatform-remote-admin/1.0"},
                {"X-ADMIN-FROM", "agent"},
                {"content-type", "application/vnd.globalplatform.card-content-mgt-response; version=1.0"},
                {"X-Admin-Script-Status", "security-error"}};
  auto p = parse_request_headers(loose).value();
  EXPECT_TRUE(p.has_body);
  EXPECT_EQ(p.script_status, ScriptStatus::SecurityError);
  for (auto s : {ScriptStatus::Ok, ScriptStatus::UnknownApplication, ScriptStatus::NotASecurityDomain,
                 ScriptStatus::SecurityError, ScriptStatus::UnavailableSe,
                 ScriptStatus::TemporarilyUnavailableApplication, ScriptStatus::ScriptFormatError})
    EXPECT_EQ(parse_script_status(to_string(s)), s);
}

TEST(OtaAdminHttp, RequestRejects) {
  auto code = [](Headers h) { return parse_request_headers(h).error().code; };
  const std::pair<std::string, std::string> proto{"X-Admin-Protocol", "globalplatform-remote-admin/1.0"},
      from{"X-Admin-From", "a"};
  EXPECT_EQ(code({from}), OtaErrorCode::MissingElement);
  EXPECT_EQ(code({{"X-Admin-Protocol", "globalplatform-remote-admin/2.0"}, from}), OtaErrorCode::Unsupported);
  EXPECT_EQ(code({proto}), OtaErrorCode::MissingElement);
  EXPECT_EQ(code({proto, {"X-Admin-From", ""}}), OtaErrorCode::MissingElement);
  EXPECT_EQ(code({proto, from, from}), OtaErrorCode::UnexpectedElement);
  EXPECT_EQ(code({proto, from, {"Content-Type", "application/json"}}), OtaErrorCode::InvalidValue);
  EXPECT_EQ(code({proto, from, {"X-Admin-Script-Status", "fine"}}), OtaErrorCode::InvalidValue);
  EXPECT_EQ(code({proto, from, {"X-Admin-Resume", "yes"}}), OtaErrorCode::InvalidValue);
}

TEST(OtaAdminHttp, ResponseRoundTripAndRejects) {
  AdminResponse next{"/smsr/ram?session=7&step=2", from_hex("A0000005591010FFFFFFFF8900001100").value(), true};
  EXPECT_EQ(response_status(next), 200);
  Headers h = format_response_headers(next);
  bool saw_target = false;
  for (const auto& [n, v] : h)
    if (n == "X-Admin-Targeted-Application") {
      saw_target = true;
      EXPECT_EQ(v, "//aid/A000000559/1010FFFFFFFF8900001100");
    }
  EXPECT_TRUE(saw_target);
  EXPECT_EQ(parse_response_headers(200, h).value(), next);
  AdminResponse end{};
  EXPECT_EQ(response_status(end), 204);
  EXPECT_EQ(parse_response_headers(204, format_response_headers(end)).value(), end);
  EXPECT_EQ(parse_response_headers(500, {}).error().code, OtaErrorCode::InvalidValue);
  EXPECT_EQ(parse_response_headers(200, {}).error().code, OtaErrorCode::InvalidValue);
  EXPECT_EQ(parse_response_headers(204, {{"Content-Type", "x"}}).error().code, OtaErrorCode::UnexpectedElement);
  EXPECT_EQ(parse_response_headers(204, {{"X-Admin-Next-URI", ""}}).error().code, OtaErrorCode::InvalidValue);
  EXPECT_EQ(parse_response_headers(204, {{"X-Admin-Targeted-Application", "//aid/A0/01"}}).error().code,
            OtaErrorCode::InvalidValue);
}

TEST(OtaAdminHttp, AidUri) {
  EXPECT_EQ(parse_aid_uri("//aid/A000000151/000000").value(), from_hex("A000000151000000").value());
  EXPECT_EQ(parse_aid_uri("//aid/a000000151/").value(), from_hex("A000000151").value());
  EXPECT_FALSE(parse_aid_uri("/aid/A000000151/00"));
  EXPECT_FALSE(parse_aid_uri("//aid/A000000151"));
  EXPECT_FALSE(parse_aid_uri("//aid/A0000001/00"));
  EXPECT_FALSE(parse_aid_uri("//aid/A000000151/0G"));
  EXPECT_FALSE(parse_aid_uri("//aid/A000000151/ 0"));
  EXPECT_FALSE(parse_aid_uri("//aid/A000000151/000102030405060708090A0B"));
}

}  // namespace
}  // namespace rsp::ota
