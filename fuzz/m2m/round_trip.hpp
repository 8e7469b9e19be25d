#pragma once
// The round-trip check the M2M binding fuzz targets share: whatever decodes
// must encode to a body that decodes to the same value (a decoder and its
// encoder that disagree lose or invent a field on the wire).
#include <cstddef>
#include <cstdlib>
#include <string_view>

namespace rsp::fuzz {

/// `decode(text)`; when it succeeds, `decode(encode(value))` must give the
/// same value.
template <class Decode, class Encode>
void round_trip(std::string_view text, Decode&& decode, Encode&& encode) {
  auto value = decode(text);
  if (!value) return;
  auto again = decode(encode(*value));
  if (!again || !(*again == *value)) std::abort();
}

/// The same for each of a binding's `count` request functions: what decodes
/// as function f must also name f.
template <class Function, class Decode, class Encode, class FunctionOf>
void requests_round_trip(std::string_view text, std::size_t count, Decode&& decode, Encode&& encode,
                         FunctionOf&& function_of) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto f = static_cast<Function>(i);
    auto r = decode(f, text);
    if (!r) continue;
    if (function_of(*r) != f) std::abort();
    auto again = decode(f, encode(*r));
    if (!again || !(*again == *r)) std::abort();
  }
}

}  // namespace rsp::fuzz
