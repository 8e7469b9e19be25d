#include "rsp/smsr/registry.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "rsp/crypto/random.hpp"
#include "rsp/common/thread_name.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smsr/scp80_key_choice.hpp"

namespace rsp::smsr {

using nlohmann::json;
using store::value;

#define SMSR_DB_TRY_IMPL(tmp, decl, expr)                          \
  auto tmp = (expr);                                               \
  if (!tmp) return ::rsp::unexpected(storage_error(tmp.error())); \
  decl = std::move(tmp).value()
#define SMSR_DB_TRY(decl, expr) SMSR_DB_TRY_IMPL(RSP_CONCAT(smsr_db_try_, __LINE__), decl, expr)
#define SMSR_DB_TRY_VOID(expr)                                          \
  do {                                                                  \
    auto smsr_db_v = (expr);                                            \
    if (!smsr_db_v) return ::rsp::unexpected(storage_error(smsr_db_v.error())); \
  } while (0)

namespace {

const store::Migration kMigrations[] = {
    {1, "EIS, ISD-Ps, audit trail, operations and the per-eUICC command queue",
     R"(
CREATE TABLE smsr_eis (
  eid TEXT PRIMARY KEY,
  eum_id TEXT NOT NULL,
  document TEXT NOT NULL,
  isdr_keys {BLOB} NOT NULL,
  registered_at {INT} NOT NULL
);
CREATE TABLE smsr_isdp (
  iccid TEXT PRIMARY KEY,
  eid TEXT NOT NULL REFERENCES smsr_eis(eid),
  isdp_aid TEXT NOT NULL,
  mno_id TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (eid, isdp_aid)
);
CREATE INDEX smsr_isdp_eid ON smsr_isdp(eid, mno_id);
CREATE TABLE smsr_audit (
  id {ID},
  at {INT} NOT NULL,
  caller TEXT NOT NULL,
  function TEXT NOT NULL,
  eid TEXT NOT NULL,
  isdp_aid TEXT NOT NULL,
  result TEXT NOT NULL
);
CREATE INDEX smsr_audit_eid ON smsr_audit(eid, id);
CREATE TABLE smsr_operation (
  id {ID},
  function TEXT NOT NULL,
  eid TEXT NOT NULL,
  iccid TEXT NOT NULL,
  caller TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at {INT} NOT NULL,
  expires_at {INT} NOT NULL,
  finished_at {INT},
  status TEXT NOT NULL,
  subject_code TEXT NOT NULL,
  reason_code TEXT NOT NULL,
  arguments TEXT NOT NULL
);
CREATE INDEX smsr_operation_open ON smsr_operation(state, expires_at);
CREATE INDEX smsr_operation_eid ON smsr_operation(eid, id);
CREATE TABLE smsr_command (
  id {ID},
  operation_id {INT} NOT NULL,
  eid TEXT NOT NULL,
  script {BLOB} NOT NULL
);
CREATE INDEX smsr_command_eid ON smsr_command(eid, id);
CREATE INDEX smsr_command_operation ON smsr_command(operation_id);
)"},
    {2, "SCP80 counters, the SCP81 PSK identity index, delivery attempts per operation",
     R"(
CREATE TABLE smsr_scp80_counter (
  eid TEXT NOT NULL,
  key_version {INT} NOT NULL,
  value {INT} NOT NULL,
  PRIMARY KEY (eid, key_version)
);
CREATE TABLE smsr_psk (
  eid TEXT PRIMARY KEY,
  identity TEXT NOT NULL
);
CREATE INDEX smsr_psk_identity ON smsr_psk(identity);
ALTER TABLE smsr_operation ADD COLUMN attempts {INT} NOT NULL DEFAULT 0;
)"},
    {3, "SMS wake-up schedule per eUICC (wake-ups sent since its last session, the next one due)",
     R"(
CREATE TABLE smsr_wake_up (
  eid TEXT PRIMARY KEY,
  tries {INT} NOT NULL,
  next_at {INT} NOT NULL
);
)"},
};

/// Audit lines buffered by audit_later() before a batch is written.
constexpr std::size_t kAuditBatch = 256;

struct StateName {
  OperationState state;
  std::string_view name;
};
constexpr StateName kStateNames[] = {{OperationState::Accepted, "accepted"},
                                     {OperationState::InProgress, "in-progress"},
                                     {OperationState::Completed, "completed"},
                                     {OperationState::Failed, "failed"},
                                     {OperationState::Expired, "expired"}};

OperationState parse_operation_state(std::string_view name) {
  for (const auto& s : kStateNames)
    if (s.name == name) return s.state;
  return OperationState::Failed;
}

constexpr const char* kOperationColumns =
    "id, function, eid, iccid, caller, state, created_at, expires_at, finished_at, status, subject_code, "
    "reason_code, arguments";

Operation operation_of(const store::Row& r) {
  Operation op;
  op.id = r.int64(0);
  op.function = r.text(1);
  op.eid = r.text(2);
  op.iccid = r.text(3);
  op.caller = r.text(4);
  op.state = parse_operation_state(r.text(5));
  op.created_at = r.int64(6);
  op.expires_at = r.int64(7);
  op.finished_at = r.opt_int64(8);
  op.status = r.text(9);
  op.subject_code = r.text(10);
  op.reason_code = r.text(11);
  op.arguments = r.text(12);
  return op;
}

std::string open_states_sql() { return "state IN ('accepted', 'in-progress')"; }

/// The stored form of the EIS without its keys and its profiles (those have
/// rows of their own).
std::string eis_document(const m2m::Eis& eis) {
  json j = m2m::eis_to_json(eis, m2m::Keys::Omit);
  j.erase("profiles");
  return j.dump();
}

SmsrResult<void> insert_audit(store::Database& db, const AuditEntry& e) {
  SMSR_DB_TRY_VOID(db.execute(
      "INSERT INTO smsr_audit (at, caller, function, eid, isdp_aid, result) VALUES ($1, $2, $3, $4, $5, $6)",
      {value(e.at), value(e.caller), value(e.function), value(e.eid), value(e.isdp_aid), value(e.result)}));
  return {};
}

/// Queues `scripts` for operation `id` of `eid`, in the open transaction.
SmsrResult<void> queue_scripts(store::Database& db, std::int64_t id, std::string_view eid,
                               std::span<const Bytes> scripts) {
  for (const auto& script : scripts) {
    SMSR_DB_TRY_VOID(db.execute("INSERT INTO smsr_command (operation_id, eid, script) VALUES ($1, $2, $3)",
                                {value(id), value(eid), value(script)}));
  }
  return {};
}

SmsrError corrupt(std::string_view eid, const std::string& what) {
  return SmsrError{m2m::codes::kExecutionError.subject, m2m::codes::kExecutionError.reason,
                   "the stored EIS of " + std::string(eid) + " does not read back: " + what, true};
}

}  // namespace

std::span<const store::Migration> registry_migrations() { return kMigrations; }

std::string_view operation_state_name(OperationState s) {
  for (const auto& n : kStateNames)
    if (n.state == s) return n.name;
  return "failed";
}

bool is_final(OperationState s) {
  return s == OperationState::Completed || s == OperationState::Failed || s == OperationState::Expired;
}

SmsrResult<std::unique_ptr<Registry>> Registry::open(std::shared_ptr<store::Database> db, RegistryOptions options) {
  if (!db) return smsr_error(m2m::codes::kExecutionError, "no database");
  if (!options.kek) return smsr_error(m2m::codes::kExecutionError, "no key-encryption key for the EIS keys");
  SMSR_DB_TRY_VOID(store::migrate(*db, kSchemaComponent, registry_migrations()));
  if (!options.clock) options.clock = std::make_shared<service::SystemClock>();
  std::unique_ptr<Registry> r(new Registry(db, std::move(options)));
  auto urls = r->options_.callback_url;
  SMSR_DB_TRY(r->outbox_, service::SqlOutbox::open(
                              db, std::string(kCallbackOutbox), *r->options_.clock,
                              [urls](service::OutboxItem& item) -> expected<void, std::string> {
                                if (item.destination.empty() && urls) item.destination = urls(item.recipient);
                                return {};
                              }));
  RSP_TRY_VOID(r->index_psk_identities());
  r->audit_writer_ = std::thread([raw = r.get()] {
    set_thread_name("smsr-audit");
    raw->write_audit_lines();
  });
  return r;
}

Registry::~Registry() {
  {
    std::lock_guard lock(audit_mu_);
    audit_stopping_ = true;
  }
  audit_cv_.notify_all();
  if (audit_writer_.joinable()) audit_writer_.join();
  (void)flush_audit();
}

void Registry::write_audit_lines() {
  constexpr auto kAuditAge = std::chrono::seconds(1);  // the longest a buffered line waits
  std::unique_lock lock(audit_mu_);
  while (!audit_stopping_) {
    audit_cv_.wait_for(lock, kAuditAge, [this] { return audit_stopping_ || audit_buffer_.size() >= kAuditBatch; });
    if (audit_stopping_) return;
    if (audit_buffer_.empty()) continue;
    lock.unlock();
    (void)flush_audit();  // a failed batch stays buffered for the next
    lock.lock();
  }
}

SmsrResult<void> Registry::index_psk_identities() {
  SMSR_DB_TRY(auto rows, db_->query("SELECT e.eid FROM smsr_eis e WHERE NOT EXISTS "
                                    "(SELECT 1 FROM smsr_psk p WHERE p.eid = e.eid)"));
  for (const auto& row : rows) {
    const std::string eid = row.text(0);
    RSP_TRY(auto eis, this->eis(eid));
    if (!eis || !eis->isd_r.scp81_psk) continue;
    SMSR_DB_TRY_VOID(db_->execute("INSERT INTO smsr_psk (identity, eid) VALUES ($1, $2)",
                                  {value(to_hex(eis->isd_r.scp81_psk->identity)), value(eid)}));
  }
  return {};
}

crypto::Random& Registry::rng() { return options_.rng ? *options_.rng : crypto::system_random(); }

SmsrResult<void> Registry::register_eis(const m2m::Eis& eis, std::int64_t now,
                                        std::span<const service::OutboxMessage> callbacks) {
  std::string keys_json = m2m::isdr_keys_to_json(eis.isd_r).dump();
  auto sealed = service::seal_package(*options_.kek, eis.eid, as_bytes(keys_json), rng());
  std::fill(keys_json.begin(), keys_json.end(), '\0');
  if (!sealed) return smsr_error(m2m::codes::kExecutionError, sealed.error().message);
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto existing, db_->query_one("SELECT 1 FROM smsr_eis WHERE eid = $1", {value(eis.eid)}));
  if (existing) return smsr_error(m2m::codes::kEidInUse, "EID " + eis.eid + " is registered already");
  for (const auto& p : eis.profiles) {
    SMSR_DB_TRY(auto held, db_->query_one("SELECT eid FROM smsr_isdp WHERE iccid = $1", {value(p.iccid)}));
    if (held) return smsr_error(m2m::codes::kIccidInUse, "ICCID " + p.iccid + " is on another eUICC");
  }
  // The PSK identity names the eUICC in its PSK-TLS handshake (GP
  // Amendment B): one held twice would make both sessions unusable.
  if (const auto& psk = eis.isd_r.scp81_psk) {
    SMSR_DB_TRY(auto held, db_->query_one("SELECT eid FROM smsr_psk WHERE identity = $1",
                                          {value(to_hex(psk->identity))}));
    if (held) return smsr_error(m2m::codes::kPskIdentityInUse, "the SCP81 PSK identity is another eUICC's");
  }
  SMSR_DB_TRY_VOID(db_->execute(
      "INSERT INTO smsr_eis (eid, eum_id, document, isdr_keys, registered_at) VALUES ($1, $2, $3, $4, $5)",
      {value(eis.eid), value(eis.eum_id), value(eis_document(eis)), value(std::move(*sealed)), value(now)}));
  if (const auto& psk = eis.isd_r.scp81_psk) {
    SMSR_DB_TRY_VOID(db_->execute("INSERT INTO smsr_psk (identity, eid) VALUES ($1, $2)",
                                  {value(to_hex(psk->identity)), value(eis.eid)}));
  }
  for (const auto& p : eis.profiles) {
    SMSR_DB_TRY_VOID(db_->execute(
        "INSERT INTO smsr_isdp (iccid, eid, isdp_aid, mno_id, document) VALUES ($1, $2, $3, $4, $5)",
        {value(p.iccid), value(eis.eid), value(to_hex(p.isdp_aid)), value(p.mno_id),
         value(m2m::profile_to_json(p).dump())}));
  }
  for (const auto& m : callbacks) SMSR_DB_TRY_VOID(outbox_->enqueue(*db_, m));
  SMSR_DB_TRY_VOID(tx.commit());
  drop_cached_eis(eis.eid);
  return {};
}

