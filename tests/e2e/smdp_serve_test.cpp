// The M2M SM-DP across processes, all in a temporary folder: `rsp smsr
// serve` (the SM-SR, ES3 for the SM-DP by its TLS client certificate, the
// SMSC the SMPP test double), `rsp smdp serve` (its inventory from `rsp smdp
// profiles import`), `rsp euicc m2m-run` (the device), the MNO's callback
// endpoint in the test. ES2 DownloadProfile(enable) -> CreateISDP -> SMS
// wake-up -> PSK-TLS session -> ES8 key establishment -> SCP03t profile load
// -> enable -> the MNO's callback; the eUICC's notification -> the SM-SR's
// ES3 HandleProfileEnabledNotification (mutual TLS, the SM-SR's certificate)
// -> the MNO's ES2 one; the SM-SR's EIS, the card folder and the SM-DP's
// inventory show the profile enabled. Another MNO's profile is refused with
// 8.2.1/3.9; the SM-DP's ES3 callbacks route refuses anyone but the SM-SR.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include "rsp/common/file.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/free_port.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
namespace es3 = m2m::es3;

const std::string kMnoKey = "dp-mno-key-3b7e1c9a5f2d";
const std::string kOtherKey = "dp-other-key-8d2a4f6c1e9b";
const std::string kEumKey = "dp-eum-key-5c1e7a3f9b2d";

/// The MNO's callback endpoint over HTTPS (the SM-DS TLS certificate of the
/// test PKI stands in for the MNO's server certificate).
class MnoEndpoint {
 public:
  bool start(const fs::path& pki) {
    auto id = net::TlsIdentity::load(pki / "CERT_S_SM_DS_TLS_NIST.pem", pki / "SK_S_SM_DS_TLS_NIST.pem");
    if (!id) return false;
    net::HttpServerOptions o;
    o.tls = net::TlsServerConfig{};
    o.tls->identities.push_back(std::move(*id));
    o.worker_threads = 2;
    server_ = std::make_unique<net::HttpServer>(std::move(o));
    server_->post("/mno/callbacks", [this](const net::Request& req) {
      std::lock_guard lock(mu_);
      bodies_.push_back(json::parse(req.body, nullptr, false));
      net::Response res;
      res.status = 204;
      return res;
    });
    return static_cast<bool>(server_->start());
  }
  std::string url() const { return server_->url() + "/mno/callbacks"; }
  /// The callback of `function`'s operation `id`, once it came (null when not in time).
  json result_of(const std::string& function, std::int64_t id, std::chrono::seconds timeout = 90s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        for (const auto& b : bodies_)
          if (b.is_object() && b.value("function", "") == function && b.value("operationId", std::int64_t{0}) == id)
            return b;
      }
      std::this_thread::sleep_for(100ms);
    }
    return nullptr;
  }
  /// The Handle...Notification `function` about `iccid`, once it came.
  json notification_of(const std::string& function, const std::string& iccid, std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        for (const auto& b : bodies_)
          if (b.is_object() && b.value("function", "") == function && b.value("iccid", "") == iccid) return b;
      }
      std::this_thread::sleep_for(100ms);
    }
    return nullptr;
  }
  std::size_t count_of(const std::string& function) {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(bodies_.begin(), bodies_.end(), [&](const json& b) {
      return b.is_object() && b.value("function", "") == function;
    }));
  }
  ~MnoEndpoint() {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::vector<json> bodies_;
};

