#pragma once
/// The platform commands an SM-SR sends to an M2M eUICC's ISD-R over ES5
/// (SGP.02 §4.1.1, §5.7), once a secure channel (SCP80 or SCP81) has
/// delivered them as plain C-APDUs: a builder for the SM-SR (operation →
/// C-APDU) and a strict parser for the card (C-APDU → typed command, or the
/// status word the card answers), plus the response data both sides read.
///
/// Values: the ISD-P load file / module AIDs are SGP.02 Annex H (also in
/// Osmocom pySim); the ISD-P life-cycle codings follow GP Card Spec v2.3
/// §11.1.1 with SGP.02 §2.2.1.2's DISABLED / ENABLED; the STORE DATA DGIs
/// '3A03' (enable) and '3A04' (disable) are SGP.02 §4.1.1.2 / §4.1.1.3.
/// Not confirmed against the SGP.02 text here (no copy was reachable), and so
/// marked where they are defined: the DGIs of the fallback and emergency
/// attributes, the connectivity parameters and the notification
/// confirmation, the GET STATUS attribute tag '53', the notification tags
/// and types ('4C'/'4D'/'4E'), the ISD-P privileges and DELETE's P2 '80'
/// (the ISD-P with its content; the parser also takes '00'). UpdatePolicyRules is this
/// project's own coding (POL1 lives in the profile; SGP.02 changes it over
/// ES6 through the MNO-SD): the simulator accepts it at the ISD-R.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::m2m {

/// SGP.02 Annex H: the ISD-P executable load file and executable module.
inline constexpr std::uint8_t kIsdpLoadFileAid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                                                    0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0D, 0x00};
inline constexpr std::uint8_t kIsdpModuleAid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                                                  0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0E, 0x00};
/// The ISD-R's TAR for SCP80 (the Tar of crypto/scp80.hpp): TS 101 220 §6
/// takes an application's TAR from octets 13 to 15 of its AID, which for the
/// ISD-R AID of SGP.02 §2.2.3 (A0000005591010FFFFFFFF8900000100) gives
/// '000001'. Not confirmed against the SGP.02 text.
inline constexpr std::array<std::uint8_t, 3> kIsdRTar{0x00, 0x00, 0x01};
/// ISD-P privileges: Security Domain (byte 1 b8), Trusted Path and Authorized
/// Management (byte 2 b8, b7), GP Card Spec v2.3 §11.1.2. Not confirmed
/// against SGP.02 §4.1.1.1.
inline constexpr std::uint8_t kIsdpPrivileges[] = {0x80, 0xC0, 0x00};

/// ISD-P life-cycle state as GET STATUS reports it (tag '9F70').
enum class IsdpState : std::uint8_t {
  kInstalled = 0x03,
  kSelectable = 0x07,    ///< CREATED: made by CreateISDP, no profile yet
  kPersonalized = 0x0F,  ///< the profile is loaded, not yet enabled or disabled
  kDisabled = 0x1F,
  kEnabled = 0x3F,
  kLocked = 0x83,
};
std::string_view name(IsdpState s);
/// nullopt for a byte that is none of the states above.
std::optional<IsdpState> isdp_state_from_byte(std::uint8_t b);

/// POL1 rules (SAIP ProfileHeader `pol`, SGP.02 §2.4.3): bit mask.
namespace pol1 {
inline constexpr std::uint8_t kDisableNotAllowed = 0x01;
inline constexpr std::uint8_t kDeleteNotAllowed = 0x02;
inline constexpr std::uint8_t kDeleteWhenDisabled = 0x04;  ///< delete the profile once disabled
inline constexpr std::uint8_t kAll = 0x07;
}  // namespace pol1

