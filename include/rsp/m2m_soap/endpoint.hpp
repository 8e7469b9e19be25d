#pragma once
/// One SOAP endpoint of SGP.02's web services binding (SGP.02 v4.x §6: SOAP
/// with WS-Addressing) in front of the JSON binding of the same interface,
/// on the same handler: a SOAP request becomes the JSON request, the JSON
/// handler runs the same checks on the same service, and its JSON answer
/// becomes the SOAP response, so both bindings answer a call alike. The
/// SM-SR serves ES1, ES3, ES4 and ES7 this way (rsp/smsr/soap_service.hpp),
/// the SM-DP ES2 (rsp/smdp/soap_service.hpp).
///
/// POST only, SOAP 1.1 or 1.2 (the answer in the request's version). The
/// function is chosen by wsa:Action: the endpoint's action prefix and the
/// function's message name ("http://gsma.com/ES2/ProfileManagent/" +
/// "ES2-DownloadProfile"; a trailing "Request" is accepted too), and the
/// Body's element must be that function's request (`ES2-DownloadProfileRequest`
/// in the GSMA namespace, messages.hpp). The answer is
/// `ES2-DownloadProfileResponse` with FunctionExecutionStatus (Status,
/// StatusCodeData with SubjectCode, ReasonCode, Message: SGP.02 §5.1.6.1 /
/// §5.1.6.2) and the function's output (the JSON answer's members); its
/// wsa:RelatesTo is the request's wsa:MessageID, its wsa:Action the
/// request's with "Response". The HTTP status is the JSON binding's (202 for
/// an accepted asynchronous function, 503 when the state could not be written).
///
/// What is not a usable SOAP request (not XML, a DTD or entity, not an
/// Envelope, no wsa:Action or wsa:MessageID, the wrong Content-Type, an
/// unknown action, a body that is not the action's request) is answered
/// with a SOAP fault (Sender, HTTP 400; SOAP 1.1: 500; SOAP 1.2 Part 2
/// §7.5.2), never a crash. A caller not allowed, or a body that does not map
/// to the JSON request (an element outside the GSMA namespace, mixed
/// content), is a response with Status Failed and its codes (1.2/1.2 or
/// 1.6/2.1, m2m/es_status.hpp), as the JSON binding answers it; a refusal by
/// the function itself is the JSON binding's, in the response.

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/service/routes.hpp"

namespace rsp::m2m_soap {

/// The JSON binding's handler of a function: the function (its index in
/// Endpoint::functions), the JSON request body, the authenticated caller's
/// id (one of Endpoint::callers); the JSON binding's reply.
using JsonHandler = std::function<service::Reply(std::size_t function, std::string_view json_body,
                                                 const std::string& caller)>;

struct Endpoint {
  std::string metric;         ///< the route's name in the metrics ("ES2.SOAP")
  std::string path;           ///< "/gsma/m2m/soap/ES2"
  std::string action_prefix;  ///< "http://gsma.com/ES2/ProfileManagent/"
  /// The functions by their dotted names ("ES2.GetEIS"), in the order the
  /// handler numbers them.
  std::vector<std::string> functions;
  std::set<std::string> callers;  ///< who may call this endpoint
  std::string not_allowed;        ///< the refusal's message for anyone else ("ES2 is for MNOs")
  JsonHandler json;
};

/// The route of `endpoint` (service kit, rsp/service/routes.hpp).
service::Route route(Endpoint endpoint);

/// The message name of a dotted function name: "ES2.GetEIS" -> "ES2-GetEIS".
std::string message_name(std::string_view dotted);

/// The answer to an unauthenticated caller on a SOAP endpoint: a SOAP fault
/// (Sender), HTTP 401 with WWW-Authenticate.
service::Reply unauthenticated_reply(const net::Request& request);

}  // namespace rsp::m2m_soap
