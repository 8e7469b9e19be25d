// SQLite transactions of begin_deferred_flush(): committed without a disk
// flush of their own (synchronous=NORMAL for their group only), yet kept
// across kill -9 of the process, and never lending their mode to a flushed
// transaction or to a statement that writes on its own.
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

TEST(DeferredFlush, CommitsWithoutAFlushAndTheConnectionReturnsToFull) {
  TempDir dir;
  auto db = open(dir.path() / "d.db");
  ASSERT_TRUE(db);
  const auto before = sqlite_commit_stats(*db);
  auto tx = db->begin_deferred_flush();
  ASSERT_TRUE(tx);
  EXPECT_EQ(synchronous(*db), 1);  // NORMAL inside the deferred group
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('a')"));
  ASSERT_TRUE(tx->commit());
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_EQ(after.flushes - before.flushes, 0u);
  EXPECT_EQ(after.deferred - before.deferred, 1u);
  // A statement on its own, and the next flushed transaction, run with FULL.
  EXPECT_EQ(synchronous(*db), 2);
  auto flushed = db->begin();
  ASSERT_TRUE(flushed);
  EXPECT_EQ(synchronous(*db), 2);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('b')"));
  ASSERT_TRUE(flushed->commit());
  EXPECT_EQ(sqlite_commit_stats(*db).flushes - after.flushes, 1u);
  auto other = open(dir.path() / "d.db");
  ASSERT_TRUE(other);
  EXPECT_EQ(items(*other), 2);
}

TEST(DeferredFlush, RollbackLeavesNothingAndFullBehind) {
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
  EXPECT_EQ(synchronous(*db), 2);
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(after.commits, before.commits);
  EXPECT_EQ(after.deferred, before.deferred);
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
    EXPECT_EQ(synchronous(*db), 2);
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
  EXPECT_EQ(items(*db), 2);
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
