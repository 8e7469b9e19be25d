// `rsp smdp serve`: the M2M SM-DP (SGP.02) on HTTPS: ES2 for the MNOs
// (client certificate or API key), the profile inventory in a database with
// its packages sealed under the key-encryption key, the downloads over ES3 to
// one SM-SR (mutual TLS with the SM-DP's client identity) whose results come
// back on the SM-DP's ES3 results route, the MNO callbacks from the durable
// outbox, /healthz and /metrics on the admin listener, an access log,
// stopping gracefully on SIGTERM/SIGINT.
// `rsp smdp profiles import|list`: the inventory from SAIP packages.

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/service/server.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smdp/es2_http.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/smdp/es3_client.hpp"
#include "rsp/smdp/es3_notifications.hpp"
#include "rsp/smdp/inventory.hpp"
#include "rsp/smdp/soap_service.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/store/open.hpp"
#include "serve_support.hpp"
#include "smdpp_keys.hpp"

namespace {

namespace fs = std::filesystem;

constexpr const char* kWho = "rsp smdp serve";

constexpr const char* kConfigHelp = R"(Configuration (JSON object; each key can also come from the environment
variable RSP_SMDP_<KEY in upper case>, which wins over the file):
  listen          "host:port" to bind, port 0 picks a free one (default "127.0.0.1:8445")
  admin_host      address of the admin listener (/healthz, /metrics; plain HTTP;
                  default "127.0.0.1")
  admin_port      its port; 0 picks a free one (default 0; also --admin-port)
  access_log      file that gets one line per request; "-" for standard output (default "-")
  tls_cert        the SM-DP's TLS certificate (PEM/DER; required unless insecure_http)
  tls_key         its private key
  database        the inventory: a SQLite file (created 0600), or a postgresql:// URL (required)
  kek_file        key-encryption key file (mode 0600) under which the profile packages
                  are sealed; default for a SQLite database: <database>.kek, made on
                  first use; required with a postgresql:// database
  mnos            ES2 callers (MNOs), a JSON array of {"name", "client_cert" |
                  "client_root" + "client_subject", "api_key_file" | "api_key_sha256",
                  "callback_url", "callback_binding"} as `rsp smsr serve`'s; the name is
                  the mnoId of their profiles (`rsp smdp profiles import --mno`);
                  "callback_binding": "soap" sends that MNO's callbacks in SGP.02's SOAP
                  binding (default "json"). ES2 is served in both bindings: JSON on
                  /gsma/m2m/es2/, SOAP on /gsma/m2m/soap/ES2 (docs/smdp.wsdl, docs/smdp.xsd)
  client_trust    PEM file with the root certificate(s) that callers' client_cert chain to
  smsr_id         the SM-SR's identifier, as the MNOs name it in smsrId (required)
  smsr_url        the SM-SR's ES3 base URL, https:// (or http:// for lab use; required)
  smsr_trust      PEM file with the root certificate(s) of the SM-SR's TLS certificate
  smsr_client_cert, smsr_client_key
                  the SM-DP's TLS client certificate and key towards the SM-SR
                  (its ES3 caller identity)
  es3_results_path
                  the path of the route the SM-SR posts its ES3 results and
                  Handle...Notification calls to (the SM-DP's callback_url in the
                  SM-SR's configuration; default "/gsma/m2m/es3/results")
  smsr_callback_cert
                  the SM-SR's TLS client certificate (PEM/DER) its callbacks come
                  with (`rsp smsr serve`'s callback_client_cert, by default its
                  tls_cert); only that certificate is served on es3_results_path,
                  which needs client_trust to name the root it chains to (required
                  unless insecure_http; with insecure_http the route is open)
  more_smsrs      other SM-SRs this SM-DP works with (where its eUICCs may move by an
                  SM-SR change), a JSON array of {"smsr_id", "smsr_url", "smsr_trust"
                  (default: smsr_trust), "results_path" (required, its own), "callback_cert"
                  (default: smsr_callback_cert)}; ES3 to them with smsr_client_cert. Once
                  an eUICC's new SM-SR notified the change (ES3.HandleSMSRChangeNotification,
                  passed on to the MNOs as ES2.HandleSMSRChangeNotification), the MNOs
                  name that SM-SR in smsrId and the SM-DP's ES3 calls go there
  es3_timeout     seconds for each connect, read and write towards the SM-SR (default 10)
  es3_result_timeout
                  seconds an ES3 function's result is waited for (default 300)
  dp_cert, dp_key CERT.DP.ECDSA and its private key (ES8 key establishment; required)
  ecasd_eums      PEM file with the EUM certificate(s) an eUICC's ECASD certificate
                  must be issued by (required)
  ecasd_cis       PEM file with the CI certificate(s) the EUM certificates chain to (required)
  connectivity_parameters
                  per profile type, the connectivity parameters (hex: 'A0' SMS, 'A1'
                  CAT_TP, 'A2' HTTP TLVs) a download of that type sends to the new
                  ISD-P after the profile, secured with its SCP03 keys
                  (ES8.UpdateConnectivityParameters), e.g. {"m2m-data": "A0038001FF"}
  callback_trust  PEM file with the root certificate(s) of the MNOs' callback servers
  callback_timeout
                  seconds for each connect, read and write of a callback (default 10)
  insecure_http   true: plain HTTP without TLS, for lab use only (also --insecure-http)
  workers         worker threads (default 4)
  max_body_bytes  largest request body (default 262144)
