// The ES5 link: SMS wake-ups on their own thread, the PSK lookup, and the
// link's set-up (es5_link.hpp). The script queue and the notifications are
// in es5_scripts.cpp and es5_notifications.cpp.

#include "rsp/smsr/es5_link.hpp"

#include <algorithm>

#include "rsp/ota/trigger.hpp"
#include "rsp/common/thread_name.hpp"
#include "rsp/smsr/scp80_key_choice.hpp"

namespace rsp::smsr {

Es5Link::Es5Link(Es5LinkConfig config) : config_(std::move(config)) {
  if (!config_.clock) config_.clock = std::make_shared<service::SystemClock>();
  if (config_.sms) {
    auto registry = config_.registry;
    // TS 102 225 §5.1.1: the counter is stored before the SMS leaves.
    sender_ = std::make_unique<es5::WakeUpSender>(
        *config_.sms,
        [registry](const std::string& eid, std::uint8_t version) -> expected<std::uint64_t, std::string> {
          auto eis = registry->eis(eid);
          if (!eis) return unexpected(eis.error().message);
          std::uint64_t last = 0;
          if (*eis)
            for (const auto& k : (*eis)->isd_r.scp80_key_sets)
              if (k.version == version) last = k.counter;
          auto next = registry->next_scp80_counter(eid, version, last);
          if (!next) return unexpected(next.error().message);
          return *next;
        },
        es5::WakeUpOptions{config_.source, false});
  }
  // A restarted SM-SR continues the schedules its predecessor stored.
  if (auto stored = config_.registry->wake_up_schedules()) {
    for (auto& w : *stored) schedules_.emplace(w.eid, std::move(w));
  } else {
    log("ES5 wake-up schedules: " + stored.error().message);
  }
  const std::size_t threads = std::max<std::size_t>(config_.wake_up_threads, 1);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      set_thread_name("smsr-wake-up");
      run_wake_ups();
    });
}

Es5Link::~Es5Link() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  idle_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Es5Link::attach(std::shared_ptr<Service> service) {
  std::lock_guard lock(mu_);
  service_ = std::move(service);
}

void Es5Link::attach_es3(std::shared_ptr<Es3Service> es3) {
  std::lock_guard lock(mu_);
  es3_ = std::move(es3);
}

void Es5Link::attach_es7(std::shared_ptr<Es7Service> es7) {
  std::lock_guard lock(mu_);
  es7_ = std::move(es7);
}

void Es5Link::set_trigger_address(std::string host, std::string uri) {
  std::lock_guard lock(mu_);
  config_.trigger_host = std::move(host);
  config_.trigger_uri = std::move(uri);
}

std::int64_t Es5Link::now() const { return config_.clock->now().time_since_epoch().count(); }

void Es5Link::log(const std::string& line) const {
  if (config_.log) config_.log(line);
}

bool Es5Link::wake_up_waits_for_session(const std::string& eid, std::int64_t& unstarted) {
  auto it = sessions_.find(eid);
  if (it == sessions_.end()) return false;
  if (std::chrono::steady_clock::now() - it->second.last > config_.session_idle_timeout) {
    unstarted = it->second.unstarted;
    sessions_.erase(it);  // the card went silent: its session is over
    return false;
  }
  it->second.asked = true;
  return true;
}

void Es5Link::write_start(std::int64_t id) {
  if (id == 0) return;
  if (auto started = config_.registry->start_operation(id); !started)
    log("ES5 operation " + std::to_string(id) + ": " + started.error().message);
}

void Es5Link::wake_up(const std::string& eid) {
  std::int64_t unstarted = 0;
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    // Its open session takes the queue at its next next_script(), or the
    // wake-up is sent when it ends without one (session_ended()). Noted
    // also without an SMS transport: the session reads the queue again.
    if (wake_up_waits_for_session(eid, unstarted)) return;
    if (!sender_) {
      // nothing to send
    } else if (!waking_.insert(eid).second) {
      // Queued: that SMS will do. Being sent: the session it opens may
      // already have taken the queue without this operation's scripts (the
      // operation committed after), so one more follows it.
      if (std::find(wake_queue_.begin(), wake_queue_.end(), eid) == wake_queue_.end()) wake_again_.insert(eid);
    } else {
      wake_queue_.push_back(eid);
      queued = true;
    }
  }
  write_start(unstarted);
  if (queued) queue_cv_.notify_one();  // one eUICC: one thread sends it
}

