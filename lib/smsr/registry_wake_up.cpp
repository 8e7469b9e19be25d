// The SM-SR registry's SMS wake-up schedule per eUICC.

#include "registry_sql.hpp"

namespace rsp::smsr {

using nlohmann::json;
using store::value;
using namespace registry_detail;

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

}  // namespace rsp::smsr
