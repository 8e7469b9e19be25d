#pragma once
/// Byte buffers and their hex form, shared by every component.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rsp {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Upper-case hex, no separators ("BF3E").
std::string to_hex(ByteView data);
/// Parses hex, accepting either case and ignoring spaces, colons and newlines.
/// Returns nullopt on an odd digit count or a non-hex character.
std::optional<Bytes> from_hex(std::string_view hex);

/// View of a string's bytes (no copy).
inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }

/// Concatenates byte sequences.
Bytes concat(std::initializer_list<ByteView> parts);

/// Constant-time comparison for MACs and other secrets.
bool equal_ct(ByteView a, ByteView b);

/// Overwrites a buffer that held secret material.
void wipe(Bytes& b);

/// Base64 (RFC 4648, with padding), used by the JSON bindings.
std::string base64_encode(ByteView data);
/// Strict decoder: rejects characters outside the alphabet and bad padding.
std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace rsp
