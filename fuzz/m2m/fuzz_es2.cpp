// Parses any input as the JSON body of each ES2 request (what the SM-DP
// receives from an MNO), as the SM-DP's answer and as a callback to the MNO
// (what an MNO receives); whatever decodes must encode to a body that decodes
// to the same value.
#include "round_trip.hpp"
#include "rsp/m2m/es2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rsp::m2m::es2;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rsp::fuzz::requests_round_trip<Function>(
      text, std::size(kFunctions), decode_request, [](const Request& r) { return encode_request(r); }, function_of);
  rsp::fuzz::round_trip(text, decode_answer, encode_answer);
  rsp::fuzz::round_trip(text, decode_callback, encode_callback);
  return 0;
}
