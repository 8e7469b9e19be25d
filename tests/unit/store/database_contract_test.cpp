// What the database layer promises whatever the engine: the same tests run
// on SQLite (a file in a temporary folder) and on PostgreSQL (a private
// server, skipped when none can be started). Engine-only behaviour is in
// store_test.cpp and postgresql_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rsp/store/locking.hpp"
#include "rsp/store/migrate.hpp"
#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::store {
namespace {

const Migration kMigrations[] = {
    {1, "items", "CREATE TABLE items (id {ID}, name TEXT NOT NULL UNIQUE, data {BLOB}, n {INT}, r DOUBLE PRECISION)"},
    {2, "tags", "CREATE TABLE tags (item {INT} NOT NULL REFERENCES items(id), tag TEXT NOT NULL)"},
};

/// The engine's name is the parameter; every test gets a database of its own.
class AnyEngine : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string name = "c" + std::to_string(++counter);
    auto made = test_support::engine_database(GetParam(), dir_.path(), name);
    if (!made.skip.empty()) GTEST_SKIP() << made.skip;
    ASSERT_TRUE(made.error.empty()) << made.error;
    location_ = made.location;
  }
  /// A new connection to this test's database.
  std::unique_ptr<Database> open() {
    auto db = open_database(location_);
    EXPECT_TRUE(db) << (db ? "" : db.error().message);
    return db ? std::move(*db) : nullptr;
  }
  bool table_exists(Database& db, const std::string& table) {
    const auto sql = db.dialect() == "sqlite" ? "SELECT name FROM sqlite_schema WHERE name = $1"
                                              : "SELECT tablename FROM pg_tables WHERE tablename = $1";
    auto rows = db.query(sql, {value(table)});
    return rows && !rows->empty();
  }

  test_support::TempDir dir_;
  std::string location_;
};

TEST_P(AnyEngine, OpensTheEngineItsLocationNames) {
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->dialect(), GetParam());
}

TEST_P(AnyEngine, BindAndReadEveryType) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  const Bytes blob{0x00, 0xFF, 0x10, 0x5C};
  auto n = db->execute("INSERT INTO items (name, data, n, r) VALUES ($1, $2, $3, $4)",
                       {value("a"), value(blob), value(std::int64_t{1} << 40), value(2.5)});
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(db->execute("INSERT INTO items (name, data, n) VALUES ($1, $2, $3)",
                          {value("b"), value(Bytes{}), value(std::optional<int>())}));
  // Repeated and reordered placeholders.
  auto rows = db->query("SELECT name, data, n, r FROM items WHERE name = $2 OR name = $1 OR name = $2 ORDER BY name",
                        {value("a"), value("b")});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].text(0), "a");
  EXPECT_EQ((*rows)[0].blob(1), blob);
  EXPECT_EQ((*rows)[0].int64(2), std::int64_t{1} << 40);
  EXPECT_EQ(std::get<double>((*rows)[0].at(3)), 2.5);
  EXPECT_EQ((*rows)[1].blob(1), Bytes{});  // an empty blob stays a blob
  EXPECT_FALSE((*rows)[1].is_null(1));
  EXPECT_TRUE((*rows)[1].is_null(2));
  EXPECT_TRUE((*rows)[1].is_null(3));
  EXPECT_EQ((*rows)[1].opt_int64(2), std::nullopt);
  EXPECT_TRUE((*rows)[1].is_null(7));  // out of range reads as NULL

  auto returning = db->query("INSERT INTO items (name) VALUES ($1) RETURNING id", {value("c")});
  ASSERT_TRUE(returning) << returning.error().message;
  EXPECT_EQ((*returning)[0].int64(0), 3);
  // count(*) and a comparison both read as integers.
  auto counted = db->query_one("SELECT count(*), 1 = 1 FROM items");
  ASSERT_TRUE(counted && *counted);
  EXPECT_EQ((*counted)->int64(0), 3);
  EXPECT_EQ((*counted)->int64(1), 1);
}

TEST_P(AnyEngine, ErrorsAreValues) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  auto bad = db->query("SELEC nonsense");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, DbError::Kind::Syntax);
  ASSERT_TRUE(db->execute("INSERT INTO items (name) VALUES ($1)", {value("secret-x")}));
  auto dup = db->execute("INSERT INTO items (name) VALUES ($1)", {value("secret-x")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, DbError::Kind::Constraint);
  // Bound values never reach a message (PostgreSQL's DETAIL line quotes the key).
  EXPECT_EQ(dup.error().message.find("secret-x"), std::string::npos) << dup.error().message;
  auto fk = db->execute("INSERT INTO tags (item, tag) VALUES ($1, $2)", {value(99), value("t")});
  ASSERT_FALSE(fk);
  EXPECT_EQ(fk.error().kind, DbError::Kind::Constraint);
  auto missing = db->execute("INSERT INTO items (name) VALUES ($1)", {value("y"), value("z")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, DbError::Kind::Misuse);
}

TEST_P(AnyEngine, PreparedStatementRunsRepeatedly) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
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

TEST_P(AnyEngine, MigrationsAreIdempotentAndVersioned) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    EXPECT_EQ(*schema_version(*db, "test"), 0);
    auto v = migrate(*db, "test", std::span(kMigrations, 1));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(*v, 1);
  }
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_EQ(*migrate(*db, "test", kMigrations), 2);
  EXPECT_EQ(*migrate(*db, "test", kMigrations), 2);  // again: nothing to do
  EXPECT_EQ((*db->query("SELECT count(*) FROM schema_versions WHERE component = 'test'"))[0].int64(0), 2);
  // A program that only knows version 1 refuses the newer database.
  auto old = migrate(*db, "test", std::span(kMigrations, 1));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().kind, DbError::Kind::Schema);
}

