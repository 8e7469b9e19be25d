#include "es5_fixture.hpp"

#include <chrono>

#include "rsp/net/client.hpp"

namespace rsp::es5::test {

using namespace std::chrono_literals;

void Es5Test::SetUp() {
  M2mTest::SetUp();
  if (HasFatalFailure()) return;
  smsc_ = std::make_unique<smpp::LoopbackSmsc>();
  smsr_sms_ = smsc_->attach(smsr_address_);
  const auto psk = card_->isd_r().state().scp81;
  const std::string card_eid = eid();
  AdminSessionOptions o;
  o.session_idle_timeout = 300ms;
  o.log = [this](const std::string& line) {
    std::lock_guard lock(log_mu_);
    log_.push_back(line);
  };
  server_ = std::make_unique<AdminSessionServer>(
      o,
      [psk, card_eid](std::string_view identity) -> std::optional<PskBinding> {
        if (identity != psk.identity) return std::nullopt;
        return PskBinding{card_eid, psk.key};
      },
      scripts_, sink_);
  auto started = server_->start();
  ASSERT_TRUE(started) << started.error().message;
  sender_ = std::make_unique<WakeUpSender>(
      *smsr_sms_,
      [this](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> { return ++counter_; },
      WakeUpOptions{smsr_address_, false});
}

void Es5Test::TearDown() {
  if (device_sms_) device_sms_->stop();  // no delivery into a device being destroyed
  device_.reset();
  if (smsr_sms_) smsr_sms_->stop();
  if (server_) server_->stop();
  smsc_.reset();
}

WakeUpTarget Es5Test::target() {
  const auto keys = card_->isd_r().state().scp80.at(0);
  WakeUpTarget t;
  t.eid = eid();
  t.msisdn = msisdn_;
  t.key_version = keys.version;
  t.keys = crypto::scp80::Keys(keys.kic, keys.kid);
  return t;
}

ota::AdminSessionTrigger Es5Test::trigger() {
  ota::AdminSessionTrigger t;
  t.security = ota::TriggerSecurity{card_->isd_r().state().scp81.identity, 1, 1};
  t.host = server_->host_header();
  t.uri = server_->path();
  t.agent_id = "//se-id/eid/" + eid();
  return t;
}

void Es5Test::start_device() {
  m2m_device::M2mDeviceOptions o;
  o.msisdn = msisdn_;
  o.smsr_address = smsr_address_;
  o.default_host = server_->host_header();
  o.http_timeout = 5s;
  o.sms_reassembly = reassembly_;
  device_ = std::make_unique<m2m_device::M2mDevice>(card_->isd_r(), o);
  device_sms_ = smsc_->attach(msisdn_);
  device_->attach(*device_sms_);
}

std::unique_ptr<net::HttpsClient> Es5Test::client(std::string identity, Bytes key) {
  const auto psk = card_->isd_r().state().scp81;
  net::HttpsClientOptions o;
  o.base_url = "https://" + server_->host_header();
  o.psk = net::PskClientConfig{identity.empty() ? psk.identity : identity, key.empty() ? psk.key : key};
  o.connect_timeout = 5s;
  o.read_timeout = 5s;
  auto c = net::HttpsClient::create(std::move(o));
  EXPECT_TRUE(c);
  return c ? std::move(*c) : nullptr;
}

std::vector<std::string> Es5Test::log_lines() {
  std::lock_guard lock(log_mu_);
  return log_;
}

}  // namespace rsp::es5::test
