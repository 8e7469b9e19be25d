#pragma once
/// The SM-SR's ES1, ES3, ES4 and ES7 in SGP.02's web services binding
/// (SGP.02 v4.x §6: SOAP with WS-Addressing), beside the JSON binding
/// (http_service.hpp) and on the same handlers (rsp/m2m_soap/endpoint.hpp
/// says how a SOAP call becomes the JSON call and its answer the SOAP
/// response, and how what is not a usable request is answered). The
/// message shapes are published in docs/smsr.xsd and docs/smsr.wsdl.
///
/// One endpoint per interface:
///   /gsma/m2m/soap/ES1   ES1 (EUMs): RegisterEIS
///   /gsma/m2m/soap/ES4   ES4 (MNOs): GetEIS, AuditEIS, EnableProfile, ...,
///                        and PrepareSMSRChange / SMSRChange when ES7 is served
///   /gsma/m2m/soap/ES3   ES3 (SM-DPs), when ES3 is served: GetEIS, CreateISDP,
///                        SendData, ProfileDownloadCompleted, ...
///   /gsma/m2m/soap/ES7   ES7 (peer SM-SRs), when ES7 is served:
///                        AuthenticateSMSR, CreateAdditionalKeyset, HandoverEUICC
/// wsa:Action is the interface's prefix below and the message name
/// ("http://gsma.com/ES4/ProfileManagent/ES4-EnableProfile"); the Body holds
/// `ES4-EnableProfileRequest` in the GSMA namespace (rsp/m2m_soap/messages.hpp).
/// An accepted asynchronous ES4 function's result reaches the MNO later as a
/// callback (rsp/m2m_soap/callback.hpp), as over JSON. An accepted ES3
/// function's result goes to the SM-DP in the JSON binding (its callback_url):
/// the SM-DP's side of ES3 speaks JSON only.
///
/// Checked against bagyenda/njiwa's ES1, ES3, ES4 and ES7 web services, not
/// against the SGP.02 text (not at hand here): the namespace and the action
/// URIs are theirs ("http://gsma.com/ES4/ProfileManagent/ES4-EnableProfile",
/// the "ProfileManagent" spelling included; ES1 and ES7 under
/// "eUICCManagement"; ES3's "ES3-UpdatePolicyRules" and
/// "ES3-UpdateConnectivityParameters" with Eid, Iccid and
/// ConnectivityParameters; "...Request" accepted as they send GetEIS). The
/// `ES4-...Request/Response` wrapper element names are ours (njiwa binds
/// the parameters RPC-style). The JSON binding's GetOperation is offered here too (not
/// an SGP.02 function).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/m2m_soap/messages.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

inline constexpr std::string_view kSoapEs1Path = "/gsma/m2m/soap/ES1";
inline constexpr std::string_view kSoapEs3Path = "/gsma/m2m/soap/ES3";
inline constexpr std::string_view kSoapEs4Path = "/gsma/m2m/soap/ES4";
inline constexpr std::string_view kSoapEs7Path = "/gsma/m2m/soap/ES7";
/// The namespace of the GSMA messages.
inline constexpr std::string_view kGsmaNs = m2m_soap::kGsmaNs;
/// wsa:Action of ES1.RegisterEIS and the prefixes of the ES3, ES4 and ES7
/// requests' actions ("...ES4-EnableProfile"); a trailing "Request" is
/// accepted too.
inline constexpr std::string_view kEs1RegisterEisAction = "http://gsma.com/ES1/eUICCManagement/ES1-RegisterEIS";
inline constexpr std::string_view kEs1ActionPrefix = "http://gsma.com/ES1/eUICCManagement/";
inline constexpr std::string_view kEs3ActionPrefix = "http://gsma.com/ES3/ProfileManagent/";
inline constexpr std::string_view kEs4ActionPrefix = "http://gsma.com/ES4/ProfileManagent/";
inline constexpr std::string_view kEs7ActionPrefix = "http://gsma.com/ES7/eUICCManagement/";
/// The prefix of the actions of the callbacks to the MNO.
inline constexpr std::string_view kEs4CallbackActionPrefix = "http://gsma.com/ES4/ProfileManagentCallBack/";

/// The routes of the SOAP endpoints ("ES1.SOAP", "ES4.SOAP", and with `es3_service`
/// "ES3.SOAP", with `es7_service` "ES7.SOAP" in the metrics); `roles` as for the
/// JSON routes.
std::vector<service::Route> soap_routes(std::shared_ptr<Service> service, CallerRoles roles,
                                        std::shared_ptr<Es3Service> es3_service = nullptr,
                                        std::shared_ptr<Es7Service> es7_service = nullptr);

/// True for a path of the SOAP endpoints.
bool is_soap_path(std::string_view path);
/// The answer to an unauthenticated caller on a SOAP endpoint: a SOAP fault
/// (Sender), HTTP 401.
service::Reply soap_unauthenticated_reply(const net::Request& request);

}  // namespace rsp::smsr