Prints "listening on <url>" once serving.)";

struct ServeConfig : rsp::cli::ServeCommonConfig {
  ServeConfig() : ServeCommonConfig("127.0.0.1:8445", 4, 256 * 1024) {}
  std::string kek_file;
  nlohmann::json mnos = nlohmann::json::array();
  std::string smsr_id;
  std::string smsr_url;
  std::string smsr_trust;
  std::string smsr_client_cert;
  std::string smsr_client_key;
  std::string es3_results_path = std::string(rsp::smdp::kEs3ResultsPath);
  std::string smsr_callback_cert;
  nlohmann::json more_smsrs = nlohmann::json::array();
  std::int64_t es3_timeout = 10;
  std::int64_t es3_result_timeout = 300;
  std::string dp_cert;
  std::string dp_key;
  std::string ecasd_eums;
  std::string ecasd_cis;
  std::string callback_trust;
  std::int64_t callback_timeout = 10;
  nlohmann::json connectivity_parameters = nlohmann::json::object();
};

std::vector<rsp::service::ConfigKey> keys(ServeConfig& c) {
  return rsp::cli::serve_keys(c, {{"kek_file", &c.kek_file},
                                  {"mnos", nullptr, nullptr, nullptr, &c.mnos},
                                  {"connectivity_parameters", nullptr, nullptr, nullptr, &c.connectivity_parameters},
                                  {"smsr_id", &c.smsr_id},
                                  {"smsr_url", &c.smsr_url},
                                  {"smsr_trust", &c.smsr_trust},
                                  {"smsr_client_cert", &c.smsr_client_cert},
                                  {"smsr_client_key", &c.smsr_client_key},
                                  {"es3_results_path", &c.es3_results_path},
                                  {"smsr_callback_cert", &c.smsr_callback_cert},
                                  {"more_smsrs", nullptr, nullptr, nullptr, &c.more_smsrs},
                                  {"es3_timeout", nullptr, nullptr, &c.es3_timeout},
                                  {"es3_result_timeout", nullptr, nullptr, &c.es3_result_timeout},
                                  {"dp_cert", &c.dp_cert},
                                  {"dp_key", &c.dp_key},
                                  {"ecasd_eums", &c.ecasd_eums},
                                  {"ecasd_cis", &c.ecasd_cis},
                                  {"callback_trust", &c.callback_trust},
                                  {"callback_timeout", nullptr, nullptr, &c.callback_timeout}});
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", kWho, message);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

std::vector<rsp::pki::Certificate> certificates(const std::string& file, const std::string& key) {
  auto certs = rsp::pki::Certificate::load_file(file);
  if (!certs || certs->empty()) fail(key + " " + file + ": no certificate");
  return std::move(*certs);
}

void run_serve(const rsp::cli::ServeFlags& flags) {
  ServeConfig config;
  if (auto r = rsp::cli::load_serve_config(config, keys(config), flags, "RSP_SMDP_"); !r) fail(r.error());
  const auto listen = rsp::service::split_listen(config.listen);
  if (!listen) fail(listen.error());
  if (config.workers < 1 || config.workers > 1024) fail("workers must be 1..1024");
  if (config.max_body_bytes < 1024) fail("max_body_bytes must be at least 1024");
  if (config.database.empty()) fail("no database configured (key \"database\" or RSP_SMDP_DATABASE)");
  if (config.smsr_id.empty()) fail("no smsr_id configured");
  if (config.smsr_url.rfind("https://", 0) != 0 && config.smsr_url.rfind("http://", 0) != 0)
    fail("smsr_url must be an https:// (or, for lab use, http://) URL");
  if (config.es3_results_path.empty() || config.es3_results_path[0] != '/') fail("es3_results_path must start with /");
  if (config.es3_timeout < 1 || config.es3_timeout > 300) fail("es3_timeout must be 1..300 seconds");
  if (config.es3_result_timeout < 1 || config.es3_result_timeout > 86400)
    fail("es3_result_timeout must be 1..86400 seconds");
  if (config.callback_timeout < 1 || config.callback_timeout > 300) fail("callback_timeout must be 1..300 seconds");
  if (config.dp_cert.empty() || config.dp_key.empty()) fail("dp_cert and dp_key are required (CERT.DP.ECDSA, its key)");
  if (config.ecasd_eums.empty() || config.ecasd_cis.empty()) fail("ecasd_eums and ecasd_cis are required");
  const fs::path base = rsp::cli::config_folder(flags.config);
  const auto resolve = rsp::cli::config_path_resolver(base);

  // The SM-DP's ES8 identity and what an ECASD certificate must chain to.
  auto dp_certs = certificates(resolve(config.dp_cert), "dp_cert");
  auto dp_key_pem = rsp::read_file(resolve(config.dp_key));
  if (!dp_key_pem) fail("dp_key " + config.dp_key + ": " + dp_key_pem.error().message);
  auto dp_key = rsp::crypto::EcKey::from_pem(std::string(dp_key_pem->begin(), dp_key_pem->end()));
  if (!dp_key) fail("dp_key " + config.dp_key + ": not an EC private key");
  rsp::smdp::DownloadConfig download{rsp::smdp::DpIdentity{dp_certs.front().der(), std::move(*dp_key)},
                                     rsp::smdp::EcasdTrust{certificates(resolve(config.ecasd_eums), "ecasd_eums"),
                                                           certificates(resolve(config.ecasd_cis), "ecasd_cis")},
                                     8,
                                     {}};

  // The inventory, the operations and the callbacks' outbox.
  const std::string database_name = rsp::store::describe_location(config.database);
  const auto kek = rsp::cli::kek_or_exit(config.kek_file.empty() ? "" : resolve(config.kek_file), config.database,
                                         kWho, "every profile package");
  auto opened = rsp::store::open_database(config.database, rsp::cli::serve_database_options(config.workers));
  if (!opened) fail("database " + database_name + ": " + opened.error().message);
  rsp::cli::warn_if_database_readable(config.database, kWho);
  std::shared_ptr<rsp::store::Database> db(std::move(*opened));
  auto inventory = rsp::smdp::Inventory::open(db, kek);
  if (!inventory) fail("database " + database_name + ": " + inventory.error().message);
  std::shared_ptr<rsp::smdp::Inventory> shared_inventory(std::move(*inventory));
  rsp::service::SystemClock clock;
  auto outbox = rsp::service::SqlOutbox::open(db, std::string(rsp::smdp::kMnoCallbackOutbox), clock);
  if (!outbox) fail("database " + database_name + ": " + outbox.error().message);

  // Callers.
  auto soap_callback_urls = rsp::cli::take_soap_callback_urls(config.mnos, "mnos");
  if (!soap_callback_urls) fail(soap_callback_urls.error());
  auto mnos = rsp::service::parse_caller_config(config.mnos, base, "mnos");
  if (!mnos) fail(mnos.error());
  if (mnos->empty()) fail("no callers: configure mnos");
  std::map<std::string, std::string> callback_urls;
  std::set<std::string> mno_names;
  for (const auto& c : *mnos) callback_urls[c.name] = c.callback_url, mno_names.insert(c.name);
  // The SM-SR as the one caller of the ES3 callbacks route, known by its
  // pinned TLS client certificate (mutual TLS).
  std::optional<std::string> smsr_caller;
  if (!config.smsr_callback_cert.empty()) {
    auto certs = rsp::net::load_certificates(resolve(config.smsr_callback_cert));
    if (!certs || certs->empty()) fail("smsr_callback_cert " + config.smsr_callback_cert + ": no certificate");
    smsr_caller = "smsr:" + config.smsr_id;
    if (mno_names.contains(*smsr_caller)) fail("mnos: the name \"" + *smsr_caller + "\" is the SM-SR's");
    rsp::service::CallerCredential smsr;
    smsr.name = *smsr_caller;
    smsr.client_cert = std::move(certs->front());
    mnos->push_back(std::move(smsr));
  } else if (!config.insecure_http) {
    fail("smsr_callback_cert is required: the SM-SR's ES3 callbacks are taken over mutual TLS only "
         "(or insecure_http, for lab use)");
  }
  // The other SM-SRs (more_smsrs), each with its results route and caller:
  // a callback certificate the SM-SR above has already keeps its caller name.
  struct OtherSmsr {
    std::string id, url, trust, results_path;
    std::optional<std::string> caller;
  };
  std::vector<OtherSmsr> other_smsrs;
  {
    if (!config.more_smsrs.is_array()) fail("more_smsrs must be a JSON array");
    std::set<std::string> ids{config.smsr_id}, paths{config.es3_results_path};
    const auto text = [](const nlohmann::json& o, const char* key) {
      return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
    };
    for (const auto& o : config.more_smsrs) {
      if (!o.is_object()) fail("more_smsrs: each entry is an object");
      OtherSmsr other{text(o, "smsr_id"), text(o, "smsr_url"), text(o, "smsr_trust"), text(o, "results_path"), {}};
      if (other.id.empty() || !ids.insert(other.id).second) fail("more_smsrs: each needs an smsr_id of its own");
      if (other.url.rfind("https://", 0) != 0 && other.url.rfind("http://", 0) != 0)
        fail("more_smsrs " + other.id + ": smsr_url must be an https:// (or, for lab use, http://) URL");
      if (other.results_path.empty() || other.results_path[0] != '/' || !paths.insert(other.results_path).second)
        fail("more_smsrs " + other.id + ": results_path must start with / and be its own");
      if (other.trust.empty()) other.trust = config.smsr_trust;
      std::string cert_file = text(o, "callback_cert");
      if (cert_file.empty()) cert_file = config.smsr_callback_cert;
      if (!cert_file.empty()) {
        auto certs = rsp::net::load_certificates(resolve(cert_file));
        if (!certs || certs->empty()) fail("more_smsrs " + other.id + ": callback_cert: no certificate");
        for (const auto& c : *mnos)
          if (c.name.starts_with("smsr:") && c.client_cert == certs->front()) other.caller = c.name;
        if (!other.caller) {
          other.caller = "smsr:" + other.id;
          if (mno_names.contains(*other.caller)) fail("mnos: the name \"" + *other.caller + "\" is an SM-SR's");
          rsp::service::CallerCredential smsr;
          smsr.name = *other.caller;
          smsr.client_cert = std::move(certs->front());
          mnos->push_back(std::move(smsr));
        }
      } else if (!config.insecure_http) {
        fail("more_smsrs " + other.id + ": callback_cert (or smsr_callback_cert) is required");
      }
      other_smsrs.push_back(std::move(other));
    }
  }
  auto authenticator = std::make_shared<rsp::service::CallerAuthenticator>(std::move(*mnos));

  // ES3 towards the SM-SR.
  auto results = std::make_shared<rsp::smdp::Es3Results>();
  rsp::smdp::Es3ClientOptions es3_options;
  es3_options.smsr_url = config.smsr_url;
  if (!config.smsr_trust.empty()) {
    auto roots = rsp::net::load_certificates(resolve(config.smsr_trust));
    if (!roots || roots->empty()) fail("smsr_trust " + config.smsr_trust + ": no certificate");
    es3_options.trust_anchors = std::move(*roots);
  } else if (config.smsr_url.rfind("https://", 0) == 0) {
    fail("smsr_url is https://: name the root of the SM-SR's certificate in smsr_trust");
  }
  if (!config.smsr_client_cert.empty() || !config.smsr_client_key.empty()) {
    auto id = rsp::net::TlsIdentity::load(resolve(config.smsr_client_cert), resolve(config.smsr_client_key));
    if (!id) fail("smsr_client_cert: " + id.error().message);
    es3_options.identity = std::move(*id);
  }
  es3_options.timeout = std::chrono::seconds(config.es3_timeout);
  es3_options.result_timeout = std::chrono::seconds(config.es3_result_timeout);
  auto es3 = rsp::smdp::Es3Client::create(es3_options, results);
  if (!es3) fail("smsr_url: " + es3.error());
  // The other SM-SRs' clients: the same client identity and timeouts.
  struct OtherClient {
    std::shared_ptr<rsp::smdp::Es3Results> results;
    std::shared_ptr<rsp::smdp::Es3Client> client;
  };
  auto other_clients = std::make_shared<std::map<std::string, OtherClient>>();
  for (const auto& other : other_smsrs) {
    rsp::smdp::Es3ClientOptions o = es3_options;
    o.smsr_url = other.url;
    o.trust_anchors.clear();
    if (!other.trust.empty()) {
      auto roots = rsp::net::load_certificates(resolve(other.trust));
      if (!roots || roots->empty()) fail("more_smsrs " + other.id + ": smsr_trust: no certificate");
      o.trust_anchors = std::move(*roots);
    } else if (other.url.rfind("https://", 0) == 0) {
      fail("more_smsrs " + other.id + ": smsr_url is https://: name the root of its certificate in smsr_trust");
    }
    OtherClient c;
    c.results = std::make_shared<rsp::smdp::Es3Results>();
    auto client = rsp::smdp::Es3Client::create(std::move(o), c.results);
    if (!client) fail("more_smsrs " + other.id + ": " + client.error());
    c.client = std::shared_ptr<rsp::smdp::Es3Client>(std::move(*client));
    (*other_clients)[other.id] = std::move(c);
  }

  // The server first (the SM-SR's results must find their route while
  // open() settles what a stopped process left), then the ES2 service.
  const auto log_line = [](std::string_view line) {
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {}\n", fmt::gmtime(std::time(nullptr)), line);
    std::fflush(stderr);
  };
  auto es2_holder = std::make_shared<std::shared_ptr<rsp::smdp::Es2Service>>();
  rsp::service::ServerConfig sc;
  sc.role = "smdp";
  sc.http.host = listen->first;
  sc.http.port = listen->second;
  sc.http.worker_threads = static_cast<std::size_t>(config.workers);
  sc.http.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  sc.http.metrics = std::make_shared<rsp::net::Metrics>();
  sc.http.insecure_plain_http = config.insecure_http;
  sc.admin_host = config.admin_host;
  sc.admin_port = static_cast<int>(config.admin_port);
  sc.health_check = [db]() -> std::optional<std::string> {
    if (db->query_one("SELECT 1")) return std::nullopt;
    return std::string("database");
  };
  if (config.insecure_http) {
    fmt::print(stderr, "{}: WARNING: plain HTTP without TLS (insecure_http), for lab use only\n", kWho);
    if (authenticator->uses_client_certificates()) fail("callers with client certificates need TLS (not insecure_http)");
  } else {
    if (config.tls_cert.empty() || config.tls_key.empty()) fail("tls_cert and tls_key are required (or insecure_http)");
    auto id = rsp::net::TlsIdentity::load(resolve(config.tls_cert), resolve(config.tls_key));
    if (!id) fail("TLS identity: " + id.error().message);
    rsp::net::TlsServerConfig tls;
    tls.identities.push_back(std::move(*id));
    if (authenticator->uses_client_certificates()) {
      if (config.client_trust.empty()) fail("callers with a client_cert: name the root they chain to in client_trust");
      tls.client_auth = rsp::net::ClientAuth::Optional;
      tls.client_roots = authenticator->client_roots();
      auto certs = rsp::net::load_certificates(resolve(config.client_trust));
      if (!certs) fail("client_trust " + config.client_trust + ": " + certs.error().message);
      tls.client_roots.insert(tls.client_roots.end(), certs->begin(), certs->end());
    }
    sc.http.tls = std::move(tls);
  }
  sc.authenticate = [authenticator](const rsp::net::Request& req) { return authenticator->authenticate(req); };
  sc.unauthenticated = [](const rsp::net::Request& r) { return rsp::smdp::smdp_unauthenticated_reply(r); };
  sc.log = log_line;
  sc.access_log = rsp::cli::access_log_sink(config.access_log, kWho);
  auto notifications = rsp::smdp::Es3Notifications::open(db, shared_inventory, *outbox, [callback_urls](const std::string& mno) {
    auto it = callback_urls.find(mno);
    return it == callback_urls.end() ? std::string() : it->second;
  });
  if (!notifications) fail("database " + database_name + ": " + notifications.error());
  std::shared_ptr<rsp::smdp::Es3Notifications> shared_notifications(std::move(*notifications));
  sc.routes.push_back(
      rsp::smdp::es3_results_route(results, config.es3_results_path, shared_notifications, smsr_caller, config.smsr_id));
  // Each other SM-SR posts its results on its own route (operation ids are
  // each SM-SR's own), its notifications to the same handler.
  for (const auto& other : other_smsrs)
    sc.routes.push_back(rsp::smdp::es3_results_route(other_clients->at(other.id).results, other.results_path,
                                                     shared_notifications, other.caller, other.id));

  rsp::smdp::Es2ServiceConfig es2_config(config.smsr_id, std::move(download));
  if (!config.connectivity_parameters.is_object()) fail("connectivity_parameters must be an object");
  for (const auto& [type, hex] : config.connectivity_parameters.items()) {
    auto bytes = hex.is_string() ? rsp::from_hex(hex.get<std::string>()) : std::nullopt;
    if (!bytes || !rsp::m2m::es8::check_connectivity_parameters(*bytes))
      fail("connectivity_parameters: the value of profile type \"" + type + "\" is not well-formed parameters");
    es2_config.connectivity_parameters[type] = std::move(*bytes);
  }
  es2_config.callback_url = [callback_urls](const std::string& mno) {
    auto it = callback_urls.find(mno);
    return it == callback_urls.end() ? std::string() : it->second;
  };
  es2_config.smsr_port = [other_clients](const std::string& id) -> rsp::smdp::Es3Port* {
    auto it = other_clients->find(id);
    return it == other_clients->end() ? nullptr : it->second.client.get();
  };
  std::shared_ptr<rsp::smdp::Es3Client> es3_client(std::move(*es3));
  auto es2 = rsp::smdp::Es2Service::open(std::move(es2_config), db, shared_inventory, *es3_client, *outbox);
  if (!es2) fail("the operations left by the last run: " + es2.error());
  std::shared_ptr<rsp::smdp::Es2Service> service(std::move(*es2));
  for (auto& r : rsp::smdp::es2_routes(service, mno_names)) sc.routes.push_back(std::move(r));
  sc.routes.push_back(rsp::smdp::soap_es2_route(service, mno_names));

  std::vector<rsp::Bytes> callback_roots;
  if (!config.callback_trust.empty()) {
    auto certs = rsp::net::load_certificates(resolve(config.callback_trust));
    if (!certs || certs->empty()) fail("callback_trust " + config.callback_trust + ": no certificate");
    callback_roots = std::move(*certs);
  }

  rsp::service::StopSignals stop_signals;
  auto server = rsp::service::Server::start(std::move(sc));
  if (!server) fail(server.error().message);
  service->start();
  rsp::service::OutboxWorkerConfig outbox_config;
  outbox_config.no_destination = "the MNO has no callback_url";
  outbox_config.metrics = (*server)->metrics_ptr();
  outbox_config.metric = "rsp_smdp_callbacks_total";
  outbox_config.metric_help = "ES2 callbacks to MNOs (operation results, Handle...Notification), by result "
                              "(delivered, failed attempt, given_up after the last attempt).";
  // The SM-SR's callback sender speaks the same JSON POST with server
  // authentication: it serves the SM-DP's callbacks as they are.
  rsp::service::OutboxWorker callbacks(
      *outbox, outbox_config,
      rsp::smsr::mno_callback_sender(std::move(callback_roots), std::chrono::seconds(config.callback_timeout),
                                     rsp::cli::callback_bindings(std::move(*soap_callback_urls), (*server)->url())));
  callbacks.start();
  rsp::cli::serve_until_stopped(
      stop_signals,
      {fmt::format("SM-DP inventory in {}, profile packages sealed under key-encryption key {}", database_name,
                   kek->id_hex()),
       fmt::format("ES2 on {}/gsma/m2m/es2/ for {} MNO{}", (*server)->url(), mno_names.size(),
                   mno_names.size() == 1 ? "" : "s"),
       fmt::format("ES2 in SGP.02's SOAP binding on {}/gsma/m2m/soap/ES2", (*server)->url()),
       // The results path is not printed: it may hold a secret part.
       fmt::format("ES3 to SM-SR {} at {}, its results and notifications on {} (es3_results_path, {})",
                   config.smsr_id, config.smsr_url, (*server)->url(),
                   smsr_caller ? "its client certificate only" : "open: insecure_http"),
       fmt::format("ES3 also to {} other SM-SR{} (more_smsrs)", other_smsrs.size(),
                   other_smsrs.size() == 1 ? "" : "s"),
       fmt::format("admin on {} (/healthz, /metrics)", (*server)->admin_url())},
      (*server)->url(), {[&] { (*server)->stop(); }, [&] { service->stop(); }, [&] { callbacks.stop(); }});
}

/// The ICCID (digits) and profile type of a SAIP package; the package checks
/// as the SM-DP+'s import makes them (a ProfileHeader first, an End last).
struct PackageHead {
  std::string iccid;
  std::string profile_type;
};
rsp::expected<PackageHead, std::string> package_head(rsp::ByteView upp) {
  auto elements = rsp::asn1::decode_profile_package(upp);
  if (!elements) elements = rsp::asn1::decode_profile_package(upp, rsp::asn1::DecodeOptions{rsp::tlv::Mode::Ber});
  if (!elements) return rsp::unexpected("not a SAIP profile package: " + elements.error().to_string());
  if (elements->empty() || !elements->front().header())
    return rsp::unexpected(std::string("the profile package does not start with a ProfileHeader"));
  if (!elements->back().end())
    return rsp::unexpected(std::string("the profile package does not finish with an End element"));
  const auto& header = *elements->front().header();
  if (header.iccid.size() != 10) return rsp::unexpected(std::string("ProfileHeader ICCID is not 10 bytes"));
  PackageHead h;
  h.iccid = rsp::messages::iccid_to_digits(header.iccid);
  if (h.iccid.size() < 18) return rsp::unexpected(std::string("ProfileHeader ICCID is not BCD digits"));
  h.profile_type = header.profileType.value_or("");
  return h;
}

struct ImportArgs {
  std::vector<std::string> files;
  std::string mno, type, db, kek_file;
};

void run_import(const ImportArgs& a) {
  auto kek = rsp::service::kek_for_database(a.kek_file, a.db, rsp::crypto::system_random());
  if (!kek) fail(kek.error());
  auto opened = rsp::store::open_database(a.db);
  if (!opened) fail("database: " + opened.error().message);
  rsp::cli::warn_if_database_readable(a.db, "rsp smdp");
  auto inventory = rsp::smdp::Inventory::open(std::shared_ptr<rsp::store::Database>(std::move(*opened)), kek->kek);
  if (!inventory) fail(inventory.error().message);
  int imported = 0, rejected = 0;
  for (const auto& f : a.files) {
    auto data = rsp::read_file(f);
    auto head = data ? package_head(*data) : rsp::unexpected(data.error().message);
    if (!head) {
      fmt::print(stderr, "{}: rejected: {}\n", f, head.error());
      ++rejected;
      continue;
    }
    const std::string type = !a.type.empty() ? a.type : !head->profile_type.empty() ? head->profile_type : "default";
    auto added = (*inventory)->add(head->iccid, type, a.mno, *data, rsp::crypto::system_random());
    if (!added) {
      fmt::print(stderr, "{}: rejected: {}\n", f, added.error().message);
      ++rejected;
      continue;
    }
    fmt::print("{}: imported ICCID {} type {} for {}\n", f, head->iccid, type, a.mno);
    ++imported;
  }
  fmt::print("{} imported, {} rejected\n", imported, rejected);
  rsp::cli::exit_with(rejected > 0 || a.files.empty() ? 1 : 0);
}

void run_list(const std::string& db) {
  auto opened = rsp::store::open_database(db);
  if (!opened) fail("database: " + opened.error().message);
  auto inventory = rsp::smdp::Inventory::open(std::shared_ptr<rsp::store::Database>(std::move(*opened)), nullptr);
  if (!inventory) fail(inventory.error().message);
  auto all = (*inventory)->list();
  if (!all) fail(all.error().message);
  for (const auto& p : *all) {
    const auto on_card = rsp::smdp::euicc_state_name(p.euicc_state);
    fmt::print("{} {} {} {}{}{}\n", p.iccid, p.mno_id, p.profile_type, rsp::smdp::profile_state_name(p.state),
               p.eid.empty() ? "" : " " + p.eid, on_card.empty() ? "" : " " + std::string(on_card));
  }
}

}  // namespace

