#include "rsp/store/locking.hpp"

namespace rsp::store {

std::string row_lock(const Database& db, RowLock how, std::string_view tables) {
  if (db.dialect() != "postgresql") return {};
  std::string clause = " FOR UPDATE";
  if (!tables.empty()) {
    clause += " OF ";
    clause += tables;
  }
  if (how == RowLock::SkipLocked) clause += " SKIP LOCKED";
  return clause;
}

DbResult<void> lock_for_transaction(Database& db, std::int64_t key) {
  if (db.dialect() != "postgresql") return {};
  RSP_TRY_VOID(db.query("SELECT pg_advisory_xact_lock($1)", {value(key)}));
  return {};
}

}  // namespace rsp::store
