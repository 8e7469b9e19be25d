#include "rsp/messages/iccid.hpp"

#include <algorithm>

namespace rsp::messages {

std::optional<Bytes> iccid_from_digits(std::string_view digits) {
  if (digits.size() < 18 || digits.size() > 20) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  Bytes out(10, 0xFF);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const auto d = static_cast<std::uint8_t>(digits[i] - '0');
    std::uint8_t& b = out[i / 2];
    b = (i % 2 == 0) ? static_cast<std::uint8_t>((b & 0xF0) | d) : static_cast<std::uint8_t>((b & 0x0F) | (d << 4));
  }
  return out;
}

std::string iccid_to_digits(ByteView iccid) {
  const bool plain = !iccid.empty() && iccid[0] == 0x89;
  std::string out;
  for (std::uint8_t b : iccid) {
    const int first = plain ? (b >> 4) : (b & 0x0F);
    const int second = plain ? (b & 0x0F) : (b >> 4);
    for (int nib : {first, second}) {
      if (nib == 0x0F) return out;  // filler
      if (nib > 9) return {};
      out.push_back(static_cast<char>('0' + nib));
    }
  }
  return out;
}

}  // namespace rsp::messages
