// Database layer over SQLite: statements, rows, transactions, migrations.
#include <gtest/gtest.h>

#include <atomic>
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

TEST(Store, PragmasAreSet) {
  TempDir dir;
  auto db = open(dir.path() / "a.db");
  ASSERT_TRUE(db);
  EXPECT_EQ((*db->query("PRAGMA journal_mode"))[0].text(0), "wal");
  EXPECT_EQ((*db->query("PRAGMA synchronous"))[0].int64(0), 2);  // FULL
  EXPECT_EQ((*db->query("PRAGMA foreign_keys"))[0].int64(0), 1);
  EXPECT_EQ(db->dialect(), "sqlite");
}

TEST(Store, BindAndReadEveryType) {
  auto db = open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  const Bytes blob{0x00, 0xFF, 0x10};
  auto n = db->execute("INSERT INTO items (name, data, n) VALUES ($1, $2, $3)", {value("a"), value(blob), value(42)});
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(db->execute("INSERT INTO items (name, data, n) VALUES ($1, $2, $3)",
                          {value("b"), value(Bytes{}), value(std::optional<int>())}));
  // Repeated and reordered placeholders.
  auto rows = db->query("SELECT name, data, n FROM items WHERE name = $2 OR name = $1 OR name = $2 ORDER BY name",
                        {value("a"), value("b")});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].text(0), "a");
  EXPECT_EQ((*rows)[0].blob(1), blob);
  EXPECT_EQ((*rows)[0].int64(2), 42);
  EXPECT_EQ((*rows)[1].blob(1), Bytes{});
  EXPECT_FALSE((*rows)[1].is_null(1));
  EXPECT_TRUE((*rows)[1].is_null(2));
  EXPECT_EQ((*rows)[1].opt_int64(2), std::nullopt);
  EXPECT_TRUE((*rows)[1].is_null(7));  // out of range reads as NULL

  auto returning = db->query("INSERT INTO items (name) VALUES ($1) RETURNING id", {value("c")});
  ASSERT_TRUE(returning) << returning.error().message;
  EXPECT_EQ((*returning)[0].int64(0), 3);
}

TEST(Store, ErrorsAreValues) {
  auto db = open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  auto bad = db->query("SELEC nonsense");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, DbError::Kind::Syntax);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ($1)", {value("x")}));
  auto dup = db->execute("INSERT INTO items (name) VALUES ($1)", {value("x")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, DbError::Kind::Constraint);
  auto fk = db->execute("INSERT INTO tags (item, tag) VALUES ($1, $2)", {value(99), value("t")});
  ASSERT_FALSE(fk);
  EXPECT_EQ(fk.error().kind, DbError::Kind::Constraint);
  auto missing = db->execute("INSERT INTO items (name) VALUES ($1)", {value("y"), value("z")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, DbError::Kind::Misuse);
  // Bound values never appear in messages.
  auto secret = db->execute("INSERT INTO items (name) VALUES ($1)", {value("x")});
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().message.find("'x'"), std::string::npos);
}

TEST(Store, PreparedStatementRunsRepeatedly) {
  auto db = open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  auto ins = db->prepare("INSERT INTO items (name, n) VALUES ($1, $2)");
  ASSERT_TRUE(ins);
  for (int i = 0; i < 10; ++i) {
    const Value p[] = {value("n" + std::to_string(i)), value(i)};
    ASSERT_TRUE((*ins)->run(p));
    EXPECT_EQ((*ins)->changes(), 1);
  }
  auto sel = db->prepare("SELECT SUM(n) FROM items");
  ASSERT_TRUE(sel);
  ASSERT_TRUE(*(*sel)->step());
  EXPECT_EQ((*sel)->column_count(), 1);
  EXPECT_EQ((*sel)->row().int64(0), 45);
}

TEST(Store, MigrationsAreIdempotentAndVersioned) {
  TempDir dir;
  const auto path = dir.path() / "m.db";
  {
    auto db = open(path);
    ASSERT_TRUE(db);
    EXPECT_EQ(*schema_version(*db), 0);
    auto v = migrate(*db, std::span(kMigrations, 1));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(*v, 1);
  }
  auto db = open(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(*migrate(*db, kMigrations), 2);
  EXPECT_EQ(*migrate(*db, kMigrations), 2);  // again: nothing to do
  EXPECT_EQ((*db->query("SELECT count(*) FROM schema_version"))[0].int64(0), 2);
  // A program that only knows version 1 refuses the newer database.
  auto old = migrate(*db, std::span(kMigrations, 1));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().kind, DbError::Kind::Schema);
}

