#pragma once
/// The ENVELOPE (SMS-PP download) a terminal sends the card when an
/// SMS-DELIVER with TP-PID '7F' arrives (3GPP TS 31.111 §7.1.1, ETSI TS 102 223
/// §7.1): BER-TLV tag 'D1' holding the COMPREHENSION-TLVs device identities
/// ('82': source '83' network, destination '81' UICC), the optional address
/// of the service centre ('86', TS 102 223 §8.1) and the SMS TPDU ('8B',
/// §8.13). Tags and the length coding are those of ETSI TS 101 220 §7.1.2 /
/// §7.2. The APDU is ENVELOPE of ETSI TS 102 221 §10.1.1 (CLA '80', INS 'C2').

#include <optional>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/ota/address.hpp"
#include "rsp/ota/error.hpp"
#include "rsp/ota/tpdu.hpp"

namespace rsp::ota {

inline constexpr std::uint8_t kTagSmsPpDownload = 0xD1;

struct SmsPpDownload {
  std::optional<Address> service_centre;  ///< the RP originator address
  SmsDeliver tpdu;
  bool operator==(const SmsPpDownload&) const = default;
};

/// The 'D1' BER-TLV. TooLong beyond the 255 octets of an ENVELOPE.
OtaResult<Bytes> encode_envelope(const SmsPpDownload& download);
/// Parses a 'D1' BER-TLV filling `in`. Unknown COMPREHENSION-TLVs are skipped
/// unless their comprehension-required bit is set (TS 102 223 §6.10).
OtaResult<SmsPpDownload> decode_envelope(ByteView in);

/// ENVELOPE command APDU 80 C2 00 00 Lc 'D1'... (case 3).
OtaResult<apdu::Command> envelope_command(const SmsPpDownload& download);
/// Checks CLA/INS/P1/P2 of an ENVELOPE and decodes its data.
OtaResult<SmsPpDownload> decode_envelope_command(const apdu::Command& command);

}  // namespace rsp::ota
