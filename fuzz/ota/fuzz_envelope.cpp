// The SMS-PP download ENVELOPE and the TPDUs in it: strict decoders whose
// successes must encode back to the same bytes.
#include <cstdint>
#include <cstdlib>

#include "rsp/ota/envelope.hpp"
#include "rsp/ota/tpdu.hpp"

using namespace rsp;
using namespace rsp::ota;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  if (auto env = decode_envelope(in)) {
    auto again = encode_envelope(*env);
    if (!again || decode_envelope(*again).value() != *env) std::abort();
  }
  if (auto d = decode_sms_deliver(in)) {
    // Byte for byte but for bit 4 (0x10) of the first octet, unused and ignored (TS 23.040 §9.2.2.1).
    auto again = encode(*d);
    Bytes canonical(in.begin(), in.end());
    canonical[0] &= 0xEF;
    if (!again || canonical != *again) std::abort();
  }
  if (auto s = decode_sms_submit(in)) {
    auto again = encode(*s);
    if (!again || Bytes(in.begin(), in.end()) != *again) std::abort();
  }
  if (size > 0) {
    std::size_t used = 0;
    if (auto a = decode_tp_address(in, used); a && used > size) std::abort();
    (void)decode_address_value(in);
  }
  return 0;
}