TEST(Store, FailedMigrationLeavesThePreviousVersion) {
  auto db = open(":memory:");
  ASSERT_TRUE(db);
  const Migration broken[] = {kMigrations[0], {2, "broken", "CREATE TABLE t2 (x INTEGER); CREATE TABLE oops ("}};
  auto r = migrate(*db, broken);
  ASSERT_FALSE(r);
  EXPECT_EQ(*schema_version(*db), 1);
  // The half-run script left no table behind.
  EXPECT_TRUE((*db->query("SELECT name FROM sqlite_schema WHERE name = 't2'")).empty());
}

TEST(Store, TransactionCommitAndRollback) {
  TempDir dir;
  const auto path = dir.path() / "t.db";
  {
    auto db = open(path);
    ASSERT_TRUE(db);
    ASSERT_TRUE(migrate(*db, kMigrations));
    {
      auto tx = db->begin();
      ASSERT_TRUE(tx);
      ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('kept')"));
      ASSERT_TRUE(tx->commit());
      EXPECT_FALSE(tx->active());
      EXPECT_FALSE(tx->commit());
    }
    {
      // Interrupted: destroyed without commit, as when a step fails half way.
      auto tx = db->begin();
      ASSERT_TRUE(tx);
      ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('lost1')"));
      ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('lost2')"));
    }
    {
      auto tx = db->begin();
      ASSERT_TRUE(tx);
      auto nested = db->begin();
      ASSERT_FALSE(nested);
      EXPECT_EQ(nested.error().kind, DbError::Kind::Misuse);
      ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ('lost3')"));
      tx->rollback();
    }
  }
  auto db = open(path);  // a fresh connection sees only committed data
  ASSERT_TRUE(db);
  auto rows = db->query("SELECT name FROM items ORDER BY name");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "kept");
}

TEST(Store, CommittedDataIsVisibleToASecondConnection) {
  TempDir dir;
  const auto path = dir.path() / "c.db";
  auto a = open(path);
  auto b = open(path);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(migrate(*a, kMigrations));
  ASSERT_TRUE(migrate(*b, kMigrations));
  auto tx = a->begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(a->execute("INSERT INTO items (name) VALUES ('x')"));
  EXPECT_EQ((*b->query("SELECT count(*) FROM items"))[0].int64(0), 0);  // not yet committed
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*b->query("SELECT count(*) FROM items"))[0].int64(0), 1);
}

TEST(Store, ThreadsShareOneConnection) {
  auto db = open(":memory:");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  ASSERT_TRUE(db->execute("INSERT INTO items (name, n) VALUES ('counter', 0)"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&db] {
      for (int i = 0; i < 50; ++i) {
        auto tx = db->begin();
        if (!tx) continue;
        auto row = db->query_one("SELECT n FROM items WHERE name = 'counter'");
        if (!row || !*row) continue;
        (void)db->execute("UPDATE items SET n = $1 WHERE name = 'counter'", {value((*row)->int64(0) + 1)});
        (void)tx->commit();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*db->query("SELECT n FROM items WHERE name = 'counter'"))[0].int64(0), 200);
}

TEST(Store, GroupCommitKeepsEveryCommitOnDisk) {
  TempDir dir;
  const auto path = dir.path() / "g.db";
  auto db = open(path);
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  const auto before = sqlite_commit_stats(*db);
  constexpr int kThreads = 6, kEach = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = db->begin();
        if (!tx) continue;
        const std::string name = std::to_string(t) + "/" + std::to_string(i);
        // Every third one fails on purpose inside the group: a duplicate name.
        if (i % 3 == 2) {
          EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('0/0')"));
          tx->rollback();
          continue;
        }
        if (db->execute("INSERT INTO items (name) VALUES ($1)", {value(name)}) && tx->commit()) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  const auto after = sqlite_commit_stats(*db);
  const int expected = kThreads * (kEach - kEach / 3);
  EXPECT_EQ(ok.load(), expected);
  EXPECT_EQ(after.commits - before.commits, static_cast<std::uint64_t>(expected));
  EXPECT_LE(after.flushes - before.flushes, after.commits - before.commits);
  // What commit() acknowledged is what another connection finds.
  auto other = open(path);
  ASSERT_TRUE(other);
  EXPECT_EQ((*other->query("SELECT count(*) FROM items"))[0].int64(0), expected);
}

TEST(Store, WaitingTransactionJoinsTheFirstOnesFlush) {
  TempDir dir;
  auto db = open(dir.path() / "j.db");
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
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
  auto missing = open_sqlite(dir.path() / "none.db", SqliteOptions{std::chrono::milliseconds(10), false});
  EXPECT_FALSE(missing);
}

}  // namespace
}  // namespace rsp::store
