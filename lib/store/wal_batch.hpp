#pragma once
/// A SQLite VFS over the default unix one that writes the frames a
/// transaction appends to the write-ahead log with one write call instead of
/// two per page (SQLite writes each frame's 24-byte header, then its page).
/// Everything else goes to the unix VFS unchanged; wal_batch.cpp explains why
/// the log on disk and what other connections see stay as they were.

#include <sqlite3.h>

#include <cstdint>

namespace rsp::store::wal_batch {

/// The VFS name to give sqlite3_open_v2, registered on first use; null when
/// the default VFS is not the unix one this layer wraps.
const char* vfs_name();

/// A descriptor of the write-ahead log of the connection whose main database
/// file is `db`, for an fdatasync() made without the connection (the caller
/// closes it): the log's whole content reaches the disk as through SQLite's
/// own sync, whatever the connection does meanwhile, as nothing of its file
/// object is touched. -1 when there is none to give: no log open through
/// vfs_name(), bytes still held, or a log SQLite has not synced once
/// itself yet (that first sync also syncs the folder of a new log).
/// Call it with the connection held.
int sync_descriptor(sqlite3_file* db);

struct WriteCounts {
  std::uint64_t requests = 0;  ///< writes SQLite asked of the write-ahead log
  std::uint64_t calls = 0;     ///< write calls made to the file for them
};
/// Those of the connection whose main database file is `db` (from
/// SQLITE_FCNTL_FILE_POINTER); zeros for a file not opened through vfs_name().
WriteCounts write_counts(sqlite3_file* db);

}  // namespace rsp::store::wal_batch
