// The SM-SR's ES5 end to end: `rsp smsr serve` (port 0, a temporary folder)
// bound to the SMPP test SMSC (tests/support) of this process; an EUM
// registers a simulated M2M card over ES1, the MNO of its second profile
// calls ES4 EnableProfile; the SM-SR's wake-up SMS reaches the device (the
// card and its terminal in this process, bound to the same SMSC), which opens
// the PSK-TLS administration session, enables the profile and sends its
// notification; the operation completes and the MNOs' callbacks reach a small
// HTTPS endpoint of the test. Then a DisableProfile falls back to the
// bootstrap profile, and an operation for a device that is gone expires.

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/common/file.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/smpp/client.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/temp_dir.hpp"
#include "test_support/test_smsc.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kEumKey = "eum-key-5b2e8c1d7a9f0346";
const std::string kMnoKey = "mno-key-1c9e4a7b2d5f8063";
const std::string kBootIccid = "89000123456789012341";
const std::string kSecondIccid = "89000123456789012352";
const smpp::Address kSmsr{"4912345", 1, 1};
const smpp::Address kDevice{"4915550001", 1, 1};

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 30s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

class SmsrEs5 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const auto& [name, key] : {std::pair{"eum.key", kEumKey}, std::pair{"mno.key", kMnoKey}})
      ASSERT_TRUE(write_file_atomic(dir_.path() / name, as_bytes(key + "\n"),
                                    fs::perms::owner_read | fs::perms::owner_write));
    ASSERT_TRUE(smsc_.start());
    start_callback_endpoint();
    make_card();

    // Both profiles belong to one MNO here, so that it sees the whole story.
    json cfg = {{"listen", "127.0.0.1:0"},
                {"tls_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                {"tls_key", (pki() / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
                {"database", (dir_.path() / "smsr.db").string()},
                {"sweep_interval", 1},
                {"access_log", (dir_.path() / "access.log").string()},
                {"es5_listen", "127.0.0.1:0"},
                {"smsc", "smpp"},
                {"smpp_port", smsc_.port()},
                {"smpp_system_id", "smsr"},
                {"smpp_password", "smsrpw"},
                {"sms_source", kSmsr.digits},
                {"callback_trust", ci()},
                {"eums", {{{"name", "EUM-TEST"}, {"api_key_file", "eum.key"}}}},
                {"mnos", {{{"name", "mno-one"}, {"api_key_file", "mno.key"},
                           {"callback_url", callback_url_ + "/mno/callbacks"}}}}};
    std::ofstream(dir_.path() / "smsr.json") << cfg.dump(2);
    serve_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", (dir_.path() / "smsr.json").string()}, "smsr");
    es5_ = serve_->wait_for("ES5 admin sessions on ");
    ASSERT_FALSE(es5_.empty()) << serve_->output();
    url_ = serve_->wait_for("listening on ");
    ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << serve_->output();
    net::HttpsClientOptions o;
    o.base_url = url_;
    o.trust_anchors = *net::load_certificates(ci());
    auto c = net::HttpsClient::create(std::move(o));
    ASSERT_TRUE(c);
    client_ = std::move(*c);
  }

  void TearDown() override {
    if (device_sms_) device_sms_->stop();
    device_.reset();
    card_.reset();
    if (serve_) {
      EXPECT_EQ(serve_->signal_and_wait(SIGTERM), 0) << serve_->output();
      EXPECT_EQ(serve_->output().find(to_hex(psk_key_)), std::string::npos);
    }
    if (endpoint_) endpoint_->stop();
  }

  fs::path pki() const { return dir_.path() / "pki"; }
  std::string ci() const { return (pki() / "CERT_CI_ECDSA_NIST.pem").string(); }

  void start_callback_endpoint() {
    auto id = net::TlsIdentity::load(pki() / "CERT_M2M_SM_SR_TLS_NIST.pem", pki() / "SK_M2M_SM_SR_TLS_NIST.pem");
    ASSERT_TRUE(id);
    net::HttpServerOptions o;
    net::TlsServerConfig tls;
    tls.identities.push_back(std::move(*id));
    o.tls = std::move(tls);
    o.worker_threads = 2;
    endpoint_ = std::make_unique<net::HttpServer>(std::move(o));
    endpoint_->post("/mno/callbacks", [this](const net::Request& r) {
      std::lock_guard lock(mu_);
      received_.push_back(json::parse(r.body, nullptr, false));
      return net::Response{204, "", {}, ""};
    });
    ASSERT_TRUE(endpoint_->start());
    callback_url_ = endpoint_->url();
  }

  void make_card() {
    auto sources = euicc::find_identity_sources(pki());
    ASSERT_TRUE(sources);
    euicc_m2m::M2mCreateOptions o;
    o.dir = dir_.path() / "card";
    o.sources = *sources;
    o.smsr_id = "smsr.test";
    o.profiles = {
        {euicc_m2m::isdp_aid(0), from_hex("98001032547698103214").value(), "mno-one", m2m::pol1::kDeleteNotAllowed,
         true, true},
        {euicc_m2m::isdp_aid(1), from_hex("98001032547698103225").value(), "mno-one", 0, false, false},
    };
    ASSERT_TRUE(euicc_m2m::create_m2m_euicc(o));
    auto card = euicc_m2m::M2mEuicc::open(o.dir, {});
    ASSERT_TRUE(card) << card.error().message;
    card_ = std::move(*card);
    psk_key_ = card_->isd_r().state().scp81.key;
  }

  /// The card's facts as its EUM registers them (ES1), both profiles reached
  /// at the device's MSISDN.
  json eis() const {
    auto store = euicc_m2m::M2mStore::open(dir_.path() / "card");
    EXPECT_TRUE(store) << store.error().message;
    const euicc_m2m::RegistrationFacts facts{"EUM-TEST", "2026-12-03",
                                             {{kBootIccid, kDevice.digits}, {kSecondIccid, kDevice.digits}}};
    auto e = euicc_m2m::registration_eis(*store, facts);
    EXPECT_TRUE(e) << e.error().message;
    return json{{"eis", m2m::eis_to_json(*e, m2m::Keys::Include)}};
  }

  void start_device() {
    smpp::SmppClientConfig sc;
    sc.port = static_cast<std::uint16_t>(smsc_.port());
    sc.system_id = "device";
    sc.password = "devpw";
    sc.address = kDevice;
    auto sms = smpp::SmppClient::connect(std::move(sc));
    ASSERT_TRUE(sms) << sms.error().message;
    device_sms_ = std::move(*sms);
    m2m_device::M2mDeviceOptions o;
    o.msisdn = kDevice;
    o.smsr_address = kSmsr;
    o.default_host = es5_;
    o.http_timeout = 10s;
    device_ = std::make_unique<m2m_device::M2mDevice>(card_->isd_r(), o);
    device_->attach(*device_sms_);
  }

  json call(const std::string& path, const json& body, const std::string& key) {
    auto r = client_->request("POST", path, body.dump(), "application/json", {{"Authorization", "Bearer " + key}});
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  json es4(const std::string& fn, const json& body) { return call("/gsma/m2m/es4/" + fn, body, kMnoKey); }
  std::string operation_state(std::int64_t id) {
    auto r = es4("getOperation", {{"operationId", id}});
    return r.is_object() ? r["operation"].value("state", "") : "";
  }
  /// The callbacks received whose function is `function`.
  std::vector<json> callbacks(const std::string& function) {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& j : received_)
      if (j.is_object() && j.value("function", "") == function) out.push_back(j);
    return out;
  }

  test_support::TempDir dir_;
  test_support::TestSmsc smsc_{{{"smsr", "smsrpw"}, {"device", "devpw"}}};
  std::unique_ptr<net::HttpServer> endpoint_;
  std::string callback_url_;
  std::mutex mu_;
  std::vector<json> received_;
  std::unique_ptr<euicc_m2m::M2mEuicc> card_;
  Bytes psk_key_;
  std::unique_ptr<ServeProcess> serve_;
  std::string url_, es5_;
  std::unique_ptr<net::HttpsClient> client_;
  std::unique_ptr<smpp::SmsTransport> device_sms_;
  std::unique_ptr<m2m_device::M2mDevice> device_;
};

