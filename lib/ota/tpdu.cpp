#include "rsp/ota/tpdu.hpp"

#include "rsp/ota/udh.hpp"

namespace rsp::ota {

namespace {

// First-octet bits (TS 23.040 §9.2.3): MTI b1-b0, then per PDU type.
constexpr std::uint8_t kMtiMask = 0x03, kMtiDeliver = 0x00, kMtiSubmit = 0x01;
constexpr std::uint8_t kBitMms = 0x04, kBitLp = 0x08, kBitRd = 0x04, kBitSri = 0x20, kBitSrr = 0x20,
                       kBitUdhi = 0x40, kBitRp = 0x80;

std::size_t octets_for(std::uint8_t dcs, std::size_t udl) {
  return alphabet_of(dcs) == Alphabet::Gsm7 ? (udl * 7 + 7) / 8 : udl;
}

/// Appends TP-UDL and TP-UD.
OtaResult<void> put_user_data(std::uint8_t dcs, const UserData& ud, Bytes& out) {
  if (ud.octets.size() > kMaxUserData) return ota_fail(OtaErrorCode::TooLong, "TP-UD longer than 140 octets");
  std::size_t udl = ud.octets.size();
  if (alphabet_of(dcs) == Alphabet::Gsm7) {
    if (octets_for(dcs, ud.septets) != ud.octets.size())
      return ota_fail(OtaErrorCode::InvalidValue, "TP-UDL septets do not match the 7-bit user data");
    udl = ud.septets;
  }
  if (ud.header_present) RSP_TRY_VOID(parse_user_data(ud.octets, true));
  out.push_back(static_cast<std::uint8_t>(udl));
  out.insert(out.end(), ud.octets.begin(), ud.octets.end());
  return {};
}

/// Reads TP-UDL and TP-UD, which must end the TPDU.
OtaResult<UserData> get_user_data(ByteView rest, std::uint8_t dcs, bool udhi) {
  if (rest.empty()) return ota_fail(OtaErrorCode::Truncated, "TP-UDL");
  const std::size_t udl = rest[0];
  const std::size_t octets = octets_for(dcs, udl);
  if (octets > kMaxUserData) return ota_fail(OtaErrorCode::TooLong, "TP-UDL beyond 140 octets");
  if (rest.size() - 1 < octets) return ota_fail(OtaErrorCode::Truncated, "TP-UD");
  if (rest.size() - 1 > octets) return ota_fail(OtaErrorCode::TrailingBytes, "after TP-UD");
  UserData ud;
  ud.header_present = udhi;
  ud.octets.assign(rest.begin() + 1, rest.end());
  if (alphabet_of(dcs) == Alphabet::Gsm7) ud.septets = static_cast<std::uint8_t>(udl);
  if (udhi) RSP_TRY_VOID(parse_user_data(ud.octets, true));
  return ud;
}

/// TP-SCTS: semi-octets of year..second must be decimal digits (§9.2.3.11).
OtaResult<void> check_timestamp(ByteView ts) {
  for (std::size_t i = 0; i < 6; ++i)
    if ((ts[i] & 0x0F) > 9 || (ts[i] >> 4) > 9)
      return ota_fail(OtaErrorCode::InvalidValue, "TP-SCTS digit is not decimal");
  return {};
}

std::size_t validity_octets(ValidityFormat f) {
  switch (f) {
    case ValidityFormat::None: return 0;
    case ValidityFormat::Relative: return 1;
    default: return 7;
  }
}

}  // namespace

Alphabet alphabet_of(std::uint8_t dcs) {
  const unsigned group = dcs >> 4;
  if (group <= 0x7) {  // general data coding (00xx) and automatic deletion (01xx)
    if ((dcs & 0x20) != 0) return Alphabet::Eight;  // compressed: octets
    switch ((dcs >> 2) & 0x03) {
      case 1: return Alphabet::Eight;
      case 2: return Alphabet::Ucs2;
      default: return Alphabet::Gsm7;  // '11' reserved: assume the default alphabet
    }
  }
  if (group == 0xE) return Alphabet::Ucs2;
  if (group == 0xF) return (dcs & 0x04) != 0 ? Alphabet::Eight : Alphabet::Gsm7;
  return Alphabet::Gsm7;  // reserved groups and message waiting (discard / store)
}

UserData binary_user_data(Bytes octets, bool with_header) {
  UserData ud;
  ud.header_present = with_header;
  ud.octets = std::move(octets);
  return ud;
}

OtaResult<Bytes> encode(const SmsDeliver& d) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(kMtiDeliver | (d.more_messages ? 0 : kBitMms) |
                                          (d.loop_prevention ? kBitLp : 0) | (d.status_report ? kBitSri : 0) |
                                          (d.user_data.header_present ? kBitUdhi : 0) | (d.reply_path ? kBitRp : 0)));
  RSP_TRY_VOID(encode_tp_address(d.originator, out));
  out.push_back(d.pid);
  out.push_back(d.dcs);
  RSP_TRY_VOID(check_timestamp(d.timestamp));
  out.insert(out.end(), d.timestamp.begin(), d.timestamp.end());
  RSP_TRY_VOID(put_user_data(d.dcs, d.user_data, out));
  return out;
}

