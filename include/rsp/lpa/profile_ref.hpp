#pragma once
/// How a user names a profile on the command line: by ICCID (its digits, as
/// printed on the card or by `profile list`) or by the AID of its ISD-P (hex).
/// ES10c EnableProfile, DisableProfile and DeleteProfile take either
/// (SGP.22 §5.7.16-§5.7.18: profileIdentifier CHOICE isdpAid [APPLICATION 15]
/// or iccid [APPLICATION 26]).

#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::lpa {

struct ProfileRef {
  enum class Kind : std::uint8_t { Iccid, IsdpAid };
  Kind kind = Kind::Iccid;
  Bytes value;  ///< EF.ICCID coding (10 octets) or the AID's octets
};

/// "89..." of 18-20 decimal digits -> ICCID; otherwise 5 to 16 octets of hex
/// (ISO/IEC 7816-4 §8.2.1.2: an AID is 5 to 16 bytes) -> ISD-P AID. An error
/// in words for anything else.
expected<ProfileRef, std::string> parse_profile_ref(std::string_view text);

}  // namespace rsp::lpa
