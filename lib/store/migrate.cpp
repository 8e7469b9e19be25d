#include "rsp/store/migrate.hpp"

#include <chrono>

namespace rsp::store {

namespace {

DbResult<void> ensure_table(Database& db) {
  RSP_TRY_VOID(db.execute_script(
      "CREATE TABLE IF NOT EXISTS schema_version ("
      " version INTEGER PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " applied_at INTEGER NOT NULL)"));
  return {};
}

DbResult<int> current(Database& db) {
  RSP_TRY(auto row, db.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  return row ? static_cast<int>(row->int64(0)) : 0;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DbResult<int> schema_version(Database& db) {
  RSP_TRY_VOID(ensure_table(db));
  return current(db);
}

DbResult<int> migrate(Database& db, std::span<const Migration> migrations) {
  int last = 0;
  for (const auto& m : migrations) {
    if (m.version <= last)
      return db_error(DbError::Kind::Schema, "migration versions must increase (" + std::to_string(m.version) + ")");
    last = m.version;
  }
  RSP_TRY_VOID(ensure_table(db));
  RSP_TRY(int version, current(db));
  if (version > last)
    return db_error(DbError::Kind::Schema, "database schema version " + std::to_string(version) +
                                               " is newer than this program knows (" + std::to_string(last) + ")");
  for (const auto& m : migrations) {
    if (m.version <= version) continue;
    RSP_TRY(auto tx, db.begin());
    // Another process may have migrated between our read and BEGIN.
    RSP_TRY(int now_version, current(db));
    if (m.version <= now_version) {
      version = now_version;
      continue;
    }
    if (auto r = db.execute_script(m.sql); !r)
      return db_error(r.error().kind,
                      "migration " + std::to_string(m.version) + " (" + m.name + "): " + r.error().message);
    RSP_TRY_VOID(db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                            {value(m.version), value(m.name), value(now_seconds())}));
    RSP_TRY_VOID(tx.commit());
    version = m.version;
  }
  return version;
}

}  // namespace rsp::store
