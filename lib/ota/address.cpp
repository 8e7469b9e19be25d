#include "rsp/ota/address.hpp"

namespace rsp::ota {

namespace {

constexpr std::string_view kBcd = "0123456789*#abc";
constexpr std::size_t kMaxDigits = 20;  // TS 23.040 §9.1.2.5: up to 10 octets of value

int bcd_value(char c) {
  auto pos = kBcd.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

std::uint8_t type_of_address(const Address& a) {
  return static_cast<std::uint8_t>(0x80 | (static_cast<unsigned>(a.ton) << 4) | (a.npi & 0x0F));
}

/// Packs digits two per octet, low nibble first, 'F' filling an odd count.
OtaResult<void> put_bcd(std::string_view digits, Bytes& out) {
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int lo = bcd_value(digits[i]);
    const int hi = i + 1 < digits.size() ? bcd_value(digits[i + 1]) : 0x0F;
    if (lo < 0 || hi < 0) return ota_fail(OtaErrorCode::InvalidValue, "address digit outside the BCD alphabet");
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return {};
}

/// Unpacks `count` digits; an 'F' is allowed only as the filler of an odd count.
OtaResult<std::string> get_bcd(ByteView octets, std::size_t count) {
  std::string digits;
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned nibble = i % 2 == 0 ? octets[i / 2] & 0x0F : octets[i / 2] >> 4;
    if (nibble == 0x0F) return ota_fail(OtaErrorCode::InvalidValue, "filler inside the address digits");
    digits.push_back(kBcd[nibble]);
  }
  if (count % 2 == 1 && (octets[count / 2] >> 4) != 0x0F)
    return ota_fail(OtaErrorCode::InvalidValue, "odd address digit count without the 'F' filler");
  return digits;
}

OtaResult<Address> decode_type(std::uint8_t toa) {
  if ((toa & 0x80) == 0) return ota_fail(OtaErrorCode::InvalidValue, "type of address without bit 8 set");
  Address a;
  a.ton = static_cast<Ton>((toa >> 4) & 0x07);
  a.npi = toa & 0x0F;
  return a;
}

}  // namespace

OtaResult<void> encode_tp_address(const Address& a, Bytes& out) {
  if (a.npi > 0x0F) return ota_fail(OtaErrorCode::InvalidValue, "NPI above 15");
  if (a.ton == Ton::Alphanumeric) {
    const std::size_t octets = (a.alphanumeric_semi_octets + 1u) / 2u;
    if (a.alphanumeric_semi_octets > kMaxDigits || octets != a.alphanumeric.size())
      return ota_fail(OtaErrorCode::InvalidValue, "alphanumeric address length does not match its octets");
    out.push_back(a.alphanumeric_semi_octets);
    out.push_back(type_of_address(a));
    out.insert(out.end(), a.alphanumeric.begin(), a.alphanumeric.end());
    return {};
  }
  if (a.digits.size() > kMaxDigits) return ota_fail(OtaErrorCode::TooLong, "more than 20 address digits");
  out.push_back(static_cast<std::uint8_t>(a.digits.size()));
  out.push_back(type_of_address(a));
  return put_bcd(a.digits, out);
}

OtaResult<Address> decode_tp_address(ByteView in, std::size_t& consumed) {
  if (in.size() < 2) return ota_fail(OtaErrorCode::Truncated, "TP address");
  const std::size_t count = in[0];
  if (count > kMaxDigits) return ota_fail(OtaErrorCode::TooLong, "TP address longer than 20 semi-octets");
  const std::size_t octets = (count + 1) / 2;
  if (in.size() < 2 + octets) return ota_fail(OtaErrorCode::Truncated, "TP address value");
  auto a = decode_type(in[1]);
  if (!a) return a;
  ByteView value = in.subspan(2, octets);
  if (a->ton == Ton::Alphanumeric) {
    a->alphanumeric.assign(value.begin(), value.end());
    a->alphanumeric_semi_octets = static_cast<std::uint8_t>(count);
  } else {
    auto digits = get_bcd(value, count);
    if (!digits) return unexpected(std::move(digits).error());
    a->digits = std::move(*digits);
  }
  consumed = 2 + octets;
  return a;
}

OtaResult<Bytes> encode_address_value(const Address& a) {
  if (a.ton == Ton::Alphanumeric) return ota_fail(OtaErrorCode::Unsupported, "alphanumeric ADDRESS data object");
  if (a.npi > 0x0F) return ota_fail(OtaErrorCode::InvalidValue, "NPI above 15");
  if (a.digits.size() > kMaxDigits) return ota_fail(OtaErrorCode::TooLong, "more than 20 address digits");
  Bytes out{type_of_address(a)};
  auto r = put_bcd(a.digits, out);
  if (!r) return unexpected(std::move(r).error());
  return out;
}

OtaResult<Address> decode_address_value(ByteView value) {
  if (value.empty()) return ota_fail(OtaErrorCode::Truncated, "ADDRESS data object");
  if (value.size() - 1 > kMaxDigits / 2) return ota_fail(OtaErrorCode::TooLong, "ADDRESS longer than 20 digits");
  auto a = decode_type(value[0]);
  if (!a) return a;
  if (a->ton == Ton::Alphanumeric) return ota_fail(OtaErrorCode::Unsupported, "alphanumeric ADDRESS data object");
  ByteView bcd = value.subspan(1);
  std::size_t count = bcd.size() * 2;
  if (!bcd.empty() && (bcd.back() >> 4) == 0x0F) --count;
  auto digits = get_bcd(bcd, count);
  if (!digits) return unexpected(std::move(digits).error());
  a->digits = std::move(*digits);
  return a;
}

}  // namespace rsp::ota
