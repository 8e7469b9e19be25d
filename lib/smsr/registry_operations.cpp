// The SM-SR registry's operations: accepted (with their scripts queued and
// their wake-up counter reserved), read, started, continued, ended, expired.

#include "registry_sql.hpp"

namespace rsp::smsr {

using nlohmann::json;
using store::value;
using namespace registry_detail;

namespace {

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

}  // namespace

namespace registry_detail {

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

SmsrResult<void> queue_scripts(store::Database& db, std::int64_t id, std::string_view eid,
                               std::span<const Bytes> scripts) {
  for (const auto& script : scripts) {
    SMSR_DB_TRY_VOID(db.execute("INSERT INTO smsr_command (operation_id, eid, script) VALUES ($1, $2, $3)",
                                {value(id), value(eid), value(script)}));
  }
  return {};
}

}  // namespace registry_detail

std::string_view operation_state_name(OperationState s) {
  for (const auto& n : kStateNames)
    if (n.state == s) return n.name;
  return "failed";
}

bool is_final(OperationState s) {
  return s == OperationState::Completed || s == OperationState::Failed || s == OperationState::Expired;
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
           ", c.script, EXISTS (SELECT 1 FROM smsr_command m WHERE m.eid = $1 AND m.operation_id <> o.id) "
           "FROM smsr_command c JOIN smsr_operation o ON o.id = c.operation_id "
           "WHERE c.eid = $1 AND c.operation_id = (SELECT operation_id FROM smsr_command WHERE eid = $1 "
           "ORDER BY id LIMIT 1) ORDER BY c.id";
  }();
  SMSR_DB_TRY(auto rows, reader().query(kSql, {value(eid)}));
  if (rows.empty()) return std::optional<QueuedOperation>();
  QueuedOperation out{operation_of(rows.front()), {}, rows.front().int64(14) != 0};
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

void Registry::defer_start(std::int64_t id) {
  std::lock_guard lock(starts_mu_);
  if (std::find(deferred_starts_.begin(), deferred_starts_.end(), id) == deferred_starts_.end())
    deferred_starts_.push_back(id);
}

bool Registry::take_deferred_start(std::int64_t id) {
  std::lock_guard lock(starts_mu_);
  return std::erase(deferred_starts_, id) > 0;
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
      for (const auto& m : callbacks(op)) SMSR_DB_TRY_VOID(outbox_->add(*db_, m));
    out.push_back(std::move(op));
  }
  SMSR_DB_TRY_VOID(tx.commit());
  return out;
}

}  // namespace rsp::smsr
