#include "rsp/asn1/iccid_coding.hpp"

namespace rsp::asn1 {

namespace {

Bytes swap_nibbles(ByteView in) {
  Bytes out(in.begin(), in.end());
  for (auto& b : out) b = static_cast<std::uint8_t>((b << 4) | (b >> 4));
  return out;
}

}  // namespace

Bytes iccid_in_ef_coding(ByteView iccid) {
  if (!iccid.empty() && iccid[0] == 0x89) return swap_nibbles(iccid);
  return Bytes(iccid.begin(), iccid.end());
}

Bytes iccid_in_plain_bcd(ByteView iccid) {
  if (!iccid.empty() && iccid[0] == 0x98) return swap_nibbles(iccid);
  return Bytes(iccid.begin(), iccid.end());
}

}  // namespace rsp::asn1