OtaResult<SmsDeliver> decode_sms_deliver(ByteView in) {
  if (in.empty()) return ota_fail(OtaErrorCode::Truncated, "SMS-DELIVER");
  const std::uint8_t first = in[0];
  if ((first & kMtiMask) != kMtiDeliver) return ota_fail(OtaErrorCode::InvalidValue, "TP-MTI is not SMS-DELIVER");
  SmsDeliver d;
  d.more_messages = (first & kBitMms) == 0;
  d.loop_prevention = (first & kBitLp) != 0;
  d.status_report = (first & kBitSri) != 0;
  d.reply_path = (first & kBitRp) != 0;
  std::size_t used = 0;
  RSP_TRY(d.originator, decode_tp_address(in.subspan(1), used));
  ByteView rest = in.subspan(1 + used);
  if (rest.size() < 2 + 7) return ota_fail(OtaErrorCode::Truncated, "TP-PID, TP-DCS, TP-SCTS");
  d.pid = rest[0];
  d.dcs = rest[1];
  std::copy(rest.begin() + 2, rest.begin() + 9, d.timestamp.begin());
  RSP_TRY_VOID(check_timestamp(d.timestamp));
  RSP_TRY(d.user_data, get_user_data(rest.subspan(9), d.dcs, (first & kBitUdhi) != 0));
  return d;
}

OtaResult<Bytes> encode(const SmsSubmit& s) {
  if (s.validity.size() != validity_octets(s.validity_format))
    return ota_fail(OtaErrorCode::InvalidValue, "TP-VP length does not match TP-VPF");
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(
      kMtiSubmit | (s.reject_duplicates ? kBitRd : 0) | (static_cast<unsigned>(s.validity_format) << 3) |
      (s.status_report_request ? kBitSrr : 0) | (s.user_data.header_present ? kBitUdhi : 0) |
      (s.reply_path ? kBitRp : 0)));
  out.push_back(s.message_reference);
  RSP_TRY_VOID(encode_tp_address(s.destination, out));
  out.push_back(s.pid);
  out.push_back(s.dcs);
  out.insert(out.end(), s.validity.begin(), s.validity.end());
  RSP_TRY_VOID(put_user_data(s.dcs, s.user_data, out));
  return out;
}

OtaResult<SmsSubmit> decode_sms_submit(ByteView in) {
  if (in.size() < 2) return ota_fail(OtaErrorCode::Truncated, "SMS-SUBMIT");
  const std::uint8_t first = in[0];
  if ((first & kMtiMask) != kMtiSubmit) return ota_fail(OtaErrorCode::InvalidValue, "TP-MTI is not SMS-SUBMIT");
  SmsSubmit s;
  s.reject_duplicates = (first & kBitRd) != 0;
  s.validity_format = static_cast<ValidityFormat>((first >> 3) & 0x03);
  s.status_report_request = (first & kBitSrr) != 0;
  s.reply_path = (first & kBitRp) != 0;
  s.message_reference = in[1];
  std::size_t used = 0;
  RSP_TRY(s.destination, decode_tp_address(in.subspan(2), used));
  ByteView rest = in.subspan(2 + used);
  const std::size_t vp = validity_octets(s.validity_format);
  if (rest.size() < 2 + vp) return ota_fail(OtaErrorCode::Truncated, "TP-PID, TP-DCS, TP-VP");
  s.pid = rest[0];
  s.dcs = rest[1];
  s.validity.assign(rest.begin() + 2, rest.begin() + 2 + static_cast<std::ptrdiff_t>(vp));
  RSP_TRY(s.user_data, get_user_data(rest.subspan(2 + vp), s.dcs, (first & kBitUdhi) != 0));
  return s;
}

}  // namespace rsp::ota
