#pragma once
/// An SMPP 3.4 ESME over TCP: binds to the SMSC, submits short messages
/// (submit_sm with binary user data), receives deliver_sm (MO messages and
/// delivery receipts), keeps the link alive with enquire_link and rebinds with
/// back-off when the SMSC goes away. One I/O thread owns the socket; the
/// handlers run on a second thread, so a handler may submit.
///
/// Delivery is at least once across a reconnect: a submit_sm the SMSC did
/// not answer before the connection dropped is sent again after the rebind.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "rsp/smpp/sms_transport.hpp"

namespace rsp::smpp {

/// The three bind operations (SMPP 3.4 §4.1).
enum class BindMode { Transmitter, Receiver, Transceiver };

struct SmppClientConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  BindMode mode = BindMode::Transceiver;
  std::string system_id;    ///< ≤ 15 characters
  std::string password;     ///< ≤ 8 characters; never logged nor put in an error
  std::string system_type;  ///< ≤ 12 characters
  /// The address this ESME serves (bind address_range, addr_ton, addr_npi):
  /// where the SMSC routes deliver_sm for us.
  Address address;
  std::size_t window = 10;  ///< submit_sm outstanding at once
  std::chrono::milliseconds response_timeout{5000};
  std::chrono::milliseconds enquire_link_interval{30000};
  /// How long a submission waits for a bound connection before failing with Unavailable.
  std::chrono::milliseconds outage_wait{10000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  /// Operational messages (binds, drops, malformed PDUs); never secrets.
  std::function<void(std::string_view)> log;
};

class SmppClient final : public SmsTransport {
 public:
  /// Connects and binds once, synchronously: a refused bind fails with
  /// BindFailed and the SMSC's command_status, no connection with
  /// Unavailable. From then on the client rebinds by itself.
  static SmsResult<std::unique_ptr<SmppClient>> connect(SmppClientConfig config, Inbound inbound = {});
  ~SmppClient() override;
  SmppClient(const SmppClient&) = delete;
  SmppClient& operator=(const SmppClient&) = delete;

  /// submit_sm; waits for submit_sm_resp. Rejected carries the SMSC's status.
  SmsResult<std::string> submit(const ShortMessage& msg) override;
  void set_inbound(Inbound inbound) override;
  /// Unbinds (waiting briefly for unbind_resp) and closes; pending submissions fail with Stopped.
  void stop() override;

  bool bound() const;
  /// Successful binds after the first one.
  std::uint64_t rebinds() const;

  struct Impl;

 private:
  explicit SmppClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::smpp
