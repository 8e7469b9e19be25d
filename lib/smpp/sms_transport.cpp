#include "rsp/smpp/sms_transport.hpp"

namespace rsp::smpp {

const char* kind_name(SmsError::Kind kind) {
  switch (kind) {
    case SmsError::Kind::InvalidArgument: return "invalid-argument";
    case SmsError::Kind::Unavailable: return "unavailable";
    case SmsError::Kind::Timeout: return "timeout";
    case SmsError::Kind::Rejected: return "rejected";
    case SmsError::Kind::BindFailed: return "bind-failed";
    case SmsError::Kind::Protocol: return "protocol";
    case SmsError::Kind::Stopped: return "stopped";
  }
  return "unknown";
}

namespace {

/// SMPP 3.4 §4.4.1: source_addr and destination_addr hold up to 20 characters;
/// digits, or letters too for an alphanumeric address (TON 5).
bool valid_address(const Address& a) {
  if (a.digits.empty() || a.digits.size() > 20) return false;
  for (const char c : a.digits) {
    const bool digit = c >= '0' && c <= '9';
    const bool alnum = digit || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ';
    if (!(a.ton == 5 ? alnum : digit)) return false;
  }
  // addr_ton 0-6 (§5.2.5); addr_npi 0,1,3,4,6,8,9,10,14,18 (§5.2.6).
  if (a.ton > 6) return false;
  switch (a.npi) {
    case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10: case 14: case 18: return true;
    default: return false;
  }
}

}  // namespace

SmsResult<void> validate(const ShortMessage& msg) {
  if (!valid_address(msg.source)) return sms_error(SmsError::Kind::InvalidArgument, "bad source address");
  if (!valid_address(msg.destination)) return sms_error(SmsError::Kind::InvalidArgument, "bad destination address");
  if (msg.user_data.size() > kMaxUserData)
    return sms_error(SmsError::Kind::InvalidArgument, "user data longer than one short message (140 octets)");
  // With UDHI the first octet is the UDH length (3GPP TS 23.040 §9.2.3.24): it must fit.
  if (msg.udhi && (msg.user_data.empty() || std::size_t{msg.user_data[0]} + 1 > msg.user_data.size()))
    return sms_error(SmsError::Kind::InvalidArgument, "UDHI set but no user data header fits");
  return {};
}

}  // namespace rsp::smpp
