// The simulated M2M device as a process: `rsp euicc create --m2m` makes the
// card, `rsp-test-smsc` (the SMPP test double) carries the short messages and
// `rsp euicc m2m-run` runs the device; the SM-SR's ES5 end (wake-up sender on
// an SMPP bind, PSK-TLS administration-session server) runs in this test, so
// the device is checked on its own: a wake-up with a wrong checksum opens no
// session, a verified one opens the session that enables the second profile,
// the notification follows and is confirmed, a replayed wake-up is refused,
// the coverage file makes the card fall back, SIGTERM stops it cleanly and the
// folder keeps the outcome. (The whole story through `rsp smsr serve` is
// m2m_story_test.cpp.)

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/common/file.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/es5/wake_up.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/smpp/client.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/es5_fakes.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBootMsisdn = "447700900001";
const std::string kSecondMsisdn = "447700900002";
const smpp::Address kSmsrAddress{"4912345", 1, 1};

/// Forwards to the SMPP client and keeps what went out, to replay it.
class Recording final : public smpp::SmsTransport {
 public:
  explicit Recording(smpp::SmsTransport& next) : next_(next) {}
  smpp::SmsResult<std::string> submit(const smpp::ShortMessage& m) override {
    std::lock_guard lock(mu_);
    sent_.push_back(m);
    return next_.submit(m);
  }
  void set_inbound(smpp::Inbound in) override { next_.set_inbound(std::move(in)); }
  void stop() override { next_.stop(); }
  std::vector<smpp::ShortMessage> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  smpp::SmsTransport& next_;
  std::mutex mu_;
  std::vector<smpp::ShortMessage> sent_;
};

template <class F>
bool eventually(F done, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

class M2mDeviceProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"euicc", "create", "--m2m", "--dir", card().string(), "--msisdn", kBootMsisdn, "--msisdn",
                  kSecondMsisdn});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto body = nlohmann::json::parse(r.output, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("eis")) << r.output;
    auto eis = m2m::eis_from_json(body["eis"]);
    ASSERT_TRUE(eis) << eis.error().path << ": " << eis.error().message;
    eis_ = *eis;

    smsc_ = std::make_unique<ServeProcess>(ServeProcess::Program{RSP_TEST_SMSC},
                                           std::vector<std::string>{"--account", "smsr:pw-smsr", "--account",
                                                                    "device:pw-dev"});
    const auto port = smsc_->wait_for("listening on 127.0.0.1:", 20s);
    ASSERT_FALSE(port.empty()) << smsc_->output();
    smsc_port_ = port;

    const auto& psk = *eis_.isd_r.scp81_psk;
    es5::AdminSessionOptions o;
    o.session_idle_timeout = 2s;
    server_ = std::make_unique<es5::AdminSessionServer>(
        o,
        [psk, eid = eis_.eid](std::string_view identity) -> std::optional<es5::PskBinding> {
          if (identity != std::string_view(reinterpret_cast<const char*>(psk.identity.data()), psk.identity.size()))
            return std::nullopt;
          return es5::PskBinding{eid, psk.key};
        },
        scripts_, sink_);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error().message;

    smpp::SmppClientConfig c;
    c.port = static_cast<std::uint16_t>(std::stoi(smsc_port_));
    c.system_id = "smsr";
    c.password = "pw-smsr";
    c.address = kSmsrAddress;
    auto client = smpp::SmppClient::connect(std::move(c));
    ASSERT_TRUE(client) << client.error().message;
    smsr_sms_ = std::move(*client);
    recording_ = std::make_unique<Recording>(*smsr_sms_);
    sender_ = std::make_unique<es5::WakeUpSender>(
        *recording_,
        [this](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> { return ++counter_; },
        es5::WakeUpOptions{kSmsrAddress, false});
    ASSERT_TRUE(write_file_atomic(dir_.path() / "smpp.pw", as_bytes(std::string("pw-dev\n")),
                                  fs::perms::owner_read | fs::perms::owner_write));
  }

  void TearDown() override {
    if (device_) device_->stop();
    if (smsr_sms_) smsr_sms_->stop();
    if (server_) server_->stop();
  }

  fs::path card() const { return dir_.path() / "card"; }
  fs::path coverage() const { return dir_.path() / "no-coverage"; }

  void start_device() {
    device_ = std::make_unique<ServeProcess>(
        ServeProcess::Program{RSP_TOOL},
        std::vector<std::string>{"euicc", "m2m-run", "--dir", card().string(), "--smsc", "127.0.0.1:" + smsc_port_,
                                 "--system-id", "device", "--password-file", (dir_.path() / "smpp.pw").string(),
                                 "--address", kBootMsisdn, "--address", kSecondMsisdn, "--smsr-address",
                                 kSmsrAddress.digits, "--coverage-file", coverage().string(), "--fallback-timeout",
                                 "1", "--poll-interval", "0.2", "--sms-reassembly-timeout", "60", "--sms-pending", "8"});
    device_->wait_for("device running", 30s);
    ASSERT_NE(device_->output().find("device running"), std::string::npos) << device_->output();
  }

  es5::WakeUpTarget target(const std::string& msisdn) {
    const auto& k = eis_.isd_r.scp80_key_sets.at(0);
    es5::WakeUpTarget t;
    t.eid = eis_.eid;
    t.msisdn = smpp::Address{msisdn, 1, 1};
    t.key_version = static_cast<std::uint8_t>(k.version);
    t.keys = crypto::scp80::Keys(k.kic, k.kid);
    return t;
  }
  ota::AdminSessionTrigger trigger() {
    const auto& psk = *eis_.isd_r.scp81_psk;
    ota::AdminSessionTrigger t;
    t.security = ota::TriggerSecurity{std::string(psk.identity.begin(), psk.identity.end()), 1, 1};
    t.host = server_->host_header();
    t.uri = server_->path();
    t.agent_id = "//se-id/eid/" + eis_.eid;
    return t;
  }
  std::string info() { return rsp({"euicc", "m2m-info", "--dir", card().string()}).output; }

  TempDir dir_;
  m2m::Eis eis_;
  std::string smsc_port_;
  test_support::FakeScripts scripts_;
  test_support::FakeSink sink_;
  std::uint64_t counter_ = 0;
  std::unique_ptr<ServeProcess> smsc_;
  std::unique_ptr<es5::AdminSessionServer> server_;
  std::unique_ptr<smpp::SmppClient> smsr_sms_;
  std::unique_ptr<Recording> recording_;
  std::unique_ptr<es5::WakeUpSender> sender_;
  std::unique_ptr<ServeProcess> device_;
};

