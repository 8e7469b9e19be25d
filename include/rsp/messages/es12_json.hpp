#pragma once
/// ES12 (SM-DP+ -> SM-DS, and SM-DS -> SM-DS when an event is forwarded;
/// SGP.22 v2.2.2 §5.7) in the SGP.22 JSON binding (§6.5): RegisterEvent
/// (EID, rspServerAddress, eventId, forwardingIndicator) and DeleteEvent
/// (EID, eventId); both answer a header only. The caller is the client of
/// the mutual TLS connection (§2.6.6), so the bodies name no registrar.
///
/// Not confirmed against the spec's JSON text: the member names follow the
/// function's input data in §5.7.1 / §5.7.2 in the binding's camel case.

#include <optional>
#include <string>
#include <string_view>

#include "rsp/messages/error.hpp"
#include "rsp/messages/header.hpp"

namespace rsp::messages::es12 {

inline constexpr std::string_view kRegisterEventPath = "/gsma/rsp2/es12/registerEvent";
inline constexpr std::string_view kDeleteEventPath = "/gsma/rsp2/es12/deleteEvent";

/// Longest eventId and rspServerAddress accepted (the spec gives no bound).
inline constexpr std::size_t kMaxEventText = 255;

struct RegisterEventRequest {
  std::optional<RequestHeader> header;
  std::string eid;                  ///< 32 decimal digits (SGP.29)
  std::string rsp_server_address;   ///< FQDN of the SM-DP+ (or SM-DS) holding the event
  std::string event_id;
  bool forwarding_indicator = false;  ///< forward the event to the next SM-DS (§3.6)
  bool operator==(const RegisterEventRequest&) const = default;
};

struct DeleteEventRequest {
  std::optional<RequestHeader> header;
  std::string eid;
  std::string event_id;
  bool operator==(const DeleteEventRequest&) const = default;
};

std::string encode_request(const RegisterEventRequest& r);
std::string encode_request(const DeleteEventRequest& r);
/// Strict: a JSON object with exactly these members, an EID of 32 digits, a
/// non-empty eventId and address of at most kMaxEventText characters.
Result<RegisterEventRequest> decode_register_event_request(std::string_view body);
Result<DeleteEventRequest> decode_delete_event_request(std::string_view body);

}  // namespace rsp::messages::es12
