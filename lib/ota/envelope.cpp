#include "rsp/ota/envelope.hpp"

namespace rsp::ota {

namespace {

// COMPREHENSION-TLV tags without the CR bit (TS 101 220 §7.2).
constexpr std::uint8_t kDeviceIdentities = 0x02, kAddress = 0x06, kSmsTpdu = 0x0B;
constexpr std::uint8_t kCr = 0x80;
constexpr std::uint8_t kDeviceNetwork = 0x83, kDeviceUicc = 0x81;
constexpr std::size_t kMaxEnvelope = 255;

/// TS 101 220 §7.1.2: one octet up to 127, '81' then one octet up to 255.
void put_length(std::size_t n, Bytes& out) {
  if (n > 0x7F) out.push_back(0x81);
  out.push_back(static_cast<std::uint8_t>(n));
}

void put_tlv(std::uint8_t tag, ByteView value, Bytes& out) {
  out.push_back(tag);
  put_length(value.size(), out);
  out.insert(out.end(), value.begin(), value.end());
}

/// Reads a length at `in[pos]`; strict about the minimal form.
OtaResult<std::size_t> get_length(ByteView in, std::size_t& pos) {
  if (pos >= in.size()) return ota_fail(OtaErrorCode::Truncated, "length");
  const std::uint8_t b = in[pos++];
  if (b <= 0x7F) return std::size_t{b};
  if (b != 0x81) return ota_fail(OtaErrorCode::InvalidValue, "length form beyond one octet");
  if (pos >= in.size()) return ota_fail(OtaErrorCode::Truncated, "length");
  const std::uint8_t n = in[pos++];
  if (n <= 0x7F) return ota_fail(OtaErrorCode::InvalidValue, "non-minimal length");
  return std::size_t{n};
}

}  // namespace

OtaResult<Bytes> encode_envelope(const SmsPpDownload& d) {
  Bytes body;
  const std::uint8_t ids[] = {kDeviceNetwork, kDeviceUicc};
  put_tlv(kDeviceIdentities | kCr, ids, body);
  if (d.service_centre) {
    RSP_TRY(Bytes value, encode_address_value(*d.service_centre));
    put_tlv(kAddress | kCr, value, body);
  }
  RSP_TRY(Bytes tpdu, encode(d.tpdu));
  put_tlv(kSmsTpdu | kCr, tpdu, body);
  Bytes out{kTagSmsPpDownload};
  put_length(body.size(), out);
  out.insert(out.end(), body.begin(), body.end());
  if (out.size() > kMaxEnvelope) return ota_fail(OtaErrorCode::TooLong, "ENVELOPE beyond 255 octets");
  return out;
}

OtaResult<SmsPpDownload> decode_envelope(ByteView in) {
  if (in.empty()) return ota_fail(OtaErrorCode::Truncated, "ENVELOPE");
  if (in[0] != kTagSmsPpDownload) return ota_fail(OtaErrorCode::InvalidValue, "not an SMS-PP download ('D1')");
  std::size_t pos = 1;
  RSP_TRY(std::size_t len, get_length(in, pos));
  if (in.size() - pos < len) return ota_fail(OtaErrorCode::Truncated, "ENVELOPE contents");
  if (in.size() - pos > len) return ota_fail(OtaErrorCode::TrailingBytes, "after the ENVELOPE");
  ByteView body = in.subspan(pos);
  SmsPpDownload out;
  bool have_ids = false, have_tpdu = false;
  std::size_t p = 0;
  while (p < body.size()) {
    const std::uint8_t tag = body[p++];
    if (tag == 0x00 || tag == 0xFF || tag == 0x80 || (tag & 0x7F) == 0x7F)
      return ota_fail(OtaErrorCode::Unsupported, "reserved or three-octet COMPREHENSION-TLV tag");
    RSP_TRY(std::size_t n, get_length(body, p));
    if (body.size() - p < n) return ota_fail(OtaErrorCode::Truncated, "COMPREHENSION-TLV value");
    ByteView value = body.subspan(p, n);
    p += n;
    switch (tag & 0x7F) {
      case kDeviceIdentities:
        if (have_ids || have_tpdu) return ota_fail(OtaErrorCode::UnexpectedElement, "device identities out of order");
        if (n != 2 || value[0] != kDeviceNetwork || value[1] != kDeviceUicc)
          return ota_fail(OtaErrorCode::InvalidValue, "device identities must be network to UICC");
        have_ids = true;
        break;
      case kAddress: {
        if (!have_ids || have_tpdu || out.service_centre)
          return ota_fail(OtaErrorCode::UnexpectedElement, "address out of order");
        RSP_TRY(out.service_centre, decode_address_value(value));
        break;
      }
      case kSmsTpdu: {
        if (!have_ids || have_tpdu) return ota_fail(OtaErrorCode::UnexpectedElement, "SMS TPDU out of order");
        RSP_TRY(out.tpdu, decode_sms_deliver(value));
        have_tpdu = true;
        break;
      }
      default:
        if ((tag & kCr) != 0)
          return ota_fail(OtaErrorCode::Unsupported, "unknown comprehension-required data object");
        break;
    }
  }
  if (!have_ids) return ota_fail(OtaErrorCode::MissingElement, "device identities");
  if (!have_tpdu) return ota_fail(OtaErrorCode::MissingElement, "SMS TPDU");
  return out;
}

OtaResult<apdu::Command> envelope_command(const SmsPpDownload& d) {
  apdu::Command c;
  c.cla = 0x80;
  c.ins = 0xC2;
  RSP_TRY(c.data, encode_envelope(d));
  return c;
}

OtaResult<SmsPpDownload> decode_envelope_command(const apdu::Command& c) {
  if (c.cla != 0x80 || c.ins != 0xC2 || c.p1 != 0 || c.p2 != 0)
    return ota_fail(OtaErrorCode::InvalidValue, "not an ENVELOPE command (80 C2 00 00)");
  return decode_envelope(c.data);
}

}  // namespace rsp::ota
