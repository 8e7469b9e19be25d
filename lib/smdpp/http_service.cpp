#include "rsp/smdpp/http_service.hpp"

#include <map>
#include <mutex>
#include <system_error>

#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_json.hpp"
#include "rsp/smdpp/es9_http.hpp"
#include "rsp/messages/header.hpp"

namespace rsp::smdpp {

namespace fs = std::filesystem;

namespace {

/// A log that writes at most `per_second` lines a second and reports how
/// many it left out, so that a flood of bad requests cannot flood the log.
class RateLimitedLog {
 public:
  RateLimitedLog(std::function<void(std::string_view)> sink, std::size_t per_second)
      : sink_(std::move(sink)), per_second_(per_second) {}

  void write(const std::string& line) {
    if (!sink_) return;
    std::size_t dropped = 0;
    {
      std::lock_guard lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      if (now - window_ >= std::chrono::seconds(1)) {
        window_ = now;
        dropped = dropped_;
        dropped_ = 0;
        written_ = 0;
      }
      if (written_ >= per_second_) {
        ++dropped_;
        return;
      }
      ++written_;
    }
    if (dropped) sink_(std::to_string(dropped) + " more failed calls were not logged");
    sink_(line);
  }

 private:
  std::function<void(std::string_view)> sink_;
  std::size_t per_second_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_{};
  std::size_t written_ = 0;
  std::size_t dropped_ = 0;
};

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

std::string failure_line(std::string_view interface, std::string_view function, const net::Request& req,
                         const Es9HttpResult& out) {
  std::string line = std::string(interface) + " " + std::string(function) + " from " + req.remote_address + ": ";
  line += out.subject_code.empty() ? "HTTP " + std::to_string(out.status) : out.subject_code + "/" + out.reason_code;
  if (!out.detail.empty()) line += " " + out.detail;
  return line;
}

}  // namespace

HttpService::~HttpService() {
  if (server_) server_->stop();
}

net::NetResult<std::unique_ptr<HttpService>> HttpService::start(HttpServiceConfig config) {
  net::HttpServerOptions opt;
  opt.host = config.host;
  opt.port = config.port;
  if (!config.tls_identities.empty()) {
    net::TlsServerConfig tls;
    tls.identities = config.tls_identities;
    opt.tls = std::move(tls);
  } else if (!config.insecure_http) {
    return net::net_error(net::NetError::Kind::InvalidArgument,
                          "no DPtls certificate: give one, or ask for plain HTTP with insecure_http");
  }
  opt.insecure_plain_http = config.insecure_http;
  opt.worker_threads = config.worker_threads;
  opt.max_body_bytes = config.max_body_bytes;
  opt.keep_alive_timeout = config.keep_alive_timeout;
  opt.metrics = config.metrics ? config.metrics : std::make_shared<net::Metrics>();
  if (config.database_healthy) {
    opt.health_check = [healthy = std::move(config.database_healthy)]() -> std::optional<std::string> {
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
  auto& metrics = *opt.metrics;
  auto log = std::make_shared<RateLimitedLog>(std::move(config.log), config.log_lines_per_second);
  metrics.gauge("rsp_smdpp_info", "The SM-DP+ served here (value always 1).")
      .set({{"address", config.address}, {"admin_protocol", std::string(kAdminProtocol)}}, 1);

  std::unique_ptr<HttpService> service(new HttpService());
  service->server_ = std::make_unique<net::HttpServer>(std::move(opt));
  if (config.es9) {
    service->es9_ = true;
    auto* calls = &metrics.counter("rsp_smdpp_es9_requests_total", "ES9+ calls, by function and HTTP status.");
    auto* failures = &metrics.counter("rsp_smdpp_es9_failures_total",
                                      "ES9+ calls that failed, by function and SGP.22 subject/reason code.");
    auto* latency = &metrics.histogram("rsp_smdpp_es9_duration_seconds", "ES9+ handling time, by function.");
    auto dispatcher = std::make_shared<Es9Dispatcher>(std::move(config.es9));
    for (const auto& route : kEs9Routes) {
      const std::string path(route.path), function(route.function);
      service->server_->post(path, [dispatcher, calls, failures, latency, log, path,
                                    function](const net::Request& req) {
        const auto t0 = std::chrono::steady_clock::now();
        if (auto refused = check_protocol_headers(req)) {
          calls->inc({{"function", function}, {"status", std::to_string(refused->status)}});
          return std::move(*refused);
        }
        net::Response res;
        res.headers.emplace_back("X-Admin-Protocol", std::string(kAdminProtocol));
        res.content_type = "application/json;charset=UTF-8";
        Es9HttpResult out;
        try {
          out = (*dispatcher)(path, req.body, req.remote_address);
        } catch (...) {
          out = Es9HttpResult{500, {}, {}, {}, "exception in the handler"};
        }
        if (!out.subject_code.empty() || out.status >= 500) log->write(failure_line("ES9+", function, req, out));
        res.status = out.status;
        res.body = std::move(out.body);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
        latency->observe({{"function", function}}, took.count());
        calls->inc({{"function", function}, {"status", std::to_string(res.status)}});
        if (!out.subject_code.empty() || !out.reason_code.empty())
          failures->inc({{"function", function}, {"subject", out.subject_code}, {"reason", out.reason_code}});
        return res;
      });
    }
  }
  if (config.es2 && config.es2_authenticate) {
    service->es2_ = true;
    auto* calls = &metrics.counter("rsp_smdpp_es2_requests_total", "ES2+ calls, by function and HTTP status.");
    auto* failures = &metrics.counter("rsp_smdpp_es2_failures_total",
                                      "ES2+ calls that failed, by function and SGP.22 subject/reason code.");
    auto* refused = &metrics.counter("rsp_smdpp_es2_unauthenticated_total",
                                     "ES2+ calls refused with 401 (no or unknown API key), by function.");
    auto dispatcher = std::make_shared<Es2Dispatcher>(std::move(config.es2));
    auto authenticate = std::make_shared<Es2Authenticator>(std::move(config.es2_authenticate));
    for (const auto& route : kEs2Routes) {
      const std::string path(route.path), function(route.function);
      service->server_->post(path, [dispatcher, authenticate, calls, failures, refused, log, path,
                                    function](const net::Request& req) {
        net::Response res;
        res.headers.emplace_back("X-Admin-Protocol", std::string(kAdminProtocol));
        res.content_type = "application/json;charset=UTF-8";
        std::optional<std::string> op;
        try {
          op = (*authenticate)(req);
        } catch (...) {
          op.reset();
        }
        if (!op) {
          // The same answer for a missing and a wrong key: nothing about which.
          res.status = 401;
          res.headers.emplace_back("WWW-Authenticate", "Bearer");
          res.body = es2_failure_body(SmdppError{es2codes::kRequesterUnknown.subject,
                                                 es2codes::kRequesterUnknown.reason, "caller not authenticated"});
          refused->inc({{"function", function}});
          calls->inc({{"function", function}, {"status", "401"}});
          return res;
        }
        if (auto bad = check_protocol_headers(req)) {
          calls->inc({{"function", function}, {"status", std::to_string(bad->status)}});
          return std::move(*bad);
        }
        Es9HttpResult out;
        try {
          out = (*dispatcher)(path, req.body, *op);
        } catch (...) {
          out = Es9HttpResult{500, {}, {}, {}, "exception in the handler"};
        }
        if (!out.subject_code.empty() || out.status >= 500) log->write(failure_line("ES2+", function, req, out));
        res.status = out.status;
        res.body = std::move(out.body);
        calls->inc({{"function", function}, {"status", std::to_string(res.status)}});
        if (!out.subject_code.empty() || !out.reason_code.empty())
          failures->inc({{"function", function}, {"subject", out.subject_code}, {"reason", out.reason_code}});
        return res;
      });
    }
  }
  RSP_TRY_VOID(service->server_->start());
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
