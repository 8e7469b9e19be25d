#pragma once
/// The SM-SR's registry (schema component "smsr"; SQLite or PostgreSQL
/// through rsp/store): the EIS of every registered eUICC with its ISD-Ps, the
/// audit trail, the ES4 operations and a durable per-eUICC queue of the
/// command scripts an operation sends to the card.
///
/// The ISD-R's keys (SCP80 key sets, SCP81 PSK) are sealed under the
/// key-encryption key (rsp/service/package_envelope.hpp) bound to the EID:
/// the database alone reveals none, and a sealed blob moved to another
/// eUICC's row does not open. The rest of the EIS is stored in clear.
///
/// Operations (SGP.02 §3: ES4 functions are answered at once and completed
/// when the eUICC has answered): Accepted when made, InProgress once the ES5
/// session took its commands, then Completed, Failed or Expired. The queue
/// holds each operation's scripts in order; the ES5 side takes them one
/// eUICC at a time and they go with the operation when it ends.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/service/package_envelope.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smsr/error.hpp"
#include "rsp/store/database.hpp"
#include "rsp/store/migrate.hpp"

namespace rsp::crypto {
class Random;
}

namespace rsp::smsr {

inline constexpr std::string_view kSchemaComponent = "smsr";
std::span<const store::Migration> registry_migrations();

enum class OperationState { Accepted, InProgress, Completed, Failed, Expired };
/// "accepted", "in-progress", "completed", "failed", "expired".
std::string_view operation_state_name(OperationState s);
bool is_final(OperationState s);

struct Operation {
  std::int64_t id = 0;
  std::string function;  ///< "ES4.EnableProfile"
  std::string eid;
  std::string iccid;     ///< the target profile; empty for a function on the eUICC (AuditEIS)
  std::string caller;    ///< the MNO
  OperationState state = OperationState::Accepted;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;  ///< end of the validity period (seconds since the epoch)
  std::optional<std::int64_t> finished_at;
  /// When finished: SGP.02 §5.1.6.1 status name and, unless a success, its codes.
  std::string status;
  std::string subject_code;
  std::string reason_code;
  /// What the operation changes in the EIS once the eUICC confirms it (JSON
  /// of the function's own arguments, e.g. {"fallbackAttribute": true}).
  std::string arguments;
};

struct AuditEntry {
  std::int64_t at = 0;
  std::string caller;
  std::string function;
  std::string eid;
  std::string isdp_aid;  ///< hex, empty when none
  std::string result;    ///< "Executed-Success", "accepted op 12", "Failed 8.2.2/3.8", ...
};

/// What an operation reserves for its SMS wake-up (Registry::create_operation):
/// the SCP80 key set the wake-up will use and that set's counter in the EIS.
struct CounterReservation {
  int key_version = 0;
  std::uint64_t last_used = 0;
  /// When set: the wake-up's schedule (its first try, WakeUpSchedule::next_at
  /// this), stored with the operation unless the eUICC has one stored
  /// already; the wake-up then reads it back (stored_wake_up()) instead of
  /// storing it in a transaction of its own.
  std::optional<std::int64_t> wake_up_next_at;
};

struct QueuedScript {
  std::int64_t id = 0;
  std::int64_t operation_id = 0;
  std::string eid;
  Bytes script;  ///< C-APDUs in the form the ES5 session sends them
};

/// The oldest operation of an eUICC with queued scripts, and those scripts
/// in order (Registry::next_queued).
struct QueuedOperation {
  Operation operation;
  std::vector<Bytes> scripts;
  bool more = false;  ///< another operation of the eUICC has scripts queued too
};

/// An eUICC's SMS wake-up schedule (Es5Link): the wake-ups tried since its
/// last administration session opened, and when the next is due unless one
/// opens first.
struct WakeUpSchedule {
  std::string eid;
  int tries = 0;              ///< wake-ups sent or refused by the SMSC since the last session
  std::int64_t next_at = 0;   ///< seconds since the epoch; 0: no more (the retries are spent)
  bool operator==(const WakeUpSchedule&) const = default;
};

/// The outbox (rsp/service/sql_outbox.hpp) of the MNO callbacks: operation
/// results and ES4 Handle...Notification calls, one lane per MNO.
inline constexpr std::string_view kCallbackOutbox = "smsr.es4";

struct RegistryOptions {
  std::shared_ptr<const service::KeyEncryptionKey> kek;  ///< required
  crypto::Random* rng = nullptr;                          ///< default: the system CSPRNG
  std::shared_ptr<const service::Clock> clock;            ///< the outbox's clock; default: the system clock
  /// An MNO's callback URL as configured now, asked when a callback is sent;
  /// unset or empty: that MNO has none (the entry waits, retried).
  std::function<std::string(const std::string& mno)> callback_url;
  /// A second connection to the same database for the reads made outside a
  /// transaction (GetEIS, the ES5 side's lookups); unset: `db` serves them.
  /// With SQLite in WAL mode a reader on its own connection sees every
  /// committed change and never waits behind the writer's transaction or its
  /// disk flush; it must not be an in-memory database (each connection would
  /// see its own).
  std::shared_ptr<store::Database> reader = nullptr;
  /// Keep the EIS read last (parsed, without its keys) per eUICC, for up to
  /// this many eUICCs (a full cache drops the one used longest ago); a change
  /// this registry commits (apply()) updates it in place, any other change
  /// drops it. Only for a
  /// database no other process writes (SQLite as `rsp smsr serve` opens it):
  /// a change another SM-SR instance makes is not seen here; and with it,
  /// put_profile and delete_profile run in no transaction of the caller's
  /// (theirs commits before they drop the cached EIS). 0: no cache.
  std::size_t eis_cache = 0;
};

/// One state change of an eUICC, written in one transaction: the operation
/// it ends (if any), the ISD-P records it changes or removes, the MNO
/// callbacks it causes and its audit lines. A callback is thus queued if and
/// only if the change is stored.
struct Change {
  std::int64_t operation_id = 0;  ///< 0: no operation ends (e.g. a notification of the eUICC)
  OperationState state = OperationState::Completed;
  std::string status;  ///< SGP.02 §5.1.6.1 status name
  std::string subject_code, reason_code;
  std::vector<m2m::ProfileInfo> put;  ///< replaced, matched by ICCID
  std::vector<m2m::ProfileInfo> added;  ///< new ISD-P records (ES3 CreateISDP)
  std::vector<std::string> deleted;   ///< ICCIDs
  /// The EIS's remainingMemory as the eUICC reported it (AuditEIS), if it did.
  std::optional<std::int64_t> remaining_memory;
  std::vector<service::OutboxMessage> callbacks;
  std::vector<AuditEntry> audit;
  /// SM-SR change (es7_service.hpp): the eUICC is another SM-SR's now. Its
  /// EIS, ISD-P records, PSK index, SCP80 counters and queued commands go;
  /// its operations and audit trail stay.
  bool handed_over = false;
  /// The sequence number of the eUICC's notification this change applies
  /// (es5_notifications.cpp): stored with it, in the same transaction, as
  /// the last one applied unless a later one is stored already
  /// (Registry::notification_seq).
  std::optional<std::uint32_t> notification_seq;
};

/// The audit trail of `eid` read straight from an SM-SR registry's database,
/// without opening the registry (no key-encryption key, no migration, no
/// writer): what `rsp smsr audit` shows, also while `rsp smsr serve` runs on
/// the same database. Lines that serving registry still buffers (at most a
/// second old, see Registry::audit_later) are not there yet. Oldest first.
SmsrResult<std::vector<AuditEntry>> read_audit_trail(store::Database& db, std::string_view eid);

class Registry {
 public:
  /// Migrates the schema and keeps `db`.
  static SmsrResult<std::unique_ptr<Registry>> open(std::shared_ptr<store::Database> db, RegistryOptions options);

