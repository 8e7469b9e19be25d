// `rsp smdpp serve`: the SM-DP+ on HTTPS with its DPtls certificate(s),
// ES9+ for the LPA, ES2+ for the operators (API key or mutual TLS, with their
// callbacks), /healthz and /metrics on the admin listener, an access log,
// stopping gracefully on SIGTERM/SIGINT.

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <mutex>
#include <chrono>
#include <functional>

#include "command.hpp"
#include "rsp/common/allocator.hpp"
#include "rsp/common/file.hpp"
#include "rsp/common/socket_io.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/smdpp/callback_worker.hpp"
#include "rsp/smdpp/smds_events.hpp"
#include "rsp/smdpp/es2_auth.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/http_service.hpp"
#include "rsp/smdpp/identity.hpp"
#include "rsp/smdpp/server.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/postgresql.hpp"
#include "serve_support.hpp"
#include "smdpp_keys.hpp"

namespace {

constexpr const char* kConfigHelp = R"(Configuration (JSON object; each key can also come from the environment
variable RSP_SMDPP_<KEY in upper case>, which wins over the file):
  listen          "host:port" to bind, port 0 picks a free one (default "127.0.0.1:8443")
  admin_host      address of the admin listener (/healthz, /metrics; plain HTTP;
                  default "127.0.0.1": keep it off public networks)
  admin_port      its port; 0 picks a free one (default 0; also --admin-port);
                  the public port answers 404 for /healthz and /metrics
  access_log      file that gets one line per ES9+/ES2+ request (time, function,
                  caller, peer, HTTP status, SGP.22 subject/reason code,
                  duration; never a key or code); "-" for standard output
                  (default "-")
  address         the SM-DP+ address exactly as activation codes carry it: its
                  FQDN, plus ":port" when it listens elsewhere than on 443 (an
                  LPA sends the code's address back as smdpAddress; default
                  "localhost")
  pki             folder with the SM-DP+ identities (DPauth, DPpb, DPtls, CI), as
                  written by `rsp pki init` or in the SGP.26 layout (required)
  tls_cert        DPtls certificate (PEM/DER) instead of the pki folder's
  tls_key         its private key (PEM/DER)
  database        SM-DP+ database: a SQLite file, or a postgresql:// URL shared by
                  several instances (download sessions are then kept there too, so
                  the calls of one download may reach any instance); a warning
                  names any of its files that group or others can read
  kek_file        key-encryption key file (mode 0600; relative to the
                  configuration file) under which the stored profile packages are
                  encrypted, as `rsp smdpp keys init` writes it; default for a
                  SQLite database: <database>.kek, made on first use; required
                  with a postgresql:// database
  insecure_http   true: plain HTTP without TLS, for lab use only (also --insecure-http)
  workers         worker threads (default 8)
  max_body_bytes  largest request body, larger ones get 413 (default 1048576)
  head_timeout    seconds a request's head (request line and headers) may take
                  to arrive in all (default 10): a peer sending a byte at a time
                  is cut off
  body_timeout    seconds a request's body may take to arrive (default 30)
  max_connections open connections at most (default 16384, lowered to what the
                  open-file limit allows); further ones are closed at once
  max_connections_per_peer
                  open connections one peer address may hold (default 256)
  session_timeout seconds an ES9+ download session may stay unfinished after
                  authenticateClient (default 600)
  pending_session_timeout
                  seconds a session may wait between initiateAuthentication,
                  which anyone may call, and authenticateClient (default 30)
  max_sessions    download sessions held at most (default 100000); when full,
                  the oldest session still waiting for authenticateClient gives way
  peer_session_share
                  percent of max_sessions that the waiting sessions of one peer
                  address may hold (default 10); beyond it that peer's oldest
                  waiting session gives way
  order_validity  seconds a download order stays downloadable when ES2+
                  DownloadOrder names no orderExpiry (default 0: until
                  cancelled); past it ES9+ answers 8.8.5/4.10
  max_download_attempts
                  bound profile packages issued per order at most, retries by
                  the same eUICC included (default 0: no limit); beyond it ES9+
                  answers 8.8.5/6.4
  notification_events
                  the notifications every profile asks its eUICC to send to
                  this SM-DP+ (its address; StoreMetadata
                  notificationConfigurationInfo, SGP.22 §2.4a), comma-separated
                  of install, enable, disable, delete, or none (default: all
                  four); the operator hears of each as HandleDownloadProgressInfo
  notification_events_by_type
                  per profile type where it differs, a JSON object
                  {"TYPE": "enable,delete", ...}
  operators       ES2+ operators (needs database), a JSON array of
                  {"name": functionRequesterIdentifier,
                   "client_cert": the operator's TLS client certificate (PEM/DER;
                                  mutual TLS, SGP.22 §2.6.6), or
                   "client_root": the root that issues its client certificates,
                   "client_subject": with the subject they carry ("O = ..., CN = ..."),
                   "api_key_file": file holding an API key (mode 0600), or
                   "api_key_sha256": hex SHA-256 of the key,
                   "callback_url": https:// URL for HandleDownloadProgressInfo
                                   (http:// for lab use only)}
                  at least a client certificate or an API key; files relative to
                  the configuration file. Callers with a key send
                  "Authorization: Bearer <key>"; in the environment
                  RSP_SMDPP_OPERATORS holds the JSON array text
  client_trust    PEM file with the root certificate(s) that operators' client
                  certificates (client_cert) must chain to
  callback_trust  PEM file with the root certificate(s) that the operators'
                  https:// callback servers are checked against
  smds_trust      PEM file with the root certificate(s) of the SM-DSs' TLS
                  certificates, for the ES12 events of orders with an
                  smdsAddress (default: the pki folder's CI certificates)
  smds_client_cert / smds_client_key
                  this SM-DP+'s client certificate and key for ES12 (mutual
                  TLS, SGP.22 §2.6.6; default: its first DPtls identity)
Prints "listening on <url>" once serving.)";

