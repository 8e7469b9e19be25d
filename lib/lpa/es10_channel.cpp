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
  // ISO/IEC 7816-4 §11.2.2 SELECT by DF name, FCI wanted.
  Bytes select = {apdu::class_for_channel(channel_, false), apdu::kInsSelect, 0x04, 0x00, sizeof(card::kIsdRAid)};
  select.insert(select.end(), std::begin(card::kIsdRAid), std::end(card::kIsdRAid));
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

ApduEs10Channel card_channel(card::Card& card) { return ApduEs10Channel(card::in_process_transmit(card)); }

}  // namespace rsp::lpa
