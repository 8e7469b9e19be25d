// Feeds the GlobalPlatform command decoder (card/gp_commands.hpp) arbitrary
// command APDUs. A decoded command must encode again (when it fits a short
// APDU) and decode to the same typed command; nothing may crash.
#include <cstdlib>

#include "rsp/apdu/command.hpp"
#include "rsp/card/gp_commands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto apdu = rsp::apdu::parse_command(rsp::ByteView(data, size));
  if (!apdu) return 0;
  auto decoded = rsp::card::gp::decode(*apdu);
  if (!decoded) {
    if (rsp::card::gp::status_word(decoded.error()) == 0x6F00) std::abort();
    return 0;
  }
  auto encoded = rsp::card::gp::encode(*decoded, apdu->cla);
  if (!encoded) return 0;
  auto again = rsp::card::gp::decode(*encoded);
  if (!again || !(*again == *decoded)) std::abort();
  return 0;
}
