// Database layer over SQLite, what only this engine does: pragmas, group
// commit, garbage files. The engine-independent behaviour is in
// database_contract_test.cpp.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "rsp/store/migrate.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::store {
namespace {

using test_support::TempDir;

std::unique_ptr<Database> open(const std::filesystem::path& p) {
  auto db = open_sqlite(p);
  EXPECT_TRUE(db) << (db ? "" : db.error().message);
  return db ? std::move(*db) : nullptr;
}

const Migration kMigrations[] = {
    {1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB, n INTEGER)"},
    {2, "tags", "CREATE TABLE tags (item INTEGER NOT NULL REFERENCES items(id), tag TEXT NOT NULL)"},
};

/// A migrated database at `p` holding the name the failing inserts repeat,
/// there before any thread starts.
std::unique_ptr<Database> open_with_taken(const std::filesystem::path& p) {
  auto db = open(p);
  if (!db || !migrate(*db, "test", kMigrations) || !db->execute("INSERT INTO items (name) VALUES ('taken')"))
    return nullptr;
  return db;
}

/// Runs `body(t, i)` for i in [0, each) on each of `threads` threads.
template <typename Body>
void run_threads(int threads, int each, Body body) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t)
    running.emplace_back([&body, t, each] {
      for (int i = 0; i < each; ++i) body(t, i);
    });
  for (auto& r : running) r.join();
}

TEST(Store, PragmasAreSet) {
  TempDir dir;
  auto db = open(dir.path() / "a.db");
  ASSERT_TRUE(db);
  EXPECT_EQ((*db->query("PRAGMA journal_mode"))[0].text(0), "wal");
  // NORMAL, with the write-ahead log synced by the connection after each
  // durable commit: the syncs of FULL (deferred_flush_test.cpp).
  EXPECT_EQ((*db->query("PRAGMA synchronous"))[0].int64(0), 1);
  EXPECT_EQ((*db->query("PRAGMA foreign_keys"))[0].int64(0), 1);
  EXPECT_EQ(db->dialect(), "sqlite");
}

TEST(Store, CommittedDataIsVisibleToASecondConnection) {
  TempDir dir;
  const auto path = dir.path() / "c.db";
  auto a = open(path);
  auto b = open(path);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(migrate(*a, "test", kMigrations));
  ASSERT_TRUE(migrate(*b, "test", kMigrations));
  auto tx = a->begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(a->execute("INSERT INTO items (name) VALUES ('x')"));
  EXPECT_EQ((*b->query("SELECT count(*) FROM items"))[0].int64(0), 0);  // not yet committed
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*b->query("SELECT count(*) FROM items"))[0].int64(0), 1);
}

TEST(Store, GroupCommitKeepsEveryCommitOnDisk) {
  TempDir dir;
  const auto path = dir.path() / "g.db";
  auto db = open_with_taken(path);
  ASSERT_TRUE(db);
  const auto before = sqlite_commit_stats(*db);
  constexpr int kThreads = 6, kEach = 40;
  std::atomic<int> ok{0};
  run_threads(kThreads, kEach, [&](int t, int i) {
    auto tx = db->begin();
    if (!tx) return;
    const std::string name = std::to_string(t) + "/" + std::to_string(i);
    // Every third one fails on purpose inside the group: a duplicate name.
    if (i % 3 == 2) {
      EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('taken')"));
      tx->rollback();
      return;
    }
    if (db->execute("INSERT INTO items (name) VALUES ($1)", {value(name)}) && tx->commit()) ++ok;
  });
  const auto after = sqlite_commit_stats(*db);
  const int expected = kThreads * (kEach - kEach / 3);
  EXPECT_EQ(ok.load(), expected);
  EXPECT_EQ(after.commits - before.commits, static_cast<std::uint64_t>(expected));
  EXPECT_LE(after.flushes - before.flushes, after.commits - before.commits);
  // What commit() acknowledged is what another connection finds.
  auto other = open(path);
  ASSERT_TRUE(other);
  EXPECT_EQ((*other->query("SELECT count(*) FROM items"))[0].int64(0), expected + 1);
}

