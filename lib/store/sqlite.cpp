#include "rsp/store/sqlite.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "wal_batch.hpp"

namespace rsp::store {

namespace {

DbError::Kind kind_of(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_CONSTRAINT: return DbError::Kind::Constraint;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DbError::Kind::Busy;
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_FULL:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY: return DbError::Kind::Io;
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return DbError::Kind::Misuse;
    default: return DbError::Kind::Syntax;
  }
}

unexpected<DbError> sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return db_error(kind_of(rc), std::move(msg));
}

class SqliteDatabase;

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(SqliteDatabase& owner, sqlite3* db, sqlite3_stmt* stmt, std::string sql)
      : owner_(owner), db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  ~SqliteStatement() override;
  DbResult<void> bind(int index, const Value& v) override;
  DbResult<bool> step() override;
  Row row() const override;
  int column_count() const override;
  std::int64_t changes() const override { return changes_; }
  DbResult<void> reset() override;

 private:
  SqliteDatabase& owner_;
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;  ///< its text, the key under which it returns to the cache
  std::int64_t changes_ = 0;
  /// A write outside a transaction that returned rows and has not reached
  /// its end: its autocommit happens at the reset, which then syncs.
  bool commit_at_reset_ = false;
  /// The durable end of a write outside a transaction (lock held).
  DbResult<void> autocommitted();
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override {
    if (group_) close_group();
    for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
    for (sqlite3_stmt* stmt : control_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  std::string_view dialect() const override { return "sqlite"; }

  /// Compiling a statement costs more than running a simple one, and the
  /// servers run the same few statements all the time: an idle compiled
  /// statement is kept per SQL text and handed out again (one user at a time).
  DbResult<std::unique_ptr<Statement>> prepare(std::string_view sql) override {
    auto lock = lock_connection();
    std::string text(sql);
    if (auto it = idle_.find(text); it != idle_.end()) {
      sqlite3_stmt* stmt = it->second;
      idle_.erase(it);
      return std::unique_ptr<Statement>(new SqliteStatement(*this, db_, stmt, std::move(text)));
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return sqlite_error(db_, rc, "prepare");
    }
    if (!stmt) return db_error(DbError::Kind::Misuse, "prepare: empty statement");
    return std::unique_ptr<Statement>(new SqliteStatement(*this, db_, stmt, std::move(text)));
  }

  /// Takes back a statement its user is done with: reset, unbound and kept
  /// for the next prepare() of the same text, or finalized when the cache is
  /// full or already holds that text.
  void release(sqlite3_stmt* stmt, std::string sql) {
    auto lock = lock_connection();
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (idle_.size() < kMaxIdleStatements && idle_.emplace(std::move(sql), stmt).second) return;
    sqlite3_finalize(stmt);
  }

  DbResult<void> execute_script(std::string_view sql) override {
    auto lock = lock_connection();
    const std::string text(sql);
    // A caller that sets the synchronous level itself (a connection meant
    // to never flush) gets the level it set: SQLite's own syncs, no flush of ours.
    if (wal_sync_ && text.find("synchronous") != std::string::npos) wal_sync_ = false;
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = "script: ";
      msg += err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return db_error(kind_of(rc), std::move(msg));
    }
    // What the script wrote on its own is on disk when it returns.
    if (!in_transaction) return sync_after_autocommit();
    return {};
  }

  /// Durability in WAL mode without switching the synchronous level.
  /// SQLite's synchronous=FULL differs from NORMAL in WAL mode only by a
  /// sync of the WAL file after each commit; PRAGMA statements are compiled
  /// again on every run, and a deferred group (begin_deferred_flush) took
  /// two of them. With wal_sync_ the connection stays at NORMAL and this
  /// class syncs the WAL itself after every commit that must be durable: a
  /// flushed group's COMMIT and a write outside a transaction. Set by
  /// open_sqlite for a file in WAL mode.
  bool wal_sync_ = false;
  /// fdatasync of the WAL file through SQLite's own file object (its
  /// directory too on the file's first sync, as SQLite does). Lock held.
  DbResult<void> sync_wal() {
    sqlite3_file* wal = nullptr;
    const int rc = sqlite3_file_control(db_, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK || !wal || !wal->pMethods)
      return db_error(DbError::Kind::Io, "sync: the write-ahead log is not open");
    if (const int sync = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL); sync != SQLITE_OK)
      return db_error(kind_of(sync), std::string("sync: ") + sqlite3_errstr(sync));
    ++stats_.wal_syncs;
    return {};
  }
  /// A descriptor of the WAL to sync without the lock (wal_batch.hpp); -1
  /// when it must be synced through SQLite (sync_wal). Lock held.
  int wal_sync_descriptor() {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK) return -1;
    return wal_batch::sync_descriptor(file);
  }
  /// After a write or script that ran outside a transaction (lock held):
  /// its autocommit is made durable.
  DbResult<void> sync_after_autocommit() {
    if (!wal_sync_) return {};
    return sync_wal();
  }

  DbResult<Transaction> begin() override { return begin_group(true); }
  DbResult<Transaction> begin_deferred_flush() override { return begin_group(false); }
  DbResult<Transaction> begin_group(bool flushed);

  /// Any use of the connection outside a transaction first ends the open
  /// commit group (durable unless all of it was begin_deferred_flush()):
  /// what it reads or writes then never depends on changes that are not
  /// committed yet; and it runs with synchronous=FULL, so that a statement
  /// that writes on its own is on disk when it returns.
  std::unique_lock<std::recursive_mutex> lock_connection() override {
    std::unique_lock<std::recursive_mutex> lock(mu_);
    if (!in_transaction) {
      if (group_) close_group();
      if (!sync_full_) restore_sync_full();
    }
    return lock;
  }

  sqlite3* handle() const { return db_; }
  bool in_transaction = false;

  /// The statements that open and close transactions and their savepoints,
  /// several per durable change: compiled once rather than parsed again by
  /// sqlite3_exec each time.
  enum Control { kBegin, kCommit, kRollback, kSavepoint, kRelease, kRollbackTo, kSyncFull, kSyncNormal, kControlCount };

  /// Runs one of them; an error is reported with SQLite's message, taken
  /// before the statement is reset. The caller holds the connection.
  DbResult<void> control(Control which, std::string_view what) {
    static constexpr const char* kSql[kControlCount] = {
        "BEGIN IMMEDIATE", "COMMIT",          "ROLLBACK", "SAVEPOINT rsp_tx", "RELEASE rsp_tx", "ROLLBACK TO rsp_tx",
        "PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL"};
    sqlite3_stmt*& stmt = control_[which];
    if (!stmt) {
      const int rc = sqlite3_prepare_v3(db_, kSql[which], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        stmt = nullptr;
        return sqlite_error(db_, rc, what);
      }
    }
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
      sqlite3_reset(stmt);
      return {};
    }
    auto err = sqlite_error(db_, rc, what);
    sqlite3_reset(stmt);
    return err;
  }

  // Group commit. A transaction runs as a savepoint inside one physical
  // transaction (the group); its commit() releases the savepoint and then,
  // when another thread is already waiting to begin one, lets that thread
  // join the group and waits for the group's COMMIT instead of paying its
  // own. The last member to finish commits the group: one disk flush for all
  // of them, and none of them returns before its changes are on disk.
  //
  // A group opened by begin_deferred_flush() commits with synchronous=NORMAL
  // (SQLite can change it only outside a transaction, so per group): in WAL
  // mode its COMMIT writes the frames to the WAL file without fsync, so they
  // survive kill -9 (the OS has them) and reach the disk with the next
  // flushed commit, whose fsync of the WAL covers every frame before it.
  // Such a transaction joins a flushed group freely; a flushed one arriving
  // at a deferred group first ends it (no flush) and opens its own.

  //
  // The flush of a group's COMMIT (the sync of the WAL) runs without the
  // lock where it can (wal_sync_ and a descriptor from wal_sync_descriptor):
  // the committing member syncs after releasing the connection, and the
  // transactions that begin meanwhile form the next group, which stays open
  // while a flush is in flight (its members wait, as behind a thread waiting
  // to begin) and commits when that flush ends: one flush in flight and the
  // next group's work done beside it. A group's members still return only
  // once its own flush is over; a later group's flush covers the WAL up to
  // its end, hence every earlier group too.

  /// How one group ended, shared by its members.
  struct Group {
    bool flushed = true;        ///< committed with synchronous=FULL (a disk flush)
    std::uint64_t members = 0;  ///< savepoints released into it
    bool behind_flush = false;  ///< left open while an earlier group flushed
    bool done = false;
    DbResult<void> result;
  };
  /// Called with the lock held and no transaction running. With
  /// `sync_later`, a flushed group's sync may be left to the caller, who
  /// runs it without the lock on the descriptor returned and then calls
  /// finish_sync(); -1: the group is done.
  int flush_group(bool sync_later = false) {
    auto group = std::move(group_);
    if (sqlite3_get_autocommit(db_)) {
      group->result = db_error(DbError::Kind::Io, "commit: the engine rolled the transaction back");
    } else if (auto r = control(kCommit, "commit"); !r) {
      group->result = std::move(r);
      if (!sqlite3_get_autocommit(db_)) (void)control(kRollback, "rollback");
    }
    else if (wal_sync_ && group->flushed) {
      // Committed and visible; not durable until the WAL is synced. A
      // failure is reported to every member, though the change stays.
      if (sync_later) {
        if (const int fd = wal_sync_descriptor(); fd >= 0) {
          ++syncs_in_flight_;
          ++syncs_started_;
          return fd;
        }
      }
      if (auto synced = sync_wal(); !synced) group->result = std::move(synced);
    }
    end_group(*group);
    return -1;
  }
  /// A group committed (and flushed when it had to be): its members told.
  void end_group(Group& group) {
    ++(group.flushed ? stats_.flushes : stats_.deferred);
    stats_.commits += group.members;
    group.done = true;
    if (!group.flushed && !wal_sync_) restore_sync_full();
    group_cv_.notify_all();
  }
  /// After the sync flush_group(true) left to its caller, `error` its errno
  /// (0: synced). Lock held.
  void finish_sync(Group& group, int error) {
    --syncs_in_flight_;
    ++syncs_finished_;
    if (error == 0) {
      ++stats_.wal_syncs;
      ++stats_.unlocked_wal_syncs;
    } else {
      group.result = db_error(DbError::Kind::Io, std::string("sync: ") + std::strerror(error));
    }
    end_group(group);
  }
  /// Syncs that flush_group(true) left to their callers, running now.
  int syncs_in_flight_ = 0;
  /// Such syncs begun and ended so far. A sync that ends made durable every
  /// frame written before it began, so once as many have ended as had begun
  /// at some moment, whatever was committed before that moment is on disk
  /// (whichever syncs they were).
  std::uint64_t syncs_started_ = 0, syncs_finished_ = 0;
  std::function<void()> before_unlocked_sync_;  ///< SqliteOptions::before_unlocked_sync
  /// Back to synchronous=FULL after a deferred group (lock held, no
  /// transaction open). When that fails, sync_full_ stays false and the next
  /// use of the connection tries again before it writes anything.
  void restore_sync_full() {
    if (control(kSyncFull, "synchronous")) sync_full_ = true;
  }
  /// Ends the open group (lock held, no transaction running): commits it, or
  /// rolls it back when no member committed into it. `sync_later` and the
  /// result as flush_group's.
  int close_group(bool sync_later = false) {
    if (group_->members > 0) return flush_group(sync_later);
    if (!sqlite3_get_autocommit(db_)) (void)control(kRollback, "rollback");
    group_->done = true;
    group_.reset();
    if (!sync_full_) restore_sync_full();
    return -1;
  }
  std::shared_ptr<Group> group_;  ///< the open group, if any
  std::condition_variable_any group_cv_;
  std::atomic<int> begin_waiters{0};  ///< threads waiting for the lock in begin()
  SqliteCommitStats stats_;
  bool sync_full_ = true;  ///< synchronous=FULL now (open_sqlite sets it)
  SqliteCommitStats stats() {
    std::lock_guard lock(mu_);
    SqliteCommitStats out = stats_;
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK) {
      const auto writes = wal_batch::write_counts(file);
      out.wal_write_requests = writes.requests;
      out.wal_write_calls = writes.calls;
    }
    return out;
  }

 private:
  static constexpr std::size_t kMaxIdleStatements = 128;
  sqlite3* db_;
  std::recursive_mutex mu_;
  std::unordered_map<std::string, sqlite3_stmt*> idle_;
  sqlite3_stmt* control_[kControlCount] = {};
};

