// Write-ahead log appends gathered into one write per transaction.
//
// What SQLite (3.40, wal.c) does on commit, sqlite3WalFrames: when the log is
// empty, the 32-byte log header at offset 0 (then a sync of the log); then,
// for each page, walWriteOneFrame writes the frame's 24-byte header and then
// the page, each frame right after the one before; the last frame of a
// commit carries the database size in header bytes 4..7 (0 in every other
// frame). After these writes it may rewrite frames of the same transaction in
// place (a page written again after a cache spill, and then the frame
// checksums, each after reading the frame back), pad with copies of the
// commit frame and sync (synchronous=FULL), truncate the log (first
// transaction after a restart), and only then publishes the commit in the
// wal-index, the shared memory other connections read: walIndexWriteHdr
// writes the index header's second copy, calls xShmBarrier on the database
// file, then writes the first copy; a reader takes a header only when both
// copies agree. The writer holds the WAL write lock (xShmLock on the database
// file) all along, so nobody else writes or recovers the log meanwhile.
//
// This layer holds the writes that continue an append run (the log header,
// then frame after frame) in memory and writes them out with one call:
//   - when the held bytes end with a complete commit frame (or a frame whose
//     header was written out before, counted as one), so the commit frame is
//     in the file before the write call that completed it returns, before
//     SQLite goes on to publish it;
//   - before anything else done with the log file (read, a write elsewhere,
//     sync, truncate, size, locks, file controls, xShm*, close), so SQLite
//     reads back what it wrote, syncs what it wrote and finds the file as
//     long as it expects;
//   - before xShmMap, xShmLock, xShmBarrier and xShmUnmap on the connection's
//     database file, where SQLite calls them (not on the log): nothing is held
//     when the wal-index header is published (the barrier) nor when the write
//     lock is released (frames of a transaction rolled back are written while
//     the lock is still held, as without this layer, never later over frames
//     of another connection);
//   - when more than kMaxHeld (128 KiB - 1) bytes would be held: the
//     complete frames, the frame begun staying with the rest of it.
// A write that does not continue the run (a frame rewritten in place, a
// checksum) goes out at once, after what was held. So the file holds, at any
// point another connection or a crash could observe, the same bytes as
// without this layer; durability is untouched (each sync first writes out
// what is held, and SQLite's syncs and the store's own, sqlite.cpp sync_wal,
// reach the log through its file object, hence through this layer).
//
// A write that fails reports what the unix VFS reports (SQLITE_IOERR_WRITE,
// SQLITE_FULL) from the call that wrote: the append, or the read, sync...
// that wrote out the held bytes first. Where that call cannot report it
// (xShmBarrier, an unlock, an unmap), the error is kept and returned by the
// next call on the log.
#include "wal_batch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>
#include <type_traits>

