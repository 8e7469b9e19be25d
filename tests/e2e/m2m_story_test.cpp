// The M2M story across processes, all on port 0 in a temporary folder:
// `rsp smsr serve` (the SM-SR), `rsp euicc create --m2m` (the EUM's card and
// its RegisterEIS body), `rsp-test-smsc` (the SMPP test double) and `rsp
// euicc m2m-run` (the device), with the MNO's callback endpoint (HTTPS,
// mno_endpoint.hpp) in the test: RegisterEIS -> EnableProfile of the second
// profile -> SMS wake-up -> PSK-TLS session -> enabled on the card ->
// notification -> MNO callback;
// DisableProfile with fallback to the bootstrap profile; POL2 and POL1
// refusals; expiry of an operation the silent device never answers; kill -9
// of the SM-SR with an operation in flight, restarted: it ends (expired)
// and its callback still comes.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "mno_endpoint.hpp"
#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kMnoKey = "story-mno-key-4c2e8a1f9d3b";
const std::string kEumKey = "story-eum-key-7a9c1e3f5b2d";

class M2mStory : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--m2m", "--dir", (dir_.path() / "card").string(), "--pki", pki().string(),
             "--eum-id", "EUM-STORY", "--mno", "mno-story", "--mno", "mno-story", "--msisdn", "447700900001",
             "--msisdn", "447700900002", "--second-pol1", "delete-not-allowed"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    register_body_ = r.output;
    for (const auto& [name, key] : {std::pair{"mno.key", kMnoKey}, std::pair{"eum.key", kEumKey}})
      ASSERT_TRUE(write_file_atomic(dir_.path() / name, as_bytes(key + "\n"),
                                    fs::perms::owner_read | fs::perms::owner_write));
  }

  /// Starts (or restarts) the SM-SR with `extra` configuration keys.
  void start_smsr(const json& extra = json::object()) {
    json cfg = {{"listen", "127.0.0.1:0"},
                {"tls_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                {"tls_key", (pki() / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
                {"database", (dir_.path() / "smsr.db").string()},
                {"ecasd_trust", (pki() / "CERT_EUM_ECDSA_NIST.pem").string()},
                {"eums", {{{"name", "EUM-STORY"}, {"api_key_file", "eum.key"}}}},
                {"mnos", {{{"name", "mno-story"}, {"api_key_file", "mno.key"}}}}};
    cfg.update(extra);
    std::ofstream(dir_.path() / "smsr.json") << cfg.dump(2);
    smsr_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / "smsr.json").string()},
                                           "smsr");
    url_ = smsr_->url();
    ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << smsr_->output();
    net::HttpsClientOptions o;
    o.base_url = url_;
    o.trust_anchors = *net::load_certificates(pki() / "CERT_CI_ECDSA_NIST.pem");
    auto c = net::HttpsClient::create(std::move(o));
    ASSERT_TRUE(c) << c.error().message;
    client_ = std::move(*c);
  }

  fs::path pki() const { return dir_.path() / "pki"; }

  json call(const std::string& path, const std::string& body, const std::string& key) {
    auto r = client_->request("POST", path, body, "application/json", {{"Authorization", "Bearer " + key}});
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    bodies_ += r->body;
    return json::parse(r->body, nullptr, false);
  }
  static std::string status(const json& a) {
    return a.is_object() ? a["header"]["functionExecutionStatus"].value("status", "") : "";
  }

  TempDir dir_;
  std::string register_body_;
  std::unique_ptr<ServeProcess> smsr_;
  std::string url_;
  std::unique_ptr<net::HttpsClient> client_;
  std::string bodies_;
};

