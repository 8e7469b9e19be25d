// Feeds the card-side ISD-R command parser (m2m/isdr_commands.hpp) arbitrary
// command APDUs and the response parsers arbitrary data. A parsed command must
// build again into a command that parses to the same value; a refusal is a
// status word, never 6F00; nothing may crash.
#include <cstdlib>

#include "rsp/apdu/command.hpp"
#include "rsp/m2m/isdr_commands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rsp::ByteView bytes(data, size);
  (void)rsp::m2m::parse_isdp_status(bytes);
  (void)rsp::m2m::parse_notification(bytes);
  (void)rsp::m2m::parse_card_resources(bytes);
  auto apdu = rsp::apdu::parse_command(bytes);
  if (!apdu) return 0;
  // DELETE [key] of the SM-SR change: what parses builds again the same.
  if (auto version = rsp::m2m::parse_delete_key_set(*apdu)) {
    auto back = rsp::m2m::parse_delete_key_set(rsp::m2m::build_delete_key_set(*version, apdu->cla));
    if (back != version) std::abort();
  }
  auto parsed = rsp::m2m::parse_command(*apdu);
  if (!parsed) {
    if (parsed.error() == 0x6F00 || parsed.error() == 0x9000) std::abort();
    return 0;
  }
  auto built = rsp::m2m::build_command(*parsed, apdu->cla);
  if (!built) return 0;
  auto again = rsp::m2m::parse_command(*built);
  if (!again || !(*again == *parsed)) std::abort();
  return 0;
}
