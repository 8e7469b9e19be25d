#pragma once
/// An ES12 client (SGP.22 v2.2.2 §5.7): RegisterEvent / DeleteEvent posted
/// to an SM-DS over mutual TLS with the caller's certificate. Both callers
/// send through it from their durable outboxes: the SM-DP+ registering and
/// deleting the events of its orders (§3.6.1, §3.6.2), and an SM-DS
/// forwarding an event to the next one (§3.6). An outbox entry's body is
/// the ES12 path with the request (outbox_body), its destination the SM-DS's
/// base URL.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/messages/error.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/service/outbox.hpp"

namespace rsp::es12 {

/// ES12.DeleteEvent's answer for an event the SM-DS does not hold for this
/// caller (§5.7.2: 8.9.5 Event Record, 3.9 Unknown; the pair as rsp/smds
/// answers it, not confirmed against the spec's table).
inline constexpr messages::StatusCode kEventUnknown{"8.9.5", "3.9"};

struct ClientConfig {
  std::vector<Bytes> trust_anchors;          ///< roots of the SM-DS's TLS certificate
  std::optional<net::TlsIdentity> identity;  ///< the caller's client certificate and key
  std::chrono::milliseconds timeout{10000};
  /// Connect to this address instead of the URL's host (tests, pinned hosts).
  std::string connect_to;
  std::string user_agent = "rsp-es12/0.1";
};

/// Why a call failed: the SM-DS's subject/reason code when it refused the
/// function (empty when it never answered one), and a text for the log that
/// names no key.
struct CallError {
  std::string subject_code;  ///< empty when the SM-DS answered no code
  std::string reason_code;
  std::string message;
  bool is(messages::StatusCode c) const { return subject_code == c.subject && reason_code == c.reason; }
};

/// POSTs `request_json` to `base_url` + `path`; success when the SM-DS
/// answered its function executed.
expected<void, CallError> call(const ClientConfig& config, const std::string& base_url, std::string_view path,
                               const std::string& request_json);

/// The outbox entry body of an ES12 call: the path and the request.
std::string outbox_body(std::string_view path, const std::string& request_json);

/// The outbox sender of outbox_body entries, the destination being the
/// SM-DS's base URL. With `deleted_is_done`, a DeleteEvent the SM-DS answers
/// with `event_unknown` counts as delivered: the event is gone either way
/// (a retry after a lost answer, or an event the SM-DS never took).
service::OutboxSender outbox_sender(ClientConfig config,
                                    std::optional<messages::StatusCode> event_unknown = std::nullopt);

}  // namespace rsp::es12