SqliteStatement::~SqliteStatement() {
  if (commit_at_reset_) {
    auto lock = owner_.lock_connection();
    sqlite3_reset(stmt_);
    (void)autocommitted();  // best effort: Statement::run steps to the end and reports a failed sync there
  }
  owner_.release(stmt_, std::move(sql_));
}

DbResult<void> SqliteStatement::autocommitted() {
  commit_at_reset_ = false;
  if (owner_.in_transaction || sqlite3_stmt_readonly(stmt_)) return {};
  return owner_.sync_after_autocommit();
}

DbResult<void> SqliteStatement::bind(int index, const Value& v) {
  auto lock = owner_.lock_connection();
  const std::string name = "$" + std::to_string(index);
  const int pos = sqlite3_bind_parameter_index(stmt_, name.c_str());
  if (pos == 0) return db_error(DbError::Kind::Misuse, "statement has no parameter " + name);
  int rc = SQLITE_OK;
  if (std::holds_alternative<Null>(v)) {
    rc = sqlite3_bind_null(stmt_, pos);
  } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
    rc = sqlite3_bind_int64(stmt_, pos, *n);
  } else if (const auto* d = std::get_if<double>(&v)) {
    rc = sqlite3_bind_double(stmt_, pos, *d);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    rc = sqlite3_bind_text64(stmt_, pos, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else if (const auto* b = std::get_if<Bytes>(&v)) {
    // A zero-length blob stays a blob (not NULL).
    rc = b->empty() ? sqlite3_bind_zeroblob(stmt_, pos, 0)
                    : sqlite3_bind_blob64(stmt_, pos, b->data(), b->size(), SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, "bind " + name);
  return {};
}

DbResult<bool> SqliteStatement::step() {
  auto lock = owner_.lock_connection();
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    if (!owner_.in_transaction && !sqlite3_stmt_readonly(stmt_)) commit_at_reset_ = true;
    return true;
  }
  if (rc == SQLITE_DONE) {
    changes_ = sqlite3_changes64(db_);
    RSP_TRY_VOID(autocommitted());
    return false;
  }
  commit_at_reset_ = false;
  auto err = sqlite_error(db_, rc, "step");
  sqlite3_reset(stmt_);
  return err;
}

Row SqliteStatement::row() const {
  auto lock = owner_.lock_connection();
  const int n = sqlite3_column_count(stmt_);
  std::vector<Value> values;
  values.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    switch (sqlite3_column_type(stmt_, i)) {
      case SQLITE_INTEGER: values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt_, i))); break;
      case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(stmt_, i)); break;
      case SQLITE_TEXT: {
        const auto* p = sqlite3_column_text(stmt_, i);
        const int len = sqlite3_column_bytes(stmt_, i);
        values.emplace_back(std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(len)));
        break;
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, i));
        const int len = sqlite3_column_bytes(stmt_, i);
        values.emplace_back(p ? Bytes(p, p + len) : Bytes{});
        break;
      }
      default: values.emplace_back(Null{}); break;
    }
  }
  return Row(std::move(values));
}

