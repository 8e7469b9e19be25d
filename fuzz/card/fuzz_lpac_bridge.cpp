// Feeds the lpac stdio bridge arbitrary lines (split at newlines) against a
// card with the test application: the JSON handling and the APDUs it
// derives must never crash, and every APDU request gets an answer line.
#include <cstdlib>
#include <string_view>

#include "../../tests/unit/card/test_app.hpp"
#include "rsp/card/transport/lpac_stdio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::card::Card card;
  card.add_application(std::make_shared<rsp::card::test::EchoApp>());
  rsp::card::transport::LpacStdioBridge bridge(card);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const std::size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    auto reply = bridge.handle_line(line);
    if (reply && (reply->empty() || reply->find('\n') != std::string::npos)) std::abort();
    if (nl == std::string_view::npos) break;
    input.remove_prefix(nl + 1);
  }
  return 0;
}
