// Database layer over PostgreSQL, what only this engine does: URLs, concurrent
// migrations, DELETE ... RETURNING across connections, password redaction;
// against a private server (skipped when none can be started).
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
