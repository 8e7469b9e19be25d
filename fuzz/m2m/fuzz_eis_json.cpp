// Parses any input as the JSON of an EIS (what ES1 RegisterEIS receives);
// whatever parses must encode back to JSON that parses to the same EIS, and
// the keyless encoding must hold no key value.
#include <cstdlib>

#include "rsp/m2m/eis_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  auto eis = rsp::m2m::eis_from_json(j);
  if (!eis) return 0;
  auto again = rsp::m2m::eis_from_json(rsp::m2m::eis_to_json(*eis, rsp::m2m::Keys::Include));
  if (!again || !(*again == *eis)) std::abort();
  const auto keyless = rsp::m2m::eis_to_json(*eis, rsp::m2m::Keys::Omit);
  if (keyless["isdR"].contains("scp80KeySets") || keyless["isdR"].contains("scp81Psk")) std::abort();
  return 0;
}
