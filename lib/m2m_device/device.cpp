// The simulated M2M device: SMS in, ENVELOPE to the card, sessions out.

#include "rsp/m2m_device/device.hpp"

#include <algorithm>

#include "admin_client.hpp"
#include "rsp/common/thread_name.hpp"
#include "rsp/ota/envelope.hpp"

namespace rsp::m2m_device {

namespace {

ota::Address to_ota(const smpp::Address& a) {
  ota::Address out;
  out.ton = static_cast<ota::Ton>(a.ton & 0x07);
  out.npi = static_cast<std::uint8_t>(a.npi & 0x0F);
  out.digits = a.digits;
  return out;
}

}  // namespace

M2mDevice::M2mDevice(euicc_m2m::M2mIsdR& isd_r, M2mDeviceOptions options)
    : isd_r_(isd_r),
      options_(std::move(options)),
      receiver_(isd_r_, to_ota(options_.smsr_address), options_.sms_reassembly),
      session_client_(std::make_unique<detail::SessionClient>()) {
  last_host_ = options_.default_host;
  last_uri_ = options_.default_uri;
  thread_ = std::thread([this] {
    set_thread_name("m2m-device");
    worker();
  });
}

M2mDevice::~M2mDevice() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    sms_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // A stop of its own: the confirmations the card holds in memory only are
  // written now, so that the restarted device does not send them again.
  if (!isd_r_.save_pending()) log("device: the card's confirmed notifications not saved");
}

void M2mDevice::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void M2mDevice::attach(smpp::SmsTransport& transport) {
  {
    std::lock_guard lock(mutex_);
    transport_ = &transport;
  }
  transport.set_inbound(inbound());
}

smpp::Inbound M2mDevice::inbound() {
  return smpp::Inbound{[this](const smpp::ShortMessage& m) { received(m); }, {}};
}

void M2mDevice::received(const smpp::ShortMessage& message) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    // A handset whose message store is full takes no more (TS 23.040's
    // memory capacity exceeded): the SM-SR's wake-up retries reach it
    // later. Bounds what a flood of short messages holds in memory.
    if (sms_.size() >= kSmsQueued) {
      ++sms_dropped_;
      return;
    }
    sms_.push_back(message);
  }
  cv_.notify_all();
}

euicc_m2m::SmsPpOutcome M2mDevice::on_short_message(const smpp::ShortMessage& message) {
  ota::SmsDeliver deliver;
  deliver.originator = to_ota(message.source);
  deliver.pid = message.protocol_id;
  deliver.dcs = message.data_coding;
  deliver.user_data = ota::binary_user_data(message.user_data, message.udhi);
  euicc_m2m::SmsPpOutcome outcome;
  auto envelope = ota::envelope_command(ota::SmsPpDownload{std::nullopt, std::move(deliver)});
  if (!envelope) {
    log("device: a short message that fits no ENVELOPE: " + envelope.error().to_string());
    outcome.envelope_response = apdu::Response{{}, 0x6A80};
  } else {
    outcome = receiver_.on_envelope(*envelope);
  }
  if (outcome.status && *outcome.status != crypto::scp80::Status::PorOk)
    log("device: secured packet refused, PoR status " + std::to_string(static_cast<int>(*outcome.status)));
  smpp::SmsTransport* transport = nullptr;
  {
    std::lock_guard lock(mutex_);
    transport = transport_;
  }
  if (outcome.por_submit && transport) {
    smpp::ShortMessage mo;
    mo.source = options_.msisdn;
    // No SM-SR address configured: the PoR goes back to the SMS's originator.
    mo.destination = options_.smsr_address.digits.empty() ? message.source : options_.smsr_address;
    mo.protocol_id = outcome.por_submit->pid;
    mo.data_coding = outcome.por_submit->dcs;
    mo.udhi = true;
    mo.user_data = outcome.por_submit->user_data.octets;
    if (auto sent = transport->submit(mo); !sent) log("device: PoR not sent: " + sent.error().message);
  }
  {
    std::lock_guard lock(mutex_);
    if (outcomes_.size() >= kOutcomesKept) outcomes_.pop_front();
    outcomes_.push_back(outcome);
    if (outcome.trigger) queue_.push_back(outcome.trigger);
  }
  if (outcome.trigger) cv_.notify_all();
  return outcome;
}

