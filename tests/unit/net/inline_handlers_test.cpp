// Handlers run inline on the connection's I/O thread (HandlerThreads::Inline)
// or on the pool, chosen for the server or per route: answers come in order,
// also for many requests pipelined in one write (each answer is written at
// once, and the next request taken after it without nesting), a pool route
// that blocks does not hold up an inline one on the same loop, and a handler's
// exception is a counted 500 either way.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "test_support/loopback.hpp"

namespace rsp::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<HttpServer> start(HttpServerOptions opt) {
  opt.insecure_plain_http = true;
  auto server = std::make_unique<HttpServer>(std::move(opt));
  server->post("/echo", [](const Request& r) { return Response{200, "text/plain", {}, r.body}; });
  server->get("/thread", [](const Request&) {
    char name[32] = {};
    ::pthread_getname_np(::pthread_self(), name, sizeof name);
    return Response{200, "text/plain", {}, name};
  });
  server->get("/throw", [](const Request&) -> Response { throw std::runtime_error("boom"); });
  server->get(
      "/slow",
      [](const Request&) {
        std::this_thread::sleep_for(600ms);
        return Response{200, "text/plain", {}, "slow"};
      },
      HandlerThreads::Pool);
  EXPECT_TRUE(server->start());
  return server;
}

std::unique_ptr<HttpsClient> client(int port) {
  HttpsClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  auto c = HttpsClient::create(std::move(o));
  EXPECT_TRUE(c);
  return c ? std::move(*c) : nullptr;
}

/// Reads from `fd` until `count` occurrences of `marker` arrived or 5 s passed.
std::string read_until(int fd, const std::string& marker, std::size_t count) {
  std::string got;
  const auto deadline = Clock::now() + 5s;
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto occurrences = [&] {
    std::size_t n = 0;
    for (auto at = got.find(marker); at != std::string::npos; at = got.find(marker, at + 1)) ++n;
    return n;
  };
  while (occurrences() < count && Clock::now() < deadline) {
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

TEST(InlineHandlers, RunOnTheIoThreadAndAnswerKeepAliveClients) {
  HttpServerOptions opt;
  opt.handler_threads = HandlerThreads::Inline;
  auto server = start(opt);
  auto c = client(server->port());
  ASSERT_TRUE(c);
  auto where = c->request("GET", "/thread", "", "text/plain");
  ASSERT_TRUE(where);
  EXPECT_EQ(where->body, "rsp-http-io");
  for (int i = 0; i < 20; ++i) {
    auto r = c->request("POST", "/echo", "request " + std::to_string(i), "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "request " + std::to_string(i));
  }
  EXPECT_EQ(server->connections_accepted(), 1u);
}

TEST(InlineHandlers, OnThePoolByDefault) {
  auto server = start({});
  auto c = client(server->port());
  ASSERT_TRUE(c);
  auto where = c->request("GET", "/thread", "", "text/plain");
  ASSERT_TRUE(where);
  EXPECT_NE(where->body, "rsp-http-io");
}

TEST(InlineHandlers, ManyPipelinedRequestsInOneWriteAreAnsweredInOrder) {
  HttpServerOptions opt;
  opt.handler_threads = HandlerThreads::Inline;
  opt.keep_alive_max_requests = 100000;
  auto server = start(opt);
  const int fd = test_support::connect_from(server->port());
  ASSERT_GE(fd, 0);
  constexpr int kRequests = 2000;
  std::string all;
  for (int i = 0; i < kRequests; ++i) {
    const std::string body = "#" + std::to_string(i) + ".";
    all += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  std::thread writer([&] {
    for (std::size_t at = 0; at < all.size();) {
      const ssize_t n = ::send(fd, all.data() + at, all.size() - at, MSG_NOSIGNAL);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
  });
  const std::string got = read_until(fd, "HTTP/1.1 200", kRequests);
  writer.join();
  ::close(fd);
  std::size_t at = 0;
  for (int i = 0; i < kRequests; ++i) {
    const std::string body = "\r\n\r\n#" + std::to_string(i) + ".";
    at = got.find(body, at);
    ASSERT_NE(at, std::string::npos) << "answer " << i << " missing or out of order";
  }
}

TEST(InlineHandlers, APoolRouteThatBlocksDoesNotHoldUpAnInlineOneOnTheSameLoop) {
  HttpServerOptions opt;
  opt.handler_threads = HandlerThreads::Inline;
  opt.io_threads = 1;
  auto server = start(opt);
  std::thread slow([&] {
    auto c = client(server->port());
    if (c) {
      EXPECT_TRUE(c->request("GET", "/slow", "", "text/plain"));
    }
  });
  std::this_thread::sleep_for(100ms);  // /slow is running on the pool
  auto c = client(server->port());
  ASSERT_TRUE(c);
  const auto t0 = Clock::now();
  auto r = c->request("POST", "/echo", "fast", "text/plain");
  const auto took = Clock::now() - t0;
  slow.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "fast");
  EXPECT_LT(took, 400ms);
}

TEST(InlineHandlers, AnExceptionIsACounted500) {
  for (const auto threads : {HandlerThreads::Inline, HandlerThreads::Pool}) {
    HttpServerOptions opt;
    opt.handler_threads = threads;
    auto server = start(opt);
    auto c = client(server->port());
    ASSERT_TRUE(c);
    auto r = c->request("GET", "/throw", "", "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(server->metrics().counter("rsp_http_handler_exceptions_total", "").value({{"route", "/throw"}}), 1);
    // The connection still serves.
    auto again = c->request("POST", "/echo", "after", "text/plain");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, "after");
  }
}

}  // namespace
}  // namespace rsp::net
