// The server's limits against slow or greedy peers: the head and body
// timeouts cut a peer that sends a byte at a time, the TLS handshake timeout
// one that never finishes its handshake, and the cap and the per-peer limit
// refuse new connections cleanly (closed at once, counted) while the others
// are served. Plain HTTP where TLS makes no difference.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/test_pki.hpp"
#include "test_support/loopback.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::connect_from;

/// True when the server ends the connection (EOF or reset) within `timeout`;
/// what it sends first is appended to `got`.
bool closed_within(int fd, std::chrono::milliseconds timeout, std::string* got = nullptr) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    if (got) got->append(buf, static_cast<std::size_t>(n));
  }
}

bool send_text(int fd, std::string_view s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

/// Sends `text` a byte every `gap` until it is out or the server closes;
/// returns how long the server let it go on.
std::chrono::milliseconds trickle(int fd, std::string_view text, std::chrono::milliseconds gap) {
  const auto t0 = Clock::now();
  for (char c : text) {
    if (!send_text(fd, std::string_view(&c, 1))) break;
    if (closed_within(fd, gap)) break;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

std::unique_ptr<HttpServer> plain_server(HttpServerOptions opt) {
  opt.insecure_plain_http = true;
  auto server = std::make_unique<HttpServer>(std::move(opt));
  server->post("/echo", [](const Request& r) { return Response{200, "text/plain", {}, r.body}; });
  auto started = server->start();
  EXPECT_TRUE(started) << started.error().message;
  return server;
}

/// A plain GET /healthz on a fresh connection: the status line, or "".
std::string health(int port, const char* source = "127.0.0.1") {
  const int fd = connect_from(port, source);
  if (fd < 0) return {};
  send_text(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string got;
  closed_within(fd, 5s, &got);
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

std::string metric_text(HttpServer& server) { return server.metrics().render(); }

TEST(ServerLimits, HeadTimeoutCutsAPeerSendingAByteASecond) {
  HttpServerOptions opt;
  opt.head_timeout = 800ms;
  auto server = plain_server(opt);
  const int fd = connect_from(server->port());
  ASSERT_GE(fd, 0);
  // Each byte comes well within the read timeout; the whole head does not.
  const auto lasted = trickle(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n", 200ms);
  ::close(fd);
  EXPECT_GE(lasted, 700ms);
  EXPECT_LT(lasted, 3000ms);
  EXPECT_EQ(health(server->port()), "HTTP/1.1 200 OK");
  EXPECT_NE(metric_text(*server).find("rsp_http_timeouts_total{phase=\"head\"} 1"), std::string::npos);
}

TEST(ServerLimits, BodyTimeoutCutsASlowBody) {
  HttpServerOptions opt;
  opt.body_timeout = 800ms;
  std::atomic<int> handled{0};
  auto server = std::make_unique<HttpServer>([&] {
    opt.insecure_plain_http = true;
    return opt;
  }());
  server->post("/echo", [&handled](const Request& r) {
    ++handled;
    return Response{200, "text/plain", {}, r.body};
  });
  ASSERT_TRUE(server->start());
  const int fd = connect_from(server->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_text(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n"));
  const auto lasted = trickle(fd, std::string(40, 'b'), 200ms);
  ::close(fd);
  EXPECT_GE(lasted, 600ms);
  EXPECT_LT(lasted, 3000ms);
  EXPECT_EQ(handled.load(), 0);
  EXPECT_NE(metric_text(*server).find("rsp_http_timeouts_total{phase=\"body\"} 1"), std::string::npos);
  // A chunked body is timed the same way.
  const int chunked = connect_from(server->port());
  ASSERT_TRUE(send_text(chunked, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_LT(trickle(chunked, "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n0\r\n\r\n", 200ms), 3000ms);
  ::close(chunked);
  EXPECT_EQ(handled.load(), 0);
}

TEST(ServerLimits, ReadTimeoutCutsASilentPeerMidHead) {
  HttpServerOptions opt;
  opt.head_timeout = 10s;
  opt.read_timeout = 1s;
  auto server = plain_server(opt);
  const int fd = connect_from(server->port());
  ASSERT_TRUE(send_text(fd, "GET /healthz HTTP/1.1\r\n"));
  const auto t0 = Clock::now();
  EXPECT_TRUE(closed_within(fd, 5s));
  EXPECT_LT(Clock::now() - t0, 3s);
  ::close(fd);
}

TEST(ServerLimits, CapRefusesNewConnectionsCleanlyWhileOthersAreServed) {
  HttpServerOptions opt;
  opt.max_connections = 3;
  opt.keep_alive_timeout = 30s;
  auto server = plain_server(opt);
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) held.push_back(connect_from(server->port()));
  // A kept-alive connection that has been served before.
  held.push_back(connect_from(server->port()));
  ASSERT_TRUE(send_text(held.back(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
  std::string first;
  for (int i = 0; i < 100 && first.find("\r\n\r\nhi") == std::string::npos; ++i) {
    pollfd p{held.back(), POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char buf[1024];
      const ssize_t n = ::recv(held.back(), buf, sizeof buf, 0);
      if (n > 0) first.append(buf, static_cast<std::size_t>(n));
    }
  }
  ASSERT_NE(first.find("\r\n\r\nhi"), std::string::npos) << first;
  for (int i = 0; i < 100 && server->connections_open() < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server->connections_open(), 3u);

  // The fourth is closed at once, without an answer.
  const int extra = connect_from(server->port());
  ASSERT_GE(extra, 0);
  send_text(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  EXPECT_TRUE(closed_within(extra, 2s, &got));
  EXPECT_EQ(got, "");
  ::close(extra);
  EXPECT_EQ(server->connections_refused(), 1u);
  EXPECT_NE(metric_text(*server).find("rsp_http_connections_refused_total{reason=\"capacity\"} 1"), std::string::npos);

  // The held connections are still served.
  ASSERT_TRUE(send_text(held.back(), "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nho"));
  got.clear();
  EXPECT_TRUE(closed_within(held.back(), 5s, &got));
  EXPECT_NE(got.find("\r\n\r\nho"), std::string::npos) << got;
  ::close(held.back());
  held.pop_back();
  // With one closed, a new connection is served again.
  for (int i = 0; i < 100 && server->connections_open() >= 3; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(health(server->port()), "HTTP/1.1 200 OK");
  for (int fd : held) ::close(fd);
}

TEST(ServerLimits, APeerOverItsLimitIsRefusedOthersAreServed) {
  HttpServerOptions opt;
  opt.max_connections_per_peer = 2;
  auto server = plain_server(opt);
  const int a = connect_from(server->port(), "127.0.0.1");
  const int b = connect_from(server->port(), "127.0.0.1");
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int i = 0; i < 100 && server->connections_open() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server->connections_open(), 2u);
  // A third from the same address: refused.
  EXPECT_EQ(health(server->port(), "127.0.0.1"), "");
  EXPECT_EQ(server->connections_refused(), 1u);
  EXPECT_NE(metric_text(*server).find("rsp_http_connections_refused_total{reason=\"peer_limit\"} 1"),
            std::string::npos);
  // Another address is served.
  EXPECT_EQ(health(server->port(), "127.0.0.2"), "HTTP/1.1 200 OK");
  // Once one closes, the first address gets a place again.
  ::close(a);
  for (int i = 0; i < 100 && server->connections_open() >= 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(health(server->port(), "127.0.0.1"), "HTTP/1.1 200 OK");
  ::close(b);
}

TEST(ServerLimits, LimitsMustBePositive) {
  HttpServerOptions opt;
  opt.insecure_plain_http = true;
  opt.max_connections = 0;
  HttpServer server(opt);
  auto r = server.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, NetError::Kind::InvalidArgument);
}

TEST(ServerLimits, StopClosesIdleConnectionsAtOnce) {
  HttpServerOptions opt;
  opt.keep_alive_timeout = 30s;
  opt.head_timeout = 30s;
  auto server = plain_server(opt);
  std::vector<int> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(connect_from(server->port()));
  for (int i = 0; i < 100 && server->connections_open() < 20; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server->connections_open(), 20u);
  const auto t0 = Clock::now();
  server->stop();
  EXPECT_LT(Clock::now() - t0, 1s);
  for (int fd : idle) {
    EXPECT_TRUE(closed_within(fd, 1s));
    ::close(fd);
  }
}

TEST(ServerLimits, TlsHandshakeTimeoutIsReportedWithoutKeyMaterialAndProbesAreNot) {
  test_support::TempDir dir;
  pki::TestPkiOptions po;
  po.out_dir = dir.path();
  po.smdpp_address = "testsmdpplus1.example.com";
  ASSERT_TRUE(pki::make_test_pki(po));
  auto id = TlsIdentity::load(dir.path() / "CERT_S_SM_DP_TLS_NIST.pem", dir.path() / "SK_S_SM_DP_TLS_NIST.pem");
  ASSERT_TRUE(id) << id.error().message;
  TlsServerConfig tls;
  tls.identities = {*id};
  HttpServerOptions opt;
  opt.tls = tls;
  opt.tls_handshake_timeout = 500ms;
  std::mutex mu;
  std::vector<std::string> reasons;
  opt.on_tls_failure = [&](const std::string& peer, const std::string& reason) {
    std::lock_guard lock(mu);
    reasons.push_back(peer + ": " + reason);
  };
  HttpServer server(opt);
  ASSERT_TRUE(server.start());
  // A port probe (connects, closes before a byte) tried no TLS: not reported.
  ::close(connect_from(server.port()));
  const int fd = connect_from(server.port());
  ASSERT_GE(fd, 0);
  const auto t0 = Clock::now();
  EXPECT_TRUE(closed_within(fd, 5s));
  EXPECT_LT(Clock::now() - t0, 3s);
  ::close(fd);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu);
      if (!reasons.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "127.0.0.1: TLS handshake timed out");
  EXPECT_NE(server.metrics().render().find("rsp_http_timeouts_total{phase=\"handshake\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace rsp::net
