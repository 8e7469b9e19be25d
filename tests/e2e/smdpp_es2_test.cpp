// ES2+ end to end: `rsp smdpp serve` with two operators and their API keys,
// the operator client `rsp smdpp es2` over HTTPS, a download by the LPA into
// a card from `rsp euicc create`, and the HandleDownloadProgressInfo
// callbacks received by an HTTPS endpoint in this test process. Then every
// refusal with its exact SGP.22 subject/reason code.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <nlohmann/json.hpp>

#include "mno_endpoint.hpp"
#include "rsp/common/file.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/https_transport.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "simulated_card.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kKey1 = "op1-key-5d1f0c9a7e3b4c2d8f6a";
const std::string kKey2 = "op2-key-9b8c7d6e5f4a3b2c1d0e";
constexpr const char* kHdpiPath = "/gsma/rsp2/es2plus/handleDownloadProgressInfo";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The operator's callback endpoint over HTTPS (callback_server: the test
/// PKI's SM-DS TLS certificate stands in for the operator's).
class Receiver {
 public:
  bool start(const fs::path& pki) {
    server_ = callback_server(pki);
    if (!server_) return false;
    server_->post(kHdpiPath, [this](const net::Request& req) {
      {
        std::lock_guard lock(mu_);
        calls_.push_back(req);
      }
      cv_.notify_all();
      return es2plus_success();
    });
    return static_cast<bool>(server_->start());
  }
  std::string url() const { return server_->url() + kHdpiPath; }
  /// The calls so far, after waiting until one has notificationPointId `point`.
  std::vector<net::Request> wait_for_point(int point, std::chrono::seconds timeout = 60s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& c : calls_) {
        auto j = json::parse(c.body, nullptr, false);
        if (j.is_object() && j.value("notificationPointId", 0) == point) return true;
      }
      return false;
    });
    return calls_;
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::Request> calls_;
};

