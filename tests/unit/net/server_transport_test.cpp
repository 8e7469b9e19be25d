// A transport of one's own (HttpServerOptions::transport, as bench_smdpp's
// thread-per-connection reference uses it): the server binds and hands over
// the listening socket, and the transport's requests go through the server's
// routes, handlers, response framing and metrics (ServerCore).

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/server_transport.hpp"

namespace rsp::net {
namespace {

/// One thread, one plain connection at a time, one request per connection.
class OneByOne final : public ServerTransport {
 public:
  NetResult<void> start(int listen_fd, ssl_ctx_st* tls, const HttpServerOptions&, ServerCore& core) override {
    fd_ = listen_fd;
    started_with_tls = tls != nullptr;
    thread_ = std::thread([this, &core] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        serve(c, core);
        ::close(c);
      }
    });
    return {};
  }
  void stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ++stops;
  }
  bool started_with_tls = false;
  int stops = 0;

 private:
  static void serve(int c, ServerCore& core) {
    std::string in;
    char buf[4096];
    HeadParse parsed;
    while ((parsed = parse_request_head(in)).status == HeadParse::Status::Incomplete) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
    if (parsed.status != HeadParse::Status::Complete) return;
    Response answer;
    if (const Handler* h = core.route(parsed.head, "peer", answer)) {
      Request r;
      r.method = parsed.head.method;
      r.path = parsed.head.path;
      answer = core.run(*h, r);
    }
    const std::string out = core.response_bytes(parsed.head.method, answer, true);
    ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
  }
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ServerTransport, ServesTheServersRoutesWithItsFramingAndMetrics) {
  auto transport = std::make_shared<OneByOne>();
  HttpServerOptions opt;
  opt.insecure_plain_http = true;
  opt.transport = transport;
  opt.default_headers = {{"X-Served-By", "test"}};
  std::atomic<int> unrouted{0};
  opt.on_unrouted = [&](const std::string&, int) { ++unrouted; };
  HttpServer server(opt);
  server.get("/hello", [](const Request& r) { return Response{200, "text/plain", {}, "hello " + r.method}; });
  server.get("/boom", [](const Request&) -> Response { throw std::runtime_error("x"); });
  ASSERT_TRUE(server.start());
  EXPECT_GT(server.port(), 0);
  EXPECT_FALSE(transport->started_with_tls);

  HttpsClientOptions o;
  o.base_url = server.url();
  auto client = HttpsClient::create(o);
  ASSERT_TRUE(client);
  auto hello = (*client)->request("GET", "/hello", "", "");
  ASSERT_TRUE(hello) << hello.error().message;
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hello GET");
  EXPECT_EQ(find_header(hello->headers, "X-Served-By").value_or(""), "test");
  auto missing = (*client)->request("GET", "/nope", "", "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto wrong_method = (*client)->request("POST", "/hello", "", "text/plain");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(find_header(wrong_method->headers, "Allow").value_or(""), "GET");
  auto boom = (*client)->request("GET", "/boom", "", "");
  ASSERT_TRUE(boom);
  EXPECT_EQ(boom->status, 500);

  EXPECT_EQ(unrouted.load(), 2);
  auto& requests = server.metrics().counter("rsp_http_requests_total", "");
  EXPECT_EQ(requests.value({{"method", "GET"}, {"route", "/hello"}, {"status", "200"}}), 1);
  EXPECT_EQ(requests.value({{"method", "GET"}, {"route", "other"}, {"status", "404"}}), 1);
  EXPECT_EQ(server.metrics().counter("rsp_http_handler_exceptions_total", "").value({{"route", "/boom"}}), 1);
  server.stop();
  server.stop();  // idempotent: the transport is stopped once
  EXPECT_EQ(transport->stops, 1);
}

}  // namespace
}  // namespace rsp::net
