#include "rsp/ota/por.hpp"

#include "rsp/ota/udh.hpp"

namespace rsp::ota {

namespace {

const Bytes& por_header() {
  static const Bytes h{0x02, kIeiResponsePacket, 0x00};
  return h;
}

}  // namespace

OtaResult<Bytes> build_por_user_data(const CommandHeader& command, Status status, const Keys& keys,
                                     ByteView data) {
  crypto::scp80::ResponseParams params{command.tar, command.counter, status, command.kic, command.kid};
  auto packet = crypto::scp80::build_response_packet(command.spi, params, keys, data, por_header());
  if (!packet) return ota_fail(packet.error());
  Bytes ud = concat({por_header(), *packet});
  if (ud.size() > kMaxUserData) return ota_fail(OtaErrorCode::TooLong, "PoR beyond one SMS");
  return ud;
}

OtaResult<SmsSubmit> build_por_sms_submit(const CommandHeader& command, Status status, const Keys& keys,
                                          ByteView data, const Address& destination,
                                          std::uint8_t message_reference) {
  SmsSubmit s;
  s.message_reference = message_reference;
  s.destination = destination;
  RSP_TRY(Bytes ud, build_por_user_data(command, status, keys, data));
  s.user_data = binary_user_data(std::move(ud), true);
  return s;
}

OtaResult<apdu::Response> build_por_response_apdu(const CommandHeader& command, Status status,
                                                  const Keys& keys, ByteView data) {
  RSP_TRY(Bytes ud, build_por_user_data(command, status, keys, data));
  return apdu::Response{std::move(ud), apdu::sw::kOk};
}

OtaResult<OpenedResponse> open_por_packet(ByteView header, ByteView packet, const CommandHeader& command,
                                          const Keys& keys) {
  auto opened = crypto::scp80::open_response_packet(packet, command, keys, header);
  if (!opened) return ota_fail(opened.error());
  if (static_cast<std::uint8_t>(opened->params.status) > static_cast<std::uint8_t>(Status::ResponseDataViaUssd))
    return ota_fail(OtaErrorCode::InvalidValue, "reserved response status code");
  if (opened->params.tar != command.tar)
    return ota_fail(OtaErrorCode::InvalidValue, "PoR for another TAR");
  if (opened->params.counter != command.counter)
    return ota_fail(OtaErrorCode::InvalidValue, "PoR counter is not the command's");
  return std::move(*opened);
}

OtaResult<OpenedResponse> open_por_user_data(ByteView user_data, const CommandHeader& command,
                                             const Keys& keys) {
  RSP_TRY(ParsedUserData ud, parse_user_data(user_data, true));
  if (!has_element(ud.elements, kIeiResponsePacket))
    return ota_fail(OtaErrorCode::MissingElement, "no response packet element ('71')");
  if (find_concat(ud.elements))
    return ota_fail(OtaErrorCode::Unsupported, "segment of a concatenated PoR: reassemble it first");
  return open_por_packet(ud.header, ud.body, command, keys);
}

OtaResult<OpenedResponse> open_por_sms_submit(ByteView tpdu, const CommandHeader& command,
                                              const Keys& keys) {
  RSP_TRY(SmsSubmit s, decode_sms_submit(tpdu));
  if (alphabet_of(s.dcs) != Alphabet::Eight) return ota_fail(OtaErrorCode::InvalidValue, "PoR not in 8-bit data");
  if (!s.user_data.header_present) return ota_fail(OtaErrorCode::MissingElement, "PoR without TP-UDHI");
  return open_por_user_data(s.user_data.octets, command, keys);
}

OtaResult<OpenedResponse> open_por_response_apdu(ByteView r_apdu, const CommandHeader& command,
                                                 const Keys& keys) {
  auto r = apdu::parse_response(r_apdu);
  if (!r) return ota_fail(OtaErrorCode::Truncated, "R-APDU without a status word");
  if (r->sw1() != 0x90 && r->sw1() != 0x91)
    return ota_fail(OtaErrorCode::InvalidValue, "ENVELOPE status word is not '9000' or '91xx'");
  return open_por_user_data(r->data, command, keys);
}

}  // namespace rsp::ota