std::optional<m2m::Eis> Registry::cached_eis(std::string_view eid) {
  if (options_.eis_cache == 0) return std::nullopt;
  std::lock_guard lock(eis_cache_mu_);
  auto it = eis_cache_.find(std::string(eid));
  if (it == eis_cache_.end()) return std::nullopt;
  eis_lru_.splice(eis_lru_.begin(), eis_lru_, it->second.lru);  // used now
  return it->second.eis;
}

std::uint64_t Registry::eis_epoch() {
  std::lock_guard lock(eis_cache_mu_);
  return eis_epoch_;
}

std::size_t Registry::eis_drop_slot(std::string_view eid) {
  return std::hash<std::string_view>{}(eid) % kEisDropSlots;
}

void Registry::cache_eis(std::string_view eid, const m2m::Eis& eis, std::uint64_t epoch,
                         const std::optional<WakeUpKeySet>* key_set) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  // This EIS (or one sharing its slot) changed since the read began: the
  // read may predate the change. Other eUICCs' changes do not matter.
  if (eis_dropped_at_[eis_drop_slot(eid)] > epoch) return;
  std::string key(eid);
  auto it = eis_cache_.find(key);
  if (it != eis_cache_.end()) {
    it->second.eis = eis;
    it->second.stamp = eis_epoch_;
    if (key_set) it->second.key_set = *key_set;
    eis_lru_.splice(eis_lru_.begin(), eis_lru_, it->second.lru);
    return;
  }
  // Full: the EIS used longest ago goes (the eUICCs in service stay).
  if (eis_cache_.size() >= options_.eis_cache && !eis_lru_.empty()) {
    eis_cache_.erase(eis_lru_.back());
    eis_lru_.pop_back();
  }
  eis_lru_.push_front(key);
  CachedEis entry{eis, eis_lru_.begin(), eis_epoch_, std::nullopt};
  if (key_set) entry.key_set = *key_set;
  eis_cache_.emplace(std::move(key), std::move(entry));
}

