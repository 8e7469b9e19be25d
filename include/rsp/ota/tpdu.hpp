#pragma once
/// SMS transfer-layer PDUs of 3GPP TS 23.040 §9.2.2: SMS-DELIVER (what the
/// card receives, in an SMS-PP download ENVELOPE) and SMS-SUBMIT (what an
/// SM-SR hands to an SMSC, and what a card sends for a PoR). Secured packets
/// travel as SIM data download: TP-PID '7F' (§9.2.3.9) with TP-DCS 'F6'
/// (8-bit data, class 2, TS 23.038 §4). Decoders are strict: every length is
/// checked against the octets present and nothing may follow TP-UD.

#include <array>
#include <cstdint>

#include "rsp/common/bytes.hpp"
#include "rsp/ota/address.hpp"
#include "rsp/ota/error.hpp"

namespace rsp::ota {

/// TP-PID "(U)SIM data download" (TS 23.040 §9.2.3.9).
inline constexpr std::uint8_t kPidSimDataDownload = 0x7F;
/// TP-DCS 8-bit data, message class 2 ((U)SIM specific) (TS 23.038 §4).
inline constexpr std::uint8_t kDcsClass2Data = 0xF6;
/// Octets of TP-UD in one SMS (TS 23.040 §9.2.3.16).
inline constexpr std::size_t kMaxUserData = 140;

/// The alphabet a TP-DCS names (TS 23.038 §4), which fixes the unit of TP-UDL.
enum class Alphabet { Gsm7, Eight, Ucs2 };
Alphabet alphabet_of(std::uint8_t dcs);

/// TP-SCTS: the seven semi-octet swapped octets (TS 23.040 §9.2.3.11), kept as sent.
using Timestamp = std::array<std::uint8_t, 7>;

/// The user data of a TPDU: the octets of TP-UD and, for the GSM 7-bit
/// alphabet, TP-UDL in septets (otherwise TP-UDL is the octet count).
struct UserData {
  bool header_present = false;  ///< TP-UDHI
  Bytes octets;                 ///< TP-UD, user data header included
  std::uint8_t septets = 0;     ///< TP-UDL when the alphabet is GSM 7-bit
  bool operator==(const UserData&) const = default;
};

struct SmsDeliver {
  bool more_messages = false;       ///< TP-MMS = 0 ("more messages are waiting")
  bool loop_prevention = false;     ///< TP-LP
  bool status_report = false;       ///< TP-SRI
  bool reply_path = false;          ///< TP-RP
  Address originator;               ///< TP-OA
  std::uint8_t pid = kPidSimDataDownload;
  std::uint8_t dcs = kDcsClass2Data;
  Timestamp timestamp{};            ///< TP-SCTS
  UserData user_data;
  bool operator==(const SmsDeliver&) const = default;
};

/// TP-VPF (TS 23.040 §9.2.3.3): how many octets of TP-VP follow.
enum class ValidityFormat : std::uint8_t { None = 0, Enhanced = 1, Relative = 2, Absolute = 3 };

struct SmsSubmit {
  bool reject_duplicates = false;   ///< TP-RD
  ValidityFormat validity_format = ValidityFormat::None;
  bool status_report_request = false;  ///< TP-SRR
  bool reply_path = false;          ///< TP-RP
  std::uint8_t message_reference = 0;  ///< TP-MR
  Address destination;              ///< TP-DA
  std::uint8_t pid = kPidSimDataDownload;
  std::uint8_t dcs = kDcsClass2Data;
  Bytes validity;                   ///< TP-VP: 0, 1 or 7 octets as validity_format says
  UserData user_data;
  bool operator==(const SmsSubmit&) const = default;
};

OtaResult<Bytes> encode(const SmsDeliver& tpdu);
OtaResult<SmsDeliver> decode_sms_deliver(ByteView tpdu);
OtaResult<Bytes> encode(const SmsSubmit& tpdu);
OtaResult<SmsSubmit> decode_sms_submit(ByteView tpdu);

/// 8-bit user data (TP-UDHI set when `with_header`), for the builders above.
UserData binary_user_data(Bytes octets, bool with_header);

}  // namespace rsp::ota
