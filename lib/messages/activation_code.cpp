#include "rsp/messages/activation_code.hpp"

#include <vector>

namespace rsp::messages {
namespace {

unexpected<MessageError> bad(std::string field, std::string detail) {
  return unexpected(make_error(ErrorKind::BadActivationCode, std::move(field), std::move(detail)));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alpha(char c) { return is_upper(c) || (c >= 'a' && c <= 'z'); }

bool valid_address(std::string_view a) {
  if (a.empty() || a.size() > 255) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i];
    if (c == '.') {
      if (label == 0) return false;  // empty label
      label = 0;
      continue;
    }
    if (!(is_alpha(c) || is_digit(c) || c == '-')) return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

/// A port after the host: 1 to 65535 in decimal, no sign, no leading zero.
bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5 || p.front() == '0') return false;
  unsigned value = 0;
  for (char c : p) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// "[v6 address]" as in a URL authority (RFC 3986 §3.2.2), loosely: hex
/// digits, ':' and '.' between the brackets.
bool valid_bracketed_ip6(std::string_view a) {
  if (a.size() < 4 || a.front() != '[' || a.back() != ']') return false;
  for (char c : a.substr(1, a.size() - 2)) {
    if (!(is_hex(c) || c == ':' || c == '.')) return false;
  }
  return true;
}

/// SGP.22 §4.1 names the SM-DP+ by its FQDN. Lab servers (and what `rsp
/// smdpp order --address host:port` prints) add ":port", as the authority of
/// the ES9+ URL it becomes (§6.1: https://<SM-DP+ address>/gsma/rsp2/...).
bool valid_smdp_address(std::string_view a) {
  std::string_view host = a;
  if (!a.empty() && a.front() == '[') {
    const auto close = a.find(']');
    if (close == std::string_view::npos) return false;
    host = a.substr(0, close + 1);
    const auto rest = a.substr(close + 1);
    if (!valid_bracketed_ip6(host)) return false;
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  if (const auto colon = a.find(':'); colon != std::string_view::npos) {
    host = a.substr(0, colon);
    if (!valid_port(a.substr(colon + 1))) return false;
  }
  return valid_address(host);
}

bool valid_token(std::string_view t) {
  for (char c : t) {
    if (!(is_upper(c) || is_digit(c) || c == '-')) return false;
  }
  return t.size() <= 255;
}

bool valid_oid(std::string_view o) {
  if (o.empty() || o.size() > 255) return false;
  std::size_t arcs = 0, arc_len = 0;
  for (char c : o) {
    if (c == '.') {
      if (arc_len == 0) return false;
      ++arcs;
      arc_len = 0;
    } else if (is_digit(c)) {
      ++arc_len;
    } else {
      return false;
    }
  }
  return arc_len != 0 && arcs >= 1;
}

}  // namespace

Result<ActivationCode> parse_activation_code(std::string_view text) {
  if (text.size() > 1024) return bad("", "too long");
  constexpr std::string_view kPrefix = "LPA:";
  if (text.substr(0, kPrefix.size()) == kPrefix) text.remove_prefix(kPrefix.size());

  std::vector<std::string_view> parts;
  while (true) {
    auto pos = text.find('$');
    parts.push_back(text.substr(0, pos));
    if (pos == std::string_view::npos) break;
    text.remove_prefix(pos + 1);
  }
  if (parts.size() < 3) return bad("", "needs format, SM-DP+ address and AC token");
  if (parts.size() > 5) return bad("", "too many fields");
  if (parts[0] != "1") return bad("format", "unsupported activation code format");
  ActivationCode ac;
  if (!valid_smdp_address(parts[1])) return bad("smdpAddress", "not a valid SM-DP+ address (FQDN, optionally :port)");
  ac.smdp_address = std::string(parts[1]);
  if (!valid_token(parts[2])) return bad("matchingId", "invalid AC token characters");
  ac.matching_id = std::string(parts[2]);
  if (parts.size() >= 4) {
    if (parts[3].empty()) {
      if (parts.size() == 4) return bad("smdpOid", "empty SM-DP+ OID");
    } else if (!valid_oid(parts[3])) {
      return bad("smdpOid", "not a dotted decimal OID");
    } else {
      ac.smdp_oid = std::string(parts[3]);
    }
  }
  if (parts.size() == 5) {
    if (parts[4] != "1") return bad("confirmationCodeRequired", "flag must be \"1\"");
    ac.confirmation_code_required = true;
  }
  return ac;
}

std::string format_activation_code(const ActivationCode& ac, bool with_prefix) {
  std::string s = with_prefix ? "LPA:" : "";
  s += "1$" + ac.smdp_address + "$" + ac.matching_id;
  if (ac.smdp_oid || ac.confirmation_code_required) s += "$" + ac.smdp_oid.value_or("");
  if (ac.confirmation_code_required) s += "$1";
  return s;
}

}  // namespace rsp::messages
