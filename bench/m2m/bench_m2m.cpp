// bench_m2m [--devices M] [--downloads N] [--parallel P] [--profile-bytes B] [--segment S]
//
// The M2M download rate (issue 20, Speed): SGP.02 profile downloads with
// enable, end to end, in one process.
//
// The SM-SR as `rsp smsr serve` wires it, plus ES3, which that command does
// not serve yet (Es3Service on the same HttpService, as the ES3 tests wire
// it): the EIS registry in SQLite in a temporary folder (durable: WAL,
// synchronous=FULL; reads on a connection of their own), ES3 on HTTPS with mutual TLS (the SM-DP known by its
// client certificate, CERT_M2M_SM_DP_TLS pinned under the test CI), the ES5
// link with SMS wake-ups through the in-process loopback SMSC and the
// PSK-TLS administration-session listener (SCP81, real TLS), and the
// durable callback outbox that carries each ES3 result to the SM-DP's
// callback endpoint over HTTPS.
//
// The SM-DP: smdp::ProfileDownload on its durable download table (SQLite,
// its own file) through smdp::Es3Client, one client (one kept mutual-TLS
// connection) per parallel download, the results of all of them arriving
// at one HTTPS callback endpoint. ES2 (the MNO's DownloadProfile to the
// SM-DP) is not in the figure: the bench calls ProfileDownload::run itself,
// with the request ES2 would carry (profile, enable=true, subscription
// address).
//
// The fleet: M simulated M2M devices (default 100), each a fresh card
// folder (`rsp euicc create --m2m` shape: its own eUICC certificate as the
// ECASD's, from the test EUM) with its ISD-Ps answering ES8
// (euicc_m2m::Es8Card), registered with the SM-SR. The downloads
// are spread over the devices, a new ISD-P with a new ICCID (and MSISDN)
// each time, at most one download per device at a time.
//
// Each download: ES3.GetEIS (the ECASD certificate), CreateISDP, ES8 key
// establishment (ECKA scenario #3) through SendData, the SAIP sample
// profile (B bytes of filler, default 8,000) under SCP03t in SendData
// segments of S STORE DATA commands (default: ProfileDownload's, 64),
// ProfileDownloadCompleted,
// EnableProfile. Every SendData and every function the eUICC executes is an
// ES3 operation: an SMS wake-up and a PSK-TLS session, its result called
// back to the SM-DP.
//
// Printed: downloads/s (wall), p50/p99 per download, CPU per download (the
// SM-DP's threads alone, and the whole process: SM-DP, SM-SR and the
// simulated devices), the crypto floor of one download measured in the same
// run and the ratio of downloads per process-CPU-second to it, the time per
// ES3 function as the SM-DP sees it, and the fixed costs (disk flushes,
// TLS handshakes) per download with the bound they set.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "rsp/common/file.hpp"
#include "rsp/common/file_stats.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/euicc_m2m/state.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smdp/es3_client.hpp"
#include "rsp/smdp/es8.hpp"
#include "rsp/smdp/profile_download.hpp"
#include "rsp/smdpp/sample_profile.hpp"
#include "rsp/smpp/loopback.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/sqlite.hpp"
#include "crypto/floor.hpp"
#include "smsr/fixed_costs.hpp"
#include "smsr/fleet.hpp"
#include "support/measure.hpp"

namespace fs = std::filesystem;
using namespace rsp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace es3 = m2m::es3;
using bench::load_average;
using bench::percentile;

namespace {

constexpr const char* kSmdp = "smdp.bench";
constexpr int kCores = 2;  // "this 2-core machine"
const smpp::Address kSmsrAddress{"4912345", 1, 1};

struct Args {
  std::size_t devices = 100;
  std::size_t downloads = 200;
  std::size_t parallel = 4;
  std::size_t profile_bytes = 8000;
  std::size_t segment = smdp::kDefaultCommandsPerSegment;
};

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) return false;
    const long v = std::atol(argv[++i]);
    if (v < 1) return false;
    const auto n = static_cast<std::size_t>(v);
    if (k == "--devices") a.devices = n;
    else if (k == "--downloads") a.downloads = n;
    else if (k == "--parallel") a.parallel = n;
    else if (k == "--profile-bytes") a.profile_bytes = n;
    else if (k == "--segment") a.segment = n;
    else return false;
  }
  // One download per device at a time: each parallel download has devices of its own.
  return a.parallel <= a.devices;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_m2m: %s\n", what.c_str());
  std::exit(1);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// The ICCID and MSISDN of download `k`: profile slot 2 of the fleet's
