// The eUICC's Bound Profile Package splitter (lib/euicc/bpp_stream.hpp) on
// arbitrary bytes cut into arbitrary pieces: the first input byte sets the
// piece size, as LPAs cut the package in different places.
#include <cstdint>
#include <cstdlib>

#include "bpp_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = std::size_t{data[0]} + 1;
  rsp::ByteView rest(data + 1, size - 1);
  rsp::euicc::detail::BppStream stream;
  while (!rest.empty()) {
    const std::size_t n = std::min(piece, rest.size());
    auto events = stream.feed(rest.first(n));
    if (!events) return 0;
    for (const auto& e : *events) {
      if (e.tlv.size() > rsp::euicc::detail::BppStream::kMaxElement) std::abort();
    }
    rest = rest.subspan(n);
  }
  return 0;
}
