#include "rsp/messages/header.hpp"

#include <gtest/gtest.h>

namespace rsp::messages {
namespace {

TEST(Header, RequestHeaderRoundTrip) {
  RequestHeader h{"operator-1", "call-42"};
  auto j = to_json(h);
  EXPECT_EQ(j["functionRequesterIdentifier"], "operator-1");
  auto back = parse_request_header(j);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, h);
}

TEST(Header, RequestHeaderStrict) {
  auto missing = parse_request_header(nlohmann::json{{"functionRequesterIdentifier", "a"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::MissingField);
  EXPECT_EQ(missing.error().field, "header.functionCallIdentifier");
  EXPECT_EQ(missing.error().reason_code, "2.2");
  auto extra = parse_request_header(nlohmann::json{
      {"functionRequesterIdentifier", "a"}, {"functionCallIdentifier", "b"}, {"x", 1}});
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().kind, ErrorKind::UnknownField);
  EXPECT_EQ(extra.error().subject_code, "1.2");
  EXPECT_EQ(extra.error().reason_code, "2.1");
  auto type = parse_request_header(nlohmann::json{
      {"functionRequesterIdentifier", 5}, {"functionCallIdentifier", "b"}});
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().kind, ErrorKind::WrongType);
  EXPECT_FALSE(parse_request_header(nlohmann::json::array()));
}

TEST(Header, ResponseHeaderSuccessAndFailure) {
  auto ok = to_json(ResponseHeader::success());
  EXPECT_EQ(ok.dump(), R"({"functionExecutionStatus":{"status":"Executed-Success"}})");
  auto parsed = parse_response_header(ok);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->succeeded());

  auto failed = ResponseHeader::failed("8.2.6", "3.8", "matching id refused");
  auto fj = to_json(failed);
  EXPECT_EQ(fj["functionExecutionStatus"]["status"], "Failed");
  EXPECT_EQ(fj["functionExecutionStatus"]["statusCodeData"]["subjectCode"], "8.2.6");
  auto back = parse_response_header(fj);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, failed);
  EXPECT_FALSE(back->succeeded());
}

TEST(Header, ResponseHeaderStrict) {
  using nlohmann::json;
  auto no_data = parse_response_header(json{{"functionExecutionStatus", {{"status", "Failed"}}}});
  ASSERT_FALSE(no_data);
  EXPECT_EQ(no_data.error().kind, ErrorKind::MissingField);
  auto bad_status = parse_response_header(json{{"functionExecutionStatus", {{"status", "Done"}}}});
  ASSERT_FALSE(bad_status);
  EXPECT_EQ(bad_status.error().kind, ErrorKind::BadValue);
  auto warn = parse_response_header(json{{"functionExecutionStatus",
      {{"status", "Executed-WithWarning"},
       {"statusCodeData", {{"subjectCode", "1"}, {"reasonCode", "2"}, {"subjectIdentifier", "s"}}}}}});
  ASSERT_TRUE(warn);
  EXPECT_TRUE(warn->succeeded());
  EXPECT_EQ(warn->function_execution_status.status_code_data->subject_identifier, "s");
  auto extra = parse_response_header(json{{"functionExecutionStatus",
      {{"status", "Executed-Success"}, {"more", true}}}});
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().field, "header.functionExecutionStatus.more");
}

TEST(Header, ParseJsonNeverThrows) {
  EXPECT_FALSE(parse_json("{"));
  EXPECT_FALSE(parse_json("{} x"));
  EXPECT_FALSE(parse_json_object("[1]"));
  EXPECT_FALSE(parse_json(std::string(1000, '[') + std::string(1000, ']')));
  EXPECT_TRUE(parse_json_object(R"({"a":"[[[["})"));
  EXPECT_EQ(parse_json("\xff").error().kind, ErrorKind::MalformedJson);
}

}  // namespace
}  // namespace rsp::messages

namespace rsp::messages {
namespace {

TEST(Header, UnknownMemberNamesAreCutShort) {
  nlohmann::json j{{"functionRequesterIdentifier", "a"}, {"functionCallIdentifier", "b"},
                   {std::string(500, 'k'), 1}};
  auto r = parse_request_header(j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::UnknownField);
  EXPECT_LE(r.error().field.size(), 64u + 7u);
}

}  // namespace
}  // namespace rsp::messages