/// Two roles in one database: each component's version is its own.
TEST_P(AnyEngine, ComponentsKeepTheirOwnVersions) {
  auto db = open();
  ASSERT_TRUE(db);
  const Migration other[] = {{1, "other table", "CREATE TABLE other_items (id {ID}, v TEXT)"}};
  EXPECT_EQ(*migrate(*db, "test", kMigrations), 2);
  auto v = migrate(*db, "other", other);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(*schema_version(*db, "test"), 2);
  EXPECT_EQ(*schema_version(*db, "other"), 1);
  EXPECT_EQ(*schema_version(*db, "nobody"), 0);
  // A program that knows only the first migration of "test" is refused, "other" is not affected.
  EXPECT_FALSE(migrate(*db, "test", std::span(kMigrations, 1)));
  EXPECT_EQ(*migrate(*db, "other", other), 1);
  EXPECT_FALSE(migrate(*db, "", other));
}

/// A database written before versions were per component: its rows are the
/// SM-DP+'s, so its migrations are not run again.
TEST_P(AnyEngine, TheOldVersionTableIsAdoptedAsTheSmdpps) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->execute_script(
      dialect_sql("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {INT} NOT NULL);"
                  "INSERT INTO schema_version VALUES (1, 'items', 0);"
                  "CREATE TABLE items (id {ID}, name TEXT NOT NULL)",
                  db->dialect())));
  EXPECT_EQ(*schema_version(*db, kLegacySchemaComponent), 1);
  EXPECT_EQ(*schema_version(*db, "test"), 0);
  // Migration 1 would fail (items exists): only 2 runs.
  auto v = migrate(*db, kLegacySchemaComponent, kMigrations);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, 2);
  EXPECT_EQ(*schema_version(*db, kLegacySchemaComponent), 2);
}

TEST_P(AnyEngine, FailedMigrationLeavesThePreviousVersion) {
  auto db = open();
  ASSERT_TRUE(db);
  const Migration broken[] = {kMigrations[0], {2, "broken", "CREATE TABLE t2 (x INTEGER); CREATE TABLE oops ("}};
  ASSERT_FALSE(migrate(*db, "test", broken));
  EXPECT_EQ(*schema_version(*db, "test"), 1);
  // The half-run script left no table behind.
  EXPECT_FALSE(table_exists(*db, "t2"));
}

TEST_P(AnyEngine, TransactionCommitAndRollback) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(migrate(*db, "test", kMigrations));
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
    {
      // A failed statement inside: the connection stays usable afterwards.
      auto tx = db->begin();
      ASSERT_TRUE(tx);
      EXPECT_FALSE(db->execute("INSERT INTO items (name) VALUES ('kept')"));
    }
    EXPECT_TRUE(db->query("SELECT 1"));
  }
  auto db = open();  // a fresh connection sees only committed data
  ASSERT_TRUE(db);
  auto rows = db->query("SELECT name FROM items ORDER BY name");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "kept");
}

/// Adds one to the counter `times` times, each in its own transaction: read,
/// then write, correct only because the read locks the row (row_lock: SQLite
/// runs one transaction at a time, PostgreSQL holds the row for this one).
void count_up(Database& db, int times) {
  for (int i = 0; i < times; ++i) {
    auto tx = db.begin();
    if (!tx) continue;
    auto row = db.query_one("SELECT n FROM items WHERE name = 'counter'" + row_lock(db));
    if (!row || !*row) continue;
    (void)db.execute("UPDATE items SET n = $1 WHERE name = 'counter'", {value((*row)->int64(0) + 1)});
    (void)tx->commit();
  }
}

TEST_P(AnyEngine, TransactionsOfSeveralConnectionsDoNotLoseUpdates) {
  auto setup = open();
  ASSERT_TRUE(setup);
  ASSERT_TRUE(migrate(*setup, "test", kMigrations));
  ASSERT_TRUE(setup->execute("INSERT INTO items (name, n) VALUES ('counter', 0)"));
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < 3; ++i) dbs.push_back(open());
  std::vector<std::thread> threads;
  for (auto& db : dbs) {
    ASSERT_TRUE(db);
    threads.emplace_back([&db] { count_up(*db, 20); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*setup->query("SELECT n FROM items WHERE name = 'counter'"))[0].int64(0), 60);
}

TEST_P(AnyEngine, ThreadsShareOneConnection) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db, "test", kMigrations));
  ASSERT_TRUE(db->execute("INSERT INTO items (name, n) VALUES ('counter', 0)"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&db] { count_up(*db, 50); });
  for (auto& t : threads) t.join();
  EXPECT_EQ((*db->query("SELECT n FROM items WHERE name = 'counter'"))[0].int64(0), 200);
}

INSTANTIATE_TEST_SUITE_P(Engines, AnyEngine, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& test_info) { return test_info.param; });

}  // namespace
}  // namespace rsp::store