void Registry::drop_cached_eis(std::string_view eid) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  eis_dropped_at_[eis_drop_slot(eid)] = ++eis_epoch_;
  if (auto it = eis_cache_.find(std::string(eid)); it != eis_cache_.end()) {
    eis_lru_.erase(it->second.lru);
    eis_cache_.erase(it);
  }
}

std::uint64_t Registry::eis_change_ticket() {
  std::lock_guard lock(eis_cache_mu_);
  return ++eis_epoch_;
}

void Registry::update_cached_eis(std::string_view eid, const Change& c, std::uint64_t ticket) {
  if (options_.eis_cache == 0) return;
  std::lock_guard lock(eis_cache_mu_);
  // A read that began before this commit does not fill the cache.
  eis_dropped_at_[eis_drop_slot(eid)] = ++eis_epoch_;
  auto it = eis_cache_.find(std::string(eid));
  if (it == eis_cache_.end()) return;
  const auto drop = [&] {
    eis_lru_.erase(it->second.lru);
    eis_cache_.erase(it);
  };
  // Filled after this change's ticket, or a later change applied already:
  // which of the two is newer is not known here.
  if (c.handed_over || ticket <= it->second.stamp) return drop();
  auto& profiles = it->second.eis.profiles;
  const auto find = [&](std::string_view iccid) {
    return std::find_if(profiles.begin(), profiles.end(), [&](const m2m::ProfileInfo& p) { return p.iccid == iccid; });
  };
  for (const auto& p : c.added) {
    if (auto at = find(p.iccid); at != profiles.end()) *at = p;
    else profiles.push_back(p);
  }
  for (const auto& p : c.put) {
    auto at = find(p.iccid);
    if (at == profiles.end()) return drop();  // not as the database has it: read it again
    *at = p;
  }
  for (const auto& iccid : c.deleted)
    if (auto at = find(iccid); at != profiles.end()) profiles.erase(at);
  if (c.remaining_memory) it->second.eis.remaining_memory = *c.remaining_memory;
  // As eis() reads them: ordered by ISD-P AID (its hex, the same order).
  std::stable_sort(profiles.begin(), profiles.end(),
                   [](const m2m::ProfileInfo& a, const m2m::ProfileInfo& b) { return a.isdp_aid < b.isdp_aid; });
  it->second.stamp = ticket;
}

