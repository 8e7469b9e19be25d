// `rsp smds serve`: the SM-DS on HTTPS with its DStls certificate: ES12 for
// the SM-DP+s (and SM-DSs) configured as callers, by their client
// certificates (mutual TLS); ES11 for LPAs, answered with the DSauth
// identity; forwarding of events to the next SM-DS from the durable outbox;
// /healthz and /metrics on the admin listener; stopping on SIGTERM/SIGINT.

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "command.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/es12/client.hpp"
#include "rsp/smds/http_service.hpp"
#include "rsp/store/open.hpp"
#include "serve_support.hpp"
#include "smdpp_keys.hpp"

namespace {

namespace fs = std::filesystem;

constexpr const char* kWho = "rsp smds serve";

constexpr const char* kConfigHelp = R"(Configuration (JSON object; each key can also come from the environment
variable RSP_SMDS_<KEY in upper case>, which wins over the file):
  listen          "host:port" to bind, port 0 picks a free one (default "127.0.0.1:8445")
  admin_host      address of the admin listener (/healthz, /metrics; plain HTTP;
                  default "127.0.0.1")
  admin_port      its port; 0 picks a free one (default 0; also --admin-port)
  access_log      file that gets one line per ES11/ES12 request; "-" for
                  standard output (default "-")
  address         the SM-DS address as eUICCs sign it (smdsAddress; default "localhost")
  pki             folder with the DSauth identities and the CI certificates, as
                  `rsp pki init` writes them (required)
  tls_cert        DStls certificate (PEM/DER); default: the pki folder's
                  CERT_S_SM_DS_TLS_*.pem
  tls_key         its private key
  database        event store: a SQLite file (created 0600), or a postgresql://
                  URL shared by several instances (required)
  callers         ES12 callers (SM-DP+s, and SM-DSs forwarding to this one), a JSON
                  array of {"name", "client_cert" | "client_root" +
                  "client_subject"} as `rsp smdpp serve`'s operators; the name
                  is the registrar of their events: only it may delete them
  client_trust    PEM file with the root certificate(s) the callers' client_cert chain to
  forward_to      https:// base URL of the next SM-DS (SGP.22 §3.6): events
                  registered with the forwarding indicator are registered there
                  with this SM-DS's address, and deleted there with their
                  deletion, from the durable outbox with retries; this SM-DS's
                  DStls certificate is its client certificate there
  forward_trust   PEM file with the root certificate(s) of the next SM-DS's TLS certificate
  session_timeout seconds between ES11 InitiateAuthentication and AuthenticateClient (default 30)
  max_sessions    ES11 sessions held at most, the oldest giving way (default 100000)
  insecure_http   true: plain HTTP without TLS, for lab use only (also --insecure-http)
  workers         worker threads (default 4)
  max_body_bytes  largest request body (default 65536)
Prints "listening on <url>" once serving.)";

struct ServeConfig : rsp::cli::ServeCommonConfig {
  ServeConfig() : ServeCommonConfig("127.0.0.1:8445", 4, 64 * 1024) {}
  std::string address = "localhost";
  std::string pki;
  nlohmann::json callers = nlohmann::json::array();
  std::string forward_to;
  std::string forward_trust;
  std::int64_t session_timeout = 30;
  std::int64_t max_sessions = 100000;
};

