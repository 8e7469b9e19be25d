#pragma once
/// ISO/IEC 7816-4 §5.1/§5.6 response APDUs (data field + SW1 SW2) and the
/// status words the card layer answers beyond those of the application
/// boundary.

#include <cstdint>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::apdu {

/// ISO/IEC 7816-4 §5.6 status words used by the APDU layer.
namespace sw {
inline constexpr std::uint16_t kOk = 0x9000;
inline constexpr std::uint8_t kSw1BytesAvailable = 0x61;   ///< 61xx: xx more bytes (00: 256 or more)
inline constexpr std::uint8_t kSw1WrongLe = 0x6C;          ///< 6Cxx: resend with Le = xx
inline constexpr std::uint16_t kWrongLength = 0x6700;
inline constexpr std::uint16_t kLogicalChannelNotSupported = 0x6881;
inline constexpr std::uint16_t kSecureMessagingNotSupported = 0x6882;
inline constexpr std::uint16_t kCommandChainingNotSupported = 0x6884;
inline constexpr std::uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kCommandNotAllowed = 0x6986;
inline constexpr std::uint16_t kWrongData = 0x6A80;
inline constexpr std::uint16_t kFunctionNotSupported = 0x6A81;
inline constexpr std::uint16_t kFileNotFound = 0x6A82;
inline constexpr std::uint16_t kNotEnoughMemory = 0x6A84;
inline constexpr std::uint16_t kIncorrectP1P2 = 0x6A86;
inline constexpr std::uint16_t kWrongP1P2 = 0x6B00;
inline constexpr std::uint16_t kInsNotSupported = 0x6D00;
inline constexpr std::uint16_t kClaNotSupported = 0x6E00;
inline constexpr std::uint16_t kNoPreciseDiagnosis = 0x6F00;

/// 61xx telling the reader `remaining` bytes wait for GET RESPONSE
/// (xx = 00 when 256 or more remain).
inline constexpr std::uint16_t bytes_available(std::size_t remaining) {
  return static_cast<std::uint16_t>(0x6100 | (remaining >= 256 ? 0 : remaining));
}
}  // namespace sw

/// A response APDU: the data field followed by the status word.
struct Response {
  Bytes data;
  std::uint16_t sw = sw::kOk;

  std::uint8_t sw1() const { return static_cast<std::uint8_t>(sw >> 8); }
  std::uint8_t sw2() const { return static_cast<std::uint8_t>(sw & 0xFF); }
  /// 9000, or 91xx/92xx-style "normal processing" (SW1 9x, as lpac accepts).
  bool ok() const { return (sw1() & 0xF0) == 0x90; }
};

enum class ResponseError : std::uint8_t { kTooShort };  ///< no room for SW1 SW2

/// Splits a response APDU into data and status word.
expected<Response, ResponseError> parse_response(ByteView bytes);
/// Data followed by SW1 SW2.
Bytes encode_response(const Response& response);
/// Just a status word (a response without data).
Bytes encode_status(std::uint16_t status_word);

}  // namespace rsp::apdu
