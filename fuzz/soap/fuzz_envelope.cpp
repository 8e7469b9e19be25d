// The SOAP envelope parser (soap/envelope.hpp) on untrusted bytes: no crash,
// no leak; whatever parses has a body element with a name, and writing it
// back and reading that again gives the same body.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rsp/soap/envelope.hpp"

using namespace rsp;

namespace {
bool same(const soap::Element& a, const soap::Element& b) {
  if (a.ns != b.ns || a.name != b.name || a.children.size() != b.children.size()) return false;
  for (std::size_t i = 0; i < a.children.size(); ++i)
    if (!same(a.children[i], b.children[i])) return false;
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  soap::ParseOptions o;
  o.max_bytes = 64 * 1024;
  auto env = soap::parse_envelope(in, o);
  if (!env) return 0;
  if (env->body.name.empty()) std::abort();
  const std::string out = soap::build_envelope(env->version, env->addressing, env->body);
  auto again = soap::parse_envelope(out, soap::ParseOptions{1 << 20, 64, 1 << 20, false, false});
  if (!again || !same(again->body, env->body)) std::abort();
  return 0;
}
