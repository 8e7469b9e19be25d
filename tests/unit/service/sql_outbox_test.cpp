// The SQL outbox on both engines (PostgreSQL skipped with a message when no
// private server can start): entries join the caller's transaction, claims
// are leased and exclusive, failed attempts back off and are given up,
// outboxes sharing a database never see each other's entries, and the
// prepare hook completes an entry inside its claim.
#include "rsp/service/sql_outbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::service {
namespace {

using namespace std::chrono_literals;
using store::value;

class SqlOutboxTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string name = "sql_outbox" + std::to_string(++counter);
    auto made = test_support::engine_database(GetParam(), dir_.path(), name);
    if (!made.skip.empty()) GTEST_SKIP() << made.skip;
    ASSERT_TRUE(made.error.empty()) << made.error;
    location_ = made.location;
    db_ = connect();
    ASSERT_TRUE(db_);
  }
  /// A connection of its own to this test's database.
  std::shared_ptr<store::Database> connect() {
    auto db = store::open_database(location_);
    EXPECT_TRUE(db) << (db ? "" : db.error().message);
    return db ? std::shared_ptr<store::Database>(std::move(*db)) : nullptr;
  }
  std::shared_ptr<SqlOutbox> outbox(const std::string& name, std::shared_ptr<store::Database> db = nullptr,
                                    SqlOutbox::Prepare prepare = {}) {
    auto o = SqlOutbox::open(db ? db : db_, name, clock_, std::move(prepare));
    EXPECT_TRUE(o) << (o ? "" : o.error().message);
    return o ? *o : nullptr;
  }
  std::int64_t enqueue(SqlOutbox& o, const std::string& recipient, const std::string& body) {
    auto id = o.enqueue(*db_, OutboxMessage{recipient, body, "https://" + recipient + ".example/cb", {}});
    EXPECT_TRUE(id) << (id ? "" : id.error().message);
    return id ? *id : 0;
  }
  store::Row row(std::int64_t id) {
    auto r = db_->query_one("SELECT status, attempts, next_try_at, claim_token, last_error FROM service_outbox"
                            " WHERE id = $1",
                            {value(id)});
    EXPECT_TRUE(r && *r);
    return r && *r ? **r : store::Row{};
  }
  std::int64_t now() const { return clock_.now().time_since_epoch().count(); }

  test_support::TempDir dir_;
  std::string location_;
  std::shared_ptr<store::Database> db_;
  ManualClock clock_{TimePoint{std::chrono::seconds(1'800'000'000)}};
};

TEST_P(SqlOutboxTest, AnEntryCommitsAndRollsBackWithTheCallersTransaction) {
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  ASSERT_TRUE(db_->execute_script("CREATE TABLE role_state (k TEXT PRIMARY KEY, v TEXT NOT NULL)"));
  {
    auto tx = db_->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_->execute("INSERT INTO role_state (k, v) VALUES ('a', 'changed')"));
    enqueue(*o, "op1", "{\"change\":\"a\"}");
    EXPECT_EQ(o->due()->size(), 1u);  // visible inside the transaction
    // destroyed without commit, as when the process stops half way
  }
  EXPECT_TRUE(o->due()->empty());
  EXPECT_TRUE(o->due_recipients(10)->empty());
  EXPECT_EQ((*db_->query_one("SELECT COUNT(*) FROM service_outbox"))->int64(0), 0);
  EXPECT_EQ((*db_->query_one("SELECT COUNT(*) FROM role_state"))->int64(0), 0);

  auto tx = db_->begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(db_->execute("INSERT INTO role_state (k, v) VALUES ('a', 'changed')"));
  const auto id = enqueue(*o, "op1", "{\"change\":\"a\"}");
  ASSERT_TRUE(tx->commit());
  auto due = o->due();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, id);
  EXPECT_EQ((*due)[0].recipient, "op1");
  EXPECT_EQ((*due)[0].destination, "https://op1.example/cb");
  EXPECT_EQ((*due)[0].body, "{\"change\":\"a\"}");
  EXPECT_EQ((*due)[0].attempts, 0);
  EXPECT_EQ((*db_->query_one("SELECT COUNT(*) FROM role_state"))->int64(0), 1);
}

