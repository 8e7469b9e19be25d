// The SOAP message mapping of the M2M binding (m2m_soap/messages.hpp) on
// untrusted bytes, behind the envelope parser as the endpoints use it: no
// crash, no leak; a body that maps to JSON maps back to a body that gives
// the same JSON.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rsp/m2m_soap/messages.hpp"
#include "rsp/soap/envelope.hpp"

using namespace rsp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  soap::ParseOptions o;
  o.max_bytes = 64 * 1024;
  o.require_action = false;
  o.require_message_id = false;
  auto env = soap::parse_envelope(in, o);
  if (!env) return 0;
  auto j = m2m_soap::soap_to_json(env->body);
  if (!j) return 0;
  soap::Element again{std::string(m2m_soap::kGsmaNs), env->body.name, {}, {}};
  m2m_soap::json_to_soap(*j, again);
  auto k = m2m_soap::soap_to_json(again);
  if (!k || *k != *j) std::abort();
  return 0;
}