SmsrResult<std::optional<m2m::Eis>> Registry::eis(std::string_view eid, bool with_keys) {
  store::Database& db = reader();
  std::optional<m2m::Eis> eis = cached_eis(eid);
  if (eis && !with_keys) return eis;
  std::optional<store::Row> row;
  std::size_t keys_column = 1;
  if (eis) {
    // The keys are never cached: read and opened for each caller that asks.
    SMSR_DB_TRY(row, db.query_one("SELECT isdr_keys FROM smsr_eis WHERE eid = $1", {value(eid)}));
    if (!row) return std::optional<m2m::Eis>();
    keys_column = 0;
  } else {
    const std::uint64_t epoch = eis_epoch();
    SMSR_DB_TRY(row, db.query_one(with_keys ? "SELECT document, isdr_keys FROM smsr_eis WHERE eid = $1"
                                            : "SELECT document FROM smsr_eis WHERE eid = $1",
                                  {value(eid)}));
    if (!row) return std::optional<m2m::Eis>();
    SMSR_DB_TRY(auto profiles,
                db.query("SELECT document FROM smsr_isdp WHERE eid = $1 ORDER BY isdp_aid", {value(eid)}));
    json doc = json::parse(row->text(0), nullptr, false);
    if (doc.is_discarded()) return unexpected(corrupt(eid, "not JSON"));
    doc["profiles"] = json::array();
    for (const auto& p : profiles) {
      json pj = json::parse(p.text(0), nullptr, false);
      if (pj.is_discarded()) return unexpected(corrupt(eid, "a profile is not JSON"));
      doc["profiles"].push_back(std::move(pj));
    }
    auto parsed = m2m::eis_from_json(doc);
    if (!parsed) return unexpected(corrupt(eid, parsed.error().path + " " + parsed.error().message));
    eis = std::move(*parsed);
    cache_eis(eid, *eis, epoch);
    if (!with_keys) return eis;
  }
  auto keys = service::open_package(options_.kek.get(), eid, row->blob(keys_column));
  if (!keys) return unexpected(corrupt(eid, keys.error().message));
  json kj = json::parse(to_string(*keys), nullptr, false);
  wipe(*keys);
  if (kj.is_discarded()) return unexpected(corrupt(eid, "its keys are not JSON"));
  auto opened = m2m::isdr_keys_from_json(kj, eis->isd_r);
  if (!opened) return unexpected(corrupt(eid, "its keys: " + opened.error().path + " " + opened.error().message));
  return std::optional<m2m::Eis>(std::move(*eis));
}

SmsrResult<std::optional<Registry::WakeUpKeySet>> Registry::wake_up_key_set(std::string_view eid) {
  if (options_.eis_cache != 0) {
    std::lock_guard lock(eis_cache_mu_);
    if (auto it = eis_cache_.find(std::string(eid)); it != eis_cache_.end() && it->second.key_set)
      return *it->second.key_set;
  }
  // The keys only change with a new registration, which drops the entry: a
  // key set noted on an entry not dropped since the read began is current.
  const std::uint64_t epoch = eis_epoch();
  RSP_TRY(auto eis, this->eis(eid, true));
  if (!eis) return std::optional<WakeUpKeySet>();
  std::optional<WakeUpKeySet> found;
  if (const m2m::Scp80KeySet* k = choose_scp80_key_set(eis->isd_r)) found = WakeUpKeySet{k->version, k->counter};
  // Without the keys: the cached EIS never holds them.
  eis->isd_r.scp80_key_sets.clear();
  eis->isd_r.scp81_psk.reset();
  cache_eis(eid, *eis, epoch, &found);
  return found;
}

SmsrResult<std::optional<std::string>> Registry::eid_of_psk_identity(ByteView identity) {
  SMSR_DB_TRY(auto rows,
              reader().query("SELECT eid FROM smsr_psk WHERE identity = $1 LIMIT 2", {value(to_hex(identity))}));
  if (rows.empty()) return std::optional<std::string>();
  // Two eUICCs with one identity: neither session can be told apart.
  if (rows.size() > 1) return smsr_error(m2m::codes::kInvalidRequest, "SCP81 PSK identity held by several eUICCs");
  return std::optional<std::string>(rows.front().text(0));
}