TEST_F(SmsrEs5, EnableThenDisableWithFallbackThenExpiry) {
  const std::string eid = to_hex(card_->isd_r().eid());
  auto reg = call("/gsma/m2m/es1/registerEIS", eis(), kEumKey);
  ASSERT_EQ(reg["header"]["functionExecutionStatus"]["status"], "Executed-Success") << reg;
  start_device();

  // EnableProfile: wake-up SMS -> PSK-TLS session -> enabled -> notification -> callback.
  auto a = es4("enableProfile", {{"eid", eid}, {"iccid", kSecondIccid}});
  ASSERT_TRUE(a.contains("operationId")) << a;
  const std::int64_t enable = a["operationId"];
  ASSERT_TRUE(eventually([&] { return operation_state(enable) == "completed"; })) << serve_->output();
  ASSERT_TRUE(eventually([&] { return !callbacks("ES4.EnableProfile").empty(); })) << serve_->output();
  auto result = callbacks("ES4.EnableProfile").front();
  EXPECT_EQ(result["operationId"], enable);
  EXPECT_EQ(result["functionExecutionStatus"]["status"], "Executed-Success");
  EXPECT_EQ(result["functionCallIdentifier"], "op-" + std::to_string(enable));
  ASSERT_TRUE(device_->wait_idle(10s));
  EXPECT_EQ(card_->isd_r().state().find(euicc_m2m::isdp_aid(1))->state, m2m::IsdpState::kEnabled);
  auto got = es4("getEIS", {{"eid", eid}});
  for (const auto& p : got["eis"]["profiles"])
    EXPECT_EQ(p["state"], p["iccid"] == kSecondIccid ? "Enabled" : "Disabled") << p;

  // DisableProfile: the card falls back to the bootstrap profile.
  auto d = es4("disableProfile", {{"eid", eid}, {"iccid", kSecondIccid}});
  ASSERT_TRUE(d.contains("operationId")) << d;
  const std::int64_t disable = d["operationId"];
  ASSERT_TRUE(eventually([&] { return operation_state(disable) == "completed"; })) << serve_->output();
  ASSERT_TRUE(eventually([&] { return !callbacks("ES4.DisableProfile").empty(); }));
  ASSERT_TRUE(device_->wait_idle(10s));
  EXPECT_EQ(card_->isd_r().state().find(euicc_m2m::isdp_aid(0))->state, m2m::IsdpState::kEnabled);
  got = es4("getEIS", {{"eid", eid}});
  for (const auto& p : got["eis"]["profiles"])
    EXPECT_EQ(p["state"], p["iccid"] == kBootIccid ? "Enabled" : "Disabled") << p;

  // The device goes away: an operation with a short validity expires, and
  // the MNO is told so.
  device_sms_->stop();
  device_.reset();
  auto x = es4("enableProfile", {{"eid", eid}, {"iccid", kSecondIccid}, {"validityPeriod", 2}});
  ASSERT_TRUE(x.contains("operationId")) << x;
  const std::int64_t lost = x["operationId"];
  ASSERT_TRUE(eventually([&] { return operation_state(lost) == "expired"; })) << serve_->output();
  ASSERT_TRUE(eventually([&] {
    for (const auto& c : callbacks("ES4.EnableProfile"))
      if (c["operationId"] == lost) return c["functionExecutionStatus"]["status"] == "Expired";
    return false;
  }));
}

}  // namespace
}  // namespace rsp::e2e
