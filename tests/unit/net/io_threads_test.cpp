// The server on several I/O threads (HttpServerOptions::io_threads): many
// keep-alive clients at once each get their own answers, connections spread
// over the loops share the per-peer count, and a stop closes the idle
// connections of every loop at once while a busy one still gets its answer.
// Run with one thread and with four; the sanitizers watch for races on the
// state the loops share.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "test_support/loopback.hpp"

namespace rsp::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class IoThreads : public ::testing::TestWithParam<std::size_t> {
 protected:
  std::unique_ptr<HttpServer> start(HttpServerOptions opt) {
    opt.insecure_plain_http = true;
    opt.io_threads = GetParam();
    opt.worker_threads = 4;
    auto server = std::make_unique<HttpServer>(std::move(opt));
    server->post("/echo", [](const Request& r) { return Response{200, "text/plain", {}, r.body}; });
    server->post("/slow", [this](const Request& r) {
      ++slow_started;
      std::this_thread::sleep_for(400ms);
      return Response{200, "text/plain", {}, "slow " + r.body};
    });
    auto started = server->start();
    EXPECT_TRUE(started) << started.error().message;
    return server;
  }
  std::unique_ptr<HttpsClient> client(int port) {
    HttpsClientOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port);
    auto c = HttpsClient::create(std::move(o));
    EXPECT_TRUE(c);
    return c ? std::move(*c) : nullptr;
  }
  std::atomic<int> slow_started{0};
};

TEST_P(IoThreads, ManyKeepAliveClientsAtOnceEachGetTheirOwnAnswers) {
  auto server = start({});
  constexpr int kClients = 16, kRequests = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c)
    threads.emplace_back([&, c] {
      auto cl = client(server->port());
      if (!cl) return;
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = "client " + std::to_string(c) + " request " + std::to_string(i);
        auto r = cl->request("POST", "/echo", body, "text/plain");
        if (r && r->status == 200 && r->body == body) ++good;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kRequests);
  // Keep-alive: one connection per client, each on some loop.
  EXPECT_EQ(server->connections_accepted(), static_cast<std::uint64_t>(kClients));
}

TEST_P(IoThreads, ThePerPeerLimitCountsTheConnectionsOfEveryLoop) {
  HttpServerOptions opt;
  opt.max_connections_per_peer = 5;
  auto server = start(opt);
  std::vector<int> held;
  for (int i = 0; i < 5; ++i) held.push_back(test_support::connect_from(server->port()));
  for (int i = 0; i < 200 && server->connections_open() < 5; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server->connections_open(), 5u);
  const int extra = test_support::connect_from(server->port());
  ASSERT_GE(extra, 0);
  char byte = 0;
  timeval tv{2, 0};
  ::setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_LE(::recv(extra, &byte, 1, 0), 0);  // closed at once
  ::close(extra);
  EXPECT_EQ(server->connections_refused(), 1u);
  for (int fd : held) ::close(fd);
  for (int i = 0; i < 200 && server->connections_open() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server->connections_open(), 0u);
}

TEST_P(IoThreads, StopClosesTheIdleOnEveryLoopAndABusyOneStillGetsItsAnswer) {
  HttpServerOptions opt;
  opt.keep_alive_timeout = 30s;
  opt.head_timeout = 30s;
  auto server = start(opt);
  std::vector<int> idle;
  for (int i = 0; i < 12; ++i) idle.push_back(test_support::connect_from(server->port()));
  auto busy = client(server->port());
  ASSERT_TRUE(busy);
  std::optional<NetResult<HttpResponse>> answer;
  std::thread caller([&] { answer = busy->request("POST", "/slow", "x", "text/plain"); });
  for (int i = 0; i < 200 && slow_started == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(slow_started.load(), 1);
  const auto t0 = Clock::now();
  server->stop();
  caller.join();
  EXPECT_LT(Clock::now() - t0, 5s);
  ASSERT_TRUE(answer && *answer);
  EXPECT_EQ((*answer)->status, 200);
  EXPECT_EQ((*answer)->body, "slow x");
  EXPECT_EQ((*answer)->header("Connection"), std::optional<std::string>("close"));
  for (int fd : idle) {
    char byte = 0;
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // EOF: closed by the stop
    ::close(fd);
  }
  EXPECT_EQ(server->connections_open(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Threads, IoThreads, ::testing::Values(std::size_t{1}, std::size_t{4}),
                         [](const auto& test_info) { return std::to_string(test_info.param); });

}  // namespace
}  // namespace rsp::net
