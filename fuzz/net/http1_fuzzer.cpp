// Untrusted HTTP/1.1 request bytes through the head parser and the chunked
// decoder: nothing may crash, throw or assert, and the framing must be
// consistent: a complete head never claims more bytes than it was given,
// whatever piece sizes the bytes arrive in the chunked decoder gives the same
// body and verdict.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rsp/net/http1.hpp"

namespace {

using rsp::net::ChunkedDecoder;

ChunkedDecoder::Step decode(std::string_view in, std::size_t piece, std::string& body) {
  ChunkedDecoder d(4096);
  ChunkedDecoder::Step last;
  std::size_t used = 0;
  do {
    const auto part = in.substr(used, std::min(piece, in.size() - used));
    last = d.feed(part, body);
    if (last.consumed > part.size()) std::abort();
    used += last.consumed;
    if (last.status == ChunkedDecoder::Status::NeedMore && last.consumed != part.size()) std::abort();
  } while (last.status == ChunkedDecoder::Status::NeedMore && used < in.size());
  last.consumed = used;
  return last;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  rsp::net::HeadLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_target_bytes = 512;
  limits.max_headers = 20;
  limits.max_body_bytes = 4096;
  const auto p = rsp::net::parse_request_head(in, limits);
  if (p.status == rsp::net::HeadParse::Status::Complete) {
    if (p.consumed > in.size() || p.consumed == 0) std::abort();
    if (p.head.chunked && p.head.content_length) std::abort();
    // The head is a prefix: parsing just it gives the same result.
    const auto again = rsp::net::parse_request_head(in.substr(0, p.consumed), limits);
    if (again.status != p.status || again.consumed != p.consumed || again.head.path != p.head.path) std::abort();
    if (p.head.chunked) {
      const auto body_bytes = in.substr(p.consumed);
      std::string whole, bytewise;
      const auto a = decode(body_bytes, body_bytes.size() + 1, whole);
      const auto b = decode(body_bytes, 1, bytewise);
      if (a.status != b.status || (a.status != ChunkedDecoder::Status::Error && (whole != bytewise || a.consumed != b.consumed)))
        std::abort();
      if (whole.size() > 4096) std::abort();
    }
  } else if (p.status == rsp::net::HeadParse::Status::Error) {
    if (p.error.status < 400 || p.error.status > 599) std::abort();
  }
  return 0;
}
