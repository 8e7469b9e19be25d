#include "rsp/smdpp/http_service.hpp"

#include <algorithm>
#include <map>
#include <system_error>

#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_json.hpp"
#include "rsp/smdpp/es9_http.hpp"
#include "rsp/messages/header.hpp"

namespace rsp::smdpp {

namespace fs = std::filesystem;

namespace {

/// SGP.22 §6.5.1: every ES9+/ES2+ request is JSON with an X-Admin-Protocol
/// of a version we speak. nullopt when it is; else the answer.
std::optional<net::Response> check_protocol_headers(const net::Request& req) {
  const auto refuse = [](int status, const char* what) {
    net::Response res;
    res.status = status;
    res.content_type = std::string(messages::kJsonContentType);
    res.headers.emplace_back("X-Admin-Protocol", std::string(kAdminProtocol));
    res.body = es2_failure_body(SmdppError{messages::codes::kInvalidRequest.subject,
                                           messages::codes::kInvalidRequest.reason, what});
    return res;
  };
  if (!messages::is_json_content_type(req.header("Content-Type").value_or("")))
    return refuse(415, "Content-Type must be application/json;charset=UTF-8");
  if (!messages::is_supported_admin_protocol(req.header("X-Admin-Protocol").value_or("")))
    return refuse(400, "X-Admin-Protocol must be gsma/rsp/v2.x.y");
  return std::nullopt;
}

service::Reply reply_of(Es9HttpResult out) {
  service::Reply r;
  r.response.headers.emplace_back("X-Admin-Protocol", std::string(kAdminProtocol));
  r.response.content_type = "application/json;charset=UTF-8";
  r.response.status = out.status;
  r.response.body = std::move(out.body);
  r.subject_code = std::move(out.subject_code);
  r.reason_code = std::move(out.reason_code);
  r.detail = std::move(out.detail);
  return r;
}

service::Reply refused_reply(net::Response res) {
  service::Reply r;
  r.response = std::move(res);
  r.subject_code = messages::codes::kInvalidRequest.subject;
  r.reason_code = messages::codes::kInvalidRequest.reason;
  return r;
}

}  // namespace

HttpService::~HttpService() {
  if (server_) server_->stop();
}

void HttpService::stop() { server_->stop(); }

net::NetResult<std::unique_ptr<HttpService>> HttpService::start(HttpServiceConfig config) {
  service::ServerConfig sc;
  sc.role = "smdpp";
  net::HttpServerOptions& opt = sc.http;
  opt.host = config.host;
  opt.port = config.port;
  if (!config.tls_identities.empty()) {
    net::TlsServerConfig tls;
    tls.identities = config.tls_identities;
    if (!config.client_roots.empty()) {
      // LPAs have no client certificate; operators may come with an API key.
      tls.client_auth = net::ClientAuth::Optional;
      tls.client_roots = config.client_roots;
    }
    opt.tls = std::move(tls);
  } else if (!config.insecure_http) {
    return net::net_error(net::NetError::Kind::InvalidArgument,
                          "no DPtls certificate: give one, or ask for plain HTTP with insecure_http");
  }
  opt.insecure_plain_http = config.insecure_http;
  opt.worker_threads = config.worker_threads;
  opt.handler_threads = config.handler_threads;
  opt.io_threads = config.io_threads;
  if (opt.io_threads == 0 && config.handler_threads == net::HandlerThreads::Inline)
    opt.io_threads = std::max<std::size_t>(config.worker_threads, 1);
  opt.transport = config.transport;
  opt.max_body_bytes = config.max_body_bytes;
  opt.keep_alive_timeout = config.keep_alive_timeout;
  opt.head_timeout = config.head_timeout;
  opt.body_timeout = config.body_timeout;
  opt.max_connections = config.max_connections;
  opt.max_connections_per_peer = config.max_connections_per_peer;
  opt.metrics = config.metrics ? config.metrics : std::make_shared<net::Metrics>();
  sc.admin_host = config.admin_host;
  sc.admin_port = config.admin_port;
  if (config.database_healthy) {
    sc.health_check = [healthy = std::move(config.database_healthy)]() -> std::optional<std::string> {
      bool ok = false;
      try {
        ok = healthy();
      } catch (...) {
        ok = false;
      }
      if (ok) return std::nullopt;
      return std::string("database");
    };
  }
  sc.log = std::move(config.log);
  sc.log_lines_per_second = config.log_lines_per_second;
  sc.access_log = std::move(config.access_log);
  opt.metrics->gauge("rsp_smdpp_info", "The SM-DP+ served here (value always 1).")
      .set({{"address", config.address}, {"admin_protocol", std::string(kAdminProtocol)}}, 1);

  std::unique_ptr<HttpService> service(new HttpService());
  if (config.es9) {
    service->es9_ = true;
    auto dispatcher = std::make_shared<Es9Dispatcher>(std::move(config.es9));
    for (const auto& route : messages::kEs9Functions) {
      const std::string path(route.path);
      sc.routes.push_back(service::Route{
          std::string(route.name), "POST", path, false,
          [dispatcher, path](const net::Request& req, const std::optional<service::Caller>&) {
            if (auto refused = check_protocol_headers(req)) return refused_reply(std::move(*refused));
            return reply_of((*dispatcher)(path, req.body, req.remote_address));
          }});
    }
  }
  if (config.es2 && config.es2_authenticate) {
    service->es2_ = true;
    auto dispatcher = std::make_shared<Es2Dispatcher>(std::move(config.es2));
    sc.authenticate = std::move(config.es2_authenticate);
    sc.unauthenticated = [](const net::Request&) {
      // The same answer for a missing and a wrong credential: nothing about which.
      service::Reply r;
      r.response.status = 401;
      r.response.content_type = "application/json;charset=UTF-8";
      r.response.headers.emplace_back("X-Admin-Protocol", std::string(kAdminProtocol));
      r.response.headers.emplace_back("WWW-Authenticate", "Bearer");
      r.response.body = es2_failure_body(
          SmdppError{es2codes::kRequesterUnknown.subject, es2codes::kRequesterUnknown.reason, "caller not authenticated"});
      return r;
    };
    for (const auto& route : messages::kEs2Functions) {
      const std::string path(route.path);
      sc.routes.push_back(service::Route{
          std::string(route.name), "POST", path, true,
          [dispatcher, path](const net::Request& req, const std::optional<service::Caller>& caller) {
            if (auto refused = check_protocol_headers(req)) return refused_reply(std::move(*refused));
            return reply_of((*dispatcher)(path, req.body, caller ? caller->id : std::string()));
          }});
    }
  }
  RSP_TRY(service->server_, service::Server::start(std::move(sc)));
  return service;
}

Es9Dispatcher es9_dispatcher(std::shared_ptr<Server> server) {
  return [server = std::move(server)](std::string_view path, std::string_view body, std::string_view peer) {
    auto r = handle_es9(*server, path, body, peer);
    Es9HttpResult out{r.status, std::move(r.body), {}, {}, {}};
    if (r.error) {
      out.subject_code = r.error->subject_code;
      out.reason_code = r.error->reason_code;
      out.detail = r.error->message;
    }
    return out;
  };
}

Es2Dispatcher es2_dispatcher(std::shared_ptr<Es2Service> service) {
  return [service = std::move(service)](std::string_view path, std::string_view body, const std::string& op) {
    auto r = handle_es2_request(*service, path, body, op);
    return Es9HttpResult{r.http_status, std::move(r.body), std::move(r.subject_code), std::move(r.reason_code),
                         std::move(r.detail)};
  };
}

net::NetResult<std::vector<net::TlsIdentity>> load_tls_identities(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return net::net_error(net::NetError::Kind::Io, "PKI folder " + dir.string() + " does not exist");
  std::map<std::string, fs::path> files;  // file name -> path (first found)
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.emplace(it->path().filename().string(), it->path());
  }
  std::vector<net::TlsIdentity> out;
  for (const std::string curve : {"NIST", "BRP"}) {
    const std::string stem = "S_SM_DP_TLS_" + curve;
    auto key = files.find("SK_" + stem + ".pem");
    if (key == files.end()) continue;
    auto cert = files.find("CERT_" + stem + ".pem");
    if (cert == files.end()) cert = files.find("CERT_" + stem + ".der");
    if (cert == files.end()) continue;
    RSP_TRY(auto id, net::TlsIdentity::load(cert->second, key->second));
    out.push_back(std::move(id));
  }
  if (out.empty())
    return net::net_error(net::NetError::Kind::Io, "no DPtls certificate (CERT_S_SM_DP_TLS_NIST/BRP with SK_*.pem) in " +
                                                       dir.string());
  return out;
}

}  // namespace rsp::smdpp
