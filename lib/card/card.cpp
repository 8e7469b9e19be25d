#include "rsp/card/card.hpp"

#include <algorithm>

#include "rsp/apdu/class_byte.hpp"
#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/apdu/response.hpp"

namespace rsp::card {

namespace {

namespace asw = apdu::sw;
using apdu::encode_status;

/// ETSI TS 102 221 §11.1.19 TERMINAL CAPABILITY (lpac sends it on connect).
constexpr std::uint8_t kInsTerminalCapability = 0xAA;

}  // namespace

Card::Card(CardConfig config) : config_(config) {
  config_.max_response_per_apdu = std::clamp<std::size_t>(config_.max_response_per_apdu, 1, 65536);
  config_.logical_channels = std::clamp<std::uint8_t>(config_.logical_channels, 1, 20);
  channels_.resize(config_.logical_channels);
  channels_[0].open = true;
}

Card::~Card() = default;

void Card::add_application(std::shared_ptr<Application> app) {
  if (!app) return;
  std::lock_guard lock(mutex_);
  apps_.push_back(std::move(app));
}

Bytes Card::transmit(ByteView apdu) {
  std::lock_guard lock(mutex_);
  try {
    return dispatch(apdu);
  } catch (...) {
    // An application (or allocation) failed: a card answers "no precise
    // diagnosis" and forgets the half-done exchange on every channel.
    for (Channel& ch : channels_) ch.clear_pending();
    return encode_status(asw::kNoPreciseDiagnosis);
  }
}

Bytes Card::dispatch(ByteView raw) {
  auto parsed = apdu::parse_command(raw);
  if (!parsed) return encode_status(apdu::status_word(parsed.error()));
  const apdu::Command& c = *parsed;  // moved from only on the last line
  const auto cls = apdu::decode_class(c.cla);
  if (!cls) return encode_status(asw::kClaNotSupported);
  if (cls->chaining) return encode_status(asw::kCommandChainingNotSupported);
  const std::uint8_t number = cls->channel;
  if (number >= channels_.size() || !channels_[number].open) {
    return encode_status(asw::kLogicalChannelNotSupported);
  }
  Channel& ch = channels_[number];
  // ISO/IEC 7816-4 §7.6.1: response data is available only to the command
  // immediately following on the same channel.
  if (c.ins != apdu::kInsGetResponse) ch.clear_pending();
  if (cls->secure_messaging) {
    if (!cls->proprietary || !ch.secure) return encode_status(asw::kSecureMessagingNotSupported);
    return secure_command(ch, number, raw, c);
  }

  switch (c.ins) {
    case apdu::kInsSelect:
      if (cls->proprietary) return encode_status(asw::kClaNotSupported);
      return select(ch, number, c);
    case apdu::kInsManageChannel:
      if (cls->proprietary) return encode_status(asw::kClaNotSupported);
      return manage_channel(number, c);
    case apdu::kInsGetResponse:
      return get_response(ch, c);
    case kInsTerminalCapability:
      if (!cls->proprietary) return encode_status(asw::kClaNotSupported);
      return encode_status(asw::kOk);
    case kInsInitializeUpdate:
      if (cls->proprietary && ch.selected && ch.selected->scp03_key_set(0)) return initialize_update(ch, c);
      return to_application(ch, number, cls->proprietary, std::move(parsed).value());
    default:
      return to_application(ch, number, cls->proprietary, std::move(parsed).value());
  }
}

// Every other command belongs to the application selected on the channel.
// Without one, STORE DATA (the GP command that needs a selected security
// domain, GP Card Spec v2.3 §11.11) answers 6986 and the rest 6D00.
Bytes Card::to_application(Channel& ch, std::uint8_t channel, bool proprietary, apdu::Command c) {
  if (!ch.selected) {
    if (c.ins != apdu::kInsStoreData) return encode_status(asw::kInsNotSupported);
    return encode_status(proprietary ? asw::kCommandNotAllowed : asw::kClaNotSupported);
  }
  ApduCommand command{std::move(c), channel, proprietary, 0};
  apdu::Response r = ch.selected->process(command);
  if (r.sw == asw::kOk) return deliver(ch, std::move(r.data), command.apdu);
  return apdu::encode_response(r);
}

Bytes Card::deliver(Channel& ch, Bytes data, const apdu::Command& c) {
  if (data.empty()) return encode_status(asw::kOk);
  ch.pending = std::move(data);
  ch.pending_offset = 0;
  if (!c.le && config_.t0_case3_get_response) {
    return encode_status(asw::bytes_available(ch.pending.size()));
  }
  const std::size_t limit =
      c.le ? std::min<std::size_t>(*c.le, config_.max_response_per_apdu) : config_.max_response_per_apdu;
  return send_pending(ch, limit);
}

Bytes Card::send_pending(Channel& ch, std::size_t limit) {
  const std::size_t remaining = ch.pending.size() - ch.pending_offset;
  const std::size_t n = std::min(limit, remaining);
  const auto first = ch.pending.begin() + static_cast<std::ptrdiff_t>(ch.pending_offset);
  Bytes out(first, first + static_cast<std::ptrdiff_t>(n));
  ch.pending_offset += n;
  const std::size_t left = remaining - n;
  std::uint16_t status = asw::kOk;
  if (left == 0) {
    ch.clear_pending();
  } else {
    status = asw::bytes_available(left);
  }
  out.push_back(static_cast<std::uint8_t>(status >> 8));
  out.push_back(static_cast<std::uint8_t>(status & 0xFF));
  return out;
}

// ISO/IEC 7816-4 §7.6.1 GET RESPONSE: P1 P2 = 0000 (anything else: 6B00,
// wrong parameters); Le absent reads up to the reader limit, an Le beyond
// what remains returns what remains.
Bytes Card::get_response(Channel& ch, const apdu::Command& c) {
  if (c.p1 != 0 || c.p2 != 0) {
    ch.clear_pending();
    return encode_status(asw::kWrongP1P2);
  }
  if (!c.data.empty()) {
    ch.clear_pending();
    return encode_status(asw::kWrongLength);
  }
  if (ch.pending.empty()) return encode_status(asw::kConditionsNotSatisfied);
  const std::size_t limit =
      c.le ? std::min<std::size_t>(*c.le, config_.max_response_per_apdu) : config_.max_response_per_apdu;
  return send_pending(ch, limit);
}

void Card::deselect(Channel& ch, std::uint8_t channel) {
  ch.clear_pending();
  ch.secure.reset();
  Application* previous = ch.selected;
  ch.selected = nullptr;
  if (previous) previous->on_deselect(channel);
}

void Card::reset() {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    try {
      deselect(channels_[i], static_cast<std::uint8_t>(i));
    } catch (...) {
      // A failing application must not keep the card from resetting.
    }
    channels_[i].open = i == 0;
  }
}