RSP_COMMAND_GROUP(smdp_serve) {
  auto* g = rsp::cli::group_command(app, "smdp", "M2M SM-DP server (SGP.02)");
  auto* s = g->add_subcommand("serve", "Serve the M2M SM-DP over HTTPS (ES2; /healthz, /metrics on the admin port)");
  s->footer(kConfigHelp);
  rsp::cli::add_serve_flags(*s, run_serve);

  auto* profiles = g->add_subcommand("profiles", "The M2M SM-DP's profile inventory");
  profiles->require_subcommand(1);
  auto ia = std::make_shared<ImportArgs>();
  auto* imp = profiles->add_subcommand(
      "import", "Import SAIP profile packages (.der); the ICCID comes from each ProfileHeader, sealed at rest");
  imp->add_option("files", ia->files, "Profile package files")->required();
  imp->add_option("--mno", ia->mno, "The MNO (mnoId) the profiles belong to")->required();
  imp->add_option("--type", ia->type, "Profile type (default: the ProfileHeader's, else \"default\")");
  imp->add_option("--db", ia->db, "The SM-DP's database (SQLite file or postgresql:// URL)")->required();
  imp->add_option("--kek-file", ia->kek_file, "Key-encryption key file (default for SQLite: <db>.kek)");
  imp->callback([ia] { run_import(*ia); });
  auto db = std::make_shared<std::string>();
  auto* list = profiles->add_subcommand("list", "List the profiles: ICCID, MNO, type, state, EID and, once known, the state on the eUICC "
                                   "(enabled, disabled, deleted)");
  list->add_option("--db", *db, "The SM-DP's database")->required();
  list->callback([db] { run_list(*db); });
}
