// Feeds the card-side decoders of ES8.UpdateConnectivityParameters
// (m2m/es8_connectivity.hpp) arbitrary data: the STORE DATA's DGI and the
// parameters in it. Whatever decodes must encode back to the same bytes
// (the decoder is strict); an INITIALIZE UPDATE answer of any shape is read
// without harm; nothing may crash.
#include <cstdlib>

#include "rsp/m2m/es8_connectivity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace es8 = rsp::m2m::es8;
  const rsp::ByteView bytes(data, size);
  if (es8::check_connectivity_parameters(bytes)) {
    auto dgi = es8::encode_connectivity_dgi(bytes);
    if (!dgi || es8::decode_connectivity_dgi(*dgi).value_or(rsp::Bytes{}) != rsp::Bytes(bytes.begin(), bytes.end()))
      std::abort();
  }
  if (auto p = es8::decode_connectivity_dgi(bytes)) {
    auto again = es8::encode_connectivity_dgi(*p);
    if (!again || *again != rsp::Bytes(bytes.begin(), bytes.end())) std::abort();
  }
  (void)es8::answered_counter(rsp::apdu::Response{rsp::Bytes(bytes.begin(), bytes.end()), 0x9000});
  return 0;
}
