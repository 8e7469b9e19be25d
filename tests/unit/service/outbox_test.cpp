// The outbox worker over an in-memory store: each recipient's entries in
// order, recipients in parallel (a hanging one delays only itself), back-off
// counted and given up, claims unique, a failing store reported.

#include "rsp/service/outbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace rsp::service {
namespace {

using namespace std::chrono_literals;

/// Entries in memory; an entry is due when not delivered, not given up and
/// not claimed (no clock: a failed entry is due again at once).
class MemoryStore : public OutboxStore {
 public:
  struct Entry {
    OutboxItem item;
    bool delivered = false;
    bool given_up = false;
    bool claimed = false;
    std::string last_error;
  };
  void add(std::int64_t id, const std::string& recipient, const std::string& destination) {
    std::lock_guard lock(mu);
    Entry e;
    e.item = OutboxItem{id, recipient, destination, "body-" + std::to_string(id), 0, {}, {}};
    entries.push_back(std::move(e));
  }
  expected<std::vector<std::string>, std::string> due_recipients(std::size_t limit) override {
    std::lock_guard lock(mu);
    if (broken) return unexpected(std::string("storage down"));
    std::vector<std::string> out;
    for (const auto& e : entries)
      if (due(e) && std::find(out.begin(), out.end(), e.item.recipient) == out.end() && out.size() < limit)
        out.push_back(e.item.recipient);
    return out;
  }
  expected<std::optional<OutboxItem>, std::string> claim_next(const std::string& recipient, std::chrono::seconds,
                                                              const std::string& claim) override {
    std::lock_guard lock(mu);
    claims.insert(claim);
    for (auto& e : entries)
      if (due(e) && e.item.recipient == recipient) {
        e.claimed = true;
        e.item.claim = claim;
        return std::optional<OutboxItem>(e.item);
      }
    return std::optional<OutboxItem>();
  }
  expected<bool, std::string> delivered(const OutboxItem& item) override {
    std::lock_guard lock(mu);
    Entry& e = find(item.id);
    e.delivered = true;
    e.claimed = false;
    return true;
  }
  expected<bool, std::string> failed(const OutboxItem& item, const std::string& error,
                                     const OutboxPolicy& policy) override {
    std::lock_guard lock(mu);
    Entry& e = find(item.id);
    e.item.attempts++;
    e.last_error = error;
    e.given_up = e.item.attempts >= policy.max_attempts;
    e.claimed = false;
    return true;
  }
  static bool due(const Entry& e) { return !e.delivered && !e.given_up && !e.claimed; }
  Entry& find(std::int64_t id) {
    for (auto& e : entries)
      if (e.item.id == id) return e;
    return entries.front();
  }

  std::mutex mu;
  std::vector<Entry> entries;
  std::set<std::string> claims;
  bool broken = false;
};

TEST(OutboxWorker, EachRecipientInOrderAndFailuresBackedOffThenGivenUp) {
  auto store = std::make_shared<MemoryStore>();
  store->add(1, "a", "https://a/cb");
  store->add(2, "b", "https://b/cb");
  store->add(3, "a", "https://a/cb");
  store->add(4, "c", "");  // no destination
  std::mutex mu;
  std::vector<std::string> sent;
  OutboxWorkerConfig c;
  c.policy.max_attempts = 2;
  c.metrics = std::make_shared<net::Metrics>();
  c.no_destination = "the recipient has no URL";
  OutboxWorker worker(store, c, [&](const std::string& dest, const std::string& body) -> expected<void, std::string> {
    std::lock_guard lock(mu);
    sent.push_back(dest + " " + body);
    if (dest == "https://b/cb") return unexpected(std::string("HTTP status 503"));
    return {};
  });
  auto n = worker.run_once();
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(*n, 2u);  // a's two entries; b failed twice (due again at once here) and was given up
  std::vector<std::string> a;
  for (const auto& s : sent)
    if (s.rfind("https://a/", 0) == 0) a.push_back(s);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], "https://a/cb body-1");
  EXPECT_EQ(a[1], "https://a/cb body-3");
  EXPECT_EQ(worker.delivered(), 2u);
  EXPECT_EQ(worker.given_up(), 2u);  // b after two attempts, c after two
  EXPECT_EQ(worker.failed_attempts(), 4u);
  EXPECT_EQ(store->find(2).last_error, "HTTP status 503");
  EXPECT_EQ(store->find(4).last_error, "the recipient has no URL");
  EXPECT_EQ(c.metrics->counter("rsp_outbox_deliveries_total", "").value({{"result", "delivered"}}), 2.0);
  EXPECT_EQ(c.metrics->counter("rsp_outbox_deliveries_total", "").value({{"result", "given_up"}}), 2.0);
  EXPECT_GE(store->claims.size(), 6u);  // every claim_next call had a claim of its own
  std::set<std::string> prefixes;
  for (const auto& claim : store->claims) prefixes.insert(claim.substr(0, claim.find('-')));
  EXPECT_EQ(prefixes.size(), 1u);  // one worker, one prefix, a fresh number per claim
}

