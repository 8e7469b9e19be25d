#pragma once
/// SMPP 3.4 PDUs as values, encoded and decoded with Osmocom's libsmpp34
/// (only lib/smpp/pdu.cpp includes it). The framing (the 16-octet header,
/// SMPP 3.4 §3.2) and the guards that keep libsmpp34 away from input it
/// cannot take safely are ours.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/smpp/sms_transport.hpp"

namespace rsp::smpp {

/// command_id values (SMPP 3.4 §5.1.2.1).
enum class Command : std::uint32_t {
  GenericNack = 0x80000000,
  BindReceiver = 0x00000001,
  BindReceiverResp = 0x80000001,
  BindTransmitter = 0x00000002,
  BindTransmitterResp = 0x80000002,
  SubmitSm = 0x00000004,
  SubmitSmResp = 0x80000004,
  DeliverSm = 0x00000005,
  DeliverSmResp = 0x80000005,
  Unbind = 0x00000006,
  UnbindResp = 0x80000006,
  BindTransceiver = 0x00000009,
  BindTransceiverResp = 0x80000009,
  EnquireLink = 0x00000015,
  EnquireLinkResp = 0x80000015,
};

inline bool is_response(std::uint32_t command_id) { return (command_id & 0x80000000u) != 0; }

/// command_status values used here (SMPP 3.4 §5.1.3).
namespace status {
inline constexpr std::uint32_t kOk = 0x00;
inline constexpr std::uint32_t kInvalidMessageLength = 0x01;
inline constexpr std::uint32_t kInvalidCommandLength = 0x02;
inline constexpr std::uint32_t kInvalidCommandId = 0x03;
inline constexpr std::uint32_t kInvalidBindStatus = 0x04;
inline constexpr std::uint32_t kAlreadyBound = 0x05;
inline constexpr std::uint32_t kSystemError = 0x08;
inline constexpr std::uint32_t kInvalidDestination = 0x0B;
inline constexpr std::uint32_t kBindFailed = 0x0D;
inline constexpr std::uint32_t kInvalidPassword = 0x0E;
inline constexpr std::uint32_t kInvalidSystemId = 0x0F;
inline constexpr std::uint32_t kMessageQueueFull = 0x14;
inline constexpr std::uint32_t kThrottled = 0x58;
}  // namespace status

/// The PDU header (SMPP 3.4 §3.2): four big-endian 32-bit integers.
inline constexpr std::size_t kHeaderSize = 16;
/// The largest PDU we read: room for a 64 KiB message_payload (§5.3.2.32)
/// and the mandatory fields, so that no PDU an SMSC may send loses the framing
/// (our bound; SMPP 3.4 sets none).
inline constexpr std::size_t kMaxPduSize = 0x10000 + 0x400;

/// bind_transmitter / bind_receiver / bind_transceiver (SMPP 3.4 §4.1).
struct Bind {
  std::string system_id;    ///< ≤ 15 characters
  std::string password;     ///< ≤ 8 characters; a secret, never logged
  std::string system_type;  ///< ≤ 12 characters
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;  ///< ≤ 40 characters
};

/// The bind responses: the SMSC's system_id (SMPP 3.4 §4.1.2).
struct BindResp {
  std::string system_id;
};

/// submit_sm (§4.4.1) and deliver_sm (§4.6.1) share their mandatory fields.
struct SmBody {
  std::string service_type;
  ShortMessage message;
  std::uint8_t esm_class = 0;  ///< as on the wire; message.udhi mirrors bit 0x40
  std::uint8_t priority = 0;
  /// deliver_sm may carry its user data in message_payload (§5.3.2.32, up to
  /// 1024 octets here) instead of short_message: decode puts it in message.user_data.
  /// For receipts: receipted_message_id (§5.3.2.12) and message_state (§5.3.2.35).
  std::optional<std::string> receipted_message_id;
  std::optional<std::uint8_t> message_state;
};

/// submit_sm_resp (§4.4.2) and deliver_sm_resp (§4.6.2).
struct MessageIdResp {
  std::string message_id;
};

struct Pdu {
  std::uint32_t command_id = 0;
  std::uint32_t status = 0;
  std::uint32_t sequence = 0;
  /// monostate: a header-only PDU (enquire_link, unbind, generic_nack and
  /// their responses, or a response carrying an error status).
  std::variant<std::monostate, Bind, BindResp, SmBody, MessageIdResp> body;
};

struct PduError {
  enum class Kind {
    Framing,         ///< command_length below 16 or above kMaxPduSize: the stream is lost
    UnknownCommand,  ///< a command_id this side does not handle (answer generic_nack 0x03)
    Malformed,       ///< the body does not decode (answer generic_nack, or drop)
    Encode,          ///< a value that does not fit its field
  };
  Kind kind = Kind::Malformed;
  std::string message;
};

/// How many octets the PDU at the start of `buffer` has: 0 while fewer than
/// 16 octets are there, a Framing error for a command_length out of range.
expected<std::size_t, PduError> frame_length(ByteView buffer);

/// The header fields of a framed PDU (at least 16 octets).
Pdu read_header(ByteView pdu);

/// One whole PDU (exactly command_length octets) into its value.
expected<Pdu, PduError> decode(ByteView pdu);

/// A PDU value onto the wire; Encode error when a field is too long.
expected<Bytes, PduError> encode(const Pdu& pdu);

}  // namespace rsp::smpp