struct ServeConfig : rsp::cli::ServeCommonConfig {
  ServeConfig() : ServeCommonConfig("127.0.0.1:8443", 8, 1024 * 1024) {}
  std::string address = "localhost";
  std::string pki;
  std::string kek_file;
  std::int64_t head_timeout = 10;
  std::int64_t body_timeout = 30;
  std::int64_t max_connections = 16384;
  std::int64_t max_connections_per_peer = 256;
  std::int64_t session_timeout = 600;
  std::int64_t pending_session_timeout = 30;
  std::int64_t max_sessions = 100000;
  std::int64_t peer_session_share = 10;
  std::int64_t order_validity = 0;
  std::int64_t max_download_attempts = 0;
  std::string notification_events = "install,enable,disable,delete";
  nlohmann::json notification_events_by_type = nlohmann::json::object();
  nlohmann::json operators = nlohmann::json::array();
  std::string callback_trust;
  std::string smds_trust;
  std::string smds_client_cert;
  std::string smds_client_key;
};

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp smdpp serve: {}\n", message);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

/// /healthz's database check: a durable write (Inventory::check_writable),
/// made at most once a second whatever the rate of probes, so that probing
/// cannot turn into a flood of disk flushes. A change of verdict is logged
/// with the reason; the probe's answer names none.
std::function<bool()> database_health_check(std::shared_ptr<rsp::smdpp::Inventory> inventory) {
  struct State {
    std::mutex mu;
    std::chrono::steady_clock::time_point checked{};
    bool healthy = true;
    bool ever = false;
  };
  auto state = std::make_shared<State>();
  return [inventory = std::move(inventory), state] {
    std::lock_guard lock(state->mu);
    const auto now = std::chrono::steady_clock::now();
    if (state->ever && now - state->checked < std::chrono::seconds(1)) return state->healthy;
    auto r = inventory->check_writable();
    state->checked = now;
    state->ever = true;
    if (static_cast<bool>(r) != state->healthy) {
      if (r)
        fmt::print(stderr, "rsp smdpp serve: the database takes writes again\n");
      else
        fmt::print(stderr, "rsp smdpp serve: the database cannot commit: {}\n", r.error().message);
      std::fflush(stderr);
    }
    state->healthy = static_cast<bool>(r);
    return state->healthy;
  };
}