TEST(OutboxWorker, AHangingRecipientDelaysOnlyItself) {
  auto store = std::make_shared<MemoryStore>();
  store->add(1, "slow", "slow");
  store->add(2, "fast", "fast");
  std::atomic<bool> release{false};
  std::atomic<bool> fast_done{false};
  OutboxWorkerConfig c;
  c.poll_interval = 20ms;
  OutboxWorker worker(store, c, [&](const std::string& dest, const std::string&) -> expected<void, std::string> {
    if (dest == "slow")
      while (!release) std::this_thread::sleep_for(5ms);
    else
      fast_done = true;
    return {};
  });
  worker.start();
  for (int i = 0; i < 400 && !fast_done; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(fast_done);
  release = true;
  for (int i = 0; i < 400 && worker.delivered() < 2; ++i) std::this_thread::sleep_for(5ms);
  worker.stop();
  worker.stop();  // idempotent
  EXPECT_EQ(worker.delivered(), 2u);
}

TEST(OutboxWorker, ALaneGatheringAfterAShortBatchSendsEverythingInOrderAndStopsAtOnce) {
  auto store = std::make_shared<MemoryStore>();
  for (int i = 1; i <= 3; ++i) store->add(i, "a", "https://a/cb");
  std::mutex mu;
  std::vector<std::string> sent;
  OutboxWorkerConfig c;
  c.poll_interval = 5ms;
  c.batch = 8;
  c.gather = std::chrono::minutes(10);  // longer than the test may take: stop() must cut the wait
  OutboxWorker worker(store, c, [&](const std::string&, const std::string& body) -> expected<void, std::string> {
    std::lock_guard lock(mu);
    sent.push_back(body);
    return {};
  });
  worker.start();
  // The memory store claims one entry at a time: the lane's first batch is
  // short and it waits; the poll thread finds its recipient lane busy.
  for (int i = 0; i < 400 && worker.delivered() < 1; ++i) std::this_thread::sleep_for(5ms);
  worker.stop();
  EXPECT_EQ(worker.delivered(), 1u);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0], "body-1");
  }
  // Without a wait, one pass takes the rest, in order.
  c.gather = std::chrono::milliseconds(0);
  OutboxWorker again(store, c, [&](const std::string&, const std::string& body) -> expected<void, std::string> {
    std::lock_guard lock(mu);
    sent.push_back(body);
    return {};
  });
  auto n = again.run_once();
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(*n, 2u);
  std::lock_guard lock(mu);
  EXPECT_EQ(sent, (std::vector<std::string>{"body-1", "body-2", "body-3"}));
}

TEST(OutboxWorker, AFailingStoreIsReportedAndNothingIsSent) {
  auto store = std::make_shared<MemoryStore>();
  store->add(1, "a", "https://a/cb");
  store->broken = true;
  int calls = 0;
  OutboxWorker worker(store, {}, [&](const std::string&, const std::string&) -> expected<void, std::string> {
    ++calls;
    return {};
  });
  auto n = worker.run_once();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), "storage down");
  EXPECT_EQ(calls, 0);
  store->broken = false;
  n = worker.run_once();
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(*n, 1u);
}

}  // namespace
}  // namespace rsp::service
