// HTTP/1.1 response heads as a client reads them (RFC 9112 §4-§6): the
// framing the PSK-TLS client takes from them, and what it refuses.

#include <gtest/gtest.h>

#include "rsp/net/http1.hpp"

namespace rsp::net {
namespace {

using Status = ResponseHeadParse::Status;

TEST(Http1Response, ParsesAStatusLineHeadersAndTheirFraming) {
  const std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.globalplatform.card-content-mgt;version=1.0\r\n"
      "X-Admin-Next-URI: /next\r\nContent-Length: 3\r\n\r\nabc";
  const auto p = parse_response_head(in);
  ASSERT_EQ(p.status, Status::Complete) << p.error;
  EXPECT_EQ(p.consumed, in.size() - 3);
  EXPECT_EQ(p.head.status, 200);
  EXPECT_EQ(p.head.minor_version, 1);
  EXPECT_EQ(p.head.content_length, 3u);
  EXPECT_FALSE(p.head.chunked);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(find_header(p.head.headers, "x-admin-next-uri"), "/next");
}

TEST(Http1Response, NoReasonPhraseBareLfsChunkedAndConnection) {
  auto p = parse_response_head("HTTP/1.1 204\n\n");
  ASSERT_EQ(p.status, Status::Complete) << p.error;
  EXPECT_EQ(p.head.status, 204);
  EXPECT_EQ(p.consumed, 14u);
  p = parse_response_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(p.status, Status::Complete) << p.error;
  EXPECT_TRUE(p.head.chunked);
  EXPECT_FALSE(p.head.keep_alive);
  p = parse_response_head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(p.status, Status::Complete);
  EXPECT_FALSE(p.head.keep_alive);
  p = parse_response_head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1, 1\r\n\r\n");
  ASSERT_EQ(p.status, Status::Complete);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(p.head.content_length, 1u);
}

TEST(Http1Response, IncompleteUntilTheBlankLine) {
  const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  for (std::size_t n = 0; n < in.size(); ++n)
    EXPECT_EQ(parse_response_head(in.substr(0, n)).status, Status::Incomplete) << n;
  EXPECT_EQ(parse_response_head(in).status, Status::Complete);
}

TEST(Http1Response, RefusesMalformedOrOversizedHeads) {
  for (const char* bad : {
           "HTTP/2 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 2000 OK\r\n\r\n",
           "HTTP/1.1 099 OK\r\n\r\n",
           "HTTP/1.1 2x0 OK\r\n\r\n",
           "HTTP/1.1 200 O\x01K\r\n\r\n",
           "HTTX/1.1 200 OK\r\n\r\n",
           "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
           "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
           "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       }) {
    const auto p = parse_response_head(bad);
    EXPECT_EQ(p.status, Status::Error) << bad;
    EXPECT_FALSE(p.error.empty()) << bad;
  }
  HeadLimits limits;
  limits.max_head_bytes = 64;
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a'), limits).status, Status::Error);
  limits = {};
  limits.max_headers = 2;
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).status, Status::Error);
  limits = {};
  limits.max_body_bytes = 10;
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", limits).status, Status::Error);
}

}  // namespace
}  // namespace rsp::net