class SmdppEs2 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist,brp"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"profile", "sample", "--out", (dir_.path() / "op1").string(), "--count", "2", "--type", "e2e",
             "--iccid-prefix", "894900001", "--first", "10"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"profile", "sample", "--out", (dir_.path() / "op2").string(), "--count", "1", "--type", "e2e",
             "--iccid-prefix", "894900002", "--first", "20"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const char* op : {"op1", "op2"}) {
      r = rsp({"smdpp", "profiles", "import", (dir_.path() / op).string(), "--operator", op, "--db", db()});
      ASSERT_EQ(r.exit_code, 0) << r.output;
      for (std::size_t at = r.output.find("imported ICCID "); at != std::string::npos;
           at = r.output.find("imported ICCID ", at + 1))
        iccids_[op].push_back(r.output.substr(at + 15, r.output.find(' ', at + 15) - at - 15));
    }
    ASSERT_EQ(iccids_["op1"].size(), 2u);
    ASSERT_EQ(iccids_["op2"].size(), 1u);
    key1_ = write_secret("op1.key", kKey1 + "\n");
    key2_ = write_secret("op2.key", kKey2 + "\n");
    wrong_key_ = write_secret("wrong.key", "not-the-key-of-anyone-0000\n");
  }

  fs::path pki() const { return dir_.path() / "pki"; }
  std::string db() const { return (dir_.path() / "smdpp.db").string(); }
  std::string ci() const { return (pki() / "CERT_CI_ECDSA_NIST.pem").string(); }
  fs::path write_secret(const std::string& name, const std::string& text) {
    const auto p = dir_.path() / name;
    EXPECT_TRUE(write_file_atomic(p, as_bytes(text), fs::perms::owner_read | fs::perms::owner_write));
    return p;
  }
  /// Starts the SM-DP+ with op1 (key file, callbacks to `callback_url`) and
  /// op2 (key hash); returns its HTTPS port.
  std::string start(std::unique_ptr<ServeProcess>& serve, const std::string& callback_url) {
    const std::string hash2 = sha256_hex(kKey2);
    json cfg = {{"listen", "127.0.0.1:0"},
                {"address", "localhost"},
                {"pki", pki().string()},
                {"database", db()},
                {"callback_trust", ci()},
                {"operators",
                 {{{"name", "op1"}, {"api_key_file", "op1.key"}, {"callback_url", callback_url}},
                  {{"name", "op2"}, {"api_key_sha256", hash2}}}}};
    const auto file = dir_.path() / "smdpp.json";
    std::ofstream(file) << cfg.dump(2);
    serve = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", file.string()});
    const std::string url = serve->wait_for("listening on ");
    EXPECT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << serve->output();
    EXPECT_NE(serve->output().find("ES2+ on "), std::string::npos) << serve->output();
    // The keys never appear in the server's output.
    EXPECT_EQ(serve->output().find(kKey1), std::string::npos);
    return url.substr(std::string("https://127.0.0.1:").size());
  }
  static std::string sha256_hex(const std::string& s) {
    auto r = run("sh", {"-c", "printf %s '" + s + "' | sha256sum"});
    return r.output.substr(0, 64);
  }
  /// `rsp smdpp es2 <function> ...` as `op` with `key`.
  RunResult es2(const std::string& port, const std::string& function, const std::string& op, const fs::path& key,
                std::vector<std::string> args) {
    std::vector<std::string> all{"smdpp", "es2", function, "--url", "https://127.0.0.1:" + port, "--trust", ci(),
                                 "--trust", (pki() / "CERT_CI_ECDSA_BRP.pem").string(), "--operator", op,
                                 "--api-key-file", key.string()};
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  }

  /// A card from `rsp euicc create` and an op1 order bound to it (released,
  /// no confirmation code): {EID, ICCID, activation code}.
  struct Ordered {
    std::string eid, iccid, activation_code;
  };
  Ordered order_for_new_card(const std::string& port, const fs::path& card) {
    Ordered o;
    auto r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki().string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::getline(std::ifstream(card / "identity" / "eid.txt"), o.eid);
    auto order = es2(port, "order", "op1", key1_, {"--type", "e2e", "--eid", o.eid});
    EXPECT_EQ(order.exit_code, 0) << order.output;
    auto field = [&](const std::string& name) {
      const auto at = order.output.find(name);
      if (at == std::string::npos) return std::string();
      const auto start = order.output.find_first_not_of(' ', at + name.size());
      return order.output.substr(start, order.output.find('\n', start) - start);
    };
    o.iccid = field("ICCID:");
    o.activation_code = field("Activation code:");
    EXPECT_EQ(o.activation_code.rfind("LPA:1$localhost$", 0), 0u) << order.output;
    return o;
  }
  /// One download by the LPA library in this process into `card`, over HTTPS.
  expected<lpa::DownloadResult, lpa::DownloadError> download(const fs::path& card, const std::string& port,
                                                             const std::string& ac, const lpa::DownloadOptions& o) {
    auto store = euicc::EuiccStore::open(card);
    if (!store) {
      lpa::DownloadError e;
      e.message = "card: " + store.error().message;
      return unexpected(e);
    }
    auto id = store->identity();
    if (!id) {
      lpa::DownloadError e;
      e.message = "card identity: " + id.error().message;
      return unexpected(e);
    }
    lpa::HttpsEs9Options ho;
    for (const auto& c : id->curves) ho.trust_anchors.push_back(c.ci_cert);
    ho.resolve["localhost"] = "127.0.0.1:" + port;
    lpa::HttpsEs9Transport es9(std::move(ho));
    SimulatedCard sim(*store);
    EXPECT_TRUE(sim.es10.select_isd_r());
    return lpa::download_profile(ac, std::nullopt, sim.es10, es9, o);
  }
  /// The profile's line of `rsp smdpp profiles list`.
  std::string listed(const std::string& iccid) {
    auto list = rsp({"smdpp", "profiles", "list", "--db", db()});
    const auto at = list.output.find(iccid);
    return at == std::string::npos ? list.output : list.output.substr(at, list.output.find('\n', at) - at);
  }

  TempDir dir_;
  std::map<std::string, std::vector<std::string>> iccids_;
  fs::path key1_, key2_, wrong_key_;
};

