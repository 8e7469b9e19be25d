// Database layer over PostgreSQL, what only this engine does: URLs, concurrent
// migrations, DELETE ... RETURNING across connections, password redaction;
// against a private server (skipped when none can be started).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "rsp/store/locking.hpp"
#include "rsp/store/migrate.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/postgresql.hpp"
#include "test_support/pg_server.hpp"

namespace rsp::store {
namespace {

using test_support::PgServer;

const Migration kMigrations[] = {
    {1, "items", "CREATE TABLE items (id {ID}, name TEXT NOT NULL UNIQUE, data {BLOB}, n {INT}, r DOUBLE PRECISION)"},
    {2, "tags", "CREATE TABLE tags (item {INT} NOT NULL REFERENCES items(id), tag TEXT NOT NULL)"},
};

class Postgres : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = &PgServer::shared();
    if (!server_->ok()) GTEST_SKIP() << "PostgreSQL not available: " << server_->why();
    // A database of its own for every test.
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(++counter);
    ASSERT_TRUE(server_->create_database(name_)) << server_->why();
  }
  std::unique_ptr<Database> open() {
    auto db = open_database(server_->url(name_));
    EXPECT_TRUE(db) << (db ? "" : db.error().message);
    return db ? std::move(*db) : nullptr;
  }
  PgServer* server_ = nullptr;
  std::string name_;
};

TEST_F(Postgres, FactoryChoosesTheEngine) {
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->dialect(), "postgresql");
  EXPECT_TRUE(is_postgresql_url("postgres://h/db"));
  EXPECT_FALSE(is_postgresql_url("/var/lib/rsp/smdpp.db"));
}

TEST_F(Postgres, ConcurrentMigrationsApplyEachStepOnce) {
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < 4; ++i) {
    dbs.push_back(open());
    ASSERT_TRUE(dbs.back());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& db : dbs)
    threads.emplace_back([&db, &failures] {
      if (auto r = migrate(*db, "test", kMigrations); !r || *r != 2) ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*dbs[0]->query("SELECT count(*) FROM schema_versions"))[0].int64(0), 2);
}

TEST_F(Postgres, DeleteReturningHandsARowToOneConnectionOnly) {
  // How the SM-DP+ takes a download session: of two instances racing for
  // the same row exactly one receives it.
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(migrate(*a, "test", kMigrations));
  for (int round = 0; round < 20; ++round) {
    const std::string name = "s" + std::to_string(round);
    ASSERT_TRUE(a->execute("INSERT INTO items (name, data) VALUES ($1, $2)", {value(name), value(Bytes{1, 2})}));
    std::atomic<int> got{0};
    auto take = [&](Database& db) {
      auto rows = db.query("DELETE FROM items WHERE name = $1 RETURNING data", {value(name)});
      if (rows && !rows->empty() && (*rows)[0].blob(0) == Bytes{1, 2}) ++got;
    };
    std::thread ta([&] { take(*a); });
    std::thread tb([&] { take(*b); });
    ta.join();
    tb.join();
    EXPECT_EQ(got.load(), 1) << "round " << round;
  }
}

/// No lock of the engine's own: while one transaction holds a row, another
/// of the same Database (a second pooled connection) commits beside it. With
/// a database-wide lock per transaction the second would wait for the first.
TEST_F(Postgres, PooledTransactionsRunSideBySide) {
  auto opened = open_database(server_->url(name_), OpenOptions{2});
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  ASSERT_TRUE(db.execute("INSERT INTO items (name, n) VALUES ('a', 0), ('b', 0)"));
  std::promise<void> holding, finish;
  std::thread holder([&] {
    auto tx = db.begin();
    ASSERT_TRUE(tx);
    auto row = db.query("SELECT n FROM items WHERE name = 'a'" + row_lock(db));
    EXPECT_TRUE(row && row->size() == 1);
    holding.set_value();
    finish.get_future().wait();
    EXPECT_TRUE(db.execute("UPDATE items SET n = n + 1 WHERE name = 'a'"));
    EXPECT_TRUE(tx->commit());
  });
  holding.get_future().wait();
  auto other = std::async(std::launch::async, [&] {
    auto tx = db.begin();
    if (!tx) return false;
    if (!db.execute("UPDATE items SET n = n + 1 WHERE name = 'b'")) return false;
    return static_cast<bool>(tx->commit());
  });
  const bool side_by_side = other.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  finish.set_value();
  holder.join();
  ASSERT_TRUE(side_by_side) << "the second transaction waited for the first";
  EXPECT_TRUE(other.get());
  auto rows = db.query("SELECT n FROM items ORDER BY name");
  ASSERT_TRUE(rows && rows->size() == 2);
  EXPECT_EQ((*rows)[0].int64(0), 1);
  EXPECT_EQ((*rows)[1].int64(0), 1);
}

