#pragma once
/// The GlobalPlatform commands a security domain (an M2M ISD-R, SGP.02)
/// receives, as typed messages decoded from and encoded to command APDUs
/// (GP Card Spec v2.3 §11): INSTALL, DELETE, PUT KEY, STORE DATA, GET STATUS,
/// GET DATA, SET STATUS; and ENVELOPE (ETSI TS 102 221 §11.2.2) carrying an
/// SMS-PP data download (ETSI TS 102 223 §7.1.1).
///
/// Every decoder reads untrusted bytes: it never reads past its input and
/// answers a GpError that maps to the status word a card answers.

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::card::gp {

/// GP Card Spec v2.3 §11.1.2 table 11-1 (and TS 102 221 for ENVELOPE).
namespace ins {
inline constexpr std::uint8_t kDelete = 0xE4;
inline constexpr std::uint8_t kInstall = 0xE6;
inline constexpr std::uint8_t kPutKey = 0xD8;
inline constexpr std::uint8_t kStoreData = 0xE2;
inline constexpr std::uint8_t kGetStatus = 0xF2;
inline constexpr std::uint8_t kGetDataCA = 0xCA;
inline constexpr std::uint8_t kGetDataCB = 0xCB;
inline constexpr std::uint8_t kSetStatus = 0xF0;
inline constexpr std::uint8_t kEnvelope = 0xC2;
}  // namespace ins

/// Why command bytes are not a valid GP command; each maps to a status word.
enum class GpError : std::uint8_t {
  kWrongLength,       ///< 6700: a length field disagrees with the data
  kWrongData,         ///< 6A80: malformed data field
  kIncorrectP1P2,     ///< 6A86: P1 P2 not defined for the command
  kInsNotSupported,   ///< 6D00: not a command of this set
  kClaNotSupported,   ///< 6E00: not a GlobalPlatform class
};

std::uint16_t status_word(GpError e);
std::string_view message(GpError e);

/// INSTALL (§11.5). One P1 bit per role; [for install] and [for make
/// selectable] may come together (P1 0C).
struct Install {
  static constexpr std::uint8_t kForLoad = 0x02;
  static constexpr std::uint8_t kForInstall = 0x04;
  static constexpr std::uint8_t kForMakeSelectable = 0x08;
  static constexpr std::uint8_t kForExtradition = 0x10;
  static constexpr std::uint8_t kForPersonalization = 0x20;
  static constexpr std::uint8_t kForRegistryUpdate = 0x40;

  std::uint8_t p1 = kForInstall;  ///< without the b8 "more INSTALL commands" bit
  bool more_commands = false;     ///< P1 b8
  Bytes load_file_aid;            ///< [for install]: Executable Load File AID
  Bytes module_aid;               ///< [for install]: Executable Module AID
  Bytes application_aid;          ///< the application (instance) AID
  Bytes privileges;               ///< 1 or 3 bytes (§11.1.2), empty for personalization
  Bytes parameters;               ///< install parameters field (C9 ... / EF ...)
  Bytes token;                    ///< install token, usually empty
  bool operator==(const Install&) const = default;
};

/// DELETE (§11.2): the object's AID (tag 4F), and its related objects with P2 80.
struct Delete {
  Bytes aid;
  bool related_objects = false;  ///< P2 80
  Bytes control_reference;       ///< optional B6 template, as received
  Bytes token;                   ///< optional 9E delete token
  bool operator==(const Delete&) const = default;
};

/// One key data field of PUT KEY (§11.8.2.3): type, key data, check value.
struct KeyComponent {
  std::uint8_t type = 0x88;  ///< 88 AES (§11.1.8)
  Bytes data;                ///< for AES: length of the key, then the key (encrypted under the DEK)
  Bytes check_value;         ///< KCV, may be empty
  bool operator==(const KeyComponent&) const = default;
};

/// PUT KEY (§11.8): P1 the key version to replace (00: add), P2 the first key
/// identifier (b8: several keys); data: the new key version, then the keys.
struct PutKey {
  std::uint8_t old_version = 0;
  bool more_commands = false;  ///< P1 b8
  std::uint8_t key_id = 1;
  bool multiple_keys = false;  ///< P2 b8
  std::uint8_t new_version = 0;
  std::vector<KeyComponent> keys;
  bool operator==(const PutKey&) const = default;
};

/// STORE DATA (§11.11): one block.
struct StoreData {
  bool last_block = true;        ///< P1 b8
  std::uint8_t encryption = 0;   ///< P1 b7-b6: 0 none, 1 application dependent, 3 encrypted
  std::uint8_t structure = 0;    ///< P1 b5-b4: 0 none, 1 DGI, 2 BER-TLV
  std::uint8_t other_bits = 0;   ///< P1 b3-b1 as received (SGP.22's 11 / 91 set b1)
  std::uint8_t block_number = 0; ///< P2
  Bytes data;
  bool operator==(const StoreData&) const = default;
};

/// GET STATUS (§11.4): which registry entries, matched by the search criteria.
struct GetStatus {
  static constexpr std::uint8_t kIssuerSecurityDomain = 0x80;
  static constexpr std::uint8_t kApplications = 0x40;
  static constexpr std::uint8_t kLoadFiles = 0x20;
  static constexpr std::uint8_t kLoadFilesAndModules = 0x10;
  std::uint8_t subset = kApplications;  ///< P1
  bool next_occurrence = false;         ///< P2 b1
  bool tlv_format = true;               ///< P2 b2 (the legacy format otherwise)
  Bytes aid_filter;                     ///< search criteria 4F (empty: every AID)
  Bytes tag_list;                       ///< optional 5C
  bool operator==(const GetStatus&) const = default;
};

/// GET DATA (§11.3): the object's tag in P1 P2 (e.g. 0066, 00E0, 9F7F).
struct GetData {
  bool odd_ins = false;  ///< INS CB (a data field may follow)
  std::uint16_t tag = 0;
  Bytes data;
  bool operator==(const GetData&) const = default;
};

/// SET STATUS (§11.10): P1 the status type, P2 the state control, data the
/// AID (empty for the ISD).
struct SetStatus {
  static constexpr std::uint8_t kIssuerSecurityDomain = 0x80;
  static constexpr std::uint8_t kApplicationOrSd = 0x40;
  static constexpr std::uint8_t kSdAndItsApplications = 0x60;
  std::uint8_t status_type = kApplicationOrSd;
  std::uint8_t state_control = 0;
  Bytes aid;
  bool operator==(const SetStatus&) const = default;
};

/// ENVELOPE (TS 102 221 §11.2.2) holding an SMS-PP data download (TS 102 223
/// §7.1.1, BER-TLV tag D1): device identities, an optional address and the
/// SMS TPDU (an SMS-DELIVER whose user data holds the secured packet).
struct Envelope {
  static constexpr std::uint8_t kSmsPpDownload = 0xD1;
  std::uint8_t tag = kSmsPpDownload;  ///< the BER-TLV tag (D1 for SMS-PP)
  Bytes device_identities;            ///< value of COMPREHENSION-TLV 02 (source, destination)
  std::optional<Bytes> address;       ///< value of 06
  Bytes tpdu;                         ///< value of 0B
  bool operator==(const Envelope&) const = default;
};

using Command = std::variant<Install, Delete, PutKey, StoreData, GetStatus, GetData, SetStatus, Envelope>;

/// Decodes a command APDU (CLA already checked for channel, the secure
/// messaging already removed) into its typed GP command.
expected<Command, GpError> decode(const apdu::Command& apdu);

/// Encodes a typed command as a command APDU with CLA `cla` (80: GP class,
/// channel 0) and Le 00 where the command returns data.
expected<apdu::Command, GpError> encode(const Command& command, std::uint8_t cla = 0x80);

}  // namespace rsp::card::gp
