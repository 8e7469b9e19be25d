#pragma once
/// The M2M SM-DP's ES2 (SGP.02 v4.x §5.3) in SGP.02's web services binding
/// (§6: SOAP with WS-Addressing), beside the JSON binding (es2_http.hpp) and
/// on the same handler: rsp/m2m_soap/endpoint.hpp says how a SOAP call
/// becomes the JSON call and its answer the SOAP response, and how what is
/// not a usable request is answered. The message shapes are published in
/// docs/smdp.xsd and docs/smdp.wsdl.
///
///   /gsma/m2m/soap/ES2   ES2 (MNOs): GetEIS, DownloadProfile,
///                        UpdatePolicyRules, UpdateSubscriptionAddress,
///                        AuditEIS, EnableProfile, DisableProfile, DeleteISDP
///
/// wsa:Action "http://gsma.com/ES2/ProfileManagent/ES2-DownloadProfile" (a
/// trailing "Request" accepted too), the Body `ES2-DownloadProfileRequest` in
/// the GSMA namespace; the answer `ES2-DownloadProfileResponse` (HTTP 202
/// with OperationId and State for an accepted asynchronous function, as over
/// JSON). The results and notifications reach an MNO whose callback binding
/// is SOAP as SOAP (rsp/m2m_soap/callback.hpp: `ES2-DownloadProfileResponse`,
/// `ES2-HandleProfileEnabledNotification`).
///
/// The namespace and the action URIs ("ProfileManagent" spelling included;
/// "ES2-GetEISRequest" accepted) as in bagyenda/njiwa's ES2 web service,
/// not checked against the SGP.02 text; the wrapper element names are ours.

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "rsp/service/routes.hpp"
#include "rsp/smdp/es2_service.hpp"

namespace rsp::smdp {

inline constexpr std::string_view kSoapEs2Path = "/gsma/m2m/soap/ES2";
/// The prefix of the ES2 requests' actions.
inline constexpr std::string_view kEs2ActionPrefix = "http://gsma.com/ES2/ProfileManagent/";

/// The route of the ES2 SOAP endpoint on `service` for the MNOs `mnos`
/// ("ES2.SOAP" in the metrics).
service::Route soap_es2_route(std::shared_ptr<Es2Service> service, std::set<std::string> mnos);

/// The answer to an unauthenticated caller: a SOAP fault (Sender, HTTP 401)
/// on the SOAP endpoint, the JSON binding's answer elsewhere.
service::Reply smdp_unauthenticated_reply(const net::Request& request);

}  // namespace rsp::smdp
