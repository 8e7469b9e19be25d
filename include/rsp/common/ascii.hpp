#pragma once
/// ASCII text helpers for protocol tokens (HTTP header names and values,
/// media types): case-insensitive comparison and trimming of optional
/// whitespace, as RFC 9110 defines them.

#include <string_view>

namespace rsp {

/// Case-insensitive ASCII comparison (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

/// `s` without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
std::string_view trim_ows(std::string_view s);

}  // namespace rsp
