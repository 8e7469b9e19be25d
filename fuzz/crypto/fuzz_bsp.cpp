// BSP verify-and-decrypt on hostile segments. Input: segments, each prefixed
// by a two-byte big-endian length, verified in order on one receiver session.
#include <cstdint>
#include <cstdlib>

#include "rsp/crypto/bsp.hpp"

using namespace rsp;
using namespace rsp::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Session keys of the public SM-DP+ trace the seed corpus comes from.
  BspSession rx(BspKeys(from_hex("472f5bfadd97f21d34f3ce9b51b92751").value(),
                        from_hex("9ec07f5b36a13e12a991d66e294e6242").value(),
                        from_hex("406d507b448a699e7a36a38494debbde").value()));
  ByteView in(data, size);
  while (in.size() >= 2) {
    std::size_t len = (std::size_t{in[0]} << 8) | in[1];
    in = in.subspan(2);
    if (len > in.size()) len = in.size();
    ByteView seg = in.first(len);
    in = in.subspan(len);
    if (seg.empty()) continue;
    std::uint64_t before = rx.block_counter();
    auto out = seg[0] == 0x88 ? rx.verify_mac_only(0x88, seg) : rx.verify_and_decrypt(seg[0], seg);
    if (out && (out->size() > seg.size() || rx.block_counter() != before + 1)) std::abort();
    if (!out && rx.block_counter() != before) std::abort();
  }
  return 0;
}