int SqliteStatement::column_count() const { return sqlite3_column_count(stmt_); }

DbResult<void> SqliteStatement::reset() {
  auto lock = owner_.lock_connection();
  sqlite3_reset(stmt_);  // its return code repeats the last step error, already reported
  // A write stopped before its end commits here.
  if (commit_at_reset_) return autocommitted();
  return {};
}

class SqliteTransaction final : public Transaction::Impl {
 public:
  SqliteTransaction(SqliteDatabase& db, std::unique_lock<std::recursive_mutex> lock,
                    std::shared_ptr<SqliteDatabase::Group> group)
      : db_(db), lock_(std::move(lock)), group_(std::move(group)) {}
  ~SqliteTransaction() override { rollback(); }

  DbResult<void> commit() override {
    if (done_) return db_error(DbError::Kind::Misuse, "transaction already finished");
    if (auto r = db_.control(SqliteDatabase::kRelease, "commit"); !r) {
      rollback();
      return r;
    }
    ++group_->members;
    // What this transaction read may come from a group committed (visible)
    // but still being flushed without the lock. A deferred group has no
    // flush of its own to wait for, yet its caller may act on what it read:
    // the outbox hands a callback to its recipient. So it returns only once
    // the syncs begun by now have ended: nothing it read is then short of
    // the disk (a completion is never told before it is durable).
    const std::uint64_t read_behind = db_.syncs_started_;
    sync_unlocked(finish_member(true), *group_);
    // Until the group is on disk, this transaction is not committed. A group
    // left open while an earlier one flushed is committed, once that flush
    // is over, by one of its members (none is running any more).
    while (!group_->done) {
      if (db_.group_ == group_ && group_->behind_flush && !db_.in_transaction && db_.syncs_in_flight_ == 0 &&
          db_.begin_waiters.load() == 0) {
        sync_unlocked(db_.close_group(true), *group_);
        continue;
      }
      db_.group_cv_.wait(lock_);
    }
    while (!group_->flushed && db_.syncs_finished_ < read_behind) db_.group_cv_.wait(lock_);
    lock_.unlock();
    return group_->result;
  }

