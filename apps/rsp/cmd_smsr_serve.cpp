// `rsp smsr serve`: the SM-SR on HTTPS: ES1 for the EUMs, ES4 for the MNOs
// (client certificate or API key), the EIS registry in a database with the
// ISD-R keys sealed under the key-encryption key, a sweeper that expires
// operations past their validity, /healthz and /metrics on the admin
// listener, an access log, stopping gracefully on SIGTERM/SIGINT.

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/client_certificate.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/postgresql.hpp"
#include "serve_support.hpp"
#include "smdpp_keys.hpp"

namespace {

namespace fs = std::filesystem;

constexpr const char* kWho = "rsp smsr serve";

constexpr const char* kConfigHelp = R"(Configuration (JSON object; each key can also come from the environment
variable RSP_SMSR_<KEY in upper case>, which wins over the file):
  listen          "host:port" to bind, port 0 picks a free one (default "127.0.0.1:8444")
  admin_host      address of the admin listener (/healthz, /metrics; plain HTTP;
                  default "127.0.0.1")
  admin_port      its port; 0 picks a free one (default 0; also --admin-port)
  access_log      file that gets one line per ES1/ES4 request; "-" for standard
                  output (default "-")
  tls_cert        the SM-SR's TLS certificate (PEM/DER; required unless insecure_http)
  tls_key         its private key
  database        the registry: a SQLite file (created 0600), or a postgresql:// URL (required)
  kek_file        key-encryption key file (mode 0600; relative to the configuration
                  file) under which the ISD-R keys of every EIS are sealed; default
                  for a SQLite database: <database>.kek, made on first use;
                  required with a postgresql:// database
  eums            ES1 callers (EUMs), a JSON array of {"name", "client_cert" |
                  "client_root" + "client_subject", "api_key_file" | "api_key_sha256"}
                  as `rsp smdpp serve`'s operators; the name is the eumId of the
                  eUICCs the EUM may register
  mnos            ES4 callers (MNOs), the same form; the name is the mnoId of their profiles
  client_trust    PEM file with the root certificate(s) that callers' client_cert chain to
  ecasd_trust     PEM file with the EUM certificate(s): when given, RegisterEIS refuses
                  an EIS whose ECASD certificate none of them issued
  default_validity
                  seconds an ES4 operation stays valid when its request names no
                  validityPeriod (default 3600)
  max_validity    the longest validityPeriod accepted, in seconds (default 604800)
  sweep_interval  seconds between two runs of the sweeper that expires operations (default 1)
  insecure_http   true: plain HTTP without TLS, for lab use only (also --insecure-http)
  workers         worker threads (default 4)
  max_body_bytes  largest request body (default 262144)
Prints "listening on <url>" once serving.)";

struct ServeConfig {
  std::string listen = "127.0.0.1:8444";
  std::string admin_host = "127.0.0.1";
  std::int64_t admin_port = 0;
  std::string access_log = "-";
  std::string tls_cert;
  std::string tls_key;
  std::string database;
  std::string kek_file;
  nlohmann::json eums = nlohmann::json::array();
  nlohmann::json mnos = nlohmann::json::array();
  std::string client_trust;
  std::string ecasd_trust;
  std::int64_t default_validity = 3600;
  std::int64_t max_validity = 604800;
  std::int64_t sweep_interval = 1;
  bool insecure_http = false;
  std::int64_t workers = 4;
  std::int64_t max_body_bytes = 256 * 1024;
};

