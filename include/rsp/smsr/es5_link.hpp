#pragma once
/// The SM-SR's ES5 side on its registry and service (SGP.02 §2.4.3 - §2.4.4):
///
///  - isdr_script(): the C-APDUs of each asynchronous ES4 function, from the
///    ISD-R command codec (rsp/m2m/isdr_commands.hpp), queued one row per
///    C-APDU (ServiceConfig::scripts).
///  - wake_up(): the SMS wake-up through es5::WakeUpSender, sent on the
///    link's own thread so an ES4 call never waits for the SMSC: to the
///    subscription address (MSISDN) of the enabled profile, secured with the
///    ISD-R's SCP80 key set that choose_scp80_key_set() names (AES first,
///    3DES where the EIS has only that; unsealed from the registry), the
///    counter reserved and stored in the registry before the SMS leaves,
///    the trigger naming this SM-SR's administration-session address and
///    the ISD-R's SCP81 PSK identity. A wake-up for an eUICC already waiting
///    for one is not sent twice.
///  - retry_wake_ups(): a wake-up that no administration session of its
///    eUICC followed (the SMS lost at the SMSC or on the way, the device out
///    of coverage, the SMSC refusing or unreachable) is sent again, a new
///    SCP80 packet with a new counter, `wake_up_retry_interval` after the
///    first, the interval doubling after each, at most `wake_up_retries`
///    times, and no more once the eUICC has no open operation (they expire
///    with their validity as before). At most one wake-up per eUICC is in
///    flight: until its session opens or its retry is due, another ask for
///    one sends nothing (the session takes every queued operation). The
///    schedule lives in the registry (stored before the SMS leaves: the
///    first try's with the operation itself, first_wake_up_due(); a retry's
///    by Registry::record_wake_up), so a restarted SM-SR continues it
///    (resume(): the wake-up a restart sends counts as the next try); each
///    wake-up tried is an audit line ("ES5.WakeUp"). The schedule ends when
///    a session of the eUICC takes an operation (in that operation's
///    start, one transaction).
///  - No wake-up while a session is open: an operation queued while an
///    administration session of its eUICC runs goes in that session (the
///    session asks next_script() after each answer); only when the session
///    ends without having asked again (session_ended()) is the SMS sent. A
///    session this link has heard nothing of for `session_idle_timeout`
///    counts as gone (a card that went silent): its wake-ups are sent then
///    (at the latest by retry_wake_ups()).
///  - psk(): the PSK-TLS key lookup of the administration session (runs on
///    the server's I/O thread): from memory, else one indexed read of the
///    registry, then kept.
///  - es5::ScriptSource over the registry's queue: an eUICC's oldest
///    operation with queued commands is one script (token "op-<id>"; the
///    operation becomes in-progress and its eUICC's wake-up schedule ends:
///    for an ES4 operation, in the transaction that ends it from the card's
///    answer, one write instead of two; written on its own only when the
///    answer is not usable or the session goes without one, so a kill -9
///    in between leaves it Accepted with its schedule, which a restart
///    resumes as a wake-up possibly lost). After the answer that ended the
///    operation its read found alone, with no wake_up() asked since (every
///    operation queued asks one), the session's next read is skipped: the
///    queue is empty (an operation another SM-SR instance on the same
///    database queues meanwhile gets that instance's wake-up, and a new
///    session). The R-APDUs end it: every status word
///    ok → Executed-Success (Service::complete applies it to the EIS);
///    an error status word → Failed, 8.1/3.8 (6A88: ISD-P unknown 8.3.1/3.9);
///    an AuditEIS answer updates the EIS (eis_audit.hpp), a malformed one
///    counts as no usable answer;
///    no usable answer (malformed script, script status other than ok) →
///    retried with a new wake-up, after `max_attempts` Failed 1.6/5.4. A
///    card that never connects back leaves the operation to expire.
///    One session per eUICC at a time is the session server's rule. A
///    script that enables or disables a profile is the session's last
///    (es5::Script::ends_session): the card's notification of that switch
///    comes in its next session, before any later script's answer, so the
///    EIS never goes back to an older enabled profile. The card comes back
///    by itself once attached again: until then the session counts as open
///    (an operation queued meanwhile waits for that session, woken for only
///    if the card stays silent for session_idle_timeout); after a switch
///    that failed, an operation queued behind it is woken for at once.
///  - es5::NotificationSink: the eUICC's notifications (SGP.02 §4.1.1.11:
///    profile change, fallback) recorded in the EIS (the ISD-P named is the
///    enabled one) with an audit line, and the MNOs whose profiles changed
///    state told by ES4 Handle...Notification, in one registry transaction.
///    A notification that changes nothing (the EIS shows already what it
///    reports, as after an operation completed from the card's answer) and
///    tells no MNO costs no transaction: its audit line is buffered as a
///    read's is (Registry::audit_later).
///
/// Nothing here logs a key, PSK or counter value.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rsp/es5/admin_session.hpp"
#include "rsp/es5/script_source.hpp"
#include "rsp/es5/wake_up.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smpp/sms_transport.hpp"
#include "rsp/smsr/registry.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

