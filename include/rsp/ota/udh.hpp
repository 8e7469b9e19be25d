#pragma once
/// The user data header of SMS TP-UD (3GPP TS 23.040 §9.2.3.24): UDHL then
/// information elements (IEI, IEIDL, data). The elements OTA uses:
/// concatenation with an 8-bit ('00', §9.2.3.24.1) or 16-bit ('08',
/// §9.2.3.24.8) reference, and the command / response packet markers '70' /
/// '71' of 3GPP TS 31.115 §4.2 / §4.3 (no data: IEIDL '00').

#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/ota/error.hpp"

namespace rsp::ota {

inline constexpr std::uint8_t kIeiConcat8 = 0x00;
inline constexpr std::uint8_t kIeiConcat16 = 0x08;
inline constexpr std::uint8_t kIeiCommandPacket = 0x70;
inline constexpr std::uint8_t kIeiResponsePacket = 0x71;

struct InformationElement {
  std::uint8_t iei = 0;
  Bytes data;
  bool operator==(const InformationElement&) const = default;
};

/// Concatenation information (TS 23.040 §9.2.3.24.1 / .8).
struct Concat {
  std::uint16_t reference = 0;
  std::uint8_t total = 0;     ///< 1..255
  std::uint8_t sequence = 0;  ///< 1..total
  bool wide = false;          ///< 16-bit reference (IEI '08')
  bool operator==(const Concat&) const = default;
};

/// TP-UD split into its header and the rest.
struct ParsedUserData {
  std::vector<InformationElement> elements;  ///< empty without a header
  ByteView header;  ///< UDHL and the elements, as sent (TS 31.115 PoR checksums cover it)
  ByteView body;    ///< the octets after the header
};

/// Splits TP-UD. With `header_present`, checks UDHL and each element fit and
/// that the elements OTA knows are well formed: concatenation lengths and
/// values, '70' / '71' with no data, none of them twice, not both '70' and '71'.
OtaResult<ParsedUserData> parse_user_data(ByteView user_data, bool header_present);

/// UDHL and the elements (an empty list gives no header at all).
OtaResult<Bytes> encode_header(const std::vector<InformationElement>& elements);

InformationElement concat_element(const Concat& c);
/// The concatenation element of a parsed header, if any.
std::optional<Concat> find_concat(const std::vector<InformationElement>& elements);
/// Whether the header holds element `iei`.
bool has_element(const std::vector<InformationElement>& elements, std::uint8_t iei);

}  // namespace rsp::ota