namespace rsp::store::wal_batch {
namespace {

constexpr const char* kVfsName = "rsp-wal-batch";
constexpr sqlite3_int64 kLogHeaderSize = 32;
constexpr sqlite3_int64 kFrameHeaderSize = 24;
/// The most held: the unix VFS writes at most 128 KiB - 1 bytes a call (its
/// seekAndWriteFd keeps the low 17 bits of the length). About 30 frames of
/// 4 KiB pages; a larger transaction takes a call per 128 KiB.
constexpr std::size_t kMaxHeld = 0x1ffff;

sqlite3_vfs* base_vfs = nullptr;  // the unix VFS, set once by vfs_name()

struct LogFile;

/// A main database file: the unix VFS's file, and the connection's
/// write-ahead log while it is open.
struct DbFile {
  sqlite3_file file;  // first: what SQLite holds
  sqlite3_file* inner;
  LogFile* log;
  WriteCounts counts;
};

/// A write-ahead log file and the append run it holds.
struct LogFile {
  sqlite3_file file;  // first: what SQLite holds
  sqlite3_file* inner;
  DbFile* db;             // null: every write goes out at once
  WriteCounts* counts;    // the database file's, or own_counts
  WriteCounts own_counts;
  unsigned char* held;    // held bytes, for the file at held_at
  std::size_t held_size;
  std::size_t held_capacity;
  sqlite3_int64 held_at;
  sqlite3_int64 last_end;  // end of the last write (-1: none yet)
  sqlite3_int64 page_size;  // from the log header (0: not known)
  bool page_size_probed;
  int kept_error;  // a write-out error not reported yet
  /// The log opened once more, read-only, for sync_descriptor(): a sync
  /// that needs nothing of SQLite's file object (-1: not open).
  int own_fd;
  /// SQLite has synced the log through this file (the first sync of a log
  /// it created also syncs the folder, the unix VFS's DIRSYNC).
  bool synced;
};
// Made with placement new in the memory SQLite gives xOpen, never destroyed.
static_assert(std::is_standard_layout_v<DbFile> && std::is_standard_layout_v<LogFile>);
static_assert(std::is_trivially_destructible_v<DbFile> && std::is_trivially_destructible_v<LogFile>);

/// The wrapper's size, rounded so the unix VFS's file after it is aligned.
constexpr int kWrapperSize = static_cast<int>((std::max(sizeof(DbFile), sizeof(LogFile)) + 15) / 16 * 16);

sqlite3_file* inner_of(sqlite3_file* f) {
  return static_cast<sqlite3_file*>(static_cast<void*>(reinterpret_cast<unsigned char*>(f) + kWrapperSize));
}
DbFile* db_of(sqlite3_file* f) { return reinterpret_cast<DbFile*>(f); }
LogFile* log_of(sqlite3_file* f) { return reinterpret_cast<LogFile*>(f); }

std::uint32_t big_endian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// The page size a log header names (0 when it is not one).
sqlite3_int64 header_page_size(const unsigned char* header) {
  const std::uint32_t magic = big_endian32(header);
  if (magic != 0x377f0682 && magic != 0x377f0683) return 0;
  const std::uint32_t size = big_endian32(header + 8);
  if (size < 512 || size > 65536 || (size & (size - 1)) != 0) return 0;
  return size;
}

// ---- the log file --------------------------------------------------------

int write_through(LogFile* log, const void* data, int amount, sqlite3_int64 offset) {
  ++log->counts->calls;
  log->last_end = offset + amount;
  return log->inner->pMethods->xWrite(log->inner, data, amount, offset);
}

/// Writes out what is held (nothing held afterwards, whatever the result).
int write_out(LogFile* log) {
  if (log->held_size == 0) return SQLITE_OK;
  const auto amount = static_cast<int>(log->held_size);
  log->held_size = 0;
  ++log->counts->calls;
  return log->inner->pMethods->xWrite(log->inner, log->held, amount, log->held_at);
}

/// When the held bytes are full: the complete frames written out, the frame
/// begun kept to be completed (else the write of its page would go out on its
/// own, its header no longer held to tell whether it is a commit frame).
int write_out_complete_frames(LogFile* log) {
  const sqlite3_int64 end = log->held_at + static_cast<sqlite3_int64>(log->held_size);
  if (log->page_size == 0 || end <= kLogHeaderSize) return write_out(log);
  const sqlite3_int64 boundary = end - (end - kLogHeaderSize) % (kFrameHeaderSize + log->page_size);
  if (boundary <= log->held_at) return write_out(log);
  const auto amount = static_cast<std::size_t>(boundary - log->held_at);
  ++log->counts->calls;
  const int rc = log->inner->pMethods->xWrite(log->inner, log->held, static_cast<int>(amount), log->held_at);
  log->held_size = rc == SQLITE_OK ? log->held_size - amount : 0;
  std::memmove(log->held, log->held + amount, log->held_size);
  log->held_at = boundary;
  return rc;
}

/// Before another use of the log: what is held written out, and an error kept
/// from earlier reported.
int settle(LogFile* log) {
  const int rc = write_out(log);
  if (rc != SQLITE_OK) return rc;
  const int kept = log->kept_error;
  log->kept_error = SQLITE_OK;
  return kept;
}

/// For a call that cannot report an error.
void write_out_or_keep(LogFile* log) {
  const int rc = write_out(log);
  if (rc != SQLITE_OK && log->kept_error == SQLITE_OK) log->kept_error = rc;
}

/// The page size, from the header on disk when the log was written before
/// this file was opened (read once; nothing is held when this runs).
bool knows_page_size(LogFile* log) {
  if (log->page_size != 0 || log->page_size_probed) return log->page_size != 0;
  log->page_size_probed = true;
  unsigned char header[kLogHeaderSize];
  if (log->inner->pMethods->xRead(log->inner, header, sizeof header, 0) == SQLITE_OK)
    log->page_size = header_page_size(header);
  return log->page_size != 0;
}

/// Whether the held bytes end with a complete frame that is a commit frame,
/// or whose header is no longer held (then it may be one).
bool ends_with_commit_frame(const LogFile* log) {
  if (log->page_size == 0) return true;
  const sqlite3_int64 frame = kFrameHeaderSize + log->page_size;
  const sqlite3_int64 end = log->held_at + static_cast<sqlite3_int64>(log->held_size);
  if (end <= kLogHeaderSize || (end - kLogHeaderSize) % frame != 0) return false;
  const sqlite3_int64 start = end - frame;
  if (start < log->held_at) return true;
  const unsigned char* size_after_commit = log->held + (start - log->held_at) + 4;
  return big_endian32(size_after_commit) != 0;
}

bool make_room(LogFile* log, std::size_t size) {
  if (size <= log->held_capacity) return true;
  std::size_t capacity = log->held_capacity ? log->held_capacity : 64 * 1024;
  while (capacity < size) capacity *= 2;
  void* grown = sqlite3_realloc64(log->held, capacity);
  if (!grown) return false;
  log->held = static_cast<unsigned char*>(grown);
  log->held_capacity = capacity;
  return true;
}

int log_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  LogFile* log = log_of(f);
  ++log->counts->requests;
  if (const int kept = log->kept_error; kept != SQLITE_OK) {
    log->kept_error = SQLITE_OK;
    return kept;
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  const auto size = static_cast<std::size_t>(amount);
  if (offset == 0 && amount >= kLogHeaderSize) log->page_size = header_page_size(bytes);
  const bool continues = log->held_size > 0 && offset == log->held_at + static_cast<sqlite3_int64>(log->held_size);
  if (continues && log->held_size + size > kMaxHeld) {
    if (const int rc = write_out_complete_frames(log); rc != SQLITE_OK) return rc;
  }
  if (!continues || log->held_size + size > kMaxHeld) {
    if (const int rc = write_out(log); rc != SQLITE_OK) return rc;
    // An append run starts with the log header or right after the last write.
    const bool run = continues || offset == 0 || offset == log->last_end;
    if (!run || !log->db || size > kMaxHeld || !knows_page_size(log)) return write_through(log, data, amount, offset);
    log->held_at = offset;
  }
  if (!make_room(log, log->held_size + size)) {
    if (const int rc = write_out(log); rc != SQLITE_OK) return rc;
    return write_through(log, data, amount, offset);
  }
  std::memcpy(log->held + log->held_size, bytes, size);
  log->held_size += size;
  log->last_end = offset + amount;
  if (ends_with_commit_frame(log)) return write_out(log);
  return SQLITE_OK;
}

int log_read(sqlite3_file* f, void* data, int amount, sqlite3_int64 offset) {
  LogFile* log = log_of(f);
  if (const int rc = settle(log); rc != SQLITE_OK) return rc;
  return log->inner->pMethods->xRead(log->inner, data, amount, offset);
}

int log_close(sqlite3_file* f) {
  LogFile* log = log_of(f);
  const int rc = settle(log);
  if (log->db && log->db->log == log) log->db->log = nullptr;
  const int closed = log->inner->pMethods->xClose(log->inner);
  sqlite3_free(log->held);
  log->held = nullptr;
  if (log->own_fd >= 0) ::close(log->own_fd);
  log->own_fd = -1;
  return rc != SQLITE_OK ? rc : closed;
}

/// The log's other calls: what is held written out first.
template <auto Method, typename... Args>
int log_settled(sqlite3_file* f, Args... args) {
  LogFile* log = log_of(f);
  if (const int rc = settle(log); rc != SQLITE_OK) return rc;
  return (log->inner->pMethods->*Method)(log->inner, args...);
}

int log_sync(sqlite3_file* f, int flags) {
  LogFile* log = log_of(f);
  if (const int rc = settle(log); rc != SQLITE_OK) return rc;
  const int rc = log->inner->pMethods->xSync(log->inner, flags);
  if (rc == SQLITE_OK) log->synced = true;
  return rc;
}

int log_sector_size(sqlite3_file* f) {
  sqlite3_file* inner = log_of(f)->inner;
  return inner->pMethods->xSectorSize(inner);
}
int log_device_characteristics(sqlite3_file* f) {
  sqlite3_file* inner = log_of(f)->inner;
  return inner->pMethods->xDeviceCharacteristics(inner);
}
void log_shm_barrier(sqlite3_file* f) {
  LogFile* log = log_of(f);
  write_out_or_keep(log);
  log->inner->pMethods->xShmBarrier(log->inner);
}

const sqlite3_io_methods kLogMethods = {
    3,
    log_close,
    log_read,
    log_write,
    log_settled<&sqlite3_io_methods::xTruncate, sqlite3_int64>,
    log_sync,
    log_settled<&sqlite3_io_methods::xFileSize, sqlite3_int64*>,
    log_settled<&sqlite3_io_methods::xLock, int>,
    log_settled<&sqlite3_io_methods::xUnlock, int>,
    log_settled<&sqlite3_io_methods::xCheckReservedLock, int*>,
    log_settled<&sqlite3_io_methods::xFileControl, int, void*>,
    log_sector_size,
    log_device_characteristics,
    log_settled<&sqlite3_io_methods::xShmMap, int, int, int, void volatile**>,
    log_settled<&sqlite3_io_methods::xShmLock, int, int, int>,
    log_shm_barrier,
    log_settled<&sqlite3_io_methods::xShmUnmap, int>,
    log_settled<&sqlite3_io_methods::xFetch, sqlite3_int64, int, void**>,
    log_settled<&sqlite3_io_methods::xUnfetch, sqlite3_int64, void*>,
};

// ---- the database file ---------------------------------------------------

/// A call passed on unchanged.
template <auto Method, typename... Args>
int db_forward(sqlite3_file* f, Args... args) {
  sqlite3_file* inner = db_of(f)->inner;
  return (inner->pMethods->*Method)(inner, args...);
}

int db_close(sqlite3_file* f) {
  DbFile* db = db_of(f);
  int rc = SQLITE_OK;
  if (db->log) {  // SQLite closes the log first; should it not, the log goes on alone
    rc = settle(db->log);
    db->log->counts = &db->log->own_counts;
    db->log->db = nullptr;
  }
  const int closed = db->inner->pMethods->xClose(db->inner);
  return rc != SQLITE_OK ? rc : closed;
}

int db_shm_map(sqlite3_file* f, int page, int page_size, int extend, void volatile** mapped) {
  DbFile* db = db_of(f);
  if (db->log) {
    if (const int rc = write_out(db->log); rc != SQLITE_OK) return rc;
  }
  return db->inner->pMethods->xShmMap(db->inner, page, page_size, extend, mapped);
}
int db_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  DbFile* db = db_of(f);
  if (db->log) {
    if ((flags & SQLITE_SHM_UNLOCK) != 0) {
      write_out_or_keep(db->log);  // the lock is released all the same
    } else if (const int rc = write_out(db->log); rc != SQLITE_OK) {
      return rc;
    }
  }
  return db->inner->pMethods->xShmLock(db->inner, offset, n, flags);
}
void db_shm_barrier(sqlite3_file* f) {
  DbFile* db = db_of(f);
  if (db->log) write_out_or_keep(db->log);
  db->inner->pMethods->xShmBarrier(db->inner);
}
int db_shm_unmap(sqlite3_file* f, int delete_flag) {
  DbFile* db = db_of(f);
  if (db->log) write_out_or_keep(db->log);
  return db->inner->pMethods->xShmUnmap(db->inner, delete_flag);
}
int db_sector_size(sqlite3_file* f) {
  sqlite3_file* inner = db_of(f)->inner;
  return inner->pMethods->xSectorSize(inner);
}
int db_device_characteristics(sqlite3_file* f) {
  sqlite3_file* inner = db_of(f)->inner;
  return inner->pMethods->xDeviceCharacteristics(inner);
}

const sqlite3_io_methods kDbMethods = {
    3,
    db_close,
    db_forward<&sqlite3_io_methods::xRead, void*, int, sqlite3_int64>,
    db_forward<&sqlite3_io_methods::xWrite, const void*, int, sqlite3_int64>,
    db_forward<&sqlite3_io_methods::xTruncate, sqlite3_int64>,
    db_forward<&sqlite3_io_methods::xSync, int>,
    db_forward<&sqlite3_io_methods::xFileSize, sqlite3_int64*>,
    db_forward<&sqlite3_io_methods::xLock, int>,
    db_forward<&sqlite3_io_methods::xUnlock, int>,
    db_forward<&sqlite3_io_methods::xCheckReservedLock, int*>,
    db_forward<&sqlite3_io_methods::xFileControl, int, void*>,
    db_sector_size,
    db_device_characteristics,
    db_shm_map,
    db_shm_lock,
    db_shm_barrier,
    db_shm_unmap,
    db_forward<&sqlite3_io_methods::xFetch, sqlite3_int64, int, void**>,
    db_forward<&sqlite3_io_methods::xUnfetch, sqlite3_int64, void*>,
};

// ---- the VFS -------------------------------------------------------------

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  const bool main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  const bool wal = (flags & SQLITE_OPEN_WAL) != 0;
  // Other files (temporary ones, journals) are the unix VFS's own, in place.
  if (!main_db && !wal) return base_vfs->xOpen(base_vfs, name, f, flags, out_flags);
  f->pMethods = nullptr;
  sqlite3_file* inner = inner_of(f);
  std::memset(static_cast<void*>(inner), 0, static_cast<std::size_t>(base_vfs->szOsFile));
  const int rc = base_vfs->xOpen(base_vfs, name, inner, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (inner->pMethods) inner->pMethods->xClose(inner);
    return rc;
  }
  // Every method of version 3 is passed on without a check.
  if (inner->pMethods->iVersion < 3) {
    inner->pMethods->xClose(inner);
    return SQLITE_CANTOPEN;
  }
  if (main_db) {
    auto* db = new (f) DbFile{};
    db->file.pMethods = &kDbMethods;
    db->inner = inner;
    return SQLITE_OK;
  }
  auto* log = new (f) LogFile{};
  log->inner = inner;
  log->counts = &log->own_counts;
  log->last_end = -1;
  // Opened right after SQLite's own open of the same path: the same file.
  log->own_fd = name ? ::open(name, O_RDONLY | O_CLOEXEC) : -1;
  // The log's connection, by its database file: its xShm* calls write out
  // what the log holds. Without it every write goes out at once.
  sqlite3_file* db_file = name ? sqlite3_database_file_object(name) : nullptr;
  if (db_file && db_file->pMethods == &kDbMethods && !db_of(db_file)->log) {
    log->db = db_of(db_file);
    log->db->log = log;
    log->counts = &log->db->counts;
  }
  log->file.pMethods = &kLogMethods;
  return SQLITE_OK;
}

