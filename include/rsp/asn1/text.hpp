#pragma once
/// Human-readable forms of decoded values.

#include <string>

#include "rsp/asn1/runtime.hpp"

namespace rsp::asn1 {

/// An indented tree, one "name: value" per line, nested members indented by
/// two spaces and list items shown as [i].
std::string to_text(const Json& value);
/// Pretty-printed JSON (invalid UTF-8 in strings replaced, never thrown on).
std::string to_json_text(const Json& value);

}  // namespace rsp::asn1
