#pragma once
/// The callbacks to an MNO (the SM-SR's ES4 ones, rsp/smsr/callbacks.hpp,
/// and the SM-DP's ES2 ones, rsp/m2m/es2.hpp Callback) in the SOAP binding,
/// for an MNO whose configuration says "callback_binding": "soap": the
/// outbox keeps the JSON body it always keeps, and the sender
/// (smsr::mno_callback_sender with a CallbackBindings) turns it into a SOAP
/// 1.2 envelope when it goes out:
///   - an operation's result: `ES4-EnableProfileResponse` (the function's
///     response element, as the endpoint answers it, endpoint.hpp) with
///     FunctionCallIdentifier, FunctionExecutionStatus, OperationId, Eid,
///     Iccid and, for AuditEIS, Eis; wsa:Action
///     "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile"
///     (ES2: "http://gsma.com/ES2/ProfileManagentCallBack/ES2-DownloadProfile");
///   - a notification: `ES4-HandleProfileEnabledNotification` (ES2: `ES2-...`)
///     with FunctionCallIdentifier, Eid, Iccid, CompletionTimestamp;
///     wsa:Action the callback prefix with its name.
/// wsa:To is the callback URL, wsa:From the sender's address when set, and
/// wsa:MessageID "urn:rsp:smsr:callback:" (ES2: "urn:rsp:smdp:callback:")
/// with the call identifier: the same on every retry, so the MNO can drop
/// duplicates by it.
///
/// Not done: wsa:RelatesTo of an operation's result is not the MessageID of
/// the MNO's request (neither role keeps it); the MNO relates them by
/// OperationId, which the request's 202 answer carried. The action URIs are
/// as bagyenda/njiwa's callbacks ("http://gsma.com/ES4/ProfileManagentCallBack/
/// ES4-HandleSMSRChangeNotification", ES2 likewise), not checked against the
/// SGP.02 text. HandleSMSRChangeNotification carries, as njiwa's does, the
/// EIS (as the recipient may see it, no key; its SmsrId the new SM-SR) and
/// CompletionTimestamp, besides our FunctionCallIdentifier.

#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"

namespace rsp::m2m_soap {

/// The prefix of the actions of the callbacks to the MNO of interface
/// `iface` ("ES2", "ES4").
std::string callback_action_prefix(std::string_view iface);

struct SoapCallback {
  std::string envelope;
  std::string action;
  std::string content_type;  ///< application/soap+xml with the action parameter (RFC 3902 §1)
};

/// The SOAP form of callback body `json_body` (an ES4 or ES2 result or
/// notification in the JSON binding) to `to`; an error in words when the
/// body is not one of those.
expected<SoapCallback, std::string> soap_callback(std::string_view json_body, const std::string& to,
                                                  const std::string& from);

}  // namespace rsp::m2m_soap
