// The event store on both engines: registration order, the registrar's own
// namespace, and forwarded calls enqueued in the same transaction (a refused
// change enqueues nothing).

#include <gtest/gtest.h>

#include "rsp/service/clock.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smds/event_store.hpp"
#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smds {
namespace {

class EventStoreEngines : public ::testing::TestWithParam<std::string> {};

TEST_P(EventStoreEngines, KeepsOrderRegistrarsAndForwardedCalls) {
  test_support::TempDir dir;
  auto where = test_support::engine_database(GetParam(), dir.path(), "smds_events");
  if (!where.skip.empty()) GTEST_SKIP() << where.skip;
  ASSERT_TRUE(where.error.empty()) << where.error;
  auto opened = store::open_database(where.location);
  ASSERT_TRUE(opened) << opened.error().message;
  std::shared_ptr<store::Database> db(std::move(*opened));
  service::ManualClock clock(service::TimePoint{std::chrono::seconds(1'800'000'000)});
  auto outbox = service::SqlOutbox::open(db, "smds.es12", clock);
  ASSERT_TRUE(outbox);
  auto store = EventStore::open(db, *outbox);
  ASSERT_TRUE(store) << store.error().message;
  auto& s = **store;
  const service::OutboxMessage forward{"next", "{}", "https://next.example", "RegisterEvent B"};
  ASSERT_TRUE(s.add(Event{"dp1", "B", "E1", "a.example", false, 1}));
  ASSERT_TRUE(s.add(Event{"dp2", "A", "E1", "b.example", true, 2}, forward));
  ASSERT_TRUE(s.add(Event{"dp1", "C", "E2", "a.example", false, 3}));
  auto twice = s.add(Event{"dp1", "B", "E1", "c.example", true, 4}, forward);
  ASSERT_FALSE(twice);
  EXPECT_TRUE(is(twice.error(), codes::kEventAlreadyInUse));
  EXPECT_EQ((*outbox)->due()->size(), 1u);  // the refused one enqueued nothing

  auto e1 = s.for_eid("E1");
  ASSERT_TRUE(e1);
  ASSERT_EQ(e1->size(), 2u);
  EXPECT_EQ((*e1)[0].event_id, "B");  // first in, first out
  EXPECT_EQ((*e1)[1].event_id, "A");
  EXPECT_TRUE((*e1)[1].forwarded);

  auto not_yours = s.remove("dp1", "E1", "A");
  ASSERT_FALSE(not_yours);
  EXPECT_TRUE(is(not_yours.error(), codes::kEventUnknown));
  auto removed = s.remove("dp2", "E1", "A", [&](const Event& e) -> std::optional<service::OutboxMessage> {
    EXPECT_TRUE(e.forwarded);
    return service::OutboxMessage{"next", "{\"delete\":1}", "https://next.example", "DeleteEvent A"};
  });
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->rsp_server_address, "b.example");
  EXPECT_EQ((*outbox)->due()->size(), 2u);
  EXPECT_EQ(*s.count(), 2);
  EXPECT_TRUE(s.check_writable());
}

INSTANTIATE_TEST_SUITE_P(Engines, EventStoreEngines, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace rsp::smds
