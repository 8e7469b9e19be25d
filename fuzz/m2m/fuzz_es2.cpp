// Parses any input as the JSON body of each ES2 request (what the SM-DP
// receives from an MNO), as the SM-DP's answer and as a callback to the MNO
// (what an MNO receives); whatever decodes must encode to a body that decodes
// to the same value.
#include <cstdlib>

#include "rsp/m2m/es2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rsp::m2m::es2;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::size_t i = 0; i < std::size(kFunctions); ++i) {
    const auto f = static_cast<Function>(i);
    auto r = decode_request(f, text);
    if (!r) continue;
    if (function_of(*r) != f) std::abort();
    auto again = decode_request(f, encode_request(*r));
    if (!again || !(*again == *r)) std::abort();
  }
  if (auto a = decode_answer(text)) {
    auto again = decode_answer(encode_answer(*a));
    if (!again || !(*again == *a)) std::abort();
  }
  if (auto c = decode_callback(text)) {
    auto again = decode_callback(encode_callback(*c));
    if (!again || !(*again == *c)) std::abort();
  }
  return 0;
}
