// Untrusted ES12 request bodies (SGP.22 JSON binding) through the decoders and
// the SM-DS functions on a SQLite event store: nothing may crash or assert.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_world.hpp"
#include "rsp/messages/es12_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static rsp::smds::fuzzing::World w;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto r = rsp::messages::es12::decode_register_event_request(body)) (void)w.server->register_event("fuzz", *r);
  if (auto r = rsp::messages::es12::decode_delete_event_request(body)) (void)w.server->delete_event("fuzz", *r);
  return 0;
}
