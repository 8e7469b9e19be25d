#pragma once
/// The SM-DP+ on HTTPS (SGP.22 §6.1, §2.6.6): the DPtls identities and the
/// ES9+ and ES2+ routes with their X-Admin-Protocol header, served by the
/// service kit (rsp/service/server.hpp: per-function metrics, access log,
/// /healthz and /metrics on the admin listener). Used by `rsp smdpp serve`,
/// the demo and in-process tests.
///
/// The ES9+ JSON handling itself is transport independent: the service takes
/// an Es9Dispatcher mapping (path, JSON body) to (HTTP status, JSON body) and
/// registers the five ES9+ paths only when one is given. Likewise ES2+
/// (SGP.22 §5.3, §6.5.2.1-4) for the operators: an Es2Dispatcher and an
/// Es2Authenticator register its four paths; a request whose caller is not
/// authenticated (API key, or the client certificate of a mutual TLS
/// handshake) gets 401 and nothing else.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/messages/functions.hpp"
#include "rsp/messages/header.hpp"
#include "rsp/net/metrics.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/service/caller.hpp"
#include "rsp/service/server.hpp"
#include "rsp/service/rate_limited_log.hpp"
#include "rsp/smdpp/server.hpp"

namespace rsp::smdpp {

/// X-Admin-Protocol value of this SM-DP+ (SGP.22 §6.1.1): the one of messages.
using messages::kAdminProtocol;


struct Es9HttpResult {
  int status = 200;
  std::string body;  ///< JSON, empty for 204
  /// A failed function's SGP.22 codes (already in the body), for metrics.
  std::string subject_code;
  std::string reason_code;
  /// A failed function's whole message, for the server's log only.
  std::string detail;
};
/// (path, JSON request body, the caller's address) -> (status, JSON response
/// body); must not throw (an exception is answered with 500 anyway).
using Es9Dispatcher =
    std::function<Es9HttpResult(std::string_view path, std::string_view body, std::string_view peer)>;

/// (path, JSON body, authenticated operator) -> (status, JSON body); must not throw.
using Es2Dispatcher =
    std::function<Es9HttpResult(std::string_view path, std::string_view body, const std::string& operator_name)>;
/// The operator a request is authenticated as (es2_auth.hpp); nullopt: refused with 401.
using Es2Authenticator = service::Authenticator;

struct HttpServiceConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  /// DPtls identities (e.g. NIST and brainpool); empty means plain HTTP,
  /// which also needs insecure_http.
  std::vector<net::TlsIdentity> tls_identities;
  /// Mutual TLS for ES2+ (SGP.22 §2.6.6): the roots operators' client
  /// certificates must chain to; non-empty asks every client for a
  /// certificate (optional: LPAs have none, operators may use API keys).
  std::vector<Bytes> client_roots;
  bool insecure_http = false;
  /// The admin listener of /healthz and /metrics (plain HTTP); port 0 picks one.
  std::string admin_host = "127.0.0.1";
  int admin_port = 0;
  std::size_t worker_threads = 8;
  /// Where the ES9+/ES2+ handlers run (net::HandlerThreads). Inline by
  /// default: they are short (milliseconds of crypto and a commit) and a hand-
  /// off to a pool and back cost more than 10 % of a download's server CPU
  /// against the thread per connection (bench_smdpp).
  net::HandlerThreads handler_threads = net::HandlerThreads::Inline;
  /// I/O threads; 0: with inline handlers, worker_threads of them (a handler
  /// waiting on the database then holds up no more connections than one of
  /// the old server's workers did), else net's default.
  std::size_t io_threads = 0;
  /// A connection transport of one's own (bench_smdpp's thread-per-connection
  /// reference); null: net's event loops.
  std::shared_ptr<net::ServerTransport> transport;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::seconds keep_alive_timeout{5};
  /// Connection limits (net::HttpServerOptions): a request's head and body
  /// must arrive within these; open connections in all and per peer address.
  std::chrono::seconds head_timeout{10};
  std::chrono::seconds body_timeout{30};
  std::size_t max_connections = 16384;
  std::size_t max_connections_per_peer = 256;
  /// ES9+ handling; without it only the admin listener serves anything.
  Es9Dispatcher es9;
  /// ES2+ handling and its caller authentication; both or neither.
  Es2Dispatcher es2;
  Es2Authenticator es2_authenticate;
  /// /healthz answers 503 while this returns false (e.g. the database cannot
  /// commit); unset: always healthy.
  std::function<bool()> database_healthy;
  /// Where a line for each failed ES9+/ES2+ call goes (function, peer,
  /// subject/reason code and the failure's detail, which never holds a key or
  /// a confirmation code), and one for each failed TLS handshake, at most
  /// `log_lines_per_second` of each, the rest counted and reported; unset: no
  /// such lines.
  service::LogSink log;
  /// One line per answered ES9+/ES2+ request (rsp/service/access_log.hpp).
  service::LogSink access_log;
  std::size_t log_lines_per_second = 20;
  /// The SM-DP+ FQDN, exported as a label of rsp_smdpp_info.
  std::string address;
  std::shared_ptr<net::Metrics> metrics;
};

class HttpService {
 public:
  /// Binds and serves in background threads.
  static net::NetResult<std::unique_ptr<HttpService>> start(HttpServiceConfig config);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  int port() const { return server_->port(); }
  /// "https://127.0.0.1:PORT" (or http://).
  std::string url() const { return server_->url(); }
  int admin_port() const { return server_->admin_port(); }
  /// "http://127.0.0.1:PORT" of /healthz and /metrics.
  std::string admin_url() const { return server_->admin_url(); }
  bool es9_enabled() const { return es9_; }
  bool es2_enabled() const { return es2_; }
  net::Metrics& metrics() { return server_->metrics(); }
  /// Graceful: requests in flight complete. Idempotent.
  void stop();

 private:
  HttpService() = default;
  std::unique_ptr<service::Server> server_;
  bool es9_ = false;
  bool es2_ = false;
};

/// ES9+ over the SM-DP+ core (handle_es9 of es9_http.hpp).
Es9Dispatcher es9_dispatcher(std::shared_ptr<Server> server);

class Es2Service;
/// ES2+ over the operator functions (handle_es2_request of es2_json.hpp).
Es2Dispatcher es2_dispatcher(std::shared_ptr<Es2Service> service);

/// The DPtls identities in a PKI folder: CERT_S_SM_DP_TLS_<NIST|BRP>.<pem|der>
/// with SK_S_SM_DP_TLS_<NIST|BRP>.pem beside it, searched recursively (the
/// `rsp pki init` and SGP.26 layouts), NIST first. Fails when there is none.
net::NetResult<std::vector<net::TlsIdentity>> load_tls_identities(const std::filesystem::path& dir);

}  // namespace rsp::smdpp