SmsrResult<std::uint64_t> Registry::store_next_counter(std::string_view eid, int key_version,
                                                        std::uint64_t last_used) {
  // next = max(stored, last_used) + 1, read and written in one statement.
  // The largest 64-bit value stands for "exhausted" (an SCP80 counter has 5
  // bytes: far below it); the caller's transaction then rolls back.
  constexpr std::int64_t kExhausted = INT64_MAX;
  if (last_used >= static_cast<std::uint64_t>(kExhausted) - 1)
    return smsr_error(m2m::codes::kExecutionError, "SCP80 counter exhausted");
  SMSR_DB_TRY(auto row,
              db_->query_one("INSERT INTO smsr_scp80_counter (eid, key_version, value) VALUES ($1, $2, $3) "
                             "ON CONFLICT (eid, key_version) DO UPDATE SET value = CASE "
                             "WHEN smsr_scp80_counter.value >= $5 THEN $4 "
                             "WHEN smsr_scp80_counter.value >= $3 THEN smsr_scp80_counter.value + 1 "
                             "ELSE $3 END RETURNING value",
                             {value(eid), value(std::int64_t{key_version}), value(static_cast<std::int64_t>(last_used + 1)),
                              value(kExhausted), value(kExhausted - 1)}));
  if (!row) return smsr_error(m2m::codes::kExecutionError, "no SCP80 counter returned");
  const std::int64_t next = row->int64(0);
  if (next >= kExhausted) return smsr_error(m2m::codes::kExecutionError, "SCP80 counter exhausted");
  return static_cast<std::uint64_t>(next);
}

SmsrResult<std::uint64_t> Registry::next_scp80_counter(std::string_view eid, int key_version,
                                                        std::uint64_t last_used) {
  SMSR_DB_TRY(auto tx, db_->begin());
  RSP_TRY(auto next, store_next_counter(eid, key_version, last_used));
  SMSR_DB_TRY_VOID(tx.commit());
  note_counter(eid, key_version, next, false);
  return next;
}

namespace {

std::string counter_key(std::string_view eid, int key_version) {
  return std::string(eid) + "/" + std::to_string(key_version);
}

/// Noted counters kept before the oldest taken ones are forgotten. A
/// forgotten entry only costs its eUICC's next wake-up a transaction of its
/// own (next_scp80_counter), except for a reservation committed but not yet
/// noted while its entry is dropped, which the age below rules out.
constexpr std::size_t kNotedCounters = 1 << 17;
constexpr auto kNotedCounterAge = std::chrono::minutes(1);

}  // namespace

void Registry::note_counter(std::string_view eid, int key_version, std::uint64_t counter, bool reserved) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(counters_mu_);
  auto& noted = counters_[counter_key(eid, key_version)];
  // Counters are stored in increasing order, but noted here in the order
  // their transactions returned: an older one noted late is not the highest.
  if (counter > noted.highest) noted = NotedCounter{counter, reserved, now};
  if (counters_.size() > kNotedCounters)
    std::erase_if(counters_, [&](const auto& e) { return !e.second.reserved && now - e.second.at > kNotedCounterAge; });
}

std::optional<std::uint64_t> Registry::take_reserved_counter(std::string_view eid, int key_version) {
  std::lock_guard lock(counters_mu_);
  auto it = counters_.find(counter_key(eid, key_version));
  if (it == counters_.end() || !it->second.reserved) return std::nullopt;
  it->second.reserved = false;
  it->second.at = std::chrono::steady_clock::now();
  return it->second.highest;
}

SmsrResult<void> Registry::write_profile(std::string_view eid, const m2m::ProfileInfo& p) {
  SMSR_DB_TRY(auto n, db_->execute("UPDATE smsr_isdp SET document = $3, mno_id = $4, isdp_aid = $5 "
                                   "WHERE eid = $1 AND iccid = $2",
                                   {value(eid), value(p.iccid), value(m2m::profile_to_json(p).dump()),
                                    value(p.mno_id), value(to_hex(p.isdp_aid))}));
  if (n == 0) return smsr_error(m2m::codes::kIccidUnknown, "no profile " + p.iccid + " on " + std::string(eid));
  return {};
}

SmsrResult<void> Registry::put_profile(std::string_view eid, const m2m::ProfileInfo& p) {
  RSP_TRY_VOID(write_profile(eid, p));
  drop_cached_eis(eid);
  return {};
}

SmsrResult<void> Registry::erase_profile(std::string_view eid, std::string_view iccid) {
  SMSR_DB_TRY(auto n, db_->execute("DELETE FROM smsr_isdp WHERE eid = $1 AND iccid = $2", {value(eid), value(iccid)}));
  if (n == 0)
    return smsr_error(m2m::codes::kIccidUnknown, "no profile " + std::string(iccid) + " on " + std::string(eid));
  return {};
}

SmsrResult<void> Registry::delete_profile(std::string_view eid, std::string_view iccid) {
  RSP_TRY_VOID(erase_profile(eid, iccid));
  drop_cached_eis(eid);
  return {};
}

SmsrResult<bool> Registry::mno_has_profile_on(std::string_view eid, std::string_view mno) {
  SMSR_DB_TRY(auto row, reader().query_one("SELECT 1 FROM smsr_isdp WHERE eid = $1 AND mno_id = $2 LIMIT 1",
                                       {value(eid), value(mno)}));
  return row.has_value();
}

std::int64_t Registry::eis_count() {
  auto row = reader().query_one("SELECT COUNT(*) FROM smsr_eis");
  return row && *row ? (*row)->int64(0) : -1;
}

SmsrResult<void> Registry::audit(const AuditEntry& e) {
  // In a transaction, to share a flush with other threads' commits (start_operation).
  SMSR_DB_TRY(auto tx, db_->begin());
  RSP_TRY_VOID(insert_audit(*db_, e));
  SMSR_DB_TRY_VOID(tx.commit());
  return {};
}

void Registry::audit_later(AuditEntry entry) {
  bool full = false;
  {
    std::lock_guard lock(audit_mu_);
    audit_buffer_.push_back(std::move(entry));
    full = audit_buffer_.size() >= kAuditBatch;
  }
  // The writer thread flushes it: the read that filled the buffer does not wait.
  if (full) audit_cv_.notify_all();
}