/// The pool never opens more connections than it was given, however many
/// threads use it, and nested begin() on one thread is still refused.
TEST_F(Postgres, PoolStaysWithinItsSize) {
  auto opened = open_database(server_->url(name_), OpenOptions{3});
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  ASSERT_TRUE(db.execute("INSERT INTO items (name, n) VALUES ('counter', 0)"));
  std::atomic<std::int64_t> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto tx = db.begin();
        ASSERT_TRUE(tx) << tx.error().message;
        EXPECT_FALSE(db.begin());
        auto row = db.query_one("SELECT n FROM items WHERE name = 'counter'" + row_lock(db));
        ASSERT_TRUE(row && *row);
        ASSERT_TRUE(db.execute("UPDATE items SET n = $1 WHERE name = 'counter'", {value((*row)->int64(0) + 1)}));
        auto seen = db.query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()");
        if (seen && *seen) {
          const auto n = (*seen)->int64(0);
          for (auto m = most.load(); n > m && !most.compare_exchange_weak(m, n);) {
          }
        }
        ASSERT_TRUE(tx->commit());
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ((*db.query("SELECT n FROM items WHERE name = 'counter'"))[0].int64(0), 80);
  EXPECT_GE(most.load(), 1);
  EXPECT_LE(most.load(), 3);
}

/// Two transactions that wait for each other: the server ends one, which
/// reports a Conflict (to be run again), and the other commits.
TEST_F(Postgres, DeadlockVictimReportsAConflict) {
  auto opened = open_database(server_->url(name_), OpenOptions{2});
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  ASSERT_TRUE(db.execute("INSERT INTO items (name, n) VALUES ('a', 0), ('b', 0)"));
  std::atomic<int> locked{0};
  auto cross = [&](const char* first, const char* second) -> DbResult<void> {
    RSP_TRY(auto tx, db.begin());
    RSP_TRY_VOID(db.execute("UPDATE items SET n = n + 1 WHERE name = $1", {value(first)}));
    ++locked;
    while (locked.load() < 2) std::this_thread::yield();
    RSP_TRY_VOID(db.execute("UPDATE items SET n = n + 1 WHERE name = $1", {value(second)}));
    return tx.commit();
  };
  DbResult<void> ra, rb;
  std::thread ta([&] { ra = cross("a", "b"); });
  std::thread tb([&] { rb = cross("b", "a"); });
  ta.join();
  tb.join();
  ASSERT_NE(static_cast<bool>(ra), static_cast<bool>(rb)) << "exactly one of the two commits";
  const DbError& e = ra ? rb.error() : ra.error();
  EXPECT_TRUE(is_conflict(e)) << e.message;
  // The victim's work is gone; run again, it commits.
  locked = 2;
  auto again = retry_conflicts([&] { return cross(ra ? "b" : "a", ra ? "a" : "b"); }, is_conflict);
  EXPECT_TRUE(again) << again.error().message;
  auto rows = db.query("SELECT n FROM items ORDER BY name");
  ASSERT_TRUE(rows && rows->size() == 2);
  EXPECT_EQ((*rows)[0].int64(0), 2);
  EXPECT_EQ((*rows)[1].int64(0), 2);
}

