#pragma once
/// The SQLite engine of the database layer. Opened in WAL mode with
/// synchronous=FULL (a committed transaction is on disk before commit()
/// returns), foreign keys enforced and a busy timeout so concurrent writers
/// wait instead of failing at once.

#include <chrono>
#include <filesystem>
#include <memory>

#include "rsp/store/database.hpp"

namespace rsp::store {

struct SqliteOptions {
  std::chrono::milliseconds busy_timeout{5000};
  /// Creates the file when missing (else Open error).
  bool create = true;
};

/// Opens (or creates) the database file; ":memory:" gives a private
/// in-memory database (no WAL there).
DbResult<std::unique_ptr<Database>> open_sqlite(const std::filesystem::path& path, SqliteOptions options = {});

}  // namespace rsp::store
