// Feeds the card-side decoders of the ES8 key-establishment messages
// (m2m/es8.hpp) arbitrary data: the reassembled STORE DATA sequence split
// into its DGIs, the SM-DP's certificate message (DGI '3A01'), its
// key-agreement message (DGI '3A02', '7F49', '5F37'), the card's random
// challenge (its answer to DGI '3A01') and the receipt. A
// decoded key agreement must encode back to the bytes it came from (the
// decoder is strict); nothing may crash.
#include <algorithm>
#include <cstdlib>

#include "rsp/m2m/es8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace es8 = rsp::m2m::es8;
  const rsp::ByteView bytes(data, size);
  (void)es8::decode_certificate_message(bytes);
  if (auto parts = es8::split_key_establishment(bytes)) {
    if (parts->certificate_message) (void)es8::decode_certificate_message(*parts->certificate_message);
    (void)es8::decode_key_agreement_message(parts->rest);
  }
  if (auto rc = es8::decode_certificate_answer(bytes)) {
    const rsp::Bytes again = *rc ? es8::encode_certificate_answer(**rc) : rsp::Bytes{};
    if (!std::ranges::equal(again, bytes)) std::abort();
  }
  if (auto r = es8::decode_receipt(bytes)) {
    if (es8::encode_receipt(*r) != rsp::Bytes(bytes.begin(), bytes.end())) std::abort();
  }
  auto k = es8::decode_key_agreement_message(bytes);
  if (!k) return 0;
  if (k->crt != es8::encode_crt(k->key_usage, k->key_version, k->host_id, k->sdin)) std::abort();
  const auto curve = k->key_parameter_reference == 0x03 ? rsp::crypto::Curve::BrainpoolP256r1
                                                         : rsp::crypto::Curve::NistP256;
  if (k->key_parameter_reference != 0x00 && k->key_parameter_reference != 0x03) return 0;
  if (k->signed_part != es8::encode_key_agreement_body(k->crt, k->ephemeral_point, curve)) std::abort();
  auto again = es8::encode_key_agreement_message(k->signed_part, k->signature);
  if (!std::ranges::equal(again, bytes)) std::abort();
  return 0;
}