/// SKIP LOCKED hands a row to one transaction; another, meanwhile, gets the
/// next one instead of waiting or taking the same.
TEST_F(Postgres, SkipLockedHandsOutDistinctRows) {
  auto opened = open_database(server_->url(name_), OpenOptions{2});
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  ASSERT_TRUE(db.execute("INSERT INTO items (name) VALUES ('p1'), ('p2')"));
  const std::string take = "SELECT name FROM items ORDER BY name LIMIT 1" + row_lock(db, RowLock::SkipLocked);
  std::promise<void> holding, finish;
  std::string first;
  std::thread holder([&] {
    auto tx = db.begin();
    ASSERT_TRUE(tx);
    auto row = db.query_one(take);
    ASSERT_TRUE(row && *row);
    first = (*row)->text(0);
    holding.set_value();
    finish.get_future().wait();
  });
  holding.get_future().wait();
  auto tx = db.begin();
  ASSERT_TRUE(tx);
  auto row = db.query_one(take);
  finish.set_value();
  holder.join();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(first, "p1");
  EXPECT_EQ((*row)->text(0), "p2");
}

TEST(RetryConflicts, StopsAtSuccessAtAnotherErrorAndAfterTheLastAttempt) {
  int runs = 0;
  auto conflict_twice = [&]() -> DbResult<int> {
    if (++runs <= 2) return db_error(DbError::Kind::Conflict, "deadlock detected");
    return 7;
  };
  auto ok = retry_conflicts(conflict_twice, is_conflict);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  EXPECT_EQ(runs, 3);
  runs = 0;
  auto other = retry_conflicts([&]() -> DbResult<int> { ++runs; return db_error(DbError::Kind::Constraint, "dup"); },
                               is_conflict);
  EXPECT_FALSE(other);
  EXPECT_EQ(runs, 1);
  runs = 0;
  auto always = retry_conflicts([&]() -> DbResult<int> { ++runs; return db_error(DbError::Kind::Conflict, "x"); },
                                is_conflict, 4);
  EXPECT_FALSE(always);
  EXPECT_EQ(runs, 4);
}

TEST_F(Postgres, OpenFailureIsAnOpenErrorWithoutThePassword) {
  auto db = open_database("postgresql://someone:hunter2secret@/nodb?host=/nonexistent-rsp&port=1");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, DbError::Kind::Open);
  EXPECT_EQ(db.error().message.find("hunter2secret"), std::string::npos) << db.error().message;
  EXPECT_EQ(redact_url("postgresql://u:pw@h:5432/db?sslmode=require"), "postgresql://u:***@h:5432/db?sslmode=require");
  EXPECT_EQ(redact_url("postgres://h/db?user=u&password=pw"), "postgres://h/db?user=u&password=***");
  EXPECT_EQ(redact_url("/srv/smdpp.db"), "/srv/smdpp.db");
}

/// An outage: while the server is down every call fails with an error (no
/// crash, no hang), a transaction open across the outage does not commit, and
/// the same Database object serves again once the server is back.
TEST(PostgresOutage, CallsFailWhileTheServerIsDownAndTheConnectionComesBack) {
  PgServer own;
  if (!own.ok()) GTEST_SKIP() << "PostgreSQL not available: " << own.why();
  ASSERT_TRUE(own.create_database("outage")) << own.why();
  auto opened = open_database(own.url("outage"));
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(migrate(db, "test", kMigrations));
  ASSERT_TRUE(db.execute("INSERT INTO items (name) VALUES ('before')"));

  auto tx = db.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db.execute("INSERT INTO items (name) VALUES ('torn')"));
  ASSERT_TRUE(own.pause());
  EXPECT_FALSE(tx->commit());
  for (int i = 0; i < 3; ++i) {
    auto r = db.execute("INSERT INTO items (name) VALUES ('during')");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().kind == DbError::Kind::Open || r.error().kind == DbError::Kind::Io) << r.error().message;
    EXPECT_FALSE(db.begin());
  }
  ASSERT_TRUE(own.resume());
  auto after = db.execute("INSERT INTO items (name) VALUES ('after')");
  ASSERT_TRUE(after) << after.error().message;
  auto names = db.query("SELECT name FROM items ORDER BY id");
  ASSERT_TRUE(names) << names.error().message;
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[0].text(0), "before");
  EXPECT_EQ((*names)[1].text(0), "after");
}

}  // namespace
}  // namespace rsp::store
