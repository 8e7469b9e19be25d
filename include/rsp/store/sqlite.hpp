#pragma once
/// The SQLite engine of the database layer. Opened in WAL mode with
/// synchronous=FULL (a committed transaction is on disk before commit()
/// returns), foreign keys enforced and a busy timeout so concurrent writers
/// wait instead of failing at once. A database file it creates is for the
/// owner only (0600), and so are the -wal and -shm files SQLite makes beside
/// it: the SM-DP+ keeps its subscribers' profile packages there.

#include <chrono>
#include <functional>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "rsp/store/database.hpp"

namespace rsp::store {

struct SqliteOptions {
  std::chrono::milliseconds busy_timeout{5000};
  /// Creates the file when missing (else Open error).
  bool create = true;
  /// A file database writes the frames each transaction appends to its
  /// write-ahead log with one write call (lib/store/wal_batch.cpp), not two
  /// per page; the same bytes reach the file before SQLite publishes the
  /// commit or syncs. false, or RSP_SQLITE_WAL_BATCH=0 in the environment
  /// (for every database the process opens), writes them as SQLite does.
  bool batch_wal_writes = true;
  /// For tests: runs on the committing thread, without the connection, just
  /// before each sync of the log made without it, so that a test can hold a
  /// flush in flight. Unset in production.
  std::function<void()> before_unlocked_sync;
};

/// Transactions that commit while others wait to begin, or while an earlier
/// group's flush is in flight, share one disk flush (group commit); commit()
/// still returns only once its changes are on disk,
/// except a transaction of begin_deferred_flush() (database.hpp), whose group
/// of such transactions commits without one.
struct SqliteCommitStats {
  std::uint64_t commits = 0;   ///< transactions committed
  std::uint64_t flushes = 0;   ///< physical commits (disk flushes) they took
  std::uint64_t deferred = 0;  ///< physical commits without a flush (begin_deferred_flush() only)
  /// Syncs of the write-ahead log the connection made itself (a file in WAL
  /// mode: after each flushed group and each write outside a transaction;
  /// the connection stays at synchronous=NORMAL).
  std::uint64_t wal_syncs = 0;
  /// Of wal_syncs, those made without holding the connection (a flushed
  /// group's, on a descriptor of the log: transactions go on meanwhile).
  std::uint64_t unlocked_wal_syncs = 0;
  /// Writes SQLite made to the write-ahead log, and the write calls that
  /// reached the file for them (SqliteOptions::batch_wal_writes; both 0
  /// without it).
  std::uint64_t wal_write_requests = 0;
  std::uint64_t wal_write_calls = 0;
};
/// Zeros for a database of another engine.
SqliteCommitStats sqlite_commit_stats(Database& db);

/// A file of a SQLite database that group or others may read.
struct ExposedFile {
  std::filesystem::path path;
  unsigned mode = 0;  ///< permission bits, e.g. 0644
};
/// Those of the database file at `path` and its -wal, -shm and -journal files
/// that exist and that group or others can read (a database made by an older
/// version, or copied): for a warning at start, never a refusal.
std::vector<ExposedFile> sqlite_files_readable_by_others(const std::filesystem::path& path);

/// Opens (or creates, 0600) the database file; ":memory:" gives a private
/// in-memory database (no WAL there).
DbResult<std::unique_ptr<Database>> open_sqlite(const std::filesystem::path& path, SqliteOptions options = {});

}  // namespace rsp::store
