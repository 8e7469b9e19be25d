// Parses any input as a command and a response APDU; whatever parses must
// encode back to a command that parses to the same fields.
#include <cstdlib>

#include "rsp/apdu/class_byte.hpp"
#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rsp::ByteView in(data, size);
  auto c = rsp::apdu::parse_command(in);
  if (c) {
    (void)rsp::apdu::decode_class(c->cla);
    auto encoded = rsp::apdu::encode_command(*c);
    if (!encoded) std::abort();
    auto again = rsp::apdu::parse_command(*encoded);
    if (!again || again->data != c->data || again->le != c->le || again->ins != c->ins) std::abort();
    // Short and extended forms alike survive the round trip byte for byte.
    if (*encoded != rsp::Bytes(in.begin(), in.end())) std::abort();
  }
  auto r = rsp::apdu::parse_response(in);
  if (r && rsp::apdu::encode_response(*r) != rsp::Bytes(in.begin(), in.end())) std::abort();
  return 0;
}