TEST_F(M2mStory, TheCardsRegisterEisBodyIsWhatEs1Takes) {
  start_smsr();
  auto a = call("/gsma/m2m/es1/registerEIS", register_body_, kEumKey);
  ASSERT_EQ(status(a), "Executed-Success") << a;
  const auto eid = json::parse(register_body_)["eis"]["eid"].get<std::string>();
  a = call("/gsma/m2m/es4/getEIS", json{{"eid", eid}}.dump(), kMnoKey);
  ASSERT_EQ(status(a), "Executed-Success") << a;
  const auto& profiles = a["eis"]["profiles"];
  ASSERT_EQ(profiles.size(), 2u) << a;
  EXPECT_EQ(profiles[0]["state"], "Enabled");
  EXPECT_EQ(profiles[0]["fallbackAttribute"], true);
  EXPECT_EQ(profiles[0]["subscriptionAddress"]["msisdn"], "447700900001");
  EXPECT_EQ(profiles[1]["state"], "Disabled");
  EXPECT_EQ(profiles[1]["subscriptionAddress"]["msisdn"], "447700900002");
  // The same card again is refused; its keys never come back.
  a = call("/gsma/m2m/es1/registerEIS", register_body_, kEumKey);
  EXPECT_EQ(status(a), "Failed") << a;
  const auto keys = json::parse(register_body_)["eis"]["isdR"];
  EXPECT_EQ(bodies_.find(keys["scp81Psk"]["key"].get<std::string>()), std::string::npos);
  EXPECT_EQ(bodies_.find(keys["scp80KeySets"][0]["kic"].get<std::string>()), std::string::npos);
  EXPECT_EQ(smsr_->stop(), 0) << smsr_->output();
  EXPECT_EQ(smsr_->output().find(keys["scp81Psk"]["key"].get<std::string>()), std::string::npos);
}

class M2mStoryWithDevice : public M2mStory {
 protected:
  void SetUp() override {
    M2mStory::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(mno_.start(pki(), {"smsr"}));
    smsc_ = std::make_unique<ServeProcess>(ServeProcess::Program{RSP_TEST_SMSC},
                                           std::vector<std::string>{"--account", "smsr:pw-smsr", "--account",
                                                                    "device:pw-dev"});
    smsc_port_ = smsc_->wait_for("listening on 127.0.0.1:", 20s);
    ASSERT_FALSE(smsc_port_.empty()) << smsc_->output();
    ASSERT_TRUE(write_file_atomic(dir_.path() / "device.pw", as_bytes(std::string("pw-dev\n")),
                                  fs::perms::owner_read | fs::perms::owner_write));
    start_smsr_with_smsc();
    if (HasFatalFailure()) return;
    auto a = call("/gsma/m2m/es1/registerEIS", register_body_, kEumKey);
    ASSERT_EQ(status(a), "Executed-Success") << a;
    const auto eis = json::parse(register_body_)["eis"];
    eid_ = eis["eid"];
    boot_ = eis["profiles"][0]["iccid"];
    second_ = eis["profiles"][1]["iccid"];
  }
  void TearDown() override {
    if (device_) device_->stop();
    if (smsr_) smsr_->stop();
  }

  void start_smsr_with_smsc() {
    json mnos = {{{"name", "mno-story"}, {"api_key_file", "mno.key"}, {"callback_url", mno_.url("smsr")}}};
    start_smsr({{"smsc", "smpp"},
                {"smpp_port", std::stoi(smsc_port_)},
                {"smpp_system_id", "smsr"},
                {"smpp_password", "pw-smsr"},
                {"sms_source", "4912345"},
                {"callback_trust", (pki() / "CERT_CI_ECDSA_NIST.pem").string()},
                {"mnos", mnos}});
  }
  void start_device() {
    device_ = std::make_unique<ServeProcess>(
        ServeProcess::Program{RSP_TOOL},
        std::vector<std::string>{"euicc", "m2m-run", "--dir", (dir_.path() / "card").string(), "--smsc",
                                 "127.0.0.1:" + smsc_port_, "--system-id", "device", "--password-file",
                                 (dir_.path() / "device.pw").string(), "--address", "447700900001", "--address",
                                 "447700900002"});
    device_->wait_for("device running", 30s);
    ASSERT_NE(device_->output().find("device running"), std::string::npos) << device_->output();
  }

