// The card's path for an SMS: TP-UD -> user data header -> (reassembly) ->
// SCP80 command packet, with AES and triple-DES keys.
#include <cstdint>
#include <cstdlib>

#include "rsp/ota/command_sms.hpp"
#include "rsp/ota/por.hpp"

using namespace rsp;
using namespace rsp::ota;
using namespace rsp::crypto::scp80;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  // Keys of the public traces the seed corpus comes from (pySim AES and 3DES cases).
  static const Keys aes(from_hex("200102030405060708090a0b0c0d0e0f").value(),
                        from_hex("201102030405060708090a0b0c0d0e0f").value());
  static const Keys des(from_hex("300102030405060708090a0b0c0d0e0f").value(),
                        from_hex("301102030405060708090a0b0c0d0e0f").value());
  KeyLookup lookup = [](const Tar&, const Spi&, std::uint8_t kic, std::uint8_t) -> rsp::expected<Keys, Status> {
    return (kic & 0x03) == 0x01 ? des : aes;
  };
  auto cmd = open_command_user_data(in, lookup, 0);
  if (cmd && cmd->data.size() > size) std::abort();
  if (!cmd && cmd.error().code == OtaErrorCode::SecuredPacket && !cmd.error().status) std::abort();
  // The same bytes cut into segments for the reassembler: the first byte says where.
  if (size > 1) {
    Reassembler r(4);
    const std::size_t cut = 1 + data[0] % (size - 1);
    for (ByteView part : {in.subspan(1, cut - 1), in.subspan(cut)}) {
      auto done = r.add(part);
      if (done && *done) {
        if ((*done)->packet.size() > size) std::abort();
        (void)open_command(**done, lookup, 0);
      }
    }
  }
  // A PoR for a fixed command.
  CommandHeader h;
  h.tar = {0xB0, 0x00, 0x11};
  h.kic = h.kid = 0x35;
  (void)open_por_user_data(in, h, des);
  return 0;
}