class Es3Service;
class Es7Service;

/// The C-APDUs of operation `op` on `eis` (a ScriptBuilder); empty for a
/// function that sends nothing to the eUICC or a profile without ISD-P AID.
std::vector<Bytes> isdr_script(const Operation& op, const m2m::Eis& eis);

struct Es5LinkConfig {
  std::shared_ptr<Registry> registry;  ///< required
  /// Where wake-ups go; null: none are sent (operations wait for a session
  /// the eUICC opens itself, or expire).
  smpp::SmsTransport* sms = nullptr;
  smpp::Address source;  ///< this SM-SR's address, the SMS originator
  /// The trigger's Host ('8A', "host:port") and URI ('8C'): where the eUICC
  /// opens its session (set_trigger_address once the listener is up).
  std::string trigger_host;
  std::string trigger_uri = "/gsma/adminagent";
  int max_attempts = 3;  ///< sessions without a usable answer before an operation fails
  /// Threads sending wake-ups. Each wake-up first stores its SCP80 counter
  /// durably (one disk flush); several threads let those commits share a
  /// flush (store/sqlite.hpp, group commit) instead of queueing one behind
  /// another. One eUICC is never woken by two threads at once.
  std::size_t wake_up_threads = 4;
  /// A wake-up without a session of its eUICC within this is sent again;
  /// the wait doubles after each retry.
  std::chrono::seconds wake_up_retry_interval{60};
  int wake_up_retries = 3;  ///< wake-ups sent again at most, after the first
  /// A session with no next_script() or completed() call for this long is
  /// taken as gone (as AdminSessionOptions::session_idle_timeout).
  std::chrono::milliseconds session_idle_timeout{30000};
  std::shared_ptr<const service::Clock> clock;  ///< default: the system clock
  std::function<void(const std::string&)> log;   ///< one line per event; may be unset
};

class Es5Link final : public es5::ScriptSource, public es5::NotificationSink {
 public:
  explicit Es5Link(Es5LinkConfig config);
  ~Es5Link() override;  ///< stops the wake-up threads (queued wake-ups are dropped)
  Es5Link(const Es5Link&) = delete;
  Es5Link& operator=(const Es5Link&) = delete;

  /// The service whose operations the card's answers complete (set before
  /// the session server starts; the service takes wake_up() as its hook).
  void attach(std::shared_ptr<Service> service);
  /// The ES3 side (es3_service.hpp): its SendData scripts go to their ISD-P
  /// and the answers to its CreateISDP and SendData end there.
  void attach_es3(std::shared_ptr<Es3Service> es3);
  /// The SM-SR change (es7_service.hpp): the answers to its operations end there.
  void attach_es7(std::shared_ptr<Es7Service> es7);
  void set_trigger_address(std::string host, std::string uri);

  /// Queues an SMS wake-up of `eid` (ServiceConfig::wake_up); while a
  /// session of `eid` is open, only notes that one was asked (see above).
  void wake_up(const std::string& eid);
  /// ServiceConfig::wake_up_due: when the wake-up that wake_up(eid) would
  /// send now is due again (its schedule's next_at, the first try), for the
  /// operation's transaction to store it; nullopt when it would send none
  /// (a wake-up of `eid` in flight, or its session open).
  std::optional<std::int64_t> first_wake_up_due(const std::string& eid) const;
  /// After a (re)start: a wake-up for every eUICC with an operation still
  /// open (its first wake-up or session may have been lost with the process;
  /// the operations themselves are durable). A stored wake-up schedule goes
  /// on: that wake-up is its next try (none when its retries are spent).
  /// Returns how many eUICCs have operations open.
  std::size_t resume();
  /// Queues the wake-ups whose retry is due at the clock's now (see above)
  /// and drops the schedules of eUICCs with no open operation; run
  /// periodically (`rsp smsr serve`'s sweeper). Returns how many were queued.
  std::size_t retry_wake_ups();
  /// The wake-up schedule of `eid` as this link holds it (nullopt: none).
  std::optional<WakeUpSchedule> wake_up_schedule(const std::string& eid) const;
  /// The administration session's PSK lookup (AdminSessionServer).
  std::optional<es5::PskBinding> psk(std::string_view identity);

  // es5::ScriptSource
  std::optional<es5::Script> next_script(const std::string& eid) override;
  void completed(const std::string& eid, const std::string& token,
                 const es5::Es5Result<std::vector<apdu::Response>>& outcome) override;
  void session_ended(const std::string& eid) override;
  // es5::NotificationSink
  void notification(const std::string& eid, const m2m::Notification& n) override;

  std::uint64_t wake_ups_sent() const;
  std::uint64_t wake_ups_failed() const;
  /// Asks that sent nothing: a wake-up of that eUICC was in flight.
  std::uint64_t wake_ups_in_flight() const;
  /// Blocks until no wake-up is queued or being sent, or `timeout` passed.
  bool wait_wake_ups(std::chrono::milliseconds timeout);