/// STORE DATA DGIs addressed to the ISD-R.
namespace dgi {
inline constexpr std::uint16_t kEnableProfile = 0x3A03;   ///< SGP.02 §4.1.1.2
inline constexpr std::uint16_t kDisableProfile = 0x3A04;  ///< SGP.02 §4.1.1.3
inline constexpr std::uint16_t kSetFallbackAttribute = 0x3A05;          ///< not confirmed
inline constexpr std::uint16_t kUpdateConnectivityParameters = 0x3A07;  ///< as bagyenda/njiwa's SM-SR
inline constexpr std::uint16_t kNotificationConfirmation = 0x3A08;      ///< not confirmed
inline constexpr std::uint16_t kSetEmergencyProfileAttribute = 0x3A09;  ///< not confirmed
inline constexpr std::uint16_t kUpdatePolicyRules = 0x3AF1;             ///< this project's
}  // namespace dgi

/// GET DATA objects the ISD-R / ECASD answer (P1 P2).
namespace data_tag {
inline constexpr std::uint16_t kEid = 0x005A;            ///< '5A' EID (16 bytes)
inline constexpr std::uint16_t kCardResources = 0xFF21;  ///< ETSI TS 102 226 §8.2.1.7.2
inline constexpr std::uint16_t kCertificate = 0x7F21;    ///< the ECASD's certificate (GP Amd. E)
}  // namespace data_tag

// --- the commands ---

/// CreateISDP (SGP.02 §4.1.1.1): INSTALL [for install and make selectable].
struct CreateIsdp {
  Bytes isdp_aid;
  std::optional<std::uint32_t> memory_quota;  ///< non-volatile quota 'C8' in the system parameters 'EF'
  bool operator==(const CreateIsdp&) const = default;
};
struct EnableProfile {
  Bytes isdp_aid;
  bool operator==(const EnableProfile&) const = default;
};
struct DisableProfile {
  Bytes isdp_aid;
  bool operator==(const DisableProfile&) const = default;
};
struct SetFallbackAttribute {
  Bytes isdp_aid;
  bool operator==(const SetFallbackAttribute&) const = default;
};
struct SetEmergencyProfileAttribute {
  Bytes isdp_aid;
  bool operator==(const SetEmergencyProfileAttribute&) const = default;
};
/// The connectivity parameters (SMS, CAT_TP, HTTP) of a profile, kept as the
/// TLVs received. Only coded: the SM-SR no longer sends it and the
/// simulated card's ISD-R refuses it (6A81); SGP.02 has the SM-DP send the
/// parameters secured for the ISD-P (m2m/es8_connectivity.hpp).
struct UpdateConnectivityParameters {
  Bytes isdp_aid;
  Bytes parameters;
  bool operator==(const UpdateConnectivityParameters&) const = default;
};
struct UpdatePolicyRules {
  Bytes isdp_aid;
  std::uint8_t pol1 = 0;
  bool operator==(const UpdatePolicyRules&) const = default;
};
/// The SM-SR acknowledges a notification (it leaves the card's queue).
struct ConfirmNotification {
  std::uint32_t seq_number = 0;
  bool operator==(const ConfirmNotification&) const = default;
};
/// DeleteProfile / DeleteISDP (SGP.02 §4.1.1.4): DELETE with the ISD-P AID.
struct DeleteProfile {
  Bytes isdp_aid;
  bool operator==(const DeleteProfile&) const = default;
};
/// Audit of the ISD-Ps: GET STATUS (P1 '40', TLV format); an empty filter
/// lists every ISD-P.
struct AuditIsdps {
  Bytes aid_filter;
  bool operator==(const AuditIsdps&) const = default;
};
/// GET DATA of one object (data_tag).
struct GetEuiccData {
  std::uint16_t tag = data_tag::kEid;
  bool operator==(const GetEuiccData&) const = default;
};

using IsdrCommand = std::variant<CreateIsdp, EnableProfile, DisableProfile, SetFallbackAttribute,
                                 SetEmergencyProfileAttribute, UpdateConnectivityParameters, UpdatePolicyRules,
                                 ConfirmNotification, DeleteProfile, AuditIsdps, GetEuiccData>;

/// A status word (SW1 SW2) the card answers instead of executing.
using StatusWord = std::uint16_t;

