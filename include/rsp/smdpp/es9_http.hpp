#pragma once
/// ES9+ over HTTP/JSON (SGP.22 §6.1, §6.5): one transport-independent handler
/// for the five paths /gsma/rsp2/es9plus/<function>. The HTTPS server calls it
/// with the request path and body and sends back what it returns.
///
/// Semantics (SGP.22 §6.5.1, §6.5.2):
///  - a function's outcome is always HTTP 200 with a JSON body whose header
///    carries functionExecutionStatus; a failure is status "Failed" with the
///    Server's subject/reason codes; a malformed request (JSON, base64, hex,
///    DER, unknown or missing members) is Failed 1.2/2.1 (2.2 when a mandatory
///    member is missing), never an HTTP error;
///  - handleNotification answers 204 without a body once the request is
///    understood (whether or not the notification verified: the LPA removes
///    it either way); `error` says what happened;
///  - an unknown path answers 404 without a body.
/// Nothing escapes as an exception.

#include <optional>
#include <string>
#include <string_view>

#include "rsp/messages/es9_json.hpp"
#include "rsp/smdpp/error.hpp"
#include "rsp/smdpp/server.hpp"

namespace rsp::smdpp {

struct Es9HttpResponse {
  int status = 200;
  std::string content_type;  ///< "application/json;charset=UTF-8", empty without a body
  std::string body;
  /// Set when the function failed (for logs and metrics; already in the body).
  std::optional<SmdppError> error;
  /// The function the path named (nullopt for an unknown path).
  std::optional<messages::es9::Function> function;
};

/// `peer`: the caller's network address (bounds its unauthenticated sessions).
Es9HttpResponse handle_es9(Server& server, std::string_view path, std::string_view body,
                           std::string_view peer = {});

}  // namespace rsp::smdpp