std::vector<rsp::service::ConfigKey> keys(ServeConfig& c) {
  return {{"listen", &c.listen},
          {"admin_host", &c.admin_host},
          {"admin_port", nullptr, nullptr, &c.admin_port},
          {"access_log", &c.access_log},
          {"tls_cert", &c.tls_cert},
          {"tls_key", &c.tls_key},
          {"database", &c.database},
          {"kek_file", &c.kek_file},
          {"eums", nullptr, nullptr, nullptr, &c.eums},
          {"mnos", nullptr, nullptr, nullptr, &c.mnos},
          {"client_trust", &c.client_trust},
          {"ecasd_trust", &c.ecasd_trust},
          {"default_validity", nullptr, nullptr, &c.default_validity},
          {"max_validity", nullptr, nullptr, &c.max_validity},
          {"sweep_interval", nullptr, nullptr, &c.sweep_interval},
          {"insecure_http", nullptr, &c.insecure_http},
          {"workers", nullptr, nullptr, &c.workers},
          {"max_body_bytes", nullptr, nullptr, &c.max_body_bytes}};
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", kWho, message);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

/// Expires operations past their validity every `interval`, until stopped.
class Sweeper {
 public:
  Sweeper(std::shared_ptr<rsp::smsr::Service> service, std::chrono::seconds interval)
      : service_(std::move(service)), interval_(interval), thread_([this] { run(); }) {}
  ~Sweeper() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      auto n = service_->expire();
      if (!n) {
        fmt::print(stderr, "{}: the sweeper could not expire operations: {}\n", kWho, n.error().message);
      } else if (*n > 0) {
        fmt::print(stderr, "{}: {} operation{} expired\n", kWho, *n, *n == 1 ? "" : "s");
      }
      std::fflush(stderr);
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  }
  std::shared_ptr<rsp::smsr::Service> service_;
  std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

void run_serve(const std::string& config_file, bool insecure_flag, const std::string& listen_flag,
               std::optional<int> admin_port_flag) {
  ServeConfig config;
  if (!config_file.empty())
    if (auto r = rsp::service::apply_config_file(keys(config), config_file); !r) fail(r.error());
  if (auto r = rsp::service::apply_environment(keys(config), "RSP_SMSR_"); !r) fail(r.error());
  if (insecure_flag) config.insecure_http = true;
  if (!listen_flag.empty()) config.listen = listen_flag;
  if (admin_port_flag) config.admin_port = *admin_port_flag;
  if (config.admin_port < 0 || config.admin_port > 65535) fail("admin_port must be 0..65535");
  const auto listen = rsp::service::split_listen(config.listen);
  if (!listen) fail(listen.error());
  if (config.workers < 1 || config.workers > 1024) fail("workers must be 1..1024");
  if (config.max_body_bytes < 1024) fail("max_body_bytes must be at least 1024");
  if (config.max_validity < 1 || config.max_validity > 366 * 86400) fail("max_validity must be 1..31622400 seconds");
  if (config.default_validity < 1 || config.default_validity > config.max_validity)
    fail("default_validity must be 1..max_validity seconds");
  if (config.sweep_interval < 1 || config.sweep_interval > 3600) fail("sweep_interval must be 1..3600 seconds");
  if (config.database.empty()) fail("no database configured (key \"database\" or RSP_SMSR_DATABASE)");
  const fs::path base = config_file.empty() ? fs::current_path() : fs::absolute(config_file).parent_path();
  const auto resolve = [&base](const std::string& f) {
    fs::path p(f);
    return p.is_relative() ? (base / p).string() : p.string();
  };

  // The registry.
  const std::string database_name = rsp::store::describe_location(config.database);
  auto kek = rsp::service::kek_for_database(config.kek_file.empty() ? "" : resolve(config.kek_file), config.database,
                                            rsp::crypto::system_random());
  if (!kek) fail(kek.error());
  if (kek->created)
    fmt::print(stderr,
               "{}: created the key-encryption key file {} (mode 0600, key id {}). It protects the ISD-R keys of "
               "every registered eUICC: back it up apart from the database\n",
               kWho, kek->file.string(), kek->kek->id_hex());
  auto opened = rsp::store::open_database(config.database, rsp::cli::serve_database_options(config.workers));
  if (!opened) fail("database " + database_name + ": " + opened.error().message);
  rsp::cli::warn_if_database_readable(config.database, kWho);
  std::shared_ptr<rsp::store::Database> db(std::move(*opened));
  auto registry = rsp::smsr::Registry::open(db, {kek->kek, nullptr});
  if (!registry) fail("database " + database_name + ": " + registry.error().message);

  // Callers.
  auto eums = rsp::service::parse_caller_config(config.eums, base, "eums");
  if (!eums) fail(eums.error());
  auto mnos = rsp::service::parse_caller_config(config.mnos, base, "mnos");
  if (!mnos) fail(mnos.error());
  rsp::smsr::CallerRoles roles;
  std::vector<rsp::service::CallerCredential> all;
  for (const auto& c : *eums) roles.eums.insert(c.name), all.push_back(c);
  for (const auto& c : *mnos) {
    if (roles.eums.contains(c.name)) fail("'" + c.name + "' is both an EUM and an MNO");
    roles.mnos.insert(c.name);
    all.push_back(c);
  }
  if (all.empty()) fail("no callers: configure eums and/or mnos");
  auto authenticator = std::make_shared<rsp::service::CallerAuthenticator>(std::move(all));

  rsp::smsr::ServiceConfig service_config;
  service_config.registry = std::shared_ptr<rsp::smsr::Registry>(std::move(*registry));
  service_config.default_validity = std::chrono::seconds(config.default_validity);
  service_config.max_validity = std::chrono::seconds(config.max_validity);
  if (!config.ecasd_trust.empty()) {
    auto certs = rsp::net::load_certificates(resolve(config.ecasd_trust));
    if (!certs || certs->empty()) fail("ecasd_trust " + config.ecasd_trust + ": no certificate");
    service_config.check_ecasd = [issuers = std::move(*certs)](const rsp::m2m::Eis& eis) -> std::optional<std::string> {
      for (const auto& issuer : issuers)
        if (rsp::service::issued_by(eis.ecasd.certificate, issuer)) return std::nullopt;
      return std::string("the ECASD certificate was issued by none of the configured EUM certificates");
    };
  }
  auto service = std::make_shared<rsp::smsr::Service>(std::move(service_config));

  rsp::smsr::HttpConfig http;
  http.host = listen->first;
  http.port = listen->second;
  http.insecure_http = config.insecure_http;
  http.admin_host = config.admin_host;
  http.admin_port = static_cast<int>(config.admin_port);
  http.worker_threads = static_cast<std::size_t>(config.workers);
  http.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  http.roles = std::move(roles);
  http.authenticate = [authenticator](const rsp::net::Request& req) { return authenticator->authenticate(req); };
  http.log = [](std::string_view line) {
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {}\n", fmt::gmtime(std::time(nullptr)), line);
    std::fflush(stderr);
  };
  http.access_log = rsp::cli::access_log_sink(config.access_log, kWho);
  http.health_check = [db]() -> std::optional<std::string> {
    auto r = db->query_one("SELECT 1");
    if (r) return std::nullopt;
    return std::string("database");
  };
  if (config.insecure_http) {
    fmt::print(stderr, "{}: WARNING: plain HTTP without TLS (insecure_http), for lab use only\n", kWho);
  } else {
    if (config.tls_cert.empty() || config.tls_key.empty()) fail("tls_cert and tls_key are required (or insecure_http)");
    auto id = rsp::net::TlsIdentity::load(resolve(config.tls_cert), resolve(config.tls_key));
    if (!id) fail("TLS identity: " + id.error().message);
    http.tls_identities.push_back(std::move(*id));
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
  if (config.insecure_http && authenticator->uses_client_certificates())
    fail("callers with client certificates need TLS (not insecure_http)");

  rsp::service::StopSignals stop_signals;
  auto server = rsp::smsr::HttpService::start(service, std::move(http));
  if (!server) fail(server.error().message);
  Sweeper sweeper(service, std::chrono::seconds(config.sweep_interval));
  fmt::print("SM-SR registry in {}, ISD-R keys sealed under key-encryption key {}\n", database_name,
             kek->kek->id_hex());
  fmt::print("ES1 on {}/gsma/m2m/es1/ for {} EUM{}, ES4 on {}/gsma/m2m/es4/ for {} MNO{}\n", (*server)->url(),
             eums->size(), eums->size() == 1 ? "" : "s", (*server)->url(), mnos->size(), mnos->size() == 1 ? "" : "s");
  fmt::print("admin on {} (/healthz, /metrics)\n", (*server)->admin_url());
  fmt::print("listening on {}\n", (*server)->url());
  std::fflush(stdout);

  const char* sig = stop_signals.wait();
  fmt::print("{} received, finishing requests in flight\n", sig);
  std::fflush(stdout);
  (*server)->stop();
  fmt::print("stopped\n");
  std::fflush(stdout);
}

}  // namespace

RSP_COMMAND_GROUP(smsr_serve) {
  auto* g = rsp::cli::group_command(app, "smsr", "SM-SR server (SGP.02 M2M)");
  auto* s = g->add_subcommand("serve", "Serve the SM-SR over HTTPS (ES1, ES4; /healthz, /metrics on the admin port)");
  s->footer(kConfigHelp);
  auto config = std::make_shared<std::string>();
  auto insecure = std::make_shared<bool>(false);
  auto listen = std::make_shared<std::string>();
  auto admin_port = std::make_shared<int>(-1);
  s->add_option("--config", *config, "JSON configuration file");
  s->add_option("--listen", *listen, "host:port to bind (overrides the configuration)");
  s->add_option("--admin-port", *admin_port, "Port of the admin listener, 0 picks one (overrides the configuration)");
  s->add_flag("--insecure-http", *insecure, "Plain HTTP without TLS (lab use only)");
  s->callback([config, insecure, listen, admin_port] {
    run_serve(*config, *insecure, *listen, *admin_port >= 0 ? std::optional<int>(*admin_port) : std::nullopt);
  });
}
