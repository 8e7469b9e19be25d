#pragma once
/// ICCID text <-> its 10-byte coding (ITU-T E.118 digits; SGP.22 `Iccid`
/// ::= [APPLICATION 26] OCTET STRING (SIZE(10)), coded as EF.ICCID per
/// ETSI TS 102 221 §13.2: nibble-swapped BCD, F padded).

#include <optional>
#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"

namespace rsp::messages {

/// 18 to 20 decimal digits to the 10-byte EF.ICCID coding (first octet 0x98
/// for the 89 industry prefix), F padded; nullopt for anything else.
std::optional<Bytes> iccid_from_digits(std::string_view digits);

/// The digits ("8949...", without F filler) of an EF.ICCID coded value, or of
/// plain BCD (first octet 0x89, as TS.48 profile headers carry it: every ICCID
/// starts with 89, so the first octet tells the two apart); empty when a
/// nibble is not a digit.
std::string iccid_to_digits(ByteView iccid);

}  // namespace rsp::messages
