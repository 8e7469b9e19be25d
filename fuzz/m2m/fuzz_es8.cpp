// Feeds the card-side decoders of the ES8 key-establishment messages
// (m2m/es8.hpp) arbitrary data: the SM-DP's certificate message, its
// key-agreement message and the receipt. A decoded key agreement must encode
// back to the bytes it came from (the decoder is strict); nothing may crash.
#include <algorithm>
#include <cstdlib>

#include "rsp/m2m/es8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace es8 = rsp::m2m::es8;
  const rsp::ByteView bytes(data, size);
  (void)es8::decode_certificate_message(bytes);
  if (auto r = es8::decode_receipt(bytes)) {
    if (es8::encode_receipt(*r) != rsp::Bytes(bytes.begin(), bytes.end())) std::abort();
  }
  auto k = es8::decode_key_agreement_message(bytes);
  if (!k) return 0;
  if (k->signed_part != es8::encode_key_agreement_body(k->key_version, k->ephemeral_point, k->key_usage)) std::abort();
  auto again = es8::encode_key_agreement_message(k->signed_part, k->signature);
  if (!std::ranges::equal(again, bytes)) std::abort();
  return 0;
}