 private:
  void run_wake_ups();
  std::shared_ptr<Es3Service> es3_service() const;
  /// False: not sent, a wake-up of `eid` is in flight.
  es5::Es5Result<bool> send_wake_up(const std::string& eid);
  /// A session of `eid` is about to read its queue: it is open (a wake-up
  /// asked from now on waits for its end), and its wake-up schedule ends;
  /// true when there was one (in memory).
  bool session_reads_queue(const std::string& eid, bool& known_empty);
  /// `eid`'s session is open (and not silent past session_idle_timeout):
  /// notes a wake-up asked. Under mu_. A silent session is dropped, its
  /// unstarted operation (if any) left in `unstarted` for write_start().
  bool wake_up_waits_for_session(const std::string& eid, std::int64_t& unstarted);
  /// Writes the start of operation `id` (Registry::start_operation), which
  /// a session took without it written (OpenSession::unstarted); 0: nothing.
  void write_start(std::int64_t id);
  /// The card's answer to ES4 operation `op`'s script of `sent` commands: its end.
  /// True when it ended the operation (recorded).
  bool finish_answered(const Operation& op, std::size_t sent, const std::vector<apdu::Response>& r_apdus);
  /// No usable answer to operation `id`: another session, up to max_attempts.
  void no_usable_answer(const std::string& eid, std::int64_t id, const std::string& why);
  /// True when the end was recorded.
  bool finish(std::int64_t id, m2m::ExecutionStatus status, m2m::Code code, const EisAudit* audit = nullptr);
  bool finish(const Operation& op, m2m::ExecutionStatus status, m2m::Code code, const EisAudit* audit = nullptr);
  bool finish_with(std::int64_t id, const std::function<SmsrResult<void>(Service&)>& complete,
                   m2m::ExecutionStatus status);
  std::int64_t now() const;
  void log(const std::string& line) const;
  /// Whether log() writes anywhere: lines of the normal path are built only then.
  bool logging() const { return static_cast<bool>(config_.log); }

  Es5LinkConfig config_;
  std::shared_ptr<Service> service_;
  std::shared_ptr<Es3Service> es3_;
  std::shared_ptr<Es7Service> es7_;
  std::unique_ptr<es5::WakeUpSender> sender_;

  mutable std::mutex mu_;
  /// Two conditions, so that a signal wakes only a thread that can go on:
  /// the wake-up threads wait for work on queue_cv_ (one is woken per
  /// queued eUICC), wait_wake_ups() on idle_cv_ (woken once nothing is
  /// queued or being sent).
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::string> wake_queue_;
  std::set<std::string> waking_;  ///< queued or being sent
  /// Asked for again while being sent: queued once more when that ends.
  std::set<std::string> wake_again_;
  bool stopping_ = false;
  std::uint64_t sent_ = 0, failed_ = 0, in_flight_ = 0;
  /// The registry's wake-up schedules, by EID (loaded at construction).
  std::map<std::string, WakeUpSchedule, std::less<>> schedules_;
  /// The PSK bindings looked up so far, under a lock of their own: every
  /// handshake and every request of a session reads them, and the link's
  /// mu_ is taken by the wake-ups and the sessions' queue reads meanwhile.
  mutable std::mutex psk_mu_;
  std::map<std::string, es5::PskBinding, std::less<>> psk_cache_;
  /// Administration sessions open now (from their first next_script() to
  /// session_ended()), by EID.
  struct OpenSession {
    std::chrono::steady_clock::time_point last;  ///< its last next_script() or completed()
    bool asked = false;  ///< a wake-up was asked since its last next_script()
    /// The operation whose script it was sent last, as next_script() read
    /// it, and that script's command count: what completed() needs of it.
    std::optional<Operation> sent;
    std::size_t commands = 0;
    /// The ES4 operation sent to it whose start (start_operation: InProgress,
    /// the wake-up schedule dropped) is not written yet: the transaction
    /// that ends it from the card's answer writes it (Registry::defer_start),
    /// else it is written when that answer is not usable or the session
    /// goes without it (0: none).
    std::int64_t unstarted = 0;
    /// The queue as its last read found it held only the operation sent,
    /// which the card's answer has ended since: with no wake-up asked since
    /// (every operation queued asks one), the queue is empty and its next
    /// next_script() reads nothing.
    bool sole = false;
    bool drained = false;
    /// The script sent last ends the session (es5::Script::ends_session):
    /// when its read found more queued, the rest needs a wake-up of its own.
    bool ends = false;
    /// Its answer switched the enabled profile: the card comes back by
    /// itself with its notification once attached again, so the session is
    /// kept past session_ended() as if still open: a wake-up asked meanwhile
    /// waits for that session (sent only if the card stays silent for
    /// session_idle_timeout, as for any open session).
    bool reattach = false;
  };
  std::map<std::string, OpenSession, std::less<>> sessions_;
  std::vector<std::thread> threads_;
};

}  // namespace rsp::smsr
