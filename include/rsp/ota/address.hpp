#pragma once
/// Addresses of SMS: the TP address fields of 3GPP TS 23.040 §9.1.2.5
/// (TP-OA, TP-DA: a length in semi-octets, the type of address, BCD digits
/// swapped in pairs with an 'F' filler) and the TON/NPI + BCD value of the
/// ADDRESS data object of ETSI TS 102 223 §8.1 (the RP originator address in
/// an SMS-PP download ENVELOPE).

#include <cstdint>
#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/ota/error.hpp"

namespace rsp::ota {

/// Type of number, bits 7-5 of the type-of-address octet (TS 23.040 §9.1.2.5).
enum class Ton : std::uint8_t {
  Unknown = 0,
  International = 1,
  National = 2,
  NetworkSpecific = 3,
  Subscriber = 4,
  Alphanumeric = 5,  ///< GSM 7-bit characters, not digits
  Abbreviated = 6,
  Reserved = 7,
};

/// Numbering plan identification, bits 4-1 (1 = ISDN/E.164).
inline constexpr std::uint8_t kNpiUnknown = 0x0, kNpiIsdn = 0x1;

struct Address {
  Ton ton = Ton::International;
  std::uint8_t npi = kNpiIsdn;  ///< 0..15
  /// The digits, each one of "0123456789*#abc" (BCD 0-9, A-E). Empty for an
  /// alphanumeric address.
  std::string digits;
  /// Alphanumeric addresses only: the packed GSM 7-bit octets as received and
  /// their count of useful semi-octets (not decoded into characters here).
  Bytes alphanumeric;
  std::uint8_t alphanumeric_semi_octets = 0;

  bool operator==(const Address&) const = default;
};

/// An international E.164 address ("+" not included).
inline Address international(std::string digits) {
  return Address{Ton::International, kNpiIsdn, std::move(digits), {}, 0};
}

/// Appends the TP address field: length (digits), type of address, BCD value.
/// InvalidValue for a digit outside the BCD alphabet, TooLong past 20 digits.
OtaResult<void> encode_tp_address(const Address& address, Bytes& out);
/// Reads a TP address field at the start of `in`; `consumed` gets its size.
/// Strict: bit 8 of the type of address set, 'F' only as the final filler.
OtaResult<Address> decode_tp_address(ByteView in, std::size_t& consumed);

/// The value of an ADDRESS data object (TS 102 223 §8.1): TON/NPI then BCD.
OtaResult<Bytes> encode_address_value(const Address& address);
/// Parses an ADDRESS data object value (the whole of `value`).
OtaResult<Address> decode_address_value(ByteView value);

}  // namespace rsp::ota
