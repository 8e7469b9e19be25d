#include "rsp/apdu/class_byte.hpp"

namespace rsp::apdu {

namespace {

// First interindustry layout (ISO/IEC 7816-4 §5.4.1 Table 2): b5 chaining,
// b4-b3 secure messaging, b2-b1 channel number 0-3.
ClassByte first_layout(std::uint8_t cla, bool proprietary) {
  ClassByte c;
  c.proprietary = proprietary;
  c.channel = cla & 0x03;
  c.secure_messaging = (cla & 0x0C) != 0;
  c.chaining = (cla & 0x10) != 0;
  return c;
}

// Further interindustry layout (Table 3): b6 secure messaging, b5 chaining,
// b4-b1 channel number minus 4.
ClassByte further_layout(std::uint8_t cla, bool proprietary) {
  ClassByte c;
  c.proprietary = proprietary;
  c.channel = static_cast<std::uint8_t>(4 + (cla & 0x0F));
  c.secure_messaging = (cla & 0x20) != 0;
  c.chaining = (cla & 0x10) != 0;
  return c;
}

}  // namespace

std::optional<ClassByte> decode_class(std::uint8_t cla) {
  if (cla <= 0x1F) return first_layout(cla, false);
  if (cla >= 0x40 && cla <= 0x7F) return further_layout(cla, false);
  // GlobalPlatform uses the same two layouts with b8 set: 80-8F mirrors
  // 00-0F (no chaining in GP), C0-CF / E0-EF mirror 40-4F / 60-6F.
  if (cla >= 0x80 && cla <= 0x8F) return first_layout(cla, true);
  if ((cla >= 0xC0 && cla <= 0xCF) || (cla >= 0xE0 && cla <= 0xEF)) {
    return further_layout(cla, true);
  }
  return std::nullopt;
}

std::uint8_t class_for_channel(std::uint8_t channel, bool proprietary) {
  const std::uint8_t b8 = proprietary ? 0x80 : 0x00;
  if (channel <= 3) return static_cast<std::uint8_t>(b8 | channel);
  if (channel > 19) channel = 19;
  return static_cast<std::uint8_t>(b8 | 0x40 | (channel - 4));
}

}  // namespace rsp::apdu