/// numbering, which the devices' own two profiles (0, 1) never use.
std::string download_iccid(std::size_t k) { return bench::fleet_iccid(k, 2); }
std::string download_msisdn(std::size_t k) { return bench::fleet_msisdn(k, 2); }

/// The SM-DP's ES3 port, timed: the wall time of each ES3 function as the
/// SM-DP waits for its result (the call and, for what the eUICC executes,
/// the SMS wake-up, the session and the callback), per function.
class TimedPort final : public smdp::Es3Port {
 public:
  explicit TimedPort(smdp::Es3Port& inner) : inner_(inner) {}
  expected<es3::Result, std::string> call(const es3::Request& request) override {
    const auto t0 = Clock::now();
    auto r = inner_.call(request);
    const es3::Function f = es3::function_of(request);
    std::string name(es3::function(f).name);
    // The SendData right after CreateISDP carries the key establishment; the others, the profile.
    if (f == es3::Function::SendData) name += last_ == es3::Function::CreateIsdp ? " (ES8 keys)" : " (profile)";
    last_ = f;
    auto& slot = spent_[name];
    slot.first += ms(Clock::now() - t0);
    ++slot.second;
    return r;
  }
  /// Per function: total milliseconds and calls.
  const std::map<std::string, std::pair<double, std::size_t>>& spent() const { return spent_; }

 private:
  smdp::Es3Port& inner_;
  es3::Function last_ = es3::Function::GetEis;
  std::map<std::string, std::pair<double, std::size_t>> spent_;
};

