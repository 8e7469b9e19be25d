#pragma once
/// The SM-SR's ES1 and ES4 in SGP.02's web services binding (SGP.02 v4.x §6:
/// SOAP with WS-Addressing), beside the JSON binding (http_service.hpp) and
/// on the same handlers: a SOAP request becomes the JSON request, runs the
/// same checks on the same Service, and the JSON answer becomes the SOAP
/// response, so both bindings answer a call alike. The message shapes are
/// published in docs/smsr.xsd and docs/smsr.wsdl.
///
/// One endpoint per interface, POST only, SOAP 1.1 or 1.2 (the answer in
/// the request's version):
///   /gsma/m2m/soap/ES1   ES1 (EUMs): RegisterEIS
///   /gsma/m2m/soap/ES4   ES4 (MNOs): GetEIS, AuditEIS, EnableProfile, ...
/// The function is chosen by wsa:Action, and the Body's element must be that
/// function's request: `ES4-EnableProfileRequest` in the GSMA namespace
/// below, its fields as elements named as SGP.02 §5.4 names them
/// (FunctionCallIdentifier, ValidityPeriod, Eid, Iccid ...; see the XSD).
/// The answer is `ES4-EnableProfileResponse` with FunctionExecutionStatus
/// (Status, StatusCodeData with SubjectCode, ReasonCode, Message: SGP.02
/// §5.1.6.1 / §5.1.6.2) and the function's output; its wsa:RelatesTo is the
/// request's wsa:MessageID, its wsa:Action the request's with "Response".
/// An accepted asynchronous function answers HTTP 202 with OperationId,
/// State and ValidUntil, and its result reaches the MNO later as a callback
/// (soap_callbacks.hpp), as over JSON.
///
/// What is not a usable SOAP request (not XML, a DTD or entity, not an
/// Envelope, no wsa:Action or wsa:MessageID, an unknown action, a body that
/// is not the action's request) is answered with a SOAP fault (Sender,
/// HTTP 400; SOAP 1.2 Part 2 §7.5.2), never a crash. A refusal by the
/// function itself is a response with Status Failed and its codes, as the
/// JSON binding answers it.
///
/// Not confirmed against the SGP.02 text (not at hand here; these follow
/// public SGP.02 implementations): the namespace, the action URIs and the
/// `ES4-...Request/Response` element names. The JSON binding's
/// GetOperation is offered here too (not an SGP.02 function).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/service/routes.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

inline constexpr std::string_view kSoapEs1Path = "/gsma/m2m/soap/ES1";
inline constexpr std::string_view kSoapEs4Path = "/gsma/m2m/soap/ES4";
/// The namespace of the GSMA messages (see above: not confirmed).
inline constexpr std::string_view kGsmaNs = "http://namespaces.gsma.org/esim-messaging/1";
/// wsa:Action of ES1.RegisterEIS and the prefix of the ES4 requests' actions
/// ("...ES4-EnableProfile"); a trailing "Request" is accepted too.
inline constexpr std::string_view kEs1RegisterEisAction = "http://gsma.com/ES1/eUICCManagement/ES1-RegisterEIS";
inline constexpr std::string_view kEs4ActionPrefix = "http://gsma.com/ES4/ProfileManagent/";
/// The prefix of the actions of the callbacks to the MNO.
inline constexpr std::string_view kEs4CallbackActionPrefix = "http://gsma.com/ES4/ProfileManagentCallBack/";

/// The routes of the two SOAP endpoints on `service` ("ES1.SOAP", "ES4.SOAP"
/// in the metrics); `roles` as for the JSON routes.
std::vector<service::Route> soap_routes(std::shared_ptr<Service> service, CallerRoles roles);

/// True for a path of the SOAP endpoints.
bool is_soap_path(std::string_view path);
/// The answer to an unauthenticated caller on a SOAP endpoint: a SOAP fault
/// (Sender), HTTP 401.
service::Reply soap_unauthenticated_reply(const net::Request& request);

}  // namespace rsp::smsr