  json es4(const std::string& fn, json body) {
    body["eid"] = eid_;
    return call("/gsma/m2m/es4/" + fn, body.dump(), kMnoKey);
  }
  /// Waits until operation `id` is final; its "operation" object.
  json finished(std::int64_t id, std::chrono::seconds timeout = 30s) {
    json op;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      op = call("/gsma/m2m/es4/getOperation", json{{"operationId", id}}.dump(), kMnoKey)["operation"];
      const auto state = op.is_object() ? op.value("state", "") : "";
      if (state == "completed" || state == "failed" || state == "expired") return op;
      std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return op;
  }
  std::string profile_state(const std::string& iccid) {
    auto a = es4("getEIS", json::object());
    for (const auto& p : a["eis"]["profiles"])
      if (p["iccid"] == iccid) return p["state"];
    return "?";
  }
  static std::int64_t operation_id(const json& accepted) {
    return accepted.is_object() ? accepted.value("operationId", std::int64_t{-1}) : -1;
  }

  MnoEndpoint mno_;
  std::unique_ptr<ServeProcess> smsc_;
  std::string smsc_port_;
  std::unique_ptr<ServeProcess> device_;
  std::string eid_, boot_, second_;
};

TEST_F(M2mStoryWithDevice, EnableDisableWithFallbackRefusalsExpiryAndACrash) {
  start_device();

  // EnableProfile: SMS wake-up, session, enabled on the card, notification, callback.
  auto id = operation_id(es4("enableProfile", {{"iccid", second_}}));
  ASSERT_GT(id, 0);
  auto op = finished(id);
  ASSERT_EQ(op["state"], "completed") << op << smsr_->output() << device_->output();
  auto callback = mno_.result_of("smsr", id);
  ASSERT_TRUE(callback.is_object()) << smsr_->output();
  EXPECT_EQ(callback["function"], "ES4.EnableProfile");
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback;
  EXPECT_EQ(profile_state(second_), "Enabled");
  EXPECT_EQ(profile_state(boot_), "Disabled");

  // DisableProfile: the card falls back to the bootstrap profile.
  id = operation_id(es4("disableProfile", {{"iccid", second_}}));
  ASSERT_GT(id, 0);
  op = finished(id);
  ASSERT_EQ(op["state"], "completed") << op << device_->output();
  EXPECT_EQ(mno_.result_of("smsr", id)["functionExecutionStatus"]["status"], "Executed-Success");
  EXPECT_EQ(profile_state(boot_), "Enabled");
  EXPECT_EQ(profile_state(second_), "Disabled");

  // POL2 in the SM-SR refuses at once; POL1 on the card refuses by its answer.
  auto a = es4("updatePolicyRules",
               {{"iccid", boot_}, {"pol2", {{{"subject", "PROFILE"}, {"action", "DISABLE"}, {"qualification", "Not allowed"}}}}});
  ASSERT_EQ(status(a), "Executed-Success") << a;
  a = es4("enableProfile", {{"iccid", second_}});
  EXPECT_EQ(a["header"]["functionExecutionStatus"]["statusCodeData"].value("subjectCode", ""), "8.2.2") << a;
  ASSERT_EQ(status(es4("updatePolicyRules", {{"iccid", boot_}, {"pol2", json::array()}})), "Executed-Success");
  id = operation_id(es4("deleteProfile", {{"iccid", second_}}));
  ASSERT_GT(id, 0);
  op = finished(id);
  EXPECT_EQ(op["state"], "failed") << op << device_->output();
  EXPECT_EQ(mno_.result_of("smsr", id)["functionExecutionStatus"]["status"], "Failed");
  EXPECT_EQ(profile_state(second_), "Disabled");

  // The device goes silent: an operation expires, its callback says so.
  ASSERT_EQ(device_->stop(), 0) << device_->output();
  id = operation_id(es4("enableProfile", {{"iccid", second_}, {"validityPeriod", 2}}));
  ASSERT_GT(id, 0);
  op = finished(id);
  EXPECT_EQ(op["state"], "expired") << op;
  EXPECT_EQ(mno_.result_of("smsr", id)["functionExecutionStatus"]["status"], "Expired");

  // kill -9 of the SM-SR with an operation in flight; restarted, it still ends and its callback comes.
  id = operation_id(es4("enableProfile", {{"iccid", second_}, {"validityPeriod", 4}}));
  ASSERT_GT(id, 0);
  EXPECT_EQ(smsr_->signal_and_wait(SIGKILL), 128 + SIGKILL);
  start_smsr_with_smsc();
  op = finished(id);
  EXPECT_TRUE(op["state"] == "expired" || op["state"] == "completed") << op;
  EXPECT_TRUE(mno_.result_of("smsr", id).is_object()) << smsr_->output();
  const auto keys = json::parse(register_body_)["eis"]["isdR"];
  EXPECT_EQ(smsr_->output().find(keys["scp81Psk"]["key"].get<std::string>()), std::string::npos);
}

