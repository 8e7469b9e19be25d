// Feeds the card a sequence of APDUs over the test application and a
// security domain that opens SCP03 sessions (AID A000000151000000). Input: a
// config byte, then records of one length byte and that many APDU bytes
// (length FF resets the card instead). Every answer must carry a status word.
#include <cstdlib>

#include "../../tests/unit/card/test_app.hpp"
#include "rsp/card/card.hpp"
#include "rsp/card/gp_security_domain.hpp"
#include "rsp/crypto/random.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  rsp::card::CardConfig config;
  config.max_response_per_apdu = (data[0] & 0x80) ? 256 : 1 + (data[0] & 0x3F);
  config.logical_channels = static_cast<std::uint8_t>(1 + (data[0] & 0x07) * 3);
  config.t0_case3_get_response = (data[0] & 0x40) == 0;
  rsp::crypto::DeterministicRandom random(rsp::Bytes{0x01});
  config.random = &random;
  rsp::card::Card card(config);
  card.add_application(std::make_shared<rsp::card::test::EchoApp>(rsp::card::kIsdRAid, rsp::card::Es10Limits{4096}));
  card.add_application(std::make_shared<rsp::card::MinimalEcasd>());
  rsp::card::Scp03KeySet keys;
  keys.keys = {rsp::Bytes(16, 0x40), rsp::Bytes(16, 0x50)};
  card.add_application(std::make_shared<rsp::card::GpSecurityDomain>(
      rsp::Bytes{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}, std::move(keys)));
  std::size_t at = 1;
  while (at < size) {
    const std::size_t len = data[at++];
    if (len == 0xFF) {
      card.reset();
      continue;
    }
    const std::size_t n = std::min(len, size - at);
    const rsp::Bytes r = card.transmit(rsp::ByteView(data + at, n));
    if (r.size() < 2 || r.size() > config.max_response_per_apdu + 2) std::abort();
    at += n;
  }
  return 0;
}