/// The configuration keys (rsp/service/config.hpp reads them).
std::vector<rsp::service::ConfigKey> keys(ServeConfig& c) {
  return rsp::cli::serve_keys(c, {{"address", &c.address},
                                  {"pki", &c.pki},
                                  {"kek_file", &c.kek_file},
                                  {"head_timeout", nullptr, nullptr, &c.head_timeout},
                                  {"body_timeout", nullptr, nullptr, &c.body_timeout},
                                  {"max_connections", nullptr, nullptr, &c.max_connections},
                                  {"max_connections_per_peer", nullptr, nullptr, &c.max_connections_per_peer},
                                  {"session_timeout", nullptr, nullptr, &c.session_timeout},
                                  {"pending_session_timeout", nullptr, nullptr, &c.pending_session_timeout},
                                  {"max_sessions", nullptr, nullptr, &c.max_sessions},
                                  {"peer_session_share", nullptr, nullptr, &c.peer_session_share},
                                  {"order_validity", nullptr, nullptr, &c.order_validity},
                                  {"max_download_attempts", nullptr, nullptr, &c.max_download_attempts},
                                  {"notification_events", &c.notification_events},
                                  {"notification_events_by_type", nullptr, nullptr, nullptr,
                                   &c.notification_events_by_type},
                                  {"operators", nullptr, nullptr, nullptr, &c.operators},
                                  {"callback_trust", &c.callback_trust},
                                  {"smds_trust", &c.smds_trust},
                                  {"smds_client_cert", &c.smds_client_cert},
                                  {"smds_client_key", &c.smds_client_key}});
}

/// Refuses to start when stored packages are encrypted under another
/// key-encryption key (every download of them would fail); warns about
/// packages an older version stored in clear.
void check_package_keys(rsp::smdpp::Inventory& inventory, const rsp::smdpp::KeyEncryptionKey& kek) {
  auto count = inventory.package_keys();
  if (!count) fail("database: " + count.error().message);
  if (!count->under_other.empty()) {
    std::string others;
    for (const auto& [id, n] : count->under_other)
      others += (others.empty() ? "" : ", ") + std::to_string(n) + " under key id " + id;
    fail("profile packages in the database are encrypted under another key-encryption key (" + others +
         "), not under the configured one (key id " + kek.id_hex() + "): name the key file they were imported with "
         "(kek_file)");
  }
  if (count->in_clear > 0)
    fmt::print(stderr,
               "rsp smdpp serve: WARNING: {} profile package{} stored in clear by an older version; `rsp smdpp keys "
               "rotate` encrypts them\n",
               count->in_clear, count->in_clear == 1 ? " is" : "s are");
}

