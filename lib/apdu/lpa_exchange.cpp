#include "rsp/apdu/lpa_exchange.hpp"

#include <fmt/format.h>

#include "rsp/apdu/class_byte.hpp"

namespace rsp::apdu {

std::string ExchangeError::message() const {
  switch (kind) {
    case Kind::kBadRequest: return "invalid ES10 request (empty, bad block size or too many blocks)";
    case Kind::kTransport: return "the card transport failed";
    case Kind::kMalformed: return "response APDU shorter than its status word";
    case Kind::kStatus: return fmt::format("the card answered status word {:04X}", sw);
    case Kind::kTooLarge: return "response larger than allowed";
  }
  return "unknown exchange error";
}

namespace {

ExchangeError error(ExchangeError::Kind kind, std::uint16_t status = 0) {
  return ExchangeError{kind, status};
}

expected<Response, ExchangeError> transmit_once(const Transmit& transmit, ByteView command) {
  auto raw = transmit(command);
  if (!raw) return unexpected(error(ExchangeError::Kind::kTransport));
  auto parsed = parse_response(*raw);
  if (!parsed) return unexpected(error(ExchangeError::Kind::kMalformed));
  return std::move(parsed).value();
}

}  // namespace

expected<std::vector<Bytes>, ExchangeError> store_data_blocks(ByteView es10_command,
                                                              std::uint8_t channel,
                                                              std::size_t block_size) {
  if (es10_command.empty() || block_size == 0 || block_size > 255) {
    return unexpected(error(ExchangeError::Kind::kBadRequest));
  }
  const std::size_t count = (es10_command.size() + block_size - 1) / block_size;
  if (count > 256) return unexpected(error(ExchangeError::Kind::kBadRequest));
  std::vector<Bytes> blocks;
  blocks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t offset = i * block_size;
    const std::size_t len = std::min(block_size, es10_command.size() - offset);
    const bool last = i + 1 == count;
    Bytes apdu{class_for_channel(channel, true), kInsStoreData,
               last ? kStoreDataLastBlock : kStoreDataMoreBlocks, static_cast<std::uint8_t>(i),
               static_cast<std::uint8_t>(len)};
    apdu.insert(apdu.end(), es10_command.begin() + static_cast<std::ptrdiff_t>(offset),
                es10_command.begin() + static_cast<std::ptrdiff_t>(offset + len));
    blocks.push_back(std::move(apdu));
  }
  return blocks;
}

expected<Response, ExchangeError> exchange(const Transmit& transmit, ByteView command,
                                           std::size_t max_response) {
  if (command.size() < 4) return unexpected(error(ExchangeError::Kind::kBadRequest));
  RSP_TRY(Response r, transmit_once(transmit, command));
  Bytes collected;
  if (r.sw1() == sw::kSw1WrongLe) {
    // 6Cxx: the card wants the same command with Le = xx (short form only).
    auto parsed = parse_command(command);
    if (!parsed || parsed->extended) return unexpected(error(ExchangeError::Kind::kStatus, r.sw));
    Command again = std::move(parsed).value();
    again.le = r.sw2() == 0 ? 256u : r.sw2();
    auto encoded = encode_command(again);
    if (!encoded) return unexpected(error(ExchangeError::Kind::kBadRequest));
    RSP_TRY(r, transmit_once(transmit, *encoded));
  }
  // Bounded by max_response: each round adds data or ends the loop.
  for (;;) {
    if (collected.size() + r.data.size() > max_response) {
      return unexpected(error(ExchangeError::Kind::kTooLarge));
    }
    collected.insert(collected.end(), r.data.begin(), r.data.end());
    if (r.sw1() != sw::kSw1BytesAvailable) break;
    const Bytes get_response{command[0], kInsGetResponse, 0x00, 0x00, r.sw2()};
    RSP_TRY(r, transmit_once(transmit, get_response));
    if (r.data.empty() && r.sw1() == sw::kSw1BytesAvailable) {
      return unexpected(error(ExchangeError::Kind::kMalformed));  // a card that never progresses
    }
  }
  return Response{std::move(collected), r.sw};
}

expected<Bytes, ExchangeError> send_es10(const Transmit& transmit, ByteView es10_command,
                                         std::uint8_t channel, std::size_t block_size,
                                         std::size_t max_response) {
  RSP_TRY(auto blocks, store_data_blocks(es10_command, channel, block_size));
  Bytes out;
  for (const Bytes& block : blocks) {
    RSP_TRY(Response r, exchange(transmit, block, max_response - out.size()));
    if (!r.ok()) return unexpected(error(ExchangeError::Kind::kStatus, r.sw));
    out.insert(out.end(), r.data.begin(), r.data.end());
  }
  return out;
}

}  // namespace rsp::apdu
