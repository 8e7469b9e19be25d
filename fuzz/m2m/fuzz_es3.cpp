// Parses any input as the JSON body of each ES3 request (what the SM-SR
// receives from an SM-DP, the update functions and AuditEIS included), as an
// ES3 result (the AuditEIS EIS included) and as an ES3 notification (what the
// SM-DP receives back);
// whatever decodes must encode to a body that decodes to the same value.
#include "round_trip.hpp"
#include "rsp/m2m/es3.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rsp::m2m::es3;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rsp::fuzz::requests_round_trip<Function>(
      text, std::size(kFunctions), decode_request, [](const Request& r) { return encode_request(r); }, function_of);
  rsp::fuzz::round_trip(text, decode_result, encode_result);
  // What the SM-DP's results route reads: a result or a notification.
  if (auto cb = decode_callback(text)) {
    if (const auto* n = std::get_if<Notification>(&*cb)) {
      auto again = decode_notification(encode_notification(*n));
      if (!again || !(*again == *n)) std::abort();
    }
  }
  return 0;
}
