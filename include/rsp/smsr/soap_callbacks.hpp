#pragma once
/// The MNO callbacks (callbacks.hpp) in the SOAP binding, for an MNO whose
/// configuration says "callback_binding": "soap": the outbox keeps the JSON
/// body it always keeps, and the sender (mno_callback_sender with a
/// CallbackBindings) turns it into a SOAP 1.2 envelope when it goes out:
///   - an operation's result: `ES4-EnableProfileResponse` (the function's
///     response element, as soap_service.hpp answers it) with
///     FunctionCallIdentifier, FunctionExecutionStatus, OperationId, Eid,
///     Iccid and, for AuditEIS, Eis; wsa:Action
///     "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile";
///   - a notification: `ES4-HandleProfileEnabledNotification` with
///     FunctionCallIdentifier, Eid, Iccid, CompletionTimestamp; wsa:Action
///     the callback prefix with its name.
/// wsa:To is the callback URL, wsa:From the SM-SR's address when set, and
/// wsa:MessageID "urn:rsp:smsr:callback:" with the call identifier: the same
/// on every retry, so the MNO can drop duplicates by it.
///
/// Not done: wsa:RelatesTo of an operation's result is not the MessageID of
/// the MNO's request (the registry does not keep it); the MNO relates them
/// by OperationId, which the request's 202 answer carried. The action URIs
/// and element names are not confirmed against the SGP.02 text.

#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"

namespace rsp::smsr {

struct SoapCallback {
  std::string envelope;
  std::string action;
  std::string content_type;  ///< application/soap+xml with the action parameter (RFC 3902 §1)
};

/// The SOAP form of callback body `json_body` (a body operation_result() or
/// profile_notification() made) to `to`; an error in words when the body is
/// not one of those.
expected<SoapCallback, std::string> soap_callback(std::string_view json_body, const std::string& to,
                                                  const std::string& from);

}  // namespace rsp::smsr
