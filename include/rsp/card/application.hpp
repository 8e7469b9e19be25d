#pragma once
/// The boundary between the card's APDU layer (ISO/IEC 7816-4, GlobalPlatform
/// Card Spec v2.3: ATR, logical channels, SELECT, GET RESPONSE chaining and
/// the secure channel) and the applications it hosts (ISD-R, ECASD, security
/// domains). An application receives every command APDU addressed to it on a
/// channel where it is selected, already unwrapped when it arrived under
/// secure messaging; what it answers goes back through GET RESPONSE chaining.
/// ES10 applications sit on Es10Application (es10_application.hpp), which
/// turns STORE DATA sequences into whole ES10 commands.

#include <cstdint>

#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/common/bytes.hpp"

namespace rsp::card {

struct Scp03KeySet;

/// One command APDU as an application receives it.
struct ApduCommand {
  apdu::Command apdu;        ///< CLA INS P1 P2, data (plain text) and Le
  std::uint8_t channel = 0;  ///< the logical channel it arrived on (0..19)
  bool proprietary = false;  ///< GlobalPlatform class (CLA b8 = 1)
  /// The secure-channel protection it was received under (GP Card Spec v2.3
  /// §10.6 security level bits: 01 C-MAC, 02 C-DECRYPTION, 10 R-MAC,
  /// 20 R-ENCRYPTION); 0 when it came in plain.
  std::uint8_t security_level = 0;
};

/// An application reachable by SELECT (by AID) on any logical channel.
class Application {
 public:
  virtual ~Application() = default;

  /// The AID SELECT matches (ISD-R: A0000005591010FFFFFFFF8900000100).
  virtual ByteView aid() const = 0;

  /// The FCI returned to SELECT (ISO/IEC 7816-4 §5.3.3, tag 6F), may be empty.
  virtual Bytes select_response() { return {}; }

  /// Called on every successful SELECT of this application on `channel`
  /// (also when it was already selected there), before select_response().
  virtual void on_select(std::uint8_t /*channel*/) {}

  /// One command APDU other than SELECT, MANAGE CHANNEL and GET RESPONSE
  /// (which the card handles). The answer's data goes back with 61xx
  /// chaining when its status is 9000; any other status word is returned
  /// with the data as it is (an error status normally carries none).
  virtual apdu::Response process(const ApduCommand& command) = 0;

  /// The secure-channel hook (GP Card Spec v2.3 §10): the SCP03 key set with
  /// `key_version` (00: the application's default) when this application is
  /// a security domain that opens secure channels; the card then answers
  /// INITIALIZE UPDATE and EXTERNAL AUTHENTICATE for it and unwraps CLA 84
  /// commands before process() sees them. Default: none (INITIALIZE UPDATE
  /// goes to process(), CLA 84 answers 6882).
  virtual const Scp03KeySet* scp03_key_set(std::uint8_t /*key_version*/) const { return nullptr; }

  /// The channel was closed (MANAGE CHANNEL close), another application was
  /// selected on it, or the card was reset.
  virtual void on_deselect(std::uint8_t /*channel*/) {}
};

}  // namespace rsp::card
