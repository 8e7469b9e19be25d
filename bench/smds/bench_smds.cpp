// bench_smds [--events N] [--discoveries D] [--clients C] [--curve nist|brp] [--shared-sessions | --memory-sessions]
//
// The SM-DS as deployed, in one process: the ES11/ES12 HTTP service with its
// DStls identity on 127.0.0.1 (port 0), the core over a SQLite event store in
// a temporary folder holding N registered events (default 10^5), and C client
// threads, each an LPA with its own keep-alive HTTPS connection, running ES11
// discoveries (SGP.22 v2.2.2 §3.6.2: InitiateAuthentication, then
// AuthenticateClient, §5.8.1, §5.8.2), each by a simulated eUICC of its own
// (key, EID and certificate issued by the test EUM before the run) that has
// one event registered. The other events belong to other EIDs.
//
// The events are written straight into the event store's table in batched
// transactions (5000 rows each), not one ES12 RegisterEvent at a time: the
// setup is not what is measured, and 10^5 durable commits would take minutes.
//
// Both ES11 session stores are run, one after the other, each on a freshly
// started SM-DS over the same events: sessions in the server's memory, then
// in the database, as instances sharing a PostgreSQL database keep them (two
// commits more per discovery); --memory-sessions or --shared-sessions runs
// one only.
//
// Prints, for each: discoveries/s, p50/p99 per ES11 call, the CPU time the
// server side used per discovery (process CPU minus the client threads'),
// and discoveries per server CPU-second against the crypto floor of one
// discovery measured in the same run on this thread (discovery_floor), with
// that ratio against the target of 0.5.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/floor.hpp"
#include "fleet.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/net/client.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smds/event_store.hpp"
#include "rsp/smds/http_service.hpp"
#include "rsp/smds/identity.hpp"
#include "rsp/smds/server.hpp"
#include "rsp/store/sqlite.hpp"
#include "support/measure.hpp"
#include "test_euicc.hpp"

namespace fs = std::filesystem;
namespace es9 = rsp::messages::es9;
namespace es11 = rsp::messages::es11;
using namespace rsp;
using Clock = std::chrono::steady_clock;
using bench::cpu_seconds;
using bench::percentile;

namespace {

constexpr const char* kAddress = "smds.bench.example";  ///< the address the eUICCs sign
constexpr const char* kRegistrar = "bench-smdp";
constexpr const char* kJson = "application/json;charset=UTF-8";

/// Which ES11 session stores to run: both, one after the other, by default.
enum class Sessions { kBoth, kMemory, kShared };

/// Issue 18, Speed: discoveries per server CPU-second at least half the floor.
constexpr double kTargetRatio = 0.5;

struct Args {
  int events = 100000;
  int discoveries = 2000;
  int clients = 4;
  crypto::Curve curve = crypto::Curve::NistP256;
  Sessions sessions = Sessions::kBoth;
};

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--shared-sessions" || k == "--memory-sessions") {
      a.sessions = k == "--shared-sessions" ? Sessions::kShared : Sessions::kMemory;
      continue;
    }
    const char* v = i + 1 < argc ? argv[++i] : nullptr;
    if (!v) return false;
    if (k == "--curve") {
      const std::string c = v;
      if (c == "nist") a.curve = crypto::Curve::NistP256;
      else if (c == "brp") a.curve = crypto::Curve::BrainpoolP256r1;
      else return false;
      continue;
    }
    const int n = std::atoi(v);
    if (n < 1) return false;
    if (k == "--events") a.events = n;
    else if (k == "--discoveries") a.discoveries = n;
    else if (k == "--clients") a.clients = n;
    else return false;
  }
  return a.events >= a.discoveries;
}

