#include "rsp/apdu/command.hpp"

#include "rsp/apdu/response.hpp"

namespace rsp::apdu {

std::string_view message(CommandError e) {
  switch (e) {
    case CommandError::kTooShort: return "command APDU shorter than its 4-byte header";
    case CommandError::kLengthMismatch: return "command APDU length matches no case";
    case CommandError::kZeroExtendedLc: return "extended Lc of zero";
    case CommandError::kDataTooLong: return "command data longer than 65535 bytes";
    case CommandError::kExpectedTooLong: return "Ne above 65536";
  }
  return "unknown command APDU error";
}

std::uint16_t status_word(CommandError) { return sw::kWrongLength; }

namespace {

std::uint32_t be16(ByteView b, std::size_t at) {
  return (static_cast<std::uint32_t>(b[at]) << 8) | b[at + 1];
}

}  // namespace

// ISO/IEC 7816-4 §5.1: the body after CLA INS P1 P2 is empty (case 1), Le
// (case 2), Lc+data (case 3) or Lc+data+Le (case 4); a first body byte of 00
// followed by more bytes introduces the extended form.
expected<Command, CommandError> parse_command(ByteView bytes) {
  if (bytes.size() < 4) return unexpected(CommandError::kTooShort);
  Command c;
  c.cla = bytes[0];
  c.ins = bytes[1];
  c.p1 = bytes[2];
  c.p2 = bytes[3];
  const ByteView body = bytes.subspan(4);
  if (body.empty()) return c;
  if (body.size() == 1) {  // case 2 short
    c.le = body[0] == 0 ? 256u : body[0];
    return c;
  }
  if (body[0] != 0) {  // short Lc
    const std::size_t lc = body[0];
    if (body.size() != 1 + lc && body.size() != 2 + lc) {
      return unexpected(CommandError::kLengthMismatch);
    }
    c.data.assign(body.begin() + 1, body.begin() + 1 + static_cast<std::ptrdiff_t>(lc));
    if (body.size() == 2 + lc) c.le = body[1 + lc] == 0 ? 256u : body[1 + lc];
    return c;
  }
  // Extended form: 00 then two bytes.
  if (body.size() < 3) return unexpected(CommandError::kLengthMismatch);
  c.extended = true;
  if (body.size() == 3) {  // case 2 extended
    const std::uint32_t le = be16(body, 1);
    c.le = le == 0 ? 65536u : le;
    return c;
  }
  const std::size_t lc = be16(body, 1);
  if (lc == 0) return unexpected(CommandError::kZeroExtendedLc);
  if (body.size() != 3 + lc && body.size() != 5 + lc) {
    return unexpected(CommandError::kLengthMismatch);
  }
  c.data.assign(body.begin() + 3, body.begin() + 3 + static_cast<std::ptrdiff_t>(lc));
  if (body.size() == 5 + lc) {
    const std::uint32_t le = be16(body, 3 + lc);
    c.le = le == 0 ? 65536u : le;
  }
  return c;
}

expected<Bytes, CommandError> encode_command(const Command& c) {
  if (c.data.size() > 65535) return unexpected(CommandError::kDataTooLong);
  if (c.le && (*c.le == 0 || *c.le > 65536)) return unexpected(CommandError::kExpectedTooLong);
  const bool extended = c.extended || c.data.size() > 255 || (c.le && *c.le > 256);
  Bytes out{c.cla, c.ins, c.p1, c.p2};
  out.reserve(4 + 3 + c.data.size() + 3);
  if (!c.data.empty()) {
    if (extended) {
      out.push_back(0);
      out.push_back(static_cast<std::uint8_t>(c.data.size() >> 8));
    }
    out.push_back(static_cast<std::uint8_t>(c.data.size() & 0xFF));
    out.insert(out.end(), c.data.begin(), c.data.end());
  }
  if (c.le) {
    const std::uint32_t ne = *c.le;
    if (extended) {
      if (c.data.empty()) out.push_back(0);  // the extended marker
      out.push_back(static_cast<std::uint8_t>((ne >> 8) & 0xFF));  // 65536 -> 0000
    }
    out.push_back(static_cast<std::uint8_t>(ne & 0xFF));  // 256 -> 00
  }
  return out;
}

}  // namespace rsp::apdu
