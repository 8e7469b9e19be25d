#pragma once
/// The SM-SR on HTTPS: ES1 for the EUMs and ES4 for the MNOs in this
/// project's JSON binding (docs/smsr-openapi.yaml; paths in
/// rsp/m2m/es_functions.hpp), served by the service kit (per-function
/// metrics, access log, /healthz and /metrics on the admin listener).
/// Callers are authenticated by client certificate (mutual TLS) or API key;
/// an EUM may call ES1 only and an MNO ES4 only.
///
/// Every answer is JSON with a header carrying SGP.02's function execution
/// status (§5.1.6.1); a refusal has its subject/reason code and a message
/// that never holds a key. An accepted asynchronous function answers 202
/// with its operation id.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/service/caller.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/service/server.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

/// Which interface a caller may use.
struct CallerRoles {
  std::set<std::string> eums;  ///< ES1 callers
  std::set<std::string> mnos;  ///< ES4 callers
  std::set<std::string> smdps;  ///< ES3 callers (with HttpConfig::es3)
  std::set<std::string> smsrs;  ///< ES7 callers, the peer SM-SRs (with HttpConfig::es7)
};

/// The routes of ES1 and ES4 on `service`; `roles` says who may call which;
/// `get_eis_inline`: GetEIS on the I/O thread (HttpConfig::get_eis_inline).
std::vector<service::Route> routes(std::shared_ptr<Service> service, CallerRoles roles, bool get_eis_inline = false);

class Es3Service;
class Es7Service;
/// The routes of ES3 (rsp/m2m/es3.hpp) on `service` for the SM-DPs `smdps`.
std::vector<service::Route> es3_routes(std::shared_ptr<Es3Service> service, std::set<std::string> smdps);

/// The answer to an unauthenticated caller (401, 1.1/1.1).
service::Reply unauthenticated_reply();

struct HttpConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<net::TlsIdentity> tls_identities;  ///< empty: plain HTTP, which needs insecure_http
  std::vector<Bytes> client_roots;               ///< non-empty: ask clients for a certificate (mutual TLS)
  bool insecure_http = false;
  std::string admin_host = "127.0.0.1";
  int admin_port = 0;
  std::size_t worker_threads = 4;
  /// GetEIS on the connection's I/O thread, without the two thread hand-offs
  /// of the worker pool: for a registry that reads on a connection of its
  /// own (RegistryOptions::reader), where a read never waits for a write's
  /// disk flush and so never holds up the loop's other connections.
  bool get_eis_inline = false;
  std::size_t max_body_bytes = 256 * 1024;
  service::Authenticator authenticate;
  CallerRoles roles;
  std::shared_ptr<Es3Service> es3;  ///< set: ES3 is served too, for roles.smdps
  /// Set: ES7 is served for roles.smsrs and ES4 PrepareSMSRChange /
  /// SMSRChange for roles.mnos (es7_service.hpp).
  std::shared_ptr<Es7Service> es7;
  service::LogSink log;
  service::LogSink access_log;
  std::function<std::optional<std::string>()> health_check;
  std::shared_ptr<net::Metrics> metrics;
};

class HttpService {
 public:
  static net::NetResult<std::unique_ptr<HttpService>> start(std::shared_ptr<Service> service, HttpConfig config);
  ~HttpService();
  std::string url() const { return server_->url(); }
  std::string admin_url() const { return server_->admin_url(); }
  void stop() { server_->stop(); }

 private:
  HttpService() = default;
  std::unique_ptr<service::Server> server_;
};

}  // namespace rsp::smsr