/// The crypto floor of one discovery: discoveries per CPU-second if the
/// SM-DS did nothing but the public-key operations SGP.22 v2.2.2 asks of it
/// per discovery. InitiateAuthentication (§5.8.1): one signature,
/// serverSignature1 over serverSigned1. AuthenticateClient (§5.8.2): three
/// verifications, the EUM certificate's signature (by the CI), the eUICC
/// certificate's (by the EUM) and euiccSignature1 (by the eUICC). The
/// answer's event list is not signed in v2.2.2 (AuthenticateClientOkEs11
/// is transactionId and eventEntries only), so nothing more. Not counted:
/// the TLS handshakes (keep-alive, one per connection, not per discovery)
/// and the client's crypto (its own threads, whose CPU the server's
/// excludes). The EUM verification is counted although pki's memo saves it
/// on every discovery after the first of a fleet under one EUM: the floor is
/// what the protocol requires, as bench_smdpp counts its own.
double discovery_floor(const bench::CryptoRates& rates) { return 1.0 / (1.0 / rates.sign + 3.0 / rates.verify); }

enum Fn { kInit, kAuth, kFnCount };
constexpr const char* kFnNames[kFnCount] = {"InitiateAuthentication", "AuthenticateClient"};

/// One LPA with its keep-alive HTTPS connection to the SM-DS.
class Client {
 public:
  Client(const fs::path& pki_dir, int port) {
    net::HttpsClientOptions o;
    o.base_url = "https://localhost:" + std::to_string(port);  // the DStls certificate's name
    o.connect_to = "127.0.0.1";
    o.trust_anchors = net::load_certificates(pki_dir / "CERT_CI_ECDSA_NIST.pem").value();
    http_ = std::move(net::HttpsClient::create(o).value());
  }

  /// One discovery by the eUICC with `creds`, which must find `event_id`.
  bool discover(const smdpp::testing::TestEuiccCredentials& creds, const std::string& event_id) {
    smdpp::testing::TestEuicc euicc(creds, crypto::system_random());
    auto init = call(kInit, es11::kInitiateAuthenticationPath, es11::encode_initiate_authentication_request(euicc.initiate(kAddress)),
                     es9::decode_initiate_authentication_response);
    if (!init) return false;
    auto acr = euicc.authenticate_server(*init, std::nullopt);
    if (!acr) return fail(acr.error());
    auto ok = call(kAuth, es11::kAuthenticateClientPath, es9::encode_request(*acr), es11::decode_authenticate_client_response);
    if (!ok) return false;
    if (ok->eventEntries.size() != 1 || ok->eventEntries[0].eventId != event_id) return fail("wrong event list");
    return true;
  }

  std::vector<double> latency[kFnCount];
  std::string error;
  std::uint64_t connections() const { return http_->connections_opened(); }

 private:
  bool fail(const std::string& e) {
    if (error.empty()) error = e;
    return false;
  }

  template <class Decode>
  auto call(Fn fn, std::string_view path, const std::string& body, Decode decode) -> decltype(decode(std::string_view())) {
    const auto t0 = Clock::now();
    auto r = http_->post(std::string(path), body, kJson, {{"X-Admin-Protocol", "gsma/rsp/v2.2.2"}});
    latency[fn].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (!r) {
      fail(std::string(kFnNames[fn]) + ": " + r.error().message);
      return decode("");
    }
    auto out = decode(r->body);
    if (!out) fail(std::string(kFnNames[fn]) + ": " + r->body.substr(0, 300));
    return out;
  }

  std::unique_ptr<net::HttpsClient> http_;
};

/// `total` events in the store, the first `fleet.size()` for the fleet's
/// EIDs (eventId "E<i>"), the rest for fresh EIDs; batched transactions.
bool fill_events(store::Database& db, const std::vector<smdpp::testing::TestEuiccCredentials>& fleet, int total) {
  constexpr int kBatch = 5000;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int first = 0; first < total; first += kBatch) {
    auto tx = db.begin();
    if (!tx) return false;
    for (int i = first; i < std::min(total, first + kBatch); ++i) {
      const auto at = static_cast<std::size_t>(i);
      const std::string eid = at < fleet.size() ? fleet[at].euicc_cert.subject_serial_number().value_or("")
                                                : pki::make_random_eid("89049032").value_or("");
      if (!db.execute("INSERT INTO smds_event (registrar, event_id, eid, rsp_server_address, forwarded, created_at) "
                      "VALUES ($1, $2, $3, $4, $5, $6)",
                      {store::value(std::string(kRegistrar)), store::value("E" + std::to_string(i)), store::value(eid),
                       store::value(std::string("smdp.bench.example")), store::value(false), store::value(now)}))
        return false;
    }
    if (!tx->commit()) return false;
  }
  return true;
}