TEST(Store, WaitingTransactionJoinsTheFirstOnesFlush) {
  TempDir dir;
  auto db = open(dir.path() / "j.db");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('taken')"));
  bool grouped = false;
  // Joining needs the second thread to be waiting when the first commits:
  // given more time on each attempt, it is.
  for (int attempt = 1; attempt <= 20 && !grouped; ++attempt) {
    const std::string a = "a" + std::to_string(attempt), b = "b" + std::to_string(attempt);
    auto tx = db->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ($1)", {value(a)}));
    std::thread joiner([&] {
      auto t2 = db->begin();
      ASSERT_TRUE(t2);
      EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('taken')"));  // fails inside the group
      ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ($1)", {value(b)}));
      EXPECT_TRUE(t2->commit());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    const auto before = sqlite_commit_stats(*db);
    EXPECT_TRUE(tx->commit());
    joiner.join();
    const auto after = sqlite_commit_stats(*db);
    EXPECT_EQ(after.commits - before.commits, 2u);
    grouped = after.flushes - before.flushes == 1;
    EXPECT_EQ((*db->query("SELECT count(*) FROM items WHERE name IN ($1, $2)", {value(a), value(b)}))[0].int64(0), 2);
  }
  EXPECT_TRUE(grouped) << "the waiting transaction never joined the first one's group";
  EXPECT_EQ((*db->query("SELECT count(*) FROM items WHERE name = 'taken'"))[0].int64(0), 1);
}

TEST(Store, AGroupFlushRunsWithoutTheConnection) {
  TempDir dir;
  auto db = open(dir.path() / "u.db");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  const auto before = sqlite_commit_stats(*db);
  for (int i = 0; i < 3; ++i) {
    auto tx = db->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ($1)", {value("u" + std::to_string(i))}));
    ASSERT_TRUE(tx->commit());
  }
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(after.flushes - before.flushes, 3u);
  // One sync of the log per flushed group, made without the connection once
  // SQLite has synced the log itself (the migrations did).
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, 3u);
  EXPECT_EQ(after.unlocked_wal_syncs - before.unlocked_wal_syncs, 3u);
}

TEST(Store, WithoutBatchedWritesTheFlushHoldsTheConnection) {
  TempDir dir;
  SqliteOptions options;
  options.batch_wal_writes = false;
  auto opened = open_sqlite(dir.path() / "n.db", options);
  ASSERT_TRUE(opened);
  auto& db = **opened;
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  auto tx = db.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db.execute("INSERT INTO items (name) VALUES ('n')"));
  ASSERT_TRUE(tx->commit());
  const auto stats = sqlite_commit_stats(db);
  EXPECT_GT(stats.wal_syncs, 0u);
  EXPECT_EQ(stats.unlocked_wal_syncs, 0u);
}

// Flushed, deferred and failing transactions and statements outside any
// transaction from several threads, while groups flush without the
// connection and the next ones form behind them: every commit() returns,
// each acknowledged row is there, each flushed group synced once.
TEST(Store, GroupsFormingBehindAFlushCommitEverything) {
  TempDir dir;
  const auto path = dir.path() / "p.db";
  auto db = open_with_taken(path);
  ASSERT_TRUE(db);
  const auto before = sqlite_commit_stats(*db);
  constexpr int kThreads = 8, kEach = 60;
  std::atomic<int> ok{0}, outside{0};
  run_threads(kThreads, kEach, [&](int t, int i) {
    const std::string name = std::to_string(t) + "/" + std::to_string(i);
    switch ((t + i) % 4) {
      case 0: {  // outside a transaction: ends the open group first
        if (db->execute("INSERT INTO items (name) VALUES ($1)", {value(name)})) ++outside;
        break;
      }
      case 1: {  // fails inside the group
        auto tx = db->begin();
        ASSERT_TRUE(tx);
        EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('taken')"));
        tx->rollback();
        break;
      }
      default: {
        auto tx = (t + i) % 4 == 2 ? db->begin() : db->begin_deferred_flush();
        ASSERT_TRUE(tx);
        if (db->execute("INSERT INTO items (name) VALUES ($1)", {value(name)}) && tx->commit()) ++ok;
      }
    }
  });
  const auto after = sqlite_commit_stats(*db);
  EXPECT_EQ(ok.load(), kThreads * kEach / 2);
  EXPECT_EQ(outside.load(), kThreads * kEach / 4);
  EXPECT_EQ(after.commits - before.commits, static_cast<std::uint64_t>(ok.load()));
  // A sync per flushed group and per statement outside a transaction.
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, after.flushes - before.flushes + outside.load());
  EXPECT_GT(after.unlocked_wal_syncs, before.unlocked_wal_syncs);
  auto other = open(path);
  ASSERT_TRUE(other);
  EXPECT_EQ((*other->query("SELECT count(*) FROM items"))[0].int64(0), ok.load() + outside.load() + 1);
}

