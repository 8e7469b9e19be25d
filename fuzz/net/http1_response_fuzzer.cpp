// Untrusted HTTP/1.1 response bytes (what a server sends the PSK-TLS client)
// through the response head parser: nothing may crash, throw or assert, a
// complete head never claims more bytes than it was given, and a prefix of
// a complete head is never complete with a different length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rsp/net/http1.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  rsp::net::HeadLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_headers = 20;
  limits.max_body_bytes = 1 << 20;
  const auto p = rsp::net::parse_response_head(in, limits);
  using Status = rsp::net::ResponseHeadParse::Status;
  if (p.status == Status::Complete) {
    if (p.consumed == 0 || p.consumed > in.size()) std::abort();
    if (p.head.status < 100 || p.head.status > 999) std::abort();
    if (p.head.chunked && p.head.content_length) std::abort();
    if (p.head.content_length && *p.head.content_length > limits.max_body_bytes) std::abort();
    // The same head with nothing after it parses the same.
    const auto again = rsp::net::parse_response_head(in.substr(0, p.consumed), limits);
    if (again.status != Status::Complete || again.consumed != p.consumed) std::abort();
  }
  if (p.status == Status::Error && p.error.empty()) std::abort();
  return 0;
}