TEST_P(SqlOutboxTest, AClaimIsLeasedAndOnlyItsHolderMarksTheEntry) {
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  const auto first = enqueue(*o, "op1", "one");
  const auto second = enqueue(*o, "op1", "two");
  auto a = o->claim_next("op1", 60s, "claim-a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->id, first);  // oldest first
  EXPECT_EQ((*a)->claim, "claim-a");
  EXPECT_EQ(row(first).text(3), "claim-a");
  EXPECT_EQ(row(first).int64(2), now() + 60);
  auto b = o->claim_next("op1", 60s, "claim-b");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->id, second);
  auto none = o->claim_next("op1", 60s, "claim-c");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);  // both leased
  EXPECT_TRUE(o->due_recipients(10)->empty());
  EXPECT_TRUE(o->due()->empty());

  // The holder of `first` died: its lease ends and another sender takes it.
  clock_.advance(59s);
  EXPECT_FALSE(*o->claim_next("op1", 60s, "claim-c"));
  clock_.advance(1s);
  EXPECT_EQ(*o->due_recipients(10), std::vector<std::string>{"op1"});
  auto again = o->claim_next("op1", 60s, "claim-d");
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->id, first);
  // The dead sender's claims change nothing any more.
  EXPECT_FALSE(*o->delivered(**a));
  EXPECT_FALSE(*o->failed(**a, "late", OutboxPolicy{}));
  EXPECT_EQ(row(first).text(0), "pending");
  EXPECT_EQ(row(first).int64(1), 0);
  EXPECT_TRUE(*o->delivered(**again));
  EXPECT_EQ(row(first).text(0), "delivered");
  EXPECT_EQ(row(first).int64(1), 1);
  EXPECT_TRUE(row(first).is_null(3));
  EXPECT_FALSE(*o->delivered(**again));  // once only
  // `second` was leased at the same time as `first`: due again as well.
  auto late = o->claim_next("op1", 60s, "claim-e");
  ASSERT_TRUE(late && *late);
  EXPECT_EQ((*late)->id, second);
  // A claim without a token is refused, nothing taken.
  EXPECT_FALSE(o->claim_next("op1", 60s, ""));
}

TEST_P(SqlOutboxTest, FailedAttemptsBackOffDoublingUpToTheCapThenAreGivenUp) {
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  const auto id = enqueue(*o, "op1", "body");
  OutboxPolicy policy;
  policy.max_attempts = 5;
  policy.first_delay = 30s;
  policy.max_delay = 100s;
  const std::int64_t expected_delays[] = {30, 60, 100, 100};
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto item = o->claim_next("op1", 10s, "c" + std::to_string(attempt));
    ASSERT_TRUE(item && *item) << attempt;
    EXPECT_EQ((*item)->attempts, attempt);
    ASSERT_TRUE(*o->failed(**item, "HTTP status 503", policy));
    const auto r = row(id);
    EXPECT_EQ(r.int64(1), attempt + 1);
    EXPECT_EQ(r.text(4), "HTTP status 503");
    EXPECT_TRUE(r.is_null(3));
    if (attempt == 4) {
      EXPECT_EQ(r.text(0), "failed");  // max_attempts: kept for the audit
      break;
    }
    EXPECT_EQ(r.text(0), "pending");
    const auto delay = expected_delays[attempt];
    EXPECT_EQ(r.int64(2), now() + delay);
    clock_.advance(std::chrono::seconds(delay - 1));
    EXPECT_TRUE(o->due()->empty()) << attempt;
    clock_.advance(1s);
  }
  clock_.advance(std::chrono::hours(48));
  EXPECT_TRUE(o->due()->empty());
  EXPECT_FALSE(*o->claim_next("op1", 10s, "late"));
  EXPECT_EQ(outbox_retry_delay(0, policy), 30s);
  EXPECT_EQ(outbox_retry_delay(40, policy), 100s);  // no overflow
}

