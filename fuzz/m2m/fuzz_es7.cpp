// Parses any input as the JSON body of each ES7 / SM-SR change request (what
// an SM-SR receives from the other SM-SR or an MNO) and as an ES7 response;
// whatever decodes must encode to a body that decodes to the same value.
#include <cstdlib>

#include "rsp/m2m/es7.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rsp::m2m::es7;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::size_t i = 0; i < std::size(kFunctions); ++i) {
    const auto f = static_cast<Function>(i);
    auto r = decode_request(f, text);
    if (!r) continue;
    if (function_of(*r) != f) std::abort();
    auto again = decode_request(f, encode_request(*r));
    if (!again || !(*again == *r)) std::abort();
  }
  if (auto res = decode_response(text)) {
    auto again = decode_response(encode_response(*res));
    if (!again || !(*again == *res)) std::abort();
  }
  return 0;
}
