// The SGP.22 top-level messages (ES10x, ES9+, ES8+, ES11) as `rsp asn1 decode`
// meets them: recognised by tag, or printed as a TLV tree.

#include <cstdint>

#include "rsp/asn1/inspect.hpp"
#include "rsp/asn1/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::asn1::DecodeOptions options;
  auto seen = rsp::asn1::inspect(rsp::ByteView(data, size), options);
  if (seen) {
    std::string text = rsp::asn1::to_text(seen->value);
    std::string json = rsp::asn1::to_json_text(seen->value);
    (void)text;
    (void)json;
  }
  options.mode = rsp::tlv::Mode::Ber;
  (void)rsp::asn1::inspect(rsp::ByteView(data, size), options);
  return 0;
}