SmsrResult<void> Registry::flush_audit() {
  std::vector<AuditEntry> batch;
  {
    std::lock_guard lock(audit_mu_);
    batch.swap(audit_buffer_);
  }
  if (batch.empty()) return {};
  auto written = [&]() -> SmsrResult<void> {
    SMSR_DB_TRY(auto tx, db_->begin());
    for (const auto& e : batch) RSP_TRY_VOID(insert_audit(*db_, e));
    SMSR_DB_TRY_VOID(tx.commit());
    return {};
  }();
  if (!written) {
    // Kept for the next batch, ahead of the lines that came meanwhile.
    std::lock_guard lock(audit_mu_);
    audit_buffer_.insert(audit_buffer_.begin(), std::make_move_iterator(batch.begin()),
                         std::make_move_iterator(batch.end()));
  }
  return written;
}

SmsrResult<std::vector<AuditEntry>> read_audit_trail(store::Database& db, std::string_view eid) {
  SMSR_DB_TRY(auto rows, db.query("SELECT at, caller, function, eid, isdp_aid, result FROM smsr_audit "
                                  "WHERE eid = $1 ORDER BY id",
                                  {value(eid)}));
  std::vector<AuditEntry> out;
  for (const auto& r : rows) out.push_back({r.int64(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5)});
  return out;
}

SmsrResult<std::vector<AuditEntry>> Registry::audit_trail(std::string_view eid) {
  RSP_TRY_VOID(flush_audit());
  return read_audit_trail(reader(), eid);
}

SmsrResult<std::int64_t> Registry::create_operation(const Operation& op, std::span<const Bytes> scripts,
                                                    const AuditEntry* accepted, const CounterReservation* counter) {
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto rows,
              db_->query("INSERT INTO smsr_operation (function, eid, iccid, caller, state, created_at, expires_at, "
                         "status, subject_code, reason_code, arguments) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, '', '', '', $8) RETURNING id",
                         {value(op.function), value(op.eid), value(op.iccid), value(op.caller),
                          value(operation_state_name(OperationState::Accepted)), value(op.created_at),
                          value(op.expires_at), value(op.arguments)}));
  if (rows.empty()) return smsr_error(m2m::codes::kExecutionError, "no operation id returned");
  const std::int64_t id = rows.front().int64(0);
  RSP_TRY_VOID(queue_scripts(*db_, id, op.eid, scripts));
  if (accepted) {
    AuditEntry line = *accepted;
    line.result = "accepted as operation " + std::to_string(id);
    RSP_TRY_VOID(insert_audit(*db_, line));
  }
  std::uint64_t reserved = 0;
  if (counter) {
    RSP_TRY(reserved, store_next_counter(op.eid, counter->key_version, counter->last_used));
    // The wake-up's first try: a schedule stored already (a wake-up in
    // flight) stays as it is.
    if (counter->wake_up_next_at) {
      SMSR_DB_TRY_VOID(db_->execute("INSERT INTO smsr_wake_up (eid, tries, next_at) VALUES ($1, 1, $2) "
                                    "ON CONFLICT (eid) DO NOTHING",
                                    {value(op.eid), value(*counter->wake_up_next_at)}));
    }
  }
  SMSR_DB_TRY_VOID(tx.commit());
  if (counter) note_counter(op.eid, counter->key_version, reserved, true);
  return id;
}

SmsrResult<std::optional<Operation>> Registry::operation(std::int64_t id) {
  SMSR_DB_TRY(auto row, reader().query_one(std::string("SELECT ") + kOperationColumns +
                                               " FROM smsr_operation WHERE id = $1",
                                       {value(id)}));
  if (!row) return std::optional<Operation>();
  return std::optional<Operation>(operation_of(*row));
}

SmsrResult<std::vector<Operation>> Registry::open_operations(std::string_view eid) {
  SMSR_DB_TRY(auto rows, reader().query(std::string("SELECT ") + kOperationColumns +
                                            " FROM smsr_operation WHERE eid = $1 AND " +
                                        open_states_sql() + " ORDER BY id",
                                    {value(eid)}));
  std::vector<Operation> out;
  for (const auto& r : rows) out.push_back(operation_of(r));
  return out;
}

SmsrResult<std::vector<std::string>> Registry::eids_with_open_operations() {
  SMSR_DB_TRY(auto rows, reader().query("SELECT DISTINCT eid FROM smsr_operation WHERE " + open_states_sql() +
                                    " ORDER BY eid"));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.text(0));
  return out;
}

SmsrResult<std::optional<QueuedOperation>> Registry::next_queued(std::string_view eid) {
  // The operation's columns, qualified (both tables have id and eid), then the script.
  static const std::string kSql = [] {
    std::string cols;
    std::string_view all = kOperationColumns;
    while (!all.empty()) {
      const auto comma = all.find(", ");
      cols += (cols.empty() ? "o." : ", o.") + std::string(all.substr(0, comma));
      all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 2);
    }
    return "SELECT " + cols +
           ", c.script FROM smsr_command c JOIN smsr_operation o ON o.id = c.operation_id "
           "WHERE c.eid = $1 AND c.operation_id = (SELECT operation_id FROM smsr_command WHERE eid = $1 "
           "ORDER BY id LIMIT 1) ORDER BY c.id";
  }();
  SMSR_DB_TRY(auto rows, reader().query(kSql, {value(eid)}));
  if (rows.empty()) return std::optional<QueuedOperation>();
  QueuedOperation out{operation_of(rows.front()), {}};
  out.scripts.reserve(rows.size());
  for (const auto& r : rows) out.scripts.push_back(r.blob(13));
  return std::optional<QueuedOperation>(std::move(out));
}