void run_serve(const rsp::cli::ServeFlags& flags) {
  const std::string& config_file = flags.config;
  ServeConfig config;
  if (auto r = rsp::cli::load_serve_config(config, keys(config), flags, "RSP_SMDPP_"); !r) fail(r.error());

  const auto listen = rsp::service::split_listen(config.listen);
  if (!listen) fail(listen.error());
  const auto [host, port] = *listen;
  if (config.workers < 1 || config.workers > 1024) fail("workers must be 1..1024");
  if (config.max_body_bytes < 1024) fail("max_body_bytes must be at least 1024");
  if (config.head_timeout < 1 || config.head_timeout > 3600) fail("head_timeout must be 1..3600 seconds");
  if (config.body_timeout < 1 || config.body_timeout > 3600) fail("body_timeout must be 1..3600 seconds");
  if (config.max_connections < 1 || config.max_connections > 1'000'000) fail("max_connections must be 1..1000000");
  if (config.max_connections_per_peer < 1 || config.max_connections_per_peer > 1'000'000)
    fail("max_connections_per_peer must be 1..1000000");
  if (config.session_timeout < 1 || config.session_timeout > 86400) fail("session_timeout must be 1..86400 seconds");
  if (config.pending_session_timeout < 1 || config.pending_session_timeout > 86400)
    fail("pending_session_timeout must be 1..86400 seconds");
  if (config.max_sessions < 1 || config.max_sessions > 100'000'000) fail("max_sessions must be 1..100000000");
  if (config.peer_session_share < 1 || config.peer_session_share > 100) fail("peer_session_share must be 1..100 (percent)");
  if (config.order_validity < 0 || config.order_validity > 10LL * 366 * 86400)
    fail("order_validity must be 0..316224000 seconds (0: none)");
  if (config.max_download_attempts < 0 || config.max_download_attempts > 1000)
    fail("max_download_attempts must be 0..1000 (0: no limit)");
  if (config.address.empty()) fail("address (the SM-DP+ FQDN) is empty");
  if (config.pki.empty()) fail("no pki folder configured (key \"pki\" or RSP_SMDPP_PKI)");

  auto identities = rsp::smdpp::IdentitySet::load_directory(config.pki);
  if (!identities) fail("SM-DP+ identities in " + config.pki + ": " + identities.error().message);
  // Orders come from the database (filled through ES2+ / `rsp smdpp` inventory
  // commands); without one the catalog is empty and in memory.
  static const rsp::smdpp::SystemClock clock;
  std::shared_ptr<rsp::smdpp::ProfileCatalog> catalog;
  std::shared_ptr<rsp::smdpp::Inventory> inventory_ptr;
  std::shared_ptr<rsp::store::Database> shared_db;  // set when instances share the database
  std::string package_key_line;
  const std::string database_name = rsp::store::describe_location(config.database);
  if (!config.database.empty()) {
    if (!rsp::store::is_postgresql_url(config.database)) {
      const auto parent = std::filesystem::absolute(config.database).parent_path();
      std::error_code ec;
      if (!std::filesystem::is_directory(parent, ec)) fail("the database folder " + parent.string() + " does not exist");
    }
    std::string kek_file = config.kek_file;
    if (!kek_file.empty() && std::filesystem::path(kek_file).is_relative() && !config_file.empty())
      kek_file = (std::filesystem::absolute(config_file).parent_path() / kek_file).string();
    auto kek = rsp::cli::kek_or_exit(kek_file, config.database, "rsp smdpp serve");
    auto opened = rsp::store::open_database(config.database, rsp::cli::serve_database_options(config.workers));
    if (!opened) fail("database " + database_name + ": " + opened.error().message);
    rsp::cli::warn_if_database_readable(config.database, "rsp smdpp serve");
    std::shared_ptr<rsp::store::Database> db(std::move(*opened));
    auto inventory = rsp::smdpp::Inventory::open(db, clock, {kek, nullptr});
    if (!inventory) fail("database " + database_name + ": " + inventory.error().message);
    check_package_keys(**inventory, *kek);
    package_key_line = "profile packages encrypted under key-encryption key " + kek->id_hex();
    if (db->dialect() == "postgresql") shared_db = db;
    inventory_ptr = std::move(*inventory);
    rsp::smdpp::SqlCatalogOptions catalog_options;
    catalog_options.max_download_attempts = static_cast<int>(config.max_download_attempts);
    catalog_options.notification_address = config.address;
    const auto events = rsp::smdpp::parse_notification_events(config.notification_events);
    if (!events) fail("notification_events: \"" + config.notification_events + "\" is not a list of install, enable, "
                      "disable, delete");
    catalog_options.notification_events = *events;
    if (!config.notification_events_by_type.is_object()) fail("notification_events_by_type must be a JSON object");
    for (const auto& [type, value] : config.notification_events_by_type.items()) {
      const auto by_type = value.is_string() ? rsp::smdpp::parse_notification_events(value.get<std::string>())
                                             : std::nullopt;
      if (!by_type) fail("notification_events_by_type: the value for \"" + type + "\" is not a list of install, "
                         "enable, disable, delete");
      catalog_options.notification_events_by_type[type] = *by_type;
    }
    catalog = std::make_shared<rsp::smdpp::SqlProfileCatalog>(inventory_ptr, rsp::crypto::system_random(),
                                                              catalog_options);
  } else {
    catalog = std::make_shared<rsp::smdpp::InMemoryProfileCatalog>();
  }
  const std::size_t identity_count = identities->identities().size();
  rsp::smdpp::ServerConfig core_config;
  core_config.address = config.address;
  core_config.session_timeout = std::chrono::seconds(config.session_timeout);
  // Waiting never gets longer than a whole download may take.
  core_config.pending_session_timeout =
      std::chrono::seconds(std::min(config.pending_session_timeout, config.session_timeout));
  core_config.max_sessions = static_cast<std::size_t>(config.max_sessions);
  core_config.peer_session_share = static_cast<double>(config.peer_session_share) / 100.0;
  auto identity_set = std::make_shared<const rsp::smdpp::IdentitySet>(std::move(*identities));
  std::shared_ptr<rsp::smdpp::SessionStore> sessions;
  if (shared_db) sessions = std::make_shared<rsp::smdpp::SqlSessionStore>(shared_db, identity_set);
  auto core = std::make_shared<rsp::smdpp::Server>(core_config, identity_set, catalog, clock,
                                                   rsp::crypto::system_random(), sessions);

  rsp::smdpp::HttpServiceConfig service_config;
  service_config.host = host;
  service_config.port = port;
  service_config.address = config.address;
  service_config.insecure_http = config.insecure_http;
  service_config.worker_threads = static_cast<std::size_t>(config.workers);
  service_config.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  service_config.head_timeout = std::chrono::seconds(config.head_timeout);
  service_config.body_timeout = std::chrono::seconds(config.body_timeout);
  service_config.max_connections = static_cast<std::size_t>(config.max_connections);
  service_config.max_connections_per_peer = static_cast<std::size_t>(config.max_connections_per_peer);
  service_config.es9 = rsp::smdpp::es9_dispatcher(core);
  service_config.metrics = std::make_shared<rsp::net::Metrics>();
  if (inventory_ptr) service_config.database_healthy = database_health_check(inventory_ptr);
  service_config.admin_host = config.admin_host;
  service_config.admin_port = static_cast<int>(config.admin_port);
  service_config.log = [](std::string_view line) {
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {}\n", fmt::gmtime(std::time(nullptr)), line);
    std::fflush(stderr);
  };
  service_config.access_log = rsp::cli::access_log_sink(config.access_log, "rsp smdpp serve");

  // ES2+ for the configured operators; their callbacks leave from the outbox.
  std::size_t operator_count = 0;
  std::string credentials;  // how the operators authenticate, for the start-up line
  std::unique_ptr<rsp::smdpp::CallbackWorker> callbacks;
  if (!config.operators.empty()) {
    if (!inventory_ptr) fail("operators need a database (key \"database\")");
    const auto base = rsp::cli::config_folder(config_file);
    auto creds = rsp::smdpp::parse_operator_config(config.operators, base);
    if (!creds) fail(creds.error());
    bool https_callbacks = false;
    for (const auto& c : *creds) {
      if (auto r = inventory_ptr->set_callback_url(c.name, c.callback_url); !r)
        fail("database " + config.database + ": " + r.error().message);
      if (c.callback_url.rfind("https://", 0) == 0) https_callbacks = true;
      if (c.callback_url.rfind("http://", 0) == 0)
        fmt::print(stderr,
                   "rsp smdpp serve: WARNING: operator {} gets its callbacks over plain HTTP, for lab use only\n",
                   c.name);
    }
    std::vector<rsp::Bytes> anchors;
    if (!config.callback_trust.empty()) {
      auto certs = rsp::net::load_certificates(config.callback_trust);
      if (!certs) fail("callback_trust " + config.callback_trust + ": " + certs.error().message);
      anchors = std::move(*certs);
    } else if (https_callbacks) {
      fail("https:// callback URLs need callback_trust (the root certificate of the operators' servers)");
    }
    operator_count = creds->size();
    auto authenticator = std::make_shared<rsp::smdpp::OperatorAuthenticator>(std::move(*creds));
    if (authenticator->uses_client_certificates()) {
      // Mutual TLS: client chains are verified against client_trust and the
      // roots named by client_root entries.
      service_config.client_roots = authenticator->client_roots();
      if (!config.client_trust.empty()) {
        auto certs = rsp::net::load_certificates(config.client_trust);
        if (!certs) fail("client_trust " + config.client_trust + ": " + certs.error().message);
        service_config.client_roots.insert(service_config.client_roots.end(), certs->begin(), certs->end());
      }
      for (const auto& c : authenticator->callers())
        if (c.client_cert && config.client_trust.empty())
          fail("operator " + c.name + " has a client_cert: name the root it chains to in client_trust");
      if (config.insecure_http) fail("operators with client certificates need TLS (not insecure_http)");
    }
    bool certs = false, keys = false;
    for (const auto& c : authenticator->callers()) {
      certs = certs || c.client_cert || c.client_root;
      keys = keys || !c.key_sha256.empty();
    }
    credentials = certs && keys ? "client certificate or API key" : certs ? "client certificate" : "API key";
    rsp::smdpp::Es2Config es2_config{config.address, 3, std::nullopt};
    if (config.order_validity > 0) es2_config.order_validity = std::chrono::seconds(config.order_validity);
    auto es2 = std::make_shared<rsp::smdpp::Es2Service>(inventory_ptr, es2_config, rsp::crypto::system_random());
    service_config.es2 = rsp::smdpp::es2_dispatcher(es2);
    service_config.es2_authenticate = [authenticator](const rsp::net::Request& req) {
      return authenticator->authenticate(req);
    };
    rsp::smdpp::CallbackWorkerConfig worker_config;
    worker_config.requester_identifier = config.address;
    worker_config.metrics = service_config.metrics;
    callbacks = std::make_unique<rsp::smdpp::CallbackWorker>(
        inventory_ptr, std::move(worker_config), rsp::smdpp::https_callback_sender(std::move(anchors)));
  }
  if (config.insecure_http) {
    fmt::print(stderr, "rsp smdpp serve: WARNING: plain HTTP without TLS (insecure_http), for lab use only\n");
  } else if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    if (config.tls_cert.empty() || config.tls_key.empty()) fail("tls_cert and tls_key go together");
    auto id = rsp::net::TlsIdentity::load(config.tls_cert, config.tls_key);
    if (!id) fail("DPtls: " + id.error().message);
    service_config.tls_identities.push_back(std::move(*id));
  } else {
    auto ids = rsp::smdpp::load_tls_identities(config.pki);
    if (!ids) fail(ids.error().message);
    service_config.tls_identities = std::move(*ids);
  }

  // ES12 (SGP.22 §3.6, §5.7): the SM-DS events of orders with an smdsAddress.
  std::unique_ptr<rsp::smdpp::SmdsEventWorker> smds_events;
  if (callbacks) {
    rsp::smdpp::SmdsEventWorkerConfig c;
    c.metrics = service_config.metrics;
    c.client.user_agent = "rsp-smdpp/0.1";
    if (!config.smds_trust.empty()) {
      auto certs = rsp::net::load_certificates(config.smds_trust);
      if (!certs) fail("smds_trust " + config.smds_trust + ": " + certs.error().message);
      c.client.trust_anchors = std::move(*certs);
    } else if (!config.pki.empty()) {
      for (const char* curve : {"NIST", "BRP"}) {
        const auto ci = std::filesystem::path(config.pki) / (std::string("CERT_CI_ECDSA_") + curve + ".pem");
        if (!std::filesystem::exists(ci)) continue;
        auto certs = rsp::net::load_certificates(ci.string());
        if (!certs) fail("smds_trust " + ci.string() + ": " + certs.error().message);
        c.client.trust_anchors.insert(c.client.trust_anchors.end(), certs->begin(), certs->end());
      }
    }
    if (!config.smds_client_cert.empty() || !config.smds_client_key.empty()) {
      if (config.smds_client_cert.empty() || config.smds_client_key.empty())
        fail("smds_client_cert and smds_client_key go together");
      auto id = rsp::net::TlsIdentity::load(config.smds_client_cert, config.smds_client_key);
      if (!id) fail("smds_client_cert: " + id.error().message);
      c.client.identity = std::move(*id);
    } else if (!service_config.tls_identities.empty()) {
      c.client.identity = service_config.tls_identities.front();
    }
    if (auto r = inventory_ptr->enable_smds_events(config.address); !r) fail(r.error().message);
    smds_events = std::make_unique<rsp::smdpp::SmdsEventWorker>(inventory_ptr, std::move(c));
  }

  rsp::tune_allocator_for_server();
  rsp::raise_open_file_limit();  // each connection is a descriptor; thousands may be open
  // Block the stop signals before any thread starts, so that every server
  // thread inherits the mask and only sigwait below sees them.
  rsp::service::StopSignals stop_signals;

  std::vector<std::string> tls_lines;
  for (const auto& id : service_config.tls_identities) tls_lines.push_back(id.subject() + " (" + id.curve() + ")");
  auto service = rsp::smdpp::HttpService::start(std::move(service_config));
  if (!service) fail(service.error().message);
  std::vector<std::string> lines;
  lines.push_back(fmt::format("SM-DP+ {} with {} identit{} from {}", config.address, identity_count,
                              identity_count == 1 ? "y" : "ies", config.pki));
  lines.push_back(fmt::format("orders from {}", config.database.empty() ? std::string("memory (no database: empty)")
                                                                        : database_name));
  if (!package_key_line.empty()) lines.push_back(package_key_line);
  if (shared_db) lines.push_back("download sessions in the database (shared by the instances)");
  for (const auto& line : tls_lines) lines.push_back("DPtls " + line);
  lines.push_back(fmt::format("ES9+ on {}/gsma/rsp2/es9plus/", (*service)->url()));
  if (callbacks) {
    callbacks->start();
    smds_events->start();
    lines.push_back(fmt::format("ES2+ on {}/gsma/rsp2/es2plus/ for {} operator{} ({}), callbacks from the outbox",
                                (*service)->url(), operator_count, operator_count == 1 ? "" : "s", credentials));
  }
  lines.push_back(fmt::format("admin on {} (/healthz, /metrics)", (*service)->admin_url()));
  rsp::cli::serve_until_stopped(stop_signals, lines, (*service)->url(),
                                {[&] { (*service)->stop(); }, [&] {
                                   if (callbacks) callbacks->stop();
                                   if (smds_events) smds_events->stop();
                                 }});
}

}  // namespace

RSP_COMMAND_GROUP(smdpp_serve) {
  auto* g = rsp::cli::group_command(app, "smdpp", "SM-DP+ server and inventory");
  auto* s = g->add_subcommand("serve", "Serve the SM-DP+ over HTTPS (ES9+, ES2+; /healthz, /metrics on the admin port)");
  s->footer(kConfigHelp);
  rsp::cli::add_serve_flags(*s, run_serve);
}
