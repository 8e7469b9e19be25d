#pragma once
/// What a transaction uses to stay correct beside others on the same
/// database, written once for both engines. SQLite runs one write
/// transaction at a time (BEGIN IMMEDIATE takes the write lock), so there
/// these are no-ops; PostgreSQL runs transactions side by side at READ
/// COMMITTED (postgresql.hpp), so a "read, check, write" must lock the rows
/// it reads, and a transaction the server ends as a deadlock victim is run
/// again.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "rsp/store/database.hpp"

namespace rsp::store {

enum class RowLock {
  Wait,        ///< wait for a row another transaction holds
  SkipLocked,  ///< leave out rows another transaction holds (hand out work)
};

/// The clause that ends a SELECT inside a transaction so that the rows it
/// returns stay as read until the transaction ends: " FOR UPDATE [OF
/// `tables`] [SKIP LOCKED]" on PostgreSQL, "" on SQLite. `tables` names the
/// tables (or aliases) of a join whose rows are locked, comma-separated.
std::string row_lock(const Database& db, RowLock how = RowLock::Wait, std::string_view tables = {});

/// Serialises the transaction against every other holding the same `key`,
/// in any process, until it ends (PostgreSQL: pg_advisory_xact_lock; SQLite:
/// nothing, its write lock already does). For rare work over many rows, such
/// as a schema migration; never on the path of a download.
DbResult<void> lock_for_transaction(Database& db, std::int64_t key);

/// A failure that running the same transaction again may cure.
inline bool is_conflict(const DbError& e) { return e.kind == DbError::Kind::Conflict; }

/// How often retry_conflicts() runs a transaction at most.
inline constexpr int kConflictAttempts = 5;

/// Runs `attempt` (a whole transaction: begin, work, commit) until it
/// succeeds, fails otherwise than by a conflict (`conflict(error)` false),
/// or has run `attempts` times; returns its last result. Each attempt starts
/// afresh: nothing of a transaction the server ended stays.
template <class F, class IsConflict>
auto retry_conflicts(F&& attempt, IsConflict&& conflict, int attempts = kConflictAttempts) -> std::invoke_result_t<F&> {
  for (int i = 1;; ++i) {
    auto r = attempt();
    if (r || i >= attempts || !conflict(r.error())) return r;
  }
}

}  // namespace rsp::store