SmsrResult<std::vector<QueuedScript>> Registry::queued_scripts(std::string_view eid) {
  SMSR_DB_TRY(auto rows, reader().query("SELECT id, operation_id, eid, script FROM smsr_command WHERE eid = $1 ORDER BY id",
                                    {value(eid)}));
  std::vector<QueuedScript> out;
  for (const auto& r : rows) out.push_back({r.int64(0), r.int64(1), r.text(2), r.blob(3)});
  return out;
}

// The wake-up schedule: one row per eUICC woken and not yet heard from,
// written without a disk flush of its own (as start_operation) and before
// the SMS leaves. Lost in a machine crash before the next flushed commit, the
// eUICC is woken again at once by the restart (Es5Link::resume), as before
// this table existed; a kill -9 loses nothing.
SmsrResult<void> Registry::record_wake_up(const WakeUpSchedule& s) {
  SMSR_DB_TRY(auto tx, db_->begin_deferred_flush());
  SMSR_DB_TRY_VOID(db_->execute("INSERT INTO smsr_wake_up (eid, tries, next_at) VALUES ($1, $2, $3) "
                                "ON CONFLICT (eid) DO UPDATE SET tries = excluded.tries, next_at = excluded.next_at",
                                {value(s.eid), value(std::int64_t{s.tries}), value(s.next_at)}));
  SMSR_DB_TRY_VOID(tx.commit());
  return {};
}

SmsrResult<void> Registry::clear_wake_up(std::string_view eid) {
  SMSR_DB_TRY(auto tx, db_->begin_deferred_flush());
  SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_wake_up WHERE eid = $1", {value(eid)}));
  SMSR_DB_TRY_VOID(tx.commit());
  return {};
}

SmsrResult<std::optional<WakeUpSchedule>> Registry::stored_wake_up(std::string_view eid) {
  SMSR_DB_TRY(auto row, reader().query_one("SELECT tries, next_at FROM smsr_wake_up WHERE eid = $1", {value(eid)}));
  if (!row) return std::optional<WakeUpSchedule>();
  return std::optional<WakeUpSchedule>(WakeUpSchedule{std::string(eid), static_cast<int>(row->int64(0)), row->int64(1)});
}

SmsrResult<std::vector<WakeUpSchedule>> Registry::wake_up_schedules() {
  SMSR_DB_TRY(auto rows, db_->query("SELECT eid, tries, next_at FROM smsr_wake_up ORDER BY eid"));
  std::vector<WakeUpSchedule> out;
  for (const auto& r : rows) out.push_back({r.text(0), static_cast<int>(r.int64(1)), r.int64(2)});
  return out;
}

// A single statement in a transaction of its own rather than on its own
// (autocommit), and one without a disk flush of its own
// (store::Database::begin_deferred_flush): it reaches the disk with the next
// flushed commit, at the latest the operation's end; it survives a kill -9.
// Lost in a machine crash before that flush, the operation reads Accepted
// again, which resumes exactly as InProgress does (eids_with_open_operations, expire_operations): nothing
// the SM-SR or a caller relies on is lost, and no counter or key is involved.
// The eUICC's wake-up schedule ends in the same transaction: its session is
// there (a machine crash that loses both leaves the schedule, which a
// restart's resume() treats as a wake-up possibly lost: one SMS more).
SmsrResult<bool> Registry::start_operation(std::int64_t id) {
  SMSR_DB_TRY(auto tx, db_->begin_deferred_flush());
  SMSR_DB_TRY(auto n, db_->execute("UPDATE smsr_operation SET state = 'in-progress' WHERE id = $1 AND state = 'accepted'",
                                   {value(id)}));
  SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_wake_up WHERE eid = (SELECT eid FROM smsr_operation WHERE id = $1)",
                                {value(id)}));
  SMSR_DB_TRY_VOID(tx.commit());
  return n > 0;
}

SmsrResult<bool> Registry::finish_operation(std::int64_t id, OperationState state, std::string_view status,
                                            m2m::Code code, std::int64_t now) {
  if (!is_final(state)) return smsr_error(m2m::codes::kExecutionError, "an operation ends in a final state");
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto n, db_->execute("UPDATE smsr_operation SET state = $2, status = $3, subject_code = $4, "
                                   "reason_code = $5, finished_at = $6 WHERE id = $1 AND " + open_states_sql(),
                                   {value(id), value(operation_state_name(state)), value(status),
                                    value(code.subject), value(code.reason), value(now)}));
  if (n == 0) return false;
  SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_command WHERE operation_id = $1", {value(id)}));
  SMSR_DB_TRY_VOID(tx.commit());
  return true;
}

SmsrResult<bool> Registry::continue_operation(std::int64_t id, std::span<const Bytes> scripts,
                                              std::string_view arguments) {
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto rows, db_->query("UPDATE smsr_operation SET arguments = $2 WHERE id = $1 AND " + open_states_sql() +
                                        " RETURNING eid",
                                    {value(id), value(std::string(arguments))}));
  if (rows.empty()) return false;
  const std::string eid = rows.front().text(0);
  SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_command WHERE operation_id = $1", {value(id)}));
  RSP_TRY_VOID(queue_scripts(*db_, id, eid, scripts));
  SMSR_DB_TRY_VOID(tx.commit());
  return true;
}

