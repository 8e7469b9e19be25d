#include "rsp/card/es10_application.hpp"

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/apdu/status_words.hpp"

namespace rsp::card {

namespace {

constexpr std::uint8_t kStoreDataLastBlockBit = 0x80;

apdu::Response status(std::uint16_t sw) { return apdu::Response{{}, sw}; }

}  // namespace

bool starts_bpp(ByteView command) { return command.size() >= 2 && command[0] == 0xBF && command[1] == 0x36; }

Es10Application::Es10Application(Es10Limits limits) : limits_(limits) {}

void Es10Application::on_select(std::uint8_t channel) {
  if (channel < kMaxChannels) channels_[channel].clear();
}

void Es10Application::on_deselect(std::uint8_t channel) {
  if (channel < kMaxChannels) channels_[channel].clear();
  on_es10_deselect(channel);
}

expected<Bytes, std::uint16_t> Es10Application::load_bpp_segment(ByteView, std::uint8_t) {
  return unexpected(apdu::sw::kConditionsNotSatisfied);
}

// The BPP arrives in pieces that are not whole TLVs (SGP.22 §5.7.6): its
// first segment starts with BF36, the others continue a load under way.
expected<Bytes, std::uint16_t> Es10Application::route(ByteView command, std::uint8_t channel) {
  if (starts_bpp(command) || bpp_in_progress(command)) return load_bpp_segment(command, channel);
  return process_es10(command, channel);
}

// GP Card Spec v2.3 §11.11 STORE DATA as SGP.22 §5.7.2 uses it: P1 11 (more
// blocks) or 91 (last block), P2 the block number from 00. Block 00 always
// starts a new command; any other out-of-sequence block drops the command.
apdu::Response Es10Application::process(const ApduCommand& command) {
  const apdu::Command& c = command.apdu;
  if (c.ins != apdu::kInsStoreData) return status(apdu::sw::kInsNotSupported);
  // Under an interindustry class E2 is APPEND RECORD, which we lack.
  if (!command.proprietary) return status(apdu::sw::kClaNotSupported);
  if (command.channel >= kMaxChannels) return status(apdu::sw::kLogicalChannelNotSupported);
  Assembly& a = channels_[command.channel];
  if ((c.p1 & ~kStoreDataLastBlockBit) != apdu::kStoreDataMoreBlocks) {
    a.clear();
    return status(apdu::sw::kIncorrectP1P2);
  }
  if (c.data.empty()) {
    a.clear();
    return status(apdu::sw::kWrongLength);
  }
  if (c.p2 == 0) {
    a.clear();
  } else if (!a.assembling || c.p2 != a.next_block) {
    a.clear();
    return status(apdu::sw::kIncorrectP1P2);
  }
  if (a.command.size() + c.data.size() > limits_.max_command_size) {
    a.clear();
    return status(apdu::sw::kNotEnoughMemory);
  }
  a.command.insert(a.command.end(), c.data.begin(), c.data.end());
  a.assembling = true;
  a.next_block = static_cast<std::uint16_t>(c.p2 + 1);
  if ((c.p1 & kStoreDataLastBlockBit) == 0) return status(apdu::sw::kOk);

  const Bytes whole = std::move(a.command);
  a.clear();
  auto result = route(whole, command.channel);
  if (!result) return status(result.error());
  return apdu::Response{std::move(result).value(), apdu::sw::kOk};
}

}  // namespace rsp::card