TEST_P(SqlOutboxTest, OutboxesSharingADatabaseNeverSeeEachOthersEntries) {
  auto smdpp = outbox("smdpp.hdpi");
  auto smsr = outbox("smsr.notify", connect());  // another role, its own connection
  ASSERT_TRUE(smdpp && smsr);
  const auto mine = enqueue(*smdpp, "op1", "for op1 from the SM-DP+");
  const auto theirs = smsr->enqueue(*db_, OutboxMessage{"op1", "for op1 from the SM-SR", {}, {}});
  ASSERT_TRUE(theirs);
  auto due = smdpp->due();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, mine);
  auto item = smsr->claim_next("op1", 60s, "sr");
  ASSERT_TRUE(item && *item);
  EXPECT_EQ((*item)->id, *theirs);
  EXPECT_EQ((*item)->destination, "");
  EXPECT_FALSE(*smsr->claim_next("op1", 60s, "sr2"));  // the SM-DP+'s is not its to take
  // An item of one outbox marks nothing in another, even under its claim.
  EXPECT_FALSE(*smdpp->delivered(**item));
  EXPECT_EQ(row(*theirs).text(0), "pending");
  EXPECT_TRUE(*smsr->delivered(**item));
  EXPECT_EQ(row(mine).text(0), "pending");
  EXPECT_EQ(*smdpp->due_recipients(10), std::vector<std::string>{"op1"});
  EXPECT_TRUE(smsr->due_recipients(10)->empty());
  // Both keep their own schema version beside the roles'.
  EXPECT_EQ(*store::schema_version(*db_, kOutboxSchemaComponent), 1);
}

TEST_P(SqlOutboxTest, ThePrepareHookCompletesAClaimAndItsFailureUndoesIt) {
  std::atomic<bool> fail{true};
  auto o = outbox("role.topic", nullptr, [&](OutboxItem& item) -> expected<void, std::string> {
    if (fail) return unexpected(std::string("lookup failed"));
    if (item.destination.empty()) item.destination = "https://" + item.recipient + ".example/now";
    item.body = "[" + item.body + "]";
    return {};
  });
  ASSERT_TRUE(o);
  ASSERT_TRUE(o->enqueue(*db_, OutboxMessage{"op1", "b", {}, "ref-1"}));
  auto refused = o->claim_next("op1", 60s, "a");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "lookup failed");
  EXPECT_EQ(o->due()->size(), 1u);  // not claimed: due at once
  fail = false;
  auto item = o->claim_next("op1", 60s, "b");
  ASSERT_TRUE(item && *item);
  EXPECT_EQ((*item)->destination, "https://op1.example/now");
  EXPECT_EQ((*item)->body, "[b]");
  EXPECT_EQ((*item)->ref, "ref-1");
  EXPECT_TRUE(*o->delivered(**item));
  // Marked with the next claim, which the hook refuses: the marks stay, the
  // claim is undone (due at once, in its place).
  auto second = o->enqueue(*db_, OutboxMessage{"op1", "c", {}, "ref-2"});
  ASSERT_TRUE(second);
  auto held = o->claim_batch("op1", 60s, "c", 4);
  ASSERT_TRUE(held);
  ASSERT_EQ(held->size(), 1u);
  ASSERT_TRUE(o->enqueue(*db_, OutboxMessage{"op1", "d", {}, "ref-3"}));
  fail = true;
  auto both = o->delivered_and_claim(*held, "op1", 60s, "d", 4);
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(both->first, 1u);
  EXPECT_TRUE(both->second.empty());
  EXPECT_EQ(row(*second).text(0), "delivered");
  ASSERT_EQ(o->due()->size(), 1u);
  EXPECT_EQ(o->due()->front().ref, "ref-3");
}

