#pragma once
/// The simulated M2M device: card and terminal together, the ES5 end facing
/// the SM-SR (SGP.02 §2.4.3 SMS, §2.4.4 HTTPS).
///
///  - Short messages arrive from an smpp::SmsTransport; each is turned into
///    the SMS-DELIVER and SMS-PP download ENVELOPE a terminal gives the card
///    (3GPP TS 31.111 §7.1.1) and handed to the card's ISD-R
///    (euicc_m2m SmsPpReceiver: SCP80 checks, reassembly, PoR).
///  - A PoR the SPI wants by SMS-SUBMIT goes back as an MO short message to
///    the SM-SR's address.
///  - A verified administration-session trigger opens the PSK-TLS HTTPS
///    session to the SM-SR. A real card would ask its terminal for a BIP
///    channel (OPEN CHANNEL with the trigger's connection parameters) and run
///    TLS itself; the simulator opens the connection itself, to the trigger's
///    Host ('8A'), and runs the RAM over HTTP loop (GP Amendment B): each
///    command script's C-APDUs run on the ISD-R, the response script goes in
///    the next POST, until the SM-SR answers 204 or gives no next URI.
///  - Pending notifications travel in the first POST of a session as
///    described in es5/admin_session.hpp; after a session that left
///    notifications pending, the device opens one more session for them.
/// Short messages from the transport and the sessions run on the device's
/// own thread, one at a time, in that order: the transport's delivery thread
/// (one SMSC's for a whole fleet on the loopback) only queues the message,
/// as a handset takes an SMS and then gives it to its card, and is held
/// neither by the card (its SCP80 checks, the counter's durable write) nor
/// by an HTTPS exchange.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "rsp/common/expected.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"
#include "rsp/euicc_m2m/sms_pp.hpp"
#include "rsp/ota/trigger.hpp"
#include "rsp/smpp/sms_transport.hpp"

namespace rsp::m2m_device {

struct DeviceError {
  enum class Kind {
    NoServer,   ///< no host to connect to (trigger without Host and no default)
    Connect,    ///< the PSK-TLS connection or an HTTP exchange failed
    Protocol,   ///< the SM-SR answered outside the administration protocol
  };
  Kind kind = Kind::Connect;
  std::string message;
  /// For Kind::Connect, where the session broke: its connection could not
  /// be made (refused, unreachable, connect timed out), its PSK-TLS
  /// handshake failed, or an exchange on the connection made failed (a read
  /// or write, or their timeouts).
  enum class Stage { Connect, Handshake, Exchange };
  Stage stage = Stage::Exchange;
};

struct SessionReport {
  std::size_t scripts = 0;        ///< command scripts run
  std::size_t notifications = 0;  ///< notifications sent in the first POST
};

struct M2mDeviceOptions {
  smpp::Address msisdn;        ///< the device's own number
  smpp::Address smsr_address;  ///< where MO PoRs go (no digits: to the originator of the SMS)
  /// Host ("name:port") and URI for sessions the device opens on its own
  /// (notifications) before any trigger named them.
  std::string default_host;
  std::string default_uri = "/gsma/adminagent";
  std::chrono::milliseconds http_timeout{5000};
  std::size_t max_exchanges = 64;  ///< POSTs per session at most
  /// The card's concatenated-SMS reassembly: incomplete messages held at
  /// most, dropped after `timeout` (default 120 s), the clock (tests).
  ota::ReassemblyOptions sms_reassembly;
  /// The card's ISD-Ps: a script the SM-SR targets at one
  /// (X-Admin-Targeted-Application, ES3 SendData) runs here, e.g.
  /// euicc_m2m::Es8Card::execute; unset: such a script is answered 6A82
  /// (application not found, ISO/IEC 7816-4) for each C-APDU's first.
  std::function<Bytes(ByteView isdp_aid, ByteView c_apdu)> isdp;
  std::function<void(const std::string&)> log;
};

namespace detail {
struct SessionClient;
}

class M2mDevice {
 public:
  M2mDevice(euicc_m2m::M2mIsdR& isd_r, M2mDeviceOptions options);
  ~M2mDevice();  ///< finishes the session in progress, drops queued ones, saves what the card holds unsaved (M2mIsdR::save_pending)
  M2mDevice(const M2mDevice&) = delete;
  M2mDevice& operator=(const M2mDevice&) = delete;

