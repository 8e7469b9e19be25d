#pragma once
// The SM-SR wired to ES5 in one process: a registry (SQLite), the service
// with the ISD-R script builder and the link's wake-ups, the link as the
// administration session's script source and notification sink (real
// PSK-TLS on port 0), a loopback SMSC and the simulated device with a card
// made as `rsp euicc create --m2m` makes one (the euicc_m2m fixture), whose
// facts are registered as its EIS.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "m2m_fixture.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smpp/loopback.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr::testing {

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

class Es5LinkTest : public euicc_m2m::test::M2mTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string eid() const { return to_hex(card_->isd_r().eid()); }
  /// The card's facts as its EUM registers them (ES1).
  m2m::Eis card_eis() const;
  void start_device();
  Operation op(std::int64_t id) { return **registry_->operation(id); }
  std::vector<service::OutboxItem> callbacks() { return *registry_->outbox()->due(100); }
  /// The results of the card's notifications' audit lines, oldest first.
  std::vector<std::string> notification_lines();
  std::vector<std::string> log_lines();
  /// One line of either side's log (the SM-SR's, the device's "device: ...").
  void add_log_line(std::string line);
  /// Why an operation is not final yet: its state, the device's failed
  /// sessions and the log lines of both sides (a failed check's message).
  std::string diagnosis(std::int64_t operation_id);
  /// The SM-SR service configuration these tests use over `registry` (the
  /// clock, 600 s validity, the ISD-R script builder), waking devices up
  /// through `link`.
  ServiceConfig service_config(std::shared_ptr<Registry> registry, Es5Link& link) const;

  /// Called in a derived fixture's constructor: SetUp registers the card's
  /// real ECASD certificate in the EIS (edit_registered_eis_).
  void register_card_ecasd_certificate();
  /// Set in a derived fixture's constructor: changes the EIS SetUp registers.
  std::function<void(m2m::Eis&)> edit_registered_eis_;
  /// Set before start_device(): the device's ISD-Ps (M2mDeviceOptions::isdp).
  std::function<Bytes(ByteView, ByteView)> device_isdp_;
  /// Set before start_device(): the device's log lines (M2mDeviceOptions::log);
  /// each line also goes to log_ with a "device: " prefix.
  std::function<void(const std::string&)> device_log_;
  /// Set in a derived fixture's constructor: how long the SM-SR waits for a
  /// device's next POST. Long enough by default that a device slowed by a
  /// loaded machine (sanitizers, parallel tests, card flushes) is not cut
  /// off: the manual clock never fires a wake-up retry, so a dropped session
  /// would leave its operation open. Tests of a dropped session shorten it.
  std::chrono::milliseconds session_idle_timeout_{std::chrono::seconds(3)};
  /// Set in a derived fixture's constructor: after how long without a word
  /// the link counts an eUICC's session as gone (Es5LinkConfig).
  std::chrono::milliseconds link_session_idle_timeout_{std::chrono::seconds(30)};
  const std::string kBootIccid = "89000123456789012341";
  const std::string kSecondIccid = "89000123456789012352";
  const smpp::Address smsr_address_{"4912345", 1, 1};
  const smpp::Address msisdn_{"4915550001", 1, 1};
  std::shared_ptr<service::ManualClock> clock_ =
      std::make_shared<service::ManualClock>(service::TimePoint(std::chrono::seconds(1'800'000'000)));
  std::shared_ptr<Registry> registry_;
  std::unique_ptr<smpp::LoopbackSmsc> smsc_;
  std::unique_ptr<smpp::SmsTransport> smsr_sms_;
  std::unique_ptr<smpp::SmsTransport> device_sms_;
  std::unique_ptr<Es5Link> link_;
  std::shared_ptr<Service> service_;
  std::unique_ptr<es5::AdminSessionServer> server_;
  std::unique_ptr<m2m_device::M2mDevice> device_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

}  // namespace rsp::smsr::testing
