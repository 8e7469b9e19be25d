#pragma once
/// The SM-DS on HTTPS with its DStls identity, on the service kit: ES12 for
/// SM-DP+s and other SM-DSs (mutual TLS: the caller is the client
/// certificate's configured name, SGP.22 §2.6.6), ES11 for LPAs (no
/// credentials; the eUICC authenticates inside), /healthz and /metrics on
/// the admin listener. Requests need SGP.22's JSON Content-Type and
/// X-Admin-Protocol (§6.5.1); a refusal answers its subject/reason code
/// with the reason's neutral text, the detail going to the server's log.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/service/server.hpp"
#include "rsp/smds/server.hpp"

namespace rsp::smds {

/// The routes of ES11 and ES12 on `core`.
std::vector<service::Route> routes(std::shared_ptr<Server> core);

struct HttpConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<net::TlsIdentity> tls_identities;  ///< DStls; empty needs insecure_http
  std::vector<Bytes> client_roots;               ///< roots of the ES12 callers' client certificates
  bool insecure_http = false;
  std::string admin_host = "127.0.0.1";
  int admin_port = 0;
  std::size_t worker_threads = 4;
  /// Where the ES11/ES12 handlers run (net::HandlerThreads). Inline by
  /// default, as the SM-DP+'s: a discovery's handlers are short (a signature
  /// or three verifications and an indexed read), and the hand-off to a pool
  /// and back cost about a tenth of a discovery's server CPU (bench_smds).
  net::HandlerThreads handler_threads = net::HandlerThreads::Inline;
  /// I/O threads; 0: with inline handlers, worker_threads of them (a handler
  /// waiting on the database holds up no more connections than one pool
  /// worker would), else net's default.
  std::size_t io_threads = 0;
  std::size_t max_body_bytes = 64 * 1024;
  service::Authenticator authenticate;  ///< ES12 callers
  service::LogSink log;
  service::LogSink access_log;
  std::function<std::optional<std::string>()> health_check;
  std::shared_ptr<net::Metrics> metrics;
};

class HttpService {
 public:
  static net::NetResult<std::unique_ptr<HttpService>> start(std::shared_ptr<Server> core, HttpConfig config);
  ~HttpService();
  std::string url() const { return server_->url(); }
  std::string admin_url() const { return server_->admin_url(); }
  const std::shared_ptr<net::Metrics>& metrics() const { return server_->metrics_ptr(); }
  void stop() { server_->stop(); }

 private:
  HttpService() = default;
  std::unique_ptr<service::Server> server_;
};

}  // namespace rsp::smds
