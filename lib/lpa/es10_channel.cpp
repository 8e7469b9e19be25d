#include "rsp/lpa/es10_channel.hpp"

#include "rsp/apdu/class_byte.hpp"
#include "rsp/card/card.hpp"

namespace rsp::lpa {
namespace {

Es10Error from_exchange(const apdu::ExchangeError& e) {
  using K = apdu::ExchangeError::Kind;
  Es10Error out;
  switch (e.kind) {
    case K::kTransport: out.kind = Es10Error::Kind::Transport; break;
    case K::kStatus: out.kind = Es10Error::Kind::Status; break;
    case K::kMalformed:
    case K::kTooLarge: out.kind = Es10Error::Kind::Malformed; break;
    case K::kBadRequest: out.kind = Es10Error::Kind::Request; break;
  }
  out.sw = e.sw;
  out.message = e.message();
  return out;
}

}  // namespace

ApduEs10Channel::ApduEs10Channel(apdu::Transmit transmit, std::uint8_t channel, std::size_t block_size)
    : transmit_(std::move(transmit)), channel_(channel), block_size_(block_size) {}

expected<void, Es10Error> ApduEs10Channel::select_isd_r() {
  return select_isd_r(ByteView(card::kIsdRAid, sizeof(card::kIsdRAid)));
}

expected<void, Es10Error> ApduEs10Channel::select_isd_r(ByteView aid) {
  // ISO/IEC 7816-4 §8.2.1.2: an AID is 5 to 16 bytes.
  if (aid.size() < 5 || aid.size() > 16) {
    return unexpected(Es10Error{Es10Error::Kind::Request, 0, "an ISD-R AID has 5 to 16 bytes"});
  }
  // ISO/IEC 7816-4 §11.2.2 SELECT by DF name, FCI wanted.
  Bytes select = {apdu::class_for_channel(channel_, false), apdu::kInsSelect, 0x04, 0x00,
                  static_cast<std::uint8_t>(aid.size())};
  select.insert(select.end(), aid.begin(), aid.end());
  select.push_back(0x00);
  auto r = apdu::exchange(transmit_, select);
  if (!r) return unexpected(from_exchange(r.error()));
  if (!r->ok()) {
    return unexpected(Es10Error{Es10Error::Kind::Status, r->sw, "SELECT ISD-R refused"});
  }
  return {};
}

expected<Bytes, Es10Error> ApduEs10Channel::send(ByteView command) {
  auto r = apdu::send_es10(transmit_, command, channel_, block_size_);
  if (!r) return unexpected(from_exchange(r.error()));
  return std::move(*r);
}

expected<std::uint8_t, Es10Error> open_logical_channel(const apdu::Transmit& transmit) {
  const Bytes open = {0x00, apdu::kInsManageChannel, 0x00, 0x00, 0x01};
  auto r = apdu::exchange(transmit, open);
  if (!r) return unexpected(from_exchange(r.error()));
  if (!r->ok()) return unexpected(Es10Error{Es10Error::Kind::Status, r->sw, "MANAGE CHANNEL open refused"});
  // The card answers the channel number in one byte; 1 to 19 (§5.1.1).
  if (r->data.size() != 1 || r->data[0] == 0 || r->data[0] > 19) {
    return unexpected(Es10Error{Es10Error::Kind::Malformed, r->sw, "MANAGE CHANNEL open: no channel number"});
  }
  return r->data[0];
}

void close_logical_channel(const apdu::Transmit& transmit, std::uint8_t channel) {
  // Sent on the basic channel, the channel to close named in P2.
  const Bytes close = {0x00, apdu::kInsManageChannel, 0x80, channel};
  (void)apdu::exchange(transmit, close);
}

ApduEs10Channel card_channel(card::Card& card) { return ApduEs10Channel(card::in_process_transmit(card)); }

}  // namespace rsp::lpa
