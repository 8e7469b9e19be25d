// SCP80 command and response packet openers on hostile bytes.
#include <cstdint>
#include <cstdlib>

#include "rsp/crypto/scp80.hpp"

using namespace rsp;
using namespace rsp::crypto::scp80;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  // Keys of the public trace the seed corpus comes from.
  static const Keys keys(from_hex("200102030405060708090a0b0c0d0e0f").value(),
                         from_hex("201102030405060708090a0b0c0d0e0f").value());
  KeyLookup lookup = [](const Tar&, const Spi&, std::uint8_t, std::uint8_t)
      -> expected<Keys, Status> { return keys; };
  auto cmd = open_command_packet(in, lookup, 5);
  if (cmd && cmd->data.size() > size) std::abort();
  if (size >= 2) {
    if (auto spi = Spi::decode(data[0], data[1])) {
      if (spi->encode() != std::array<std::uint8_t, 2>{data[0], data[1]}) std::abort();
      auto resp = open_response_packet(in.subspan(2), *spi, keys, in.first(0));
      if (resp && resp->data.size() > size) std::abort();
    }
  }
  return 0;
}
