// bench_smsr [--eis N] [--devices M] [--ops K] [--clients C] [--geteis G]
//            [--es5-handlers pool|inline] [--es5-io N]
//
// The SM-SR as `rsp smsr serve` wires it, in one process (issue 19, Speed):
// the ES1/ES4 HTTPS service on 127.0.0.1 (port 0, API keys), the EIS
// registry in SQLite in a temporary folder (durable: WAL, synced after each
// durable commit as synchronous=FULL would), the ES5 link with SMS wake-ups
// through the in-process loopback SMSC, the PSK-TLS administration-session
// listener (SCP81, real TLS), and the MNO callbacks from the durable outbox
// to an HTTPS callback endpoint of the bench that counts them.
//
// Setup: M simulated devices (default 1,000), each a card folder of its own
// (`rsp euicc create --m2m` shape) on the loopback SMSC at its two MSISDNs,
// registered by ES1 RegisterEIS over HTTPS; then N - M more EIS (default N =
// 100,000) registered through the registry API on a setup connection of
// their own with SQLite's synchronous=OFF (a fast path; closed and
// checkpointed before anything is measured, the SM-SR's connection keeping
// the durable level `rsp smsr serve` runs with).
//
// Then, each printed with its ratio to the target of issue 19:
//  1. GetEIS p50/p99 over one HTTPS keep-alive connection to random EIDs
//     among the N (target p99 < 5 ms);
//  2. ES4 EnableProfile operations completed per second end to end, K of
//     them (default 4,000) from C MNO client threads (default 8) over
//     keep-alive HTTPS, at most one open per device: ES4 call → SMS wake-up
//     → PSK-TLS session → ISD-R commands → notification → MNO callback
//     received; p50/p99 of that time (target ≥ 2,000/s); the CPU per
//     operation split by whose threads used it (named by role: the SM-SR's,
//     the simulated devices' with the loopback SMSC, the MNO's), the bound
//     the simulated fleet alone sets on these 2 cores (a real fleet runs on
//     its own devices) and the SM-SR's own rate per server core;
//  3. the fixed costs measured in the same run (fixed_costs.hpp), the bound
//     they set on this machine's 2 cores, and whether the target is reachable;
//     then each bound (flushes, handshakes, the simulated fleet's CPU, the
//     SM-SR's own CPU on 2 cores) said to be above or BELOW the target.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fixed_costs.hpp"
#include "fleet.hpp"
#include "failure_kinds.hpp"
#include "ledger.hpp"
#include "rsp/common/allocator.hpp"
#include "rsp/common/file.hpp"
#include "rsp/common/file_stats.hpp"
#include "rsp/common/thread_name.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/crypto/sha256.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smpp/loopback.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/sqlite.hpp"
#include "support/measure.hpp"

namespace fs = std::filesystem;
using namespace rsp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using bench::load_average;
using bench::percentile;
using bench::Ledger;

namespace {

constexpr double kTargetOpsPerSecond = 2000;  // issue 19, Speed
constexpr double kTargetGetEisP99Ms = 5;      // issue 19, Speed
constexpr int kCores = 2;                     // "this 2-core machine"
const std::string kMnoKey = "bench-mno-key-5d1f7c3a9e2b";
const std::string kEumKey = "bench-eum-key-8b4e2d6f0a1c";
const smpp::Address kSmsrAddress{"4912345", 1, 1};

struct Args {
  std::size_t eis = 100000;
  std::size_t devices = 1000;
  std::size_t ops = 4000;
  std::size_t clients = 8;
  std::size_t geteis = 3000;
  /// Where the ES5 listener handles a session's POSTs (--es5-handlers
  /// pool|inline) and its I/O threads (--es5-io N; 0: net's default).
  net::HandlerThreads es5_handlers = es5::AdminSessionOptions{}.handler_threads;
  std::size_t es5_io = 0;
};

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) return false;
    if (k == "--es5-handlers") {
      const std::string h = argv[++i];
      if (h != "pool" && h != "inline") return false;
      a.es5_handlers = h == "inline" ? net::HandlerThreads::Inline : net::HandlerThreads::Pool;
      continue;
    }
    const long v = std::atol(argv[++i]);
    if (v < 1) return false;
    const auto n = static_cast<std::size_t>(v);
    if (k == "--eis") a.eis = n;
    else if (k == "--devices") a.devices = n;
    else if (k == "--ops") a.ops = n;
    else if (k == "--clients") a.clients = n;
    else if (k == "--geteis") a.geteis = n;
    else if (k == "--es5-io") a.es5_io = n;
    else return false;
  }
  return a.devices <= a.eis;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_smsr: %s\n", what.c_str());
  std::exit(1);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string status_of(const json& a) {
  return a.is_object() && a.contains("header") ? a["header"]["functionExecutionStatus"].value("status", "") : "";
}