// A transaction without a flush of its own (the outbox's claim) may read a
// change whose group is committed but still being flushed without the
// connection: it returns only once that flush is over, so that nothing it
// hands on (a callback telling a completion) is short of the disk.
TEST(Store, ADeferredTransactionReturnsAfterTheFlushOfWhatItRead) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool holding = false, release = false;
  SqliteOptions options;
  options.before_unlocked_sync = [&] {
    std::unique_lock lock(mu);
    if (release) return;  // only the first flush is held
    holding = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  auto opened = open_sqlite(dir.path() / "d.db", options);
  ASSERT_TRUE(opened);
  auto& db = **opened;
  {
    std::lock_guard lock(mu);
    release = true;  // the migrations' flushes go through
  }
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  {
    std::lock_guard lock(mu);
    release = false;
  }
  std::thread writer([&] {
    auto tx = db.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db.execute("INSERT INTO items (name) VALUES ('done')"));
    EXPECT_TRUE(tx->commit());  // held in its flush until released
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return holding; });
  }
  // The writer's group is committed, its flush held: a deferred transaction
  // sees the row, and its commit must wait for that flush.
  std::atomic<bool> returned{false};
  std::atomic<std::int64_t> seen{-1};
  std::thread reader([&] {
    auto tx = db.begin_deferred_flush();
    ASSERT_TRUE(tx);
    auto rows = db.query("SELECT count(*) FROM items WHERE name = 'done'");
    ASSERT_TRUE(rows);
    seen = (*rows)[0].int64(0);
    EXPECT_TRUE(tx->commit());
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(returned.load()) << "the deferred transaction returned while what it read was being flushed";
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  writer.join();
  reader.join();
  EXPECT_EQ(seen.load(), 1);
  EXPECT_TRUE(returned.load());
}

/// The permission bits of `p`; -1 when it does not exist.
int mode_of(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

/// Sets the process umask for one test and restores it.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

// The database holds the subscribers' profile packages: the file SQLite
// creates, and the -wal and -shm files it gives the same mode, are for the
// owner only, whatever the umask.
TEST(Store, NewDatabaseFilesAreOwnerOnly) {
  TempDir dir;
  Umask umask(022);
  const auto path = dir.path() / "private.db";
  auto db = open(path);
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  ASSERT_TRUE(db->execute("INSERT INTO items (name, data) VALUES ('k', x'00112233')"));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const auto file = std::filesystem::path(path.string() + suffix);
    EXPECT_EQ(mode_of(file), 0600) << file;
  }
}

// A database created before files were made 0600 keeps its mode; the
// commands that open it warn, naming each file that others can read.
TEST(Store, FilesOthersCanReadAreReported) {
  TempDir dir;
  const auto path = dir.path() / "old.db";
  auto db = open(path);
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  EXPECT_TRUE(sqlite_files_readable_by_others(path).empty());
  std::filesystem::permissions(path, std::filesystem::perms(0644));
  std::filesystem::permissions(path.string() + "-wal", std::filesystem::perms(0640));
  const auto exposed = sqlite_files_readable_by_others(path);
  ASSERT_EQ(exposed.size(), 2u);
  EXPECT_EQ(exposed[0].path, path);
  EXPECT_EQ(exposed[0].mode, 0644u);
  EXPECT_EQ(exposed[1].path.string(), path.string() + "-wal");
  EXPECT_EQ(exposed[1].mode, 0640u);
  EXPECT_TRUE(sqlite_files_readable_by_others(dir.path() / "missing.db").empty());
}

TEST(Store, OpenRefusesGarbage) {
  TempDir dir;
  const auto path = dir.path() / "garbage.db";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fputs("this is not a database file, just text that is long enough to be read as a header.....", f);
    std::fclose(f);
  }
  auto db = open_sqlite(path);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, DbError::Kind::Open);
  SqliteOptions no_create;
  no_create.busy_timeout = std::chrono::milliseconds(10);
  no_create.create = false;
  auto missing = open_sqlite(dir.path() / "none.db", no_create);
  EXPECT_FALSE(missing);
}

}  // namespace
}  // namespace rsp::store