TEST_F(M2mDeviceProcess, WakeUpSessionNotificationReplayFallbackAndStop) {
  start_device();
  const auto& boot = eis_.profiles.at(0);
  const auto& second = eis_.profiles.at(1);
  ASSERT_TRUE(boot.fallback_attribute);

  // A wake-up with a wrong checksum opens no session.
  auto bad = target(kBootMsisdn);
  bad.keys.kid[0] ^= 0x01;
  ASSERT_TRUE(sender_->send_trigger(bad, trigger()));
  scripts_.queue(eis_.eid, {"enable", {m2m::build_apdu(m2m::EnableProfile{second.isdp_aid}).value()}, {}});
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(scripts_.handed_out(), 0u) << device_->output();

  // A verified one: the session runs the enable, the notification follows.
  const auto before = recording_->sent().size();
  ASSERT_TRUE(sender_->send_trigger(target(kBootMsisdn), trigger()));
  const auto good = recording_->sent();
  ASSERT_TRUE(eventually([&] { return scripts_.done().contains("enable"); })) << device_->output();
  auto result = scripts_.done().at("enable");
  ASSERT_TRUE(result) << result.error().to_string();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ(result->at(0).sw, 0x9000);
  ASSERT_TRUE(eventually([&] { return !sink_.received().empty(); })) << device_->output();
  EXPECT_EQ(sink_.received()[0].type, m2m::NotificationType::kProfileChangeSucceeded);
  EXPECT_EQ(sink_.received()[0].isdp_aid, second.isdp_aid);
  // Its session over: the notification confirmed (the card writes that
  // with its next save, which `m2m-info` shows only then; see the end).
  ASSERT_TRUE(eventually([&] { return server_->active_sessions() == 0; })) << device_->output();

  // The same SMS again: refused for its counter, no session.
  const auto sessions = scripts_.handed_out();
  for (std::size_t i = before; i < good.size(); ++i) ASSERT_TRUE(smsr_sms_->submit(good[i]));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(scripts_.handed_out(), sessions);
  EXPECT_EQ(sink_.received().size(), 1u);

  // The second profile's network goes away: the card falls back, the SM-SR is told.
  std::ofstream(coverage()) << "# test\n" << second.iccid << "\n";
  ASSERT_TRUE(eventually([&] { return sink_.received().size() >= 2; })) << device_->output();
  EXPECT_EQ(sink_.received()[1].type, m2m::NotificationType::kProfileChangeAfterFallback);
  EXPECT_EQ(sink_.received()[1].isdp_aid, boot.isdp_aid);

  EXPECT_EQ(device_->stop(), 0) << device_->output();
  EXPECT_NE(device_->output().find("stopped, enabled profile " + boot.iccid), std::string::npos) << device_->output();
  const auto shown = info();
  EXPECT_NE(shown.find(boot.iccid + " ENABLED fallback"), std::string::npos) << shown;
  EXPECT_NE(shown.find(second.iccid + " DISABLED no-coverage"), std::string::npos) << shown;
  EXPECT_NE(shown.find("0 notification(s) pending"), std::string::npos) << shown;
  // No key in the device's output.
  for (const auto& k : eis_.isd_r.scp80_key_sets) {
    EXPECT_EQ(device_->output().find(to_hex(k.kic)), std::string::npos);
    EXPECT_EQ(device_->output().find(to_hex(k.kid)), std::string::npos);
  }
  EXPECT_EQ(device_->output().find(to_hex(eis_.isd_r.scp81_psk->key)), std::string::npos);
  EXPECT_EQ(device_->output().find("pw-dev"), std::string::npos);
}

TEST_F(M2mDeviceProcess, AWrongSmppPasswordOrNoSmscEndsTheDeviceWithAMessage) {
  ASSERT_TRUE(write_file_atomic(dir_.path() / "smpp.pw", as_bytes(std::string("wrong\n")),
                                fs::perms::owner_read | fs::perms::owner_write));
  auto r = rsp({"euicc", "m2m-run", "--dir", card().string(), "--smsc", "127.0.0.1:" + smsc_port_, "--system-id",
                "device", "--password-file", (dir_.path() / "smpp.pw").string(), "--address", kBootMsisdn});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("SMSC"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("wrong"), std::string::npos) << r.output;
  r = rsp({"euicc", "m2m-run", "--dir", card().string(), "--smsc", "127.0.0.1:" + smsc_port_});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--address"), std::string::npos) << r.output;
  r = rsp({"euicc", "m2m-run", "--dir", (dir_.path() / "none").string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = rsp({"euicc", "m2m-run", "--dir", card().string(), "--no-coverage", "12345"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = rsp({"euicc", "m2m-run", "--dir", card().string(), "--sms-reassembly-timeout", "0.5"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--sms-reassembly-timeout"), std::string::npos) << r.output;
  r = rsp({"euicc", "m2m-run", "--dir", card().string(), "--sms-pending", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--sms-pending"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
