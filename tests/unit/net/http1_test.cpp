// HTTP/1.1 request framing (RFC 9112): what is accepted, and the status every
// refusal is answered with.

#include "rsp/net/http1.hpp"

#include <gtest/gtest.h>

namespace rsp::net {
namespace {

using Status = HeadParse::Status;

HeadParse parse(std::string_view in, HeadLimits limits = {}) { return parse_request_head(in, limits); }

int refused_with(std::string_view in, HeadLimits limits = {}) {
  const auto p = parse(in, limits);
  EXPECT_EQ(p.status, Status::Error) << in;
  return p.error.status;
}

TEST(Http1, ParsesARequestWithItsFramingFields) {
  const std::string in =
      "POST /gsma/rsp2/es9plus/initiateAuthentication?x=1 HTTP/1.1\r\nHost: smdp.example\r\n"
      "Content-Type: application/json\r\nX-Admin-Protocol:  gsma/rsp/v2.2.0 \r\nContent-Length: 2\r\n\r\n{}";
  const auto p = parse(in);
  ASSERT_EQ(p.status, Status::Complete) << p.error.reason;
  EXPECT_EQ(p.consumed, in.size() - 2);
  EXPECT_EQ(p.head.method, "POST");
  EXPECT_EQ(p.head.path, "/gsma/rsp2/es9plus/initiateAuthentication");
  EXPECT_EQ(p.head.target, "/gsma/rsp2/es9plus/initiateAuthentication?x=1");
  EXPECT_EQ(p.head.content_length, 2u);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_FALSE(p.head.chunked);
  EXPECT_EQ(find_header(p.head.headers, "x-admin-protocol"), "gsma/rsp/v2.2.0");
}

TEST(Http1, IncompleteUntilTheBlankLine) {
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::size_t n = 0; n < in.size(); ++n) EXPECT_EQ(parse(in.substr(0, n)).status, Status::Incomplete) << n;
  EXPECT_EQ(parse(in).status, Status::Complete);
  // Bare LF line ends are accepted (RFC 9112 §2.2), and so are leading empty lines.
  EXPECT_EQ(parse("\r\nGET / HTTP/1.1\nHost: a\n\n").status, Status::Complete);
}

TEST(Http1, ConnectionAndVersionDecideKeepAlive) {
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, keep-alive\r\n\r\n").head.keep_alive);
}

TEST(Http1, SmugglingShapesAreRefused) {
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), 400);  // obsolete folding
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400);           // bare CR
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(refused_with("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  // Identical repeated lengths are one length.
  const auto same = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc");
  ASSERT_EQ(same.status, Status::Complete);
  EXPECT_EQ(same.head.content_length, 3u);
}

TEST(Http1, MalformedRequestLinesAndFields) {
  EXPECT_EQ(refused_with("GET /\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(refused_with("GET / HTTQ/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\n\r\n"), 400);  // no Host
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
  constexpr char kNul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
  EXPECT_EQ(refused_with(std::string(kNul, sizeof kNul - 1)), 400);
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n"), 417);
  EXPECT_TRUE(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n").head.expect_continue);
}

TEST(Http1, LimitsAreAnsweredWithTheirStatus) {
  HeadLimits limits;
  limits.max_head_bytes = 200;
  limits.max_target_bytes = 50;
  limits.max_headers = 3;
  limits.max_body_bytes = 10;
  EXPECT_EQ(refused_with("GET /" + std::string(60, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", limits), 414);
  // Too long without a line end yet: the request line is the culprit.
  EXPECT_EQ(refused_with("GET /" + std::string(300, 'a'), limits), 414);
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(300, 'b'), limits), 431);
  EXPECT_EQ(refused_with("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), 431);
  const auto big = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits);
  ASSERT_EQ(big.status, Status::Error);
  EXPECT_EQ(big.error.status, 413);
  EXPECT_EQ(big.head.method, "POST");  // known, for the metrics of the refusal
  EXPECT_EQ(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", limits), 400);
}

ChunkedDecoder::Step feed_all(ChunkedDecoder& d, std::string_view in, std::string& body, std::size_t piece) {
  ChunkedDecoder::Step last;
  std::size_t used = 0;
  while (used < in.size()) {
    const auto part = in.substr(used, std::min(piece, in.size() - used));
    last = d.feed(part, body);
    used += last.consumed;
    if (last.status != ChunkedDecoder::Status::NeedMore) break;
    if (last.consumed != part.size()) ADD_FAILURE() << "NeedMore left bytes unread";
  }
  last.consumed = used;
  return last;
}

TEST(Http1, ChunkedBodiesInAnyPieces) {
  const std::string in = "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (std::size_t piece : {1u, 2u, 7u, 1000u}) {
    ChunkedDecoder d(1000);
    std::string body;
    const auto step = feed_all(d, in, body, piece);
    ASSERT_EQ(step.status, ChunkedDecoder::Status::Done) << piece << " " << step.error.reason;
    EXPECT_EQ(body, "Wikipedia in\r\n\r\nchunks.");
    EXPECT_EQ(in.substr(step.consumed), "NEXT");
  }
}

TEST(Http1, ChunkedRefusals) {
  auto status_of = [](std::string_view in, std::uint64_t limit = 100) {
    ChunkedDecoder d(limit);
    std::string body;
    const auto step = d.feed(in, body);
    return step.status == ChunkedDecoder::Status::Error ? step.error.status : 0;
  };
  EXPECT_EQ(status_of("zz\r\n"), 400);
  EXPECT_EQ(status_of("\r\n"), 400);
  EXPECT_EQ(status_of("3\r\nabcd\r\n"), 400);
  EXPECT_EQ(status_of("3\rx"), 400);
  EXPECT_EQ(status_of("65\r\n"), 413);  // 101 > 100
  EXPECT_EQ(status_of("32\r\n" + std::string(50, 'a') + "\r\n33\r\n"), 413);
  EXPECT_EQ(status_of("ffffffffffffffffff\r\n"), 413);
  EXPECT_EQ(status_of("1;" + std::string(5000, 'e') + "\r\n"), 400);
  EXPECT_EQ(status_of("0\r\n" + std::string(20000, 't')), 431);
  EXPECT_EQ(status_of("2\r\nab\r\n"), 0);  // fine so far: more is needed
}

}  // namespace
}  // namespace rsp::net