// Two workers (two connections, as two instances sharing the database)
// serve one outbox at once: each entry is sent exactly once. (Order per
// recipient holds within one worker; across instances a second one may take
// the next entry while the first is leased, as the claims allow.)
TEST_P(SqlOutboxTest, TwoWorkersNeverDeliverOneEntryTwice) {
  constexpr int kRecipients = 4, kPerRecipient = 12;
  auto store_a = outbox("role.topic", connect());
  auto store_b = outbox("role.topic", connect());
  ASSERT_TRUE(store_a && store_b);
  auto q = outbox("role.topic");
  for (int i = 0; i < kPerRecipient; ++i)
    for (int r = 0; r < kRecipients; ++r) enqueue(*q, "op" + std::to_string(r), std::to_string(i));
  std::mutex mu;
  std::map<std::string, int> sends;  // destination#body -> times sent
  auto sender = [&](const std::string& destination, const std::string& body) -> expected<void, std::string> {
    std::this_thread::sleep_for(1ms);
    std::lock_guard lock(mu);
    ++sends[destination + "#" + body];
    return {};
  };
  OutboxWorkerConfig c;
  c.poll_interval = 5ms;
  c.lease = 600s;  // the clock stands still: no lease ends during the test
  OutboxWorker a(store_a, c, sender), b(store_b, c, sender);
  a.start();
  b.start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (a.delivered() + b.delivered() < kRecipients * kPerRecipient && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  a.stop();
  b.stop();
  EXPECT_EQ(a.delivered() + b.delivered(), static_cast<std::uint64_t>(kRecipients * kPerRecipient));
  std::lock_guard lock(mu);
  EXPECT_EQ(sends.size(), static_cast<std::size_t>(kRecipients * kPerRecipient));
  for (const auto& [key, n] : sends) EXPECT_EQ(n, 1) << key;
  EXPECT_EQ((*db_->query_one("SELECT COUNT(*) FROM service_outbox WHERE status = 'delivered'"))->int64(0),
            kRecipients * kPerRecipient);
}

TEST_P(SqlOutboxTest, ABatchIsClaimedOldestFirstMarkedAtOnceAndWhatWasNotSentGoesBack) {
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(enqueue(*o, "op1", std::to_string(i)));
  enqueue(*o, "op2", "other recipient");
  auto batch = o->claim_batch("op1", 60s, "claim-a", 3);
  ASSERT_TRUE(batch) << batch.error();
  ASSERT_EQ(batch->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*batch)[i].id, ids[i]);  // oldest first
    EXPECT_EQ((*batch)[i].claim, "claim-a");
    EXPECT_EQ(row(ids[i]).text(3), "claim-a");
  }
  // The rest of op1's entries, then none: the batch holds its three.
  auto rest = o->claim_batch("op1", 60s, "claim-b", 10);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].id, ids[3]);
  EXPECT_TRUE(o->claim_batch("op1", 60s, "claim-c", 10)->empty());
  // Two of the first batch delivered at once; only the holder's marks count.
  const std::span<const OutboxItem> first(*batch);
  EXPECT_EQ(*o->delivered_batch(first.first(2)), 2u);
  EXPECT_EQ(*o->delivered_batch(first.first(2)), 0u);  // once only
  EXPECT_EQ(row(ids[0]).text(0), "delivered");
  EXPECT_EQ(row(ids[1]).int64(1), 1);
  // The third goes back unsent: due at once, no attempt counted.
  ASSERT_TRUE(o->release(first.subspan(2)));
  EXPECT_EQ(row(ids[2]).text(0), "pending");
  EXPECT_EQ(row(ids[2]).int64(1), 0);
  EXPECT_TRUE(row(ids[2]).is_null(3));
  auto again = o->claim_batch("op1", 60s, "claim-d", 10);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, ids[2]);
  // A release by a claim no longer held changes nothing.
  ASSERT_TRUE(o->release(first.subspan(2)));
  EXPECT_EQ(row(ids[2]).text(3), "claim-d");
  EXPECT_FALSE(o->claim_batch("op1", 60s, "", 10));  // no token, nothing taken
}