  void rollback() noexcept override {
    if (done_) return;
    // Harmless when SQLite already rolled back on its own (e.g. after
    // SQLITE_FULL); then the members before this one are lost too, and
    // their commit() reports it.
    if (!sqlite3_get_autocommit(db_.handle())) {
      (void)db_.control(SqliteDatabase::kRollbackTo, "rollback");
      (void)db_.control(SqliteDatabase::kRelease, "rollback");
    }
    finish_member();
    if (lock_.owns_lock()) lock_.unlock();
  }

 private:
  /// Leaves the group: hands it over to a thread waiting to join, leaves it
  /// to its members while an earlier group flushes, or commits it (rolls it
  /// back when nobody committed into it). `sync_later` and the result as
  /// SqliteDatabase::flush_group's.
  int finish_member(bool sync_later = false) {
    done_ = true;
    db_.in_transaction = false;
    constexpr std::uint64_t kMaxMembers = 32;  // bounds how long the first member waits
    const bool joinable = group_->members < kMaxMembers && !sqlite3_get_autocommit(db_.handle());
    // Left open while a flush is in flight: a group whose members wait for
    // it (a deferred group commits at once; it has no flush to wait for).
    const bool behind_flush = db_.syncs_in_flight_ > 0 && group_->members > 0 && group_->flushed;
    const bool hand_over = joinable && (db_.begin_waiters.load() > 0 || behind_flush);
    if (!hand_over && db_.group_ == group_) return db_.close_group(sync_later);
    if (hand_over && behind_flush) group_->behind_flush = true;
    return -1;
  }
  /// The sync flush_group(true) left to this thread, on `fd` (none when -1),
  /// without the lock; then `group` ends.
  void sync_unlocked(int fd, SqliteDatabase::Group& group) {
    if (fd < 0) return;
    lock_.unlock();
    if (db_.before_unlocked_sync_) db_.before_unlocked_sync_();
    const int error = ::fdatasync(fd) == 0 ? 0 : errno;
    ::close(fd);
    lock_.lock();
    db_.finish_sync(group, error);
  }

