// The SQLite engine's batched write-ahead log writes (lib/store/wal_batch.cpp):
// one write call per transaction, and the same log on disk as without it,
// read by other connections, after a reopen and, the strongest check, by
// SQLite's recovery from a copy of the database and its log taken with the
// writer still open (what a crash leaves).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "rsp/store/migrate.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::store {
namespace {

using test_support::TempDir;

const Migration kItems[] = {{1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, data BLOB NOT NULL)"}};

std::unique_ptr<Database> open(const std::filesystem::path& p, bool batched = true) {
  SqliteOptions options;
  options.batch_wal_writes = batched;
  auto db = open_sqlite(p, options);
  EXPECT_TRUE(db) << (db ? "" : db.error().message);
  if (!db) return nullptr;
  EXPECT_TRUE(migrate(**db, "test", kItems));
  return std::move(*db);
}

Bytes blob(std::size_t size, std::uint8_t fill) { return Bytes(size, fill); }

std::int64_t count(Database& db) { return (*db.query("SELECT count(*) FROM items"))[0].int64(0); }
std::int64_t total(Database& db) { return (*db.query("SELECT coalesce(sum(length(data)), 0) FROM items"))[0].int64(0); }
std::string integrity(Database& db) { return (*db.query("PRAGMA integrity_check"))[0].text(0); }

/// A writer whose page cache holds 8 pages, so that a larger transaction
/// spills pages to the log before it commits, and a second connection.
std::pair<std::unique_ptr<Database>, std::unique_ptr<Database>> spilling_writer_and_reader(
    const std::filesystem::path& p) {
  auto writer = open(p);
  if (writer && !writer->execute_script("PRAGMA cache_size=8;")) writer.reset();
  return {std::move(writer), open(p)};
}

/// Inserts `rows` rows of 900 bytes `fill` in the open transaction.
void insert_rows(Database& db, int rows, std::uint8_t fill) {
  for (int i = 0; i < rows; ++i) ASSERT_TRUE(db.execute("INSERT INTO items (data) VALUES ($1)", {blob(900, fill)}));
}

/// Inserts `rows` rows of `size` bytes in one transaction.
void insert(Database& db, int rows, std::size_t size, std::uint8_t fill = 0x5a) {
  auto tx = db.begin();
  ASSERT_TRUE(tx);
  for (int i = 0; i < rows; ++i) {
    auto r = db.execute("INSERT INTO items (data) VALUES ($1)", {blob(size, fill)});
    ASSERT_TRUE(r) << r.error().message;
  }
  ASSERT_TRUE(tx->commit());
}

/// What SQLite recovers from the database file and its log as they are on
/// disk now (no wal-index: it is rebuilt from the log, frame checksums and
/// commit frames checked), opened without batching.
struct Recovered {
  std::int64_t rows = -1;
  std::int64_t bytes = -1;
  std::string integrity;
};
Recovered recover(const std::filesystem::path& db_path, const std::filesystem::path& into) {
  std::filesystem::create_directories(into);
  const auto copy = into / "copy.db";
  std::filesystem::copy_file(db_path, copy);
  auto wal = db_path;
  wal += "-wal";
  auto wal_copy = copy;
  wal_copy += "-wal";
  if (std::filesystem::exists(wal)) std::filesystem::copy_file(wal, wal_copy);
  auto db = open(copy, false);
  if (!db) return {};
  return {count(*db), total(*db), integrity(*db)};
}

TEST(WalBatch, ATransactionIsOneWriteCall) {
  TempDir dir;
  auto db = open(dir.path() / "a.db");
  ASSERT_TRUE(db);
  insert(*db, 1, 100);  // the log's header and first frames
  const auto before = sqlite_commit_stats(*db);
  insert(*db, 20, 2000);  // about ten pages: twenty writes and more asked
  const auto after = sqlite_commit_stats(*db);
  EXPECT_GE(after.wal_write_requests - before.wal_write_requests, 20u);
  EXPECT_EQ(after.wal_write_calls - before.wal_write_calls, 1u);
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, 1u);  // as durable as before
  EXPECT_EQ(recover(dir.path() / "a.db", dir.path() / "r").rows, 21);
}

TEST(WalBatch, TurnedOffWritesAsSqliteDoesAndCountsNothing) {
  TempDir dir;
  auto db = open(dir.path() / "off.db", false);
  ASSERT_TRUE(db);
  insert(*db, 20, 2000);
  const auto stats = sqlite_commit_stats(*db);
  EXPECT_EQ(stats.wal_write_requests, 0u);
  EXPECT_EQ(stats.wal_write_calls, 0u);
  EXPECT_GT(stats.wal_syncs, 0u);
  EXPECT_EQ(count(*db), 20);
}

TEST(WalBatch, TheEnvironmentTurnsItOff) {
  TempDir dir;
  ::setenv("RSP_SQLITE_WAL_BATCH", "0", 1);
  auto db = open(dir.path() / "env.db");
  ::unsetenv("RSP_SQLITE_WAL_BATCH");
  ASSERT_TRUE(db);
  insert(*db, 2, 2000);
  EXPECT_EQ(sqlite_commit_stats(*db).wal_write_requests, 0u);
}

TEST(WalBatch, OtherConnectionsAReopenAndRecoverySeeEveryCommit) {
  TempDir dir;
  const auto path = dir.path() / "s.db";
  auto writer = open(path);
  auto batched_reader = open(path);
  auto plain_reader = open(path, false);
  ASSERT_TRUE(writer && batched_reader && plain_reader);
  for (int round = 1; round <= 5; ++round) {
    insert(*writer, 10, 700, static_cast<std::uint8_t>(round));
    EXPECT_EQ(count(*batched_reader), round * 10);
    EXPECT_EQ(count(*plain_reader), round * 10);
  }
  // The readers write too, the writer then reads theirs.
  insert(*batched_reader, 3, 5000);
  insert(*plain_reader, 3, 5000);
  EXPECT_EQ(count(*writer), 56);
  const auto recovered = recover(path, dir.path() / "r");
  EXPECT_EQ(recovered.rows, 56);
  EXPECT_EQ(recovered.bytes, 50 * 700 + 6 * 5000);
  EXPECT_EQ(recovered.integrity, "ok");
  writer.reset();
  batched_reader.reset();
  plain_reader.reset();
  auto reopened = open(path);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(count(*reopened), 56);
  EXPECT_EQ(integrity(*reopened), "ok");
}

// A small page cache spills the transaction's pages to the log before it
// commits; updating them again rewrites those frames in place and SQLite
// rewrites the frame checksums at commit, reading the frames back.
TEST(WalBatch, PagesWrittenTwiceInOneTransaction) {
  TempDir dir;
  const auto path = dir.path() / "twice.db";
  auto [db, reader] = spilling_writer_and_reader(path);
  ASSERT_TRUE(db && reader);
  insert(*db, 10, 100);
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx);
    insert_rows(*db, 200, 1);
    ASSERT_TRUE(db->execute("UPDATE items SET data = $1", {blob(900, 2)}));
    ASSERT_TRUE(db->execute("UPDATE items SET data = $1 WHERE id % 3 = 0", {blob(800, 3)}));
    ASSERT_TRUE(tx->commit());
  }
  const auto stats = sqlite_commit_stats(*db);
  EXPECT_LT(stats.wal_write_calls, stats.wal_write_requests);
  const std::int64_t bytes = 210 * 900 - 70 * 100;  // every third row 800 bytes
  EXPECT_EQ(count(*reader), 210);
  EXPECT_EQ(total(*reader), bytes);
  EXPECT_EQ((*reader->query("SELECT count(*) FROM items WHERE data = $1", {blob(800, 3)}))[0].int64(0), 70);
  const auto recovered = recover(path, dir.path() / "r");
  EXPECT_EQ(recovered.rows, 210);
  EXPECT_EQ(recovered.bytes, bytes);
  EXPECT_EQ(recovered.integrity, "ok");
}