std::size_t Es5Link::resume() {
  auto eids = config_.registry->eids_with_open_operations();
  if (!eids) {
    log("ES5 resume: " + eids.error().message);
    return 0;
  }
  const std::int64_t t = now();
  for (const auto& eid : *eids) {
    {
      std::lock_guard lock(mu_);
      auto it = schedules_.find(eid);
      // A stored schedule goes on: its wake-up may have been lost with the
      // process, so its next try is due now (counted against its retries);
      // one whose retries are spent sends nothing more.
      if (it != schedules_.end()) {
        if (it->second.next_at == 0) continue;
        it->second.next_at = std::min(it->second.next_at, t);
      }
    }
    wake_up(eid);
  }
  if (!eids->empty()) log("ES5 resumed " + std::to_string(eids->size()) + " eUICC(s) with operations in flight");
  return eids->size();
}

std::size_t Es5Link::retry_wake_ups() {
  const std::int64_t t = now();
  std::vector<std::string> due, idle, silent;
  std::vector<std::int64_t> unstarted;
  {
    std::lock_guard lock(mu_);
    // Sessions gone silent (no session_ended() heard) with a wake-up asked.
    const auto since = std::chrono::steady_clock::now() - config_.session_idle_timeout;
    std::erase_if(sessions_, [&](const auto& s) {
      if (s.second.last >= since) return false;
      if (s.second.asked) silent.push_back(s.first);
      if (s.second.unstarted != 0) unstarted.push_back(s.second.unstarted);
      return true;
    });
    for (const auto& [eid, w] : schedules_)
      if (w.next_at != 0 && w.next_at <= t) due.push_back(eid);
      else if (w.next_at == 0) idle.push_back(eid);
  }
  for (const auto id : unstarted) write_start(id);
  std::size_t queued = 0;
  for (const auto& eid : silent) {
    wake_up(eid);
    ++queued;
  }
  // The validity bound: an eUICC whose operations all ended (expired by the
  // sweeper, or completed through a session of its own) gets no more.
  for (auto* list : {&due, &idle}) {
    for (const auto& eid : *list) {
      auto open = config_.registry->open_operations(eid);
      if (!open) {
        log("ES5 wake-up retry of " + eid + ": " + open.error().message);
        continue;
      }
      if (open->empty()) {
        {
          std::lock_guard lock(mu_);
          schedules_.erase(eid);
        }
        if (auto c = config_.registry->clear_wake_up(eid); !c) log("ES5 wake-up schedule of " + eid + ": " + c.error().message);
        continue;
      }
      if (list == &due) {
        wake_up(eid);
        ++queued;
      }
    }
  }
  return queued;
}

