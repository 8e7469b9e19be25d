#pragma once
/// eUICC Identifier (EID) per GSMA SGP.29 §2: 32 decimal digits, the last two
/// being check digits computed over the first 30 with ISO 7064 MOD 97-10
/// (the IBAN scheme): the whole 32-digit number taken mod 97 must equal 1.

#include <optional>
#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"

namespace rsp::pki {

inline constexpr std::size_t kEidDigits = 32;

/// True when `eid` is 32 decimal digits whose check digits are correct.
bool is_valid_eid(std::string_view eid);

/// The two check digits ("00".."98") for 30 leading digits; nullopt when the
/// input is not exactly 30 decimal digits.
std::optional<std::string> eid_check_digits(std::string_view first30);

/// Completes an EID: `prefix` (1..30 digits, e.g. the EUM's "89049032")
/// followed by `individual` (exactly 30 - prefix.size() digits) plus check
/// digits. nullopt when the parts are not decimal or do not add up to 30.
std::optional<std::string> make_eid(std::string_view prefix, std::string_view individual);

/// As make_eid, with the individual part drawn from the system CSPRNG.
std::optional<std::string> make_random_eid(std::string_view prefix);

/// True when every character is a decimal digit (and the string is non-empty).
bool is_decimal(std::string_view s);

}  // namespace rsp::pki
