// `rsp smsr serve`: the SM-SR on HTTPS: ES1 for the EUMs, ES4 for the MNOs
// (client certificate or API key), the EIS registry in a database with the
// ISD-R keys sealed under the key-encryption key, ES5 (SMS wake-ups through
// an SMSC, the PSK-TLS administration-session listener), the MNO callbacks
// from the durable outbox, a sweeper that expires operations past their
// validity, /healthz and /metrics on the admin listener, an access log,
// stopping gracefully on SIGTERM/SIGINT.

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/client_certificate.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smpp/client.hpp"
#include "rsp/smpp/loopback.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/postgresql.hpp"
#include "serve_support.hpp"
#include "rsp/common/allocator.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/smsr/es7_service.hpp"
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
  mnos            ES4 callers (MNOs), the same form; the name is the mnoId of their profiles;
                  "callback_binding": "soap" sends that MNO's callbacks in SGP.02's SOAP
                  binding (default "json"). ES1, ES3, ES4 and ES7 are served in both
                  bindings: JSON on /gsma/m2m/es1/, /es3/, /es4/, /es7/; SOAP on
                  /gsma/m2m/soap/ES1, /ES3, /ES4, /ES7 (docs/smsr.wsdl, docs/smsr.xsd)
  smdps           ES3 callers (M2M SM-DPs, `rsp smdp serve`), the same form; the name is
                  the SM-DP's identifier; "callback_url" is the SM-DP's ES3 results route
                  (its es3_results_path), where the results of its functions are posted.
                  ES3 is served on /gsma/m2m/es3/ when any is configured
  client_trust    PEM file with the root certificate(s) that callers' client_cert chain to
  smsr_id         this SM-SR's identifier, the EIS's smsrId (default "smsr")
  smsrs           ES7 peers (the other SM-SRs), the same form as mnos (their client
                  certificate names them when they call ES7 here) with "es7_url": the
                  base URL of their ES7, which this SM-SR calls with tls_cert / tls_key
                  as client identity (mutual TLS) and their server certificate checked
                  against es7_trust. With peers, ES7 (/gsma/m2m/es7/) and ES4
                  PrepareSMSRChange / SMSRChange are served (SGP.02 §3.8, SM-SR change)
  es7_trust       PEM file with the root certificate(s) of the peers' TLS certificates
  es7_certificate CERT.SR.ECDSA, which eUICCs taken over from a peer check against
                  their CI (PEM/DER), and es7_key its private key (SK.SR.ECDSA, 0600);
                  without them this SM-SR hands eUICCs over but takes none
  es7_ci          PEM file with the CI certificate(s) a handed-over ECASD certificate
                  chains to, through the EUM certificates of ecasd_trust
  ecasd_trust     PEM file with the EUM certificate(s): when given, RegisterEIS refuses
                  an EIS whose ECASD certificate none of them issued
  default_validity
                  seconds an ES4 operation stays valid when its request names no
                  validityPeriod (default 3600)
  max_validity    the longest validityPeriod accepted, in seconds (default 604800)
  sweep_interval  seconds between two runs of the sweeper that expires operations (default 1)
  es5_listen      "host:port" of the ES5 administration-session listener (PSK-TLS,
                  SCP81; RAM over HTTP), port 0 picks one (default "127.0.0.1:0");
                  prints "ES5 admin sessions on host:port"
  es5_address     "host:port" the SMS wake-up names for the eUICC to connect to
                  (default: the listener's own address)
  es5_path        the administration session's URI (default "/gsma/adminagent")
  es5_max_attempts
                  sessions without a usable answer before an operation fails
                  (1.6/5.4; default 3)
  wakeup_retry_interval
                  seconds after which an SMS wake-up that no administration
                  session of its eUICC followed (lost, or refused by the SMSC) is
                  sent again, doubling after each retry (default 60; checked by
                  the sweeper, every sweep_interval)
  wakeup_retries  wake-ups sent again at most after the first, and none once the
                  eUICC's operations have ended or expired (default 3; 0: none)
  smsc            "loopback": an in-process SMSC, the embedded default (only
                  devices in this process receive); "smpp": an SMPP 3.4 SMSC
                  (bound as transceiver) at smpp_host / smpp_port with
                  smpp_system_id / smpp_password (default "loopback")
  smpp_host       default "127.0.0.1"
  smpp_port       default 2775
  smpp_system_id  the ESME's system_id (at most 15 characters)
  smpp_password   its password (at most 8 characters; prefer RSP_SMSR_SMPP_PASSWORD)
  sms_source      the SM-SR's own address, the wake-ups' originator (digits,
                  international; default "0000")
  callback_trust  PEM file with the root certificate(s) of the MNOs' callback
                  servers (each MNO's "callback_url" in mnos)
  callback_timeout
                  seconds for each connect, read and write of a callback (default 10)
  callback_client_cert, callback_client_key
                  the TLS client certificate and key the callbacks present to a
                  callback server that asks for one (an SM-DP knows its SM-SR's ES3
                  results and notifications by it); default tls_cert / tls_key
  insecure_http   true: plain HTTP without TLS, for lab use only (also --insecure-http)
  workers         worker threads (default 4)
  max_body_bytes  largest request body (default 262144)
Prints "listening on <url>" once serving.)";

struct ServeConfig : rsp::cli::ServeCommonConfig {
  ServeConfig() : ServeCommonConfig("127.0.0.1:8444", 4, 256 * 1024) {}
  std::string kek_file;
  nlohmann::json eums = nlohmann::json::array();
  nlohmann::json mnos = nlohmann::json::array();
  nlohmann::json smdps = nlohmann::json::array();
  std::string ecasd_trust;
  std::int64_t default_validity = 3600;
  std::int64_t max_validity = 604800;
  std::int64_t sweep_interval = 1;
  std::string es5_listen = "127.0.0.1:0";
  std::string es5_address;
  std::string es5_path = "/gsma/adminagent";
  std::int64_t es5_max_attempts = 3;
  std::int64_t wakeup_retry_interval = 60;
  std::int64_t wakeup_retries = 3;
  std::string smsc = "loopback";
  std::string smpp_host = "127.0.0.1";
  std::int64_t smpp_port = 2775;
  std::string smpp_system_id;
  std::string smpp_password;
  std::string sms_source = "0000";
  std::string callback_trust;
  std::int64_t callback_timeout = 10;
  std::string callback_client_cert;
  std::string callback_client_key;
  std::string smsr_id = "smsr";
  nlohmann::json smsrs = nlohmann::json::array();
  std::string es7_trust;
  std::string es7_certificate;
  std::string es7_key;
  std::string es7_ci;
};

std::vector<rsp::service::ConfigKey> keys(ServeConfig& c) {
  return rsp::cli::serve_keys(c, {{"kek_file", &c.kek_file},
                                  {"eums", nullptr, nullptr, nullptr, &c.eums},
                                  {"mnos", nullptr, nullptr, nullptr, &c.mnos},
                                  {"smdps", nullptr, nullptr, nullptr, &c.smdps},
                                  {"ecasd_trust", &c.ecasd_trust},
                                  {"default_validity", nullptr, nullptr, &c.default_validity},
                                  {"max_validity", nullptr, nullptr, &c.max_validity},
                                  {"sweep_interval", nullptr, nullptr, &c.sweep_interval},
                                  {"es5_listen", &c.es5_listen},
                                  {"es5_address", &c.es5_address},
                                  {"es5_path", &c.es5_path},
                                  {"es5_max_attempts", nullptr, nullptr, &c.es5_max_attempts},
                                  {"wakeup_retry_interval", nullptr, nullptr, &c.wakeup_retry_interval},
                                  {"wakeup_retries", nullptr, nullptr, &c.wakeup_retries},
                                  {"smsc", &c.smsc},
                                  {"smpp_host", &c.smpp_host},
                                  {"smpp_port", nullptr, nullptr, &c.smpp_port},
                                  {"smpp_system_id", &c.smpp_system_id},
                                  {"smpp_password", &c.smpp_password},
                                  {"sms_source", &c.sms_source},
                                  {"callback_trust", &c.callback_trust},
                                  {"callback_timeout", nullptr, nullptr, &c.callback_timeout},
                                  {"callback_client_cert", &c.callback_client_cert},
                                  {"callback_client_key", &c.callback_client_key},
                                  {"smsr_id", &c.smsr_id},
                                  {"smsrs", nullptr, nullptr, nullptr, &c.smsrs},
                                  {"es7_trust", &c.es7_trust},
                                  {"es7_certificate", &c.es7_certificate},
                                  {"es7_key", &c.es7_key},
                                  {"es7_ci", &c.es7_ci}});
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", kWho, message);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

/// Expires operations past their validity every `interval`, and sends again
/// the wake-ups due for a retry (Es5Link::retry_wake_ups), until stopped.
class Sweeper {
 public:
  Sweeper(std::shared_ptr<rsp::smsr::Service> service, rsp::smsr::Es5Link& link, std::chrono::seconds interval)
      : service_(std::move(service)), link_(link), interval_(interval), thread_([this] { run(); }) {}
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
      link_.retry_wake_ups();
      std::fflush(stderr);
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  }
  std::shared_ptr<rsp::smsr::Service> service_;
  rsp::smsr::Es5Link& link_;
  std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

void run_serve(const rsp::cli::ServeFlags& flags) {
  const std::string& config_file = flags.config;
  ServeConfig config;
  if (auto r = rsp::cli::load_serve_config(config, keys(config), flags, "RSP_SMSR_"); !r) fail(r.error());
  const auto listen = rsp::service::split_listen(config.listen);
  if (!listen) fail(listen.error());
  if (config.workers < 1 || config.workers > 1024) fail("workers must be 1..1024");
  if (config.max_body_bytes < 1024) fail("max_body_bytes must be at least 1024");
  if (config.max_validity < 1 || config.max_validity > 366 * 86400) fail("max_validity must be 1..31622400 seconds");
  if (config.default_validity < 1 || config.default_validity > config.max_validity)
    fail("default_validity must be 1..max_validity seconds");
  if (config.sweep_interval < 1 || config.sweep_interval > 3600) fail("sweep_interval must be 1..3600 seconds");
  if (config.database.empty()) fail("no database configured (key \"database\" or RSP_SMSR_DATABASE)");
  const auto es5_listen = rsp::service::split_listen(config.es5_listen);
  if (!es5_listen) fail("es5_listen: " + es5_listen.error());
  if (config.es5_path.empty() || config.es5_path[0] != '/') fail("es5_path must start with /");
  if (config.es5_max_attempts < 1 || config.es5_max_attempts > 100) fail("es5_max_attempts must be 1..100");
  if (config.wakeup_retry_interval < 1 || config.wakeup_retry_interval > 86400)
    fail("wakeup_retry_interval must be 1..86400 seconds");
  if (config.wakeup_retries < 0 || config.wakeup_retries > 16) fail("wakeup_retries must be 0..16");
  if (config.smsc != "loopback" && config.smsc != "smpp") fail("smsc must be \"loopback\" or \"smpp\"");
  if (config.smpp_port < 1 || config.smpp_port > 65535) fail("smpp_port must be 1..65535");
  if (config.callback_timeout < 1 || config.callback_timeout > 300) fail("callback_timeout must be 1..300 seconds");
  if (config.sms_source.empty()) fail("sms_source must name the SM-SR's address");
  const fs::path base = rsp::cli::config_folder(config_file);
  const auto resolve = rsp::cli::config_path_resolver(base);

  // The registry.
  const std::string database_name = rsp::store::describe_location(config.database);
  const auto kek = rsp::cli::kek_or_exit(config.kek_file.empty() ? "" : resolve(config.kek_file), config.database,
                                         kWho, "the ISD-R keys of every registered eUICC");
  auto opened = rsp::store::open_database(config.database, rsp::cli::serve_database_options(config.workers));
  if (!opened) fail("database " + database_name + ": " + opened.error().message);
  rsp::cli::warn_if_database_readable(config.database, kWho);
  std::shared_ptr<rsp::store::Database> db(std::move(*opened));

  // Callers.
  auto eums = rsp::service::parse_caller_config(config.eums, base, "eums");
  if (!eums) fail(eums.error());
  // Each MNO's callback binding, taken out before the callers' own keys are read.
  auto soap_callback_urls = rsp::cli::take_soap_callback_urls(config.mnos, "mnos");
  if (!soap_callback_urls) fail(soap_callback_urls.error());
  auto mnos = rsp::service::parse_caller_config(config.mnos, base, "mnos");
  if (!mnos) fail(mnos.error());
  auto smdps = rsp::service::parse_caller_config(config.smdps, base, "smdps");
  if (!smdps) fail(smdps.error());
  // The ES7 peers: their URL taken out before their caller keys are read.
  std::map<std::string, std::string> es7_urls;
  if (config.smsrs.is_array())
    for (auto& m : config.smsrs) {
      if (!m.is_object() || !m.contains("es7_url") || !m["es7_url"].is_string() || !m.contains("name") ||
          !m["name"].is_string())
        fail("smsrs: each peer needs a \"name\" and an \"es7_url\"");
      es7_urls[m["name"].get<std::string>()] = m["es7_url"].get<std::string>();
      m.erase("es7_url");
    }
  auto smsrs = rsp::service::parse_caller_config(config.smsrs, base, "smsrs");
  if (!smsrs) fail(smsrs.error());
  std::map<std::string, std::string> callback_urls;
  for (const auto& c : *mnos) callback_urls[c.name] = c.callback_url;
  for (const auto& c : *smdps) callback_urls[c.name] = c.callback_url;

  rsp::smsr::RegistryOptions registry_options;
  registry_options.kek = kek;
  if (db->dialect() == "sqlite") {
    // Reads on a connection of their own (WAL): GetEIS and the ES5 lookups
    // never wait behind a write transaction's disk flush.
    auto reader = rsp::store::open_database(config.database);
    if (!reader) fail("database " + database_name + ": " + reader.error().message);
    registry_options.reader = std::move(*reader);
    // This process alone writes the file: the EIS of the active eUICCs are
    // kept parsed between their operations' steps (RegistryOptions::eis_cache).
    registry_options.eis_cache = 4096;
  }
  registry_options.callback_url = [callback_urls](const std::string& mno) {
    auto it = callback_urls.find(mno);
    return it == callback_urls.end() ? std::string() : it->second;
  };
  auto opened_registry = rsp::smsr::Registry::open(db, std::move(registry_options));
  if (!opened_registry) fail("database " + database_name + ": " + opened_registry.error().message);
  std::shared_ptr<rsp::smsr::Registry> registry(std::move(*opened_registry));
  rsp::smsr::CallerRoles roles;
  std::vector<rsp::service::CallerCredential> all;
  for (const auto& c : *eums) roles.eums.insert(c.name), all.push_back(c);
  for (const auto& c : *mnos) {
    if (roles.eums.contains(c.name)) fail("'" + c.name + "' is both an EUM and an MNO");
    roles.mnos.insert(c.name);
    all.push_back(c);
  }
  for (const auto& c : *smdps) {
    if (roles.eums.contains(c.name) || roles.mnos.contains(c.name))
      fail("'" + c.name + "' is an SM-DP and also an EUM or an MNO");
    roles.smdps.insert(c.name);
    all.push_back(c);
  }
  for (const auto& c : *smsrs) {
    if (roles.eums.contains(c.name) || roles.mnos.contains(c.name)) fail("'" + c.name + "' is also an EUM or an MNO");
    if (c.name == config.smsr_id) fail("smsrs: '" + c.name + "' is this SM-SR's own smsr_id");
    roles.smsrs.insert(c.name);
    all.push_back(c);
  }
  if (all.empty()) fail("no callers: configure eums and/or mnos");
  auto authenticator = std::make_shared<rsp::service::CallerAuthenticator>(std::move(all));

  // ES5: the SMSC, the link, later the session listener.
  const auto log_line = [](std::string_view line) {
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {}\n", fmt::gmtime(std::time(nullptr)), line);
    std::fflush(stderr);
  };
  const rsp::smpp::Address source{config.sms_source, 1, 1};
  std::unique_ptr<rsp::smpp::LoopbackSmsc> loopback;
  std::unique_ptr<rsp::smpp::SmsTransport> sms;
  if (config.smsc == "loopback") {
    loopback = std::make_unique<rsp::smpp::LoopbackSmsc>();
    sms = loopback->attach(source);
  } else {
    rsp::smpp::SmppClientConfig sc;
    sc.host = config.smpp_host;
    sc.port = static_cast<std::uint16_t>(config.smpp_port);
    sc.system_id = config.smpp_system_id;
    sc.password = config.smpp_password;
    sc.address = source;
    sc.log = log_line;
    auto client = rsp::smpp::SmppClient::connect(std::move(sc));
    if (!client) fail("SMSC " + config.smpp_host + ":" + std::to_string(config.smpp_port) + ": " + client.error().message);
    sms = std::move(*client);
  }
  rsp::smsr::Es5LinkConfig link_config;
  link_config.registry = registry;
  link_config.sms = sms.get();
  link_config.source = source;
  link_config.max_attempts = static_cast<int>(config.es5_max_attempts);
  link_config.wake_up_retry_interval = std::chrono::seconds(config.wakeup_retry_interval);
  link_config.wake_up_retries = static_cast<int>(config.wakeup_retries);
  link_config.log = [log_line](const std::string& line) { log_line(line); };
  auto link = std::make_unique<rsp::smsr::Es5Link>(std::move(link_config));

  rsp::smsr::ServiceConfig service_config;
  service_config.registry = registry;
  service_config.scripts = rsp::smsr::isdr_script;
  service_config.wake_up = [l = link.get()](const std::string& eid) { l->wake_up(eid); };
  service_config.wake_up_due = [l = link.get()](const std::string& eid) { return l->first_wake_up_due(eid); };
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
  // ES3 for the SM-DPs, on the same registry and link.
  std::shared_ptr<rsp::smsr::Es3Service> es3;
  if (!smdps->empty()) {
    es3 = std::make_shared<rsp::smsr::Es3Service>(service_config);
    link->attach_es3(es3);
  }
  auto service = std::make_shared<rsp::smsr::Service>(std::move(service_config));
  link->attach(service);

  // ES7 (SM-SR change), with peers configured.
  std::shared_ptr<rsp::smsr::Es7Service> es7;
  if (!es7_urls.empty()) {
    rsp::smsr::Es7Config ec;
    ec.registry = registry;
    ec.smsr_id = config.smsr_id;
    ec.default_validity = std::chrono::seconds(config.default_validity);
    ec.max_validity = std::chrono::seconds(config.max_validity);
    ec.wake_up = [l = link.get()](const std::string& eid) { l->wake_up(eid); };
    if (!config.es7_certificate.empty() || !config.es7_key.empty()) {
      auto cert = rsp::pki::Certificate::load_file(resolve(config.es7_certificate));
      if (!cert || cert->empty()) fail("es7_certificate " + config.es7_certificate + ": no certificate");
      auto pem = rsp::read_file(resolve(config.es7_key));
      if (!pem) fail("es7_key " + config.es7_key + ": cannot be read");
      auto key = rsp::crypto::EcKey::from_pem(std::string(pem->begin(), pem->end()));
      rsp::wipe(*pem);
      if (!key) fail("es7_key " + config.es7_key + ": not an EC private key");
      ec.certificate = cert->front().der();
      ec.signing_key = std::move(*key);
      const auto load_all = [&](const std::string& file, const char* what) {
        std::vector<rsp::pki::Certificate> out;
        if (file.empty()) fail(std::string(what) + " is required with es7_certificate");
        auto certs = rsp::pki::Certificate::load_file(resolve(file));
        if (!certs || certs->empty()) fail(std::string(what) + " " + file + ": no certificate");
        for (auto& c : *certs) out.push_back(std::move(c));
        return out;
      };
      ec.eums = load_all(config.ecasd_trust, "ecasd_trust");
      ec.cis = load_all(config.es7_ci, "es7_ci");
    }
    std::vector<rsp::Bytes> peer_roots;
    if (!config.es7_trust.empty()) {
      auto certs = rsp::net::load_certificates(resolve(config.es7_trust));
      if (!certs || certs->empty()) fail("es7_trust " + config.es7_trust + ": no certificate");
      peer_roots = std::move(*certs);
    }
    std::map<std::string, std::shared_ptr<rsp::smsr::Es7Peer>> peers;
    for (const auto& [name, url] : es7_urls) {
      rsp::smsr::Es7PeerOptions po;
      po.url = url;
      po.trust_anchors = peer_roots;
      if (!config.tls_cert.empty() && !config.tls_key.empty()) {
        auto id = rsp::net::TlsIdentity::load(resolve(config.tls_cert), resolve(config.tls_key));
        if (!id) fail("TLS identity: " + id.error().message);
        po.identity = std::move(*id);
      }
      auto peer = rsp::smsr::https_es7_peer(std::move(po));
      if (!peer) fail("smsrs: " + name + ": " + peer.error().message);
      peers[name] = std::move(*peer);
    }
    ec.peer = [peers](const std::string& id) -> std::shared_ptr<rsp::smsr::Es7Peer> {
      auto it = peers.find(id);
      return it == peers.end() ? nullptr : it->second;
    };
    es7 = std::make_shared<rsp::smsr::Es7Service>(std::move(ec));
    link->attach_es7(es7);
  }

  rsp::smsr::HttpConfig http;
  http.host = listen->first;
  http.port = listen->second;
  http.insecure_http = config.insecure_http;
  http.admin_host = config.admin_host;
  http.admin_port = static_cast<int>(config.admin_port);
  http.worker_threads = static_cast<std::size_t>(config.workers);
  http.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  http.roles = std::move(roles);
  http.es3 = es3;
  http.es7 = es7;
  http.get_eis_inline = db->dialect() == "sqlite";  // the registry reads on its own connection (above)
  http.authenticate = [authenticator](const rsp::net::Request& req) { return authenticator->authenticate(req); };
  http.log = log_line;
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

  std::vector<rsp::Bytes> callback_roots;
  if (!config.callback_trust.empty()) {
    auto certs = rsp::net::load_certificates(resolve(config.callback_trust));
    if (!certs || certs->empty()) fail("callback_trust " + config.callback_trust + ": no certificate");
    callback_roots = std::move(*certs);
  }

  // The callbacks' TLS client identity (mutual TLS towards the SM-DPs).
  std::optional<rsp::net::TlsIdentity> callback_identity;
  {
    const bool own = !config.callback_client_cert.empty() || !config.callback_client_key.empty();
    const std::string cert = own ? config.callback_client_cert : config.tls_cert;
    const std::string key = own ? config.callback_client_key : config.tls_key;
    if (own && (cert.empty() || key.empty())) fail("callback_client_cert and callback_client_key go together");
    if (!cert.empty() && !key.empty()) {
      auto id = rsp::net::TlsIdentity::load(resolve(cert), resolve(key));
      if (!id) fail("callback client identity: " + id.error().message);
      callback_identity = std::move(*id);
    }
  }

  rsp::tune_allocator_for_server();
  rsp::service::StopSignals stop_signals;
  rsp::es5::AdminSessionOptions es5_options;
  es5_options.host = es5_listen->first;
  es5_options.port = es5_listen->second;
  es5_options.path = config.es5_path;
  es5_options.log = [log_line](const std::string& line) { log_line(line); };
  rsp::es5::AdminSessionServer es5_server(
      std::move(es5_options), [l = link.get()](std::string_view identity) { return l->psk(identity); }, *link,
      *link);
  if (auto started = es5_server.start(); !started) fail("es5_listen " + config.es5_listen + ": " + started.error().message);
  const std::string es5_address = config.es5_address.empty() ? es5_server.host_header() : config.es5_address;
  link->set_trigger_address(es5_address, config.es5_path);
  // Operations in flight when the process ended: those past their validity
  // end now (once: the registry only ends an open operation), the others
  // get their wake-up again.
  if (auto expired = service->expire(); !expired) fail("expiring operations: " + expired.error().message);
  link->resume();

  auto server = rsp::smsr::HttpService::start(service, std::move(http));
  if (!server) fail(server.error().message);
  // Stopped before the link it retries wake-ups on.
  auto sweeper = std::make_unique<Sweeper>(service, *link, std::chrono::seconds(config.sweep_interval));
  rsp::service::OutboxWorkerConfig outbox_config = rsp::smsr::callback_worker_config();
  outbox_config.no_destination = "the MNO has no callback_url";
  outbox_config.metric = "rsp_smsr_callbacks_total";
  outbox_config.metric_help =
      "ES4 callbacks to MNOs (operation results, Handle...Notification), by result (delivered, failed attempt, "
      "given_up after the last attempt).";
  rsp::service::OutboxWorker callbacks(
      registry->outbox(), outbox_config,
      rsp::smsr::mno_callback_sender(
          std::move(callback_roots), std::chrono::seconds(config.callback_timeout),
          rsp::cli::callback_bindings(std::move(*soap_callback_urls), (*server)->url()), std::move(callback_identity)));
  callbacks.start();
  rsp::cli::serve_until_stopped(
      stop_signals,
      {fmt::format("SM-SR registry in {}, ISD-R keys sealed under key-encryption key {}", database_name,
                   kek->id_hex()),
       fmt::format("ES1 on {}/gsma/m2m/es1/ for {} EUM{}, ES4 on {}/gsma/m2m/es4/ for {} MNO{}", (*server)->url(),
                   eums->size(), eums->size() == 1 ? "" : "s", (*server)->url(), mnos->size(),
                   mnos->size() == 1 ? "" : "s"),
       fmt::format("ES3 on {}/gsma/m2m/es3/ for {} SM-DP{}", (*server)->url(), smdps->size(),
                   smdps->size() == 1 ? "" : "s"),
       fmt::format("ES1, ES3, ES4 and ES7 in SGP.02's SOAP binding on {}/gsma/m2m/soap/ES1, /ES3, /ES4 and /ES7",
                   (*server)->url()),
       fmt::format("ES5 admin sessions on {} (PSK-TLS), wake-ups name {} through the {} SMSC",
                   es5_server.host_header(), es5_address, config.smsc),
       fmt::format("admin on {} (/healthz, /metrics)", (*server)->admin_url())},
      (*server)->url(),
      {[&] { (*server)->stop(); }, [&] { es5_server.stop(); }, [&] { callbacks.stop(); }, [&] { sweeper.reset(); },
       [&] { link.reset(); },
       [&] { sms->stop(); }});
}

/// `rsp smsr audit`: one eUICC's audit trail, read from the registry's
/// database (also while `rsp smsr serve` runs on it; its lines of the last
/// second may not be written yet). Needs no key-encryption key: the trail
/// holds no keys.
void run_audit(const std::string& database, const std::string& eid) {
  constexpr const char* who = "rsp smsr audit";
  if (database.rfind("postgresql://", 0) != 0 && !fs::exists(database)) {
    fmt::print(stderr, "{}: {}: no such database\n", who, database);
    rsp::cli::exit_with(1);
  }
  auto db = rsp::store::open_database(database);
  if (!db) {
    fmt::print(stderr, "{}: database: {}\n", who, db.error().message);
    rsp::cli::exit_with(1);
  }
  auto trail = rsp::smsr::read_audit_trail(**db, eid);
  if (!trail) {
    fmt::print(stderr, "{}: {}\n", who, trail.error().message);
    rsp::cli::exit_with(1);
  }
  for (const auto& a : *trail)
    fmt::print("{:%Y-%m-%dT%H:%M:%SZ} {} {} {} {}\n", fmt::gmtime(static_cast<std::time_t>(a.at)), a.caller,
               a.function, a.isdp_aid.empty() ? "-" : a.isdp_aid, a.result);
}

}  // namespace

RSP_COMMAND_GROUP(smsr_serve) {
  auto* g = rsp::cli::group_command(app, "smsr", "SM-SR server (SGP.02 M2M)");
  auto* s = g->add_subcommand("serve", "Serve the SM-SR over HTTPS (ES1, ES4; /healthz, /metrics on the admin port)");
  s->footer(kConfigHelp);
  rsp::cli::add_serve_flags(*s, run_serve);

  struct AuditArgs {
    std::string database, eid;
  };
  auto aa = std::make_shared<AuditArgs>();
  auto* audit = g->add_subcommand(
      "audit", "Print one eUICC's audit trail from the SM-SR's database: time, caller, function, ISD-P AID, result");
  audit->add_option("--db", aa->database, "The SM-SR's database (SQLite file or postgresql:// URL)")->required();
  audit->add_option("--eid", aa->eid, "The eUICC's EID")->required();
  audit->callback([aa] { run_audit(aa->database, aa->eid); });
}