  /// ES1 RegisterEIS: stores `eis`; a registered EID is refused (kEidInUse),
  /// as is an ICCID another eUICC holds (kIccidInUse) or an SCP81 PSK
  /// identity another eUICC's ISD-R has (kPskIdentityInUse). `callbacks`
  /// are queued on the outbox in the same transaction (the notifications of
  /// an SM-SR change, es7_service.hpp).
  SmsrResult<void> register_eis(const m2m::Eis& eis, std::int64_t now,
                                std::span<const service::OutboxMessage> callbacks = {});
  ~Registry();  ///< stops the audit writer and writes the audit lines still buffered

  /// The whole EIS with its keys; nullopt for an unknown EID. Without
  /// `with_keys` the sealed keys are not opened (the ISD-R has none).
  SmsrResult<std::optional<m2m::Eis>> eis(std::string_view eid, bool with_keys = true);
  /// Of the SCP80 key set an SMS wake-up of `eid` would use
  /// (choose_scp80_key_set): its version and last counter, never a key.
  struct WakeUpKeySet {
    int version = 0;
    std::uint64_t counter = 0;
  };
  /// That key set of `eid`, nullopt when it has none usable (or the EID is
  /// unknown). Kept with the cached EIS: the sealed keys are opened when it is
  /// not there, not on every call (the ES4 accept path).
  SmsrResult<std::optional<WakeUpKeySet>> wake_up_key_set(std::string_view eid);
  /// What an SMS wake-up of `eid` secures its packet with: the SCP80 key set
  /// it uses (choose_scp80_key_set, its keys included) and the ISD-R's SCP81
  /// PSK identity (never the PSK itself), both wiped when dropped.
  struct WakeUpKeys {
    m2m::Scp80KeySet key_set;
    Bytes psk_identity;
    bool has_psk = false;  ///< the ISD-R has an SCP81 PSK
    WakeUpKeys() = default;
    WakeUpKeys(const WakeUpKeys&) = delete;
    WakeUpKeys& operator=(const WakeUpKeys&) = delete;
    ~WakeUpKeys();
  };
  /// Those of `eid`; nullptr when the EID is unknown or its ISD-R has no
  /// usable SCP80 key set. Kept beside the cached EIS (not in it: the cached
  /// EIS never holds a key) once opened, by this call or by
  /// wake_up_key_set(), so a wake-up opens no sealed keys of an eUICC seen
  /// already, as the ES5 link keeps the SCP81 PSKs it looked up; dropped with
  /// the cached EIS (a new registration, a hand-over, the cache full).
  SmsrResult<std::shared_ptr<const WakeUpKeys>> wake_up_keys(std::string_view eid);
  /// The EID whose ISD-R has the SCP81 PSK identity `identity` (an indexed
  /// read, for the PSK-TLS handshake); nullopt when none, an error when
  /// several eUICCs were registered with it (none can be told apart).
  SmsrResult<std::optional<std::string>> eid_of_psk_identity(ByteView identity);
  /// Reserves the next SCP80 counter of (eid, key version) and stores it
  /// before returning (ETSI TS 102 225 §5.1.1: a counter is never used
  /// twice): one above the highest of the stored value and `last_used`
  /// (the EIS's counter at registration).
  SmsrResult<std::uint64_t> next_scp80_counter(std::string_view eid, int key_version, std::uint64_t last_used);
  /// The counter reserved for (eid, key version) with an operation
  /// (create_operation's `counter`) and not yet taken, when it is still the
  /// highest this registry has given out for that key set, so a wake-up
  /// never sends one below a counter sent already; each is taken once.
  /// nullopt: the wake-up asks next_scp80_counter() instead.
  std::optional<std::uint64_t> take_reserved_counter(std::string_view eid, int key_version);
  /// Replaces one ISD-P's record (matched by ICCID) of a registered eUICC.
  SmsrResult<void> put_profile(std::string_view eid, const m2m::ProfileInfo& profile);
  /// Removes one ISD-P's record.
  SmsrResult<void> delete_profile(std::string_view eid, std::string_view iccid);
  /// True when `mno` has a profile on `eid` (what lets it read that EIS).
  SmsrResult<bool> mno_has_profile_on(std::string_view eid, std::string_view mno);
  std::int64_t eis_count();

