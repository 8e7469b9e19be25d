#pragma once
// Shared fixture of the ES5 tests: a card made as `rsp euicc create --m2m`
// makes one (euicc_m2m's M2mTest), the SM-SR's wake-up sender and
// administration-session server (real PSK-TLS on port 0), the simulated
// device, and an in-process SMSC between them.

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "m2m_fixture.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/es5/wake_up.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/net/client.hpp"
#include "rsp/smpp/loopback.hpp"
#include "test_support/es5_fakes.hpp"

namespace rsp::es5::test {

using test_support::FakeScripts;
using test_support::FakeSink;

class Es5Test : public euicc_m2m::test::M2mTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string eid() const { return to_hex(card_->isd_r().eid()); }
  WakeUpTarget target();
  ota::AdminSessionTrigger trigger();
  /// The device bound to the card, attached to the SMSC at its MSISDN.
  void start_device();
  /// A PSK-TLS client as the card would be (the card's own identity and key by default).
  std::unique_ptr<net::HttpsClient> client(std::string identity = {}, Bytes key = {});
  std::vector<std::string> log_lines();

  const smpp::Address smsr_address_{"4912345", 1, 1};
  const smpp::Address msisdn_{"4915550001", 1, 1};
  /// The device's SMS reassembly (set before start_device()).
  ota::ReassemblyOptions reassembly_;
  FakeScripts scripts_;
  FakeSink sink_;
  std::uint64_t counter_ = 0;
  std::mutex log_mu_;
  std::vector<std::string> log_;
  std::unique_ptr<smpp::LoopbackSmsc> smsc_;
  std::unique_ptr<smpp::SmsTransport> smsr_sms_;
  std::unique_ptr<smpp::SmsTransport> device_sms_;
  std::unique_ptr<AdminSessionServer> server_;
  std::unique_ptr<WakeUpSender> sender_;
  std::unique_ptr<m2m_device::M2mDevice> device_;
};

}  // namespace rsp::es5::test
