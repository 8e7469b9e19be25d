// The MNO callback sender (callbacks.hpp): callbacks to one server share a
// keep-alive connection; a connection the server closed is replaced; a
// non-2xx answer and an unreachable server are failures the outbox retries.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "rsp/net/server.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr {
namespace {

class CallbackSenderTest : public ::testing::Test {
 protected:
  void start(std::size_t max_requests_per_connection, int status = 204) {
    net::HttpServerOptions o;
    o.insecure_plain_http = true;
    o.worker_threads = 1;
    o.keep_alive_max_requests = max_requests_per_connection;
    server_ = std::make_unique<net::HttpServer>(std::move(o));
    server_->post("/cb", [this, status](const net::Request& req) {
      bodies_ += req.body;
      ++received_;
      net::Response r;
      r.status = status;
      return r;
    });
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  std::string url() const { return server_->url() + "/cb"; }

  std::unique_ptr<net::HttpServer> server_;
  std::string bodies_;
  std::atomic<int> received_{0};
};

TEST_F(CallbackSenderTest, CallbacksToOneServerShareOneConnection) {
  start(100);
  auto send = mno_callback_sender({}, std::chrono::seconds(5));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(send(url(), "{\"n\":" + std::to_string(i) + "}"));
  EXPECT_EQ(received_.load(), 5);
  EXPECT_EQ(server_->connections_accepted(), 1u);
  EXPECT_NE(bodies_.find("{\"n\":4}"), std::string::npos);
}

TEST_F(CallbackSenderTest, AConnectionTheServerClosedIsReplaced) {
  start(2);  // the server closes each connection after two requests
  auto send = mno_callback_sender({}, std::chrono::seconds(5));
  // Each callback is delivered at the first call, without waiting for the
  // outbox's back-off: a kept connection the server closed is replaced.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the server's close has landed
    ASSERT_TRUE(send(url(), "{}")) << "callback " << i;
  }
  EXPECT_EQ(received_.load(), 6);
  EXPECT_GE(server_->connections_accepted(), 3u);
}

TEST_F(CallbackSenderTest, NonSuccessStatusAndUnreachableServerFail) {
  start(100, 500);
  auto send = mno_callback_sender({}, std::chrono::seconds(5));
  auto r = send(url(), "{}");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("500"), std::string::npos);
  const std::string gone = url();
  server_->stop();
  server_.reset();
  EXPECT_FALSE(send(gone, "{}"));
  EXPECT_FALSE(send("ftp://example/cb", "{}"));
}

}  // namespace
}  // namespace rsp::smsr
