#pragma once
/// An ES12 client (SGP.22 v2.2.2 §5.7): RegisterEvent / DeleteEvent posted
/// to an SM-DS over mutual TLS with the caller's certificate. The SM-DS
/// forwards events with it from its outbox (§3.6); the SM-DP+'s registration
/// on ConfirmOrder can send the same bodies (rsp/messages/es12_json.hpp).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/service/outbox.hpp"

namespace rsp::smds {

struct Es12ClientConfig {
  std::vector<Bytes> trust_anchors;        ///< roots of the SM-DS's TLS certificate
  std::optional<net::TlsIdentity> identity;  ///< the caller's client certificate and key
  std::chrono::milliseconds timeout{10000};
  /// Connect to this address instead of the URL's host (tests, pinned hosts).
  std::string connect_to;
};

/// POSTs `request_json` to `base_url` + `path`; success when the SM-DS
/// answered its function executed. The error names the code, never a key.
expected<void, std::string> es12_call(const Es12ClientConfig& config, const std::string& base_url,
                                      std::string_view path, const std::string& request_json);

/// The outbox sender of forwarded calls (Server's forward_body entries).
service::OutboxSender forward_sender(Es12ClientConfig config);

}  // namespace rsp::smds
