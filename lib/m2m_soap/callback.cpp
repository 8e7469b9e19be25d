#include "rsp/m2m_soap/callback.hpp"

#include <nlohmann/json.hpp>

#include "rsp/m2m_soap/messages.hpp"
#include "rsp/soap/envelope.hpp"

namespace rsp::m2m_soap {

using nlohmann::json;

std::string callback_action_prefix(std::string_view iface) {
  return "http://gsma.com/" + std::string(iface) + "/ProfileManagentCallBack/";
}

expected<SoapCallback, std::string> soap_callback(std::string_view json_body, const std::string& to,
                                                  const std::string& from) {
  json body = json::parse(json_body, nullptr, false);
  if (!body.is_object() || !body.contains("function") || !body["function"].is_string() ||
      !body.contains("functionCallIdentifier") || !body["functionCallIdentifier"].is_string())
    return unexpected(std::string("the callback body is not an MNO callback"));
  std::string function = body["function"].get<std::string>();
  const bool es4 = function.starts_with("ES4.");
  if (!es4 && !function.starts_with("ES2.")) return unexpected(std::string("the callback is not an ES2 or ES4 function"));
  function[3] = '-';  // "ES4.EnableProfile" -> "ES4-EnableProfile"
  // An operation's result carries its function's response; a notification
  // is a request of its own (its name starts with "Handle").
  const bool notification = function.substr(4).starts_with("Handle");
  const std::string call = body["functionCallIdentifier"].get<std::string>();
  body.erase("function");
  soap::Element e{std::string(kGsmaNs), notification ? function : function + "Response", {}, {}};
  json_to_soap(body, e);
  soap::Addressing a;
  a.to = to;
  a.from = from;
  a.action = callback_action_prefix(function.substr(0, 3)) + function;
  a.message_id = std::string(es4 ? "urn:rsp:smsr:callback:" : "urn:rsp:smdp:callback:") + call;
  SoapCallback out;
  out.envelope = soap::build_envelope(soap::Version::Soap12, a, e);
  out.action = a.action;
  out.content_type = soap::content_type(soap::Version::Soap12) + "; action=\"" + a.action + "\"";
  return out;
}

}  // namespace rsp::m2m_soap