  SqliteDatabase& db_;
  std::unique_lock<std::recursive_mutex> lock_;
  std::shared_ptr<SqliteDatabase::Group> group_;
  bool done_ = false;
};

DbResult<Transaction> SqliteDatabase::begin_group(bool flushed) {
  ++begin_waiters;
  std::unique_lock<std::recursive_mutex> lock(mu_);
  --begin_waiters;
  if (in_transaction) return db_error(DbError::Kind::Misuse, "nested transactions are not supported");
  // A flushed transaction never commits inside a group that ends without a flush.
  if (group_ && flushed && !group_->flushed) close_group();
  if (!group_) {
    // synchronous=FULL is the connection's state between groups (or, with
    // wal_sync_, NORMAL throughout and the WAL synced by flush_group).
    if (!sync_full_) restore_sync_full();
    if (!sync_full_) return db_error(DbError::Kind::Io, "begin: cannot set synchronous=FULL");
    if (!flushed && !wal_sync_) {
      if (auto r = control(kSyncNormal, "begin"); !r) return unexpected(r.error());
      sync_full_ = false;
    }
    if (auto r = control(kBegin, "begin"); !r) {
      if (!sync_full_) restore_sync_full();
      return unexpected(r.error());
    }
    group_ = std::make_shared<Group>();
    group_->flushed = flushed;
  }
  if (auto r = control(kSavepoint, "begin"); !r) {
    close_group();
    return unexpected(r.error());
  }
  in_transaction = true;
  return Transaction(std::make_unique<SqliteTransaction>(*this, std::move(lock), group_));
}

