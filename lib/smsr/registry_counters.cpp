// The SM-SR registry's SCP80 counters: the next one stored before it is used,
// and the ones reserved with an operation noted in memory for its wake-up.

#include "registry_sql.hpp"

#include <chrono>
#include <mutex>

namespace rsp::smsr {

using nlohmann::json;
using store::value;
using namespace registry_detail;

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

}  // namespace rsp::smsr
