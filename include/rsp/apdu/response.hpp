#pragma once
/// ISO/IEC 7816-4 §5.1/§5.6 response APDUs (data field + SW1 SW2); the status
/// words themselves are in status_words.hpp.

#include <cstdint>

#include "rsp/apdu/status_words.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::apdu {

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
