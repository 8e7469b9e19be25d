// ES11 sessions in the database: two SM-DS instances on one SQLite file (as
// several on one PostgreSQL database), an InitiateAuthentication answered by
// one finished at the other, each session taken once whoever asks, expiry
// and the bound on sessions held, and the store on its own.

#include <gtest/gtest.h>

#include "rsp/smds/session_store.hpp"
#include "world.hpp"

namespace rsp::smds {
namespace {

using testing::kSmdsAddress;
using testing::SmdsWorld;

const std::string kEid = "89049032123451234512345678901235";  // the test eUICC's

/// A second instance on `w`'s database file, with the same identities and clock.
struct SecondInstance {
  explicit SecondInstance(SmdsWorld& w) {
    auto opened = store::open_sqlite(w.dir.path() / "smds.db");
    if (!opened) throw std::runtime_error(opened.error().message);
    db = std::shared_ptr<store::Database>(std::move(*opened));
    auto es = EventStore::open(db);
    if (!es) throw std::runtime_error(es.error().message);
    ServerConfig cfg;
    cfg.address = kSmdsAddress;
    cfg.max_sessions = 8;
    server = std::make_shared<Server>(cfg, w.identities, *es, w.clock, w.rng);
  }
  std::shared_ptr<store::Database> db;
  std::shared_ptr<Server> server;
};

TEST(SmdsSessions, AuthenticationBegunOnOneInstanceFinishesOnAnother) {
  SmdsWorld w;
  SecondInstance other(w);
  ASSERT_TRUE(w.server->register_event("dp1", {std::nullopt, kEid, "smdp.test.example", "E1", false}));
  auto euicc = w.euicc();
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

TEST(SmdsSessionStore, TakesEachSessionOnceAndDropsTheExpired) {
  SmdsWorld w;
  SessionStore store(w.db);
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

TEST(SmdsSessionStore, ASessionTakenAfterItsExpiryIsGone) {
  SmdsWorld w;
  SessionStore store(w.db);
  const auto now = w.clock.now();
  const Bytes tid(16, 0x01);
  ASSERT_TRUE(store.add(tid, Bytes(16, 0x02), now + std::chrono::seconds(30), now, 10));
  auto late = store.take(tid, now + std::chrono::seconds(31));
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  EXPECT_EQ(store.count(), 0u);  // and not left behind
}

}  // namespace
}  // namespace rsp::smds