expected<SessionReport, DeviceError> M2mDevice::run_session(const ota::AdminSessionTrigger& trigger) {
  detail::SessionTarget target;
  {
    std::lock_guard lock(mutex_);
    if (trigger.host) last_host_ = *trigger.host;
    if (trigger.uri) last_uri_ = *trigger.uri;
    target.host = last_host_;
    target.uri = last_uri_;
  }
  target.agent_id = trigger.agent_id.value_or("//se-id/eid/" + to_hex(isd_r_.eid()));
  target.timeout = options_.http_timeout;
  target.max_exchanges = options_.max_exchanges;
  target.isdp = options_.isdp;
  std::unique_lock session_lock(session_mu_);
  auto report = detail::run_admin_session(isd_r_, target, *session_client_);
  session_lock.unlock();
  if (!report && report.error().kind == DeviceError::Kind::Connect) {
    std::lock_guard lock(mutex_);
    if (report.error().stage == DeviceError::Stage::Connect) ++connect_failures_;
    if (report.error().stage == DeviceError::Stage::Handshake) ++handshake_failures_;
  }
  if (!options_.log) {
    // No line to build: a session per wake-up, and most run with logging off.
  } else if (report) {
    log("device: session with " + target.host + " done, " + std::to_string(report->scripts) + " script(s)");
  } else {
    log("device: session with " + target.host + " failed: " + report.error().message);
  }
  return report;
}

void M2mDevice::notify_pending() {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::nullopt);
  }
  cv_.notify_all();
}

void M2mDevice::worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !sms_.empty() || !queue_.empty(); });
    if (stopping_) return;
    running_ = true;
    if (!sms_.empty()) {
      // Short messages first: a wake-up that arrived before the next queued
      // session began queues its trigger before it, where that session,
      // which reads the SM-SR's whole queue, serves it (drop_served).
      const smpp::ShortMessage message = std::move(sms_.front());
      sms_.pop_front();
      lock.unlock();
      on_short_message(message);
      lock.lock();
      running_ = false;
      cv_.notify_all();
      continue;
    }
    auto item = std::move(queue_.front());
    queue_.pop_front();
    // What was queued before this session began is what it serves too: the
    // SM-SR queued those commands before it sent their wake-up.
    const std::size_t queued_before = queue_.size();
    lock.unlock();
    const bool for_notifications = !item;
    auto report = run_session(item.value_or(ota::AdminSessionTrigger{}));
    // Notifications the session's commands raised go in one more session
    // (also after a notification session that ran commands, as a card
    // reports each switch once attached again). One that ran none raised
    // none: a notification the SM-SR left unconfirmed waits for the next.
    const bool more = report && (!for_notifications || report->scripts > 0) &&
                      !isd_r_.pending_notifications().empty();
    lock.lock();
    ++(report ? completed_ : failed_);
    if (report) drop_served(queued_before);
    if (more && !stopping_) queue_.push_front(std::nullopt);
    running_ = false;
    cv_.notify_all();
  }
}

void M2mDevice::drop_served(std::size_t queued_before) {
  // A session that succeeded read the SM-SR's whole queue and sent every
  // pending notification in its first POST: a session queued before it began
  // for the same host and URI (a notification session goes to the last ones)
  // would find nothing. One for another SM-SR stays.
  const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(std::min(queued_before, queue_.size()));
  const auto served_already = [this](const std::optional<ota::AdminSessionTrigger>& queued) {
    return !queued || (queued->host.value_or(last_host_) == last_host_ && queued->uri.value_or(last_uri_) == last_uri_);
  };
  queue_.erase(std::remove_if(queue_.begin(), end, served_already), end);
}

bool M2mDevice::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return queue_.empty() && sms_.empty() && !running_; });
}

std::size_t M2mDevice::sessions_completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

std::size_t M2mDevice::sessions_failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

std::size_t M2mDevice::sms_dropped() const {
  std::lock_guard lock(mutex_);
  return sms_dropped_;
}

std::size_t M2mDevice::connect_failures() const {
  std::lock_guard lock(mutex_);
  return connect_failures_;
}

std::size_t M2mDevice::handshake_failures() const {
  std::lock_guard lock(mutex_);
  return handshake_failures_;
}

std::vector<euicc_m2m::SmsPpOutcome> M2mDevice::outcomes() const {
  std::lock_guard lock(mutex_);
  return {outcomes_.begin(), outcomes_.end()};
}

}  // namespace rsp::m2m_device