/// kill -9 of the SM-SR after it accepted an EnableProfile and before the
/// device could connect back (the device is off, its wake-up lost): restarted,
/// the SM-SR wakes the device again and the operation completes with its
/// callback within its validity. Then an operation whose validity passes
/// while the SM-SR is down: at the restart it ends expired, called back once.
TEST_F(M2mStoryWithDevice, AKilledSmsrResumesItsOperationsOrExpiresThemOnce) {
  auto id = operation_id(es4("enableProfile", {{"iccid", second_}, {"validityPeriod", 120}}));
  ASSERT_GT(id, 0);
  EXPECT_EQ(smsr_->signal_and_wait(SIGKILL), 128 + SIGKILL);
  const std::string killed_output = smsr_->output();
  start_device();
  start_smsr_with_smsc();
  auto op = finished(id, 60s);
  ASSERT_EQ(op["state"], "completed") << op << "\nkilled SM-SR:\n" << killed_output << "\nrestarted SM-SR:\n"
                                      << smsr_->drain() << "\ndevice:\n" << device_->drain();
  auto callback = mno_.result_of("smsr", id);
  ASSERT_TRUE(callback.is_object()) << smsr_->output();
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback;
  EXPECT_EQ(profile_state(second_), "Enabled");
  EXPECT_NE(smsr_->output().find("resumed 1 eUICC"), std::string::npos) << smsr_->output();

  // The validity ends during the outage.
  ASSERT_EQ(device_->stop(), 0) << device_->output();
  id = operation_id(es4("disableProfile", {{"iccid", second_}, {"validityPeriod", 2}}));
  ASSERT_GT(id, 0);
  EXPECT_EQ(smsr_->signal_and_wait(SIGKILL), 128 + SIGKILL);
  std::this_thread::sleep_for(3s);
  start_device();
  start_smsr_with_smsc();
  op = finished(id);
  ASSERT_EQ(op["state"], "expired") << op << smsr_->output();
  ASSERT_TRUE(mno_.result_of("smsr", id).is_object()) << smsr_->output();
  EXPECT_EQ(mno_.result_of("smsr", id)["functionExecutionStatus"]["status"], "Expired");
  EXPECT_EQ(mno_.result_of("smsr", id)["functionExecutionStatus"]["statusCodeData"]["subjectCode"], "1.6");
  EXPECT_EQ(mno_.result_of("smsr", id)["functionExecutionStatus"]["statusCodeData"]["reasonCode"], "5.3");
  // Nothing was sent to the card for it, and it is told once only.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(mno_.count_of("smsr", id), 1u);
  EXPECT_EQ(profile_state(second_), "Enabled");
}

}  // namespace
}  // namespace rsp::e2e
