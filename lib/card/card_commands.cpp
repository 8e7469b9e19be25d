// The card-level commands: SELECT and MANAGE CHANNEL.
#include <algorithm>

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/card/card.hpp"

namespace rsp::card {

namespace {

namespace asw = apdu::sw;
using apdu::encode_status;

constexpr std::uint8_t kSelectByName = 0x04;
constexpr std::uint8_t kSelectFirstWithFci = 0x00;
constexpr std::uint8_t kSelectFirstWithFcp = 0x04;
constexpr std::uint8_t kSelectFirstNoData = 0x0C;
constexpr std::uint8_t kSelectNextOccurrence = 0x02;
constexpr std::uint8_t kManageOpen = 0x00;
constexpr std::uint8_t kManageClose = 0x80;

bool aid_matches(ByteView requested, ByteView aid) {
  return !requested.empty() && requested.size() <= aid.size() &&
         std::equal(requested.begin(), requested.end(), aid.begin());
}

}  // namespace

// ISO/IEC 7816-4 §11.2.2 SELECT by DF name (GP Card Spec v2.3 §11.9): P1 04,
// P2 00/04/0C first or only occurrence. A failed SELECT keeps the current
// selection. File selection (P1 00-03, 08, 09) finds nothing: we have no
// file system.
Bytes Card::select(Channel& ch, std::uint8_t channel, const apdu::Command& c) {
  if (c.p1 != kSelectByName) {
    const bool file_selection = c.p1 <= 0x03 || c.p1 == 0x08 || c.p1 == 0x09;
    return encode_status(file_selection ? asw::kFileNotFound : asw::kIncorrectP1P2);
  }
  const std::uint8_t occurrence = c.p2 & 0x03;
  const std::uint8_t answer = c.p2 & 0xFC;
  if ((answer != kSelectFirstWithFci && answer != kSelectFirstWithFcp &&
       answer != kSelectFirstNoData) ||
      (occurrence != 0 && occurrence != kSelectNextOccurrence)) {
    return encode_status(asw::kIncorrectP1P2);
  }
  // Each AID is present once, so a "next occurrence" never exists.
  if (occurrence == kSelectNextOccurrence) return encode_status(asw::kFileNotFound);
  Application* found = nullptr;
  for (const auto& app : apps_) {
    if (aid_matches(c.data, app->aid())) {
      found = app.get();
      break;
    }
  }
  if (!found) return encode_status(asw::kFileNotFound);
  if (ch.selected != found) deselect(ch, channel);
  ch.secure.reset();  // a SELECT ends the secure channel session (GP Card Spec v2.3 ch. 10)
  ch.selected = found;
  found->on_select(channel);
  if (answer == kSelectFirstNoData) return encode_status(asw::kOk);
  return deliver(ch, found->select_response(), c);
}

// ISO/IEC 7816-4 §11.1.2 MANAGE CHANNEL. Open: P2 00 lets the card assign
// the lowest free channel and answer its number; P2 n opens channel n. A
// channel opened from a non-basic channel inherits its selection. Close: P2
// names the channel (00: the one in CLA); the basic channel never closes.
Bytes Card::manage_channel(std::uint8_t channel, const apdu::Command& c) {
  if (!c.data.empty()) return encode_status(asw::kWrongLength);
  Application* inherited = channel == 0 ? nullptr : channels_[channel].selected;
  if (c.p1 == kManageOpen) {
    std::uint8_t target = c.p2;
    if (target == 0) {
      for (std::uint8_t i = 1; i < channels_.size(); ++i) {
        if (!channels_[i].open) {
          target = i;
          break;
        }
      }
      // GP Card Spec §11.7.3: 6A81 when no channel is available.
      if (target == 0) return encode_status(asw::kFunctionNotSupported);
    } else if (target >= channels_.size()) {
      return encode_status(asw::kIncorrectP1P2);
    } else if (channels_[target].open) {
      return encode_status(asw::kConditionsNotSatisfied);
    }
    Channel& opened = channels_[target];
    opened = Channel{};
    opened.open = true;
    opened.selected = inherited;
    if (c.p2 != 0) return encode_status(asw::kOk);
    return deliver(channels_[channel], Bytes{target}, c);
  }
  if (c.p1 == kManageClose) {
    const std::uint8_t target = c.p2 == 0 ? channel : c.p2;
    if (target == 0 || target >= channels_.size()) return encode_status(asw::kIncorrectP1P2);
    if (!channels_[target].open) return encode_status(asw::kLogicalChannelNotSupported);
    deselect(channels_[target], target);
    channels_[target].open = false;
    return encode_status(asw::kOk);
  }
  return encode_status(asw::kIncorrectP1P2);
}

}  // namespace rsp::card