  SmsrResult<void> audit(const AuditEntry& entry);
  /// Buffers an audit line, written with the next batch (flush_audit(),
  /// audit_trail() or the registry's end, or by the registry's audit writer
  /// thread once the buffer is full or a second has passed): for reads,
  /// whose line must not cost a write transaction per call, nor make the
  /// call that fills the buffer wait for its disk flush.
  ///
  /// With `notification_seq`: the line is that of a notification of
  /// `entry.eid` that changed nothing (its EIS shows already what the card
  /// says); its sequence number counts as applied at once
  /// (notification_seq()) and is stored with the batch, unless a later one
  /// is stored already. A crash before the batch loses only that: the
  /// stored number is then an earlier one of the same card, never one past
  /// what the EIS shows.
  void audit_later(AuditEntry entry, std::optional<std::uint32_t> notification_seq = std::nullopt);
  SmsrResult<void> flush_audit();
  /// The audit trail of `eid` (buffered lines written first).
  SmsrResult<std::vector<AuditEntry>> audit_trail(std::string_view eid);

  /// Stores `op` (its id is assigned) and its scripts, in order, in one
  /// transaction; returns the id. With `accepted`, that call's audit line
  /// commits in the same transaction, its result "accepted as operation
  /// <id>" (whatever `accepted->result` says): one disk flush, not two.
  /// With `counter`, the next SCP80 counter of the eUICC's key set (as
  /// next_scp80_counter() gives it) is stored in the same transaction and
  /// kept for the operation's wake-up (take_reserved_counter()), and so is
  /// its wake-up schedule (CounterReservation::wake_up_next_at): two
  /// transactions less per operation.
  SmsrResult<std::int64_t> create_operation(const Operation& op, std::span<const Bytes> scripts,
                                            const AuditEntry* accepted = nullptr,
                                            const CounterReservation* counter = nullptr);
  SmsrResult<std::optional<Operation>> operation(std::int64_t id);
  /// Operations of `eid` not yet final, oldest first.
  SmsrResult<std::vector<Operation>> open_operations(std::string_view eid);
  /// The eUICCs with an operation not yet final (for the wake-ups a restart
  /// sends again), in EID order.
  SmsrResult<std::vector<std::string>> eids_with_open_operations();
  /// Queued scripts of `eid`, in order.
  SmsrResult<std::vector<QueuedScript>> queued_scripts(std::string_view eid);
  /// The oldest operation of `eid` with scripts queued, with its scripts
  /// (one read); nullopt when none is queued.
  SmsrResult<std::optional<QueuedOperation>> next_queued(std::string_view eid);
  /// Marks an Accepted operation InProgress (its ES5 session began) and
  /// drops its eUICC's wake-up schedule (clear_wake_up), in one transaction.
  /// Without a disk flush of its own: durable with the next flushed commit (a
  /// machine crash before it leaves the operation Accepted, which resumes
  /// the same way). True when it was Accepted.
  SmsrResult<bool> start_operation(std::int64_t id);
  /// Operation `id`'s script went to its eUICC with its start not written
  /// (start_operation): until take_deferred_start(id), the transaction of
  /// apply() that ends it also drops its eUICC's wake-up schedule, as
  /// start_operation would have, and the operation goes from Accepted to
  /// its end in that one transaction (in memory only; the ES5 side marks
  /// it around the end it applies).
  void defer_start(std::int64_t id);
  /// Ends defer_start(id): true when no apply() has ended operation `id`
  /// since (its start is for the caller to write).
  bool take_deferred_start(std::int64_t id);
  /// Ends an open operation with `state` (Completed/Failed/Expired) and its
  /// status and codes, dropping its queued scripts; false when it was already final.
  SmsrResult<bool> finish_operation(std::int64_t id, OperationState state, std::string_view status,
                                    m2m::Code code, std::int64_t now);
  /// Every open operation whose validity ended at `now` becomes Expired
  /// (SGP.02 §5.1.6.1), its scripts dropped, with the callbacks `callbacks`
  /// makes for it queued in the same transaction; returns those operations.
  using ExpiryCallbacks = std::function<std::vector<service::OutboxMessage>(const Operation&)>;
  SmsrResult<std::vector<Operation>> expire_operations(std::int64_t now, const ExpiryCallbacks& callbacks = {});
  /// The wake-up schedule of `s.eid`, stored (without a disk flush of its
  /// own, durable with the next flushed commit) before that wake-up is sent.
  SmsrResult<void> record_wake_up(const WakeUpSchedule& s);
  /// Drops the schedule of `eid` (its session opened, or nothing is open).
  SmsrResult<void> clear_wake_up(std::string_view eid);
  /// Every stored schedule, in EID order (read by a restarted SM-SR).
  SmsrResult<std::vector<WakeUpSchedule>> wake_up_schedules();
  /// The stored schedule of `eid` (a read on the reader connection).
  SmsrResult<std::optional<WakeUpSchedule>> stored_wake_up(std::string_view eid);
  /// The next step of open operation `id` (a step whose script needs the
  /// card's answer to the one before: the SM-SR change's key establishment,
  /// es7_service.hpp): its queued scripts replaced with `scripts` and its
  /// arguments with `arguments`, in one transaction; the operation stays
  /// open. False when it was final already.
  SmsrResult<bool> continue_operation(std::int64_t id, std::span<const Bytes> scripts, std::string_view arguments);
  /// Counts one more failed delivery of operation `id`'s scripts; returns the count.
  SmsrResult<int> count_attempt(std::int64_t id);
  /// Writes `change` for `eid` in one transaction. False (nothing written)
  /// when its operation was final already.
  SmsrResult<bool> apply(std::string_view eid, const Change& change, std::int64_t now);
  /// The sequence number (notification_sequence.hpp) of the last
  /// notification of `eid` applied to its EIS (Change::notification_seq,
  /// audit_later()); nullopt when none was since it was registered (a new
  /// registration, also the one that takes an eUICC over from another
  /// SM-SR, starts without). Kept with the cached EIS: no read when it is
  /// there.
  SmsrResult<std::optional<std::uint32_t>> notification_seq(std::string_view eid);