sqlite3_vfs wal_batch_vfs;

void register_vfs() {
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (!base || std::string_view(base->zName) != "unix" || base->iVersion < 3) return;
  base_vfs = base;
  sqlite3_vfs& v = wal_batch_vfs;
  v.iVersion = 3;
  v.szOsFile = kWrapperSize + base->szOsFile;
  v.mxPathname = base->mxPathname;
  v.zName = kVfsName;
  v.xOpen = vfs_open;
  v.xDelete = [](sqlite3_vfs*, const char* path, int sync_dir) { return base_vfs->xDelete(base_vfs, path, sync_dir); };
  v.xAccess = [](sqlite3_vfs*, const char* path, int what, int* out) {
    return base_vfs->xAccess(base_vfs, path, what, out);
  };
  v.xFullPathname = [](sqlite3_vfs*, const char* path, int size, char* out) {
    return base_vfs->xFullPathname(base_vfs, path, size, out);
  };
  v.xDlOpen = [](sqlite3_vfs*, const char* path) { return base_vfs->xDlOpen(base_vfs, path); };
  v.xDlError = [](sqlite3_vfs*, int size, char* out) { base_vfs->xDlError(base_vfs, size, out); };
  v.xDlSym = [](sqlite3_vfs*, void* handle, const char* symbol) { return base_vfs->xDlSym(base_vfs, handle, symbol); };
  v.xDlClose = [](sqlite3_vfs*, void* handle) { base_vfs->xDlClose(base_vfs, handle); };
  v.xRandomness = [](sqlite3_vfs*, int size, char* out) { return base_vfs->xRandomness(base_vfs, size, out); };
  v.xSleep = [](sqlite3_vfs*, int micros) { return base_vfs->xSleep(base_vfs, micros); };
  v.xCurrentTime = [](sqlite3_vfs*, double* now) { return base_vfs->xCurrentTime(base_vfs, now); };
  v.xGetLastError = [](sqlite3_vfs*, int size, char* out) { return base_vfs->xGetLastError(base_vfs, size, out); };
  v.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* now) { return base_vfs->xCurrentTimeInt64(base_vfs, now); };
  v.xSetSystemCall = [](sqlite3_vfs*, const char* call, sqlite3_syscall_ptr ptr) {
    return base_vfs->xSetSystemCall(base_vfs, call, ptr);
  };
  v.xGetSystemCall = [](sqlite3_vfs*, const char* call) { return base_vfs->xGetSystemCall(base_vfs, call); };
  v.xNextSystemCall = [](sqlite3_vfs*, const char* call) { return base_vfs->xNextSystemCall(base_vfs, call); };
  if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) base_vfs = nullptr;
}

}  // namespace

const char* vfs_name() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return base_vfs ? kVfsName : nullptr;
}

int sync_descriptor(sqlite3_file* db) {
  if (!db || db->pMethods != &kDbMethods) return -1;
  const LogFile* log = db_of(db)->log;
  if (!log || log->own_fd < 0 || !log->synced || log->held_size != 0 || log->kept_error != SQLITE_OK) return -1;
  return ::fcntl(log->own_fd, F_DUPFD_CLOEXEC, 0);
}

WriteCounts write_counts(sqlite3_file* db) {
  if (!db || db->pMethods != &kDbMethods) return {};
  return db_of(db)->counts;
}

}  // namespace rsp::store::wal_batch
