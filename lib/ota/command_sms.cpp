#include "rsp/ota/command_sms.hpp"

#include "rsp/ota/udh.hpp"

namespace rsp::ota {

namespace scp80 = crypto::scp80;

OtaResult<std::vector<Bytes>> build_command_user_data(const scp80::CommandHeader& header,
                                                      const scp80::Keys& keys, ByteView secured_data,
                                                      std::uint16_t concat_reference, bool wide_reference) {
  auto packet = scp80::build_command_packet(header, keys, secured_data);
  if (!packet) return ota_fail(packet.error());
  return segment_packet(*packet, kIeiCommandPacket, concat_reference, wide_reference);
}

OtaResult<std::vector<SmsSubmit>> build_command_submits(const scp80::CommandHeader& header,
                                                        const scp80::Keys& keys, ByteView secured_data,
                                                        const Address& destination,
                                                        std::uint8_t first_message_reference,
                                                        std::uint16_t concat_reference) {
  RSP_TRY(auto uds, build_command_user_data(header, keys, secured_data, concat_reference));
  std::vector<SmsSubmit> out;
  std::uint8_t mr = first_message_reference;
  for (auto& ud : uds) {
    SmsSubmit s;
    s.message_reference = mr++;
    s.destination = destination;
    s.user_data = binary_user_data(std::move(ud), true);
    out.push_back(std::move(s));
  }
  return out;
}

OtaResult<scp80::OpenedCommand> open_command(const Reassembled& packet, const scp80::KeyLookup& keys,
                                             std::uint64_t stored_counter) {
  if (packet.packet_iei != kIeiCommandPacket)
    return ota_fail(OtaErrorCode::MissingElement, "not a command packet ('70')");
  auto opened = scp80::open_command_packet(packet.packet, keys, stored_counter);
  if (!opened) return ota_fail(opened.error());
  return std::move(*opened);
}

OtaResult<scp80::OpenedCommand> open_command_user_data(ByteView user_data, const scp80::KeyLookup& keys,
                                                       std::uint64_t stored_counter) {
  RSP_TRY(ParsedUserData ud, parse_user_data(user_data, true));
  if (find_concat(ud.elements))
    return ota_fail(OtaErrorCode::Unsupported, "segment of a concatenated packet: reassemble it first");
  if (!has_element(ud.elements, kIeiCommandPacket))
    return ota_fail(OtaErrorCode::MissingElement, "no command packet element ('70')");
  Reassembled single{kIeiCommandPacket, Bytes(ud.header.begin(), ud.header.end()),
                     Bytes(ud.body.begin(), ud.body.end())};
  return open_command(single, keys, stored_counter);
}

}  // namespace rsp::ota
