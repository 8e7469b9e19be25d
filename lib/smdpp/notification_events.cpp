/// NotificationEvent bits of the StoreMetadataRequest's
/// notificationConfigurationInfo (SGP.22 v2.2.2 §2.4a, ASN.1 NotificationEvent:
/// notificationInstall (0), notificationEnable (1), notificationDisable (2),
/// notificationDelete (3)).

#include <array>

#include "rsp/asn1/runtime.hpp"
#include "rsp/smdpp/catalog.hpp"

namespace rsp::smdpp {

namespace {

constexpr std::array<std::string_view, 4> kEventNames = {"install", "enable", "disable", "delete"};

}  // namespace

asn1::BitString notification_event_bits(std::uint8_t events) {
  asn1::BitString b;
  int highest = -1;
  for (int bit = 0; bit < 4; ++bit)
    if (events & (1u << bit)) highest = bit;
  if (highest < 0) return b;  // X.690 §11.2.2: no bit set, no content octet
  std::uint8_t octet = 0;
  for (int bit = 0; bit <= highest; ++bit)
    if (events & (1u << bit)) octet |= static_cast<std::uint8_t>(0x80u >> bit);
  b.bytes = {octet};
  b.unused_bits = static_cast<std::uint8_t>(7 - highest);
  return b;
}

std::uint8_t notification_event_mask(const asn1::BitString& bits) {
  std::uint8_t mask = 0;
  for (std::size_t bit = 0; bit < kEventNames.size(); ++bit)
    if (bits.test(bit)) mask |= static_cast<std::uint8_t>(1u << bit);
  return mask;
}

std::optional<std::uint8_t> parse_notification_events(std::string_view text) {
  std::uint8_t mask = 0;
  if (text == "none") return mask;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view word = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (word.empty()) continue;
    std::size_t bit = 0;
    while (bit < kEventNames.size() && kEventNames[bit] != word) ++bit;
    if (bit == kEventNames.size()) return std::nullopt;
    mask |= static_cast<std::uint8_t>(1u << bit);
  }
  return mask;
}

}  // namespace rsp::smdpp
