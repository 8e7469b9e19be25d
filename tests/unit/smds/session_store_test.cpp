// ES11 sessions in the database: two SM-DS instances on one SQLite file (as
// several on one PostgreSQL database), an InitiateAuthentication answered by
// one finished at the other, each session taken once whoever asks, expiry
// and the bound on sessions held, and the store on its own.

#include <gtest/gtest.h>

#include "rsp/smds/session_store.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_support/pg_server.hpp"
#include "test_support/temp_dir.hpp"
#include "world.hpp"

namespace rsp::smds {
namespace {

using testing::kSmdsAddress;
using testing::SmdsWorld;

/// A second instance on `w`'s database file, with the same identities and
/// clock; both keep their sessions in the database.
struct SecondInstance {
  explicit SecondInstance(SmdsWorld& w) {
    ServerConfig first;
    first.address = kSmdsAddress;
    first.max_sessions = 8;
    first.shared_sessions = true;
    w.server = std::make_shared<Server>(first, w.identities, w.events, w.clock, w.rng);
    auto opened = store::open_sqlite(w.dir.path() / "smds.db");
    if (!opened) throw std::runtime_error(opened.error().message);
    db = std::shared_ptr<store::Database>(std::move(*opened));
    auto es = EventStore::open(db);
    if (!es) throw std::runtime_error(es.error().message);
    ServerConfig cfg;
    cfg.address = kSmdsAddress;
    cfg.max_sessions = 8;
    cfg.shared_sessions = true;
    server = std::make_shared<Server>(cfg, w.identities, *es, w.clock, w.rng);
  }
  std::shared_ptr<store::Database> db;
  std::shared_ptr<Server> server;
};

TEST(SmdsSessions, AuthenticationBegunOnOneInstanceFinishesOnAnother) {
  SmdsWorld w;
  SecondInstance other(w);
  auto euicc = w.euicc();
  ASSERT_TRUE(w.server->register_event("dp1", {std::nullopt, euicc.eid(), "smdp.test.example", "E1", false}));
  auto init = w.server->initiate_authentication(euicc.initiate(kSmdsAddress));
  ASSERT_TRUE(init);
  EXPECT_EQ(other.server->session_count(), 1u);  // the other instance sees it
  auto client = euicc.authenticate_server(*init, std::nullopt);
  ASSERT_TRUE(client);
  auto found = other.server->authenticate_client(*client);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->eventEntries.size(), 1u);
  EXPECT_EQ(found->eventEntries[0].eventId, "E1");
  // Single use across the instances: neither may finish it again.
  for (auto* s : {w.server.get(), other.server.get()}) {
    auto replay = s->authenticate_client(*client);
    ASSERT_FALSE(replay);
    EXPECT_TRUE(is(replay.error(), codes::kUnknownTransactionId));
  }
  EXPECT_EQ(w.server->session_count(), 0u);
}

TEST(SmdsSessions, AnExpiredSessionIsRefusedOnTheOtherInstance) {
  SmdsWorld w;
  SecondInstance other(w);
  auto euicc = w.euicc();
  auto init = w.server->initiate_authentication(euicc.initiate(kSmdsAddress));
  ASSERT_TRUE(init);
  auto client = euicc.authenticate_server(*init, std::nullopt);
  ASSERT_TRUE(client);
  w.clock.advance(std::chrono::seconds(31));
  auto late = other.server->authenticate_client(*client);
  ASSERT_FALSE(late);
  EXPECT_TRUE(is(late.error(), codes::kUnknownTransactionId));
}

TEST(SmdsSessions, TheBoundHoldsForTheInstancesTogether) {
  SmdsWorld w;  // max_sessions 8 on both
  SecondInstance other(w);
  auto euicc = w.euicc();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(w.server->initiate_authentication(euicc.initiate(kSmdsAddress)));
    ASSERT_TRUE(other.server->initiate_authentication(euicc.initiate(kSmdsAddress)));
  }
  EXPECT_EQ(w.server->session_count(), 8u);
}

class SmdsSessionStore : public ::testing::TestWithParam<bool> {};  // in the database?

