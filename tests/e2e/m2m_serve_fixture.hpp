#pragma once
// The M2M processes of the cross-process tests, all in one temporary folder:
// the test SMSC (`rsp-test-smsc`), the SM-SR (`rsp smsr serve`, ES3 for the
// SM-DP by its TLS client certificate), the M2M SM-DP (`rsp smdp serve`, its
// inventory from `rsp smdp profiles import`: one of mno-dp's profiles, one of
// mno-other's), the device (`rsp euicc m2m-run` on a card made by `rsp euicc
// create --m2m`) and the MNO's HTTPS callback endpoint in the test
// (mno_endpoint.hpp). A test may start more processes before the SM-SR
// (before_smsr; the SM-DP's URL, smdp_url_, is known by then) and add keys
// to the SM-SR's and the SM-DP's configurations (add_to_smsr, add_to_smdp),
// e.g. a second SM-SR and ES7.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include "mno_endpoint.hpp"
#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/free_port.hpp"

namespace rsp::e2e {

class M2mServeTest : public ::testing::Test {
 protected:
  static constexpr const char* kMnoKey = "dp-mno-key-3b7e1c9a5f2d";
  static constexpr const char* kOtherKey = "dp-other-key-8d2a4f6c1e9b";
  static constexpr const char* kEumKey = "dp-eum-key-5c1e7a3f9b2d";
  /// The SM-DP's connectivity parameters of profile type m2m-data (an SMS
  /// centre address), sent to the ISD-P after the profile.
  static constexpr const char* kConnectivityParameters = "A00A80080891214365870900";
  /// The card's bootstrap and second profiles' numbers, then the number the
  /// MNO gives the downloaded profile (UpdateSubscriptionAddress): the
  /// device binds all three at the SMSC.
  static constexpr const char* kBootMsisdn = "447700900011";
  static constexpr const char* kSecondMsisdn = "447700900012";
  static constexpr const char* kDownloadedMsisdn = "447700900013";

