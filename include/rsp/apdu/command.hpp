#pragma once
/// ISO/IEC 7816-4 §5.1 command APDUs: parsing the four cases in short and
/// extended form from untrusted bytes, and encoding them again.

#include <cstdint>
#include <optional>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::apdu {

/// Why a byte string is not a command APDU (or cannot be encoded as one).
enum class CommandError : std::uint8_t {
  kTooShort,           ///< fewer than the 4 header bytes
  kLengthMismatch,     ///< the body matches none of the cases of §5.1
  kZeroExtendedLc,     ///< extended Lc of 0000 (§5.1: Nc is 1..65535)
  kDataTooLong,        ///< encoding: more than 65535 data bytes
  kExpectedTooLong,    ///< encoding: Ne above 65536
};

/// A short English description of the error.
std::string_view message(CommandError e);
/// The status word a card answers for this error (all are 6700 wrong length).
std::uint16_t status_word(CommandError e);

/// The case of a command (ISO/IEC 7816-4 §5.1, Table 1).
enum class Case : std::uint8_t { k1 = 1, k2 = 2, k3 = 3, k4 = 4 };

/// A command APDU. `le` holds Ne, the maximum number of response bytes
/// expected (1..65536); absent means no Le field (cases 1 and 3).
struct Command {
  std::uint8_t cla = 0;
  std::uint8_t ins = 0;
  std::uint8_t p1 = 0;
  std::uint8_t p2 = 0;
  Bytes data;                      ///< the command data field (Nc bytes)
  std::optional<std::uint32_t> le;  ///< Ne, when an Le field is present
  bool extended = false;           ///< parsed from (or to be encoded in) extended form

  Case command_case() const {
    if (data.empty()) return le ? Case::k2 : Case::k1;
    return le ? Case::k4 : Case::k3;
  }
};

/// Parses a command APDU (§5.1). A short Le of 00 means Ne = 256 and an
/// extended Le of 0000 means Ne = 65536. Never reads past `bytes`.
expected<Command, CommandError> parse_command(ByteView bytes);

/// Encodes a command, in short form when Nc <= 255 and Ne <= 256 (and
/// `extended` is false), else in extended form (§5.1).
expected<Bytes, CommandError> encode_command(const Command& command);

}  // namespace rsp::apdu