/// One mode's run: the SM-DS started afresh on the event store, the clients'
/// discoveries, and what they cost.
struct Run {
  int done = 0;
  double wall = 0, cpu_server = 0, cpu_clients = 0;
  std::uint64_t connections = 0;
  std::vector<double> latency[kFnCount];
  std::string error;  ///< the first client error
};

bool run_mode(const Args& a, bool shared, const fs::path& pki_dir, const std::shared_ptr<smds::EventStore>& events,
              const std::vector<smdpp::testing::TestEuiccCredentials>& fleet, Run& out) {
  auto ids = smds::IdentitySet::load_directory(pki_dir);
  if (!ids) return std::fprintf(stderr, "%s\n", ids.error().message.c_str()), false;
  service::SystemClock clock;
  smds::ServerConfig cfg;
  cfg.address = kAddress;
  cfg.shared_sessions = shared;
  auto core = std::make_shared<smds::Server>(cfg, std::make_shared<const smds::IdentitySet>(std::move(*ids)), events,
                                             clock, crypto::system_random());
  smds::HttpConfig hc;
  auto tls = net::TlsIdentity::load(pki_dir / "CERT_S_SM_DS_TLS_NIST.pem", pki_dir / "SK_S_SM_DS_TLS_NIST.pem");
  if (!tls) return std::fprintf(stderr, "%s\n", tls.error().message.c_str()), false;
  hc.tls_identities.push_back(std::move(*tls));
  hc.worker_threads = static_cast<std::size_t>(std::max(4, a.clients));
  auto service = smds::HttpService::start(core, std::move(hc));
  if (!service) return std::fprintf(stderr, "%s\n", service.error().message.c_str()), false;
  const std::string url = (*service)->url();
  const int port = std::atoi(url.c_str() + url.rfind(':') + 1);

  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < a.clients; ++c) clients.push_back(std::make_unique<Client>(pki_dir, port));
  std::atomic<int> next{0}, done{0};
  std::vector<double> client_cpu(clients.size(), 0.0);
  const double cpu0 = cpu_seconds(RUSAGE_SELF);
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients.size(); ++c)
    threads.emplace_back([&, c] {
      ::pthread_setname_np(::pthread_self(), "bench-client");
      const double start = cpu_seconds(RUSAGE_THREAD);
      for (int i = next++; i < a.discoveries; i = next++)
        if (clients[c]->discover(fleet[static_cast<std::size_t>(i)], "E" + std::to_string(i))) ++done;
      client_cpu[c] = cpu_seconds(RUSAGE_THREAD) - start;
    });
  for (auto& t : threads) t.join();
  out.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  for (double c : client_cpu) out.cpu_clients += c;
  // The client threads' own CPU (their TLS and the eUICCs' crypto) is not
  // the server's: process CPU less theirs.
  out.cpu_server = std::max(1e-9, cpu_seconds(RUSAGE_SELF) - cpu0 - out.cpu_clients);
  (*service)->stop();
  out.done = done.load();
  for (const auto& c : clients) {
    out.connections += c->connections();
    for (int f = 0; f < kFnCount; ++f)
      out.latency[f].insert(out.latency[f].end(), c->latency[f].begin(), c->latency[f].end());
    if (!c->error.empty() && out.error.empty()) out.error = c->error;
  }
  return true;
}

