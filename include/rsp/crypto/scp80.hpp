#pragma once
/// ETSI TS 102 225 secured packets (SCP80) with AES or DES: the command packet
/// (§5.1.1) and the response packet (§5.1.2), with SPI / KIc / KID coded as in
/// TS 102 225 §5.1.1-§5.1.3 and TS 102 226. Ciphering is AES-CBC, DES-CBC or
/// triple DES in outer-CBC mode (two or three keys) with a zero ICV and zero
/// padding counted by PCNTR. The cryptographic checksum is AES-CMAC cut to its
/// 8 most significant bytes, or the DES/triple-DES CBC-MAC (8 bytes) over the
/// covered data zero-padded to a whole block; that padding is not sent unless
/// ciphering needs it too (TS 102 225 §5.1.3). DES in ECB mode, redundancy
/// checks (CRC) and digital signatures are not supported and are reported as
/// security errors. The PoR is protected with the command's KIc / KID.
///
/// The openers take untrusted bytes and fail with the response status code the
/// receiving entity must report in its PoR.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::crypto::scp80 {

/// SPI first octet b1-b2 / second octet b3-b4.
enum class Integrity : std::uint8_t { None = 0, RedundancyCheck = 1, CryptographicChecksum = 2, DigitalSignature = 3 };
/// SPI first octet b4-b5.
enum class CounterMode : std::uint8_t { None = 0, Available = 1, Higher = 2, OneHigher = 3 };
/// SPI second octet b1-b2.
enum class PorMode : std::uint8_t { None = 0, Always = 1, OnError = 2 };

/// Security Parameter Indicator (TS 102 225 §5.1.1).
struct Spi {
  Integrity integrity = Integrity::CryptographicChecksum;
  bool ciphering = true;
  CounterMode counter = CounterMode::None;
  PorMode por = PorMode::Always;
  Integrity por_integrity = Integrity::CryptographicChecksum;
  bool por_ciphered = true;
  bool por_via_sms_submit = false;

  std::array<std::uint8_t, 2> encode() const;
  /// Rejects reserved bits and the reserved PoR value '11'.
  static std::optional<Spi> decode(std::uint8_t first, std::uint8_t second);
  bool operator==(const Spi&) const = default;
};

/// KIc / KID octet for AES (b1-b2 = '10', mode '00' = CBC resp. CMAC) with key index 0..15.
constexpr std::uint8_t aes_key_identifier(std::uint8_t key_index) {
  return static_cast<std::uint8_t>(((key_index & 0x0F) << 4) | 0x02);
}

/// KIc / KID b3-b4 for DES (TS 102 225 §5.1.2, §5.1.3); Ecb is KIc only and
/// is refused by this implementation.
enum class DesMode : std::uint8_t { Cbc = 0, TripleDes2Key = 1, TripleDes3Key = 2, Ecb = 3 };

/// KIc / KID octet for DES (b1-b2 = '01') with key index 0..15.
constexpr std::uint8_t des_key_identifier(DesMode mode, std::uint8_t key_index) {
  return static_cast<std::uint8_t>(((key_index & 0x0F) << 4) | (static_cast<unsigned>(mode) << 2) | 0x01);
}

/// Response Status Codes of the response packet (TS 102 225 §5.1.2).
enum class Status : std::uint8_t {
  PorOk = 0x00,
  IntegrityFailed = 0x01,  ///< RC/CC/DS failed
  CounterLow = 0x02,
  CounterHigh = 0x03,
  CounterBlocked = 0x04,
  CipheringError = 0x05,
  SecurityError = 0x06,  ///< unidentified security error
  InsufficientMemory = 0x07,
  MoreTime = 0x08,
  TarUnknown = 0x09,
  InsufficientSecurityLevel = 0x0A,
  /// 3GPP TS 31.115 §7 adds two for SMS: the actual response data follows in
  /// an SMS-SUBMIT, resp. by USSD. Codes above are reserved.
  ResponseDataViaSmsSubmit = 0x0B,
  ResponseDataViaUssd = 0x0C,
};