  void SetUp() override {
    namespace fs = std::filesystem;
    using nlohmann::json;
    using namespace std::chrono_literals;
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--m2m", "--dir", card().string(), "--pki", pki().string(), "--eum-id", "EUM-DP",
             "--smsr-id", "smsr-1", "--mno", "mno-dp", "--mno", "mno-dp", "--msisdn", kBootMsisdn, "--msisdn",
             kSecondMsisdn});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string register_body = r.output;
    const json registered = json::parse(register_body);
    eid_ = registered["eis"]["eid"];
    for (const auto& p : registered["eis"]["profiles"])
      if (p.value("state", "") == "Enabled") boot_iccid_ = p["iccid"];
    for (const auto& [name, key] : {std::pair{"mno.key", std::string(kMnoKey)}, std::pair{"other.key", std::string(kOtherKey)},
                                    std::pair{"eum.key", std::string(kEumKey)}, std::pair{"device.pw", std::string("pw-dev")}})
      ASSERT_TRUE(write_file_atomic(dir_.path() / name, as_bytes(key + "\n"),
                                    fs::perms::owner_read | fs::perms::owner_write));
    ASSERT_TRUE(mno_.start(pki(), {"smdp", "smsr-1", "smsr-2"}));

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
                                                                    "smsr2:pw-smsr2", "--account", "device:pw-dev"});
    smsc_port_ = smsc_->wait_for("listening on 127.0.0.1:", 20s);
    ASSERT_FALSE(smsc_port_.empty()) << smsc_->output();

    // The SM-DP's port is chosen first: the SM-SRs post the ES3 results there.
    const int smdp_port = test_support::free_port();
    const std::string smdp_url = "https://127.0.0.1:" + std::to_string(smdp_port);
    smdp_url_ = smdp_url;

    before_smsr();
    if (HasFatalFailure()) return;
    json smsr = smsr_config("smsr-1", "smsr", "pw-smsr", "4912345");
    smsr["eums"] = {{{"name", "EUM-DP"}, {"api_key_file", "eum.key"}}};
    smsr["smdps"] = {{{"name", "smdp-1"},
                      {"client_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                      {"callback_url", smdp_url + "/gsma/m2m/es3/results"}}};
    add_to_smsr(smsr);
    smsr_ = start_smsr("smsr-1", smsr);
    smsr_url_ = smsr_->url();
    ASSERT_EQ(smsr_url_.rfind("https://127.0.0.1:", 0), 0u) << smsr_->output();
    auto a = call(smsr_url_, "/gsma/m2m/es1/registerEIS", register_body, kEumKey);
    ASSERT_EQ(status(a), "Executed-Success") << a;

    json smdp = {{"listen", "127.0.0.1:" + std::to_string(smdp_port)},
                 {"tls_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"tls_key", (pki() / "SK_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"database", db},
                 {"mnos",
                  {{{"name", "mno-dp"}, {"api_key_file", "mno.key"}, {"callback_url", mno_.url("smdp")}},
                   {{"name", "mno-other"}, {"api_key_file", "other.key"}}}},
                 {"smsr_id", "smsr-1"},
                 {"smsr_url", smsr_url_},
                 {"smsr_trust", ci()},
                 {"smsr_client_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"smsr_client_key", (pki() / "SK_M2M_SM_DP_TLS_NIST.pem").string()},
                 {"dp_cert", (pki() / "CERT_M2M_SM_DP_ECDSA_NIST.pem").string()},
                 {"dp_key", (pki() / "SK_M2M_SM_DP_ECDSA_NIST.pem").string()},
                 {"ecasd_eums", (pki() / "CERT_EUM_ECDSA_NIST.pem").string()},
                 {"ecasd_cis", ci()},
                 // Sent to the ISD-P after the profile, under its SCP03 keys.
                 {"connectivity_parameters", {{"m2m-data", kConnectivityParameters}}},
                 {"callback_trust", ci()},
                 // The SM-SR's callbacks come with its TLS certificate (its
                 // callback identity by default): only it is served there.
                 {"smsr_callback_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                 {"client_trust", ci()}};
    add_to_smdp(smdp);
    std::ofstream(dir_.path() / "smdp.json") << smdp.dump(2);
    smdp_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / "smdp.json").string()},
                                           "smdp");
    ASSERT_EQ(smdp_->url(), smdp_url) << smdp_->output();

    device_ = std::make_unique<ServeProcess>(
        ServeProcess::Program{RSP_TOOL},
        std::vector<std::string>{"euicc", "m2m-run", "--dir", card().string(), "--smsc", "127.0.0.1:" + smsc_port_,
                                 "--system-id", "device", "--password-file", (dir_.path() / "device.pw").string(),
                                 "--address", kBootMsisdn, "--address", kSecondMsisdn, "--address",
                                 kDownloadedMsisdn});
    device_->wait_for("device running", 30s);
    ASSERT_NE(device_->output().find("device running"), std::string::npos) << device_->output();
  }
  void TearDown() override {
    if (device_) device_->stop();
    if (smdp_) smdp_->stop();
    if (smsr_) smsr_->stop();
  }

  /// Runs before the SM-SR starts (the SMSC runs already).
  virtual void before_smsr() {}
  /// Adds to the SM-SR's configuration before it starts.
  virtual void add_to_smsr(nlohmann::json&) {}
  /// Adds to the SM-DP's configuration before it starts.
  virtual void add_to_smdp(nlohmann::json&) {}

  /// An SM-SR's configuration: its TLS identity, database, the MNO mno-dp
  /// (API key; its callbacks to url(id)), the test SMSC with its own
  /// account and SMS address.
  nlohmann::json smsr_config(const std::string& id, const std::string& system_id, const std::string& password,
                             const std::string& sms_source) {
    return {{"listen", "127.0.0.1:0"},
            {"smsr_id", id},
            {"tls_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
            {"tls_key", (pki() / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
            {"database", smsr_db(id)},
            {"client_trust", ci()},
            {"mnos", {{{"name", "mno-dp"}, {"api_key_file", "mno.key"}, {"callback_url", mno_.url(id)}}}},
            {"callback_trust", ci()},
            {"smsc", "smpp"},
            {"smpp_port", std::stoi(smsc_port_)},
            {"smpp_system_id", system_id},
            {"smpp_password", password},
            {"sms_source", sms_source}};
  }
  std::unique_ptr<ServeProcess> start_smsr(const std::string& id, const nlohmann::json& config) {
    std::ofstream(dir_.path() / (id + ".json")) << config.dump(2);
    return std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", (dir_.path() / (id + ".json")).string()}, "smsr");
  }

  std::filesystem::path pki() const { return dir_.path() / "pki"; }
  std::filesystem::path card() const { return dir_.path() / "card"; }
  std::string ci() const { return (pki() / "CERT_CI_ECDSA_NIST.pem").string(); }
  std::string smsr_db(const std::string& id) const { return (dir_.path() / (id + ".db")).string(); }

  /// POST `body` to `base` + `path` with the API key `key`; the answer's JSON.
  nlohmann::json call(const std::string& base, const std::string& path, const std::string& body,
                      const std::string& key) {
    net::HttpsClientOptions o;
    o.base_url = base;
    o.trust_anchors = *net::load_certificates(ci());
    auto c = net::HttpsClient::create(std::move(o));
    EXPECT_TRUE(c) << c.error().message;
    if (!c) return {};
    auto r = (*c)->request("POST", path, body, "application/json", {{"Authorization", "Bearer " + key}});
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    last_status_ = r->status;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  /// The status of an answer, its header's or its own functionExecutionStatus.
  static std::string status(const nlohmann::json& a) {
    if (!a.is_object()) return "";
    const auto& h = a.contains("header") ? a["header"] : a;
    return h.value("functionExecutionStatus", nlohmann::json::object()).value("status", "");
  }
  /// "subject/reason" of a failed answer.
  static std::string code(const nlohmann::json& a) {
    if (!a.is_object()) return "";
    const auto& h = a.contains("header") ? a["header"] : a;
    const auto s = h.value("functionExecutionStatus", nlohmann::json::object())
                       .value("statusCodeData", nlohmann::json::object());
    return s.value("subjectCode", "") + "/" + s.value("reasonCode", "");
  }
  /// The state of `iccid` in `eis` (GetEIS's answer), "" when absent.
  static std::string profile_state(const nlohmann::json& eis, const std::string& iccid) {
    if (!eis.is_object() || !eis.contains("eis")) return "";
    for (const auto& p : eis["eis"].value("profiles", nlohmann::json::array()))
      if (p.value("iccid", "") == iccid) return p.value("state", "");
    return "";
  }

  TempDir dir_;
  MnoEndpoint mno_;
  std::string eid_, boot_iccid_, ours_, theirs_, smdp_url_, smsr_url_, smsc_port_;
  int last_status_ = 0;
  std::unique_ptr<ServeProcess> smsc_, smsr_, smdp_, device_;
};

}  // namespace rsp::e2e
