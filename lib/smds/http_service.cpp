#include "rsp/smds/http_service.hpp"

#include <algorithm>
#include <exception>

#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es12_json.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/messages/header.hpp"

namespace rsp::smds {

namespace {

using messages::ResponseHeader;
namespace es9 = messages::es9;
namespace es11 = messages::es11;
namespace es12 = messages::es12;

service::Reply json_reply(int status, std::string body) {
  service::Reply r;
  r.response.status = status;
  r.response.content_type = std::string(messages::kJsonContentType);
  r.response.headers.emplace_back("X-Admin-Protocol", std::string(messages::kAdminProtocol));
  r.response.body = std::move(body);
  return r;
}

/// A refusal is a function result (HTTP 200 with the codes); a failure of the
/// SM-DS's own storage decided nothing (500). Only a request that could not
/// be read is told what was wrong with it; other refusals carry the reason's
/// neutral text, the detail stays in the log.
service::Reply failed(const SmdsError& e, bool unreadable = false) {
  if (e.storage) {
    service::Reply r = json_reply(500, "{}");
    r.response.content_type = "text/plain; charset=utf-8";
    r.response.body = "server error";
    r.subject_code = e.subject_code;
    r.reason_code = e.reason_code;
    r.detail = e.message;
    return r;
  }
  const std::string wire = unreadable ? e.message : std::string(messages::reason_text(e.reason_code));
  service::Reply r = json_reply(200, es9::encode_header_only_response(ResponseHeader::failed(e.subject_code, e.reason_code, wire)));
  r.subject_code = e.subject_code;
  r.reason_code = e.reason_code;
  r.detail = e.message;
  return r;
}

service::Reply unreadable(const messages::MessageError& e) {
  return failed(SmdsError{e.subject_code, e.reason_code, e.to_string()}, true);
}

service::Reply success_header_only() { return json_reply(200, es9::encode_header_only_response(ResponseHeader::success())); }

/// §6.5.1: JSON Content-Type and a v2 X-Admin-Protocol.
std::optional<service::Reply> check_headers(const net::Request& req) {
  const auto refuse = [](int status, const char* what) {
    service::Reply r = failed(SmdsError{codes::kInvalidRequest.subject, codes::kInvalidRequest.reason, what}, true);
    r.response.status = status;
    return r;
  };
  if (!messages::is_json_content_type(req.header("Content-Type").value_or("")))
    return refuse(415, "Content-Type must be application/json;charset=UTF-8");
  if (!messages::is_supported_admin_protocol(req.header("X-Admin-Protocol").value_or("")))
    return refuse(400, "X-Admin-Protocol must be gsma/rsp/v2.x.y");
  return std::nullopt;
}

using Body = std::function<service::Reply(const net::Request&, const std::optional<service::Caller>&)>;

/// Wraps a function's handler with the header checks and the last-resort
/// answer to an exception (only resource exhaustion can throw).
service::FunctionHandler guarded(Body body) {
  return [body = std::move(body)](const net::Request& req, const std::optional<service::Caller>& caller) {
    if (auto refused = check_headers(req)) return std::move(*refused);
    try {
      return body(req, caller);
    } catch (const std::exception&) {
      return failed(SmdsError{codes::kExecutionError.subject, codes::kExecutionError.reason, "internal error"});
    }
  };
}

}  // namespace

std::vector<service::Route> routes(std::shared_ptr<Server> core) {
  std::vector<service::Route> out;
  out.push_back({"ES12.RegisterEvent", "POST", std::string(es12::kRegisterEventPath), true,
                 guarded([core](const net::Request& req, const std::optional<service::Caller>& caller) {
                   if (!caller) return failed(SmdsError{codes::kCallerNotAllowed.subject, codes::kCallerNotAllowed.reason, "no caller"});
                   auto in = es12::decode_register_event_request(req.body);
                   if (!in) return unreadable(in.error());
                   auto r = core->register_event(caller->id, *in);
                   return r ? success_header_only() : failed(r.error());
                 })});
  out.push_back({"ES12.DeleteEvent", "POST", std::string(es12::kDeleteEventPath), true,
                 guarded([core](const net::Request& req, const std::optional<service::Caller>& caller) {
                   if (!caller) return failed(SmdsError{codes::kCallerNotAllowed.subject, codes::kCallerNotAllowed.reason, "no caller"});
                   auto in = es12::decode_delete_event_request(req.body);
                   if (!in) return unreadable(in.error());
                   auto r = core->delete_event(caller->id, *in);
                   return r ? success_header_only() : failed(r.error());
                 })});
  // ES11 on its own paths (§6.5, with `smdsAddress`), and on the ES9+ paths
  // with ES9+'s `smdpAddress` as well: deployed LPAs (lpac among them) ask
  // an SM-DS there, and GSMA's root SM-DS answers there.
  using Decode = messages::Result<asn1::sgp22::InitiateAuthenticationRequest> (*)(std::string_view);
  const auto initiate = [core](Decode decode) {
    return guarded([core, decode](const net::Request& req, const std::optional<service::Caller>&) {
      auto in = decode(req.body);
      if (!in) return unreadable(in.error());
      auto r = core->initiate_authentication(*in);
      return r ? json_reply(200, es9::encode_response(*r)) : failed(r.error());
    });
  };
  const auto authenticate = guarded([core](const net::Request& req, const std::optional<service::Caller>&) {
    auto in = es9::decode_authenticate_client_request(req.body);
    if (!in) return unreadable(in.error());
    auto r = core->authenticate_client(*in);
    return r ? json_reply(200, es11::encode_authenticate_client_response(*r)) : failed(r.error());
  });
  out.push_back({"ES11.InitiateAuthentication", "POST", std::string(es11::kInitiateAuthenticationPath), false,
                 initiate(&es11::decode_initiate_authentication_request)});
  out.push_back({"ES11.AuthenticateClient", "POST", std::string(es11::kAuthenticateClientPath), false, authenticate});
  out.push_back({"ES11.InitiateAuthentication", "POST",
                 std::string(es9::path(es9::Function::InitiateAuthentication)), false,
                 initiate(&es9::decode_initiate_authentication_request)});
  out.push_back({"ES11.AuthenticateClient", "POST", std::string(es9::path(es9::Function::AuthenticateClient)), false,
                 authenticate});
  return out;
}

HttpService::~HttpService() {
  if (server_) server_->stop();
}

net::NetResult<std::unique_ptr<HttpService>> HttpService::start(std::shared_ptr<Server> core, HttpConfig config) {
  service::ServerConfig sc;
  sc.role = "smds";
  if (auto listener = service::take_listener(sc, config); !listener) return unexpected(listener.error());
  sc.http.handler_threads = config.handler_threads;
  sc.http.io_threads = config.io_threads;
  if (sc.http.io_threads == 0 && config.handler_threads == net::HandlerThreads::Inline)
    sc.http.io_threads = std::max<std::size_t>(config.worker_threads, 1);
  sc.routes = routes(std::move(core));
  sc.authenticate = std::move(config.authenticate);
  sc.unauthenticated = [](const net::Request&) {
    service::Reply r = failed(SmdsError{codes::kCallerNotAllowed.subject, codes::kCallerNotAllowed.reason,
                                        "ES12 needs the client certificate of a configured SM-DP+ or SM-DS"});
    r.response.status = 401;
    return r;
  };
  sc.log = std::move(config.log);
  sc.access_log = std::move(config.access_log);
  std::unique_ptr<HttpService> out(new HttpService());
  RSP_TRY(out->server_, service::Server::start(std::move(sc)));
  return out;
}

}  // namespace rsp::smds