// Past the 128 KiB the layer holds at most (the most the unix VFS writes in
// one call): several calls, still far fewer than the writes asked, and the
// whole transaction there.
TEST(WalBatch, ATransactionOverTheCap) {
  TempDir dir;
  const auto path = dir.path() / "big.db";
  auto db = open(path);
  ASSERT_TRUE(db);
  insert(*db, 1, 10);
  const auto first = sqlite_commit_stats(*db);
  insert(*db, 35, 3900);  // a page each: about 37 frames, 150 KB
  EXPECT_EQ(sqlite_commit_stats(*db).wal_write_calls - first.wal_write_calls, 2u);
  const auto before = sqlite_commit_stats(*db);
  insert(*db, 600, 5000);  // 3 MB
  const auto after = sqlite_commit_stats(*db);
  const auto calls = after.wal_write_calls - before.wal_write_calls;
  const auto requests = after.wal_write_requests - before.wal_write_requests;
  EXPECT_GE(calls, 3u);
  EXPECT_LT(calls * 20, requests);
  const auto recovered = recover(path, dir.path() / "r");
  EXPECT_EQ(recovered.rows, 636);
  EXPECT_EQ(recovered.bytes, 600 * 5000 + 35 * 3900 + 10);
  EXPECT_EQ(recovered.integrity, "ok");
}

// A rolled-back transaction that had spilled frames into the log: another
// connection then commits over that part of the log; nothing of the rolled
// back one is written later over it.
TEST(WalBatch, ARollbackLeavesNothingBehind) {
  TempDir dir;
  const auto path = dir.path() / "rb.db";
  auto [a, b] = spilling_writer_and_reader(path);
  ASSERT_TRUE(a && b);
  insert(*a, 5, 100);
  {
    auto tx = a->begin();
    ASSERT_TRUE(tx);
    insert_rows(*a, 100, 7);
    tx->rollback();
  }
  insert(*b, 100, 900, 8);
  EXPECT_EQ(count(*a), 105);  // a reads the log again
  insert(*a, 1, 100);
  EXPECT_EQ(count(*b), 106);
  EXPECT_EQ((*b->query("SELECT count(*) FROM items WHERE data = $1", {blob(900, 7)}))[0].int64(0), 0);
  const auto recovered = recover(path, dir.path() / "r");
  EXPECT_EQ(recovered.rows, 106);
  EXPECT_EQ(recovered.bytes, 100 * 900 + 6 * 100);
  EXPECT_EQ(recovered.integrity, "ok");
}

