#include "rsp/lpa/profile_ref.hpp"

#include <algorithm>

#include "rsp/messages/iccid.hpp"

namespace rsp::lpa {

expected<ProfileRef, std::string> parse_profile_ref(std::string_view text) {
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  // ITU-T E.118: an ICCID starts with the telecom industry prefix 89 and has
  // at most 20 digits (18 or 19 in practice, padded with F in EF.ICCID).
  if (digits && text.starts_with("89") && text.size() >= 18 && text.size() <= 20) {
    auto iccid = messages::iccid_from_digits(text);
    if (!iccid) return unexpected(std::string("not a valid ICCID: ") + std::string(text));
    return ProfileRef{ProfileRef::Kind::Iccid, std::move(*iccid)};
  }
  const bool hex = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (hex && text.size() % 2 == 0 && text.size() >= 10 && text.size() <= 32) {
    if (auto aid = from_hex(text)) return ProfileRef{ProfileRef::Kind::IsdpAid, std::move(*aid)};
  }
  return unexpected("'" + std::string(text) +
                    "' is neither an ICCID (18 to 20 digits starting 89) nor an ISD-P AID (5 to 16 bytes in hex)");
}

}  // namespace rsp::lpa
