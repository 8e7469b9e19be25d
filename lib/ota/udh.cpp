#include "rsp/ota/udh.hpp"

namespace rsp::ota {

namespace {

/// Checks one element the OTA codecs interpret.
OtaResult<void> check_element(const InformationElement& ie) {
  switch (ie.iei) {
    case kIeiConcat8:
    case kIeiConcat16: {
      const std::size_t want = ie.iei == kIeiConcat8 ? 3 : 4;
      if (ie.data.size() != want) return ota_fail(OtaErrorCode::InvalidValue, "concatenation element length");
      const std::uint8_t total = ie.data[want - 2], seq = ie.data[want - 1];
      // §9.2.3.24.1: total 0, sequence 0 or above total are not valid.
      if (total == 0 || seq == 0 || seq > total)
        return ota_fail(OtaErrorCode::InvalidValue, "concatenation total or sequence number");
      return {};
    }
    case kIeiCommandPacket:
    case kIeiResponsePacket:
      if (!ie.data.empty()) return ota_fail(OtaErrorCode::InvalidValue, "packet identifier element with data");
      return {};
    default:
      return {};
  }
}

}  // namespace

OtaResult<ParsedUserData> parse_user_data(ByteView ud, bool header_present) {
  ParsedUserData out;
  if (!header_present) {
    out.body = ud;
    return out;
  }
  if (ud.empty()) return ota_fail(OtaErrorCode::Truncated, "UDHL");
  const std::size_t udhl = ud[0];
  if (udhl + 1 > ud.size()) return ota_fail(OtaErrorCode::Truncated, "user data header");
  ByteView h = ud.subspan(1, udhl);
  bool seen_concat = false, seen_packet = false;
  while (!h.empty()) {
    if (h.size() < 2) return ota_fail(OtaErrorCode::Truncated, "information element header");
    const std::size_t len = h[1];
    if (h.size() - 2 < len) return ota_fail(OtaErrorCode::Truncated, "information element data");
    InformationElement ie{h[0], Bytes(h.begin() + 2, h.begin() + 2 + static_cast<std::ptrdiff_t>(len))};
    RSP_TRY_VOID(check_element(ie));
    const bool concat = ie.iei == kIeiConcat8 || ie.iei == kIeiConcat16;
    const bool packet = ie.iei == kIeiCommandPacket || ie.iei == kIeiResponsePacket;
    if ((concat && seen_concat) || (packet && seen_packet))
      return ota_fail(OtaErrorCode::UnexpectedElement, "a second concatenation or packet element");
    seen_concat |= concat;
    seen_packet |= packet;
    out.elements.push_back(std::move(ie));
    h = h.subspan(2 + len);
  }
  out.header = ud.first(1 + udhl);
  out.body = ud.subspan(1 + udhl);
  return out;
}

OtaResult<Bytes> encode_header(const std::vector<InformationElement>& elements) {
  Bytes out;
  if (elements.empty()) return out;
  out.push_back(0);
  for (const auto& ie : elements) {
    if (ie.data.size() > 0xFF) return ota_fail(OtaErrorCode::TooLong, "information element data");
    RSP_TRY_VOID(check_element(ie));
    out.push_back(ie.iei);
    out.push_back(static_cast<std::uint8_t>(ie.data.size()));
    out.insert(out.end(), ie.data.begin(), ie.data.end());
  }
  if (out.size() - 1 > 0xFF) return ota_fail(OtaErrorCode::TooLong, "user data header");
  out[0] = static_cast<std::uint8_t>(out.size() - 1);
  return out;
}

InformationElement concat_element(const Concat& c) {
  if (c.wide)
    return {kIeiConcat16, {static_cast<std::uint8_t>(c.reference >> 8), static_cast<std::uint8_t>(c.reference),
                           c.total, c.sequence}};
  return {kIeiConcat8, {static_cast<std::uint8_t>(c.reference), c.total, c.sequence}};
}

std::optional<Concat> find_concat(const std::vector<InformationElement>& elements) {
  for (const auto& ie : elements) {
    if (ie.iei == kIeiConcat8 && ie.data.size() == 3) return Concat{ie.data[0], ie.data[1], ie.data[2], false};
    if (ie.iei == kIeiConcat16 && ie.data.size() == 4)
      return Concat{static_cast<std::uint16_t>((ie.data[0] << 8) | ie.data[1]), ie.data[2], ie.data[3], true};
  }
  return std::nullopt;
}

bool has_element(const std::vector<InformationElement>& elements, std::uint8_t iei) {
  for (const auto& ie : elements)
    if (ie.iei == iei) return true;
  return false;
}

}  // namespace rsp::ota
