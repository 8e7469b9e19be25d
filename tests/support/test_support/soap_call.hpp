#pragma once
// Calling a SOAP endpoint of the M2M binding (rsp/m2m_soap/endpoint.hpp)
// in process, for the unit tests of the SM-SR's and the SM-DP's SOAP
// bindings: the request envelope built from JSON fields, the reply parsed
// back into JSON (a response) or {"fault": ...}, every response checked
// against the published XSD. Header-only: the test links rsp_m2m_soap.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/m2m_soap/messages.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/soap/envelope.hpp"
#include "rsp/soap/schema.hpp"

namespace rsp::test_support {

/// One answer: the HTTP status, the SOAP body as JSON (or {"fault": "Fault"}),
/// the raw text.
struct SoapAnswer {
  int status = 0;
  nlohmann::json body;
  std::string raw;
};

/// The SOAP 1.2 request of `message` ("ES2-GetEIS") with `fields` as its
/// elements, wsa:Action `action_prefix` + `message`.
inline std::string soap_request(std::string_view action_prefix, const std::string& message,
                                const nlohmann::json& fields, const std::string& message_id = "urn:uuid:1") {
  soap::Element body{std::string(m2m_soap::kGsmaNs), message + "Request", {}, {}};
  m2m_soap::json_to_soap(fields, body);
  soap::Addressing a;
  a.to = "https://server.example/soap";
  a.action = std::string(action_prefix) + message;
  a.message_id = message_id;
  a.from = "https://caller.example";
  return soap::build_envelope(soap::Version::Soap12, a, body);
}

/// Posts `envelope` to `handler` as `caller`; a response (not a fault) must
/// validate against `xsd` and relate to the request.
inline SoapAnswer soap_post(const service::FunctionHandler& handler, std::string_view path,
                            const std::string& envelope, const std::string& caller, const std::string& xsd,
                            const std::string& content_type = "application/soap+xml; charset=utf-8") {
  net::Request req;
  req.method = "POST";
  req.path = std::string(path);
  req.headers.emplace_back("Content-Type", content_type);
  req.body = envelope;
  auto reply = handler(req, service::Caller{caller});
  SoapAnswer a{reply.response.status, nlohmann::json(), reply.response.body};
  soap::ParseOptions lax;
  lax.require_action = false;
  auto env = soap::parse_envelope(reply.response.body, lax);
  EXPECT_TRUE(env) << env.error().message << "\n" << reply.response.body;
  if (!env) return a;
  if (env->body.name == "Fault") {
    a.body = nlohmann::json{{"fault", env->body.name}};
    return a;
  }
  EXPECT_EQ(reply.response.content_type.rfind("application/soap+xml", 0), 0u);
  auto valid = soap::validate_body(reply.response.body, xsd);
  EXPECT_TRUE(valid) << valid.error() << "\n" << reply.response.body;
  auto body = m2m_soap::soap_to_json(env->body);
  EXPECT_TRUE(body) << body.error();
  if (body) a.body = *body;
  return a;
}

}  // namespace rsp::test_support
