// The SM-DP+'s callbacks moved from its own `outbox` table (versions 1-8)
// into the service kit's outbox: on both engines (PostgreSQL skipped with a
// message when no private server can start), an upgrade carries every row
// over, keeps the functionCallIdentifier the operator saw, and drops the old
// table; what was pending is then delivered, what was delivered or given up
// stays for the audit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/callback_worker.hpp"
#include "rsp/store/migrate.hpp"
#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

using namespace std::chrono_literals;

class OutboxUpgrade : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string name = "outbox_upgrade" + std::to_string(++counter);
    auto made = test_support::engine_database(GetParam(), dir_.path(), name);
    if (!made.skip.empty()) GTEST_SKIP() << made.skip;
    ASSERT_TRUE(made.error.empty()) << made.error;
    auto opened = store::open_database(made.location);
    ASSERT_TRUE(opened) << opened.error().message;
    db_ = std::shared_ptr<store::Database>(std::move(*opened));
  }
  /// The database as version 8 left it: every migration before the move.
  void at_version_8() {
    const auto all = inventory_migrations();
    std::size_t n = 0;
    while (n < all.size() && all[n].version <= 8) ++n;
    ASSERT_TRUE(store::migrate(*db_, kSchemaComponent, all.first(n)));
    ASSERT_EQ(*store::schema_version(*db_, kSchemaComponent), 8);
  }
  bool has_table(const std::string& table) {
    const char* sql = db_->dialect() == "sqlite" ? "SELECT COUNT(*) FROM sqlite_master WHERE name = $1"
                                                 : "SELECT COUNT(*) FROM pg_tables WHERE tablename = $1";
    auto row = db_->query_one(sql, {store::value(table)});
    return row && *row && (*row)->int64(0) > 0;
  }

  test_support::TempDir dir_;
  std::shared_ptr<store::Database> db_;
  ManualClock clock_{TimePoint{std::chrono::seconds(1'800'000'000)}};
  crypto::DeterministicRandom rng_{Bytes{9, 9}};
};

TEST_P(OutboxUpgrade, EveryOldRowMovesAndThePendingOnesAreDelivered) {
  at_version_8();
  for (const char* op : {"op1", "op2"})
    ASSERT_TRUE(db_->execute("INSERT INTO operators (name, callback_url, created_at) VALUES ($1, $2, 1)",
                             {store::value(op), store::value("https://" + std::string(op) + ".example/hdpi")}));
  // Rows as version 8 wrote them: delivered, given up, pending (one under a
  // claim whose sender is gone, its lease over), each with its own id.
  struct Old {
    int id, op;
    const char* status;
    int attempts;
    std::int64_t next_try_at;
    const char* claim;
  };
  const Old rows[] = {{3, 1, "delivered", 1, 10, nullptr},
                      {5, 1, "failed", 10, 20, nullptr},
                      {7, 2, "pending", 2, 1'799'999'000, "dead-sender-1"},
                      {9, 1, "pending", 0, 1'800'000'500, nullptr}};
  for (const auto& r : rows)
    ASSERT_TRUE(db_->execute(
        "INSERT INTO outbox (id, operator_id, iccid, payload, attempts, next_try_at, status, last_error, created_at,"
        " claim_token) VALUES ($1, $2, '8900000000000000001', $3, $4, $5, $6, $7, 5, $8)",
        {store::value(r.id), store::value(r.op), store::value("{\"n\":" + std::to_string(r.id) + "}"),
         store::value(r.attempts), store::value(r.next_try_at), store::value(r.status),
         store::value(std::string("error ") + std::to_string(r.id)),
         store::value(r.claim ? std::optional<std::string>(r.claim) : std::nullopt)}));

  auto inv = Inventory::open(db_, clock_, {test_kek(), &rng_});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(*store::schema_version(*db_, kSchemaComponent), inventory_migrations().back().version);
  EXPECT_FALSE(has_table("outbox"));

  auto moved = db_->query(
      "SELECT outbox, recipient, ref, body, status, attempts, next_try_at, claim_token, last_error, created_at"
      " FROM service_outbox ORDER BY id");
  ASSERT_TRUE(moved) << moved.error().message;
  ASSERT_EQ(moved->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& m = (*moved)[i];
    const Old& r = rows[i];
    EXPECT_EQ(m.text(0), kCallbackOutbox);
    EXPECT_EQ(m.text(1), r.op == 1 ? "op1" : "op2");
    EXPECT_EQ(m.text(2), "hdpi-" + std::to_string(r.id));
    EXPECT_EQ(m.text(3), "{\"n\":" + std::to_string(r.id) + "}");
    EXPECT_EQ(m.text(4), r.status);
    EXPECT_EQ(m.int64(5), r.attempts);
    EXPECT_EQ(m.int64(6), r.next_try_at);
    EXPECT_EQ(m.opt_text(7), r.claim ? std::optional<std::string>(r.claim) : std::nullopt);
    EXPECT_EQ(m.text(8), "error " + std::to_string(r.id));
    EXPECT_EQ(m.int64(9), 5);
  }

  // The pending ones go out as before the upgrade: the same identifier.
  std::vector<std::pair<std::string, std::string>> sent;
  std::mutex mu;
  CallbackWorkerConfig c;
  c.requester_identifier = "smdp.test.example";
  CallbackWorker worker(*inv, c, [&](const std::string& url, const std::string& body) -> expected<void, std::string> {
    std::lock_guard lock(mu);
    sent.emplace_back(url, nlohmann::json::parse(body)["header"]["functionCallIdentifier"].get<std::string>());
    return {};
  });
  ASSERT_EQ(*worker.run_once(), 1u);  // #9 is not due yet
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], std::make_pair(std::string("https://op2.example/hdpi"), std::string("hdpi-7")));
  clock_.advance(500s);
  ASSERT_EQ(*worker.run_once(), 1u);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1], std::make_pair(std::string("https://op1.example/hdpi"), std::string("hdpi-9")));
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(*worker.run_once(), 0u);  // delivered and given-up rows stay as they were

  // New entries after the upgrade are named by their own id.
  ASSERT_TRUE((*inv)->import_profile(ImportProfile{"op1", "gold", test_upp(1), {}, "{}"}));
  ASSERT_TRUE((*inv)->enqueue_progress(test_iccid(1), "{}"));
  ASSERT_EQ(*worker.run_once(), 1u);
  auto last = db_->query_one("SELECT id FROM service_outbox ORDER BY id DESC LIMIT 1");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(sent.back().second, "hdpi-" + std::to_string((*last)->int64(0)));
}

TEST_P(OutboxUpgrade, ANewDatabaseHasOnlyTheServiceOutbox) {
  auto inv = Inventory::open(db_, clock_);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_FALSE(has_table("outbox"));
  EXPECT_TRUE(has_table("service_outbox"));
  EXPECT_EQ(*store::schema_version(*db_, service::kOutboxSchemaComponent), 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, OutboxUpgrade, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace rsp::smdpp::testing
