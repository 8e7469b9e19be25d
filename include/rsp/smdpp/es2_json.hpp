#pragma once
/// The ES2+ JSON binding (SGP.22 §6.5.2.1-4), transport independent: an
/// HTTP server hands over the request path and body and sends back the
/// status and body returned here. The common header and the
/// functionExecutionStatus come from the messages component.
///
///   POST /gsma/rsp2/es2plus/downloadOrder   {header, eid?, iccid?, profileType?, orderExpiry?} -> {header, iccid}
///   POST /gsma/rsp2/es2plus/confirmOrder    {header, iccid, eid?, matchingId?, confirmationCode?,
///                                            smdsAddress?, releaseFlag, orderExpiry?}
///                                            -> {header, eid?, matchingId, smdpAddress}
///
/// orderExpiry (YYYY-MM-DDThh:mm:ssZ) is this SM-DP+'s extension, not an
/// SGP.22 v2.2.2 member: the time after which the order cannot be downloaded
/// (ES9+ 8.8.5 / 4.10).
///   POST /gsma/rsp2/es2plus/cancelOrder     {header, iccid, eid?, matchingId?,
///                                            finalProfileStatusIndicator: "Available"|"Unavailable"} -> {header}
///   POST /gsma/rsp2/es2plus/releaseProfile  {header, iccid} -> {header}
///
/// The operator is the header's functionRequesterIdentifier; when the
/// transport authenticated the caller (TLS client certificate), pass that
/// identity (TLS client certificate or API key, es2_auth.hpp) and a header
/// naming anyone else is refused (1.1/1.2).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rsp/messages/header.hpp"
#include "rsp/smdpp/es2_service.hpp"

namespace rsp::smdpp {

struct Es2DownloadOrder {
  DownloadOrderRequest request;
};
struct Es2ConfirmOrder {
  ConfirmOrderRequest request;
};
struct Es2CancelOrder {
  CancelOrderRequest request;
};
struct Es2ReleaseProfile {
  std::string iccid;
};

struct Es2Request {
  messages::RequestHeader header;
  std::variant<Es2DownloadOrder, Es2ConfirmOrder, Es2CancelOrder, Es2ReleaseProfile> function;
};

/// Decodes one request (strict: unknown members, wrong types and bad
/// values are refused with the status code the response carries).
SmdppResult<Es2Request> decode_es2_request(std::string_view path, std::string_view body);

struct Es2HttpResponse {
  int http_status = 200;  ///< 200 with a JSON body for every function outcome; 404 unknown path
  std::string body;
  /// A failed function's codes (already in the body), for metrics; empty on success.
  std::string subject_code;
  std::string reason_code;
  /// The failure's whole message, for the server's log (the body may carry less).
  std::string detail;
};

Es2HttpResponse handle_es2_request(Es2Service& service, std::string_view path, std::string_view body,
                                   const std::optional<std::string>& authenticated_operator = std::nullopt);

/// The response body for a failure (header only).
std::string es2_failure_body(const SmdppError& e);

}  // namespace rsp::smdpp
