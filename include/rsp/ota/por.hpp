#pragma once
/// Proof of Receipt over SMS (3GPP TS 31.115 §4.3, ETSI TS 102 225 §5.2): the
/// response packet behind the user data header 02 71 00, which its
/// cryptographic checksum covers. It travels in an SMS-SUBMIT from the card
/// (SPI PoR "via SMS-SUBMIT") or as the R-APDU data of the SMS-PP download
/// ENVELOPE (status '9000'), which the terminal returns in the
/// SMS-DELIVER-REPORT. The same TP-UD (header and packet) is used for both;
/// the R-APDU form is our reading of TS 31.111 §7.1.1.2, not checked against
/// a card trace. The PoR is protected with the command's KIc / KID.

#include <cstdint>

#include "rsp/apdu/response.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/crypto/scp80.hpp"
#include "rsp/ota/address.hpp"
#include "rsp/ota/error.hpp"
#include "rsp/ota/tpdu.hpp"

namespace rsp::ota {

using crypto::scp80::CommandHeader;
using crypto::scp80::Keys;
using crypto::scp80::OpenedResponse;
using crypto::scp80::Status;

/// TP-UD of a PoR: 02 71 00 || response packet for `command` with `status`
/// and `data` (e.g. the R-APDUs of the executed commands). TooLong beyond
/// one SMS.
OtaResult<Bytes> build_por_user_data(const CommandHeader& command, Status status, const Keys& keys,
                                     ByteView data);

/// The SMS-SUBMIT a card sends with its PoR (TP-PID '7F', TP-DCS 'F6', TP-UDHI).
OtaResult<SmsSubmit> build_por_sms_submit(const CommandHeader& command, Status status, const Keys& keys,
                                          ByteView data, const Address& destination,
                                          std::uint8_t message_reference);

/// The R-APDU of the ENVELOPE carrying the PoR: the TP-UD above and '9000'.
OtaResult<apdu::Response> build_por_response_apdu(const CommandHeader& command, Status status,
                                                  const Keys& keys, ByteView data);

/// Opens a PoR TP-UD for `command`: header with '71', response packet whose
/// checksum covers the header, TAR and counter those of the command.
OtaResult<OpenedResponse> open_por_user_data(ByteView user_data, const CommandHeader& command,
                                             const Keys& keys);
/// The same with the header and packet apart (a reassembled concatenated PoR).
OtaResult<OpenedResponse> open_por_packet(ByteView header, ByteView packet, const CommandHeader& command,
                                          const Keys& keys);
/// Decodes an SMS-SUBMIT TPDU (8-bit data, TP-UDHI set) and opens its PoR.
OtaResult<OpenedResponse> open_por_sms_submit(ByteView tpdu, const CommandHeader& command,
                                              const Keys& keys);
/// Opens the PoR in an ENVELOPE's R-APDU (data then SW1 SW2, '9000' or '91xx').
OtaResult<OpenedResponse> open_por_response_apdu(ByteView r_apdu, const CommandHeader& command,
                                                 const Keys& keys);

}  // namespace rsp::ota
