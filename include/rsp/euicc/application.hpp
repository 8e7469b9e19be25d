#pragma once
/// The boundary between the card's APDU layer (ISO/IEC 7816-4, GlobalPlatform:
/// channels, SELECT, STORE DATA and response chaining) and the applications it
/// hosts (ISD-R, ECASD). The APDU layer reassembles a complete ES10 command
/// from STORE DATA blocks (SGP.22 §5.7.1: GlobalPlatform STORE DATA, P1 bit 8
/// = last block, P2 = block number) and hands it to the selected application;
/// the application's answer is returned through GET RESPONSE chaining.

#include <cstdint>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::euicc {

/// ISO/IEC 7816-4 §5.6 status words the card layers use.
namespace sw {
inline constexpr std::uint16_t kOk = 0x9000;
inline constexpr std::uint16_t kWrongLength = 0x6700;
inline constexpr std::uint16_t kLogicalChannelNotSupported = 0x6881;
inline constexpr std::uint16_t kSecurityStatusNotSatisfied = 0x6982;
inline constexpr std::uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kCommandNotAllowed = 0x6986;  ///< e.g. no application selected
inline constexpr std::uint16_t kWrongData = 0x6A80;
inline constexpr std::uint16_t kFunctionNotSupported = 0x6A81;
inline constexpr std::uint16_t kFileNotFound = 0x6A82;  ///< SELECT of an unknown AID
inline constexpr std::uint16_t kIncorrectP1P2 = 0x6A86;
inline constexpr std::uint16_t kReferencedDataNotFound = 0x6A88;
inline constexpr std::uint16_t kWrongP1P2 = 0x6B00;
inline constexpr std::uint16_t kInsNotSupported = 0x6D00;
inline constexpr std::uint16_t kClaNotSupported = 0x6E00;
inline constexpr std::uint16_t kNoPreciseDiagnosis = 0x6F00;
}  // namespace sw

/// An application reachable by SELECT (by AID) on any logical channel.
class Application {
 public:
  virtual ~Application() = default;

  /// The AID SELECT matches (ISD-R: A0000005591010FFFFFFFF8900000100).
  virtual ByteView aid() const = 0;

  /// The FCI returned to SELECT (ISO/IEC 7816-4 §5.3.3, tag 6F), may be empty.
  virtual Bytes select_response() { return {}; }

  /// One complete ES10 command (a whole TLV such as BF3E.., BF38..); returns
  /// the response TLV, or a status word when the card refuses the command
  /// itself (SGP.22 §5.7: malformed or unknown commands). `channel` lets an
  /// application keep per-channel state where SGP.22 requires it.
  virtual expected<Bytes, std::uint16_t> process(ByteView command, std::uint8_t channel) = 0;

  /// The channel was closed (MANAGE CHANNEL close) or the card was reset.
  virtual void on_deselect(std::uint8_t /*channel*/) {}
};

}  // namespace rsp::euicc