// ISO/IEC 7816-3 §8.2: TS 3B (direct), T0 with TA1 TD1 and 7 historical
// bytes; TA1 96 (Fi 512, Di 32); TD1 80: T=0, TD2 follows; TD2 B1: T=1 with
// TA3 FE (IFSC 254) TB3 45 (BWI 4, CWI 5), TD3 follows; TD3 1F: T=15 with
// TA4 C7 (clock stop either, classes A B C as a UICC, TS 102 221 §6.3).
// Historical bytes (ISO/IEC 7816-4 §8.1.1): 80 = compact-TLV; 31 A0 card
// service data; 73 BE 21 xx card capabilities, the third byte announcing
// logical channels assigned by the card or the reader and their number.
Bytes Card::atr() const {
  const std::uint8_t channels = std::min<std::uint8_t>(config_.logical_channels, 8);
  const std::uint8_t capabilities = static_cast<std::uint8_t>(0x18 | (channels - 1));
  Bytes atr{0x3B, 0x97, 0x96, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0xC7,
            0x80, 0x31, 0xA0, 0x73, 0xBE, 0x21, capabilities};
  std::uint8_t tck = 0;
  for (std::size_t i = 1; i < atr.size(); ++i) tck ^= atr[i];
  atr.push_back(tck);
  return atr;
}

}  // namespace rsp::card
