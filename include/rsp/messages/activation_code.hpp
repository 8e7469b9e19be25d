#pragma once
/// SGP.22 §4.1 Activation Code:
///   [LPA:]1$<SM-DP+ address>$<AC token (matchingId)>[$<SM-DP+ OID>[$1]]
/// The "LPA:" prefix is how the code appears in a QR code (§4.1.3); the
/// parser accepts the code with or without it, the formatter writes it.

#include <optional>
#include <string>
#include <string_view>

#include "rsp/messages/error.hpp"

namespace rsp::messages {

struct ActivationCode {
  std::string smdp_address;             ///< FQDN of the SM-DP+ (with ":port" if given), never empty
  std::string matching_id;              ///< AC token; may be empty
  std::optional<std::string> smdp_oid;  ///< dotted decimal OID
  bool confirmation_code_required = false;
  bool operator==(const ActivationCode&) const = default;
};

/// Strict parser: format version "1"; a non-empty address of letters, digits,
/// '-' and '.' (at most 255 characters, no empty label), or a bracketed IPv6
/// literal, either optionally followed by ":port" (1-65535); a token of upper-case
/// letters, digits and '-'; an OID of digit arcs; the flag, when present, is
/// "1" (an empty OID field may precede it). BadActivationCode otherwise.
Result<ActivationCode> parse_activation_code(std::string_view text);

/// "LPA:1$..." (with the prefix unless `with_prefix` is false). The fields
/// are not re-validated; parse what you format to be sure.
std::string format_activation_code(const ActivationCode& ac, bool with_prefix = true);

}  // namespace rsp::messages
