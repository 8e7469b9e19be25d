#pragma once
/// The SM-SR's SMS wake-up (SGP.02 §2.4.3 / §2.4.4; GP Amendment B): an MT
/// short message carrying an SCP80 command packet (ETSI TS 102 225 §5.1.1,
/// over SMS per 3GPP TS 31.115 §4.2, concatenated when longer than one SMS)
/// to the ISD-R's TAR, secured with one of the EIS's ISD-R key sets (AES or 3DES),
/// holding either the HTTPS administration-session trigger or an expanded
/// command script for a short operation.
///
/// Counters: when the SPI asks for a counter, `CounterSource` gives the next
/// value for the eUICC's key set and must have stored it durably before it
/// returns, so a counter is never used twice, even when the SMS is lost or
/// the SM-SR restarts. Nothing is sent when it fails.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/scp80.hpp"
#include "rsp/es5/error.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/ota/trigger.hpp"
#include "rsp/smpp/sms_transport.hpp"

namespace rsp::es5 {

/// Where a wake-up goes and how it is secured (from the EIS).
struct WakeUpTarget {
  std::string eid;
  smpp::Address msisdn;  ///< the subscription address of the enabled profile
  std::uint8_t key_version = 1;  ///< the ISD-R SCP80 key set (KIc / KID key index)
  crypto::scp80::Keys keys;
  /// The key set's algorithm: AES (CBC / CMAC), or triple DES in outer-CBC
  /// mode with two or three keys as the key length says (TS 102 225 §5.1.2,
  /// §5.1.3 KIc / KID b1-b4).
  bool triple_des = false;
  crypto::scp80::Tar tar = m2m::kIsdRTar;
  /// A counter for this key set that the caller has stored durably already
  /// (e.g. reserved with the operation that asks for the wake-up): used as
  /// is, CounterSource is not asked. Unset: CounterSource gives it.
  std::optional<std::uint64_t> counter;
  /// Default: checksum and ciphering, counter must be higher, no PoR.
  crypto::scp80::Spi spi{crypto::scp80::Integrity::CryptographicChecksum, true,
                         crypto::scp80::CounterMode::Higher, crypto::scp80::PorMode::None,
                         crypto::scp80::Integrity::CryptographicChecksum, true, false};
};

/// The next counter for (eid, key version), stored before it returns; an
/// error text (no key material) when it could not be.
using CounterSource = std::function<expected<std::uint64_t, std::string>(const std::string& eid,
                                                                         std::uint8_t key_version)>;

struct WakeUpOptions {
  smpp::Address source;  ///< the SM-SR's own address
  bool delivery_receipt = false;
};

class WakeUpSender {
 public:
  WakeUpSender(smpp::SmsTransport& transport, CounterSource counters, WakeUpOptions options = {});

  /// Sends the administration-session trigger; the SMSC's message ids, one per SMS.
  Es5Result<std::vector<std::string>> send_trigger(const WakeUpTarget& target,
                                                   const ota::AdminSessionTrigger& trigger);
  /// Sends C-APDUs as an expanded command script ('AA') over SMS.
  Es5Result<std::vector<std::string>> send_script(const WakeUpTarget& target, const std::vector<Bytes>& c_apdus);
  /// Sends `secured_data` as is.
  Es5Result<std::vector<std::string>> send(const WakeUpTarget& target, ByteView secured_data);

 private:
  smpp::SmsTransport& transport_;
  CounterSource counters_;
  WakeUpOptions options_;
  std::atomic<std::uint16_t> concat_reference_{0};
};

}  // namespace rsp::es5
