// SQLite transactions of begin_deferred_flush(): committed without a disk
// flush of their own, yet kept across kill -9 of the process, and never
// lending their mode to a flushed transaction or to a statement that writes
// on its own. A file database stays at synchronous=NORMAL and the connection
// syncs the write-ahead log itself after each durable commit (wal_syncs).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "rsp/store/migrate.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::store {
namespace {

using test_support::TempDir;

const Migration kItems[] = {{1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"}};

std::unique_ptr<Database> open(const std::filesystem::path& p) {
  auto db = open_sqlite(p);
  EXPECT_TRUE(db) << (db ? "" : db.error().message);
  if (!db) return nullptr;
  EXPECT_TRUE(migrate(**db, "test", kItems));
  return std::move(*db);
}

std::int64_t synchronous(Database& db) { return (*db.query("PRAGMA synchronous"))[0].int64(0); }
std::int64_t items(Database& db) { return (*db.query("SELECT count(*) FROM items"))[0].int64(0); }

TEST(DeferredFlush, CommitsWithoutAFlushAndSyncsOnlyDurableCommits) {
  TempDir dir;
  auto db = open(dir.path() / "d.db");
  ASSERT_TRUE(db);
  const auto before = sqlite_commit_stats(*db);
  auto tx = db->begin_deferred_flush();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('a')"));
  ASSERT_TRUE(tx->commit());
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_EQ(after.flushes - before.flushes, 0u);
  EXPECT_EQ(after.deferred - before.deferred, 1u);
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, 0u);
  // A read syncs nothing; a statement that writes on its own is synced.
  EXPECT_EQ(items(*db), 1);
  EXPECT_EQ(sqlite_commit_stats(*db).wal_syncs - before.wal_syncs, 0u);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('b')"));
  EXPECT_EQ(sqlite_commit_stats(*db).wal_syncs - before.wal_syncs, 1u);
  // So is a write that returns rows.
  auto id = db->query_one("INSERT INTO items (name) VALUES ('c') RETURNING id");
  ASSERT_TRUE(id);
  ASSERT_TRUE(*id);
  EXPECT_EQ(sqlite_commit_stats(*db).wal_syncs - before.wal_syncs, 2u);
  // The next flushed transaction: one flush, one sync of the log.
  auto flushed = db->begin();
  ASSERT_TRUE(flushed);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('d')"));
  ASSERT_TRUE(flushed->commit());
  const auto last = sqlite_commit_stats(*db);
  EXPECT_EQ(last.flushes - after.flushes, 1u);
  EXPECT_EQ(last.wal_syncs - before.wal_syncs, 3u);
  EXPECT_EQ(synchronous(*db), 1);  // NORMAL throughout: the connection syncs the log itself
  auto other = open(dir.path() / "d.db");
  ASSERT_TRUE(other);
  EXPECT_EQ(items(*other), 4);
}

TEST(DeferredFlush, RollbackLeavesNothingAndSyncsNothing) {
  TempDir dir;
  auto db = open(dir.path() / "r.db");
  ASSERT_TRUE(db);
  const auto before = sqlite_commit_stats(*db);
  {
    auto tx = db->begin_deferred_flush();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('gone')"));
    EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('gone')"));  // a constraint error inside
  }  // destroyed without commit
  EXPECT_EQ(items(*db), 0);
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(after.commits, before.commits);
  EXPECT_EQ(after.deferred, before.deferred);
  EXPECT_EQ(after.wal_syncs, before.wal_syncs);
}

TEST(DeferredFlush, AFlushedTransactionEndsAWaitingDeferredGroupFirst) {
  TempDir dir;
  auto db = open(dir.path() / "m.db");
  ASSERT_TRUE(db);
  const auto before = sqlite_commit_stats(*db);
  auto lazy = db->begin_deferred_flush();
  ASSERT_TRUE(lazy);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('lazy')"));
  std::thread durable([&] {
    // Waits for the connection; when the deferred commit hands its group over,
    // this transaction must not ride in it (it would go without a flush).
    auto tx = db->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('durable')"));
    EXPECT_TRUE(tx->commit());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(lazy->commit());
  durable.join();
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(after.commits - before.commits, 2u);
  EXPECT_EQ(after.flushes - before.flushes, 1u);
  EXPECT_EQ(after.deferred - before.deferred, 1u);
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, 1u);
  EXPECT_EQ(items(*db), 2);
}

TEST(DeferredFlush, AConnectionThatSetsItsOwnSynchronousLevelKeepsIt) {
  // A connection meant never to flush (the SM-DS session store's) sets
  // NORMAL itself: SQLite's own syncs only, none of the connection's.
  TempDir dir;
  auto db = open(dir.path() / "n.db");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute_script("PRAGMA synchronous=NORMAL"));
  const auto before = sqlite_commit_stats(*db);
  auto tx = db->begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('x')"));
  ASSERT_TRUE(tx->commit());
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('y')"));
  EXPECT_EQ(sqlite_commit_stats(*db).wal_syncs, before.wal_syncs);
  EXPECT_EQ(synchronous(*db), 1);
}

TEST(DeferredFlush, ACommittedChangeSurvivesKillMinus9) {
  TempDir dir;
  const auto path = dir.path() / "k.db";
  {
    auto db = open(path);  // the schema, before the child
    ASSERT_TRUE(db);
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No gtest assertions here: the child reports by dying of SIGKILL only
    // after its commit returned.
    auto db = open_sqlite(path);
    if (!db) ::_exit(2);
    auto tx = (*db)->begin_deferred_flush();
    if (!tx || !(*db)->execute("INSERT INTO items (name) VALUES ('kept')") || !tx->commit()) ::_exit(3);
    ::raise(SIGKILL);  // no close, no checkpoint
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  auto db = open(path);
  ASSERT_TRUE(db);
  EXPECT_EQ((*db->query("SELECT count(*) FROM items WHERE name = 'kept'"))[0].int64(0), 1);
}

}  // namespace
}  // namespace rsp::store