TEST_F(SmdppEs2, OrderDownloadInstallAndCallbacks) {
  Receiver receiver;
  ASSERT_TRUE(receiver.start(pki()));
  std::unique_ptr<ServeProcess> serve;
  const std::string port = start(serve, receiver.url());
  ASSERT_FALSE(port.empty());

  const fs::path card = dir_.path() / "euicc";
  auto r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string eid;
  std::getline(std::ifstream(card / "identity" / "eid.txt"), eid);
  ASSERT_EQ(eid.size(), 32u);

  // ES2+ DownloadOrder + ConfirmOrder (released) over HTTPS with op1's key
  // and a confirmation code from a file.
  const fs::path png = dir_.path() / "ac.png";
  const fs::path cc = write_secret("cc.txt", "cc-Quokka-4711\n");
  auto order = es2(port, "order", "op1", key1_,
                   {"--type", "e2e", "--eid", eid, "--qr-png", png.string(), "--cc-file", cc.string()});
  ASSERT_EQ(order.exit_code, 0) << order.output << serve->output();
  const auto ac_at = order.output.find("LPA:1$localhost$");
  ASSERT_NE(ac_at, std::string::npos) << order.output;
  const std::string ac = order.output.substr(ac_at, order.output.find('\n', ac_at) - ac_at);
  EXPECT_EQ(ac.substr(ac.size() - 3), "$$1") << ac;  // confirmation code required
  EXPECT_EQ(order.output.find("Quokka"), std::string::npos);  // a random EID or matching ID could hold digits
  EXPECT_NE(order.output.find("EID:             " + eid), std::string::npos) << order.output;
  EXPECT_NE(order.output.find("\u2580"), std::string::npos);  // the terminal QR
  EXPECT_TRUE(fs::exists(png));
  const auto iccid_at = order.output.find("ICCID:           ");
  ASSERT_NE(iccid_at, std::string::npos) << order.output;
  const std::string iccid = order.output.substr(iccid_at + 17, order.output.find('\n', iccid_at) - iccid_at - 17);
  EXPECT_TRUE(iccid == iccids_["op1"][0] || iccid == iccids_["op1"][1]) << iccid;

  auto list = rsp({"smdpp", "profiles", "list", "--db", db(), "--operator", "op1"});
  EXPECT_NE(list.output.find(iccid), std::string::npos);
  EXPECT_NE(list.output.find("released"), std::string::npos) << list.output;

  // The simulated eUICC downloads and installs; the LPA sends the notification.
  auto dl = rsp({"lpa", "download", "--euicc", card.string(), "--ac", ac, "--cc-file", cc.string(), "--resolve",
                 "localhost:127.0.0.1:" + port});
  ASSERT_EQ(dl.exit_code, 0) << dl.output << serve->output();
  EXPECT_NE(dl.output.find("installed ICCID " + iccid), std::string::npos) << dl.output;

  list = rsp({"smdpp", "profiles", "list", "--db", db()});
  const auto line_at = list.output.find(iccid);
  ASSERT_NE(line_at, std::string::npos) << list.output;
  EXPECT_NE(list.output.substr(line_at, list.output.find('\n', line_at) - line_at).find("installed"),
            std::string::npos)
      << list.output;

  // HandleDownloadProgressInfo: BPP download (3) and installation (4), both
  // Executed-Success, with the SGP.22 §5.3.5 fields and the §6.5.1 header.
  const auto calls = receiver.wait_for_point(4);
  ASSERT_GE(calls.size(), 2u) << serve->output();
  std::set<int> points;
  for (const auto& c : calls) {
    EXPECT_EQ(c.tls_version.empty(), false);  // over HTTPS
    const json j = json::parse(c.body);
    points.insert(j.value("notificationPointId", 0));
    EXPECT_EQ(j["header"]["functionRequesterIdentifier"], "localhost");
    EXPECT_EQ(j["header"]["functionCallIdentifier"].get<std::string>().rfind("hdpi-", 0), 0u);
    EXPECT_EQ(j["eid"], eid);
    EXPECT_EQ(j["iccid"], iccid);
    EXPECT_EQ(j["profileType"], "e2e");
    EXPECT_EQ(j["timestamp"].get<std::string>().size(), 20u);  // YYYY-MM-DDThh:mm:ssZ
    EXPECT_EQ(j["notificationPointStatus"]["status"], "Executed-Success");
    // The installation result reaches the operator as resultData.
    EXPECT_EQ(j.contains("resultData"), j.value("notificationPointId", 0) == 4) << c.body;
    EXPECT_EQ(c.header("X-Admin-Protocol").value_or(""), "gsma/rsp/v2.2.2");
  }
  EXPECT_TRUE(points.count(3)) << calls.size();
  EXPECT_TRUE(points.count(4)) << calls.size();

  // Delivered callbacks and ES2+ calls are counted (admin listener).
  net::HttpsClientOptions o;
  o.base_url = serve->admin_url();
  auto client = net::HttpsClient::create(std::move(o));
  ASSERT_TRUE(client);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string metrics;
  do {
    auto m = (*client)->get("/metrics");
    ASSERT_TRUE(m);
    metrics = m->body;
    if (metrics.find("rsp_smdpp_callbacks_total{result=\"delivered\"} 2") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(metrics.find("rsp_smdpp_callbacks_total{result=\"delivered\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("rsp_function_calls_total{role=\"smdpp\",function=\"ES2+.DownloadOrder\",status=\"200\"} 1"),
            std::string::npos)
      << metrics;

  EXPECT_EQ(serve->signal_and_wait(SIGTERM), 0) << serve->output();
  EXPECT_NE(serve->output().find("stopped"), std::string::npos);
  EXPECT_EQ(serve->output().find(kKey1), std::string::npos);
  EXPECT_EQ(serve->output().find(kKey2), std::string::npos);
}

TEST_F(SmdppEs2, RefusalsCarryTheirExactCodes) {
  std::unique_ptr<ServeProcess> serve;
  const std::string port = start(serve, "https://127.0.0.1:1/unused");
  ASSERT_FALSE(port.empty());
  const std::string mine = iccids_["op1"][0];
  const std::string theirs = iccids_["op2"][0];

  // No key and a wrong key: 401, the same answer, naming no operator.
  net::HttpsClientOptions o;
  o.base_url = "https://127.0.0.1:" + port;
  o.trust_anchors = *net::load_certificates(ci());
  const auto brp = *net::load_certificates(pki() / "CERT_CI_ECDSA_BRP.pem");
  o.trust_anchors.insert(o.trust_anchors.end(), brp.begin(), brp.end());
  auto client = net::HttpsClient::create(std::move(o));
  ASSERT_TRUE(client);
  const std::string body =
      R"({"header":{"functionRequesterIdentifier":"op1","functionCallIdentifier":"c1"},"profileType":"e2e"})";
  auto none = (*client)->request("POST", "/gsma/rsp2/es2plus/downloadOrder", body, "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto wrong = (*client)->request("POST", "/gsma/rsp2/es2plus/downloadOrder", body, "application/json",
                                  {{"Authorization", "Bearer not-the-key-of-anyone-0000"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->body, none->body);
  EXPECT_EQ(none->body.find("op1"), std::string::npos);
  auto basic = (*client)->request("POST", "/gsma/rsp2/es2plus/downloadOrder", body, "application/json",
                                  {{"Authorization", "Basic " + kKey1}});
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 401);
  auto r = es2(port, "download-order", "op1", wrong_key_, {"--type", "e2e"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("HTTP 401"), std::string::npos) << r.output;

  auto expect_code = [&](const RunResult& res, const std::string& code) {
    EXPECT_EQ(res.exit_code, 1) << res.output;
    EXPECT_NE(res.output.find("failed: " + code + " "), std::string::npos) << code << ": " << res.output;
  };
  // op2's key with op1 as functionRequesterIdentifier: 1.1/1.2.
  expect_code(es2(port, "download-order", "op1", key2_, {"--type", "e2e"}), "1.1/1.2");
  // Another operator's ICCID, for every function: like an unknown one, 8.2.1/3.9.
  expect_code(es2(port, "download-order", "op2", key2_, {"--iccid", mine}), "8.2.1/3.9");
  expect_code(es2(port, "confirm-order", "op2", key2_, {"--iccid", mine, "--release"}), "8.2.1/3.9");
  expect_code(es2(port, "cancel-order", "op2", key2_, {"--iccid", mine}), "8.2.1/3.9");
  expect_code(es2(port, "release-profile", "op2", key2_, {"--iccid", mine}), "8.2.1/3.9");
  // Unknown ICCID: 8.2.1/3.9.
  expect_code(es2(port, "download-order", "op1", key1_, {"--iccid", "8949000099999999999"}), "8.2.1/3.9");
  // Unknown profile type 8.2.5/3.9; a type not the ICCID's 8.2.5/3.8.
  expect_code(es2(port, "download-order", "op1", key1_, {"--type", "nope"}), "8.2.5/3.9");
  expect_code(es2(port, "download-order", "op1", key1_, {"--iccid", mine, "--type", "other"}), "8.2.5/3.8");
  // Wrong states: confirm or release an available profile 8.2.1/3.5, cancel
  // without an order 8.2.1/3.5, order a reserved one 8.2.1/3.3.
  expect_code(es2(port, "confirm-order", "op1", key1_, {"--iccid", mine}), "8.2.1/3.5");
  expect_code(es2(port, "release-profile", "op1", key1_, {"--iccid", mine}), "8.2.1/3.5");
  expect_code(es2(port, "cancel-order", "op1", key1_, {"--iccid", mine}), "8.2.1/3.5");
  r = es2(port, "download-order", "op1", key1_, {"--iccid", mine});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ICCID: " + mine), std::string::npos) << r.output;
  expect_code(es2(port, "download-order", "op1", key1_, {"--iccid", mine}), "8.2.1/3.3");
  // The other operator's profile of the same type is not handed out either.
  expect_code(es2(port, "download-order", "op1", key1_, {"--iccid", theirs}), "8.2.1/3.9");
  // Bad EID 8.1.1/2.1; a different EID than the order's 8.1.1/3.10.
  expect_code(es2(port, "confirm-order", "op1", key1_, {"--iccid", mine, "--eid", "123"}), "8.1.1/2.1");
  r = es2(port, "cancel-order", "op1", key1_, {"--iccid", mine});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string eid_a(32, '1'), eid_b(32, '2');
  ASSERT_EQ(es2(port, "download-order", "op1", key1_, {"--iccid", mine, "--eid", eid_a}).exit_code, 0);
  expect_code(es2(port, "confirm-order", "op1", key1_, {"--iccid", mine, "--eid", eid_b}), "8.1.1/3.10");
  // Confirmed (not released), then released by ReleaseProfile; a second release 8.2.1/3.5.
  r = es2(port, "confirm-order", "op1", key1_, {"--iccid", mine});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not released yet"), std::string::npos) << r.output;
  ASSERT_EQ(es2(port, "release-profile", "op1", key1_, {"--iccid", mine}).exit_code, 0);
  expect_code(es2(port, "release-profile", "op1", key1_, {"--iccid", mine}), "8.2.1/3.5");

  auto list = rsp({"smdpp", "profiles", "list", "--db", db()});
  EXPECT_NE(list.output.find("released"), std::string::npos) << list.output;
  // op2's profile was never touched.
  const auto at = list.output.find(theirs);
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(list.output.substr(at, list.output.find('\n', at) - at).find("available"), std::string::npos);

  EXPECT_EQ(serve->signal_and_wait(SIGTERM), 0) << serve->output();
}

// ES2+ over mutual TLS (SGP.22 §2.6.6): op1 and op2 are configured by their
// client certificates (both issued by the test CI, with the same subject),
// op3 by the CI and a subject; a certificate of another CI fails the
// handshake and the server logs it. The whole run (two orders, a download,
// refusals) leaves one access-log line per request and no secret in it.
TEST_F(SmdppEs2, OperatorsByClientCertificateAndTheAccessLog) {
  const fs::path sibling = dir_.path() / "pki-op2";  // a second operator under the same CI
  auto r = rsp({"pki", "init", "--out", sibling.string(), "--ci-cert", ci(), "--ci-key",
                (pki() / "SK_CI_ECDSA_NIST.pem").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path stranger = dir_.path() / "pki-other";  // another CI
  r = rsp({"pki", "init", "--out", stranger.string(), "--curves", "nist"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path access_log = dir_.path() / "access.log";
  json cfg = {{"listen", "127.0.0.1:0"},
              {"address", "localhost"},
              {"pki", pki().string()},
              {"database", db()},
              {"access_log", access_log.string()},
              {"client_trust", ci()},
              {"operators",
               {{{"name", "op1"}, {"client_cert", (pki() / "CERT_OPERATOR_TLS_NIST.pem").string()}},
                {{"name", "op2"}, {"client_cert", (sibling / "CERT_OPERATOR_TLS_NIST.pem").string()},
                 {"api_key_file", key2_.string()}},
                {{"name", "op3"}, {"client_root", ci()}, {"client_subject", "O=RSP Test Operator, CN=Test Operator 3"}}}}};
  const auto file = dir_.path() / "smdpp-mtls.json";
  std::ofstream(file) << cfg.dump(2);
  ServeProcess serve({"--config", file.string()});
  const std::string url = serve.url();
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << serve.output();
  EXPECT_NE(serve.output().find("for 3 operators (client certificate or API key)"), std::string::npos) << serve.output();
  const std::string port = url.substr(std::string("https://127.0.0.1:").size());
  auto es2_cert = [&](const std::string& function, const std::string& op, const fs::path& dir,
                      std::vector<std::string> args) {
    std::vector<std::string> all{"smdpp", "es2", function, "--url", url, "--trust", ci(), "--operator", op,
                                 "--cert", (dir / "CERT_OPERATOR_TLS_NIST.pem").string(),
                                 "--key", (dir / "SK_OPERATOR_TLS_NIST.pem").string()};
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  };
  std::size_t requests = 0;

  // op1 with its certificate: an order for a card, then the download.
  const fs::path card = dir_.path() / "euicc";
  r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string eid;
  std::getline(std::ifstream(card / "identity" / "eid.txt"), eid);
  const fs::path cc = write_secret("cc-mtls.txt", "815293\n");
  auto order = es2_cert("order", "op1", pki(), {"--type", "e2e", "--eid", eid, "--cc-file", cc.string()});
  ASSERT_EQ(order.exit_code, 0) << order.output << serve.output();
  requests += 2;  // DownloadOrder + ConfirmOrder
  const auto ac_at = order.output.find("LPA:1$localhost$");
  ASSERT_NE(ac_at, std::string::npos) << order.output;
  const std::string ac = order.output.substr(ac_at, order.output.find('\n', ac_at) - ac_at);
  const std::string matching_id = ac.substr(16, ac.find('$', 16) - 16);
  const auto iccid_at = order.output.find("ICCID:           ");
  ASSERT_NE(iccid_at, std::string::npos) << order.output;
  const std::string iccid = order.output.substr(iccid_at + 17, order.output.find('\n', iccid_at) - iccid_at - 17);
  auto dl = rsp({"lpa", "download", "--euicc", card.string(), "--ac", ac, "--cc-file", cc.string(), "--resolve",
                 "localhost:127.0.0.1:" + port});
  ASSERT_EQ(dl.exit_code, 0) << dl.output << serve.output();
  requests += 4;  // InitiateAuthentication, AuthenticateClient, GetBoundProfilePackage, HandleNotification

  // op2's certificate cannot touch op1's orders, nor speak as op1.
  auto theirs = es2_cert("cancel-order", "op2", sibling, {"--iccid", iccid});
  EXPECT_EQ(theirs.exit_code, 1) << theirs.output;
  EXPECT_NE(theirs.output.find("failed: 8.2.1/3.9 "), std::string::npos) << theirs.output;
  auto as_op1 = es2_cert("download-order", "op1", sibling, {"--type", "e2e"});
  EXPECT_EQ(as_op1.exit_code, 1) << as_op1.output;
  EXPECT_NE(as_op1.output.find("failed: 1.1/1.2 "), std::string::npos) << as_op1.output;
  requests += 2;
  // op2 may still use its API key instead.
  r = es2(port, "download-order", "op2", key2_, {"--type", "e2e"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  ++requests;
  // op3 is configured by CI and subject; the test CI's operator certificate
  // carries another subject ("Test Operator 1"): neither op1 nor op3 then.
  auto not_op3 = es2_cert("download-order", "op3", sibling, {"--type", "e2e"});
  EXPECT_EQ(not_op3.exit_code, 1) << not_op3.output;
  EXPECT_NE(not_op3.output.find("failed: 1.1/1.2 "), std::string::npos) << not_op3.output;  // it is op2
  ++requests;
  // Without a credential: 401.
  net::HttpsClientOptions o;
  o.base_url = url;
  o.trust_anchors = *net::load_certificates(ci());
  auto anonymous = net::HttpsClient::create(std::move(o));
  ASSERT_TRUE(anonymous);
  auto refused = (*anonymous)->request("POST", "/gsma/rsp2/es2plus/downloadOrder", "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  ++requests;
  // A certificate of another CI: the handshake fails, the server logs why.
  auto unknown = es2_cert("download-order", "op1", stranger, {"--type", "e2e"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(serve.wait_for("TLS handshake from 127.0.0.1", 20s), "") << serve.output();

  EXPECT_EQ(serve.stop(), 0) << serve.output();
  std::ifstream in(access_log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), requests) << serve.output();
  EXPECT_NE(lines[0].find(" smdpp ES2+.DownloadOrder caller=op1 peer=127.0.0.1 status=200 result=- "),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(" smdpp ES2+.ConfirmOrder caller=op1 "), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(" smdpp ES9+.InitiateAuthentication caller=- "), std::string::npos) << lines[2];
  EXPECT_NE(lines[5].find(" smdpp ES9+.HandleNotification caller=- peer=127.0.0.1 status=204 "), std::string::npos)
      << lines[5];
  EXPECT_NE(lines[6].find(" smdpp ES2+.CancelOrder caller=op2 peer=127.0.0.1 status=200 result=8.2.1/3.9 "),
            std::string::npos)
      << lines[6];
  EXPECT_NE(lines[9].find(" caller=op2 "), std::string::npos) << lines[9];
  EXPECT_NE(lines[10].find(" smdpp ES2+.DownloadOrder caller=- peer=127.0.0.1 status=401 "), std::string::npos)
      << lines[10];
  // No key, secret, API key, confirmation code or matching ID.
  std::string secrets_text;
  for (const auto& f : fs::recursive_directory_iterator(dir_.path()))
    if (f.path().filename().string().rfind("SK_", 0) == 0) secrets_text += read_text(f.path());
  const std::string kek = read_text(fs::path(db() + ".kek"));
  for (const auto& l : lines) {
    EXPECT_EQ(l.find(kKey2), std::string::npos) << l;
    EXPECT_EQ(l.find("815293"), std::string::npos) << l;
    EXPECT_EQ(l.find(matching_id), std::string::npos) << l;
    EXPECT_EQ(l.find("PRIVATE"), std::string::npos) << l;
    if (kek.size() >= 32) {
      EXPECT_EQ(l.find(kek.substr(0, 32)), std::string::npos) << l;
    }
  }
  EXPECT_EQ(serve.output().find(kKey2), std::string::npos);
  EXPECT_EQ(serve.output().find("815293"), std::string::npos);
  EXPECT_FALSE(secrets_text.empty());
}

// The LPA died between the installation and the install notification; the
// same activation code is used again with `rsp lpa download`, which first
// sends the notification the card kept. The profile ends installed and is
// never offered to another eUICC.
TEST_F(SmdppEs2, ARetriedDownloadFirstDeliversThePendingInstallResult) {
  std::unique_ptr<ServeProcess> serve;
  const std::string port = start(serve, "https://127.0.0.1:1/unused");
  ASSERT_FALSE(port.empty());
  const fs::path card = dir_.path() / "euicc";
  const Ordered o = order_for_new_card(port, card);
  ASSERT_FALSE(o.iccid.empty());

  lpa::DownloadOptions killed;
  killed.skip_notification = true;
  auto first = download(card, port, o.activation_code, killed);
  ASSERT_TRUE(first) << first.error().to_string() << serve->output();
  EXPECT_NE(listed(o.iccid).find("downloaded"), std::string::npos) << listed(o.iccid);
  auto info = rsp({"euicc", "info", "--dir", card.string()});
  EXPECT_NE(info.output.find("1 notification(s)"), std::string::npos) << info.output;

  // The BPP went to a card: CancelOrder cannot make the profile available.
  auto cancel = es2(port, "cancel-order", "op1", key1_, {"--iccid", o.iccid, "--final-status", "Available"});
  EXPECT_EQ(cancel.exit_code, 1) << cancel.output;
  EXPECT_NE(cancel.output.find("failed: 8.2.1/3.5 "), std::string::npos) << cancel.output;
  EXPECT_NE(listed(o.iccid).find("downloaded"), std::string::npos) << listed(o.iccid);

  auto retry = rsp({"lpa", "download", "--euicc", card.string(), "--ac", o.activation_code, "--resolve",
                    "localhost:127.0.0.1:" + port});
  EXPECT_NE(retry.output.find("(install result, ICCID " + o.iccid + ") to localhost: delivered and removed"),
            std::string::npos)
      << retry.output;
  // The order is complete, so the code itself gets nothing more.
  EXPECT_EQ(retry.exit_code, 1) << retry.output;
  EXPECT_NE(retry.output.find("8.2.6"), std::string::npos) << retry.output;
  EXPECT_NE(listed(o.iccid).find("installed"), std::string::npos) << listed(o.iccid);
  info = rsp({"euicc", "info", "--dir", card.string()});
  EXPECT_NE(info.output.find("1 profile(s)"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("0 notification(s)"), std::string::npos) << info.output;

  cancel = es2(port, "cancel-order", "op1", key1_, {"--iccid", o.iccid, "--final-status", "Available"});
  EXPECT_NE(cancel.output.find("failed: 8.2.1/3.5 "), std::string::npos) << cancel.output;
  auto again = es2(port, "download-order", "op1", key1_, {"--iccid", o.iccid});
  EXPECT_NE(again.output.find("failed: 8.2.1/3.3 "), std::string::npos) << again.output;
  // Reinstating needs the operator's statement, and an installed profile stays installed.
  auto reinstate = rsp({"smdpp", "profiles", "reinstate", "--db", db(), "--iccid", o.iccid});
  EXPECT_EQ(reinstate.exit_code, 1);
  EXPECT_NE(reinstate.output.find("--not-on-any-card"), std::string::npos) << reinstate.output;
  reinstate = rsp({"smdpp", "profiles", "reinstate", "--db", db(), "--iccid", o.iccid, "--not-on-any-card",
                   "--reason", "test"});
  EXPECT_EQ(reinstate.exit_code, 1);
  EXPECT_NE(reinstate.output.find("8.2.1/3.5"), std::string::npos) << reinstate.output;
  EXPECT_NE(listed(o.iccid).find("installed"), std::string::npos) << listed(o.iccid);
  EXPECT_EQ(serve->signal_and_wait(SIGTERM), 0) << serve->output();
}

// The same, by an LPA that retries without sending the pending notification:
// the card refuses the new BPP (the ICCID exists on it) and that signed
// refusal is what the SM-DP+ gets. It means installed, not error.
TEST_F(SmdppEs2, ACardRefusingAProfileItHoldsMakesItInstalled) {
  std::unique_ptr<ServeProcess> serve;
  const std::string port = start(serve, "https://127.0.0.1:1/unused");
  ASSERT_FALSE(port.empty());
  const fs::path card = dir_.path() / "euicc";
  const Ordered o = order_for_new_card(port, card);
  ASSERT_FALSE(o.iccid.empty());
  lpa::DownloadOptions killed;
  killed.skip_notification = true;
  ASSERT_TRUE(download(card, port, o.activation_code, killed));

  lpa::DownloadOptions old_lpa;
  old_lpa.send_pending_notifications = false;
  auto retry = download(card, port, o.activation_code, old_lpa);
  ASSERT_FALSE(retry);
  EXPECT_EQ(retry.error().euicc_code, 9) << retry.error().to_string();  // installFailedDueToIccidAlreadyExistsOnEuicc
  EXPECT_NE(listed(o.iccid).find("installed"), std::string::npos) << listed(o.iccid) << serve->output();
  auto history = rsp({"smdpp", "profiles", "history", "--db", db(), "--iccid", o.iccid});
  EXPECT_EQ(history.exit_code, 0) << history.output;
  EXPECT_NE(history.output.find("downloaded -> installed"), std::string::npos) << history.output;
  EXPECT_NE(history.output.find("already exists on the eUICC"), std::string::npos) << history.output;
  EXPECT_EQ(history.output.find("-> error"), std::string::npos) << history.output;
  auto cancel = es2(port, "cancel-order", "op1", key1_, {"--iccid", o.iccid, "--final-status", "Available"});
  EXPECT_NE(cancel.output.find("failed: 8.2.1/3.5 "), std::string::npos) << cancel.output;
  auto info = rsp({"euicc", "info", "--dir", card.string()});
  EXPECT_NE(info.output.find("1 profile(s)"), std::string::npos) << info.output;
  EXPECT_EQ(serve->signal_and_wait(SIGTERM), 0) << serve->output();
}

TEST_F(SmdppEs2, OperatorConfigurationRefusals) {
  auto write = [&](const json& cfg) {
    const auto file = dir_.path() / "bad.json";
    std::ofstream(file) << cfg.dump();
    return file.string();
  };
  json base = {{"listen", "127.0.0.1:0"}, {"pki", pki().string()}, {"database", db()}};
  // A key file others can read is refused.
  const auto open_key = dir_.path() / "open.key";
  std::ofstream(open_key) << kKey1 << "\n";
  ::chmod(open_key.c_str(), 0644);
  json cfg = base;
  cfg["operators"] = {{{"name", "op1"}, {"api_key_file", open_key.string()}}};
  auto r = rsp({"smdpp", "serve", "--config", write(cfg)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("chmod 600"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(kKey1), std::string::npos) << r.output;
  // Operators need the database.
  cfg = {{"listen", "127.0.0.1:0"}, {"pki", pki().string()},
         {"operators", {{{"name", "op1"}, {"api_key_file", key1_.string()}}}}};
  r = rsp({"smdpp", "serve", "--config", write(cfg)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("need a database"), std::string::npos) << r.output;
  // https callbacks need a trust anchor.
  cfg = base;
  cfg["operators"] = {{{"name", "op1"}, {"api_key_file", key1_.string()}, {"callback_url", "https://op.example/x"}}};
  r = rsp({"smdpp", "serve", "--config", write(cfg)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("callback_trust"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
