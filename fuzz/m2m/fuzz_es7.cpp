// Parses any input as the JSON body of each ES7 / SM-SR change request (what
// an SM-SR receives from the other SM-SR or an MNO) and as an ES7 response;
// whatever decodes must encode to a body that decodes to the same value.
#include "round_trip.hpp"
#include "rsp/m2m/es7.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rsp::m2m::es7;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rsp::fuzz::requests_round_trip<Function>(
      text, std::size(kFunctions), decode_request, [](const Request& r) { return encode_request(r); }, function_of);
  rsp::fuzz::round_trip(text, decode_response, encode_response);
  return 0;
}
