#pragma once
/// The expanded remote command and response format of ETSI TS 102 226 §5.2,
/// which RAM over HTTP (GlobalPlatform Card Spec v2.2 Amendment B) carries in
/// its HTTP bodies and SCP80 may carry over SMS:
///  - command scripting template 'AA' (definite length) or 'AE' (indefinite,
///    ended by '00 00'), holding C-APDU '22', immediate action '81', error
///    action '82' and script chaining '83' TLVs (§5.2.1);
///  - response scripting template 'AB' / 'AF', holding the number of executed
///    C-APDUs '80', R-APDU '23' (response data then SW1 SW2), immediate action
///    response '81', script chaining response '83' and bad format '90' (§5.2.2).
/// Tags as in ETSI TS 101 220 Table 7.18/7.19; the one-octet values of '81',
/// '83' and '90' are kept as received (their codings are not interpreted here).

#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/apdu/response.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/ota/error.hpp"

namespace rsp::ota {

namespace ram_tag {
inline constexpr std::uint8_t kCommandDefinite = 0xAA, kCommandIndefinite = 0xAE;
inline constexpr std::uint8_t kResponseDefinite = 0xAB, kResponseIndefinite = 0xAF;
inline constexpr std::uint8_t kCApdu = 0x22, kImmediateAction = 0x81, kErrorAction = 0x82,
                              kScriptChaining = 0x83;
inline constexpr std::uint8_t kExecuted = 0x80, kRApdu = 0x23, kImmediateActionResponse = 0x81,
                              kScriptChainingResponse = 0x83, kBadFormat = 0x90;
}  // namespace ram_tag

/// One TLV of a command script, in order.
struct CommandItem {
  std::uint8_t tag = ram_tag::kCApdu;
  Bytes value;  ///< for '22' a whole C-APDU
  bool operator==(const CommandItem&) const = default;
};

struct CommandScript {
  std::vector<CommandItem> items;
  bool indefinite = false;  ///< 'AE' instead of 'AA'
  bool operator==(const CommandScript&) const = default;
};

/// A script of C-APDUs only.
CommandScript command_script(const std::vector<Bytes>& c_apdus, bool indefinite = false);
/// The C-APDUs of a script, in order.
std::vector<Bytes> c_apdus(const CommandScript& script);

/// Encodes the template. InvalidValue for a '22' that is not a C-APDU
/// (ISO/IEC 7816-4 §5.1) or an unknown tag.
OtaResult<Bytes> encode(const CommandScript& script);
/// Parses a template filling `in`: 'AA' definite or 'AE' indefinite only,
/// inner TLVs definite, only the tags above, every '22' a C-APDU.
OtaResult<CommandScript> decode_command_script(ByteView in);

struct ResponseScript {
  std::optional<std::uint8_t> executed;  ///< '80'
  std::vector<apdu::Response> r_apdus;   ///< '23', in order
  std::optional<Bytes> immediate_action_response;  ///< '81'
  std::optional<Bytes> script_chaining_response;   ///< '83'
  std::optional<Bytes> bad_format;                 ///< '90'
  bool indefinite = false;                         ///< 'AF' instead of 'AB'
  bool operator==(const ResponseScript& other) const;
};

/// Encodes '80' first, then the R-APDUs, then '81', '83', '90'.
OtaResult<Bytes> encode(const ResponseScript& script);
/// Parses a response template filling `in` (strict as for commands; each
/// single TLV at most once; '80' one octet; '23' at least SW1 SW2).
OtaResult<ResponseScript> decode_response_script(ByteView in);

}  // namespace rsp::ota
