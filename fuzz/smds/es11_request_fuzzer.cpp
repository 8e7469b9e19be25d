// Untrusted ES11 request bodies (SGP.22 JSON binding) through the decoders and
// the SM-DS functions: nothing may crash, assert or grow without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_world.hpp"
#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es9_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static rsp::smds::fuzzing::World w;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto r = rsp::messages::es11::decode_initiate_authentication_request(body))
    (void)w.server->initiate_authentication(*r);
  if (auto r = rsp::messages::es9::decode_authenticate_client_request(body)) (void)w.server->authenticate_client(*r);
  (void)rsp::messages::es11::decode_authenticate_client_response(body);
  return 0;
}