/// Creates a missing database file for the owner only, before SQLite opens
/// it: SQLite gives the -wal, -shm and -journal files it makes the database
/// file's mode, and would create the file itself under the umask (often
/// 0644). An existing file is left as it is; a failure here is reported by
/// SQLite's own open, which meets the same cause.
void create_owner_only(const std::string& name) {
  const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)::fchmod(fd, 0600);  // the umask may have taken the owner's bits too
  ::close(fd);
}

/// The VFS a file database opens with: the one batching write-ahead log
/// writes unless the options or RSP_SQLITE_WAL_BATCH=0 turn it off (null:
/// SQLite's default).
const char* vfs_for(const SqliteOptions& options) {
  if (!options.batch_wal_writes) return nullptr;
  if (const char* env = std::getenv("RSP_SQLITE_WAL_BATCH"); env && std::string_view(env) == "0") return nullptr;
  return wal_batch::vfs_name();
}

}  // namespace

std::vector<ExposedFile> sqlite_files_readable_by_others(const std::filesystem::path& path) {
  std::vector<ExposedFile> out;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::path file = path;
    file += suffix;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) continue;
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) out.push_back({file, static_cast<unsigned>(st.st_mode & 07777)});
  }
  return out;
}

SqliteCommitStats sqlite_commit_stats(Database& db) {
  auto* sqlite = dynamic_cast<SqliteDatabase*>(&db);
  if (!sqlite) return {};
  return sqlite->stats();
}

DbResult<std::unique_ptr<Database>> open_sqlite(const std::filesystem::path& path, SqliteOptions options) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  const std::string name = path.string();
  const bool memory = name == ":memory:" || name.empty();
  if (options.create) {
    flags |= SQLITE_OPEN_CREATE;
    if (!memory) create_owner_only(name);
  }
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, memory ? nullptr : vfs_for(options));
  if (rc != SQLITE_OK) {
    std::string msg = "open " + name + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close_v2(raw);
    return db_error(DbError::Kind::Open, std::move(msg));
  }
  auto db = std::make_unique<SqliteDatabase>(raw);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
  if (!memory) {
    auto mode = db->query("PRAGMA journal_mode=WAL");
    if (!mode || mode->empty() || mode->front().text(0) != "wal")
      return db_error(DbError::Kind::Open, "open " + name + ": cannot switch to WAL journal mode");
  }
  // A file in WAL mode: synchronous=NORMAL and the WAL synced by the
  // connection after each durable commit (SqliteDatabase::wal_sync_), the
  // same syncs as synchronous=FULL; in memory FULL as before (nothing to sync).
  if (auto r = db->execute_script(memory ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                         : "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
      !r)
    return db_error(DbError::Kind::Open, "open " + name + ": " + r.error().message);
  if (!memory) db->wal_sync_ = true;
  db->before_unlocked_sync_ = std::move(options.before_unlocked_sync);
  // An unreadable or foreign file shows up here rather than on first use.
  if (auto r = db->query("SELECT count(*) FROM sqlite_schema"); !r)
    return db_error(DbError::Kind::Open, "open " + name + ": " + r.error().message);
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace rsp::store
