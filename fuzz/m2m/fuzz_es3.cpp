// Parses any input as the JSON body of each ES3 request (what the SM-SR
// receives from an SM-DP, the update functions and AuditEIS included), as an
// ES3 result (the AuditEIS EIS included) and as an ES3 notification (what the
// SM-DP receives back);
// whatever decodes must encode to a body that decodes to the same value.
#include <cstdlib>

#include "rsp/m2m/es3.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rsp::m2m::es3;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::size_t i = 0; i < std::size(kFunctions); ++i) {
    const auto f = static_cast<Function>(i);
    auto r = decode_request(f, text);
    if (!r) continue;
    if (function_of(*r) != f) std::abort();
    auto again = decode_request(f, encode_request(*r));
    if (!again || !(*again == *r)) std::abort();
  }
  if (auto res = decode_result(text)) {
    auto again = decode_result(encode_result(*res));
    if (!again || !(*again == *res)) std::abort();
  }
  // What the SM-DP's results route reads: a result or a notification.
  if (auto cb = decode_callback(text)) {
    if (const auto* n = std::get_if<Notification>(&*cb)) {
      auto again = decode_notification(encode_notification(*n));
      if (!again || !(*again == *n)) std::abort();
    }
  }
  return 0;
}