class SmdpServe : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--m2m", "--dir", (dir_.path() / "card").string(), "--pki", pki().string(),
             "--eum-id", "EUM-DP", "--mno", "mno-dp", "--mno", "mno-dp", "--msisdn", "447700900011",
             "--msisdn", "447700900012"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string register_body = r.output;
    eid_ = json::parse(register_body)["eis"]["eid"];
    for (const auto& [name, key] : {std::pair{"mno.key", kMnoKey}, std::pair{"other.key", kOtherKey},
                                    std::pair{"eum.key", kEumKey}, std::pair{"device.pw", std::string("pw-dev")}})
      ASSERT_TRUE(write_file_atomic(dir_.path() / name, as_bytes(key + "\n"),
                                    fs::perms::owner_read | fs::perms::owner_write));
    ASSERT_TRUE(mno_.start(pki()));

    // Two profiles: one of mno-dp's, one of another MNO's.
    r = rsp({"profile", "sample", "--out", (dir_.path() / "upp").string(), "--count", "2", "--iccid-prefix",
             "8949001", "--type", "m2m-data"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir_.path() / "upp")) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    ASSERT_EQ(files.size(), 2u);
    ours_ = fs::path(files[0]).stem().string();
    theirs_ = fs::path(files[1]).stem().string();
    const std::string db = (dir_.path() / "smdp.db").string();
    r = rsp({"smdp", "profiles", "import", "--db", db, "--mno", "mno-dp", files[0]});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"smdp", "profiles", "import", "--db", db, "--mno", "mno-other", files[1]});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"smdp", "profiles", "list", "--db", db});
    ASSERT_NE(r.output.find(ours_ + " mno-dp m2m-data available"), std::string::npos) << r.output;

    smsc_ = std::make_unique<ServeProcess>(ServeProcess::Program{RSP_TEST_SMSC},
                                           std::vector<std::string>{"--account", "smsr:pw-smsr", "--account",
                                                                    "device:pw-dev"});
    const std::string smsc_port = smsc_->wait_for("listening on 127.0.0.1:", 20s);
    ASSERT_FALSE(smsc_port.empty()) << smsc_->output();

    // The SM-DP's port is chosen first: the SM-SR posts the ES3 results there.
    const int smdp_port = test_support::free_port();
    const std::string smdp_url = "https://127.0.0.1:" + std::to_string(smdp_port);
    json smsr = {{"listen", "127.0.0.1:0"},
                 {"tls_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                 {"tls_key", (pki() / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
                 {"database", (dir_.path() / "smsr.db").string()},
                 {"client_trust", (pki() / "CERT_CI_ECDSA_NIST.pem").string()},
                 {"eums", {{{"name", "EUM-DP"}, {"api_key_file", "eum.key"}}}},
                 {"mnos", {{{"name", "mno-dp"}, {"api_key_file", "mno.key"}}}},
                 {"smdps",
                  {{{"name", "smdp-1"},
                    {"client_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                    {"callback_url", smdp_url + "/gsma/m2m/es3/results"}}}},
                 {"callback_trust", (pki() / "CERT_CI_ECDSA_NIST.pem").string()},
                 {"smsc", "smpp"},
                 {"smpp_port", std::stoi(smsc_port)},
                 {"smpp_system_id", "smsr"},
                 {"smpp_password", "pw-smsr"},
                 {"sms_source", "4912345"}};
    std::ofstream(dir_.path() / "smsr.json") << smsr.dump(2);
    smsr_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / "smsr.json").string()},
                                           "smsr");
    const std::string smsr_url = smsr_->url();
    ASSERT_EQ(smsr_url.rfind("https://127.0.0.1:", 0), 0u) << smsr_->output();
    auto a = call(smsr_url, "/gsma/m2m/es1/registerEIS", register_body, kEumKey);
    ASSERT_EQ(status(a), "Executed-Success") << a;

    json smdp = {{"listen", "127.0.0.1:" + std::to_string(smdp_port)},
                 {"tls_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"tls_key", (pki() / "SK_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"database", db},
                 {"mnos",
                  {{{"name", "mno-dp"}, {"api_key_file", "mno.key"}, {"callback_url", mno_.url()}},
                   {{"name", "mno-other"}, {"api_key_file", "other.key"}}}},
                 {"smsr_id", "smsr-1"},
                 {"smsr_url", smsr_url},
                 {"smsr_trust", (pki() / "CERT_CI_ECDSA_NIST.pem").string()},
                 {"smsr_client_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"smsr_client_key", (pki() / "SK_M2M_SM_DP_TLS_NIST.pem").string()},
                 // The SM-SR's callbacks come with its TLS certificate (its
                 // callback identity by default): only it is served there.
                 {"smsr_callback_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                 {"client_trust", (pki() / "CERT_CI_ECDSA_NIST.pem").string()},
                 {"dp_cert", (pki() / "CERT_M2M_SM_DP_ECDSA_NIST.pem").string()},
                 {"dp_key", (pki() / "SK_M2M_SM_DP_ECDSA_NIST.pem").string()},
                 {"ecasd_eums", (pki() / "CERT_EUM_ECDSA_NIST.pem").string()},
                 {"ecasd_cis", (pki() / "CERT_CI_ECDSA_NIST.pem").string()},
                 {"callback_trust", (pki() / "CERT_CI_ECDSA_NIST.pem").string()}};
    std::ofstream(dir_.path() / "smdp.json") << smdp.dump(2);
    smdp_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / "smdp.json").string()},
                                           "smdp");
    ASSERT_EQ(smdp_->url(), smdp_url) << smdp_->output();
    smdp_url_ = smdp_url;
    smsr_url_ = smsr_url;

    device_ = std::make_unique<ServeProcess>(
        ServeProcess::Program{RSP_TOOL},
        std::vector<std::string>{"euicc", "m2m-run", "--dir", (dir_.path() / "card").string(), "--smsc",
                                 "127.0.0.1:" + smsc_port, "--system-id", "device", "--password-file",
                                 (dir_.path() / "device.pw").string(), "--address", "447700900011", "--address",
                                 "447700900012"});
    device_->wait_for("device running", 30s);
    ASSERT_NE(device_->output().find("device running"), std::string::npos) << device_->output();
  }
  void TearDown() override {
    if (device_) device_->stop();
    if (smdp_) smdp_->stop();
    if (smsr_) smsr_->stop();
  }

  fs::path pki() const { return dir_.path() / "pki"; }

  json call(const std::string& base, const std::string& path, const std::string& body, const std::string& key) {
    net::HttpsClientOptions o;
    o.base_url = base;
    o.trust_anchors = *net::load_certificates(pki() / "CERT_CI_ECDSA_NIST.pem");
    auto c = net::HttpsClient::create(std::move(o));
    EXPECT_TRUE(c) << c.error().message;
    if (!c) return {};
    auto r = (*c)->request("POST", path, body, "application/json", {{"Authorization", "Bearer " + key}});
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    last_status_ = r->status;
    return json::parse(r->body, nullptr, false);
  }
  static std::string status(const json& a) {
    return a.is_object() && a.contains("header") ? a["header"]["functionExecutionStatus"].value("status", "") : "";
  }

  TempDir dir_;
  MnoEndpoint mno_;
  std::string eid_, ours_, theirs_, smdp_url_, smsr_url_;
  int last_status_ = 0;
  std::unique_ptr<ServeProcess> smsc_, smsr_, smdp_, device_;
};

