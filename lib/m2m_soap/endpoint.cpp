#include "rsp/m2m_soap/endpoint.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/m2m_soap/messages.hpp"
#include "rsp/soap/envelope.hpp"

namespace rsp::m2m_soap {

using nlohmann::json;
namespace codes = m2m::codes;

namespace {

/// A function of the endpoint: its index and its name in messages.
struct Function {
  std::size_t index = 0;
  std::string name;  ///< "ES2-GetEIS"
};

/// The function a wsa:Action names on `e`, or null.
std::optional<Function> function_of(const Endpoint& e, std::string_view action) {
  if (action.ends_with("Request")) action.remove_suffix(7);
  if (!action.starts_with(e.action_prefix)) return std::nullopt;
  action.remove_prefix(e.action_prefix.size());
  for (std::size_t i = 0; i < e.functions.size(); ++i) {
    std::string name = message_name(e.functions[i]);
    if (action == name) return Function{i, std::move(name)};
  }
  return std::nullopt;
}

/// A fresh message id (RFC 4122 version 4 UUID as a URN).
std::string new_message_id() {
  Bytes b = crypto::system_random().bytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  const std::string h = to_hex(b);
  return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

/// Guesses the version of a message too broken to say: 1.1 when only its
/// namespace appears, else 1.2.
soap::Version version_hint(std::string_view body) {
  return body.find(soap::kSoap11Ns) != std::string_view::npos && body.find(soap::kSoap12Ns) == std::string_view::npos
             ? soap::Version::Soap11
             : soap::Version::Soap12;
}

service::Reply fault_reply(soap::Version v, const soap::Addressing& request, int status, std::string reason,
                           m2m::Code code) {
  // SOAP 1.1 §6.2: a fault goes back with HTTP 500; SOAP 1.2 Part 2 §7.5.2:
  // a Sender fault with 400.
  if (v == soap::Version::Soap11 && status == 400) status = 500;
  soap::Addressing a;
  a.message_id = new_message_id();
  a.relates_to = request.message_id;
  a.action = "http://www.w3.org/2005/08/addressing/fault";  // WS-Addressing 1.0 SOAP Binding §6
  service::Reply r;
  r.response.status = status;
  r.response.content_type = soap::content_type(v);
  r.response.body = soap::build_fault(v, a, soap::Fault{true, reason});
  r.subject_code = code.subject;
  r.reason_code = code.reason;
  r.detail = std::move(reason);
  return r;
}

/// The JSON answer of a function as its SOAP response: the JSON binding's
/// header.functionExecutionStatus becomes FunctionExecutionStatus beside
/// the function's outputs.
service::Reply soap_answer(const Endpoint& e, soap::Version v, const soap::Envelope& request, const Function& f,
                           service::Reply json_reply, const json& call_id) {
  soap::Element body{std::string(kGsmaNs), f.name + "Response", {}, {}};
  json answer = json::parse(json_reply.response.body, nullptr, false);
  if (answer.is_object()) {
    if (auto h = answer.find("header"); h != answer.end()) {
      if (h->is_object() && h->contains("functionExecutionStatus"))
        answer["functionExecutionStatus"] = (*h)["functionExecutionStatus"];
      answer.erase("header");
    }
    if (call_id.is_string()) answer["functionCallIdentifier"] = call_id;
    json_to_soap(answer, body);
  }
  soap::Addressing a;
  if (!request.addressing.reply_to.empty() && request.addressing.reply_to != soap::kWsaAnonymous)
    a.to = request.addressing.reply_to;
  a.from = request.addressing.to;
  a.action = e.action_prefix + f.name + "Response";
  a.message_id = new_message_id();
  a.relates_to = request.addressing.message_id;
  json_reply.response.content_type = soap::content_type(v);
  json_reply.response.body = soap::build_envelope(v, a, body);
  return json_reply;
}

/// A refusal before the function ran, in the function's response.
service::Reply refused(const Endpoint& e, soap::Version v, const soap::Envelope& request, const Function& f,
                       m2m::Code c, std::string message) {
  service::Reply r;
  r.response.status = 200;
  r.response.body = json{{"header",
                          {{"functionExecutionStatus",
                            {{"status", m2m::status_name(m2m::ExecutionStatus::Failed)},
                             {"statusCodeData",
                              {{"subjectCode", c.subject}, {"reasonCode", c.reason}, {"message", message}}}}}}}}
                        .dump();
  r.subject_code = c.subject;
  r.reason_code = c.reason;
  r.detail = std::move(message);
  return soap_answer(e, v, request, f, std::move(r), json());
}

service::Reply handle(const Endpoint& e, const net::Request& req, const std::optional<service::Caller>& caller) {
  auto env = soap::parse_envelope(req.body, soap::ParseOptions{});
  if (!env) return fault_reply(version_hint(req.body), {}, 400, env.error().message, codes::kInvalidRequest);
  const soap::Version v = env->version;
  // SOAP 1.1 §6.1.1 (text/xml), SOAP 1.2 / RFC 3902 (application/soap+xml).
  const std::string ct = req.header("Content-Type").value_or("");
  if (ct.rfind(v == soap::Version::Soap11 ? "text/xml" : "application/soap+xml", 0) != 0)
    return fault_reply(v, env->addressing, 400, "the Content-Type does not match the SOAP version",
                       codes::kInvalidRequest);
  auto f = function_of(e, env->addressing.action);
  if (!f) return fault_reply(v, env->addressing, 400, "no such action on this endpoint", codes::kUnknownFunction);
  if (env->body.ns != kGsmaNs || env->body.name != f->name + "Request")
    return fault_reply(v, env->addressing, 400, "the Body is not the request of " + f->name,
                       codes::kInvalidRequest);
  if (!caller || !e.callers.contains(caller->id))
    return refused(e, v, *env, *f, codes::kRequesterNotAllowed, e.not_allowed);
  auto request = soap_to_json(env->body);
  if (!request) return refused(e, v, *env, *f, codes::kInvalidRequest, request.error());
  const json call_id = request->value("functionCallIdentifier", json());
  return soap_answer(e, v, *env, *f, e.json(f->index, request->dump(), caller->id), call_id);
}

}  // namespace

std::string message_name(std::string_view dotted) {
  std::string s(dotted);
  std::replace(s.begin(), s.end(), '.', '-');
  return s;
}

service::Reply unauthenticated_reply(const net::Request& request) {
  auto env = soap::parse_envelope(request.body);
  service::Reply r = fault_reply(env ? env->version : version_hint(request.body),
                                 env ? env->addressing : soap::Addressing{}, 401, "caller not authenticated",
                                 codes::kRequesterUnknown);
  r.response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

service::Route route(Endpoint endpoint) {
  auto e = std::make_shared<const Endpoint>(std::move(endpoint));
  return service::Route{e->metric, "POST", e->path, true,
                        [e](const net::Request& req, const std::optional<service::Caller>& caller) {
                          return handle(*e, req, caller);
                        }};
}

}  // namespace rsp::m2m_soap