std::optional<WakeUpSchedule> Es5Link::wake_up_schedule(const std::string& eid) const {
  std::lock_guard lock(mu_);
  auto it = schedules_.find(eid);
  if (it == schedules_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::int64_t> Es5Link::first_wake_up_due(const std::string& eid) const {
  const std::int64_t t = now();
  std::lock_guard lock(mu_);
  if (!sender_ || stopping_) return std::nullopt;
  if (auto it = sessions_.find(eid);
      it != sessions_.end() && std::chrono::steady_clock::now() - it->second.last <= config_.session_idle_timeout)
    return std::nullopt;  // its session takes the operation: no SMS
  if (auto it = schedules_.find(eid); it != schedules_.end() && it->second.next_at != 0)
    return std::nullopt;  // a wake-up in flight (or its retry): not a first try
  // As send_wake_up() schedules a first try.
  if (config_.wake_up_retries < 1) return 0;
  return t + std::max<std::int64_t>(config_.wake_up_retry_interval.count(), 1);
}

bool Es5Link::session_reads_queue(const std::string& eid, bool& known_empty) {
  std::lock_guard lock(mu_);
  auto& s = sessions_[eid];
  s.last = std::chrono::steady_clock::now();
  known_empty = s.drained && !s.asked;
  s.drained = false;
  s.sole = false;
  s.asked = false;  // the read that follows sees every operation committed before this
  return schedules_.erase(eid) > 0;
}

void Es5Link::session_ended(const std::string& eid) {
  bool asked = false;
  std::int64_t unstarted = 0;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(eid);
    if (it == sessions_.end()) return;
    auto& s = it->second;
    // Asked after the session's last read of the queue: that operation is
    // still queued. So is the rest of a queue read with more behind a
    // script that ended the session.
    asked = s.asked || (s.ends && !s.sole);
    unstarted = s.unstarted;
    if (s.reattach) {
      // The card switched profiles and comes back with its notification:
      // until then (or until it is silent past the timeout) its session
      // counts as open, and what was asked waits for it.
      s.asked = asked;
      s.last = std::chrono::steady_clock::now();
      s.unstarted = 0;
      s.sent.reset();
      s.ends = s.reattach = false;
      asked = false;
    } else {
      sessions_.erase(it);
    }
  }
  // Its operation went without an answer: its start is written now.
  write_start(unstarted);
  if (asked) wake_up(eid);
}

void Es5Link::run_wake_ups() {
  std::unique_lock lock(mu_);
  while (true) {
    queue_cv_.wait(lock, [this] { return stopping_ || !wake_queue_.empty(); });
    if (stopping_) return;
    const std::string eid = wake_queue_.front();
    wake_queue_.pop_front();
    lock.unlock();
    auto sent = send_wake_up(eid);
    if (!sent) log("ES5 wake-up of " + eid + " not sent: " + sent.error().to_string());
    const bool in_flight = sent && !*sent;
    lock.lock();
    if (wake_again_.erase(eid) > 0 && !stopping_) {
      wake_queue_.push_back(eid);  // still in waking_; this thread takes it next, or another that is awake
    } else {
      waking_.erase(eid);
    }
    (in_flight ? in_flight_ : sent ? sent_ : failed_)++;
    // Only wait_wake_ups() waits for this, and only for the end of all:
    // the other wake-up threads are not woken for nothing (issue 19).
    if (waking_.empty()) idle_cv_.notify_all();
  }
}

es5::Es5Result<bool> Es5Link::send_wake_up(const std::string& eid) {
  const std::int64_t t = now();
  WakeUpSchedule schedule{eid, 1, 0};
  {
    std::int64_t unstarted = 0;
    std::unique_lock lock(mu_);
    // A session opened since it was asked: that session takes the queue.
    if (wake_up_waits_for_session(eid, unstarted)) return false;
    if (auto it = schedules_.find(eid); it != schedules_.end() && it->second.next_at != 0) {
      // One wake-up in flight per eUICC: the session it opens takes every
      // queued operation; when its retry is due, this is that retry.
      if (it->second.next_at > t) return false;
      schedule.tries = it->second.tries + 1;
    }
    lock.unlock();
    write_start(unstarted);  // before its schedule is read and stored below
  }
  // The EIS without its keys (cached), and the wake-up's keys kept beside
  // it once opened (Registry::wake_up_keys): no sealed keys opened per SMS.
  auto eis = config_.registry->eis(eid, false);
  if (!eis) return es5::es5_fail(es5::Es5ErrorCode::InvalidArgument, "registry: " + eis.error().message);
  if (!*eis) return es5::es5_fail(es5::Es5ErrorCode::InvalidArgument, "unknown EID");
  const m2m::Eis& e = **eis;
  es5::WakeUpTarget target;
  target.eid = eid;
  // SGP.02 §2.4.3: the SMS goes to the subscription of the enabled profile.
  for (const auto& p : e.profiles)
    if (p.state == m2m::ProfileState::Enabled) target.msisdn = smpp::Address{p.subscription_address.msisdn, 1, 1};
  auto wake_up_keys = config_.registry->wake_up_keys(eid);
  if (!wake_up_keys)
    return es5::es5_fail(es5::Es5ErrorCode::InvalidArgument, "registry: " + wake_up_keys.error().message);
  if (!*wake_up_keys)
    return es5::es5_fail(es5::Es5ErrorCode::InvalidArgument, "the ISD-R has no usable SCP80 key set");
  const m2m::Scp80KeySet* keys = &(*wake_up_keys)->key_set;
  if (!(*wake_up_keys)->has_psk)
    return es5::es5_fail(es5::Es5ErrorCode::InvalidArgument, "the ISD-R has no SCP81 PSK");
  target.key_version = static_cast<std::uint8_t>(keys->version);
  target.keys = crypto::scp80::Keys(keys->kic, keys->kid);
  target.triple_des = keys->algorithm == m2m::Scp80KeySet::Algorithm::TripleDes;
  // The counter the operation reserved with itself, else the next one
  // stored now (TS 102 225 §5.1.1: stored before the SMS leaves); above the
  // EIS's own counter for the set, from the EIS read here.
  if (auto reserved = config_.registry->take_reserved_counter(eid, keys->version)) {
    target.counter = *reserved;
  } else {
    auto next = config_.registry->next_scp80_counter(eid, keys->version, keys->counter);
    if (!next) return es5::es5_fail(es5::Es5ErrorCode::Counter, "counter for " + eid + ": " + next.error().message);
    target.counter = *next;
  }
  ota::AdminSessionTrigger trigger;
  {
    std::lock_guard lock(mu_);
    trigger.host = config_.trigger_host;
    trigger.uri = config_.trigger_uri;
  }
  // GP Amendment B: the PSK identity the card opens the session with (key
  // version / identifier 1, as the simulated card is keyed).
  const Bytes& identity = (*wake_up_keys)->psk_identity;
  trigger.security = ota::TriggerSecurity{std::string(identity.begin(), identity.end()), 1, 1};
  trigger.agent_id = "//se-id/eid/" + eid;
  if (target.msisdn.digits.empty()) return es5::es5_fail(es5::Es5ErrorCode::InvalidArgument, "no MSISDN for " + eid);
  // The schedule is stored before the SMS leaves (as the counter is): a
  // refused submission counts as a try, and a restart continues from it.
  // A first try's was stored with its operation (first_wake_up_due()):
  // read back instead of a transaction of its own.
  const int retries = std::max(config_.wake_up_retries, 0);
  std::optional<WakeUpSchedule> stored;
  if (schedule.tries == 1) {
    if (auto row = config_.registry->stored_wake_up(eid); row && *row && (*row)->tries == 1 &&
                                                          ((*row)->next_at == 0 || (*row)->next_at > t))
      stored = **row;
  }
  if (stored) {
    schedule.next_at = stored->next_at;
  } else {
    if (schedule.tries <= retries) {
      const auto wait = config_.wake_up_retry_interval.count() << std::min(schedule.tries - 1, 16);
      schedule.next_at = t + std::max<std::int64_t>(wait, 1);
    }
    if (auto recorded = config_.registry->record_wake_up(schedule); !recorded)
      return es5::es5_fail(es5::Es5ErrorCode::Counter, "wake-up schedule: " + recorded.error().message);
  }
  {
    std::lock_guard lock(mu_);
    schedules_[eid] = schedule;
  }
  const std::string attempt = "try " + std::to_string(schedule.tries) + " of " + std::to_string(retries + 1);
  auto ids = sender_->send_trigger(target, trigger);
  config_.registry->audit_later(AuditEntry{t, "smsr", "ES5.WakeUp", eid, "",
                                           ids ? "sent, " + attempt + " (" + std::to_string(ids->size()) + " SMS)"
                                               : "not sent, " + attempt + ": " + ids.error().message});
  if (!ids) return unexpected(ids.error());
  if (logging()) log("ES5 wake-up of " + eid + " sent (" + std::to_string(ids->size()) + " SMS, " + attempt + ")");
  return true;
}

std::uint64_t Es5Link::wake_ups_sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

std::uint64_t Es5Link::wake_ups_in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

std::uint64_t Es5Link::wake_ups_failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

bool Es5Link::wait_wake_ups(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return waking_.empty(); });
}

std::optional<es5::PskBinding> Es5Link::psk(std::string_view identity) {
  {
    std::lock_guard lock(psk_mu_);
    if (auto it = psk_cache_.find(identity); it != psk_cache_.end()) return it->second;
  }
  const Bytes id(identity.begin(), identity.end());
  auto eid = config_.registry->eid_of_psk_identity(id);
  if (!eid) {
    log("ES5 PSK lookup: " + eid.error().message);
    return std::nullopt;
  }
  if (!*eid) return std::nullopt;
  auto eis = config_.registry->eis(**eid);
  if (!eis || !*eis || !(*eis)->isd_r.scp81_psk || (*eis)->isd_r.scp81_psk->identity != id) return std::nullopt;
  es5::PskBinding binding{**eid, (*eis)->isd_r.scp81_psk->key};
  std::lock_guard lock(psk_mu_);
  psk_cache_.emplace(std::string(identity), binding);
  return binding;
}

}  // namespace rsp::smsr
