// The SQL outbox's bookkeeping on SQLite: an entry is queued inside the
// role's flushed transaction, while its claim, its delivery and its release
// (one at a time or by batch) commit without a disk flush of their own
// (delivery is at least once already); a failed attempt stays flushed.
#include <gtest/gtest.h>

#include "rsp/service/sql_outbox.hpp"
#include "rsp/store/sqlite.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::service {
namespace {

using namespace std::chrono_literals;

struct OutboxOnSqlite {
  test_support::TempDir dir;
  ManualClock clock{TimePoint{std::chrono::seconds(1'800'000'000)}};
  std::shared_ptr<store::Database> db;
  std::shared_ptr<SqlOutbox> outbox;
  OutboxOnSqlite() {
    auto d = store::open_sqlite(dir.path() / "o.db");
    EXPECT_TRUE(d);
    if (!d) return;
    db = std::shared_ptr<store::Database>(std::move(*d));
    auto o = SqlOutbox::open(db, "role.topic", clock);
    EXPECT_TRUE(o);
    if (o) outbox = *o;
  }
  /// Queued in a flushed transaction, as a role queues it with its change.
  void enqueue() {
    auto tx = db->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(outbox->enqueue(*db, OutboxMessage{"op1", "{}", "https://op1.example/cb", "ref-1"}));
    ASSERT_TRUE(tx->commit());
  }
  std::string status() { return (*db->query_one("SELECT status FROM service_outbox"))->text(0); }
};

TEST(OutboxFlush, ClaimAndDeliveryTakeNoFlush) {
  OutboxOnSqlite o;
  ASSERT_TRUE(o.outbox);
  o.enqueue();
  const auto before = store::sqlite_commit_stats(*o.db);
  auto item = o.outbox->claim_next("op1", 30s, "token-1");
  ASSERT_TRUE(item && *item);
  auto done = o.outbox->delivered(**item);
  ASSERT_TRUE(done);
  EXPECT_TRUE(*done);
  const auto after = store::sqlite_commit_stats(*o.db);
  EXPECT_EQ(after.commits - before.commits, 2u);
  EXPECT_EQ(after.flushes - before.flushes, 0u);
  EXPECT_EQ(after.deferred - before.deferred, 2u);
  EXPECT_EQ(o.status(), "delivered");
  // Delivered once: the same claim cannot deliver it again.
  auto again = o.outbox->delivered(**item);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST(OutboxFlush, ABatchClaimDeliveryAndReleaseTakeNoFlush) {
  OutboxOnSqlite o;
  ASSERT_TRUE(o.outbox);
  for (int i = 0; i < 3; ++i) o.enqueue();
  const auto before = store::sqlite_commit_stats(*o.db);
  auto items = o.outbox->claim_batch("op1", 30s, "token-1", 8);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 3u);
  const std::span<const OutboxItem> all(*items);
  auto done = o.outbox->delivered_batch(all.first(2));
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, 2u);
  ASSERT_TRUE(o.outbox->release(all.subspan(2)));
  const auto after = store::sqlite_commit_stats(*o.db);
  EXPECT_EQ(after.commits - before.commits, 3u);
  EXPECT_EQ(after.flushes - before.flushes, 0u);
  EXPECT_EQ(after.deferred - before.deferred, 3u);
  auto rows = o.db->query("SELECT status, claim_token FROM service_outbox ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].text(0), "delivered");
  EXPECT_EQ((*rows)[1].text(0), "delivered");
  EXPECT_EQ((*rows)[2].text(0), "pending");
  EXPECT_FALSE((*rows)[2].opt_text(1).has_value());
  // The released entry is due again at once, and the delivered ones are not.
  auto next = o.outbox->claim_batch("op1", 30s, "token-2", 8);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->front().id, (*items)[2].id);
}

TEST(OutboxFlush, ABatchMarkedWithTheNextClaimTakesOneTransactionAndNoFlush) {
  OutboxOnSqlite o;
  ASSERT_TRUE(o.outbox);
  for (int i = 0; i < 2; ++i) o.enqueue();
  auto first = o.outbox->claim_batch("op1", 30s, "token-1", 8);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 2u);
  for (int i = 0; i < 2; ++i) o.enqueue();
  const auto before = store::sqlite_commit_stats(*o.db);
  auto both = o.outbox->delivered_and_claim(*first, "op1", 30s, "token-2", 8);
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(both->first, 2u);
  ASSERT_EQ(both->second.size(), 2u);
  EXPECT_EQ(both->second.front().id, (*first)[1].id + 1);  // the next ones, in order
  EXPECT_EQ(both->second.front().claim, "token-2");
  const auto after = store::sqlite_commit_stats(*o.db);
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_EQ(after.flushes - before.flushes, 0u);
  auto rows = o.db->query("SELECT status, claim_token FROM service_outbox ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].text(0), "delivered");
  EXPECT_EQ((*rows)[1].text(0), "delivered");
  EXPECT_EQ((*rows)[2].text(1), "token-2");
  // Marked again (a claim no longer held): nothing; and nothing due: an
  // empty claim, the marks of the second batch kept.
  auto last = o.outbox->delivered_and_claim(both->second, "op1", 30s, "token-3", 8);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->first, 2u);
  EXPECT_TRUE(last->second.empty());
  auto none = o.outbox->delivered_and_claim(both->second, "op1", 30s, "token-4", 8);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->first, 0u);
  EXPECT_TRUE(none->second.empty());
  auto all = o.db->query("SELECT COUNT(*) FROM service_outbox WHERE status = 'delivered'");
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)[0].int64(0), 4);
  EXPECT_FALSE(o.outbox->delivered_and_claim(both->second, "op1", 30s, "", 8));  // no token
}

TEST(OutboxFlush, AFailedAttemptIsFlushed) {
  OutboxOnSqlite o;
  ASSERT_TRUE(o.outbox);
  o.enqueue();
  auto item = o.outbox->claim_next("op1", 30s, "token-1");
  ASSERT_TRUE(item && *item);
  const auto before = store::sqlite_commit_stats(*o.db);
  auto failed = o.outbox->failed(**item, "HTTP 503", OutboxPolicy{});
  ASSERT_TRUE(failed);
  EXPECT_TRUE(*failed);
  // A statement on its own: the connection synced the log after it; not
  // counted as a group.
  EXPECT_GT(store::sqlite_commit_stats(*o.db).wal_syncs, before.wal_syncs);
  EXPECT_EQ(store::sqlite_commit_stats(*o.db).deferred, before.deferred);
  EXPECT_EQ(o.status(), "pending");
}

}  // namespace
}  // namespace rsp::service