TEST_F(SmdpServe, DownloadProfileEnablesItOnTheDeviceAndCallsTheMnoBack) {
  // Another MNO's profile: refused at once.
  auto a = call(smdp_url_, "/gsma/m2m/es2/downloadProfile",
                json{{"eid", eid_}, {"iccid", theirs_}, {"smsrId", "smsr-1"}, {"enableProfile", true}}.dump(),
                kMnoKey);
  EXPECT_EQ(status(a), "Failed") << a;
  EXPECT_EQ(a["header"]["functionExecutionStatus"]["statusCodeData"].value("subjectCode", ""), "8.2.1") << a;
  EXPECT_EQ(a["header"]["functionExecutionStatus"]["statusCodeData"].value("reasonCode", ""), "3.9") << a;

  // The MNO's own, by profile type: accepted, then downloaded and enabled.
  a = call(smdp_url_, "/gsma/m2m/es2/downloadProfile",
           json{{"eid", eid_}, {"profileType", "m2m-data"}, {"smsrId", "smsr-1"}, {"enableProfile", true}}.dump(),
           kMnoKey);
  ASSERT_EQ(last_status_, 202) << a << smdp_->output();
  const auto id = a.value("operationId", std::int64_t{0});
  ASSERT_GT(id, 0) << a;
  auto callback = mno_.result_of("ES2.DownloadProfile", id);
  ASSERT_TRUE(callback.is_object()) << smdp_->output() << smsr_->output() << device_->output();
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << smdp_->output();
  EXPECT_EQ(callback["iccid"], ours_);

  // The SM-SR's EIS and the card show it enabled.
  auto eis = call(smsr_url_, "/gsma/m2m/es4/getEIS", json{{"eid", eid_}}.dump(), kMnoKey);
  std::string state;
  for (const auto& p : eis["eis"]["profiles"])
    if (p["iccid"] == ours_) state = p["state"];
  EXPECT_EQ(state, "Enabled") << eis;
  ASSERT_EQ(device_->stop(), 0) << device_->output();
  auto info = rsp({"euicc", "m2m-info", "--dir", (dir_.path() / "card").string()});
  EXPECT_NE(info.output.find(ours_), std::string::npos) << info.output;
  // The eUICC's confirmation of the enable: SM-SR -> ES3 notification ->
  // SM-DP -> ES2 HandleProfileEnabledNotification to the MNO, once.
  auto note = mno_.notification_of("ES2.HandleProfileEnabledNotification", ours_);
  ASSERT_TRUE(note.is_object()) << smdp_->output() << smsr_->output();
  EXPECT_EQ(note["eid"], eid_) << note;
  EXPECT_FALSE(note.value("completionTimestamp", "").empty()) << note;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(mno_.count_of("ES2.HandleProfileEnabledNotification"), 1u);
  auto list = rsp({"smdp", "profiles", "list", "--db", (dir_.path() / "smdp.db").string()});
  EXPECT_NE(list.output.find(ours_ + " mno-dp m2m-data downloaded " + eid_ + " enabled"), std::string::npos)
      << list.output;

  // The ES3 callbacks route takes the SM-SR's client certificate only: an
  // MNO's API key is refused, no credentials are refused.
  es3::Notification forged{"forged-1", es3::NotificationFunction::ProfileDeleted, eid_, ours_, "",
                           "2026-12-04T17:00:00Z"};
  call(smdp_url_, "/gsma/m2m/es3/results", es3::encode_notification(forged), kMnoKey);
  EXPECT_EQ(last_status_, 403);
  call(smdp_url_, "/gsma/m2m/es3/results", es3::encode_notification(forged), "");
  EXPECT_EQ(last_status_, 401);
  list = rsp({"smdp", "profiles", "list", "--db", (dir_.path() / "smdp.db").string()});
  EXPECT_NE(list.output.find(ours_ + " mno-dp m2m-data downloaded " + eid_ + " enabled"), std::string::npos)
      << list.output;
}

}  // namespace
}  // namespace rsp::e2e