  /// The MNO callbacks' outbox (kCallbackOutbox) on this registry's database.
  const std::shared_ptr<service::SqlOutbox>& outbox() const { return outbox_; }

  store::Database& database() { return *db_; }
  /// The connection the reads outside a transaction use (RegistryOptions::reader).
  store::Database& reader() { return options_.reader ? *options_.reader : *db_; }

 private:
  Registry(std::shared_ptr<store::Database> db, RegistryOptions options)
      : db_(std::move(db)), options_(std::move(options)) {}
  crypto::Random& rng();
  /// Fills the PSK identity index for EIS stored before it existed.
  SmsrResult<void> index_psk_identities();
  std::shared_ptr<store::Database> db_;
  RegistryOptions options_;
  std::shared_ptr<service::SqlOutbox> outbox_;
  /// Stores the next counter of (eid, key version) in the open transaction.
  SmsrResult<std::uint64_t> store_next_counter(std::string_view eid, int key_version, std::uint64_t last_used);
  /// Notes a counter stored for (eid, key version); `reserved`: not sent yet.
  void note_counter(std::string_view eid, int key_version, std::uint64_t value, bool reserved);
  struct NotedCounter {
    std::uint64_t highest = 0;  ///< the highest counter given out by this registry
    bool reserved = false;      ///< `highest` is a reservation not taken yet
    std::chrono::steady_clock::time_point at{};
  };
  std::mutex starts_mu_;
  std::vector<std::int64_t> deferred_starts_;  ///< defer_start(), a few at a time
  std::mutex counters_mu_;
  std::map<std::string, NotedCounter, std::less<>> counters_;  ///< by "<eid>/<key version>"
  /// The audit writer thread: writes the buffered lines in batches.
  void write_audit_lines();
  /// The EIS cache (RegistryOptions::eis_cache): the keyless EIS by EID.
  /// A read fills it only when that EIS was not dropped meanwhile (the
  /// epoch of the last drop in its slot of `eis_dropped_at_` not past the
  /// epoch the read began at), so a read that raced a commit never stores
  /// what that commit replaced; a change drops its EIS after it commits.
  /// Per slot, not one epoch for all: under load some eUICC's change lands
  /// during nearly every read, which would then never fill the cache.
  /// apply() updates a cached EIS in place after its commit, with the
  /// ticket (eis_change_ticket()) it took inside its transaction: changes
  /// commit in ticket order, so an update whose ticket is not past the
  /// entry's stamp (its fill, or a later change already applied) drops the
  /// entry instead.
  std::optional<m2m::Eis> cached_eis(std::string_view eid);
  std::uint64_t eis_epoch();
  /// `keys`, when set: the wake-up keys opened with `eis` (nullptr: none
  /// usable), kept beside it.
  /// `seq`, when set: the stored notification_seq read with `eis` (its
  /// inner nullopt: none), kept beside it.
  void cache_eis(std::string_view eid, const m2m::Eis& eis, std::uint64_t epoch,
                 std::optional<std::shared_ptr<const WakeUpKeys>> keys = std::nullopt,
                 std::optional<std::optional<std::uint32_t>> seq = std::nullopt);
  /// The notification_seq kept with the cached EIS of `eid`, if it is there
  /// and has one read (its inner nullopt: none stored).
  std::optional<std::optional<std::uint32_t>> cached_notification_seq(std::string_view eid);
  /// A notification of `eid` numbered `seq` was applied: kept with its
  /// cached EIS (when that has the stored one) unless a later one is there.
  void note_cached_notification_seq(std::string_view eid, std::uint32_t seq);
  /// The EIS of `eid` read with its keys and cached without them, with its
  /// wake-up keys (wake_up_keys(); nullptr: none usable); nullopt for an
  /// unknown EID.
  SmsrResult<std::optional<std::shared_ptr<const WakeUpKeys>>> open_wake_up_keys(std::string_view eid);
  void drop_cached_eis(std::string_view eid);
  /// From just before a change to the EIS of `eid` commits until its cached
  /// copy is updated: reads of that EIS go to the database (which shows the
  /// change from its commit on) and fill nothing. Without it, a reader
  /// between the commit and the update (while the commit's disk flush runs)
  /// would get the EIS from before a change someone may already have been
  /// told of. Counted, as two changes of one EIS may overlap.
  void begin_eis_change(std::string_view eid);
  void end_eis_change(std::string_view eid);
  std::uint64_t eis_change_ticket();
  void update_cached_eis(std::string_view eid, const Change& c, std::uint64_t ticket);
  /// put_profile / delete_profile in the caller's transaction, the cache left alone.
  SmsrResult<void> write_profile(std::string_view eid, const m2m::ProfileInfo& p);
  SmsrResult<void> erase_profile(std::string_view eid, std::string_view iccid);
  std::mutex eis_cache_mu_;
  struct CachedEis {
    m2m::Eis eis;
    std::list<std::string>::iterator lru;  ///< its place in eis_lru_
    std::uint64_t stamp = 0;  ///< the epoch it was filled at, or the ticket of the change applied last
    /// The wake-up keys (wake_up_keys(), and wake_up_key_set() from them),
    /// once opened; nullptr when the ISD-R has no usable SCP80 key set.
    std::optional<std::shared_ptr<const WakeUpKeys>> keys;
    /// notification_seq(), once read with the EIS (or by that call); kept
    /// up to date by the changes of this registry as the EIS is.
    std::optional<std::optional<std::uint32_t>> notification_seq;
  };
  std::unordered_map<std::string, CachedEis> eis_cache_;
  std::list<std::string> eis_lru_;  ///< the cached EIDs, the one used last first
  std::unordered_map<std::string, int> eis_changing_;  ///< begin_eis_change() not yet ended, by EID
  std::uint64_t eis_epoch_ = 0;  ///< drops so far
  static constexpr std::size_t kEisDropSlots = 4096;
  static std::size_t eis_drop_slot(std::string_view eid);
  std::array<std::uint64_t, kEisDropSlots> eis_dropped_at_{};  ///< by slot (hash of the EID)
  std::mutex audit_mu_;
  std::condition_variable audit_cv_;
  std::vector<AuditEntry> audit_buffer_;
  /// The notification sequence numbers of audit_later() not written yet,
  /// by EID: each goes with the batch that writes its line.
  std::unordered_map<std::string, std::uint32_t> unwritten_seqs_;
  /// Stores `seq` as the last notification of `eid` applied, in the open
  /// transaction, unless a later one is stored.
  SmsrResult<void> store_notification_seq(std::string_view eid, std::uint32_t seq);
  bool audit_stopping_ = false;
  std::thread audit_writer_;
};

}  // namespace rsp::smsr
