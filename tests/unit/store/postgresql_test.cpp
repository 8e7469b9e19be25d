// Database layer over PostgreSQL: the behaviours store_test.cpp checks for
// SQLite, against a private server (skipped when none can be started).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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
  static void SetUpTestSuite() { server_ = new PgServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
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
  static PgServer* server_;
  std::string name_;
};

PgServer* Postgres::server_ = nullptr;

TEST_F(Postgres, FactoryChoosesTheEngine) {
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->dialect(), "postgresql");
  EXPECT_TRUE(is_postgresql_url("postgres://h/db"));
  EXPECT_FALSE(is_postgresql_url("/var/lib/rsp/smdpp.db"));
}

TEST_F(Postgres, BindAndReadEveryType) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  const Bytes blob{0x00, 0xFF, 0x10, 0x5C};
  auto n = db->execute("INSERT INTO items (name, data, n, r) VALUES ($1, $2, $3, $4)",
                       {value("a"), value(blob), value(std::int64_t{1} << 40), value(2.5)});
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(db->execute("INSERT INTO items (name, data, n) VALUES ($1, $2, $3)",
                          {value("b"), value(Bytes{}), value(std::optional<int>())}));
  auto rows = db->query("SELECT name, data, n, r FROM items WHERE name = $2 OR name = $1 OR name = $2 ORDER BY name",
                        {value("a"), value("b")});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].text(0), "a");
  EXPECT_EQ((*rows)[0].blob(1), blob);
  EXPECT_EQ((*rows)[0].int64(2), std::int64_t{1} << 40);
  EXPECT_EQ(std::get<double>((*rows)[0].at(3)), 2.5);
  EXPECT_EQ((*rows)[1].blob(1), Bytes{});
  EXPECT_FALSE((*rows)[1].is_null(1));
  EXPECT_TRUE((*rows)[1].is_null(2));
  EXPECT_TRUE((*rows)[1].is_null(3));
  EXPECT_EQ((*rows)[1].opt_int64(2), std::nullopt);

  auto returning = db->query("INSERT INTO items (name) VALUES ($1) RETURNING id", {value("c")});
  ASSERT_TRUE(returning) << returning.error().message;
  EXPECT_EQ((*returning)[0].int64(0), 3);
  // count(*) is BIGINT, a comparison is BOOLEAN: both read as integers.
  auto counted = db->query_one("SELECT count(*), 1 = 1 FROM items");
  ASSERT_TRUE(counted && *counted);
  EXPECT_EQ((*counted)->int64(0), 3);
  EXPECT_EQ((*counted)->int64(1), 1);
}

TEST_F(Postgres, ErrorsAreValues) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, kMigrations));
  auto bad = db->query("SELEC nonsense");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, DbError::Kind::Syntax);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ($1)", {value("secret-x")}));
  auto dup = db->execute("INSERT INTO items (name) VALUES ($1)", {value("secret-x")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, DbError::Kind::Constraint);
  // The server's DETAIL line quotes the key; it must not reach the message.
  EXPECT_EQ(dup.error().message.find("secret-x"), std::string::npos) << dup.error().message;
  auto fk = db->execute("INSERT INTO tags (item, tag) VALUES ($1, $2)", {value(99), value("t")});
  ASSERT_FALSE(fk);
  EXPECT_EQ(fk.error().kind, DbError::Kind::Constraint);
  auto missing = db->execute("INSERT INTO items (name) VALUES ($1)", {value("y"), value("z")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, DbError::Kind::Misuse);
}

TEST_F(Postgres, PreparedStatementRunsRepeatedly) {
  auto db = open();
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

TEST_F(Postgres, MigrationsAreIdempotentAndVersioned) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    EXPECT_EQ(*schema_version(*db), 0);
    auto v = migrate(*db, std::span(kMigrations, 1));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(*v, 1);
  }
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(*migrate(*db, kMigrations), 2);
  EXPECT_EQ(*migrate(*db, kMigrations), 2);
  EXPECT_EQ((*db->query("SELECT count(*) FROM schema_version"))[0].int64(0), 2);
  auto old = migrate(*db, std::span(kMigrations, 1));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().kind, DbError::Kind::Schema);
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
      if (auto r = migrate(*db, kMigrations); !r || *r != 2) ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*dbs[0]->query("SELECT count(*) FROM schema_version"))[0].int64(0), 2);
}

TEST_F(Postgres, FailedMigrationLeavesThePreviousVersion) {
  auto db = open();
  ASSERT_TRUE(db);
  const Migration broken[] = {kMigrations[0], {2, "broken", "CREATE TABLE t2 (x INTEGER); CREATE TABLE oops ("}};
  ASSERT_FALSE(migrate(*db, broken));
  EXPECT_EQ(*schema_version(*db), 1);
  EXPECT_TRUE((*db->query("SELECT tablename FROM pg_tables WHERE tablename = 't2'")).empty());
}

TEST_F(Postgres, TransactionCommitAndRollback) {
  {
    auto db = open();
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
    {
      // A failed statement aborts the transaction; the connection stays usable.
      auto tx = db->begin();
      ASSERT_TRUE(tx);
      EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('kept')"));
    }
    EXPECT_TRUE(db->query("SELECT 1"));
  }
  auto db = open();
  ASSERT_TRUE(db);
  auto rows = db->query("SELECT name FROM items ORDER BY name");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "kept");
}

TEST_F(Postgres, TransactionsOfTwoConnectionsDoNotLoseUpdates) {
  auto setup = open();
  ASSERT_TRUE(setup);
  ASSERT_TRUE(migrate(*setup, kMigrations));
  ASSERT_TRUE(setup->execute("INSERT INTO items (name, n) VALUES ('counter', 0)"));
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < 3; ++i) dbs.push_back(open());
  for (auto& db : dbs) {
    ASSERT_TRUE(db);
    threads.emplace_back([&db] {
      // Read, then write: correct only because transactions are serialised.
      for (int i = 0; i < 20; ++i) {
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
  EXPECT_EQ((*setup->query("SELECT n FROM items WHERE name = 'counter'"))[0].int64(0), 60);
}

TEST_F(Postgres, DeleteReturningHandsARowToOneConnectionOnly) {
  // How the SM-DP+ takes a download session: of two instances racing for
  // the same row exactly one receives it.
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(migrate(*a, kMigrations));
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

TEST_F(Postgres, OpenFailureIsAnOpenErrorWithoutThePassword) {
  auto db = open_database("postgresql://someone:hunter2secret@/nodb?host=/nonexistent-rsp&port=1");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, DbError::Kind::Open);
  EXPECT_EQ(db.error().message.find("hunter2secret"), std::string::npos) << db.error().message;
  EXPECT_EQ(redact_url("postgresql://u:pw@h:5432/db?sslmode=require"), "postgresql://u:***@h:5432/db?sslmode=require");
  EXPECT_EQ(redact_url("postgres://h/db?user=u&password=pw"), "postgres://h/db?user=u&password=***");
  EXPECT_EQ(redact_url("/srv/smdpp.db"), "/srv/smdpp.db");
}

}  // namespace
}  // namespace rsp::store
