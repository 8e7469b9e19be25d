// RAM over HTTP bodies and the session trigger: response and command
// scripting templates (TS 102 226 §5.2) and the Amendment B trigger TLV.
#include <cstdint>
#include <cstdlib>

#include "rsp/ota/ram.hpp"
#include "rsp/ota/trigger.hpp"

using namespace rsp;
using namespace rsp::ota;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  if (auto r = decode_response_script(in)) {
    auto again = encode(*r);
    if (!again) std::abort();
    auto back = decode_response_script(*again);
    if (!back || !(*back == *r)) std::abort();
  }
  if (auto c = decode_command_script(in)) {
    auto again = encode(*c);
    if (!again) std::abort();
    auto back = decode_command_script(*again);
    if (!back || !(*back == *c)) std::abort();
  }
  if (auto t = decode_admin_session_trigger(in)) {
    auto again = encode(*t);
    if (!again) std::abort();
    auto back = decode_admin_session_trigger(*again);
    if (!back || !(*back == *t)) std::abort();
  }
  return 0;
}