struct Scp80Error {
  Status status;
  std::string message;
  /// True when the packet is too malformed to address a PoR to (no TAR).
  bool no_por = false;
};
template <class T>
using Scp80Result = expected<T, Scp80Error>;

/// Keys of one key set: AES (16, 24 or 32 bytes) or DES (8 bytes for DES,
/// 16 or 24 for triple DES, as KIc / KID say) (KIc for ciphering, KID for the checksum).
struct Keys {
  Bytes kic;
  Bytes kid;
  Keys() = default;
  Keys(Bytes c, Bytes d) : kic(std::move(c)), kid(std::move(d)) {}
  Keys(const Keys&) = default;
  Keys& operator=(const Keys&) = default;
  Keys(Keys&&) noexcept = default;
  Keys& operator=(Keys&&) noexcept = default;
  ~Keys();
};

using Tar = std::array<std::uint8_t, 3>;
inline constexpr std::uint64_t kMaxCounter = 0xFFFFFFFFFFULL;  // five octets

struct CommandHeader {
  Spi spi;
  std::uint8_t kic = aes_key_identifier(1);
  std::uint8_t kid = aes_key_identifier(1);
  Tar tar{};
  std::uint64_t counter = 0;
};

/// CPL || CHL || SPI || KIc || KID || TAR || [CNTR || PCNTR || CC || data || padding],
/// the bracket ciphered when the SPI asks for it.
Scp80Result<Bytes> build_command_packet(const CommandHeader& header, const Keys& keys,
                                        ByteView secured_data);

/// Looks up the keys for a TAR and KIc/KID; returns the status to report when
/// there are none (TarUnknown, SecurityError or InsufficientSecurityLevel).
using KeyLookup = std::function<expected<Keys, Status>(const Tar& tar, const Spi& spi,
                                                       std::uint8_t kic, std::uint8_t kid)>;

struct OpenedCommand {
  CommandHeader header;
  Bytes data;
};

/// Parses, deciphers and checks a command packet. `stored_counter` is the
/// receiving entity's counter for this key set; on success with a counter
/// mode other than None the caller stores `header.counter`. Checks run in the
/// order: structure, keys, deciphering, checksum, counter.
Scp80Result<OpenedCommand> open_command_packet(ByteView packet, const KeyLookup& keys,
                                               std::uint64_t stored_counter);

/// Counter rules of SPI b4-b5 (TS 102 225 §5.1.1); PorOk when acceptable.
Status check_counter(CounterMode mode, std::uint64_t received, std::uint64_t stored);

struct ResponseParams {
  Tar tar{};
  std::uint64_t counter = 0;  ///< the command's counter
  Status status = Status::PorOk;
  std::uint8_t kic = aes_key_identifier(1);  ///< the command's KIc
  std::uint8_t kid = aes_key_identifier(1);  ///< the command's KID
};

/// RPL || RHL || TAR || [CNTR || PCNTR || status || CC || data || padding],
/// protected per the command SPI's PoR bits. `cc_prefix` is transport data the
/// checksum also covers (TS 31.115: the SMS user data header, e.g. 02 71 00).
Scp80Result<Bytes> build_response_packet(const Spi& command_spi, const ResponseParams& params,
                                         const Keys& keys, ByteView additional_data,
                                         ByteView cc_prefix = {});

struct OpenedResponse {
  ResponseParams params;
  Bytes data;
};

/// Parses and checks a response packet against the command's SPI PoR bits
/// and its KIc / KID (the algorithms of the PoR).
Scp80Result<OpenedResponse> open_response_packet(ByteView packet, const CommandHeader& command,
                                                 const Keys& keys, ByteView cc_prefix = {});
/// The same for a command sent with AES key identifiers.
Scp80Result<OpenedResponse> open_response_packet(ByteView packet, const Spi& command_spi,
                                                 const Keys& keys, ByteView cc_prefix = {});

}  // namespace rsp::crypto::scp80
