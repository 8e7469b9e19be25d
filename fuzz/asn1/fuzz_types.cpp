// Every generated typed decoder: the first two input bytes pick a type from
// the type table (and DER or BER), the rest is decoded as that type. A value
// that decodes must re-encode, and the re-encoding must decode to the same value.

#include <cstdint>
#include <cstdlib>

#include "rsp/asn1/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  auto types = rsp::asn1::all_types();
  const std::size_t index = (data[0] | (static_cast<std::size_t>(data[1] & 0x7F) << 8)) % types.size();
  const auto& type = types[index];
  rsp::asn1::DecodeOptions options;
  if (data[1] & 0x80) options.mode = rsp::tlv::Mode::Ber;
  rsp::ByteView input(data + 2, size - 2);
  auto json = type.to_json(input, options, nullptr);
  if (!json) return 0;
  auto der = type.reencode(input, options);
  if (!der) std::abort();  // decoded once, must decode again
  // Raw elements (certificates, unknown alternatives) keep their BER form,
  // so the re-encoding is read in the input's mode; in BER, SET OF order and
  // other non-canonical forms may change, so only DER values must be equal.
  auto again = type.to_json(*der, options, nullptr);
  if (!again) std::abort();
  if (options.mode == rsp::tlv::Mode::Der && *again != *json) std::abort();
  return 0;
}
