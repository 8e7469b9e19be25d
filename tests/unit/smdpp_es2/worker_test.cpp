// The HandleDownloadProgressInfo worker over the inventory outbox: delivery
// with the header added, retries with exponential back-off on the inventory
// clock, giving up, durability across a restart, and the background thread.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "rsp/smdpp/callback_worker.hpp"
#include "fixture.hpp"
#include "rsp/net/client.hpp"
#include "rsp/store/sqlite.hpp"
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
    auto r = db->query_one("SELECT status FROM service_outbox WHERE id = $1", {store::value(id)});
    return r && *r ? (*r)->text(0) : "";
  }
  std::int64_t attempts(std::int64_t id) {
    auto r = db->query_one("SELECT attempts FROM service_outbox WHERE id = $1", {store::value(id)});
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
  auto err = w.db->query_one("SELECT last_error FROM service_outbox WHERE id = 1");
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

/// One progress payload for `iccid`.
std::string payload(const std::string& iccid, int point) {
  return json{{"eid", kEid}, {"iccid", iccid}, {"profileType", "gold"}, {"timestamp", "2027-01-15T08:00:00Z"},
              {"notificationPointId", point}, {"notificationPointStatus", {{"status", "Executed-Success"}}}}
      .dump();
}

// One operator's endpoint that never answers delays only that operator: the
// other's callbacks go out meanwhile.
TEST(CallbackWorker, AHangingOperatorEndpointDelaysNoOther) {
  WorkerWorld w;
  const std::string other = w.add(2, "op2");
  constexpr const char* kHangingUrl = "https://op2.example/hangs";
  ASSERT_TRUE(w.inv->set_callback_url("op2", kHangingUrl));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::string> sent;
  CallbackSender sender = [&](const std::string& url, const std::string&) -> expected<void, std::string> {
    std::unique_lock lock(mu);
    if (url == kHangingUrl) cv.wait_for(lock, 20s, [&] { return release; });
    sent.push_back(url);
    cv.notify_all();
    return {};
  };
  CallbackWorker worker(w.inv, w.config(), sender);
  ASSERT_TRUE(w.inv->enqueue_progress(other, payload(other, 3)));  // op2's first, and it hangs
  w.enqueue(3);
  w.enqueue(4);
  worker.start();
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return sent.size() >= 2; }));
    EXPECT_EQ(sent, (std::vector<std::string>{kUrl, kUrl}));  // op1's two, while op2's hangs
    release = true;
  }
  cv.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (worker.delivered() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(worker.delivered(), 3u);
  worker.stop();
}

// Two instances sharing the database (each with its own connection and
// worker) deliver every entry exactly once.
TEST(CallbackWorker, TwoInstancesNeverSendAnEntryTwice) {
  WorkerWorld w;
  const std::string other = w.add(2, "op2");
  ASSERT_TRUE(w.inv->set_callback_url("op2", "https://op2.example/hdpi"));
  for (int i = 0; i < 15; ++i) {
    w.enqueue(3);
    ASSERT_TRUE(w.inv->enqueue_progress(other, payload(other, 4)));
  }
  auto second_db = store::open_sqlite(w.dir.path() / "smdpp.db");
  ASSERT_TRUE(second_db);
  auto second = Inventory::open(std::shared_ptr<store::Database>(std::move(*second_db)), w.clock);
  ASSERT_TRUE(second);
  std::mutex mu;
  std::map<std::string, int> sends;  // functionCallIdentifier -> times sent
  CallbackSender sender = [&](const std::string&, const std::string& body) -> expected<void, std::string> {
    std::this_thread::sleep_for(1ms);
    std::lock_guard lock(mu);
    ++sends[json::parse(body)["header"]["functionCallIdentifier"].get<std::string>()];
    return {};
  };
  CallbackWorker a(w.inv, w.config(), sender);
  CallbackWorker b(*second, w.config(), sender);
  a.start();
  b.start();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (a.delivered() + b.delivered() < 30 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  a.stop();
  b.stop();
  EXPECT_EQ(a.delivered() + b.delivered(), 30u);
  std::lock_guard lock(mu);
  EXPECT_EQ(sends.size(), 30u);
  for (const auto& [id, n] : sends) EXPECT_EQ(n, 1) << id;
}

// A sender whose lease ran out (another instance took the entry) cannot mark
// it: only the claim that holds the entry counts.
TEST(CallbackWorker, AnExpiredClaimChangesNothing) {
  WorkerWorld w;
  w.enqueue(3);
  auto outbox = w.inv->callback_outbox();
  auto first = outbox->claim_next("op1", 60s, "claim-a");
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->claim, "claim-a");
  EXPECT_EQ((*first)->destination, kUrl);  // the operator's callback URL
  auto none = outbox->claim_next("op1", 60s, "claim-b");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);  // leased
  w.clock.advance(61s);
  auto again = outbox->claim_next("op1", 60s, "claim-b");
  ASSERT_TRUE(again && *again);
  auto stale = outbox->delivered(**first);
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);
  EXPECT_EQ(w.status(1), "pending");
  auto held = outbox->delivered(**again);
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);
  EXPECT_EQ(w.status(1), "delivered");
}

// An endpoint that answers a byte every 200 ms never lets a read time out;
// the sender's deadline covers the whole delivery all the same.
TEST(CallbackWorker, HttpsSenderEndsATricklingDeliveryAtItsDeadline) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::atomic<bool> done{false};
  std::thread trickler([&] {
    const int c = ::accept(listener, nullptr, nullptr);
    if (c < 0) return;
    // A TLS handshake record header announcing 16 KiB, then its body a byte at a time.
    const unsigned char header[] = {0x16, 0x03, 0x03, 0x40, 0x00};
    (void)::send(c, header, sizeof header, MSG_NOSIGNAL);
    while (!done) {
      const unsigned char b = 0;
      if (::send(c, &b, 1, MSG_NOSIGNAL) != 1) break;
      std::this_thread::sleep_for(200ms);
    }
    ::close(c);
  });
  auto anchors = net::load_certificates(test_pki_dir() / "CERT_CI_ECDSA_NIST.pem");
  ASSERT_TRUE(anchors);
  auto send = https_callback_sender(*anchors, 1500ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = send("https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/hdpi", "{}");
  const auto took = std::chrono::steady_clock::now() - t0;
  done = true;
  trickler.join();
  ::close(listener);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "no answer within the delivery timeout");
  EXPECT_LT(took, 5s);
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
