#pragma once
/// The SM-DP+ on HTTPS (SGP.22 §6.1, §2.6.6): the DPtls identities, the ES9+
/// routes with their X-Admin-Protocol header and per-function metrics, and
/// /healthz and /metrics, on an rsp::net::HttpServer. Used by
/// `rsp smdpp serve`, the demo and in-process tests.
///
/// The ES9+ JSON handling itself is transport independent: the service takes
/// an Es9Dispatcher mapping (path, JSON body) to (HTTP status, JSON body) and
/// registers the five ES9+ paths only when one is given. Likewise ES2+
/// (SGP.22 §5.3, §6.5.2.1-4) for the operators: an Es2Dispatcher and an
/// Es2Authenticator register its four paths; a request whose caller is not
/// authenticated gets 401 and nothing else.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/net/metrics.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/smdpp/server.hpp"

namespace rsp::smdpp {

/// X-Admin-Protocol value of this SM-DP+ (SGP.22 §6.1.1).
inline constexpr std::string_view kAdminProtocol = "gsma/rsp/v2.2.0";

/// The ES9+ function paths (SGP.22 §6.5.2) and their metric label.
struct Es9Route {
  std::string_view path;
  std::string_view function;
};
inline constexpr Es9Route kEs9Routes[] = {
    {"/gsma/rsp2/es9plus/initiateAuthentication", "initiateAuthentication"},
    {"/gsma/rsp2/es9plus/authenticateClient", "authenticateClient"},
    {"/gsma/rsp2/es9plus/getBoundProfilePackage", "getBoundProfilePackage"},
    {"/gsma/rsp2/es9plus/handleNotification", "handleNotification"},
    {"/gsma/rsp2/es9plus/cancelSession", "cancelSession"},
};

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

/// The ES2+ function paths (SGP.22 §6.5.2.1-4) and their metric label.
inline constexpr Es9Route kEs2Routes[] = {
    {"/gsma/rsp2/es2plus/downloadOrder", "downloadOrder"},
    {"/gsma/rsp2/es2plus/confirmOrder", "confirmOrder"},
    {"/gsma/rsp2/es2plus/cancelOrder", "cancelOrder"},
    {"/gsma/rsp2/es2plus/releaseProfile", "releaseProfile"},
};

/// (path, JSON body, authenticated operator) -> (status, JSON body); must not throw.
using Es2Dispatcher =
    std::function<Es9HttpResult(std::string_view path, std::string_view body, const std::string& operator_name)>;
/// The operator a request is authenticated as (API key, es2_auth.hpp); nullopt: refused with 401.
using Es2Authenticator = std::function<std::optional<std::string>(const net::Request&)>;

struct HttpServiceConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  /// DPtls identities (e.g. NIST and brainpool); empty means plain HTTP,
  /// which also needs insecure_http.
  std::vector<net::TlsIdentity> tls_identities;
  bool insecure_http = false;
  std::size_t worker_threads = 8;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::seconds keep_alive_timeout{5};
  /// ES9+ handling; without it only /healthz and /metrics are served.
  Es9Dispatcher es9;
  /// ES2+ handling and its caller authentication; both or neither.
  Es2Dispatcher es2;
  Es2Authenticator es2_authenticate;
  /// /healthz answers 503 while this returns false (e.g. the database cannot
  /// commit); unset: always healthy.
  std::function<bool()> database_healthy;
  /// Where a line for each failed ES9+/ES2+ call goes (function, peer,
  /// subject/reason code and the failure's detail, which never holds a key or
  /// a confirmation code), at most `log_lines_per_second`, the rest counted
  /// and reported; unset: no such lines.
  std::function<void(std::string_view line)> log;
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
  bool es9_enabled() const { return es9_; }
  bool es2_enabled() const { return es2_; }
  net::Metrics& metrics() { return server_->metrics(); }
  /// Graceful: requests in flight complete. Idempotent.
  void stop() { server_->stop(); }

 private:
  HttpService() = default;
  std::unique_ptr<net::HttpServer> server_;
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
