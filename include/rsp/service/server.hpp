#pragma once
/// What every server role serves its functions with: a public listener (TLS,
/// optionally mutual) carrying the role's route table, and an admin listener
/// of its own (plain HTTP, loopback by default) carrying /healthz and
/// /metrics, which the public port answers with 404.
///
/// Every route gets, under the role's name:
///   rsp_function_calls_total{role,function,status}            calls by HTTP status
///   rsp_function_failures_total{role,function,subject,reason}  failed calls by the spec's code
///   rsp_function_duration_seconds{role,function}               handling time
///   rsp_function_unauthenticated_total{role,function}          calls refused for want of a caller
/// one access-log line per answered request (access_log.hpp), a line for each
/// failed function (rate-limited), and a line for each failed TLS handshake
/// with the peer and reason (rate-limited).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/net/server.hpp"
#include "rsp/service/async_log.hpp"
#include "rsp/service/caller.hpp"
#include "rsp/service/rate_limited_log.hpp"
#include "rsp/service/routes.hpp"

namespace rsp::service {

struct ServerConfig {
  /// The role's name in metrics and logs ("smdpp"), and its threads' names
  /// ("smdpp-io", "smdpp-pool"; the admin listener's "smdpp-admin-io").
  std::string role;
  /// The public listener: host, port, TLS (with client_auth for mutual TLS),
  /// workers, limits. Its /healthz and /metrics are turned off here.
  net::HttpServerOptions http;
  /// The admin listener; port 0 picks one (see admin_port()).
  std::string admin_host = "127.0.0.1";
  int admin_port = 0;
  /// /healthz answers 503 "unavailable: <reason>" while this gives a reason.
  std::function<std::optional<std::string>()> health_check;
  std::vector<Route> routes;
  /// Authenticates the callers of routes marked `authenticated`.
  Authenticator authenticate;
  /// The role's answer to a caller that is not authenticated (e.g. 401 with
  /// the spec's code); default: a bare 401.
  std::function<Reply(const net::Request&)> unauthenticated;
  /// Where the access-log lines go (one per request), written by a thread of
  /// their own (async_log.hpp) so that a slow log never stalls a request;
  /// unset: nowhere.
  LogSink access_log;
  /// Where failed-call and failed-handshake lines go, at most
  /// `log_lines_per_second` of each kind; unset: nowhere.
  LogSink log;
  std::size_t log_lines_per_second = 20;
  /// The access log's clock (default: the system clock).
  std::function<std::chrono::system_clock::time_point()> now;
};

class Server {
 public:
  /// Binds both listeners and serves in background threads.
  static net::NetResult<std::unique_ptr<Server>> start(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return public_->port(); }
  std::string url() const { return public_->url(); }
  int admin_port() const { return admin_->port(); }
  /// "http://127.0.0.1:PORT".
  std::string admin_url() const { return admin_->url(); }
  net::Metrics& metrics() { return public_->metrics(); }
  const std::shared_ptr<net::Metrics>& metrics_ptr() const { return public_->metrics_ptr(); }
  /// Drain: stops accepting on both listeners, finishes the requests in
  /// flight and writes the access log's queued lines. Idempotent.
  void stop();

 private:
  Server() = default;
  std::unique_ptr<net::HttpServer> public_;
  std::unique_ptr<net::HttpServer> admin_;
  std::shared_ptr<AsyncLog> access_log_;
};

/// The listener half of a role's ServerConfig, from a role's HTTP settings
/// (the SM-SR's and SM-DS's HttpConfig carry the same fields): TLS with the
/// role's identities, asking for a client certificate when client roots are
/// given (optional: callers without one authenticate by API key, or are LPAs),
/// or plain HTTP only when the role's settings ask for it (insecure_http).
template <class RoleHttpConfig>
net::NetResult<void> take_listener(ServerConfig& sc, RoleHttpConfig& config) {
  sc.http.host = config.host;
  sc.http.port = config.port;
  if (!config.tls_identities.empty()) {
    net::TlsServerConfig tls;
    tls.identities = std::move(config.tls_identities);
    if (!config.client_roots.empty()) {
      tls.client_auth = net::ClientAuth::Optional;
      tls.client_roots = std::move(config.client_roots);
    }
    sc.http.tls = std::move(tls);
  } else if (!config.insecure_http) {
    return net::net_error(net::NetError::Kind::InvalidArgument,
                          "no TLS certificate: give one, or ask for plain HTTP with insecure_http");
  }
  sc.http.insecure_plain_http = config.insecure_http;
  sc.http.worker_threads = config.worker_threads;
  sc.http.max_body_bytes = config.max_body_bytes;
  sc.http.metrics = config.metrics ? config.metrics : std::make_shared<net::Metrics>();
  sc.admin_host = config.admin_host;
  sc.admin_port = config.admin_port;
  sc.health_check = std::move(config.health_check);
  return {};
}

}  // namespace rsp::service
