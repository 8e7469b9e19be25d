// SAIP profile element sequences (unprotected profile packages): decode,
// encode, decode again to the same elements.

#include <cstdint>
#include <cstdlib>

#include "rsp/asn1/upp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::asn1::DecodeOptions options;
  if (size > 0 && data[0] == 0xFF) options.mode = rsp::tlv::Mode::Ber;  // a PE never starts with FF
  auto pes = rsp::asn1::decode_profile_package(rsp::ByteView(data, size), options);
  if (!pes) return 0;
  rsp::Bytes der = rsp::asn1::encode_profile_package(*pes);
  auto again = rsp::asn1::decode_profile_package(der, options);
  if (!again || *again != *pes) std::abort();
  return 0;
}