SmsrResult<int> Registry::count_attempt(std::int64_t id) {
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto rows, db_->query("UPDATE smsr_operation SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
                                    {value(id)}));
  if (rows.empty()) return smsr_error(m2m::codes::kInvalidRequest, "unknown operation");
  SMSR_DB_TRY_VOID(tx.commit());
  return static_cast<int>(rows.front().int64(0));
}

SmsrResult<bool> Registry::apply(std::string_view eid, const Change& c, std::int64_t now) {
  SMSR_DB_TRY(auto tx, db_->begin());
  if (c.operation_id != 0) {
    if (!is_final(c.state)) return smsr_error(m2m::codes::kExecutionError, "an operation ends in a final state");
    SMSR_DB_TRY(auto n, db_->execute("UPDATE smsr_operation SET state = $2, status = $3, subject_code = $4, "
                                     "reason_code = $5, finished_at = $6 WHERE id = $1 AND " + open_states_sql(),
                                     {value(c.operation_id), value(operation_state_name(c.state)), value(c.status),
                                      value(c.subject_code), value(c.reason_code), value(now)}));
    if (n == 0) return false;
    SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_command WHERE operation_id = $1", {value(c.operation_id)}));
  }
  for (const auto& p : c.added)
    SMSR_DB_TRY_VOID(db_->execute(
        "INSERT INTO smsr_isdp (iccid, eid, isdp_aid, mno_id, document) VALUES ($1, $2, $3, $4, $5)",
        {value(p.iccid), value(eid), value(to_hex(p.isdp_aid)), value(p.mno_id), value(m2m::profile_to_json(p).dump())}));
  for (const auto& p : c.put) RSP_TRY_VOID(write_profile(eid, p));
  for (const auto& iccid : c.deleted) RSP_TRY_VOID(erase_profile(eid, iccid));
  if (c.remaining_memory) {
    SMSR_DB_TRY(auto row, db_->query_one("SELECT document FROM smsr_eis WHERE eid = $1", {value(eid)}));
    if (!row) return smsr_error(m2m::codes::kEidUnknown, "unknown EID");
    json doc = json::parse(row->text(0), nullptr, false);
    if (doc.is_discarded()) return unexpected(corrupt(eid, "not JSON"));
    doc["remainingMemory"] = *c.remaining_memory;
    SMSR_DB_TRY_VOID(db_->execute("UPDATE smsr_eis SET document = $2 WHERE eid = $1", {value(eid), value(doc.dump())}));
  }
  for (const auto& m : c.callbacks) SMSR_DB_TRY_VOID(outbox_->enqueue(*db_, m));
  for (const auto& a : c.audit) RSP_TRY_VOID(insert_audit(*db_, a));
  if (c.handed_over) {
    for (const char* table : {"smsr_command", "smsr_isdp", "smsr_psk", "smsr_scp80_counter", "smsr_eis"})
      SMSR_DB_TRY_VOID(db_->execute(std::string("DELETE FROM ") + table + " WHERE eid = $1", {value(eid)}));
  }
  const std::uint64_t ticket = eis_change_ticket();  // in the transaction: in commit order
  if (auto committed = tx.commit(); !committed) {
    drop_cached_eis(eid);  // a failed flush may leave the change in place
    return unexpected(storage_error(committed.error()));
  }
  // After the commit: a read that began before it does not fill the cache.
  if (!c.added.empty() || !c.put.empty() || !c.deleted.empty() || c.remaining_memory || c.handed_over)
    update_cached_eis(eid, c, ticket);
  if (c.handed_over) {
    // Its counters went with the EIS: none is reserved here any more.
    const std::string prefix = std::string(eid) + "/";
    std::lock_guard lock(counters_mu_);
    std::erase_if(counters_, [&](const auto& e) { return e.first.starts_with(prefix); });
  }
  return true;
}

SmsrResult<std::vector<Operation>> Registry::expire_operations(std::int64_t now, const ExpiryCallbacks& callbacks) {
  SMSR_DB_TRY(auto tx, db_->begin());
  SMSR_DB_TRY(auto rows, db_->query(std::string("SELECT ") + kOperationColumns + " FROM smsr_operation WHERE " +
                                        open_states_sql() + " AND expires_at <= $1 ORDER BY id",
                                    {value(now)}));
  std::vector<Operation> out;
  for (const auto& r : rows) {
    Operation op = operation_of(r);
    // Still open when written: another instance may have expired or
    // finished it since the read, and then it is not reported twice.
    SMSR_DB_TRY(auto changed,
                db_->execute("UPDATE smsr_operation SET state = 'expired', status = $2, subject_code = $3, "
                             "reason_code = $4, finished_at = $5 WHERE id = $1 AND " + open_states_sql(),
                             {value(op.id), value(m2m::status_name(m2m::ExecutionStatus::Expired)),
                              value(m2m::codes::kExpired.subject), value(m2m::codes::kExpired.reason), value(now)}));
    if (changed != 1) continue;
    SMSR_DB_TRY_VOID(db_->execute("DELETE FROM smsr_command WHERE operation_id = $1", {value(op.id)}));
    op.state = OperationState::Expired;
    op.status = m2m::status_name(m2m::ExecutionStatus::Expired);
    op.subject_code = m2m::codes::kExpired.subject;
    op.reason_code = m2m::codes::kExpired.reason;
    op.finished_at = now;
    if (callbacks)
      for (const auto& m : callbacks(op)) SMSR_DB_TRY_VOID(outbox_->enqueue(*db_, m));
    out.push_back(std::move(op));
  }
  SMSR_DB_TRY_VOID(tx.commit());
  return out;
}

}  // namespace rsp::smsr