std::vector<rsp::service::ConfigKey> keys(ServeConfig& c) {
  return rsp::cli::serve_keys(c, {{"address", &c.address},
                                  {"pki", &c.pki},
                                  {"callers", nullptr, nullptr, nullptr, &c.callers},
                                  {"forward_to", &c.forward_to},
                                  {"forward_trust", &c.forward_trust},
                                  {"session_timeout", nullptr, nullptr, &c.session_timeout},
                                  {"max_sessions", nullptr, nullptr, &c.max_sessions}});
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", kWho, message);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

/// The DStls identity: tls_cert/tls_key, else the pki folder's first
/// CERT_S_SM_DS_TLS_<curve>.pem with its key.
rsp::net::TlsIdentity load_tls(const ServeConfig& c, const std::function<std::string(const std::string&)>& resolve) {
  if (!c.tls_cert.empty() || !c.tls_key.empty()) {
    if (c.tls_cert.empty() || c.tls_key.empty()) fail("tls_cert and tls_key go together");
    auto id = rsp::net::TlsIdentity::load(resolve(c.tls_cert), resolve(c.tls_key));
    if (!id) fail("DStls: " + id.error().message);
    return std::move(*id);
  }
  for (const char* curve : {"NIST", "BRP"}) {
    const fs::path cert = fs::path(resolve(c.pki)) / (std::string("CERT_S_SM_DS_TLS_") + curve + ".pem");
    const fs::path key = fs::path(resolve(c.pki)) / (std::string("SK_S_SM_DS_TLS_") + curve + ".pem");
    if (!fs::exists(cert) || !fs::exists(key)) continue;
    auto id = rsp::net::TlsIdentity::load(cert, key);
    if (!id) fail("DStls " + cert.string() + ": " + id.error().message);
    return std::move(*id);
  }
  fail("no DStls certificate: set tls_cert and tls_key, or a pki folder from `rsp pki init`");
}

void run_serve(const rsp::cli::ServeFlags& flags) {
  const std::string& config_file = flags.config;
  ServeConfig config;
  if (auto r = rsp::cli::load_serve_config(config, keys(config), flags, "RSP_SMDS_"); !r) fail(r.error());
  const auto listen = rsp::service::split_listen(config.listen);
  if (!listen) fail(listen.error());
  if (config.workers < 1 || config.workers > 1024) fail("workers must be 1..1024");
  if (config.max_body_bytes < 1024) fail("max_body_bytes must be at least 1024");
  if (config.session_timeout < 1 || config.session_timeout > 3600) fail("session_timeout must be 1..3600 seconds");
  if (config.max_sessions < 1 || config.max_sessions > 100'000'000) fail("max_sessions must be 1..100000000");
  if (config.address.empty()) fail("address (the SM-DS FQDN) is empty");
  if (config.pki.empty()) fail("no pki folder configured (key \"pki\" or RSP_SMDS_PKI)");
  if (config.database.empty()) fail("no database configured (key \"database\" or RSP_SMDS_DATABASE)");
  const fs::path base = rsp::cli::config_folder(config_file);
  const auto resolve = rsp::cli::config_path_resolver(base);

  auto identities = rsp::smds::IdentitySet::load_directory(resolve(config.pki));
  if (!identities) fail("pki " + config.pki + ": " + identities.error().message);
  const std::size_t identity_count = identities->identities().size();

  const std::string database_name = rsp::store::describe_location(config.database);
  auto opened = rsp::store::open_database(config.database, rsp::cli::serve_database_options(config.workers));
  if (!opened) fail("database " + database_name + ": " + opened.error().message);
  rsp::cli::warn_if_database_readable(config.database, kWho);
  std::shared_ptr<rsp::store::Database> db(std::move(*opened));
  static const rsp::service::SystemClock clock;  // outlives the outbox and the core
  auto outbox = rsp::service::SqlOutbox::open(db, std::string(rsp::smds::kForwardOutbox), clock);
  if (!outbox) fail("database " + database_name + ": " + outbox.error().message);
  auto events = rsp::smds::EventStore::open(db, *outbox);
  if (!events) fail("database " + database_name + ": " + events.error().message);

  auto callers = rsp::service::parse_caller_config(config.callers, base, "callers");
  if (!callers) fail(callers.error());
  auto authenticator = std::make_shared<rsp::service::CallerAuthenticator>(std::move(*callers));

  rsp::smds::ServerConfig core_config;
  core_config.address = config.address;
  core_config.session_timeout = std::chrono::seconds(config.session_timeout);
  core_config.max_sessions = static_cast<std::size_t>(config.max_sessions);
  core_config.forward_to = config.forward_to;
  // Instances share a PostgreSQL database, and with it their ES11 sessions.
  core_config.shared_sessions = db->dialect() == "postgresql";
  auto core = std::make_shared<rsp::smds::Server>(
      core_config, std::make_shared<const rsp::smds::IdentitySet>(std::move(*identities)), *events, clock,
      rsp::crypto::system_random());

  rsp::smds::HttpConfig http;
  http.host = listen->first;
  http.port = listen->second;
  http.insecure_http = config.insecure_http;
  http.admin_host = config.admin_host;
  http.admin_port = static_cast<int>(config.admin_port);
  http.worker_threads = static_cast<std::size_t>(config.workers);
  http.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  http.authenticate = [authenticator](const rsp::net::Request& req) { return authenticator->authenticate(req); };
  http.log = [](std::string_view line) {
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {}\n", fmt::gmtime(std::time(nullptr)), line);
    std::fflush(stderr);
  };
  http.access_log = rsp::cli::access_log_sink(config.access_log, kWho);
  http.metrics = std::make_shared<rsp::net::Metrics>();
  http.health_check = [events = *events]() -> std::optional<std::string> {
    if (events->check_writable()) return std::nullopt;
    return std::string("database");
  };
  std::optional<rsp::net::TlsIdentity> tls;
  if (config.insecure_http) {
    fmt::print(stderr, "{}: WARNING: plain HTTP without TLS (insecure_http), for lab use only\n", kWho);
    if (authenticator->uses_client_certificates()) fail("callers with client certificates need TLS (not insecure_http)");
  } else {
    tls = load_tls(config, resolve);
    http.tls_identities.push_back(*tls);
    if (authenticator->uses_client_certificates()) {
      http.client_roots = authenticator->client_roots();
      if (!config.client_trust.empty()) {
        auto certs = rsp::net::load_certificates(resolve(config.client_trust));
        if (!certs) fail("client_trust " + config.client_trust + ": " + certs.error().message);
        http.client_roots.insert(http.client_roots.end(), certs->begin(), certs->end());
      }
      for (const auto& c : authenticator->callers())
        if (c.client_cert && config.client_trust.empty())
          fail("caller " + c.name + " has a client_cert: name the root it chains to in client_trust");
    }
  }

  // Forwarding to the next SM-DS, from the outbox.
  std::unique_ptr<rsp::service::OutboxWorker> forwarder;
  if (!config.forward_to.empty()) {
    if (config.forward_to.rfind("https://", 0) != 0) fail("forward_to must be an https:// URL");
    if (config.forward_trust.empty()) fail("forward_to needs forward_trust (the root of the next SM-DS's certificate)");
    if (!tls) fail("forward_to needs TLS: this SM-DS's DStls certificate is its client certificate there");
    auto anchors = rsp::net::load_certificates(resolve(config.forward_trust));
    if (!anchors) fail("forward_trust " + config.forward_trust + ": " + anchors.error().message);
    rsp::es12::ClientConfig cc;
    cc.user_agent = "rsp-smds/0.1";
    cc.trust_anchors = std::move(*anchors);
    cc.identity = *tls;
    rsp::service::OutboxWorkerConfig wc;
    wc.metrics = http.metrics;
    wc.metric = "rsp_smds_forwards_total";
    wc.metric_help = "ES12 calls forwarded to the next SM-DS, by result.";
    forwarder = std::make_unique<rsp::service::OutboxWorker>(*outbox, std::move(wc), rsp::es12::outbox_sender(std::move(cc)));
  }

  rsp::service::StopSignals stop_signals;
  auto server = rsp::smds::HttpService::start(core, std::move(http));
  if (!server) fail(server.error().message);
  if (forwarder) forwarder->start();
  std::vector<std::string> lines{
      fmt::format("SM-DS {} with {} DSauth identit{} from {}", config.address, identity_count,
                  identity_count == 1 ? "y" : "ies", config.pki),
      fmt::format("events in {}", database_name),
      fmt::format("ES12 on {}/gsma/rsp2/es12/ for {} caller{}, ES11 on {}/gsma/rsp2/es11/", (*server)->url(),
                  authenticator->callers().size(), authenticator->callers().size() == 1 ? "" : "s", (*server)->url())};
  if (forwarder) lines.push_back("forwarding to " + config.forward_to + " from the outbox");
  lines.push_back(fmt::format("admin on {} (/healthz, /metrics)", (*server)->admin_url()));
  rsp::cli::serve_until_stopped(stop_signals, lines, (*server)->url(),
                                {[&] { (*server)->stop(); }, [&] {
                                   if (forwarder) forwarder->stop();
                                 }});
}

}  // namespace

RSP_COMMAND_GROUP(smds_serve) {
  auto* g = rsp::cli::group_command(app, "smds", "SM-DS server (SGP.22 discovery)");
  auto* s = g->add_subcommand("serve", "Serve the SM-DS over HTTPS (ES11, ES12; /healthz, /metrics on the admin port)");
  s->footer(kConfigHelp);
  rsp::cli::add_serve_flags(*s, run_serve);
}
