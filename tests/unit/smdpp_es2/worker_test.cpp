// The HandleDownloadProgressInfo worker over the inventory outbox: delivery
// with the header added, retries with exponential back-off on the inventory
// clock, giving up, durability across a restart, and the background thread.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "rsp/smdpp/callback_worker.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kUrl = "https://op1.example/es2plus/hdpi";

/// A sender that records the calls and answers as told.
struct FakeSender {
  struct Call {
    std::string url;
    std::string body;
  };
  std::vector<Call> calls;
  bool succeed = true;
  std::mutex mu;

  CallbackSender fn() {
    return [this](const std::string& url, const std::string& body) -> expected<void, std::string> {
      std::lock_guard lock(mu);
      calls.push_back({url, body});
      if (succeed) return {};
      return unexpected(std::string("HTTP status 503"));
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return calls.size();
  }
};

struct WorkerWorld : StoreWorld {
  std::string iccid;
  WorkerWorld() {
    iccid = add(1);
    EXPECT_TRUE(inv->set_callback_url("op1", kUrl));
  }
  void enqueue(int point) {
    json p = {{"eid", kEid}, {"iccid", iccid}, {"profileType", "gold"}, {"timestamp", "2027-01-15T08:00:00Z"},
              {"notificationPointId", point}, {"notificationPointStatus", {{"status", "Executed-Success"}}}};
    ASSERT_TRUE(inv->enqueue_progress(iccid, p.dump()));
  }
  std::string status(std::int64_t id) {
    auto r = db->query_one("SELECT status FROM outbox WHERE id = $1", {store::value(id)});
    return r && *r ? (*r)->text(0) : "";
  }
  std::int64_t attempts(std::int64_t id) {
    auto r = db->query_one("SELECT attempts FROM outbox WHERE id = $1", {store::value(id)});
    return r && *r ? (*r)->int64(0) : -1;
  }
  CallbackWorkerConfig config(std::shared_ptr<net::Metrics> metrics = nullptr) {
    CallbackWorkerConfig c;
    c.requester_identifier = "smdp.test.example";
    c.policy.max_attempts = 4;
    c.policy.first_delay = 30s;
    c.policy.max_delay = 100s;
    c.poll_interval = 10ms;
    c.metrics = std::move(metrics);
    return c;
  }
};

TEST(CallbackWorker, DeliversWithTheHeaderAndOnlyOnce) {
  WorkerWorld w;
  w.enqueue(3);
  w.enqueue(4);
  FakeSender sender;
  auto metrics = std::make_shared<net::Metrics>();
  CallbackWorker worker(w.inv, w.config(metrics), sender.fn());
  auto n = worker.run_once();
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 2u);
  ASSERT_EQ(sender.calls.size(), 2u);
  EXPECT_EQ(sender.calls[0].url, kUrl);
  const json body = json::parse(sender.calls[0].body);
  // SGP.22 §5.3.5 fields as queued, plus the §6.5.1 request header.
  EXPECT_EQ(body["header"]["functionRequesterIdentifier"], "smdp.test.example");
  EXPECT_EQ(body["header"]["functionCallIdentifier"], "hdpi-1");
  EXPECT_EQ(body["eid"], kEid);
  EXPECT_EQ(body["iccid"], w.iccid);
  EXPECT_EQ(body["profileType"], "gold");
  EXPECT_EQ(body["timestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(body["notificationPointId"], 3);
  EXPECT_EQ(body["notificationPointStatus"]["status"], "Executed-Success");
  EXPECT_EQ(json::parse(sender.calls[1].body)["notificationPointId"], 4);
  EXPECT_EQ(w.status(1), "delivered");
  EXPECT_EQ(w.status(2), "delivered");
  // Delivered entries are not sent again.
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.calls.size(), 2u);
  EXPECT_EQ(worker.delivered(), 2u);
  EXPECT_EQ(metrics->counter("rsp_smdpp_callbacks_total", "").value({{"result", "delivered"}}), 2.0);
}

TEST(CallbackWorker, RetriesWithExponentialBackoffOnTheInventoryClock) {
  WorkerWorld w;
  w.enqueue(4);
  FakeSender sender;
  sender.succeed = false;
  auto metrics = std::make_shared<net::Metrics>();
  CallbackWorker worker(w.inv, w.config(metrics), sender.fn());
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.count(), 1u);
  EXPECT_EQ(w.status(1), "pending");
  EXPECT_EQ(w.attempts(1), 1);
  // Not due again before the first delay (30 s) ...
  ASSERT_TRUE(worker.run_once());
  w.clock.advance(29s);
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.count(), 1u);
  // ... then retried; the next delay doubles (60 s).
  w.clock.advance(1s);
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.count(), 2u);
  EXPECT_EQ(w.attempts(1), 2);
  w.clock.advance(59s);
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.count(), 2u);
  w.clock.advance(1s);
  sender.succeed = true;
  auto n = worker.run_once();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(sender.count(), 3u);
  EXPECT_EQ(w.status(1), "delivered");
  // The same functionCallIdentifier on every attempt.
  for (const auto& c : sender.calls) EXPECT_EQ(json::parse(c.body)["header"]["functionCallIdentifier"], "hdpi-1");
  EXPECT_EQ(worker.failed_attempts(), 2u);
  EXPECT_EQ(metrics->counter("rsp_smdpp_callbacks_total", "").value({{"result", "failed"}}), 2.0);
  EXPECT_EQ(metrics->counter("rsp_smdpp_callbacks_total", "").value({{"result", "delivered"}}), 1.0);
}