// After a checkpoint the next transaction writes the log from its start
// again (a new log header at offset 0 over the old frames, or a file
// truncated to nothing).
TEST(WalBatch, TheLogRestartsAfterACheckpoint) {
  TempDir dir;
  const auto path = dir.path() / "ck.db";
  auto db = open(path);
  auto reader = open(path);
  ASSERT_TRUE(db && reader);
  insert(*db, 50, 1000, 1);
  for (const char* mode : {"RESTART", "TRUNCATE", "PASSIVE"}) {
    auto checkpoint = db->query(std::string("PRAGMA wal_checkpoint(") + mode + ")");
    ASSERT_TRUE(checkpoint) << mode;
    EXPECT_EQ((*checkpoint)[0].int64(0), 0) << mode;  // not busy
    const auto before = sqlite_commit_stats(*db);
    insert(*db, 20, 1000, 2);
    const auto after = sqlite_commit_stats(*db);
    // The header (synced by SQLite before the frames), then the frames.
    EXPECT_LE(after.wal_write_calls - before.wal_write_calls, 2u) << mode;
    EXPECT_EQ(count(*reader), (*db->query("SELECT count(*) FROM items"))[0].int64(0)) << mode;
  }
  const auto recovered = recover(path, dir.path() / "r");
  EXPECT_EQ(recovered.rows, 110);
  EXPECT_EQ(recovered.bytes, 110 * 1000);
  EXPECT_EQ(recovered.integrity, "ok");
}

// kill -9 while committing: every commit that returned (and was reported
// through the pipe) is there after recovery, deferred-flush ones included.
TEST(WalBatch, EveryAcknowledgedCommitSurvivesKillMinus9) {
  TempDir dir;
  const auto path = dir.path() / "k.db";
  ASSERT_TRUE(open(path));  // the schema, before the child
  int acks[2];
  ASSERT_EQ(::pipe(acks), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No gtest assertions here: it writes each committed id, then goes on
    // until killed.
    ::close(acks[0]);
    auto db = open_sqlite(path);
    if (!db) ::_exit(2);
    for (std::int64_t id = 1;; ++id) {
      auto tx = id % 2 ? (*db)->begin_deferred_flush() : (*db)->begin();
      if (!tx) ::_exit(3);
      if (!(*db)->execute("INSERT INTO items (id, data) VALUES ($1, $2)", {id, Bytes(1500, 9)})) ::_exit(4);
      if (!(*db)->execute("UPDATE items SET data = $1 WHERE id = $2", {Bytes(1200, 9), id / 2})) ::_exit(5);
      if (!tx->commit()) ::_exit(6);
      if (::write(acks[1], &id, sizeof id) != sizeof id) ::_exit(7);
    }
  }
  ::close(acks[1]);
  std::set<std::int64_t> acknowledged;
  std::int64_t id = 0;
  while (acknowledged.size() < 300 && ::read(acks[0], &id, sizeof id) == sizeof id) acknowledged.insert(id);
  ::kill(child, SIGKILL);
  while (::read(acks[0], &id, sizeof id) == sizeof id) acknowledged.insert(id);
  ::close(acks[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  ASSERT_GE(acknowledged.size(), 300u);
  auto db = open(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(integrity(*db), "ok");
  std::set<std::int64_t> stored;
  const auto rows = db->query("SELECT id FROM items");
  ASSERT_TRUE(rows);
  for (const auto& row : *rows) stored.insert(row.int64(0));
  for (const auto acked : acknowledged) EXPECT_TRUE(stored.count(acked)) << "commit " << acked << " lost";
}

// A write the file refuses (here: past the process's file size limit) fails
// the commit with an I/O error, as without the layer; what was committed
// before stays.
TEST(WalBatch, AFailedWriteFailsTheCommit) {
  TempDir dir;
  const auto path = dir.path() / "full.db";
  ASSERT_TRUE(open(path));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = open_sqlite(path);
    if (!db) ::_exit(2);
    auto tx = (*db)->begin();
    if (!tx || !(*db)->execute("INSERT INTO items (data) VALUES ($1)", {Bytes(100, 1)}) || !tx->commit()) ::_exit(3);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{256 * 1024, 256 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(4);
    auto big = (*db)->begin();
    if (!big) ::_exit(5);
    for (int i = 0; i < 100; ++i)
      if (!(*db)->execute("INSERT INTO items (data) VALUES ($1)", {Bytes(4000, 2)})) ::_exit(0);  // refused early: fine
    auto committed = big->commit();
    if (committed) ::_exit(6);
    ::_exit(committed.error().kind == DbError::Kind::Io ? 0 : 7);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto db = open(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(count(*db), 1);
  EXPECT_EQ(integrity(*db), "ok");
}

}  // namespace
}  // namespace rsp::store
