// The JSON side of the lpac stdio bridge.
#include <nlohmann/json.hpp>

#include "rsp/apdu/class_byte.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/card/transport/lpac_stdio.hpp"

namespace rsp::card::transport {

namespace {

using nlohmann::json;

std::string answer(int ecode, const std::optional<Bytes>& data = std::nullopt) {
  json payload{{"ecode", ecode}};
  if (data) payload["data"] = to_hex(*data);
  return json{{"type", "apdu"}, {"payload", payload}}.dump();
}

std::optional<Bytes> hex_param(const json& payload) {
  const auto it = payload.find("param");
  if (it == payload.end() || !it->is_string()) return std::nullopt;
  return from_hex(it->get<std::string>());
}

}  // namespace

std::optional<std::string> LpacStdioBridge::handle_line(std::string_view line) {
  const json request = json::parse(line.begin(), line.end(), nullptr, false);
  if (!request.is_object()) return std::nullopt;
  const auto type = request.find("type");
  if (type == request.end() || !type->is_string() || type->get<std::string>() != "apdu") {
    return std::nullopt;
  }
  const auto payload = request.find("payload");
  if (payload == request.end() || !payload->is_object()) return answer(-1);
  const auto func_it = payload->find("func");
  if (func_it == payload->end() || !func_it->is_string()) return answer(-1);
  const std::string func = func_it->get<std::string>();

  if (func == "connect") return answer(0);
  if (func == "disconnect") {
    card_.reset();  // like SCardDisconnect with SCARD_UNPOWER_CARD
    return answer(0);
  }
  if (func == "logic_channel_open") {
    const auto it = payload->find("param");
    if (it == payload->end() || !it->is_string()) return answer(-1);
    return answer(open_channel(it->get_ref<const std::string&>()));
  }
  if (func == "logic_channel_close") {
    const auto channel = hex_param(*payload);
    if (!channel || channel->size() != 1) return answer(-1);
    (void)card_.transmit(Bytes{0x00, 0x70, 0x80, (*channel)[0]});
    return answer(0);
  }
  if (func == "transmit") {
    const auto apdu = hex_param(*payload);
    if (!apdu) return answer(-1);
    return answer(0, card_.transmit(*apdu));
  }
  return answer(-1);
}

// What lpac's PC/SC driver does: MANAGE CHANNEL open (card assigns), then
// SELECT the AID on the new channel; on failure the channel is closed again.
int LpacStdioBridge::open_channel(std::string_view aid_hex) {
  const auto aid = from_hex(aid_hex);
  if (!aid || aid->empty() || aid->size() > 16) return -1;
  auto opened = apdu::parse_response(card_.transmit(Bytes{0x00, 0x70, 0x00, 0x00, 0x01}));
  if (!opened || opened->sw != apdu::sw::kOk || opened->data.size() != 1) return -1;
  const std::uint8_t channel = opened->data[0];
  Bytes select{apdu::class_for_channel(channel, false), 0xA4, 0x04, 0x00,
               static_cast<std::uint8_t>(aid->size())};
  select.insert(select.end(), aid->begin(), aid->end());
  select.push_back(0x00);
  auto selected = apdu::parse_response(card_.transmit(select));
  if (selected && (selected->ok() || selected->sw1() == apdu::sw::kSw1BytesAvailable)) {
    return channel;
  }
  (void)card_.transmit(Bytes{0x00, 0x70, 0x80, channel});
  return -1;
}

}  // namespace rsp::card::transport