void print_run(const Args& a, bool shared, const Run& r, const bench::CryptoRates& rates) {
  std::printf("\nsessions in %s: %d discoveries by %d clients over HTTPS keep-alive, curve %s\n",
              shared ? "the database" : "memory", a.discoveries, a.clients, crypto::short_name(a.curve));
  std::printf("discoveries/s      %8.1f  (%d/%d ok in %.2f s, %llu TLS connections)\n", r.done / r.wall, r.done,
              a.discoveries, r.wall, static_cast<unsigned long long>(r.connections));
  std::printf("CPU                server %.2f s (%.2f cores busy), clients %.2f s, %u hardware threads\n", r.cpu_server,
              r.cpu_server / r.wall, r.cpu_clients, std::thread::hardware_concurrency());
  std::printf("%-24s %9s %9s %7s\n", "ES11 function", "p50 ms", "p99 ms", "calls");
  for (int f = 0; f < kFnCount; ++f)
    std::printf("%-24s %9.2f %9.2f %7zu\n", kFnNames[f], percentile(r.latency[f], 0.50) * 1e3,
                percentile(r.latency[f], 0.99) * 1e3, r.latency[f].size());
  const double floor_per_s = discovery_floor(rates);
  const double per_server_cpu = r.done / r.cpu_server;
  const double ratio = per_server_cpu / floor_per_s;
  std::printf("server CPU per discovery %.3f ms, of which the crypto floor %.3f ms\n", 1e3 / per_server_cpu,
              1e3 / floor_per_s);
  std::printf("discoveries per server CPU-second %.1f  ratio to floor %.2f  = %.2f of the target 0.50 (%s)\n",
              per_server_cpu, ratio, ratio / kTargetRatio, ratio >= kTargetRatio ? "met" : "NOT met");
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) {
    std::fprintf(stderr, "usage: bench_smds [--events N] [--discoveries D <= N] [--clients C] [--curve nist|brp] "
                 "[--shared-sessions | --memory-sessions]\n");
    return 2;
  }
  const fs::path dir = fs::temp_directory_path() / ("bench_smds_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  pki::TestPkiOptions po;
  po.out_dir = dir / "pki";
  if (!pki::make_test_pki(po)) { std::fprintf(stderr, "test PKI generation failed\n"); return 1; }

  auto opened = store::open_sqlite(dir / "smds.db");
  if (!opened) { std::fprintf(stderr, "%s\n", opened.error().message.c_str()); return 1; }
  const std::shared_ptr<store::Database> db(std::move(*opened));
  auto events = smds::EventStore::open(db);
  if (!events) { std::fprintf(stderr, "%s\n", events.error().message.c_str()); return 1; }
  const auto t_setup = Clock::now();
  const auto fleet = bench::make_fleet(po.out_dir, a.curve, a.discoveries);
  if (!fill_events(*db, fleet, a.events)) { std::fprintf(stderr, "event setup failed\n"); return 1; }
  auto count = (*events)->count();
  std::printf("bench_smds: %lld events (%d of them for the %d eUICCs that discover) set up in %.1f s\n",
              static_cast<long long>(count ? *count : -1), a.discoveries, a.discoveries,
              std::chrono::duration<double>(Clock::now() - t_setup).count());


  // The floor: the public-key operations the SM-DS must do per discovery,
  // on this thread (discovery_floor).
  const auto rates = bench::measure_crypto_rates(a.curve);
  std::printf("crypto floor %s     %8.1f discoveries/s per core (1 signature %.3f ms, 3 verifications %.3f ms each)\n",
              crypto::short_name(a.curve), discovery_floor(rates), 1e3 / rates.sign, 1e3 / rates.verify);
  int rc = 0;
  for (const bool shared : {false, true}) {
    if ((shared && a.sessions == Sessions::kMemory) || (!shared && a.sessions == Sessions::kShared)) continue;
    Run r;
    if (!run_mode(a, shared, po.out_dir, *events, fleet, r)) {
      rc = 1;
      continue;
    }
    print_run(a, shared, r, rates);
    if (!r.error.empty()) std::fprintf(stderr, "first client error: %s\n", r.error.c_str());
    if (r.done != a.discoveries || !r.error.empty()) rc = 1;
  }
  fs::remove_all(dir);
  return rc;
}
