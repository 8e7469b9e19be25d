#pragma once
/// The HTTP headers of the RAM over HTTP administration protocol
/// (GlobalPlatform Card Spec v2.2 Amendment B, the "administration protocol"
/// and its HTTP POST request / response): the card's admin agent POSTs to the
/// admin server with X-Admin-Protocol, X-Admin-From, the script status of the
/// previous script and, after an interruption, X-Admin-Resume; the server
/// answers 200 with the next script (X-Admin-Next-URI, optional
/// X-Admin-Targeted-Application) or 204 with no script, and without
/// X-Admin-Next-URI the session ends. Only the header codec is here, no HTTP.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/ota/error.hpp"

namespace rsp::ota {

inline constexpr std::string_view kAdminProtocol = "globalplatform-remote-admin/1.0";
inline constexpr std::string_view kContentTypeScript =
    "application/vnd.globalplatform.card-content-mgt;version=1.0";
inline constexpr std::string_view kContentTypeScriptResponse =
    "application/vnd.globalplatform.card-content-mgt-response;version=1.0";

/// X-Admin-Script-Status values: the four of Amendment B and the three its
/// later revisions add for admin agents reaching several secure elements.
enum class ScriptStatus {
  Ok,
  UnknownApplication,
  NotASecurityDomain,
  SecurityError,
  UnavailableSe,
  TemporarilyUnavailableApplication,
  ScriptFormatError,
};
std::string_view to_string(ScriptStatus s);
std::optional<ScriptStatus> parse_script_status(std::string_view text);

/// Header name and value, in order; names compare case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// The card's POST.
struct AdminRequest {
  std::string from;                          ///< X-Admin-From, the agent identifier
  std::optional<ScriptStatus> script_status; ///< X-Admin-Script-Status, after a script
  bool resume = false;                       ///< X-Admin-Resume: true
  bool has_body = false;                     ///< a script response follows (Content-Type set)
  bool operator==(const AdminRequest&) const = default;
};

/// The server's answer.
struct AdminResponse {
  std::optional<std::string> next_uri;       ///< X-Admin-Next-URI; none ends the session
  std::optional<Bytes> targeted_application; ///< X-Admin-Targeted-Application AID
  bool has_script = false;                   ///< 200 with a script, else 204
  bool operator==(const AdminResponse&) const = default;
};

Headers format_request_headers(const AdminRequest& request);
/// Strict: X-Admin-Protocol must be present and 1.0, X-Admin-From present,
/// a body only with the response content type, a known script status.
OtaResult<AdminRequest> parse_request_headers(const Headers& headers);

/// The status code (200 or 204) and headers of an answer.
int response_status(const AdminResponse& response);
Headers format_response_headers(const AdminResponse& response);
/// Strict: 200 needs the script content type, 204 none; other codes refused.
OtaResult<AdminResponse> parse_response_headers(int status, const Headers& headers);

/// "//aid/<RID>/<PIX>" with upper-case hex (RID the first five octets).
std::string format_aid_uri(ByteView aid);
/// Parses "//aid/<RID>/<PIX>": RID 5 octets, PIX 0..11 octets.
OtaResult<Bytes> parse_aid_uri(std::string_view text);

}  // namespace rsp::ota
