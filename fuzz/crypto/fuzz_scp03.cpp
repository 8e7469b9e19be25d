// SCP03 card side on hostile command APDUs. Input: APDUs, each prefixed by a
// two-byte big-endian length, unwrapped in order on one authenticated session.
#include <cstdint>
#include <cstdlib>

#include "rsp/crypto/scp03.hpp"

using namespace rsp;
using namespace rsp::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Keys and challenges of the public card trace (security level 33) the seeds come from.
  static const Scp03StaticKeys keys{from_hex("000102030405060708090a0b0c0d0e0f").value(),
                                    from_hex("101112131415161718191a1b1c1d1e1f").value()};
  auto card = Scp03Card::establish(keys, from_hex("fdf38259a1e0de44").value(),
                                   from_hex("3b1aca81e821f219").value());
  if (!card ||
      !card->verify_external_authenticate(
          from_hex("84823300108c36f96bcc00724a4e13ad591d7da3f0").value()))
    std::abort();
  ByteView in(data, size);
  while (in.size() >= 2) {
    std::size_t len = (std::size_t{in[0]} << 8) | in[1];
    in = in.subspan(2);
    if (len > in.size()) len = in.size();
    auto before = card->encryption_counter();
    auto plain = card->unwrap_command(in.first(len));
    if (plain && card->encryption_counter() != before + 1) std::abort();
    if (!plain && card->encryption_counter() != before) std::abort();
    if (plain) {
      auto resp = card->wrap_response(*plain, 0x9000);
      if (!resp) std::abort();
    }
    in = in.subspan(len);
  }
  return 0;
}