TEST(CallbackWorker, GivesUpAfterTheLastAttemptAndKeepsTheEntry) {
  WorkerWorld w;
  w.enqueue(4);
  FakeSender sender;
  sender.succeed = false;
  CallbackWorker worker(w.inv, w.config(), sender.fn());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(worker.run_once());
    w.clock.advance(100s);  // the capped delay
  }
  EXPECT_EQ(sender.count(), 4u);  // max_attempts
  EXPECT_EQ(w.status(1), "failed");
  EXPECT_EQ(worker.given_up(), 1u);
  auto err = w.db->query_one("SELECT last_error FROM outbox WHERE id = 1");
  ASSERT_TRUE(err && *err);
  EXPECT_EQ((*err)->text(0), "HTTP status 503");
}

TEST(CallbackWorker, PendingEntriesSurviveARestart) {
  WorkerWorld w;
  w.enqueue(3);
  {
    FakeSender down;
    down.succeed = false;
    CallbackWorker worker(w.inv, w.config(), down.fn());
    ASSERT_TRUE(worker.run_once());
    EXPECT_EQ(down.count(), 1u);
  }
  w.enqueue(4);
  w.reopen();  // a new process on the same database
  FakeSender up;
  CallbackWorker worker(w.inv, w.config(), up.fn());
  ASSERT_TRUE(worker.run_once());
  ASSERT_EQ(up.count(), 1u);  // the new entry; the first waits for its back-off
  EXPECT_EQ(json::parse(up.calls[0].body)["notificationPointId"], 4);
  w.clock.advance(30s);
  ASSERT_TRUE(worker.run_once());
  ASSERT_EQ(up.count(), 2u);
  EXPECT_EQ(json::parse(up.calls[1].body)["notificationPointId"], 3);
  EXPECT_EQ(w.status(1), "delivered");
  EXPECT_EQ(w.status(2), "delivered");
}

TEST(CallbackWorker, WithoutCallbackUrlTheEntryWaits) {
  WorkerWorld w;
  ASSERT_TRUE(w.inv->set_callback_url("op1", ""));
  w.enqueue(4);
  FakeSender sender;
  CallbackWorker worker(w.inv, w.config(), sender.fn());
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.count(), 0u);
  EXPECT_EQ(w.status(1), "pending");
  EXPECT_EQ(w.attempts(1), 1);
  // Configured later (a restart with the URL): delivered on the next try.
  ASSERT_TRUE(w.inv->set_callback_url("op1", kUrl));
  w.clock.advance(30s);
  ASSERT_TRUE(worker.run_once());
  EXPECT_EQ(sender.count(), 1u);
  EXPECT_EQ(w.status(1), "delivered");
}

TEST(CallbackWorker, BackgroundThreadDeliversAndStops) {
  WorkerWorld w;
  FakeSender sender;
  CallbackWorker worker(w.inv, w.config(), sender.fn());
  worker.start();
  w.enqueue(4);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (worker.delivered() < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(worker.delivered(), 1u);
  const auto t0 = std::chrono::steady_clock::now();
  worker.stop();
  worker.stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(sender.count(), 1u);
}

TEST(CallbackWorker, HttpsSenderRefusesOtherSchemesAndReportsNoSecrets) {
  auto send = https_callback_sender({});
  auto r = send("ftp://op.example/x", "{}");
  ASSERT_FALSE(r);
  // https without a trust anchor cannot be checked: refused before connecting.
  auto no_anchor = send("https://user:secret@op.example/x?token=secret", "{}");
  ASSERT_FALSE(no_anchor);
  EXPECT_EQ(no_anchor.error().find("secret"), std::string::npos) << no_anchor.error();
}

}  // namespace
}  // namespace rsp::smdpp::testing