/// SM-SR side: the C-APDU for a command (GP class, `cla` 80 for channel 0).
/// Fails with 6A80 when a field cannot be coded (an AID outside 5..16
/// bytes, parameters too long for a short APDU).
expected<apdu::Command, StatusWord> build_command(const IsdrCommand& command, std::uint8_t cla = 0x80);
/// As build_command, encoded as bytes.
expected<Bytes, StatusWord> build_apdu(const IsdrCommand& command, std::uint8_t cla = 0x80);

/// Card side: the typed command in a C-APDU (secure messaging removed), or
/// the status word to answer: 6E00 not a GP class, 6D00 an instruction the
/// ISD-R does not take, 6A86 P1 P2 not used by SGP.02, 6700 / 6A80 a
/// malformed data field, 6A88 an unknown DGI, load file or data object.
expected<IsdrCommand, StatusWord> parse_command(const apdu::Command& apdu);

/// DELETE [key] of the ISD-R's key sets of one key version (GP Card Spec
/// v2.3 §11.2.2.3: data 'D2' key version number, no key identifier: every
/// key of that version): the SCP80 key set and the SCP81 PSK of the old
/// SM-SR at the end of an SM-SR change (SGP.02 §3.8). Not one of
/// IsdrCommand: the ISD-R takes it beside them. Not yet checked against the
/// SGP.02 text (which may name key identifiers too).
apdu::Command build_delete_key_set(std::uint8_t key_version, std::uint8_t cla = 0x80);
/// The key version a DELETE [key] names; nullopt when `c` is no such command.
std::optional<std::uint8_t> parse_delete_key_set(const apdu::Command& c);

// --- response data ---

/// One ISD-P as GET STATUS lists it: 'E3' { '4F' AID, '9F70' state,
/// '5A' ICCID when a profile is loaded, '53' attributes (b1 fallback,
/// b2 emergency; tag not confirmed against SGP.02), '81' POL1 (this project's) }.
struct IsdpStatus {
  Bytes isdp_aid;
  IsdpState state = IsdpState::kSelectable;
  Bytes iccid;  ///< 10 bytes, empty before a profile is loaded
  bool fallback = false;
  bool emergency = false;
  std::uint8_t pol1 = 0;
  bool operator==(const IsdpStatus&) const = default;
};
Bytes encode_isdp_status(const std::vector<IsdpStatus>& list);
/// Strict: every entry whole, no unknown tag; 6A80 otherwise.
expected<std::vector<IsdpStatus>, StatusWord> parse_isdp_status(ByteView data);

/// Extended card resources (ETSI TS 102 226 §8.2.1.7.2): 'FF21' { '81'
/// installed applications, '82' free non-volatile memory, '83' free volatile memory }.
struct CardResources {
  std::uint32_t installed_applications = 0;
  std::uint32_t free_non_volatile = 0;
  std::uint32_t free_volatile = 0;
  bool operator==(const CardResources&) const = default;
};
Bytes encode_card_resources(const CardResources& r);
expected<CardResources, StatusWord> parse_card_resources(ByteView data);

/// '5A' 10 <EID, 16 bytes BCD>.
Bytes encode_eid(ByteView eid);
expected<Bytes, StatusWord> parse_eid(ByteView data);

/// Notification types of the eUICC's notification to the SM-SR (SGP.02
/// §4.1.1.11, §3.x profile change and fallback; codings not confirmed).
enum class NotificationType : std::uint8_t {
  kEuiccDeclaration = 0x01,    ///< first network attach
  kProfileChangeSucceeded = 0x02,
  kProfileChangeFailedAndRollback = 0x03,
  kProfileChangeAfterFallback = 0x05,
};

/// The notification the card sends until the SM-SR confirms it: 'E1' {
/// '4C' EID, '4D' type, '4E' sequence number, '4F' the ISD-P now enabled }.
struct Notification {
  Bytes eid;
  NotificationType type = NotificationType::kProfileChangeSucceeded;
  std::uint32_t seq_number = 0;
  Bytes isdp_aid;
  bool operator==(const Notification&) const = default;
};
Bytes encode_notification(const Notification& n);
expected<Notification, StatusWord> parse_notification(ByteView data);

}  // namespace rsp::m2m