/// One simulated device: its card, the device (card and terminal), and its
/// two MSISDNs on the loopback SMSC.
struct Device {
  std::unique_ptr<euicc_m2m::M2mEuicc> card;
  std::unique_ptr<m2m_device::M2mDevice> device;
  std::unique_ptr<smpp::SmsTransport> sms[2];
  std::string eid;
  std::string iccid[2];
  int enabled = 0;  ///< which profile is enabled now (0: bootstrap)
};

/// The MNO's callback endpoint over HTTPS (the test PKI's SM-DS TLS
/// certificate stands in for the MNO's server certificate): each operation
/// result goes to the ledger.
class MnoEndpoint {
 public:
  bool start(const fs::path& pki, Ledger* ledger) {
    auto id = net::TlsIdentity::load(pki / "CERT_S_SM_DS_TLS_NIST.pem", pki / "SK_S_SM_DS_TLS_NIST.pem");
    if (!id) return false;
    net::HttpServerOptions o;
    o.tls = net::TlsServerConfig{};
    o.tls->identities.push_back(std::move(*id));
    // As a real MNO's endpoint for short handlers: on its I/O thread, no
    // hand-off to a pool and back; the SM-SR's sender keeps its connection.
    o.handler_threads = net::HandlerThreads::Inline;
    o.io_threads = 1;
    o.worker_threads = 1;
    o.keep_alive_max_requests = 1000000;
    o.keep_alive_timeout = std::chrono::seconds(60);
    o.thread_name = "mno-cb";  // apart from the SM-SR's threads in the CPU split
    server_ = std::make_unique<net::HttpServer>(std::move(o));
    server_->post("/mno/callbacks", [this](const net::Request& req) {
      const json b = json::parse(req.body, nullptr, false);
      ++received_;
      Ledger* l = ledger_.load();
      if (l && b.is_object() && b.contains("operationId"))
        l->callback(b.value("operationId", std::int64_t{0}), bench::callback_failure(b));
      net::Response res;
      res.status = 204;
      return res;
    });
    ledger_ = ledger;
    return static_cast<bool>(server_->start());
  }
  void set_ledger(Ledger* l) { ledger_ = l; }
  std::string url() const { return server_->url() + "/mno/callbacks"; }
  std::uint64_t received() const { return received_.load(); }
  void stop() {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::atomic<Ledger*> ledger_{nullptr};
  std::atomic<std::uint64_t> received_{0};
};

std::unique_ptr<net::HttpsClient> es4_client(const std::string& url, const std::vector<Bytes>& roots) {
  net::HttpsClientOptions o;
  o.base_url = url;
  o.trust_anchors = roots;
  o.own_connection = true;  // not cpp-httplib's: the MNO's CPU per operation is printed
  auto c = net::HttpsClient::create(std::move(o));
  if (!c) die("HTTPS client: " + c.error().message);
  return std::move(*c);
}

/// What the threads of the measured run used per operation (CPU ms, or
/// context switches), split by whose threads they are, as the threads are
/// named (rsp/common/thread_name.hpp).
struct CpuSplit {
  double smsr_http = 0;    ///< "smsr-io", "smsr-pool", "smsr-admin-io": ES1/ES4 over HTTPS
  double smsr_admin = 0;   ///< "es5-admin-*": the PSK-TLS administration sessions
  double smsr_wake = 0;    ///< "smsr-wake-up": SMS wake-ups (counter, SCP80)
  double smsr_outbox = 0;  ///< "outbox*": the MNO callbacks
  double smsr_audit = 0;   ///< "smsr-audit": buffered audit lines
  double devices = 0;      ///< "m2m-device": the simulated devices' sessions and cards
  double smsc = 0;         ///< "sms-loopback": delivery to the simulated cards
  double mno_clients = 0;  ///< "mno-client": the bench's ES4 callers
  double mno_endpoint = 0; ///< "mno-cb-*": the callback endpoint
  double other = 0;        ///< any other live thread (main, unnamed)
  /// Threads that ended during the run (the process's total less the rest):
  /// the callback outbox's lanes, each a thread while its MNO has callbacks due.
  double ended = 0;
  double smsr() const { return smsr_http + smsr_admin + smsr_wake + smsr_outbox + ended + smsr_audit; }
  double mno() const { return mno_clients + mno_endpoint; }
};

/// `value`: what one thread used (its CPU seconds, or its context switches);
/// `process`: the same for the whole process over the run (threads that
/// ended included); `clients`: the ES4 client threads', which ended before
/// `threads` was read; `scale`: the unit per operation (1000 for ms).
template <class Value>
CpuSplit split_by_thread(const std::vector<bench::ThreadCpu>& threads, Value value, double process, double clients,
                         double ops, double scale) {
  CpuSplit s;
  const double per = scale / std::max(ops, 1.0);
  s.mno_clients = clients * per;
  double live = clients;
  for (const auto& t : threads) {
    const std::string_view n = t.name;
    const double u = value(t);
    const double v = u * per;
    live += u;
    if (n.starts_with("smsr-wake")) s.smsr_wake += v;
    else if (n.starts_with("smsr-audit")) s.smsr_audit += v;
    else if (n.starts_with("smsr")) s.smsr_http += v;
    else if (n.starts_with("es5-admin")) s.smsr_admin += v;
    else if (n.starts_with("outbox")) s.smsr_outbox += v;
    else if (n.starts_with("m2m-device")) s.devices += v;
    else if (n.starts_with("sms-loopback")) s.smsc += v;
    else if (n.starts_with("mno-client")) s.mno_clients += v;
    else if (n.starts_with("mno-cb")) s.mno_endpoint += v;
    else s.other += v;
  }
  s.ended = std::max(0.0, process - live) * per;
  return s;
}

/// The CPU per operation (ms) by side.
CpuSplit split_cpu(const std::vector<bench::ThreadCpu>& threads, double process_seconds, double clients_seconds,
                   double ops) {
  return split_by_thread(threads, [](const bench::ThreadCpu& t) { return t.seconds; }, process_seconds,
                         clients_seconds, ops, 1000);
}

/// The context switches per operation by side: each thread hand-off (a wake
/// and a wait) costs CPU on both sides and often a wait for a core.
CpuSplit split_switches(const std::vector<bench::ThreadCpu>& threads, std::uint64_t process, std::uint64_t clients,
                        double ops) {
  return split_by_thread(threads, [](const bench::ThreadCpu& t) { return static_cast<double>(t.switches); },
                         static_cast<double>(process), static_cast<double>(clients), ops, 1);
}

json post(net::HttpsClient& c, const std::string& path, const json& body, const std::string& key) {
  auto r = c.request("POST", path, body.dump(), "application/json", {{"Authorization", "Bearer " + key}});
  if (!r) return nullptr;
  return json::parse(r->body, nullptr, false);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it comes, also into a file
  tune_allocator_for_server();               // as `rsp smsr serve` does
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fprintf(stderr, "usage: bench_smsr [--eis N] [--devices M] [--ops K] [--clients C] [--geteis G] "
                         "[--es5-handlers pool|inline] [--es5-io N]\n");
    return 2;
  }
  std::string tmpl = (fs::temp_directory_path() / "bench-smsr-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) die("cannot make a temporary folder");
  const fs::path dir = tmpl;
  std::printf("bench_smsr: %zu EIS, %zu devices, %zu EnableProfile operations from %zu MNO clients, %zu GetEIS; ES5 "
              "handlers %s, %s I/O threads\n",
              args.eis, args.devices, args.ops, args.clients, args.geteis,
              args.es5_handlers == net::HandlerThreads::Inline ? "inline" : "on a pool",
              args.es5_io == 0 ? "default" : std::to_string(args.es5_io).c_str());

  // The test PKI: the SM-SR's TLS identity, the EUM, the callback endpoint's identity.
  pki::TestPkiOptions po;
  po.out_dir = dir / "pki";
  po.curves = {crypto::Curve::NistP256};
  if (auto r = pki::make_test_pki(po); !r) die("test PKI: " + r.error().message);
  const auto roots = net::load_certificates(po.out_dir / "CERT_CI_ECDSA_NIST.pem");
  if (!roots) die("CI certificate");

  // Fixed costs first, on a quiet process.
  auto costs = bench::measure_fixed_costs(dir, 200, 200);
  if (!costs) die(costs.error());

  // The SM-SR.
  MnoEndpoint endpoint;
  if (!endpoint.start(po.out_dir, nullptr)) die("the MNO callback endpoint did not start");
  const std::string database = (dir / "smsr.db").string();
  auto kek = service::kek_for_database("", database, crypto::system_random());
  if (!kek) die(kek.error());
  auto opened = store::open_database(database);
  if (!opened) die(opened.error().message);
  std::shared_ptr<store::Database> db(std::move(*opened));
  smsr::RegistryOptions ro;
  ro.kek = kek->kek;
  // As `rsp smsr serve` opens it: reads on a connection of their own (WAL),
  // never behind the writer's transaction or its disk flush.
  auto reader = store::open_database(database);
  if (!reader) die(reader.error().message);
  ro.reader = std::move(*reader);
  ro.eis_cache = 4096;  // as `rsp smsr serve` on SQLite
  const std::string callback_url = endpoint.url();
  ro.callback_url = [callback_url](const std::string&) { return callback_url; };
  auto reg = smsr::Registry::open(db, std::move(ro));
  if (!reg) die(reg.error().message);
  std::shared_ptr<smsr::Registry> registry(std::move(*reg));

  smpp::LoopbackSmsc smsc;
  auto smsr_sms = smsc.attach(kSmsrAddress);
  smsr::Es5LinkConfig lc;
  lc.registry = registry;
  lc.sms = smsr_sms.get();
  lc.source = kSmsrAddress;
  // BENCH_SMSR_LOG=1: the ES5 link's event lines on stderr (to see what
  // became of a failed operation; off in a measured run).
  if (const char* v = std::getenv("BENCH_SMSR_LOG"); v && *v == '1')
    lc.log = [](const std::string& line) { std::fprintf(stderr, "es5: %s\n", line.c_str()); };
  auto link = std::make_shared<smsr::Es5Link>(std::move(lc));
  smsr::ServiceConfig sc;
  sc.registry = registry;
  sc.scripts = smsr::isdr_script;
  sc.wake_up = [l = link.get()](const std::string& eid) { l->wake_up(eid); };
  sc.wake_up_due = [l = link.get()](const std::string& eid) { return l->first_wake_up_due(eid); };
  auto service = std::make_shared<smsr::Service>(std::move(sc));
  link->attach(service);
  // Every simulated device connects from 127.0.0.1: one peer to net's
  // per-address limit, which would refuse the sessions past 256 at once.
  // A device's closed connection counts until the listener has read its
  // end, so under load a device's next session can meet its last one still
  // counted: two per device, and some room.
  es5::AdminSessionOptions so;
  so.handler_threads = args.es5_handlers;
  so.io_threads = args.es5_io;
  so.max_connections_per_peer = 2 * args.devices + 16;
  es5::AdminSessionServer sessions(so, [l = link.get()](std::string_view id) { return l->psk(id); }, *link, *link);
  if (auto r = sessions.start(); !r) die("ES5 listener: " + r.error().message);
  link->set_trigger_address(sessions.host_header(), sessions.path());

  smsr::HttpConfig http;
  auto tls = net::TlsIdentity::load(po.out_dir / "CERT_M2M_SM_SR_TLS_NIST.pem", po.out_dir / "SK_M2M_SM_SR_TLS_NIST.pem");
  if (!tls) die("SM-SR TLS identity: " + tls.error().message);
  http.tls_identities.push_back(std::move(*tls));
  std::vector<service::CallerCredential> callers{
      {bench::kBenchEum, crypto::sha256(as_bytes(kEumKey)), "", {}, {}, ""},
      {bench::kBenchMno, crypto::sha256(as_bytes(kMnoKey)), callback_url, {}, {}, ""}};
  auto authenticator = std::make_shared<service::CallerAuthenticator>(std::move(callers));
  http.authenticate = [authenticator](const net::Request& req) { return authenticator->authenticate(req); };
  http.roles.eums = {bench::kBenchEum};
  http.roles.mnos = {bench::kBenchMno};
  http.get_eis_inline = true;  // the registry has its reader connection (as `rsp smsr serve` on SQLite)
  auto server = smsr::HttpService::start(service, std::move(http));
  if (!server) die("ES1/ES4 service: " + server.error().message);
  const std::string url = (*server)->url();
  service::OutboxWorker callbacks(registry->outbox(), smsr::callback_worker_config(), smsr::mno_callback_sender(*roots, 10s));
  callbacks.start();

  // The fleet: devices registered over ES1, the rest through the registry.
  const auto setup0 = Clock::now();
  std::vector<Device> devices(args.devices);
  std::vector<std::string> eids;
  eids.reserve(args.eis);
  {
    auto eum = es4_client(url, *roots);
    m2m::Eis model;
    for (std::size_t i = 0; i < args.devices; ++i) {
      auto eis = bench::make_card(po.out_dir, dir / "cards", i);
      if (!eis) die(eis.error());
      auto a = post(*eum, "/gsma/m2m/es1/registerEIS", {{"eis", m2m::eis_to_json(*eis, m2m::Keys::Include)}}, kEumKey);
      if (status_of(a) != "Executed-Success") die("RegisterEIS of device " + std::to_string(i) + ": " + a.dump());
      Device& d = devices[i];
      euicc_m2m::IsdROptions io;
      auto card = euicc_m2m::M2mEuicc::open(dir / "cards" / ("card-" + std::to_string(i)), io);
      if (!card) die(card.error().message);
      d.card = std::move(*card);
      d.eid = eis->eid;
      m2m_device::M2mDeviceOptions o;
      o.msisdn = smpp::Address{bench::fleet_msisdn(i, 0), 1, 1};
      o.smsr_address = kSmsrAddress;
      o.default_host = sessions.host_header();
      d.device = std::make_unique<m2m_device::M2mDevice>(d.card->isd_r(), o);
      for (int p = 0; p < 2; ++p) {
        d.iccid[p] = bench::fleet_iccid(i, p);
        d.sms[p] = smsc.attach(smpp::Address{bench::fleet_msisdn(i, p), 1, 1});
        d.device->attach(*d.sms[p]);
      }
      eids.push_back(d.eid);
      if (i == 0) model = *eis;
    }
    const double devices_s = ms(Clock::now() - setup0) / 1000;
    // Setup fast path: no fsync per RegisterEIS, on a connection of its own
    // (synchronous=OFF there) closed before measuring; the SM-SR's own
    // connection keeps the level `rsp smsr serve` runs with (WAL synced by
    // the store after each durable commit), which a PRAGMA on it would end.
    const auto t0 = Clock::now();
    {
      auto setup_opened = store::open_database(database);
      if (!setup_opened) die(setup_opened.error().message);
      std::shared_ptr<store::Database> setup_db(std::move(*setup_opened));
      if (!setup_db->execute_script("PRAGMA synchronous=OFF")) die("PRAGMA synchronous=OFF");
      smsr::RegistryOptions setup_options;
      setup_options.kek = kek->kek;
      auto setup_reg = smsr::Registry::open(setup_db, std::move(setup_options));
      if (!setup_reg) die(setup_reg.error().message);
      for (std::size_t i = args.devices; i < args.eis; ++i) {
        const auto eis = bench::synthetic_eis(model, i);
        if (auto r = (*setup_reg)->register_eis(eis, 0); !r) die("register_eis: " + r.error().message);
        eids.push_back(eis.eid);
      }
    }
    // Into the database file, synced, before anything is measured.
    if (!db->execute_script("PRAGMA wal_checkpoint(TRUNCATE)")) die("PRAGMA wal_checkpoint");
    std::printf("setup: %zu devices (card folders, ES1 RegisterEIS over HTTPS) in %.1f s; %zu more EIS through the "
                "registry API (Registry::register_eis on a setup connection with SQLite synchronous=OFF, "
                "checkpointed before measuring) in %.1f s; registry holds %lld EIS\n",
                args.devices, devices_s, args.eis - args.devices, ms(Clock::now() - t0) / 1000,
                static_cast<long long>(registry->eis_count()));
  }

  // 1. GetEIS over one keep-alive connection, random EIDs.
  {
    auto mno = es4_client(url, *roots);
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::size_t> pick(0, eids.size() - 1);
    std::vector<double> lat;
    std::size_t errors = 0;
    (void)post(*mno, "/gsma/m2m/es4/getEIS", {{"eid", eids[0]}}, kMnoKey);  // the handshake, not counted
    for (std::size_t i = 0; i < args.geteis; ++i) {
      const auto t0 = Clock::now();
      auto a = post(*mno, "/gsma/m2m/es4/getEIS", {{"eid", eids[pick(rng)]}}, kMnoKey);
      lat.push_back(ms(Clock::now() - t0));
      if (status_of(a) != "Executed-Success") ++errors;
    }
    const double p99 = percentile(lat, 0.99);
    const auto slow = std::count_if(lat.begin(), lat.end(), [](double v) { return v >= kTargetGetEisP99Ms; });
    std::printf("GetEIS (%zu EIS, %zu calls on one keep-alive HTTPS connection, random EIDs): p50 %.2f ms, p99 %.2f "
                "ms, p99 / 5 ms target = %.2f (%s); %zd calls >= 5 ms, max %.1f ms; %zu errors; load average %.1f\n",
                args.eis, lat.size(), percentile(lat, 0.5), p99, p99 / kTargetGetEisP99Ms,
                p99 < kTargetGetEisP99Ms ? "met" : "NOT met", slow, percentile(lat, 1.0), errors, load_average());
    // The SM-SR's own work in a GetEIS (the registry read on its reader
    // connection, the filtering, the JSON answer) without HTTPS, on this
    // thread: its wall time beside its CPU time shows how much of a slow
    // call was waiting for a core on this shared machine.
    std::vector<double> wall, cpu;
    for (std::size_t i = 0; i < args.geteis; ++i) {
      const std::string& eid = eids[pick(rng)];
      const auto t0 = Clock::now();
      const double c0 = bench::thread_cpu_seconds();
      auto r = service->get_eis(bench::kBenchMno, eid);
      if (r) (void)m2m::eis_to_json(*r, m2m::Keys::Omit).dump();
      cpu.push_back((bench::thread_cpu_seconds() - c0) * 1000);
      wall.push_back(ms(Clock::now() - t0));
    }
    std::printf("GetEIS work in the SM-SR alone (registry read, filter, JSON; no HTTPS), %zu calls: wall p50 %.2f ms, "
                "p99 %.2f ms; CPU p50 %.2f ms, p99 %.2f ms (the difference is waiting for a core)\n",
                wall.size(), percentile(wall, 0.5), percentile(wall, 0.99), percentile(cpu, 0.5),
                percentile(cpu, 0.99));
  }

  // 2. EnableProfile end to end.
  Ledger ledger(devices.size(), [&devices](std::size_t d) { devices[d].enabled ^= 1; });
  endpoint.set_ledger(&ledger);
  const auto stats0 = store::sqlite_commit_stats(*db);
  const std::uint64_t card_flushes0 = file_flushes();  // the SM-SR writes no file while measured
  const auto sessions_done = [&] {
    std::size_t n = 0;
    for (const auto& d : devices) n += d.device->sessions_completed();
    return n;
  };
  const std::size_t sessions0 = sessions_done();
  // What the devices saw fail and what the ES5 listener refused, as totals
  // over the fleet: a failed session is not counted by sessions_done().
  struct Failures {
    std::size_t sessions = 0, connects = 0, handshakes = 0;
    std::uint64_t refused = 0, server_handshakes = 0;
  };
  const auto failures = [&] {
    Failures f;
    for (const auto& d : devices) {
      f.sessions += d.device->sessions_failed();
      f.connects += d.device->connect_failures();
      f.handshakes += d.device->handshake_failures();
    }
    f.refused = sessions.connections_refused();
    f.server_handshakes = sessions.handshakes_failed();
    return f;
  };
  const Failures failures0 = failures();
  const auto threads0 = bench::threads_cpu();
  const double cpu0 = bench::process_cpu_seconds();
  const auto machine0 = bench::machine_cpu();
  const std::uint64_t switches0 = bench::context_switches(RUSAGE_SELF);
  const std::uint64_t forced0 = bench::context_switches(RUSAGE_SELF, true);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(60 + args.ops / 10);
  std::vector<std::thread> clients;
  std::mutex clients_cpu_mu;
  double clients_cpu = 0;  // the client threads end before the split is read: each adds its own
  std::uint64_t clients_switches = 0;
  for (std::size_t c = 0; c < args.clients; ++c) {
    clients.emplace_back([&] {
      set_thread_name("mno-client");
      const double thread0 = bench::thread_cpu_seconds();
      const std::uint64_t switched0 = bench::context_switches(RUSAGE_THREAD);
      auto mno = es4_client(url, *roots);
      while (auto d = ledger.take(args.ops, deadline)) {
        Device& dev = devices[*d];
        const auto t0 = Clock::now();
        const json body{{"eid", dev.eid}, {"iccid", dev.iccid[dev.enabled ^ 1]}};
        const auto a = bench::read_es4_answer(mno->request("POST", "/gsma/m2m/es4/enableProfile", body.dump(),
                                                    "application/json", {{"Authorization", "Bearer " + kMnoKey}}));
        if (const auto* id = std::get_if<std::int64_t>(&a)) ledger.accepted(*id, *d, t0);
        else ledger.refused(*d, std::get<std::string>(a));
      }
      const double used = bench::thread_cpu_seconds() - thread0;
      const std::uint64_t switched = bench::context_switches(RUSAGE_THREAD) - switched0;
      std::lock_guard lock(clients_cpu_mu);
      clients_cpu += used;
      clients_switches += switched;
    });
  }
  for (auto& t : clients) t.join();
  const bool all = ledger.wait_done(args.ops, std::chrono::duration_cast<std::chrono::seconds>(
                                                                 std::max(deadline - Clock::now(), Clock::duration{})));
  const double seconds = ms(ledger.last() - start) / 1000;
  const double cpu = bench::process_cpu_seconds() - cpu0;
  const auto machine1 = bench::machine_cpu();
  const std::uint64_t switches = bench::context_switches(RUSAGE_SELF) - switches0;
  const std::uint64_t forced = bench::context_switches(RUSAGE_SELF, true) - forced0;
  const auto threads = bench::threads_cpu_since(threads0, bench::threads_cpu());
  const auto stats1 = store::sqlite_commit_stats(*db);
  const double card_flushes_per_op = static_cast<double>(file_flushes() - card_flushes0);
  const double sessions_per_op = static_cast<double>(sessions_done() - sessions0);
  const auto lat = ledger.latencies();
  const double n_ops = std::max<double>(1, static_cast<double>(lat.size()));
  const double commits_per_op = static_cast<double>(stats1.commits - stats0.commits) / n_ops;
  const double flushes_per_op = static_cast<double>(stats1.flushes - stats0.flushes) / n_ops;
  const double sessions_per = sessions_per_op / n_ops;
  const double card_flushes = card_flushes_per_op / n_ops;
  const double rate = seconds > 0 ? static_cast<double>(lat.size()) / seconds : 0;
  std::printf("EnableProfile end to end (ES4 HTTPS -> SMS wake-up -> PSK-TLS session -> ISD-R commands -> "
              "notification -> MNO callback): %zu of %zu done in %.2f s%s, %zu failed: %.0f ops/s, / 2,000 target "
              "= %.3f (%s); p50 %.1f ms, p99 %.1f ms; process CPU %.2f ms per op (SM-SR, devices and MNO together); "
              "load average %.1f\n",
              ledger.done(), args.ops, seconds, all ? "" : " (TIMED OUT)", ledger.errors(), rate,
              rate / kTargetOpsPerSecond, rate >= kTargetOpsPerSecond ? "met" : "NOT met", percentile(lat, 0.5),
              percentile(lat, 0.99), lat.empty() ? 0.0 : cpu * 1000 / static_cast<double>(lat.size()), load_average());
  // Ops/s below what CPU per op allows on the cores: the machine's idle
  // (waits: flushes, timers, the one-per-device cap) or its steal (a
  // virtual machine's cores lent to other guests) says which.
  std::printf("the machine's CPU during the run (every job on it, %d cores): %s\n", kCores,
              bench::machine_cpu_line(machine0, machine1).c_str());
  std::printf("EnableProfile failures by kind (ES4 answer or callback status, subject/reason): %s; still open %zu; "
              "repeated callbacks %zu\n",
              ledger.failure_summary().c_str(), ledger.open(), ledger.duplicates());
  const Failures failures1 = failures();
  const auto per_op = [&](std::uint64_t a, std::uint64_t b) { return static_cast<double>(b - a) / n_ops; };
  std::printf("ES5 sessions that failed, per op: %.3f on the devices (%zu in all: %zu could not connect, %zu PSK-TLS "
              "handshakes failed, %zu failed otherwise); the listener refused %.3f connections per op (%llu, over its "
              "cap or the per-peer limit) and saw %.3f failed handshakes per op (%llu)\n",
              per_op(failures0.sessions, failures1.sessions), failures1.sessions - failures0.sessions,
              failures1.connects - failures0.connects, failures1.handshakes - failures0.handshakes,
              (failures1.sessions - failures0.sessions) - (failures1.connects - failures0.connects) -
                  (failures1.handshakes - failures0.handshakes),
              per_op(failures0.refused, failures1.refused),
              static_cast<unsigned long long>(failures1.refused - failures0.refused),
              per_op(failures0.server_handshakes, failures1.server_handshakes),
              static_cast<unsigned long long>(failures1.server_handshakes - failures0.server_handshakes));
  const CpuSplit split = split_cpu(threads, cpu, clients_cpu, n_ops);
  std::printf("CPU per op by side (each thread's CPU clock, by thread name): SM-SR %.3f ms (HTTPS ES1/ES4 %.3f, ES5 "
              "admin sessions %.3f, wake-ups %.3f, callback outbox %.3f + its lanes that ended in the run %.3f (process CPU less "
              "every live thread), audit writer %.3f); simulated devices %.3f ms "
              "(their sessions and cards) + loopback SMSC %.3f ms (delivery to the cards: SCP80 unwrap, card state); "
              "MNO %.3f ms (ES4 clients %.3f, callback endpoint %.3f); other threads %.3f ms\n",
              split.smsr(), split.smsr_http, split.smsr_admin, split.smsr_wake, split.smsr_outbox, split.ended,
              split.smsr_audit, split.devices, split.smsc, split.mno(), split.mno_clients, split.mno_endpoint,
              split.other);
  const CpuSplit cs = split_switches(threads, switches, clients_switches, n_ops);
  std::printf("context switches per op (each thread's voluntary + involuntary): %.1f (involuntary %.1f); SM-SR %.1f "
              "(HTTPS %.1f, ES5 admin %.1f, wake-ups %.1f, outbox %.1f + ended lanes %.1f, audit %.1f); devices %.1f + "
              "SMSC %.1f; MNO %.1f (clients %.1f, endpoint %.1f); other %.1f\n",
              static_cast<double>(switches) / n_ops, static_cast<double>(forced) / n_ops, cs.smsr(), cs.smsr_http, cs.smsr_admin, cs.smsr_wake,
              cs.smsr_outbox, cs.ended, cs.smsr_audit, cs.devices, cs.smsc, cs.mno(), cs.mno_clients,
              cs.mno_endpoint, cs.other);
  const double fleet_ms = split.devices + split.smsc;
  std::printf("the simulated fleet (devices + SMSC, %.3f ms per op) shares this machine's %d cores with the SM-SR (a real "
              "fleet runs on its devices): alone it bounds this run at %d cores / %.3f ms = %.0f ops/s; the SM-SR's own "
              "rate: %.0f ops/s per server core, %.0f ops/s on %d cores (end to end here: %.0f ops/s)\n",
              fleet_ms, kCores, kCores, fleet_ms, fleet_ms > 0 ? kCores * 1000 / fleet_ms : 0.0,
              split.smsr() > 0 ? 1000 / split.smsr() : 0.0, split.smsr() > 0 ? kCores * 1000 / split.smsr() : 0.0, kCores,
              rate);

  // 3. The fixed costs and the bound they set.
  // The registry's disk flushes are serial (SQLite has one writer; commits
  // that wait share a flush, rsp/store/sqlite.hpp): flushes per op, as
  // counted in the run, times one flush's wall time bound the rate.
  const double commit_bound = 1000.0 / (std::max(flushes_per_op, 1e-9) * costs->commit_ms);
  // Per op: one SCP80 wrap and a PSK-TLS handshake per administration
  // session the devices opened (the command session, and one more when the
  // card's notification was left pending).
  const double cpu_per_op_ms = std::max(sessions_per, 1.0) * costs->handshake_server_ms + costs->scp80_wrap_us / 1000;
  const double cpu_bound = kCores * 1000.0 / cpu_per_op_ms;
  std::printf("fixed costs on this machine: durable SQLite commit %.2f ms (median wall; %.3f ms CPU), PSK-TLS handshake "
              "+ exchange %.3f ms server CPU, %.3f ms client CPU (%.2f ms wall), SCP80 wrap of the trigger %.1f us CPU\n",
              costs->commit_ms, costs->commit_cpu_ms, costs->handshake_server_ms, costs->handshake_client_ms,
              costs->handshake_wall_ms, costs->scp80_wrap_us);
  std::printf("in the run, per op: %.2f registry transactions (the SM-SR writes in transactions only; a "
              "transaction that commits while others wait shares their flush), %.2f disk flushes for them, %.2f "
              "PSK-TLS sessions\n",
              commits_per_op, flushes_per_op, sessions_per);
  std::printf("the simulated cards (the device side, in this process): %.2f file flushes per op for their state "
              "files (a slot file overwritten in place, then fdatasync; on the same disk as the registry here, on its own flash "
              "in a real card), not counted in the SM-SR's flushes above\n",
              card_flushes);
  std::printf("bounds: %.2f serial flushes per op -> <= %.0f ops/s; %.2f handshakes + 1 wrap per op on %d cores -> "
              "<= %.0f ops/s; the 2,000/s target is %s here by these fixed costs alone\n",
              flushes_per_op, commit_bound, std::max(sessions_per, 1.0), kCores, cpu_bound,
              std::min(commit_bound, cpu_bound) >= kTargetOpsPerSecond ? "reachable" : "NOT reachable");

  // Which bound keeps this machine below the target, each stated plainly:
  // the fixed costs, the simulated fleet's CPU (in this process here, on
  // the devices in a real fleet) and the SM-SR's own CPU on the 2 cores.
  const double fleet_bound = fleet_ms > 0 ? kCores * 1000 / fleet_ms : 0.0;
  const double smsr_bound = split.smsr() > 0 ? kCores * 1000 / split.smsr() : 0.0;
  const auto verdict = [](double bound) { return bound >= kTargetOpsPerSecond ? "above" : "BELOW"; };
  std::printf("bounds against the 2,000/s target: serial registry flushes %.0f ops/s (%s), PSK-TLS handshakes + "
              "wrap on %d cores %.0f ops/s (%s), the simulated fleet's CPU on %d cores %.0f ops/s (%s), the SM-SR's "
              "own CPU on %d cores %.0f ops/s (%s); end to end here %.0f ops/s\n",
              commit_bound, verdict(commit_bound), kCores, cpu_bound, verdict(cpu_bound), kCores, fleet_bound,
              verdict(fleet_bound), kCores, smsr_bound, verdict(smsr_bound), rate);
  // The bounds above each assume the 2 cores to themselves; here the fleet,
  // the MNO and the SM-SR share them. What the SM-SR could spend per op
  // beyond its fixed costs, with the fleet and MNO as measured in this run:
  const double shared_ms = fleet_ms + split.mno() + cpu_per_op_ms;
  const double shared_bound = shared_ms > 0 ? kCores * 1000 / shared_ms : 0.0;
  const double budget_ms = kCores * 1000 / kTargetOpsPerSecond - shared_ms;
  std::printf("sharing the %d cores: fleet %.3f + MNO %.3f + the SM-SR's handshakes and wrap %.3f = %.3f ms per op -> "
              "<= %.0f ops/s (%s); at 2,000/s the SM-SR's other work may take %.3f ms per op, it took %.3f\n",
              kCores, fleet_ms, split.mno(), cpu_per_op_ms, shared_ms, shared_bound, verdict(shared_bound), budget_ms,
              split.smsr() - cpu_per_op_ms);
  // Both ends of each fixed cost run on these cores (the devices' side of
  // the handshakes and their card flushes too): what the protocol alone
  // takes per op, and what that leaves for all the code around it.
  const double protocol_ms = std::max(sessions_per, 1.0) * (costs->handshake_server_ms + costs->handshake_client_ms) +
                             flushes_per_op * costs->commit_cpu_ms + card_flushes * costs->card_flush_cpu_ms +
                             costs->scp80_wrap_us / 1000;
  const double process_ms = lat.empty() ? 0.0 : cpu * 1000 / static_cast<double>(lat.size());
  std::printf("the protocol's fixed CPU per op, both ends on these %d cores: %.2f PSK-TLS handshakes + exchange x "
              "(server %.3f + client %.3f ms), %.2f registry flushes x %.3f ms, %.2f card state flushes x %.3f ms "
              "(fdatasync of a 1,100-byte record, %.2f ms wall), the wrap = %.3f ms of the %.3f ms per op that "
              "2,000/s allows; the code around it (SM-SR, devices, SMSC, MNO) may take %.3f ms per op, it took %.3f\n",
              kCores, std::max(sessions_per, 1.0), costs->handshake_server_ms, costs->handshake_client_ms,
              flushes_per_op, costs->commit_cpu_ms, card_flushes, costs->card_flush_cpu_ms, costs->card_flush_ms,
              protocol_ms, kCores * 1000 / kTargetOpsPerSecond, kCores * 1000 / kTargetOpsPerSecond - protocol_ms,
              process_ms - protocol_ms);

  endpoint.set_ledger(nullptr);
  callbacks.stop();
  (*server)->stop();
  // The devices go before the ES5 listener: wake-ups still queued on them
  // would otherwise meet a closed port (refused connections, cut
  // handshakes) that no operation measured above saw.
  for (auto& d : devices) {
    for (auto& s : d.sms)
      if (s) s->stop();
    d.device.reset();
  }
  sessions.stop();
  smsr_sms->stop();
  link.reset();
  endpoint.stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return all && ledger.errors() == 0 ? 0 : 1;
}