TEST_P(SmdsSessionStore, TakesEachSessionOnceAndDropsTheExpired) {
  SmdsWorld w;
  SessionStore store(GetParam() ? w.db : nullptr);
  const auto now = w.clock.now();
  const Bytes tid(16, 0x01), challenge(16, 0x02), old_tid(16, 0x03);
  ASSERT_TRUE(store.add(old_tid, challenge, now - std::chrono::seconds(1), now, 10));
  ASSERT_TRUE(store.add(tid, challenge, now + std::chrono::seconds(30), now, 10));
  EXPECT_EQ(store.count(), 1u);  // the expired one went as the new one came
  auto taken = store.take(tid, now);
  ASSERT_TRUE(taken);
  ASSERT_TRUE(*taken);
  EXPECT_EQ(**taken, challenge);
  auto again = store.take(tid, now);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto unknown = store.take(Bytes(16, 0x09), now);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

TEST_P(SmdsSessionStore, ASessionTakenAfterItsExpiryIsGone) {
  SmdsWorld w;
  SessionStore store(GetParam() ? w.db : nullptr);
  const auto now = w.clock.now();
  const Bytes tid(16, 0x01);
  ASSERT_TRUE(store.add(tid, Bytes(16, 0x02), now + std::chrono::seconds(30), now, 10));
  auto late = store.take(tid, now + std::chrono::seconds(31));
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  EXPECT_EQ(store.count(), 0u);  // and not left behind
}

TEST_P(SmdsSessionStore, TheOldestGiveWayWhenFull) {
  SmdsWorld w;
  SessionStore store(GetParam() ? w.db : nullptr);
  const auto now = w.clock.now();
  for (std::uint8_t i = 0; i < 5; ++i)
    ASSERT_TRUE(store.add(Bytes(16, i), Bytes(16, 0x02), now + std::chrono::seconds(30 + i), now, 3));
  EXPECT_EQ(store.count(), 3u);
  auto oldest = store.take(Bytes(16, 0), now);
  ASSERT_TRUE(oldest);
  EXPECT_FALSE(*oldest);
  auto newest = store.take(Bytes(16, 4), now);
  ASSERT_TRUE(newest);
  EXPECT_TRUE(*newest);
}

INSTANTIATE_TEST_SUITE_P(MemoryAndDatabase, SmdsSessionStore, ::testing::Bool());

std::int64_t synchronous_level(store::Database& db) {
  auto row = db.query_one("PRAGMA synchronous");
  return row && *row ? (*row)->int64(0) : -1;
}

TEST(SmdsSessionDatabase, SessionRowsGoThroughTheirOwnConnectionWithoutAnFsync) {
  SmdsWorld w;
  auto sessions = SessionStore::sessions_database(w.db);
  ASSERT_TRUE(sessions);
  EXPECT_NE(sessions.get(), w.db.get());
  EXPECT_EQ(synchronous_level(*sessions), 1);  // NORMAL: WAL commits without an fsync
  // The events' connection stays durable: NORMAL as well, but it syncs
  // the write-ahead log itself after each durable commit (store::SqliteCommitStats).
  EXPECT_EQ(synchronous_level(*w.db), 1);
  // The same file: a session written through one is seen through the other.
  SessionStore store(w.db);
  const auto now = w.clock.now();
  ASSERT_TRUE(store.add(Bytes(16, 0x01), Bytes(16, 0x02), now + std::chrono::seconds(30), now, 10));
  auto row = w.db->query_one("SELECT count(*) FROM smds_session");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->int64(0), 1);
}

TEST(SmdsSessionDatabase, AnInMemoryDatabaseIsItsOwnSessionDatabase) {
  auto opened = store::open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  std::shared_ptr<store::Database> db(std::move(*opened));
  EXPECT_EQ(SessionStore::sessions_database(db).get(), db.get());
  EXPECT_EQ(SessionStore::sessions_database(nullptr), nullptr);
}

class SmdsSessionEngines : public ::testing::TestWithParam<std::string> {};

TEST_P(SmdsSessionEngines, TakesOnceWithoutLeavingTheRelaxedCommitBehind) {
  test_support::TempDir dir;
  auto where = test_support::engine_database(GetParam(), dir.path(), "smds_sessions");
  if (!where.skip.empty()) GTEST_SKIP() << where.skip;
  ASSERT_TRUE(where.error.empty()) << where.error;
  auto opened = store::open_database(where.location);
  ASSERT_TRUE(opened) << opened.error().message;
  std::shared_ptr<store::Database> db(std::move(*opened));
  ASSERT_TRUE(EventStore::open(db));  // its migrations make the session table
  SessionStore store(db);
  const auto now = service::TimePoint{std::chrono::seconds(1'800'000'000)};
  const Bytes tid(16, 0x07), challenge(16, 0x08);
  ASSERT_TRUE(store.add(tid, challenge, now + std::chrono::seconds(30), now, 10));
  EXPECT_EQ(store.count(), 1u);
  auto taken = store.take(tid, now);
  ASSERT_TRUE(taken) << taken.error().message;
  ASSERT_TRUE(*taken);
  EXPECT_EQ(**taken, challenge);
  auto again = store.take(tid, now);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(store.count(), 0u);
  if (GetParam() == "postgresql") {  // SET LOCAL ended with its transaction
    auto row = db->query_one("SHOW synchronous_commit");
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((*row)->text(0), "on");
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, SmdsSessionEngines, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace rsp::smds