  /// Receives from `transport` and sends MO PoRs through it. It must outlive
  /// the device and be stopped before the device goes (no delivery into a
  /// device being destroyed): a message queued on the device's thread may
  /// send its PoR through it until then.
  void attach(smpp::SmsTransport& transport);
  /// The handler attach() installs, to give an SMPP client when it connects
  /// (smpp::SmppClient::connect): an SMSC delivers the messages it held for
  /// the device right after the bind, before attach() could install it, and
  /// the client drops what arrives with no handler (acknowledged already).
  smpp::Inbound inbound();

  /// One MT short message, handled now on the caller's thread (attach()
  /// queues them for the device's thread, which calls this): the card's outcome.
  euicc_m2m::SmsPpOutcome on_short_message(const smpp::ShortMessage& message);

  /// Runs one administration session now, on the caller's thread.
  expected<SessionReport, DeviceError> run_session(const ota::AdminSessionTrigger& trigger);
  /// Queues a session for the pending notifications (to the last host used).
  void notify_pending();

  /// Blocks until no short message or session is queued or running, or the timeout.
  bool wait_idle(std::chrono::milliseconds timeout);
  std::size_t sessions_completed() const;
  std::size_t sessions_failed() const;
  /// Short messages from the transport not taken: kSmsQueued were waiting.
  std::size_t sms_dropped() const;
  static constexpr std::size_t kSmsQueued = 256;
  /// Sessions, run by run_session() or the device's thread, that failed
  /// because their connection could not be made (DeviceError::Stage::Connect)
  /// or their PSK-TLS handshake failed (Stage::Handshake).
  std::size_t connect_failures() const;
  std::size_t handshake_failures() const;
  /// Outcomes of the last SMS packets received (at most kOutcomesKept:
  /// a device that runs for months does not keep one per SMS), oldest first.
  std::vector<euicc_m2m::SmsPpOutcome> outcomes() const;
  static constexpr std::size_t kOutcomesKept = 64;

 private:
  void worker();
  /// The transport's handler: queues `message` for the device's thread.
  void received(const smpp::ShortMessage& message);
  /// Drops from the first `queued_before` queued sessions those the
  /// successful session just run made pointless (caller holds mutex_).
  void drop_served(std::size_t queued_before);
  void log(const std::string& line) const;

  euicc_m2m::M2mIsdR& isd_r_;
  M2mDeviceOptions options_;
  euicc_m2m::SmsPpReceiver receiver_;
  mutable std::mutex mutex_;
  smpp::SmsTransport* transport_ = nullptr;  ///< under mutex_ (SMS arrive on the transport's thread)
  std::condition_variable cv_;
  std::deque<std::optional<ota::AdminSessionTrigger>> queue_;  ///< nullopt: a notification session
  std::deque<smpp::ShortMessage> sms_;  ///< from the transport, not handled yet
  std::size_t sms_dropped_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  std::size_t completed_ = 0, failed_ = 0;
  std::size_t connect_failures_ = 0, handshake_failures_ = 0;  ///< under mutex_
  std::string last_host_, last_uri_;
  std::deque<euicc_m2m::SmsPpOutcome> outcomes_;  ///< the last kOutcomesKept
  /// The HTTPS client kept between sessions (its TLS context made once);
  /// one session at a time uses it.
  std::mutex session_mu_;
  std::unique_ptr<detail::SessionClient> session_client_;
  std::thread thread_;
};

}  // namespace rsp::m2m_device