/// The SM-DP's callback endpoint over HTTPS (its TLS certificate
/// CERT_M2M_SM_DP_TLS): each ES3 result goes to the clients' results. The
/// same server stands in for the MNO's ES4 callback endpoint, which counts
/// the Handle...Notification calls (the bootstrap profile's MNO is told that
/// its profile was disabled by each enable).
class SmdpEndpoint {
 public:
  bool start(const fs::path& pki, std::shared_ptr<smdp::Es3Results> results) {
    auto id = net::TlsIdentity::load(pki / "CERT_M2M_SM_DP_TLS_NIST.pem", pki / "SK_M2M_SM_DP_TLS_NIST.pem");
    if (!id) return false;
    net::HttpServerOptions o;
    o.tls = net::TlsServerConfig{};
    o.tls->identities.push_back(std::move(*id));
    o.worker_threads = 2;
    server_ = std::make_unique<net::HttpServer>(std::move(o));
    server_->post("/smdp/es3/callbacks", [this, results](const net::Request& req) {
      net::Response res;
      // The SM-SR's ES3 notifications (the card's confirmation of an
      // enable) come here too: taken, not counted as results.
      if (m2m::es3::decode_notification(req.body)) {
        ++es3_notifications_;
        res.status = 204;
        return res;
      }
      ++received_;
      res.status = results->deliver(req.body) ? 204 : 400;
      if (res.status != 204) ++refused_;
      return res;
    });
    server_->post("/mno/callbacks", [this](const net::Request&) {
      ++notifications_;
      net::Response res;
      res.status = 204;
      return res;
    });
    return static_cast<bool>(server_->start());
  }
  std::string url() const { return server_->url() + "/smdp/es3/callbacks"; }
  std::string mno_url() const { return server_->url() + "/mno/callbacks"; }
  std::uint64_t notifications() const { return notifications_.load(); }
  std::uint64_t received() const { return received_.load(); }
  std::uint64_t refused() const { return refused_.load(); }
  std::uint64_t es3_notifications() const { return es3_notifications_.load(); }
  void stop() {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::atomic<std::uint64_t> received_{0}, refused_{0}, notifications_{0}, es3_notifications_{0};
};

/// The device of download `k`: worker k mod P runs it, among devices of its
/// own (w, w + P, w + 2P, ... below M), so no device has two at once.
std::size_t device_of(std::size_t k, std::size_t devices, std::size_t parallel) {
  const std::size_t w = k % parallel, j = k / parallel;
  return w + parallel * (j % (devices / parallel));
}

/// Rows the connection changed so far (SQLite's total_changes()): the
/// SM-DP's table writes one row per statement, each in a transaction of its
/// own (autocommit), which the engine's commit counters do not see.
std::int64_t rows_changed(store::Database& db) {
  auto r = db.query_one("SELECT total_changes()");
  return r && *r ? (*r)->int64(0) : 0;
}

/// One simulated device: its card, the card's ES8 side for its ISD-Ps, the
/// device (card and terminal) and its two MSISDNs on the loopback SMSC.
struct Device {
  std::unique_ptr<euicc_m2m::M2mEuicc> card;
  std::unique_ptr<euicc_m2m::Es8Card> es8;
  std::unique_ptr<m2m_device::M2mDevice> device;
  std::unique_ptr<smpp::SmsTransport> sms[2];
  /// The MSISDNs of the profiles downloaded to it: the SM-SR wakes a device
  /// up at its enabled profile's number, which each download with enable changes.
  std::vector<std::unique_ptr<smpp::SmsTransport>> downloaded_sms;
  std::string eid;
};

/// What one parallel download worker saw.
struct WorkerReport {
  std::vector<double> latencies;  ///< ms per download
  std::size_t failed = 0;
  std::string first_error;
  double cpu_s = 0;  ///< the worker thread's CPU: the SM-DP's part (its crypto, table, ES3 client)
  std::uint64_t connections = 0;
  std::map<std::string, std::pair<double, std::size_t>> spent;
};

/// The crypto floor of one download, one core: the public-key operations of
/// ES8's key establishment (ECKA scenario #3) on both ends, its key
/// derivation and receipt on both ends, and the SCP03t protection of the
/// profile on both ends (the SM-DP's encryption and MACs, the card's
/// verification and decryption), each measured on this thread.
struct M2mFloor {
  bench::CryptoRates rates;
  double derive_us = 0;  ///< es8::derive_keys + compute_receipt, once
  double scp03t_ms = 0;  ///< the profile encrypted and MACed, then verified and decrypted
  std::size_t upp_bytes = 0;
  // Counts per download (SGP.02 §3.1.2 as lib/smdp/es8.cpp and
  // lib/euicc_m2m/es8_card.cpp run it):
  //   SM-DP: verify ECASD certificate (EUM's signature) and EUM certificate
  //          (CI's), 1 ephemeral key generation, 1 signature (key-agreement
  //          data, SK.DP.ECDSA), 1 ECKA, 1 derivation + receipt;
  //   card:  verify CERT.DP.ECDSA (CI's signature) and the SM-DP's signature,
  //          1 ECKA, 1 derivation + receipt.
  // The floor counts every certificate verification in every download; the
  // run does fewer, as pki memoizes a verified (certificate, issuer) pair:
  // the EUM's and CERT.DP.ECDSA's once per process, each ECASD's once per
  // device. So the floor is a little higher than the crypto the run does.
  static constexpr int kVerify = 4, kSign = 1, kKeygen = 1, kEcka = 2, kDerive = 2;
  double ms_per_download() const {
    return 1000.0 * (kVerify / rates.verify + kSign / rates.sign + kKeygen / rates.keygen + kEcka / rates.ecdh) +
           kDerive * derive_us / 1000.0 + scp03t_ms;
  }
};

template <class Op>
double cpu_ms_per_call(double seconds, Op op) {
  const double start = bench::thread_cpu_seconds();
  long count = 0;
  double now = start;
  do {
    op();
    ++count;
    now = bench::thread_cpu_seconds();
  } while (now - start < seconds);
  return 1000.0 * (now - start) / static_cast<double>(count);
}

M2mFloor measure_floor(const Bytes& upp) {
  M2mFloor f;
  f.rates = bench::measure_crypto_rates(crypto::Curve::NistP256, 0.25);
  f.upp_bytes = upp.size();
  crypto::SystemRandom random;
  const Bytes shs = random.bytes(32), dr = random.bytes(16), host_id = random.bytes(16);
  const Bytes crt = m2m::es8::encode_crt(m2m::es8::kKeyUsageScp03, m2m::es8::kDefaultKeyVersion, host_id);
  f.derive_us = 1000.0 * cpu_ms_per_call(0.1, [&] {
    auto k = m2m::es8::derive_keys(shs, dr, host_id);
    if (!k || !m2m::es8::compute_receipt(k->receipt_key, crt, dr)) die("ES8 key derivation");
  });
  auto keys = m2m::es8::derive_keys(shs, dr, host_id);
  if (!keys) die("ES8 key derivation");
  f.scp03t_ms = cpu_ms_per_call(0.25, [&] {
    crypto::BspSession dp(m2m::es8::scp03t_keys(*keys));
    auto segments = dp.encrypt_and_mac_segments(m2m::es8::kTagProfileSegment, upp);
    if (!segments) die("SCP03t encryption");
    crypto::BspSession card(m2m::es8::scp03t_keys(*keys));
    for (const auto& s : *segments)
      if (!card.verify_and_decrypt(m2m::es8::kTagProfileSegment, s)) die("SCP03t decryption");
  });
  return f;
}

Bytes load_der(const fs::path& file) {
  auto certs = pki::Certificate::load_file(file);
  if (!certs || certs->empty()) die("certificate " + file.filename().string());
  return certs->front().der();
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it comes, also into a file
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fprintf(stderr, "usage: bench_m2m [--devices M] [--downloads N] [--parallel P (<= M)] [--profile-bytes B] "
                         "[--segment S]\n");
    return 2;
  }
  std::string tmpl = (fs::temp_directory_path() / "bench-m2m-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) die("cannot make a temporary folder");
  const fs::path dir = tmpl;
  std::printf("bench_m2m: %zu downloads with enable to %zu devices, %zu in parallel, sample profile with %zu bytes "
              "of filler, %zu STORE DATA per SendData\n",
              args.downloads, args.devices, args.parallel, args.profile_bytes, args.segment);

  pki::TestPkiOptions po;
  po.out_dir = dir / "pki";
  po.curves = {crypto::Curve::NistP256};
  if (auto r = pki::make_test_pki(po); !r) die("test PKI: " + r.error().message);
  const fs::path& pki_dir = po.out_dir;
  const auto roots = net::load_certificates(pki_dir / "CERT_CI_ECDSA_NIST.pem");
  if (!roots) die("CI certificate");

  // The profile: the same sample package (size) for every download, its ICCID set per download.
  smdpp::SampleProfileOptions profile_options;
  profile_options.filler = args.profile_bytes;
  const auto upp_of = [&](std::size_t k) {
    return smdpp::make_sample_upp(*messages::iccid_from_digits(download_iccid(k)), crypto::system_random(),
                                  profile_options);
  };

  // Fixed costs and the crypto floor first, on a quiet process.
  auto costs = bench::measure_fixed_costs(dir, 200, 200);
  if (!costs) die(costs.error());
  const M2mFloor floor = measure_floor(upp_of(0));

  // The SM-DP's callback endpoint, where the SM-SR sends ES3 results.
  auto results = std::make_shared<smdp::Es3Results>();
  SmdpEndpoint endpoint;
  if (!endpoint.start(pki_dir, results)) die("the SM-DP's callback endpoint did not start");

  // The SM-SR.
  const std::string database = (dir / "smsr.db").string();
  auto kek = service::kek_for_database("", database, crypto::system_random());
  if (!kek) die(kek.error());
  auto opened = store::open_database(database);
  if (!opened) die(opened.error().message);
  std::shared_ptr<store::Database> db(std::move(*opened));
  smsr::RegistryOptions ro;
  ro.kek = kek->kek;
  auto reader = store::open_database(database);
  if (!reader) die(reader.error().message);
  ro.reader = std::move(*reader);
  ro.callback_url = [smdp_url = endpoint.url(), mno_url = endpoint.mno_url()](const std::string& recipient) {
    return recipient == kSmdp ? smdp_url : mno_url;
  };
  auto reg = smsr::Registry::open(db, std::move(ro));
  if (!reg) die(reg.error().message);
  std::shared_ptr<smsr::Registry> registry(std::move(*reg));

  smpp::LoopbackSmsc smsc;
  auto smsr_sms = smsc.attach(kSmsrAddress);
  smsr::Es5LinkConfig lc;
  lc.registry = registry;
  lc.sms = smsr_sms.get();
  lc.source = kSmsrAddress;
  auto link = std::make_shared<smsr::Es5Link>(std::move(lc));
  smsr::ServiceConfig sc;
  sc.registry = registry;
  sc.scripts = smsr::isdr_script;
  sc.wake_up = [l = link.get()](const std::string& eid) { l->wake_up(eid); };
  sc.wake_up_due = [l = link.get()](const std::string& eid) { return l->first_wake_up_due(eid); };
  auto service = std::make_shared<smsr::Service>(sc);
  auto es3_service = std::make_shared<smsr::Es3Service>(sc);
  link->attach(service);
  link->attach_es3(es3_service);
  es5::AdminSessionOptions so;
  so.max_connections_per_peer = args.devices + 16;  // every simulated device connects from 127.0.0.1
  es5::AdminSessionServer sessions(so, [l = link.get()](std::string_view id) { return l->psk(id); }, *link, *link);
  if (auto r = sessions.start(); !r) die("ES5 listener: " + r.error().message);
  link->set_trigger_address(sessions.host_header(), sessions.path());

  smsr::HttpConfig http;
  auto tls = net::TlsIdentity::load(pki_dir / "CERT_M2M_SM_SR_TLS_NIST.pem", pki_dir / "SK_M2M_SM_SR_TLS_NIST.pem");
  if (!tls) die("SM-SR TLS identity: " + tls.error().message);
  http.tls_identities.push_back(std::move(*tls));
  // The SM-DP by its pinned client certificate (mutual TLS), chained to the CI.
  std::vector<service::CallerCredential> callers{
      {kSmdp, {}, "", load_der(pki_dir / "CERT_M2M_SM_DP_TLS_NIST.pem"), std::nullopt, ""}};
  auto authenticator = std::make_shared<service::CallerAuthenticator>(std::move(callers));
  http.client_roots = *roots;
  http.authenticate = [authenticator](const net::Request& req) { return authenticator->authenticate(req); };
  http.roles.smdps = {kSmdp};
  http.es3 = es3_service;
  http.get_eis_inline = true;  // the registry has its reader connection (as `rsp smsr serve` on SQLite)
  auto server = smsr::HttpService::start(service, std::move(http));
  if (!server) die("ES3 service: " + server.error().message);
  const std::string url = (*server)->url();
  service::OutboxWorker callbacks(registry->outbox(), smsr::callback_worker_config(),
                                  smsr::mno_callback_sender(*roots, 10s));
  callbacks.start();

  // The fleet, registered (ES1's RegisterEIS through the service: setup, not measured).
  const auto setup0 = Clock::now();
  std::vector<Device> devices(args.devices);
  for (std::size_t i = 0; i < args.devices; ++i) {
    auto eis = bench::make_card(pki_dir, dir / "cards", i);
    if (!eis) die(eis.error());
    if (auto r = service->register_eis(bench::kBenchEum, *eis); !r) die("RegisterEIS: " + r.error().message);
    Device& d = devices[i];
    const fs::path card_dir = dir / "cards" / ("card-" + std::to_string(i));
    auto card = euicc_m2m::M2mEuicc::open(card_dir);
    if (!card) die(card.error().message);
    d.card = std::move(*card);
    auto store = euicc_m2m::M2mStore::open(card_dir);
    if (!store) die(store.error().message);
    auto es8 = euicc_m2m::Es8Card::open(d.card->isd_r_shared(), *store);
    if (!es8) die("ES8 card " + std::to_string(i) + ": " + es8.error().message);
    d.es8 = std::move(*es8);
    d.eid = eis->eid;
    m2m_device::M2mDeviceOptions o;
    o.msisdn = smpp::Address{bench::fleet_msisdn(i, 0), 1, 1};
    o.smsr_address = kSmsrAddress;
    o.default_host = sessions.host_header();
    o.isdp = [es8 = d.es8.get()](ByteView aid, ByteView c) { return es8->execute(aid, c); };
    d.device = std::make_unique<m2m_device::M2mDevice>(d.card->isd_r(), o);
    for (int p = 0; p < 2; ++p) {
      d.sms[p] = smsc.attach(smpp::Address{bench::fleet_msisdn(i, p), 1, 1});
      d.device->attach(*d.sms[p]);
    }
  }

  // The SM-DP.
  auto smdp_db = store::open_database((dir / "smdp.db").string());
  if (!smdp_db) die(smdp_db.error().message);
  std::shared_ptr<store::Database> smdp_database(std::move(*smdp_db));
  auto table = smdp::DownloadTable::open(smdp_database);
  if (!table) die(table.error());
  auto dp_key = pki::load_private_key_file(pki_dir / "SK_M2M_SM_DP_ECDSA_NIST.pem");
  if (!dp_key) die("SK.DP.ECDSA");
  const smdp::DpIdentity dp{load_der(pki_dir / "CERT_M2M_SM_DP_ECDSA_NIST.pem"), std::move(*dp_key)};
  const smdp::EcasdTrust trust{*pki::Certificate::load_file(pki_dir / "CERT_EUM_ECDSA_NIST.pem"),
                               *pki::Certificate::load_file(pki_dir / "CERT_CI_ECDSA_NIST.pem")};
  std::vector<std::unique_ptr<smdp::Es3Client>> clients;
  for (std::size_t w = 0; w < args.parallel; ++w) {
    smdp::Es3ClientOptions co;
    co.smsr_url = url;
    co.trust_anchors = *roots;
    auto id = net::TlsIdentity::load(pki_dir / "CERT_M2M_SM_DP_TLS_NIST.pem", pki_dir / "SK_M2M_SM_DP_TLS_NIST.pem");
    if (!id) die("SM-DP TLS identity: " + id.error().message);
    co.identity = std::move(*id);
    co.result_timeout = 60s;
    auto c = smdp::Es3Client::create(std::move(co), results);
    if (!c) die(c.error());
    clients.push_back(std::move(*c));
  }
  // The requests (the profile packages made before measuring: the MNO's input, not the SM-DP's work).
  std::vector<smdp::DownloadRequest> requests(args.downloads);
  for (std::size_t k = 0; k < args.downloads; ++k) {
    auto& r = requests[k];
    Device& d = devices[device_of(k, args.devices, args.parallel)];
    r.eid = d.eid;
    d.downloaded_sms.push_back(smsc.attach(smpp::Address{download_msisdn(k), 1, 1}));
    d.device->attach(*d.downloaded_sms.back());
    r.iccid = download_iccid(k);
    r.mno_id = bench::kBenchMno;
    r.required_memory = static_cast<std::uint32_t>(2 * floor.upp_bytes + 4096);
    r.upp = upp_of(k);
    r.enable = true;
    r.profile_type = profile_options.profile_type;
    r.subscription_address = m2m::SubscriptionAddress{download_msisdn(k), ""};
  }
  std::printf("setup: %zu devices (card folders, RegisterEIS) and %zu download requests in %.1f s; profile package "
              "%zu bytes\n",
              args.devices, args.downloads, ms(Clock::now() - setup0) / 1000, floor.upp_bytes);

  // The downloads: worker w runs downloads w, w + P, w + 2P, ... on its own devices (device_of).
  const auto smsr_stats0 = store::sqlite_commit_stats(*db);
  const auto smdp_rows0 = rows_changed(*smdp_database);
  const std::uint64_t file_flushes0 = file_flushes();  // the simulated cards' state files
  const auto sessions_done = [&] {
    std::size_t n = 0;
    for (const auto& d : devices) n += d.device->sessions_completed();
    return n;
  };
  const std::size_t sessions0 = sessions_done();
  const std::uint64_t callbacks0 = endpoint.received(), notifications0 = endpoint.notifications();
  std::uint64_t connections0 = 0;
  for (const auto& c : clients) connections0 += c->connections_opened();
  std::vector<WorkerReport> reports(args.parallel);
  const double cpu0 = bench::process_cpu_seconds();
  const auto start = Clock::now();
  {
    std::vector<std::thread> workers;
    for (std::size_t w = 0; w < args.parallel; ++w) {
      workers.emplace_back([&, w] {
        WorkerReport& rep = reports[w];
        TimedPort port(*clients[w]);
        smdp::ProfileDownload download({dp, trust, args.segment, {}}, port, **table);
        const double c0 = bench::thread_cpu_seconds();
        for (std::size_t k = w; k < args.downloads; k += args.parallel) {
          const auto t0 = Clock::now();
          auto d = download.run(requests[k]);
          rep.latencies.push_back(ms(Clock::now() - t0));
          if (!d || d->state != smdp::DownloadState::Enabled) {
            if (rep.failed++ == 0) rep.first_error = d ? d->error : d.error();
          }
        }
        rep.cpu_s = bench::thread_cpu_seconds() - c0;
        rep.spent = port.spent();
      });
    }
    for (auto& t : workers) t.join();
  }
  const double seconds = ms(Clock::now() - start) / 1000;
  const double cpu = bench::process_cpu_seconds() - cpu0;
  const auto smsr_stats1 = store::sqlite_commit_stats(*db);
  const auto smdp_rows1 = rows_changed(*smdp_database);
  const auto card_flushes = static_cast<double>(file_flushes() - file_flushes0);
  const auto psk_sessions = static_cast<double>(sessions_done() - sessions0);
  const auto es3_callbacks = static_cast<double>(endpoint.received() - callbacks0);
  const auto mno_notifications = static_cast<double>(endpoint.notifications() - notifications0);
  std::uint64_t connections1 = 0;
  for (const auto& c : clients) connections1 += c->connections_opened();

  std::vector<double> lat;
  std::size_t failed = 0;
  double smdp_cpu = 0;
  std::string first_error;
  std::map<std::string, std::pair<double, std::size_t>> spent;
  for (const auto& r : reports) {
    lat.insert(lat.end(), r.latencies.begin(), r.latencies.end());
    failed += r.failed;
    smdp_cpu += r.cpu_s;
    if (first_error.empty()) first_error = r.first_error;
    for (const auto& [name, v] : r.spent) {
      spent[name].first += v.first;
      spent[name].second += v.second;
    }
  }
  const double n = std::max<double>(1, static_cast<double>(lat.size()));
  const double rate = seconds > 0 ? static_cast<double>(lat.size() - failed) / seconds : 0;
  const double cpu_ms = cpu * 1000 / n;
  const double floor_ms = floor.ms_per_download();
  const double floor_rate = 1000.0 / floor_ms;
  const double per_cpu_second = cpu > 0 ? static_cast<double>(lat.size() - failed) / cpu : 0;

  std::printf("downloads end to end (ProfileDownload: ES3 over mutual-TLS HTTPS -> SMS wake-up -> PSK-TLS session -> "
              "ISD-R / ISD-P (ES8) -> ES3 result called back over HTTPS), enable=true: %zu done, %zu failed, in %.2f "
              "s: %.1f downloads/s; p50 %.0f ms, p99 %.0f ms per download; load average %.1f\n",
              lat.size() - failed, failed, seconds, rate, percentile(lat, 0.5), percentile(lat, 0.99),
              load_average());
  if (failed > 0) std::printf("first failure: %s\n", first_error.c_str());
  std::printf("CPU per download: %.1f ms in the SM-DP's threads (ES8 crypto, SCP03t, its table, its ES3 client's "
              "TLS); %.1f ms for the whole process (SM-DP, SM-SR, its HTTPS and callbacks, and the simulated "
              "devices and cards, which a real deployment would not carry)\n",
              smdp_cpu * 1000 / n, cpu_ms);
  std::printf("crypto floor of one download, measured in this run on one core (P-256): %d verifications (%.0f/s), "
              "%d signature (%.0f/s), %d key generation (%.0f/s), %d ECKA (%.0f/s), %d ES8 key derivations + "
              "receipts (%.1f us each), SCP03t of the %zu-byte package encrypted+MACed and verified+decrypted "
              "(%.2f ms): %.2f ms -> %.0f downloads per CPU-second\n",
              M2mFloor::kVerify, floor.rates.verify, M2mFloor::kSign, floor.rates.sign, M2mFloor::kKeygen,
              floor.rates.keygen, M2mFloor::kEcka, floor.rates.ecdh, M2mFloor::kDerive, floor.derive_us,
              floor.upp_bytes, floor.scp03t_ms, floor_ms, floor_rate);
  std::printf("ratio: %.2f downloads per process-CPU-second / %.0f floor = %.3f (the floor's work is %.1f%% of the "
              "process CPU per download)\n",
              per_cpu_second, floor_rate, per_cpu_second / floor_rate, 100.0 * floor_ms / std::max(cpu_ms, 1e-9));

  // Where the time goes, as the SM-DP waits (wall, summed over the parallel downloads).
  double es3_ms = 0;
  for (const auto& [name, v] : spent) es3_ms += v.first;
  double total_ms = 0;
  for (double l : lat) total_ms += l;
  std::printf("time per download by ES3 function (wall, as the SM-DP waits for the result):");
  for (const auto& [name, v] : spent)
    std::printf(" %s %.1f ms (%.2f calls);", name.c_str(), v.first / n, static_cast<double>(v.second) / n);
  std::printf(" the SM-DP's own work between calls %.1f ms\n", (total_ms - es3_ms) / n);

  // The fixed costs per download, and the bounds they set.
  const double smsr_commits = static_cast<double>(smsr_stats1.commits - smsr_stats0.commits) / n;
  const double smsr_flushes = static_cast<double>(smsr_stats1.flushes - smsr_stats0.flushes) / n;
  // Each SM-DP table write is an autocommit of one row: one durable commit, one flush.
  const double smdp_flushes = static_cast<double>(smdp_rows1 - smdp_rows0) / n;
  const double sessions_per = psk_sessions / n;
  const double es3_handshakes = static_cast<double>(connections1 - connections0) / n;
  std::printf("fixed costs on this machine: durable SQLite commit %.2f ms (median wall), PSK-TLS handshake + exchange "
              "%.3f ms server CPU (%.2f ms wall), SCP80 wrap of a wake-up %.1f us CPU\n",
              costs->commit_ms, costs->handshake_server_ms, costs->handshake_wall_ms, costs->scp80_wrap_us);
  std::printf("per download in the run: SM-SR registry %.1f transactions, %.1f disk flushes for them (the "
              "engine's count; writes outside a transaction not included); SM-DP table %.1f writes, each its own "
              "durable commit (one flush); simulated cards %.1f file flushes (their state files; on the same "
              "disk here, on the card's own flash in a real device); %.1f ES3 results called back, %.1f ES4 "
              "notifications to the MNO; %.1f PSK-TLS sessions (SMS wake-ups answered); %.3f ES3 mutual-TLS handshakes (the clients' kept connections; the "
              "callback sender keeps its own)\n",
              smsr_commits, smsr_flushes, smdp_flushes, card_flushes / n, es3_callbacks / n, mno_notifications / n,
              sessions_per, es3_handshakes);
  // The SM-SR's flushes are serial (one writer; a waiting commit shares a
  // flush), the SM-DP's file is another and flushes alongside; a download's
  // own flushes are serial along its steps.
  const double flush_bound = 1000.0 / (std::max(smsr_flushes, 1e-9) * costs->commit_ms);
  const double handshake_bound = kCores * 1000.0 / (std::max(sessions_per, 1e-9) * costs->handshake_server_ms);
  const double serial_ms = (smsr_flushes + smdp_flushes) * costs->commit_ms;
  std::printf("bounds, with the commit measured alone: the SM-SR's %.1f serial flushes per download -> <= %.0f "
              "downloads/s; %.1f PSK-TLS handshakes per download on %d cores -> <= %.0f downloads/s; one download "
              "waits for %.0f ms of flushes (SM-SR and SM-DP) -> at %zu in parallel <= %.1f downloads/s\n",
              smsr_flushes, flush_bound, sessions_per, kCores, handshake_bound, serial_ms, args.parallel,
              serial_ms > 0 ? static_cast<double>(args.parallel) * 1000.0 / serial_ms : 0.0);
  // The flushes the run did are serial too: their rate says what one took at
  // most while the downloads ran (the disk's cost scatters from moment to moment).
  const double run_flushes_per_s = smsr_flushes * rate;
  std::printf("in the run: %.0f SM-SR flushes/s, so at most %.2f ms each (beside the SM-DP's %.0f/s on its own "
              "file)\n",
              run_flushes_per_s, run_flushes_per_s > 0 ? 1000.0 / run_flushes_per_s : 0.0, smdp_flushes * rate);

  callbacks.stop();
  (*server)->stop();
  sessions.stop();
  for (auto& d : devices) {
    for (auto& s : d.sms)
      if (s) s->stop();
    for (auto& s : d.downloaded_sms) s->stop();
    d.device.reset();
  }
  smsr_sms->stop();
  link.reset();
  endpoint.stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (endpoint.refused() > 0) std::printf("%llu callbacks to the SM-DP were not ES3 results\n",
                                         static_cast<unsigned long long>(endpoint.refused()));
  return failed == 0 && endpoint.refused() == 0 ? 0 : 1;
}
