#pragma once
/// How short messages travel: one interface for the SM-SR (sending MT wake-ups)
/// and for the simulated device (receiving MT, sending MO proofs of receipt),
/// whether the SMSC is in-process (loopback) or reached over SMPP 3.4.

#include <cstdint>
#include <functional>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::smpp {

/// An SME address: digits plus the type of number and numbering plan
/// (SMPP 3.4 §5.2.5 addr_ton, §5.2.6 addr_npi).
struct Address {
  std::string digits;  ///< digits (letters too when ton is 5, alphanumeric)
  std::uint8_t ton = 1;  ///< 1 = international
  std::uint8_t npi = 1;  ///< 1 = ISDN (E.163/E.164)
  bool operator==(const Address&) const = default;
};

/// TP-PID "(U)SIM data download" (3GPP TS 23.040 §9.2.3.9).
inline constexpr std::uint8_t kPidSimDataDownload = 0x7F;
/// TP-DCS 1111 0110: 8-bit data, message class 2 (SIM specific) (3GPP TS 23.038 §4).
inline constexpr std::uint8_t kDcs8BitClass2 = 0xF6;
/// TP-DCS 0000 0100: 8-bit data, no message class (3GPP TS 23.038 §4).
inline constexpr std::uint8_t kDcs8Bit = 0x04;
/// esm_class bit: the user data begins with a user data header (SMPP 3.4 §5.2.12).
inline constexpr std::uint8_t kEsmUdhi = 0x40;
/// esm_class message type "SMSC delivery receipt" (SMPP 3.4 §5.2.12, bits 5-2 = 0001).
inline constexpr std::uint8_t kEsmDeliveryReceipt = 0x04;
/// The most user data one short message carries: 140 octets of 8-bit data (3GPP TS 23.040 §9.2.3.16).
inline constexpr std::size_t kMaxUserData = 140;

/// One short message, MT or MO.
struct ShortMessage {
  Address source;
  Address destination;
  std::uint8_t protocol_id = 0;
  std::uint8_t data_coding = 0;
  bool udhi = false;  ///< user_data starts with a UDH (esm_class 0x40)
  /// SMPP 3.4 §5.2.17: bit 0 set asks for an SMSC delivery receipt.
  std::uint8_t registered_delivery = 0;
  Bytes user_data;  ///< TP-UD as sent: the UDH included when udhi
  bool operator==(const ShortMessage&) const = default;
};

/// The final or intermediate state a delivery receipt reports (SMPP 3.4 §5.2.28
/// message_state and the "stat:" words of Appendix B), in the order of the
/// message_state values 1 to 8.
enum class DeliveryState { Enroute, Delivered, Expired, Deleted, Undeliverable, Accepted, Unknown, Rejected };

/// "DELIVRD", "UNDELIV", ... as in an Appendix B receipt.
const char* state_word(DeliveryState s);

/// An SMSC delivery receipt for a message this endpoint submitted.
struct DeliveryReceipt {
  std::string message_id;  ///< the id submit returned
  DeliveryState state = DeliveryState::Unknown;
  std::uint32_t error = 0;  ///< "err:" (network specific)
  Address recipient;        ///< the original destination
};

struct SmsError {
  enum class Kind {
    InvalidArgument,  ///< a message that cannot be sent as given (too long, bad address)
    Unavailable,      ///< no SMSC connection within the submission's wait bound
    Timeout,          ///< the SMSC did not answer the request in time
    Rejected,         ///< the SMSC answered with an error status (smpp_status)
    BindFailed,       ///< the SMSC refused the bind (smpp_status, e.g. 0x0E invalid password)
    Protocol,         ///< the peer broke SMPP framing or sent a malformed PDU
    Stopped,          ///< the transport was stopped
  };
  Kind kind = Kind::InvalidArgument;
  std::string message;
  std::uint32_t smpp_status = 0;  ///< SMPP 3.4 §5.1.3 command_status, when the SMSC gave one
};

const char* kind_name(SmsError::Kind kind);

template <class T>
using SmsResult = expected<T, SmsError>;

inline unexpected<SmsError> sms_error(SmsError::Kind kind, std::string message, std::uint32_t status = 0) {
  return unexpected(SmsError{kind, std::move(message), status});
}

/// What arrives for this endpoint: short messages addressed to it (SMPP
/// deliver_sm, the device's MT or the server's MO) and delivery receipts.
/// Handlers run on the transport's own thread, one at a time, in arrival order.
struct Inbound {
  std::function<void(const ShortMessage&)> on_message;
  std::function<void(const DeliveryReceipt&)> on_receipt;
};

class SmsTransport {
 public:
  virtual ~SmsTransport() = default;
  /// Hands a message to the SMSC; the SMSC's message id, or why not.
  virtual SmsResult<std::string> submit(const ShortMessage& msg) = 0;
  /// Sets the handlers for what arrives; call before traffic is expected.
  virtual void set_inbound(Inbound inbound) = 0;
  /// Stops delivery to the handlers; later submissions fail with Stopped.
  virtual void stop() = 0;
};

/// The checks every transport applies before accepting a message.
SmsResult<void> validate(const ShortMessage& msg);

}  // namespace rsp::smpp