TEST_P(SqlOutboxTest, AWorkerSendsBatchesInOrderAndAFailedSendSendsTheRestBack) {
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  constexpr int kEntries = 20;
  for (int i = 0; i < kEntries; ++i) enqueue(*o, "op1", std::to_string(i));
  std::mutex mu;
  std::vector<std::string> sends;
  bool failed_once = false;
  auto sender = [&](const std::string&, const std::string& body) -> expected<void, std::string> {
    std::lock_guard lock(mu);
    sends.push_back(body);
    if (body == "5" && !failed_once) {
      failed_once = true;
      return unexpected(std::string("refused once"));
    }
    return {};
  };
  OutboxWorkerConfig c;
  c.batch = 8;
  c.policy.first_delay = 0s;  // the failed entry is due again at once (the clock stands still)
  c.lease = 600s;
  OutboxWorker w(o, c, sender);
  for (int pass = 0; pass < 10 && w.delivered() < kEntries; ++pass) ASSERT_TRUE(w.run_once());
  EXPECT_EQ(w.delivered(), static_cast<std::uint64_t>(kEntries));
  EXPECT_EQ(w.failed_attempts(), 1u);
  std::vector<std::string> want;
  for (int i = 0; i < kEntries; ++i) {
    want.push_back(std::to_string(i));
    if (i == 5) want.push_back("5");  // sent again before the entries after it
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(sends, want);
  EXPECT_EQ((*db_->query_one("SELECT COUNT(*) FROM service_outbox WHERE status = 'delivered'"))->int64(0), kEntries);
  EXPECT_EQ((*db_->query_one("SELECT MAX(attempts) FROM service_outbox"))->int64(0), 2);
  EXPECT_EQ((*db_->query_one("SELECT COUNT(*) FROM service_outbox WHERE claim_token IS NOT NULL"))->int64(0), 0);
}

TEST_P(SqlOutboxTest, AddQueuesAsEnqueueDoesWithoutTheId) {
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  {
    auto tx = db_->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(o->add(*db_, OutboxMessage{"op1", "rolled back", {}, {}}));
    // destroyed without commit
  }
  EXPECT_TRUE(o->due()->empty());
  const auto first = enqueue(*o, "op1", "one");
  {
    auto tx = db_->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(o->add(*db_, OutboxMessage{"op1", "two", "https://op1.example/cb", "ref-2"}));
    ASSERT_TRUE(tx->commit());
  }
  const auto third = enqueue(*o, "op1", "three");
  auto due = o->due();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 3u);
  EXPECT_EQ((*due)[0].id, first);
  EXPECT_EQ((*due)[1].body, "two");
  EXPECT_EQ((*due)[1].ref, "ref-2");
  EXPECT_EQ((*due)[1].destination, "https://op1.example/cb");
  EXPECT_GT((*due)[1].id, first);
  EXPECT_LT((*due)[1].id, third);
  EXPECT_EQ((*due)[2].id, third);
  EXPECT_FALSE(o->add(*db_, OutboxMessage{"", "body", {}, {}}));
  ASSERT_TRUE(db_->execute_script("DROP TABLE service_outbox"));
  EXPECT_FALSE(o->add(*db_, OutboxMessage{"op1", "body", {}, {}}));
}

TEST_P(SqlOutboxTest, BadArgumentsAndALostTableAreErrorsNotCrashes) {
  EXPECT_FALSE(SqlOutbox::open(db_, "", clock_));
  EXPECT_FALSE(SqlOutbox::open(nullptr, "x", clock_));
  auto o = outbox("role.topic");
  ASSERT_TRUE(o);
  EXPECT_TRUE(outbox("role.topic"));  // migrating again is harmless
  EXPECT_EQ(*store::schema_version(*db_, kOutboxSchemaComponent), 1);
  EXPECT_FALSE(o->enqueue(*db_, OutboxMessage{"", "body", {}, {}}));
  ASSERT_TRUE(db_->execute_script("DROP TABLE service_outbox"));
  auto due = o->due_recipients(10);
  ASSERT_FALSE(due);
  EXPECT_NE(due.error().find("outbox storage"), std::string::npos);
  EXPECT_FALSE(o->claim_next("op1", 60s, "a"));
  EXPECT_FALSE(o->due());
  EXPECT_FALSE(o->enqueue(*db_, OutboxMessage{"op1", "body", {}, {}}));
}

INSTANTIATE_TEST_SUITE_P(Engines, SqlOutboxTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace rsp::service
